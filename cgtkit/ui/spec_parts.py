"""What the two specifications pages show alike: the attribute card, the lots table and
figure, the k-versus-n figure, and the panel that records decisions in the workbook.

Pure renderers take results and return HTML; :class:`DecisionPanel` is a widget
group that drafts a justification from the page's model, records the decision
through the workbook store, and lists and removes the page's decisions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as w
import pandas as pd

from cgtkit import decisions
from cgtkit.analyses.specifications import AttributeData
from cgtkit.attributes import AttributeSpec
from cgtkit.decisions import Decision
from cgtkit.plots.specifications import build_k_vs_n_figure, build_lots_figure
from cgtkit.session import Session, WorkbookStore
from cgtkit.tables import Column, html_table, text
from cgtkit.ui.shell import Confirm, StatusArea, esc, show_figure
from cgtkit.vocab import AttributeKind


def section(title: str) -> w.HTML:
    return w.HTML(f"<div class='cgt-section-title'>{esc(title)}</div>")


def fixed_requirement_html(spec: AttributeSpec) -> str:
    return (
        f"<div class='cgt-card cgt-fixed'><h3>{esc(spec.label)}: fixed safety requirement</h3>"
        f"<p>{esc(spec.fixed_requirement)}</p><p class='cgt-muted'>Source: {esc(spec.source or 'not recorded')}</p>"
        "<p class='cgt-muted'>cgtkit never computes or widens limits for pass/fail safety tests or "
        "dose-derived limits (a design rule of cgtkit, not an FDA statement). Which attributes count as "
        "safety attributes is your call and a topic for the FDA meeting.</p></div>"
    )


def about_html(data: AttributeData) -> str:
    """The attribute card: what it is, its model and sides, how many lots the selection holds."""
    spec = data.spec
    if spec.kind is AttributeKind.SAFETY_FIXED:
        return fixed_requirement_html(spec)
    side_text = {"two_sided": "two-sided limits", "lower": "a lower limit only", "upper": "an upper limit only"}[
        spec.limit_side.value]
    censored = int(data.lots["censoring"].ne("none").sum())
    extra = ""
    if spec.safety_discussion:
        extra = (" <b>Whether this is a safety attribute is a topic for your FDA meeting</b>: FDA has no "
                 "predefined limit for CAR-T vector copy number; preclinical and engineering-run data inform "
                 "the initial limit (CBER official, public meeting remarks).")
    return (
        f"<div class='cgt-card cgt-about'><b>{esc(spec.label)}</b> ({esc(spec.unit)}): {esc(spec.description)} "
        f"Model: {spec.scale.label}; {side_text}. Lots in the selection: <b>{data.n}</b>"
        f"{f', of which {censored} censored at a limit of quantitation' if censored else ''}.{extra}</div>"
    )


def lots_frame(data: AttributeData) -> pd.DataFrame:
    """The selected lots as read from the data file, results written as reported ("<0.5", "pass")."""
    lots = data.lots
    prefix = lots["censoring"].astype(str).map({"left": "<", "right": ">"}).fillna("")
    numbers = lots["value"].map(lambda v: f"{v:.4g}" if pd.notna(v) else "")
    result = prefix + numbers
    if "result" in lots:
        reported = lots["result"].where(lots["result"].map(lambda r: isinstance(r, str) and bool(r)))
        result = reported.fillna(result)
    return pd.DataFrame({
        "lot_id": lots["lot_id"].astype(str),
        "lot_type": lots["lot_type"].astype(str),
        "manufactured": pd.to_datetime(lots["manufacture_date"]).dt.strftime("%Y-%m-%d"),
        "result": result,
    })


def lots_table_html(data: AttributeData) -> str:
    """The selected lots as a collapsible table."""
    if data.lots.empty:
        return ""
    table = html_table(lots_frame(data), [
        Column("lot_id", "Lot"), Column("lot_type", "Type"), Column("manufactured", "Manufactured"),
        Column("result", f"Result ({data.spec.unit})", text, numeric=True),
    ], css="cgt-lots")
    return f"<details><summary>The {data.n} lots of this selection, in manufacture order</summary>{table}</details>"


def show_lots(out: w.Output, data: AttributeData, low: float | None, high: float | None, label: str) -> None:
    """The lots figure with the limits shown (none for a fixed safety attribute)."""
    if data.spec.kind is AttributeKind.SAFETY_FIXED or data.n == 0:
        out.outputs = ()
        return
    show_figure(out, build_lots_figure(data, low, high, label, data.spec.scale))


def show_k(out: w.Output, k_table: pd.DataFrame | None, data: AttributeData) -> None:
    if k_table is None:
        out.outputs = ()
        return
    show_figure(out, build_k_vs_n_figure(k_table, max(data.n, 2), data.spec.limit_side.sided))


def decisions_html(recorded: Sequence[Decision]) -> str:
    """The page's decisions: one table row per criterion, then each decision in words. Both come
    from :mod:`cgtkit.decisions`, as in the decision record."""
    if not recorded:
        return "<p class='cgt-muted'>No decisions recorded on this page yet.</p>"
    rows = [row for d in recorded for row in decisions.rows(d)]
    count = f"<b>{len(recorded)}</b>" + (f" ({len(rows)} criteria)" if len(rows) != len(recorded) else "")
    table = html_table(pd.DataFrame(rows, columns=list(decisions.COLUMNS)),
                       [Column(key, title) for key, title in decisions.COLUMNS.items()], css="cgt-decisions-table")
    words = "".join(f"<li>{esc(decisions.summary(d))}"
                    + (f" <b>To review:</b> {esc(d.review)}" if d.review else "") + "</li>" for d in recorded)
    to_review = sum(1 for d in recorded if d.review)
    if to_review:
        count += f" — <b>{to_review} to review</b> (see below)"
    return (f"<p>Decisions recorded on this page: {count}</p>{table}"
            f"<details{' open' if to_review else ''}><summary>The decisions in words</summary><ul>{words}</ul></details>")


class DecisionPanel:
    """Draft, accept, list and remove the page's decisions.

    ``draft()`` gives the model's justification draft for what is on screen and
    ``subject()`` what it is about (an attribute, or an attribute and candidate);
    ``decide(justification, flexibility_id)`` returns the typed decision. A text
    belongs to its subject: switching subject shows that subject's own text (the
    user's edit if there was one, else a fresh draft), so a justification is
    never recorded for another attribute; an edit is never replaced without the
    user asking (Redraft).
    """

    def __init__(self, store: WorkbookStore, page_id: str, flexibilities: Sequence[tuple[str, str]],
                 draft: Callable[[], str], decide: Callable[[str, str], Decision],
                 on_recorded: Callable[[Session], None], subject: Callable[[], object]) -> None:
        self.store, self.page_id = store, page_id
        self._draft_fn, self._decide, self._on_recorded, self._subject = draft, decide, on_recorded, subject
        self._draft = ""
        self._current: object = None
        self._edits: dict[object, str] = {}  # the user's own text per subject
        self.status = StatusArea()
        self.flexibility = w.Dropdown(description="Supports", options=list(flexibilities),
                                      layout=w.Layout(width="520px"))
        self.justification = w.Textarea(layout=w.Layout(width="100%", height="130px"))
        self.justification.add_class("cgt-justification")
        self.redraft = w.Button(description="Redraft justification", icon="refresh", layout=w.Layout(width="auto"))
        self.accept = w.Button(description="Accept into workbook", button_style="primary", icon="check",
                               layout=w.Layout(width="auto"))
        self.accept.add_class("cgt-accept")
        self.decisions = w.HTML()
        self.decisions.add_class("cgt-decisions")
        self.remove_choice = w.Dropdown(description="Recorded", layout=w.Layout(width="520px"))
        self.remove_button = w.Button(description="Remove from workbook", icon="trash", layout=w.Layout(width="auto"))
        self.remove_button.add_class("cgt-remove-decision")
        self.confirm = Confirm(self.status, yes="Yes, remove it")
        self.confirm_remove, self.cancel_remove = self.confirm.yes, self.confirm.cancel
        self.remove_box = w.VBox([w.HBox([self.remove_choice, self.remove_button]), self.confirm.widget])
        self.buttons = w.HBox([self.accept, self.redraft])

        self.redraft.on_click(self.status.guarded(lambda _b: self.redraw_draft(force=True)))
        self.accept.on_click(self.status.guarded(self._on_accept, busy=[self.accept]))
        self.remove_button.on_click(self.status.guarded(self._ask_remove))
        self.widget = w.VBox([
            section("Record a decision"),
            w.HTML("<p class='cgt-muted'>The draft below cites the method and numbers; edit it before you "
                   "accept. Accepted criteria go into the workbook for the decision record.</p>"),
            self.flexibility, self.justification, self.buttons, self.status, self.decisions, self.remove_box,
        ])

    def add_button(self, button: w.Button) -> None:
        self.buttons.children = (*self.buttons.children, button)

    def _edited(self) -> bool:
        return bool(self.justification.value.strip()) and self.justification.value != self._draft

    def redraw_draft(self, force: bool = False) -> None:
        """The text for what is on screen: its subject's own edit, else a fresh draft."""
        draft, subject = self._draft_fn(), self._subject()
        if subject != self._current:
            if self._current is not None and self._edited():
                self._edits[self._current] = self.justification.value
            self._current = subject
            own = None if force else self._edits.get(subject)
            self.justification.value = own if own is not None else draft
            self._draft = draft
            if own is not None:
                self.status.show("info", "Your edited justification for this choice is back; click 'Redraft "
                                         "justification' for a new draft.")
            return
        if self._edited() and not force:
            self.status.show("info", "Your edited justification is kept; click 'Redraft justification' "
                                     "for a new draft from the current choices.")
        else:
            self.justification.value = draft
            self._edits.pop(subject, None)
        self._draft = draft

    def record(self, decision: Decision, message: str) -> None:
        session = self.store.update(lambda s: s.with_decision(decision))
        self._on_recorded(session)
        self.show(session)
        replaced = len(session.decisions[-1].superseded)
        if replaced:
            message += (f" It replaces {'an earlier decision' if replaced == 1 else f'{replaced} earlier decisions'} "
                        "on the same attribute(s), kept in its history.")
        self.status.show("success", message)

    def show(self, session: Session) -> None:
        mine = session.decisions_for(self.page_id)
        self.remove_choice.options = [(decisions.label(d), d.id) for d in reversed(mine)]
        self.remove_choice.value = mine[-1].id if mine else None  # the newest first
        self.remove_box.layout.display = "flex" if mine else "none"
        self.decisions.value = decisions_html(mine)

    def _on_accept(self, _button: w.Button) -> None:
        decision = self._decide(self.justification.value, self.flexibility.value)
        self.record(decision, f"Recorded in the workbook: {decisions.label(decision)}.")

    def _ask_remove(self, _button: w.Button) -> None:
        """Removing is not undone: name the decision and ask first."""
        if not self.remove_choice.value:
            self.status.show("error", "No decision recorded on this page to remove.")
            return
        self.confirm.ask(f"Remove the decision {self.remove_choice.label} from the workbook? This cannot be "
                         "undone; download the workbook first to keep a copy.", self._remove)

    def _remove(self) -> None:
        decision_id = self.remove_choice.value
        if not decision_id:
            self.status.show("error", "No decision recorded on this page to remove.")
            return
        removed = self.remove_choice.label
        session = self.store.update(lambda s: s.without_decision(decision_id))
        self._on_recorded(session)
        self.show(session)
        self.status.show("success", f"The decision was removed from the workbook ({removed}).")


