"""The Process validation page without a browser: defaults on the example workbook, the specification from
an accepted commercial criterion, each approach's numbers on screen, the two decisions (accepting again
replaces), the concurrent-release planner, and bad inputs that keep the previous results with a message
(issue #19).

The AAV example (synthetic) holds no specification. The tests use two: the commercial criterion the
Commercial specifications page proposes by default (accepted there, as a user would), and 50-150 % of
reference entered here; both are illustrations, not proposed limits.
"""

from __future__ import annotations

import io

import pandas as pd
import pytest

from cgtkit import decisions
from cgtkit.decisions import CommercialCriterionDecision, ConcurrentReleaseDecision, PpqLotCountDecision
from cgtkit.io import load_lots
from cgtkit.session import Session, WorkbookStore
from cgtkit.ui import process_validation
from cgtkit.ui.commercial_specifications_model import CommercialSpecificationsModel
from cgtkit.ui.process_validation_model import ProcessValidationModel
from cgtkit.vocab import Stage


def _store(tmp_path, session: Session) -> WorkbookStore:  # noqa: ANN001
    store = WorkbookStore(tmp_path / "wb.json")
    store.replace(session)
    return store


def _accept_commercial(session: Session, dataset: str, attribute: str) -> tuple[Session, CommercialCriterionDecision]:
    """Accept the Commercial specifications page's default criterion, as a user would there."""
    page = CommercialSpecificationsModel(session)
    page.selection.dataset = dataset
    page.selection.attribute = attribute
    decision = page.decision(page.default_justification())
    return session.with_decision(decision), decision


def _aav_potency(tmp_path, session: Session):  # noqa: ANN001, ANN202
    """The page on the AAV example's relative potency with 50-150 % of reference entered."""
    view = process_validation.build_page(_store(tmp_path, session))
    view.controls.dataset.value = "aav_lots"
    view.controls.attribute.value = "relative_potency"
    view.lower.value, view.upper.value = "50", "150"
    return view


def _csv(rows: list[str]) -> pd.DataFrame:
    header = "lot_id,attribute,value,unit,lot_type,manufacture_date,process_version"
    return load_lots(io.BytesIO(("\n".join([header, *rows]) + "\n").encode()), name="lots.csv")


# ---------------------------------------------------------------------------
# Defaults
# ---------------------------------------------------------------------------


def test_defaults_ask_for_a_specification_and_prefill_the_planner(session: Session) -> None:
    m = ProcessValidationModel(session)
    assert (m.selection.dataset, m.selection.attribute) == ("car_t_lots", "viability")
    assert m.selection.lot_types == ["engineering", "clinical"]
    assert m.result is None and m.problem_kind == "info"  # waiting for a specification is not an error
    assert m.problem.startswith("Capability and the number of PPQ lots appear once Viability has a specification")
    assert "No specification for Viability yet" in m.spec_note
    assert m.n_planned == 3 and "holds 3 PPQ lots" in m.planned_note  # from the data, not a convention
    # the example profile: an autologous CAR-T in phase 1
    assert (m.stage, m.bla_approved, m.ind_in_effect, m.change_needs_pas) == ("phase 1", "no", "yes", "")
    assert "Prefilled from your product profile: stage phase 1" in m.prefill_note
    assert m.plan.route == "hold_until_complete" and m.plan_problem == ""


