"""Tests for cgtkit.stats.stability, cgtkit.analyses.stability and the stability figure.

Reference data and values
-------------------------
* LeBlond, D., Griffith, D. and Aubuchon, K. (2011). Linear Regression 102:
  Stability shelf life estimation using analysis of covariance. *J. Validation
  Technology* 17(3):47-68. The data of Tables IV, VI, VIII (potency), XI
  (related substance) and XIII (moisture) are typed below as transcribed in
  the R package expirest (Dahinden; data sets ``exp1``-``exp3``), whose test
  file ``tests/testthat/test-expirest_osle.R`` also quotes the paper's results
  (Tables V, VII, IX, XII, XIV) next to expirest's own, to 12 digits.
* SAS Institute (2015), *JMP 12 Reliability and Survival Methods*, Stability
  Analysis (Stability.jmp, pp. 174-176), transcribed as expirest ``exp4``;
  JMP's "Earliest Crossing Time" per model and its F statistics are quoted in
  the same expirest test file.

expirest finds the crossing iteratively (agreement to about 1e-6); cgtkit
solves it exactly, and matches JMP 12.0.1's 15.844877978 for Table VIII to 9
digits. The published tables round to 0.1-0.01 months.
"""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pandas as pd
import pytest

from cgtkit.analyses.stability import (
    Direction,
    StorageCategory,
    TimeUnit,
    analyse_stability,
    observed_frame,
    stability_data,
    storage_category_from_text,
)
from cgtkit.datafiles import data_dir
from cgtkit.errors import CgtkitError, InsufficientDataError, LotDataError
from cgtkit.io import load_lots
from cgtkit.stats.stability import convert_time, q1e_poolability, q1e_shelf_life

# ---------------------------------------------------------------------------------------------------------
# LeBlond et al. (2011): potency (% label claim) of batches 2, 3, 4, 5, 7, 8 (expirest exp1).
_T10 = [0, 1, 3, 3, 6, 6, 12, 12, 24, 24]
POTENCY = {
    "b2": (_T10, [101.0, 101.3, 99.8, 99.2, 99.5, 97.8, 97.4, 97.2, 96.9, 96.0]),
    "b3": ([0, 3, 3, 6, 6, 12, 12, 24, 24], [104.8, 103.0, 101.2, 100.8, 99.2, 98.6, 97.2, 97.6, 98.0]),
    "b4": ([0, 3, 6, 6, 12, 12, 24, 24], [104.0, 103.2, 102.8, 103.3, 102.4, 101.2, 99.1, 99.5]),
    "b5": ([0, 1, 2, 3, 3, 6, 6, 12, 12, 24, 24],
           [102.0, 101.4, 100.8, 100.2, 99.7, 98.8, 98.5, 98.0, 97.1, 96.6, 96.1]),
    "b7": (_T10, [101.3, 101.5, 100.2, 99.8, 99.0, 98.5, 98.5, 97.4, 96.6, 96.4]),
    "b8": ([0, 3, 6, 12, 12], [101.6, 100.0, 99.0, 97.8, 97.0]),
}
# Table XI: related substance (% label claim), batches 4, 5, 8 (expirest exp2).
RELATED = {
    "b4": ([0, 3, 6, 6, 12, 12, 24, 24], [0.030, 0.054, 0.066, 0.051, 0.078, 0.114, 0.177, 0.165]),
    "b5": ([0, 1, 2, 3, 3, 6, 6, 12, 12, 24, 24],
           [0.090, 0.108, 0.126, 0.144, 0.159, 0.186, 0.195, 0.210, 0.237, 0.252, 0.267]),
    "b8": ([0, 3, 6, 12, 12], [0.102, 0.150, 0.180, 0.216, 0.240]),
}
# Table XIII: moisture (% w/w), batches 1, 2, 3 (expirest exp3).
_T11 = [0, 1, 2, 3, 3, 6, 6, 12, 12, 24, 24]
MOISTURE = {
    "b1": (_T11, [2.20059, 1.70372, 3.32395, 2.75907, 2.43192, 1.76331, 1.56801, 2.19423, 3.22311, 3.16325, 1.54837]),
    "b2": (_T11, [2.81078, 1.94915, 2.49058, 2.00485, 3.30700, 2.99309, 3.30159, 2.72512, 1.88341, 2.77215, 1.69048]),
    "b3": (_T11, [2.45301, 2.16138, 2.26631, 2.12853, 2.51775, 2.31034, 3.36915, 2.32070, 2.72001, 2.19393, 3.45895]),
}
# JMP 12 Stability.jmp: concentration (mg/kg), batches 1_11 ... 4_14 (expirest exp4).
JMP = {
    "1_11": ([0, 3, 3, 6, 6, 12, 12, 24, 24], [102.0, 101.0, 101.0, 100.5, 100.8, 100.1, 99.0, 96.7, 97.2]),
    "2_12": (_T10, [101.0, 101.3, 99.8, 99.2, 99.5, 97.8, 97.4, 97.2, 96.9, 96.0]),
    "3_13": ([0, 3, 3, 6, 6, 12, 12, 24, 24], [104.8, 103.0, 101.2, 100.8, 99.2, 98.6, 97.2, 97.6, 98.0]),
    "4_14": ([0, 3, 6, 6, 12, 12, 24, 24], [104.0, 103.2, 102.8, 103.3, 102.4, 101.2, 99.1, 99.5]),
}


