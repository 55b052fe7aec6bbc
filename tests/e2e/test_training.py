"""Training cases in the browser: each opens from the home page and from ``?case=``, shows its brief,
works on every page, and leaves the user's own workbook file untouched."""

from __future__ import annotations

from pathlib import Path

import pytest

from cgtkit.training import load_cases
from tests.e2e.conftest import app_page_url, assert_clean, open_ready, screenshot

pytestmark = pytest.mark.e2e

HOME = ".cgt-page-home.cgt-ready"


def _own_workbook(page, app_url: str) -> Path:  # noqa: ANN001
    """Open the app on the user's own workbook and return where it is kept (made on first use)."""
    open_ready(page, app_url + "/voila/render/app.ipynb", HOME)
    path = Path(page.inner_text(".cgt-workbook-path"))
    assert path.name == "workbook.json" and path.exists()
    return path


def test_a_case_link_opens_the_case_with_its_brief_and_leaves_the_own_workbook(page, app_url: str) -> None:  # noqa: ANN001
    own = _own_workbook(page, app_url)
    before = own.read_bytes()
    case = load_cases()["car-t-tight-specification"]
    open_ready(page, app_url + f"/voila/render/app.ipynb?case={case.id}", HOME)
    assert page.inner_text(".cgt-case-title") == case.title
    assert case.paragraphs[0] in page.inner_text(".cgt-case-brief")
    copy = own.parent / "training" / f"{case.id}.json"
    assert page.inner_text(".cgt-case-path") == str(copy) and copy.exists()
    assert page.inner_text(".cgt-workbook-path") == str(copy)
    assert case.profile["name"] in page.inner_text(".cgt-workbook-summary")
    assert_clean(page)
    screenshot(page, "training-case-open")
    # the other pages work on the case: its recorded criterion is on Commercial specifications
    page.click(".cgt-case-tasks a[data-cgt-page='commercial_specifications']")
    page.wait_for_selector(".cgt-page-commercial_specifications.cgt-ready .cgt-decisions")
    assert "Decisions recorded on this page: 1" in page.inner_text(".cgt-decisions")
    assert_clean(page)
    page.click(".cgt-nav a[data-cgt-page='home']")
    page.wait_for_selector(HOME)
    page.click(".cgt-back-to-own")
    page.wait_for_selector(".cgt-msg-success:has-text('Back to your own workbook')")
    assert page.inner_text(".cgt-workbook-path") == str(own)
    assert page.locator(".cgt-case-open").count() == 0
    assert own.read_bytes() == before


def test_every_case_opens_from_the_home_page(page, app_url: str) -> None:  # noqa: ANN001
    own = _own_workbook(page, app_url)
    before = own.read_bytes()
    for case in load_cases().values():
        page.select_option(".cgt-case-choice select", label=case.title)
        page.click(".cgt-open-case")
        page.wait_for_selector(f".cgt-case-title:has-text('{case.title}')")
        assert case.paragraphs[-1] in page.inner_text(".cgt-case-brief"), case.id
        assert page.locator(".cgt-case-tasks li").count() == len(case.tasks), case.id
        page.wait_for_selector(f".cgt-workbook-summary:has-text('{case.profile['name']}')")
        assert_clean(page)
        if case.id == "aav-two-ppq-lots":
            screenshot(page, f"training-{case.id}")
        assert own.read_bytes() == before, case.id


def test_an_unknown_case_says_so_and_opens_the_own_workbook(page, app_url: str) -> None:  # noqa: ANN001
    own = _own_workbook(page, app_url)
    open_ready(page, app_page_url(app_url, "home") + "&case=no-such-case", HOME)
    message = page.inner_text(".cgt-training-panel .cgt-msg-error")
    assert "There is no training case 'no-such-case'" in message and "car-t-end-of-phase-2" in message
    assert page.inner_text(".cgt-workbook-path") == str(own)
