"""Start the cgtkit Voila app on a free port and drive it with headless Chromium.

Chromium is Debian's (/usr/bin/chromium), launched by Playwright through
``executable_path``; the flags keep it off this machine's closed network.
Screenshots go to ``test-artifacts/`` for people to look at.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
# Rendering a page can take several seconds on 2 cores (see docs/benchmarks.md).
PAGE_TIMEOUT_MS = 90_000


APP_WORKBOOK: Path | None = None  # the workbook of the app the session's tests share (set by app_url)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_until_up(url: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003
            return None

    opener = urllib.request.build_opener(NoRedirect)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"Voila exited early with code {proc.returncode}")
        try:
            opener.open(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return  # the redirect from / answers as an HTTPError here: the server is up
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"Voila did not answer at {url} within {timeout} s")


@contextmanager
def serve(args: list[str], env: dict[str, str], log_path: Path, ready_path: str, timeout: float = 60.0) -> Iterator[str]:
    """Run a local server (``python -m <args>`` with ``--port``) until the block ends; yields its base URL."""
    port = _free_port()
    with log_path.open("w") as log:
        proc = subprocess.Popen([sys.executable, "-m", *args, f"--port={port}"], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_up(url + ready_path, proc, timeout=timeout)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture(scope="session")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a cgtkit app started the way ``make app`` starts it."""
    workdir = tmp_path_factory.mktemp("voila")
    global APP_WORKBOOK
    APP_WORKBOOK = workdir / "workbook.json"
    env = dict(os.environ, CGTKIT_WORKBOOK=str(APP_WORKBOOK))
    env.pop("CGTKIT_STRICT", None)  # the app shows friendly errors, as for users
    try:
        with serve(["cgtkit.app"], env, workdir / "voila.log", "/") as url:
            yield url
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "voila.log").write_text((workdir / "voila.log").read_text())


@pytest.fixture(autouse=True)
def pages_own_values(request: pytest.FixtureRequest) -> None:
    """Each test of the app starts from the pages' own values: inputs an earlier test left on a page
    (kept beside the workbook, cgtkit.ui.page_inputs) are forgotten."""
    if "app_url" in request.fixturenames and APP_WORKBOOK is not None:
        from cgtkit.session import WorkbookStore

        WorkbookStore(APP_WORKBOOK).inputs_path.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `./run test`, which installs the Debian package.")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture()
def page(browser) -> Iterator[object]:  # noqa: ANN001
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(PAGE_TIMEOUT_MS)
    console: list[str] = []  # kept for the stall report
    pg.on("console", lambda msg: console.append(f"{msg.type}: {msg.text}"))
    pg.on("pageerror", lambda err: console.append(f"page error: {err}"))
    pg.cgt_console = console
    yield pg
    context.close()


def app_page_url(app_url: str, page_id: str) -> str:
    """The one-kernel app opened on one page."""
    return f"{app_url}/voila/render/app.ipynb?page={page_id}"


def screenshot(pg, name: str) -> Path:  # noqa: ANN001
    """The whole page, however long: the app scrolls inside its own container, which ``full_page``
    does not see, so the viewport is stretched to the content's height for the shot."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    size = pg.viewport_size
    height = pg.evaluate("Math.max(...Array.from(document.querySelectorAll('body, body *'))"
                         ".map((e) => e.scrollHeight))")
    pg.set_viewport_size({"width": size["width"], "height": min(max(int(height), size["height"]), 12000)})
    try:
        pg.wait_for_timeout(300)
        pg.screenshot(path=str(path), full_page=True)
    finally:
        pg.set_viewport_size(size)
    return path


FIRST_TRY_MS = 45_000


def open_ready(pg, url: str, selector: str) -> None:  # noqa: ANN001
    """Open a page and wait for its widgets, opening it again once if they never appear.

    About one page view in 50-100 was seen here to stall (the kernel runs, the
    widgets never show); opening the page again fixes it, for users too. Each
    stall is recorded in test-artifacts/stalls.txt with a screenshot, so it stays
    visible instead of hidden (docs/benchmarks.md).
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        pg.goto(url, timeout=FIRST_TRY_MS)
        pg.wait_for_selector(selector, timeout=FIRST_TRY_MS)
        return
    except PlaywrightTimeout:
        _record_stall(pg, url, selector)
    pg.goto(url)
    pg.wait_for_selector(selector)


def wait_ready(pg, selector: str) -> None:  # noqa: ANN001
    """After a click that navigates: wait for the new page's widgets, as open_ready does."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        pg.wait_for_selector(selector, timeout=FIRST_TRY_MS)
        return
    except PlaywrightTimeout:
        _record_stall(pg, pg.url, selector)
    pg.goto(pg.url)
    pg.wait_for_selector(selector)


def _record_stall(pg, url: str, selector: str) -> None:  # noqa: ANN001
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"stall-{time.strftime('%H%M%S')}.png"))
    with (ARTIFACTS / "stalls.txt").open("a") as fh:
        fh.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {url} waiting for {selector}: opened again\n")
        for line in getattr(pg, "cgt_console", [])[-30:]:
            fh.write(f"    console {line}\n")


def assert_clean(pg) -> None:  # noqa: ANN001
    """No Voila error box, no traceback, no cgtkit error message on screen."""
    text = pg.inner_text("body")
    assert "There was an error when executing cell" not in text
    assert "Traceback" not in text
    errors = pg.locator(".cgt-msg-error")
    assert errors.count() == 0, errors.first.inner_text()
