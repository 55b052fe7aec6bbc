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
line each, or one line per kind and column when there are many. The exception's
``problems`` attribute holds them as :class:`Problem` records (row, column,
column letter, value, kind, detail, fix), e.g. for a table in the UI.

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
                                 ``>1e9``, ``>=``, ``≥``); or a pass/fail word
``unit``               yes       unit as text; may be empty for pass/fail tests
``lot_type``           yes       ``engineering``, ``clinical``, ``ppq``, ``commercial``
                                 (any case; :data:`cgtkit.vocab.LOT_TYPES`)
``manufacture_date``   yes       ISO date ``YYYY-MM-DD`` (a time part is dropped;
                                 years 1678 to 2261)
``process_version``    no        text, e.g. ``v1``
``phase``              no        ``phase 1``, ``phase 1/2``, ``phase 2``, ``phase 2/3``,
                                 ``phase 3``, ``commercial`` (``Phase I``, ``1`` accepted)
``timepoint_months``   no        stability time point in months (>= 0); empty or 0
                                 means a release result
``storage_condition``  no        stability storage condition, text
=====================  ========  ====================================================

Other columns are ignored. Pass words: ``pass``, ``passed``, ``no growth``,
``negative``, ``not detected``; fail words: ``fail``, ``failed``, ``growth``,
``positive``, ``detected`` (any case).

Output columns, in this order (:data:`LONG_FORMAT_COLUMNS`):

``lot_id`` (str), ``attribute`` (str), ``value`` (float; the reported limit for a
censored result; NaN for pass/fail), ``censoring`` (str: ``none``, ``left`` for
``<``/``<=``, ``right`` for ``>``/``>=``), ``result`` (str ``pass``/``fail`` for
pass/fail results, else NaN), ``original_value`` (str, as written),
``unit`` (str, "" when empty), ``lot_type`` (str, lower case),
``manufacture_date`` (datetime64[ns]), ``process_version`` (str or NaN),
``phase`` (str or NaN), ``timepoint_months`` (float or NaN),
``storage_condition`` (str or NaN), ``source_row`` (int: the row in the file).

Rules:

* One row per lot, attribute, time point and storage condition (the uniqueness
  key); replicate measurements go in as their reportable result.
* Lot-level columns (``manufacture_date``, ``lot_type``, ``process_version``,
  ``phase``) must agree across a lot's rows; blanks in ``process_version`` and
  ``phase`` are filled from the lot's other rows.
* One unit per attribute.
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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd

from cgtkit.errors import LotDataError
from cgtkit.vocab import LOT_TYPES

__all__ = [
    "FAIL_WORDS", "LONG_FORMAT_COLUMNS", "OPTIONAL_COLUMNS", "PASS_WORDS", "PHASES", "REQUIRED_COLUMNS",
    "Problem", "ProblemKind", "attribute_values", "load_lots", "lots_summary", "parse_value",
]

REQUIRED_COLUMNS: tuple[str, ...] = ("lot_id", "attribute", "value", "unit", "lot_type", "manufacture_date")
OPTIONAL_COLUMNS: tuple[str, ...] = ("process_version", "phase", "timepoint_months", "storage_condition")

#: Columns of the DataFrame :func:`load_lots` returns, in order.
LONG_FORMAT_COLUMNS: tuple[str, ...] = (
    "lot_id", "attribute", "value", "censoring", "result", "original_value", "unit", "lot_type",
    "manufacture_date", "process_version", "phase", "timepoint_months", "storage_condition", "source_row",
)

PHASES: tuple[str, ...] = ("phase 1", "phase 1/2", "phase 2", "phase 2/3", "phase 3", "commercial")
PASS_WORDS: frozenset[str] = frozenset({"pass", "passed", "no growth", "negative", "not detected"})
FAIL_WORDS: frozenset[str] = frozenset({"fail", "failed", "growth", "positive", "detected"})

_CSV_EXTENSIONS = {".csv", ".txt", ".tsv"}
_XLSX_EXTENSIONS = {".xlsx", ".xlsm"}
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_MAX_LISTED = 10  # rows named in one line of a message
_LIST_EACH = 3  # up to this many problems of one kind and column get a line each
_UPLOADED = "uploaded file"