def arrays(table: dict, lots: list[str] | None = None) -> tuple[list[float], list[float], list[str]]:
    t, y, lot = [], [], []
    for name in lots or list(table):
        times, values = table[name]
        t += list(times)
        y += list(values)
        lot += [name] * len(times)
    return t, y, lot


# ---------------------------------------------------------------------------------------------------------
# Published results


def test_leblond_table_iv_pooled():
    """Tables IV/V, Figure 4: cics, POI 26, y = 100.567 - 0.192994 t; F batch 0.436, batch x time 0.229."""
    r = q1e_shelf_life(*arrays(POTENCY, ["b2", "b5", "b7"]), lower_limit=95.0)
    assert r.model == "pooled" and r.governing_lot is None
    assert r.shelf_life == pytest.approx(25.9957631369, abs=1e-5)  # expirest; LeBlond: 26
    assert round(r.shelf_life) == 26
    (line,) = r.lines
    assert line.intercept == pytest.approx(100.566878981, rel=1e-9)
    assert line.slope == pytest.approx(-0.192993630573, rel=1e-9)
    tests = r.poolability.to_frame().set_index("term")
    assert tests.loc["intercepts", "f_value"] == pytest.approx(0.435993484727, rel=1e-9)
    assert tests.loc["slopes", "f_value"] == pytest.approx(0.228684731019, rel=1e-9)


def test_leblond_table_vi_common_slope():
    """Tables VI/VII, Figure 6: dics, POI 23.4; intercepts 102.176, 104.255, 100.82, slope -0.213121."""
    r = q1e_shelf_life(*arrays(POTENCY, ["b3", "b4", "b5"]), lower_limit=95.0)
    assert r.model == "common_slope"
    assert r.shelf_life == pytest.approx(23.3972651235, abs=1e-5)  # expirest; LeBlond: 23.4
    assert round(r.shelf_life, 1) == 23.4
    assert r.governing_lot == "b5"
    assert [ln.intercept for ln in r.lines] == pytest.approx([102.175653109, 104.255189423, 100.820021871], rel=1e-9)
    assert [ln.slope for ln in r.lines] == pytest.approx([-0.213120866465] * 3, rel=1e-9)
    f = r.poolability.to_frame().set_index("term")["f_value"]
    assert (f["intercepts"], f["slopes"]) == pytest.approx((21.7380213596, 0.183108926252), rel=1e-9)


def test_leblond_table_viii_separate_slopes():
    """Tables VIII/IX, Figure 7: dids; per-batch lines; POI 15.6 with the pooled MSE (LeBlond), 15.8449 from each
    batch's own regression (JMP 12.0.1: 15.844877978)."""
    t, y, lot = arrays(POTENCY, ["b4", "b5", "b8"])
    r = q1e_shelf_life(t, y, lot, lower_limit=95.0)
    assert r.model == "separate" and r.governing_lot == "b8" and r.separate_error == "individual"
    assert r.shelf_life == pytest.approx(15.844877978, abs=1e-8)
    assert [ln.intercept for ln in r.lines] == pytest.approx([104.070645793, 100.781872268, 101.259375000], rel=1e-9)
    assert [ln.slope for ln in r.lines] == pytest.approx([-0.196151337247, -0.208608547839, -0.330208333333],
                                                         rel=1e-9)
    f = r.poolability.to_frame().set_index("term")["f_value"]
    assert (f["intercepts"], f["slopes"]) == pytest.approx((72.1242158003, 1.95541944320), rel=1e-9)
    assert r.poolability.to_frame().set_index("term").loc["intercepts", "used"] == False  # noqa: E712
    pooled_mse = q1e_shelf_life(t, y, lot, lower_limit=95.0, separate_error="pooled")
    assert round(pooled_mse.shelf_life, 1) == 15.6 and pooled_mse.governing_lot == "b8"


