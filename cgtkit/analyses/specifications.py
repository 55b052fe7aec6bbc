"""Acceptance criteria from few lots: candidates with their false-OOS risk, and
phase-appropriate investigational proposals.

A data set + one attribute's metadata (:class:`cgtkit.attributes.AttributeSpec`)
+ the user's lot-type selection go in; calls of :mod:`cgtkit.stats.tolerance`
and :mod:`cgtkit.stats.oos_risk` are made on the numbers; typed results come
out. The policies live here, not in the statistics: the investigational
coverage and confidence, the tolerance levels offered, the minimum number of
lots, and clipping at the attribute's physical bounds (from the metadata, never
guessed from the unit).

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

Examples
--------
>>> import pandas as pd
>>> from cgtkit.attributes import get_attribute
>>> lots = pd.DataFrame({"lot_id": ["A", "B", "C", "D"], "lot_type": ["clinical"] * 4,
...                      "manufacture_date": pd.date_range("2024-01-01", periods=4),
...                      "value": [96.0, 80.0, 99.0, 97.0], "censoring": ["none"] * 4})
>>> cs = candidate_criteria(AttributeData(get_attribute("viability"), lots))
>>> cs.get("ti_99_99").low, cs.get("ti_99_99").at_bound == (LimitSide.LOWER,)
(0.0, True)
>>> cs.notes[0].split(":")[0]
'A normal-theory limit fell past the physical bound of Viability (lower 0 %) and is shown at that bound'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cgtkit.attributes import AttributeSpec
from cgtkit.errors import InsufficientDataError
from cgtkit.io import attribute_values
from cgtkit.stats.oos_risk import future_lot_oos_probability, nonparametric_any_outside, prob_any_oos
from cgtkit.stats.tolerance import mean_k_sd_limits, nonparametric_tolerance_interval, normal_tolerance_interval
from cgtkit.tables import number
from cgtkit.vocab import AttributeKind, LimitSide, LotType, Scale

__all__ = [
    "AttributeData",
    "Candidate",
    "CandidateSet",
    "InvestigationalProposal",
    "attribute_data",
    "candidate_criteria",
    "investigational_proposal",
    "investigational_table",
]

_fmt4 = number(4)
DEFAULT_HORIZONS: tuple[int, ...] = (10, 50, 100)
DEFAULT_TI_LEVELS: tuple[tuple[float, float], ...] = ((0.95, 0.95), (0.99, 0.95), (0.99, 0.99))
MIN_LOTS = 3
# Investigational criteria: wide on purpose (phase-appropriate, permissive).
INVESTIGATIONAL_COVERAGE = 0.99
INVESTIGATIONAL_CONFIDENCE = 0.95


# -- one attribute's data -------------------------------------------------------


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


def attribute_data(
    frame: pd.DataFrame, spec: AttributeSpec, lot_types: Sequence[LotType | str] | None = None
) -> AttributeData:
    """Pick one attribute's numeric release results (optionally of some lot types only)."""
    rows = attribute_values(frame, spec.id)
    if lot_types is not None:
        rows = rows[rows["lot_type"].isin([LotType(t).value for t in lot_types])]
    if spec.kind is not AttributeKind.SAFETY_FIXED:  # pass/fail safety results stay, for counting only
        rows = rows[rows["value"].notna()]
    cols = [c for c in ("lot_id", "lot_type", "manufacture_date", "process_version", "value", "censoring", "result")
            if c in rows]
    return AttributeData(spec=spec, lots=rows[cols].reset_index(drop=True))


def require_statistics(data: AttributeData) -> None:
    """Refuse, with what to do instead, a safety attribute or too few lots for statistical limits."""
    spec = data.spec
    if spec.kind is AttributeKind.SAFETY_FIXED:
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


def clip_to_physical_bounds(
    spec: AttributeSpec, low: float | None, high: float | None
) -> tuple[float | None, float | None, tuple[LimitSide, ...]]:
    """Limits moved back inside the attribute's physical bounds, and which sides were moved.

    A normal model fitted to few, spread-out lots can put a limit where no lot
    can ever be (a viability below 0 %); the limit is then shown at the bound.
    Attributes without ``physical_bounds`` are never clipped.
    """
    bounds = spec.physical_bounds
    if bounds is None:
        return low, high, ()
    lo, hi = bounds.clip(low, high)
    moved = tuple(side for side, before, after in ((LimitSide.LOWER, low, lo), (LimitSide.UPPER, high, hi))
                  if before != after)
    return lo, hi, moved


