"""Process capability (Ppk, Cpk) with confidence intervals, and the expected fraction outside the specification.

A capability index says how many three-SD half-widths fit between the process
mean and the nearer specification limit. Estimated from the handful of lots a
cell or gene therapy process has, the index is very uncertain: with 5 lots a
Ppk of 1.33 has a 95 % confidence interval of roughly 0.4 to 2.3 (Bissell). That width is
the point this module makes visible, so every index comes with its interval.

* **Ppk** uses the overall SD of the lot results (``n - 1`` divisor): the
  performance the lots really showed. **Cpk** uses a short-term SD, estimated
  from the moving ranges of consecutive lots (``MR-bar / d2``, ``d2 = 2 /
  sqrt(pi) = 1.128``), the usual choice for one result per lot (individuals).
  With one result per lot and no subgrouping, Ppk is the index to justify a
  process with; Cpk is shown for comparison.
* **Bissell's approximation** gives the interval of either index:
  ``C +/- z sqrt(1 / (9 n) + C^2 / (2 (n - 1)))`` (written as ``C (1 +/- z ...)`` in the paper; the
  additive form is the same for C > 0 and stays right for C <= 0, where a process is centred
  outside its limits and the multiplicative form would swap the ends). It is a large-sample
  normal approximation; at small n its coverage drifts, so the Ppk also gets an
  interval that holds at any n: the **exact** interval from the noncentral t
  distribution when only one limit exists (``3 sqrt(n) Cpl-hat`` is
  noncentral t with ``n - 1`` degrees of freedom and noncentrality
  ``3 sqrt(n) Cpl``), and the **generalized confidence interval** (generalized
  pivotal quantities for the mean and SD, by seeded Monte Carlo) when both
  limits exist. The Cpk interval (moving-range SD) uses Bissell's formula with
  ``n`` lots as an approximation.
* **The fraction outside** is ``Phi((L - mu) / sigma) + 1 - Phi((U - mu) /
  sigma)`` at the estimates (plug-in), one-sided when only one limit exists,
  and the predictive probability that the *next* lot falls outside (Student t
  with ``n - 1`` degrees of freedom and scale ``s sqrt(1 + 1/n)``), which
  carries the uncertainty of the estimates.
* For a log-normal attribute (``scale="log"``) everything is computed on the
  natural logs: limits are taken to the log scale, and a lower limit of 0 (or
  below) is no limit at all there.

Only :mod:`scipy.special` is used (already loaded by
:mod:`cgtkit.stats.tolerance`); nothing here needs scipy.stats.

References
----------
.. [1] Bissell, A. F. (1990). How reliable is your capability index? *Journal
   of the Royal Statistical Society, Series C (Applied Statistics)*, 39(3),
   331-340.
.. [2] Montgomery, D. C. (2009). *Introduction to Statistical Quality
   Control*, 6th ed. Wiley. Chapter 8 (process capability ratios and their
   confidence intervals).
.. [3] Kotz, S. and Johnson, N. L. (1993). *Process Capability Indices*.
   Chapman & Hall. (Distribution of the one-sided index: noncentral t.)
.. [4] Mathew, T., Sebastian, G. and Kurian, K. M. (2007). Generalized
   confidence intervals for process capability indices. *Quality and
   Reliability Engineering International*, 23(4), 471-481.
.. [5] NIST/SEMATECH e-Handbook of Statistical Methods, section 6.1.6 "What is
   process capability?".

Examples
--------
>>> cap = process_capability([98.2, 101.0, 99.4, 100.6, 97.9, 100.1, 99.0, 100.8], lower=95.0, upper=105.0)
>>> round(cap.ppk, 2), round(cap.ppk_low, 2), round(cap.ppk_high, 2)
(1.3, 0.58, 2.01)
>>> cap.exact_method.split(" (")[0]
'generalized confidence interval'
>>> f"{cap.fraction_outside:.1e}"
'5.3e-05'
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import special

from cgtkit.errors import CgtkitError, InsufficientDataError
from cgtkit.stats._checks import all_identical, as_finite_1d, check_probability, check_scale, log_values, mean_sd

__all__ = [
    "D2_MOVING_RANGE",
    "ProcessCapability",
    "SpecificationError",
    "bissell_interval",
    "bissell_lower_bound",
    "capability_index",
    "check_specification",
    "exact_one_sided_interval",
    "fraction_outside",
    "fraction_outside_predictive",
    "generalized_interval",
    "limits_on_scale",
    "moving_range_sd",
    "process_capability",
]

#: ``d2`` for moving ranges of two consecutive values: ``E|X1 - X2| = (2 / sqrt(pi)) sigma``.
D2_MOVING_RANGE = 2.0 / math.sqrt(math.pi)
#: Simulated data sets and seed of the generalized confidence interval (the same data give the same interval).
DEFAULT_N_SIM = 20_000
DEFAULT_SEED = 20_260_519

_BISSELL_REFERENCE = (
    "Bissell (1990), Applied Statistics 39, 331-340: C +/- z sqrt(1/(9 n) + C^2/(2 (n - 1))); "
    "Montgomery, Introduction to Statistical Quality Control, ch. 8."
)
_EXACT_REFERENCE = "Noncentral t distribution of 3 sqrt(n) C-hat for a one-sided index: Kotz & Johnson (1993), ch. 3."
_GENERALIZED_REFERENCE = (
    "Generalized pivotal quantities for the mean and SD (Monte Carlo): Mathew, Sebastian & Kurian (2007), "
    "Quality and Reliability Engineering International 23, 471-481."
)


class SpecificationError(CgtkitError):
    """The specification limits given cannot be used (none, not numbers, or lower above upper)."""


# ---------------------------------------------------------------------------
# Specification limits
# ---------------------------------------------------------------------------


def _limit(value: object, name: str) -> float | None:
    if value is None:
        return None
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise SpecificationError(
            f"The {name} specification limit must be a number; got {value!r}. Enter a number, or leave it "
            "empty when the specification has no such limit."
        ) from None
    if math.isnan(x):
        return None
    if math.isinf(x):
        if (name == "lower" and x < 0) or (name == "upper" and x > 0):
            return None  # an infinite limit on its own side is no limit
        raise SpecificationError(f"The {name} specification limit is {x}; enter a finite number or leave it empty.")
    return x


def check_specification(lower: object, upper: object) -> tuple[float | None, float | None]:
    """The limits as floats (``None`` for an open side), or a :class:`SpecificationError` saying what to fix.

    NaN and an infinite limit on its own side (``-inf`` lower, ``inf`` upper)
    mean no limit.

    >>> check_specification(95, None)
    (95.0, None)
    >>> check_specification(105, 95)  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    cgtkit.stats.capability.SpecificationError: The lower specification limit (105) is above the upper limit
    (95). Swap them, or correct the one that is wrong.
    """
    lo, hi = _limit(lower, "lower"), _limit(upper, "upper")
    if lo is None and hi is None:
        raise SpecificationError(
            "No specification limit was given. Enter the lower limit, the upper limit or both (the acceptance "
            "criterion of the attribute); capability and pass probabilities are measured against them."
        )
    if lo is not None and hi is not None and not lo < hi:
        if lo == hi:
            raise SpecificationError(
                f"The lower and upper specification limits are both {lo:g}: a specification needs a range. "
                "Correct one of them, or leave one empty for a one-sided specification."
            )
        raise SpecificationError(
            f"The lower specification limit ({lo:g}) is above the upper limit ({hi:g}). Swap them, or correct "
            "the one that is wrong."
        )
    return lo, hi


def limits_on_scale(lower: object, upper: object, scale: str = "normal") -> tuple[float, float]:
    """The limits on the analysis scale, ``-inf``/``inf`` for an open side.

    On the log scale a lower limit of 0 or below is no limit; an upper limit
    of 0 or below cannot be met by any positive value and is refused.

    >>> limits_on_scale(0.0, 100.0, "log")
    (-inf, 4.605170185988092)
    """
    lo, hi = check_specification(lower, upper)
    scale = check_scale(scale)
    if scale == "log":
        if hi is not None and hi <= 0.0:
            raise SpecificationError(
                f"The upper specification limit ({hi:g}) is not above 0, but the attribute is analysed on the log "
                "scale (every value is positive). Correct the limit, or analyse the attribute on the normal scale."
            )
        lo_s = math.log(lo) if lo is not None and lo > 0.0 else -math.inf
        hi_s = math.log(hi) if hi is not None else math.inf
        if lo_s == -math.inf and hi_s == math.inf:
            raise SpecificationError(
                f"On the log scale a lower limit of {lo:g} is no limit (every value is above it), and there is no "
                "upper limit, so the specification does not limit anything. Enter a lower limit above 0 or an "
                "upper limit."
            )
        return lo_s, hi_s
    return (-math.inf if lo is None else lo), (math.inf if hi is None else hi)


# ---------------------------------------------------------------------------
# Indices and intervals
# ---------------------------------------------------------------------------


def capability_index(
    mean: float | np.ndarray, sd: float | np.ndarray, lower: float, upper: float
) -> np.ndarray | float:
    """``min(U - mean, mean - L) / (3 sd)``; an open side (``+/-inf``) drops out. Vectorised.

    >>> capability_index(100.0, 1.0, 95.0, 105.0), capability_index(98.0, 1.0, 95.0, np.inf)
    (1.6666666666666667, 1.0)
    """
    mu = np.asarray(mean, dtype=float)
    s = np.asarray(sd, dtype=float)
    with np.errstate(invalid="ignore"):
        out = np.minimum(upper - mu, mu - lower) / (3.0 * s)
    return float(out) if out.ndim == 0 else out


def _z(confidence: float) -> float:
    return float(special.ndtri(confidence))


def bissell_interval(index: float, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Two-sided Bissell (1990) confidence interval of a capability index estimated from ``n`` values.

    ``index -/+ z_{(1+confidence)/2} sqrt(1 / (9 n) + index^2 / (2 (n - 1)))``: low below high for an
    index of any sign (a negative one: the process mean is outside a limit).

    Examples
    --------
    The worked example in Quality Digest (May 2000, "The Last Word"): Cpk 1.15 from n = 45.

    >>> tuple(round(b, 2) for b in bissell_interval(1.15, 45))
    (0.89, 1.41)
    >>> tuple(round(b, 2) for b in bissell_interval(-1.15, 45))
    (-1.41, -0.89)
    """
    confidence = check_probability(confidence, "confidence")
    half = _z((1.0 + confidence) / 2.0) * _bissell_se(index, n)
    return float(index - half), float(index + half)


