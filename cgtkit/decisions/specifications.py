"""Decisions of the specifications pages: a commercial acceptance criterion, and a set of
investigational release criteria, with their renderers."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, model_validator

from cgtkit.decisions.base import (
    DecisionBase,
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
    fmt_probability,
    limits_text,
    lots_phrase,
    rows,
    summary,
)
from cgtkit.vocab import AttributeKind, LotType

#: How the two-sided tolerance factor k was computed (the commercial page's choice).
KMethod = Literal["exact", "howe", "guenther"]

class HorizonRisk(_Frozen):
    """The false-OOS risk of a criterion over the next ``horizon`` lots."""

    horizon: int = Field(ge=1, description="Number of future lots m.")
    probability: float = Field(
        ge=0.0, le=1.0,
        description="Probability that at least one of the next m lots of an unchanged process falls outside.",
    )


class ToleranceBasis(_Frozen):
    """A tolerance interval's coverage and confidence (investigational limits use 99%/95%)."""

    coverage: float = Field(gt=0.0, lt=1.0)
    confidence: float = Field(gt=0.0, lt=1.0)

    @property
    def label(self) -> str:
        """``'TI 99%/95%'``, the name the pages and cgtkit 1 use."""
        return f"TI {self.coverage * 100:g}%/{self.confidence * 100:g}%"

    @classmethod
    def from_label(cls, text: str) -> ToleranceBasis | None:
        """Read ``'TI 99%/95%'`` (also inside a longer method name); None when absent.

        Proposals state their basis this way, and cgtkit 1 stored it only
        inside the method name, so both the page and the migration read it here.
        """
        match = re.search(r"\bTI\s*(\d+(?:\.\d+)?)%\s*/\s*(\d+(?:\.\d+)?)%", text)
        if match is None:
            return None
        return cls(coverage=float(match[1]) / 100, confidence=float(match[2]) / 100)


class CommercialCriterionDecision(SingleFlexibilityDecision):
    """One attribute's accepted commercial acceptance criterion (one candidate of the page)."""

    kind: Literal["commercial_criterion"] = "commercial_criterion"
    dataset: str = Field(description="Name of the workbook data set the lots come from.")
    attribute: str = Field(description="Attribute id (data/attributes.yaml).")
    lot_types: tuple[LotType, ...] = Field(min_length=1, description="Lot types the criterion was set from.")
    lot_ids: tuple[str, ...] = Field(description="The lots used, in manufacture order.")
    n: int = Field(ge=0, description="Number of lots used.")
    process_versions: tuple[str, ...] = Field(
        default=(), description="Process versions the lots come from; () when the data name none (or cgtkit < 0.2).")
    candidate: str = Field(description="Key of the accepted candidate, e.g. 'ti_99_95', 'mean_3sd', 'range'.")
    k_method: KMethod = Field(description="How the two-sided tolerance factor was computed.")
    low: float | None
    high: float | None
    unit: str
    k: float | None = Field(description="Multiplier of the SD; None for distribution-free limits.")
    risk: tuple[HorizonRisk, ...] = Field(description="False-OOS risk by number of future lots, by horizon.")
    risk_basis: str | None = Field(default=None, description="The model the risk assumes; None if not recorded (cgtkit 1).")
    risk_approximate: bool = Field(
        default=False, description="True when the risk was evaluated at the estimates only (censored results).")
    reference: str | None = Field(default=None, description="Source of the method; None if not recorded (cgtkit 1).")

    def question_facts(self) -> dict[str, str]:
        return {"lots_detail": lots_phrase(self.n, self.lot_types, self.dataset)}

    @model_validator(mode="after")
    def _consistent(self) -> CommercialCriterionDecision:
        _check_lots(self.lot_ids, self.n, self.attribute)
        _check_limits(self.low, self.high, self.attribute)
        horizons = [r.horizon for r in self.risk]
        if horizons != sorted(set(horizons)):
            raise ValueError(f"{self.attribute}: risk horizons must increase without repeats, got {horizons}")
        return self

    @property
    def attributes(self) -> tuple[str, ...]:
        return (self.attribute,)


