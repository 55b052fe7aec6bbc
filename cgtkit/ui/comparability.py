"""The Comparability page: widgets linked to :class:`ComparabilityModel`.

Describe the change (its plan: class, reasons with the grade of each, the
likely reporting category after approval, attributes to look at again), choose
the lots before and after it and rank each attribute; see one verdict table,
the forest plot of the equivalence tests against their margins, the lots of one
attribute with its quality range, what the number of lots can show, and record
the conclusion.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as w
import pandas as pd

from cgtkit.analyses.comparability import ComparabilityPlan, ComparabilityResult
from cgtkit.attributes import get_attribute
from cgtkit.plots.comparability import build_dot_figure, build_forest_figure, build_power_figure
from cgtkit.session import Session, WorkbookStore
from cgtkit.tables import Column, html_table, number
from cgtkit.ui.comparability_model import (
    FIXED_RANKS,
    FLEXIBILITIES,
    PAGE_ID,
    RANKS,
    ComparabilityModel,
    ComparabilityView,
)
from cgtkit.ui.decision_panel import DecisionPanel, FollowsWorkbook, section
from cgtkit.ui.page_inputs import keep_page_inputs
from cgtkit.ui.selection import bind_choice
from cgtkit.ui.shell import StatusArea, esc, page_frame, show_figure

TITLE = "Comparability of a manufacturing change"
SUBTITLE = ("A risk-based plan for the change, lots before and after it compared attribute by attribute, and what "
            "your number of lots can and cannot show (CD-MINOR-CHANGES, RP-AMT).")
INTRO = (
    "<p>FDA accepts manufacturing changes during development, and after approval, when data show the product "
    "after the change is highly similar to the product before it, with no adverse effect on safety or "
    "efficacy (ICH Q5E, the meaning of <i>comparable</i>), from a study sized to the risk of the change "
    "(final guidance, May 2026; FDA announcement, January 2026). Rank each attribute by the risk the change "
    "poses to it: high-risk attributes get an equivalence test (two one-sided tests), medium a quality range, "
    "low a graph. With a handful of lots on each side, read the power statements: a test that could not have "
    "passed shows nothing either way. The class of the change and its reporting category are cgtkit's "
    "reading, for discussion with FDA.</p>"
)
VERDICT_BADGES = {True: "<span class='cgt-badge cgt-status-applies_now'>comparable</span>",
                  False: "<span class='cgt-badge cgt-status-later_stage'>not shown</span>",
                  None: "<span class='cgt-badge cgt-status-not_applicable'>no verdict</span>"}


def plan_html(plan: ComparabilityPlan | None, problem: str) -> str:
    """The change's class with its graded reasons, the reporting category, and attributes to look at again."""
    if plan is None:
        return f"<div class='cgt-msg cgt-msg-info'>{esc(problem)}</div>" if problem else ""
    reasons = plan.reasons_frame()
    table = html_table(reasons, [
        Column("text", "Reason"), Column("grade_label", "Basis"), Column("sources", "Sources", muted=True),
    ], css="cgt-plan-reasons")
    head = (f"<p><b>Class of the change: {esc(plan.classification)}</b> (cgtkit's reading of "
            f"{esc(', '.join(plan.change_labels).lower())})"
            + (f"; after approval likely reported as <b>{esc(plan.reporting_category)}</b> (21 CFR 601.12)"
               if plan.reporting_category else "; before approval no supplement applies, the study goes in the IND")
            + ".</p>")
    major = "".join(f"<li>{esc(label)}: {esc(q)}</li>" for label, q in plan.major_if)
    second = "".join(f"<li><b>{esc(a.label)}</b>: {esc(a.note)}</li>" for a in plan.second_look)
    parts = [head, table]
    if major:
        parts.append(f"<details><summary>Questions that would make the change major</summary><ul>{major}</ul></details>")
    if second:
        parts.append(f"<div class='cgt-msg cgt-msg-warning'><b>Take a second look</b>: attributes this kind of change "
                     f"can affect that you did not rank.<ul>{second}</ul></div>")
    verify = int(reasons["needs_verification"].sum()) if len(reasons) else 0
    if verify:
        parts.append(f"<p class='cgt-muted'>{verify} of these statements rest on guidance wording not yet checked "
                     "against the primary text; check them before relying on the exact words.</p>")
    return "".join(parts)


