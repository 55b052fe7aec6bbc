"""The Stability and samples page without a browser (issue #20): its two models, the view's handlers, the bad
inputs of the issue (each a clear message that keeps the previous results), and the decisions it records."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from cgtkit import decisions
from cgtkit.datafiles import data_dir
from cgtkit.errors import InsufficientDataError
from cgtkit.decisions import CommercialCriterionDecision, HorizonRisk, ShelfLifeDecision, TestingPlanDecision
from cgtkit.io import load_lots
from cgtkit.session import Session, WorkbookStore
from cgtkit.ui import stability_samples
from cgtkit.ui.stability_samples_model import SamplesModel, StabilityModel, round_down
from cgtkit.vocab import DatasetKind


def _viability_criterion(low: float = 71.25, unit: str = "%") -> CommercialCriterionDecision:
    return CommercialCriterionDecision(
        timestamp=datetime(2026, 5, 4, tzinfo=UTC), page="commercial_specifications",
        flexibility_id="CS-SPEC-FLEX-BLA", dataset="car_t_lots", attribute="viability", lot_types=("clinical",),
        lot_ids=("L1", "L2", "L3"), n=3, candidate="ti_99_95", k_method="exact", low=low, high=None, unit=unit,
        k=4.1, risk=(HorizonRisk(horizon=10, probability=0.04),), method="normal tolerance interval",
        justification="Mine.")


def _car_t_stability() -> pd.DataFrame:
    return load_lots(data_dir() / "examples" / "car_t_stability.csv")


# -- stability ---------------------------------------------------------------------------------------------


def test_without_a_limit_the_section_asks_for_one(session: Session) -> None:
    m = StabilityModel(session)
    assert (m.dataset, m.attribute, m.storage) == ("car_t_stability", "viability", "≤ -150 °C (LN2 vapour phase)")
    assert m.dataset_options == ["car_t_stability", "aav_stability"]
    assert m.lots == ["CT23-008", "CT24-005", "CT25-003", "CT25-005"] and m.unit == "%"
    assert m.view is None and m.problem_kind == "info"
    assert "no lower limit was given. Enter the lower limit in %" in m.problem
    assert "No commercial criterion has been accepted for Viability" in m.problem


def test_car_t_viability_shelf_life_and_drafted_claim(session: Session) -> None:
    m = StabilityModel(session)
    m.lower_limit = "80"
    a = m.view.analysis
    assert m.problem == "" and a.result.model == "separate" and a.governing_lot == "CT25-005"
    assert round(a.shelf_life, 1) == 12.9 and a.direction.value == "decrease"
    assert m.claim == "12" and m.view.claim_drafted and a.proposed_supported
    assert m.view.limit_source == "entered" and "no commercial criterion" in m.view.limit_note
    m.claim = "18"  # typed: kept, and judged
    assert not m.view.claim_drafted and m.view.analysis.proposed_supported is False
    assert "do not support it" in m.view.analysis.notes[-1]
    m.claim = ""  # cleared: drafted again
    assert m.claim == "12" and m.view.claim_drafted


def test_potency_is_log_scale_and_the_claim_is_capped_by_the_q1e_allowance(session: Session) -> None:
    m = StabilityModel(session)
    m.attribute = "ifng_potency"
    assert m.log_transform and m.lower_limit == "" and m.claim == ""
    m.lower_limit = "500"
    r = m.view.analysis.result
    assert r.log_transform and r.model == "common_slope" and round(r.shelf_life, 1) == 53.6
    assert r.beyond_allowance and r.supported_shelf_life == 24.0 and m.claim == "24"
    m.claim = "36"
    assert m.view.analysis.proposed_supported is False
    html = stability_samples.claim_html(m.view)
    assert "not supported" in html and "for discussion with FDA" in html
    assert "capped by the Q1E extrapolation allowance" in stability_samples.stability_summary_html(m.view)


def test_aav_two_sided_and_a_chosen_direction(session: Session) -> None:
    m = StabilityModel(session)
    m.dataset = "aav_stability"
    m.attribute = "relative_potency"
    m.lower_limit, m.upper_limit = "50", "150"
    a = m.view.analysis
    assert a.direction.value == "unknown" and a.result.sided == 2 and a.result.supported_shelf_life == 24.0
    m.direction = "decrease"
    assert m.view.analysis.result.sided == 1 and m.view.analysis.upper_limit is None
    assert any("upper limit (150) is not used" in n for n in m.view.analysis.notes)
    m.storage_category = "room_temperature"  # the allowance follows the chosen category: 2 x 24 months
    assert m.view.analysis.result.allowed_shelf_life == 36.0


def test_the_accepted_commercial_criterion_is_the_default_limit(session: Session) -> None:
    m = StabilityModel(session.with_decision(_viability_criterion()))
    assert m.lower_limit == "71.25" and m.problem == ""
    assert m.view.limit_source == "commercial_criterion" and m.view.criterion_id is not None
    assert "from the commercial criterion you accepted for Viability" in m.view.limit_note
    m.lower_limit = "80"
    assert m.view.limit_source == "entered" and "in place of the commercial criterion" in m.view.limit_note
    other_unit = StabilityModel(session.with_decision(_viability_criterion(unit="fraction")))
    assert other_unit.lower_limit == "" and "in another unit" in other_unit.problem


def _session_with(frame: pd.DataFrame, name: str = "bad") -> Session:
    return Session.example().with_dataset(name, frame, "upload:bad.csv", kind=DatasetKind.STABILITY)


def _bad_frames() -> dict[str, tuple[pd.DataFrame, str]]:
    good = _car_t_stability()
    viability = good[good["attribute"] == "viability"]
    first = viability.index[:2]
    swapped = pd.concat([good.loc[[first[1], first[0]]], good.drop(index=first)])
    duplicated = pd.concat([good, good.loc[[viability.index[1]]]]).sort_index(kind="stable")
    single = good[~((good["lot_id"] == "CT25-005") & (good["timepoint_months"] > 0))]
    mixed = good.assign(time_unit=["months"] * (len(good) - 1) + ["days"])
    return {
        "non-monotone": (swapped, "are not in time order: 0 months (row 2) follows 3 months (row 4)"),
        "duplicated": (duplicated, "lot CT23-008 has 2 results at 3 months"),
        "single time point": (single, "lot CT25-005 has results at a single time point"),
        "mixed time units": (mixed, "mix time units"),
    }


def test_a_prefilled_criterion_is_the_criterion_not_an_entered_limit(session: Session) -> None:
    """The walk-through: the box showed 73.6489 and the note called it entered in place of 73.65."""
    m = StabilityModel(session.with_decision(_viability_criterion(low=73.648935)))
    assert m.lower_limit == "73.65" and m.view.limit_source == "commercial_criterion"
    assert "not less than 73.65 %" in m.view.limit_note and m.view.analysis.lower_limit == 73.648935
    m.lower_limit = "73.6489"  # the same number to six digits
    assert m.view.limit_source == "commercial_criterion" and m.view.analysis.lower_limit == 73.648935
    m.lower_limit = "73.7"
    assert m.view.limit_source == "entered" and m.view.analysis.lower_limit == 73.7
    assert "in place of the commercial criterion accepted for Viability (not less than 73.65 %)" in m.view.limit_note


def test_switching_the_data_set_ticks_all_its_lots_or_the_earlier_choice(store: WorkbookStore) -> None:
    """The walk-through: car_t_stability -> aav_stability kept only AV23-03 ticked, and back only CT23-008."""
    st = stability_samples.build_page(store).stability
    st.lower.value = "80"
    st.dataset.value = "aav_stability"
    assert st.model.lots == ["AV23-03", "AV24-03", "AV25-03"]
    assert [b.value for b in st.lot_boxes.values()] == [True, True, True]
    st.dataset.value = "car_t_stability"
    assert st.model.lots == ["CT23-008", "CT24-005", "CT25-003", "CT25-005"]
    assert all(b.value for b in st.lot_boxes.values())
    st.lot_boxes["CT23-008"].value = False  # the user's choice for this data set comes back with it
    st.dataset.value = "aav_stability"
    st.dataset.value = "car_t_stability"
    assert st.model.lots == ["CT24-005", "CT25-003", "CT25-005"] and not st.lot_boxes["CT23-008"].value


def test_one_lot_has_no_poolability_test_and_is_too_few_for_a_claim(session: Session) -> None:
    m = StabilityModel(session)
    m.dataset = "aav_stability"
    m.lower_limit, m.upper_limit = "1e12", "1e14"
    m.lots = ["AV23-03"]
    a = m.view.analysis
    summary = stability_samples.stability_summary_html(m.view)
    assert "1 lot, time in months" in summary and "1 lots" not in summary
    assert "Model: one lot: a single regression line; no poolability test;" in summary
    assert "chosen by the poolability tests" not in summary and "pooled" not in summary
    assert "One lot is too few for an ICH Q1E shelf-life claim: ICH Q1E (2003, Appendix B) bases a shelf life on " \
           "testing at least three batches" in summary and "cgt-prov-final_guidance" in summary
    claim = stability_samples.claim_html(m.view)
    assert "too few lots for a Q1E claim" in claim and ">supported<" not in claim
    assert not any(n.startswith("The proposed shelf life of 24 months is supported") for n in a.notes)
    assert any("fewer than 3 lots do not support a Q1E claim" in n for n in a.notes)
    assert "from 1 lot (clinical)" in m.default_justification() and "too few" in m.default_justification()
    m.lots = ["AV23-03", "AV24-03", "AV25-03"]  # three lots: the tests choose, no warning
    summary = stability_samples.stability_summary_html(m.view)
    assert "3 lots" in summary and "chosen by the poolability tests" in summary and "too few" not in summary


@pytest.mark.parametrize("case", list(_bad_frames()))
def test_bad_stability_data_give_a_message_and_keep_the_previous_estimate(case: str) -> None:
    frame, fragment = _bad_frames()[case]
    m = StabilityModel(_session_with(frame))
    m.lower_limit = "80"
    shown = m.view
    assert shown is not None and m.dataset == "car_t_stability"
    m.dataset = "bad"
    assert fragment in m.problem and m.problem_kind == "error"
    assert "still show the previous estimate" in m.problem and m.view is shown


def test_a_missing_or_unreadable_limit_keeps_the_previous_estimate(session: Session) -> None:
    m = StabilityModel(session)
    m.lower_limit = "80"
    shown = m.view
    m.lower_limit = ""
    assert m.problem_kind == "error" and "no lower limit was given" in m.problem and m.view is shown
    m.lower_limit = "eighty"
    assert "The lower acceptance limit 'eighty' is not a number" in m.problem and m.view is shown
    m.lower_limit = "80"
    shown = m.view
    m.lots = []
    assert "Choose at least one lot" in m.problem and m.view is shown
    m.lots = ["CT23-008", "CT24-005"]
    assert m.problem == "" and m.view.analysis.data.lots == ("CT23-008", "CT24-005")


def test_a_post_thaw_data_set_in_hours(tmp_path) -> None:
    """A file with timepoint + time_unit in hours reaches the page in hours: the claim is in hours."""
    lines = ["lot_id,attribute,value,unit,lot_type,manufacture_date,timepoint,time_unit,storage_condition"]
    for month, (lot, start, loss) in enumerate((("P1", 95.0, 1.1), ("P2", 93.5, 0.9), ("P3", 94.2, 1.3)), 1):
        lines += [f"{lot},viability,{start - loss * h + 0.2 * (-1) ** i:.2f},%,clinical,2025-0{month}-01,{h},hours,"
                  "20-25 °C" for i, h in enumerate((0, 2, 4, 6, 8))]
    frame = load_lots(("\n".join(lines) + "\n").encode(), name="post_thaw.csv")
    session = Session().with_dataset("post_thaw", frame, "upload:post_thaw.csv")
    assert session.datasets["post_thaw"].kind is DatasetKind.STABILITY  # its months are above 0
    m = StabilityModel(session)
    m.lower_limit = "85"
    a = m.view.analysis
    assert a.time_unit.value == "hours" and a.notes[0].startswith("Time in hours")
    assert a.storage.value == "room_temperature" and float(m.claim) == round_down(a.supported_shelf_life)
    assert "time in hours" in stability_samples.stability_summary_html(m.view)


def test_no_stability_data_leaves_the_samples_section_working() -> None:
    m = stability_samples.StabilitySamplesModel(Session())
    assert m.stability.view is None and "holds no stability data" in m.stability.problem
    assert m.stability.problem_kind == "info" and m.samples.view is not None


def test_round_down() -> None:
    assert [round_down(x) for x in (12.94, 0.347, 24.0, 0.0, float("inf"))] == [12.0, 0.34, 24.0, 0.0, 0.0]


# -- samples -----------------------------------------------------------------------------------------------


def test_car_t_example_budget(session: Session) -> None:
    """The example CAR-T lot: conventional testing plus reserves take 94.7% and the dose no longer fits;
    alternative methods leave the dose and release within the 72 h shelf life."""
    m = SamplesModel(session)
    assert m.product == "car_t" and m.start == "car_t_fresh" and m.problem == ""
    assert set(m.sources.values()) == {"example lot (an assumption to replace)"}
    c = m.view.comparison
    conventional, alternative = c.budget("car_t_conventional"), c.budget("car_t_alternative")
    assert round(conventional.consumed_share, 3) == 0.947 and not conventional.dose_fits
    assert conventional.time_to_release_hours == 676 and not conventional.release_within_shelf_life
    assert round(alternative.consumed_share, 3) == 0.391 and alternative.feasible
    assert alternative.physician_notification and m.plan_to_record == "car_t_alternative"
    html = stability_samples.comparison_html(c)
    assert "94.7% of the lot" in html and "39.1% of the lot" in html and "28.2 days" in html
    assert "1.7 h" not in html and "28 h</b> of 72 h shelf life" in html
    tests = m.view.tests.set_index("id")
    assert tests.loc["mycoplasma_culture", "time_source"].startswith("USP <63>")
    assert tests.loc["potency_rapid", "sample_source"] == "assumption (editable)"
    lot = stability_samples.lot_html(m.view)
    assert "150 mL in 3 final container(s) of 50 mL" in lot and "2.5×10⁸ cells at 3×10⁶ cells/mL = 83.3 mL" in lot


def test_edits_change_the_budget_and_say_so(session: Session) -> None:
    m = SamplesModel(session)
    m.set_edit("mycoplasma_culture", "amount", 5.0)
    conventional = m.view.comparison.budget("car_t_conventional")
    assert conventional.tests_ml == pytest.approx(47.7) and conventional.reserve_ml == pytest.approx(14.4)
    assert m.view.tests.set_index("id").loc["mycoplasma_culture", "sample_source"] == "entered on this page"
    m.set_edit("sterility_automated", "time", 14.0)  # days, the file's unit
    assert m.view.comparison.budget("car_t_alternative").lines[0].time_to_result_hours == 336.0
    m.volume_ml = 300.0
    assert m.sources["volume_ml"] == "entered on this page" and m.view.lot.volume_ml == 300.0


@pytest.mark.parametrize(("change", "fragment"), [
    (lambda m: setattr(m, "volume_ml", -150.0), "the volume must be more than 0 mL; got -150."),
    (lambda m: setattr(m, "volume_ml", 0.0), "the volume must be more than 0 mL; got 0."),
    (lambda m: setattr(m, "volume_ml", 50.0), "the patient dose (2.5×10⁸ cells at 3×10⁶ cells/mL = 83.3 mL) needs "
                                              "more than the whole lot (50 mL)"),
    (lambda m: setattr(m, "final_containers", 0), "final containers must be a whole number of at least 1"),
    (lambda m: setattr(m, "dose", -1.0), "the dose must be"),
    (lambda m: setattr(m, "shelf_life", 0.0), "the shelf life must be more than 0"),
    (lambda m: m.set_edit("mycoplasma_culture", "amount", -15.0), "Mycoplasma, culture: A test's sample amount"),
    (lambda m: m.set_edit("mycoplasma_nat", "time", -1.0), "Mycoplasma, nucleic-acid test: the time to result"),
    (lambda m: setattr(m, "retention_containers", 0), "at least one final container"),
])
def test_bad_lot_inputs_give_a_message_and_keep_the_previous_budget(session: Session, change, fragment: str) -> None:
    m = SamplesModel(session)
    shown = m.view
    change(m)
    assert fragment in m.problem and "still show the previous budget" in m.problem and m.view is shown


def test_the_profile_s_lot_is_the_starting_point_when_it_knows_one(session: Session) -> None:
    profile = session.profile.model_copy(update={"lot_volume_ml": 60.0, "final_containers_per_lot": 1,
                                                 "doses_per_lot": 1, "shelf_life_days": 2.0})
    m = SamplesModel(session.with_profile(profile))
    assert m.start == "profile" and m.start_options[0][1] == "profile"
    assert (m.volume_ml, m.final_containers, m.shelf_life, m.shelf_life_unit) == (60.0, 1, 2.0, "days")
    assert m.sources["volume_ml"] == "your product profile"
    assert m.sources["dose"] == "not in your product profile: enter it" and m.view is None  # asked for, not assumed
    m.dose = 50.0
    assert m.sources["dose"] == m.sources["dose_unit"] == "entered on this page"
    b = m.view.comparison.budget("car_t_conventional")
    assert b.retention_ml == 60.0 and not b.dose_fits  # the only bag is the dose: 600.13 needs an exception
    assert any("only container" in n for n in b.notes)
    m.start = "car_t_fresh"
    assert m.volume_ml == 150.0 and m.sources["volume_ml"] == "example lot (an assumption to replace)"


def _profile_lot(session: Session, volume: float = 70.0) -> Session:
    return session.with_profile(session.profile.model_copy(update={"lot_volume_ml": volume}))


def test_a_profile_volume_asks_for_the_dose_instead_of_taking_the_example_s(session: Session) -> None:
    """The walk-through: the profile's 70 mL with the example's 83.3 mL dose gave 'Left for the patient -52.1 mL'."""
    m = SamplesModel(_profile_lot(session))
    assert m.start == "profile" and m.volume_ml == 70.0 and m.view is None and m.problem_kind == "info"
    assert "gives the lot volume (70 mL) but not one patient's dose" in m.problem
    assert "Enter the dose in 'Dose per patient'" in m.problem
    assert m.sources["dose"] == "not in your product profile: enter it" and m.cells_per_ml == 0.0
    html = stability_samples.sources_html(dict(m.sources))
    assert "volume, shelf life, shelf-life unit: your product profile" in html
    assert "final containers, doses per lot: example lot" in html
    m.dose = 30.0
    assert m.problem == "" and m.problem_kind == "error" and m.view.lot.dose_ml == 30.0
    assert m.view.comparison.budget("car_t_conventional").remaining_ml < 0  # the samples alone exceed the lot
    rows = stability_samples.comparison_html(m.view.comparison)
    assert "none: the samples need 28.8 mL more than the lot holds (dose 30 mL)" in rows and "-28.8" not in rows


def test_a_dose_larger_than_the_lot_says_where_each_value_came_from(session: Session) -> None:
    m = SamplesModel(_profile_lot(session))
    m.dose = 30.0
    shown = m.view
    with m.hold_trait_notifications():
        m.dose_unit, m.cells_per_ml, m.dose = "cells", 3e6, 2.5e8
    assert m.view is shown and m.problem_kind == "error"
    assert ("the patient dose (2.5×10⁸ cells at 3×10⁶ cells/mL = 83.3 mL) needs more than the whole lot (70 mL), "
            "so no release plan can leave it. Correct the lot volume, the dose or its concentration") in m.problem
    assert ("Where they come from: lot volume: your product profile; dose, concentration (cells per mL): entered "
            "on this page.") in m.problem
    assert "still show the previous budget" in m.problem
    example = SamplesModel(session)
    example.doses = 2  # two of the example's 83.3 mL doses in its 150 mL
    assert "2 patient doses (2.5×10⁸ cells at 3×10⁶ cells/mL = 83.3 mL per dose × 2 doses = 167 mL)" in example.problem
    assert "doses per lot: entered on this page" in example.problem
    assert "lot volume, dose, concentration (cells per mL): example lot (an assumption to replace)" in example.problem


def test_the_aav_product(session: Session) -> None:
    m = SamplesModel(session)
    m.product = "aav"
    assert m.start == "aav_lot" and [b.plan_id for b in m.view.comparison.budgets] == ["aav_conventional",
                                                                                       "aav_alternative"]
    conventional, alternative = m.view.comparison.budgets
    assert conventional.dose_fits and m.plan_to_record == "aav_conventional"
    assert "2,000 mL" in conventional.notes[0]
    # USP <71> takes half of a 10 mL vial per medium; two 0.5 mL bottles instead. The rcAAV culture (21 days)
    # still sets release, so the faster sterility test does not bring it forward.
    assert conventional.tests_ml - alternative.tests_ml == pytest.approx(10.0 - 1.0)
    assert conventional.time_to_release_hours == alternative.time_to_release_hours == 22 * 24


# -- the view and the decisions ------------------------------------------------------------------------------


def test_view_without_a_browser_records_and_replaces_decisions(store: WorkbookStore) -> None:
    page = stability_samples.build_page(store)
    st, sa = page.stability, page.samples
    assert "cgt-page-stability_samples" in page.widget._dom_classes
    assert st.status.kind == "info" and st.figure.outputs == ()
    assert sa.status.kind == "" and len(sa.budget_out.outputs) == 1 and len(sa.timeline_out.outputs) == 1
    st.lower.value = "80"
    assert st.status.kind == "" and len(st.figure.outputs) == 1 and "12.9 months" in st.summary.value
    assert "slopes" in st.pool.value and "CT25-005" in st.lines.value and st.claim.value == "12"
    assert "12 months" in st.panel.justification.value
    st.panel.accept.click()
    st.panel.accept.click()  # accepting again replaces: one claim per attribute and storage condition
    sa.panel.accept.click()
    sa.panel.accept.click()
    saved = store.load().decisions_for("stability_samples")
    claims = [d for d in saved if isinstance(d, ShelfLifeDecision)]
    plans = [d for d in saved if isinstance(d, TestingPlanDecision)]
    assert len(claims) == 1 and len(claims[0].superseded) == 1 and len(plans) == 1 and len(plans[0].superseded) == 1
    claim, plan = claims[0], plans[0]
    assert claim.claimed_shelf_life == 12.0 and claim.governing_lot == "CT25-005" and claim.claim_supported
    assert claim.time_unit == "months" and claim.limit_source == "entered" and not claim.extrapolates
    assert plan.plan_id == "car_t_alternative" and plan.dose_fits and plan.physician_notification
    assert plan.flexibility_ids == ("CS-ALT-METHODS",) and len(plan.compared) == 2
    assert "Decisions recorded on this page: <b>1</b>" in st.panel.decisions.value  # each panel lists its own kind
    assert "Testing plan" not in st.panel.decisions.value and "Testing plan" in sa.panel.decisions.value
    sa.plan.value = "car_t_alternative_no_reserve"
    sa.panel.accept.click()
    (plan,) = [d for d in store.load().decisions_for("stability_samples") if isinstance(d, TestingPlanDecision)]
    assert plan.flexibility_ids == ("CS-ALT-METHODS", "CS-RESERVE-SAMPLES") and len(plan.superseded) == 1
    assert "2.6% of the lot consumed" in decisions.summary(plan)


def test_view_handlers_report_bad_inputs_in_their_section(store: WorkbookStore) -> None:
    page = stability_samples.build_page(store)
    st, sa = page.stability, page.samples
    st.lower.value = "80"
    figure = st.figure.outputs
    st.lot_boxes["CT23-008"].value = False
    assert st.model.lots == ["CT24-005", "CT25-003", "CT25-005"] and st.status.kind == ""
    for box in st.lot_boxes.values():
        box.value = False
    assert st.status.kind == "error" and "Choose at least one lot" in st.status.text
    assert st.figure.outputs != () and st.figure.outputs is not figure  # the last estimate (3 lots) stays
    sa.volume.value = -150.0
    assert sa.status.kind == "error" and "got -150" in sa.status.text and sa.comparison.value
    assert st.status.kind == "error"  # each section keeps its own line
    sa.volume.value = 150.0
    assert sa.status.kind == ""
    sa.test_inputs[("mycoplasma_culture", "amount")].value = -1.0
    assert "Mycoplasma, culture" in sa.status.text
    sa.product.value = "aav"
    assert ("vg_titer_ddpcr", "amount") in sa.test_inputs and sa.status.kind == ""


def test_the_page_follows_a_criterion_accepted_on_another_page(store: WorkbookStore) -> None:
    page = stability_samples.build_page(store)
    assert page.stability.model.view is None
    store.update(lambda s: s.with_decision(_viability_criterion()))
    page.on_show()
    assert page.stability.lower.value == "71.25" and page.stability.status.kind == ""
    assert "commercial criterion you accepted" in page.stability.summary.value


def test_catalog_statements_carry_their_grade() -> None:
    html = stability_samples.flexibility_html("CS-RESERVE-SAMPLES", only="regulation")
    assert "211.170(b)" in html and "600.13" in html and "cgt-prov-regulation" in html
    assert "cgtkit_reading" not in html.split("</p>", 1)[1]  # only the regulation's conditions listed


def test_decisions_check_their_fields_and_say_what_a_claim_rests_on(session: Session) -> None:
    from pydantic import ValidationError

    m = StabilityModel(session)
    m.attribute = "ifng_potency"
    m.lower_limit, m.claim = "500", "36"
    claim = m.decision("Mine.")
    assert claim.beyond_allowance and claim.extrapolates and not claim.claim_supported
    text = decisions.summary(claim)
    assert "shelf life 36 months claimed, NOT supported (the data support 24 months)" in text
    assert "log-transformed" in text and "for discussion with FDA" in text
    assert decisions.rows(claim)[0]["attribute"] == "Potency (IFN-γ release), ≤ -150 °C (LN2 vapour phase), frozen storage"
    fields = claim.model_dump()
    with pytest.raises(ValidationError, match="needs an acceptance limit"):
        ShelfLifeDecision(**{**fields, "lower_limit": None})
    with pytest.raises(ValidationError, match="exceeds the extrapolation allowance"):
        ShelfLifeDecision(**{**fields, "supported_shelf_life": 30.0})
    plan = SamplesModel(session).decision("Mine.")
    with pytest.raises(ValidationError, match="not tests \\+ reserve \\+ retention"):
        TestingPlanDecision(**{**plan.model_dump(), "consumed_ml": 10.0})
    facts = dict(decisions.facts(plan))
    assert facts["Consumed"] == "tests 3.9 mL + reserve 4.8 mL + retention 50 mL = 58.7 mL (39.1% of the lot)"
    assert facts["Notification"].startswith("physician-notification plan needed: Sterility, automated culture")
    with pytest.raises(InsufficientDataError, match="Write a justification"):
        m.decision("  ")
