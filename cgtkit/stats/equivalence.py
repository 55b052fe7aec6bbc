"""Is the post-change product equivalent to the pre-change product? Two one-sided tests (TOST), and what a
handful of lots can show.

Comparability (ICH Q5E) asks whether the product made after a manufacturing
change is highly similar to the product made before it. For a quantitative
attribute the usual statistical form is an *equivalence test*: the mean
difference ``test - reference`` (post-change minus pre-change) is shown to lie
inside an equivalence interval ``(low, high)`` when both one-sided tests

* H0: difference <= low   against  difference > low, and
* H0: difference >= high  against  difference < high

reject at level ``alpha`` (Schuirmann 1987), which is the same as the
``1 - 2 alpha`` (90 %) confidence interval lying inside ``(low, high)``.

Why the operating characteristics matter: with 3 lots on each side and a
margin of 1.5 reference SDs, the test *cannot* show equivalence with useful
power even when the true difference is zero (about 0.15); it takes 9 lots
per side for 80 % (and 14 if the true difference is half an SD). A failed equivalence test with few lots is then a
statement about the lot count, not about the product, and
:func:`tost_power` and :func:`lots_needed` say how many lots would be needed.

Choices made here (and said in every result):

* **Variances.** Welch's unequal-variance test by default (``usevar="unequal"``),
  with the Welch-Satterthwaite degrees of freedom *unrounded* (as statsmodels
  ``ttost_ind`` and R ``t.test``); ``welch_df="floor"`` truncates them to an
  integer as Minitab does. ``usevar="pooled"`` is the equal-variance test with
  ``n_test + n_reference - 2`` degrees of freedom.
* **Paired designs** (starting material of one donor or patient split between
  the two processes) test the mean of the within-pair differences with
  ``n_pairs - 1`` degrees of freedom; donor-to-donor variation drops out.
* **Log-normal attributes** (``scale="log"``) are compared on the log scale: the
  difference of log means is the log of the ratio of geometric means, and the
  equivalence interval is a ratio interval (as statsmodels ``transform=np.log``).
* **Margin from the reference SD.** Without a margin, the margin is
  ``margin_sd`` (1.5 by default) times the SD of the reference (pre-change)
  lots, as in the tier 1 approach of FDA's withdrawn 2017 draft guidance on
  analytical similarity. Its known weakness: the SD is *estimated* from the
  few reference lots, so the margin is itself random; a small reference SD
  makes the test hard to pass, a large one easy, and the type I error at the
  nominal margin is no longer ``alpha``: below it with 3 lots per side, above
  it from about 10 (:func:`simulate_tost_power` with
  ``margin_from_reference=True`` shows by how much).
* **Power** is exact for the pooled-variance and paired tests: the integral
  over the distribution of the estimated SD of the probability that both
  one-sided tests reject (Owen's Q representation, Owen 1965; Phillips 1990),
  evaluated by Gauss-Legendre quadrature, vectorised over grids. The Welch
  test has no such closed form: its power is simulated (seeded).

References
----------
.. [1] Schuirmann, D. J. (1987). A comparison of the two one-sided tests
   procedure and the power approach for assessing the equivalence of average
   bioavailability. *Journal of Pharmacokinetics and Biopharmaceutics*, 15(6),
   657-680.
.. [2] Owen, D. B. (1965). A special case of a bivariate non-central
   t-distribution. *Biometrika*, 52(3/4), 437-446.
.. [3] Phillips, K. F. (1990). Power of the two one-sided tests procedure in
   bioequivalence. *Journal of Pharmacokinetics and Biopharmaceutics*, 18(2),
   137-144.
.. [4] Welch, B. L. (1947). The generalization of "Student's" problem when
   several different population variances are involved. *Biometrika*, 34,
   28-35. Satterthwaite, F. E. (1946). An approximate distribution of
   estimates of variance components. *Biometrics Bulletin*, 2(6), 110-114.
.. [5] ICH Q5E (2004). Comparability of biotechnological/biological products
   subject to changes in their manufacturing process.
.. [6] FDA (2017, withdrawn 2018). Statistical Approaches to Evaluate
   Analytical Similarity, draft guidance for industry (tier 1: equivalence
   test with margin 1.5 sigma_R).
.. [7] Burdick, R. K., Hofer, J., Karl, D. and Rushing, M. (2024). Comparability
   of cell and gene therapy products (split starting material designs).
   *The AAPS Journal*.
.. [8] Labes, D., Schuetz, H. and Lang, B. PowerTOST: Power and sample size
   for (bio)equivalence studies. R package (the exact method, Owen's Q).

Examples
--------
>>> r = equivalence_test([33.2, 34.0, 34.9, 33.5, 34.4], [34.1, 33.8, 34.3, 34.0], margin=0.5)
>>> r.equivalent, round(r.difference, 3), r.variance
(False, -0.05, 'welch')
>>> round(float(tost_power(0.0, 1.5, 3)), 2), round(float(tost_power(0.0, 1.5, 9)), 2)
(0.15, 0.84)
>>> lots_needed(0.8, 0.0, 1.5).n_test
9
"""

from __future__ import annotations

import functools
import math
from collections import namedtuple
from dataclasses import asdict, dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from cgtkit.errors import InsufficientDataError
from cgtkit.stats._checks import all_identical, as_finite_1d, check_n, check_scale, log_values

__all__ = [
    "ConfidenceInterval",
    "EquivalenceResult",
    "LotsNeeded",
    "PowerGrid",
    "SimulatedPower",
    "equivalence_test",
    "equivalence_test_from_stats",
    "lots_needed",
    "margin_from_reference_sd",
    "paired_equivalence_test",
    "paired_equivalence_test_from_stats",
    "paired_tost_power",
    "power_grid",
    "simulate_tost_power",
    "tost_power",
    "tost_power_se",
]

