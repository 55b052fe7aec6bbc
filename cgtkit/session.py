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
3. Decisions keep the decisions they replaced (``superseded``).
4. The comparability decision kind; process versions on criteria.
5. The audit log (``audit``: every change, hash-chained) and the sponsor's own wording of the
   meeting questions (``meeting_questions``); the decision kinds of the process-validation and
   stability pages.

The audit log
-------------
Every change that reaches the workbook file goes through :meth:`WorkbookStore.update`, which
sees the workbook before and after the change and appends one :class:`AuditEntry` naming what
changed (profile set, data set added, replaced, renamed or removed, decision accepted, replaced,
edited or removed, meeting question edited) with the SHA-256 of each changed item as it now is,
and the SHA-256 of the previous entry. The store, not the ``with_*`` methods, appends: it is the
one place every change passes through (including opening a workbook, starting over and undo, which
replace the whole session), and it compares before and after, so a change made by any code path is
recorded. :func:`verify_audit` checks the chain and that every item of the workbook is the one its
last entry recorded, and says at which entry it breaks.

>>> s = Session()
>>> s.schema_version == SCHEMA_VERSION == 5
True
>>> migrate({"schema_version": 1, "datasets": {"x_stability": {"name": "x_stability"}}})["datasets"]
{'x_stability': {'kind': 'stability', 'name': 'x_stability'}}
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cgtkit.decisions import Decision, DecisionBase, ToleranceBasis, parse_decision
from cgtkit.errors import SessionError, describe_validation_error
from cgtkit.profile import ProductProfile
from cgtkit.vocab import AttributeKind, DatasetKind

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "EXAMPLE_DATASETS", "GENESIS_PREVIOUS", "MIGRATIONS", "SCHEMA_VERSION", "AuditChange", "AuditCheck", "AuditEntry",
    "Dataset", "Decision", "QuestionEdit", "Session", "WorkbookStore", "audited", "dataset_kind",
    "default_workbook_path", "digest", "item_digests", "migrate", "started", "verify_audit",
]

SCHEMA_VERSION = 5
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


#: Characters a data set's name may hold besides letters and digits (names appear in tables, file
#: names of exports and the record; brackets, dots and commas allow "lots (v2, run 1.1)").
DATASET_NAME_MARKS = "-_ ().,+"


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


# -- the audit log: its entries ----------------------------------------------------

#: What the first entry of a log records as its previous entry's hash.
GENESIS_PREVIOUS = "0" * 64
AuditWhat = Literal["profile", "dataset", "decision", "question"]


def digest(value: Any) -> str:
    """SHA-256 (hex) of a JSON-like value written canonically (sorted keys, no spaces, UTF-8): the same
    value gives the same digest before and after a save.

    >>> digest({"b": 1, "a": [1.5, None]}) == digest({"a": [1.5, None], "b": 1})
    True
    """
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class AuditChange(BaseModel):
    """One item changed by an entry, and its SHA-256 after the change (None when it was removed)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    what: AuditWhat
    subject: str = Field(description="'profile', a data set's name, a decision's id or a flexibility id.")
    change: str = Field(description="What happened to it, e.g. 'accepted', 'replaced', \"renamed from 'x'\".")
    label: str = Field(default="", description="What the item is, in words (a decision's label).")
    digest: str | None = Field(description="SHA-256 of the item as saved after the change; None: removed.")


class AuditEntry(BaseModel):
    """One change of the workbook: when, what, and the hash of the entry before it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    index: int = Field(ge=0, description="Position in the log; 0 for the entry the log starts with.")
    time: datetime
    summary: str = Field(description="The change in one line, rendered from ``changes`` when it was made.")
    changes: tuple[AuditChange, ...] = ()
    previous: str = Field(description="SHA-256 of the previous entry (64 zeros for the first).")

    @property
    def hash(self) -> str:
        """SHA-256 of this entry as saved: the next entry holds it; the last one is the chain head."""
        return digest(self.model_dump(mode="json"))


