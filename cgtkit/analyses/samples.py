"""The sample and release-time budget of a small lot: what testing and reserves consume, and when it can ship.

A CAR-T lot made for one patient may hold little more than that patient's
dose, and a fresh cell product may live for hours. Conventional release
testing then meets two hard limits: its samples and the reserve and retention
samples the regulations require can eat the dose, and its slowest test (a
28-day mycoplasma culture, a 14-day sterility test) can outlast the product.
The flexibilities for small lots answer both (CS-RESERVE-SAMPLES,
CS-ALT-METHODS, CS-AMV-FEWER-LOTS); this module does the arithmetic so the
plans can be compared side by side.

Per lot (:class:`Lot`): the product available (volume, final containers,
cells per mL), the patient's dose and the shelf life. Per test
(:class:`ReleaseTest`): its sample (a fixed amount, or the USP <71> quantity
for the container's fill volume), time to result, whether it is exempt from
the reserve rule, and whether the lot may be released on an interim negative
result. Per plan (:class:`ReleasePlan`): the tests and the reserve and
retention rules applied. The rules:

* 21 CFR 211.170(b): a reserve of twice the quantity needed for all the
  required tests, except those for sterility and pyrogens;
* 21 CFR 600.13: retention of representative material of each lot, at least
  one final container (an exception is the CBER Director's to grant);
* release on "no growth to date": a test allowed it does not hold release;
  its final result comes later, and a plan to notify the treating physician
  is then needed.

Time to release is the longest time to result among the tests that hold
release, plus the disposition time (all tests start together at the end of
manufacture). Every number of the shipped table (``data/release_tests.yaml``)
carries its source or is marked as an assumption to replace; the budget is
only as good as those numbers.

References
----------
.. [1] 21 CFR 211.170 (Reserve samples), 600.13 (Retention samples),
   610.9 (Equivalent methods and processes), 610.12 (Sterility).
.. [2] USP <71> Sterility Tests (minimum quantity for each medium); USP <63>
   Mycoplasma Tests; Ph. Eur. 2.6.7 (Mycoplasmas) and 2.6.27
   (Microbiological examination of cell-based preparations).

Examples
--------
>>> comparison = example_comparison("car_t")
>>> [(b.plan_label, round(b.consumed_share, 3), b.dose_fits, b.time_to_release_hours) for b in comparison.budgets]
... # doctest: +NORMALIZE_WHITESPACE
[('Conventional', 0.947, False, 676.0), ('Alternative methods', 0.391, True, 28.0),
 ('Alternative methods, reserve exception', 0.026, True, 28.0)]
>>> usp71_quantity_per_medium(50.0), usp71_quantity_per_medium(30.0), usp71_quantity_per_medium(500.0)
(20.0, 15.0, 50.0)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cgtkit.datafiles import load_model, repeated_ids
from cgtkit.errors import CatalogError, CgtkitError, entry_label, problem_sentence
from cgtkit.stats.stability import TIME_UNITS, convert_time

__all__ = [
    "RELEASE_TESTS_FILE",
    "AmountUnit",
    "BudgetComparison",
    "BudgetLine",
    "DoseLargerThanLot",
    "Lot",
    "ReleasePlan",
    "ReleaseTest",
    "SampleBudget",
    "SampleRule",
    "budget_sentences",
    "compare_plans",
    "example_comparison",
    "example_lot",
    "fmt_amount",
    "fmt_duration",
    "load_release_tests",
    "plans_for",
    "release_plan",
    "release_tests",
    "release_tests_table",
    "sample_budget",
    "usp71_quantity_per_medium",
]

RELEASE_TESTS_FILE = "release_tests.yaml"


class AmountUnit(StrEnum):
    """Units of product: volume, cells, or whole final containers."""

    ML = "mL"
    CELLS = "cells"
    CONTAINERS = "containers"


def usp71_quantity_per_medium(fill_ml: float) -> float:
    """USP <71>'s minimum quantity (mL) for each medium from one container of a liquid of ``fill_ml`` mL.

    Less than 1 mL: the whole contents; 1 to 40 mL: half the contents, at
    least 1 mL; over 40 to 100 mL: 20 mL; over 100 mL: 10 %, at least 20 mL.
    """
    fill = float(fill_ml)
    if fill < 1.0:
        return fill
    if fill <= 40.0:
        return max(fill / 2.0, 1.0)
    if fill <= 100.0:
        return 20.0
    return max(0.1 * fill, 20.0)


def _nonnegative(value: float, what: str, fix: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise CgtkitError(f"{what} must be a number; got {value!r}. {fix}") from None
    if not math.isfinite(number) or number < 0:
        raise CgtkitError(f"{what} must be a finite number of 0 or more; got {value!r}. {fix}")
    return number


def _positive(value: float, what: str, fix: str, unit: str = "") -> float:
    """A number above 0: 0 and negative numbers get the same sentence ("must be more than 0 mL; got -150")."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise CgtkitError(f"{what} must be a number; got {value!r}. {fix}") from None
    if not (math.isfinite(number) and number > 0):
        raise CgtkitError(f"{what} must be more than 0{' ' + unit if unit else ''}; got {number:g}. {fix}")
    return number


