"""P2: ``Pool.map`` of 64 CPU-bound items of about 20 ms each, against the ideal.

The ideal is the total work divided by the workers, with no pool at all: two bare processes, already
started, each computing 32 of the items (the time from the start signal to the last one done). This
keeps load from other programs on the machine out of the figure: it slows the ideal exactly as it
slows the pools. The serial time / 2 is shown too. The figure is the efficiency ideal / ours (bar: at
least 90%); ``multiprocessing.Pool.map`` is measured alongside. Rounds alternate the contenders.
"""

from __future__ import annotations

import multiprocessing
import statistics
import time
from typing import Any

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


def _bare(rounds: int, count: int, ready: Any, start: Any, out: Any) -> None:
    """A bare worker: wait for the start signal, compute ``count`` items, report the end time."""
    ready.set()
    start.wait(120)
    for _ in range(count):
        spin(rounds)
    out.put(time.perf_counter())


def _bare_pair(rounds: int) -> float:
    """Wall time of 2 bare processes computing ITEMS / 2 items each (the ideal with 2 workers)."""
    ctx = multiprocessing.get_context()
    out = ctx.Queue()
    start = ctx.Event()
    readies = [ctx.Event() for _ in range(WORKERS)]
    procs = [
        ctx.Process(target=_bare, args=(rounds, ITEMS // WORKERS, ready, start, out))  # type: ignore[attr-defined]
        for ready in readies
    ]
    try:
        for proc in procs:
            proc.start()
        for ready in readies:
            ready.wait(120)
        began = time.perf_counter()
        start.set()
        ends = [out.get(timeout=300) for _ in procs]
        return max(ends) - began
    finally:
        for proc in procs:
            proc.join(60)
            if proc.is_alive():
                proc.kill()
                proc.join()


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
    bare: list[float] = []
    ours_t: list[float] = []
    peer_t: list[float] = []
    with Pool(workers=WORKERS) as pool, multiprocessing.Pool(WORKERS) as mp_pool:
        pool.map(spin, work[:4])  # warm-up with the real work (ours also learns the time per item)
        mp_pool.map(spin, work[:4])
        for _ in range(repeat):
            start = time.perf_counter()
            expected = [spin(n) for n in work[:8]]
            serial.append((time.perf_counter() - start) * ITEMS / 8)
            bare.append(_bare_pair(rounds))
            ours_t.append(median_time(lambda: pool.map(spin, work), repeat=1, warmup=0))
            peer_t.append(median_time(lambda: mp_pool.map(spin, work), repeat=1, warmup=0))
        assert pool.map(spin, work[:8]) == expected
    ideal = statistics.median(bare)
    ours = statistics.median(ours_t)
    peer = statistics.median(peer_t)
    efficiency = ideal / ours
    return [
        Result(
            id="P2",
            name=f"Pool.map {ITEMS} CPU-bound items of ~{TARGET * 1e3:.0f} ms",
            ours=ours,
            peers={
                "ideal (2 bare processes)": ideal,
                "serial / 2": statistics.median(serial) / WORKERS,
                "multiprocessing.Pool.map": peer,
            },
            bar=">= 90% of ideal",
            passed=efficiency >= 0.90,
            notes=f"efficiency {efficiency:.0%} (multiprocessing {ideal / peer:.0%}); {WORKERS} workers",
        )
    ]
