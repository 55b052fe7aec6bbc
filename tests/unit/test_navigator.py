"""The navigator: statuses, the reasons behind them, next steps and the timeline."""

from __future__ import annotations

import pytest

from cgtkit.catalog import AREAS, load_catalog
from cgtkit.navigator import (
    FEW_LOTS_MAX,
    RELEVANCES,
    RULES,
    SHORT_SHELF_LIFE_DAYS,
    STATUSES,
    VERY_SMALL_POPULATION_MAX,
    Assessment,
    assess,
    assess_one,
    stage_window_rule,
)
from cgtkit.profile import STAGES, ProductProfile, load_product_types

# -- realistic profiles ---------------------------------------------------------------
PROFILES: dict[str, dict] = {
    "phase1_car_t": dict(
        name="Autologous CD19 CAR-T", modality="autologous_cell", stage="phase 1", individualized=True,
        lots_made={"engineering": 3, "clinical": 8}, lots_per_year=30, patient_population=20000,
        shelf_life_days=365,
    ),
    "phase3_aav": dict(
        name="AAV9 gene therapy", modality="aav_in_vivo", stage="phase 3", individualized=False,
        lots_made={"engineering": 3, "clinical": 4, "ppq": 2}, lots_per_year=4, patient_population=3000,
        shelf_life_days=730,
    ),
    "post_car_t_automation": dict(
        name="Licensed CAR-T", modality="autologous_cell", stage="post-approval", individualized=True,
        lots_made={"clinical": 60, "ppq": 3, "commercial": 150}, lots_per_year=400, patient_population=15000,
        shelf_life_days=270, planned_change="major",
        change_description="move manufacturing to an automated closed system", new_technology_interest=True,
    ),
    "post_car_t_automation_minor": dict(
        name="Licensed CAR-T", modality="autologous_cell", stage="post-approval", individualized=True,
        lots_made={"clinical": 60, "ppq": 3, "commercial": 150}, lots_per_year=400, patient_population=15000,
        shelf_life_days=270, planned_change="minor",
        change_description="automate the final formulation step", new_technology_interest=True,
    ),
    "n_of_few_editing": dict(
        name="Individualized base editor", modality="in_vivo_genome_editing", stage="phase 1", individualized=True,
        lots_made={"engineering": 2, "clinical": 1}, lots_per_year=3, patient_population=12,
        shelf_life_days=90,
    ),
    "pre_ind_allogeneic": dict(
        name="Allogeneic NK cells", modality="allogeneic_cell", stage="pre-IND", individualized=False,
        lots_made={"engineering": 2}, lots_per_year=6, patient_population=40000, shelf_life_days=365,
    ),
    "bla_lentiviral": dict(
        name="LV-modified HSCs", modality="lv_rv_ex_vivo", stage="BLA", individualized=True,
        lots_made={"engineering": 3, "clinical": 40, "ppq": 3}, lots_per_year=60, patient_population=1500,
        shelf_life_days=21,
    ),
    "phase2_edited_minor": dict(
        name="Edited T cells", modality="genome_edited_cells", stage="phase 2", individualized=True,
        lots_made={"engineering": 4, "clinical": 15}, lots_per_year=40, patient_population=5000,
        shelf_life_days=180, planned_change="minor", change_description="switch to a closed-system cell wash",
    ),
    "post_aav_specs": dict(
        name="Licensed AAV", modality="aav_in_vivo", stage="post-approval", individualized=False,
        lots_made={"clinical": 8, "ppq": 3, "commercial": 12}, lots_per_year=6, patient_population=2000,
        shelf_life_days=365,
    ),
}


def profile(key: str, **overrides: object) -> ProductProfile:
    return ProductProfile.build(**{**PROFILES[key], **overrides})


def run(key: str, **overrides: object) -> Assessment:
    return assess(profile(key, **overrides))


def reasons(a: Assessment, fid: str) -> str:
    return " ".join(a.item(fid).reasons)


def check(a: Assessment, fid: str, status: str, *needles: str) -> None:
    item = a.item(fid)
    assert item.status == status, (fid, item.status, item.reasons)
    text = " ".join(item.reasons)
    for needle in needles:
        assert needle in text, (fid, needle, text)


