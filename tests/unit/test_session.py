"""Session: lossless JSON round trip, versioning and migration, and the shared workbook file."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from cgtkit.decisions import (
    CommercialCriterionDecision,
    HorizonRisk,
    InvestigationalCriteriaDecision,
    InvestigationalCriterion,
    LegacyDecision,
    ToleranceBasis,
)
from cgtkit.errors import SessionError
from cgtkit.profile import ProductProfile
from cgtkit.session import SCHEMA_VERSION, Dataset, Session, WorkbookStore, migrate
from cgtkit.vocab import AttributeKind, DatasetKind, LotType

V1_FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "workbook_v1.json"
WHEN = datetime(2026, 11, 23, 10, 30, 5, 123456, tzinfo=UTC)


def _decision(**overrides: Any) -> CommercialCriterionDecision:
    fields: dict[str, Any] = dict(
        page="commercial_specifications",
        flexibility_id="CS-SPEC-FLEX-BLA",
        dataset="car_t_lots",
        attribute="viability",
        lot_types=("clinical", "ppq"),
        lot_ids=("L1", "L2", "L3"),
        n=3,
        candidate="ti_99_95",
        k_method="exact",
        method="normal tolerance interval, exact two-sided",
        low=71.25,
        high=None,
        unit="%",
        k=4.1,
        risk=(HorizonRisk(horizon=10, probability=0.0421), HorizonRisk(horizon=100, probability=0.2)),
        risk_basis="normal model on the analysis scale; limits shared by all future lots",
        reference="Krishnamoorthy and Mathew (2009).",
        justification="Lower limit from 30 lots, 99%/95% tolerance interval.",
        timestamp=WHEN,
    )
    fields.update(overrides)
    return CommercialCriterionDecision(**fields)


def _criteria_set(**overrides: Any) -> InvestigationalCriteriaDecision:
    fields: dict[str, Any] = dict(
        page="clinical_development",
        dataset="car_t_lots",
        lot_types=(LotType.ENGINEERING, LotType.CLINICAL),
        method="normal tolerance interval TI 99%/95%, exact k; fixed requirement",
        justification="All proposals, as drafted.",
        criteria=(
            InvestigationalCriterion(attribute="viability", attribute_kind=AttributeKind.QUANTITATIVE,
                                     flexibility_id="CD-RELEASE-PERMISSIVE", low=60.5, high=None, unit="%",
                                     lot_ids=("E1", "C1", "C2"), n=3,
                                     tolerance=ToleranceBasis(coverage=0.99, confidence=0.95), next_lot_outside=0.0022),
            InvestigationalCriterion(attribute="sterility", attribute_kind=AttributeKind.SAFETY_FIXED,
                                     flexibility_id="CD-SAFETY-ATTRIBUTES", low=None, high=None, unit="",
                                     lot_ids=(), n=0, tolerance=None, fixed_requirement="No growth."),
        ),
    )
    fields.update(overrides)
    return InvestigationalCriteriaDecision(**fields)


def test_example_session_round_trips_losslessly(tmp_path) -> None:
    original = Session.example().with_decision(_decision())
    path = original.save(tmp_path / "wb.json")
    loaded = Session.load(path)
    assert loaded == original
    for name in original.datasets:
        pd.testing.assert_frame_equal(loaded.dataset_frame(name), original.dataset_frame(name))
    assert loaded.decisions[0].timestamp == datetime(2026, 11, 23, 10, 30, 5, 123456, tzinfo=UTC)
    assert loaded.decisions[0].high is None


def test_every_decision_kind_round_trips_losslessly(tmp_path) -> None:
    legacy = LegacyDecision(page="old_page", flexibility_id="X-1", method="m", justification="j",
                            extra={"inputs": {"coverage": 0.99, "lots": ["A", "B"]}, "result": {"low": None}})
    original = Session().with_decision(_decision()).with_decision(_criteria_set()).with_decision(legacy)
    loaded = Session.load(original.save(tmp_path / "wb.json"))
    assert loaded == original
    assert [type(d) for d in loaded.decisions] == [CommercialCriterionDecision, InvestigationalCriteriaDecision,
                                                   LegacyDecision]
    assert json.loads(loaded.to_json()) == json.loads(original.to_json())


def test_dataset_frame_keeps_dtypes_and_censoring() -> None:
    session = Session.example()
    frame = session.dataset_frame("car_t_lots")
    again = Session.from_json(session.to_json()).dataset_frame("car_t_lots")
    pd.testing.assert_frame_equal(frame, again)
    assert pd.api.types.is_datetime64_any_dtype(again["manufacture_date"])
    assert (again["censoring"] == "left").any()


def test_dataset_kind_comes_from_time_points_not_the_name() -> None:
    session = Session.example()
    assert {n: d.kind for n, d in session.datasets.items()} == {
        "car_t_lots": DatasetKind.LOTS, "aav_lots": DatasetKind.LOTS,
        "car_t_stability": DatasetKind.STABILITY, "aav_stability": DatasetKind.STABILITY,
    }
    renamed = Session().with_dataset("upload", session.dataset_frame("aav_stability"), source="upload:x.csv")
    assert renamed.datasets["upload"].kind is DatasetKind.STABILITY
    forced = Session().with_dataset("x", session.dataset_frame("aav_lots"), source="t", kind=DatasetKind.STABILITY)
    assert forced.datasets["x"].kind is DatasetKind.STABILITY


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
    with pytest.raises(SessionError, match=r"damaged: decisions, entry 1 \(id '\w+'\): field 'method': is required"):
        Session.from_json(json.dumps(raw))
    raw = json.loads(Session().with_decision(_decision()).to_json())
    raw["decisions"][0]["kind"] = "made_up"
    with pytest.raises(SessionError, match=r"decisions, entry 1 \(id '\w+'\): field 'kind' must be one of"):
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
    assert [d.flexibility_ids for d in final.decisions] == [("CS-SPEC-FLEX-BLA",)]


def test_without_decision_and_decisions_for() -> None:
    a, b = _decision(), _criteria_set()
    s = Session().with_decision(a).with_decision(b)
    assert s.decisions_for("clinical_development") == (b,)
    assert s.without_decision(a.id).decisions == (b,)


def test_unknown_dataset_names_known_ones() -> None:
    with pytest.raises(SessionError, match="loaded: none"):
        Session().dataset_frame("x")


# -- schema 1 -> 2 -------------------------------------------------------------


@pytest.fixture(scope="module")
def v1_raw() -> dict[str, Any]:
    return json.loads(V1_FIXTURE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def v1_session() -> Session:
    return Session.load(V1_FIXTURE)


def _as_v1(d: Any) -> dict[str, Any]:
    """A schema-2 decision written back in the schema-1 shape: equal to the original iff nothing was lost."""
    base = {"id": d.id, "timestamp": d.timestamp, "module": d.page, "method": d.method,
            "justification": d.justification}
    if isinstance(d, CommercialCriterionDecision):
        return {**base, "flexibility_id": d.flexibility_id,
                "inputs": {"dataset": d.dataset, "attribute": d.attribute, "lot_types": [t.value for t in d.lot_types],
                           "lots": list(d.lot_ids), "n": d.n, "candidate": d.candidate, "k_method": d.k_method},
                "result": {"low": d.low, "high": d.high, "unit": d.unit, "k": d.k,
                           **{f"risk_next_{r.horizon}": r.probability for r in d.risk}}}
    if isinstance(d, InvestigationalCriteriaDecision):
        (c,) = d.criteria
        return {**base, "flexibility_id": c.flexibility_id,
                "inputs": {"dataset": d.dataset, "attribute": c.attribute, "lot_types": [t.value for t in d.lot_types],
                           "lots": list(c.lot_ids), "n": c.n},
                "result": {"low": c.low, "high": c.high, "unit": c.unit, "kind": c.attribute_kind.value,
                           "next_lot_outside": c.next_lot_outside}}
    assert isinstance(d, LegacyDecision)
    return {**base, "flexibility_id": d.flexibility_id, **d.extra}


def test_v1_fixture_opens_with_every_decision_and_number(v1_raw, v1_session) -> None:
    assert v1_raw["schema_version"] == 1
    assert v1_session.schema_version == SCHEMA_VERSION
    originals = [dict(d, timestamp=datetime.fromisoformat(d["timestamp"])) for d in v1_raw["decisions"]]
    assert len(originals) == 14
    assert [_as_v1(d) for d in v1_session.decisions] == originals
    kinds = [d.kind for d in v1_session.decisions]
    assert kinds == ["commercial_criterion"] * 3 + ["investigational_criteria"] * 10 + ["legacy"]


def test_v1_commercial_decisions_are_typed(v1_raw, v1_session) -> None:
    titer = v1_session.decisions[0]
    assert isinstance(titer, CommercialCriterionDecision)
    raw = v1_raw["decisions"][0]
    assert (titer.attribute, titer.candidate, titer.k_method, titer.page) == (
        "vector_genome_titer", "ti_99_95", "exact", "commercial_specifications")
    assert titer.lot_types == (LotType.CLINICAL, LotType.PPQ) and titer.n == 10 == len(titer.lot_ids)
    assert titer.low == raw["result"]["low"] and titer.high == raw["result"]["high"] and titer.k == raw["result"]["k"]
    assert [(r.horizon, r.probability) for r in titer.risk] == [
        (10, raw["result"]["risk_next_10"]), (50, raw["result"]["risk_next_50"]), (100, raw["result"]["risk_next_100"])]
    assert titer.risk_basis is None and titer.reference is None  # schema 1 did not record them
    range_candidate = v1_session.decisions[1]
    assert range_candidate.candidate == "range" and range_candidate.k is None and range_candidate.k_method == "howe"


def test_v1_investigational_decisions_become_sets_of_one(v1_raw, v1_session) -> None:
    sets = [d for d in v1_session.decisions if isinstance(d, InvestigationalCriteriaDecision)]
    assert len(sets) == 10 and all(len(d.criteria) == 1 for d in sets)
    assert [d.id for d in sets] == [d["id"] for d in v1_raw["decisions"][3:13]]  # removal by id still works
    by_attr = {d.criteria[0].attribute: d.criteria[0] for d in sets[:9]}
    assert by_attr["sterility"].attribute_kind is AttributeKind.SAFETY_FIXED
    assert by_attr["sterility"].tolerance is None and by_attr["sterility"].flexibility_id == "CD-SAFETY-ATTRIBUTES"
    assert by_attr["aggregates"].tolerance == ToleranceBasis(coverage=0.99, confidence=0.95)
    assert by_attr["aggregates"].next_lot_outside == v1_raw["decisions"][8]["result"]["next_lot_outside"]
    edited = sets[-1]
    assert edited.justification.startswith("Edited by the user: ")
    assert edited.flexibility_ids == ("CD-SAFETY-ATTRIBUTES",)


def test_v1_decision_with_unknown_keys_is_kept_verbatim(v1_raw, v1_session) -> None:
    legacy = v1_session.decisions[-1]
    assert isinstance(legacy, LegacyDecision)
    assert legacy.extra == {"inputs": v1_raw["decisions"][-1]["inputs"], "result": v1_raw["decisions"][-1]["result"]}
    assert legacy.extra["inputs"]["coverage"] == 0.99
    assert legacy.flexibility_id == "CS-SPEC-LIFECYCLE" and legacy.from_schema == 1


def test_v1_datasets_get_their_kind_and_keep_their_data(v1_raw, v1_session) -> None:
    assert {n: d.kind for n, d in v1_session.datasets.items()} == {
        "aav_lots": DatasetKind.LOTS, "aav_stability": DatasetKind.STABILITY}
    for name, ds in v1_session.datasets.items():
        assert ds.table_json == v1_raw["datasets"][name]["table_json"]
    assert v1_session.profile is not None


def test_v1_upload_named_without_suffix_is_recognised_by_its_time_points(v1_raw) -> None:
    raw = json.loads(json.dumps(v1_raw))
    raw["datasets"]["my_study"] = dict(raw["datasets"].pop("aav_stability"), name="my_study")
    assert Session.from_json(json.dumps(raw)).datasets["my_study"].kind is DatasetKind.STABILITY


def test_saving_a_v1_workbook_writes_the_current_schema_and_reads_back_equal(v1_session, tmp_path) -> None:
    path = v1_session.save(tmp_path / "wb.json")
    written = json.loads(path.read_text(encoding="utf-8"))
    assert written["schema_version"] == 5 == SCHEMA_VERSION
    assert all("kind" in d and "module" not in d for d in written["decisions"])
    assert all(ds["kind"] in ("lots", "stability") for ds in written["datasets"].values())
    assert Session.load(path) == v1_session
    assert migrate(written) == written  # a current file is not touched


def test_v1_decisions_that_do_not_fit_a_kind_are_legacy_and_damage_is_still_named(v1_raw) -> None:
    raw = json.loads(json.dumps(v1_raw))
    odd = raw["decisions"][0]
    odd["result"]["risk_next_ten"] = 0.5  # a horizon that is not a number
    raw["decisions"][3]["inputs"]["lot_types"] = ["pilot"]  # not a lot type
    session = Session.from_json(json.dumps(raw))
    assert isinstance(session.decisions[0], LegacyDecision) and isinstance(session.decisions[3], LegacyDecision)
    assert session.decisions[0].extra["result"]["risk_next_ten"] == 0.5
    assert session.decisions[3].extra["inputs"]["lot_types"] == ["pilot"]
    del raw["decisions"][1]["flexibility_id"]
    with pytest.raises(SessionError, match=r"damaged: decisions, entry 2 \(id '\w+'\): field 'flexibility_id'"):
        Session.from_json(json.dumps(raw))
    raw = json.loads(json.dumps(v1_raw))
    del raw["decisions"][2]["method"]
    with pytest.raises(SessionError, match=r"decisions, entry 3 \(id '\w+'\): field 'method'"):
        Session.from_json(json.dumps(raw))


def test_dataset_requires_a_kind_in_schema_2() -> None:
    raw = json.loads(Session.example().to_json())
    del raw["datasets"]["aav_lots"]["kind"]
    with pytest.raises(SessionError, match=r"datasets\.aav_lots\.kind"):
        Session.from_json(json.dumps(raw))
    assert Dataset.model_fields["kind"].is_required()


def test_a_schema_2_workbook_opens_unchanged(v1_session) -> None:
    """Schema 3 only added decisions' ``superseded`` history (empty by default)."""
    raw = json.loads(v1_session.to_json())
    raw["schema_version"] = 2
    for d in raw["decisions"]:
        assert d.pop("superseded") == []
    assert Session.from_json(json.dumps(raw)) == v1_session


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested far deeper"),
        ('[{"schema_version": 3}]', "JSON object with the sections profile, datasets, decisions"),
        ('"a workbook"', "holds a JSON string"),
        ('{"schema_version": 3, "profile": null, "decisions": []}', "'datasets' section is missing"),
        ('{"schema_version": 3}', "'profile' and 'datasets' and 'decisions' sections are missing"),
    ],
)
def test_files_that_are_not_workbooks_are_refused_with_what_was_expected(text: str, message: str) -> None:
    """Issue #16.8: deep nesting escaped as a RecursionError, a missing section loaded as empty."""
    with pytest.raises(SessionError, match=message):
        Session.from_json(text, source="upload.json")


def test_an_oversized_workbook_is_refused_with_the_limit() -> None:
    from cgtkit.session import MAX_WORKBOOK_BYTES

    with pytest.raises(SessionError, match=f"at most {MAX_WORKBOOK_BYTES // 2**20} MB"):
        Session.from_json(b" " * (MAX_WORKBOOK_BYTES + 1), source="big.json")
