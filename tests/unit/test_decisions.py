"""Decisions: typed kinds, their checks, and the one renderer the pages and the report share."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from cgtkit import decisions as D
from cgtkit.decisions import (
    COLUMNS,
    DECISION_KINDS,
    CommercialCriterionDecision,
    ComparabilityDecision,
    ComparabilityFinding,
    DecisionBase,
    HorizonRisk,
    InvestigationalCriteriaDecision,
    InvestigationalCriterion,
    LegacyDecision,
    ToleranceBasis,
    attributes,
    parse_decision,
)
from cgtkit.vocab import AttributeKind, LotType

WHEN = datetime(2026, 11, 23, 10, 30, tzinfo=UTC)


def _commercial(**overrides: Any) -> CommercialCriterionDecision:
    fields: dict[str, Any] = dict(
        id="c0ffee000001", timestamp=WHEN, page="commercial_specifications", flexibility_id="CS-SPEC-FLEX-BLA",
        dataset="car_t_lots", attribute="viability", lot_types=("clinical", "ppq"), lot_ids=("L1", "L2", "L3"), n=3,
        candidate="ti_99_95", k_method="exact", low=71.25, high=None, unit="%", k=4.1,
        risk=(HorizonRisk(horizon=10, probability=0.0421), HorizonRisk(horizon=50, probability=0.0004)),
        method="normal tolerance interval, one-sided, exact k, original scale", justification="Mine.",
    )
    fields.update(overrides)
    return CommercialCriterionDecision(**fields)


def _criterion(**overrides: Any) -> InvestigationalCriterion:
    fields: dict[str, Any] = dict(
        attribute="cd3_purity", attribute_kind="quantitative", flexibility_id="CD-RELEASE-PERMISSIVE",
        low=80.0, high=99.5, unit="% CD3+", lot_ids=("E1", "C1", "C2"), n=3,
        tolerance=ToleranceBasis(coverage=0.99, confidence=0.95), next_lot_outside=0.0022,
    )
    fields.update(overrides)
    return InvestigationalCriterion(**fields)


_STERILITY = dict(attribute="sterility", attribute_kind="safety_fixed", flexibility_id="CD-SAFETY-ATTRIBUTES",
                  low=None, high=None, unit="", tolerance=None, next_lot_outside=None,
                  fixed_requirement="No growth (21 CFR 610.12).")


def _set(*criteria: InvestigationalCriterion, **overrides: Any) -> InvestigationalCriteriaDecision:
    fields: dict[str, Any] = dict(
        id="c0ffee000002", timestamp=WHEN, page="clinical_development", dataset="car_t_lots",
        lot_types=(LotType.ENGINEERING, LotType.CLINICAL), criteria=criteria or (_criterion(),),
        method="normal tolerance interval TI 99%/95%, exact k", justification="Drafted.",
    )
    fields.update(overrides)
    return InvestigationalCriteriaDecision(**fields)


def _legacy() -> LegacyDecision:
    return LegacyDecision(id="c0ffee000003", timestamp=WHEN, page="commercial_specifications",
                          flexibility_id="CS-SPEC-LIFECYCLE", method="normal tolerance interval", justification="Old.",
                          extra={"inputs": {"attribute": "viability", "coverage": 0.99},
                                 "result": {"low": 71.25, "high": None, "unit": "%"}})


def _comparability(**overrides: Any) -> ComparabilityDecision:
    fields: dict[str, Any] = dict(
        id="c0ffee000004", timestamp=WHEN, page="comparability", flexibility_id="CD-MINOR-CHANGES",
        dataset="aav_lots", change_types=("scale",), classification="moderate", reporting_category=None,
        pre_label="pre-change (v1)", post_label="post-change (v2)", pre_lots=("A1", "A2", "A3"),
        post_lots=("B1", "B2", "B3"), margin_sd=1.5, k=3.0, target_power=0.8,
        method="TOST (Welch) for high-risk attributes; quality range for medium", justification="Mine.",
        findings=(
            ComparabilityFinding(attribute="full_capsid_pct", unit="% full", risk="high", method="equivalence",
                                 n_pre=3, n_post=3, estimate_kind="difference", estimate=4.97, ci_low=0.80,
                                 ci_high=9.14, margin_low=-8.03, margin_high=8.03, comparable=False, power=0.15,
                                 lots_needed_per_side=9),
            ComparabilityFinding(attribute="aggregates", unit="% HMW", risk="medium", method="quality_range",
                                 n_pre=3, n_post=3, range_low=0.2, range_high=1.4, n_inside=3, n_required=3,
                                 comparable=True, power=0.97),
        ),
    )
    fields.update(overrides)
    return ComparabilityDecision(**fields)


def _shelf_life(**overrides: Any) -> D.ShelfLifeDecision:
    fields: dict[str, Any] = dict(
        id="c0ffee000005", timestamp=WHEN, page="stability_samples", flexibility_id="CS-STABILITY-CLINICAL-LOTS",
        dataset="car_t_stability", attribute="ifng_potency", unit="pg/mL",
        storage_condition="≤ -150 °C (LN2 vapour phase)", storage_category="frozen",
        lot_ids=("CT23-008", "CT24-005", "CT25-003", "CT25-005"), lot_types=("clinical", "ppq"),
        regression="common_slope", chosen_by="poolability", slopes_pvalue=0.41, intercepts_pvalue=0.002,
        pooling_alpha=0.25, direction="decrease", sided=1, confidence_level=0.95, log_transform=True,
        lower_limit=500.0, upper_limit=None, limit_source="entered", time_unit="months", data_span=24.0,
        shelf_life=53.6, governing_lot="CT23-008", allowed_shelf_life=24.0, supported_shelf_life=24.0,
        claimed_shelf_life=36.0, method="ICH Q1E", justification="Mine.",
    )
    fields.update(overrides)
    return D.ShelfLifeDecision(**fields)


def _testing_plan(**overrides: Any) -> D.TestingPlanDecision:
    test = dict(measures="sterility", holds_release=False, pending_at_release=True, reserve_ml=0.0)
    fields: dict[str, Any] = dict(
        id="c0ffee000006", timestamp=WHEN, page="stability_samples", flexibility_id="CS-ALT-METHODS",
        product="car_t", lot_label="CAR-T lot", volume_ml=150.0, final_containers=3, dose_ml=83.3,
        shelf_life_hours=72.0, plan_id="car_t_alternative_no_reserve", plan_label="Alternative methods, no reserve",
        tests=(D.PlanTest(test_id="sterility_automated", label="Sterility, automated culture", sample_ml=1.0,
                          time_to_result_hours=168.0, alternative_to="sterility_compendial", **test),
               D.PlanTest(test_id="cell_count", label="Cell count", measures="viability", sample_ml=0.2,
                          reserve_ml=0.0, time_to_result_hours=1.0, holds_release=True, pending_at_release=False,
                          edited=True)),
        reserve_211_170b=False, retention_600_13=False, retention_containers=0, release_on_negative_to_date=True,
        tests_ml=1.2, reserve_ml=0.0, retention_ml=0.0, consumed_ml=1.2, consumed_share=0.008, dose_fits=True,
        time_to_release_hours=5.0, release_within_shelf_life=True, physician_notification=True,
        compared=(D.PlanOutcome(plan_id="car_t_conventional", plan_label="Conventional", consumed_share=0.947,
                                dose_fits=False, time_to_release_hours=676.0, release_within_shelf_life=False),),
        method="sample and release-time budget", justification="Mine.",
    )
    fields.update(overrides)
    return D.TestingPlanDecision(**fields)


def _ppq_lot_count(**overrides: Any) -> D.PpqLotCountDecision:
    from cgtkit.decisions.process_validation import ApproachResult, PpqAttributeFinding

    approaches = tuple(ApproachResult(approach=a, n_needed=n, target=t, value_at_n=v, counted=c) for a, n, t, v, c in (
        ("success_run", 59, 0.95, 0.0975, False), ("capability", 6, 0.95, None, True),
        ("expected_coverage", 19, 0.9, 1 / 3, False), ("tolerance_coverage", 6, 0.95, 0.41, True)))
    fields: dict[str, Any] = dict(
        id="c0ffee000007", timestamp=WHEN, page="process_validation", flexibility_id="PV-PPQ-LOT-NUMBER",
        dataset="aav_lots", lot_types=(LotType.ENGINEERING, LotType.CLINICAL), n_lots=2, recommended=2,
        recommendation_basis="minimum", count_development=True, reliability=0.95, confidence=0.95, ppk_target=1.0,
        expected_coverage=0.9, tolerance_coverage=0.99, pass_all=0.9999,
        findings=(PpqAttributeFinding(attribute="relative_potency", unit="% of reference", scale="normal", lower=50.0,
                                      upper=150.0, spec_source="entered", lot_ids=tuple(f"A{i}" for i in range(10)),
                                      n=10, ppk=2.17, ppk_low=1.16, ppk_high=3.16,
                                      interval_method="generalized confidence interval", confidence=0.95,
                                      approaches=approaches, ppq_needed=0, pass_probability=0.9999),),
        method="number of PPQ lots from capability and tolerance interval", justification="Mine.",
    )
    fields.update(overrides)
    return D.PpqLotCountDecision(**fields)


def _concurrent_release(**overrides: Any) -> D.ConcurrentReleaseDecision:
    from cgtkit.decisions.process_validation import ReleaseCondition

    fields: dict[str, Any] = dict(
        id="c0ffee000008", timestamp=WHEN, page="process_validation", flexibility_id="PV-PPQ-CLINICAL-USE",
        route="clinical_use_under_ind", lots=("AV25-03",), stage="phase 3", bla_approved=False, change_needs_pas=None,
        pas_approved=None, meets_commercial_spec=True, within_shelf_life=True, protocol_provides=True,
        ind_in_effect=True, meets_ind_criteria=True, outstanding_steps=("6-month stability time point",),
        conditions=(ReleaseCondition(id="bla_approved", route="commercial_concurrent_release", status="unmet",
                                     grade="final_guidance", sources=("CMC flexibilities guidance",)),
                    ReleaseCondition(id="ind_in_effect", route="clinical_use_under_ind", status="met",
                                     grade="final_guidance", sources=("CMC flexibilities guidance",))),
        fda_agreement_grade="cgtkit_reading", method="concurrent-release planner", justification="Mine.",
    )
    fields.update(overrides)
    return D.ConcurrentReleaseDecision(**fields)


EXAMPLES = [_commercial(), _set(), _set(_criterion(), _criterion(**_STERILITY)), _legacy(), _comparability(),
            _shelf_life(), _testing_plan(), _ppq_lot_count(), _concurrent_release()]


def test_comparability_renders_its_numbers_and_one_conclusion_per_comparison() -> None:
    d = _comparability()
    text = D.summary(d)
    assert "moderate change (scale)" in text and "1 of 2 statistically compared" in text
    assert "not shown for Full capsid" in text or "not shown for" in text
    rows = D.rows(d)
    assert "equivalence not shown: difference 4.97 (90% CI 0.8 to 9.14 % full), margin -8.03 to 8.03" == rows[0]["criterion"]
    assert rows[0]["risk"] == "15.0% to pass if identical; 9 lots per side for 80%"
    assert "3 of 3 post-change lots inside 0.2 to 1.4 % HMW" in rows[1]["criterion"]
    assert not d.shown_comparable and attributes(d) == ("full_capsid_pct", "aggregates")
    assert d.subjects == ("comparability:aav_lots:pre-change (v1):post-change (v2)",)
    assert parse_decision(d.model_dump(mode="json")) == d


@pytest.mark.parametrize("kind", DECISION_KINDS, ids=lambda k: k.__name__)
def test_every_kind_has_its_renderers(kind: type[DecisionBase]) -> None:
    for render in (D.summary, D.rows, D.facts):
        assert render.dispatch(kind) is not render.dispatch(DecisionBase), f"{render.__name__} for {kind.__name__}"
    assert kind in {type(d) for d in EXAMPLES}, "add an example of the new kind to EXAMPLES"


@pytest.mark.parametrize("decision", EXAMPLES, ids=lambda d: f"{d.kind}-{len(D.rows(d))}")
def test_rendering_is_complete_and_json_round_trips(decision: DecisionBase) -> None:
    assert D.summary(decision).endswith(".")
    for row in D.rows(decision):
        assert set(row) == {*COLUMNS, "decision_id"} and row["decision_id"] == decision.id
        assert all(isinstance(v, str) and v for v in row.values())
    facts = dict(D.facts(decision))
    assert facts["Decision"] == decision.id and facts["Justification"] == decision.justification
    assert parse_decision(decision.model_dump(mode="json")) == decision


def test_commercial_words_come_from_the_fields() -> None:
    d = _commercial()
    assert D.summary(d) == (
        "Viability: not less than 71.25 %, set as normal tolerance interval, one-sided, exact k, original scale; "
        "3 lots (clinical, PPQ) of data set car_t_lots; probability that at least one of the next 10/50 lots of an "
        "unchanged process falls outside: 4.2%/<0.1%."
    )
    (row,) = D.rows(d)
    assert row == {"decision_id": "c0ffee000001", "when": "2026-11-23 10:30 UTC", "flexibility": "CS-SPEC-FLEX-BLA",
                   "attribute": "Viability", "criterion": "not less than 71.25 %",
                   "method": "normal tolerance interval, one-sided, exact k, original scale",
                   "risk": "next 10/50 lots: 4.2%/<0.1%"}
    facts = dict(D.facts(d))
    assert facts["Lots"] == "3 (L1, L2, L3)" and facts["Risk basis"] == "not recorded"
    assert D.label(d) == "2026-11-23 10:30 UTC — Viability — CS-SPEC-FLEX-BLA"


def test_a_set_renders_one_row_per_criterion() -> None:
    d = _set(_criterion(), _criterion(**_STERILITY))
    assert d.flexibility_ids == ("CD-RELEASE-PERMISSIVE", "CD-SAFETY-ATTRIBUTES")
    assert D.summary(d) == ("Investigational release criteria for 2 attributes from lots of type engineering, clinical "
                            "of data set car_t_lots: 1 computed (TI 99%/95%), 1 fixed safety requirement(s).")
    cd3, sterility = D.rows(d)
    assert cd3["criterion"] == "80 to 99.5 % CD3+" and cd3["risk"] == "next lot: 0.2%"
    assert sterility["criterion"] == "fixed requirement: No growth (21 CFR 610.12)."
    assert sterility["method"] == "fixed requirement" and sterility["flexibility"] == "CD-SAFETY-ATTRIBUTES"
    assert "2 attributes" in D.label(d)
    one = _set(_criterion(**_STERILITY))
    assert D.summary(one).startswith("Sterility: fixed safety requirement: No growth (21 CFR 610.12), kept as is")


def test_legacy_decisions_show_what_they_hold() -> None:
    d = _legacy()
    assert D.summary(d) == ("Viability: not less than 71.25 % (normal tolerance interval); recorded under workbook "
                            "schema 1 and kept as written.")
    facts = dict(D.facts(d))
    assert facts["inputs: coverage"] == "0.99" and facts["result: high"] == "—"
    bare = LegacyDecision(page="p", flexibility_id="F", method="m", justification="j", extra={"result": "odd"})
    assert D.rows(bare)[0]["attribute"] == "—" and dict(D.facts(bare))["result"] == "odd"


def test_enums_not_strings_and_json_keeps_their_values() -> None:
    d = _commercial()
    assert d.lot_types == (LotType.CLINICAL, LotType.PPQ)
    assert d.model_dump(mode="json")["lot_types"] == ["clinical", "ppq"]
    assert _set().criteria[0].attribute_kind is AttributeKind.QUANTITATIVE


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: _commercial(lot_types=("pilot",)), "lot_types"),
        (lambda: _commercial(lot_types=()), "lot_types"),
        (lambda: _commercial(n=4), "n = 4 but 3 lot ids"),
        (lambda: _commercial(low=5.0, high=1.0), "above high limit"),
        (lambda: _commercial(k_method="approximate"), "k_method"),
        (lambda: _commercial(risk=(HorizonRisk(horizon=50, probability=0.1), HorizonRisk(horizon=10, probability=0.1))),
         "increase"),
        (lambda: HorizonRisk(horizon=10, probability=1.5), "less than or equal to 1"),
        (lambda: _criterion(tolerance=None), "needs its tolerance basis"),
        (lambda: _criterion(fixed_requirement="No growth."), "only safety attributes"),
        (lambda: _criterion(**{**_STERILITY, "high": 1.0}), "fixed requirement, no computed limits"),
        (lambda: _set(_criterion(), _criterion()), "one criterion per attribute"),
        (lambda: _set(criteria=()), "criteria"),
        (lambda: _commercial(extra_field=1), "extra_field"),
    ],
)
def test_inconsistent_decisions_are_refused(build, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        build()


def test_the_kind_tag_picks_the_model() -> None:
    data = _set().model_dump(mode="json")
    assert type(parse_decision(data)) is InvestigationalCriteriaDecision
    with pytest.raises(ValidationError, match="commercial_criterion"):
        parse_decision({**data, "kind": "sample_plan"})


def test_tolerance_basis_reads_and_writes_its_label() -> None:
    basis = ToleranceBasis.from_label("normal tolerance interval TI 99%/95%, exact k")
    assert basis == ToleranceBasis(coverage=0.99, confidence=0.95) and basis.label == "TI 99%/95%"
    assert ToleranceBasis(coverage=0.995, confidence=0.9).label == "TI 99.5%/90%"
    assert ToleranceBasis.from_label("fixed requirement") is None


def test_limits_and_numbers_wording() -> None:
    assert D.limits_text(1.0, 2.0, "%") == "1 to 2 %"
    assert D.limits_text(None, 2.5, "EU/mL") == "not more than 2.5 EU/mL"
    assert D.limits_text(None, None, "") == "fixed requirement"
    assert D.fmt_probability(0.0004) == "<0.1%" and D.fmt_probability(None) == "—"
    assert D.page_title("clinical_development") == "Clinical development"
    assert D.page_title("gone_page") == "gone_page" and D.attribute_label("my_assay") == "my_assay"


def test_a_new_decision_replaces_the_earlier_one_for_the_same_attribute_and_keeps_it_as_history() -> None:
    from cgtkit.session import Session

    def commercial(attribute: str, low: float) -> CommercialCriterionDecision:
        return CommercialCriterionDecision(
            page="commercial_specifications", flexibility_id="CS-SPEC-FLEX-BLA", method="m", justification="j",
            dataset="d", attribute=attribute, lot_types=("clinical",), lot_ids=("A", "B", "C"), n=3,
            candidate="ti_99_95", k_method="exact", low=low, high=None, unit="%", k=3.0, risk=())

    first, other, second = commercial("viability", 70.0), commercial("cd3_purity", 80.0), commercial("viability", 72.0)
    s = Session().with_decision(first).with_decision(other).with_decision(second)
    assert [(d.attribute, d.low) for d in s.decisions] == [("cd3_purity", 80.0), ("viability", 72.0)]
    assert s.decisions[-1].superseded == (first.model_dump(mode="json"),)
    assert Session.from_json(s.to_json()) == s  # the history survives a save


def test_a_set_keeps_the_attributes_a_newer_decision_does_not_decide() -> None:
    from cgtkit.session import Session

    def criterion(attribute: str) -> InvestigationalCriterion:
        return InvestigationalCriterion(attribute=attribute, attribute_kind="quantitative",
                                        flexibility_id="CD-RELEASE-PERMISSIVE", low=1.0, high=2.0, unit="u",
                                        lot_ids=("A",), n=1, tolerance=ToleranceBasis(coverage=0.99, confidence=0.95))

    def decision(*attrs: str) -> InvestigationalCriteriaDecision:
        return InvestigationalCriteriaDecision(page="clinical_development", dataset="d", lot_types=("clinical",),
                                               criteria=tuple(criterion(a) for a in attrs), method="m",
                                               justification="j")

    s = Session().with_decision(decision("a", "b", "c")).with_decision(decision("b"))
    assert [attributes(d) for d in s.decisions] == [("a", "c"), ("b",)]
    s = s.with_decision(decision("a", "b", "c"))  # "accept all" again: one decision per attribute
    assert [attributes(d) for d in s.decisions] == [("a", "b", "c")]
    assert len(s.decisions[0].superseded) == 2


def test_a_set_lists_its_shared_lots_once() -> None:
    """The decision record lists the lots of a set once, not once per criterion (27 lot ids x 10 attributes)."""
    d = _set(_criterion(), _criterion(**_STERILITY, lot_ids=("E1", "C1", "C2"), n=3))
    facts = dict(D.facts(d))
    assert facts["Lots (unless a criterion names others)"] == "3 (E1, C1, C2)"
    assert "lots: the lots above" in facts["CD3+ purity (cd3_purity)"]
    odd = _set(_criterion(), _criterion(**_STERILITY, lot_ids=("E1",), n=1))
    assert "lots: 3 (E1, C1, C2)" in dict(D.facts(odd))["CD3+ purity (cd3_purity)"]


def test_a_shelf_life_from_one_lot_names_no_poolability_test() -> None:
    d = _shelf_life(lot_ids=("CT23-008",))
    facts = " ".join(v for _k, v in D.facts(d))
    assert "one lot: no poolability test" in facts and "from 1 lot of data" in D.summary(d)
