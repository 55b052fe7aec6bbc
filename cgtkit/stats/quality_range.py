"""Do the post-change lots fall where the pre-change lots do? The quality range test and its pass probability.

The *quality range* is ``mean_R +/- k * s_R`` of the reference (pre-change)
lots; the test lots pass when at least a stated share of them lies inside.
It is the tier 2 method of FDA's withdrawn 2017 draft guidance on analytical
similarity (``k = 3`` by default there) and the method FDA's 2019 draft on
biosimilar comparative analytical assessment kept; the share required
(about 90 % in secondary sources on the 2017 draft) is the user's choice,
shown as such, and so is ``k``.

The passing rule used here, stated in every result: the test lots pass when
the number inside the range (limits included) is at least
``ceil(min_share * n_test)``. With 3 test lots and ``min_share = 0.9`` that is
all 3.

The range looks at location and spread together but has no error rate of its
own: how often it passes depends on the true difference, the spread of the
test lots and the number of lots on each side. :func:`quality_range_pass_probability`
gives that probability exactly (by numerical integration over the
reference mean and SD, in closed form given them), so the workbook can show
what a given number of lots can and cannot detect.

For a log-normal attribute (``scale="log"``) the range is computed on the
logs and shown back on the original scale (geometric mean ×/÷ geometric SD^k).

References
----------
.. [1] FDA (2017, withdrawn 2018). Statistical Approaches to Evaluate
   Analytical Similarity, draft guidance for industry (tier 2: quality range).
.. [2] FDA (2019). Development of Therapeutic Protein Biosimilars: Comparative
   Analytical Assessment and Other Quality-Related Considerations, draft
   guidance for industry (quality range approach).
.. [3] Tsong, Y., Dong, X. and Shen, M. (2017). Development of statistical
   methods for analytical similarity assessment. *Journal of
   Biopharmaceutical Statistics*, 27(2), 197-205.

Examples
--------
>>> r = quality_range_test([10.2, 9.8, 10.9], [10.0, 10.4, 9.6, 10.1, 9.9])
>>> round(r.low, 3), round(r.high, 3), r.n_inside, r.n_required, r.passed
(9.125, 10.875, 2, 3, False)
>>> round(float(quality_range_pass_probability(3, 10)), 3)
0.948
"""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from cgtkit.errors import InsufficientDataError
from cgtkit.stats._checks import all_identical, as_finite_1d, check_n, check_scale, log_values

__all__ = [
    "QualityRangeResult",
    "quality_range_pass_probability",
    "quality_range_test",
    "required_inside",
    "simulate_quality_range_pass",
]

DEFAULT_K = 3.0
DEFAULT_MIN_SHARE = 0.9
DEFAULT_SEED = 20260518
_REFERENCE = ("Quality range mean_R ± k·SD_R (tier 2 of FDA's 2017 draft guidance on analytical similarity, "
              "withdrawn 2018; kept in FDA's 2019 draft on comparative analytical assessment).")
_GH_NODES = 48
_GL_NODES = 64
_TAIL = 1e-13


def _check_k(k: object) -> float:
    try:
        value = float(k)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"k must be a positive number (e.g. 3); got {k!r}.") from None
    if not (value > 0.0 and math.isfinite(value)):
        raise ValueError(f"k must be a positive number (e.g. 3); got {k!r}.")
    return value


def _check_share(min_share: object) -> float:
    try:
        value = float(min_share)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"min_share must be a proportion in (0, 1] such as 0.9; got {min_share!r}.") from None
    if not (0.0 < value <= 1.0):
        hint = " Use 0.9, not 90." if value > 1 else ""
        raise ValueError(f"min_share must be a proportion in (0, 1] such as 0.9; got {min_share!r}.{hint}")
    return value


def required_inside(n_test: int, min_share: float = DEFAULT_MIN_SHARE) -> int:
    """How many of ``n_test`` lots must lie inside: ``ceil(min_share * n_test)`` (at least 1).

    >>> [required_inside(n) for n in (3, 6, 10, 20)]
    [3, 6, 9, 18]
    """
    share = _check_share(min_share)
    # a tolerance so that 0.9 * 10 = 9.000000000000002 still asks for 9
    return max(1, math.ceil(share * int(n_test) - 1e-9))


def rule_text(n_test: int, min_share: float, k: float) -> str:
    """The passing rule in words."""
    m = required_inside(n_test, min_share)
    return (f"Passes when at least {min_share:.0%} of the test lots ({m} of {n_test}) lie inside the reference "
            f"mean ± {k:g} SD, limits included.")


