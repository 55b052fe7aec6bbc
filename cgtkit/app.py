"""The ``cgtkit-app`` command: Voila serving ``notebooks/`` with ``/`` on the home page.

Plain ``voila notebooks/`` answers ``/`` with a file listing. The workbook's
front door is its home page, so this subclass adds one redirect and changes
nothing else; every other setting lives in the versioned ``voila.json``.
"""

from __future__ import annotations

from typing import Any

from tornado.web import RedirectHandler
from voila.app import Voila

HOME_NOTEBOOK = "00_home.ipynb"


def _join(*parts: str) -> str:
    return "/".join(p.strip("/") for p in parts if p.strip("/")).join(("/", ""))


class CgtkitVoila(Voila):
    """Voila with ``/`` redirected to the home page."""

    def init_handlers(self) -> list[Any]:
        handlers = super().init_handlers()
        home = _join(self.server_url, "voila/render", HOME_NOTEBOOK)
        return [(self.server_url, RedirectHandler, {"url": home, "permanent": False}), *handlers]


main = CgtkitVoila.launch_instance

if __name__ == "__main__":
    main()
