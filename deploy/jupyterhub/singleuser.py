"""A user's single-user server: ``jhsingle-native-proxy`` in front of cgtkit-app, with two fixes.

The spawner in ``jupyterhub_config.py`` runs this file with jhsingle-native-proxy's
own arguments. Before handing over to it, two things are corrected in
jhsingle-native-proxy 0.8.3 (its latest release):

* its websocket handler never asked the hub who is connecting: a websocket to
  ``/user/<name>/...`` is now refused (403) unless the hub says the request
  comes from that server's owner, the same check as for every page request;
* it calls tornado's ``check_origin`` for every websocket, which since
  tornado 6.6 refuses all origins not listed as trusted (tornado now compares
  ``Origin`` and ``Host`` itself, before ``check_origin``): same-origin
  websockets are accepted again, cross-origin ones still refused.

A third change only quiets the log: a request that has to sign in first is
redirected to the hub without a "can't await None" traceback.
"""

from __future__ import annotations

from urllib.parse import urlparse

from jhsingle_native_proxy import main, proxyhandlers
from tornado import web

_original_ws_get = proxyhandlers.ProxyHandler.ws_get


async def _ws_get_for_owner(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
    if getattr(self, "authtype", "oauth") == "oauth" and self.current_user is None:
        raise web.HTTPError(403, "Only the owner of this server can connect to it.")
    return await _original_ws_get(self, *args, **kwargs)


def _same_origin(self, origin: str) -> bool:  # noqa: ANN001
    host = self.request.headers.get("Host", "").lower()
    return bool(host) and urlparse(origin).netloc.lower() == host


async def _proxy(self, port, path):  # noqa: ANN001, ANN202
    if self.authtype != "oauth":
        return await self.core_proxy(port, path)
    pending = self.oauth_proxy(port, path)  # None when @web.authenticated redirected to the hub's login
    return await pending if pending is not None else None


proxyhandlers.ProxyHandler.ws_get = _ws_get_for_owner
proxyhandlers.SuperviseAndProxyHandler.proxy = _proxy
proxyhandlers.ProxyHandler.check_origin = _same_origin

if __name__ == "__main__":
    main.run()
