"""Pages registry: one list names each page's module and notebook; planned pages have neither.

Also the one loader of data files (:func:`cgtkit.datafiles.load_model`), on a broken copy of ``data/``.
"""

from __future__ import annotations

import importlib
import json
import shutil
from pathlib import Path

import pytest

from cgtkit.attributes import load_attributes
from cgtkit.catalog import load_catalog
from cgtkit.datafiles import data_dir, load_model
from cgtkit.errors import CatalogError
from cgtkit.pages import _PagesFile, load_pages, page
from cgtkit.profile import load_product_types

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def _code(path: Path) -> str:
    cells = json.loads(path.read_text())["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")


def test_available_pages_have_notebooks_and_builders() -> None:
    for p in load_pages():
        if p.available:
            assert (NOTEBOOKS / p.notebook).exists(), p.notebook
            assert callable(importlib.import_module(p.module).build_page), p.module
            assert f'open_page("{p.id}")' in _code(NOTEBOOKS / p.notebook)
            assert p.href == f"?page={p.id}"


def test_planned_pages_have_no_notebook() -> None:
    planned = {p.id for p in load_pages() if not p.available}
    assert planned <= {"stability_samples", "decision_record"}
    assert all(page(p).href is None for p in planned)
    assert page("decision_record").href == "?page=decision_record"


def test_every_notebook_is_thin_and_listed() -> None:
    listed = {p.notebook for p in load_pages() if p.available} | {"app.ipynb"}
    assert {nb.name for nb in NOTEBOOKS.glob("*.ipynb")} == listed
    for nb in NOTEBOOKS.glob("*.ipynb"):
        assert len(_code(nb).splitlines()) <= 6, f"{nb.name}: logic belongs in cgtkit, not in cells"


def test_every_notebook_opts_into_the_watchdog() -> None:
    for nb in NOTEBOOKS.glob("*.ipynb"):
        assert "cgtkit" in json.loads(nb.read_text())["metadata"], nb.name


def test_a_page_needs_both_module_and_notebook_or_neither() -> None:
    import pytest
    from pydantic import ValidationError

    from cgtkit.pages import Page

    with pytest.raises(ValidationError, match="both module and notebook"):
        Page(id="x", title="X", module="cgtkit.ui.home", notebook=None, summary="")


# -- the one data-file loader (cgtkit.datafiles.load_model), on a copy of data/ ----------

_CACHED = (load_pages, load_product_types, load_catalog, load_attributes)


@pytest.fixture()
def data_copy(tmp_path, monkeypatch) -> Path:
    """A copy of the data files in a temporary folder that ``CGTKIT_DATA_DIR`` points to; caches emptied."""
    copy = tmp_path / "data"
    copy.mkdir()
    for path in data_dir().glob("*.yaml"):
        shutil.copy(path, copy / path.name)
    monkeypatch.setenv("CGTKIT_DATA_DIR", str(copy))
    for loader in _CACHED:
        loader.cache_clear()
    yield copy
    for loader in _CACHED:  # the next test reads the shipped files again
        loader.cache_clear()


