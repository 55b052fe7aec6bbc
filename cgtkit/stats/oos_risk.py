"""Risk that future lots fall outside limits set from a few lots.

When acceptance limits are set as ``mean +/- k * sd`` from ``n`` lots, the
limits themselves are uncertain. This module answers two questions for a lot
made by the *same* normal process (no drift):

* what is the chance that the next single lot is out of specification
  (:func:`future_lot_oos_probability`, exact via the t distribution), and
* what is the chance that at least one of the next ``m`` lots is out of
  specification (:func:`prob_any_oos`),

and, for limits at the observed minimum and maximum instead, the same risk for
any continuous distribution (:func:`nonparametric_any_outside`).

The second is not ``1 - (1 - p)^m``: all future lots are judged against the
*same* estimated limits, so their outcomes are positively correlated (if the
limits came out narrow, many future lots are at risk together). It is computed
by integrating over the sampling distribution of the mean and standard
deviation of the ``n`` lots.

References
----------
.. [1] Hahn, G. J. (1970). Statistical intervals for a normal population.
   Part I: Tables, examples and applications. *Journal of Quality
   Technology*, 2(3), 115-125.
.. [2] Meeker, W. Q., Hahn, G. J., & Escobar, L. A. (2017). *Statistical
   Intervals: A Guide for Practitioners and Researchers*, 2nd ed. Wiley.
   (Prediction intervals to contain all of m future observations.)
"""

from __future__ import annotations

import functools
import math
import numbers
from dataclasses import asdict, dataclass
from typing import Iterable

import numpy as np
import pandas as pd
from scipy import special

from cgtkit.stats._checks import check_k, check_m, check_n, check_sided

__all__ = [
    "OosRiskResult",
    "outside_probability_grid",
    "future_lot_oos_probability",
    "future_lot_oos_probability_limits",
    "nonparametric_any_outside",
    "oos_risk_table",
    "prob_any_oos",
    "prob_any_oos_limits",
]

#: Quadrature resolution: trapezoid nodes in log(chi-square) x Gauss-Hermite
#: nodes in the standardised mean. The coarse grid (half of each) is used only
#: for the error estimate.
_N_LOG_CHI2 = 512
_N_HERMITE = 96
_N_LOG_CHI2_COARSE = 256
_N_HERMITE_COARSE = 64
#: Tail probability at which the chi-square range is truncated (the remaining
#: mass is renormalised away; its effect is below 1e-15).
_CHI2_TAIL = 1e-16

_REFERENCE = (
    "Future-lot risk for limits mean +/- k*SD estimated from n lots of a normal process: "
    "Hahn (1970), J. Qual. Technol. 2, 115-125; Meeker, Hahn & Escobar (2017), "
    "Statistical Intervals."
)


def nonparametric_any_outside(n: int, m: int, sided: int = 2) -> float:
    """P(at least one of ``m`` future lots falls outside the min/max of ``n`` past lots).

    Distribution-free: by exchangeability of the n + m lots, all m fall inside
    the observed range exactly when the smallest and largest of all n + m come
    from the first n, probability n(n-1) / ((n+m)(n+m-1)); one-sided (only the
    maximum, or only the minimum), n/(n+m) (Hahn and Meeker 1991, ch. 5). For
    m = 1 this is 2/(n+1) and 1/(n+1).

    Examples
    --------
    >>> round(nonparametric_any_outside(10, 1), 4), round(nonparametric_any_outside(10, 1, sided=1), 4)
    (0.1818, 0.0909)
    """
    n = check_n(n)
    m = check_m(m)
    sided = check_sided(sided)
    inside = n * (n - 1) / ((n + m) * (n + m - 1)) if sided == 2 else n / (n + m)
    return 1.0 - inside


