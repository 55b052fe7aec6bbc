"""The team deployment: each JupyterHub user gets an app and a workbook of their own.

``deploy/jupyterhub/jupyterhub_config.py`` builds its spawner from these
functions; the app uses :func:`signed_in_user` and :func:`workbook_place_html` to
say on the home page who is signed in and where the workbook is kept. Nothing
here imports JupyterHub, so the app and its tests run without it.

Why the app alone, behind ``jhsingle-native-proxy``, and not a Jupyter server
with Voila as an extension: a Jupyter server also offers terminals, file
editing and code execution through its REST API, and on one machine every
user's server runs as the same operating-system user, so any of those would let
one user read another's workbook. The app offers none of them; the proxy lets
only the server's owner in (JupyterHub's OAuth and its ``access:servers``
scope), and the app's kernels accept only the widget messages the pages need
(:data:`ALLOWED_MESSAGE_TYPES`), never a request to execute code.

>>> user_home("/srv/hub", "alice")
PosixPath('/srv/hub/users/alice')
>>> workbook_path("alice", home="/srv/hub/users/alice")
PosixPath('/srv/hub/users/alice/.cgtkit/workbook.json')
>>> workbook_path("alice", home="/srv/hub/users/alice", workbooks_dir="/data/workbooks")
PosixPath('/data/workbooks/alice/workbook.json')
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Mapping
from pathlib import Path

from cgtkit.session import WORKBOOK_ENV

#: JupyterHub's variable naming the signed-in user, set for every single-user server.
USER_ENV = "JUPYTERHUB_USER"
#: Usernames the deployment accepts: they become folder names, so no separators, no dots first.
USERNAME_PATTERN = r"[a-z0-9][a-z0-9_-]{0,63}"
#: Kernel messages a browser may send to an app's kernel: what ipywidgets needs to show and drive
#: the pages. No ``execute_request`` (or ``debug_request``): a user can run only the app's own code.
ALLOWED_MESSAGE_TYPES: tuple[str, ...] = (
    "kernel_info_request", "comm_info_request", "comm_open", "comm_msg", "comm_close",
)


def check_username(name: str) -> str:
    """``name`` if it can name a user's folder, else ``ValueError`` (never a path outside the hub's).

    >>> check_username("bob-2")
    'bob-2'
    >>> check_username("../root")
    Traceback (most recent call last):
    ...
    ValueError: '../root' cannot be a cgtkit hub username: use 1 to 64 lower-case letters, digits, '-' or '_', starting with a letter or digit.
    """
    if not re.fullmatch(USERNAME_PATTERN, name):
        raise ValueError(f"{name!r} cannot be a cgtkit hub username: use 1 to 64 lower-case letters, digits, "
                         "'-' or '_', starting with a letter or digit.")
    return name


def user_home(state_dir: str | os.PathLike[str], name: str) -> Path:
    """The user's home on the hub machine: ``<state_dir>/users/<name>``."""
    return Path(state_dir) / "users" / check_username(name)


def workbook_path(name: str, home: str | os.PathLike[str],
                  workbooks_dir: str | os.PathLike[str] | None = None) -> Path:
    """Where user ``name``'s workbook is kept: ``<workbooks_dir>/<name>/workbook.json`` when the
    deployment names a directory for workbooks, else the default place in the user's home."""
    check_username(name)
    if workbooks_dir:
        return Path(workbooks_dir) / name / "workbook.json"
    return Path(home) / ".cgtkit" / "workbook.json"


def app_command(python: str, root: str | os.PathLike[str]) -> list[str]:
    """The single-user server's command: ``jhsingle-native-proxy`` (the hub's OAuth, on loopback;
    started by ``deploy/jupyterhub/singleuser.py``) in front of ``cgtkit-app`` (Voila) served under
    the user's URL prefix.

    ``{port}`` and ``{base_url}`` are filled in by jhsingle-native-proxy: the app's own port on
    loopback and the user's prefix (``/user/<name>``).
    """
    root = Path(root)
    allowed = [f"--CgtkitKernelManager.allowed_message_types={t}" for t in ALLOWED_MESSAGE_TYPES]
    return [
        python, str(root / "deploy" / "jupyterhub" / "singleuser.py"),
        "--ip=127.0.0.1", "--authtype=oauth", "--destport=0",
        "--ready-check-path=/", "--ready-timeout=120", "--request-timeout=300",
        "--websocket-max-message-size=52428800",
        "--",
        python, "-m", "cgtkit.app",
        "--port={port}", "--Voila.ip=127.0.0.1",
        "--Voila.base_url={base_url}/", "--Voila.server_url=/",
        f"--Voila.root_dir={root / 'notebooks'}", f"--Voila.config_file_paths={root}",
        *allowed,
    ]


def signed_in_user(env: Mapping[str, str] | None = None) -> str | None:
    """The JupyterHub user this app serves, or None when it runs outside a hub."""
    return (env if env is not None else os.environ).get(USER_ENV) or None


def workbook_place_html(path: str | os.PathLike[str], own: str | os.PathLike[str] | None = None,
                        env: Mapping[str, str] | None = None) -> str:
    """Who is signed in (under JupyterHub) and where the open workbook is kept, for the home page;
    ``own`` is the user's own workbook (default: :func:`cgtkit.session.default_workbook_path`).

    >>> workbook_place_html("/h/alice/.cgtkit/workbook.json", own="/h/alice/.cgtkit/workbook.json",
    ...                     env={"JUPYTERHUB_USER": "alice"})
    "<p class='cgt-workbook-place'>Signed in as <b class='cgt-signed-in'>alice</b>. Your workbook is kept on the server at <code class='cgt-workbook-path'>/h/alice/.cgtkit/workbook.json</code>.</p>"
    """
    from cgtkit.session import default_workbook_path

    env = env if env is not None else os.environ
    mine = Path(path) == Path(own if own is not None else default_workbook_path())
    where = f"<code class='cgt-workbook-path'>{html.escape(str(path))}</code>"
    user = signed_in_user(env)
    who = f"Signed in as <b class='cgt-signed-in'>{html.escape(user)}</b>. " if user else ""
    what = "Your workbook is" if mine else "The open workbook, a copy of a training case, is"
    how = ""
    if mine and not user:
        how = (f" (set by {WORKBOOK_ENV})" if env.get(WORKBOOK_ENV)
               else f" (the default; set {WORKBOOK_ENV} to keep it elsewhere)")
    return f"<p class='cgt-workbook-place'>{who}{what} kept on the server at {where}{how}.</p>"
