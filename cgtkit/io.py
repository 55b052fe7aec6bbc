"""Lot data in: CSV or XLSX files read into cgtkit's one long format.

Every data set in cgtkit (release results, stability results) is a table with
one row per lot, attribute and (for stability) time point and storage
condition. :func:`load_lots` reads a file, checks it and returns that table;
every problem raises :class:`cgtkit.errors.LotDataError` with a message that
names the file, the row as a spreadsheet shows it (the header is row 1, the
first data row is row 2), the column, and how to fix it.

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
                                 (any case)
``manufacture_date``   yes       ISO date ``YYYY-MM-DD`` (a time part is dropped)
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
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd

from cgtkit.errors import LotDataError

__all__ = [
    "FAIL_WORDS",
    "LONG_FORMAT_COLUMNS",
    "LOT_TYPES",
    "OPTIONAL_COLUMNS",
    "PASS_WORDS",
    "PHASES",
    "REQUIRED_COLUMNS",
    "attribute_values",
    "load_lots",
    "lots_summary",
    "parse_value",
]

REQUIRED_COLUMNS: tuple[str, ...] = ("lot_id", "attribute", "value", "unit", "lot_type", "manufacture_date")
OPTIONAL_COLUMNS: tuple[str, ...] = ("process_version", "phase", "timepoint_months", "storage_condition")

#: Columns of the DataFrame :func:`load_lots` returns, in order.
LONG_FORMAT_COLUMNS: tuple[str, ...] = (
    "lot_id",
    "attribute",
    "value",
    "censoring",
    "result",
    "original_value",
    "unit",
    "lot_type",
    "manufacture_date",
    "process_version",
    "phase",
    "timepoint_months",
    "storage_condition",
    "source_row",
)

LOT_TYPES: tuple[str, ...] = ("engineering", "clinical", "ppq", "commercial")
PHASES: tuple[str, ...] = ("phase 1", "phase 1/2", "phase 2", "phase 2/3", "phase 3", "commercial")
PASS_WORDS: frozenset[str] = frozenset({"pass", "passed", "no growth", "negative", "not detected"})
FAIL_WORDS: frozenset[str] = frozenset({"fail", "failed", "growth", "positive", "detected"})

_CSV_EXTENSIONS = {".csv", ".txt", ".tsv"}
_XLSX_EXTENSIONS = {".xlsx", ".xlsm"}
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_MAX_LISTED = 10
_UPLOADED = "uploaded file"

_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_NUMBER_RE = re.compile(rf"^({_NUMBER})\s*(%?)$")
_CENSORED_RE = re.compile(rf"^(<=|=<|≤|<|>=|=>|≥|>)\s*({_NUMBER})\s*%?$")
_DATE_RE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_PHASE_RE = re.compile(r"^(?:phase|ph\.?)?\s*(1|2|3|iii|ii|i)(?:\s*/\s*(1|2|3|iii|ii|i))?$")
_ROMAN = {"i": "1", "ii": "2", "iii": "3"}
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

_VALUE_FIX = (
    "Enter a number (e.g. 88.5 or 1.2e13), a censored result (e.g. <0.5 or >1e9), "
    "or a pass/fail word (pass, fail, no growth, negative, not detected, growth, positive, detected)."
)


# --------------------------------------------------------------------------- #
# small helpers
# --------------------------------------------------------------------------- #
def _column_letter(index: int) -> str:
    """0-based column index to a spreadsheet letter (0 -> A, 26 -> AA)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _normalise_header(text: str) -> str:
    return re.sub(r"[\s\-]+", "_", text.strip().lower())


def _fail(name: str, message: str) -> LotDataError:
    return LotDataError(f"Cannot load lot data from '{name}': {message}")


