"""P13: ours against the published ``suitkaise`` 0.4.x, row by row, where it has the feature.

The published package owns the ``suitkaise`` import name, so it runs in its own environment
(``tools/bench/peer_suitkaise.py``) as a subprocess; ours runs here, in the same bench run. Each row is
one function in ``ROWS`` returning a :class:`Result` (or ``None`` when the peer cannot run): add a row
by appending a function. Bar: ours faster on every row (ratio < 1.0); the ratio is reported.
Set ``SK_BENCH_NO_PEER_SUITKAISE=1`` to skip these rows (no network for the peer's install).
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable

from suitkaise_processing import Pool
from tools.bench._core import Result
from tools.bench.benchmarks.p01_pool_trivial import trivial

PEER = "suitkaise 0.4"
WORKERS = 2

POOL_SCRIPT = """
import json, statistics, time
from suitkaise.processing import Pool

def trivial(x):
    return x + 1

if __name__ == "__main__":
    n, repeat = {n}, {repeat}
    pool = Pool(workers={workers})
    try:
        assert sum(pool.map(trivial, range(100))) == 5050
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            out = pool.map(trivial, range(n))
            times.append(time.perf_counter() - start)
            assert len(out) == n
    finally:
        pool.close()
    print(json.dumps(statistics.median(times)))
"""


def _peer(script: str) -> float | None:
    if os.environ.get("SK_BENCH_NO_PEER_SUITKAISE"):
        return None
    try:
        from tools.bench.peer_suitkaise import run_in_peer

        return float(run_in_peer(script, timeout=1800))
    except Exception as exc:  # no network for the install, or the peer failed
        print(f"P13 peer unavailable: {exc}")
        return None


def pool_map_row(quick: bool) -> Result | None:
    """``Pool.map`` of a trivial function over N items, 2 workers."""
    n = 1_000 if quick else 10_000
    repeat = 3
    peer = _peer(POOL_SCRIPT.format(n=n, repeat=repeat, workers=WORKERS))
    if peer is None:
        return None
    times = []
    with Pool(workers=WORKERS) as pool:
        pool.map(trivial, range(100))
        for _ in range(max(repeat, 5)):
            start = time.perf_counter()
            pool.map(trivial, range(n))
            times.append(time.perf_counter() - start)
    ours = statistics.median(times)
    return Result(
        id="P13",
        name=f"Pool.map trivial, N={n:,}, vs published",
        ours=ours,
        peers={PEER: peer},
        bar="faster (< 1.0x)",
        bar_peer=PEER,
        bar_ratio=1.0,
        notes=f"{WORKERS} workers; {peer / ours:,.0f}x faster; the published Pool starts a process per item",
    )


#: one function per row; other packages append theirs
ROWS: list[Callable[[bool], Result | None]] = [pool_map_row]


def run(quick: bool) -> list[Result]:
    results = []
    for row in ROWS:
        result = row(quick)
        if result is not None:
            results.append(result)
    from tools.bench.benchmarks.p07_share_counter import p13_share_rows  # Share rows (issue #7)

    results.extend(p13_share_rows(quick))
    return results
