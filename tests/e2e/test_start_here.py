"""Start here in the browser: changing the stage updates the results; bad input
shows a message and keeps the last valid results."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import app_page_url, assert_clean, open_ready, screenshot

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
