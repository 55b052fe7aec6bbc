"""The Process validation page: widgets linked to :class:`ProcessValidationModel`.

Choose the lots and the specification of each attribute; see the capability of
the development lots with its intervals, what each approach says about the
number of PPQ lots side by side, the number the data support with a draft for
the PPQ protocol, the probability of passing PPQ as a heat map, and plan the
concurrent release of PPQ lots. The number of lots and the release route are
accepted into the workbook as typed decisions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import ipywidgets as w
import pandas as pd

from cgtkit.analyses.process_validation import (
    GRADE_LABELS,
    ConcurrentReleasePlan,
    GradedText,
    LotNumberRecommendation,
    specification_text,
)
from cgtkit.catalog import BASIS_LABELS, load_catalog
from cgtkit.decisions.process_validation import ProfileConflict
from cgtkit.plots.process_validation import (
    build_capability_figure,
    build_lots_needed_figure,
    build_pass_probability_figure,
)
from cgtkit.session import Session, WorkbookStore
from cgtkit.tables import Column, html_table, number
from cgtkit.ui.decision_panel import DecisionPanel, FollowsWorkbook, section
from cgtkit.ui.page_inputs import keep_page_inputs
from cgtkit.ui.process_validation_model import (
    ANSWERS,
    K_INTERVALS,
    LOT_COUNT_FLEXIBILITIES,
    PAGE_ID,
    PASS_CRITERIA,
    QUESTIONS,
    RISK_AREAS,
    RISK_LEVELS,
    ProcessValidationModel,
    ProcessValidationResult,
)
from cgtkit.ui.selection import LotSelectionControls
from cgtkit.ui.shell import StatusArea, esc, page_frame, page_link_html, show_figure
from cgtkit.vocab import STAGES, Scale

TITLE = "Process validation"
SUBTITLE = ("The number of PPQ lots, justified from what the lots already show; the chance of passing PPQ; and "
            "the release of PPQ lots before the protocol is complete (PV-PPQ-LOT-NUMBER, PV-CONCURRENT-RELEASE, "
            "PV-PPQ-CLINICAL-USE).")
CATALOG_IDS = ("PV-PPQ-LOT-NUMBER", "PV-CONCURRENT-RELEASE", "PV-PPQ-CLINICAL-USE")
APPROACH_NAMES = (("success_run", "success run"), ("capability", "capability"),
                  ("expected_coverage", "expected coverage"), ("tolerance_coverage", "tolerance interval"))
STATUS_BADGES = {"met": "cgt-cond-met", "unmet": "cgt-cond-unmet", "unknown": "cgt-cond-unknown",
                 "not applicable": "cgt-cond-na"}
ANSWER_WORDS = {True: "yes", False: "no", None: "not answered"}
fmt = number(4)


def probability_text(p: float | None) -> str:
    """A probability for a table, never rounded to a certainty: '>99.9%', '97.3%', '<0.1%'."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "—"
    if p > 0.999:
        return ">99.9%"
    if p < 0.001:
        return "<0.1%"
    return f"{p:.1%}"


def _badge(css: str, text: str, title: str = "") -> str:
    tip = f" title='{esc(title)}'" if title else ""
    return f"<span class='cgt-badge {esc(css)}'{tip}>{esc(text)}</span>"


def intro_html() -> str:
    """What FDA said, from the catalog: each entry's claim with the grade of its basis and its sources."""
    catalog = load_catalog()
    items = []
    for cid in CATALOG_IDS:
        e = catalog.get(cid)
        basis = BASIS_LABELS[e.basis]
        sources = "; ".join(f"{s.title} ({s.issuer}{', ' + s.date if s.date else ''})" for s in e.sources)
        check = (" <span class='cgt-badge cgt-verify'>wording to check against the guidance text</span>"
                 if e.needs_verification else "")
        items.append(f"<li><b>{esc(e.title)}</b> ({esc(e.id)}): {esc(e.allows)} "
                     f"{_badge('cgt-prov-' + e.basis, basis.label, basis.explanation)}{check}"
                     f"<details class='cgt-help'><summary>Sources ({len(e.sources)})</summary>"
                     f"<span class='cgt-muted'>{esc(sources)}</span></details></li>")
    return (
        "<div class='cgt-card cgt-pv-intro'><ul>" + "".join(items) + "</ul>"
        "<p class='cgt-muted'>Every number below is computed from your lots and the specification you give; the "
        "residual-risk number is yours. How the approaches are combined into one number is cgtkit's reading of the "
        "ISPE discussion paper on the number of PPQ batches (Bryder et al., 2012; version 2, 2014), for discussion "
        "with FDA.</p></div>"
    )


