"""Decisions as typed data, and the one renderer that turns them into words.

A decision the user records on a page (an accepted criterion, a set of
investigational criteria, ...) is kept as fields: the inputs it used, the method,
the numbers it rests on, the flexibility it supports, and the user's
justification. Nothing else in a decision is prose. The sentences the pages show
in "Decisions recorded" and the decision record prints (HTML, Markdown, Word) are
rendered from the fields by the functions at the end of this module, so the page
and the report can never tell two different stories, and a wording change
reaches old workbooks too.

Each kind is a pydantic model with a ``kind`` tag; :data:`Decision` is their
discriminated union, the type of ``Session.decisions``.

>>> from datetime import UTC, datetime
>>> d = CommercialCriterionDecision(
...     id="a1b2c3", timestamp=datetime(2026, 11, 23, 10, 30, tzinfo=UTC),
...     page="commercial_specifications", flexibility_id="CS-SPEC-FLEX-BLA",
...     method="normal tolerance interval, one-sided, exact k, original scale",
...     justification="Lower limit from 10 lots.",
...     dataset="car_t_lots", attribute="viability", lot_types=("clinical", "ppq"),
...     lot_ids=tuple(f"L{i}" for i in range(10)), n=10, candidate="ti_99_95", k_method="exact",
...     low=71.25, high=None, unit="%", k=3.532,
...     risk=(HorizonRisk(horizon=10, probability=0.0421), HorizonRisk(horizon=50, probability=0.12)))
>>> d.lot_types
(<LotType.CLINICAL: 'clinical'>, <LotType.PPQ: 'ppq'>)
>>> summary(d)  # doctest: +NORMALIZE_WHITESPACE
'Viability: not less than 71.25 %, set as normal tolerance interval, one-sided, exact k, original scale; 10 lots
 (clinical, PPQ) of data set car_t_lots; probability that at least one of the next 10/50 lots of an unchanged
 process falls outside: 4.2%/12.0%.'
>>> rows(d)[0]["criterion"], rows(d)[0]["risk"]
('not less than 71.25 %', 'next 10/50 lots: 4.2%/12.0%')
>>> parse_decision(d.model_dump(mode="json")) == d
True

How to add a decision kind
--------------------------
1. Subclass :class:`DecisionBase` with ``kind: Literal["my_kind"] = "my_kind"``
   and typed fields: enums from :mod:`cgtkit.vocab` (not strings), numbers as
   numbers, small frozen models for repeated groups, no sentences but the
   user's ``justification``. Implement ``flexibility_ids``.
2. Add the class to the :data:`Decision` union below.
3. Register its renderers: ``@summary.register`` and ``@rows.register`` (and
   ``@facts.register`` for every field in full); ``tests/unit/test_decisions.py``
   fails for a kind without them.
4. Raise ``SCHEMA_VERSION`` in :mod:`cgtkit.session` with an identity migration
   for the previous version: an older cgtkit then refuses a file holding the new
   kind with "written by a newer cgtkit" instead of calling it damaged.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import singledispatch
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from cgtkit.tables import number
from cgtkit.vocab import AttributeKind, LotType

__all__ = [
    "COLUMNS",
    "DECISION_KINDS",
    "CommercialCriterionDecision",
    "ComparabilityDecision",
    "ComparabilityFinding",
    "Decision",
    "DecisionBase",
    "HorizonRisk",
    "InvestigationalCriteriaDecision",
    "InvestigationalCriterion",
    "LegacyDecision",
    "ToleranceBasis",
    "criterion_method",
    "facts",
    "label",
    "limits_text",
    "parse_decision",
    "rows",
    "summary",
]

#: How the two-sided tolerance factor k was computed (the commercial page's choice).
KMethod = Literal["exact", "howe", "guenther"]


def _now() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    """A short random id: decisions are removed and cited by it."""
    import uuid

    return uuid.uuid4().hex[:12]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


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


class DecisionBase(_Frozen):
    """What every decision has: who-what-when, the method named, and the user's own words."""

    kind: str
    id: str = Field(default_factory=new_id, description="Short random id; removal and citations use it.")
    timestamp: datetime = Field(default_factory=_now)
    page: str = Field(description="Id of the page where it was taken (data/pages.yaml), e.g. 'clinical_development'.")
    method: str = Field(description="The method, named precisely (e.g. 'normal tolerance interval, two-sided, exact k').")
    justification: str = Field(description="The user's justification: the one piece of prose a decision stores.")
    superseded: tuple[dict[str, Any], ...] = Field(
        default=(), description="The earlier decisions (as saved) this one replaced for the same attributes: its history.")
    review: str | None = Field(
        default=None, description="Why the decision needs a review (e.g. its data set was replaced); None when current.")

    @property
    def flexibility_ids(self) -> tuple[str, ...]:
        """Catalog ids of the flexibilities the decision supports, in order, without repeats."""
        raise NotImplementedError

    @property
    def subjects(self) -> tuple[str, ...]:
        """What the decision decides about: a later decision of the same page on the same subject
        replaces it (attribute ids for criteria; a key naming the comparison, plan or claim otherwise)."""
        return attributes(self)