class InvestigationalCriterion(_Frozen):
    """One attribute's investigational release criterion within a set."""

    attribute: str = Field(description="Attribute id (data/attributes.yaml).")
    attribute_kind: AttributeKind
    flexibility_id: str = Field(description="The flexibility this criterion supports (safety attributes: their own).")
    low: float | None
    high: float | None
    unit: str
    lot_ids: tuple[str, ...] = Field(description="The lots with a result for this attribute, in manufacture order.")
    n: int = Field(ge=0)
    tolerance: ToleranceBasis | None = Field(description="The tolerance interval behind the limits; None: fixed requirement.")
    fixed_requirement: str | None = Field(
        default=None, description="Safety attributes: the requirement as the attribute list gave it; None if not recorded."
    )
    next_lot_outside: float | None = Field(
        default=None, ge=0.0, le=1.0, description="Probability that the next lot of an unchanged process falls outside."
    )
    risk_approximate: bool = Field(
        default=False, description="True when that probability was evaluated at the estimates only (censored results).")

    @model_validator(mode="after")
    def _consistent(self) -> InvestigationalCriterion:
        _check_lots(self.lot_ids, self.n, self.attribute)
        _check_limits(self.low, self.high, self.attribute)
        if self.attribute_kind is AttributeKind.SAFETY_FIXED:
            if self.tolerance is not None or self.low is not None or self.high is not None:
                raise ValueError(f"{self.attribute}: a safety attribute keeps its fixed requirement, no computed limits")
        elif self.tolerance is None:
            raise ValueError(f"{self.attribute}: a quantitative criterion needs its tolerance basis")
        elif self.fixed_requirement is not None:
            raise ValueError(f"{self.attribute}: only safety attributes have a fixed requirement")
        return self


class InvestigationalCriteriaDecision(DecisionBase):
    """A set of investigational criteria accepted together from one selection of lots.

    "Accept all" records every attribute in one set; accepting one attribute
    records a set of one. A set is one decision: one justification, one id.
    """

    kind: Literal["investigational_criteria"] = "investigational_criteria"
    dataset: str
    lot_types: tuple[LotType, ...] = Field(min_length=1)
    process_versions: tuple[str, ...] = Field(
        default=(), description="Process versions the lots come from; () when the data name none (or cgtkit < 0.2).")
    criteria: tuple[InvestigationalCriterion, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_per_attribute(self) -> InvestigationalCriteriaDecision:
        attributes = [c.attribute for c in self.criteria]
        if len(attributes) != len(set(attributes)):
            raise ValueError("a set holds one criterion per attribute")
        return self

    @property
    def flexibility_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.flexibility_id for c in self.criteria))

    @property
    def attributes(self) -> tuple[str, ...]:
        return tuple(c.attribute for c in self.criteria)

    def question_facts(self) -> dict[str, str]:
        return {"lots_detail": lots_phrase(max(c.n for c in self.criteria), self.lot_types, self.dataset)}

    def without(self, gone: set[str]) -> InvestigationalCriteriaDecision | None:
        """The set without its criteria for ``gone``: the other attributes keep their criteria."""
        kept = tuple(c for c in self.criteria if c.attribute not in gone)
        if len(kept) == len(self.criteria):
            return self
        return self.model_copy(update={"criteria": kept}) if kept else None


def criterion_method(criterion: InvestigationalCriterion) -> str:
    """The method name of one investigational criterion (the wording cgtkit 1 stored)."""
    if criterion.tolerance is None:
        return "fixed requirement"
    return f"normal tolerance interval {criterion.tolerance.label}, exact k"


def _lot_types(types: tuple[LotType, ...]) -> str:
    return ", ".join(t.label for t in types)


def _risk(risk: tuple[HorizonRisk, ...]) -> str:
    if not risk:
        return "—"
    horizons = "/".join(str(r.horizon) for r in risk)
    return f"next {horizons} lots: " + "/".join(fmt_probability(r.probability) for r in risk)


def _versions(versions: tuple[str, ...]) -> list[tuple[str, str]]:
    """The 'Process versions' fact, or nothing when the data named none."""
    return [("Process versions", ", ".join(versions))] if versions else []


def _of_versions(versions: tuple[str, ...]) -> str:
    return f", process {' and '.join(versions)}" if versions else ""


def _approx(approximate: bool) -> str:
    return " (approximate: censored results)" if approximate else ""


def _criterion_text(c: InvestigationalCriterion) -> str:
    text = limits_text(c.low, c.high, c.unit)
    return f"{text}: {c.fixed_requirement}" if c.tolerance is None and c.fixed_requirement else text


# commercial criterion


@summary.register
def _summary_commercial(d: CommercialCriterionDecision) -> str:
    text = (f"{attribute_label(d.attribute)}: {limits_text(d.low, d.high, d.unit)}, set as {d.method}; {d.n} lots "
            f"({_lot_types(d.lot_types)}{_of_versions(d.process_versions)}) of data set {d.dataset}")
    if d.risk:
        text += (f"; probability that at least one of the next {'/'.join(str(r.horizon) for r in d.risk)} lots of "
                 f"an unchanged process falls outside: {'/'.join(fmt_probability(r.probability) for r in d.risk)}"
                 f"{_approx(d.risk_approximate)}")
    return text + "."


