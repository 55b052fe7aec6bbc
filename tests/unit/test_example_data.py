"""The shipped example data and template: they load, match the docs and the metadata, and are reproducible."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from cgtkit.attributes import get_attribute, load_attributes
from cgtkit.io import attribute_values, load_lots, lots_summary

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "data" / "examples"
SCRIPT = ROOT / "scripts" / "make_example_data.py"
FILES = ["car_t_lots.csv", "aav_lots.csv", "car_t_stability.csv", "aav_stability.csv"]


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("make_example_data", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


@pytest.fixture(scope="module")
def loaded():
    return {name: load_lots(EXAMPLES / name) for name in FILES}


@pytest.mark.parametrize("name", FILES)
def test_example_files_load(loaded, name):
    assert len(loaded[name]) > 0


def test_template_loads_and_shows_every_feature():
    df = load_lots(ROOT / "data" / "template_lots.csv")
    assert set(df["censoring"]) == {"none", "left", "right"}
    assert set(df["result"].dropna()) == {"pass"}
    assert set(df["lot_type"]) == {"clinical", "ppq", "commercial"}
    assert df["timepoint_months"].notna().any() and df["storage_condition"].notna().any()
    assert df["phase"].notna().any() and df["process_version"].notna().all()


def test_car_t_lot_counts(loaded, script):
    summary = lots_summary(loaded["car_t_lots.csv"])
    counts = summary["lot_type"].value_counts().to_dict()
    assert counts == {"engineering": 3, "clinical": 24, "ppq": 3, "commercial": 30}
    assert counts == script.CAR_T_LOT_COUNTS
    assert (summary["n_attributes"] == 10).all()
    clinical = summary[summary["lot_type"] == "clinical"]
    assert clinical["phase"].value_counts().to_dict() == {"phase 2": 15, "phase 1": 9}
    versions = summary.groupby("lot_type")["process_version"].unique().map(list).to_dict()
    assert versions == {"engineering": ["v1"], "clinical": ["v1"], "ppq": ["v2"], "commercial": ["v2"]}
    years = summary.groupby("lot_type")["manufacture_date"].agg(["min", "max"])
    assert years.loc["engineering", "max"].year == 2023
    assert years.loc["commercial", "min"].year == 2025 and years.loc["commercial", "max"].year == 2026


def test_aav_lot_counts(loaded, script):
    summary = lots_summary(loaded["aav_lots.csv"])
    counts = summary["lot_type"].value_counts().to_dict()
    assert counts == {"engineering": 2, "clinical": 8, "ppq": 2, "commercial": 6}
    assert counts == script.AAV_LOT_COUNTS
    assert (summary["n_attributes"] == 9).all()


def test_stability_files(loaded):
    car_t = loaded["car_t_stability.csv"]
    assert set(car_t["attribute"]) == {"viability", "ifng_potency"}
    assert car_t["lot_id"].nunique() == 4
    assert set(car_t["lot_type"]) <= {"clinical", "ppq"}
    last = car_t.groupby("lot_id")["timepoint_months"].max()
    assert last.max() == 24 and last.min() < 24  # some lots incomplete
    assert set(car_t["timepoint_months"]) <= {0, 3, 6, 9, 12, 18, 24}
    assert car_t["storage_condition"].nunique() == 1
    # stability lots are lots of the release file, with the same lot-level data
    release = lots_summary(loaded["car_t_lots.csv"]).set_index("lot_id")
    for lot_id, lot in lots_summary(car_t).set_index("lot_id").iterrows():
        assert release.loc[lot_id, "manufacture_date"] == lot["manufacture_date"]
        assert release.loc[lot_id, "lot_type"] == lot["lot_type"]
    aav = loaded["aav_stability.csv"]
    assert set(aav["attribute"]) == {"vector_genome_titer", "relative_potency"}


def test_every_example_attribute_has_metadata_with_the_same_unit(loaded):
    specs = load_attributes()
    for name, df in loaded.items():
        for attribute, units in df.groupby("attribute")["unit"].unique().items():
            assert attribute in specs, f"{name}: {attribute} has no metadata in attributes.yaml"
            assert list(units) == [specs[attribute].unit], f"{name}: unit of {attribute}"
    template = load_lots(ROOT / "data" / "template_lots.csv")
    assert all(get_attribute(a).in_catalog for a in template["attribute"].unique())


def test_safety_attributes_are_pass_fail_or_censored(loaded):
    for name in ("car_t_lots.csv", "aav_lots.csv"):
        df = loaded[name]
        for attribute in df["attribute"].unique():
            spec = get_attribute(attribute)
            rows = df[df["attribute"] == attribute]
            if spec.result_type == "pass_fail":
                assert (rows["result"] == "pass").all(), attribute
            else:
                assert rows["result"].isna().all() and rows["value"].notna().all(), attribute
    endotoxin = loaded["car_t_lots.csv"].query("attribute == 'endotoxin'")
    assert (endotoxin["censoring"] == "left").mean() > 0.7
    hcdna = loaded["aav_lots.csv"].query("attribute == 'residual_hcdna'")
    assert (hcdna["censoring"] == "left").any() and (hcdna["original_value"] == "<10").any()


def test_designed_features(loaded):
    car_t = loaded["car_t_lots.csv"]
    viability = attribute_values(car_t, "viability")
    assert viability["value"].max() < 100
    commercial = viability[viability["lot_type"] == "commercial"]["value"].sort_values()
    assert commercial.iloc[:2].tolist() == [80.9, 81.6]  # the two lots near the low end
    transduction = attribute_values(car_t, "transduction_efficiency")
    means = transduction.groupby("process_version")["value"].mean()
    assert 2.0 < means["v2"] - means["v1"] < 6.0
    vcn = attribute_values(car_t, "vector_copy_number")["value"]
    assert 1.5 < vcn.median() < 2.2


def test_script_is_deterministic(script, tmp_path):
    first = script.write_example_data(tmp_path / "a")
    second = script.write_example_data(tmp_path / "b")
    assert [p.name for p in first] == FILES
    for a, b in zip(first, second):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_committed_files_match_the_script(script, tmp_path):
    for path in script.write_example_data(tmp_path):
        committed = EXAMPLES / path.name
        assert committed.read_bytes() == path.read_bytes(), (
            f"{committed} differs from what scripts/make_example_data.py writes; rerun the script"
        )


def test_another_seed_gives_other_data(script, tmp_path):
    default = script.build_tables()["car_t_lots.csv"]
    other = script.build_tables(seed=1)["car_t_lots.csv"]
    assert default != other


def test_readme_says_synthetic():
    text = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    assert "SYNTHETIC" in text
    for name in FILES:
        assert name in text