def _check_lots(lot_ids: tuple[str, ...], n: int, what: str) -> None:
    if n != len(lot_ids):
        raise ValueError(f"{what}: n = {n} but {len(lot_ids)} lot ids")


def _check_limits(low: float | None, high: float | None, what: str) -> None:
    if low is not None and high is not None and low > high:
        raise ValueError(f"{what}: low limit {low} is above high limit {high}")


class CommercialCriterionDecision(DecisionBase):
    """One attribute's accepted commercial acceptance criterion (one candidate of the page)."""

    kind: Literal["commercial_criterion"] = "commercial_criterion"
    flexibility_id: str
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

    @model_validator(mode="after")
    def _consistent(self) -> CommercialCriterionDecision:
        _check_lots(self.lot_ids, self.n, self.attribute)
        _check_limits(self.low, self.high, self.attribute)
        horizons = [r.horizon for r in self.risk]
        if horizons != sorted(set(horizons)):
            raise ValueError(f"{self.attribute}: risk horizons must increase without repeats, got {horizons}")
        return self

    @property
    def flexibility_ids(self) -> tuple[str, ...]:
        return (self.flexibility_id,)


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


ComparabilityMethod = Literal["equivalence", "quality_range", "graphical", "fixed_requirement"]


class ComparabilityFinding(_Frozen):
    """One attribute compared before and after a change, with the numbers the verdict rests on."""

    attribute: str = Field(description="Attribute id (data/attributes.yaml).")
    unit: str
    risk: Literal["high", "medium", "low"] = Field(description="The user's rank of the attribute for this change.")
    method: ComparabilityMethod
    n_pre: int = Field(ge=0)
    n_post: int = Field(ge=0)
    estimate_kind: Literal["difference", "ratio"] | None = Field(
        default=None, description="Post minus pre (normal scale) or post over pre (log scale); equivalence only.")
    estimate: float | None = None
    ci_low: float | None = Field(default=None, description="90% confidence interval of the estimate (TOST).")
    ci_high: float | None = None
    margin_low: float | None = Field(default=None, description="Equivalence margin, as a difference or a ratio.")
    margin_high: float | None = None
    range_low: float | None = Field(default=None, description="Quality range: pre-change mean - k SD.")
    range_high: float | None = None
    n_inside: int | None = Field(default=None, ge=0, description="Quality range: post-change lots inside it.")
    n_required: int | None = Field(default=None, ge=0)
    comparable: bool | None = Field(description="The method's verdict; None for a graphical or fixed comparison.")
    power: float | None = Field(default=None, ge=0.0, le=1.0,
                                description="Probability the method passes for identical processes at these lots.")
    lots_needed_per_side: int | None = Field(default=None, ge=1, description="Lots per side for the target power.")
    problem: str | None = Field(default=None, description="Why the attribute could not be evaluated, if so.")


