"""Acceptance criteria from few lots: candidates with their false-OOS risk, and
phase-appropriate investigational proposals.

A data set + one attribute's metadata (:class:`cgtkit.attributes.AttributeSpec`)
+ the user's lot-type selection go in; calls of :mod:`cgtkit.stats.tolerance`
and :mod:`cgtkit.stats.oos_risk` are made on the numbers; typed results come
out. The policies live here, not in the statistics: the investigational
coverage and confidence, the tolerance levels offered, the minimum number of
lots, and what happens at the attribute's physical bounds (from the metadata,
never guessed from the unit): a limit the normal model puts past a bound is
shown at the bound, flagged (``at_bound``) and no longer presented as a
tolerance limit, and its false-OOS risk is that of the limit shown.

Scales: an attribute is analysed on the scale its metadata names (``normal`` or
``log``), never on one guessed from the data. A logit scale for fractions near 0
or 100 % was considered and is not offered: with 3 to 30 lots the logit's
tolerance limits depend heavily on how close the lots sit to the bound, and a
reviewer reads limits on the reported scale. Near a bound cgtkit shows the
normal-theory limit at the bound, flags it, and refuses to present it as a
tolerance limit; a nonparametric or logit-scale limit is then a topic for the
sponsor's statistician and the FDA meeting.

Every false-OOS risk here is the *procedure's* average risk: averaged over the
lots the process could have given (and so over the limits they would have
set), for an unchanged process. It is not the risk of one particular pair of
limits, which depends on the unknown true mean and SD. With censored results
("<LOQ") the risk is evaluated at the censored-data fit by parametric bootstrap
and flagged as approximate (``risk_approximate``).

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
>>> cs.get("ti_99_99").ok, cs.get("ti_95_95").ok
(False, True)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cgtkit.attributes import AttributeSpec
from cgtkit.errors import InsufficientDataError
from cgtkit.io import attribute_values
from cgtkit.stats.censored import censored_prob_any_oos
from cgtkit.stats.oos_risk import (
    future_lot_oos_probability,
    future_lot_oos_probability_limits,
    nonparametric_any_outside,
    prob_any_oos,
    prob_any_oos_limits,
)
from cgtkit.stats.tolerance import (
    CensoredToleranceInterval,
    ToleranceInterval,
    mean_k_sd_limits,
    nonparametric_tolerance_interval,
    normal_tolerance_interval,
)
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

_AVERAGE_RISK = (
    "the procedure's average risk (over the lots an unchanged process could have given, and so over the "
    "limits they would have set), not the risk of these particular limits, which depends on the unknown true "
    "mean and SD"
)
RISK_BASIS_RANGE = f"distribution-free (any continuous distribution); {_AVERAGE_RISK}"


def risk_basis(scale: Scale, *, censored: bool = False) -> str:
    """The words for what a normal-theory false-OOS risk assumes and means.

    >>> risk_basis(Scale.NORMAL).startswith("normal model on the original scale; limits shared by all future lots")
    True
    """
    where = "log scale (log-normal)" if scale is Scale.LOG else "original scale"
    text = f"normal model on the {where}; limits shared by all future lots; {_AVERAGE_RISK}"
    if censored:
        text += (
            "; approximate: with censored results it depends on where the limit of quantitation lies, so it "
            "was evaluated at the censored-data fit by parametric bootstrap"
        )
    return text


def probability_text(p: float) -> str:
    """A probability in words for a sentence: ``'<0.1%'`` below 0.001, else one decimal of a per cent.

    >>> probability_text(0.0004), probability_text(0.0123)
    ('<0.1%', '1.2%')
    """
    return "<0.1%" if p < 0.001 else f"{p:.1%}"


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
    if spec.scale is Scale.LOG:
        values = data.values
        bad = np.flatnonzero(~(values > 0.0))
        if bad.size:
            i = int(bad[0])
            others = f" ({bad.size - 1} other lot(s) too)" if bad.size > 1 else ""
            raise InsufficientDataError(
                f"{spec.label} is analysed on the log scale (log-normal), so every result must be greater than 0 "
                f"(positive), but lot {data.lots['lot_id'].iloc[i]} has {values[i]:g}{others}. Correct the result "
                "or leave the lot out of the data set; a result below the limit of quantitation is entered as "
                "'<LOQ', not as 0."
            )


def clip_to_physical_bounds(
    spec: AttributeSpec, low: float | None, high: float | None, observed: Sequence[float] | np.ndarray | None = None
) -> tuple[float | None, float | None, tuple[LimitSide, ...]]:
    """Limits moved back inside the attribute's physical bounds, and which sides were moved.

    A normal model fitted to few, spread-out lots can put a limit where no lot
    can ever be (a viability below 0 %); the limit is then shown at the bound,
    or at the most extreme ``observed`` value if a result lies past the bound
    (a limit is never moved inside the observed range). Attributes without
    ``physical_bounds`` are never clipped. A limit shown at a bound is not a
    tolerance limit; the callers flag it.

    >>> from cgtkit.attributes import get_attribute
    >>> clip_to_physical_bounds(get_attribute("viability"), -4.0, None, observed=[-0.5, 60.0])
    (-0.5, None, (<LimitSide.LOWER: 'lower'>,))
    """
    bounds = spec.physical_bounds
    if bounds is None:
        return low, high, ()
    lo, hi = bounds.clip(low, high)
    seen = np.asarray(observed, dtype=float) if observed is not None else np.empty(0)
    if seen.size:
        if lo is not None and lo != low:
            lo = min(lo, float(np.min(seen)))
        if hi is not None and hi != high:
            hi = max(hi, float(np.max(seen)))
    moved = tuple(side for side, before, after in ((LimitSide.LOWER, low, lo), (LimitSide.UPPER, high, hi))
                  if before != after)
    return lo, hi, moved


def bound_note_named(spec: AttributeSpec, sides: Sequence[LimitSide]) -> str:
    """``'lower 0 %'``: the physical bound(s) on ``sides``, named with the unit."""
    bounds = spec.physical_bounds
    if bounds is None:
        return ""
    used = [(side, bounds.low if side is LimitSide.LOWER else bounds.high)
            for side in (LimitSide.LOWER, LimitSide.UPPER) if side in sides]
    return ", ".join(f"{side.value} {_fmt4(value)} {spec.unit}".strip() for side, value in used)


def bound_note(spec: AttributeSpec, sides: Sequence[LimitSide]) -> str:
    """The sentence explaining limits shown at a physical bound, naming the bound(s) used."""
    bounds = spec.physical_bounds
    if not sides or bounds is None:
        return ""
    used = [side for side in (LimitSide.LOWER, LimitSide.UPPER) if side in sides]
    named = bound_note_named(spec, used)
    return (
        f"A normal-theory limit fell past the physical bound{'s' if len(used) > 1 else ''} of {spec.label} "
        f"({named}) and is shown at that bound: with so few lots the normal model gives no usable limit on "
        "that side. A limit at a physical bound is not a tolerance limit; its false-OOS risk is computed for "
        "the limit shown."
    )


# -- candidates ---------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """One candidate acceptance criterion with its false-OOS risk.

    ``risk`` maps a number of future lots m to the probability that at least one
    of the next m lots of the same, unchanged process falls outside the limits
    shown: the procedure's average risk (see ``risk_basis``). ``at_bound`` names
    the sides shown at the attribute's physical bound: such a side is not a
    tolerance limit (``ok`` is False), and ``k`` is None because no single
    multiple of the SD gives the limits shown. ``risk_approximate`` is True when
    the risk could only be evaluated at the estimates (censored results);
    ``risk_basis`` then says so.
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
    risk_approximate: bool = False

    @property
    def ok(self) -> bool:
        """True when the limits are what the label says (none was moved to a physical bound)."""
        return not self.at_bound


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
            row["ok"] = c.ok
            row["at_bound"] = ", ".join(side.value for side in c.at_bound)
            row["risk_approximate"] = c.risk_approximate
            rows.append(row)
        return pd.DataFrame(rows)


