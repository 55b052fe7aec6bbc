"""Tests for cgtkit.stats.equivalence: TOST against statsmodels and published worked examples, power against
PowerTOST's published outputs, adaptive quadrature and seeded simulation.

Reference values and where they come from:

* statsmodels 0.14+ ``statsmodels.stats.weightstats.ttost_ind`` (``usevar="unequal"`` / ``"pooled"``,
  ``transform=np.log``) and ``ttost_paired``: computed in the test on several data sets.
* Minitab, "Example of 2-Sample Equivalence Test" (Minitab 21 Support, Stat > Equivalence Tests > 2-Sample;
  cat food protein, test = Discount, reference = Original, limits -0.5 and 0.5, equal variances not assumed).
  Printed: Discount n 10, StDev 0.58064; Original n 9, mean 34.092, StDev 0.26138; difference -0.12122,
  SE 0.20324, CI (-0.483449, 0.241005); DF 12, T 1.8637 and -3.0566, P 0.044 and 0.005. Minitab truncates
  the Welch-Satterthwaite df (12.78) to 12: reproduced with ``welch_df="floor"``; cgtkit's default keeps
  12.78 (as statsmodels and R). Its "95% CI" is the 90% interval (1 - 2 alpha) widened to include 0, the
  same here because 0 lies inside.
* Minitab, "Example of Equivalence Test with Paired Data" (contact lens cleaning solutions, 14 pairs, limits
  -0.5 and 0.5): difference -0.11929, StDev 0.42324, SE 0.11312, CI (-0.31960, 0.081034); DF 13, T 3.3657 and
  -5.4748, P 0.003 and 0.000.
* PowerTOST (Labes, Schuetz & Lang; R package, README of github.com/Detlew/PowerTOST, exact method = Owen's Q):
  ``power.TOST(CV = 0.35, n = c(52, 49), design = "parallel")`` = 0.8011186;
  ``sampleN.TOST(CV = 0.20)`` n 20, power 0.834680 (2x2 crossover: se = s sqrt(2/n), df = n - 2);
  ``sampleN.TOST(CV = 0.125, theta0 = 0.975, theta1 = 0.90)`` n 32, power 0.800218;
  ``sampleN.TOST(CV = 0.40, theta0 = 0.90, theta1 = 0.75, design = "2x2x4")`` n 30, power 0.822929
  (se = s sqrt(1/n), df = 3n - 4);
  ``sampleN.TOST(CV = 0.45, theta0 = 0.90, design = "2x2x3")`` n 124, power 0.800125 (se = s sqrt(1.5/n),
  df = 2n - 3). Defaults theta0 0.95, limits 0.80-1.25, alpha 0.05, s = sqrt(log(1 + CV^2)); the design
  constants are PowerTOST's ``known.designs()`` table.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats
from statsmodels.stats.weightstats import ttost_ind, ttost_paired

from cgtkit.errors import CgtkitError, InsufficientDataError
from cgtkit.stats.equivalence import (
    EquivalenceResult,
    equivalence_test,
    equivalence_test_from_stats,
    lots_needed,
    margin_from_reference_sd,
    paired_equivalence_test,
    paired_equivalence_test_from_stats,
    paired_tost_power,
    power_grid,
    simulate_tost_power,
    tost_power,
    tost_power_se,
)

# -- statsmodels ---------------------------------------------------------------------------


def _datasets() -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(20260601)
    sizes = [(3, 3), (3, 8), (5, 4), (10, 12), (27, 33), (2, 6)]
    sds = [(1.0, 1.0), (2.0, 0.5), (1.0, 3.0), (0.3, 0.3), (4.0, 6.0), (1.0, 1.0)]
    return [(rng.normal(50.0 + 0.3 * i, st, nt), rng.normal(50.0, sr, nr))
            for i, ((nt, nr), (st, sr)) in enumerate(zip(sizes, sds))]


@pytest.mark.parametrize("usevar", ["unequal", "pooled"])
@pytest.mark.parametrize("index", range(6))
def test_independent_tost_matches_statsmodels(usevar: str, index: int) -> None:
    test, ref = _datasets()[index]
    low, high = -1.2, 0.9
    r = equivalence_test(test, ref, bounds=(low, high), usevar=usevar)
    p, (t1, p1, df1), (t2, p2, df2) = ttost_ind(test, ref, low, high, usevar=usevar)
    assert r.pvalue == pytest.approx(p, rel=1e-10)
    assert (r.t_lower, r.pvalue_lower, r.df) == pytest.approx((t1, p1, df1), rel=1e-10)
    assert (r.t_upper, r.pvalue_upper) == pytest.approx((t2, p2), rel=1e-10)
    assert r.equivalent == (p < 0.05)
    assert r.variance == ("welch" if usevar == "unequal" else "pooled")


@pytest.mark.parametrize("index", range(6))
def test_log_scale_tost_matches_statsmodels_with_log_transform(index: int) -> None:
    test, ref = _datasets()[index]
    r = equivalence_test(test, ref, bounds=(0.95, 1.04), scale="log")
    p, (t1, p1, df1), (t2, p2, _) = ttost_ind(test, ref, 0.95, 1.04, usevar="unequal", transform=np.log)
    assert (r.pvalue, r.t_lower, r.pvalue_lower, r.df, r.t_upper, r.pvalue_upper) == pytest.approx(
        (p, t1, p1, df1, t2, p2), rel=1e-10)
    assert r.ratio == pytest.approx(math.exp(np.mean(np.log(test)) - np.mean(np.log(ref))))
    assert r.ratio_bounds == pytest.approx((0.95, 1.04))


@pytest.mark.parametrize("index", range(6))
def test_paired_tost_matches_statsmodels(index: int) -> None:
    rng = np.random.default_rng(index)
    n = (3, 4, 6, 10, 15, 2)[index]
    donor = rng.normal(100.0, 15.0, n)
    ref = donor + rng.normal(0.0, 2.0, n)
    test = donor + 0.5 + rng.normal(0.0, 2.0, n)
    r = paired_equivalence_test(test, ref, bounds=(-3.0, 2.5))
    p, (t1, p1, df1), (t2, p2, _) = ttost_paired(test, ref, -3.0, 2.5)
    assert (r.pvalue, r.t_lower, r.pvalue_lower, r.df, r.t_upper, r.pvalue_upper) == pytest.approx(
        (p, t1, p1, df1, t2, p2), rel=1e-10)
    rl = paired_equivalence_test(test, ref, bounds=(0.97, 1.03), scale="log")
    pl, *_ = ttost_paired(test, ref, 0.97, 1.03, transform=np.log)
    assert rl.pvalue == pytest.approx(pl, rel=1e-10)


def test_pairing_removes_donor_variation() -> None:
    rng = np.random.default_rng(7)
    donor = rng.normal(100.0, 15.0, 6)
    ref, test = donor + rng.normal(0, 1, 6), donor + rng.normal(0, 1, 6)
    assert paired_equivalence_test(test, ref, margin=3.0).equivalent
    assert not equivalence_test(test, ref, margin=3.0).equivalent  # the donor SD swamps the independent test


# -- published worked examples ----------------------------------------------------------------


def test_minitab_two_sample_example_with_truncated_welch_df() -> None:
    # Minitab prints the difference (-0.12122) to more digits than the means; the test mean is set from it.
    r = equivalence_test_from_stats(34.092 - 0.12122, 0.58064, 10, 34.092, 0.26138, 9, margin=0.5,
                                    welch_df="floor")
    assert r.df == 12.0
    assert r.se == pytest.approx(0.20324, abs=5e-6)
    assert (r.t_lower, r.t_upper) == pytest.approx((1.8637, -3.0566), abs=5e-5)
    assert round(r.pvalue_lower, 3) == 0.044 and round(r.pvalue_upper, 3) == 0.005
    assert (r.ci_low, r.ci_high) == pytest.approx((-0.483449, 0.241005), abs=1e-5)
    assert r.equivalent and r.pvalue == pytest.approx(r.pvalue_lower)
    unrounded = equivalence_test_from_stats(34.092 - 0.12122, 0.58064, 10, 34.092, 0.26138, 9, margin=0.5)
    assert unrounded.df == pytest.approx(12.78, abs=0.005)
    assert "unrounded" in unrounded.df_method and "Minitab" in r.df_method


def test_minitab_paired_example() -> None:
    r = paired_equivalence_test_from_stats(-0.11929, 0.42324, 14, margin=0.5)
    assert r.df == 13.0 and r.se == pytest.approx(0.11312, abs=5e-6)
    assert (r.t_lower, r.t_upper) == pytest.approx((3.3657, -5.4748), abs=5e-5)
    assert round(r.pvalue_lower, 3) == 0.003 and round(r.pvalue_upper, 3) == 0.000
    assert (r.ci_low, r.ci_high) == pytest.approx((-0.31960, 0.081034), abs=2e-5)
    assert r.equivalent


# -- power -------------------------------------------------------------------------------------

S = lambda cv: math.sqrt(math.log1p(cv * cv))  # noqa: E731  (PowerTOST's CV2se)
LOG_BE = (math.log(0.8), math.log(1.25))


def test_power_matches_powertost_parallel_unequal_groups() -> None:
    assert float(tost_power(math.log(0.95), math.log(1.25), 52, 49, sd=S(0.35))) == pytest.approx(0.8011186, abs=5e-8)


@pytest.mark.parametrize(("cv", "theta0", "theta1", "n", "bk", "df", "expected"), [
    (0.20, 0.95, 0.80, 20, 2.0, 18, 0.834680),     # sampleN.TOST(CV = 0.20), 2x2
    (0.125, 0.975, 0.90, 32, 2.0, 30, 0.800218),   # sampleN.TOST(CV = 0.125, theta0 = 0.975, theta1 = 0.90)
    (0.40, 0.90, 0.75, 30, 1.0, 86, 0.822929),     # design "2x2x4"
    (0.45, 0.90, 0.80, 124, 1.5, 245, 0.800125),   # design "2x2x3"
])
def test_power_matches_powertost_published_outputs(cv, theta0, theta1, n, bk, df, expected) -> None:
    se = S(cv) * math.sqrt(bk / n)
    p = tost_power_se(math.log(theta0), math.log(theta1), -math.log(theta1), se, df)
    assert float(p) == pytest.approx(expected, abs=5e-7)


def _power_by_quad(delta: float, m: float, se: float, nu: float, alpha: float = 0.05) -> float:
    """Independent re-derivation: adaptive quadrature over the chi-square variable (scipy.stats)."""
    t = stats.t.ppf(1 - alpha, nu)
    u_star = m / (t * se)

    def f(u: float) -> float:
        inner = stats.norm.cdf((m - delta) / se - t * u) - stats.norm.cdf((-m - delta) / se + t * u)
        return max(inner, 0.0) * 2 * u * nu * stats.chi2.pdf(nu * u * u, nu)

    return integrate.quad(f, 0, u_star, epsabs=1e-13, epsrel=1e-12, limit=200)[0]


@pytest.mark.parametrize("n", [2, 3, 5, 30, 300])
@pytest.mark.parametrize("delta", [0.0, 0.7, 1.4])
def test_power_matches_adaptive_quadrature(n: int, delta: float) -> None:
    exact = _power_by_quad(delta, 1.5, math.sqrt(2 / n), 2 * n - 2)
    assert float(tost_power(delta, 1.5, n)) == pytest.approx(exact, abs=1e-9)
    exact_paired = _power_by_quad(delta, 1.5, 0.8 / math.sqrt(n), n - 1)
    assert float(paired_tost_power(delta, 1.5, n, sd_difference=0.8)) == pytest.approx(exact_paired, abs=1e-9)


@pytest.mark.parametrize(("design", "n", "delta", "sd"), [
    ("independent", 3, 0.0, 1.0), ("independent", 5, 0.5, 1.0), ("independent", 10, 1.0, 1.0),
    ("paired", 3, 0.0, 0.6), ("paired", 6, 0.5, 1.0),
])
def test_power_agrees_with_seeded_simulation(design: str, n: int, delta: float, sd: float) -> None:
    sim = simulate_tost_power(delta, 1.5, n, sd=sd, design=design, n_sim=40_000, seed=11)
    if design == "paired":
        exact = float(paired_tost_power(delta, 1.5, n, sd_difference=sd))
    else:
        exact = float(tost_power(delta, 1.5, n, sd=sd))
    assert abs(sim.power - exact) < 4 * sim.se, (sim, exact)


def test_welch_power_is_close_to_pooled_at_equal_variances() -> None:
    welch = simulate_tost_power(0.0, 1.5, 10, usevar="unequal", n_sim=40_000, seed=5).power
    assert welch == pytest.approx(float(tost_power(0.0, 1.5, 10)), abs=0.02)


def test_estimated_margin_changes_the_type_one_error() -> None:
    # the known weakness of a margin of 1.5 estimated reference SDs: at a true difference of 1.5 true SDs
    # the test should pass 5% of the time; with an estimated SD it passes less often at 3 lots per side
    # and more often at 30.
    small = simulate_tost_power(1.5, 1.5, 3, margin_from_reference=True, n_sim=40_000, seed=3)
    large = simulate_tost_power(1.5, 1.5, 30, margin_from_reference=True, n_sim=40_000, seed=3)
    assert small.power < 0.05 - 3 * small.se
    assert large.power > 0.05 + 3 * large.se


def test_three_versus_three_cannot_show_equivalence_and_what_would() -> None:
    assert float(tost_power(0.0, 1.5, 3)) < 0.2  # identical processes, 1.5 sigma margin: about 0.15
    need = lots_needed(0.8, 0.0, 1.5)
    assert (need.n_test, need.n_reference) == (9, 9) and need.power >= 0.8
    assert float(tost_power(0.0, 1.5, 8)) < 0.8
    assert lots_needed(0.8, 0.5, 1.5).n_test == 14
    fixed = lots_needed(0.8, 0.0, 1.5, n_reference=3)
    assert fixed.n_test is None and "reference side" in fixed.reason  # 3 reference lots cap the power
    assert lots_needed(0.8, 1.5, 1.5).n_test is None
    assert lots_needed(0.8, 0.0, 1.5, design="paired", sd=0.5).n_test == 3  # donor variation removed


def test_power_grid_matches_single_calls() -> None:
    """The grid's speed is measured in benchmarks/bench_stats.py (docs/benchmarks.md), not asserted here."""
    grid = power_grid(range(2, 31), (0.0, 0.25, 0.5, 0.75, 1.0), (1.0, 1.5, 2.0))
    assert grid.power.shape == (29, 5, 3)
    assert float(grid.power[1, 0, 1]) == pytest.approx(float(tost_power(0.0, 1.5, 3)))
    assert np.all(np.diff(grid.power[:, 0, 1]) > 0)  # more lots, more power (true difference 0)
    frame = grid.to_frame()
    assert len(frame) == 29 * 5 * 3 and list(frame.columns) == ["design", "n", "true_difference", "margin", "sd",
                                                                 "alpha", "power"]


