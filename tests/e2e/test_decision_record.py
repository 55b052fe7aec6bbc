"""The decision record in the browser (issue #21): decisions taken on two module pages reach the record;
each format downloads in one click and holds them with their numbers; the app restarted on the same
workbook file shows everything again; the HTML report works offline with its figures; the Word file
opens with python-docx and holds every section."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from cgtkit.decisions import limits_text
from cgtkit.session import AuditEntry
from tests.e2e.conftest import ARTIFACTS, app_page_url, assert_clean, open_ready, screenshot, serve

pytestmark = pytest.mark.e2e

SECTIONS = ("1. Product and stage", "2. Purpose of the meeting", "Clinical development", "Commercial specifications",
            "Appendix A. Data sets", "Appendix B. Methods", "Appendix C. Audit")
READY = ".cgt-page-decision_record.cgt-ready"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("record")


def _app(workdir: Path, run: str):  # noqa: ANN202
    """The app on this module's own workbook file (so it can be restarted on it)."""
    env = dict(os.environ, CGTKIT_WORKBOOK=str(workdir / "workbook.json"))
    env.pop("CGTKIT_STRICT", None)
    return serve(["cgtkit.app"], env, workdir / f"voila-{run}.log", "/")


def _download(page, selector: str, target: Path) -> Path:  # noqa: ANN001
    with page.expect_download() as download:
        page.click(f"{selector} button")
    download.value.save_as(target)
    return target


@pytest.fixture(scope="module")
def first_run(browser, workdir: Path) -> Iterator[dict]:  # noqa: ANN001
    """Decide on two pages, then download the workbook and every format of the record."""
    files: dict = {}
    with _app(workdir, "first") as url:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        page = context.new_page()
        page.set_default_timeout(90_000)
        open_ready(page, app_page_url(url, "clinical_development"), ".cgt-page-clinical_development.cgt-ready")
        page.wait_for_selector(".cgt-proposals")
        page.click(".cgt-accept-all")
        page.wait_for_selector(".cgt-msg-success:has-text('investigational criteria in the workbook')")
        page.click(".cgt-nav a[data-cgt-page='commercial_specifications']")
        page.wait_for_selector(".cgt-page-commercial_specifications.cgt-ready .cgt-candidates")
        page.click(".cgt-page-commercial_specifications .cgt-accept button, .cgt-page-commercial_specifications button.cgt-accept")
        page.wait_for_selector(".cgt-msg-success:has-text('Recorded in the workbook')")
        page.click(".cgt-nav a[data-cgt-page='decision_record']")
        page.wait_for_selector(f"{READY} .cgt-record-preview:has-text('Proposal from the Commercial specifications page')")
        assert "Proposal from the Clinical development page" in page.inner_text(".cgt-record-preview")
        assert "The audit log is intact" in page.inner_text(".cgt-audit")
        # a question reworded before export
        page.fill(".cgt-position-CD-RELEASE-PERMISSIVE textarea", "Our position, in our own words, for the EOP1 meeting.")
        page.click(".cgt-save-questions")
        page.wait_for_selector(".cgt-msg-success:has-text('1 question(s) in your wording')")
        page.fill(".cgt-save-name input", "RX-401 before EOP1")
        files["workbook"] = _download(page, ".cgt-save-as", workdir / "saved.json")
        for fmt in ("html", "md", "docx", "xlsx"):
            files[fmt] = _download(page, f".cgt-download-{fmt}", workdir / f"record.{fmt}")
            page.wait_for_selector(f".cgt-msg-success:has-text('.{fmt} in your browser')")
        page.click(".cgt-verify")
        page.wait_for_selector(".cgt-msg-success:has-text('Verified:')")
        assert_clean(page)
        screenshot(page, "decision_record")
        context.close()
    yield files


