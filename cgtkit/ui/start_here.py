"""The "Start here" page: the product profile form and the navigator's answer.

The form's values go through :meth:`ProductProfile.build`; a valid profile is
assessed, shown and saved in the workbook; an invalid one shows its message
while the last valid results stay on screen.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from cgtkit.catalog import AREA_LABELS, PROVENANCE_LABELS, Catalog, Flexibility, load_catalog
from cgtkit.navigator import Assessment, AssessmentItem
from cgtkit.pages import load_pages
from cgtkit.plots.navigator import build_timeline_figure
from cgtkit.profile import ProductProfile, load_product_types
from cgtkit.vocab import STAGES, LotType
from cgtkit.session import WorkbookStore
from cgtkit.ui.shell import Confirm, StatusArea, esc, page_frame, page_link_html, show_figure
from cgtkit.ui.start_here_model import StartHereModel

STATUS_TEXT = {
    "applies_now": "Applies now",
    "later_stage": "Later stage",
    "not_applicable": "Not applicable",
}
FILTERS = [("All", "all"), ("Applies now", "applies_now"), ("Later stage", "later_stage"),
           ("Not applicable", "not_applicable")]  # labels for StartHereModel.show


def _badge(css: str, text: str, title: str = "") -> str:
    tip = f' title="{esc(title)}"' if title else ""
    return f"<span class='cgt-badge {css}'{tip}>{esc(text)}</span>"


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
        where = ", ".join(x for x in (s.issuer, s.date, s.section) if x)
        link = f" <a href='{esc(s.url)}' target='_blank' rel='noopener'>link</a>" if s.url else ""
        verify = _badge("cgt-verify", "verify wording", "Rests on secondary coverage; check against the document.") \
            if s.needs_verification else ""
        rows.append(f"<li>{_badge('cgt-prov-' + s.provenance, label.label, label.explanation)}{verify}"
                    f"<i>{esc(s.title)}</i> ({esc(where)}){link}</li>")
    return "<ul class='cgt-sources'>" + "".join(rows) + "</ul>"


def item_html(item: AssessmentItem) -> str:
    """One flexibility as a card: status, strongest source, reasons, and expandable details."""
    f = item.flexibility
    prov = PROVENANCE_LABELS[f.strongest_provenance]
    badges = (_badge(f"cgt-status-{item.status}", STATUS_TEXT[item.status])
              + _badge(f"cgt-prov-{f.strongest_provenance}", prov.label, prov.explanation)
              + (_badge("cgt-verify", "verify wording", "Some wording rests on secondary coverage of the guidance.")
                 if f.needs_verification else ""))
    details = [
        f"<h4>What it allows</h4><p>{esc(f.allows)}</p>",
        f"<h4>Conditions (all must hold)</h4>{_list(f.conditions)}",
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
    return (
        f"<div class='cgt-card cgt-flex cgt-flex-{esc(item.status)}' data-flexibility='{esc(f.id)}'>"
        f"<h3>{esc(f.title)} <span class='cgt-muted'>({esc(f.id)})</span></h3><div>{badges}</div>"
        f"<div class='cgt-reasons'>{_list(item.reasons)}</div>"
        f"<div class='cgt-muted'>{_page_link(item.page)}</div>"
        f"<details><summary>Details: conditions, evidence, sources, misreadings</summary>{''.join(details)}</details>"
        "</div>"
    )


def assessment_html(assessment: Assessment, show: str = "all") -> str:
    """All items grouped by area, optionally only one status."""
    counts = {s: len(items) for s, items in assessment.by_status().items()}
    p = assessment.profile
    head = (
        f"<div class='cgt-card cgt-summary'><b>{esc(p.name)}</b> — {esc(p.product_type.label)}, stage "
        f"<b>{esc(p.stage)}</b>: "
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


def catalog_note_html(catalog: Catalog) -> str:
    meta = catalog.metadata
    return (
        f"<p class='cgt-muted'>Catalog: {esc(meta.title)}, last reviewed {esc(meta.last_reviewed)}. Built around "
        f"<i>{esc(meta.guidance.source.title)}</i> ({esc(meta.guidance.issued)}). {esc(meta.verification_note)} "
        f"{esc(meta.disclaimer)}</p>"
    )


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
        self.name = w.Text(description="Product", continuous_update=False)
        self.modality = w.Dropdown(description="Modality", options=[(t.label, t.id) for t in types.values()],
                                   layout=w.Layout(width="480px"))
        self.stage = w.Dropdown(description="Stage", options=list(STAGES))
        self.stage.add_class("cgt-stage")
        self.individualized = w.Checkbox(description="Individualized (one lot per patient)", indent=False,
                                         layout=w.Layout(width="auto"))
        self.lots = {
            t.value: w.IntText(description=t.title, continuous_update=False, layout=w.Layout(width="230px"))
            for t in LotType
        }
        for k, box in self.lots.items():
            box.add_class(f"cgt-lots-{k}")
        self.lots_per_year = w.IntText(description="Lots / year", continuous_update=False)
        self.population = w.IntText(description="Patients", continuous_update=False)
        self.shelf_life = w.FloatText(description="Shelf life (d)", continuous_update=False)
        self.change = w.Dropdown(description="Planned change",
                                 options=[("None", "none"), ("Minor", "minor"), ("Major", "major")])
        self.change_text = w.Textarea(description="Describe it", continuous_update=False,
                                      layout=w.Layout(width="560px", height="60px"))
        self.new_tech = w.Checkbox(description="Interested in new manufacturing technology (automation, closed systems)",
                                   indent=False, layout=w.Layout(width="auto"))
        self.reset = w.Button(description="Example profile", icon="undo")
        self.filter = w.ToggleButtons(options=FILTERS)
        self.filter.add_class("cgt-filter")
        self.results = w.HTML()
        self.results.add_class("cgt-results")
        self.timeline = w.Output()

        fields = {"name": self.name, "modality": self.modality, "stage": self.stage,
                  "individualized": self.individualized, **self.lots, "lots_per_year": self.lots_per_year,
                  "patient_population": self.population, "shelf_life_days": self.shelf_life,
                  "planned_change": self.change, "change_description": self.change_text,
                  "new_technology_interest": self.new_tech, "show": self.filter}
        for trait, widget in fields.items():
            if not isinstance(widget, (w.Checkbox, w.ToggleButtons)):
                widget.style.description_width = "110px"
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
        form = w.VBox([
            w.HBox([self.name, self.modality]),
            w.HBox([self.stage, self.individualized]),
            w.HTML("<b>Lots made so far</b>"),
            w.HBox(list(self.lots.values())),
            w.HBox([self.lots_per_year, self.population, self.shelf_life]),
            w.HBox([self.change, self.new_tech]),
            self.change_text,
            self.reset,
            self.confirm.widget,
        ])
        form.add_class("cgt-profile-form")
        intro = w.HTML(
            "<p>Describe your product and where it is in development. cgtkit sorts FDA's CMC flexibilities for "
            "cell and gene therapy into those that apply now, those to plan for at a later stage, and those that "
            "do not apply, and says which facts of your profile decided each. Open the details of a card for the "
            "conditions, the evidence to prepare, the sources (with how strong each is) and common misreadings. "
            "Every flexibility must be justified with data and discussed with FDA before you use it.</p>"
        )
        return page_frame(
            "start_here",
            "Start here: which flexibilities fit your product",
            "A product profile in, a cited and graded list of CMC flexibilities out.",
            [intro, w.HTML("<div class='cgt-section-title'>Your product</div>"), form,
             w.HTML("<div class='cgt-section-title'>Flexibilities for this product</div>"), self.timeline,
             self.filter, self.results, w.HTML(catalog_note_html(self.catalog))],
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
        self.store.update(lambda s: s.with_profile(profile))
        self._saved = profile
        self._seen = self.store.stamp()
        self.status.show("success", f"Profile saved in the workbook; results updated for stage {profile.stage}.")

    def _show_timeline(self) -> None:
        assessment = self.model.assessment
        show_figure(self.timeline, build_timeline_figure(assessment.timeline(), assessment.profile.stage))

    def _render(self) -> None:
        self.results.value = assessment_html(self.model.assessment, self.model.show)

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
