"""The lifecycle replay: criteria as they would have been set after the first n lots,
tested on the lots made since, with calibrated tests that tell a shift from variability.

The procedure (``docs/lifecycle_replay.md`` gives the reasons and the measured
operating characteristics):

1. **Criteria.** At each checkpoint ``c`` the criteria are the normal tolerance
   interval of lots ``1..c`` (99 %/95 % on the page), and the later lots
   ``c+1..N`` are compared with them.
2. **Shift (once, over all lots).** One step change in the mean, tested by the
   likelihood-ratio (maximum two-sample t) change-point test with a
   simulation-calibrated null distribution, at level :attr:`ReplayLevels.shift`
   (:mod:`cgtkit.stats.change_point`). When it rejects, the least-squares
   change point dates the shift.
3. **Isolated outliers (once, over all lots).** Externally studentized
   residuals around the fitted level(s), Bonferroni over all lots, at level
   :attr:`ReplayLevels.outlier`.
4. **Attribution.** Each later lot outside a checkpoint's criteria is
   attributed to the rule that flags it: :attr:`Cause.OUTLIER`, else
   :attr:`Cause.SHIFT` (at or after the change point, on the side the mean
   moved to), else :attr:`Cause.NONE` (ordinary variability).
5. **Variability (per checkpoint).** The later lots' variance (outliers left
   out, pooled within the levels of a shift) against the variance the criteria
   were set with: one-sided F test at :attr:`ReplayLevels.variance` divided
   among the checkpoints that have later lots (Bonferroni)
   (:mod:`cgtkit.stats.variance_ratio`).
6. **Count (per checkpoint).** The lots outside with no special cause, against
   the exact distribution of that count for an unchanged normal process (the
   later lots share one set of estimated limits, so it is not binomial;
   :mod:`cgtkit.stats.exceedances`), at :attr:`ReplayLevels.count` divided
   among the checkpoints.

A checkpoint whose criteria were set from lots on both sides of a shift gets no
variability or count test: its criteria describe neither process level.

The readings are typed (:class:`Reading` with the numbers in
:class:`CheckpointReading`; :class:`ChartFinding` in :class:`ChartReading` for
the all-lot tests); :func:`render_reading` is the one place they become words.
:func:`replay_signals` runs the same procedure on many simulated series at
once (for its operating characteristics).

References
----------
.. [1] NIST/SEMATECH e-Handbook of Statistical Methods, 6.3.2 (variables control
   charts, Western Electric rules) and 1.3.5.9 (F test for two variances).
.. [2] Montgomery, D. C. (2019). *Introduction to Statistical Quality Control*,
   8th ed. Wiley (phase I and phase II use of control charts).
.. [3] Sullivan, J. H. and Woodall, W. H. (1996). A control chart for
   preliminary analysis of individual observations. *J. Qual. Technol.* 28,
   265-278 (the change-point test for phase I).
.. [4] Krishnamoorthy, K. and Mathew, T. (2009). *Statistical Tolerance Regions*.
   Wiley.

Examples
--------
>>> render_reading(CheckpointReading(Reading.CONSISTENT, later_lots=12, outside=0, expected=0.3))
'0 of 12 later lots outside (about 0.3 expected): consistent with the criteria.'
>>> Reading.LIMITS_MOVED.re_evaluate, Reading.SUSTAINED_SHIFT.re_evaluate
(True, False)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

import numpy as np
import pandas as pd

from cgtkit.analyses.specifications import MIN_LOTS, AttributeData, clip_to_physical_bounds, require_statistics
from cgtkit.errors import InsufficientDataError
from cgtkit.stats.change_point import (
    MIN_SEGMENT,
    StepChangeResult,
    outlier_p_adjusted,
    step_change_p_value,
    step_change_scan,
    step_change_test,
    studentized_residuals,
)
from cgtkit.stats.exceedances import prob_at_least_outside
from cgtkit.stats.oos_risk import future_lot_oos_probability
from cgtkit.stats.tolerance import normal_tolerance_interval, tolerance_factor
from cgtkit.stats.variance_ratio import variance_ratio_p_value
from cgtkit.vocab import Scale

__all__ = [
    "Cause",
    "ChartFinding",
    "ChartReading",
    "Checkpoint",
    "CheckpointReading",
    "DEFAULT_LEVELS",
    "LifecycleReplay",
    "OutsideLot",
    "Reading",
    "ReplayLevels",
    "ReplaySignals",
    "VersionChange",
    "lifecycle_replay",
    "render_reading",
    "render_verdict",
    "replay_signals",
    "version_changes",
]

DEFAULT_CHECKPOINTS: tuple[int, ...] = (5, 10, 20, 30)


@dataclass(frozen=True)
class ReplayLevels:
    """The levels of the replay's tests (see the module notes and ``docs/lifecycle_replay.md``).

    ``shift`` and ``outlier`` are spent once over all lots; ``variance`` and
    ``count`` are each shared (Bonferroni) among the checkpoints that have later
    lots. ``min_segment`` is the fewest lots on each side of a shift.
    """

    shift: float = 0.05
    outlier: float = 0.01
    variance: float = 0.02
    count: float = 0.02
    min_segment: int = MIN_SEGMENT

    def __post_init__(self) -> None:
        for name in ("shift", "outlier", "variance", "count"):
            value = getattr(self, name)
            if not 0.0 < value < 1.0:
                raise ValueError(f"ReplayLevels.{name} must be between 0 and 1; got {value!r}.")
        if self.min_segment < 1:
            raise ValueError(f"ReplayLevels.min_segment must be at least 1; got {self.min_segment!r}.")


DEFAULT_LEVELS = ReplayLevels()


class Reading(StrEnum):
    """What the lots after a checkpoint say about the criteria set there."""

    #: Later lots vary more than the first ones (F test): the first lots under-stated the variability.
    UNDERSTATED_VARIABILITY = "understated_variability"
    #: More later lots outside than the exact count distribution allows, with no shift, outlier or larger variance.
    EXCESS_OUTSIDE = "excess_outside"
    #: The change-point test finds a sustained shift in the mean (after, or among, the checkpoint's lots).
    SUSTAINED_SHIFT = "sustained_shift"
    #: Later lots outside that the outlier test flags as isolated special causes.
    ISOLATED_SPECIAL_CAUSES = "isolated_special_causes"
    #: Limits moved between checkpoints. No longer emitted: limits from more lots are expected to be
    #: narrower (k falls with n), so a width rule fires on stable processes by design. Kept so that
    #: readings recorded earlier still render.
    LIMITS_MOVED = "limits_moved"
    #: No reading above: as many later lots outside as expected.
    CONSISTENT = "consistent"
    #: No later lot yet.
    NOT_YET_TESTED = "not_yet_tested"

    @property
    def re_evaluate(self) -> bool:
        """True for the readings that justify re-evaluating the criteria with more lots."""
        return self in (Reading.UNDERSTATED_VARIABILITY, Reading.EXCESS_OUTSIDE, Reading.LIMITS_MOVED)

    @property
    def investigate(self) -> bool:
        """True for the readings that call for an investigation of the process or of lots."""
        return self in (Reading.SUSTAINED_SHIFT, Reading.ISOLATED_SPECIAL_CAUSES)


class Cause(StrEnum):
    """The rule a later lot outside the criteria is attributed to."""

    #: Flagged by the outlier test (studentized residual).
    OUTLIER = "outlier"
    #: At or after the estimated change point of a significant shift, on the side the mean moved to.
    SHIFT = "shift"
    #: No special cause: ordinary variability.
    NONE = "none"


@dataclass(frozen=True)
class OutsideLot:
    """A later lot outside a checkpoint's criteria and the rule it is attributed to."""

    lot_id: str
    position: int  # 1-based, in manufacture order
    value: float
    cause: Cause


