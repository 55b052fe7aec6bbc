"""The Decision record page's state, without widgets.

The page shows the decision record (:mod:`cgtkit.record`) of the workbook as it
is saved, lets the sponsor reword the meeting questions and their position (kept
in the workbook, so every export and every later visit uses them), exports the
record as HTML, Markdown and Word, and checks the workbook's audit trail.
Exports are built from the workbook as saved at the moment of the click, so a
download never shows an older state than the workbook.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from traitlets import Any as AnyTrait
from traitlets import HasTraits, Unicode

from cgtkit.errors import CgtkitError, SessionError
from cgtkit.record import build_record, decision_table_xlsx, record_filename, render_docx, render_html, render_markdown
from cgtkit.record.model import DecisionRecord, Question
from cgtkit.session import AuditCheck, Session, verify_audit

PAGE_ID = "decision_record"
FORMATS: dict[str, tuple[str, str]] = {
    "html": ("html", "text/html"),
    "md": ("md", "text/markdown"),
    "docx": ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}


@dataclass(frozen=True)
class Drafts:
    """cgtkit's own wording of each question on the record (what "reset" goes back to)."""

    questions: Mapping[str, tuple[str, str]]


def export(session: Session, fmt: str) -> tuple[str, bytes, str]:
    """The record of ``session`` in ``fmt`` (html, md, docx, or xlsx for the decision table) as
    (file name, bytes, MIME type)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    record = build_record(session)
    extension, mime = FORMATS[fmt]
    render: dict[str, Callable[[DecisionRecord], bytes]] = {
        "html": lambda r: render_html(r).encode("utf-8"), "md": lambda r: render_markdown(r).encode("utf-8"),
        "docx": render_docx, "xlsx": decision_table_xlsx}
    return record_filename(record, extension), render[fmt](record), mime


def save_as_name(text: str) -> str:
    """A workbook file name from what the user typed: letters, digits, '-', '_', '.' and spaces kept,
    '.json' added.

    >>> save_as_name("RX-401 before EOP2 meeting"), save_as_name("../../etc/x.json")
    ('RX-401 before EOP2 meeting.json', 'etc-x.json')
    """
    stem = text.strip().removesuffix(".json")
    safe = "".join(ch if ch.isalnum() or ch in "-_ ." else "-" for ch in stem).strip(" .-")
    safe = "-".join(part for part in safe.split("-") if part.strip(" ."))
    if not safe:
        raise SessionError("Type a file name for the copy of the workbook (letters, digits, spaces, '-' or '_').")
    return f"{safe[:100]}.json"


class DecisionRecordModel(HasTraits):
    """The saved workbook, its record and the check of its audit trail."""

    record = AnyTrait(None, allow_none=True, read_only=True)
    check = AnyTrait(None, allow_none=True, read_only=True)
    problem = Unicode("", read_only=True)

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.use_session(session)

    @property
    def page_id(self) -> str:
        return PAGE_ID

    def use_session(self, session: Session) -> None:
        """Follow the workbook: rebuild the record and check the trail; a workbook the record cannot be
        built from keeps the previous record, with the reason in :attr:`problem`."""
        self.session = session
        try:
            record = build_record(session)
        except CgtkitError as exc:
            kept = " The preview below is the previous one." if self.record is not None else ""
            self.set_trait("problem", f"{exc}{kept}")
        else:
            with self.hold_trait_notifications():
                self.set_trait("problem", "")
                self.set_trait("record", record)
        self.set_trait("check", self.verify())

    def verify(self) -> AuditCheck:
        return verify_audit(self.session)

    @property
    def questions(self) -> tuple[Question, ...]:
        return self.record.questions if self.record is not None else ()

    def drafts(self) -> Drafts:
        """cgtkit's wording of every question on the record, ignoring the sponsor's edits."""
        if self.record is None:
            return Drafts({})
        plain = build_record(self.session.model_copy(update={"meeting_questions": ()}), with_figures=False)
        return Drafts({q.flexibility_id: (q.question, q.position) for q in plain.questions})

    def question_changes(self, texts: Mapping[str, tuple[str, str]]) -> Callable[[Session], Session]:
        """The workbook change that keeps the sponsor's wording of each question: a text equal to cgtkit's
        draft is not stored (so a later draft reaches it), an edited one is."""
        drafts = self.drafts().questions
        for fid, (question, position) in texts.items():
            if not question.strip() or not position.strip():
                raise SessionError(f"The question on {fid} and your position on it cannot be empty: write them, or "
                                   "click 'Back to cgtkit's drafts'.")

        def change(session: Session) -> Session:
            for fid, (question, position) in texts.items():
                same = drafts.get(fid) == (" ".join(question.split()), " ".join(position.split()))
                edit = session.question_edit(fid)
                if same:
                    if edit is not None:
                        session = session.without_question(fid)
                elif edit is None or (edit.question, edit.position) != (question.strip(), position.strip()):
                    session = session.with_question(fid, question, position)
            return session

        return change

    def reset_questions(self, session: Session) -> Session:
        return session.model_copy(update={"meeting_questions": ()})

    def audit_rows(self, last: int = 30) -> list[dict[str, object]]:
        """The newest ``last`` entries of the audit log, newest first."""
        return [{"index": e.index, "time": f"{e.time:%Y-%m-%d %H:%M:%S} UTC", "summary": e.summary,
                 "hash": e.hash[:16] + "…"} for e in reversed(self.session.audit[-last:])]
