"""Lot data in: CSV or XLSX files read into cgtkit's one long format.

Every data set in cgtkit (release results, stability results) is a table with
one row per lot, attribute and (for stability) time point and storage
condition. :func:`load_lots` reads a file, checks it and returns that table;
every problem raises :class:`cgtkit.errors.LotDataError` with a message that
names the file, the row as a spreadsheet shows it (the header is row 1, the
first data row is row 2), the column, the value, and how to fix it.

A file that cannot be read at all (wrong type, encoding, missing columns) stops
at the first such problem. Otherwise every check runs on whole columns, so one
kind of problem never hides another: all problems are reported together, one
line each, or, when one kind in one column has many, one line for the group with
its count and row ranges ("60 rows (2–61) ..."). The exception's ``problems``
attribute holds them as :class:`Problem` records (row, column, column letter,
value, kind, detail, fix), e.g. for a table in the UI; :func:`problems_csv`
turns them into a CSV file to download, :func:`problem_lines` into the grouped
lines of the message.

Some things are read but worth a look: a date in an unambiguous form other than
ISO (``01/17/2023``), a phase cgtkit does not know, a lot with two phases. They
are :class:`Problem` records of :attr:`Severity.WARNING` and never stop a load;
pass a list as ``warnings=`` to :func:`load_lots` to receive them, and
:func:`describe_warnings` words them for a status line.

The long format
---------------
Input columns (names are case-insensitive; spaces and hyphens read as ``_``):

=====================  ========  ====================================================
column                 required  content
=====================  ========  ====================================================
``lot_id``             yes       lot number, kept as text (``007`` stays ``007``)
``attribute``          yes       attribute id, e.g. ``viability`` (see data/attributes.yaml)
``value``              yes       a number (``88.5``, ``1.2e13``, ``88.5%``); a censored
                                 result (``<0.5``, ``< 0.5``, ``<=0.5``, ``≤0.5``,
                                 ``>1e9``, ``>=``, ``≥``); or a pass/fail word. A
                                 number outside the attribute's physical bounds
                                 (``physical_bounds`` in data/attributes.yaml: a
                                 negative viability, a percentage of a whole above
                                 100) is an error
``unit``               yes       unit as text; may be empty for pass/fail tests
``lot_type``           yes       ``engineering``, ``clinical``, ``ppq``, ``commercial``
                                 (any case; :data:`cgtkit.vocab.LOT_TYPES`)
``manufacture_date``   yes       ISO date ``YYYY-MM-DD`` (a time part is dropped;
                                 years 1678 to 2261; not after today). Unambiguous
                                 other forms are read, with a warning (see below)
``process_version``    no        text, e.g. ``v1``
``phase``              no        descriptive, never an error: mapped to one of
                                 :data:`PHASES` when recognised, else kept as
                                 written (a warning); see :func:`parse_phase`
``timepoint_months``   no        stability time point in months (>= 0); empty or 0
                                 means a release result
``timepoint_days``,    no        the same, in days, hours or minutes (fresh cells
``timepoint_hours``,             live for hours, in-use and post-thaw windows take
``timepoint_minutes``            minutes to hours); one time column per file
``timepoint``,         no        a time point with its unit stated in ``time_unit``
``time_unit``                    (``minutes``, ``hours``, ``days`` or ``months``;
                                 ``min``, ``h``, ``d``, ``mo`` and singulars read
                                 too), the same unit on every row with a time point
``storage_condition``  no        stability storage condition, text
``donor_id``           no        the donor (or patient) whose starting material the
                                 lot was made from, text: pairs lots of a split-
                                 material comparability design
=====================  ========  ====================================================

Other columns are ignored. Pass words: ``pass``, ``passed``, ``no growth``,
``negative``, ``not detected``; fail words: ``fail``, ``failed``, ``growth``,
``positive``, ``detected`` (any case).

Dates: ``YYYY-MM-DD`` is read silently. Other forms are read when they can mean
one date only, with a warning naming the form: ``01/17/2023`` (no month is 17:
US format, month first), ``17.01.2023`` (day first), ``2023/01/17``,
``17-Jan-2023``, ``Jan 17, 2023``. When the day and month are both 12 or less
(``03/04/2023``) the cell alone is ambiguous; if other cells of the column
written in the same form (same separator) show one order (a part above 12) and
none shows the other, the whole form is read in that order; otherwise the cell
is an error asking for ``YYYY-MM-DD``.

Output columns, in this order (:data:`LONG_FORMAT_COLUMNS`):

``lot_id`` (str), ``attribute`` (str), ``value`` (float; the reported limit for a
censored result; NaN for pass/fail), ``censoring`` (str: ``none``, ``left`` for
``<``/``<=``, ``right`` for ``>``/``>=``), ``result`` (str ``pass``/``fail`` for
pass/fail results, else NaN), ``original_value`` (str, as written),
``unit`` (str, "" when empty), ``lot_type`` (str, lower case),
``manufacture_date`` (datetime64[ns]), ``process_version`` (str or NaN),
``phase`` (str or NaN: one of :data:`PHASES`, or the cell as written),
``phase_note`` (str or NaN: a remark in parentheses in the phase cell),
``pivotal`` (bool: the phase cell says pivotal or registrational),
``timepoint_months`` (float or NaN: the time point in months, converted
when the file gives another unit, 1 month = 365.25/12 days), ``timepoint``
(float or NaN: the time point in the file's own unit), ``time_unit`` (str or
NaN: that unit), ``storage_condition`` (str or NaN), ``donor_id`` (str or NaN),
``source_row`` (int: the row in the file).

Rules:

* One row per lot, attribute, time point and storage condition (the uniqueness
  key); replicate measurements go in as their reportable result.
* Lot-level columns (``manufacture_date``, ``lot_type``, ``process_version``)
  must agree across a lot's rows; blanks in ``process_version`` are filled from
  the lot's other rows. The phase is lot-level too but descriptive: a lot's
  first phase cell (with its note and pivotal flag) is used for all its rows,
  and a lot with two phases is a warning.
* One unit per attribute.
* One time unit per file, stated: by the time column's name
  (``timepoint_hours``) or in ``time_unit``. Two time columns with values, a
  ``timepoint`` column without ``time_unit``, and two units in ``time_unit``
  are errors, never converted silently; so are negative or unreadable time
  points. Analyses use ``timepoint`` in its unit; ``timepoint_months`` serves
  to tell release rows (no time point, or 0) from later stability results.
* Rows sorted by ``manufacture_date``, ``lot_id``, ``attribute``, then
  ``timepoint_months`` and ``storage_condition`` (release rows first).

Reading:

* CSV: UTF-8 (with or without BOM); Windows-1252 (Latin-1) files that are not
  valid UTF-8 are decoded as cp1252 and accepted. UTF-16 and binary files are
  refused with a message. The delimiter is chosen from the header row among
  comma, semicolon and tab (the one whose split yields the most known column
  names; comma on a tie). A decimal comma (``0,5``) is refused with a hint.
* XLSX/XLSM: the first worksheet, header in row 1. Cell values are taken as
  Excel last saved them; a formula without a saved value is an error. Numbers
  formatted as percentages are read as shown (0.885 shown as 88.5% gives 88.5).
* The file type comes from the extension of ``name`` (or of the path); with no
  extension, a ZIP signature means XLSX, anything else CSV.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io as _io
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

import numpy as np
import pandas as pd

from cgtkit.errors import LotDataError
from cgtkit.stats.stability import TIME_UNITS, convert_time
from cgtkit.vocab import LOT_TYPES, Stage

__all__ = [
    "FAIL_WORDS", "LONG_FORMAT_COLUMNS", "OPTIONAL_COLUMNS", "PASS_WORDS", "PHASES", "REQUIRED_COLUMNS",
    "TIME_COLUMNS", "TIME_UNIT_WORDS", "Problem", "ProblemKind", "Severity", "attribute_values", "describe_warnings", "load_lots", "lots_summary",
    "parse_phase", "parse_value", "problem_lines", "problems_csv",
]

REQUIRED_COLUMNS: tuple[str, ...] = ("lot_id", "attribute", "value", "unit", "lot_type", "manufacture_date")
#: The columns that may hold stability time points, with the unit each states (``timepoint``: in ``time_unit``).
TIME_COLUMNS: dict[str, str | None] = {"timepoint_months": "months", "timepoint_days": "days",
                                       "timepoint_hours": "hours", "timepoint_minutes": "minutes", "timepoint": None}
OPTIONAL_COLUMNS: tuple[str, ...] = ("process_version", "phase", *TIME_COLUMNS, "time_unit", "storage_condition",
                                     "donor_id")

#: Columns of the DataFrame :func:`load_lots` returns, in order.
LONG_FORMAT_COLUMNS: tuple[str, ...] = (
    "lot_id", "attribute", "value", "censoring", "result", "original_value", "unit", "lot_type",
    "manufacture_date", "process_version", "phase", "phase_note", "pivotal", "timepoint_months", "timepoint",
    "time_unit", "storage_condition", "donor_id", "source_row",
)

#: The phases a ``phase`` cell is mapped to: the development stages of :class:`cgtkit.vocab.Stage`
#: with the seamless phases 1/2 and 2/3 in their place (kept as text until the stages include them).
PHASES: tuple[str, ...] = (
    Stage.PRE_IND.value, Stage.PHASE_1.value, "phase 1/2", Stage.PHASE_2.value, "phase 2/3", Stage.PHASE_3.value,
    Stage.BLA.value, Stage.POST_APPROVAL.value,
)
#: How a ``time_unit`` cell may name its unit (any case): the unit, its singular or a short form.
TIME_UNIT_WORDS: dict[str, str] = {
    **dict.fromkeys(("minutes", "minute", "min", "mins"), "minutes"),
    **dict.fromkeys(("hours", "hour", "h", "hr", "hrs"), "hours"),
    **dict.fromkeys(("days", "day", "d"), "days"),
    **dict.fromkeys(("months", "month", "mo", "mos"), "months"),
}
PASS_WORDS: frozenset[str] = frozenset({"pass", "passed", "no growth", "negative", "not detected"})
FAIL_WORDS: frozenset[str] = frozenset({"fail", "failed", "growth", "positive", "detected"})

_MONTHS_PER = {unit: convert_time(1.0, unit, "months") for unit in TIME_UNITS}
_CSV_EXTENSIONS = {".csv", ".txt", ".tsv"}
_XLSX_EXTENSIONS = {".xlsx", ".xlsm"}
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_MAX_LISTED = 10  # row ranges named in one line of a message
_MAX_EXAMPLES = 3  # values quoted in one line of a message
_LIST_EACH = 3  # up to this many problems of one kind and column get a line each
_UPLOADED = "uploaded file"

_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_VALUE_RE = rf"^(?P<op><=|=<|≤|<|>=|=>|≥|>)?\s*(?P<number>{_NUMBER})\s*%?$"
_CENSORING = {**dict.fromkeys(("<", "<=", "=<", "≤"), "left"), **dict.fromkeys((">", ">=", "=>", "≥"), "right")}
_RESULTS = {**dict.fromkeys(PASS_WORDS, "pass"), **dict.fromkeys(FAIL_WORDS, "fail")}

# dates: ISO; year first with / or .; day and month as numbers (order from the numbers or the column); month names
_TIME = r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*[AaPp][Mm])?)?"
_DATE_RE = rf"^(\d{{4}})-(\d{{1,2}})-(\d{{1,2}}){_TIME}$"
_YEAR_FIRST_RE = rf"^(\d{{4}})([/.])(\d{{1,2}})\2(\d{{1,2}}){_TIME}$"
_NUMERIC_DATE_RE = rf"^(\d{{1,2}})([/.-])(\d{{1,2}})\2(\d{{4}}){_TIME}$"
_DAY_NAME_RE = rf"^(\d{{1,2}})[-\s/.]?([A-Za-z]{{3,9}})\.?[-\s/.,]\s*(\d{{4}}){_TIME}$"  # 17-Jan-2023, 17 January 2023
_NAME_DAY_RE = rf"^([A-Za-z]{{3,9}})\.?[-\s/.]\s*(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}}){_TIME}$"  # Jan 17, 2023
_MONTH_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
                "november", "december")
_MONTHS = {**{m: i for i, m in enumerate(_MONTH_NAMES, 1)}, **{m[:3]: i for i, m in enumerate(_MONTH_NAMES, 1)},
           "sept": 9}
_FIRST_YEAR, _LAST_YEAR = 1678, 2261

# phases: "Phase I/II", "ph 2", "3"; words; remarks in parentheses; pivotal flags
_PHASE_NUMBER = r"(?:phase|ph)?\.?\s*(1|2|3|4|iv|iii|ii|i)[ab]?"
_PHASE_RE = re.compile(rf"^{_PHASE_NUMBER}(?:\s*(?:/|-|–|&|to)\s*{_PHASE_NUMBER})?$")
_ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4"}
_PHASE_PAIRS = {("1", None): "phase 1", ("2", None): "phase 2", ("3", None): "phase 3",
                ("4", None): Stage.POST_APPROVAL.value, ("1", "2"): "phase 1/2", ("2", "3"): "phase 2/3"}
_PHASE_WORDS: dict[str, str] = {
    **dict.fromkeys(("non-clinical", "nonclinical", "non clinical", "preclinical", "pre-clinical", "pre clinical",
                     "development", "engineering", "pre-ind", "pre ind", "preind"), Stage.PRE_IND.value),
    **dict.fromkeys(("marketed", "commercial", "post-approval", "post approval", "postapproval", "post-marketing",
                     "post marketing", "approved"), Stage.POST_APPROVAL.value),
    "bla": Stage.BLA.value,
    **{p.lower(): p for p in PHASES},
}
_NO_PHASE = frozenset({"", "n/a", "na", "not applicable", "none", "-", "–", "—"})
_PIVOTAL_RE = re.compile(r"\b(?:pivotal|registrational|registration[- ]enabling)\b", re.IGNORECASE)
_REMARK_RE = re.compile(r"^(.*?)\s*\(([^()]*)\)\s*$")

_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

_VALUE_FIX = (
    "Enter a number (e.g. 88.5 or 1.2e13), a censored result (e.g. <0.5 or >1e9), "
    "or a pass/fail word (pass, fail, no growth, negative, not detected, growth, positive, detected)."
)
_PHASE_FIX = (
    f"Nothing to do if it is meant; for cgtkit to recognise it, use one of {', '.join(PHASES)} "
    "(a remark may follow in parentheses, e.g. 'phase 1/2 (dose escalation)'; 'pivotal' may be added)."
)


# --- problems as data --------------------------------------------------------
class Severity(StrEnum):
    """An error stops the load; a warning says what was read in a way worth checking, and never does."""

    ERROR = "error"
    WARNING = "warning"


class ProblemKind(StrEnum):
    """What is wrong; a message puts many problems of one kind in one column on one line."""

    EMPTY = "empty"
    TOO_MANY_VALUES = "too_many_values"
    NOT_A_VALUE = "not_a_value"
    OUT_OF_BOUNDS = "out_of_bounds"
    NOT_A_LOT_TYPE = "not_a_lot_type"
    NOT_A_DATE = "not_a_date"
    AMBIGUOUS_DATE = "ambiguous_date"
    FUTURE_DATE = "future_date"
    NON_ISO_DATE = "non_iso_date"  # a warning: read, in the form its pattern names
    NOT_A_PHASE = "not_a_phase"  # a warning: kept as written
    NOT_A_TIMEPOINT = "not_a_timepoint"
    NOT_A_TIME_UNIT = "not_a_time_unit"
    MIXED_TIME_UNITS = "mixed_time_units"
    DUPLICATE = "duplicate"
    LOT_DISAGREES = "lot_disagrees"  # an error, or a warning for the phase
    UNIT_DISAGREES = "unit_disagrees"


_LABELS = {  # what a group of rows holds: "60 rows (2–61) hold dates in US format MM/DD/YYYY, read as such"
    ProblemKind.EMPTY: "have an empty cell",
    ProblemKind.TOO_MANY_VALUES: "have more values than the header has columns",
    ProblemKind.NOT_A_VALUE: "hold values that are not numbers, censored results or pass/fail words",
    ProblemKind.OUT_OF_BOUNDS: "hold values outside the physical bounds of their attribute",
    ProblemKind.NOT_A_LOT_TYPE: "hold values that are not lot types",
    ProblemKind.NOT_A_DATE: "hold values that are not dates",
    ProblemKind.AMBIGUOUS_DATE: "hold dates in an ambiguous form, {pattern}",
    ProblemKind.FUTURE_DATE: "hold manufacture dates after today",
    ProblemKind.NON_ISO_DATE: "hold dates in {pattern}, read as such",
    ProblemKind.NOT_A_PHASE: "hold phases cgtkit does not know, kept as written",
    ProblemKind.NOT_A_TIMEPOINT: "hold values that are not time points (numbers of 0 or more)",
    ProblemKind.NOT_A_TIME_UNIT: "hold values that are not time units",
    ProblemKind.MIXED_TIME_UNITS: "give the data set a second time unit",
    ProblemKind.DUPLICATE: "repeat the lot, attribute, time point and storage condition of an earlier row",
    ProblemKind.LOT_DISAGREES: "give their lot a second value",
    ProblemKind.UNIT_DISAGREES: "give their attribute a second unit",
}


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem in a lot data file, located as a spreadsheet shows it.

    ``row`` counts the header as row 1; ``column`` is the normalised column name
    and ``column_letter`` its spreadsheet letter (both None when the problem is a
    whole row); ``value`` is the cell as written; ``detail`` says what is wrong
    and ``fix`` how to correct it. ``severity`` is an error (the file is not
    loaded) or a warning (it is, as ``detail`` says); ``pattern`` names the form
    a date is written in (``"US format MM/DD/YYYY"``), else "". Kept as data so
    a page can show a table.

    >>> print(Problem(3, "value", "C", "88,5", ProblemKind.NOT_A_VALUE,
    ...               "'88,5' uses a decimal comma", "Write 88.5."))
    row 3, column 'value' (C): '88,5' uses a decimal comma. Fix: Write 88.5.
    """

    row: int
    column: str | None
    column_letter: str | None
    value: str
    kind: ProblemKind
    detail: str
    fix: str
    severity: Severity = Severity.ERROR
    pattern: str = ""

    def _order(self) -> tuple[int, int, str]:  # rows top-down, then columns left to right (Z before AA)
        letter = self.column_letter or ""
        return self.row, len(letter), letter

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", column '{self.column}' ({self.column_letter})" if self.column else "")
        return f"{where}: {self.detail}. Fix: {self.fix}"


