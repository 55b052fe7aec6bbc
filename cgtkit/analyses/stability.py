"""Shelf life from clinical-lot stability data (CS-STABILITY-CLINICAL-LOTS), at the time scale of the product.

A long-format stability data set (:func:`cgtkit.io.load_lots`) + one
attribute's metadata (:class:`cgtkit.attributes.AttributeSpec`) + the user's
choices (acceptance limit, direction of change, storage) go in; a call of
:func:`cgtkit.stats.stability.q1e_shelf_life` is made on the numbers; a typed
:class:`StabilityAnalysis` comes out. The policies live here:

* **Time.** One unit per data set, among minutes, hours, days and months
  (fresh cells live for hours, frozen products for months; in-use and
  post-thaw windows take minutes to hours). :func:`cgtkit.io.load_lots` gives
  each time point in its file's own unit (``timepoint``) with the unit stated
  (``time_unit``); a table built otherwise names the unit by its time column
  (``timepoint_months``, ``timepoint_hours`` ...) or by ``time_unit=``. Two
  units in one data set are refused, never converted silently.
* **Direction of change.** The attribute's ``stability_direction`` in
  ``data/attributes.yaml`` when it has one (viability and potency fall,
  aggregates rise); else the attribute's limit side (a lower limit: the
  attribute falls; an upper: it rises; two-sided: unknown, and the confidence
  interval is two-sided), said to be an assumption; the user may choose.
* **Scale.** Attributes analysed on the log scale (titers, potency by
  concentration) are regressed on the natural logarithm, i.e. exponential
  decay, and the result says so.
* **Extrapolation.** ICH Q1E's allowances by storage (room temperature: up
  to twice the period covered, at most 12 months beyond it, when the data are
  analysed statistically; refrigerated: 1.5 times, at most 6 months beyond;
  frozen: none, the long-term data only). They are read from the storage
  condition's temperature unless given. They are a Q1E convention for
  small-molecule products; ICH Q5C asks biotechnology products for real-time,
  real-temperature data, and how either transfers to a cell or gene therapy
  is for discussion with FDA.

References
----------
.. [1] ICH Q1E (2003). *Evaluation for Stability Data*.
.. [2] ICH Q5C (1995). *Quality of Biotechnological Products: Stability
   Testing of Biotechnological/Biological Products*.

Examples
--------
>>> from cgtkit.io import load_lots
>>> from cgtkit.datafiles import data_dir
>>> frame = load_lots(data_dir() / "examples" / "car_t_stability.csv")
>>> data = stability_data(frame, "viability")
>>> data.time_unit, data.n_lots, data.storage_condition
(<TimeUnit.MONTHS: 'months'>, 4, '≤ -150 °C (LN2 vapour phase)')
>>> a = analyse_stability(data, lower_limit=80.0)
>>> a.result.model, a.governing_lot, round(a.shelf_life, 1), a.storage.value
('separate', 'CT25-005', 12.9, 'frozen')
>>> a.result.poolability.to_frame()[["term", "pvalue"]].round(3).values.tolist()
[['slopes', 0.096], ['intercepts', 0.0]]
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

from cgtkit.attributes import AttributeSpec, get_attribute
from cgtkit.errors import CgtkitError, InsufficientDataError, LotDataError
from cgtkit.stats.stability import (
    MODEL_LABELS,
    POOLED_LINE,
    ShelfLifeResult,
    convert_time,
    q1e_shelf_life,
)
from cgtkit.vocab import AttributeKind, LimitSide, LotType, Scale

__all__ = [
    "DEFAULT_TIME_COLUMN",
    "MIN_LOTS",
    "MIN_LOTS_BASIS",
    "MIN_LOTS_SOURCE",
    "Direction",
    "StabilityAnalysis",
    "StabilityData",
    "StorageCategory",
    "TimeUnit",
    "analyse_stability",
    "observed_frame",
    "stability_data",
    "storage_category_from_text",
]

DEFAULT_TIME_COLUMN = "timepoint_months"
#: :func:`cgtkit.io.load_lots` gives time points in the file's own unit here, with the unit in ``time_unit``.
STATED_TIME_COLUMN = "timepoint"
TIME_UNIT_COLUMN = "time_unit"
_POSITION = "_position"  # a row's position in the table given, for messages
#: The lots the guidelines expect behind a shelf life: fewer give an estimate, not a claim they expect.
MIN_LOTS = 3
MIN_LOTS_SOURCE = ("ICH Q1E (2003, Appendix B) bases a shelf life on testing at least three batches, and ICH Q5C "
                   "(1995) expects at least three for biotechnological products")
#: The grade of that expectation's basis (a :data:`cgtkit.catalog.BASIS_LABELS` key): FDA-adopted ICH guidelines.
MIN_LOTS_BASIS = "final_guidance"
SINGLE_LOT_MODEL = "one lot: a single regression line; no poolability test"


class TimeUnit(StrEnum):
    """The unit of a stability data set's time points (one per data set)."""

    MINUTES = "minutes"
    HOURS = "hours"
    DAYS = "days"
    MONTHS = "months"

    @classmethod
    def from_column(cls, column: str) -> TimeUnit | None:
        """The unit a column's name states (``timepoint_hours`` -> hours), or None.

        >>> TimeUnit.from_column("timepoint_hours"), TimeUnit.from_column("time")
        (<TimeUnit.HOURS: 'hours'>, None)
        """
        for unit in cls:
            if column.lower().endswith("_" + unit.value) or column.lower().endswith("_" + unit.value[:-1]):
                return unit
        return None


