"""The Comparability page without a browser: model defaults, the plan, verdicts, decisions, and bad
choices that leave the previous results on screen with a message (issue #18)."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from cgtkit import decisions
from cgtkit.decisions import ComparabilityDecision
from cgtkit.errors import InsufficientDataError
from cgtkit.io import load_lots
from cgtkit.session import Session, WorkbookStore
from cgtkit.ui import comparability
from cgtkit.ui.comparability_model import ComparabilityModel, default_rank


def _csv(rows: list[str], header: str = "lot_id,attribute,value,unit,lot_type,manufacture_date,process_version") -> pd.DataFrame:
    return load_lots(io.BytesIO(("\n".join([header, *rows]) + "\n").encode()), name="lots.csv")


def test_defaults_compare_the_two_versions_and_ask_for_the_change(session: Session) -> None:
    m = ComparabilityModel(session)
    assert (m.dataset, m.pre_version, m.post_version) == ("car_t_lots", "v1", "v2")
    assert m.plan is None and "Describe the change first" in m.plan_problem
    assert m.ranks["ifng_potency"] == "high" and m.ranks["vector_copy_number"] == "high"  # potency, safety topic
    assert m.ranks["viability"] == "medium" and default_rank("sterility") == "high"
    assert m.problem == "" and {a.attribute for a in m.view.result.attributes} == set(m.ranks)
    with pytest.raises(InsufficientDataError, match="Describe the change"):
        m.decision("Mine.")


def test_aav_example_shows_both_outcomes_and_records_one_conclusion_per_comparison(store: WorkbookStore) -> None:
    page = comparability.build_page(store)
    page.dataset.value = "aav_lots"
    page.change_boxes["scale"].value = True
    assert "Class of the change: moderate" in page.plan.value
    verdicts = {a.attribute: a.comparable for a in page.model.view.result.attributes}
    assert verdicts["full_capsid_pct"] is True and verdicts["relative_potency"] is False
    assert "censored" in page.verdicts.value  # "<10" results are never tested silently
    page.rank_widgets["residual_hcdna"].value = "low"
    assert "graphical" in page.verdicts.value
    draft = page.panel.justification.value
    assert "moderate change (scale-up or scale-out)" in draft and "Not shown: Vector genome titer, Relative potency" in draft
    page.panel.accept.click()
    page.panel.accept.click()  # accepting again replaces: one conclusion per comparison
    saved = [d for d in store.load().decisions if d.page == "comparability"]
    assert len(saved) == 1 and isinstance(saved[0], ComparabilityDecision) and len(saved[0].superseded) == 1
    d = saved[0]
    assert d.classification == "moderate" and d.pre_label == "pre-change (v1)" and len(d.post_lots) == 8
    potency = next(f for f in d.findings if f.attribute == "relative_potency")
    assert potency.comparable is False and potency.ci_low == pytest.approx(-14.49, abs=0.01)
    assert "not shown for Vector genome titer, Relative potency" in decisions.summary(d)


def test_approved_product_gets_a_reporting_category(session: Session) -> None:
    m = ComparabilityModel(session)
    m.approved = True
    m.change_types = ["closed_automated"]
    assert m.plan.classification == "major" and "Prior approval" in (m.plan.reporting_category or "")


def test_bad_choices_keep_the_previous_results_with_a_message(store: WorkbookStore) -> None:
    page = comparability.build_page(store)
    shown = page.verdicts.value
    page.pre.value = "v2"  # the same version on both sides
    assert page.status.kind == "error" and "different process versions" in page.status.text
    assert page.verdicts.value == shown and "previous comparison" in page.model.problem
    page.pre.value = "v1"
    assert page.status.kind != "error"
    page.margin.value = 0.1
    for attribute in list(page.rank_widgets):
        page.rank_widgets[attribute].value = ""
    assert "Rank at least one attribute" in page.status.text and page.verdicts.value != ""


@pytest.mark.parametrize(("rows", "fragment"), [
    (["A1,potency,100,%,clinical,2024-01-01,v1", "A2,potency,102,%,clinical,2024-01-02,v1",
      "B1,potency,101,%,clinical,2024-02-01,v2"], "post"),  # one lot after the change
    (["A1,potency,100,%,clinical,2024-01-01,v1", "A2,potency,100,%,clinical,2024-01-02,v1",
      "B1,potency,100,%,clinical,2024-02-01,v2", "B2,potency,100,%,clinical,2024-02-02,v2"], "same result"),
    (["A1,potency,100,%,clinical,2024-01-01,v1", "A2,potency,104,%,clinical,2024-01-02,v1",
      "B1,titer,1e9,vg/mL,clinical,2024-02-01,v2", "B2,titer,2e9,vg/mL,clinical,2024-02-02,v2"], "missing"),
])
def test_data_problems_are_reported_per_attribute(rows: list[str], fragment: str) -> None:
    session = Session().with_dataset("mine", _csv(rows), "test")
    m = ComparabilityModel(session)
    m.ranks = {a: "high" for a in m.ranks}
    problems = [a.problem or "" for a in m.view.result.attributes] if m.view else [m.problem]
    assert any(fragment in p.lower() for p in problems), problems


def test_unpaired_lots_in_a_paired_design_give_a_message() -> None:
    header = "lot_id,attribute,value,unit,lot_type,manufacture_date,process_version,donor_id"
    rows = ["A1,potency,100,%,clinical,2024-01-01,v1,D1", "A2,potency,104,%,clinical,2024-01-02,v1,D2",
            "B1,potency,101,%,clinical,2024-02-01,v2,D1", "B2,potency,103,%,clinical,2024-02-02,v2,D3"]
    m = ComparabilityModel(Session().with_dataset("mine", _csv(rows, header), "test"))
    assert m.can_pair and m.problem == ""
    m.paired = True
    assert "Unpaired lots" in m.problem and m.view is not None  # the independent comparison stays
    assert not m.view.result.lots.paired


def test_the_profile_s_kind_of_change_describes_the_change(session: Session) -> None:
    profile = session.profile.model_copy(update={"change_type": "site_transfer", "stage": "post-approval"})
    m = ComparabilityModel(session.with_profile(profile))
    assert m.change_types == ["site_transfer"] and m.approved and m.plan.classification == "major"


def test_verdicts_of_an_earlier_choice_are_never_recorded(store: WorkbookStore) -> None:
    page = comparability.build_page(store)
    page.change_boxes["scale"].value = True
    page.pre.value = "v2"  # the same version on both sides: a message, the previous verdicts stay
    page.panel.accept.click()
    assert "previous choice" in page.panel.status.text
    assert not store.load().decisions_for("comparability")