#: The margin multiple of the reference SD used when none is given (FDA 2017 draft, tier 1).
DEFAULT_MARGIN_SD = 1.5
DEFAULT_ALPHA = 0.05
#: Seed of the simulations when none is given (any fixed number: results are reproducible).
DEFAULT_SEED = 20260518

ConfidenceInterval = namedtuple("ConfidenceInterval", ["low", "high"])

MARGIN_SD_RATIONALE = (
    "A margin of 1.5 reference SDs follows the tier 1 equivalence test of FDA's 2017 draft guidance on "
    "analytical similarity (withdrawn in 2018); it is a convention, not a requirement, and should reflect "
    "what difference would matter clinically."
)
MARGIN_SD_WEAKNESS = (
    "The reference SD is estimated from the reference lots, so the margin is random: with few reference lots "
    "it may be far from the true SD, and the test's type I error is no longer alpha (in simulation, when the "
    "true difference equals 1.5 true SDs, about 1% with 3 lots per side but 6% with 10 and 8% with 30). "
    "Reference lots that are correlated (same campaign, same material) understate the SD and make equivalence "
    "harder to show."
)

_REFERENCE_TOST = "Two one-sided t tests (Schuirmann 1987); 1 - 2 alpha confidence interval inside the margins."
_GL_NODES = 64
#: Probability left out at each end of the distribution of the estimated SD (integrand <= 1).
_TAIL = 1e-13


def _check_alpha(alpha: object) -> float:
    try:
        a = float(alpha)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"alpha must be a number between 0 and 0.5 (e.g. 0.05); got {alpha!r}.") from None
    if not (0.0 < a < 0.5):
        raise ValueError(f"alpha must be between 0 and 0.5 (e.g. 0.05 for a 90% interval); got {alpha!r}.")
    return a


def _check_usevar(usevar: object) -> str:
    if usevar not in ("unequal", "pooled"):
        raise ValueError(f"usevar must be 'unequal' (Welch) or 'pooled' (equal variances); got {usevar!r}.")
    return str(usevar)


def _check_welch_df(welch_df: object) -> str:
    if welch_df not in ("satterthwaite", "floor"):
        raise ValueError(
            f"welch_df must be 'satterthwaite' (unrounded, as statsmodels and R) or 'floor' (truncated to an "
            f"integer, as Minitab); got {welch_df!r}."
        )
    return str(welch_df)


def _check_margin_sd(margin_sd: object) -> float:
    try:
        m = float(margin_sd)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"margin_sd must be a positive number (e.g. 1.5); got {margin_sd!r}.") from None
    if not (m > 0.0 and math.isfinite(m)):
        raise ValueError(f"margin_sd must be a positive number (e.g. 1.5); got {margin_sd!r}.")
    return m


def _bounds_on_scale(
    bounds: tuple[float, float] | None, margin: float | None, scale: str
) -> tuple[float, float] | None:
    """The equivalence interval for the difference on the analysis scale, or None (margin from the SD)."""
    if bounds is not None and margin is not None:
        raise ValueError("Give either bounds=(low, high) or margin, not both.")
    if margin is not None:
        m = float(margin)
        if not (m > 0.0 and math.isfinite(m)):
            raise ValueError(f"margin must be a positive number (the half-width of the interval); got {margin!r}.")
        return -m, m
    if bounds is None:
        return None
    try:
        low, high = (float(b) for b in bounds)
    except (TypeError, ValueError):
        raise ValueError(f"bounds must be two numbers (low, high); got {bounds!r}.") from None
    if scale == "log":
        if not (0.0 < low < high) or not math.isfinite(high):
            raise ValueError(
                f"On the log scale bounds are ratios test/reference with 0 < low < high (e.g. (0.8, 1.25)); "
                f"got {bounds!r}."
            )
        return math.log(low), math.log(high)
    if not (low < high) or not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError(f"bounds must be finite with low < high (e.g. (-0.5, 0.5)); got {bounds!r}.")
    return low, high


# -- results -----------------------------------------------------------------------