class DoseLargerThanLot(CgtkitError):
    """The patient doses need more product than the whole lot holds: an input to correct, not a budget."""

    def __init__(self, message: str, dose_ml: float, volume_ml: float) -> None:
        super().__init__(message)
        self.dose_ml, self.volume_ml = dose_ml, volume_ml


def _whole(value: float, what: str, minimum: int) -> int:
    number = _nonnegative(value, what, f"Enter a whole number of at least {minimum}.")
    if number != int(number) or number < minimum:
        raise CgtkitError(f"{what} must be a whole number of at least {minimum}; got {value!r}.")
    return int(number)


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def fmt_amount(value: float) -> str:
    """An amount as the budget writes it: three significant digits, thousands in full with a separator, very
    large or small numbers as m×10ⁿ; never e-notation (a lot of 2,000 mL, a dose of 2.5×10⁸ cells).

    >>> fmt_amount(83.333), fmt_amount(1974.4), fmt_amount(2.5e8), fmt_amount(0.5), fmt_amount(0)
    ('83.3', '1,974', '2.5×10⁸', '0.5', '0')
    """
    if not math.isfinite(value):
        return "—"
    magnitude = abs(value)
    if magnitude == 0 or 1e-3 <= magnitude < 1000:
        return f"{value:.3g}"
    if magnitude < 1e6:
        return f"{value:,.0f}"
    exponent = math.floor(math.log10(magnitude))
    mantissa = float(f"{value / 10**exponent:.3g}")
    if abs(mantissa) >= 10:  # 9.996e8 rounds to 10.0
        mantissa, exponent = mantissa / 10, exponent + 1
    return f"{mantissa:g}×10{str(exponent).translate(_SUPERSCRIPT)}"


def fmt_duration(hours: float) -> str:
    """A duration in words: hours below four days, else days.

    >>> fmt_duration(28), fmt_duration(676), fmt_duration(26298), fmt_duration(float("inf"))
    ('28 h', '28.2 days', '1,096 days', 'never')
    """
    if not math.isfinite(hours):
        return "never"
    if hours < 96:
        return f"{fmt_amount(hours)} h"
    return f"{fmt_amount(hours / 24.0)} days"


_hours = fmt_duration


# -- typed inputs ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lot:
    """One lot's product and the clock it runs on.

    Attributes
    ----------
    label : str
    volume_ml : float
        Product volume in the final containers (> 0).
    final_containers : int
        Number of final containers (bags, vials); >= 1.
    dose : float
        One patient's dose, in ``dose_unit`` (> 0).
    dose_unit : AmountUnit
        ``mL``, ``cells`` (needs ``cells_per_ml``) or ``containers``.
    cells_per_ml : float, optional
        Concentration of the dose unit (e.g. CAR+ viable T cells per mL).
    doses : int
        Patient doses the lot must supply (autologous: 1).
    shelf_life : float
        From the end of manufacture, in ``shelf_life_unit``.
    shelf_life_unit : str
        minutes, hours, days or months.
    """

    label: str
    volume_ml: float
    final_containers: int
    dose: float
    dose_unit: AmountUnit | str = AmountUnit.ML
    cells_per_ml: float | None = None
    doses: int = 1
    shelf_life: float = math.inf
    shelf_life_unit: str = "hours"

    def __post_init__(self) -> None:
        name = f"Lot '{self.label}'"
        object.__setattr__(self, "volume_ml", _positive(self.volume_ml, f"{name}: the volume",
                                                        "Enter the product volume in the final containers.", "mL"))
        object.__setattr__(self, "final_containers", _whole(self.final_containers,
                                                            f"{name}: the number of final containers", 1))
        try:
            object.__setattr__(self, "dose_unit", AmountUnit(self.dose_unit))
        except ValueError:
            raise CgtkitError(f"{name}: the dose unit must be mL, cells or containers; got {self.dose_unit!r}.") from None
        object.__setattr__(self, "dose", _positive(self.dose, f"{name}: the dose", "Enter one patient's dose.",
                                                   self.dose_unit.value))
        object.__setattr__(self, "doses", _whole(self.doses, f"{name}: the number of doses", 1))
        if self.cells_per_ml is not None:
            object.__setattr__(self, "cells_per_ml", _positive(self.cells_per_ml, f"{name}: cells per mL",
                                                               "Enter the concentration, or leave it empty."))
        if self.dose_unit is AmountUnit.CELLS and self.cells_per_ml is None:
            raise CgtkitError(f"{name}: a dose in cells needs the concentration (cells per mL) to find its volume; "
                              "enter cells_per_ml, or give the dose in mL.")
        if str(self.shelf_life_unit).lower() not in TIME_UNITS:
            raise CgtkitError(f"{name}: the shelf-life unit must be one of {', '.join(TIME_UNITS)}; got "
                              f"{self.shelf_life_unit!r}.")
        if not (isinstance(self.shelf_life, (int, float)) and self.shelf_life == math.inf):
            object.__setattr__(self, "shelf_life", _positive(self.shelf_life, f"{name}: the shelf life",
                                                             "Enter the shelf life from the end of manufacture.",
                                                             str(self.shelf_life_unit).lower()))
        if self.dose_ml > self.volume_ml * (1 + 1e-9):
            need = (f"{self.doses} patient doses ({self.dose_text()} = {fmt_amount(self.dose_ml)} mL) need"
                    if self.doses > 1 else f"the patient dose ({self.dose_text()}) needs")
            fields = ["the lot volume", "the dose"] + (["its concentration (cells per mL)"]
                                                       if self.dose_unit is AmountUnit.CELLS else [])
            fields += ["the doses per lot"] if self.doses > 1 else []
            raise DoseLargerThanLot(
                f"{name}: {need} more than the whole lot ({fmt_amount(self.volume_ml)} mL), so no release plan "
                f"can leave it. Correct {', '.join(fields[:-1])} or {fields[-1]}.", self.dose_ml, self.volume_ml)

    def dose_text(self) -> str:
        """One dose in its own unit and in mL: '2.5×10⁸ cells at 3×10⁶ cells/mL = 83.3 mL'."""
        ml = fmt_amount(self.to_ml(self.dose, self.dose_unit))
        if self.dose_unit is AmountUnit.CELLS:
            text = f"{fmt_amount(self.dose)} cells at {fmt_amount(self.cells_per_ml or 0)} cells/mL = {ml} mL"
        elif self.dose_unit is AmountUnit.ML:
            text = f"{ml} mL"
        else:
            text = f"{fmt_amount(self.dose)} container(s) of {fmt_amount(self.container_ml)} mL = {ml} mL"
        return text + (f" per dose × {self.doses} doses" if self.doses > 1 else "")

    @property
    def container_ml(self) -> float:
        """The fill volume of one final container (volume / containers)."""
        return self.volume_ml / self.final_containers

    def to_ml(self, amount: float, unit: AmountUnit | str) -> float:
        """An amount of product in mL."""
        unit = AmountUnit(unit)
        if unit is AmountUnit.ML:
            return float(amount)
        if unit is AmountUnit.CONTAINERS:
            return float(amount) * self.container_ml
        if self.cells_per_ml is None:
            raise CgtkitError(f"Lot '{self.label}': an amount in cells needs the concentration (cells per mL); "
                              "enter cells_per_ml or give the amount in mL.")
        return float(amount) / self.cells_per_ml

    @property
    def dose_ml(self) -> float:
        """The volume the patient doses need."""
        return self.doses * self.to_ml(self.dose, self.dose_unit)

    @property
    def shelf_life_hours(self) -> float:
        if self.shelf_life == math.inf:
            return math.inf
        return convert_time(self.shelf_life, str(self.shelf_life_unit).lower(), "hours")


