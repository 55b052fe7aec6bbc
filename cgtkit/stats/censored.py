"""Normal tolerance limits and false-OOS risk when some lot results are censored ("<LOQ", ">ULOQ").

With every result measured, ``(mean - mu) / sd`` and ``sd / sigma`` have
distributions free of the unknown ``mu`` and ``sigma``, which is what makes the
tolerance factor ``k`` of :func:`cgtkit.stats.tolerance.tolerance_factor` exact.
With results below a limit of quantitation (LOQ) that is no longer true: the
spread of the maximum-likelihood estimates depends on where the LOQ lies in the
distribution (how much is censored), so the factor for ``n`` complete lots is
too small. With 10 lots of which half are below the LOQ, the nominal 95 %
one-sided limit has only about 90 % confidence (two-sided, 86 %).

This module calibrates the factor by parametric bootstrap (Krishnamoorthy &
Xu 2011 use the same idea for percentiles of censored log-normal data):

1. fit the censored normal model by maximum likelihood, ``(mu_hat, sigma_hat)``;
2. simulate ``n_boot`` data sets of the same ``n`` lots from ``N(mu_hat,
   sigma_hat)``, each lot censored at its own limit(s) of quantitation, and fit
   each the same way;
3. take ``k*`` so that the limits ``mean* +/- k* sd*`` of the simulated data
   sets cover at least ``coverage`` of ``N(mu_hat, sigma_hat)`` in a fraction
   ``confidence`` of them, the quantile level being calibrated by a second
   level of bootstrap (prepivoting, Beran 1987): the plain bootstrap works at
   the *fitted* position of the LOQ and falls short of the stated confidence
   with heavy censoring (two-sided, about 0.93 instead of 0.95 with half the
   lots censored).

By equivariance the bootstrap depends on the data only through ``n`` and the
standardised limits ``(LOQ_i - mu_hat) / sigma_hat``. It is seeded (the same
data always give the same ``k*``) and vectorised: the censored-normal fits are
damped Newton steps on arrays of sufficient statistics, about a microsecond
each, so the 20 000 first-level data sets and the second-level lattice take a
fraction of a second, and the lattice for one LOQ is shared by all data sets
with the same number of lots. Simulated data sets with fewer than two measured
values, which the procedure refuses like real ones, are left out, so the
confidence is conditional on the data permitting a fit.
``tests/unit/test_censored.py`` measures the achieved confidence by
simulation (within 0.02 of nominal at 20 % and 50 % censoring, n = 10 and 20,
one- and two-sided; the largest shortfall, 0.936, is two-sided at n = 10 with
half the lots censored).

The false-OOS risk of limits ``mean - k_low sd`` / ``mean + k_high sd`` is
computed from the same simulated data sets: the average over them of the
probability that at least one of ``m`` future lots of ``N(mu_hat, sigma_hat)``
falls outside. It is *approximate*: unlike the risk for complete data it
depends on the unknown parameters, and is evaluated at their estimates.

Only :mod:`scipy.special` is imported with the module.

References
----------
.. [1] Krishnamoorthy, K., & Xu, Z. (2011). Confidence limits for lognormal
   percentiles and for lognormal mean based on samples with multiple
   detection limits. *Annals of Occupational Hygiene*, 55(5), 495-509.
.. [2] Olsen, R. J. (1978). Note on the uniqueness of the maximum likelihood
   estimator for the Tobit model. *Econometrica*, 46(5), 1211-1215.
   (Concavity of the censored normal log-likelihood in ``(mu/sigma, 1/sigma)``.)
.. [3] Efron, B., & Tibshirani, R. J. (1993). *An Introduction to the
   Bootstrap*. Chapman & Hall. (Parametric bootstrap.)
.. [4] Meeker, W. Q., Hahn, G. J., & Escobar, L. A. (2017). *Statistical
   Intervals*, 2nd ed. Wiley. (Bootstrap tolerance intervals; censored data.)
.. [5] Beran, R. (1987). Prepivoting to reduce level error of confidence
   sets. *Biometrika*, 74(3), 457-468.
"""

from __future__ import annotations

import functools
import math
import numbers
from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import special

from cgtkit.errors import InsufficientDataError
from cgtkit.stats._checks import (
    all_identical,
    check_n,
    check_probability,
    check_side,
    check_sided,
)

__all__ = [
    "DEFAULT_N_BOOT",
    "DEFAULT_SEED",
    "CensoredFit",
    "CensoredOosRisk",
    "CensoredToleranceFactor",
    "censored_prob_any_oos",
    "censored_tolerance_factor",
    "fit_censored_normal",
]

#: Simulated data sets of the (first-level) bootstrap. The bootstrap confidence
#: of ``k*`` has a Monte Carlo standard error of about sqrt(0.95 * 0.05 / 20000) = 0.0015.
DEFAULT_N_BOOT = 20_000
#: Seed of the simulated data sets: the same data always give the same ``k*``
#: (the second level uses ``seed + 1``).
DEFAULT_SEED = 20_150_315
#: Simulated data sets per point of the second-level lattice.
N_INNER = 5000
#: Lattice step of the second level, in standard deviations of the LOQ position.
LATTICE_STEP = 0.1
#: The same with several limits of quantitation: a lattice in (mean, log SD).
N_INNER_2D = 2000
LATTICE_STEP_2D = 0.2
#: A design is refused when fewer than this fraction of its simulated data
#: sets have two measured values (the quantiles would rest on a handful).
MIN_USABLE = 0.05
_MAX_NEWTON = 60