class Direction(StrEnum):
    """How an attribute changes on storage; decides the side of the confidence bound."""

    DECREASE = "decrease"
    INCREASE = "increase"
    UNKNOWN = "unknown"

    @classmethod
    def default_for(cls, spec: AttributeSpec) -> tuple[Direction, str]:
        """The attribute's recorded direction of change, else the one its limit side suggests; with the basis."""
        if spec.stability_direction is not None:
            return cls(spec.stability_direction), "as recorded in cgtkit's attribute file"
        return cls.from_limit_side(spec.limit_side), (
            f"assumed from the attribute's {spec.limit_side.value.replace('_', '-')} limit (cgtkit's attribute file "
            "records no direction of change for it)")

    @classmethod
    def from_limit_side(cls, side: LimitSide) -> Direction:
        """The default: a lower limit guards a fall, an upper limit a rise, two-sided an unknown direction."""
        return {LimitSide.LOWER: cls.DECREASE, LimitSide.UPPER: cls.INCREASE}.get(side, cls.UNKNOWN)

    @property
    def sided(self) -> int:
        return 2 if self is Direction.UNKNOWN else 1


class StorageCategory(StrEnum):
    """ICH Q1E's storage categories, which set how far a shelf life may extrapolate."""

    ROOM_TEMPERATURE = "room_temperature"
    REFRIGERATED = "refrigerated"
    FROZEN = "frozen"

    @property
    def allowance(self) -> tuple[float, float]:
        """(factor, months beyond): at most ``factor`` x the period covered and ``months`` past it."""
        return {
            StorageCategory.ROOM_TEMPERATURE: (2.0, 12.0),
            StorageCategory.REFRIGERATED: (1.5, 6.0),
            StorageCategory.FROZEN: (1.0, 0.0),
        }[self]

    @property
    def rule(self) -> str:
        return {
            StorageCategory.ROOM_TEMPERATURE: (
                "ICH Q1E, room-temperature storage with statistical analysis: up to twice the period covered by "
                "long-term data, and not more than 12 months beyond it"),
            StorageCategory.REFRIGERATED: (
                "ICH Q1E, refrigerated storage: up to 1.5 times the period covered by long-term data, and not "
                "more than 6 months beyond it"),
            StorageCategory.FROZEN: (
                "ICH Q1E, frozen storage: the shelf life rests on the long-term data, with no extrapolation"),
        }[self]