def future_lot_oos_probability(n: int, k: float, sided: int = 2) -> float:
    """Probability that the next lot falls outside limits ``mean +/- k * sd`` from ``n`` lots.

    Parameters
    ----------
    n : int
        Number of lots used to set the limits (at least 2).
    k : float
        Multiplier of the standard deviation (> 0), e.g. a tolerance factor.
    sided : {1, 2}, default 2
        ``2``: limits on both sides; ``1``: a single limit ``mean + k sd``
        (or, by symmetry, ``mean - k sd``).

    Returns
    -------
    float
        The unconditional probability (averaged over the uncertainty of the
        limits) that one new lot of the same normal process is out of limits.

    Raises
    ------
    cgtkit.errors.InsufficientDataError
        If ``n < 2``.
    ValueError
        If ``k <= 0`` or ``sided`` is not 1 or 2.

    Notes
    -----
    ``(X_new - xbar) / (s sqrt(1 + 1/n))`` follows Student's t with ``n - 1``
    degrees of freedom, so the probability is
    ``2 * t.sf(k / sqrt(1 + 1/n), n - 1)`` (two-sided) or ``t.sf(...)``
    (one-sided). It does not depend on the process mean or standard deviation.

    References
    ----------
    .. [1] Hahn, G. J. (1970). J. Qual. Technol. 2(3), 115-125.
    .. [2] Meeker, W. Q., Hahn, G. J., & Escobar, L. A. (2017). Statistical
       Intervals, 2nd ed. Wiley.

    Examples
    --------
    >>> round(future_lot_oos_probability(10, 3.0), 4)
    0.0188
    """
    n = check_n(n)
    k = check_k(k)
    sided = check_sided(sided)
    t_value = k / math.sqrt(1.0 + 1.0 / n)
    p_one = float(special.stdtr(n - 1, -t_value))  # Student t survival function, as scipy.stats.t.sf
    return 2.0 * p_one if sided == 2 else p_one


@dataclass(frozen=True)
class OosRiskResult:
    """Probability that at least one of ``m_future`` lots falls outside the limits.

    Attributes
    ----------
    probability : float
        P(at least one of the next ``m_future`` lots is outside
        ``mean +/- k * sd``), averaged over the uncertainty of the limits.
    std_error : float
        For ``method="integration"``: an estimate of the quadrature error
        (difference from a coarser grid; conservative). For
        ``method="simulation"``: the Monte Carlo standard error.
    n : int
        Number of lots the limits were set from.
    k : float
        Standard-deviation multiplier of the limits.
    m_future : int
        Number of future lots.
    sided : int
        1 or 2.
    method : str
        ``"integration"`` or ``"simulation"``.
    note : str
        Plain-words interpretation, including the comparison with the
        (incorrect) assumption that future lots are independent.
    reference : str
        Literature reference.
    """

    probability: float
    std_error: float
    n: int
    k: float
    m_future: int
    sided: int
    method: str
    note: str
    reference: str

    def to_frame(self) -> pd.DataFrame:
        """Return the result as a one-row tidy DataFrame.

        Returns
        -------
        pandas.DataFrame
            Columns are the field names.
        """
        row = asdict(self)
        return pd.DataFrame([row], columns=list(row))


@functools.lru_cache(maxsize=256)
def _grid(n: int, n_log_chi2: int, n_hermite: int) -> tuple[np.ndarray, ...]:
    """Nodes and weights for E over (xbar, s) of the standardised normal sample.

    Returns ``s`` (sample SD / sigma) with weights ``w_s`` and the
    standardised mean ``xbar`` (mean - mu) / sigma with weights ``w_x``.
    ``W = (n - 1) s^2 ~ chi2(n - 1)`` is integrated with the trapezoid rule in
    ``log W`` (exponentially convergent for this smooth, rapidly decaying
    integrand), ``xbar ~ N(0, 1/n)`` with Gauss-Hermite quadrature.
    """
    df = n - 1
    # chi-square quantiles and density from scipy.special (as scipy.stats.chi2 computes them)
    v_lo = math.log(2.0 * special.gammaincinv(df / 2.0, _CHI2_TAIL))
    v_hi = math.log(special.chdtri(df, _CHI2_TAIL))
    v = np.linspace(v_lo, v_hi, n_log_chi2)
    w_chi2 = np.exp(v)
    log_pdf = special.xlogy(df / 2.0 - 1.0, w_chi2) - w_chi2 / 2.0 - df / 2.0 * math.log(2.0) - special.gammaln(df / 2.0)
    w_s = np.exp(log_pdf) * w_chi2  # density of log W
    w_s /= w_s.sum()
    s = np.sqrt(w_chi2 / df)
    z, w_x = np.polynomial.hermite_e.hermegauss(n_hermite)
    w_x = w_x / math.sqrt(2.0 * math.pi)
    xbar = z / math.sqrt(n)
    out = (s, w_s, xbar, w_x)
    for a in out:
        a.setflags(write=False)
    return out