def test_the_accepted_commercial_criterion_is_the_default_specification(session: Session) -> None:
    session, accepted = _accept_commercial(session, "aav_lots", "relative_potency")
    m = ProcessValidationModel(session)
    # the page opens where the criterion was accepted, with its limits
    assert (m.selection.dataset, m.selection.attribute) == ("aav_lots", "relative_potency")
    assert (float(m.lower), float(m.upper)) == pytest.approx((accepted.low, accepted.high), rel=1e-5)
    assert m.spec_note.startswith("Specification used: 78.1 to 137.4 % of reference, the commercial criterion "
                                  "you accepted on the Commercial specifications page")
    r = m.result
    assert m.problem == "" and r.spec.source == "accepted_criterion" and m.n_planned == 2
    cap = r.overview.development.capability
    assert r.overview.development.n == 10 and cap.ppk == pytest.approx(1.411, abs=1e-3)
    assert {a.approach: a.n for a in r.overview.approaches} == {
        "success_run": 59, "capability": 19, "expected_coverage": 19, "tolerance_coverage": 12}
    # the AAV example's 2 PPQ lots against this criterion: a clear statement that they are too few
    rec = r.recommendation
    assert rec.n == 9 and rec.supported is False and rec.basis == "statistics"
    assert rec.statement.startswith("The data do not support fewer than 9 lots; 2 are planned. Relative potency: "
                                    "Capability (Ppk > 1.00) needs 19 lots in all; the 10 development lots count")
    assert any("another process version" in n for n in rec.notes)  # PPQ lots v2, development lots v1
    # typed limits that differ from the criterion are said to be entered; the button brings the criterion back
    m.upper = "150"
    assert m.result.spec.source == "entered" and "the accepted commercial criterion is 78.1 to 137.4" in m.spec_note
    m.use_accepted()
    assert m.result.spec.source == "accepted_criterion" and m.upper == "137.404"


def test_aav_potency_two_lots_are_justified_and_every_approach_is_on_screen(tmp_path, session: Session) -> None:
    view = _aav_potency(tmp_path, session)
    assert view.status.text == "" and view.model.result.spec.source == "entered"
    assert "Specification used: the limits entered here (no commercial criterion accepted" in view.spec_note.value
    approaches = view.approaches.value
    for text in ("Success run (95% reliability)", "Capability (Ppk &gt; 1.00)", "Expected coverage of the range (90%)",
                 "Tolerance interval inside spec (99%/95%)", "Residual risk (your assessment)",
                 "Probability that all 2 planned lots pass", "9.8%", "33.3%", "&gt;99.9%"):
        assert text in approaches, text  # 9.8%: success-run confidence at 2 lots; 33.3%: range of 2 lots
    # success run and expected coverage: not counted, so greyed (shown for comparison)
    assert "<td class=\"num cgt-muted cgt-not-counted\">59</td>" in approaches
    assert "<td class=\"num cgt-muted cgt-not-counted\">19</td>" in approaches
    assert "Ppk 2.17" not in view.capability.value and "2.17" in view.capability.value
    assert "generalized confidence interval" in view.capability.value and "The 2 PPQ lots alone" in view.capability.value
    rec = view.model.result.recommendation
    assert (rec.n, rec.basis, rec.supported) == (2, "minimum", True)
    assert "The data support the 2 lots planned." in view.recommendation.value
    assert "Number of PPQ lots: 2." in view.recommendation.value and "59 lots to show 95% reliability" in rec.protocol_text
    assert "Relative potency" in view.attributes.value and "cgt-row-current" in view.attributes.value
    assert "all 2 PPQ lots pass" in view.map_note.value and len(view.map_out.outputs) == 1
    assert all(len(out.outputs) == 1 for out in (view.capability_out, view.lots_out))
    assert view.model.result.pass_map.grid.probability.shape == (50, 50)
    draft = view.lot_panel.justification.value
    assert draft.startswith("The data support the 2 lots planned.") and "Process knowledge." in draft


def test_not_counting_development_lots_and_more_planned_lots(tmp_path, session: Session) -> None:
    view = _aav_potency(tmp_path, session)
    view.count_development.value = False
    rec = view.model.result.recommendation
    assert rec.n == 6 and rec.supported is False  # capability and the tolerance interval on PPQ lots alone
    assert "The data do not support fewer than 6 lots; 2 are planned." in view.recommendation.value
    view.planned.value = 6
    assert view.model.result.recommendation.supported and "Probability that all 6 planned lots pass" in \
        view.approaches.value
    view.counted["capability"].value = False
    view.counted["tolerance_coverage"].value = False
    assert view.model.result.recommendation.basis == "minimum" and view.model.counted == []