class ComparabilityDecision(DecisionBase):
    """The conclusion of a comparability study for one manufacturing change, attribute by attribute."""

    kind: Literal["comparability"] = "comparability"
    flexibility_id: str
    dataset: str
    change_types: tuple[str, ...] = Field(min_length=1, description="Ids of data/change_types.yaml.")
    change_description: str = Field(default="", description="The user's words for the change.")
    classification: Literal["minor", "moderate", "major"] = Field(description="cgtkit's reading, with the plan's reasons.")
    reporting_category: str | None = Field(description="Likely 21 CFR 601.12 category after approval; None before.")
    pre_label: str
    post_label: str
    pre_lots: tuple[str, ...] = Field(min_length=1)
    post_lots: tuple[str, ...] = Field(min_length=1)
    paired: bool = False
    margin_sd: float = Field(gt=0, description="Default equivalence margin in pre-change (reference) SDs.")
    k: float = Field(gt=0, description="Quality range: pre-change mean ± k SD.")
    target_power: float = Field(gt=0, lt=1)
    findings: tuple[ComparabilityFinding, ...] = Field(min_length=1)

    @property
    def flexibility_ids(self) -> tuple[str, ...]:
        return (self.flexibility_id,)

    @property
    def subjects(self) -> tuple[str, ...]:
        """One current conclusion per comparison (data set, pre- and post-change lots)."""
        return (f"comparability:{self.dataset}:{self.pre_label}:{self.post_label}",)

    @property
    def shown_comparable(self) -> bool:
        """True when every statistically compared attribute passed and none was left unevaluated."""
        stats = [f for f in self.findings if f.method in ("equivalence", "quality_range")]
        return bool(stats) and all(f.comparable is True for f in stats) and not any(f.problem for f in self.findings)


class LegacyDecision(DecisionBase):
    """A decision from an older workbook that no typed kind fits, kept exactly as written.

    The migration maps an old decision to a typed kind only when every field
    has a typed home; otherwise it lands here, its untyped fields verbatim in
    ``extra`` (for schema 1: ``inputs`` and ``result``), so nothing is lost.
    """

    kind: Literal["legacy"] = "legacy"
    flexibility_id: str
    from_schema: int = Field(default=1, ge=1, description="Workbook schema the decision was written under.")
    extra: dict[str, Any] = Field(default_factory=dict, description="The fields no typed kind holds, as written.")

    @property
    def flexibility_ids(self) -> tuple[str, ...]:
        return (self.flexibility_id,)


#: The type of ``Session.decisions`` items: one of the kinds, told apart by ``kind``.
Decision = Annotated[
    CommercialCriterionDecision | InvestigationalCriteriaDecision | ComparabilityDecision | LegacyDecision,
    Field(discriminator="kind"),
]
DECISION_KINDS: tuple[type[DecisionBase], ...] = get_args(get_args(Decision)[0])
_ADAPTER: TypeAdapter[Decision] = TypeAdapter(Decision)


def parse_decision(data: Any) -> Decision:
    """A decision of the right kind from its JSON-like dict (raises pydantic's ValidationError)."""
    return _ADAPTER.validate_python(data)


def criterion_method(criterion: InvestigationalCriterion) -> str:
    """The method name of one investigational criterion (the wording cgtkit 1 stored)."""
    if criterion.tolerance is None:
        return "fixed requirement"
    return f"normal tolerance interval {criterion.tolerance.label}, exact k"


# -- the renderer ----------------------------------------------------------------
# Everything below turns fields into words. The pages and the report call these
# functions and nothing else, so a decision reads the same everywhere.

#: Columns of :func:`rows`, with their headers, in display order.
COLUMNS: dict[str, str] = {
    "when": "When",
    "flexibility": "Flexibility",
    "attribute": "Attribute",
    "criterion": "Criterion or result",
    "method": "Method",
    "risk": "Risk of later lots outside, or power",
}


