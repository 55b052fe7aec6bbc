"""The flexibility catalog: what FDA's 2026 CMC flexibilities for cell and gene
therapy allow, under which conditions, and how strong each source is.

The knowledge lives in ``data/flexibilities.yaml`` so reviewers can read and diff
it as data; this module only gives it a schema and checks it. Loading validates:

* every field against the schema below (unknown fields are errors);
* entry ids (``^(GEN|CD|PV|CS|RP)-[A-Z0-9-]+$``) and aliases are unique;
* each entry's ``page`` is a page id of ``data/pages.yaml``;
* each entry's ``product_types`` are ids of ``data/product_types.yaml`` (or ``all``);
* each entry cites at least one source, and every non-regulation source is dated.

Any problem is a :class:`~cgtkit.errors.CatalogError` whose message names the
file, the entry (position and id) and the field, and says what to do, e.g.
``flexibilities.yaml, entry 9 (id 'PV-PPQ-LOT-NUMBER'): field 'sources': must
have at least 1 item.`` (see :func:`cgtkit.datafiles.load_model`).

Use :func:`load_catalog` (cached) in the workbook and :meth:`Catalog.from_yaml`
to validate other content (tests, review of a proposed edit) without the cache.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
import datetime as _dt
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from cgtkit.datafiles import data_dir, parse_yaml, read_yaml, repeated_ids, validate_data
from cgtkit.errors import CatalogError, entry_label, problem_sentence
from cgtkit.vocab import STAGES, Stage

CATALOG_FILE = "flexibilities.yaml"

Area = Literal[
    "cross_cutting", "clinical_development", "process_validation", "commercial_specifications", "related_program"
]
#: Display order of the areas (cross-cutting rule first, related programs last).
AREAS: tuple[Area, ...] = (
    "cross_cutting",
    "clinical_development",
    "process_validation",
    "commercial_specifications",
    "related_program",
)
AREA_LABELS: dict[str, str] = {
    "cross_cutting": "Scope and FDA engagement",
    "clinical_development": "Clinical development",
    "process_validation": "Process validation",
    "commercial_specifications": "Commercial specifications",
    "related_program": "Related programs (not flexibilities of the 2026 guidance)",
}

Provenance = Literal[
    "regulation",
    "final_guidance",
    "fda_announcement",
    "draft_guidance",
    "fda_official_remarks",
    "industry_commentary",
]


@dataclass(frozen=True)
class ProvenanceLabel:
    """How a source grade is shown on a badge."""

    label: str
    explanation: str


#: Source grades in display order, strongest first. Draft guidance ranks above an
#: official's remarks: it is a cleared agency document, though not for implementation.
PROVENANCE_LABELS: dict[str, ProvenanceLabel] = {
    "regulation": ProvenanceLabel(
        "Statute or regulation",
        "Text of the FD&C Act or the Code of Federal Regulations: legally binding.",
    ),
    "final_guidance": ProvenanceLabel(
        "Final guidance",
        "FDA's current thinking in a final guidance (FDA-adopted ICH guidelines included): "
        "not binding, but what reviewers apply.",
    ),
    "fda_announcement": ProvenanceLabel(
        "FDA announcement",
        "An FDA press release or web page: states the policy, in less detail than guidance.",
    ),
    "draft_guidance": ProvenanceLabel(
        "Draft guidance",
        "Proposed FDA (or ICH Step 2) text issued for comment: shows direction, not for implementation.",
    ),
    "fda_official_remarks": ProvenanceLabel(
        "FDA official's remarks",
        "What an FDA official said at a public meeting: informative, but not agency policy.",
    ),
    "industry_commentary": ProvenanceLabel(
        "Industry commentary",
        "Views of companies or consultants: experience from practice, not FDA's position.",
    ),
}
PROVENANCE_ORDER: tuple[str, ...] = tuple(PROVENANCE_LABELS)

MeetingType = Literal["INTERACT", "pre-IND", "EOP1", "EOP2", "pre-BLA", "Type C", "Type D"]
#: Plain-words names of the FDA meetings, and the stages at which each is held.
MEETING_LABELS: dict[str, str] = {
    "INTERACT": "an INTERACT meeting (early, informal CBER advice)",
    "pre-IND": "the pre-IND meeting (Type B)",
    "EOP1": "an end-of-phase 1 meeting (Type B)",
    "EOP2": "the end-of-phase 2 meeting (Type B)",
    "pre-BLA": "the pre-BLA meeting (Type B)",
    "Type C": "a Type C meeting",
    "Type D": "a Type D meeting (a narrow set of questions)",
}
MEETING_STAGES: dict[str, tuple[Stage, ...]] = {
    "INTERACT": ("pre-IND",),
    "pre-IND": ("pre-IND",),
    "EOP1": ("phase 1",),
    "EOP2": ("phase 2",),
    "pre-BLA": ("phase 3", "BLA"),
    "Type C": STAGES,
    "Type D": STAGES,
}



def meetings_for_stage(stage: str | None) -> tuple[str, ...]:
    """The FDA meetings (labels) that fit a development stage, the stage's own meeting first;
    Type C and D (any stage) only when no stage-specific meeting exists (e.g. after approval).

    >>> meetings_for_stage("phase 2")
    ('the end-of-phase 2 meeting (Type B)',)
    >>> meetings_for_stage("post-approval")
    ('a Type C meeting', 'a Type D meeting (a narrow set of questions)')
    """
    specific = [m for m, stages in MEETING_STAGES.items() if stage in stages and len(stages) < len(STAGES)]
    chosen = specific or [m for m, stages in MEETING_STAGES.items() if len(stages) == len(STAGES)]
    return tuple(MEETING_LABELS[m] for m in chosen)


ID_PATTERN = r"^(GEN|CD|PV|CS|RP)-[A-Z0-9-]+$"
_DATE_PATTERN = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def _date_text(value: Any) -> Any:
    """YAML reads 2026-01-11 as a date; keep dates as 'YYYY', 'YYYY-MM' or 'YYYY-MM-DD' text."""
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    return value


def _check_date(value: str) -> str:
    if not _DATE_PATTERN.match(value):
        raise ValueError(f"date {value!r} must be written YYYY, YYYY-MM or YYYY-MM-DD")
    return value


#: A date kept as text at the precision the source gives ("2026", "2026-05", "2026-01-11").
DateText = Annotated[str, BeforeValidator(_date_text), AfterValidator(_check_date)]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Source(_Strict):
    """A document a statement rests on, with its strength (``provenance``)."""

    title: str = Field(min_length=3)
    issuer: str = Field(min_length=2)
    date: DateText | None = None
    section: str | None = None
    url: str | None = Field(None, pattern=r"^https://")
    provenance: Provenance
    needs_verification: bool = False
    note: str | None = None

    @model_validator(mode="after")
    def _dated_unless_law(self) -> Source:
        if self.date is None and self.provenance != "regulation":
            raise ValueError(f"source {self.title!r}: a {self.provenance} source needs a date")
        return self

    @property
    def label(self) -> ProvenanceLabel:
        return PROVENANCE_LABELS[self.provenance]


class RegulationRef(_Strict):
    """A legal or ICH hook, and in a few words why it matters for this flexibility."""

    id: str = Field(min_length=3)
    note: str = Field(min_length=10)


class Misreading(_Strict):
    """What a careless reader wrongly concludes, and the correction."""

    misreading: str = Field(min_length=10)
    correction: str = Field(min_length=10)


class Meeting(_Strict):
    """Which FDA meeting(s) to discuss the flexibility at, earliest first."""

    types: list[MeetingType] = Field(min_length=1)
    note: str = Field(min_length=10)


class Flexibility(_Strict):
    """One catalog entry."""

    id: str = Field(pattern=ID_PATTERN)
    aliases: list[str] = Field(default_factory=list)
    area: Area
    title: str = Field(min_length=5)
    allows: str = Field(min_length=20)
    conditions: list[str] = Field(min_length=1)
    justification: str = Field(min_length=20)
    evidence: list[str] = Field(min_length=1)
    stages: list[Stage] = Field(min_length=1)
    product_types: Literal["all"] | list[str]
    regulations: list[RegulationRef] = Field(default_factory=list)
    sources: list[Source] = Field(min_length=1)
    meeting: Meeting
    page: str
    misreadings: list[Misreading] = Field(default_factory=list)
    statistics: str | None = None
    note: str | None = Field(None, description="cgtkit's own design rule or inference, kept apart from FDA's text.")

    @field_validator("aliases")
    @classmethod
    def _alias_format(cls, value: list[str]) -> list[str]:
        for alias in value:
            if not re.match(ID_PATTERN, alias):
                raise ValueError(f"alias {alias!r} does not match {ID_PATTERN}")
        return value

    @field_validator("stages")
    @classmethod
    def _stages_in_order(cls, value: list[Stage]) -> list[Stage]:
        if len(set(value)) != len(value):
            raise ValueError("a stage is listed twice")
        return sorted(value, key=STAGES.index)

    @field_validator("product_types")
    @classmethod
    def _types_nonempty(cls, value: str | list[str]) -> str | list[str]:
        if isinstance(value, list) and not value:
            raise ValueError("list at least one product type id, or write 'all'")
        return value

    # -- conveniences for pages --------------------------------------------
    @property
    def relevant_from(self) -> Stage:
        """The first stage at which the flexibility matters."""
        return self.stages[0]

    @property
    def strongest_provenance(self) -> str:
        return min((s.provenance for s in self.sources), key=PROVENANCE_ORDER.index)

    @property
    def needs_verification(self) -> bool:
        return any(s.needs_verification for s in self.sources)

    def covers(self, modality: str) -> bool:
        return self.product_types == "all" or modality in self.product_types


class GuidanceInfo(_Strict):
    """The 2026 final guidance the catalog is built around."""

    source: Source
    issued: DateText
    reported_issue_date: DateText | None = None
    effective: str
    scope: str


class Metadata(_Strict):
    schema_version: int = Field(ge=1)
    title: str
    guidance: GuidanceInfo
    announcement: list[Source] = Field(min_length=1)
    last_reviewed: DateText
    verification_note: str
    disclaimer: str = Field(min_length=20)


class Catalog(_Strict):
    """The validated catalog. Look entries up with :meth:`get` (ids or aliases)."""

    metadata: Metadata
    references: dict[str, Source] = Field(
        default_factory=dict,
        description="Shared source records; entries reuse them with YAML merge keys (<<: *name).",
    )
    flexibilities: list[Flexibility] = Field(min_length=1)

    # -- construction ------------------------------------------------------
    @classmethod
    def from_data(
        cls,
        data: Any,
        *,
        where: str = CATALOG_FILE,
        page_ids: set[str] | None = None,
        product_type_ids: set[str] | None = None,
    ) -> Catalog:
        """Validate parsed YAML; ``page_ids``/``product_type_ids`` default to the data files."""
        catalog = validate_data(data, cls, where=where)
        catalog._cross_check(where, page_ids, product_type_ids)
        return catalog

    @classmethod
    def from_yaml(cls, text_or_path: str | Path, **kwargs: Any) -> Catalog:
        """Validate YAML given as text or as a path (a :class:`~pathlib.Path`, or a str ending in .yaml/.yml)."""
        if isinstance(text_or_path, Path) or (
            isinstance(text_or_path, str) and "\n" not in text_or_path and text_or_path.endswith((".yaml", ".yml"))
        ):
            path = Path(text_or_path)
            return cls.from_data(read_yaml(path), **{"where": path.name, **kwargs})
        return cls.from_data(parse_yaml(text_or_path, where=CATALOG_FILE), **kwargs)

    def _cross_check(self, where: str, page_ids: set[str] | None, product_type_ids: set[str] | None) -> None:
        """Ids and aliases are unique; pages and product types are those of their data files."""
        if page_ids is None:
            from cgtkit.pages import load_pages

            page_ids = {p.id for p in load_pages()}
        if product_type_ids is None:
            from cgtkit.profile import load_product_types

            product_type_ids = set(load_product_types())
        entries = self.flexibilities
        problems = repeated_ids(where, entries, lambda e: [("id", e.id), *(("aliases", a) for a in e.aliases)])
        for index, entry in enumerate(entries):
            if entry.page not in page_ids:
                problems.append(problem_sentence(
                    f"unknown page id '{entry.page}'; use one of {', '.join(sorted(page_ids))}",
                    where=where, entry=entry_label(index, entry), field="page",
                ))
            types = [] if entry.product_types == "all" else entry.product_types
            unknown = [t for t in types if t not in product_type_ids]
            if unknown:
                problems.append(problem_sentence(
                    f"unknown id(s) {', '.join(unknown)}; use ids of product_types.yaml "
                    f"({', '.join(sorted(product_type_ids))}) or 'all'",
                    where=where, entry=entry_label(index, entry), field="product_types",
                ))
        if problems:
            raise CatalogError(" ".join(problems))

    # -- look-up -----------------------------------------------------------
    def get(self, id_or_alias: str) -> Flexibility:
        """The entry with this id or alias (e.g. ``CS-RELEASE-STRATEGY`` gives ``CS-SPEC-FLEX-BLA``)."""
        for entry in self.flexibilities:
            if id_or_alias == entry.id or id_or_alias in entry.aliases:
                return entry
        raise CatalogError(f"Unknown flexibility id {id_or_alias!r}; known: {', '.join(self.ids)}.")

    def resolve(self, id_or_alias: str) -> str:
        """The canonical id for an id or alias."""
        return self.get(id_or_alias).id

    def __contains__(self, id_or_alias: object) -> bool:
        return any(id_or_alias == e.id or id_or_alias in e.aliases for e in self.flexibilities)

    def __iter__(self) -> Iterator[Flexibility]:  # type: ignore[override]
        return iter(self.flexibilities)

    def __len__(self) -> int:
        return len(self.flexibilities)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(e.id for e in self.flexibilities)

    def by_area(self) -> dict[str, list[Flexibility]]:
        """Entries grouped by area, areas in :data:`AREAS` order, entries in file order."""
        grouped: dict[str, list[Flexibility]] = {a: [] for a in AREAS}
        for entry in self.flexibilities:
            grouped[entry.area].append(entry)
        return grouped


@lru_cache(maxsize=4)
def load_catalog(path: str | Path | None = None) -> Catalog:
    """The catalog from ``data/flexibilities.yaml`` (or ``path``), validated and cached.

    Call ``load_catalog.cache_clear()`` after editing the file in a running session.
    """
    return Catalog.from_yaml(Path(path) if path is not None else data_dir() / CATALOG_FILE)