@dataclass(frozen=True)
class QualityRangeResult:
    """The quality range of the reference lots and how many test lots lie inside it.

    Attributes
    ----------
    scale : {"normal", "log"}
    k : float
        The range is ``mean_reference ± k * sd_reference`` on the analysis scale.
    n_reference, n_test : int
    mean_reference, sd_reference : float
        On the analysis scale (logs for ``scale="log"``).
    low, high : float
        The range on the original scale (for ``log``: geometric mean ×/÷ GSD^k).
    inside : tuple of bool
        Per test lot, in the order given.
    n_inside, n_required : int
        Test lots inside, and the number the rule asks for.
    share_inside, min_share : float
    passed : bool
    rule : str
        The passing rule in words.
    reference : str
    """

    scale: str
    k: float
    n_reference: int
    n_test: int
    mean_reference: float
    sd_reference: float
    low: float
    high: float
    inside: tuple[bool, ...]
    n_inside: int
    n_required: int
    share_inside: float
    min_share: float
    passed: bool
    rule: str
    reference: str = _REFERENCE

    def to_frame(self) -> pd.DataFrame:
        """The result as a one-row DataFrame (``inside`` as the text of the flags, e.g. ``"1,1,0"``)."""
        row = asdict(self)
        row["inside"] = ",".join("1" if flag else "0" for flag in self.inside)
        return pd.DataFrame([row], columns=list(row))


def quality_range_test(
    test: Sequence[float] | np.ndarray,
    reference: Sequence[float] | np.ndarray,
    *,
    k: float = DEFAULT_K,
    min_share: float = DEFAULT_MIN_SHARE,
    scale: str = "normal",
) -> QualityRangeResult:
    """The quality range ``mean_R ± k SD_R`` of the reference lots and the share of test lots inside it.

    Parameters
    ----------
    test, reference : array_like of float
        Post-change (test) and pre-change (reference) results, one per lot.
    k : float
        Range half-width in reference SDs (3 by default).
    min_share : float
        Share of test lots that must lie inside (0.9 by default).
    scale : {"normal", "log"}

    Raises
    ------
    cgtkit.errors.InsufficientDataError
        Fewer than 2 reference lots or no test lot; all reference lots equal;
        a value that is not a finite number (or not positive on the log scale).
    """
    scale, k, min_share = check_scale(scale), _check_k(k), _check_share(min_share)
    raw_r = as_finite_1d(reference, "reference (pre-change) values")
    raw_t = as_finite_1d(test, "test (post-change) values")
    n_r = check_n(raw_r.size, what="the number of reference (pre-change) lots")
    n_t = check_n(raw_t.size, minimum=1, what="the number of test (post-change) lots")
    if all_identical(raw_r):
        raise InsufficientDataError(
            f"All {n_r} reference (pre-change) lots have the same result ({raw_r[0]:g}), so they define no "
            "range. Check the data, or compare this attribute graphically."
        )
    r = log_values(raw_r) if scale == "log" else raw_r
    t = log_values(raw_t) if scale == "log" else raw_t
    mean, sd = float(np.mean(r)), float(np.std(r, ddof=1))
    lo, hi = mean - k * sd, mean + k * sd
    inside = (t >= lo) & (t <= hi)
    n_in = int(inside.sum())
    m = required_inside(n_t, min_share)
    if scale == "log":
        lo, hi = math.exp(lo), math.exp(hi)
    return QualityRangeResult(
        scale=scale, k=k, n_reference=n_r, n_test=n_t, mean_reference=mean, sd_reference=sd, low=lo, high=hi,
        inside=tuple(bool(v) for v in inside), n_inside=n_in, n_required=m, share_inside=n_in / n_t,
        min_share=min_share, passed=n_in >= m, rule=rule_text(n_t, min_share, k),
    )


@functools.lru_cache(maxsize=1)
def _nodes() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    z, wz = np.polynomial.hermite_e.hermegauss(_GH_NODES)
    wz = wz / math.sqrt(2.0 * math.pi)
    x, wx = np.polynomial.legendre.leggauss(_GL_NODES)
    for a in (z, wz, x, wx):
        a.setflags(write=False)
    return z, wz, x, wx


