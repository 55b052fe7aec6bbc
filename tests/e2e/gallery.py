"""Every chart the specifications pages draw, for every attribute of the example data, on one offline page.

The figures come from the page models and the same builders the views call, so
the gallery shows what a user sees; the browser test renders it in Chromium and
checks that titles, legends and tick labels stay readable.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import dataclass

import plotly.graph_objects as go


@dataclass(frozen=True)
class GalleryFigure:
    key: str  # unique, used as the element id
    caption: str
    figure: go.Figure


def specification_figures() -> Iterator[GalleryFigure]:
    """The lots, k-against-n, risk and replay figures of both specifications pages, per example attribute."""
    from cgtkit.plots.specifications import (
        build_k_vs_n_figure,
        build_lots_figure,
        build_replay_figure,
        build_risk_figure,
    )
    from cgtkit.session import Session
    from cgtkit.ui.clinical_development_model import ClinicalDevelopmentModel
    from cgtkit.ui.commercial_specifications_model import CommercialSpecificationsModel

    session = Session.example()
    pooled = CommercialSpecificationsModel(session)  # both process versions: the replay marks the change
    pooled.selection.choose_versions(["v1", "v2"])
    r = pooled.result
    yield GalleryFigure("car_t_lots-commercial-pooled-replay", "car_t_lots, commercial page, v1 and v2 pooled: replay",
                        build_replay_figure(r.data, r.replay))
    for dataset in ("car_t_lots", "aav_lots"):
        for page, model in (("clinical", ClinicalDevelopmentModel(session)),
                            ("commercial", CommercialSpecificationsModel(session))):
            sel = model.selection
            sel.dataset = dataset
            for _label, attribute in list(sel.attribute_options):
                sel.attribute = attribute
                r = model.result
                if model.problem or r is None or r.fixed:
                    continue
                key = f"{dataset}-{page}-{attribute}"
                where = f"{dataset}, {page} page, {r.data.spec.label}"
                if page == "clinical":
                    p = r.proposal
                    yield GalleryFigure(f"{key}-lots", f"{where}: lots", build_lots_figure(
                        r.data, p.low, p.high, "proposed criterion", r.data.spec.scale))
                else:
                    c = model.chosen()
                    yield GalleryFigure(f"{key}-lots", f"{where}: lots", build_lots_figure(
                        r.data, c.low, c.high, c.label, r.data.spec.scale))
                    yield GalleryFigure(f"{key}-risk", f"{where}: risk", build_risk_figure(
                        r.candidates.candidates, r.candidates.horizons))
                    if r.replay is not None:
                        yield GalleryFigure(f"{key}-replay", f"{where}: replay", build_replay_figure(r.data, r.replay))
                if r.k_table is not None:
                    yield GalleryFigure(f"{key}-k", f"{where}: k against n", build_k_vs_n_figure(
                        r.k_table, max(r.data.n, 2), r.data.spec.limit_side.sided))


def gallery_html(figures: list[GalleryFigure]) -> str:
    """One page, plotly.js inline (no network), each figure at the width the app gives it."""
    from plotly.offline import get_plotlyjs

    parts = []
    for f in figures:
        parts.append(f"<section><h3>{html.escape(f.caption)}</h3>"
                     f"<div class='fig' id='{html.escape(f.key)}' style='width:900px'></div>"
                     f"<script>Plotly.newPlot('{f.key}', {f.figure.to_json()}.data, "
                     f"{f.figure.to_json()}.layout, {{displayModeBar: false}});</script></section>")
    return ("<!doctype html><html><head><meta charset='utf-8'><script>" + get_plotlyjs() + "</script></head>"
            "<body style='font-family:sans-serif'>" + "".join(parts) + "</body></html>")


if __name__ == "__main__":  # python -m tests.e2e.gallery > gallery.html
    print(gallery_html(list(specification_figures())))