@dataclass(frozen=True)
class EquivalenceResult:
    """The outcome of a two one-sided tests (TOST) equivalence test.

    All location quantities are on the *analysis scale*: the values themselves
    (``scale="normal"``) or their natural logs (``scale="log"``, where the
    difference is the log of the ratio of geometric means; :attr:`ratio` and
    :attr:`ratio_ci` give it back as a ratio).

    Attributes
    ----------
    design : {"independent", "paired"}
    scale : {"normal", "log"}
    variance : {"welch", "pooled", "paired"}
        Which standard error was used.
    df_method : str
        How the degrees of freedom were obtained, in words.
    n_test, n_reference : int
        Lots on each side (pairs: both equal the number of pairs).
    mean_test, mean_reference, sd_test, sd_reference : float
        Per side (for a paired design, of the paired lots). ``sd_reference`` is
        NaN when the test was computed from summary statistics without it.
    difference : float
        ``mean_test - mean_reference`` (paired: the mean within-pair difference).
    sd_difference : float
        Paired designs only: SD of the within-pair differences (else NaN).
    se, df : float
        Standard error of the difference and its degrees of freedom.
    low, high : float
        The equivalence interval for the difference.
    margin_basis : str
        Where the interval came from ("1.5 x SD of the 6 reference lots", "given").
    alpha, confidence_level : float
        Level of each one-sided test, and ``1 - 2 alpha`` for the interval.
    ci_low, ci_high : float
        The ``1 - 2 alpha`` confidence interval for the difference.
    t_lower, pvalue_lower : float
        Test of H0: difference <= low.
    t_upper, pvalue_upper : float
        Test of H0: difference >= high.
    pvalue : float
        The larger of the two p-values (the TOST p-value).
    equivalent : bool
        True when both one-sided tests reject at ``alpha`` (the interval lies inside ``(low, high)``).
    reference : str
        The method's published source.
    """

    design: str
    scale: str
    variance: str
    df_method: str
    n_test: int
    n_reference: int
    mean_test: float
    mean_reference: float
    sd_test: float
    sd_reference: float
    difference: float
    sd_difference: float
    se: float
    df: float
    low: float
    high: float
    margin_basis: str
    alpha: float
    confidence_level: float
    ci_low: float
    ci_high: float
    t_lower: float
    pvalue_lower: float
    t_upper: float
    pvalue_upper: float
    pvalue: float
    equivalent: bool
    reference: str = _REFERENCE_TOST

    @property
    def confidence_interval(self) -> ConfidenceInterval:
        """``ConfidenceInterval(low, high)`` for the difference (analysis scale)."""
        return ConfidenceInterval(self.ci_low, self.ci_high)

    @property
    def ratio(self) -> float | None:
        """Log scale only: the ratio of geometric means test/reference."""
        return math.exp(self.difference) if self.scale == "log" else None

    @property
    def ratio_ci(self) -> ConfidenceInterval | None:
        """Log scale only: the confidence interval for the ratio."""
        return ConfidenceInterval(math.exp(self.ci_low), math.exp(self.ci_high)) if self.scale == "log" else None

    @property
    def ratio_bounds(self) -> ConfidenceInterval | None:
        """Log scale only: the equivalence interval as ratios."""
        return ConfidenceInterval(math.exp(self.low), math.exp(self.high)) if self.scale == "log" else None

    @property
    def verdict(self) -> str:
        """One sentence: equivalent or not, and why."""
        level = f"{self.confidence_level:.0%}"
        if self.equivalent:
            return f"Equivalent: the {level} confidence interval lies inside the equivalence interval."
        return (
            f"Equivalence not shown: the {level} confidence interval reaches outside the equivalence interval "
            f"(TOST p = {self.pvalue:.3g})."
        )

    def to_frame(self) -> pd.DataFrame:
        """The result as a one-row DataFrame (the field names, then ``ratio``, ``ratio_ci_low``, ``ratio_ci_high``)."""
        row = asdict(self)
        ratio_ci = self.ratio_ci
        row.update(ratio=self.ratio, ratio_ci_low=ratio_ci.low if ratio_ci else None,
                   ratio_ci_high=ratio_ci.high if ratio_ci else None)
        return pd.DataFrame([row], columns=list(row))


def _tost(
    difference: float, se: float, df: float, low: float, high: float, alpha: float
) -> dict[str, float | bool]:
    from scipy import special

    t_lower = (difference - low) / se
    t_upper = (difference - high) / se
    p_lower = float(special.stdtr(df, -t_lower))  # P(T >= t_lower)
    p_upper = float(special.stdtr(df, t_upper))  # P(T <= t_upper)
    t_crit = float(special.stdtrit(df, 1.0 - alpha))
    ci_low, ci_high = difference - t_crit * se, difference + t_crit * se
    return dict(
        t_lower=float(t_lower), pvalue_lower=p_lower, t_upper=float(t_upper), pvalue_upper=p_upper,
        pvalue=max(p_lower, p_upper), ci_low=float(ci_low), ci_high=float(ci_high),
        equivalent=bool(p_lower < alpha and p_upper < alpha),
    )


def _welch(sd_t: float, n_t: int, sd_r: float, n_r: int, welch_df: str) -> tuple[float, float, str]:
    vt, vr = sd_t * sd_t / n_t, sd_r * sd_r / n_r
    se = math.sqrt(vt + vr)
    df = (vt + vr) ** 2 / (vt * vt / (n_t - 1) + vr * vr / (n_r - 1))
    if welch_df == "floor":
        return se, float(math.floor(df)), "Welch-Satterthwaite, truncated to an integer (as Minitab)"
    return se, float(df), "Welch-Satterthwaite, unrounded (as statsmodels and R)"


def _pooled(sd_t: float, n_t: int, sd_r: float, n_r: int) -> tuple[float, float, str]:
    df = n_t + n_r - 2
    sp2 = ((n_t - 1) * sd_t * sd_t + (n_r - 1) * sd_r * sd_r) / df
    return math.sqrt(sp2 * (1.0 / n_t + 1.0 / n_r)), float(df), "n_test + n_reference - 2 (pooled variance)"


def equivalence_test_from_stats(
    mean_test: float,
    sd_test: float,
    n_test: int,
    mean_reference: float,
    sd_reference: float,
    n_reference: int,
    *,
    margin: float | None = None,
    bounds: tuple[float, float] | None = None,
    usevar: str = "unequal",
    welch_df: str = "satterthwaite",
    alpha: float = DEFAULT_ALPHA,
) -> EquivalenceResult:
    """TOST for two independent samples from summary statistics (analysis scale).

    Parameters
    ----------
    mean_test, sd_test, n_test : float, float, int
        Post-change (test) lots: mean, SD (``n - 1`` divisor), number of lots.
    mean_reference, sd_reference, n_reference : float, float, int
        Pre-change (reference) lots.
    margin : float, optional
        Symmetric equivalence interval ``(-margin, margin)`` for the difference.
    bounds : (float, float), optional
        An asymmetric interval ``(low, high)`` instead. One of the two is required.
    usevar : {"unequal", "pooled"}
        Welch (default) or pooled variance.
    welch_df : {"satterthwaite", "floor"}
        Welch degrees of freedom unrounded (default) or truncated (Minitab).
    alpha : float
        Level of each one-sided test; the interval is ``1 - 2 alpha``.

    Returns
    -------
    EquivalenceResult

    Raises
    ------
    cgtkit.errors.InsufficientDataError
        Fewer than 2 lots on a side, or no variability on either side.
    """
    alpha, usevar, welch_df = _check_alpha(alpha), _check_usevar(usevar), _check_welch_df(welch_df)
    n_t = check_n(n_test, what="the number of test (post-change) lots")
    n_r = check_n(n_reference, what="the number of reference (pre-change) lots")
    interval = _bounds_on_scale(bounds, margin, "normal")
    if interval is None:
        raise ValueError("Give margin or bounds=(low, high): summary statistics carry no margin of their own.")
    for name, value in (("sd_test", sd_test), ("sd_reference", sd_reference)):
        if not (math.isfinite(float(value)) and float(value) >= 0.0):
            raise ValueError(f"{name} must be a finite number >= 0; got {value!r}.")
    return _independent_result(
        float(mean_test), float(sd_test), n_t, float(mean_reference), float(sd_reference), n_r,
        interval, "given", usevar, welch_df, alpha, "normal",
    )