@dataclass(frozen=True)
class SampleRule:
    """How much product a test takes.

    ``kind="fixed"``: ``amount`` (in ``unit``) times ``count`` (bottles,
    replicates). ``kind="usp71"``: USP <71>'s quantity per medium for the
    lot's container fill volume, times ``media`` and ``containers``; it may
    exceed one container.
    """

    kind: Literal["fixed", "usp71"] = "fixed"
    amount: float = 0.0
    unit: AmountUnit | str = AmountUnit.ML
    count: float = 1
    media: int = 2
    containers: int = 1

    def __post_init__(self) -> None:
        if self.kind not in ("fixed", "usp71"):
            raise ValueError(f"SampleRule.kind must be 'fixed' or 'usp71'; got {self.kind!r}.")
        object.__setattr__(self, "amount", _nonnegative(self.amount, "A test's sample amount",
                                                        "Enter the amount the test takes (0 or more)."))
        object.__setattr__(self, "count", _nonnegative(self.count, "A test's sample count",
                                                       "Enter how many aliquots the test takes."))
        try:
            object.__setattr__(self, "unit", AmountUnit(self.unit))
        except ValueError:
            raise CgtkitError(f"A sample amount's unit must be mL, cells or containers; got {self.unit!r}.") from None
        if self.kind == "usp71":
            object.__setattr__(self, "media", _whole(self.media, "The number of sterility media", 1))
            object.__setattr__(self, "containers", _whole(self.containers, "The number of containers tested", 1))

    def amount_ml(self, lot: Lot) -> float:
        if self.kind == "usp71":
            return usp71_quantity_per_medium(lot.container_ml) * self.media * self.containers
        return lot.to_ml(self.amount, self.unit) * self.count

    def describe(self, lot: Lot) -> str:
        """The sample in words, e.g. ``'0.5 mL × 2'`` or ``'USP <71>: 20 mL × 2 media × 1 container'``."""
        if self.kind == "usp71":
            q = usp71_quantity_per_medium(lot.container_ml)
            return (f"USP <71>: {fmt_amount(q)} mL × {self.media} media × {self.containers} container"
                    f"{'s' if self.containers != 1 else ''} ({fmt_amount(lot.container_ml)} mL fill)")
        amount = f"{fmt_amount(self.amount)} {self.unit.value}"
        return amount if self.count == 1 else f"{amount} × {self.count:g}"


