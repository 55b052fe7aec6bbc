"""The home page's workbook panel without a browser: uploads, open, download, start over."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cgtkit.session import SCHEMA_VERSION, Session, WorkbookStore
from cgtkit.ui.workbook import WorkbookPanel, dataset_name_for

GOOD = (
    "lot_id,attribute,value,unit,lot_type,manufacture_date\n"
    "X1,viability,88.1,%,clinical,2025-01-02\nX2,viability,90.4,%,clinical,2025-02-02\n"
    "X3,viability,<80,%,clinical,2025-03-02\n"
).encode()
BAD = GOOD.replace(b"90.4", b"ninety")
V1_FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "workbook_v1.json"


def _upload(name: str, content: bytes) -> tuple[dict, ...]:
    return ({"name": name, "type": "text/csv", "size": len(content), "last_modified": datetime(2026, 11, 23, tzinfo=UTC),
             "content": memoryview(content)},)


@pytest.fixture()
def panel(tmp_path) -> WorkbookPanel:
    store = WorkbookStore(tmp_path / "wb.json")
    store.replace(Session.example())
    return WorkbookPanel(store)


def test_upload_good_lot_data_adds_a_dataset(panel: WorkbookPanel) -> None:
    panel.lot_upload.value = _upload("my lots.csv", GOOD)
    assert panel.status.kind == "success", panel.status.text
    assert "my_lots" in panel.store.load().datasets
    assert "3 lots" in panel.status.text and "my_lots" in panel.summary.value


def test_upload_bad_lot_data_names_row_and_keeps_workbook(panel: WorkbookPanel) -> None:
    before = set(panel.store.load().datasets)
    panel.lot_upload.value = _upload("bad.csv", BAD)
    assert panel.status.kind == "error"
    assert "bad.csv" in panel.status.text and "row 3" in panel.status.text and "ninety" in panel.status.text
    assert set(panel.store.load().datasets) == before


def test_open_workbook_and_reject_a_newer_one(panel: WorkbookPanel) -> None:
    saved = Session().to_json().encode()
    panel.workbook_upload.value = _upload("old.json", saved)
    assert panel.status.kind == "success" and panel.store.load().datasets == {}
    newer = saved.replace(f'"schema_version": {SCHEMA_VERSION}'.encode(), b'"schema_version": 99')
    assert newer != saved
    panel.workbook_upload.value = _upload("new.json", newer)
    assert panel.status.kind == "error" and "newer cgtkit" in panel.status.text
    assert panel.store.load().datasets == {}  # unchanged by the refused file


def test_download_link_holds_the_current_workbook(panel: WorkbookPanel) -> None:
    assert panel.download.value == ""
    panel.download_button.click()
    payload = re.search(r"base64,([A-Za-z0-9+/=]+)", panel.download.value).group(1)
    assert Session.from_json(base64.b64decode(payload)) == panel.store.load()


def test_start_over_needs_confirmation(panel: WorkbookPanel) -> None:
    panel.workbook_upload.value = _upload("empty.json", Session().to_json().encode())
    panel.reset_button.click()
    assert panel.confirm_box.layout.display == "flex" and panel.status.kind == "warning"
    panel.cancel_button.click()
    assert panel.store.load().datasets == {}
    panel.reset_button.click()
    panel.confirm_button.click()
    assert "car_t_lots" in panel.store.load().datasets and panel.status.kind == "success"


def test_dataset_names_are_unique() -> None:
    assert dataset_name_for("lots (v2).xlsx", {"lots__v2_"}) == "lots__v2__2"
    assert dataset_name_for("...", set()) == "upload"


def test_summary_shows_dataset_kinds_and_decisions_by_page(panel: WorkbookPanel) -> None:
    summary = panel.summary.value
    assert "<th>Kind</th>" in summary
    assert "<td>car_t_lots</td><td>lot release</td>" in summary and "<td>car_t_stability</td><td>stability</td>" in summary
    assert "Decisions recorded: <b>0</b></p>" in summary


def test_opening_a_v1_workbook_converts_it(panel: WorkbookPanel) -> None:
    panel.workbook_upload.value = _upload("v1.json", V1_FIXTURE.read_bytes())
    assert panel.status.kind == "success", panel.status.text
    assert "2 data set(s), 14 decision(s)" in panel.status.text
    assert "Decisions recorded: <b>14</b> (Commercial specifications 4, Clinical development 10)" in panel.summary.value
    assert "<td>aav_stability</td><td>stability</td>" in panel.summary.value
    saved = panel.store.path.read_text(encoding="utf-8")
    assert f'"schema_version": {SCHEMA_VERSION}' in saved


def test_uploaded_stability_data_is_named_as_such(panel: WorkbookPanel) -> None:
    rows = GOOD.decode().replace("manufacture_date\n", "manufacture_date,timepoint_months\n").splitlines()
    content = "\n".join([rows[0]] + [f"{r},{m}" for r, m in zip(rows[1:], (0, 3, 6), strict=True)]) + "\n"
    panel.lot_upload.value = _upload("study.csv", content.encode())
    assert panel.status.kind == "success", panel.status.text
    assert "as stability data set 'study'" in panel.status.text
    assert panel.store.load().datasets["study"].kind == "stability"
