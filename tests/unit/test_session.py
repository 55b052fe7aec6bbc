"""Session: lossless JSON round trip, versioning, and the shared workbook file."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pandas as pd
import pytest

from cgtkit.errors import SessionError
from cgtkit.profile import ProductProfile
from cgtkit.session import SCHEMA_VERSION, Decision, Session, WorkbookStore


def _decision(**overrides: object) -> Decision:
    fields = dict(
        module="commercial_specifications",
        flexibility_id="CS-SPEC-FLEX-BLA",
        inputs={"dataset": "car_t_lots", "attribute": "viability", "lots": ["L1", "L2"], "coverage": 0.99},
        method="normal tolerance interval, exact two-sided",
        result={"low": 71.25, "high": None, "unit": "%", "risk_next_10": 0.0421},
        justification="Lower limit from 30 lots, 99%/95% tolerance interval.",
        timestamp=datetime(2026, 11, 23, 10, 30, 5, 123456, tzinfo=UTC),
    )
    fields.update(overrides)
    return Decision(**fields)


def test_example_session_round_trips_losslessly(tmp_path) -> None:
    original = Session.example().with_decision(_decision())
    path = original.save(tmp_path / "wb.json")
    loaded = Session.load(path)
    assert loaded == original
    for name in original.datasets:
        pd.testing.assert_frame_equal(loaded.dataset_frame(name), original.dataset_frame(name))
    assert loaded.decisions[0].timestamp == datetime(2026, 11, 23, 10, 30, 5, 123456, tzinfo=UTC)
    assert loaded.decisions[0].result["high"] is None


def test_dataset_frame_keeps_dtypes_and_censoring() -> None:
    session = Session.example()
    frame = session.dataset_frame("car_t_lots")
    again = Session.from_json(session.to_json()).dataset_frame("car_t_lots")
    pd.testing.assert_frame_equal(frame, again)
    assert pd.api.types.is_datetime64_any_dtype(again["manufacture_date"])
    assert (again["censoring"] == "left").any()


def test_profile_survives_round_trip() -> None:
    profile = ProductProfile(stage="phase 3", lots_made={"engineering": 2, "clinical": 10, "ppq": 2})
    s = Session().with_profile(profile)
    assert Session.from_json(s.to_json()).profile == profile


def test_newer_schema_is_refused_with_upgrade_hint() -> None:
    raw = json.loads(Session().to_json())
    raw["schema_version"] = SCHEMA_VERSION + 1
    with pytest.raises(SessionError, match="newer cgtkit.*Upgrade cgtkit"):
        Session.from_json(json.dumps(raw), source="mine.json")


@pytest.mark.parametrize("version", [0, -3, "1", None, True])
def test_unknown_schema_versions_are_refused(version: object) -> None:
    raw = json.loads(Session().to_json())
    raw["schema_version"] = version
    with pytest.raises(SessionError, match="schema"):
        Session.from_json(json.dumps(raw))


def test_not_json_and_not_a_workbook() -> None:
    with pytest.raises(SessionError, match="not valid JSON"):
        Session.from_json(b"\x89PNG...", source="picture.png")
    with pytest.raises(SessionError, match="no schema_version"):
        Session.from_json('{"hello": 1}')


def test_damaged_field_is_named() -> None:
    raw = json.loads(Session().with_decision(_decision()).to_json())
    del raw["decisions"][0]["method"]
    with pytest.raises(SessionError, match=r"decisions\.0\.method"):
        Session.from_json(json.dumps(raw))


def test_missing_file(tmp_path) -> None:
    with pytest.raises(SessionError, match="No workbook file"):
        Session.load(tmp_path / "nope.json")


def test_store_creates_example_then_merges_updates(tmp_path) -> None:
    store = WorkbookStore(tmp_path / "wb.json")
    first = store.load()
    assert set(first.datasets) == {"car_t_lots", "aav_lots", "car_t_stability", "aav_stability"}
    assert (tmp_path / "wb.json").exists()
    # two pages, each holding an old copy, both write: neither change is lost
    store.update(lambda s: s.with_decision(_decision(flexibility_id="CS-SPEC-FLEX-BLA")))
    store.update(lambda s: s.with_profile(ProductProfile(stage="phase 2")))
    final = store.load()
    assert final.profile is not None and final.profile.stage == "phase 2"
    assert [d.flexibility_id for d in final.decisions] == ["CS-SPEC-FLEX-BLA"]


def test_without_decision_and_decisions_for() -> None:
    a, b = _decision(), _decision(module="clinical_development", flexibility_id="CD-RELEASE-PERMISSIVE")
    s = Session().with_decision(a).with_decision(b)
    assert s.decisions_for("clinical_development") == (b,)
    assert s.without_decision(a.id).decisions == (b,)


def test_unknown_dataset_names_known_ones() -> None:
    with pytest.raises(SessionError, match="loaded: none"):
        Session().dataset_frame("x")
