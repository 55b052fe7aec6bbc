"""Shelf life from stability data by ICH Q1E: poolability of lots, then where the confidence bound meets the limit.

Clinical-lot stability data may support the expiry of commercial lots, and the
arithmetic ICH Q1E (Appendix B) prescribes is easy to get wrong under time
pressure. Three regression models describe how an attribute changes with time
across lots (names as in Q1E; LeBlond et al. and the R package expirest call
them cics, dics and dids):

``pooled``
    one line for all lots (common intercept, common slope);
``common_slope``
    one slope, an intercept per lot;
``separate``
    a line per lot.

The model is chosen by analysis of covariance at ``alpha = 0.25``: slopes are
tested first (lot-by-time interaction; the separate model when ``p < 0.25``),
then intercepts (lot effect; the common-slope model when ``p < 0.25``, else the
pooled one). Both F tests use the mean square error of the separate-slopes
model, with its residual degrees of freedom (as R's ``anova(dids, dics, cics)``,
JMP, and statsmodels' ``anova_lm(typ=2)`` of ``value ~ time * lot`` compute
them).

The shelf life is the earliest time at which the confidence bound on the
*mean* regression line meets the acceptance limit: the one-sided lower 95 %
bound against a lower limit for an attribute that falls (potency, viability),
the one-sided upper bound against an upper limit for one that rises
(aggregates, impurities), the two-sided 95 % interval when the direction of
change is unknown. When lots cannot be pooled, the lot whose bound meets the
limit first governs. The crossing is solved exactly (the squared bound
equation is a quadratic in time), not by a grid search. The separate model's
lines come from each lot's own regression (``separate_error="individual"``,
as JMP and expirest do), or from one fit with the pooled mean square error
(``"pooled"``, as in LeBlond et al.'s Tables IX and XII).

Time is a plain number in one unit per data set (``minutes``, ``hours``,
``days`` or ``months``: fresh cells live for hours, frozen products for
months); the unit is a label carried into the result, and
:func:`convert_time` converts (1 month = 365.25/12 days). Attributes that
decay exponentially (titers) are regressed on the natural logarithm
(``log_transform=True``); lines and bounds are then back-transformed, so the
line is the geometric mean (median) and the result says so.

A shelf life beyond the last time point is an extrapolation. Q1E limits it
(for example up to twice the period covered, but not more than 12 months
beyond it, for room-temperature storage with statistical analysis; none for
frozen storage): pass the allowance as ``max_extrapolation_factor`` and
``max_extrapolation_beyond`` (in the data's unit). An estimate past the
allowance is flagged. Those allowances are a Q1E convention for
small-molecule products; whether they carry over to a cell or gene therapy is
for discussion with FDA.

References
----------
.. [1] ICH Q1E (2003). *Evaluation for Stability Data*. Sections 2.3-2.5
   (extrapolation) and Appendix B (regression, poolability at 0.25,
   confidence bound on the mean).
.. [2] LeBlond, D., Griffith, D. and Aubuchon, K. (2011). Linear Regression
   102: Stability shelf life estimation using analysis of covariance.
   *Journal of Validation Technology* 17(3), 47-68 (Tables IV-XIV).
.. [3] SAS Institute Inc. (2015). *JMP 12 Reliability and Survival Methods*,
   Degradation, Stability Analysis (Stability.jmp example), pp. 174-176.
.. [4] Dahinden, P. R package expirest: Expiry Estimation Procedures
   (function ``expirest_osle``; data sets exp1-exp4 transcribe [2] and [3]).

Examples
--------
LeBlond et al. (2011), Table IV (batches 2, 5 and 7, potency in % of label
claim, lower limit 95 %): the lots pool, and the shelf life is 26.0 months.

>>> t = [0, 1, 3, 3, 6, 6, 12, 12, 24, 24]
>>> t = t + [0, 1, 2, 3, 3, 6, 6, 12, 12, 24, 24] + t
>>> y = [101.0, 101.3, 99.8, 99.2, 99.5, 97.8, 97.4, 97.2, 96.9, 96.0,
...      102.0, 101.4, 100.8, 100.2, 99.7, 98.8, 98.5, 98.0, 97.1, 96.6, 96.1,
...      101.3, 101.5, 100.2, 99.8, 99.0, 98.5, 98.5, 97.4, 96.6, 96.4]
>>> lots = ["b2"] * 10 + ["b5"] * 11 + ["b7"] * 10
>>> r = q1e_shelf_life(t, y, lots, lower_limit=95.0, max_extrapolation_factor=2.0, max_extrapolation_beyond=12.0)
>>> r.model, round(r.shelf_life, 1), r.governing_lot
('pooled', 26.0, None)
>>> r.poolability.to_frame()[["term", "pvalue", "used"]].round(3).to_dict("list")
{'term': ['slopes', 'intercepts'], 'pvalue': [0.797, 0.651], 'used': [True, True]}
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from cgtkit.errors import CgtkitError, InsufficientDataError
from cgtkit.stats._checks import as_finite_1d, check_probability

__all__ = [
    "MODELS",
    "SEPARATE_ERRORS",
    "TIME_UNITS",
    "MODEL_LABELS",
    "PoolabilityResult",
    "PoolabilityTest",
    "RegressionLine",
    "ShelfLifeResult",
    "check_time_unit",
    "convert_time",
    "q1e_poolability",
    "q1e_shelf_life",
]

#: The Q1E regression models, from the simplest to the most general.
MODELS: tuple[str, ...] = ("pooled", "common_slope", "separate")
MODEL_LABELS: dict[str, str] = {
    "pooled": "pooled (common intercept, common slope)",
    "common_slope": "common slope, an intercept per lot",
    "separate": "separate line per lot",
}
#: Where the separate model's lines and error come from.
SEPARATE_ERRORS: tuple[str, ...] = ("individual", "pooled")
#: The time units a data set may be in (one per data set).
TIME_UNITS: tuple[str, ...] = ("minutes", "hours", "days", "months")
_MINUTES_PER = {"minutes": 1.0, "hours": 60.0, "days": 1440.0, "months": 1440.0 * 365.25 / 12.0}
#: Q1E's significance level for poolability tests.
POOLING_ALPHA = 0.25
POOLED_LINE = "all lots"


def check_time_unit(unit: object) -> str:
    """One of :data:`TIME_UNITS` (a programming mistake otherwise).

    >>> check_time_unit("Hours")
    'hours'
    """
    if not isinstance(unit, str) or unit.strip().lower() not in TIME_UNITS:
        raise ValueError(f"time_unit must be one of {', '.join(TIME_UNITS)}; got {unit!r}.")
    return unit.strip().lower()


def convert_time(value: float, from_unit: str, to_unit: str) -> float:
    """A duration in another unit (1 month = 365.25/12 days, the mean Gregorian month).

    >>> convert_time(12, "months", "days"), convert_time(90, "minutes", "hours")
    (365.25, 1.5)
    """
    return float(value) * _MINUTES_PER[check_time_unit(from_unit)] / _MINUTES_PER[check_time_unit(to_unit)]


# -- inputs -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Data:
    time: np.ndarray
    y: np.ndarray  # analysis scale (log if log_transform)
    lot_index: np.ndarray  # 0..k-1 in order of first appearance
    lots: tuple[str, ...]

    @property
    def k(self) -> int:
        return len(self.lots)


def _prepare(
    time: Sequence[float] | np.ndarray,
    value: Sequence[float] | np.ndarray,
    lot: Sequence[object] | np.ndarray | None,
    *,
    log_transform: bool,
    time_unit: str,
) -> _Data:
    t = as_finite_1d(time, "time points")
    y = as_finite_1d(value, "stability results")
    if t.size != y.size:
        raise ValueError(f"time and value must have the same length; got {t.size} and {y.size}.")
    labels = np.array(["lot"] * t.size, dtype=object) if lot is None else np.asarray(lot, dtype=object)
    if labels.shape != (t.size,):
        raise ValueError(f"lot must give one label per result ({t.size}); got shape {labels.shape}.")
    labels = np.array([str(x) for x in labels], dtype=object)
    if t.size == 0:
        raise InsufficientDataError("There are no stability results. Load a stability data set with time points.")
    negative = np.flatnonzero(t < 0)
    if negative.size:
        i = int(negative[0])
        raise CgtkitError(
            f"Lot {labels[i]} has a negative time point ({t[i]:g} {time_unit}). Time points count from the start "
            "of the study (0) and cannot be negative; correct the time point."
        )
    lots = tuple(dict.fromkeys(labels.tolist()))
    index = np.array([lots.index(x) for x in labels], dtype=int)
    for j, name in enumerate(lots):
        tj = t[index == j]
        back = np.flatnonzero(np.diff(tj) < 0)
        if back.size:
            i = int(back[0])
            raise CgtkitError(
                f"The time points of lot {name} are not in order: {tj[i + 1]:g} {time_unit} follows "
                f"{tj[i]:g} {time_unit}. Give each lot's results in time order (sort them by time point), or "
                "correct a mistyped time point."
            )
        if np.unique(tj).size < 2:
            raise InsufficientDataError(
                f"Lot {name} has results at a single time point ({tj[0]:g} {time_unit}); a regression over time "
                "needs at least 2 time points per lot (3 or more to estimate its own error). Add the lot's later "
                "time points or leave the lot out."
            )
    if log_transform:
        bad = np.flatnonzero(~(y > 0))
        if bad.size:
            i = int(bad[0])
            raise CgtkitError(
                f"A log-transformed regression needs results greater than 0, but lot {labels[i]} has {y[i]:g} at "
                f"{t[i]:g} {time_unit}. Correct the result or regress on the original scale."
            )
        y = np.log(y)
    return _Data(time=t, y=y, lot_index=index, lots=lots)


def _designs(d: _Data) -> dict[str, np.ndarray]:
    """Design matrices of the three models (columns: lot dummies, then time terms)."""
    dummies = np.column_stack([(d.lot_index == j).astype(float) for j in range(d.k)])
    return {
        "pooled": np.column_stack([np.ones_like(d.time), d.time]),
        "common_slope": np.column_stack([dummies, d.time]),
        "separate": np.column_stack([dummies, dummies * d.time[:, None]]),
    }


def _ols(y: np.ndarray, x: np.ndarray):  # noqa: ANN202 - statsmodels results
    from statsmodels.regression.linear_model import OLS

    return OLS(y, x).fit()


# -- poolability ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PoolabilityTest:
    """One F test of the Q1E analysis of covariance.

    Attributes
    ----------
    term : {"slopes", "intercepts"}
        What is tested for equality across lots.
    f_value, pvalue : float
        The F statistic and its p-value (mean square error of the separate model).
    df_num, df_den : int
        Its degrees of freedom.
    alpha : float
        The significance level (Q1E: 0.25).
    rejected : bool
        ``pvalue < alpha``: the lots differ in this term.
    used : bool
        Whether the test entered the choice (the intercept test does not when slopes differ).
    """

    term: str
    f_value: float
    df_num: int
    df_den: int
    pvalue: float
    alpha: float
    rejected: bool
    used: bool

    @property
    def hypothesis(self) -> str:
        return f"all lots have the same {self.term[:-1]}"


@dataclass(frozen=True)
class PoolabilityResult:
    """The Q1E choice among the pooled, common-slope and separate models.

    Attributes
    ----------
    model : {"pooled", "common_slope", "separate"}
    alpha : float
    tests : tuple of PoolabilityTest
        Slopes first, then intercepts; empty for a single lot.
    n_lots, n_obs : int
    reason : str
        The choice in one sentence.
    """

    model: str
    alpha: float
    tests: tuple[PoolabilityTest, ...]
    n_lots: int
    n_obs: int
    reason: str

    def to_frame(self) -> pd.DataFrame:
        """The test table: one row per F test (``term``, ``hypothesis``, ``f_value``, ``df_num``, ``df_den``,
        ``pvalue``, ``alpha``, ``rejected``, ``used``)."""
        cols = ["term", "hypothesis", "f_value", "df_num", "df_den", "pvalue", "alpha", "rejected", "used"]
        return pd.DataFrame([{**asdict(t), "hypothesis": t.hypothesis} for t in self.tests], columns=cols)


def _p(pvalue: float) -> str:
    """A p-value in a sentence: three significant digits, or "p < 0.001" (never e-notation).

    >>> _p(0.09614), _p(1.6e-13)
    ('p = 0.0961', 'p < 0.001')
    """
    return "p < 0.001" if pvalue < 0.001 else f"p = {pvalue:.3g}"


def _poolability(d: _Data, alpha: float) -> tuple[PoolabilityResult, dict[str, object]]:
    x = _designs(d)
    n = d.time.size
    if d.k == 1:
        fits = {"pooled": _ols(d.y, x["pooled"])}
        return PoolabilityResult(
            model="pooled", alpha=alpha, tests=(), n_lots=1, n_obs=n,
            reason=f"One lot ({d.lots[0]}): nothing to pool; its own regression line is used.",
        ), fits
    df_full = n - 2 * d.k
    if df_full < 1:
        raise InsufficientDataError(
            f"{d.k} lots with {n} results leave no degrees of freedom for a separate line per lot (each line "
            "takes 2). The poolability test needs more results: add time points (or replicate results) to the "
            "lots."
        )
    from statsmodels.stats.anova import anova_lm

    fits = {name: _ols(d.y, x[name]) for name in MODELS}
    with np.errstate(invalid="ignore", divide="ignore"):
        table = anova_lm(fits["pooled"], fits["common_slope"], fits["separate"])
    from scipy import special

    # anova_lm scales every F by the separate model's mean square error, as Q1E, R and JMP do, but takes the
    # p-value of the intercept row on the common-slope model's residual df; both use the separate model's here
    # (as anova_lm(typ=2) of value ~ time * lot does).
    df_den = int(fits["separate"].df_resid)
    f_int, f_slope = float(table["F"].iloc[1]), float(table["F"].iloc[2])
    p_int, p_slope = (float(special.fdtrc(d.k - 1, df_den, f)) for f in (f_int, f_slope))
    if not (math.isfinite(p_slope) and math.isfinite(p_int)):  # a perfect fit: no error left to test against
        raise InsufficientDataError(
            "The separate lines fit the results exactly (no residual variation), so poolability cannot be "
            "tested. Check the data for copied values, or add results."
        )
    slopes_differ = p_slope < alpha
    intercepts_differ = p_int < alpha
    tests = (
        PoolabilityTest("slopes", f_slope, d.k - 1, df_den, p_slope, alpha, slopes_differ, True),
        PoolabilityTest("intercepts", f_int, d.k - 1, df_den, p_int, alpha, intercepts_differ, not slopes_differ),
    )
    if slopes_differ:
        model, reason = "separate", (
            f"The slopes differ between lots ({_p(p_slope)}, below {alpha:g}): a separate line per lot, and the "
            "lot that reaches the limit first governs."
        )
    elif intercepts_differ:
        model, reason = "common_slope", (
            f"The slopes do not differ ({_p(p_slope)}, not below {alpha:g}) but the intercepts do ({_p(p_int)}, "
            f"below {alpha:g}): a common slope with an intercept per lot; the lot that reaches the limit first governs."
        )
    else:
        model, reason = "pooled", (
            f"Neither the slopes ({_p(p_slope)}) nor the intercepts ({_p(p_int)}) differ at "
            f"alpha = {alpha:g}: the lots are pooled into one line."
        )
    return PoolabilityResult(model=model, alpha=alpha, tests=tests, n_lots=d.k, n_obs=n, reason=reason), fits


def q1e_poolability(
    time: Sequence[float] | np.ndarray,
    value: Sequence[float] | np.ndarray,
    lot: Sequence[object] | np.ndarray,
    *,
    alpha: float = POOLING_ALPHA,
    log_transform: bool = False,
    time_unit: str = "months",
) -> PoolabilityResult:
    """ICH Q1E analysis of covariance: may the lots be pooled?

    Parameters
    ----------
    time, value : array_like of float
        Time points (one unit, >= 0; each lot's in order) and results.
    lot : array_like
        The lot of each result.
    alpha : float
        Significance level of both tests (Q1E: 0.25).
    log_transform : bool
        Test on the natural logarithm of the results.
    time_unit : str
        One of :data:`TIME_UNITS`, for messages.

    Returns
    -------
    PoolabilityResult

    Raises
    ------
    cgtkit.errors.CgtkitError
        Negative or out-of-order time points, a lot with a single time point,
        too few results for the separate model.

    Examples
    --------
    JMP's Stability example (4 batches): slopes equal (F = 0.329), intercepts differ.

    >>> t = [0, 3, 3, 6, 6, 12, 12, 24, 24]
    >>> y = [102.0, 101.0, 101.0, 100.5, 100.8, 100.1, 99.0, 96.7, 97.2,
    ...      104.0, 103.2, 102.8, 103.3, 102.4, 101.2, 99.1, 99.5]
    >>> r = q1e_poolability(t + [0, 3, 6, 6, 12, 12, 24, 24], y, ["1"] * 9 + ["4"] * 8)
    >>> r.model
    'common_slope'
    """
    alpha = check_probability(alpha, "alpha")
    d = _prepare(time, value, lot, log_transform=bool(log_transform), time_unit=check_time_unit(time_unit))
    return _poolability(d, alpha)[0]


# -- shelf life -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegressionLine:
    """One regression line with its confidence bound(s) and where they meet the limits.

    On the analysis scale the mean is ``intercept + slope * t`` and its
    variance ``var_coeffs[0] + var_coeffs[1] * t + var_coeffs[2] * t**2``;
    the bound is the mean -/+ ``t_quantile`` times its standard error.
    :meth:`mean` and :meth:`bounds` return the original scale.

    Attributes
    ----------
    lot : str
        The lot, or ``"all lots"`` for the pooled line.
    intercept, slope : float
        On the analysis scale (natural log when ``log_transform``).
    var_coeffs : tuple of float
    df : int
        Residual degrees of freedom of the fit behind the line.
    t_quantile : float
    sides : tuple of str
        The bound(s) computed: ``("lower",)``, ``("upper",)`` or both.
    crossing : float
        Earliest time the bound meets a limit; ``inf`` when it never does, 0
        when it is outside the limit at time 0.
    crossing_side : str or None
        The limit met (``"lower"`` or ``"upper"``).
    n_obs : int
    last_time : float
        The lot's last time point (the pooled line: the last of all lots).
    log_transform : bool
    """

    lot: str
    intercept: float
    slope: float
    var_coeffs: tuple[float, float, float]
    df: int
    t_quantile: float
    sides: tuple[str, ...]
    crossing: float
    crossing_side: str | None
    n_obs: int
    last_time: float
    log_transform: bool

    def _back(self, z: np.ndarray) -> np.ndarray:
        return np.exp(z) if self.log_transform else z

    def mean(self, t: Sequence[float] | np.ndarray | float) -> np.ndarray:
        """The line at times ``t`` (original scale; the geometric mean when log-transformed)."""
        tt = np.asarray(t, dtype=float)
        return self._back(self.intercept + self.slope * tt)

    def standard_error(self, t: Sequence[float] | np.ndarray | float) -> np.ndarray:
        """Standard error of the mean line at ``t`` (analysis scale)."""
        tt = np.asarray(t, dtype=float)
        c0, c1, c2 = self.var_coeffs
        return np.sqrt(np.maximum(c0 + c1 * tt + c2 * tt * tt, 0.0))

    def bounds(self, t: Sequence[float] | np.ndarray | float) -> tuple[np.ndarray | None, np.ndarray | None]:
        """The lower and upper confidence bounds at ``t`` (original scale); ``None`` for a side not computed."""
        tt = np.asarray(t, dtype=float)
        centre = self.intercept + self.slope * tt
        half = self.t_quantile * self.standard_error(tt)
        low = self._back(centre - half) if "lower" in self.sides else None
        high = self._back(centre + half) if "upper" in self.sides else None
        return low, high


@dataclass(frozen=True)
class ShelfLifeResult:
    """A Q1E shelf-life estimate.

    Attributes
    ----------
    model : {"pooled", "common_slope", "separate"}
    model_chosen_by : {"poolability", "user"}
    poolability : PoolabilityResult
    lines : tuple of RegressionLine
        One (pooled) or one per lot.
    shelf_life : float
        The earliest crossing over the lines (``inf``: the bound never meets a limit).
    governing_lot : str or None
        The lot whose bound meets the limit first (``None`` for the pooled model).
    governing_side : str or None
        The limit met first (``"lower"``/``"upper"``).
    lower_limit, upper_limit : float or None
        The acceptance limits (original scale).
    sided : int
        1: one-sided bound; 2: two-sided interval.
    confidence_level : float
    log_transform : bool
    separate_error : {"individual", "pooled"}
    time_unit : str
    data_span : float
        The last time point of all lots (the period the data cover).
    allowed_shelf_life : float
        The longest shelf life the extrapolation allowance supports.
    extrapolated : bool
        The estimate lies beyond the last time point.
    beyond_allowance : bool
        The estimate lies beyond the allowance (flagged).
    supported_shelf_life : float
        ``min(shelf_life, allowed_shelf_life)``.
    notes : tuple of str
    """

    model: str
    model_chosen_by: str
    poolability: PoolabilityResult
    lines: tuple[RegressionLine, ...]
    shelf_life: float
    governing_lot: str | None
    governing_side: str | None
    lower_limit: float | None
    upper_limit: float | None
    sided: int
    confidence_level: float
    log_transform: bool
    separate_error: str
    time_unit: str
    data_span: float
    allowed_shelf_life: float
    extrapolated: bool
    beyond_allowance: bool
    supported_shelf_life: float
    notes: tuple[str, ...] = field(default=())

    @property
    def method(self) -> str:
        sides = "two-sided" if self.sided == 2 else "one-sided"
        scale = ", regression on the natural log (exponential decay)" if self.log_transform else ""
        return (f"ICH Q1E: {MODEL_LABELS[self.model]} model; {sides} {self.confidence_level:.0%} confidence bound "
                f"on the mean line{scale}")

    def line(self, lot: str) -> RegressionLine:
        """The line that describes ``lot`` (the pooled line for every lot when pooled)."""
        for ln in self.lines:
            if ln.lot == lot:
                return ln
        if self.model == "pooled":
            return self.lines[0]
        raise KeyError(f"No line for lot {lot!r}; lots: {', '.join(ln.lot for ln in self.lines)}.")

    def to_frame(self) -> pd.DataFrame:
        """One row per line: ``lot``, ``intercept``, ``slope`` (analysis scale), ``df``, ``n_obs``,
        ``last_time``, ``crossing``, ``crossing_side``, ``governing``."""
        rows = [
            {"lot": ln.lot, "intercept": ln.intercept, "slope": ln.slope, "df": ln.df, "n_obs": ln.n_obs,
             "last_time": ln.last_time, "crossing": ln.crossing, "crossing_side": ln.crossing_side,
             "governing": (ln.crossing == self.shelf_life and math.isfinite(ln.crossing)
                           and (self.governing_lot is None or ln.lot == self.governing_lot))}
            for ln in self.lines
        ]
        cols = ["lot", "intercept", "slope", "df", "n_obs", "last_time", "crossing", "crossing_side", "governing"]
        return pd.DataFrame(rows, columns=cols)

    def summary_frame(self) -> pd.DataFrame:
        """The estimate as one row (model, shelf life, governing lot, extrapolation flags, unit)."""
        row = {
            "model": self.model, "model_chosen_by": self.model_chosen_by, "shelf_life": self.shelf_life,
            "supported_shelf_life": self.supported_shelf_life, "time_unit": self.time_unit,
            "governing_lot": self.governing_lot, "governing_side": self.governing_side,
            "data_span": self.data_span, "allowed_shelf_life": self.allowed_shelf_life,
            "extrapolated": self.extrapolated, "beyond_allowance": self.beyond_allowance,
            "sided": self.sided, "confidence_level": self.confidence_level, "log_transform": self.log_transform,
            "lower_limit": self.lower_limit, "upper_limit": self.upper_limit,
        }
        return pd.DataFrame([row], columns=list(row))


def _first_crossing(
    a: float, b: float, c: tuple[float, float, float], q: float, limit: float, side: str
) -> float:
    """Earliest ``t >= 0`` where ``a + b t -/+ q sqrt(c0 + c1 t + c2 t^2)`` equals ``limit``.

    0 when the bound is already outside at ``t = 0``; ``inf`` when it never meets the limit. With
    ``g(t) = +-(a + b t - limit)`` (positive inside), the bound meets the limit where
    ``g(t) = q se(t)``, i.e. at the roots of ``g(t)^2 - q^2 v(t)`` with ``g(t) >= 0``.
    """
    sign = 1.0 if side == "lower" else -1.0
    g0, gb = sign * (a - limit), sign * b
    c0, c1, c2 = c
    if g0 - q * math.sqrt(max(c0, 0.0)) <= 0.0:
        return 0.0
    qa, qb, qc = gb * gb - q * q * c2, 2.0 * g0 * gb - q * q * c1, g0 * g0 - q * q * c0
    scale = max(abs(qa), abs(qb), abs(qc))
    roots: list[float] = []
    if abs(qa) <= 1e-14 * scale:
        if qb != 0.0:
            roots.append(-qc / qb)
    else:
        disc = qb * qb - 4.0 * qa * qc
        if disc >= 0.0:
            s = math.sqrt(disc)
            w = -0.5 * (qb + math.copysign(s, qb))  # numerically stable pair
            roots.extend([w / qa] + ([qc / w] if w != 0.0 else []))
    tol = 1e-9 * max(abs(g0), 1e-300)
    hits = [r for r in roots if r > 0.0 and g0 + gb * r >= -tol]
    return min(hits) if hits else math.inf


def _line_from_fit(
    fit: object, lot: str, x0: np.ndarray, x1: np.ndarray, *, q: float, sides: tuple[str, ...],
    limits: dict[str, float], n_obs: int, last_time: float, log_transform: bool,
) -> RegressionLine:
    beta = np.asarray(fit.params, dtype=float)  # type: ignore[attr-defined]
    cov = np.asarray(fit.cov_params(), dtype=float)  # type: ignore[attr-defined]
    a, b = float(x0 @ beta), float(x1 @ beta)
    c = (float(x0 @ cov @ x0), float(2.0 * x0 @ cov @ x1), float(x1 @ cov @ x1))
    crossing, crossing_side = math.inf, None
    for side in sides:
        if side in limits:
            tc = _first_crossing(a, b, c, q, limits[side], side)
            if tc < crossing:
                crossing, crossing_side = tc, side
    return RegressionLine(
        lot=lot, intercept=a, slope=b, var_coeffs=c, df=int(round(fit.df_resid)),  # type: ignore[attr-defined]
        t_quantile=q, sides=sides, crossing=crossing, crossing_side=crossing_side, n_obs=n_obs,
        last_time=last_time, log_transform=log_transform,
    )


def _unit_vector(size: int, i: int) -> np.ndarray:
    e = np.zeros(size)
    e[i] = 1.0
    return e


def q1e_shelf_life(
    time: Sequence[float] | np.ndarray,
    value: Sequence[float] | np.ndarray,
    lot: Sequence[object] | np.ndarray | None = None,
    *,
    lower_limit: float | None = None,
    upper_limit: float | None = None,
    sided: int = 1,
    confidence_level: float = 0.95,
    alpha_pool: float = POOLING_ALPHA,
    model: str | None = None,
    log_transform: bool = False,
    separate_error: str = "individual",
    time_unit: str = "months",
    max_extrapolation_factor: float = 1.0,
    max_extrapolation_beyond: float = 0.0,
) -> ShelfLifeResult:
    """Shelf life by ICH Q1E: the earliest time the confidence bound on the mean line meets a limit.

    Parameters
    ----------
    time, value : array_like of float
        Time points (in ``time_unit``, >= 0, each lot's in non-decreasing
        order; replicate results at one time point are allowed) and results.
    lot : array_like, optional
        The lot of each result; ``None``: a single lot.
    lower_limit, upper_limit : float, optional
        Acceptance limits on the original scale. With ``sided=1`` give
        exactly one: the lower limit for an attribute that falls, the upper
        for one that rises. With ``sided=2`` give one or both.
    sided : {1, 2}
        1: one-sided bound (direction of change known); 2: two-sided
        interval (direction unknown), each side at ``(1 - confidence) / 2``.
    confidence_level : float
        Q1E: 0.95.
    alpha_pool : float
        Significance level of the poolability tests (Q1E: 0.25).
    model : {"pooled", "common_slope", "separate"}, optional
        Force a model instead of the poolability choice (noted in the result).
    log_transform : bool
        Regress the natural logarithm of the results (exponential decay,
        e.g. a titer); the limits are logged too.
    separate_error : {"individual", "pooled"}
        Separate model only: each lot's own regression (JMP, expirest), or
        one fit with the pooled mean square error (LeBlond et al.).
    time_unit : str
        One of :data:`TIME_UNITS`; a label in the result and its notes.
    max_extrapolation_factor, max_extrapolation_beyond : float
        The extrapolation allowance: at most ``factor`` times the period the
        data cover, and at most ``beyond`` (in ``time_unit``) past it. The
        defaults (1, 0) allow none.

    Returns
    -------
    ShelfLifeResult

    Raises
    ------
    cgtkit.errors.CgtkitError
        No limit given, a non-positive limit with ``log_transform``, negative
        or out-of-order time points, a lot with a single time point, too few
        results for the model.
    ValueError
        Bad arguments: ``sided``, a confidence level, an unknown model or
        unit, two limits with ``sided=1``.

    Examples
    --------
    LeBlond et al. (2011), Table XIII (moisture, limits 1.5-3.5 % w/w, two-sided):

    >>> t = [0, 1, 2, 3, 3, 6, 6, 12, 12, 24, 24] * 3
    >>> y = [2.20059, 1.70372, 3.32395, 2.75907, 2.43192, 1.76331, 1.56801, 2.19423, 3.22311, 3.16325, 1.54837,
    ...      2.81078, 1.94915, 2.49058, 2.00485, 3.30700, 2.99309, 3.30159, 2.72512, 1.88341, 2.77215, 1.69048,
    ...      2.45301, 2.16138, 2.26631, 2.12853, 2.51775, 2.31034, 3.36915, 2.32070, 2.72001, 2.19393, 3.45895]
    >>> r = q1e_shelf_life(t, y, ["b1"] * 11 + ["b2"] * 11 + ["b3"] * 11, lower_limit=1.5, upper_limit=3.5,
    ...                    sided=2, max_extrapolation_factor=2, max_extrapolation_beyond=12)
    >>> r.model, round(r.shelf_life, 2), r.governing_side, r.beyond_allowance, round(r.supported_shelf_life, 1)
    ('pooled', 45.35, 'upper', True, 36.0)
    """
    from scipy import special

    if isinstance(sided, bool) or sided not in (1, 2):
        raise ValueError(f"sided must be 1 (one-sided bound) or 2 (two-sided interval); got {sided!r}.")
    confidence_level = check_probability(confidence_level, "confidence_level")
    alpha_pool = check_probability(alpha_pool, "alpha_pool")
    time_unit = check_time_unit(time_unit)
    if model is not None and model not in MODELS:
        raise ValueError(f"model must be one of {', '.join(MODELS)} (or None for the Q1E choice); got {model!r}.")
    if separate_error not in SEPARATE_ERRORS:
        raise ValueError(f"separate_error must be 'individual' or 'pooled'; got {separate_error!r}.")
    if not (max_extrapolation_factor >= 1.0 and max_extrapolation_beyond >= 0.0):
        raise ValueError("max_extrapolation_factor must be >= 1 and max_extrapolation_beyond >= 0; got "
                         f"{max_extrapolation_factor!r} and {max_extrapolation_beyond!r}.")
    given = {side: v for side, v in (("lower", lower_limit), ("upper", upper_limit)) if v is not None}
    if not given:
        raise CgtkitError(
            "No acceptance limit was given, so there is no shelf life to estimate. Enter the lower limit (an "
            "attribute that falls, such as potency), the upper limit (one that rises, such as aggregates), or both."
        )
    if sided == 1 and len(given) == 2:
        raise ValueError("With sided=1 give only the limit the attribute moves towards (lower_limit for a fall, "
                         "upper_limit for a rise); give both with sided=2.")
    for side, v in given.items():
        if not math.isfinite(float(v)):
            raise CgtkitError(f"The {side} acceptance limit must be a finite number; got {v!r}.")
        if log_transform and not float(v) > 0:
            raise CgtkitError(
                f"The {side} acceptance limit is {float(v):g}, but a log-transformed regression needs a limit "
                "greater than 0. Correct the limit or regress on the original scale."
            )
    if "lower" in given and "upper" in given and not float(given["lower"]) < float(given["upper"]):
        raise CgtkitError(f"The lower acceptance limit ({float(given['lower']):g}) must be below the upper "
                          f"({float(given['upper']):g}).")
    limits = {side: (math.log(float(v)) if log_transform else float(v)) for side, v in given.items()}
    sides = tuple(given) if sided == 1 else ("lower", "upper")

    d = _prepare(time, value, lot, log_transform=bool(log_transform), time_unit=time_unit)
    pool, fits = _poolability(d, alpha_pool)
    chosen = pool.model if model is None else model
    notes: list[str] = []
    if model is not None and model != pool.model:
        notes.append(f"The {MODEL_LABELS[model]} model was chosen by the user; the Q1E poolability tests choose "
                     f"the {MODEL_LABELS[pool.model]} model.")
    if d.k == 1 and chosen != "pooled":
        chosen = "pooled"
    q_level = confidence_level if sided == 1 else 1.0 - (1.0 - confidence_level) / 2.0
    lines: list[RegressionLine] = []
    last_all = float(d.time.max())
    common = dict(sides=sides, limits=limits, log_transform=bool(log_transform))

    def quantile(df: float) -> float:
        return float(special.stdtrit(df, q_level))

    if chosen == "pooled":
        fit = fits["pooled"]
        lines.append(_line_from_fit(
            fit, POOLED_LINE if d.k > 1 else d.lots[0], np.array([1.0, 0.0]), np.array([0.0, 1.0]),
            q=quantile(fit.df_resid), n_obs=d.time.size, last_time=last_all, **common))
    elif chosen == "common_slope":
        fit = fits["common_slope"]
        for j, name in enumerate(d.lots):
            mask = d.lot_index == j
            lines.append(_line_from_fit(
                fit, name, _unit_vector(d.k + 1, j), _unit_vector(d.k + 1, d.k), q=quantile(fit.df_resid),
                n_obs=int(mask.sum()), last_time=float(d.time[mask].max()), **common))
    elif separate_error == "pooled":
        fit = fits["separate"]
        for j, name in enumerate(d.lots):
            mask = d.lot_index == j
            lines.append(_line_from_fit(
                fit, name, _unit_vector(2 * d.k, j), _unit_vector(2 * d.k, d.k + j), q=quantile(fit.df_resid),
                n_obs=int(mask.sum()), last_time=float(d.time[mask].max()), **common))
    else:
        for j, name in enumerate(d.lots):
            mask = d.lot_index == j
            if mask.sum() < 3:
                raise InsufficientDataError(
                    f"Lot {name} has only {int(mask.sum())} results: its own regression line leaves no degree of "
                    "freedom for its error. Add time points to the lot, or estimate the separate lines with the "
                    "pooled error (separate_error='pooled')."
                )
            tj = d.time[mask]
            fit = _ols(d.y[mask], np.column_stack([np.ones_like(tj), tj]))
            lines.append(_line_from_fit(
                fit, name, np.array([1.0, 0.0]), np.array([0.0, 1.0]), q=quantile(fit.df_resid),
                n_obs=int(mask.sum()), last_time=float(tj.max()), **common))

    first = min(lines, key=lambda ln: ln.crossing)
    shelf = first.crossing
    governing_lot = None if chosen == "pooled" or not math.isfinite(shelf) else first.lot
    governing_side = first.crossing_side if math.isfinite(shelf) else None
    allowed = min(max_extrapolation_factor * last_all, last_all + max_extrapolation_beyond)
    extrapolated = shelf > last_all
    beyond = shelf > allowed
    if log_transform:
        notes.append("Regression on the natural logarithm of the results (exponential decay, e.g. a titer): the "
                     "line and its bound are back-transformed, so the line is the geometric mean (median), not "
                     "the arithmetic mean.")
    if shelf == 0.0:
        notes.append(f"The confidence bound is outside the {governing_side} limit already at time 0"
                     + (f" (lot {governing_lot})" if governing_lot else "") + ": the data support no shelf life.")
    elif not math.isfinite(shelf):
        notes.append("The confidence bound never meets the limit: the results move away from it. The shelf life "
                     "is then set by the extrapolation allowance and the period the data cover.")
    if governing_lot is not None and first.last_time < shelf <= last_all:
        notes.append(f"Lot {governing_lot}'s own results end at {first.last_time:g} {time_unit}: its line is "
                     f"extrapolated to the crossing at {shelf:.3g} {time_unit}.")
    if beyond:
        shown = "never" if not math.isfinite(shelf) else f"{shelf:.3g} {time_unit}"
        notes.append(
            f"The estimate ({shown}) extrapolates beyond the last time point ({last_all:g} {time_unit}) further "
            f"than the allowance used ({allowed:.3g} {time_unit}); the data support at most {allowed:.3g} "
            f"{time_unit}. Extrapolation limits are an ICH Q1E convention for small-molecule products; how they "
            "transfer to a cell or gene therapy is for discussion with FDA."
        )
    elif extrapolated:
        notes.append(f"The estimate lies beyond the last time point ({last_all:g} {time_unit}), within the "
                     f"extrapolation allowance used ({allowed:.3g} {time_unit}).")
    return ShelfLifeResult(
        model=chosen, model_chosen_by="poolability" if model is None else "user", poolability=pool,
        lines=tuple(lines), shelf_life=float(shelf), governing_lot=governing_lot, governing_side=governing_side,
        lower_limit=None if lower_limit is None else float(lower_limit),
        upper_limit=None if upper_limit is None else float(upper_limit),
        sided=int(sided), confidence_level=confidence_level, log_transform=bool(log_transform),
        separate_error=separate_error, time_unit=time_unit, data_span=last_all, allowed_shelf_life=float(allowed),
        extrapolated=bool(extrapolated), beyond_allowance=bool(beyond),
        supported_shelf_life=float(min(shelf, allowed)), notes=tuple(notes),
    )
