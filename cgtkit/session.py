"""The workbook session: the product profile, the lot data sets and the decisions.

Every page reads and writes one :class:`Session`. Voila gives each page its own
kernel, so pages meet through a workbook file on disk (:class:`WorkbookStore`):
a page loads it when it opens and writes through ``store.update(...)``, which
re-reads the file under a lock before applying its change, so two open pages
never overwrite each other's work.

The JSON file is versioned (``schema_version``). A file from an older version is
migrated step by step (:data:`MIGRATIONS`, one function per version, on the raw
dict, before validation), so workbooks saved by earlier cgtkit releases keep
opening with everything the user recorded; saving writes the current version. A
file from an unknown or newer version is refused with a clear message rather
than half-read.

Schema history:

1. Decisions as ``module`` + free-form ``inputs``/``result`` dicts; data-set
   kinds told apart by a ``_stability`` name suffix.
2. Decisions are typed kinds (:mod:`cgtkit.decisions`) with a ``page``; every
   data set has a ``kind`` (:class:`cgtkit.vocab.DatasetKind`).

>>> s = Session()
>>> s.schema_version == SCHEMA_VERSION == 4
True
>>> migrate({"schema_version": 1, "datasets": {"x_stability": {"name": "x_stability"}}})["datasets"]
{'x_stability': {'kind': 'stability', 'name': 'x_stability'}}
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cgtkit.decisions import Decision, DecisionBase, ToleranceBasis, parse_decision
from cgtkit.errors import SessionError, describe_validation_error
from cgtkit.profile import ProductProfile
from cgtkit.vocab import AttributeKind, DatasetKind

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "EXAMPLE_DATASETS", "MIGRATIONS", "SCHEMA_VERSION", "Dataset", "Decision", "Session", "WorkbookStore",
    "dataset_kind", "default_workbook_path", "migrate",
]

SCHEMA_VERSION = 4
#: The sections every saved workbook has (a missing one means a damaged file, not an empty workbook).
REQUIRED_SECTIONS: tuple[str, ...] = ("profile", "datasets", "decisions")
#: The largest workbook file cgtkit reads; the app's upload limit (voila.json) is the same.
MAX_WORKBOOK_BYTES = 50 * 2**20
WORKBOOK_ENV = "CGTKIT_WORKBOOK"
EXAMPLE_DATASETS: tuple[str, ...] = ("car_t_lots", "aav_lots", "car_t_stability", "aav_stability")


def _now() -> datetime:
    return datetime.now(UTC)


def dataset_kind(frame: pd.DataFrame) -> DatasetKind:
    """Stability when any row has a time point after release (``timepoint_months`` > 0), else lots."""
    if "timepoint_months" in frame and bool((frame["timepoint_months"] > 0).any()):
        return DatasetKind.STABILITY
    return DatasetKind.LOTS


class Dataset(BaseModel):
    """A lot data set in the long format of :mod:`cgtkit.io`, stored by value."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    kind: DatasetKind = Field(description="Release results of lots, or a stability study: pages pick data sets by it.")
    source: str = Field(description="Where it came from: 'example:<file>' or 'upload:<file name>'.")
    loaded_at: datetime = Field(default_factory=_now)
    table_json: str = Field(description="The DataFrame as pandas 'table' JSON (schema + data), lossless.")

    @classmethod
    def from_frame(cls, name: str, frame: pd.DataFrame, source: str, kind: DatasetKind | None = None) -> Dataset:
        """Store ``frame``; its kind is read from its time points unless given."""
        return cls(name=name, kind=kind or dataset_kind(frame), source=source,
                   table_json=frame.to_json(orient="table", index=False, date_format="iso"))

    def frame(self) -> pd.DataFrame:
        """The lot data as a DataFrame, with the dtypes it was stored with."""
        import pandas as pd

        return pd.read_json(io.StringIO(self.table_json), orient="table")

    def counts(self) -> tuple[int, int]:
        """(lots, attributes), read with the standard library: the home page's summary must not
        wait for pandas to load (about 1 s in a new kernel).

        >>> import pandas as pd
        >>> frame = pd.DataFrame({"lot_id": ["A", "A", "B"], "attribute": ["x", "y", "x"], "value": [1, 2, 3]})
        >>> Dataset.from_frame("d", frame, source="example:d.csv").counts()
        (2, 2)
        """
        rows = json.loads(self.table_json).get("data", [])
        return len({r.get("lot_id") for r in rows}), len({r.get("attribute") for r in rows})