class _Problems:
    """Collects cell-level problems so that one message lists them all."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.items: list[str] = []

    def add(self, message: str) -> None:
        self.items.append(message)

    def raise_if_any(self) -> None:
        if not self.items:
            return
        n = len(self.items)
        shown = self.items[:_MAX_LISTED]
        lines = "\n".join(f"- {item}" for item in shown)
        more = f"\n- ... and {n - _MAX_LISTED} more." if n > _MAX_LISTED else ""
        noun = "problem" if n == 1 else "problems"
        raise LotDataError(f"Cannot load lot data from '{self.name}': {n} {noun} found.\n{lines}{more}")


def parse_value(text: str) -> tuple[float, str, str | None]:
    """Parse one ``value`` cell.

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
    if not stripped:
        raise ValueError(f"the value is empty. {_VALUE_FIX} Or delete the row.")
    word = re.sub(r"\s+", " ", stripped.lower()).rstrip(".")
    if word in PASS_WORDS:
        return math.nan, "none", "pass"
    if word in FAIL_WORDS:
        return math.nan, "none", "fail"
    match = _NUMBER_RE.match(stripped)
    if match:
        return _finite(match.group(1), stripped), "none", None
    match = _CENSORED_RE.match(stripped)
    if match:
        side = "left" if match.group(1) in {"<", "<=", "=<", "≤"} else "right"
        return _finite(match.group(2), stripped), side, None
    if re.match(r"^[<>≤≥]", stripped):
        raise ValueError(
            f"'{stripped}' is a censored result without a number. Write the limit as a number, "
            "e.g. <10 for a result below a limit of quantitation of 10."
        )
    if re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?", stripped):
        raise ValueError(
            f"'{stripped}' contains a comma. If it is a thousands separator, remove it (1000 rather than 1,000); "
            "if it is a decimal comma, write a decimal point (0.5 rather than 0,5)."
        )
    if re.fullmatch(r"[+-]?\d+,\d+", stripped):
        raise ValueError(f"'{stripped}' uses a decimal comma. Write it with a decimal point, e.g. 0.5 rather than 0,5.")
    raise ValueError(f"'{stripped}' is not a number, a censored result or a pass/fail word. {_VALUE_FIX}")


def _finite(number: str, text: str) -> float:
    value = float(number)
    if not math.isfinite(value):
        raise ValueError(f"'{text}' is too large to be a number. Check the exponent.")
    return value


def _parse_date(text: str) -> _dt.date:
    stripped = text.strip()
    if not stripped:
        raise ValueError("the date is empty. Enter the manufacture date as YYYY-MM-DD (e.g. 2024-03-05).")
    match = _DATE_RE.match(stripped)
    if not match:
        raise ValueError(
            f"'{stripped}' is not an ISO date. Write dates as YYYY-MM-DD (e.g. 2024-03-05); "
            "forms like 03/05/2024 are ambiguous."
        )
    year, month, day = (int(g) for g in match.groups())
    try:
        return _dt.date(year, month, day)
    except ValueError:
        raise ValueError(f"'{stripped}' is not a valid calendar date. Correct the day or month (YYYY-MM-DD).") from None


def _parse_phase(text: str) -> str:
    word = re.sub(r"\s+", " ", text.strip().lower())
    if word in PHASES:
        return word
    match = _PHASE_RE.match(word)
    if match:
        first = _ROMAN.get(match.group(1), match.group(1))
        second = match.group(2)
        candidate = f"phase {first}" if second is None else f"phase {first}/{_ROMAN.get(second, second)}"
        if candidate in PHASES:
            return candidate
    raise ValueError(f"'{text.strip()}' is not a phase. Use one of: {', '.join(PHASES)} (or leave it empty).")


def _parse_timepoint(text: str) -> float:
    stripped = text.strip()
    match = _NUMBER_RE.match(stripped)
    if not match or match.group(2):
        raise ValueError(
            f"'{stripped}' is not a number of months. Enter the stability time point in months "
            "(e.g. 0, 3, 6), or leave it empty for a release result."
        )
    value = float(match.group(1))
    if value < 0 or not math.isfinite(value):
        raise ValueError(f"'{stripped}' is negative. Time points are months since manufacture (0 or more).")
    return value


