"""Argument and data checks shared by the :mod:`cgtkit.stats` modules.

Two kinds of failure, two exception types:

* a *programming mistake* in the call (``sided=3``, ``coverage=95``, an
  unknown method or scale) raises a plain :class:`ValueError`: the caller's
  code must change, not the user's data;
* a *problem in the user's data* (too few lots, no variability, a
  non-positive value on the log scale, a blank result) raises
  :class:`cgtkit.errors.InsufficientDataError`, whose message a page shows.

>>> check_sided(3)
Traceback (most recent call last):
...
ValueError: sided must be 1 (a one-sided limit) or 2 (a two-sided interval); got 3.
>>> check_n(1)
Traceback (most recent call last):
...
cgtkit.errors.InsufficientDataError: n (number of lots) is 1, but this calculation needs at least 2. Add results from more lots (at least 2).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from cgtkit.errors import InsufficientDataError

#: The scales the interval functions work on (the values of ``cgtkit.vocab.Scale``).
SCALES = ("normal", "log")

#: Values whose spread is at most this fraction of their magnitude count as identical:
#: their standard deviation would be rounding error (doubles carry about 16 digits).
IDENTICAL_RTOL = 1e-10


def check_n(n: object, *, minimum: int = 2, what: str = "n (number of lots)") -> int:
    """``n`` as an int: not a whole number is a ValueError, too few lots is a data problem."""
    if isinstance(n, bool) or not isinstance(n, (numbers.Integral, numbers.Real)):
        raise ValueError(f"{what} must be a whole number such as 10; got {n!r}.")
    if isinstance(n, numbers.Real) and not isinstance(n, numbers.Integral):
        if not math.isfinite(float(n)) or float(n) != int(float(n)):
            raise ValueError(f"{what} must be a whole number such as 10; got {n!r}.")
    value = int(n)
    if value < minimum:
        raise InsufficientDataError(
            f"{what} is {value}, but this calculation needs at least {minimum}. "
            f"Add results from more lots (at least {minimum})."
        )
    return value


def check_k(k: object) -> float:
    if isinstance(k, bool) or not isinstance(k, numbers.Real):
        raise ValueError(
            f"k (the number of standard deviations from the mean to each limit) must be a "
            f"positive number such as 3; got {k!r}."
        )
    value = float(k)
    if not math.isfinite(value) or value <= 0.0:
        raise ValueError(
            f"k (the number of standard deviations from the mean to each limit) must be a "
            f"positive finite number such as 3; got {k!r}."
        )
    return value


def check_m(m: object) -> int:
    if isinstance(m, bool) or not isinstance(m, numbers.Real):
        raise ValueError(
            f"m_future (number of future lots) must be a whole number of at least 1; got {m!r}."
        )
    if not float(m).is_integer() or m < 1:
        raise ValueError(
            f"m_future (number of future lots) must be a whole number of at least 1; got {m!r}."
        )
    return int(m)


def check_probability(value: object, name: str) -> float:
    """``value`` as a float in the open interval (0, 1)."""
    try:
        p = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be a proportion strictly between 0 and 1 (e.g. 0.95 for 95 %); got {value!r}."
        ) from None
    if not (0.0 < p < 1.0):
        hint = " Did you enter a percentage? Use 0.95, not 95." if p > 1 else ""
        raise ValueError(
            f"{name} must be a proportion strictly between 0 and 1 (e.g. 0.95 for 95 %); got {value!r}.{hint}"
        )
    return p


def check_sided(sided: object) -> int:
    """1 or 2."""
    if isinstance(sided, bool) or sided not in (1, 2):
        raise ValueError(f"sided must be 1 (a one-sided limit) or 2 (a two-sided interval); got {sided!r}.")
    return int(sided)  # type: ignore[arg-type]


def check_side(side: object) -> str:
    """``"upper"`` or ``"lower"`` (only asked for when ``sided == 1``)."""
    if not isinstance(side, str) or side.lower() not in ("upper", "lower"):
        raise ValueError(
            f"side must be 'upper' (a maximum, e.g. for an impurity) or 'lower' "
            f"(a minimum, e.g. for potency or viability); got {side!r}."
        )
    return side.lower()


def check_scale(scale: object) -> str:
    """``"normal"`` or ``"log"``."""
    if not isinstance(scale, str) or scale.lower() not in SCALES:
        raise ValueError(f"scale must be 'normal' or 'log'; got {scale!r}.")
    return scale.lower()


def as_finite_1d(values: object, what: str = "values") -> np.ndarray:
    """A 1-D float array; text, NaN or inf among the values is a data problem, named by position."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise InsufficientDataError(
            f"The {what} must all be numbers. Remove text such as '<LOQ' or 'n/a' from the "
            f"numbers (use the 'censored' argument for results below a limit of quantitation)."
        ) from None
    arr = np.atleast_1d(arr)
    if arr.ndim != 1:
        raise ValueError(f"The {what} must be a single list of numbers (one per lot); got an array of shape {arr.shape}.")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        i = int(bad[0])
        raise InsufficientDataError(
            f"Value number {i + 1} of the {what} ({float(arr[i])}) is not a finite number "
            f"({bad.size} such value(s) in total). Correct it or leave that lot out; "
            f"missing results should be removed, not entered as blanks."
        )
    return arr


def log_values(x: np.ndarray) -> np.ndarray:
    """Natural logs of values that must all be positive (a log-normal attribute)."""
    bad = np.flatnonzero(x <= 0.0)
    if bad.size:
        i = int(bad[0])
        raise InsufficientDataError(
            f"scale='log' needs every value to be greater than 0, but value number {i + 1} "
            f"is {float(x[i])} (non-positive). Use scale='normal', or correct the value."
        )
    return np.log(x)


def all_identical(x: np.ndarray, rtol: float = IDENTICAL_RTOL) -> bool:
    """True when the values are equal up to rounding: spread <= ``rtol`` times their largest magnitude.

    Judged on the values as given (for a log-normal attribute, before taking
    logs, where the same rule bounds the spread of the logs).

    >>> all_identical(np.array([1.0, 1.0 + 1e-15, 1.0])), all_identical(np.array([1.0, 1.0001]))
    (True, False)
    >>> all_identical(np.array([0.0, 0.0])), all_identical(np.array([-1e-300, 1e-300]))
    (True, False)
    """
    x = np.asarray(x, dtype=float)
    if x.size == 0:
        return True
    hi, lo = float(np.max(x)), float(np.min(x))
    magnitude = max(abs(hi), abs(lo))
    return (hi - lo) <= rtol * magnitude if magnitude > 0.0 else True


def mean_sd(y: np.ndarray) -> tuple[float, float]:
    """Mean and sample SD (``n - 1`` divisor) without overflow or underflow for any finite values.

    The values are scaled by a power of two near their largest magnitude
    first, so that squares neither overflow (values near 1e308) nor underflow
    (values near 1e-300).

    >>> mean_sd(np.array([1e308, 1.5e308, 1.7e308]))[0] > 1e308
    True
    """
    y = np.asarray(y, dtype=float)
    magnitude = float(np.max(np.abs(y)))
    e = math.frexp(magnitude)[1] if magnitude > 0.0 else 0
    z = np.ldexp(y, -e)
    with np.errstate(over="ignore"):  # an SD past 1.8e308 becomes inf (and the limits are refused)
        return float(np.ldexp(np.mean(z), e)), float(np.ldexp(np.std(z, ddof=1), e))
