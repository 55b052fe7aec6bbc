"""The single entry point every notebook calls: ``open_page("<page id>")``.

It imports the page's module first (the slow part, which a preheated Voila
kernel does before any request), then waits for the request, then builds the
page from the saved workbook, so a preheated page never shows a stale session.
A page that cannot be built shows a sentence, never a traceback.
"""

from __future__ import annotations

import importlib
import logging
import os

import ipywidgets as w

from cgtkit.session import WorkbookStore

log = logging.getLogger("cgtkit")

STRICT_ENV = "CGTKIT_STRICT"  # "1" in tests: a page that cannot be built raises instead

# page id -> module with ``build_page(store, page_id) -> Widget``
PAGE_MODULES: dict[str, str] = {
    "home": "cgtkit.ui.home",
    "start_here": "cgtkit.ui.start_here",
    "clinical_development": "cgtkit.ui.specifications",
    "commercial_specifications": "cgtkit.ui.specifications",
}


def _wait_for_request() -> None:
    """In a preheated Voila kernel, block until a visitor's request arrives.

    Voila sets ``VOILA_PREHEAT`` only in pool kernels; elsewhere importing
    voila would cost about a second of every page view for nothing.
    """
    if os.environ.get("VOILA_PREHEAT", "False") == "False":
        return
    from voila.utils import wait_for_request

    wait_for_request()


def build(page_id: str, store: WorkbookStore | None = None) -> w.Widget:
    """Build a page widget (used by ``open_page`` and by tests without a browser)."""
    from cgtkit.ui.shell import error_page

    try:
        module = importlib.import_module(PAGE_MODULES[page_id])
        view = module.build_page(store or WorkbookStore(), page_id)
    except Exception as exc:  # noqa: BLE001 - turned into a message on the page
        if os.environ.get(STRICT_ENV) == "1":
            raise
        view = error_page(page_id, exc)
    view.add_class("cgt-ready")
    return view


def open_page(page_id: str) -> w.Widget:
    """Build and display a page; returns the widget for use in JupyterLab."""
    from IPython.display import display

    if page_id not in PAGE_MODULES:
        raise KeyError(f"unknown page {page_id!r}; known: {', '.join(PAGE_MODULES)}")
    from cgtkit.ui.shell import configure_logging

    configure_logging()
    try:
        importlib.import_module(PAGE_MODULES[page_id])
    except Exception:  # noqa: BLE001 - build() reports it on the page
        log.exception("importing page %s failed", page_id)
    _wait_for_request()
    view = build(page_id)
    display(view)
    return view
