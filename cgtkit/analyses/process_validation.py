"""Process validation: capability of the lots, the number of PPQ lots by several approaches side by side, the
probability of passing PPQ, and the concurrent-release planner.

FDA never set a minimum number of PPQ lots (three is an industry convention):
the PPQ protocol has to justify the number it proposes from what is known of
the process and the product (catalog entries PV-LIFECYCLE, PV-PPQ-LOT-NUMBER).
This module turns a lot data set (the long format of :func:`cgtkit.io.load_lots`),
an attribute's metadata (:class:`cgtkit.attributes.AttributeSpec`: scale,
kind) and the user's specification and choices into calls of
:mod:`cgtkit.stats.capability` and :mod:`cgtkit.stats.ppq`, and returns typed
results:

* :func:`attribute_capability`: Ppk/Cpk with intervals and the fraction
  outside, on the log scale for log-normal attributes;
* :func:`lot_number_overview`: success run, capability, expected coverage and
  tolerance-interval approaches from the development lots, the user's
  residual-risk assessment (:class:`ResidualRiskAssessment`), and the
  probability that the planned PPQ lots all meet the specification;
* :func:`pass_probability_map`: the operating-characteristic heat map over
  process mean and SD, with the development estimate marked;
* :func:`plan_concurrent_release`: from a typed questionnaire, which route
  applies (commercial concurrent release after approval, clinical use under
  the IND, or hold until the protocol is complete), each condition met, unmet,
  unknown or not applicable, with its source and the grade of its basis.
  The conditions live in ``data/concurrent_release.yaml``, not in the code.

The residual-risk approach follows the ISPE discussion paper on the number of
PPQ batches. Its tables mapping residual risk to a number of batches are not
available to cgtkit, so the mapping is always the user's input, shown as their
rationale: cgtkit never supplies the number.

Design rule (cgtkit's, not FDA's): attributes of kind ``safety_fixed`` are
fixed requirements that cgtkit's statistics never compute; they are refused
here with a sentence saying so.

References
----------
.. [1] FDA (2011). *Process Validation: General Principles and Practices*.
.. [2] Bryder, M. et al. (2012; v2 2014). *Topic 1 - Stage 2 Process
   Validation: Determining and Justifying the Number of Process Performance
   Qualification Batches*. ISPE discussion paper.
.. [3] FDA, CBER (2026). *Chemistry, Manufacturing, and Controls Flexibilities
   for Developing Human Cellular and Gene Therapy Products for a Biologics
   License Application*, final guidance (process validation flexibilities).
.. [4] 21 CFR 601.12(b): changes requiring a supplement approved before
   distribution of the product made with the change.

Examples
--------
>>> plan = plan_concurrent_release(ConcurrentReleaseQuestionnaire(
...     stage="phase 3", ind_in_effect=True, meets_ind_criteria=True, protocol_provides=True,
...     outstanding_steps=("3-month PPQ stability time point",)))
>>> plan.route, plan.status_of("bla_approved").value
('clinical_use_under_ind', 'unmet')
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from cgtkit.analyses.specifications import AttributeData, attribute_data
from cgtkit.attributes import AttributeSpec
from cgtkit.catalog import Source
from cgtkit.datafiles import data_dir, load_model, repeated_ids
from cgtkit.errors import CatalogError, CgtkitError, InsufficientDataError, entry_label, problem_sentence
from cgtkit.stats.capability import ProcessCapability, check_specification, limits_on_scale, process_capability
from cgtkit.stats.ppq import (
    LotsNeeded,
    PassProbability,
    PassProbabilityGrid,
    capability_lots,
    default_grid_axes,
    expected_coverage_lots,
    pass_probability,
    pass_probability_grid,
    success_run,
    tolerance_coverage_lots,
)
from cgtkit.vocab import AttributeKind, LotType, Scale, Stage

__all__ = [
    "AssessmentIncompleteError",
    "AttributeCapability",
    "ConcurrentReleasePlan",
    "ConcurrentReleaseQuestionnaire",
    "ConcurrentReleaseRules",
    "ConditionCheck",
    "ConditionStatus",
    "GradedText",
    "AttributeLotNeed",
    "LotNumberOverview",
    "LotNumberRecommendation",
    "LotNumberSettings",
    "PassProbabilityMap",
    "QuestionnaireError",
    "ResidualRiskAssessment",
    "ResidualRiskResult",
    "RiskLevel",
    "RiskRating",
    "RouteCheck",
    "attribute_capability",
    "load_concurrent_release",
    "lot_number_overview",
    "pass_probability_map",
    "plan_concurrent_release",
    "recommend_lot_number",
    "residual_risk_lots",
    "specification_text",
]

CONCURRENT_RELEASE_FILE = "concurrent_release.yaml"
DEVELOPMENT_LOT_TYPES: tuple[LotType, ...] = (LotType.ENGINEERING, LotType.CLINICAL)

ISPE_REFERENCE = (
    "Bryder, M. et al. (2012; version 2, 2014). Topic 1 - Stage 2 Process Validation: Determining and Justifying "
    "the Number of Process Performance Qualification Batches. ISPE discussion paper (approach 1: rationale and "
    "experience, from the residual risk of product knowledge, process understanding and control strategy)."
)


class AssessmentIncompleteError(CgtkitError):
    """A residual-risk assessment lacks a rating, a rationale or the user's mapping to a number of lots."""


class QuestionnaireError(CgtkitError):
    """The concurrent-release questionnaire contradicts itself (e.g. a phase 3 product with an approved BLA)."""


# ---------------------------------------------------------------------------
# Capability of an attribute's lots
# ---------------------------------------------------------------------------


def _require_quantitative(spec: AttributeSpec) -> None:
    if spec.kind is AttributeKind.SAFETY_FIXED:
        raise InsufficientDataError(
            f"{spec.label} is a safety attribute with a fixed requirement ({spec.fixed_requirement}); cgtkit never "
            "computes capability or PPQ statistics for such requirements: every lot must meet them. Whether an "
            "attribute counts as a safety attribute is a topic for your FDA meeting."
        )


def _lot_types_words(data: AttributeData) -> str:
    present = {str(t) for t in data.lots.get("lot_type", pd.Series(dtype=str))}
    return "/".join(t.label for t in LotType if t.value in present) or "selected"


@dataclass(frozen=True)
class AttributeCapability:
    """Capability of one attribute's lots against the user's specification.

    ``values`` are the results used (units of the data, manufacture order);
    ``n_censored`` counts results reported as below or above a limit of
    quantitation, which enter at that limit (``notes`` says so).
    """

    attribute: str
    label: str
    unit: str
    scale: Scale
    lot_types: str
    lot_ids: tuple[str, ...]
    values: tuple[float, ...]
    n_censored: int
    capability: ProcessCapability
    notes: tuple[str, ...] = ()

    @property
    def n(self) -> int:
        return len(self.values)

    def to_frame(self) -> pd.DataFrame:
        """The capability table (see :meth:`ProcessCapability.to_frame`) with the attribute in front."""
        frame = self.capability.to_frame()
        frame.insert(0, "attribute", self.attribute)
        return frame


