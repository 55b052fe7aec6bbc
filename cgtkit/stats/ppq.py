"""How many PPQ lots, and how likely a process is to pass PPQ: the statistical approaches side by side.

FDA never set a minimum number of process performance qualification (PPQ)
lots; the PPQ protocol has to justify the number it proposes. No single
statistic settles it, so each approach here returns the number it leads to
*and its reasoning*, and a curve of the quantity it targets against the number
of lots, so that the approaches can be shown next to each other:

* **success run** (zero failures): the confidence that at least a proportion
  R of lots conform after n lots without a failure is ``1 - R^n``; reaching
  confidence C takes ``ceil(ln(1 - C) / ln R)`` lots (59 for 95 %/95 %). This is
  why reliability arguments alone cannot justify a small PPQ.
* **capability**: the lots needed for the lower confidence bound on Ppk
  (Bissell) to exceed a target, if the PPQ lots show the Ppk seen in
  development.
* **expected coverage of the range**: the range of n lots is expected to cover
  ``(n - 1) / (n + 1)`` of the process (``n / (n + 1)`` for one limit), for any
  continuous distribution.
* **tolerance interval inside the specification**: the lots needed for a normal
  tolerance interval ``xbar +/- k s`` to fit inside the specification, if the
  PPQ lots show the development mean and SD (``k`` from
  :func:`cgtkit.stats.tolerance.tolerance_factor`).
* **probability of passing PPQ**: for a process with a given mean and SD, the
  probability that all PPQ lots meet acceptance criteria, as the R package
  PPQplan computes it: each of ``n_per_lot`` results inside the limits
  (``criterion="results"``), or ``xbar +/- k s`` of the lot's results inside
  them with ``k`` from a prediction or tolerance interval
  (``criterion="interval"``), or both (``criterion="both"``, seeded Monte
  Carlo). PPQplan treats the lots as identical and independent, so that
  ``P(all m pass) = P(one passes)^m``; cgtkit adds an optional between-lot SD,
  so that each lot has its own mean (lots stay independent). The
  operating-characteristic heat map over mean and SD
  (:func:`pass_probability_grid`) is vectorised: a 50 x 50 grid takes a few
  hundredths of a second.

The residual-risk approach of the ISPE discussion paper is a judgement, not a
statistic: it lives in :mod:`cgtkit.analyses.process_validation`.

All means, SDs and limits are on the analysis scale (natural logs for a
log-normal attribute); the analyses layer converts.

References
----------
.. [1] FDA (2011). *Process Validation: General Principles and Practices*,
   guidance for industry (stage 2, process performance qualification).
.. [2] Bryder, M. et al. (2012; version 2, 2014). *Topic 1 - Stage 2 Process
   Validation: Determining and Justifying the Number of Process Performance
   Qualification Batches*. ISPE discussion paper.
.. [3] Burdick, R. K., LeBlond, D. J., Pfahler, L. B., Quiroz, J., Sidor, L.,
   Vukovinsky, K. and Zhang, L. (2017). *Statistical Applications for
   Chemistry, Manufacturing and Controls (CMC) in the Pharmaceutical
   Industry*. Springer, pp. 227-250.
.. [4] Zhu, Y. (2020). PPQplan: Process Performance Qualification (PPQ) Plans
   in Chemistry, Manufacturing and Controls (CMC) Statistical Analysis. R
   package version 1.1.0 (CRAN), vignettes "Introduction to PPQplan" and "PPQ
   Power Assessment Theoretical Results".
.. [5] Wilks, S. S. (1941). Determination of sample sizes for setting
   tolerance limits. *Annals of Mathematical Statistics*, 12(1), 91-96.
.. [6] Bissell, A. F. (1990). How reliable is your capability index? *Applied
   Statistics*, 39(3), 331-340.

Examples
--------
>>> success_run(0.95, 0.95).n
59
>>> round(pass_probability(98.0, 1.0, 95.0, 105.0, n_per_lot=10, criterion="interval", k=2.373).per_lot, 7)
0.8604419
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special

from cgtkit.errors import InsufficientDataError
from cgtkit.stats._checks import check_n, check_probability, check_sided
from cgtkit.stats.capability import capability_index, check_specification
from cgtkit.stats.tolerance import _two_sided_confidence, tolerance_factor

__all__ = [
    "CRITERIA",
    "DEFAULT_NS",
    "LotsNeeded",
    "PASS_CONTOURS",
    "PassProbability",
    "PassProbabilityGrid",
    "acceptance_factor",
    "capability_lots",
    "default_grid_axes",
    "expected_coverage_lots",
    "pass_probability",
    "pass_probability_grid",
    "success_run",
    "success_run_confidence",
    "success_run_reliability",
    "tolerance_coverage_lots",
]

#: Numbers of lots at which the curves are evaluated (dense where PPQ lives, sparse beyond).
DEFAULT_NS: tuple[int, ...] = tuple(range(1, 31)) + (35, 40, 45, 50, 60, 70, 80, 90, 100, 120, 150, 200, 250, 300)
#: Contour levels of the pass-probability heat map.
PASS_CONTOURS: tuple[float, ...] = (0.80, 0.90, 0.95, 0.99)
#: Acceptance criteria of a PPQ lot.
CRITERIA: tuple[str, ...] = ("results", "interval", "both")
#: Largest number of lots searched.
N_MAX = 1000
DEFAULT_N_SIM = 20_000
DEFAULT_SEED = 20_260_519

_GL_NODES = 96
_PANEL_NODES = 32
_CHI_TAIL = 1e-15

_SUCCESS_RUN_REFERENCE = (
    "Success-run (zero-failure binomial) relation 1 - R^n >= C; FDA (2011) Process Validation guidance; ISPE "
    "discussion paper on the number of PPQ batches (Bryder et al., 2012/2014)."
)
_CAPABILITY_REFERENCE = (
    "Lower confidence bound on Ppk by Bissell (1990), Applied Statistics 39, 331-340; ISPE discussion paper "
    "(Bryder et al., 2012/2014), approach 2 (target process confidence and capability)."
)
_RANGE_REFERENCE = (
    "Expected coverage of the sample range (n - 1)/(n + 1), distribution-free: Wilks (1941). The ISPE discussion "
    "paper (Bryder et al., 2012/2014) names expected coverage as its approach 3; that it uses exactly this "
    "formula is cgtkit's reading."
)
_TOLERANCE_REFERENCE = (
    "Normal tolerance interval xbar +/- k s inside the specification; exact k (Krishnamoorthy & Mathew 2009, "
    "ch. 2; ISO 16269-6:2014)."
)
_PASS_REFERENCE = (
    "Burdick et al. (2017), Statistical Applications for CMC, pp. 227-250; R package PPQplan 1.1.0 (Zhu 2020): "
    "P(pass one lot) = P(L + k s <= xbar <= U - k s), P(all m lots) = P(one)^m. Between-lot SD: cgtkit's extension."
)


# ---------------------------------------------------------------------------
# The common result of the lot-number approaches
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LotsNeeded:
    """What one approach says about the number of PPQ lots.

    Attributes
    ----------
    approach : str
        ``success_run``, ``capability``, ``expected_coverage`` or ``tolerance_coverage``.
    label : str
        The approach in a few words, for a legend.
    n : int or None
        The number of lots the approach leads to; ``None`` when no number of
        lots up to ``n_max`` reaches the target (the reasoning says why).
    target : float
        The level ``measure`` must reach.
    measure : str
        What ``values`` are, in words (a confidence, or an expected coverage).
    reasoning : str
        The number and why, in plain words.
    ns, values : tuple
        The measure at each number of lots (NaN where it is undefined, e.g. n = 1).
    n_planned : int or None
        The number of PPQ lots planned, if given; ``value_planned`` is the measure there.
    reference : str
    """

    approach: str
    label: str
    n: int | None
    target: float
    measure: str
    reasoning: str
    ns: tuple[int, ...]
    values: tuple[float, ...]
    n_planned: int | None
    value_planned: float | None
    reference: str

    def to_frame(self) -> pd.DataFrame:
        """The curve: one row per number of lots.

        Columns ``approach``, ``label``, ``n_lots``, ``value``, ``target``, ``n_needed``.
        """
        return pd.DataFrame({
            "approach": self.approach, "label": self.label, "n_lots": list(self.ns), "value": list(self.values),
            "target": self.target, "n_needed": self.n if self.n is not None else pd.NA,
        })

    def summary(self) -> dict[str, object]:
        """One row for a side-by-side table."""
        return {"approach": self.approach, "label": self.label, "n_needed": self.n, "target": self.target,
                "measure": self.measure, "n_planned": self.n_planned, "value_planned": self.value_planned,
                "reasoning": self.reasoning, "reference": self.reference}


def _ns(ns: Sequence[int] | None) -> np.ndarray:
    arr = np.asarray(DEFAULT_NS if ns is None else ns)
    if arr.ndim != 1 or arr.size == 0 or np.any(arr < 1) or np.any(arr != np.round(arr)):
        raise ValueError(f"ns must be whole numbers of lots, each at least 1; got {ns!r}.")
    return arr.astype(int)


def _planned(n_planned: object) -> int | None:
    return None if n_planned is None else check_n(n_planned, minimum=1, what="The number of PPQ lots planned")


def _lots(k: int) -> str:
    return f"{k} lot" if k == 1 else f"{k} lots"


def _pct(p: float) -> str:
    """A probability as a per cent, with a decimal when it matters (``'99.5%'``, ``'14%'``)."""
    if p >= 0.995 or p <= 0.005:
        return f"{p:.1%}"
    return f"{p:.0%}"


# ---------------------------------------------------------------------------
# Success run
# ---------------------------------------------------------------------------


def success_run_confidence(n: int | np.ndarray, reliability: float) -> np.ndarray | float:
    """Confidence ``1 - R^n`` that at least a proportion ``R`` conforms, after ``n`` lots without a failure.

    >>> round(success_run_confidence(3, 0.95), 3)
    0.143
    """
    r = check_probability(reliability, "reliability")
    out = 1.0 - np.power(r, np.asarray(n, dtype=float))
    return float(out) if np.ndim(out) == 0 else out


def success_run_reliability(n: int, confidence: float) -> float:
    """Reliability ``(1 - C)^(1/n)`` shown with confidence ``C`` by ``n`` lots without a failure.

    >>> round(success_run_reliability(3, 0.95), 3)
    0.368
    """
    c = check_probability(confidence, "confidence")
    n = check_n(n, minimum=1, what="The number of lots")
    return float((1.0 - c) ** (1.0 / n))


def success_run(
    reliability: float = 0.95, confidence: float = 0.95, *, n_planned: int | None = None,
    ns: Sequence[int] | None = None,
) -> LotsNeeded:
    """Lots without a failure needed to show reliability ``R`` with confidence ``C``: ``ceil(ln(1 - C) / ln R)``.

    Examples
    --------
    >>> [success_run(r, 0.95).n for r in (0.90, 0.95, 0.99)]
    [29, 59, 299]
    >>> print(success_run(0.95, 0.95, n_planned=3).reasoning.split(". ")[1])
    With 3 PPQ lots and no failure the confidence is only 14%, which shows a reliability of only 37% with 95% confidence
    """
    r = check_probability(reliability, "reliability")
    c = check_probability(confidence, "confidence")
    planned = _planned(n_planned)
    x = math.log1p(-c) / math.log1p(-(1.0 - r))
    n = max(1, math.ceil(x - 1e-9))
    grid = _ns(ns)
    values = success_run_confidence(grid, r)
    reasoning = (
        f"With zero failures among n lots, the confidence that at least {_pct(r)} of all lots conform is "
        f"1 - {r:g}^n, so {_pct(c)} confidence takes {_lots(n)} without a failure. "
    )
    value_planned = None
    if planned is not None:
        value_planned = float(success_run_confidence(planned, r))
        reasoning += (
            f"With {planned} PPQ lot{'s' if planned > 1 else ''} and no failure the confidence is only "
            f"{_pct(value_planned)}, which shows a reliability of only "
            f"{_pct(success_run_reliability(planned, c))} with {_pct(c)} confidence. "
        )
    reasoning += (
        "A reliability argument alone therefore cannot justify a small number of PPQ lots: the justification has "
        "to rest on what development, clinical and platform data already show about the process."
    )
    return LotsNeeded(
        approach="success_run", label=f"Success run ({_pct(r)} reliability)", n=n, target=c,
        measure=f"confidence that at least {_pct(r)} of lots conform (zero failures)", reasoning=reasoning,
        ns=tuple(int(v) for v in grid), values=tuple(float(v) for v in values), n_planned=planned,
        value_planned=value_planned, reference=_SUCCESS_RUN_REFERENCE,
    )


# ---------------------------------------------------------------------------
# Capability
# ---------------------------------------------------------------------------


def _ppk_confidence(ppk: float, target: float, n: np.ndarray) -> np.ndarray:
    """Confidence with which Bissell's lower bound on a Ppk estimated from n lots clears ``target``."""
    n = np.asarray(n, dtype=float)
    out = np.full(n.shape, np.nan)
    ok = n >= 2
    if ppk == 0.0:
        out[ok] = 0.5 if target <= 0.0 else 0.0
        return out
    se = np.sqrt(1.0 / (9.0 * n[ok] * ppk * ppk) + 1.0 / (2.0 * (n[ok] - 1.0)))
    out[ok] = special.ndtr((1.0 - target / ppk) / se) if ppk > 0 else 0.0
    return out