def test_every_attribute_with_a_specification_enters_the_number(tmp_path, session: Session) -> None:
    session, _ = _accept_commercial(session, "aav_lots", "relative_potency")
    view = process_validation.build_page(_store(tmp_path, session))
    view.controls.attribute.value = "vector_genome_titer"
    view.lower.value, view.upper.value = "5e12", "2.5e13"
    r = view.model.result
    assert [o.attribute for o in r.overviews] == ["vector_genome_titer", "relative_potency"]
    assert [n.ppq_needed for n in r.recommendation.needs] == [12, 9]
    assert r.recommendation.n == 12 and "Vector genome titer: Capability (Ppk &gt; 1.00) needs 22 lots" in \
        view.recommendation.value
    assert "5×10¹² to 2.5×10¹³ vg/mL (entered)" in view.attributes.value  # numbers as m×10ⁿ


# ---------------------------------------------------------------------------
# Decisions
# ---------------------------------------------------------------------------


def test_accepting_the_lot_count_records_a_typed_decision_and_accepting_again_replaces_it(
        tmp_path, session: Session) -> None:
    view = _aav_potency(tmp_path, session)
    view.lot_panel.accept.click()
    assert view.lot_panel.status.kind == "success"
    view.planned.value = 3
    view.lot_panel.redraw_draft(force=True)
    view.lot_panel.accept.click()
    saved = [d for d in view.store.load().decisions if d.page == "process_validation"]
    assert len(saved) == 1 and isinstance(saved[0], PpqLotCountDecision) and len(saved[0].superseded) == 1
    d = saved[0]
    assert (d.n_lots, d.recommended, d.recommendation_basis, d.supported) == (3, 2, "minimum", True)
    assert d.dataset == "aav_lots" and d.count_development and d.subjects == ("ppq_lot_count:aav_lots",)
    (f,) = d.findings
    assert (f.attribute, f.lower, f.upper, f.spec_source, f.n) == ("relative_potency", 50.0, 150.0, "entered", 10)
    assert f.ppk == pytest.approx(2.173, abs=1e-3) and f.ppq_needed == 0
    assert {a.approach: (a.n_needed, a.counted) for a in f.approaches} == {
        "success_run": (59, False), "capability": (6, True), "expected_coverage": (19, False),
        "tolerance_coverage": (6, True)}
    assert decisions.summary(d).startswith("PPQ of 3 lots, supported (the data support 2), from Relative potency")
    (row,) = decisions.rows(d)
    assert row["criterion"] == ("3 PPQ lots against 50 to 150 % of reference; the targets need no PPQ lots beyond "
                                "the development lots")
    assert "lots needed: success run 59, capability 6*, expected coverage 19, tolerance interval 6*" in row["method"]
    assert "Decisions recorded on this page: <b>1</b>" in view.lot_panel.decisions.value
    assert "Decisions recorded" not in view.release_panel.decisions.value  # each panel lists its own kind


def test_the_residual_risk_number_is_the_users_and_is_recorded(tmp_path, session: Session) -> None:
    view = _aav_potency(tmp_path, session)
    r = view.risk_widgets
    for area in ("product_knowledge", "process_understanding", "control_strategy"):
        r[area].value = "medium"
        r[f"{area}_rationale"].value = "Platform AAV process, 10 lots made."
    assert "highest of your three ratings is <b>medium</b>" in view.suggestion.value
    r["overall"].value = "medium"
    r["overall_rationale"].value = "All three areas medium."
    r["lots_medium"].value = 3
    view.mapping_why.value = "Company PPQ policy SOP-123."
    assert view.model.result.residual_risk is None  # not used until ticked
    view.use_assessment.value = True
    rec = view.model.result.recommendation
    assert (rec.n, rec.basis, rec.supported) == (3, "residual_risk", False)
    assert "Your residual-risk assessment (medium) maps to 3 lots" in rec.statement
    assert "SOP-123" in view.approaches.value and "Residual risk. Your assessment" in rec.protocol_text
    view.planned.value = 3
    view.lot_panel.redraw_draft(force=True)
    view.lot_panel.accept.click()
    d = view.store.load().decisions[-1]
    assert d.residual_risk is not None and d.residual_risk.n == 3 and d.residual_risk.lots_by_level == {"medium": 3}
    assert any(row["attribute"] == "Residual risk (the process)" for row in decisions.rows(d))