def _independent_result(
    m_t: float, s_t: float, n_t: int, m_r: float, s_r: float, n_r: int, interval: tuple[float, float],
    margin_basis: str, usevar: str, welch_df: str, alpha: float, scale: str,
) -> EquivalenceResult:
    if s_t == 0.0 and s_r == 0.0:
        raise InsufficientDataError(
            "The lots on both sides have identical results (no variability), so no equivalence test can be "
            "computed. Check the data (a constant attribute, or results copied across lots)."
        )
    if usevar == "unequal":
        se, df, df_method = _welch(s_t, n_t, s_r, n_r, welch_df)
    else:
        se, df, df_method = _pooled(s_t, n_t, s_r, n_r)
    low, high = interval
    tost = _tost(m_t - m_r, se, df, low, high, alpha)
    return EquivalenceResult(
        design="independent", scale=scale, variance="welch" if usevar == "unequal" else "pooled",
        df_method=df_method, n_test=n_t, n_reference=n_r, mean_test=m_t, mean_reference=m_r,
        sd_test=s_t, sd_reference=s_r, difference=m_t - m_r, sd_difference=float("nan"), se=se, df=df,
        low=low, high=high, margin_basis=margin_basis, alpha=alpha, confidence_level=1.0 - 2.0 * alpha,
        **tost,  # type: ignore[arg-type]
    )


def _values(values: object, what: str, scale: str) -> np.ndarray:
    x = as_finite_1d(values, what)
    return log_values(x) if scale == "log" else x


def _margin_basis(margin_sd: float, sd_r: float, n_r: int, scale: str) -> str:
    of = "the logs of the " if scale == "log" else "the "
    return f"{margin_sd:g} × SD of {of}{n_r} reference lots ({sd_r:.4g})"


def margin_from_reference_sd(
    reference: Sequence[float] | np.ndarray, margin_sd: float = DEFAULT_MARGIN_SD, *, scale: str = "normal"
) -> float:
    """The equivalence margin ``margin_sd * s_R`` from the reference (pre-change) lots, on the analysis scale.

    On the log scale the margin is in natural-log units (the ratio interval is
    ``exp(-margin)`` to ``exp(margin)``). See :data:`MARGIN_SD_RATIONALE` and
    :data:`MARGIN_SD_WEAKNESS` for why 1.5 and what estimating ``s_R`` costs.

    >>> round(margin_from_reference_sd([10.0, 12.0, 11.0, 13.0]), 3)
    1.936

    Raises
    ------
    cgtkit.errors.InsufficientDataError
        Fewer than 2 reference lots, or all reference results identical.
    """
    scale, k = check_scale(scale), _check_margin_sd(margin_sd)
    raw = as_finite_1d(reference, "reference (pre-change) values")
    check_n(raw.size, what="the number of reference (pre-change) lots")
    r = log_values(raw) if scale == "log" else raw
    if all_identical(raw):
        raise InsufficientDataError(
            f"All {raw.size} reference (pre-change) lots have the same result ({raw[0]:g}), so a margin "
            "cannot be set from their SD. Give the margin directly (from prior knowledge of the process)."
        )
    return float(k * np.std(r, ddof=1))


def equivalence_test(
    test: Sequence[float] | np.ndarray,
    reference: Sequence[float] | np.ndarray,
    *,
    margin: float | None = None,
    bounds: tuple[float, float] | None = None,
    margin_sd: float = DEFAULT_MARGIN_SD,
    scale: str = "normal",
    usevar: str = "unequal",
    welch_df: str = "satterthwaite",
    alpha: float = DEFAULT_ALPHA,
) -> EquivalenceResult:
    """TOST of the mean difference test - reference for two independent sets of lots.

    Parameters
    ----------
    test, reference : array_like of float
        Post-change (test) and pre-change (reference) results, one per lot, as
        reported (on the log scale they are log-transformed here).
    margin : float, optional
        Symmetric interval ``(-margin, margin)`` for the difference on the
        analysis scale (log scale: in natural-log units).
    bounds : (float, float), optional
        The interval as given by the user: a difference ``(low, high)``, or on
        the log scale a ratio ``(low, high)`` test/reference such as ``(0.8, 1.25)``.
    margin_sd : float
        When neither ``margin`` nor ``bounds`` is given: the margin is
        ``margin_sd`` times the SD of the reference lots (1.5 by default).
    scale : {"normal", "log"}
    usevar : {"unequal", "pooled"}
        Welch (default) or pooled variances.
    welch_df : {"satterthwaite", "floor"}
        Welch degrees of freedom unrounded (default) or truncated (Minitab).
    alpha : float
        Level of each one-sided test (0.05: a 90 % interval).

    Returns
    -------
    EquivalenceResult

    Raises
    ------
    cgtkit.errors.InsufficientDataError
        Fewer than 2 lots on a side; a value that is not a finite number (or
        not positive on the log scale); no variability on either side; a
        constant reference when the margin is to come from its SD.

    Examples
    --------
    >>> r = equivalence_test([1.05, 0.97, 1.12, 1.0, 1.02], [1.0, 1.08, 0.95, 1.04, 0.99],
    ...                      bounds=(0.8, 1.25), scale="log")
    >>> r.equivalent, round(r.ratio, 2)
    (True, 1.02)
    """
    scale = check_scale(scale)
    alpha, usevar, welch_df = _check_alpha(alpha), _check_usevar(usevar), _check_welch_df(welch_df)
    t = _values(test, "test (post-change) values", scale)
    r = _values(reference, "reference (pre-change) values", scale)
    n_t = check_n(t.size, what="the number of test (post-change) lots")
    n_r = check_n(r.size, what="the number of reference (pre-change) lots")
    interval = _bounds_on_scale(bounds, margin, scale)
    s_r = 0.0 if all_identical(as_finite_1d(reference)) else float(np.std(r, ddof=1))
    s_t = 0.0 if all_identical(as_finite_1d(test)) else float(np.std(t, ddof=1))
    if interval is None:
        m = margin_from_reference_sd(reference, margin_sd, scale=scale)
        interval, basis = (-m, m), _margin_basis(_check_margin_sd(margin_sd), s_r, n_r, scale)
    else:
        basis = "given"
    return _independent_result(
        float(np.mean(t)), s_t, n_t, float(np.mean(r)), s_r, n_r, interval, basis,
        usevar, welch_df, alpha, scale,
    )


