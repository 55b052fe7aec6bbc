"""The navigator: statuses, the deciding facts, the reasons, next steps and the timeline.

Issue #17: the rules follow CGT development paths (seamless phase 1/2, pivotal phase 1/2 or 2 studies,
expanded access and single-patient INDs, post-approval changes by reporting category), and each
profile below exposed a wrong verdict of the earlier rules or covers one of those paths. For every
flexibility whose status changes across the profiles, :data:`EXPECTED` gives the status and a fact
that decided it, for every profile.
"""

from __future__ import annotations

import pytest

from cgtkit.catalog import AREAS, load_catalog
from cgtkit.navigator import (
    FEW_CONTAINERS_MAX,
    FEW_LOTS_MAX,
    MANY_LOTS_PER_YEAR,
    RELEVANCES,
    RULES,
    SHORT_SHELF_LIFE_DAYS,
    STATUSES,
    Assessment,
    assess,
    assess_one,
    bla_readiness,
    next_meeting,
    stage_window_rule,
)
from cgtkit.profile import STAGES, ProductProfile, load_product_types

# -- realistic profiles: one per development path the issue names -------------------------
PROFILES = {
    "phase1_car_t": dict(
        name="Autologous CD19 CAR-T", modality="autologous_cell", stage="phase 1", individualized=True,
        lots_made={"engineering": 3, "clinical": 8}, lots_per_year=30, patient_population=20000,
        shelf_life_days=365, doses_per_lot=1, final_containers_per_lot=1),
    "seamless_1_2_car_t": dict(
        name="CAR-T in a seamless phase 1/2", modality="autologous_cell", stage="phase 1/2", individualized=True,
        lots_made={"engineering": 3, "clinical": 12}, lots_per_year=40, patient_population=20000,
        shelf_life_days=365),
    "car_t_phase1_pivotal": dict(
        name="CAR-T with a pivotal phase 1 cohort", modality="autologous_cell", stage="phase 1", pivotal=True,
        individualized=True, lots_made={"engineering": 4, "clinical": 30}, lots_per_year=60,
        patient_population=8000, shelf_life_days=365),
    "car_t_pivotal_phase2_no_ppq": dict(
        name="CAR-T, single-arm pivotal phase 2", modality="autologous_cell", stage="phase 2", pivotal=True,
        individualized=True, lots_made={"engineering": 4, "clinical": 40}, lots_per_year=80,
        patient_population=6000, shelf_life_days=270, potency_assay="qualified", process_bridge="same_process"),
    "car_t_phase2_with_ppq": dict(
        name="CAR-T, phase 2 with PPQ made", modality="autologous_cell", stage="phase 2", individualized=True,
        lots_made={"engineering": 4, "clinical": 25, "ppq": 3}, lots_per_year=50, patient_population=6000,
        shelf_life_days=270, ppq_material="healthy_donor"),
    "phase3_aav": dict(
        name="AAV9 gene therapy", modality="aav_in_vivo", stage="phase 3", individualized=False,
        lots_made={"engineering": 3, "clinical": 4, "ppq": 2}, lots_per_year=4, patient_population=3000,
        shelf_life_days=730, doses_per_lot=40, final_containers_per_lot=120),
    "bla_lentiviral": dict(
        name="LV-modified HSCs", modality="lv_rv_ex_vivo", stage="BLA", individualized=True,
        lots_made={"engineering": 3, "clinical": 40, "ppq": 3}, lots_per_year=60, patient_population=1500,
        shelf_life_days=21, final_containers_per_lot=2, potency_assay="validated",
        process_bridge="comparability_shown", ppq_material="patient"),
    "bla_no_ppq": dict(
        name="CAR-T filed without PPQ", modality="autologous_cell", stage="BLA", individualized=True,
        lots_made={"engineering": 4, "clinical": 60}, lots_per_year=100, patient_population=6000,
        shelf_life_days=270, final_containers_per_lot=1, potency_assay="qualified",
        process_bridge="not_addressed"),
    "post_car_t_closed_system": dict(
        name="Licensed CAR-T", modality="autologous_cell", stage="post-approval", individualized=True,
        lots_made={"clinical": 60, "ppq": 3, "commercial": 150}, lots_per_year=400, patient_population=15000,
        shelf_life_days=270, planned_change="major", change_type="closed_automated",
        change_description="move manufacturing to an automated closed system", new_technology_interest=True,
        final_containers_per_lot=1),
    "post_car_t_reagent_minor": dict(
        name="Licensed CAR-T", modality="autologous_cell", stage="post-approval", individualized=True,
        lots_made={"clinical": 60, "ppq": 3, "commercial": 150}, lots_per_year=400, patient_population=15000,
        shelf_life_days=270, planned_change="minor", change_type="ancillary_material",
        change_description="second supplier of a cell culture medium", final_containers_per_lot=1),
    "post_car_t_cbe30": dict(
        name="Licensed CAR-T", modality="autologous_cell", stage="post-approval", individualized=True,
        lots_made={"clinical": 60, "ppq": 3, "commercial": 150}, lots_per_year=400, patient_population=15000,
        shelf_life_days=270, planned_change="minor", change_type="process_parameters",
        reporting_category="cbe30", change_description="narrow the activation time window",
        final_containers_per_lot=1),
    "post_aav_specs": dict(
        name="Licensed AAV", modality="aav_in_vivo", stage="post-approval", individualized=False,
        lots_made={"clinical": 8, "ppq": 3, "commercial": 12}, lots_per_year=6, patient_population=2000,
        shelf_life_days=365, final_containers_per_lot=2, doses_per_lot=1),
    "n_of_1_aav": dict(
        name="n-of-1 AAV", modality="aav_in_vivo", stage="phase 1", ind_type="single_patient",
        individualized=True, lots_made={"engineering": 1, "clinical": 1}, lots_per_year=1, patient_population=1,
        shelf_life_days=180, genetic_target="individual_variant", doses_per_lot=1, final_containers_per_lot=2),
    "edited_cells_one_edit_80": dict(
        name="Edited HSCs, one edit", modality="genome_edited_cells", stage="phase 1", individualized=True,
        lots_made={"engineering": 3, "clinical": 6}, lots_per_year=20, patient_population=80,
        shelf_life_days=365, genetic_target="shared_variant"),
    "expanded_access_car_t": dict(
        name="CAR-T under expanded access", modality="autologous_cell", stage="phase 2", ind_type="expanded_access",
        individualized=True, lots_made={"engineering": 3, "clinical": 20}, lots_per_year=20,
        patient_population=20000, shelf_life_days=365),
    "pre_ind_allogeneic": dict(
        name="Allogeneic NK cells", modality="allogeneic_cell", stage="pre-IND", individualized=False,
        lots_made={"engineering": 2}, lots_per_year=6, patient_population=40000, shelf_life_days=365,
        final_containers_per_lot=50),
    "phase2_edited_minor_transfer": dict(
        name="Edited T cells", modality="genome_edited_cells", stage="phase 2", individualized=True,
        lots_made={"engineering": 4, "clinical": 15}, lots_per_year=40, patient_population=5000,
        shelf_life_days=180, planned_change="minor", change_type="site_transfer",
        change_description="move to the company's second facility"),
    "phase2_major_transfer": dict(
        name="Edited T cells", modality="genome_edited_cells", stage="phase 2", individualized=True,
        lots_made={"engineering": 4, "clinical": 15}, lots_per_year=40, patient_population=5000,
        shelf_life_days=180, planned_change="major", change_type="site_transfer",
        change_description="transfer to a CDMO"),
    "bla_aav_few_lots": dict(
        name="AAV for an ultra-rare disease", modality="aav_in_vivo", stage="BLA", individualized=False,
        lots_made={"engineering": 2, "clinical": 3, "ppq": 2}, lots_per_year=4, patient_population=60,
        shelf_life_days=365, doses_per_lot=6, final_containers_per_lot=2, potency_assay="validated",
        process_bridge="comparability_planned"),
    "rmat_accelerated": dict(
        name="RMAT CAR-T", modality="autologous_cell", stage="phase 2", pivotal=True, individualized=True,
        lots_made={"engineering": 4, "clinical": 20, "ppq": 1}, lots_per_year=40, patient_population=3000,
        shelf_life_days=14, designation="rmat", accelerated_approval=True, potency_assay="in_development",
        process_bridge="not_set", ppq_material="patient"),
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


_SHORT = {"now": "applies_now", "later": "later_stage", "n/a": "not_applicable"}

# -- (a) the verdict and a deciding fact, for every flexibility that changes across the profiles --
EXPECTED: dict[str, dict[str, str]] = {
    "CD-CGMP-PHASE": {
        "phase1_car_t": "now stage", "seamless_1_2_car_t": "n/a stage", "car_t_phase1_pivotal": "now pivotal",
        "car_t_pivotal_phase2_no_ppq": "n/a stage", "car_t_phase2_with_ppq": "n/a stage", "phase3_aav": "n/a stage",
        "bla_lentiviral": "n/a stage", "bla_no_ppq": "n/a stage", "post_car_t_closed_system": "n/a stage",
        "post_car_t_reagent_minor": "n/a stage", "post_car_t_cbe30": "n/a stage", "post_aav_specs": "n/a stage",
        "n_of_1_aav": "n/a ind_type", "edited_cells_one_edit_80": "now stage",
        "expanded_access_car_t": "n/a ind_type", "pre_ind_allogeneic": "now stage",
        "phase2_edited_minor_transfer": "n/a stage", "phase2_major_transfer": "n/a stage",
        "bla_aav_few_lots": "n/a stage", "rmat_accelerated": "n/a stage",
    },
    "CD-RELEASE-PERMISSIVE": {
        "phase1_car_t": "now stage", "seamless_1_2_car_t": "now stage", "car_t_phase1_pivotal": "now potency_assay",
        "car_t_pivotal_phase2_no_ppq": "now potency_assay", "car_t_phase2_with_ppq": "now stage",
        "phase3_aav": "now potency_assay", "bla_lentiviral": "n/a stage", "bla_no_ppq": "n/a stage",
        "post_car_t_closed_system": "n/a stage", "post_car_t_reagent_minor": "n/a stage",
        "post_car_t_cbe30": "n/a stage", "post_aav_specs": "n/a stage", "n_of_1_aav": "now stage",
        "edited_cells_one_edit_80": "now stage", "expanded_access_car_t": "now stage",
        "pre_ind_allogeneic": "later stage", "phase2_edited_minor_transfer": "now stage",
        "phase2_major_transfer": "now stage", "bla_aav_few_lots": "n/a stage",
        "rmat_accelerated": "now potency_assay",
    },
    "CD-SAFETY-ATTRIBUTES": {
        "phase1_car_t": "now modality", "seamless_1_2_car_t": "now modality", "car_t_phase1_pivotal": "now modality",
        "car_t_pivotal_phase2_no_ppq": "now modality", "car_t_phase2_with_ppq": "now modality",
        "phase3_aav": "now modality", "bla_lentiviral": "now modality", "bla_no_ppq": "now modality",
        "post_car_t_closed_system": "n/a stage", "post_car_t_reagent_minor": "n/a stage",
        "post_car_t_cbe30": "n/a stage", "post_aav_specs": "n/a stage", "n_of_1_aav": "now modality",
        "edited_cells_one_edit_80": "now modality", "expanded_access_car_t": "now modality",
        "pre_ind_allogeneic": "now modality", "phase2_edited_minor_transfer": "now modality",
        "phase2_major_transfer": "now modality", "bla_aav_few_lots": "now modality",
        "rmat_accelerated": "now modality",
    },
    "CD-MINOR-CHANGES": {
        "phase1_car_t": "n/a planned_change", "seamless_1_2_car_t": "n/a planned_change",
        "car_t_phase1_pivotal": "n/a planned_change", "car_t_pivotal_phase2_no_ppq": "n/a planned_change",
        "car_t_phase2_with_ppq": "n/a planned_change", "phase3_aav": "n/a planned_change",
        "bla_lentiviral": "n/a stage", "bla_no_ppq": "n/a stage", "post_car_t_closed_system": "n/a stage",
        "post_car_t_reagent_minor": "n/a stage", "post_car_t_cbe30": "n/a stage", "post_aav_specs": "n/a stage",
        "n_of_1_aav": "n/a planned_change", "edited_cells_one_edit_80": "n/a planned_change",
        "expanded_access_car_t": "n/a planned_change", "pre_ind_allogeneic": "later stage",
        "phase2_edited_minor_transfer": "now change_type", "phase2_major_transfer": "now planned_change",
        "bla_aav_few_lots": "n/a stage", "rmat_accelerated": "n/a planned_change",
    },
    "CD-PRIOR-KNOWLEDGE": {
        "phase1_car_t": "now stage", "seamless_1_2_car_t": "now stage", "car_t_phase1_pivotal": "now stage",
        "car_t_pivotal_phase2_no_ppq": "now stage", "car_t_phase2_with_ppq": "now stage", "phase3_aav": "now stage",
        "bla_lentiviral": "now stage", "bla_no_ppq": "now stage", "post_car_t_closed_system": "now planned_change",
        "post_car_t_reagent_minor": "now planned_change", "post_car_t_cbe30": "now planned_change",
        "post_aav_specs": "n/a new_technology_interest", "n_of_1_aav": "now stage",
        "edited_cells_one_edit_80": "now stage", "expanded_access_car_t": "now stage",
        "pre_ind_allogeneic": "now stage", "phase2_edited_minor_transfer": "now stage",
        "phase2_major_transfer": "now stage", "bla_aav_few_lots": "now stage", "rmat_accelerated": "now stage",
    },
    "CD-CONSENSUS-STANDARDS": {
        "phase1_car_t": "now stage", "seamless_1_2_car_t": "now stage", "car_t_phase1_pivotal": "now stage",
        "car_t_pivotal_phase2_no_ppq": "now stage", "car_t_phase2_with_ppq": "now stage", "phase3_aav": "now stage",
        "bla_lentiviral": "now stage", "bla_no_ppq": "now stage", "post_car_t_closed_system": "now stage",
        "post_car_t_reagent_minor": "now stage", "post_car_t_cbe30": "now stage",
        "post_aav_specs": "n/a new_technology_interest", "n_of_1_aav": "now stage",
        "edited_cells_one_edit_80": "now stage", "expanded_access_car_t": "now stage",
        "pre_ind_allogeneic": "now stage", "phase2_edited_minor_transfer": "now stage",
        "phase2_major_transfer": "now stage", "bla_aav_few_lots": "now stage", "rmat_accelerated": "now stage",
    },
    "PV-PPQ-LOT-NUMBER": {
        "phase1_car_t": "later stage", "seamless_1_2_car_t": "later stage",
        "car_t_phase1_pivotal": "now lots_per_year", "car_t_pivotal_phase2_no_ppq": "now lots_per_year",
        "car_t_phase2_with_ppq": "now lots_made.ppq", "phase3_aav": "now lots_per_year",
        "bla_lentiviral": "now lots_made.ppq", "bla_no_ppq": "now lots_made.ppq",
        "post_car_t_closed_system": "now planned_change", "post_car_t_reagent_minor": "n/a planned_change",
        "post_car_t_cbe30": "now reporting_category", "post_aav_specs": "n/a planned_change",
        "n_of_1_aav": "n/a ind_type", "edited_cells_one_edit_80": "later stage",
        "expanded_access_car_t": "n/a ind_type", "pre_ind_allogeneic": "later stage",
        "phase2_edited_minor_transfer": "later stage", "phase2_major_transfer": "later stage",
        "bla_aav_few_lots": "now lots_made.ppq", "rmat_accelerated": "now lots_per_year",
    },
    "PV-CONCURRENT-RELEASE": {
        "phase1_car_t": "later stage", "seamless_1_2_car_t": "later stage", "car_t_phase1_pivotal": "later stage",
        "car_t_pivotal_phase2_no_ppq": "later stage", "car_t_phase2_with_ppq": "later stage",
        "phase3_aav": "later stage", "bla_lentiviral": "later stage", "bla_no_ppq": "later stage",
        "post_car_t_closed_system": "n/a planned_change", "post_car_t_reagent_minor": "n/a planned_change",
        "post_car_t_cbe30": "now reporting_category", "post_aav_specs": "n/a planned_change",
        "n_of_1_aav": "n/a ind_type", "edited_cells_one_edit_80": "later stage",
        "expanded_access_car_t": "n/a ind_type", "pre_ind_allogeneic": "later stage",
        "phase2_edited_minor_transfer": "later stage", "phase2_major_transfer": "later stage",
        "bla_aav_few_lots": "later stage", "rmat_accelerated": "later stage",
    },
    "PV-PPQ-CLINICAL-USE": {
        "phase1_car_t": "later stage", "seamless_1_2_car_t": "later stage",
        "car_t_phase1_pivotal": "now ppq_material", "car_t_pivotal_phase2_no_ppq": "now ppq_material",
        "car_t_phase2_with_ppq": "n/a ppq_material", "phase3_aav": "now lots_made.ppq",
        "bla_lentiviral": "now ppq_material", "bla_no_ppq": "now ppq_material",
        "post_car_t_closed_system": "n/a stage", "post_car_t_reagent_minor": "n/a stage",
        "post_car_t_cbe30": "n/a stage", "post_aav_specs": "n/a stage", "n_of_1_aav": "n/a ind_type",
        "edited_cells_one_edit_80": "later stage", "expanded_access_car_t": "n/a ind_type",
        "pre_ind_allogeneic": "later stage", "phase2_edited_minor_transfer": "later stage",
        "phase2_major_transfer": "later stage", "bla_aav_few_lots": "now lots_made.ppq",
        "rmat_accelerated": "now ppq_material",
    },
    "CS-SPEC-FLEX-BLA": {
        "phase1_car_t": "later stage", "seamless_1_2_car_t": "later stage", "car_t_phase1_pivotal": "now pivotal",
        "car_t_pivotal_phase2_no_ppq": "now pivotal", "car_t_phase2_with_ppq": "later stage",
        "phase3_aav": "now stage", "bla_lentiviral": "now stage", "bla_no_ppq": "now stage",
        "post_car_t_closed_system": "n/a stage", "post_car_t_reagent_minor": "n/a stage",
        "post_car_t_cbe30": "n/a stage", "post_aav_specs": "n/a stage", "n_of_1_aav": "n/a ind_type",
        "edited_cells_one_edit_80": "later stage", "expanded_access_car_t": "n/a ind_type",
        "pre_ind_allogeneic": "later stage", "phase2_edited_minor_transfer": "later stage",
        "phase2_major_transfer": "later stage", "bla_aav_few_lots": "now stage", "rmat_accelerated": "now pivotal",
    },
    "CS-SPEC-LIFECYCLE": {
        "phase1_car_t": "later stage", "seamless_1_2_car_t": "later stage", "car_t_phase1_pivotal": "later stage",
        "car_t_pivotal_phase2_no_ppq": "later stage", "car_t_phase2_with_ppq": "later stage",
        "phase3_aav": "later stage", "bla_lentiviral": "later stage", "bla_no_ppq": "later stage",
        "post_car_t_closed_system": "now lots_made.commercial",
        "post_car_t_reagent_minor": "now lots_made.commercial", "post_car_t_cbe30": "now lots_made.commercial",
        "post_aav_specs": "now lots_made.commercial", "n_of_1_aav": "n/a ind_type",
        "edited_cells_one_edit_80": "later stage", "expanded_access_car_t": "n/a ind_type",
        "pre_ind_allogeneic": "later stage", "phase2_edited_minor_transfer": "later stage",
        "phase2_major_transfer": "later stage", "bla_aav_few_lots": "later stage", "rmat_accelerated": "later stage",
    },
    "CS-AMV-FEWER-LOTS": {
        "phase1_car_t": "later stage", "seamless_1_2_car_t": "later stage",
        "car_t_phase1_pivotal": "now individualized", "car_t_pivotal_phase2_no_ppq": "now individualized",
        "car_t_phase2_with_ppq": "later stage", "phase3_aav": "now lots_made",
        "bla_lentiviral": "now individualized", "bla_no_ppq": "now individualized",
        "post_car_t_closed_system": "n/a change_type", "post_car_t_reagent_minor": "n/a change_type",
        "post_car_t_cbe30": "n/a change_type", "post_aav_specs": "n/a planned_change", "n_of_1_aav": "n/a ind_type",
        "edited_cells_one_edit_80": "later stage", "expanded_access_car_t": "n/a ind_type",
        "pre_ind_allogeneic": "later stage", "phase2_edited_minor_transfer": "later stage",
        "phase2_major_transfer": "later stage", "bla_aav_few_lots": "now lots_made",
        "rmat_accelerated": "now individualized",
    },
    "CS-STABILITY-CLINICAL-LOTS": {
        "phase1_car_t": "later stage", "seamless_1_2_car_t": "later stage", "car_t_phase1_pivotal": "now pivotal",
        "car_t_pivotal_phase2_no_ppq": "now pivotal", "car_t_phase2_with_ppq": "later stage",
        "phase3_aav": "now stage", "bla_lentiviral": "now stage", "bla_no_ppq": "now stage",
        "post_car_t_closed_system": "n/a stage", "post_car_t_reagent_minor": "n/a stage",
        "post_car_t_cbe30": "n/a stage", "post_aav_specs": "n/a stage", "n_of_1_aav": "n/a ind_type",
        "edited_cells_one_edit_80": "later stage", "expanded_access_car_t": "n/a ind_type",
        "pre_ind_allogeneic": "later stage", "phase2_edited_minor_transfer": "later stage",
        "phase2_major_transfer": "later stage", "bla_aav_few_lots": "now stage", "rmat_accelerated": "now pivotal",
    },
    "CS-RESERVE-SAMPLES": {
        "phase1_car_t": "later final_containers_per_lot", "seamless_1_2_car_t": "now individualized",
        "car_t_phase1_pivotal": "later individualized", "car_t_pivotal_phase2_no_ppq": "now individualized",
        "car_t_phase2_with_ppq": "now individualized", "phase3_aav": "n/a final_containers_per_lot",
        "bla_lentiviral": "now lots_per_year", "bla_no_ppq": "now lots_per_year",
        "post_car_t_closed_system": "now lots_per_year", "post_car_t_reagent_minor": "now lots_per_year",
        "post_car_t_cbe30": "now lots_per_year", "post_aav_specs": "now lots_per_year",
        "n_of_1_aav": "now final_containers_per_lot", "edited_cells_one_edit_80": "later individualized",
        "expanded_access_car_t": "now individualized", "pre_ind_allogeneic": "n/a final_containers_per_lot",
        "phase2_edited_minor_transfer": "now individualized", "phase2_major_transfer": "now individualized",
        "bla_aav_few_lots": "now lots_per_year", "rmat_accelerated": "now individualized",
    },
    "CS-ALT-METHODS": {
        "phase1_car_t": "now final_containers_per_lot", "seamless_1_2_car_t": "now individualized",
        "car_t_phase1_pivotal": "now individualized", "car_t_pivotal_phase2_no_ppq": "now individualized",
        "car_t_phase2_with_ppq": "now individualized", "phase3_aav": "n/a final_containers_per_lot",
        "bla_lentiviral": "now final_containers_per_lot", "bla_no_ppq": "now final_containers_per_lot",
        "post_car_t_closed_system": "now final_containers_per_lot",
        "post_car_t_reagent_minor": "now final_containers_per_lot",
        "post_car_t_cbe30": "now final_containers_per_lot", "post_aav_specs": "now final_containers_per_lot",
        "n_of_1_aav": "now final_containers_per_lot", "edited_cells_one_edit_80": "now individualized",
        "expanded_access_car_t": "now individualized", "pre_ind_allogeneic": "n/a final_containers_per_lot",
        "phase2_edited_minor_transfer": "now individualized", "phase2_major_transfer": "now individualized",
        "bla_aav_few_lots": "now final_containers_per_lot", "rmat_accelerated": "now individualized",
    },
    "RP-AMT": {
        "phase1_car_t": "n/a new_technology_interest", "seamless_1_2_car_t": "n/a new_technology_interest",
        "car_t_phase1_pivotal": "n/a new_technology_interest",
        "car_t_pivotal_phase2_no_ppq": "n/a new_technology_interest",
        "car_t_phase2_with_ppq": "n/a new_technology_interest", "phase3_aav": "n/a new_technology_interest",
        "bla_lentiviral": "n/a new_technology_interest", "bla_no_ppq": "n/a new_technology_interest",
        "post_car_t_closed_system": "now new_technology_interest",
        "post_car_t_reagent_minor": "n/a new_technology_interest", "post_car_t_cbe30": "n/a new_technology_interest",
        "post_aav_specs": "n/a new_technology_interest", "n_of_1_aav": "n/a new_technology_interest",
        "edited_cells_one_edit_80": "n/a new_technology_interest",
        "expanded_access_car_t": "n/a new_technology_interest", "pre_ind_allogeneic": "n/a new_technology_interest",
        "phase2_edited_minor_transfer": "n/a new_technology_interest",
        "phase2_major_transfer": "n/a new_technology_interest", "bla_aav_few_lots": "n/a new_technology_interest",
        "rmat_accelerated": "n/a new_technology_interest",
    },
    "RP-EXPEDITED-PROGRAMS": {
        "phase1_car_t": "later designation", "seamless_1_2_car_t": "later designation",
        "car_t_phase1_pivotal": "later designation", "car_t_pivotal_phase2_no_ppq": "n/a accelerated_approval",
        "car_t_phase2_with_ppq": "n/a accelerated_approval", "phase3_aav": "n/a accelerated_approval",
        "bla_lentiviral": "n/a accelerated_approval", "bla_no_ppq": "n/a accelerated_approval",
        "post_car_t_closed_system": "n/a stage", "post_car_t_reagent_minor": "n/a stage",
        "post_car_t_cbe30": "n/a stage", "post_aav_specs": "n/a stage", "n_of_1_aav": "later designation",
        "edited_cells_one_edit_80": "later designation", "expanded_access_car_t": "n/a accelerated_approval",
        "pre_ind_allogeneic": "later designation", "phase2_edited_minor_transfer": "n/a accelerated_approval",
        "phase2_major_transfer": "n/a accelerated_approval", "bla_aav_few_lots": "n/a accelerated_approval",
        "rmat_accelerated": "now accelerated_approval",
    },
    "RP-PLAUSIBLE-MECHANISM": {
        "phase1_car_t": "n/a genetic_target", "seamless_1_2_car_t": "n/a genetic_target",
        "car_t_phase1_pivotal": "n/a genetic_target", "car_t_pivotal_phase2_no_ppq": "n/a genetic_target",
        "car_t_phase2_with_ppq": "n/a genetic_target", "phase3_aav": "n/a genetic_target",
        "bla_lentiviral": "n/a genetic_target", "bla_no_ppq": "n/a genetic_target",
        "post_car_t_closed_system": "n/a stage", "post_car_t_reagent_minor": "n/a stage",
        "post_car_t_cbe30": "n/a stage", "post_aav_specs": "n/a stage", "n_of_1_aav": "now serious_condition",
        "edited_cells_one_edit_80": "n/a genetic_target", "expanded_access_car_t": "n/a genetic_target",
        "pre_ind_allogeneic": "n/a genetic_target", "phase2_edited_minor_transfer": "n/a genetic_target",
        "phase2_major_transfer": "n/a genetic_target", "bla_aav_few_lots": "n/a genetic_target",
        "rmat_accelerated": "n/a genetic_target",
    },
}


def test_the_expectations_cover_every_flexibility_that_changes() -> None:
    results = {k: run(k) for k in PROFILES}
    varying = {fid for fid in load_catalog().ids if len({a.status_of(fid) for a in results.values()}) > 1}
    assert varying == set(EXPECTED)
    assert all(set(rows) == set(PROFILES) for rows in EXPECTED.values())
    assert len(PROFILES) >= 15


@pytest.mark.parametrize("key", list(PROFILES))
def test_verdicts_and_deciding_facts(key: str) -> None:
    a = run(key)
    for fid, rows in EXPECTED.items():
        status, fact = rows[key].split(" ")
        item = a.item(fid)
        assert item.status == _SHORT[status], (key, fid, item.status, item.reasons)
        assert fact in item.facts, (key, fid, fact, item.facts)


# -- reachability: every entry can apply now -----------------------------------------------
REACH: dict[str, str] = {
    "GEN-SCOPE-ENGAGE": "pre_ind_allogeneic",
    "CD-CGMP-PHASE": "phase1_car_t",
    "CD-RELEASE-PERMISSIVE": "phase1_car_t",
    "CD-SAFETY-ATTRIBUTES": "phase1_car_t",
    "CD-MINOR-CHANGES": "phase2_edited_minor_transfer",
    "CD-PRIOR-KNOWLEDGE": "pre_ind_allogeneic",
    "CD-CONSENSUS-STANDARDS": "phase3_aav",
    "PV-LIFECYCLE": "post_aav_specs",
    "PV-PPQ-LOT-NUMBER": "car_t_pivotal_phase2_no_ppq",
    "PV-CONCURRENT-RELEASE": "post_car_t_cbe30",
    "PV-PPQ-CLINICAL-USE": "bla_lentiviral",
    "CS-SPEC-FLEX-BLA": "car_t_pivotal_phase2_no_ppq",
    "CS-SPEC-LIFECYCLE": "post_aav_specs",
    "CS-AMV-FEWER-LOTS": "bla_lentiviral",
    "CS-STABILITY-CLINICAL-LOTS": "car_t_pivotal_phase2_no_ppq",
    "CS-RESERVE-SAMPLES": "post_car_t_closed_system",
    "CS-ALT-METHODS": "bla_lentiviral",
    "RP-AMT": "post_car_t_closed_system",
    "RP-EXPEDITED-PROGRAMS": "rmat_accelerated",
    "RP-PLAUSIBLE-MECHANISM": "n_of_1_aav",
}


def test_reach_table_covers_the_catalog_and_rules() -> None:
    ids = set(load_catalog().ids)
    assert set(REACH) == ids
    assert set(RULES) == ids


@pytest.mark.parametrize("fid", list(REACH))
def test_every_flexibility_is_reachable(fid: str) -> None:
    assert run(REACH[fid]).status_of(fid) == "applies_now"


@pytest.mark.parametrize("key", list(PROFILES))
def test_scope_and_engagement_always_apply_now(key: str) -> None:
    a = run(key)
    check(a, "GEN-SCOPE-ENGAGE", "applies_now", "21 CFR part 601", f"Stage is {a.profile.stage}")


# -- issue #17, finding 1: staging fits CGT development paths ---------------------------------
def test_pivotal_phase2_car_t_plans_ppq_and_the_bla_now() -> None:
    """A CAR-T in a single-arm pivotal phase 2 had PPQ, BLA specifications, method validation and
    stability from clinical lots all as "later"."""
    a = run("car_t_pivotal_phase2_no_ppq")
    check(a, "PV-PPQ-LOT-NUMBER", "applies_now", "Stage is phase 2 (pivotal study)", "No PPQ lots made yet",
          "80 lots a year")
    check(a, "CS-SPEC-FLEX-BLA", "applies_now", "pivotal lots frame")
    check(a, "CS-AMV-FEWER-LOTS", "applies_now", "individualized")
    check(a, "CS-STABILITY-CLINICAL-LOTS", "applies_now", "40 clinical lots")
    check(a, "PV-CONCURRENT-RELEASE", "later_stage", "only after BLA approval", "PPQ protocol now")
    assert next_meeting(a.profile)[0] == "Type C"
    # the same study not flagged as pivotal keeps them for later
    b = run("car_t_pivotal_phase2_no_ppq", pivotal=False)
    assert b.status_of("PV-PPQ-LOT-NUMBER") == b.status_of("CS-SPEC-FLEX-BLA") == "later_stage"
    assert next_meeting(b.profile)[0] == "EOP2"


def test_ppq_lots_made_at_phase_2_put_their_number_in_play() -> None:
    """At phase 2 with 3 PPQ lots made, the lot number was "later" while clinical use "applied now"."""
    a = run("car_t_phase2_with_ppq")
    check(a, "PV-PPQ-LOT-NUMBER", "applies_now", "3 PPQ lots already made", "in play now")
    check(a, "PV-LIFECYCLE", "applies_now", "stage 2 (process qualification")


def test_seamless_phase_1_2_ends_the_phase_1_exemption() -> None:
    a = run("seamless_1_2_car_t")
    check(a, "CD-CGMP-PHASE", "not_applicable", "Stage is phase 1/2", "phase 2 part", "phase 1 part included",
          "210.2(c)")
    check(a, "CS-RESERVE-SAMPLES", "applies_now", "211.170(b)", "not IND lots")
    check(run("phase1_car_t"), "CD-CGMP-PHASE", "applies_now", "Stage is phase 1", "exempt from part 211")


def test_pivotal_phase_1_keeps_the_exemption_with_a_caution() -> None:
    a = run("car_t_phase1_pivotal")
    check(a, "CD-CGMP-PHASE", "applies_now", "flagged as pivotal", "controls that meet part 211")
    check(a, "PV-PPQ-LOT-NUMBER", "applies_now", "pivotal study is running")
    assert a.item("CD-CGMP-PHASE").facts == ("stage", "pivotal")


def test_expanded_access_and_single_patient_inds_can_be_described() -> None:
    ea = run("expanded_access_car_t")
    check(ea, "CD-CGMP-PHASE", "not_applicable", "not such a study", "ask FDA")
    check(ea, "CD-RELEASE-PERMISSIVE", "applies_now")
    check(ea, "PV-PPQ-LOT-NUMBER", "not_applicable", "needs none")
    check(ea, "GEN-SCOPE-ENGAGE", "applies_now", "expanded access", "developed toward a BLA")
    one = run("n_of_1_aav")
    check(one, "RP-PLAUSIBLE-MECHANISM", "applies_now", "each patient's own genetic variant", "CMC data")
    check(one, "CS-SPEC-FLEX-BLA", "not_applicable", "single-patient IND")
    assert next_meeting(one.profile)[0] == "Type D"
    assert "(single-patient IND)" in reasons(one, "CD-RELEASE-PERMISSIVE")


# -- finding 2: concurrent release after approval ------------------------------------------
def test_major_post_approval_change_cannot_release_before_the_supplement_is_approved() -> None:
    a = run("post_car_t_closed_system")
    check(a, "PV-CONCURRENT-RELEASE", "not_applicable", "prior-approval supplement", "601.12(b)",
          "cgtkit assumes", "set the reporting category")
    check(a, "PV-PPQ-LOT-NUMBER", "applies_now", "prior-approval supplement")
    set_explicitly = run("post_car_t_closed_system", reporting_category="prior_approval")
    assert set_explicitly.item("PV-CONCURRENT-RELEASE").facts == ("reporting_category",)
    assert "cgtkit assumes" not in reasons(set_explicitly, "PV-CONCURRENT-RELEASE")


def test_minor_reagent_change_needs_no_ppq() -> None:
    a = run("post_car_t_reagent_minor")
    check(a, "PV-CONCURRENT-RELEASE", "not_applicable", "annual report", "usually needs no new PPQ")
    check(a, "PV-PPQ-LOT-NUMBER", "not_applicable", "usually needs no new PPQ")


def test_cbe30_change_is_where_concurrent_release_can_apply() -> None:
    a = run("post_car_t_cbe30")
    check(a, "PV-CONCURRENT-RELEASE", "applies_now", "30 days after FDA receives the supplement",
          "commercial release specification", "commercial shelf life", "PPQ protocol provides for it", "rare")


# -- finding 5: 610.9 and 610.12 ------------------------------------------------------------
def test_alternative_methods_at_bla_follow_610_12_and_610_9() -> None:
    a = run("bla_lentiviral")
    text = reasons(a, "CS-ALT-METHODS")
    check(a, "CS-ALT-METHODS", "applies_now", "Shelf life is 21 days", "610.12", "non-culture", "610.9",
          "in the BLA or a supplement")
    assert "licensed" not in text.split("610.9")[0]  # 610.9 is not presented as a licensed-only rule
    short = run("rmat_accelerated")
    check(short, "CS-ALT-METHODS", "applies_now", "Shelf life is 14 days", "tell the treating physician")


# -- finding 6: reserve samples and 600.13 ---------------------------------------------------
def test_reserve_samples_use_600_13_criteria_and_the_single_bag_dose() -> None:
    car_t = run("post_car_t_closed_system")
    check(car_t, "CS-RESERVE-SAMPLES", "applies_now", "single final container", "the dose itself",
          "both appear to be met", "400 lots a year", "CBER Director", "cannot be self-granted")
    aav = run("bla_aav_few_lots")
    check(aav, "CS-RESERVE-SAMPLES", "applies_now", "4 lots a year", "not met on its face", "2026 guidance")
    ind = run("car_t_pivotal_phase2_no_ppq")
    check(ind, "CS-RESERVE-SAMPLES", "applies_now", "211.170(b)", "600.13 governs licensed products, not IND lots")
    many = run("phase3_aav")
    check(many, "CS-RESERVE-SAMPLES", "not_applicable", f"{FEW_CONTAINERS_MAX} or fewer is few")


# -- finding 7: comparability ---------------------------------------------------------------
def test_major_change_in_development_gets_risk_based_comparability() -> None:
    a = run("phase2_major_transfer")
    check(a, "CD-MINOR-CHANGES", "applies_now", "a major change (transfer to another site or facility)",
          "covers minor changes only", "risk-based approach", "July 2023")


def test_a_site_transfer_labelled_minor_is_questioned() -> None:
    a = run("phase2_edited_minor_transfer")
    check(a, "CD-MINOR-CHANGES", "applies_now", "a minor change", "rarely minor", "risk assessment",
          "ICH Q5E", "not identical")
    assert "change_type" in a.item("CD-MINOR-CHANGES").facts
    reagent = run("phase2_edited_minor_transfer", change_type="ancillary_material")
    assert "rarely minor" not in reasons(reagent, "CD-MINOR-CHANGES")


# -- finding 8: plausible mechanism ---------------------------------------------------------
def test_plausible_mechanism_screens_the_design_not_the_lots() -> None:
    check(run("edited_cells_one_edit_80"), "RP-PLAUSIBLE-MECHANISM", "not_applicable",
          "same design for every patient")
    check(run("n_of_1_aav"), "RP-PLAUSIBLE-MECHANISM", "applies_now", "serious condition")
    check(run("n_of_1_aav", serious_condition=False), "RP-PLAUSIBLE-MECHANISM", "not_applicable",
          "not recorded as serious")
    assert "not CMC" not in reasons(run("n_of_1_aav"), "RP-PLAUSIBLE-MECHANISM")


# -- finding 9: PPQ lots in the clinic --------------------------------------------------------
def test_clinical_use_of_ppq_lots_is_not_new_and_fails_for_healthy_donor_ppq() -> None:
    check(run("car_t_phase2_with_ppq"), "PV-PPQ-CLINICAL-USE", "not_applicable", "healthy-donor cells")
    check(run("bla_lentiviral"), "PV-PPQ-CLINICAL-USE", "applies_now", "not a new permission",
          "study patients' own cells")
    check(run("car_t_pivotal_phase2_no_ppq"), "PV-PPQ-CLINICAL-USE", "applies_now",
          "Record the PPQ starting material")
    check(run("phase3_aav"), "PV-PPQ-CLINICAL-USE", "applies_now", "2 PPQ lots made so far")
    assert "healthy-donor" not in reasons(run("phase3_aav"), "PV-PPQ-CLINICAL-USE")


# -- finding 10: readiness, safety attributes, lifecycle, release criteria, prior knowledge ------
def test_bla_without_ppq_raises_a_readiness_gap() -> None:
    a = run("bla_no_ppq")
    check(a, "PV-PPQ-LOT-NUMBER", "applies_now", "no PPQ lots recorded", "readiness gap")
    checks = {c.id: c for c in a.readiness}
    assert checks["ppq"].status == "gap" and checks["bridge"].status == "gap"
    assert checks["potency"].status == "gap"  # qualified, not validated, at BLA
    ok = {c.id: c.status for c in run("bla_lentiviral").readiness}
    assert ok["ppq"] == ok["potency"] == ok["bridge"] == "ok"
    assert bla_readiness(profile("phase1_car_t")) == ()
    pivotal = {c.id: c.status for c in run("rmat_accelerated").readiness}
    assert pivotal["potency"] == "gap" and pivotal["bridge"] == "unknown" and pivotal["ppq"] == "open"


def test_vector_copy_number_rests_on_clinical_lots_by_the_pivotal_study() -> None:
    early = reasons(run("phase1_car_t"), "CD-SAFETY-ATTRIBUTES")
    assert "engineering-run data" in early and "January 2024 CAR-T guidance" in early
    late = reasons(run("bla_lentiviral"), "CD-SAFETY-ATTRIBUTES")
    assert "40 clinical lots" in late and "not on engineering runs" in late
    assert "vector copy number" not in reasons(run("phase3_aav"), "CD-SAFETY-ATTRIBUTES")


def test_spec_lifecycle_names_reporting_categories_and_comparability_protocols() -> None:
    a = run("post_aav_specs")
    check(a, "CS-SPEC-LIFECYCLE", "applies_now", "12 commercial lots", "prior-approval supplement",
          "tightening in a lower category", "601.12(e)", f"{FEW_LOTS_MAX} or more")
    few = run("post_aav_specs", lots_made={"clinical": 8, "ppq": 3, "commercial": 4})
    check(few, "CS-SPEC-LIFECYCLE", "applies_now", "4 commercial lots", f"fewer than {FEW_LOTS_MAX}",
          "At 6 lots a year, 6 more take about 12 months")


def test_release_criteria_in_the_pivotal_study_name_potency_and_the_commercial_bound() -> None:
    check(run("car_t_pivotal_phase2_no_ppq"), "CD-RELEASE-PERMISSIVE", "applies_now", "610.10",
          "Potency assay: qualified", "clinical range that the commercial limits")


def test_prior_knowledge_names_letters_of_authorization_and_platform_designation() -> None:
    check(run("pre_ind_allogeneic"), "CD-PRIOR-KNOWLEDGE", "applies_now", "letter of authorization", "506K")


def test_cgmp_exemption_needs_no_fda_agreement() -> None:
    step = run("phase1_car_t").item("CD-CGMP-PHASE").next_step
    assert "No FDA agreement is needed" in step and "Do not implement" not in step


def test_lots_per_year_feeds_the_rules() -> None:
    fast, slow = run("car_t_pivotal_phase2_no_ppq"), run("car_t_pivotal_phase2_no_ppq", lots_per_year=2)
    assert "about 18 months" in reasons(slow, "PV-PPQ-LOT-NUMBER")
    assert "lots_per_year" in fast.item("PV-PPQ-LOT-NUMBER").facts
    many = run("bla_no_ppq")
    few = run("bla_no_ppq", lots_per_year=MANY_LOTS_PER_YEAR - 1)
    assert "both appear to be met" in reasons(many, "CS-RESERVE-SAMPLES")
    assert "not met on its face" in reasons(few, "CS-RESERVE-SAMPLES")


def test_expedited_programs_pace_cmc_readiness() -> None:
    a = run("rmat_accelerated")
    check(a, "RP-EXPEDITED-PROGRAMS", "applies_now", "RMAT designation", "Accelerated approval is planned",
          "potency assay validated")
    check(run("phase1_car_t"), "RP-EXPEDITED-PROGRAMS", "later_stage", "RMAT")
    check(run("phase1_car_t", serious_condition=False), "RP-EXPEDITED-PROGRAMS", "not_applicable",
          "not recorded as serious")


# -- the next FDA meeting --------------------------------------------------------------------
@pytest.mark.parametrize(("key", "meeting"), [
    ("pre_ind_allogeneic", "pre-IND"), ("phase1_car_t", "EOP1"), ("seamless_1_2_car_t", "EOP2"),
    ("car_t_pivotal_phase2_no_ppq", "Type C"), ("rmat_accelerated", "pre-BLA"), ("bla_no_ppq", "BLA-review"),
    ("post_car_t_closed_system", "Type C"), ("post_car_t_reagent_minor", "Type D"), ("post_aav_specs", "Type D"),
    ("n_of_1_aav", "Type D"),
])
def test_next_meeting(key: str, meeting: str) -> None:
    assert next_meeting(profile(key))[0] == meeting


def test_end_of_phase_1_is_used_and_pre_ind_becomes_interact_without_engineering_runs() -> None:
    assert "end-of-phase 1 meeting (Type B (EOP))" in run("phase1_car_t").item("GEN-SCOPE-ENGAGE").next_step
    assert next_meeting(profile("phase1_car_t", serious_condition=False))[0] == "Type C"
    assert next_meeting(profile("pre_ind_allogeneic", lots_made={}))[0] == "INTERACT"


def test_at_bla_the_next_step_is_the_review_team_not_the_pre_bla_meeting() -> None:
    for item in run("bla_lentiviral").items:
        assert "pre-BLA meeting" not in item.next_step, (item.flexibility_id, item.next_step)
    assert "review team" in run("bla_lentiviral").item("CS-SPEC-FLEX-BLA").next_step


# -- threshold edges of the individual rules ------------------------------------------------
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


@pytest.mark.parametrize(("containers", "status"), [(FEW_CONTAINERS_MAX, "applies_now"),
                                                    (FEW_CONTAINERS_MAX + 1, "not_applicable")])
def test_few_final_containers_threshold(containers: int, status: str) -> None:
    check(run("phase3_aav", final_containers_per_lot=containers), "CS-RESERVE-SAMPLES", status,
          f"{containers} final containers")


def test_lot_size_proxies_when_the_lot_facts_are_not_entered() -> None:
    bare = {k: v for k, v in PROFILES["phase3_aav"].items() if k not in ("doses_per_lot", "final_containers_per_lot")}
    check(assess(ProductProfile.build(**{**bare, "patient_population": 50})), "CS-RESERVE-SAMPLES", "applies_now",
          "lot size not entered", "(50)")
    check(assess(ProductProfile.build(**bare)), "CS-RESERVE-SAMPLES", "not_applicable", "(3000)")
    check(assess(ProductProfile.build(**bare, lot_volume_ml=40)), "CS-RESERVE-SAMPLES", "applies_now", "40 mL")
    check(assess(ProductProfile.build(**bare, doses_per_lot=1)), "CS-RESERVE-SAMPLES", "applies_now",
          "a lot yields 1 dose")


def test_rule_functions_can_be_called_alone() -> None:
    cat = load_catalog()
    p = profile("phase1_car_t")
    verdict = RULES["CD-CGMP-PHASE"](p, cat.get("CD-CGMP-PHASE"))
    assert verdict.status == "applies_now" and any("210.2(c)" in r for r in verdict.reasons)
    assert verdict.facts == ("stage",)
    verdict = RULES["PV-CONCURRENT-RELEASE"](p, cat.get("PV-CONCURRENT-RELEASE"))
    assert verdict.status == "later_stage"


def test_stage_window_fallback_rule() -> None:
    f = load_catalog().get("CS-SPEC-FLEX-BLA")  # stages phase 2/3, phase 3, BLA
    assert stage_window_rule(profile("phase1_car_t"), f).status == "later_stage"
    assert stage_window_rule(profile("bla_lentiviral"), f).status == "applies_now"
    assert stage_window_rule(profile("post_aav_specs"), f).status == "not_applicable"


def test_modality_outside_the_entry_is_not_applicable() -> None:
    f = load_catalog().get("RP-PLAUSIBLE-MECHANISM").model_copy(update={"product_types": ["in_vivo_genome_editing"]})
    item = assess_one(profile("n_of_1_aav"), f)
    assert item.status == "not_applicable" and "AAV in vivo gene therapy" in item.reasons[0]
    assert item.facts == ("modality",)


# -- concurrent release never applies before approval ---------------------------------------
MODALITIES = list(load_product_types())


@pytest.mark.parametrize("stage", STAGES[:-1])
@pytest.mark.parametrize("modality", MODALITIES)
@pytest.mark.parametrize("variant", [
    {},
    {"planned_change": "major", "change_description": "new process", "new_technology_interest": True},
    {"individualized": True, "shelf_life_days": 3, "patient_population": 5, "pivotal": True},
])
def test_concurrent_release_never_applies_before_approval(stage: str, modality: str, variant: dict) -> None:
    lots = {"engineering": 2} if stage == "pre-IND" else {"engineering": 2, "clinical": 5}
    if stage in ("phase 2/3", "phase 3", "BLA"):
        lots["ppq"] = 3
    p = ProductProfile.build(modality=modality, stage=stage, lots_made=lots, **variant)
    item = assess(p).item("PV-CONCURRENT-RELEASE")
    assert item.status == "later_stage"
    assert "only after BLA approval" in " ".join(item.reasons)


# -- every next step leads to FDA engagement -----------------------------------------------
@pytest.mark.parametrize("key", list(PROFILES))
def test_every_next_step_leads_to_fda(key: str) -> None:
    for item in run(key).items:
        assert "FDA" in item.next_step, (item.flexibility_id, item.next_step)
        assert "GEN-SCOPE-ENGAGE" in item.next_step, (item.flexibility_id, item.next_step)
        assert item.page in {"start_here", "clinical_development", "commercial_specifications", "comparability",
                             "process_validation", "stability_samples", "decision_record"}


def test_next_step_names_a_meeting_still_ahead() -> None:
    a = run("phase1_car_t")
    assert "end-of-phase 1 meeting" in a.item("PV-PPQ-LOT-NUMBER").next_step
    assert "pre-BLA meeting" in a.item("PV-CONCURRENT-RELEASE").next_step
    assert "Type C meeting" in run("post_aav_specs").item("CS-SPEC-LIFECYCLE").next_step


# -- frame and timeline shapes -------------------------------------------------------------
def test_items_carry_catalog_evidence_pages_and_basis() -> None:
    a = run("bla_lentiviral")
    cat = load_catalog()
    assert [it.flexibility_id for it in a.items] == list(cat.ids)
    for it in a.items:
        assert it.evidence == tuple(cat.get(it.flexibility_id).evidence)
        assert it.page == cat.get(it.flexibility_id).page
        assert it.relevant_from == cat.get(it.flexibility_id).stages[0]
        assert it.basis == cat.get(it.flexibility_id).basis
        assert it.reasons and all(r.strip() for r in it.reasons)
        assert it.facts
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
    assert list(frame.columns) == ["flexibility_id", "area", "title", "status", "basis", "facts", "reasons", "page",
                                   "next_step"]
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
    pivotal = run("car_t_pivotal_phase2_no_ppq").timeline().set_index(["flexibility_id", "stage"])["relevance"]
    assert pivotal["PV-PPQ-LOT-NUMBER", "phase 2"] == "now"


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
