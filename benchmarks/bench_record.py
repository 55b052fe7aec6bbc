"""Time to render the decision record of a large workbook: 50 decisions over 5 data sets.

The workbook is made once by the pages' own models on copies of the example lots
(``tests/unit/test_record_workbooks.py``: per data set, the Clinical development set of
criteria and Commercial specifications criteria) and saved. Each format is then timed
cold, in a new Python process per run: importing cgtkit's record package, reading the
workbook file, building the record (figures included) and rendering it; and warm, a
second render in the same process. The issue's target is under 3 s for HTML and for
Word each.

    python benchmarks/bench_record.py [--decisions 50] [--datasets 5] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def one(fmt: str, workbook: Path) -> dict[str, float]:
    """Runs in a child process: the cold and the warm render of one format, in seconds."""
    t0 = time.perf_counter()
    from cgtkit.record import build_record, render_docx, render_html
    from cgtkit.session import Session

    imported = time.perf_counter()
    render = {"html": lambda r: render_html(r).encode("utf-8"), "docx": render_docx}[fmt]
    session = Session.load(workbook)
    loaded = time.perf_counter()
    record = build_record(session)
    built = time.perf_counter()
    data = render(record)
    done = time.perf_counter()
    again = build_record(Session.load(workbook))
    render(again)
    warm = time.perf_counter() - done
    return {"import": imported - t0, "load": loaded - imported, "build": built - loaded, "render": done - built,
            "cold": done - t0, "warm": warm, "bytes": len(data), "figures": len(record.figures)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--decisions", type=int, default=50)
    parser.add_argument("--datasets", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--one", choices=["html", "docx"], help=argparse.SUPPRESS)
    parser.add_argument("--workbook", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.workbook)))
        return

    sys.path.insert(0, str(ROOT))
    from tests.unit.test_record_workbooks import many_decisions

    workbook = Path(tempfile.mkdtemp(prefix="cgtkit-bench-record-")) / "workbook.json"
    session = many_decisions(args.decisions, args.datasets)
    session.save(workbook)
    print(f"workbook: {len(session.decisions)} decisions, {len(session.datasets)} data sets, "
          f"{workbook.stat().st_size / 2**20:.1f} MB")
    for fmt in ("html", "docx"):
        runs = []
        for _ in range(args.runs):
            out = subprocess.run([sys.executable, __file__, "--one", fmt, "--workbook", str(workbook)], check=True,
                                 capture_output=True, text=True, cwd=ROOT)
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        each = ", ".join(f"{r['cold']:.2f}" for r in runs)
        print(f"{fmt:5s} cold {med['cold']:.2f} s (import {med['import']:.2f}, read workbook {med['load']:.2f}, "
              f"build record {med['build']:.2f}, render {med['render']:.2f}); warm {med['warm']:.2f} s; "
              f"{med['bytes'] / 2**20:.1f} MB, {int(med['figures'])} figures; median of {args.runs} new processes "
              f"(cold: {each})")


if __name__ == "__main__":
    main()
