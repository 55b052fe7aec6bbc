"""The Stability and samples page's state, without widgets: two models, one per section.

:class:`StabilityModel` estimates a shelf life from a stability data set by ICH Q1E
(:mod:`cgtkit.analyses.stability`): data set, attribute, storage condition, lots,
the acceptance limit (by default the commercial criterion the user accepted for
the attribute on the Commercial specifications page), the direction of change,
the log scale, the storage category that sets the extrapolation allowance, and
the shelf life to claim (drafted as the supported shelf life rounded down).
Flexibility CS-STABILITY-CLINICAL-LOTS.

:class:`SamplesModel` compares release-testing plans for one lot
(:mod:`cgtkit.analyses.samples`): the lot (from the product profile where it
knows, else the shipped example lot, every value's source kept), the shipped
release tests with the user's edits, the shipped plans; the share of the lot
consumed, whether the dose fits, time to release against the shelf life.
Flexibilities CS-RESERVE-SAMPLES and CS-ALT-METHODS.

Each model recomputes on every change; a problem sets ``problem`` and keeps the
previous ``view``, so the page keeps its last valid tables and figures.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, ClassVar

import pandas as pd
from traitlets import Any as AnyTrait
from traitlets import Bool, Dict, Float, HasTraits, Int, List, Tuple, Unicode, observe

from cgtkit.analyses.samples import (
    AmountUnit,
    fmt_amount,
    fmt_duration,
    BudgetComparison,
    DoseLargerThanLot,
    Lot,
    ReleasePlan,
    ReleaseTest,
    SampleBudget,
    compare_plans,
    load_release_tests,
    plans_for,
    release_tests,
)
from cgtkit.analyses.stability import (
    Direction,
    StabilityAnalysis,
    StorageCategory,
    analyse_stability,
    stability_data,
    storage_category_from_text,
)
from cgtkit.attributes import get_attribute, load_attributes
from cgtkit.decisions import (
    CommercialCriterionDecision,
    PlanOutcome,
    PlanTest,
    ShelfLifeDecision,
    TestingPlanDecision,
    limits_text,
)
from cgtkit.errors import CgtkitError, InsufficientDataError
from cgtkit.session import Session
from cgtkit.stats.stability import TIME_UNITS, convert_time
from cgtkit.ui.page_inputs import Quietly
from cgtkit.ui.selection import follow_dataset
from cgtkit.vocab import AttributeKind, DatasetKind, LotType

PAGE_ID = "stability_samples"
STABILITY_FLEXIBILITIES = (("CS-STABILITY-CLINICAL-LOTS — clinical-lot stability data behind the shelf life",
                            "CS-STABILITY-CLINICAL-LOTS"),)
TESTING_FLEXIBILITIES = (("CS-ALT-METHODS — alternative analytical methods for lot release", "CS-ALT-METHODS"),
                         ("CS-RESERVE-SAMPLES — exceptions from reserve samples", "CS-RESERVE-SAMPLES"))
DIRECTION_WORDS = {Direction.DECREASE: "falls: lower one-sided bound", Direction.INCREASE: "rises: upper one-sided bound",
                   Direction.UNKNOWN: "unknown: two-sided interval"}
STORAGE_WORDS = {StorageCategory.ROOM_TEMPERATURE: "room temperature", StorageCategory.REFRIGERATED: "refrigerated",
                 StorageCategory.FROZEN: "frozen"}
#: The product whose shipped tests and plans a modality's lot starts from (data/release_tests.yaml).
PRODUCT_LABELS = {"car_t": "CAR-T (cell therapy) tests and plans", "aav": "AAV (gene therapy) tests and plans"}
LOT_FIELDS = ("volume_ml", "final_containers", "dose", "dose_unit", "cells_per_ml", "doses", "shelf_life",
              "shelf_life_unit")
FROM_PROFILE = "profile"
#: A lot value the profile does not give and the example's cannot stand in for (the profile's volume
#: would make the example's dose a guess that may not even fit).
TO_ENTER = "not in your product profile: enter it"
NOT_IN_PROFILE = "not in your product profile"
#: The lot fields' names as the page's boxes say them.
LOT_FIELD_NAMES = {"volume_ml": "lot volume", "final_containers": "final containers", "dose": "dose",
                   "dose_unit": "dose unit", "cells_per_ml": "concentration (cells per mL)", "doses": "doses per lot",
                   "shelf_life": "shelf life", "shelf_life_unit": "shelf-life unit"}


def round_down(value: float) -> float:
    """A claim drafted from a supported shelf life: whole units from 1 on, else two significant digits, rounded down.

    >>> round_down(12.94), round_down(24.0), round_down(0.347), round_down(0.0)
    (12.0, 24.0, 0.34, 0.0)
    """
    if not math.isfinite(value) or value <= 0:
        return 0.0
    if value >= 1:
        return float(math.floor(value + 1e-9))
    digits = 1 - math.floor(math.log10(value))
    return math.floor(value * 10**digits + 1e-9) / 10**digits


def parse_number(text: str, what: str, unit: str = "", example: str = "80 or 1.5e12") -> float | None:
    """A number typed in a text box, perhaps followed by its unit; empty is None; anything else a
    sentence saying how to write it.

    >>> parse_number("12 months", "shelf life to claim", "months"), parse_number("1 month", "claim", "months")
    (12.0, 1.0)
    >>> parse_number(" 60% ", "lower limit", "%"), parse_number("", "lower limit")
    (60.0, None)
    """
    cleaned = str(text).strip()
    if not cleaned:
        return None
    for written in dict.fromkeys((unit, unit.removesuffix("s"))) if unit else ():
        if cleaned.lower().endswith(written.lower()) and len(cleaned) > len(written):
            cleaned = cleaned[: -len(written)].strip()
            break
    try:
        number = float(cleaned)
    except ValueError:
        raise CgtkitError(f"The {what} '{str(text).strip()}' is not a number. Enter a number"
                          + (f" in {unit}" if unit else "") + f" (e.g. {example}), or leave it empty.") from None
    if not math.isfinite(number):
        raise CgtkitError(f"The {what} must be a finite number; got '{cleaned}'.")
    return number


def accepted_criterion(session: Session, attribute: str) -> CommercialCriterionDecision | None:
    """The commercial criterion the user accepted for ``attribute`` (the latest), if any."""
    found = [d for d in session.decisions if isinstance(d, CommercialCriterionDecision) and d.attribute == attribute]
    return found[-1] if found else None


def _text(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def limit_text(value: float | None) -> str:
    """A limit as the box shows it: four significant digits, as the criterion is written everywhere else
    (:func:`cgtkit.decisions.limits_text`), so the box and the note show the same number."""
    return "" if value is None else f"{value:.4g}"


def same_limit(typed: float | None, accepted: float | None) -> bool:
    """Whether a limit in the box is the accepted one, compared as numbers: the same number to six significant
    digits (as ``:g`` writes it), or the number as the box shows it (four)."""
    if typed is None or accepted is None:
        return typed is None and accepted is None
    return math.isclose(typed, accepted, rel_tol=5e-6) or typed == float(limit_text(accepted))


# ---------------------------------------------------------------------------------------------------------
# Stability


@dataclass(frozen=True)
class StabilityView:
    """What the stability section shows for one set of choices."""

    analysis: StabilityAnalysis
    dataset: str
    lot_types: tuple[LotType, ...]
    limit_source: str  # "commercial_criterion" or "entered"
    limit_note: str
    criterion_id: str | None
    claim: float | None
    claim_drafted: bool


class StabilityModel(Quietly, HasTraits):
    """The stability section's choices and the Q1E analysis derived from them."""

    dataset = Unicode("")
    dataset_options = List(Unicode(), read_only=True)
    attribute = Unicode("")
    attribute_options = List(Tuple(Unicode(), Unicode()), read_only=True)
    storage = Unicode("")
    storage_options = List(Unicode(), read_only=True)
    lot_options = List(Tuple(Unicode(), Unicode()), read_only=True, help="(label, lot id) of the lots with results.")
    lots = List(Unicode())
    lower_limit = Unicode("", help="As typed; empty: no lower limit.")
    upper_limit = Unicode("")
    unit = Unicode("", read_only=True, help="The attribute's unit in the data.")
    direction = Unicode("", help="'' (the attribute's own), decrease, increase or unknown.")
    direction_options = List(Tuple(Unicode(), Unicode()), read_only=True)
    log_transform = Bool(False)
    storage_category = Unicode("", help="'' (read from the storage condition), room_temperature, refrigerated, frozen.")
    storage_category_options = List(Tuple(Unicode(), Unicode()), read_only=True)
    claim = Unicode("", help="The shelf life to claim, in the data's time unit; drafted until the user types one.")

    view = AnyTrait(None, allow_none=True, read_only=True)
    problem = Unicode("", read_only=True)
    problem_kind = Unicode("error", read_only=True, help="'info' when the section waits for an input, else 'error'.")

    #: The user's inputs, kept beside the workbook (:mod:`cgtkit.ui.page_inputs`), in the order they are set.
    INPUTS: ClassVar[tuple[str, ...]] = ("dataset", "attribute", "storage", "lots", "lower_limit", "upper_limit",
                                         "direction", "log_transform", "storage_category", "claim")
    INPUT_OPTIONS: ClassVar[dict[str, str]] = {"lots": "lot_options"}
    INPUT_FOLLOWS: ClassVar[dict[str, str]] = {
        "attribute": "dataset", "storage": "attribute", "lots": "storage", "lower_limit": "attribute",
        "upper_limit": "attribute", "direction": "attribute", "log_transform": "attribute",
        "storage_category": "storage", "claim": "attribute"}

    def __init__(self, session: Session) -> None:
        super().__init__()
        self._frames: dict[str, pd.DataFrame] = {}
        self._busy = False
        self._drafting = False
        self._claim_typed = False
        self._choices_for: str | None = None  # the attribute whose limits, direction and claim are set
        self._storage_for: str | None = None
        self._lots_of: dict[str, list[str]] = {}  # data set -> the lots last ticked in it
        self._lots_in: str | None = None  # the data set the ticked lots belong to
        self.session = session
        self.use_session(session)

    def restored(self, _names: set[str]) -> None:
        self.recompute()

    # -- the workbook ---------------------------------------------------------------
    def use_session(self, session: Session) -> None:
        """Follow a changed workbook: keep the data set and attribute if still there; a commercial criterion
        accepted meanwhile fills limits left empty."""
        self.session = session
        self._frames.clear()
        options = [name for name, ds in session.datasets.items() if ds.kind is DatasetKind.STABILITY]
        self.set_trait("dataset_options", options)
        if not options:
            with self.hold_trait_notifications():
                self.set_trait("view", None)
                self.set_trait("problem_kind", "info")
                self.set_trait("problem", "The workbook holds no stability data. Load a stability data file on the "
                                          "Home page: one row per lot, attribute and time point, with the time in "
                                          "timepoint_months (or timepoint with time_unit: minutes, hours, days or "
                                          "months) and the storage condition.")
            return
        with self.quietly():
            dataset = self.dataset if self.dataset in options else options[0]
            if dataset == self.dataset:
                self._follow_dataset()
            else:
                self.dataset = dataset
            if not self.lower_limit.strip() and not self.upper_limit.strip():
                self._default_limits()
        self.recompute()

    def frame(self) -> pd.DataFrame:
        if self.dataset not in self._frames:
            self._frames[self.dataset] = self.session.dataset_frame(self.dataset)
        return self._frames[self.dataset]

    def _timed(self) -> pd.DataFrame:
        """The rows of the data set with a time point."""
        frame = self.frame()
        column = "timepoint" if "timepoint" in frame.columns and frame["timepoint"].notna().any() else "timepoint_months"
        return frame[frame[column].notna()] if column in frame.columns else frame.iloc[0:0]

    @observe("dataset")
    def _on_dataset(self, change: dict[str, Any]) -> None:
        follow_dataset(self, change)

    def _follow_dataset(self) -> None:
        rows = self._timed()
        known = list(load_attributes())
        present = sorted(rows["attribute"].dropna().unique(),
                         key=lambda a: (known.index(a) if a in known else len(known), a))
        usable = [str(a) for a in present if get_attribute(str(a)).kind is not AttributeKind.SAFETY_FIXED]
        self.set_trait("attribute_options", [(get_attribute(a).label, a) for a in usable])
        if not usable:
            raise InsufficientDataError(f"Data set '{self.dataset}' has no quantitative results with a time point; "
                                        "a shelf life needs stability results over time.")
        attribute = self.attribute if self.attribute in usable else usable[0]
        if attribute == self.attribute:
            self._follow_attribute()
        else:
            self.attribute = attribute

    @observe("attribute")
    def _on_attribute(self, _change: dict[str, Any]) -> None:
        busy = self._busy
        with self.quietly():
            self._follow_attribute()
        if not self.lower_limit.strip() and not self.upper_limit.strip():
            self.set_trait("view", None)  # another attribute, no limit yet: the last one's figure would mislead
        if not busy:
            self.recompute()

    def _follow_attribute(self) -> None:
        spec = get_attribute(self.attribute)
        rows = self._timed()
        rows = rows[rows["attribute"] == self.attribute]
        units = sorted(set(rows["unit"].fillna("").astype(str))) if "unit" in rows.columns else []
        self.set_trait("unit", units[0] if len(units) == 1 else spec.unit)
        storages = (list(dict.fromkeys(rows["storage_condition"].dropna().astype(str)))
                    if "storage_condition" in rows.columns else [])
        self.set_trait("storage_options", storages)
        default, basis = Direction.default_for(spec)
        source = "as cgtkit's attribute file records" if spec.stability_direction else "assumed from its limit side"
        self.set_trait("direction_options", [(f"{DIRECTION_WORDS[default]} ({source})", "")]
                       + [(DIRECTION_WORDS[d].capitalize(), d.value) for d in Direction])
        if self.attribute != self._choices_for:  # the same attribute in another data set keeps the user's choices
            self._choices_for = self.attribute
            self.direction = ""
            self.log_transform = spec.scale.value == "log"
            self._default_limits()
            self._drafting, self._claim_typed = True, False
            try:
                self.claim = ""
            finally:
                self._drafting = False
        storage = self.storage if self.storage in storages else (storages[0] if storages else "")
        if storage == self.storage:
            self._follow_storage()
        else:
            self.storage = storage

    @observe("storage")
    def _on_storage(self, _change: dict[str, Any]) -> None:
        busy = self._busy
        with self.quietly():
            self._follow_storage()
        if not busy:
            self.recompute()

    def _follow_storage(self) -> None:
        rows = self._timed()
        rows = rows[rows["attribute"] == self.attribute]
        if self.storage and "storage_condition" in rows.columns:
            rows = rows[rows["storage_condition"] == self.storage]
        lots = rows.drop_duplicates("lot_id")
        options = [(f"{lot} ({LotType(t).label})" if t in {x.value for x in LotType} else str(lot), str(lot))
                   for lot, t in zip(lots["lot_id"], lots["lot_type"], strict=True)]
        self.set_trait("lot_options", options)
        ids = [v for _l, v in options]
        if self._lots_in != self.dataset:  # another data set: the lots ticked there before, else all its lots
            self._lots_in = self.dataset
            kept = [lot for lot in self._lots_of.get(self.dataset, []) if lot in ids]
        else:
            kept = [lot for lot in self.lots if lot in ids]
        self.lots = kept if kept else ids
        read = storage_category_from_text(self.storage or None)
        if read is None:
            first = f"frozen: no extrapolation (the temperature of '{self.storage or 'no condition'}' cannot be read)"
        else:
            first = f"{STORAGE_WORDS[read]} (read from the storage condition): {_allowance_words(read)}"
        self.set_trait("storage_category_options",
                       [(first, "")] + [(f"{STORAGE_WORDS[c]}: {_allowance_words(c)}", c.value) for c in StorageCategory])
        if self.storage != self._storage_for:
            self._storage_for = self.storage
            self.storage_category = ""

    def follow_decisions(self, session: Session) -> None:
        """The same data, new decisions: a commercial criterion accepted meanwhile fills limits left empty, and
        the limit's source is said again; other decisions change nothing."""
        before = accepted_criterion(self.session, self.attribute) if self.attribute else None
        self.session = session
        after = accepted_criterion(session, self.attribute) if self.attribute else None
        if (before and before.id) == (after and after.id) or not self.dataset_options:
            return
        if not self.lower_limit.strip() and not self.upper_limit.strip():
            self._default_limits()  # recomputes through the limit observers
        else:
            self.recompute()

    def _default_limits(self) -> None:
        """The accepted commercial criterion's limits, or empty ones to enter."""
        criterion = accepted_criterion(self.session, self.attribute) if self.attribute else None
        usable = criterion is not None and (criterion.unit == self.unit or not self.unit)
        self.lower_limit = limit_text(criterion.low) if usable and criterion else ""
        self.upper_limit = limit_text(criterion.high) if usable and criterion else ""

    # -- deriving the results --------------------------------------------------------------
    @observe("lots")
    def _remember_lots(self, change: dict[str, Any]) -> None:
        if self._lots_in == self.dataset:
            self._lots_of[self.dataset] = list(change["new"])

    @observe("lots", "lower_limit", "upper_limit", "direction", "log_transform", "storage_category")
    def _on_choice(self, _change: dict[str, Any]) -> None:
        if not self._busy:
            self.recompute()

    @observe("claim")
    def _on_claim(self, change: dict[str, Any]) -> None:
        if self._drafting:
            return
        self._claim_typed = bool(str(change["new"]).strip())
        if not self._busy:
            self.recompute()

    def limits(self) -> tuple[float | None, float | None]:
        """The limits in the boxes; the accepted criterion's own numbers when the boxes show them (rounded)."""
        low = parse_number(self.lower_limit, "lower acceptance limit", self.unit)
        high = parse_number(self.upper_limit, "upper acceptance limit", self.unit)
        criterion = accepted_criterion(self.session, self.attribute)
        if (criterion is not None and (criterion.unit == self.unit or not self.unit)
                and same_limit(low, criterion.low) and same_limit(high, criterion.high)):
            return criterion.low, criterion.high
        return low, high

    def limit_note(self) -> tuple[str, str, str | None]:
        """(source, the sentence saying which limit is used and why, the criterion's decision id)."""
        spec = get_attribute(self.attribute)
        criterion = accepted_criterion(self.session, self.attribute)
        low, high = self.limits()
        if criterion is None:
            return "entered", (f"Acceptance limit entered on this page: no commercial criterion has been accepted for "
                               f"{spec.label} on the Commercial specifications page."), None
        accepted = limits_text(criterion.low, criterion.high, criterion.unit)
        if criterion.unit != self.unit and self.unit:
            return "entered", (f"Acceptance limit entered on this page: the commercial criterion accepted for "
                               f"{spec.label} ({accepted}) is in {criterion.unit}, the stability data in "
                               f"{self.unit}."), None
        if (low, high) == (criterion.low, criterion.high):
            return "commercial_criterion", (f"Acceptance limit from the commercial criterion you accepted for "
                                            f"{spec.label} on the Commercial specifications page: {accepted} "
                                            f"({criterion.method}, {criterion.n} lots)."), criterion.id
        return "entered", (f"Acceptance limit entered on this page, in place of the commercial criterion accepted "
                           f"for {spec.label} ({accepted})."), None

    def _limit_hint(self) -> str:
        spec = get_attribute(self.attribute)
        if accepted_criterion(self.session, self.attribute) is None:
            return (f"No commercial criterion has been accepted for {spec.label} on the Commercial specifications "
                    "page; one accepted there is used here.")
        return "The commercial criterion accepted for it is in another unit, so it is not used."

    def compute(self) -> StabilityView:
        """The analysis for the current choices; a :class:`CgtkitError` says why there is none."""
        if not self.dataset_options:
            raise InsufficientDataError(self.problem or "The workbook holds no stability data.")
        if not self.lots:
            raise InsufficientDataError("Choose at least one lot: the shelf life is estimated from the lots ticked.")
        frame = self.frame()
        chosen = frame[frame["lot_id"].astype(str).isin(self.lots)]
        data = stability_data(chosen, self.attribute, storage_condition=self.storage or None)
        source, note, criterion_id = self.limit_note()
        low, high = self.limits()
        claim = (parse_number(self.claim, "shelf life to claim", data.time_unit.value, example="18")
                 if self._claim_typed else None)
        if claim is not None and claim <= 0:
            raise CgtkitError(f"The shelf life to claim must be more than 0 {data.time_unit.value}; got {claim:g}.")
        options = dict(lower_limit=low, upper_limit=high, direction=self.direction or None,
                       log_transform=self.log_transform, storage=self.storage_category or None)
        try:
            analysis = analyse_stability(data, **options)
        except CgtkitError as exc:
            if low is None and high is None:
                raise _NeedsLimit(f"{exc} {self._limit_hint()}") from None
            raise
        drafted = claim is None
        if drafted:
            claim = round_down(analysis.supported_shelf_life) or None
        if claim is not None:
            analysis = analyse_stability(data, **options, proposed_shelf_life=claim)
        types = tuple(dict.fromkeys(LotType(t) for t in data.rows["lot_type"] if t in {x.value for x in LotType}))
        return StabilityView(analysis=analysis, dataset=self.dataset, lot_types=types, limit_source=source,
                             limit_note=note, criterion_id=criterion_id, claim=claim, claim_drafted=drafted)

    def recompute(self, _change: Any = None) -> None:
        try:
            view = self.compute()
        except CgtkitError as exc:
            waiting = isinstance(exc, _NeedsLimit) and self.view is None
            kept = " The figure and tables below still show the previous estimate." if self.view else ""
            with self.hold_trait_notifications():
                self.set_trait("problem_kind", "info" if waiting else "error")
                self.set_trait("problem", f"{exc}{kept}")
            return
        if view.claim_drafted:  # before the view: the box shows the draft before the results that come with it
            self._drafting = True
            try:
                self.claim = _text(view.claim)
            finally:
                self._drafting = False
        with self.hold_trait_notifications():
            self.set_trait("problem", "")
            self.set_trait("problem_kind", "error")
            self.set_trait("view", view)

    # -- the decision ----------------------------------------------------------------------
    def default_justification(self) -> str:
        view = self.view
        if view is None:
            return ""
        a = view.analysis
        r, unit, spec = a.result, a.time_unit.value, a.data.spec
        bound = ("two-sided" if r.sided == 2 else "one-sided") + f" {r.confidence_level:.0%} confidence bound"
        limits = limits_text(a.lower_limit, a.upper_limit, a.data.unit)
        met = (f"meets {limits} at {fmt_amount(r.shelf_life)} {unit}" if math.isfinite(r.shelf_life)
               else f"does not meet {limits} within the data")
        who = f" (lot {r.governing_lot} governs)" if r.governing_lot else ""
        types = ", ".join(t.label for t in view.lot_types)
        text = (f"A shelf life of {_text(view.claim)} {unit} for {spec.label} stored at "
                f"{a.data.storage_condition or 'the stated condition'}, from {a.lots_text} ({types}) of data "
                f"set {view.dataset}, by ICH Q1E. {r.poolability.reason} The {bound} on the mean regression line"
                f"{' (log scale: exponential decay)' if r.log_transform else ''} {met}{who}. ")
        if a.few_lots_warning:
            text += a.few_lots_warning + " "
        if r.beyond_allowance:
            text += (f"The estimate extrapolates beyond the {r.data_span:g} {unit} of data further than ICH Q1E "
                     f"allows for {STORAGE_WORDS[a.storage]} storage, so the claim is kept to "
                     f"{fmt_amount(r.supported_shelf_life)} {unit} at most; the Q1E allowances are a small-molecule convention "
                     "whose transfer to cell and gene therapies is for discussion with FDA. ")
        text += ("The clinical lots represent the commercial process and container closure (to be shown), and "
                 "stability studies continue on commercial lots. To be discussed with FDA before it is relied on.")
        return text

    def decision(self, justification: str, flexibility_id: str | None = None) -> ShelfLifeDecision:
        view = self.view
        if view is None or self.problem:
            raise InsufficientDataError("Nothing to accept yet: fix the message of the stability section first.")
        if not justification.strip():
            raise InsufficientDataError("Write a justification (the draft can be edited, not left empty).")
        a = view.analysis
        r = a.result
        tests = {t.term: t.pvalue for t in r.poolability.tests}
        return ShelfLifeDecision(
            page=PAGE_ID, flexibility_id=flexibility_id or STABILITY_FLEXIBILITIES[0][1], dataset=view.dataset,
            attribute=a.data.spec.id, unit=a.data.unit, storage_condition=a.data.storage_condition,
            storage_category=a.storage.value, lot_ids=a.data.lots, lot_types=view.lot_types or (LotType.CLINICAL,),
            regression=r.model, chosen_by=r.model_chosen_by, slopes_pvalue=tests.get("slopes"),
            intercepts_pvalue=tests.get("intercepts"), pooling_alpha=r.poolability.alpha, direction=a.direction.value,
            sided=r.sided, confidence_level=r.confidence_level, log_transform=r.log_transform,
            lower_limit=a.lower_limit, upper_limit=a.upper_limit, limit_source=view.limit_source,
            limit_decision_id=view.criterion_id, time_unit=a.time_unit.value, data_span=r.data_span,
            shelf_life=r.shelf_life if math.isfinite(r.shelf_life) else None, governing_lot=r.governing_lot,
            allowed_shelf_life=r.allowed_shelf_life, supported_shelf_life=r.supported_shelf_life,
            claimed_shelf_life=view.claim, method=r.method, justification=justification.strip(),
        )