def test_leblond_table_xi_upper_limit():
    """Tables XI/XII, Figure 8: related substance rises, upper limit 0.3 %; dids; POI 15.61 (pooled MSE)."""
    t, y, lot = arrays(RELATED)
    r = q1e_shelf_life(t, y, lot, upper_limit=0.3)
    assert r.model == "separate" and r.governing_side == "upper" and r.governing_lot == "b8"
    assert r.shelf_life == pytest.approx(15.8448655130, abs=1e-4)  # expirest (iterative)
    assert [ln.intercept for ln in r.lines] == pytest.approx([0.027880626223, 0.126543831957, 0.112218750000],
                                                             rel=1e-9)
    assert [ln.slope for ln in r.lines] == pytest.approx([0.005884540117, 0.006258256435, 0.009906250000], rel=1e-9)
    assert round(q1e_shelf_life(t, y, lot, upper_limit=0.3, separate_error="pooled").shelf_life, 2) == 15.61


def test_leblond_table_xiii_two_sided():
    """Tables XIII/XIV, Figure 9: moisture, limits 1.5-3.5 %, direction unknown (two-sided 95 % interval); cics;
    POI 45.35 (upper limit); y = 2.45678 + 0.0022724 t; F batch 0.354, batch x time 0.748."""
    t, y, lot = arrays(MOISTURE)
    r = q1e_shelf_life(t, y, lot, lower_limit=1.5, upper_limit=3.5, sided=2)
    assert r.model == "pooled"
    assert r.shelf_life == pytest.approx(45.3460440833, abs=1e-5)  # expirest; LeBlond: 45.35
    assert round(r.shelf_life, 2) == 45.35 and r.governing_side == "upper"
    assert r.lines[0].intercept == pytest.approx(2.45678204711, rel=1e-9)
    assert r.lines[0].slope == pytest.approx(0.002272338514, rel=1e-8)
    lower_only = q1e_shelf_life(t, y, lot, lower_limit=1.5, sided=2)
    assert lower_only.shelf_life == pytest.approx(50.7665191694, abs=1e-5)  # expirest, lower side
    f = r.poolability.to_frame().set_index("term")["f_value"]
    assert (f["intercepts"], f["slopes"]) == pytest.approx((0.353853883257, 0.748152729736), rel=1e-9)


def test_jmp_stability_example():
    """JMP 12, Stability.jmp (Figure 6.27): different intercepts, common slope accepted at 0.25; earliest crossing
    times 23.11596 (dids), 23.47505 (dics, chosen), 29.98567 (cics); worst batch 2_12; F statistics A 10.10836,
    B 19.88764, C 0.329081."""
    t, y, lot = arrays(JMP)
    r = q1e_shelf_life(t, y, lot, lower_limit=95.0)
    assert r.model == "common_slope" and r.governing_lot == "2_12" and r.model_chosen_by == "poolability"
    assert round(r.shelf_life, 5) == 23.47505
    assert round(q1e_shelf_life(t, y, lot, lower_limit=95.0, model="pooled").shelf_life, 5) == 29.98567
    forced = q1e_shelf_life(t, y, lot, lower_limit=95.0, model="separate")
    assert round(forced.shelf_life, 5) == 23.11596 and forced.model_chosen_by == "user"
    assert any("chosen by the user" in n for n in forced.notes)
    # LeBlond's pooled-MSE variant of the separate model (expirest's note: 23.244185941565)
    pooled_mse = q1e_shelf_life(t, y, lot, lower_limit=95.0, model="separate", separate_error="pooled")
    assert pooled_mse.shelf_life == pytest.approx(23.244185941565, abs=1e-6)
    f = r.poolability.to_frame().set_index("term")["f_value"]
    assert round(f["intercepts"], 5) == 19.88764 and round(f["slopes"], 6) == 0.329081
    dics = r.lines
    assert [ln.intercept for ln in dics] == pytest.approx([101.833246643, 100.450143334, 102.066579977,
                                                          104.136572391], rel=1e-9)
    assert dics[0].slope == pytest.approx(-0.202213553211, rel=1e-9)


# ---------------------------------------------------------------------------------------------------------
# Agreement with statsmodels


DATASETS = {
    "table_iv": arrays(POTENCY, ["b2", "b5", "b7"]),
    "table_vi": arrays(POTENCY, ["b3", "b4", "b5"]),
    "table_viii": arrays(POTENCY, ["b4", "b5", "b8"]),
    "table_xiii": arrays(MOISTURE),
    "jmp": arrays(JMP),
}