# -- (a) reachability: every entry can apply now ---------------------------------------
REACH: dict[str, tuple[str, dict]] = {
    "GEN-SCOPE-ENGAGE": ("pre_ind_allogeneic", {}),
    "CD-CGMP-PHASE": ("phase1_car_t", {}),
    "CD-RELEASE-PERMISSIVE": ("phase1_car_t", {}),
    "CD-SAFETY-ATTRIBUTES": ("phase1_car_t", {}),
    "CD-MINOR-CHANGES": ("phase2_edited_minor", {}),
    "CD-PRIOR-KNOWLEDGE": ("pre_ind_allogeneic", {}),
    "CD-CONSENSUS-STANDARDS": ("phase3_aav", {}),
    "PV-LIFECYCLE": ("post_aav_specs", {}),
    "PV-PPQ-LOT-NUMBER": ("phase3_aav", {}),
    "PV-CONCURRENT-RELEASE": ("post_car_t_automation", {}),
    "PV-PPQ-CLINICAL-USE": ("bla_lentiviral", {}),
    "CS-SPEC-FLEX-BLA": ("bla_lentiviral", {}),
    "CS-SPEC-LIFECYCLE": ("post_aav_specs", {}),
    "CS-AMV-FEWER-LOTS": ("bla_lentiviral", {}),
    "CS-STABILITY-CLINICAL-LOTS": ("phase3_aav", {}),
    "CS-RESERVE-SAMPLES": ("phase2_edited_minor", {}),
    "CS-ALT-METHODS": ("bla_lentiviral", {}),
    "RP-AMT": ("post_car_t_automation", {}),
    "RP-PLAUSIBLE-MECHANISM": ("n_of_few_editing", {}),
}


def test_reach_table_covers_the_catalog_and_rules() -> None:
    ids = set(load_catalog().ids)
    assert set(REACH) == ids
    assert set(RULES) == ids


@pytest.mark.parametrize("fid", list(REACH))
def test_every_flexibility_is_reachable(fid: str) -> None:
    key, overrides = REACH[fid]
    assert run(key, **overrides).status_of(fid) == "applies_now"


@pytest.mark.parametrize("key", list(PROFILES))
def test_scope_and_engagement_always_apply_now(key: str) -> None:
    a = run(key)
    check(a, "GEN-SCOPE-ENGAGE", "applies_now", "21 CFR part 601", f"Stage is {a.profile.stage}")


# -- (b) realistic profiles: statuses and the deciding facts in the reasons -------------
def test_phase1_autologous_car_t() -> None:
    a = run("phase1_car_t")
    check(a, "CD-CGMP-PHASE", "applies_now", "Stage is phase 1", "21 CFR 210.2(c)", "phase 2 or 3",
          "parts 600-680")
    check(a, "CD-RELEASE-PERMISSIVE", "applies_now", "Stage is phase 1", "11 lots made so far", "8 clinical")
    check(a, "CD-SAFETY-ATTRIBUTES", "applies_now", "vector copy number", "3 engineering lots",
          "no predefined limit")
    check(a, "CD-MINOR-CHANGES", "not_applicable", "no manufacturing change is planned")
    check(a, "PV-PPQ-LOT-NUMBER", "later_stage", "not a default of three")
    check(a, "PV-CONCURRENT-RELEASE", "later_stage", "only after BLA approval")
    check(a, "CS-RESERVE-SAMPLES", "later_stage", "211.170(b)", "individualized")
    check(a, "CS-ALT-METHODS", "applies_now", "individualized")
    check(a, "CS-SPEC-LIFECYCLE", "later_stage", "patient-to-patient variability")
    assert "patient-to-patient" not in reasons(run("n_of_few_editing"), "CS-SPEC-LIFECYCLE")
    check(a, "RP-AMT", "not_applicable", "no interest in new manufacturing technology")
    check(a, "RP-PLAUSIBLE-MECHANISM", "not_applicable", "Autologous cell therapy")


