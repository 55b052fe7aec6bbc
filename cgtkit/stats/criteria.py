"""Acceptance criteria from few lots: candidates, their false-OOS risk, phase-
appropriate investigational proposals, and the lifecycle replay.

This module turns the primitives of :mod:`cgtkit.stats.tolerance`,
:mod:`cgtkit.stats.oos_risk` and :mod:`cgtkit.stats.control_chart` into the
answers the specifications pages show. It knows the attribute metadata
(:class:`cgtkit.attributes.AttributeSpec`) but nothing of widgets.

Design rule (cgtkit's, not FDA's): attributes of kind ``safety_fixed``
(sterility, mycoplasma, replication-competent virus, dose-derived endotoxin
limits) are never computed or widened by statistics; they are reported as the
fixed requirement they are.

References
----------
.. [1] Krishnamoorthy, K. and Mathew, T. (2009). *Statistical Tolerance Regions:
   Theory, Applications, and Computation*. Wiley.
.. [2] Hahn, G. J. and Meeker, W. Q. (1991). *Statistical Intervals*. Wiley,
   ch. 5 (distribution-free intervals) and ch. 4 (prediction of m future units).
.. [3] NIST/SEMATECH e-Handbook of Statistical Methods, 6.3.2 (Shewhart
   individuals charts and run rules).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cgtkit.attributes import AttributeSpec
from cgtkit.errors import InsufficientDataError
from cgtkit.stats.control_chart import individuals_chart
from cgtkit.stats.oos_risk import future_lot_oos_probability, prob_any_oos
from cgtkit.stats.tolerance import nonparametric_tolerance_interval, normal_tolerance_interval

DEFAULT_HORIZONS: tuple[int, ...] = (10, 50, 100)
DEFAULT_TI_LEVELS: tuple[tuple[float, float], ...] = ((0.95, 0.95), (0.99, 0.95), (0.99, 0.99))
DEFAULT_CHECKPOINTS: tuple[int, ...] = (5, 10, 20, 30)
MIN_LOTS = 3
# Investigational criteria: wide on purpose (phase-appropriate, permissive).
INVESTIGATIONAL_COVERAGE = 0.99
INVESTIGATIONAL_CONFIDENCE = 0.95


def sidedness(spec: AttributeSpec) -> tuple[int, str]:
    """``(sided, side)`` for the tolerance functions from the attribute's limit side."""
    if spec.limit_side == "two_sided":
        return 2, "upper"
    return 1, spec.limit_side


def _scale(spec: AttributeSpec) -> str:
    return "log" if spec.scale == "lognormal" else "normal"


def _percent_bounds(spec: AttributeSpec, low: float | None, high: float | None) -> tuple[float | None, float | None]:
    """A percentage cannot go below 0 or above 100: clip limits that a normal model pushes past."""
    if "%" not in spec.unit:
        return low, high
    lo = None if low is None else max(low, 0.0)
    hi = None if high is None else min(high, 100.0)
    return lo, hi


@dataclass(frozen=True)
class AttributeData:
    """The release results of one attribute that a criterion is computed from."""

    spec: AttributeSpec
    lots: pd.DataFrame  # lot_id, lot_type, manufacture_date, value, censoring (manufacture order)

    @property
    def n(self) -> int:
        return len(self.lots)

    @property
    def values(self) -> np.ndarray:
        return self.lots["value"].to_numpy(dtype=float)

    @property
    def censoring(self) -> list[str]:
        return [str(c) for c in self.lots["censoring"]]


def attribute_data(frame: pd.DataFrame, spec: AttributeSpec, lot_types: Sequence[str] | None = None) -> AttributeData:
    """Pick one attribute's numeric release results (optionally of some lot types only)."""
    from cgtkit.io import attribute_values

    rows = attribute_values(frame, spec.id)
    if lot_types is not None:
        rows = rows[rows["lot_type"].isin(list(lot_types))]
    if spec.kind != "safety_fixed":  # pass/fail safety results stay, for counting; statistics never see them
        rows = rows[rows["value"].notna()]
    cols = [c for c in ("lot_id", "lot_type", "manufacture_date", "process_version", "value", "censoring", "result")
            if c in rows]
    return AttributeData(spec=spec, lots=rows[cols].reset_index(drop=True))


