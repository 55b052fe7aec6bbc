"""The app as a user sees it: every page opens clean, links work, and nothing
of the code or a traceback shows."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import assert_clean, open_ready, screenshot, wait_ready

pytestmark = pytest.mark.e2e

PAGES = [
    ("00_home.ipynb", "home"),
    ("01_start_here.ipynb", "start_here"),
    ("02_clinical_development.ipynb", "clinical_development"),
    ("03_commercial_specifications.ipynb", "commercial_specifications"),
]


def open_page(page, url: str, page_id: str) -> None:  # noqa: ANN001
    open_ready(page, url, f".cgt-page-{page_id}.cgt-ready")


def test_root_redirects_to_home(page, app_url: str) -> None:  # noqa: ANN001
    open_page(page, app_url + "/", "home")
    assert page.url.endswith("/voila/render/00_home.ipynb")
    assert "cgtkit" in page.title() or "00_home" in page.title()
    assert_clean(page)
    # planned pages are named, not linked
    text = page.inner_text(".cgt-page-home")
    for planned in ("Comparability", "Process validation", "Stability and samples", "Decision record"):
        assert planned in text
        assert page.locator(f"a:has-text('{planned}')").count() == 0
    screenshot(page, "home")


@pytest.mark.parametrize(("notebook", "page_id"), PAGES)
def test_every_page_opens_clean(page, app_url: str, notebook: str, page_id: str) -> None:  # noqa: ANN001
    open_page(page, f"{app_url}/voila/render/{notebook}", page_id)
    assert_clean(page)
    assert page.locator(".jp-InputArea, .jp-CodeMirrorEditor").count() == 0, "code is visible"
    screenshot(page, f"page-{page_id}")


def test_home_links_lead_to_pages(page, app_url: str) -> None:  # noqa: ANN001
    open_page(page, app_url + "/", "home")
    page.click("a.cgt-page-link:has-text('Start here')")
    wait_ready(page, ".cgt-page-start_here.cgt-ready")
    assert_clean(page)


def _choose_file(page, path) -> None:  # noqa: ANN001
    """ipywidgets 8 keeps the file input out of the DOM: answer the file chooser it opens."""
    with page.expect_file_chooser() as chooser:
        page.click(".cgt-upload-lots")
    chooser.value.set_files(str(path))


def test_upload_lot_data_on_home(page, app_url: str, tmp_path) -> None:  # noqa: ANN001
    open_page(page, app_url + "/", "home")
    bad = tmp_path / "bad lots.csv"
    bad.write_text(
        "lot_id,attribute,value,unit,lot_type,manufacture_date\n"
        "Z1,viability,88.1,%,clinical,2025-01-02\nZ2,viability,ninety,%,clinical,2025-02-02\n"
    )
    _choose_file(page, bad)
    page.wait_for_selector(".cgt-msg-error")
    message = page.inner_text(".cgt-msg-error")
    assert "bad lots.csv" in message and "row 3" in message and "ninety" in message
    screenshot(page, "home-bad-upload")
    good = tmp_path / "good lots.csv"
    good.write_text(bad.read_text().replace("ninety", "90.2"))
    _choose_file(page, good)
    page.wait_for_selector(".cgt-msg-success:has-text('good_lots')")
    assert "good_lots" in page.inner_text(".cgt-workbook-summary")
    assert "Traceback" not in page.inner_text("body")