def bissell_lower_bound(index: float, n: int, confidence: float = 0.95) -> float:
    """One-sided lower Bissell confidence bound: ``index - z_confidence sqrt(1 / (9 n) + index^2 / (2 (n - 1)))``.

    >>> round(bissell_lower_bound(1.33, 20), 3)
    0.955
    """
    confidence = check_probability(confidence, "confidence")
    return float(index - _z(confidence) * _bissell_se(index, n))


def _bissell_se(index: float, n: int) -> float:
    """Standard error ``sqrt(1 / (9 n) + C^2 / (2 (n - 1)))`` of an index C estimated from n values."""
    if n < 2:
        raise InsufficientDataError(
            f"A capability index needs at least 2 lots; got {n}. Add results from more lots."
        )
    return math.sqrt(1.0 / (9.0 * n) + index * index / (2.0 * (n - 1)))


def exact_one_sided_interval(index: float, n: int, confidence: float = 0.95) -> tuple[float, float, float]:
    """Exact interval of a one-sided index (Cpl or Cpu) from the noncentral t distribution.

    ``T = 3 sqrt(n) C-hat`` is noncentral t with ``n - 1`` degrees of freedom
    and noncentrality ``3 sqrt(n) C``; the interval inverts its CDF in the
    noncentrality.

    Returns
    -------
    (low, high, lower_bound)
        The two-sided interval at ``confidence`` and the one-sided lower bound.

    Examples
    --------
    >>> tuple(round(b, 3) for b in exact_one_sided_interval(1.0, 10))
    (0.497, 1.494, 0.567)
    """
    confidence = check_probability(confidence, "confidence")
    if n < 2:
        raise InsufficientDataError(f"A capability index needs at least 2 lots; got {n}. Add results from more lots.")
    root = 3.0 * math.sqrt(n)
    t_obs = root * index
    alpha = 1.0 - confidence
    lo = _noncentrality(n - 1, 1.0 - alpha / 2.0, t_obs) / root
    hi = _noncentrality(n - 1, alpha / 2.0, t_obs) / root
    lb = _noncentrality(n - 1, confidence, t_obs) / root
    return float(lo), float(hi), float(lb)