def test_phase3_aav_planning_bla_with_two_ppq_lots() -> None:
    a = run("phase3_aav")
    check(a, "PV-PPQ-LOT-NUMBER", "applies_now", "Stage is phase 3", "2 PPQ lots made so far",
          "three PPQ lots are not required")
    check(a, "PV-PPQ-CLINICAL-USE", "applies_now", "2 PPQ lots made so far", "IND release criteria")
    check(a, "PV-CONCURRENT-RELEASE", "later_stage", "only after BLA approval", "PPQ protocol now", "rare")
    check(a, "CS-SPEC-FLEX-BLA", "applies_now", "9 lots made so far", "number of lots available")
    check(a, "CS-AMV-FEWER-LOTS", "applies_now", "only 9 lots made so far", f"{FEW_LOTS_MAX} or fewer")
    check(a, "CS-STABILITY-CLINICAL-LOTS", "applies_now", "4 clinical lots", "730 days", "Q1E")
    check(a, "CS-RESERVE-SAMPLES", "not_applicable", "not individualized", "(3000)")
    check(a, "CS-ALT-METHODS", "not_applicable", "Shelf life is 730 days", "not individualized")
    check(a, "CD-CGMP-PHASE", "not_applicable", "Stage is phase 3", "part 211")
    check(a, "CD-RELEASE-PERMISSIVE", "applies_now", "Stage is phase 3")
    check(a, "CD-SAFETY-ATTRIBUTES", "applies_now", "AAV in vivo gene therapy")
    assert "vector copy number" not in reasons(a, "CD-SAFETY-ATTRIBUTES")


@pytest.mark.parametrize("key", ["post_car_t_automation", "post_car_t_automation_minor"])
def test_post_approval_car_t_moving_to_automated_closed_system(key: str) -> None:
    a = run(key)
    kind = PROFILES[key]["planned_change"]
    check(a, "RP-AMT", "applies_now", "Stage is post-approval", "interest in new manufacturing technology",
          "not limited to post-approval", "comparability with the approved product")
    check(a, "PV-PPQ-LOT-NUMBER", "applies_now", f"a {kind} change is planned", PROFILES[key]["change_description"])
    check(a, "PV-CONCURRENT-RELEASE", "applies_now", "commercial release specification", "commercial shelf life",
          "PPQ protocol provides for it", "rare")
    check(a, "CS-SPEC-LIFECYCLE", "applies_now", "150 commercial lots", "601.12")
    check(a, "CD-MINOR-CHANGES", "not_applicable", "21 CFR 601.12", f"{kind} change is planned")
    check(a, "CD-PRIOR-KNOWLEDGE", "applies_now", f"a {kind} change is planned")
    check(a, "CS-ALT-METHODS", "applies_now", "individualized", "21 CFR 610.9")
    check(a, "CS-RESERVE-SAMPLES", "applies_now", "CBER Director", "cannot be self-granted")
    check(a, "CD-CGMP-PHASE", "not_applicable", "part 211")
    check(a, "RP-PLAUSIBLE-MECHANISM", "not_applicable")


def test_individualized_in_vivo_editing_for_ultra_rare_disease() -> None:
    a = run("n_of_few_editing")
    check(a, "RP-PLAUSIBLE-MECHANISM", "applies_now", "In vivo genome editing", "individualized",
          "population of 12", f"{VERY_SMALL_POPULATION_MAX} patients or fewer", "not CMC")
    check(a, "CS-RESERVE-SAMPLES", "later_stage", "Stage is phase 1", "individualized")
    check(a, "CS-ALT-METHODS", "applies_now", "individualized")
    check(a, "CD-SAFETY-ATTRIBUTES", "applies_now", "In vivo genome editing")
    assert "vector copy number" not in reasons(a, "CD-SAFETY-ATTRIBUTES")
    check(a, "CD-CGMP-PHASE", "applies_now", "Stage is phase 1")
    # the same product for a larger population, or not individualized, is not flagged
    check(run("n_of_few_editing", patient_population=VERY_SMALL_POPULATION_MAX + 1),
          "RP-PLAUSIBLE-MECHANISM", "not_applicable", "population is above the threshold")
    check(run("n_of_few_editing", individualized=False),
          "RP-PLAUSIBLE-MECHANISM", "not_applicable", "not individualized")
    check(run("n_of_few_editing", patient_population=VERY_SMALL_POPULATION_MAX),
          "RP-PLAUSIBLE-MECHANISM", "applies_now")


def test_pre_ind_allogeneic() -> None:
    a = run("pre_ind_allogeneic")
    check(a, "CD-CGMP-PHASE", "applies_now", "Stage is pre-IND", "21 CFR 210.2(c)")
    check(a, "CD-RELEASE-PERMISSIVE", "later_stage", "Stage is pre-IND", "no lot is made under an IND",
          "2 lots made so far")
    check(a, "CD-MINOR-CHANGES", "later_stage", "Stage is pre-IND")
    check(a, "CD-SAFETY-ATTRIBUTES", "applies_now", "pre-IND meeting", "Allogeneic cell therapy")
    check(a, "PV-PPQ-CLINICAL-USE", "later_stage", "no PPQ lots made")
    check(a, "CS-RESERVE-SAMPLES", "not_applicable", "not individualized", "(40000)")
    check(a, "CS-ALT-METHODS", "not_applicable", "Shelf life is 365 days")
    check(a, "RP-PLAUSIBLE-MECHANISM", "not_applicable", "Allogeneic cell therapy")
    assert all(it.status != "applies_now" for it in a.by_area()["commercial_specifications"])


