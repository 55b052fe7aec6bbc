"""The Comparability page's state, without widgets.

A manufacturing change is described (what changed, before or after approval),
each attribute is ranked by the risk the change poses to it, and the lots made
before and after the change are compared attribute by attribute
(:mod:`cgtkit.analyses.comparability`): equivalence test for high risk,
quality range for medium, a graphical comparison for low; fixed safety
requirements are never compared statistically. Flexibilities CD-MINOR-CHANGES
(risk-based comparability during development) and RP-AMT (moving to automated
or closed systems).

The plan (class, reasons, reporting category) and the comparison are computed
separately: an undescribed change leaves the statistics on screen and says what
is missing from the plan. A data problem sets :attr:`problem` and keeps the
previous result; a problem of one attribute is shown on its row, the others
still compared.

Default ranks (cgtkit's starting point, each editable): potency attributes,
attributes whose safety status is for the FDA meeting (vector copy number) and
fixed safety requirements high; every other attribute medium.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import pandas as pd
from traitlets import Any as AnyTrait
from traitlets import Bool, Dict, Float, HasTraits, List, Tuple, Unicode, observe

from cgtkit.analyses.comparability import (
    ComparabilityResult,
    ComparabilitySettings,
    Method,
    choose_lots,
    compare,
    load_change_types,
    plan_comparability,
    power_table,
)
from cgtkit.attributes import get_attribute, load_attributes
from cgtkit.decisions import ComparabilityDecision, ComparabilityFinding
from cgtkit.errors import CgtkitError, InsufficientDataError
from cgtkit.session import Session
from cgtkit.stats.equivalence import PowerGrid
from cgtkit.ui.decision_panel import lot_datasets
from cgtkit.ui.page_inputs import Quietly
from cgtkit.ui.selection import follow_dataset
from cgtkit.vocab import AttributeKind

PAGE_ID = "comparability"
FLEXIBILITIES = (("CD-MINOR-CHANGES — manufacturing change with risk-based comparability", "CD-MINOR-CHANGES"),
                 ("RP-AMT — move to an automated or closed system", "RP-AMT"))
RANKS = (("high: equivalence test", "high"), ("medium: quality range", "medium"), ("low: graphical", "low"),
         ("not compared", ""))
#: A fixed safety requirement is never ranked for a statistical method: it is checked lot by lot, or left out.
FIXED_RANKS = (("fixed requirement: every lot", "high"), ("not compared", ""))
PAIRING_COLUMN = "donor_id"


def default_rank(attribute_id: str) -> str:
    """cgtkit's starting rank for an attribute (see the module notes); the user edits it."""
    spec = get_attribute(attribute_id)
    critical = "potency" in spec.id or spec.safety_discussion or spec.kind is AttributeKind.SAFETY_FIXED
    return "high" if critical else "medium"


@dataclass(frozen=True)
class ComparabilityView:
    """What the page shows for one set of choices."""

    result: ComparabilityResult
    power: PowerGrid
    frame: pd.DataFrame  # the data set (for the lots table)


