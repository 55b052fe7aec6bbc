"""The decision of the Comparability page: one manufacturing change's conclusion, attribute by
attribute, with its renderers."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from cgtkit.decisions.base import (
    SingleFlexibilityDecision,
    _Frozen,
    _head,
    _lots,
    _row,
    attribute_label,
    facts,
    fmt_number,
    fmt_probability,
    rows,
    summary,
)

ComparabilityMethod = Literal["equivalence", "quality_range", "graphical", "fixed_requirement"]


class ComparabilityFinding(_Frozen):
    """One attribute compared before and after a change, with the numbers the verdict rests on."""

    attribute: str = Field(description="Attribute id (data/attributes.yaml).")
    unit: str
    risk: Literal["high", "medium", "low"] = Field(description="The user's rank of the attribute for this change.")
    method: ComparabilityMethod
    n_pre: int = Field(ge=0)
    n_post: int = Field(ge=0)
    estimate_kind: Literal["difference", "ratio"] | None = Field(
        default=None, description="Post minus pre (normal scale) or post over pre (log scale); equivalence only.")
    estimate: float | None = None
    ci_low: float | None = Field(default=None, description="90% confidence interval of the estimate (TOST).")
    ci_high: float | None = None
    margin_low: float | None = Field(default=None, description="Equivalence margin, as a difference or a ratio.")
    margin_high: float | None = None
    range_low: float | None = Field(default=None, description="Quality range: pre-change mean - k SD.")
    range_high: float | None = None
    n_inside: int | None = Field(default=None, ge=0, description="Quality range: post-change lots inside it.")
    n_required: int | None = Field(default=None, ge=0)
    comparable: bool | None = Field(description="The method's verdict; None for a graphical or fixed comparison.")
    power: float | None = Field(default=None, ge=0.0, le=1.0,
                                description="Probability the method passes for identical processes at these lots.")
    lots_needed_per_side: int | None = Field(default=None, ge=1, description="Lots per side for the target power.")
    problem: str | None = Field(default=None, description="Why the attribute could not be evaluated, if so.")


class ComparabilityDecision(SingleFlexibilityDecision):
    """The conclusion of a comparability study for one manufacturing change, attribute by attribute."""

    kind: Literal["comparability"] = "comparability"
    dataset: str
    change_types: tuple[str, ...] = Field(min_length=1, description="Ids of data/change_types.yaml.")
    change_labels: tuple[str, ...] = Field(default=(), description="The change types in words, as the plan named them.")
    change_description: str = Field(default="", description="The user's words for the change.")
    classification: Literal["minor", "moderate", "major"] = Field(description="cgtkit's reading, with the plan's reasons.")
    reporting_category: str | None = Field(description="Likely 21 CFR 601.12 category after approval; None before.")
    pre_label: str
    post_label: str
    pre_lots: tuple[str, ...] = Field(min_length=1)
    post_lots: tuple[str, ...] = Field(min_length=1)
    paired: bool = False
    margin_sd: float = Field(gt=0, description="Default equivalence margin in pre-change (reference) SDs.")
    k: float = Field(gt=0, description="Quality range: pre-change mean ± k SD.")
    target_power: float = Field(gt=0, lt=1)
    findings: tuple[ComparabilityFinding, ...] = Field(min_length=1)

    @property
    def attributes(self) -> tuple[str, ...]:
        return tuple(f.attribute for f in self.findings)

    def figure_groups(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        return ((self.pre_label, self.pre_lots), (self.post_label, self.post_lots))

    def question_facts(self) -> dict[str, str]:
        change = self.change_description.strip() or ", ".join(self.change_labels or self.change_types).lower()
        return {"change": change, "change_kind": self.classification}

    @property
    def subjects(self) -> tuple[str, ...]:
        """One current conclusion per comparison (data set, pre- and post-change lots)."""
        return (f"comparability:{self.dataset}:{self.pre_label}:{self.post_label}",)

    @property
    def shown_comparable(self) -> bool:
        """True when every statistically compared attribute passed and none was left unevaluated."""
        stats = [f for f in self.findings if f.method in ("equivalence", "quality_range")]
        return bool(stats) and all(f.comparable is True for f in stats) and not any(f.problem for f in self.findings)


# comparability

_COMPARABILITY_METHODS = {"equivalence": "equivalence test (TOST)", "quality_range": "quality range",
                          "graphical": "graphical comparison", "fixed_requirement": "fixed requirement"}


def _finding_result(f: ComparabilityFinding) -> str:
    """The finding's numbers and verdict in a few words."""
    if f.problem:
        return f"not evaluated: {f.problem}"
    if f.method == "equivalence" and f.ci_low is not None and f.ci_high is not None:
        word = "ratio" if f.estimate_kind == "ratio" else "difference"
        verdict = "equivalent" if f.comparable else "equivalence not shown"
        return (f"{verdict}: {word} {fmt_number(f.estimate)} (90% CI {fmt_number(f.ci_low)} to {fmt_number(f.ci_high)}"
                f"{'' if f.estimate_kind == 'ratio' else ' ' + f.unit}), margin {fmt_number(f.margin_low)} to "
                f"{fmt_number(f.margin_high)}")
    if f.method == "quality_range" and f.n_inside is not None:
        verdict = "passes" if f.comparable else "does not pass"
        return (f"{verdict}: {f.n_inside} of {f.n_post} post-change lots inside {fmt_number(f.range_low)} to "
                f"{fmt_number(f.range_high)} {f.unit} ({f.n_required} required)")
    if f.method == "fixed_requirement":
        return "fixed safety requirement: every lot must meet it, before and after"
    return "compared graphically (no statistical criterion)"


