"""The Process validation page in the browser: give the AAV example's relative potency a specification, see the
capability, the approaches side by side, the number the data support and the heat map, accept the number of
PPQ lots; answer the concurrent-release questions, see the route with its conditions, accept it (issue #19)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import app_page_url, assert_clean, open_ready, screenshot

pytestmark = pytest.mark.e2e


def _limit(page, which: str, value: str) -> None:  # noqa: ANN001
    page.fill(f".cgt-{which} input", value)
    page.press(f".cgt-{which} input", "Enter")


def test_justify_the_ppq_lots_and_plan_their_release(page, app_url: str) -> None:  # noqa: ANN001
    open_ready(page, app_page_url(app_url, "process_validation"), ".cgt-page-process_validation.cgt-ready")
    page.wait_for_selector(".cgt-msg-info:has-text('once Viability has a specification')")
    page.select_option(".cgt-dataset select", label="aav_lots")
    page.select_option(".cgt-attribute select", label="Relative potency")
    page.wait_for_selector(".cgt-msg-info:has-text('once Relative potency has a specification')")
    _limit(page, "lower", "50")
    _limit(page, "upper", "150")
    page.wait_for_selector(".cgt-approaches:has-text('Success run')")
    approaches = page.inner_text(".cgt-approaches")
    for text in ("Success run (95% reliability)", "Capability (Ppk > 1.00)", "Expected coverage of the range (90%)",
                 "Tolerance interval inside spec (99%/95%)", "Residual risk (your assessment)",
                 "Probability that all 2 planned lots pass"):
        assert text in approaches
    assert "59" in approaches and "19" in approaches  # success run and expected coverage, PPQ lots alone
    assert "no: for comparison" in approaches  # those two are not counted
    assert "generalized confidence interval" in page.inner_text(".cgt-capability")
    assert "The data support the 2 lots planned" in page.inner_text(".cgt-recommendation")
    assert "Number of PPQ lots: 2." in page.inner_text(".cgt-protocol")
    page.wait_for_function("document.querySelectorAll('.cgt-page-process_validation .js-plotly-plot').length >= 3")
    assert "probability that all 2 PPQ lots pass" in page.inner_text(".cgt-map-note").lower() or \
        "all 2 PPQ lots pass" in page.inner_text(".cgt-map-note")
    page.click(".cgt-lot-panel .cgt-accept button, .cgt-lot-panel button.cgt-accept")
    page.wait_for_selector(".cgt-lot-panel .cgt-msg-success:has-text('Recorded in the workbook')")
    # development lots not counted: 6 lots needed, 2 planned; the protocol text says so and claims no justification
    page.click(".cgt-count-development input")
    page.wait_for_selector(".cgt-protocol:has-text('not supported by the data')")
    protocol = page.inner_text(".cgt-protocol")
    assert "justified" not in protocol and "The options: (1) plan at least 6 lots" in protocol
    screenshot(page, "process_validation_unsupported")
    page.click(".cgt-count-development input")
    page.wait_for_selector(".cgt-protocol:has-text('Number of PPQ lots: 2.')")
    # the planner: a phase 3 product, PPQ lots for the pivotal study
    page.select_option(".cgt-q-stage select", label="phase 3")
    page.click(".cgt-q-meets_ind_criteria button:has-text('yes')")
    page.click(".cgt-q-protocol_provides button:has-text('yes')")
    page.fill(".cgt-q-steps textarea", "6-month PPQ stability time point")
    page.press(".cgt-q-steps textarea", "Tab")
    page.wait_for_selector(".cgt-route:has-text('Route: Clinical use under the IND')")
    # the example profile says phase 1: the answer is kept, with a warning naming the profile's field
    assert "whose 'Stage' is phase 1" in page.inner_text(".cgt-profile-conflicts")
    page.wait_for_selector(".cgt-route:has-text('6-month PPQ stability time point')")
    assert "Documentation to keep" in page.inner_text(".cgt-route-box")
    commercial = page.inner_text(".cgt-conditions-commercial_concurrent_release")
    assert "unmet" in commercial and "Regulation" in commercial  # the BLA is not approved; 601.12(b) cited
    page.click(".cgt-release-panel .cgt-accept button, .cgt-release-panel button.cgt-accept")
    page.wait_for_selector(".cgt-release-panel .cgt-msg-success:has-text('PV-PPQ-CLINICAL-USE')")
    assert_clean(page)
    screenshot(page, "process_validation")
    # a lower limit above the upper one: a clear message, the results stay
    _limit(page, "lower", "200")
    page.wait_for_selector(".cgt-msg-error:has-text('above the upper limit')")
    assert "Success run" in page.inner_text(".cgt-approaches")