# -- migrations -------------------------------------------------------------
# One function per old version: raw dict of version v -> raw dict of version v + 1.
# They work on plain dicts before validation, never drop a value, and leave
# anything they cannot read for validation to name.

_V1_DECISION_BASE = ("id", "timestamp", "method", "justification")
_V1_DECISION_FIELDS = frozenset((*_V1_DECISION_BASE, "module", "flexibility_id", "inputs", "result"))
_V1_LOT_INPUTS = frozenset(("dataset", "attribute", "lot_types", "lots", "n"))
_V1_COMMERCIAL_INPUTS = _V1_LOT_INPUTS | {"candidate", "k_method"}
_V1_COMMERCIAL_RESULT = frozenset(("low", "high", "unit", "k"))
_V1_INVESTIGATIONAL_RESULT = frozenset(("low", "high", "unit", "kind", "next_lot_outside"))
_RISK_PREFIX = "risk_next_"


def _v1_dataset_kind(name: str, dataset: dict[str, Any]) -> str:
    """Schema 1 told a stability study by its name (``*_stability``); uploads also by their time points."""
    if name.endswith("_stability"):
        return DatasetKind.STABILITY.value
    try:
        rows = json.loads(dataset.get("table_json", ""))["data"]
        later = any(isinstance(r.get("timepoint_months"), int | float) and r["timepoint_months"] > 0 for r in rows)
    except (ValueError, TypeError, KeyError, AttributeError):
        later = False
    return (DatasetKind.STABILITY if later else DatasetKind.LOTS).value


def _v1_parts(d: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]] | None:
    inputs, result = d.get("inputs"), d.get("result")
    if set(d) - _V1_DECISION_FIELDS or not isinstance(inputs, dict) or not isinstance(result, dict):
        return None
    return inputs, result


def _v1_commercial(d: dict[str, Any], base: dict[str, Any]) -> dict[str, Any] | None:
    """A schema-1 commercial criterion: inputs with a candidate, result with k and risk_next_<m>."""
    parts = _v1_parts(d)
    if parts is None:
        return None
    inputs, result = parts
    risk_keys = [k for k in result if k.startswith(_RISK_PREFIX)]
    horizons = [k.removeprefix(_RISK_PREFIX) for k in risk_keys]
    if (set(inputs) != _V1_COMMERCIAL_INPUTS or set(result) - set(risk_keys) != _V1_COMMERCIAL_RESULT
            or any(not m.isdigit() or str(int(m)) != m for m in horizons)):
        return None
    risk = sorted((int(m), result[k]) for m, k in zip(horizons, risk_keys, strict=True))
    return {
        **base, "kind": "commercial_criterion", "flexibility_id": d.get("flexibility_id"),
        "dataset": inputs["dataset"], "attribute": inputs["attribute"], "lot_types": inputs["lot_types"],
        "lot_ids": inputs["lots"], "n": inputs["n"], "candidate": inputs["candidate"], "k_method": inputs["k_method"],
        "low": result["low"], "high": result["high"], "unit": result["unit"], "k": result["k"],
        "risk": [{"horizon": m, "probability": p} for m, p in risk],
    }


def _v1_investigational(d: dict[str, Any], base: dict[str, Any]) -> dict[str, Any] | None:
    """A schema-1 investigational criterion (one attribute) becomes a set of one.

    Schema 1 stored "accept all" as one decision per attribute, each with its
    own id, justification and flexibility; keeping them as separate sets keeps
    all three (grouping would merge justifications and ids).
    """
    parts = _v1_parts(d)
    if parts is None:
        return None
    inputs, result = parts
    method = d.get("method")
    if set(inputs) != _V1_LOT_INPUTS or set(result) != _V1_INVESTIGATIONAL_RESULT or not isinstance(method, str):
        return None
    tolerance = None
    if result["kind"] != AttributeKind.SAFETY_FIXED.value:
        try:
            basis = ToleranceBasis.from_label(method)  # schema 1 named the basis only in the method
        except ValidationError:
            return None
        tolerance = None if basis is None else basis.model_dump()
    criterion = {
        "attribute": inputs["attribute"], "attribute_kind": result["kind"], "flexibility_id": d.get("flexibility_id"),
        "low": result["low"], "high": result["high"], "unit": result["unit"], "lot_ids": inputs["lots"],
        "n": inputs["n"], "tolerance": tolerance, "next_lot_outside": result["next_lot_outside"],
    }
    return {**base, "kind": "investigational_criteria", "dataset": inputs["dataset"],
            "lot_types": inputs["lot_types"], "criteria": [criterion]}


