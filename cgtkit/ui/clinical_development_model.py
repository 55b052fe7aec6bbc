"""The Clinical development page's state, without widgets.

Wide, phase-appropriate release criteria for investigational lots, proposed for
every attribute from engineering and clinical lots (flexibility
CD-RELEASE-PERMISSIVE; safety attributes keep their fixed requirement,
CD-SAFETY-ATTRIBUTES). The selection is a shared sub-model; every change
recomputes :attr:`result`, and a selection the data cannot support sets
:attr:`problem` while the previous result stays.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from traitlets import Instance

from cgtkit.analyses.specifications import (
    AttributeData,
    InvestigationalProposal,
    investigational_proposal,
    k_factor_table,
)
from cgtkit.catalog import meetings_for_stage
from cgtkit.decisions import (
    InvestigationalCriteriaDecision,
    InvestigationalCriterion,
    ToleranceBasis,
    criterion_method,
    limits_text,
)
from cgtkit.errors import InsufficientDataError
from cgtkit.session import Session
from cgtkit.ui.selection import LotSelection, SelectionPageModel
from cgtkit.vocab import AttributeKind, LotType

PAGE_ID = "clinical_development"
PERMISSIVE, SAFETY = "CD-RELEASE-PERMISSIVE", "CD-SAFETY-ATTRIBUTES"
FLEXIBILITIES = ((f"{PERMISSIVE} — permissive IND release criteria", PERMISSIVE),
                 (f"{SAFETY} — safety attribute limit", SAFETY))


@dataclass(frozen=True)
class ClinicalResult:
    """Proposals for every attribute, and the selected attribute's lots."""

    data: AttributeData
    proposals: tuple[InvestigationalProposal, ...]
    k_table: pd.DataFrame | None = None

    @property
    def fixed(self) -> bool:
        return self.data.spec.kind is AttributeKind.SAFETY_FIXED

    @property
    def proposal(self) -> InvestigationalProposal:
        """The selected attribute's proposal."""
        for p in self.proposals:
            if p.attribute == self.data.spec.id:
                return p
        raise InsufficientDataError(f"No proposal for {self.data.spec.label} in this data set.")


