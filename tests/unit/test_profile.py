"""ProductProfile: field checks and combination checks give messages a user can act on."""

from __future__ import annotations

import pytest

from cgtkit.errors import ProfileError
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
        ({"stage": "phase 1", "lots_made": {"ppq": 1}}, "PPQ lots are made late in development"),
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


def test_valid_post_approval_profile() -> None:
    p = ProductProfile.build(stage="post-approval", lots_made={"clinical": 20, "ppq": 3, "commercial": 40})
    assert p.lots_made.total == 63 and p.stage_index == len(STAGES) - 1


def test_product_types_file_is_complete() -> None:
    ids = set(load_product_types())
    assert {"autologous_cell", "allogeneic_cell", "aav_in_vivo", "lv_rv_ex_vivo",
            "genome_edited_cells", "in_vivo_genome_editing", "other"} == ids
