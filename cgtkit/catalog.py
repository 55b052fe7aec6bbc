"""The flexibility catalog: what FDA's 2026 CMC flexibilities for cell and gene
therapy allow, under which conditions, and what each statement rests on.

The knowledge lives in ``data/flexibilities.yaml`` so reviewers can read and diff
it as data; this module only gives it a schema and checks it. Loading validates:

* every field against the schema below (unknown fields are errors);
* entry ids (``^(GEN|CD|PV|CS|RP)-[A-Z0-9-]+$``) and aliases are unique;
* each entry's ``page`` is a page id of ``data/pages.yaml``;
* each entry's ``product_types`` are ids of ``data/product_types.yaml`` (or ``all``);
* each entry's meetings are ids of ``data/meetings.yaml``;
* each entry's draft question uses only the placeholders of :data:`QUESTION_FIELDS`;
* each entry cites at least one source, and every non-regulation source is dated.

Grading: each entry has a ``basis`` for its central claim (:data:`BASIS_LABELS`:
regulation, final guidance, an FDA announcement, an official's remarks, cgtkit's
reading ...) and each condition may carry its own (:meth:`Flexibility.basis_of`).
Whether a statement's wording was checked against the primary text is kept as
``checked`` and summarized by :meth:`Catalog.verification_summary`.

The same module loads the other regulatory data files: the FDA meeting types
with their PDUFA timelines (``meetings.yaml``, :func:`load_meeting_types`), the
requirements that are not flexible (``not_flexible.yaml``, :func:`load_not_flexible`)
and the guidances a lead expects (``guidances.yaml``, :func:`load_guidances`).

Any problem is a :class:`~cgtkit.errors.CatalogError` whose message names the
file, the entry (position and id) and the field, and says what to do, e.g.
``flexibilities.yaml, entry 9 (id 'PV-PPQ-LOT-NUMBER'): field 'sources': must
have at least 1 item.`` (see :func:`cgtkit.datafiles.load_model`).

Use :func:`load_catalog` (cached) in the workbook and :meth:`Catalog.from_yaml`
to validate other content (tests, review of a proposed edit) without the cache.
"""

from __future__ import annotations

import re
import string
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

from cgtkit.datafiles import data_dir, load_model, parse_yaml, read_yaml, repeated_ids, validate_data
from cgtkit.errors import CatalogError, entry_label, problem_sentence
from cgtkit.vocab import STAGES, Stage

CATALOG_FILE = "flexibilities.yaml"
MEETINGS_FILE = "meetings.yaml"
NOT_FLEXIBLE_FILE = "not_flexible.yaml"
GUIDANCES_FILE = "guidances.yaml"

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

Basis = Literal[
    "regulation",
    "final_guidance",
    "draft_guidance",
    "fda_announcement",
    "fda_official_remarks",
    "industry_commentary",
    "cgtkit_reading",
]
#: What a statement rests on, strongest first: the source grades, plus cgtkit's own reading.
BASIS_LABELS: dict[str, ProvenanceLabel] = {
    **PROVENANCE_LABELS,
    "cgtkit_reading": ProvenanceLabel(
        "cgtkit's reading",
        "cgtkit's own inference from the documents cited: a planning view, not a statement by FDA.",
    ),
}
BASIS_ORDER: tuple[str, ...] = tuple(BASIS_LABELS)

#: The profile facts a draft question may name, as ``{placeholder}`` (filled by cgtkit.meeting_plan).
QUESTION_FIELDS: frozenset[str] = frozenset({
    "product", "stage", "modality", "lots_total", "lots_detail", "clinical_lots", "ppq_lots", "commercial_lots",
    "shelf_life_days", "doses_per_lot", "containers_per_lot", "lots_per_year", "change", "change_kind",
    "reporting", "designation", "population",
})


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
    section: str | None = Field(None, description="A real paragraph of the cited text (used for the CFR).")
    topic: str | None = Field(None, description="What the document is cited for; not one of its headings.")
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
    """Which FDA meeting(s) to discuss the flexibility at, earliest first (ids of ``meetings.yaml``)."""

    types: list[str] = Field(min_length=1)
    note: str = Field(min_length=10)


def _statement(value: Any) -> Any:
    return {"text": value} if isinstance(value, str) else value


class Statement(_Strict):
    """One statement of an entry, with what it rests on when that differs from the entry's claim.

    ``basis`` and ``checked`` are ``None`` when they are the entry's own
    (:meth:`Flexibility.basis_of`, :meth:`Flexibility.checked_of`). A plain string in
    the YAML is a statement with neither.
    """

    text: str = Field(min_length=10)
    basis: Basis | None = None
    checked: bool | None = None

    def __str__(self) -> str:
        return self.text


