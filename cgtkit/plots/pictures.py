"""The record's figures as still images (PNG) for the Word report, drawn with matplotlib.

Plotly writes images only through kaleido and a Chrome browser, which a plain install and Binder do
not have; matplotlib draws on the server with nothing else. This module reads the plotly JSON of a
:class:`~cgtkit.record.figures.FigureData` and draws the parts of it the record's figures use, for
any figure made of them: scatter traces with markers (colour, size, symbol, open symbols, per-point
lists), lines (colour, width, dash) and text labels; a date or number x axis; a linear or log y axis
with the spec's range and tick values; the title with its smaller second line; the legend below.
Anything else raises :class:`ValueError`, so a new kind of figure is never drawn wrong in silence.

Numbers on the axes read as in the app (``1.2×10¹³``, :func:`cgtkit.plots.axes.sci_text`).
matplotlib is imported inside :func:`draw_figure` and :func:`png_bytes`, so importing the record (and
the app's pages) costs nothing for it; nor does this module import pandas, so worker processes
(:class:`PictureBatch`) start on matplotlib alone.

Speed is the reason for the shape of the drawing (about 40 ms a figure; ``docs/benchmarks.md``):
matplotlib chooses the ticks, but they and the legend are drawn as plain texts and lines, and the
layout comes from the texts' measured sizes rather than a measuring pass over every artist.
"""

from __future__ import annotations

import functools
import html
import io
import json
import math
import os
import re
import textwrap
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from cgtkit.plots.axes import sci_text

__all__ = ["DPI", "WIDTH_INCHES", "PictureBatch", "draw_figure", "figure_png", "png_bytes"]

WIDTH_INCHES = 6.0
DPI = 150
_PX = 0.75  # points per plotly (CSS) pixel
_TRACE_TYPES = {"scatter"}
_MODE_PARTS = {"markers", "lines", "text", "none"}
# plotly symbol -> matplotlib marker and its size relative to plotly's (plotly's diamond is smaller)
_SYMBOLS = {"circle": ("o", 1.0), "square": ("s", 0.9), "diamond": ("D", 0.75), "triangle-up": ("^", 1.0),
            "triangle-down": ("v", 1.0), "cross": ("P", 1.0), "x": ("X", 1.0), "star": ("*", 1.3)}
_DASHES = {"solid": "-", "dash": (0, (5, 3)), "dot": (0, (1, 2)), "dashdot": (0, (5, 2, 1, 2)),
           "longdash": (0, (9, 3)), "longdashdot": (0, (9, 2, 1, 2))}
_TAG = re.compile(r"<[^>]*>")
_NOT_DRAWN = {"shapes", "annotations", "images", "grid", "sliders", "updatemenus"}
CACHE_SIZE = 256  # images kept (about 20 kB each)
_CACHE: dict[str, bytes] = {}
# hinting snaps glyphs to screen pixels, which a 150 dpi picture does not need: without it, a sixth faster
_RC = {"text.hinting": "no_hinting"}


def _plain(text: Any) -> str:
    """Plotly label text as plain text: tags dropped, entities read, ``$`` kept literal (not mathtext)."""
    return html.unescape(_TAG.sub("", str(text))).replace("$", r"\$")


def _lines(text: Any) -> list[str]:
    """A plotly label's lines (``<br>``), each as plain text."""
    return [_plain(part) for part in re.split(r"<br\s*/?>", str(text or ""), flags=re.I)]


def _title_parts(title: Any) -> tuple[str, str]:
    """The title's first line, and the lines after it (plotly's smaller ``<sup>`` note)."""
    text = title.get("text", "") if isinstance(title, dict) else title or ""
    lines = _lines(text)
    return lines[0], "\n".join(line for line in lines[1:] if line)


def _each(value: Any, n: int) -> list[Any]:
    """A plotly attribute given once or per point, as one value per point."""
    if isinstance(value, list | tuple):
        if len(value) != n:
            raise ValueError(f"a per-point list of {len(value)} values for {n} points")
        return list(value)
    return [value] * n


