"""P21: ``Pool.submit`` (the ``concurrent.futures.Executor`` face of Pool) against
``ProcessPoolExecutor.submit``.

Rows: the round trip of one call (``submit(fn, x).result()``, one after the other, so each call pays
the full way to a worker and back), and a burst (1,000 calls submitted at once, then every result
awaited). 2 workers on both sides, both warmed up; the contenders are timed in turns (one batch each
per round) so that load from other processes hits both alike; each figure is the median over rounds.
Bar: round trip <= 1.0x ProcessPoolExecutor (issue 15); the burst is reported against the same peer.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor

from suitkaise_processing import Pool
from tools.bench._core import Result
from tools.bench.benchmarks.p01_pool_trivial import interleaved, trivial

WORKERS = 2
PEER = "ProcessPoolExecutor.submit"
ROUND_TRIPS = 50
BURST = 1_000


def round_trips(executor: Executor, n: int = ROUND_TRIPS) -> int:
    """``n`` calls, each awaited before the next is submitted."""
    total = 0
    for i in range(n):
        total += executor.submit(trivial, i).result()
    return total


def burst(executor: Executor, n: int = BURST) -> int:
    """``n`` calls submitted at once, then every result awaited."""
    futures = [executor.submit(trivial, i) for i in range(n)]
    return sum(future.result() for future in futures)


def run(quick: bool) -> list[Result]:
    repeat = 7 if quick else 15
    with Pool(workers=WORKERS) as ours, ProcessPoolExecutor(WORKERS) as ppe:
        for executor in (ours, ppe):  # start the workers, import everything
            burst(executor, 100)
            round_trips(executor, 10)
        expected = BURST * (BURST + 1) // 2
        assert burst(ours) == expected == burst(ppe)
        single: dict[str, Callable[[], object]] = {
            "ours": lambda: round_trips(ours),
            PEER: lambda: round_trips(ppe),
        }
        many: dict[str, Callable[[], object]] = {
            "ours": lambda: burst(ours),
            PEER: lambda: burst(ppe),
        }
        one = interleaved(single, repeat)
        all_at_once = interleaved(many, repeat)
    return [
        Result(
            id="P21",
            name="submit() round trip: submit(fn, x).result(), one call at a time",
            ours=one.pop("ours") / ROUND_TRIPS,
            peers={name: t / ROUND_TRIPS for name, t in one.items()},
            bar="<= 1.0x ProcessPoolExecutor",
            bar_peer=PEER,
            bar_ratio=1.0,
            notes=f"{WORKERS} workers; per call, median of {repeat} rounds of {ROUND_TRIPS} calls",
        ),
        Result(
            id="P21",
            name=f"submit() burst: {BURST:,} calls submitted, then every result",
            ours=all_at_once.pop("ours"),
            peers=all_at_once,
            bar="<= 1.0x ProcessPoolExecutor",
            bar_peer=PEER,
            bar_ratio=1.0,
            notes=f"{WORKERS} workers; one call per message on both sides",
        ),
    ]