_RANGE = re.compile(r"(-?\d+(?:\.\d+)?)\s*(?:-|to)\s*(-?\d+(?:\.\d+)?)\s*°?\s*C\b", re.IGNORECASE)
_SINGLE = re.compile(r"(-?)\s*(\d+(?:\.\d+)?)\s*(?:±\s*\d+(?:\.\d+)?\s*)?°\s*C|(-?\d+(?:\.\d+)?)\s*C\b")


def storage_category_from_text(text: str | None) -> StorageCategory | None:
    """The Q1E storage category a storage condition names by its temperature, or None.

    At or below -15 °C: frozen; up to 15 °C: refrigerated; above: room temperature.

    >>> [storage_category_from_text(s).value for s in ("≤ -150 °C (LN2 vapour phase)", "2–8 °C", "25 °C/60% RH")]
    ['frozen', 'refrigerated', 'room_temperature']
    >>> storage_category_from_text("in the fridge") is None
    True
    """
    if not text or not isinstance(text, str):
        return None
    norm = text.replace("−", "-").replace("–", "-").replace("—", "-")
    found = _RANGE.search(norm)
    if found:
        celsius = max(float(found.group(1)), float(found.group(2)))
    else:
        single = _SINGLE.search(norm)
        if not single:
            return None
        celsius = float(single.group(1) + single.group(2)) if single.group(2) else float(single.group(3))
    if celsius <= -15:
        return StorageCategory.FROZEN
    if celsius <= 15:
        return StorageCategory.REFRIGERATED
    return StorageCategory.ROOM_TEMPERATURE


# -- one attribute's stability results --------------------------------------------------------------------


@dataclass(frozen=True)
class StabilityData:
    """The stability results of one attribute under one storage condition, in one time unit.

    ``rows`` has columns ``lot_id``, ``lot_type``, ``time``, ``value`` (and
    ``source_row`` when the data came from a file), one row per lot and time
    point, each lot's rows in time order.
    """

    spec: AttributeSpec
    rows: pd.DataFrame
    time_column: str
    time_unit: TimeUnit
    storage_condition: str | None
    unit: str
    time_basis: str = ""

    @property
    def lots(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.rows["lot_id"].tolist()))

    @property
    def n_lots(self) -> int:
        return len(self.lots)

    @property
    def data_span(self) -> float:
        """The last time point of all lots."""
        return float(self.rows["time"].max())


def _where(rows: pd.DataFrame, index: object) -> str:
    """A row as the user knows it: its row in the file, or its position in the table given."""
    if "source_row" in rows.columns:
        return f"row {int(rows.loc[index, 'source_row'])}"
    return f"row {int(rows.loc[index, _POSITION]) + 1} of the table"


def _time_column(frame: pd.DataFrame) -> str:
    """io's stated time points when the table has them, else the months column of older tables."""
    if {STATED_TIME_COLUMN, TIME_UNIT_COLUMN} <= set(frame.columns) and frame[STATED_TIME_COLUMN].notna().any():
        return STATED_TIME_COLUMN
    return DEFAULT_TIME_COLUMN


