"""The Process validation page's state, without widgets.

Lots and a specification per attribute; the capability of the development
lots with its intervals; the number of PPQ lots by each approach side by side
(success run, capability, expected coverage, tolerance interval, the user's
residual-risk assessment) with the probability that all planned lots pass and
the number the data support (:func:`cgtkit.analyses.process_validation.recommend_lot_number`);
the pass-probability heat map; and the concurrent-release planner
(flexibilities PV-PPQ-LOT-NUMBER, PV-CONCURRENT-RELEASE, PV-PPQ-CLINICAL-USE).

The specification of an attribute is the commercial criterion the user accepted
for it on the Commercial specifications page (a ``CommercialCriterionDecision``
in the workbook), or limits entered here; :attr:`spec_note` says which. cgtkit
never makes a specification up: an attribute without one is left out, and the
attribute on screen asks for one.

Every attribute with a specification enters the number of PPQ lots; the one on
screen shows its details. A choice the data cannot support sets
:attr:`problem` and keeps the previous result. The planner is independent of
the data: it is prefilled from the product profile and recomputed on each
answer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import pandas as pd
from traitlets import Any as AnyTrait
from traitlets import Bool, Dict, Float, Instance, Int, List, Unicode, observe

from cgtkit.analyses.process_validation import (
    RECOMMENDATION_APPROACHES,
    ConcurrentReleasePlan,
    ConcurrentReleaseQuestionnaire,
    LotNumberOverview,
    LotNumberRecommendation,
    LotNumberSettings,
    PassProbabilityMap,
    ResidualRiskAssessment,
    ResidualRiskResult,
    RiskLevel,
    RiskRating,
    load_concurrent_release,
    lot_number_overview,
    pass_probability_map,
    plan_concurrent_release,
    recommend_lot_number,
    residual_risk_lots,
    specification_text,
)
from cgtkit.analyses.specifications import AttributeData
from cgtkit.attributes import get_attribute
from cgtkit.decisions import (
    CommercialCriterionDecision,
    ConcurrentReleaseDecision,
    PpqLotCountDecision,
    when,
)
from cgtkit.decisions.process_validation import (
    ApproachResult,
    PpqAttributeFinding,
    ProfileConflict,
    ReleaseCondition,
    ResidualRiskRecord,
)
from cgtkit.errors import CgtkitError
from cgtkit.profile import FIELD_LABELS, REPORTING_LABELS, ProductProfile
from cgtkit.session import Session
from cgtkit.stats.capability import SpecificationError, check_specification
from cgtkit.stats.ppq import acceptance_factor
from cgtkit.ui.selection import LotSelection, SelectionPageModel
from cgtkit.vocab import AttributeKind, LotType, Stage

PAGE_ID = "process_validation"
LOT_COUNT_FLEXIBILITIES = (("PV-PPQ-LOT-NUMBER — number of PPQ lots, justified", "PV-PPQ-LOT-NUMBER"),)
ANSWERS = (("not answered", ""), ("yes", "yes"), ("no", "no"))
RISK_LEVELS = (("not rated", ""), ("low", "low"), ("medium", "medium"), ("high", "high"))
PASS_CRITERIA = (("each result inside the specification", "results"),
                 ("mean ± k SD of the lot's results inside", "interval"), ("both", "both"))
K_INTERVALS = (("prediction interval, 95%", "prediction"),
               ("tolerance interval, 67.5% coverage, 95% confidence (PPQplan's default)", "tolerance"))
#: The questionnaire's yes/no questions, in the order the page asks them.
QUESTIONS = ("bla_approved", "change_needs_pas", "pas_approved", "meets_commercial_spec", "within_shelf_life",
             "protocol_provides", "ind_in_effect", "meets_ind_criteria")
RISK_AREAS = (("product_knowledge", "Product knowledge"), ("process_understanding", "Process understanding"),
              ("control_strategy", "Control strategy"))
#: A starting value for the PPQ lots planned when the data hold none: the industry convention, never an FDA minimum.
CONVENTIONAL_PPQ_LOTS = 3


class InputError(CgtkitError):
    """A setting of the page outside its range (a confidence of 120 %, ...)."""


@dataclass(frozen=True)
class SpecChoice:
    """The specification used for one attribute, and where it came from."""

    attribute: str
    lower: float | None
    upper: float | None
    source: str  # "accepted_criterion" or "entered"
    accepted: CommercialCriterionDecision | None


@dataclass(frozen=True)
class ProcessValidationResult:
    """What the page shows for one set of choices.

    ``overview`` is the attribute on screen; ``overviews`` every attribute with
    a specification (on-screen one included, in attribute order), ``skipped``
    those whose specification or data could not be used, with why.
    """

    data: AttributeData
    spec: SpecChoice
    overview: LotNumberOverview
    overviews: tuple[LotNumberOverview, ...]
    specs: tuple[SpecChoice, ...]
    skipped: tuple[tuple[str, str], ...]
    recommendation: LotNumberRecommendation
    residual_risk: ResidualRiskResult | None
    pass_map: PassProbabilityMap
    k: float | None


def _parse_limit(text: str, which: str, label: str) -> float | None:
    text = str(text).strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise SpecificationError(
            f"{label}: the {which} limit '{text}' is not a number. Enter it as 50 or 5e12, or leave it empty when "
            f"the specification has no {which} limit."
        ) from None
    if not math.isfinite(value):
        raise SpecificationError(f"{label}: the {which} limit must be a finite number; got '{text}'.")
    return value


def _pair(value: Any) -> tuple[str, str] | None:
    """Limits typed for an attribute, as (lower, upper) text; None when none were typed."""
    if isinstance(value, list | tuple) and len(value) == 2:
        return str(value[0] or ""), str(value[1] or "")
    return None


def _text(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


def _tri(answer: str) -> bool | None:
    return None if not answer else answer == "yes"


class ProcessValidationModel(SelectionPageModel):
    """Choices (lots, specifications, targets, assessment, heat map, questionnaire) and what they give."""

    result = Instance(ProcessValidationResult, allow_none=True, read_only=True)
    problem_kind = Unicode("error", read_only=True, help="'info' when the page only waits for a specification.")
    # the specification of the attribute on screen, as typed
    lower = Unicode("")
    upper = Unicode("")
    entered_limits = Dict(help="Attribute id -> [lower, upper] as typed by the user (kept across attributes).")
    spec_note = Unicode("", read_only=True)
    # the number of PPQ lots
    n_planned = Int(CONVENTIONAL_PPQ_LOTS)
    planned_note = Unicode("", read_only=True)
    reliability = Float(0.95)
    confidence = Float(0.95)
    ppk_target = Float(1.0)
    expected_coverage = Float(0.90)
    tolerance_coverage = Float(0.99)
    pass_target = Float(0.90)
    counted = List(Unicode(), default_value=list(RECOMMENDATION_APPROACHES))
    count_development = Bool(True)
    # the user's residual-risk assessment (ISPE approach 1)
    use_assessment = Bool(False)
    product_knowledge = Unicode("")
    product_knowledge_rationale = Unicode("")
    process_understanding = Unicode("")
    process_understanding_rationale = Unicode("")
    control_strategy = Unicode("")
    control_strategy_rationale = Unicode("")
    overall = Unicode("")
    overall_rationale = Unicode("")
    lots_low = Int(0)
    lots_medium = Int(0)
    lots_high = Int(0)
    mapping_rationale = Unicode("")
    # the heat map
    n_per_lot = Int(1)
    criterion = Unicode("results")
    k_interval = Unicode("prediction")
    between_sd = Float(0.0)
    # the concurrent-release questionnaire ("" = not answered)
    stage = Unicode("")
    bla_approved = Unicode("")
    change_needs_pas = Unicode("")
    pas_approved = Unicode("")
    meets_commercial_spec = Unicode("")
    within_shelf_life = Unicode("")
    protocol_provides = Unicode("")
    ind_in_effect = Unicode("")
    meets_ind_criteria = Unicode("")
    outstanding_steps = Unicode("")
    release_lots = Unicode("")
    prefill_note = Unicode("", read_only=True)
    profile_conflicts = AnyTrait((), read_only=True, help="ProfileConflict per answer the product profile contradicts.")
    plan = AnyTrait(None, allow_none=True, read_only=True)
    plan_problem = Unicode("", read_only=True)

    #: The user's inputs, kept beside the workbook (:mod:`cgtkit.ui.page_inputs`), in the order they are set:
    #: the settings, the planner's assessment with its rationales, and the concurrent-release answers.
    INPUTS: ClassVar[tuple[str, ...]] = (
        "entered_limits", "n_planned", "reliability", "confidence", "ppk_target", "expected_coverage",
        "tolerance_coverage", "pass_target", "counted", "count_development", "n_per_lot", "criterion", "k_interval",
        "between_sd", "use_assessment", "product_knowledge", "product_knowledge_rationale", "process_understanding",
        "process_understanding_rationale", "control_strategy", "control_strategy_rationale", "overall",
        "overall_rationale", "lots_low", "lots_medium", "lots_high", "mapping_rationale",
        "stage", *QUESTIONS, "outstanding_steps", "release_lots")

    def __init__(self, session: Session) -> None:
        super().__init__()
        self._busy = True
        self._planned_chosen = False
        self._profile_says: tuple[ProfileConflict, ...] = ()
        self.selection = LotSelection(session, (LotType.ENGINEERING, LotType.CLINICAL))
        self._start_on_accepted(session)
        self._prefill(session)
        self._follow_selection()
        self._busy = False
        self.selection.observe(self._on_selection, names="changed")
        self.recompute()
        self.replan()

    @property
    def page_id(self) -> str:
        return PAGE_ID

    def restored(self, names: set[str]) -> None:
        if "n_planned" in names:
            self._planned_chosen = True
        if "entered_limits" in names:
            with self.quietly():
                self._follow_selection()  # the limits typed for the attribute on screen
        self.recompute()
        self.replan()

    @property
    def session(self) -> Session:
        return self.selection.session

    # -- the workbook ----------------------------------------------------------
    def _start_on_accepted(self, session: Session) -> None:
        """Open on the latest accepted commercial criterion's data set and attribute, when there is one."""
        accepted = [d for d in session.decisions if isinstance(d, CommercialCriterionDecision)]
        sel = self.selection
        for d in reversed(accepted):
            if d.dataset in sel.dataset_options:
                sel.dataset = d.dataset
                if d.attribute in {a for _l, a in sel.attribute_options}:
                    sel.attribute = d.attribute
                return

    def follow_session(self, session: Session, data_changed: bool) -> None:
        """Follow a workbook changed elsewhere: new data sets, or newly accepted criteria."""
        with self.quietly():
            if data_changed:
                self.selection.use_session(session)
            else:
                self.selection.session = session
            self._follow_selection()
        self.recompute()
        self._profile_says = _profile_answers(session.profile)  # the answers stay the user's
        self.replan()

    def accepted(self, attribute: str) -> CommercialCriterionDecision | None:
        """The latest commercial criterion accepted for ``attribute``, preferring the data set on screen."""
        found = [d for d in self.session.decisions
                 if isinstance(d, CommercialCriterionDecision) and d.attribute == attribute]
        same = [d for d in found if d.dataset == self.selection.dataset]
        return (same or found or [None])[-1]

    def ppq_lots_in_data(self) -> int:
        frame = self.selection.frame()
        return int(frame.loc[frame["lot_type"].astype(str) == LotType.PPQ.value, "lot_id"].nunique())

    # -- following the selection -------------------------------------------------
    def _on_selection(self, _change: Any) -> None:
        with self.quietly():
            self._follow_selection()
        self.recompute()

    def _follow_selection(self) -> None:
        """The limits of the attribute on screen, and the PPQ lots in the data as the planned number."""
        attribute = self.selection.attribute
        entered = _pair(self.entered_limits.get(attribute))
        accepted = self.accepted(attribute)
        if entered is not None:
            self.lower, self.upper = entered
        elif accepted is not None:
            self.lower, self.upper = _text(accepted.low), _text(accepted.high)
        else:
            self.lower, self.upper = "", ""
        self._spec_note()
        n_ppq = self.ppq_lots_in_data()
        if not self._planned_chosen:
            self.n_planned = n_ppq or CONVENTIONAL_PPQ_LOTS
        if n_ppq:
            note = f"Data set {self.selection.dataset} holds {n_ppq} PPQ lots."
        else:
            note = (f"Data set {self.selection.dataset} holds no PPQ lots; {CONVENTIONAL_PPQ_LOTS} is the industry "
                    "convention (never an FDA minimum), shown as a starting value: enter the number you plan.")
        self.set_trait("planned_note", note)

    def _spec_note(self) -> None:
        attribute = self.selection.attribute
        try:
            spec = get_attribute(attribute)
        except CgtkitError:
            self.set_trait("spec_note", "")
            return
        accepted = self.accepted(attribute)
        entered = _pair(self.entered_limits.get(attribute))
        if spec.kind is AttributeKind.SAFETY_FIXED:
            note = f"{spec.label} is a fixed safety requirement: every PPQ lot must meet it; no statistics apply."
        elif accepted is not None and (entered is None or self._matches(entered, accepted)):
            note = (f"Specification used: {specification_text(accepted.low, accepted.high, accepted.unit)}, the commercial "
                    f"criterion you accepted on the Commercial specifications page ({when(accepted)}; "
                    f"{accepted.method}).")
        elif entered is not None and any(entered):
            note = "Specification used: the limits entered here"
            note += (f"; the accepted commercial criterion is {specification_text(accepted.low, accepted.high, accepted.unit)}."
                     if accepted is not None else f" (no commercial criterion accepted for {spec.label}).")
        else:
            note = (f"No specification for {spec.label} yet: accept a commercial criterion for it on the Commercial "
                    f"specifications page, or enter its lower and/or upper limit here ({spec.unit}).")
        self.set_trait("spec_note", note)

    @staticmethod
    def _matches(entered: tuple[str, str], accepted: CommercialCriterionDecision) -> bool:
        try:
            lo = float(entered[0]) if entered[0].strip() else None
            hi = float(entered[1]) if entered[1].strip() else None
        except ValueError:
            return False

        def same(a: float | None, b: float | None) -> bool:
            return (a is None and b is None) or (a is not None and b is not None and math.isclose(a, b, rel_tol=1e-5))

        return same(lo, accepted.low) and same(hi, accepted.high)

    @observe("lower", "upper")
    def _on_limits(self, _change: dict[str, Any]) -> None:
        if self._busy:
            return
        self.entered_limits = {**self.entered_limits, self.selection.attribute: [self.lower, self.upper]}
        self._spec_note()
        self.recompute()

    def use_accepted(self) -> None:
        """Forget the limits typed for the attribute on screen: back to the accepted criterion."""
        attribute = self.selection.attribute
        if self.accepted(attribute) is None:
            raise SpecificationError(f"No commercial criterion has been accepted for {self.selection.spec.label}.")
        self.entered_limits = {a: v for a, v in self.entered_limits.items() if a != attribute}
        self._on_selection(None)

    @observe("n_planned")
    def _on_planned(self, _change: dict[str, Any]) -> None:
        if not self._busy:
            self._planned_chosen = True
            self.recompute()

    @observe("reliability", "confidence", "ppk_target", "expected_coverage", "tolerance_coverage", "pass_target",
             "counted", "count_development", "use_assessment", "n_per_lot", "criterion", "k_interval", "between_sd")
    def _on_setting(self, _change: dict[str, Any]) -> None:
        if not self._busy:
            self.recompute()

    @observe("product_knowledge", "product_knowledge_rationale", "process_understanding",
             "process_understanding_rationale", "control_strategy", "control_strategy_rationale", "overall",
             "overall_rationale", "lots_low", "lots_medium", "lots_high", "mapping_rationale")
    def _on_assessment(self, _change: dict[str, Any]) -> None:
        if not self._busy and self.use_assessment:
            self.recompute()

    # -- specifications ----------------------------------------------------------------
    def spec_choice(self, attribute: str) -> SpecChoice:
        """The specification of ``attribute``: typed here, else the accepted criterion; none is an error."""
        label = get_attribute(attribute).label
        accepted = self.accepted(attribute)
        entered = _pair(self.entered_limits.get(attribute))
        if entered is not None:
            lo = _parse_limit(entered[0], "lower", label)
            hi = _parse_limit(entered[1], "upper", label)
            same = accepted is not None and self._matches(entered, accepted)
            source = "accepted_criterion" if same else "entered"
        elif accepted is not None:
            lo, hi, source = accepted.low, accepted.high, "accepted_criterion"
        else:
            lo = hi = None
            source = "entered"
        if lo is None and hi is None:
            raise SpecificationError(
                f"No specification for {label}: accept a commercial criterion for it on the Commercial "
                "specifications page, or enter its lower and/or upper limit above. Capability and the number of "
                "PPQ lots are measured against it.")
        try:
            check_specification(lo, hi)
        except SpecificationError as exc:
            raise SpecificationError(f"{label}: {exc}") from None
        return SpecChoice(attribute=attribute, lower=lo, upper=hi, source=source,
                          accepted=accepted if source == "accepted_criterion" else None)

    def specified(self) -> list[str]:
        """Quantitative attributes of the data set with a specification (accepted or typed), in list order."""
        out = []
        for _label, attribute in self.selection.attribute_options:
            if get_attribute(attribute).kind is AttributeKind.SAFETY_FIXED:
                continue
            if attribute in self.entered_limits or self.accepted(attribute) is not None:
                out.append(attribute)
        return out

    # -- settings ------------------------------------------------------------------------
    def settings(self) -> LotNumberSettings:
        for name, label, low in (("reliability", "The success-run reliability", 0.5),
                                 ("confidence", "The confidence level", 0.5),
                                 ("expected_coverage", "The expected coverage", 0.5),
                                 ("tolerance_coverage", "The tolerance-interval coverage", 0.5),
                                 ("pass_target", "The target probability of passing", 0.0)):
            value = getattr(self, name)
            if not low < value < 1.0:
                raise InputError(f"{label} must be above {low:.0%} and below 100%; got {value:.4g}. Enter it as a "
                                 "fraction, e.g. 0.95 for 95%.")
        if not 0.0 < self.ppk_target <= 3.0:
            raise InputError(f"The Ppk target must be above 0 and at most 3; got {self.ppk_target:g}. 1.0 or 1.33 "
                             "are usual.")
        if not 1 <= self.n_planned <= 100:
            raise InputError(f"The number of PPQ lots planned must be between 1 and 100; got {self.n_planned}.")
        return LotNumberSettings(reliability=self.reliability, confidence=self.confidence,
                                 ppk_target=self.ppk_target, expected_coverage=self.expected_coverage,
                                 tolerance_coverage=self.tolerance_coverage, n_planned=self.n_planned)

    def assessment(self) -> ResidualRiskAssessment:
        """The user's residual-risk assessment as typed (it may be incomplete)."""
        def rating(name: str) -> RiskRating:
            level = getattr(self, name)
            return RiskRating(level=RiskLevel(level) if level else None, rationale=getattr(self, f"{name}_rationale"))

        mapping = {RiskLevel(level): n for level, n in (("low", self.lots_low), ("medium", self.lots_medium),
                                                          ("high", self.lots_high)) if n}
        return ResidualRiskAssessment(
            product_knowledge=rating("product_knowledge"), process_understanding=rating("process_understanding"),
            control_strategy=rating("control_strategy"), overall=RiskLevel(self.overall) if self.overall else None,
            overall_rationale=self.overall_rationale, lots_by_level=mapping,
            mapping_rationale=self.mapping_rationale)

    def suggested_overall(self) -> str:
        """The highest of the three ratings (cgtkit's suggestion, never filled in for the user); '' until all three."""
        level = self.assessment().suggested_overall()
        return level.value if level else ""

    def _frame(self) -> pd.DataFrame:
        """The data set without development lots of unchosen process versions (PPQ lots all kept)."""
        sel = self.selection
        frame = sel.frame()
        if sel.version_options and "process_version" in frame:
            development = frame["lot_type"].astype(str).isin(sel.lot_types)
            chosen = frame["process_version"].astype(str).isin(sel.process_versions)
            frame = frame[~development | chosen]
        return frame

    # -- deriving the results ---------------------------------------------------------------
    def compute(self) -> ProcessValidationResult:
        """The result for the current choices; a :class:`CgtkitError` says why there is none."""
        sel = self.selection
        spec = sel.spec
        if spec.kind is AttributeKind.SAFETY_FIXED:
            raise InputError(f"{spec.label} is a fixed safety requirement: every PPQ lot must meet it, and cgtkit "
                             "computes no capability or lot numbers for it. Choose a quantitative attribute.")
        chosen = self.spec_choice(spec.id)
        settings = self.settings()
        residual = residual_risk_lots(self.assessment()) if self.use_assessment else None
        assessment = self.assessment() if self.use_assessment else None
        frame = self._frame()
        data = sel.data()
        overview = lot_number_overview(frame, spec, chosen.lower, chosen.upper, development_types=sel.lot_types,
                                       settings=settings, residual_risk=assessment)
        overviews, specs, skipped = [], [], []
        for attribute in dict.fromkeys([*self.specified(), spec.id]):
            if attribute == spec.id:
                overviews.append(overview)
                specs.append(chosen)
                continue
            try:
                other = self.spec_choice(attribute)
                overviews.append(lot_number_overview(frame, get_attribute(attribute), other.lower, other.upper,
                                                     development_types=sel.lot_types, settings=settings,
                                                     residual_risk=assessment))
                specs.append(other)
            except CgtkitError as exc:
                skipped.append((get_attribute(attribute).label, str(exc)))
        order = [a for _l, a in sel.attribute_options]
        ranked = sorted(zip(overviews, specs, strict=True), key=lambda p: order.index(p[0].attribute))
        overviews, specs = [o for o, _s in ranked], [s for _o, s in ranked]
        if not set(self.counted) <= {"success_run", "capability", "expected_coverage", "tolerance_coverage"}:
            raise InputError("Unknown approach chosen for the recommendation.")
        recommendation = recommend_lot_number(
            overviews, approaches=self.counted, count_development=self.count_development, n_planned=self.n_planned,
            residual_risk=residual, pass_target=self.pass_target)
        if not 1 <= self.n_per_lot <= 100:
            raise InputError(f"Results per lot must be between 1 and 100; got {self.n_per_lot}.")
        k = None
        if self.criterion != "results":
            if self.n_per_lot < 2:
                raise InputError("The criterion mean ± k SD needs at least 2 results per lot: set the results per "
                                 "lot to 2 or more, or use the criterion that each result is inside the specification.")
            k = acceptance_factor(self.n_per_lot, interval=self.k_interval)
        if not (math.isfinite(self.between_sd) and self.between_sd >= 0.0):
            raise InputError(f"The between-lot SD must be 0 or a positive number; got {self.between_sd:g}.")
        between = self.between_sd if self.n_per_lot > 1 else 0.0
        pass_map = pass_probability_map(data, chosen.lower, chosen.upper, n_lots=self.n_planned,
                                        n_per_lot=self.n_per_lot, criterion=self.criterion, k=k,
                                        between_sd=between)
        return ProcessValidationResult(
            data=data, spec=chosen, overview=overview, overviews=tuple(overviews), specs=tuple(specs),
            skipped=tuple(skipped), recommendation=recommendation, residual_risk=residual, pass_map=pass_map, k=k)

    def recompute(self, _change: Any = None) -> None:
        """Derive :attr:`result`; a problem keeps the previous one and says why (a missing specification before
        any result is only information)."""
        try:
            result = self.compute()
        except CgtkitError as exc:
            previous = self.result
            waiting = previous is None and isinstance(exc, SpecificationError) and "No specification" in str(exc)
            kept = (f" The tables and figures below still show the previous result ({previous.overview.label}, "
                    f"{previous.overview.development.n} lots)." if previous else "")
            message = (f"Capability and the number of PPQ lots appear once {self.selection.spec.label} has a "
                       "specification: the note under the limits says where it can come from." if waiting
                       else f"{exc}{kept}")  # the spec note already says what is missing, in full
            with self.hold_trait_notifications():
                self.set_trait("problem_kind", "info" if waiting else "error")
                self.set_trait("problem", message)
            return
        with self.hold_trait_notifications():
            self.set_trait("problem", "")
            self.set_trait("problem_kind", "error")
            self.set_trait("result", result)

    # -- the concurrent-release planner ------------------------------------------------------
    def _prefill(self, session: Session) -> None:
        """What the product profile knows: the stage, approval, an IND in effect, the change's reporting category."""
        profile = session.profile
        self._profile_says = _profile_answers(profile)
        if profile is None:
            self.set_trait("prefill_note", "")
            return
        stage = Stage(profile.stage)
        self.stage = stage.value
        self.bla_approved = "yes" if profile.approved else "no"
        facts = [f"stage {stage.value}", f"BLA approved: {self.bla_approved}"]
        if stage.clinical:
            self.ind_in_effect = "yes"
            facts.append("IND in effect: yes (a clinical stage)")
        elif stage is Stage.PRE_IND:
            self.ind_in_effect = "no"
            facts.append("IND in effect: no (pre-IND)")
        if profile.approved:
            category, assumed = profile.reporting
            if category != "not_set":
                self.change_needs_pas = "yes" if category == "prior_approval" else "no"
                how = "assumed from the planned change" if assumed else "from the profile"
                facts.append(f"change needs a prior-approval supplement: {self.change_needs_pas} ({how})")
        self.set_trait("prefill_note", f"Prefilled from your product profile: {'; '.join(facts)}. Change any answer "
                                       "that does not fit the lots concerned.")

    @observe("stage")
    def _on_stage(self, change: dict[str, Any]) -> None:
        """The stage decides approval: a new stage brings the matching answer (an answer against it stays an error)."""
        if change["new"]:
            self.bla_approved = "yes" if change["new"] == Stage.POST_APPROVAL.value else "no"
        self.replan()

    @observe(*QUESTIONS, "outstanding_steps")
    def _on_answer(self, _change: dict[str, Any]) -> None:
        self.replan()

    def questionnaire(self) -> ConcurrentReleaseQuestionnaire:
        steps = tuple(s.strip() for s in self.outstanding_steps.splitlines() if s.strip())
        return ConcurrentReleaseQuestionnaire(
            stage=Stage(self.stage) if self.stage else None, outstanding_steps=steps,
            **{q: _tri(getattr(self, q)) for q in QUESTIONS})

    def conflicts(self) -> tuple[ProfileConflict, ...]:
        """The answers that contradict the product profile (the approval answer only when no stage is given:
        with a stage, the stage's own conflict says it)."""
        out = []
        for said in self._profile_says:
            answer = getattr(self, said.question)
            if not answer or answer == said.answer or (said.question == "bla_approved" and self.stage):
                continue
            out.append(said.model_copy(update={"answer": answer}))
        return tuple(out)

    def replan(self) -> None:
        """The route for the answers; a contradiction keeps the previous plan and says why. Answers that
        contradict the product profile are kept and listed in :attr:`profile_conflicts`."""
        if getattr(self, "_busy", False):
            return
        self.set_trait("profile_conflicts", self.conflicts())
        try:
            plan = plan_concurrent_release(self.questionnaire())
        except CgtkitError as exc:
            kept = " The route below is still the one for your previous answers." if self.plan is not None else ""
            self.set_trait("plan_problem", f"{exc}{kept}")
            return
        with self.hold_trait_notifications():
            self.set_trait("plan_problem", "")
            self.set_trait("plan", plan)

    # -- decisions ---------------------------------------------------------------------------
    def lot_count_draft(self) -> str:
        """The recommendation and the protocol text, as a first draft of the justification."""
        if self.result is None:
            return ""
        rec = self.result.recommendation
        return f"{rec.statement}\n\n{rec.protocol_text}".strip()

    def lot_count_decision(self, justification: str, flexibility_id: str | None = None) -> PpqLotCountDecision:
        """The number of PPQ lots planned, with every attribute's approaches, as a typed workbook decision."""
        r = self.result
        if r is None:
            raise InputError("Nothing to accept yet: give the attribute a specification first (see the message above).")
        if self.problem:
            raise InputError("The page shows the previous result: fix the message above before accepting.")
        if not justification.strip():
            raise InputError("Write a justification (the draft can be edited, not left empty).")
        rec = r.recommendation
        n = self.n_planned
        findings = []
        for ov, spec, need in zip(r.overviews, r.specs, rec.needs, strict=True):
            cap = ov.development.capability
            approaches = tuple(
                ApproachResult(approach=a.approach, n_needed=a.n, target=a.target,
                               value_at_n=None if a.value_planned is None or math.isnan(a.value_planned)
                               else a.value_planned, counted=a.approach in rec.approaches)
                for a in ov.approaches)
            findings.append(PpqAttributeFinding(
                attribute=ov.attribute, unit=ov.unit, scale=ov.scale, lower=cap.lower, upper=cap.upper,
                spec_source=spec.source, lot_ids=ov.development.lot_ids, n=ov.development.n, ppk=cap.ppk,
                ppk_low=cap.ppk_exact_low, ppk_high=cap.ppk_exact_high,
                interval_method=cap.exact_method.split(" (")[0], confidence=cap.confidence_level,
                approaches=approaches, ppq_needed=need.ppq_needed, pass_probability=need.per_lot_pass ** n))
        record = None
        if r.residual_risk is not None:
            a = self.assessment()
            record = ResidualRiskRecord(
                product_knowledge=str(a.product_knowledge.level),
                product_knowledge_rationale=a.product_knowledge.rationale,
                process_understanding=str(a.process_understanding.level),
                process_understanding_rationale=a.process_understanding.rationale,
                control_strategy=str(a.control_strategy.level), control_strategy_rationale=a.control_strategy.rationale,
                overall=r.residual_risk.overall.value, overall_rationale=a.overall_rationale,
                lots_by_level={k.value: v for k, v in a.lots_by_level.items()},
                mapping_rationale=a.mapping_rationale, n=r.residual_risk.n)
        labels = [r.overview.get(a).label for a in rec.approaches]
        method = (f"number of PPQ lots from {', '.join(labels) or 'no statistical approach'}"
                  f"{', development lots counted' if rec.count_development else ''}"
                  f"{', and the residual-risk assessment' if record else ''} (ISPE discussion paper approaches; "
                  "Ppk intervals exact or generalized); pass probability at the development estimates")
        s = self.settings()
        return PpqLotCountDecision(
            page=PAGE_ID, flexibility_id=flexibility_id or LOT_COUNT_FLEXIBILITIES[0][1],
            dataset=self.selection.dataset, lot_types=tuple(LotType(t) for t in self.selection.lot_types),
            process_versions=tuple(self.selection.process_versions), n_lots=n, recommended=rec.n,
            recommendation_basis=rec.basis, count_development=rec.count_development, reliability=s.reliability,
            confidence=s.confidence, ppk_target=s.ppk_target, expected_coverage=s.expected_coverage,
            tolerance_coverage=s.tolerance_coverage, findings=tuple(findings), residual_risk=record,
            pass_all=rec.pass_planned if rec.pass_planned is not None else 0.0, method=method,
            justification=justification.strip())

    def release_flexibility(self) -> tuple[str, str]:
        """The catalog entry of the route on screen, as (label, id) for the decision panel."""
        if self.plan is None:
            return ("PV-CONCURRENT-RELEASE — concurrent release of PPQ lots", "PV-CONCURRENT-RELEASE")
        route = load_concurrent_release().route(self.plan.route)
        return (f"{route.catalog_id} — {route.title}", route.catalog_id)

    def release_draft(self) -> str:
        plan: ConcurrentReleasePlan | None = self.plan
        if plan is None:
            return ""
        docs = "\n".join(f"- {d.text}" for d in plan.documentation)
        steps = f"\n\nOutstanding protocol steps: {'; '.join(plan.outstanding_steps)}." if plan.outstanding_steps else ""
        against = "".join(f"\n\n{c.text} The route follows the answer; the profile is to be corrected if it is "
                          "out of date." for c in self.profile_conflicts)
        return (f"{plan.summary}{against}{steps}\n\nFDA's role: {plan.fda_agreement.text}\n\n"
                f"Documentation kept:\n{docs}")

    def release_decision(self, justification: str, flexibility_id: str | None = None) -> ConcurrentReleaseDecision:
        """The route on screen, with the answers and every condition, as a typed workbook decision."""
        plan: ConcurrentReleasePlan | None = self.plan
        if plan is None or self.plan_problem:
            raise InputError(f"Answer the questions consistently first: {self.plan_problem}".rstrip(": "))
        if not justification.strip():
            raise InputError("Write a justification (the draft can be edited, not left empty).")
        q = self.questionnaire()
        conditions = tuple(
            ReleaseCondition(id=c.id, route=c.route, status=c.status.value, grade=c.statement.grade,
                             sources=tuple(s.title for s in c.statement.sources))
            for route in plan.routes for c in route.conditions)
        lots = tuple(x.strip() for x in self.release_lots.replace(";", ",").split(",") if x.strip())
        return ConcurrentReleaseDecision(
            page=PAGE_ID, flexibility_id=self.release_flexibility()[1], route=plan.route, lots=lots,
            stage=q.stage, outstanding_steps=q.outstanding_steps, conditions=conditions,
            fda_agreement_grade=plan.fda_agreement.grade, profile_conflicts=self.conflicts(),
            method="concurrent-release planner (data/concurrent_release.yaml): each condition from the answers",
            justification=justification.strip(), **{name: getattr(q, name) for name in QUESTIONS})


