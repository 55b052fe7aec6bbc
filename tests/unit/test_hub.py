"""The team deployment without starting it: per-user homes and workbooks, the single-user command, the
home page's "signed in as", and deploy/jupyterhub/jupyterhub_config.py as JupyterHub loads it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cgtkit import hub
from cgtkit.session import default_workbook_path

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "deploy" / "jupyterhub" / "jupyterhub_config.py"


def test_each_user_has_a_home_and_a_workbook_of_their_own(tmp_path: Path) -> None:
    homes = {u: hub.user_home(tmp_path, u) for u in ("alice", "bob")}
    books = {u: hub.workbook_path(u, homes[u]) for u in homes}
    assert books["alice"] == tmp_path / "users" / "alice" / ".cgtkit" / "workbook.json"
    assert books["alice"] != books["bob"] and books["bob"].is_relative_to(homes["bob"])
    shared = {u: hub.workbook_path(u, homes[u], workbooks_dir=tmp_path / "books") for u in homes}
    assert shared["bob"] == tmp_path / "books" / "bob" / "workbook.json"


@pytest.mark.parametrize("name", ["../alice", "alice/x", ".hidden", "", "Alice", "a" * 65, "al ice"])
def test_a_username_that_could_leave_its_folder_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="cannot be a cgtkit hub username"):
        hub.user_home("/srv/hub", name)


def test_the_app_finds_its_users_workbook_in_their_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The spawner gives each app its user's HOME (and CGTKIT_WORKBOOK): the app's default follows."""
    monkeypatch.delenv("CGTKIT_WORKBOOK", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "users" / "alice"))
    assert default_workbook_path() == hub.workbook_path("alice", tmp_path / "users" / "alice")
    monkeypatch.setenv("CGTKIT_WORKBOOK", str(tmp_path / "books" / "alice" / "workbook.json"))
    assert default_workbook_path() == tmp_path / "books" / "alice" / "workbook.json"


def test_single_user_command_serves_only_the_app_on_loopback() -> None:
    cmd = hub.app_command("/venv/bin/python", ROOT)
    assert cmd[1] == str(ROOT / "deploy" / "jupyterhub" / "singleuser.py")
    proxy, app = cmd[:cmd.index("--")], cmd[cmd.index("--") + 1:]
    assert "--ip=127.0.0.1" in proxy and "--authtype=oauth" in proxy
    assert app[:3] == ["/venv/bin/python", "-m", "cgtkit.app"] and "--Voila.ip=127.0.0.1" in app
    allowed = [a.split("=", 1)[1] for a in app if a.startswith("--CgtkitKernelManager.allowed_message_types=")]
    assert allowed and "execute_request" not in allowed and "debug_request" not in allowed
    assert {"comm_open", "comm_msg", "comm_info_request", "kernel_info_request"} <= set(allowed)


def test_home_page_says_who_is_signed_in_and_where_the_workbook_is() -> None:
    path = "/srv/hub/users/bob/.cgtkit/workbook.json"
    signed = hub.workbook_place_html(path, own=path, env={"JUPYTERHUB_USER": "bob"})
    assert "Signed in as <b class='cgt-signed-in'>bob</b>" in signed and path in signed
    alone = hub.workbook_place_html(path, own=path, env={})
    assert "Signed in" not in alone and "(the default; set CGTKIT_WORKBOOK" in alone
    case = hub.workbook_place_html("/srv/training/x.json", own=path, env={"JUPYTERHUB_USER": "<b>"})
    assert "copy of a training case" in case and "&lt;b&gt;" in case


def _load_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **env: str):  # noqa: ANN202
    from traitlets.config.loader import PyFileConfigLoader

    for key in [k for k in os.environ if k.startswith("CGTKIT_HUB_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("CGTKIT_HUB_STATE", str(tmp_path / "state"))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return PyFileConfigLoader(CONFIG.name, path=str(CONFIG.parent)).load_config()


def test_config_as_shipped_binds_loopback_with_real_accounts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    c = _load_config(tmp_path, monkeypatch)
    assert c.JupyterHub.ip == "127.0.0.1" and c.JupyterHub.hub_ip == "127.0.0.1"
    assert c.ConfigurableHTTPProxy.api_url.startswith("http://127.0.0.1:")
    assert c.JupyterHub.authenticator_class == "native" and c.NativeAuthenticator.open_signup is False
    assert c.Authenticator.admin_users == {"admin"}
    assert c.JupyterHub.db_url == f"sqlite:///{tmp_path / 'state' / 'jupyterhub.sqlite'}"
    assert c.Spawner.cmd == hub.app_command(c.Spawner.cmd[0], ROOT)
    assert Path(c.ConfigurableHTTPProxy.command[0]).parent == CONFIG.parent / "node_modules" / ".bin"
    from nativeauthenticator.handlers import LoginHandler  # its login works with this JupyterHub

    LoginHandler.statsd.timer("login.authenticate").start().stop(send=False)


def test_test_authenticator_stays_on_loopback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    c = _load_config(tmp_path, monkeypatch, CGTKIT_HUB_AUTH="test", CGTKIT_HUB_TEST_PASSWORD="long enough")
    assert c.JupyterHub.authenticator_class == "shared-password"
    with pytest.raises(SystemExit, match="loopback only"):
        _load_config(tmp_path, monkeypatch, CGTKIT_HUB_AUTH="test", CGTKIT_HUB_TEST_PASSWORD="long enough",
                     CGTKIT_HUB_IP="0.0.0.0")  # noqa: S104 - the address the config must refuse
    with pytest.raises(SystemExit, match="needs CGTKIT_HUB_TEST_PASSWORD"):
        _load_config(tmp_path, monkeypatch, CGTKIT_HUB_AUTH="test")
