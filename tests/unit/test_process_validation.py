"""Tests for cgtkit.analyses.process_validation, data/concurrent_release.yaml and cgtkit.plots.process_validation.

The AAV example (data/examples/aav_lots.csv, synthetic) has 2 PPQ lots and 10 development lots
(engineering and clinical). It holds no specification, so the tests assume two for the example and say so:
relative potency 50-150 % of reference, vector genome titer 0.5e13-2.5e13 vg/mL. They are illustrations,
not proposed limits.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import plotly.io as pio
import pytest
import yaml

from cgtkit.analyses.process_validation import (
    MIN_PPQ_LOTS,
    AssessmentIncompleteError,
    ConcurrentReleaseQuestionnaire,
    ConcurrentReleaseRules,
    ConditionStatus,
    LotNumberSettings,
    QuestionnaireError,
    ResidualRiskAssessment,
    RiskLevel,
    RiskRating,
    attribute_capability,
    load_concurrent_release,
    lot_number_overview,
    pass_probability_map,
    plan_concurrent_release,
    recommend_lot_number,
    residual_risk_lots,
)
from cgtkit.analyses.specifications import attribute_data
from cgtkit.attributes import get_attribute
from cgtkit.datafiles import data_dir
from cgtkit.errors import CatalogError, CgtkitError, InsufficientDataError
from cgtkit.io import load_lots
from cgtkit.plots.process_validation import (
    build_capability_figure,
    build_lots_needed_figure,
    build_pass_probability_figure,
    build_pass_probability_heatmap,
)
from cgtkit.stats.capability import SpecificationError
from cgtkit.stats.ppq import pass_probability_grid


@pytest.fixture(scope="module")
def aav():
    return load_lots(data_dir() / "examples" / "aav_lots.csv")


POTENCY = ("relative_potency", 50.0, 150.0)  # assumed for the example
TITER = ("vector_genome_titer", 0.5e13, 2.5e13)  # assumed for the example


# ---------------------------------------------------------------------------
# The AAV example: what the approaches say for 2 PPQ lots
# ---------------------------------------------------------------------------


def test_aav_relative_potency_overview(aav) -> None:
    attr, lo, hi = POTENCY
    ov = lot_number_overview(aav, get_attribute(attr), lo, hi)
    assert ov.n_ppq == 2 and ov.n_planned == 2 and ov.development.n == 10
    assert ov.development.lot_types == "engineering/clinical"
    cap = ov.development.capability
    assert cap.ppk == pytest.approx(2.173, abs=1e-3)
    needed = {a.approach: a.n for a in ov.approaches}
    assert needed == {"success_run": 59, "capability": 6, "expected_coverage": 19, "tolerance_coverage": 6}
    planned = {a.approach: a.value_planned for a in ov.approaches}
    assert planned["success_run"] == pytest.approx(1 - 0.95 ** 2)  # 2 lots: 9.75 % confidence
    assert planned["expected_coverage"] == pytest.approx(1 / 3)  # range of 2 lots covers 1/3 on average
    assert ov.pass_probability is not None and ov.pass_probability.all_lots > 0.9999
    assert ov.range_inside_spec
    assert any("process version(s) v2" in note for note in ov.notes)  # PPQ lots are v2, development v1
    frame = ov.to_frame()
    assert frame["approach"].tolist() == ["success_run", "capability", "expected_coverage", "tolerance_coverage"]
    assert ov.curves()["approach"].nunique() == 4


def test_aav_titer_on_the_log_scale(aav) -> None:
    attr, lo, hi = TITER
    ov = lot_number_overview(aav, get_attribute(attr), lo, hi)
    cap = ov.development.capability
    assert cap.scale == "log" and cap.ppk == pytest.approx(1.374, abs=1e-3)
    assert {a.approach: a.n for a in ov.approaches} == {
        "success_run": 59, "capability": 22, "expected_coverage": 19, "tolerance_coverage": 13}
    # The 2 PPQ lots alone: Ppk's interval spans from below 0 to above 7 -- two lots cannot pin it down.
    assert ov.ppq is not None and ov.ppq.n == 2
    assert ov.ppq.capability.ppk_low < 0 < 7 < ov.ppq.capability.ppk_high


def test_overview_with_the_users_residual_risk(aav) -> None:
    attr, lo, hi = POTENCY
    rated = RiskRating(level=RiskLevel.MEDIUM, rationale="Platform AAV process; 10 lots made.")
    assessment = ResidualRiskAssessment(
        product_knowledge=rated, process_understanding=rated, control_strategy=rated, overall="medium",
        overall_rationale="All areas medium.", lots_by_level={"low": 2, "medium": 3, "high": 5},
        mapping_rationale="Company PPQ policy SOP-123.",
    )
    ov = lot_number_overview(aav, get_attribute(attr), lo, hi, residual_risk=assessment,
                             settings=LotNumberSettings(n_planned=3))
    assert ov.residual_risk is not None and ov.residual_risk.n == 3
    row = ov.to_frame().iloc[-1]
    assert row["approach"] == "residual_risk" and row["n_needed"] == 3
    assert "your judgement" in row["reasoning"] and "SOP-123" in row["reasoning"]
    assert ov.n_planned == 3


def test_aav_pass_probability_map(aav) -> None:
    attr, lo, hi = TITER
    data = attribute_data(aav, get_attribute(attr), ["engineering", "clinical"])
    pm = pass_probability_map(data, lo, hi, n_lots=2)
    assert pm.grid.probability.shape == (50, 50)
    assert pm.estimate.all_lots == pytest.approx(0.99996, abs=1e-5)
    assert pm.mean_title.startswith("Mean of ln(") and pm.n_estimate == 10


# ---------------------------------------------------------------------------
# Capability glue and errors
# ---------------------------------------------------------------------------


def test_safety_attribute_is_refused(aav) -> None:
    data = attribute_data(aav, get_attribute("endotoxin"))
    with pytest.raises(InsufficientDataError, match="never computes capability"):
        attribute_capability(data, None, 5.0)


def test_censored_results_are_flagged(aav) -> None:
    data = attribute_data(aav, get_attribute("residual_hcdna"))
    result = attribute_capability(data, None, 100.0)
    assert result.n_censored > 0 and "limit of quantitation" in result.notes[0]


@pytest.mark.parametrize(("lower", "upper", "match"), [
    (150.0, 50.0, "above the upper limit"), (None, None, "No specification limit"),
])
def test_specification_errors(aav, lower, upper, match) -> None:
    with pytest.raises(SpecificationError, match=match):
        lot_number_overview(aav, get_attribute("relative_potency"), lower, upper)


def test_single_lot_and_zero_variance_are_cgtkit_errors(aav) -> None:
    one = aav[aav["lot_id"] == "AV25-03"]
    with pytest.raises(InsufficientDataError, match="at least 2"):
        attribute_capability(attribute_data(one, get_attribute("relative_potency")), 50.0, 150.0)
    same = aav[aav["attribute"] == "relative_potency"].head(3).assign(value=100.0)
    with pytest.raises(InsufficientDataError, match="identical"):
        attribute_capability(attribute_data(same, get_attribute("relative_potency")), 50.0, 150.0)


# ---------------------------------------------------------------------------
# Residual risk: the user's judgement, never a number of cgtkit's
# ---------------------------------------------------------------------------

LOW = RiskRating(level="low", rationale="Same platform as two licensed products.")


def test_residual_risk_uses_the_users_mapping() -> None:
    a = ResidualRiskAssessment(product_knowledge=LOW, process_understanding=LOW,
                               control_strategy=RiskRating(level="medium", rationale="Manual fill step."),
                               overall="medium", overall_rationale="The highest area.",
                               lots_by_level={"medium": 4}, mapping_rationale="Our policy.")
    result = residual_risk_lots(a)
    assert result.n == 4 and result.overall is RiskLevel.MEDIUM
    assert result.to_frame()["residual_risk"].tolist() == ["low", "low", "medium"]
    assert "ISPE" in result.reference


def test_incomplete_assessment_names_everything_missing() -> None:
    with pytest.raises(AssessmentIncompleteError) as info:
        residual_risk_lots(ResidualRiskAssessment(product_knowledge=LOW))
    text = str(info.value)
    assert isinstance(info.value, CgtkitError)
    for fragment in ("Process understanding: choose", "Control strategy: say why", "Overall residual risk: choose",
                     "Your mapping: say why"):
        assert fragment in text


def test_no_number_without_the_users_mapping() -> None:
    a = ResidualRiskAssessment(product_knowledge=LOW, process_understanding=LOW, control_strategy=LOW,
                               overall="low", overall_rationale="All low.", mapping_rationale="Policy.")
    with pytest.raises(AssessmentIncompleteError, match="enter the number of PPQ lots you assign to a low"):
        residual_risk_lots(a)
    assert a.suggested_overall() is RiskLevel.LOW


def test_mapping_must_be_whole_lots() -> None:
    a = ResidualRiskAssessment(product_knowledge=LOW, process_understanding=LOW, control_strategy=LOW,
                               overall="low", overall_rationale="All low.", lots_by_level={"low": 0},
                               mapping_rationale="Policy.")
    with pytest.raises(AssessmentIncompleteError, match="at least 1"):
        residual_risk_lots(a)


# ---------------------------------------------------------------------------
# Concurrent release: the data file
# ---------------------------------------------------------------------------


def test_rules_file_loads_and_every_statement_is_sourced_and_graded() -> None:
    rules = load_concurrent_release()
    assert {r.id for r in rules.routes} == {"commercial_concurrent_release", "clinical_use_under_ind",
                                          "hold_until_complete"}
    assert {r.catalog_id for r in rules.routes} == {"PV-CONCURRENT-RELEASE", "PV-PPQ-CLINICAL-USE", "PV-LIFECYCLE"}
    for cond in rules.conditions:
        assert cond.sources and cond.grade
    assert rules.sources["cfr_601_12"].provenance == "regulation"
    pas = next(c for c in rules.conditions if c.id == "pas_approved")
    assert pas.grade == "regulation" and pas.sources == ["cfr_601_12"]


def _raw() -> dict:
    return yaml.safe_load((data_dir() / "concurrent_release.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize(("change", "match"), [
    (lambda d: d["conditions"][0].update(sources=["nowhere"]), "unknown source key"),
    (lambda d: d["conditions"][0].update(asks="bla_status"), "'bla_status' is not a questionnaire field"),
    (lambda d: d["conditions"][1].update(grade="final_guidance"), "grade 'final_guidance' needs"),
    (lambda d: d["conditions"][0].update(grade="rumour"), "field 'grade'"),
    (lambda d: d["conditions"].append(dict(d["conditions"][0])), "already used"),
    (lambda d: d["questions"].pop("stage"), "add the question"),
    (lambda d: d.update(extra=1), "unknown top-level key"),
])
def test_rules_file_problems_are_named(tmp_path: Path, change, match) -> None:
    data = _raw()
    change(data)
    path = tmp_path / "concurrent_release.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(CatalogError, match=match):
        load_concurrent_release.__wrapped__(path)


# ---------------------------------------------------------------------------
# Concurrent release: the planner
# ---------------------------------------------------------------------------

ALL_YES = dict(meets_commercial_spec=True, within_shelf_life=True, protocol_provides=True, ind_in_effect=True,
               meets_ind_criteria=True, outstanding_steps=("12-month stability time point",))


def test_commercial_route_after_approval_when_every_condition_is_met() -> None:
    plan = plan_concurrent_release(ConcurrentReleaseQuestionnaire(stage="post-approval", change_needs_pas=False,
                                                                  **ALL_YES))
    assert plan.route == "commercial_concurrent_release"
    assert plan.status_of("pas_approved") is ConditionStatus.NOT_APPLICABLE
    assert plan.fda_agreement.grade == "final_guidance" and "may consider" in plan.fda_agreement.text
    assert plan.documentation and all(d.sources for d in plan.documentation)


@pytest.mark.parametrize("stage", ["phase 1", "phase 2", "phase 3", "BLA"])
def test_commercial_route_is_never_offered_before_approval(stage: str) -> None:
    plan = plan_concurrent_release(ConcurrentReleaseQuestionnaire(stage=stage, **ALL_YES))
    assert plan.route == "clinical_use_under_ind"
    assert plan.status_of("bla_approved") is ConditionStatus.UNMET
    assert not plan.routes[0].available
    assert "unmet: the BLA is approved" in plan.summary and "bla_approved" not in plan.summary  # words, not ids


def test_commercial_route_is_never_offered_before_the_prior_approval_supplement() -> None:
    q = ConcurrentReleaseQuestionnaire(stage="post-approval", change_needs_pas=True, pas_approved=False,
                                       **{**ALL_YES, "ind_in_effect": False})
    plan = plan_concurrent_release(q)
    assert plan.route == "hold_until_complete"
    assert plan.status_of("pas_approved") is ConditionStatus.UNMET
    check = next(c for c in plan.routes[0].conditions if c.id == "pas_approved")
    assert check.statement.grade == "regulation" and "601.12" in check.statement.sources_text()
    unknown = plan_concurrent_release(ConcurrentReleaseQuestionnaire(stage="post-approval", **ALL_YES))
    assert unknown.status_of("pas_approved") is ConditionStatus.UNKNOWN
    assert unknown.route == "clinical_use_under_ind"  # not commercial while the supplement question is open


def test_clinical_route_after_approval_is_under_the_ind_only() -> None:
    q = ConcurrentReleaseQuestionnaire(stage="post-approval", change_needs_pas=False,
                                       **{**ALL_YES, "within_shelf_life": False})
    plan = plan_concurrent_release(q)
    assert plan.route == "clinical_use_under_ind" and "only under the IND" in plan.summary


def test_unanswered_questions_leave_the_lot_on_hold_and_are_listed() -> None:
    plan = plan_concurrent_release(ConcurrentReleaseQuestionnaire())
    assert plan.route == "hold_until_complete"
    assert all(c.status is ConditionStatus.UNKNOWN for r in plan.routes for c in r.conditions)
    assert "Has FDA approved the BLA?" in plan.open_questions
    assert any("No outstanding protocol step" in n for n in plan.notes)
    frame = plan.to_frame()
    assert list(frame.columns) == ["route", "condition", "question", "status", "statement", "grade", "sources", "why"]
    assert set(frame["grade"]) <= {"Regulation", "Final guidance", "cgtkit's reading"}


def test_contradictory_answers_are_a_cgtkit_error() -> None:
    with pytest.raises(QuestionnaireError, match="stage is 'phase 3' but the answer says the BLA is approved"):
        plan_concurrent_release(ConcurrentReleaseQuestionnaire(stage="phase 3", bla_approved=True))
    with pytest.raises(QuestionnaireError, match="post-approval"):
        plan_concurrent_release(ConcurrentReleaseQuestionnaire(stage="post-approval", bla_approved=False))
    with pytest.raises(QuestionnaireError, match="pre-IND"):
        plan_concurrent_release(ConcurrentReleaseQuestionnaire(stage="pre-IND", ind_in_effect=True))


def test_pre_ind_lot_is_held() -> None:
    plan = plan_concurrent_release(ConcurrentReleaseQuestionnaire(
        stage="pre-IND", **{**ALL_YES, "ind_in_effect": False}))
    assert plan.route == "hold_until_complete" and plan.status_of("bla_approved") is ConditionStatus.UNMET


def test_rules_are_a_validated_model() -> None:
    assert isinstance(load_concurrent_release(), ConcurrentReleaseRules)


# ---------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------


def test_capability_figure_one_sided(aav) -> None:
    data = attribute_data(aav, get_attribute("aggregates"), ["engineering", "clinical"])
    fig = build_capability_figure(attribute_capability(data, None, 5.0))
    names = [t.name for t in fig.data]
    assert "Specification, upper: 5" in names and not any("lower" in n for n in names)


def test_figures_from_the_aav_example(aav) -> None:
    attr, lo, hi = TITER
    ov = lot_number_overview(aav, get_attribute(attr), lo, hi)
    fig = build_capability_figure(ov.development)
    assert fig.layout.template == pio.templates["plotly_white"]
    assert fig.layout.xaxis.type == "log" and "Ppk 1.37 from 10 lots" in fig.layout.title.text
    assert {t.name for t in fig.data} >= {"Fitted log-normal distribution", "Lots (10, engineering/clinical)"}
    fig = build_lots_needed_figure(ov.approaches, n_planned=ov.n_planned, pass_probability=ov.pass_probability)
    names = [t.name for t in fig.data if t.showlegend is not False]
    assert "Success run (95% reliability): n = 59" in names and "PPQ lots planned: 2" in names
    assert any(n.startswith("Probability that all n lots pass") for n in names)
    pm = pass_probability_map(attribute_data(aav, get_attribute(attr), ["engineering", "clinical"]), lo, hi)
    fig = build_pass_probability_figure(pm)
    levels = [t.contours.start for t in fig.data if t.type == "contour"]
    assert levels == [0.80, 0.90, 0.95, 0.99]
    assert fig.layout.yaxis.title.text == "SD of ln(Vector genome titer)"


def test_heatmap_figure_and_template() -> None:
    g = pass_probability_grid(95.0, 105.0, np.linspace(95, 105, 50), np.linspace(0.05, 2.5, 50), n_lots=3,
                              n_per_lot=10, criterion="interval", k=2.373)
    fig = build_pass_probability_heatmap(g, mean_title="Mean (%LC)", sd_title="Within-lot SD (%LC)")
    assert fig.layout.title.text == "Probability that all 3 PPQ lots pass"
    assert "<br>" in fig.layout.title.subtitle.text  # long method text wrapped, not clipped
    assert [t.name for t in fig.data if t.type == "contour"] == [
        "Contour P = 0.80", "Contour P = 0.90", "Contour P = 0.95", "Contour P = 0.99"]
    assert fig.layout.template == pio.templates["plotly_white"]


# ---------------------------------------------------------------------------
# The recommended number of PPQ lots (cgtkit's combination of the approaches)
# ---------------------------------------------------------------------------


def _ov(aav, attr: str, lo: float, hi: float, planned: int = 2, **kwargs):  # noqa: ANN001, ANN202
    return lot_number_overview(aav, get_attribute(attr), lo, hi, settings=LotNumberSettings(n_planned=planned),
                               **kwargs)


def test_two_aav_potency_lots_are_supported_at_the_minimum(aav) -> None:
    rec = recommend_lot_number([_ov(aav, *POTENCY)], n_planned=2)
    assert (rec.n, rec.basis, rec.supported, rec.minimum) == (2, "minimum", True, MIN_PPQ_LOTS)
    assert rec.approaches == ("capability", "tolerance_coverage") and rec.needs[0].ppq_needed == 0
    assert rec.statement.startswith("The data support the 2 lots planned. The counted approaches need no PPQ lots")
    assert rec.pass_all == pytest.approx(rec.needs[0].per_lot_pass ** 2) and rec.pass_all > 0.9999
    assert any("another process version" in n for n in rec.notes)  # the PPQ lots are v2, development v1
    text = rec.protocol_text
    assert text.startswith("Number of PPQ lots: 2. FDA has set no minimum number of PPQ lots")
    assert "10 engineering/clinical lots, Ppk 2.17" in text and "59 lots to show 95% reliability" in text
    assert "reliability of only 22%" in text  # (1 - 0.95)^(1/2) = 0.224
    assert rec.to_frame()[["lots_capability", "lots_tolerance_coverage", "ppq_needed"]].iloc[0].tolist() == [6, 6, 0]


def test_the_aav_titer_asks_for_more_lots_than_planned(aav) -> None:
    ovs = [_ov(aav, *POTENCY), _ov(aav, *TITER)]
    rec = recommend_lot_number(ovs, n_planned=2)
    assert (rec.n, rec.basis, rec.supported) == (12, "statistics", False)  # capability: 22 lots in all, 10 made
    assert rec.statement.startswith("The data do not support fewer than 12 lots; 2 are planned. Vector genome titer: "
                                    "Capability (Ppk > 1.00) needs 22 lots in all; the 10 development lots count")
    alone = recommend_lot_number(ovs, n_planned=2, count_development=False)
    assert alone.n == 22 and "all of them PPQ lots (development lots not counted)" in alone.statement
    assert not any("another process version" in n for n in alone.notes)
    coverage = recommend_lot_number(ovs[:1], n_planned=2, approaches=("expected_coverage",))
    assert coverage.n == 9  # the range of 19 lots covers 90% on average; 10 are made


def test_the_users_residual_risk_number_and_the_pass_target(aav) -> None:
    rated = RiskRating(level="low", rationale="Platform process.")
    assessment = ResidualRiskAssessment(product_knowledge=rated, process_understanding=rated, control_strategy=rated,
                                        overall="low", overall_rationale="All low.", lots_by_level={"low": 3},
                                        mapping_rationale="Our policy.")
    rec = recommend_lot_number([_ov(aav, *POTENCY, residual_risk=assessment)], n_planned=2)
    assert (rec.n, rec.basis, rec.supported, rec.residual_risk_n) == (3, "residual_risk", False, 3)
    assert "Your residual-risk assessment (low) maps to 3 lots" in rec.statement
    assert "Residual risk. Your assessment: product knowledge low" in rec.protocol_text
    # a narrow specification: Ppk 0.57 is below the target, no number of lots can show it
    tight = _ov(aav, "relative_potency", 95.0, 120.0, planned=3)
    rec = recommend_lot_number([tight], n_planned=3)
    assert rec.n is None and rec.basis == "none" and rec.supported is None
    assert rec.statement.startswith("The data do not support a PPQ of any size yet")
    assert "The Ppk seen so far (0.57) is not above the target 1.00" in rec.statement
    assert rec.pass_planned == pytest.approx(0.8172, abs=1e-4)
    assert "probability 81.7%, below your target of 90.0%: a PPQ of this size is likely to fail" in rec.notes[0]


def test_recommendation_arguments_are_checked(aav) -> None:
    with pytest.raises(ValueError, match="at least one"):
        recommend_lot_number([])
    with pytest.raises(ValueError, match="Unknown approach"):
        recommend_lot_number([_ov(aav, *POTENCY)], approaches=("gut_feeling",))


def test_ppq_lots_without_variability_do_not_stop_the_approaches(aav) -> None:
    flat = aav.copy()
    flat.loc[(flat["lot_type"] == "ppq") & (flat["attribute"] == "relative_potency"), "value"] = 100.0
    ov = lot_number_overview(flat, get_attribute("relative_potency"), 50.0, 150.0)
    assert ov.ppq is None and any("PPQ lots alone is not shown" in n and "identical" in n for n in ov.notes)


def test_legends_sit_below_the_x_axis_with_room_for_it(aav) -> None:
    """The legend at the bottom of the figure, under the x-axis title and tick labels, with a bottom margin that
    holds both (the walk-through saw legends over the x-axis titles)."""
    from cgtkit.plots.axes import LEGEND_ROW_PX, X_AXIS_PX, legend_rows

    ov = lot_number_overview(aav, get_attribute(TITER[0]), TITER[1], TITER[2])
    pm = pass_probability_map(attribute_data(aav, get_attribute(TITER[0]), ["engineering", "clinical"]), *TITER[1:])
    for fig in (build_capability_figure(ov.development),
                build_lots_needed_figure(ov.approaches, n_planned=2, pass_probability=ov.pass_probability,
                                         counted=("capability",)),
                build_pass_probability_figure(pm)):
        legend = fig.layout.legend
        assert (legend.orientation, legend.yref, legend.y, legend.yanchor) == ("h", "container", 0, "bottom")
        names = [t.name for t in fig.data if t.name and t.showlegend is not False]
        assert fig.layout.margin.b >= X_AXIS_PX + legend_rows(names, 900) * LEGEND_ROW_PX