def capability_html(result: ProcessValidationResult) -> str:
    """Ppk and Cpk of the development lots with their intervals, the fraction outside, and the PPQ lots alone."""
    ov = result.overview
    cap = ov.development.capability
    frame = cap.to_frame()
    log = " on the natural logs of the results (log-normal)" if ov.scale is Scale.LOG else ""
    table = html_table(frame, [
        Column("index", "Index"), Column("sigma_basis", "SD from"),
        Column("estimate", "Estimate", number(3), numeric=True),
        Column("low", f"{cap.confidence_level:.0%} CI low", number(3), numeric=True),
        Column("high", "high", number(3), numeric=True),
        Column("lower_bound", "Lower bound (one-sided)", number(3), numeric=True),
        Column("interval_method", "Interval", muted=True),
    ], css="cgt-capability-table")
    parts = [
        f"<p>{ov.development.n} {esc(ov.development.lot_types)} lots of {esc(ov.label)}{log}, against "
        f"{esc(_spec_words(result))}. Expected fraction outside the specification: "
        f"<b>{probability_text(cap.fraction_outside)}</b> at the estimated mean and SD; "
        f"<b>{probability_text(cap.fraction_outside_predictive)}</b> for the next lot, with the uncertainty of the "
        "estimates.</p>",
        table,
        f"<p class='cgt-muted'>{esc(cap.note)}</p>",
    ]
    if ov.ppq is not None:
        p = ov.ppq.capability
        parts.append(f"<p>The {ov.ppq.n} PPQ lots alone: Ppk {p.ppk:.2f}, {p.confidence_level:.0%} confidence "
                     f"interval {p.ppk_exact_low:.2f} to {p.ppk_exact_high:.2f} ({esc(p.exact_method.split(' (')[0])}): "
                     f"{ov.ppq.n} lots cannot pin the capability down on their own.</p>")
    return "".join(parts)


def _spec_words(result: ProcessValidationResult) -> str:
    s, ov = result.spec, result.overview
    source = "your accepted commercial criterion" if s.source == "accepted_criterion" else "limits entered here"
    return f"the specification {specification_text(s.lower, s.upper, ov.unit)} ({source})"


def approaches_html(result: ProcessValidationResult) -> str:
    """Each approach side by side for the attribute on screen: whether it counts toward the number, lots needed,
    PPQ lots left, value at the plan. Rows that do not count are greyed: shown for comparison, not required."""
    ov, rec = result.overview, result.recommendation
    n_dev = ov.development.n
    planned = ov.n_planned
    rows, css = [], []
    for a in ov.approaches:
        if a.n is None:
            ppq = "—"
        elif rec.count_development:
            ppq = str(max(0, a.n - n_dev))
        else:
            ppq = str(a.n)
        counted = a.approach in rec.approaches
        rows.append({"label": a.label, "n": "not reached" if a.n is None else str(a.n), "ppq": ppq,
                     "value": probability_text(a.value_planned),
                     "counts": "yes" if counted else "no: for comparison", "reasoning": a.reasoning})
        css.append("" if counted else "cgt-muted cgt-not-counted")
    rr = result.residual_risk
    if rr is not None:
        rows.append({"label": "Residual risk (your assessment)", "n": str(rr.n), "ppq": str(rr.n), "value": "—",
                     "counts": "yes", "reasoning": rr.reasoning + " " + " ".join(rr.notes)})
        css.append("")
    else:
        rows.append({"label": "Residual risk (your assessment)", "n": "—", "ppq": "—", "value": "—",
                     "counts": "not used",
                     "reasoning": "Not used: fill in the assessment below and tick 'Use my residual-risk "
                                  "assessment'. The number of lots for each level of risk is yours to give; cgtkit "
                                  "supplies none."})
        css.append("cgt-muted cgt-not-counted")
    pp = ov.pass_probability
    rows.append({"label": f"Probability that all {planned} planned lots pass", "n": "—", "ppq": "—",
                 "value": probability_text(pp.all_lots if pp else None), "counts": "no: a check",
                 "reasoning": ("At the development mean and SD, each lot's result inside the specification "
                               f"(each lot {probability_text(pp.per_lot)}). More lots are harder to pass: this "
                               "checks the process is ready, it does not call for more lots.") if pp else ""})
    css.append("")
    counted = ", ".join(ov.get(a).label for a in rec.approaches) or "no statistical approach"
    head = (f"<p>What each approach needs for {esc(ov.label)}, starting from {n_dev} {esc(ov.development.lot_types)} "
            f"lots; <b>PPQ lots</b> subtracts them when development lots count (ticked below). The value column is "
            f"what {planned} lots reach: confidence, or expected coverage for the coverage approach. "
            f"<b>The number rests on {esc(counted)}</b>; greyed rows are not counted: shown for comparison, their "
            "lots are not a requirement (tick an approach under 'The number rests on' to count it).</p>")
    return head + html_table(pd.DataFrame(rows), [
        Column("label", "Approach"), Column("counts", "Counted"), Column("n", "Lots needed in all", numeric=True),
        Column("ppq", "PPQ lots", numeric=True), Column("value", f"At {planned} lots", numeric=True),
        Column("reasoning", "Reasoning", muted=True),
    ], css="cgt-approaches", row_css=css)