@pytest.mark.parametrize("name", list(DATASETS))
def test_poolability_matches_statsmodels_ancova(name):
    """The F tests are statsmodels' ANCOVA of value ~ time * lot: lots after time, interaction last (type II sums
    of squares), each against the full model's mean square error; the same as anova_lm of the nested fits."""
    import statsmodels.formula.api as smf
    from statsmodels.stats.anova import anova_lm

    t, y, lot = DATASETS[name]
    frame = pd.DataFrame({"time": t, "value": y, "lot": lot})
    full = smf.ols("value ~ time * C(lot)", data=frame).fit()
    table = anova_lm(full, typ=2)
    nested = anova_lm(smf.ols("value ~ time", data=frame).fit(), smf.ols("value ~ time + C(lot)", data=frame).fit(),
                      full)
    ours = q1e_poolability(t, y, lot).to_frame().set_index("term")
    assert ours.loc["intercepts", "f_value"] == pytest.approx(table.loc["C(lot)", "F"], rel=1e-10)
    assert ours.loc["intercepts", "pvalue"] == pytest.approx(table.loc["C(lot)", "PR(>F)"], rel=1e-8)
    assert ours.loc["slopes", "f_value"] == pytest.approx(table.loc["time:C(lot)", "F"], rel=1e-10)
    assert ours.loc["slopes", "pvalue"] == pytest.approx(table.loc["time:C(lot)", "PR(>F)"], rel=1e-8)
    assert list(ours["f_value"]) == pytest.approx(list(nested["F"].iloc[[2, 1]]), rel=1e-10)
    assert ours.loc["slopes", "df_den"] == table.loc["Residual", "df"]
    slopes_differ = table.loc["time:C(lot)", "PR(>F)"] < 0.25
    expected = "separate" if slopes_differ else ("common_slope" if table.loc["C(lot)", "PR(>F)"] < 0.25 else "pooled")
    assert q1e_poolability(t, y, lot).model == expected


@pytest.mark.parametrize(("name", "kwargs"), [
    ("table_iv", {"lower_limit": 95.0}),
    ("table_vi", {"lower_limit": 95.0}),
    ("table_xiii", {"lower_limit": 1.5, "upper_limit": 3.5, "sided": 2}),
])
def test_bound_at_shelf_life_is_the_statsmodels_confidence_limit(name, kwargs):
    """At the shelf life, statsmodels' confidence interval of the mean (get_prediction) touches the limit."""
    import statsmodels.formula.api as smf

    t, y, lot = DATASETS[name]
    r = q1e_shelf_life(t, y, lot, **kwargs)
    frame = pd.DataFrame({"time": t, "value": y, "lot": lot})
    formula = {"pooled": "value ~ time", "common_slope": "value ~ C(lot) + time"}[r.model]
    fit = smf.ols(formula, data=frame).fit()
    at = pd.DataFrame({"time": [r.shelf_life], "lot": [r.governing_lot or lot[0]]})
    alpha = 2 * (1 - r.confidence_level) if r.sided == 1 else 1 - r.confidence_level
    ci = fit.get_prediction(at).summary_frame(alpha=alpha).iloc[0]
    limit = r.lower_limit if r.governing_side == "lower" else r.upper_limit
    bound = ci["mean_ci_lower"] if r.governing_side == "lower" else ci["mean_ci_upper"]
    assert bound == pytest.approx(limit, abs=1e-9)
    gov = r.line(r.governing_lot or "all lots")
    low, high = gov.bounds([r.shelf_life])
    assert (low if r.governing_side == "lower" else high)[0] == pytest.approx(limit, abs=1e-9)


# ---------------------------------------------------------------------------------------------------------
# Behaviour


def test_log_transform_for_exponential_decay():
    """A titer that loses 2 % a month: regressed on ln(value), the line is the geometric mean and the crossing
    is where the back-transformed bound meets the limit."""
    rng = np.random.default_rng(7)
    t = np.repeat([0.0, 3, 6, 9, 12, 18], 2)
    y = 1.0e13 * np.exp(-0.02 * t + rng.normal(0.0, 0.03, t.size))
    r = q1e_shelf_life(t, y, None, lower_limit=7.0e12, log_transform=True)
    line = r.lines[0]
    assert line.slope == pytest.approx(np.polyfit(t, np.log(y), 1)[0], rel=1e-10)
    low, _ = line.bounds([r.shelf_life])
    assert low[0] == pytest.approx(7.0e12, rel=1e-9)
    assert line.mean(0.0) == pytest.approx(math.exp(line.intercept))
    assert any("natural logarithm" in n and "geometric mean" in n for n in r.notes)
    linear = q1e_shelf_life(t, y, None, lower_limit=7.0e12)
    assert linear.shelf_life != pytest.approx(r.shelf_life, rel=1e-3)


