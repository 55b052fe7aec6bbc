"""The Comparability page in the browser: describe the change, compare the AAV example's v1 and v2
lots, see the verdicts and the power statement, record the conclusion (issue #18)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import app_page_url, assert_clean, open_ready, screenshot

pytestmark = pytest.mark.e2e


def test_compare_a_change_and_record_the_conclusion(page, app_url: str) -> None:  # noqa: ANN001
    open_ready(page, app_page_url(app_url, "comparability"), ".cgt-page-comparability.cgt-ready")
    page.wait_for_selector(".cgt-verdicts")
    assert "Describe the change first" in page.inner_text(".cgt-plan")
    page.select_option(".cgt-dataset select", label="aav_lots")
    page.wait_for_selector(".cgt-verdicts:has-text('Vector genome titer')")
    page.get_by_label("Scale-up or scale-out").check()
    page.wait_for_selector(".cgt-plan:has-text('Class of the change: moderate')")
    verdicts = page.inner_text(".cgt-verdicts").lower()
    assert "comparable" in verdicts and "not shown" in verdicts  # both outcomes in the example data
    assert "censored" in verdicts  # residual host-cell DNA: "<10" results are never tested silently
    page.select_option(".cgt-rank-residual_hcdna select", label="low: graphical")
    page.wait_for_selector(".cgt-verdicts:has-text('graphical comparison')")
    assert "With your 8 lots per side" in page.inner_text(".cgt-power") and "only 15%" in page.inner_text(".cgt-power")
    page.wait_for_selector(".js-plotly-plot")
    page.click(".cgt-accept button, button.cgt-accept")
    page.wait_for_selector(".cgt-msg-success:has-text('Recorded in the workbook')")
    assert "Decisions recorded on this page: 1" in page.inner_text(".cgt-decisions")
    assert_clean(page)
    screenshot(page, "comparability")
    # the same before and after: a clear message, the verdicts stay
    page.select_option(".cgt-pre select", label="v2")
    page.wait_for_selector(".cgt-msg-error:has-text('different process versions')")
    assert "Vector genome titer" in page.inner_text(".cgt-verdicts")


def test_what_was_entered_is_there_after_a_reload(page, app_url: str) -> None:  # noqa: ANN001
    """Nothing entered is lost: the change described, its kind and the ranks come back after a reload."""
    url = app_page_url(app_url, "comparability")
    open_ready(page, url, ".cgt-page-comparability.cgt-ready")
    page.select_option(".cgt-dataset select", label="aav_lots")
    page.wait_for_selector(".cgt-verdicts:has-text('Vector genome titer')")
    page.get_by_label("Scale-up or scale-out").check()
    page.wait_for_selector(".cgt-plan:has-text('Class of the change')")
    description = page.get_by_placeholder("What changes, in your words")
    description.fill("200 L bioreactor in place of 50 L")
    description.blur()
    page.select_option(".cgt-rank-residual_hcdna select", label="low: graphical")
    page.wait_for_selector(".cgt-verdicts:has-text('graphical comparison')")
    page.wait_for_timeout(500)  # the last change reaches the kernel
    page.reload()
    page.wait_for_selector(".cgt-page-comparability.cgt-ready")
    page.wait_for_selector(".cgt-verdicts:has-text('graphical comparison')")
    assert page.get_by_placeholder("What changes, in your words").input_value() == "200 L bioreactor in place of 50 L"
    assert page.get_by_label("Scale-up or scale-out").is_checked()
    assert page.locator(".cgt-dataset select option:checked").inner_text() == "aav_lots"
    assert page.locator(".cgt-rank-residual_hcdna select option:checked").inner_text().replace("\xa0", " ") == "low: graphical"
    assert_clean(page)
    screenshot(page, "comparability-after-reload")
