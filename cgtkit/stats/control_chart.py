"""Individuals / moving-range (I-MR) control chart with Western Electric run rules.

With one result per lot, process stability is judged on an individuals chart:
the centre line is the mean of a baseline set of lots, the process standard
deviation is estimated from the average moving range of consecutive lots
(``sigma = MRbar / d2``, ``d2 = 1.128`` for ranges of two), and the control
limits are the centre line +/- 3 sigma. Lots are then screened with the four
Western Electric zone rules for special-cause signals.

References
----------
.. [1] Montgomery, D. C. (2019). *Introduction to Statistical Quality
   Control*, 8th ed. Wiley. Chapter 6 (individuals and moving-range charts)
   and Appendix Table VI (``d2 = 1.128``, ``D4 = 3.267`` for n = 2).
.. [2] Western Electric Company (1956). *Statistical Quality Control
   Handbook*. Indianapolis: Western Electric Co. (zone rules 1-4).
.. [3] NIST/SEMATECH e-Handbook of Statistical Methods, section 6.3.2
   "What are variables control charts?" (Western Electric rules).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from cgtkit.errors import InsufficientDataError
from cgtkit.stats._checks import as_finite_1d
from cgtkit.stats.change_point import estimate_change_point

__all__ = [
    "D2_SPAN2",
    "D4_SPAN2",
    "RULES",
    "ChartSignals",
    "ControlChartResult",
    "RunRule",
    "individuals_chart",
]

#: Bias-correction constant d2 for moving ranges of span 2 (Montgomery,
#: *Introduction to Statistical Quality Control*, Appendix Table VI; the exact
#: value is 2 / sqrt(pi) = 1.12838).
D2_SPAN2 = 1.128

#: Upper control-limit factor D4 for a moving range of span 2 (Montgomery,
#: Appendix Table VI).
D4_SPAN2 = 3.267

class RunRule(StrEnum):
    """The Western Electric zone rules (Western Electric 1956; NIST e-Handbook 6.3.2).

    A member equals its short name (``RunRule.WE1 == "we1"``), so results
    read and compare as plain strings too.

    >>> RunRule("we4").signals_shift, RunRule.WE1.signals_shift
    (True, False)
    """

    WE1 = "we1"
    WE2 = "we2"
    WE3 = "we3"
    WE4 = "we4"

    @property
    def description(self) -> str:
        return RULES[self]

    @property
    def number(self) -> int:
        """1-4, as the rules are cited."""
        return int(self.value[-1])

    @property
    def signals_shift(self) -> bool:
        """Rules 2-4 fire on a run of lots, i.e. a sustained shift; rule 1 on one outlying lot."""
        return self is not RunRule.WE1


#: What each rule looks for.
RULES: Mapping[RunRule, str] = MappingProxyType(
    {
        RunRule.WE1: "1 point beyond 3 sigma",
        RunRule.WE2: "2 of 3 consecutive points beyond 2 sigma on the same side",
        RunRule.WE3: "4 of 5 consecutive points beyond 1 sigma on the same side",
        RunRule.WE4: "8 consecutive points on the same side of the centre line",
    }
)

_REFERENCE = (
    "Individuals chart with sigma = MRbar/d2, d2 = 1.128 (Montgomery, Introduction to "
    "Statistical Quality Control, ch. 6 and App. Table VI); Western Electric rules "
    "(Western Electric Statistical Quality Control Handbook, 1956; NIST/SEMATECH "
    "e-Handbook 6.3.2)."
)


@dataclass(frozen=True)
class ChartSignals:
    """Summary of the special-cause signals on a control chart.

    Attributes
    ----------
    first_index : Mapping[RunRule, int or None]
        For each rule applied (``"we1"`` ... ``"we4"``), the 0-based position
        of the first lot where it fires, or ``None``.
    first_label : Mapping[RunRule, str or None]
        The same, as the lot label.
    n_flagged : Mapping[RunRule, int]
        Number of lots flagged by each rule.
    verdict : str
        Plain-words conclusion, e.g. ``"No special-cause signal ..."`` or
        ``"Special-cause signal: shift detected from lot 12 ..."``.
    shift_from_index : int or None
        0-based position of the lot the verdict dates the first shift at
        (run rules 2-4): the first lot of the run that signals it when the
        limits come from earlier lots (phase II), or the estimated change
        point when the run lies among the lots that set the limits; ``None``
        when no shift rule fires.
    shift_from_label : str or None
        The same, as the lot label.
    """

    first_index: Mapping[RunRule, int | None]
    first_label: Mapping[RunRule, str | None]
    n_flagged: Mapping[RunRule, int]
    verdict: str
    shift_from_index: int | None = None
    shift_from_label: str | None = None

    def to_frame(self) -> pd.DataFrame:
        """One row per rule.

        Returns
        -------
        pandas.DataFrame
            Columns ``rule``, ``description``, ``first_index`` (nullable
            Int64), ``first_label`` and ``n_flagged``.
        """
        rules = list(self.first_index)
        return pd.DataFrame(
            {
                "rule": rules,
                "description": [RULES[r] for r in rules],
                "first_index": pd.array([self.first_index[r] for r in rules], dtype="Int64"),
                "first_label": [self.first_label[r] for r in rules],
                "n_flagged": [self.n_flagged[r] for r in rules],
            }
        )


@dataclass(frozen=True)
class ControlChartResult:
    """An individuals (I-MR) control chart and its Western Electric signals.

    Attributes
    ----------
    centre : float
        Centre line: mean of the baseline lots.
    sigma : float
        Estimated process standard deviation, ``mr_bar / d2``.
    ucl : float
        Upper control limit, ``centre + 3 sigma``.
    lcl : float
        Lower control limit, ``centre - 3 sigma``.
    mr_bar : float
        Average moving range of the baseline lots.
    mr_ucl : float
        Upper control limit of the moving-range chart, ``D4 * mr_bar``.
    d2 : float
        The constant used (1.128).
    baseline_n : int
        Number of leading lots used to set the limits.
    n : int
        Total number of lots charted.
    rules : tuple of RunRule
        Rules applied.
    points : pandas.DataFrame
        One row per lot; see :meth:`to_frame`.
    signals : ChartSignals
        First lot flagged by each rule and a plain-words verdict.
    note : str
        Caveats (e.g. provisional limits from a short baseline).
    reference : str
        Literature reference.
    """

    centre: float
    sigma: float
    ucl: float
    lcl: float
    mr_bar: float
    mr_ucl: float
    d2: float
    baseline_n: int
    n: int
    rules: tuple[RunRule, ...]
    points: pd.DataFrame = field(repr=False, compare=False)
    signals: ChartSignals
    note: str
    reference: str

    @property
    def verdict(self) -> str:
        """Plain-words conclusion; shortcut for ``signals.verdict``."""
        return self.signals.verdict

    def to_frame(self) -> pd.DataFrame:
        """Per-lot table of the chart.

        Returns
        -------
        pandas.DataFrame
            A copy of :attr:`points` with columns ``index`` (0-based position),
            ``label``, ``value``, ``in_baseline``, ``moving_range`` (NaN for
            the first lot), ``z`` (distance from the centre line in sigmas),
            ``mr_above_ucl``, ``rules`` (the tuple of :class:`RunRule` that
            flag the lot, ``()`` if none) and ``out_of_control`` (bool).
        """
        return self.points.copy()


def _flags(z: np.ndarray, rules: Sequence[str]) -> dict[RunRule, np.ndarray]:
    """Boolean flag arrays per rule; a lot is flagged where it completes a pattern."""
    n = z.size
    out: dict[RunRule, np.ndarray] = {}
    for rule in map(RunRule, rules):
        flag = np.zeros(n, dtype=bool)
        if rule is RunRule.WE1:
            flag = np.abs(z) > 3.0
        else:
            for sign in (1.0, -1.0):
                side = sign * z
                if rule is RunRule.WE2:
                    beyond, window, needed = side > 2.0, 3, 2
                elif rule is RunRule.WE3:
                    beyond, window, needed = side > 1.0, 5, 4
                else:  # we4
                    beyond, window, needed = side > 0.0, 8, 8
                for i in range(n):
                    if not beyond[i]:
                        continue  # the flagged lot must itself be part of the pattern
                    start = i - window + 1
                    if start < 0 and rule is RunRule.WE4:
                        continue  # a run of 8 needs 8 lots
                    if int(beyond[max(start, 0) : i + 1].sum()) >= needed:
                        flag[i] = True
        out[rule] = flag
    return out


#: For run rules 2 and 3: the window and the zone (in sigmas) a lot must be beyond.
_WINDOWS = {RunRule.WE2: (3, 2.0), RunRule.WE3: (5, 1.0), RunRule.WE4: (8, 0.0)}


def _run_start(z: np.ndarray, i: int, rule: RunRule) -> int:
    """First lot of the run that makes ``rule`` fire at lot ``i``: the earliest lot of the
    window that is beyond the rule's zone on the same side as lot ``i``."""
    window, zone = _WINDOWS[rule]
    side = np.sign(z[i]) * z
    start = max(i - window + 1, 0)
    return next(j for j in range(start, i + 1) if side[j] > zone)


