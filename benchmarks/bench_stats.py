"""Timings for the statistics behind "specifications from few lots".

Run with ``python benchmarks/bench_stats.py``. Prints the best of 3 wall-clock
times (``time.perf_counter``) for

* exact two-sided tolerance factors for every n in 2..200 at the 9
  coverage/confidence pairs (0.90/0.95/0.99 x 0.90/0.95/0.99), with all memo
  caches cleared before each repeat, and
* the probability that at least one of the next 100 lots is out of limits set
  at mean +/- 3 SD from 10 lots (``prob_any_oos``, integration), cold and warm
  quadrature-grid cache;
* the power grid of the comparability page's equivalence test: n per side 2-30
  x 5 true differences x 3 margins (exact, Owen's Q), cold quadrature cache
  (target: under 1 s, issue #18);
* the PPQ pass-probability heat map, 50 x 50 means and SDs, for each acceptance
  criterion (target: under 1 s, issue #19).

No assertions: this is for reading, not for CI.
"""

from __future__ import annotations

import time
from typing import Callable

from cgtkit.stats import equivalence, oos_risk, ppq, tolerance

PAIRS = [(p, g) for p in (0.90, 0.95, 0.99) for g in (0.90, 0.95, 0.99)]
NS = range(2, 201)


def _best_of(fn: Callable[[], object], setup: Callable[[], None] | None = None, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        if setup is not None:
            setup()
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _exact_k_grid() -> None:
    for p, g in PAIRS:
        for n in NS:
            tolerance.tolerance_factor(n, p, g, sided=2, method="exact")


def _one_sided_k_grid() -> None:
    for p, g in PAIRS:
        for n in NS:
            tolerance.tolerance_factor(n, p, g, sided=1)


def _oos_m100() -> None:
    oos_risk.prob_any_oos(10, 3.0, 100)


def _power_grid() -> None:
    equivalence.power_grid(range(2, 31), (0.0, 0.25, 0.5, 0.75, 1.0), (1.0, 1.5, 2.0))


def _clear_equivalence() -> None:
    equivalence._gl_nodes.cache_clear()


def _heat_map(criterion: str, **kwargs: object) -> Callable[[], None]:
    means, sds = ppq.default_grid_axes(95.0, 105.0, size=50)
    return lambda: ppq.pass_probability_grid(95.0, 105.0, means, sds, n_lots=3, criterion=criterion, **kwargs)


def _clear_all() -> None:
    tolerance.clear_cache()
    oos_risk._grid.cache_clear()


def main() -> None:
    rows = [
        (
            f"exact two-sided k, n=2..200 x {len(PAIRS)} pairs ({len(NS) * len(PAIRS)} factors)",
            _best_of(_exact_k_grid, setup=tolerance.clear_cache),
        ),
        (
            f"exact one-sided k, n=2..200 x {len(PAIRS)} pairs ({len(NS) * len(PAIRS)} factors)",
            _best_of(_one_sided_k_grid, setup=tolerance.clear_cache),
        ),
        ("prob_any_oos(n=10, k=3, m=100), cold caches", _best_of(_oos_m100, setup=_clear_all)),
        ("prob_any_oos(n=10, k=3, m=100), warm grid", _best_of(_oos_m100)),
        ("TOST power grid, n 2-30 x 5 differences x 3 margins, cold", _best_of(_power_grid, setup=_clear_equivalence)),
        ("PPQ pass-probability map 50x50, each result inside", _best_of(_heat_map("results", n_per_lot=1))),
        ("PPQ pass-probability map 50x50, mean +/- k SD (k 2.373)",
         _best_of(_heat_map("interval", n_per_lot=10, k=2.373))),
        ("PPQ pass-probability map 50x50, mean +/- k SD, between-lot SD 0.5",
         _best_of(_heat_map("interval", n_per_lot=10, k=2.373, between_sd=0.5))),
        ("PPQ pass-probability map 50x50, both criteria (Monte Carlo)",
         _best_of(_heat_map("both", n_per_lot=10, k=2.373))),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"{'benchmark':<{width}}  {'best of 3':>10}")
    print(f"{'-' * width}  {'-' * 10}")
    for name, seconds in rows:
        print(f"{name:<{width}}  {seconds * 1000:>8.1f} ms")


if __name__ == "__main__":
    main()
