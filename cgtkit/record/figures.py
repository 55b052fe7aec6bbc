"""The decision record's figures: each attribute a decision is about, lot by lot, from the data set the
decision names, with the limits the decision set.

Figures are built for any decision kind from what every kind shares: its ``attributes``, the
``dataset`` it names, and any recorded item naming an attribute with ``low``/``high`` limits
(found by walking the decision's fields, so a new kind gets its limits drawn without code here).
They are plotly figures written as plain JSON (``{"data": [...], "layout": {...}}``): the HTML
report hands them to the inlined plotly.js, and the Word report prints the same numbers as a
table. Building a ``go.Figure`` for each would cost about 20 ms a figure for validation the JSON
does not need; ``tests/unit/test_record.py`` checks each figure against plotly's schema instead.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from cgtkit.attributes import get_attribute
from cgtkit.decisions import DecisionBase
from cgtkit.errors import CgtkitError
from cgtkit.io import attribute_values
from cgtkit.plots.axes import sci_text, title_with_note, value_axis
from cgtkit.vocab import Scale

#: Lot types in the pages' colours (cgtkit.plots.specifications), so figures read the same everywhere.
LOT_TYPE_COLOURS = {"engineering": "#9aa5b1", "clinical": "#2b5c8a", "ppq": "#b7791f", "commercial": "#2f855a"}
LIMIT_COLOUR = "#c53030"
#: Groups of lots a decision compared, in order (before a change, after it).
GROUP_COLOURS = ("#2b5c8a", "#dd6b20", "#2f855a", "#6b46c1")
LAYOUT: dict[str, Any] = {
    "height": 380, "margin": {"l": 80, "r": 20, "t": 70, "b": 100}, "font": {"size": 12},
    "paper_bgcolor": "white", "plot_bgcolor": "white", "title": {"font": {"size": 15}},
    "legend": {"orientation": "h", "yanchor": "top", "y": -0.3, "xanchor": "left", "x": 0},
}
_GRID = {"gridcolor": "#e5e7eb", "zerolinecolor": "#d1d5db", "linecolor": "#9aa5b1"}


@dataclass(frozen=True)
class FigureData:
    """One figure: plotly JSON for HTML (and Word's picture), and the same numbers as a table for Word and Markdown."""

    title: str
    caption: str
    spec: dict[str, Any]
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Recorded:
    """What a decision recorded about one attribute: its limits and the lots it used (None: not said)."""

    low: float | None = None
    high: float | None = None
    lot_ids: tuple[str, ...] | None = None
    limit_name: str = "limit"
    groups: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (label, lot ids): colours by group, not lot type
    compared_by: str = ""  # how the groups were compared where no range is drawn (an equivalence test, say)


#: How a comparability finding without a range compared the groups, for the caption.
_COMPARED_BY = {"equivalence": "compared by an equivalence test (two one-sided tests): its interval and margin are "
                               "in the result table",
                "graphical": "compared graphically: no criterion was set", "fixed_requirement":
                "a fixed requirement, checked lot by lot"}
#: Fields naming limits in a decision's parts, and what the figure calls them.
_LIMIT_FIELDS = (("low", "high", "limit"), ("range_low", "range_high", "quality range"))


def recorded_for(decision: DecisionBase, attribute: str) -> Recorded:
    """The limits and lots the decision recorded for ``attribute``: the first part of the decision that
    names the attribute with numeric ``low``/``high`` fields (or a comparability finding's quality range,
    ``range_low``/``range_high``), and the ``lot_ids`` beside them (else the decision's own ``lot_ids``,
    or the lots of its groups); the groups of lots it compared (:meth:`DecisionBase.figure_groups`)."""
    found: list[tuple[dict[str, Any], str, str, str]] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if value.get("attribute") == attribute:
                found.extend((value, lo, hi, name) for lo, hi, name in _LIMIT_FIELDS if lo in value or hi in value)
            for v in value.values():
                walk(v)
        elif isinstance(value, list | tuple):
            for v in value:
                walk(v)

    data = decision.model_dump(mode="json", exclude={"superseded"})
    walk(data)
    part, low, high, name = found[0] if found else ({}, "low", "high", "limit")

    def number(v: Any) -> float | None:
        return float(v) if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) else None

    groups = decision.figure_groups()
    lots = part.get("lot_ids", data.get("lot_ids"))
    lot_ids = (tuple(str(x) for x in lots) if isinstance(lots, list) and lots
               else tuple(lot for _label, ids in groups for lot in ids) or None)
    method = part.get("method")
    compared_by = _COMPARED_BY.get(method, "") if isinstance(method, str) else ""
    return Recorded(number(part.get(low)), number(part.get(high)), lot_ids, name, groups, compared_by)