def individuals_chart(
    values: Sequence[float] | np.ndarray,
    baseline_n: int | None = None,
    rules: Sequence[str] = tuple(RunRule),
    labels: Sequence[object] | None = None,
) -> ControlChartResult:
    """Individuals (I-MR) control chart with Western Electric run rules.

    Parameters
    ----------
    values : array_like of float
        One result per lot, in manufacturing order.
    baseline_n : int, optional
        Use the first ``baseline_n`` lots (at least 2) to set the centre line
        and limits; later lots are judged against them. Default: all lots.
    rules : sequence of RunRule or {"we1", "we2", "we3", "we4"}, default all four
        Western Electric rules to apply: 1 = one point beyond 3 sigma;
        2 = 2 of 3 consecutive points beyond 2 sigma on the same side;
        3 = 4 of 5 consecutive points beyond 1 sigma on the same side;
        4 = 8 consecutive points on the same side of the centre line.
    labels : sequence, optional
        Lot identifiers used in the verdict and the ``label`` column
        (default: ``"1"``, ``"2"``, ... in order).

    Returns
    -------
    ControlChartResult
        Limits, per-lot table (:meth:`ControlChartResult.to_frame`) and
        signals.

    Raises
    ------
    cgtkit.errors.InsufficientDataError
        Fewer than 2 lots, non-finite values, or all baseline lots identical
        (zero moving range).
    ValueError
        ``baseline_n`` not a whole number from 2 to the number of lots, an
        unknown rule, or not one label per lot.

    Notes
    -----
    ``sigma = MRbar / d2`` with ``MRbar`` the mean of ``|x_i - x_{i-1}|`` over
    the baseline and ``d2 = 1.128`` (Montgomery, Appendix Table VI). A lot is
    flagged by rules 2-4 when it *completes* the pattern and is itself beyond
    the relevant zone; near the start of the series rules 2 and 3 count the
    lots available (e.g. the first two lots both beyond 2 sigma fire rule 2),
    while rule 4 needs 8 lots. Points exactly on a zone boundary or on the
    centre line are not "beyond" it.

    The verdict dates a shift (rules 2-4) at the first lot of the run that
    signals it (for rules 2 and 3, the first lot of the window beyond the
    zone) when that run comes after the baseline (phase II). When the run
    starts among the baseline lots, the limits were computed from lots on
    both sides of any step, so a run on the *old* level can signal first; the
    shift is then dated at the estimated change point
    (:func:`cgtkit.stats.change_point.estimate_change_point`) and the runs are
    listed with their lots. The Western Electric rules are not calibrated for
    a retrospective chart: over 40 lots of a stable process all four together
    signal somewhere in about 28 % of series (see
    ``cgtkit.analyses.lifecycle`` for a calibrated shift test).

    References
    ----------
    .. [1] Montgomery, D. C. (2019). Introduction to Statistical Quality
       Control, 8th ed. Wiley. Chapter 6, Appendix Table VI.
    .. [2] Western Electric Company (1956). Statistical Quality Control
       Handbook.
    .. [3] NIST/SEMATECH e-Handbook of Statistical Methods, 6.3.2.

    Examples
    --------
    >>> chart = individuals_chart([10.1, 9.8, 10.3, 10.0, 9.9, 10.2, 13.5])
    >>> chart.signals.first_index["we1"]
    6
    """
    x = as_finite_1d(values)
    n = x.size
    if n < 2:
        raise InsufficientDataError(
            f"A control chart needs at least 2 lots (to form a moving range); got {n}. "
            f"Add results from more lots."
        )
    if baseline_n is None:
        base = n
    else:
        try:
            whole = not isinstance(baseline_n, bool) and float(baseline_n).is_integer()
        except (TypeError, ValueError):
            whole = False
        if not whole:
            raise ValueError(
                f"baseline_n must be a whole number of lots; got {baseline_n!r}."
            )
        base = int(baseline_n)
        if base < 2 or base > n:
            raise ValueError(
                f"baseline_n is {base}, but it must be at least 2 and at most the number of "
                f"lots ({n}). Choose how many of the first lots set the limits."
            )
    names = tuple(str(r).lower() for r in ([rules] if isinstance(rules, str) else rules))
    unknown = [r for r in names if r not in {rule.value for rule in RunRule}]
    if unknown:
        raise ValueError(f"Unknown rule(s) {unknown}; choose from {', '.join(RULES)}.")
    rules = tuple(RunRule(r) for r in names)
    if labels is None:
        label_list = [str(i + 1) for i in range(n)]
    else:
        label_list = [str(v) for v in labels]
        if len(label_list) != n:
            raise ValueError(
                f"{len(label_list)} labels were given for {n} values; give one label per lot."
            )

    baseline = x[:base]
    mr_base = np.abs(np.diff(baseline))
    mr_bar = float(mr_base.mean())
    if mr_bar == 0.0:
        raise InsufficientDataError(
            f"All {base} baseline lots have the same value, so the moving range is zero and "
            f"the process variation cannot be estimated. Use more (or different) baseline lots."
        )
    centre = float(baseline.mean())
    sigma = mr_bar / D2_SPAN2
    ucl, lcl = centre + 3.0 * sigma, centre - 3.0 * sigma
    mr_ucl = D4_SPAN2 * mr_bar

    z = (x - centre) / sigma
    flags = _flags(z, rules)
    moving_range = np.concatenate([[np.nan], np.abs(np.diff(x))])
    hits = [tuple(r for r in rules if flags[r][i]) for i in range(n)]
    out_of_control = np.array([bool(h) for h in hits], dtype=bool)
    points = pd.DataFrame(
        {
            "index": np.arange(n),
            "label": label_list,
            "value": x,
            "in_baseline": np.arange(n) < base,
            "moving_range": moving_range,
            "z": z,
            "mr_above_ucl": np.nan_to_num(moving_range, nan=0.0) > mr_ucl,
            "rules": hits,
            "out_of_control": out_of_control,
        }
    )

    first_index: dict[RunRule, int | None] = {}
    first_label: dict[RunRule, str | None] = {}
    n_flagged: dict[RunRule, int] = {}
    for r in rules:
        where = np.flatnonzero(flags[r])
        first_index[r] = int(where[0]) if where.size else None
        first_label[r] = label_list[int(where[0])] if where.size else None
        n_flagged[r] = int(where.size)

    # A run rule dates a shift at the first lot of its run when the limits come from earlier lots
    # (phase II). When the run lies among the lots that set the limits (a retrospective chart), the
    # centre line sits between the two levels of a step, so a run on the old level signals too (a
    # clean step at lot 16 fires rule 4 on lots 1-8): the shift is then dated at the estimated change
    # point, the least-squares step in the mean of all charted lots.
    runs = {r: _run_start(z, first_index[r], r) for r in rules if r.signals_shift and first_index[r] is not None}
    within = [r for r in runs if runs[r] < base]
    change = estimate_change_point(x) if within else None
    phrases = []
    dates: list[int] = []
    for r in rules:
        i = first_index[r]
        if i is None:
            continue
        if r is RunRule.WE1:
            direction = "above the upper" if z[i] > 0 else "below the lower"
            phrases.append(f"lot {label_list[i]} is {direction} control limit (rule 1)")
            continue
        start = runs[r]
        if r in within and change is not None:
            if r is within[0]:
                described = ", ".join(
                    f"rule {q.number} on lots {label_list[runs[q]]}-{label_list[first_index[q]]} "
                    f"({'high' if z[first_index[q]] > 0 else 'low'})"
                    for q in within
                )
                phrases.append(
                    f"shift detected from lot {label_list[change]} (estimated change point of a step in the "
                    f"mean; the limits were set from lots on both sides of it, so runs on either level "
                    f"signal: {described})"
                )
                dates.append(change)
            continue
        dates.append(start)
        if r is RunRule.WE4:
            direction = "above" if z[i] > 0 else "below"
            phrases.append(
                f"shift detected from lot {label_list[start]}: 8 lots in a row {direction} the "
                f"centre line ending at lot {label_list[i]} (rule 4)"
            )
        else:
            direction = "high" if z[i] > 0 else "low"
            phrases.append(
                f"shift detected from lot {label_list[start]}: {RULES[r]} ({direction}; rule {r.number}, "
                f"completed at lot {label_list[i]})"
            )
    shift_from = min(dates) if dates else None
    if phrases:
        verdict = "Special-cause signal: " + "; ".join(phrases) + "."
    else:
        verdict = (
            f"No special-cause signal: all {n} lots are consistent with the baseline "
            f"(rules checked: {', '.join(rules) if rules else 'none'})."
        )

    note = ""
    if base < 20:
        note = (
            f"The limits are based on {base} lots; with fewer than about 20 baseline lots they "
            f"are provisional and should be recalculated as more lots are made."
        )

    return ControlChartResult(
        centre=centre,
        sigma=float(sigma),
        ucl=float(ucl),
        lcl=float(lcl),
        mr_bar=mr_bar,
        mr_ucl=float(mr_ucl),
        d2=D2_SPAN2,
        baseline_n=base,
        n=n,
        rules=rules,
        points=points,
        signals=ChartSignals(
            first_index=MappingProxyType(first_index),
            first_label=MappingProxyType(first_label),
            n_flagged=MappingProxyType(n_flagged),
            verdict=verdict,
            shift_from_index=shift_from,
            shift_from_label=None if shift_from is None else label_list[shift_from],
        ),
        note=note,
        reference=_REFERENCE,
    )