StatementIn = Annotated[Statement, BeforeValidator(_statement)]


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


class Question(_Strict):
    """A draft question for FDA and the sponsor's proposed position, with ``{placeholders}``
    from :data:`QUESTION_FIELDS` filled from the product profile."""

    ask: str = Field(min_length=20)
    position: str = Field(min_length=20)

    @model_validator(mode="after")
    def _known_placeholders(self) -> Question:
        unknown = sorted((_placeholders(self.ask) | _placeholders(self.position)) - QUESTION_FIELDS)
        if unknown:
            raise ValueError(f"unknown placeholder(s) {', '.join('{' + u + '}' for u in unknown)}; use "
                             f"{', '.join(sorted(QUESTION_FIELDS))}")
        return self


class Flexibility(_Strict):
    """One catalog entry."""

    id: str = Field(pattern=ID_PATTERN)
    aliases: list[str] = Field(default_factory=list)
    area: Area
    title: str = Field(min_length=5)
    basis: Basis = Field(description="What the central claim (``allows``) rests on.")
    checked: bool = Field(description="The claim's wording was checked against the primary text.")
    needs_agreement: bool = Field(
        True, description="False when the flexibility applies by itself (a regulation) and needs no FDA agreement.")
    allows: str = Field(min_length=20)
    conditions: list[StatementIn] = Field(min_length=1)
    justification: str = Field(min_length=20)
    evidence: list[str] = Field(min_length=1)
    stages: list[Stage] = Field(min_length=1)
    product_types: Literal["all"] | list[str]
    regulations: list[RegulationRef] = Field(default_factory=list)
    sources: list[Source] = Field(min_length=1)
    meeting: Meeting
    question: Question
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
        """The strongest source cited (not what the claim rests on: see :attr:`basis`)."""
        return min((s.provenance for s in self.sources), key=PROVENANCE_ORDER.index)

    @property
    def needs_verification(self) -> bool:
        """Some statement attributed to a source was not checked against its primary text."""
        return any(not checked and basis != "cgtkit_reading" for _t, basis, checked in self.statements())

    def basis_of(self, statement: Statement) -> str:
        """What a condition rests on: its own basis, or the entry's."""
        return statement.basis or self.basis

    def checked_of(self, statement: Statement) -> bool:
        """Whether a condition's wording was checked: its own flag, or the entry's."""
        return self.checked if statement.checked is None else statement.checked

    def statements(self) -> list[tuple[str, str, bool]]:
        """(text, basis, checked) of the claim and of every condition."""
        return [(self.allows, self.basis, self.checked),
                *((c.text, self.basis_of(c), self.checked_of(c)) for c in self.conditions)]

    def covers(self, modality: str) -> bool:
        return self.product_types == "all" or modality in self.product_types


class GuidanceInfo(_Strict):
    """The 2026 final guidance the catalog is built around."""

    source: Source
    issued: DateText
    reported_issue_date: DateText | None = None
    effective: str
    scope: str


class Verification(_Strict):
    """Which primary texts the catalog's wording was, and was not, checked against."""

    checked: list[str] = Field(min_length=1)
    not_checked: list[str] = Field(min_length=1)


class Metadata(_Strict):
    schema_version: int = Field(ge=1)
    title: str
    guidance: GuidanceInfo
    announcement: list[Source] = Field(min_length=1)
    last_reviewed: DateText
    verification: Verification
    verification_note: str
    disclaimer: str = Field(min_length=20)


def _lower_first(label: str) -> str:
    """"Final guidance" -> "final guidance"; "FDA announcement" stays."""
    first = label.split(" ", 1)[0]
    return label if first.isupper() or "'" in first and first[:3].isupper() else label[:1].lower() + label[1:]


