"""P1: ``Pool.map(fn, range(N))`` of a trivial function against the usual process pools.

N = 1,000 / 10,000 / 100,000 items, 2 workers everywhere, every pool warmed up before timing.
Peers: ``multiprocessing.Pool.map`` (default chunking), ``ProcessPoolExecutor.map`` with the same
automatic chunksize as multiprocessing (``ceil(N / (4 * workers))``) and loky's reusable executor with
that chunksize. The contenders are timed in turns (one burst each per round) so that load from other
processes on the machine hits all of them alike; in each round a contender runs a burst of ~20 ms of
calls (sub-millisecond calls timed one by one are mostly scheduler noise); each figure is the median
over the rounds of the time per call.
Bar: ours <= 1.0x multiprocessing at every N; the cost per item must not grow with N (linear cost).
"""

from __future__ import annotations

import math
import multiprocessing
import statistics
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

from suitkaise_processing import Pool
from tools.bench._core import Result, median_time

WORKERS = 2
PEER = "multiprocessing.Pool.map"


def trivial(x: int) -> int:
    """The work of one item: nothing."""
    return x + 1


def auto_chunksize(n: int, workers: int = WORKERS) -> int:
    """multiprocessing's default chunksize for ``n`` items."""
    return max(1, math.ceil(n / (4 * workers)))


def interleaved(
    contenders: dict[str, Callable[[], object]],
    repeat: int,
    warmup: int = 1,
    min_sample: float = 0.02,
) -> dict[str, float]:
    """Median wall time per call of each contender, timed in turns (one burst each per round).

    A burst repeats the call until it has run for about ``min_sample`` seconds (the count is fixed per
    contender from a first timed call): a single sub-millisecond call is mostly scheduler noise on a
    shared machine, a burst of them is not."""
    calls = {
        name: max(1, min(1000, round(min_sample / max(median_time(fn, repeat=1, warmup=0), 1e-6))))
        for name, fn in contenders.items()
    }
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for rnd in range(warmup + repeat):
        for name, fn in contenders.items():
            count = calls[name]
            elapsed = median_time(
                lambda fn=fn, count=count: [fn() for _ in range(count)], repeat=1, warmup=0
            )
            if rnd >= warmup:
                samples[name].append(elapsed / count)
    return {name: statistics.median(times) for name, times in samples.items()}


def run(quick: bool) -> list[Result]:
    sizes = (1_000, 10_000, 100_000)
    repeat = 5 if quick else 9
    try:
        from loky import get_reusable_executor
    except ImportError:  # pragma: no cover - bench extra not installed
        get_reusable_executor = None

    results: list[Result] = []
    per_item: dict[int, float] = {}
    with (
        Pool(workers=WORKERS) as ours,
        multiprocessing.Pool(WORKERS) as mp_pool,
        ProcessPoolExecutor(WORKERS) as ppe,
    ):
        loky = (
            get_reusable_executor(max_workers=WORKERS)
            if get_reusable_executor is not None
            else None
        )
        for warm in (ours.map, mp_pool.map):
            warm(trivial, range(100))
        list(ppe.map(trivial, range(100)))
        if loky is not None:
            list(loky.map(trivial, range(100)))
        for n in sizes:
            items = range(n)
            cs = auto_chunksize(n)
            expected = n * (n + 1) // 2
            assert sum(ours.map(trivial, items)) == expected
            contenders: dict[str, Callable[[], object]] = {
                "ours": lambda items=items: ours.map(trivial, items),
                PEER: lambda items=items: mp_pool.map(trivial, items),
                "ProcessPoolExecutor.map": lambda items=items, cs=cs: list(
                    ppe.map(trivial, items, chunksize=cs)
                ),
            }
            if loky is not None:
                contenders["loky"] = lambda items=items, cs=cs: list(
                    loky.map(trivial, items, chunksize=cs)
                )
            times = interleaved(contenders, repeat)
            per_item[n] = times["ours"] / n
            results.append(
                Result(
                    id="P1",
                    name=f"Pool.map trivial, N={n:,}",
                    ours=times.pop("ours"),
                    peers=times,
                    bar="<= 1.0x multiprocessing",
                    bar_peer=PEER,
                    bar_ratio=1.0,
                    notes=f"{WORKERS} workers; {per_item[n] * 1e9:.0f} ns per item",
                )
            )
        # the same with a list (a range slice travels in a few bytes; a list slice is pickled item by item)
        n = sizes[-1]
        as_list = list(range(n))
        cs = auto_chunksize(n)
        list_contenders: dict[str, Callable[[], object]] = {
            "ours": lambda: ours.map(trivial, as_list),
            PEER: lambda: mp_pool.map(trivial, as_list),
            "ProcessPoolExecutor.map": lambda: list(ppe.map(trivial, as_list, chunksize=cs)),
        }
        if loky is not None:
            list_contenders["loky"] = lambda: list(loky.map(trivial, as_list, chunksize=cs))
        times = interleaved(list_contenders, repeat)
        results.append(
            Result(
                id="P1",
                name=f"Pool.map trivial, list of N={n:,}",
                ours=times.pop("ours"),
                peers=times,
                bar="<= 1.0x multiprocessing",
                bar_peer=PEER,
                bar_ratio=1.0,
                notes=f"{WORKERS} workers; input is a list, not a range",
            )
        )
        if loky is not None:
            loky.shutdown(wait=True)
    growth = per_item[sizes[-1]] / per_item[sizes[1]]
    results.append(
        Result(
            id="P1",
            name="cost per item, N=100,000 vs N=10,000",
            ours=growth,
            unit="x",
            bar="<= 1.5 (linear in N)",
            passed=growth <= 1.5,
            notes="ratio of the per-item cost; 1.0 means perfectly linear",
        )
    )
    return results