def _edit(path: Path, edit) -> dict:  # noqa: ANN001
    """Apply ``edit`` to the parsed file and write it back; returns the file's content before the edit."""
    import copy

    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    before = copy.deepcopy(data)
    edit(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return before


def test_loader_reads_the_copy(data_copy: Path) -> None:
    shipped = {p.id for p in load_pages()}
    _edit(data_copy / "pages.yaml", lambda d: d["pages"][-1].update(title="Renamed in the copy"))
    load_pages.cache_clear()
    assert load_pages()[-1].title == "Renamed in the copy"
    assert {p.id for p in load_pages()} == shipped
    assert load_model("pages.yaml", _PagesFile).pages == list(load_pages())


def test_loader_missing_file(data_copy: Path) -> None:
    (data_copy / "pages.yaml").unlink()
    with pytest.raises(CatalogError) as info:
        load_pages()
    message = str(info.value)
    assert message.startswith("pages.yaml: cannot read ")
    assert str(data_copy / "pages.yaml") in message and "is missing; restore it from the repository" in message


def test_loader_bad_yaml_names_line_and_column(data_copy: Path) -> None:
    (data_copy / "product_types.yaml").write_text("schema_version: 1\nproduct_types: [\n  - id: x\n", encoding="utf-8")
    with pytest.raises(CatalogError, match=r"^product_types\.yaml: not valid YAML at line \d+, column \d+: .*Fix the"):
        load_product_types()


def test_loader_names_file_entry_and_field(data_copy: Path) -> None:
    third = _edit(data_copy / "pages.yaml", lambda d: d["pages"][2].pop("title"))["pages"][2]["id"]
    with pytest.raises(CatalogError) as info:
        load_pages()
    assert str(info.value) == f"pages.yaml, entry 3 (id '{third}'): field 'title': is required; add it."


def test_loader_reports_every_problem_and_duplicate_ids(data_copy: Path) -> None:
    def edit(d: dict) -> None:
        d["product_types"][1]["individualized_default"] = "sometimes"
        d["product_types"][2]["id"] = d["product_types"][0]["id"]

    first, second = (t["id"] for t in _edit(data_copy / "product_types.yaml", edit)["product_types"][:2])
    with pytest.raises(CatalogError) as info:
        load_product_types()
    message = str(info.value)
    assert message.startswith(f"product_types.yaml, entry 2 (id '{second}'): field 'individualized_default': ")
    assert "must be true or false; got 'sometimes'" in message
    load_product_types.cache_clear()
    _edit(data_copy / "product_types.yaml", lambda d: d["product_types"][1].update(individualized_default=False))
    with pytest.raises(CatalogError) as info:
        load_product_types()
    assert str(info.value) == (
        f"product_types.yaml, entry 3 (id '{first}'): field 'id': '{first}' is already used "
        f"by entry 1 (id '{first}'); ids must be unique."
    )


def test_loader_shape_of_the_file(data_copy: Path) -> None:
    (data_copy / "pages.yaml").write_text("- id: home\n", encoding="utf-8")
    with pytest.raises(CatalogError, match=r"^pages\.yaml: the file must be a mapping with the top-level keys "
                                           r"'schema_version' and 'pages'; it holds a list\.$"):
        load_pages()
    (data_copy / "pages.yaml").write_text("schema_version: 2\npages: []\npagez: []\n", encoding="utf-8")
    with pytest.raises(CatalogError, match=r"unknown top-level key 'pagez'.*Remove it or correct its spelling"):
        load_pages()


def test_broken_data_makes_the_data_tests_fail(data_copy: Path) -> None:
    """The tests of the shipped data are not vacuous: on a broken data folder they fail."""
    test_planned_pages_have_no_notebook()  # passes on the intact copy ...
    first = _edit(data_copy / "pages.yaml", lambda d: d["pages"][0].update(module=None))["pages"][0]["id"]
    load_pages.cache_clear()  # (the first page is built: it keeps its notebook, so it is now invalid)
    with pytest.raises(CatalogError, match=rf"^pages\.yaml, entry 1 \(id '{first}'\): give both module and notebook"):
        test_planned_pages_have_no_notebook()  # ... and fails on the broken one


def test_catalog_cross_check_reads_the_data_folder(data_copy: Path) -> None:
    entry = load_catalog().flexibilities[0]
    for loader in _CACHED:
        loader.cache_clear()
    _edit(data_copy / "pages.yaml", lambda d: d.update(pages=[p for p in d["pages"] if p["id"] != entry.page]))
    with pytest.raises(CatalogError, match=rf"^flexibilities\.yaml, entry 1 \(id '{entry.id}'\): "
                                           rf"field 'page': unknown page id '{entry.page}'; use one of"):
        load_catalog()