def attributes_html(result: ProcessValidationResult) -> str:
    """Every attribute with a specification: what it asks of the PPQ."""
    rec = result.recommendation
    rows = []
    for ov, spec, need in zip(result.overviews, result.specs, rec.needs, strict=True):
        cap = ov.development.capability
        row: dict[str, Any] = {
            "label": ov.label,
            "spec": specification_text(spec.lower, spec.upper, ov.unit)
            + (" (accepted)" if spec.source == "accepted_criterion" else " (entered)"),
            "n_dev": ov.development.n,
            "ppk": f"{cap.ppk:.2f} ({cap.ppk_exact_low:.2f} to {cap.ppk_exact_high:.2f})",
            "ppq": "out of reach" if need.ppq_needed is None else str(need.ppq_needed),
            "pass": probability_text(need.per_lot_pass),
        }
        for approach, total in need.totals:
            row[approach] = "—" if total is None else str(total)
        rows.append(row)
    names = dict(APPROACH_NAMES)
    columns = [Column("label", "Attribute"), Column("spec", "Specification"),
               Column("n_dev", "Development lots", numeric=True),
               Column("ppk", f"Ppk ({result.overview.development.capability.confidence_level:.0%} CI)", numeric=True),
               *(Column(a, f"Lots: {names[a]}", numeric=True) for a in rec.approaches),
               Column("ppq", "PPQ lots needed", numeric=True), Column("pass", "One lot passes", numeric=True)]
    row_css = ["cgt-row-current" if ov.attribute == result.overview.attribute else "" for ov in result.overviews]
    out = ("<p>Every attribute with a specification enters the number of PPQ lots; the highlighted row is the one "
           "shown above. Give other attributes a specification (accept a commercial criterion, or choose the "
           "attribute and enter limits) to include them.</p>"
           + html_table(pd.DataFrame(rows), columns, css="cgt-pv-attributes", row_css=row_css))
    if result.skipped:
        out += "<ul>" + "".join(f"<li>{esc(label)} left out: {esc(why)}</li>" for label, why in result.skipped) + "</ul>"
    return out


def recommendation_html(rec: LotNumberRecommendation) -> str:
    """The number the data support, the verdict on the planned number, warnings, and the protocol text."""
    if rec.n is None:
        head = "No number of PPQ lots is supported yet"
        badge = _badge("cgt-cond-unmet", "not supported" if rec.n_planned is None
                       else f"{rec.n_planned} planned: not supported")
    elif rec.supported is False:
        head = f"Not supported: {rec.n_planned} planned, the data need at least {rec.n} PPQ lots"
        badge = _badge("cgt-cond-unmet", f"{rec.n_planned} planned: not supported")
    else:
        head = f"Supported: at least {rec.n} PPQ lot{'s' if rec.n != 1 else ''}"
        badge = "" if rec.supported is None else _badge("cgt-cond-met", f"{rec.n_planned} planned: supported")
    notes = "".join(f"<div class='cgt-msg cgt-msg-warning'>{esc(n)}</div>" for n in rec.notes)
    if rec.n is None or rec.supported is False:
        what = (f"the data do not yet support the {rec.n_planned} planned" if rec.n_planned is not None
                else "the data support no number yet")
        label = f"Text for the PPQ protocol: {what}, and it says so (also the draft below)"
    else:
        label = "Text for the PPQ protocol (also the draft justification below)"
    protocol = (f"<details open><summary>{esc(label)}</summary>"
                f"<div class='cgt-protocol'>{esc(rec.protocol_text)}</div></details>" if rec.protocol_text else "")
    return (f"<div class='cgt-card cgt-recommendation'><h3>{esc(head)} {badge}</h3>"
            f"<p class='cgt-statement'>{esc(rec.statement)}</p>{notes}{protocol}</div>")


