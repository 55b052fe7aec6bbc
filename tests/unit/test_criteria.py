"""Criteria from few lots (cgtkit.analyses): candidates, investigational proposals, lifecycle replay."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cgtkit.attributes import get_attribute
from cgtkit.errors import InsufficientDataError
from cgtkit.io import load_lots
from cgtkit.datafiles import data_dir
from cgtkit.analyses.lifecycle import (
    CheckpointReading,
    Reading,
    lifecycle_replay,
    render_reading,
    render_verdict,
)
from cgtkit.analyses.specifications import (
    AttributeData,
    attribute_data,
    candidate_criteria,
    investigational_proposal,
    probability_text,
    proposals_frame,
)
from cgtkit.stats.oos_risk import future_lot_oos_probability, prob_any_oos, prob_any_oos_limits
from cgtkit.stats.tolerance import tolerance_factor


def _data(values, attribute: str = "potency", censoring=None) -> AttributeData:
    n = len(values)
    lots = pd.DataFrame(
        {
            "lot_id": [f"L{i:03d}" for i in range(n)],
            "lot_type": ["clinical"] * n,
            "manufacture_date": pd.date_range("2024-01-01", periods=n, freq="7D"),
            "value": np.asarray(values, dtype=float),
            "censoring": censoring or ["none"] * n,
        }
    )
    return AttributeData(spec=get_attribute(attribute), lots=lots)


@pytest.fixture(scope="module")
def car_t() -> pd.DataFrame:
    return load_lots(data_dir() / "examples" / "car_t_lots.csv")


def test_candidates_for_a_lower_limited_attribute(car_t: pd.DataFrame) -> None:
    data = attribute_data(car_t, get_attribute("viability"), ["clinical", "ppq"])
    cs = candidate_criteria(data)
    assert cs.n == 27 and cs.limit_side == "lower"
    ti99 = cs.get("ti_99_95")
    assert ti99.high is None and ti99.low is not None
    assert ti99.k == pytest.approx(tolerance_factor(27, 0.99, 0.95, sided=1))
    # a wider criterion never has a larger false-OOS risk
    assert cs.get("ti_99_99").low < ti99.low < cs.get("ti_95_95").low
    assert cs.get("ti_99_99").risk[100] < ti99.risk[100] < cs.get("ti_95_95").risk[100]
    # risk grows with the number of future lots
    for c in cs.candidates:
        assert c.risk[10] <= c.risk[50] <= c.risk[100]
    frame = cs.to_frame()
    assert list(frame.columns[:6]) == ["key", "criterion", "method", "low", "high", "k"]
    assert {"risk_next_10", "risk_next_50", "risk_next_100"} <= set(frame.columns)


def test_lognormal_attribute_limits_are_back_transformed() -> None:
    rng = np.random.default_rng(1)
    values = np.exp(rng.normal(np.log(1.8), 0.3, 12))
    cs = candidate_criteria(_data(values, "vector_copy_number"))
    c = cs.get("ti_95_95")
    assert cs.scale == "log" and c.low is None and c.high > values.max() * 0.9
    logs = np.log(values)
    k = tolerance_factor(12, 0.95, 0.95, sided=1)
    assert c.high == pytest.approx(np.exp(logs.mean() + k * logs.std(ddof=1)))


def test_percent_limits_stay_within_0_and_100() -> None:
    cs = candidate_criteria(_data([97, 99.5, 92, 99.9, 95], "cd3_purity"))
    for c in cs.candidates:
        assert c.low is None or c.low >= 0
        assert c.high is None or c.high <= 100


@pytest.mark.parametrize(
    ("values", "attribute", "message"),
    [
        ([90, 91], "viability", "only 2 lot"),
        ([90, 90, 90, 90], "viability", "variab"),
        ([1.0, 2.0, 3.0], "sterility", "fixed requirement"),
        ([1.2, 0.0, 2.0, 1.5], "vector_copy_number", "positive|non-positive"),
    ],
)
def test_bad_inputs_explain_themselves(values, attribute: str, message: str) -> None:
    with pytest.raises(InsufficientDataError, match=message):
        candidate_criteria(_data(values, attribute))


def test_all_censored_is_refused() -> None:
    data = _data([10, 10, 10, 10], "residual_hcdna", censoring=["left"] * 4)
    with pytest.raises(InsufficientDataError, match="censored"):
        candidate_criteria(data)


def test_investigational_proposal_is_wide_and_keeps_every_lot(car_t: pd.DataFrame) -> None:
    data = attribute_data(car_t, get_attribute("transduction_efficiency"), ["engineering", "clinical"])
    p = investigational_proposal(data)
    assert p.ok and p.low is not None and p.high is not None
    assert p.low <= data.values.min() and p.high >= data.values.max()
    assert "99%" in p.rationale and "27 engineering/clinical lots" in p.rationale
    assert 0 < p.next_lot_outside < 0.05


def test_investigational_proposal_reports_problems_instead_of_raising() -> None:
    sterility = _data([np.nan] * 3, "sterility")
    sterility = AttributeData(sterility.spec, sterility.lots.assign(result=["pass", "pass", "fail"]))
    fixed = investigational_proposal(sterility)
    assert fixed.ok and fixed.basis == "fixed requirement" and "No growth" in fixed.rationale
    assert "3 result(s) in the selection, 1 failing" in fixed.rationale
    few = investigational_proposal(_data([88.0, 90.0], "viability"))
    assert not few.ok and "at least 3" in few.problem


def test_replay_flags_narrow_early_limits_without_a_shift() -> None:
    # first 5 lots happen to be tight; later lots of the same process spread wider (true SD 3)
    rng = np.random.default_rng(3)
    early = np.array([90.0, 90.3, 89.8, 90.1, 89.9])
    later = rng.normal(90, 3, 35)
    replay = lifecycle_replay(_data(np.concatenate([early, later]), "potency"), coverage=0.95, confidence=0.95)
    first = replay.checkpoints[0]
    assert first.n_lots == 5 and first.later_outside > 5
    assert first.re_evaluate
    assert [c.n_lots for c in replay.checkpoints] == [5, 10, 20, 30]
    assert len(replay.chart_points) == 40


def test_replay_separates_a_real_shift_from_variability() -> None:
    rng = np.random.default_rng(5)
    values = np.concatenate([rng.normal(100, 3, 20), rng.normal(108, 3, 20)])  # process shift after lot 20
    replay = lifecycle_replay(_data(values, "potency"))
    assert "shift" in replay.chart_verdict.lower() or replay.chart_points["out_of_control"].any()
    assert any("sustained shift" in c.verdict for c in replay.checkpoints if c.later_outside)
    assert not any("under-stated normal variability" in c.verdict for c in replay.checkpoints)


def test_replay_of_a_stable_process_is_mostly_consistent() -> None:
    rng = np.random.default_rng(11)
    replay = lifecycle_replay(_data(rng.normal(100, 5, 40), "potency"))
    assert sum(c.later_outside for c in replay.checkpoints[1:]) <= 2
    assert replay.to_frame().shape[0] == 4


def test_replay_needs_enough_lots() -> None:
    with pytest.raises(InsufficientDataError, match="replay needs"):
        lifecycle_replay(_data([1.0, 2.0, 3.0], "potency"), checkpoints=(5, 10))


def test_clipped_percent_limit_is_explained() -> None:
    cs = candidate_criteria(_data([97, 80, 99], "viability"))  # 3 lots, wide spread: 99/99 limit < 0%
    assert cs.get("ti_99_99").low == 0.0
    assert any("physical bound" in note for note in cs.notes)
    assert not any("physical bound" in n for n in candidate_criteria(_data([88, 90, 86, 91, 89], "viability")).notes)


def test_clip_note_names_the_bound_used() -> None:
    cs = candidate_criteria(_data([97, 80, 99], "viability"))
    note = next(n for n in cs.notes if "physical bound" in n)
    assert "(lower 0 %)" in note
    assert cs.get("ti_99_99").at_bound == ("lower",) and cs.get("range").at_bound == ()


def test_unbounded_attribute_is_never_clipped() -> None:
    # an attribute not in the metadata has no physical bounds: a negative limit stays negative
    cs = candidate_criteria(_data([3.0, 0.5, 5.0], "potency"))
    assert cs.get("ti_99_99").low < 0 and not any("physical bound" in n for n in cs.notes)


def test_relative_potency_is_not_capped_at_100() -> None:
    # "% of reference" is not a percentage of a whole: potency above the reference is real (AAV lots 101-123)
    aav = load_lots(data_dir() / "examples" / "aav_lots.csv")
    spec = get_attribute("relative_potency")
    data = attribute_data(aav, spec, ["clinical", "ppq"])
    every_lot = attribute_data(aav, spec).values
    cs = candidate_criteria(data)
    assert data.values.max() > 100 and not any("physical bound" in n for n in cs.notes)
    for c in cs.candidates:
        assert c.high is not None and c.high >= data.values.max() > 100, c.key
        assert c.low <= data.values.min(), c.key  # every lot the criterion was set from meets it
        if c.key.startswith("ti_"):  # and the tolerance intervals hold every lot made so far
            assert c.low <= every_lot.min() and c.high >= every_lot.max(), c.key
    proposal = investigational_proposal(attribute_data(aav, spec, ["engineering", "clinical"]))
    assert proposal.high > 100


def test_replay_readings_are_typed_and_rendered() -> None:
    rng = np.random.default_rng(3)
    values = np.concatenate([[90.0, 90.3, 89.8, 90.1, 89.9], rng.normal(90, 3, 35)])
    replay = lifecycle_replay(_data(values, "potency"), coverage=0.95, confidence=0.95)
    first = replay.checkpoints[0]
    assert first.readings[0].kind is Reading.UNDERSTATED_VARIABILITY
    assert first.readings[0].outside == first.later_outside and first.readings[0].later_lots == first.later_lots
    for cp in replay.checkpoints:
        assert cp.verdict == render_verdict(cp.readings) == " ".join(render_reading(r) for r in cp.readings)
        assert cp.re_evaluate == any(r.kind in (Reading.UNDERSTATED_VARIABILITY, Reading.LIMITS_MOVED)
                                     for r in cp.readings)
    frame = replay.to_frame()
    assert list(frame.columns[:10]) == ["n_lots", "through_lot", "low", "high", "k", "later_lots", "later_outside",
                                        "expected_outside", "verdict", "re_evaluate"]
    assert frame["readings"].iloc[0] == (Reading.UNDERSTATED_VARIABILITY,)
    last = CheckpointReading(Reading.NOT_YET_TESTED)
    assert render_reading(last) == "No later lots yet to test these criteria."
    moved = CheckpointReading(Reading.LIMITS_MOVED, n_lots=20, width_change=-0.4)
    assert render_reading(moved).startswith("Limits from 20 lots are 40% narrower than at the previous checkpoint")


# -- issue #15: physical bounds, geometric labels, wording, censored risk, edge cases -----------------


def test_proposal_at_a_physical_bound_is_not_offered_as_a_tolerance_limit() -> None:
    # issue #15.4: viability [92, 70, 85] used to give "not less than 0.0 %" with a tolerance-interval rationale
    p = investigational_proposal(_data([92.0, 70.0, 85.0], "viability"))
    assert not p.ok and p.at_bound == ("lower",)
    assert p.problem and "physical bound" in p.problem and "no tolerance limit is proposed" in p.problem
    assert p.basis == "physical bound" and p.low == 0.0  # the value shown at the bound, for information only
    # its risk is that of the limit shown (at 0 %), not the nominal risk of the tolerance limit
    k_tolerance = tolerance_factor(3, 0.99, 0.95, sided=1)
    assert p.next_lot_outside > future_lot_oos_probability(3, k_tolerance, sided=1)
    frame = proposals_frame([p])
    assert frame.loc[0, "ok"] == False and frame.loc[0, "at_bound"] == "lower"  # noqa: E712
    usable = investigational_proposal(_data([92.0, 90.0, 91.5, 89.0], "viability"))
    assert usable.ok and usable.at_bound == () and usable.low > 0


def test_candidate_at_a_physical_bound_says_so_and_its_risk_is_for_the_limit_shown() -> None:
    data = _data([97, 80, 99], "viability")
    cs = candidate_criteria(data)
    c = cs.get("ti_99_99")
    assert c.at_bound == ("lower",) and not c.ok and c.k is None
    assert "physical bound" in c.label and "not a tolerance limit" in c.label and "physical bound" in c.method
    values = data.values
    k_shown = (values.mean() - 0.0) / values.std(ddof=1)  # the limit shown, 0 %, in SDs below the mean
    for m in cs.horizons:
        assert c.risk[m] == pytest.approx(prob_any_oos_limits(3, m, k_low=k_shown, k_high=None), rel=1e-9)
        assert c.risk[m] > prob_any_oos(3, tolerance_factor(3, 0.99, 0.99, sided=1), m, sided=1).probability
    assert cs.get("ti_95_95").ok and cs.get("ti_95_95").k is not None
    frame = cs.to_frame()
    assert frame.set_index("key").loc["ti_99_99", "at_bound"] == "lower"


def test_a_limit_is_never_clipped_inside_the_observed_range() -> None:
    # a result just past the physical bound (-0.3 % of a percentage): the limit stays at or beyond it
    values = [-0.3, 40.0, 62.0, 20.0]
    cs = candidate_criteria(_data(values, "transduction_efficiency"))
    for c in cs.candidates:
        assert c.low is None or c.low <= min(values), c.key
    assert cs.get("ti_99_99").low == -0.3 and "lower" in cs.get("ti_99_99").at_bound


def test_three_sd_on_a_lognormal_attribute_is_geometric() -> None:
    rng = np.random.default_rng(1)
    values = np.exp(rng.normal(np.log(1.8), 0.3, 12))
    upper = candidate_criteria(_data(values, "vector_copy_number")).get("mean_3sd")
    assert upper.label == "Geometric mean × geometric SD³"
    assert "geometric mean" in upper.method and "geometric SD" in upper.method
    logs = np.log(values)
    gm, gsd = np.exp(logs.mean()), np.exp(logs.std(ddof=1))
    assert upper.high == pytest.approx(gm * gsd**3)
    both = candidate_criteria(_data(values * 1e12, "vector_genome_titer")).get("mean_3sd")
    assert both.label == "Geometric mean ×/÷ geometric SD³"
    assert both.low == pytest.approx(gm * 1e12 / gsd**3) and both.high == pytest.approx(gm * 1e12 * gsd**3)
    normal = candidate_criteria(_data([97.0, 99.5, 92.0, 99.9, 95.0], "cd3_purity")).get("mean_3sd")
    assert normal.label == "Mean − 3 SD" and "geometric" not in normal.method


def test_risk_wording_says_it_is_the_procedures_average_risk(car_t: pd.DataFrame) -> None:
    cs = candidate_criteria(attribute_data(car_t, get_attribute("viability"), ["clinical", "ppq"]))
    for c in cs.candidates:
        assert "average risk" in c.risk_basis and "not the risk of these particular limits" in c.risk_basis, c.key
        assert not c.risk_approximate
    p = investigational_proposal(attribute_data(car_t, get_attribute("viability"), ["engineering", "clinical"]))
    assert "covering at least 99% of lots with 95% confidence" in p.rationale
    assert "average risk" in p.rationale and "not that of these particular limits" in p.rationale
    assert probability_text(0.0004) == "<0.1%" and probability_text(0.0) == "<0.1%"


def test_lot_types_are_named_as_selected(car_t: pd.DataFrame) -> None:
    p = investigational_proposal(attribute_data(car_t, get_attribute("viability"), ["clinical", "ppq"]))
    assert "27 clinical/PPQ lots" in p.rationale and "engineering" not in p.rationale


def test_numeric_safety_results_are_not_counted_as_passing(car_t: pd.DataFrame) -> None:
    # issue #15.7: endotoxin results are numbers never compared with the (dose-derived) limit
    p = investigational_proposal(attribute_data(car_t, get_attribute("endotoxin"), ["engineering", "clinical"]))
    assert p.ok and "failing" not in p.rationale and "passing" not in p.rationale
    assert "numeric result(s)" in p.rationale and "not compared with the requirement" in p.rationale


def test_censored_results_give_calibrated_limits_and_approximate_risks() -> None:
    aav = load_lots(data_dir() / "examples" / "aav_lots.csv")
    data = attribute_data(aav, get_attribute("residual_hcdna"), ["engineering", "clinical"])
    assert (data.lots["censoring"] != "none").sum() == 2
    cs = candidate_criteria(data)
    for key in ("ti_95_95", "ti_99_95", "ti_99_99", "mean_3sd"):
        c = cs.get(key)
        assert c.risk_approximate and "approximate" in c.risk_basis, key
    ti = cs.get("ti_99_95")
    assert "bootstrap" in ti.method and ti.k > tolerance_factor(10, 0.99, 0.95, sided=1)
    assert not cs.get("range").risk_approximate
    assert any("approximate" in note for note in cs.notes)
    assert any("calibrated parametric bootstrap" in note for note in cs.notes)
    p = investigational_proposal(data)
    assert p.ok and p.risk_approximate and "approximate" in p.rationale and "bootstrap" in p.rationale


def test_non_positive_value_on_the_log_scale_names_the_lot() -> None:
    # issue #15.8
    with pytest.raises(InsufficientDataError, match=r"greater than 0 \(positive\), but lot L001 has 0\."):
        candidate_criteria(_data([1.2, 0.0, 2.0, 1.5], "vector_copy_number"))
    with pytest.raises(InsufficientDataError, match=r"lot L002 has -0\.4 \(1 other lot"):
        candidate_criteria(_data([1.2, 1.1, -0.4, 1.5, 0.0], "vector_copy_number"))
    p = investigational_proposal(_data([1.2, 0.0, 2.0, 1.5], "vector_copy_number"))
    assert not p.ok and "L001" in p.problem


def test_identical_up_to_rounding_and_huge_values_are_refused_in_words() -> None:
    # issue #15.8
    with pytest.raises(InsufficientDataError, match="identical"):
        candidate_criteria(_data([1.0, 1.0 + 1e-15, 1.0], "potency"))
    with pytest.raises(InsufficientDataError, match="computer can hold"):
        candidate_criteria(_data([1e308, 1.5e308, 1.7e308], "potency"))
    p = investigational_proposal(_data([1e308, 1.5e308, 1.7e308], "potency"))
    assert not p.ok and "computer can hold" in p.problem
    cs = candidate_criteria(_data([1e300, 1.5e300, 1.7e300, 1.2e300], "potency"))
    assert all(c.low is None or np.isfinite(c.low) for c in cs.candidates)
