"""ProductProfile: field checks and combination checks give messages a user can act on.

Also the one pydantic-error formatter (:func:`cgtkit.errors.describe_validation_error`),
whose form labels the profile uses.
"""

from __future__ import annotations

from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cgtkit.errors import ProfileError, describe_validation_error
from cgtkit.profile import STAGES, ProductProfile, load_product_types


def test_defaults_are_the_example_car_t() -> None:
    p = ProductProfile()
    assert p.modality == "autologous_cell" and p.individualized and p.stage == "phase 1"
    assert p.product_type.label.startswith("Autologous")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"lots_made": {"engineering": -1}}, "Engineering lots: must be 0 or more"),
        ({"stage": "post-approval", "lots_made": {}}, "enter the lots made so far"),
        ({"stage": "phase 3", "lots_made": {"commercial": 2}}, "Commercial lots exist only after BLA approval"),
        ({"stage": "pre-IND", "lots_made": {"clinical": 1}}, "pre-IND stage the clinical lot count must be 0"),
        ({"stage": "phase 1", "lots_made": {"ppq": 1}}, "PPQ lots are made when the commercial process"),
        ({"stage": "phase 1/2", "lots_made": {"ppq": 1}}, "tick 'the current study is pivotal'"),
        ({"stage": "pre-IND", "ind_type": "single_patient", "lots_made": {}}, "Expanded access and single-patient"),
        ({"stage": "BLA", "ind_type": "expanded_access"}, "choose a clinical stage"),
        ({"ind_type": "compassionate"}, "IND type: must be one of 'development'"),
        ({"doses_per_lot": 0}, "Doses per lot: must be 1 or more"),
        ({"final_containers_per_lot": -2}, "Final containers per lot: must be 1 or more"),
        ({"lot_volume_ml": 0}, r"Lot volume \(mL\): must be more than 0"),
        ({"change_type": "teleportation"}, "Unknown kind of change 'teleportation'"),
        ({"reporting_category": "cbe60"}, "Reporting category: must be one of"),
        ({"planned_change": "minor", "change_description": "  "}, "Describe the planned manufacturing change"),
        ({"modality": "plasmid"}, "Unknown modality 'plasmid'"),
        ({"stage": "phase 4"}, "Stage: must be one of 'pre-IND', 'phase 1'"),
        ({"shelf_life_days": 0}, r"Shelf life \(days\): must be more than 0"),
        ({"name": ""}, "Product name: must not be empty"),
    ],
)
def test_invalid_profiles_explain_themselves(fields: dict, message: str) -> None:
    with pytest.raises(ProfileError, match=message):
        ProductProfile.build(**fields)


def test_development_path_properties() -> None:
    """Issue #17.1: the pivotal study, not phase 3, drives BLA planning."""
    assert not ProductProfile.build(stage="phase 2").bla_planning
    pivotal2 = ProductProfile.build(stage="phase 2", pivotal=True)
    assert pivotal2.pivotal_study and pivotal2.bla_planning
    assert ProductProfile.build(stage="phase 2/3").pivotal_study
    assert ProductProfile.build(stage="phase 3").pivotal_study
    assert ProductProfile.build(stage="BLA", lots_made={"clinical": 5}).bla_planning
    assert not ProductProfile.build(stage="phase 2", pivotal=True, ind_type="expanded_access").pivotal_study
    assert ProductProfile.build(stage="phase 1", pivotal=True, lots_made={"clinical": 3, "ppq": 1}).lots_made.ppq == 1
    assert not ProductProfile.build(stage="phase 1").part_211_expected
    assert ProductProfile.build(stage="phase 1/2").part_211_expected
    assert ProductProfile.build(stage="phase 1", ind_type="single_patient").part_211_expected


def test_reporting_category_is_assumed_from_the_change_label_until_set() -> None:
    base = dict(stage="post-approval", lots_made={"commercial": 10}, change_description="x")
    assert ProductProfile.build(**base, planned_change="major").reporting == ("prior_approval", True)
    assert ProductProfile.build(**base, planned_change="minor").reporting == ("annual_report", True)
    assert ProductProfile.build(**base, planned_change="minor", reporting_category="cbe30").reporting == ("cbe30", False)
    assert ProductProfile.build(stage="post-approval", lots_made={"commercial": 10}).reporting == ("not_set", True)


