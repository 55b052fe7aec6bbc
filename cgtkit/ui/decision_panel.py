"""The panel that records a page's decisions in the workbook, shared by every page that decides.

:class:`DecisionPanel` drafts a justification from the page's model, records the
typed decision through the workbook store (replacing an earlier decision on the
same subject, kept in its history), and lists and removes the page's decisions,
asking first. The words come from :mod:`cgtkit.decisions`, as in the decision
record.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import ipywidgets as w
import pandas as pd

from cgtkit import decisions
from cgtkit.decisions import Decision
from cgtkit.errors import InsufficientDataError
from cgtkit.session import Session, WorkbookStore
from cgtkit.tables import Column, html_table
from cgtkit.ui.shell import Confirm, StatusArea, esc
from cgtkit.vocab import DatasetKind


def section(title: str) -> w.HTML:
    return w.HTML(f"<div class='cgt-section-title'>{esc(title)}</div>")


CRITERIA_KINDS = frozenset({"commercial_criterion", "investigational_criteria"})


def decisions_html(recorded: Sequence[Decision]) -> str:
    """The page's decisions: one table row per criterion, then each decision in words. Both come
    from :mod:`cgtkit.decisions`, as in the decision record."""
    if not recorded:
        return "<p class='cgt-muted'>No decisions recorded on this page yet.</p>"
    rows = [row for d in recorded for row in decisions.rows(d)]
    noun = "criteria" if all(d.kind in CRITERIA_KINDS for d in recorded) else "rows"
    count = f"<b>{len(recorded)}</b>" + (f" ({len(rows)} {noun})" if len(rows) != len(recorded) else "")
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
                 on_recorded: Callable[[Session], None], subject: Callable[[], object],
                 kind: str | None = None) -> None:
        self.store, self.page_id, self.kind = store, page_id, kind  # kind: list only that kind (a page with two)
        self._draft_fn, self._decide, self._on_recorded, self._subject = draft, decide, on_recorded, subject
        self._draft = ""
        self._current: object = None
        self._edits: dict[object, str] = {}  # the user's own text per subject
        self.status = StatusArea()
        self.flexibility = w.Dropdown(description="Supports", options=list(flexibilities),
                                      layout=w.Layout(width="760px", max_width="100%"))  # labels whole
        self.justification = w.Textarea(
            placeholder="No draft yet: the page has no result to cite (see its message above). Write your "
                        "justification here, or come back once it has one.",
            layout=w.Layout(width="100%", height="130px"))
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
        mine = tuple(d for d in session.decisions_for(self.page_id) if self.kind in (None, d.kind))
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


def lot_datasets(session: Session) -> list[str]:
    """The workbook's lot data sets, in order; none is a problem the user fixes on the Home page."""
    names = [name for name, ds in session.datasets.items() if ds.kind is DatasetKind.LOTS]
    if not names:
        raise InsufficientDataError("The workbook holds no lot data: load a lot data file on the Home page.")
    return names


class FollowsWorkbook:
    """What a page view does to follow the workbook: record what it has seen, and on being shown again
    (``on_show``) reload a workbook changed by another page or tab.

    A view sets ``store``, ``status`` and ``panel`` (or overrides :meth:`_panels` when it has several),
    calls :meth:`_seen_now` once built, and implements :meth:`_set_session` (the new workbook, same
    data: decisions or profile changed) and :meth:`_use_session` (data sets added, replaced or
    removed: recompute).
    """

    store: WorkbookStore
    status: StatusArea
    panel: DecisionPanel

    def _set_session(self, session: Session) -> None:
        raise NotImplementedError

    def _use_session(self, session: Session) -> None:
        raise NotImplementedError

    def _panels(self) -> tuple[DecisionPanel, ...]:
        return (self.panel,)

    def _seen_now(self, session: Session) -> None:
        self._seen = self.store.stamp()
        self._data_key = data_key(session)

    def _recorded(self, session: Session) -> None:
        """The panel recorded or removed a decision: the page's workbook is that one."""
        self._set_session(session)
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
                self._use_session(session)
            else:
                self._set_session(session)
            for panel in self._panels():
                panel.show(session)