def test_bla_stage_lentiviral_ex_vivo() -> None:
    a = run("bla_lentiviral")
    check(a, "CS-SPEC-FLEX-BLA", "applies_now", "Stage is BLA", "46 lots made so far", "3 PPQ")
    check(a, "PV-PPQ-LOT-NUMBER", "applies_now", "3 PPQ lots made so far", "BLA review")
    check(a, "PV-CONCURRENT-RELEASE", "later_stage", "Stage is BLA", "PPQ protocol now")
    check(a, "PV-PPQ-CLINICAL-USE", "applies_now", "3 PPQ lots made so far", "individualized")
    check(a, "CS-AMV-FEWER-LOTS", "applies_now", "individualized")
    check(a, "CS-RESERVE-SAMPLES", "applies_now", "Stage is BLA", "twice the test quantity", "1 year",
          "6 months", "CBER Director")
    check(a, "CS-ALT-METHODS", "applies_now", "Shelf life is 21 days", f"{SHORT_SHELF_LIFE_DAYS} days or less",
          "individualized", "610.9")
    check(a, "CD-RELEASE-PERMISSIVE", "not_applicable", "Stage is BLA", "CS-SPEC-FLEX-BLA")
    check(a, "CD-SAFETY-ATTRIBUTES", "applies_now", "vector copy number")
    check(a, "CS-SPEC-LIFECYCLE", "later_stage", "in the BLA")


def test_phase2_genome_edited_cells_with_minor_change() -> None:
    a = run("phase2_edited_minor")
    check(a, "CD-MINOR-CHANGES", "applies_now", "Stage is phase 2", "a minor change is planned",
          "closed-system cell wash", "ICH Q5E", "not identical")
    check(a, "CD-CGMP-PHASE", "not_applicable", "Stage is phase 2", "part 211", "210.2(c)")
    check(a, "CS-RESERVE-SAMPLES", "applies_now", "Stage is phase 2", "individualized")
    check(a, "PV-PPQ-CLINICAL-USE", "later_stage", "no PPQ lots made")
    check(a, "RP-PLAUSIBLE-MECHANISM", "not_applicable", "population of 5000", "above the threshold")
    # with PPQ lots made at phase 2, the clinical route applies
    check(run("phase2_edited_minor", lots_made={"engineering": 4, "clinical": 15, "ppq": 1}),
          "PV-PPQ-CLINICAL-USE", "applies_now", "1 PPQ lot made so far")


def test_major_change_in_development_is_not_this_flexibility() -> None:
    a = run("phase2_edited_minor", planned_change="major", change_description="new vector and new cell source")
    check(a, "CD-MINOR-CHANGES", "not_applicable", "a major change is planned", "minor changes only",
          "full comparability assessment", "July 2023")


def test_post_approval_aav_re_evaluating_specifications() -> None:
    a = run("post_aav_specs")
    check(a, "CS-SPEC-LIFECYCLE", "applies_now", "12 commercial lots", "601.12", f"{FEW_LOTS_MAX} or more")
    check(a, "CS-SPEC-FLEX-BLA", "not_applicable", "set at approval", "CS-SPEC-LIFECYCLE")
    check(a, "PV-CONCURRENT-RELEASE", "not_applicable", "no change planned")
    check(a, "PV-PPQ-LOT-NUMBER", "not_applicable", "no change planned")
    check(a, "PV-LIFECYCLE", "applies_now", "stage 3 (continued process verification)")
    check(a, "CD-PRIOR-KNOWLEDGE", "not_applicable", "no change planned")
    check(a, "CS-STABILITY-CLINICAL-LOTS", "not_applicable", "211.166")
    check(a, "CS-AMV-FEWER-LOTS", "not_applicable", "validated for the BLA")
    # few commercial lots: still applies, with a caution
    few = run("post_aav_specs", lots_made={"clinical": 8, "ppq": 3, "commercial": 4})
    check(few, "CS-SPEC-LIFECYCLE", "applies_now", "4 commercial lots", f"fewer than {FEW_LOTS_MAX}")


