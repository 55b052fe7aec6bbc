"""Figures for the comparability page: pure builders, results in, ``go.Figure`` out.

* :func:`build_dot_figure`: each lot's result before and after the change, with the quality range;
* :func:`build_forest_figure`: each attribute's difference (or ratio) with its 90 % confidence
  interval against its equivalence margin, in reference SDs so that attributes share one axis;
* :func:`build_power_figure`: the power of the equivalence test against the number of lots per side.

No widgets here: the view wraps the figures, and the decision record can embed them offline.

Example
-------
>>> from cgtkit.analyses.comparability import power_table
>>> fig = build_power_figure(power_table(), n_current=3)
>>> fig.layout.title.text.startswith("Chance of showing equivalence")
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from cgtkit.analyses.comparability import AttributeComparison, ComparabilityResult
from cgtkit.plots.axes import place_legend, sci_text, title_with_note, value_axis
from cgtkit.stats.equivalence import PowerGrid
from cgtkit.vocab import Scale

__all__ = ["build_dot_figure", "build_forest_figure", "build_power_figure", "figures_for"]

SIDE_COLOURS = {"pre": "#2b5c8a", "post": "#b7791f"}
LAYOUT = dict(
    template="plotly_white",
    height=380,
    margin=dict(l=70, r=30, t=70, b=100),
    legend=dict(orientation="h", yanchor="top", y=-0.18, xanchor="left", x=0),
    font=dict(size=12),
)


def build_dot_figure(
    result: AttributeComparison, *, pre_label: str = "pre-change", post_label: str = "post-change"
) -> go.Figure:
    """Each lot's result before and after the change (jittered dots), with the quality range if there is one.

    Censored results (at a limit of quantitation) are open markers; for a paired
    design the two lots of a donor are joined by a grey line.
    """
    lots = result.lots
    fig = go.Figure()
    rng = np.random.default_rng(0)  # fixed jitter: the same figure every time
    x_pos = {"pre": 0.0, "post": 1.0}
    if result.paired and "pair" in lots.columns and len(lots):
        for _, pair in lots.groupby("pair"):
            if set(pair["side"]) == {"pre", "post"}:
                pair = pair.sort_values("side", key=lambda s: s.map(x_pos))
                fig.add_trace(go.Scatter(x=pair["side"].map(x_pos), y=pair["value"], mode="lines",
                                         line=dict(color="#cbd2d9", width=1), hoverinfo="skip", showlegend=False))
    for side in ("pre", "post"):
        part = lots[lots["side"] == side] if len(lots) else lots
        if not len(part):
            continue
        censored = part["censoring"].ne("none").to_numpy() if "censoring" in part else np.zeros(len(part), bool)
        jitter = 0.0 if result.paired else rng.uniform(-0.12, 0.12, len(part))
        fig.add_trace(go.Scatter(
            x=np.full(len(part), x_pos[side]) + jitter, y=part["value"], mode="markers",
            name=f"{pre_label if side == 'pre' else post_label} lots (n = {len(part)})",
            marker=dict(color=SIDE_COLOURS[side], size=10, symbol=np.where(censored, "circle-open", "circle"),
                        line=dict(width=1, color=SIDE_COLOURS[side])),
            text=part["lot_id"], customdata=[sci_text(v) for v in part["value"]],
            hovertemplate="%{text}<br>%{customdata}<extra></extra>",
        ))
    q = result.quality_range
    if q is not None:
        for value, which in ((q.low, "low"), (q.high, "high")):
            fig.add_trace(go.Scatter(
                x=[-0.4, 1.4], y=[value, value], mode="lines", line=dict(color="#c53030", dash="dash", width=1.5),
                name=f"quality range: pre-change mean ± {q.k:g} SD", legendgroup="qr", showlegend=which == "low",
                hovertemplate=f"range {which}: {sci_text(value)}<extra></extra>",
            ))
    title = title_with_note(f"{result.label}: lots before and after the change",
                            f"{q.n_inside} of {q.n_test} post-change lots inside the range" if q is not None else None)
    values = [*(lots["value"] if len(lots) else []), *((q.low, q.high) if q is not None else ())]
    fig.update_layout(
        **LAYOUT,
        title=dict(text=title, x=0, xanchor="left"),
        xaxis=dict(tickvals=[0, 1], ticktext=[pre_label, post_label], range=[-0.5, 1.5], title=None),
        yaxis=value_axis(Scale(result.scale) is Scale.LOG, values, result.label, result.unit or None),
    )
    return place_legend(fig)


def build_forest_figure(result: ComparabilityResult) -> go.Figure:
    """Each equivalence-tested attribute's difference and 90 % interval against its margin, in reference SDs.

    The difference (log ratio for log-normal attributes) and its interval are
    divided by the SD of the pre-change lots (of their logs), so attributes with
    different units share one axis; each attribute's own margin is marked on
    its row. Hover text gives the values in the attribute's units (or as ratios).
    """
    rows = [a for a in result.attributes if a.equivalence is not None]
    fig = go.Figure()
    labels = [a.label for a in rows]
    for i, a in enumerate(rows):
        e = a.equivalence
        assert e is not None
        sd = e.sd_reference
        colour = "#2f855a" if e.equivalent else "#c53030"
        if e.scale == "log":
            words = (f"ratio {math.exp(e.difference):.3g} (90% CI {math.exp(e.ci_low):.3g} to "
                     f"{math.exp(e.ci_high):.3g}); margin {math.exp(e.low):.3g} to {math.exp(e.high):.3g}")
        else:
            unit = f" {a.unit}" if a.unit else ""
            words = (f"difference {e.difference:.3g}{unit} (90% CI {e.ci_low:.3g} to {e.ci_high:.3g}); "
                     f"margin {e.low:.3g} to {e.high:.3g}")
        fig.add_trace(go.Scatter(
            x=[e.difference / sd], y=[i], mode="markers",
            marker=dict(color=colour, size=11, symbol="diamond"),
            error_x=dict(type="data", symmetric=False, array=[(e.ci_high - e.difference) / sd],
                         arrayminus=[(e.difference - e.ci_low) / sd], color=colour, thickness=2, width=6),
            name="equivalent" if e.equivalent else "equivalence not shown", legendgroup=str(e.equivalent),
            showlegend=not any(b.equivalence is not None and b.equivalence.equivalent == e.equivalent
                               for b in rows[:i]),
            hovertemplate=f"{a.label}: {words}<extra></extra>",
        ))
        fig.add_trace(go.Scatter(
            x=[e.low / sd, e.high / sd], y=[i, i], mode="markers",
            marker=dict(symbol="line-ns-open", size=22, color="#52606d", line=dict(width=2)),
            name="equivalence margin", legendgroup="margin", showlegend=i == 0, hoverinfo="skip",
        ))
    fig.add_vline(x=0, line=dict(color="#9aa5b1", width=1))
    fig.update_layout(
        **{**LAYOUT, "height": max(300, 150 + 50 * len(rows)), "margin": dict(l=190, r=30, t=70, b=110),
           "legend": dict(orientation="h", yanchor="top", y=-0.45 if len(rows) < 3 else -0.3, xanchor="left", x=0)},
        title=dict(text=title_with_note("Difference after minus before the change, in pre-change SDs",
                                        "90% confidence interval against each attribute's equivalence margin"),
                   x=0, xanchor="left"),
        xaxis_title="Difference (log ratio for log-normal attributes) ÷ SD of the pre-change lots",
        yaxis=dict(tickvals=list(range(len(rows))), ticktext=labels, autorange="reversed", title=None),
    )
    return place_legend(fig)


def build_power_figure(
    grid: PowerGrid, *, margin_index: int = 0, n_current: int | None = None, target_power: float = 0.8
) -> go.Figure:
    """Power of the equivalence test against lots per side, one line per true difference, for one margin.

    ``n_current`` marks the lots available; the dotted line is the target power.
    """
    margin = grid.margins[margin_index]
    fig = go.Figure()
    for j, delta in enumerate(grid.true_differences):
        fig.add_trace(go.Scatter(
            x=list(grid.n), y=grid.power[:, j, margin_index], mode="lines+markers", marker=dict(size=5),
            name=f"true difference {delta:g} SD",
            hovertemplate="%{x} lots per side: power %{y:.0%}<extra>%{fullData.name}</extra>",
        ))
    fig.add_trace(go.Scatter(
        x=[min(grid.n), max(grid.n)], y=[target_power, target_power], mode="lines",
        line=dict(color="#52606d", dash="dot"), name=f"target power {target_power:.0%}", hoverinfo="skip",
    ))
    if n_current is not None:
        fig.add_trace(go.Scatter(
            x=[n_current, n_current], y=[0, 1], mode="lines", line=dict(color="#c53030", dash="dash"),
            name=f"your lots: {n_current} per side", hoverinfo="skip",
        ))
    what = "pairs" if grid.design == "paired" else "lots per side"
    fig.update_layout(
        **LAYOUT,
        title=dict(text=f"Chance of showing equivalence (margin ± {margin:g} SD, {1 - 2 * grid.alpha:.0%} interval)",
                   x=0, xanchor="left"),
        xaxis_title=f"Number of {what}",
        yaxis=dict(title="Power", tickformat=".0%", range=[0, 1.02]),
    )
    return place_legend(fig)


def figures_for(result: ComparabilityResult) -> Sequence[go.Figure]:
    """A dot figure per attribute compared (convenience for reports)."""
    return [build_dot_figure(a, pre_label=result.lots.pre_label, post_label=result.lots.post_label)
            for a in result.attributes if len(a.lots)]