_REFERENCE = (
    "Parametric bootstrap of the censored-normal maximum-likelihood fit (same n and limits of "
    "quantitation), calibrating k to the stated confidence: Krishnamoorthy & Xu (2011), Ann. Occup. Hyg. "
    "55, 495-509; Efron & Tibshirani (1993); Meeker, Hahn & Escobar (2017), Statistical Intervals."
)


# ---------------------------------------------------------------------------
# Maximum likelihood, vectorised over many data sets
# ---------------------------------------------------------------------------


def _mills(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``log Phi(a)`` and the inverse Mills ratio ``phi(a) / Phi(a)``, accurate in both tails."""
    log_cdf = special.log_ndtr(a)
    return log_cdf, np.exp(-0.5 * a * a - 0.5 * math.log(2.0 * math.pi) - log_cdf)


def _loglik(h, th, nu, s1, s2, left_c, left_r, right_c, right_r):  # type: ignore[no-untyped-def]
    """Censored normal log-likelihood in ``h = 1/sigma``, ``th = mu/sigma`` (constants dropped)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ll = nu * np.log(h) - 0.5 * (h * h * s2 - 2.0 * h * th * s1 + nu * th * th)
        for j, c in enumerate(left_c):
            ll = ll + left_r[:, j] * special.log_ndtr(h * c - th)
        for j, c in enumerate(right_c):
            ll = ll + right_r[:, j] * special.log_ndtr(th - h * c)
    return ll


def _newton_step(h, th, nu, s1, s2, left_c, left_r, right_c, right_r):  # type: ignore[no-untyped-def]
    """Newton direction and decrement of the (concave) log-likelihood."""
    gh = nu / h - h * s2 + th * s1
    gt = h * s1 - nu * th
    hhh = -nu / (h * h) - s2
    hht = s1.copy()
    htt = -nu.copy()
    for sign, limits, counts in ((1.0, left_c, left_r), (-1.0, right_c, right_r)):
        for j, c in enumerate(limits):
            r = counts[:, j]
            a = sign * (h * c - th)
            _, lam = _mills(a)
            f2 = -lam * (a + lam)
            gh = gh + sign * r * lam * c
            gt = gt - sign * r * lam
            hhh = hhh + r * f2 * c * c
            hht = hht - r * f2 * c
            htt = htt + r * f2
    det = hhh * htt - hht * hht
    dh = -(htt * gh - hht * gt) / det
    dt = -(hhh * gt - hht * gh) / det
    return dh, dt, gh * dh + gt * dt


def _fit_batch(
    nu: np.ndarray,
    s1: np.ndarray,
    s2: np.ndarray,
    left_c: np.ndarray,
    left_r: np.ndarray,
    right_c: np.ndarray,
    right_r: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Maximum-likelihood ``(mu, sigma)`` of many censored normal samples at once.

    Sample ``i`` has ``nu[i]`` measured values with sum ``s1[i]`` and sum of
    squares ``s2[i]``, ``left_r[i, j]`` values below ``left_c[j]`` and
    ``right_r[i, j]`` above ``right_c[j]``. The log-likelihood is concave in
    ``(mu/sigma, 1/sigma)`` (Olsen 1978) and, with at least two different
    measured values, has a unique maximum; damped Newton steps find it (a few
    iterations; only the samples not yet converged are iterated). The data
    should be roughly standardised (values of order 1). Samples that do not
    converge get NaN.
    """
    m = nu.size
    mean_u = s1 / nu
    var_u = np.maximum(s2 / nu - mean_u * mean_u, 1e-300)
    h = 1.0 / np.sqrt(var_u)
    th = mean_u * h
    out_h = np.full(m, np.nan)
    out_t = np.full(m, np.nan)
    act = np.arange(m)
    cur = (nu, s1, s2, left_c, left_r, right_c, right_r)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ll = _loglik(h, th, *cur)
        for _ in range(_MAX_NEWTON):
            dh, dt, dec = _newton_step(h, th, *cur)
            step = np.ones_like(h)
            neg = h + dh <= 0.0
            step[neg] = 0.5 * h[neg] / -dh[neg]  # keep sigma positive
            hn, tn = h + step * dh, th + step * dt
            lln = _loglik(hn, tn, *cur)
            bad = np.flatnonzero(~(lln >= ll - 1e-12 * np.abs(ll)))
            for _halving in range(60):  # backtrack only where the full step did not improve
                if bad.size == 0:
                    break
                step[bad] *= 0.5
                hn[bad] = h[bad] + step[bad] * dh[bad]
                tn[bad] = th[bad] + step[bad] * dt[bad]
                lln[bad] = _loglik(hn[bad], tn[bad], *_index(cur, bad))
                bad = bad[~(lln[bad] >= ll[bad] - 1e-12 * np.abs(ll[bad]))]
            h, th, ll = hn, tn, lln
            done = ~(dec > 1e-20)  # converged, or NaN (given up)
            ok = done & np.isfinite(dec) & np.isfinite(h) & (h > 0.0)
            out_h[act[ok]] = h[ok]
            out_t[act[ok]] = th[ok]
            keep = ~done
            if not keep.any():
                break
            act, h, th, ll = act[keep], h[keep], th[keep], ll[keep]
            cur = _index(cur, keep)
    return out_t / out_h, 1.0 / out_h


def _index(cur, sel):  # type: ignore[no-untyped-def]
    """The per-sample arrays of ``cur`` restricted to ``sel`` (the limits are shared)."""
    nu, s1, s2, left_c, left_r, right_c, right_r = cur
    return (nu[sel], s1[sel], s2[sel], left_c, left_r[sel], right_c, right_r[sel])


# ---------------------------------------------------------------------------
# The fit of one data set
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CensoredFit:
    """Maximum-likelihood fit of a normal model to censored results (on the analysis scale).

    Attributes
    ----------
    mean : float
        Maximum-likelihood estimate of the mean.
    sigma : float
        Maximum-likelihood estimate of the standard deviation (divisor ``n``
        when nothing is censored).
    sd : float
        ``sigma * sqrt(n / (n - 1))``: equal to the usual sample SD when
        nothing is censored; the tolerance limits are ``mean +/- k * sd``.
    n, n_left, n_right : int
        Lots, and how many were reported below / above a limit.
    loq_left, loq_right : tuple of float
        Each lot's lower / upper limit of quantitation, standardised as
        ``(limit - mean) / sigma`` (``-inf`` / ``inf``: none). A censored lot's
        limit is its reported value; a measured lot gets the largest lower
        limit at or below its value and the smallest upper limit at or above
        it (so with one LOQ every lot has that LOQ).
    """

    mean: float
    sigma: float
    sd: float
    n: int
    n_left: int
    n_right: int
    loq_left: tuple[float, ...]
    loq_right: tuple[float, ...]

    @property
    def n_censored(self) -> int:
        return self.n_left + self.n_right


def _codes_array(codes: Sequence[str], n: int) -> np.ndarray:
    arr = np.asarray([str(c) for c in codes], dtype=object)
    if arr.shape != (n,) or not set(arr) <= {"none", "left", "right"}:
        raise ValueError("censoring codes must be one of 'none', 'left', 'right' for every value.")
    return arr


def _lot_limits(y: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each lot's lower and upper limit of quantitation on the analysis scale (see :class:`CensoredFit`)."""
    lows = np.unique(y[codes == "left"])
    highs = np.unique(y[codes == "right"])
    left = np.full(y.size, -np.inf)
    right = np.full(y.size, np.inf)
    for i, (value, code) in enumerate(zip(y, codes)):
        below = lows[lows <= value]
        above = highs[highs >= value]
        left[i] = value if code == "left" else (below.max() if below.size else -np.inf)
        right[i] = value if code == "right" else (above.min() if above.size else np.inf)
    return left, right


def _group(limits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct finite limits and, per lot, the index of its limit (-1: none)."""
    finite = np.isfinite(limits)
    values, inverse = np.unique(limits[finite], return_inverse=True)
    index = np.full(limits.size, -1)
    index[finite] = inverse
    return values, index


def fit_censored_normal(values: Sequence[float] | np.ndarray, censored: Sequence[str]) -> CensoredFit:
    """Maximum-likelihood normal fit to results some of which are censored.

    Parameters
    ----------
    values : array_like of float
        One finite result per lot on the analysis scale; a censored result is
        given as its reported limit (e.g. the LOQ of a "<LOQ" result).
    censored : sequence of {"none", "left", "right"}
        ``"left"``: the true value is at or below the reported one; ``"right"``:
        at or above it.

    Returns
    -------
    CensoredFit

    Raises
    ------
    cgtkit.errors.InsufficientDataError
        Every value censored, or fewer than two different measured values
        (the likelihood then has no maximum).

    Examples
    --------
    >>> fit = fit_censored_normal([0.5, 1.2, 0.8, 1.9, 0.7, 1.1], ["left"] + ["none"] * 5)
    >>> round(fit.mean, 3), round(fit.sigma, 3), fit.n_left
    (0.986, 0.526, 1)
    """
    y = np.asarray(values, dtype=float)
    n = y.size
    codes = _codes_array(censored, n)
    measured = y[codes == "none"]
    if measured.size == 0:
        raise InsufficientDataError(
            f"All {n} values are censored (reported only as '<' or '>' a limit), so the mean and spread "
            f"cannot be estimated. At least 2 measured (uncensored) values are needed; consider a limit "
            f"based on the LOQ itself instead."
        )
    if measured.size < 2 or all_identical(measured):
        distinct = 1 if measured.size else 0
        raise InsufficientDataError(
            f"Only {distinct} distinct measured (uncensored) value(s) among {n} lots; estimating the spread "
            f"with censored results needs at least 2 different measured values. Add lots with quantifiable "
            f"results."
        )
    # standardise by the measured values so that the Newton iterations work on numbers of order 1
    # (first by a power of two, so that values near the float limits neither overflow nor underflow)
    e = math.frexp(float(np.max(np.abs(y))))[1]
    ys = np.ldexp(y, -e)
    centre = float(np.mean(ys[codes == "none"]))
    scale = float(np.std(ys[codes == "none"] - centre))
    z = (ys - centre) / scale
    unc = codes == "none"
    left_c, left_i = _group(np.where(codes == "left", z, -np.inf))
    right_c, right_i = _group(np.where(codes == "right", z, np.inf))
    left_r = np.bincount(left_i[left_i >= 0], minlength=left_c.size)[None, :].astype(float)
    right_r = np.bincount(right_i[right_i >= 0], minlength=right_c.size)[None, :].astype(float)
    zu = z[unc]
    mu, sig = _fit_batch(np.array([float(zu.size)]), np.array([zu.sum()]), np.array([zu @ zu]),
                         left_c, left_r, right_c, right_r)
    mu_z, sig_z = float(mu[0]), float(sig[0])
    if not (math.isfinite(mu_z) and math.isfinite(sig_z) and sig_z > 0.0):
        raise InsufficientDataError(
            "The censored-data fit did not converge to a usable mean and standard deviation. Check the "
            "censoring codes, or add lots with measured values."
        )
    with np.errstate(over="ignore"):
        mean = float(np.ldexp(centre + scale * mu_z, e))
        sigma = float(np.ldexp(scale * sig_z, e))
        sd = float(np.ldexp(scale * sig_z * math.sqrt(n / (n - 1.0)), e))
    if not (math.isfinite(mean) and math.isfinite(sd)):
        raise InsufficientDataError(
            "The mean or standard deviation is beyond the largest number the computer can hold (about "
            "1.8e308). Express the results in other units (e.g. 10^9 instead of single units) and repeat."
        )
    lo, hi = _lot_limits(z, codes)  # limits in the standardised units of z ...
    return CensoredFit(  # ... then relative to the fit: (LOQ - mean) / sigma
        mean=mean, sigma=sigma, sd=sd, n=n,
        n_left=int(np.sum(codes == "left")), n_right=int(np.sum(codes == "right")),
        loq_left=tuple(float(v) for v in (lo - mu_z) / sig_z),
        loq_right=tuple(float(v) for v in (hi - mu_z) / sig_z),
    )


# ---------------------------------------------------------------------------
# The bootstrap: data sets of n lots from N(0, 1), censored at standardised limits
# ---------------------------------------------------------------------------


def _check_loq(loq: object, n: int, name: str, default: float) -> tuple[float, ...]:
    if loq is None:
        return (default,) * n
    if isinstance(loq, numbers.Real):
        arr = np.full(n, float(loq))
    else:
        arr = np.asarray(loq, dtype=float)
    if arr.shape != (n,) or np.isnan(arr).any():
        raise ValueError(f"{name} must be a number or one number per lot ({n}); got {loq!r}.")
    return tuple(float(v) for v in arr)


@functools.lru_cache(maxsize=512)
def _bootstrap(
    n: int, loq_left: tuple[float, ...], loq_right: tuple[float, ...], n_boot: int, seed: int
) -> tuple[np.ndarray, np.ndarray] | None:
    """Fitted ``(mean, sd)`` of the usable ones of ``n_boot`` data sets of ``n`` lots from N(0, 1).

    Lot ``i`` of every simulated data set is censored below ``loq_left[i]``
    and above ``loq_right[i]``. Data sets with fewer than two measured values
    are left out (real data like them are refused). ``None`` when fewer than
    :data:`MIN_USABLE` of them are usable: the procedure refuses such a design.
    """
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n_boot, n))
    lo = np.asarray(loq_left)
    hi = np.asarray(loq_right)
    below = z < lo
    above = z > hi
    unc = ~(below | above)
    nu = unc.sum(axis=1).astype(float)
    ok = nu >= 2
    if ok.sum() < MIN_USABLE * n_boot:
        return None
    z, below, above, unc, nu = z[ok], below[ok], above[ok], unc[ok], nu[ok]
    zu = np.where(unc, z, 0.0)
    s1 = zu.sum(axis=1)
    s2 = np.einsum("ij,ij->i", zu, zu)
    left_c, left_i = _group(lo)
    right_c, right_i = _group(hi)
    left_r = np.zeros((nu.size, left_c.size))
    for j in range(left_c.size):
        left_r[:, j] = below[:, left_i == j].sum(axis=1)
    right_r = np.zeros((nu.size, right_c.size))
    for j in range(right_c.size):
        right_r[:, j] = above[:, right_i == j].sum(axis=1)
    mean, sigma = _fit_batch(nu, s1, s2, left_c, left_r, right_c, right_r)
    good = np.isfinite(mean) & np.isfinite(sigma) & (sigma > 0)
    mean, sd = mean[good], sigma[good] * math.sqrt(n / (n - 1.0))
    mean.setflags(write=False)
    sd.setflags(write=False)
    return mean, sd


def _two_sided_half_width(m: np.ndarray, coverage: float) -> np.ndarray:
    """``r`` with ``Phi(m + r) - Phi(m - r) = coverage``, elementwise (monotone Newton from below)."""
    a = np.abs(m)
    if coverage <= 0.5:  # (not used by cgtkit; the start below needs z_p > 0)
        return np.sqrt(special.chndtrix(coverage, 1.0, a * a))
    r = np.maximum(special.ndtri((1.0 + coverage) / 2.0), a + special.ndtri(coverage))
    for _ in range(50):
        f = special.ndtr(a + r) - special.ndtr(a - r) - coverage
        fp = (np.exp(-0.5 * (a + r) ** 2) + np.exp(-0.5 * (a - r) ** 2)) / math.sqrt(2.0 * math.pi)
        step = -f / fp
        r = r + step
        if np.all(np.abs(step) <= 1e-12 * r):
            break
    return r


def _factors(mean: np.ndarray, sd: np.ndarray, coverage: float, sided: int, side: str | None) -> np.ndarray:
    """Per simulated data set, the smallest k whose limits ``mean +/- k sd`` cover ``coverage`` of N(0, 1)."""
    if sided == 2:
        return _two_sided_half_width(mean, coverage) / sd
    zp = special.ndtri(coverage)
    return (zp - mean) / sd if side == "upper" else (zp + mean) / sd


@functools.lru_cache(maxsize=1024)
def _lattice_factors(
    n: int, base_lo: tuple[float, ...], base_hi: tuple[float, ...], j: int,
    coverage: float, sided: int, side: str | None, seed: int,
) -> np.ndarray | None:
    """Sorted factors of the second-level bootstrap at lattice point ``j`` (None: a refused design).

    Each lattice point has its own seed, so that the Monte Carlo errors of the
    points average out rather than add up.
    """
    tj = j * LATTICE_STEP
    inner = _bootstrap(n, tuple(b + tj for b in base_lo), tuple(b + tj for b in base_hi), N_INNER,
                       seed + 1 + j % 1_000_003)
    if inner is None:
        return None
    ref = np.sort(_factors(inner[0], inner[1], coverage, sided, side))
    ref.setflags(write=False)
    return ref


@functools.lru_cache(maxsize=2048)
def _lattice_factors_2d(
    n: int, lo: tuple[float, ...], hi: tuple[float, ...], j: int, l: int,
    coverage: float, sided: int, side: str | None, seed: int,
) -> np.ndarray | None:
    """Sorted factors of the second-level bootstrap for the design seen by a fit ``(m, log sigma) = (j, l) h``."""
    m, s = j * LATTICE_STEP_2D, math.exp(l * LATTICE_STEP_2D)
    inner = _bootstrap(n, tuple((v - m) / s for v in lo), tuple((v - m) / s for v in hi), N_INNER_2D,
                       seed + 1 + (1009 * j + l) % 1_000_003)
    if inner is None:
        return None
    ref = np.sort(_factors(inner[0], inner[1], coverage, sided, side))
    ref.setflags(write=False)
    return ref


def _cell(x: np.ndarray, step: float, tail: float = 0.001) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Lattice cell (lower index) and weight of the upper point, for values clamped to their central range."""
    a, b = np.quantile(x, [tail, 1.0 - tail])
    j_lo, j_hi = math.floor(a / step), max(math.ceil(b / step), math.floor(a / step) + 1)
    pos = np.clip(x, j_lo * step, j_hi * step) / step
    idx = np.minimum(np.floor(pos).astype(int), j_hi - 1)
    return idx, pos - idx, j_lo, j_hi


def _calibrated_level(
    n: int, lo: tuple[float, ...], hi: tuple[float, ...], mean: np.ndarray, sd: np.ndarray, factors: np.ndarray,
    coverage: float, confidence: float, sided: int, side: str | None, seed: int,
) -> float:
    """The nominal level whose bootstrap quantile has bootstrap-estimated confidence ``confidence``.

    Simulated data set ``b`` would itself be analysed with the design its own
    fit sees, limits at ``(LOQ - m*_b) / sigma*_b``, and given the factor of
    a bootstrap there. Its limits cover when ``F_b(K_b) <= level``, ``K_b``
    its factor against the fitted model and ``F_b`` the distribution of the
    factors of that second bootstrap (prepivoting, Beran 1987), so the
    calibrated level is the ``confidence`` quantile of ``F_b(K_b)``.

    The second-level bootstraps are done on a lattice and ``F`` is
    interpolated linearly between its points. With one limit of quantitation
    (one value, one side) the designs differ only in the position
    ``t = (LOQ - m*) / sigma*``: a lattice in ``t`` (step :data:`LATTICE_STEP`,
    :data:`N_INNER` data sets per point) shared by all data sets of ``n`` lots
    with one LOQ. Otherwise (several LOQs, or limits on both sides) a lattice
    in ``(m*, log sigma*)`` (step :data:`LATTICE_STEP_2D`, :data:`N_INNER_2D`
    data sets per point) for this design.
    """
    finite = {v for v in lo + hi if math.isfinite(v)}
    if not finite:
        return confidence  # nothing can be censored
    sigma = sd * math.sqrt((n - 1.0) / n)
    one_side = all(math.isinf(v) for v in hi) or all(math.isinf(v) for v in lo)
    if len(finite) == 1 and one_side:
        (loq,) = finite
        base_lo = tuple(0.0 if math.isfinite(v) else v for v in lo)
        base_hi = tuple(0.0 if math.isfinite(v) else v for v in hi)
        t = (loq - mean) / sigma
        # a limit more than 4.5 SD out censors nothing in practice: no lattice points beyond
        t = np.maximum(t, -4.5) if any(math.isfinite(v) for v in lo) else np.minimum(t, 4.5)
        idx, w, _, _ = _cell(t, LATTICE_STEP)
        cells = {int(j): (int(j), int(j) + 1) for j in np.unique(idx)}

        def ref(node: int) -> np.ndarray | None:
            return _lattice_factors(n, base_lo, base_hi, node, coverage, sided, side, seed)

        u = np.full(t.size, np.nan)
        for j, (a, b) in cells.items():
            sel = np.flatnonzero(idx == j)
            ra, rb = ref(a), ref(b)
            if ra is None or rb is None:
                continue  # such data sets would be refused: they stay NaN and are left out
            fa = np.searchsorted(ra, factors[sel], side="right") / ra.size
            fb = np.searchsorted(rb, factors[sel], side="right") / rb.size
            u[sel] = (1.0 - w[sel]) * fa + w[sel] * fb
    else:
        jm, wm, _, _ = _cell(mean, LATTICE_STEP_2D, 0.002)
        js, ws, _, _ = _cell(np.log(sigma), LATTICE_STEP_2D, 0.002)
        u = np.full(mean.size, np.nan)
        keys = jm * 100_003 + js
        for key in np.unique(keys):
            sel = np.flatnonzero(keys == key)
            j, l = int(jm[sel[0]]), int(js[sel[0]])
            refs = [_lattice_factors_2d(n, lo, hi, j + dj, l + dl, coverage, sided, side, seed)
                    for dj in (0, 1) for dl in (0, 1)]
            if any(r is None for r in refs):
                continue
            f = [np.searchsorted(r, factors[sel], side="right") / r.size for r in refs]
            a, b = wm[sel], ws[sel]
            u[sel] = (1 - a) * (1 - b) * f[0] + (1 - a) * b * f[1] + a * (1 - b) * f[2] + a * b * f[3]
    u = u[np.isfinite(u)]
    if u.size < MIN_USABLE * factors.size:
        return confidence
    return float(np.quantile(u, confidence))


@dataclass(frozen=True)
class CensoredToleranceFactor:
    """A tolerance factor calibrated by parametric bootstrap for censored results.

    Attributes
    ----------
    k : float
        The calibrated factor ``k*``: limits ``mean +/- k* sd`` of the
        censored-normal fit.
    n : int
        Number of lots (censored ones included).
    coverage, confidence_level : float
        As requested.
    sided : int
        1 or 2.
    side : str or None
        ``"upper"``/``"lower"`` for one-sided, ``None`` for two-sided.
    n_boot : int
        Simulated data sets.
    n_used : int
        Those with at least two measured values (the others are left out).
    seed : int
        Seed of the simulated data sets.
    calibrated_level : float
        The bootstrap quantile level that gives ``confidence_level`` after
        calibration (equal to it for ``calibrate=False``).
    k_single : float
        The uncalibrated factor: the ``confidence_level`` quantile.
    confidence_std_error : float
        Monte Carlo standard error of the bootstrap confidence of ``k*``.
    k_complete : float
        The exact factor for ``n`` complete (uncensored) lots.
    confidence_of_k_complete : float
        The bootstrap confidence that ``k_complete`` would have with this
        censoring: what the plug-in approach would really deliver.
    note : str
        Plain-words summary.
    reference : str
        Literature reference.
    """

    k: float
    n: int
    coverage: float
    confidence_level: float
    sided: int
    side: str | None
    n_boot: int
    n_used: int
    seed: int
    calibrated_level: float
    k_single: float
    confidence_std_error: float
    k_complete: float
    confidence_of_k_complete: float
    note: str
    reference: str

    def to_frame(self) -> pd.DataFrame:
        """Return the result as a one-row tidy DataFrame (columns are the field names)."""
        row = asdict(self)
        return pd.DataFrame([row], columns=list(row))


def _check_boot(n_boot: object, seed: object) -> tuple[int, int]:
    if isinstance(n_boot, bool) or not isinstance(n_boot, numbers.Integral) or n_boot < 1000:
        raise ValueError(f"n_boot (simulated data sets) must be a whole number of at least 1000; got {n_boot!r}.")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be a non-negative whole number; got {seed!r}.")
    return int(n_boot), int(seed)


def _boot_checked(
    n: int, lo: tuple[float, ...], hi: tuple[float, ...], n_boot: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    fits = _bootstrap(n, lo, hi, n_boot, seed)
    if fits is None:
        raise InsufficientDataError(
            f"With {n} lots and this much censoring, fewer than {MIN_USABLE:.0%} of data sets simulated from the "
            f"fitted model have at least 2 measured values: too few measured results for a censored-data "
            f"tolerance interval. Add lots with quantifiable results."
        )
    return fits


def censored_tolerance_factor(
    n: int,
    coverage: float = 0.95,
    confidence: float = 0.95,
    sided: int = 2,
    side: str = "upper",
    *,
    loq_left: float | Sequence[float] | None = None,
    loq_right: float | Sequence[float] | None = None,
    n_boot: int = DEFAULT_N_BOOT,
    seed: int = DEFAULT_SEED,
    calibrate: bool = True,
) -> CensoredToleranceFactor:
    """Tolerance factor for ``n`` lots with limits of quantitation, by calibrated parametric bootstrap.

    Parameters
    ----------
    n : int
        Number of lots (at least 2).
    coverage, confidence : float
        Proportion of lots to cover and confidence, in (0, 1).
    sided : {1, 2}
        One-sided limit or two-sided interval.
    side : {"upper", "lower"}
        For ``sided=1``.
    loq_left, loq_right : float or sequence of float, optional
        The lower / upper limit of quantitation of every lot (one number for
        all, or one per lot), standardised as ``(LOQ - mean) / sigma`` of the
        process; ``None``, ``-inf`` / ``inf``: no such limit. For data,
        :attr:`CensoredFit.loq_left` and ``loq_right`` hold them.
    n_boot : int, default 20000
        Simulated data sets (at least 1000).
    seed : int
        Seed of the simulated data sets (the default makes results
        reproducible).
    calibrate : bool, default True
        Calibrate the quantile level by a second-level bootstrap (see Notes).
        ``False`` gives the plain bootstrap factor.

    Returns
    -------
    CensoredToleranceFactor

    Raises
    ------
    cgtkit.errors.InsufficientDataError
        ``n < 2``, or fewer than 5 % of the simulated data sets have two
        measured values (too much censoring).
    ValueError
        Invalid settings.

    Notes
    -----
    Each simulated data set of ``n`` lots from ``N(0, 1)`` is censored at the
    limits and fitted by maximum likelihood, giving ``(m*, sd*)``, and its
    factor is the smallest ``k`` for which ``m* +/- k sd*`` covers
    ``coverage`` of ``N(0, 1)``: ``(z_p - m*) / sd*`` for an upper limit,
    ``(z_p + m*) / sd*`` for a lower one, ``r(m*) / sd*`` two-sided with
    ``Phi(m* + r) - Phi(m* - r) = coverage``. The plain bootstrap takes the
    ``confidence`` quantile of these factors. Because the bootstrap works at
    the fitted position of the LOQ rather than the true one, that falls short
    of the stated confidence with heavy censoring (about 0.93 instead of 0.95
    two-sided at n = 10 or 20 with half the lots censored), so the level is
    calibrated: each simulated data set is itself given the factor a
    bootstrap at *its* fitted LOQ position would give, and the level is
    chosen so that a fraction ``confidence`` of them cover (see
    :func:`_calibrated_level`). With no limits (nothing can be censored)
    ``k*`` estimates the exact factor.

    References
    ----------
    .. [1] Beran, R. (1987). Prepivoting to reduce level error of confidence
       sets. *Biometrika*, 74(3), 457-468.
    .. [2] Hall, P., & Martin, M. A. (1988). On bootstrap resampling and
       iteration. *Biometrika*, 75(4), 661-671.
    .. [3] Krishnamoorthy, K., & Xu, Z. (2011). Ann. Occup. Hyg. 55, 495-509.

    Examples
    --------
    >>> f = censored_tolerance_factor(10, sided=1, loq_left=0.0)  # half the lots below the LOQ
    >>> round(f.k_complete, 3), round(f.confidence_of_k_complete, 2), f.k > f.k_complete
    (2.911, 0.91, True)
    """
    from cgtkit.stats.tolerance import tolerance_factor  # (tolerance imports this module)

    n = check_n(n)
    coverage = check_probability(coverage, "coverage")
    confidence = check_probability(confidence, "confidence")
    sided = check_sided(sided)
    side_used = check_side(side) if sided == 1 else None
    n_boot, seed = _check_boot(n_boot, seed)
    lo = _check_loq(loq_left, n, "loq_left", -math.inf)
    hi = _check_loq(loq_right, n, "loq_right", math.inf)
    mean, sd = _boot_checked(n, lo, hi, n_boot, seed)
    ks = _factors(mean, sd, coverage, sided, side_used)
    k_single = float(np.quantile(ks, confidence))
    level = (
        _calibrated_level(n, lo, hi, mean, sd, ks, coverage, confidence, sided, side_used, seed)
        if calibrate else confidence
    )
    k = float(np.quantile(ks, level))
    k_complete = tolerance_factor(n, coverage, confidence, sided=sided)
    conf_complete = float(np.mean(ks <= k_complete))
    se = math.sqrt(confidence * (1.0 - confidence) / ks.size)
    left_out = n_boot - ks.size
    note = (
        f"Tolerance factor k = {k:.3g} from a calibrated parametric bootstrap ({n_boot} data sets of {n} lots "
        f"simulated from the censored-data fit, with the same limits of quantitation; seed {seed}), so that the "
        f"limits cover at least {coverage:.0%} of lots with {confidence:.0%} confidence. The factor for {n} "
        f"complete lots, {k_complete:.3g}, would have only about {conf_complete:.0%} confidence with this censoring."
    )
    if left_out:
        note += (
            f" {left_out} simulated data sets had fewer than 2 measured values and were left out, as real data "
            f"like them would be refused."
        )
    return CensoredToleranceFactor(
        k=k, n=n, coverage=coverage, confidence_level=confidence, sided=sided, side=side_used,
        n_boot=n_boot, n_used=int(ks.size), seed=seed, calibrated_level=level, k_single=k_single,
        confidence_std_error=se, k_complete=float(k_complete), confidence_of_k_complete=conf_complete,
        note=note, reference=_REFERENCE,
    )


# ---------------------------------------------------------------------------
# False-OOS risk from the same simulated data sets
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CensoredOosRisk:
    """Approximate risk that at least one of ``m_future`` lots falls outside limits set from censored data.

    Attributes
    ----------
    probability : float
        Average over the simulated data sets of P(at least one of the next
        ``m_future`` lots of the fitted process is outside their limits).
    std_error : float
        Monte Carlo standard error.
    n : int
        Lots the limits were set from.
    k_low, k_high : float or None
        The limits are ``mean - k_low sd`` and ``mean + k_high sd``; ``None``
        is an open side.
    m_future : int
        Number of future lots.
    approximate : bool
        Always True: the risk depends on the unknown mean and SD through the
        censoring and is evaluated at their estimates.
    note : str
        Plain-words statement of the approximation.
    reference : str
        Literature reference.
    """

    probability: float
    std_error: float
    n: int
    k_low: float | None
    k_high: float | None
    m_future: int
    approximate: bool
    note: str
    reference: str

    def to_frame(self) -> pd.DataFrame:
        """Return the result as a one-row tidy DataFrame (columns are the field names)."""
        row = asdict(self)
        return pd.DataFrame([row], columns=list(row))


def _check_side_k(k: object, name: str) -> float | None:
    if k is None:
        return None
    if isinstance(k, bool) or not isinstance(k, numbers.Real) or not math.isfinite(float(k)):
        raise ValueError(f"{name} must be a finite number of SDs from the mean, or None for an open side; got {k!r}.")
    return float(k)


def censored_prob_any_oos(
    n: int,
    m_future: int,
    *,
    k_low: float | None,
    k_high: float | None,
    loq_left: float | Sequence[float] | None = None,
    loq_right: float | Sequence[float] | None = None,
    n_boot: int = DEFAULT_N_BOOT,
    seed: int = DEFAULT_SEED,
) -> CensoredOosRisk:
    """Approximate false-OOS risk of limits ``mean - k_low sd`` / ``mean + k_high sd`` from censored data.

    The same simulated data sets as :func:`censored_tolerance_factor` (same
    ``n``, limits, ``n_boot`` and ``seed``): each gives limits
    ``m* - k_low sd*`` and ``m* + k_high sd*``, the probability ``q`` that a
    lot of N(0, 1) is outside them, and ``1 - (1 - q)^m``; the risk is their
    average. It is the procedure's average risk (over the data sets the lots
    could have given), evaluated at the fitted model, and with ``k`` held
    fixed rather than recalibrated for each simulated data set: an
    approximation, flagged in the result.

    Examples
    --------
    >>> r = censored_prob_any_oos(10, 1, k_low=None, k_high=3.0, loq_left=0.0)
    >>> r.approximate, 0.0 < r.probability < 0.05
    (True, True)
    """
    n = check_n(n)
    if isinstance(m_future, bool) or not isinstance(m_future, numbers.Integral) or m_future < 1:
        raise ValueError(f"m_future (number of future lots) must be a whole number of at least 1; got {m_future!r}.")
    k_lo = _check_side_k(k_low, "k_low")
    k_hi = _check_side_k(k_high, "k_high")
    if k_lo is None and k_hi is None:
        raise ValueError("At least one of k_low and k_high must be given (a limit on at least one side).")
    if k_lo is not None and k_hi is not None and k_lo + k_hi <= 0.0:
        raise ValueError(f"The lower limit must lie below the upper one (k_low + k_high > 0); got {k_lo} and {k_hi}.")
    n_boot, seed = _check_boot(n_boot, seed)
    lo = _check_loq(loq_left, n, "loq_left", -math.inf)
    hi = _check_loq(loq_right, n, "loq_right", math.inf)
    mean, sd = _boot_checked(n, lo, hi, n_boot, seed)
    q = np.zeros(mean.size)
    if k_lo is not None:
        q = q + special.ndtr(mean - k_lo * sd)
    if k_hi is not None:
        q = q + special.ndtr(-(mean + k_hi * sd))
    q = np.minimum(q, 1.0)
    with np.errstate(divide="ignore"):
        values = -np.expm1(int(m_future) * np.log1p(-q))
    probability = float(np.mean(values))
    std_error = float(np.std(values, ddof=1) / math.sqrt(values.size))
    note = (
        f"Approximate: with censored results the risk depends on where the limit of quantitation lies in the "
        f"distribution, so it was evaluated at the fitted mean and SD by parametric bootstrap ({values.size} "
        f"simulated data sets of {n} lots; Monte Carlo error ±{std_error:.1%})."
    )
    return CensoredOosRisk(
        probability=probability, std_error=std_error, n=n, k_low=k_lo, k_high=k_hi, m_future=int(m_future),
        approximate=True, note=note, reference=_REFERENCE,
    )