def paired_equivalence_test_from_stats(
    mean_difference: float,
    sd_difference: float,
    n_pairs: int,
    *,
    margin: float | None = None,
    bounds: tuple[float, float] | None = None,
    alpha: float = DEFAULT_ALPHA,
) -> EquivalenceResult:
    """Paired TOST from the mean and SD of the within-pair differences (test - reference), ``n_pairs - 1`` df.

    >>> r = paired_equivalence_test_from_stats(-0.11929, 0.42324, 14, margin=0.5)
    >>> r.df, round(r.t_lower, 4), r.equivalent
    (13.0, 3.3657, True)
    """
    alpha = _check_alpha(alpha)
    n = check_n(n_pairs, what="the number of pairs")
    interval = _bounds_on_scale(bounds, margin, "normal")
    if interval is None:
        raise ValueError("Give margin or bounds=(low, high): summary statistics carry no margin of their own.")
    if not (math.isfinite(float(sd_difference)) and float(sd_difference) >= 0.0):
        raise ValueError(f"sd_difference must be a finite number >= 0; got {sd_difference!r}.")
    nan = float("nan")
    return _paired_result(float(mean_difference), float(sd_difference), n, nan, nan, nan, nan,
                          interval, "given", alpha, "normal")


def _paired_result(
    d_mean: float, d_sd: float, n: int, m_t: float, s_t: float, m_r: float, s_r: float,
    interval: tuple[float, float], basis: str, alpha: float, scale: str,
) -> EquivalenceResult:
    se = d_sd / math.sqrt(n)
    if not se > 0.0:
        raise InsufficientDataError(
            f"The within-pair differences of all {n} pairs are identical, so no equivalence test can be "
            "computed. Check the data (results copied across lots?)."
        )
    low, high = interval
    tost = _tost(d_mean, se, n - 1.0, low, high, alpha)
    return EquivalenceResult(
        design="paired", scale=scale, variance="paired", df_method="n_pairs - 1 (paired differences)",
        n_test=n, n_reference=n, mean_test=m_t, mean_reference=m_r, sd_test=s_t, sd_reference=s_r,
        difference=d_mean, sd_difference=d_sd, se=se, df=n - 1.0, low=low, high=high, margin_basis=basis,
        alpha=alpha, confidence_level=1.0 - 2.0 * alpha, **tost,  # type: ignore[arg-type]
    )


def paired_equivalence_test(
    test: Sequence[float] | np.ndarray,
    reference: Sequence[float] | np.ndarray,
    *,
    margin: float | None = None,
    bounds: tuple[float, float] | None = None,
    margin_sd: float = DEFAULT_MARGIN_SD,
    scale: str = "normal",
    alpha: float = DEFAULT_ALPHA,
) -> EquivalenceResult:
    """TOST for a split-starting-material design: ``test[i]`` and ``reference[i]`` come from the same donor.

    The test is on the within-pair differences ``test[i] - reference[i]``
    (differences of logs on the log scale), with ``n_pairs - 1`` degrees of
    freedom, so the donor-to-donor variation common to both members of a pair
    drops out. Without ``margin`` or ``bounds`` the margin is ``margin_sd``
    times the SD of the reference lots (which includes the donor-to-donor
    variation: the lot-to-lot SD of the product).

    Raises
    ------
    cgtkit.errors.InsufficientDataError
        Different numbers of test and reference lots (unpaired lots), fewer
        than 2 pairs, identical differences, bad values.

    Examples
    --------
    >>> r = paired_equivalence_test([80.1, 91.0, 85.2, 88.0], [79.0, 90.2, 86.0, 86.9], margin=3.0)
    >>> r.design, r.df, r.equivalent
    ('paired', 3.0, True)
    """
    scale, alpha = check_scale(scale), _check_alpha(alpha)
    t = _values(test, "test (post-change) values", scale)
    r = _values(reference, "reference (pre-change) values", scale)
    if t.size != r.size:
        raise InsufficientDataError(
            f"A paired comparison needs one test lot per reference lot, but there are {t.size} test and "
            f"{r.size} reference values. Remove the unpaired lots or use the independent (unpaired) test."
        )
    n = check_n(t.size, what="the number of pairs")
    interval = _bounds_on_scale(bounds, margin, scale)
    s_r = float(np.std(r, ddof=1))
    if interval is None:
        m = margin_from_reference_sd(reference, margin_sd, scale=scale)
        interval, basis = (-m, m), _margin_basis(_check_margin_sd(margin_sd), s_r, n, scale)
    else:
        basis = "given"
    d = t - r
    return _paired_result(
        float(np.mean(d)), float(np.std(d, ddof=1)), n, float(np.mean(t)), float(np.std(t, ddof=1)),
        float(np.mean(r)), s_r, interval, basis, alpha, scale,
    )


