"""P2: ``Pool.map`` of 64 CPU-bound items of about 20 ms each, against the ideal.

The ideal is the total work divided by the workers: the serial time of the same 64 items measured
in this process, in the same run, divided by 2. The figure is the efficiency ideal / ours (bar: at least
90%); ``multiprocessing.Pool.map`` is measured alongside for reference. On a machine shared with
other work the serial measurement and the parallel one see different load: the rounds alternate them.
"""

from __future__ import annotations

import multiprocessing
import statistics
import time

from suitkaise_processing import Pool
from tools.bench._core import Result, median_time

WORKERS = 2
ITEMS = 64
TARGET = 0.020


def spin(n: int) -> int:
    """CPU-bound work: ``n`` rounds of integer arithmetic."""
    acc = 0
    for i in range(n):
        acc = (acc * 31 + i) & 0xFFFFFFFF
    return acc


def _calibrate() -> int:
    """Rounds of :func:`spin` that take about ``TARGET`` seconds here."""
    rounds = 20_000
    while True:
        elapsed = median_time(lambda rounds=rounds: spin(rounds), repeat=3, warmup=1)
        if elapsed >= TARGET / 4:
            return max(1, int(rounds * TARGET / elapsed))
        rounds *= 2


def run(quick: bool) -> list[Result]:
    repeat = 3 if quick else 5
    rounds = _calibrate()
    work = [rounds] * ITEMS
    serial: list[float] = []
    ours_t: list[float] = []
    peer_t: list[float] = []
    with Pool(workers=WORKERS) as pool, multiprocessing.Pool(WORKERS) as mp_pool:
        pool.map(spin, work[:4])  # warm-up with the real work (ours also learns the time per item)
        mp_pool.map(spin, work[:4])
        for _ in range(repeat):
            start = time.perf_counter()
            expected = [spin(n) for n in work[:8]]
            serial.append((time.perf_counter() - start) * ITEMS / 8)
            ours_t.append(median_time(lambda: pool.map(spin, work), repeat=1, warmup=0))
            peer_t.append(median_time(lambda: mp_pool.map(spin, work), repeat=1, warmup=0))
        assert pool.map(spin, work[:8]) == expected
    ideal = statistics.median(serial) / WORKERS
    ours = statistics.median(ours_t)
    peer = statistics.median(peer_t)
    efficiency = ideal / ours
    return [
        Result(
            id="P2",
            name=f"Pool.map {ITEMS} CPU-bound items of ~{TARGET * 1e3:.0f} ms",
            ours=ours,
            peers={"ideal (work / workers)": ideal, "multiprocessing.Pool.map": peer},
            bar=">= 90% of ideal",
            passed=efficiency >= 0.90,
            notes=f"efficiency {efficiency:.0%} (multiprocessing {ideal / peer:.0%}); {WORKERS} workers",
        )
    ]
