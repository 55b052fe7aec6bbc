"""State and derivations of the specifications pages, without widgets.

One model serves two pages:

``investigational`` (Clinical development)
    Wide, phase-appropriate criteria for every attribute from engineering and
    clinical lots (flexibility CD-RELEASE-PERMISSIVE).
``commercial`` (Commercial specifications)
    Candidate criteria for one attribute with their false-OOS risk, and the
    lifecycle replay (CS-SPEC-FLEX-BLA, CS-SPEC-LIFECYCLE).

The model holds the choices as traits; :meth:`SpecificationsModel.compute`
derives everything shown from them and the session's data, and
:meth:`SpecificationsModel.decision` turns the choice into a workbook decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from traitlets import Enum, Float, HasTraits, List, Unicode

from cgtkit.attributes import AttributeSpec, get_attribute, load_attributes
from cgtkit.errors import CgtkitError, InsufficientDataError
from cgtkit.session import Decision, Session
from cgtkit.stats.criteria import (
    AttributeData,
    CandidateSet,
    InvestigationalProposal,
    LifecycleReplay,
    attribute_data,
    candidate_criteria,
    investigational_proposal,
    lifecycle_replay,
    sidedness,
)
from cgtkit.stats.tolerance import tolerance_factor_table

LOT_TYPES = ("engineering", "clinical", "ppq", "commercial")
MODES = {
    "investigational": dict(
        page="clinical_development",
        flexibility="CD-RELEASE-PERMISSIVE",
        lot_types=["engineering", "clinical"],
    ),
    "commercial": dict(
        page="commercial_specifications",
        flexibility="CS-SPEC-FLEX-BLA",
        lot_types=["clinical", "ppq"],
    ),
}
K_TABLE_NS = tuple(range(2, 101))


@dataclass(frozen=True)
class SpecView:
    """Everything the page shows for the current choices."""

    spec: AttributeSpec
    data: AttributeData
    proposals: tuple[InvestigationalProposal, ...] = ()
    candidates: CandidateSet | None = None
    replay: LifecycleReplay | None = None
    replay_problem: str | None = None
    k_table: pd.DataFrame | None = None

    @property
    def fixed(self) -> bool:
        return self.spec.kind == "safety_fixed"


class SpecificationsModel(HasTraits):
    """The page's choices, with defaults for the shipped example data."""

    mode = Enum(list(MODES), default_value="commercial")
    dataset = Unicode("")
    attribute = Unicode("")
    lot_types = List(Unicode(), default_value=["clinical", "ppq"])
    method = Enum(["exact", "howe", "guenther"], default_value="exact")
    replay_coverage = Float(0.99)
    replay_confidence = Float(0.95)
    candidate = Unicode("ti_99_95")

    def __init__(self, session: Session, mode: str = "commercial", **kwargs: Any) -> None:
        super().__init__(mode=mode, **kwargs)
        self.session = session
        self._frames: dict[str, pd.DataFrame] = {}
        self._proposals: dict[tuple[str, tuple[str, ...]], tuple[InvestigationalProposal, ...]] = {}
        self.reset()

    # -- options --------------------------------------------------------
    @property
    def page_id(self) -> str:
        return str(MODES[self.mode]["page"])

    @property
    def dataset_options(self) -> list[str]:
        """Data sets holding release data (stability studies are for a later page)."""
        return [name for name, ds in self.session.datasets.items() if not name.endswith("_stability")] or list(
            self.session.datasets
        )

    def frame(self) -> pd.DataFrame:
        """The selected data set (parsed once per workbook version, not on every interaction)."""
        if self.dataset not in self._frames:
            self._frames[self.dataset] = self.session.dataset_frame(self.dataset)
        return self._frames[self.dataset]

    def attribute_options(self) -> list[tuple[str, str]]:
        """(label, id) for every attribute of the data set; fixed safety ones say so."""
        frame = self.frame()
        known = list(load_attributes())
        present = sorted(pd.unique(frame["attribute"]), key=lambda a: (known.index(a) if a in known else len(known), a))
        options = []
        for attr in present:
            spec = get_attribute(str(attr))
            suffix = " — fixed safety requirement" if spec.kind == "safety_fixed" else ""
            options.append((f"{spec.label}{suffix}", spec.id))
        return options

    def reset(self) -> None:
        """Back to the defaults: first data set, first attribute with data-driven limits."""
        self.lot_types = list(MODES[self.mode]["lot_types"])
        self.method = "exact"
        self.candidate = "ti_99_95"
        options = self.dataset_options
        if not options:
            raise InsufficientDataError("The workbook holds no lot data: load a lot data file on the Home page.")
        self.dataset = options[0]
        self.attribute = self.default_attribute()

    def default_attribute(self) -> str:
        for _label, attr in self.attribute_options():
            if get_attribute(attr).kind != "safety_fixed":
                return attr
        return self.attribute_options()[0][1]

    def use_session(self, session: Session) -> None:
        """Follow a changed workbook, keeping the choices that still make sense."""
        self.session = session
        self._frames.clear()
        self._proposals.clear()
        if self.dataset not in self.dataset_options:
            self.reset()
        elif self.attribute not in {a for _l, a in self.attribute_options()}:
            self.attribute = self.default_attribute()

    # -- derivations ----------------------------------------------------
    def compute(self) -> SpecView:
        """Derive what the page shows; a :class:`CgtkitError` names the problem."""
        if not self.lot_types:
            raise InsufficientDataError("Select at least one lot type to set the criteria from.")
        frame = self.frame()
        spec = get_attribute(self.attribute)
        data = attribute_data(frame, spec, self.lot_types)
        if self.mode == "investigational":
            proposals = self._all_proposals(frame)
            k_table = self._k_table(spec) if spec.kind != "safety_fixed" else None
            return SpecView(spec=spec, data=data, proposals=proposals, k_table=k_table)
        if spec.kind == "safety_fixed":
            return SpecView(spec=spec, data=data)
        candidates = candidate_criteria(data, method=self.method)
        replay, problem = None, None
        try:
            all_lots = attribute_data(frame, spec, None)
            replay = lifecycle_replay(all_lots, coverage=self.replay_coverage, confidence=self.replay_confidence,
                                      method=self.method)
        except CgtkitError as exc:
            problem = str(exc)
        return SpecView(spec=spec, data=data, candidates=candidates, replay=replay, replay_problem=problem,
                        k_table=self._k_table(spec))

    def _all_proposals(self, frame: pd.DataFrame) -> tuple[InvestigationalProposal, ...]:
        """Proposals for every attribute; they depend on the data set and lot types only, not on
        which attribute is shown, so they are computed once per selection."""
        key = (self.dataset, tuple(self.lot_types))
        if key not in self._proposals:
            self._proposals[key] = tuple(
                investigational_proposal(attribute_data(frame, get_attribute(a), self.lot_types))
                for _l, a in self.attribute_options()
            )
        return self._proposals[key]

    def _k_table(self, spec: AttributeSpec) -> pd.DataFrame:
        sided, _side = sidedness(spec)
        return tolerance_factor_table(K_TABLE_NS, coverages=(0.95, 0.99), confidences=(0.95, 0.99), sided=sided)

    # -- decisions --------------------------------------------------------
    def proposal_for(self, view: SpecView) -> InvestigationalProposal:
        for p in view.proposals:
            if p.attribute == view.spec.id:
                return p
        raise InsufficientDataError(f"No proposal for {view.spec.label} in this data set.")

    def default_justification(self, view: SpecView) -> str:
        """A first draft of the justification, citing the method; the user edits it."""
        spec = view.spec
        if self.mode == "investigational":
            p = self.proposal_for(view)
            if not p.ok:
                return ""
            return (
                f"Investigational release criterion for {spec.label}: {_limits(p.low, p.high, spec.unit)}. "
                f"{p.rationale} Wide on purpose for investigational use: a lot outside it is a reason to contact "
                "FDA about patient monitoring and risk mitigation for that lot, not proof of a process failure. "
                "Proposed as a phase-appropriate criterion for IND lots "
                "(21 CFR 312.23(a)(7)); to be discussed with FDA (e.g. at the pre-IND or an INTERACT meeting)."
            )
        if view.candidates is None:
            return ""
        c = view.candidates.get(self.candidate)
        risks = "/".join(f"{c.risk[m]:.1%}" for m in view.candidates.horizons)
        horizons = "/".join(str(m) for m in view.candidates.horizons)
        lots = ", ".join(self.lot_types)
        return (
            f"Commercial acceptance criterion for {spec.label}: {_limits(c.low, c.high, spec.unit)}, "
            f"set as {c.method} from {view.candidates.n} lots ({lots}). "
            f"Probability that at least one of the next {horizons} lots of an unchanged process falls outside: "
            f"{risks} ({c.risk_basis}). Reference: {c.reference} "
            "To be discussed with FDA (pre-BLA meeting) and re-evaluated as commercial lots accumulate "
            "(a change to an approved specification is a supplement under 21 CFR 601.12)."
        )

    def decision(self, view: SpecView, justification: str, flexibility_id: str | None = None) -> Decision:
        """The workbook decision recording the accepted criterion."""
        if self.mode == "commercial" and view.candidates is None:
            raise InsufficientDataError(
                f"{view.spec.label} has a fixed safety requirement: there is no computed criterion to accept."
            )
        if not justification.strip():
            raise InsufficientDataError("Write a justification (the draft can be edited, not left empty).")
        spec = view.spec
        inputs: dict[str, Any] = {
            "dataset": self.dataset,
            "attribute": spec.id,
            "lot_types": list(self.lot_types),
            "lots": [str(x) for x in view.data.lots["lot_id"]],
            "n": view.data.n,
        }
        if self.mode == "investigational":
            p = self.proposal_for(view)
            if not p.ok:
                raise InsufficientDataError(p.problem or "No criterion to record.")
            method = p.basis if spec.kind == "safety_fixed" else f"normal tolerance interval {p.basis}, exact k"
            result = {"low": p.low, "high": p.high, "unit": spec.unit, "kind": spec.kind,
                      "next_lot_outside": p.next_lot_outside}
        else:
            c = view.candidates.get(self.candidate)  # type: ignore[union-attr]  # not None: checked at the top
            inputs.update({"candidate": c.key, "k_method": self.method})
            method = c.method
            result = {"low": c.low, "high": c.high, "unit": spec.unit, "k": c.k,
                      **{f"risk_next_{m}": c.risk[m] for m in view.candidates.horizons}}
        return Decision(
            module=self.page_id,
            flexibility_id=flexibility_id or str(MODES[self.mode]["flexibility"]),
            inputs=inputs,
            method=method,
            result=result,
            justification=justification.strip(),
        )


    def all_proposal_decisions(self) -> list[Decision]:
        """Investigational mode: one decision per attribute with a usable proposal, drafted justifications."""
        if self.mode != "investigational":
            raise InsufficientDataError("Recording all proposals is for investigational criteria only.")
        chosen = self.attribute
        decisions = []
        try:
            for _label, attr in self.attribute_options():
                self.attribute = attr
                view = self.compute()
                if not self.proposal_for(view).ok:
                    continue
                flexibility = "CD-SAFETY-ATTRIBUTES" if view.fixed else "CD-RELEASE-PERMISSIVE"
                decisions.append(self.decision(view, self.default_justification(view), flexibility))
        finally:
            self.attribute = chosen
        if not decisions:
            raise InsufficientDataError("No attribute has a usable proposal in this selection of lots.")
        return decisions


def _limits(low: float | None, high: float | None, unit: str) -> str:
    if low is not None and high is not None:
        return f"{low:.4g} to {high:.4g} {unit}"
    if low is not None:
        return f"not less than {low:.4g} {unit}"
    if high is not None:
        return f"not more than {high:.4g} {unit}"
    return "fixed requirement"