@dataclass(frozen=True)
class ReleaseTest:
    """One release test.

    Attributes
    ----------
    id, label : str
    measures : str
        The attribute or quality aspect the test covers.
    sample : SampleRule
    time_to_result_hours : float
        From the start of testing to a final result.
    reserve_exempt : bool
        Sterility and pyrogen tests: left out of the 211.170(b) reserve.
    negative_to_date : bool
        The lot may be released on an interim negative result.
    alternative_to : str, optional
        The conventional test this one may replace.
    material : {"final_product", "in_process"}
        In-process samples do not consume final product.
    method : str
    assumptions : tuple of str
        The values that are assumptions (``"sample"``, ``"time_to_result"`` ...).
    sources : tuple of str
        The sources of the sourced values.
    """

    id: str
    label: str
    measures: str
    sample: SampleRule
    time_to_result_hours: float
    reserve_exempt: bool = False
    negative_to_date: bool = False
    alternative_to: str | None = None
    material: Literal["final_product", "in_process"] = "final_product"
    method: str = ""
    assumptions: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "time_to_result_hours", _nonnegative(
            self.time_to_result_hours, f"Test '{self.label}': the time to result (hours)",
            "Enter how long the test takes to give its final result."))
        if self.material not in ("final_product", "in_process"):
            raise ValueError(f"ReleaseTest.material must be 'final_product' or 'in_process'; got {self.material!r}.")


@dataclass(frozen=True)
class ReleasePlan:
    """A set of release tests and the reserve and retention rules applied to a lot."""

    id: str
    label: str
    tests: tuple[ReleaseTest, ...]
    reserve_211_170b: bool = True
    retention_600_13: bool = True
    retention_containers: int = 1
    release_on_negative_to_date: bool = False
    disposition_hours: float = 0.0
    description: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "tests", tuple(self.tests))
        object.__setattr__(self, "retention_containers", _whole(
            self.retention_containers, f"Plan '{self.label}': the number of retained containers", 1))
        object.__setattr__(self, "disposition_hours", _nonnegative(
            self.disposition_hours, f"Plan '{self.label}': the disposition time (hours)",
            "Enter the time QA needs after the last result."))
        ids = [t.id for t in self.tests]
        if len(set(ids)) != len(ids):
            raise CgtkitError(f"Plan '{self.label}' lists a test twice; list each test once.")


# -- the budget -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetLine:
    """What one test takes from the lot and when its result comes."""

    test_id: str
    label: str
    measures: str
    sample: str
    sample_ml: float
    reserve_ml: float
    share: float  # (sample + reserve) / lot volume
    time_to_result_hours: float
    holds_release: bool
    pending_at_release: bool
    result_after_shelf_life: bool
    alternative: bool
    assumed: bool


@dataclass(frozen=True)
class SampleBudget:
    """A lot under one release plan: the share consumed, whether the dose fits, and time to release.

    Attributes
    ----------
    plan_id, plan_label, lot_label : str
    volume_ml : float
    lines : tuple of BudgetLine
    tests_ml, reserve_ml, retention_ml, consumed_ml : float
        Samples for testing; the 211.170(b) reserve; the 600.13 retention; their sum.
    consumed_share : float
        ``consumed_ml / volume_ml`` (may exceed 1: the plan cannot be carried out on this lot).
    remaining_ml, dose_ml : float
    dose_fits : bool
        ``remaining_ml >= dose_ml``.
    time_to_release_hours, shelf_life_hours : float
    release_within_shelf_life : bool
    hours_left_at_release : float
        Shelf life left for shipment and administration (negative when none).
    physician_notification : bool
        A result comes after release: a plan to notify the treating physician is needed.
    notes : tuple of str
    """

    plan_id: str
    plan_label: str
    lot_label: str
    volume_ml: float
    lines: tuple[BudgetLine, ...]
    tests_ml: float
    reserve_ml: float
    retention_ml: float
    consumed_ml: float
    consumed_share: float
    remaining_ml: float
    dose_ml: float
    dose_fits: bool
    time_to_release_hours: float
    shelf_life_hours: float
    release_within_shelf_life: bool
    hours_left_at_release: float
    physician_notification: bool
    notes: tuple[str, ...] = field(default=())

    @property
    def feasible(self) -> bool:
        """The dose fits and the lot is released within its shelf life."""
        return self.dose_fits and self.release_within_shelf_life

    def to_frame(self) -> pd.DataFrame:
        """One row per test (the :class:`BudgetLine` fields) plus the plan."""
        cols = list(BudgetLine.__dataclass_fields__)
        frame = pd.DataFrame([{c: getattr(line, c) for c in cols} for line in self.lines], columns=cols)
        frame.insert(0, "plan", self.plan_label)
        return frame

    def summary(self) -> dict[str, object]:
        """The totals as a mapping (for a table row or a decision record)."""
        return {
            "plan": self.plan_label, "lot": self.lot_label, "volume_ml": self.volume_ml,
            "tests_ml": self.tests_ml, "reserve_ml": self.reserve_ml, "retention_ml": self.retention_ml,
            "consumed_ml": self.consumed_ml, "consumed_share": self.consumed_share,
            "remaining_ml": self.remaining_ml, "dose_ml": self.dose_ml, "dose_fits": self.dose_fits,
            "time_to_release_hours": self.time_to_release_hours, "shelf_life_hours": self.shelf_life_hours,
            "release_within_shelf_life": self.release_within_shelf_life,
            "hours_left_at_release": self.hours_left_at_release,
            "physician_notification": self.physician_notification, "feasible": self.feasible,
        }


