"""The meeting plan: the next FDA meeting for a product and what to ask at it.

:func:`meeting_plan` turns an :class:`~cgtkit.navigator.Assessment` into a
:class:`MeetingPlan`:

* the next meeting (:func:`cgtkit.navigator.next_meeting`), with its PDUFA VII
  timelines from ``data/meetings.yaml`` (when FDA answers the request, when the
  meeting or the written response comes, when the package is due, when the
  preliminary responses arrive);
* one :class:`DraftQuestion` per flexibility in play (status ``applies_now``): the
  question for FDA and the sponsor's proposed position, rendered from the
  catalog's ``question`` templates and the product profile, with the basis of the
  claim behind it. The decision record reuses these as typed data.

>>> from cgtkit.navigator import assess
>>> from cgtkit.profile import ProductProfile
>>> plan = meeting_plan(assess(ProductProfile.build(stage="phase 2")))
>>> plan.meeting.id, plan.meeting.meeting_within_days, plan.meeting.package_days_before
('EOP2', 70, 50)
>>> plan.questions[0].flexibility_id
'GEN-SCOPE-ENGAGE'
"""

from __future__ import annotations

from collections.abc import Mapping

from dataclasses import dataclass
from typing import TYPE_CHECKING

from cgtkit.catalog import Flexibility, MeetingType, load_meeting_types
from cgtkit.navigator import Assessment, Status, next_meeting
from cgtkit.profile import DESIGNATION_LABELS, REPORTING_LABELS, ProductProfile, load_product_types
from cgtkit.vocab import Stage

if TYPE_CHECKING:
    import pandas as pd

NOT_ENTERED = "[not entered]"


@dataclass(frozen=True)
class DraftQuestion:
    """A question for FDA on one flexibility, and the sponsor's proposed position."""

    flexibility_id: str
    title: str
    question: str
    position: str
    basis: str
    status: Status


@dataclass(frozen=True)
class TimingStep:
    """One step of the meeting timeline, in calendar days (``None`` when it does not apply)."""

    step: str
    when: str
    days: int | None


@dataclass(frozen=True)
class MeetingPlan:
    """The next FDA meeting for a product, its timelines, and the draft questions for it."""

    profile: ProductProfile
    meeting: MeetingType
    why: str
    questions: tuple[DraftQuestion, ...]
    later: tuple[MeetingType, ...]

    @property
    def title(self) -> str:
        return self.meeting.name

    def timing(self) -> tuple[TimingStep, ...]:
        """Request, FDA's answer to it, package, preliminary responses, meeting or written response."""
        m = self.meeting
        if not m.formal:
            return (TimingStep("How", m.when, None),)
        within = m.meeting_within_days
        return (
            TimingStep("When to request it", f"{m.when} Request it at least {within} days before you need the "
                                             "answer.", None),
            TimingStep("FDA's decision on the request", f"within {m.request_response_days} days of receiving it",
                       m.request_response_days),
            TimingStep("Meeting held, or written response sent (PDUFA timeline)",
                       f"within {within} days of FDA receiving the request", within),
            TimingStep("Meeting package due", m.package_text(), m.package_days_before),
            TimingStep("FDA's preliminary responses", f"at least {m.preliminary_days_before} days before the meeting",
                       m.preliminary_days_before),
        )

    def timing_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame([{"step": t.step, "when": t.when, "days": t.days} for t in self.timing()],
                            columns=["step", "when", "days"])

    def to_frame(self) -> pd.DataFrame:
        """One row per draft question: flexibility_id, title, question, position, basis."""
        import pandas as pd

        columns = ["flexibility_id", "title", "question", "position", "basis"]
        return pd.DataFrame([{c: getattr(q, c) for c in columns} for q in self.questions], columns=columns)


def _per_lot(value: int | None, one: str, many: str) -> str:
    """"1 dose per lot", "6 doses per lot", or "doses per lot [not entered]"."""
    if value is None:
        return f"{many} per lot {NOT_ENTERED}"
    return f"{value} {one if value == 1 else many} per lot"


