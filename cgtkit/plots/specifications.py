"""Figures for the specifications pages: pure builders, data in, ``go.Figure`` out.

No widgets here: the view wraps the figures, and the decision record can embed
the same figures offline.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from cgtkit.analyses.lifecycle import LifecycleReplay
from cgtkit.analyses.specifications import AttributeData, Candidate
from cgtkit.plots.axes import log_axis, log_ticks, place_legend, sci_text, title_with_note
from cgtkit.plots.axes import value_axis as axes_value_axis
from cgtkit.vocab import Scale

LOT_TYPE_COLOURS = {
    "engineering": "#9aa5b1",
    "clinical": "#2b5c8a",
    "ppq": "#b7791f",
    "commercial": "#2f855a",
}
LAYOUT = dict(
    template="plotly_white",
    height=380,
    margin=dict(l=80, r=20, t=70, b=90),
    legend=dict(orientation="h", yanchor="top", y=-0.2, xanchor="left", x=0),
    font=dict(size=12),
    title_font_size=15,
)
def value_axis(scale: Scale | str, values: Sequence[float | None], label: str, unit: str) -> dict[str, object]:
    """The y axis of an attribute's values on its scale (see :func:`cgtkit.plots.axes.value_axis`)."""
    return axes_value_axis(Scale(scale) is Scale.LOG, values, label, unit)


def _limit_lines(fig: go.Figure, x: Sequence[object], low: float | None, high: float | None, name: str,
                 colour: str, dash: str) -> None:
    """Each limit as a labelled line trace across ``x`` (first, last): traces, not shapes, so the label
    sits at the limit on any axis type (shape annotations on a log axis take log10 coordinates)."""
    for value, which in ((low, "lower"), (high, "upper")):
        if value is not None and np.isfinite(value):
            label = f"{which} {sci_text(value)}"
            fig.add_trace(go.Scatter(
                x=list(x), y=[value, value], mode="lines+text", name=f"{name}: {label}",
                line=dict(color=colour, dash=dash, width=1.5), text=["", label], textposition="top left",
                textfont=dict(size=10, color=colour), hovertemplate=f"{name}: {label}<extra></extra>",
            ))


def build_lots_figure(
    data: AttributeData, low: float | None, high: float | None, label: str, scale: Scale | str = Scale.NORMAL
) -> go.Figure:
    """Each lot's result in manufacture order, coloured by lot type, with the chosen limits."""
    lots = data.lots
    fig = go.Figure()
    for lot_type, group in lots.groupby("lot_type", sort=False):
        censored = group["censoring"].ne("none")
        fig.add_trace(
            go.Scatter(
                x=group["manufacture_date"], y=group["value"], mode="markers", name=str(lot_type),
                marker=dict(
                    color=LOT_TYPE_COLOURS.get(str(lot_type), "#52606d"), size=9,
                    symbol=np.where(censored, "circle-open", "circle"),
                ),
                text=group["lot_id"], customdata=[sci_text(v) for v in group["value"]],
                hovertemplate="%{text}<br>%{x|%Y-%m-%d}<br>%{customdata}<extra>" + str(lot_type) + "</extra>",
            )
        )
    dates = lots["manufacture_date"]
    if len(dates):
        span = (dates.max() - dates.min()) or pd.Timedelta(days=30)
        _limit_lines(fig, (dates.min() - 0.03 * span, dates.max() + 0.03 * span), low, high, label,
                     "#c53030", "dash")
    censored_note = "open circles: censored at a limit of quantitation" if lots["censoring"].ne("none").any() else None
    fig.update_layout(
        **LAYOUT,
        title=title_with_note(f"{data.spec.label} by lot ({data.n} lots)", censored_note),
        xaxis_title="Manufacture date",
        yaxis=value_axis(scale, [*lots["value"], low, high], data.spec.label, data.spec.unit),
    )
    return place_legend(fig)


def build_k_vs_n_figure(table: pd.DataFrame, n_current: int, sided: int) -> go.Figure:
    """The tolerance factor k against the number of lots, one line per coverage and confidence."""
    fig = go.Figure()
    for (coverage, confidence), group in table.groupby(["coverage", "confidence_level"], sort=True):
        fig.add_trace(
            go.Scatter(
                x=group["n"], y=group["k"], mode="lines", name=f"{coverage:.0%} coverage, {confidence:.0%} confidence",
                hovertemplate="n = %{x}<br>k = %{y:.3f}<extra>%{fullData.name}</extra>",
            )
        )
    # a trace, not add_vline: shapes on a log axis take log10 coordinates
    fig.add_trace(
        go.Scatter(
            x=[n_current, n_current], y=[table["k"].min(), table["k"].max()], mode="lines",
            name=f"your lots: n = {n_current}", line=dict(color="#c53030", dash="dot"), hoverinfo="skip",
        )
    )
    n_max = float(table["n"].max())
    x_ticks, x_labels = log_ticks(2.0, n_max)
    fig.update_layout(
        **LAYOUT,
        title=title_with_note(f"Tolerance factor k against the number of lots ({'two' if sided == 2 else 'one'}-sided)",
                              "limits = mean ± k·SD; exact factors"),
        xaxis=dict(type="log", range=[np.log10(2), np.log10(n_max)], tickmode="array",
                   tickvals=[2, *x_ticks[1:]] if x_ticks[0] != 2 else x_ticks,
                   ticktext=["2", *x_labels[1:]] if x_ticks[0] != 2 else x_labels,
                   title=dict(text="Number of lots n (log scale)")),
        yaxis={**log_axis(table["k"]), "title": dict(text="k (log scale)")},
    )
    return place_legend(fig)