def attribute_capability(
    data: AttributeData, lower: float | None, upper: float | None, *, confidence: float = 0.95
) -> AttributeCapability:
    """Ppk and Cpk with intervals, and the fraction outside, of one attribute's lots (its scale from the metadata).

    Raises
    ------
    cgtkit.stats.capability.SpecificationError
        No limit, lower not below upper, or limits that limit nothing on the log scale.
    cgtkit.errors.InsufficientDataError
        A safety attribute, fewer than 2 lots, identical results.
    """
    spec = data.spec
    _require_quantitative(spec)
    check_specification(lower, upper)
    lots = data.lots
    if data.n < 2:
        raise InsufficientDataError(
            f"{spec.label}: {data.n} lot(s) with a numeric result in the selection; capability needs at least 2 "
            "(a single lot shows no lot-to-lot variability). Add lot types to the selection or load more lots."
        )
    censoring = lots["censoring"].astype(str) if "censoring" in lots else pd.Series(["none"] * data.n)
    n_censored = int((censoring != "none").sum())
    notes = []
    if n_censored:
        notes.append(
            f"{n_censored} of {data.n} results were reported as below (or above) a limit of quantitation and enter "
            "at that limit; the SD and the capability are then approximate."
        )
    cap = process_capability(data.values, lower, upper, confidence=confidence, scale=spec.scale.value)
    return AttributeCapability(
        attribute=spec.id, label=spec.label, unit=spec.unit, scale=spec.scale, lot_types=_lot_types_words(data),
        lot_ids=tuple(str(v) for v in lots["lot_id"]), values=tuple(float(v) for v in data.values),
        n_censored=n_censored, capability=cap, notes=tuple(notes),
    )


# ---------------------------------------------------------------------------
# Residual risk (ISPE approach 1): the user's judgement
# ---------------------------------------------------------------------------