_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_VALUE_RE = rf"^(?P<op><=|=<|≤|<|>=|=>|≥|>)?\s*(?P<number>{_NUMBER})\s*%?$"
_CENSORING = {**dict.fromkeys(("<", "<=", "=<", "≤"), "left"), **dict.fromkeys((">", ">=", "=>", "≥"), "right")}
_RESULTS = {**dict.fromkeys(PASS_WORDS, "pass"), **dict.fromkeys(FAIL_WORDS, "fail")}
_DATE_RE = r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
_PHASE_RE = r"^(?:phase|ph\.?)?\s*(1|2|3|iii|ii|i)(?:\s*/\s*(1|2|3|iii|ii|i))?$"
_ROMAN = {"i": "1", "ii": "2", "iii": "3"}
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

_VALUE_FIX = (
    "Enter a number (e.g. 88.5 or 1.2e13), a censored result (e.g. <0.5 or >1e9), "
    "or a pass/fail word (pass, fail, no growth, negative, not detected, growth, positive, detected)."
)


# --- problems as data --------------------------------------------------------
class ProblemKind(StrEnum):
    """What is wrong; a message puts many problems of one kind in one column on one line."""

    EMPTY = "empty"
    TOO_MANY_VALUES = "too_many_values"
    NOT_A_VALUE = "not_a_value"
    NOT_A_LOT_TYPE = "not_a_lot_type"
    NOT_A_DATE = "not_a_date"
    NOT_A_PHASE = "not_a_phase"
    NOT_A_TIMEPOINT = "not_a_timepoint"
    DUPLICATE = "duplicate"
    LOT_DISAGREES = "lot_disagrees"
    UNIT_DISAGREES = "unit_disagrees"


_LABELS = {  # how a count of problems of a kind reads: "12 values are not dates"
    ProblemKind.EMPTY: "cells are empty",
    ProblemKind.TOO_MANY_VALUES: "rows have more values than the header has columns",
    ProblemKind.NOT_A_VALUE: "values are not numbers, censored results or pass/fail words",
    ProblemKind.NOT_A_LOT_TYPE: "values are not lot types",
    ProblemKind.NOT_A_DATE: "values are not dates",
    ProblemKind.NOT_A_PHASE: "values are not phases",
    ProblemKind.NOT_A_TIMEPOINT: "values are not time points in months",
    ProblemKind.DUPLICATE: "rows repeat the lot, attribute, time point and storage condition of an earlier row",
    ProblemKind.LOT_DISAGREES: "lots have more than one value",
    ProblemKind.UNIT_DISAGREES: "attributes have more than one unit",
}


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem in a lot data file, located as a spreadsheet shows it.

    ``row`` counts the header as row 1; ``column`` is the normalised column name
    and ``column_letter`` its spreadsheet letter (both None when the problem is a
    whole row); ``value`` is the cell as written; ``detail`` says what is wrong
    and ``fix`` how to correct it. Kept as data so a page can show a table.

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

    def _order(self) -> tuple[int, int, str]:  # rows top-down, then columns left to right (Z before AA)
        letter = self.column_letter or ""
        return self.row, len(letter), letter

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", column '{self.column}' ({self.column_letter})" if self.column else "")
        return f"{where}: {self.detail}. Fix: {self.fix}"


def _render(name: str, problems: Sequence[Problem]) -> str:
    """The one message for all problems, in row order: a line each, or one line per kind, column and fix when many."""
    groups: dict[tuple[ProblemKind, str | None, str], list[Problem]] = {}
    for p in sorted(problems, key=Problem._order):
        groups.setdefault((p.kind, p.column, p.fix), []).append(p)
    lines: list[tuple[tuple[int, int, str], str]] = []
    for (kind, column, fix), group in groups.items():
        if len(group) <= _LIST_EACH:
            lines += [(p._order(), f"- {p}") for p in group]
            continue
        rows = ", ".join(f"{p.row} ('{p.value}')" if p.value else str(p.row) for p in group[:_MAX_LISTED])
        more = f" ... and {len(group) - _MAX_LISTED} more" if len(group) > _MAX_LISTED else ""
        where = f"Column '{column}' ({group[0].column_letter}): " if column else ""
        lines.append((group[0]._order(), f"- {where}{len(group)} {_LABELS[kind]}: rows {rows}{more}. Fix: {fix}"))
    noun = "problem" if len(problems) == 1 else "problems"
    listed = "\n".join(text for _, text in sorted(lines))
    return f"Cannot load lot data from '{name}': {len(problems)} {noun} found.\n{listed}"


def _fail(name: str, message: str) -> LotDataError:
    return LotDataError(f"Cannot load lot data from '{name}': {message}")


