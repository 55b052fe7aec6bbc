"""The workbook session: the product profile, the lot data sets and the decisions.

Every page reads and writes one :class:`Session`. Voila gives each page its own
kernel, so pages meet through a workbook file on disk (:class:`WorkbookStore`):
a page loads it when it opens and writes through ``store.update(...)``, which
re-reads the file under a lock before applying its change, so two open pages
never overwrite each other's work.

The JSON file is versioned (``schema_version``). A file from an unknown or newer
version is refused with a clear message rather than half-read.
"""

from __future__ import annotations

import io
import json
import os
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cgtkit.errors import SessionError
from cgtkit.profile import ProductProfile

if TYPE_CHECKING:
    import pandas as pd

SCHEMA_VERSION = 1
WORKBOOK_ENV = "CGTKIT_WORKBOOK"
EXAMPLE_DATASETS: tuple[str, ...] = ("car_t_lots", "aav_lots", "car_t_stability", "aav_stability")


def _now() -> datetime:
    return datetime.now(UTC)


class Decision(BaseModel):
    """One decision the user took on a page, with what it rests on."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    module: str = Field(description="Page id where the decision was taken, e.g. 'commercial_specifications'.")
    flexibility_id: str = Field(description="Catalog id of the flexibility the decision supports.")
    inputs: dict[str, Any] = Field(default_factory=dict, description="What the computation used (data set, attribute, lots, settings).")
    method: str = Field(description="The method, named precisely (e.g. 'normal tolerance interval, exact two-sided').")
    result: dict[str, Any] = Field(default_factory=dict, description="The numbers the decision rests on.")
    justification: str = Field(description="The user's justification text, citing the method.")
    timestamp: datetime = Field(default_factory=_now)
    id: str = Field(default_factory=lambda: uuid.uuid4().hex[:12])


class Dataset(BaseModel):
    """A lot data set in the long format of :mod:`cgtkit.io`, stored by value."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    source: str = Field(description="Where it came from: 'example:<file>' or 'upload:<file name>'.")
    loaded_at: datetime = Field(default_factory=_now)
    table_json: str = Field(description="The DataFrame as pandas 'table' JSON (schema + data), lossless.")

    @classmethod
    def from_frame(cls, name: str, frame: pd.DataFrame, source: str) -> Dataset:
        return cls(name=name, source=source, table_json=frame.to_json(orient="table", index=False, date_format="iso"))

    def frame(self) -> pd.DataFrame:
        """The lot data as a DataFrame, with the dtypes it was stored with."""
        import pandas as pd

        return pd.read_json(io.StringIO(self.table_json), orient="table")


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

    def with_dataset(self, name: str, frame: pd.DataFrame, source: str) -> Session:
        datasets = dict(self.datasets)
        datasets[name] = Dataset.from_frame(name, frame, source)
        return self.model_copy(update={"datasets": datasets})

    def with_decision(self, decision: Decision) -> Session:
        return self.model_copy(update={"decisions": (*self.decisions, decision)})

    def without_decision(self, decision_id: str) -> Session:
        return self.model_copy(update={"decisions": tuple(d for d in self.decisions if d.id != decision_id)})

    def dataset_frame(self, name: str) -> pd.DataFrame:
        if name not in self.datasets:
            known = ", ".join(self.datasets) or "none"
            raise SessionError(f"The workbook has no data set named {name!r} (loaded: {known}).")
        return self.datasets[name].frame()

    def decisions_for(self, module: str) -> tuple[Decision, ...]:
        return tuple(d for d in self.decisions if d.module == module)

    # -- JSON round trip --------------------------------------------------
    def to_json(self) -> str:
        return self.model_dump_json(indent=2)

    @classmethod
    def from_json(cls, text: str | bytes, *, source: str = "the workbook file") -> Session:
        try:
            raw = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise SessionError(f"{source} is not a cgtkit workbook: it is not valid JSON ({exc}).") from exc
        if not isinstance(raw, dict) or "schema_version" not in raw:
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
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            raise SessionError(
                f"{source} is damaged: field {where or '(top level)'}: {first.get('msg')} "
                f"({exc.error_count()} problem(s) in all)."
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