def sample_budget(lot: Lot, plan: ReleasePlan) -> SampleBudget:
    """The sample and release-time budget of ``lot`` under ``plan``.

    Examples
    --------
    >>> lot = Lot("one bag", volume_ml=40, final_containers=1, dose=30, shelf_life=9, shelf_life_unit="months")
    >>> sterility = ReleaseTest("st", "Sterility", "sterility", SampleRule("usp71"), 336, reserve_exempt=True)
    >>> b = sample_budget(lot, ReleasePlan("p", "Compendial", (sterility,)))
    >>> b.tests_ml, b.retention_ml, b.dose_fits
    (40.0, 40.0, False)
    """
    volume = lot.volume_ml
    shelf = lot.shelf_life_hours
    holds = {t.id: not (plan.release_on_negative_to_date and t.negative_to_date) for t in plan.tests}
    held = [t.time_to_result_hours for t in plan.tests if holds[t.id]]
    release = (max(held) if held else 0.0) + plan.disposition_hours
    lines = []
    for t in plan.tests:
        consumes = t.material == "final_product"
        sample = t.sample.amount_ml(lot) if consumes else 0.0
        reserve = 2.0 * sample if (plan.reserve_211_170b and not t.reserve_exempt and consumes) else 0.0
        pending = not holds[t.id] and t.time_to_result_hours > release
        lines.append(BudgetLine(
            test_id=t.id, label=t.label, measures=t.measures,
            sample=t.sample.describe(lot) if consumes else "in-process sample", sample_ml=sample, reserve_ml=reserve,
            share=(sample + reserve) / volume, time_to_result_hours=t.time_to_result_hours,
            holds_release=holds[t.id], pending_at_release=pending,
            result_after_shelf_life=t.time_to_result_hours > shelf, alternative=t.alternative_to is not None,
            assumed=bool(t.assumptions),
        ))
    tests_ml = sum(line.sample_ml for line in lines)
    reserve_ml = sum(line.reserve_ml for line in lines)
    retention_ml = plan.retention_containers * lot.container_ml if plan.retention_600_13 else 0.0
    consumed = tests_ml + reserve_ml + retention_ml
    remaining = volume - consumed
    dose_ml = lot.dose_ml
    fits = remaining >= dose_ml - 1e-9 * volume
    within = release <= shelf
    pending = [line for line in lines if line.pending_at_release]

    notes = [f"Testing takes {fmt_amount(tests_ml)} mL, reserve samples {fmt_amount(reserve_ml)} mL and retention "
             f"{fmt_amount(retention_ml)} mL: {fmt_amount(consumed)} mL of the lot's {fmt_amount(volume)} mL "
             f"({consumed / volume:.1%})."]
    if fits:
        notes.append(f"The patient dose ({fmt_amount(dose_ml)} mL) fits in what is left ({fmt_amount(remaining)} mL).")
    else:
        left = f"{fmt_amount(remaining)} mL is left" if remaining > 0 else "nothing is left"
        notes.append(f"The patient dose ({fmt_amount(dose_ml)} mL) does not fit: {left}.")
    if plan.retention_600_13 and lot.final_containers <= plan.retention_containers:
        notes.append("Retaining a final container (21 CFR 600.13) would take the lot's only container, the "
                     "patient's dose: an exception, which the CBER Director may grant, is needed (CS-RESERVE-SAMPLES).")
    if not plan.reserve_211_170b or not plan.retention_600_13:
        missing = [name for name, kept in (("reserve samples (21 CFR 211.170(b))", plan.reserve_211_170b),
                                           ("retention samples (21 CFR 600.13)", plan.retention_600_13)) if not kept]
        notes.append(f"No {' or '.join(missing)}: this needs FDA's exception for a small or individualized lot "
                     "(CS-RESERVE-SAMPLES); an exception under 600.13 is the CBER Director's to grant, not the "
                     "sponsor's.")
    alternatives = [t.label for t in plan.tests if t.alternative_to is not None]
    if alternatives:
        notes.append(f"Alternative methods ({', '.join(alternatives)}): for a licensed product 21 CFR 610.9 "
                     "requires a showing of equal or greater assurance, in the BLA or a supplement, and CBER's "
                     "written approval; sterility methods must be validated (21 CFR 610.12) (CS-ALT-METHODS).")
    if within:
        notes.append(f"Released at {_hours(release)}, within the shelf life of {_hours(shelf)}, leaving "
                     f"{_hours(shelf - release)} for shipment and administration.")
    else:
        slowest = max((t for t in plan.tests if holds[t.id]), key=lambda t: t.time_to_result_hours, default=None)
        why = f"; {slowest.label} alone takes {_hours(slowest.time_to_result_hours)}" if slowest else ""
        notes.append(f"Release at {_hours(release)} comes after the end of the shelf life ({_hours(shelf)}){why}. "
                     "The lot cannot be released in time under this plan.")
    for line in pending:
        after_shelf = f", after the end of the shelf life ({_hours(shelf)})" if line.result_after_shelf_life else ""
        notes.append(f"{line.label}: released on a negative-to-date result; the final result comes at "
                     f"{_hours(line.time_to_result_hours)}, after release ({_hours(release)}){after_shelf}. A plan "
                     "to notify the treating physician of a positive result is needed.")
    assumed = [line.label for line in lines if line.assumed]
    if assumed:
        notes.append(f"{len(assumed)} of the {len(lines)} tests use assumed values (marked in the table); replace "
                     "them with your laboratory's.")
    return SampleBudget(
        plan_id=plan.id, plan_label=plan.label, lot_label=lot.label, volume_ml=volume, lines=tuple(lines),
        tests_ml=tests_ml, reserve_ml=reserve_ml, retention_ml=retention_ml, consumed_ml=consumed,
        consumed_share=consumed / volume, remaining_ml=remaining, dose_ml=dose_ml, dose_fits=bool(fits),
        time_to_release_hours=release, shelf_life_hours=shelf, release_within_shelf_life=bool(within),
        hours_left_at_release=shelf - release, physician_notification=bool(pending), notes=tuple(notes),
    )