# -- power ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _gl_nodes() -> tuple[np.ndarray, np.ndarray]:
    x, w = np.polynomial.legendre.leggauss(_GL_NODES)
    x.setflags(write=False)
    w.setflags(write=False)
    return x, w


def tost_power_se(
    true_difference: float | np.ndarray,
    low: float | np.ndarray,
    high: float | np.ndarray,
    se: float | np.ndarray,
    df: float | np.ndarray,
    alpha: float = DEFAULT_ALPHA,
) -> np.ndarray:
    """Exact power of TOST for a true difference, an interval, the true standard error and its df (vectorised).

    With ``U = s / sigma`` the estimated SD relative to the true one
    (``df * U^2 ~ chi-square(df)``) and ``t = t_{1-alpha, df}``, both tests
    reject when ``low + t se U < D < high - t se U``, so

    ``power = int_0^{u*} [Phi((high - delta)/se - t u) - Phi((low - delta)/se + t u)] f_U(u) du``

    with ``u* = (high - low) / (2 t se)``: Owen's Q representation (Owen 1965;
    Phillips 1990). It is evaluated by 64-point Gauss-Legendre quadrature on
    the part of ``(0, u*)`` that holds all but 1e-13 of the distribution of U
    (agrees with adaptive quadrature to better than 1e-9). ``se`` is the true
    standard error (sigma times the design factor, e.g.
    ``sigma * sqrt(1/n1 + 1/n2)``); all arguments broadcast.

    >>> round(float(tost_power_se(0.0, -1.5, 1.5, math.sqrt(2 / 3), 4)), 4)
    0.1532
    """
    from scipy import special

    alpha = _check_alpha(alpha)
    delta, lo_b, hi_b, s, nu = np.broadcast_arrays(
        *(np.asarray(a, dtype=float) for a in (true_difference, low, high, se, df))
    )
    if np.any(~(s > 0.0)) or np.any(~(nu > 0.0)):
        raise ValueError("se and df must be positive.")
    t = special.stdtrit(nu, 1.0 - alpha)
    u_star = (hi_b - lo_b) / (2.0 * t * s)
    # the part of U's distribution that matters: quantiles 1e-13 and 1 - 1e-13
    u_lo = np.sqrt(special.chdtri(nu, 1.0 - _TAIL) / nu)
    u_hi = np.sqrt(special.chdtri(nu, _TAIL) / nu)
    a = u_lo
    b = np.minimum(u_star, u_hi)
    ok = b > a
    x, w = _gl_nodes()
    half = np.where(ok, (b - a) / 2.0, 0.0)[..., None]
    mid = np.where(ok, (b + a) / 2.0, 1.0)[..., None]
    u = mid + half * x
    nu_ = nu[..., None]
    log_f = (math.log(2.0) + (nu_ / 2.0) * np.log(nu_ / 2.0) - special.gammaln(nu_ / 2.0)
             + (nu_ - 1.0) * np.log(u) - nu_ * u * u / 2.0)
    t_ = t[..., None]
    upper = special.ndtr((hi_b - delta)[..., None] / s[..., None] - t_ * u)
    lower = special.ndtr((lo_b - delta)[..., None] / s[..., None] + t_ * u)
    integrand = np.clip(upper - lower, 0.0, 1.0) * np.exp(log_f)
    power = np.sum(integrand * w, axis=-1) * half[..., 0]
    return np.clip(np.where(ok, power, 0.0), 0.0, 1.0)


def _as_n(n: object, what: str) -> np.ndarray:
    arr = np.asarray(n)
    if arr.dtype.kind not in "iuf" or np.any(arr != np.round(arr)):
        raise ValueError(f"{what} must be whole numbers; got {n!r}.")
    arr = arr.astype(float)
    if np.any(arr < 2):
        raise InsufficientDataError(f"{what} must be at least 2 (a standard deviation needs 2 lots); got {n!r}.")
    return arr


def tost_power(
    true_difference: float | np.ndarray,
    margin: float | np.ndarray,
    n_test: int | np.ndarray,
    n_reference: int | np.ndarray | None = None,
    *,
    sd: float | np.ndarray = 1.0,
    alpha: float = DEFAULT_ALPHA,
) -> np.ndarray:
    """Exact power of the pooled-variance TOST for two independent sets of lots (vectorised).

    Parameters
    ----------
    true_difference : float or array
        The true mean difference test - reference.
    margin : float or array
        The equivalence interval is ``(-margin, margin)``.
    n_test, n_reference : int or array
        Lots per side (``n_reference`` defaults to ``n_test``).
    sd : float or array
        The true lot-to-lot SD (the same on both sides). With ``sd=1`` the
        difference and the margin are in SD units (margin 1.5 = 1.5 sigma).
    alpha : float

    Returns
    -------
    numpy.ndarray
        Power, broadcast over the arguments. The Welch test's power at equal
        variances is slightly lower at very small n; :func:`simulate_tost_power`
        gives it.

    Examples
    --------
    >>> np.round(tost_power(0.0, 1.5, [3, 5, 10, 20]), 2)
    array([0.15, 0.42, 0.89, 1.  ])
    """
    n_t = _as_n(n_test, "n_test")
    n_r = n_t if n_reference is None else _as_n(n_reference, "n_reference")
    s = np.asarray(sd, dtype=float)
    m = np.asarray(margin, dtype=float)
    if np.any(~(s > 0.0)) or np.any(~(m > 0.0)):
        raise ValueError("sd and margin must be positive.")
    se = s * np.sqrt(1.0 / n_t + 1.0 / n_r)
    return tost_power_se(true_difference, -m, m, se, n_t + n_r - 2.0, alpha)


