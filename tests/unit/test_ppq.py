"""Tests for cgtkit.stats.ppq: the number of PPQ lots by each approach, and the probability of passing PPQ.

Reference values: the R package PPQplan 1.1.0 (Zhu 2020, CRAN; Burdick et al. 2017, Statistical
Applications for CMC, pp. 227-250), whose documentation prints example outputs; the success-run relation
1 - R^n >= C. Pass probabilities are also checked against seeded brute-force simulations and against
adaptive quadrature of PPQplan's integral.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from cgtkit.errors import CgtkitError, InsufficientDataError
from cgtkit.stats.capability import SpecificationError, bissell_lower_bound
from cgtkit.stats.ppq import (
    PASS_CONTOURS,
    LotsNeeded,
    acceptance_factor,
    capability_lots,
    default_grid_axes,
    expected_coverage_lots,
    pass_probability,
    pass_probability_grid,
    success_run,
    success_run_confidence,
    success_run_reliability,
    tolerance_coverage_lots,
)
from cgtkit.stats.tolerance import tolerance_factor

# ---------------------------------------------------------------------------
# Success run
# ---------------------------------------------------------------------------


def test_success_run_published_values() -> None:
    # Zero-failure (success-run) sample sizes n = ceil(ln(1 - C) / ln R), the values tabulated in the
    # validation literature: 29 lots for 95 % confidence / 90 % reliability, 59 for 95/95, 299 for 95/99
    # (e.g. Kalegaonkar 2017, "Reliability, Confidence, and Sample Size, Part I", table for c = 0).
    assert success_run(0.90, 0.95).n == 29
    assert success_run(0.95, 0.95).n == 59
    assert success_run(0.99, 0.95).n == 299
    assert success_run(0.90, 0.90).n == 22


def test_success_run_shows_why_a_small_ppq_is_not_justified_by_reliability() -> None:
    r = success_run(0.95, 0.95, n_planned=3)
    assert r.value_planned == pytest.approx(1 - 0.95 ** 3)
    assert "14%" in r.reasoning and "cannot justify a small number of PPQ lots" in r.reasoning
    assert success_run_confidence(59, 0.95) >= 0.95 > success_run_confidence(58, 0.95)
    assert success_run_reliability(59, 0.95) >= 0.95 > success_run_reliability(58, 0.95)
    assert isinstance(r, LotsNeeded) and r.to_frame()["value"].is_monotonic_increasing


# ---------------------------------------------------------------------------
# Capability-based number
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("ppk", "target"), [(1.5, 1.0), (1.33, 1.0), (2.0, 1.33), (1.2, 1.0)])
def test_capability_lots_is_the_first_n_whose_bissell_bound_clears_the_target(ppk: float, target: float) -> None:
    n = capability_lots(ppk, target, 0.95).n
    assert n is not None
    assert bissell_lower_bound(ppk, n, 0.95) >= target > bissell_lower_bound(ppk, n - 1, 0.95)


def test_capability_lots_unreachable_says_why() -> None:
    r = capability_lots(0.95, 1.0)
    assert r.n is None and "not above the target" in r.reasoning
    assert capability_lots(1.001, 1.0, n_max=50).n is None


# ---------------------------------------------------------------------------
# Expected coverage and tolerance interval inside the specification
# ---------------------------------------------------------------------------


def test_expected_coverage_of_the_range() -> None:
    # (n - 1)/(n + 1): 0.50 at 3 lots, 0.67 at 5, 0.82 at 10 (Wilks 1941: the range of n values covers a
    # Beta(n - 1, 2) share of any continuous distribution).
    r = expected_coverage_lots(0.90, ns=[3, 5, 10, 19])
    assert [round(v, 2) for v in r.values] == [0.50, 0.67, 0.82, 0.90]
    assert r.n == 19
    assert stats.beta(2, 2).mean() == pytest.approx(0.5)  # n = 3: Beta(2, 2)
    assert expected_coverage_lots(0.90, sided=1).n == 9  # n/(n + 1) >= 0.9


@pytest.mark.parametrize(("mean", "sd", "lower", "upper", "p"), [
    (100.0, 1.0, 95.0, 105.0, 0.99), (100.0, 1.2, 95.0, 105.0, 0.95), (98.0, 1.0, 90.0, None, 0.99),
])
def test_tolerance_coverage_lots_is_the_first_n_whose_k_fits(mean, sd, lower, upper, p) -> None:
    r = tolerance_coverage_lots(mean, sd, lower, upper, p, 0.95)
    sided = 2 if lower is not None and upper is not None else 1
    d = min(((upper if upper is not None else math.inf) - mean) / sd, (mean - lower) / sd)
    assert r.n is not None
    assert tolerance_factor(r.n, p, 0.95, sided=sided) <= d < tolerance_factor(r.n - 1, p, 0.95, sided=sided)


def test_tolerance_coverage_unreachable() -> None:
    r = tolerance_coverage_lots(100.0, 2.0, 95.0, 105.0, 0.99, 0.95)  # limits 2.5 SD away < z_0.995
    assert r.n is None and "no number of lots" in r.reasoning


# ---------------------------------------------------------------------------
# Probability of passing PPQ: PPQplan's documented outputs
# ---------------------------------------------------------------------------


def test_ppqplan_ppq_pp_vignette() -> None:
    # PPQplan vignette "Introduction to PPQplan": PPQ_pp(Llim=95, Ulim=105, mu=98, sigma=1, n=10, n.batch=1,
    # k=2.373) prints 0.8604419.
    r = pass_probability(98.0, 1.0, 95.0, 105.0, n_per_lot=10, criterion="interval", k=2.373)
    assert r.per_lot == pytest.approx(0.8604419, abs=5e-8)


def test_ppqplan_prediction_k() -> None:
    # Same vignette: "a general multiplier for constructing 95% two-sided prediction interval can be
    # calculated as k = 2.373" (n = 10): t_{0.975, 9} sqrt(1 + 1/10).
    assert acceptance_factor(10, interval="prediction", confidence=0.95) == pytest.approx(2.373, abs=5e-4)


def test_ppqplan_k_factor_is_guenther_corrected_howe() -> None:
    # PPQplan reference manual: k_factor(10, P = 0.95, side = 2) prints 3.407495. Its code is Howe's formula
    # with Guenther's correction (R tolerance::K.factor method "HE"), not plain Howe.
    assert acceptance_factor(10, interval="tolerance", coverage=0.95) == pytest.approx(3.407495, abs=5e-7)
    assert tolerance_factor(10, 0.95, 0.95, method="howe") != pytest.approx(3.407495, abs=1e-3)


# PPQplan reference manual, ti_pp examples (alpha = 0.05, coverprob = 0.675 default, side = 2, n = 10):
#   ti_pp(sigma=0.5, mu=2.5, n=10, n.batch=1, Llim=1.5, Ulim=3.5, alpha=0.05)  -> 0.591041
#   sapply(c(0.1,0.5,1,2,3,4,5,10), ti_pp, mu=97,  ...) -> 1 9.999914e-01 7.489382e-01 9.289979e-02
#                                                          2.103286e-02 7.162916e-03 2.456487e-03 1.597179e-05
#   sapply(..., mu=100, ...) -> 1 1 1 9.018469e-01 2.971147e-01 5.696332e-02 1.110079e-02 2.462045e-05
TI_SIGMAS = [0.1, 0.5, 1, 2, 3, 4, 5, 10]
TI_PP = {
    97.0: [1.0, 9.999914e-01, 7.489382e-01, 9.289979e-02, 2.103286e-02, 7.162916e-03, 2.456487e-03, 1.597179e-05],
    100.0: [1.0, 1.0, 1.0, 9.018469e-01, 2.971147e-01, 5.696332e-02, 1.110079e-02, 2.462045e-05],
}


def test_ppqplan_ti_pp_examples() -> None:
    k = acceptance_factor(10, interval="tolerance", confidence=0.95, coverage=0.675)
    single = pass_probability(2.5, 0.5, 1.5, 3.5, n_per_lot=10, criterion="interval", k=k)
    assert single.per_lot == pytest.approx(0.591041, abs=5e-7)
    grid = pass_probability_grid(95.0, 105.0, [97.0, 100.0], TI_SIGMAS, n_per_lot=10, criterion="interval", k=k)
    for j, mu in enumerate((97.0, 100.0)):
        # 7 significant digits as printed
        assert grid.per_lot[:, j] == pytest.approx(TI_PP[mu], rel=5e-7, abs=1e-12)


def test_ppqplan_rl_pp_is_the_one_result_criterion() -> None:
    # rl_pp(Llim=95, Ulim=105, mu=98, sigma=1) = 0.9986501 (vignette).
    assert pass_probability(98.0, 1.0, 95.0, 105.0).per_lot == pytest.approx(0.9986501, abs=5e-8)


def test_n_lots_multiplies_as_in_ppqplan() -> None:
    r = pass_probability(98.0, 1.0, 95.0, 105.0, n_lots=3, n_per_lot=10, criterion="interval", k=2.373)
    assert r.all_lots == pytest.approx(0.8604419 ** 3, abs=1e-7)
    assert r.by_lots([1, 2, 3])["probability"].tolist() == pytest.approx([r.per_lot, r.per_lot ** 2, r.all_lots])


# ---------------------------------------------------------------------------
# Agreement with quadrature and with seeded simulation
# ---------------------------------------------------------------------------


def _ppqplan_integral(lo: float, hi: float, mu: float, sigma: float, n: int, k: float, sb: float = 0.0) -> float:
    """PPQplan's integral written out (chi-square variable), with an optional between-lot SD, by adaptive quad."""
    tau = math.sqrt(sigma ** 2 / n + sb ** 2)

    def f(v: float) -> float:
        s = sigma * math.sqrt(v / (n - 1))
        inside = stats.norm.cdf(hi - k * s, mu, tau) - stats.norm.cdf(lo + k * s, mu, tau)
        return max(inside, 0.0) * stats.chi2.pdf(v, n - 1)

    top = ((hi - lo) / (2 * k)) ** 2 * (n - 1) / sigma ** 2 if math.isfinite(hi - lo) else np.inf
    top = min(top, stats.chi2.isf(1e-16, n - 1))  # so that quad sees the mass of the chi-square
    return integrate.quad(f, 0.0, top, epsabs=1e-13, epsrel=1e-10, limit=400)[0]