class _NeedsLimit(InsufficientDataError):
    """No limit has been entered yet: the section waits for one."""


def _allowance_words(category: StorageCategory) -> str:
    factor, beyond = category.allowance
    if factor <= 1.0:
        return "no extrapolation beyond the data (ICH Q1E)"
    return f"up to {factor:g}× the period covered, at most {beyond:g} months beyond it (ICH Q1E)"


# ---------------------------------------------------------------------------------------------------------
# Samples and release time


@dataclass(frozen=True)
class SamplesView:
    """What the samples section shows for one set of inputs."""

    lot: Lot
    comparison: BudgetComparison
    tests: pd.DataFrame  # one row per test of the product: values, units, sources


class SamplesModel(Quietly, HasTraits):
    """The lot, the test edits and the plans compared; the budgets derived from them."""

    product = Unicode("car_t")
    product_options = List(Tuple(Unicode(), Unicode()), read_only=True)
    start = Unicode("", help="Where the lot's values start from: an example lot id, or 'profile'.")
    start_options = List(Tuple(Unicode(), Unicode()), read_only=True)
    volume_ml = Float(0.0)
    final_containers = Int(1)
    dose = Float(0.0)
    dose_unit = Unicode(AmountUnit.ML.value)
    cells_per_ml = Float(0.0, help="0: not given.")
    doses = Int(1)
    shelf_life = Float(0.0)
    shelf_life_unit = Unicode("hours")
    sources = Dict(read_only=True, help="Lot field -> where its value came from.")
    retention_containers = Int(1)
    edits = Dict(help="Test id -> {'amount' | 'containers' | 'time': value}: the user's changes to shipped values.")
    plan_to_record = Unicode("")
    plan_options = List(Tuple(Unicode(), Unicode()), read_only=True)

    view = AnyTrait(None, allow_none=True, read_only=True)
    problem = Unicode("", read_only=True)
    problem_kind = Unicode("error", read_only=True, help="'info' when the section waits for an input, else 'error'.")

    #: The user's inputs, kept beside the workbook (:mod:`cgtkit.ui.page_inputs`), in the order they are set.
    INPUTS: ClassVar[tuple[str, ...]] = ("product", "start", *LOT_FIELDS, "retention_containers", "edits",
                                         "plan_to_record")
    INPUT_OPTIONS: ClassVar[dict[str, str]] = {"plan_to_record": "plan_options"}

    def __init__(self, session: Session) -> None:
        super().__init__()
        self._busy = False
        self.session = session
        content = load_release_tests()
        products = list(dict.fromkeys(e.product for e in content.example_lots))
        self.set_trait("product_options", [(PRODUCT_LABELS.get(p, p), p) for p in products])
        with self.quietly():
            self.product = self._profile_product(products)
            self._follow_product()
        self.recompute()

    def restored(self, names: set[str]) -> None:
        """Lot values restored are the user's: their source says so."""
        entered = dict.fromkeys(sorted(names & set(LOT_FIELDS)), "entered on this page")
        self.set_trait("sources", {**self.sources, **entered})
        self.recompute()

    def _profile_product(self, products: list[str]) -> str:
        """The shipped product that matches the profile's modality (its example data set), else the first."""
        profile = self.session.profile
        example = None
        if profile is not None:
            try:
                example = profile.product_type.example_dataset
            except (CgtkitError, KeyError):
                example = None
        for p in products:
            if example and example.startswith(p):
                return p
        return products[0]

    def use_session(self, session: Session) -> None:
        """A changed workbook: the profile may now know the lot."""
        self.session = session
        self._start_options()

    def _start_options(self) -> None:
        content = load_release_tests()
        options = [(f"example: {e.label}", e.id)
                   for e in content.example_lots if e.product == self.product]
        profile = self.session.profile
        knows = profile is not None and any(v is not None for v in (
            profile.lot_volume_ml, profile.final_containers_per_lot, profile.doses_per_lot))
        if knows:  # the profile describes the lot: start there, the example filling what it does not say
            options.insert(0, (f"your product profile: {profile.name}", FROM_PROFILE))
        self.set_trait("start_options", options)

    @observe("product")
    def _on_product(self, _change: dict[str, Any]) -> None:
        if self._busy:
            return
        with self.quietly():
            self._follow_product()
        self.recompute()

    def _follow_product(self) -> None:
        self._start_options()
        self.edits = {}
        values = [v for _l, v in self.start_options]
        start = values[0] if values else ""
        if start == self.start:
            self._load_start()
        else:
            self.start = start
            self._load_start()
        plans = plans_for(self.product)
        self.set_trait("plan_options", [(p.label, p.id) for p in plans])

    @observe("start")
    def _on_start(self, _change: dict[str, Any]) -> None:
        if self._busy:
            return
        with self.quietly():
            self._load_start()
        self.recompute()

    def _load_start(self) -> None:
        """Set the lot's values from the chosen start, each with its source."""
        content = load_release_tests()
        examples = [e for e in content.example_lots if e.product == self.product]
        example = next((e for e in examples if e.id == self.start), examples[0] if examples else None)
        if example is None:
            raise InsufficientDataError(f"No example lot for {self.product} in release_tests.yaml.")
        shipped = "example lot (an assumption to replace)"
        values: dict[str, Any] = {
            "volume_ml": example.volume.value, "final_containers": int(example.final_containers.value),
            "dose": example.dose.value, "dose_unit": example.dose.unit,
            "cells_per_ml": example.cells_per_ml.value if example.cells_per_ml else 0.0, "doses": example.doses,
            "shelf_life": example.shelf_life.value, "shelf_life_unit": example.shelf_life.unit,
        }
        sources = dict.fromkeys(LOT_FIELDS, shipped)
        profile = self.session.profile
        if self.start == FROM_PROFILE and profile is not None:
            known = {"volume_ml": profile.lot_volume_ml, "final_containers": profile.final_containers_per_lot,
                     "doses": profile.doses_per_lot, "shelf_life": profile.shelf_life_days}
            for key, value in known.items():
                if value is not None:
                    values[key] = value
                    sources[key] = "your product profile"
            values["shelf_life_unit"] = "days"
            sources["shelf_life_unit"] = "your product profile"
            if profile.lot_volume_ml is not None:  # the profile has no dose: the example's would be a guess
                values.update(dose=0.0, dose_unit=AmountUnit.ML.value, cells_per_ml=0.0)
                sources.update(dose=TO_ENTER, dose_unit=NOT_IN_PROFILE, cells_per_ml=NOT_IN_PROFILE)
        with self.hold_trait_notifications():
            for key, value in values.items():
                setattr(self, key, value)
            self.set_trait("sources", sources)

    @observe(*LOT_FIELDS)
    def _on_lot_field(self, change: dict[str, Any]) -> None:
        if self._busy:
            return
        entered = {change["name"]: "entered on this page"}
        if change["name"] == "dose" and self.sources.get("dose_unit") == NOT_IN_PROFILE:
            entered["dose_unit"] = "entered on this page"  # the dose was entered in the unit shown
        self.set_trait("sources", {**self.sources, **entered})
        self.recompute()

    @observe("retention_containers", "edits")
    def _on_rule(self, _change: dict[str, Any]) -> None:
        if not self._busy:
            self.recompute()

    # -- the budget --------------------------------------------------------------------------
    def lot(self) -> Lot:
        content = load_release_tests()
        example = next((e for e in content.example_lots if e.id == self.start), None)
        label = (self.session.profile.name if self.start == FROM_PROFILE and self.session.profile
                 else example.label if example else "Lot")
        return Lot(label=label, volume_ml=self.volume_ml, final_containers=self.final_containers, dose=self.dose,
                   dose_unit=self.dose_unit, cells_per_ml=self.cells_per_ml or None, doses=self.doses,
                   shelf_life=self.shelf_life, shelf_life_unit=self.shelf_life_unit)

    def tests(self) -> dict[str, ReleaseTest]:
        """The shipped tests with the user's edits applied."""
        tests = release_tests()
        entries = {e.id: e for e in load_release_tests().tests}
        for test_id, edit in self.edits.items():
            t, entry = tests[test_id], entries[test_id]
            try:
                sample = t.sample
                if "amount" in edit:
                    sample = dataclasses.replace(sample, amount=edit["amount"])
                if "containers" in edit:
                    sample = dataclasses.replace(sample, containers=edit["containers"])
                hours = (convert_time(_time_value(edit["time"], t.label), entry.time_to_result.unit, "hours")
                         if "time" in edit else t.time_to_result_hours)
                tests[test_id] = dataclasses.replace(t, sample=sample, time_to_result_hours=hours)
            except CgtkitError as exc:
                raise CgtkitError(f"{t.label}: {exc}") from None
        return tests

    def plans(self) -> list[ReleasePlan]:
        tests = self.tests()
        return [dataclasses.replace(p, tests=tuple(tests[t.id] for t in p.tests),
                                    retention_containers=self.retention_containers)
                for p in plans_for(self.product)]

    def tests_frame(self, tests: dict[str, ReleaseTest], lot: Lot) -> pd.DataFrame:
        """One row per test the product's plans use: the value shown, its unit, and where it came from."""
        entries = {e.id: e for e in load_release_tests().tests}
        used = list(dict.fromkeys(t.id for p in plans_for(self.product) for t in p.tests))
        shipped = release_tests()
        rows = []
        for test_id in [e for e in entries if e in used]:
            e, t = entries[test_id], tests[test_id]
            edit = self.edits.get(test_id, {})
            if e.sample.rule == "usp71":
                kind, value, unit = "containers", t.sample.containers, "container(s) tested"
                source = (f"USP <71> quantity per medium for the fill volume; media: {_provenance(e.sample.media, False)}"
                          f"; containers: {_provenance(e.sample.containers, 'containers' in edit)}")
                extra = t.sample.describe(lot)
            else:
                kind, value, unit = "amount", t.sample.amount, t.sample.unit.value
                source = _provenance(e.sample.amount, "amount" in edit)
                extra = f"× {t.sample.count:g} {e.sample.count.unit}" if e.sample.count else ""
                if e.sample.count:
                    source += f"; the count ({e.sample.count.unit}): {_provenance(e.sample.count, False)}"
            time_value = convert_time(t.time_to_result_hours, "hours", e.time_to_result.unit)
            rows.append({
                "id": test_id, "label": t.label, "method": t.method, "measures": t.measures,
                "alternative_to": shipped[t.alternative_to].label if t.alternative_to else "",
                "plans": _plans_using(test_id, plans_for(self.product)),
                "sample_kind": kind, "sample_value": float(value), "sample_unit": unit, "sample_extra": extra,
                "sample_ml": t.sample.amount_ml(lot) if t.material == "final_product" else 0.0,
                "sample_source": source,
                "time_value": time_value, "time_unit": e.time_to_result.unit,
                "time_source": _provenance(e.time_to_result, "time" in edit),
                "reserve_exempt": t.reserve_exempt, "reserve_source": _provenance(e.reserve_exempt, False),
                "negative_to_date": t.negative_to_date,
            })
        return pd.DataFrame(rows)

    def _where(self, fields: list[str]) -> str:
        """Where each of these lot values came from, in one sentence."""
        by_source: dict[str, list[str]] = {}
        for key in fields:
            by_source.setdefault(self.sources.get(key, "entered on this page"), []).append(LOT_FIELD_NAMES[key])
        return "Where they come from: " + "; ".join(f"{', '.join(names)}: {source}"
                                                    for source, names in by_source.items()) + "."

    def compute(self) -> SamplesView:
        if self.sources.get("dose") == TO_ENTER and self.dose == 0:
            raise _NeedsDose(f"Your product profile gives the lot volume ({fmt_amount(self.volume_ml)} mL) but not "
                             "one patient's dose, and the example lot's dose may not fit your lot. Enter the dose in "
                             "'Dose per patient' (in mL, or in cells with 'Cells per mL') to see the budget.")
        if self.retention_containers < 1:
            raise CgtkitError("21 CFR 600.13 asks for at least one final container of each lot; enter 1 or more "
                              "retained containers (plans without retention leave them out themselves).")
        if self.shelf_life_unit not in TIME_UNITS:
            raise CgtkitError(f"The shelf-life unit must be one of {', '.join(TIME_UNITS)}.")
        try:
            lot = self.lot()
        except DoseLargerThanLot as exc:
            fields = ["volume_ml", "dose"] + (["cells_per_ml"] if self.dose_unit == AmountUnit.CELLS.value else [])
            fields += ["doses"] if self.doses > 1 else []
            raise CgtkitError(f"{exc} {self._where(fields)}") from None
        tests = self.tests()
        comparison = compare_plans(lot, self.plans())
        return SamplesView(lot=lot, comparison=comparison, tests=self.tests_frame(tests, lot))

    def recompute(self, _change: Any = None) -> None:
        try:
            view = self.compute()
        except CgtkitError as exc:
            kept = " The tables and figures below still show the previous budget." if self.view else ""
            with self.hold_trait_notifications():
                self.set_trait("problem_kind", "info" if isinstance(exc, _NeedsDose) else "error")
                self.set_trait("problem", f"{exc}{kept}")
            return
        with self.hold_trait_notifications():
            self.set_trait("problem", "")
            self.set_trait("problem_kind", "error")
            self.set_trait("view", view)
            ids = [b.plan_id for b in view.comparison.budgets]
            if self.plan_to_record not in ids:
                self.plan_to_record = _preferred(view.comparison.budgets)

    def set_edit(self, test_id: str, key: str, value: float) -> None:
        """Change one shipped value of one test (amount, containers or time)."""
        edit = {**self.edits.get(test_id, {}), key: value}
        self.edits = {**self.edits, test_id: edit}

    # -- the decision -----------------------------------------------------------------------
    def budget(self) -> SampleBudget:
        if self.view is None:
            raise InsufficientDataError("Nothing to accept yet: fix the message of the samples section first.")
        return self.view.comparison.budget(self.plan_to_record)

    def default_justification(self) -> str:
        if self.view is None or self.plan_to_record not in {b.plan_id for b in self.view.comparison.budgets}:
            return ""
        b = self.budget()
        lot = self.view.lot
        others = [o for o in self.view.comparison.budgets if o.plan_id != b.plan_id]
        text = (f"Release testing of {lot.label} ({lot.volume_ml:g} mL in {lot.final_containers} final container(s); "
                f"patient dose {fmt_amount(b.dose_ml)} mL; shelf life {_hours(b.shelf_life_hours)}) under the plan "
                f"'{b.plan_label}': testing, reserve and retention samples take {fmt_amount(b.consumed_ml)} mL "
                f"({b.consumed_share:.1%} of the lot), the dose {'fits' if b.dose_fits else 'does not fit'}, and the "
                f"lot is released at {_hours(b.time_to_release_hours)}"
                + (f", leaving {_hours(b.hours_left_at_release)} of shelf life. " if b.release_within_shelf_life
                   else ", after the end of its shelf life. "))
        for o in others:
            text += (f"Under '{o.plan_label}' {o.consumed_share:.1%} of the lot would be consumed, the dose "
                     f"{'would fit' if o.dose_fits else 'would not fit'}, and release would come at "
                     f"{_hours(o.time_to_release_hours)}. ")
        if b.physician_notification:
            text += ("Sterility is released on a negative-to-date result; its final result comes after release, "
                     "with a plan to notify the treating physician of a positive result. ")
        text += ("Alternative methods are validated for their intended use and shown to give equal or greater "
                 "assurance (21 CFR 610.9, 610.12); any exception from reserve or retention samples is requested "
                 "from FDA (21 CFR 600.13: the CBER Director). Sample volumes and times marked as assumptions are "
                 "replaced by the laboratory's validated values. To be discussed with FDA before it is relied on.")
        return text

    def decision(self, justification: str, flexibility_id: str | None = None) -> TestingPlanDecision:
        b = self.budget()
        if self.problem:
            raise InsufficientDataError("Nothing to accept yet: fix the message of the samples section first.")
        if not justification.strip():
            raise InsufficientDataError("Write a justification (the draft can be edited, not left empty).")
        view = self.view
        plan = next(p for p in self.plans() if p.id == b.plan_id)
        by_id = {t.id: t for t in plan.tests}
        tests = tuple(PlanTest(
            test_id=ln.test_id, label=ln.label, measures=ln.measures, sample_ml=ln.sample_ml, reserve_ml=ln.reserve_ml,
            time_to_result_hours=ln.time_to_result_hours, holds_release=ln.holds_release,
            pending_at_release=ln.pending_at_release, alternative_to=by_id[ln.test_id].alternative_to,
            edited=ln.test_id in self.edits, assumed=ln.assumed) for ln in b.lines)
        compared = tuple(PlanOutcome(plan_id=o.plan_id, plan_label=o.plan_label, consumed_share=o.consumed_share,
                                     dose_fits=o.dose_fits, time_to_release_hours=o.time_to_release_hours,
                                     release_within_shelf_life=o.release_within_shelf_life)
                         for o in view.comparison.budgets if o.plan_id != b.plan_id)
        return TestingPlanDecision(
            page=PAGE_ID, flexibility_id=flexibility_id or TESTING_FLEXIBILITIES[0][1], product=self.product,
            lot_label=view.lot.label, volume_ml=b.volume_ml, final_containers=view.lot.final_containers,
            dose_ml=b.dose_ml, shelf_life_hours=b.shelf_life_hours if math.isfinite(b.shelf_life_hours) else None,
            plan_id=b.plan_id, plan_label=b.plan_label, tests=tests, reserve_211_170b=plan.reserve_211_170b,
            retention_600_13=plan.retention_600_13,
            retention_containers=plan.retention_containers if plan.retention_600_13 else 0,
            release_on_negative_to_date=plan.release_on_negative_to_date, tests_ml=b.tests_ml, reserve_ml=b.reserve_ml,
            retention_ml=b.retention_ml, consumed_ml=b.consumed_ml, consumed_share=b.consumed_share,
            dose_fits=b.dose_fits, time_to_release_hours=b.time_to_release_hours,
            release_within_shelf_life=b.release_within_shelf_life, physician_notification=b.physician_notification,
            compared=compared, method=f"sample and release-time budget of plan '{b.plan_label}' "
                                      "(21 CFR 211.170(b), 600.13; USP <71> quantities)",
            justification=justification.strip(),
        )


