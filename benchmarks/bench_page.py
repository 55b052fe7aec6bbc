"""Server time of one interaction on the Commercial specifications page, for 500 lots.

Builds the page's view on a synthetic 500-lot CAR-T data set (scaled up from the
example data's lot-to-lot variation), then times what one user action costs the
kernel: changing the attribute, the k method, and the candidate. Figures are
built as in the app; sending them to the browser is not included (rendering is
measured by bench_voila.py).

    python benchmarks/bench_page.py [--lots 500] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def synthetic_lots(n_lots: int, seed: int = 1) -> pd.DataFrame:
    """A long-format table of n_lots CAR-T-like lots with three attributes."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2020-01-01", periods=n_lots, freq="3D")
    lot_types = np.where(np.arange(n_lots) < 30, "clinical", np.where(np.arange(n_lots) < 33, "ppq", "commercial"))
    rows = []
    for i in range(n_lots):
        for attr, unit, value in (
            ("viability", "%", min(99.0, rng.normal(88, 4))),
            ("transduction_efficiency", "% CAR+", rng.normal(45, 8)),
            ("vector_copy_number", "copies/transduced cell", float(np.exp(rng.normal(np.log(1.8), 0.3)))),
        ):
            rows.append(dict(lot_id=f"B{i:04d}", attribute=attr, value=f"{value:.3f}", unit=unit,
                             lot_type=lot_types[i], manufacture_date=dates[i].date().isoformat()))
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lots", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from cgtkit.io import load_lots
    from cgtkit.session import Session, WorkbookStore
    from cgtkit.ui import commercial_specifications as page_module

    # Figures are built as in the app (plotly objects, then JSON); only sending them is left out.
    work = Path(tempfile.mkdtemp(prefix="cgtkit-bench-"))
    csv = work / "lots.csv"
    synthetic_lots(args.lots).to_csv(csv, index=False)
    store = WorkbookStore(work / "wb.json")
    store.replace(Session().with_dataset("big", load_lots(csv), source="benchmark"))

    t0 = time.perf_counter()
    view = page_module.build_page(store)
    build = time.perf_counter() - t0
    # criteria from all lot types, so the computations see every lot
    for box in view.controls.lot_boxes.values():
        box.value = True

    def timed(action) -> float:  # noqa: ANN001
        start = time.perf_counter()
        action()
        return time.perf_counter() - start

    actions = {
        "change attribute": lambda: setattr(view.controls.attribute, "value",
                                            "transduction_efficiency"
                                            if view.controls.attribute.value != "transduction_efficiency"
                                            else "vector_copy_number"),
        "change two-sided k method": lambda: setattr(view.method, "value",
                                                     "howe" if view.method.value == "exact" else "exact"),
        "change candidate": lambda: setattr(view.candidate, "value",
                                            "range" if view.candidate.value != "range" else "ti_99_95"),
    }
    print(f"Commercial specifications page, {args.lots} lots x 3 attributes, median of {args.repeat}")
    print(f"{'page build (first view)':32s} {build * 1000:8.0f} ms")
    for name, action in actions.items():
        times = [timed(action) for _ in range(args.repeat)]
        if view.status.kind == "error":
            raise SystemExit(f"{name} failed: {view.status.text}")
        print(f"{name:32s} {statistics.median(times) * 1000:8.0f} ms  (max {max(times) * 1000:.0f} ms)")


if __name__ == "__main__":
    main()
