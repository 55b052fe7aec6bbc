"""Tests for cgtkit.analyses.comparability (plan, lot choice, per-attribute comparison), data/change_types.yaml
and cgtkit.plots.comparability (smoke tests on the shipped example data).

The statistics themselves are checked against statsmodels and published examples in test_equivalence.py and
test_quality_range.py; here each analysis result is checked against a direct call of those functions on
the same lots, so the glue (which lots, which scale, which margin) is what is tested.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from cgtkit.analyses.comparability import (
    ComparabilitySettings,
    Method,
    Risk,
    choose_lots,
    compare,
    compare_attribute,
    load_change_types,
    plan_comparability,
    power_table,
)
from cgtkit.attributes import get_attribute, load_attributes
from cgtkit.datafiles import data_dir
from cgtkit.errors import CatalogError, CgtkitError, InsufficientDataError
from cgtkit.io import load_lots
from cgtkit.plots.comparability import build_dot_figure, build_forest_figure, build_power_figure
from cgtkit.stats.equivalence import equivalence_test, paired_equivalence_test, tost_power
from cgtkit.stats.quality_range import quality_range_pass_probability, quality_range_test

EXAMPLES = data_dir() / "examples"


@pytest.fixture(scope="module")
def aav() -> pd.DataFrame:
    return load_lots(EXAMPLES / "aav_lots.csv")


@pytest.fixture(scope="module")
def car_t() -> pd.DataFrame:
    return load_lots(EXAMPLES / "car_t_lots.csv")


def _frame(rows: list[tuple], donor: bool = False) -> pd.DataFrame:
    """Long-format rows (lot_id, attribute, value, unit, process_version[, censoring[, donor]])."""
    out = []
    for i, row in enumerate(rows):
        lot, attribute, value, unit, version = row[:5]
        censoring = row[5] if len(row) > 5 else "none"
        record = dict(lot_id=lot, attribute=attribute, value=float(value), censoring=censoring,
                      original_value=("<" if censoring == "left" else "") + f"{value:g}", unit=unit,
                      lot_type="clinical", manufacture_date=pd.Timestamp("2024-01-01") + pd.Timedelta(days=i),
                      process_version=version)
        if donor:
            record["donor"] = row[6]
        out.append(record)
    return pd.DataFrame(out)


def _simple(pre: list[float], post: list[float], attribute: str = "viability", unit: str = "%",
            post_unit: str | None = None) -> pd.DataFrame:
    rows = [(f"A{i}", attribute, v, unit, "v1") for i, v in enumerate(pre)]
    rows += [(f"B{i}", attribute, v, post_unit or unit, "v2") for i, v in enumerate(post)]
    return _frame(rows)


# -- data/change_types.yaml ----------------------------------------------------------------------


def test_change_types_file_loads_and_is_consistent() -> None:
    data = load_change_types()
    ids = {c.id for c in data.change_types}
    assert {"ancillary_material", "scale", "equipment_same_principle", "equipment_new_principle",
            "closed_automated", "site_transfer", "analytical_method"} <= ids
    attributes = set(load_attributes())
    sources = {s.id: s for s in data.sources}
    for c in data.change_types:
        assert set(c.affects) <= attributes
        for st in c.reasons:
            assert all(s in sources for s in st.sources)
    for cls in data.classes:
        assert cls.reporting.grade == "regulation" and "cfr_601_12" in cls.reporting.sources
    assert [c.id for c in data.classes] == ["minor", "moderate", "major"]


def _write(tmp_path: Path, text: str) -> Path:
    base = (data_dir() / "change_types.yaml").read_text(encoding="utf-8")
    path = tmp_path / "change_types.yaml"
    path.write_text(base + text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("extra", "fragment"), [
    ("""
  - id: bad_source
    label: Bad source
    description: A change type citing a source that does not exist.
    classification: minor
    reasons:
      - text: Cites nothing that exists anywhere.
        grade: cgtkit_reading
        sources: [no_such_source]
""", "unknown source 'no_such_source'"),
    ("""
  - id: bad_attribute
    label: Bad attribute
    description: A change type naming an unknown attribute.
    classification: minor
    reasons:
      - text: Names an attribute that is not in the file.
        grade: cgtkit_reading
    affects: [no_such_attribute]
""", "'no_such_attribute' is not an attribute id"),
    ("""
  - id: bad_grade
    label: Bad grade
    description: A regulation statement resting on guidance only.
    classification: minor
    reasons:
      - text: Claims to be regulation but cites guidance.
        grade: regulation
        sources: [ich_q5e]
