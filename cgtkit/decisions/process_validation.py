"""Decisions of the Process validation page: the number of PPQ lots with the numbers of every approach, and
the concurrent-release route of PPQ lots with its conditions; with their renderers."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from cgtkit.decisions.base import (
    SingleFlexibilityDecision,
    _check_limits,
    _check_lots,
    _Frozen,
    _head,
    _lots,
    _row,
    attribute_label,
    facts,
    fmt_number,
    rows,
    summary,
)
from cgtkit.vocab import LotType, Scale, Stage

Approach = Literal["success_run", "capability", "expected_coverage", "tolerance_coverage"]
RiskLevelText = Literal["low", "medium", "high"]
ReleaseRoute = Literal["commercial_concurrent_release", "clinical_use_under_ind", "hold_until_complete"]
ConditionState = Literal["met", "unmet", "unknown", "not applicable"]
Grade = Literal["regulation", "final_guidance", "fda_announcement", "fda_official_remarks", "cgtkit_reading"]

_APPROACH_WORDS: dict[str, str] = {
    "success_run": "success run", "capability": "capability", "expected_coverage": "expected coverage",
    "tolerance_coverage": "tolerance interval",
}
_ROUTE_WORDS: dict[str, str] = {
    "commercial_concurrent_release": "commercial concurrent release (after BLA approval)",
    "clinical_use_under_ind": "clinical use under the IND",
    "hold_until_complete": "hold until the PPQ protocol is complete",
}
_GRADE_WORDS: dict[str, str] = {
    "regulation": "regulation", "final_guidance": "final guidance", "fda_announcement": "FDA announcement",
    "fda_official_remarks": "FDA official's remarks", "cgtkit_reading": "cgtkit's reading",
}


class ApproachResult(_Frozen):
    """What one statistical approach said for one attribute."""

    approach: Approach
    n_needed: int | None = Field(ge=1, description="Lots the approach needs in all; None when no number reaches it.")
    target: float = Field(gt=0.0, lt=1.0, description="The confidence or expected coverage it must reach.")
    value_at_n: float | None = Field(default=None, description="What the chosen number of lots reaches (confidence "
                                                               "or expected coverage); None for one lot.")
    counted: bool = Field(description="The approach counted toward the recommended number.")


class PpqAttributeFinding(_Frozen):
    """One attribute's lots, specification, capability and approaches behind the number of PPQ lots."""

    attribute: str = Field(description="Attribute id (data/attributes.yaml).")
    unit: str
    scale: Scale
    lower: float | None
    upper: float | None
    spec_source: Literal["accepted_criterion", "entered"] = Field(
        description="The commercial criterion accepted in the workbook, or limits entered on the page.")
    lot_ids: tuple[str, ...] = Field(description="The development lots the estimates come from, in manufacture order.")
    n: int = Field(ge=2)
    ppk: float
    ppk_low: float = Field(description="Lower end of the confidence interval of Ppk (interval_method).")
    ppk_high: float
    interval_method: str
    confidence: float = Field(gt=0.0, lt=1.0)
    approaches: tuple[ApproachResult, ...] = Field(min_length=1)
    ppq_needed: int | None = Field(ge=0, description="PPQ lots the counted approaches need; None: out of reach.")
    pass_probability: float = Field(ge=0.0, le=1.0,
                                    description="Probability that all the chosen PPQ lots meet this specification, "
                                                "at the development mean and SD.")

    @model_validator(mode="after")
    def _consistent(self) -> PpqAttributeFinding:
        _check_lots(self.lot_ids, self.n, self.attribute)
        _check_limits(self.lower, self.upper, self.attribute)
        if self.lower is None and self.upper is None:
            raise ValueError(f"{self.attribute}: a specification needs a lower or an upper limit")
        return self