def capability_lots(
    ppk: float, target: float = 1.0, confidence: float = 0.95, *, n_planned: int | None = None,
    ns: Sequence[int] | None = None, n_max: int = N_MAX,
) -> LotsNeeded:
    """Lots for the lower confidence bound on Ppk (Bissell) to exceed ``target``, if the lots show Ppk ``ppk``.

    The bound from n lots is ``ppk (1 - z_C sqrt(1/(9 n ppk^2) + 1/(2 (n - 1))))``;
    the curve is the confidence with which it clears the target.

    Examples
    --------
    >>> capability_lots(1.5, 1.0).n, capability_lots(1.33, 1.0).n
    (15, 26)
    >>> capability_lots(0.9, 1.0).n is None
    True
    """
    c = check_probability(confidence, "confidence")
    ppk, target = float(ppk), float(target)
    if not (math.isfinite(ppk) and math.isfinite(target)):
        raise ValueError(f"ppk and target must be finite numbers; got {ppk!r} and {target!r}.")
    planned = _planned(n_planned)
    grid = _ns(ns)
    values = _ppk_confidence(ppk, target, grid)
    n: int | None = None
    if ppk > target and ppk > 0:
        search = np.arange(2, int(n_max) + 1)
        hit = np.flatnonzero(_ppk_confidence(ppk, target, search) >= c)
        if hit.size:
            n = int(search[hit[0]])
    value_planned = float(_ppk_confidence(ppk, target, np.array([planned]))[0]) if planned else None
    if n is not None:
        reasoning = (
            f"If the PPQ lots show the Ppk seen so far ({ppk:.2f}), the {_pct(c)} lower confidence bound on Ppk "
            f"(Bissell) clears {target:.2f} from {_lots(n)} on. "
        )
    elif ppk <= target:
        reasoning = (
            f"The Ppk seen so far ({ppk:.2f}) is not above the target {target:.2f}, so no number of lots can show "
            f"with confidence that Ppk exceeds it: improve the process or revisit the target before PPQ. "
        )
    else:
        reasoning = (
            f"The Ppk seen so far ({ppk:.2f}) is so close to the target {target:.2f} that even {n_max} lots would "
            "not show with confidence that it exceeds it. "
        )
    if planned is not None and value_planned is not None and not math.isnan(value_planned):
        reasoning += f"With {planned} PPQ lots the confidence is {_pct(value_planned)}. "
    reasoning += "The estimate assumes the PPQ lots behave like the lots it came from."
    return LotsNeeded(
        approach="capability", label=f"Capability (Ppk > {target:.2f})", n=n, target=c,
        measure=f"confidence that Ppk exceeds {target:.2f} (Bissell lower bound), if the lots show Ppk {ppk:.2f}",
        reasoning=reasoning.strip(), ns=tuple(int(v) for v in grid), values=tuple(float(v) for v in values),
        n_planned=planned, value_planned=value_planned, reference=_CAPABILITY_REFERENCE,
    )