def _text(value: Any) -> str:
    """User text placed in a plotly label: plotly reads a few HTML tags, so it is escaped."""
    return html.escape(str(value), quote=True)


@dataclass(frozen=True)
class AttributeLots:
    """One attribute's numeric release results in a data set, in manufacture order, as plain lists
    (read once per data set and attribute, however many decisions draw them)."""

    lot_id: tuple[str, ...]
    date: tuple[str, ...]
    lot_type: tuple[str, ...]
    value: tuple[float, ...]
    censored: tuple[bool, ...]
    shown: tuple[str, ...]  # the result as the table prints it (a censored one as written, "<0.5")


def attribute_lots(frame: pd.DataFrame, attribute: str) -> AttributeLots | None:
    """The release results of ``attribute`` (:func:`cgtkit.io.attribute_values`) with a number; None
    when there is none (a pass/fail test, or an attribute the data set does not have)."""
    try:
        values = attribute_values(frame, attribute)
    except CgtkitError:
        return None
    values = values[pd.to_numeric(values["value"], errors="coerce").notna()]
    if values.empty:
        return None
    censored = [bool(c) for c in (values["censoring"].ne("none") if "censoring" in values else [False] * len(values))]
    numbers = [float(v) for v in values["value"]]
    original = list(values["original_value"]) if "original_value" in values else numbers
    return AttributeLots(
        lot_id=tuple(str(v) for v in values["lot_id"]),
        date=tuple(pd.to_datetime(values["manufacture_date"]).dt.strftime("%Y-%m-%d")),
        lot_type=tuple(str(v) for v in values["lot_type"]), value=tuple(numbers), censored=tuple(censored),
        shown=tuple(str(o) if c else sci_text(v, 4) for v, o, c in zip(numbers, original, censored, strict=True)))


def _markers(lots: AttributeLots, idx: list[int]) -> dict[str, Any]:
    return {"x": [lots.date[i] for i in idx], "y": [lots.value[i] for i in idx],
            "text": [_text(lots.lot_id[i]) for i in idx], "customdata": [sci_text(lots.value[i]) for i in idx]}


