"""The one-kernel app: a navigation bar over every page, built on first visit and kept.

``notebooks/app.ipynb`` calls :func:`open_app`; each page's own notebook calls
:func:`open_page`, which opens the same app on that page (for JupyterLab users
and Binder links). Switching page changes which built page is visible: no new
kernel, no reload, and the workbook is shared in memory. A page's module is
imported on its first visit, so the first paint pays only for the home page.

A page module provides ``build_page(store, page_id)`` returning a view with a
``widget`` and, optionally, ``on_show()`` (called each time the page is shown,
e.g. to follow a workbook changed by another page or another tab). A page that
cannot be built shows a sentence, never a traceback, and the rest of the app
keeps working.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
import time
from typing import Any, Protocol
from urllib.parse import parse_qs

import ipywidgets as w

from cgtkit.session import WorkbookStore

log = logging.getLogger("cgtkit")

STRICT_ENV = "CGTKIT_STRICT"  # "1" in tests: a page that cannot be built raises instead
HOME = "home"


class PageView(Protocol):
    """What a page module's ``build_page`` returns."""

    widget: w.Widget


class _StaticView:
    """A view that is only a widget (the error page)."""

    def __init__(self, widget: w.Widget) -> None:
        self.widget = widget


def build(page_id: str, store: WorkbookStore | None = None) -> PageView:
    """Build one page's view; a page that cannot be built becomes an error page (tests use this too)."""
    from cgtkit.pages import page
    from cgtkit.ui.shell import error_page

    try:
        module = importlib.import_module(str(page(page_id).module))
        view = module.build_page(store or WorkbookStore(), page_id)
    except Exception as exc:  # noqa: BLE001 - turned into a message on the page
        if os.environ.get(STRICT_ENV) == "1":
            raise
        view = _StaticView(error_page(page_id, exc))
    view.widget.add_class("cgt-ready")
    return view


def requested_page(default: str = HOME) -> str:
    """The page asked for in the URL (``?page=...``; Voila passes the query string to the kernel)."""
    query = parse_qs(os.environ.get("QUERY_STRING", ""))
    wanted = (query.get("page") or [default])[0]
    try:
        from cgtkit.pages import page

        return wanted if page(wanted).available else default
    except Exception:  # noqa: BLE001 - an unknown or broken page id falls back to the default
        return default


class App:
    """Navigation bar, page area and footer around lazily built, kept pages."""

    def __init__(self, store: WorkbookStore | None = None, start: str = HOME) -> None:
        from cgtkit.ui.router import Router
        from cgtkit.ui.shell import footer, style_widget

        self.store = store or WorkbookStore()
        self.views: dict[str, PageView] = {}
        self.build_seconds: dict[str, float] = {}
        self.router = Router(page=start, home=HOME)
        self.nav = w.HTML()
        self.nav.add_class("cgt-nav-bar")
        self.area = w.VBox()
        self.area.add_class("cgt-page-area")
        brand = w.HTML("<div class='cgt-brand'>cgtkit <span>CMC flexibilities workbook</span></div>")
        self.case_banner = w.HTML()
        self.case_banner.add_class("cgt-case-banner")
        self.widget = w.VBox([style_widget(), self.router, brand, self.nav, self.case_banner, self.area, footer()])
        self.widget.add_class("cgt-app")
        self.router.observe(self._on_page, names="page")
        self.router.on_msg(self._on_router_message)
        self.show(start)

    @property
    def current(self) -> str:
        return self.router.page

    def view(self, page_id: str) -> PageView:
        """The page's view, built on its first visit."""
        if page_id not in self.views:
            started = time.perf_counter()
            self.views[page_id] = build(page_id, self.store)
            self.build_seconds[page_id] = time.perf_counter() - started
            log.info("page %s built in %.2f s", page_id, self.build_seconds[page_id])
        return self.views[page_id]

    def show(self, page_id: str) -> None:
        """Make ``page_id`` the visible page (building it on first visit)."""
        view = self.view(page_id)
        self._call_on_show(page_id, view)
        self.nav.value = self._nav_html(page_id)
        self.case_banner.value = case_banner_html(self.store)
        self.area.children = (view.widget,)
        if self.router.page != page_id:
            self.router.page = page_id

    def _on_page(self, change: dict[str, Any]) -> None:
        try:
            self.show(change["new"])
        except Exception:  # noqa: BLE001 - never an error box; the previous page stays
            log.exception("switching to page %s failed", change["new"])
            if os.environ.get(STRICT_ENV) == "1":
                raise

    def _on_router_message(self, _widget: Any, content: dict[str, Any], _buffers: Any) -> None:
        """The user came back to this tab: let the visible page follow the workbook."""
        if isinstance(content, dict) and content.get("event") == "visible" and self.current in self.views:
            self._call_on_show(self.current, self.views[self.current])

    @staticmethod
    def _nav_html(page_id: str) -> str:
        from cgtkit.ui.shell import nav_html

        try:
            return nav_html(page_id)
        except Exception:  # noqa: BLE001 - e.g. a broken data/pages.yaml: the page itself says so
            log.exception("the navigation bar could not be built")
            return ""

    @staticmethod
    def _call_on_show(page_id: str, view: PageView) -> None:
        on_show = getattr(view, "on_show", None)
        if on_show is None:
            return
        try:
            on_show()
        except Exception:  # noqa: BLE001 - the page keeps what it showed
            log.exception("page %s could not refresh on show", page_id)
            if os.environ.get(STRICT_ENV) == "1":
                raise


