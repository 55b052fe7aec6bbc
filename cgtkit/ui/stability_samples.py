"""The Stability and samples page: widgets linked to :class:`StabilityModel` and :class:`SamplesModel`.

Section 1 estimates a shelf life from a stability data set by ICH Q1E (the plot per
lot with regression lines, confidence bounds and the limit; the poolability
table; the supported shelf life and whether the claim extrapolates further than
Q1E allows) and records the claim. Section 2 compares release-testing plans for
one lot (the share of the lot each takes, whether the dose fits, a timeline of
the results against the shelf life) and records the plan chosen. Each section
has its own status line, so a problem in one never hides the other's results.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import ipywidgets as w

from cgtkit.analyses.samples import AmountUnit, BudgetComparison, SampleBudget, fmt_amount, fmt_duration
from cgtkit.analyses.stability import MIN_LOTS_BASIS, StabilityAnalysis
from cgtkit.catalog import BASIS_LABELS, load_catalog
from cgtkit.plots.axes import sci_text
from cgtkit.plots.stability import (
    build_release_timeline_figure,
    build_sample_budget_figure,
    build_stability_figure,
)
from cgtkit.session import Session, WorkbookStore
from cgtkit.stats.stability import TIME_UNITS
from cgtkit.tables import Column, html_table, number
from cgtkit.ui.decision_panel import DecisionPanel, FollowsWorkbook, section
from cgtkit.ui.page_inputs import InputsFile, keep_inputs
from cgtkit.ui.selection import bind_choice
from cgtkit.ui.shell import StatusArea, esc, page_frame, page_link_html, show_figure
from cgtkit.ui.stability_samples_model import (
    PAGE_ID,
    STABILITY_FLEXIBILITIES,
    TESTING_FLEXIBILITIES,
    SamplesModel,
    SamplesView,
    StabilitySamplesModel,
    StabilityModel,
    StabilityView,
)

TITLE = "Stability and samples"
SUBTITLE = ("Shelf life from clinical-lot stability data by ICH Q1E, and what release testing and reserve samples "
            "take from a small lot and its shelf life (CS-STABILITY-CLINICAL-LOTS, CS-RESERVE-SAMPLES, "
            "CS-ALT-METHODS).")
STABILITY_SOURCES = (
    ("final_guidance", "ICH Q1E (2003), Evaluation for Stability Data: regression, poolability at 0.25, the "
                       "confidence bound on the mean, extrapolation allowances by storage; ICH Q5C (1995): real-time, "
                       "real-temperature data for biotechnological products (FDA-adopted ICH guidelines)."),
    ("cgtkit_reading", "Q1E is written for small molecules: whether its extrapolation allowances transfer to a cell "
                       "or gene therapy is for discussion with FDA."),
)
fmt4 = number(4)


# -- small renderers (pure: tested without a browser) --------------------------------------------------------


def basis_badge(basis: str) -> str:
    label = BASIS_LABELS[basis]
    return (f"<span class='cgt-badge cgt-prov-{esc(basis)}' title='{esc(label.explanation)}'>"
            f"{esc(label.label)}</span>")


def flexibility_html(flexibility_id: str, *, conditions: bool = True, only: str | None = None) -> str:
    """A catalog entry's claim and conditions, each with the grade of its basis (``only``: that basis)."""
    entry = load_catalog().get(flexibility_id)
    unchecked = "" if entry.checked else " <span class='cgt-muted'>(wording not yet checked against the guidance)</span>"
    head = (f"<p><b>{esc(entry.id)}</b> {esc(entry.title)}: {esc(entry.allows)} {basis_badge(entry.basis)}"
            f"{unchecked}</p>")
    if not conditions:
        return head
    items = [(c.text, entry.basis_of(c)) for c in entry.conditions if only is None or entry.basis_of(c) == only]
    return head + "<ul class='cgt-rules'>" + "".join(f"<li>{esc(t)} {basis_badge(b)}</li>" for t, b in items) + "</ul>"


def _hours(hours: float) -> str:
    return "no limit" if math.isinf(hours) else fmt_duration(hours)