def data_key(session: Session) -> tuple[tuple[str, object], ...]:
    """What a page's results depend on: the data sets and when each was loaded."""
    return tuple((name, ds.loaded_at) for name, ds in session.datasets.items())


class SpecificationsPageView:
    """What a specifications page's view does alike: follow its model, and follow the workbook.

    :meth:`_bind` draws the model's result and observes it (``_draw``, which the
    page implements) and its problem (shown in the status line). ``on_show``
    follows the workbook when another page or tab changed it: new or removed
    data sets update the model's selection (keeping choices that still exist);
    other changes (decisions) only refresh the decision list. The view's own
    writes do not count as changes from elsewhere.
    """

    model: Any
    store: WorkbookStore
    status: StatusArea
    panel: DecisionPanel
    lots_table: w.HTML

    def _lots_table(self, result: Any) -> None:
        """The lots table, rebuilt only when the lots shown change (not for a new k method or candidate)."""
        sel = self.model.selection
        key = (sel.dataset, sel.attribute, tuple(sel.lot_types), tuple(sel.process_versions), id(sel.session))
        if key != getattr(self, "_lots_key", None):
            self.lots_table.value = lots_table_html(result.data)
            self._lots_key = key

    def _draw(self, result: Any) -> None:
        raise NotImplementedError

    def _bind(self) -> None:
        self.model.observe(lambda c: self._draw(c["new"]), names="result")
        self.model.observe(self._on_problem, names="problem")
        self._seen = self.store.stamp()
        self._data_key = data_key(self.model.selection.session)
        if self.model.result is not None:
            self._draw(self.model.result)
        self._on_problem({"new": self.model.problem})
        self.panel.show(self.model.selection.session)

    def _on_problem(self, change: dict[str, Any]) -> None:
        if change["new"]:
            self.status.show("error", change["new"])

    def _recorded(self, session: Session) -> None:
        self.model.selection.session = session
        self._seen = self.store.stamp()

    def on_show(self) -> None:
        stamp = self.store.stamp()
        if stamp == self._seen:
            return
        self._seen = stamp
        with self.status.guard():
            session = self.store.load()
            key = data_key(session)
            if key != self._data_key:
                self._data_key = key
                self.model.use_session(session)
            else:
                self.model.selection.session = session
            self.panel.show(session)
