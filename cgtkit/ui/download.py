"""A one-click download: a button whose file is made by the kernel when clicked.

Voila serves no local files, and a ``data:`` link must carry the whole file
with every page view. This widget sends nothing until the user clicks; then
``make()`` builds ``(file name, bytes, MIME type)`` and the browser saves it
(``static/download.js``, run by anywidget). Problems go to the page's status
line, never to a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import anywidget
from traitlets import Unicode

from cgtkit.ui.shell import StatusArea


class DownloadButton(anywidget.AnyWidget):
    """``make() -> (filename, data, mime)`` runs on click, under ``status``'s guard."""

    _esm = Path(__file__).with_name("static") / "download.js"
    description = Unicode("Download").tag(sync=True)

    def __init__(self, make: Callable[[], tuple[str, bytes, str]], status: StatusArea, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._make, self._status = make, status
        self.last: tuple[str, bytes, str] | None = None  # what the last click sent (tests read it)
        self.on_msg(self._on_msg)

    def _on_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not (isinstance(content, dict) and content.get("event") == "download"):
            return
        with self._status.guard():
            filename, data, mime = self._make()
            self.last = (filename, data, mime)
            self.send({"event": "file", "filename": filename, "mime": mime}, buffers=[data])
            self._status.show("success", f"Saved as {filename} in your browser's downloads.")
            return
        self.send({"event": "failed"})  # re-enables the button; the status line says why

    def click(self) -> None:
        """What a click in the browser does (for tests and notebooks)."""
        self._on_msg(self, {"event": "download"}, [])
