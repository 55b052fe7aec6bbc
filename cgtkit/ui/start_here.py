"""The "Start here" page: the product profile form and the navigator's answer.

The form's values go through :meth:`ProductProfile.build`; a valid profile is
assessed, shown and saved in the workbook; an invalid one shows its message
while the last valid results stay on screen.

The page shows, from the one assessment:

* the flexibilities, each graded by what its claim rests on (and each condition
  that rests on something else graded on its own), with a plain note where the
  wording was not checked against the primary text;
* the meeting plan: the next FDA meeting with its PDUFA timelines and a draft
  question with the sponsor's position for each flexibility in play, and the
  BLA-readiness check when a BLA is in view;
* what is not flexible, and the guidances a regulatory lead expects.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from cgtkit.catalog import (
    AREA_LABELS,
    BASIS_LABELS,
    PROVENANCE_LABELS,
    Catalog,
    Flexibility,
    Guidance,
    NotFlexibleItem,
    load_catalog,
    load_guidances,
    load_not_flexible,
)
from cgtkit.meeting_plan import MeetingPlan
from cgtkit.navigator import READINESS_LABELS, Assessment, AssessmentItem
from cgtkit.pages import load_pages
from cgtkit.plots.navigator import build_timeline_figure
from cgtkit.profile import (
    BRIDGE_LABELS,
    DESIGNATION_LABELS,
    FIELD_LABELS,
    GENETIC_TARGET_LABELS,
    IND_TYPE_LABELS,
    POTENCY_LABELS,
    PPQ_MATERIAL_LABELS,
    REPORTING_LABELS,
    ProductProfile,
    load_change_kinds,
    load_product_types,
)
from cgtkit.session import Session, WorkbookStore
from cgtkit.tables import Column, html_table
from cgtkit.ui.shell import Confirm, StatusArea, esc, page_frame, page_link_html, show_figure
from cgtkit.ui.start_here_model import StartHereModel
from cgtkit.vocab import STAGES, LotType

STATUS_TEXT = {
    "applies_now": "Applies now",
    "later_stage": "Later stage",
    "not_applicable": "Not applicable",
}
FILTERS = [("All", "all"), ("Applies now", "applies_now"), ("Later stage", "later_stage"),
           ("Not applicable", "not_applicable")]  # labels for StartHereModel.show
UNCHECKED = "not checked against the source text"
UNCHECKED_TIP = ("This wording follows secondary coverage of its source (the full text was not at hand); "
                 "check it against the document before relying on it.")

#: Styles of this page's own badges (the app stylesheet has the source grades).
PAGE_CSS = """<style>
.cgt-prov-cgtkit_reading { background: #fdf2e9; color: #7b341e; border: 1px solid #f6ad55; }
.cgt-unchecked { background: #fff8e1; color: #7c5e10; border: 1px solid #e3c26b; }
.cgt-basis-small { font-size: 11px; padding: 0 6px; }
.cgt-note-unchecked { color: #7c5e10; font-size: 12px; }
.cgt-ready-ok { background: #2f855a; color: #fff; }
.cgt-ready-open { background: #b7791f; color: #fff; }
.cgt-ready-gap { background: #c53030; color: #fff; }
.cgt-ready-unknown { background: #9aa5b1; color: #fff; }
.cgt-plan td, .cgt-notflex td, .cgt-guidances td { vertical-align: top; }
</style>"""


def _badge(css: str, text: str, title: str = "") -> str:
    tip = f' title="{esc(title)}"' if title else ""
    return f"<span class='cgt-badge {css}'{tip}>{esc(text)}</span>"


def basis_badge(basis: str, small: bool = False) -> str:
    """The grade of a statement: what it rests on."""
    label = BASIS_LABELS[basis]
    return _badge(f"cgt-prov-{basis} cgt-basis" + (" cgt-basis-small" if small else ""), label.label,
                  label.explanation)


def _list(items: Any) -> str:
    return "<ul>" + "".join(f"<li>{esc(x)}</li>" for x in items) + "</ul>"


def _page_link(page_id: str) -> str:
    pages = {p.id: p for p in load_pages()}
    p = pages.get(page_id)
    if p is None:
        return ""
    if p.available:
        return f"cgtkit page: {page_link_html(p.id)}"
    return f"cgtkit page: {esc(p.title)} (planned)"


def sources_html(f: Flexibility) -> str:
    rows = []
    for s in f.sources:
        label = PROVENANCE_LABELS[s.provenance]
        where = ", ".join(x for x in (s.issuer, s.date, f"section {s.section}" if s.section else "") if x)
        topic = f"; cited for {esc(s.topic)}" if s.topic else ""
        link = f" <a href='{esc(s.url)}' target='_blank' rel='noopener'>link</a>" if s.url else ""
        rows.append(f"<li>{_badge('cgt-prov-' + s.provenance, label.label, label.explanation)}"
                    f"<i>{esc(s.title)}</i> ({esc(where)}{topic}){link}</li>")
    return "<ul class='cgt-sources'>" + "".join(rows) + "</ul>"


def conditions_html(f: Flexibility) -> str:
    """The conditions, each graded on its own where its basis differs from the claim's, with a plain note
    where a differently graded statement was not checked."""
    rows = []
    for c in f.conditions:
        basis, checked = f.basis_of(c), f.checked_of(c)
        own = basis != f.basis
        grade = basis_badge(basis, small=True) if own else ""
        note = ""
        if basis != "cgtkit_reading":
            if not checked and (own or f.checked):
                note = f" <span class='cgt-note-unchecked' title='{esc(UNCHECKED_TIP)}'>({UNCHECKED})</span>"
            elif checked and not f.checked:
                note = " <span class='cgt-muted'>(checked against the regulation text)</span>" \
                    if basis == "regulation" else " <span class='cgt-muted'>(checked against the source text)</span>"
        rows.append(f"<li data-basis='{esc(basis)}'>{grade}{esc(c.text)}{note}</li>")
    return "<ul class='cgt-conditions'>" + "".join(rows) + "</ul>"


def item_html(item: AssessmentItem) -> str:
    """One flexibility as a card: status, what the claim rests on, reasons, and expandable details."""
    f = item.flexibility
    unchecked = (not f.checked) and f.basis != "cgtkit_reading"
    badges = (_badge(f"cgt-status-{item.status}", STATUS_TEXT[item.status])
              + "<span class='cgt-muted'>rests on </span>" + basis_badge(f.basis)
              + (_badge("cgt-unchecked", UNCHECKED, UNCHECKED_TIP) if unchecked else ""))
    details = [
        f"<h4>What it allows {basis_badge(f.basis, small=True)}</h4><p>{esc(f.allows)}</p>",
        f"<h4>Conditions (all must hold)</h4>{conditions_html(f)}",
        f"<h4>Justification FDA expects</h4><p>{esc(f.justification)}</p>",
        f"<h4>Evidence to prepare</h4>{_list(item.evidence)}",
        f"<h4>Next step with FDA</h4><p>{esc(item.next_step)}</p>",
    ]
    if f.misreadings:
        details.append("<h4>Common misreadings</h4><ul>" + "".join(
            f"<li><b>Misreading:</b> {esc(m.misreading)}<br><b>Correction:</b> {esc(m.correction)}</li>"
            for m in f.misreadings) + "</ul>")
    if f.regulations:
        details.append("<h4>Regulations and guidelines</h4><ul>" + "".join(
            f"<li><b>{esc(r.id)}</b>: {esc(r.note)}</li>" for r in f.regulations) + "</ul>")
    if f.statistics:
        details.append(f"<h4>Statistics</h4><p>{esc(f.statistics)}</p>")
    if f.note:
        details.append(f"<h4>cgtkit note</h4><p>{esc(f.note)}</p>")
    details.append(f"<h4>Sources</h4>{sources_html(f)}")
    facts = (f"<div class='cgt-muted cgt-facts' data-facts='{esc(' '.join(item.facts))}'>Decided by: "
             f"{esc(', '.join(FIELD_LABELS.get(x, x) for x in item.facts))}</div>" if item.facts else "")
    return (
        f"<div class='cgt-card cgt-flex cgt-flex-{esc(item.status)}' data-flexibility='{esc(f.id)}' "
        f"data-basis='{esc(f.basis)}'>"
        f"<h3>{esc(f.title)} <span class='cgt-muted'>({esc(f.id)})</span></h3><div>{badges}</div>"
        f"<div class='cgt-reasons'>{_list(item.reasons)}</div>{facts}"
        f"<div class='cgt-muted'>{_page_link(item.page)}</div>"
        f"<details><summary>Details: conditions, evidence, sources, misreadings</summary>{''.join(details)}</details>"
        "</div>"
    )


def assessment_html(assessment: Assessment, show: str = "all") -> str:
    """All items grouped by area, optionally only one status."""
    counts = {s: len(items) for s, items in assessment.by_status().items()}
    p = assessment.profile
    path = f"stage <b>{esc(p.stage)}</b>"
    if p.pivotal_study:
        path += " (pivotal study)"
    if p.ind_type != "development":
        path += f", {esc(IND_TYPE_LABELS[p.ind_type])}"
    head = (
        f"<div class='cgt-card cgt-summary'><b>{esc(p.name)}</b> — {esc(p.product_type.label)}, {path}: "
        + " ".join(_badge(f"cgt-status-{s}", f"{STATUS_TEXT[s]}: {counts.get(s, 0)}") for s in STATUS_TEXT)
        + "</div>"
    )
    parts = [head]
    for area, items in assessment.by_area().items():
        chosen = [i for i in items if show == "all" or i.status == show]
        if not chosen:
            continue
        parts.append(f"<div class='cgt-section-title'>{esc(AREA_LABELS.get(area, area))}</div>")
        parts.extend(item_html(i) for i in chosen)
    return "<div class='cgt-assessment'>" + "".join(parts) + "</div>"


def _basis_cell(basis: str) -> str:
    return basis_badge(basis, small=True)


def readiness_html(assessment: Assessment) -> str:
    """The BLA-readiness check, when a BLA is in view."""
    if not assessment.readiness:
        return ""
    rows = [{"item": c.label, "status": c.status, "reason": c.reason} for c in assessment.readiness]
    table = html_table(rows, [
        Column("item", "Item"),
        Column("status", "Status", lambda s: _badge(f"cgt-ready-{s}", READINESS_LABELS[s]), html=True),
        Column("reason", "Why", muted=True),
    ], css="cgt-readiness")
    return ("<div class='cgt-section-title'>BLA readiness</div>"
            "<p class='cgt-muted'>cgtkit's checklist for a BLA in view: PPQ, a validated potency assay, and "
            "comparability bridging the pivotal-study process to the commercial one.</p>" + table)


def plan_html(plan: MeetingPlan) -> str:
    """The next FDA meeting, its timelines, and the draft questions with the sponsor's positions."""
    m = plan.meeting
    later = ", then ".join(x.name for x in plan.later)
    head = (f"<div class='cgt-card cgt-plan-head'><b>Next FDA meeting: {esc(m.name)}</b>. {esc(_cap(plan.why))}."
            f"<br><span class='cgt-muted'>{esc(m.purpose)}"
            + (f" After it: {esc(later)}." if later else "") + (f" {esc(m.note)}" if m.note else "")
            + "</span></div>")
    timing = html_table([{"step": t.step, "when": t.when} for t in plan.timing()],
                        [Column("step", "Step"), Column("when", "When")], css="cgt-plan cgt-plan-timing")
    source = ("<p class='cgt-muted'>Timelines are calendar days under PDUFA VII, as FDA's Office of Therapeutic "
              "Products lists them for each meeting type (from FDA's September 2023 draft guidance on formal "
              "meetings)" + ("" if m.checked else "; for this meeting type they were not checked against that page")
              + ".</p>")
    if plan.questions:
        questions = html_table(
            [{"id": q.flexibility_id, "question": q.question, "position": q.position, "basis": q.basis}
             for q in plan.questions],
            [Column("id", "Flexibility"), Column("question", "Draft question for FDA"),
             Column("position", "Sponsor's proposed position"),
             Column("basis", "Claim rests on", _basis_cell, html=True)],
            css="cgt-plan cgt-plan-questions")
    else:
        questions = "<p>No flexibility is in play at this stage.</p>"
    return (head + timing + source
            + "<div class='cgt-subsection'><b>Draft questions, one per flexibility that applies now</b> "
              "<span class='cgt-muted'>(cgtkit's drafts: word them as your own on the "
            + page_link_html("decision_record") + " page, where they go into the briefing package)</span></div>"
            + questions)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def not_flexible_html(items: tuple[NotFlexibleItem, ...], modality: str | None = None) -> str:
    """What the flexibilities leave as it is, as one table."""
    chosen = [i for i in items if modality is None or i.product_types == "all" or modality in i.product_types]
    table = html_table(
        [{"title": i.title, "requirement": i.requirement, "basis": i.basis, "open": i.still_open, "when": i.when}
         for i in chosen],
        [Column("title", "Requirement"), Column("requirement", "What it asks"),
         Column("basis", "Rests on", _basis_cell, html=True), Column("when", "When"),
         Column("open", "What stays open", muted=True)],
        css="cgt-notflex")
    return ("<p>None of the flexibilities above reaches these. They are met as they are; only how (the method, "
            "the timing, the material) can be discussed.</p>" + table)


def guidances_html(guidances: tuple[Guidance, ...], assessment: Assessment) -> str:
    """The guidances that matter for this product now or later."""
    p = assessment.profile
    live = {it.flexibility_id for it in assessment.items if it.status != "not_applicable"}
    chosen = [g for g in guidances
              if g.covers(p.modality) and (not g.flexibilities or live & set(g.flexibilities))
              and any(STAGES.index(s) >= p.stage_index for s in g.stages)]
    table = html_table(
        [{"title": g.title, "date": g.date, "status": g.status, "why": g.why} for g in chosen],
        [Column("title", "Guidance"), Column("date", "Issued"), Column("status", "Status"),
         Column("why", "What it is for", muted=True)],
        css="cgt-guidances")
    return ("<p class='cgt-muted'>FDA guidances a regulatory lead expects to see cited for this product, now or at a "
            "later stage. Dates as FDA lists them.</p>" + table)


def catalog_note_html(catalog: Catalog) -> str:
    meta = catalog.metadata
    summary = catalog.verification_summary()
    return (
        f"<div class='cgt-muted cgt-verification'><p>Catalog: {esc(meta.title)}, last reviewed "
        f"{esc(meta.last_reviewed)}. Built around <i>{esc(meta.guidance.source.title)}</i> "
        f"({esc(meta.guidance.issued)}).</p>"
        f"<p><b>What was checked.</b> {esc(summary.sentence())}</p>"
        f"<p>Checked against the primary text: {esc('; '.join(summary.checked_documents))}.</p>"
        f"<p>Not checked: {esc('; '.join(summary.not_checked_documents))}.</p>"
        f"<p>{esc(meta.verification_note)} {esc(meta.disclaimer)}</p></div>"
    )


def _options(labels: dict[str, str]) -> list[tuple[str, str]]:
    return [(label, key) for key, label in labels.items()]


class StartHereView:
    """The profile form, linked to :class:`StartHereModel`, and the assessment it gives.

    A valid profile is saved in the workbook and its results shown; an invalid one
    shows its message while the last valid results stay on screen.
    """

    def __init__(self, model: StartHereModel, store: WorkbookStore) -> None:
        self.model, self.store = model, store
        self.catalog = model.catalog
        self.status = StatusArea()
        types = load_product_types()
        wide = w.Layout(width="480px")
        self.name = w.Text(description="Product", continuous_update=False)
        self.modality = w.Dropdown(description="Modality", options=[(t.label, t.id) for t in types.values()],
                                   layout=wide)
        self.stage = w.Dropdown(description="Stage", options=list(STAGES))
        self.stage.add_class("cgt-stage")
        self.pivotal = w.Checkbox(
            description="The current study is pivotal (meant to support the BLA; phase 2/3 and 3 always are)",
            indent=False, layout=w.Layout(width="auto"))
        self.pivotal.add_class("cgt-pivotal")
        self.ind_type = w.Dropdown(description="IND", options=_options(IND_TYPE_LABELS), layout=wide)
        self.ind_type.add_class("cgt-ind-type")
        self.individualized = w.Checkbox(description="Individualized (one lot per patient)", indent=False,
                                         layout=w.Layout(width="auto"))
        self.lots = {
            t.value: w.IntText(description=t.title, continuous_update=False, layout=w.Layout(width="230px"))
            for t in LotType
        }
        for k, box in self.lots.items():
            box.add_class(f"cgt-lots-{k}")
        self.lots_per_year = w.IntText(description="Lots / year", continuous_update=False)
        self.lot_volume = w.FloatText(description="Lot volume (mL)", continuous_update=False)
        self.doses_per_lot = w.IntText(description="Doses / lot", continuous_update=False)
        self.containers_per_lot = w.IntText(description="Containers / lot", continuous_update=False)
        self.containers_per_lot.add_class("cgt-containers")
        self.population = w.IntText(description="Patients", continuous_update=False)
        self.shelf_life = w.FloatText(description="Shelf life (d)", continuous_update=False)
        self.serious = w.Checkbox(description="Serious or life-threatening condition", indent=False,
                                  layout=w.Layout(width="auto"))
        self.genetic_target = w.Dropdown(description="Genetic cause", options=_options(GENETIC_TARGET_LABELS),
                                         layout=wide)
        self.change = w.Dropdown(description="Planned change",
                                 options=[("None", "none"), ("Minor", "minor"), ("Major", "major")])
        self.change.add_class("cgt-change")
        self.change_type = w.Dropdown(description="Kind of change",
                                      options=[(c.label, c.id) for c in load_change_kinds().values()], layout=wide)
        self.reporting = w.Dropdown(description="Reporting (after approval)", options=_options(REPORTING_LABELS),
                                    layout=wide)
        self.reporting.add_class("cgt-reporting")
        self.change_text = w.Textarea(description="Describe it", continuous_update=False,
                                      layout=w.Layout(width="560px", height="60px"))
        self.new_tech = w.Checkbox(description="Interested in new manufacturing technology (automation, closed systems)",
                                   indent=False, layout=w.Layout(width="auto"))
        self.designation = w.Dropdown(description="Designation", options=_options(DESIGNATION_LABELS))
        self.accelerated = w.Checkbox(description="Accelerated approval planned", indent=False,
                                      layout=w.Layout(width="auto"))
        self.potency = w.Dropdown(description="Potency assay", options=_options(POTENCY_LABELS))
        self.bridge = w.Dropdown(description="Pivotal vs commercial process", options=_options(BRIDGE_LABELS),
                                 layout=wide)
        self.ppq_material = w.Dropdown(description="PPQ material", options=_options(PPQ_MATERIAL_LABELS))
        self.reset = w.Button(description="Example profile", icon="undo")
        self.filter = w.ToggleButtons(options=FILTERS)
        self.filter.add_class("cgt-filter")
        self.results = w.HTML()
        self.results.add_class("cgt-results")
        self.plan = w.HTML()
        self.plan.add_class("cgt-meeting-plan")
        self.readiness = w.HTML()
        self.readiness.add_class("cgt-bla-readiness")
        self.not_flexible = w.HTML(not_flexible_html(load_not_flexible()))
        self.not_flexible.add_class("cgt-not-flexible")
        self.guidances = w.HTML()
        self.guidances.add_class("cgt-guidance-list")
        self.timeline = w.Output()

        fields = {"name": self.name, "modality": self.modality, "stage": self.stage, "pivotal": self.pivotal,
                  "ind_type": self.ind_type, "individualized": self.individualized, **self.lots,
                  "lots_per_year": self.lots_per_year, "lot_volume_ml": self.lot_volume,
                  "doses_per_lot": self.doses_per_lot, "final_containers_per_lot": self.containers_per_lot,
                  "patient_population": self.population, "serious_condition": self.serious,
                  "genetic_target": self.genetic_target, "shelf_life_days": self.shelf_life,
                  "planned_change": self.change, "change_type": self.change_type,
                  "change_description": self.change_text, "reporting_category": self.reporting,
                  "new_technology_interest": self.new_tech, "designation": self.designation,
                  "accelerated_approval": self.accelerated, "potency_assay": self.potency,
                  "process_bridge": self.bridge, "ppq_material": self.ppq_material, "show": self.filter}
        for trait, widget in fields.items():
            if not isinstance(widget, (w.Checkbox, w.ToggleButtons)):
                widget.style.description_width = "150px" if widget.layout.width == "480px" else "110px"
            w.link((model, trait), (widget, "value"))
        model.observe(self._on_problem, names="problem")
        model.observe(self._on_profile, names="profile")
        model.observe(lambda _c: self._render(), names=["assessment", "show"])
        self.confirm = Confirm(self.status, yes="Yes, use the example profile")
        self.reset.on_click(self.status.guarded(lambda _b: self.confirm.ask(
            "Replace your product profile with the example CAR-T profile? Your own entries are not kept "
            "(your data and decisions are not touched).", lambda: model.fill(ProductProfile.build()))))

        self.widget = self._layout()
        self._saved = store.load().profile
        self._render()
        self._show_timeline()
        if self._saved is None:  # a new workbook: save the profile shown
            self._save(model.profile)
        self._seen = store.stamp()

    def _layout(self) -> w.Widget:
        def part(title: str) -> w.HTML:
            return w.HTML(f"<b>{esc(title)}</b>")

        form = w.VBox([
            part("Product"),
            w.HBox([self.name, self.modality]),
            w.HBox([self.population, self.shelf_life, self.serious]),
            w.HBox([self.genetic_target, self.individualized]),
            part("Development path"),
            w.HBox([self.stage, self.pivotal]),
            self.ind_type,
            part("Lots"),
            w.HBox(list(self.lots.values())),
            w.HBox([self.lots_per_year, self.lot_volume, self.doses_per_lot, self.containers_per_lot]),
            w.HTML("<span class='cgt-muted'>Lot volume, doses and containers per lot: 0 when not known.</span>"),
            part("Planned manufacturing change"),
            w.HBox([self.change, self.change_type]),
            w.HBox([self.reporting, self.new_tech]),
            self.change_text,
            part("Programs and BLA readiness"),
            w.HBox([self.designation, self.accelerated]),
            w.HBox([self.potency, self.ppq_material]),
            self.bridge,
            self.reset,
            self.confirm.widget,
        ])
        form.add_class("cgt-profile-form")
        intro = w.HTML(
            PAGE_CSS +
            "<p>Describe your product and its development path. cgtkit sorts the CMC flexibilities FDA set out "
            "in 2026 into those that apply now, those to plan for at a later stage, and those that do not apply, and says which facts of your profile decided each. Each card says what its claim rests "
            "on (a regulation, a final guidance, an FDA announcement, an official's remarks, or cgtkit's own "
            "reading). Below them: the next FDA meeting with draft questions, what is not flexible, and the "
            "guidances to cite. Every flexibility must be justified with data and discussed with FDA before you "
            "use it.</p>"
        )

        def section(title: str, css: str) -> w.HTML:
            box = w.HTML(f"<div class='cgt-section-title'>{esc(title)}</div>")
            box.add_class(css)
            return box

        return page_frame(
            "start_here",
            "Start here: which flexibilities fit your product",
            "A product profile in; graded flexibilities, a meeting plan and what is not flexible out.",
            [intro, section("Your product", "cgt-sec-profile"), form,
             section("Flexibilities for this product", "cgt-sec-flex"), self.timeline, self.filter, self.results,
             section("Meeting plan", "cgt-sec-plan"), self.plan, self.readiness,
             section("What is not flexible", "cgt-sec-not-flexible"), self.not_flexible,
             section("Guidances and related programs", "cgt-sec-guidances"), self.guidances,
             w.HTML(catalog_note_html(self.catalog))],
            self.status,
        )

    @property
    def assessment(self) -> Assessment:
        return self.model.assessment

    def _on_problem(self, change: dict[str, Any]) -> None:
        if change["new"]:
            self.status.show("error", change["new"])
        elif self.status.kind == "error":
            self.status.clear()

    def _on_profile(self, change: dict[str, Any]) -> None:
        self._show_timeline()
        if change["new"] != self._saved:
            self._save(change["new"])

    def _save(self, profile: ProductProfile) -> None:
        """Save what the user changed here, merged into the workbook's latest profile: a field another
        tab changed meanwhile is kept (two tabs never overwrite each other's edits)."""
        base = self._saved.model_dump() if self._saved is not None else {}
        mine = {k: v for k, v in profile.model_dump().items() if base.get(k) != v}
        merged: list[ProductProfile] = []
        others: list[str] = []

        def merge(session: Session) -> Session:
            latest = session.profile
            if latest is None:
                result = profile
            else:
                current = latest.model_dump()
                others.extend(k for k, v in current.items() if k not in mine and base.get(k, v) != v)
                result = ProductProfile.model_validate({**current, **mine})
            merged.append(result)
            return session.with_profile(result)

        self.store.update(merge)
        result = merged[-1]
        self._saved = result
        self._seen = self.store.stamp()
        if result != profile:  # another tab's changes came in: show the profile as saved
            self.model.fill(result)
        kept = (f" Changes made meanwhile in another tab were kept ({', '.join(sorted(set(others)))})."
                if others else "")
        self.status.show("success", f"Profile saved in the workbook; results updated for stage {result.stage}.{kept}")

    def _show_timeline(self) -> None:
        assessment = self.model.assessment
        show_figure(self.timeline, build_timeline_figure(assessment.timeline(), assessment.profile.stage,
                                                         pivotal=assessment.profile.pivotal_study))

    def _render(self) -> None:
        assessment = self.model.assessment
        self.results.value = assessment_html(assessment, self.model.show)
        self.plan.value = plan_html(self.model.plan)
        self.readiness.value = readiness_html(assessment)
        self.guidances.value = guidances_html(load_guidances(), assessment)

    def on_show(self) -> None:
        """Follow a profile changed elsewhere (another tab, a workbook opened or reset on Home).

        Only a profile that differs from the one this page last saved or loaded replaces the form,
        so an edit the user has not finished here is never overwritten by an unrelated change.
        """
        stamp = self.store.stamp()
        if stamp == self._seen:
            return
        self._seen = stamp
        saved = self.store.load().profile
        if saved is None or saved == self._saved:
            return
        self._saved = saved
        with self.status.guard():
            self.model.fill(saved)
            self.status.show("info", "The product profile was changed elsewhere in the workbook; this page now shows it.")


def build_page(store: WorkbookStore, page_id: str = "start_here") -> StartHereView:
    """The page's entry point: the model from the saved profile (or the example), then its view."""
    profile = store.load().profile or ProductProfile.build()
    return StartHereView(StartHereModel(profile, load_catalog()), store)
