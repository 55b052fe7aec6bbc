"""Spreadsheet files cgtkit writes (CSV and XLSX), made so that no cell can run as a formula.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a
formula, and a tab or carriage return at the start can smuggle one in; a lot id
or a problem detail copied from an uploaded file could carry
``=HYPERLINK(...)`` into a download (CSV/formula injection). Every CSV and XLSX
table cgtkit exports goes through :func:`csv_bytes` or :func:`xlsx_bytes`, which
pass each cell through :func:`neutralize`: such text gets a leading apostrophe,
numbers are written as numbers, untouched.

Call sites: :func:`cgtkit.io.problems_csv` (the list of a refused file's
problems), :func:`cgtkit.ui.workbook.template_csv` (the lot-file template) and
the decision table of the decision record (:func:`cgtkit.record.decision_table_xlsx`).

>>> neutralize("=HYPERLINK(1)"), neutralize("-x"), neutralize("@SUM(A1)"), neutralize("\\tx")
("'=HYPERLINK(1)", "'-x", "'@SUM(A1)", "'\\tx")
>>> neutralize(-2.5), neutralize("-2.5"), neutralize("<0.5"), neutralize(None)
(-2.5, '-2.5', '<0.5', '')
"""

from __future__ import annotations

import csv
import io
import numbers
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

__all__ = ["FORMULA_STARTS", "csv_bytes", "neutralize", "xlsx_bytes"]

#: First characters that make a spreadsheet read a cell as a formula (or hide one after them).
FORMULA_STARTS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def neutralize(value: Any) -> Any:
    """A cell made inert: numbers (and dates) as they are; text starting with a formula character gets
    a leading apostrophe, unless it is a plain number written as text (``-2.1``); None is empty."""
    if value is None:
        return ""
    if isinstance(value, bool | numbers.Number | date | datetime):
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]], *, bom: bool = True) -> bytes:
    """A CSV file (CRLF line ends; UTF-8 with a BOM so Excel shows ``≤`` and ``µ`` as written), every
    cell neutralized, the header too."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralize(h) for h in header])
    for row in rows:
        writer.writerow([neutralize(v) for v in row])
    return buffer.getvalue().encode("utf-8-sig" if bom else "utf-8")


def xlsx_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]], *, sheet: str = "cgtkit") -> bytes:
    """An XLSX workbook of one sheet, every cell neutralized: numbers stay numbers, and no text cell is
    stored as a formula."""
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    ws.title = sheet[:31]
    for row in ([*header], *rows):
        ws.append([neutralize(v) for v in row])
    for row in ws.iter_rows():  # openpyxl reads text starting with "=" as a formula; none is left, but be sure
        for cell in row:
            if cell.data_type == "f":
                cell.value = "'" + str(cell.value)
                cell.data_type = "s"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
