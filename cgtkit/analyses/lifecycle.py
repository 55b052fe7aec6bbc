"""The lifecycle replay: criteria as they would have been set after the first n lots,
tested on the lots made since, read against a control chart.

Each checkpoint carries typed readings (:class:`Reading` plus the numbers it
quotes); :func:`render_reading` turns them into the sentences the page and the
decision record show, so the words are written once and the data can be
tested, filtered or re-worded without parsing text.

References
----------
.. [1] NIST/SEMATECH e-Handbook of Statistical Methods, 6.3.2 (Shewhart
   individuals charts and run rules).
.. [2] Krishnamoorthy, K. and Mathew, T. (2009). *Statistical Tolerance Regions*.
   Wiley.

Examples
--------
>>> render_reading(CheckpointReading(Reading.CONSISTENT, later_lots=12, outside=0, expected=0.3))
'0 of 12 later lots outside (about 0.3 expected): consistent with the criteria.'
>>> Reading.LIMITS_MOVED.re_evaluate, Reading.SUSTAINED_SHIFT.re_evaluate
(True, False)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import pandas as pd

from cgtkit.analyses.specifications import MIN_LOTS, AttributeData, clip_to_physical_bounds, require_statistics
from cgtkit.errors import InsufficientDataError
from cgtkit.stats.control_chart import individuals_chart
from cgtkit.stats.oos_risk import future_lot_oos_probability
from cgtkit.stats.tolerance import normal_tolerance_interval
from cgtkit.vocab import Scale

__all__ = [
    "Checkpoint",
    "CheckpointReading",
    "LifecycleReplay",
    "Reading",
    "lifecycle_replay",
    "render_reading",
    "render_verdict",
]

DEFAULT_CHECKPOINTS: tuple[int, ...] = (5, 10, 20, 30)
#: Limits from more lots that differ in width by more than this fraction call for a re-evaluation.
WIDTH_CHANGE_THRESHOLD = 0.25


class Reading(StrEnum):
    """What the lots after a checkpoint say about the criteria set there."""

    #: More later lots outside than the normal model predicts, with no control-chart signal.
    UNDERSTATED_VARIABILITY = "understated_variability"
    #: Later lots outside, and the chart signals a sustained shift (run rules 2-4).
    SUSTAINED_SHIFT = "sustained_shift"
    #: Later lots outside, some of them isolated special causes on the chart.
    ISOLATED_SPECIAL_CAUSES = "isolated_special_causes"
    #: The limits moved by more than a quarter of their width since the previous checkpoint.
    LIMITS_MOVED = "limits_moved"
    #: As many later lots outside as expected.
    CONSISTENT = "consistent"
    #: No later lot yet.
    NOT_YET_TESTED = "not_yet_tested"

    @property
    def re_evaluate(self) -> bool:
        """True for the readings that justify re-evaluating the criteria with more lots."""
        return self in (Reading.UNDERSTATED_VARIABILITY, Reading.LIMITS_MOVED)


@dataclass(frozen=True)
class CheckpointReading:
    """One reading of a checkpoint, with the numbers its sentence quotes.

    ``later_lots``, ``outside``, ``expected`` and ``unexplained`` count the
    lots after the checkpoint (``unexplained``: outside with no control-chart
    signal); ``n_lots`` and ``width_change`` (relative, signed: > 0 wider) are
    for :attr:`Reading.LIMITS_MOVED`.
    """

    kind: Reading
    later_lots: int = 0
    outside: int = 0
    expected: float = 0.0
    unexplained: int = 0
    n_lots: int = 0
    width_change: float = 0.0


def render_reading(r: CheckpointReading) -> str:
    """The sentence for one reading."""
    if r.kind is Reading.UNDERSTATED_VARIABILITY:
        return (
            f"{r.outside} of {r.later_lots} later lots fell outside (about {r.expected:.1f} expected), "
            f"{r.unexplained} of them with no control-chart signal: the first lots under-stated normal "
            "variability; re-evaluation with the larger data set is justified."
        )
    if r.kind is Reading.SUSTAINED_SHIFT:
        return (
            f"{r.outside} later lot(s) fell outside and the control chart signals a sustained shift: "
            "investigate the cause before changing criteria."
        )
    if r.kind is Reading.ISOLATED_SPECIAL_CAUSES:
        return (
            f"{r.outside} later lot(s) fell outside; the control chart flags {r.outside - r.unexplained} of them "
            "as isolated special causes: investigate those lots rather than the criteria."
        )
    if r.kind is Reading.LIMITS_MOVED:
        return (
            f"Limits from {r.n_lots} lots are {abs(r.width_change):.0%} {'wider' if r.width_change > 0 else 'narrower'} "
            "than at the previous checkpoint: consider a re-evaluation (a supplement under 21 CFR 601.12 "
            "for a licensed product)."
        )
    if r.kind is Reading.CONSISTENT:
        return (
            f"{r.outside} of {r.later_lots} later lots outside (about {r.expected:.1f} expected): consistent with "
            "the criteria."
        )
    return "No later lots yet to test these criteria."


def render_verdict(readings: Sequence[CheckpointReading]) -> str:
    """All readings of a checkpoint as one paragraph."""
    return " ".join(render_reading(r) for r in readings)


@dataclass(frozen=True)
class Checkpoint:
    """Criteria as they would have been set after the first ``n_lots`` lots."""

    n_lots: int
    through_lot: str
    low: float | None
    high: float | None
    k: float
    later_lots: int
    later_outside: int
    expected_outside: float
    readings: tuple[CheckpointReading, ...]

    @property
    def re_evaluate(self) -> bool:
        return any(r.kind.re_evaluate for r in self.readings)

    @property
    def verdict(self) -> str:
        """The readings in words (:func:`render_verdict`)."""
        return render_verdict(self.readings)


@dataclass(frozen=True)
class LifecycleReplay:
    """The lots replayed in manufacture order, with criteria reset at checkpoints."""

    attribute: str
    coverage: float
    confidence_level: float
    checkpoints: tuple[Checkpoint, ...]
    chart_points: pd.DataFrame = field(repr=False)
    chart_centre: float
    chart_ucl: float
    chart_lcl: float
    chart_verdict: str
    scale: Scale

    def to_frame(self) -> pd.DataFrame:
        """One row per checkpoint; ``readings`` lists the reading kinds, ``verdict`` their sentences."""
        return pd.DataFrame(
            [
                {
                    "n_lots": c.n_lots, "through_lot": c.through_lot, "low": c.low, "high": c.high, "k": c.k,
                    "later_lots": c.later_lots, "later_outside": c.later_outside,
                    "expected_outside": c.expected_outside, "verdict": c.verdict, "re_evaluate": c.re_evaluate,
                    "readings": tuple(r.kind for r in c.readings),
                }
                for c in self.checkpoints
            ]
        )


def lifecycle_replay(
    data: AttributeData,
    *,
    checkpoints: Sequence[int] = DEFAULT_CHECKPOINTS,
    coverage: float = 0.99,
    confidence: float = 0.95,
    method: str = "exact",
) -> LifecycleReplay:
    """Replay the lots in order: set criteria from the first n lots at each checkpoint,
    count how many later lots fell outside, and read the control chart to tell
    normal variability from a real shift.

    Re-evaluation is flagged when later lots fall outside more often than the
    normal model predicts while the control chart shows no special cause (the
    few lots under-stated variability), or when limits from more lots differ
    from the earlier ones by more than a quarter of their width.
    """
    require_statistics(data)
    spec = data.spec
    sided, side, scale = spec.limit_side.sided, spec.limit_side.value, spec.scale
    values = data.values
    n_total = data.n
    usable = [c for c in sorted(set(int(c) for c in checkpoints)) if MIN_LOTS <= c <= n_total]
    if not usable:
        raise InsufficientDataError(
            f"{spec.label}: {n_total} lots in the selection; the replay needs at least {MIN_LOTS} and a checkpoint "
            f"no larger than that (checkpoints asked: {', '.join(map(str, checkpoints))})."
        )
    analysis = np.log(values) if scale is Scale.LOG else values
    # Retrospective (phase I) chart over all lots: with limits from every lot, wider-than-thought
    # variability raises no signal, while a sustained shift shows up in the run rules.
    chart = individuals_chart(analysis)
    flagged = chart.points["out_of_control"].to_numpy(dtype=bool)
    # run rules 2-4: a shift, not one outlier
    sustained = np.array([any(rule.signals_shift for rule in hits) for hits in chart.points["rules"]], dtype=bool)

    result: list[Checkpoint] = []
    previous: tuple[float | None, float | None, float] | None = None
    for c in usable:
        ti = normal_tolerance_interval(
            values[:c], coverage=coverage, confidence=confidence, sided=sided,
            method=method if sided == 2 else "exact", scale=scale, censored=data.censoring[:c], side=side,
        )
        low, high, _ = clip_to_physical_bounds(spec, ti.low, ti.high)
        later = values[c:]
        lo_v = -np.inf if low is None else low
        hi_v = np.inf if high is None else high
        outside_mask = (later < lo_v) | (later > hi_v)
        outside = int(np.sum(outside_mask))
        unexplained = int(np.sum(outside_mask & ~flagged[c:]))  # outside, yet ordinary on the chart
        expected = float(len(later) * future_lot_oos_probability(c, ti.k, sided=sided)) if len(later) else 0.0
        shift = bool(sustained[c:].any())
        counts = dict(later_lots=int(len(later)), outside=outside, expected=expected, unexplained=unexplained)
        readings: list[CheckpointReading] = []
        if unexplained > max(1.0, 2 * expected):
            readings.append(CheckpointReading(Reading.UNDERSTATED_VARIABILITY, **counts))
        elif outside and shift:
            readings.append(CheckpointReading(Reading.SUSTAINED_SHIFT, **counts))
        elif outside > unexplained:
            readings.append(CheckpointReading(Reading.ISOLATED_SPECIAL_CAUSES, **counts))
        centre = float(np.exp(ti.mean)) if scale is Scale.LOG else ti.mean
        if previous is not None:
            width_change = _width_change(previous, (low, high, centre))
            if width_change is not None and abs(width_change) > WIDTH_CHANGE_THRESHOLD:
                readings.append(CheckpointReading(Reading.LIMITS_MOVED, n_lots=c, width_change=width_change, **counts))
        if not readings:
            readings.append(CheckpointReading(Reading.CONSISTENT if len(later) else Reading.NOT_YET_TESTED, **counts))
        previous = (low, high, centre)
        result.append(
            Checkpoint(
                n_lots=c, through_lot=str(data.lots["lot_id"].iloc[c - 1]), low=low, high=high, k=ti.k,
                later_lots=int(len(later)), later_outside=outside, expected_outside=expected,
                readings=tuple(readings),
            )
        )
    points = chart.points.copy()
    points.insert(0, "lot_id", data.lots["lot_id"].to_numpy())
    centre, ucl, lcl = chart.centre, chart.ucl, chart.lcl
    if scale is Scale.LOG:
        points["value"] = np.exp(points["value"])
        centre, ucl, lcl = float(np.exp(centre)), float(np.exp(ucl)), float(np.exp(lcl))
    return LifecycleReplay(
        attribute=spec.id, coverage=coverage, confidence_level=confidence, checkpoints=tuple(result),
        chart_points=points, chart_centre=centre, chart_ucl=ucl, chart_lcl=lcl,
        chart_verdict=chart.verdict, scale=scale,
    )


def _width_change(
    before: tuple[float | None, float | None, float], after: tuple[float | None, float | None, float]
) -> float | None:
    """Relative change of the interval's width; one-sided, of the limit's distance from the centre."""

    def spread(lo: float | None, hi: float | None, centre: float) -> float:
        if lo is not None and hi is not None:
            return hi - lo
        return abs(centre - lo) if lo is not None else abs((hi or 0.0) - centre)

    b, a = spread(*before), spread(*after)
    return None if b <= 0 else (a - b) / b