def paired_tost_power(
    true_difference: float | np.ndarray,
    margin: float | np.ndarray,
    n_pairs: int | np.ndarray,
    *,
    sd_difference: float | np.ndarray = 1.0,
    alpha: float = DEFAULT_ALPHA,
) -> np.ndarray:
    """Exact power of the paired TOST (``n_pairs - 1`` df) for a true SD of the within-pair differences.

    When each lot's result is donor effect + process effect + lot noise, the
    SD of a difference is ``sigma * sqrt(2 (1 - rho))`` with ``rho`` the share
    of the lot-to-lot variance due to the donor: pairing pays when ``rho > 1/2``.

    >>> round(float(paired_tost_power(0.0, 1.5, 3, sd_difference=math.sqrt(2 * (1 - 0.8)))), 2)
    0.71
    """
    n = _as_n(n_pairs, "n_pairs")
    s = np.asarray(sd_difference, dtype=float)
    m = np.asarray(margin, dtype=float)
    if np.any(~(s > 0.0)) or np.any(~(m > 0.0)):
        raise ValueError("sd_difference and margin must be positive.")
    return tost_power_se(true_difference, -m, m, s / np.sqrt(n), n - 1.0, alpha)


@dataclass(frozen=True)
class PowerGrid:
    """Power of TOST over lots per side x true differences x margins (all in SD units when ``sd=1``).

    ``power[i, j, k]`` is the power for ``n[i]`` lots per side (pairs for a
    paired design), ``true_differences[j]`` and ``margins[k]``.
    """

    design: str
    n: tuple[int, ...]
    true_differences: tuple[float, ...]
    margins: tuple[float, ...]
    sd: float
    alpha: float
    power: np.ndarray = field(repr=False)
    method: str = "exact (Owen's Q representation, Gauss-Legendre quadrature); pooled-variance or paired test"

    def to_frame(self) -> pd.DataFrame:
        """Tidy: one row per cell with columns ``design, n, true_difference, margin, sd, alpha, power``."""
        n, d, m = np.meshgrid(self.n, self.true_differences, self.margins, indexing="ij")
        return pd.DataFrame({
            "design": self.design, "n": n.ravel(), "true_difference": d.ravel(), "margin": m.ravel(),
            "sd": self.sd, "alpha": self.alpha, "power": self.power.ravel(),
        })


def power_grid(
    n: Sequence[int] | np.ndarray = tuple(range(2, 31)),
    true_differences: Sequence[float] = (0.0, 0.25, 0.5, 0.75, 1.0),
    margins: Sequence[float] = (1.0, 1.5, 2.0),
    *,
    design: str = "independent",
    sd: float = 1.0,
    alpha: float = DEFAULT_ALPHA,
) -> PowerGrid:
    """Power for every combination of lots per side, true difference and margin, in one vectorised call.

    For ``design="paired"``, ``n`` is the number of pairs and ``sd`` the SD of the within-pair differences.

    >>> g = power_grid([3, 10], [0.0], [1.5])
    >>> g.power.shape, round(float(g.power[0, 0, 0]), 2)
    ((2, 1, 1), 0.15)
    """
    if design not in ("independent", "paired"):
        raise ValueError(f"design must be 'independent' or 'paired'; got {design!r}.")
    n_arr = _as_n(np.asarray(n), "n")
    d_arr = np.asarray(true_differences, dtype=float)
    m_arr = np.asarray(margins, dtype=float)
    nn, dd, mm = n_arr[:, None, None], d_arr[None, :, None], m_arr[None, None, :]
    if design == "independent":
        p = tost_power(dd, mm, nn, sd=sd, alpha=alpha)
    else:
        p = paired_tost_power(dd, mm, nn, sd_difference=sd, alpha=alpha)
    p = np.broadcast_to(p, (n_arr.size, d_arr.size, m_arr.size)).copy()
    p.setflags(write=False)
    return PowerGrid(design=design, n=tuple(int(v) for v in n_arr), true_differences=tuple(float(v) for v in d_arr),
                     margins=tuple(float(v) for v in m_arr), sd=float(sd), alpha=float(alpha), power=p)


@dataclass(frozen=True)
class LotsNeeded:
    """The fewest lots that give a target power, or why none will.

    ``n_test`` and ``n_reference`` are the lots per side (pairs: both the
    number of pairs); ``None`` when the target cannot be reached within
    ``n_max`` (``reason`` says why).
    """

    design: str
    target_power: float
    true_difference: float
    margin: float
    sd: float
    alpha: float
    n_test: int | None
    n_reference: int | None
    power: float | None
    reason: str

    def to_frame(self) -> pd.DataFrame:
        """The result as a one-row DataFrame (columns are the field names)."""
        row = asdict(self)
        return pd.DataFrame([row], columns=list(row))