def build_risk_figure(candidates: Sequence[Candidate], horizons: Sequence[int]) -> go.Figure:
    """False-OOS risk of each candidate for the next m lots."""
    fig = go.Figure()
    for c in candidates:
        fig.add_trace(
            go.Bar(
                x=[f"next {m}" for m in horizons], y=[c.risk[m] for m in horizons], name=c.label,
                hovertemplate="%{y:.1%}<extra>%{fullData.name}</extra>",
            )
        )
    fig.update_layout(
        **LAYOUT,
        barmode="group",
        title=title_with_note("Chance that at least one future lot falls outside",
                              "each candidate's procedure-average risk, for an unchanged process"),
        yaxis_title="Probability",
        yaxis_tickformat=".0%",
        yaxis_range=[0, 1],
    )
    return place_legend(fig)


def build_replay_figure(data: AttributeData, replay: LifecycleReplay) -> go.Figure:
    """The lots in order with the fitted process level (a step where the shift test dates a shift),
    the outliers the replay flags, and the criteria reset at each checkpoint, coloured by reading."""
    pts = replay.chart_points
    x = np.arange(1, len(pts) + 1)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=x, y=pts["value"], mode="lines+markers", name="lot result",
            line=dict(color="#9aa5b1", width=1), marker=dict(color="#2b5c8a", size=7),
            text=pts["lot_id"], customdata=[sci_text(v) for v in pts["value"]],
            hovertemplate="lot %{x}: %{text}<br>%{customdata}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x, y=pts["fitted"], mode="lines", line_shape="hvh", name="process level (fitted)",
            line=dict(color="#7b8794", width=1.5), hoverinfo="skip",
        )
    )
    outlier = pts["outlier"].to_numpy(dtype=bool)
    if outlier.any():
        fig.add_trace(
            go.Scatter(
                x=x[outlier], y=pts["value"][outlier], mode="markers", name="isolated outlier",
                marker=dict(color="#c53030", size=11, symbol="x"),
                text=[f"{lot}: adjusted p = {p:.3g}"
                      for lot, p in zip(pts["lot_id"][outlier], pts["outlier_p"][outlier], strict=True)],
                hovertemplate="lot %{x}<br>%{text}<extra></extra>",
            )
        )
    if replay.change_lot is not None:
        first = int(np.argmax(pts["after_change"].to_numpy(dtype=bool))) + 1
        fig.add_vline(x=first - 0.5, line=dict(color="#b7791f", width=2, dash="dash"),
                      annotation_text=f"shift from lot {replay.change_lot}", annotation_position="top right",
                      annotation_font_size=10)
    for change in replay.version_changes:
        fig.add_vline(x=change.position - 0.5, line=dict(color="#6b46c1", width=2, dash="dot"),
                      annotation_text=f"process {change.before} → {change.after}", annotation_position="top left",
                      annotation_font_size=10, annotation_font_color="#6b46c1")
    # criteria reset at each checkpoint, applied to the lots that came after it
    colours = {"re_evaluate": "#c53030", "investigate": "#b7791f", "consistent": "#2f855a"}
    names = {"consistent": "limits: consistent", "investigate": "limits: investigate a shift or outlier",
             "re_evaluate": "limits: re-evaluate"}
    shown: set[str] = set()
    limit_values: list[float | None] = []
    for i, cp in enumerate(replay.checkpoints):
        end = replay.checkpoints[i + 1].n_lots if i + 1 < len(replay.checkpoints) else len(pts)
        xs = [cp.n_lots + 0.5, max(end, cp.n_lots + 1) + 0.5]
        state = "investigate" if cp.investigate else "re_evaluate" if cp.re_evaluate else "consistent"
        for value in (cp.low, cp.high):
            if value is not None:
                limit_values.append(value)
                fig.add_trace(go.Scatter(
                    x=xs, y=[value, value], mode="lines", name=names[state], legendgroup=state,
                    showlegend=state not in shown, line=dict(color=colours[state], width=2.5),
                    hovertemplate=f"limit set from {cp.n_lots} lots: {sci_text(value)}<extra></extra>",
                ))
                shown.add(state)
        fig.add_vline(x=cp.n_lots + 0.5, line=dict(color="#bcccdc", width=1),
                      annotation_text=f"{cp.n_lots}", annotation_position="bottom right", annotation_font_size=10)
    fig.update_layout(
        **LAYOUT,
        title=title_with_note(
            "Lifecycle replay: criteria reset at each checkpoint",
            f"{replay.coverage:.0%} coverage, {replay.confidence_level:.0%} confidence tolerance limits from the "
            "lots so far, applied to the lots after"),
        xaxis_title="Lot number in manufacture order",
        yaxis=value_axis(replay.scale, [*pts["value"], *limit_values], data.spec.label, data.spec.unit),
    )
    return place_legend(fig)
