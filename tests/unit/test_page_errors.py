"""A page that cannot be built shows one sentence, logs the details to the server log, and never
raises into Voila (which would show its error box)."""

from __future__ import annotations

import logging
import sys

import pytest

from cgtkit.pages import load_pages
from cgtkit.profile import load_product_types
from cgtkit.session import WorkbookStore
from cgtkit.ui.app import build
from cgtkit.ui.shell import configure_logging, log


@pytest.fixture()
def broken_data(tmp_path, monkeypatch):
    monkeypatch.setenv("CGTKIT_DATA_DIR", str(tmp_path / "no-data"))
    monkeypatch.delenv("CGTKIT_STRICT", raising=False)
    load_pages.cache_clear()
    load_product_types.cache_clear()
    yield
    load_pages.cache_clear()
    load_product_types.cache_clear()


def _texts(widget) -> str:  # noqa: ANN001
    parts = [getattr(widget, "value", "") if isinstance(getattr(widget, "value", ""), str) else ""]
    for child in getattr(widget, "children", ()):
        parts.append(_texts(child))
    return " ".join(parts)


@pytest.mark.parametrize("page_id", ["home", "start_here", "commercial_specifications"])
def test_missing_data_files_give_a_message_not_an_exception(broken_data, tmp_path, page_id: str) -> None:
    view = build(page_id, WorkbookStore(tmp_path / "wb.json")).widget
    text = _texts(view)
    assert "could not open" in text and "is missing; restore it" in text
    assert "Traceback" not in text
    assert "cgt-ready" in view._dom_classes


def test_strict_mode_raises_for_tests(broken_data, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("CGTKIT_STRICT", "1")
    with pytest.raises(Exception, match="missing"):
        build("home", WorkbookStore(tmp_path / "wb.json"))


def test_log_goes_to_the_process_stderr_not_the_page() -> None:
    configure_logging()
    configure_logging()  # idempotent
    handlers = [h for h in log.handlers if getattr(h, "_cgtkit", False)]
    assert len(handlers) == 1 and handlers[0].stream is sys.__stderr__
    assert log.propagate is False and log.level == logging.INFO