def test_profiles_saved_before_the_new_fields_still_load() -> None:
    saved = {"name": "Example autologous CAR-T", "modality": "autologous_cell", "stage": "phase 1",
             "individualized": True, "lots_made": {"engineering": 3, "clinical": 8, "ppq": 0, "commercial": 0},
             "lots_per_year": 40, "patient_population": 5000, "shelf_life_days": 365.0, "planned_change": "none",
             "change_description": "", "new_technology_interest": False}
    p = ProductProfile.model_validate(saved)
    assert (p.pivotal, p.ind_type, p.doses_per_lot, p.final_containers_per_lot, p.lot_volume_ml) == (
        False, "development", None, None, None)
    assert p.change_type == "unspecified" and p.reporting_category == "not_set" and p.serious_condition


def test_valid_post_approval_profile() -> None:
    p = ProductProfile.build(stage="post-approval", lots_made={"clinical": 20, "ppq": 3, "commercial": 40})
    assert p.lots_made.total == 63 and p.stage_index == len(STAGES) - 1


def test_product_types_file_is_complete() -> None:
    ids = set(load_product_types())
    assert {"autologous_cell", "allogeneic_cell", "aav_in_vivo", "lv_rv_ex_vivo",
            "genome_edited_cells", "in_vivo_genome_editing", "other"} == ids


def test_unlabelled_field_is_named_by_its_path() -> None:
    with pytest.raises(ProfileError) as info:
        ProductProfile.build(planned_change="huge", lots_made={"ppq": "three"}, change_description=7)
    message = str(info.value)
    assert message.startswith("The product profile is not consistent. ")
    assert "PPQ lots: must be a whole number; got 'three'." in message
    assert "Planned change: must be one of 'none', 'minor' or 'major'; got 'huge'." in message
    assert "field 'change_description': expected text" in message


def test_change_kinds_file_is_complete() -> None:
    from cgtkit.profile import load_change_kinds

    kinds = load_change_kinds()
    assert {"unspecified", "site_transfer", "closed_automated", "ancillary_material", "analytical_method"} <= set(kinds)
    assert kinds["site_transfer"].minor_is_doubtful and kinds["site_transfer"].after_approval == ["prior_approval"]


# -- the formatter on a model of its own ---------------------------------------------
class _Bounds(BaseModel):
    model_config = ConfigDict(extra="forbid")
    low: float | None = None


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    scale: Literal["normal", "log"]
    bounds: _Bounds | None = None
    products: Literal["all"] | list[str] = "all"
    count: int = Field(0, ge=0)


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")
    entries: list[_Entry]
    title: str = Field(min_length=1)


def _describe(raw: dict, **kwargs) -> str:  # noqa: ANN003
    with pytest.raises(ValidationError) as info:
        _File.model_validate(raw)
    return describe_validation_error(info.value, **kwargs)


def test_formatter_names_file_entry_id_and_field() -> None:
    data = {"title": "x", "entries": [{"id": "viability", "scale": "log"},
                                      {"id": "vector_copy_number", "scale": "lognormal", "bounds": {"lo": 0}}]}
    assert _describe(data, where="attributes.yaml", data=data) == (
        "attributes.yaml, entry 2 (id 'vector_copy_number'): field 'scale': must be one of 'normal' or 'log'; "
        "got 'lognormal'. "
        "attributes.yaml, entry 2 (id 'vector_copy_number'): field 'bounds.lo': is not a known field; "
        "remove it or correct its spelling."
    )


def test_formatter_without_data_names_entries_by_position() -> None:
    data = {"title": "", "entries": [{"id": "a", "scale": "log", "count": -1}]}
    assert _describe(data) == (
        "entry 1: field 'count': must be 0 or more; got -1. field 'title': must not be empty."
    )


def test_formatter_leaves_out_union_member_names_and_labels_fields() -> None:
    data = {"title": "x", "entries": [{"id": "a", "scale": "log", "products": ["car_t", 7]}]}
    message = _describe(data, data=data, labels={"products.1": "Second product"})
    assert message == "entry 1 (id 'a'): Second product: expected text, got 7."
    assert "list[str]" not in message and "literal" not in message


def test_formatter_counts_what_it_does_not_show() -> None:
    data = {"entries": [{"id": str(i)} for i in range(5)]}  # 5 missing scales, 1 missing title
    message = _describe(data, data=data, limit=2)
    assert message.count("is required; add it.") == 2
    assert message.endswith("(4 more problems not shown.)")