class QuestionEdit(BaseModel):
    """The sponsor's own wording of a meeting question for FDA and of their position on it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    flexibility_id: str
    question: str
    position: str
    edited_at: datetime = Field(default_factory=lambda: _now())


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


def _v4_to_v5(raw: dict[str, Any]) -> dict[str, Any]:
    """Schema 5 adds the audit log (``audit``), the sponsor's wording of the meeting questions
    (``meeting_questions``, empty by default) and the decision kinds of the process-validation and
    stability pages (new kinds: nothing to convert; an older cgtkit refuses a schema-5 file instead of
    calling it damaged).

    A workbook without a log gets a first entry saying the log starts there, recording every item as
    found (with its SHA-256), so later changes and edits are checked against it. A workbook that
    cannot be read is left for validation to name."""
    out = {**raw, "schema_version": 5}
    if out.get("audit"):
        return out
    try:
        found = Session.model_validate({**out, "audit": []})
    except ValidationError:
        return out  # validation names the problem
    entry = _entry(0, Session(), found, previous=GENESIS_PREVIOUS,
                   summary="The audit log starts here: the workbook was saved by a cgtkit without an audit log "
                           "(schema 4 or older); its contents are recorded as found.")
    out["audit"] = [entry.model_dump(mode="json")]
    return out


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {
    1: _v1_to_v2, 2: _v2_to_v3, 3: _v3_to_v4, 4: _v4_to_v5}


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
    meeting_questions: tuple[QuestionEdit, ...] = Field(
        default=(), description="The sponsor's wording of meeting questions, where it differs from cgtkit's draft.")
    audit: tuple[AuditEntry, ...] = Field(default=(), description="Every change, hash-chained (WorkbookStore).")

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
        if not new or any(not (ch.isalnum() or ch in DATASET_NAME_MARKS) for ch in new):
            raise SessionError(f"{new!r} cannot name a data set: use letters, digits, spaces and "
                               f"{', '.join(repr(c) for c in DATASET_NAME_MARKS.strip())}.")
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

    def with_question(self, flexibility_id: str, question: str, position: str) -> Session:
        """The sponsor's wording of the meeting question on ``flexibility_id`` (replacing an earlier one)."""
        if not question.strip() or not position.strip():
            raise SessionError(f"The question on {flexibility_id} and your position on it cannot be empty: write "
                               "them, or reset them to cgtkit's draft.")
        kept = tuple(q for q in self.meeting_questions if q.flexibility_id != flexibility_id)
        edit = QuestionEdit(flexibility_id=flexibility_id, question=question.strip(), position=position.strip())
        return self.model_copy(update={"meeting_questions": (*kept, edit)})

    def without_question(self, flexibility_id: str) -> Session:
        """Back to cgtkit's draft of the question on ``flexibility_id``."""
        kept = tuple(q for q in self.meeting_questions if q.flexibility_id != flexibility_id)
        return self.model_copy(update={"meeting_questions": kept})

    def question_edit(self, flexibility_id: str) -> QuestionEdit | None:
        return next((q for q in self.meeting_questions if q.flexibility_id == flexibility_id), None)

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
        return cls._read_json(text, source)[0]

    @classmethod
    def _read_json(cls, text: str | bytes, source: str) -> tuple[Session, int]:
        """The session, and the schema version the file was written with."""
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
            stripped = text.strip()
            if isinstance(exc, json.JSONDecodeError) and stripped[:1] in ("{", b"{") and stripped[-1:] not in ("}", b"}"):
                raise SessionError(
                    f"{source} is cut short: the file ends before the workbook does ({exc}). It was probably "
                    "truncated by an interrupted download, copy or save; open the complete file.") from exc
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
            session = cls.model_validate(migrated)
        except ValidationError as exc:
            raise SessionError(
                f"{source} is damaged: " + describe_validation_error(exc, data=migrated, limit=3, name_lists=True)
            ) from exc
        return session, version

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
        return cls.load_versioned(path)[0]

    @classmethod
    def load_versioned(cls, path: str | os.PathLike[str]) -> tuple[Session, int]:
        """The saved session, and the schema version its file was written with."""
        source = Path(path)
        try:
            text = source.read_bytes()
        except FileNotFoundError as exc:
            raise SessionError(f"No workbook file at {source}.") from exc
        except OSError as exc:
            raise SessionError(f"Could not read the workbook {source}: {exc.strerror or exc}.") from exc
        return cls._read_json(text, str(source))


# -- the audit log: recording and checking ----------------------------------------

_WHAT_LABELS: dict[str, str] = {"profile": "Product profile", "dataset": "Data set", "decision": "Decision",
                                "question": "Meeting question on"}