# -- threshold edges of the individual rules ------------------------------------------
@pytest.mark.parametrize(("days", "status"), [(SHORT_SHELF_LIFE_DAYS, "applies_now"),
                                              (SHORT_SHELF_LIFE_DAYS + 1, "not_applicable")])
def test_short_shelf_life_threshold(days: float, status: str) -> None:
    a = run("phase3_aav", shelf_life_days=days)
    check(a, "CS-ALT-METHODS", status, f"Shelf life is {days:g} days")


@pytest.mark.parametrize(("engineering", "status"), [(FEW_LOTS_MAX - 6, "applies_now"),
                                                     (FEW_LOTS_MAX - 5, "not_applicable")])
def test_few_lots_threshold_for_method_validation(engineering: int, status: str) -> None:
    # phase3_aav has 6 non-engineering lots: total = FEW_LOTS_MAX, then FEW_LOTS_MAX + 1
    a = run("phase3_aav", lots_made={"engineering": engineering, "clinical": 4, "ppq": 2})
    assert a.profile.lots_made.total in (FEW_LOTS_MAX, FEW_LOTS_MAX + 1)
    check(a, "CS-AMV-FEWER-LOTS", status, f"{a.profile.lots_made.total} lots made so far")


@pytest.mark.parametrize(("population", "status"), [(VERY_SMALL_POPULATION_MAX, "applies_now"),
                                                    (VERY_SMALL_POPULATION_MAX + 1, "not_applicable")])
def test_reserve_samples_small_population_proxy(population: int, status: str) -> None:
    a = run("phase3_aav", patient_population=population)
    check(a, "CS-RESERVE-SAMPLES", status, str(population))


def test_rule_functions_can_be_called_alone() -> None:
    cat = load_catalog()
    p = profile("phase1_car_t")
    verdict = RULES["CD-CGMP-PHASE"](p, cat.get("CD-CGMP-PHASE"))
    assert verdict.status == "applies_now" and any("210.2(c)" in r for r in verdict.reasons)
    verdict = RULES["PV-CONCURRENT-RELEASE"](p, cat.get("PV-CONCURRENT-RELEASE"))
    assert verdict.status == "later_stage"


def test_stage_window_fallback_rule() -> None:
    f = load_catalog().get("CS-SPEC-FLEX-BLA")  # stages phase 3, BLA
    assert stage_window_rule(profile("phase1_car_t"), f).status == "later_stage"
    assert stage_window_rule(profile("bla_lentiviral"), f).status == "applies_now"
    assert stage_window_rule(profile("post_aav_specs"), f).status == "not_applicable"


def test_modality_outside_the_entry_is_not_applicable() -> None:
    f = load_catalog().get("RP-PLAUSIBLE-MECHANISM")
    item = assess_one(profile("n_of_few_editing", modality="aav_in_vivo"), f)
    assert item.status == "not_applicable" and "AAV in vivo gene therapy" in item.reasons[0]


# -- (c) concurrent release never applies before approval -----------------------------
MODALITIES = list(load_product_types())


@pytest.mark.parametrize("stage", STAGES[:-1])
@pytest.mark.parametrize("modality", MODALITIES)
@pytest.mark.parametrize("variant", [
    {},
    {"planned_change": "major", "change_description": "new process", "new_technology_interest": True},
    {"individualized": True, "shelf_life_days": 3, "patient_population": 5},
])
def test_concurrent_release_never_applies_before_approval(stage: str, modality: str, variant: dict) -> None:
    lots = {"engineering": 2} if stage == "pre-IND" else {"engineering": 2, "clinical": 5}
    if stage in ("phase 3", "BLA"):
        lots["ppq"] = 3
    p = ProductProfile.build(modality=modality, stage=stage, lots_made=lots, **variant)
    item = assess(p).item("PV-CONCURRENT-RELEASE")
    assert item.status == "later_stage"
    assert "only after BLA approval" in " ".join(item.reasons)


# -- (d) every next step leads to FDA engagement ---------------------------------------
@pytest.mark.parametrize("key", list(PROFILES))
def test_every_next_step_leads_to_fda(key: str) -> None:
    for item in run(key).items:
        assert "FDA" in item.next_step, (item.flexibility_id, item.next_step)
        assert "GEN-SCOPE-ENGAGE" in item.next_step, (item.flexibility_id, item.next_step)
        assert item.page in {"start_here", "clinical_development", "commercial_specifications", "comparability",
                             "process_validation", "stability_samples", "decision_record"}