# ---------------------------------------------------------------------------
# Expected coverage
# ---------------------------------------------------------------------------


def _expected_range_coverage(n: np.ndarray, sided: int) -> np.ndarray:
    n = np.asarray(n, dtype=float)
    if sided == 2:
        return np.where(n >= 2, (n - 1.0) / (n + 1.0), np.nan)
    return n / (n + 1.0)


def expected_coverage_lots(
    coverage: float = 0.90, sided: int = 2, *, n_planned: int | None = None, ns: Sequence[int] | None = None,
) -> LotsNeeded:
    """Lots whose range is expected to cover ``coverage`` of the process: ``(n - 1)/(n + 1) >= coverage``.

    One-sided (only the largest or only the smallest lot matters): ``n / (n + 1)``.
    Distribution-free; the claim is only as good as the range lying inside the
    specification.

    Examples
    --------
    >>> expected_coverage_lots(0.90).n, expected_coverage_lots(0.50).n, expected_coverage_lots(0.90, sided=1).n
    (19, 3, 9)
    """
    p = check_probability(coverage, "coverage")
    sided = check_sided(sided)
    planned = _planned(n_planned)
    x = (1.0 + p) / (1.0 - p) if sided == 2 else p / (1.0 - p)
    n = max(2 if sided == 2 else 1, math.ceil(x - 1e-9))
    grid = _ns(ns)
    values = _expected_range_coverage(grid, sided)
    what = "range" if sided == 2 else "most extreme lot"
    reasoning = (
        f"The {what} of n lots of an unchanged process is expected to cover "
        f"{'(n - 1)/(n + 1)' if sided == 2 else 'n/(n + 1)'} of all its lots, whatever the distribution; "
        f"expecting {_pct(p)} takes {_lots(n)}. "
    )
    value_planned = None
    if planned is not None:
        value_planned = float(_expected_range_coverage(np.array([planned]), sided)[0])
        if math.isnan(value_planned):
            reasoning += "A single lot has no range. "
        else:
            reasoning += f"The {what} of {planned} lots is expected to cover {_pct(value_planned)}. "
    reasoning += (
        "The claim holds only if that range lies inside the specification, and it is an expectation, not a "
        "confidence statement."
    )
    return LotsNeeded(
        approach="expected_coverage", label=f"Expected coverage of the {what} ({_pct(p)})", n=n, target=p,
        measure=f"expected proportion of lots inside the {what} of n lots", reasoning=reasoning,
        ns=tuple(int(v) for v in grid), values=tuple(float(v) for v in values), n_planned=planned,
        value_planned=value_planned, reference=_RANGE_REFERENCE,
    )


