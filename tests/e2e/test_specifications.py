"""The specifications pages in the browser: pick an attribute, see candidates and
the replay, accept a criterion into the workbook; safety tests stay fixed."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import app_page_url, assert_clean, open_ready, screenshot

pytestmark = pytest.mark.e2e


def _open(page, app_url: str, page_id: str) -> None:  # noqa: ANN001
    open_ready(page, app_page_url(app_url, page_id), f".cgt-page-{page_id}.cgt-ready")


def test_commercial_candidates_replay_and_accept(page, app_url: str) -> None:  # noqa: ANN001
    _open(page, app_url, "commercial_specifications")
    page.wait_for_selector(".cgt-candidates")
    assert "Tolerance interval 99% coverage / 95% confidence" in page.inner_text(".cgt-candidates")
    page.select_option(".cgt-attribute select", label="Vector copy number (VCN)")
    page.wait_for_selector(".cgt-about:has-text('Vector copy number')")
    assert "log-normal" in page.inner_text(".cgt-about")
    assert "After lots" in page.inner_text(".cgt-replay")
    page.wait_for_selector(".js-plotly-plot")
    page.click(".cgt-accept button, button.cgt-accept")
    page.wait_for_selector(".cgt-msg-success:has-text('Recorded in the workbook')")
    assert "Decisions recorded on this page: 1" in page.inner_text(".cgt-decisions")
    assert_clean(page)
    screenshot(page, "commercial_specifications-vcn")


def test_clinical_safety_attribute_is_fixed(page, app_url: str) -> None:  # noqa: ANN001
    _open(page, app_url, "clinical_development")
    page.wait_for_selector(".cgt-proposals")
    assert "fixed requirement" in page.inner_text(".cgt-proposals")
    page.select_option(".cgt-attribute select", label="Sterility — fixed safety requirement")
    page.wait_for_selector(".cgt-fixed")
    assert "never computes or widens" in page.inner_text(".cgt-fixed")
    assert_clean(page)
    screenshot(page, "clinical_development-sterility")
    page.click(".cgt-accept-all")
    page.wait_for_selector(".cgt-msg-success:has-text('investigational criteria in the workbook')")
    # one decision: the set of criteria for every attribute (typed: InvestigationalCriteriaDecision)
    assert "Decisions recorded on this page: 1 (10 criteria)" in page.inner_text(".cgt-decisions")


def test_too_few_lots_message_keeps_previous_results(page, app_url: str) -> None:  # noqa: ANN001
    _open(page, app_url, "commercial_specifications")
    page.wait_for_selector(".cgt-candidates")
    # lots of type engineering only, on the AAV data: 2 lots -> a message, the old table stays
    page.locator(".cgt-lot-types input[type=checkbox]").nth(0).check()  # engineering
    page.wait_for_timeout(500)
    page.locator(".cgt-lot-types input[type=checkbox]").nth(1).uncheck()  # clinical
    page.wait_for_timeout(500)
    page.locator(".cgt-lot-types input[type=checkbox]").nth(2).uncheck()  # ppq
    page.wait_for_selector(".cgt-spec-table:has-text('3 lots of type engineering')")
    page.select_option(".cgt-dataset select", label="aav_lots")
    page.wait_for_selector(".cgt-msg-error")
    message = page.inner_text(".cgt-msg-error")
    assert "only 2 lot" in message and "previous selection" in message
    assert "3 lots of type engineering" in page.inner_text(".cgt-spec-table")
    assert "Traceback" not in page.inner_text("body")
    screenshot(page, "commercial_specifications-too-few-lots")


def test_a_justification_stays_with_its_attribute_and_accept_all_twice_keeps_one_per_attribute(
        page, app_url: str) -> None:  # noqa: ANN001
    _open(page, app_url, "commercial_specifications")
    page.wait_for_selector(".cgt-candidates")
    page.fill(".cgt-justification textarea", "Written for viability only.")
    page.select_option(".cgt-attribute select", label="CD3+ purity")
    page.wait_for_selector(".cgt-about:has-text('CD3+ purity')")
    page.wait_for_function(
        "document.querySelector('.cgt-justification textarea').value.includes('CD3+ purity')")
    accepted = page.input_value(".cgt-justification textarea")
    assert "CD3+ purity" in accepted and "Written for viability only." not in accepted
    page.click(".cgt-accept button, button.cgt-accept")
    page.wait_for_selector(".cgt-msg-success:has-text('CD3+ purity')")
    page.select_option(".cgt-attribute select", label="Viability")
    page.wait_for_selector(".cgt-about:has-text('Viability')")
    page.wait_for_function(
        "document.querySelector('.cgt-justification textarea').value === 'Written for viability only.'")
    page.click(".cgt-nav a[data-cgt-page='clinical_development']")
    page.wait_for_selector(".cgt-page-clinical_development.cgt-ready .cgt-proposals")
    for _ in range(2):
        page.click(".cgt-accept-all")
        page.wait_for_selector(".cgt-msg-success:has-text('investigational criteria in the workbook')")
    assert "Decisions recorded on this page: 1 (10 criteria)" in page.inner_text(
        ".cgt-page-clinical_development .cgt-decisions")
    assert "replaces" in page.inner_text(".cgt-page-clinical_development .cgt-msg-success")
    assert_clean(page)


def test_process_versions_pool_only_when_ticked(page, app_url: str) -> None:  # noqa: ANN001
    """Issue #15.11: criteria from one process version by default; ticking a second pools with a warning."""
    _open(page, app_url, "commercial_specifications")
    page.wait_for_selector(".cgt-version-note .cgt-msg-info:has-text('v2 only')")
    assert "3 lots of type clinical, ppq" in page.inner_text(".cgt-spec-table")
    page.locator(".cgt-versions input[type=checkbox]").nth(0).check()  # v1
    page.wait_for_selector(".cgt-version-note .cgt-msg-warning:has-text('v1 (24 lots), v2 (3 lots)')")
    page.wait_for_selector(".cgt-spec-table:has-text('27 lots of type clinical, ppq')")
    page.wait_for_selector(".cgt-replay:has-text('v1 to v2 at lot 28')")
    assert_clean(page)
    screenshot(page, "commercial_specifications-versions-pooled")