def _time_unit(frame: pd.DataFrame, rows: pd.DataFrame, time_column: str,
               time_unit: TimeUnit | str | None) -> tuple[TimeUnit, str]:
    """The one unit of the data set's time points, and where it is stated; two units anywhere is an error."""
    named = TimeUnit.from_column(time_column)
    given = None if time_unit is None else TimeUnit(str(time_unit).lower())
    stated: set[TimeUnit] = set()
    if TIME_UNIT_COLUMN in rows.columns:
        raw = rows[TIME_UNIT_COLUMN].dropna().astype(str).str.strip().str.lower()
        unknown = sorted(set(raw) - {u.value for u in TimeUnit})
        if unknown:
            raise CgtkitError(
                f"Column '{TIME_UNIT_COLUMN}' holds {', '.join(repr(u) for u in unknown)}; time units must be one of "
                f"{', '.join(u.value for u in TimeUnit)}. Correct the unit."
            )
        stated = {TimeUnit(u) for u in raw}
    # io converts stated time points to months as well, to tell release rows from later ones: not a second unit
    derived = {DEFAULT_TIME_COLUMN} if time_column == STATED_TIME_COLUMN and stated else set()
    others = [c for c in frame.columns
              if c != time_column and c not in derived and c.lower().startswith("timepoint_")
              and TimeUnit.from_column(c) is not None and rows[c].notna().any()]
    units = {u for u in (named, given) if u is not None} | stated
    if others or len(units) > 1:
        parts = [f"column '{time_column}' ({named.value})" if named else None,
                 f"time_unit={given.value!r}" if given else None,
                 f"column '{TIME_UNIT_COLUMN}' ({', '.join(sorted(u.value for u in stated))})" if stated else None]
        parts += [f"column '{c}'" for c in others]
        raise CgtkitError(
            "The stability data mix time units (" + "; ".join(p for p in parts if p) + "). A data set has one time "
            "unit: convert the time points to one unit (minutes, hours, days or months) and state it once."
        )
    if not units:
        raise CgtkitError(
            f"The unit of the time points in column '{time_column}' is not stated. Name the column after its unit "
            "(e.g. timepoint_hours) or pass time_unit (minutes, hours, days or months)."
        )
    basis = (f"column '{time_column}'" if named else "the data set's stated time unit" if stated
             else "as given")
    return units.pop(), basis


