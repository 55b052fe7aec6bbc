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
from cgtkit.vocab import Scale

LOT_TYPE_COLOURS = {
    "engineering": "#9aa5b1",
    "clinical": "#2b5c8a",
    "ppq": "#b7791f",
    "commercial": "#2f855a",
}
LAYOUT = dict(
    template="plotly_white",
    height=360,
    margin=dict(l=60, r=20, t=50, b=90),
    legend=dict(orientation="h", yanchor="top", y=-0.2, xanchor="left", x=0),
    font=dict(size=12),
)


def _axis_type(scale: Scale | str) -> str:
    return "log" if Scale(scale) is Scale.LOG else "linear"


def _limit_lines(fig: go.Figure, low: float | None, high: float | None, name: str, colour: str, dash: str) -> None:
    for value, which in ((low, "lower"), (high, "upper")):
        if value is not None and np.isfinite(value):
            fig.add_hline(
                y=value, line=dict(color=colour, dash=dash, width=1.5),
                annotation_text=f"{name} ({which}): {value:.4g}", annotation_position="top left",
                annotation_font_size=10,
            )


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
                text=group["lot_id"],
                hovertemplate="%{text}<br>%{x|%Y-%m-%d}<br>%{y:.4g}<extra>" + str(lot_type) + "</extra>",
            )
        )
    _limit_lines(fig, low, high, label, "#c53030", "dash")
    fig.update_layout(
        **LAYOUT,
        title=f"{data.spec.label} by lot ({data.n} lots; open circles: censored at a limit of quantitation)",
        xaxis_title="Manufacture date",
        yaxis_title=f"{data.spec.label} ({data.spec.unit})",
        yaxis_type=_axis_type(scale),
    )
    return fig


def build_k_vs_n_figure(table: pd.DataFrame, n_current: int, sided: int) -> go.Figure:
    """The tolerance factor k against the number of lots, one line per coverage/confidence."""
    fig = go.Figure()
    for (coverage, confidence), group in table.groupby(["coverage", "confidence_level"], sort=True):
        fig.add_trace(
            go.Scatter(
                x=group["n"], y=group["k"], mode="lines", name=f"{coverage:.0%} / {confidence:.0%}",
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
    fig.update_layout(
        **LAYOUT,
        title=f"Tolerance factor k against number of lots ({'two' if sided == 2 else 'one'}-sided, exact)",
        xaxis_title="Number of lots n (log scale)",
        xaxis_range=[np.log10(2), np.log10(float(table["n"].max()))],
        yaxis_title="k (limits = mean ± k·SD)",
        xaxis_type="log",
        yaxis_type="log",
    )
    return fig


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
        title="Chance that at least one future lot of an unchanged process falls outside",
        yaxis_title="Probability",
        yaxis_tickformat=".0%",
        yaxis_range=[0, 1],
    )
    return fig


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
            text=pts["lot_id"], hovertemplate="lot %{x}: %{text}<br>%{y:.4g}<extra></extra>",
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
    # criteria reset at each checkpoint, applied to the lots that came after it
    colours = {"re_evaluate": "#c53030", "investigate": "#b7791f", "consistent": "#2f855a"}
    for i, cp in enumerate(replay.checkpoints):
        end = replay.checkpoints[i + 1].n_lots if i + 1 < len(replay.checkpoints) else len(pts)
        xs = [cp.n_lots + 0.5, max(end, cp.n_lots + 1) + 0.5]
        state = "investigate" if cp.investigate else "re_evaluate" if cp.re_evaluate else "consistent"
        for value in (cp.low, cp.high):
            if value is not None:
                fig.add_trace(go.Scatter(
                    x=xs, y=[value, value], mode="lines", showlegend=False,
                    line=dict(color=colours[state], width=2.5),
                    hovertemplate=f"limit set from {cp.n_lots} lots: {value:.4g}<extra></extra>",
                ))
        fig.add_vline(x=cp.n_lots + 0.5, line=dict(color="#bcccdc", width=1),
                      annotation_text=f"{cp.n_lots}", annotation_position="bottom right", annotation_font_size=10)
    fig.update_layout(
        **LAYOUT,
        title=(f"Lifecycle replay: limits ({replay.coverage:.0%}/{replay.confidence_level:.0%} tolerance) reset after "
               "each checkpoint (amber: investigate a shift or outlier, red: re-evaluate, green: consistent)"),
        xaxis_title="Lot number in manufacture order",
        yaxis_title=f"{data.spec.label} ({data.spec.unit})",
        yaxis_type=_axis_type(replay.scale),
    )
    return fig
