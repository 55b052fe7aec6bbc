"""A step change in the mean of lots in manufacture order, and isolated outliers around it.

The model is a single step: lot ``i`` (0-based) has mean ``mu_0`` before an
unknown change index ``tau`` and ``mu_0 + delta`` from ``tau`` on, with
independent normal errors of one unknown SD. :func:`step_change_test` is the
likelihood-ratio test of ``delta = 0``. With the SD unknown, the likelihood
ratio at a given ``tau`` is a monotone function of the pooled two-sample t
statistic comparing the lots before ``tau`` with the lots from ``tau`` on, so
the test rejects for large ``T = max over tau of |t_tau|`` and the maximising
``tau`` is the least-squares estimate of where the mean changed (Hawkins 1977;
Worsley 1979). Used on a finished series of lots this is the change-point
approach to a phase I (retrospective) analysis of individual observations that
Sullivan and Woodall (1996) recommend over Shewhart run rules for a step shift.

The null distribution of ``T`` does not depend on ``mu_0`` or the SD, only on
the number of lots and the positions allowed for ``tau``; it has no closed form,
so it is calibrated by simulation, once per number of lots, with a fixed seed
(:data:`NULL_SEED`; :data:`N_NULL` = 20,000 draws up to 100 lots, then
``2,000,000 / n`` but at least 4,000): the p-value is the share of null series
whose ``T`` reaches the observed one. Its Monte Carlo standard error is
``sqrt(p (1 - p) / draws)``: 0.0015 at p = 0.05 up to 100 lots, at most 0.0034
beyond.

:func:`studentized_residuals` gives, for the fitted one- or two-level mean, each
lot's externally studentized residual, which follows Student's t with
``n - p - 1`` degrees of freedom when the lot is not an outlier (``p`` the
number of fitted means); :func:`outlier_test` turns them into p-values adjusted
for the number of lots (Bonferroni), so the chance that an unchanged normal
series shows any outlier is at most the level.

References
----------
.. [1] Hawkins, D. M. (1977). Testing a sequence of observations for a shift in
   location. *Journal of the American Statistical Association* 72, 180-186.
.. [2] Worsley, K. J. (1979). On the likelihood ratio test for a shift in
   location of normal populations. *Journal of the American Statistical
   Association* 74, 365-367.
.. [3] Sullivan, J. H. and Woodall, W. H. (1996). A control chart for
   preliminary analysis of individual observations. *Journal of Quality
   Technology* 28, 265-278.
.. [4] Montgomery, D. C. (2019). *Introduction to Statistical Quality Control*,
   8th ed. Wiley (phase I and phase II use of control charts).
.. [5] Cook, R. D. and Weisberg, S. (1982). *Residuals and Influence in
   Regression*. Chapman and Hall (externally studentized residuals and the
   Bonferroni outlier test).

Examples
--------
>>> r = step_change_test([10.1, 9.8, 10.3, 10.0, 9.9, 10.2, 12.2, 11.9, 12.3, 12.0, 12.1])
>>> r.change_index, r.p_value < 0.01
(6, True)
"""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from cgtkit.errors import InsufficientDataError
from cgtkit.stats._checks import as_finite_1d

__all__ = [
    "MIN_SEGMENT",
    "N_NULL",
    "NULL_SEED",
    "OutlierResult",
    "StepChangeResult",
    "estimate_change_point",
    "outlier_test",
    "step_change_p_value",
    "step_change_scan",
    "step_change_test",
    "studentized_residuals",
]

#: Fewest lots on each side of a change the test considers: a "shift" of one or
#: two lots at either end cannot be told from outliers.
MIN_SEGMENT = 3
#: Simulated null series per number of lots (up to 100 lots; see ``_n_null``), and their seed.
N_NULL = 20_000
NULL_SEED = 20_260_515
_CHUNK = 4_000

_REFERENCE = (
    "Likelihood-ratio (maximum two-sample t) test for one step change in a normal mean, SD unknown: "
    "Hawkins (1977), JASA 72, 180-186; Worsley (1979), JASA 74, 365-367; phase I use: Sullivan & Woodall "
    "(1996), J. Qual. Technol. 28, 265-278. Null distribution calibrated by simulation "
    f"({N_NULL} series, seed {NULL_SEED})."
)


def _check_min_segment(min_segment: object) -> int:
    if isinstance(min_segment, bool) or not isinstance(min_segment, (int, np.integer)) or min_segment < 1:
        raise ValueError(f"min_segment must be a whole number of lots of at least 1; got {min_segment!r}.")
    return int(min_segment)