def lots_figure(lots: AttributeLots, attribute: str, dataset: str, recorded: Recorded) -> FigureData:
    """Each lot's release result of ``attribute`` in manufacture order, by lot type, with the limits;
    the lots the decision used filled, the data set's other lots faint."""
    low, high = recorded.low, recorded.high
    spec = get_attribute(attribute)
    used_ids = set(recorded.lot_ids) if recorded.lot_ids else set(lots.lot_id)
    used = [lot in used_ids for lot in lots.lot_id]
    traces: list[dict[str, Any]] = []
    others = [i for i, u in enumerate(used) if not u]
    if others:
        traces.append({
            "type": "scatter", "mode": "markers", "name": "other lots of the data set", **_markers(lots, others),
            "marker": {"color": "#cbd2d9", "size": 7, "symbol": "diamond"},
            "hovertemplate": "%{text}<br>%{x}<br>%{customdata}<extra>not used</extra>",
        })
    if recorded.groups:  # lots compared (before and after a change): coloured by group
        position = {lot: i for i, lot in enumerate(lots.lot_id)}
        colours = [(label, [position[lot] for lot in ids if lot in position], GROUP_COLOURS[g % len(GROUP_COLOURS)])
                   for g, (label, ids) in enumerate(recorded.groups)]
    else:
        colours = [(lot_type, [i for i, (t, u) in enumerate(zip(lots.lot_type, used, strict=True)) if u and t == lot_type],
                    LOT_TYPE_COLOURS.get(lot_type, "#52606d"))
                   for lot_type in dict.fromkeys(t for t, u in zip(lots.lot_type, used, strict=True) if u)]
    for label, idx, colour in colours:
        if not idx:
            continue
        traces.append({
            "type": "scatter", "mode": "markers", "name": _text(label), **_markers(lots, idx),
            "marker": {"color": colour, "size": 9,
                       "symbol": ["circle-open" if lots.censored[i] else "circle" for i in idx]},
            "hovertemplate": "%{text}<br>%{x}<br>%{customdata}<extra>" + _text(label) + "</extra>",
        })
    first, last = pd.Timestamp(min(lots.date)), pd.Timestamp(max(lots.date))
    span = (last - first) or pd.Timedelta(days=30)
    ends = [(first - 0.03 * span).strftime("%Y-%m-%d"), (last + 0.03 * span).strftime("%Y-%m-%d")]
    for value, which in ((low, "lower"), (high, "upper")):
        if value is not None:
            label = (f"{which} {recorded.limit_name} {sci_text(value)}" if recorded.limit_name == "limit"
                     else f"{recorded.limit_name}, {which} end {sci_text(value)}")
            traces.append({
                "type": "scatter", "mode": "lines+text", "name": label, "x": ends, "y": [value, value],
                "line": {"color": LIMIT_COLOUR, "dash": "dash", "width": 1.5}, "text": ["", label],
                "textposition": "top left", "textfont": {"size": 10, "color": LIMIT_COLOUR},
                "hovertemplate": label + "<extra></extra>",
            })
    note = "open circles: censored at a limit of quantitation" if any(lots.censored) else None
    n_used = len({lot for lot, u in zip(lots.lot_id, used, strict=True) if u})
    n_all = len(set(lots.lot_id))
    groups = " and ".join(label for label, _ids in recorded.groups)
    if groups:
        title = f"{spec.label}: {groups}" + (f", {n_used} of {n_all} lots in {dataset}" if n_used < n_all else "")
    else:
        title = (f"{spec.label}: the {n_used} lots used, of {n_all} in {dataset}" if n_used < n_all
                 else f"{spec.label} by lot ({n_all} lots of {dataset})")
    log = spec.scale is Scale.LOG and all(v > 0 for v in lots.value)
    layout = {
        **LAYOUT, "title": {**LAYOUT["title"], "text": title_with_note(_text(title), note)},
        "xaxis": {**_GRID, "type": "date", "title": {"text": "Manufacture date"}},
        "yaxis": {**_GRID, **value_axis(log, [*lots.value, low, high], spec.label, spec.unit)},
        "showlegend": True,
    }
    limits = ", ".join(f"{w} {sci_text(v)} {spec.unit}".strip() for v, w in ((low, "lower"), (high, "upper"))
                       if v is not None)
    caption = (f"Release results of {spec.label} in data set {dataset}, by manufacture date and "
               + (f"compared group ({groups})" if groups else "lot type")
               + (f"; coloured: the {n_used} lots the decision used, grey diamonds: the other {n_all - n_used}"
                  if n_used < n_all else "")
               + (f"; the decision's {recorded.limit_name}: {limits}" if limits
                  else f"; {recorded.compared_by}" if recorded.compared_by
                  else f"; no {recorded.limit_name} recorded for it by this decision")
               + (" (log scale)" if log else "") + ".")
    rows = tuple((lots.lot_id[i], lots.date[i], lots.lot_type[i], lots.shown[i], "yes" if used[i] else "no")
                 for i in range(len(lots.lot_id)))
    unit = f" ({spec.unit})" if spec.unit else ""
    return FigureData(title=title, caption=caption, spec={"data": traces, "layout": layout},
                      header=("Lot", "Manufacture date", "Lot type", f"Result{unit}", "Used"), rows=rows)
