"""The home page's workbook panel without a browser: uploads, open, download, start over."""

from __future__ import annotations

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


def test_the_same_file_twice_is_not_added_again_unless_asked(panel: WorkbookPanel) -> None:
    panel.lot_upload.value = _upload("my lots.csv", GOOD)
    panel.lot_upload.value = _upload("copy of my lots.csv", GOOD)
    assert panel.status.kind == "warning" and "exactly the data of data set 'my_lots'" in panel.status.text
    assert "nothing was added" in panel.status.text
    assert [n for n in panel.store.load().datasets if "my_lots" in n] == ["my_lots"]
    panel.cancel_button.click()
    assert [n for n in panel.store.load().datasets if "my_lots" in n] == ["my_lots"]
    panel.lot_upload.value = _upload("my lots.csv", GOOD)
    panel.confirm_button.click()  # "Load a second copy"
    assert panel.status.kind == "success" and "my_lots_2" in panel.store.load().datasets


def test_another_action_closes_an_open_question(panel: WorkbookPanel) -> None:
    panel.lot_upload.value = _upload("my lots.csv", GOOD)
    panel.lot_upload.value = _upload("my lots.csv", GOOD)  # the same data: asks
    assert panel.confirm.pending and panel.confirm_button.description == "Load a second copy"
    assert panel.confirm_button.button_style == "primary"  # adds a copy, replaces nothing: not red
    panel.lot_upload.value = _upload("other.csv", GOOD.replace(b"X1", b"Y1"))
    assert not panel.confirm.pending and panel.confirm_box.layout.display == "none"
    assert panel.status.kind == "success" and "'other'" in panel.status.text
    panel.dataset_choice.value = "other"
    panel.remove_button.click()  # the next question has its own button, in red
    assert panel.confirm_button.description != "Load a second copy" and panel.confirm_button.button_style == "danger"


def test_a_file_named_as_an_earlier_one_points_to_replace(panel: WorkbookPanel) -> None:
    panel.lot_upload.value = _upload("my lots.csv", GOOD)
    panel.lot_upload.value = _upload("my lots.csv", GOOD.replace(b"90.4", b"91.0"))
    assert "my_lots_2" in panel.store.load().datasets  # added, and said why it is not a replacement
    assert "loaded before as 'my_lots'" in panel.status.text and "Replace with a corrected file" in panel.status.text


def test_upload_bad_lot_data_names_row_and_keeps_workbook(panel: WorkbookPanel) -> None:
    before = set(panel.store.load().datasets)
    panel.lot_upload.value = _upload("bad.csv", BAD)
    assert panel.status.kind == "error"
    assert "bad.csv" in panel.status.text and "row 3" in panel.status.text and "ninety" in panel.status.text
    assert set(panel.store.load().datasets) == before


def test_open_workbook_and_reject_a_newer_one(panel: WorkbookPanel) -> None:
    saved = Session().to_json().encode()
    panel.workbook_upload.value = _upload("old.json", saved)
    assert panel.status.kind == "warning" and "in place of your workbook" in panel.status.text  # asks first
    assert "car_t_lots" in panel.store.load().datasets
    panel.confirm_button.click()
    assert panel.status.kind == "success" and panel.store.load().datasets == {}
    newer = saved.replace(f'"schema_version": {SCHEMA_VERSION}'.encode(), b'"schema_version": 99')
    assert newer != saved
    panel.workbook_upload.value = _upload("new.json", newer)
    assert panel.status.kind == "error" and "newer cgtkit" in panel.status.text
    assert panel.store.load().datasets == {}  # unchanged by the refused file


def test_download_sends_the_current_workbook_in_one_click(panel: WorkbookPanel) -> None:
    assert panel.download_button.last is None  # nothing is sent with the page
    panel.download_button.click()
    filename, data, mime = panel.download_button.last
    assert Session.from_json(data) == panel.store.load() and mime == "application/json"
    assert re.fullmatch(r"cgtkit-Example-autologous-CAR-T-\d{4}-\d{2}-\d{2}\.json", filename)
    assert panel.status.kind == "success" and filename in panel.status.text


