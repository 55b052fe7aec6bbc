"""Issue #15.12: charts a biologist reads, checked on the figures' own layout (no browser).

The browser test (tests/e2e/test_chart_gallery.py) renders every example chart and checks the
drawn titles and ticks; these checks pin the causes: limits drawn as labelled traces (never as
shape annotations, which take log10 coordinates on a log axis), explicit log ticks with full
labels, no SI suffixes, legends naming coverage and confidence.
"""

from __future__ import annotations

import math
import re

import pytest

from cgtkit.plots.axes import log_axis, log_ticks, sci_text, wrap_title
from cgtkit.plots.specifications import build_k_vs_n_figure, build_lots_figure, build_replay_figure
from cgtkit.session import Session
from cgtkit.ui.clinical_development_model import ClinicalDevelopmentModel
from cgtkit.ui.commercial_specifications_model import CommercialSpecificationsModel


@pytest.fixture(scope="module")
def session() -> Session:
    return Session.example()


def _limit_traces(fig):
    return [t for t in fig.data if t.mode == "lines+text"]


@pytest.mark.parametrize(("dataset", "attribute"), [
    ("car_t_lots", "vector_copy_number"),  # axis ran to 100k from a stray annotation
    ("aav_lots", "residual_hcdna"),  # ticks went to 10^65
    ("aav_lots", "vector_genome_titer"),  # limits lost their labels; ticks read "25T"
])
def test_log_attribute_lots_figure_is_readable(session: Session, dataset: str, attribute: str) -> None:
    model = ClinicalDevelopmentModel(session)
    model.selection.dataset, model.selection.attribute = dataset, attribute
    r = model.result
    p = r.proposal
    fig = build_lots_figure(r.data, p.low, p.high, "proposed criterion", r.data.spec.scale)
    y = fig.layout.yaxis
    assert y.type == "log" and not fig.layout.annotations and not fig.layout.shapes
    low, high = 10 ** y.range[0], 10 ** y.range[1]
    values = [v for v in r.data.values] + [v for v in (p.low, p.high) if v is not None]
    assert low <= min(values) and max(values) <= high and high / low < 10 ** 2.5  # no empty decades
    assert 2 <= len(y.tickvals) <= 8 and all(low * 0.999 <= t <= high * 1.001 for t in y.tickvals)
    assert not any(re.search(r"[kMGT]$|e[+-]", t) for t in y.ticktext)
    labelled = [t.text[-1] for t in _limit_traces(fig)]
    assert labelled and all(sci_text(v) in " ".join(labelled) for v in (p.low, p.high) if v is not None)


def test_titer_ticks_in_scientific_notation(session: Session) -> None:
    model = CommercialSpecificationsModel(session)
    model.selection.dataset, model.selection.attribute = "aav_lots", "vector_genome_titer"
    r = model.result
    fig = build_lots_figure(r.data, None, None, "", r.data.spec.scale)
    assert any("×10¹³" in t for t in fig.layout.yaxis.ticktext)


def test_k_figure_ticks_and_legend_name_coverage_and_confidence(session: Session) -> None:
    r = CommercialSpecificationsModel(session).result
    fig = build_k_vs_n_figure(r.k_table, r.data.n, 1)
    assert list(fig.layout.xaxis.ticktext)[:3] == ["2", "5", "10"] and "2, 100" not in ", ".join(fig.layout.xaxis.ticktext)
    assert {t.name for t in fig.data} >= {"99% coverage, 95% confidence", "95% coverage, 95% confidence"}


def test_replay_marks_version_changes_and_keeps_titles_short(session: Session) -> None:
    model = CommercialSpecificationsModel(session)
    model.selection.choose_versions(["v1", "v2"])
    r = model.result
    fig = build_replay_figure(r.data, r.replay)
    texts = [a.text for a in fig.layout.annotations]
    assert "process v1 → v2" in texts
    assert len(fig.layout.title.text.split("<br>")[0]) <= 60


@pytest.mark.parametrize(("low", "high"), [(1.0, 5.0), (8.0, 71.0), (5e12, 2.7e13), (90.0, 110.0),
                                            (1e-3, 1e50), (0.2, 0.9), (2.0, 100.0)])
def test_log_ticks_stay_within_range_and_few(low: float, high: float) -> None:
    ticks, labels = log_ticks(low, high)
    assert 2 <= len(ticks) <= 8 and ticks == sorted(ticks)
    assert all(low * (1 - 1e-9) <= t <= high * (1 + 1e-9) for t in ticks)
    assert len(set(labels)) == len(labels)


def test_log_axis_includes_a_round_tick_just_below_the_data() -> None:
    axis = log_axis([1.07, 3.5])
    assert axis["tickvals"][0] == 1.0 and axis["range"][0] <= math.log10(1.0)


def test_sci_text_and_wrapping() -> None:
    assert sci_text(2.5e13) == "2.5×10¹³" and sci_text(1e-5) == "1×10⁻⁵" and sci_text(0.5) == "0.5"
    assert sci_text(None) == "—" and sci_text(float("nan")) == "—" and sci_text(12345.0) == "1.23×10⁴"
    assert wrap_title("Viability", "%") == "Viability (%)"
    with pytest.raises(ValueError):
        log_ticks(0.0, 1.0)
