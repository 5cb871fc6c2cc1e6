"""P4: ``Pool.map(SkprocessClass, items)`` (runs=1) against ``Pool.map(fn, items)`` doing the same work.

Each item does about 1 ms of CPU work, so that the figure shows the cost of the lifecycle around it
(instance, prerun/run/postrun/onfinish/result with timers) and not process starts: Skprocess items
run inside the pool's persistent workers. Timed in turns; bar: <= 1.5x the plain function.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from suitkaise_processing import Pool, Skprocess
from tools.bench._core import Result
from tools.bench.benchmarks.p01_pool_trivial import interleaved
from tools.bench.benchmarks.p02_pool_cpu import spin

WORKERS = 2
ROUNDS = 15_000  # about 1 ms of spin() on a typical core


def work(n: int) -> int:
    return spin(n)


class WorkItem(Skprocess):
    def __init__(self, n: int) -> None:
        self.n = n
        self.process_config.runs = 1

    def __run__(self) -> None:
        self.value = spin(self.n)

    def __result__(self) -> int:
        return self.value


def run(quick: bool) -> list[Result]:
    n_items = 200 if quick else 400
    repeat = 5 if quick else 7
    items = [ROUNDS] * n_items
    with Pool(workers=WORKERS) as pool:
        assert pool.map(WorkItem, items[:4]) == pool.map(work, items[:4])
        contenders: dict[str, Callable[[], Any]] = {
            "ours": lambda: pool.map(WorkItem, items),
            "Pool.map(fn)": lambda: pool.map(work, items),
        }
        times = interleaved(contenders, repeat)
    per_item = (times["ours"] - times["Pool.map(fn)"]) * WORKERS / n_items
    return [
        Result(
            id="P4",
            name=f"Pool.map(Skprocess class), {n_items} items of ~1 ms",
            ours=times.pop("ours"),
            peers=times,
            bar="<= 1.5x plain function",
            bar_peer="Pool.map(fn)",
            bar_ratio=1.5,
            notes=f"lifecycle overhead about {per_item * 1e6:.0f} us per item",
        )
    ]
