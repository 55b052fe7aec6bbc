"""The workbook on the home page, in the browser: manage your data sets, download in one click,
and nothing replaced without asking."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import app_page_url, assert_clean, open_ready, screenshot

pytestmark = pytest.mark.e2e

LOTS = (
    "lot_id,attribute,value,unit,lot_type,manufacture_date\n"
    "E1,viability,88.1,%,clinical,2025-01-02\nE2,viability,90.2,%,clinical,2025-02-02\n"
    "E3,viability,91.0,%,clinical,2025-03-02\n"
)


def _home(page, app_url: str) -> None:  # noqa: ANN001
    open_ready(page, app_page_url(app_url, "home"), ".cgt-page-home.cgt-ready")


def _choose(page, selector: str, path) -> None:  # noqa: ANN001
    with page.expect_file_chooser() as chooser:
        page.click(selector)
    chooser.value.set_files(str(path))


def test_rename_replace_and_remove_a_data_set(page, app_url: str, tmp_path) -> None:  # noqa: ANN001
    _home(page, app_url)
    lots = tmp_path / "e2e lots.csv"
    lots.write_text(LOTS)
    _choose(page, ".cgt-upload-lots", lots)
    page.wait_for_selector(".cgt-msg-success:has-text('e2e_lots')")
    page.select_option(".cgt-dataset-choice select", "e2e_lots")
    page.fill(".cgt-new-name input", "trial lots")
    page.click(".cgt-rename-dataset")
    page.wait_for_selector(".cgt-msg-success:has-text(\"is now called 'trial lots'\")")
    assert "trial lots" in page.inner_text(".cgt-workbook-summary")
    corrected = tmp_path / "corrected.csv"
    corrected.write_text(LOTS + "E4,viability,89.5,%,clinical,2025-04-02\n")
    _choose(page, ".cgt-replace-dataset", corrected)
    page.wait_for_selector(".cgt-msg:has-text(\"Replaced data set 'trial lots'\")")
    assert "upload:corrected.csv" in page.inner_text(".cgt-workbook-summary")
    page.click(".cgt-remove-dataset")
    page.wait_for_selector(".cgt-msg-warning:has-text(\"Remove data set 'trial lots'\")")
    screenshot(page, "home-remove-confirm")
    page.click(".cgt-confirm-cancel >> visible=true")  # declined: kept
    assert "trial lots" in page.inner_text(".cgt-workbook-summary")
    page.click(".cgt-remove-dataset")
    page.click(".cgt-confirm-yes >> visible=true")
    page.wait_for_selector(".cgt-msg-success:has-text(\"'trial lots' was removed\")")
    assert "trial lots" not in page.inner_text(".cgt-workbook-summary")
    assert_clean(page)


def test_download_the_workbook_in_one_click(page, app_url: str) -> None:  # noqa: ANN001
    _home(page, app_url)
    with page.expect_download() as download:
        page.click("button.cgt-download-button")
    saved = download.value
    assert saved.suggested_filename.startswith("cgtkit-") and saved.suggested_filename.endswith(".json")
    workbook = json.loads(open(saved.path(), encoding="utf-8").read())  # noqa: SIM115, PTH123
    assert "car_t_lots" in workbook["datasets"] and workbook["schema_version"] >= 3
    page.wait_for_selector(".cgt-msg-success:has-text('Saved as')")


def test_declining_the_example_profile_keeps_the_profile(page, app_url: str) -> None:  # noqa: ANN001
    open_ready(page, app_page_url(app_url, "start_here"), ".cgt-page-start_here.cgt-ready")
    page.select_option(".cgt-stage select", "phase 2")
    page.wait_for_selector(".cgt-summary:has-text('stage phase 2')")
    page.click(".cgt-profile-form button:has-text('Example profile')")
    page.wait_for_selector(".cgt-msg-warning:has-text('example CAR-T profile')")
    page.click(".cgt-confirm-cancel >> visible=true")
    page.wait_for_timeout(500)
    assert page.input_value(".cgt-stage select") == "phase 2"
    assert "stage phase 2" in page.inner_text(".cgt-summary")