@pytest.mark.parametrize(("mu", "sigma", "n", "k", "sb"), [
    (98.0, 1.0, 10, 2.373, 0.0), (100.0, 0.3, 3, 4.0, 0.0), (96.0, 2.0, 30, 1.5, 0.0), (100.0, 1.0, 2, 2.0, 0.0),
    (99.0, 0.8, 10, 2.373, 1.0), (100.0, 0.05, 100, 2.0, 0.0),
])
def test_interval_probability_matches_adaptive_quadrature(mu, sigma, n, k, sb) -> None:
    got = pass_probability(mu, sigma, 95.0, 105.0, n_per_lot=n, criterion="interval", k=k, between_sd=sb).per_lot
    assert got == pytest.approx(_ppqplan_integral(95.0, 105.0, mu, sigma, n, k, sb), abs=1e-8)


def test_one_sided_interval_matches_quadrature() -> None:
    # PPQplan's one-sided example: PPQ_pp(sigma=0.03, mu=1.025, n=40, Llim=1, Ulim=Inf, k=0.753).
    got = pass_probability(1.025, 0.03, 1.0, None, n_per_lot=40, criterion="interval", k=0.753).per_lot
    assert got == pytest.approx(_ppqplan_integral(1.0, math.inf, 1.025, 0.03, 40, 0.753), abs=1e-8)