def _noncentrality(df: int, p: float, t: float) -> float:
    """The noncentrality ``nc`` with ``P(T <= t) = p`` for noncentral t(df, nc), to about 1e-12 in ``p``.

    ``scipy.special.nctdtrinc`` gives a start accurate to about 1e-6 in ``p``;
    a bracketed root-find on ``nctdtr`` (decreasing in ``nc``) polishes it.
    """
    start = float(special.nctdtrinc(df, p, t))

    def gap(nc: float) -> float:
        return float(special.nctdtr(df, nc, t)) - p

    step = 1e-3 * (1.0 + abs(start))
    lo, hi = start - step, start + step
    for _ in range(60):
        if gap(lo) > 0.0:
            break
        lo -= step
        step *= 2.0
    step = 1e-3 * (1.0 + abs(start))
    for _ in range(60):
        if gap(hi) < 0.0:
            break
        hi += step
        step *= 2.0
    from scipy.optimize import brentq  # imported on first use (import time matters for page load)

    return float(brentq(gap, lo, hi, xtol=1e-13, rtol=1e-13))


def generalized_interval(
    mean: float, sd: float, n: int, lower: float, upper: float, confidence: float = 0.95, *,
    n_sim: int = DEFAULT_N_SIM, seed: int = DEFAULT_SEED,
) -> tuple[float, float, float]:
    """Generalized confidence interval of Ppk (both limits) by Monte Carlo of the pivotal quantities.

    ``R_sigma = s sqrt((n - 1) / V)`` with ``V ~ chi2(n - 1)``, ``R_mu = xbar - Z
    R_sigma / sqrt(n)`` with ``Z ~ N(0, 1)``; the interval is made of quantiles
    of ``min(U - R_mu, R_mu - L) / (3 R_sigma)``. Seeded, so the same data give
    the same interval.

    Returns
    -------
    (low, high, lower_bound)

    Examples
    --------
    >>> lo, hi, lb = generalized_interval(100.0, 1.0, 30, 95.0, 105.0)
    >>> round(lo, 2), round(hi, 2), round(lb, 2)
    (1.18, 2.04, 1.24)
    """
    confidence = check_probability(confidence, "confidence")
    if n < 2:
        raise InsufficientDataError(f"A capability index needs at least 2 lots; got {n}. Add results from more lots.")
    rng = np.random.default_rng(seed)
    v = rng.chisquare(n - 1, size=n_sim)
    z = rng.standard_normal(n_sim)
    r_sigma = sd * np.sqrt((n - 1) / v)
    r_mu = mean - z * r_sigma / math.sqrt(n)
    r_index = np.minimum(upper - r_mu, r_mu - lower) / (3.0 * r_sigma)
    alpha = 1.0 - confidence
    lo, hi, lb = np.quantile(r_index, [alpha / 2.0, 1.0 - alpha / 2.0, alpha])
    return float(lo), float(hi), float(lb)