class ResidualRiskRecord(_Frozen):
    """The user's residual-risk assessment (ISPE discussion paper, approach 1): ratings, rationales, mapping."""

    product_knowledge: RiskLevelText
    product_knowledge_rationale: str
    process_understanding: RiskLevelText
    process_understanding_rationale: str
    control_strategy: RiskLevelText
    control_strategy_rationale: str
    overall: RiskLevelText
    overall_rationale: str
    lots_by_level: dict[RiskLevelText, int] = Field(min_length=1, description="The user's mapping, never cgtkit's.")
    mapping_rationale: str
    n: int = Field(ge=1, description="The lots the mapping gives the overall residual risk.")

    @model_validator(mode="after")
    def _mapped(self) -> ResidualRiskRecord:
        if self.lots_by_level.get(self.overall) != self.n:
            raise ValueError(f"the mapping gives a {self.overall} residual risk "
                             f"{self.lots_by_level.get(self.overall)} lots, not {self.n}")
        return self


class PpqLotCountDecision(SingleFlexibilityDecision):
    """The number of PPQ lots chosen for one process (data set), with every approach's numbers per attribute."""

    kind: Literal["ppq_lot_count"] = "ppq_lot_count"
    dataset: str
    lot_types: tuple[LotType, ...] = Field(min_length=1, description="Lot types the estimates come from.")
    process_versions: tuple[str, ...] = Field(default=(), description="Versions of those lots; () when not named.")
    n_lots: int = Field(ge=1, description="The number of PPQ lots chosen.")
    recommended: int | None = Field(ge=1, description="The fewest the data and the assessment support; None: none.")
    recommendation_basis: Literal["statistics", "residual_risk", "minimum", "none"]
    count_development: bool = Field(description="Development lots counted toward the statistical targets.")
    reliability: float = Field(gt=0.0, lt=1.0)
    confidence: float = Field(gt=0.0, lt=1.0)
    ppk_target: float
    expected_coverage: float = Field(gt=0.0, lt=1.0)
    tolerance_coverage: float = Field(gt=0.0, lt=1.0)
    findings: tuple[PpqAttributeFinding, ...] = Field(min_length=1)
    residual_risk: ResidualRiskRecord | None = None
    pass_all: float = Field(ge=0.0, le=1.0, description="Probability that all n_lots lots meet every specification "
                                                          "(attributes taken as independent).")

    @model_validator(mode="after")
    def _one_per_attribute(self) -> PpqLotCountDecision:
        attributes = [f.attribute for f in self.findings]
        if len(attributes) != len(set(attributes)):
            raise ValueError("one finding per attribute")
        return self

    @property
    def attributes(self) -> tuple[str, ...]:
        return tuple(f.attribute for f in self.findings)

    @property
    def subjects(self) -> tuple[str, ...]:
        """One PPQ lot count per process (data set): accepting again replaces it."""
        return (f"ppq_lot_count:{self.dataset}",)

    @property
    def supported(self) -> bool:
        """The chosen number is at least the number the data and the assessment support."""
        return self.recommended is not None and self.n_lots >= self.recommended


class ReleaseCondition(_Frozen):
    """One condition of a release route as the answers left it, with the basis of the statement behind it."""

    id: str
    route: Literal["commercial_concurrent_release", "clinical_use_under_ind"]
    status: ConditionState
    grade: Grade
    sources: tuple[str, ...] = Field(min_length=1, description="Titles of the documents cited.")


class ProfileConflict(_Frozen):
    """A planner answer that contradicts the product profile: kept (the profile may be stale), and said."""

    question: str = Field(description="The questionnaire field (stage, change_needs_pas, ...).")
    question_text: str = Field(description="The question as the page asked it.")
    answer: str = Field(description="The user's answer (yes, no, or a stage).")
    field: str = Field(description="The product-profile field, as the Start here page labels it.")
    value: str = Field(description="What the profile says, in words.")

    @property
    def text(self) -> str:
        return (f"Your answer '{self.answer}' to \"{self.question_text}\" contradicts your product profile, whose "
                f"{self.field} is {self.value}.")