def test_start_over_needs_confirmation(panel: WorkbookPanel) -> None:
    panel.workbook_upload.value = _upload("empty.json", Session().to_json().encode())
    panel.confirm_button.click()
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
    panel.confirm_button.click()
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



def _decision_on(dataset: str):  # noqa: ANN202
    from cgtkit.decisions import CommercialCriterionDecision

    return CommercialCriterionDecision(
        page="commercial_specifications", flexibility_id="CS-SPEC-FLEX-BLA", method="m", justification="j",
        dataset=dataset, attribute="viability", lot_types=("clinical",), lot_ids=("A", "B", "C"), n=3,
        candidate="ti_99_95", k_method="exact", low=70.0, high=None, unit="%", k=3.0, risk=())


def test_rename_a_data_set_and_its_decisions_follow(panel: WorkbookPanel) -> None:
    panel.store.update(lambda s: s.with_decision(_decision_on("car_t_lots")))
    panel.refresh(panel.store.load())
    panel.dataset_choice.value = "car_t_lots"
    panel.new_name.value = "rx401 lots"
    panel.rename_button.click()
    session = panel.store.load()
    assert panel.status.kind == "success" and "rx401 lots" in session.datasets and "car_t_lots" not in session.datasets
    assert session.decisions[0].dataset == "rx401 lots" and panel.dataset_choice.value == "rx401 lots"
    panel.new_name.value = "rx401 lots (v2, run 1.1)"
    panel.rename_button.click()
    assert panel.status.kind == "success" and "rx401 lots (v2, run 1.1)" in panel.store.load().datasets
    panel.new_name.value = "lots/../x"
    panel.rename_button.click()
    assert panel.status.kind == "error" and "cannot name a data set" in panel.status.text
    panel.new_name.value = "aav_lots"  # taken
    panel.rename_button.click()
    assert panel.status.kind == "error" and "already has a data set named 'aav_lots'" in panel.status.text
    assert "rx401 lots (v2, run 1.1)" in panel.store.load().datasets  # unchanged


def test_remove_a_data_set_asks_first(panel: WorkbookPanel) -> None:
    panel.dataset_choice.value = "aav_lots"
    panel.remove_button.click()
    assert panel.status.kind == "warning" and "Remove data set 'aav_lots'" in panel.status.text
    panel.cancel_button.click()
    assert "aav_lots" in panel.store.load().datasets  # declined: kept
    panel.remove_button.click()
    panel.confirm_button.click()
    assert "aav_lots" not in panel.store.load().datasets and panel.status.kind == "success"
    assert "aav_lots" not in panel.dataset_choice.options


def test_replace_a_data_set_keeps_its_name_and_names_the_decisions_to_review(panel: WorkbookPanel) -> None:
    panel.store.update(lambda s: s.with_decision(_decision_on("car_t_lots")))
    panel.refresh(panel.store.load())
    panel.dataset_choice.value = "car_t_lots"
    panel.replace_upload.value = _upload("corrected.csv", GOOD)
    session = panel.store.load()
    assert session.datasets["car_t_lots"].source == "upload:corrected.csv"
    assert session.datasets["car_t_lots"].counts() == (3, 1) and len(session.datasets) == 4
    assert panel.status.kind == "warning" and "flagged for review" in panel.status.text and "Viability" in panel.status.text
    (flagged,) = session.decisions
    assert "was replaced by corrected.csv" in flagged.review
    from cgtkit.ui.decision_panel import decisions_html

    assert "1 to review" in decisions_html(session.decisions) and "[to review]" in panel.status.text
    panel.replace_upload.value = _upload("bad.csv", BAD)  # a bad file replaces nothing
    assert panel.status.kind == "error" and panel.store.load().datasets["car_t_lots"].counts() == (3, 1)


def test_start_empty_and_add_the_examples_on_request(panel: WorkbookPanel) -> None:
    panel.lot_upload.value = _upload("mine.csv", GOOD)
    panel.empty_button.click()
    panel.confirm_button.click()
    assert panel.store.load().datasets == {} and panel.store.load().profile is None
    assert panel.manage_box.layout.display == "none"
    panel.lot_upload.value = _upload("mine.csv", GOOD)
    panel.examples_button.click()
    assert list(panel.store.load().datasets) == ["mine", "car_t_lots", "aav_lots", "car_t_stability", "aav_stability"]