# ---------------------------------------------------------------------------
# Fraction outside
# ---------------------------------------------------------------------------


def fraction_outside(
    mean: float | np.ndarray, sd: float | np.ndarray, lower: float, upper: float
) -> tuple[np.ndarray | float, np.ndarray | float]:
    """Expected fractions below ``lower`` and above ``upper`` of a normal process (``+/-inf``: open side).

    Vectorised; the total fraction outside is the sum.

    >>> below, above = fraction_outside(98.0, 1.0, 95.0, 105.0)
    >>> round(float(below + above), 7)
    0.0013499
    """
    mu = np.asarray(mean, dtype=float)
    s = np.asarray(sd, dtype=float)
    below = special.ndtr((lower - mu) / s)
    above = special.ndtr((mu - upper) / s)
    if below.ndim == 0:
        return float(below), float(above)
    return below, above


def fraction_outside_predictive(mean: float, sd: float, n: int, lower: float, upper: float) -> float:
    """Probability that the next lot falls outside the limits, with the mean and SD estimated from ``n`` lots.

    The next lot ``X`` satisfies ``(X - xbar) / (s sqrt(1 + 1/n)) ~ t(n - 1)``
    for a normal process, so this is the plug-in fraction widened for the
    uncertainty of the estimates (the expected fraction outside, averaged over
    what the process could be given the data, under the usual noninformative
    prior).

    >>> round(fraction_outside_predictive(98.0, 1.0, 10, 95.0, 105.0), 4)
    0.0094
    """
    if n < 2:
        raise InsufficientDataError(
            f"Predicting the next lot needs at least 2 lots; got {n}. Add results from more lots."
        )
    scale = sd * math.sqrt(1.0 + 1.0 / n)
    df = n - 1
    below = float(special.stdtr(df, (lower - mean) / scale)) if math.isfinite(lower) else 0.0
    above = float(special.stdtr(df, (mean - upper) / scale)) if math.isfinite(upper) else 0.0
    return below + above