class ConcurrentReleaseDecision(SingleFlexibilityDecision):
    """The route planned for PPQ lots whose protocol is not complete, with the answers and every condition."""

    kind: Literal["concurrent_release"] = "concurrent_release"
    flexibility_id: str = Field(description="The catalog entry of the route (PV-CONCURRENT-RELEASE, ...).")
    route: ReleaseRoute
    lots: tuple[str, ...] = Field(default=(), description="The PPQ lots concerned, as the user named them.")
    stage: Stage | None
    bla_approved: bool | None
    change_needs_pas: bool | None
    pas_approved: bool | None
    meets_commercial_spec: bool | None
    within_shelf_life: bool | None
    protocol_provides: bool | None
    ind_in_effect: bool | None
    meets_ind_criteria: bool | None
    outstanding_steps: tuple[str, ...] = ()
    conditions: tuple[ReleaseCondition, ...] = Field(min_length=1)
    fda_agreement_grade: Grade = Field(description="Grade of the statement of FDA's role for the route.")
    profile_conflicts: tuple[ProfileConflict, ...] = Field(
        default=(), description="Answers that contradict the product profile when the route was accepted.")

    @model_validator(mode="after")
    def _never_commercial_before_approval(self) -> ConcurrentReleaseDecision:
        if self.route == "commercial_concurrent_release":
            unmet = [c.id for c in self.conditions
                     if c.route == self.route and c.status not in ("met", "not applicable")]
            if unmet:
                raise ValueError(f"commercial concurrent release with conditions not met: {', '.join(unmet)}")
        return self

    @property
    def subjects(self) -> tuple[str, ...]:
        """One release plan per workbook: accepting again replaces it."""
        return ("concurrent_release",)


# ppq lot count


def _p(p: float) -> str:
    """A probability never rounded to a certainty: '>99.9%', '97.3%', '<0.1%'."""
    return ">99.9%" if p > 0.999 else "<0.1%" if p < 0.001 else f"{p:.1%}"


def _spec(f: PpqAttributeFinding) -> str:
    """The specification in words, large numbers as m×10ⁿ (never '5e+12')."""
    unit = f" {f.unit}" if f.unit else ""
    if f.lower is not None and f.upper is not None:
        return f"{fmt_number(f.lower)} to {fmt_number(f.upper)}{unit}"
    if f.lower is not None:
        return f"not less than {fmt_number(f.lower)}{unit}"
    return f"not more than {fmt_number(f.upper)}{unit}"


def _approaches_text(f: PpqAttributeFinding) -> str:
    return ", ".join(f"{_APPROACH_WORDS[a.approach]} {'—' if a.n_needed is None else a.n_needed}"
                     + ("*" if a.counted else "") for a in f.approaches)


def _short(d: PpqLotCountDecision) -> list[str]:
    """The attributes whose counted approaches the chosen number does not meet, with what they need."""
    return [f"{attribute_label(f.attribute)}: "
            + ("no number of lots reaches the targets" if f.ppq_needed is None else f"needs {f.ppq_needed} PPQ lots")
            for f in d.findings if f.ppq_needed is None or f.ppq_needed > d.n_lots]


def _verdict(d: PpqLotCountDecision) -> str:
    """Whether the data support the chosen number, said plainly when they do not (and why)."""
    if d.supported:
        return f"supported (the data support {d.recommended})"
    short = _short(d)
    why = f"; {'; '.join(short)}" if short else ""
    if d.recommended is None:
        return f"NOT supported by the data (they support no number of PPQ lots yet{why})"
    if not short:
        why = ("; your residual-risk assessment asks for them" if d.recommendation_basis == "residual_risk"
               else "; fewer show no lot-to-lot variability (cgtkit's reading)")
    return f"NOT supported by the data (they do not support fewer than {d.recommended}{why})"


def _ppq_needed(f: PpqAttributeFinding, n_lots: int) -> str:
    """What the counted approaches ask of the PPQ for this attribute, and whether the chosen number meets it."""
    if f.ppq_needed is None:
        return f"no number of lots reaches the targets: {n_lots} not supported"
    if f.ppq_needed == 0:
        return "the targets need no PPQ lots beyond the development lots"
    if f.ppq_needed > n_lots:
        return f"the targets need {f.ppq_needed} PPQ lots: {n_lots} not supported"
    return f"the targets need {f.ppq_needed} PPQ lots"


