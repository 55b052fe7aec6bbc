"""The Decision record page: the workbook's decisions as a document for an FDA meeting.

A preview of the record, one-click downloads (HTML, Markdown, Word, and the
decision table as XLSX), the meeting questions with the sponsor's position to
reword before exporting (kept in the workbook), the audit trail with its
verification, and a save-as of the workbook under a name the user types.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from cgtkit.session import Session, WorkbookStore
from cgtkit.tables import Column, html_table
from cgtkit.ui.decision_panel import section
from cgtkit.ui.decision_record_model import PAGE_ID, DecisionRecordModel, export, save_as_name
from cgtkit.ui.download import DownloadButton
from cgtkit.ui.shell import Confirm, StatusArea, esc, message_html, page_frame

TITLE = "Decision record"
SUBTITLE = ("Every decision of the workbook, with its data, statistics and sources, and the questions for FDA: "
            "the document for your meeting package.")
INTRO = ("<p>The record is rebuilt from the saved workbook each time you download it: the decisions you accepted "
         "on the module pages, grouped by area, each with its inputs, method, result, figures, justification and "
         "the sources of the flexibility it uses (with the grade of each), then the questions for FDA with your "
         "position, an appendix of the data and methods, and an audit block a reviewer can check with "
         "<code>cgtkit verify</code>.</p>")


def audit_html(model: DecisionRecordModel) -> str:
    """The verification status and the newest entries of the audit log."""
    check = model.check
    kind = "success" if check.ok else "error"
    rows = model.audit_rows()
    table = html_table(rows, [Column("index", "Entry", numeric=True), Column("time", "When"),
                              Column("summary", "What changed"), Column("hash", "Entry SHA-256 (start)")],
                       css="cgt-audit-log") if rows else ""
    more = len(model.session.audit) - len(rows)
    note = (f"<p class='cgt-muted'>The {len(rows)} newest of {len(model.session.audit)} entries; every entry is in "
            "the exports' audit appendix.</p>" if more > 0 else "")
    return f"<div class='cgt-audit-status'>{message_html(kind, check.sentence())}</div>{table}{note}"


class QuestionEditor:
    """One question for FDA and the sponsor's position, as two text boxes."""

    def __init__(self, number: int, flexibility_id: str, title: str, grade: str, question: str, position: str,
                 edited: bool) -> None:
        self.flexibility_id = flexibility_id
        origin = "your wording" if edited else "cgtkit's draft"
        self.head = w.HTML(f"<b>Question {number}</b> ({esc(flexibility_id)}: {esc(title)}) "
                           f"<span class='cgt-muted'>basis: {esc(grade)}; {origin}</span>")
        self.question = w.Textarea(value=question, layout=w.Layout(width="98%", height="56px"))
        self.question.add_class(f"cgt-question-{flexibility_id}")
        self.position = w.Textarea(value=position, layout=w.Layout(width="98%", height="56px"))
        self.position.add_class(f"cgt-position-{flexibility_id}")
        self.widget = w.VBox([self.head, self.question, w.HTML("<i>Sponsor's position</i>"), self.position])
        self.widget.add_class("cgt-question-editor")