def step_change_scan(y: np.ndarray, min_segment: int = MIN_SEGMENT) -> tuple[np.ndarray, np.ndarray]:
    """Two-sample t statistics for every allowed change index, row by row.

    Parameters
    ----------
    y : ndarray, shape (r, n)
        ``r`` series of ``n`` lots each.
    min_segment : int
        Fewest lots on each side of the change.

    Returns
    -------
    positions : ndarray of int, shape (q,)
        The candidate change indices ``tau`` (0-based index of the first lot at
        the new level), ``min_segment .. n - min_segment``.
    t : ndarray, shape (r, q)
        Pooled two-sample t of the lots from ``tau`` on against the lots
        before it (positive: the later lots are higher). A series with no
        variability around the two means gives ``+-inf`` (or 0 when the means
        are equal too).
    """
    y = np.asarray(y, dtype=float)
    if y.ndim != 2:
        raise ValueError("y must be a 2-D array: one row per series.")
    n = y.shape[1]
    positions = np.arange(min_segment, n - min_segment + 1)
    if positions.size == 0 or n < 3:
        return positions, np.zeros((y.shape[0], 0))
    yc = y - y.mean(axis=1, keepdims=True)  # centred: no cancellation in the sums of squares
    cs = np.cumsum(yc, axis=1)
    n1 = positions.astype(float)
    n2 = n - n1
    s1 = cs[:, positions - 1]
    s2 = cs[:, -1:] - s1
    diff = s2 / n2 - s1 / n1
    sse = np.sum(yc * yc, axis=1, keepdims=True) - s1 * s1 / n1 - s2 * s2 / n2
    scale = np.sqrt(np.maximum(sse, 0.0) / (n - 2) * (1.0 / n1 + 1.0 / n2))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = diff / scale
    t = np.where(np.isnan(t), 0.0, t)
    return positions, t


