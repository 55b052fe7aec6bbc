"""The ``cgtkit-app`` command: Voila serving ``notebooks/``, with ``/`` on the one-kernel app.

Settings live in the versioned ``voila.json``. This subclass adds only what a
setting cannot:

- ``/`` redirects to ``notebooks/app.ipynb`` (plain Voila answers with a file list);
- the ``cgtkit`` page template (``share/jupyter/voila/templates/cgtkit``): the
  lab template without its Font Awesome CDN links (Voila bundles the icons, and
  the app must work offline), plus a watchdog that reloads a page whose start
  stalled instead of leaving the user before an endless spinner;
- the page response sets the ``_xsrf`` cookie, so the shutdown request Voila
  sends when a tab closes is accepted and the tab's kernel stops (voila#1458);
- kernel culling (:class:`CgtkitKernelManager`) never removes a kernel that is
  still starting or rendering its page.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from tornado.web import RedirectHandler
from traitlets import Float
from voila.app import Voila
from voila.tornado.handler import TornadoVoilaHandler

APP_NOTEBOOK = "app.ipynb"
TEMPLATES_ROOT = Path(__file__).resolve().parent / "share" / "jupyter"


def _join(*parts: str) -> str:
    return "/".join(p.strip("/") for p in parts if p.strip("/")).join(("/", ""))


def add_template_path() -> None:
    """Make the ``cgtkit`` Voila template findable (Voila searches the Jupyter data path)."""
    current = os.environ.get("JUPYTER_PATH", "")
    if str(TEMPLATES_ROOT) not in current.split(os.pathsep):
        os.environ["JUPYTER_PATH"] = os.pathsep.join(p for p in (str(TEMPLATES_ROOT), current) if p)


class CgtkitVoilaHandler(TornadoVoilaHandler):
    """Voila's page handler, setting the ``_xsrf`` cookie that its tab-close shutdown request needs."""

    async def prepare(self) -> None:  # type: ignore[override]
        await super().prepare()
        _ = self.xsrf_token  # reading the token sets the cookie (tornado)


class CgtkitKernelManager(AsyncMappingKernelManager):
    """Culls idle kernels as configured, but never one younger than ``startup_grace`` seconds.

    A kernel is created before its page has rendered and long before the browser
    connects; under load that can take longer than the idle timeout.
    """

    startup_grace = Float(120.0, config=True, help="Seconds after start during which a kernel is never culled.")

    def too_young_to_cull(self, kernel_id: str) -> bool:
        kernel = self._kernels.get(kernel_id)
        if kernel is None:
            return False
        if getattr(kernel, "execution_state", None) == "starting":
            return True
        started = getattr(kernel, "cgtkit_started", None)
        return started is not None and time.monotonic() - started < self.startup_grace

    async def cull_kernel_if_idle(self, kernel_id: str) -> None:
        if self.too_young_to_cull(kernel_id):
            self.log.debug("not culling kernel %s: still starting", kernel_id)
            return
        await super().cull_kernel_if_idle(kernel_id)

    async def start_kernel(self, *args: Any, **kwargs: Any) -> str:
        kernel_id = await super().start_kernel(*args, **kwargs)
        kernel = self._kernels.get(kernel_id)
        if kernel is not None:
            kernel.cgtkit_started = time.monotonic()
        return kernel_id


class CgtkitVoila(Voila):
    """Voila with the app at ``/``, the offline template, working shutdown and safe culling."""

    def setup_template_dirs(self) -> None:
        add_template_path()
        super().setup_template_dirs()

    def init_handlers(self) -> list[Any]:
        handlers = [
            (pattern, CgtkitVoilaHandler if handler is TornadoVoilaHandler else handler, *rest)
            for pattern, handler, *rest in super().init_handlers()
        ]
        # Routes live under server_url; the browser's links under base_url (they differ behind a proxy
        # that strips the user's prefix, as under JupyterHub: deploy/jupyterhub/).
        app = _join(self.base_url, "voila/render", APP_NOTEBOOK)
        return [(self.server_url, RedirectHandler, {"url": app, "permanent": False}), *handlers]


main = CgtkitVoila.launch_instance

if __name__ == "__main__":
    main()
