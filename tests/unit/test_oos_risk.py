"""Tests for cgtkit.stats.oos_risk."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cgtkit.errors import CgtkitError, InsufficientDataError
from cgtkit.stats.oos_risk import (
    OosRiskResult,
    future_lot_oos_probability,
    future_lot_oos_probability_limits,
    nonparametric_any_outside,
    oos_risk_table,
    prob_any_oos,
    prob_any_oos_limits,
)
from cgtkit.stats.tolerance import nonparametric_tolerance_interval


def _brute_force(n, k, m, sided, size, seed):
    """Simulate whole data sets: n lots set the limits, the next m are judged."""
    rng = np.random.default_rng(seed)
    hits = 0
    done = 0
    while done < size:
        chunk = min(100_000, size - done)
        lots = rng.standard_normal((chunk, n + m))
        hist, future = lots[:, :n], lots[:, n:]
        mean = hist.mean(axis=1, keepdims=True)
        sd = hist.std(axis=1, ddof=1, keepdims=True)
        outside = future > mean + k * sd
        if sided == 2:
            outside |= future < mean - k * sd
        hits += int(outside.any(axis=1).sum())
        done += chunk
    p = hits / size
    return p, math.sqrt(p * (1 - p) / size)


@pytest.mark.parametrize(("n", "k", "sided"), [(5, 3.0, 2), (5, 2.0, 1), (12, 2.5, 2)])
def test_future_lot_probability_agrees_with_monte_carlo(n, k, sided):
    p = future_lot_oos_probability(n, k, sided)
    p_mc, se = _brute_force(n, k, 1, sided, size=400_000, seed=1234 + n)
    assert abs(p - p_mc) < 4 * se


def test_future_lot_probability_closed_form_for_two_lots():
    # With n = 2 the t distribution has 1 df (Cauchy): P(|T| > t) = 1 - 2 atan(t) / pi.
    k = 5.0
    t = k / math.sqrt(1.5)
    assert future_lot_oos_probability(2, k) == pytest.approx(1 - 2 * math.atan(t) / math.pi, rel=1e-12)
    assert future_lot_oos_probability(2, k, sided=1) == pytest.approx(0.5 - math.atan(t) / math.pi, rel=1e-12)


def test_future_lot_probability_moves_the_right_way():
    assert future_lot_oos_probability(10, 3.0) < future_lot_oos_probability(10, 2.0)
    assert future_lot_oos_probability(30, 3.0) < future_lot_oos_probability(5, 3.0)
    assert future_lot_oos_probability(10, 3.0, sided=1) == pytest.approx(future_lot_oos_probability(10, 3.0) / 2)


@pytest.mark.parametrize(("n", "k", "sided"), [(2, 36.519, 2), (3, 9.8, 1), (5, 5.08, 2), (10, 3.0, 2), (50, 2.4, 1), (200, 2.14, 2)])
def test_prob_any_oos_at_m1_equals_single_lot_probability(n, k, sided):
    r = prob_any_oos(n, k, 1, sided=sided)
    assert r.probability == pytest.approx(future_lot_oos_probability(n, k, sided), rel=1e-9)
    assert r.std_error < 1e-9


@pytest.mark.parametrize(("n", "k", "sided"), [(2, 36.519, 2), (3, 9.8, 2), (10, 3.0, 2), (10, 2.0, 1)])
def test_prob_any_oos_is_monotone_in_m(n, k, sided):
    ms = [1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000]
    probs = [prob_any_oos(n, k, m, sided=sided).probability for m in ms]
    assert all(b >= a for a, b in zip(probs, probs[1:]))
    assert probs[-1] > probs[0]
    assert all(0.0 <= p <= 1.0 for p in probs)


@pytest.mark.parametrize(("n", "k", "m", "sided"), [(10, 3.0, 100, 2), (3, 9.8, 50, 2), (6, 3.7, 20, 1)])
def test_integration_agrees_with_simulation_within_stated_error(n, k, m, sided):
    integ = prob_any_oos(n, k, m, sided=sided)
    sim = prob_any_oos(n, k, m, sided=sided, method="simulation", n_sim=200_000, seed=7)
    assert sim.method == "simulation" and sim.std_error > 0
    assert abs(integ.probability - sim.probability) < 4 * sim.std_error + integ.std_error
    assert integ.std_error < 1e-6


def test_integration_agrees_with_brute_force_whole_data_sets():
    # Independent of the module: simulate lots, estimate limits, judge 10 future lots.
    n, k, m = 5, 3.0, 10
    integ = prob_any_oos(n, k, m).probability
    p_mc, se = _brute_force(n, k, m, 2, size=300_000, seed=99)
    assert abs(integ - p_mc) < 4 * se


def test_shared_limits_make_risk_smaller_than_independence_assumption():
    # 1 - (1 - q)^m is concave in q, so by Jensen's inequality the true risk is
    # below the naive 1 - (1 - p1)^m for m > 1.
    n, k, m = 10, 3.0, 100
    p1 = future_lot_oos_probability(n, k)
    r = prob_any_oos(n, k, m)
    assert r.probability < 1 - (1 - p1) ** m
    assert "independent" in r.note and "100" in r.note


def test_simulation_is_reproducible_with_seed():
    a = prob_any_oos(8, 3.0, 30, method="simulation", n_sim=20_000, seed=3)
    b = prob_any_oos(8, 3.0, 30, method="simulation", n_sim=20_000, seed=3)
    assert a.probability == b.probability


def test_result_and_table_frames():
    r = prob_any_oos(10, 3.0, 100)
    assert isinstance(r, OosRiskResult)
    assert r.probability == pytest.approx(0.4744, abs=1e-4)
    assert list(r.to_frame().columns) == [
        "probability", "std_error", "n", "k", "m_future", "sided", "method", "note", "reference",
    ]
    table = oos_risk_table(10, 3.0)
    assert list(table.columns) == [
        "n", "k", "sided", "m_future", "probability", "std_error",
        "probability_if_independent", "method",
    ]
    assert table["m_future"].tolist() == [1, 10, 50, 100]
    assert table["probability"].is_monotonic_increasing
    assert table["probability"].iloc[-1] == pytest.approx(r.probability)
    assert (table["probability"] <= table["probability_if_independent"] + 1e-12).all()


# ---------------------------------------------------------------------------
# Limits at different distances from the mean (a side moved to a physical bound)
# ---------------------------------------------------------------------------


def _brute_force_limits(n, k_low, k_high, m, size, seed):
    """Whole data sets: n lots set mean - k_low sd / mean + k_high sd, the next m are judged."""
    rng = np.random.default_rng(seed)
    lots = rng.standard_normal((size, n + m))
    hist, future = lots[:, :n], lots[:, n:]
    mean = hist.mean(axis=1, keepdims=True)
    sd = hist.std(axis=1, ddof=1, keepdims=True)
    outside = np.zeros(future.shape, dtype=bool)
    if k_low is not None:
        outside |= future < mean - k_low * sd
    if k_high is not None:
        outside |= future > mean + k_high * sd
    p = outside.any(axis=1).mean()
    return p, math.sqrt(p * (1 - p) / size)


def test_symmetric_and_one_sided_limits_reduce_to_the_usual_risk():
    for m in (1, 10, 100):
        assert prob_any_oos_limits(10, m, k_low=3.0, k_high=3.0) == pytest.approx(
            prob_any_oos(10, 3.0, m).probability, rel=1e-12)
        assert prob_any_oos_limits(10, m, k_low=None, k_high=2.5) == pytest.approx(
            prob_any_oos(10, 2.5, m, sided=1).probability, rel=1e-12)
        assert prob_any_oos_limits(10, m, k_low=2.5, k_high=None) == pytest.approx(
            prob_any_oos(10, 2.5, m, sided=1).probability, rel=1e-12)
    assert future_lot_oos_probability_limits(10, 3.0, 3.0) == pytest.approx(future_lot_oos_probability(10, 3.0))
    assert future_lot_oos_probability_limits(10, None, 3.0) == pytest.approx(future_lot_oos_probability(10, 3.0, 1))


@pytest.mark.parametrize(("n", "k_low", "k_high", "m"), [(5, 1.2, 4.0, 1), (5, 1.2, 4.0, 10), (8, 0.6, None, 5)])
def test_asymmetric_limits_agree_with_brute_force(n, k_low, k_high, m):
    p_mc, se = _brute_force_limits(n, k_low, k_high, m, size=200_000, seed=11 + m)
    assert abs(prob_any_oos_limits(n, m, k_low=k_low, k_high=k_high) - p_mc) < 4 * se
    if m == 1:
        assert abs(future_lot_oos_probability_limits(n, k_low, k_high) - p_mc) < 4 * se


def test_a_limit_moved_inwards_has_a_larger_risk():
    # a lower limit moved up to a physical bound (k from 10 to 2) is more often crossed
    assert prob_any_oos_limits(3, 10, k_low=2.0, k_high=None) > prob_any_oos(3, 10.0, 10, sided=1).probability


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"k_low": None, "k_high": None}, "at least one side"), ({"k_low": -2.0, "k_high": 1.0}, "below the upper"),
     ({"k_low": float("inf"), "k_high": 1.0}, "finite")],
)
def test_asymmetric_limits_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        prob_any_oos_limits(10, 1, **kwargs)
    with pytest.raises(ValueError, match=match):
        future_lot_oos_probability_limits(10, kwargs["k_low"], kwargs["k_high"])


def test_range_risk_matches_textbook_values() -> None:
    # Next single lot outside the range of n lots: 2/(n+1) two-sided, 1/(n+1) one-sided (DOMAIN brief;
    # Hahn & Meeker 1991, ch. 5).
    assert nonparametric_any_outside(10, 1, 2) == pytest.approx(2 / 11)
    assert nonparametric_any_outside(10, 1, 1) == pytest.approx(1 / 11)
    # m future lots all inside the range of n: n(n-1)/((n+m)(n+m-1)); n=5, m=10 -> 20/210
    assert nonparametric_any_outside(5, 10, 2) == pytest.approx(1 - 20 / 210)


def test_range_risk_agrees_with_simulation() -> None:
    rng = np.random.default_rng(7)
    n, m, reps = 8, 10, 40_000
    x = rng.standard_exponential((reps, n + m))  # distribution-free: any continuous law
    past, future = x[:, :n], x[:, n:]
    outside = ((future < past.min(1, keepdims=True)) | (future > past.max(1, keepdims=True))).any(1).mean()
    se = np.sqrt(outside * (1 - outside) / reps)
    assert abs(outside - nonparametric_any_outside(n, m, 2)) < 4 * se


def test_range_risk_is_computed_once():
    # the distribution-free tolerance interval quotes the same next-lot risk
    r = nonparametric_tolerance_interval([3.1, 2.9, 3.4, 3.0, 3.3])
    assert r.prob_next_outside_range == nonparametric_any_outside(5, 1, 2)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: future_lot_oos_probability(1, 3.0), "at least 2"),
        (lambda: prob_any_oos(1, 3.0, 10), "at least 2"),
        (lambda: nonparametric_any_outside(1, 10), "at least 2"),
    ],
)
def test_too_few_lots_is_a_data_problem(call, match):
    with pytest.raises(InsufficientDataError, match=match):
        call()


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: future_lot_oos_probability(10, 0.0), "positive"),
        (lambda: future_lot_oos_probability(10, float("inf")), "positive finite"),
        (lambda: future_lot_oos_probability(10, "3"), "positive"),
        (lambda: future_lot_oos_probability(10, 3.0, sided=0), "sided must be 1"),
        (lambda: prob_any_oos(10, -1.0, 10), "positive"),
        (lambda: prob_any_oos(10, 3.0, 0), "at least 1"),
        (lambda: prob_any_oos(10, 3.0, 2.5), "whole number"),
        (lambda: prob_any_oos(10, 3.0, 10, method="bootstrap"), "'integration' or 'simulation'"),
        (lambda: prob_any_oos(10, 3.0, 10, method="simulation", n_sim=10), "at least 1000"),
        (lambda: oos_risk_table(10, 3.0, m_values=()), "at least one"),
        (lambda: nonparametric_any_outside(10, 0), "at least 1"),
    ],
)
def test_bad_arguments_are_plain_value_errors(call, match):
    with pytest.raises(ValueError, match=match) as info:
        call()
    assert not isinstance(info.value, CgtkitError)
