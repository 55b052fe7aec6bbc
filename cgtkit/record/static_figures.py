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
the app's pages) costs nothing for it.
"""

from __future__ import annotations

import html
import io
import json
import math
import re
import textwrap
from collections.abc import Sequence
from typing import Any

from cgtkit.plots.axes import sci_text

__all__ = ["DPI", "WIDTH_INCHES", "draw_figure", "figure_png", "png_bytes"]

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
    """Plotly's date strings as numpy datetimes (None for a missing one), parsed at once."""
    import pandas as pd

    try:
        parsed = pd.to_datetime(pd.Series(list(values), dtype=object), format="mixed").to_numpy()
    except (TypeError, ValueError) as err:
        raise ValueError(f"a date on the x axis cannot be read: {err}") from None
    return [None if pd.isna(v) else v for v in parsed]


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


def _axis(ax: Any, which: str, spec: dict[str, Any], is_date: bool, font: float) -> None:
    """Scale, range, ticks, title and grid of one axis, as the plotly spec gives them."""
    from matplotlib import dates as mdates
    from matplotlib import ticker

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
    if spec.get("tickvals") is not None:
        values = spec["tickvals"]
        labels = [_plain(t) for t in spec.get("ticktext") or [sci_text(float(v)) for v in values]]
        axis.set_ticks(_dates(values) if is_date else [float(v) for v in values], labels=labels)
        axis.set_minor_locator(ticker.NullLocator())
    elif is_date:
        axis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=7))
        axis.set_major_formatter(_date_formatter())
    else:
        if log:
            axis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0), numticks=8))
            axis.set_minor_locator(ticker.NullLocator())
        else:
            axis.set_major_locator(ticker.MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
        axis.set_major_formatter(ticker.FuncFormatter(lambda v, _pos: sci_text(v)))
    axis.set_minor_formatter(ticker.NullFormatter())
    title = spec.get("title")
    text = title.get("text") if isinstance(title, dict) else title
    if text:
        (ax.set_xlabel if which == "x" else ax.set_ylabel)("\n".join(_lines(text)), fontsize=font)
    grid = spec.get("gridcolor")
    if spec.get("showgrid", True):
        ax.grid(True, axis=which, color=grid or "#e5e7eb", linewidth=0.7)
    if spec.get("linecolor"):
        sides = ("bottom", "top") if which == "x" else ("left", "right")
        for side in sides:
            ax.spines[side].set_color(spec["linecolor"])


def _draw_trace(ax: Any, trace: dict[str, Any], parts: set[str], x: list[Any], y: list[float | None],
                font: float) -> Any:
    """Draws one trace; returns its legend handle (None when it has nothing to show there)."""
    from matplotlib.lines import Line2D

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
            common = {"marker": shape, "s": size, "alpha": alpha, "zorder": 3}
            if is_open:
                ax.scatter([x[i] for i in idx], [y[i] for i in idx], facecolors="none", edgecolors=colour,
                           linewidths=1.3, **common)
            else:
                ax.scatter([x[i] for i in idx], [y[i] for i in idx], c=colour, linewidths=0, **common)
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
    return Line2D([], [], **handle_style)


def _legend_columns(fig: Any, labels: list[str], size: float, room: float) -> int:
    """The most legend columns whose entries fit in ``room`` pixels, from the labels' measured widths
    (matplotlib fills columns top to bottom, splitting the entries as ``numpy.array_split`` does)."""
    import numpy as np
    from matplotlib.font_manager import FontProperties

    renderer, font = fig.canvas.get_renderer(), FontProperties(size=size)
    em = size * fig.dpi / 72
    widths = [renderer.get_text_width_height_descent(label, font, ismath=False)[0] + 3.0 * em for label in labels]
    for columns in range(len(labels), 1, -1):
        parts = [p for p in np.array_split(np.array(widths), columns) if len(p)]
        if sum(float(p.max()) for p in parts) + 1.2 * em * (len(parts) - 1) <= room:
            return columns
    return 1


def _layout(fig: Any, ax: Any, title: Any, legend: Any, pad: float) -> None:
    """Places the axes so its tick labels, axis titles and note fit between the title band at the top
    and the legend band at the bottom: one measuring pass (matplotlib's constrained layout draws the
    figure once more to do the same, doubling the time of a figure)."""
    renderer = fig.canvas.get_renderer()
    width, height = fig.bbox.width, fig.bbox.height
    top_band = title.get_window_extent(renderer).height + pad if title is not None else 0.0
    bottom_band = legend.get_window_extent(renderer).height + pad if legend is not None else 0.0
    # markers and lines stay inside the axes (clipped); only text placed from data may reach outside
    inner = ax.get_tightbbox(renderer, bbox_extra_artists=list(ax.texts))
    box = ax.get_window_extent(renderer)
    left = box.x0 - inner.x0 + pad
    right = width - (inner.x1 - box.x1) - pad
    bottom = bottom_band + (box.y0 - inner.y0) + pad
    top = height - top_band - (inner.y1 - box.y1) - pad
    if right - left < width * 0.3 or top - bottom < height * 0.25:
        raise ValueError("the figure's labels leave no room for its plot at this size")
    fig.subplots_adjust(left=left / width, right=right / width, bottom=bottom / height, top=top / height)


def png_bytes(fig: Any) -> bytes:
    """The figure drawn as a 256-colour PNG: a third of the bytes of matplotlib's RGBA one, same look."""
    from PIL import Image

    fig.canvas.draw()
    image = Image.frombuffer("RGBA", fig.canvas.get_width_height(), fig.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    palette = image.convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE)
    out = io.BytesIO()
    palette.save(out, format="PNG", dpi=(fig.dpi, fig.dpi))
    return out.getvalue()


def figure_png(spec: dict[str, Any], width_inches: float = WIDTH_INCHES, dpi: int = DPI) -> bytes:
    """The plotly figure ``spec`` (``{"data": [...], "layout": {...}}``) drawn as a PNG of
    ``width_inches`` at ``dpi``, its height in the proportion of the spec's (a 380 px tall figure is
    about 4 inches). Raises ValueError for a trace or axis this module does not draw.

    The same spec gives the same image, kept for the process's later exports (the record is
    rendered again for each download; most of its figures are unchanged)."""
    key = json.dumps([spec, width_inches, dpi], sort_keys=True, default=str)
    found = _CACHE.get(key)
    if found is None:
        found = png_bytes(draw_figure(spec, width_inches, dpi))
        _CACHE[key] = found
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
    else:
        _CACHE[key] = _CACHE.pop(key)  # most recently used last
    return found


def draw_figure(spec: dict[str, Any], width_inches: float = WIDTH_INCHES, dpi: int = DPI) -> Any:
    """The plotly figure ``spec`` as a laid-out matplotlib ``Figure`` (on an Agg canvas), not yet drawn."""
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
    ax.tick_params(labelsize=font * 0.92, length=3, color="#9aa5b1")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    handles, labels = [], []
    for trace, parts, (x, y) in zip(traces, modes, columns, strict=True):
        handle = _draw_trace(ax, trace, parts, x, y, font)
        if handle is not None and trace.get("name"):
            handles.append(handle)
            labels.append(_plain(trace["name"]))
    _axis(ax, "x", xaxis, x_dates, font)
    _axis(ax, "y", yaxis, False, font)

    pad = 0.06 * dpi  # pixels
    edge = pad / (width_inches * dpi)
    title, note = _title_parts(layout.get("title"))
    title_font = ((layout.get("title") or {}).get("font") or {}) if isinstance(layout.get("title"), dict) else {}
    title_size = float(title_font.get("size", 17)) * _PX
    chars = max(20, int(width_inches * 72 / (title_size * 0.55)))
    title_artist = fig.suptitle(textwrap.fill(title, chars), x=edge, y=1 - pad / (height * dpi), ha="left",
                                va="top", fontsize=title_size, color="#1f2933") if title else None
    if note:
        ax.set_title(textwrap.fill(note, int(chars * 1.4)), loc="left", fontsize=font * 0.9, color="#52606d")
    legend = None
    if handles and layout.get("showlegend", True) is not False:
        legend = fig.legend(handles, labels, loc="lower left", bbox_to_anchor=(edge, pad / (height * dpi) / 2),
                            ncols=_legend_columns(fig, labels, font * 0.92, width_inches * dpi - 2 * pad),
                            fontsize=font * 0.92, frameon=False, handlelength=2.2, handletextpad=0.8,
                            columnspacing=1.2, borderaxespad=0, borderpad=0)
    _layout(fig, ax, title_artist, legend, pad)
    return fig