class ComparabilityModel(Quietly, HasTraits):
    """Choices (data set, sides, change, ranks, settings) and the results derived from them."""

    dataset = Unicode("")
    dataset_options = List(Unicode(), read_only=True)
    version_options = List(Unicode(), read_only=True, help="Process versions, in order of their first lot.")
    pre_version = Unicode("")
    post_version = Unicode("")
    paired = Bool(False)
    can_pair = Bool(False, read_only=True, help="True when the data name a donor per lot (donor_id).")
    change_types = List(Unicode())
    change_type_options = List(Tuple(Unicode(), Unicode()), read_only=True)
    change_description = Unicode("")
    approved = Bool(False)
    attribute_options = List(Tuple(Unicode(), Unicode()), read_only=True)
    ranks = Dict(help="Attribute id -> 'high' / 'medium' / 'low' / '' (not compared).")
    margin_sd = Float(1.5)
    k = Float(3.0)
    target_power = Float(0.8)
    shown = Unicode("", help="The attribute whose lots the dot figure shows.")

    view = AnyTrait(None, allow_none=True, read_only=True)
    plan = AnyTrait(None, allow_none=True, read_only=True)
    plan_problem = Unicode("", read_only=True)
    problem = Unicode("", read_only=True)

    #: The user's inputs, kept beside the workbook (:mod:`cgtkit.ui.page_inputs`), in the order they are set.
    INPUTS: ClassVar[tuple[str, ...]] = ("dataset", "pre_version", "post_version", "approved", "change_types",
                                         "change_description", "ranks", "margin_sd", "k", "target_power", "shown")
    INPUT_OPTIONS: ClassVar[dict[str, str]] = {"pre_version": "version_options", "post_version": "version_options",
                                               "change_types": "change_type_options", "shown": "attribute_options"}
    INPUT_FOLLOWS: ClassVar[dict[str, str]] = {"pre_version": "dataset", "post_version": "dataset", "ranks": "dataset",
                                               "shown": "dataset"}

    def __init__(self, session: Session) -> None:
        super().__init__()
        self._frames: dict[str, pd.DataFrame] = {}
        self._busy = False
        types = load_change_types()
        self.set_trait("change_type_options", [(c.label, c.id) for c in types.change_types])
        profile = session.profile
        self.approved = bool(profile is not None and str(profile.stage) == "post-approval")
        planned = str(getattr(profile, "change_type", "") or "")  # the profile's kind of change (Start here)
        if planned in {c.id for c in types.change_types}:
            self.change_types = [planned]
        self.change_description = str(getattr(profile, "change_description", "") or "")
        self.use_session(session)

    @property
    def page_id(self) -> str:
        return PAGE_ID

    def restored(self, _names: set[str]) -> None:
        self.recompute()

    # -- the workbook ---------------------------------------------------------
    def use_session(self, session: Session) -> None:
        """Follow a changed workbook, keeping the data set if it is still there."""
        self.session = session
        self._frames.clear()
        options = lot_datasets(session)
        self.set_trait("dataset_options", options)
        with self.quietly():
            dataset = self.dataset if self.dataset in options else options[0]
            if dataset == self.dataset:
                self._follow_dataset()
            else:
                self.dataset = dataset
        self.recompute()

    def frame(self) -> pd.DataFrame:
        if self.dataset not in self._frames:
            self._frames[self.dataset] = self.session.dataset_frame(self.dataset)
        return self._frames[self.dataset]

    @observe("dataset")
    def _on_dataset(self, change: dict[str, Any]) -> None:
        follow_dataset(self, change)

    def _follow_dataset(self) -> None:
        frame = self.frame()
        lots = frame.drop_duplicates("lot_id").sort_values("manufacture_date")
        versions = [str(v) for v in dict.fromkeys(lots["process_version"].dropna())]
        self.set_trait("version_options", versions)
        self.pre_version = self.pre_version if self.pre_version in versions else (versions[0] if versions else "")
        later = [v for v in versions if v != self.pre_version]
        self.post_version = (self.post_version if self.post_version in later else (later[-1] if later else ""))
        self.set_trait("can_pair", bool(PAIRING_COLUMN in frame.columns and frame[PAIRING_COLUMN].notna().any()))
        if not self.can_pair:
            self.paired = False
        known = list(load_attributes())
        present = sorted(pd.unique(frame["attribute"]), key=lambda a: (known.index(a) if a in known else len(known), a))
        self.set_trait("attribute_options", [(get_attribute(str(a)).label, str(a)) for a in present])
        ranks = {a: self.ranks.get(a, default_rank(a)) for _l, a in self.attribute_options}
        self.ranks = ranks
        if self.shown not in ranks:
            self.shown = next((a for a, r in ranks.items() if r and not get_attribute(a).is_safety_fixed), "")

    # -- deriving the results ----------------------------------------------------
    @observe("pre_version", "post_version", "paired", "ranks", "margin_sd", "k", "target_power")
    def _on_choice(self, _change: dict[str, Any]) -> None:
        if not self._busy:
            self.recompute()

    @observe("change_types", "approved")
    def _on_change(self, _change: dict[str, Any]) -> None:
        if not self._busy:
            self.replan()

    def settings(self) -> ComparabilitySettings:
        if not (0 < self.margin_sd <= 10):
            raise InsufficientDataError(
                f"The equivalence margin must be between 0 and 10 reference SDs; got {self.margin_sd:g}. "
                "1.5 is the usual starting point.")
        if not (0 < self.k <= 10):
            raise InsufficientDataError(f"The quality range's k must be between 0 and 10; got {self.k:g}. 3 is usual.")
        if not (0.5 <= self.target_power < 1):
            raise InsufficientDataError(
                f"The target power must be at least 50% and below 100%; got {self.target_power:.0%}.")
        return ComparabilitySettings(margin_sd=self.margin_sd, k=self.k, target_power=self.target_power)

    def ranked(self) -> dict[str, str]:
        return {a: r for a, r in self.ranks.items() if r}

    def compute(self) -> ComparabilityView:
        """The comparison for the current choices; a :class:`CgtkitError` says why there is none."""
        settings = self.settings()
        if not self.pre_version or not self.post_version:
            raise InsufficientDataError(
                f"Data set '{self.dataset}' names fewer than two process versions, so there is no before and after "
                "to compare. Add a process_version column (e.g. v1 before the change, v2 after) and load it again.")
        if self.pre_version == self.post_version:
            raise InsufficientDataError("Choose different process versions before and after the change.")
        frame = self.frame()
        lots = choose_lots(frame, pre_versions=[self.pre_version], post_versions=[self.post_version],
                           pairing=PAIRING_COLUMN if self.paired else None)
        ranked = self.ranked()
        if not ranked:
            raise InsufficientDataError("Rank at least one attribute (high, medium or low) to compare.")
        result = compare(frame, ranked, lots=lots, settings=settings, errors="record")
        grid = power_table(settings, design="paired" if lots.paired else "independent")
        return ComparabilityView(result=result, power=grid, frame=frame)

    def recompute(self, _change: Any = None) -> None:
        try:
            view = self.compute()
        except CgtkitError as exc:
            kept = " The tables and figures below still show the previous comparison." if self.view else ""
            self.set_trait("problem", f"{exc}{kept}")
        else:
            with self.hold_trait_notifications():
                self.set_trait("problem", "")
                self.set_trait("view", view)
        self.replan()

    def replan(self) -> None:
        """The plan for the described change; without a change type, say what is missing."""
        try:
            attributes = [a for _l, a in self.attribute_options]
            plan = plan_comparability(self.change_types, self.ranked(), approved=self.approved, attributes=attributes)
        except CgtkitError as exc:
            with self.hold_trait_notifications():
                self.set_trait("plan", None)
                self.set_trait("plan_problem", str(exc))
            return
        with self.hold_trait_notifications():
            self.set_trait("plan_problem", "")
            self.set_trait("plan", plan)

    # -- decisions -----------------------------------------------------------------
    def default_justification(self) -> str:
        """A first draft citing the method and the numbers; the user edits it."""
        view, plan = self.view, self.plan
        if view is None:
            return ""
        r = view.result
        stats = [a for a in r.attributes if a.method in (Method.EQUIVALENCE, Method.QUALITY_RANGE) and not a.problem]
        passed = [a.label for a in stats if a.comparable]
        failed = [a.label for a in stats if a.comparable is False]
        change = (f"a {plan.classification} change ({', '.join(plan.change_labels).lower()})" if plan
                  else "the manufacturing change")
        text = (f"Comparability of {r.lots.post_label} ({len(r.lots.post)} lots) with {r.lots.pre_label} "
                f"({len(r.lots.pre)} lots) for {change}, with a risk-based plan: equivalence tests (two one-sided "
                f"t-tests, 90% confidence interval within ±{self.margin_sd:g} reference SD unless set per attribute) "
                f"for high-risk attributes, quality ranges (pre-change mean ± {self.k:g} SD) for medium risk, "
                "graphical comparison for low risk; safety tests met by every lot. ")
        if passed:
            text += f"Shown comparable: {', '.join(passed)}. "
        if failed:
            text += (f"Not shown: {', '.join(failed)}; equivalence not shown is not proof of a difference, and the "
                     "root cause and impact on the product are assessed before concluding. ")
        low_power = [a.label for a in stats if a.power is not None and a.power < self.target_power]
        if low_power:
            text += (f"With these lot numbers the methods have limited power for {', '.join(low_power)} "
                     "(see the power statements); additional lots or a paired design would strengthen the study. ")
        if plan and plan.reporting_category:
            text += f"After approval the change is likely reported as {plan.reporting_category} (21 CFR 601.12). "
        text += "To be discussed with FDA before the change is implemented."
        return text

    def decision(self, justification: str, flexibility_id: str | None = None) -> ComparabilityDecision:
        """The comparison's conclusion as a typed workbook decision."""
        view, plan = self.view, self.plan
        if view is None:
            raise InsufficientDataError("Nothing to accept yet: fix the message above first.")
        if self.problem:
            raise InsufficientDataError(
                "The verdicts on screen are for the previous choice of lots or settings, so they cannot be "
                "recorded for the current one: fix the message above first.")
        if plan is None:
            raise InsufficientDataError(f"Describe the change before recording the conclusion: {self.plan_problem}")
        if not justification.strip():
            raise InsufficientDataError("Write a justification (the draft can be edited, not left empty).")
        r = view.result
        findings = []
        for row, a in zip(r.to_frame().to_dict("records"), r.attributes, strict=True):
            def num(key: str) -> float | None:
                v = row.get(key)
                return None if v is None or pd.isna(v) else float(v)

            def count(key: str) -> int | None:
                v = row.get(key)
                return None if v is None or pd.isna(v) else int(v)

            findings.append(ComparabilityFinding(
                attribute=a.attribute, unit=a.unit, risk=a.risk.value, method=a.method.value, n_pre=a.n_pre,
                n_post=a.n_post, estimate_kind=row["estimate_kind"] if isinstance(row.get("estimate_kind"), str) else None,
                estimate=num("estimate"),
                ci_low=num("ci_low"), ci_high=num("ci_high"), margin_low=num("margin_low"),
                margin_high=num("margin_high"), range_low=num("range_low"), range_high=num("range_high"),
                n_inside=count("n_inside"), n_required=count("n_required"), comparable=a.comparable,
                power=a.power, lots_needed_per_side=count("lots_needed_per_side"), problem=a.problem,
            ))
        methods = sorted({a.method.label for a in r.attributes})
        return ComparabilityDecision(
            page=PAGE_ID, flexibility_id=flexibility_id or FLEXIBILITIES[0][1], dataset=self.dataset,
            change_types=plan.change_types, change_labels=plan.change_labels,
            change_description=self.change_description.strip(),
            classification=plan.classification, reporting_category=plan.reporting_category,
            pre_label=r.lots.pre_label, post_label=r.lots.post_label, pre_lots=r.lots.pre, post_lots=r.lots.post,
            paired=r.lots.paired, margin_sd=r.settings.margin_sd, k=r.settings.k,
            target_power=r.settings.target_power, findings=tuple(findings), method="; ".join(methods),
            justification=justification.strip(),
        )
