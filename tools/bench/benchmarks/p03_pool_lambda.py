"""P3: ``Pool.map`` of a lambda and of a closure against loky (cloudpickle), 2 workers.

Plain pickle-based pools cannot send these at all. 10,000 trivial items; loky gets the same automatic
chunksize as multiprocessing would use. Timed in turns; bar: ours <= 1.2x loky.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from suitkaise_processing import Pool
from tools.bench._core import Result
from tools.bench.benchmarks.p01_pool_trivial import auto_chunksize, interleaved

WORKERS = 2
PEER = "loky"


def _make_closure(offset: int) -> Callable[[int], int]:
    def add_offset(x: int) -> int:
        return x + offset

    return add_offset


def run(quick: bool) -> list[Result]:
    try:
        from loky import get_reusable_executor
    except ImportError as exc:  # pragma: no cover - bench extra not installed
        raise RuntimeError(
            "P3 needs loky (the bench peers): run `python tools/dev.py bench` instead"
        ) from exc
    n = 10_000
    repeat = 5 if quick else 9
    items = list(range(n))
    cs = auto_chunksize(n)
    offset = 3
    cases: list[tuple[str, Callable[[int], int]]] = [
        ("lambda", lambda x: x + offset),
        ("closure", _make_closure(offset)),
    ]
    results: list[Result] = []
    with Pool(workers=WORKERS) as pool:
        loky = get_reusable_executor(max_workers=WORKERS)
        try:
            for label, fn in cases:
                expected = [x + offset for x in items]
                assert pool.map(fn, items) == expected
                assert list(loky.map(fn, items, chunksize=cs)) == expected
                contenders: dict[str, Callable[[], Any]] = {
                    "ours": lambda fn=fn: pool.map(fn, items),
                    PEER: lambda fn=fn: list(loky.map(fn, items, chunksize=cs)),
                }
                times = interleaved(contenders, repeat)
                results.append(
                    Result(
                        id="P3",
                        name=f"Pool.map of a {label}, N={n:,}",
                        ours=times.pop("ours"),
                        peers=times,
                        bar="<= 1.2x loky",
                        bar_peer=PEER,
                        bar_ratio=1.2,
                        notes=f"{WORKERS} workers; the function is sent once per worker per call",
                    )
                )
        finally:
            loky.shutdown(wait=True)
    return results