fmt_number = number(4)  # four significant digits, a dash for no value (the tables' formatter)


def fmt_probability(p: float | None) -> str:
    return "—" if p is None else ("<0.1%" if p < 0.001 else f"{p:.1%}")


def limits_text(low: float | None, high: float | None, unit: str) -> str:
    """``'70 to 95 %'``, ``'not less than 70 %'``, ``'not more than 2 %'`` or ``'fixed requirement'``.

    >>> limits_text(70, None, "%")
    'not less than 70 %'
    """
    if low is not None and high is not None:
        return f"{low:.4g} to {high:.4g} {unit}"
    if low is not None:
        return f"not less than {low:.4g} {unit}"
    if high is not None:
        return f"not more than {high:.4g} {unit}"
    return "fixed requirement"


def attribute_label(attribute_id: str) -> str:
    """The attribute's label from the attribute list; the id itself if the list cannot say."""
    from cgtkit.attributes import get_attribute
    from cgtkit.errors import CgtkitError

    try:
        return get_attribute(attribute_id).label
    except CgtkitError:
        return attribute_id


def page_title(page_id: str) -> str:
    """The page's title from data/pages.yaml; the id itself for a page that no longer exists."""
    from cgtkit.errors import CgtkitError
    from cgtkit.pages import load_pages

    try:
        return next((p.title for p in load_pages() if p.id == page_id), page_id)
    except CgtkitError:
        return page_id


def when(decision: DecisionBase) -> str:
    """The time stamp as the pages show it, in UTC."""
    ts = decision.timestamp
    if ts.tzinfo is not None:
        return f"{ts.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    return f"{ts:%Y-%m-%d %H:%M}"


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


def _lots(lot_ids: tuple[str, ...]) -> str:
    return f"{len(lot_ids)}" + (f" ({', '.join(lot_ids)})" if lot_ids else "")


def _criterion_text(c: InvestigationalCriterion) -> str:
    text = limits_text(c.low, c.high, c.unit)
    return f"{text}: {c.fixed_requirement}" if c.tolerance is None and c.fixed_requirement else text


@singledispatch
def summary(decision: DecisionBase) -> str:
    """One sentence saying what was decided, from what, with which numbers."""
    raise TypeError(f"No summary for decision kind {decision.kind!r}: register one (see cgtkit.decisions).")


@singledispatch
def rows(decision: DecisionBase) -> list[dict[str, str]]:
    """Table rows, one per criterion, with the keys of :data:`COLUMNS` (plus ``decision_id``)."""
    raise TypeError(f"No table rows for decision kind {decision.kind!r}: register them (see cgtkit.decisions).")


@singledispatch
def facts(decision: DecisionBase) -> list[tuple[str, str]]:
    """Every field as (label, text) pairs, in reading order: the decision record's full entry."""
    raise TypeError(f"No facts for decision kind {decision.kind!r}: register them (see cgtkit.decisions).")


def _row(decision: DecisionBase, flexibility: str, attribute: str, criterion: str, method: str,
         risk: str) -> dict[str, str]:
    return {"decision_id": decision.id, "when": when(decision), "flexibility": flexibility, "attribute": attribute,
            "criterion": criterion, "method": method, "risk": risk}


def _head(decision: DecisionBase) -> list[tuple[str, str]]:
    return [("Decision", decision.id), ("Recorded", when(decision)), ("Page", page_title(decision.page)),
            ("Supports", ", ".join(decision.flexibility_ids))]