def verdicts_html(result: ComparabilityResult) -> str:
    """One row per ranked attribute: method, lots, the numbers behind the verdict, power."""
    frame = result.to_frame()
    fmt = number(4)

    def numbers(row: dict[str, Any]) -> str:
        if isinstance(row.get("problem"), str) and row["problem"]:
            return esc(row["problem"])
        if row["estimate_kind"] == "ratio":
            return esc(f"ratio {fmt(row['estimate'])} (90% CI {fmt(row['ci_low'])} to {fmt(row['ci_high'])}); "
                       f"margin {fmt(row['margin_low'])} to {fmt(row['margin_high'])}")
        if row["estimate_kind"] == "difference":
            return esc(f"difference {fmt(row['estimate'])} (90% CI {fmt(row['ci_low'])} to {fmt(row['ci_high'])}); "
                       f"margin ±{fmt(row['margin_high'])}")
        if pd.notna(row.get("n_inside")):
            return esc(f"{int(row['n_inside'])} of {row['n_post']} inside {fmt(row['range_low'])} to "
                       f"{fmt(row['range_high'])} ({int(row['n_required'])} required)")
        return esc(row["verdict"])

    frame["numbers"] = [numbers(r) for r in frame.to_dict("records")]
    frame["badge"] = [VERDICT_BADGES[a.comparable] for a in result.attributes]
    frame["method_label"] = [a.method.label for a in result.attributes]
    frame["lots"] = [f"{a.n_pre} / {a.n_post}" for a in result.attributes]
    frame["power_text"] = [("—" if p is None or pd.isna(p) else f"{p:.0%}")
                           + (f"; {int(n)} per side for {result.settings.target_power:.0%}" if pd.notna(n) else "")
                           for p, n in zip(frame["power"], frame["lots_needed_per_side"], strict=True)]
    lots = result.lots
    head = (f"<p>{esc(lots.post_label)}: {len(lots.post)} lots, against {esc(lots.pre_label)}: {len(lots.pre)} lots"
            + (", paired by donor" if lots.paired else "") + ". Power: the chance the method passes if the two "
            "processes are identical (exact, equal SDs assumed).</p>")
    return head + html_table(frame, [
        Column("label", "Attribute"), Column("risk", "Risk"), Column("method_label", "Method"),
        Column("lots", "Lots pre / post", numeric=True), Column("numbers", "Result", lambda v: v, html=True),
        Column("badge", "Verdict", lambda v: v, html=True), Column("power_text", "Power", numeric=True),
    ], css="cgt-verdicts")


def power_html(view: ComparabilityView, shown: str) -> str:
    """What the lots can show: the equivalence test's power at your lot numbers and at 3 per side, and the
    power statement of the attribute on screen."""
    r = view.result
    notes: list[str] = []
    try:
        a = r.get(shown)
        notes = [n for n in a.notes if "probability" in n or "With " in n]
    except KeyError:
        pass
    grid = view.power
    n_now = min(len(r.lots.pre), len(r.lots.post), max(grid.n))
    i_now, i3 = grid.n.index(n_now) if n_now in grid.n else 0, grid.n.index(3) if 3 in grid.n else 0
    unit = "pairs" if r.lots.paired else "lots per side"
    base = (f"<p>With your {n_now} {unit} and a margin of ±{grid.margins[0]:g} SD, an equivalence test shows "
            f"equivalence {float(grid.power[i_now, 0, 0]):.0%} of the time when the processes are identical. "
            f"With 3 {unit} it would be only {float(grid.power[i3, 0, 0]):.0%}: a test that fails at that size "
            "says little either way. The figure shows how many lots a useful test needs.</p>")
    return base + "".join(f"<p>{esc(n)}</p>" for n in notes)