def outside_probability_grid(n: int, k: float, sided: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """P(one new lot outside mean +/- k SD) on the quadrature grid of (SD, mean) of ``n`` lots, with
    the grid's weights ``w_s`` (rows, SD) and ``w_x`` (columns, mean): ``w_s @ f(q) @ w_x`` is the
    expectation of ``f(q)`` over the lots the limits could have come from."""
    s, w_s, xbar, w_x = _grid(n, _N_LOG_CHI2, _N_HERMITE)
    return _prob_outside(xbar[None, :], s[:, None], k, sided), w_s, w_x


def _prob_outside(xbar: np.ndarray, s: np.ndarray, k: float, sided: int) -> np.ndarray:
    """P(one new standard-normal lot is outside xbar +/- k s), elementwise."""
    return _prob_outside_limits(xbar, s, k if sided == 2 else None, k)


def _prob_outside_limits(xbar: np.ndarray, s: np.ndarray, k_low: float | None, k_high: float | None) -> np.ndarray:
    """P(one new standard-normal lot is below xbar - k_low s or above xbar + k_high s); None: open side."""
    q = np.zeros(np.broadcast_shapes(np.shape(xbar), np.shape(s)))
    if k_high is not None:
        q = q + special.ndtr(-(xbar + k_high * s))
    if k_low is not None:
        q = q + special.ndtr(xbar - k_low * s)
    return np.minimum(q, 1.0)


def _any_of_m(q: np.ndarray, m: int) -> np.ndarray:
    """1 - (1 - q)^m computed without cancellation for small q."""
    with np.errstate(divide="ignore"):
        return -np.expm1(m * np.log1p(-q))


def _integrate(n: int, k: float, m: int, sided: int, n_log_chi2: int, n_hermite: int) -> float:
    return _integrate_limits(n, k if sided == 2 else None, k, m, n_log_chi2, n_hermite)


def _integrate_limits(
    n: int, k_low: float | None, k_high: float | None, m: int, n_log_chi2: int, n_hermite: int
) -> float:
    s, w_s, xbar, w_x = _grid(n, n_log_chi2, n_hermite)
    q = _prob_outside_limits(xbar[None, :], s[:, None], k_low, k_high)
    return float(w_s @ _any_of_m(q, m) @ w_x)


def _note(probability: float, n: int, k: float, m: int, sided: int) -> str:
    p1 = future_lot_oos_probability(n, k, sided)
    naive = -math.expm1(m * math.log1p(-p1))
    limits = "mean \u00b1 k\u00b7SD" if sided == 2 else "mean + k\u00b7SD"
    text = (
        f"If the limits are set at {limits} with k = {k:g} from {n} lots, the chance that at "
        f"least one of the next {m} lot(s) of the same (unchanged, normal) process falls "
        f"outside them is {probability:.1%}; for any single future lot it is {p1:.2%}."
    )
    if m > 1:
        text += (
            f" Treating the {m} lots as independent would give {naive:.1%}; the real risk is "
            f"different because all lots are judged against the same estimated limits."
        )
    return text


def prob_any_oos(
    n: int,
    k: float,
    m_future: int,
    sided: int = 2,
    method: str = "integration",
    n_sim: int = 200_000,
    seed: int | None = None,
) -> OosRiskResult:
    """Probability that at least one of the next ``m_future`` lots is outside the limits.

    Parameters
    ----------
    n : int
        Number of lots used to set the limits (at least 2).
    k : float
        The limits are ``mean +/- k * sd`` (``sided=2``) or ``mean + k * sd``
        (``sided=1``); ``k > 0``.
    m_future : int
        Number of future lots (at least 1).
    sided : {1, 2}, default 2
        Two limits or one.
    method : {"integration", "simulation"}, default "integration"
        ``"integration"``: deterministic 2-D quadrature over the sampling
        distribution of the mean and SD (trapezoid rule in the log of the
        chi-square variable times Gauss-Hermite in the mean; 512 x 96 nodes,
        a few milliseconds). ``"simulation"``: vectorised Monte Carlo with
        ``n_sim`` draws of (mean, SD) from their exact sampling distributions,
        averaging the exact conditional probability ``1 - (1 - q)^m``.
    n_sim : int, default 200000
        Number of Monte Carlo draws (``method="simulation"`` only).
    seed : int, optional
        Seed for :func:`numpy.random.default_rng` (``method="simulation"``).

    Returns
    -------
    OosRiskResult
        Probability, its numerical/Monte Carlo error and a plain-words note.

    Raises
    ------
    cgtkit.errors.InsufficientDataError
        If ``n < 2``.
    ValueError
        If ``k <= 0``, ``m_future < 1``, ``n_sim < 1000`` or a setting is not
        recognised.

    Notes
    -----
    With the process standardised to mean 0 and SD 1, ``xbar ~ N(0, 1/n)`` and
    ``(n - 1) s^2 ~ chi2(n - 1)`` independently, and given the limits the
    future lots are independent, so

    ``P(all m inside | xbar, s) = [Phi(xbar + k s) - Phi(xbar - k s)]^m``

    and the answer is ``1 - E[...]`` over ``(xbar, s)``. The integration uses
    the same nodes for every ``m`` with positive weights, so the result is
    non-decreasing in ``m``; at ``m = 1`` it equals
    :func:`future_lot_oos_probability` to about 1e-12.

    References
    ----------
    .. [1] Hahn, G. J. (1970). J. Qual. Technol. 2(3), 115-125.
    .. [2] Meeker, W. Q., Hahn, G. J., & Escobar, L. A. (2017). Statistical
       Intervals, 2nd ed. Wiley.

    Examples
    --------
    >>> r = prob_any_oos(10, 3.0, 100)
    >>> round(r.probability, 3)
    0.474
    """
    n = check_n(n)
    k = check_k(k)
    m = check_m(m_future)
    sided = check_sided(sided)
    if not isinstance(method, str) or method.lower() not in ("integration", "simulation"):
        raise ValueError(
            f"method must be 'integration' or 'simulation'; got {method!r}."
        )
    method = method.lower()

    if method == "integration":
        fine = _integrate(n, k, m, sided, _N_LOG_CHI2, _N_HERMITE)
        coarse = _integrate(n, k, m, sided, _N_LOG_CHI2_COARSE, _N_HERMITE_COARSE)
        probability = min(max(fine, 0.0), 1.0)
        std_error = abs(fine - coarse)
    else:
        if isinstance(n_sim, bool) or not isinstance(n_sim, numbers.Integral) or n_sim < 1000:
            raise ValueError(
                f"n_sim (number of simulated data sets) must be a whole number of at least "
                f"1000; got {n_sim!r}."
            )
        rng = np.random.default_rng(seed)
        total = 0.0
        total_sq = 0.0
        remaining = int(n_sim)
        chunk = 1_000_000
        while remaining > 0:
            size = min(chunk, remaining)
            xbar = rng.standard_normal(size) / math.sqrt(n)
            s = np.sqrt(rng.chisquare(n - 1, size) / (n - 1))
            values = _any_of_m(_prob_outside(xbar, s, k, sided), m)
            total += float(values.sum())
            total_sq += float(np.dot(values, values))
            remaining -= size
        probability = total / n_sim
        variance = max(total_sq / n_sim - probability**2, 0.0) * n_sim / (n_sim - 1)
        std_error = math.sqrt(variance / n_sim)

    return OosRiskResult(
        probability=float(probability),
        std_error=float(std_error),
        n=n,
        k=k,
        m_future=m,
        sided=sided,
        method=method,
        note=_note(probability, n, k, m, sided),
        reference=_REFERENCE,
    )


def _check_limits_k(k_low: object, k_high: object) -> tuple[float | None, float | None]:
    out = []
    for name, k in (("k_low", k_low), ("k_high", k_high)):
        if k is None:
            out.append(None)
            continue
        if isinstance(k, bool) or not isinstance(k, numbers.Real) or not math.isfinite(float(k)):
            raise ValueError(
                f"{name} (SDs from the mean to the limit) must be a finite number, or None for an open side; "
                f"got {k!r}."
            )
        out.append(float(k))
    lo, hi = out
    if lo is None and hi is None:
        raise ValueError("Give k_low, k_high or both: limits need at least one side.")
    if lo is not None and hi is not None and lo + hi <= 0.0:
        raise ValueError(f"The lower limit must lie below the upper one (k_low + k_high > 0); got {lo} and {hi}.")
    return lo, hi


def future_lot_oos_probability_limits(n: int, k_low: float | None, k_high: float | None) -> float:
    """Probability that the next lot falls outside limits ``mean - k_low sd`` / ``mean + k_high sd``.

    Like :func:`future_lot_oos_probability` for limits that are not the same
    number of SDs from the mean on both sides (a limit moved to a physical
    bound, say); ``None`` is an open side. Exact via Student's t:
    ``t.cdf(-k_low / sqrt(1 + 1/n)) + t.cdf(-k_high / sqrt(1 + 1/n))``.

    Examples
    --------
    >>> future_lot_oos_probability_limits(10, 3.0, 3.0) == future_lot_oos_probability(10, 3.0)
    True
    >>> round(future_lot_oos_probability_limits(10, None, 3.0), 4)
    0.0094
    """
    n = check_n(n)
    lo, hi = _check_limits_k(k_low, k_high)
    scale = 1.0 / math.sqrt(1.0 + 1.0 / n)
    p = 0.0
    for k in (lo, hi):
        if k is not None:
            p += float(special.stdtr(n - 1, -k * scale))
    return min(p, 1.0)


def prob_any_oos_limits(n: int, m_future: int, *, k_low: float | None, k_high: float | None) -> float:
    """Probability that at least one of ``m_future`` lots falls outside ``mean - k_low sd`` / ``mean + k_high sd``.

    :func:`prob_any_oos` (integration) for limits that need not be symmetric;
    ``None`` is an open side. Averaged over the sampling distribution of the
    mean and SD of the ``n`` lots, for an unchanged normal process: the
    procedure's average risk, not the risk of one particular pair of limits.

    Examples
    --------
    >>> abs(prob_any_oos_limits(10, 100, k_low=3.0, k_high=3.0) - prob_any_oos(10, 3.0, 100).probability) < 1e-12
    True
    """
    n = check_n(n)
    m = check_m(m_future)
    lo, hi = _check_limits_k(k_low, k_high)
    return min(max(_integrate_limits(n, lo, hi, m, _N_LOG_CHI2, _N_HERMITE), 0.0), 1.0)


def oos_risk_table(
    n: int,
    k: float,
    m_values: Iterable[int] = (1, 10, 50, 100),
    sided: int = 2,
) -> pd.DataFrame:
    """Risk of at least one out-of-limit lot for several numbers of future lots.

    Parameters
    ----------
    n : int
        Number of lots used to set the limits (at least 2).
    k : float
        Standard-deviation multiplier of the limits (> 0).
    m_values : iterable of int, default (1, 10, 50, 100)
        Numbers of future lots.
    sided : {1, 2}, default 2
        Two limits or one.

    Returns
    -------
    pandas.DataFrame
        One row per ``m`` with columns ``n``, ``k``, ``sided``, ``m_future``,
        ``probability``, ``std_error``, ``probability_if_independent`` (the
        naive ``1 - (1 - p1)^m``, shown for contrast) and ``method``.

    References
    ----------
    .. [1] Meeker, W. Q., Hahn, G. J., & Escobar, L. A. (2017). Statistical
       Intervals, 2nd ed. Wiley.

    Examples
    --------
    >>> oos_risk_table(10, 3.0, m_values=(1, 10))["probability"].round(3).tolist()
    [0.019, 0.138]
    """
    ms = [check_m(m) for m in m_values]
    if not ms:
        raise ValueError("m_values must contain at least one number of future lots.")
    p1 = future_lot_oos_probability(n, k, sided)
    rows = []
    for m in ms:
        r = prob_any_oos(n, k, m, sided=sided)
        rows.append(
            {
                "n": r.n,
                "k": r.k,
                "sided": r.sided,
                "m_future": m,
                "probability": r.probability,
                "std_error": r.std_error,
                "probability_if_independent": -math.expm1(m * math.log1p(-p1)),
                "method": r.method,
            }
        )
    return pd.DataFrame(rows)