def test_planner_routes_and_the_release_decision(tmp_path, session: Session) -> None:
    view = process_validation.build_page(_store(tmp_path, session))
    assert "Route: Hold the lot until the PPQ protocol is complete" in view.route.value
    view.stage.value = "phase 3"
    view.answers["meets_ind_criteria"].value = "yes"
    view.answers["protocol_provides"].value = "yes"
    view.steps.value = "6-month PPQ stability time point"
    view.release_lots.value = "AV25-03, AV25-04"
    assert view.model.plan.route == "clinical_use_under_ind"
    assert "Route: Clinical use under the IND" in view.route.value
    assert "cgt-conditions-commercial_concurrent_release" in view.route.value and "Regulation" in view.route.value
    assert view.release_panel.flexibility.value == "PV-PPQ-CLINICAL-USE"
    view.release_panel.accept.click()
    view.release_panel.accept.click()  # accepting again replaces
    saved = [d for d in view.store.load().decisions if d.kind == "concurrent_release"]
    assert len(saved) == 1 and isinstance(saved[0], ConcurrentReleaseDecision) and len(saved[0].superseded) == 1
    d = saved[0]
    assert (d.route, d.lots, d.stage, d.bla_approved) == ("clinical_use_under_ind", ("AV25-03", "AV25-04"),
                                                          "phase 3", False)
    statuses = {c.id: c.status for c in d.conditions}
    assert statuses["bla_approved"] == "unmet" and statuses["meets_ind_criteria"] == "met"
    assert decisions.summary(d).startswith("PPQ lots AV25-03, AV25-04: clinical use under the IND; commercial route")
    # after approval, with a change that needs a prior-approval supplement not yet approved: never commercial
    view.stage.value = "post-approval"
    for q in ("meets_commercial_spec", "within_shelf_life", "change_needs_pas"):
        view.answers[q].value = "yes"
    view.answers["pas_approved"].value = "no"
    view.answers["ind_in_effect"].value = "no"
    assert view.model.bla_approved == "yes" and view.model.plan.route == "hold_until_complete"
    view.answers["pas_approved"].value = "yes"
    assert view.model.plan.route == "commercial_concurrent_release"
    assert "FDA may consider allowing it" in view.route.value
    # answers that contradict each other: a message, the route stays
    view.answers["bla_approved"].value = "no"
    assert view.plan_status.kind == "error" and "post-approval" in view.plan_status.text
    assert view.model.plan.route == "commercial_concurrent_release"
    view.release_panel.accept.click()
    assert view.release_panel.status.kind == "error" and "Answer the questions consistently" in \
        view.release_panel.status.text


def test_a_post_approval_profile_prefills_the_supplement_question(session: Session) -> None:
    profile = session.profile.model_copy(update={
        "stage": "post-approval", "lots_made": session.profile.lots_made.model_copy(update={"commercial": 5}),
        "reporting_category": "prior_approval"})
    m = ProcessValidationModel(session.with_profile(profile))
    assert (m.stage, m.bla_approved, m.change_needs_pas, m.ind_in_effect) == ("post-approval", "yes", "yes", "")
    assert m.plan.status_of("pas_approved").value == "unknown"  # commercial release waits for the supplement


