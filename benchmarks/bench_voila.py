"""Time for Voila to render cgtkit pages, measured in headless Chromium.

For each page: navigation start -> the page's widgets visible (``.cgt-ready``),
against a minimal one-slider notebook served by the same Voila with the same
configuration. Pages are opened in turn, ``--repeat`` times each, each in a
fresh browser context; the median is reported.

    python benchmarks/bench_voila.py [--repeat 5] [--preheat]

``--preheat`` turns on Voila's preheated kernels (pool of 1 per notebook) to
compare with the shipped configuration (voila.json).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]
MINIMAL = {
    "cells": [{"cell_type": "code", "execution_count": None, "id": "minimal", "metadata": {}, "outputs": [],
               "source": ["import ipywidgets as w\n", "s = w.IntSlider(description='x')\n",
                          "s.add_class('cgt-ready')\n", "s"]}],
    "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
    "nbformat": 4, "nbformat_minor": 5,
}
STALL_S = 60  # a page view slower than this counts as a stall, not a time
PAGES = {
    "minimal one-slider notebook": "zz_minimal.ipynb",
    "home": "00_home.ipynb",
    "start here": "01_start_here.ipynb",
    "clinical development": "02_clinical_development.ipynb",
    "commercial specifications": "03_commercial_specifications.ipynb",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--preheat", action="store_true")
    args = parser.parse_args()

    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="cgtkit-bench-"))
    nb_dir = work / "notebooks"
    shutil.copytree(ROOT / "notebooks", nb_dir)
    (nb_dir / PAGES["minimal one-slider notebook"]).write_text(json.dumps(MINIMAL))
    port = _free_port()
    cmd = [sys.executable, "-m", "cgtkit.app", f"--port={port}", f"--Voila.root_dir={nb_dir}"]
    if args.preheat:
        cmd += ["--VoilaConfiguration.preheat_kernel=True", "--VoilaConfiguration.default_pool_size=1"]
    env = dict(os.environ, CGTKIT_WORKBOOK=str(work / "workbook.json"))
    log_path = Path(tempfile.gettempdir()) / "cgtkit-bench-voila.log"
    log = log_path.open("w")
    server = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/voila/render/"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + PAGES["minimal one-slider notebook"], timeout=60)
                break
            except OSError:
                time.sleep(0.3)
        if args.preheat:
            time.sleep(20)  # let the pools fill
        times: dict[str, list[float]] = {name: [] for name in PAGES}
        stalls: list[str] = []
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
            for _ in range(args.repeat):
                for name, notebook in PAGES.items():
                    context = browser.new_context()
                    page = context.new_page()
                    start = time.perf_counter()
                    try:
                        page.goto(base + notebook, timeout=STALL_S * 1000)
                        page.wait_for_selector(".cgt-ready", timeout=STALL_S * 1000)
                        times[name].append(time.perf_counter() - start)
                    except PlaywrightTimeout:
                        stalls.append(f"{name} at {time.strftime('%H:%M:%S')}")
                    context.close()
                    if args.preheat:
                        time.sleep(8)  # give the pool time to refill, as between real visits
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()
        shutil.rmtree(work, ignore_errors=True)

    ref = statistics.median(times["minimal one-slider notebook"])
    mode = "preheated kernels (pool 1)" if args.preheat else "shipped voila.json (no preheat)"
    print(f"Voila render time in Chromium, {mode}, median of {args.repeat}, {os.cpu_count()} CPUs")
    print(f"{'page':32s} {'median s':>9s} {'min s':>7s} {'ratio to minimal':>17s}")
    for name, values in times.items():
        med = statistics.median(values)
        print(f"{name:32s} {med:9.2f} {min(values):7.2f} {med / ref:17.2f}")
    print(f"page views that did not render within {STALL_S} s: {len(stalls)}" + (f" ({'; '.join(stalls)})" if stalls else ""))
    print(f"server log: {log_path}")


if __name__ == "__main__":
    main()