class _Item:
    """An item of the workbook the log follows, with its digest (and, lazily, its label)."""

    __slots__ = ("data", "digest", "obj", "subject", "what")

    def __init__(self, what: str, subject: str, obj: Any, data: str = "") -> None:
        self.what, self.subject, self.obj, self.data = what, subject, obj, data
        self.digest = digest(obj.model_dump(mode="json"))

    def label(self) -> str:
        if self.what == "decision":
            from cgtkit.decisions import label

            try:
                return label(self.obj)
            except TypeError:  # a kind without renderers still gets logged
                return f"{self.obj.kind} on {self.obj.page}"
        if self.what == "dataset":
            return f"{self.obj.kind.value} data from {self.obj.source}"
        if self.what == "profile":
            return f"{self.obj.name}, {self.obj.stage}"
        return self.obj.question[:80]


def _items(session: Session) -> dict[tuple[str, str], _Item]:
    """Every item the log follows: the profile, each data set, each decision, each edited meeting question."""
    out: dict[tuple[str, str], _Item] = {}
    if session.profile is not None:
        out[("profile", "profile")] = _Item("profile", "profile", session.profile)
    for name, ds in session.datasets.items():
        out[("dataset", name)] = _Item("dataset", name, ds, data=hashlib.sha256(ds.table_json.encode()).hexdigest())
    for d in session.decisions:
        key, i = d.id, 2
        while ("decision", key) in out:  # ids are random; a repeat (hand-made file) still gets its own entry
            key, i = f"{d.id}#{i}", i + 1
        out[("decision", key)] = _Item("decision", key, d)
    for q in session.meeting_questions:
        out[("question", q.flexibility_id)] = _Item("question", q.flexibility_id, q)
    return out


def item_digests(session: Session) -> dict[tuple[str, str], str]:
    """(what, subject) -> SHA-256 of every item the audit log follows (the exports' audit block uses
    the data sets' digests)."""
    return {key: item.digest for key, item in _items(session).items()}


def _changes(before: Session, after: Session) -> tuple[AuditChange, ...]:
    """What differs between two workbooks, item by item, in words a reviewer reads."""
    old, new = _items(before), _items(after)
    gone_ds = {k[1]: it for k, it in old.items() if k[0] == "dataset" and k not in new}
    renamed: dict[str, str] = {}  # new name -> old name: the same table under another name
    for key, it in new.items():
        if key[0] == "dataset" and key not in old:
            match = next((n for n, o in gone_ds.items() if o.data == it.data and n not in renamed.values()), None)
            if match is not None:
                renamed[key[1]] = match
    replaced_by: dict[str, str] = {}  # decision id -> the new decision whose history holds it
    for key, it in new.items():
        if key[0] == "decision" and key not in old:
            for earlier in it.obj.superseded:
                if isinstance(earlier, dict) and isinstance(earlier.get("id"), str):
                    replaced_by[earlier["id"]] = it.subject
    changes: list[AuditChange] = []

    def add(it: _Item, change: str, removed: bool = False) -> None:
        changes.append(AuditChange(what=it.what, subject=it.subject, change=change, label=it.label(),
                                   digest=None if removed else it.digest))

    for key, it in old.items():
        if key in new:
            now = new[key]
            if now.digest == it.digest:
                continue
            if it.what == "dataset":
                add(now, "replaced" if now.data != it.data else "edited")
            elif it.what == "decision":
                add(now, f"partly replaced by decision {replaced_by[it.subject]}" if it.subject in replaced_by
                    else "edited")
            else:
                add(now, "changed" if it.what == "profile" else "edited")
        elif it.what == "dataset" and it.subject in renamed.values():
            add(it, f"renamed to '{next(n for n, o in renamed.items() if o == it.subject)}'", removed=True)
        elif it.what == "decision" and it.subject in replaced_by:
            add(it, f"replaced by decision {replaced_by[it.subject]}", removed=True)
        else:
            add(it, "reset to cgtkit's draft" if it.what == "question" else "removed", removed=True)
    for key, it in new.items():
        if key not in old:
            if it.what == "dataset":
                add(it, f"renamed from '{renamed[it.subject]}'" if it.subject in renamed else "added")
            else:
                add(it, {"profile": "set", "decision": "accepted", "question": "edited"}[it.what])
    return tuple(changes)


