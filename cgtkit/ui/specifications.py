"""The specifications pages' view: widgets over :class:`SpecificationsModel`.

The same view serves the Clinical development page (investigational criteria)
and the Commercial specifications page (candidates, false-OOS risk, lifecycle
replay). Every handler runs under the status area's guard: bad input shows a
sentence and the previous tables and figures stay on screen.
"""

from __future__ import annotations

import logging

import ipywidgets as w
import numpy as np
from IPython.display import display

from cgtkit.errors import CgtkitError, InsufficientDataError
from cgtkit.plots.specifications import (
    build_k_vs_n_figure,
    build_lots_figure,
    build_replay_figure,
    build_risk_figure,
)
from cgtkit.session import Session, WorkbookStore
from cgtkit.stats.criteria import sidedness
from cgtkit.ui.shell import StatusArea, esc, page_frame
from cgtkit.ui.specifications_model import LOT_TYPES, SpecificationsModel, SpecView

log = logging.getLogger("cgtkit")

TEXT = {
    "investigational": dict(
        title="Clinical development: investigational release criteria",
        subtitle=(
            "Wide, phase-appropriate acceptance criteria for IND lots, proposed per attribute from your "
            "engineering and clinical lots (flexibility CD-RELEASE-PERMISSIVE)."
        ),
        intro=(
            "<p>Final specifications are not expected until the end of the investigational stage; lots made "
            "under an IND may carry wide criteria suited to investigational use (FDA announcement, January 11, "
            "2026; final guidance, May 2026; IND content under 21 CFR 312.23(a)(7)). A CBER official advised "
            "at a 2026 public meeting to set very wide criteria in development and to check in with FDA when a "
            "lot falls outside even those (remarks, not guidance text). cgtkit proposes, per attribute, a "
            "99%-coverage / 95%-confidence normal tolerance limit from the lots you select, never narrower than "
            "the lots already made. Safety tests keep their fixed requirement; whether an attribute is a safety "
            "attribute (for example vector copy number) is a topic for your FDA meeting.</p>"
        ),
    ),
    "commercial": dict(
        title="Commercial specifications from few lots",
        subtitle=(
            "Candidate acceptance criteria, the chance that later lots of an unchanged process fall outside "
            "them, and how they would have evolved as lots accumulated (CS-SPEC-FLEX-BLA, CS-SPEC-LIFECYCLE)."
        ),
        intro=(
            "<p>FDA will consider release specifications fitted to the product, its process and the number of "
            "lots available, when justified, and later submissions that re-evaluate them from post-approval "
            "experience (final guidance, May 2026; changes to an approved specification go through a supplement "
            "under 21 CFR 601.12). Criteria set from a handful of lots often under-state the true variability of "
            "the process. Compare candidates below: each shows the probability that at least one of the next "
            "10, 50 or 100 lots of the same, unchanged process falls outside it. Then replay your lots in "
            "manufacture order to see how the criteria would have evolved.</p>"
        ),
    ),
}
FLEXIBILITY_CHOICES = {
    "investigational": [("CD-RELEASE-PERMISSIVE — permissive IND release criteria", "CD-RELEASE-PERMISSIVE"),
                        ("CD-SAFETY-ATTRIBUTES — safety attribute limit", "CD-SAFETY-ATTRIBUTES")],
    "commercial": [("CS-SPEC-FLEX-BLA — release specification at BLA", "CS-SPEC-FLEX-BLA"),
                   ("CS-SPEC-LIFECYCLE — re-evaluated criterion", "CS-SPEC-LIFECYCLE")],
}


def _fmt(x: float | None, digits: int = 4) -> str:
    return "—" if x is None or (isinstance(x, float) and not np.isfinite(x)) else f"{x:.{digits}g}"


def _pct(x: float) -> str:
    return "<0.1%" if x < 0.001 else f"{x:.1%}"