def test_a_criterion_accepted_on_another_page_is_followed(tmp_path, session: Session) -> None:
    store = _store(tmp_path, session)
    view = process_validation.build_page(store)
    view.controls.dataset.value = "aav_lots"
    view.controls.attribute.value = "relative_potency"
    assert view.model.result is None
    _, accepted = _accept_commercial(store.load(), "aav_lots", "relative_potency")
    store.update(lambda s: s.with_decision(accepted))
    view.on_show()
    assert view.model.result is not None and view.model.result.spec.source == "accepted_criterion"
    assert view.use_accepted.layout.display == "flex" and view.status.text == ""


# ---------------------------------------------------------------------------
# Bad inputs: a clear message, the previous results kept
# ---------------------------------------------------------------------------


def test_lower_above_upper_and_no_specification(tmp_path, session: Session) -> None:
    view = _aav_potency(tmp_path, session)
    shown = view.approaches.value
    view.lower.value = "200"
    assert view.status.kind == "error"
    assert view.status.text.startswith("Relative potency: The lower specification limit (200) is above the upper "
                                       "limit (150). Swap them")
    assert "still show the previous result (Relative potency, 10 lots)" in view.status.text
    assert view.approaches.value == shown
    view.lower.value = "50"
    view.upper.value = ""  # one limit left: a one-sided specification
    assert view.status.text == "" and view.model.result.overview.development.capability.sided == 1
    shown = view.approaches.value
    view.lower.value = ""
    assert view.status.kind == "error" and "No specification for Relative potency" in view.status.text
    assert view.approaches.value == shown
    view.lower.value = "fifty"
    assert "the lower limit 'fifty' is not a number" in view.status.text
    view.lower.value, view.upper.value = "50", "150"
    assert view.status.text == ""


def test_a_single_lot_and_zero_variance(tmp_path) -> None:
    rows = ["E1,potency,100,%,engineering,2024-01-01,v1"]
    rows += [f"C{i},potency,{v},%,clinical,2024-02-0{i},v1" for i, v in enumerate((96, 103, 99, 105), start=1)]
    rows += [f"P{i},potency,{v},%,ppq,2024-03-0{i},v1" for i, v in enumerate((101, 98), start=1)]
    rows += [f"{lot},flat_assay,7.0,U,{kind},2024-0{m}-0{d},v1" for lot, kind, m, d in (
        ("E1", "engineering", 1, 1), ("C1", "clinical", 2, 1), ("C2", "clinical", 2, 2), ("C3", "clinical", 2, 3))]
    view = process_validation.build_page(_store(tmp_path, Session().with_dataset("mine", _csv(rows), "test")))
    view.controls.attribute.value = "potency"
    view.lower.value, view.upper.value = "80", "120"
    assert view.status.text == "" and view.model.result.overview.development.n == 5
    shown = view.approaches.value
    view.controls.lot_boxes["clinical"].value = False  # engineering only: one lot
    assert view.status.kind == "error" and "potency: 1 lot(s) with a numeric result" in view.status.text
    assert "capability needs at least 2" in view.status.text and view.approaches.value == shown
    view.controls.lot_boxes["clinical"].value = True
    assert view.status.text == ""
    view.controls.attribute.value = "flat_assay"
    view.lower.value, view.upper.value = "5", "9"
    assert view.status.kind == "error" and "identical" in view.status.text and "lot-to-lot SD is 0" in view.status.text
    assert view.approaches.value == shown and "previous result (potency, 5 lots)" in view.status.text


def test_an_incomplete_residual_risk_assessment(tmp_path, session: Session) -> None:
    view = _aav_potency(tmp_path, session)
    shown = view.approaches.value
    view.risk_widgets["product_knowledge"].value = "low"
    view.use_assessment.value = True
    text = view.status.text
    assert view.status.kind == "error" and text.startswith("The residual-risk assessment is incomplete: ")
    for fragment in ("Product knowledge: say why", "Process understanding: choose", "Overall residual risk: choose",
                     "Your mapping: say why"):
        assert fragment in text
    assert view.approaches.value == shown
    view.use_assessment.value = False
    assert view.status.text == ""


