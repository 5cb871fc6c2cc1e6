"""P10: ``SharedMemoryCounter.increment()`` against ``multiprocessing.Value('i')`` with its lock.

Rows (per-operation wall time, lower is better; bar: ours <= 1.0x the peer, and exact):
- 1 process: N increments in a loop.
- 2 processes contending: both start together (an Event) and each does N increments; the time is
  from the start signal to the last one finishing, divided by 2N. The final value must be exactly 2N
  in every repetition (folded into ``passed``).
Informational rows (no bar): ``counter.value += 1`` (atomic here) and the seed's
``with counter.get_lock(): counter.value += 1``, against the same multiprocessing pattern.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

from shared_counter import SharedMemoryCounter
from tools.bench._core import Result, median_time

PEER = "multiprocessing.Value"
_START_TIMEOUT = 120.0


def _ours_loop(counter: SharedMemoryCounter, n: int) -> None:
    increment = counter.increment
    for _ in range(n):
        increment()


def _ours_plus_equal(counter: SharedMemoryCounter, n: int) -> None:
    for _ in range(n):
        counter.value += 1


def _ours_locked(counter: SharedMemoryCounter, n: int) -> None:
    for _ in range(n):
        with counter.get_lock():
            counter.value += 1


def _peer_loop(value: Any, n: int) -> None:
    for _ in range(n):
        with value.get_lock():
            value.value += 1


def _contender(kind: str, target: Any, n: int, ready: Any, start: Any, out: Any) -> None:
    """Child: connect, say ready, wait for the start signal, do n increments, report the end time."""
    if kind == "ours":
        counter = SharedMemoryCounter(target[0], run_id=target[1])
        ready.set()
        start.wait(_START_TIMEOUT)
        _ours_loop(counter, n)
        end = time.perf_counter()
        counter.close()
    else:
        ready.set()
        start.wait(_START_TIMEOUT)
        _peer_loop(target, n)
        end = time.perf_counter()
    out.put(end)


def _contended_once(kind: str, n: int, rep: int) -> tuple[float, bool]:
    """Per-op time of 2 processes x n increments started together; whether the final value is exact."""
    ctx = multiprocessing.get_context("spawn")
    if kind == "ours":
        counter = SharedMemoryCounter(f"p10_{rep}", create=True, run_id=f"b{os.getpid()}")
        target: Any = (counter.name, counter.run_id)
    else:
        target = ctx.Value("i", 0)
    out = ctx.Queue()
    start = ctx.Event()
    readies = [ctx.Event() for _ in range(2)]
    procs = [
        ctx.Process(target=_contender, args=(kind, target, n, ready, start, out))
        for ready in readies
    ]
    try:
        for proc in procs:
            proc.start()
        for ready in readies:
            if not ready.wait(_START_TIMEOUT):
                raise RuntimeError("a benchmark child did not start")
        began = time.perf_counter()
        start.set()
        ends = [out.get(timeout=_START_TIMEOUT) for _ in procs]
        for proc in procs:
            proc.join(_START_TIMEOUT)
        final = counter.value if kind == "ours" else target.value
        return (max(ends) - began) / (2 * n), final == 2 * n
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.kill()
                proc.join()
        if kind == "ours":
            counter.unlink()
            counter.close()


def _contended(n: int, repeat: int) -> tuple[float, float, bool, bool]:
    """Median per-op times (ours, peer) of 2 contending processes, measured in turns; exactness."""
    samples: dict[str, list[float]] = {"ours": [], "peer": []}
    exact = {"ours": True, "peer": True}
    for rep in range(repeat + 1):
        for kind in ("ours", "peer"):
            per_op, ok = _contended_once(kind, n, rep)
            exact[kind] = exact[kind] and ok
            if rep:  # the first turn warms up
                samples[kind].append(per_op)
    return (
        statistics.median(samples["ours"]),
        statistics.median(samples["peer"]),
        exact["ours"],
        exact["peer"],
    )


def _uncontended(
    ours: tuple[Callable[[Any, int], None], Callable[[], Any]],
    peer: tuple[Callable[[Any, int], None], Callable[[], Any]],
    n: int,
    repeat: int,
) -> tuple[float, float, bool, bool]:
    """Median per-op times of n operations in one process, ours and the peer's measured in turns
    (so that load from other processes hits both alike); whether every final count was exact."""
    samples: dict[int, list[float]] = {0: [], 1: []}
    exact = {0: True, 1: True}
    for rep in range(repeat + 1):
        for side, (fn, make) in enumerate((ours, peer)):
            obj = make()
            per_op = median_time(functools.partial(fn, obj, n), repeat=1, warmup=0, per=n)
            exact[side] = exact[side] and obj.value == n
            if rep:  # the first turn warms up
                samples[side].append(per_op)
    return (
        statistics.median(samples[0]),
        statistics.median(samples[1]),
        exact[0],
        exact[1],
    )


def run(quick: bool) -> list[Result]:
    n = 50_000 if quick else 200_000
    repeat = 3 if quick else 5
    run_id = f"b{os.getpid()}"
    made: list[SharedMemoryCounter] = []

    def fresh_counter() -> SharedMemoryCounter:
        for old in made:
            old.unlink()
            old.close()
        made.clear()
        counter = SharedMemoryCounter("p10", create=True, run_id=run_id)
        made.append(counter)
        return counter

    def fresh_value() -> Any:
        return multiprocessing.Value("i", 0)

    results: list[Result] = []
    try:
        ours, peer, ours_exact, peer_exact = _uncontended(
            (_ours_loop, fresh_counter), (_peer_loop, fresh_value), n, repeat
        )
        results.append(
            Result(
                id="P10",
                name="increment(), 1 process",
                ours=ours,
                peers={PEER: peer},
                bar="<= 1.0x, exact",
                bar_peer=PEER,
                bar_ratio=1.0,
                passed=ours / peer <= 1.0 and ours_exact,
                notes=f"{n:,} ops; exact: ours {ours_exact}, peer {peer_exact}",
            )
        )
        for label, fn in (
            ("value += 1 (atomic), 1 process", _ours_plus_equal),
            ("with get_lock(): value += 1, 1 process", _ours_locked),
        ):
            info, info_peer, info_exact, _ = _uncontended(
                (fn, fresh_counter), (_peer_loop, fresh_value), n, repeat
            )
            results.append(
                Result(
                    id="P10",
                    name=label,
                    ours=info,
                    peers={PEER: info_peer},
                    bar="info",
                    notes=f"{n:,} ops; exact: {info_exact}",
                )
            )
    finally:
        for old in made:
            old.unlink()
            old.close()

    ours2, peer2, ours2_exact, peer2_exact = _contended(n, repeat)
    results.append(
        Result(
            id="P10",
            name="increment(), 2 processes contending",
            ours=ours2,
            peers={PEER: peer2},
            bar="<= 1.0x, exact",
            bar_peer=PEER,
            bar_ratio=1.0,
            passed=ours2 / peer2 <= 1.0 and ours2_exact,
            notes=f"2 x {n:,} ops; exact in every run: ours {ours2_exact}, peer {peer2_exact}",
        )
    )
    return results