def _max_t(y: np.ndarray, min_segment: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: the statistic max |t|, the change index where it is reached, and the signed t there.

    Centred, the lots from ``tau`` on sum to ``-S`` with ``S`` the sum before ``tau``, so the
    between-level sum of squares is ``B = S^2 n / (tau (n - tau))`` and
    ``t^2 = (n - 2) B / (SS - B)``, ``SS`` the total sum of squares: ``|t|`` is largest where ``B``
    is, and one pass over the cumulative sums finds it (the same numbers as :func:`step_change_scan`).
    """
    r, n = y.shape
    positions = np.arange(min_segment, n - min_segment + 1)
    yc = y - y.mean(axis=1, keepdims=True)
    s1 = np.cumsum(yc, axis=1)[:, min_segment - 1 : n - min_segment]  # sums before each position
    between = np.square(s1)
    between *= n / (positions * (n - positions))
    at = np.argmax(between, axis=1)
    rows = np.arange(r)
    b = between[rows, at]
    ss = np.sum(yc * yc, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.sqrt((n - 2) * b / (ss - b))
    t = np.where(ss > 0, np.where(np.isnan(t), np.inf, t), 0.0)
    signed = -np.sign(s1[rows, at]) * t
    return t, positions[at], signed


def _n_null(n: int) -> int:
    """Null series simulated for ``n`` lots: :data:`N_NULL` up to 100 lots, fewer (at least 4,000)
    beyond, so that the one-off calibration stays about a tenth of a second."""
    return int(min(N_NULL, max(4_000, 2_000_000 // n)))


@functools.lru_cache(maxsize=64)
def _null_statistics(n: int, min_segment: int) -> np.ndarray:
    """Sorted null draws of ``max |t|`` for ``n`` lots of an unchanged normal process."""
    rng = np.random.default_rng(NULL_SEED)
    out = []
    remaining = _n_null(n)
    while remaining > 0:
        size = min(_CHUNK, remaining)
        out.append(_max_t(rng.standard_normal((size, n)), min_segment)[0])
        remaining -= size
    null = np.sort(np.concatenate(out))
    null.setflags(write=False)
    return null


def step_change_p_value(statistic: float | np.ndarray, n: int, min_segment: int = MIN_SEGMENT) -> np.ndarray:
    """P-value of ``max |t|`` for ``n`` lots: the share of simulated unchanged series reaching it.

    ``(1 + #{null >= statistic}) / (draws + 1)``, so never 0; vectorised over ``statistic``.

    >>> float(step_change_p_value(0.0, 20)), float(step_change_p_value(50.0, 20)) < 1e-4
    (1.0, True)
    """
    null = _null_statistics(int(n), _check_min_segment(min_segment))
    stat = np.asarray(statistic, dtype=float)
    reach = null.size - np.searchsorted(null, stat, side="left")
    return (1.0 + reach) / (null.size + 1.0)


@dataclass(frozen=True)
class StepChangeResult:
    """The likelihood-ratio test for one step change in the mean, and the fitted step.

    Attributes
    ----------
    n : int
        Number of lots.
    statistic : float
        ``max |t|`` over the allowed change indices.
    p_value : float
        Simulation-calibrated p-value (see the module notes).
    change_index : int
        0-based index of the first lot at the new level (the least-squares estimate).
    mean_before, mean_after : float
        Means of the lots before and from the change.
    shift : float
        ``mean_after - mean_before``.
    sd : float
        Pooled SD around the two means (``n - 2`` degrees of freedom).
    shift_sd : float
        ``shift / sd``.
    min_segment : int
        Fewest lots allowed on each side of the change.
    n_null : int
        Number of simulated null series behind the p-value.
    reference : str
        Literature reference.
    """

    n: int
    statistic: float
    p_value: float
    change_index: int
    mean_before: float
    mean_after: float
    shift: float
    sd: float
    shift_sd: float
    min_segment: int
    n_null: int
    reference: str

    def to_frame(self) -> pd.DataFrame:
        """The result as a one-row DataFrame (columns are the field names)."""
        row = asdict(self)
        return pd.DataFrame([row], columns=list(row))


def step_change_test(values: Sequence[float] | np.ndarray, min_segment: int = MIN_SEGMENT) -> StepChangeResult:
    """Test a series of lots for one step change in the mean (likelihood ratio, SD unknown).

    Parameters
    ----------
    values : array_like of float
        One result per lot, in manufacture order (on the analysis scale:
        logs for a log-normal attribute).
    min_segment : int, default 3
        Fewest lots on each side of the change.

    Returns
    -------
    StepChangeResult

    Raises
    ------
    cgtkit.errors.InsufficientDataError
        Fewer than ``2 * min_segment`` lots (and at least 3), non-finite values,
        or all values equal.
    ValueError
        ``min_segment`` not a whole number of at least 1.

    Notes
    -----
    ``t_tau = (mean(y[tau:]) - mean(y[:tau])) / (s_p sqrt(1/tau + 1/(n - tau)))``
    with ``s_p`` pooled around the two means; the likelihood ratio at ``tau`` is
    ``(1 + t_tau^2 / (n - 2))^(n/2)``, so maximising it over ``tau`` maximises
    ``|t_tau|`` (Worsley 1979). Several shifts, a drift or a change in the SD are
    outside the model: a drift is usually found as a step near its middle.
    """
    min_segment = _check_min_segment(min_segment)
    y = as_finite_1d(values)
    n = y.size
    if n < max(2 * min_segment, 3):
        raise InsufficientDataError(
            f"The shift test needs at least {max(2 * min_segment, 3)} lots ({min_segment} on each side of a "
            f"change); got {n}."
        )
    if np.all(y == y[0]):
        raise InsufficientDataError(
            f"All {n} values are identical: there is no variability against which to judge a shift."
        )
    stat, idx, _signed = _max_t(y[None, :], min_segment)
    tau = int(idx[0])
    before, after = float(y[:tau].mean()), float(y[tau:].mean())
    sse = float(np.sum((y[:tau] - before) ** 2) + np.sum((y[tau:] - after) ** 2))
    sd = math.sqrt(sse / (n - 2))
    shift = after - before
    return StepChangeResult(
        n=n,
        statistic=float(stat[0]),
        p_value=float(step_change_p_value(stat[0], n, min_segment)),
        change_index=tau,
        mean_before=before,
        mean_after=after,
        shift=shift,
        sd=sd,
        shift_sd=shift / sd if sd > 0 else math.copysign(math.inf, shift),
        min_segment=min_segment,
        n_null=_n_null(n),
        reference=_REFERENCE,
    )


def estimate_change_point(values: Sequence[float] | np.ndarray, min_segment: int = 2) -> int | None:
    """The least-squares change index of one step in the mean (no test), or None if too few lots.

    >>> estimate_change_point([1.0, 1.2, 0.9, 1.1, 3.0, 3.1, 2.9, 3.2])
    4
    """
    y = as_finite_1d(values)
    min_segment = _check_min_segment(min_segment)
    if y.size < max(2 * min_segment, 3) or np.all(y == y[0]):
        return None
    return int(_max_t(y[None, :], min_segment)[1][0])


def _fit_steps(y: np.ndarray, change_index: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per row: fitted means, residuals, leverages and the number of fitted means (1 or 2).

    ``change_index`` < 0 (or >= n) means no change: one mean.
    """
    r, n = y.shape
    idx = np.arange(n)
    has = (change_index >= 1) & (change_index < n)
    after = (idx[None, :] >= change_index[:, None]) & has[:, None]
    n_after = after.sum(axis=1)
    n_before = n - n_after
    with np.errstate(invalid="ignore", divide="ignore"):
        m_after = np.where(n_after > 0, np.sum(np.where(after, y, 0.0), axis=1) / np.maximum(n_after, 1), 0.0)
        m_before = np.sum(np.where(after, 0.0, y), axis=1) / n_before
    fitted = np.where(after, m_after[:, None], m_before[:, None])
    leverage = np.where(after, 1.0 / np.maximum(n_after, 1)[:, None], 1.0 / n_before[:, None])
    return fitted, y - fitted, leverage, 1 + has.astype(int)


def studentized_residuals(
    values: Sequence[float] | np.ndarray, change_index: int | None | np.ndarray = None
) -> tuple[np.ndarray, np.ndarray]:
    """Externally studentized residuals around one mean, or two means split at ``change_index``.

    Parameters
    ----------
    values : array_like, shape (n,) or (r, n)
        One series, or one per row.
    change_index : int or None, or array of int (one per row; < 0 for none)
        First lot of the second level; None (or < 0) fits one mean.

    Returns
    -------
    residuals : ndarray, same shape as ``values``
        ``e_i / (s_(i) sqrt(1 - h_i))``, ``s_(i)`` the SD with lot ``i`` left
        out, ``h_i = 1 / (lots at its level)``.
    df : ndarray of int, one per row (a 0-d array for one series)
        Degrees of freedom of each residual's t distribution, ``n - p - 1``.
    """
    y = np.asarray(values, dtype=float)
    one = y.ndim == 1
    y2 = y[None, :] if one else y
    if change_index is None:
        ci = np.full(y2.shape[0], -1)
    else:
        ci = np.broadcast_to(np.asarray(change_index, dtype=int), (y2.shape[0],))
    _fitted, e, h, p = _fit_steps(y2, ci)
    n = y2.shape[1]
    df = n - p - 1
    sse = np.sum(e * e, axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        s2 = (sse - e * e / (1.0 - h)) / df[:, None]
        r = e / np.sqrt(np.maximum(s2, 0.0) * (1.0 - h))
    r = np.where(np.isnan(r), 0.0, r)
    return (r[0], df[0]) if one else (r, df)


@dataclass(frozen=True)
class OutlierResult:
    """Lots that are outliers around the fitted mean(s), by externally studentized residuals.

    Attributes
    ----------
    residuals : ndarray
        Externally studentized residual of each lot.
    p_adjusted : ndarray
        Two-sided p-value of each residual (Student's t, ``df``) times the
        number of lots, capped at 1 (Bonferroni).
    df : int
        Degrees of freedom of the residuals.
    level : float
        The level the adjusted p-values are compared with.
    outliers : tuple of int
        0-based indices of the lots with ``p_adjusted <= level``.
    """

    residuals: np.ndarray
    p_adjusted: np.ndarray
    df: int
    level: float
    outliers: tuple[int, ...]


def outlier_p_adjusted(residuals: np.ndarray, df: np.ndarray | int, n: int) -> np.ndarray:
    """Bonferroni-adjusted two-sided p-values of studentized residuals (``n`` lots tested)."""
    from scipy import special

    r = np.asarray(residuals, dtype=float)
    d = np.asarray(df, dtype=float)
    if r.ndim == 2 and d.ndim == 1:
        d = d[:, None]
    p = 2.0 * special.stdtr(d, -np.abs(r))  # Student t survival function, as scipy.stats.t.sf
    return np.minimum(1.0, n * p)


def outlier_test(
    values: Sequence[float] | np.ndarray, change_index: int | None = None, level: float = 0.01
) -> OutlierResult:
    """Outlying lots around one mean (or a step at ``change_index``), Bonferroni over all lots.

    The chance that a series of an unchanged normal process shows any outlier
    is at most ``level``.

    >>> r = outlier_test([10.0, 10.2, 9.9, 10.1, 9.8, 10.0, 13.0, 10.1, 9.9, 10.2, 10.0, 9.9])
    >>> r.outliers
    (6,)
    """
    y = as_finite_1d(values)
    if not 0.0 < float(level) < 1.0:
        raise ValueError(f"level must be between 0 and 1; got {level!r}.")
    p = 1 if change_index is None or change_index < 0 else 2
    if y.size - p - 1 < 1:
        raise InsufficientDataError(f"The outlier test needs at least {p + 2} lots; got {y.size}.")
    r, df = studentized_residuals(y, change_index)
    adj = outlier_p_adjusted(r, df, y.size)
    return OutlierResult(
        residuals=r, p_adjusted=adj, df=int(df), level=float(level),
        outliers=tuple(int(i) for i in np.flatnonzero(adj <= level)),
    )