def _summary(changes: tuple[AuditChange, ...]) -> str:
    """The changes in one line: the first three, then how many more."""
    def one(c: AuditChange) -> str:
        if c.what == "profile":
            return f"Product profile {c.change}"
        name = f"'{c.subject}'" if c.what == "dataset" else c.subject
        return f"{_WHAT_LABELS[c.what]} {name} {c.change}" + (f" ({c.label})" if c.what == "decision" else "")

    shown = [c for c in changes if not c.change.startswith("renamed to")]  # its "renamed from" says it
    text = "; ".join(one(c) for c in shown[:3])
    if len(shown) > 3:
        text += f"; and {len(shown) - 3} more change(s)"
    return text or "No item changed"


def _entry(index: int, before: Session, after: Session, *, previous: str, summary: str | None = None,
           changes: tuple[AuditChange, ...] | None = None) -> AuditEntry:
    found = _changes(before, after) if changes is None else changes
    text = summary if summary is not None else _summary(found)
    return AuditEntry(index=index, time=_now(), summary=text, changes=found, previous=previous)


def started(session: Session, why: str) -> Session:
    """``session`` with a new audit log whose first entry records every item as it is."""
    entry = _entry(0, Session(), session, previous=GENESIS_PREVIOUS,
                   summary=f"The audit log starts here: {why}")
    return session.model_copy(update={"audit": (entry,)})


def audited(before: Session, after: Session) -> Session:
    """``after`` with one entry appended to the log for what changed since ``before`` (none if nothing did).

    A change made on a page keeps the log it read, and the entry goes on it. Starting over or undoing
    replaces the session with one whose log is empty or shorter: the log goes on (history is never
    shortened). Opening a workbook with a log of its own keeps that log (its history travels with it),
    and the entry names the log it replaced.
    """
    old, new = before.audit, after.audit
    if len(new) >= len(old) and new[: len(old)] == old:
        if not new:
            return started(after, "the first change saved with an audit log; the contents are recorded as found.")
        changes = _changes(before, after)
        if not changes:
            return after
        entry = _entry(len(new), before, after, previous=new[-1].hash, changes=changes)
        return after.model_copy(update={"audit": (*new, entry)})
    if new == old[: len(new)]:  # start over, undo: the log goes on
        changes = _changes(before, after)
        summary = "Workbook replaced (started over, or an earlier state restored): " + _summary(changes)
        entry = _entry(len(old), before, after, previous=old[-1].hash, summary=summary, changes=changes)
        return after.model_copy(update={"audit": (*old, entry)})
    summary = (f"Opened a workbook with its own audit log ({len(new)} entries) in place of the workbook whose "
               f"log had {len(old)} entries" + (f" and ended at chain head {old[-1].hash}" if old else "") + ".")
    entry = _entry(len(new), after, after, previous=new[-1].hash, summary=summary, changes=())
    return after.model_copy(update={"audit": (*new, entry)})


@dataclass(frozen=True)
class AuditCheck:
    """The result of :func:`verify_audit`: whether the log holds, and where it breaks."""

    ok: bool
    entries: int
    head: str | None = None
    broken_at: int | None = None
    problems: tuple[str, ...] = ()
    note: str = ""

    def sentence(self) -> str:
        """What a reviewer reads: intact with its head, or where it breaks and why."""
        if self.ok:
            count = "1 entry" if self.entries == 1 else f"{self.entries} entries, each holding the SHA-256 of the one before,"
            text = (f"The audit log is intact: {count} "
                    f"and every item of the workbook is the one its last entry recorded. Chain head {self.head}.")
            return text + (f" {self.note}" if self.note else "")
        where = f" at entry {self.broken_at}" if self.broken_at is not None else ""
        return f"The audit log does not verify{where}: " + " ".join(self.problems)