def _tolerance_confidence(d: float, n: int, coverage: float, sided: int) -> float:
    """Confidence that ``xbar +/- d s`` (or ``xbar + d s``) from n lots covers at least ``coverage``."""
    if n < 2:
        return math.nan
    if sided == 1:
        z = float(special.ndtri(coverage))
        value = float(special.nctdtr(n - 1, z * math.sqrt(n), d * math.sqrt(n)))
        if math.isnan(value):  # far in the tail for large n: the limit as n grows
            return 1.0 if d > z else 0.0
        return value
    return _two_sided_confidence(d, n, coverage)


def tolerance_coverage_lots(
    mean: float, sd: float, lower: float | None, upper: float | None, coverage: float = 0.99,
    confidence: float = 0.95, *, n_planned: int | None = None, ns: Sequence[int] | None = None, n_max: int = N_MAX,
) -> LotsNeeded:
    """Lots for a ``coverage``/``confidence`` normal tolerance interval to fit inside the specification.

    If the lots show mean ``mean`` and SD ``sd`` (analysis scale), the interval
    ``xbar +/- k s`` fits inside the limits while ``k(n) <= d``, ``d`` being the
    distance from the mean to the nearer limit in SDs (``3 Ppk``). The curve is
    the confidence with which ``xbar +/- d s`` covers ``coverage`` of the lots.

    Examples
    --------
    >>> tolerance_coverage_lots(100.0, 1.0, 95.0, 105.0, 0.99, 0.95).n
    8
    >>> tolerance_coverage_lots(100.0, 2.0, 95.0, 105.0, 0.99, 0.95).n is None
    True
    """
    p = check_probability(coverage, "coverage")
    c = check_probability(confidence, "confidence")
    lo, hi = check_specification(lower, upper)
    lo_s = -math.inf if lo is None else lo
    hi_s = math.inf if hi is None else hi
    if not (math.isfinite(mean) and math.isfinite(sd)):
        raise ValueError(f"mean and sd must be finite numbers; got {mean!r} and {sd!r}.")
    if not sd > 0.0:
        raise InsufficientDataError(
            "The SD is 0: with no lot-to-lot variability a tolerance interval says nothing. Check the data or the "
            "SD entered."
        )
    planned = _planned(n_planned)
    sided = 2 if lo is not None and hi is not None else 1
    d = 3.0 * float(capability_index(mean, sd, lo_s, hi_s))
    grid = _ns(ns)
    values = np.array([_tolerance_confidence(d, int(k), p, sided) for k in grid])
    limit = special.ndtri((1.0 + p) / 2.0) if sided == 2 else special.ndtri(p)
    n: int | None = None
    if d > limit:
        lo_n, hi_n = 1, 2
        while _tolerance_confidence(d, hi_n, p, sided) < c and hi_n < n_max:
            lo_n, hi_n = hi_n, min(2 * hi_n, n_max)
        reached = _tolerance_confidence(d, hi_n, p, sided) >= c
        while reached and hi_n - lo_n > 1:  # confidence rises with n: conf(lo_n) < c <= conf(hi_n)
            mid = (lo_n + hi_n) // 2
            if _tolerance_confidence(d, mid, p, sided) >= c:
                hi_n = mid
            else:
                lo_n = mid
        n = hi_n if reached else None
    value_planned = _tolerance_confidence(d, planned, p, sided) if planned else None
    name = f"{_pct(p)}/{_pct(c)} {'two' if sided == 2 else 'one'}-sided tolerance interval"
    if n is not None:
        k = tolerance_factor(n, p, c, sided=sided)
        reasoning = (
            f"The nearer specification limit lies {d:.2f} SD from the mean. If the PPQ lots show that mean and SD, "
            f"a {name} (mean +/- k SD) fits inside the specification from {_lots(n)} on (k = {k:.2f} <= {d:.2f}). "
        )
    elif d <= limit:
        reasoning = (
            f"The nearer specification limit lies only {d:.2f} SD from the mean: even a perfectly known process "
            f"would put more than {_pct(1 - p)} of lots outside, so no number of lots fits a {name} inside the "
            "specification. "
        )
    else:
        reasoning = (
            f"Even {n_max} lots would not fit a {name} inside the specification (nearer limit {d:.2f} SD away). "
        )
    if planned is not None and value_planned is not None:
        if math.isnan(value_planned):
            reasoning += "A single lot gives no SD, so no tolerance interval. "
        else:
            reasoning += f"With {planned} PPQ lots the confidence is {_pct(value_planned)}. "
    reasoning += "The estimate assumes the PPQ lots behave like the lots the mean and SD came from."
    return LotsNeeded(
        approach="tolerance_coverage", label=f"Tolerance interval inside spec ({_pct(p)}/{_pct(c)})", n=n, target=c,
        measure=f"confidence that at least {_pct(p)} of lots lie inside the specification (normal tolerance interval)",
        reasoning=reasoning.strip(), ns=tuple(int(v) for v in grid), values=tuple(float(v) for v in values),
        n_planned=planned, value_planned=value_planned, reference=_TOLERANCE_REFERENCE,
    )


