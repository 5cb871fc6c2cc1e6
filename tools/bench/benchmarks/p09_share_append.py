"""P9: ``share.items.append(x)`` cost with 100 vs 100,000 items already in the list.

One process appends M items (each ``share.items.append(i)``) and then reads ``len(share.items)``,
which waits until every append is applied and committed: the time covers the coordinator's work
too. Bar: the cost per append at 100,000 items <= 5x the cost at 100 (the coordinator appends delta
records instead of re-serializing the list). ``Manager().list`` appends are shown for reference.
"""

from __future__ import annotations

import multiprocessing
import statistics
from typing import Any

from suitkaise_processing import Share
from tools.bench._core import Result, median_time


def _appends(share: Share, m: int) -> None:
    items = share.items
    for i in range(m):
        items.append(i)
    assert len(share.items) >= m


def _cost(size: int, m: int, repeat: int) -> float:
    share = Share()
    try:
        samples: list[float] = []
        for _rep in range(repeat + 1):
            share.items = list(range(size))
            samples.append(median_time(lambda: _appends(share, m), repeat=1, warmup=0, per=m))
        return statistics.median(samples[1:])
    finally:
        share.stop()


def _manager_cost(manager: Any, size: int, m: int, repeat: int) -> float:
    samples: list[float] = []
    for _ in range(repeat):
        lst = manager.list(range(size))

        def appends(lst: Any = lst) -> None:
            for i in range(m):
                lst.append(i)

        samples.append(median_time(appends, repeat=1, warmup=0, per=m))
    return statistics.median(samples)


def run(quick: bool) -> list[Result]:
    m = 1_000 if quick else 5_000
    repeat = 3 if quick else 5
    small = _cost(100, m, repeat)
    large = _cost(100_000, m, repeat)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        manager_large = _manager_cost(manager, 100_000, m // 5, repeat)
    return [
        Result(
            id="P9",
            name="append with 100k items vs 100 items",
            ours=large,
            peers={"itself at 100 items": small, "Manager().list at 100k (info)": manager_large},
            bar="<= 5x the cost at 100 items",
            bar_peer="itself at 100 items",
            bar_ratio=5.0,
            notes=(
                f"per append: {small * 1e6:.1f} us at 100 items, {large * 1e6:.1f} us at 100,000 "
                f"(ratio {large / small:.2f}); Manager().list {manager_large * 1e6:.1f} us"
            ),
        )
    ]