# --------------------------------------------------------------------------- #
# reading bytes
# --------------------------------------------------------------------------- #
def _read_source(source: Any, name: str | None) -> tuple[bytes | str, str, str | None]:
    """Return (content, display name, extension or None)."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        display = name or path.name
        try:
            content: bytes | str = path.read_bytes()
        except FileNotFoundError:
            raise _fail(display, f"the file does not exist ({path}). Check the path.") from None
        except IsADirectoryError:
            raise _fail(display, f"{path} is a folder, not a file. Choose a .csv or .xlsx file.") from None
        except OSError as exc:
            raise _fail(display, f"the file cannot be read ({exc.strerror or exc}).") from exc
        ext_name = name or path.name
    elif isinstance(source, (bytes, bytearray, memoryview)):
        content = bytes(source)
        display = name or _UPLOADED
        ext_name = name
    elif isinstance(source, Mapping) and "content" in source:
        # one entry of an ipywidgets 8 FileUpload value: {"name", "content", ...}
        content = bytes(source["content"])
        display = name or str(source.get("name") or _UPLOADED)
        ext_name = name or source.get("name")
    elif hasattr(source, "read"):
        content = source.read()
        file_name = getattr(source, "name", None)
        file_name = Path(file_name).name if isinstance(file_name, str) else None
        display = name or file_name or _UPLOADED
        ext_name = name or file_name
        if not isinstance(content, (bytes, str)):
            raise _fail(display, "the file object returned neither bytes nor text. Open the file in binary mode.")
    else:
        raise TypeError(f"load_lots expects a path, bytes or a file object, not {type(source).__name__}")
    ext = Path(ext_name).suffix.lower() if ext_name else ""
    return content, display, ext or None


def _decode_csv(data: bytes, name: str) -> tuple[str, str]:
    """Decode CSV bytes; return (text, encoding)."""
    if data.startswith(_ZIP_MAGIC):
        raise _fail(
            name,
            "the file is an Excel workbook (or another ZIP file), not a CSV text file. "
            "Give it the .xlsx extension, or save it from Excel as 'CSV UTF-8 (comma delimited)'.",
        )
    if data.startswith(_OLE_MAGIC):
        raise _fail(
            name,
            "the file is an old-format Excel workbook (.xls), not a CSV text file. "
            "Save it from Excel as 'CSV UTF-8 (comma delimited)' or as .xlsx.",
        )
    utf16_bom = data.startswith((b"\xff\xfe", b"\xfe\xff"))
    if utf16_bom or b"\x00" in data:
        nul_share = data.count(b"\x00") / len(data)
        if utf16_bom or 0.2 < nul_share <= 0.75:
            raise _fail(
                name,
                "the file is encoded as UTF-16 ('Unicode Text' in Excel), which cgtkit does not read. "
                "Save it from Excel as 'CSV UTF-8 (comma delimited)'.",
            )
        raise _fail(
            name,
            "the file contains binary data and is not a CSV text file. "
            "Choose the lot data file saved as 'CSV UTF-8 (comma delimited)' or as .xlsx.",
        )
    try:
        text, encoding = data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        try:
            text, encoding = data.decode("cp1252"), "cp1252"
        except UnicodeDecodeError as exc:
            raise _fail(
                name,
                f"the file is not valid UTF-8 text (byte 0x{data[exc.start]:02x} at position {exc.start}). "
                "Save it as 'CSV UTF-8 (comma delimited)'.",
            ) from None
    if _CONTROL_RE.search(text):
        raise _fail(
            name,
            "the file contains control characters and does not look like a CSV text file. "
            "Save it as 'CSV UTF-8 (comma delimited)' or as .xlsx.",
        )
    return text, encoding


def _choose_delimiter(text: str) -> str:
    known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    best, best_score = ",", (-1, -1)
    for delimiter in (",", ";", "\t"):
        fields = next(csv.reader([first_line], delimiter=delimiter), [])
        names = [_normalise_header(f) for f in fields]
        score = (sum(n in known for n in names), len(fields))
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _read_csv(content: bytes | str, name: str) -> tuple[list[str], list[tuple[int, list[str]]], dict[str, str]]:
    if isinstance(content, bytes):
        text, encoding = _decode_csv(content, name)
    else:
        text, encoding = content, "text"
    if not text.strip():
        raise _fail(name, "the file is empty. Export the lot data again with a header row and one row per result.")
    delimiter = _choose_delimiter(text)
    reader = csv.reader(_io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        records = list(reader)
    except csv.Error as exc:
        raise _fail(name, f"row {reader.line_num}: the CSV cannot be parsed ({exc}). Check the quotes in that row.") from None
    header_index = next((i for i, rec in enumerate(records) if any(f.strip() for f in rec)), None)
    if header_index is None:
        raise _fail(name, "the file is empty. Export the lot data again with a header row and one row per result.")
    if header_index != 0:
        raise _fail(name, f"row 1 is empty; the header must be in row 1 (found in row {header_index + 1}). Delete the empty rows above it.")
    header = records[0]
    rows = [(i + 1, rec) for i, rec in enumerate(records[1:], start=1)]
    return header, rows, {"encoding": encoding, "delimiter": delimiter}


def _excel_cell_text(cell: Any) -> str:
    value = cell.value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        number = float(value)
        percent = "%" in (cell.number_format or "")
        if percent:
            number = round(number * 100, 10)
        if not math.isfinite(number):
            text = str(number)
        elif number.is_integer() and abs(number) < 1e15:
            text = str(int(number))
        else:
            text = repr(number)
        return text + "%" if percent else text
    if isinstance(value, _dt.datetime):
        if value.time() == _dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, _dt.date):
        return value.isoformat()
    return str(value)


def _read_xlsx(data: bytes, name: str) -> tuple[list[str], list[tuple[int, list[str]]], dict[str, str]]:
    if not data.startswith(_ZIP_MAGIC):
        if data.startswith(_OLE_MAGIC):
            hint = (
                "it looks like an old-format .xls workbook or a password-protected file. "
                "Save it from Excel as 'Excel Workbook (.xlsx)' without a password, or as CSV UTF-8."
            )
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
    except (InvalidFileException, KeyError, OSError, ValueError, TypeError) as exc:
        raise _fail(
            name,
            f"the file is not a readable .xlsx workbook ({type(exc).__name__}: {exc}). "
            "Open it in Excel and save it as 'Excel Workbook (.xlsx)'.",
        ) from None
    except Exception as exc:  # zipfile.BadZipFile and other corrupt-archive errors
        raise _fail(
            name,
            f"the file is not a readable .xlsx workbook ({type(exc).__name__}). "
            "Open it in Excel and save it as 'Excel Workbook (.xlsx)'.",
        ) from None
    if not wb_values.worksheets:
        raise _fail(name, "the workbook has no worksheet. Put the lot data in the first sheet.")
    ws_values = wb_values.worksheets[0]
    ws_formulas = wb_formulas.worksheets[0]
    sheet = ws_values.title

    formula_cells: list[str] = []
    rows: list[tuple[int, list[str]]] = []
    for row_values, row_formulas in zip(ws_values.iter_rows(), ws_formulas.iter_rows()):
        texts = []
        for cell_v, cell_f in zip(row_values, row_formulas):
            if cell_v.value is None and cell_f.data_type == "f":
                formula_cells.append(cell_v.coordinate)
            texts.append(_excel_cell_text(cell_v))
        rows.append((row_values[0].row, texts))
    if formula_cells:
        others = formula_cells[1 : _MAX_LISTED + 1]
        also = f" (also {', '.join(others)}{' ...' if len(formula_cells) > _MAX_LISTED + 1 else ''})" if others else ""
        raise _fail(
            name,
            f"sheet '{sheet}', cell {formula_cells[0]} contains a formula without a saved value{also}. "
            "Open the file in Excel and save it, or paste values instead of formulas.",
        )
    if not rows or not any(t.strip() for t in rows[0][1]):
        if any(any(t.strip() for t in texts) for _, texts in rows):
            raise _fail(name, f"sheet '{sheet}': row 1 is empty; the header must be in row 1. Delete the empty rows above it.")
        raise _fail(name, f"sheet '{sheet}' is empty. Put a header row and one row per result in the first sheet.")
    header = rows[0][1]
    meta = {"sheet": sheet}
    if len(wb_values.worksheets) > 1:
        meta["note"] = f" cgtkit reads the first worksheet ('{sheet}'); move the lot data there."
    return header, rows[1:], meta


# --------------------------------------------------------------------------- #
# validation
# --------------------------------------------------------------------------- #
def _map_columns(header: list[str], rows: list[tuple[int, list[str]]], name: str, note: str = "") -> dict[str, int]:
    """Map normalised column names to their index; check required columns."""
    columns: dict[str, int] = {}
    for index, raw in enumerate(header):
        norm = _normalise_header(raw)
        if not norm:
            if any(index < len(rec) and rec[index].strip() for _, rec in rows):
                raise _fail(
                    name,
                    f"column {_column_letter(index)} has values but no header in row 1. "
                    "Add a header or delete the column.",
                )
            continue
        if norm in columns:
            raise _fail(
                name,
                f"columns {_column_letter(columns[norm])} and {_column_letter(index)} are both named "
                f"'{norm}' in row 1. Rename or delete one of them.",
            )
        columns[norm] = index
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        found = [h.strip() for h in header if h.strip()]
        found_text = ", ".join(f"'{h}'" for h in found) if found else "none"
        hint = ""
        if len(found) == 1:
            for delimiter, label in (("|", "'|'"), (":", "':'"), (" ", "spaces")):
                parts = [_normalise_header(p) for p in found[0].split(delimiter)]
                if sum(p in REQUIRED_COLUMNS for p in parts) >= 2:
                    hint = f" The file seems to use {label} as delimiter; save it as comma-separated (CSV)."
                    break
        raise _fail(
            name,
            f"missing required column(s) {', '.join(missing)}. Columns found in row 1: {found_text}. "
            f"The header must be in row 1 and name the columns {', '.join(REQUIRED_COLUMNS)}.{hint}{note}",
        )
    return columns


def _build(header: list[str], rows: list[tuple[int, list[str]]], name: str, note: str = "") -> pd.DataFrame:
    columns = _map_columns(header, rows, name, note)
    width = len(header)
    problems = _Problems(name)

    def where(row: int, column: str) -> str:
        return f"row {row}, column '{column}' ({_column_letter(columns[column])})"

    records: list[dict[str, Any]] = []
    for row, rec in rows:
        if not any(f.strip() for f in rec):
            continue  # blank row
        extra = [f for f in rec[width:] if f.strip()]
        if extra:
            problems.add(
                f"row {row}: {len(rec)} values but the header has {width} columns. "
                "A value probably contains the delimiter; put that value in quotes or remove the extra values."
            )
            continue
        cells = {col: (rec[i] if i < len(rec) else "") for col, i in columns.items()}
        out: dict[str, Any] = {"source_row": row}

        for col in ("lot_id", "attribute"):
            text = cells[col].strip()
            if not text:
                problems.add(f"{where(row, col)}: the cell is empty. Fill in the {col.replace('_', ' ')}.")
            out[col] = text
        out["unit"] = cells["unit"].strip()

        out["original_value"] = cells["value"].strip()
        try:
            out["value"], out["censoring"], out["result"] = parse_value(cells["value"])
        except ValueError as exc:
            problems.add(f"{where(row, 'value')}: {exc}")

        lot_type = re.sub(r"\s+", " ", cells["lot_type"].strip().lower())
        if lot_type not in LOT_TYPES:
            shown = cells["lot_type"].strip()
            what = f"'{shown}' is not a lot type" if shown else "the lot type is empty"
            problems.add(f"{where(row, 'lot_type')}: {what}. Use one of: {', '.join(LOT_TYPES)}.")
        out["lot_type"] = lot_type

        try:
            out["manufacture_date"] = _parse_date(cells["manufacture_date"])
        except ValueError as exc:
            problems.add(f"{where(row, 'manufacture_date')}: {exc}")

        for col in ("process_version", "storage_condition"):
            text = cells.get(col, "").strip()
            out[col] = text or None
        phase_text = cells.get("phase", "").strip()
        out["phase"] = None
        if phase_text:
            try:
                out["phase"] = _parse_phase(phase_text)
            except ValueError as exc:
                problems.add(f"{where(row, 'phase')}: {exc}")
        tp_text = cells.get("timepoint_months", "").strip()
        out["timepoint_months"] = math.nan
        if tp_text:
            try:
                out["timepoint_months"] = _parse_timepoint(tp_text)
            except ValueError as exc:
                problems.add(f"{where(row, 'timepoint_months')}: {exc}")
        records.append(out)
    problems.raise_if_any()
    if not records:
        raise _fail(name, "the file has a header row but no data rows. Add one row per lot and attribute.")

    _check_consistency(records, problems)
    problems.raise_if_any()
    return _to_frame(records)


def _describe_key(rec: dict[str, Any]) -> str:
    text = f"lot '{rec['lot_id']}', attribute '{rec['attribute']}'"
    if not math.isnan(rec["timepoint_months"]):
        text += f", time point {rec['timepoint_months']:g} months"
    if rec["storage_condition"]:
        text += f", storage '{rec['storage_condition']}'"
    return text


def _check_consistency(records: list[dict[str, Any]], problems: _Problems) -> None:
    # uniqueness: lot, attribute, time point, storage condition
    seen: dict[tuple[Any, ...], dict[str, Any]] = {}
    for rec in records:
        tp = rec["timepoint_months"]
        key = (rec["lot_id"], rec["attribute"], None if math.isnan(tp) else tp, rec["storage_condition"])
        if key in seen:
            problems.add(
                f"rows {seen[key]['source_row']} and {rec['source_row']} both hold {_describe_key(rec)}. "
                "Keep one row per lot and attribute (for replicates, enter the reportable result), "
                "or correct the lot id or attribute of one row."
            )
        else:
            seen[key] = rec

    # lot-level columns agree within a lot
    by_lot: dict[str, list[dict[str, Any]]] = {}
    for rec in records:
        by_lot.setdefault(rec["lot_id"], []).append(rec)
    for lot_id, recs in by_lot.items():
        for col, label in (
            ("manufacture_date", "manufacture dates"),
            ("lot_type", "lot types"),
            ("process_version", "process versions"),
            ("phase", "phases"),
        ):
            first_row: dict[Any, int] = {}
            for rec in recs:
                val = rec[col]
                if val is not None and val not in first_row:
                    first_row[val] = rec["source_row"]
            if len(first_row) > 1:
                shown = " and ".join(
                    f"'{v.isoformat() if isinstance(v, _dt.date) else v}' (row {r})" for v, r in list(first_row.items())[:3]
                )
                problems.add(
                    f"lot '{lot_id}' has more than one of its {label}: {shown}. "
                    f"A lot has one {col.replace('_', ' ')}; correct the wrong rows."
                )
        # fill blanks in lot-level optional columns from the lot's other rows
        for col in ("process_version", "phase"):
            values = {rec[col] for rec in recs if rec[col] is not None}
            if len(values) == 1:
                (fill,) = values
                for rec in recs:
                    rec[col] = fill

    # one unit per attribute
    units: dict[str, dict[str, int]] = {}
    for rec in records:
        units.setdefault(rec["attribute"], {}).setdefault(rec["unit"], rec["source_row"])
    for attribute, found in units.items():
        if len(found) > 1:
            shown = " and ".join(f"'{u}' (row {r})" for u, r in list(found.items())[:3])
            problems.add(
                f"attribute '{attribute}' has more than one unit: {shown}. "
                "Use one unit per attribute (convert the values if needed)."
            )


def _to_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    df = pd.DataFrame.from_records(records)
    out = pd.DataFrame(
        {
            "lot_id": df["lot_id"].astype("str"),
            "attribute": df["attribute"].astype("str"),
            "value": df["value"].astype("float64"),
            "censoring": df["censoring"].astype("str"),
            "result": pd.Series(df["result"].tolist(), dtype="str"),
            "original_value": df["original_value"].astype("str"),
            "unit": df["unit"].astype("str"),
            "lot_type": df["lot_type"].astype("str"),
            "manufacture_date": pd.to_datetime(df["manufacture_date"].map(_dt.date.isoformat)).astype("datetime64[ns]"),
            "process_version": pd.Series(df["process_version"].tolist(), dtype="str"),
            "phase": pd.Series(df["phase"].tolist(), dtype="str"),
            "timepoint_months": df["timepoint_months"].astype("float64"),
            "storage_condition": pd.Series(df["storage_condition"].tolist(), dtype="str"),
            "source_row": df["source_row"].astype("int64"),
        }
    )
    out = out.sort_values(
        ["manufacture_date", "lot_id", "attribute", "timepoint_months", "storage_condition"],
        kind="mergesort",
        na_position="first",
    ).reset_index(drop=True)
    return out[list(LONG_FORMAT_COLUMNS)]


# --------------------------------------------------------------------------- #
# public API
# --------------------------------------------------------------------------- #
def load_lots(path_or_buffer: str | os.PathLike[str] | bytes | BinaryIO | Mapping[str, Any], *, name: str | None = None) -> pd.DataFrame:
    """Read a CSV or XLSX lot data file into the long format.

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
        (header = row 1), the column, and the fix.

    Examples
    --------
    >>> df = load_lots(b"lot_id,attribute,value,unit,lot_type,manufacture_date\\n"
    ...                b"L1,endotoxin,<0.5,EU/mL,PPQ,2025-03-01\\n", name="x.csv")
    >>> row = df.iloc[0]
    >>> float(row["value"]), row["censoring"], row["lot_type"]
    (0.5, 'left', 'ppq')
    """
    content, display, ext = _read_source(path_or_buffer, name)
    if ext == ".xls":
        raise _fail(display, "the old Excel format .xls is not supported. Save the file as .xlsx or as CSV UTF-8.")
    if ext is not None and ext not in _CSV_EXTENSIONS | _XLSX_EXTENSIONS:
        raise _fail(
            display,
            f"files of type '{ext}' are not supported. Save the lot data as .csv (comma-separated, UTF-8) or .xlsx.",
        )
    if len(content) == 0:
        raise _fail(display, "the file is empty (0 bytes). Export the lot data again with a header row and one row per result.")
    is_xlsx = ext in _XLSX_EXTENSIONS or (
        ext is None and isinstance(content, bytes) and content.startswith(_ZIP_MAGIC)
    )
    if is_xlsx:
        if isinstance(content, str):
            raise _fail(display, "an .xlsx file must be opened in binary mode ('rb').")
        header, rows, meta = _read_xlsx(content, display)
    else:
        header, rows, meta = _read_csv(content, display)
    note = meta.pop("note", "")
    df = _build(header, rows, display, note)
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

    Release values are rows whose ``timepoint_months`` is missing or 0 (when
    the column exists); later stability time points are left out.

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