def _marker_style(symbol: Any) -> tuple[str, float, bool]:
    name = str(symbol or "circle")
    is_open = name.endswith("-open")
    base = name.removesuffix("-open")
    if base not in _SYMBOLS:
        raise ValueError(f"marker symbol {name!r} is not drawn in the Word report's images")
    marker, scale = _SYMBOLS[base]
    return marker, scale, is_open


def _check(trace: dict[str, Any]) -> set[str]:
    kind = trace.get("type", "scatter")
    if kind not in _TRACE_TYPES:
        raise ValueError(f"a {kind!r} trace cannot be drawn in the Word report's images (only {sorted(_TRACE_TYPES)})")
    if trace.get("fill") not in (None, "none"):
        raise ValueError(f"a filled trace (fill {trace['fill']!r}) cannot be drawn in the Word report's images")
    default = "lines+markers" if len(trace.get("x", ())) < 20 else "lines"  # plotly's default mode
    parts = set(str(trace.get("mode", default)).split("+"))
    if not parts <= _MODE_PARTS:
        raise ValueError(f"trace mode {trace.get('mode')!r} is not drawn in the Word report's images")
    return parts


def _dates(values: Sequence[Any]) -> list[Any]:
    """Plotly's date strings (ISO 8601: ``2024-10-01``, ``2024-10-01 12:00``) as numpy datetimes, None for
    a missing one; numpy parses them, so drawing needs no pandas."""
    import numpy as np

    try:
        parsed = np.array([None if v is None else str(v) for v in values], dtype="datetime64[ms]")
    except ValueError as err:
        raise ValueError(f"a date on the x axis cannot be read: {err}") from None
    return [None if np.isnat(v) else v for v in parsed]


def _numbers(values: Sequence[Any]) -> list[float | None]:
    out: list[float | None] = []
    for v in values:
        try:
            x = float(v)
        except (TypeError, ValueError):
            if v is None:
                out.append(None)
                continue
            raise ValueError(f"the value {v!r} is not a number: category axes are not drawn in the Word "
                             "report's images") from None
        out.append(x if math.isfinite(x) else None)
    return out


def _is_date_axis(axis: dict[str, Any], traces: list[dict[str, Any]]) -> bool:
    if axis.get("type") in ("date", "log", "linear"):
        return axis["type"] == "date"
    if axis.get("type") not in (None, "-"):
        raise ValueError(f"a {axis['type']!r} x axis is not drawn in the Word report's images")
    first = next((v for t in traces for v in t.get("x", ()) if v is not None), None)
    return isinstance(first, str) and re.match(r"\d{4}-\d{2}-\d{2}", first) is not None


def _text_place(position: str) -> tuple[str, str, tuple[float, float]]:
    """Plotly's textposition ("top left") as matplotlib alignment and an offset in points."""
    vertical, _, horizontal = (position or "middle center").partition(" ")
    va, dy = {"top": ("bottom", 2.0), "bottom": ("top", -2.0)}.get(vertical, ("center", 0.0))
    ha, dx = {"left": ("right", -2.0), "right": ("left", 2.0)}.get(horizontal or "center", ("center", 0.0))
    return ha, va, (dx, dy)


def _date_labels(values: Sequence[float]) -> list[str]:
    """Date tick labels as plotly writes them: years alone; months and days with the year under the
    first tick and under each new year's, so every tick can be read without an offset text."""
    from matplotlib.dates import num2date

    dates = [num2date(v) for v in values]
    if all(d.month == 1 and d.day == 1 and not d.hour for d in dates):
        return [f"{d.year}" for d in dates]
    if all(d.day == 1 and not d.hour for d in dates):
        short, year_start = "%b", lambda d: d.month == 1
    elif all(not (d.hour or d.minute) for d in dates):
        short, year_start = "%d %b", lambda d: d.month == 1 and d.day == 1
    else:
        return [d.strftime("%d %b %Y\n%H:%M") for d in dates]
    return [d.strftime(short + ("\n%Y" if i == 0 or year_start(d) else "")) for i, d in enumerate(dates)]


