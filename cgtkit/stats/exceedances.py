"""How many of ``m`` later lots fall outside limits set from ``n`` lots: the exact distribution.

Limits ``mean +/- k * sd`` (or ``mean + k * sd``) estimated from ``n`` lots are
shared by every later lot, so the number ``X`` of later lots outside them is
not binomial: given the estimated mean and SD the later lots are independent,
each outside with probability ``q(mean, sd)``, and ``X`` is binomial *given*
the limits; unconditionally it is a mixture over the sampling distribution of
the mean and SD, more spread out than any binomial with the same mean (if the
limits came out narrow, many later lots are at risk together). For a normal
process that has not changed,

``P(X >= x) = E[ I_q(x, m - x + 1) ]``

with ``I`` the regularised incomplete beta function (the binomial upper tail),
averaged with the quadrature of :mod:`cgtkit.stats.oos_risk` (same nodes, so
``P(X >= 1)`` equals :func:`cgtkit.stats.oos_risk.prob_any_oos`). The mean of
``X`` is ``m`` times :func:`cgtkit.stats.oos_risk.future_lot_oos_probability`.

References
----------
.. [1] Hahn, G. J. (1970). Statistical intervals for a normal population.
   *Journal of Quality Technology* 2(3), 115-125.
.. [2] Meeker, W. Q., Hahn, G. J. and Escobar, L. A. (2017). *Statistical
   Intervals*, 2nd ed. Wiley (intervals to contain at least m - x of m future
   observations).

Examples
--------
>>> pmf = outside_count_pmf(10, 3.0, 20)
>>> round(float(pmf[0]), 4), round(prob_at_least_outside(10, 3.0, 20, 2), 4)
(0.7801, 0.0827)
"""

from __future__ import annotations

import functools

import numpy as np

from cgtkit.stats._checks import check_k, check_m, check_n, check_sided
from cgtkit.stats.oos_risk import outside_probability_grid

__all__ = ["outside_count_pmf", "prob_at_least_outside"]


@functools.lru_cache(maxsize=4096)
def _tail(n: int, k: float, m: int, x: int, sided: int) -> float:
    from scipy import special

    if x <= 0:
        return 1.0
    if x > m:
        return 0.0
    q, w_s, w_x = outside_probability_grid(n, k, sided)
    return float(min(max(w_s @ special.betainc(x, m - x + 1, q) @ w_x, 0.0), 1.0))


def prob_at_least_outside(n: int, k: float, m: int, x: int, sided: int = 2) -> float:
    """P(at least ``x`` of ``m`` later lots of an unchanged normal process fall outside limits from ``n`` lots).

    Parameters
    ----------
    n : int
        Lots the limits were set from (at least 2).
    k : float
        The limits are ``mean +/- k sd`` (``sided=2``) or one of them (``sided=1``).
    m : int
        Later lots (at least 1).
    x : int
        Count; ``x <= 0`` gives 1 and ``x > m`` gives 0.
    sided : {1, 2}

    >>> round(prob_at_least_outside(10, 3.0, 100, 1), 3)
    0.474
    """
    n = check_n(n)
    k = check_k(k)
    m = check_m(m)
    sided = check_sided(sided)
    return _tail(n, k, m, int(x), sided)


def outside_count_pmf(n: int, k: float, m: int, sided: int = 2) -> np.ndarray:
    """The distribution of the number of ``m`` later lots outside: ``pmf[x] = P(X = x)``, x = 0..m."""
    n = check_n(n)
    k = check_k(k)
    m = check_m(m)
    sided = check_sided(sided)
    tails = np.array([_tail(n, k, m, x, sided) for x in range(m + 2)])
    return np.maximum(tails[:-1] - tails[1:], 0.0)