def label(decision: DecisionBase) -> str:
    """A one-line label for choosing the decision in a list: when, what about, which flexibility."""
    attributes = list(dict.fromkeys(r["attribute"] for r in rows(decision)))
    subject = attributes[0] if len(attributes) == 1 else f"{len(attributes)} attributes"
    flag = "[to review] " if decision.review else ""
    return f"{flag}{when(decision)} — {subject} — {', '.join(decision.flexibility_ids)}"


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
    for c in d.criteria:
        name = f"{attribute_label(c.attribute)} ({c.attribute})"
        if c.tolerance is None:
            text = f"{_criterion_text(c)} ({c.attribute_kind.value}); {c.n} result(s)"
        else:
            text = (f"{limits_text(c.low, c.high, c.unit)}, {criterion_method(c)}; next lot outside "
                    f"{fmt_probability(c.next_lot_outside)}{_approx(c.risk_approximate)}")
        out.append((name, f"{text}; lots {_lots(c.lot_ids)}; supports {c.flexibility_id}"))
    out.append(("Justification", d.justification))
    return out


# comparability

_COMPARABILITY_METHODS = {"equivalence": "equivalence test (TOST)", "quality_range": "quality range",
                          "graphical": "graphical comparison", "fixed_requirement": "fixed requirement"}


def _finding_result(f: ComparabilityFinding) -> str:
    """The finding's numbers and verdict in a few words."""
    if f.problem:
        return f"not evaluated: {f.problem}"
    if f.method == "equivalence" and f.ci_low is not None and f.ci_high is not None:
        word = "ratio" if f.estimate_kind == "ratio" else "difference"
        verdict = "equivalent" if f.comparable else "equivalence not shown"
        return (f"{verdict}: {word} {fmt_number(f.estimate)} (90% CI {fmt_number(f.ci_low)} to {fmt_number(f.ci_high)}"
                f"{'' if f.estimate_kind == 'ratio' else ' ' + f.unit}), margin {fmt_number(f.margin_low)} to "
                f"{fmt_number(f.margin_high)}")
    if f.method == "quality_range" and f.n_inside is not None:
        verdict = "passes" if f.comparable else "does not pass"
        return (f"{verdict}: {f.n_inside} of {f.n_post} post-change lots inside {fmt_number(f.range_low)} to "
                f"{fmt_number(f.range_high)} {f.unit} ({f.n_required} required)")
    if f.method == "fixed_requirement":
        return "fixed safety requirement: every lot must meet it, before and after"
    return "compared graphically (no statistical criterion)"


def _finding_power(f: ComparabilityFinding, target: float) -> str:
    if f.power is None:
        return "—"
    text = f"{fmt_probability(f.power)} to pass if identical"
    if f.lots_needed_per_side is not None:
        text += f"; {f.lots_needed_per_side} lots per side for {target:.0%}"
    return text


def _comparison(d: ComparabilityDecision) -> str:
    return (f"{d.post_label} ({len(d.post_lots)} lots) against {d.pre_label} ({len(d.pre_lots)} lots)"
            f"{', paired by donor' if d.paired else ''} of data set {d.dataset}")


@summary.register
def _summary_comparability(d: ComparabilityDecision) -> str:
    stats = [f for f in d.findings if f.method in ("equivalence", "quality_range")]
    passed = [f for f in stats if f.comparable is True]
    failed = [attribute_label(f.attribute) for f in stats if f.comparable is not True]
    change = ", ".join(d.change_types)
    text = (f"Comparability for a {d.classification} change ({change}"
            + (f"; likely {d.reporting_category}" if d.reporting_category else "") + f"): {_comparison(d)}; "
            f"{len(passed)} of {len(stats)} statistically compared attribute(s) shown comparable")
    if failed:
        text += f"; not shown for {', '.join(failed)}"
    return text + "."


@rows.register
def _rows_comparability(d: ComparabilityDecision) -> list[dict[str, str]]:
    return [_row(d, d.flexibility_id, attribute_label(f.attribute), _finding_result(f),
                 f"{_COMPARABILITY_METHODS[f.method]} ({f.risk} risk)", _finding_power(f, d.target_power))
            for f in d.findings]