def test_a_messy_export_lists_every_problem_and_offers_them_as_a_file(panel: WorkbookPanel) -> None:
    messy = Path(__file__).resolve().parents[1] / "fixtures" / "messy" / "lims_export.csv"
    before = panel.store.load()
    panel.lot_upload.value = _upload("lims_export.csv", messy.read_bytes())
    assert panel.status.kind == "error" and "lims_export.csv" in panel.status.text
    assert "cgt-problems-download" in panel.problems.value and "lims_export-problems.csv" in panel.problems.value
    assert panel.store.load() == before  # nothing changed by the refused file


def test_a_file_read_with_warnings_says_so(panel: WorkbookPanel) -> None:
    us_dates = GOOD.replace(b"2025-01-02", b"01/17/2025")
    panel.lot_upload.value = _upload("us dates.csv", us_dates)
    assert panel.status.kind == "warning", panel.status.text
    assert "Loaded us dates.csv" in panel.status.text and "warning" in panel.status.text
    assert "us_dates" in panel.store.load().datasets



@pytest.mark.parametrize(
    ("content", "message"),
    [
        (GOOD.replace(b"88.1", b"-88.1"), "below 0"),  # a negative viability
        (GOOD.replace(b"2025-01-02", b"2099-01-02"), "after today"),  # a future manufacture date
        (GOOD.replace(b"2025-01-02", b"03/04/2025"), "ambiguous"),  # day and month cannot be told apart
    ],
)
def test_impossible_lot_data_is_refused_and_the_workbook_is_unchanged(panel: WorkbookPanel, content: bytes,
                                                                      message: str) -> None:
    before = panel.store.load()
    panel.lot_upload.value = _upload("lab.csv", content)
    assert panel.status.kind == "error" and message in panel.status.text and "lab.csv" in panel.status.text
    assert "row 2" in panel.status.text and "Fix:" in panel.status.text
    assert panel.store.load() == before


def test_an_unknown_phase_loads_with_a_warning(panel: WorkbookPanel) -> None:
    content = GOOD.replace(b"manufacture_date\n", b"manufacture_date,phase\n").replace(b"\n", b",\n")
    content = content.replace(b"manufacture_date,phase,\n", b"manufacture_date,phase\n")
    content = content.replace(b"2025-01-02,", b"2025-01-02,investigator-initiated")
    panel.lot_upload.value = _upload("phases.csv", content)
    assert panel.status.kind == "warning" and "phases.csv" in panel.status.text, panel.status.text
    assert "phases" in panel.store.load().datasets


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"[" * 50_000 + b"]" * 50_000, "nested far deeper"),
        (b"[1, 2]", "holds a JSON array"),
        (b'{"schema_version": 3, "profile": null, "decisions": []}', "'datasets' section is missing"),
    ],
)
def test_a_bad_workbook_file_is_refused_and_the_workbook_is_unchanged(panel: WorkbookPanel, content: bytes,
                                                                      message: str) -> None:
    before = panel.store.load()
    panel.workbook_upload.value = _upload("wb.json", content)
    assert panel.status.kind == "error" and message in panel.status.text and "wb.json" in panel.status.text
    assert panel.store.load() == before and not panel.confirm.pending



def test_a_replacement_can_be_undone_once(panel: WorkbookPanel) -> None:
    """Issue #16: confirmation before replacing the user's work, with an undo where cheap."""
    before = panel.store.load()
    panel.empty_button.click()
    panel.confirm_button.click()
    assert panel.store.load().datasets == {} and panel.undo_button.layout.display == "flex"
    panel.undo_button.click()
    restored = panel.store.load()
    assert restored.model_copy(update={"audit": before.audit}) == before and panel.status.kind == "success"
    assert len(restored.audit) == len(before.audit) + 2  # the log keeps both changes: nothing is rewritten
    assert panel.undo_button.layout.display == "none"
    panel.dataset_choice.value = "aav_lots"
    panel.remove_button.click()
    panel.confirm_button.click()
    panel.store.update(lambda s: s.with_examples())  # another tab changes the workbook meanwhile
    panel.undo_button.click()
    assert panel.status.kind == "error" and "cannot be undone safely" in panel.status.text
