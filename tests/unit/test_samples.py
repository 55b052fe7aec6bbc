"""Tests for cgtkit.analyses.samples (the sample and release-time budget), data/release_tests.yaml and its figures.

Rules checked, from the regulation text:
* 21 CFR 211.170(b): reserve of twice the quantity needed for all required tests, except sterility and pyrogens;
* 21 CFR 600.13: retention of at least one final container;
* USP <71>: minimum quantity for each medium by container volume (< 1 mL: all; 1-40 mL: half, at least 1 mL;
  > 40-100 mL: 20 mL; > 100 mL: 10 %, at least 20 mL), two media.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml

from cgtkit.analyses.samples import (
    Lot,
    ReleasePlan,
    ReleaseTest,
    SampleRule,
    compare_plans,
    example_comparison,
    example_lot,
    load_release_tests,
    plans_for,
    release_plan,
    release_tests,
    release_tests_table,
    sample_budget,
    usp71_quantity_per_medium,
)
from cgtkit.datafiles import data_dir
from cgtkit.errors import CatalogError, CgtkitError


@pytest.mark.parametrize(("fill", "per_medium"), [
    (0.5, 0.5), (1.0, 1.0), (1.5, 1.0), (10.0, 5.0), (40.0, 20.0), (40.5, 20.0), (100.0, 20.0), (150.0, 20.0),
    (500.0, 50.0),
])
def test_usp71_quantity_per_medium(fill, per_medium):
    assert usp71_quantity_per_medium(fill) == per_medium


def test_a_10_to_40_ml_bag_loses_its_whole_content_to_compendial_sterility():
    for fill in (10.0, 25.0, 40.0):
        lot = Lot("bag", volume_ml=fill, final_containers=1, dose=fill)
        assert SampleRule("usp71").amount_ml(lot) == pytest.approx(fill)
    assert SampleRule("usp71").amount_ml(Lot("bag", volume_ml=50, final_containers=1, dose=50)) == 40.0


# ---------------------------------------------------------------------------------------------------------
# The CAR-T example (data/release_tests.yaml: lot car_t_fresh, plans car_t_*)


@pytest.fixture(scope="module")
def car_t():
    return example_comparison("car_t")


def test_car_t_conventional_testing_eats_the_lot(car_t):
    """150 mL in three 50 mL bags, dose 2.5e8 cells at 3e6/mL (83.3 mL), 72 h shelf life (all assumptions):
    compendial sterility takes 40 mL, culture mycoplasma 15 mL; reserves 2 x 17.2 mL; one bag retained."""
    b = car_t.budget("car_t_conventional")
    assert b.tests_ml == pytest.approx(57.7)
    assert b.reserve_ml == pytest.approx(34.4)
    assert b.retention_ml == pytest.approx(50.0)
    assert b.consumed_share == pytest.approx(142.1 / 150)  # 94.7 %
    assert b.dose_ml == pytest.approx(250 / 3)
    assert not b.dose_fits and b.remaining_ml == pytest.approx(7.9)
    assert b.time_to_release_hours == 28 * 24 + 4  # mycoplasma culture, then QA disposition
    assert not b.release_within_shelf_life and not b.feasible
    assert any("Mycoplasma, culture alone takes 28 days" in n for n in b.notes)


def test_car_t_alternative_methods_make_release_feasible(car_t):
    """Automated sterility (released on no growth to date), NAT mycoplasma and a smaller-volume potency assay."""
    b = car_t.budget("car_t_alternative")
    assert b.tests_ml == pytest.approx(3.9) and b.reserve_ml == pytest.approx(4.8)
    assert b.consumed_share == pytest.approx(58.7 / 150)  # 39.1 %, most of it the retained bag
    assert b.dose_fits and b.remaining_ml == pytest.approx(91.3)
    assert b.time_to_release_hours == 28.0 and b.hours_left_at_release == 44.0
    assert b.release_within_shelf_life and b.feasible
    assert b.physician_notification
    (pending,) = [ln for ln in b.lines if ln.pending_at_release]
    assert pending.test_id == "sterility_automated" and pending.result_after_shelf_life
    assert any("notify the treating physician" in n for n in b.notes)
    assert any("21 CFR 610.9" in n for n in b.notes)
    exception = car_t.budget("car_t_alternative_no_reserve")
    assert exception.consumed_ml == pytest.approx(3.9) and exception.consumed_share == pytest.approx(0.026)
    assert any("CBER Director" in n for n in exception.notes)


def test_side_by_side_table(car_t):
    frame = car_t.to_frame().set_index("measure")
    assert list(frame.columns) == ["Conventional", "Alternative methods", "Alternative methods, reserve exception"]
    assert list(frame.loc["Feasible"]) == [False, True, True]
    assert frame.loc["Time to release (hours)", "Conventional"] == 676.0
    lines = car_t.lines_frame()
    assert set(lines["plan"]) == set(frame.columns) and len(lines) == 21


# ---------------------------------------------------------------------------------------------------------
# The rules


def _test(test_id, amount, hours, **kwargs):
    return ReleaseTest(test_id, test_id, test_id, SampleRule(amount=amount), hours, **kwargs)


def test_reserve_is_twice_the_non_exempt_tests_and_retention_one_container():
    lot = Lot("lot", volume_ml=100, final_containers=4, dose=10, shelf_life=30, shelf_life_unit="days")
    plan = ReleasePlan("p", "plan", (
        _test("sterility", 2.0, 24, reserve_exempt=True),
        _test("endotoxin", 1.0, 2, reserve_exempt=True),
        _test("potency", 3.0, 48),
        ReleaseTest("in_process_myco", "myco", "mycoplasma", SampleRule(amount=10.0), 24, material="in_process"),
    ))
    b = sample_budget(lot, plan)
    assert b.tests_ml == 6.0  # the in-process sample takes no final product
    assert b.reserve_ml == 6.0  # 2 x potency only
    assert b.retention_ml == 25.0
    assert b.time_to_release_hours == 48.0 and b.shelf_life_hours == 720.0
    none = sample_budget(lot, ReleasePlan("q", "no reserves", plan.tests, reserve_211_170b=False,
                                          retention_600_13=False))
    assert none.consumed_ml == 6.0
    two = sample_budget(lot, ReleasePlan("r", "two kept", plan.tests, retention_containers=2))
    assert two.retention_ml == 50.0


def test_one_container_lot_retention_takes_the_dose():
    lot = Lot("one bag", volume_ml=40, final_containers=1, dose=30)
    b = sample_budget(lot, ReleasePlan("p", "plan", (_test("count", 0.2, 1),)))
    assert b.retention_ml == 40.0 and not b.dose_fits
    assert any("only container" in n and "CBER Director" in n for n in b.notes)


def test_negative_to_date_only_when_the_plan_allows_it():
    lot = Lot("lot", volume_ml=100, final_containers=2, dose=10, shelf_life=2, shelf_life_unit="days")
    tests = (_test("sterility", 1.0, 168, reserve_exempt=True, negative_to_date=True), _test("count", 0.2, 1))
    held = sample_budget(lot, ReleasePlan("a", "held", tests))
    assert held.time_to_release_hours == 168 and not held.release_within_shelf_life
    assert not held.physician_notification
    early = sample_budget(lot, ReleasePlan("b", "early", tests, release_on_negative_to_date=True,
                                           disposition_hours=2))
    assert early.time_to_release_hours == 3.0 and early.release_within_shelf_life and early.physician_notification


def test_units_of_the_dose_and_samples():
    lot = Lot("lot", volume_ml=100, final_containers=4, dose=1e8, dose_unit="cells", cells_per_ml=2e6, doses=1)
    assert lot.dose_ml == 50.0 and lot.container_ml == 25.0
    assert SampleRule(amount=1e6, unit="cells").amount_ml(lot) == 0.5
    assert SampleRule(amount=1, unit="containers").amount_ml(lot) == 25.0
    assert SampleRule(amount=0.5, count=2).describe(lot) == "0.5 mL × 2"
    assert math.isinf(Lot("lot", volume_ml=10, final_containers=1, dose=5).shelf_life_hours)
    assert Lot("lot", volume_ml=10, final_containers=1, dose=5, shelf_life=1,
               shelf_life_unit="months").shelf_life_hours == pytest.approx(730.5)


# ---------------------------------------------------------------------------------------------------------
# Errors the user can fix


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"volume_ml": -150}, "the volume must be more than 0 mL; got -150"),
    ({"volume_ml": 0}, "the volume must be more than 0 mL; got 0"),
    ({"final_containers": 0}, "whole number of at least 1"),
    ({"final_containers": 2.5}, "whole number of at least 1"),
    ({"dose": -1}, "the dose must be"),
    ({"dose_unit": "cells"}, "needs the concentration"),
    ({"shelf_life": -3}, "the shelf life must be"),
    ({"shelf_life_unit": "weeks"}, "shelf-life unit"),
    ({"dose_unit": "vials"}, "dose unit must be mL, cells or containers"),
])
def test_bad_lots_are_clear_errors(kwargs, message):
    base = dict(label="L1", volume_ml=150.0, final_containers=3, dose=80.0)
    with pytest.raises(CgtkitError, match=message):
        Lot(**{**base, **kwargs})


def test_negative_sample_volumes_and_times_are_clear_errors():
    with pytest.raises(CgtkitError, match=r"sample amount must be a finite number of 0 or more; got -0.5"):
        SampleRule(amount=-0.5)
    with pytest.raises(CgtkitError, match="time to result"):
        _test("potency", 1.0, -2)
    with pytest.raises(CgtkitError, match="disposition time"):
        ReleasePlan("p", "plan", (), disposition_hours=-1)
    with pytest.raises(CgtkitError, match="lists a test twice"):
        ReleasePlan("p", "plan", (_test("a", 1, 1), _test("a", 1, 1)))


def _write(tmp_path: Path, mutate) -> Path:
    content = yaml.safe_load((data_dir() / "release_tests.yaml").read_text(encoding="utf-8"))
    mutate(content)
    path = tmp_path / "release_tests.yaml"
    path.write_text(yaml.safe_dump(content, allow_unicode=True), encoding="utf-8")
    return path


def test_yaml_negative_volume_is_a_catalog_error(tmp_path):
    def negative(content):
        content["tests"][2]["sample"]["amount"]["value"] = -15

    with pytest.raises(CatalogError, match=r"release_tests.yaml, .*mycoplasma_culture.*sample.amount.value"
                                           r"': must be 0 or more .*; got -15"):
        load_release_tests(_write(tmp_path, negative))


def test_yaml_value_without_source_or_assumption_is_refused(tmp_path):
    def unsourced(content):
        content["tests"][0]["time_to_result"].pop("source")

    with pytest.raises(CatalogError, match="give the value's source, or mark it 'assumption: true'"):
        load_release_tests(_write(tmp_path, unsourced))


def test_yaml_unknown_test_ids_are_refused(tmp_path):
    def unknown(content):
        content["plans"][0]["tests"].append("sterilty_rapid")
        content["tests"][1]["alternative_to"] = "sterility_compendal"

    with pytest.raises(CatalogError) as info:
        load_release_tests(_write(tmp_path, unknown))
    assert "'sterilty_rapid' is not a test id" in str(info.value)
    assert "'sterility_compendal' is not a test id" in str(info.value)


# ---------------------------------------------------------------------------------------------------------
# The shipped table


def test_every_shipped_value_is_sourced_or_an_assumption():
    content = load_release_tests()
    for t in content.tests:
        for value in (*t.sample.values(), t.time_to_result, t.reserve_exempt):
            assert value.source or value.assumption, t.id
    table = release_tests_table()
    assert set(table["id"]) == set(release_tests())
    row = table.set_index("id").loc["mycoplasma_culture"]
    assert (row["time_to_result"], row["time_unit"]) == (28.0, "days") and "USP <63>" in row["time_source"]
    assert "[to verify]" in row["sample_source"]
    assert table.set_index("id").loc["potency_rapid", "assumption"]
    assert set(release_tests_table("aav")["id"]) >= {"sterility_compendial", "vg_titer_ddpcr"}


def test_alternatives_point_to_conventional_tests():
    tests = release_tests()
    alternatives = {t.id: t.alternative_to for t in tests.values() if t.alternative_to}
    assert alternatives == {"sterility_automated": "sterility_compendial", "mycoplasma_nat": "mycoplasma_culture",
                            "rcl_qpcr": "rcl_culture", "potency_rapid": "potency_coculture"}
    assert tests["sterility_compendial"].reserve_exempt and not tests["mycoplasma_culture"].reserve_exempt
    assert tests["sterility_compendial"].time_to_result_hours == 14 * 24
    assert "time_to_result" in tests["potency_rapid"].assumptions


def test_shipped_plans_and_lots():
    assert [p.id for p in plans_for("car_t")] == ["car_t_conventional", "car_t_alternative",
                                                  "car_t_alternative_no_reserve"]
    assert release_plan("aav_conventional").disposition_hours == 24.0
    lot = example_lot("car_t_fresh")
    assert (lot.volume_ml, lot.final_containers, lot.shelf_life_hours) == (150.0, 3, 72.0)
    aav = example_comparison("aav").budgets[0]
    assert aav.dose_fits and aav.consumed_share < 0.02
    with pytest.raises(KeyError):
        release_plan("nope")


# ---------------------------------------------------------------------------------------------------------
# Figures


def test_budget_and_timeline_figures(car_t):
    from cgtkit.plots.stability import build_release_timeline_figure, build_sample_budget_figure

    fig = build_sample_budget_figure(car_t)
    names = [t.name for t in fig.data]
    assert "Reserve, 2× the tests (21 CFR 211.170(b))" in names
    assert "Retention, final container (21 CFR 600.13)" in names
    totals = next(t for t in fig.data if getattr(t, "mode", None) == "text")
    assert list(totals.text) == ["94.7% consumed", "39.1% consumed", "2.6% consumed"]
    assert "Test sample: Sterility" in names
    sterility = next(t for t in fig.data if t.name == "Test sample: Sterility")
    assert list(sterility.x) == pytest.approx([100 * 40 / 150, 100 / 150, 100 / 150])
    timeline = build_release_timeline_figure(car_t)
    names = [t.name for t in timeline.data if t.name]
    assert any(n.startswith("End of shelf life: 3 days") for n in names)
    assert any("negative-to-date" in n for n in names)
    assert {"Conventional", "Alternative methods"} <= set(names)  # a bar per plan, one row per aspect tested
    assert list(timeline.layout.yaxis.ticktext)[:3] == ["<b>Release</b>", "Sterility", "Mycoplasma"]
    conventional = next(t for t in timeline.data if t.name == "Conventional" and t.text)
    assert list(conventional.text)[:2] == ["14 d", "28 d"]
    assert timeline.layout.xaxis.title.text == "Time from the end of manufacture (days)"
    single = compare_plans(example_lot("car_t_fresh"), [release_plan("car_t_alternative")])
    assert build_release_timeline_figure(single).layout.template.layout.paper_bgcolor is not None
