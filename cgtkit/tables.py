"""Tables from data frames: the one formatter of the pages and of the decision record.

Results expose ``to_frame()``; a page says which columns to show, with a title,
a format and an alignment each (:class:`Column`), and :func:`html_table` renders
them through one Jinja2 template kept as a file (autoescaped). So every table
escapes text, aligns numbers and writes missing values the same way, and the
decision record can reuse the same columns. Records work as well as frames, so
a small table (the home page's) needs no pandas.

>>> import pandas as pd
>>> frame = pd.DataFrame({"lot": ["A<1>", "B"], "value": [88.123, None]})
>>> print(html_table(frame, [Column("lot", "Lot"), Column("value", "Result (%)", number(3), numeric=True)], css="demo"))
... # doctest: +ELLIPSIS
<table class="cgt-table demo">...<th class="num">Result (%)</th>...<td>A&lt;1&gt;</td>...<td class="num">88.1</td>...<td class="num">—</td>...
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

MISSING = "—"


def _missing(value: Any) -> bool:
    """None, NaN, pandas' NA or NaT (tested without importing pandas: these formatters are used
    where pandas is not loaded yet, e.g. the home page's decision summaries)."""
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN and NaT are not equal to themselves
    except TypeError:  # pandas.NA refuses bool()
        return True


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def number(digits: int = 4) -> Callable[[Any], str]:
    """Significant digits, a dash for a missing or infinite value; very large or small numbers as
    m×10ⁿ, never "e+12".

    >>> number()(71.2468), number(3)(None), number()(float("inf")), number()(6.1334e12)
    ('71.25', '—', '—', '6.133×10¹²')
    """

    def fmt(value: Any) -> str:
        if _missing(value) or (isinstance(value, float) and not math.isfinite(value)):
            return MISSING
        text = f"{value:.{digits}g}"
        if "e" in text:
            mantissa, exponent = text.split("e")
            text = f"{mantissa}×10{str(int(exponent)).translate(_SUPERSCRIPT)}"
        return text

    return fmt


def percent(value: Any) -> str:
    """A probability as a percentage; tiny ones as "<0.1%"."""
    if _missing(value):
        return MISSING
    return "<0.1%" if value < 0.001 else f"{value:.1%}"


def text(value: Any) -> str:
    return MISSING if _missing(value) else str(value)


@dataclass(frozen=True)
class Column:
    """One column: the frame's column, its title, how a value is written, and whether it is a number.

    ``html=True`` marks a column whose ``fmt`` returns markup (a badge); that
    ``fmt`` escapes what it embeds. Every other cell is escaped here.
    """

    key: str
    title: str
    fmt: Callable[[Any], str] = text
    numeric: bool = False
    html: bool = False
    muted: bool = False


def html_table(rows: pd.DataFrame | Sequence[Mapping[str, Any]], columns: Sequence[Column], *, css: str = "",
               row_css: Sequence[str] | None = None) -> str:
    """Render ``columns`` of ``rows`` (a data frame, or records) as an HTML table with cgtkit's classes.

    ``row_css`` gives each row an extra class (e.g. the row of the attribute on
    screen). Numbers are right-aligned, headers included. The template
    (``templates/table.html.j2``) escapes every cell but those of ``html`` columns.
    """
    from markupsafe import Markup

    records = rows.to_dict("records") if hasattr(rows, "to_dict") else [dict(r) for r in rows]
    extra = list(row_css) if row_css is not None else [""] * len(records)
    if len(extra) != len(records):
        raise ValueError(f"row_css has {len(extra)} entries for {len(records)} rows")
    body = []
    for record, row_class in zip(records, extra, strict=True):
        cells = []
        for c in columns:
            value = c.fmt(record.get(c.key))
            css_classes = " ".join(x for x in ("num" if c.numeric else "", "cgt-muted" if c.muted else "", row_class) if x)
            cells.append({"value": Markup(value) if c.html else value, "css": css_classes})
        body.append({"cells": cells})
    return _template().render(css=" ".join(x for x in ("cgt-table", css) if x), columns=columns, rows=body)


@lru_cache(maxsize=1)
def _template() -> Any:
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("cgtkit", "templates"), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True)
    return env.get_template("table.html.j2")