def _row_ranges(rows: Sequence[int]) -> str:
    """Sorted row numbers as runs: ``2–13, 15, 17–20``; after :data:`_MAX_LISTED` runs, a count of the rest.

    >>> _row_ranges([2, 3, 4, 7, 9, 10])
    '2–4, 7, 9–10'
    """
    runs: list[list[int]] = []
    for row in rows:
        if runs and row == runs[-1][1] + 1:
            runs[-1][1] = row
        else:
            runs.append([row, row])
    shown = ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in runs[:_MAX_LISTED])
    rest = sum(b - a + 1 for a, b in runs[_MAX_LISTED:])
    return shown + (f" ... and {rest} more" if rest else "")


def problem_lines(problems: Iterable[Problem]) -> list[str]:
    """The problems as the lines of a message, in row order.

    Problems of one severity, kind, column, fix and pattern form a group. A group
    of up to three gets a line per problem; a larger one gets one line with its
    count, its rows as ranges and a few of its values. The same lines serve
    errors (:func:`load_lots`'s message) and warnings (for a page to show).

    >>> rows = [Problem(r, "manufacture_date", "F", "01/17/2023", ProblemKind.NON_ISO_DATE,
    ...                 "read as 2023-01-17", "Write dates as YYYY-MM-DD.", Severity.WARNING,
    ...                 "US format MM/DD/YYYY") for r in range(2, 62)]
    >>> problem_lines(rows)  # doctest: +NORMALIZE_WHITESPACE
    ["- Column 'manufacture_date' (F): 60 rows (2–61) hold dates in US format MM/DD/YYYY, read as such
      (e.g. '01/17/2023'). Fix: Write dates as YYYY-MM-DD."]
    """
    groups: dict[tuple[Severity, ProblemKind, str | None, str, str], list[Problem]] = {}
    for p in sorted(problems, key=Problem._order):
        groups.setdefault((p.severity, p.kind, p.column, p.fix, p.pattern), []).append(p)
    lines: list[tuple[tuple[int, int, str], str]] = []
    for (_, kind, column, fix, pattern), group in groups.items():
        if len(group) <= _LIST_EACH:
            lines += [(p._order(), f"- {p}") for p in group]
            continue
        where = f"Column '{column}' ({group[0].column_letter}): " if column else ""
        rows = _row_ranges(sorted({p.row for p in group}))
        values = [f"'{v}'" for v in dict.fromkeys(p.value for p in group if p.value)][:_MAX_EXAMPLES]
        examples = f" (e.g. {', '.join(values)})" if values else ""
        label = _LABELS[kind].format(pattern=pattern)
        lines.append((group[0]._order(), f"- {where}{len(group)} rows ({rows}) {label}{examples}. Fix: {fix}"))
    return [text for _, text in sorted(lines)]


