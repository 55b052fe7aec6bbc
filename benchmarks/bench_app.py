"""Kernel time and memory of the one-kernel app: first paint, first visit to each page, page switches.

Each repeat runs in a fresh Python process holding a real (in-process) IPython
kernel, with cold imports, empty caches and a new workbook on the example data,
as a new Voila kernel would:

1. import the app and build it on the home page (what the first paint waits for);
2. visit each page once, in navigation order (its module imported and built on first visit);
3. switch between pages already built, several times.

Times are kernel (Python) time only; drawing in the browser is measured by
``bench_voila.py``. Memory is the process's resident set size after step 1 and
after step 2.

    python benchmarks/bench_app.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, sys
from ipykernel.inprocess.manager import InProcessKernelManager
km = InProcessKernelManager(); km.start_kernel()
shell = km.kernel.shell  # a real IPython kernel: displays and widget messages go through it
result = shell.run_cell('''
import json, sys, time, psutil
t0 = time.perf_counter()
from cgtkit.ui.app import App
from cgtkit.session import WorkbookStore
store = WorkbookStore(WORKBOOK)
store.load()  # the workbook exists before the app opens, as it does after the first visit
t1 = time.perf_counter()
app = App(store)
out = {"first_paint_s": time.perf_counter() - t0, "import_s": t1 - t0,
       "rss_home_mb": psutil.Process().memory_info().rss / 2**20, "first_visit_s": {}, "switch_s": []}
pages = ["start_here", "clinical_development", "commercial_specifications"]
for p in pages:
    t = time.perf_counter(); app.router.page = p; out["first_visit_s"][p] = time.perf_counter() - t
out["rss_all_mb"] = psutil.Process().memory_info().rss / 2**20
for _ in range(3):
    for p in ["home", *pages]:
        t = time.perf_counter(); app.router.page = p; out["switch_s"].append(time.perf_counter() - t)
out["scipy_stats_loaded"] = "scipy.stats" in sys.modules
'''.replace("WORKBOOK", repr(sys.argv[1])))
assert result.success, result.error_in_exec
print(json.dumps(shell.user_ns["out"]))
"""


def run_once(workdir: Path) -> dict:
    env = dict(os.environ, CGTKIT_STRICT="1")
    done = subprocess.run([sys.executable, "-c", CHILD, str(workdir / "workbook.json")], capture_output=True,
                          text=True, env=env, check=True)
    return json.loads([ln for ln in done.stdout.splitlines() if ln.startswith('{')][-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    runs = []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            runs.append(run_once(Path(tmp)))
    med = statistics.median
    print(f"One-kernel app, kernel time, fresh process per repeat, median of {args.repeat}, {os.cpu_count()} CPUs")
    print(f"{'step':44s} {'median':>9s} {'max':>9s}")
    print(f"{'import cgtkit.ui.app + workbook load':44s} {med(r['import_s'] for r in runs):8.2f}s "
          f"{max(r['import_s'] for r in runs):8.2f}s")
    print(f"{'first paint: app built on home (incl. import)':44s} {med(r['first_paint_s'] for r in runs):8.2f}s "
          f"{max(r['first_paint_s'] for r in runs):8.2f}s")
    for page in runs[0]["first_visit_s"]:
        values = [r["first_visit_s"][page] for r in runs]
        print(f"{'first visit: ' + page:44s} {med(values):8.2f}s {max(values):8.2f}s")
    switches = [s for r in runs for s in r["switch_s"]]
    print(f"{'switch to a page already built':44s} {med(switches) * 1000:7.1f}ms {max(switches) * 1000:7.1f}ms")
    print(f"{'kernel RSS after home':44s} {med(r['rss_home_mb'] for r in runs):7.0f}MB")
    print(f"{'kernel RSS after every page':44s} {med(r['rss_all_mb'] for r in runs):7.0f}MB")
    print(f"scipy.stats imported: {sorted({r['scipy_stats_loaded'] for r in runs})}")


if __name__ == "__main__":
    main()
