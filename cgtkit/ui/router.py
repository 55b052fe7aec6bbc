"""The app's router: which page is shown, synced between the kernel and the browser.

Links between pages are plain ``<a data-cgt-page="...">`` in HTML widgets. The
router's small front-end module (``static/router.js``, run by anywidget)
catches their clicks and sets :attr:`Router.page`, so navigation never loads a
new notebook or starts a new kernel; in Voila it also keeps ``?page=...`` in the
address bar for reloads, bookmarks and the back button.
"""

from __future__ import annotations

from pathlib import Path

import anywidget
from traitlets import Unicode


class Router(anywidget.AnyWidget):
    """Holds the current page id; the app observes :attr:`page`."""

    _esm = Path(__file__).with_name("static") / "router.js"
    page = Unicode("home").tag(sync=True)
    home = Unicode("home").tag(sync=True)