def bound_note(spec: AttributeSpec, sides: Sequence[LimitSide]) -> str:
    """The sentence explaining limits shown at a physical bound, naming the bound(s) used."""
    bounds = spec.physical_bounds
    if not sides or bounds is None:
        return ""
    used = [(side, bounds.low if side is LimitSide.LOWER else bounds.high)
            for side in (LimitSide.LOWER, LimitSide.UPPER) if side in sides]
    named = ", ".join(f"{side.value} {_fmt4(value)} {spec.unit}".strip() for side, value in used)
    return (
        f"A normal-theory limit fell past the physical bound{'s' if len(used) > 1 else ''} of {spec.label} "
        f"({named}) and is shown at that bound: with so few lots the normal model gives no usable limit on "
        "that side."
    )


# -- candidates ---------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """One candidate acceptance criterion with its false-OOS risk.

    ``risk`` maps a number of future lots m to the probability that at least one
    of the next m lots of the same, unchanged process falls outside the limits.
    ``at_bound`` names the sides shown at the attribute's physical bound.
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
    at_bound: tuple[LimitSide, ...] = ()


@dataclass(frozen=True)
class CandidateSet:
    """All candidates for one attribute from one selection of lots."""

    attribute: str
    label: str
    unit: str
    n: int
    scale: Scale
    limit_side: LimitSide
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
    if not ti_levels:
        raise ValueError("Ask for at least one tolerance interval level (coverage, confidence).")
    require_statistics(data)
    spec = data.spec
    sided, side, scale = spec.limit_side.sided, spec.limit_side.value, spec.scale
    lower_only = spec.limit_side is LimitSide.LOWER
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
        low, high, at_bound = clip_to_physical_bounds(spec, ti.low, ti.high)
        candidates.append(
            Candidate(
                key=f"ti_{round(coverage * 100)}_{round(confidence * 100)}",
                label=f"Tolerance interval {coverage:.0%} coverage / {confidence:.0%} confidence",
                method=(
                    f"normal tolerance interval, {'two' if sided == 2 else 'one'}-sided, "
                    f"{ti.method} k, {'log scale' if scale is Scale.LOG else 'original scale'}"
                ),
                low=low, high=high, k=ti.k,
                risk={m: prob_any_oos(n, ti.k, m, sided=sided).probability for m in horizons},
                risk_basis="normal model on the analysis scale; limits shared by all future lots",
                reference=ti.reference, at_bound=at_bound,
            )
        )
    assert first is not None  # ti_levels is not empty
    if first.censoring_note:
        notes.append(first.censoring_note)
    # mean +/- 3 SD on the analysis scale
    k3 = 3.0
    lo3, hi3, at_bound = clip_to_physical_bounds(
        spec, *mean_k_sd_limits(first.mean, first.sd, k3, sided=sided, side=side, scale=scale)
    )
    candidates.append(
        Candidate(
            key="mean_3sd",
            label="Mean ± 3 SD" if sided == 2 else ("Mean − 3 SD" if lower_only else "Mean + 3 SD"),
            method=f"mean {'±' if sided == 2 else ('−' if lower_only else '+')} 3 SD of {n} lots (not a tolerance interval)",
            low=lo3, high=hi3, k=k3,
            risk={m: prob_any_oos(n, k3, m, sided=sided).probability for m in horizons},
            risk_basis="normal model on the analysis scale; limits shared by all future lots",
            reference="Coverage of mean ± 3 SD is not controlled at small n (Krishnamoorthy and Mathew 2009).",
            at_bound=at_bound,
        )
    )
    npi = nonparametric_tolerance_interval(data.values, sided=sided, side=side)
    candidates.append(
        Candidate(
            key="range",
            label="Observed range" if sided == 2 else ("Observed minimum" if lower_only else "Observed maximum"),
            method=f"distribution-free order-statistic limit{'s' if sided == 2 else ''} from {n} lots",
            low=npi.low, high=npi.high, k=None,
            risk={m: nonparametric_any_outside(n, m, sided) for m in horizons},
            risk_basis="distribution-free (any continuous distribution)",
            reference="Hahn and Meeker (1991), Statistical Intervals, ch. 5.",
        )
    )
    if data.lots["censoring"].ne("none").any():
        notes.append("The observed range uses censored results at their reported limit.")
    clipped = {side for c in candidates for side in c.at_bound}
    if clipped:
        notes.append(bound_note(spec, sorted(clipped)))
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
    kind: AttributeKind
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
    if spec.kind is AttributeKind.SAFETY_FIXED:
        fails = int((data.lots["result"] == "fail").sum()) if "result" in data.lots else 0
        seen = f"{data.n} result(s) in the selection, {fails} failing. " if data.n else ""
        return InvestigationalProposal(
            **base, low=None, high=None, basis="fixed requirement",
            rationale=f"{seen}Safety requirement, not set from lot data: {spec.fixed_requirement.rstrip('.')}."
            + (f" Source: {spec.source.rstrip('.')}." if spec.source else ""),
        )
    sided = spec.limit_side.sided
    try:
        require_statistics(data)
        ti = normal_tolerance_interval(
            data.values, coverage=INVESTIGATIONAL_COVERAGE, confidence=INVESTIGATIONAL_CONFIDENCE,
            sided=sided, method="exact", scale=spec.scale, censored=data.censoring, side=spec.limit_side.value,
        )
    except InsufficientDataError as exc:
        lo, hi = (float(np.min(data.values)), float(np.max(data.values))) if data.n else (None, None)
        return InvestigationalProposal(
            **base, low=None, high=None, basis="none", rationale=f"Observed range {_fmt4(lo)} to {_fmt4(hi)}." if data.n else "",
            problem=str(exc),
        )
    low, high = ti.low, ti.high
    widened = False
    if low is not None and low > float(np.min(data.values)):
        low, widened = float(np.min(data.values)), True
    if high is not None and high < float(np.max(data.values)):
        high, widened = float(np.max(data.values)), True
    low, high, at_bound = clip_to_physical_bounds(spec, low, high)
    p_next = future_lot_oos_probability(data.n, ti.k, sided=sided)
    rationale = (
        f"{'Two' if sided == 2 else 'One'}-sided normal tolerance limit{'s' if sided == 2 else ''} covering "
        f"{INVESTIGATIONAL_COVERAGE:.0%} of lots with {INVESTIGATIONAL_CONFIDENCE:.0%} confidence, from {data.n} "
        f"engineering/clinical lots (k = {ti.k:.3g}, exact{', log scale' if ti.scale == 'log' else ''}). "
        f"With this k, a future lot of an unchanged process falls outside with probability {p_next:.1%}. "
        + ("Extended to the most extreme lot observed. " if widened else "")
        + (bound_note(spec, at_bound) + " " if at_bound else "")
        + (ti.censoring_note if ti.censoring_note else "")
    ).strip()
    return InvestigationalProposal(
        **base, low=low, high=high, basis=f"TI {INVESTIGATIONAL_COVERAGE:.0%}/{INVESTIGATIONAL_CONFIDENCE:.0%}",
        rationale=rationale, next_lot_outside=p_next,
    )