@summary.register
def _summary_ppq(d: PpqLotCountDecision) -> str:
    labels = ", ".join(attribute_label(f.attribute) for f in d.findings)
    text = (f"PPQ of {d.n_lots} lot{'s' if d.n_lots != 1 else ''}, {_verdict(d)}, from {labels} "
            f"({', '.join(t.label for t in d.lot_types)} lots of data set {d.dataset}"
            f"{', development lots counted' if d.count_development else ''})")
    if d.residual_risk is not None:
        text += f"; your residual-risk assessment: {d.residual_risk.overall}, {d.residual_risk.n} lots"
    return text + f"; probability that all {d.n_lots} pass: {_p(d.pass_all)}."


@rows.register
def _rows_ppq(d: PpqLotCountDecision) -> list[dict[str, str]]:
    out = [_row(d, d.flexibility_id, attribute_label(f.attribute),
                f"{d.n_lots} PPQ lots against {_spec(f)}; {_ppq_needed(f, d.n_lots)}",
                f"lots needed: {_approaches_text(f)} (* counted); Ppk {f.ppk:.2f} from {f.n} lots",
                f"all {d.n_lots} pass: {_p(f.pass_probability)}")
           for f in d.findings]
    if d.residual_risk is not None:
        r = d.residual_risk
        out.append(_row(d, d.flexibility_id, "Residual risk (the process)",
                        f"{r.n} lots for a {r.overall} residual risk (your mapping)",
                        "residual-risk assessment (ISPE discussion paper, approach 1)", "—"))
    return out


@facts.register
def _facts_ppq(d: PpqLotCountDecision) -> list[tuple[str, str]]:
    out = _head(d) + [
        ("PPQ lots chosen", str(d.n_lots)),
        ("Supported by the data", _verdict(d) + f" (set by: {d.recommendation_basis.replace('_', ' ')})"),
        ("Data set", d.dataset),
        ("Lot types", ", ".join(t.label for t in d.lot_types)),
    ]
    if d.process_versions:
        out.append(("Process versions", ", ".join(d.process_versions)))
    out += [
        ("Development lots", "counted toward the statistical targets" if d.count_development else "not counted"),
        ("Targets", f"success run {d.reliability:.0%} reliability, {d.confidence:.0%} confidence; Ppk above "
                    f"{d.ppk_target:.2f}; expected coverage {d.expected_coverage:.0%}; tolerance interval "
                    f"{d.tolerance_coverage:.0%}/{d.confidence:.0%}"),
        ("Method", d.method),
    ]
    for f in d.findings:
        source = ("accepted commercial criterion" if f.spec_source == "accepted_criterion" else "entered on the page")
        values = "; ".join(
            f"{_APPROACH_WORDS[a.approach]}: {'no number reaches it' if a.n_needed is None else a.n_needed} "
            f"(target {a.target:.0%}, at {d.n_lots} lots {fmt_number(a.value_at_n)}"
            f"{', counted' if a.counted else ''})" for a in f.approaches)
        out.append((f"{attribute_label(f.attribute)} ({f.attribute})",
                    f"specification {_spec(f)} ({source}); {f.n} lots "
                    f"{_lots(f.lot_ids)}; Ppk {f.ppk:.3g} ({f.confidence:.0%} CI {f.ppk_low:.3g} to "
                    f"{f.ppk_high:.3g}, {f.interval_method}{', log scale' if f.scale is Scale.LOG else ''}); "
                    f"{values}; {_ppq_needed(f, d.n_lots)}; all {d.n_lots} pass: "
                    f"{_p(f.pass_probability)}"))
    if d.residual_risk is not None:
        r = d.residual_risk
        out += [
            ("Residual risk", f"product knowledge {r.product_knowledge} ({r.product_knowledge_rationale}); process "
                              f"understanding {r.process_understanding} ({r.process_understanding_rationale}); "
                              f"control strategy {r.control_strategy} ({r.control_strategy_rationale}); overall "
                              f"{r.overall} ({r.overall_rationale})"),
            ("Your mapping", ", ".join(f"{level}: {n}" for level, n in r.lots_by_level.items())
             + f" ({r.mapping_rationale})"),
        ]
    out += [("Probability that all pass", _p(d.pass_all)), ("Justification", d.justification)]
    return out


