"""The team deployment end to end: JupyterHub and its proxy on loopback (random ports), two users.

Each user signs in in a browser of their own, gets their own app, records a
decision, and sees only their own workbook; the second user is refused on the
first user's URLs (pages, the app's kernel websocket, the hub's API). Stopping
the hub stops the proxy and both apps. The hub runs deploy/jupyterhub/jupyterhub_config.py
as shipped, with its test authenticator (one shared password).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.conftest import ARTIFACTS, PAGE_TIMEOUT_MS, _free_port, assert_clean, screenshot

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "deploy" / "jupyterhub" / "jupyterhub_config.py"
PROXY = ROOT / "deploy" / "jupyterhub" / "node_modules" / ".bin" / "configurable-http-proxy"
USERS = ("alice", "bob")
#: A first start of a user's app (hub spawn, Voila, the kernel, the first page) on 2 busy cores.
START_TIMEOUT_MS = 180_000


@dataclass
class Hub:
    url: str
    state: Path
    password: str
    proc: subprocess.Popen
    ports: dict[str, int]
    log: Path
    stopped: bool = False

    def home(self, user: str) -> Path:
        return self.state / "users" / user

    def workbook(self, user: str) -> Path:
        return self.home(user) / ".cgtkit" / "workbook.json"

    def stop(self) -> None:
        """Stop the hub as an operator would (SIGTERM): it stops the users' apps and the proxy."""
        if self.stopped:
            return
        self.stopped = True
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


def _answers(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _wait_for_hub(url: str, proc: subprocess.Popen, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"JupyterHub exited early with code {proc.returncode} (see test-artifacts/hub.log)")
        try:
            with urllib.request.urlopen(url + "/hub/health", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    raise RuntimeError(f"JupyterHub did not answer at {url} within {timeout} s")


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    if not PROXY.exists():
        pytest.fail(f"{PROXY} is missing: `./run test` installs it (npm ci in deploy/jupyterhub).")
    state = tmp_path_factory.mktemp("hub")
    ports = {name: _free_port() for name in ("public", "api", "proxy_api")}
    password = secrets.token_urlsafe(12)
    env = dict(os.environ, CGTKIT_HUB_STATE=str(state), CGTKIT_HUB_AUTH="test", CGTKIT_HUB_TEST_PASSWORD=password,
               CGTKIT_HUB_PORT=str(ports["public"]), CGTKIT_HUB_API_PORT=str(ports["api"]),
               CGTKIT_HUB_PROXY_API_PORT=str(ports["proxy_api"]))
    for name in ("CGTKIT_WORKBOOK", "CGTKIT_STRICT", "CGTKIT_HUB_IP", "CGTKIT_HUB_WORKBOOKS", "JUPYTERHUB_USER"):
        env.pop(name, None)
    log = state / "hub.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(CONFIG)], cwd=state, env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    hub = Hub(url=f"http://127.0.0.1:{ports['public']}", state=state, password=password, proc=proc, ports=ports,
              log=log)
    try:
        _wait_for_hub(hub.url, proc)
        yield hub
    finally:
        hub.stop()
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "hub.log").write_text(log.read_text())


@pytest.fixture(scope="module")
def users(hub: Hub, browser) -> Iterator[dict[str, object]]:  # noqa: ANN001
    """One browser context (its own cookies) per user, signed in, on their app's home page; the
    session's one Chromium (a second Playwright in the same process is refused)."""
    pages, contexts = {}, []
    for user in USERS:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        pg = context.new_page()
        pg.set_default_timeout(PAGE_TIMEOUT_MS)
        pg.goto(hub.url + "/hub/login")
        pg.fill("input[name=username]", user)
        pg.fill("input[name=password]", hub.password)
        pg.click("form [type=submit]")
        pg.wait_for_selector(".cgt-page-home.cgt-ready", timeout=START_TIMEOUT_MS)
        pages[user] = pg
    yield pages
    for context in contexts:
        context.close()


def test_each_user_lands_on_their_own_app_and_workbook(hub: Hub, users: dict) -> None:
    for user, pg in users.items():
        assert pg.url.startswith(f"{hub.url}/user/{user}/voila/render/app.ipynb")
        assert pg.inner_text(".cgt-signed-in") == user
        assert pg.inner_text(".cgt-workbook-path") == str(hub.workbook(user))
        assert hub.workbook(user).exists()  # made on first use, in the user's own home
        assert_clean(pg)
        screenshot(pg, f"hub-home-{user}")


def _record(pg, hub: Hub, user: str, attribute: str | None) -> None:  # noqa: ANN001
    pg.goto(f"{hub.url}/user/{user}/voila/render/app.ipynb?page=commercial_specifications")
    pg.wait_for_selector(".cgt-page-commercial_specifications.cgt-ready .cgt-candidates", timeout=START_TIMEOUT_MS)
    if attribute:
        pg.select_option(".cgt-attribute select", label=attribute)
        pg.wait_for_selector(f".cgt-about:has-text('{attribute}')")
    pg.click(".cgt-accept button, button.cgt-accept")
    pg.wait_for_selector(".cgt-msg-success:has-text('Recorded in the workbook')")
    assert "Decisions recorded on this page: 1" in pg.inner_text(".cgt-decisions")