def _profile_answers(profile: ProductProfile | None) -> tuple[ProfileConflict, ...]:
    """What the product profile says for each question it answers, with the field (as the Start here page
    labels it) and its value in words; :meth:`ProcessValidationModel.conflicts` puts the user's answer in."""
    if profile is None:
        return ()
    questions = dict(load_concurrent_release().questions)
    stage = Stage(profile.stage)
    said = [("stage", stage.value, "stage", stage.value),
            ("bla_approved", "yes" if profile.approved else "no", "stage", stage.value)]
    if stage.clinical:
        said.append(("ind_in_effect", "yes", "stage", f"{stage.value} (a clinical stage, under an IND)"))
    elif stage is Stage.PRE_IND:
        said.append(("ind_in_effect", "no", "stage", stage.value))
    if profile.approved:
        category, assumed = profile.reporting
        if category != "not_set":
            answer = "yes" if category == "prior_approval" else "no"
            if assumed:
                said.append(("change_needs_pas", answer, "planned_change",
                             f"'{profile.planned_change}' (read as a {REPORTING_LABELS[category]}; the reporting "
                             "category is not set)"))
            else:
                said.append(("change_needs_pas", answer, "reporting_category", f"'{REPORTING_LABELS[category]}'"))
    return tuple(ProfileConflict(question=q, question_text=questions[q], answer=a, field=f"'{FIELD_LABELS[f]}'",
                                 value=v) for q, a, f, v in said)
