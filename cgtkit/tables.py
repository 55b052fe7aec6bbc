"""Tables from data frames: the one formatter of the pages and of the decision record.

Results expose ``to_frame()``; a page says which columns to show, with a title,
a format and an alignment each (:class:`Column`), and :func:`html_table` renders
them through pandas' Styler. So every table escapes text, aligns numbers and
writes missing values the same way, and the report can reuse the same columns.

>>> import pandas as pd
>>> frame = pd.DataFrame({"lot": ["A<1>", "B"], "value": [88.123, None]})
>>> print(html_table(frame, [Column("lot", "Lot"), Column("value", "Result (%)", number(3), numeric=True)], css="demo"))
... # doctest: +ELLIPSIS
<table class="cgt-table demo">...>Result (%)</th>...>A&lt;1&gt;</td>...>88.1</td>...>—</td>...
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

MISSING = "—"


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def number(digits: int = 4) -> Callable[[Any], str]:
    """Significant digits, a dash for a missing or infinite value."""

    def fmt(value: Any) -> str:
        if _missing(value) or (isinstance(value, float) and not math.isfinite(value)):
            return MISSING
        return f"{value:.{digits}g}"

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


def html_table(frame: pd.DataFrame, columns: Sequence[Column], *, css: str = "",
               row_css: Sequence[str] | None = None) -> str:
    """Render ``frame``'s ``columns`` as an HTML table with cgtkit's classes.

    ``row_css`` gives each row an extra class (e.g. the row of the attribute
    on screen). Numbers are right-aligned, headers included.
    """
    from pandas.io.formats.style import Styler

    data = pd.DataFrame({i: frame[c.key].tolist() for i, c in enumerate(columns)}, index=range(len(frame)))
    classes = pd.DataFrame("", index=data.index, columns=data.columns)
    for i, c in enumerate(columns):
        classes[i] = " ".join(x for x in ("num" if c.numeric else "", "cgt-muted" if c.muted else "") if x)
    if row_css is not None:
        for row, extra in zip(data.index, row_css, strict=True):
            if extra:
                classes.loc[row] = (classes.loc[row] + " " + extra).str.strip()
    styler = Styler(data, uuid="cgt", cell_ids=False)
    for i, c in enumerate(columns):
        styler.format(c.fmt if c.html else (lambda v, f=c.fmt: html.escape(f(v), quote=True)), subset=[i])
    styler.format_index(lambda i: html.escape(columns[i].title), axis=1)
    styler.hide(axis="index").set_td_classes(classes)
    styler.set_table_attributes(f'class="{html.escape(" ".join(x for x in ("cgt-table", css) if x))}"')
    rendered = styler.to_html()
    rendered = rendered[rendered.index("<table"):].replace(' id="T_cgt"', "", 1)  # no style block, no shared id
    for i, c in enumerate(columns):
        if c.numeric:
            rendered = rendered.replace(f'class="col_heading level0 col{i}"', f'class="col_heading level0 col{i} num"')
    return rendered