@facts.register
def _facts_comparability(d: ComparabilityDecision) -> list[tuple[str, str]]:
    out = _head(d) + [
        ("Change", ", ".join(d.change_types) + (f": {d.change_description}" if d.change_description else "")),
        ("Classification", f"{d.classification} (cgtkit's reading, for discussion with FDA)"),
        ("Reporting category", d.reporting_category or "before approval: not a supplement"),
        ("Comparison", _comparison(d)),
        ("Pre-change lots", _lots(d.pre_lots)), ("Post-change lots", _lots(d.post_lots)),
        ("Settings", f"equivalence margin {d.margin_sd:g} reference SD unless set per attribute; quality range "
                     f"mean ± {d.k:g} SD; target power {d.target_power:.0%}"),
    ]
    for f in d.findings:
        out.append((f"{attribute_label(f.attribute)} ({f.attribute})",
                    f"{_COMPARABILITY_METHODS[f.method]}, {f.risk} risk, {f.n_pre} pre / {f.n_post} post: "
                    f"{_finding_result(f)}; power {_finding_power(f, d.target_power)}"))
    out.append(("Justification", d.justification))
    return out


# legacy


def _legacy_part(d: LegacyDecision, part: str) -> dict[str, Any]:
    value = d.extra.get(part)
    return value if isinstance(value, dict) else {}


def _legacy_criterion(d: LegacyDecision) -> str:
    result = _legacy_part(d, "result")
    low, high = result.get("low"), result.get("high")
    if not all(isinstance(x, int | float) or x is None for x in (low, high)):
        return "—"
    return limits_text(low, high, str(result.get("unit", ""))) if low is not None or high is not None else "—"


def _legacy_attribute(d: LegacyDecision) -> str:
    attribute = _legacy_part(d, "inputs").get("attribute")
    return attribute_label(attribute) if isinstance(attribute, str) else "—"


@summary.register
def _summary_legacy(d: LegacyDecision) -> str:
    return (f"{_legacy_attribute(d)}: {_legacy_criterion(d)} ({d.method}); recorded under workbook schema {d.from_schema} "
            "and kept as written.")


@rows.register
def _rows_legacy(d: LegacyDecision) -> list[dict[str, str]]:
    return [_row(d, d.flexibility_id, _legacy_attribute(d), _legacy_criterion(d), d.method, "—")]


@facts.register
def _facts_legacy(d: LegacyDecision) -> list[tuple[str, str]]:
    out = _head(d) + [("Method", d.method), ("Recorded under", f"workbook schema {d.from_schema}, kept as written")]
    for part, value in d.extra.items():
        if isinstance(value, dict):
            out += [(f"{part}: {key}", _plain(v)) for key, v in value.items()]
        else:
            out.append((part, _plain(value)))
    out.append(("Justification", d.justification))
    return out


def _plain(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return fmt_number(value)
    if isinstance(value, list | tuple):
        return ", ".join(_plain(v) for v in value)
    return str(value)


def attributes(decision: DecisionBase) -> tuple[str, ...]:
    """The attributes a decision decides about (a legacy decision: none it can be matched on)."""
    if isinstance(decision, CommercialCriterionDecision):
        return (decision.attribute,)
    if isinstance(decision, InvestigationalCriteriaDecision):
        return tuple(c.attribute for c in decision.criteria)
    if isinstance(decision, ComparabilityDecision):
        return tuple(f.attribute for f in decision.findings)
    return ()


def without_attributes(decision: DecisionBase, gone: set[str]) -> DecisionBase | None:
    """``decision`` without its criteria for ``gone`` (None when nothing is left): what an earlier
    decision keeps when a newer one decides some of its attributes again."""
    if isinstance(decision, InvestigationalCriteriaDecision):
        kept = tuple(c for c in decision.criteria if c.attribute not in gone)
        if len(kept) == len(decision.criteria):
            return decision
        return decision.model_copy(update={"criteria": kept}) if kept else None
    return None if set(decision.subjects) & gone else decision