def _require_statistics(data: AttributeData) -> None:
    spec = data.spec
    if spec.kind == "safety_fixed":
        raise InsufficientDataError(
            f"{spec.label} is a safety attribute with a fixed requirement ({spec.fixed_requirement}); "
            "cgtkit never computes or widens such limits. Whether an attribute counts as a safety attribute "
            "is a topic for your FDA meeting."
        )
    if data.n < MIN_LOTS:
        raise InsufficientDataError(
            f"{spec.label}: only {data.n} lot(s) with a numeric result in the selection; statistical limits need "
            f"at least {MIN_LOTS}. Add lot types to the selection, load more lots, or justify a limit from "
            "prior knowledge and discuss it with FDA."
        )


# -- candidates ---------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """One candidate acceptance criterion with its false-OOS risk.

    ``risk`` maps a number of future lots m to the probability that at least one
    of the next m lots of the same, unchanged process falls outside the limits.
    """

    key: str
    label: str
    method: str
    low: float | None
    high: float | None
    k: float | None
    risk: dict[int, float]
    risk_basis: str
    reference: str


@dataclass(frozen=True)
class CandidateSet:
    """All candidates for one attribute from one selection of lots."""

    attribute: str
    label: str
    unit: str
    n: int
    scale: str
    limit_side: str
    candidates: tuple[Candidate, ...]
    notes: tuple[str, ...] = ()
    horizons: tuple[int, ...] = DEFAULT_HORIZONS

    def get(self, key: str) -> Candidate:
        for c in self.candidates:
            if c.key == key:
                return c
        raise KeyError(key)

    def to_frame(self) -> pd.DataFrame:
        rows = []
        for c in self.candidates:
            row = {"key": c.key, "criterion": c.label, "method": c.method, "low": c.low, "high": c.high, "k": c.k}
            for m in self.horizons:
                row[f"risk_next_{m}"] = c.risk.get(m, np.nan)
            rows.append(row)
        return pd.DataFrame(rows)


def nonparametric_any_outside(n: int, m: int, sided: int) -> float:
    """P(at least one of m future lots falls outside the min/max of n past lots).

    Distribution-free: by exchangeability of the n + m lots, all m fall inside
    the observed range exactly when the smallest and largest of all n + m come
    from the first n, probability n(n-1) / ((n+m)(n+m-1)); one-sided, n/(n+m)
    (Hahn and Meeker 1991, ch. 5). For m = 1 this is 2/(n+1) and 1/(n+1).
    """
    if n < 2 or m < 1:
        raise InsufficientDataError("The range needs at least 2 past lots and 1 future lot.")
    inside = n * (n - 1) / ((n + m) * (n + m - 1)) if sided == 2 else n / (n + m)
    return 1.0 - inside


def candidate_criteria(
    data: AttributeData,
    *,
    ti_levels: Sequence[tuple[float, float]] = DEFAULT_TI_LEVELS,
    method: str = "exact",
    horizons: Sequence[int] = DEFAULT_HORIZONS,
) -> CandidateSet:
    """Candidate commercial criteria for one attribute, each with its false-OOS risk.

    Candidates: normal tolerance intervals at ``ti_levels`` (coverage,
    confidence), mean +/- 3 SD (not a tolerance interval: its coverage is not
    controlled at small n), and the observed range (distribution-free). The
    risk of the normal-theory candidates assumes a normal process on the
    analysis scale (log for log-normal attributes); the range's risk holds for
    any continuous distribution.
    """
    _require_statistics(data)
    spec = data.spec
    sided, side = sidedness(spec)
    scale = _scale(spec)
    n = data.n
    horizons = tuple(int(m) for m in horizons)
    candidates: list[Candidate] = []
    notes: list[str] = []
    censoring = data.censoring
    first = None
    for coverage, confidence in ti_levels:
        ti = normal_tolerance_interval(
            data.values, coverage=coverage, confidence=confidence, sided=sided, method=method if sided == 2 else "exact",
            scale=scale, censored=censoring, side=side,
        )
        first = first or ti
        low, high = _percent_bounds(spec, ti.low, ti.high)
        candidates.append(
            Candidate(
                key=f"ti_{round(coverage * 100)}_{round(confidence * 100)}",
                label=f"Tolerance interval {coverage:.0%} coverage / {confidence:.0%} confidence",
                method=(
                    f"normal tolerance interval, {'two' if sided == 2 else 'one'}-sided, "
                    f"{ti.method} k, {'log scale' if scale == 'log' else 'original scale'}"
                ),
                low=low, high=high, k=ti.k,
                risk={m: prob_any_oos(n, ti.k, m, sided=sided).probability for m in horizons},
                risk_basis="normal model on the analysis scale; limits shared by all future lots",
                reference=ti.reference,
            )
        )
    if first is None:
        raise InsufficientDataError("Ask for at least one tolerance interval level (coverage, confidence).")
    if first.censoring_note:
        notes.append(first.censoring_note)
    # mean +/- 3 SD on the analysis scale
    k3 = 3.0
    lo3 = first.mean - k3 * first.sd if (sided == 2 or side == "lower") else None
    hi3 = first.mean + k3 * first.sd if (sided == 2 or side == "upper") else None
    if scale == "log":
        lo3 = None if lo3 is None else float(np.exp(lo3))
        hi3 = None if hi3 is None else float(np.exp(hi3))
    lo3, hi3 = _percent_bounds(spec, lo3, hi3)
    candidates.append(
        Candidate(
            key="mean_3sd",
            label="Mean ± 3 SD" if sided == 2 else ("Mean − 3 SD" if side == "lower" else "Mean + 3 SD"),
            method=f"mean {'±' if sided == 2 else ('−' if side == 'lower' else '+')} 3 SD of {n} lots (not a tolerance interval)",
            low=lo3, high=hi3, k=k3,
            risk={m: prob_any_oos(n, k3, m, sided=sided).probability for m in horizons},
            risk_basis="normal model on the analysis scale; limits shared by all future lots",
            reference="Coverage of mean ± 3 SD is not controlled at small n (Krishnamoorthy and Mathew 2009).",
        )
    )
    npi = nonparametric_tolerance_interval(data.values, sided=sided, side=side)
    candidates.append(
        Candidate(
            key="range",
            label="Observed range" if sided == 2 else ("Observed minimum" if side == "lower" else "Observed maximum"),
            method=f"distribution-free order-statistic limit{'s' if sided == 2 else ''} from {n} lots",
            low=npi.low, high=npi.high, k=None,
            risk={m: nonparametric_any_outside(n, m, sided) for m in horizons},
            risk_basis="distribution-free (any continuous distribution)",
            reference="Hahn and Meeker (1991), Statistical Intervals, ch. 5.",
        )
    )
    if data.lots["censoring"].ne("none").any():
        notes.append("The observed range uses censored results at their reported limit.")
    if "%" in spec.unit and any(c.low == 0.0 or c.high == 100.0 for c in candidates):
        notes.append("A normal-theory limit fell outside 0-100% and is shown at the physical bound: with so few "
                     "lots the normal model gives no usable limit on that side.")
    return CandidateSet(
        attribute=spec.id, label=spec.label, unit=spec.unit, n=n, scale=scale,
        limit_side=spec.limit_side, candidates=tuple(candidates), notes=tuple(notes), horizons=horizons,
    )


# -- investigational proposals -------------------------------------------------


@dataclass(frozen=True)
class InvestigationalProposal:
    """A phase-appropriate (wide) criterion for one attribute, or why there is none."""

    attribute: str
    label: str
    unit: str
    kind: str
    n: int
    low: float | None
    high: float | None
    basis: str
    rationale: str
    next_lot_outside: float | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def investigational_proposal(data: AttributeData) -> InvestigationalProposal:
    """Wide criterion for IND lots: the 99%/95% tolerance limit, never narrower than the lots seen.

    The tolerance limit covers 99% of an unchanged process with 95% confidence;
    extending it to the observed extremes keeps every lot already made inside.
    Safety attributes keep their fixed requirement; too few lots or no
    variability give a problem statement instead of a number.
    """
    spec = data.spec
    base = dict(attribute=spec.id, label=spec.label, unit=spec.unit, kind=spec.kind, n=data.n)
    if spec.kind == "safety_fixed":
        fails = int((data.lots["result"] == "fail").sum()) if "result" in data.lots else 0
        seen = f"{data.n} result(s) in the selection, {fails} failing. " if data.n else ""
        return InvestigationalProposal(
            **base, low=None, high=None, basis="fixed requirement",
            rationale=f"{seen}Safety requirement, not set from lot data: {spec.fixed_requirement.rstrip('.')}."
            + (f" Source: {spec.source.rstrip('.')}." if spec.source else ""),
        )
    try:
        _require_statistics(data)
        sided, side = sidedness(spec)
        ti = normal_tolerance_interval(
            data.values, coverage=INVESTIGATIONAL_COVERAGE, confidence=INVESTIGATIONAL_CONFIDENCE,
            sided=sided, method="exact", scale=_scale(spec), censored=data.censoring, side=side,
        )
    except InsufficientDataError as exc:
        lo, hi = (float(np.min(data.values)), float(np.max(data.values))) if data.n else (None, None)
        return InvestigationalProposal(
            **base, low=None, high=None, basis="none", rationale=f"Observed range {_fmt(lo)} to {_fmt(hi)}." if data.n else "",
            problem=str(exc),
        )
    low, high = ti.low, ti.high
    widened = False
    if low is not None and low > float(np.min(data.values)):
        low, widened = float(np.min(data.values)), True
    if high is not None and high < float(np.max(data.values)):
        high, widened = float(np.max(data.values)), True
    low, high = _percent_bounds(spec, low, high)
    p_next = future_lot_oos_probability(data.n, ti.k, sided=sided)
    rationale = (
        f"{'Two' if sided == 2 else 'One'}-sided normal tolerance limit{'s' if sided == 2 else ''} covering "
        f"{INVESTIGATIONAL_COVERAGE:.0%} of lots with {INVESTIGATIONAL_CONFIDENCE:.0%} confidence, from {data.n} "
        f"engineering/clinical lots (k = {ti.k:.3g}, exact{', log scale' if ti.scale == 'log' else ''}). "
        f"With this k, a future lot of an unchanged process falls outside with probability {p_next:.1%}. "
        + ("Extended to the most extreme lot observed. " if widened else "")
        + (ti.censoring_note if ti.censoring_note else "")
    ).strip()
    return InvestigationalProposal(
        **base, low=low, high=high, basis=f"TI {INVESTIGATIONAL_COVERAGE:.0%}/{INVESTIGATIONAL_CONFIDENCE:.0%}",
        rationale=rationale, next_lot_outside=p_next,
    )


def investigational_table(frame: pd.DataFrame, specs: Sequence[AttributeSpec], lot_types: Sequence[str]) -> list[InvestigationalProposal]:
    """One proposal per attribute present in ``frame``."""
    present = set(frame["attribute"].unique())
    return [investigational_proposal(attribute_data(frame, s, lot_types)) for s in specs if s.id in present]


def _fmt(x: float | None) -> str:
    return "—" if x is None else f"{x:.4g}"


# -- lifecycle replay ----------------------------------------------------------


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
    verdict: str
    re_evaluate: bool


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
    scale: str

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([c.__dict__ for c in self.checkpoints])


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
    _require_statistics(data)
    spec = data.spec
    sided, side = sidedness(spec)
    scale = _scale(spec)
    values = data.values
    n_total = data.n
    usable = [c for c in sorted(set(int(c) for c in checkpoints)) if MIN_LOTS <= c <= n_total]
    if not usable:
        raise InsufficientDataError(
            f"{spec.label}: {n_total} lots in the selection; the replay needs at least {MIN_LOTS} and a checkpoint "
            f"no larger than that (checkpoints asked: {', '.join(map(str, checkpoints))})."
        )
    analysis = np.log(values) if scale == "log" else values
    # Retrospective (phase I) chart over all lots: with limits from every lot, wider-than-thought
    # variability raises no signal, while a sustained shift shows up in the run rules.
    chart = individuals_chart(analysis)
    rules = chart.points["rules"].astype(str)
    flagged = chart.points["out_of_control"].to_numpy(dtype=bool)
    sustained = rules.str.contains("we2|we3|we4").to_numpy(dtype=bool)  # run rules: a shift, not one outlier

    result: list[Checkpoint] = []
    previous: tuple[float | None, float | None, float] | None = None
    for c in usable:
        ti = normal_tolerance_interval(
            values[:c], coverage=coverage, confidence=confidence, sided=sided,
            method=method if sided == 2 else "exact", scale=scale, censored=data.censoring[:c], side=side,
        )
        low, high = _percent_bounds(spec, ti.low, ti.high)
        later = values[c:]
        lo_v = -np.inf if low is None else low
        hi_v = np.inf if high is None else high
        outside_mask = (later < lo_v) | (later > hi_v)
        outside = int(np.sum(outside_mask))
        unexplained = int(np.sum(outside_mask & ~flagged[c:]))  # outside, yet ordinary on the chart
        expected = float(len(later) * future_lot_oos_probability(c, ti.k, sided=sided)) if len(later) else 0.0
        shift = bool(sustained[c:].any())
        reasons = []
        re_eval = False
        if unexplained > max(1.0, 2 * expected):
            reasons.append(
                f"{outside} of {len(later)} later lots fell outside (about {expected:.1f} expected), "
                f"{unexplained} of them with no control-chart signal: the first lots under-stated normal "
                "variability; re-evaluation with the larger data set is justified."
            )
            re_eval = True
        elif outside and shift:
            reasons.append(
                f"{outside} later lot(s) fell outside and the control chart signals a sustained shift: "
                "investigate the cause before changing criteria."
            )
        elif outside > unexplained:
            reasons.append(
                f"{outside} later lot(s) fell outside; the control chart flags {outside - unexplained} of them "
                "as isolated special causes: investigate those lots rather than the criteria."
            )
        if previous is not None:
            centre = float(np.exp(ti.mean)) if scale == "log" else ti.mean
            width_change = _width_change(previous, (low, high, centre))
            if width_change is not None and abs(width_change) > 0.25:
                reasons.append(
                    f"Limits from {c} lots are {abs(width_change):.0%} {'wider' if width_change > 0 else 'narrower'} "
                    "than at the previous checkpoint: consider a re-evaluation (a supplement under 21 CFR 601.12 "
                    "for a licensed product)."
                )
                re_eval = True
        if not reasons:
            reasons.append(
                f"{outside} of {len(later)} later lots outside (about {expected:.1f} expected): consistent with "
                "the criteria."
                if len(later)
                else "No later lots yet to test these criteria."
            )
        previous = (low, high, float(np.exp(ti.mean)) if scale == "log" else ti.mean)
        result.append(
            Checkpoint(
                n_lots=c, through_lot=str(data.lots["lot_id"].iloc[c - 1]), low=low, high=high, k=ti.k,
                later_lots=int(len(later)), later_outside=outside, expected_outside=expected,
                verdict=" ".join(reasons), re_evaluate=re_eval,
            )
        )
    points = chart.points.copy()
    points.insert(0, "lot_id", data.lots["lot_id"].to_numpy())
    centre, ucl, lcl = chart.centre, chart.ucl, chart.lcl
    if scale == "log":
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
