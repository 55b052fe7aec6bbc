"""Readable numbers on figures: scientific notation a biologist reads, log axes with sensible ticks,
titles and axis titles that fit.

Plotly's defaults suit engineers, not a CMC reader: SI suffixes ("25T" for a
titer of 2.5×10¹³ vg/mL), digit-only minor labels on log axes ("2, 100, 5, 2"),
and titles cut at the figure's edge. Every figure builder uses these helpers.

Examples
--------
>>> sci_text(1.23e13), sci_text(4.827), sci_text(0.00012), sci_text(2500)
('1.23×10¹³', '4.83', '1.2×10⁻⁴', '2,500')
>>> log_ticks(1.0, 5.0)[0], log_ticks(8.0, 71.0)[1]
([1.0, 2.0, 5.0], ['10', '20', '50'])
>>> wrap_title("Vector copy number (VCN)", "copies/transduced cell")
'Vector copy number (VCN)<br>(copies/transduced cell)'
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = ["LOG_MANTISSAS", "NUMBER_AXIS", "axis_range", "log_axis", "log_ticks", "place_legend", "sci_text",
           "title_with_note", "value_axis", "wrap_title"]

#: Linear axes write large and small numbers as m×10ⁿ, never with SI suffixes ("25T").
NUMBER_AXIS: dict[str, str] = {"exponentformat": "power", "showexponent": "all"}

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
#: Tick mantissas tried on a log axis, richest first; the first giving 3 to 8 ticks wins.
LOG_MANTISSAS: tuple[tuple[float, ...], ...] = ((1, 2, 5), (1, 3), (1,), (1, 1.5, 2, 3, 4, 5, 6, 8))
MAX_AXIS_TITLE = 34  # characters on one line of a y-axis title at the app's figure height


def sci_text(value: float | None, digits: int = 3) -> str:
    """A number as a reader writes it: plain between 0.001 and 10,000, else ``m×10ⁿ`` with superscripts."""
    if value is None or not np.isfinite(value):
        return "—"
    if value == 0:
        return "0"
    magnitude = abs(value)
    if 1e-3 <= magnitude < 1e4:
        text = f"{value:.{digits}g}"
        return f"{float(text):,.0f}" if magnitude >= 1000 else text
    exponent = math.floor(math.log10(magnitude))
    mantissa = value / 10**exponent
    if float(f"{abs(mantissa):.{digits}g}") >= 10:  # 9.9996e12 rounds to 10.0
        mantissa, exponent = mantissa / 10, exponent + 1
    m = f"{mantissa:.{digits}g}"
    return f"{m}×10{str(exponent).translate(_SUPERSCRIPT)}"


def log_ticks(low: float, high: float) -> tuple[list[float], list[str]]:
    """Tick values and labels for a log axis spanning ``low``..``high`` (both > 0): 1-2-5 steps when
    they give 3 to 8 ticks, coarser for wide ranges (every k-th decade), finer for narrow ones."""
    if not (low > 0 and high > 0):
        raise ValueError("log ticks need positive bounds")
    low, high = min(low, high), max(low, high)
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))

    def ticks(mantissas: Iterable[float], step: int = 1) -> list[float]:
        found = [m * 10.0**e for e in range(first, last + 1, step) for m in mantissas]
        return [t for t in found if low * (1 - 1e-9) <= t <= high * (1 + 1e-9)]

    if high / low < 3:  # within a factor of 3 a log axis looks linear: evenly spaced round values
        chosen = _linear_ticks(low, high)
        return chosen, [sci_text(t) for t in chosen]
    chosen: list[float] | None = None
    for mantissas in LOG_MANTISSAS[:3]:
        candidate = ticks(mantissas)
        if 3 <= len(candidate) <= 8:
            chosen = candidate
            break
    if chosen is None:
        decades = ticks((1,))
        if len(decades) > 8:  # very wide: every k-th decade, on exponents divisible by k
            step = math.ceil(len(decades) / 7)
            chosen = [t for t in decades if round(math.log10(t)) % step == 0]
        else:  # two decades or fewer with too few 1-2-5 ticks
            chosen = ticks(LOG_MANTISSAS[-1])
    return chosen, [sci_text(t) for t in chosen]


def _linear_ticks(low: float, high: float, target: int = 5) -> list[float]:
    """Round, evenly spaced values between ``low`` and ``high`` (about ``target`` of them)."""
    raw = (high - low) / target
    base = 10.0 ** math.floor(math.log10(raw))
    step = next(m * base for m in (1, 2, 2.5, 5, 10) if m * base >= raw)
    start = math.ceil(low / step) * step
    return [float(f"{v:.12g}") for v in np.arange(start, high + step * 1e-9, step)]


def axis_range(values: Iterable[float | None], log: bool, pad: float = 0.06) -> list[float] | None:
    """A range covering ``values`` with a margin (in log10 units on a log axis, as plotly wants)."""
    v = np.array([x for x in values if x is not None and np.isfinite(x) and (x > 0 or not log)], dtype=float)
    if v.size == 0:
        return None
    lo, hi = (np.log10(v.min()), np.log10(v.max())) if log else (v.min(), v.max())
    span = hi - lo or (abs(hi) * 0.1 if hi else 1.0)
    return [float(lo - pad * span), float(hi + pad * span)]


def log_axis(values: Iterable[float | None]) -> dict[str, object]:
    """Plotly axis settings for a log axis over ``values``: range, tick values and readable labels."""
    rng = axis_range(values, log=True)
    if rng is None:
        return {"type": "log"}
    # ticks from a slightly wider span, and the range stretched to the outermost ones, so that
    # values just above 1 still get the tick "1"
    slack = 0.08
    ticks, labels = log_ticks(10 ** (rng[0] - slack), 10 ** (rng[1] + slack))
    rng = [min(rng[0], math.log10(ticks[0])), max(rng[1], math.log10(ticks[-1]))]
    return {"type": "log", "range": rng, "tickmode": "array", "tickvals": ticks, "ticktext": labels}


def value_axis(log: bool, values: Iterable[float | None], label: str, unit: str | None) -> dict[str, object]:
    """The axis of an attribute's values: a log axis with readable ticks for log-normal attributes
    (every value given, limits included, inside the range), else linear in m×10ⁿ notation."""
    values = list(values)
    title = {"text": wrap_title(label, unit)}
    if log:
        return {**log_axis(values), "title": title}
    rng = axis_range(values, log=False)
    return {**NUMBER_AXIS, "title": title, **({"range": rng} if rng else {})}


def wrap_title(label: str, unit: str | None = None, width: int = MAX_AXIS_TITLE) -> str:
    """An axis title with its unit, on two lines when one would be cut at the figure's edge."""
    text = f"{label} ({unit})" if unit else label
    if len(text) <= width or not unit:
        return text
    return f"{label}<br>({unit})"


