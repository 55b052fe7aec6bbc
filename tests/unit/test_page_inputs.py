"""What the user entered on a page survives a reload (issue #21's "nothing lost", for inputs before a decision)."""

from __future__ import annotations

import json

import pytest

from cgtkit.session import Session, WorkbookStore
from cgtkit.ui import comparability, process_validation
from cgtkit.ui.page_inputs import InputsFile


@pytest.fixture()
def store(tmp_path) -> WorkbookStore:
    s = WorkbookStore(tmp_path / "wb.json")
    s.replace(Session.example())
    return s


def test_comparability_ranks_and_description_come_back_after_a_reload(store: WorkbookStore) -> None:
    first = comparability.build_page(store)
    m = first.model
    m.change_description = "moved to a closed, automated system"
    m.ranks = {**m.ranks, "viability": "low", "cd3_purity": ""}
    m.margin_sd = 2.0
    again = comparability.build_page(store)  # a reload builds the page anew from the saved workbook
    assert again.model.change_description == "moved to a closed, automated system"
    assert again.model.ranks == m.ranks and again.model.margin_sd == 2.0
    assert again.description.value == "moved to a closed, automated system" and again.margin.value == 2.0
    assert again.model.view is not None and again.model.view.result.settings.margin_sd == 2.0  # derived from them
    assert "change_description" in json.loads(store.inputs_path.read_text())["pages"]["comparability"]


def test_only_what_differs_from_the_page_own_values_is_saved(store: WorkbookStore) -> None:
    """A prefilled answer is not frozen: a changed profile prefills it anew."""
    page = process_validation.build_page(store)
    page.model.product_knowledge_rationale = "ten years of platform data"
    saved = InputsFile(store.inputs_path).page("process_validation")
    assert saved == {"product_knowledge_rationale": "ten years of platform data"}
    assert "stage" not in saved  # prefilled from the profile, untouched


def test_planner_answers_come_back_and_the_planned_number_stays_the_users(store: WorkbookStore) -> None:
    m = process_validation.build_page(store).model
    m.use_assessment = True
    m.product_knowledge, m.product_knowledge_rationale = "high", "ten years of platform data"
    m.within_shelf_life = "yes"
    m.n_planned = 2
    again = process_validation.build_page(store)
    m2 = again.model
    assert (m2.use_assessment, m2.product_knowledge, m2.product_knowledge_rationale, m2.within_shelf_life,
            m2.n_planned) == (True, "high", "ten years of platform data", "yes", 2)
    assert again.risk_widgets["product_knowledge_rationale"].value == "ten years of platform data"
    assert again.answers["within_shelf_life"].value == "yes"
    m2.selection.dataset = [d for d in m2.selection.dataset_options if d != m2.selection.dataset][0]
    assert m2.n_planned == 2  # chosen by the user: a new data set does not move it


def test_a_value_the_page_can_no_longer_take_is_skipped(store: WorkbookStore) -> None:
    InputsFile(store.inputs_path).save_page("comparability", {
        "ranks": {"viability": "low", "gone_attribute": "high"}, "margin_sd": "wide"})
    m = comparability.build_page(store).model
    assert m.ranks["viability"] == "low" and "gone_attribute" not in m.ranks  # kept where the key still exists
    assert m.margin_sd == 1.5  # not a number: the page's own value


def test_choices_made_within_a_data_set_since_removed_are_not_applied_to_another(store: WorkbookStore) -> None:
    InputsFile(store.inputs_path).save_page("comparability", {
        "dataset": "removed since", "ranks": {"viability": "low"}, "change_description": "new site"})
    m = comparability.build_page(store).model
    assert m.dataset in m.dataset_options and m.dataset != "removed since"
    assert m.ranks["viability"] != "low"  # ranked for the removed data set's lots
    assert m.change_description == "new site"  # about the change, not the data: kept
    InputsFile(store.inputs_path).save_page("commercial_specifications.selection", {
        "dataset": "removed since", "attribute": "viability", "process_versions": []})
    from cgtkit.ui import commercial_specifications

    sel = commercial_specifications.build_page(store).model.selection
    assert sel.process_versions and sel.process_versions[0] in {v for _l, v in sel.version_options}


def test_an_empty_choice_is_restored_only_where_the_page_allows_none(store: WorkbookStore) -> None:
    """Process versions saved empty (a data set without any) are no choice for a data set that has them."""
    from cgtkit.ui import commercial_specifications

    InputsFile(store.inputs_path).save_page("commercial_specifications.selection", {"process_versions": []})
    sel = commercial_specifications.build_page(store).model.selection
    assert sel.process_versions