class _Citations:
    """Sources numbered in order of first citation, so a document is named in full once."""

    def __init__(self) -> None:
        self.numbers: dict[str, int] = {}

    def __call__(self, g: GradedText) -> str:
        nums = []
        for s in g.sources:
            parts = [p for p in (s.issuer, s.date, s.section) if p]
            key = f"{s.title} ({', '.join(parts)})"
            nums.append(self.numbers.setdefault(key, len(self.numbers) + 1))
        return "[" + ", ".join(str(n) for n in dict.fromkeys(nums)) + "]"

    def html(self) -> str:
        items = "".join(f"<li>{esc(text)}</li>" for text in self.numbers)
        return f"<div class='cgt-muted'><b>Sources</b><ol class='cgt-sources'>{items}</ol></div>"


def _graded_html(g: GradedText, cite: _Citations) -> str:
    check = " <span class='cgt-badge cgt-verify'>to check</span>" if g.needs_verification else ""
    return f"{esc(g.text)} {_badge('cgt-prov-' + g.grade, GRADE_LABELS[g.grade])}{check} {cite(g)}"


def plan_html(plan: ConcurrentReleasePlan) -> str:
    """The route, FDA's role, the documents to keep, and every condition of both release routes, each
    statement with the grade of its basis and its numbered sources."""
    cite = _Citations()
    summary = plan.summary.removeprefix(f"Route: {plan.title}. ")
    parts = [f"<div class='cgt-card cgt-route cgt-route-{esc(plan.route)}'><h3>Route: {esc(plan.title)}</h3>"
             f"<p>{esc(summary)}</p>"
             f"<p><b>FDA's role</b>: {_graded_html(plan.fda_agreement, cite)}</p>"
             "<b>Documentation to keep</b><ul>"
             + "".join(f"<li>{_graded_html(d, cite)}</li>" for d in plan.documentation) + "</ul>"]
    if plan.outstanding_steps:
        parts.append("<b>Outstanding protocol steps</b><ul>"
                     + "".join(f"<li>{esc(s)}</li>" for s in plan.outstanding_steps) + "</ul>")
    if plan.open_questions:
        parts.append("<b>Open questions</b><ul>" + "".join(f"<li>{esc(q)}</li>" for q in plan.open_questions)
                     + "</ul>")
    parts += [f"<p class='cgt-muted'>{esc(n)}</p>" for n in plan.notes]
    parts.append("</div>")
    for route in plan.routes:
        state = (_badge("cgt-cond-met", "every condition met") if route.available
                 else _badge("cgt-cond-unmet", "not available"))
        rows = [{"statement": c.statement.text, "question": c.question, "answer": ANSWER_WORDS[c.answer],
                 "status": c.status.value, "grade": c.statement.grade, "sources": cite(c.statement),
                 "why": c.why} for c in route.conditions]
        parts.append(f"<h4>{esc(route.title)} ({esc(route.catalog_id)}) {state}</h4>" + html_table(
            pd.DataFrame(rows), [
                Column("statement", "Condition"), Column("question", "Question"), Column("answer", "Answer"),
                Column("status", "Status", lambda s: _badge(STATUS_BADGES[s], s), html=True),
                Column("grade", "Basis", lambda g: _badge("cgt-prov-" + g, GRADE_LABELS[g]), html=True),
                Column("sources", "Sources", muted=True), Column("why", "Note", muted=True),
            ], css=f"cgt-conditions cgt-conditions-{route.id}"))
    parts.append(cite.html())
    return "".join(parts)


def conflicts_html(conflicts: Sequence[ProfileConflict]) -> str:
    """A warning per answer that contradicts the product profile: the answer stays (the profile may be stale)."""
    return "".join(
        f"<div class='cgt-msg cgt-msg-warning'>{esc(c.text)} The route below follows your answer; if the profile "
        f"is out of date, correct it on the {page_link_html('start_here', 'Start here')} page.</div>"
        for c in conflicts)