@dataclass(frozen=True)
class BudgetComparison:
    """Several plans for one lot, side by side."""

    lot: Lot
    budgets: tuple[SampleBudget, ...]

    def budget(self, plan_id: str) -> SampleBudget:
        for b in self.budgets:
            if b.plan_id == plan_id:
                return b
        raise KeyError(f"No plan {plan_id!r}; plans: {', '.join(b.plan_id for b in self.budgets)}.")

    def to_frame(self) -> pd.DataFrame:
        """One row per measure, one column per plan (its label): the side-by-side table."""
        rows = [
            ("Product consumed (mL)", "consumed_ml"), ("Share of the lot consumed", "consumed_share"),
            ("Testing samples (mL)", "tests_ml"), ("Reserve samples, 211.170(b) (mL)", "reserve_ml"),
            ("Retention, 600.13 (mL)", "retention_ml"), ("Left after testing (mL)", "remaining_ml"),
            ("Patient dose (mL)", "dose_ml"), ("Dose fits", "dose_fits"),
            ("Time to release (hours)", "time_to_release_hours"), ("Shelf life (hours)", "shelf_life_hours"),
            ("Released within shelf life", "release_within_shelf_life"),
            ("Shelf life left at release (hours)", "hours_left_at_release"),
            ("Physician-notification plan needed", "physician_notification"), ("Feasible", "feasible"),
        ]
        data: dict[str, list[object]] = {"measure": [label for label, _ in rows]}
        for b in self.budgets:
            summary = b.summary()
            data[b.plan_label] = [summary[key] for _, key in rows]
        return pd.DataFrame(data)

    def lines_frame(self) -> pd.DataFrame:
        """Every plan's test lines in one tidy table (column ``plan``)."""
        return pd.concat([b.to_frame() for b in self.budgets], ignore_index=True)


def compare_plans(lot: Lot, plans: Iterable[ReleasePlan]) -> BudgetComparison:
    """The budget of ``lot`` under each plan, for a side-by-side comparison."""
    return BudgetComparison(lot=lot, budgets=tuple(sample_budget(lot, p) for p in plans))


# -- the shipped table: data/release_tests.yaml ------------------------------------------------------------


class SourcedValue(BaseModel):
    """A number with where it comes from: a ``source``, or ``assumption: true`` (an editable placeholder)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    value: float = Field(allow_inf_nan=False)
    unit: str = Field(min_length=1)
    source: str | None = None
    assumption: bool = False
    verify: bool = False
    note: str | None = None

    @field_validator("value")
    @classmethod
    def _not_negative(cls, value: float) -> float:
        if value < 0:
            raise ValueError(f"must be 0 or more (an amount, a count or a time cannot be negative); got {value:g}")
        return value

    @model_validator(mode="after")
    def _provenance(self) -> SourcedValue:
        if not (self.source and self.source.strip()) and not self.assumption:
            raise ValueError("give the value's source, or mark it 'assumption: true'")
        return self


class SourcedFlag(BaseModel):
    """A yes/no with its source or ``assumption: true``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    value: bool
    source: str | None = None
    assumption: bool = False
    verify: bool = False
    note: str | None = None

    @model_validator(mode="after")
    def _provenance(self) -> SourcedFlag:
        if not (self.source and self.source.strip()) and not self.assumption:
            raise ValueError("give the value's source, or mark it 'assumption: true'")
        return self


class SampleEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    rule: Literal["fixed", "usp71"] = "fixed"
    amount: SourcedValue | None = None
    count: SourcedValue | None = None
    media: SourcedValue | None = None
    containers: SourcedValue | None = None

    @model_validator(mode="after")
    def _by_rule(self) -> SampleEntry:
        if self.rule == "fixed":
            if self.amount is None:
                raise ValueError("a fixed sample needs 'amount' (value, unit mL, cells or containers, source)")
            if self.amount.unit not in {u.value for u in AmountUnit}:
                raise ValueError(f"amount.unit must be mL, cells or containers; got '{self.amount.unit}'")
            if self.media is not None or self.containers is not None:
                raise ValueError("'media' and 'containers' belong to rule: usp71; remove them or change the rule")
        else:
            if self.media is None or self.containers is None:
                raise ValueError("rule: usp71 needs 'media' and 'containers'")
            if self.amount is not None or self.count is not None:
                raise ValueError("rule: usp71 computes the amount; remove 'amount' and 'count'")
        return self

    def to_rule(self) -> SampleRule:
        if self.rule == "usp71":
            assert self.media is not None and self.containers is not None
            return SampleRule("usp71", media=int(self.media.value), containers=int(self.containers.value))
        assert self.amount is not None
        return SampleRule("fixed", amount=self.amount.value, unit=self.amount.unit,
                          count=self.count.value if self.count else 1)

    def values(self) -> list[SourcedValue]:
        return [v for v in (self.amount, self.count, self.media, self.containers) if v is not None]