def moving_range_sd(values: Sequence[float] | np.ndarray) -> float:
    """Short-term SD from the moving ranges of consecutive values: ``mean(|x_i - x_{i-1}|) / d2``.

    >>> round(moving_range_sd([10.0, 12.0, 11.0, 13.0]), 4)
    1.477
    """
    x = np.asarray(values, dtype=float)
    if x.size < 2:
        raise InsufficientDataError("A moving-range SD needs at least 2 lots in manufacture order.")
    return float(np.mean(np.abs(np.diff(x))) / D2_MOVING_RANGE)


# ---------------------------------------------------------------------------
# Capability from data
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcessCapability:
    """Capability of a set of lots against a specification.

    All means, SDs and limits named ``*_scaled`` are on the analysis scale
    (natural logs for ``scale="log"``); ``lower`` and ``upper`` are the limits
    as given, in the units of the data (``None`` for an open side).

    Attributes
    ----------
    n : int
        Lots used.
    scale : str
        ``"normal"`` or ``"log"``.
    lower, upper : float or None
        The specification limits (units of the data).
    lower_scaled, upper_scaled : float
        The limits on the analysis scale (``-inf``/``inf`` for an open side).
    sided : int
        2 when both limits exist, else 1.
    mean, sd : float
        Mean and overall SD (``n - 1`` divisor) on the analysis scale.
    sd_within : float
        Short-term SD from moving ranges (``MR-bar / 1.128``), in manufacture order.
    pp, cp : float or None
        ``(U - L) / (6 sd)`` and its short-term analogue; ``None`` for a one-sided specification.
    ppk, ppk_low, ppk_high, ppk_lower_bound : float
        Ppk, its two-sided Bissell interval at ``confidence_level`` and its one-sided lower Bissell bound.
    ppk_exact_low, ppk_exact_high, ppk_exact_lower_bound : float
        The same from ``exact_method`` (exact noncentral t for a one-sided
        specification, generalized confidence interval by seeded Monte Carlo
        for a two-sided one).
    exact_method : str
        How the ``ppk_exact_*`` interval was computed.
    cpk, cpk_low, cpk_high, cpk_lower_bound : float
        Cpk (moving-range SD) and its Bissell interval and lower bound (approximate).
    confidence_level : float
    fraction_below, fraction_above, fraction_outside : float
        Expected fractions outside at the estimated mean and overall SD (plug-in).
    fraction_outside_predictive : float
        Probability that the next lot falls outside, with the estimates' uncertainty (Student t).
    note : str
        What the numbers mean and assume, in words.
    reference : str
    """

    n: int
    scale: str
    lower: float | None
    upper: float | None
    lower_scaled: float
    upper_scaled: float
    sided: int
    mean: float
    sd: float
    sd_within: float
    pp: float | None
    ppk: float
    ppk_low: float
    ppk_high: float
    ppk_lower_bound: float
    ppk_exact_low: float
    ppk_exact_high: float
    ppk_exact_lower_bound: float
    exact_method: str
    cp: float | None
    cpk: float
    cpk_low: float
    cpk_high: float
    cpk_lower_bound: float
    confidence_level: float
    fraction_below: float
    fraction_above: float
    fraction_outside: float
    fraction_outside_predictive: float
    note: str
    reference: str

    def to_frame(self) -> pd.DataFrame:
        """One row per index and interval method.

        Columns: ``index`` (Pp, Ppk, Cp, Cpk), ``sigma_basis`` (overall or
        moving range), ``estimate``, ``interval_method``, ``low``, ``high``,
        ``lower_bound``, ``confidence_level``. An index that does not exist
        for a one-sided specification (Pp, Cp) is left out; an interval that
        is not computed is NaN.
        """
        nan = math.nan
        rows = []
        if self.pp is not None:
            rows.append(("Pp", "overall", self.pp, "", nan, nan, nan))
        rows.append(("Ppk", "overall", self.ppk, "Bissell", self.ppk_low, self.ppk_high, self.ppk_lower_bound))
        rows.append(("Ppk", "overall", self.ppk, self.exact_method, self.ppk_exact_low, self.ppk_exact_high,
                     self.ppk_exact_lower_bound))
        if self.cp is not None:
            rows.append(("Cp", "moving range", self.cp, "", nan, nan, nan))
        rows.append(("Cpk", "moving range", self.cpk, "Bissell (approximate)", self.cpk_low, self.cpk_high,
                     self.cpk_lower_bound))
        frame = pd.DataFrame(rows, columns=["index", "sigma_basis", "estimate", "interval_method", "low", "high",
                                            "lower_bound"])
        frame["confidence_level"] = self.confidence_level
        return frame

    def summary(self) -> dict[str, object]:
        """All fields as a dict (for tables and the decision record)."""
        return asdict(self)