# --- column-wise parsing: each returns the parsed column and its rules, as
# (mask of bad cells, kind, detail with {} for the value, fix); the first rule
# that holds for a cell explains it
_Rule = tuple[pd.Series, ProblemKind, str, str]


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
        (bad & (text == ""), ProblemKind.EMPTY, "the value is empty", f"{_VALUE_FIX} Or delete the row."),
        (bad & number.notna(), bad_value, "'{}' is too large to be a number", "Check the exponent."),
        (bad & text.str.match(r"[<>≤≥]"), bad_value, "'{}' is a censored result without a number",
         "Write the limit as a number, e.g. <10 for a result below a limit of quantitation of 10."),
        (bad & text.str.fullmatch(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?"), bad_value, "'{}' contains a comma",
         "If it is a thousands separator, remove it (1000 rather than 1,000); "
         "if it is a decimal comma, write a decimal point (0.5 rather than 0,5)."),
        (bad & text.str.fullmatch(r"[+-]?\d+,\d+"), bad_value, "'{}' uses a decimal comma",
         "Write it with a decimal point, e.g. 0.5 rather than 0,5."),
        (bad, bad_value, "'{}' is not a number, a censored result or a pass/fail word", _VALUE_FIX),
    ]
    censoring = parts["op"].map(_CENSORING).fillna("none")
    return pd.DataFrame({"value": number.where(result.isna()), "censoring": censoring, "result": result}), rules


def _parse_dates(text: pd.Series) -> tuple[pd.Series, list[_Rule]]:
    parts = text.str.extract(_DATE_RE)
    year = parts[0].astype(float)
    dates = pd.to_datetime(parts[0] + "-" + parts[1] + "-" + parts[2], format="%Y-%m-%d", errors="coerce")
    return dates, [
        (text == "", ProblemKind.EMPTY, "the date is empty", "Enter the manufacture date as YYYY-MM-DD (e.g. 2024-03-05)."),
        (year.isna(), ProblemKind.NOT_A_DATE, "'{}' is not an ISO date",
         "Write dates as YYYY-MM-DD (e.g. 2024-03-05); forms like 03/05/2024 are ambiguous."),
        (~year.between(1678, 2261), ProblemKind.NOT_A_DATE, "'{}' is outside the years 1678 to 2261",
         "Correct the year (YYYY-MM-DD)."),
        (dates.isna(), ProblemKind.NOT_A_DATE, "'{}' is not a valid calendar date", "Correct the day or month (YYYY-MM-DD)."),
    ]


def _parse_phases(text: pd.Series) -> tuple[pd.Series, list[_Rule]]:
    words = _words(text)
    parts = words.str.extract(_PHASE_RE).replace(_ROMAN)
    candidate = "phase " + parts[0] + ("/" + parts[1]).fillna("")
    phases = words.where(words.isin(PHASES), candidate.where(candidate.isin(PHASES)))
    fix = f"Use one of: {', '.join(PHASES)} (or leave it empty)."
    return phases, [((text != "") & phases.isna(), ProblemKind.NOT_A_PHASE, "'{}' is not a phase", fix)]


def _parse_timepoints(text: pd.Series) -> tuple[pd.Series, list[_Rule]]:
    months = text.where(text.str.fullmatch(_NUMBER)).astype(float)
    return months, [
        ((text != "") & ~np.isfinite(months), ProblemKind.NOT_A_TIMEPOINT, "'{}' is not a number of months",
         "Enter the stability time point in months (e.g. 0, 3, 6), or leave it empty for a release result."),
        (months < 0, ProblemKind.NOT_A_TIMEPOINT, "'{}' is negative", "Time points are months since manufacture (0 or more)."),
    ]


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
    for mask, _, detail, fix in rules:
        if mask.iloc[0]:
            raise ValueError(f"{detail.format(stripped)}. {fix}")
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
               kind: ProblemKind, detail: str, fix: str) -> list[Problem]:
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
                                f"{detail.format(name)}: {values}", fix))
    return problems


