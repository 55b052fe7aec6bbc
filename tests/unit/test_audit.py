"""The workbook's audit trail (issue #21): every change through the store is logged, hash-chained; a
tampered file fails verification at the right entry; schema 4 files get the entry the log starts with;
a damaged file is refused with a clear message and the workbook on disk stays as it was."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cgtkit.errors import SessionError
from cgtkit.profile import ProductProfile
from cgtkit.session import (
    GENESIS_PREVIOUS,
    SCHEMA_VERSION,
    Session,
    WorkbookStore,
    digest,
    item_digests,
    verify_audit,
)
from tests.unit.test_record_workbooks import store_with_decisions


@pytest.fixture()
def store(tmp_path: Path) -> WorkbookStore:
    return store_with_decisions(tmp_path / "wb.json")


def _raw(store: WorkbookStore) -> dict:
    return json.loads(store.path.read_text(encoding="utf-8"))


def _write(store: WorkbookStore, raw: dict) -> None:
    store.path.write_text(json.dumps(raw), encoding="utf-8")


def test_a_new_workbook_starts_its_log_with_every_item_recorded(tmp_path: Path) -> None:
    session = WorkbookStore(tmp_path / "wb.json").load()
    (first,) = session.audit
    assert first.index == 0 and first.previous == GENESIS_PREVIOUS
    assert first.summary.startswith("The audit log starts here: a new workbook on the example data")
    assert {(c.what, c.subject) for c in first.changes} == set(item_digests(session))
    assert {c.digest for c in first.changes} == set(item_digests(session).values())
    assert verify_audit(session).ok


def test_every_change_is_one_entry_naming_it(tmp_path: Path) -> None:
    store = WorkbookStore(tmp_path / "wb.json")
    frame = store.load().dataset_frame("car_t_lots")
    store.update(lambda s: s.with_profile(ProductProfile.build(stage="phase 2")))
    store.update(lambda s: s.with_dataset("mine", frame, source="upload:mine.csv"))
    store.update(lambda s: s.with_dataset_renamed("mine", "my lots"))
    store.update(lambda s: s.with_dataset_replaced("my lots", frame.head(40), source="upload:fixed.csv"))
    store.update(lambda s: s.without_dataset("my lots"))
    store.update(lambda s: s.with_question("CD-RELEASE-PERMISSIVE", "Q?", "We propose."))
    store.update(lambda s: s.without_question("CD-RELEASE-PERMISSIVE"))
    session = store.update(lambda s: s)  # nothing changed: no entry
    summaries = [e.summary for e in session.audit[1:]]
    assert summaries == [
        "Product profile changed",
        "Data set 'mine' added",
        "Data set 'my lots' renamed from 'mine'",
        "Data set 'my lots' replaced",
        "Data set 'my lots' removed",
        "Meeting question on CD-RELEASE-PERMISSIVE edited",
        "Meeting question on CD-RELEASE-PERMISSIVE reset to cgtkit's draft",
    ]
    assert [e.index for e in session.audit] == list(range(len(session.audit)))
    assert all(e.previous == session.audit[i].hash for i, e in enumerate(session.audit[1:]))
    assert verify_audit(Session.load(store.path)).ok


def test_decisions_accepted_replaced_and_removed_are_logged(store: WorkbookStore) -> None:
    session = store.load()
    accepted = [e for e in session.audit if any(c.change == "accepted" for c in e.changes)]
    assert len(accepted) == 2 and "Decision" in accepted[0].summary and "accepted" in accepted[0].summary
    commercial = session.decisions[-1]
    again = commercial.model_copy(update={"id": "a" * 12, "justification": "Again."})
    session = store.update(lambda s: s.with_decision(again))
    changes = {(c.subject, c.change) for c in session.audit[-1].changes}
    assert (commercial.id, f"replaced by decision {again.id}") in changes and (again.id, "accepted") in changes
    session = store.update(lambda s: s.without_decision(again.id))
    assert session.audit[-1].changes[0].change == "removed" and session.audit[-1].changes[0].digest is None
    assert verify_audit(session).ok


def test_the_log_survives_save_and_load_with_the_same_hashes(store: WorkbookStore) -> None:
    session = store.load()
    again = Session.from_json(session.to_json())
    assert [e.hash for e in again.audit] == [e.hash for e in session.audit]
    assert item_digests(again) == item_digests(session)
    check = verify_audit(again, head=session.audit[-1].hash)
    assert check.ok and check.note == "It is the head given."


def test_an_edited_decision_fails_at_the_entry_that_accepted_it(store: WorkbookStore) -> None:
    raw = _raw(store)
    decision = raw["decisions"][-1]
    accepted_at = next(e["index"] for e in raw["audit"] for c in e["changes"]
                       if c["subject"] == decision["id"] and c["change"] == "accepted")
    decision["low"] = decision["low"] - 10  # a looser limit, written into the file by hand
    _write(store, raw)
    check = verify_audit(Session.load(store.path))
    assert not check.ok and check.broken_at == accepted_at
    assert f"Decision {decision['id']} is not what entry {accepted_at} recorded (accepted)" in check.sentence()
    assert "edited outside cgtkit" in check.sentence()


def test_a_removed_log_entry_fails_where_it_was(store: WorkbookStore) -> None:
    raw = _raw(store)
    assert len(raw["audit"]) == 3
    del raw["audit"][1]
    _write(store, raw)
    check = verify_audit(Session.load(store.path))
    assert not check.ok and check.broken_at == 1
    assert "entry 1 is missing: the log goes from entry 0 to entry 2" in check.sentence()


def test_an_edited_entry_fails_at_that_entry(store: WorkbookStore) -> None:
    raw = _raw(store)
    raw["audit"][1]["summary"] = "Nothing happened here."
    _write(store, raw)
    check = verify_audit(Session.load(store.path))
    assert not check.ok and check.broken_at == 1
    assert "entry 1 was edited after entry 2 was written" in check.sentence()


def test_removed_renumbered_entries_and_a_cut_start_are_caught(store: WorkbookStore) -> None:
    raw = _raw(store)
    del raw["audit"][0]
    for i, e in enumerate(raw["audit"]):
        e["index"] = i
    _write(store, raw)
    check = verify_audit(Session.load(store.path))
    assert not check.ok and check.broken_at == 0 and "entries before it were removed" in check.sentence()


def test_items_added_or_removed_outside_cgtkit_are_named(store: WorkbookStore) -> None:
    raw = _raw(store)
    extra = dict(raw["decisions"][0], id="f" * 12)
    raw["decisions"].append(extra)
    del raw["datasets"]["aav_lots"]
    _write(store, raw)
    check = verify_audit(Session.load(store.path))
    text = check.sentence()
    assert not check.ok and check.broken_at == 0  # the data set the first entry recorded
    assert "Data set aav_lots recorded by entry 0 (added) is missing from the workbook" in text
    assert f"Decision {'f' * 12} is in the workbook but no entry records it: it was added outside cgtkit after entry 2" in text


def test_a_head_from_an_export_must_belong_to_the_log(store: WorkbookStore) -> None:
    session = store.load()
    earlier = session.audit[1].hash
    check = verify_audit(session, head=earlier.upper())
    assert check.ok and "entry 1's: the workbook had 1 more change(s) after that export" in check.note
    check = verify_audit(session, head="0" * 64)
    assert not check.ok and "not the hash of any entry of this log" in check.sentence()


def test_a_workbook_without_a_log_does_not_verify() -> None:
    check = verify_audit(Session.example())
    assert not check.ok and check.entries == 0 and "no audit log" in check.sentence()


def test_start_over_and_undo_continue_the_log(store: WorkbookStore) -> None:
    before = store.load()
    n = len(before.audit)
    session = store.replace(Session())
    assert session.audit[:n] == before.audit and len(session.audit) == n + 1
    assert session.audit[-1].summary.startswith("Workbook replaced (started over, or an earlier state restored)")
    restored = store.replace(before)  # undo: the earlier workbook, its shorter log
    assert restored.audit[: n + 1] == session.audit and len(restored.audit) == n + 2
    assert restored.decisions == before.decisions and verify_audit(restored).ok


def test_opening_a_workbook_keeps_its_own_log(store: WorkbookStore, tmp_path: Path) -> None:
    other = WorkbookStore(tmp_path / "other.json")
    mine = other.update(lambda s: s.with_profile(ProductProfile.build(name="Other product")))
    head = store.load().audit[-1].hash
    opened = store.replace(Session.from_json(mine.to_json()))
    assert opened.audit[:-1] == mine.audit
    assert opened.audit[-1].summary.startswith(f"Opened a workbook with its own audit log ({len(mine.audit)} entries)")
    assert head in opened.audit[-1].summary and verify_audit(opened).ok


# -- schema 5 ----------------------------------------------------------------------------


def _as_schema_4(session: Session) -> dict:
    raw = json.loads(session.to_json())
    raw["schema_version"] = 4
    del raw["audit"], raw["meeting_questions"]
    return raw


def test_a_schema_4_workbook_gets_the_entry_its_log_starts_with(tmp_path: Path) -> None:
    from tests.unit.test_record_workbooks import with_page_decisions

    session = with_page_decisions(Session.example())
    raw = _as_schema_4(session)
    migrated = Session.from_json(json.dumps(raw))
    (first,) = migrated.audit
    assert first.summary.startswith("The audit log starts here: the workbook was saved by a cgtkit without an audit log")
    assert {(c.what, c.subject): c.digest for c in first.changes} == item_digests(migrated)
    assert migrated.decisions == session.decisions and verify_audit(migrated).ok
    # the store saves the migrated file at once, so the start of the log is fixed
    path = tmp_path / "wb.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    loaded = WorkbookStore(path).load()
    assert json.loads(path.read_text())["schema_version"] == SCHEMA_VERSION == 5
    assert WorkbookStore(path).load().audit == loaded.audit


def test_the_migration_docstring_names_what_schema_5_adds() -> None:
    from cgtkit.session import MIGRATIONS

    doc = " ".join((MIGRATIONS[4].__doc__ or "").split())
    assert "audit log" in doc and "meeting questions" in doc
    assert "decision kinds of the process-validation and stability pages" in doc


def test_digest_is_canonical() -> None:
    assert digest({"a": 1, "b": [1.5, None]}) == digest({"b": [1.5, None], "a": 1})
    assert digest({"a": 1}) != digest({"a": 1.5})


# -- damaged files ---------------------------------------------------------------------------


@pytest.mark.parametrize("cut", [0.3, 0.9, 0.999])
def test_a_truncated_workbook_is_refused_and_the_current_one_stays(store: WorkbookStore, tmp_path: Path,
                                                                     cut: float) -> None:
    from cgtkit.ui.workbook import WorkbookPanel

    saved = store.path.read_bytes()
    truncated = saved[: int(len(saved) * cut)]
    with pytest.raises(SessionError, match="is cut short: the file ends before the workbook does"):
        Session.from_json(truncated, source="wb.json")
    panel = WorkbookPanel(store)
    panel.workbook_upload.value = ({"name": "wb.json", "type": "application/json", "size": len(truncated),
                                    "last_modified": datetime(2026, 11, 30, tzinfo=UTC),
                                    "content": memoryview(truncated)},)
    assert panel.status.kind == "error" and "wb.json is cut short" in panel.status.text
    assert store.path.read_bytes() == saved


def test_a_corrupted_workbook_on_the_server_gives_a_message_and_is_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "wb.json"
    WorkbookStore(path).load()
    damaged = path.read_bytes().replace(b'"datasets"', b'"datasetz"', 1)
    path.write_bytes(damaged)
    store = WorkbookStore(path)
    with pytest.raises(SessionError, match="is damaged: its 'datasets' section is missing"):
        store.load()
    with pytest.raises(SessionError, match="is damaged"):
        store.update(lambda s: s.with_profile(ProductProfile.build()))
    assert path.read_bytes() == damaged