def question_fields(p: ProductProfile) -> dict[str, str]:
    """The profile facts the catalog's question templates may use (:data:`cgtkit.catalog.QUESTION_FIELDS`)."""
    from cgtkit.navigator import _lots  # the one phrase for the lots made

    types = load_product_types()
    designation = {
        "none": "no expedited designation",
        "rmat": "the RMAT designation",
        "breakthrough": "the breakthrough therapy designation",
        "both": "the RMAT and breakthrough therapy designations",
    }[p.designation]
    if p.accelerated_approval:
        designation += ", with accelerated approval planned"
    category, assumed = p.reporting
    return {
        "product": p.name,
        "stage": p.stage.value if isinstance(p.stage, Stage) else str(p.stage),
        "modality": types[p.modality].label if p.modality in types else p.modality,
        "lots_total": str(p.lots_made.total),
        "lots_detail": _lots(p),
        "clinical_lots": str(p.lots_made.clinical),
        "ppq_lots": str(p.lots_made.ppq),
        "commercial_lots": str(p.lots_made.commercial),
        "shelf_life_days": f"{p.shelf_life_days:g}",
        "doses_per_lot": _per_lot(p.doses_per_lot, "dose", "doses"),
        "containers_per_lot": _per_lot(p.final_containers_per_lot, "final container", "final containers"),
        "lots_per_year": str(p.lots_per_year),
        "change": p.change_description.strip() or "no change planned",
        "change_kind": p.planned_change,
        "reporting": REPORTING_LABELS[category] + (" (assumed)" if assumed and category != "not_set" else ""),
        "designation": designation if p.designation in DESIGNATION_LABELS else p.designation,
        "population": str(p.patient_population),
    }


def draft_question(p: ProductProfile, f: Flexibility, status: Status = "applies_now",
                   facts: Mapping[str, str] | None = None) -> DraftQuestion:
    """The catalog's question for ``f``, filled in for ``p``; ``facts`` (a decision's
    :meth:`~cgtkit.decisions.DecisionBase.question_facts`) take the place of the profile's."""
    fields = {**question_fields(p), **(facts or {})}
    return DraftQuestion(
        flexibility_id=f.id,
        title=f.title,
        question=" ".join(f.question.ask.format(**fields).split()),
        position=" ".join(f.question.position.format(**fields).split()),
        basis=f.basis,
        status=status,
    )


def _later(p: ProductProfile, next_id: str) -> tuple[MeetingType, ...]:
    """The milestone meetings after the next one, in order (none after approval)."""
    meetings = load_meeting_types()
    if p.approved:
        return ()
    if p.stage == Stage.BLA:
        return ()
    order = ["pre-IND", "EOP1", "EOP2", "pre-BLA", "BLA-review"]
    if p.pivotal_study:
        order = ["pre-BLA", "BLA-review"]
    elif p.stage != Stage.PRE_IND:
        order = order[1:]
    if next_id in order:
        order = order[order.index(next_id) + 1:]
    ahead = []
    for mid in order:
        m = meetings[mid]
        if mid == "EOP1" and p.stage_index > Stage.PHASE_1_2.index:
            continue
        if max(Stage(s).index for s in m.stages) >= p.stage_index:
            ahead.append(m)
    return tuple(ahead)


def meeting_plan(assessment: Assessment) -> MeetingPlan:
    """The next meeting for the assessed product, its timelines, and a draft question per flexibility in play."""
    p = assessment.profile
    meeting_id, why = next_meeting(p)
    questions = tuple(draft_question(p, it.flexibility, it.status)
                      for it in assessment.items if it.status == "applies_now")
    return MeetingPlan(profile=p, meeting=load_meeting_types()[meeting_id], why=why, questions=questions,
                       later=_later(p, meeting_id))
