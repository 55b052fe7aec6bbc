"""Training cases: prepared workbooks with a brief, for classes and new team members.

The cases are listed in ``data/training/cases.yaml`` (validated here) and their
workbooks, built from the shipped synthetic example data by
``scripts/make_training_cases.py``, sit next to it. Opening a case copies its
workbook to a file of its own beside the user's workbook
(``<workbook folder>/training/<case id>.json``), so a trainee's work on a case
never touches their own workbook; the app points its one
:class:`~cgtkit.session.WorkbookStore` at that file, and back again.
A case opened a second time continues where the user left it.

>>> case_workbook_path("car-t-end-of-phase-2", own=Path("/home/ann/.cgtkit/workbook.json"))
PosixPath('/home/ann/.cgtkit/training/car-t-end-of-phase-2.json')
>>> open_case_id(Path("/home/ann/.cgtkit/training/car-t-end-of-phase-2.json"), own=Path("/home/ann/.cgtkit/workbook.json"))
'car-t-end-of-phase-2'
>>> open_case_id(Path("/home/ann/.cgtkit/workbook.json"), own=Path("/home/ann/.cgtkit/workbook.json")) is None
True
"""

from __future__ import annotations

import datetime as dt
import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cgtkit.datafiles import data_dir, load_model, repeated_ids
from cgtkit.errors import CatalogError, SessionError
from cgtkit.session import Session, WorkbookStore, default_workbook_path
from cgtkit.vocab import LotType

__all__ = [
    "CASES_FILE", "CaseDataset", "CaseDecision", "CaseTask", "TrainingCase", "case", "case_workbook_path",
    "load_cases", "open_case", "open_case_id", "prepared_workbook", "read_cases", "requested_case",
    "restart_case", "return_to_own", "store_for_query",
]

CASES_FILE = "training/cases.yaml"
CASE_ID_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
#: The folder, beside the user's own workbook, that holds their copies of training cases.
CASES_FOLDER = "training"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CaseTask(_Frozen):
    """One thing to work out, on one page of the app."""

    page: str = Field(description="An id of data/pages.yaml.")
    do: str = Field(min_length=10)


class CaseDataset(_Frozen):
    """A data set of the case: an example file, keeping only some lot types."""

    name: str
    example: str = Field(description="A file of data/examples/.")
    lot_types: tuple[LotType, ...] = Field(min_length=1)


class CaseDecision(_Frozen):
    """A decision already recorded in the case (built by the page's own model from the case's data)."""

    page: Literal["commercial_specifications"]
    dataset: str
    attribute: str
    lot_types: tuple[LotType, ...] = Field(min_length=1)
    candidate: str
    flexibility_id: str
    justification: str = Field(min_length=20)


class TrainingCase(_Frozen):
    """A worked case: the situation, what to do, and the recipe of its workbook."""

    id: str = Field(pattern=CASE_ID_PATTERN)
    title: str = Field(min_length=5, max_length=100)
    brief: str = Field(min_length=50)
    tasks: tuple[CaseTask, ...] = Field(min_length=1)
    prepared_on: dt.date
    workbook: str = Field(pattern=r"^[a-z0-9-]+\.json$")
    profile: dict[str, Any]
    datasets: tuple[CaseDataset, ...] = Field(min_length=1)
    decisions: tuple[CaseDecision, ...] = ()

    @field_validator("profile")
    @classmethod
    def _no_lot_counts(cls, value: dict[str, Any]) -> dict[str, Any]:
        if "lots_made" in value:
            raise ValueError("lots_made is computed from the case's lots: remove it")
        return value

    @property
    def paragraphs(self) -> tuple[str, ...]:
        """The brief's paragraphs (separated by blank lines in the YAML), each on one line."""
        return tuple(" ".join(p.split()) for p in self.brief.split("\n\n") if p.strip())


class _CasesFile(_Frozen):
    schema_version: Literal[1]
    cases: tuple[TrainingCase, ...] = Field(min_length=1)


@lru_cache(maxsize=1)
def load_cases() -> dict[str, TrainingCase]:
    """The cases of ``data/training/cases.yaml`` by id, in file order (cached)."""
    return read_cases()