""", "must cite a regulation source"),
    ("""
  - id: scale
    label: Scale again
    description: A repeated id in the change types.
    classification: minor
    reasons:
      - text: Repeats the id of another entry.
        grade: cgtkit_reading
""", "ids must be unique"),
    ("""
  - id: no_source
    label: No source
    description: A final-guidance statement without a source.
    classification: minor
    reasons:
      - text: Says it is guidance but cites nothing.
        grade: final_guidance
""", "needs at least one source"),
])
def test_change_types_file_validation(tmp_path: Path, extra: str, fragment: str) -> None:
    with pytest.raises(CatalogError, match=fragment) as info:
        load_change_types(_write(tmp_path, extra))
    assert "change_types.yaml" in str(info.value)


# -- the plan ----------------------------------------------------------------------------------------


def test_plan_class_reporting_and_methods() -> None:
    plan = plan_comparability(["scale"], {"full_capsid_pct": "high", "aggregates": "medium", "residual_hcp": "low",
                                          "sterility": "high"}, approved=True)
    assert plan.classification == "moderate"
    assert plan.reporting_category.startswith("Changes being effected in 30 days")
    assert plan.reporting.grade == "regulation" and "601.12(c)" in plan.reporting.sources[0]
    assert all(r.grade == "cgtkit_reading" for r in plan.reasons)
    methods = {a.attribute: a.method for a in plan.attributes}
    assert methods == {"full_capsid_pct": Method.EQUIVALENCE, "aggregates": Method.QUALITY_RANGE,
                       "residual_hcp": Method.GRAPHICAL, "sterility": Method.FIXED_REQUIREMENT}
    frame = plan.to_frame()
    assert list(frame["ranked"]).count(True) == 4 and set(frame.columns) >= {"method_label", "flagged_by", "note"}
    assert {"classification", "reporting", "stage"} == set(plan.reasons_frame()["kind"])


def test_plan_before_approval_points_to_the_ind() -> None:
    plan = plan_comparability(["site_transfer"], {"viability": "high"})
    assert plan.classification == "major" and plan.reporting_category is None and plan.reporting is None
    assert any("312.31" in " ".join(r.sources) for r in plan.stage_statements)
    assert any(r.grade == "final_guidance" for r in plan.stage_statements)


def test_plan_classification_rules() -> None:
    minor = plan_comparability(["equipment_same_principle"], {"viability": "low"}, approved=True)
    assert minor.classification == "minor" and minor.reporting_category == "Annual report (AR)"
    raised = plan_comparability(["equipment_same_principle"], {"viability": "high"}, approved=True)
    assert raised.classification == "moderate" and "at least moderate" in raised.reasons[-1].text
    combined = plan_comparability(["scale", "ancillary_material", "process_parameters"], {}, approved=True)
    assert combined.classification == "major" and "raises the class one level" in combined.reasons[-1].text
    assert combined.reporting_category == "Prior approval supplement (PAS)"
    worst = plan_comparability(["equipment_same_principle", "closed_automated"], {})
    assert worst.classification == "major"


def test_plan_second_look_lists_unranked_attributes_the_change_could_affect(car_t: pd.DataFrame) -> None:
    present = sorted(car_t["attribute"].unique())
    plan = plan_comparability(["ancillary_material"], {"viability": "high", "cell_dose": "medium"},
                              attributes=present)
    second = {a.attribute for a in plan.second_look}
    assert {"cd3_purity", "transduction_efficiency", "ifng_potency"} <= second
    assert not second & {"viability", "cell_dose"} and second <= set(present)
    assert "full_capsid_pct" not in second  # an AAV attribute, not in this data
    assert all(a.risk is None and a.flagged_by for a in plan.second_look)
    assert plan.major_if  # questions that would make the change major


def test_plan_problems() -> None:
    with pytest.raises(CgtkitError, match="choose at least one kind of change"):
        plan_comparability([], {"viability": "high"})
    with pytest.raises(ValueError, match="Unknown change type"):
        plan_comparability(["teleportation"], {})
    with pytest.raises(ValueError, match="'high', 'medium' or 'low'"):
        plan_comparability(["scale"], {"viability": "critical"})


# -- choosing lots ---------------------------------------------------------------------------------


def test_choose_lots_defaults_to_the_two_process_versions(car_t: pd.DataFrame) -> None:
    lots = choose_lots(car_t)
    assert (len(lots.pre), len(lots.post)) == (27, 33) and lots.pre_label == "pre-change (v1)"
    assert not lots.paired


def test_choose_lots_problems(car_t: pd.DataFrame) -> None:
    three = car_t.assign(process_version=np.where(car_t["lot_type"] == "commercial", "v3", car_t["process_version"]))
    with pytest.raises(CgtkitError, match="3 process versions"):
        choose_lots(three)
    assert len(choose_lots(three, pre_versions=["v1"], post_versions=["v2", "v3"]).post) == 33
    with pytest.raises(CgtkitError, match="'v9' is not in the data"):
        choose_lots(car_t, pre_versions=["v1"], post_versions=["v9"])
    with pytest.raises(CgtkitError, match="on both sides"):
        choose_lots(car_t, pre_lots=["CT23-001", "CT23-002"], post_lots=["CT23-002", "CT23-003"])
    with pytest.raises(CgtkitError, match="not in the data"):
        choose_lots(car_t, pre_lots=["CT23-001"], post_lots=["XX-1"])


# -- the comparison on the shipped examples ----------------------------------------------------------


def test_aav_example_shows_both_outcomes(aav: pd.DataFrame) -> None:
    result = compare(aav, {"full_capsid_pct": "high", "aggregates": "high", "vector_genome_titer": "high",
                           "relative_potency": "medium", "residual_hcp": "low"})
    verdicts = {a.attribute: a.comparable for a in result.attributes}
    assert verdicts == {"full_capsid_pct": False, "aggregates": True, "vector_genome_titer": False,
                        "relative_potency": False, "residual_hcp": None}
    # the glue called the statistics on the right lots, scale and margin
    rows = aav[aav["attribute"] == "full_capsid_pct"]
    direct = equivalence_test(rows.loc[rows["process_version"] == "v2", "value"],
                              rows.loc[rows["process_version"] == "v1", "value"])
    capsids = result.get("full_capsid_pct").equivalence
    assert (capsids.difference, capsids.ci_high, capsids.high) == pytest.approx(
        (direct.difference, direct.ci_high, direct.high))
    assert capsids.ci_high > capsids.high  # v2 raised % full capsids by about 5 points: outside 1.5 SD
    titer = result.get("vector_genome_titer").equivalence
    assert titer.scale == "log" and titer.ratio == pytest.approx(1.0316, abs=1e-4)
    potency = aav[aav["attribute"] == "relative_potency"]
    q = quality_range_test(potency.loc[potency["process_version"] == "v2", "value"],
                           potency.loc[potency["process_version"] == "v1", "value"])
    assert result.get("relative_potency").quality_range == q
    assert result.get("relative_potency").power == pytest.approx(float(quality_range_pass_probability(8, 10)))
    assert "not a test of equivalence" in result.get("relative_potency").notes[1]
    one = result.get("full_capsid_pct").to_frame()
    assert len(one) == 1 and list(one.columns) == list(result.to_frame().columns)
    frame = result.to_frame()
    assert list(frame["attribute"]) == list(verdicts) and frame.loc[2, "estimate_kind"] == "ratio"
    assert result.get("residual_hcp").verdict.startswith("Graphical comparison")


def test_car_t_example_is_comparable_at_default_settings(car_t: pd.DataFrame) -> None:
    # With all 27 v1 and 33 v2 lots every quantitative CAR-T attribute passes the equivalence test (the 4-point
    # transduction shift is well inside 1.5 SD = 15.6 points); with the 3 PPQ lots alone, several do not.
    quantitative = ["viability", "cd3_purity", "transduction_efficiency", "vector_copy_number", "ifng_potency",
                    "cell_dose"]
    result = compare(car_t, {a: "high" for a in quantitative})
    assert all(a.comparable for a in result.attributes)
    lots = car_t.drop_duplicates("lot_id")
    ppq = choose_lots(car_t, pre_lots=lots.loc[lots["process_version"] == "v1", "lot_id"],
                      post_lots=lots.loc[lots["lot_type"] == "ppq", "lot_id"])
    few = compare(car_t, {a: "high" for a in quantitative}, lots=ppq)
    assert {a.attribute for a in few.attributes if not a.comparable} == {"viability", "cd3_purity", "cell_dose"}
    v = few.get("viability")
    assert v.power == pytest.approx(float(tost_power(0.0, 1.5, 3, 27)))
    assert v.lots_needed.n_test == 9 and v.lots_needed_test.n_test == 5
    assert any("1.5 times" in n for n in v.notes)  # 27 against 3 lots


def test_power_statement_for_three_lots_a_side() -> None:
    rng = np.random.default_rng(1)
    frame = _simple(list(80 + rng.normal(0, 2, 3)), list(80 + rng.normal(0, 2, 3)))
    a = compare(frame, {"viability": "high"}).attributes[0]
    assert a.power == pytest.approx(float(tost_power(0.0, 1.5, 3)))
    assert a.lots_needed.n_test == 9
    assert "3 post-change and 3 pre-change lots" in a.notes[0] and "9 lots per side" in a.notes[0]


def test_censored_results_are_not_tested_silently(aav: pd.DataFrame) -> None:
    with pytest.raises(InsufficientDataError, match=r"Residual host-cell DNA: 4 result\(s\) are censored"):
        compare(aav, {"residual_hcdna": "high"})
    with pytest.raises(InsufficientDataError, match="quality range"):
        compare(aav, {"residual_hcdna": "medium"})
    graphical = compare(aav, {"residual_hcdna": "low"}).attributes[0]
    assert graphical.comparable is None and "censored" in graphical.notes[0]
    recorded = compare(aav, {"residual_hcdna": "high", "aggregates": "high"}, errors="record")
    assert recorded.attributes[0].problem and recorded.attributes[1].comparable is True
    assert recorded.problems == (recorded.attributes[0].problem,)


def test_safety_attributes_are_never_compared_statistically(aav: pd.DataFrame) -> None:
    for name in ("sterility", "endotoxin"):
        a = compare(aav, {name: "high"}).attributes[0]
        assert a.method is Method.FIXED_REQUIREMENT and a.comparable is None and a.equivalence is None
        assert a.verdict.startswith("Fixed safety requirement")
    sterility, endotoxin = (compare(aav, {n: "high"}).attributes[0] for n in ("sterility", "endotoxin"))
    assert "0 of 10 pre-change (v1) lots failing" in sterility.verdict  # pass/fail: the failures counted
    highest = aav.loc[aav["attribute"] == "endotoxin", "value"].max()
    assert "highest" in endotoxin.verdict and f"{highest:.2g}" in endotoxin.verdict  # numeric: the highest result


@pytest.mark.parametrize(("frame", "risk", "fragment"), [
    (_simple([80.0], [81.0, 82.0]), "high", "1 pre-change (v1) lot(s) with a result"),
    (_simple([80.0, 81.0, 79.0], [81.0]), "high", "1 post-change (v2) lot(s) with a result"),
    (_simple([80.0, 81.0], [81.0]), "medium", "needs at least 2 on each side"),
    (_simple([80.0, 80.0, 80.0], [80.0, 80.0]), "high", "same result (80) in every lot"),
    (_simple([80.0, 80.0, 80.0], [81.0, 79.0]), "medium", "All pre-change lots"),
    (_simple([80.0, 81.0, 79.0], [0.81, 0.82], post_unit="fraction"), "high", "different units"),
])
def test_data_problems_raise_clear_errors(frame: pd.DataFrame, risk: str, fragment: str) -> None:
    with pytest.raises(InsufficientDataError) as info:
        compare(frame, {"viability": risk})
    assert fragment in str(info.value) and str(info.value).endswith(".")


def test_attribute_missing_on_one_side() -> None:
    frame = pd.concat([_simple([80.0, 81.0], [81.0, 82.0]),
                       _frame([("A0", "cell_dose", 3.5, "×10^8 CAR+ viable T cells", "v1"),
                               ("A1", "cell_dose", 3.7, "×10^8 CAR+ viable T cells", "v1")])])
    with pytest.raises(InsufficientDataError, match="Cell dose has results for the pre-change \\(v1\\) only"):
        compare(frame, {"cell_dose": "high"})


def test_margin_given_directly(aav: pd.DataFrame) -> None:
    wide = compare(aav, {"vector_genome_titer": "high", "full_capsid_pct": "high"},
                   margins={"vector_genome_titer": 1.5, "full_capsid_pct": (-10.0, 10.0)})
    titer, capsids = wide.attributes
    assert titer.equivalence.ratio_bounds == pytest.approx((1 / 1.5, 1.5)) and titer.comparable
    assert (capsids.equivalence.low, capsids.equivalence.high) == (-10.0, 10.0) and capsids.comparable
    assert capsids.equivalence.margin_basis == "given"
    with pytest.raises(ValueError, match="maximum ratio"):
        compare(aav, {"vector_genome_titer": "high"}, margins={"vector_genome_titer": 0.8})


# -- paired (split starting material) design --------------------------------------------------------


def _paired_frame(with_extra_post: bool = False, drop_result: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    donors = rng.normal(85.0, 6.0, 5)
    rows = []
    for i, d in enumerate(donors):
        rows.append((f"P{i}", "viability", round(d + rng.normal(0, 0.8), 1), "%", "v1", "none", f"D{i}"))
        if not (drop_result and i == 2):
            rows.append((f"Q{i}", "viability", round(d + 0.4 + rng.normal(0, 0.8), 1), "%", "v2", "none", f"D{i}"))
        else:
            rows.append((f"Q{i}", "cd3_purity", 95.0, "% CD3+", "v2", "none", f"D{i}"))
    if with_extra_post:
        rows.append(("Q9", "viability", 84.0, "%", "v2", "none", "D9"))
    return _frame(rows, donor=True)


def test_paired_design_uses_within_donor_differences() -> None:
    frame = _paired_frame()
    lots = choose_lots(frame, pairing="donor")
    assert lots.paired and len(lots.pairs) == 5
    a = compare(frame, {"viability": "high"}, lots=lots).attributes[0]
    pre = frame[frame["process_version"] == "v1"].sort_values("donor")["value"].to_numpy()
    post = frame[frame["process_version"] == "v2"].sort_values("donor")["value"].to_numpy()
    direct = paired_equivalence_test(post, pre)
    assert a.equivalence.design == "paired" and a.paired
    assert (a.equivalence.difference, a.equivalence.pvalue) == pytest.approx((direct.difference, direct.pvalue))
    assert a.comparable and a.lots_needed.design == "paired"
    by_mapping = choose_lots(frame, pairing={f"P{i}": f"Q{i}" for i in range(5)})
    assert set(by_mapping.pairs) == set(lots.pairs)
    fig = build_dot_figure(a)
    assert sum(1 for t in fig.data if t.mode == "lines") == 5  # one line per donor


def test_unpaired_lots_in_a_paired_design_raise() -> None:
    with pytest.raises(CgtkitError, match="Unpaired lots in the paired design \\(donor D9: 0 pre-change"):
        choose_lots(_paired_frame(with_extra_post=True), pairing="donor")
    frame = _paired_frame()
    with pytest.raises(CgtkitError, match="pre-change lot\\(s\\) without a partner: P4"):
        choose_lots(frame, pairing={f"P{i}": f"Q{i}" for i in range(4)})
    with pytest.raises(CgtkitError, match="no column 'patient'"):
        choose_lots(frame, pairing="patient")
    missing = _paired_frame(drop_result=True)
    with pytest.raises(InsufficientDataError, match="P2 / Q2 lack a result on one side"):
        compare(missing, {"viability": "high"}, lots=choose_lots(missing, pairing="donor"))


# -- figures -----------------------------------------------------------------------------------------


def test_figures_build_from_results(aav: pd.DataFrame) -> None:
    result = compare(aav, {"full_capsid_pct": "high", "aggregates": "high", "vector_genome_titer": "high",
                           "relative_potency": "medium", "residual_hcdna": "low"})
    qr = build_dot_figure(result.get("relative_potency"), pre_label=result.lots.pre_label,
                          post_label=result.lots.post_label)
    names = [t.name for t in qr.data if t.showlegend is not False]
    assert any(n.startswith("pre-change (v1) lots (n = 10)") for n in names)
    assert any(n.startswith("quality range: pre-change mean ± 3 SD") for n in names)
    assert qr.layout.template.layout.paper_bgcolor is not None and qr.layout.margin.t >= 50
    censored = build_dot_figure(result.get("residual_hcdna"))
    assert censored.layout.yaxis.type == "log"
    assert any("circle-open" in list(t.marker.symbol) for t in censored.data if t.mode == "markers")
    forest = build_forest_figure(result)
    assert list(forest.layout.yaxis.ticktext) == ["Full capsids", "Aggregates (HMW)", "Vector genome titer"]
    assert "90% confidence interval" in forest.layout.title.text and forest.layout.margin.l >= 150
    power = build_power_figure(power_table(), n_current=8)
    assert isinstance(power, go.Figure) and len(power.data) == 5 + 2
    assert power.layout.title.text == "Chance of showing equivalence (margin ± 1.5 SD, 90% interval)"
    assert power.layout.yaxis.tickformat == ".0%"
    for fig in (qr, censored, forest, power):
        assert fig.layout.template.layout.plot_bgcolor == "white"  # plotly_white


def test_compare_needs_a_ranked_attribute(car_t: pd.DataFrame) -> None:
    with pytest.raises(CgtkitError, match="Rank at least one attribute"):
        compare(car_t, {})
    with pytest.raises(ValueError):
        ComparabilitySettings(margin_sd=0)
    assert compare_attribute(car_t, get_attribute("viability"), choose_lots(car_t), Risk.LOW).method is Method.GRAPHICAL