def title_with_note(title: str, note: str | None = None) -> str:
    """A short title with a smaller second line for what would otherwise make it too long to fit."""
    return f"{title}<br><sup>{note}</sup>" if note else title


#: Room below the plot for the x tick labels and the x-axis title, and per row of a horizontal legend.
X_AXIS_PX, LEGEND_ROW_PX = 62, 21


def legend_rows(names: Iterable[str], width_px: float) -> int:
    """How many rows a horizontal legend of ``names`` takes in ``width_px`` (an estimate on the safe side:
    about 6.8 px a character at the pages' 12 px font, plus the symbol and the gap).

    >>> legend_rows(["clinical", "ppq"], 800), legend_rows(["a long entry name of forty characters...."] * 5, 800)
    (1, 3)
    """
    rows, used = 1, 0.0
    for name in names:
        width = 6.8 * len(name) + 50
        if used and used + width > width_px:
            rows, used = rows + 1, width
        else:
            used += width
    return rows


def place_legend(fig: Any, width_px: int = 900) -> Any:
    """Put ``fig``'s legend below the x-axis title, never over the plot or its labels: the legend sits at
    the bottom of the figure and the bottom margin (and the height) grows by the rows it needs at
    ``width_px`` (the narrowest width the app gives a figure)."""
    names = [str(t.name) for t in fig.data if t.name and t.showlegend is not False]
    if not names or fig.layout.showlegend is False:
        return fig
    margin = fig.layout.margin
    rows = legend_rows(names, width_px - (margin.l or 0) - (margin.r or 0) + (margin.l or 0))
    bottom = X_AXIS_PX + rows * LEGEND_ROW_PX + 8
    height = (fig.layout.height or 380) + max(0, bottom - (margin.b or 0))
    fig.update_layout(
        legend={**(fig.layout.legend.to_plotly_json() if fig.layout.legend else {}), "orientation": "h",
                "yref": "container", "y": 0, "yanchor": "bottom", "x": 0, "xanchor": "left"},
        margin={"b": bottom}, height=height,
    )
    return fig