def process_capability(
    values: Sequence[float] | np.ndarray,
    lower: float | None = None,
    upper: float | None = None,
    *,
    confidence: float = 0.95,
    scale: str = "normal",
    n_sim: int = DEFAULT_N_SIM,
    seed: int = DEFAULT_SEED,
) -> ProcessCapability:
    """Ppk and Cpk with confidence intervals, and the fraction outside, from lot results.

    Parameters
    ----------
    values : array_like of float
        One result per lot, **in manufacture order** (the moving ranges of Cpk depend on it).
    lower, upper : float or None
        Specification limits in the units of the data; at least one.
    confidence : float, default 0.95
        Confidence level of the intervals (the lower bounds are one-sided at this level).
    scale : {"normal", "log"}
        ``"log"`` for a log-normal attribute: all computed on natural logs.
    n_sim, seed : int
        Monte Carlo size and seed of the generalized interval (two-sided specification).

    Raises
    ------
    SpecificationError
        No limit, a limit that is not a number, lower not below upper, or a
        specification that limits nothing on the log scale.
    cgtkit.errors.InsufficientDataError
        Fewer than 2 lots, values that are not finite numbers, all values
        identical (zero variance), a non-positive value on the log scale.

    References
    ----------
    .. [1] Bissell (1990), Applied Statistics 39, 331-340.
    .. [2] Mathew, Sebastian & Kurian (2007), QREI 23, 471-481.

    Examples
    --------
    >>> cap = process_capability([1.9, 2.4, 1.6, 2.1, 2.8], upper=5.0, scale="log")
    >>> cap.sided, round(cap.ppk, 2), cap.exact_method
    (1, 1.33, 'exact (noncentral t)')
    """
    confidence = check_probability(confidence, "confidence")
    scale = check_scale(scale)
    lo, hi = check_specification(lower, upper)
    lo_s, hi_s = limits_on_scale(lo, hi, scale)
    x = as_finite_1d(values, "lot results")
    n = x.size
    if n < 2:
        raise InsufficientDataError(
            f"Capability needs results from at least 2 lots; got {n}. With a single lot there is no lot-to-lot "
            "variability to estimate: add lots, or justify the process from development and platform data."
        )
    if all_identical(x):
        raise InsufficientDataError(
            f"All {n} lot results are identical (up to rounding), so the lot-to-lot SD is 0 and a capability index "
            "cannot be computed. Check that the results were not copied, report them with more digits, or add lots."
        )
    y = log_values(x) if scale == "log" else x
    mean, sd = mean_sd(y)
    sd_within = moving_range_sd(y)
    if not sd_within > 0.0:
        raise InsufficientDataError(
            "Consecutive lots have identical results, so the moving-range SD of Cpk is 0. Report the results with "
            "more digits or add lots; Ppk (overall SD) is the index to use here."
        )
    sided = 2 if math.isfinite(lo_s) and math.isfinite(hi_s) else 1
    ppk = float(capability_index(mean, sd, lo_s, hi_s))
    cpk = float(capability_index(mean, sd_within, lo_s, hi_s))
    pp = (hi_s - lo_s) / (6.0 * sd) if sided == 2 else None
    cp = (hi_s - lo_s) / (6.0 * sd_within) if sided == 2 else None
    ppk_low, ppk_high = bissell_interval(ppk, n, confidence)
    cpk_low, cpk_high = bissell_interval(cpk, n, confidence)
    if sided == 1:
        e_low, e_high, e_lb = exact_one_sided_interval(ppk, n, confidence)
        exact_method = "exact (noncentral t)"
    else:
        e_low, e_high, e_lb = generalized_interval(mean, sd, n, lo_s, hi_s, confidence, n_sim=n_sim, seed=seed)
        exact_method = f"generalized confidence interval (Monte Carlo, {n_sim} draws, seed {seed})"
    below, above = fraction_outside(mean, sd, lo_s, hi_s)
    predictive = fraction_outside_predictive(mean, sd, n, lo_s, hi_s)
    where = "natural logs of the results (log-normal)" if scale == "log" else "the results"
    note = (
        f"From {n} lots, on {where}. Ppk uses the overall SD; Cpk the moving-range SD of consecutive lots. "
        f"{confidence:.0%} intervals: Bissell's approximation, and for Ppk also {exact_method}, which holds at "
        "small n. The fraction outside assumes a normal process with the estimated mean and SD; the predictive "
        "probability for the next lot also carries the uncertainty of those estimates."
    )
    if n < 10:
        note += f" With {n} lots the interval is wide: the data cannot pin the capability down."
    return ProcessCapability(
        n=n, scale=scale, lower=lo, upper=hi, lower_scaled=lo_s, upper_scaled=hi_s, sided=sided, mean=mean, sd=sd,
        sd_within=sd_within, pp=pp, ppk=ppk, ppk_low=ppk_low, ppk_high=ppk_high,
        ppk_lower_bound=bissell_lower_bound(ppk, n, confidence), ppk_exact_low=e_low, ppk_exact_high=e_high,
        ppk_exact_lower_bound=e_lb, exact_method=exact_method, cp=cp, cpk=cpk, cpk_low=cpk_low, cpk_high=cpk_high,
        cpk_lower_bound=bissell_lower_bound(cpk, n, confidence), confidence_level=confidence,
        fraction_below=float(below), fraction_above=float(above), fraction_outside=float(below + above),
        fraction_outside_predictive=predictive, note=note,
        reference=" ".join((_BISSELL_REFERENCE, _EXACT_REFERENCE if sided == 1 else _GENERALIZED_REFERENCE)),
    )