@dataclass(frozen=True)
class VerificationSummary:
    """How many statements rest on each basis, and how many of them were checked against primary text.

    cgtkit's own readings are counted apart: there is no primary text to check them against.
    """

    by_basis: dict[str, tuple[int, int]]  # basis -> (statements, checked)
    checked_documents: tuple[str, ...]
    not_checked_documents: tuple[str, ...]

    @property
    def sourced(self) -> int:
        """Statements attributed to a source (all but cgtkit's readings)."""
        return sum(n for b, (n, _) in self.by_basis.items() if b != "cgtkit_reading")

    @property
    def checked(self) -> int:
        return sum(c for b, (_, c) in self.by_basis.items() if b != "cgtkit_reading")

    @property
    def readings(self) -> int:
        return self.by_basis.get("cgtkit_reading", (0, 0))[0]

    def sentence(self) -> str:
        """One plain sentence: what was checked and what was not.

        >>> print(VerificationSummary({"regulation": (10, 8), "final_guidance": (5, 0), "cgtkit_reading": (3, 0)},
        ...                           ("21 CFR 600.13",), ("x",)).sentence())  # doctest: +NORMALIZE_WHITESPACE
        8 of 15 statements attributed to a source were checked against its text; 7 were not (final guidance 5,
        statute or regulation 2). 3 statements are cgtkit's own reading.
        """
        open_ = {b: n - c for b, (n, c) in self.by_basis.items() if n > c and b != "cgtkit_reading"}
        parts = ", ".join(f"{_lower_first(BASIS_LABELS[b].label)} {k}" for b, k in
                          sorted(open_.items(), key=lambda kv: (-kv[1], BASIS_ORDER.index(kv[0]))))
        text = (f"{self.checked} of {self.sourced} statements attributed to a source were checked against its text; "
                f"{self.sourced - self.checked} were not" + (f" ({parts})." if parts else "."))
        if self.readings:
            text += f" {self.readings} statements are cgtkit's own reading."
        return text


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
        """Ids and aliases are unique; pages, product types and meetings are those of their data files."""
        if page_ids is None:
            from cgtkit.pages import load_pages

            page_ids = {p.id for p in load_pages()}
        if product_type_ids is None:
            from cgtkit.profile import load_product_types

            product_type_ids = set(load_product_types())
        meeting_ids = set(load_meeting_types())
        entries = self.flexibilities
        problems = repeated_ids(where, entries, lambda e: [("id", e.id), *(("aliases", a) for a in e.aliases)])
        for index, entry in enumerate(entries):
            unknown_meetings = [m for m in entry.meeting.types if m not in meeting_ids]
            if unknown_meetings:
                problems.append(problem_sentence(
                    f"unknown meeting id(s) {', '.join(unknown_meetings)}; use ids of meetings.yaml "
                    f"({', '.join(sorted(meeting_ids))})",
                    where=where, entry=entry_label(index, entry), field="meeting.types",
                ))
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

    def verification_summary(self) -> VerificationSummary:
        """Statements (claims and conditions) per basis, and how many were checked against primary text."""
        counts: dict[str, list[int]] = {}
        for entry in self.flexibilities:
            for _text, basis, checked in entry.statements():
                n = counts.setdefault(basis, [0, 0])
                n[0] += 1
                n[1] += int(checked)
        ordered = {b: (counts[b][0], counts[b][1]) for b in BASIS_ORDER if b in counts}
        v = self.metadata.verification
        return VerificationSummary(ordered, tuple(v.checked), tuple(v.not_checked))


@lru_cache(maxsize=4)
def load_catalog(path: str | Path | None = None) -> Catalog:
    """The catalog from ``data/flexibilities.yaml`` (or ``path``), validated and cached.

    Call ``load_catalog.cache_clear()`` after editing the file in a running session.
    """
    return Catalog.from_yaml(Path(path) if path is not None else data_dir() / CATALOG_FILE)


# -- the other regulatory data files ----------------------------------------------------
class MeetingType(_Strict):
    """An FDA meeting a CGT sponsor uses, with its PDUFA VII timelines (calendar days)."""

    id: str
    label: str = Field(min_length=3)
    pdufa_type: str
    purpose: str = Field(min_length=10)
    stages: list[Stage] = Field(min_length=1)
    request_response_days: int | None = Field(None, ge=1)
    meeting_within_days: int | None = Field(None, ge=1)
    package_days_before: int | None = Field(None, ge=1, description="None: the package goes with the request.")
    preliminary_days_before: int | None = Field(None, ge=1)
    when: str = Field(min_length=10)
    checked: bool
    note: str | None = None

    @property
    def formal(self) -> bool:
        """A formal meeting the sponsor requests (with PDUFA timelines)."""
        return self.meeting_within_days is not None

    @property
    def any_stage(self) -> bool:
        return len(self.stages) == len(STAGES)

    @property
    def name(self) -> str:
        """The label with its PDUFA meeting type: "the end-of-phase 2 meeting (Type B (EOP))"."""
        return f"{self.label} ({self.pdufa_type})" if self.formal and self.pdufa_type not in self.label else self.label

    def package_text(self) -> str:
        if not self.formal:
            return "no meeting package (part of the review)"
        if self.package_days_before is None:
            return "with the meeting request"
        return f"at least {self.package_days_before} days before the meeting"