class ProcessValidationView(FollowsWorkbook):
    """The page's widgets over its model; ``on_show`` follows a workbook changed elsewhere."""

    def __init__(self, model: ProcessValidationModel, store: WorkbookStore) -> None:
        self.model, self.store = model, store
        self.status = StatusArea()
        wide = {"description_width": "initial"}
        # 1. lots and specification
        self.controls = LotSelectionControls(model.selection, "Estimate the process from lots of type:", self.status)
        self.lower = w.Text(description="Lower limit", continuous_update=False, layout=w.Layout(width="230px"),
                            placeholder="none")
        self.upper = w.Text(description="Upper limit", continuous_update=False, layout=w.Layout(width="230px"),
                            placeholder="none")
        self.lower.add_class("cgt-lower")
        self.upper.add_class("cgt-upper")
        w.link((model, "lower"), (self.lower, "value"))  # the model first: it sets the widget
        w.link((model, "upper"), (self.upper, "value"))  # the model first: it sets the widget
        self.unit = w.HTML()
        self.use_accepted = w.Button(description="Use the accepted criterion", layout=w.Layout(width="auto"))
        self.use_accepted.add_class("cgt-use-accepted")
        self.use_accepted.on_click(self.status.guarded(lambda _b: model.use_accepted()))
        self.spec_note = w.HTML()
        self.spec_note.add_class("cgt-spec-note")
        self.planned = w.BoundedIntText(description="PPQ lots planned", min=1, max=100, style=wide,
                                        layout=w.Layout(width="200px"))
        self.planned.add_class("cgt-planned")
        w.link((model, "n_planned"), (self.planned, "value"))  # the model first: it sets the widget
        self.planned_note = w.HTML()
        # 2. capability
        self.capability = w.HTML()
        self.capability.add_class("cgt-capability")
        self.capability_out = w.Output()
        # 3. number of PPQ lots
        self.targets = {}
        for name, label, lo, hi, step in (("reliability", "Reliability", 0.5, 0.999, 0.01),
                                          ("confidence", "Confidence", 0.5, 0.999, 0.01),
                                          ("ppk_target", "Ppk target", 0.1, 3.0, 0.01),
                                          ("expected_coverage", "Expected coverage", 0.5, 0.999, 0.01),
                                          ("tolerance_coverage", "Tolerance coverage", 0.5, 0.999, 0.01),
                                          ("pass_target", "Target P(pass)", 0.01, 0.999, 0.01)):
            box = w.BoundedFloatText(description=label, min=lo, max=hi, step=step, style=wide,
                                     layout=w.Layout(width="190px"))
            box.add_class(f"cgt-{name.replace('_', '-')}")
            w.link((model, name), (box, "value"))  # the model first: it sets the widget
            self.targets[name] = box
        self.counted = {a: w.Checkbox(description=label, value=a in model.counted, indent=False,
                                      layout=w.Layout(width="160px")) for a, label in APPROACH_NAMES}
        for box in self.counted.values():
            box.observe(self._on_counted, names="value")
        model.observe(self._show_counted, names="counted")
        self.count_development = w.Checkbox(description="Count development lots toward the targets (same process, "
                                                        "or one shown comparable)", indent=False,
                                            layout=w.Layout(width="auto"))
        self.count_development.add_class("cgt-count-development")
        w.link((model, "count_development"), (self.count_development, "value"))  # the model first
        self.assessment = self._assessment_widgets()
        self.approaches = w.HTML()
        self.approaches.add_class("cgt-approaches-box")
        self.lots_out = w.Output()
        self.attributes = w.HTML()
        self.attributes.add_class("cgt-pv-attributes-box")
        self.recommendation = w.HTML()
        self.recommendation.add_class("cgt-recommendation-box")
        self.lot_panel = DecisionPanel(store, PAGE_ID, LOT_COUNT_FLEXIBILITIES, draft=model.lot_count_draft,
                                   decide=model.lot_count_decision, on_recorded=self._recorded,
                                   subject=lambda: (model.selection.dataset,), kind="ppq_lot_count")
        self.lot_panel.widget.add_class("cgt-lot-panel")
        # 4. heat map
        self.n_per_lot = w.BoundedIntText(description="Results per lot", min=1, max=100, style=wide,
                                          layout=w.Layout(width="170px"))
        w.link((model, "n_per_lot"), (self.n_per_lot, "value"))  # the model first: it sets the widget
        self.criterion = w.Dropdown(description="A lot passes when", options=list(PASS_CRITERIA), style=wide,
                                    layout=w.Layout(width="420px"))
        w.link((model, "criterion"), (self.criterion, "value"))  # the model first: it sets the widget
        self.k_interval = w.Dropdown(description="k from", options=list(K_INTERVALS), style=wide,
                                     layout=w.Layout(width="470px"))
        w.link((model, "k_interval"), (self.k_interval, "value"))  # the model first: it sets the widget
        self.between_sd = w.BoundedFloatText(description="Between-lot SD", min=0.0, max=1e30, step=0.1, style=wide,
                                             layout=w.Layout(width="210px"))
        w.link((model, "between_sd"), (self.between_sd, "value"))  # the model first: it sets the widget
        model.observe(lambda _c: self._heatmap_state(), names=["n_per_lot", "criterion"])
        self._heatmap_state()
        self.map_note = w.HTML()
        self.map_note.add_class("cgt-map-note")
        self.map_out = w.Output()
        # 5. concurrent release
        self.plan_status = StatusArea()
        self.prefill = w.HTML()
        self.stage = w.Dropdown(description="Stage", options=[("not answered", ""), *((s, s) for s in STAGES)],
                                layout=w.Layout(width="300px"))
        self.stage.add_class("cgt-q-stage")
        w.link((model, "stage"), (self.stage, "value"))  # the model first: it sets the widget
        questions = load_questions()
        self.answers: dict[str, w.ToggleButtons] = {}
        rows = [w.HBox([w.HTML(esc(questions["stage"]), layout=w.Layout(width="520px")), self.stage])]
        for q in QUESTIONS:
            tb = w.ToggleButtons(options=list(ANSWERS), style={"button_width": "118px"})
            tb.add_class(f"cgt-q-{q}")
            w.link((model, q), (tb, "value"))  # the model first: it sets the widget
            self.answers[q] = tb
            rows.append(w.HBox([w.HTML(esc(questions[q]), layout=w.Layout(width="520px")), tb]))
        self.steps = w.Textarea(placeholder="One step per line, e.g. 6-month PPQ stability time point",
                                continuous_update=False, layout=w.Layout(width="520px", height="60px"))
        self.steps.add_class("cgt-q-steps")
        w.link((model, "outstanding_steps"), (self.steps, "value"))  # the model first: it sets the widget
        rows.append(w.HBox([w.HTML(esc(questions["outstanding_steps"]), layout=w.Layout(width="520px")), self.steps]))
        self.release_lots = w.Text(placeholder="e.g. AV25-03, AV25-04", continuous_update=False,
                                   layout=w.Layout(width="520px"))
        w.link((model, "release_lots"), (self.release_lots, "value"))  # the model first: it sets the widget
        rows.append(w.HBox([w.HTML("The PPQ lots concerned (for the record)", layout=w.Layout(width="520px")),
                            self.release_lots]))
        self.questions = w.VBox(rows)
        self.questions.add_class("cgt-questionnaire")
        self.conflicts = w.HTML()
        self.conflicts.add_class("cgt-profile-conflicts")
        self.route = w.HTML()
        self.route.add_class("cgt-route-box")
        self.release_panel = DecisionPanel(store, PAGE_ID, [model.release_flexibility()], draft=model.release_draft,
                                       decide=model.release_decision, on_recorded=self._recorded,
                                       subject=lambda: ("release", model.plan.route if model.plan else ""),
                                       kind="concurrent_release")
        self.release_panel.widget.add_class("cgt-release-panel")

        self.widget = page_frame(PAGE_ID, TITLE, SUBTITLE, [
            w.HTML(intro_html()),
            section("1. Lots and specification"), self.controls.widget,
            w.HBox([self.lower, self.upper, self.unit, self.use_accepted]), self.spec_note,
            w.HBox([self.planned, self.planned_note]),
            section("2. Capability of the development lots"), self.capability, self.capability_out,
            section("3. Number of PPQ lots"),
            w.HTML("<p class='cgt-muted'>Targets of the statistical approaches (fractions: 0.95 = 95%), the "
                   "approaches the number rests on, and your residual-risk assessment.</p>"),
            w.HBox(list(self.targets.values())[:3]), w.HBox(list(self.targets.values())[3:]),
            w.HBox([w.HTML("<b>The number rests on:</b>&nbsp;", layout=w.Layout(width="170px")),
                    *self.counted.values()]),
            self.count_development,
            self.approaches, self.lots_out, self.attributes, self.recommendation, self.assessment,
            self.lot_panel.widget,
            section("4. Probability of passing PPQ"),
            w.HBox([self.n_per_lot, self.criterion]), w.HBox([self.k_interval, self.between_sd]),
            self.map_note, self.map_out,
            section("5. Concurrent release of PPQ lots"),
            w.HTML("<p>Answer for the PPQ lots you would release before every step of the protocol is complete. "
                   "Commercial concurrent release is offered only after BLA approval, and, for a change that needs a "
                   "prior-approval supplement, only once FDA has approved it; an unanswered question leaves its "
                   "condition unknown and the route closed.</p>"),
            self.prefill, self.questions, self.plan_status, self.conflicts, self.route, self.release_panel.widget,
        ], self.status)
        model.observe(lambda c: self._draw(c["new"]), names="result")
        model.observe(lambda _c: self._on_problem(), names=["problem", "problem_kind"])
        model.observe(lambda _c: self._draw_plan(), names=["plan", "plan_problem", "profile_conflicts"])
        model.observe(lambda _c: self._notes(), names=["spec_note", "planned_note"])
        self._seen_now(model.session)
        self._notes()
        if model.result is not None:
            self._draw(model.result)
        self._on_problem()
        self._draw_plan()
        self.lot_panel.show(model.session)
        self.release_panel.show(model.session)

    # -- controls ------------------------------------------------------------------
    def _assessment_widgets(self) -> w.VBox:
        m = self.model
        self.use_assessment = w.Checkbox(description="Use my residual-risk assessment", indent=False,
                                         layout=w.Layout(width="auto"))
        self.use_assessment.add_class("cgt-use-assessment")
        w.link((m, "use_assessment"), (self.use_assessment, "value"))  # the model first: it sets the widget
        self.risk_widgets: dict[str, w.Widget] = {}
        rows = []
        for name, label in (*RISK_AREAS, ("overall", "Overall residual risk")):
            level = w.Dropdown(options=list(RISK_LEVELS), layout=w.Layout(width="130px"))
            level.add_class(f"cgt-risk-{name}")
            why = w.Text(placeholder="why (your rationale: what FDA reads)", continuous_update=False,
                         layout=w.Layout(width="640px"))
            why.add_class(f"cgt-risk-{name}-why")
            w.link((m, name), (level, "value"))  # the model first: it sets the widget
            w.link((m, f"{name}_rationale"), (why, "value"))  # the model first: it sets the widget
            self.risk_widgets[name], self.risk_widgets[f"{name}_rationale"] = level, why
            rows.append(w.HBox([w.HTML(esc(label), layout=w.Layout(width="190px")), level, why]))
        self.suggestion = w.HTML()
        m.observe(lambda _c: self._suggest(), names=[a for a, _l in RISK_AREAS])
        self._suggest()
        mapping = []
        for level in ("low", "medium", "high"):
            box = w.BoundedIntText(description=level, min=0, max=100, layout=w.Layout(width="150px"))
            box.add_class(f"cgt-lots-{level}")
            w.link((m, f"lots_{level}"), (box, "value"))  # the model first: it sets the widget
            self.risk_widgets[f"lots_{level}"] = box
            mapping.append(box)
        self.mapping_why = w.Text(placeholder="why these numbers (e.g. your PPQ policy)", continuous_update=False,
                                  layout=w.Layout(width="640px"))
        self.mapping_why.add_class("cgt-mapping-why")
        w.link((m, "mapping_rationale"), (self.mapping_why, "value"))  # the model first: it sets the widget
        box = w.VBox([
            w.HTML("<div class='cgt-subsection'>Residual risk (ISPE discussion paper, approach 1)</div>"
                   "<p class='cgt-muted'>Rate the residual risk of each area and say why; then give your own "
                   "number of PPQ lots for each level of risk (0 = not set) and why. The ISPE paper's tables are "
                   "not reproduced here: the mapping is yours, recorded as your rationale.</p>"),
            *rows, self.suggestion,
            w.HBox([w.HTML("Your PPQ lots per level", layout=w.Layout(width="190px")), *mapping]),
            w.HBox([w.HTML("Why these numbers", layout=w.Layout(width="190px")), self.mapping_why]),
            self.use_assessment,
        ])
        box.add_class("cgt-assessment")
        return box

    def _suggest(self) -> None:
        level = self.model.suggested_overall()
        self.suggestion.value = (f"<p class='cgt-muted'>The highest of your three ratings is <b>{esc(level)}</b>: a "
                                 "conservative overall rating; the choice is yours.</p>" if level else "")

    def _on_counted(self, _change: dict[str, Any]) -> None:
        chosen = [a for a, box in self.counted.items() if box.value]
        if chosen != list(self.model.counted):
            with self.status.guard():
                self.model.counted = chosen

    def _show_counted(self, change: dict[str, Any]) -> None:
        for a, box in self.counted.items():
            if box.value != (a in change["new"]):
                box.value = a in change["new"]

    def _heatmap_state(self) -> None:
        several = self.model.n_per_lot > 1
        self.between_sd.disabled = not several
        self.k_interval.disabled = self.model.criterion == "results"

    # -- following the model ---------------------------------------------------------
    def _notes(self) -> None:
        self.spec_note.value = f"<p class='cgt-muted'>{esc(self.model.spec_note)}</p>"
        self.planned_note.value = f"<span class='cgt-muted'>&nbsp;{esc(self.model.planned_note)}</span>"
        try:
            spec = self.model.selection.spec
            self.unit.value = f"<span class='cgt-muted'>&nbsp;{esc(spec.unit)}</span>"
        except Exception:  # noqa: BLE001 - a unit is decoration
            self.unit.value = ""
        self.use_accepted.layout.display = ("flex" if self.model.accepted(self.model.selection.attribute) is not None
                                            else "none")

    def _on_problem(self) -> None:
        if self.model.problem:
            self.status.show(self.model.problem_kind, self.model.problem)
        elif self.status.kind in ("error", "info"):
            self.status.clear()

    def _draw(self, result: ProcessValidationResult) -> None:
        ov = result.overview
        self.capability.value = capability_html(result)
        show_figure(self.capability_out, build_capability_figure(ov.development))
        self.approaches.value = approaches_html(result)
        show_figure(self.lots_out, build_lots_needed_figure(ov.approaches, n_planned=ov.n_planned,
                                                            pass_probability=ov.pass_probability,
                                                            counted=result.recommendation.approaches))
        self.attributes.value = attributes_html(result)
        self.recommendation.value = recommendation_html(result.recommendation)
        pm = result.pass_map
        k = f" k = {result.k:.3f}." if result.k is not None else ""
        self.map_note.value = (
            f"<p>Each cell: the probability that all {pm.grid.n_lots} PPQ lots pass for a process with that mean and "
            f"SD. The cross marks the estimate from the {pm.n_estimate} {esc(pm.lot_types)} lots: "
            f"<b>{probability_text(pm.estimate.all_lots)}</b>.{esc(k)} {esc(' '.join(pm.notes))}</p>")
        show_figure(self.map_out, build_pass_probability_figure(pm))
        self._notes()
        self.lot_panel.redraw_draft()

    def _draw_plan(self) -> None:
        m = self.model
        self.prefill.value = f"<p class='cgt-muted'>{esc(m.prefill_note)}</p>" if m.prefill_note else ""
        if m.plan_problem:
            self.plan_status.show("error", m.plan_problem)
        else:
            self.plan_status.clear()
        self.conflicts.value = conflicts_html(m.profile_conflicts)
        if m.plan is not None:
            self.route.value = plan_html(m.plan)
        label, fid = m.release_flexibility()
        if self.release_panel.flexibility.options != ((label, fid),):
            self.release_panel.flexibility.options = [(label, fid)]
        self.release_panel.redraw_draft()

    # -- the workbook ---------------------------------------------------------------
    def _panels(self) -> tuple[DecisionPanel, ...]:
        return (self.lot_panel, self.release_panel)

    def _set_session(self, session: Session) -> None:
        self.model.follow_session(session, data_changed=False)

    def _use_session(self, session: Session) -> None:
        self.model.follow_session(session, data_changed=True)


def load_questions() -> dict[str, str]:
    """The questionnaire's questions, worded in data/concurrent_release.yaml."""
    from cgtkit.analyses.process_validation import load_concurrent_release

    return dict(load_concurrent_release().questions)


def build_page(store: WorkbookStore, page_id: str = PAGE_ID) -> ProcessValidationView:
    """The page's entry point: the model from the saved workbook and the inputs kept for it, then its view."""
    model = ProcessValidationModel(store.load())
    keep_page_inputs(model, store.inputs_path, PAGE_ID)
    return ProcessValidationView(model, store)