def _v1_decision(d: Any) -> Any:
    """A schema-1 decision as a typed kind when every field has a typed home, else as a legacy decision."""
    if not isinstance(d, dict):
        return d  # validation names it
    base = {k: d[k] for k in _V1_DECISION_BASE if k in d}
    if "module" in d:
        base["page"] = d["module"]
    for build in (_v1_commercial, _v1_investigational):
        typed = build(d, base)
        if typed is None:
            continue
        try:
            parse_decision(typed)
        except ValidationError:
            continue
        return typed
    legacy = {**base, "kind": "legacy", "from_schema": 1,
              "extra": {k: v for k, v in d.items() if k not in (*_V1_DECISION_BASE, "module", "flexibility_id")}}
    if "flexibility_id" in d:
        legacy["flexibility_id"] = d["flexibility_id"]
    return legacy


def _v1_to_v2(raw: dict[str, Any]) -> dict[str, Any]:
    """Typed decisions and data-set kinds (see the module docstring)."""
    out = dict(raw, schema_version=2)
    datasets = raw.get("datasets")
    if isinstance(datasets, dict):
        out["datasets"] = {
            name: ({"kind": _v1_dataset_kind(name, ds), **ds} if isinstance(ds, dict) and "kind" not in ds else ds)
            for name, ds in datasets.items()
        }
    decisions = raw.get("decisions")
    if isinstance(decisions, list):
        out["decisions"] = [_v1_decision(d) for d in decisions]
    return out


#: Migration from each old schema version to the next.
def _v2_to_v3(raw: dict[str, Any]) -> dict[str, Any]:
    """Schema 3 adds ``superseded`` (a decision's history), empty by default: nothing to convert."""
    return {**raw, "schema_version": 3}


def _v3_to_v4(raw: dict[str, Any]) -> dict[str, Any]:
    """Schema 4 adds the comparability decision kind and process versions on criteria (with defaults):
    nothing to convert; an older cgtkit refuses a schema-4 file instead of calling it damaged."""
    return {**raw, "schema_version": 4}


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _v1_to_v2, 2: _v2_to_v3, 3: _v3_to_v4}


def migrate(raw: dict[str, Any]) -> dict[str, Any]:
    """The raw workbook dict brought to :data:`SCHEMA_VERSION` (unchanged if already there)."""
    version = raw["schema_version"]
    while version < SCHEMA_VERSION:
        raw = MIGRATIONS[version](raw)
        version = raw["schema_version"]
    return raw