def test_next_step_names_a_meeting_still_ahead() -> None:
    a = run("phase1_car_t")
    assert "pre-BLA meeting" in a.item("PV-CONCURRENT-RELEASE").next_step
    assert "end-of-phase 2 meeting" in a.item("PV-PPQ-LOT-NUMBER").next_step
    assert "Type C meeting" in run("post_aav_specs").item("CS-SPEC-LIFECYCLE").next_step


# -- (e) frame and timeline shapes -----------------------------------------------------
def test_items_carry_catalog_evidence_and_pages() -> None:
    a = run("bla_lentiviral")
    cat = load_catalog()
    assert [it.flexibility_id for it in a.items] == list(cat.ids)
    for it in a.items:
        assert it.evidence == tuple(cat.get(it.flexibility_id).evidence)
        assert it.page == cat.get(it.flexibility_id).page
        assert it.relevant_from == cat.get(it.flexibility_id).stages[0]
        assert it.reasons and all(r.strip() for r in it.reasons)
    assert a.item("CS-RELEASE-STRATEGY").flexibility_id == "CS-SPEC-FLEX-BLA"


def test_groupings() -> None:
    a = run("phase3_aav")
    by_status = a.by_status()
    assert list(by_status) == list(STATUSES)
    assert sum(len(v) for v in by_status.values()) == len(a.items)
    assert list(a.by_area()) == list(AREAS)


def test_to_frame_shape() -> None:
    a = run("phase3_aav")
    frame = a.to_frame()
    assert list(frame.columns) == ["flexibility_id", "area", "title", "status", "reasons", "page", "next_step"]
    assert len(frame) == len(load_catalog())
    assert set(frame["status"]) <= set(STATUSES)
    row = frame.set_index("flexibility_id").loc["PV-PPQ-LOT-NUMBER"]
    assert row["status"] == "applies_now" and "2 PPQ lots made so far" in row["reasons"]


@pytest.mark.parametrize("key", list(PROFILES))
def test_timeline_shape_and_relevance(key: str) -> None:
    a = run(key)
    tl = a.timeline()
    assert list(tl.columns) == ["flexibility_id", "title", "area", "stage", "stage_index", "relevance"]
    assert set(tl["relevance"]) <= set(RELEVANCES)
    assert set(tl["flexibility_id"]) == set(load_catalog().ids)
    now = tl[tl["relevance"] == "now"]
    applies = {it.flexibility_id for it in a.items if it.status == "applies_now"}
    assert set(now["flexibility_id"]) == applies
    assert (now["stage"] == a.profile.stage).all()
    assert not now["flexibility_id"].duplicated().any()
    assert (tl[tl["relevance"] == "past"]["stage_index"] < a.profile.stage_index).all()
    assert (tl[tl["relevance"] == "planned"]["stage_index"] >= a.profile.stage_index).all()


def test_timeline_marks_phase_windows() -> None:
    tl = run("phase3_aav").timeline().set_index(["flexibility_id", "stage"])["relevance"]
    assert tl["CD-CGMP-PHASE", "phase 1"] == "past"
    assert tl["PV-CONCURRENT-RELEASE", "post-approval"] == "planned"
    assert tl["CS-SPEC-FLEX-BLA", "phase 3"] == "now"
    assert tl["CS-SPEC-FLEX-BLA", "BLA"] == "planned"
    assert (tl["RP-PLAUSIBLE-MECHANISM"] == "not applicable").all()
    assert (tl["RP-AMT"] == "not applicable").all()


def test_the_navigator_never_points_to_a_page_that_is_not_built() -> None:
    """Issue #16.7: it said "use the Comparability page" while that page was only planned."""
    from cgtkit.pages import load_pages

    planned = [p.title for p in load_pages() if not p.available]
    for stage, change in (("phase 2", "major"), ("post-approval", "minor"), ("BLA", "major")):
        profile = ProductProfile.build(stage=stage, planned_change=change, change_description="new vector supplier",
                                       lots_made={"clinical": 10, "commercial": 5}
                                       if stage == "post-approval" else {"clinical": 10})
        text = " ".join(" ".join((*item.reasons, *item.evidence, item.next_step)) for item in assess(profile).items)
        assert not any(f"{title} page" in text and f"{title} page (planned)" not in text for title in planned), text