# ---------------------------------------------------------------------------
# Probability of passing PPQ
# ---------------------------------------------------------------------------


def acceptance_factor(
    n_per_lot: int, *, interval: str = "prediction", confidence: float = 0.95, coverage: float = 0.675,
    sided: int = 2, method: str = "guenther",
) -> float:
    """The multiplier k of a PPQ acceptance criterion ``xbar +/- k s`` inside the limits.

    Parameters
    ----------
    n_per_lot : int
        Results per lot (at least 2).
    interval : {"prediction", "tolerance"}
        ``prediction``: ``t_{q, n-1} sqrt(1 + 1/n)`` with ``q = (1 + confidence)/2``
        two-sided (as PPQplan's ``pi_pp``, which is always two-sided) or
        ``confidence`` one-sided. ``tolerance``: the normal tolerance factor
        for ``coverage`` and ``confidence``.
    coverage : float, default 0.675
        Tolerance intervals only; 0.675 is PPQplan's default.
    method : {"guenther", "exact", "howe"}, default "guenther"
        Two-sided tolerance factor. PPQplan's ``k_factor`` (described as
        Howe's method) computes Howe's formula *with* Guenther's correction
        (R package tolerance, ``K.factor(method = "HE")``), so ``"guenther"``
        reproduces PPQplan; ``"exact"`` is the exact factor. One-sided
        factors are always exact (noncentral t), as in PPQplan.

    Examples
    --------
    >>> round(acceptance_factor(10), 3), round(acceptance_factor(10, interval="tolerance", coverage=0.95), 6)
    (2.373, 3.407495)
    """
    n = check_n(n_per_lot, what="The number of results per lot")
    c = check_probability(confidence, "confidence")
    sided = check_sided(sided)
    if interval == "prediction":
        q = (1.0 + c) / 2.0 if sided == 2 else c
        return float(special.stdtrit(n - 1, q) * math.sqrt(1.0 + 1.0 / n))
    if interval == "tolerance":
        p = check_probability(coverage, "coverage")
        return tolerance_factor(n, p, c, sided=sided, method=method if sided == 2 else "exact")
    raise ValueError(f"interval must be 'prediction' or 'tolerance'; got {interval!r}.")


def _check_criterion(criterion: object, n_per_lot: int, k: object) -> float | None:
    if criterion not in CRITERIA:
        raise ValueError(f"criterion must be one of {', '.join(repr(c) for c in CRITERIA)}; got {criterion!r}.")
    if criterion == "results":
        return None
    if n_per_lot < 2:
        raise InsufficientDataError(
            f"The criterion mean +/- k SD needs at least 2 results per lot (an SD within the lot); got "
            f"{n_per_lot}. With one result per lot use the criterion that each result is inside the limits."
        )
    if k is None:
        raise ValueError("criterion 'interval' or 'both' needs the multiplier k (see acceptance_factor).")
    kk = float(k)  # type: ignore[arg-type]
    if not (math.isfinite(kk) and kk > 0.0):
        raise ValueError(f"k must be a positive number; got {k!r}.")
    return kk


def _limits(lower: object, upper: object) -> tuple[float, float]:
    lo, hi = check_specification(lower, upper)
    return (-math.inf if lo is None else lo), (math.inf if hi is None else hi)


