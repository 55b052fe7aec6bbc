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


# -- issue #17: grades per claim, the meeting plan, what is not flexible ----------------------
def test_cards_show_what_each_claim_rests_on(tmp_path) -> None:
    view = build_page(WorkbookStore(tmp_path / "wb.json"))
    html = view.results.value
    assert "data-flexibility='CD-SAFETY-ATTRIBUTES' data-basis='fda_official_remarks'" in html
    assert "data-flexibility='CS-RESERVE-SAMPLES' data-basis='final_guidance'" in html
    assert "rests on" in html and "FDA official&#x27;s remarks" in html
    # a condition graded apart from its claim, and the plain note where wording was not checked
    assert "data-basis='cgtkit_reading'" in html and "cgtkit&#x27;s reading" in html
    assert "not checked against the source text" in html
    assert "needs_verification" not in html and "verify wording" not in html
    assert "Decided by: Stage, Modality" in html and "Decided by: Planned change" in html  # form labels, not fields
    # the claim checked against the regulation carries no "not checked" badge
    card = html.split("data-flexibility='CD-CGMP-PHASE'")[1].split("cgt-reasons")[0]
    assert "cgt-unchecked" not in card


def test_meeting_plan_and_readiness_follow_the_profile(tmp_path) -> None:
    view = build_page(WorkbookStore(tmp_path / "wb.json"))
    assert "Next FDA meeting: an end-of-phase 1 meeting (Type B (EOP))" in view.plan.value
    assert "within 70 days of FDA receiving the request" in view.plan.value
    assert "at least 50 days before the meeting" in view.plan.value
    assert "Draft question for FDA" in view.plan.value and "proposed position" in view.plan.value
    assert view.readiness.value == ""
    view.stage.value = "phase 2"
    view.pivotal.value = True
    assert view.model.profile.pivotal_study
    assert "Next FDA meeting: a Type C meeting" in view.plan.value
    assert "BLA readiness" in view.readiness.value and "Potency assay validated" in view.readiness.value
    questions = [q.flexibility_id for q in view.model.plan.questions]
    assert "PV-PPQ-LOT-NUMBER" in questions and "CS-SPEC-FLEX-BLA" in questions


def test_not_flexible_and_guidances_sections(tmp_path) -> None:
    view = build_page(WorkbookStore(tmp_path / "wb.json"))
    for needle in ("Sterility testing of every lot", "Mycoplasma", "Replication-competent virus", "Adventitious",
                   "Endotoxin", "Donor eligibility", "21 CFR 610.10", "21 CFR 610.1)", "Process performance "
                   "qualification itself", "pre-license inspection", "21 CFR 601.12"):
        assert needle in view.not_flexible.value, needle
    assert "Chimeric Antigen Receptor" in view.guidances.value
    assert "Potency Assurance" in view.guidances.value


def test_new_fields_reach_the_profile_and_errors_stay_in_the_status_line(tmp_path) -> None:
    store = WorkbookStore(tmp_path / "wb.json")
    view = build_page(store)
    view.containers_per_lot.value = 1
    view.doses_per_lot.value = 1
    assert view.model.profile.final_containers_per_lot == 1 and view.model.profile.doses_per_lot == 1
    view.containers_per_lot.value = 0  # 0 means not entered
    assert view.model.profile.final_containers_per_lot is None
    view.ind_type.value = "single_patient"
    assert view.model.profile.ind_type == "single_patient" and "single-patient" in view.results.value
    view.stage.value = "pre-IND"  # a single-patient IND at the pre-IND stage: refused, results kept
    assert view.status.kind == "error" and "Expanded access and single-patient INDs are INDs" in view.status.text
    assert "Traceback" not in view.status.text
    assert store.load().profile.ind_type == "single_patient" and store.load().profile.stage == "phase 1"


def test_catalog_note_summarizes_what_was_checked(tmp_path) -> None:
    from cgtkit.ui.start_here import catalog_note_html

    view = build_page(WorkbookStore(tmp_path / "wb.json"))
    note = catalog_note_html(view.catalog)
    assert "statements attributed to a source were checked" in note
    assert "Checked against the primary text: 21 CFR 210.2(c)" in note and "Not checked: The 2026 final guidance" in note


def test_two_tabs_never_overwrite_each_other(tmp_path) -> None:
    """Walk-through finding: tab 1 set the shelf life, tab 2 (not yet refreshed) changed the patients and
    its save brought back the old shelf life. Each tab saves only what it changed."""
    store = WorkbookStore(tmp_path / "wb.json")
    tab1, tab2 = build_page(store), build_page(store)
    tab1.shelf_life.value = 200
    assert store.load().profile.shelf_life_days == 200
    tab2.population.value = 3000
    saved = store.load().profile
    assert (saved.shelf_life_days, saved.patient_population) == (200, 3000)
    assert tab2.shelf_life.value == 200 and "kept (shelf_life_days)" in tab2.status.text