@dataclass(frozen=True)
class CheckpointReading:
    """One reading of a checkpoint, with the numbers its sentence quotes.

    ``later_lots``, ``outside`` and ``expected`` count the lots after the
    checkpoint (``expected``: the mean number outside for an unchanged normal
    process); ``unexplained`` of those outside have no special cause;
    ``eligible`` is the number of later lots of the unchanged process (before a
    shift, outliers left out) and ``count_p`` the exact probability that at
    least ``unexplained`` of them fall outside. ``p_value`` and ``level`` are
    those of the reading's own test (change-point, outlier, F or count);
    ``attributed`` counts the lots outside the reading explains and ``lots``
    names them (or the outliers). ``variance_ratio`` is later over earlier
    variance; ``change_lot`` and ``shift_sd`` date and size a shift, and
    ``before_checkpoint`` says the shift lies among the lots the criteria were
    set from. ``n_lots`` is the checkpoint; ``width_change`` is for the legacy
    :attr:`Reading.LIMITS_MOVED`.
    """

    kind: Reading
    later_lots: int = 0
    outside: int = 0
    expected: float = 0.0
    unexplained: int = 0
    n_lots: int = 0
    width_change: float = 0.0
    eligible: int = 0
    count_p: float | None = None
    p_value: float | None = None
    level: float | None = None
    attributed: int = 0
    lots: tuple[str, ...] = ()
    variance_ratio: float | None = None
    change_lot: str | None = None
    shift_sd: float | None = None
    before_checkpoint: bool = False


class ChartFinding(StrEnum):
    """What the all-lot tests (shift, outliers) find."""

    SHIFT = "shift"
    NO_SHIFT = "no_shift"
    OUTLIERS = "outliers"
    NO_OUTLIER = "no_outlier"
    NOT_TESTED = "not_tested"


@dataclass(frozen=True)
class ChartReading:
    """One finding of the all-lot tests, with the numbers its sentence quotes.

    ``before`` and ``after`` are the levels either side of a shift (geometric
    means for a log-scale attribute); ``needed`` is the number of lots the
    shift test needs (:attr:`ChartFinding.NOT_TESTED`).
    """

    kind: ChartFinding
    n_lots: int
    p_value: float | None = None
    level: float = 0.0
    change_lot: str | None = None
    before: float | None = None
    after: float | None = None
    shift_sd: float | None = None
    lots: tuple[str, ...] = ()
    needed: int = 0