class RiskLevel(StrEnum):
    """The residual risk the user assigns to one area."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


_FACTORS: tuple[tuple[str, str], ...] = (
    ("product_knowledge", "Product knowledge"),
    ("process_understanding", "Process understanding"),
    ("control_strategy", "Control strategy"),
)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class RiskRating(_Frozen):
    """The residual risk of one area and why; empty until the user fills it in."""

    level: RiskLevel | None = None
    rationale: str = ""


class ResidualRiskAssessment(_Frozen):
    """The user's residual-risk assessment and their mapping from residual risk to a number of PPQ lots.

    Every field is the user's: ``overall`` is their combined judgement (cgtkit
    suggests the highest of the three ratings, :meth:`suggested_overall`, but
    never fills it in), and ``lots_by_level`` is their mapping, justified in
    ``mapping_rationale``. The fields may be left empty while the user works;
    :func:`residual_risk_lots` says what is still missing.
    """

    product_knowledge: RiskRating = RiskRating()
    process_understanding: RiskRating = RiskRating()
    control_strategy: RiskRating = RiskRating()
    overall: RiskLevel | None = None
    overall_rationale: str = ""
    lots_by_level: dict[RiskLevel, int] = Field(default_factory=dict)
    mapping_rationale: str = ""

    def suggested_overall(self) -> RiskLevel | None:
        """The highest of the three ratings (a conservative suggestion of cgtkit's; None until all are rated)."""
        levels = [getattr(self, name).level for name, _ in _FACTORS]
        if any(level is None for level in levels):
            return None
        order = list(RiskLevel)
        return max(levels, key=order.index)  # type: ignore[arg-type]


@dataclass(frozen=True)
class ResidualRiskResult:
    """The number of PPQ lots from the user's residual-risk assessment, with their rationale."""

    n: int
    overall: RiskLevel
    factors: tuple[tuple[str, RiskLevel, str], ...]
    lots_by_level: tuple[tuple[RiskLevel, int], ...]
    reasoning: str
    notes: tuple[str, ...]
    reference: str = ISPE_REFERENCE

    def to_frame(self) -> pd.DataFrame:
        """One row per area: ``area``, ``residual_risk``, ``rationale``."""
        return pd.DataFrame([{"area": a, "residual_risk": lv.value, "rationale": r} for a, lv, r in self.factors])

    def summary(self) -> dict[str, object]:
        """One row for the side-by-side table of approaches."""
        return {"approach": "residual_risk", "label": "Residual risk (your assessment)", "n_needed": self.n,
                "target": None, "measure": f"your mapping of a {self.overall.value} residual risk to a number of lots",
                "n_planned": None, "value_planned": None, "reasoning": self.reasoning, "reference": self.reference}


def residual_risk_lots(assessment: ResidualRiskAssessment) -> ResidualRiskResult:
    """The user's number of PPQ lots from their residual-risk assessment, or what is missing.

    Raises
    ------
    AssessmentIncompleteError
        Naming every rating, rationale or mapping entry still missing.

    Examples
    --------
    >>> rated = RiskRating(level="low", rationale="Platform process, 12 lots made.")
    >>> a = ResidualRiskAssessment(product_knowledge=rated, process_understanding=rated, control_strategy=rated,
    ...                            overall="low", overall_rationale="All three areas are low.",
    ...                            lots_by_level={"low": 2}, mapping_rationale="Our PPQ policy for low risk.")
    >>> residual_risk_lots(a).n
    2
    >>> residual_risk_lots(ResidualRiskAssessment())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    cgtkit.analyses.process_validation.AssessmentIncompleteError: The residual-risk assessment is incomplete: ...
    """
    missing: list[str] = []
    factors = []
    for name, label in _FACTORS:
        rating: RiskRating = getattr(assessment, name)
        if rating.level is None:
            missing.append(f"{label}: choose its residual risk (low, medium or high)")
        if not rating.rationale:
            missing.append(f"{label}: say why (the rationale is what FDA reviews)")
        if rating.level is not None:
            factors.append((label, rating.level, rating.rationale))
    overall = assessment.overall
    if overall is None:
        suggestion = assessment.suggested_overall()
        hint = f" (the highest of your three ratings is {suggestion.value})" if suggestion else ""
        missing.append(f"Overall residual risk: choose it{hint}")
    if not assessment.overall_rationale:
        missing.append("Overall residual risk: say how you combined the three areas")
    if overall is not None and overall not in assessment.lots_by_level:
        missing.append(f"Your mapping: enter the number of PPQ lots you assign to a {overall.value} residual risk")
    bad = [f"{level.value}: {n}" for level, n in assessment.lots_by_level.items()
           if not (isinstance(n, int) and n >= 1)]
    if bad:
        missing.append(f"Your mapping: each number of lots must be a whole number of at least 1 (got {', '.join(bad)})")
    if not assessment.mapping_rationale:
        missing.append("Your mapping: say why these numbers of lots (cgtkit does not hold the ISPE paper's tables)")
    if missing:
        raise AssessmentIncompleteError(
            "The residual-risk assessment is incomplete: " + "; ".join(missing) + ". Complete these and try again."
        )
    assert overall is not None
    n = int(assessment.lots_by_level[overall])
    rated = ", ".join(f"{label.lower()} {level.value}" for label, level, _ in factors)
    reasoning = (
        f"Your assessment: {rated}; overall {overall.value} ({assessment.overall_rationale.rstrip('.')}). "
        f"You assign {n} PPQ lot{'s' if n != 1 else ''} to a {overall.value} residual risk: "
        f"{assessment.mapping_rationale.rstrip('.')}. This number is your judgement, following the residual-risk "
        "approach of the ISPE discussion paper; it is not a statistic, and cgtkit supplies no number for it."
    )
    notes = []
    suggestion = assessment.suggested_overall()
    if suggestion is not None and list(RiskLevel).index(overall) < list(RiskLevel).index(suggestion):
        notes.append(
            f"Your overall rating ({overall.value}) is below your highest area rating ({suggestion.value}); the "
            "rationale for combining them will be read closely."
        )
    if overall is RiskLevel.HIGH:
        notes.append(
            "With a high residual risk, industry practice for advanced therapies is to reduce the risk with more "
            "development work rather than to add PPQ lots (American Pharmaceutical Review, May/June 2023; industry "
            "commentary, not FDA's position)."
        )
    return ResidualRiskResult(
        n=n, overall=overall, factors=tuple(factors),
        lots_by_level=tuple(sorted(assessment.lots_by_level.items(), key=lambda kv: list(RiskLevel).index(kv[0]))),
        reasoning=reasoning, notes=tuple(notes),
    )


# ---------------------------------------------------------------------------
# Number of PPQ lots, side by side
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LotNumberSettings:
    """The targets of the statistical approaches (the user's choices; these defaults are common practice)."""

    reliability: float = 0.95
    confidence: float = 0.95
    ppk_target: float = 1.0
    expected_coverage: float = 0.90
    tolerance_coverage: float = 0.99
    n_planned: int | None = None


@dataclass(frozen=True)
class LotNumberOverview:
    """What each approach says about the number of PPQ lots for one attribute.

    Attributes
    ----------
    development : AttributeCapability
        Capability of the lots the approaches start from (by default engineering and clinical lots).
    ppq : AttributeCapability or None
        Capability of the PPQ lots already in the data (None with fewer than 2).
    n_ppq : int
        PPQ lots in the data.
    n_planned : int or None
        The number of PPQ lots the curves and the pass probability are evaluated at.
    approaches : tuple of LotsNeeded
        Success run, capability, expected coverage, tolerance interval.
    residual_risk : ResidualRiskResult or None
        The user's assessment, when given.
    pass_probability : PassProbability or None
        Probability that all ``n_planned`` lots meet the specification, at the development mean and SD.
    range_inside_spec : bool
        Whether the development lots' range lies inside the specification (the expected-coverage claim needs it).
    notes : tuple of str
    versions_differ : bool
        The PPQ lots in the data come from a process version the development lots do not.
    settings : LotNumberSettings
        The targets used.
    """

    attribute: str
    label: str
    unit: str
    scale: Scale
    development: AttributeCapability
    ppq: AttributeCapability | None
    n_ppq: int
    n_planned: int | None
    approaches: tuple[LotsNeeded, ...]
    residual_risk: ResidualRiskResult | None
    pass_probability: PassProbability | None
    range_inside_spec: bool
    notes: tuple[str, ...]
    versions_differ: bool = False
    settings: LotNumberSettings = LotNumberSettings()

    def get(self, approach: str) -> LotsNeeded:
        for a in self.approaches:
            if a.approach == approach:
                return a
        raise KeyError(approach)

    def to_frame(self) -> pd.DataFrame:
        """One row per approach, side by side: ``approach``, ``label``, ``n_needed``, ``target``, ``measure``,
        ``n_planned``, ``value_planned``, ``reasoning``, ``reference``."""
        rows = [a.summary() for a in self.approaches]
        if self.residual_risk is not None:
            rows.append(self.residual_risk.summary())
        return pd.DataFrame(rows, columns=["approach", "label", "n_needed", "target", "measure", "n_planned",
                                           "value_planned", "reasoning", "reference"])

    def curves(self) -> pd.DataFrame:
        """All the approaches' curves in one long table (see :meth:`LotsNeeded.to_frame`)."""
        return pd.concat([a.to_frame() for a in self.approaches], ignore_index=True)


def _range_inside(values: Sequence[float], lower: float | None, upper: float | None) -> bool:
    lo = -math.inf if lower is None else lower
    hi = math.inf if upper is None else upper
    return bool(min(values) >= lo and max(values) <= hi)


def _process_versions(data: AttributeData) -> set[str]:
    if "process_version" not in data.lots:
        return set()
    return {str(v) for v in data.lots["process_version"].dropna()}


def lot_number_overview(
    frame: pd.DataFrame,
    spec: AttributeSpec,
    lower: float | None,
    upper: float | None,
    *,
    development_types: Sequence[LotType | str] = DEVELOPMENT_LOT_TYPES,
    settings: LotNumberSettings = LotNumberSettings(),
    residual_risk: ResidualRiskAssessment | None = None,
) -> LotNumberOverview:
    """The number of PPQ lots by each approach, from the development lots of one attribute.

    Parameters
    ----------
    frame : pandas.DataFrame
        Lot data in the long format (:func:`cgtkit.io.load_lots`).
    spec : AttributeSpec
        The attribute (its scale decides normal or log-normal statistics).
    lower, upper : float or None
        The specification (acceptance) limits in the units of the data.
    development_types : sequence of LotType
        Lot types the approaches start from (default engineering and clinical).
    settings : LotNumberSettings
        Targets; ``n_planned`` defaults to the number of PPQ lots in the data.
    residual_risk : ResidualRiskAssessment, optional
        When given it must be complete (:class:`AssessmentIncompleteError` otherwise).

    Raises
    ------
    cgtkit.stats.capability.SpecificationError, cgtkit.errors.InsufficientDataError, AssessmentIncompleteError
    """
    _require_quantitative(spec)
    check_specification(lower, upper)
    development = attribute_capability(attribute_data(frame, spec, development_types), lower, upper,
                                       confidence=settings.confidence)
    ppq_data = attribute_data(frame, spec, [LotType.PPQ])
    n_ppq = ppq_data.n
    ppq_cap, ppq_problem = None, ""
    if n_ppq >= 2:
        try:  # the PPQ lots are shown for information: a problem of theirs does not stop the approaches
            ppq_cap = attribute_capability(ppq_data, lower, upper, confidence=settings.confidence)
        except InsufficientDataError as exc:
            ppq_problem = f"The capability of the {n_ppq} PPQ lots alone is not shown: {exc}"
    n_planned = settings.n_planned if settings.n_planned is not None else (n_ppq or None)
    cap = development.capability
    approaches = (
        success_run(settings.reliability, settings.confidence, n_planned=n_planned),
        capability_lots(cap.ppk, settings.ppk_target, settings.confidence, n_planned=n_planned),
        expected_coverage_lots(settings.expected_coverage, cap.sided, n_planned=n_planned),
        tolerance_coverage_lots(cap.mean, cap.sd, _open(cap.lower_scaled), _open(cap.upper_scaled),
                                settings.tolerance_coverage, settings.confidence, n_planned=n_planned),
    )
    residual = residual_risk_lots(residual_risk) if residual_risk is not None else None
    pass_p = None
    if n_planned:
        pass_p = pass_probability(cap.mean, cap.sd, _open(cap.lower_scaled), _open(cap.upper_scaled),
                                  n_lots=n_planned, criterion="results")
    inside = _range_inside(development.values, lower, upper)
    notes = [
        f"The approaches start from {development.n} {development.lot_types} lots of {spec.label}"
        f"{' (log scale)' if spec.scale is Scale.LOG else ''}: mean, SD and Ppk as estimated there.",
    ]
    if not inside:
        notes.append(
            "The development lots' range is not inside the specification, so the expected-coverage argument does "
            "not support the specification."
        )
    versions_dev = _process_versions(attribute_data(frame, spec, development_types))
    versions_ppq = _process_versions(ppq_data)
    versions_differ = bool(versions_ppq and versions_dev and not versions_ppq <= versions_dev)
    if versions_differ:
        notes.append(
            f"The PPQ lots were made with process version(s) {', '.join(sorted(versions_ppq))}, the development "
            f"lots with {', '.join(sorted(versions_dev))}: the approaches assume the PPQ lots behave like the "
            "development lots, which a process change can break (see the comparability of the change)."
        )
    notes.extend(development.notes)
    if ppq_problem:
        notes.append(ppq_problem)
    if pass_p is not None:
        notes.append(
            f"If the process runs at the development mean and SD, all {n_planned} PPQ lots meet the specification "
            f"with probability {_prob_text(pass_p.all_lots)} (each lot {_prob_text(pass_p.per_lot)})."
        )
    return LotNumberOverview(
        attribute=spec.id, label=spec.label, unit=spec.unit, scale=spec.scale, development=development, ppq=ppq_cap,
        n_ppq=n_ppq, n_planned=n_planned, approaches=approaches, residual_risk=residual, pass_probability=pass_p,
        range_inside_spec=inside, notes=tuple(notes), versions_differ=versions_differ, settings=settings,
    )


def _prob_text(p: float) -> str:
    """``'>99.9%'``, ``'97.3%'``, ``'<0.1%'``: a probability for a sentence, never rounded to a certainty.

    >>> _prob_text(0.99999), _prob_text(0.9734), _prob_text(0.00002)
    ('>99.9%', '97.3%', '<0.1%')
    """
    if p > 0.999:
        return ">99.9%"
    if p < 0.001:
        return "<0.1%"
    return f"{p:.1%}"


def _open(limit: float) -> float | None:
    return None if not math.isfinite(limit) else limit


# ---------------------------------------------------------------------------
# The recommended number of PPQ lots
# ---------------------------------------------------------------------------

#: The fewest PPQ lots proposed when neither the counted approaches nor the user's residual-risk number ask for
#: more: one lot shows no lot-to-lot variability at commercial scale (cgtkit's reading; FDA set no minimum).
MIN_PPQ_LOTS = 2
#: The approaches a recommendation counts by default: those that measure the lots against the specification and
#: can count what development lots showed. Success run and expected coverage are shown beside them.
RECOMMENDATION_APPROACHES: tuple[str, ...] = ("capability", "tolerance_coverage")
STATISTICAL_APPROACHES: tuple[str, ...] = ("success_run", "capability", "expected_coverage", "tolerance_coverage")


@dataclass(frozen=True)
class AttributeLotNeed:
    """What one attribute asks of the PPQ.

    ``totals`` are the lots each counted approach needs in all; ``ppq_needed``
    the PPQ lots that leaves (development lots subtracted when they count), or
    ``None`` when no number of lots reaches a target (``reason`` says why).
    ``per_lot_pass`` is the probability that one lot meets the specification
    at the development mean and SD (normal on the analysis scale, plug-in).
    """

    attribute: str
    label: str
    n_development: int
    totals: tuple[tuple[str, int | None], ...]
    ppq_needed: int | None
    limiting: str
    reason: str
    per_lot_pass: float


@dataclass(frozen=True)
class LotNumberRecommendation:
    """The number of PPQ lots the data and the user's assessment support, across attributes, and why.

    Attributes
    ----------
    n : int or None
        The fewest PPQ lots supported; ``None`` when a counted approach cannot be met by any number of lots.
    basis : str
        What sets ``n``: ``statistics`` (a counted approach), ``residual_risk`` (the user's number),
        ``minimum`` (:data:`MIN_PPQ_LOTS`) or ``none``.
    n_planned : int or None
        The number the user plans; ``supported`` says whether it is at least ``n``.
    needs : tuple of AttributeLotNeed
        One per attribute, in the order given.
    pass_all, pass_planned : float or None
        Probability that all ``n`` (``n_planned``) lots meet every attribute's specification at the development
        estimates, the attributes taken as independent.
    statement : str
        The verdict in one or two sentences.
    protocol_text : str
        A draft of the justification for the PPQ protocol (for ``n_planned``, else ``n``), numbers included.
    """

    n: int | None
    basis: Literal["statistics", "residual_risk", "minimum", "none"]
    n_planned: int | None
    supported: bool | None
    residual_risk_n: int | None
    minimum: int
    count_development: bool
    approaches: tuple[str, ...]
    needs: tuple[AttributeLotNeed, ...]
    pass_all: float | None
    pass_planned: float | None
    pass_target: float
    statement: str
    protocol_text: str
    notes: tuple[str, ...]

    def to_frame(self) -> pd.DataFrame:
        """One row per attribute: ``attribute``, ``label``, ``n_development``, one ``lots_<approach>`` column per
        counted approach, ``ppq_needed``, ``limiting``, ``per_lot_pass``."""
        rows = []
        for need in self.needs:
            row: dict[str, object] = {"attribute": need.attribute, "label": need.label,
                                      "n_development": need.n_development}
            row.update({f"lots_{a}": n for a, n in need.totals})
            row.update(ppq_needed=need.ppq_needed, limiting=need.limiting, per_lot_pass=need.per_lot_pass)
            rows.append(row)
        return pd.DataFrame(rows)


def specification_text(lower: float | None, upper: float | None, unit: str) -> str:
    """``'50 to 150 %'``, ``'not less than 5×10¹² vg/mL'``: limits in words, large numbers as m×10ⁿ.

    >>> specification_text(5e12, None, "vg/mL")
    'not less than 5×10¹² vg/mL'
    """
    from cgtkit.tables import number

    fmt = number(4)
    unit = f" {unit}" if unit else ""
    if lower is not None and upper is not None:
        return f"{fmt(lower)} to {fmt(upper)}{unit}"
    if lower is not None:
        return f"not less than {fmt(lower)}{unit}"
    return f"not more than {fmt(upper)}{unit}"


def _need(ov: LotNumberOverview, approaches: Sequence[str], count_development: bool) -> AttributeLotNeed:
    n_dev = ov.development.n
    totals: list[tuple[str, int | None]] = []
    best: tuple[int, LotsNeeded] | None = None
    unreachable: LotsNeeded | None = None
    for name in approaches:
        a = ov.get(name)
        totals.append((name, a.n))
        if a.n is None:
            unreachable = unreachable or a
            continue
        extra = max(0, a.n - n_dev) if count_development else a.n
        if best is None or extra > best[0]:
            best = (extra, a)
    per_lot = 1.0 - ov.development.capability.fraction_outside
    common = dict(attribute=ov.attribute, label=ov.label, n_development=n_dev, totals=tuple(totals),
                  per_lot_pass=per_lot)
    if unreachable is not None:
        return AttributeLotNeed(**common, ppq_needed=None, limiting=unreachable.label,
                                reason=unreachable.reasoning.split(". ")[0].rstrip(".") + ".")
    if best is None:
        return AttributeLotNeed(**common, ppq_needed=0, limiting="", reason="no approach counted")
    extra, a = best
    if count_development:
        reason = (f"{a.label} needs {_lots_words(a.n or 0)} in all; the {n_dev} development lots count toward "
                  f"them, which leaves {_lots_words(extra) if extra else 'none'} for the PPQ")
    else:
        reason = f"{a.label} needs {_lots_words(a.n or 0)}, all of them PPQ lots (development lots not counted)"
    return AttributeLotNeed(**common, ppq_needed=extra, limiting=a.label, reason=reason)


def _lots_words(k: int) -> str:
    return f"{k} lot" if k == 1 else f"{k} lots"


def recommend_lot_number(
    overviews: Sequence[LotNumberOverview],
    *,
    approaches: Sequence[str] = RECOMMENDATION_APPROACHES,
    count_development: bool = True,
    n_planned: int | None = None,
    residual_risk: ResidualRiskResult | None = None,
    pass_target: float = 0.90,
    minimum: int = MIN_PPQ_LOTS,
) -> LotNumberRecommendation:
    """The fewest PPQ lots the counted approaches and the user's residual-risk number support, over attributes.

    For each attribute, each counted approach needs ``a.n`` lots in all; when
    ``count_development`` the development lots count toward them (the PPQ lots
    are then assumed to come from the same process, or one shown comparable),
    leaving ``max(0, a.n - n_development)`` PPQ lots. The number is the largest
    of these over attributes and approaches, and of the user's residual-risk
    number (or ``minimum`` without an assessment). The probability that all
    lots pass is reported against ``pass_target``; it never raises the number
    (more lots are harder to pass), it says whether the process is ready.
    This combination is cgtkit's reading of the ISPE discussion paper's
    approaches, shown as such.

    Raises
    ------
    ValueError
        No overview, or an approach that is not one of :data:`STATISTICAL_APPROACHES`.

    Examples
    --------
    >>> from cgtkit.io import load_lots
    >>> from cgtkit.attributes import get_attribute
    >>> frame = load_lots(data_dir() / "examples" / "aav_lots.csv")
    >>> ov = lot_number_overview(frame, get_attribute("relative_potency"), 50.0, 150.0)
    >>> rec = recommend_lot_number([ov], n_planned=2)
    >>> rec.n, rec.basis, rec.supported
    (2, 'minimum', True)
    """
    if not overviews:
        raise ValueError("recommend_lot_number needs at least one attribute's overview.")
    unknown = [a for a in approaches if a not in STATISTICAL_APPROACHES]
    if unknown:
        raise ValueError(f"Unknown approach(es) {unknown}; use some of {', '.join(STATISTICAL_APPROACHES)}.")
    approaches = tuple(a for a in STATISTICAL_APPROACHES if a in approaches)
    if residual_risk is None:
        residual_risk = next((ov.residual_risk for ov in overviews if ov.residual_risk is not None), None)
    needs = tuple(_need(ov, approaches, count_development) for ov in overviews)
    base = residual_risk.n if residual_risk is not None else minimum
    blocked = [need for need in needs if need.ppq_needed is None]
    notes: list[str] = []
    if blocked:
        n, basis = None, "none"
        limiting = blocked[0]
    else:
        stat = max((need.ppq_needed or 0 for need in needs), default=0)
        limiting = max(needs, key=lambda need: need.ppq_needed or 0)
        n = max(base, stat)
        basis = "statistics" if stat > base else ("residual_risk" if residual_risk is not None else "minimum")

    def p_all(k: int | None) -> float | None:
        if k is None:
            return None
        return float(math.prod(need.per_lot_pass ** k for need in needs))

    pass_all, pass_planned = p_all(n), p_all(n_planned)
    supported = None if n is None or n_planned is None else n_planned >= n
    names = ", ".join(need.label for need in needs)
    dev_words = ("what the development lots showed and process knowledge" if count_development
                 else "the capability and coverage targets above and process knowledge")

    if basis == "statistics":
        why = f"{limiting.label}: {limiting.reason}."
    elif basis == "residual_risk":
        assert residual_risk is not None
        why = (f"Your residual-risk assessment ({residual_risk.overall.value}) maps to "
               f"{_lots_words(residual_risk.n)}; the counted approaches need no more "
               f"({'beyond the development lots' if count_development else 'than that'}).")
    elif basis == "minimum":
        why = (f"The counted approaches need no PPQ lots beyond the development lots of {names}; {minimum} lots is "
               "the fewest that show lot-to-lot variability at commercial scale (cgtkit's reading: FDA set no "
               "minimum). Your residual-risk assessment would make the number your own.")
    else:
        why = f"{limiting.label}: {limiting.reason}"
    if n is None:
        statement = ("The data do not support a PPQ of any size yet: no number of lots meets a counted approach's "
                     f"target. {why}")
        if "before PPQ" not in why:
            statement += " Improve the process, or revisit the specification or the targets, before PPQ."
    elif n_planned is None:
        statement = f"The data support a PPQ of {_lots_words(n)}. {why}"
    elif supported:
        fewest = f" (the fewest they support is {n})" if n_planned > n else ""
        statement = f"The data support the {_lots_words(n_planned)} planned{fewest}. {why}"
    else:
        statement = f"The data do not support fewer than {_lots_words(n)}; {n_planned} are planned. {why}"
    for k, p in ((n, pass_all), (n_planned, pass_planned)):
        if k is not None and p is not None and p < pass_target:
            notes.append(
                f"At the development means and SDs, all {_lots_words(k)} meet every specification with probability "
                f"{_prob_text(p)}, below your target of {_prob_text(pass_target)}: a PPQ of this size is likely to "
                "fail. Reduce the variability or re-centre the process before PPQ."
            )
            break
    if count_development and any(ov.versions_differ for ov in overviews):
        notes.append(
            "The development lots count toward the targets, but the PPQ lots in the data come from another process "
            "version: that holds only if the versions are shown comparable (Comparability page). Untick 'count "
            "development lots' to see what the PPQ lots must show on their own."
        )
    protocol = _protocol_text(overviews, needs, n, n_planned, approaches, count_development, residual_risk,
                              p_all(n_planned if n_planned is not None else n), dev_words, minimum)
    return LotNumberRecommendation(
        n=n, basis=basis, n_planned=n_planned, supported=supported,
        residual_risk_n=residual_risk.n if residual_risk is not None else None, minimum=minimum,
        count_development=count_development, approaches=approaches, needs=needs, pass_all=pass_all,
        pass_planned=pass_planned, pass_target=pass_target, statement=statement, protocol_text=protocol,
        notes=tuple(notes),
    )


def _shortfall_text(
    needs: Sequence[AttributeLotNeed], n: int | None, n_planned: int | None, count_development: bool,
    residual_risk: ResidualRiskResult | None, minimum: int,
) -> str:
    """What stands between the data and the planned number (or any number), and the options, in plain words."""
    planned = f"{_lots_words(n_planned)}" if n_planned is not None else "a PPQ of any size"
    short = []
    for need in needs:
        reason = need.reason.rstrip(".")
        if need.ppq_needed is None:
            short.append(f"{need.label}: no number of lots reaches {need.limiting}. {reason}.")
        elif n_planned is not None and need.ppq_needed > n_planned:
            short.append(f"{need.label} would need {need.ppq_needed} PPQ lots: {reason}.")
    if residual_risk is not None and n_planned is not None and residual_risk.n > n_planned:
        short.append(f"Your residual-risk assessment ({residual_risk.overall.value}) maps to "
                     f"{_lots_words(residual_risk.n)}.")
    elif residual_risk is None and n_planned is not None and n_planned < minimum:
        short.append(f"Fewer than {minimum} lots show no lot-to-lot variability at commercial scale (cgtkit's "
                     "reading: FDA set no minimum).")
    options = []
    if any(need.ppq_needed is None for need in needs):
        options.append("improve the process (re-centre it or reduce its variability) until the counted approaches "
                       "can be met, or revisit the specification or the targets, each with its reason")
    if n is not None:
        options.append(f"plan at least {_lots_words(n)}")
    if count_development and any(need.ppq_needed for need in needs):
        options.append("make more development lots with the commercial process (they count toward the targets)")
    elif not count_development:
        options.append("count the development lots toward the targets, once the PPQ process is shown the same or "
                       "comparable")
    options.append(f"state here the further knowledge that would justify "
                   f"{planned if n_planned is not None else 'the number you choose'}, and agree it with FDA before PPQ")
    listed = "; ".join(f"({i}) {o}" for i, o in enumerate(options, start=1))
    return (f"The data do not yet support {planned}. {' '.join(short)} The options: {listed}. Until then this "
            "text records what the data show; it is not a justification of the number.")


def _protocol_text(
    overviews: Sequence[LotNumberOverview], needs: Sequence[AttributeLotNeed], n: int | None, n_planned: int | None,
    approaches: Sequence[str], count_development: bool, residual_risk: ResidualRiskResult | None,
    p_pass: float | None, dev_words: str, minimum: int = MIN_PPQ_LOTS,
) -> str:
    """A draft justification for the PPQ protocol: every number from the overviews, the user's words quoted.

    When the data do not support the planned number (or any number), the text says so first, with what each
    attribute would need and the options, and claims no justification."""
    if n is None and n_planned is None:
        return ""
    total = n_planned if n_planned is not None else n
    assert total is not None
    supported = n is not None and (n_planned is None or n_planned >= n)
    if supported:
        parts = [
            f"Number of PPQ lots: {total}. FDA has set no minimum number of PPQ lots; the number below is justified "
            "from what development has shown about the process and the product (FDA process validation guidance, "
            "2011; CBER CMC flexibilities guidance for cell and gene therapy products, 2026)."
        ]
    else:
        parts = [
            f"Number of PPQ lots planned: {total}, not supported by the data. "
            + _shortfall_text(needs, n, n_planned, count_development, residual_risk, minimum)
        ]
    knowledge = []
    for ov in overviews:
        cap = ov.development.capability
        spec = specification_text(cap.lower, cap.upper, ov.unit)
        log = " (log scale)" if ov.scale is Scale.LOG else ""
        knowledge.append(
            f"{ov.label}, specification {spec}: {ov.development.n} {ov.development.lot_types} lots, Ppk "
            f"{cap.ppk:.2f}{log}, {cap.confidence_level:.0%} confidence interval {cap.ppk_exact_low:.2f} to "
            f"{cap.ppk_exact_high:.2f} ({cap.exact_method.split(' (')[0]}); expected fraction outside "
            f"{_prob_text(cap.fraction_outside)}."
        )
    parts.append("Process knowledge. " + " ".join(knowledge))
    first = overviews[0]
    labels = ", ".join(first.get(a).label for a in approaches) or "none"
    counted = []
    for ov, need in zip(overviews, needs, strict=True):
        totals = ", ".join(f"{ov.get(a).label} {('no number' if t is None else _lots_words(t))}"
                           for a, t in need.totals)
        if need.ppq_needed is None:
            left = "no number of lots reaches the target"
        elif need.ppq_needed == 0 and count_development:
            left = "no PPQ lots needed beyond the development lots"
        else:
            left = f"{_lots_words(need.ppq_needed)} for the PPQ"
        counted.append(f"{ov.label}: {totals} in all; {left}.")
    dev = ("Development lots count toward these targets, the PPQ lots being made with the same process (or one "
           "shown comparable)." if count_development else "Only the PPQ lots count toward these targets.")
    parts.append(f"Statistical basis ({labels}). " + " ".join(counted) + " " + dev)
    sr, ec, st = first.get("success_run"), first.get("expected_coverage"), first.settings
    reliability = float((1.0 - st.confidence) ** (1.0 / total))
    two = first.development.capability.sided == 2
    coverage_planned = (total - 1) / (total + 1) if two else total / (total + 1)
    parts.append(
        f"For comparison, success-run reasoning on PPQ lots alone would need {_lots_words(sr.n or 0)} to show "
        f"{st.reliability:.0%} reliability with {st.confidence:.0%} confidence; {total} lots without a failure show "
        f"a reliability of only {reliability:.0%} with that confidence. The {'range' if two else 'most extreme lot'} "
        f"of {total} lots is expected to cover {coverage_planned:.0%} of lots ({st.expected_coverage:.0%} takes "
        f"{_lots_words(ec.n or 0)})."
        + (f" The number therefore rests on {dev_words}, not on reliability shown by the PPQ lots alone."
           if supported else "")
    )
    if residual_risk is not None:
        parts.append("Residual risk. " + residual_risk.reasoning)
    if p_pass is not None:
        parts.append(
            f"Probability of passing. At the development means and SDs, all {total} PPQ lots meet every "
            f"specification above with probability {_prob_text(p_pass)} (attributes taken as independent)."
        )
    return "\n\n".join(parts)


# ---------------------------------------------------------------------------
# Pass-probability heat map
# ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class PassProbabilityMap:
    """The heat map of P(all PPQ lots pass) over process mean and SD, with the lots' estimate marked.

    Means and SDs are on the analysis scale: for a log-normal attribute, the
    mean and SD of the natural logs (``mean_title``/``sd_title`` say so).
    """

    attribute: str
    label: str
    unit: str
    scale: Scale
    grid: PassProbabilityGrid
    estimate: PassProbability
    n_estimate: int
    lot_types: str
    mean_title: str
    sd_title: str
    notes: tuple[str, ...]


def pass_probability_map(
    data: AttributeData,
    lower: float | None,
    upper: float | None,
    *,
    n_lots: int = 3,
    n_per_lot: int = 1,
    criterion: str = "results",
    k: float | None = None,
    between_sd: float = 0.0,
    grid_size: int = 50,
) -> PassProbabilityMap:
    """P(all ``n_lots`` PPQ lots pass) over a grid of means and SDs, and at the estimate from ``data``.

    With one result per lot (the usual cell and gene therapy lot), the SD is the
    lot-to-lot SD and the criterion is that each lot's result is inside the
    specification. With several results per lot (``n_per_lot``), ``sd`` is the
    within-lot SD, ``criterion`` may be ``interval``/``both`` (PPQplan's
    ``xbar +/- k s``), and ``between_sd`` lets each lot have its own mean; the
    estimate's SD then comes from the lot results and is only a starting point.
    """
    spec = data.spec
    _require_quantitative(spec)
    cap = attribute_capability(data, lower, upper).capability
    lo_s, hi_s = limits_on_scale(lower, upper, spec.scale.value)
    lo_o, hi_o = _open(lo_s), _open(hi_s)
    means, sds = default_grid_axes(lo_o, hi_o, mean=cap.mean, sd=cap.sd, size=grid_size)
    grid = pass_probability_grid(lo_o, hi_o, means, sds, n_lots=n_lots, n_per_lot=n_per_lot, criterion=criterion,
                                 k=k, between_sd=between_sd)
    estimate = pass_probability(cap.mean, cap.sd, lo_o, hi_o, n_lots=n_lots, n_per_lot=n_per_lot,
                                criterion=criterion, k=k, between_sd=between_sd)
    unit = f" ({spec.unit})" if spec.unit else ""
    if spec.scale is Scale.LOG:
        mean_title, sd_title = f"Mean of ln({spec.label}{unit})", f"SD of ln({spec.label})"
    else:
        mean_title = f"Process mean{unit}"
        sd_title = ("Lot-to-lot SD" if n_per_lot == 1 else "Within-lot SD") + unit
    notes = [grid.method]
    if n_per_lot > 1:
        notes.append(
            "The marked estimate uses the SD between lot results as the within-lot SD: replace it by the SD of "
            "results within a lot when you have it."
        )
    return PassProbabilityMap(
        attribute=spec.id, label=spec.label, unit=spec.unit, scale=spec.scale, grid=grid, estimate=estimate,
        n_estimate=cap.n, lot_types=_lot_types_words(data), mean_title=mean_title, sd_title=sd_title,
        notes=tuple(notes),
    )


# ---------------------------------------------------------------------------
# Concurrent release planner
# ---------------------------------------------------------------------------

Grade = Literal["regulation", "final_guidance", "fda_announcement", "fda_official_remarks", "cgtkit_reading"]
RouteId = Literal["commercial_concurrent_release", "clinical_use_under_ind", "hold_until_complete"]
ROUTES: tuple[str, ...] = ("commercial_concurrent_release", "clinical_use_under_ind", "hold_until_complete")

#: How a grade is shown.
GRADE_LABELS: dict[str, str] = {
    "regulation": "Regulation",
    "final_guidance": "Final guidance",
    "fda_announcement": "FDA announcement",
    "fda_official_remarks": "FDA official's remarks",
    "cgtkit_reading": "cgtkit's reading",
}


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class StatementRule(_Strict):
    """A statement with the grade of its basis and the keys of its sources."""

    text: str = Field(min_length=10)
    grade: Grade
    sources: list[str] = Field(min_length=1)


class ConditionRule(_Strict):
    """One condition of a route, answered by a questionnaire field."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str = Field(min_length=5, description="The condition in a few words, for summaries.")
    route: RouteId
    asks: str
    applies_if: str | None = None
    statement: str = Field(min_length=10)
    grade: Grade
    sources: list[str] = Field(min_length=1)


class RouteRule(_Strict):
    """One route: its title, the catalog entry it belongs to, FDA's role and the documents to keep."""

    id: RouteId
    title: str = Field(min_length=5)
    catalog_id: str = Field(pattern=r"^(GEN|CD|PV|CS|RP)-[A-Z0-9-]+$")
    fda_agreement: StatementRule
    documentation: list[StatementRule] = Field(min_length=1)


class ConcurrentReleaseRules(_Strict):
    """The validated ``data/concurrent_release.yaml``."""

    schema_version: int = Field(ge=1)
    sources: dict[str, Source] = Field(min_length=1)
    questions: dict[str, str]
    conditions: list[ConditionRule] = Field(min_length=1)
    routes: list[RouteRule] = Field(min_length=3, max_length=3)

    def route(self, route_id: str) -> RouteRule:
        for r in self.routes:
            if r.id == route_id:
                return r
        raise KeyError(route_id)


def _check_rules(rules: ConcurrentReleaseRules, where: str) -> None:
    """Cross-entry rules: unique ids, known source keys and questionnaire fields, grades backed by a source."""
    fields = set(ConcurrentReleaseQuestionnaire.model_fields)
    problems = repeated_ids(where, rules.conditions)
    problems += repeated_ids(where, rules.routes)
    missing_routes = [r for r in ROUTES if r not in {route.id for route in rules.routes}]
    if missing_routes:
        problems.append(problem_sentence(f"add the route(s) {', '.join(missing_routes)}", where=where, field="routes"))
    for name in sorted(fields - set(rules.questions)):
        problems.append(problem_sentence(f"add the question for the questionnaire field '{name}'", where=where,
                                         field="questions"))
    for name in sorted(set(rules.questions) - fields):
        problems.append(problem_sentence(
            f"'{name}' is not a questionnaire field; use one of {', '.join(sorted(fields))}",
            where=where, field="questions"))

    def check_statement(entry: str, field: str, grade: str, keys: Sequence[str]) -> None:
        unknown = [k for k in keys if k not in rules.sources]
        if unknown:
            problems.append(problem_sentence(
                f"unknown source key(s) {', '.join(unknown)}; use keys of 'sources' "
                f"({', '.join(sorted(rules.sources))})",
                where=where, entry=entry, field=field))
            return
        if grade != "cgtkit_reading" and grade not in {rules.sources[k].provenance for k in keys}:
            problems.append(problem_sentence(
                f"grade '{grade}' needs at least one cited source of that provenance; cite one or change the grade",
                where=where, entry=entry, field=field))

    for index, cond in enumerate(rules.conditions):
        entry = entry_label(index, cond)
        for field in ("asks", "applies_if"):
            value = getattr(cond, field)
            if value is not None and value not in fields:
                problems.append(problem_sentence(f"'{value}' is not a questionnaire field; use one of "
                                                 f"{', '.join(sorted(fields))}", where=where, entry=entry, field=field))
        check_statement(entry, "sources", cond.grade, cond.sources)
    for index, route in enumerate(rules.routes):
        entry = f"routes, {entry_label(index, route)}"
        check_statement(entry, "fda_agreement.sources", route.fda_agreement.grade, route.fda_agreement.sources)
        for j, doc in enumerate(route.documentation):
            check_statement(entry, f"documentation.{j}.sources", doc.grade, doc.sources)
    if problems:
        raise CatalogError(" ".join(problems))


@lru_cache(maxsize=4)
def load_concurrent_release(path: str | Path | None = None) -> ConcurrentReleaseRules:
    """The validated concurrent-release rules from ``data/concurrent_release.yaml`` (or ``path``), cached.

    Raises
    ------
    cgtkit.errors.CatalogError
        Naming the file, the entry and the field, and what to do.
    """
    source = Path(path) if path is not None else data_dir() / CONCURRENT_RELEASE_FILE
    rules = load_model(source, ConcurrentReleaseRules)
    _check_rules(rules, Path(source).name)
    return rules


class ConcurrentReleaseQuestionnaire(_Strict):
    """The user's answers about one PPQ lot; ``None`` means not answered (unknown)."""

    stage: Stage | None = None
    bla_approved: bool | None = None
    change_needs_pas: bool | None = None
    pas_approved: bool | None = None
    meets_commercial_spec: bool | None = None
    within_shelf_life: bool | None = None
    protocol_provides: bool | None = None
    ind_in_effect: bool | None = None
    meets_ind_criteria: bool | None = None
    outstanding_steps: tuple[str, ...] = ()


class ConditionStatus(StrEnum):
    """How the answers leave a condition."""

    MET = "met"
    UNMET = "unmet"
    UNKNOWN = "unknown"
    NOT_APPLICABLE = "not applicable"


@dataclass(frozen=True)
class GradedText:
    """A statement with the grade of its basis and its sources."""

    text: str
    grade: str
    sources: tuple[Source, ...]

    @property
    def grade_label(self) -> str:
        return GRADE_LABELS[self.grade]

    @property
    def needs_verification(self) -> bool:
        return any(s.needs_verification for s in self.sources)

    def sources_text(self) -> str:
        """``'Title (issuer, date, section); ...'``."""
        return "; ".join(_source_text(s) for s in self.sources)


def _source_text(s: Source) -> str:
    parts = [p for p in (s.issuer, s.date, s.section, getattr(s, "topic", None)) if p]
    return f"{s.title} ({', '.join(parts)})"


@dataclass(frozen=True)
class ConditionCheck:
    """One condition of a route, as the answers leave it."""

    id: str
    label: str
    route: str
    question: str
    answer: bool | None
    status: ConditionStatus
    statement: GradedText
    why: str


@dataclass(frozen=True)
class RouteCheck:
    """A route and whether all its conditions are met (or do not apply)."""

    id: str
    title: str
    catalog_id: str
    available: bool
    conditions: tuple[ConditionCheck, ...]

    def with_status(self, status: ConditionStatus) -> tuple[ConditionCheck, ...]:
        return tuple(c for c in self.conditions if c.status is status)


@dataclass(frozen=True)
class ConcurrentReleasePlan:
    """Which route applies to a PPQ lot, every condition with its status, FDA's role and what to keep.

    Attributes
    ----------
    route : str
        ``commercial_concurrent_release``, ``clinical_use_under_ind`` or ``hold_until_complete``.
    title : str
    summary : str
        The route and why, in words.
    routes : tuple of RouteCheck
        The two release routes, each with its conditions.
    fda_agreement : GradedText
        FDA's role for the route chosen (its agreement is needed for a release route).
    documentation : tuple of GradedText
        What to keep for the route chosen.
    outstanding_steps : tuple of str
    open_questions : tuple of str
        Questions whose answer could change the route.
    notes : tuple of str
    """

    route: str
    title: str
    summary: str
    routes: tuple[RouteCheck, ...]
    fda_agreement: GradedText
    documentation: tuple[GradedText, ...]
    outstanding_steps: tuple[str, ...]
    open_questions: tuple[str, ...]
    notes: tuple[str, ...]

    def status_of(self, condition_id: str) -> ConditionStatus:
        for r in self.routes:
            for c in r.conditions:
                if c.id == condition_id:
                    return c.status
        raise KeyError(condition_id)

    def to_frame(self) -> pd.DataFrame:
        """One row per condition: ``route``, ``condition``, ``question``, ``status``, ``statement``, ``grade``,
        ``sources``, ``why``."""
        rows = [
            {"route": r.id, "condition": c.id, "question": c.question, "status": c.status.value,
             "statement": c.statement.text, "grade": c.statement.grade_label, "sources": c.statement.sources_text(),
             "why": c.why}
            for r in self.routes for c in r.conditions
        ]
        return pd.DataFrame(rows, columns=["route", "condition", "question", "status", "statement", "grade",
                                           "sources", "why"])


def _graded(rules: ConcurrentReleaseRules, rule: StatementRule | ConditionRule) -> GradedText:
    text = rule.text if isinstance(rule, StatementRule) else rule.statement
    return GradedText(text=text, grade=rule.grade, sources=tuple(rules.sources[k] for k in rule.sources))


def _approval(q: ConcurrentReleaseQuestionnaire) -> bool | None:
    """Whether the BLA is approved, from the answer and the stage; a contradiction is the user's to fix."""
    stage = q.stage
    if stage is Stage.PRE_IND and q.ind_in_effect:
        raise QuestionnaireError(
            "The stage is 'pre-IND' but the answer says an IND is in effect. Set the stage the product is at, or "
            "answer that no IND is in effect yet."
        )
    if stage is not None:
        approved_stage = stage is Stage.POST_APPROVAL
        if q.bla_approved is not None and q.bla_approved != approved_stage:
            if q.bla_approved:
                raise QuestionnaireError(
                    f"The stage is '{stage.value}' but the answer says the BLA is approved. Set the stage to "
                    "'post-approval', or answer that the BLA is not approved."
                )
            raise QuestionnaireError(
                "The stage is 'post-approval' but the answer says the BLA is not approved. Correct the stage or the "
                "answer."
            )
        return approved_stage
    return q.bla_approved


def plan_concurrent_release(
    questionnaire: ConcurrentReleaseQuestionnaire, rules: ConcurrentReleaseRules | None = None
) -> ConcurrentReleasePlan:
    """Which route applies to a PPQ lot whose protocol is not complete, and why.

    Commercial concurrent release is available only when every one of its
    conditions is met: it is never offered before BLA approval, nor before a
    prior-approval supplement needed for the change is approved (21 CFR
    601.12(b)). Clinical use under the IND needs an IND in effect and the lot
    meeting its criteria. Otherwise the lot is held until the protocol is
    complete. Unanswered questions leave conditions unknown, and a route with
    an unknown condition is not offered.

    Raises
    ------
    QuestionnaireError
        The stage and the approval answer contradict each other.

    Examples
    --------
    >>> plan = plan_concurrent_release(ConcurrentReleaseQuestionnaire(
    ...     stage="post-approval", change_needs_pas=True, pas_approved=False, meets_commercial_spec=True,
    ...     within_shelf_life=True, protocol_provides=True, outstanding_steps=("extended hold time",)))
    >>> plan.route, plan.status_of("pas_approved").value
    ('hold_until_complete', 'unmet')
    """
    rules = rules or load_concurrent_release()
    approved = _approval(questionnaire)
    answers: dict[str, object] = dict(questionnaire)
    answers["bla_approved"] = approved
    route_checks = []
    for route_id in ROUTES[:2]:
        rule = rules.route(route_id)
        checks = []
        for cond in (c for c in rules.conditions if c.route == route_id):
            answer = answers.get(cond.asks)
            why = ""
            if cond.applies_if is not None and approved is False and route_id == "commercial_concurrent_release":
                status, why = ConditionStatus.NOT_APPLICABLE, "applies only after approval"
            elif cond.applies_if is not None and answers.get(cond.applies_if) is False:
                status, why = ConditionStatus.NOT_APPLICABLE, f"not needed: '{rules.questions[cond.applies_if]}' no"
            elif cond.applies_if is not None and answers.get(cond.applies_if) is None:
                status, why = ConditionStatus.UNKNOWN, f"answer first: '{rules.questions[cond.applies_if]}'"
            elif answer is None:
                status = ConditionStatus.UNKNOWN
                why = "not answered"
            else:
                status = ConditionStatus.MET if answer is True else ConditionStatus.UNMET
                if cond.asks == "bla_approved" and questionnaire.bla_approved is None and questionnaire.stage:
                    why = f"from the stage ({questionnaire.stage.value})"
            checks.append(ConditionCheck(
                id=cond.id, label=cond.label, route=route_id, question=rules.questions[cond.asks],
                answer=answer if isinstance(answer, bool) else None, status=status, statement=_graded(rules, cond),
                why=why,
            ))
        available = all(c.status in (ConditionStatus.MET, ConditionStatus.NOT_APPLICABLE) for c in checks)
        route_checks.append(RouteCheck(id=route_id, title=rule.title, catalog_id=rule.catalog_id,
                                       available=available, conditions=tuple(checks)))
    commercial, clinical = route_checks
    chosen = (commercial.id if commercial.available else clinical.id if clinical.available
              else "hold_until_complete")
    chosen_rule = rules.route(chosen)

    def state(r: RouteCheck) -> str:
        if r.available:
            return f"{r.title}: every condition met"
        parts = []
        for status in (ConditionStatus.UNMET, ConditionStatus.UNKNOWN):
            ids = [c.label for c in r.with_status(status)]
            if ids:
                parts.append(f"{status.value}: {', '.join(ids)}")
        return f"{r.title}: not available ({'; '.join(parts)})"

    if chosen == "hold_until_complete":
        summary = "Hold the lot until the PPQ protocol is complete: no release route has every condition met. "
    else:
        summary = f"Route: {chosen_rule.title}. "
    summary += " ".join(state(r) + "." for r in route_checks)
    if chosen == "clinical_use_under_ind" and approved:
        summary += " The lot may be used only under the IND, not distributed commercially."
    open_questions = tuple(dict.fromkeys(
        c.question for r in route_checks for c in r.with_status(ConditionStatus.UNKNOWN)
        if not (r.available or any(x.status is ConditionStatus.UNMET for x in r.conditions))
    ))
    notes = []
    if open_questions:
        notes.append("Answering the open questions may make a release route available.")
    if not questionnaire.outstanding_steps:
        notes.append(
            "No outstanding protocol step was listed: if the protocol is complete, the lot is released in the "
            "ordinary way and concurrent release does not arise."
        )
    if any(s.needs_verification for r in route_checks for c in r.conditions for s in c.statement.sources):
        notes.append(
            "Some conditions rest on coverage of the 2026 final guidance rather than its text: check them against "
            "the guidance before relying on them."
        )
    return ConcurrentReleasePlan(
        route=chosen, title=chosen_rule.title, summary=summary, routes=tuple(route_checks),
        fda_agreement=_graded(rules, chosen_rule.fda_agreement),
        documentation=tuple(_graded(rules, d) for d in chosen_rule.documentation),
        outstanding_steps=tuple(questionnaire.outstanding_steps), open_questions=open_questions, notes=tuple(notes),
    )