def test_time_unit_is_a_label_and_results_scale_with_it():
    t, y, lot = arrays(POTENCY, ["b2", "b5", "b7"])
    months = q1e_shelf_life(t, y, lot, lower_limit=95.0)
    days = [convert_time(x, "months", "days") for x in t]
    in_days = q1e_shelf_life(days, y, lot, lower_limit=95.0, time_unit="days")
    assert in_days.time_unit == "days"
    assert in_days.shelf_life == pytest.approx(convert_time(months.shelf_life, "months", "days"), rel=1e-10)
    assert convert_time(2.5, "hours", "minutes") == 150.0


def test_extrapolation_beyond_the_allowance_is_flagged():
    t, y, lot = arrays(MOISTURE)
    r = q1e_shelf_life(t, y, lot, lower_limit=1.5, upper_limit=3.5, sided=2,
                       max_extrapolation_factor=2.0, max_extrapolation_beyond=12.0)
    assert r.extrapolated and r.beyond_allowance
    assert r.allowed_shelf_life == 36.0 and r.supported_shelf_life == 36.0
    assert any("ICH Q1E convention" in n and "discussion with FDA" in n for n in r.notes)
    none_allowed = q1e_shelf_life(t, y, lot, lower_limit=1.5, upper_limit=3.5, sided=2)
    assert none_allowed.supported_shelf_life == 24.0
    within = q1e_shelf_life(*arrays(POTENCY, ["b2", "b5", "b7"]), lower_limit=95.0,
                            max_extrapolation_factor=2.0, max_extrapolation_beyond=12.0)
    assert within.extrapolated and not within.beyond_allowance
    assert within.supported_shelf_life == within.shelf_life


def test_bound_outside_at_start_and_never_reached():
    t, y, lot = arrays(POTENCY, ["b2", "b5", "b7"])
    at_start = q1e_shelf_life(t, y, lot, lower_limit=101.0)
    assert at_start.shelf_life == 0.0 and any("already at time 0" in n for n in at_start.notes)
    rising = q1e_shelf_life(t, [200 - v for v in y], lot, lower_limit=95.0)  # moves away from a lower limit
    assert math.isinf(rising.shelf_life) and rising.governing_lot is None
    assert rising.supported_shelf_life == 24.0


def test_frames():
    r = q1e_shelf_life(*arrays(JMP), lower_limit=95.0)
    frame = r.to_frame()
    assert list(frame.columns) == ["lot", "intercept", "slope", "df", "n_obs", "last_time", "crossing",
                                   "crossing_side", "governing"]
    assert frame.loc[frame["governing"], "lot"].tolist() == ["2_12"]
    summary = r.summary_frame().iloc[0]
    assert summary["model"] == "common_slope" and summary["time_unit"] == "months"
    assert list(r.poolability.to_frame()["term"]) == ["slopes", "intercepts"]
    assert "ICH Q1E" in r.method


# ---------------------------------------------------------------------------------------------------------
# Errors the user can fix (CgtkitError) and programming mistakes (ValueError)


def test_missing_limit_is_a_clear_error():
    with pytest.raises(CgtkitError, match="No acceptance limit was given"):
        q1e_shelf_life(*arrays(JMP))


def test_time_points_out_of_order_are_refused():
    with pytest.raises(CgtkitError, match=r"time points of lot A are not in order: 3 months follows 6 months"):
        q1e_shelf_life([0, 6, 3, 9], [100, 98, 99, 97], ["A"] * 4, lower_limit=90)


def test_single_time_point_is_refused():
    with pytest.raises(InsufficientDataError, match="lot B has results at a single time point|Lot B has results at"):
        q1e_shelf_life([0, 3, 6, 0, 0], [100, 99, 98, 101, 100.5], ["A", "A", "A", "B", "B"], lower_limit=90)


def test_negative_time_and_log_of_non_positive_are_refused():
    with pytest.raises(CgtkitError, match="negative time point"):
        q1e_shelf_life([-1, 3, 6], [100, 99, 98], None, lower_limit=90)
    with pytest.raises(CgtkitError, match="greater than 0"):
        q1e_shelf_life([0, 3, 6], [1.0, 0.0, 0.5], None, lower_limit=0.1, log_transform=True)
    with pytest.raises(CgtkitError, match="limit greater than 0"):
        q1e_shelf_life([0, 3, 6], [1.0, 0.8, 0.5], None, lower_limit=0.0, log_transform=True)