def _yes(flag: bool, yes: str = "yes", no: str = "no") -> str:
    css = "cgt-status-applies_now" if flag else "cgt-status-later_stage"
    return f"<span class='cgt-badge {css}'>{esc(yes if flag else no)}</span>"


def stability_summary_html(view: StabilityView) -> str:
    """The estimate in one card: model, where the bound meets the limit, what the data support, the claim."""
    a = view.analysis
    r, unit = a.result, a.time_unit.value
    shelf = f"{fmt_amount(r.shelf_life)} {unit}" if math.isfinite(r.shelf_life) else "never (within the data's trend)"
    who = f", lot {esc(r.governing_lot)} governing" if r.governing_lot else ""
    lines = [
        f"<b>{esc(a.data.spec.label)}</b>, {esc(a.data.storage_condition or 'storage not named')}: "
        f"{esc(a.lots_text)}, time in {esc(unit)} (last time point {r.data_span:g} {esc(unit)}).",
        f"Model: {esc(a.model_words)}{_chosen(a)}; "
        f"{'two-sided' if r.sided == 2 else 'one-sided'} {r.confidence_level:.0%} confidence bound"
        + ("; regression on the natural log (exponential decay), lines are geometric means" if r.log_transform else "")
        + ".",
        f"The bound meets the limit at <b>{esc(shelf)}</b>{who}. Supported shelf life: "
        f"<b>{fmt_amount(r.supported_shelf_life)} {esc(unit)}</b> "
        + (_yes(False, no="capped by the Q1E extrapolation allowance") if r.beyond_allowance else "")
        + f" (ICH Q1E's extrapolation allowance for {esc(a.storage.value.replace('_', ' '))} storage caps it at "
          f"{fmt_amount(r.allowed_shelf_life)} {esc(unit)} for these data).",
        f"{esc(view.limit_note)}",
    ]
    if a.few_lots_warning:
        lines.insert(1, f"{_yes(False, no='too few lots')} {esc(a.few_lots_warning)} {basis_badge(MIN_LOTS_BASIS)}")
    return "<div class='cgt-card cgt-shelf-life'>" + "".join(f"<p>{x}</p>" for x in lines) + "</div>"


def _chosen(a: StabilityAnalysis) -> str:
    """Who chose the model; nothing for one lot, which has no poolability test to choose by."""
    if a.data.n_lots == 1 and a.result.model_chosen_by == "poolability":
        return ""
    return " (chosen by the poolability tests)" if a.result.model_chosen_by == "poolability" else " (chosen by the user)"


def claim_html(view: StabilityView) -> str:
    a = view.analysis
    unit = a.time_unit.value
    if view.claim is None:
        return "<span class='cgt-muted'>The data support no shelf life: nothing to claim.</span>"
    drafted = " (drafted: the supported shelf life rounded down; type your own)" if view.claim_drafted else ""
    supported = bool(a.proposed_supported)
    beyond = view.claim > a.result.data_span
    verdict = _yes(supported, "supported", "not supported")
    extra = ""
    if supported and a.too_few_lots:
        verdict = _yes(False, no=f"within the estimate of {a.lots_text}; too few lots for a Q1E claim")
    if beyond and supported:
        extra = f" It extrapolates beyond the last time point ({a.result.data_span:g} {esc(unit)}), within the allowance."
    elif not supported and view.claim <= a.result.shelf_life:
        extra = (" It extrapolates beyond what ICH Q1E allows for this storage; Q1E's allowances are a small-molecule "
                 "convention whose transfer to cell and gene therapies is for discussion with FDA.")
    return f"{verdict} {view.claim:g} {esc(unit)}{esc(drafted)}.{extra}"