def stability_data(
    frame: pd.DataFrame,
    attribute: str | AttributeSpec,
    *,
    time_column: str | None = None,
    time_unit: TimeUnit | str | None = None,
    storage_condition: str | None = None,
    lot_types: Sequence[LotType | str] | None = None,
) -> StabilityData:
    """Pick one attribute's stability results and check them.

    Parameters
    ----------
    frame : pandas.DataFrame
        cgtkit's long format (:func:`cgtkit.io.load_lots`); rows without a
        time point (release results) are left out.
    attribute : str or AttributeSpec
    time_column : str, optional
        The column of time points; by default io's ``timepoint`` (with its
        ``time_unit``) when the table has it, else ``timepoint_months``.
    time_unit : TimeUnit or str, optional
        The unit, when the column's name does not state it.
    storage_condition : str, optional
        Required when the data hold more than one.
    lot_types : sequence, optional
        Keep only these lot types.

    Raises
    ------
    cgtkit.errors.CgtkitError
        Mixed or unstated time units, duplicate lot and time point rows, a
        lot's rows out of time order, a lot with a single time point, results
        that are censored, pass/fail or missing, a safety attribute, several
        storage conditions with none chosen.
    """
    spec = attribute if isinstance(attribute, AttributeSpec) else get_attribute(attribute)
    time_column = time_column or _time_column(frame)
    if time_column not in frame.columns:
        present = [c for c in frame.columns if c.lower().startswith("timepoint")]
        raise LotDataError(
            f"The data have no column '{time_column}' of stability time points"
            + (f" (time columns present: {', '.join(present)})" if present else "")
            + ". Load a stability data set, or name its time column."
        )
    if "attribute" not in frame.columns or not (frame["attribute"] == spec.id).any():
        present = sorted(frame["attribute"].dropna().unique()) if "attribute" in frame.columns else []
        raise LotDataError(f"Attribute '{spec.id}' is not in the stability data. Attributes present: "
                           f"{', '.join(present) or 'none'}.")
    if spec.kind is AttributeKind.SAFETY_FIXED:
        raise CgtkitError(
            f"{spec.label} is a safety attribute with a fixed requirement ({spec.fixed_requirement}); cgtkit does "
            "not estimate a shelf life from it. Choose a quantitative attribute."
        )
    keep = ((frame["attribute"] == spec.id) & frame[time_column].notna()).to_numpy()
    rows = frame.assign(**{_POSITION: np.arange(len(frame))})[keep].reset_index(drop=True)
    if lot_types is not None:
        rows = rows[rows["lot_type"].isin([LotType(t).value for t in lot_types])]
    if rows.empty:
        raise InsufficientDataError(f"{spec.label} has no stability results (rows with a time point in "
                                    f"'{time_column}') in the selection. Load stability data or widen the lot types.")
    unit_of_time, time_basis = _time_unit(frame, rows, time_column, time_unit)
    chosen_storage = storage_condition
    if "storage_condition" in rows.columns:
        present = list(dict.fromkeys(rows["storage_condition"].dropna().astype(str)))
        if storage_condition is None and len(present) > 1:
            raise CgtkitError(
                f"The {spec.label} stability data hold {len(present)} storage conditions ({'; '.join(present)}). "
                "Choose one: each condition gets its own shelf life."
            )
        if storage_condition is not None:
            if storage_condition not in present:
                raise CgtkitError(f"Storage condition '{storage_condition}' is not in the {spec.label} data; "
                                  f"present: {'; '.join(present) or 'none'}.")
            rows = rows[rows["storage_condition"] == storage_condition]
        chosen_storage = storage_condition or (present[0] if present else None)
    if "censoring" in rows.columns:
        censored = rows[rows["censoring"].fillna("none") != "none"]
        if not censored.empty:
            first = censored.index[0]
            raise CgtkitError(
                f"{spec.label}: lot {censored.loc[first, 'lot_id']} has a censored result "
                f"('{censored.loc[first, 'original_value'] if 'original_value' in rows else censored.loc[first, 'value']}'"
                f", {_where(rows, first)}); a regression needs numbers. Leave censored time points out or report "
                f"the measured value ({len(censored)} censored result(s) in all)."
            )
    missing = rows[rows["value"].isna()]
    if not missing.empty:
        first = missing.index[0]
        raise CgtkitError(f"{spec.label}: lot {missing.loc[first, 'lot_id']} has no numeric result at "
                          f"{missing.loc[first, time_column]:g} {unit_of_time.value} ({_where(rows, first)}). "
                          "Enter the result or remove the row.")
    units = sorted(set(rows["unit"].fillna("").astype(str))) if "unit" in rows.columns else [spec.unit]
    if len(units) > 1:
        raise CgtkitError(f"{spec.label} is reported in {len(units)} units ({', '.join(units)}); convert the results "
                          "to one unit.")
    for lot, group in rows.groupby("lot_id", sort=False):
        times = group[time_column].to_numpy(dtype=float)
        dup = group[group[time_column].duplicated(keep=False)]
        if not dup.empty:
            where = " and ".join(_where(rows, i) for i in dup.index[:2])
            raise CgtkitError(
                f"{spec.label}: lot {lot} has {len(dup)} results at {dup[time_column].iloc[0]:g} "
                f"{unit_of_time.value} ({where}). Give one reportable result per lot and time point (the mean of "
                "replicates, as the release procedure defines it), or correct the time point."
            )
        back = np.flatnonzero(np.diff(times) < 0)
        if back.size:
            i = int(back[0])
            raise CgtkitError(
                f"{spec.label}: the rows of lot {lot} are not in time order: {times[i + 1]:g} "
                f"{unit_of_time.value} ({_where(rows, group.index[i + 1])}) follows {times[i]:g} "
                f"{unit_of_time.value} ({_where(rows, group.index[i])}). Sort the rows by time point, or correct "
                "a mistyped time point."
            )
        if times.size and (times < 0).any():
            raise CgtkitError(f"{spec.label}: lot {lot} has a negative time point ({times.min():g} "
                              f"{unit_of_time.value}); correct it.")
        if np.unique(times).size < 2:
            raise InsufficientDataError(
                f"{spec.label}: lot {lot} has results at a single time point ({times[0]:g} {unit_of_time.value}); "
                "a regression over time needs at least 2 time points per lot. Add its later time points or "
                "leave the lot out (lot_types or another selection)."
            )
    cols = {"lot_id": "lot_id", "lot_type": "lot_type", time_column: "time", "value": "value"}
    if "source_row" in rows.columns:
        cols["source_row"] = "source_row"
    out = rows[[c for c in cols if c in rows.columns]].rename(columns=cols).reset_index(drop=True)
    out["time"] = out["time"].astype(float)
    return StabilityData(spec=spec, rows=out, time_column=time_column, time_unit=unit_of_time,
                         storage_condition=chosen_storage, unit=units[0] if units else spec.unit,
                         time_basis=time_basis)