def test_too_few_results_for_the_model():
    with pytest.raises(InsufficientDataError, match="no degrees of freedom"):
        q1e_shelf_life([0, 6, 0, 6], [100, 98, 101, 99], ["A", "A", "B", "B"], lower_limit=90)
    t, y, lot = [0, 3, 6, 9, 0, 12], [100, 99, 98, 97, 101, 99], ["A"] * 4 + ["B"] * 2
    with pytest.raises(InsufficientDataError, match="separate_error='pooled'"):
        q1e_shelf_life(t, y, lot, lower_limit=90, model="separate")
    assert q1e_shelf_life(t, y, lot, lower_limit=90, model="separate", separate_error="pooled").lines


@pytest.mark.parametrize("kwargs", [
    {"lower_limit": 90, "sided": 3},
    {"lower_limit": 90, "upper_limit": 110},
    {"lower_limit": 90, "model": "random"},
    {"lower_limit": 90, "time_unit": "weeks"},
    {"lower_limit": 90, "confidence_level": 95},
    {"lower_limit": 90, "separate_error": "both"},
])
def test_bad_arguments_are_value_errors(kwargs):
    with pytest.raises(ValueError) as info:
        q1e_shelf_life([0, 3, 6, 9], [100, 99, 98, 97], None, **kwargs)
    assert not isinstance(info.value, CgtkitError)


# ---------------------------------------------------------------------------------------------------------
# The analysis layer on the example data


@pytest.fixture(scope="module")
def car_t() -> pd.DataFrame:
    return load_lots(data_dir() / "examples" / "car_t_stability.csv")


@pytest.fixture(scope="module")
def aav() -> pd.DataFrame:
    return load_lots(data_dir() / "examples" / "aav_stability.csv")


def test_car_t_viability(car_t):
    """CAR-T viability, lower limit 80 % (an assumed specification): the slopes differ (p = 0.096), so the lots
    are not pooled; PPQ lot CT25-005 governs at 12.9 months, just past its own last time point."""
    a = analyse_stability(stability_data(car_t, "viability"), lower_limit=80.0)
    assert a.time_unit is TimeUnit.MONTHS and a.direction is Direction.DECREASE
    assert a.result.model == "separate" and a.governing_lot == "CT25-005"
    assert round(a.shelf_life, 1) == 12.9 and not a.result.beyond_allowance
    assert a.storage is StorageCategory.FROZEN
    assert any("Time in months" in n for n in a.notes)
    assert any("CT25-005's own results end at 12 months" in n for n in a.notes)
    assert "governed by lot CT25-005" in a.summary
    assert set(a.to_frame()["attribute"]) == {"viability"}


def test_car_t_potency_is_log_transformed_and_flagged(car_t):
    """IFN-γ potency is analysed on the log scale (exponential decay); with a 500 pg/mL limit the common-slope
    estimate (53.6 months) lies beyond the 24 months of data, and frozen storage allows no extrapolation."""
    a = analyse_stability(stability_data(car_t, "ifng_potency"), lower_limit=500.0)
    r = a.result
    assert r.log_transform and r.model == "common_slope" and r.governing_lot == "CT23-008"
    assert round(r.shelf_life, 1) == 53.6
    assert r.beyond_allowance and r.supported_shelf_life == 24.0
    assert any("geometric mean" in n for n in a.notes)
    assert any("transfer to a cell or gene therapy is for discussion with FDA" in n for n in a.notes)
    claim = analyse_stability(stability_data(car_t, "ifng_potency"), lower_limit=500.0, proposed_shelf_life=36)
    assert claim.proposed_supported is False
    assert "Q1E convention whose transfer to a cell or gene therapy is for discussion with FDA" in claim.notes[-1]
    assert analyse_stability(stability_data(car_t, "ifng_potency"), lower_limit=500.0,
                             proposed_shelf_life=18).proposed_supported is True
    too_long = analyse_stability(stability_data(car_t, "viability"), lower_limit=80.0, proposed_shelf_life=18)
    assert too_long.proposed_supported is False and "do not support it" in too_long.notes[-1]