def _time_value(value: SourcedValue | None, where: str) -> SourcedValue | None:
    if value is not None and value.unit not in TIME_UNITS:
        raise ValueError(f"{where}.unit must be one of {', '.join(TIME_UNITS)}; got '{value.unit}'")
    return value


class ReleaseTestEntry(BaseModel):
    """One test in ``release_tests.yaml``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
    label: str = Field(min_length=1)
    method: str = Field(min_length=1)
    measures: str = Field(min_length=1)
    products: tuple[str, ...] = Field(min_length=1)
    material: Literal["final_product", "in_process"] = "final_product"
    sample: SampleEntry
    time_to_result: SourcedValue
    reserve_exempt: SourcedFlag
    negative_to_date: SourcedFlag | None = None
    alternative_to: str | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _units(self) -> ReleaseTestEntry:
        _time_value(self.time_to_result, "time_to_result")
        return self

    def to_test(self) -> ReleaseTest:
        assumed = [name for name, v in (("sample", self.sample.values()), ("time_to_result", [self.time_to_result]),
                                        ("reserve_exempt", [self.reserve_exempt]),
                                        ("negative_to_date", [self.negative_to_date] if self.negative_to_date else []))
                   if any(x.assumption for x in v)]
        sources = [x.source for x in (*self.sample.values(), self.time_to_result, self.reserve_exempt,
                                      *([self.negative_to_date] if self.negative_to_date else [])) if x.source]
        return ReleaseTest(
            id=self.id, label=self.label, measures=self.measures, sample=self.sample.to_rule(),
            time_to_result_hours=convert_time(self.time_to_result.value, self.time_to_result.unit, "hours"),
            reserve_exempt=self.reserve_exempt.value,
            negative_to_date=bool(self.negative_to_date and self.negative_to_date.value),
            alternative_to=self.alternative_to, material=self.material, method=self.method,
            assumptions=tuple(assumed), sources=tuple(dict.fromkeys(sources)),
        )


class PlanEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
    label: str = Field(min_length=1)
    product: str = Field(min_length=1)
    description: str = Field(min_length=1)
    tests: tuple[str, ...] = Field(min_length=1)
    reserve_211_170b: bool
    retention_600_13: bool
    retention_containers: int = Field(default=1, ge=1)
    release_on_negative_to_date: bool = False
    disposition: SourcedValue

    @model_validator(mode="after")
    def _units(self) -> PlanEntry:
        _time_value(self.disposition, "disposition")
        return self


class LotEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
    label: str = Field(min_length=1)
    product: str = Field(min_length=1)
    volume: SourcedValue
    final_containers: SourcedValue
    cells_per_ml: SourcedValue | None = None
    dose: SourcedValue
    doses: int = Field(default=1, ge=1)
    shelf_life: SourcedValue

    @model_validator(mode="after")
    def _units(self) -> LotEntry:
        if self.volume.unit != "mL":
            raise ValueError(f"volume.unit must be mL; got '{self.volume.unit}'")
        if self.volume.value <= 0:
            raise ValueError("volume.value must be more than 0")
        if self.final_containers.value < 1 or self.final_containers.value != int(self.final_containers.value):
            raise ValueError("final_containers.value must be a whole number of at least 1")
        if self.dose.unit not in {u.value for u in AmountUnit}:
            raise ValueError(f"dose.unit must be mL, cells or containers; got '{self.dose.unit}'")
        if self.dose.unit == "cells" and self.cells_per_ml is None:
            raise ValueError("a dose in cells needs cells_per_ml")
        _time_value(self.shelf_life, "shelf_life")
        return self

    def to_lot(self) -> Lot:
        return Lot(
            label=self.label, volume_ml=self.volume.value, final_containers=int(self.final_containers.value),
            dose=self.dose.value, dose_unit=self.dose.unit,
            cells_per_ml=self.cells_per_ml.value if self.cells_per_ml else None, doses=self.doses,
            shelf_life=self.shelf_life.value, shelf_life_unit=self.shelf_life.unit,
        )


class ReleaseTestsFile(BaseModel):
    """The contents of ``data/release_tests.yaml``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tests: tuple[ReleaseTestEntry, ...] = Field(min_length=1)
    plans: tuple[PlanEntry, ...] = ()
    example_lots: tuple[LotEntry, ...] = ()


def _cross_checks(where: str, content: ReleaseTestsFile) -> list[str]:
    known = {t.id for t in content.tests}
    problems = repeated_ids(where, list(content.tests)) + repeated_ids(where, list(content.plans))
    problems += repeated_ids(where, list(content.example_lots))
    for i, t in enumerate(content.tests):
        if t.alternative_to is not None and t.alternative_to not in known:
            problems.append(problem_sentence(f"'{t.alternative_to}' is not a test id of this file",
                                             where=where, entry=f"tests, {entry_label(i, t)}", field="alternative_to"))
    for i, p in enumerate(content.plans):
        for test_id in p.tests:
            if test_id not in known:
                problems.append(problem_sentence(f"'{test_id}' is not a test id of this file; correct its spelling",
                                                 where=where, entry=f"plans, {entry_label(i, p)}", field="tests"))
    return problems


