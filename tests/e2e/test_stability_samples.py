"""The Stability and samples page in the browser (issue #20): a shelf life from the CAR-T stability example,
the sample and release-time budget of the example CAR-T lot, both accepted into the workbook; bad inputs keep
the previous results with a message in their own section."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import app_page_url, assert_clean, open_ready, screenshot

pytestmark = pytest.mark.e2e


def test_shelf_life_and_sample_budget(page, app_url: str) -> None:  # noqa: ANN001
    open_ready(page, app_page_url(app_url, "stability_samples"), ".cgt-page-stability_samples.cgt-ready")
    # section 1: no commercial criterion accepted yet, so the limit is asked for (a message, not an error)
    page.wait_for_selector(".cgt-stability-status .cgt-msg-info:has-text('Enter the lower limit in %')")
    page.fill(".cgt-lower-limit input", "80")
    page.press(".cgt-lower-limit input", "Enter")
    page.wait_for_selector(".cgt-stab-summary:has-text('12.9 months')")
    summary = page.inner_text(".cgt-stab-summary")
    assert "separate line per lot" in summary and "lot CT25-005 governing" in summary
    page.wait_for_selector(".cgt-pool:has-text('intercepts')")
    page.wait_for_selector(".cgt-claim-verdict:has-text('supported')")
    expect(page.locator(".cgt-claim input")).to_have_value("12")
    page.wait_for_selector(".cgt-stab-figure .js-plotly-plot")
    page.click(".cgt-stab-panel .cgt-accept button, .cgt-stab-panel button.cgt-accept")
    page.wait_for_selector(".cgt-stab-panel .cgt-msg-success:has-text('Recorded in the workbook')")
    # section 2: the example CAR-T lot under conventional and alternative methods
    page.wait_for_selector(".cgt-comparison:has-text('94.7% of the lot')")
    comparison = page.inner_text(".cgt-comparison")
    assert "94.7% of the lot" in comparison and "39.1% of the lot" in comparison and "28.2 days" in comparison
    page.wait_for_selector(".cgt-budget-figure .js-plotly-plot")
    page.wait_for_selector(".cgt-timeline-figure .js-plotly-plot")
    page.click(".cgt-samples-panel .cgt-accept button, .cgt-samples-panel button.cgt-accept")
    page.wait_for_selector(".cgt-samples-panel .cgt-msg-success:has-text('Recorded in the workbook')")
    assert "Testing plan: Alternative methods" in page.inner_text(".cgt-samples-panel .cgt-decisions")
    assert_clean(page)
    screenshot(page, "stability_samples")
    # a titer-like attribute: log scale, and a claim Q1E's allowance for frozen storage does not support
    page.select_option(".cgt-stab-attribute select", label="Potency (IFN-γ release)")
    page.wait_for_selector(".cgt-stability-status .cgt-msg-info:has-text('Enter the lower limit')")
    page.fill(".cgt-lower-limit input", "500")
    page.press(".cgt-lower-limit input", "Enter")
    page.wait_for_selector(".cgt-stab-summary:has-text('capped by the Q1E extrapolation allowance')")
    page.fill(".cgt-claim input", "36")
    page.press(".cgt-claim input", "Enter")
    page.wait_for_selector(".cgt-claim-verdict:has-text('not supported'):has-text('for discussion with FDA')")
    # bad inputs: a message in their own section, the previous results stay
    page.fill(".cgt-volume input", "-150")
    page.press(".cgt-volume input", "Enter")
    page.wait_for_selector(".cgt-samples-status .cgt-msg-error:has-text('got -150')")
    assert "94.7% of the lot" in page.inner_text(".cgt-comparison")
    page.fill(".cgt-lower-limit input", "")
    page.press(".cgt-lower-limit input", "Enter")
    page.wait_for_selector(".cgt-stability-status .cgt-msg-error:has-text('previous estimate')")
    assert "capped by the Q1E extrapolation allowance" in page.inner_text(".cgt-stab-summary")
    screenshot(page, "stability_samples_problems")
    page.fill(".cgt-volume input", "150")
    page.press(".cgt-volume input", "Enter")
    page.wait_for_selector(".cgt-samples-status .cgt-msg-error", state="detached")
    # another data set starts with all its lots ticked; one lot alone has no poolability test and is too few
    page.select_option(".cgt-stab-dataset select", label="aav_stability")
    page.wait_for_function("document.querySelectorAll('.cgt-stab-lots input:checked').length === 3")
    page.fill(".cgt-upper-limit input", "1e14")
    page.press(".cgt-upper-limit input", "Enter")
    page.fill(".cgt-lower-limit input", "1e12")
    page.press(".cgt-lower-limit input", "Enter")
    page.wait_for_selector(".cgt-stab-summary:has-text('3 lots')")
    for lot in ("AV24-03", "AV25-03"):
        page.click(f".cgt-stab-lots label:has-text('{lot}') input")
    page.wait_for_selector(".cgt-stab-summary:has-text('one lot: a single regression line; no poolability test')")
    assert "One lot is too few for an ICH Q1E shelf-life claim" in page.inner_text(".cgt-stab-summary")
    assert_clean(page)
    screenshot(page, "stability_samples_one_lot")