def test_aav_two_sided(aav):
    """AAV relative potency has a two-sided limit in attributes.yaml: direction unknown, two-sided interval."""
    a = analyse_stability(stability_data(aav, "relative_potency"), lower_limit=50.0, upper_limit=150.0)
    assert a.direction is Direction.UNKNOWN and a.result.sided == 2
    assert a.result.model == "common_slope" and a.governing_lot == "AV25-03"
    assert a.result.supported_shelf_life == 24.0
    falls = analyse_stability(stability_data(aav, "relative_potency"), lower_limit=70.0, upper_limit=150.0,
                              direction="decrease")
    assert falls.result.sided == 1 and falls.upper_limit is None
    assert any("upper limit (150) is not used" in n for n in falls.notes)
    titer = analyse_stability(stability_data(aav, "vector_genome_titer"), lower_limit=5e12, upper_limit=2e13)
    assert titer.result.log_transform and titer.result.model == "common_slope"
    assert set(observed_frame(titer)["line"]) == {"AV23-03", "AV24-03", "AV25-03"}


def test_missing_limit_names_the_side(car_t):
    with pytest.raises(CgtkitError, match="no lower limit was given"):
        analyse_stability(stability_data(car_t, "viability"))
    with pytest.raises(CgtkitError, match="no upper limit was given"):
        analyse_stability(stability_data(car_t, "viability"), lower_limit=80, direction="increase")


def test_mixed_time_units_are_refused(car_t):
    rows = car_t[car_t["attribute"] == "viability"].copy()
    with pytest.raises(CgtkitError, match="mix time units"):
        stability_data(rows, "viability", time_unit="hours")  # column says months
    mixed = rows.assign(time_unit=["months"] * (len(rows) - 1) + ["days"])
    with pytest.raises(CgtkitError, match="mix time units"):
        stability_data(mixed, "viability")
    both = rows.assign(timepoint_hours=rows["timepoint_months"] * 730.5)
    with pytest.raises(CgtkitError, match=r"mix time units .*timepoint_hours"):
        stability_data(both, "viability")
    unnamed = rows.drop(columns=["timepoint", "time_unit"]).rename(columns={"timepoint_months": "time"})
    with pytest.raises(CgtkitError, match="not stated"):
        stability_data(unnamed, "viability", time_column="time")


def test_hours_data_set(car_t):
    """A post-thaw window in hours: the unit comes from the column name and is stated in the notes."""
    rows = (car_t[car_t["attribute"] == "viability"].drop(columns=["timepoint", "time_unit"])
            .rename(columns={"timepoint_months": "timepoint_hours"}))
    data = stability_data(rows, "viability", time_column="timepoint_hours")
    assert data.time_unit is TimeUnit.HOURS
    a = analyse_stability(data, lower_limit=80.0, storage="room_temperature")
    assert a.result.time_unit == "hours" and a.notes[0].startswith("Time in hours")
    # the Q1E allowance of 12 months beyond the data, in hours
    assert a.result.allowed_shelf_life == pytest.approx(min(2 * 24, 24 + convert_time(12, "months", "hours")))


def test_a_file_in_hours_reaches_the_analysis_in_hours(tmp_path):
    """io keeps a file's own unit (timepoint + time_unit); the months it also gives are not a second unit."""
    lines = ["lot_id,attribute,value,unit,lot_type,manufacture_date,timepoint,time_unit,storage_condition"]
    for month, (lot, start, loss) in enumerate((("P1", 95.0, 1.1), ("P2", 93.5, 0.9), ("P3", 94.2, 1.3)), 1):
        lines += [f"{lot},viability,{start - loss * h + 0.2 * (-1) ** i:.2f},%,clinical,2025-0{month}-01,"
                  f"{h},hours,20-25 °C" for i, h in enumerate((0, 2, 4, 6, 8))]
    frame = load_lots(("\n".join(lines) + "\n").encode(), name="post_thaw.csv")
    data = stability_data(frame, "viability")
    assert data.time_unit is TimeUnit.HOURS and data.time_column == "timepoint" and data.data_span == 8.0
    a = analyse_stability(data, lower_limit=85.0)
    assert a.notes[0] == "Time in hours (the data set's stated time unit); the last time point is 8 hours."
    assert a.storage is StorageCategory.ROOM_TEMPERATURE and a.result.time_unit == "hours"
    assert 0 < a.shelf_life < 16 and a.direction is Direction.DECREASE
    assert a.direction_basis == "as recorded in cgtkit's attribute file"
    days = frame.assign(time_unit=["days"] * (len(frame) - 1) + ["hours"])
    with pytest.raises(CgtkitError, match="mix time units"):
        stability_data(days, "viability")