@lru_cache(maxsize=8)
def load_release_tests(path: str | Path | None = None) -> ReleaseTestsFile:
    """Load and validate ``release_tests.yaml`` (cached per path; do not modify the result).

    Raises
    ------
    cgtkit.errors.CatalogError
        The file is missing or invalid (a negative volume, a value with
        neither a source nor ``assumption: true``, an unknown test id ...);
        the message names the entry and the field.
    """
    source = Path(path) if path is not None else RELEASE_TESTS_FILE
    content = load_model(source, ReleaseTestsFile)
    problems = _cross_checks(Path(source).name, content)
    if problems:
        raise CatalogError(" ".join(problems))
    return content


def release_tests(*, path: str | Path | None = None) -> dict[str, ReleaseTest]:
    """The shipped tests, keyed by id, in file order."""
    return {t.id: t.to_test() for t in load_release_tests(path).tests}


def release_plan(plan_id: str, *, path: str | Path | None = None) -> ReleasePlan:
    """A shipped plan with its tests."""
    content = load_release_tests(path)
    tests = release_tests(path=path)
    for p in content.plans:
        if p.id == plan_id:
            return ReleasePlan(
                id=p.id, label=p.label, tests=tuple(tests[t] for t in p.tests), reserve_211_170b=p.reserve_211_170b,
                retention_600_13=p.retention_600_13, retention_containers=p.retention_containers,
                release_on_negative_to_date=p.release_on_negative_to_date,
                disposition_hours=convert_time(p.disposition.value, p.disposition.unit, "hours"),
                description=p.description,
            )
    raise KeyError(f"No plan {plan_id!r} in {RELEASE_TESTS_FILE}; plans: {', '.join(p.id for p in content.plans)}.")


def plans_for(product: str, *, path: str | Path | None = None) -> list[ReleasePlan]:
    """The shipped plans of one example product, in file order."""
    return [release_plan(p.id, path=path) for p in load_release_tests(path).plans if p.product == product]


def example_lot(lot_id: str, *, path: str | Path | None = None) -> Lot:
    """A shipped example lot (every number an assumption to replace)."""
    for entry in load_release_tests(path).example_lots:
        if entry.id == lot_id:
            return entry.to_lot()
    known = ", ".join(e.id for e in load_release_tests(path).example_lots)
    raise KeyError(f"No example lot {lot_id!r} in {RELEASE_TESTS_FILE}; lots: {known}.")


def example_comparison(product: str = "car_t", *, path: str | Path | None = None) -> BudgetComparison:
    """The shipped example lot of ``product`` under each of its shipped plans."""
    lots = [e for e in load_release_tests(path).example_lots if e.product == product]
    if not lots:
        raise KeyError(f"No example lot for product {product!r} in {RELEASE_TESTS_FILE}.")
    return compare_plans(lots[0].to_lot(), plans_for(product, path=path))


def _provenance(value: SourcedValue | SourcedFlag | None) -> str:
    if value is None:
        return ""
    text = "assumption (editable)" if value.assumption else ""
    if value.source:
        text = f"{text}; {value.source}" if text else value.source
    if value.verify:
        text += " [to verify]"
    return text


def release_tests_table(product: str | None = None, *, path: str | Path | None = None) -> pd.DataFrame:
    """The shipped table of release tests, each value with its source or marked as an assumption."""
    rows = []
    for t in load_release_tests(path).tests:
        if product is not None and product not in t.products:
            continue
        s = t.sample
        if s.rule == "usp71":
            sample = f"USP <71> quantity per medium × {s.media.value:g} media × {s.containers.value:g} container(s)"  # type: ignore[union-attr]
        else:
            sample = f"{s.amount.value:g} {s.amount.unit}" + (f" × {s.count.value:g} {s.count.unit}" if s.count else "")  # type: ignore[union-attr]
        rows.append({
            "id": t.id, "label": t.label, "method": t.method, "measures": t.measures, "material": t.material,
            "sample": sample, "sample_source": "; ".join(_provenance(v) for v in s.values()),
            "time_to_result": t.time_to_result.value, "time_unit": t.time_to_result.unit,
            "time_source": _provenance(t.time_to_result), "reserve_exempt": t.reserve_exempt.value,
            "reserve_source": _provenance(t.reserve_exempt),
            "negative_to_date": bool(t.negative_to_date and t.negative_to_date.value),
            "alternative_to": t.alternative_to or "",
            "assumption": any(v.assumption for v in (*s.values(), t.time_to_result, t.reserve_exempt)),
        })
    cols = ["id", "label", "method", "measures", "material", "sample", "sample_source", "time_to_result",
            "time_unit", "time_source", "reserve_exempt", "reserve_source", "negative_to_date", "alternative_to",
            "assumption"]
    return pd.DataFrame(rows, columns=cols)


def budget_sentences(budgets: Sequence[SampleBudget]) -> list[str]:
    """One sentence per plan, for a page's summary."""
    out = []
    for b in budgets:
        verdict = "feasible" if b.feasible else "not feasible"
        out.append(f"{b.plan_label}: {b.consumed_share:.0%} of the lot consumed, dose "
                   f"{'fits' if b.dose_fits else 'does not fit'}, released at {_hours(b.time_to_release_hours)} "
                   f"of {_hours(b.shelf_life_hours)} shelf life: {verdict}.")
    return out