def problems_csv(problems: Iterable[Problem]) -> bytes:
    """Every problem as a row of a CSV file, for a download when a file has many.

    Columns ``row``, ``column``, ``column_letter``, ``value``, ``severity``,
    ``kind``, ``detail``, ``fix``, in row order; UTF-8 with a BOM so that Excel
    shows characters such as ``≤`` as written.

    >>> problem = Problem(3, "value", "C", "-2.1", ProblemKind.OUT_OF_BOUNDS, "'-2.1' is below 0", "Correct it.")
    >>> print(problems_csv([problem]).decode("utf-8-sig"))  # doctest: +NORMALIZE_WHITESPACE
    row,column,column_letter,value,severity,kind,detail,fix
    3,value,C,-2.1,error,out_of_bounds,'-2.1' is below 0,Correct it.
    """
    from cgtkit.exports import csv_bytes  # every cell made inert for spreadsheets (formula injection)

    header = ["row", "column", "column_letter", "value", "severity", "kind", "detail", "fix"]
    return csv_bytes(header, ([p.row, p.column, p.column_letter, p.value, p.severity.value, p.kind.value, p.detail,
                               p.fix] for p in sorted(problems, key=Problem._order)))


def describe_warnings(name: str, warnings: Sequence[Problem]) -> str:
    """The warnings of a load as one message naming the file, for a status line; "" when there are none.

    >>> print(describe_warnings("lots.csv", [Problem(5, "phase", "H", "IIT", ProblemKind.NOT_A_PHASE,
    ...       "'IIT' is not a phase cgtkit knows; it is kept as written", "None needed.", Severity.WARNING)]))
    'lots.csv': 1 warning (it does not stop the file from loading).
    - row 5, column 'phase' (H): 'IIT' is not a phase cgtkit knows; it is kept as written. Fix: None needed.
    """
    if not warnings:
        return ""
    count = "1 warning (it does" if len(warnings) == 1 else f"{len(warnings)} warnings (they do"
    return f"'{name}': {count} not stop the file from loading).\n" + "\n".join(problem_lines(warnings))


def _render(name: str, problems: Sequence[Problem]) -> str:
    """The one message for all problems, in row order: a line each, or one line per group when many."""
    noun = "problem" if len(problems) == 1 else "problems"
    listed = "\n".join(problem_lines(problems))
    return f"Cannot load lot data from '{name}': {len(problems)} {noun} found.\n{listed}"


def _fail(name: str, message: str) -> LotDataError:
    return LotDataError(f"Cannot load lot data from '{name}': {message}")


# --- column-wise parsing: each returns the parsed column and its rules; the
# first rule that holds for a cell explains it (errors come before warnings)
class _Rule(NamedTuple):
    mask: pd.Series  # the cells the rule holds for
    kind: ProblemKind
    detail: str | pd.Series  # a template with {} for the value, or one text per cell
    fix: str | pd.Series  # one text, or one per cell (problems with the same fix share a line)
    severity: Severity = Severity.ERROR
    pattern: str | pd.Series = ""


def _words(text: pd.Series) -> pd.Series:
    """Lower case, runs of white space as one space: how words are compared."""
    return text.str.lower().str.replace(r"\s+", " ", regex=True)