# -- the analysis -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StabilityAnalysis:
    """A shelf-life estimate for one attribute, with the choices behind it and notes in words.

    Attributes
    ----------
    data : StabilityData
    direction : Direction
    direction_basis : str
        Where the direction came from (the user, or the attribute's limit side).
    lower_limit, upper_limit : float or None
        The limits the bound was compared with.
    storage : StorageCategory
    storage_basis : str
    result : cgtkit.stats.stability.ShelfLifeResult
    notes : tuple of str
        Every sentence the page shows under the result, in order.
    proposed_shelf_life : float or None
        The shelf life the sponsor proposes to claim (in the data's time unit), if given.
    proposed_supported : bool or None
        Whether the data support that claim (it is within the estimate and the extrapolation allowance).
    """

    data: StabilityData
    direction: Direction
    direction_basis: str
    lower_limit: float | None
    upper_limit: float | None
    storage: StorageCategory
    storage_basis: str
    result: ShelfLifeResult
    notes: tuple[str, ...]
    proposed_shelf_life: float | None = None
    proposed_supported: bool | None = None

    @property
    def time_unit(self) -> TimeUnit:
        return self.data.time_unit

    @property
    def shelf_life(self) -> float:
        return self.result.shelf_life

    @property
    def supported_shelf_life(self) -> float:
        return self.result.supported_shelf_life

    @property
    def governing_lot(self) -> str | None:
        return self.result.governing_lot

    @property
    def lots_text(self) -> str:
        """'1 lot', '3 lots'."""
        n = self.data.n_lots
        return f"{n} lot{'' if n == 1 else 's'}"

    @property
    def model_words(self) -> str:
        """The regression model in words; one lot has no poolability test, so no model was chosen by one."""
        return SINGLE_LOT_MODEL if self.data.n_lots == 1 else MODEL_LABELS[self.result.model]

    @property
    def too_few_lots(self) -> bool:
        return self.data.n_lots < MIN_LOTS

    @property
    def few_lots_warning(self) -> str | None:
        """Why fewer than three lots give no Q1E shelf-life claim, with the source (the grade is MIN_LOTS_BASIS)."""
        return _few_lots(self.data.n_lots) if self.too_few_lots else None

    @property
    def summary(self) -> str:
        """The result in one sentence."""
        r, unit = self.result, self.time_unit.value
        label = self.data.spec.label
        if math.isfinite(r.shelf_life):
            when = f"{r.shelf_life:.3g} {unit}"
        else:
            when = "no time (the bound never meets the limit)"
        who = f", governed by lot {r.governing_lot}" if r.governing_lot else ""
        flag = (f"; beyond the extrapolation allowance, the data support {r.supported_shelf_life:.3g} {unit}"
                if r.beyond_allowance else "")
        return (f"{label}: {self.model_words} ({self.lots_text}); the "
                f"{'two-sided' if r.sided == 2 else 'one-sided'} {r.confidence_level:.0%} confidence bound meets "
                f"the limit at {when}{who}{flag}.")

    def to_frame(self) -> pd.DataFrame:
        """One row per regression line, with the attribute, unit and time unit."""
        frame = self.result.to_frame()
        frame.insert(0, "attribute", self.data.spec.id)
        frame["time_unit"] = self.time_unit.value
        return frame


