"""The Commercial specifications page's state, without widgets.

Candidate criteria for one attribute with their false-OOS risk, and the
lifecycle replay (flexibilities CS-SPEC-FLEX-BLA and CS-SPEC-LIFECYCLE). The
choices are traits; every change recomputes :attr:`result`. A selection the
data cannot support sets :attr:`problem` and keeps the previous result, so the
page keeps showing the last valid tables and figures.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, ClassVar

import pandas as pd
from traitlets import Enum, Instance, List, Tuple, Unicode, observe

from cgtkit.analyses.lifecycle import LifecycleReplay, lifecycle_replay
from cgtkit.analyses.specifications import AttributeData, CandidateSet, candidate_criteria, k_factor_table
from cgtkit.catalog import meetings_for_stage
from cgtkit.decisions import CommercialCriterionDecision, HorizonRisk, limits_text
from cgtkit.errors import CgtkitError, InsufficientDataError
from cgtkit.session import Session
from cgtkit.ui.selection import LotSelection, SelectionPageModel
from cgtkit.vocab import AttributeKind, LotType

log = logging.getLogger("cgtkit")

PAGE_ID = "commercial_specifications"
FLEXIBILITIES = (("CS-SPEC-FLEX-BLA — release specification at BLA", "CS-SPEC-FLEX-BLA"),
                 ("CS-SPEC-LIFECYCLE — re-evaluated criterion", "CS-SPEC-LIFECYCLE"))
K_METHODS = (("exact (Odeh–Owen)", "exact"), ("Howe approximation", "howe"), ("Guenther approximation", "guenther"))
REPLAY_COVERAGE, REPLAY_CONFIDENCE = 0.99, 0.95


@dataclass(frozen=True)
class CommercialResult:
    """What the page shows for one selection."""

    data: AttributeData
    candidates: CandidateSet | None = None  # None for a fixed safety attribute
    replay: LifecycleReplay | None = None
    replay_problem: str | None = None
    k_table: pd.DataFrame | None = None

    @property
    def fixed(self) -> bool:
        return self.data.spec.kind is AttributeKind.SAFETY_FIXED


class CommercialSpecificationsModel(SelectionPageModel):
    """Choices (selection, k method, candidate) and the result derived from them."""

    method = Enum([k for _l, k in K_METHODS], default_value="exact")
    candidate = Unicode("ti_99_95")
    candidate_options = List(Tuple(Unicode(), Unicode()), read_only=True)
    result = Instance(CommercialResult, allow_none=True, read_only=True)
    INPUTS: ClassVar[tuple[str, ...]] = ("method", "candidate")

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.selection = LotSelection(session, (LotType.CLINICAL, LotType.PPQ))
        self.selection.observe(self.recompute, names="changed")
        self.recompute()

    @property
    def page_id(self) -> str:
        return PAGE_ID

    def compute(self) -> CommercialResult:
        """The result for the current choices; a :class:`CgtkitError` says why there is none."""
        sel = self.selection
        data = sel.data()
        if data.spec.kind is AttributeKind.SAFETY_FIXED:
            return CommercialResult(data=data)
        candidates = candidate_criteria(data, method=self.method)
        replay, problem = None, None
        try:
            replay = lifecycle_replay(sel.data(lot_types=None), coverage=REPLAY_COVERAGE,
                                      confidence=REPLAY_CONFIDENCE, method=self.method)
        except CgtkitError as exc:
            problem = str(exc)
        return CommercialResult(data=data, candidates=candidates, replay=replay, replay_problem=problem,
                                k_table=k_factor_table(data.spec))

    @observe("method")
    def _on_method(self, _change: Any) -> None:
        self.recompute()

    def _accept(self, result: CommercialResult) -> None:
        options = [(c.label, c.key) for c in result.candidates.candidates] if result.candidates else []
        self.set_trait("candidate_options", options)
        if options and self.candidate not in {k for _l, k in options}:
            self.candidate = options[0][1]

    # -- decisions --------------------------------------------------------
    def chosen(self) -> Any:
        """The candidate on screen, or None for a fixed safety attribute."""
        if self.result is None or self.result.candidates is None:
            return None
        return self.result.candidates.get(self.candidate)

    def default_justification(self) -> str:
        """A first draft of the justification, citing the method; the user edits it."""
        c = self.chosen()
        if c is None:
            return ""
        cs = self.result.candidates
        spec = self.result.data.spec
        risks = "/".join(f"{c.risk[m]:.1%}" for m in cs.horizons)
        horizons = "/".join(str(m) for m in cs.horizons)
        return (
            f"Commercial acceptance criterion for {spec.label}: {limits_text(c.low, c.high, spec.unit)}, "
            f"set as {c.method} from {cs.n} lots ({', '.join(self.selection.lot_types)}{self._versions_text()}). "
            f"Probability that at least one of the next {horizons} lots of an unchanged process falls outside: "
            f"{risks} ({c.risk_basis}). Reference: {c.reference} "
            f"To be discussed with FDA at {self.meeting_text()} and re-evaluated as commercial lots accumulate "
            "(a change to an approved specification is a supplement under 21 CFR 601.12)."
        )

    def _versions_text(self) -> str:
        versions = self.selection.process_versions
        return f"; process {' and '.join(versions)}" if versions else ""

    def meeting_text(self) -> str:
        """Where to discuss it with FDA: before approval the pre-BLA meeting, after it a Type C or D
        meeting (from the profile's stage; the pre-BLA meeting when there is no profile)."""
        profile = self.selection.session.profile
        approved = profile is not None and profile.stage == "post-approval"
        return " or ".join(meetings_for_stage("post-approval" if approved else "BLA"))

    def decision(self, justification: str, flexibility_id: str | None = None) -> CommercialCriterionDecision:
        """The accepted criterion as a typed workbook decision."""
        self.require_current()
        if self.result is None:
            raise InsufficientDataError("Nothing to accept yet: fix the message above first.")
        c = self.chosen()
        if c is None:
            raise InsufficientDataError(
                f"{self.result.data.spec.label} has a fixed safety requirement: there is no computed criterion "
                "to accept.")
        if not getattr(c, "ok", True):
            raise InsufficientDataError(
                f"'{c.label}' reaches the attribute's physical bound: it is not a tolerance limit and cannot be "
                "accepted as one. Choose another candidate, or add lots.")
        if not justification.strip():
            raise InsufficientDataError("Write a justification (the draft can be edited, not left empty).")
        cs, data = self.result.candidates, self.result.data
        return CommercialCriterionDecision(
            page=PAGE_ID, flexibility_id=flexibility_id or FLEXIBILITIES[0][1], dataset=self.selection.dataset,
            attribute=data.spec.id, lot_types=tuple(LotType(t) for t in self.selection.lot_types),
            lot_ids=tuple(str(x) for x in data.lots["lot_id"]), n=data.n,
            process_versions=tuple(self.selection.process_versions), candidate=c.key, k_method=self.method,
            low=c.low, high=c.high, unit=data.spec.unit, k=c.k,
            risk=tuple(HorizonRisk(horizon=m, probability=c.risk[m]) for m in cs.horizons),
            risk_basis=c.risk_basis, risk_approximate=c.risk_approximate, reference=c.reference, method=c.method, justification=justification.strip(),
        )
