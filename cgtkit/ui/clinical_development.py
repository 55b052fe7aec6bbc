"""The Clinical development page: widgets linked to :class:`ClinicalDevelopmentModel`.

The proposals for every attribute in one table, the selected attribute's lots
and k-versus-n figure, and the decision panel (one attribute, or all proposals
as one set). The view redraws when the model's ``result`` changes and shows
``problem`` in the status line.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from cgtkit.analyses.specifications import InvestigationalProposal, proposals_frame
from cgtkit.session import WorkbookStore
from cgtkit.tables import Column, html_table, number, percent
from cgtkit.ui.clinical_development_model import FLEXIBILITIES, PAGE_ID, ClinicalDevelopmentModel, ClinicalResult
from cgtkit.ui.selection import LotSelectionControls
from cgtkit.ui.shell import StatusArea, esc, page_frame
from cgtkit.ui.page_inputs import keep_page_inputs
from cgtkit.ui.decision_panel import DecisionPanel, section
from cgtkit.ui.spec_parts import (
    SpecificationsPageView,
    about_html,
    show_k,
    show_lots,
)
from cgtkit.vocab import AttributeKind

TITLE = "Clinical development: investigational release criteria"
SUBTITLE = ("Wide, phase-appropriate acceptance criteria for IND lots, proposed per attribute from your "
            "engineering and clinical lots (flexibility CD-RELEASE-PERMISSIVE).")
INTRO = (
    "<p>Final specifications are not expected until the end of the investigational stage; lots made "
    "under an IND may carry wide criteria suited to investigational use (FDA announcement, January 11, "
    "2026; final guidance, May 2026; IND content under 21 CFR 312.23(a)(7)). A CBER official advised "
    "at a 2026 public meeting to set very wide criteria in development and to check in with FDA when a "
    "lot falls outside even those (remarks, not guidance text). cgtkit proposes, per attribute, a "
    "99%-coverage / 95%-confidence normal tolerance limit from the lots you select, never narrower than "
    "the lots already made. Safety tests keep their fixed requirement; whether an attribute is a safety "
    "attribute (for example vector copy number) is a topic for your FDA meeting.</p>"
)
ATTENTION = "<span class='cgt-badge cgt-status-later_stage'>needs attention</span>"


def _criterion_cell(row: dict[str, Any]) -> str:
    if row["kind"] is AttributeKind.SAFETY_FIXED:
        return "fixed requirement"
    if not row["ok"]:
        return ATTENTION
    fmt = number()
    low, high = row["low"], row["high"]
    if low is not None and high is not None and low == low and high == high:
        return esc(f"{fmt(low)} to {fmt(high)}")
    return esc(f"≥ {fmt(low)}") if low is not None and low == low else esc(f"≤ {fmt(high)}")


def proposals_table_html(proposals: tuple[InvestigationalProposal, ...], current: str) -> str:
    """Every attribute's proposal; the attribute on screen is highlighted."""
    frame = proposals_frame(proposals)
    frame["criterion"] = [_criterion_cell(r) for r in frame.to_dict("records")]
    frame["basis_text"] = [p.problem or p.rationale for p in proposals]
    # a risk belongs to a proposed limit: none for a row without one
    frame["next_lot_outside"] = [v if ok else None for v, ok in zip(frame["next_lot_outside"], frame["ok"], strict=True)]
    return html_table(frame, [
        Column("label", "Attribute"), Column("unit", "Unit"), Column("n", "Lots", numeric=True),
        Column("criterion", "Proposed criterion", lambda v: v, html=True),
        Column("next_lot_outside", "Next lot outside", percent, numeric=True),
        Column("basis_text", "Basis", muted=True),
    ], css="cgt-proposals", row_css=["cgt-row-current" if a == current else "" for a in frame["attribute"]])


class ClinicalDevelopmentView(SpecificationsPageView):
    """The page's widgets over its model; ``on_show`` follows a workbook changed elsewhere."""

    def __init__(self, model: ClinicalDevelopmentModel, store: WorkbookStore) -> None:
        self.model, self.store = model, store
        self.status = StatusArea()
        self.controls = LotSelectionControls(model.selection, "Set criteria from lots of type:", self.status)
        self.about = w.HTML()
        self.table = w.HTML()
        self.table.add_class("cgt-spec-table")
        self.lots_out, self.k_out = w.Output(), w.Output()
        self.lots_table = w.HTML()
        self.lots_table.add_class("cgt-lots-table")
        self.panel = DecisionPanel(store, PAGE_ID, FLEXIBILITIES, draft=model.default_justification,
                                   decide=model.decision, on_recorded=self._recorded,
                                   subject=lambda: model.selection.attribute)
        self.accept_all = w.Button(description="Accept all proposals", icon="check-square",
                                   layout=w.Layout(width="auto"))
        self.accept_all.add_class("cgt-accept-all")
        self.accept_all.on_click(self.panel.status.guarded(self._on_accept_all, busy=[self.accept_all]))
        self.panel.add_button(self.accept_all)

        self.widget = page_frame(PAGE_ID, TITLE, SUBTITLE, [
            w.HTML(INTRO), self.controls.widget, self.about,
            section("Proposed investigational criteria, all attributes"), self.table,
            section("The selected attribute"), self.lots_out, self.lots_table, self.k_out,
            self.panel.widget,
        ], self.status)
        self._bind()

    def _draw(self, result: ClinicalResult) -> None:
        self.about.value = about_html(result.data)
        self.table.value = proposals_table_html(result.proposals, result.data.spec.id)
        p = result.proposal
        low, high, label = (p.low, p.high, "proposed") if p.ok else (None, None, "")
        self._lots_table(result)
        show_lots(self.lots_out, result.data, low, high, label)
        show_k(self.k_out, result.k_table, result.data)
        self.panel.flexibility.value = self.model.default_flexibility()
        self.panel.redraw_draft()

    def _on_accept_all(self, _button: w.Button) -> None:
        decision = self.model.all_proposals_decision()
        self.panel.record(decision, (
            f"Recorded {len(decision.criteria)} investigational criteria in the workbook as one decision, with "
            "the drafted justification of each (attributes without a usable proposal were skipped)."))


def build_page(store: WorkbookStore, page_id: str = PAGE_ID) -> ClinicalDevelopmentView:
    """The page's entry point: the model from the saved workbook and the inputs kept for it, then its view."""
    model = ClinicalDevelopmentModel(store.load())
    keep_page_inputs(model, store.inputs_path, PAGE_ID)
    return ClinicalDevelopmentView(model, store)