def poolability_html(analysis: StabilityAnalysis) -> str:
    pool = analysis.result.poolability
    if not pool.tests:
        return f"<p>{esc(pool.reason)}</p>"
    frame = pool.to_frame()
    frame["verdict"] = ["the lots differ" if x else "no difference shown" for x in frame["rejected"]]
    frame["df"] = [f"{a}, {b}" for a, b in zip(frame["df_num"], frame["df_den"], strict=True)]
    frame["role"] = ["used" if u else "not used (slopes differ)" for u in frame["used"]]
    table = html_table(frame, [
        Column("term", "Test of"), Column("hypothesis", "Null hypothesis"),
        Column("f_value", "F", number(3), numeric=True), Column("df", "df", numeric=True),
        Column("pvalue", "p-value", number(3), numeric=True), Column("alpha", "α", number(2), numeric=True),
        Column("verdict", "At α"), Column("role", "In the choice"),
    ], css="cgt-poolability")
    return (f"<p>ICH Q1E analysis of covariance at α = {pool.alpha:g} (slopes first, then intercepts), "
            f"{pool.n_lots} lots, {pool.n_obs} results.</p>{table}<p>{esc(pool.reason)}</p>")


def lines_html(analysis: StabilityAnalysis) -> str:
    r, unit = analysis.result, analysis.time_unit.value
    frame = r.to_frame()
    frame["crossing_text"] = [("never" if not math.isfinite(c) else f"{fmt_amount(c)} {unit}") for c in frame["crossing"]]
    slope = f"Slope (ln per {unit[:-1]})" if r.log_transform else f"Slope ({analysis.data.unit} per {unit[:-1]})"
    return html_table(frame, [
        Column("lot", "Line"), Column("n_obs", "Results", numeric=True),
        Column("last_time", f"Last time point ({unit})", number(3), numeric=True),
        Column("slope", slope, number(3), numeric=True), Column("crossing_text", "Bound meets the limit", numeric=True),
    ], css="cgt-lines")


def notes_html(notes: tuple[str, ...] | list[str], css: str = "cgt-notes") -> str:
    return f"<ul class='{css}'>" + "".join(f"<li>{esc(n)}</li>" for n in notes) + "</ul>"


def _left(b: SampleBudget) -> str:
    """What testing leaves; never a negative volume: samples that need more than the lot leave nothing."""
    dose = f"(dose {fmt_amount(b.dose_ml)} mL)"
    if b.remaining_ml < 0:
        return f"none: the samples need {fmt_amount(-b.remaining_ml)} mL more than the lot holds {dose}"
    return f"{fmt_amount(b.remaining_ml)} mL {dose}"


COMPARISON_ROWS: tuple[tuple[str, Callable[[SampleBudget], str]], ...] = (
    ("Testing samples", lambda b: f"{fmt_amount(b.tests_ml)} mL"),
    ("Reserve samples, 2× the tests (21 CFR 211.170(b))", lambda b: f"{fmt_amount(b.reserve_ml)} mL"),
    ("Retention, final container(s) (21 CFR 600.13)", lambda b: f"{fmt_amount(b.retention_ml)} mL"),
    ("Product consumed", lambda b: f"<b>{fmt_amount(b.consumed_ml)} mL = {b.consumed_share:.1%} of the lot</b>"),
    ("Left for the patient", lambda b: _left(b)),
    ("Dose fits", lambda b: _yes(b.dose_fits)),
    ("Time to release", lambda b: f"<b>{esc(_hours(b.time_to_release_hours))}</b> of "
                                  f"{esc(_hours(b.shelf_life_hours))} shelf life"),
    ("Released within shelf life", lambda b: _yes(b.release_within_shelf_life)),
    ("Physician-notification plan", lambda b: _yes(not b.physician_notification, "not needed", "needed")),
    ("Feasible", lambda b: _yes(b.feasible)),
)


def comparison_html(comparison: BudgetComparison) -> str:
    """The plans side by side, one column each."""
    records = [{"measure": label, **{b.plan_id: render(b) for b in comparison.budgets}}
               for label, render in COMPARISON_ROWS]
    columns = [Column("measure", "")] + [Column(b.plan_id, b.plan_label, lambda v: v, html=True)
                                         for b in comparison.budgets]
    return html_table(records, columns, css="cgt-budget")


