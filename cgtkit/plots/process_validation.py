"""Figures for the process validation page: pure builders, results in, ``go.Figure`` out.

* :func:`build_capability_figure`: each lot's result against the specification,
  with the fitted normal (or log-normal) curve and Ppk with its interval;
* :func:`build_lots_needed_figure`: what each approach to the number of PPQ
  lots reaches against the number of lots, side by side, and the probability
  that all of them pass;
* :func:`build_pass_probability_figure` / :func:`build_pass_probability_heatmap`:
  the operating-characteristic heat map of P(all PPQ lots pass) over process
  mean and SD, with contours at 0.80, 0.90, 0.95 and 0.99.

No widgets and no session here: the view wraps the figures, and the decision
record can embed the same figures offline.

Example
-------
>>> from cgtkit.stats.ppq import success_run, expected_coverage_lots
>>> fig = build_lots_needed_figure([success_run(0.95, 0.95), expected_coverage_lots(0.90)], n_planned=3)
>>> [t.name for t in fig.data if t.showlegend is not False][:2]
['Success run (95% reliability): n = 59', 'Expected coverage of the range (90%): n = 19']
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from cgtkit.analyses.process_validation import AttributeCapability, PassProbabilityMap
from cgtkit.plots.axes import NUMBER_AXIS, log_ticks, place_legend, sci_text, value_axis
from cgtkit.stats.ppq import LotsNeeded, PassProbability, PassProbabilityGrid
from cgtkit.vocab import Scale

__all__ = [
    "build_capability_figure",
    "build_lots_needed_figure",
    "build_pass_probability_figure",
    "build_pass_probability_heatmap",
]

LAYOUT = dict(
    template="plotly_white",
    height=460,
    margin=dict(l=80, r=30, t=95, b=110),
    legend=dict(orientation="h", yanchor="top", y=-0.22, xanchor="left", x=0),
    font=dict(size=12),
)
SPEC_COLOUR = "#c53030"
APPROACH_COLOURS = {
    "success_run": "#2b5c8a",
    "capability": "#b7791f",
    "expected_coverage": "#2f855a",
    "tolerance_coverage": "#6b46c1",
}
CONTOUR_COLOURS = {0.80: "#1a202c", 0.90: "#2d3748", 0.95: "#4a5568", 0.99: "#718096"}


def _wrap(text: str, width: int = 105) -> str:
    """Break a long subtitle into lines of at most ``width`` characters (plotly does not wrap titles)."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "<br>".join(lines)


def _title(text: str, subtitle: str = "") -> dict[str, object]:
    out: dict[str, object] = dict(text=text, x=0.0, xanchor="left", font=dict(size=15))
    if subtitle:
        out["subtitle"] = dict(text=_wrap(subtitle), font=dict(size=11))
    return out


def _room_for_title(fig: go.Figure) -> go.Figure:
    """A taller top margin for a subtitle of more than two lines, so that it never runs into the plot."""
    subtitle = fig.layout.title.subtitle.text or ""
    extra = max(0, subtitle.count("<br>") - 1)
    if extra:
        fig.update_layout(margin=dict(t=LAYOUT["margin"]["t"] + 15 * extra))
    return fig


def _fmt(value: float | None) -> str:
    return "—" if value is None or not math.isfinite(value) else f"{value:.3g}"


def _prob(p: float) -> str:
    """A probability in words, never rounded to a certainty nor written as 3.5e-11: '>99.9%', '<0.1%'."""
    if p > 0.999:
        return ">99.9%"
    if p < 0.001:
        return "<0.1%"
    return f"{p:.1%}"


# ---------------------------------------------------------------------------
# Capability
# ---------------------------------------------------------------------------