def _cross_row_problems(cells: pd.DataFrame, parsed: dict[str, Any], letters: dict[str, str]) -> list[Problem]:
    """One row per key; a lot's lot-level columns agree; one unit per attribute."""
    problems = []
    keys = cells[["lot_id", "attribute", "storage_condition"]].assign(months=parsed["timepoint_months"])
    keys = keys[(cells["timepoint_months"] == "") | keys["months"].notna()]  # an unreadable time point is no key
    first_row = keys.index.to_series().groupby([keys[c] for c in keys], dropna=False, sort=False).transform("first")
    for row in keys.index[first_row != keys.index]:
        lot, attribute, storage, months = keys.loc[row]
        held = (f"lot '{lot}', attribute '{attribute}'" + (f", time point {months:g} months" if pd.notna(months) else "")
                + (f", storage '{storage}'" if storage else ""))
        problems.append(Problem(
            int(row), None, None, "", ProblemKind.DUPLICATE, f"rows {first_row[row]} and {row} both hold {held}",
            "Keep one row per lot and attribute (for replicates, enter the reportable result), "
            "or correct the lot id or attribute of one row."))
    for col, label in (("manufacture_date", "manufacture dates"), ("lot_type", "lot types"),
                       ("process_version", "process versions"), ("phase", "phases")):
        if col in letters:
            shown = parsed[col].dt.strftime("%Y-%m-%d") if col == "manufacture_date" else parsed[col]
            problems += _conflicts(cells, "lot_id", col, shown, letters, ProblemKind.LOT_DISAGREES,
                                   f"lot '{{}}' has more than one of its {label}",
                                   f"A lot has one {col.replace('_', ' ')}; correct the wrong rows.")
    return problems + _conflicts(
        cells, "attribute", "unit", cells["unit"], letters, ProblemKind.UNIT_DISAGREES,
        "attribute '{}' has more than one unit",
        "Use one unit per attribute (convert the values if needed).")


def _build(records: list[list[str]], name: str, note: str = "") -> pd.DataFrame:
    """Check the records column by column and return the long format, or raise with every problem."""
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

    def check(column: str, rules: list[_Rule]) -> None:
        hits = pd.concat([mask for mask, *_ in rules], axis=1, ignore_index=True).fillna(False).astype(bool)
        for row, first in hits[hits.any(axis=1)].idxmax(axis=1).items():  # idxmax: the first rule that holds
            _, kind, detail, fix = rules[first]
            value = cells.at[row, column]
            problems.append(Problem(row, column, letters[column], value, kind, detail.format(value), fix))

    for col in ("lot_id", "attribute"):
        check(col, [(cells[col] == "", ProblemKind.EMPTY, "the cell is empty", f"Fill in the {col.replace('_', ' ')}.")])
    lot_types = _words(cells["lot_type"]).where(lambda t: t.isin(LOT_TYPES))
    lot_types_fix = f"Use one of: {', '.join(LOT_TYPES)}."
    check("lot_type", [(cells["lot_type"] == "", ProblemKind.EMPTY, "the lot type is empty", lot_types_fix),
                       (lot_types.isna(), ProblemKind.NOT_A_LOT_TYPE, "'{}' is not a lot type", lot_types_fix)])
    parsed = {"lot_type": lot_types, "process_version": cells["process_version"].replace("", np.nan)}
    for col, parse in (("value", _parse_values), ("manufacture_date", _parse_dates),
                       ("phase", _parse_phases), ("timepoint_months", _parse_timepoints)):
        parsed[col], rules = parse(cells[col])
        check(col, rules)
    problems += _cross_row_problems(cells, parsed, letters)
    if problems:
        raise LotDataError(_render(name, problems), problems=sorted(problems, key=Problem._order))
    if cells.empty:
        raise _fail(name, "the file has a header row but no data rows. Add one row per lot and attribute.")

    def filled(column: str) -> pd.Series:  # blanks take the lot's value
        return parsed[column].fillna(parsed[column].groupby(cells["lot_id"]).transform("first"))

    values = parsed["value"]
    out = cells.assign(
        value=values["value"], censoring=values["censoring"], result=values["result"], original_value=cells["value"],
        lot_type=lot_types, manufacture_date=parsed["manufacture_date"].astype("datetime64[ns]"),
        process_version=filled("process_version"), phase=filled("phase"), timepoint_months=parsed["timepoint_months"],
        storage_condition=cells["storage_condition"].replace("", np.nan), source_row=cells.index.astype("int64"),
    )
    out = out.sort_values(["manufacture_date", "lot_id", "attribute", "timepoint_months", "storage_condition"],
                          kind="mergesort", na_position="first")
    return out.reset_index(drop=True)[list(LONG_FORMAT_COLUMNS)]


# --- public API --------------------------------------------------------------
def load_lots(path_or_buffer: str | os.PathLike[str] | bytes | BinaryIO | Mapping[str, Any], *, name: str | None = None) -> pd.DataFrame:
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
        For any problem with the file; the message names the file, the row
        (header = row 1), the column, the value and the fix. Its ``problems``
        lists the problems in the content as :class:`Problem` records (empty
        when the file as a whole cannot be read).

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
    df = _build(records, display, meta.pop("note", ""))
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