class Session(BaseModel):
    """The whole workbook state. Immutable: changes return a new session."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = SCHEMA_VERSION
    created_at: datetime = Field(default_factory=_now)
    profile: ProductProfile | None = None
    datasets: dict[str, Dataset] = Field(default_factory=dict)
    decisions: tuple[Decision, ...] = ()

    # -- building ---------------------------------------------------------
    @classmethod
    def example(cls) -> Session:
        """A new session on the shipped example data and the example CAR-T profile."""
        from cgtkit.datafiles import data_dir
        from cgtkit.io import load_lots

        session = cls(profile=ProductProfile.build())
        for name in EXAMPLE_DATASETS:
            path = data_dir() / "examples" / f"{name}.csv"
            session = session.with_dataset(name, load_lots(path), source=f"example:{path.name}")
        return session

    def with_profile(self, profile: ProductProfile) -> Session:
        return self.model_copy(update={"profile": profile})

    def with_dataset(self, name: str, frame: pd.DataFrame, source: str, kind: DatasetKind | None = None) -> Session:
        datasets = dict(self.datasets)
        datasets[name] = Dataset.from_frame(name, frame, source, kind)
        return self.model_copy(update={"datasets": datasets})

    def with_decision(self, decision: DecisionBase) -> Session:
        """Add ``decision``, replacing what earlier decisions of the same page decided about the same
        attributes: an attribute has one current decision per page. The replaced decisions are kept,
        as saved, in the new decision's ``superseded`` (its history); an earlier set that also holds
        other attributes keeps those."""
        from cgtkit.decisions import without_attributes

        gone = set(decision.subjects)
        kept, replaced = [], []
        for d in self.decisions:
            rest = without_attributes(d, gone) if d.page == decision.page and gone else d
            if rest is not d:
                replaced.append(d.model_dump(mode="json"))
            if rest is not None:
                kept.append(rest)
        if replaced:
            decision = decision.model_copy(update={"superseded": (*decision.superseded, *replaced)})
        return self.model_copy(update={"decisions": (*kept, decision)})

    def without_dataset(self, name: str) -> Session:
        """The workbook without data set ``name`` (its decisions stay: they record what was decided)."""
        self._require_dataset(name)
        return self.model_copy(update={"datasets": {k: v for k, v in self.datasets.items() if k != name}})

    def with_dataset_renamed(self, old: str, new: str) -> Session:
        """Data set ``old`` called ``new``; decisions that used it follow the new name."""
        self._require_dataset(old)
        new = new.strip()
        if not new or any(not (ch.isalnum() or ch in "-_ ") for ch in new):
            raise SessionError(f"{new!r} cannot name a data set: use letters, digits, spaces, '-' or '_'.")
        if new != old and new in self.datasets:
            raise SessionError(f"The workbook already has a data set named {new!r}: choose another name.")
        datasets = {(new if k == old else k): (v.model_copy(update={"name": new}) if k == old else v)
                    for k, v in self.datasets.items()}
        decisions = tuple(d.model_copy(update={"dataset": new}) if getattr(d, "dataset", None) == old else d
                          for d in self.decisions)
        return self.model_copy(update={"datasets": datasets, "decisions": decisions})

    def with_dataset_replaced(self, name: str, frame: pd.DataFrame, source: str) -> Session:
        """Data set ``name`` replaced by a corrected file (same name); every decision computed from it
        is flagged for review, since its numbers came from the previous data."""
        self._require_dataset(name)
        replaced = self.with_dataset(name, frame, source)
        note = (f"data set '{name}' was replaced by {source.removeprefix('upload:')} on "
                f"{_now():%Y-%m-%d %H:%M} UTC, after this decision was taken: recompute it on its page and "
                "accept it again, or keep it knowingly.")
        decisions = tuple(d.model_copy(update={"review": note}) if getattr(d, "dataset", None) == name else d
                          for d in replaced.decisions)
        return replaced.model_copy(update={"decisions": decisions})

    def decisions_using(self, dataset: str) -> tuple[Decision, ...]:
        """The decisions computed from data set ``dataset`` (to review when it is replaced)."""
        return tuple(d for d in self.decisions if getattr(d, "dataset", None) == dataset)

    def _require_dataset(self, name: str) -> None:
        if name not in self.datasets:
            known = ", ".join(self.datasets) or "none"
            raise SessionError(f"The workbook has no data set named {name!r} (loaded: {known}).")

    def with_examples(self) -> Session:
        """The shipped example data sets added (existing data sets of the same names are kept)."""
        example = Session.example()
        datasets = {**self.datasets, **{k: v for k, v in example.datasets.items() if k not in self.datasets}}
        return self.model_copy(update={"datasets": datasets})

    def without_decision(self, decision_id: str) -> Session:
        return self.model_copy(update={"decisions": tuple(d for d in self.decisions if d.id != decision_id)})

    def dataset_frame(self, name: str) -> pd.DataFrame:
        self._require_dataset(name)
        return self.datasets[name].frame()

    def decisions_for(self, page: str) -> tuple[Decision, ...]:
        """The decisions taken on one page, oldest first."""
        return tuple(d for d in self.decisions if d.page == page)

    # -- JSON round trip --------------------------------------------------
    def to_json(self) -> str:
        return self.model_dump_json(indent=2)

    @classmethod
    def from_json(cls, text: str | bytes, *, source: str = "the workbook file") -> Session:
        if len(text) > MAX_WORKBOOK_BYTES:
            raise SessionError(
                f"{source} is {len(text) / 2**20:.0f} MB; a cgtkit workbook can be at most "
                f"{MAX_WORKBOOK_BYTES // 2**20} MB. Is it a workbook? If so, remove data sets you no longer need "
                "from it in the cgtkit that saved it, and save it again.")
        try:
            raw = json.loads(text)
        except RecursionError as exc:
            raise SessionError(f"{source} is not a cgtkit workbook: its JSON is nested far deeper than any "
                               "workbook is.") from exc
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise SessionError(f"{source} is not a cgtkit workbook: it is not valid JSON ({exc}).") from exc
        if not isinstance(raw, dict):
            raise SessionError(
                f"{source} is not a cgtkit workbook: a workbook is a JSON object with the sections "
                f"{', '.join(REQUIRED_SECTIONS)} and a schema_version; this file holds a JSON {_json_type(raw)}.")
        if "schema_version" not in raw:
            raise SessionError(f"{source} is not a cgtkit workbook: it has no schema_version field.")
        version = raw["schema_version"]
        if not isinstance(version, int) or isinstance(version, bool):
            raise SessionError(f"{source} has an unreadable schema_version {version!r}; expected a whole number.")
        if version > SCHEMA_VERSION:
            raise SessionError(
                f"{source} was written by a newer cgtkit (workbook schema {version}; this cgtkit reads up to "
                f"{SCHEMA_VERSION}). Upgrade cgtkit to open it."
            )
        if version < 1:
            raise SessionError(f"{source} has unknown workbook schema {version}; this cgtkit reads schema 1 to {SCHEMA_VERSION}.")
        missing = [k for k in REQUIRED_SECTIONS if k not in raw]
        if missing:  # never read a damaged workbook as an empty one
            raise SessionError(
                f"{source} is damaged: its {' and '.join(repr(m) for m in missing)} section"
                f"{'s are' if len(missing) > 1 else ' is'} missing (a cgtkit workbook always has "
                f"{', '.join(REQUIRED_SECTIONS)}). Open the file you downloaded from cgtkit, unedited.")
        migrated = migrate(raw)
        try:
            return cls.model_validate(migrated)
        except ValidationError as exc:
            raise SessionError(
                f"{source} is damaged: " + describe_validation_error(exc, data=migrated, limit=3, name_lists=True)
            ) from exc

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write atomically (temp file + rename) so a crash never leaves half a file."""
        target = Path(path)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            tmp.write_text(self.to_json(), encoding="utf-8")
            os.replace(tmp, target)
        except OSError as exc:
            raise SessionError(f"Could not save the workbook to {target}: {exc.strerror or exc}.") from exc
        return target

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Session:
        source = Path(path)
        try:
            text = source.read_bytes()
        except FileNotFoundError as exc:
            raise SessionError(f"No workbook file at {source}.") from exc
        except OSError as exc:
            raise SessionError(f"Could not read the workbook {source}: {exc.strerror or exc}.") from exc
        return cls.from_json(text, source=str(source))


