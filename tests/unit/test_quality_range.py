"""Tests for cgtkit.stats.quality_range.

The range and the share inside are checked by hand arithmetic (mean and SD typed below). The pass
probability has no published table that cgtkit could reproduce; it is checked three independent ways:
against a seeded simulation (within 4 Monte Carlo standard errors), against its closed form when the
reference is known exactly (n_reference very large: binomial with p = Phi(k - delta) - Phi(-k - delta),
computed with scipy.stats), and against a direct double integral with scipy.integrate for one case.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, special, stats

from cgtkit.errors import CgtkitError, InsufficientDataError
from cgtkit.stats.quality_range import (
    QualityRangeResult,
    quality_range_pass_probability,
    quality_range_test,
    required_inside,
    simulate_quality_range_pass,
)


def test_range_and_share_by_hand() -> None:
    ref = [10.0, 10.4, 9.6, 10.1, 9.9]  # mean 10.0, SD sqrt(0.34 / 4) = 0.291548
    r = quality_range_test([10.2, 9.8, 10.9], ref)
    sd = math.sqrt(0.34 / 4)
    assert (r.mean_reference, r.sd_reference) == pytest.approx((10.0, sd))
    assert (r.low, r.high) == pytest.approx((10.0 - 3 * sd, 10.0 + 3 * sd))
    assert r.inside == (True, True, False) and r.n_inside == 2 and r.n_required == 3 and not r.passed
    assert r.share_inside == pytest.approx(2 / 3)
    assert r.rule.startswith("Passes when at least 90% of the test lots (3 of 3)")
    loose = quality_range_test([10.2, 9.8, 10.9], ref, k=4.0, min_share=0.6)
    assert loose.passed and loose.n_required == 2


def test_limits_are_inside() -> None:
    ref = [1.0, 3.0]  # mean 2, SD sqrt(2)
    edge = 2.0 + 3.0 * math.sqrt(2.0)
    assert quality_range_test([edge, 2.0], ref).inside == (True, True)


def test_log_scale_range_is_geometric() -> None:
    ref = [100.0, 200.0, 400.0]
    r = quality_range_test([150.0, 5000.0], ref, scale="log")
    logs = np.log(ref)
    gm, gsd = math.exp(logs.mean()), math.exp(logs.std(ddof=1))
    assert (r.low, r.high) == pytest.approx((gm / gsd**3, gm * gsd**3))
    assert r.inside == (True, False)


@pytest.mark.parametrize(("n", "share", "expected"), [(3, 0.9, 3), (10, 0.9, 9), (20, 0.9, 18), (7, 0.5, 4),
                                                      (1, 0.9, 1), (10, 1.0, 10)])
def test_required_inside(n: int, share: float, expected: int) -> None:
    assert required_inside(n, share) == expected


def test_to_frame() -> None:
    frame = quality_range_test([10.2, 9.8], [10.0, 10.4, 9.6]).to_frame()
    assert len(frame) == 1 and frame.loc[0, "inside"] == "1,1"
    assert isinstance(quality_range_test([10.2, 9.8], [10.0, 10.4, 9.6]), QualityRangeResult)


@pytest.mark.parametrize(("n_t", "n_r", "delta", "rho"), [
    (3, 10, 0.0, 1.0), (3, 3, 0.0, 1.0), (10, 10, 1.0, 1.0), (10, 5, 0.0, 1.5), (20, 30, 0.5, 1.2),
])
def test_pass_probability_agrees_with_seeded_simulation(n_t: int, n_r: int, delta: float, rho: float) -> None:
    exact = float(quality_range_pass_probability(n_t, n_r, true_difference=delta, sd_ratio=rho))
    p, se = simulate_quality_range_pass(n_t, n_r, true_difference=delta, sd_ratio=rho, n_sim=60_000, seed=4)
    assert abs(p - exact) < 4 * se, (p, se, exact)


@pytest.mark.parametrize("delta", [0.0, 0.5, 2.0])
def test_pass_probability_tends_to_the_binomial_when_the_reference_is_known(delta: float) -> None:
    p_in = stats.norm.cdf(3 - delta) - stats.norm.cdf(-3 - delta)
    expected = stats.binom.sf(8, 10, p_in)  # at least 9 of 10 inside
    got = float(quality_range_pass_probability(10, 1_000_000, true_difference=delta))
    assert got == pytest.approx(expected, abs=1e-4)


def test_pass_probability_matches_direct_double_integral() -> None:
    n_t, n_r, k, delta = 4, 5, 3.0, 0.8
    nu = n_r - 1

    m_req = required_inside(n_t)
    chi2_pdf = stats.chi2(nu).pdf

    def inner(u: float) -> float:
        def f(z: float) -> float:
            m = z / math.sqrt(n_r)
            p = special.ndtr(m + k * u - delta) - special.ndtr(m - k * u - delta)
            at_least = sum(math.comb(n_t, j) * p**j * (1 - p) ** (n_t - j) for j in range(m_req, n_t + 1))
            return at_least * math.exp(-z * z / 2) / math.sqrt(2 * math.pi)
        return integrate.quad(f, -9, 9, epsabs=1e-11)[0] * 2 * u * nu * chi2_pdf(nu * u * u)

    direct = integrate.quad(inner, 0, 5, epsabs=1e-10, limit=200)[0]
    assert float(quality_range_pass_probability(n_t, n_r, true_difference=delta)) == pytest.approx(direct, abs=1e-8)


def test_pass_probability_behaves() -> None:
    p = quality_range_pass_probability(10, 10, true_difference=np.linspace(0, 3, 7))
    assert np.all(np.diff(p) < 0)  # a larger shift passes less often
    assert float(quality_range_pass_probability(5, 10, k=50.0)) == pytest.approx(1.0)
    # the quality range barely notices a one-SD shift with 3 test lots: the point to show
    assert float(quality_range_pass_probability(3, 10, true_difference=1.0)) > 0.8


@pytest.mark.parametrize(("call", "fragment"), [
    (lambda: quality_range_test([1.0, 2.0], [3.0]), "needs at least 2"),
    (lambda: quality_range_test([], [3.0, 4.0]), "needs at least 1"),
    (lambda: quality_range_test([1.0, 2.0], [3.0, 3.0, 3.0]), "same result"),
    (lambda: quality_range_test([1.0, 2.0], [3.0, float("inf")]), "not a finite number"),
    (lambda: quality_range_test([1.0, -2.0], [3.0, 4.0], scale="log"), "greater than 0"),
])
def test_data_problems_raise_cgtkit_errors(call, fragment: str) -> None:
    with pytest.raises(InsufficientDataError, match=fragment):
        call()


@pytest.mark.parametrize("kwargs", [dict(k=0), dict(min_share=90), dict(min_share=0), dict(scale="lin")])
def test_programming_mistakes_raise_value_error(kwargs: dict) -> None:
    with pytest.raises(ValueError) as info:
        quality_range_test([1.0, 2.0], [1.5, 2.5], **kwargs)
    assert not isinstance(info.value, CgtkitError)
