"""Tests of cgtkit.attributes: data/attributes.yaml validates, and bad files give clear errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from cgtkit.attributes import (
    ATTRIBUTES_FILE,
    AttributeSpec,
    PhysicalBounds,
    attributes_for,
    default_attribute,
    get_attribute,
    load_attributes,
)
from cgtkit.errors import CatalogError
from cgtkit.vocab import AttributeKind, LimitSide, Scale

CAR_T = {
    "viability",
    "cd3_purity",
    "transduction_efficiency",
    "vector_copy_number",
    "ifng_potency",
    "cell_dose",
    "endotoxin",
    "sterility",
    "mycoplasma",
    "rcl",
}
AAV = {
    "vector_genome_titer",
    "full_capsid_pct",
    "relative_potency",
    "residual_hcdna",
    "residual_hcp",
    "aggregates",
    "endotoxin",
    "sterility",
    "rcaav",
}


def test_shipped_file_validates():
    specs = load_attributes()
    assert specs, "no attributes loaded"
    assert all(isinstance(s, AttributeSpec) for s in specs.values())
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", key) for key in specs)
    assert all(key == spec.id for key, spec in specs.items())


def test_load_is_cached():
    assert load_attributes() is load_attributes()


def test_products():
    assert set(attributes_for("car_t")) == CAR_T
    assert set(attributes_for("aav")) == AAV
    with pytest.raises(ValueError, match="known product ids: aav, car_t"):
        attributes_for("lentiviral")


def test_safety_attributes_have_fixed_requirement_and_source():
    specs = load_attributes()
    safety = {k for k, s in specs.items() if s.kind == "safety_fixed"}
    assert safety == {"sterility", "mycoplasma", "endotoxin", "rcl", "rcaav"}
    for spec in specs.values():
        if spec.kind == "safety_fixed":
            assert spec.fixed_requirement and spec.source, spec.id
            assert spec.is_safety_fixed
        else:
            assert spec.fixed_requirement is None, spec.id
    assert "610.12" in specs["sterility"].fixed_requirement
    assert "dose-derived" in specs["endotoxin"].fixed_requirement


def test_vector_copy_number_is_quantitative_and_flagged_for_discussion():
    vcn = get_attribute("vector_copy_number")
    assert vcn.kind == "quantitative"
    assert vcn.scale == "log"
    assert vcn.limit_side == "upper"
    assert vcn.safety_discussion is True
    assert [k for k, s in load_attributes().items() if s.safety_discussion] == ["vector_copy_number"]


def test_scales_and_sides():
    specs = load_attributes()
    assert specs["viability"].limit_side == "lower"
    assert specs["vector_genome_titer"].scale == "log"
    assert specs["vector_genome_titer"].limit_side == "two_sided"
    assert specs["residual_hcdna"].scale == "log"
    assert specs["residual_hcdna"].limit_side == "upper"
    pass_fail = {k for k, s in specs.items() if s.result_type == "pass_fail"}
    assert pass_fail == {"sterility", "mycoplasma", "rcl", "rcaav"}


def test_fields_use_the_shared_vocabulary():
    for spec in load_attributes().values():
        assert isinstance(spec.kind, AttributeKind)
        assert isinstance(spec.scale, Scale)
        assert isinstance(spec.limit_side, LimitSide)
    assert get_attribute("residual_hcdna").scale is Scale.LOG
    assert default_attribute("x").limit_side.sided == 2


def test_physical_bounds():
    specs = load_attributes()
    whole = {"viability", "cd3_purity", "transduction_efficiency", "full_capsid_pct", "aggregates"}
    for spec in specs.values():
        if spec.result_type == "pass_fail":
            assert spec.physical_bounds is None, spec.id
        elif spec.id in whole:  # a percentage of a whole
            assert spec.physical_bounds == PhysicalBounds(low=0, high=100), spec.id
        else:  # titers, copy numbers, concentrations, potency relative to a reference: only >= 0
            assert spec.physical_bounds == PhysicalBounds(low=0), spec.id
    # "% of reference" is a percentage but not of a whole: no upper bound
    assert specs["relative_potency"].unit == "% of reference" and specs["relative_potency"].physical_bounds.high is None
    assert default_attribute("x").physical_bounds is None
    assert PhysicalBounds(low=0, high=100).clip(-1.0, None) == (0.0, None)


def test_unknown_attribute_gets_default():
    spec = get_attribute("my_new_assay")
    assert spec == default_attribute("my_new_assay")
    assert (spec.label, spec.kind, spec.scale, spec.limit_side) == ("my_new_assay", "quantitative", "normal", "two_sided")
    assert spec.in_catalog is False
    # ids that are not snake_case still work
    assert get_attribute("Potency (ELISA) #2").label == "Potency (ELISA) #2"


def test_lookup_is_forgiving_about_case_and_spaces():
    cell_dose = get_attribute("Cell dose")
    assert cell_dose.label == "Cell dose" and cell_dose.unit == load_attributes()["cell_dose"].unit
    assert cell_dose.id == "Cell dose"  # keeps the data's id, so it selects the data's rows
    assert get_attribute("VECTOR-COPY-NUMBER").safety_discussion is True
    assert get_attribute("viability").in_catalog is True


# --------------------------------------------------------------------------- #
# invalid files
# --------------------------------------------------------------------------- #
def _entry(**overrides):
    entry = {
        "id": "viability",
        "label": "Viability",
        "unit": "%",
        "products": ["car_t"],
        "kind": "quantitative",
        "scale": "normal",
        "limit_side": "lower",
        "description": "Viable cells.",
    }
    entry.update(overrides)
    return {k: v for k, v in entry.items() if v is not None}


def _write(tmp_path: Path, *entries, name="attrs.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump({"attributes": list(entries)}, allow_unicode=True), encoding="utf-8")
    return path


def _error(path: Path) -> str:
    with pytest.raises(CatalogError) as info:
        load_attributes(path)
    return str(info.value)


def test_valid_custom_file(tmp_path):
    specs = load_attributes(_write(tmp_path, _entry()))
    assert list(specs) == ["viability"]


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"scale": "lognormal"}, "spelled 'log'"),
        ({"scale": "exp"}, "field 'scale'"),
        ({"physical_bounds": {}}, "needs a low or a high bound"),
        ({"physical_bounds": {"low": 100, "high": 0}}, "must be below"),
        ({"physical_bounds": {"low": 0, "hi": 100}}, "field 'physical_bounds.hi'"),
        ({"kind": "safety_fixed", "result_type": "pass_fail", "fixed_requirement": "No growth", "source": "21 CFR 610.12",
          "physical_bounds": {"low": 0}}, "no physical_bounds"),
        ({"limit_side": "both"}, "field 'limit_side'"),
        ({"kind": "safety"}, "field 'kind'"),
        ({"label": None}, "field 'label'"),
        ({"colour": "red"}, "field 'colour'"),
        ({"kind": "safety_fixed", "source": "21 CFR 610.12"}, "needs a fixed_requirement"),
        ({"kind": "safety_fixed", "fixed_requirement": "No growth"}, "needs a source"),
        ({"fixed_requirement": "≥ 70 %"}, "no fixed_requirement"),
        ({"result_type": "pass_fail"}, "cannot be quantitative"),
        ({"id": "Viability %"}, "snake_case"),
        ({"products": []}, "at least one product"),
        ({"products": ["CAR-T"]}, "product id must be snake_case"),
        ({"in_catalog": False}, "set by cgtkit"),
    ],
)
def test_invalid_entry_names_file_and_entry(tmp_path, overrides, fragment):
    path = _write(tmp_path, _entry(id="cd3_purity"), _entry(**overrides))
    message = _error(path)
    assert message.startswith("attrs.yaml, entry 2")
    assert fragment in message


def test_entry_named_by_id(tmp_path):
    message = _error(_write(tmp_path, _entry(scale="lognormal")))
    assert "attrs.yaml, entry 1 (id 'viability'): field 'scale'" in message


def test_duplicate_id(tmp_path):
    message = _error(_write(tmp_path, _entry(), _entry()))
    assert "entry 2 (id 'viability')" in message and "already used by entry 1" in message


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("attributes: [\n", "not valid YAML"),
        ("- id: x\n", "top-level key 'attributes'"),
        ("attributes: []\n", "list is empty"),
        ("attributes: [1]\n", "entry 1: expected a mapping"),
        ("attributes: []\nextra: 1\n", "unknown top-level key"),
    ],
)
def test_malformed_files(tmp_path, text, fragment):
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    message = _error(path)
    assert message.startswith("bad.yaml")
    assert fragment in message


def test_missing_file(tmp_path):
    assert "cannot read" in _error(tmp_path / "missing.yaml")


def test_shipped_file_path():
    assert ATTRIBUTES_FILE.name == "attributes.yaml" and ATTRIBUTES_FILE.is_file()


def test_every_problem_of_the_file_is_reported_at_once(tmp_path):
    message = _error(_write(tmp_path, _entry(id="Cell dose", products=[]), _entry(in_catalog=True), _entry()))
    assert message.startswith("attrs.yaml, entry 1 (id 'Cell dose'): field 'id': must be snake_case")
    assert "attrs.yaml, entry 1 (id 'Cell dose'): field 'products': list at least one product id" in message
    assert "attrs.yaml, entry 2 (id 'viability'): field 'in_catalog': is set by cgtkit; remove it" in message
    assert "attrs.yaml, entry 3 (id 'viability'): field 'id': 'viability' is already used by entry 2" in message
    message = _error(_write(tmp_path, _entry(scale="exp"), _entry(id="cd3_purity", kind="safe")))
    assert "attrs.yaml, entry 1 (id 'viability'): field 'scale': must be one of 'normal' or 'log'; got 'exp'" in message
    assert "attrs.yaml, entry 2 (id 'cd3_purity'): field 'kind': must be one of" in message