def quality_range_pass_probability(
    n_test: int | np.ndarray,
    n_reference: int | np.ndarray,
    *,
    true_difference: float | np.ndarray = 0.0,
    sd_ratio: float | np.ndarray = 1.0,
    k: float = DEFAULT_K,
    min_share: float = DEFAULT_MIN_SHARE,
) -> np.ndarray:
    """Probability that the test lots pass the quality range (exact, by numerical integration; vectorised).

    Model: reference lots ``N(mu_R, sigma_R^2)``, test lots
    ``N(mu_R + true_difference * sigma_R, (sd_ratio * sigma_R)^2)``, all
    independent; ``true_difference`` is in reference SDs. Given the reference
    mean and SD, each test lot is inside with the same probability ``p`` and
    the number inside is binomial(``n_test``, ``p``); the pass probability is
    that binomial tail averaged over the reference mean (Gauss-Hermite, 48
    nodes) and the reference SD (Gauss-Legendre, 64 nodes over all but 1e-13
    of its distribution).

    Parameters
    ----------
    n_test, n_reference : int or array
    true_difference : float or array
        True mean difference test - reference, in reference SDs.
    sd_ratio : float or array
        True SD of the test lots over that of the reference lots.
    k, min_share : float
        The range and the passing rule (see :func:`quality_range_test`).

    Returns
    -------
    numpy.ndarray
        Broadcast over the array arguments.

    Examples
    --------
    >>> np.round(quality_range_pass_probability(10, 10, true_difference=[0, 1, 2]), 2)
    array([0.97, 0.85, 0.46])
    """
    from scipy import special

    k, min_share = _check_k(k), _check_share(min_share)
    n_t, n_r, delta, rho = np.broadcast_arrays(
        *(np.asarray(a, dtype=float) for a in (n_test, n_reference, true_difference, sd_ratio))
    )
    if np.any(n_t < 1) or np.any(n_t != np.round(n_t)) or np.any(n_r < 2) or np.any(n_r != np.round(n_r)):
        raise ValueError("n_test must be whole numbers >= 1 and n_reference whole numbers >= 2.")
    if np.any(~(rho > 0.0)):
        raise ValueError("sd_ratio must be positive.")
    m = np.ceil(min_share * n_t - 1e-9).clip(min=1.0)
    nu = n_r - 1.0
    z, wz, x, wx = _nodes()
    u_lo = np.sqrt(special.chdtri(nu, 1.0 - _TAIL) / nu)
    u_hi = np.sqrt(special.chdtri(nu, _TAIL) / nu)
    half, mid = (u_hi - u_lo) / 2.0, (u_hi + u_lo) / 2.0
    # axes: [...broadcast..., reference-mean node, reference-SD node]
    e = (..., None, None)
    u = mid[..., None, None] + half[..., None, None] * x[None, :]
    zbar = z[:, None] / np.sqrt(n_r[e])
    log_f = (math.log(2.0) + (nu[e] / 2.0) * np.log(nu[e] / 2.0) - special.gammaln(nu[e] / 2.0)
             + (nu[e] - 1.0) * np.log(u) - nu[e] * u * u / 2.0)
    p_in = (special.ndtr((zbar + k * u - delta[e]) / rho[e]) - special.ndtr((zbar - k * u - delta[e]) / rho[e]))
    p_in = np.clip(p_in, 0.0, 1.0)
    # P(Binomial(n_t, p) >= m) = I_p(m, n_t - m + 1), the regularised incomplete beta function (1 <= m <= n_t)
    tail = special.betainc(m[e], n_t[e] - m[e] + 1.0, p_in)
    inner = np.sum(tail * np.exp(log_f) * wx, axis=-1) * half[..., None]
    return np.clip(np.sum(inner * wz, axis=-1), 0.0, 1.0)


def simulate_quality_range_pass(
    n_test: int,
    n_reference: int,
    *,
    true_difference: float = 0.0,
    sd_ratio: float = 1.0,
    k: float = DEFAULT_K,
    min_share: float = DEFAULT_MIN_SHARE,
    n_sim: int = 20_000,
    seed: int = DEFAULT_SEED,
) -> tuple[float, float]:
    """The pass probability by seeded simulation, and its Monte Carlo standard error (a check of the exact value).

    >>> p, se = simulate_quality_range_pass(3, 10, n_sim=4000, seed=1)
    >>> abs(p - 0.948) < 3 * se
    True
    """
    k, min_share = _check_k(k), _check_share(min_share)
    rng = np.random.default_rng(seed)
    ref = rng.normal(0.0, 1.0, size=(n_sim, int(n_reference)))
    tst = rng.normal(true_difference, sd_ratio, size=(n_sim, int(n_test)))
    mean, sd = ref.mean(axis=1, keepdims=True), ref.std(axis=1, ddof=1, keepdims=True)
    n_in = ((tst >= mean - k * sd) & (tst <= mean + k * sd)).sum(axis=1)
    p = float((n_in >= required_inside(int(n_test), min_share)).mean())
    return p, math.sqrt(max(p * (1.0 - p), 1e-12) / n_sim)
