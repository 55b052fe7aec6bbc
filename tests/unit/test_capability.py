"""Tests for cgtkit.stats.capability: Ppk/Cpk, their intervals, and the fraction outside.

Published values are cited above each test. Exact and Monte Carlo intervals are
checked against an independent computation (scipy.stats, written out here) and
against their coverage in seeded simulations.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from cgtkit.errors import CgtkitError, InsufficientDataError
from cgtkit.stats.capability import (
    D2_MOVING_RANGE,
    ProcessCapability,
    SpecificationError,
    bissell_interval,
    bissell_lower_bound,
    capability_index,
    check_specification,
    exact_one_sided_interval,
    fraction_outside,
    fraction_outside_predictive,
    generalized_interval,
    limits_on_scale,
    moving_range_sd,
    process_capability,
)

# ---------------------------------------------------------------------------
# Bissell's approximate interval: published worked examples
# ---------------------------------------------------------------------------


def test_bissell_quality_digest_worked_example() -> None:
    # Quality Digest, May 2000, "The Last Word" (https://www.qualitydigest.com/may00/html/lastword.html):
    # "based upon a random sample of n = 45 ... Cpk 1.15 ... 95-percent confident that it's between 0.89 and 1.41".
    low, high = bissell_interval(1.15, 45, 0.95)
    assert (round(low, 2), round(high, 2)) == (0.89, 1.41)


def test_bissell_montgomery_worked_example() -> None:
    # Montgomery, Introduction to Statistical Quality Control (6th ed., 2009), ch. 8, confidence interval on
    # Cpk: n = 20, Cpk-hat = 1.33, 95 % interval 0.88 <= Cpk <= 1.78 (Bissell's formula, z = 1.96).
    low, high = bissell_interval(1.33, 20, 0.95)
    assert (round(low, 2), round(high, 2)) == (0.88, 1.78)


def test_bissell_formula_written_out() -> None:
    c, n, z = 1.4, 12, stats.norm.ppf(0.975)
    se = math.sqrt(1 / (9 * n * c * c) + 1 / (2 * (n - 1)))
    assert bissell_interval(c, n) == pytest.approx((c * (1 - z * se), c * (1 + z * se)), rel=1e-12)
    assert bissell_lower_bound(c, n, 0.95) == pytest.approx(c * (1 - stats.norm.ppf(0.95) * se), rel=1e-12)


@pytest.mark.parametrize("c", [-1.4, -0.5, 0.0, 0.3])
def test_bissell_interval_of_a_process_centred_outside_its_limits(c: float) -> None:
    """A negative index (the mean is outside a limit) keeps low below the estimate below high: the
    additive form of Bissell's interval, the mirror image of the positive index's."""
    n = 12
    low, high = bissell_interval(c, n)
    assert low < c < high and bissell_lower_bound(c, n) < c
    mirror_low, mirror_high = bissell_interval(-c, n)
    assert (low, high) == pytest.approx((-mirror_high, -mirror_low), abs=1e-12)


def test_bissell_interval_covers_a_negative_ppk_as_claimed() -> None:
    """Seeded simulation: normal lots whose mean lies below the lower limit (true Ppk -0.5, one-sided
    lower limit), n = 30; the 95 % interval of the estimated Ppk holds the true value about 95 % of
    the time (a large-sample approximation: within 2 points here)."""
    import numpy as np

    rng = np.random.default_rng(20261130)
    n, true, runs = 30, -0.5, 4000
    x = rng.normal(loc=true * 3.0, scale=1.0, size=(runs, n))  # lower limit 0: Ppl = mean / (3 sd)
    est = x.mean(axis=1) / (3.0 * x.std(axis=1, ddof=1))
    hits = sum(lo <= true <= hi for lo, hi in (bissell_interval(float(e), n) for e in est))
    assert abs(hits / runs - 0.95) < 0.02


# ---------------------------------------------------------------------------
# Exact interval of a one-sided index (noncentral t)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("index", "n"), [(1.0, 10), (1.33, 5), (0.8, 3), (2.0, 30)])
def test_exact_one_sided_interval_inverts_the_noncentral_t(index: float, n: int) -> None:
    low, high, lb = exact_one_sided_interval(index, n, 0.95)
    root = 3 * math.sqrt(n)
    t_obs = root * index
    assert stats.nct.cdf(t_obs, n - 1, low * root) == pytest.approx(0.975, abs=1e-7)
    assert stats.nct.cdf(t_obs, n - 1, high * root) == pytest.approx(0.025, abs=1e-7)
    assert stats.nct.cdf(t_obs, n - 1, lb * root) == pytest.approx(0.95, abs=1e-7)
    assert low < lb < index < high


def test_exact_lower_bound_covers_at_small_n_where_bissell_does_not() -> None:
    # Seeded simulation: true Cpl = 1.0 with n = 4 lots. The exact bound holds its 95 %; Bissell's
    # approximation, a large-sample formula, does not at this n (which is why cgtkit shows both).
    rng = np.random.default_rng(7)
    n, reps, true_cpl = 4, 4000, 1.0
    x = rng.standard_normal((reps, n))
    mean, sd = x.mean(axis=1), x.std(axis=1, ddof=1)
    est = (mean - (-3.0 * true_cpl)) / (3 * sd)
    exact_lb = np.array([exact_one_sided_interval(e, n)[2] for e in est])
    bissell_lb = np.array([bissell_lower_bound(e, n) for e in est])
    exact_cover = np.mean(exact_lb <= true_cpl)
    bissell_cover = np.mean(bissell_lb <= true_cpl)
    assert exact_cover == pytest.approx(0.95, abs=0.012)
    assert abs(bissell_cover - 0.95) > abs(exact_cover - 0.95)


# ---------------------------------------------------------------------------
# Generalized confidence interval (two limits)
# ---------------------------------------------------------------------------


def test_generalized_interval_matches_exact_when_one_limit_is_far_away() -> None:
    # With the upper limit 100 SD away, Ppk = Cpl and the generalized interval must agree with the exact one.
    lo, hi, lb = generalized_interval(3.0, 1.0, 8, 0.0, 103.0, 0.95, n_sim=200_000, seed=1)
    e_lo, e_hi, e_lb = exact_one_sided_interval(1.0, 8, 0.95)
    assert (lo, hi, lb) == pytest.approx((e_lo, e_hi, e_lb), abs=0.01)


def test_generalized_interval_is_seeded() -> None:
    a = generalized_interval(100.0, 1.0, 6, 95.0, 105.0, seed=3)
    assert a == generalized_interval(100.0, 1.0, 6, 95.0, 105.0, seed=3)
    assert a != generalized_interval(100.0, 1.0, 6, 95.0, 105.0, seed=4)


def test_generalized_lower_bound_covers_two_sided_ppk() -> None:
    # Seeded simulation, n = 5, a process off centre (true Ppk = 1.0 from the upper side): the generalized
    # lower bound is close to its nominal 95 % (Mathew, Sebastian & Kurian 2007 report near-exact coverage).
    rng = np.random.default_rng(11)
    n, reps = 5, 600
    lower, upper, mu, sigma = -6.0, 3.0, 0.0, 1.0
    true = min(upper - mu, mu - lower) / (3 * sigma)
    x = rng.normal(mu, sigma, (reps, n))
    lbs = [generalized_interval(float(r.mean()), float(r.std(ddof=1)), n, lower, upper, n_sim=4000, seed=i)[2]
           for i, r in enumerate(x)]
    assert np.mean(np.array(lbs) <= true) == pytest.approx(0.95, abs=0.03)


# ---------------------------------------------------------------------------
# Fraction outside
# ---------------------------------------------------------------------------


def test_fraction_outside_matches_ppqplan_rl_pp() -> None:
    # R package PPQplan 1.1.0, vignette "Introduction to PPQplan": rl_pp(Llim=95, Ulim=105, mu=98, sigma=1)
    # = 0.9986501 (probability of passing the specification); reference manual: rl_pp(Llim=1.5, Ulim=3.5,
    # mu=2.5, sigma=0.8) = 0.7887005.
    below, above = fraction_outside(98.0, 1.0, 95.0, 105.0)
    assert 1 - (below + above) == pytest.approx(0.9986501, abs=5e-8)
    below, above = fraction_outside(2.5, 0.8, 1.5, 3.5)
    assert 1 - (below + above) == pytest.approx(0.7887005, abs=5e-8)


def test_fraction_outside_one_sided_and_vectorised() -> None:
    below, above = fraction_outside(np.array([98.0, 100.0]), 1.0, 95.0, math.inf)
    assert above.tolist() == [0.0, 0.0]
    assert below == pytest.approx(stats.norm.cdf([-3.0, -5.0]), rel=1e-12)


def test_predictive_fraction_is_student_t() -> None:
    mean, sd, n, lo, hi = 98.0, 1.0, 10, 95.0, 105.0
    scale = sd * math.sqrt(1 + 1 / n)
    expected = stats.t.cdf((lo - mean) / scale, n - 1) + stats.t.sf((hi - mean) / scale, n - 1)
    assert fraction_outside_predictive(mean, sd, n, lo, hi) == pytest.approx(expected, rel=1e-10)
    assert fraction_outside_predictive(mean, sd, n, lo, math.inf) == pytest.approx(
        stats.t.cdf((lo - mean) / scale, n - 1), rel=1e-10)


def test_predictive_fraction_agrees_with_a_seeded_simulation() -> None:
    # Draw a process, n lots from it, the next lot: the share of next lots outside equals the predictive
    # probability averaged over data sets -- checked here at one data set by the Bayesian reading:
    # simulate (mu, sigma) from the posterior under the noninformative prior, then the next lot.
    rng = np.random.default_rng(5)
    xbar, s, n, lo, hi = 100.0, 2.0, 6, 95.0, 105.0
    sigma = s * np.sqrt((n - 1) / rng.chisquare(n - 1, 400_000))
    mu = xbar + sigma / math.sqrt(n) * rng.standard_normal(sigma.size)
    nxt = mu + sigma * rng.standard_normal(sigma.size)
    share = np.mean((nxt < lo) | (nxt > hi))
    assert fraction_outside_predictive(xbar, s, n, lo, hi) == pytest.approx(share, abs=0.002)


# ---------------------------------------------------------------------------
# process_capability
# ---------------------------------------------------------------------------

LOTS = [98.2, 101.0, 99.4, 100.6, 97.9, 100.1, 99.0, 100.8]


def test_process_capability_written_out() -> None:
    x = np.array(LOTS)
    mean, sd = x.mean(), x.std(ddof=1)
    sd_mr = np.mean(np.abs(np.diff(x))) / (2 / math.sqrt(math.pi))
    cap = process_capability(LOTS, lower=95.0, upper=105.0)
    assert isinstance(cap, ProcessCapability)
    assert cap.ppk == pytest.approx(min(105 - mean, mean - 95) / (3 * sd))
    assert cap.pp == pytest.approx(10 / (6 * sd))
    assert cap.cpk == pytest.approx(min(105 - mean, mean - 95) / (3 * sd_mr))
    assert cap.sd_within == pytest.approx(sd_mr) and D2_MOVING_RANGE == pytest.approx(1.1283792)
    assert (cap.ppk_low, cap.ppk_high) == pytest.approx(bissell_interval(cap.ppk, 8))
    assert cap.fraction_outside == pytest.approx(stats.norm.cdf(95, mean, sd) + stats.norm.sf(105, mean, sd))
    assert cap.sided == 2 and cap.exact_method.startswith("generalized confidence interval")
    frame = cap.to_frame()
    assert frame["index"].tolist() == ["Pp", "Ppk", "Ppk", "Cp", "Cpk"]
    assert list(frame.columns) == ["index", "sigma_basis", "estimate", "interval_method", "low", "high",
                                   "lower_bound", "confidence_level"]


def test_one_sided_specification_uses_the_exact_interval() -> None:
    cap = process_capability(LOTS, lower=95.0)
    assert cap.sided == 1 and cap.pp is None and cap.cp is None
    assert cap.exact_method == "exact (noncentral t)"
    assert (cap.ppk_exact_low, cap.ppk_exact_high, cap.ppk_exact_lower_bound) == pytest.approx(
        exact_one_sided_interval(cap.ppk, 8))
    assert cap.fraction_above == 0.0
    assert cap.to_frame()["index"].tolist() == ["Ppk", "Ppk", "Cpk"]


def test_log_scale_is_the_normal_analysis_of_the_logs() -> None:
    titers = [1.03e13, 1.18e13, 1.03e13, 0.95e13, 1.22e13, 1.31e13]
    cap = process_capability(titers, lower=0.5e13, upper=2.5e13, scale="log")
    logs = process_capability(np.log(titers), lower=math.log(0.5e13), upper=math.log(2.5e13))
    assert cap.ppk == pytest.approx(logs.ppk) and cap.fraction_outside == pytest.approx(logs.fraction_outside)
    assert cap.lower == 0.5e13 and cap.lower_scaled == pytest.approx(math.log(0.5e13))


def test_log_scale_lower_limit_of_zero_is_no_limit() -> None:
    assert limits_on_scale(0.0, 10.0, "log") == (-math.inf, math.log(10.0))
    cap = process_capability([1.0, 2.0, 1.5], lower=0.0, upper=10.0, scale="log")
    assert cap.sided == 1


def test_moving_range_sd_written_out() -> None:
    assert moving_range_sd([10.0, 12.0, 11.0, 13.0]) == pytest.approx((2 + 1 + 2) / 3 / 1.1283791670955126)


# ---------------------------------------------------------------------------
# Errors a person can act on
# ---------------------------------------------------------------------------


def test_lower_above_upper_is_a_cgtkit_error() -> None:
    with pytest.raises(SpecificationError, match=r"lower specification limit \(105\) is above the upper limit"):
        process_capability(LOTS, lower=105.0, upper=95.0)
    assert issubclass(SpecificationError, CgtkitError)


def test_equal_limits_and_no_limit_are_cgtkit_errors() -> None:
    with pytest.raises(SpecificationError, match="both 100"):
        check_specification(100, 100)
    with pytest.raises(SpecificationError, match="No specification limit was given"):
        process_capability(LOTS)
    with pytest.raises(SpecificationError, match="must be a number"):
        check_specification("ninety", None)


def test_single_lot_is_a_cgtkit_error() -> None:
    with pytest.raises(InsufficientDataError, match="at least 2 lots; got 1"):
        process_capability([99.0], lower=95.0, upper=105.0)


def test_zero_variance_is_a_cgtkit_error() -> None:
    with pytest.raises(InsufficientDataError, match="identical"):
        process_capability([99.0, 99.0, 99.0], lower=95.0, upper=105.0)


def test_log_scale_problems_are_cgtkit_errors() -> None:
    with pytest.raises(InsufficientDataError, match="greater than 0"):
        process_capability([1.0, 0.0, 2.0], upper=5.0, scale="log")
    with pytest.raises(SpecificationError, match="not above 0"):
        process_capability([1.0, 2.0], upper=-1.0, scale="log")
    with pytest.raises(SpecificationError, match="does not limit anything"):
        process_capability([1.0, 2.0], lower=0.0, scale="log")


def test_programming_mistakes_are_value_errors() -> None:
    with pytest.raises(ValueError, match="confidence"):
        process_capability(LOTS, lower=95.0, confidence=95)
    with pytest.raises(ValueError, match="scale"):
        process_capability(LOTS, lower=95.0, scale="lognormal")


def test_capability_index_vectorised_and_open_side() -> None:
    out = capability_index(np.array([100.0, 97.0]), 1.0, 95.0, 105.0)
    assert out.tolist() == pytest.approx([5 / 3, 2 / 3])
    assert capability_index(100.0, 2.0, -math.inf, 106.0) == pytest.approx(1.0)