def _check_sds(sd: np.ndarray, between_sd: float) -> None:
    if np.any(~np.isfinite(sd)) or np.any(sd <= 0.0):
        raise InsufficientDataError(
            "A process SD of 0 (or not a number) was given: with no variability the pass probability is 0 or 1 "
            "and says nothing. Enter the SD estimated from the lots (greater than 0)."
        )
    if not (math.isfinite(between_sd) and between_sd >= 0.0):
        raise ValueError(f"between_sd must be 0 or a positive number; got {between_sd!r}.")


def _interval_pass(mu: np.ndarray, sigma: np.ndarray, lo: float, hi: float, n: int, k: float, sb: float) -> np.ndarray:
    """P(L + k s <= xbar <= U - k s) per cell, by Gauss-Legendre quadrature over w = sqrt(chi2_{n-1}).

    ``xbar ~ N(mu, sigma^2/n + sb^2)`` (a lot's own mean varies with SD ``sb``),
    independent of ``s = sigma w / sqrt(n - 1)``.
    """
    nu = n - 1
    t, wt = np.polynomial.legendre.leggauss(_GL_NODES)
    w_lo = math.sqrt(special.chdtri(nu, 1.0 - _CHI_TAIL))
    w_hi = math.sqrt(special.chdtri(nu, _CHI_TAIL))
    s_max = (hi - lo) / (2.0 * k)
    with np.errstate(over="ignore", invalid="ignore"):
        w_top = np.minimum(w_hi, s_max * math.sqrt(nu) / sigma)
    width = np.maximum(w_top - w_lo, 0.0)
    w = w_lo + width[:, None] * (t[None, :] + 1.0) / 2.0
    log_f = (math.log(2.0) + np.log(w) + (nu / 2.0 - 1.0) * np.log(w * w) - w * w / 2.0
             - (nu / 2.0) * math.log(2.0) - special.gammaln(nu / 2.0))
    weights = np.exp(log_f) * wt[None, :] * (width[:, None] / 2.0)
    s = sigma[:, None] * w / math.sqrt(nu)
    tau = np.sqrt(sigma * sigma / n + sb * sb)[:, None]
    m = mu[:, None]
    inside = special.ndtr((hi - k * s - m) / tau) - special.ndtr((lo + k * s - m) / tau)
    p = np.sum(weights * np.maximum(inside, 0.0), axis=1)
    return np.clip(p, 0.0, 1.0)


def _results_pass(mu: np.ndarray, sigma: np.ndarray, lo: float, hi: float, n: int, sb: float) -> np.ndarray:
    """P(all n results of a lot inside [lo, hi]) per cell; with ``sb > 0`` each lot's mean is mu + N(0, sb^2)."""
    if n == 1 or sb == 0.0:
        st = np.sqrt(sigma * sigma + sb * sb) if n == 1 else sigma
        p1 = special.ndtr((hi - mu) / st) - special.ndtr((lo - mu) / st)
        return np.clip(p1, 0.0, 1.0) ** n
    # E_delta[(Phi((U - mu - delta)/sigma) - Phi((L - mu - delta)/sigma))^n] over delta ~ N(0, sb^2):
    # Gauss-Legendre on panels split where the integrand turns (the limits, +/- 8 sigma), within +/- 9 sb.
    t, wt = np.polynomial.legendre.leggauss(_PANEL_NODES)
    a, b = -9.0 * sb, 9.0 * sb
    e1, e2 = lo - mu, hi - mu
    with np.errstate(invalid="ignore"):
        cuts = np.stack([np.full_like(mu, a), e1 - 8 * sigma, e1 + 8 * sigma, e2 - 8 * sigma, e2 + 8 * sigma,
                         np.full_like(mu, b)], axis=1)
    cuts = np.sort(np.clip(np.nan_to_num(cuts, nan=a), a, b), axis=1)
    total = np.zeros_like(mu)
    for j in range(cuts.shape[1] - 1):
        left, right = cuts[:, j], cuts[:, j + 1]
        half = (right - left) / 2.0
        delta = left[:, None] + half[:, None] * (t[None, :] + 1.0)
        dens = np.exp(-0.5 * (delta / sb) ** 2) / (sb * math.sqrt(2.0 * math.pi))
        x = mu[:, None] + delta
        s = sigma[:, None]
        inside = np.clip(special.ndtr((hi - x) / s) - special.ndtr((lo - x) / s), 0.0, 1.0) ** n
        total += np.sum(dens * inside * wt[None, :], axis=1) * half
    return np.clip(total, 0.0, 1.0)


