"""The specifications pages without a browser: model derivations, then the view's handlers."""

from __future__ import annotations

import re

import pytest

from cgtkit.session import Session, WorkbookStore
from cgtkit.ui.specifications import SpecificationsView
from cgtkit.ui.specifications_model import SpecificationsModel


@pytest.fixture(scope="module")
def session() -> Session:
    return Session.example()


@pytest.fixture()
def store(tmp_path, session: Session) -> WorkbookStore:
    s = WorkbookStore(tmp_path / "wb.json")
    s.replace(session)
    return s


def test_commercial_defaults_compute_candidates_and_replay(session: Session) -> None:
    model = SpecificationsModel(session, mode="commercial")
    assert model.dataset == "car_t_lots" and model.lot_types == ["clinical", "ppq"]
    view = model.compute()
    assert view.candidates is not None and view.replay is not None
    assert view.candidates.n == 27
    decision = model.decision(view, model.default_justification(view))
    assert decision.module == "commercial_specifications" and decision.flexibility_id == "CS-SPEC-FLEX-BLA"
    assert decision.result["risk_next_100"] == view.candidates.get("ti_99_95").risk[100]
    assert "601.12" in decision.justification


def test_investigational_mode_proposes_every_attribute(session: Session) -> None:
    model = SpecificationsModel(session, mode="investigational")
    view = model.compute()
    assert {p.attribute for p in view.proposals} >= {"viability", "sterility", "vector_copy_number"}
    assert next(p for p in view.proposals if p.attribute == "sterility").basis == "fixed requirement"


def test_safety_attribute_has_no_computed_criterion(session: Session) -> None:
    model = SpecificationsModel(session, mode="commercial")
    model.attribute = "sterility"
    view = model.compute()
    assert view.fixed and view.candidates is None
    with pytest.raises(ValueError, match="fixed safety requirement"):
        model.decision(view, "anything")


def test_empty_justification_is_refused(session: Session) -> None:
    model = SpecificationsModel(session)
    with pytest.raises(ValueError, match="Write a justification"):
        model.decision(model.compute(), "   ")


def test_view_accept_records_decision_in_store(store: WorkbookStore) -> None:
    page = SpecificationsView(store, "commercial")
    assert page.status.kind in ("", "info")
    page.accept.click()
    assert page.accept_status.kind == "success", page.accept_status.text
    assert len(store.load().decisions_for("commercial_specifications")) == 1
    assert "Decisions recorded on this page: <b>1</b>" in page.decisions.value


def test_view_bad_choice_keeps_previous_results(store: WorkbookStore) -> None:
    page = SpecificationsView(store, "commercial")
    before = page.table.value
    assert before
    page.lot_boxes["clinical"].value = False  # ppq only: 3 lots, still enough
    assert page.status.kind != "error", page.status.text
    three_lots = page.table.value
    assert "3 lots of type ppq" in three_lots
    # unticking the last box is refused: the box comes back on and the results stay
    page.lot_boxes["ppq"].value = False
    assert page.lot_boxes["ppq"].value is True
    assert page.status.kind == "error" and "at least one lot type" in page.status.text
    assert page.table.value == three_lots


def test_view_too_few_lots_keeps_previous_results(store: WorkbookStore) -> None:
    page = SpecificationsView(store, "commercial")
    page.attribute.value = "cd3_purity"
    shown = page.table.value
    page.lot_boxes["clinical"].value = False
    page.lot_boxes["engineering"].value = True
    page.lot_boxes["ppq"].value = False  # 3 engineering lots: enough
    page.dataset.value = "aav_lots"  # AAV: 2 engineering lots only for the first attribute
    assert page.status.kind == "error" and "only 2 lot" in page.status.text
    assert page.table.value != ""  # the last valid tables stay on screen
    assert shown


def test_view_edited_justification_is_kept(store: WorkbookStore) -> None:
    page = SpecificationsView(store, "commercial")
    assert page.attribute.value == "viability"
    page.justification.value = "My own words, citing the 99/95 tolerance interval."
    page.attribute.value = "cd3_purity"
    assert page.justification.value == "My own words, citing the 99/95 tolerance interval."
    assert "kept" in page.accept_status.text
    page.redraft.click()
    assert "CD3+ purity" in page.justification.value