def investigational_table(
    frame: pd.DataFrame, specs: Sequence[AttributeSpec], lot_types: Sequence[LotType | str]
) -> list[InvestigationalProposal]:
    """One proposal per attribute present in ``frame``."""
    present = set(frame["attribute"].unique())
    return [investigational_proposal(attribute_data(frame, s, lot_types)) for s in specs if s.id in present]


def proposals_frame(proposals: Sequence[InvestigationalProposal]) -> pd.DataFrame:
    """One row per proposal, for tables and the decision record."""
    return pd.DataFrame(
        [
            {"attribute": p.attribute, "label": p.label, "unit": p.unit, "kind": p.kind, "n": p.n,
             "low": p.low, "high": p.high, "basis": p.basis, "rationale": p.rationale,
             "next_lot_outside": p.next_lot_outside, "problem": p.problem, "ok": p.ok}
            for p in proposals
        ],
        columns=["attribute", "label", "unit", "kind", "n", "low", "high", "basis", "rationale",
                 "next_lot_outside", "problem", "ok"],
    )


K_TABLE_NS: tuple[int, ...] = tuple(range(2, 101))


def k_factor_table(spec: AttributeSpec) -> pd.DataFrame:
    """Tolerance factors k against n (2 to 100) for the attribute's sides: the k-versus-n figure
    shows how fast the limits narrow as lots accumulate."""
    from cgtkit.stats.tolerance import tolerance_factor_table

    return tolerance_factor_table(K_TABLE_NS, coverages=(0.95, 0.99), confidences=(0.95, 0.99),
                                  sided=spec.limit_side.sided)