def _both_pass(
    mu: np.ndarray, sigma: np.ndarray, lo: float, hi: float, n: int, k: float, sb: float, n_sim: int, seed: int
) -> np.ndarray:
    """P(every result inside and xbar +/- k s inside) per cell, by seeded Monte Carlo with common random numbers."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n_sim, n))
    d = rng.standard_normal(n_sim)
    zbar, sz = z.mean(axis=1), z.std(axis=1, ddof=1)
    low_std = np.minimum(z.min(axis=1), zbar - k * sz)
    high_std = np.maximum(z.max(axis=1), zbar + k * sz)
    out = np.empty_like(mu)
    for value in np.unique(sigma):
        cells = np.flatnonzero(sigma == value)
        lows = sb * d + value * low_std
        highs = sb * d + value * high_std
        ok = (lows[None, :] >= (lo - mu[cells])[:, None]) & (highs[None, :] <= (hi - mu[cells])[:, None])
        out[cells] = ok.mean(axis=1)
    return out


def _per_lot(
    mu: np.ndarray, sigma: np.ndarray, lo: float, hi: float, n: int, criterion: str, k: float | None, sb: float,
    n_sim: int, seed: int,
) -> np.ndarray:
    if criterion == "results":
        return _results_pass(mu, sigma, lo, hi, n, sb)
    assert k is not None
    if criterion == "interval":
        return _interval_pass(mu, sigma, lo, hi, n, k, sb)
    return _both_pass(mu, sigma, lo, hi, n, k, sb, n_sim, seed)


def _criterion_words(criterion: str, n: int, k: float | None) -> str:
    each = "its result" if n == 1 else f"each of its {n} results"
    if criterion == "results":
        return f"{each} is inside the specification"
    interval = f"mean +/- {k:.3g} SD of its {n} results"
    if criterion == "interval":
        return f"the {interval} is inside the specification"
    return f"{each} and the {interval} are inside the specification"


@dataclass(frozen=True)
class PassProbability:
    """The probability that PPQ lots meet their acceptance criteria, for a process of given mean and SD.

    Attributes
    ----------
    mean, sd : float
        The process mean and the SD of a result within a lot (analysis scale).
        With one result per lot, ``sd`` is the lot-to-lot SD.
    between_sd : float
        SD of the lot means around ``mean`` (0: lots identical, as in PPQplan).
    lower, upper : float
        Limits on the analysis scale (``-inf``/``inf``: open side).
    n_per_lot, n_lots : int
    criterion : str
        ``results``, ``interval`` or ``both``.
    k : float or None
        Multiplier of the interval criterion.
    per_lot : float
        P(one lot passes).
    all_lots : float
        P(all ``n_lots`` lots pass) = ``per_lot ** n_lots``.
    method, reference : str
    """

    mean: float
    sd: float
    between_sd: float
    lower: float
    upper: float
    n_per_lot: int
    n_lots: int
    criterion: str
    k: float | None
    per_lot: float
    all_lots: float
    method: str
    reference: str

    def by_lots(self, ns: Sequence[int] | None = None) -> pd.DataFrame:
        """P(all n lots pass) against n: more PPQ lots are harder to pass."""
        grid = _ns(ns)
        return pd.DataFrame({"n_lots": grid, "probability": self.per_lot ** grid.astype(float)})

    def to_frame(self) -> pd.DataFrame:
        """One row with the field names as columns."""
        row = {name: getattr(self, name) for name in self.__dataclass_fields__}
        return pd.DataFrame([row], columns=list(row))


def _method_words(criterion: str, sb: float, n_sim: int, seed: int) -> str:
    if criterion == "both":
        how = f"Monte Carlo ({n_sim} simulated lots, seed {seed}, common to every cell)"
    elif criterion == "interval":
        how = "numerical integration over the distribution of the lot SD (as PPQplan)"
    else:
        how = "normal probabilities" + (" integrated over the lot means" if sb > 0 else "")
    lots = ("lots independent, each with its own mean (between-lot SD "
            f"{sb:.4g})") if sb > 0 else "lots independent and identical (as PPQplan)"
    return f"{how}; {lots}"


def pass_probability(
    mean: float, sd: float, lower: float | None, upper: float | None, *, n_lots: int = 1, n_per_lot: int = 1,
    criterion: str = "results", k: float | None = None, between_sd: float = 0.0, n_sim: int = DEFAULT_N_SIM,
    seed: int = DEFAULT_SEED,
) -> PassProbability:
    """Probability that all ``n_lots`` PPQ lots meet the acceptance criterion.

    Parameters
    ----------
    mean, sd : float
        Process mean and the SD of one result within a lot (analysis scale).
    lower, upper : float or None
        Specification (acceptance) limits on the analysis scale; at least one.
    n_lots : int
        PPQ lots.
    n_per_lot : int
        Results per lot (locations, samples). With 1, ``sd`` is the lot-to-lot SD.
    criterion : {"results", "interval", "both"}
        Each result inside the limits; ``xbar +/- k s`` inside the limits
        (PPQplan's ``PPQ_pp``, ``pi_pp``, ``ti_pp``); or both.
    k : float
        Multiplier for ``interval``/``both`` (:func:`acceptance_factor`).
    between_sd : float
        SD of lot means around ``mean`` (cgtkit's extension; 0 reproduces PPQplan).

    Raises
    ------
    cgtkit.stats.capability.SpecificationError
        No limit, or lower not below upper.
    cgtkit.errors.InsufficientDataError
        SD 0; ``interval``/``both`` with fewer than 2 results per lot.

    Examples
    --------
    PPQplan's vignette: ``rl_pp(95, 105, 98, 1)`` and ``ti_pp(sigma = 0.5, mu = 2.5, n = 10, Llim = 1.5,
    Ulim = 3.5, alpha = 0.05)`` (coverage 0.675, two-sided, Guenther-corrected Howe k).

    >>> round(pass_probability(98.0, 1.0, 95.0, 105.0).per_lot, 7)
    0.9986501
    >>> k = acceptance_factor(10, interval="tolerance", coverage=0.675)
    >>> round(pass_probability(2.5, 0.5, 1.5, 3.5, n_per_lot=10, criterion="interval", k=k).per_lot, 6)
    0.591041
    """
    lo, hi = _limits(lower, upper)
    n = check_n(n_per_lot, minimum=1, what="The number of results per lot")
    m = check_n(n_lots, minimum=1, what="The number of PPQ lots")
    kk = _check_criterion(criterion, n, k)
    mu = np.array([float(mean)])
    sigma = np.array([float(sd)])
    if not math.isfinite(float(mean)):
        raise ValueError(f"mean must be a finite number; got {mean!r}.")
    _check_sds(sigma, float(between_sd))
    p = float(_per_lot(mu, sigma, lo, hi, n, criterion, kk, float(between_sd), n_sim, seed)[0])
    return PassProbability(
        mean=float(mean), sd=float(sd), between_sd=float(between_sd), lower=lo, upper=hi, n_per_lot=n, n_lots=m,
        criterion=criterion, k=kk, per_lot=p, all_lots=p ** m,
        method=f"Lot passes when {_criterion_words(criterion, n, kk)}; "
               + _method_words(criterion, float(between_sd), n_sim, seed) + ".",
        reference=_PASS_REFERENCE,
    )


@dataclass(frozen=True, eq=False)
class PassProbabilityGrid:
    """Pass probabilities over a grid of process means and SDs (the operating-characteristic heat map).

    ``per_lot`` and ``probability`` have shape ``(len(sds), len(means))``: row
    ``i`` is ``sds[i]``, column ``j`` is ``means[j]`` (as plotly's heat map
    takes ``z``). ``probability = per_lot ** n_lots``.
    """

    means: np.ndarray
    sds: np.ndarray
    per_lot: np.ndarray
    probability: np.ndarray
    lower: float
    upper: float
    n_lots: int
    n_per_lot: int
    criterion: str
    k: float | None
    between_sd: float
    method: str
    reference: str
    contours: tuple[float, ...] = field(default=PASS_CONTOURS)

    def to_frame(self) -> pd.DataFrame:
        """Long format: ``mean``, ``sd``, ``per_lot``, ``probability`` (one row per cell)."""
        mm, ss = np.meshgrid(self.means, self.sds)
        return pd.DataFrame({"mean": mm.ravel(), "sd": ss.ravel(), "per_lot": self.per_lot.ravel(),
                             "probability": self.probability.ravel()})


def default_grid_axes(
    lower: float | None, upper: float | None, *, mean: float | None = None, sd: float | None = None, size: int = 50,
) -> tuple[np.ndarray, np.ndarray]:
    """Means and SDs for a heat map: means across the specification, SDs up to a quarter of its width.

    With one limit, the axes are built around ``mean`` and ``sd`` (required then).

    >>> means, sds = default_grid_axes(95.0, 105.0, size=5)
    >>> means.tolist(), sds.round(3).tolist()
    ([95.0, 97.5, 100.0, 102.5, 105.0], [0.5, 1.0, 1.5, 2.0, 2.5])
    """
    lo, hi = _limits(lower, upper)
    size = check_n(size, minimum=2, what="The grid size")
    if math.isfinite(lo) and math.isfinite(hi):
        centre_lo, centre_hi = lo, hi
        sd_hi = (hi - lo) / 4.0 if sd is None else max((hi - lo) / 4.0, 2.0 * sd)
    else:
        if mean is None or sd is None:
            raise ValueError("With one specification limit, give the mean and sd to centre the grid on.")
        limit = lo if math.isfinite(lo) else hi
        span = max(abs(limit - mean), 3.0 * sd)
        centre_lo, centre_hi = (limit, limit + 2.0 * span) if math.isfinite(lo) else (limit - 2.0 * span, limit)
        sd_hi = max(2.0 * sd, span / 2.0)
    means = np.linspace(centre_lo, centre_hi, size)
    sds = np.linspace(sd_hi / size, sd_hi, size)
    return means, sds


def pass_probability_grid(
    lower: float | None, upper: float | None, means: Sequence[float] | np.ndarray, sds: Sequence[float] | np.ndarray,
    *, n_lots: int = 1, n_per_lot: int = 1, criterion: str = "results", k: float | None = None,
    between_sd: float = 0.0, n_sim: int = DEFAULT_N_SIM, seed: int = DEFAULT_SEED,
) -> PassProbabilityGrid:
    """:func:`pass_probability` over every mean x SD of a grid, vectorised (50 x 50 in well under a second).

    Examples
    --------
    >>> g = pass_probability_grid(95.0, 105.0, [97.0, 100.0], [1.0, 2.0], n_per_lot=10, criterion="interval",
    ...                           k=acceptance_factor(10, interval="tolerance", coverage=0.675))
    >>> g.per_lot.round(7).tolist()
    [[0.7489382, 1.0], [0.0928998, 0.9018469]]
    """
    lo, hi = _limits(lower, upper)
    n = check_n(n_per_lot, minimum=1, what="The number of results per lot")
    m = check_n(n_lots, minimum=1, what="The number of PPQ lots")
    kk = _check_criterion(criterion, n, k)
    mu_axis = np.asarray(means, dtype=float).ravel()
    sd_axis = np.asarray(sds, dtype=float).ravel()
    if mu_axis.size == 0 or sd_axis.size == 0 or not np.all(np.isfinite(mu_axis)):
        raise ValueError("means and sds must be non-empty lists of finite numbers.")
    _check_sds(sd_axis, float(between_sd))
    mm, ss = np.meshgrid(mu_axis, sd_axis)
    per_lot = _per_lot(mm.ravel(), ss.ravel(), lo, hi, n, criterion, kk, float(between_sd), n_sim, seed)
    per_lot = per_lot.reshape(ss.shape)
    return PassProbabilityGrid(
        means=mu_axis, sds=sd_axis, per_lot=per_lot, probability=per_lot ** m, lower=lo, upper=hi, n_lots=m,
        n_per_lot=n, criterion=criterion, k=kk, between_sd=float(between_sd),
        method=f"Lot passes when {_criterion_words(criterion, n, kk)}; "
               + _method_words(criterion, float(between_sd), n_sim, seed) + ".",
        reference=_PASS_REFERENCE,
    )