def test_direction_is_data(tmp_path):
    """stability_direction in attributes.yaml sets the side of the bound; without it, the limit side, said so."""
    from cgtkit.attributes import AttributeSpec, get_attribute, load_attributes

    assert get_attribute("viability").stability_direction == "decrease"
    assert get_attribute("aggregates").stability_direction == "increase"
    assert Direction.default_for(get_attribute("aggregates"))[0] is Direction.INCREASE
    direction, basis = Direction.default_for(get_attribute("cd3_purity"))
    assert direction is Direction.DECREASE and "assumed from the attribute's lower limit" in basis
    assert Direction.default_for(get_attribute("relative_potency"))[0] is Direction.UNKNOWN
    with pytest.raises(ValueError, match="no stability_direction"):
        AttributeSpec(**{**get_attribute("sterility").model_dump(), "stability_direction": "decrease"})
    bad = tmp_path / "attributes.yaml"
    entry = {**get_attribute("viability").model_dump(mode="json", exclude={"in_catalog"}),
             "stability_direction": "down"}
    import yaml

    bad.write_text(yaml.safe_dump({"attributes": [entry]}, allow_unicode=True), encoding="utf-8")
    from cgtkit.errors import CatalogError

    with pytest.raises(CatalogError, match="stability_direction"):
        load_attributes(bad)


def test_duplicate_and_out_of_order_rows_are_refused(car_t):
    rows = car_t[car_t["attribute"] == "viability"]
    duplicated = pd.concat([rows, rows.iloc[[0]]]).sort_index(kind="stable")
    with pytest.raises(CgtkitError, match=r"lot CT23-008 has 2 results at 0 months \(row 2 and row 2\)"):
        stability_data(duplicated, "viability")
    in_code = duplicated.drop(columns="source_row").reset_index(drop=True)  # a table built in code: positions
    with pytest.raises(CgtkitError, match=r"2 results at 0 months \(row 1 of the table and row 2 of the table\)"):
        stability_data(in_code, "viability")
    swapped = rows.iloc[[1, 0, *range(2, len(rows))]]
    with pytest.raises(CgtkitError, match=r"rows of lot CT23-008 are not in time order: 0 months \(row 2\) follows "
                                          r"3 months \(row 4\)"):
        stability_data(swapped, "viability")


def test_single_time_point_and_data_problems(car_t):
    rows = car_t[car_t["attribute"] == "viability"]
    one = rows[~((rows["lot_id"] == "CT25-005") & (rows["timepoint_months"] > 0))]
    with pytest.raises(InsufficientDataError, match="lot CT25-005 has results at a single time point"):
        stability_data(one, "viability")
    censored = rows.copy()
    censored.loc[censored.index[3], "censoring"] = "left"
    with pytest.raises(CgtkitError, match="censored result"):
        stability_data(censored, "viability")
    with pytest.raises(CgtkitError, match="safety attribute"):
        stability_data(car_t.assign(attribute="sterility"), "sterility")
    with pytest.raises(LotDataError, match="not in the stability data"):
        stability_data(car_t, "cell_dose")
    two_storages = pd.concat([rows, rows.assign(storage_condition="2-8 °C")])
    with pytest.raises(CgtkitError, match="2 storage conditions"):
        stability_data(two_storages, "viability")
    assert stability_data(two_storages, "viability", storage_condition="2-8 °C").storage_condition == "2-8 °C"


def test_storage_category_from_text():
    assert storage_category_from_text("≤ -60 °C") is StorageCategory.FROZEN
    assert storage_category_from_text("-20 ± 5 °C") is StorageCategory.FROZEN
    assert storage_category_from_text("5 ± 3 °C") is StorageCategory.REFRIGERATED
    assert storage_category_from_text("2 to 8 °C") is StorageCategory.REFRIGERATED
    assert storage_category_from_text("30 °C / 65 % RH") is StorageCategory.ROOM_TEMPERATURE
    assert storage_category_from_text(None) is None


# ---------------------------------------------------------------------------------------------------------
# The figure


def test_stability_figure(car_t):
    from cgtkit.plots.stability import build_stability_figure

    fig = build_stability_figure(analyse_stability(stability_data(car_t, "ifng_potency"), lower_limit=500.0))
    names = [trace.name for trace in fig.data if trace.showlegend is not False]
    assert fig.layout.template.layout.paper_bgcolor is not None  # plotly_white
    assert fig.layout.yaxis.type == "log"
    assert "Lower acceptance limit: 500 pg/mL" in names
    assert any(re.match(r"Shelf-life estimate: 53\.6 months, lot CT23-008", n) for n in names)
    assert any(n.startswith("Longest shelf life the data support") for n in names)
    assert any("confidence bound on the mean" in n for n in names)
    assert fig.layout.title.text.startswith("Potency (IFN-γ release): shelf life")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig.to_dict()