def _shown_k(
    mean: float, sd: float, scale: Scale, low: float | None, high: float | None
) -> tuple[float | None, float | None]:
    """How many SDs (analysis scale) the limits shown lie from the mean; None for an open side.

    (A lower limit of 0 on the log scale is no limit at all: None.)
    """
    def distance(limit: float | None, sign: float) -> float | None:
        if limit is None or (scale is Scale.LOG and limit <= 0.0):
            return None
        y = math.log(limit) if scale is Scale.LOG else limit
        return sign * (mean - y) / sd

    return distance(low, 1.0), distance(high, -1.0)


def _risks(
    ti: ToleranceInterval, k: float, low: float | None, high: float | None, at_bound: tuple[LimitSide, ...],
    scale: Scale, horizons: Sequence[int],
) -> dict[int, float]:
    """False-OOS risk of the limits shown, set from the fit ``ti`` (its n, mean, SD; censoring design).

    Limits ``mean +/- k sd`` keep the exact symmetric computation; a side moved
    to a physical bound is at its own distance from the mean. Censored data:
    the same simulated data sets as the interval's factor (approximate).
    """
    if at_bound:
        k_low, k_high = _shown_k(ti.mean, ti.sd, scale, low, high)
    else:
        k_low, k_high = (k if low is not None else None), (k if high is not None else None)
    ms = tuple(horizons)
    if isinstance(ti, CensoredToleranceInterval):
        return {
            m: censored_prob_any_oos(ti.n, m, k_low=k_low, k_high=k_high, loq_left=ti.loq_left,
                                     loq_right=ti.loq_right, n_boot=ti.n_boot, seed=ti.seed).probability
            for m in ms
        }
    if not at_bound:
        return {m: prob_any_oos(ti.n, k, m, sided=ti.sided).probability for m in ms}
    return {m: prob_any_oos_limits(ti.n, m, k_low=k_low, k_high=k_high) for m in ms}