def _simulate(mu, sigma, lo, hi, n, k, sb, criterion, reps, seed) -> float:
    rng = np.random.default_rng(seed)
    means = mu + sb * rng.standard_normal(reps)
    x = means[:, None] + sigma * rng.standard_normal((reps, n))
    ok_results = np.all((x >= lo) & (x <= hi), axis=1)
    if criterion == "results":
        return float(ok_results.mean())
    xbar, s = x.mean(axis=1), x.std(axis=1, ddof=1)
    ok_interval = (xbar - k * s >= lo) & (xbar + k * s <= hi)
    return float((ok_interval if criterion == "interval" else ok_interval & ok_results).mean())


@pytest.mark.parametrize(("criterion", "mu", "sigma", "n", "k", "sb"), [
    ("interval", 98.0, 1.0, 10, 2.373, 0.0),
    ("interval", 99.0, 0.8, 10, 2.373, 1.2),
    ("results", 98.5, 1.5, 1, None, 0.0),
    ("results", 99.0, 0.6, 5, None, 1.5),
    ("results", 101.0, 0.2, 3, None, 2.0),
    ("both", 98.0, 1.0, 10, 2.373, 0.0),
    ("both", 99.0, 0.9, 6, 2.0, 0.7),
])
def test_pass_probability_agrees_with_a_seeded_simulation(criterion, mu, sigma, n, k, sb) -> None:
    reps = 200_000
    sim = _simulate(mu, sigma, 95.0, 105.0, n, k, sb, criterion, reps, seed=2026)
    got = pass_probability(mu, sigma, 95.0, 105.0, n_per_lot=n, criterion=criterion, k=k, between_sd=sb).per_lot
    se = math.sqrt(max(sim * (1 - sim), 1e-6) / reps)
    mc_se = math.sqrt(max(got * (1 - got), 1e-6) / 20_000) if criterion == "both" else 0.0
    assert got == pytest.approx(sim, abs=4 * math.hypot(se, mc_se) + 1e-9)


