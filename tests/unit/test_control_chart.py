"""Tests for cgtkit.stats.control_chart."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cgtkit.errors import CgtkitError, InsufficientDataError
from cgtkit.stats import control_chart
from cgtkit.stats.control_chart import D2_SPAN2, RunRule, individuals_chart

# Baseline of 20 lots alternating 9, 11: centre 10, every moving range 2, so
# sigma = 2 / 1.128 and no rule can fire inside the baseline (|z| = 0.564,
# sides alternate). Lot 21 (index 20) sits exactly on the centre line.
BASE = [9.0, 11.0] * 10
SIGMA = 2.0 / 1.128
SEP = [10.0]


def _chart(tail, **kwargs):
    return individuals_chart(BASE + SEP + tail, baseline_n=20, **kwargs)


def _first(chart):
    return dict(chart.signals.first_index)


def test_limits_from_average_moving_range_and_d2():
    chart = _chart([])
    assert chart.centre == pytest.approx(10.0)
    assert chart.mr_bar == pytest.approx(2.0)
    assert chart.sigma == pytest.approx(SIGMA)
    assert chart.ucl == pytest.approx(10.0 + 3 * SIGMA)
    assert chart.lcl == pytest.approx(10.0 - 3 * SIGMA)
    assert chart.mr_ucl == pytest.approx(3.267 * 2.0)
    assert _first(chart) == {"we1": None, "we2": None, "we3": None, "we4": None}
    assert chart.signals.verdict.startswith("No special-cause signal")


def test_d2_constant_is_cited_and_correct():
    # d2 for span-2 moving ranges: expected range of two standard normals is
    # 2 / sqrt(pi) = 1.1284; tables (Montgomery) print 1.128.
    assert D2_SPAN2 == 1.128
    assert abs(D2_SPAN2 - 2 / math.sqrt(math.pi)) < 5e-4
    assert "Montgomery" in control_chart.__doc__
    assert "d2" in individuals_chart.__doc__ and "Montgomery" in individuals_chart.__doc__
    assert "Western Electric" in control_chart.__doc__ and "6.3.2" in control_chart.__doc__


def test_small_hand_computed_chart():
    # values 1, 3, 2, 4: moving ranges 2, 1, 2 -> MRbar 5/3, sigma = (5/3)/1.128
    chart = individuals_chart([1.0, 3.0, 2.0, 4.0])
    assert chart.centre == pytest.approx(2.5)
    assert chart.sigma == pytest.approx((5 / 3) / 1.128)
    assert chart.baseline_n == 4 and chart.n == 4
    assert "provisional" in chart.note


def test_rule1_point_beyond_three_sigma():
    chart = _chart([10.0 + 3.2 * SIGMA])
    assert _first(chart) == {"we1": 21, "we2": None, "we3": None, "we4": None}
    assert "lot 22 is above the upper control limit (rule 1)" in chart.signals.verdict
    assert chart.verdict == chart.signals.verdict
    pts = chart.to_frame()
    assert pts.loc[21, "rules"] == (RunRule.WE1,) and pts.loc[21, "out_of_control"]
    assert pts["out_of_control"].sum() == 1


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_rule2_two_of_three_beyond_two_sigma(sign):
    tail = [10.0 + sign * 2.5 * SIGMA, 10.0, 10.0 + sign * 2.5 * SIGMA]
    chart = _chart(tail)
    assert _first(chart) == {"we1": None, "we2": 23, "we3": None, "we4": None}
    assert ("high" if sign > 0 else "low") in chart.signals.verdict
    assert not chart.to_frame().loc[21, "out_of_control"]  # only 1 of 3 at that point


def test_rule3_four_of_five_beyond_one_sigma():
    chart = _chart([10.0 + 1.5 * SIGMA] * 4)
    assert _first(chart) == {"we1": None, "we2": None, "we3": 24, "we4": None}
    assert chart.signals.n_flagged["we3"] == 1


def test_rule4_eight_on_one_side():
    chart = _chart([10.0 - 0.5 * SIGMA] * 8)
    assert _first(chart) == {"we1": None, "we2": None, "we3": None, "we4": 28}
    assert "shift detected from lot 22" in chart.signals.verdict
    assert "below the centre line" in chart.signals.verdict
    # seven in a row is not enough
    assert _first(_chart([10.0 - 0.5 * SIGMA] * 7))["we4"] is None


def test_rule_selection_and_labels():
    tail = [10.0 + 3.5 * SIGMA] + [10.0 + 0.5 * SIGMA] * 8
    labels = [f"L{i:03d}" for i in range(len(BASE) + 1 + len(tail))]
    chart = individuals_chart(BASE + SEP + tail, baseline_n=20, rules=("we4",), labels=labels)
    assert tuple(chart.signals.first_index) == ("we4",)
    assert chart.signals.first_label["we4"] == "L028"
    assert "shift detected from lot L021" in chart.signals.verdict
    assert chart.to_frame()["label"].iloc[0] == "L000"


def test_zone_boundaries_are_not_beyond():
    flags = control_chart._flags(np.array([3.0, -3.0, 2.0, 2.0, 2.0]), ("we1", "we2"))
    assert not flags["we1"].any() and not flags["we2"].any()


def test_rule2_counts_available_points_at_the_start():
    flags = control_chart._flags(np.array([2.5, 2.5, 0.0]), ("we2",))
    assert flags["we2"].tolist() == [False, True, False]


def test_baseline_excludes_later_lots_from_limits():
    chart = individuals_chart(BASE + [40.0, 45.0], baseline_n=20)
    assert chart.centre == pytest.approx(10.0)
    assert chart.sigma == pytest.approx(SIGMA)
    assert chart.signals.first_index["we1"] == 20
    pts = chart.to_frame()
    assert pts["in_baseline"].sum() == 20
    assert bool(pts.loc[20, "mr_above_ucl"])
    all_lots = individuals_chart(BASE + [40.0, 45.0])
    assert all_lots.sigma > chart.sigma


def test_points_frame_columns():
    pts = _chart([10.0 + 3.2 * SIGMA]).to_frame()
    assert list(pts.columns) == [
        "index", "label", "value", "in_baseline", "moving_range", "z", "mr_above_ucl",
        "rules", "out_of_control",
    ]
    assert pts["index"].tolist() == list(range(22))
    assert np.isnan(pts.loc[0, "moving_range"])
    assert pts["out_of_control"].dtype == bool
    sig = _chart([]).signals.to_frame()
    assert list(sig.columns) == ["rule", "description", "first_index", "first_label", "n_flagged"]
    assert sig["rule"].tolist() == ["we1", "we2", "we3", "we4"]


def test_stable_seeded_series_has_no_signal():
    x = np.random.default_rng(2024).normal(100.0, 5.0, 30)
    chart = individuals_chart(x)
    assert chart.to_frame()["out_of_control"].sum() == 0
    assert chart.signals.verdict.startswith("No special-cause signal")
    assert chart.note == ""


def test_false_alarm_rate_of_all_four_rules_is_about_one_percent():
    # For in-control normal data the four Western Electric rules together give
    # an in-control ARL of about 92 lots (~1.1 % of lots flagged).
    rates = []
    for seed in range(200):
        x = np.random.default_rng(seed).normal(0.0, 1.0, 30)
        rates.append(individuals_chart(x).to_frame()["out_of_control"].mean())
    assert 0.005 < float(np.mean(rates)) < 0.025


def test_rule_hits_are_typed():
    pts = _chart([10.0 + 2.5 * SIGMA, 10.0, 10.0 + 3.5 * SIGMA]).to_frame()
    assert pts.loc[23, "rules"] == (RunRule.WE1, RunRule.WE2)
    assert pts.loc[0, "rules"] == ()
    assert [r.signals_shift for r in pts.loc[23, "rules"]] == [False, True]
    assert RunRule.WE2.description == control_chart.RULES["we2"] and RunRule.WE4.number == 4


@pytest.mark.parametrize(
    ("values", "kwargs", "match"),
    [
        ([1.0], {}, "at least 2"),
        ([], {}, "at least 2"),
        ([1.0, float("nan"), 3.0], {}, "not a finite number"),
        ([5.0, 5.0, 5.0, 7.0], {"baseline_n": 3}, "same value"),
    ],
)
def test_bad_data(values, kwargs, match):
    with pytest.raises(InsufficientDataError, match=match):
        individuals_chart(values, **kwargs)


@pytest.mark.parametrize(
    ("values", "kwargs", "match"),
    [
        ([1.0, 2.0, 3.0], {"baseline_n": 1}, "at least 2"),
        ([1.0, 2.0, 3.0], {"baseline_n": 5}, "at most the number of lots"),
        ([1.0, 2.0, 3.0], {"baseline_n": 2.5}, "whole number"),
        ([1.0, 2.0, 3.0], {"rules": ("we1", "nelson5")}, "Unknown rule"),
        ([1.0, 2.0, 3.0], {"labels": ["a", "b"]}, "one label per lot"),
    ],
)
def test_bad_arguments(values, kwargs, match):
    with pytest.raises(ValueError, match=match) as info:
        individuals_chart(values, **kwargs)
    assert not isinstance(info.value, CgtkitError)


# -- dating a shift (issue #15 item 5) ---------------------------------------------------------


def test_clean_step_on_a_retrospective_chart_is_dated_at_the_change_not_lot_1():
    # 15 lots around 10, then 25 lots around 14: with limits from all 40 lots the centre line sits
    # between the two levels, so rule 4 first fires on lots 1-8 (the old level). The shift is at lot 16.
    before = [9.0, 11.0] * 7 + [9.0]
    after = [13.0, 15.0] * 12 + [13.0]
    chart = individuals_chart(before + after)
    assert chart.signals.first_index["we4"] == 7  # the run on the old level, lots 1-8
    verdict = chart.signals.verdict
    assert "shift detected from lot 16 (estimated change point" in verdict
    assert "shift detected from lot 1:" not in verdict and "shift detected from lot 1 " not in verdict
    assert "rule 4 on lots 1-8 (low)" in verdict
    assert chart.signals.shift_from_index == 15 and chart.signals.shift_from_label == "16"


def test_phase_ii_runs_are_dated_at_their_first_lot():
    # rule 3 completes at lot 25 (index 24); its run starts at lot 22, the first lot beyond 1 sigma
    chart = _chart([10.0 + 1.5 * SIGMA] * 4)
    assert "shift detected from lot 22: 4 of 5" in chart.signals.verdict
    assert "completed at lot 25" in chart.signals.verdict
    assert chart.signals.shift_from_index == 21
    # rule 2: the first of the two lots beyond 2 sigma (index 21), not the lot that completes the pattern
    chart = _chart([10.0 + 2.5 * SIGMA, 10.0, 10.0 + 2.5 * SIGMA])
    assert chart.signals.shift_from_index == 21 and "shift detected from lot 22" in chart.signals.verdict
    # rule 4 keeps its run start; rule 1 alone dates no shift
    assert _chart([10.0 - 0.5 * SIGMA] * 8).signals.shift_from_label == "22"
    assert _chart([10.0 + 3.2 * SIGMA]).signals.shift_from_index is None