# -- results and errors -------------------------------------------------------------------------


def test_margin_from_reference_sd_and_result_frame() -> None:
    ref = [10.0, 12.0, 11.0, 13.0]
    assert margin_from_reference_sd(ref) == pytest.approx(1.5 * np.std(ref, ddof=1))
    r = equivalence_test([11.0, 12.5, 11.8], ref)
    assert (r.low, r.high) == pytest.approx((-1.5 * np.std(ref, ddof=1), 1.5 * np.std(ref, ddof=1)))
    assert r.margin_basis.startswith("1.5 × SD of the 4 reference lots")
    frame = r.to_frame()
    assert len(frame) == 1 and {"difference", "ci_low", "ci_high", "pvalue_lower", "pvalue_upper", "equivalent",
                                "df_method", "ratio"} <= set(frame.columns)
    assert isinstance(r, EquivalenceResult) and r.confidence_interval == (r.ci_low, r.ci_high)
    log = equivalence_test([1.1, 1.2, 1.0], [1.0, 1.3, 0.9, 1.1], scale="log")
    assert log.margin_basis.startswith("1.5 × SD of the logs")


@pytest.mark.parametrize(("call", "fragment"), [
    (lambda: equivalence_test([1.0], [1.0, 2.0, 3.0], margin=1), "needs at least 2"),
    (lambda: equivalence_test([1.0, 2.0], [3.0], margin=1), "reference (pre-change) lots"),
    (lambda: equivalence_test([2.0, 2.0, 2.0], [2.0, 2.0], margin=1), "identical results"),
    (lambda: equivalence_test([1.0, 2.0], [3.0, 3.0, 3.0]), "same result"),
    (lambda: equivalence_test([1.0, float("nan")], [3.0, 4.0], margin=1), "not a finite number"),
    (lambda: equivalence_test([1.0, "<LOQ"], [3.0, 4.0], margin=1), "must all be numbers"),
    (lambda: equivalence_test([1.0, 0.0], [3.0, 4.0], bounds=(0.8, 1.25), scale="log"), "greater than 0"),
    (lambda: paired_equivalence_test([1.0, 2.0, 3.0], [1.0, 2.0], margin=1), "unpaired"),
    (lambda: paired_equivalence_test([1.0, 2.0], [0.0, 1.0], margin=1), "identical"),
])
def test_data_problems_raise_a_cgtkit_error_with_a_sentence(call, fragment: str) -> None:
    with pytest.raises(CgtkitError) as info:
        call()
    assert isinstance(info.value, InsufficientDataError) and fragment in str(info.value)
    assert str(info.value).endswith(".")


@pytest.mark.parametrize(("kwargs", "fragment"), [
    (dict(alpha=0.5), "alpha"), (dict(usevar="welch"), "usevar"), (dict(welch_df="round"), "welch_df"),
    (dict(bounds=(1.0, -1.0)), "low < high"), (dict(margin=-1.0), "positive"),
    (dict(margin=1.0, bounds=(-1.0, 1.0)), "not both"), (dict(scale="logit"), "scale"),
])
def test_programming_mistakes_raise_value_error(kwargs: dict, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment) as info:
        equivalence_test([1.0, 2.0, 3.0], [1.5, 2.5, 2.0], **kwargs)
    assert not isinstance(info.value, CgtkitError)