def lot_html(view: SamplesView) -> str:
    lot = view.lot
    if lot.dose_unit is AmountUnit.CELLS:
        dose = (f"{sci_text(lot.dose)} cells at {sci_text(lot.cells_per_ml)} cells/mL = "
                f"{fmt_amount(lot.to_ml(lot.dose, lot.dose_unit))} mL")
    else:
        dose = f"{lot.dose:g} {lot.dose_unit.value} = {fmt_amount(lot.to_ml(lot.dose, lot.dose_unit))} mL"
    doses = f"{lot.doses} doses of {dose}" if lot.doses > 1 else f"one patient dose of {dose}"
    return (f"<p class='cgt-lot-line'>{esc(lot.label)}: {lot.volume_ml:g} mL in {lot.final_containers} final "
            f"container(s) of {fmt_amount(lot.container_ml)} mL; {esc(doses)}; shelf life {esc(_hours(lot.shelf_life_hours))} "
            "from the end of manufacture.</p>")


def sources_html(sources: dict[str, str]) -> str:
    names = {"volume_ml": "volume", "final_containers": "final containers", "dose": "dose", "dose_unit": "dose unit",
             "cells_per_ml": "concentration", "doses": "doses per lot", "shelf_life": "shelf life",
             "shelf_life_unit": "shelf-life unit"}
    by_source: dict[str, list[str]] = {}
    for key, source in sources.items():
        by_source.setdefault(source, []).append(names.get(key, key))
    return ("<p class='cgt-muted cgt-lot-sources'>Where the lot's values come from: "
            + "; ".join(f"{esc(', '.join(fields))}: {esc(source)}" for source, fields in by_source.items()) + ".</p>")


def budget_notes_html(comparison: BudgetComparison) -> str:
    parts = []
    for b in comparison.budgets:
        parts.append(f"<details><summary>{esc(b.plan_label)}: what the budget says</summary>{notes_html(b.notes)}"
                     "</details>")
    return "".join(parts)


# -- the view ------------------------------------------------------------------------------------------------


def _text_box(description: str, width: str = "230px", **kwargs: Any) -> w.Text:
    return w.Text(description=description, continuous_update=False, style={"description_width": "initial"},
                  layout=w.Layout(width=width), **kwargs)