def test_heat_map_settings(tmp_path, session: Session) -> None:
    view = _aav_potency(tmp_path, session)
    assert view.between_sd.disabled and view.k_interval.disabled  # one result per lot
    view.criterion.value = "interval"
    assert view.status.kind == "error" and "needs at least 2 results per lot" in view.status.text
    view.n_per_lot.value = 10
    assert view.status.text == "" and view.model.result.k == pytest.approx(2.373, abs=1e-3)  # PPQplan's pi_pp k
    assert "k = 2.373" in view.map_note.value and not view.between_sd.disabled
    view.between_sd.value = 2.0
    assert "between-lot SD 2" in view.model.result.pass_map.grid.method


# ---------------------------------------------------------------------------
# Walk-through fixes: the page never contradicts itself
# ---------------------------------------------------------------------------


def _car_t_unsupported(tmp_path, session: Session):  # noqa: ANN001, ANN202
    """CAR-T viability >= 70 % and CD3+ purity >= 90 % (illustrative limits), PPQ lots alone: CD3+ purity's Ppk
    (1.00) cannot be shown above 1.00 by any number of lots, and viability would need 13 PPQ lots."""
    view = process_validation.build_page(_store(tmp_path, session))
    view.lower.value = "70"
    view.controls.attribute.value = "cd3_purity"
    view.lower.value = "90"
    view.count_development.value = False
    return view


def test_an_unsupported_number_is_never_called_justified(tmp_path, session: Session) -> None:
    view = _car_t_unsupported(tmp_path, session)
    rec = view.model.result.recommendation
    assert (rec.n, rec.n_planned) == (None, 3) and "No number of PPQ lots is supported yet" in view.recommendation.value
    for text in (rec.protocol_text, view.lot_panel.justification.value, view.recommendation.value):
        assert "justified" not in text and "Number of PPQ lots: 3." not in text
        assert "rests on" not in text  # no "the number therefore rests on ..." either
    assert rec.protocol_text.startswith("Number of PPQ lots planned: 3, not supported by the data. The data do not "
                                        "yet support 3 lots. Viability would need 13 PPQ lots: Capability")
    assert "CD3+ purity: no number of lots reaches Capability (Ppk &gt; 1.00)" in view.recommendation.value
    assert "The options: (1) improve the process" in rec.protocol_text
    assert "it is not a justification of the number" in view.lot_panel.justification.value
    assert "the data do not yet support the 3 planned, and it says so" in view.recommendation.value
    # accepted anyway (the user's call), the record says plainly that the data do not support it
    view.lot_panel.accept.click()
    d = view.store.load().decisions[-1]
    assert isinstance(d, PpqLotCountDecision) and (d.n_lots, d.recommended, d.supported) == (3, None, False)
    assert decisions.summary(d).startswith(
        "PPQ of 3 lots, NOT supported by the data (they support no number of PPQ lots yet; Viability: needs 13 PPQ "
        "lots; CD3+ purity: no number of lots reaches the targets)")
    criteria = [row["criterion"] for row in decisions.rows(d)]
    assert criteria[0].endswith("the targets need 13 PPQ lots: 3 not supported")
    assert criteria[1].endswith("no number of lots reaches the targets: 3 not supported")
    assert dict(decisions.facts(d))["Supported by the data"].startswith("NOT supported by the data")
    # a reachable number above the plan: the text names it as an option, never as a justification of 3
    view.lower.value = "70"
    rec = view.model.result.recommendation
    assert (rec.n, rec.supported) == (13, False) and "justified" not in rec.protocol_text
    assert "(1) plan at least 13 lots" in rec.protocol_text
    assert "Not supported: 3 planned, the data need at least 13 PPQ lots" in view.recommendation.value
    view.planned.value = 13
    assert view.model.result.recommendation.protocol_text.startswith("Number of PPQ lots: 13. FDA has set no "
                                                                     "minimum number of PPQ lots; the number below "
                                                                     "is justified")