def _p(p: float | None) -> str:
    if p is None or not math.isfinite(p):
        return "p not computed"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _pct(level: float | None) -> str:
    return "" if level is None else f"{level * 100:.2g}%"


def _prob(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def _about(expected: float) -> str:
    return f"{expected:.2f}" if 0 < expected < 0.095 else f"{expected:.1f}"


def _names(lots: Sequence[str]) -> str:
    return ", ".join(lots)


_SHIFT_ACTION = "A shift calls for an investigation of the process, not wider criteria."


def render_reading(r: CheckpointReading | ChartReading) -> str:
    """The sentence for one reading (of a checkpoint, or of the all-lot tests)."""
    if isinstance(r, ChartReading):
        return _render_chart(r)
    if r.kind is Reading.UNDERSTATED_VARIABILITY:
        count = (f"; {r.unexplained} or more with no special cause has probability {_prob(r.count_p)} for an "
                 "unchanged process" if r.count_p is not None and r.unexplained else "")
        ratio = f"{r.variance_ratio:.1f}" if r.variance_ratio is not None else "n/a"
        return (
            f"{r.outside} of {r.later_lots} later lots fell outside (about {_about(r.expected)} expected{count}), and "
            f"the later lots vary more than the first {r.n_lots} (variance ratio {ratio}; one-sided F test "
            f"{_p(r.p_value)}, level {_pct(r.level)}): the first lots under-stated normal variability, or the "
            "process became more variable. If no process change is found, re-evaluation with the larger data set "
            "is justified (a supplement under 21 CFR 601.12 for a licensed product)."
        )
    if r.kind is Reading.EXCESS_OUTSIDE:
        return (
            f"{r.unexplained} of {r.eligible} later lots fell outside with no shift or outlier to explain them "
            f"(about {_about(r.expected)} expected; {r.unexplained} or more has probability {_prob(r.count_p or 0.0)} "
            f"for an unchanged normal process, level {_pct(r.level)}), although the later lots do not vary "
            f"significantly more than the first {r.n_lots}: the first lots placed the criteria off-centre, or the "
            "values have heavier tails than the normal model. Check the distribution (or a log scale) and look for "
            "a drift before re-evaluating the criteria."
        )
    if r.kind is Reading.SUSTAINED_SHIFT:
        size = f"{r.shift_sd:+.1f} SD; " if r.shift_sd is not None and math.isfinite(r.shift_sd) else ""
        test = f"{size}change-point test {_p(r.p_value)}, level {_pct(r.level)}"
        if r.before_checkpoint:
            return (
                f"These criteria were set from lots on both sides of a sustained shift in the mean at lot "
                f"{r.change_lot} ({test}): they describe neither level of the process. {_SHIFT_ACTION}"
            )
        outside = (f"{r.attributed} of {r.outside} later lot(s) outside at the new level"
                   if r.outside else "no later lot fell outside yet")
        return (
            f"A sustained shift in the mean from lot {r.change_lot} on ({test}), after these criteria were set: "
            f"{outside}. {_SHIFT_ACTION}"
        )
    if r.kind is Reading.ISOLATED_SPECIAL_CAUSES:
        if r.lots:
            which = f"{_names(r.lots)} {'is an isolated outlier' if len(r.lots) == 1 else 'are isolated outliers'}"
            return (
                f"{r.outside} later lot(s) fell outside; {which} (studentized residuals, level {_pct(r.level)} over "
                "all lots): investigate those lots rather than the criteria."
            )
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
        count = (f"; {r.unexplained} or more: probability {_prob(r.count_p)} for an unchanged process"
                 if r.count_p is not None and r.unexplained else "")
        return (
            f"{r.outside} of {r.later_lots} later lots outside (about {_about(r.expected)} expected{count}): "
            "consistent with the criteria."
        )
    return "No later lots yet to test these criteria."


def _render_chart(r: ChartReading) -> str:
    if r.kind is ChartFinding.SHIFT:
        size = f"; {r.shift_sd:+.1f} SD" if r.shift_sd is not None and math.isfinite(r.shift_sd) else ""
        levels = f"from {r.before:.4g} to {r.after:.4g}{size}; " if r.before is not None and r.after is not None else ""
        return (
            f"A sustained shift in the mean at lot {r.change_lot} ({levels}change-point test over all {r.n_lots} "
            f"lots {_p(r.p_value)}, level {_pct(r.level)}). {_SHIFT_ACTION}"
        )
    if r.kind is ChartFinding.NO_SHIFT:
        return (f"No sustained shift in the mean (change-point test over all {r.n_lots} lots: {_p(r.p_value)}, "
                f"level {_pct(r.level)}).")
    if r.kind is ChartFinding.OUTLIERS:
        return (
            f"Isolated outlier{'s' if len(r.lots) > 1 else ''}: lot{'s' if len(r.lots) > 1 else ''} "
            f"{_names(r.lots)} (studentized residuals, level {_pct(r.level)} over all {r.n_lots} lots): "
            f"investigate {'them' if len(r.lots) > 1 else 'it'}."
        )
    if r.kind is ChartFinding.NO_OUTLIER:
        return f"No isolated outlier (studentized residuals, level {_pct(r.level)} over all {r.n_lots} lots)."
    return (f"Too few lots ({r.n_lots}) for the shift test, which needs {r.needed}: a shift can be neither claimed "
            "nor excluded.")


def render_verdict(readings: Sequence[CheckpointReading | ChartReading]) -> str:
    """All readings of a checkpoint (or of the all-lot tests) as one paragraph."""
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
    outside_lots: tuple[OutsideLot, ...] = ()

    @property
    def re_evaluate(self) -> bool:
        return any(r.kind.re_evaluate for r in self.readings)

    @property
    def investigate(self) -> bool:
        """A shift or an isolated outlier is read at this checkpoint."""
        return any(r.kind.investigate for r in self.readings)

    @property
    def verdict(self) -> str:
        """The readings in words (:func:`render_verdict`)."""
        return render_verdict(self.readings)


@dataclass(frozen=True)
class VersionChange:
    """Where the replayed lots move from one process version to the next (``position`` is 1-based)."""

    position: int
    lot_id: str
    before: str
    after: str


def version_changes(lot_ids: Sequence[str], versions: Sequence[object]) -> tuple[VersionChange, ...]:
    """The positions where the process version changes, in lot order (missing versions are skipped).

    >>> [(c.position, c.before, c.after) for c in version_changes("abcd", ["v1", "v1", None, "v2"])]
    [(4, 'v1', 'v2')]
    """
    out, last = [], None
    for i, (lot, v) in enumerate(zip(lot_ids, versions, strict=True)):
        if v is None or (isinstance(v, float) and math.isnan(v)) or str(v) == "":
            continue
        if last is not None and str(v) != last:
            out.append(VersionChange(i + 1, str(lot), last, str(v)))
        last = str(v)
    return tuple(out)


@dataclass(frozen=True)
class LifecycleReplay:
    """The lots replayed in manufacture order, with criteria reset at checkpoints.

    ``chart_points`` has one row per lot: ``lot_id``, ``index`` (0-based),
    ``value``, ``fitted`` (the level of the fitted one- or two-level mean),
    ``after_change`` (at or after a significant shift), ``residual``
    (studentized), ``outlier_p`` (Bonferroni-adjusted), ``outlier`` and
    ``out_of_control`` (an outlier or after a shift). ``chart_centre`` is the
    level before any shift and ``chart_lcl``/``chart_ucl`` that level -/+ 3
    residual SDs (on the display scale); levels and SD leave the outliers out.
    ``chart_readings`` are the all-lot findings (:attr:`chart_verdict` in
    words), ``levels`` the levels used, and ``shift`` the change-point test
    on all lots (its least-squares split, significant or not; None when there
    are too few lots).
    """

    attribute: str
    coverage: float
    confidence_level: float
    checkpoints: tuple[Checkpoint, ...]
    chart_points: pd.DataFrame = field(repr=False)
    chart_centre: float
    chart_ucl: float
    chart_lcl: float
    scale: Scale
    chart_readings: tuple[ChartReading, ...] = ()
    levels: ReplayLevels = DEFAULT_LEVELS
    shift: StepChangeResult | None = None
    version_changes: tuple[VersionChange, ...] = ()

    @property
    def version_note(self) -> str:
        """The process version changes among the replayed lots, in words ('' when there are none)."""
        if not self.version_changes:
            return ""
        where = "; ".join(f"{c.before} to {c.after} at lot {c.position} ({c.lot_id})" for c in self.version_changes)
        return (f"The process version changes within these lots: {where}. A shift found at a version change is "
                "the change's effect on the attribute, a question for comparability, not for wider criteria.")

    @property
    def chart_verdict(self) -> str:
        """The all-lot findings (shift, outliers) in words."""
        return render_verdict(self.chart_readings)

    @property
    def change_lot(self) -> str | None:
        """The first lot at the new level when the shift test rejects, else None."""
        hit = next((r for r in self.chart_readings if r.kind is ChartFinding.SHIFT), None)
        return None if hit is None else hit.change_lot

    def to_frame(self) -> pd.DataFrame:
        """One row per checkpoint; ``readings`` lists the reading kinds, ``verdict`` their sentences,
        ``causes`` each later lot outside with the rule it is attributed to."""
        return pd.DataFrame(
            [
                {
                    "n_lots": c.n_lots, "through_lot": c.through_lot, "low": c.low, "high": c.high, "k": c.k,
                    "later_lots": c.later_lots, "later_outside": c.later_outside,
                    "expected_outside": c.expected_outside, "verdict": c.verdict, "re_evaluate": c.re_evaluate,
                    "readings": tuple(r.kind for r in c.readings), "investigate": c.investigate,
                    "causes": tuple((o.lot_id, o.cause) for o in c.outside_lots),
                }
                for c in self.checkpoints
            ]
        )


# -- the procedure, on many series at once ---------------------------------------------

#: Codes of :attr:`ReplaySignals.causes`.
NOT_LATER, INSIDE = -1, 0
CAUSE_CODES: Mapping[Cause, int] = MappingProxyType({Cause.NONE: 1, Cause.SHIFT: 2, Cause.OUTLIER: 3})


@dataclass(frozen=True)
class ReplaySignals:
    """The replay procedure's numbers for ``r`` series of ``n`` lots (analysis scale).

    Per series: ``shift_p``, ``shift`` (significant), ``change_index`` (first
    lot at the new level, 0-based; ``n`` when no shift), ``mean_before``,
    ``mean_after`` and ``sd`` (residual SD of the fitted levels). Per lot:
    ``outlier_p`` (Bonferroni-adjusted) and ``outlier``. Per series and
    checkpoint (``r`` x ``len(checkpoints)``): ``outside``, ``by_shift``,
    ``by_outlier``, ``unexplained``, ``eligible``, ``count_p``,
    ``variance_ratio``, ``variance_p``; ``causes`` (r x checkpoints x n) codes
    every lot (:data:`NOT_LATER`, :data:`INSIDE` or :data:`CAUSE_CODES`).
    ``readings[kind]`` is a boolean array (r x checkpoints).
    """

    checkpoints: tuple[int, ...]
    n_lots: int
    levels: ReplayLevels
    shift_tested: bool
    shift_p: np.ndarray
    shift: np.ndarray
    change_index: np.ndarray
    mean_before: np.ndarray
    mean_after: np.ndarray
    sd: np.ndarray
    outlier_p: np.ndarray
    outlier: np.ndarray
    outside: np.ndarray
    by_shift: np.ndarray
    by_outlier: np.ndarray
    unexplained: np.ndarray
    eligible: np.ndarray
    count_p: np.ndarray
    variance_ratio: np.ndarray
    variance_p: np.ndarray
    causes: np.ndarray
    alpha_variance: float
    alpha_count: float
    readings: Mapping[Reading, np.ndarray]

    def has(self, kind: Reading, through: int | None = None) -> np.ndarray:
        """Per series: any checkpoint (up to lot ``through``) carries a reading of ``kind``."""
        cols = [j for j, c in enumerate(self.checkpoints) if through is None or c <= through]
        return self.readings[kind][:, cols].any(axis=1)


def _levels(
    y: np.ndarray, after: np.ndarray, use: np.ndarray, n_means: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: the mean of the lots used before and after the change (NaN after when there is none)
    and the residual SD around those means."""
    before = use & ~after
    late = use & after
    nb, na = before.sum(axis=1), late.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mb = np.sum(np.where(before, y, 0.0), axis=1) / nb
        ma = np.where(na > 0, np.sum(np.where(late, y, 0.0), axis=1) / np.maximum(na, 1), np.nan)
        fitted = np.where(after, ma[:, None], mb[:, None])
        ss = np.sum(np.where(use, (y - fitted) ** 2, 0.0), axis=1)
        sd = np.sqrt(ss / np.maximum(nb + na - n_means, 1))
    return mb, ma, sd


def _procedure(
    y: np.ndarray, checkpoints: Sequence[int], sd: np.ndarray, low: np.ndarray, high: np.ndarray,
    k: Sequence[float], sided: int, levels: ReplayLevels,
) -> ReplaySignals:
    """The replay on ``y`` (r x n, analysis scale) given each checkpoint's criteria (r x C: the SD they
    were set with and the limits, -inf/inf for an open side) and tolerance factors (C)."""
    r, n = y.shape
    cps = tuple(int(c) for c in checkpoints)
    n_cp = len(cps)
    ms = levels.min_segment
    rows = np.arange(r)
    idx = np.arange(n)

    # 2. shift: the change-point test, once over all lots (1. the criteria are given)
    shift_tested = n >= max(2 * ms, 3)
    if shift_tested:
        positions, t = step_change_scan(y, ms)
        at = np.argmax(np.abs(t), axis=1)
        stat = np.abs(t[rows, at])
        shift_p = step_change_p_value(stat, n, ms)
        shift = shift_p <= levels.shift
        change = np.where(shift, positions[at], n)
    else:
        shift_p = np.full(r, np.nan)
        shift = np.zeros(r, dtype=bool)
        change = np.full(r, n)
    after = idx[None, :] >= change[:, None]
    n_means = 1 + shift.astype(int)
    mean_before, mean_after, _sd = _levels(y, after, np.ones_like(after), n_means)
    direction = np.where(shift, np.sign(mean_after - mean_before), 0.0)

    # 3. isolated outliers around the fitted level(s), Bonferroni over all lots
    resid, df = studentized_residuals(y, np.where(shift, change, -1))
    outlier_p = np.where(df[:, None] >= 1, outlier_p_adjusted(resid, df, n), 1.0)
    outlier = outlier_p <= levels.outlier
    # the levels and the SD that size a shift, without the outliers
    mean_before, mean_after, sd_fit = _levels(y, after, ~outlier, n_means)

    tested = [c for c in cps if c < n]
    alpha_variance = levels.variance / max(len(tested), 1)
    alpha_count = levels.count / max(len(tested), 1)
    shape = (r, n_cp)
    outside, by_shift, by_outlier, unexplained, eligible = (np.zeros(shape, dtype=int) for _ in range(5))
    count_p = np.ones(shape)
    variance_ratio = np.full(shape, np.nan)
    variance_p = np.full(shape, np.nan)
    causes = np.full((r, n_cp, n), NOT_LATER, dtype=np.int8)
    understated = np.zeros(shape, dtype=bool)
    excess = np.zeros(shape, dtype=bool)
    for j, c in enumerate(cps):
        if c >= n:
            continue
        yl = y[:, c:]
        hi = yl > high[:, j : j + 1]
        lo = yl < low[:, j : j + 1]
        out = hi | lo
        ol = outlier[:, c:]
        af = after[:, c:]
        on_shift_side = (hi & (direction[:, None] > 0)) | (lo & (direction[:, None] < 0))
        b_out = out & ol
        b_shift = out & ~ol & af & on_shift_side
        unexp = out & ~b_out & ~b_shift
        # 4. attribution, lot by lot
        code = np.zeros(yl.shape, dtype=np.int8)
        code[unexp] = CAUSE_CODES[Cause.NONE]
        code[b_shift] = CAUSE_CODES[Cause.SHIFT]
        code[b_out] = CAUSE_CODES[Cause.OUTLIER]
        causes[:, j, c:] = code
        outside[:, j], by_shift[:, j], by_outlier[:, j] = out.sum(1), b_shift.sum(1), b_out.sum(1)
        unexplained[:, j] = unexp.sum(1)
        # criteria set from lots on both sides of a shift: no variability or count test
        testable = ~(shift & (change <= c))
        elig = ~ol & ~af  # later lots of the unchanged process, outliers left out
        m_eff = elig.sum(1)
        u = (unexp & elig).sum(1)
        eligible[:, j] = m_eff
        # 6. count: exact distribution for an unchanged process (same k for every series)
        need = testable & (u > 0) & (m_eff > 0)
        if need.any():
            pairs = np.unique(np.stack([m_eff[need], u[need]], axis=1), axis=0)
            tail = {(int(m), int(x)): prob_at_least_outside(c, float(k[j]), int(m), int(x), sided) for m, x in pairs}
            count_p[need, j] = [tail[(int(m), int(x))] for m, x in zip(m_eff[need], u[need], strict=True)]
        # 5. variability: later variance (pooled within levels, outliers out) against the criteria's variance
        keep = ~ol
        ss = np.zeros(r)
        df1 = np.zeros(r)
        for group in (keep & ~af, keep & af):
            ng = group.sum(1)
            mg = np.sum(np.where(group, yl, 0.0), axis=1) / np.maximum(ng, 1)
            ss += np.sum(np.where(group, (yl - mg[:, None]) ** 2, 0.0), axis=1)
            df1 += np.maximum(ng - 1, 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = (ss / df1) / sd[:, j] ** 2
        ok = testable & (df1 >= 1) & (c >= 2)
        variance_ratio[:, j] = np.where(ok, ratio, np.nan)
        variance_p[:, j] = np.where(ok, variance_ratio_p_value(np.where(ok, ratio, 1.0), df1, c - 1), np.nan)
        understated[:, j] = ok & (variance_p[:, j] <= alpha_variance)
        excess[:, j] = testable & ~understated[:, j] & (count_p[:, j] <= alpha_count)

    shift_reading = np.repeat(shift[:, None], n_cp, axis=1)
    isolated = by_outlier > 0
    later = np.array([c < n for c in cps])[None, :].repeat(r, axis=0)
    some = shift_reading | isolated | understated | excess
    readings = {
        Reading.SUSTAINED_SHIFT: shift_reading,
        Reading.ISOLATED_SPECIAL_CAUSES: isolated,
        Reading.UNDERSTATED_VARIABILITY: understated,
        Reading.EXCESS_OUTSIDE: excess,
        Reading.LIMITS_MOVED: np.zeros(shape, dtype=bool),
        Reading.CONSISTENT: ~some & later,
        Reading.NOT_YET_TESTED: ~some & ~later,
    }
    return ReplaySignals(
        checkpoints=cps, n_lots=n, levels=levels, shift_tested=shift_tested, shift_p=shift_p, shift=shift,
        change_index=change, mean_before=mean_before, mean_after=mean_after, sd=sd_fit, outlier_p=outlier_p,
        outlier=outlier, outside=outside, by_shift=by_shift, by_outlier=by_outlier, unexplained=unexplained,
        eligible=eligible, count_p=count_p, variance_ratio=variance_ratio, variance_p=variance_p, causes=causes,
        alpha_variance=alpha_variance, alpha_count=alpha_count, readings=MappingProxyType(readings),
    )


def replay_signals(
    values: np.ndarray,
    *,
    checkpoints: Sequence[int] = DEFAULT_CHECKPOINTS,
    coverage: float = 0.99,
    confidence: float = 0.95,
    sided: int = 2,
    side: str = "upper",
    scale: Scale | str = Scale.NORMAL,
    method: str = "exact",
    levels: ReplayLevels = DEFAULT_LEVELS,
) -> ReplaySignals:
    """The replay procedure on many series at once (one per row; uncensored, no physical bounds).

    The criteria at checkpoint ``c`` are ``mean +/- k sd`` of the first ``c``
    values of each row (on the log scale for ``scale="log"``), exactly as
    :func:`lifecycle_replay` sets them for uncensored data; everything after
    that is the same code. Used to measure the procedure's operating
    characteristics (``tests/unit/test_lifecycle.py``).

    >>> rng = np.random.default_rng(1)
    >>> s = replay_signals(rng.normal(100.0, 5.0, (50, 40)))
    >>> s.has(Reading.SUSTAINED_SHIFT).shape, s.readings[Reading.CONSISTENT].shape
    ((50,), (50, 4))
    """
    x = np.atleast_2d(np.asarray(values, dtype=float))
    y = np.log(x) if Scale(scale) is Scale.LOG else x
    n = y.shape[1]
    cps = tuple(c for c in sorted(set(int(c) for c in checkpoints)) if MIN_LOTS <= c <= n)
    if not cps:
        raise InsufficientDataError(f"No checkpoint between {MIN_LOTS} and {n} lots.")
    mean = np.stack([y[:, :c].mean(axis=1) for c in cps], axis=1)
    sd = np.stack([y[:, :c].std(axis=1, ddof=1) for c in cps], axis=1)
    k = [tolerance_factor(c, coverage, confidence, sided=sided, method=method if sided == 2 else "exact")
         for c in cps]
    kk = np.asarray(k)[None, :]
    if sided == 2:
        low, high = mean - kk * sd, mean + kk * sd
    elif side == "upper":
        low, high = np.full_like(mean, -np.inf), mean + kk * sd
    else:
        low, high = mean - kk * sd, np.full_like(mean, np.inf)
    return _procedure(y, cps, sd, low, high, k, sided, levels)


# -- one data set ----------------------------------------------------------------------


def _to_analysis(limit: float | None, scale: Scale, lower: bool) -> float:
    if limit is None:
        return -np.inf if lower else np.inf
    if scale is Scale.LOG:
        return float(np.log(limit)) if limit > 0 else -np.inf
    return float(limit)


def lifecycle_replay(
    data: AttributeData,
    *,
    checkpoints: Sequence[int] = DEFAULT_CHECKPOINTS,
    coverage: float = 0.99,
    confidence: float = 0.95,
    method: str = "exact",
    levels: ReplayLevels = DEFAULT_LEVELS,
) -> LifecycleReplay:
    """Replay the lots in order: set criteria from the first n lots at each checkpoint,
    test them on the later lots, and tell a shift or an outlier from variability.

    See the module notes for the procedure; the readings of each checkpoint
    are, in this order: :attr:`Reading.SUSTAINED_SHIFT` (the change-point
    test rejects), :attr:`Reading.ISOLATED_SPECIAL_CAUSES` (a later lot
    outside is an outlier), :attr:`Reading.UNDERSTATED_VARIABILITY` (F test)
    or else :attr:`Reading.EXCESS_OUTSIDE` (exact count test), and
    :attr:`Reading.CONSISTENT` / :attr:`Reading.NOT_YET_TESTED` when none
    applies. Censored results enter the tests at their reported limit, and the
    criteria's SD is the censored-data estimate: an approximation.
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
    lot_ids = [str(v) for v in data.lots["lot_id"]]

    tis, limits = [], []
    for c in usable:
        ti = normal_tolerance_interval(
            values[:c], coverage=coverage, confidence=confidence, sided=sided,
            method=method if sided == 2 else "exact", scale=scale, censored=data.censoring[:c], side=side,
        )
        low, high, _ = clip_to_physical_bounds(spec, ti.low, ti.high)
        tis.append(ti)
        limits.append((low, high))
    sig = _procedure(
        analysis[None, :], usable,
        sd=np.array([[ti.sd for ti in tis]]),
        low=np.array([[_to_analysis(lo, scale, True) for lo, _hi in limits]]),
        high=np.array([[_to_analysis(hi, scale, False) for _lo, hi in limits]]),
        k=[ti.k for ti in tis], sided=sided, levels=levels,
    )

    shift = bool(sig.shift[0])
    change = int(sig.change_index[0])
    change_lot = lot_ids[change] if shift else None
    shift_sd = float((sig.mean_after[0] - sig.mean_before[0]) / sig.sd[0]) if shift and sig.sd[0] > 0 else None
    shift_p = float(sig.shift_p[0]) if sig.shift_tested else None
    outlier_lots = tuple(lot_ids[i] for i in np.flatnonzero(sig.outlier[0]))

    result: list[Checkpoint] = []
    for j, (c, ti, (low, high)) in enumerate(zip(usable, tis, limits, strict=True)):
        m = n_total - c
        expected = float(m * future_lot_oos_probability(c, ti.k, sided=sided)) if m else 0.0
        codes = sig.causes[0, j]
        by_code = {v: kind for kind, v in CAUSE_CODES.items()}
        outside_lots = tuple(
            OutsideLot(lot_ids[i], i + 1, float(values[i]), by_code[int(codes[i])])
            for i in range(c, n_total) if codes[i] > INSIDE
        )
        counts = dict(
            later_lots=m, outside=int(sig.outside[0, j]), expected=expected,
            unexplained=int(sig.unexplained[0, j]), n_lots=c, eligible=int(sig.eligible[0, j]),
            count_p=float(sig.count_p[0, j]) if sig.unexplained[0, j] else None,
        )
        readings: list[CheckpointReading] = []
        by_shift = tuple(o for o in outside_lots if o.cause is Cause.SHIFT)
        by_outlier = tuple(o for o in outside_lots if o.cause is Cause.OUTLIER)
        if sig.readings[Reading.SUSTAINED_SHIFT][0, j]:
            readings.append(CheckpointReading(
                Reading.SUSTAINED_SHIFT, **counts, p_value=shift_p, level=levels.shift, attributed=len(by_shift),
                lots=tuple(o.lot_id for o in by_shift), change_lot=change_lot, shift_sd=shift_sd,
                before_checkpoint=change <= c,
            ))
        if sig.readings[Reading.ISOLATED_SPECIAL_CAUSES][0, j]:
            readings.append(CheckpointReading(
                Reading.ISOLATED_SPECIAL_CAUSES, **counts, level=levels.outlier, attributed=len(by_outlier),
                lots=tuple(o.lot_id for o in by_outlier),
                p_value=float(min(sig.outlier_p[0, o.position - 1] for o in by_outlier)),
            ))
        ratio = sig.variance_ratio[0, j]
        ratio_value = float(ratio) if np.isfinite(ratio) else None
        if sig.readings[Reading.UNDERSTATED_VARIABILITY][0, j]:
            readings.append(CheckpointReading(
                Reading.UNDERSTATED_VARIABILITY, **counts, p_value=float(sig.variance_p[0, j]),
                level=sig.alpha_variance, variance_ratio=ratio_value,
            ))
        elif sig.readings[Reading.EXCESS_OUTSIDE][0, j]:
            readings.append(CheckpointReading(
                Reading.EXCESS_OUTSIDE, **counts, p_value=float(sig.count_p[0, j]), level=sig.alpha_count,
                variance_ratio=ratio_value,
            ))
        if not readings:
            kind = Reading.CONSISTENT if m else Reading.NOT_YET_TESTED
            readings.append(CheckpointReading(kind, **counts, variance_ratio=ratio_value))
        result.append(
            Checkpoint(
                n_lots=c, through_lot=lot_ids[c - 1], low=low, high=high, k=ti.k,
                later_lots=m, later_outside=int(sig.outside[0, j]), expected_outside=expected,
                readings=tuple(readings), outside_lots=outside_lots,
            )
        )

    # the all-lot findings, and the points of the figure
    display = (lambda v: np.exp(v)) if scale is Scale.LOG else (lambda v: v)
    before = float(sig.mean_before[0])
    after = float(sig.mean_after[0]) if shift else before
    chart: list[ChartReading] = []
    if not sig.shift_tested:
        chart.append(ChartReading(ChartFinding.NOT_TESTED, n_total, needed=max(2 * levels.min_segment, 3)))
    elif shift:
        chart.append(ChartReading(
            ChartFinding.SHIFT, n_total, p_value=shift_p, level=levels.shift, change_lot=change_lot,
            before=float(display(before)), after=float(display(after)), shift_sd=shift_sd,
        ))
    else:
        chart.append(ChartReading(ChartFinding.NO_SHIFT, n_total, p_value=shift_p, level=levels.shift))
    if outlier_lots:
        chart.append(ChartReading(ChartFinding.OUTLIERS, n_total, level=levels.outlier, lots=outlier_lots,
                                  p_value=float(sig.outlier_p[0].min())))
    else:
        chart.append(ChartReading(ChartFinding.NO_OUTLIER, n_total, level=levels.outlier))

    after_change = np.arange(n_total) >= change
    fitted = np.where(after_change, after, before)
    resid, _df = studentized_residuals(analysis, change if shift else None)
    points = pd.DataFrame(
        {
            "lot_id": lot_ids,
            "index": np.arange(n_total),
            "value": values,
            "fitted": display(fitted),
            "after_change": after_change,
            "residual": resid,
            "outlier_p": sig.outlier_p[0],
            "outlier": sig.outlier[0],
            "out_of_control": sig.outlier[0] | after_change,
            "process_version": (data.lots["process_version"].to_numpy(dtype=object)
                                if "process_version" in data.lots else np.full(n_total, None, dtype=object)),
        }
    )
    sd_fit = float(sig.sd[0])
    return LifecycleReplay(
        attribute=spec.id, coverage=coverage, confidence_level=confidence, checkpoints=tuple(result),
        chart_points=points, chart_centre=float(display(before)),
        chart_ucl=float(display(before + 3.0 * sd_fit)), chart_lcl=float(display(before - 3.0 * sd_fit)),
        scale=scale, chart_readings=tuple(chart), levels=levels,
        shift=step_change_test(analysis, levels.min_segment) if sig.shift_tested else None,
        version_changes=version_changes(lot_ids, list(points["process_version"])),
    )