def lots_table_html(view: SpecView) -> str:
    """The selected lots as a collapsible table, as read from the data file."""
    lots = view.data.lots
    if lots.empty:
        return ""
    rows = "".join(
        f"<tr><td>{esc(r.lot_id)}</td><td>{esc(r.lot_type)}</td><td>{r.manufacture_date:%Y-%m-%d}</td>"
        f"<td class='num'>{esc(_lot_result(r))}</td></tr>"
        for r in lots.itertuples()
    )
    return (
        f"<details><summary>The {len(lots)} lots of this selection, in manufacture order</summary>"
        "<table class='cgt-table'><tr><th>Lot</th><th>Type</th><th>Manufactured</th>"
        f"<th class='num'>Result ({esc(view.spec.unit)})</th></tr>{rows}</table></details>"
    )


def _lot_result(row: object) -> str:
    result = getattr(row, "result", None)
    if isinstance(result, str) and result:
        return result
    prefix = {"left": "<", "right": ">"}.get(str(getattr(row, "censoring", "none")), "")
    return f"{prefix}{getattr(row, 'value'):.4g}"


def section(title: str) -> w.HTML:
    return w.HTML(f"<div class='cgt-section-title'>{esc(title)}</div>")


class SpecificationsView:
    """Builds the page and keeps it in step with the model."""

    def __init__(self, store: WorkbookStore, mode: str) -> None:
        self.store = store
        self.model = SpecificationsModel(store.load(), mode=mode)
        self.view: SpecView | None = None
        self.status = StatusArea()
        self._draft = ""
        self._quiet = False  # True while the view itself resets dropdown options

        m = self.model
        self.dataset = w.Dropdown(description="Data set", options=m.dataset_options, value=m.dataset)
        self.attribute = w.Dropdown(description="Attribute", options=m.attribute_options(), value=m.attribute,
                                    layout=w.Layout(width="420px"))
        self.lot_boxes = {t: w.Checkbox(description=t, value=t in m.lot_types, indent=False,
                                        layout=w.Layout(width="120px")) for t in LOT_TYPES}
        self.method = w.Dropdown(
            description="Two-sided k",
            options=[("exact (Odeh–Owen)", "exact"), ("Howe approximation", "howe"),
                     ("Guenther approximation", "guenther")],
            value=m.method,
        )
        self.dataset.add_class("cgt-dataset")
        self.attribute.add_class("cgt-attribute")
        self.method.add_class("cgt-method")

        self.about = w.HTML()
        self.table = w.HTML()
        self.table.add_class("cgt-spec-table")
        self.candidate = w.Dropdown(description="Criterion", layout=w.Layout(width="520px"))
        self.candidate.add_class("cgt-candidate")
        self.lots_out = w.Output()
        self.lots_table = w.HTML()
        self.lots_table.add_class("cgt-lots-table")
        self.risk_out = w.Output()
        self.k_out = w.Output()
        self.replay_html = w.HTML()
        self.replay_html.add_class("cgt-replay")
        self.replay_out = w.Output()

        self.flexibility = w.Dropdown(description="Supports", options=FLEXIBILITY_CHOICES[mode],
                                      layout=w.Layout(width="520px"))
        self.justification = w.Textarea(layout=w.Layout(width="100%", height="130px"))
        self.justification.add_class("cgt-justification")
        self.redraft = w.Button(description="Redraft justification", icon="refresh", layout=w.Layout(width="auto"))
        self.accept = w.Button(description="Accept into workbook", button_style="primary", icon="check",
                               layout=w.Layout(width="auto"))
        self.accept.add_class("cgt-accept")
        self.accept_all = w.Button(description="Accept all proposals", icon="check-square",
                                   layout=w.Layout(width="auto"))
        self.accept_all.add_class("cgt-accept-all")
        self.accept_status = StatusArea()
        self.decisions = w.HTML()
        self.decisions.add_class("cgt-decisions")
        self.remove_choice = w.Dropdown(description="Recorded", layout=w.Layout(width="520px"))
        self.remove_button = w.Button(description="Remove from workbook", icon="trash", layout=w.Layout(width="auto"))
        self.remove_button.add_class("cgt-remove-decision")
        self.remove_box = w.HBox([self.remove_choice, self.remove_button])

        self.dataset.observe(self.status.guarded(self._on_dataset), names="value")
        self.attribute.observe(self.status.guarded(self._on_choice), names="value")
        self.method.observe(self.status.guarded(self._on_choice), names="value")
        for box in self.lot_boxes.values():
            box.observe(self.status.guarded(self._on_lot_types), names="value")
        self.candidate.observe(self.status.guarded(self._on_candidate), names="value")
        self.redraft.on_click(self.accept_status.guarded(lambda _b: self._redraft(force=True)))
        self.accept.on_click(self.accept_status.guarded(self._on_accept, busy=[self.accept]))
        self.accept_all.on_click(self.accept_status.guarded(self._on_accept_all, busy=[self.accept_all]))
        self.remove_button.on_click(self.accept_status.guarded(self._on_remove, busy=[self.remove_button]))

        self.widget = self._layout()
        with self.status.guard():
            self.refresh()
        self._show_decisions(self.model.session)

    # -- layout -----------------------------------------------------------
    def _layout(self) -> w.Widget:
        mode = self.model.mode
        text = TEXT[mode]
        lot_row = w.HBox([w.HTML("<b>Set criteria from lots of type:</b>&nbsp;"), *self.lot_boxes.values()])
        lot_row.add_class("cgt-lot-types")
        controls = [w.HBox([self.dataset, self.attribute]), lot_row]
        if mode == "commercial":
            controls.append(self.method)
        body: list[w.Widget] = [w.HTML(text["intro"]), w.VBox(controls), self.about]
        if mode == "investigational":
            body += [section("Proposed investigational criteria, all attributes"), self.table,
                     section("The selected attribute"), self.lots_out, self.lots_table, self.k_out]
        else:
            body += [section("Candidate criteria and their false-OOS risk"), self.table, self.candidate,
                     self.lots_out, self.lots_table, self.risk_out, self.k_out,
                     section("Lifecycle replay: the lots in manufacture order"), self.replay_html, self.replay_out]
        body += [
            section("Record a decision"),
            w.HTML("<p class='cgt-muted'>The draft below cites the method and numbers; edit it before you "
                   "accept. Accepted criteria go into the workbook for the decision record.</p>"),
            self.flexibility, self.justification,
            w.HBox([self.accept, self.redraft] + ([self.accept_all] if mode == "investigational" else [])),
            self.accept_status,
            self.decisions,
            self.remove_box,
        ]
        return page_frame(self.model.page_id, text["title"], text["subtitle"], body, self.status)

    # -- handlers ---------------------------------------------------------
    def _on_dataset(self, change: dict) -> None:
        previous = self.model.dataset
        try:
            self.model.dataset = change["new"]
            options = self.model.attribute_options()
        except Exception:
            self.model.dataset = previous
            raise
        keep = self.model.attribute if self.model.attribute in {a for _l, a in options} else self.model.default_attribute()
        self._set_options(self.attribute, options, keep)
        self.model.attribute = keep
        self.refresh()

    def _on_choice(self, _change: dict) -> None:
        if self._quiet:
            return
        self.model.attribute = self.attribute.value
        self.model.method = self.method.value
        self.refresh()

    def _on_lot_types(self, change: dict) -> None:
        chosen = [t for t, box in self.lot_boxes.items() if box.value]
        if not chosen:
            # keep the last valid selection: tick the box back on
            owner = change["owner"]
            owner.value = True
            self.status.show("error", "Select at least one lot type to set the criteria from.")
            return
        self.model.lot_types = chosen
        self.refresh()

    def _on_candidate(self, change: dict) -> None:
        if self._quiet or change["new"] is None:
            return
        self.model.candidate = change["new"]
        if self.view is not None:
            self._draw_lots(self.view)
            self._redraft()

    def _on_accept(self, _button: w.Button) -> None:
        if self.view is None:
            self.accept_status.show("error", "Nothing to accept yet: fix the message above first.")
            return
        decision = self.model.decision(self.view, self.justification.value, self.flexibility.value)
        session = self.store.update(lambda s: s.with_decision(decision))
        self.model.use_session(session)
        self._show_decisions(session)
        self.accept_status.show("success", f"Recorded in the workbook ({decision.flexibility_id}, {self.view.spec.label}).")

    def _on_accept_all(self, _button: w.Button) -> None:
        decisions = self.model.all_proposal_decisions()

        def add_all(session: Session) -> Session:
            for d in decisions:
                session = session.with_decision(d)
            return session

        session = self.store.update(add_all)
        self.model.use_session(session)
        self._show_decisions(session)
        self.accept_status.show(
            "success",
            f"Recorded {len(decisions)} investigational criteria in the workbook, each with its drafted "
            "justification (attributes without a usable proposal were skipped).",
        )

    def _on_remove(self, _button: w.Button) -> None:
        decision_id = self.remove_choice.value
        if not decision_id:
            self.accept_status.show("error", "No decision recorded on this page to remove.")
            return
        session = self.store.update(lambda s: s.without_decision(decision_id))
        self.model.use_session(session)
        self._show_decisions(session)
        self.accept_status.show("success", "The decision was removed from the workbook.")

    # -- drawing ----------------------------------------------------------
    def refresh(self) -> None:
        """Recompute from the model; on error the previous view stays on screen."""
        try:
            view = self.model.compute()
        except CgtkitError as exc:
            if self.view is None:
                raise
            raise InsufficientDataError(
                f"{exc} The tables and figures below still show the previous selection "
                f"({self.view.spec.label}, {self.view.data.n} lots)."
            ) from exc
        self.view = view
        self._draw_about(view)
        if self.model.mode == "investigational":
            self._draw_proposals(view)
        else:
            self._draw_candidates(view)
            self._draw_replay(view)
        self._draw_lots(view)
        self._draw_k(view)
        safety = self.model.mode == "investigational" and view.fixed
        self.flexibility.value = "CD-SAFETY-ATTRIBUTES" if safety else self.flexibility.options[0][1]
        self._redraft()
        if view.candidates is not None and view.candidates.notes:
            self.status.show("info", " ".join(view.candidates.notes))

    def _draw_about(self, view: SpecView) -> None:
        spec = view.spec
        if view.fixed:
            self.about.value = (
                f"<div class='cgt-card cgt-fixed'><h3>{esc(spec.label)}: fixed safety requirement</h3>"
                f"<p>{esc(spec.fixed_requirement)}</p><p class='cgt-muted'>Source: {esc(spec.source or 'not recorded')}</p>"
                "<p class='cgt-muted'>cgtkit never computes or widens limits for pass/fail safety tests or "
                "dose-derived limits (a design rule of cgtkit, not an FDA statement). Which attributes count as "
                "safety attributes is your call and a topic for the FDA meeting.</p></div>"
            )
            return
        sided, side = sidedness(spec)
        side_text = "two-sided limits" if sided == 2 else f"a {side} limit only"
        scale = "log-normal (analysed on the log scale)" if spec.scale == "lognormal" else "normal"
        censored = int(view.data.lots["censoring"].ne("none").sum())
        extra = ""
        if spec.safety_discussion:
            extra = (" <b>Whether this is a safety attribute is a topic for your FDA meeting</b>: FDA has no "
                     "predefined limit for CAR-T vector copy number; preclinical and engineering-run data inform "
                     "the initial limit (CBER official, public meeting remarks).")
        self.about.value = (
            f"<div class='cgt-card cgt-about'><b>{esc(spec.label)}</b> ({esc(spec.unit)}): {esc(spec.description)} "
            f"Model: {scale}; {side_text}. Lots in the selection: <b>{view.data.n}</b>"
            f"{f', of which {censored} censored at a limit of quantitation' if censored else ''}.{extra}</div>"
        )

    def _draw_proposals(self, view: SpecView) -> None:
        rows = []
        for p in view.proposals:
            current = " style='background:#eef5fc'" if p.attribute == view.spec.id else ""
            if p.kind == "safety_fixed":
                crit = "fixed requirement"
            elif p.ok:
                crit = (f"{_fmt(p.low)} to {_fmt(p.high)}" if p.low is not None and p.high is not None
                        else (f"≥ {_fmt(p.low)}" if p.low is not None else f"≤ {_fmt(p.high)}"))
            else:
                crit = "<span class='cgt-badge cgt-status-later_stage'>needs attention</span>"
            note = esc(p.problem) if p.problem else esc(p.rationale)
            next_lot = _pct(p.next_lot_outside) if p.next_lot_outside is not None else "—"
            rows.append(
                f"<tr{current}><td>{esc(p.label)}</td><td>{esc(p.unit)}</td><td class='num'>{p.n}</td>"
                f"<td>{crit}</td><td class='num'>{next_lot}</td><td class='cgt-muted' style='max-width:520px'>{note}</td></tr>"
            )
        self.table.value = (
            "<table class='cgt-table cgt-proposals'><tr><th>Attribute</th><th>Unit</th><th class='num'>Lots</th>"
            "<th>Proposed criterion</th><th class='num'>Next lot outside</th><th>Basis</th></tr>"
            + "".join(rows) + "</table>"
        )

    def _draw_candidates(self, view: SpecView) -> None:
        if view.candidates is None:
            self.table.value = ""
            self._set_options(self.candidate, [], None)
            self.risk_out.clear_output()
            return
        cs = view.candidates
        head = "".join(f"<th class='num'>next {m}</th>" for m in cs.horizons)
        rows = []
        for c in cs.candidates:
            risks = "".join(f"<td class='num'>{_pct(c.risk[m])}</td>" for m in cs.horizons)
            rows.append(
                f"<tr><td>{esc(c.label)}</td><td class='num'>{_fmt(c.low)}</td><td class='num'>{_fmt(c.high)}</td>"
                f"<td class='num'>{_fmt(c.k, 3)}</td>{risks}<td class='cgt-muted'>{esc(c.method)}</td></tr>"
            )
        self.table.value = (
            f"<p>{cs.n} lots of type {esc(', '.join(self.model.lot_types))}; limits in {esc(cs.unit)}. Risk: "
            "probability that at least one of the next m lots of the same process falls outside.</p>"
            "<table class='cgt-table cgt-candidates'><tr><th>Candidate</th><th class='num'>Low</th>"
            f"<th class='num'>High</th><th class='num'>k</th>{head}<th>Method</th></tr>" + "".join(rows) + "</table>"
        )
        options = [(c.label, c.key) for c in cs.candidates]
        keep = self.model.candidate if self.model.candidate in {k for _l, k in options} else options[0][1]
        self._set_options(self.candidate, options, keep)
        self.model.candidate = keep
        self._show_figure(self.risk_out, build_risk_figure(cs.candidates, cs.horizons))

    def _draw_replay(self, view: SpecView) -> None:
        if view.replay is None:
            self.replay_html.value = (f"<div class='cgt-msg cgt-msg-info'>{esc(view.replay_problem)}</div>"
                                      if view.replay_problem else "")
            self.replay_out.clear_output()
            return
        r = view.replay
        rows = []
        for cp in r.checkpoints:
            flag = ("<span class='cgt-badge cgt-status-later_stage'>re-evaluate</span>" if cp.re_evaluate
                    else "<span class='cgt-badge cgt-status-applies_now'>consistent</span>")
            rows.append(
                f"<tr><td class='num'>{cp.n_lots}</td><td>{esc(cp.through_lot)}</td><td class='num'>{_fmt(cp.low)}</td>"
                f"<td class='num'>{_fmt(cp.high)}</td><td class='num'>{cp.later_outside} / {cp.later_lots}</td>"
                f"<td class='num'>{cp.expected_outside:.1f}</td><td>{flag}</td><td class='cgt-muted'>{esc(cp.verdict)}</td></tr>"
            )
        self.replay_html.value = (
            f"<p>All {len(r.chart_points)} lots of every type, in manufacture order. At each checkpoint the "
            f"criteria are set from the lots so far ({r.coverage:.0%}/{r.confidence_level:.0%} tolerance interval) "
            "and tested on the lots that came after. Retrospective individuals control chart over all lots "
            f"(Western Electric run rules), to tell a real shift from normal variability: <b>{esc(r.chart_verdict)}</b></p>"
            "<table class='cgt-table cgt-replay-table'><tr><th class='num'>After lots</th><th>Through lot</th>"
            "<th class='num'>Low</th><th class='num'>High</th><th class='num'>Later lots outside</th>"
            "<th class='num'>Expected</th><th>Flag</th><th>Reading</th></tr>" + "".join(rows) + "</table>"
        )
        self._show_figure(self.replay_out, build_replay_figure(view.data, r))

    def _draw_lots(self, view: SpecView) -> None:
        self.lots_table.value = lots_table_html(view)
        if view.fixed or view.data.n == 0:
            self.lots_out.clear_output()
            return
        low = high = None
        label = ""
        if view.candidates is not None:
            chosen = view.candidates.get(self.model.candidate)
            low, high, label = chosen.low, chosen.high, chosen.label
        else:
            p = next((p for p in view.proposals if p.attribute == view.spec.id and p.ok), None)
            if p is not None:
                low, high, label = p.low, p.high, "proposed"
        scale = "log" if view.spec.scale == "lognormal" else "normal"
        self._show_figure(self.lots_out, build_lots_figure(view.data, low, high, label, scale))

    def _draw_k(self, view: SpecView) -> None:
        if view.k_table is None:
            self.k_out.clear_output()
            return
        sided, _ = sidedness(view.spec)
        self._show_figure(self.k_out, build_k_vs_n_figure(view.k_table, max(view.data.n, 2), sided))

    def _set_options(self, dropdown: w.Dropdown, options: list[tuple[str, str]], value: str | None) -> None:
        """Replace a dropdown's options without firing its handler for the intermediate values."""
        self._quiet = True
        try:
            dropdown.options = options
            dropdown.value = value
        finally:
            self._quiet = False

    @staticmethod
    def _show_figure(out: w.Output, fig: object) -> None:
        out.clear_output(wait=True)
        with out:
            display(fig)

    def _redraft(self, force: bool = False) -> None:
        """Replace the justification with a fresh draft unless the user has edited it."""
        if self.view is None:
            return
        draft = self.model.default_justification(self.view)
        edited = self.justification.value.strip() and self.justification.value != self._draft
        if edited and not force:
            self.accept_status.show("info", "Your edited justification is kept; click 'Redraft justification' "
                                            "for a new draft from the current choices.")
        else:
            self.justification.value = draft
        self._draft = draft

    def _show_decisions(self, session: Session) -> None:
        mine = session.decisions_for(self.model.page_id)
        self._set_options(self.remove_choice, [
            (f"{d.timestamp:%Y-%m-%d %H:%M} — {d.inputs.get('attribute', '')} — {d.flexibility_id}", d.id)
            for d in reversed(mine)
        ], mine[-1].id if mine else None)
        self.remove_box.layout.display = "flex" if mine else "none"
        if not mine:
            self.decisions.value = "<p class='cgt-muted'>No decisions recorded on this page yet.</p>"
            return
        rows = "".join(
            f"<tr><td>{esc(d.timestamp.strftime('%Y-%m-%d %H:%M'))} UTC</td><td>{esc(d.flexibility_id)}</td>"
            f"<td>{esc(d.inputs.get('attribute', ''))}</td><td>{esc(d.method)}</td>"
            f"<td class='num'>{_fmt(d.result.get('low'))}</td><td class='num'>{_fmt(d.result.get('high'))}</td></tr>"
            for d in mine
        )
        self.decisions.value = (
            f"<p>Decisions recorded on this page: <b>{len(mine)}</b></p><table class='cgt-table'><tr><th>When</th>"
            "<th>Flexibility</th><th>Attribute</th><th>Method</th><th class='num'>Low</th><th class='num'>High</th></tr>"
            + rows + "</table>"
        )


def build_page(store: WorkbookStore, page_id: str) -> w.Widget:
    mode = "investigational" if page_id == "clinical_development" else "commercial"
    return SpecificationsView(store, mode).widget