def analyse_stability(
    data: StabilityData,
    *,
    lower_limit: float | None = None,
    upper_limit: float | None = None,
    direction: Direction | str | None = None,
    log_transform: bool | None = None,
    confidence_level: float = 0.95,
    alpha_pool: float = 0.25,
    storage: StorageCategory | str | None = None,
    model: str | None = None,
    separate_error: str = "individual",
    proposed_shelf_life: float | None = None,
) -> StabilityAnalysis:
    """Estimate the shelf life of one attribute by ICH Q1E.

    Parameters
    ----------
    data : StabilityData
        From :func:`stability_data`.
    lower_limit, upper_limit : float, optional
        The acceptance limits, in the data's unit. The limit on the side the
        attribute moves towards is required (both sides count when the
        direction is unknown, and at least one is required).
    direction : Direction or str, optional
        ``decrease``, ``increase`` or ``unknown``; by default the attribute's
        ``stability_direction``, else its limit side.
    log_transform : bool, optional
        By default, True for attributes analysed on the log scale.
    confidence_level, alpha_pool : float
        Q1E: 0.95 and 0.25.
    storage : StorageCategory or str, optional
        Sets the extrapolation allowance; by default read from the storage
        condition's temperature (frozen, i.e. none, when it cannot be read).
    model, separate_error : str, optional
        Passed to :func:`cgtkit.stats.stability.q1e_shelf_life`.
    proposed_shelf_life : float, optional
        A shelf life to claim, in the data's time unit: checked against the
        estimate and the extrapolation allowance, and flagged when the data do
        not support it.

    Raises
    ------
    cgtkit.errors.CgtkitError
        A missing limit, and the data problems the statistics find.
    """
    spec = data.spec
    if direction is None:
        chosen_direction, direction_basis = Direction.default_for(spec)
    else:
        chosen_direction = Direction(str(direction).lower())
        direction_basis = "chosen by the user"
    needed = {Direction.DECREASE: "lower", Direction.INCREASE: "upper"}.get(chosen_direction)
    notes: list[str] = []
    low, high = lower_limit, upper_limit
    if needed == "lower":
        if low is None:
            raise CgtkitError(
                f"{spec.label} falls over time ({direction_basis}), so its shelf life is where the lower "
                f"confidence bound meets the lower acceptance limit, but no lower limit was given. Enter the "
                f"lower limit in {data.unit or 'the data unit'}."
            )
        if high is not None:
            notes.append(f"The upper limit ({high:g}) is not used: {spec.label} is taken to fall.")
            high = None
    elif needed == "upper":
        if high is None:
            raise CgtkitError(
                f"{spec.label} rises over time ({direction_basis}), so its shelf life is where the upper "
                f"confidence bound meets the upper acceptance limit, but no upper limit was given. Enter the "
                f"upper limit in {data.unit or 'the data unit'}."
            )
        if low is not None:
            notes.append(f"The lower limit ({low:g}) is not used: {spec.label} is taken to rise.")
            low = None
    elif low is None and high is None:
        raise CgtkitError(
            f"No acceptance limit was given for {spec.label}. Its direction of change is unknown, so the "
            "two-sided confidence interval is compared with the limits: enter the lower limit, the upper "
            "limit, or both."
        )
    logged = spec.scale is Scale.LOG if log_transform is None else bool(log_transform)
    if storage is None:
        read = storage_category_from_text(data.storage_condition)
        category = read or StorageCategory.FROZEN
        storage_basis = (f"read from the storage condition '{data.storage_condition}'" if read else
                         "the storage temperature could not be read, so no extrapolation is allowed (the most "
                         "conservative choice); choose the storage category to change it")
    else:
        category = StorageCategory(str(storage).lower())
        storage_basis = "chosen by the user"
    factor, beyond_months = category.allowance
    beyond = convert_time(beyond_months, "months", data.time_unit.value)
    rows = data.rows
    result = q1e_shelf_life(
        rows["time"].to_numpy(float), rows["value"].to_numpy(float), rows["lot_id"].to_numpy(object),
        lower_limit=low, upper_limit=high, sided=chosen_direction.sided, confidence_level=confidence_level,
        alpha_pool=alpha_pool, model=model, log_transform=logged, separate_error=separate_error,
        time_unit=data.time_unit.value, max_extrapolation_factor=factor, max_extrapolation_beyond=beyond,
    )
    unit = data.time_unit.value
    notes.insert(0, f"Time in {unit} ({data.time_basis or 'column ' + repr(data.time_column)}); the last time "
                    f"point is {data.data_span:g} {unit}.")
    notes.append(f"Direction of change: {chosen_direction.value}, {direction_basis}; "
                 + ("two-sided confidence interval." if chosen_direction.sided == 2 else "one-sided confidence bound."))
    notes.append(result.poolability.reason)
    if data.n_lots < MIN_LOTS:
        notes.append(f"{_few_lots(data.n_lots)} (Basis: final guidance.)")
    notes.extend(result.notes)
    notes.append(f"Extrapolation allowance used: {category.rule} ({storage_basis}). ICH Q5C asks biotechnology "
                 "products for real-time, real-temperature data."
                 + ("" if result.beyond_allowance else " The Q1E allowances are a convention for small-molecule "
                    "products; how they transfer to a cell or gene therapy is for discussion with FDA."))
    supported = None
    if proposed_shelf_life is not None:
        claim = float(proposed_shelf_life)
        if not (math.isfinite(claim) and claim > 0):
            raise CgtkitError(f"The proposed shelf life must be a number of {unit} greater than 0; got "
                              f"{proposed_shelf_life!r}.")
        supported = claim <= result.supported_shelf_life
        if supported and data.n_lots < MIN_LOTS:
            notes.append(f"The proposed shelf life of {claim:g} {unit} is within what the data of "
                         f"{'this one lot' if data.n_lots == 1 else f'these {data.n_lots} lots'} support "
                         f"({result.supported_shelf_life:.3g} {unit}), but fewer than {MIN_LOTS} lots do not "
                         "support a Q1E claim.")
        elif supported:
            notes.append(f"The proposed shelf life of {claim:g} {unit} is supported: the data support "
                         f"{result.supported_shelf_life:.3g} {unit}.")
        elif claim <= result.shelf_life:
            notes.append(
                f"The proposed shelf life of {claim:g} {unit} is within the estimate ({result.shelf_life:.3g} "
                f"{unit}) but extrapolates beyond the data further than the allowance ({category.rule}), which "
                f"supports {result.supported_shelf_life:.3g} {unit}. This is a Q1E convention whose transfer to a "
                "cell or gene therapy is for discussion with FDA."
            )
        else:
            notes.append(f"The proposed shelf life of {claim:g} {unit} is longer than the estimate "
                         f"({result.shelf_life:.3g} {unit}): the data do not support it.")
    return StabilityAnalysis(
        data=data, direction=chosen_direction, direction_basis=direction_basis, lower_limit=low, upper_limit=high,
        storage=category, storage_basis=storage_basis, result=result, notes=tuple(notes),
        proposed_shelf_life=None if proposed_shelf_life is None else float(proposed_shelf_life),
        proposed_supported=supported,
    )


def _few_lots(n: int) -> str:
    return (f"{'One lot is' if n == 1 else f'{n} lots are'} too few for an ICH Q1E shelf-life claim: "
            f"{MIN_LOTS_SOURCE}. The estimate shows what these data say; add lots before a claim rests on it.")


def observed_frame(analysis: StabilityAnalysis) -> pd.DataFrame:
    """The results with the line each lot is described by (lot_id, time, value, line)."""
    rows = analysis.data.rows[["lot_id", "time", "value"]].copy()
    pooled = analysis.result.model == "pooled" and analysis.data.n_lots > 1
    rows["line"] = POOLED_LINE if pooled else rows["lot_id"]
    return rows