def test_view_safety_attribute_shows_fixed_requirement(store: WorkbookStore) -> None:
    page = SpecificationsView(store, "investigational")
    page.attribute.value = "sterility"
    assert "fixed safety requirement" in page.about.value
    assert page.flexibility.value == "CD-SAFETY-ATTRIBUTES"
    assert page.status.kind != "error"


def _store_with(tmp_path, rows: str) -> WorkbookStore:
    from cgtkit.io import load_lots

    header = "lot_id,attribute,value,unit,lot_type,manufacture_date\n"
    csv = tmp_path / "crafted.csv"
    csv.write_text(header + rows)
    store = WorkbookStore(tmp_path / "crafted.json")
    base = Session().with_dataset("crafted", load_lots(csv), source="test")
    store.replace(base)
    return store


def _rows(attribute: str, unit: str, values: list[str]) -> str:
    return "".join(
        f"C{i:02d},{attribute},{v},{unit},clinical,2025-01-{i + 1:02d}\n" for i, v in enumerate(values)
    )


@pytest.mark.parametrize(
    ("attribute", "unit", "values", "message"),
    [
        ("potency", "%", ["101", "99"], "only 2 lot"),
        ("potency", "%", ["100", "100", "100", "100"], "variab"),
        ("residual_hcdna", "ng/dose", ["<10", "<10", "<10", "<10"], "censored"),
        ("vector_copy_number", "copies/transduced cell", ["1.2", "0", "2.1", "1.7"], "positive"),
    ],
)
def test_page_shows_clear_message_for_unusable_data(tmp_path, attribute, unit, values, message) -> None:
    store = _store_with(tmp_path, _rows(attribute, unit, values) + _rows("viability", "%", ["88", "91", "86", "90"]))
    page = SpecificationsView(store, "commercial")  # opens on the first attribute with usable data
    page.attribute.value = attribute
    assert page.status.kind == "error"
    assert re.search(message, page.status.text), page.status.text
    assert "Traceback" not in page.status.text
    assert "previous selection" in page.status.text  # the last valid results stay on screen


def test_commercial_view_safety_attribute_clears_computed_outputs(store: WorkbookStore) -> None:
    page = SpecificationsView(store, "commercial")
    assert page.candidate.options  # candidates for viability
    page.attribute.value = "sterility"
    assert page.status.kind != "error", page.status.text
    assert "fixed safety requirement" in page.about.value
    assert page.table.value == "" and page.candidate.options == ()
    page.accept.click()
    assert page.accept_status.kind == "error" and "no computed criterion" in page.accept_status.text
    page.attribute.value = "viability"  # and back: candidates return
    assert page.candidate.value == "ti_99_95"


def test_lots_table_shows_censored_and_pass_fail_results(store: WorkbookStore) -> None:
    page = SpecificationsView(store, "investigational")
    page.attribute.value = "endotoxin"
    assert "&lt;0.5" in page.lots_table.value and "27 lots of this selection" in page.lots_table.value
    page.attribute.value = "sterility"
    assert ">pass<" in page.lots_table.value


def test_accept_all_investigational_proposals(store: WorkbookStore) -> None:
    page = SpecificationsView(store, "investigational")
    page.attribute.value = "cd3_purity"
    page.accept_all.click()
    assert page.accept_status.kind == "success", page.accept_status.text
    recorded = store.load().decisions_for("clinical_development")
    by_attr = {d.inputs["attribute"]: d.flexibility_id for d in recorded}
    assert by_attr["viability"] == "CD-RELEASE-PERMISSIVE" and by_attr["sterility"] == "CD-SAFETY-ATTRIBUTES"
    assert len(recorded) == len(page.attribute.options)
    assert page.attribute.value == "cd3_purity" and page.model.attribute == "cd3_purity"  # the choice is kept


def test_a_recorded_decision_can_be_removed(store: WorkbookStore) -> None:
    page = SpecificationsView(store, "commercial")
    assert page.remove_box.layout.display == "none"
    page.accept.click()
    page.attribute.value = "cd3_purity"
    page.accept.click()
    assert len(store.load().decisions_for("commercial_specifications")) == 2
    assert "cd3_purity" in page.remove_choice.label  # newest first
    page.remove_button.click()
    assert page.accept_status.kind == "success"
    left = store.load().decisions_for("commercial_specifications")
    assert [d.inputs["attribute"] for d in left] == ["viability"]
    assert "Decisions recorded on this page: <b>1</b>" in page.decisions.value