class ClinicalDevelopmentModel(SelectionPageModel):
    """The selection and the proposals derived from it."""

    result = Instance(ClinicalResult, allow_none=True, read_only=True)

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.selection = LotSelection(session, (LotType.ENGINEERING, LotType.CLINICAL))
        self._proposals: dict[tuple[Any, ...], tuple[InvestigationalProposal, ...]] = {}
        self.selection.observe(self.recompute, names="changed")
        self.recompute()

    @property
    def page_id(self) -> str:
        return PAGE_ID

    def proposals(self) -> tuple[InvestigationalProposal, ...]:
        """Proposals for every attribute: they depend on the data set and lot types, not on which
        attribute is shown, so they are computed once per selection of lots."""
        sel = self.selection
        key = (sel.dataset, tuple(sel.lot_types), tuple(sel.process_versions))
        if key not in self._proposals:
            self._proposals = {key: tuple(investigational_proposal(sel.data(a)) for _l, a in sel.attribute_options)}
        return self._proposals[key]

    def compute(self) -> ClinicalResult:
        data = self.selection.data()
        fixed = data.spec.kind is AttributeKind.SAFETY_FIXED
        return ClinicalResult(data=data, proposals=self.proposals(), k_table=None if fixed else k_factor_table(data.spec))

    def use_session(self, session: Session) -> None:
        """Follow a changed workbook (data sets added, replaced or removed)."""
        self._proposals = {}
        self.selection.use_session(session)

    # -- decisions --------------------------------------------------------
    def default_flexibility(self, result: ClinicalResult | None = None) -> str:
        """Safety attributes, fixed (sterility) or data-driven (vector copy number), support
        CD-SAFETY-ATTRIBUTES; the others CD-RELEASE-PERMISSIVE."""
        result = result or self.result
        if result is None:
            return PERMISSIVE
        return SAFETY if result.fixed or result.data.spec.safety_discussion else PERMISSIVE

    def meeting_text(self) -> str:
        """Where to discuss it with FDA, from the profile's stage (any meeting when there is no profile)."""
        profile = self.selection.session.profile
        meetings = meetings_for_stage(profile.stage if profile else None) if profile else ()
        return " or ".join(meetings) if meetings else "a meeting with FDA"

    def default_justification(self, result: ClinicalResult | None = None) -> str:
        """A first draft of the justification for the shown attribute; the user edits it."""
        result = result or self.result
        if result is None:
            return ""
        p, spec = result.proposal, result.data.spec
        if not p.ok:
            return ""
        return (
            f"Investigational release criterion for {spec.label}: {limits_text(p.low, p.high, spec.unit)}. "
            f"{p.rationale} Wide on purpose for investigational use: a lot outside it is a reason to contact "
            "FDA about patient monitoring and risk mitigation for that lot, not proof of a process failure. "
            "Proposed as a phase-appropriate criterion for IND lots "
            f"(21 CFR 312.23(a)(7)); to be discussed with FDA at {self.meeting_text()}."
        )

    def _criterion(self, result: ClinicalResult, flexibility_id: str) -> InvestigationalCriterion:
        p, spec = result.proposal, result.data.spec
        if not p.ok:
            raise InsufficientDataError(p.problem or "No criterion to record.")
        fixed = result.fixed
        return InvestigationalCriterion(
            attribute=spec.id, attribute_kind=AttributeKind(spec.kind), flexibility_id=flexibility_id,
            low=p.low, high=p.high, unit=spec.unit,
            lot_ids=tuple(str(x) for x in result.data.lots["lot_id"]), n=result.data.n,
            tolerance=None if fixed else ToleranceBasis.from_label(p.basis),
            fixed_requirement=spec.fixed_requirement if fixed else None,
            next_lot_outside=p.next_lot_outside, risk_approximate=p.risk_approximate,
        )

    def _set_decision(self, criteria: list[InvestigationalCriterion], justification: str,
                      method: str) -> InvestigationalCriteriaDecision:
        return InvestigationalCriteriaDecision(
            page=PAGE_ID, dataset=self.selection.dataset,
            lot_types=tuple(LotType(t) for t in self.selection.lot_types),
            process_versions=tuple(self.selection.process_versions), criteria=tuple(criteria),
            method=method, justification=justification,
        )

    def decision(self, justification: str, flexibility_id: str | None = None) -> InvestigationalCriteriaDecision:
        """The shown attribute's criterion, recorded as a set of one."""
        self.require_current()
        if self.result is None:
            raise InsufficientDataError("Nothing to accept yet: fix the message above first.")
        if not justification.strip():
            raise InsufficientDataError("Write a justification (the draft can be edited, not left empty).")
        criterion = self._criterion(self.result, flexibility_id or self.default_flexibility())
        return self._set_decision([criterion], justification.strip(), criterion_method(criterion))

    def all_proposals_decision(self) -> InvestigationalCriteriaDecision:
        """Every usable proposal as one set decision ("accept all"); each criterion supports its own
        flexibility (safety attributes CD-SAFETY-ATTRIBUTES); the justification is the drafts in order."""
        self.require_current()
        criteria: list[InvestigationalCriterion] = []
        drafts: list[str] = []
        proposals = self.proposals()
        for p in proposals:
            if not p.ok:
                continue
            result = ClinicalResult(data=self.selection.data(p.attribute), proposals=proposals)
            criteria.append(self._criterion(result, self.default_flexibility(result)))
            drafts.append(self.default_justification(result))
        if not criteria:
            raise InsufficientDataError("No attribute has a usable proposal in this selection of lots.")
        method = "; ".join(dict.fromkeys(criterion_method(c) for c in criteria))
        return self._set_decision(criteria, "\n\n".join(drafts), method)
