"""A page notebook in JupyterLab: running its one cell opens the app on that page, and the
navigation switches pages inside the output (no reload of Lab, no other notebook opened)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import ROOT, screenshot, serve

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def lab_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("lab")
    env = dict(os.environ, CGTKIT_WORKBOOK=str(work / "workbook.json"), JUPYTER_CONFIG_DIR=str(work / "config"),
               JUPYTER_RUNTIME_DIR=str(work / "runtime"))
    args = ["jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1", "--ServerApp.token=", "--ServerApp.password=",
            f"--ServerApp.root_dir={ROOT}", "--allow-root", "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    with serve(args, env, work / "lab.log", "/api", timeout=90) as url:
        yield url


def test_a_page_notebook_runs_the_app_in_jupyterlab(page, lab_url: str) -> None:  # noqa: ANN001
    page.goto(f"{lab_url}/lab/tree/notebooks/02_clinical_development.ipynb")
    page.wait_for_selector(".jp-Notebook .jp-Cell .jp-InputArea-editor")
    page.wait_for_timeout(2000)  # the kernel connects
    page.click(".jp-Notebook .jp-Cell .jp-InputArea-editor")
    page.keyboard.press("Shift+Enter")
    page.wait_for_selector(".cgt-page-clinical_development.cgt-ready")
    address = page.url
    page.click(".cgt-nav a[data-cgt-page='home']")
    page.wait_for_selector(".cgt-page-home.cgt-ready")
    assert page.url == address, "the link left the notebook"
    output = page.inner_text(".jp-OutputArea")
    assert "Your workbook" in output and "cgtkit INFO" not in output  # no log lines in the notebook
    screenshot(page, "jupyterlab-page-notebook")
