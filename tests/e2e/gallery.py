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


#: Acceptance limits the stability gallery uses for the example data (test inputs, as a user would enter them).
STABILITY_LIMITS = {"viability": (80.0, None), "ifng_potency": (500.0, None), "relative_potency": (50.0, 150.0),
                    "vector_genome_titer": (5e12, 2e13)}


def stability_figures() -> Iterator[GalleryFigure]:
    """The Stability and samples page's figures: each example stability attribute, and each example lot's budget
    and release timeline, built by the page's models."""
    from cgtkit.plots.stability import build_release_timeline_figure, build_sample_budget_figure, build_stability_figure
    from cgtkit.session import Session
    from cgtkit.ui.stability_samples_model import SamplesModel, StabilityModel

    session = Session.example()
    model = StabilityModel(session)
    for dataset in model.dataset_options:
        model.dataset = dataset
        for _label, attribute in list(model.attribute_options):
            model.attribute = attribute
            low, high = STABILITY_LIMITS[attribute]
            model.lower_limit, model.upper_limit = ("" if low is None else f"{low:g}"), ("" if high is None else f"{high:g}")
            assert not model.problem, model.problem
            yield GalleryFigure(f"{dataset}-stability-{attribute}", f"{dataset}, stability page, {attribute}",
                                build_stability_figure(model.view.analysis))
    samples = SamplesModel(session)
    for _label, product in samples.product_options:
        samples.product = product
        comparison = samples.view.comparison
        yield GalleryFigure(f"{product}-sample-budget", f"{product} example lot: sample budget",
                            build_sample_budget_figure(comparison))
        yield GalleryFigure(f"{product}-release-timeline", f"{product} example lot: release timeline",
                            build_release_timeline_figure(comparison))


def process_validation_figures() -> Iterator[GalleryFigure]:
    """The Process validation page's figures for every quantitative example attribute, against the commercial
    criterion the Commercial specifications page proposes by default (accepted there, as a user would)."""
    from cgtkit.plots.process_validation import (
        build_capability_figure,
        build_lots_needed_figure,
        build_pass_probability_figure,
    )
    from cgtkit.session import Session
    from cgtkit.ui.commercial_specifications_model import CommercialSpecificationsModel
    from cgtkit.ui.process_validation_model import ProcessValidationModel

    session = Session.example()
    commercial = CommercialSpecificationsModel(session)
    for dataset in ("car_t_lots", "aav_lots"):
        commercial.selection.dataset = dataset
        for _label, attribute in list(commercial.selection.attribute_options):
            commercial.selection.attribute = attribute
            chosen = commercial.chosen()
            if not commercial.problem and chosen is not None and getattr(chosen, "ok", True):
                session = session.with_decision(commercial.decision("Gallery."))
    model = ProcessValidationModel(session)
    for dataset in ("car_t_lots", "aav_lots"):
        model.selection.dataset = dataset
        for _label, attribute in list(model.selection.attribute_options):
            model.selection.attribute = attribute
            r = model.result
            if model.problem or r is None or r.overview.attribute != attribute:
                continue
            key, where = f"{dataset}-pv-{attribute}", f"{dataset}, process validation page, {r.overview.label}"
            ov = r.overview
            yield GalleryFigure(f"{key}-capability", f"{where}: capability", build_capability_figure(ov.development))
            yield GalleryFigure(f"{key}-lots", f"{where}: lots needed", build_lots_needed_figure(
                ov.approaches, n_planned=ov.n_planned, pass_probability=ov.pass_probability))
            yield GalleryFigure(f"{key}-map", f"{where}: pass probability", build_pass_probability_figure(r.pass_map))
    model.selection.attribute = "relative_potency"
    model.n_per_lot, model.criterion, model.between_sd = 10, "interval", 2.0  # several results per lot
    assert not model.problem, model.problem
    yield GalleryFigure("aav_lots-pv-map-interval", "aav_lots, process validation page, Relative potency: mean ± k SD "
                        "of 10 results per lot", build_pass_probability_figure(model.result.pass_map))


def comparability_figures() -> Iterator[GalleryFigure]:
    """The Comparability page's figures (forest, dots of every compared attribute, power) for v1 against v2
    of both example lot data sets, every attribute ranked as the page ranks it by default."""
    from cgtkit.plots.comparability import build_dot_figure, build_forest_figure, build_power_figure
    from cgtkit.session import Session
    from cgtkit.ui.comparability_model import ComparabilityModel

    model = ComparabilityModel(Session.example())
    for dataset in ("car_t_lots", "aav_lots"):
        model.dataset = dataset
        r, grid = model.view.result, model.view.power
        where = f"{dataset}, comparability page"
        yield GalleryFigure(f"{dataset}-comparability-forest", f"{where}: forest", build_forest_figure(r))
        for a in r.attributes:
            if len(a.lots):
                yield GalleryFigure(f"{dataset}-comparability-{a.attribute}-dots", f"{where}: {a.label} dots",
                                    build_dot_figure(a, pre_label=r.lots.pre_label, post_label=r.lots.post_label))
        n_now = min(len(r.lots.pre), len(r.lots.post), max(grid.n))
        yield GalleryFigure(f"{dataset}-comparability-power", f"{where}: power",
                            build_power_figure(grid, n_current=n_now, target_power=r.settings.target_power))


def record_figures() -> Iterator[GalleryFigure]:
    """The decision record's figures (cgtkit.record.figures) for the decisions of the Clinical development
    ("accept all") and Commercial specifications pages on both example lot data sets."""
    from cgtkit.record import build_record
    from cgtkit.session import Session
    from tests.unit.test_record_workbooks import with_page_decisions

    for dataset in ("car_t_lots", "aav_lots"):
        example = Session.example()  # the pages start on the first lot data set: put this one first
        others = {k: v for k, v in example.datasets.items() if k != dataset}
        session = example.model_copy(update={"datasets": {dataset: example.datasets[dataset], **others}})
        for f in build_record(with_page_decisions(session)).figures:
            yield GalleryFigure(f"record-{dataset}-{f.number}", f"decision record, {dataset}: {f.data.title}",
                                go.Figure(f.data.spec))


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
    print(gallery_html([*specification_figures(), *stability_figures(), *process_validation_figures()]))
