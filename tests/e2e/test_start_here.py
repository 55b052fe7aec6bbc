"""Start here in the browser: changing the stage updates the results; bad input
shows a message and keeps the last valid results; each card says what its claim
rests on; the meeting plan and the "not flexible" section are shown (issue #17)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ARTIFACTS, app_page_url, assert_clean, open_ready, screenshot

pytestmark = pytest.mark.e2e


def _open(page, app_url: str) -> None:  # noqa: ANN001
    open_ready(page, app_page_url(app_url, "start_here"), ".cgt-page-start_here.cgt-ready")
    page.wait_for_selector(".cgt-summary")


def test_changing_stage_updates_results(page, app_url: str) -> None:  # noqa: ANN001
    _open(page, app_url)
    assert_clean(page)
    page.select_option(".cgt-stage select", "phase 1")
    page.wait_for_selector(".cgt-summary:has-text('stage phase 1')")
    page.select_option(".cgt-stage select", "phase 3")
    page.wait_for_selector(".cgt-summary:has-text('stage phase 3')")
    # at phase 3 the BLA specification flexibility applies now; concurrent release never before approval
    spec_card = page.locator(".cgt-flex[data-flexibility='CS-SPEC-FLEX-BLA']")
    assert "Applies now" in spec_card.inner_text()
    concurrent = page.locator(".cgt-flex[data-flexibility='PV-CONCURRENT-RELEASE']")
    assert "Later stage" in concurrent.inner_text()
    page.wait_for_selector(".cgt-msg-success:has-text('Profile saved')")
    assert_clean(page)
    screenshot(page, "start_here-phase3")


def test_pivotal_phase_2_grades_the_meeting_plan_and_what_is_not_flexible(page, app_url: str) -> None:  # noqa: ANN001
    _open(page, app_url)
    page.select_option(".cgt-stage select", "phase 2")
    page.wait_for_selector(".cgt-summary:has-text('stage phase 2')")
    page.locator(".cgt-pivotal input").check()
    page.wait_for_selector(".cgt-summary:has-text('(pivotal study)')")
    # a pivotal phase 2 study plans PPQ now, not "at phase 3"
    ppq = page.locator(".cgt-flex[data-flexibility='PV-PPQ-LOT-NUMBER']")
    assert "Applies now" in ppq.inner_text()
    # the grade is the basis of the claim, per card
    safety = page.locator(".cgt-flex[data-flexibility='CD-SAFETY-ATTRIBUTES']")
    assert "FDA official's remarks" in safety.locator(".cgt-basis").first.inner_text()
    cgmp = page.locator(".cgt-flex[data-flexibility='CD-CGMP-PHASE']")
    assert "Statute or regulation" in cgmp.locator(".cgt-basis").first.inner_text()
    assert cgmp.locator(".cgt-unchecked").count() == 0
    # the meeting plan: next meeting with its PDUFA timeline, and a draft question per flexibility in play
    plan = page.locator(".cgt-meeting-plan")
    plan_text = plan.inner_text()
    assert "Next FDA meeting: a Type C meeting" in plan_text
    assert "within 75 days of FDA receiving the request" in plan_text
    assert plan.locator(".cgt-plan-questions tbody tr").count() >= 5
    assert "BLA readiness" in page.inner_text(".cgt-bla-readiness")
    # what is not flexible, as its own section
    not_flexible = page.inner_text(".cgt-not-flexible")
    for needle in ("Sterility testing of every lot", "Donor eligibility", "21 CFR 610.10", "pre-license inspection"):
        assert needle in not_flexible
    assert "Potency Assurance" in page.inner_text(".cgt-guidance-list")
    assert_clean(page)
    screenshot(page, "start_here-pivotal-phase2")
    page.locator(".cgt-meeting-plan").screenshot(path=str(ARTIFACTS / "start_here-meeting-plan.png"))
    page.locator(".cgt-not-flexible").screenshot(path=str(ARTIFACTS / "start_here-not-flexible.png"))


def test_invalid_profile_shows_message_and_keeps_results(page, app_url: str) -> None:  # noqa: ANN001
    _open(page, app_url)
    before = page.inner_text(".cgt-summary")
    box = page.locator(".cgt-lots-engineering input")
    box.fill("-1")
    box.press("Enter")
    page.wait_for_selector(".cgt-msg-error")
    assert "Engineering lots" in page.inner_text(".cgt-msg-error")
    assert page.inner_text(".cgt-summary") == before
    assert "Traceback" not in page.inner_text("body")
    screenshot(page, "start_here-invalid")
    box.fill("2")
    box.press("Enter")
    page.wait_for_selector(".cgt-msg-success")