def lots_needed(
    target_power: float,
    true_difference: float,
    margin: float,
    *,
    sd: float = 1.0,
    design: str = "independent",
    n_reference: int | None = None,
    alpha: float = DEFAULT_ALPHA,
    n_max: int = 500,
) -> LotsNeeded:
    """The fewest lots per side (or test lots, for a fixed number of reference lots) for a target power.

    Parameters
    ----------
    target_power : float
        E.g. 0.8.
    true_difference, margin, sd : float
        As in :func:`tost_power` (for ``design="paired"``, ``sd`` is the SD of
        the within-pair differences).
    n_reference : int, optional
        Independent design: the number of reference lots already made; the
        answer is then the number of test lots needed. Default: equal numbers.
    n_max : int
        Search limit.

    Examples
    --------
    >>> r = lots_needed(0.8, 0.5, 1.5)
    >>> r.n_test, round(r.power, 3)
    (14, 0.824)
    >>> lots_needed(0.8, 0.0, 1.5, n_reference=4).n_test
    106
    >>> lots_needed(0.8, 1.5, 1.5).reason.startswith("No number of lots")
    True
    """
    if not (0.0 < float(target_power) < 1.0):
        raise ValueError(f"target_power must be between 0 and 1 (e.g. 0.8); got {target_power!r}.")
    if design not in ("independent", "paired"):
        raise ValueError(f"design must be 'independent' or 'paired'; got {design!r}.")
    alpha = _check_alpha(alpha)
    base = dict(design=design, target_power=float(target_power), true_difference=float(true_difference),
                margin=float(margin), sd=float(sd), alpha=alpha)
    if abs(true_difference) >= margin:
        return LotsNeeded(**base, n_test=None, n_reference=None, power=None,  # type: ignore[arg-type]
                          reason="No number of lots reaches the target: the true difference is at or outside the "
                                 "margin, where the test is built to fail (its power is at most alpha).")
    ns = np.arange(2, int(n_max) + 1)
    if design == "paired":
        if n_reference is not None:
            raise ValueError("n_reference applies to the independent design only.")
        p = paired_tost_power(true_difference, margin, ns, sd_difference=sd, alpha=alpha)
    else:
        p = tost_power(true_difference, margin, ns, ns if n_reference is None else n_reference, sd=sd, alpha=alpha)
    hit = np.flatnonzero(p >= target_power)
    if not hit.size:
        extra = (f" with {n_reference} reference lots: the reference side's own uncertainty caps the power"
                 if n_reference is not None else "")
        return LotsNeeded(**base, n_test=None, n_reference=n_reference, power=float(p[-1]),  # type: ignore[arg-type]
                          reason=f"No number of lots up to {n_max} reaches a power of {target_power:.0%}{extra}.")
    n_t = int(ns[hit[0]])
    n_r = n_t if (n_reference is None) else int(n_reference)
    what = "pairs" if design == "paired" else ("test lots" if n_reference is not None else "lots per side")
    return LotsNeeded(**base, n_test=n_t, n_reference=n_r, power=float(p[hit[0]]),  # type: ignore[arg-type]
                      reason=f"{n_t} {what} give a power of {float(p[hit[0]]):.0%} (target {target_power:.0%}).")


# -- simulation ----------------------------------------------------------------------


@dataclass(frozen=True)
class SimulatedPower:
    """Share of simulated studies in which TOST showed equivalence, with its Monte Carlo standard error."""

    power: float
    se: float
    n_sim: int
    seed: int
    design: str
    usevar: str
    margin_from_reference: bool

    def to_frame(self) -> pd.DataFrame:
        """The result as a one-row DataFrame (columns are the field names)."""
        row = asdict(self)
        return pd.DataFrame([row], columns=list(row))


def simulate_tost_power(
    true_difference: float,
    margin: float,
    n_test: int,
    n_reference: int | None = None,
    *,
    sd: float = 1.0,
    sd_test: float | None = None,
    design: str = "independent",
    usevar: str = "pooled",
    margin_from_reference: bool = False,
    alpha: float = DEFAULT_ALPHA,
    n_sim: int = 20_000,
    seed: int = DEFAULT_SEED,
) -> SimulatedPower:
    """Power of TOST by simulation (seeded, reproducible): a check of the exact power, and the cases it does not cover.

    Parameters
    ----------
    true_difference, margin, n_test, n_reference, sd :
        As in :func:`tost_power`. For ``design="paired"`` ``sd`` is the SD of
        the within-pair differences and ``n_test`` the number of pairs.
    sd_test : float, optional
        The true SD of the test lots when it differs from ``sd`` (independent design).
    usevar : {"pooled", "unequal"}
        The test simulated (Welch's has no exact power formula).
    margin_from_reference : bool
        When True the margin is ``margin * s_R`` with ``s_R`` each simulated
        study's *estimated* reference SD (``margin`` is then a multiple of the
        SD, e.g. 1.5): the procedure as practised, whose type I error at the
        nominal margin is not ``alpha``.
    n_sim, seed : int

    Examples
    --------
    >>> r = simulate_tost_power(0.0, 1.5, 3, n_sim=4000, seed=1)
    >>> abs(r.power - 0.153) < 3 * r.se
    True
    """
    from scipy import special

    alpha = _check_alpha(alpha)
    if design not in ("independent", "paired"):
        raise ValueError(f"design must be 'independent' or 'paired'; got {design!r}.")
    usevar = _check_usevar(usevar)
    rng = np.random.default_rng(seed)
    n_t = int(check_n(n_test, what="n_test"))
    if design == "paired":
        d = rng.normal(true_difference, sd, size=(n_sim, n_t))
        diff = d.mean(axis=1)
        se = d.std(axis=1, ddof=1) / math.sqrt(n_t)
        df = np.full(n_sim, n_t - 1.0)
        if margin_from_reference:
            raise ValueError("margin_from_reference needs the reference lots: use the independent design.")
        m = np.full(n_sim, float(margin))
    else:
        n_r = n_t if n_reference is None else int(check_n(n_reference, what="n_reference"))
        ref = rng.normal(0.0, sd, size=(n_sim, n_r))
        tst = rng.normal(true_difference, sd if sd_test is None else sd_test, size=(n_sim, n_t))
        v_t, v_r = tst.var(axis=1, ddof=1), ref.var(axis=1, ddof=1)
        diff = tst.mean(axis=1) - ref.mean(axis=1)
        if usevar == "pooled":
            df = np.full(n_sim, n_t + n_r - 2.0)
            se = np.sqrt(((n_t - 1) * v_t + (n_r - 1) * v_r) / df * (1.0 / n_t + 1.0 / n_r))
        else:
            a, b = v_t / n_t, v_r / n_r
            se = np.sqrt(a + b)
            df = (a + b) ** 2 / (a * a / (n_t - 1) + b * b / (n_r - 1))
        m = float(margin) * (np.sqrt(v_r) if margin_from_reference else 1.0) * np.ones(n_sim)
    t = special.stdtrit(df, 1.0 - alpha)
    passed = (diff - t * se > -m) & (diff + t * se < m)
    p = float(passed.mean())
    return SimulatedPower(power=p, se=math.sqrt(max(p * (1 - p), 1e-12) / n_sim), n_sim=int(n_sim), seed=int(seed),
                          design=design, usevar="paired" if design == "paired" else usevar,
                          margin_from_reference=bool(margin_from_reference))
