"""The navigator's timeline: which flexibilities matter at which stage for this product."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from cgtkit.vocab import STAGES

RELEVANCE_STYLE = {
    "now": dict(color="#2f855a", symbol="circle", size=16, label="matters now"),
    "planned": dict(color="#b7791f", symbol="circle-open", size=14, label="later stage"),
    "past": dict(color="#9aa5b1", symbol="circle", size=9, label="earlier stage"),
    "not applicable": dict(color="#d9e2ec", symbol="x-thin-open", size=9, label="not applicable"),
}


def build_timeline_figure(timeline: pd.DataFrame, current_stage: str, pivotal: bool = False) -> go.Figure:
    """One row per flexibility, one column per stage (seamless phases 1/2 and 2/3 included), marked by
    relevance to this product; ``pivotal`` notes in the title that the current study is the pivotal one."""
    order = list(dict.fromkeys(timeline["flexibility_id"]))
    fig = go.Figure()
    for relevance, style in RELEVANCE_STYLE.items():
        rows = timeline[timeline["relevance"] == relevance]
        if rows.empty:
            continue
        fig.add_trace(
            go.Scatter(
                x=rows["stage"], y=rows["flexibility_id"], mode="markers", name=style["label"],
                marker=dict(color=style["color"], symbol=style["symbol"], size=style["size"],
                            line=dict(width=2, color=style["color"])),
                text=rows["title"], hovertemplate="%{y} — %{text}<br>%{x}: " + style["label"] + "<extra></extra>",
            )
        )
    fig.add_vline(x=STAGES.index(current_stage), line=dict(color="#2b5c8a", width=2, dash="dot"))
    fig.update_layout(
        template="plotly_white",
        height=120 + 24 * len(order),
        margin=dict(l=190, r=20, t=80, b=50),
        title=("When each flexibility matters for this product (dotted line: now, "
               f"{current_stage}{', pivotal study' if pivotal else ''})"),
        legend=dict(orientation="h", yanchor="top", y=-0.01, xanchor="left", x=0),
        xaxis=dict(categoryorder="array", categoryarray=list(STAGES), side="top", title=None),
        yaxis=dict(categoryorder="array", categoryarray=order[::-1], title=None),
        font=dict(size=12),
    )
    return fig