@pytest.mark.parametrize("content", ["{not json", '{"format": 99, "pages": {}}', '["a list"]', ""])
def test_a_damaged_inputs_file_never_stops_a_page(store: WorkbookStore, content: str) -> None:
    store.inputs_path.write_text(content)
    page = comparability.build_page(store)
    assert page.model.view is not None
    page.model.margin_sd = 2.5  # and saving writes a good file again
    assert InputsFile(store.inputs_path).page("comparability") == {"margin_sd": 2.5}


def test_opening_another_workbook_clears_the_inputs(store: WorkbookStore) -> None:
    comparability.build_page(store).model.margin_sd = 2.0
    assert store.inputs_path.exists()
    store.replace(Session.example())
    assert not store.inputs_path.exists()
    assert comparability.build_page(store).model.margin_sd == 1.5


def test_each_page_keeps_its_own(store: WorkbookStore) -> None:
    comparability.build_page(store).model.margin_sd = 2.0
    process_validation.build_page(store).model.mapping_rationale = "risk-based"
    pages = InputsFile(store.inputs_path).read()
    assert pages == {"comparability": {"margin_sd": 2.0}, "process_validation": {"mapping_rationale": "risk-based"}}


def test_the_lot_selection_and_method_come_back_on_commercial_specifications(store: WorkbookStore) -> None:
    from cgtkit.ui import commercial_specifications

    m = commercial_specifications.build_page(store).model
    m.selection.dataset = "aav_lots"
    m.selection.attribute = [a for _l, a in m.selection.attribute_options if a != m.selection.attribute][0]
    m.selection.lot_types = ["clinical"]
    assert m.method == "exact"
    m.method = "howe"
    chosen = (m.selection.dataset, m.selection.attribute, m.selection.lot_types, m.method)
    again = commercial_specifications.build_page(store)
    m2 = again.model
    assert (m2.selection.dataset, m2.selection.attribute, m2.selection.lot_types, m2.method) == chosen
    assert m2.result is not None and m2.result.data.spec.id == chosen[1]  # computed for the restored choices


def test_stability_lots_limits_and_claim_come_back(store: WorkbookStore) -> None:
    from cgtkit.ui import stability_samples

    page = stability_samples.build_page(store)
    st, sa = page.model.stability, page.model.samples
    st.lots = st.lots[:-1]
    st.lower_limit, st.claim = "60", "24"
    sa.retention_containers = 2
    again = stability_samples.build_page(store).model
    assert again.stability.lots == st.lots and again.stability.lower_limit == "60"
    assert again.stability.claim == "24" and again.stability._claim_typed  # typed: no longer drafted
    assert again.samples.retention_containers == 2


def test_the_approval_tick_on_comparability_comes_back(store: WorkbookStore) -> None:
    m = comparability.build_page(store).model
    assert not m.approved  # the example profile is not approved
    m.change_types = ["scale"]
    m.approved = True
    again = comparability.build_page(store)
    assert again.model.approved and again.approved.value
    assert again.model.plan is not None and again.model.plan.reporting_category  # the plan after approval


def test_limits_typed_on_process_validation_come_back_for_their_attribute(store: WorkbookStore) -> None:
    m = process_validation.build_page(store).model
    first = m.selection.attribute
    m.lower, m.upper = "60", "99"
    other = next(a for _l, a in m.selection.attribute_options if a != first)
    m.selection.attribute = other
    m.lower = "1"
    again = process_validation.build_page(store).model
    assert again.selection.attribute == other and (again.lower, again.upper) == ("1", "")
    again.selection.attribute = first
    assert (again.lower, again.upper) == ("60", "99")  # typed for that attribute, kept with it
    assert again.result is not None and again.problem == ""


def test_a_claim_written_with_its_unit_is_read_and_comes_back(store: WorkbookStore) -> None:
    from cgtkit.ui import stability_samples

    st = stability_samples.build_page(store).model.stability
    st.lower_limit = "60"  # viability falls: its claim needs a lower limit
    st.claim = f"12 {st.view.analysis.time_unit}"  # "12 months": the number with the data's time unit
    assert st.problem == "" and st.view is not None
    again = stability_samples.build_page(store).model.stability
    assert again.claim == st.claim and again.problem == "" and again.view is not None