def _date_formatter() -> Any:
    from matplotlib.dates import num2date
    from matplotlib.ticker import Formatter

    class DateTicks(Formatter):
        def format_ticks(self, values: Sequence[float]) -> list[str]:
            return _date_labels(values)

        def __call__(self, x: float, pos: int | None = None) -> str:
            return num2date(x).strftime("%Y-%m-%d")

    return DateTicks()


@dataclass(frozen=True)
class _AxisText:
    """What an axis writes: each tick (at its value in matplotlib's units) with its label, and the title."""

    ticks: list[tuple[float, str]]
    title: str


def _axis(ax: Any, which: str, spec: dict[str, Any], is_date: bool, font: float) -> _AxisText:
    """Scale, range, grid and line colour of one axis as the plotly spec gives them, and its ticks and
    title (placed by :func:`_decorate`). matplotlib's locators and formatters choose the ticks; they are
    then drawn as plain lines and texts, since matplotlib's tick artists cost a third of a figure."""
    from matplotlib import dates as mdates
    from matplotlib import ticker
    from matplotlib.collections import LineCollection

    axis = ax.xaxis if which == "x" else ax.yaxis
    kind = spec.get("type")
    if kind not in (None, "-", "linear", "log", "date"):
        raise ValueError(f"a {kind!r} {which} axis is not drawn in the Word report's images")
    log = kind == "log"
    if which == "y" and is_date:
        raise ValueError("a date y axis is not drawn in the Word report's images")
    if log:
        (ax.set_xscale if which == "x" else ax.set_yscale)("log")
    rng = spec.get("range")
    if isinstance(rng, list | tuple) and len(rng) == 2 and None not in rng:
        if is_date:
            low, high = _dates(rng)
        else:
            low, high = (10 ** float(r) for r in rng) if log else (float(r) for r in rng)
        (ax.set_xlim if which == "x" else ax.set_ylim)(low, high)
    fixed: list[tuple[Any, str]] = []
    if spec.get("tickvals") is not None:
        values = _dates(spec["tickvals"]) if is_date else [float(v) for v in spec["tickvals"]]
        labels = [_plain(t) for t in spec.get("ticktext") or [sci_text(float(v)) for v in values]]
        fixed = list(zip(values, labels, strict=False))
    elif is_date:
        axis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=7))
        axis.set_major_formatter(_date_formatter())
    else:
        if log:
            axis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0), numticks=8))
        else:
            axis.set_major_locator(ticker.MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
        axis.set_major_formatter(ticker.FuncFormatter(lambda v, _pos: sci_text(v)))
    limits = axis.get_view_interval()  # the data's range with margins, as matplotlib scales it
    if spec.get("tickvals") is not None:
        low, high = sorted(limits)
        slack = (high - low) * 1e-9
        ticks = [(float(v), label) for v, label in zip(axis.convert_units([v for v, _l in fixed]),
                                                        [lb for _v, lb in fixed], strict=True)
                 if low - slack <= v <= high + slack and label]
    else:
        ticks = _tick_labels(axis)
    axis.set_major_locator(ticker.NullLocator())
    axis.set_minor_locator(ticker.NullLocator())
    (ax.set_xlim if which == "x" else ax.set_ylim)(*limits)
    if spec.get("showgrid", True) and ticks:
        line = [[(v, 0), (v, 1)] if which == "x" else [(0, v), (1, v)] for v, _label in ticks]
        grid = LineCollection(line, colors=spec.get("gridcolor") or "#e5e7eb", linewidths=0.7, zorder=0.5, gid="grid",
                              transform=ax.get_xaxis_transform() if which == "x" else ax.get_yaxis_transform())
        ax.add_collection(grid, autolim=False)
    if spec.get("linecolor"):
        sides = ("bottom", "top") if which == "x" else ("left", "right")
        for side in sides:
            ax.spines[side].set_color(spec["linecolor"])
    title = spec.get("title")
    text = title.get("text") if isinstance(title, dict) else title
    return _AxisText(ticks, "\n".join(_lines(text)) if text else "")


def _draw_trace(ax: Any, trace: dict[str, Any], parts: set[str], x: list[Any], y: list[float | None],
                font: float) -> dict[str, Any] | None:
    """Draws one trace; returns the style of its legend entry (None when it has nothing to show there)."""
    keep = [i for i in range(len(x)) if x[i] is not None and y[i] is not None]
    opacity = float(trace.get("opacity", 1.0))
    handle_style: dict[str, Any] = {"linestyle": "none", "marker": None}
    if "lines" in parts:
        line = trace.get("line") or {}
        colour = line.get("color", "#2b5c8a")
        dash = line.get("dash") or "solid"
        if dash not in _DASHES:
            raise ValueError(f"line dash {dash!r} is not drawn in the Word report's images")
        width = float(line.get("width", 2)) * _PX
        ax.plot([x[i] for i in keep], [y[i] for i in keep], color=colour, linestyle=_DASHES[dash],
                linewidth=width, alpha=opacity, zorder=2)
        handle_style.update(color=colour, linestyle=_DASHES[dash], linewidth=width)
    if "markers" in parts:
        marker = trace.get("marker") or {}
        n = len(x)
        colours = _each(marker.get("color", "#2b5c8a"), n)
        sizes = _each(marker.get("size", 6), n)
        symbols = _each(marker.get("symbol", "circle"), n)
        groups: dict[tuple[str, float, bool], list[int]] = {}
        for i in keep:
            groups.setdefault(_marker_style(symbols[i]), []).append(i)
        alpha = float(marker.get("opacity", 1.0)) * opacity
        for (shape, scale, is_open), idx in groups.items():
            size = [(float(sizes[i]) * _PX * scale) ** 2 for i in idx]
            colour = [colours[i] for i in idx]
            xs, ys = [x[i] for i in idx], [y[i] for i in idx]
            if len(set(size)) == 1 and len(set(colour)) == 1:  # one style: a line of markers, a quarter of the time
                face = "none" if is_open else colour[0]
                ax.plot(xs, ys, linestyle="none", marker=shape, markersize=math.sqrt(size[0]), markerfacecolor=face,
                        markeredgecolor=colour[0], markeredgewidth=1.3 if is_open else 0, alpha=alpha, zorder=3)
                continue
            common = {"marker": shape, "s": size, "alpha": alpha, "zorder": 3}
            if is_open:
                ax.scatter(xs, ys, facecolors="none", edgecolors=colour, linewidths=1.3, **common)
            else:
                ax.scatter(xs, ys, c=colour, linewidths=0, **common)
        if groups:
            # the legend shows the trace's first filled symbol (open ones are explained in the title)
            shape, scale, is_open = next((k for k in groups if not k[2]), next(iter(groups)))
            first = groups[(shape, scale, is_open)][0]
            handle_style.update(marker=shape, markersize=float(sizes[first]) * _PX * scale,
                                markerfacecolor="none" if is_open else colours[first],
                                markeredgecolor=colours[first], markeredgewidth=1.3 if is_open else 0)
    if "text" in parts:
        texts = _each(trace.get("text", ""), len(x))
        positions = _each(trace.get("textposition", "middle center"), len(x))
        textfont = trace.get("textfont") or {}
        for i in keep:
            if texts[i] in (None, ""):
                continue
            ha, va, offset = _text_place(str(positions[i]))
            ax.annotate(_plain(texts[i]), (x[i], y[i]), xytext=offset, textcoords="offset points", ha=ha, va=va,
                        fontsize=float(textfont.get("size", 12)) * _PX, color=textfont.get("color", "#323f4b"),
                        zorder=4)
    if trace.get("showlegend") is False or (handle_style["marker"] is None and "lines" not in parts):
        return None
    return handle_style


@functools.lru_cache(maxsize=4096)
def _text_size(text: str, size: float, dpi: float) -> tuple[float, float]:
    """Width and height in pixels of ``text`` at ``size`` points, as a matplotlib ``Text`` lays it out
    (measured, not drawn: its line spacing rules change between matplotlib versions)."""
    from matplotlib.text import Text

    measurer = _measurer(dpi)
    box = Text(0, 0, text, fontsize=size, figure=measurer).get_window_extent(measurer.canvas.get_renderer())
    return box.width, box.height


@functools.lru_cache(maxsize=4)
def _measurer(dpi: float) -> Any:
    """A blank figure at ``dpi`` whose renderer measures texts."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(dpi=dpi)
    FigureCanvasAgg(figure)
    return figure


def _tick_labels(axis: Any) -> list[tuple[float, str]]:
    """The major ticks inside the axis's view and their labels (empty ones dropped)."""
    low, high = sorted(axis.get_view_interval())
    slack = (high - low) * 1e-9
    ticks = [float(v) for v in axis.get_majorticklocs() if low - slack <= v <= high + slack]
    return [(v, text) for v, text in zip(ticks, axis.get_major_formatter().format_ticks(ticks), strict=True) if text]


def _legend(fig: Any, entries: list[tuple[dict[str, Any], str]], size: float, pad: float) -> float:
    """Draws the legend along the figure's bottom as plotly's horizontal one: entries side by side,
    wrapped onto more rows when they do not fit. Returns its height in pixels."""
    from matplotlib.lines import Line2D

    width, height, px = fig.bbox.width, fig.bbox.height, fig.dpi / 72
    em = size * px
    handle, gap, between = 2.2 * em, 0.8 * em, 1.2 * em
    rows: list[list[tuple[dict[str, Any], str, float]]] = [[]]
    used = 0.0
    for style, label in entries:
        w = handle + gap + _text_size(label, size, fig.dpi)[0]
        if rows[-1] and used + between + w > width - 2 * pad:
            rows.append([])
            used = 0.0
        used += (between if rows[-1] else 0.0) + w
        rows[-1].append((style, label, w))
    line_height = max(_text_size("lp", size, fig.dpi)[1], em)
    step = line_height + 0.5 * em
    for r, row in enumerate(rows):
        y = pad / 2 + (len(rows) - 1 - r) * step + line_height / 2
        x = pad
        for style, label, w in row:
            line = {k: v for k, v in style.items() if not k.startswith("marker")}
            if line.get("linestyle") != "none":
                fig.add_artist(Line2D([(x) / width, (x + handle) / width], [y / height] * 2, **line))
            if style.get("marker") is not None:
                marker = {k: v for k, v in style.items() if k.startswith("marker")}
                fig.add_artist(Line2D([(x + handle / 2) / width], [y / height], linestyle="none", **marker))
            fig.text((x + handle + gap) / width, y / height, label, fontsize=size, va="center", ha="left",
                     color="#323f4b", gid="legend")
            x += w + between
    return len(rows) * step - 0.5 * em


def _decorate(fig: Any, ax: Any, x: _AxisText, y: _AxisText, title: Any, note: Any, legend_height: float,
              pad: float, font: float) -> None:
    """Writes the axes' tick labels and titles, and places the axes so they fit between the title band
    at the top and the legend at the bottom. Every size comes from the font's metrics of the text it
    will show, so the figure is laid out without drawing it first. Each text's ``gid`` says what it is
    (``xtick``, ``ytick``, ``xtitle``, ``ytitle``; ``legend`` for the legend's)."""
    from matplotlib.transforms import offset_copy

    width, height, px, dpi = fig.bbox.width, fig.bbox.height, fig.dpi / 72, fig.dpi
    tick_size, tick_gap, label_gap = font * 0.92, 3.5, 4.0  # points, matplotlib's defaults
    colour = "#52606d"
    x_sizes = [_text_size(text, tick_size, dpi) for _v, text in x.ticks]
    y_sizes = [_text_size(text, tick_size, dpi) for _v, text in y.ticks]
    x_ticks_height = max((h for _w, h in x_sizes), default=0.0)
    y_ticks_width = max((w for w, _h in y_sizes), default=0.0)
    below = offset_copy(ax.get_xaxis_transform(), fig=fig, y=-tick_gap, units="points")
    for v, text in x.ticks:
        fig.text(v, 0, text, transform=below, ha="center", va="top", fontsize=tick_size, color=colour,
                 multialignment="center", gid="xtick")
    beside = offset_copy(ax.get_yaxis_transform(), fig=fig, x=-tick_gap, units="points")
    for v, text in y.ticks:
        fig.text(0, v, text, transform=beside, ha="right", va="center", fontsize=tick_size, color=colour, gid="ytick")
    x_title = _text_size(x.title, font, dpi)[1] if x.title else 0.0
    y_title = _text_size(y.title, font, dpi)[1] if y.title else 0.0
    x_drop = tick_gap + (x_ticks_height / px + label_gap if x.ticks else 0.0)
    y_drop = tick_gap + (y_ticks_width / px + label_gap if y.ticks else 0.0)
    if x.title:
        fig.text(0.5, 0, x.title, transform=offset_copy(ax.transAxes, fig=fig, y=-x_drop, units="points"),
                 ha="center", va="top", fontsize=font, color="#323f4b", multialignment="center", gid="xtitle")
    if y.title:
        fig.text(0, 0.5, y.title, transform=offset_copy(ax.transAxes, fig=fig, x=-y_drop, units="points"),
                 ha="right", va="center", rotation=90, fontsize=font, color="#323f4b", multialignment="center",
                 gid="ytitle")
    top_band = title.get_window_extent().height + pad if title is not None else 0.0
    note_room = note.get_window_extent().height + 6 * px if note is not None else 0.0  # matplotlib's title pad
    left = pad + y_title + y_drop * px
    bottom = (legend_height + pad if legend_height else 0.0) + pad + x_title + x_drop * px
    top = height - top_band - note_room - pad
    right = width - pad
    if x.ticks:  # a tick label is centred on its tick: the last may reach past the axes' right end
        low, high = (ax.xaxis.get_transform().transform(v) for v in sorted(ax.get_xlim()))
        share = (ax.xaxis.get_transform().transform(x.ticks[-1][0]) - low) / (high - low)
        right -= max(0.0, x_sizes[-1][0] / 2 - (1 - share) * (right - left))
    if right - left < width * 0.3 or top - bottom < height * 0.25:
        raise ValueError("the figure's labels leave no room for its plot at this size")
    fig.subplots_adjust(left=left / width, right=right / width, bottom=bottom / height, top=top / height)
    # text placed from data (a limit's label) that would cross the plot's top or bottom edge goes to
    # the other side of its point, as a label above a line at the top of the range goes under it
    renderer = fig.canvas.get_renderer()
    for text in ax.texts:
        box, (dx, dy) = text.get_window_extent(renderer), text.xyann
        if box.y1 > top + 0.5 and dy >= 0:
            text.set_verticalalignment("top")
            text.xyann = (dx, -max(abs(dy), 2.0))
        elif box.y0 < bottom - 0.5 and dy <= 0:
            text.set_verticalalignment("bottom")
            text.xyann = (dx, max(abs(dy), 2.0))


def png_bytes(fig: Any) -> bytes:
    """The figure drawn as a 256-colour PNG: a third of the bytes of matplotlib's RGBA one, same look."""
    from matplotlib import rc_context
    from PIL import Image

    with rc_context(_RC):
        fig.canvas.draw()
    image = Image.frombuffer("RGBA", fig.canvas.get_width_height(), fig.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    palette = image.convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE)
    out = io.BytesIO()
    palette.save(out, format="PNG", dpi=(fig.dpi, fig.dpi), compress_level=3)  # 6 (default): 2 ms more, 20% less
    return out.getvalue()


def _key(spec: dict[str, Any], width_inches: float, dpi: int) -> str:
    return json.dumps([spec, width_inches, dpi], sort_keys=True, default=str)


def _remember(key: str, png: bytes) -> None:
    _CACHE[key] = png
    while len(_CACHE) > CACHE_SIZE:
        _CACHE.pop(next(iter(_CACHE)))


def figure_png(spec: dict[str, Any], width_inches: float = WIDTH_INCHES, dpi: int = DPI) -> bytes:
    """The plotly figure ``spec`` (``{"data": [...], "layout": {...}}``) drawn as a PNG of
    ``width_inches`` at ``dpi``, its height in the proportion of the spec's (a 380 px tall figure is
    about 4 inches). Raises ValueError for a trace or axis this module does not draw.

    The same spec gives the same image, kept for the process's later exports (the record is
    rendered again for each download; most of its figures are unchanged)."""
    key = _key(spec, width_inches, dpi)
    found = _CACHE.pop(key, None)
    if found is None:
        found = png_bytes(draw_figure(spec, width_inches, dpi))
    _remember(key, found)  # most recently used last
    return found


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class _NoWorker(Exception):
    """No worker process could be started here."""


def _chain(source: Future[bytes], target: Future[bytes]) -> None:
    """Gives ``target`` the result or the error of ``source`` when it comes (a cancelled one: no worker)."""

    def copy(done: Future[bytes]) -> None:
        if target.done():
            return
        if done.cancelled():
            target.set_exception(_NoWorker("cancelled"))
        elif done.exception() is not None:
            target.set_exception(done.exception())
        else:
            target.set_result(done.result())

    source.add_done_callback(copy)


class PictureBatch:
    """Many figures drawn at once: in worker processes when there are enough of them and more than one
    CPU, else one by one here. matplotlib holds the GIL while it draws, so threads would not help;
    the workers come from a fork server that has imported matplotlib once, with no state of this
    process (a kernel's threads are not forked). Ask for each picture with :meth:`png`; figures the
    process drew before come from its cache. A pool that cannot start or dies draws here instead.

    >>> with PictureBatch([]) as batch:
    ...     batch.workers
    0
    """

    MIN_PER_WORKER = 4  # starting a worker costs about as much as drawing this many figures
    MAX_WORKERS = 4
    PATIENCE = 60.0  # seconds to wait for one picture (a figure takes about 0.04 s) before drawing it here

    def __init__(self, specs: Sequence[dict[str, Any]], width_inches: float = WIDTH_INCHES, dpi: int = DPI,
                 workers: int | None = None) -> None:
        self._size = (width_inches, dpi)
        self._futures: dict[str, Any] = {}
        self._pool: Any = None
        self._starter: Any = None
        self._given_up = False
        undrawn: dict[str, dict[str, Any]] = {}
        for spec in specs:
            key = _key(spec, width_inches, dpi)
            if key not in _CACHE:
                undrawn.setdefault(key, spec)
        wanted = min(_usable_cpus(), self.MAX_WORKERS, len(undrawn) // self.MIN_PER_WORKER) if workers is None \
            else min(workers, len(undrawn))
        self.workers = wanted if wanted >= 2 else 0
        if self.workers:
            self._start(undrawn)

    def _start(self, undrawn: dict[str, dict[str, Any]]) -> None:
        """Starts the workers from a thread: the fork server imports matplotlib first (about 0.4 s), and
        this process has other work meanwhile (the Word document's text)."""
        import threading

        jobs = [(spec, Future()) for spec in undrawn.values()]
        self._futures = {key: future for key, (_spec, future) in zip(undrawn, jobs, strict=True)}
        self._starter = threading.Thread(target=self._submit, args=(jobs,), name="cgtkit-pictures", daemon=True)
        self._starter.start()

    def _submit(self, jobs: list[tuple[dict[str, Any], Future[bytes]]]) -> None:
        """Hands each job to the workers; its own list, as :meth:`png` takes futures from the batch's."""
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        try:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload([__name__, "matplotlib.figure", "matplotlib.backends.backend_agg",
                                            "PIL.Image", "PIL.PngImagePlugin"])
            self._pool = ProcessPoolExecutor(self.workers, mp_context=context)
            for spec, future in jobs:
                _chain(self._pool.submit(figure_png, spec, *self._size), future)
        except Exception as err:  # noqa: BLE001 - whatever stops the workers, each figure is drawn here instead
            for _spec, future in jobs:
                if not future.done():
                    future.set_exception(_NoWorker(str(err)))

    def png(self, spec: dict[str, Any]) -> bytes:
        """The figure's PNG, as :func:`figure_png` gives it (and with its errors). A worker that has not
        answered in :attr:`PATIENCE` seconds is given up on: this figure and the rest are drawn here."""
        from concurrent.futures import TimeoutError as Timeout
        from concurrent.futures.process import BrokenProcessPool

        key = _key(spec, *self._size)
        future = self._futures.pop(key, None)
        if future is not None and not self._given_up:
            try:
                png = future.result(timeout=self.PATIENCE)
            except Timeout:
                self._given_up = True
            except (_NoWorker, BrokenProcessPool, OSError, EOFError):  # no worker: this one is drawn here
                pass
            else:
                _remember(key, png)
                return png
        return figure_png(spec, *self._size)

    def close(self) -> None:
        """Stops the workers (drawings not asked for are dropped; a worker given up on is not waited for)."""
        if self._starter is not None:
            self._starter.join(timeout=self.PATIENCE)
        self._futures.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=not self._given_up, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> PictureBatch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def draw_figure(spec: dict[str, Any], width_inches: float = WIDTH_INCHES, dpi: int = DPI) -> Any:
    """The plotly figure ``spec`` as a laid-out matplotlib ``Figure`` (on an Agg canvas), not yet drawn."""
    from matplotlib import rc_context

    with rc_context(_RC):
        return _laid_out(spec, width_inches, dpi)


def _laid_out(spec: dict[str, Any], width_inches: float, dpi: int) -> Any:
    traces = [t for t in spec.get("data") or [] if t.get("visible", True) not in (False, "legendonly")]
    layout = spec.get("layout") or {}
    modes = [_check(t) for t in traces]  # every trace checked before anything is drawn
    extra = sorted(k for k, v in layout.items() if v and (k in _NOT_DRAWN or re.fullmatch(r"[xy]axis\d+", k)))
    if extra:
        raise ValueError(f"the figure's {', '.join(extra)} cannot be drawn in the Word report's images")
    xaxis, yaxis = layout.get("xaxis") or {}, layout.get("yaxis") or {}
    x_dates = _is_date_axis(xaxis, traces)
    columns = [(_dates(t.get("x", ())) if x_dates else _numbers(t.get("x", ())), _numbers(t.get("y", ())))
               for t in traces]
    for t, (x, y) in zip(traces, columns, strict=True):
        if len(x) != len(y):
            raise ValueError(f"trace {_plain(t.get('name', ''))!r} has {len(x)} x values and {len(y)} y values")

    from matplotlib.backends.backend_agg import FigureCanvasAgg  # no GUI, no global backend switch
    from matplotlib.figure import Figure

    font = float((layout.get("font") or {}).get("size", 12)) * _PX
    height = min(max(float(layout.get("height", 450)) / 96, 2.5), 6.0)
    fig = Figure(figsize=(width_inches, height), dpi=dpi, facecolor=layout.get("paper_bgcolor", "white"))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_facecolor(layout.get("plot_bgcolor", "white"))
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    entries = []
    for trace, parts, (x, y) in zip(traces, modes, columns, strict=True):
        style = _draw_trace(ax, trace, parts, x, y, font)
        if style is not None and trace.get("name"):
            entries.append((style, _plain(trace["name"])))
    x_text = _axis(ax, "x", xaxis, x_dates, font)
    y_text = _axis(ax, "y", yaxis, False, font)

    pad = 0.06 * dpi  # pixels
    edge = pad / (width_inches * dpi)
    title, note = _title_parts(layout.get("title"))
    title_font = ((layout.get("title") or {}).get("font") or {}) if isinstance(layout.get("title"), dict) else {}
    title_size = float(title_font.get("size", 17)) * _PX
    chars = max(20, int(width_inches * 72 / (title_size * 0.55)))
    title_artist = fig.suptitle(textwrap.fill(title, chars), x=edge, y=1 - pad / (height * dpi), ha="left",
                                va="top", fontsize=title_size, color="#1f2933") if title else None
    note_artist = None
    if note:
        note_artist = ax.set_title(textwrap.fill(note, int(chars * 1.4)), loc="left", fontsize=font * 0.9,
                                   color="#52606d")
    legend_height = 0.0
    if entries and layout.get("showlegend", True) is not False:
        legend_height = _legend(fig, entries, font * 0.92, pad)
    _decorate(fig, ax, x_text, y_text, title_artist, note_artist, legend_height, pad, font)
    return fig
