"""The app in a real browser: first paint, in-app navigation, kernels per visit, and a soak run.

Starts the app as ``./run app`` does (``python -m cgtkit.app``, the shipped
``voila.json``) with a copy of ``notebooks/`` plus a minimal one-slider notebook
(the floor), and drives headless Chromium:

1. **First paint**: navigation start to the page's widgets visible
   (``.cgt-ready``) for the floor and each entry URL of the app, each in a fresh
   browser context, ``--repeat`` times, median reported with the ratio to the floor.
2. **In-app navigation**: click on the navigation bar to the new page's widgets
   visible, first visit and revisit, in one tab.
3. **Kernels and memory**: the resident memory of each kernel process after a visit
   of every page; the kernels still running after every tab was closed.
4. **Soak**: ``--soak`` visits (open the app on a page, visit one more page, close
   the tab), first one at a time, then 4 browser tabs at once. A visit whose
   widgets do not show within 90 s, or whose page had to reload itself (the
   watchdog of the ``cgtkit`` template), counts as a stall.

    python benchmarks/bench_voila.py [--repeat 5] [--soak 300]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
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
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]
FLOOR_NB = "zz_minimal.ipynb"
MINIMAL = {
    "cells": [{"cell_type": "code", "execution_count": None, "id": "minimal", "metadata": {}, "outputs": [],
               "source": ["import ipywidgets as w\n", "s = w.IntSlider(description='x')\n",
                          "s.add_class('cgt-ready')\n", "s"]}],
    "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
    "nbformat": 4, "nbformat_minor": 5,
}
ENTRIES = {
    "floor: one-slider notebook": FLOOR_NB,
    "app (home)": "app.ipynb",
    "app ?page=start_here": "app.ipynb?page=start_here",
    "app ?page=clinical_development": "app.ipynb?page=clinical_development",
    "app ?page=commercial_specifications": "app.ipynb?page=commercial_specifications",
}
PAGES = ["home", "start_here", "clinical_development", "commercial_specifications"]
VISIT_TIMEOUT_MS = 90_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def kernels(server: subprocess.Popen) -> list[psutil.Process]:
    """The kernel processes Voila started (children running ipykernel)."""
    procs = []
    for child in psutil.Process(server.pid).children(recursive=True):
        try:
            if "ipykernel" in " ".join(child.cmdline()):
                procs.append(child)
        except psutil.Error:
            pass
    return procs


async def open_and_wait(context, url: str, selector: str = ".cgt-ready") -> tuple[float | None, bool]:  # noqa: ANN001
    """(seconds to widgets, whether the page reloaded itself); None seconds = stall."""
    page = await context.new_page()
    reloaded = []
    page.on("console", lambda m: reloaded.append(1) if "cgtkit: no widgets" in m.text else None)
    start = time.perf_counter()
    try:
        await page.goto(url, timeout=VISIT_TIMEOUT_MS)
        await page.wait_for_selector(selector, timeout=VISIT_TIMEOUT_MS)
        return time.perf_counter() - start, bool(reloaded)
    except Exception:  # noqa: BLE001 - a stall, counted
        return None, bool(reloaded)


async def close_tabs(context) -> None:  # noqa: ANN001
    """Close like a user closing the tab (unload handlers run, so Voila asks to stop the kernel)."""
    for page in context.pages:
        await page.close(run_before_unload=True)
    await context.close()


async def first_paint(browser, base: str, repeat: int) -> dict[str, list[float]]:  # noqa: ANN001
    times: dict[str, list[float]] = {name: [] for name in ENTRIES}
    for _ in range(repeat):
        for name, entry in ENTRIES.items():
            context = await browser.new_context()
            seconds, _ = await open_and_wait(context, base + entry)
            if seconds is not None:
                times[name].append(seconds)
            await close_tabs(context)
    return times


async def navigation(browser, base: str) -> dict[str, float]:  # noqa: ANN001
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(base + "app.ipynb")
    await page.wait_for_selector(".cgt-page-home.cgt-ready", timeout=VISIT_TIMEOUT_MS)
    result = {}
    for label, target in [(f"first visit {p}", p) for p in PAGES[1:]] + [(f"revisit {p}", p) for p in PAGES]:
        await page.wait_for_timeout(300)
        start = time.perf_counter()
        await page.click(f".cgt-nav a[data-cgt-page='{target}']")
        await page.wait_for_selector(f".cgt-page-{target}.cgt-ready", timeout=VISIT_TIMEOUT_MS)
        result[label] = time.perf_counter() - start
    await close_tabs(context)
    return result


async def one_visit(browser, base: str, rng: random.Random) -> tuple[bool, bool]:  # noqa: ANN001
    """Open the app on a random page, go to another page, close the tab. (stalled, reloaded)."""
    context = await browser.new_context()
    first, second = rng.sample(PAGES, 2)
    seconds, reloaded = await open_and_wait(context, f"{base}app.ipynb?page={first}", f".cgt-page-{first}.cgt-ready")
    stalled = seconds is None
    if not stalled:
        page = context.pages[0]
        try:
            await page.click(f".cgt-nav a[data-cgt-page='{second}']")
            await page.wait_for_selector(f".cgt-page-{second}.cgt-ready", timeout=VISIT_TIMEOUT_MS)
        except Exception:  # noqa: BLE001
            stalled = True
    await close_tabs(context)
    return stalled, reloaded


async def soak(browser, base: str, visits: int, parallel: int, seed: int) -> dict[str, int]:  # noqa: ANN001
    rng = random.Random(seed)
    stalls = reloads = done = 0
    while done < visits:
        batch = min(parallel, visits - done)
        results = await asyncio.gather(*(one_visit(browser, base, rng) for _ in range(batch)))
        stalls += sum(s for s, _ in results)
        reloads += sum(r for _, r in results)
        done += batch
    return {"visits": done, "stalls": stalls, "watchdog_reloads": reloads}


async def run(args: argparse.Namespace, base: str, server: subprocess.Popen) -> dict:
    from playwright.async_api import async_playwright

    out: dict = {}
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        out["first_paint"] = await first_paint(browser, base, args.repeat)
        report_first_paint(out["first_paint"], args)
        out["navigation"] = await navigation(browser, base)
        report_navigation(out["navigation"])
        # memory: one tab that visits every page, measured while it is open
        context = await browser.new_context()
        await open_and_wait(context, base + "app.ipynb")
        page = context.pages[0]
        for p in PAGES[1:]:
            await page.click(f".cgt-nav a[data-cgt-page='{p}']")
            await page.wait_for_selector(f".cgt-page-{p}.cgt-ready", timeout=VISIT_TIMEOUT_MS)
        rss = sorted(k.memory_info().rss / 2**20 for k in kernels(server))
        out["kernel_rss_mb"] = rss
        print("Kernel RSS with one tab open on every page (MB): " + ", ".join(f"{r:.0f}" for r in rss), flush=True)
        await close_tabs(context)
        parallel = args.soak if args.soak_parallel is None else args.soak_parallel
        for key, visits, tabs, seed in (("soak_sequential", args.soak, 1, 1), ("soak_parallel_4", parallel, 4, 2)):
            if visits:
                started = time.perf_counter()
                out[key] = await soak(browser, base, visits, tabs, seed=seed)
                s = out[key]
                print(f"{key}: {s['visits']} visits in {time.perf_counter() - started:.0f} s, {s['stalls']} stalls, "
                      f"{s['watchdog_reloads']} watchdog reloads", flush=True)
        await browser.close()
    await asyncio.sleep(10)  # shutdown requests from the last closed tabs
    out["kernels_alive_after_tabs_closed"] = len(kernels(server))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--soak", type=int, default=0, help="visits in the one-tab-at-a-time soak run (0: none)")
    parser.add_argument("--soak-parallel", type=int, default=None,
                        help="visits in the 4-tabs-at-once soak run (default: the same as --soak)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="cgtkit-bench-"))
    nb_dir = work / "notebooks"
    shutil.copytree(ROOT / "notebooks", nb_dir)
    (nb_dir / FLOOR_NB).write_text(json.dumps(MINIMAL))
    port = _free_port()
    env = dict(os.environ, CGTKIT_WORKBOOK=str(work / "workbook.json"))
    log_path = Path(tempfile.gettempdir()) / "cgtkit-bench-voila.log"
    with log_path.open("w") as log:
        server = subprocess.Popen([sys.executable, "-m", "cgtkit.app", f"--port={port}", f"--Voila.root_dir={nb_dir}"],
                                  cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}/voila/render/"
        try:
            for _ in range(200):
                try:
                    urllib.request.urlopen(base + FLOOR_NB, timeout=60)  # noqa: S310 - local server; warms the disk cache
                    break
                except OSError:
                    time.sleep(0.3)
            result = asyncio.run(run(args, base, server))
        finally:
            server.terminate()
            server.wait(timeout=30)
    shutil.rmtree(work, ignore_errors=True)
    report(result, args)
    print(f"server log: {log_path}")


def report_first_paint(times: dict[str, list[float]], args: argparse.Namespace) -> None:
    floor = statistics.median(times["floor: one-slider notebook"])
    print(f"First paint in Chromium, fresh context per view, median of {args.repeat}, {os.cpu_count()} CPUs")
    print(f"{'entry':40s} {'median s':>9s} {'min s':>7s} {'ratio to floor':>15s} {'views':>6s}")
    for name, values in times.items():
        if values:
            med = statistics.median(values)
            print(f"{name:40s} {med:9.2f} {min(values):7.2f} {med / floor:15.2f} {len(values):6d}")
        else:
            print(f"{name:40s} {'stalled':>9s}")
    sys.stdout.flush()


def report_navigation(navigation: dict[str, float]) -> None:
    print("In-app navigation (click to widgets visible), one tab:")
    for label, seconds in navigation.items():
        print(f"  {label:40s} {seconds:6.2f} s")
    sys.stdout.flush()


def report(result: dict, args: argparse.Namespace) -> None:
    print(f"kernels alive 10 s after every tab was closed: {result['kernels_alive_after_tabs_closed']}")


if __name__ == "__main__":
    main()
