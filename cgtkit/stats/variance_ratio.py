"""Do later lots vary more than earlier ones? The one-sided F test of two variances.

For two independent normal samples with variances ``s1^2`` (``df1`` degrees of
freedom) and ``s2^2`` (``df2``), ``F = s1^2 / s2^2`` follows the F distribution
with ``(df1, df2)`` degrees of freedom when the process variances are equal;
the one-sided p-value ``P(F(df1, df2) >= F)`` tests whether the first (later)
variance is larger (NIST/SEMATECH e-Handbook of Statistical Methods, 1.3.5.9,
"F-test for equality of two variances"). The test assumes normal data and is
sensitive to departures from it (heavy tails inflate its false-alarm rate).

A sample may be made of groups with different means (lots before and after a
shift): its variance is then pooled within the groups, with one degree of
freedom lost per group.

References
----------
.. [1] NIST/SEMATECH e-Handbook of Statistical Methods, section 1.3.5.9.
.. [2] Snedecor, G. W. and Cochran, W. G. (1989). *Statistical Methods*, 8th
   ed. Iowa State University Press (comparison of two variances).

Examples
--------
>>> r = variance_ratio_test([1.0, 5.0, 2.0, 7.0, 0.0, 6.0], [3.0, 3.2, 2.9, 3.1])
>>> round(r.ratio, 1), r.df_later, r.df_earlier, r.p_value < 0.01
(498.0, 5, 3, True)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from cgtkit.errors import InsufficientDataError
from cgtkit.stats._checks import as_finite_1d

__all__ = ["VarianceRatioResult", "pooled_variance", "variance_ratio_p_value", "variance_ratio_test"]


def variance_ratio_p_value(
    ratio: float | np.ndarray, df_later: float | np.ndarray, df_earlier: float | np.ndarray
) -> np.ndarray:
    """``P(F(df_later, df_earlier) >= ratio)``, vectorised; NaN where a df is below 1.

    >>> round(float(variance_ratio_p_value(1.0, 10, 10)), 3)
    0.5
    """
    from scipy import special

    d1 = np.asarray(df_later, dtype=float)
    d2 = np.asarray(df_earlier, dtype=float)
    ok = (d1 >= 1) & (d2 >= 1)
    with np.errstate(invalid="ignore"):
        p = special.fdtrc(np.where(ok, d1, 1.0), np.where(ok, d2, 1.0), np.asarray(ratio, dtype=float))
    return np.where(ok, p, np.nan)


def pooled_variance(values: np.ndarray, groups: np.ndarray | None = None) -> tuple[float, int]:
    """Variance pooled within groups (one group when ``groups`` is None) and its degrees of freedom."""
    y = np.asarray(values, dtype=float)
    g = np.zeros(y.size, dtype=int) if groups is None else np.asarray(groups)
    ss, df = 0.0, 0
    for label in np.unique(g):
        part = y[g == label]
        ss += float(np.sum((part - part.mean()) ** 2))
        df += part.size - 1
    return (ss / df if df > 0 else float("nan")), df


@dataclass(frozen=True)
class VarianceRatioResult:
    """One-sided F test that the later lots vary more than the earlier ones.

    Attributes
    ----------
    ratio : float
        Later variance over earlier variance.
    df_later, df_earlier : int
        Degrees of freedom of the two variances.
    p_value : float
        ``P(F(df_later, df_earlier) >= ratio)``.
    """

    ratio: float
    df_later: int
    df_earlier: int
    p_value: float

    def to_frame(self) -> pd.DataFrame:
        """The result as a one-row DataFrame (columns are the field names)."""
        row = asdict(self)
        return pd.DataFrame([row], columns=list(row))


def variance_ratio_test(
    later: Sequence[float] | np.ndarray,
    earlier: Sequence[float] | np.ndarray,
    *,
    later_groups: Sequence[object] | None = None,
) -> VarianceRatioResult:
    """Test whether ``later`` lots vary more than ``earlier`` ones (one-sided F test).

    Parameters
    ----------
    later, earlier : array_like of float
        The two samples (analysis scale).
    later_groups : sequence, optional
        A group label per later lot: the later variance is pooled within
        groups (e.g. the lots before and after an estimated shift).

    Raises
    ------
    cgtkit.errors.InsufficientDataError
        A sample with no degree of freedom, or no variability in the earlier lots.
    """
    x = as_finite_1d(later, "later values")
    e = as_finite_1d(earlier, "earlier values")
    v_later, df_later = pooled_variance(x, None if later_groups is None else np.asarray(later_groups))
    v_earlier, df_earlier = pooled_variance(e)
    if df_later < 1 or df_earlier < 1:
        raise InsufficientDataError("Comparing variabilities needs at least 2 lots in each sample (per group).")
    if not v_earlier > 0:
        raise InsufficientDataError("The earlier lots are all equal: their variability cannot be compared.")
    ratio = v_later / v_earlier
    return VarianceRatioResult(
        ratio=float(ratio), df_later=int(df_later), df_earlier=int(df_earlier),
        p_value=float(variance_ratio_p_value(ratio, df_later, df_earlier)),
    )
