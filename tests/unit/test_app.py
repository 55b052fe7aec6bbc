"""The one-kernel app: pages are built on first visit and kept, the URL picks the first page,
pages follow a workbook changed elsewhere, a broken page leaves the app usable, and the
server's culler spares kernels that are still starting."""

from __future__ import annotations

import asyncio
import time

import pytest

from cgtkit.io import load_lots
from cgtkit.session import WorkbookStore
from cgtkit.ui.app import App, requested_page


@pytest.fixture()
def store(tmp_path) -> WorkbookStore:
    return WorkbookStore(tmp_path / "workbook.json")


def _texts(widget) -> str:  # noqa: ANN001
    value = getattr(widget, "value", "")
    parts = [value if isinstance(value, str) else ""]
    for child in getattr(widget, "children", ()):
        parts.append(_texts(child))
    return " ".join(parts)


def test_pages_are_built_on_first_visit_and_kept(store: WorkbookStore) -> None:
    app = App(store)
    assert list(app.views) == ["home"]
    app.router.page = "start_here"
    first = app.views["start_here"]
    assert app.area.children == (first.widget,)
    app.router.page = "home"
    app.router.page = "start_here"
    assert app.views["start_here"] is first  # kept, not rebuilt
    assert set(app.views) == {"home", "start_here"}
    assert "cgt-nav-current" in app.nav.value and 'data-cgt-page="start_here">Start here</span>' in app.nav.value


def test_show_keeps_the_router_in_step(store: WorkbookStore) -> None:
    app = App(store, start="commercial_specifications")
    assert app.router.page == "commercial_specifications"
    app.show("home")
    assert app.router.page == "home" and app.current == "home"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", "home"),
        ("page=start_here", "start_here"),
        ("page=commercial_specifications&x=1", "commercial_specifications"),
        ("page=decision_record", "decision_record"),
        ("page=no_such_page", "home"),
        ("page=%3Cscript%3E", "home"),
    ],
)
def test_requested_page_reads_the_query_string(monkeypatch, query: str, expected: str) -> None:
    monkeypatch.setenv("QUERY_STRING", query)
    assert requested_page() == expected


def test_home_follows_a_workbook_changed_elsewhere(store: WorkbookStore) -> None:
    app = App(store)
    frame = load_lots(b"lot_id,attribute,value,unit,lot_type,manufacture_date\n"
                      b"Q1,viability,88.1,%,clinical,2025-01-02\n", name="q.csv")
    other_tab = WorkbookStore(store.path)
    other_tab.update(lambda s: s.with_dataset("from_other_tab", frame, source="upload:q.csv"))
    assert "from_other_tab" not in _texts(app.widget)
    app._on_router_message(app.router, {"event": "visible"}, [])  # the user comes back to the tab
    assert "from_other_tab" in _texts(app.widget)


def test_a_built_page_follows_new_data_sets_when_shown_again(store: WorkbookStore) -> None:
    app = App(store, start="commercial_specifications")
    spec = app.views["commercial_specifications"]
    frame = load_lots(b"lot_id,attribute,value,unit,lot_type,manufacture_date\n"
                      b"Q1,viability,88.1,%,clinical,2025-01-02\n", name="q.csv")
    app.show("home")
    store.update(lambda s: s.with_dataset("new_lots", frame, source="upload:q.csv"))
    app.show("commercial_specifications")
    assert "new_lots" in spec.controls.dataset.options and "new_lots" in spec.model.selection.dataset_options
    assert app.views["commercial_specifications"] is spec


def test_a_page_that_cannot_be_built_leaves_the_app_usable(store: WorkbookStore, monkeypatch) -> None:
    monkeypatch.delenv("CGTKIT_STRICT", raising=False)
    import cgtkit.ui.start_here as start_here

    def broken(*_args, **_kwargs):  # noqa: ANN002, ANN003, ANN202
        raise RuntimeError("boom")

    monkeypatch.setattr(start_here, "build_page", broken)
    app = App(store)
    app.router.page = "start_here"
    text = _texts(app.area)
    assert "could not open" in text and "boom" not in text and "Traceback" not in text
    app.router.page = "home"
    assert "Your workbook" in _texts(app.area)


def test_culler_spares_kernels_that_are_starting() -> None:
    from cgtkit.app import CgtkitKernelManager

    class FakeKernel:
        execution_state = "idle"

    km = CgtkitKernelManager(startup_grace=120)
    young, starting, old = FakeKernel(), FakeKernel(), FakeKernel()
    young.cgtkit_started = time.monotonic()
    starting.execution_state = "starting"
    starting.cgtkit_started = time.monotonic() - 1000
    old.cgtkit_started = time.monotonic() - 1000
    km._kernels.update({"young": young, "starting": starting, "old": old})
    assert km.too_young_to_cull("young") and km.too_young_to_cull("starting")
    assert not km.too_young_to_cull("old")
    culled: list[str] = []

    async def parent_cull(self, kernel_id: str) -> None:  # noqa: ANN001
        culled.append(kernel_id)

    from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager

    original = AsyncMappingKernelManager.cull_kernel_if_idle
    AsyncMappingKernelManager.cull_kernel_if_idle = parent_cull  # type: ignore[method-assign]
    try:
        for kid in ("young", "starting", "old"):
            asyncio.run(km.cull_kernel_if_idle(kid))
    finally:
        AsyncMappingKernelManager.cull_kernel_if_idle = original  # type: ignore[method-assign]
    assert culled == ["old"]


def test_template_drops_the_cdn_and_adds_the_watchdog() -> None:
    from cgtkit.app import TEMPLATES_ROOT

    template = (TEMPLATES_ROOT / "voila" / "templates" / "cgtkit" / "index.html.j2").read_text()
    assert "extends 'lab/index.html.j2'" in template
    assert template.count("| replace('<link rel=\"stylesheet\" href=\"https://cdn.jsdelivr.net") == 2
    assert "location.reload()" in template and "cgt-ready" in template


def test_every_page_says_when_a_training_case_is_open(tmp_path, monkeypatch) -> None:
    """Walk-through finding: only the home page said a case was open."""
    from cgtkit.session import WORKBOOK_ENV
    from cgtkit.training import load_cases, open_case, return_to_own

    own = tmp_path / "mine" / "workbook.json"
    monkeypatch.setenv(WORKBOOK_ENV, str(own))
    store = WorkbookStore(own)
    case_id, case = next(iter(load_cases().items()))
    open_case(store, case_id)
    app = App(store, start="comparability")
    assert case.title in app.case_banner.value and "yours is not changed" in app.case_banner.value
    app.show("home")
    assert case.title in app.case_banner.value
    return_to_own(store)
    app.show("comparability")
    assert app.case_banner.value == ""