class _NeedsDose(InsufficientDataError):
    """The profile gave the lot volume but no dose: the section waits for one."""


def _plans_using(test_id: str, plans: list[ReleasePlan]) -> str:
    using = [p.label for p in plans if test_id in {t.id for t in p.tests}]
    return "all plans" if len(using) == len(plans) > 1 else ", ".join(using)


def _preferred(budgets: tuple[SampleBudget, ...]) -> str:
    """The plan drafted for recording: feasible with reserve and retention kept, else feasible, else the first."""
    feasible = [b for b in budgets if b.feasible]
    keeps = [b for b in feasible if b.retention_ml > 0 or b.reserve_ml > 0]
    return (keeps or feasible or list(budgets))[0].plan_id


def _time_value(value: object, label: str) -> float:
    number = float(value)  # type: ignore[arg-type]
    if not math.isfinite(number) or number < 0:
        raise CgtkitError(f"the time to result must be a finite number of 0 or more; got {value!r}. Enter how long "
                          "the test takes to give its final result.")
    return number


def _provenance(value: Any, edited: bool) -> str:
    """Where a shipped value comes from: its source, or 'assumption'; 'entered on this page' once edited."""
    if edited:
        return "entered on this page"
    if value is None:
        return ""
    parts = ["assumption (editable)"] if value.assumption else []
    if value.source:
        parts.append(value.source)
    text = "; ".join(parts)
    return text + (" [to verify]" if value.verify else "")


def _hours(hours: float) -> str:
    return "no limit" if math.isinf(hours) else fmt_duration(hours)


class StabilitySamplesModel:
    """The page's two sections over one workbook."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.stability = StabilityModel(session)
        self.samples = SamplesModel(session)

    @property
    def page_id(self) -> str:
        return PAGE_ID

    def use_session(self, session: Session) -> None:
        self.session = session
        self.stability.use_session(session)
        self.samples.use_session(session)

    def set_session(self, session: Session) -> None:
        """The same data, new decisions or profile (a decision recorded here or elsewhere)."""
        self.session = session
        self.stability.follow_decisions(session)
        self.samples.use_session(session)