def build_capability_figure(result: AttributeCapability) -> go.Figure:
    """The lots against the specification, the fitted distribution, and Ppk with its interval in the title."""
    cap = result.capability
    log = result.scale is Scale.LOG
    values = np.asarray(result.values, dtype=float)
    # fitted density on the analysis scale, drawn against the data's units
    t_lo = min([cap.mean - 4.0 * cap.sd] + [v for v in (cap.lower_scaled,) if math.isfinite(v)])
    t_hi = max([cap.mean + 4.0 * cap.sd] + [v for v in (cap.upper_scaled,) if math.isfinite(v)])
    pad = 0.05 * (t_hi - t_lo)
    t = np.linspace(t_lo - pad, t_hi + pad, 300)
    density = np.exp(-0.5 * ((t - cap.mean) / cap.sd) ** 2) / (cap.sd * math.sqrt(2.0 * math.pi))
    x_curve = np.exp(t) if log else t
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=x_curve, y=density, mode="lines", name="Fitted " + ("log-normal" if log else "normal") + " distribution",
        line=dict(color="#2b5c8a"), hoverinfo="skip",
    ))
    top = float(density.max())
    jitter = np.linspace(0.04, 0.16, values.size) * top if values.size > 1 else np.array([0.1 * top])
    fig.add_trace(go.Scatter(
        x=values, y=jitter, mode="markers", name=f"Lots ({result.n}, {result.lot_types})",
        marker=dict(color="#b7791f", size=10, line=dict(color="white", width=1)),
        text=list(result.lot_ids), customdata=[sci_text(v, 4) for v in values],
        hovertemplate="%{text}: %{customdata}<extra></extra>",
    ))
    for limit, which in ((cap.lower, "lower"), (cap.upper, "upper")):
        if limit is not None and (not log or limit > 0):
            # a trace, not add_vline: shapes on a log axis take log10 coordinates
            fig.add_trace(go.Scatter(
                x=[limit, limit], y=[0.0, 1.08 * top], mode="lines", name=f"Specification, {which}: {sci_text(limit, 4)}",
                line=dict(color=SPEC_COLOUR, dash="dash", width=2), hoverinfo="skip",
            ))
    level = f"{cap.confidence_level:.0%}"
    subtitle = (
        f"{level} CI {_fmt(cap.ppk_low)} to {_fmt(cap.ppk_high)} (Bissell); {_fmt(cap.ppk_exact_low)} to "
        f"{_fmt(cap.ppk_exact_high)} ({cap.exact_method.split(' (')[0]}). Expected outside: "
        f"{_prob(cap.fraction_outside)} at the estimates, {_prob(cap.fraction_outside_predictive)} for the next lot."
    )
    shown = [float(x_curve.min()), float(x_curve.max()), *values.tolist(),
             *(v for v in (cap.lower, cap.upper) if v is not None and (not log or v > 0))]
    xaxis = value_axis(log, shown, result.label, result.unit or None)
    fig.update_layout(
        **LAYOUT,
        title=_title(f"{result.label}: Ppk {cap.ppk:.2f} from {result.n} lots", subtitle),
        xaxis=xaxis,
        yaxis_title="Fitted density",
        yaxis=dict(rangemode="tozero", showticklabels=False),
    )
    return place_legend(_room_for_title(fig))


# ---------------------------------------------------------------------------
# Number of PPQ lots
# ---------------------------------------------------------------------------


def build_lots_needed_figure(
    approaches: Sequence[LotsNeeded], *, n_planned: int | None = None, pass_probability: PassProbability | None = None,
    counted: Sequence[str] | None = None,
) -> go.Figure:
    """Each approach's measure against the number of lots, the number it leads to marked; P(all pass) dashed.
    Approaches not in ``counted`` (when given) are drawn thin and dotted and named '(not counted)'."""
    fig = go.Figure()
    n_top = 2
    for a in approaches:
        colour = APPROACH_COLOURS.get(a.approach, "#52606d")
        ns = np.asarray(a.ns, dtype=float)
        vals = np.asarray(a.values, dtype=float)
        ok = np.isfinite(vals)
        n_text = f"n = {a.n}" if a.n is not None else "not reached"
        aside = counted is not None and a.approach not in counted
        fig.add_trace(go.Scatter(
            x=ns[ok], y=vals[ok], mode="lines", name=f"{a.label}: {n_text}{' (not counted)' if aside else ''}",
            line=dict(color=colour, width=1.2 if aside else 2, dash="dot" if aside else "solid"),
            opacity=0.6 if aside else 1.0,
            legendgroup=a.approach,
            hovertemplate="n = %{x}<br>%{y:.3f}<extra>" + a.measure.replace("%", "%%") + "</extra>",
        ))
        n_top = max(n_top, int(ns.max()))
        if a.n is not None:
            reached = float(np.interp(a.n, ns[ok], vals[ok])) if a.n <= ns[ok].max() else a.target
            fig.add_trace(go.Scatter(
                x=[a.n], y=[reached], mode="markers+text", text=[str(a.n)], textposition="bottom right",
                marker=dict(color=colour, size=9, symbol="diamond"), showlegend=False, legendgroup=a.approach,
                opacity=0.6 if aside else 1.0,
                hovertemplate=f"{a.label}: target {a.target:.0%} reached at n = {a.n}<extra></extra>",
            ))
    if pass_probability is not None:
        frame = pass_probability.by_lots([n for n in range(1, n_top + 1)])
        fig.add_trace(go.Scatter(
            x=frame["n_lots"], y=frame["probability"], mode="lines",
            name="Probability that all n lots pass (at the estimate)", line=dict(color=SPEC_COLOUR, dash="dash"),
            hovertemplate="n = %{x}<br>P(all pass) = %{y:.3f}<extra></extra>",
        ))
    if n_planned is not None:
        fig.add_trace(go.Scatter(
            x=[n_planned, n_planned], y=[0.0, 1.0], mode="lines", name=f"PPQ lots planned: {n_planned}",
            line=dict(color="#1a202c", dash="dot"), hoverinfo="skip",
        ))
    ticks, labels = log_ticks(1.0, float(n_top))
    fig.update_layout(
        **LAYOUT,
        title=_title("Number of PPQ lots: what each approach reaches",
                     "Diamonds: the number of lots at which each approach reaches its target."),
        xaxis_title="Number of lots n (log scale)",
        yaxis_title="Confidence / expected coverage",
        xaxis=dict(type="log", range=[0.0, math.log10(n_top)], tickmode="array", tickvals=ticks, ticktext=labels),
        yaxis=dict(range=[0.0, 1.05], tickformat=".0%"),
    )
    return place_legend(_room_for_title(fig))


