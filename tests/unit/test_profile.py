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


def test_unlabelled_field_is_named_by_its_path() -> None:
    with pytest.raises(ProfileError) as info:
        ProductProfile.build(planned_change="huge", lots_made={"ppq": "three"})
    message = str(info.value)
    assert message.startswith("The product profile is not consistent. ")
    assert "PPQ lots: must be a whole number; got 'three'." in message
    assert "field 'planned_change': must be one of 'none', 'minor' or 'major'; got 'huge'." in message


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
