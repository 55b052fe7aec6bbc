"""Pages registry: the home page names planned pages without links."""

from __future__ import annotations

import json
from pathlib import Path

from cgtkit.pages import load_pages, page
from cgtkit.ui.app import PAGE_MODULES

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def _code(path: Path) -> str:
    cells = json.loads(path.read_text())["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")


def test_available_pages_have_notebooks_and_builders() -> None:
    for p in load_pages():
        if p.available:
            assert (NOTEBOOKS / p.notebook).exists(), p.notebook
            assert p.id in PAGE_MODULES
            assert f'open_page("{p.id}")' in _code(NOTEBOOKS / p.notebook)


def test_planned_pages_have_no_notebook() -> None:
    planned = {p.id for p in load_pages() if not p.available}
    assert planned == {"comparability", "process_validation", "stability_samples", "decision_record"}
    assert page("decision_record").voila_url is None


def test_every_notebook_is_thin_and_listed() -> None:
    listed = {p.notebook for p in load_pages() if p.available} | {"00_home.ipynb"}
    assert {nb.name for nb in NOTEBOOKS.glob("*.ipynb")} == listed
    for nb in NOTEBOOKS.glob("*.ipynb"):
        assert len(_code(nb).splitlines()) <= 6, f"{nb.name}: logic belongs in cgtkit, not in cells"
