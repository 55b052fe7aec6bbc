"""The meeting plan: the next FDA meeting, its PDUFA VII timelines, and a draft question with the
sponsor's position for each flexibility in play (issue #17, "a meeting plan per product")."""

from __future__ import annotations

import pytest

from cgtkit.catalog import QUESTION_FIELDS, load_catalog
from cgtkit.meeting_plan import NOT_ENTERED, DraftQuestion, MeetingPlan, draft_question, meeting_plan, question_fields
from cgtkit.navigator import assess
from cgtkit.profile import ProductProfile
from tests.unit.test_navigator import PROFILES


def plan_for(key: str, **overrides: object) -> MeetingPlan:
    return meeting_plan(assess(ProductProfile.build(**{**PROFILES[key], **overrides})))


@pytest.mark.parametrize(("key", "meeting", "within", "package"), [
    ("phase1_car_t", "EOP1", 70, "at least 50 days before the meeting"),
    ("seamless_1_2_car_t", "EOP2", 70, "at least 50 days before the meeting"),
    ("car_t_pivotal_phase2_no_ppq", "Type C", 75, "at least 47 days before the meeting"),
    ("rmat_accelerated", "pre-BLA", 60, "at least 30 days before the meeting"),
    ("pre_ind_allogeneic", "pre-IND", 60, "at least 30 days before the meeting"),
    ("post_car_t_closed_system", "Type C", 75, "at least 47 days before the meeting"),
    ("n_of_1_aav", "Type D", 50, "with the meeting request"),
])
def test_next_meeting_and_its_timelines(key: str, meeting: str, within: int, package: str) -> None:
    plan = plan_for(key)
    assert plan.meeting.id == meeting
    assert plan.meeting.meeting_within_days == within
    steps = {t.step: t for t in plan.timing()}
    assert steps["Meeting held, or written response sent (PDUFA timeline)"].days == within
    assert steps["Meeting package due"].when == package
    assert f"at least {within} days before you need the answer" in steps["When to request it"].when
    assert plan.why


def test_end_of_phase_meetings_are_type_b_eop() -> None:
    assert plan_for("phase1_car_t").meeting.pdufa_type == "Type B (EOP)"
    assert plan_for("seamless_1_2_car_t").meeting.pdufa_type == "Type B (EOP)"
    assert plan_for("seamless_1_2_car_t").title == "the end-of-phase 2 meeting (Type B (EOP))"


def test_a_filed_bla_goes_through_the_review_team() -> None:
    plan = plan_for("bla_no_ppq")
    assert plan.meeting.id == "BLA-review" and not plan.meeting.formal
    assert [t.step for t in plan.timing()] == ["How"]
    assert plan.later == ()


def test_later_meetings_follow_the_development_path() -> None:
    assert [m.id for m in plan_for("phase1_car_t").later] == ["EOP2", "pre-BLA", "BLA-review"]
    assert [m.id for m in plan_for("car_t_pivotal_phase2_no_ppq").later] == ["pre-BLA", "BLA-review"]
    assert [m.id for m in plan_for("pre_ind_allogeneic").later] == ["EOP1", "EOP2", "pre-BLA", "BLA-review"]
    assert plan_for("post_aav_specs").later == ()


def test_one_draft_question_per_flexibility_in_play() -> None:
    a = assess(ProductProfile.build(**PROFILES["car_t_pivotal_phase2_no_ppq"]))
    plan = meeting_plan(a)
    in_play = [it.flexibility_id for it in a.items if it.status == "applies_now"]
    assert [q.flexibility_id for q in plan.questions] == in_play
    assert all(isinstance(q, DraftQuestion) and q.question.endswith("?") and q.position for q in plan.questions)
    ppq = next(q for q in plan.questions if q.flexibility_id == "PV-PPQ-LOT-NUMBER")
    assert "44 lots made so far (4 engineering, 40 clinical)" in ppq.question
    assert ppq.basis == "final_guidance" and ppq.status == "applies_now"
    assert "{" not in " ".join(q.question + q.position for q in plan.questions)


def test_questions_name_the_profile_facts_and_say_when_one_is_missing() -> None:
    reserve = load_catalog().get("CS-RESERVE-SAMPLES")
    q = draft_question(ProductProfile.build(**PROFILES["post_car_t_closed_system"]), reserve)
    assert "(doses per lot [not entered], 1 final container per lot, 400 lots a year)" in q.question
    assert NOT_ENTERED == "[not entered]"
    change = draft_question(ProductProfile.build(**PROFILES["phase2_major_transfer"]),
                            load_catalog().get("CD-MINOR-CHANGES"))
    assert "transfer to a CDMO" in change.question and "as major" in change.position


def test_question_fields_fill_every_placeholder() -> None:
    for key in PROFILES:
        assert set(question_fields(ProductProfile.build(**PROFILES[key]))) == QUESTION_FIELDS


def test_frames_for_the_decision_record() -> None:
    plan = plan_for("rmat_accelerated")
    frame = plan.to_frame()
    assert list(frame.columns) == ["flexibility_id", "title", "question", "position", "basis"]
    assert len(frame) == len(plan.questions)
    assert list(plan.timing_frame().columns) == ["step", "when", "days"]
    rmat = frame.set_index("flexibility_id").loc["RP-EXPEDITED-PROGRAMS"]
    assert "the RMAT designation, with accelerated approval planned" in rmat["question"]