class _MeetingsFile(_Strict):
    schema_version: int
    sources: list[Source] = Field(min_length=1)
    meetings: list[MeetingType] = Field(min_length=1)


class NotFlexibleItem(_Strict):
    """A requirement the 2026 flexibilities leave as it is."""

    id: str = Field(pattern=r"^NF-[A-Z0-9-]+$")
    title: str = Field(min_length=5)
    requirement: str = Field(min_length=20)
    basis: Basis
    checked: bool
    regulations: list[str] = Field(min_length=1)
    still_open: str = Field(min_length=10)
    product_types: Literal["all"] | list[str]
    when: str = Field(min_length=5)


class _NotFlexibleFile(_Strict):
    schema_version: int
    items: list[NotFlexibleItem] = Field(min_length=1)


class Guidance(_Strict):
    """An FDA guidance a regulatory lead expects to see cited."""

    id: str
    title: str = Field(min_length=10)
    date: DateText
    status: Literal["final", "draft"]
    why: str = Field(min_length=10)
    product_types: Literal["all"] | list[str]
    stages: list[Stage] = Field(min_length=1)
    flexibilities: list[str] = Field(default_factory=list)

    def covers(self, modality: str) -> bool:
        return self.product_types == "all" or modality in self.product_types


class _GuidancesFile(_Strict):
    schema_version: int
    guidances: list[Guidance] = Field(min_length=1)


def _unique(where: str, entries: list[Any]) -> None:
    problems = repeated_ids(where, entries)
    if problems:
        raise CatalogError(" ".join(problems))


@lru_cache(maxsize=1)
def load_meeting_types() -> dict[str, MeetingType]:
    """FDA meeting types by id, in file order, from ``data/meetings.yaml``."""
    parsed = load_model(MEETINGS_FILE, _MeetingsFile)
    _unique(MEETINGS_FILE, parsed.meetings)
    return {m.id: m for m in parsed.meetings}


@lru_cache(maxsize=1)
def meeting_sources() -> tuple[Source, ...]:
    """The documents the meeting timelines come from."""
    return tuple(load_model(MEETINGS_FILE, _MeetingsFile).sources)


@lru_cache(maxsize=1)
def load_not_flexible() -> tuple[NotFlexibleItem, ...]:
    """What the flexibilities leave as it is, from ``data/not_flexible.yaml``."""
    parsed = load_model(NOT_FLEXIBLE_FILE, _NotFlexibleFile)
    _unique(NOT_FLEXIBLE_FILE, parsed.items)
    return tuple(parsed.items)


@lru_cache(maxsize=1)
def load_guidances() -> tuple[Guidance, ...]:
    """The guidances a lead expects, from ``data/guidances.yaml``; their flexibility ids are checked
    against the catalog."""
    parsed = load_model(GUIDANCES_FILE, _GuidancesFile)
    _unique(GUIDANCES_FILE, parsed.guidances)
    catalog = load_catalog()
    problems = [
        problem_sentence(f"unknown flexibility id {fid!r}", where=GUIDANCES_FILE, entry=entry_label(i, g),
                         field="flexibilities")
        for i, g in enumerate(parsed.guidances) for fid in g.flexibilities if fid not in catalog
    ]
    if problems:
        raise CatalogError(" ".join(problems))
    return tuple(parsed.guidances)


def meetings_for_stage(stage: str | None) -> tuple[str, ...]:
    """The FDA meetings (labels) that fit a development stage, the stage's own meeting first;
    Type C and D (any stage) only when no stage-specific formal meeting exists (e.g. after approval).

    Unchanged since before the seamless stages were added, for the pages that call it with a
    stage string; "BLA" still gives the pre-BLA meeting (what to prepare a BLA at). The
    navigator's next step for a filed BLA is the review team (:mod:`cgtkit.meeting_plan`).

    >>> meetings_for_stage("phase 2")
    ('the end-of-phase 2 meeting (Type B (EOP))',)
    >>> meetings_for_stage("phase 1/2")
    ('an end-of-phase 1 meeting (Type B (EOP))', 'the end-of-phase 2 meeting (Type B (EOP))')
    >>> meetings_for_stage("BLA")
    ('the pre-BLA meeting (Type B)',)
    >>> meetings_for_stage("post-approval")
    ('a Type C meeting', 'a Type D meeting')
    """
    meetings = load_meeting_types().values()
    specific = [m for m in meetings if stage in m.stages and not m.any_stage and m.formal]
    chosen = specific or [m for m in meetings if m.any_stage]
    return tuple(m.name for m in chosen)