class StabilitySection:
    """Section 1: the Q1E shelf life and its claim."""

    def __init__(self, model: StabilityModel, store: WorkbookStore, on_recorded: Callable[[Session], None]) -> None:
        self.model = model
        self.status = StatusArea()
        self.status.add_class("cgt-stability-status")
        wide = {"description_width": "initial"}
        self.dataset = w.Dropdown(description="Stability data set", style=wide, layout=w.Layout(width="330px"))
        self.attribute = w.Dropdown(description="Attribute", layout=w.Layout(width="330px"))
        self.storage = w.Dropdown(description="Storage", layout=w.Layout(width="420px"))
        for widget, css in ((self.dataset, "cgt-stab-dataset"), (self.attribute, "cgt-stab-attribute"),
                            (self.storage, "cgt-stab-storage")):
            widget.add_class(css)
        bind_choice(self.dataset, model, "dataset", "dataset_options", guard=self.status.guard)
        bind_choice(self.attribute, model, "attribute", "attribute_options", guard=self.status.guard)
        bind_choice(self.storage, model, "storage", "storage_options", guard=self.status.guard)
        self.lots = w.HBox(layout=w.Layout(flex_flow="row wrap"))
        self.lots.add_class("cgt-stab-lots")
        self.lot_boxes: dict[str, w.Checkbox] = {}
        self._syncing = False
        model.observe(lambda _c: self._lot_rows(), names="lot_options")
        model.observe(lambda _c: self._lot_values(), names="lots")
        self._lot_rows()
        self.lower = _text_box("Lower limit", "200px", placeholder="none")
        self.upper = _text_box("Upper limit", "200px", placeholder="none")
        self.lower.add_class("cgt-lower-limit")
        self.upper.add_class("cgt-upper-limit")
        w.link((model, "lower_limit"), (self.lower, "value"))  # the model first: it sets the widget
        w.link((model, "upper_limit"), (self.upper, "value"))  # the model first: it sets the widget
        self.unit = w.HTML()
        model.observe(lambda _c: self._unit(), names="unit")
        self._unit()
        self.direction = w.Dropdown(description="Direction of change", style=wide, layout=w.Layout(width="640px"))
        self.direction.add_class("cgt-direction")
        bind_choice(self.direction, model, "direction", "direction_options", guard=self.status.guard)
        self.category = w.Dropdown(description="Extrapolation allowance", style=wide, layout=w.Layout(width="820px"))
        self.category.add_class("cgt-storage-category")
        bind_choice(self.category, model, "storage_category", "storage_category_options", guard=self.status.guard)
        self.log = w.Checkbox(description="Regress on the natural log (exponential decay, e.g. a titer)", indent=False,
                              layout=w.Layout(width="auto"))
        self.log.add_class("cgt-log")
        w.link((model, "log_transform"), (self.log, "value"))  # the model first: it sets the widget
        self.summary = w.HTML()
        self.summary.add_class("cgt-stab-summary")
        self.figure = w.Output()
        self.figure.add_class("cgt-stab-figure")
        self.pool = w.HTML()
        self.pool.add_class("cgt-pool")
        self.lines = w.HTML()
        self.notes = w.HTML()
        self.notes.add_class("cgt-stab-notes")
        self.claim = _text_box("Shelf life to claim", "230px")
        self.claim.add_class("cgt-claim")
        w.link((model, "claim"), (self.claim, "value"))  # the model first: it sets the widget
        self.claim_unit = w.HTML()
        self.claim_verdict = w.HTML()
        self.claim_verdict.add_class("cgt-claim-verdict")
        self.panel = DecisionPanel(store, PAGE_ID, STABILITY_FLEXIBILITIES, draft=model.default_justification,
                                  decide=model.decision, on_recorded=on_recorded,
                                  subject=lambda: (model.dataset, model.attribute, model.storage), kind="shelf_life")
        self.panel.accept.description = "Accept the shelf-life claim"
        self.panel.widget.add_class("cgt-stab-panel")
        sources = "".join(f"<li>{esc(text)} {basis_badge(basis)}</li>" for basis, text in STABILITY_SOURCES)
        self.widget = w.VBox([
            section("1. Shelf life from stability data"),
            w.HTML(flexibility_html("CS-STABILITY-CLINICAL-LOTS")),
            w.HBox([self.dataset, self.attribute, self.storage], layout=w.Layout(flex_flow="row wrap")),
            w.HTML("<div class='cgt-subsection'>Lots</div>"), self.lots,
            w.HBox([self.lower, self.upper, self.unit]),
            w.HBox([self.direction]), self.log, self.category,
            self.status,
            self.summary, self.figure,
            w.HTML("<div class='cgt-subsection'>Poolability of the lots</div>"), self.pool, self.lines,
            w.HBox([self.claim, self.claim_unit, self.claim_verdict], layout=w.Layout(align_items="center")),
            self.notes,
            w.HTML(f"<details class='cgt-help'><summary>Sources and their basis</summary><ul>{sources}</ul></details>"),
            self.panel.widget,
        ])
        model.observe(lambda c: self._draw(c["new"]), names="view")
        model.observe(lambda _c: self._on_problem(), names=["problem", "problem_kind"])
        if model.view is not None:
            self._draw(model.view)
        self._on_problem()

    def _unit(self) -> None:
        self.unit.value = f"<span class='cgt-muted'>in {esc(self.model.unit or 'the data unit')}</span>"

    def _lot_rows(self) -> None:
        self.lot_boxes = {}
        for label, lot in self.model.lot_options:
            box = w.Checkbox(description=label, value=lot in self.model.lots, indent=False,
                             layout=w.Layout(width="auto", margin="0 18px 0 0"))
            box.observe(lambda _c: self._on_lot_box(), names="value")
            self.lot_boxes[lot] = box
        self.lots.children = list(self.lot_boxes.values())

    def _lot_values(self) -> None:
        """Tick the boxes as the model says; while they follow it one by one, they do not write back (a first
        box ticked alone would otherwise become the model's only lot)."""
        self._syncing = True
        try:
            for lot, box in self.lot_boxes.items():
                if box.value != (lot in self.model.lots):
                    box.value = lot in self.model.lots
        finally:
            self._syncing = False

    def _on_lot_box(self) -> None:
        if self._syncing:
            return
        chosen = [lot for lot, box in self.lot_boxes.items() if box.value]
        if chosen != self.model.lots:
            with self.status.guard():
                self.model.lots = chosen

    def _on_problem(self) -> None:
        if self.model.problem:
            self.status.show(self.model.problem_kind, self.model.problem)
        else:
            self.status.clear()

    def _draw(self, view: StabilityView | None) -> None:
        if view is None:
            self.summary.value = self.pool.value = self.lines.value = self.notes.value = ""
            self.claim_verdict.value = ""
            self.figure.outputs = ()
            return
        a = view.analysis
        self.summary.value = stability_summary_html(view)
        show_figure(self.figure, build_stability_figure(a))
        self.pool.value = poolability_html(a)
        self.lines.value = lines_html(a)
        self.notes.value = ("<div class='cgt-subsection'>What the estimate rests on</div>" + notes_html(a.notes))
        self.claim_unit.value = f"<span class='cgt-muted'>{esc(a.time_unit.value)}</span>"
        self.claim_verdict.value = claim_html(view)
        self.panel.redraw_draft()