def warm_up(delay: float = 1.0) -> threading.Thread:
    """Import every page's module in a background thread, shortly after the first paint.

    The user reads the first page meanwhile; the first visit to another page then pays for
    building it, not for loading pandas, scipy and plotly. Imports are thread-safe, and a
    page opened before its import finished simply waits for it.
    """

    def run() -> None:
        time.sleep(delay)
        try:
            from cgtkit.pages import available_pages

            for p in available_pages():
                importlib.import_module(str(p.module))
        except Exception:  # noqa: BLE001 - the page reports its own import error when visited
            log.debug("warm-up import failed", exc_info=True)

    thread = threading.Thread(target=run, name="cgtkit-warm-up", daemon=True)
    thread.start()
    return thread


def case_banner_html(store: WorkbookStore) -> str:
    """On every page while a training case is open: which case, and that the user's own workbook is not
    changed by work on it ('' for the user's own workbook)."""
    if store.path.parent.name != "training":  # cheap test first: cases live in a 'training' folder
        return ""
    try:
        from cgtkit.training import case, open_case_id

        case_id = open_case_id(store.path)
        if case_id is None:
            return ""
        title = case(case_id).title
    except Exception:  # noqa: BLE001 - a banner must never break a page
        log.exception("training case banner")
        return ""
    from cgtkit.ui.shell import esc, page_link_html

    return (f"<div class='cgt-msg cgt-msg-info'>Training case: <b>{esc(title)}</b>. Work here goes into the case's "
            f"own workbook; yours is not changed. {page_link_html('home', 'Back to my workbook on Home')}.</div>")


def _store_for_url() -> WorkbookStore:
    """The user's workbook, or their copy of the training case named by ``?case=<id>`` (Binder links)."""
    if "case=" not in os.environ.get("QUERY_STRING", ""):
        return WorkbookStore()
    from cgtkit.training import store_for_query

    return store_for_query()


def open_app(start: str | None = None) -> App | None:
    """Build and display the app on ``start`` (default: the page in the URL, else home)."""
    from IPython.display import display

    from cgtkit.ui.shell import configure_logging

    configure_logging()
    try:
        app = App(store=_store_for_url(), start=start or requested_page())
    except Exception as exc:  # noqa: BLE001 - never Voila's error box
        if os.environ.get(STRICT_ENV) == "1":
            raise
        from cgtkit.ui.shell import error_page

        log.exception("the app could not be built")
        display(error_page(start or HOME, exc))
        return None
    display(app.widget)
    warm_up()
    return app


def open_page(page_id: str) -> App | None:
    """Open the app on one page (each page's notebook calls this)."""
    from cgtkit.pages import page

    if not page(page_id).available:
        raise KeyError(f"page {page_id!r} is not built yet")
    return open_app(requested_page(default=page_id))