class ComparabilityPageView(FollowsWorkbook):
    """The page's widgets over its model; ``on_show`` follows a workbook changed elsewhere."""

    def __init__(self, model: ComparabilityModel, store: WorkbookStore) -> None:
        self.model, self.store = model, store
        self.status = StatusArea()
        # the change
        self.change_boxes = {cid: w.Checkbox(description=label, value=cid in model.change_types, indent=False,
                                             layout=w.Layout(width="100%"))
                             for label, cid in model.change_type_options}
        for box in self.change_boxes.values():
            box.observe(self._on_change_box, names="value")
        self.change_grid = w.GridBox(list(self.change_boxes.values()),
                                     layout=w.Layout(grid_template_columns="repeat(2, 460px)"))  # labels whole
        self.change_grid.add_class("cgt-change-types")
        self.description = w.Textarea(placeholder="What changes, in your words (kept with the decision)",
                                      layout=w.Layout(width="680px", height="50px"))
        w.link((model, "change_description"), (self.description, "value"))  # the model first: it sets the widget
        self.approved = w.Checkbox(description="The product is approved (BLA licensed)", indent=False)
        self.approved.add_class("cgt-approved")
        w.link((model, "approved"), (self.approved, "value"))  # the model first: it sets the widget
        self.plan = w.HTML()
        self.plan.add_class("cgt-plan")
        # the lots
        self.dataset = w.Dropdown(description="Data set")
        self.dataset.add_class("cgt-dataset")
        bind_choice(self.dataset, model, "dataset", "dataset_options", guard=self.status.guard)
        self.pre = w.Dropdown(description="Before")
        self.post = w.Dropdown(description="After")
        self.pre.add_class("cgt-pre")
        self.post.add_class("cgt-post")
        bind_choice(self.pre, model, "pre_version", "version_options", guard=self.status.guard)
        bind_choice(self.post, model, "post_version", "version_options", guard=self.status.guard)
        self.paired = w.Checkbox(description="Paired by donor (split starting material)", indent=False,
                                 layout=w.Layout(width="auto"))
        self.paired.add_class("cgt-paired")
        w.link((model, "paired"), (self.paired, "value"))  # the model first: it sets the widget
        model.observe(lambda _c: self._pairing_state(), names="can_pair")
        self._pairing_state()
        # ranks and settings
        self.ranks = w.VBox()
        self.ranks.add_class("cgt-ranks")
        self.rank_widgets: dict[str, w.Dropdown] = {}
        model.observe(lambda _c: self._rank_rows(), names="attribute_options")
        model.observe(lambda _c: self._rank_values(), names="ranks")
        self._rank_rows()
        wide = {"description_width": "initial"}
        self.margin = w.BoundedFloatText(description="Equivalence margin (SD)", min=0.1, max=10, step=0.1,
                                         style=wide, layout=w.Layout(width="250px"))
        self.k = w.BoundedFloatText(description="Quality range k", min=0.5, max=10, step=0.5, style=wide,
                                    layout=w.Layout(width="200px"))
        self.power_target = w.BoundedFloatText(description="Target power", min=0.5, max=0.99, step=0.05,
                                               style=wide, layout=w.Layout(width="200px"))
        w.link((model, "margin_sd"), (self.margin, "value"))  # the model first: it sets the widget
        w.link((model, "k"), (self.k, "value"))  # the model first: it sets the widget
        w.link((model, "target_power"), (self.power_target, "value"))  # the model first: it sets the widget
        # results
        self.verdicts = w.HTML()
        self.verdicts.add_class("cgt-verdicts-box")
        self.forest_out, self.dot_out, self.power_out = w.Output(), w.Output(), w.Output()
        self.shown = w.Dropdown(description="Show lots of", layout=w.Layout(width="420px"))
        self.shown.add_class("cgt-shown")
        self.shown.observe(self._on_shown, names="value")
        self.power_text = w.HTML()
        self.power_text.add_class("cgt-power")
        self.panel = DecisionPanel(store, PAGE_ID, FLEXIBILITIES, draft=model.default_justification,
                                   decide=model.decision, on_recorded=self._recorded,
                                   subject=lambda: (model.dataset, model.pre_version, model.post_version))
        self.widget = page_frame(PAGE_ID, TITLE, SUBTITLE, [
            w.HTML(INTRO),
            section("1. The change"), self.change_grid, self.description, self.approved, self.plan,
            section("2. Lots before and after"), w.HBox([self.dataset, self.pre, self.post]), self.paired,
            section("3. Attributes, ranked by the risk the change poses to them"), self.ranks,
            w.HBox([self.margin, self.k, self.power_target]),
            section("Verdicts"), self.verdicts, self.forest_out, self.shown, self.dot_out,
            section("What your number of lots can show"), self.power_text, self.power_out,
            self.panel.widget,
        ], self.status)
        model.observe(lambda c: self._draw(c["new"]), names="view")
        model.observe(self._on_problem, names="problem")
        model.observe(lambda _c: self._draw_plan(), names=["plan", "plan_problem"])
        self._seen_now(model.session)
        if model.view is not None:
            self._draw(model.view)
        self._on_problem({"new": model.problem})
        self._draw_plan()
        self.panel.show(model.session)

    # -- controls ----------------------------------------------------------------
    def _pairing_state(self) -> None:
        self.paired.disabled = not self.model.can_pair
        self.paired.description = ("Paired by donor (split starting material)" if self.model.can_pair else
                                   "Paired by donor: add a donor_id column to the lot file to use it")

    def _rank_rows(self) -> None:
        rows, self.rank_widgets = [], {}
        for label, attribute in self.model.attribute_options:
            spec = get_attribute(attribute)
            options = list(FIXED_RANKS if spec.is_safety_fixed else RANKS)
            rank = self.model.ranks.get(attribute, "")
            dd = w.Dropdown(options=options, value=rank if rank in {v for _l, v in options} else "",
                            layout=w.Layout(width="230px"))
            dd.add_class(f"cgt-rank-{attribute}")
            dd.observe(lambda c, a=attribute: self._on_rank(a, c["new"]), names="value")
            self.rank_widgets[attribute] = dd
            rows.append(w.HBox([w.HTML(esc(label), layout=w.Layout(width="360px")), dd]))
        self.ranks.children = rows

    def _rank_values(self) -> None:
        """Show the model's ranks (a new data set brings its own defaults)."""
        for attribute, dd in self.rank_widgets.items():
            rank = self.model.ranks.get(attribute, "")
            if dd.value != rank and rank in {v for _l, v in dd.options}:
                dd.value = rank

    def _on_rank(self, attribute: str, rank: str) -> None:
        if self.model.ranks.get(attribute, "") == rank:
            return
        with self.status.guard():
            self.model.ranks = {**self.model.ranks, attribute: rank}

    def _on_change_box(self, _change: dict[str, Any]) -> None:
        with self.status.guard():
            self.model.change_types = [cid for cid, box in self.change_boxes.items() if box.value]

    def _on_shown(self, change: dict[str, Any]) -> None:
        if change["new"] and change["new"] != self.model.shown:
            self.model.shown = change["new"]
            if self.model.view is not None:
                self._draw_shown(self.model.view)

    # -- following the model ---------------------------------------------------------
    def _on_problem(self, change: dict[str, Any]) -> None:
        if change["new"]:
            self.status.show("error", change["new"])
        else:
            self.status.clear()

    def _draw_plan(self) -> None:
        self.plan.value = plan_html(self.model.plan, self.model.plan_problem)
        self.panel.redraw_draft()

    def _draw(self, view: ComparabilityView) -> None:
        r = view.result
        self.verdicts.value = verdicts_html(r)
        if any(a.equivalence is not None for a in r.attributes):
            show_figure(self.forest_out, build_forest_figure(r))
        else:
            self.forest_out.outputs = ()
        options = [(a.label, a.attribute) for a in r.attributes if len(a.lots)]
        self.shown.options = options
        values = [v for _l, v in options]
        if values:
            self.model.shown = self.model.shown if self.model.shown in values else values[0]
            self.shown.value = self.model.shown
        self._draw_shown(view)
        n_now = min(len(r.lots.pre), len(r.lots.post))
        show_figure(self.power_out, build_power_figure(view.power, n_current=min(n_now, max(view.power.n)),
                                                       target_power=r.settings.target_power))
        self.panel.redraw_draft()

    def _draw_shown(self, view: ComparabilityView) -> None:
        r = view.result
        try:
            a = r.get(self.model.shown)
        except KeyError:
            self.dot_out.outputs = ()
            self.power_text.value = power_html(view, "")
            return
        if len(a.lots):
            show_figure(self.dot_out, build_dot_figure(a, pre_label=r.lots.pre_label, post_label=r.lots.post_label))
        else:
            self.dot_out.outputs = ()
        self.power_text.value = power_html(view, a.attribute)

    # -- the workbook ---------------------------------------------------------------
    def _set_session(self, session: Session) -> None:
        self.model.session = session

    def _use_session(self, session: Session) -> None:
        self.model.use_session(session)


def build_page(store: WorkbookStore, page_id: str = PAGE_ID) -> ComparabilityPageView:
    """The page's entry point: the model from the saved workbook and the inputs kept for it, then its view."""
    model = ComparabilityModel(store.load())
    keep_page_inputs(model, store.inputs_path, PAGE_ID)
    return ComparabilityPageView(model, store)
