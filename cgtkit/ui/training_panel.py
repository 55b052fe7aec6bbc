"""The home page's training cases: open a prepared case in a workbook of its own, and come back.

Opening a case points the app's one :class:`~cgtkit.session.WorkbookStore` at the
user's copy of the case (:mod:`cgtkit.training`), so every page works on the
case until the user goes back to their own workbook, which is never written
meanwhile. The panel says which workbook is open and where each is kept, and
shows the open case's brief and tasks. ``?case=<id>`` in the app's URL opens a
case directly (Binder links).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import ipywidgets as w

from cgtkit import training
from cgtkit.errors import CgtkitError
from cgtkit.session import Session, WorkbookStore, default_workbook_path
from cgtkit.ui.shell import Confirm, StatusArea, esc, page_link_html


def brief_html(case: training.TrainingCase, path: Path, own: Path) -> str:
    """The open case: where its copy and the user's own workbook are, its brief and its tasks."""
    paragraphs = "".join(f"<p>{esc(p)}</p>" for p in case.paragraphs)
    tasks = "".join(f"<li>{page_link_html(t.page)}: {esc(t.do)}</li>" for t in case.tasks)
    return (
        f"<div class='cgt-card cgt-case-open'><h3>Training case open: <span class='cgt-case-title'>"
        f"{esc(case.title)}</span></h3>"
        f"<p class='cgt-case-where'>Every page now works on your copy of this case, kept at "
        f"<code class='cgt-case-path'>{esc(path)}</code>. Your own workbook, at <code>{esc(own)}</code>, is "
        "not changed; <i>Back to my workbook</i> returns to it.</p>"
        f"<div class='cgt-case-brief'>{paragraphs}</div>"
        f"<h4>What to work out</h4><ol class='cgt-case-tasks'>{tasks}</ol>"
        "<p class='cgt-muted'>The case's data are cgtkit's synthetic example data, not a real product.</p></div>"
    )


class TrainingPanel(w.VBox):
    """Choose and open a training case; while one is open, its brief and the way back."""

    def __init__(self, store: WorkbookStore, on_switch: Callable[[Session], None], own: Path | None = None) -> None:
        self.store = store
        self.on_switch = on_switch
        self.own = own or default_workbook_path()
        self.status = StatusArea()  # under the chooser
        self.case_status = StatusArea()  # under the open case's brief
        self.confirm = Confirm(self.case_status)
        self.notice = w.HTML()
        cases = training.load_cases()
        self.case_choice = w.Dropdown(options=[(c.title, c.id) for c in cases.values()], description="Case",
                                      layout=w.Layout(width="560px"))
        self.case_choice.add_class("cgt-case-choice")
        self.open_button = w.Button(description="Open this case", icon="graduation-cap", layout=w.Layout(width="auto"))
        self.open_button.add_class("cgt-open-case")
        self.back_button = w.Button(description="Back to my workbook", icon="arrow-left", button_style="primary",
                                    layout=w.Layout(width="auto"))
        self.back_button.add_class("cgt-back-to-own")
        self.restart_button = w.Button(description="Start this case again", icon="refresh", layout=w.Layout(width="auto"))
        self.restart_button.add_class("cgt-restart-case")
        self.case_buttons = w.HBox([self.back_button, self.restart_button])
        #: the open case (brief, way back): the home page shows it first, where a case link lands
        self.header = w.VBox([self.notice, self.case_buttons, self.case_status, self.confirm.widget])
        self.header.add_class("cgt-case-header")
        self.open_button.on_click(self.status.guarded(self._on_open, busy=[self.open_button]))
        self.back_button.on_click(self.case_status.guarded(self._on_back, busy=[self.back_button]))
        self.restart_button.on_click(self.case_status.guarded(self._on_restart))
        super().__init__([
            w.HTML("<p class='cgt-muted'>Worked cases for classes and new team members, each a prepared "
                   "workbook with a brief. A case opens in a workbook file of its own, beside yours: your "
                   "workbook is not changed.</p>"),
            w.HBox([self.case_choice, self.open_button]),
            self.status,
        ])
        self.add_class("cgt-training-panel")
        self.show_state()
        try:
            training.requested_case()
        except CgtkitError as exc:  # ?case= names no case: the app opened the user's own workbook
            self.status.show("error", f"{exc} Your own workbook is open; choose a case below.")

    @property
    def open_case(self) -> str | None:
        """The id of the case the app is working on, or None for the user's own workbook."""
        return training.open_case_id(self.store.path, own=self.own)

    def show_state(self) -> None:
        """Show the open case's brief and the way back, or nothing while the user's own workbook is open."""
        case_id = self.open_case
        if case_id is None:
            self.notice.value = ""
            self.case_buttons.layout.display = "none"
            return
        self.notice.value = brief_html(training.case(case_id), self.store.path, self.own)
        self.case_buttons.layout.display = "flex"
        self.case_choice.value = case_id

    def _switched(self, session: Session) -> None:
        self.show_state()
        self.on_switch(session)

    def open_training_case(self, case_id: str) -> None:
        """Open a case (used by the button, and by the app for ``?case=``)."""
        session, new = training.open_case(self.store, case_id, own=self.own)
        self._switched(session)
        title = training.case(case_id).title
        self.status.show("success", f"Opened the training case '{title}'" + (
            "" if new else ", where you left it") + ": its brief, and the way back to your own workbook, are at "
            "the top of this page.")

    def _on_open(self, _button: w.Button) -> None:
        self.confirm.close()
        self.case_status.clear()
        if self.case_choice.value:
            self.open_training_case(self.case_choice.value)

    def _on_back(self, _button: w.Button) -> None:
        self.confirm.close()
        self.status.clear()
        session = training.return_to_own(self.store, own=self.own)
        self._switched(session)
        self.case_status.show("success", f"Back to your own workbook ({self.own}). Your copy of the case is kept; "
                                    "open the case again to go on with it.")

    def _on_restart(self, _button: w.Button) -> None:
        case_id = self.open_case
        if case_id is None:
            return
        self.confirm.ask(f"Start '{training.case(case_id).title}' again from the prepared workbook? What you did "
                         "in this case is lost; your own workbook is not touched.",
                         lambda: self._restart(case_id), yes="Yes, start the case again")

    def _restart(self, case_id: str) -> None:
        self._switched(training.restart_case(self.store, case_id, own=self.own))
        self.case_status.show("success", "The case is back to its prepared workbook.")
