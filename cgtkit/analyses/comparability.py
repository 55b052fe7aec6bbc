"""Comparability for a manufacturing change: the risk-based plan and the pre/post comparison of lots.

FDA allows manufacturing changes during development and after approval when
comparability data show the post-change product is highly similar to the
pre-change product, with no adverse impact (ICH Q5E), using a study sized to
the risk of the change. A sponsor then has a handful of lots on each side and
needs two things: a verdict per attribute, and an honest statement of what
that number of lots can and cannot show. This module gives both.

The plan (:func:`plan_comparability`)
    The user names what changed (change types of ``data/change_types.yaml``:
    raw material or supplier, scale, equipment, automated or closed system,
    site transfer, analytical method, ...) and ranks each affected attribute
    high, medium or low. High-risk attributes get the equivalence test,
    medium the quality range, low a graphical comparison; fixed safety
    requirements (sterility, mycoplasma, replication-competent virus,
    endotoxin) are never compared statistically. Attributes the change could
    plausibly affect that the user did not rank are listed for a second look.
    The change's class (minor / moderate / major) comes with its reasons and,
    after approval, the likely reporting category under 21 CFR 601.12, as
    cgtkit's reading for discussion with FDA; every statement carries the
    grade of its basis.

The comparison (:func:`compare`)
    Pre- and post-change lots are chosen by ``process_version`` (or lot ids);
    a split-starting-material design pairs them by donor. Each ranked
    attribute gets its method (:mod:`cgtkit.stats.equivalence`,
    :mod:`cgtkit.stats.quality_range`) on the release results, on the log
    scale for log-normal attributes, with the power of the test at the lots
    available and the lots that a target power would need.

Data problems (fewer than 2 lots on a side, a constant attribute, units that
differ between the sides, an attribute missing on one side, unpaired lots in a
paired design, censored results such as "<LOQ" under a statistical method)
raise :class:`cgtkit.errors.InsufficientDataError` naming the attribute and
what to do; censored results are never tested silently.

References
----------
.. [1] 21 CFR 601.12, Changes to an approved application.
.. [2] ICH Q5E (2004). Comparability of biotechnological/biological products.
.. [3] FDA (2023). Manufacturing Changes and Comparability for Human Cellular
   and Gene Therapy Products, draft guidance.
.. [4] FDA (2017, withdrawn 2018). Statistical Approaches to Evaluate
   Analytical Similarity, draft guidance (tiers 1-3).

Examples
--------
>>> from cgtkit.io import load_lots
>>> from cgtkit.datafiles import data_dir
>>> lots = load_lots(data_dir() / "examples" / "aav_lots.csv")
>>> result = compare(lots, {"full_capsid_pct": "high", "aggregates": "high", "relative_potency": "medium"})
>>> [(a.attribute, a.comparable) for a in result.attributes]
[('full_capsid_pct', False), ('aggregates', True), ('relative_potency', False)]
>>> plan = plan_comparability(["scale"], {"full_capsid_pct": "high"}, approved=True)
>>> plan.classification, plan.reporting_category
('moderate', 'Changes being effected in 30 days (CBE-30); some moderate changes CBE')
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from cgtkit.attributes import AttributeSpec, get_attribute, load_attributes
from cgtkit.datafiles import load_model, repeated_ids
from cgtkit.errors import CatalogError, CgtkitError, InsufficientDataError, entry_label, problem_sentence
from cgtkit.io import attribute_values
from cgtkit.stats.equivalence import (
    MARGIN_SD_RATIONALE,
    MARGIN_SD_WEAKNESS,
    EquivalenceResult,
    LotsNeeded,
    PowerGrid,
    equivalence_test,
    lots_needed,
    paired_equivalence_test,
    paired_tost_power,
    power_grid,
    tost_power,
)
from cgtkit.stats.quality_range import QualityRangeResult, quality_range_pass_probability, quality_range_test
from cgtkit.tables import number
from cgtkit.vocab import AttributeKind, Scale

__all__ = [
    "AttributeComparison",
    "ChangeTypesFile",
    "ComparabilityPlan",
    "ComparabilityResult",
    "ComparabilitySettings",
    "ComparisonLots",
    "Method",
    "PlannedAttribute",
    "Reason",
    "Risk",
    "choose_lots",
    "compare",
    "compare_attribute",
    "load_change_types",
    "plan_comparability",
    "power_table",
]

CHANGE_TYPES_FILE = "change_types.yaml"


class Risk(StrEnum):
    """How much an attribute could matter if the change moved it (the user's ranking)."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Method(StrEnum):
    """How an attribute is compared."""

    EQUIVALENCE = "equivalence"
    QUALITY_RANGE = "quality_range"
    GRAPHICAL = "graphical"
    FIXED_REQUIREMENT = "fixed_requirement"

    @property
    def label(self) -> str:
        return {
            "equivalence": "equivalence test",
            "quality_range": "quality range",
            "graphical": "graphical comparison",
            "fixed_requirement": "fixed requirement (not compared statistically)",
        }[self.value]


METHOD_FOR_RISK: dict[Risk, Method] = {
    Risk.HIGH: Method.EQUIVALENCE, Risk.MEDIUM: Method.QUALITY_RANGE, Risk.LOW: Method.GRAPHICAL,
}
CLASS_ORDER: tuple[str, ...] = ("minor", "moderate", "major")

# -- the knowledge file: data/change_types.yaml ---------------------------------------

Grade = Literal[
    "regulation", "final_guidance", "fda_announcement", "draft_guidance", "fda_official_remarks", "cgtkit_reading"
]
GRADE_LABELS: dict[str, str] = {
    "regulation": "Regulation",
    "final_guidance": "Final guidance",
    "fda_announcement": "FDA announcement",
    "draft_guidance": "Draft guidance",
    "fda_official_remarks": "FDA official's remarks",
    "cgtkit_reading": "cgtkit's reading (for discussion with FDA)",
}


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class SourceEntry(_Strict):
    """A document the statements cite."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str = Field(min_length=3)
    issuer: str = Field(min_length=2)
    grade: Grade
    date: str | None = Field(None, pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$")
    url: str | None = Field(None, pattern=r"^https://")
    needs_verification: bool = False
    note: str | None = None

    @model_validator(mode="after")
    def _dated_unless_law(self) -> SourceEntry:
        if self.grade == "cgtkit_reading":
            raise ValueError("a source is a document; 'cgtkit_reading' is the grade of a statement, not of a source")
        if self.date is None and self.grade != "regulation":
            raise ValueError(f"a {self.grade} source needs a date (YYYY-MM)")
        return self


class Statement(_Strict):
    """One statement with the grade of its basis and the sources it rests on."""

    text: str = Field(min_length=10)
    grade: Grade
    sources: tuple[str, ...] = ()
    section: str | None = None
    needs_verification: bool = False

    @model_validator(mode="after")
    def _sourced(self) -> Statement:
        if self.grade != "cgtkit_reading" and not self.sources:
            raise ValueError(f"a {self.grade} statement needs at least one source")
        return self

    @property
    def grade_label(self) -> str:
        return GRADE_LABELS[self.grade]


class ChangeClass(_Strict):
    """Minor, moderate or major, and the reporting category after approval."""

    id: Literal["minor", "moderate", "major"]
    label: str
    potential: str = Field(min_length=10)
    reporting_category: str = Field(min_length=2)
    reporting: Statement


class MethodEntry(_Strict):
    risk: Risk
    method: Method
    label: str = Field(min_length=3)
    basis: Statement


class ChangeType(_Strict):
    """One kind of manufacturing change."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str = Field(min_length=3)
    description: str = Field(min_length=10)
    classification: Literal["minor", "moderate", "major"]
    reasons: tuple[Statement, ...] = Field(min_length=1)
    major_if: tuple[str, ...] = ()
    affects: tuple[str, ...] = ()
    note: str | None = None


class _Settings(_Strict):
    combined_changes_raise_at: int = Field(ge=2)


class _Stages(_Strict):
    development: tuple[Statement, ...] = Field(min_length=1)
    post_approval: tuple[Statement, ...] = Field(min_length=1)
    always: tuple[Statement, ...] = ()


class ChangeTypesFile(_Strict):
    """The whole of ``data/change_types.yaml``."""

    schema_version: Literal[1]
    settings: _Settings
    sources: tuple[SourceEntry, ...] = Field(min_length=1)
    classes: tuple[ChangeClass, ...]
    stages: _Stages
    methods: tuple[MethodEntry, ...]
    change_types: tuple[ChangeType, ...] = Field(min_length=1)

    def source(self, source_id: str) -> SourceEntry:
        return {s.id: s for s in self.sources}[source_id]

    def change_type(self, change_id: str) -> ChangeType:
        by_id = {c.id: c for c in self.change_types}
        if change_id not in by_id:
            raise ValueError(f"Unknown change type '{change_id}'; known: {', '.join(by_id)}.")
        return by_id[change_id]

    def change_class(self, class_id: str) -> ChangeClass:
        return {c.id: c for c in self.classes}[class_id]

    def method(self, risk: Risk) -> MethodEntry:
        return {m.risk: m for m in self.methods}[risk]


def _statements(data: ChangeTypesFile) -> list[tuple[str, str, Statement]]:
    """Every statement of the file with where it is (entry label, field)."""
    found: list[tuple[str, str, Statement]] = []
    for i, c in enumerate(data.classes):
        found.append((f"classes, {entry_label(i, c)}", "reporting", c.reporting))
    for stage in ("development", "post_approval", "always"):
        for i, st in enumerate(getattr(data.stages, stage)):
            found.append((f"stages.{stage}, entry {i + 1}", "", st))
    for i, m in enumerate(data.methods):
        found.append((f"methods, entry {i + 1}", "basis", m.basis))
    for i, c in enumerate(data.change_types):
        for j, st in enumerate(c.reasons):
            found.append((f"change_types, {entry_label(i, c)}", f"reasons.{j}", st))
    return found


def _file_rules(where: str, data: ChangeTypesFile, attribute_ids: set[str]) -> list[str]:
    problems: list[str] = []
    problems += repeated_ids(where, data.sources)
    problems += repeated_ids(where, data.change_types)
    sources = {s.id: s for s in data.sources}
    for entry, fld, st in _statements(data):
        for sid in st.sources:
            if sid not in sources:
                problems.append(problem_sentence(f"cites the unknown source '{sid}'; define it under 'sources'",
                                                 where=where, entry=entry, field=f"{fld}.sources".lstrip(".")))
        if st.grade == "regulation" and not any(sources.get(s) and sources[s].grade == "regulation"
                                                for s in st.sources):
            problems.append(problem_sentence("a statement graded 'regulation' must cite a regulation source",
                                             where=where, entry=entry, field=f"{fld}.grade".lstrip(".")))
    if sorted(c.id for c in data.classes) != sorted(CLASS_ORDER):
        problems.append(problem_sentence("must list exactly the classes minor, moderate and major, once each",
                                         where=where, field="classes"))
    if sorted(m.risk.value for m in data.methods) != sorted(r.value for r in Risk):
        problems.append(problem_sentence("must give one method for each risk rank (high, medium, low)",
                                         where=where, field="methods"))
    for m in data.methods:
        if METHOD_FOR_RISK[m.risk] is not m.method:
            problems.append(problem_sentence(
                f"risk '{m.risk.value}' must use method '{METHOD_FOR_RISK[m.risk].value}'", where=where,
                field="methods"))
    for i, c in enumerate(data.change_types):
        for attribute in c.affects:
            if attribute not in attribute_ids:
                problems.append(problem_sentence(
                    f"'{attribute}' is not an attribute id of attributes.yaml; correct it or add the attribute there",
                    where=where, entry=f"change_types, {entry_label(i, c)}", field="affects"))
    return problems


@lru_cache(maxsize=4)
def load_change_types(path: str | Path | None = None) -> ChangeTypesFile:
    """Load and validate ``data/change_types.yaml`` (cached per path).

    Raises
    ------
    CatalogError
        A missing or invalid file, an unknown source or attribute id, a
        repeated id; the message names the file, the entry and the field.
    """
    source = Path(path) if path is not None else CHANGE_TYPES_FILE
    where = Path(source).name
    data = load_model(source, ChangeTypesFile)
    problems = _file_rules(where, data, set(load_attributes()))
    if problems:
        raise CatalogError(" ".join(problems))
    return data


# -- the plan ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Reason:
    """One reason for the classification, with the grade of its basis and its sources (titles)."""

    text: str
    grade: str
    sources: tuple[str, ...] = ()
    needs_verification: bool = False

    @property
    def grade_label(self) -> str:
        return GRADE_LABELS[self.grade]


@dataclass(frozen=True)
class PlannedAttribute:
    """An attribute in the plan: its rank (None when the user did not rank it), method and why it is there."""

    attribute: str
    label: str
    risk: Risk | None
    method: Method | None
    flagged_by: tuple[str, ...]
    safety_fixed: bool
    note: str = ""


@dataclass(frozen=True)
class ComparabilityPlan:
    """The risk-based comparability plan for a change.

    ``classification`` is cgtkit's reading (minor / moderate / major) with its
    ``reasons``; ``reporting_category`` is the likely category under 21 CFR
    601.12 after approval (None before approval, where ``stage_statements``
    say what applies). ``attributes`` are those the user ranked, with their
    method; ``second_look`` those the change could plausibly affect but the
    user did not rank; ``major_if`` questions that would make the change major.
    """

    change_types: tuple[str, ...]
    change_labels: tuple[str, ...]
    classification: str
    reasons: tuple[Reason, ...]
    approved: bool
    reporting_category: str | None
    reporting: Reason | None
    stage_statements: tuple[Reason, ...]
    attributes: tuple[PlannedAttribute, ...]
    second_look: tuple[PlannedAttribute, ...]
    major_if: tuple[tuple[str, str], ...]
    methods: tuple[Reason, ...]
    notes: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """One row per attribute (ranked first, then the second-look ones)."""
        rows = [
            {"attribute": a.attribute, "label": a.label, "risk": a.risk.value if a.risk else None,
             "method": a.method.value if a.method else None,
             "method_label": a.method.label if a.method else "rank it (the change could affect it)",
             "flagged_by": ", ".join(a.flagged_by), "ranked": a.risk is not None,
             "safety_fixed": a.safety_fixed, "note": a.note}
            for a in (*self.attributes, *self.second_look)
        ]
        return pd.DataFrame(rows, columns=["attribute", "label", "risk", "method", "method_label", "flagged_by",
                                           "ranked", "safety_fixed", "note"])

    def reasons_frame(self) -> pd.DataFrame:
        """The classification's reasons, the reporting statement and the stage statements, with their grades."""
        rows = [{"kind": "classification", "text": r.text, "grade": r.grade, "grade_label": r.grade_label,
                 "sources": "; ".join(r.sources), "needs_verification": r.needs_verification} for r in self.reasons]
        extra = ([self.reporting] if self.reporting else []) + list(self.stage_statements)
        rows += [{"kind": "reporting" if r is self.reporting else "stage", "text": r.text, "grade": r.grade,
                  "grade_label": r.grade_label, "sources": "; ".join(r.sources),
                  "needs_verification": r.needs_verification} for r in extra]
        return pd.DataFrame(rows, columns=["kind", "text", "grade", "grade_label", "sources", "needs_verification"])


def _reason(st: Statement, data: ChangeTypesFile, prefix: str = "") -> Reason:
    titles = []
    for sid in st.sources:
        src = data.source(sid)
        titles.append(src.title + (f", {st.section}" if st.section and src.grade == "regulation" else ""))
    verify = st.needs_verification or any(data.source(s).needs_verification for s in st.sources)
    return Reason(text=prefix + st.text, grade=st.grade, sources=tuple(titles), needs_verification=verify)


def _risk(value: object, attribute: str) -> Risk:
    try:
        return Risk(str(value).lower())
    except ValueError:
        raise ValueError(f"The risk of '{attribute}' must be 'high', 'medium' or 'low'; got {value!r}.") from None


def _method_for(spec: AttributeSpec, risk: Risk) -> Method:
    return Method.FIXED_REQUIREMENT if spec.kind is AttributeKind.SAFETY_FIXED else METHOD_FOR_RISK[risk]


def plan_comparability(
    change_types: Sequence[str],
    risks: Mapping[str, str | Risk],
    *,
    approved: bool = False,
    attributes: Sequence[str] | None = None,
    path: str | Path | None = None,
) -> ComparabilityPlan:
    """The risk-based plan: class with reasons, reporting category, method per attribute, attributes to re-check.

    Parameters
    ----------
    change_types : sequence of str
        Ids from ``data/change_types.yaml`` (``scale``, ``site_transfer``, ...).
    risks : mapping of attribute id to "high" / "medium" / "low"
        The user's ranking of the attributes the change could affect.
    approved : bool
        True after licensure: the plan names the likely 601.12 reporting category.
    attributes : sequence of str, optional
        The attributes the product has (e.g. those in its lot data); the
        second-look list is limited to them. Default: all known attributes.

    Raises
    ------
    CgtkitError
        No change type chosen.
    ValueError
        An unknown change type or risk rank (a programming mistake: the page offers a list).
    """
    data = load_change_types(path)
    if not change_types:
        raise CgtkitError("Describe the change first: choose at least one kind of change (e.g. scale, site transfer).")
    chosen = [data.change_type(c) for c in dict.fromkeys(change_types)]
    ranked = {a: _risk(r, a) for a, r in risks.items()}
    reasons: list[Reason] = []
    level = max(CLASS_ORDER.index(c.classification) for c in chosen)
    for c in chosen:
        for st in c.reasons:
            reasons.append(_reason(st, data, prefix=f"{c.label} ({c.classification} by default): "))
    threshold = data.settings.combined_changes_raise_at
    if len(chosen) >= threshold and level < CLASS_ORDER.index("major"):
        level += 1
        reasons.append(Reason(
            text=f"{len(chosen)} kinds of change made together: their effects can add up and the study must "
                 f"cover them together, so cgtkit raises the class one level (its rule for {threshold} or more).",
            grade="cgtkit_reading"))
    high = [a for a, r in ranked.items() if r is Risk.HIGH]
    if high and CLASS_ORDER[level] == "minor":
        level = CLASS_ORDER.index("moderate")
        reasons.append(Reason(
            text=f"You ranked {', '.join(get_attribute(a).label for a in high)} high: a change that could move a "
                 "critical quality attribute has more than minimal potential for an adverse effect, so cgtkit "
                 "reads it as at least moderate.",
            grade="cgtkit_reading"))
    classification = CLASS_ORDER[level]
    change_class = data.change_class(classification)
    reporting = _reason(change_class.reporting, data) if approved else None
    stage = data.stages.post_approval if approved else data.stages.development
    stage_statements = tuple(_reason(st, data) for st in (*stage, *data.stages.always))

    flagged: dict[str, list[str]] = {}
    for c in chosen:
        for a in c.affects:
            flagged.setdefault(a, []).append(c.label)
    planned = []
    for a, r in ranked.items():
        spec = get_attribute(a)
        method = _method_for(spec, r)
        note = ""
        if method is Method.FIXED_REQUIREMENT:
            note = f"Safety requirement ({spec.fixed_requirement}); every lot must meet it, before and after."
        planned.append(PlannedAttribute(attribute=a, label=spec.label, risk=r, method=method,
                                        flagged_by=tuple(flagged.get(a, ())), safety_fixed=spec.is_safety_fixed,
                                        note=note))
    available = set(attributes) if attributes is not None else set(load_attributes())
    second = []
    for a, by in flagged.items():
        if a in ranked or a not in available:
            continue
        spec = get_attribute(a)
        second.append(PlannedAttribute(
            attribute=a, label=spec.label, risk=None,
            method=Method.FIXED_REQUIREMENT if spec.is_safety_fixed else None, flagged_by=tuple(by),
            safety_fixed=spec.is_safety_fixed,
            note="Could be affected by " + " and ".join(by).lower() + "; rank it or say why not."))
    notes = tuple(c.note for c in chosen if c.note)
    return ComparabilityPlan(
        change_types=tuple(c.id for c in chosen), change_labels=tuple(c.label for c in chosen),
        classification=classification, reasons=tuple(reasons), approved=bool(approved),
        reporting_category=change_class.reporting_category if approved else None, reporting=reporting,
        stage_statements=stage_statements, attributes=tuple(planned), second_look=tuple(second),
        major_if=tuple((c.label, q) for c in chosen for q in c.major_if),
        methods=tuple(_reason(m.basis, data, prefix=f"{m.risk.value.capitalize()} risk: {m.label}. ")
                      for m in data.methods),
        notes=notes,
    )


# -- choosing the lots ---------------------------------------------------------------------


@dataclass(frozen=True)
class ComparisonLots:
    """The pre-change (reference) and post-change (test) lots, and the pairs of a split-material design."""

    pre: tuple[str, ...]
    post: tuple[str, ...]
    pre_label: str
    post_label: str
    pairs: tuple[tuple[str, str], ...] | None = None  # (pre lot, post lot)

    @property
    def paired(self) -> bool:
        return self.pairs is not None


def _lots_text(ids: Sequence[str], limit: int = 6) -> str:
    ids = list(ids)
    shown = ", ".join(ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def _lot_table(frame: pd.DataFrame) -> pd.DataFrame:
    cols = [c for c in ("lot_id", "manufacture_date", "process_version") if c in frame.columns]
    return frame[cols].drop_duplicates("lot_id")


def choose_lots(
    frame: pd.DataFrame,
    *,
    pre_versions: Sequence[str] | None = None,
    post_versions: Sequence[str] | None = None,
    pre_lots: Sequence[str] | None = None,
    post_lots: Sequence[str] | None = None,
    pairing: str | Mapping[str, str] | None = None,
) -> ComparisonLots:
    """Pick the pre- and post-change lots, by ``process_version`` or by lot id, and pair them if asked.

    With no choice at all and exactly two process versions in the data, the
    earlier one (by first manufacture date) is the reference. ``pairing`` is
    either a column of ``frame`` naming the donor (or patient) whose starting
    material each lot was made from, or a mapping pre lot -> post lot.

    Raises
    ------
    CgtkitError
        No or ambiguous versions, unknown lot ids or versions, a lot on both
        sides, an empty side, unpaired lots.
    """
    lots = _lot_table(frame)
    known = set(lots["lot_id"])
    if pre_lots is not None or post_lots is not None:
        if pre_lots is None or post_lots is None:
            raise CgtkitError("Choose both the pre-change and the post-change lots (or choose by process version).")
        pre, post = [str(x) for x in pre_lots], [str(x) for x in post_lots]
        unknown = [x for x in (*pre, *post) if x not in known]
        if unknown:
            raise CgtkitError(f"Lot(s) {_lots_text(unknown)} are not in the data; check the lot ids.")
        pre_label, post_label = "pre-change lots", "post-change lots"
    else:
        if "process_version" not in lots.columns or lots["process_version"].isna().all():
            raise CgtkitError("The data have no process_version column: choose the pre- and post-change lots by id.")
        versions = (lots.dropna(subset=["process_version"]).sort_values("manufacture_date")
                    ["process_version"].astype(str).drop_duplicates().tolist())
        if pre_versions is None and post_versions is None:
            if len(versions) != 2:
                raise CgtkitError(
                    f"The data have {len(versions)} process versions ({', '.join(versions) or 'none'}); choose "
                    "which are before and which after the change.")
            pre_versions, post_versions = [versions[0]], [versions[1]]
        if not pre_versions or not post_versions:
            raise CgtkitError("Choose at least one process version before and one after the change.")
        for v in (*pre_versions, *post_versions):
            if str(v) not in versions:
                raise CgtkitError(f"Process version '{v}' is not in the data; present: {', '.join(versions)}.")
        pv = lots["process_version"].astype(str)
        pre = lots.loc[pv.isin([str(v) for v in pre_versions]), "lot_id"].tolist()
        post = lots.loc[pv.isin([str(v) for v in post_versions]), "lot_id"].tolist()
        pre_label = f"pre-change ({', '.join(str(v) for v in pre_versions)})"
        post_label = f"post-change ({', '.join(str(v) for v in post_versions)})"
    both = sorted(set(pre) & set(post))
    if both:
        raise CgtkitError(f"Lot(s) {_lots_text(both)} are on both sides of the comparison; put each lot on one side.")
    if not pre or not post:
        raise CgtkitError("One side of the comparison has no lots; choose lots made before and after the change.")
    pairs = None if pairing is None else _pairs(frame, pre, post, pairing)
    return ComparisonLots(pre=tuple(pre), post=tuple(post), pre_label=pre_label, post_label=post_label, pairs=pairs)


def _pairs(frame: pd.DataFrame, pre: list[str], post: list[str], pairing: str | Mapping[str, str]
           ) -> tuple[tuple[str, str], ...]:
    if isinstance(pairing, str):
        if pairing not in frame.columns:
            raise CgtkitError(
                f"The data have no column '{pairing}' to pair lots by donor; add it (one donor id per lot) or give "
                "the pairs as pre lot -> post lot.")
        donor = frame.drop_duplicates("lot_id").set_index("lot_id")[pairing]
        by_donor: dict[str, dict[str, list[str]]] = {}
        missing = [lot for lot in (*pre, *post) if pd.isna(donor.get(lot))]
        if missing:
            raise CgtkitError(f"Lot(s) {_lots_text(missing)} have no '{pairing}'; every lot of a paired design needs "
                              "the donor it was made from.")
        for side, ids in (("pre", pre), ("post", post)):
            for lot in ids:
                by_donor.setdefault(str(donor[lot]), {"pre": [], "post": []})[side].append(lot)
        bad = {d: v for d, v in by_donor.items() if len(v["pre"]) != 1 or len(v["post"]) != 1}
        if bad:
            words = "; ".join(f"donor {d}: {len(v['pre'])} pre-change and {len(v['post'])} post-change lot(s)"
                              for d, v in list(bad.items())[:4])
            raise CgtkitError(
                f"Unpaired lots in the paired design ({words}). Each donor needs exactly one lot on each side; "
                "leave the unpaired lots out or use the independent comparison.")
        return tuple((v["pre"][0], v["post"][0]) for v in by_donor.values())
    mapping = {str(k): str(v) for k, v in pairing.items()}
    unpaired_pre = [x for x in pre if x not in mapping]
    unpaired_post = sorted(set(post) - set(mapping.values()))
    wrong = [f"{k} -> {v}" for k, v in mapping.items() if k not in pre or v not in post]
    if unpaired_pre or unpaired_post or wrong or len(set(mapping.values())) != len(mapping):
        parts = []
        if unpaired_pre:
            parts.append(f"pre-change lot(s) without a partner: {_lots_text(unpaired_pre)}")
        if unpaired_post:
            parts.append(f"post-change lot(s) without a partner: {_lots_text(unpaired_post)}")
        if wrong:
            parts.append(f"pairs not made of a pre-change and a post-change lot: {_lots_text(wrong)}")
        if len(set(mapping.values())) != len(mapping):
            parts.append("a post-change lot paired twice")
        raise CgtkitError("Unpaired lots in the paired design (" + "; ".join(parts) + "). Pair each pre-change lot "
                          "with the post-change lot made from the same donor's material, or leave it out.")
    return tuple((k, mapping[k]) for k in pre)


# -- settings and results -----------------------------------------------------------------


@dataclass(frozen=True)
class ComparabilitySettings:
    """The user's choices for the statistics (defaults as in the withdrawn 2017 FDA draft, all editable).

    ``planning_difference`` (in reference SDs) and ``target_power`` set the
    power statement shown with each equivalence test.
    """

    margin_sd: float = 1.5
    k: float = 3.0
    min_share: float = 0.9
    alpha: float = 0.05
    usevar: str = "unequal"
    target_power: float = 0.8
    planning_difference: float = 0.0

    def __post_init__(self) -> None:
        if not (self.margin_sd > 0 and self.k > 0 and 0 < self.min_share <= 1 and 0 < self.alpha < 0.5
                and 0 < self.target_power < 1 and self.planning_difference >= 0):
            raise ValueError(f"Invalid comparability settings: {self!r}.")
        if self.usevar not in ("unequal", "pooled"):
            raise ValueError(f"usevar must be 'unequal' or 'pooled'; got {self.usevar!r}.")


@dataclass(frozen=True)
class AttributeComparison:
    """One attribute compared before and after the change.

    ``lots`` holds the lots used (``lot_id``, ``side`` "pre"/"post", ``value``,
    ``censoring``, ``original_value``, ``lot_type``, ``process_version``,
    ``manufacture_date``, and ``pair`` for paired designs). ``comparable`` is
    True or False for the statistical methods and None for a graphical
    comparison, a fixed requirement or an attribute not evaluated
    (``problem`` then says why). ``power`` is the probability that the method
    passes at the lots available when the true difference is the settings'
    planning difference (equivalence test: exact TOST power; quality range:
    its exact pass probability), equal SDs assumed; ``lots_needed`` how many
    lots per side would reach the target power of the equivalence test.
    """

    attribute: str
    label: str
    unit: str
    scale: Scale
    risk: Risk
    method: Method
    n_pre: int
    n_post: int
    lots: pd.DataFrame = field(repr=False)
    equivalence: EquivalenceResult | None = None
    quality_range: QualityRangeResult | None = None
    power: float | None = None
    lots_needed: LotsNeeded | None = None
    lots_needed_test: LotsNeeded | None = None
    comparable: bool | None = None
    verdict: str = ""
    notes: tuple[str, ...] = ()
    problem: str | None = None
    paired: bool = False

    def to_frame(self) -> pd.DataFrame:
        """The attribute's outcome as one row (the columns of :meth:`ComparabilityResult.to_frame`)."""
        return pd.DataFrame([_row(self)], columns=RESULT_COLUMNS)


@dataclass(frozen=True)
class ComparabilityResult:
    """The whole comparison: the lots, the settings and one :class:`AttributeComparison` per ranked attribute."""

    lots: ComparisonLots
    settings: ComparabilitySettings
    attributes: tuple[AttributeComparison, ...]
    notes: tuple[str, ...] = ()

    def get(self, attribute: str) -> AttributeComparison:
        for a in self.attributes:
            if a.attribute == attribute:
                return a
        raise KeyError(attribute)

    @property
    def problems(self) -> tuple[str, ...]:
        return tuple(a.problem for a in self.attributes if a.problem)

    def to_frame(self) -> pd.DataFrame:
        """One row per attribute; differences (normal scale) or ratios (log scale) on the original scale."""
        return pd.DataFrame([_row(a) for a in self.attributes], columns=RESULT_COLUMNS)


RESULT_COLUMNS = ["attribute", "label", "unit", "scale", "risk", "method", "design", "n_pre", "n_post",
                  "estimate_kind", "estimate", "ci_low", "ci_high", "margin_low", "margin_high", "pvalue",
                  "range_low", "range_high", "n_inside", "n_required", "comparable", "verdict", "power",
                  "lots_needed_per_side", "problem"]


def _row(a: AttributeComparison) -> dict[str, object]:
    e, q = a.equivalence, a.quality_range
    row: dict[str, object] = dict.fromkeys(RESULT_COLUMNS)
    row.update(attribute=a.attribute, label=a.label, unit=a.unit, scale=a.scale.value, risk=a.risk.value,
               method=a.method.value, design="paired" if a.paired else "independent", n_pre=a.n_pre,
               n_post=a.n_post, comparable=a.comparable, verdict=a.verdict, power=a.power,
               lots_needed_per_side=a.lots_needed.n_test if a.lots_needed else None, problem=a.problem)
    if e is not None:
        log = e.scale == "log"

        def tr(v: float) -> float:
            return math.exp(v) if log else v

        row.update(estimate_kind="ratio" if log else "difference", estimate=tr(e.difference),
                   ci_low=tr(e.ci_low), ci_high=tr(e.ci_high), margin_low=tr(e.low), margin_high=tr(e.high),
                   pvalue=e.pvalue)
    if q is not None:
        row.update(range_low=q.low, range_high=q.high, n_inside=q.n_inside, n_required=q.n_required)
    return row


# -- one attribute -------------------------------------------------------------------------


def _attribute_lots(frame: pd.DataFrame, spec: AttributeSpec, lots: ComparisonLots) -> pd.DataFrame:
    rows = attribute_values(frame, spec.id)
    side = pd.Series(pd.NA, index=rows.index, dtype="object")
    side[rows["lot_id"].isin(lots.pre)] = "pre"
    side[rows["lot_id"].isin(lots.post)] = "post"
    rows = rows.assign(side=side)
    rows = rows[rows["side"].notna()]
    if lots.pairs is not None:
        pair_of = {lot: i for i, pair in enumerate(lots.pairs) for lot in pair}
        rows = rows.assign(pair=rows["lot_id"].map(pair_of))
    cols = [c for c in ("lot_id", "side", "pair", "value", "censoring", "original_value", "result", "unit",
                        "lot_type", "process_version", "manufacture_date") if c in rows.columns]
    return rows[cols].reset_index(drop=True)


def _check_sides(spec: AttributeSpec, rows: pd.DataFrame, lots: ComparisonLots) -> None:
    counts = rows["side"].value_counts()
    for side, label, total in (("pre", lots.pre_label, len(lots.pre)), ("post", lots.post_label, len(lots.post))):
        if counts.get(side, 0) == 0:
            other = lots.post_label if side == "pre" else lots.pre_label
            raise InsufficientDataError(
                f"{spec.label} has results for the {other} only: none of the {total} {label} lots has one. "
                f"Add the missing results, or leave {spec.label} out of the comparison.")
    if "unit" in rows.columns:
        units = {s: sorted({str(u) for u in rows.loc[rows["side"] == s, "unit"]}) for s in ("pre", "post")}
        if units["pre"] != units["post"]:
            raise InsufficientDataError(
                f"{spec.label} is reported in different units before ({', '.join(units['pre']) or 'none'}) and after "
                f"({', '.join(units['post']) or 'none'}) the change. Convert the results to one unit first.")


def _check_not_censored(spec: AttributeSpec, rows: pd.DataFrame, method: Method) -> None:
    censored = rows[rows["censoring"].ne("none")] if "censoring" in rows.columns else rows.iloc[0:0]
    if len(censored):
        values = censored["original_value"] if "original_value" in censored.columns else censored["value"]
        shown = ", ".join(f"{lot} ({val})" for lot, val in list(zip(censored["lot_id"], values))[:5])
        raise InsufficientDataError(
            f"{spec.label}: {len(censored)} result(s) are censored at a limit "
            f"({shown}{', ...' if len(censored) > 5 else ''}), "
            f"so their values are not known and cgtkit does not run the {method.label} on them. Rank "
            f"{spec.label} low for a graphical comparison, or compare the share of results below the limit.")


def _check_counts(spec: AttributeSpec, rows: pd.DataFrame, lots: ComparisonLots, minimum: dict[str, int]) -> None:
    for side, label in (("pre", lots.pre_label), ("post", lots.post_label)):
        n = int((rows["side"] == side).sum())
        if n < minimum[side]:
            raise InsufficientDataError(
                f"{spec.label}: {n} {label} lot(s) with a result, but this comparison needs at least "
                f"{minimum[side]} on each side. Add lots, or rank {spec.label} low for a graphical comparison.")


def _check_variability(spec: AttributeSpec, rows: pd.DataFrame) -> None:
    values = rows["value"].to_numpy(dtype=float)
    if np.ptp(values) <= 1e-10 * max(float(np.max(np.abs(values))), 1e-300):
        raise InsufficientDataError(
            f"{spec.label} has the same result ({values[0]:g}) in every lot before and after the change, so "
            "there is no variability to compare. Check the data, or compare it graphically.")
    pre = rows.loc[rows["side"] == "pre", "value"].to_numpy(dtype=float)
    if np.ptp(pre) <= 1e-10 * max(float(np.max(np.abs(pre))), 1e-300):
        raise InsufficientDataError(
            f"All pre-change lots of {spec.label} have the same result ({pre[0]:g}), so no margin or range can be "
            "set from their variability. Give the margin directly, or compare it graphically.")


def _margin_args(spec: AttributeSpec, margin: float | tuple[float, float] | None) -> dict[str, object]:
    if margin is None:
        return {}
    if isinstance(margin, (tuple, list)):
        return {"bounds": tuple(float(m) for m in margin)}
    m = float(margin)
    if spec.scale is Scale.LOG:
        if not m > 1.0:
            raise ValueError(f"For a log-normal attribute a single margin is a maximum ratio above 1 (e.g. 1.25); "
                             f"got {margin!r}.")
        return {"bounds": (1.0 / m, m)}
    return {"margin": m}


def _fixed(spec: AttributeSpec, rows: pd.DataFrame, risk: Risk, lots: ComparisonLots) -> AttributeComparison:
    n_pre, n_post = int((rows["side"] == "pre").sum()), int((rows["side"] == "post").sum())
    words = []
    if "result" in rows.columns and rows["result"].notna().any():
        for side, label in (("pre", lots.pre_label), ("post", lots.post_label)):
            part = rows[rows["side"] == side]
            words.append(f"{int((part['result'] == 'fail').sum())} of {len(part)} {label} lots failing")
    elif "value" in rows.columns and rows["value"].notna().any():  # a numeric safety result (endotoxin)
        for side, label in (("pre", lots.pre_label), ("post", lots.post_label)):
            values = rows.loc[rows["side"] == side, "value"].dropna()
            if len(values):
                words.append(f"{label}: {len(values)} results, highest {number(4)(float(values.max()))} {spec.unit}"
                             .rstrip())
    seen = ("; ".join(words) + ". ") if words else ""
    seen = seen[:1].upper() + seen[1:]
    return AttributeComparison(
        attribute=spec.id, label=spec.label, unit=spec.unit, scale=spec.scale, risk=risk,
        method=Method.FIXED_REQUIREMENT, n_pre=n_pre, n_post=n_post, lots=rows, comparable=None,
        verdict=f"Fixed safety requirement ({spec.fixed_requirement}): every lot must meet it; not compared "
                f"statistically. {seen}".strip(),
        paired=lots.paired)


def compare_attribute(
    frame: pd.DataFrame,
    spec: AttributeSpec,
    lots: ComparisonLots,
    risk: Risk | str,
    *,
    settings: ComparabilitySettings = ComparabilitySettings(),
    margin: float | tuple[float, float] | None = None,
) -> AttributeComparison:
    """Compare one attribute before and after the change with the method its risk rank calls for.

    Parameters
    ----------
    frame : pandas.DataFrame
        Long-format lot data (:func:`cgtkit.io.load_lots`); release results are used.
    spec : AttributeSpec
        The attribute's metadata (scale, kind, label).
    lots : ComparisonLots
        From :func:`choose_lots`.
    risk : Risk or str
        high -> equivalence test, medium -> quality range, low -> graphical.
    settings : ComparabilitySettings
    margin : float or (float, float), optional
        The equivalence margin given directly: a number is ± that many units
        (normal scale) or a maximum ratio such as 1.25 (log scale: 0.8 to
        1.25); a pair is (low, high) as a difference or a ratio. Default:
        ``settings.margin_sd`` reference SDs.

    Raises
    ------
    cgtkit.errors.InsufficientDataError
        See the module docstring.
    """
    risk = _risk(risk, spec.id)
    rows = _attribute_lots(frame, spec, lots)
    _check_sides(spec, rows, lots)
    if spec.kind is AttributeKind.SAFETY_FIXED:
        return _fixed(spec, rows, risk, lots)
    rows = rows[rows["value"].notna()].reset_index(drop=True)
    method = METHOD_FOR_RISK[risk]
    base = dict(attribute=spec.id, label=spec.label, unit=spec.unit, scale=spec.scale, risk=risk, method=method,
                paired=lots.paired)
    n_pre, n_post = int((rows["side"] == "pre").sum()), int((rows["side"] == "post").sum())
    notes: list[str] = []
    if method is Method.GRAPHICAL:
        n_cens = int(rows["censoring"].ne("none").sum()) if "censoring" in rows.columns else 0
        if n_cens:
            notes.append(f"{n_cens} result(s) are censored at a limit of quantitation and are shown at that limit "
                         "(open markers).")
        return AttributeComparison(**base, n_pre=n_pre, n_post=n_post, lots=rows,  # type: ignore[arg-type]
                                   verdict="Graphical comparison: no statistical acceptance criterion.",
                                   notes=tuple(notes))
    _check_not_censored(spec, rows, method)
    pre = rows.loc[rows["side"] == "pre"]
    post = rows.loc[rows["side"] == "post"]
    scale = spec.scale.value
    if method is Method.QUALITY_RANGE:
        _check_counts(spec, rows, lots, {"pre": 2, "post": 2})
        _check_variability(spec, rows)
        q = quality_range_test(post["value"], pre["value"], k=settings.k, min_share=settings.min_share, scale=scale)
        verdict = (f"{q.n_inside} of {q.n_test} post-change lots inside the range ({q.n_required} required): "
                   + ("passes." if q.passed else "does not pass."))
        delta = settings.planning_difference
        p_pass = float(quality_range_pass_probability(n_post, n_pre, true_difference=delta, k=settings.k,
                                                       min_share=settings.min_share))
        p_far = float(quality_range_pass_probability(n_post, n_pre, true_difference=delta + 1.0, k=settings.k,
                                                     min_share=settings.min_share))
        diff = "identical processes" if delta == 0 else f"a true difference of {delta:g} reference SD"
        operating = (f"With {n_post} post-change and {n_pre} pre-change lots the range is passed with probability "
                     f"{p_pass:.0%} for {diff}, and still {p_far:.0%} when the post-change mean is 1 reference SD "
                     "further off (exact, equal SDs assumed): the quality range is not a test of equivalence.")
        return AttributeComparison(**base, n_pre=n_pre, n_post=n_post, lots=rows,  # type: ignore[arg-type]
                                   quality_range=q, power=p_pass, comparable=q.passed, verdict=verdict,
                                   notes=(q.rule, operating))
    # equivalence
    _check_counts(spec, rows, lots, {"pre": 2, "post": 2})
    _check_variability(spec, rows)
    margin_args = _margin_args(spec, margin)
    if lots.paired:
        by_pair = rows.pivot_table(index="pair", columns="side", values="value", aggfunc="first")
        incomplete = by_pair[by_pair.isna().any(axis=1)]
        if len(incomplete):
            names = [" / ".join(lots.pairs[int(i)]) for i in incomplete.index]  # type: ignore[index]
            raise InsufficientDataError(
                f"{spec.label}: the pair(s) {_lots_text(names)} lack a result on one side, so they are unpaired for "
                "this attribute. Add the result or leave the pair out.")
        if len(by_pair) < 2:
            raise InsufficientDataError(f"{spec.label}: a paired comparison needs at least 2 complete pairs.")
        e = paired_equivalence_test(by_pair["post"], by_pair["pre"], margin_sd=settings.margin_sd, scale=scale,
                                    alpha=settings.alpha, **margin_args)  # type: ignore[arg-type]
    else:
        e = equivalence_test(post["value"], pre["value"], margin_sd=settings.margin_sd, scale=scale,
                             usevar=settings.usevar, alpha=settings.alpha, **margin_args)  # type: ignore[arg-type]
    power, needed, needed_test, power_notes = _power_statement(e, settings)
    notes += power_notes
    if margin is None:
        notes += [MARGIN_SD_RATIONALE, MARGIN_SD_WEAKNESS]
    small, large = sorted((n_pre, n_post))
    if not lots.paired and large > 1.5 * small:
        notes.append(
            f"One side has more than 1.5 times the lots of the other ({n_pre} pre, {n_post} post); the withdrawn 2017 "
            "FDA draft suggested capping the larger side at 1.5 times the smaller. cgtkit uses all lots chosen.")
    return AttributeComparison(**base, n_pre=n_pre, n_post=n_post, lots=rows,  # type: ignore[arg-type]
                               equivalence=e, power=power, lots_needed=needed, lots_needed_test=needed_test,
                               comparable=e.equivalent, verdict=e.verdict, notes=tuple(notes))


def _power_statement(e: EquivalenceResult, s: ComparabilitySettings
                     ) -> tuple[float, LotsNeeded, LotsNeeded | None, list[str]]:
    """Power at the lots available (margin and difference in reference SDs) and the lots a target power needs."""
    margin_in_sd = e.high / e.sd_reference
    delta = s.planning_difference
    if e.design == "paired":
        sd_d = e.sd_difference / e.sd_reference
        power = float(paired_tost_power(delta, margin_in_sd, e.n_test, sd_difference=sd_d, alpha=s.alpha))
        needed = lots_needed(s.target_power, delta, margin_in_sd, sd=sd_d, design="paired", alpha=s.alpha)
        needed_test = None
        what = f"{e.n_test} pairs"
    else:
        power = float(tost_power(delta, margin_in_sd, e.n_test, e.n_reference, alpha=s.alpha))
        needed = lots_needed(s.target_power, delta, margin_in_sd, alpha=s.alpha)
        needed_test = lots_needed(s.target_power, delta, margin_in_sd, n_reference=e.n_reference, alpha=s.alpha)
        what = f"{e.n_test} post-change and {e.n_reference} pre-change lots"
    diff = "identical processes" if delta == 0 else f"a true difference of {delta:g} reference SD"
    text = (f"With {what}, the test shows equivalence with probability {power:.0%} for {diff} "
            f"(margin {margin_in_sd:.2g} reference SD; exact power, equal SDs assumed). ")
    if needed.n_test is not None:
        unit = "pairs" if e.design == "paired" else "lots per side"
        text += f"{needed.n_test} {unit} would give {needed.power:.0%} (target {s.target_power:.0%})"
        if needed_test is not None and needed_test.n_test is not None:
            text += f"; with the {e.n_reference} pre-change lots, {needed_test.n_test} post-change lots"
        text += "."
    else:
        text += needed.reason
    return power, needed, needed_test, [text]


# -- the whole comparison ---------------------------------------------------------------------


def compare(
    frame: pd.DataFrame,
    risks: Mapping[str, Risk | str],
    *,
    lots: ComparisonLots | None = None,
    settings: ComparabilitySettings = ComparabilitySettings(),
    margins: Mapping[str, float | tuple[float, float]] | None = None,
    errors: Literal["raise", "record"] = "raise",
) -> ComparabilityResult:
    """Compare every ranked attribute before and after the change.

    Parameters
    ----------
    frame : pandas.DataFrame
        Long-format lot data.
    risks : mapping of attribute id to risk rank
        The attributes to compare and how (high, medium, low).
    lots : ComparisonLots, optional
        Default: :func:`choose_lots` with its defaults (two process versions).
    settings : ComparabilitySettings
    margins : mapping, optional
        Margins given directly per attribute (see :func:`compare_attribute`).
    errors : {"raise", "record"}
        "raise" (default): the first data problem raises. "record": the
        attribute is kept with ``problem`` set and ``comparable`` None, so a
        page can show the others.
    """
    if errors not in ("raise", "record"):
        raise ValueError(f"errors must be 'raise' or 'record'; got {errors!r}.")
    if not risks:
        raise CgtkitError("Rank at least one attribute (high, medium or low) to compare.")
    lots = lots if lots is not None else choose_lots(frame)
    out = []
    for attribute, risk in risks.items():
        spec = get_attribute(attribute)
        try:
            out.append(compare_attribute(frame, spec, lots, risk, settings=settings,
                                         margin=(margins or {}).get(attribute)))
        except CgtkitError as exc:
            if errors == "raise":
                raise
            r = _risk(risk, attribute)
            out.append(AttributeComparison(
                attribute=spec.id, label=spec.label, unit=spec.unit, scale=spec.scale, risk=r,
                method=_method_for(spec, r), n_pre=0, n_post=0, lots=pd.DataFrame(), comparable=None,
                verdict="Not evaluated.", problem=str(exc), paired=lots.paired))
    notes = []
    if lots.paired:
        notes.append("Paired (split starting material) design: each donor's material made by both processes; the "
                     "tests use the within-donor differences, which removes donor-to-donor variation.")
    return ComparabilityResult(lots=lots, settings=settings, attributes=tuple(out), notes=tuple(notes))


def power_table(
    settings: ComparabilitySettings = ComparabilitySettings(),
    *,
    n: Sequence[int] = tuple(range(2, 31)),
    true_differences: Sequence[float] = (0.0, 0.25, 0.5, 0.75, 1.0),
    margins: Sequence[float] | None = None,
    design: str = "independent",
    sd_difference: float = 1.0,
) -> PowerGrid:
    """Power of the equivalence test against lots per side, for the figure (differences and margins in reference SDs).

    ``margins`` defaults to the settings' margin; for a paired design
    ``sd_difference`` is the SD of the within-donor differences in reference SDs.

    >>> g = power_table()
    >>> g.margins, round(float(g.power[g.n.index(3), 0, 0]), 2)
    ((1.5,), 0.15)
    """
    return power_grid(n, true_differences, margins if margins is not None else (settings.margin_sd,),
                      design=design, sd=1.0 if design == "independent" else sd_difference, alpha=settings.alpha)
