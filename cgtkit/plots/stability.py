"""Figures for stability and the sample budget: pure builders, results in, ``go.Figure`` out.

* :func:`build_stability_figure`: each lot's results, the regression line(s),
  the confidence bound, the acceptance limit(s) and the shelf-life marker
  (with the extrapolation allowance when the estimate goes past it);
* :func:`build_sample_budget_figure`: the share of the lot each test, the
  reserve and the retention take, per plan, against the share that still
  leaves the patient's dose;
* :func:`build_release_timeline_figure`: a Gantt-style timeline of each
  plan's tests against the shelf life, with the release time.

No widgets, no workbook: the view wraps the figures, and a report can embed
them offline.

Examples
--------
>>> from cgtkit.analyses.samples import example_comparison
>>> fig = build_sample_budget_figure(example_comparison("car_t"))
>>> fig.layout.template.layout.paper_bgcolor is not None, fig.layout.xaxis.title.text
(True, 'Share of the lot (%)')
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from cgtkit.analyses.samples import BudgetComparison, fmt_amount
from cgtkit.analyses.stability import StabilityAnalysis
from cgtkit.attributes import get_attribute
from cgtkit.plots.axes import NUMBER_AXIS, place_legend, sci_text, value_axis
from cgtkit.stats.stability import MODEL_LABELS, ShelfLifeResult

__all__ = ["build_release_timeline_figure", "build_sample_budget_figure", "build_stability_figure"]

PALETTE = ("#2b5c8a", "#b7791f", "#2f855a", "#805ad5", "#c05621", "#2c7a7b", "#97266d", "#52606d")
LIMIT_COLOUR = "#c53030"
LAYOUT = dict(
    template="plotly_white",
    margin=dict(l=70, r=30, t=100, b=40),
    legend=dict(orientation="h", yanchor="top", y=-0.18, xanchor="left", x=0, font=dict(size=11)),
    font=dict(size=12),
)


def _title(text: str, sub: str = "") -> dict[str, object]:
    """A left-aligned title, with an optional subtitle, over the plot area."""
    # in the top margin (LAYOUT's t leaves room for two lines), from the figure's left edge (not the plot's,
    # which long category labels push right), so it never overlaps the plot or is cut off
    title: dict[str, object] = dict(text=text, x=0.0, xanchor="left", xref="container", y=1.0, yref="container",
                                    yanchor="top", pad=dict(t=14, l=12), font=dict(size=15))
    if sub:
        title["subtitle"] = dict(text=sub, font=dict(size=11, color="#52606d"))
    return title


def _time(value: float) -> str:
    return "never" if not math.isfinite(value) else fmt_amount(value)


def _model_words(result: ShelfLifeResult) -> str:
    """The model in words; one lot is a single line, with no poolability test behind it."""
    n_lots = result.poolability.n_lots
    return "one lot: a single regression line" if n_lots == 1 else MODEL_LABELS[result.model]


def build_stability_figure(analysis: StabilityAnalysis, *, n_points: int = 161) -> go.Figure:
    """Per-lot results, regression lines, confidence bound(s), limit(s) and the shelf-life marker."""
    data, result = analysis.data, analysis.result
    unit, label = data.time_unit.value, data.spec.label
    value_unit = data.unit or data.spec.unit
    span = data.data_span
    reach = result.shelf_life if math.isfinite(result.shelf_life) else span
    x_max = max(span, min(reach, 3.0 * span)) * 1.05 or 1.0
    grid = np.linspace(0.0, x_max, n_points)
    colours = {lot: PALETTE[i % len(PALETTE)] for i, lot in enumerate(data.lots)}
    fig = go.Figure()
    types = data.rows.groupby("lot_id", sort=False)["lot_type"].first() if "lot_type" in data.rows else {}
    for lot, group in data.rows.groupby("lot_id", sort=False):
        kind = f" ({types[lot]})" if lot in types else ""
        fig.add_trace(go.Scatter(
            x=group["time"], y=group["value"], mode="markers", name=f"lot {lot}{kind}",
            legendgroup=str(lot), marker=dict(color=colours[lot], size=8),
            hovertemplate=f"lot {lot}<br>%{{x:g}} {unit}<br>%{{y:.4g}} {value_unit}<extra></extra>",
        ))
    level = f"{result.confidence_level:.0%}"
    sides = "two-sided" if result.sided == 2 else "one-sided"
    bound_sides = " and ".join(result.lines[0].sides) if result.lines else ""
    pooled = result.model == "pooled" and data.n_lots > 1
    for line in result.lines:
        colour = "#1f2933" if pooled else colours.get(line.lot, "#1f2933")
        group = "pooled" if pooled else line.lot
        fig.add_trace(go.Scatter(
            x=grid, y=line.mean(grid), mode="lines", legendgroup=group, showlegend=pooled,
            name="all lots (pooled): regression line", line=dict(color=colour, width=2), hoverinfo="skip",
        ))
        low, high = line.bounds(grid)
        for values in (low, high):
            if values is not None:
                fig.add_trace(go.Scatter(
                    x=grid, y=values, mode="lines", legendgroup=group, showlegend=False,
                    line=dict(color=colour, width=1.2, dash="dash"), hoverinfo="skip",
                ))
    # legend keys for the line styles (the colours are the lots')
    key = "#7b8794"
    fig.add_trace(go.Scatter(
        x=[None], y=[None], mode="lines", line=dict(color=key, width=2),
        name="solid: regression line" + (" (geometric mean, log-transformed)" if result.log_transform else "")
             + ("" if pooled else ", per lot"),
    ))
    fig.add_trace(go.Scatter(
        x=[None], y=[None], mode="lines", line=dict(color=key, width=1.2, dash="dash"),
        name=f"dashed: {sides} {level} {bound_sides} confidence bound on the mean",
    ))
    for side, limit in (("Lower", analysis.lower_limit), ("Upper", analysis.upper_limit)):
        if limit is not None:
            fig.add_trace(go.Scatter(
                x=[0.0, x_max], y=[limit, limit], mode="lines", name=f"{side} acceptance limit: {sci_text(limit, 4)} {value_unit}",
                line=dict(color=LIMIT_COLOUR, width=2), hoverinfo="skip",
            ))
    values = data.rows["value"].to_numpy(float)
    limits = [v for v in (analysis.lower_limit, analysis.upper_limit) if v is not None]
    y_low, y_high = float(min(values.min(), *limits)), float(max(values.max(), *limits))
    if math.isfinite(result.shelf_life) and result.shelf_life > 0:
        who = f", lot {result.governing_lot}" if result.governing_lot else ""
        inside = result.shelf_life <= x_max
        fig.add_trace(go.Scatter(
            x=[result.shelf_life] * 2 if inside else [None], y=[y_low, y_high] if inside else [None], mode="lines",
            name=f"Shelf-life estimate: {_time(result.shelf_life)} {unit}{who}"
                 + ("" if inside else " (beyond the plotted range)"),
            line=dict(color="#1f2933", width=1.5, dash="dot"), hoverinfo="skip",
        ))
    if result.beyond_allowance:
        fig.add_trace(go.Scatter(
            x=[result.allowed_shelf_life] * 2, y=[y_low, y_high], mode="lines",
            name=f"Longest shelf life the data support (extrapolation allowance): "
                 f"{fmt_amount(result.allowed_shelf_life)} {unit}",
            line=dict(color=LIMIT_COLOUR, width=1.5, dash="dashdot"), hoverinfo="skip",
        ))
    shown = (f"{_time(result.shelf_life)} {unit}" if result.shelf_life > 0 else "none (outside at time 0)")
    fig.update_layout(
        **LAYOUT,
        height=520,
        title=_title(f"{label}: shelf life {shown}",
                     f"ICH Q1E, {_model_words(result)}; {sides} {level} confidence bound"
                     + ("; log-transformed regression" if result.log_transform else "")),
        xaxis=dict(NUMBER_AXIS, title=f"Time ({unit})", range=[0.0, x_max]),
        yaxis=value_axis(result.log_transform, [*values, *limits], label, value_unit or None),
    )
    return place_legend(fig)


def _measure_label(measures: str) -> str:
    spec = get_attribute(measures)
    return spec.label if spec.in_catalog else measures.replace("_", " ").capitalize()


def build_sample_budget_figure(comparison: BudgetComparison) -> go.Figure:
    """The share of the lot each test, the reserve and the retention take, one bar per plan."""
    budgets = comparison.budgets
    plans = [b.plan_label for b in budgets]
    measures = list(dict.fromkeys(line.measures for b in budgets for line in b.lines))
    fig = go.Figure()
    for i, measure in enumerate(measures):
        shares, texts = [], []
        for b in budgets:
            lines = [ln for ln in b.lines if ln.measures == measure]
            shares.append(100.0 * sum(ln.sample_ml for ln in lines) / b.volume_ml)
            texts.append("<br>".join(f"{ln.label}: {ln.sample} = {fmt_amount(ln.sample_ml)} mL" for ln in lines)
                         or "not tested")
        fig.add_trace(go.Bar(
            y=plans, x=shares, orientation="h", name=f"Test sample: {_measure_label(measure)}",
            marker_color=PALETTE[i % len(PALETTE)], text=texts, textposition="none",
            hovertemplate="%{text}<br>%{x:.1f}% of the lot<extra></extra>",
        ))
    for name, key, colour in (("Reserve, 2× the tests (21 CFR 211.170(b))", "reserve_ml", "#9aa5b1"),
                              ("Retention, final container (21 CFR 600.13)", "retention_ml", "#52606d")):
        fig.add_trace(go.Bar(
            y=plans, x=[100.0 * getattr(b, key) / b.volume_ml for b in budgets], orientation="h", name=name,
            marker=dict(color=colour, pattern=dict(shape="/")),
            hovertemplate="%{x:.1f}% of the lot<extra>" + name.split(",")[0] + "</extra>",
        ))
    room = [100.0 * (1.0 - b.dose_ml / b.volume_ml) for b in budgets]
    fig.add_trace(go.Scatter(
        y=plans, x=room, mode="markers", name="Beyond this, the patient's dose does not fit",
        marker=dict(symbol="line-ns-open", size=26, color=LIMIT_COLOUR, line=dict(width=3)),
        hovertemplate="%{x:.1f}% (dose fits below this)<extra></extra>",
    ))
    shares = [100.0 * b.consumed_share for b in budgets]
    fig.add_trace(go.Scatter(
        y=plans, x=[max(100.0, v) + 2.0 for v in shares], mode="text", text=[f"{v:.1f}% consumed" for v in shares],
        textposition="middle right",
        showlegend=False, hoverinfo="skip", cliponaxis=False,
    ))
    if len(plans) > 1:  # a line from the first bar to the last
        fig.add_trace(go.Scatter(
            y=[plans[0], plans[-1]], x=[100.0, 100.0], mode="lines", name="The whole lot (100%)",
            line=dict(color="#1f2933", width=1), hoverinfo="skip",
        ))
    top = max(100.0, *shares) + 30.0  # room for the totals, in a column right of the whole lot
    layout = {k: v for k, v in LAYOUT.items() if k != "legend"}
    height = 330 + 60 * len(plans)
    plot_height = height - LAYOUT["margin"]["t"] - LAYOUT["margin"]["b"]  # type: ignore[index]
    fig.update_layout(
        **layout,
        barmode="stack",
        legend=dict(LAYOUT["legend"], y=-70.0 / plot_height, traceorder="normal", entrywidth=0.5,
                    entrywidthmode="fraction"),
        height=height,
        title=_title(f"Share of the lot consumed: {comparison.lot.label}",
                     f"{fmt_amount(comparison.lot.volume_ml)} mL in {comparison.lot.final_containers} final "
                     f"container(s); patient dose{'s' if comparison.lot.doses > 1 else ''} "
                     f"{fmt_amount(comparison.lot.dose_ml)} mL"),
        xaxis=dict(NUMBER_AXIS, title="Share of the lot (%)", range=[0.0, top]),
        yaxis=dict(autorange="reversed", automargin=True),
    )
    return place_legend(fig)


PLAN_COLOURS = ("#2b5c8a", "#2f855a", "#805ad5", "#c05621", "#2c7a7b", "#97266d")


def build_release_timeline_figure(comparison: BudgetComparison) -> go.Figure:
    """When each plan's results come and when the lot can be released, against the shelf life (Gantt-style).

    One row per quality aspect tested (sterility, mycoplasma, potency ...) with a bar per plan from the end
    of manufacture to the result, labelled with its time; the first row marks each plan's release (after
    the results that hold it and QA disposition). A result released on negative to date is hatched: it
    comes after release, and the treating physician is notified if it turns positive.
    """
    budgets = comparison.budgets
    longest = max([b.shelf_life_hours for b in budgets if math.isfinite(b.shelf_life_hours)]
                  + [ln.time_to_result_hours for b in budgets for ln in b.lines]
                  + [b.time_to_release_hours for b in budgets])
    in_days = longest > 96
    per = 24.0 if in_days else 1.0
    unit = "days" if in_days else "hours"

    def said(hours: float) -> str:
        return f"{fmt_amount(hours / 24)} d" if hours >= 96 else f"{fmt_amount(hours)} h"

    measures = list(dict.fromkeys(ln.measures for b in budgets for ln in b.lines))
    rows = ["release", *measures]
    n = len(budgets)
    step = 0.8 / n
    offsets = [(j - (n - 1) / 2) * step for j in range(n)]
    fig = go.Figure()
    for j, b in enumerate(budgets):
        colour = PLAN_COLOURS[j % len(PLAN_COLOURS)]
        lines = list(b.lines)
        fig.add_trace(go.Bar(
            y=[rows.index(ln.measures) + offsets[j] for ln in lines], x=[ln.time_to_result_hours / per for ln in lines],
            orientation="h", width=step * 0.9, name=b.plan_label, legendgroup=b.plan_id, showlegend=False,
            marker=dict(color=colour, pattern=dict(shape=["" if ln.holds_release else "x" for ln in lines],
                                                   fgcolor="#ffffff", solidity=0.35)),
            text=[said(ln.time_to_result_hours) for ln in lines], textposition="outside", cliponaxis=False,
            textfont=dict(size=10),
            hovertext=[f"{b.plan_label}: {ln.label}, result at {said(ln.time_to_result_hours)}"
                       + ("" if ln.holds_release else " (released before it: negative to date)") for ln in lines],
            hovertemplate="%{hovertext}<extra></extra>",
        ))
        fig.add_trace(go.Bar(  # the legend's key: the plan's colour, unhatched
            y=[None], x=[None], orientation="h", name=b.plan_label, legendgroup=b.plan_id, marker_color=colour,
        ))
        fig.add_trace(go.Scatter(
            y=[offsets[j]], x=[b.time_to_release_hours / per], mode="markers+text", legendgroup=b.plan_id,
            showlegend=False, marker=dict(symbol="diamond", size=11, color=colour, line=dict(color="#1f2933", width=1)),
            text=[f"release at {said(b.time_to_release_hours)}"], textposition="middle right", cliponaxis=False,
            textfont=dict(size=10), hovertemplate=f"{b.plan_label}: release at %{{x:.3g}} {unit}<extra></extra>",
        ))
    if any(not ln.holds_release for b in budgets for ln in b.lines):
        fig.add_trace(go.Bar(
            y=[None], x=[None], orientation="h", name="Hatched: released on negative-to-date; result after release "
                                                      "(notify the physician)",
            marker=dict(color="#9aa5b1", pattern=dict(shape="x", fgcolor="#ffffff", solidity=0.35)),
        ))
    fig.add_trace(go.Scatter(
        x=[None], y=[None], mode="markers", name="Diamond: release (results needed, then QA disposition)",
        marker=dict(symbol="diamond", size=11, color="#9aa5b1", line=dict(color="#1f2933", width=1)),
    ))
    shelf = [b.shelf_life_hours for b in budgets if math.isfinite(b.shelf_life_hours)]
    if shelf:
        end = min(shelf) / per
        fig.add_trace(go.Scatter(
            x=[end, end], y=[-0.5, len(rows) - 0.5], mode="lines",
            name=f"End of shelf life: {fmt_amount(end)} {unit} from the end of manufacture",
            line=dict(color=LIMIT_COLOUR, width=2, dash="dash"), hoverinfo="skip",
        ))
    top = max([b.time_to_release_hours / per for b in budgets]
              + [ln.time_to_result_hours / per for b in budgets for ln in b.lines] + [s_ / per for s_ in shelf])
    labels = ["<b>Release</b>", *(_measure_label(m) for m in measures)]
    height = 250 + len(rows) * (14 + 16 * n)
    plot_height = height - 90 - 40
    fig.update_layout(
        **{**LAYOUT, "margin": dict(l=70, r=40, t=90, b=40),
           "legend": dict(LAYOUT["legend"], y=-70.0 / plot_height)},
        height=height,
        title=_title(f"Time to release against shelf life: {comparison.lot.label}",
                     "All tests start at the end of manufacture; one bar per plan"),
        xaxis=dict(NUMBER_AXIS, title=f"Time from the end of manufacture ({unit})", range=[0.0, top * 1.22]),
        yaxis=dict(tickmode="array", tickvals=list(range(len(rows))), ticktext=labels, range=[len(rows) - 0.5, -0.5],
                   automargin=True, showgrid=False),
        barmode="overlay",
    )
    return place_legend(fig)
