"""Memory and start time per signed-in user of the team deployment (deploy/jupyterhub/).

Starts JupyterHub and its proxy on loopback (random ports, the test
authenticator), then signs in N users one after the other in headless Chromium
and, for each, measures:

* start time: from submitting the login form to the app's home page ready
  (the hub spawns the user's server, which starts cgtkit-app, whose kernel
  renders the page);
* memory of that user's processes once the page is ready: the single-user
  proxy (jhsingle-native-proxy), the app's server (Voila) and the page's kernel,
  as RSS and as PSS (shared pages split between the processes that share them:
  the fairer share of the machine);
* then the hub and its proxy alone.

Users stay signed in with their page open, as a class would be, so the last
users start while the earlier ones are running.

    python benchmarks/bench_hub.py [--users 4]
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "deploy" / "jupyterhub" / "jupyterhub_config.py"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-quic", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def mb(process: psutil.Process) -> tuple[float, float]:
    """(RSS, PSS) in MB; PSS from /proc/<pid>/smaps_rollup."""
    info = process.memory_full_info()
    return info.rss / 2**20, getattr(info, "pss", info.rss) / 2**20


def role(process: psutil.Process) -> str:
    cmd = " ".join(process.cmdline())
    if "singleuser.py" in cmd:
        return "single-user proxy"
    if "cgtkit.app" in cmd:
        return "app server (Voila)"
    if "ipykernel" in cmd:
        return "kernel"
    if "configurable-http-proxy" in cmd or "node" in process.name():
        return "hub proxy"
    return process.name()


def user_processes(hub: psutil.Process, user: str) -> list[psutil.Process]:
    """The user's single-user proxy (its environment names the user) and everything it started."""
    for child in hub.children(recursive=False):
        try:
            if child.environ().get("JUPYTERHUB_USER") == user:
                return [child, *child.children(recursive=True)]
        except psutil.Error:
            continue
    raise RuntimeError(f"no server process for {user}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=4)
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    state = Path(tempfile.mkdtemp(prefix="cgtkit-bench-hub-"))
    ports = [free_port() for _ in range(3)]
    password = secrets.token_urlsafe(12)
    env = dict(os.environ, CGTKIT_HUB_STATE=str(state), CGTKIT_HUB_AUTH="test", CGTKIT_HUB_TEST_PASSWORD=password,
               CGTKIT_HUB_PORT=str(ports[0]), CGTKIT_HUB_API_PORT=str(ports[1]), CGTKIT_HUB_PROXY_API_PORT=str(ports[2]))
    for name in ("CGTKIT_WORKBOOK", "CGTKIT_STRICT"):
        env.pop(name, None)
    url = f"http://127.0.0.1:{ports[0]}"
    log = (state / "hub.log").open("w")
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(CONFIG)], cwd=state, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        while True:
            try:
                with urllib.request.urlopen(url + "/hub/health", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.perf_counter() - started > 90:
                    raise RuntimeError(f"the hub did not start; see {state / 'hub.log'}") from None
                time.sleep(0.3)
        hub_ready = time.perf_counter() - started
        hub = psutil.Process(proc.pid)
        print(f"hub and proxy up in {hub_ready:.1f} s (nproc {os.cpu_count()})", flush=True)
        rows = []
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            for i in range(args.users):
                user = f"user{i + 1}"
                page = browser.new_context().new_page()
                page.set_default_timeout(240_000)
                page.goto(url + "/hub/login")
                page.fill("input[name=username]", user)
                page.fill("input[name=password]", password)
                t0 = time.perf_counter()
                page.click("form [type=submit]")
                page.wait_for_selector(".cgt-page-home.cgt-ready")
                start_s = time.perf_counter() - t0
                time.sleep(2)  # let the kernel settle after the first paint
                parts: dict[str, tuple[float, float]] = {}
                for p in user_processes(hub, user):
                    rss, pss = mb(p)
                    old = parts.get(role(p), (0.0, 0.0))
                    parts[role(p)] = (old[0] + rss, old[1] + pss)
                rows.append((user, start_s, parts))
                detail = ", ".join(f"{k} {v[0]:.0f}/{v[1]:.0f}" for k, v in sorted(parts.items()))
                print(f"{user}: ready {start_s:.1f} s after sign-in; RSS/PSS MB: {detail}; total PSS "
                      f"{sum(v[1] for v in parts.values()):.0f} MB", flush=True)
            browser.close()
        base = {"hub": mb(hub)}
        for child in hub.children(recursive=False):
            if role(child) == "hub proxy":
                base["hub proxy"] = mb(child)
        print("hub alone: " + ", ".join(f"{k} {v[0]:.0f}/{v[1]:.0f} MB (RSS/PSS)" for k, v in base.items()))
        starts = [r[1] for r in rows]
        totals = [sum(v[1] for v in r[2].values()) for r in rows]
        print(f"\nper signed-in user ({len(rows)} users): start {statistics.median(starts):.1f} s median "
              f"(min {min(starts):.1f}, max {max(starts):.1f}); memory {statistics.median(totals):.0f} MB PSS median "
              f"(min {min(totals):.0f}, max {max(totals):.0f})")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