@rows.register
def _rows_commercial(d: CommercialCriterionDecision) -> list[dict[str, str]]:
    return [_row(d, d.flexibility_id, attribute_label(d.attribute), limits_text(d.low, d.high, d.unit), d.method,
                 _risk(d.risk))]


@facts.register
def _facts_commercial(d: CommercialCriterionDecision) -> list[tuple[str, str]]:
    out = _head(d) + [
        ("Attribute", f"{attribute_label(d.attribute)} ({d.attribute})"),
        ("Data set", d.dataset),
        ("Lot types", _lot_types(d.lot_types)),
        *_versions(d.process_versions),
        ("Lots", _lots(d.lot_ids)),
        ("Candidate", d.candidate),
        ("Method", d.method),
        ("Two-sided k", d.k_method),
        ("Criterion", limits_text(d.low, d.high, d.unit)),
        ("k", fmt_number(d.k)),
    ]
    out += [(f"Risk, next {r.horizon} lots", fmt_probability(r.probability)) for r in d.risk]
    out += [("Risk basis", (d.risk_basis or "not recorded") + (" (approximate: censored results)"
                                                                if d.risk_approximate else "")),
            ("Reference", d.reference or "not recorded"),
            ("Justification", d.justification)]
    return out


# investigational criteria


def _one_criterion(c: InvestigationalCriterion, d: InvestigationalCriteriaDecision) -> str:
    name = attribute_label(c.attribute)
    if c.tolerance is None:
        requirement = f": {c.fixed_requirement.rstrip('.')}" if c.fixed_requirement else ""
        return (f"{name}: fixed safety requirement{requirement}, kept as is (never set from lot data); "
                f"{c.n} result(s) in the selection ({_lot_types(d.lot_types)}) of data set {d.dataset}.")
    return (f"{name}: investigational release criterion {limits_text(c.low, c.high, c.unit)} ({criterion_method(c)}), "
            f"from {c.n} lots ({_lot_types(d.lot_types)}{_of_versions(d.process_versions)}) of data set {d.dataset}; "
            f"the next lot of an unchanged process falls outside with probability "
            f"{fmt_probability(c.next_lot_outside)}{_approx(c.risk_approximate)}.")


@summary.register
def _summary_investigational(d: InvestigationalCriteriaDecision) -> str:
    if len(d.criteria) == 1:
        return _one_criterion(d.criteria[0], d)
    computed = [c for c in d.criteria if c.tolerance is not None]
    bases = ", ".join(dict.fromkeys(c.tolerance.label for c in computed if c.tolerance is not None))
    fixed = len(d.criteria) - len(computed)
    return (f"Investigational release criteria for {len(d.criteria)} attributes from lots of type "
            f"{_lot_types(d.lot_types)} of data set {d.dataset}: {len(computed)} computed"
            + (f" ({bases})" if bases else "") + f", {fixed} fixed safety requirement(s).")


@rows.register
def _rows_investigational(d: InvestigationalCriteriaDecision) -> list[dict[str, str]]:
    return [
        _row(d, c.flexibility_id, attribute_label(c.attribute), _criterion_text(c), criterion_method(c),
             "—" if c.tolerance is None else f"next lot: {fmt_probability(c.next_lot_outside)}")
        for c in d.criteria
    ]


@facts.register
def _facts_investigational(d: InvestigationalCriteriaDecision) -> list[tuple[str, str]]:
    out = _head(d) + [("Data set", d.dataset), ("Lot types", _lot_types(d.lot_types)), *_versions(d.process_versions),
                      ("Method", d.method)]
    # the lots are listed once when most criteria share them (a set from one selection usually does)
    lot_sets = [c.lot_ids for c in d.criteria]
    common = max(set(lot_sets), key=lot_sets.count) if len(lot_sets) > 1 else None
    if common is not None and lot_sets.count(common) > 1:
        out.append(("Lots (unless a criterion names others)", _lots(common)))
    for c in d.criteria:
        name = f"{attribute_label(c.attribute)} ({c.attribute})"
        if c.tolerance is None:
            text = f"{_criterion_text(c)} ({c.attribute_kind.value}); {c.n} result(s)"
        else:
            text = (f"{limits_text(c.low, c.high, c.unit)}, {criterion_method(c)}; next lot outside "
                    f"{fmt_probability(c.next_lot_outside)}{_approx(c.risk_approximate)}")
        lots = "the lots above" if c.lot_ids == common and lot_sets.count(common) > 1 else _lots(c.lot_ids)
        out.append((name, f"{text}; lots: {lots}; supports {c.flexibility_id}"))
    out.append(("Justification", d.justification))
    return out