def _finding_power(f: ComparabilityFinding, target: float) -> str:
    if f.power is None:
        return "—"
    text = f"{fmt_probability(f.power)} to pass if identical"
    if f.lots_needed_per_side is not None:
        text += f"; {f.lots_needed_per_side} lots per side for {target:.0%}"
    return text


def _comparison(d: ComparabilityDecision) -> str:
    return (f"{d.post_label} ({len(d.post_lots)} lots) against {d.pre_label} ({len(d.pre_lots)} lots)"
            f"{', paired by donor' if d.paired else ''} of data set {d.dataset}")


@summary.register
def _summary_comparability(d: ComparabilityDecision) -> str:
    stats = [f for f in d.findings if f.method in ("equivalence", "quality_range")]
    passed = [f for f in stats if f.comparable is True]
    failed = [attribute_label(f.attribute) for f in stats if f.comparable is not True]
    change = ", ".join(d.change_labels or d.change_types).lower()
    text = (f"Comparability for a {d.classification} change ({change}"
            + (f"; likely {d.reporting_category}" if d.reporting_category else "") + f"): {_comparison(d)}; "
            f"{len(passed)} of {len(stats)} statistically compared attribute(s) shown comparable")
    if failed:
        text += f"; not shown for {', '.join(failed)}"
    return text + "."


@rows.register
def _rows_comparability(d: ComparabilityDecision) -> list[dict[str, str]]:
    return [_row(d, d.flexibility_id, attribute_label(f.attribute), _finding_result(f),
                 f"{_COMPARABILITY_METHODS[f.method]} ({f.risk} risk)", _finding_power(f, d.target_power))
            for f in d.findings]


@facts.register
def _facts_comparability(d: ComparabilityDecision) -> list[tuple[str, str]]:
    out = _head(d) + [
        ("Change", ", ".join(d.change_labels or d.change_types) + (f": {d.change_description}" if d.change_description else "")),
        ("Classification", f"{d.classification} (cgtkit's reading, for discussion with FDA)"),
        ("Reporting category", d.reporting_category or "before approval: not a supplement"),
        ("Comparison", _comparison(d)),
        ("Pre-change lots", _lots(d.pre_lots)), ("Post-change lots", _lots(d.post_lots)),
        ("Settings", f"equivalence margin {d.margin_sd:g} reference SD unless set per attribute; quality range "
                     f"mean ± {d.k:g} SD; target power {d.target_power:.0%}"),
    ]
    for f in d.findings:
        out.append((f"{attribute_label(f.attribute)} ({f.attribute})",
                    f"{_COMPARABILITY_METHODS[f.method]}, {f.risk} risk, {f.n_pre} pre / {f.n_post} post: "
                    f"{_finding_result(f)}; power {_finding_power(f, d.target_power)}"))
    out.append(("Justification", d.justification))
    return out


