"""P7: ``share.counter += 1`` from 2 processes, N each, against ``Manager().Namespace`` + a manager lock.

Both sides start together (an Event); the time is from the start signal to the last process
finishing (with the last write applied: ours ends with a read, which waits for it), divided by 2N.
The final value must be exactly 2N in every repetition (folded into ``passed``). An informational
row shows the Manager without its lock, which loses updates.
"""

from __future__ import annotations

import multiprocessing
import statistics
import time
from typing import Any

from suitkaise_processing import Share
from tools.bench._core import Result

PEER = "Manager().Namespace + lock"
_TIMEOUT = 300.0


def _ours(share: Share, n: int) -> None:
    for _ in range(n):
        share.counter += 1
    _ = share.counter  # returns once every write of this process is applied


def _peer(ns: Any, lock: Any, n: int) -> None:
    for _ in range(n):
        with lock:
            ns.counter += 1


def _peer_unlocked(ns: Any, lock: Any, n: int) -> None:
    for _ in range(n):
        ns.counter += 1


def _contender(kind: str, target: Any, lock: Any, n: int, ready: Any, start: Any, out: Any) -> None:
    if kind == "ours":
        _ = target.counter  # connect before the clock starts
        ready.set()
        start.wait(_TIMEOUT)
        _ours(target, n)
    else:
        _ = target.counter
        ready.set()
        start.wait(_TIMEOUT)
        (_peer if kind == "peer" else _peer_unlocked)(target, lock, n)
    out.put(time.perf_counter())


def _once(kind: str, n: int, manager: Any) -> tuple[float, int]:
    ctx = multiprocessing.get_context("spawn")
    share: Share | None = None
    lock = None
    if kind == "ours":
        share = Share()
        share.counter = 0
        target: Any = share
    else:
        target = manager.Namespace()
        target.counter = 0
        lock = manager.Lock()
    out = ctx.Queue()
    start = ctx.Event()
    readies = [ctx.Event() for _ in range(2)]
    procs = [
        ctx.Process(target=_contender, args=(kind, target, lock, n, ready, start, out))  # type: ignore[attr-defined]
        for ready in readies
    ]
    try:
        for proc in procs:
            proc.start()
        for ready in readies:
            if not ready.wait(_TIMEOUT):
                raise RuntimeError("a benchmark child did not start")
        began = time.perf_counter()
        start.set()
        ends = [out.get(timeout=_TIMEOUT) for _ in procs]
        for proc in procs:
            proc.join(_TIMEOUT)
        final = int(target.counter)
        return (max(ends) - began) / (2 * n), final
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.kill()
                proc.join()
        if share is not None:
            share.stop()


def run(quick: bool) -> list[Result]:
    n = 2_000 if quick else 10_000
    repeat = 3 if quick else 5
    samples: dict[str, list[float]] = {"ours": [], "peer": [], "unlocked": []}
    finals: dict[str, list[int]] = {"ours": [], "peer": [], "unlocked": []}
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        for rep in range(repeat + 1):
            for kind in ("ours", "peer", "unlocked"):
                if kind == "unlocked" and rep > 1:
                    continue
                per_op, final = _once(kind, n, manager)
                finals[kind].append(final)
                if rep or kind == "unlocked":  # the first turn warms up
                    samples[kind].append(per_op)
    ours = statistics.median(samples["ours"])
    peer = statistics.median(samples["peer"])
    exact = all(f == 2 * n for f in finals["ours"])
    peer_exact = all(f == 2 * n for f in finals["peer"])
    lost = 2 * n - min(finals["unlocked"])
    return [
        Result(
            id="P7",
            name=f"share.counter += 1, 2 procs x {n:,}",
            ours=ours,
            peers={PEER: peer},
            bar="exact; ops/s >= Manager's (<= 1.0x time)",
            bar_peer=PEER,
            bar_ratio=1.0,
            passed=exact and ours <= peer,
            notes=(
                f"ours {1 / ours:,.0f} ops/s, exact {exact}; Manager+lock {1 / peer:,.0f} ops/s, exact "
                f"{peer_exact}; Manager without lock lost {lost:,} of {2 * n:,}"
            ),
        ),
        Result(
            id="P7",
            name="Manager().Namespace without lock (info)",
            ours=statistics.median(samples["unlocked"]),
            bar="info",
            notes=f"lost {lost:,} of {2 * n:,} updates",
        ),
    ]
