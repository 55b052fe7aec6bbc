"""The Decision record page without a browser: downloads hold the workbook's decisions, the questions
are saved in the workbook (and logged), the audit check reports a break, save-as names the copy."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from cgtkit.errors import SessionError
from cgtkit.profile import ProductProfile
from cgtkit.session import Session, WorkbookStore
from cgtkit.ui.decision_record import build_page
from cgtkit.ui.decision_record_model import save_as_name
from tests.unit.test_record_workbooks import store_with_decisions


@pytest.fixture()
def store(tmp_path: Path) -> WorkbookStore:
    return store_with_decisions(tmp_path / "wb.json")


def test_each_download_holds_the_decisions(store: WorkbookStore) -> None:
    from docx import Document
    from openpyxl import load_workbook

    view = build_page(store)
    ids = [d.id for d in store.load().decisions]
    for fmt in ("html", "md", "docx", "xlsx"):
        view.downloads[fmt].click()
        name, data, mime = view.downloads[fmt].last
        assert name.startswith("cgtkit-record-Example-autologous-CAR-T-") and name.endswith("." + fmt)
        assert view.status.kind == "success"
        if fmt == "docx":
            text = "\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs)
        elif fmt == "xlsx":
            text = "\n".join(str(c.value) for row in load_workbook(io.BytesIO(data)).active.iter_rows() for c in row)
        else:
            text = data.decode("utf-8")
        assert all(i in text for i in ids), fmt


def test_the_preview_and_audit_follow_the_workbook(store: WorkbookStore) -> None:
    view = build_page(store)
    assert "CMC decision record: Example autologous CAR-T" in view.preview.value
    assert "The audit log is intact: 3 entries" in view.audit.value
    WorkbookStore(store.path).update(lambda s: s.with_profile(ProductProfile.build(name="<b>RX-401</b>")))
    view.on_show()
    assert "CMC decision record: &lt;b&gt;RX-401&lt;/b&gt;" in view.preview.value
    assert "The audit log is intact: 4 entries" in view.audit.value and "Product profile changed" in view.audit.value


def test_questions_are_saved_in_the_workbook_and_reset_after_asking(store: WorkbookStore) -> None:
    view = build_page(store)
    editor = next(e for e in view.editors if e.flexibility_id == "CD-RELEASE-PERMISSIVE")
    editor.position.value = "We propose the limits of proposal 4.1 for all phase 1 lots."
    view.save_questions.click()
    assert view.status.kind == "success" and "1 question(s) in your wording" in view.status.text
    saved = store.load()
    assert saved.question_edit("CD-RELEASE-PERMISSIVE").position.startswith("We propose the limits of proposal 4.1")
    assert saved.audit[-1].summary == "Meeting question on CD-RELEASE-PERMISSIVE edited"
    view.downloads["md"].click()
    assert "We propose the limits of proposal 4.1 for all phase 1 lots." in view.downloads["md"].last[1].decode()
    view.save_questions.click()  # nothing changed
    assert "Nothing to save" in view.status.text and len(store.load().audit) == len(saved.audit)
    view.reset_questions.click()
    assert view.confirm.pending and "Replace your wording of 1 question(s)" in view.status.text
    view.confirm.yes.click()
    assert store.load().meeting_questions == () and "back to cgtkit's drafts" in view.status.text


def test_an_empty_question_is_refused_with_a_message(store: WorkbookStore) -> None:
    view = build_page(store)
    before = store.path.read_bytes()
    view.editors[0].question.value = "  "
    view.save_questions.click()
    assert view.status.kind == "error" and "cannot be empty" in view.status.text
    assert store.path.read_bytes() == before


def test_verify_reports_where_a_tampered_workbook_breaks(store: WorkbookStore) -> None:
    view = build_page(store)
    raw = json.loads(store.path.read_text())
    raw["decisions"][-1]["low"] = 1.0
    store.path.write_text(json.dumps(raw))
    view.verify_button.click()
    assert view.status.kind == "error" and "does not verify at entry 2" in view.status.text
    assert "cgt-msg-error" in view.audit.value


def test_save_as_uses_the_typed_name(store: WorkbookStore) -> None:
    view = build_page(store)
    view.save_name.value = "RX-401 before EOP2"
    view.save_as.click()
    name, data, mime = view.save_as.last
    assert name == "RX-401 before EOP2.json" and mime == "application/json"
    assert Session.from_json(data) == store.load()
    view.save_name.value = "   "
    view.save_as.click()
    assert view.status.kind == "error" and "Type a file name" in view.status.text


def test_save_as_name_is_safe() -> None:
    assert save_as_name("a/b\\c:d.json") == "a-b-c-d.json"
    with pytest.raises(SessionError):
        save_as_name("../..")