def verify_audit(session: Session, head: str | None = None) -> AuditCheck:
    """Check the chain (each entry holds the hash of the one before, numbered without gaps) and the
    items (each profile, data set, decision and edited question is the one its last entry recorded).

    ``head`` is a chain head printed in an export: it must be this log's head, or that of an earlier
    entry (the workbook changed since the export; :attr:`AuditCheck.note` says so).
    """
    log = session.audit
    if not log:
        return AuditCheck(False, 0, problems=(
            "the workbook has no audit log, so its history cannot be checked (it was not saved by cgtkit's "
            "workbook store, or the log was deleted).",))
    for pos, entry in enumerate(log):
        if entry.index != pos:
            if entry.index > pos:
                gap = f"entry {pos}" if entry.index == pos + 1 else f"entries {pos} to {entry.index - 1}"
                text = (f"{gap} {'is' if entry.index == pos + 1 else 'are'} missing: the log goes from entry "
                        f"{pos - 1} to entry {entry.index}." if pos else f"{gap} missing: the log starts at entry "
                        f"{entry.index}.")
            else:
                text = f"the entry at position {pos} is numbered {entry.index}: entries were reordered or copied."
            return AuditCheck(False, len(log), log[-1].hash, pos, (text,))
        expected = GENESIS_PREVIOUS if pos == 0 else log[pos - 1].hash
        if entry.previous != expected:
            if pos == 0:
                return AuditCheck(False, len(log), log[-1].hash, 0, (
                    "entry 0 does not start a log (it names a previous entry): the entries before it were removed.",))
            return AuditCheck(False, len(log), log[-1].hash, pos - 1, (
                f"entry {pos - 1} is not the entry that entry {pos} followed: entry {pos - 1} was edited after "
                f"entry {pos} was written (entry {pos} holds another hash of it), or entries were removed and "
                "renumbered.",))
    recorded: dict[tuple[str, str], tuple[str, int, str]] = {}
    for entry in log:
        for c in entry.changes:
            key = (c.what, c.subject)
            if c.digest is None:
                recorded.pop(key, None)
            else:
                recorded[key] = (c.digest, entry.index, c.change)
    problems: list[tuple[int, str]] = []
    last = log[-1].index
    items = _items(session)
    for key, item in items.items():
        name = f"{_WHAT_LABELS[item.what]} " + ("" if item.what == "profile" else
                                                 f"'{item.subject}' " if item.what == "dataset" else f"{item.subject} ")
        rec = recorded.get(key)
        if rec is None:
            problems.append((last, f"{name.strip()} is in the workbook but no entry records it: it was added "
                                   f"outside cgtkit after entry {last}."))
        elif rec[0] != item.digest:
            problems.append((rec[1], f"{name.strip()} is not what entry {rec[1]} recorded ({rec[2]}): it was "
                                     f"edited outside cgtkit after entry {rec[1]}."))
    for key, rec in recorded.items():
        if key not in items:
            what, subject = key
            problems.append((rec[1], f"{_WHAT_LABELS[what]} {subject} recorded by entry {rec[1]} ({rec[2]}) is "
                                     "missing from the workbook: it was removed outside cgtkit."))
    if problems:
        problems.sort(key=lambda p: p[0])
        return AuditCheck(False, len(log), log[-1].hash, problems[0][0], tuple(text for _i, text in problems))
    note = ""
    if head is not None:
        head = head.strip().lower()
        hashes = [e.hash for e in log]
        if head not in hashes:
            return AuditCheck(False, len(log), log[-1].hash, None, (
                f"the chain head given ({head}) is not the hash of any entry of this log: the export it came from "
                "was made from another workbook, or this log was rewritten since.",))
        at = hashes.index(head)
        if at < len(log) - 1:
            note = (f"The head given is entry {at}'s: the workbook had {len(log) - 1 - at} more change(s) after "
                    "that export.")
        else:
            note = "It is the head given."
    return AuditCheck(True, len(log), log[-1].hash, note=note)


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
        """The saved session; on first use, a new session on the example data (saved). A file of an
        older schema is saved migrated at once, so the first entry of its audit log is fixed."""
        with self._locked():
            if self.path.exists():
                session, version = Session.load_versioned(self.path)
                if version < SCHEMA_VERSION:
                    session.save(self.path)
                return session
            session = self._new()
            session.save(self.path)
            return session

    @staticmethod
    def _new() -> Session:
        return started(Session.example(), "a new workbook on the example data and the example CAR-T profile.")

    def update(self, change: Callable[[Session], Session]) -> Session:
        """Apply ``change`` to the latest saved session, append what changed to its audit log, and save."""
        with self._locked():
            current = Session.load(self.path) if self.path.exists() else self._new()
            updated = audited(current, change(current))
            updated.save(self.path)
            return updated

    @property
    def inputs_path(self) -> Path:
        """Beside the workbook: what the user entered on the pages before deciding (:mod:`cgtkit.ui.page_inputs`)."""
        return self.path.with_name(self.path.stem + ".inputs.json")

    def replace(self, session: Session) -> Session:
        """Overwrite the workbook (used when the user opens a workbook file, or starts over); the pages'
        inputs, entered for the workbook replaced, go with it."""
        updated = self.update(lambda _old: session)
        self.inputs_path.unlink(missing_ok=True)
        return updated