def test_decisions_stay_in_each_users_own_workbook(hub: Hub, users: dict) -> None:
    _record(users["alice"], hub, "alice", None)  # viability, the first attribute
    _record(users["bob"], hub, "bob", "CD3+ purity")
    saved = {u: json.loads(hub.workbook(u).read_text())["decisions"] for u in USERS}
    assert [d["attribute"] for d in saved["alice"]] == ["viability"]
    assert [d["attribute"] for d in saved["bob"]] == ["cd3_purity"]
    # and each app shows only its user's decision
    assert "CD3+ purity" not in users["alice"].inner_text(".cgt-decisions")
    assert "Viability" not in users["bob"].inner_text(".cgt-decisions")
    assert "CD3+ purity" in users["bob"].inner_text(".cgt-decisions")
    for user, pg in users.items():
        assert_clean(pg)
        screenshot(pg, f"hub-decision-{user}")


def test_another_users_urls_are_refused(hub: Hub, users: dict) -> None:
    alice, bob = users["alice"], users["bob"]
    kernel = alice.evaluate("JSON.parse(document.getElementById('jupyter-config-data').textContent).kernelId")
    assert kernel
    for path in ("/user/alice/", "/user/alice/voila/render/app.ipynb?page=home", f"/user/alice/api/kernels/{kernel}"):
        response = bob.goto(hub.url + path)
        assert response.status == 403, path
        assert "You do not have permission" in bob.inner_text("body")
        assert bob.locator(".cgt-app").count() == 0
    screenshot(bob, "hub-refused")
    # the app's kernel websocket: refused before it reaches alice's kernel
    ws = f"{hub.url.replace('http', 'ws')}/user/alice/api/kernels/{kernel}/channels"
    outcome = bob.evaluate("""(url) => new Promise((resolve) => {
        const ws = new WebSocket(url);
        ws.onopen = () => { ws.close(); resolve('open'); };
        ws.onerror = () => resolve('refused');
        setTimeout(() => resolve('timeout'), 20000);
    })""", ws)
    assert outcome == "refused"
    response = bob.goto(hub.url + "/hub/api/users/alice")
    assert response.status in (403, 404)
    assert "alice" not in bob.inner_text("body").replace("/users/alice", "")


def test_an_app_refuses_to_run_code_sent_by_the_browser(hub: Hub, users: dict) -> None:
    """Only widget messages reach a kernel: an execute request from the page is dropped, so the user
    can run nothing but the app's own code (cgtkit.hub.ALLOWED_MESSAGE_TYPES)."""
    alice = users["alice"]
    alice.goto(f"{hub.url}/user/alice/voila/render/app.ipynb?page=home")
    alice.wait_for_selector(".cgt-page-home.cgt-ready", timeout=START_TIMEOUT_MS)
    kernel = alice.evaluate("JSON.parse(document.getElementById('jupyter-config-data').textContent).kernelId")
    marker = hub.home("alice") / "executed-from-the-browser"
    outcome = alice.evaluate("""([url, path]) => new Promise((resolve) => {
        const seen = {opened: false, info: false, executed: false};
        const ws = new WebSocket(url);
        const session = Math.random().toString(16).slice(2);
        const send = (id, type, content) => ws.send(JSON.stringify({
            channel: 'shell', buffers: [], metadata: {}, parent_header: {}, content,
            header: {msg_id: id, msg_type: type, username: 'alice', session, date: '', version: '5.3'}}));
        ws.onopen = () => {
            seen.opened = true;
            send('run-' + session, 'execute_request', {
                code: `open(${JSON.stringify(path)}, 'w').write('x')`, silent: false, store_history: false,
                user_expressions: {}, allow_stdin: false, stop_on_error: true});
            send('info-' + session, 'kernel_info_request', {});
        };
        ws.onmessage = (e) => {
            if (typeof e.data !== 'string') return;
            if (e.data.includes('info-' + session) && e.data.includes('kernel_info_reply')) seen.info = true;
            if (e.data.includes('run-' + session) && e.data.includes('execute_reply')) seen.executed = true;
        };
        setTimeout(() => { ws.close(); resolve(seen); }, 8000);
    })""", [f"{hub.url.replace('http', 'ws')}/user/alice/api/kernels/{kernel}/channels", str(marker)])
    # the owner's websocket works (the kernel answers kernel_info), but the code never runs
    assert outcome == {"opened": True, "info": True, "executed": False}
    assert not marker.exists()


def _descendants(pid: int) -> list[int]:
    """Every process started, directly or not, by ``pid`` (the proxy, the apps, their kernels)."""
    rows = subprocess.run(["ps", "-eo", "pid=,ppid="], capture_output=True, text=True, check=True).stdout.split("\n")
    children: dict[int, list[int]] = {}
    for row in rows:
        if row.strip():
            child, parent = (int(x) for x in row.split())
            children.setdefault(parent, []).append(child)
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_stopping_the_hub_stops_the_proxy_and_every_app(hub: Hub, users: dict) -> None:
    started = _descendants(hub.proc.pid)
    assert len(started) >= 5  # the proxy; for each user the single-user proxy, the app and a kernel
    hub.stop()
    for name, port in hub.ports.items():
        assert not _answers(port), f"the {name} port {port} still answers after the hub stopped"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(_alive(p) for p in started):
        time.sleep(0.5)
    left = [p for p in started if _alive(p)]
    assert not left, f"processes left after the hub stopped: {left}"