class DecisionRecordView:
    """The page's widgets over its model; ``on_show`` follows a workbook changed elsewhere."""

    def __init__(self, model: DecisionRecordModel, store: WorkbookStore) -> None:
        self.model, self.store = model, store
        self.status = StatusArea()
        self.confirm = Confirm(self.status, yes="Yes, back to cgtkit's drafts")
        self.downloads = {
            fmt: DownloadButton(lambda fmt=fmt: self._export(fmt), self.status, description=label)
            for fmt, label in (("html", "HTML report"), ("md", "Markdown"), ("docx", "Word document"),
                               ("xlsx", "Decision table (XLSX)"))}
        for fmt, button in self.downloads.items():
            button.add_class(f"cgt-download-{fmt}")
        self.questions_box = w.VBox()
        self.questions_box.add_class("cgt-questions")
        self.editors: list[QuestionEditor] = []
        self.save_questions = w.Button(description="Save the questions", button_style="primary", icon="check",
                                       layout=w.Layout(width="auto"))
        self.save_questions.add_class("cgt-save-questions")
        self.reset_questions = w.Button(description="Back to cgtkit's drafts", icon="undo", layout=w.Layout(width="auto"))
        self.reset_questions.add_class("cgt-reset-questions")
        self.audit = w.HTML()
        self.audit.add_class("cgt-audit")
        self.verify_button = w.Button(description="Verify the audit trail", icon="shield", layout=w.Layout(width="auto"))
        self.verify_button.add_class("cgt-verify")
        self.save_name = w.Text(placeholder="file name, e.g. RX-401 before the EOP2 meeting",
                                layout=w.Layout(width="360px"))
        self.save_name.add_class("cgt-save-name")
        self.save_as = DownloadButton(self._workbook_copy, self.status, description="Save the workbook as")
        self.save_as.add_class("cgt-save-as")
        self.preview = w.HTML()
        self.preview.add_class("cgt-record-preview")

        self.save_questions.on_click(self.status.guarded(self._on_save_questions, busy=[self.save_questions]))
        self.reset_questions.on_click(self.status.guarded(self._ask_reset))
        self.verify_button.on_click(self.status.guarded(self._on_verify))
        self.widget = page_frame(PAGE_ID, TITLE, SUBTITLE, [
            w.HTML(INTRO),
            section("Download the record"),
            w.HBox(list(self.downloads.values())),
            w.HTML("<p class='cgt-muted'>The HTML report opens offline in any browser with its figures interactive; "
                   "the Word document gives each figure as a picture followed by its numbers as a table, for editing; "
                   "the XLSX table lists every decision's rows.</p>"),
            section("Questions for FDA and your position"),
            w.HTML("<p class='cgt-muted'>cgtkit drafts a question for each flexibility in play; reword them and your "
                   "position before you export. Saved wording is kept in the workbook and used by every export.</p>"),
            self.questions_box, w.HBox([self.save_questions, self.reset_questions]), self.confirm.widget,
            section("Audit trail"),
            w.HTML("<p class='cgt-muted'>Every change to the workbook is logged with the SHA-256 of the entry "
                   "before it, so an edit made outside cgtkit shows where the chain breaks.</p>"),
            w.HBox([self.verify_button]), self.audit,
            section("Save a copy of the workbook"),
            w.HTML("<p class='cgt-muted'>The workbook is saved on the server after every change. Keep a copy under "
                   "a name of your choice (open it again on the Home page).</p>"),
            w.HBox([self.save_name, self.save_as]),
            section("Preview"),
            self.preview,
        ], self.status)
        model.observe(lambda _c: self._draw(), names="record")
        model.observe(self._on_problem, names="problem")
        model.observe(lambda _c: self._draw_audit(), names="check")
        self._seen = store.stamp()
        self._draw()
        self._draw_audit()
        self._on_problem({"new": model.problem})

    # -- drawing ---------------------------------------------------------------------
    def _draw(self) -> None:
        from cgtkit.record import render_html

        record = self.model.record
        if record is None:
            return
        self.preview.value = render_html(record, standalone=False)
        self.editors = [QuestionEditor(q.number, q.flexibility_id, q.title, q.grade, q.question, q.position, q.edited)
                        for q in record.questions]
        self.questions_box.children = ([e.widget for e in self.editors] if self.editors else
                                       [w.HTML("<p class='cgt-muted'>No question yet: describe the product on Start "
                                               "here, and cgtkit drafts one for each flexibility in play.</p>")])

    def _draw_audit(self) -> None:
        if self.model.check is not None:
            self.audit.value = audit_html(self.model)

    def _on_problem(self, change: dict[str, Any]) -> None:
        if change["new"]:
            self.status.show("error", change["new"])

    # -- handlers ---------------------------------------------------------------------
    def _latest(self) -> Session:
        """The workbook as saved now, followed by the page."""
        session = self.store.load()
        self._seen = self.store.stamp()
        self.model.use_session(session)
        return session

    def _export(self, fmt: str) -> tuple[str, bytes, str]:
        return export(self._latest(), fmt)

    def _workbook_copy(self) -> tuple[str, bytes, str]:
        name = save_as_name(self.save_name.value)
        session = self.store.load()
        return name, session.to_json().encode("utf-8"), "application/json"

    def _on_save_questions(self, _button: w.Button) -> None:
        texts = {e.flexibility_id: (e.question.value, e.position.value) for e in self.editors}
        change = self.model.question_changes(texts)
        before = self.store.load()
        session = self.store.update(change)
        self._seen = self.store.stamp()
        self.model.use_session(session)
        edited = len(session.meeting_questions)
        if session.audit == before.audit:
            self.status.show("info", "Nothing to save: the questions are as saved.")
        else:
            self.status.show("success", f"Saved in the workbook: {edited} question(s) in your wording, the others "
                                        "as cgtkit drafts them.")

    def _ask_reset(self, _button: w.Button) -> None:
        edited = len(self.store.load().meeting_questions)
        if not edited:
            self.status.show("info", "Every question is already cgtkit's draft.")
            return
        self.confirm.ask(f"Replace your wording of {edited} question(s) with cgtkit's drafts? Your wording is not "
                         "kept (download the record first to keep a copy).", self._reset)

    def _reset(self) -> None:
        session = self.store.update(self.model.reset_questions)
        self._seen = self.store.stamp()
        self.model.use_session(session)
        self.status.show("success", "The questions are back to cgtkit's drafts.")

    def _on_verify(self, _button: w.Button) -> None:
        session = self._latest()
        check = self.model.check
        if check.ok:
            self.status.show("success", f"Verified: {len(session.audit)} entries, chain head {check.head}.")
        else:
            self.status.show("error", check.sentence())

    def on_show(self) -> None:
        stamp = self.store.stamp()
        if stamp == self._seen:
            return
        with self.status.guard():
            self._latest()


def build_page(store: WorkbookStore, page_id: str = PAGE_ID) -> DecisionRecordView:
    """The page's entry point: the model from the saved workbook, then its view."""
    return DecisionRecordView(DecisionRecordModel(store.load()), store)