def _at_bound_words(at_bound: Sequence[LimitSide], computed: str = "normal-theory") -> tuple[str, str]:
    """``('lower limit at the physical bound', 'the normal-theory limit fell past it')`` (or both limits)."""
    if len(at_bound) == 2:
        return "both limits at the physical bounds", f"the {computed} limits fell past them"
    return f"{at_bound[0].value} limit at the physical bound", f"the {computed} limit fell past it"


def _three_sd_text(scale: Scale, sided: int, lower_only: bool, n: int) -> tuple[str, str, str]:
    """Label, method and reference of the mean +/- 3 SD candidate (geometric on the log scale).

    >>> _three_sd_text(Scale.LOG, 1, False, 12)[0]
    'Geometric mean × geometric SD³'
    """
    pm = "±" if sided == 2 else ("−" if lower_only else "+")
    if scale is Scale.LOG:
        op = "×/÷" if sided == 2 else ("÷" if lower_only else "×")
        return (
            f"Geometric mean {op} geometric SD³",
            f"geometric mean {op} geometric SD to the power 3 of {n} lots (mean {pm} 3 SD of the natural logs; "
            "not a tolerance interval)",
            "Coverage of the geometric mean ×/÷ geometric SD³ (mean ± 3 SD of the logs) is not controlled at "
            "small n (Krishnamoorthy and Mathew 2009).",
        )
    return (f"Mean {pm} 3 SD", f"mean {pm} 3 SD of {n} lots (not a tolerance interval)",
            "Coverage of mean ± 3 SD is not controlled at small n (Krishnamoorthy and Mathew 2009).")


def _ti_method(ti: ToleranceInterval, sided: int, scale: Scale) -> str:
    where = "log scale" if scale is Scale.LOG else "original scale"
    how = ("k calibrated by parametric bootstrap for censored results" if isinstance(ti, CensoredToleranceInterval)
           else f"{ti.method} k")
    return f"normal tolerance interval, {'two' if sided == 2 else 'one'}-sided, {how}, {where}"