# concurrent release


def _answer(value: bool | None) -> str:
    return "not answered" if value is None else ("yes" if value else "no")


def _counts(d: ConcurrentReleaseDecision, route: str) -> str:
    states = [c.status for c in d.conditions if c.route == route]
    parts = [f"{states.count(s)} {s}" for s in ("met", "unmet", "unknown", "not applicable") if states.count(s)]
    return ", ".join(parts)


def _lots_concerned(d: ConcurrentReleaseDecision) -> str:
    return f"PPQ lots {', '.join(d.lots)}" if d.lots else "PPQ lots"


@summary.register
def _summary_release(d: ConcurrentReleaseDecision) -> str:
    text = (f"{_lots_concerned(d)}: {_ROUTE_WORDS[d.route]}; commercial route "
            f"{_counts(d, 'commercial_concurrent_release')}; clinical route {_counts(d, 'clinical_use_under_ind')}")
    if d.outstanding_steps:
        text += f"; outstanding: {'; '.join(d.outstanding_steps)}"
    if d.profile_conflicts:
        text += f"; answers against the product profile: {_conflict_fields(d)}"
    return text + "."


def _conflict_fields(d: ConcurrentReleaseDecision) -> str:
    return ", ".join(f"{c.field} {c.value} (answered {c.answer})" for c in d.profile_conflicts)


@rows.register
def _rows_release(d: ConcurrentReleaseDecision) -> list[dict[str, str]]:
    against = f"; answers against the product profile: {_conflict_fields(d)}" if d.profile_conflicts else ""
    return [_row(d, d.flexibility_id, _lots_concerned(d), _ROUTE_WORDS[d.route],
                 f"concurrent-release planner: commercial route {_counts(d, 'commercial_concurrent_release')}; "
                 f"clinical route {_counts(d, 'clinical_use_under_ind')}{against}",
                 "—" if d.route == "hold_until_complete" else "needs FDA's agreement in the PPQ strategy")]


@facts.register
def _facts_release(d: ConcurrentReleaseDecision) -> list[tuple[str, str]]:
    out = _head(d) + [
        ("Route", _ROUTE_WORDS[d.route]),
        ("Lots", ", ".join(d.lots) or "not named"),
        ("Stage", d.stage.value if d.stage is not None else "not answered"),
        ("Answers", f"BLA approved: {_answer(d.bla_approved)}; change needs a prior-approval supplement: "
                    f"{_answer(d.change_needs_pas)}; supplement approved: {_answer(d.pas_approved)}; meets the "
                    f"commercial specification: {_answer(d.meets_commercial_spec)}; within commercial shelf life: "
                    f"{_answer(d.within_shelf_life)}; protocol provides for it: {_answer(d.protocol_provides)}; IND "
                    f"in effect: {_answer(d.ind_in_effect)}; meets the IND criteria: "
                    f"{_answer(d.meets_ind_criteria)}"),
        ("Outstanding protocol steps", "; ".join(d.outstanding_steps) or "none listed"),
    ]
    out += [("Contradicts the product profile", c.text) for c in d.profile_conflicts]
    for c in d.conditions:
        out.append((f"{_ROUTE_WORDS[c.route]}: {c.id.replace('_', ' ')}",
                    f"{c.status} ({_GRADE_WORDS[c.grade]}: {'; '.join(c.sources)})"))
    out += [("FDA's role", f"basis: {_GRADE_WORDS[d.fda_agreement_grade]}"),
            ("Method", d.method), ("Justification", d.justification)]
    return out
