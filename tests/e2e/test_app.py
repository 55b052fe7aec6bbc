"""The app as a user sees it: one kernel for every page, pages open by URL, nothing of
the code or a traceback shows, nothing is fetched from the internet, and a closed
tab's kernel is shut down."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest

from cgtkit.pages import load_pages

from tests.e2e.conftest import app_page_url, assert_clean, open_ready, screenshot, wait_ready

pytestmark = pytest.mark.e2e

PAGES = ["home", "start_here", "clinical_development", "commercial_specifications"]
NOTEBOOKS = {
    "home": "00_home.ipynb",
    "start_here": "01_start_here.ipynb",
    "clinical_development": "02_clinical_development.ipynb",
    "commercial_specifications": "03_commercial_specifications.ipynb",
}


def ready(page_id: str) -> str:
    return f".cgt-page-{page_id}.cgt-ready"


def kernel_id(page) -> str:  # noqa: ANN001
    """The kernel Voila started for this browser page (from its page config)."""
    return json.loads(page.inner_text("#jupyter-config-data"))["kernelId"]


def kernel_alive(app_url: str, kid: str) -> bool:
    try:
        urllib.request.urlopen(f"{app_url}/api/kernels/{kid}", timeout=5)  # noqa: S310 - local server
        return True
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return False
        raise


def test_root_opens_the_app_on_home(page, app_url: str) -> None:  # noqa: ANN001
    open_ready(page, app_url + "/", ready("home"))
    assert "/voila/render/app.ipynb" in page.url
    assert_clean(page)
    text = page.inner_text(".cgt-page-home")
    for p in load_pages():
        if p.id == "home":
            continue
        assert p.title in text
        links = page.locator(f".cgt-page-home a:has-text('{p.title}')").count()
        if p.available:
            assert links >= 1, f"{p.title} is built: the home page links it"
        else:
            assert links == 0, f"{p.title} is planned: named, not linked"
    screenshot(page, "home")


def test_every_page_in_one_kernel_and_back(page, app_url: str) -> None:  # noqa: ANN001
    open_ready(page, app_page_url(app_url, "home"), ready("home"))
    kid = kernel_id(page)
    page.evaluate("window.__cgtSameDocument = true")  # lost if the browser loads a new page
    for page_id in [*PAGES[1:], "home", "commercial_specifications"]:
        page.click(f".cgt-nav a[data-cgt-page='{page_id}']")
        wait_ready(page, ready(page_id))
        assert page.locator(".cgt-nav .cgt-nav-current").inner_text() == page.locator(
            f".cgt-nav [data-cgt-page='{page_id}']").inner_text()
        assert page.url.endswith(f"?page={page_id}")
        assert page.evaluate("window.__cgtSameDocument === true"), "navigation reloaded the page"
        assert kernel_id(page) == kid
        assert page.locator(".jp-InputArea, .jp-CodeMirrorEditor").count() == 0, "code is visible"
        assert_clean(page)
        screenshot(page, f"page-{page_id}")
    page.go_back()  # the browser's back button returns to the previous page, in the same kernel
    wait_ready(page, ready("home"))
    assert page.evaluate("window.__cgtSameDocument === true")


def test_links_inside_pages_navigate_in_the_app(page, app_url: str) -> None:  # noqa: ANN001
    open_ready(page, app_page_url(app_url, "home"), ready("home"))
    page.evaluate("window.__cgtSameDocument = true")
    page.click(".cgt-page-home a.cgt-page-link:has-text('Start here')")
    wait_ready(page, ready("start_here"))
    page.wait_for_selector(".cgt-flex")
    page.locator(".cgt-flex a[data-cgt-page='clinical_development']").first.click(force=True)
    wait_ready(page, ready("clinical_development"))
    assert page.evaluate("window.__cgtSameDocument === true")


@pytest.mark.parametrize("page_id", PAGES)
def test_page_opens_directly_by_url(page, app_url: str, page_id: str) -> None:  # noqa: ANN001
    open_ready(page, app_page_url(app_url, page_id), ready(page_id))
    assert_clean(page)


@pytest.mark.parametrize("page_id", ["start_here", "commercial_specifications"])
def test_page_notebooks_open_the_app_on_their_page(page, app_url: str, page_id: str) -> None:  # noqa: ANN001
    open_ready(page, f"{app_url}/voila/render/{NOTEBOOKS[page_id]}", ready(page_id))
    page.click(".cgt-nav a[data-cgt-page='home']")
    wait_ready(page, ready("home"))
    assert_clean(page)


def test_nothing_is_fetched_from_the_internet(page, app_url: str) -> None:  # noqa: ANN001
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url))
    open_ready(page, app_page_url(app_url, "start_here"), ready("start_here"))
    page.wait_for_selector(".js-plotly-plot")
    outside = [u for u in seen if not u.startswith((app_url, "data:", "blob:", "ws://127.0.0.1"))]
    assert outside == []
    # the icons come from Voila's own bundle: the button icon has a Font Awesome glyph
    family = page.evaluate(
        "getComputedStyle(document.querySelector('.fa'), '::before').fontFamily")
    assert "Font Awesome" in family


def test_closed_tab_kernel_is_shut_down(browser, app_url: str) -> None:  # noqa: ANN001
    """Voila's shutdown-on-close request is accepted (voila#1458 worked around): the kernel
    stops within a minute, long before the idle culler (15 minutes) would."""
    context = browser.new_context()
    pg = context.new_page()
    open_ready(pg, app_page_url(app_url, "home"), ready("home"))
    kid = kernel_id(pg)
    assert kernel_alive(app_url, kid)
    pg.close(run_before_unload=True)
    deadline = time.monotonic() + 60
    while kernel_alive(app_url, kid) and time.monotonic() < deadline:
        time.sleep(1)
    context.close()
    assert not kernel_alive(app_url, kid), "the closed tab's kernel is still running"


def _choose_file(page, path) -> None:  # noqa: ANN001
    """ipywidgets 8 keeps the file input out of the DOM: answer the file chooser it opens."""
    with page.expect_file_chooser() as chooser:
        page.click(".cgt-upload-lots")
    chooser.value.set_files(str(path))


def test_upload_lot_data_on_home_reaches_other_pages(page, app_url: str, tmp_path) -> None:  # noqa: ANN001
    open_ready(page, app_page_url(app_url, "commercial_specifications"), ready("commercial_specifications"))
    page.click(".cgt-nav a[data-cgt-page='home']")
    wait_ready(page, ready("home"))
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
    good.write_text(bad.read_text().replace("ninety", "90.2") + "Z3,viability,91.0,%,clinical,2025-03-02\n")
    _choose_file(page, good)
    page.wait_for_selector(".cgt-msg-success:has-text('good_lots')")
    assert "good_lots" in page.inner_text(".cgt-workbook-summary")
    assert "Traceback" not in page.inner_text("body")
    # the page built before the upload follows the workbook when shown again
    page.click(".cgt-nav a[data-cgt-page='commercial_specifications']")
    wait_ready(page, ready("commercial_specifications"))
    options = page.locator(".cgt-dataset select option").all_inner_texts()
    assert "good_lots" in options


def test_home_follows_a_change_made_in_another_tab(browser, app_url: str, tmp_path) -> None:  # noqa: ANN001
    first = browser.new_context().new_page()
    open_ready(first, app_page_url(app_url, "home"), ready("home"))
    second = browser.new_context().new_page()
    open_ready(second, app_page_url(app_url, "home"), ready("home"))
    data = tmp_path / "other tab.csv"
    data.write_text(
        "lot_id,attribute,value,unit,lot_type,manufacture_date\n"
        "T1,viability,88.1,%,clinical,2025-01-02\nT2,viability,90.2,%,clinical,2025-02-02\n"
    )
    _choose_file(second, data)
    second.wait_for_selector(".cgt-msg-success:has-text('other_tab')")
    assert "other_tab" not in first.inner_text(".cgt-workbook-summary")
    first.bring_to_front()
    first.evaluate("window.dispatchEvent(new Event('focus'))")  # the user returns to the first tab
    first.wait_for_selector(".cgt-workbook-summary:has-text('other_tab')")
    for pg in (first, second):
        pg.context.close()
