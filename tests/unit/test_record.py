"""The decision record (issue #21): its model built from a workbook with the decisions of two pages,
and each renderer (HTML, Markdown, Word) holding every section, those decisions and their numbers;
the same workbook gives the same content apart from the time stamp."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime

import pytest

from cgtkit import decisions
from cgtkit.decisions import CommercialCriterionDecision, InvestigationalCriteriaDecision
from cgtkit.record import build_record, decision_table_xlsx, render_docx, render_html, render_markdown
from cgtkit.record.model import DecisionRecord
from cgtkit.session import Session, WorkbookStore, item_digests
from cgtkit.vocab import Stage
from tests.unit.test_record_workbooks import store_with_decisions, with_page_decisions

WHEN = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
SECTIONS = ("1. Product and stage", "2. Purpose of the meeting", "Clinical development", "Commercial specifications",
            "Questions for FDA", "Appendix A. Data sets", "Appendix B. Methods", "Appendix C. Audit")


@pytest.fixture(scope="module")
def session() -> Session:
    return with_page_decisions()


@pytest.fixture(scope="module")
def record(session: Session) -> DecisionRecord:
    return build_record(session, generated_at=WHEN)


def _decisions(session: Session) -> tuple[InvestigationalCriteriaDecision, CommercialCriterionDecision]:
    clinical, commercial = session.decisions
    assert isinstance(clinical, InvestigationalCriteriaDecision) and isinstance(commercial, CommercialCriterionDecision)
    return clinical, commercial


def test_proposals_are_the_workbook_decisions_in_their_areas(session: Session, record: DecisionRecord) -> None:
    clinical, commercial = _decisions(session)
    areas = {a.id: a for a in record.areas}
    (p_clin,) = areas["clinical_development"].proposals
    (p_comm,) = areas["commercial_specifications"].proposals
    assert (p_clin.decision_id, p_comm.decision_id) == (clinical.id, commercial.id)
    assert p_comm.summary == decisions.summary(commercial) and p_comm.method == commercial.method
    assert list(p_clin.result_rows) == decisions.rows(clinical) and len(p_clin.result_rows) == 10
    assert p_comm.justification == commercial.justification
    assert ("Criterion", decisions.limits_text(commercial.low, commercial.high, commercial.unit)) in p_comm.inputs
    assert not {k for k, _v in p_comm.inputs} & {"Decision", "Recorded", "Justification"}  # shown in the heading
    assert p_comm.number == f"{areas['commercial_specifications'].number}.1"
    basis = p_comm.flexibilities[0]
    assert basis.id == "CS-SPEC-FLEX-BLA" and basis.claim is not None and basis.sources
    assert all(s.grade for s in basis.sources) and basis.claim.grade


def test_questions_come_from_the_meeting_plan_and_the_decisions(session: Session, record: DecisionRecord) -> None:
    from cgtkit.meeting_plan import meeting_plan
    from cgtkit.navigator import assess

    plan = meeting_plan(assess(session.profile))
    ids = [q.flexibility_id for q in record.questions]
    assert {q.flexibility_id for q in plan.questions} <= set(ids)
    assert "CS-SPEC-FLEX-BLA" in ids  # not in play at phase 1, but a decision uses it
    assert [q.number for q in record.questions] == list(range(1, len(ids) + 1))
    q = next(q for q in record.questions if q.flexibility_id == "CD-RELEASE-PERMISSIVE")
    assert q.proposals == (record.areas[[a.id for a in record.areas].index("clinical_development")].proposals[0].number,)
    assert q.position == next(p.position for p in plan.questions if p.flexibility_id == "CD-RELEASE-PERMISSIVE")
    assert record.meeting == plan.meeting.name and record.timing


def test_the_sponsor_s_wording_replaces_the_draft(session: Session) -> None:
    edited = session.with_question("CD-RELEASE-PERMISSIVE", "Does FDA agree with the limits in table 3?",
                                   "We propose them for phase 1 and 2 lots.")
    q = next(q for q in build_record(edited).questions if q.flexibility_id == "CD-RELEASE-PERMISSIVE")
    assert (q.question, q.position, q.edited) == ("Does FDA agree with the limits in table 3?",
                                                  "We propose them for phase 1 and 2 lots.", True)


def test_figures_draw_the_lots_each_decision_used_with_its_limits(session: Session, record: DecisionRecord) -> None:
    import plotly.graph_objects as go

    _clinical, commercial = _decisions(session)
    p_comm = next(p for p in record.proposals if p.decision_id == commercial.id)
    (fig,) = p_comm.figures
    assert fig.data.title == f"Viability: the {commercial.n} lots used, of 60 in car_t_lots"
    limit = next(t for t in fig.data.spec["data"] if t["name"].startswith("lower limit"))
    assert limit["y"] == [commercial.low, commercial.low]
    used = [r for r in fig.data.rows if r[-1] == "yes"]
    assert [r[0] for r in used] == list(commercial.lot_ids)
    # clinical: one figure per attribute with numeric results (the pass/fail safety tests have none)
    p_clin = record.proposals[0]
    assert len(p_clin.figures) == 7 and [f.number for f in record.figures] == list(range(1, 9))
    for f in record.figures:
        go.Figure(f.data.spec)  # valid for plotly (raises on an unknown property)


def test_appendix_and_audit_block(session: Session, record: DecisionRecord) -> None:
    import hashlib

    names = [d.name for d in record.datasets]
    assert names == list(session.datasets)
    car_t = record.datasets[0]
    assert car_t.sha256 == item_digests(session)[("dataset", "car_t_lots")] and car_t.lots == 60
    assert car_t.used_by == tuple(p.number for p in record.proposals)
    viability = next(r for r in car_t.rows if r["attribute"] == "Viability")
    assert viability["lots"] == "60" and float(viability["min"]) < float(viability["median"]) < float(viability["max"])
    assert [m.method for m in record.methods] == [d.method for d in session.decisions]
    a = record.audit
    assert a.workbook_sha256 == hashlib.sha256(session.to_json().encode()).hexdigest()
    assert a.chain_head == session.audit[-1].hash and a.entries == len(session.audit)
    # this workbook's decisions were added in memory, not through the store: the record says so
    assert not a.verified and "no entry records it" in a.verification
    assert a.generated_at == "2026-12-01 09:30:00 UTC" and a.version


def test_a_workbook_without_profile_or_decisions_still_renders() -> None:
    record = build_record(Session(), generated_at=WHEN)
    assert record.areas == () and record.product_name == "the product"
    assert "No product profile" in record.notes[0]
    assert "Appendix C. Audit" in render_html(record) and "no audit log" in render_markdown(record)
    render_docx(record)


# -- renderers --------------------------------------------------------------------------------


def test_html_is_one_self_contained_file(record: DecisionRecord) -> None:
    html = render_html(record)
    assert html.startswith("<!DOCTYPE html>") and "Plotly.newPlot" in html
    assert "<script src" not in html and "<link" not in html and "@import" not in html  # nothing fetched
    figures = json.loads(re.search(r'<script type="application/json" id="cgt-figures">(.*?)</script>', html, re.S)[1])
    assert [f["id"] for f in figures] == [f"plot-{i}" for i in range(1, 9)]
    assert all(f'id="plot-{i}"' in html for i in range(1, 9))
    for section in SECTIONS:
        assert section in html, section


def test_every_format_holds_the_decisions_and_their_numbers(session: Session, record: DecisionRecord) -> None:
    from docx import Document

    clinical, commercial = _decisions(session)
    criterion = decisions.limits_text(commercial.low, commercial.high, commercial.unit)
    viability = next(c for c in clinical.criteria if c.attribute == "viability")
    clinical_limit = decisions.limits_text(viability.low, viability.high, viability.unit)
    html, md = render_html(record), render_markdown(record)
    word = Document(io.BytesIO(render_docx(record)))
    word_text = "\n".join([p.text for p in word.paragraphs]
                          + [c.text for t in word.tables for row in t.rows for c in row.cells])
    for text in (html, md, word_text):
        for needle in (clinical.id, commercial.id, criterion, clinical_limit, record.audit.chain_head,
                       record.audit.workbook_sha256, "Sponsor's position", "SHA-256"):
            assert needle in text, needle
    headings = [p.text for p in word.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    for section in SECTIONS:
        assert any(section in h for h in headings), section
    assert any("Figure 1." in p.text for p in word.paragraphs)  # figures as their numbers, with a caption


def test_markdown_headings_and_tables(record: DecisionRecord) -> None:
    md = render_markdown(record)
    for section in SECTIONS:
        assert re.search(rf"^#+ .*{re.escape(section)}", md, re.M), section
    assert "| Flexibility | Attribute | Criterion or result | Method | Risk of later lots outside, or power |" in md
    assert "\n\n\n" not in md


def test_regenerating_from_a_saved_workbook_gives_the_same_content(tmp_path) -> None:  # noqa: ANN001
    from docx import Document

    store = store_with_decisions(tmp_path / "wb.json")
    first = build_record(Session.load(store.path), generated_at=WHEN)
    second = build_record(Session.load(store.path), generated_at=datetime(2027, 3, 4, 5, 6, 7, tzinfo=UTC))
    stamps = ("2026-12-01 09:30:00 UTC", "2027-03-04 05:06:07 UTC")

    def same(a: str, b: str) -> None:
        assert a != b and a.replace(stamps[0], "STAMP").replace("2026-12-01", "DAY") == \
            b.replace(stamps[1], "STAMP").replace("2027-03-04", "DAY")

    same(render_html(first), render_html(second))
    same(render_markdown(first), render_markdown(second))

    def text(record: DecisionRecord) -> str:
        doc = Document(io.BytesIO(render_docx(record)))
        return "\n".join([p.text for p in doc.paragraphs] + [c.text for t in doc.tables for r in t.rows
                                                             for c in r.cells])

    same(text(first), text(second))
    assert decision_table_xlsx(first) != b""


def test_the_preview_is_the_body_without_plotly(record: DecisionRecord) -> None:
    body = render_html(record, standalone=False)
    assert body.startswith("<article") and "Plotly" not in body and "<script" not in body
    assert "Interactive figure in the downloaded HTML report" in body


def test_a_decision_whose_data_set_is_gone_keeps_its_proposal(session: Session) -> None:
    record = build_record(session.without_dataset("car_t_lots"))
    assert len(record.proposals) == 2 and not record.figures
    assert all("no longer in the workbook" in p.figure_note for p in record.proposals)


def test_page_saved_workbook_is_verified_in_the_record(tmp_path) -> None:  # noqa: ANN001
    store = WorkbookStore(tmp_path / "wb.json")
    store.load()
    record = build_record(store.load())
    assert record.audit.verified and "The audit log is intact: 1 entry" in record.audit.verification


@pytest.mark.parametrize(("stage", "flag", "said"), [
    ("phase 1/2", True, "pivotal"), ("phase 1/2", False, "not pivotal"), ("phase 3", False, "pivotal"),
    ("pre-IND", True, None), ("BLA", True, None), ("post-approval", True, None)])
def test_the_pivotal_study_is_said_only_while_a_study_runs(stage: str, flag: bool, said: str | None) -> None:
    """Phase 3 is always pivotal; before and after the studies the flag a profile keeps says nothing."""
    profile = Session.example().profile.model_copy(update={"stage": Stage(stage), "pivotal": flag})
    fields = dict(build_record(Session.example().with_profile(profile), with_figures=False).product)
    assert fields.get("Current study", "").split(" (")[0] == (said or "")


def test_a_question_about_a_recorded_decision_speaks_of_what_it_decided() -> None:
    """The profile plans no change and counts 11 lots; the decisions compared a scale-up and a site
    transfer, and set a commercial criterion from their own lots: the questions say so."""
    from cgtkit.ui.commercial_specifications_model import CommercialSpecificationsModel
    from cgtkit.ui.comparability_model import ComparabilityModel

    session = Session.example()
    assert session.profile.change_description == ""
    comparison = ComparabilityModel(session)
    comparison.dataset = "aav_lots"
    comparison.change_types = ["scale", "site_transfer"]
    session = session.with_decision(comparison.decision("A scale-up at a new site."))
    criterion = CommercialSpecificationsModel(session).decision("From the v2 lots.")
    session = session.with_decision(criterion)
    questions = {q.flexibility_id: q for q in build_record(session, with_figures=False).questions}
    change = questions["CD-MINOR-CHANGES"]
    assert "scale-up or scale-out, manufacturing site transfer" in change.question and change.proposals
    assert "classes the change as major" in change.position and "no change planned" not in change.question
    spec = questions["CS-SPEC-FLEX-BLA"]
    assert f"the {criterion.n} lots" in spec.question and "of data set car_t_lots" in spec.question


def test_a_comparability_decision_is_drawn_before_and_after_with_its_quality_ranges() -> None:
    from cgtkit.record.figures import GROUP_COLOURS
    from cgtkit.ui.comparability_model import ComparabilityModel

    session = Session.example()
    model = ComparabilityModel(session)
    model.dataset = "aav_lots"
    model.change_types = ["scale"]
    decision = model.decision("A scale-up.")
    record = build_record(session.with_decision(decision))
    figures = {f.data.title.split(":")[0]: f.data for f in record.figures}
    titer = figures["Vector genome titer"]
    names = [t["name"] for t in titer.spec["data"]]
    assert names[:2] == [decision.pre_label, decision.post_label]
    colours = [t["marker"]["color"] for t in titer.spec["data"][:2]]
    assert colours == list(GROUP_COLOURS[:2])
    finding = next(f for f in decision.findings if f.attribute == "vector_genome_titer")
    limits = [t["y"][0] for t in titer.spec["data"] if t["name"].startswith("quality range")]
    assert limits == pytest.approx([finding.range_low, finding.range_high])
    assert "quality range: lower" in titer.caption
    assert "equivalence test" in figures["Relative potency"].caption  # compared by TOST: no range to draw
    drawn = {lot for t in titer.spec["data"][:2] for lot in t["text"]}
    assert drawn == set(decision.pre_lots) | set(decision.post_lots)
