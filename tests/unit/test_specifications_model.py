"""The specifications pages without a browser: the page models' results, then the views' handlers."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from cgtkit.errors import InsufficientDataError

from cgtkit import decisions
from cgtkit.decisions import CommercialCriterionDecision, InvestigationalCriteriaDecision, ToleranceBasis
from cgtkit.session import Session, WorkbookStore
from cgtkit.ui import clinical_development, commercial_specifications
from cgtkit.ui.clinical_development_model import ClinicalDevelopmentModel
from cgtkit.ui.commercial_specifications_model import CommercialSpecificationsModel
from cgtkit.ui.selection import LotSelection
from cgtkit.vocab import AttributeKind, DatasetKind, LotType

V1_FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "workbook_v1.json"


def commercial_page(store: WorkbookStore) -> commercial_specifications.CommercialSpecificationsView:
    return commercial_specifications.build_page(store)


def clinical_page(store: WorkbookStore) -> clinical_development.ClinicalDevelopmentView:
    return clinical_development.build_page(store)


def test_commercial_defaults_compute_candidates_and_replay(session: Session) -> None:
    model = CommercialSpecificationsModel(session)
    assert model.selection.dataset == "car_t_lots" and model.selection.lot_types == ["clinical", "ppq"]
    # issue #15.11: one process version by default, the latest with enough lots (v2: its 3 PPQ lots)
    assert model.selection.process_versions == ["v2"] and model.result.candidates.n == 3
    assert model.selection.version_options == [("v1 (24 lots)", "v1"), ("v2 (3 lots)", "v2")]
    assert "v2 only (3 lots" in model.selection.versions_note and model.selection.mixing_note == ""
    assert {str(v) for v in model.result.data.lots["process_version"]} == {"v2"}
    model.selection.choose_versions(["v1", "v2"])  # pooling is the user's explicit choice, with a warning
    assert "v1 (24 lots), v2 (3 lots)" in model.selection.mixing_note
    view = model.result
    assert view.candidates is not None and view.replay is not None
    assert view.candidates.n == 27
    decision = model.decision(model.default_justification())
    assert decision.process_versions == ("v1", "v2") and "process v1 and v2" in decision.justification
    assert isinstance(decision, CommercialCriterionDecision)
    assert decision.page == "commercial_specifications" and decision.flexibility_id == "CS-SPEC-FLEX-BLA"
    assert {r.horizon: r.probability for r in decision.risk}[100] == view.candidates.get("ti_99_95").risk[100]
    assert "601.12" in decision.justification
    chosen = view.candidates.get("ti_99_95")
    assert (decision.low, decision.high, decision.k, decision.candidate, decision.k_method) == (
        chosen.low, chosen.high, chosen.k, "ti_99_95", "exact")
    assert decision.lot_types == (LotType.CLINICAL, LotType.PPQ) and decision.n == 27 == len(decision.lot_ids)
    assert (decision.risk_basis, decision.reference, decision.method) == (
        chosen.risk_basis, chosen.reference, chosen.method)


def test_investigational_mode_proposes_every_attribute(session: Session) -> None:
    model = ClinicalDevelopmentModel(session)
    view = model.result
    assert {p.attribute for p in view.proposals} >= {"viability", "sterility", "vector_copy_number"}
    assert next(p for p in view.proposals if p.attribute == "sterility").basis == "fixed requirement"


def test_safety_attribute_has_no_computed_criterion(session: Session) -> None:
    model = CommercialSpecificationsModel(session)
    model.selection.attribute = "sterility"
    view = model.result
    assert view.fixed and view.candidates is None
    with pytest.raises(ValueError, match="fixed safety requirement"):
        model.decision("anything")


def test_empty_justification_is_refused(session: Session) -> None:
    model = CommercialSpecificationsModel(session)
    with pytest.raises(ValueError, match="Write a justification"):
        model.decision("   ")


def test_view_accept_records_decision_in_store(store: WorkbookStore) -> None:
    page = commercial_page(store)
    assert page.status.kind in ("", "info")
    page.panel.accept.click()
    assert page.panel.status.kind == "success", page.panel.status.text
    assert len(store.load().decisions_for("commercial_specifications")) == 1
    assert "Decisions recorded on this page: <b>1</b>" in page.panel.decisions.value


def test_view_bad_choice_keeps_previous_results(store: WorkbookStore) -> None:
    page = commercial_page(store)
    before = page.table.value
    assert before
    page.controls.lot_boxes["clinical"].value = False  # ppq only: 3 lots, still enough
    assert page.status.kind != "error", page.status.text
    three_lots = page.table.value
    assert "3 lots of type ppq" in three_lots
    assert page.model.result.candidates.n == 3
    # unticking the last box is refused: the box comes back on and the results stay
    page.controls.lot_boxes["ppq"].value = False
    assert page.controls.lot_boxes["ppq"].value is True and page.model.selection.lot_types == ["ppq"]
    assert page.status.kind == "error" and "at least one lot type" in page.status.text
    assert page.table.value == three_lots


def test_view_too_few_lots_keeps_previous_results(store: WorkbookStore) -> None:
    page = commercial_page(store)
    page.controls.attribute.value = "cd3_purity"
    shown = page.table.value
    page.controls.lot_boxes["clinical"].value = False
    page.controls.lot_boxes["engineering"].value = True
    page.controls.lot_boxes["ppq"].value = False  # 3 engineering lots: enough
    kept = page.model.result
    page.controls.dataset.value = "aav_lots"  # AAV: 2 engineering lots only for the first attribute
    assert page.status.kind == "error" and "only 2 lot" in page.status.text
    assert page.model.result is kept and "only 2 lot" in page.model.problem
    assert page.table.value != ""  # the last valid tables stay on screen
    assert shown


def test_view_edited_justification_is_kept_for_its_own_attribute(store: WorkbookStore) -> None:
    """Issue #15.9: an edit for viability is never recorded for another attribute (it used to follow the
    user to the next attribute); it comes back with its attribute, and a method change keeps it."""
    page = commercial_page(store)
    assert page.controls.attribute.value == "viability"
    mine = "My own words, citing the 99/95 tolerance interval."
    page.panel.justification.value = mine
    page.method.value = "howe"  # same attribute and criterion: the edit is kept
    assert page.panel.justification.value == mine and "kept" in page.panel.status.text
    page.controls.attribute.value = "cd3_purity"  # another attribute: its own fresh draft
    assert page.panel.justification.value != mine and "CD3+ purity" in page.panel.justification.value
    page.panel.accept.click()
    (recorded,) = store.load().decisions_for("commercial_specifications")
    assert recorded.attribute == "cd3_purity" and mine not in recorded.justification
    page.controls.attribute.value = "viability"  # back: the edit returns
    assert page.panel.justification.value == mine
    page.panel.redraft.click()
    assert page.panel.justification.value.startswith("Commercial acceptance criterion for Viability")


def test_view_safety_attribute_shows_fixed_requirement(store: WorkbookStore) -> None:
    page = clinical_page(store)
    page.controls.attribute.value = "sterility"
    assert "fixed safety requirement" in page.about.value
    assert page.panel.flexibility.value == "CD-SAFETY-ATTRIBUTES"
    assert page.status.kind != "error"


def _store_with(tmp_path, rows: str) -> WorkbookStore:
    from cgtkit.io import load_lots

    header = "lot_id,attribute,value,unit,lot_type,manufacture_date\n"
    csv = tmp_path / "crafted.csv"
    csv.write_text(header + rows)
    store = WorkbookStore(tmp_path / "crafted.json")
    base = Session().with_dataset("crafted", load_lots(csv), source="test")
    store.replace(base)
    return store


def _rows(attribute: str, unit: str, values: list[str]) -> str:
    return "".join(
        f"C{i:02d},{attribute},{v},{unit},clinical,2025-01-{i + 1:02d}\n" for i, v in enumerate(values)
    )


@pytest.mark.parametrize(
    ("attribute", "unit", "values", "message"),
    [
        ("potency", "%", ["101", "99"], "only 2 lot"),
        ("potency", "%", ["100", "100", "100", "100"], "variab"),
        ("residual_hcdna", "ng/dose", ["<10", "<10", "<10", "<10"], "censored"),
        ("vector_copy_number", "copies/transduced cell", ["1.2", "0", "2.1", "1.7"], "positive"),
    ],
)
def test_page_shows_clear_message_for_unusable_data(tmp_path, attribute, unit, values, message) -> None:
    store = _store_with(tmp_path, _rows(attribute, unit, values) + _rows("viability", "%", ["88", "91", "86", "90"]))
    page = commercial_page(store)  # opens on the first attribute with usable data
    page.controls.attribute.value = attribute
    assert page.status.kind == "error"
    assert re.search(message, page.status.text), page.status.text
    assert "Traceback" not in page.status.text
    assert "previous selection" in page.status.text  # the last valid results stay on screen


def test_commercial_view_safety_attribute_clears_computed_outputs(store: WorkbookStore) -> None:
    page = commercial_page(store)
    assert page.candidate.options  # candidates for viability
    page.controls.attribute.value = "sterility"
    assert page.status.kind != "error", page.status.text
    assert "fixed safety requirement" in page.about.value
    assert page.table.value == "" and page.candidate.options == ()
    assert page.risk_out.outputs == () and page.lots_out.outputs == ()
    page.panel.accept.click()
    assert page.panel.status.kind == "error" and "no computed criterion" in page.panel.status.text
    page.controls.attribute.value = "viability"  # and back: candidates return
    assert page.candidate.value == "ti_99_95"


def test_lots_table_shows_censored_and_pass_fail_results(store: WorkbookStore) -> None:
    page = clinical_page(store)
    page.controls.attribute.value = "endotoxin"
    assert "&lt;0.5" in page.lots_table.value and "27 lots of this selection" in page.lots_table.value
    page.controls.attribute.value = "sterility"
    assert ">pass<" in page.lots_table.value


def test_accept_all_investigational_proposals(store: WorkbookStore) -> None:
    page = clinical_page(store)
    page.controls.attribute.value = "cd3_purity"
    page.accept_all.click()
    assert page.panel.status.kind == "success", page.panel.status.text
    recorded = store.load().decisions_for("clinical_development")
    (decision,) = recorded  # accept all is one decision: a set of criteria
    assert isinstance(decision, InvestigationalCriteriaDecision)
    by_attr = {c.attribute: c.flexibility_id for c in decision.criteria}
    assert by_attr["viability"] == "CD-RELEASE-PERMISSIVE" and by_attr["sterility"] == "CD-SAFETY-ATTRIBUTES"
    assert len(decision.criteria) == len(page.controls.attribute.options)
    assert page.controls.attribute.value == "cd3_purity" == page.model.selection.attribute  # the choice is kept
    assert f"Decisions recorded on this page: <b>1</b> ({len(decision.criteria)} criteria)" in page.panel.decisions.value
    page.accept_all.click()  # again: the new set replaces the first, one decision per attribute
    (again,) = store.load().decisions_for("clinical_development")
    assert again.id != decision.id and len(again.superseded) == 1 and "replaces" in page.panel.status.text


def test_a_recorded_decision_can_be_removed(store: WorkbookStore) -> None:
    page = commercial_page(store)
    assert page.panel.remove_box.layout.display == "none"
    page.panel.accept.click()
    page.controls.attribute.value = "cd3_purity"
    page.panel.accept.click()
    assert len(store.load().decisions_for("commercial_specifications")) == 2
    newest = store.load().decisions_for("commercial_specifications")[-1]
    assert newest.attribute == "cd3_purity"
    assert "CD3+ purity" in page.panel.remove_choice.label and page.panel.remove_choice.value == newest.id
    page.panel.remove_button.click()  # asks first, naming the decision
    assert page.panel.status.kind == "warning" and page.panel.remove_choice.label in page.panel.status.text
    page.panel.cancel_remove.click()
    assert len(store.load().decisions_for("commercial_specifications")) == 2  # declined: nothing removed
    page.panel.remove_button.click()
    page.panel.confirm_remove.click()
    assert page.panel.status.kind == "success"
    left = store.load().decisions_for("commercial_specifications")
    assert [d.attribute for d in left] == ["viability"]
    assert "Decisions recorded on this page: <b>1</b>" in page.panel.decisions.value


def test_accepting_one_investigational_attribute_records_a_set_of_one(session: Session) -> None:
    model = ClinicalDevelopmentModel(session)
    model.selection.attribute = "vector_copy_number"
    view = model.result
    decision = model.decision("VCN as a safety attribute.", "CD-SAFETY-ATTRIBUTES")
    assert isinstance(decision, InvestigationalCriteriaDecision) and decision.page == "clinical_development"
    (c,) = decision.criteria
    p = view.proposal
    assert (c.attribute, c.low, c.high, c.next_lot_outside) == ("vector_copy_number", p.low, p.high, p.next_lot_outside)
    assert c.flexibility_id == "CD-SAFETY-ATTRIBUTES" and c.tolerance == ToleranceBasis(coverage=0.99, confidence=0.95)
    assert decision.method == "normal tolerance interval TI 99%/95%, exact k"
    assert decision.lot_types == (LotType.ENGINEERING, LotType.CLINICAL) and c.n == view.data.n == len(c.lot_ids)
    model.selection.attribute = "sterility"
    fixed = model.decision("Fixed.").criteria[0]
    assert fixed.attribute_kind is AttributeKind.SAFETY_FIXED and fixed.tolerance is None and fixed.fixed_requirement


def test_accept_all_is_one_set_with_every_draft(session: Session) -> None:
    model = ClinicalDevelopmentModel(session)
    decision = model.all_proposals_decision()
    labels = [c.attribute for c in decision.criteria]
    assert {"viability", "cd3_purity", "sterility"} <= set(labels) and len(labels) == len(set(labels))
    assert decision.justification.count("Investigational release criterion for ") == len(labels)
    assert decision.method == "normal tolerance interval TI 99%/95%, exact k; fixed requirement"
    assert decision.flexibility_ids == ("CD-RELEASE-PERMISSIVE", "CD-SAFETY-ATTRIBUTES")
    # "accept all" exists on the investigational page only (two pages, no mode switch)
    assert not hasattr(CommercialSpecificationsModel, "all_proposals_decision")


def test_dataset_options_follow_the_kind_not_the_name(session: Session) -> None:
    renamed = Session().with_dataset("lots_stability", session.dataset_frame("car_t_lots"), source="t") \
        .with_dataset("study", session.dataset_frame("car_t_stability"), source="t")
    assert renamed.datasets["study"].kind is DatasetKind.STABILITY
    assert LotSelection(renamed, ["clinical"]).dataset_options == ["lots_stability"]


def test_decisions_table_is_rendered_by_the_decisions_module(store: WorkbookStore) -> None:
    page = commercial_page(store)
    page.panel.accept.click()
    (decision,) = store.load().decisions_for("commercial_specifications")
    (row,) = decisions.rows(decision)
    table = page.panel.decisions.value
    assert all(f"<th>{html.escape(h)}</th>" in table for h in decisions.COLUMNS.values())
    assert all(html.escape(v, quote=True) in table for k, v in row.items() if k != "decision_id")
    assert html.escape(decisions.summary(decision), quote=True) in table
    assert page.panel.remove_choice.label == decisions.label(decision)


def test_a_v1_workbook_opens_on_the_pages_and_its_decisions_can_be_removed(tmp_path) -> None:
    store = WorkbookStore(tmp_path / "wb.json")
    store.replace(Session.load(V1_FIXTURE))
    page = clinical_page(store)
    assert page.model.selection.dataset == "aav_lots" and page.model.selection.dataset_options == ["aav_lots"]
    assert "Decisions recorded on this page: <b>10</b>" in page.panel.decisions.value
    oldest = store.load().decisions_for("clinical_development")[0]
    page.panel.remove_choice.value = oldest.id
    page.panel.remove_button.click()
    page.panel.confirm_remove.click()
    assert page.panel.status.kind == "success"
    assert oldest.id not in {d.id for d in store.load().decisions}
    assert "Decisions recorded on this page: <b>9</b>" in page.panel.decisions.value


def test_drafts_follow_the_profile_stage_and_vcn_is_a_safety_attribute(session: Session) -> None:
    """Issue #15.13: the draft named "the pre-IND or an INTERACT meeting" at any stage, and accept all
    filed vector copy number under permissive criteria although the page calls it a safety attribute."""
    from cgtkit.profile import ProductProfile

    phase2 = session.with_profile(ProductProfile.build(stage="phase 2"))
    model = ClinicalDevelopmentModel(phase2)
    assert "end-of-phase 2 meeting" in model.default_justification() and "pre-IND" not in model.default_justification()
    by_attr = {c.attribute: c.flexibility_id for c in model.all_proposals_decision().criteria}
    assert by_attr["vector_copy_number"] == "CD-SAFETY-ATTRIBUTES" == by_attr["sterility"]
    assert by_attr["viability"] == "CD-RELEASE-PERMISSIVE"
    model.selection.attribute = "vector_copy_number"
    assert model.default_flexibility() == "CD-SAFETY-ATTRIBUTES"
    approved = session.with_profile(ProductProfile.build(stage="post-approval", lots_made={"commercial": 30}))
    assert "Type C meeting" in CommercialSpecificationsModel(approved).default_justification()
    assert "pre-BLA meeting" in CommercialSpecificationsModel(phase2).default_justification()


def test_versions_follow_lot_types_until_chosen_and_the_replay_marks_changes(session: Session) -> None:
    """Issue #15.11: the default version follows the lot types until the user picks one; the replay
    (all lot types of the chosen versions) names where the version changes."""
    model = CommercialSpecificationsModel(session)
    sel = model.selection
    sel.lot_types = ["engineering", "clinical"]
    assert sel.process_versions == ["v1"] and sel.version_options == [("v1 (27 lots)", "v1")]
    sel.lot_types = ["clinical", "ppq"]
    assert sel.process_versions == ["v2"]
    assert model.result.replay.version_changes == ()  # v2 only: PPQ then commercial lots
    sel.choose_versions(["v1"])
    sel.lot_types = ["clinical", "ppq", "commercial"]
    assert sel.process_versions == ["v1"]  # the user's choice is kept
    sel.choose_versions(["v1", "v2"])
    changes = model.result.replay.version_changes
    assert [(c.before, c.after, c.position) for c in changes] == [("v1", "v2", 28)]
    assert "v1 to v2 at lot 28" in model.result.replay.version_note
    with pytest.raises(InsufficientDataError, match="at least one process version"):
        sel.choose_versions([])
    sel.dataset = "aav_lots"  # another data set: its own default, the latest version with 3 lots or more
    assert sel.process_versions == ["v2"]  # 2 PPQ + 6 commercial lots
    sel.lot_types = ["clinical", "ppq"]
    assert sel.process_versions == ["v1"]  # v2 has 2 PPQ lots only: too few for limits


def test_version_boxes_pool_with_a_warning_and_refuse_none(store: WorkbookStore) -> None:
    page = commercial_page(store)
    boxes = page.controls.version_boxes
    assert list(boxes) == ["v1", "v2"] and [b.value for b in boxes.values()] == [False, True]
    assert "cgt-msg-info" in page.controls.version_note.value
    boxes["v1"].value = True
    assert page.model.result.candidates.n == 27 and "cgt-msg-warning" in page.controls.version_note.value
    assert "v1 to v2" in page.replay.value
    boxes["v1"].value = False
    boxes["v2"].value = False  # the last one is refused
    assert boxes["v2"].value is True and "at least one process version" in page.status.text
    assert page.model.result.candidates.n == 3


def test_results_of_an_earlier_selection_are_never_recorded(store: WorkbookStore) -> None:
    """Walk-through finding: after a selection that gives no results, 'Accept' recorded the previous
    selection's criterion with the current selection's lot types."""
    page = commercial_page(store)
    page.controls.attribute.value = "cd3_purity"
    page.controls.lot_boxes["engineering"].value = True
    page.controls.lot_boxes["clinical"].value = False
    page.controls.lot_boxes["ppq"].value = False
    page.controls.dataset.value = "aav_lots"  # no cd3 purity: a message, the previous results stay
    assert page.model.problem
    page.panel.accept.click()
    assert "previous selection" in page.panel.status.text and page.panel.status.kind == "error"
    assert not store.load().decisions_for("commercial_specifications")


def test_a_row_without_a_proposed_limit_shows_no_risk() -> None:
    """Walk-through finding: 'needs attention' rows still showed 'next lot outside 1.5%'."""
    from cgtkit.analyses.specifications import InvestigationalProposal
    from cgtkit.ui.clinical_development import proposals_table_html

    p = InvestigationalProposal(attribute="viability", label="Viability", unit="%", kind=AttributeKind.QUANTITATIVE,
                                n=3, low=0.0, high=None, basis="TI 99%/95%", rationale="r", next_lot_outside=0.015,
                                problem="the limit fell past the physical bound", at_bound=())
    html = proposals_table_html((p,), "viability")
    assert "1.5%" not in html and "needs attention" in html
