"""The Start here page without a browser: form -> profile -> assessment -> workbook."""

from __future__ import annotations

from cgtkit.session import WorkbookStore
from cgtkit.ui.start_here import assessment_html, build_page


def test_stage_change_updates_results_and_saves_profile(tmp_path) -> None:
    store = WorkbookStore(tmp_path / "wb.json")
    view = build_page(store)
    view.stage.value = "phase 3"
    assert view.status.kind == "success"
    assert "stage <b>phase 3</b>" in view.results.value
    assert store.load().profile.stage == "phase 3"


def test_invalid_input_keeps_last_valid_results(tmp_path) -> None:
    store = WorkbookStore(tmp_path / "wb.json")
    view = build_page(store)
    before = view.results.value
    view.stage.value = "post-approval"  # with the example's 3 engineering + 8 clinical lots: valid
    after_valid = view.results.value
    assert after_valid != before
    for box in view.lots.values():
        box.value = 0  # post-approval with zero lots made: invalid
    assert view.status.kind == "error" and "at least one" in view.status.text
    assert view.results.value == after_valid
    assert store.load().profile.lots_made.total > 0  # the workbook keeps the last valid profile


def test_reset_restores_example_profile(tmp_path) -> None:
    view = build_page(WorkbookStore(tmp_path / "wb.json"))
    view.stage.value = "phase 2"
    view.reset.click()  # asks first; declining keeps the profile (issue #16.5)
    assert view.status.kind == "warning" and "example CAR-T profile" in view.status.text
    view.confirm.cancel.click()
    assert view.stage.value == "phase 2" and view.model.profile.stage == "phase 2"
    view.reset.click()
    view.confirm.yes.click()
    assert view.stage.value == "phase 1" and view.status.kind == "success"


def test_filter_shows_only_one_status(tmp_path) -> None:
    view = build_page(WorkbookStore(tmp_path / "wb.json"))
    html = assessment_html(view.assessment, "not_applicable")
    assert "cgt-flex-not_applicable" in html and "cgt-flex-applies_now" not in html


def test_the_form_is_linked_to_the_model(tmp_path) -> None:
    view = build_page(WorkbookStore(tmp_path / "wb.json"))
    view.model.stage = "pre-IND"  # model -> widget
    view.model.stage = "phase 1"
    assert view.stage.value == "phase 1" and view.model.profile.stage == "phase 1"
    view.lots["ppq"].value = 2  # widget -> model: PPQ lots at phase 1 are refused
    assert view.model.ppq == 2 and "PPQ lots" in view.model.problem
    assert view.model.profile.lots_made.ppq == 0  # the last valid profile stays
    view.lots["ppq"].value = 0
    assert view.model.problem == "" and view.status.kind != "error"


def test_a_profile_saved_elsewhere_is_followed_on_show(tmp_path) -> None:
    store = WorkbookStore(tmp_path / "wb.json")
    view = build_page(store)
    from cgtkit.profile import ProductProfile

    other = ProductProfile.build(**{**store.load().profile.model_dump(), "stage": "phase 3"})
    WorkbookStore(store.path).update(lambda s: s.with_profile(other))
    view.on_show()
    assert view.stage.value == "phase 3" and view.status.kind == "info"