def test_between_lot_sd_lowers_the_pass_probability() -> None:
    base = pass_probability(99.0, 1.0, 95.0, 105.0, n_lots=3, n_per_lot=10, criterion="interval", k=2.373)
    wider = pass_probability(99.0, 1.0, 95.0, 105.0, n_lots=3, n_per_lot=10, criterion="interval", k=2.373,
                             between_sd=1.0)
    assert wider.all_lots < base.all_lots
    assert "own mean" in wider.method and "as PPQplan" in base.method


# ---------------------------------------------------------------------------
# Heat map grid
# ---------------------------------------------------------------------------


def test_grid_orientation_and_frame() -> None:
    g = pass_probability_grid(95.0, 105.0, [97.0, 100.0, 103.0], [0.5, 1.0], n_lots=2)
    assert g.probability.shape == (2, 3)
    assert g.probability[1, 0] == pytest.approx(pass_probability(97.0, 1.0, 95.0, 105.0, n_lots=2).all_lots)
    frame = g.to_frame()
    assert list(frame.columns) == ["mean", "sd", "per_lot", "probability"] and len(frame) == 6
    assert g.contours == PASS_CONTOURS == (0.80, 0.90, 0.95, 0.99)


def test_default_grid_axes() -> None:
    means, sds = default_grid_axes(95.0, 105.0)
    assert means.size == sds.size == 50 and means[0] == 95.0 and means[-1] == 105.0 and sds.min() > 0
    means, sds = default_grid_axes(None, 5.0, mean=2.0, sd=0.5)
    assert means.max() == 5.0 and means.min() < 2.0
    with pytest.raises(ValueError):
        default_grid_axes(None, 5.0)


@pytest.mark.parametrize(("criterion", "kwargs"), [
    ("interval", dict(n_per_lot=10, k=2.373)),
    ("interval", dict(n_per_lot=10, k=2.373, between_sd=0.5)),
    ("results", dict(n_per_lot=1)),
    ("results", dict(n_per_lot=5, between_sd=0.5)),
    ("both", dict(n_per_lot=10, k=2.373)),
])
def test_heat_map_50_by_50_has_the_grid_shape(criterion, kwargs) -> None:
    means, sds = default_grid_axes(95.0, 105.0, size=50)
    g = pass_probability_grid(95.0, 105.0, means, sds, n_lots=3, criterion=criterion, **kwargs)
    assert g.probability.shape == (50, 50)  # its speed: benchmarks/bench_stats.py, docs/benchmarks.md


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


def test_specification_problems_are_cgtkit_errors() -> None:
    with pytest.raises(SpecificationError, match="above the upper limit"):
        pass_probability(100.0, 1.0, 105.0, 95.0)
    with pytest.raises(CgtkitError, match="No specification limit"):
        pass_probability_grid(None, None, [100.0], [1.0])
    with pytest.raises(CgtkitError, match="No specification limit"):
        tolerance_coverage_lots(100.0, 1.0, None, None)


def test_zero_variance_is_a_cgtkit_error() -> None:
    with pytest.raises(InsufficientDataError, match="SD of 0"):
        pass_probability(100.0, 0.0, 95.0, 105.0)
    with pytest.raises(InsufficientDataError, match="SD of 0"):
        pass_probability_grid(95.0, 105.0, [100.0], [0.0, 1.0])
    with pytest.raises(InsufficientDataError, match="SD is 0"):
        tolerance_coverage_lots(100.0, 0.0, 95.0, 105.0)


def test_interval_criterion_with_one_result_per_lot_is_a_cgtkit_error() -> None:
    with pytest.raises(InsufficientDataError, match="at least 2 results per lot"):
        pass_probability(100.0, 1.0, 95.0, 105.0, n_per_lot=1, criterion="interval", k=2.0)
    with pytest.raises(InsufficientDataError, match="at least 2"):
        acceptance_factor(1)


def test_programming_mistakes_are_value_errors() -> None:
    with pytest.raises(ValueError, match="criterion"):
        pass_probability(100.0, 1.0, 95.0, 105.0, criterion="mean")
    with pytest.raises(ValueError, match="needs the multiplier k"):
        pass_probability(100.0, 1.0, 95.0, 105.0, n_per_lot=5, criterion="interval")
    with pytest.raises(ValueError, match="interval"):
        acceptance_factor(10, interval="confidence")
    with pytest.raises(ValueError, match="reliability"):
        success_run(95, 0.95)
