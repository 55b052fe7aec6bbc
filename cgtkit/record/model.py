"""The decision record as typed data, built from a workbook.

:func:`build_record` reads a :class:`~cgtkit.session.Session` and returns a
:class:`DecisionRecord` laid out as an FDA meeting package is written: the
product and its stage, the purpose of the meeting, then per area (scope and
engagement, clinical development, process validation, commercial
specifications, related programs) each proposal with its inputs, method,
result, figures, justification and sources (each claim with the grade of its
basis), and the questions for FDA with the sponsor's position; an appendix of
data summaries and methods, and the audit block.

Every proposal is a decision of the workbook rendered by the one renderer of
:mod:`cgtkit.decisions` (:func:`~cgtkit.decisions.summary`,
:func:`~cgtkit.decisions.rows`, :func:`~cgtkit.decisions.facts`): no kind is
special-cased here, so the kinds of pages written later appear without a change.
A decision goes to the area of the first flexibility it supports
(``data/flexibilities.yaml``). The record holds no time but ``generated_at``:
built twice from the same workbook, two records differ only there.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from cgtkit import __version__
from cgtkit import decisions as dec
from cgtkit.catalog import AREA_LABELS, AREAS, BASIS_LABELS, PROVENANCE_LABELS, Flexibility, Source, load_catalog
from cgtkit.meeting_plan import DraftQuestion
from cgtkit.record.figures import AttributeLots, FigureData, attribute_lots, lots_figure, recorded_for
from cgtkit.session import Session, item_digests, verify_audit
from cgtkit.tables import number

if TYPE_CHECKING:
    import pandas as pd

OTHER_AREA = "other"
#: Facts every decision's full entry starts with; the record shows them in its own heading.
_HEAD_FACTS = frozenset({"Decision", "Recorded", "Page", "Supports", "Justification"})
_DATASET_KINDS = {"lots": "lot release", "stability": "stability"}


@dataclass(frozen=True)
class Graded:
    """A statement and the grade of what it rests on (regulation, final guidance, ... cgtkit's reading)."""

    text: str
    grade: str
    checked: bool


@dataclass(frozen=True)
class SourceRef:
    """A document cited, with its grade."""

    citation: str
    grade: str
    url: str | None
    needs_verification: bool


@dataclass(frozen=True)
class FlexibilityBasis:
    """The flexibility a proposal uses: its claim and conditions with their grades, and the sources."""

    id: str
    title: str
    status: str
    claim: Graded | None
    conditions: tuple[Graded, ...]
    sources: tuple[SourceRef, ...]


@dataclass(frozen=True)
class RecordFigure:
    """A numbered figure of a proposal."""

    number: int
    anchor: str
    data: FigureData


@dataclass(frozen=True)
class Proposal:
    """One decision of the workbook, as a proposal to FDA."""

    number: str
    decision_id: str
    page: str
    recorded: str
    summary: str
    method: str
    result_rows: tuple[dict[str, str], ...]
    inputs: tuple[tuple[str, str], ...]
    justification: str
    review: str | None
    replaced: int
    flexibilities: tuple[FlexibilityBasis, ...]
    figures: tuple[RecordFigure, ...]
    figure_note: str


@dataclass(frozen=True)
class Question:
    """A question for FDA and the sponsor's position: cgtkit's draft, or the sponsor's own words."""

    number: int
    flexibility_id: str
    title: str
    question: str
    position: str
    grade: str
    edited: bool
    proposals: tuple[str, ...]


@dataclass(frozen=True)
class AreaSection:
    id: str
    number: int
    title: str
    proposals: tuple[Proposal, ...]
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class DatasetSummary:
    """A data set of the workbook: what it holds, its SHA-256, and its attributes in figures."""

    name: str
    kind: str
    source: str
    loaded: str
    lots: int
    attributes: int
    sha256: str
    rows: tuple[dict[str, str], ...]
    used_by: tuple[str, ...]


@dataclass(frozen=True)
class MethodNote:
    method: str
    used_by: tuple[str, ...]


@dataclass(frozen=True)
class AuditLine:
    index: int
    time: str
    summary: str
    hash: str


@dataclass(frozen=True)
class AuditBlock:
    """What a reviewer needs to check the record against the workbook it came from."""

    version: str
    generated_at: str
    workbook_sha256: str
    datasets: tuple[tuple[str, str], ...]
    chain_head: str | None
    entries: int
    verified: bool
    verification: str
    log: tuple[AuditLine, ...]


@dataclass(frozen=True)
class DecisionRecord:
    """The whole document, as data; the renderers (HTML, Markdown, Word) only lay it out."""

    title: str
    product_name: str
    product: tuple[tuple[str, str], ...]
    meeting: str
    meeting_why: str
    meeting_purpose: str
    timing: tuple[tuple[str, str], ...]
    timing_sources: tuple[SourceRef, ...]
    purpose: str
    areas: tuple[AreaSection, ...]
    datasets: tuple[DatasetSummary, ...]
    methods: tuple[MethodNote, ...]
    audit: AuditBlock
    disclaimer: str
    generated_at: datetime
    notes: tuple[str, ...] = field(default=())

    @property
    def proposals(self) -> tuple[Proposal, ...]:
        return tuple(p for a in self.areas for p in a.proposals)

    @property
    def questions(self) -> tuple[Question, ...]:
        return tuple(q for a in self.areas for q in a.questions)

    @property
    def figures(self) -> tuple[RecordFigure, ...]:
        return tuple(f for p in self.proposals for f in p.figures)

    @property
    def stamp(self) -> str:
        return f"{self.generated_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


# -- building ------------------------------------------------------------------------


def _citation(s: Source) -> str:
    parts = [s.issuer, s.title]
    if s.section:
        parts.append(s.section)
    text = ", ".join(parts)
    return text + (f" ({s.date})" if s.date else "")


def _source(s: Source) -> SourceRef:
    return SourceRef(citation=_citation(s), grade=PROVENANCE_LABELS[s.provenance].label, url=s.url,
                     needs_verification=s.needs_verification)


def _basis(f: Flexibility | None, fid: str, status: str) -> FlexibilityBasis:
    if f is None:
        return FlexibilityBasis(id=fid, title="not in cgtkit's catalog", status=status, claim=None, conditions=(),
                                sources=())
    claim = Graded(f.allows, BASIS_LABELS[f.basis].label, f.checked)
    conditions = tuple(Graded(c.text, BASIS_LABELS[f.basis_of(c)].label, f.checked_of(c)) for c in f.conditions)
    return FlexibilityBasis(id=f.id, title=f.title, status=status, claim=claim, conditions=conditions,
                            sources=tuple(_source(s) for s in f.sources))


def _when(ts: datetime) -> str:
    return f"{ts.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if ts.tzinfo else f"{ts:%Y-%m-%d %H:%M}"


def _product(session: Session) -> tuple[tuple[tuple[str, str], ...], str]:
    from cgtkit.meeting_plan import question_fields

    p = session.profile
    if p is None:
        return (("Product", "not described yet: fill in the profile on Start here"),), "the product"
    f = question_fields(p)
    # only while a study runs (phase 2/3 and 3 always pivotal); the flag a profile keeps after the BLA says nothing
    study = ([("Current study", "pivotal (meant to support the BLA)" if p.pivotal_study else "not pivotal")]
             if p.clinical else [])
    rows = [("Product", p.name), ("Product type", f["modality"]), ("Stage", f["stage"]), *study,
            ("Lots made", f["lots_detail"]), ("Lots per year", f["lots_per_year"]),
            ("Shelf life", f"{f['shelf_life_days']} days"), ("Patients who could be treated (US)", f["population"]),
            ("Expedited programs", f["designation"]), ("Planned change", f["change"])]
    if p.approved:
        rows.append(("Reporting category of the change", f["reporting"]))
    return tuple(rows), p.name


def _dataset_rows(frame: pd.DataFrame) -> tuple[dict[str, str], ...]:
    """Per attribute: results, lots, unit and the spread of the numeric results."""
    from cgtkit.attributes import get_attribute

    fmt = number(4)
    out = []
    for attribute, group in frame.groupby("attribute", sort=False):
        numeric = group["value"].dropna()
        censored = int(group["censoring"].ne("none").sum()) if "censoring" in group else 0
        unit = next((str(u) for u in group["unit"].dropna() if str(u)), "")
        out.append({
            "attribute": get_attribute(str(attribute)).label, "unit": unit, "results": str(len(group)),
            "lots": str(group["lot_id"].nunique()),
            "min": fmt(numeric.min()) if len(numeric) else "—", "median": fmt(numeric.median()) if len(numeric) else "—",
            "max": fmt(numeric.max()) if len(numeric) else "—", "censored": str(censored),
            "pass_fail": str(int(group["value"].isna().sum())),
        })
    return tuple(out)


def build_record(session: Session, *, generated_at: datetime | None = None,
                 with_figures: bool = True) -> DecisionRecord:
    """The decision record of ``session`` (``with_figures=False`` for a quick preview)."""
    from cgtkit.meeting_plan import draft_question, meeting_plan
    from cgtkit.navigator import STATUS_LABELS, assess

    generated_at = generated_at or datetime.now(UTC)
    catalog = load_catalog()
    profile = session.profile
    product, product_name = _product(session)
    notes: list[str] = []
    plan = assessment = None
    if profile is not None:
        assessment = assess(profile, catalog)
        plan = meeting_plan(assessment)
    else:
        notes.append("No product profile: the meeting, the flexibilities' status for this product and the questions "
                     "for FDA are drafted once the product is described on Start here.")

    def flexibility(fid: str) -> Flexibility | None:
        return catalog.get(fid) if fid in catalog else None

    def status(fid: str) -> str:
        if assessment is None:
            return "not assessed (no product profile)"
        try:
            return STATUS_LABELS[assessment.status_of(fid)]
        except KeyError:
            return "not in cgtkit's catalog"

    # proposals, by area
    by_area: dict[str, list[dec.Decision]] = {a: [] for a in (*AREAS, OTHER_AREA)}
    for d in session.decisions:
        known = [flexibility(fid) for fid in d.flexibility_ids]
        area = next((f.area for f in known if f is not None), OTHER_AREA)
        by_area[area].append(d)
    # questions: the plan's, then one for each flexibility a proposal uses that the plan has not
    drafted: dict[str, DraftQuestion] = {}
    if plan is not None and profile is not None:
        for q in plan.questions:
            drafted[q.flexibility_id] = q
        for d in session.decisions:
            for fid in d.flexibility_ids:
                f = flexibility(fid)
                if f is not None and f.id not in drafted:
                    drafted[f.id] = draft_question(profile, f, assessment.status_of(f.id))
        # a question about recorded decisions speaks of what they decided (the latest, where they differ),
        # not of the profile's planned change or lots made
        for fid, q in list(drafted.items()):
            facts: dict[str, str] = {}
            for d in session.decisions:
                if fid in d.flexibility_ids:
                    facts.update(d.question_facts())
            f = flexibility(fid)
            if facts and f is not None:
                drafted[fid] = draft_question(profile, f, q.status, facts)
    frames: dict[str, pd.DataFrame] = {}
    lots: dict[tuple[str, str], AttributeLots | None] = {}

    def frame(name: str) -> pd.DataFrame:
        if name not in frames:
            frames[name] = session.dataset_frame(name)
        return frames[name]

    areas: list[AreaSection] = []
    figure_number = 0
    methods: dict[str, list[str]] = {}
    used_by: dict[str, list[str]] = {}
    q_number = 0
    section = 2  # 1: product and stage, 2: purpose of the meeting
    for area in (*AREAS, OTHER_AREA):
        area_questions = [q for fid, q in drafted.items() if getattr(flexibility(fid), "area", OTHER_AREA) == area]
        if not by_area[area] and not area_questions:
            continue
        section += 1
        proposals: list[Proposal] = []
        for i, d in enumerate(by_area[area], start=1):
            number_text = f"{section}.{i}"
            figures, note = [], ""
            dataset = getattr(d, "dataset", None)
            if isinstance(dataset, str):
                used_by.setdefault(dataset, []).append(number_text)
            if with_figures and isinstance(dataset, str) and d.attributes:
                if dataset not in session.datasets:
                    note = f"Data set {dataset} is no longer in the workbook, so its lots cannot be drawn."
                else:
                    for attribute in dict.fromkeys(d.attributes):
                        if (dataset, attribute) not in lots:
                            lots[(dataset, attribute)] = attribute_lots(frame(dataset), attribute)
                        found = lots[(dataset, attribute)]
                        if found is not None:
                            figure_number += 1
                            fig = lots_figure(found, attribute, dataset, recorded_for(d, attribute))
                            figures.append(RecordFigure(figure_number, f"figure-{figure_number}", fig))
                    if d.review:
                        note = ("The data set was replaced after this decision: the figures show the data as they "
                                "are now.")
            methods.setdefault(d.method, []).append(number_text)
            proposals.append(Proposal(
                number=number_text, decision_id=d.id, page=dec.page_title(d.page), recorded=dec.when(d),
                summary=dec.summary(d), method=d.method, result_rows=tuple(dec.rows(d)),
                inputs=tuple((k, v) for k, v in dec.facts(d) if k not in _HEAD_FACTS),
                justification=d.justification, review=d.review, replaced=len(d.superseded),
                flexibilities=tuple(_basis(flexibility(fid), fid, status(fid)) for fid in d.flexibility_ids),
                figures=tuple(figures), figure_note=note))
        questions = []
        for q in area_questions:
            q_number += 1
            edit = session.question_edit(q.flexibility_id)
            related = tuple(p.number for p in proposals if q.flexibility_id in [fb.id for fb in p.flexibilities])
            questions.append(Question(
                number=q_number, flexibility_id=q.flexibility_id, title=q.title,
                question=edit.question if edit else q.question, position=edit.position if edit else q.position,
                grade=BASIS_LABELS[q.basis].label, edited=edit is not None, proposals=related))
        areas.append(AreaSection(id=area, number=section, title=AREA_LABELS.get(area, "Other decisions"),
                                 proposals=tuple(proposals), questions=tuple(questions)))
    # appendix
    digests = item_digests(session)
    datasets = tuple(
        DatasetSummary(name=name, kind=_DATASET_KINDS.get(ds.kind.value, ds.kind.value), source=ds.source,
                       loaded=_when(ds.loaded_at), lots=ds.counts()[0], attributes=ds.counts()[1],
                       sha256=digests[("dataset", name)], rows=_dataset_rows(frame(name)),
                       used_by=tuple(used_by.get(name, ())))
        for name, ds in session.datasets.items())
    check = verify_audit(session)
    audit = AuditBlock(
        version=__version__, generated_at=f"{generated_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC",
        workbook_sha256=hashlib.sha256(session.to_json().encode("utf-8")).hexdigest(),
        datasets=tuple((d.name, d.sha256) for d in datasets), chain_head=session.audit[-1].hash if session.audit else None,
        entries=len(session.audit), verified=check.ok, verification=check.sentence(),
        log=tuple(AuditLine(e.index, _when(e.time), e.summary, e.hash) for e in session.audit))
    # the meeting
    if plan is not None:
        meeting, why, purpose = plan.meeting.name, plan.why, plan.meeting.purpose
        timing = tuple((t.step, t.when) for t in plan.timing())
        from cgtkit.catalog import meeting_sources

        timing_sources = tuple(_source(s) for s in meeting_sources())
    else:
        meeting, why, purpose, timing, timing_sources = "not chosen yet", "", "", (), ()
    n_props = sum(len(a.proposals) for a in areas)
    n_questions = sum(len(a.questions) for a in areas)
    area_names = [a.title for a in areas if a.proposals]
    purpose_text = (
        f"To reach agreement with FDA on the CMC approach for {product_name}: {n_props} proposal(s) recorded in the "
        f"workbook" + (f" ({', '.join(area_names)})" if area_names else "") + f", each with the data, statistics "
        f"and sources behind it, and {n_questions} question(s) for FDA with the sponsor's position.")
    return DecisionRecord(
        title=f"CMC decision record: {product_name}", product_name=product_name, product=product, meeting=meeting,
        meeting_why=why, meeting_purpose=purpose, timing=timing, timing_sources=timing_sources, purpose=purpose_text,
        areas=tuple(areas), datasets=datasets,
        methods=tuple(MethodNote(m, tuple(n)) for m, n in methods.items()), audit=audit,
        disclaimer=catalog.metadata.disclaimer, generated_at=generated_at, notes=tuple(notes))


def result_columns() -> Sequence[tuple[str, str]]:
    """The columns of a proposal's result table (the pages' decision table, without the time)."""
    return [(k, t) for k, t in dec.COLUMNS.items() if k != "when"]


__all__ = [
    "AreaSection", "AuditBlock", "DatasetSummary", "DecisionRecord", "FlexibilityBasis", "Graded", "MethodNote",
    "Proposal", "Question", "RecordFigure", "SourceRef", "build_record", "result_columns",
]