# ---------------------------------------------------------------------------
# Pass-probability heat map
# ---------------------------------------------------------------------------


def build_pass_probability_heatmap(
    grid: PassProbabilityGrid,
    *,
    mean_title: str = "Process mean",
    sd_title: str = "Process SD",
    estimate: PassProbability | None = None,
    title: str | None = None,
) -> go.Figure:
    """P(all lots pass) over mean x SD, with contour lines at 0.80/0.90/0.95/0.99 and the estimate marked."""
    fig = go.Figure()
    fig.add_trace(go.Heatmap(
        x=grid.means, y=grid.sds, z=grid.probability, zmin=0.0, zmax=1.0, colorscale="RdYlGn",
        colorbar=dict(title=dict(text="P(all pass)", side="right"), tickformat=".0%", len=0.9),
        name="P(all lots pass)",
        hovertemplate="mean %{x:.4g}<br>SD %{y:.4g}<br>P(all pass) %{z:.3f}<extra></extra>",
    ))
    for level in grid.contours:
        colour = CONTOUR_COLOURS.get(level, "#1a202c")
        fig.add_trace(go.Contour(
            x=grid.means, y=grid.sds, z=grid.probability, showscale=False, name=f"Contour P = {level:.2f}",
            contours=dict(start=level, end=level, size=1.0, coloring="none", showlabels=True,
                          labelfont=dict(size=10, color=colour)),
            line=dict(color=colour, width=1.5, dash="solid" if level < 0.95 else "dash"),
            showlegend=True, hoverinfo="skip",
        ))
    top = float(np.max(grid.sds))
    for limit, which in ((grid.lower, "lower"), (grid.upper, "upper")):
        if math.isfinite(limit):
            fig.add_trace(go.Scatter(
                x=[limit, limit], y=[float(np.min(grid.sds)), top], mode="lines",
                name=f"Specification, {which}", line=dict(color=SPEC_COLOUR, dash="dash"), hoverinfo="skip",
            ))
    if estimate is not None:
        fig.add_trace(go.Scatter(
            x=[estimate.mean], y=[estimate.sd], mode="markers", name=f"Estimate: P(all pass) {_prob(estimate.all_lots)}",
            marker=dict(color="#b7791f", size=12, symbol="x", line=dict(color="white", width=1)),
            hovertemplate="mean %{x:.4g}<br>SD %{y:.4g}<extra>estimate</extra>",
        ))
    lots = f"{grid.n_lots} PPQ lot{'s' if grid.n_lots > 1 else ''}"
    fig.update_layout(
        **LAYOUT,
        title=_title(title or f"Probability that all {lots} pass", grid.method),
        xaxis=dict(title=dict(text=mean_title), range=[float(np.min(grid.means)), float(np.max(grid.means))],
                   **NUMBER_AXIS),
        yaxis=dict(title=dict(text=sd_title), range=[float(np.min(grid.sds)), top], **NUMBER_AXIS),
    )
    return place_legend(_room_for_title(fig))


def build_pass_probability_figure(pmap: PassProbabilityMap) -> go.Figure:
    """The heat map of a :class:`PassProbabilityMap`, titled with the attribute and the estimate marked."""
    lots = f"{pmap.grid.n_lots} PPQ lot{'s' if pmap.grid.n_lots > 1 else ''}"
    return build_pass_probability_heatmap(
        pmap.grid, mean_title=pmap.mean_title, sd_title=pmap.sd_title, estimate=pmap.estimate,
        title=f"{pmap.label}: probability that all {lots} pass",
    )
