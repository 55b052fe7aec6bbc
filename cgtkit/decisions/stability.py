"""Decisions of the Stability and samples page: a shelf-life claim from stability data (ICH Q1E), and a
release-testing plan for a small lot (its sample and release-time budget), with their renderers.

Both keep numbers, not sentences: the claim records the data, the model the poolability tests chose, the
limits and where they came from, the supported and claimed shelf life in the data's own time unit, and
whether the claim extrapolates; the plan records the tests with what each takes from the lot and when its
result comes, the reserve and retention rules applied, and the outcome (share of the lot consumed, whether
the dose fits, time to release against the shelf life, whether a physician-notification plan is needed).
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, model_validator

from cgtkit.decisions.base import (
    SingleFlexibilityDecision,
    _check_limits,
    _Frozen,
    _head,
    _lots,
    _row,
    attribute_label,
    facts,
    fmt_number,
    limits_text,
    rows,
    summary,
)
from cgtkit.tables import number
from cgtkit.vocab import LotType

TimeUnitName = Literal["minutes", "hours", "days", "months"]
Q1EModel = Literal["pooled", "common_slope", "separate"]
_MODEL_WORDS = {"pooled": "one pooled line", "common_slope": "a common slope with an intercept per lot",
                "separate": "a separate line per lot"}
_STORAGE_WORDS = {"room_temperature": "room temperature", "refrigerated": "refrigerated", "frozen": "frozen"}
_LIMIT_SOURCES = {"commercial_criterion": "the commercial criterion accepted on the Commercial specifications page",
                  "entered": "entered on this page"}


def _num(value: float | None) -> str:
    """Three significant digits; thousands in full (1,974); very large or small numbers as m×10ⁿ; no e-notation."""
    if value is None or not math.isfinite(value):
        return "—"
    magnitude = abs(value)
    if magnitude == 0 or 1e-3 <= magnitude < 1000:
        return f"{value:.3g}"
    if magnitude < 1e6:
        return f"{value:,.0f}"
    return number(3)(value)


def _time(value: float | None, unit: str) -> str:
    return "no limit (the bound never meets the limit)" if value is None else f"{_num(value)} {unit}"


def _hours(hours: float | None) -> str:
    """A duration in hours or, from four days on, in days (as the budget's notes write it)."""
    if hours is None or not math.isfinite(hours):
        return "no shelf-life limit"
    return f"{_num(hours)} h" if hours < 96 else f"{_num(hours / 24)} days"


class ShelfLifeDecision(SingleFlexibilityDecision):
    """A shelf-life claim for one attribute under one storage condition, estimated by ICH Q1E."""

    kind: Literal["shelf_life"] = "shelf_life"
    dataset: str = Field(description="The workbook data set of stability results.")
    attribute: str = Field(description="Attribute id (data/attributes.yaml).")
    unit: str = Field(description="The attribute's unit in the data.")
    storage_condition: str | None = Field(description="As the data name it; None when the data name none.")
    storage_category: Literal["room_temperature", "refrigerated", "frozen"] = Field(
        description="ICH Q1E's category, which sets the extrapolation allowance.")
    lot_ids: tuple[str, ...] = Field(min_length=1, description="The lots whose results were regressed.")
    lot_types: tuple[LotType, ...] = Field(min_length=1)
    regression: Q1EModel = Field(description="The regression model (ICH Q1E).")
    chosen_by: Literal["poolability", "user"] = Field(description="The poolability tests, or the user, chose it.")
    slopes_pvalue: float | None = Field(ge=0, le=1, description="ANCOVA test of equal slopes; None for one lot.")
    intercepts_pvalue: float | None = Field(ge=0, le=1)
    pooling_alpha: float = Field(gt=0, lt=1, description="Significance level of the poolability tests (Q1E: 0.25).")
    direction: Literal["decrease", "increase", "unknown"]
    sided: Literal[1, 2]
    confidence_level: float = Field(gt=0, lt=1)
    log_transform: bool = Field(description="Regression on the natural logarithm (exponential decay, e.g. a titer).")
    lower_limit: float | None
    upper_limit: float | None
    limit_source: Literal["commercial_criterion", "entered"]
    limit_decision_id: str | None = Field(default=None, description="The commercial criterion used, if any.")
    time_unit: TimeUnitName = Field(description="The data set's one time unit; every time below is in it.")
    data_span: float = Field(ge=0, description="The last time point of the data.")
    shelf_life: float | None = Field(ge=0, description="Where the bound meets the limit; None: never.")
    governing_lot: str | None = Field(description="The lot that reaches the limit first, when lots are not pooled.")
    allowed_shelf_life: float = Field(ge=0, description="The extrapolation allowance applied (ICH Q1E by storage).")
    supported_shelf_life: float = Field(ge=0, description="The estimate, capped at the allowance.")
    claimed_shelf_life: float | None = Field(gt=0, description="The shelf life claimed; None: none (none supported).")

    @model_validator(mode="after")
    def _consistent(self) -> ShelfLifeDecision:
        _check_limits(self.lower_limit, self.upper_limit, self.attribute)
        if self.lower_limit is None and self.upper_limit is None:
            raise ValueError(f"{self.attribute}: a shelf life needs an acceptance limit")
        if self.supported_shelf_life > self.allowed_shelf_life + 1e-9:
            raise ValueError(f"{self.attribute}: the supported shelf life exceeds the extrapolation allowance")
        return self

    @property
    def attributes(self) -> tuple[str, ...]:
        return (self.attribute,)

    @property
    def subjects(self) -> tuple[str, ...]:
        """One current claim per attribute and storage condition."""
        return (f"shelf_life:{self.attribute}:{self.storage_condition or ''}",)

    @property
    def claim_supported(self) -> bool:
        """The claim is within the estimate and the extrapolation allowance."""
        return self.claimed_shelf_life is not None and self.claimed_shelf_life <= self.supported_shelf_life + 1e-9

    @property
    def extrapolates(self) -> bool:
        """The claim goes beyond the last time point."""
        return self.claimed_shelf_life is not None and self.claimed_shelf_life > self.data_span

    @property
    def beyond_allowance(self) -> bool:
        """The claim goes beyond what the Q1E extrapolation allowance supports."""
        return self.claimed_shelf_life is not None and self.claimed_shelf_life > self.allowed_shelf_life + 1e-9


class PlanTest(_Frozen):
    """One test of a release plan: what it takes from the lot and when its result comes."""

    test_id: str
    label: str
    measures: str = Field(description="The attribute or quality aspect it covers.")
    sample_ml: float = Field(ge=0, description="Final product the test takes.")
    reserve_ml: float = Field(ge=0, description="Its 21 CFR 211.170(b) reserve (twice the sample, unless exempt).")
    time_to_result_hours: float = Field(ge=0)
    holds_release: bool = Field(description="Its result is needed before release.")
    pending_at_release: bool = Field(description="Released on a negative-to-date result; the final result follows.")
    alternative_to: str | None = Field(default=None, description="The conventional test it replaces (CS-ALT-METHODS).")
    edited: bool = Field(default=False, description="The user changed its shipped amount or time on the page.")
    assumed: bool = Field(default=False, description="A shipped value it uses is an assumption, not a sourced value.")


class PlanOutcome(_Frozen):
    """Another plan compared on the page, in a few numbers."""

    plan_id: str
    plan_label: str
    consumed_share: float = Field(ge=0)
    dose_fits: bool
    time_to_release_hours: float = Field(ge=0)
    release_within_shelf_life: bool


class TestingPlanDecision(SingleFlexibilityDecision):
    """The release-testing plan chosen for a small lot, with its sample and release-time budget."""

    __test__ = False  # a decision, not a test class, whatever pytest reads in its name
    kind: Literal["testing_plan"] = "testing_plan"
    product: str = Field(description="The product the tests and plans are for (data/release_tests.yaml: car_t, aav).")
    lot_label: str
    volume_ml: float = Field(gt=0)
    final_containers: int = Field(ge=1)
    dose_ml: float = Field(gt=0, description="The volume the lot's patient doses need.")
    shelf_life_hours: float | None = Field(gt=0, description="From the end of manufacture; None: not limiting.")
    plan_id: str
    plan_label: str
    tests: tuple[PlanTest, ...] = Field(min_length=1)
    reserve_211_170b: bool = Field(description="Reserve samples kept (twice the quantity, except sterility and pyrogens).")
    retention_600_13: bool = Field(description="Retention sample kept (at least one final container).")
    retention_containers: int = Field(ge=0)
    release_on_negative_to_date: bool
    tests_ml: float = Field(ge=0)
    reserve_ml: float = Field(ge=0)
    retention_ml: float = Field(ge=0)
    consumed_ml: float = Field(ge=0)
    consumed_share: float = Field(ge=0, description="consumed_ml / volume_ml; above 1 the plan cannot be carried out.")
    dose_fits: bool
    time_to_release_hours: float = Field(ge=0)
    release_within_shelf_life: bool
    physician_notification: bool = Field(description="A result comes after release: a notification plan is needed.")
    compared: tuple[PlanOutcome, ...] = Field(default=(), description="The other plans compared on the page.")

    @model_validator(mode="after")
    def _consistent(self) -> TestingPlanDecision:
        ids = [t.test_id for t in self.tests]
        if len(ids) != len(set(ids)):
            raise ValueError(f"plan {self.plan_id}: a test is listed twice")
        if abs(self.consumed_ml - (self.tests_ml + self.reserve_ml + self.retention_ml)) > 1e-6 * self.volume_ml:
            raise ValueError(f"plan {self.plan_id}: consumed_ml is not tests + reserve + retention")
        return self

    @property
    def flexibility_ids(self) -> tuple[str, ...]:
        """The flexibility chosen, and those the plan leans on: alternative methods, no reserve or retention."""
        implied = [self.flexibility_id]
        if any(t.alternative_to for t in self.tests):
            implied.append("CS-ALT-METHODS")
        if not (self.reserve_211_170b and self.retention_600_13):
            implied.append("CS-RESERVE-SAMPLES")
        return tuple(dict.fromkeys(implied))

    @property
    def subjects(self) -> tuple[str, ...]:
        """One current testing plan per product."""
        return (f"testing_plan:{self.product}",)

    @property
    def feasible(self) -> bool:
        return self.dose_fits and self.release_within_shelf_life


# shelf life


def _limits(d: ShelfLifeDecision) -> str:
    return limits_text(d.lower_limit, d.upper_limit, d.unit)


def _bound(d: ShelfLifeDecision) -> str:
    side = "two-sided" if d.sided == 2 else ("lower" if d.lower_limit is not None else "upper") + " one-sided"
    return f"{side} {d.confidence_level:.0%} confidence bound"


def _n_lots(d: ShelfLifeDecision) -> str:
    return "1 lot" if len(d.lot_ids) == 1 else f"{len(d.lot_ids)} lots"


def _method(d: ShelfLifeDecision) -> str:
    if len(d.lot_ids) == 1:
        return (f"ICH Q1E regression, a single regression line (one lot: no poolability test), {_bound(d)}"
                + (", log-transformed" if d.log_transform else ""))
    if d.chosen_by == "poolability":
        chosen = f"chosen by ANCOVA at alpha = {d.pooling_alpha:g}"
    else:
        chosen = "chosen by the user"
    return (f"ICH Q1E regression, {_MODEL_WORDS[d.regression]} ({chosen}), {_bound(d)}"
            + (", log-transformed" if d.log_transform else ""))


def _storage(d: ShelfLifeDecision) -> str:
    return f"{d.storage_condition or 'the stated storage'}, {_STORAGE_WORDS[d.storage_category]} storage"


def _extrapolation(d: ShelfLifeDecision) -> str:
    if d.claimed_shelf_life is None:
        return "no claim"
    if d.beyond_allowance:
        return (f"beyond the Q1E extrapolation allowance ({_num(d.allowed_shelf_life)} {d.time_unit}); a Q1E convention "
                "whose transfer to cell and gene therapies is for discussion with FDA")
    if d.extrapolates:
        return f"extrapolates beyond the data ({d.data_span:g} {d.time_unit}), within the allowance"
    return f"within the data ({d.data_span:g} {d.time_unit})"


def _claim(d: ShelfLifeDecision) -> str:
    if d.claimed_shelf_life is None:
        return f"no shelf life claimed (supported: {_num(d.supported_shelf_life)} {d.time_unit})"
    verdict = "supported" if d.claim_supported else "NOT supported"
    return (f"shelf life {d.claimed_shelf_life:g} {d.time_unit} claimed, {verdict} (the data support "
            f"{_num(d.supported_shelf_life)} {d.time_unit})")


@summary.register
def _summary_shelf_life(d: ShelfLifeDecision) -> str:
    who = f", lot {d.governing_lot} governing" if d.governing_lot else ""
    return (f"{attribute_label(d.attribute)} stored at {_storage(d)}: {_claim(d)}; from {_n_lots(d)} of data "
            f"set {d.dataset} by {_method(d)}; limit {_limits(d)} ({_LIMIT_SOURCES[d.limit_source]}), met by the "
            f"bound at {_time(d.shelf_life, d.time_unit)}{who}; the claim is {_extrapolation(d)}.")


@rows.register
def _rows_shelf_life(d: ShelfLifeDecision) -> list[dict[str, str]]:
    return [_row(d, d.flexibility_id, f"{attribute_label(d.attribute)}, {_storage(d)}", _claim(d), _method(d),
                 _extrapolation(d))]


@facts.register
def _facts_shelf_life(d: ShelfLifeDecision) -> list[tuple[str, str]]:
    pvalues = ("—" if d.slopes_pvalue is None else
               f"slopes p = {_num(d.slopes_pvalue)}, intercepts p = {fmt_number(d.intercepts_pvalue)} "
               f"(alpha {d.pooling_alpha:g})")
    return _head(d) + [
        ("Attribute", f"{attribute_label(d.attribute)} ({d.attribute})"),
        ("Data set", d.dataset),
        ("Storage", _storage(d)),
        ("Lots", _lots(d.lot_ids) + f"; {', '.join(t.label for t in d.lot_types)}"),
        ("Time unit", d.time_unit),
        ("Method", _method(d)),
        ("Poolability", pvalues),
        ("Direction of change", d.direction),
        ("Acceptance limit", f"{_limits(d)}, {_LIMIT_SOURCES[d.limit_source]}"
                             + (f" (decision {d.limit_decision_id})" if d.limit_decision_id else "")),
        ("Bound meets the limit", _time(d.shelf_life, d.time_unit)
         + (f", lot {d.governing_lot}" if d.governing_lot else "")),
        ("Last time point", f"{d.data_span:g} {d.time_unit}"),
        ("Extrapolation allowance", f"{_num(d.allowed_shelf_life)} {d.time_unit} ({_STORAGE_WORDS[d.storage_category]}, "
                                    "ICH Q1E)"),
        ("Claim", _claim(d)),
        ("Extrapolation", _extrapolation(d)),
        ("Justification", d.justification),
    ]


# testing plan


def _rules(d: TestingPlanDecision) -> str:
    reserve = "reserve samples kept (21 CFR 211.170(b))" if d.reserve_211_170b else "no reserve samples"
    retention = (f"{d.retention_containers} final container(s) retained (21 CFR 600.13)" if d.retention_600_13
                 else "no retention sample")
    return f"{reserve}; {retention}"


def _outcome(d: TestingPlanDecision) -> str:
    return (f"{d.consumed_share:.1%} of the lot consumed; the dose {'fits' if d.dose_fits else 'does not fit'}; "
            f"released at {_hours(d.time_to_release_hours)} of {_hours(d.shelf_life_hours)}"
            f"{'' if d.release_within_shelf_life else ' (after the end of the shelf life)'}")


def _pending(d: TestingPlanDecision) -> list[PlanTest]:
    return [t for t in d.tests if t.pending_at_release]


def _notification(d: TestingPlanDecision) -> str:
    pending = _pending(d)
    if not pending:
        return "every result before release"
    named = ", ".join(f"{t.label} (final result at {_hours(t.time_to_result_hours)})" for t in pending)
    return f"physician-notification plan needed: {named}"


@summary.register
def _summary_testing_plan(d: TestingPlanDecision) -> str:
    others = "; ".join(f"{o.plan_label}: {o.consumed_share:.0%}, dose {'fits' if o.dose_fits else 'does not fit'}, "
                       f"release at {_hours(o.time_to_release_hours)}" for o in d.compared)
    return (f"Testing plan '{d.plan_label}' for {d.lot_label} ({d.volume_ml:g} mL in {d.final_containers} final "
            f"container(s), dose {_num(d.dose_ml)} mL): {len(d.tests)} tests, {_rules(d)}; {_outcome(d)}; "
            f"{_notification(d)}" + (f". Compared with {others}" if others else "") + ".")


@rows.register
def _rows_testing_plan(d: TestingPlanDecision) -> list[dict[str, str]]:
    tests = ", ".join(t.label for t in d.tests)
    return [_row(d, ", ".join(d.flexibility_ids), f"Testing plan: {d.plan_label} ({d.lot_label})", _outcome(d),
                 f"{len(d.tests)} tests ({tests}); {_rules(d)}", _notification(d))]


@facts.register
def _facts_testing_plan(d: TestingPlanDecision) -> list[tuple[str, str]]:
    out = _head(d) + [
        ("Product", d.product),
        ("Lot", f"{d.lot_label}: {d.volume_ml:g} mL in {d.final_containers} final container(s); dose "
                f"{_num(d.dose_ml)} mL; shelf life {_hours(d.shelf_life_hours)}"),
        ("Plan", f"{d.plan_label} ({d.plan_id})"),
        ("Reserve and retention", _rules(d)),
        ("Release on negative to date", "yes" if d.release_on_negative_to_date else "no"),
    ]
    for t in d.tests:
        flags = [f"alternative to {t.alternative_to}"] if t.alternative_to else []
        flags += ["edited on the page"] if t.edited else []
        flags += ["uses assumed values"] if t.assumed else []
        out.append((t.label, f"sample {_num(t.sample_ml)} mL, reserve {_num(t.reserve_ml)} mL, result at "
                             f"{_hours(t.time_to_result_hours)}"
                             + ("" if t.holds_release else ", does not hold release")
                             + (f" ({'; '.join(flags)})" if flags else "")))
    out += [
        ("Consumed", f"tests {_num(d.tests_ml)} mL + reserve {_num(d.reserve_ml)} mL + retention {_num(d.retention_ml)} mL "
                     f"= {_num(d.consumed_ml)} mL ({d.consumed_share:.1%} of the lot)"),
        ("Outcome", _outcome(d)),
        ("Notification", _notification(d)),
    ]
    out += [(f"Compared: {o.plan_label}", f"{o.consumed_share:.1%} consumed, dose "
                                          f"{'fits' if o.dose_fits else 'does not fit'}, released at "
                                          f"{_hours(o.time_to_release_hours)}") for o in d.compared]
    out.append(("Justification", d.justification))
    return out