def candidate_criteria(
    data: AttributeData,
    *,
    ti_levels: Sequence[tuple[float, float]] = DEFAULT_TI_LEVELS,
    method: str = "exact",
    horizons: Sequence[int] = DEFAULT_HORIZONS,
) -> CandidateSet:
    """Candidate commercial criteria for one attribute, each with its false-OOS risk.

    Candidates: normal tolerance intervals at ``ti_levels`` (coverage,
    confidence), mean +/- 3 SD (the geometric mean ×/÷ geometric SD³ for a
    log-normal attribute; not a tolerance interval: its coverage is not
    controlled at small n), and the observed range (distribution-free). The
    risk of the normal-theory candidates assumes a normal process on the
    analysis scale (log for log-normal attributes); the range's risk holds for
    any continuous distribution. Each risk is the procedure's average risk for
    the limits shown (a side moved to a physical bound included).
    """
    if not ti_levels:
        raise ValueError("Ask for at least one tolerance interval level (coverage, confidence).")
    require_statistics(data)
    spec = data.spec
    sided, side, scale = spec.limit_side.sided, spec.limit_side.value, spec.scale
    lower_only = spec.limit_side is LimitSide.LOWER
    n = data.n
    horizons = tuple(int(m) for m in horizons)
    observed = data.values
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
        censored = isinstance(ti, CensoredToleranceInterval)
        low, high, at_bound = clip_to_physical_bounds(spec, ti.low, ti.high, observed)
        label = f"Tolerance interval {coverage:.0%} coverage / {confidence:.0%} confidence"
        method_text = _ti_method(ti, sided, scale)
        if at_bound:
            where, why = _at_bound_words(at_bound)
            label += f", {where} (not a tolerance limit)"
            method_text += f"; {where}: {why}"
        candidates.append(
            Candidate(
                key=f"ti_{round(coverage * 100)}_{round(confidence * 100)}",
                label=label, method=method_text,
                low=low, high=high, k=None if at_bound else ti.k,
                risk=_risks(ti, ti.k, low, high, at_bound, scale, horizons),
                risk_basis=risk_basis(scale, censored=censored),
                reference=ti.reference, at_bound=at_bound, risk_approximate=censored,
            )
        )
    assert first is not None  # ti_levels is not empty
    censored = isinstance(first, CensoredToleranceInterval)
    if first.censoring_note:
        notes.append(first.censoring_note)
    if censored:
        notes.append(
            "With censored results the false-OOS risks are approximate: they depend on where the limit of "
            "quantitation lies in the distribution and were evaluated at the censored-data fit by parametric "
            "bootstrap."
        )
    # mean +/- 3 SD on the analysis scale (geometric mean x/÷ GSD^3 on the log scale)
    k3 = 3.0
    lo3, hi3, at_bound = clip_to_physical_bounds(
        spec, *mean_k_sd_limits(first.mean, first.sd, k3, sided=sided, side=side, scale=scale), observed
    )
    label3, method3, reference3 = _three_sd_text(scale, sided, lower_only, n)
    if censored:
        method3 = method3.replace(" lots (", " lots, censored-data fit (", 1)
    if at_bound:
        where, why = _at_bound_words(at_bound, "computed")
        label3 += f", {where}"
        method3 += f"; {where}: {why}"
    candidates.append(
        Candidate(
            key="mean_3sd", label=label3, method=method3,
            low=lo3, high=hi3, k=None if at_bound else k3,
            risk=_risks(first, k3, lo3, hi3, at_bound, scale, horizons),
            risk_basis=risk_basis(scale, censored=censored),
            reference=reference3, at_bound=at_bound, risk_approximate=censored,
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
            risk_basis=RISK_BASIS_RANGE,
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
    """A phase-appropriate (wide) criterion for one attribute, or why there is none.

    ``ok`` is False when there is no usable proposal: ``problem`` then says why
    in a sentence. That includes a tolerance limit that fell past the
    attribute's physical bound (``at_bound`` names the sides): ``low``/``high``
    then hold the limits as they would be shown (at the bound), for
    information, but they are not a tolerance limit and are not proposed.
    ``next_lot_outside`` is the procedure's average risk that the next lot of
    an unchanged process falls outside the limits shown; ``risk_approximate``
    is True when it could only be evaluated at the estimates (censored
    results).
    """

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
    at_bound: tuple[LimitSide, ...] = ()
    risk_approximate: bool = False

    @property
    def ok(self) -> bool:
        """True when the proposal can be shown and accepted as it is labelled."""
        return self.problem is None and not self.at_bound


def _lot_types_text(data: AttributeData) -> str:
    """``'engineering/clinical'``: the lot types of the selection, in vocabulary order."""
    if "lot_type" not in data.lots:
        return ""
    present = {str(t) for t in data.lots["lot_type"]}
    ordered = [t.label for t in LotType if t.value in present] + sorted(present - {t.value for t in LotType})
    return "/".join(ordered)


def _safety_proposal(data: AttributeData, base: dict[str, object]) -> InvestigationalProposal:
    spec = data.spec
    if not data.n:
        seen = ""
    elif spec.result_type == "pass_fail" and "result" in data.lots:
        fails = int((data.lots["result"] == "fail").sum())
        seen = f"{data.n} result(s) in the selection, {fails} failing. "
    else:  # numbers (endotoxin): never compared with the (dose-derived) requirement here
        seen = f"{data.n} numeric result(s) in the selection, not compared with the requirement here. "
    return InvestigationalProposal(
        **base, low=None, high=None, basis="fixed requirement",  # type: ignore[arg-type]
        rationale=f"{seen}Safety requirement, not set from lot data: {spec.fixed_requirement.rstrip('.')}."
        + (f" Source: {spec.source.rstrip('.')}." if spec.source else ""),
    )


def investigational_proposal(data: AttributeData) -> InvestigationalProposal:
    """Wide criterion for IND lots: the 99%/95% tolerance limit, never narrower than the lots seen.

    The tolerance limit covers at least 99% of lots of an unchanged process
    with 95% confidence; extending it to the observed extremes keeps every lot
    already made inside. Safety attributes keep their fixed requirement; too
    few lots, no variability or a limit past a physical bound give a problem
    statement instead of a proposal.
    """
    spec = data.spec
    base = dict(attribute=spec.id, label=spec.label, unit=spec.unit, kind=spec.kind, n=data.n)
    if spec.kind is AttributeKind.SAFETY_FIXED:
        return _safety_proposal(data, base)
    sided = spec.limit_side.sided
    level = f"{INVESTIGATIONAL_COVERAGE:.0%}/{INVESTIGATIONAL_CONFIDENCE:.0%}"
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
    censored = isinstance(ti, CensoredToleranceInterval)
    observed = data.values
    low, high = ti.low, ti.high
    widened = False
    if low is not None and low > float(np.min(observed)):
        low, widened = float(np.min(observed)), True
    if high is not None and high < float(np.max(observed)):
        high, widened = float(np.max(observed)), True
    low, high, at_bound = clip_to_physical_bounds(spec, low, high, observed)
    if at_bound or widened:
        k_low, k_high = _shown_k(ti.mean, ti.sd, spec.scale, low, high)
    else:
        k_low, k_high = (ti.k if low is not None else None), (ti.k if high is not None else None)
    if censored:
        p_next = censored_prob_any_oos(ti.n, 1, k_low=k_low, k_high=k_high, loq_left=ti.loq_left,
                                       loq_right=ti.loq_right, n_boot=ti.n_boot, seed=ti.seed).probability
    elif at_bound or widened:
        p_next = future_lot_oos_probability_limits(data.n, k_low, k_high)
    else:
        p_next = future_lot_oos_probability(data.n, ti.k, sided=sided)
    types = _lot_types_text(data)
    k_text = f"k = {ti.k:.3g}, " + ("calibrated by parametric bootstrap for censored results" if censored else "exact")
    risk_text = (
        f"A future lot of an unchanged process falls outside the limit{'s' if sided == 2 else ''} shown with "
        f"probability {probability_text(p_next)}{' (approximate, censored results)' if censored else ''}: the "
        "procedure's average risk, not that of these particular limits. "
    )
    if at_bound:
        sides = " and ".join(s.value for s in at_bound)
        plural = "s" if len(at_bound) > 1 else ""
        seen = f"{_fmt4(float(np.min(observed)))} to {_fmt4(float(np.max(observed)))} {spec.unit}".rstrip()
        problem = (
            f"{spec.label}: the {sides} {level} normal tolerance limit{plural} fell past the physical "
            f"bound{plural} ({bound_note_named(spec, at_bound)}); with {data.n} lots the normal model gives no "
            f"usable {' or '.join(s.value for s in at_bound)} limit, so no tolerance limit is proposed. Observed "
            f"range {seen}. Justify a limit from prior knowledge or platform data, or add lots."
        )
        return InvestigationalProposal(
            **base, low=low, high=high, basis="physical bound", rationale=problem,  # type: ignore[arg-type]
            next_lot_outside=p_next, problem=problem, at_bound=at_bound, risk_approximate=censored,
        )
    rationale = (
        f"{'Two' if sided == 2 else 'One'}-sided normal tolerance limit{'s' if sided == 2 else ''} covering at least "
        f"{INVESTIGATIONAL_COVERAGE:.0%} of lots with {INVESTIGATIONAL_CONFIDENCE:.0%} confidence, from {data.n} "
        f"{types + ' ' if types else ''}lots ({k_text}{', log scale' if ti.scale == 'log' else ''}). "
        + ("Extended to the most extreme lot observed. " if widened else "")
        + risk_text
        + (ti.censoring_note if ti.censoring_note else "")
    ).strip()
    return InvestigationalProposal(
        **base, low=low, high=high, basis=f"TI {level}",  # type: ignore[arg-type]
        rationale=rationale, next_lot_outside=p_next, risk_approximate=censored,
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
             "next_lot_outside": p.next_lot_outside, "problem": p.problem, "ok": p.ok,
             "at_bound": ", ".join(side.value for side in p.at_bound), "risk_approximate": p.risk_approximate}
            for p in proposals
        ],
        columns=["attribute", "label", "unit", "kind", "n", "low", "high", "basis", "rationale",
                 "next_lot_outside", "problem", "ok", "at_bound", "risk_approximate"],
    )


K_TABLE_NS: tuple[int, ...] = tuple(range(2, 101))


def k_factor_table(spec: AttributeSpec) -> pd.DataFrame:
    """Tolerance factors k against n (2 to 100) for the attribute's sides: the k-versus-n figure
    shows how fast the limits narrow as lots accumulate."""
    from cgtkit.stats.tolerance import tolerance_factor_table

    return tolerance_factor_table(K_TABLE_NS, coverages=(0.95, 0.99), confidences=(0.95, 0.99),
                                  sided=spec.limit_side.sided)