def test_each_download_holds_the_two_pages_decisions_and_their_numbers(first_run: dict) -> None:
    from docx import Document
    from openpyxl import load_workbook

    workbook = json.loads(first_run["workbook"].read_text(encoding="utf-8"))
    assert first_run["workbook"].name == "saved.json" and workbook["schema_version"] == 5
    by_page = {d["page"]: d for d in workbook["decisions"]}
    clinical, commercial = by_page["clinical_development"], by_page["commercial_specifications"]
    viability = next(c for c in clinical["criteria"] if c["attribute"] == "viability")
    numbers = [limits_text(commercial["low"], commercial["high"], commercial["unit"]),
               limits_text(viability["low"], viability["high"], viability["unit"])]
    head = workbook["audit"][-1]
    doc = Document(str(first_run["docx"]))
    texts = {
        "html": first_run["html"].read_text(encoding="utf-8"),
        "md": first_run["md"].read_text(encoding="utf-8"),
        "docx": "\n".join([p.text for p in doc.paragraphs]
                          + [c.text for t in doc.tables for r in t.rows for c in r.cells]),
        "xlsx": "\n".join(str(c.value) for r in load_workbook(first_run["xlsx"]).active.iter_rows() for c in r),
    }
    for fmt, text in texts.items():
        for needle in (clinical["id"], commercial["id"], *numbers):
            assert needle in text, (fmt, needle)
    for fmt in ("html", "md", "docx"):
        assert "Our position, in our own words, for the EOP1 meeting." in texts[fmt], fmt
        assert head["summary"] in texts[fmt]  # the audit log, to its last entry
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    for section in SECTIONS:
        assert any(section in h for h in headings), section


def test_the_html_report_works_offline_with_its_figures(browser, first_run: dict) -> None:  # noqa: ANN001
    context = browser.new_context(viewport={"width": 1100, "height": 900}, offline=True)
    fetched: list[str] = []

    def block(route) -> None:  # noqa: ANN001
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            fetched.append(route.request.url)
            route.abort()

    context.route("**/*", block)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(first_run["html"].resolve().as_uri())
    page.wait_for_selector("#plot-1 .main-svg")
    plots = page.locator(".cgt-record-plot").count()
    assert plots >= 2 and page.locator(".cgt-record-plot .plot-container").count() == plots
    assert "lower limit" in page.inner_text("#plot-1")
    assert fetched == [] and errors == []
    ARTIFACTS.mkdir(exist_ok=True)
    height = page.evaluate("document.body.scrollHeight")
    page.set_viewport_size({"width": 1100, "height": min(height, 12000)})
    page.screenshot(path=str(ARTIFACTS / "decision_record-report.png"))
    page.locator("#appendix-audit").scroll_into_view_if_needed()
    page.set_viewport_size({"width": 1100, "height": 900})
    page.locator("#appendix-audit").screenshot(path=str(ARTIFACTS / "decision_record-report-audit.png"))
    context.close()


def test_restarting_the_app_shows_the_same_workbook(browser, workdir: Path, first_run: dict) -> None:  # noqa: ANN001
    saved = json.loads(first_run["workbook"].read_text(encoding="utf-8"))
    ids = [d["id"] for d in saved["decisions"]]
    with _app(workdir, "restarted") as url:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(90_000)
        open_ready(page, app_page_url(url, "decision_record"), READY)
        preview = page.inner_text(".cgt-record-preview")
        assert all(i in preview for i in ids)
        assert "Our position, in our own words, for the EOP1 meeting." in page.input_value(
            ".cgt-position-CD-RELEASE-PERMISSIVE textarea")
        head = AuditEntry.model_validate(saved["audit"][-1]).hash
        assert "The audit log is intact" in page.inner_text(".cgt-audit") and head in page.inner_text(".cgt-audit")
        open_ready(page, app_page_url(url, "commercial_specifications"), ".cgt-page-commercial_specifications.cgt-ready")
        assert "Decisions recorded on this page: 1" in page.inner_text(".cgt-decisions")
        assert_clean(page)
        context.close()
    on_disk = json.loads(Path(workdir / "workbook.json").read_text(encoding="utf-8"))
    assert [d["id"] for d in on_disk["decisions"]] == ids and on_disk["audit"][: len(saved["audit"])] == saved["audit"]