def _parse_values(text: pd.Series) -> tuple[pd.DataFrame, list[_Rule]]:
    """``value`` cells to columns value, censoring and result."""
    result = _words(text).str.rstrip(".").map(_RESULTS)
    parts = text.str.extract(_VALUE_RE)
    number = parts["number"].astype(float)
    bad = result.isna() & ~np.isfinite(number)
    bad_value = ProblemKind.NOT_A_VALUE
    rules = [
        _Rule(bad & (text == ""), ProblemKind.EMPTY, "the value is empty", f"{_VALUE_FIX} Or delete the row."),
        _Rule(bad & number.notna(), bad_value, "'{}' is too large to be a number", "Check the exponent."),
        _Rule(bad & text.str.match(r"[<>≤≥]"), bad_value, "'{}' is a censored result without a number",
              "Write the limit as a number, e.g. <10 for a result below a limit of quantitation of 10."),
        _Rule(bad & text.str.fullmatch(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?"), bad_value, "'{}' contains a comma",
              "If it is a thousands separator, remove it (1000 rather than 1,000); "
              "if it is a decimal comma, write a decimal point (0.5 rather than 0,5)."),
        _Rule(bad & text.str.fullmatch(r"[+-]?\d+,\d+"), bad_value, "'{}' uses a decimal comma",
              "Write it with a decimal point, e.g. 0.5 rather than 0,5."),
        _Rule(bad, bad_value, "'{}' is not a number, a censored result or a pass/fail word", _VALUE_FIX),
    ]
    censoring = parts["op"].map(_CENSORING).fillna("none")
    return pd.DataFrame({"value": number.where(result.isna()), "censoring": censoring, "result": result}), rules


def _bounds_rules(text: pd.Series, number: pd.Series, attribute: pd.Series) -> list[_Rule]:
    """Numbers a laboratory would never report: outside the attribute's ``physical_bounds`` (data/attributes.yaml)."""
    from cgtkit.attributes import get_attribute  # reads data/attributes.yaml once; only needed with data

    low, high, fix = {}, {}, {}
    for attr in attribute[number.notna()].unique():
        bounds = get_attribute(attr).physical_bounds if attr else None
        if bounds is None:
            continue
        low[attr], high[attr] = bounds.low, bounds.high
        if bounds.low is not None and bounds.high is not None:
            can = f"lies between {bounds.low:g} and {bounds.high:g}"
        else:
            can = f"cannot be below {bounds.low:g}" if bounds.low is not None else f"cannot be above {bounds.high:g}"
        fix[attr] = (f"Check the result in the laboratory record and correct it: {attr} {can} "
                     "(the range it can physically take); if the value is in another unit, convert it.")
    lows, highs = attribute.map(low).astype(float), attribute.map(high).astype(float)
    below, above = number < lows, number > highs
    where = below | above
    details = [f"'{cell}' is below {lo:g}, the lowest value {attr} can take" if is_below
               else f"'{cell}' is above {hi:g}, the highest value {attr} can take"
               for cell, attr, lo, hi, is_below in zip(text[where], attribute[where], lows[where], highs[where],
                                                       below[where], strict=True)]
    detail = pd.Series(details, index=text.index[where], dtype="str").reindex(text.index, fill_value="")
    return [_Rule(where, ProblemKind.OUT_OF_BOUNDS, detail, attribute.map(fix).where(where, ""))]


def _date_parts(text: pd.Series) -> tuple[pd.DataFrame, pd.Series, pd.Series, pd.Series]:
    """Year, month and day of each cell that holds a date in a known form (NaN elsewhere), and per cell:
    the form's name for a date not in ISO form, whether day and month cannot be told apart, and the row
    whose own numbers showed the order of a cell read by the form of its column (NaN where none)."""
    index = text.index
    iso, year_first = text.str.extract(_DATE_RE), text.str.extract(_YEAR_FIRST_RE)
    numeric, day_name, name_day = (text.str.extract(_NUMERIC_DATE_RE), text.str.extract(_DAY_NAME_RE),
                                   text.str.extract(_NAME_DAY_RE))
    # day and month as numbers: the order from the numbers (a part above 12 is the day), else from the cells
    # of the column written with the same separator, when they show one order and none shows the other
    first, sep, second = numeric[0].astype(float), numeric[1], numeric[2].astype(float)
    day_first, month_first = (first > 12) & (second <= 12), (second > 12) & (first <= 12)
    order = pd.Series(np.where(day_first, "dmy", np.where(month_first, "mdy", "")), index=index)
    proof = pd.Series(np.nan, index=index)
    for s in sep.dropna().unique():
        in_form = (sep == s).fillna(False).astype(bool)
        dmy, mdy = day_first & in_form, month_first & in_form
        if dmy.any() != mdy.any():
            shown = dmy if dmy.any() else mdy
            open_cells = in_form & (order == "")
            order[open_cells] = "dmy" if dmy.any() else "mdy"
            proof[open_cells] = shown.idxmax()
    equal = numeric[0].notna() & (order == "") & (first == second)  # 05/05/2023: one date either way
    ambiguous = numeric[0].notna() & (order == "") & ~equal & first.between(1, 12) & second.between(1, 12)
    mdy = order == "mdy"
    numeric_month, numeric_day = first.where(mdy, second), second.where(mdy, first)
    name_month = day_name[1].str.lower().map(_MONTHS).astype(float)
    day_name = day_name[name_month.notna()]
    other_month = name_day[0].str.lower().map(_MONTHS).astype(float)
    name_day = name_day[other_month.notna()]
    parts = pd.DataFrame({
        "year": iso[0].fillna(year_first[0]).fillna(numeric[3]).fillna(day_name[2]).fillna(name_day[2]).astype(float),
        "month": (iso[1].astype(float).fillna(year_first[2].astype(float)).fillna(numeric_month)
                  .fillna(name_month).fillna(other_month)),
        "day": (iso[2].astype(float).fillna(year_first[3].astype(float)).fillna(numeric_day)
                .fillna(day_name[0].astype(float)).fillna(name_day[1].astype(float))),
    }, index=index)
    parts.loc[ambiguous, ["month", "day"]] = np.nan

    def numeric_form(a: str, b: str) -> pd.Series:
        return a + sep + b + sep + "YYYY"

    pattern = pd.Series("", index=index, dtype="str")
    pattern = pattern.mask(year_first[0].notna(), "year-first format YYYY" + year_first[1] + "MM" + year_first[1] + "DD")
    pattern = pattern.mask(numeric[0].notna() & mdy & (sep == "/"), "US format MM/DD/YYYY")
    pattern = pattern.mask(numeric[0].notna() & mdy & (sep != "/"), "month-first format " + numeric_form("MM", "DD"))
    pattern = pattern.mask(numeric[0].notna() & (order == "dmy"), "day-first format " + numeric_form("DD", "MM"))
    pattern = pattern.mask(equal, numeric_form("DD", "MM") + " or " + numeric_form("MM", "DD") + " (day equals month)")
    pattern = pattern.mask(ambiguous, numeric_form("DD", "MM") + " or " + numeric_form("MM", "DD"))
    pattern = pattern.mask(day_name[0].reindex(index).notna(), "day-first format with a month name, like 17-Jan-2023")
    pattern = pattern.mask(name_day[0].reindex(index).notna(), "month-first format with a month name, like Jan 17, 2023")
    return parts, pattern.fillna(""), ambiguous, proof


def _parse_dates(text: pd.Series, today: pd.Timestamp) -> tuple[pd.Series, list[_Rule]]:
    """``manufacture_date`` cells to dates. A lot's rows repeat its date, so each distinct cell is read once
    (at its first row, which is the row a message names as showing a form) and the results are spread."""
    firsts = text.drop_duplicates()
    dates, rules = _parse_distinct_dates(firsts, today)
    rows = pd.Index(firsts).get_indexer(text)

    def spread(part: Any) -> Any:
        return part.iloc[rows].set_axis(text.index) if isinstance(part, pd.Series) else part

    return spread(dates), [_Rule(*map(spread, rule)) for rule in rules]


def _parse_distinct_dates(text: pd.Series, today: pd.Timestamp) -> tuple[pd.Series, list[_Rule]]:
    parts, pattern, ambiguous, proof = _date_parts(text)
    in_range = parts["year"].between(_FIRST_YEAR, _LAST_YEAR)
    dates = pd.to_datetime(parts.where(in_range), errors="coerce")
    read = dates.dt.strftime("%Y-%m-%d")
    non_iso = pattern != ""
    as_read = ("read as " + read + " (" + pattern + ")").where(non_iso, "")

    def cells(rows: pd.Series) -> pd.Series:  # a row number to "'<cell>' in row <n>"
        shown = rows.dropna().astype(int)
        return ("'" + text.reindex(shown.values).set_axis(shown.index) + "' in row " + shown.astype(str)).reindex(text.index)

    because = (", as " + cells(proof) + " shows").fillna("")
    year = parts["year"].map("{:.0f}".format, na_action="ignore")
    amb = text.str.extract(_NUMERIC_DATE_RE)
    ambiguous_detail = ("'" + text + "' is not an ISO date and is ambiguous: " + year + "-" + amb[2].str.zfill(2)
                        + "-" + amb[0].str.zfill(2) + " (day first) or " + year + "-" + amb[0].str.zfill(2) + "-"
                        + amb[2].str.zfill(2) + " (month first)").fillna("")
    future_detail = "'" + text + "' is after today (" + today.strftime("%Y-%m-%d") + ")" + (", " + as_read).where(non_iso, "")
    return dates.astype("datetime64[ns]"), [
        _Rule(text == "", ProblemKind.EMPTY, "the date is empty", "Enter the manufacture date as YYYY-MM-DD (e.g. 2024-03-05)."),
        _Rule(parts["year"].isna(), ProblemKind.NOT_A_DATE, "'{}' is not a date cgtkit can read",
              "Write dates as YYYY-MM-DD (e.g. 2024-03-05)."),
        _Rule(ambiguous, ProblemKind.AMBIGUOUS_DATE, ambiguous_detail,
              "Write the date as YYYY-MM-DD (e.g. 2023-04-03 for 3 April 2023).", pattern=pattern),
        _Rule(~in_range, ProblemKind.NOT_A_DATE, f"'{{}}' is outside the years {_FIRST_YEAR} to {_LAST_YEAR}",
              "Correct the year (YYYY-MM-DD)."),
        _Rule(dates.isna(), ProblemKind.NOT_A_DATE, "'{}' is not a valid calendar date",
              "Correct the day or month (YYYY-MM-DD)."),
        _Rule(dates > today, ProblemKind.FUTURE_DATE, future_detail,
              f"Correct the manufacture date: a lot cannot be made after today ({today:%Y-%m-%d}); check the year, "
              "and whether day and month are swapped, and write it as YYYY-MM-DD."),
        _Rule(non_iso, ProblemKind.NON_ISO_DATE, "'" + text + "' is not an ISO date; " + as_read + because,
              "None needed if this reading is right; to be sure, write dates as YYYY-MM-DD.", Severity.WARNING,
              pattern),
    ]


def parse_phase(text: str) -> tuple[str | None, str | None, bool, bool]:
    """Read one ``phase`` cell, as :func:`load_lots` does.

    Returns
    -------
    (phase, note, pivotal, known)
        ``phase`` is one of :data:`PHASES` when the cell names one (``Phase I/II``,
        ``1/2`` and ``I/II`` are ``phase 1/2``; ``non-clinical``, ``preclinical``
        and ``development`` are ``pre-IND``, for engineering lots; ``marketed``,
        ``commercial`` and ``phase 4`` are ``post-approval``), else the cell as
        written (``known`` False), or None when the cell is empty or says n/a.
        ``note`` is a remark in parentheses; ``pivotal`` is True when the cell
        says pivotal or registrational (a pivotal cell may name no phase).

    Examples
    --------
    >>> parse_phase("Phase 1/2 (dose escalation)")
    ('phase 1/2', 'dose escalation', False, True)
    >>> parse_phase("Pivotal")
    (None, None, True, True)
    >>> parse_phase("Non-clinical")
    ('pre-IND', None, False, True)
    >>> parse_phase("compassionate use")
    ('compassionate use', None, False, False)
    """
    cell = re.sub(r"\s+", " ", text.strip())
    base, note = cell, None
    if match := _REMARK_RE.match(cell):
        base, note = match.group(1), match.group(2).strip()
        note = note if _PIVOTAL_RE.sub("", note).strip(" ,;:-–") else None  # "(pivotal)" is the flag, not a note
    pivotal = bool(_PIVOTAL_RE.search(cell))
    words = _PIVOTAL_RE.sub(" ", base).lower()
    words = re.sub(r"\s+", " ", words).strip(" ,;:-–").removesuffix(" study").removesuffix(" trial").strip()
    if words in _NO_PHASE and (pivotal or note is None):
        return None, note, pivotal, True
    if words in _PHASE_WORDS:
        return _PHASE_WORDS[words], note, pivotal, True
    if number := _PHASE_RE.match(words):
        first, second = (_ROMAN.get(n, n) if n else None for n in number.groups())
        if (first, second) in _PHASE_PAIRS:
            return _PHASE_PAIRS[first, second], note, pivotal, True
    return cell, None, pivotal, False


def _parse_phases(text: pd.Series) -> tuple[pd.DataFrame, list[_Rule]]:
    """``phase`` cells to columns phase, phase_note, pivotal; an unknown phase is a warning, never an error."""
    read = {cell: parse_phase(cell) for cell in text.unique()}
    parsed = pd.DataFrame({
        "phase": pd.Series([read[cell][0] for cell in text], index=text.index, dtype="str"),
        "phase_note": pd.Series([read[cell][1] for cell in text], index=text.index, dtype="str"),
        "pivotal": pd.Series([read[cell][2] for cell in text], index=text.index, dtype=bool),
    })
    known = pd.Series([read[cell][3] for cell in text], index=text.index, dtype=bool)
    return parsed, [_Rule(~known, ProblemKind.NOT_A_PHASE, "'{}' is not a phase cgtkit knows; it is kept as written",
                          _PHASE_FIX, Severity.WARNING)]


def _parse_timepoints(text: pd.Series, unit: str | None) -> tuple[pd.Series, list[_Rule]]:
    """A time column's cells to numbers in the column's unit (``unit`` None: the unit is in ``time_unit``)."""
    times = text.where(text.str.fullmatch(_NUMBER)).astype(float)
    what = f"a number of {unit}" if unit else "a number"
    since = f"{unit} since manufacture" if unit else "counted from manufacture, in the unit of time_unit"
    example = {"months": "0, 3, 6", "days": "0, 7, 14", "hours": "0, 4, 8", "minutes": "0, 30, 60"}.get(unit or "",
                                                                                                      "0, 3, 6")
    return times, [
        _Rule((text != "") & ~np.isfinite(times), ProblemKind.NOT_A_TIMEPOINT, f"'{{}}' is not {what}",
              f"Enter the stability time point as a number (e.g. {example}), or leave it empty for a release result."),
        _Rule(times < 0, ProblemKind.NOT_A_TIMEPOINT, "'{}' is negative", f"Time points are {since} (0 or more)."),
    ]


def _time_units(cells: pd.DataFrame, column: str, has_time: pd.Series) -> tuple[pd.Series, list[_Rule]]:
    """Each row's time unit (NaN without a time point): the time column's own unit, or ``time_unit``'s, which must
    be one for the whole file. The rules are for the ``time_unit`` column."""
    raw = cells["time_unit"]
    read = _words(raw).str.strip(" .").map(TIME_UNIT_WORDS)
    fixed = TIME_COLUMNS[column]
    stated = has_time & (raw != "")
    fix_mixed = ("A data set has one time unit: convert the time points to one unit (minutes, hours, days or months) "
                 "and state it on every row, or load each unit as a data set of its own.")
    if fixed is not None:
        units = pd.Series(np.where(has_time, fixed, None), index=cells.index, dtype="object")
        return units, [_Rule(stated & read.notna() & (read != fixed), ProblemKind.MIXED_TIME_UNITS,
                             f"'{{}}' contradicts column '{column}', which holds {fixed}",
                             f"Leave time_unit empty or write {fixed} in it; {fix_mixed}"),
                       _Rule(stated & read.isna(), ProblemKind.NOT_A_TIME_UNIT, "'{}' is not a time unit",
                             "Write minutes, hours, days or months.")]
    known = read[has_time & read.notna()]
    first = known.iloc[0] if len(known) else None
    first_row = known.index[0] if len(known) else None
    return read.where(has_time), [
        _Rule(has_time & (raw == ""), ProblemKind.EMPTY, "the time unit is empty",
              "State the unit of the time point: minutes, hours, days or months (the same on every row)."),
        _Rule(stated & read.isna(), ProblemKind.NOT_A_TIME_UNIT, "'{}' is not a time unit",
              "Write minutes, hours, days or months."),
        _Rule(stated & read.notna() & (read != first), ProblemKind.MIXED_TIME_UNITS,
              f"'{{}}' differs from {first} in row {first_row}", fix_mixed),
    ]


def _time_column(cells: pd.DataFrame, columns: dict[str, int], name: str) -> str:
    """The one column that holds the file's time points; two, or ``timepoint`` without ``time_unit``, stop the load."""
    given = [c for c in TIME_COLUMNS if c in columns and cells[c].ne("").any()]
    if len(given) > 1:
        named = " and ".join(f"'{c}' ({_column_letter(columns[c])})" for c in given)
        raise _fail(name, f"columns {named} both hold time points. A data set has one time unit, stated once: keep "
                    "one time column (timepoint_months, timepoint_days, timepoint_hours, timepoint_minutes, or "
                    "timepoint with time_unit) and convert the others' time points to its unit, or load each unit "
                    "as a data set of its own.")
    if given == ["timepoint"] and "time_unit" not in columns:
        raise _fail(name, f"column 'timepoint' ({_column_letter(columns['timepoint'])}) holds time points but no "
                    "column states their unit. Add a column time_unit (minutes, hours, days or months), or name "
                    "the time column after its unit (e.g. timepoint_hours).")
    return given[0] if given else "timepoint_months"


def parse_value(text: str) -> tuple[float, str, str | None]:
    """Parse one ``value`` cell, by the same rules :func:`load_lots` applies to the column.

    Parameters
    ----------
    text : str
        The cell as written.

    Returns
    -------
    (value, censoring, result)
        ``value`` is a float (the reported limit for a censored result, NaN for
        a pass/fail word); ``censoring`` is ``"none"``, ``"left"`` (``<``,
        ``<=``, ``≤``) or ``"right"`` (``>``, ``>=``, ``≥``); ``result`` is
        ``"pass"``, ``"fail"`` or None.

    Raises
    ------
    ValueError
        With a sentence saying what is wrong and how to write it.

    Examples
    --------
    >>> parse_value("< 0.5")
    (0.5, 'left', None)
    >>> parse_value("No growth")
    (nan, 'none', 'pass')
    """
    stripped = text.strip()
    parsed, rules = _parse_values(pd.Series([stripped], dtype="str"))
    for rule in rules:
        if rule.mask.iloc[0]:
            raise ValueError(f"{rule.detail.format(stripped)}. {rule.fix}")
    value, censoring, result = parsed.iloc[0]
    return float(value), censoring, None if pd.isna(result) else result


# --- reading bytes -----------------------------------------------------------
def _read_source(source: Any, name: str | None) -> tuple[bytes | str, str, str | None]:
    """Return (content, display name, extension or None)."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        display, ext_name = name or path.name, name or path.name
        try:
            content: bytes | str = path.read_bytes()
        except FileNotFoundError:
            raise _fail(display, f"the file does not exist ({path}). Check the path.") from None
        except IsADirectoryError:
            raise _fail(display, f"{path} is a folder, not a file. Choose a .csv or .xlsx file.") from None
        except OSError as exc:
            raise _fail(display, f"the file cannot be read ({exc.strerror or exc}).") from exc
    elif isinstance(source, (bytes, bytearray, memoryview)):
        content, display, ext_name = bytes(source), name or _UPLOADED, name
    elif isinstance(source, Mapping) and "content" in source:
        # one entry of an ipywidgets 8 FileUpload value: {"name", "content", ...}
        content, ext_name = bytes(source["content"]), name or source.get("name")
        display = name or str(source.get("name") or _UPLOADED)
    elif hasattr(source, "read"):
        content = source.read()
        file_name = getattr(source, "name", None)
        ext_name = name or (Path(file_name).name if isinstance(file_name, str) else None)
        display = ext_name or _UPLOADED
        if not isinstance(content, (bytes, str)):
            raise _fail(display, "the file object returned neither bytes nor text. Open the file in binary mode.")
    else:
        raise TypeError(f"load_lots expects a path, bytes or a file object, not {type(source).__name__}")
    ext = Path(ext_name).suffix.lower() if ext_name else ""
    return content, display, ext or None


def _decode_csv(data: bytes, name: str) -> tuple[str, str]:
    """Decode CSV bytes; return (text, encoding)."""
    if data.startswith(_ZIP_MAGIC):
        raise _fail(name, "the file is an Excel workbook (or another ZIP file), not a CSV text file. "
                    "Give it the .xlsx extension, or save it from Excel as 'CSV UTF-8 (comma delimited)'.")
    if data.startswith(_OLE_MAGIC):
        raise _fail(name, "the file is an old-format Excel workbook (.xls), not a CSV text file. "
                    "Save it from Excel as 'CSV UTF-8 (comma delimited)' or as .xlsx.")
    utf16_bom = data.startswith((b"\xff\xfe", b"\xfe\xff"))
    if utf16_bom or b"\x00" in data:
        if utf16_bom or 0.2 < data.count(b"\x00") / len(data) <= 0.75:
            raise _fail(name, "the file is encoded as UTF-16 ('Unicode Text' in Excel), which cgtkit does not read. "
                        "Save it from Excel as 'CSV UTF-8 (comma delimited)'.")
        raise _fail(name, "the file contains binary data and is not a CSV text file. "
                    "Choose the lot data file saved as 'CSV UTF-8 (comma delimited)' or as .xlsx.")
    try:
        text, encoding = data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        try:
            text, encoding = data.decode("cp1252"), "cp1252"
        except UnicodeDecodeError as exc:
            raise _fail(name, f"the file is not valid UTF-8 text (byte 0x{data[exc.start]:02x} at position "
                        f"{exc.start}). Save it as 'CSV UTF-8 (comma delimited)'.") from None
    if _CONTROL_RE.search(text):
        raise _fail(name, "the file contains control characters and does not look like a CSV text file. "
                    "Save it as 'CSV UTF-8 (comma delimited)' or as .xlsx.")
    return text, encoding


def _normalise_header(text: str) -> str:
    return re.sub(r"[\s\-]+", "_", text.strip().lower())


def _choose_delimiter(text: str) -> str:
    known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
    first_line = next((line for line in text.splitlines() if line.strip()), "")

    def score(delimiter: str) -> tuple[int, int]:
        fields = next(csv.reader([first_line], delimiter=delimiter), [])
        return sum(_normalise_header(f) in known for f in fields), len(fields)

    return max((",", ";", "\t"), key=score)  # max keeps the first (comma) on a tie


def _read_csv(content: bytes | str, name: str) -> tuple[list[list[str]], dict[str, str]]:
    """Return the records (the header first) and what was read (encoding, delimiter)."""
    text, encoding = _decode_csv(content, name) if isinstance(content, bytes) else (content, "text")
    empty = "the file is empty. Export the lot data again with a header row and one row per result."
    if not text.strip():
        raise _fail(name, empty)
    delimiter = _choose_delimiter(text)
    reader = csv.reader(_io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        records = list(reader)
    except csv.Error as exc:
        raise _fail(name, f"row {reader.line_num}: the CSV cannot be parsed ({exc}). Check the quotes in that row.") from None
    header_index = next((i for i, rec in enumerate(records) if any(f.strip() for f in rec)), None)
    if header_index is None:
        raise _fail(name, empty)
    if header_index != 0:
        raise _fail(name, f"row 1 is empty; the header must be in row 1 (found in row {header_index + 1}). "
                    "Delete the empty rows above it.")
    return records, {"encoding": encoding, "delimiter": delimiter}


def _excel_cell_text(cell: Any) -> str:
    value = cell.value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        percent = "%" in (cell.number_format or "")
        number = round(float(value) * 100, 10) if percent else float(value)
        if math.isfinite(number) and number.is_integer() and abs(number) < 1e15:
            text = str(int(number))
        else:
            text = repr(number) if math.isfinite(number) else str(number)
        return text + "%" if percent else text
    if isinstance(value, _dt.datetime):
        return value.date().isoformat() if value.time() == _dt.time(0, 0) else value.isoformat(sep=" ")
    if isinstance(value, _dt.date):
        return value.isoformat()
    return str(value)


def _read_xlsx(data: bytes, name: str) -> tuple[list[list[str]], dict[str, str]]:
    """Return the first sheet's rows as text (the header first) and what was read (sheet, note)."""
    if not data.startswith(_ZIP_MAGIC):
        if data.startswith(_OLE_MAGIC):
            hint = ("it looks like an old-format .xls workbook or a password-protected file. "
                    "Save it from Excel as 'Excel Workbook (.xlsx)' without a password, or as CSV UTF-8.")
        else:
            try:
                data[:4096].decode("utf-8")
                hint = "its content looks like text (perhaps a CSV file). If it is CSV, give it the .csv extension."
            except UnicodeDecodeError:
                hint = "Open it in Excel and save it as 'Excel Workbook (.xlsx)'."
        raise _fail(name, f"the file is named like an Excel workbook but is not an .xlsx file: {hint}")
    import openpyxl  # heavy: import only when needed
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb_values = openpyxl.load_workbook(_io.BytesIO(data), data_only=True)
        wb_formulas = openpyxl.load_workbook(_io.BytesIO(data), data_only=False)
    except Exception as exc:  # also zipfile.BadZipFile and other corrupt-archive errors
        shown = f"{type(exc).__name__}: {exc}" if isinstance(
            exc, (InvalidFileException, KeyError, OSError, ValueError, TypeError)) else type(exc).__name__
        raise _fail(name, f"the file is not a readable .xlsx workbook ({shown}). "
                    "Open it in Excel and save it as 'Excel Workbook (.xlsx)'.") from None
    if not wb_values.worksheets:
        raise _fail(name, "the workbook has no worksheet. Put the lot data in the first sheet.")
    ws_values, ws_formulas = wb_values.worksheets[0], wb_formulas.worksheets[0]
    sheet = ws_values.title
    formula_cells: list[str] = []
    rows: list[list[str]] = []
    for row_values, row_formulas in zip(ws_values.iter_rows(), ws_formulas.iter_rows()):
        formula_cells += [v.coordinate for v, f in zip(row_values, row_formulas) if v.value is None and f.data_type == "f"]
        rows.append([_excel_cell_text(cell) for cell in row_values])
    if formula_cells:
        others = formula_cells[1 : _MAX_LISTED + 1]
        also = f" (also {', '.join(others)}{' ...' if len(formula_cells) > _MAX_LISTED + 1 else ''})" if others else ""
        raise _fail(name, f"sheet '{sheet}', cell {formula_cells[0]} contains a formula without a saved value{also}. "
                    "Open the file in Excel and save it, or paste values instead of formulas.")
    if not rows or not any(t.strip() for t in rows[0]):
        if any(any(t.strip() for t in texts) for texts in rows):
            raise _fail(name, f"sheet '{sheet}': row 1 is empty; the header must be in row 1. Delete the empty rows above it.")
        raise _fail(name, f"sheet '{sheet}' is empty. Put a header row and one row per result in the first sheet.")
    meta = {"sheet": sheet}
    if len(wb_values.worksheets) > 1:
        meta["note"] = f" cgtkit reads the first worksheet ('{sheet}'); move the lot data there."
    return rows, meta


# --- checking: whole columns at a time, failing cells mapped back to rows ----
def _column_letter(index: int) -> str:
    """0-based column index to a spreadsheet letter (0 -> A, 26 -> AA)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _map_columns(header: list[str], table: pd.DataFrame, name: str, note: str) -> dict[str, int]:
    """Map normalised column names to their index; check required columns."""
    columns: dict[str, int] = {}
    for index, raw in enumerate(header):
        norm = _normalise_header(raw)
        if not norm:
            if table[index].ne("").any():
                raise _fail(name, f"column {_column_letter(index)} has values but no header in row 1. "
                            "Add a header or delete the column.")
        elif norm in columns:
            raise _fail(name, f"columns {_column_letter(columns[norm])} and {_column_letter(index)} are both named "
                        f"'{norm}' in row 1. Rename or delete one of them.")
        else:
            columns[norm] = index
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        found = [h.strip() for h in header if h.strip()]
        hint = ""
        for delimiter, label in (("|", "'|'"), (":", "':'"), (" ", "spaces")) if len(found) == 1 else ():
            if sum(_normalise_header(p) in REQUIRED_COLUMNS for p in found[0].split(delimiter)) >= 2:
                hint = f" The file seems to use {label} as delimiter; save it as comma-separated (CSV)."
                break
        found_text = ", ".join(f"'{h}'" for h in found) or "none"
        raise _fail(name, f"missing required column(s) {', '.join(missing)}. Columns found in row 1: {found_text}. "
                    f"The header must be in row 1 and name the columns {', '.join(REQUIRED_COLUMNS)}.{hint}{note}")
    return columns


def _conflicts(cells: pd.DataFrame, key: str, column: str, shown: pd.Series, letters: dict[str, str],
               kind: ProblemKind, detail: str, fix: str, severity: Severity = Severity.ERROR) -> list[Problem]:
    """One problem per lot (or attribute: ``key``) with more than one value in ``column``, at its first other value.

    ``shown`` is the column as compared (normalised, NaN where unreadable); ``detail`` names the key with ``{}``,
    and the values found, with the row each is first found in, follow it.
    """
    firsts = pd.DataFrame({"key": cells[key], "value": shown}).dropna().drop_duplicates()
    problems = []
    for name, group in firsts[firsts.duplicated("key", keep=False)].groupby("key", sort=False):
        values = " and ".join(f"'{v}' (row {r})" for r, v in group["value"].head(3).items())
        row = int(group.index[1])
        problems.append(Problem(row, column, letters[column], cells.at[row, column], kind,
                                f"{detail.format(name)}: {values}", fix, severity))
    return problems


def _cross_row_problems(cells: pd.DataFrame, parsed: dict[str, Any], letters: dict[str, str],
                        time_column: str = "timepoint_months") -> list[Problem]:
    """One row per key; a lot's lot-level columns agree (the phase only with a warning); one unit per attribute."""
    problems = []
    keys = cells[["lot_id", "attribute", "storage_condition"]].assign(time=parsed["time"])
    keys = keys[(cells[time_column] == "") | keys["time"].notna()]  # an unreadable time point is no key
    first_row = keys.index.to_series().groupby([keys[c] for c in keys], dropna=False, sort=False).transform("first")
    for row in keys.index[first_row != keys.index]:
        lot, attribute, storage, time = keys.loc[row]
        unit = parsed["time_unit"].get(row)
        shown = f"{time:g} {unit}" if isinstance(unit, str) else f"{time:g} ({time_column})"
        held = (f"lot '{lot}', attribute '{attribute}'" + (f", time point {shown}" if pd.notna(time) else "")
                + (f", storage '{storage}'" if storage else ""))
        problems.append(Problem(
            int(row), None, None, "", ProblemKind.DUPLICATE, f"rows {first_row[row]} and {row} both hold {held}",
            "Keep one row per lot and attribute (for replicates, enter the reportable result), "
            "or correct the lot id or attribute of one row."))
    for col, label in (("manufacture_date", "manufacture dates"), ("lot_type", "lot types"),
                       ("process_version", "process versions"), ("donor_id", "donors")):
        if col in letters:
            shown = parsed[col].dt.strftime("%Y-%m-%d") if col == "manufacture_date" else parsed[col]
            problems += _conflicts(cells, "lot_id", col, shown, letters, ProblemKind.LOT_DISAGREES,
                                   f"lot '{{}}' has more than one of its {label}",
                                   f"A lot has one {col.replace('_', ' ')}; correct the wrong rows.")
    if "phase" in letters:
        problems += _conflicts(cells, "lot_id", "phase", _phase_shown(parsed["phase"]), letters,
                               ProblemKind.LOT_DISAGREES, "lot '{}' has more than one phase; the first is used",
                               "None needed if the first is right; a lot has one phase, so correct the other rows.",
                               Severity.WARNING)
    return problems + _conflicts(
        cells, "attribute", "unit", cells["unit"], letters, ProblemKind.UNIT_DISAGREES,
        "attribute '{}' has more than one unit",
        "Use one unit per attribute (convert the values if needed).")


def _phase_shown(phases: pd.DataFrame) -> pd.Series:
    """A phase as compared between a lot's rows: ``phase 1/2 (dose escalation), pivotal``; NaN for none."""
    shown = (phases["phase"].fillna("") + (" (" + phases["phase_note"] + ")").fillna("")
             + pd.Series(np.where(phases["pivotal"], ", pivotal", ""), index=phases.index))
    return shown.str.strip(", ").replace("", np.nan)


def _lot_phases(phases: pd.DataFrame, lots: pd.Series) -> pd.DataFrame:
    """Each row's phase, note and pivotal flag: those of its lot's first row that has any."""
    has = _phase_shown(phases).notna()
    first = phases[has].assign(lot_id=lots[has]).drop_duplicates("lot_id").set_index("lot_id")
    out = first.reindex(lots.values).set_axis(lots.index)
    out["pivotal"] = out["pivotal"].fillna(False).astype(bool)
    return out


def _build(records: list[list[str]], name: str, note: str, today: pd.Timestamp, warnings: list[Problem] | None) -> pd.DataFrame:
    """Check the records column by column and return the long format, or raise with every error."""
    header, width = records[0], max(map(len, records))
    table = pd.DataFrame([rec + [""] * (width - len(rec)) for rec in records[1:]], columns=range(width),
                         index=pd.RangeIndex(2, len(records) + 1), dtype="str").apply(lambda c: c.str.strip())
    columns = _map_columns(header, table, name, note)
    letters = {col: _column_letter(i) for col, i in columns.items()}
    wide = table.iloc[:, len(header):].ne("").any(axis=1)
    problems = [
        Problem(row, None, None, "", ProblemKind.TOO_MANY_VALUES,
                f"{len(records[row - 1])} values but the header has {len(header)} columns",
                "A value probably contains the delimiter; put that value in quotes or remove the extra values.")
        for row in wide.index[wide]
    ]
    cells = table.loc[table.ne("").any(axis=1) & ~wide, list(columns.values())].set_axis(list(columns), axis=1)
    for col in OPTIONAL_COLUMNS:
        cells[col] = cells.get(col, "")

    def at_row(texts: str | pd.Series, row: int) -> Any:
        return texts[row] if isinstance(texts, pd.Series) else texts

    def check(column: str, rules: list[_Rule]) -> None:
        hits = pd.concat([rule.mask for rule in rules], axis=1, ignore_index=True).fillna(False).astype(bool)
        for row, first in hits[hits.any(axis=1)].idxmax(axis=1).items():  # idxmax: the first rule that holds
            rule = rules[first]
            value = cells.at[row, column]
            detail = rule.detail[row] if isinstance(rule.detail, pd.Series) else rule.detail.format(value)
            problems.append(Problem(row, column, letters.get(column), value, rule.kind, detail,
                                    at_row(rule.fix, row), rule.severity, at_row(rule.pattern, row)))

    for col in ("lot_id", "attribute"):
        check(col, [_Rule(cells[col] == "", ProblemKind.EMPTY, "the cell is empty", f"Fill in the {col.replace('_', ' ')}.")])
    lot_types = _words(cells["lot_type"]).where(lambda t: t.isin(LOT_TYPES))
    lot_types_fix = f"Use one of: {', '.join(LOT_TYPES)}."
    check("lot_type", [_Rule(cells["lot_type"] == "", ProblemKind.EMPTY, "the lot type is empty", lot_types_fix),
                       _Rule(lot_types.isna(), ProblemKind.NOT_A_LOT_TYPE, "'{}' is not a lot type", lot_types_fix)])
    parsed: dict[str, Any] = {"lot_type": lot_types, "process_version": cells["process_version"].replace("", np.nan),
                              "donor_id": cells["donor_id"].replace("", np.nan)}
    parsed["value"], rules = _parse_values(cells["value"])
    check("value", rules + _bounds_rules(cells["value"], parsed["value"]["value"], cells["attribute"]))
    parsed["manufacture_date"], rules = _parse_dates(cells["manufacture_date"], today)
    check("manufacture_date", rules)
    parsed["phase"], rules = _parse_phases(cells["phase"])
    check("phase", rules)
    time_column = _time_column(cells, columns, name)
    parsed["time"], rules = _parse_timepoints(cells[time_column], TIME_COLUMNS[time_column])
    check(time_column, rules)
    parsed["time_unit"], rules = _time_units(cells, time_column, cells[time_column] != "")
    check("time_unit", rules)
    problems += _cross_row_problems(cells, parsed, letters, time_column)
    errors = sorted((p for p in problems if p.severity is Severity.ERROR), key=Problem._order)
    if warnings is not None:
        warnings.extend(sorted((p for p in problems if p.severity is Severity.WARNING), key=Problem._order))
    if errors:
        raise LotDataError(_render(name, errors), problems=errors)
    if cells.empty:
        raise _fail(name, "the file has a header row but no data rows. Add one row per lot and attribute.")

    process_versions = parsed["process_version"]  # blanks take the lot's value
    donors = parsed["donor_id"]
    values, phases = parsed["value"], _lot_phases(parsed["phase"], cells["lot_id"])
    out = cells.assign(
        value=values["value"], censoring=values["censoring"], result=values["result"], original_value=cells["value"],
        lot_type=lot_types, manufacture_date=parsed["manufacture_date"],
        process_version=process_versions.fillna(process_versions.groupby(cells["lot_id"]).transform("first")),
        phase=phases["phase"], phase_note=phases["phase_note"], pivotal=phases["pivotal"],
        timepoint_months=parsed["time"] * parsed["time_unit"].map(_MONTHS_PER).astype(float),
        timepoint=parsed["time"], time_unit=parsed["time_unit"].astype("object").where(parsed["time"].notna()),
        storage_condition=cells["storage_condition"].replace("", np.nan),
        donor_id=donors.fillna(donors.groupby(cells["lot_id"]).transform("first")),
        source_row=cells.index.astype("int64"),
    )
    out = out.sort_values(["manufacture_date", "lot_id", "attribute", "timepoint_months", "storage_condition"],
                          kind="mergesort", na_position="first")
    return out.reset_index(drop=True)[list(LONG_FORMAT_COLUMNS)]


# --- public API --------------------------------------------------------------
def load_lots(
    path_or_buffer: str | os.PathLike[str] | bytes | BinaryIO | Mapping[str, Any],
    *,
    name: str | None = None,
    warnings: list[Problem] | None = None,
    today: _dt.date | None = None,
) -> pd.DataFrame:
    """Read a CSV or XLSX lot data file into the long format.

    Every page works on this one checked table, so a bad file is stopped here
    with a message the user can act on rather than failing later in a statistic.

    Parameters
    ----------
    path_or_buffer : str, Path, bytes, binary file object, or mapping
        A path; the file's bytes; an open binary file; or one entry of an
        ipywidgets ``FileUpload`` value (a mapping with ``content`` and
        ``name``).
    name : str, optional
        The file name shown in messages; its extension (``.csv``, ``.xlsx``)
        decides how the content is read. Defaults to the path's name, the
        upload's name, or "uploaded file".
    warnings : list, optional
        A list to receive the warnings: :class:`Problem` records of
        :attr:`Severity.WARNING` for what was read but is worth a look (dates
        not in ISO form, unknown phases, a lot with two phases), in row order.
        They are appended whether the file loads or not (but not when the file
        as a whole cannot be read); :func:`problem_lines` words them.
    today : datetime.date, optional
        Manufacture dates after this day are errors. Defaults to
        ``datetime.date.today()``.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`LONG_FORMAT_COLUMNS`, sorted by manufacture date, lot,
        attribute (then time point and storage condition). ``attrs`` holds
        ``source_name`` and, for CSV, ``encoding`` and ``delimiter`` or, for
        XLSX, ``sheet``.

    Raises
    ------
    LotDataError
        For any error in the file; the message names the file, the row
        (header = row 1), the column, the value and the fix. Its ``problems``
        lists the errors in the content as :class:`Problem` records (empty
        when the file as a whole cannot be read); warnings are not among them.

    Examples
    --------
    >>> header = b"lot_id,attribute,value,unit,lot_type,manufacture_date\\n"
    >>> df = load_lots(header + b"L1,endotoxin,<0.5,EU/mL,PPQ,2025-03-01\\n", name="x.csv")
    >>> row = df.iloc[0]
    >>> float(row["value"]), row["censoring"], row["lot_type"]
    (0.5, 'left', 'ppq')
    >>> try:
    ...     load_lots(header + b"L1,viability,eighty,%,pilot,2025-03-01\\n", name="x.csv")
    ... except LotDataError as exc:
    ...     [(p.row, p.column_letter, p.kind.value) for p in exc.problems]
    [(2, 'C', 'not_a_value'), (2, 'E', 'not_a_lot_type')]
    >>> found = []
    >>> df = load_lots(header + b"L1,viability,88.5 %,%,clinical,01/17/2025\\n", name="x.csv", warnings=found)
    >>> str(df.loc[0, "manufacture_date"].date()), [str(w) for w in found]  # doctest: +NORMALIZE_WHITESPACE
    ('2025-01-17', ["row 2, column 'manufacture_date' (F): '01/17/2025' is not an ISO date; read as 2025-01-17
      (US format MM/DD/YYYY). Fix: None needed if this reading is right; to be sure, write dates as YYYY-MM-DD."])
    """
    content, display, ext = _read_source(path_or_buffer, name)
    if ext == ".xls":
        raise _fail(display, "the old Excel format .xls is not supported. Save the file as .xlsx or as CSV UTF-8.")
    if ext is not None and ext not in _CSV_EXTENSIONS | _XLSX_EXTENSIONS:
        raise _fail(display, f"files of type '{ext}' are not supported. "
                    "Save the lot data as .csv (comma-separated, UTF-8) or .xlsx.")
    if len(content) == 0:
        raise _fail(display, "the file is empty (0 bytes). Export the lot data again with a header row and one row per result.")
    if ext in _XLSX_EXTENSIONS or (ext is None and isinstance(content, bytes) and content.startswith(_ZIP_MAGIC)):
        if isinstance(content, str):
            raise _fail(display, "an .xlsx file must be opened in binary mode ('rb').")
        records, meta = _read_xlsx(content, display)
    else:
        records, meta = _read_csv(content, display)
    day = today or _dt.date.today()
    if isinstance(day, _dt.datetime):
        day = day.date()
    df = _build(records, display, meta.pop("note", ""), pd.Timestamp(day), warnings)
    df.attrs.update({"source_name": display, **meta})
    return df


def _require_long_format(df: pd.DataFrame, columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise LotDataError(
            f"The table is not in cgtkit's long format: missing column(s) {', '.join(missing)}. "
            "Load lot data with cgtkit.io.load_lots."
        )


def lots_summary(df: pd.DataFrame) -> pd.DataFrame:
    """One row per lot, in manufacture order.

    The pages list lots (type, date, process version, phase) without repeating
    them once per attribute, so they summarise the long format here.

    Returns
    -------
    pandas.DataFrame
        Columns ``lot_id``, ``lot_type``, ``manufacture_date``,
        ``process_version``, ``phase``, ``n_attributes`` (distinct attributes
        of the lot, all time points counted once).
    """
    _require_long_format(df, ("lot_id", "lot_type", "manufacture_date", "attribute"))
    work = df.copy()
    for col in ("process_version", "phase"):
        if col not in work.columns:
            work[col] = pd.Series(np.nan, index=work.index, dtype="str")
    summary = (
        work.groupby("lot_id", sort=False)
        .agg(
            lot_type=("lot_type", "first"),
            manufacture_date=("manufacture_date", "first"),
            process_version=("process_version", "first"),
            phase=("phase", "first"),
            n_attributes=("attribute", "nunique"),
        )
        .reset_index()
    )
    summary = summary.sort_values(["manufacture_date", "lot_id"], kind="mergesort").reset_index(drop=True)
    summary["n_attributes"] = summary["n_attributes"].astype("int64")
    return summary[["lot_id", "lot_type", "manufacture_date", "process_version", "phase", "n_attributes"]]


def attribute_values(df: pd.DataFrame, attribute: str) -> pd.DataFrame:
    """The release values of one attribute, in manufacture order.

    Specifications and trend statistics work on release results only, so this is
    the one place that decides which rows those are: rows whose
    ``timepoint_months`` is missing or 0 (when the column exists); later
    stability time points are left out.

    Returns
    -------
    pandas.DataFrame
        The matching rows of ``df`` (all its columns), sorted by manufacture
        date then lot, with a fresh index.

    Raises
    ------
    LotDataError
        When the attribute is not in the data; the message lists those that are.
    """
    _require_long_format(df, ("attribute", "manufacture_date", "lot_id"))
    mask = df["attribute"] == attribute
    if not mask.any():
        present = ", ".join(sorted(df["attribute"].dropna().unique()))
        raise LotDataError(f"Attribute '{attribute}' is not in the data. Attributes present: {present or 'none'}.")
    if "timepoint_months" in df.columns:
        tp = df["timepoint_months"]
        mask &= tp.isna() | (tp == 0)
    out = df.loc[mask].sort_values(["manufacture_date", "lot_id"], kind="mergesort")
    return out.reset_index(drop=True)