def read_cases(source: str | os.PathLike[str] = CASES_FILE) -> dict[str, TrainingCase]:
    """Read and check a cases file; any problem is a :class:`CatalogError` naming the file, the case
    and what to fix (a page that is not built, an example file or data set that does not exist)."""
    from cgtkit.pages import load_pages

    parsed = load_model(source, _CasesFile)
    where = Path(source).name if isinstance(source, os.PathLike) else str(source)
    problems = list(repeated_ids(where, parsed.cases))
    pages = {p.id: p for p in load_pages()}
    examples = data_dir() / "examples"
    for c in parsed.cases:
        problems += [f"{where}: case {c.id!r} names page {t.page!r}, which is not a built page of "
                     "data/pages.yaml." for t in c.tasks if t.page not in pages or not pages[t.page].available]
        problems += [f"{where}: case {c.id!r} uses {d.example!r}, which is not in data/examples/."
                     for d in c.datasets if not (examples / d.example).is_file()]
        names = [d.name for d in c.datasets]
        problems += [f"{where}: case {c.id!r} names data set {d.dataset!r} in a decision, but its data sets "
                     f"are {', '.join(names)}." for d in c.decisions if d.dataset not in names]
    if problems:
        raise CatalogError(" ".join(problems))
    return {c.id: c for c in parsed.cases}


def case(case_id: str) -> TrainingCase:
    """One case by id; an unknown id is a :class:`CatalogError` listing the known ones."""
    cases = load_cases()
    if case_id not in cases:
        raise CatalogError(f"There is no training case {case_id!r}; the cases are: {', '.join(cases)}.")
    return cases[case_id]


def prepared_workbook(case_id: str) -> Path:
    """The case's prepared workbook as shipped (``data/training/<file>``)."""
    return data_dir() / "training" / case(case_id).workbook


def case_workbook_path(case_id: str, own: Path | None = None) -> Path:
    """Where the user's copy of a case is kept: a ``training`` folder beside their own workbook."""
    own = own or default_workbook_path()
    return own.parent / CASES_FOLDER / f"{case_id}.json"


def open_case_id(path: Path, own: Path | None = None) -> str | None:
    """The id of the case whose copy ``path`` is, or None for the user's own workbook (or any other file)."""
    own = own or default_workbook_path()
    if path.parent != own.parent / CASES_FOLDER or path.suffix != ".json":
        return None
    return path.stem if path.stem in load_cases() else None


def open_case(store: WorkbookStore, case_id: str, own: Path | None = None) -> tuple[Session, bool]:
    """Point ``store`` at the user's copy of the case, made from the prepared workbook on first opening.

    Returns the case's session and whether the copy was new (False: the user's earlier work on it
    goes on). The user's own workbook is neither read nor written.
    """
    target = case_workbook_path(case_id, own)
    new = not target.exists()
    if new:
        load_case_session(case_id).save(target)  # the prepared workbook as shipped; its log starts with the user's first change
    store.path = target
    return store.load(), new


def restart_case(store: WorkbookStore, case_id: str, own: Path | None = None) -> Session:
    """Replace the user's copy of the case with the prepared workbook (their work on the case is lost)."""
    target = case_workbook_path(case_id, own)
    load_case_session(case_id).save(target)
    store.path = target
    return store.load()


def return_to_own(store: WorkbookStore, own: Path | None = None) -> Session:
    """Point ``store`` back at the user's own workbook."""
    store.path = own or default_workbook_path()
    return store.load()


def requested_case(query: str | None = None) -> str | None:
    """The case asked for in the app's URL (``?case=<id>``; Voila passes the query string to the kernel),
    or None. An unknown id is a :class:`CatalogError` naming the known cases.

    >>> requested_case("page=home") is None
    True
    """
    values = parse_qs(os.environ.get("QUERY_STRING", "") if query is None else query).get("case") or []
    if not values or not values[0].strip():
        return None
    return case(values[0].strip()).id


def store_for_query(query: str | None = None) -> WorkbookStore:
    """The app's workbook store: the user's own workbook, or their copy of the case named by ``?case=``.
    An unknown case opens the user's own workbook (the home page says why)."""
    store = WorkbookStore()
    try:
        case_id = requested_case(query)
    except CatalogError:
        return store
    if case_id is not None:
        open_case(store, case_id)
    return store


def lot_counts(session: Session) -> dict[str, int]:
    """Lots per lot type over the case's lot-release data sets (each lot counted once), for the profile."""
    seen: dict[str, set[str]] = {}
    for ds in session.datasets.values():
        if ds.kind.value != "lots":
            continue
        frame = ds.frame()
        for lot_type, lots in frame.groupby("lot_type")["lot_id"]:
            seen.setdefault(str(lot_type), set()).update(str(x) for x in lots)
    return {t.value: len(seen.get(t.value, ())) for t in LotType}


def load_case_session(case_id: str) -> Session:
    """The prepared workbook of a case, read and checked (a damaged file is a :class:`SessionError`)."""
    path = prepared_workbook(case_id)
    if not path.is_file():
        raise SessionError(f"The workbook of training case {case_id!r} is missing ({path}); run "
                           "scripts/make_training_cases.py.")
    return Session.load(path)