def _json_type(value: object) -> str:
    return {list: "array", str: "string", int: "number", float: "number", bool: "boolean",
            type(None): "null"}.get(type(value), type(value).__name__)


def default_workbook_path() -> Path:
    """``$CGTKIT_WORKBOOK``, else ``~/.cgtkit/workbook.json``."""
    override = os.environ.get(WORKBOOK_ENV)
    return Path(override).expanduser() if override else Path.home() / ".cgtkit" / "workbook.json"


class WorkbookStore:
    """The workbook file shared by all pages, with read-modify-write under a lock."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else default_workbook_path()

    @contextmanager
    def _locked(self):  # type: ignore[no-untyped-def]
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        with open(lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def stamp(self) -> tuple[int, int] | None:
        """A cheap fingerprint of the saved file (modification time, size): a page compares it with
        the one it last saw to know whether another page or tab changed the workbook."""
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def load(self) -> Session:
        """The saved session; on first use, a new session on the example data (saved)."""
        with self._locked():
            if self.path.exists():
                return Session.load(self.path)
            session = Session.example()
            session.save(self.path)
            return session

    def update(self, change: Callable[[Session], Session]) -> Session:
        """Apply ``change`` to the latest saved session and save the result."""
        with self._locked():
            current = Session.load(self.path) if self.path.exists() else Session.example()
            updated = change(current)
            updated.save(self.path)
            return updated

    def replace(self, session: Session) -> Session:
        """Overwrite the workbook (used when the user opens a workbook file)."""
        return self.update(lambda _old: session)