class SamplesSection:
    """Section 2: the sample and release-time budget of one lot under each plan."""

    def __init__(self, model: SamplesModel, store: WorkbookStore, on_recorded: Callable[[Session], None]) -> None:
        self.model = model
        self.status = StatusArea()
        self.status.add_class("cgt-samples-status")
        wide = {"description_width": "initial"}
        self.product = w.Dropdown(description="Release tests of", style=wide, layout=w.Layout(width="420px"))
        self.product.add_class("cgt-product")
        bind_choice(self.product, model, "product", "product_options", guard=self.status.guard)
        self.start = w.Dropdown(description="Start from", style=wide, layout=w.Layout(width="620px"))
        self.start.add_class("cgt-start")
        bind_choice(self.start, model, "start", "start_options", guard=self.status.guard)

        def num(widget: w.Widget, trait: str, css: str) -> w.Widget:
            widget.add_class(css)
            w.link((model, trait), (widget, "value"))  # the model first: it sets the widget
            return widget

        box = {"style": wide, "continuous_update": False}
        self.volume = num(w.FloatText(description="Lot volume (mL)", layout=w.Layout(width="210px"), **box),
                          "volume_ml", "cgt-volume")
        self.containers = num(w.IntText(description="Final containers", layout=w.Layout(width="190px"), **box),
                              "final_containers", "cgt-containers")
        self.dose = num(w.FloatText(description="Dose per patient", layout=w.Layout(width="250px"), **box),
                        "dose", "cgt-dose")
        self.dose_unit = num(w.Dropdown(options=[u.value for u in AmountUnit], layout=w.Layout(width="120px")),
                             "dose_unit", "cgt-dose-unit")
        self.cells = num(w.FloatText(description="Cells per mL (0: none)", layout=w.Layout(width="280px"), **box),
                         "cells_per_ml", "cgt-cells")
        self.doses = num(w.IntText(description="Doses per lot", layout=w.Layout(width="170px"), **box),
                         "doses", "cgt-doses")
        self.shelf = num(w.FloatText(description="Shelf life", layout=w.Layout(width="190px"), **box),
                         "shelf_life", "cgt-shelf")
        self.shelf_unit = num(w.Dropdown(options=list(TIME_UNITS), layout=w.Layout(width="110px")),
                              "shelf_life_unit", "cgt-shelf-unit")
        self.retention = num(w.IntText(description="Final containers retained (600.13)",
                                       layout=w.Layout(width="300px"), **box), "retention_containers", "cgt-retention")
        self.lot_line = w.HTML()
        self.lot_line.add_class("cgt-lot")
        self.sources = w.HTML()
        model.observe(lambda _c: self._sources(), names="sources")
        self._sources()
        self.tests = w.GridBox(layout=w.Layout(grid_template_columns="250px 90px 150px 75px 60px 95px 1fr",
                                               grid_gap="2px 8px", align_items="center"))
        self.tests.add_class("cgt-tests")
        self.test_inputs: dict[tuple[str, str], w.FloatText] = {}
        self._rows_for: tuple[str, ...] = ()
        self.comparison = w.HTML()
        self.comparison.add_class("cgt-comparison")
        self.budget_out, self.timeline_out = w.Output(), w.Output()
        self.budget_out.add_class("cgt-budget-figure")
        self.timeline_out.add_class("cgt-timeline-figure")
        self.notes = w.HTML()
        self.notes.add_class("cgt-budget-notes")
        self.plan = w.Dropdown(description="Plan to record", style=wide, layout=w.Layout(width="520px"))
        self.plan.add_class("cgt-plan-to-record")
        bind_choice(self.plan, model, "plan_to_record", "plan_options", guard=self.status.guard)
        self.plan.observe(lambda _c: self.panel.redraw_draft(), names="value")
        self.panel = DecisionPanel(store, PAGE_ID, TESTING_FLEXIBILITIES, draft=model.default_justification,
                                  decide=model.decision, on_recorded=on_recorded,
                                  subject=lambda: (model.product, model.plan_to_record), kind="testing_plan")
        self.panel.accept.description = "Accept the testing plan"
        self.panel.widget.add_class("cgt-samples-panel")
        rules = (flexibility_html("CS-RESERVE-SAMPLES", only="regulation")
                 + "<details class='cgt-help'><summary>Alternative methods: the rules</summary>"
                 + flexibility_html("CS-ALT-METHODS") + "</details>")
        self.widget = w.VBox([
            section("2. Samples and release time"),
            w.HTML(rules),
            w.HBox([self.product, self.start], layout=w.Layout(flex_flow="row wrap")),
            w.HBox([self.volume, self.containers, self.doses], layout=w.Layout(flex_flow="row wrap")),
            w.HBox([self.dose, self.dose_unit, self.cells], layout=w.Layout(flex_flow="row wrap")),
            w.HBox([self.shelf, self.shelf_unit, self.retention], layout=w.Layout(flex_flow="row wrap")),
            self.status, self.sources, self.lot_line,
            w.HTML("<div class='cgt-subsection'>Release tests (edit the amounts and times to your laboratory's; "
                   "each value says where it comes from)</div>"),
            self.tests,
            w.HTML("<div class='cgt-subsection'>The plans side by side</div>"), self.comparison,
            self.budget_out, self.timeline_out, self.notes,
            self.plan, self.panel.widget,
        ])
        self._test_rows()
        model.observe(lambda c: self._draw(c["new"]), names="view")
        model.observe(lambda _c: self._on_problem(), names=["problem", "problem_kind"])
        if model.view is not None:
            self._draw(model.view)
        self._on_problem()

    def _sources(self) -> None:
        self.sources.value = sources_html(dict(self.model.sources))

    def _test_rows(self) -> None:
        """One grid row per test of the product: label, editable amount and time, where each value comes from."""
        view = self.model.view
        if view is None:
            return
        self._rows_for = tuple(view.tests["id"])
        head = ["Test (plans using it)", "Sample", "", "Result in", "", "Reserve", "Where the values come from"]
        cells: list[w.Widget] = [w.HTML(f"<b>{esc(h)}</b>") for h in head]
        self.test_inputs = {}
        for row in view.tests.to_dict("records"):
            replaces = f"<br><span class='cgt-muted'>replaces {esc(row['alternative_to'])}</span>" \
                if row["alternative_to"] else ""
            label = w.HTML(f"<span title='{esc(row['method'])}'>{esc(row['label'])}</span>{replaces}"
                           f"<br><span class='cgt-muted'>{esc(row['plans'])}</span>")
            amount = w.FloatText(value=row["sample_value"], continuous_update=False, layout=w.Layout(width="85px"))
            amount.add_class(f"cgt-test-{row['id']}-{row['sample_kind']}")
            amount.observe(lambda c, t=row["id"], k=row["sample_kind"]: self._on_edit(t, k, c["new"]), names="value")
            time = w.FloatText(value=row["time_value"], continuous_update=False, layout=w.Layout(width="70px"))
            time.add_class(f"cgt-test-{row['id']}-time")
            time.observe(lambda c, t=row["id"]: self._on_edit(t, "time", c["new"]), names="value")
            self.test_inputs[(row["id"], row["sample_kind"])] = amount
            self.test_inputs[(row["id"], "time")] = time
            unit = f"{row['sample_unit']} {row['sample_extra']}".strip()
            reserve = "exempt" if row["reserve_exempt"] else "2× kept"
            negative = "<br><span class='cgt-muted'>may release on negative to date</span>" \
                if row["negative_to_date"] else ""
            where = (f"<span class='cgt-muted cgt-small'>Sample: {esc(row['sample_source'])}. Time: "
                     f"{esc(row['time_source'])}. Reserve: {esc(row['reserve_source'])}.</span>")
            cells += [label, amount, w.HTML(esc(unit)), time, w.HTML(esc(row["time_unit"])),
                      w.HTML(esc(reserve) + negative), w.HTML(where)]
        self.tests.children = cells

    def _on_edit(self, test_id: str, key: str, value: float) -> None:
        with self.status.guard():
            self.model.set_edit(test_id, key, value)

    def _on_problem(self) -> None:
        if self.model.problem:
            self.status.show(self.model.problem_kind, self.model.problem)
        else:
            self.status.clear()

    def _draw(self, view: SamplesView | None) -> None:
        if view is None:
            return
        if tuple(view.tests["id"]) != self._rows_for:  # another product: its own tests
            self._test_rows()
        self.lot_line.value = lot_html(view)
        self.comparison.value = comparison_html(view.comparison)
        show_figure(self.budget_out, build_sample_budget_figure(view.comparison))
        show_figure(self.timeline_out, build_release_timeline_figure(view.comparison))
        self.notes.value = budget_notes_html(view.comparison)
        self.panel.redraw_draft()