def test_uncounted_approaches_are_marked_and_greyed(tmp_path, session: Session) -> None:
    view = _aav_potency(tmp_path, session)
    html = view.approaches.value
    assert "<th>Counted</th>" in html
    assert "The number rests on Capability (Ppk &gt; 1.00), Tolerance interval inside spec (99%/95%)" in html
    success = html[html.index("Success run (95% reliability)"):]
    success = success[:success.index("</tr>")]
    assert "no: for comparison" in success and "cgt-not-counted" in success  # 59 lots shown, not required
    capability = html[html.index("Capability (Ppk &gt; 1.00)</td>"):]
    assert "cgt-not-counted" not in capability[:capability.index("</tr>")]
    legend = [t.get("name") for t in view.lots_out.outputs[0]["data"]["application/vnd.plotly.v1+json"]["data"]]
    assert "Success run (95% reliability): n = 59 (not counted)" in legend
    assert "Capability (Ppk > 1.00): n = 6" in legend
    view.counted["success_run"].value = True  # counted now: a requirement, shown as one
    html = view.approaches.value
    success = html[html.index("Success run (95% reliability)"):]
    assert "cgt-not-counted" not in success[:success.index("</tr>")] and "The number rests on Success run" in html


def _post_approval_pas(session: Session) -> Session:
    profile = session.profile.model_copy(update={
        "stage": Stage.POST_APPROVAL, "lots_made": session.profile.lots_made.model_copy(update={"commercial": 5}),
        "reporting_category": "prior_approval"})
    return session.with_profile(profile)


def test_an_answer_against_the_profile_is_kept_and_warned(tmp_path, session: Session) -> None:
    view = process_validation.build_page(_store(tmp_path, _post_approval_pas(session)))
    for q in ("meets_commercial_spec", "within_shelf_life", "protocol_provides"):
        view.answers[q].value = "yes"
    view.answers["pas_approved"].value = "no"
    assert view.model.plan.route == "hold_until_complete" and view.conflicts.value == ""
    view.answers["change_needs_pas"].value = "no"  # against the profile: the answer is the user's
    assert view.model.change_needs_pas == "no" and view.model.plan.route == "commercial_concurrent_release"
    warning = view.conflicts.value
    assert "cgt-msg-warning" in warning and "Your answer &#x27;no&#x27; to" in warning
    assert "contradicts your product profile, whose &#x27;Reporting category&#x27; is &#x27;prior-approval " \
           "supplement (21 CFR 601.12(b))&#x27;" in warning and "Start here" in warning
    assert "contradicts your product profile" in view.release_panel.justification.value
    view.release_panel.accept.click()
    d = view.store.load().decisions[-1]
    assert isinstance(d, ConcurrentReleaseDecision) and d.route == "commercial_concurrent_release"
    (c,) = d.profile_conflicts
    assert (c.question, c.answer, c.field) == ("change_needs_pas", "no", "'Reporting category'")
    facts = dict(decisions.facts(d))
    assert facts["Contradicts the product profile"].startswith("Your answer 'no' to \"After approval - does the change")
    assert "answers against the product profile: 'Reporting category' 'prior-approval supplement" in \
        decisions.summary(d)
    # the profile corrected on the Start here page: the warning goes, the answer stays
    view.store.update(lambda s: s.with_profile(s.profile.model_copy(update={"reporting_category": "cbe30"})))
    view.on_show()
    assert view.model.change_needs_pas == "no" and view.conflicts.value == "" and view.model.profile_conflicts == ()


def test_a_stage_against_the_profile_is_warned(session: Session) -> None:
    m = ProcessValidationModel(session)  # the example profile: phase 1
    m.stage = "phase 3"
    (c,) = m.profile_conflicts
    assert c.text == ("Your answer 'phase 3' to \"Where is the product in development?\" contradicts your product "
                      "profile, whose 'Stage' is phase 1.")
    m.ind_in_effect = "no"
    assert [c.question for c in m.profile_conflicts] == ["stage", "ind_in_effect"]
    m.stage, m.ind_in_effect = "phase 1", "yes"
    assert m.profile_conflicts == ()