class StabilitySamplesPageView(FollowsWorkbook):
    """The page: both sections over one workbook; ``on_show`` follows a workbook changed elsewhere."""

    def __init__(self, model: StabilitySamplesModel, store: WorkbookStore) -> None:
        self.model, self.store = model, store
        self.status = StatusArea()
        self.stability = StabilitySection(model.stability, store, self._recorded)
        self.samples = SamplesSection(model.samples, store, self._recorded)
        self.widget = page_frame(PAGE_ID, TITLE, SUBTITLE, [
            w.HTML(self._intro()), self.stability.widget, self.samples.widget,
        ], self.status)
        self._seen_now(model.session)
        for panel in self._panels():
            panel.show(model.session)

    @staticmethod
    def _intro() -> str:
        return ("<p>Two pieces of arithmetic behind commercial specifications for small lots: how long the product "
                "keeps, from the stability results of the clinical lots you have (section 1), and what release "
                "testing and the reserve and retention samples take from one lot, and whether the lot can be "
                "released before it expires (section 2). The accepted criteria of the "
                f"{page_link_html('commercial_specifications')} page supply the acceptance limits. Each statement "
                "below carries the grade of its basis.</p>")

    def _panels(self) -> tuple[DecisionPanel, ...]:
        return (self.stability.panel, self.samples.panel)

    def _set_session(self, session: Session) -> None:
        self.model.set_session(session)

    def _use_session(self, session: Session) -> None:
        self.model.use_session(session)


def build_page(store: WorkbookStore, page_id: str = PAGE_ID) -> StabilitySamplesPageView:
    """The page's entry point: the models from the saved workbook and the inputs kept for them, then the view."""
    model = StabilitySamplesModel(store.load())
    inputs = InputsFile(store.inputs_path)
    keep_inputs(model.stability, inputs, f"{PAGE_ID}.stability")
    keep_inputs(model.samples, inputs, f"{PAGE_ID}.samples")
    return StabilitySamplesPageView(model, store)
