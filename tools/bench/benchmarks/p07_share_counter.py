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


# ------------------------------------------------------------------------------ P13 rows (published suitkaise)

P13_PEER = "suitkaise 0.4"

_P13_SCRIPT = """
import json, time
from suitkaise.processing import Share, Pool

def work(share, n):
    share.counter  # connect
    t0 = time.perf_counter()
    for _ in range(n):
        share.counter += 1
    return (t0, time.perf_counter())

def bump(share, keys):
    for k in keys:
        share.d[k] += 1

if __name__ == "__main__":
    n, reads, repeat = {n}, {reads}, {repeat}
    share = Share()
    share.counter = 0
    share.x = 42
    pool = Pool(workers=2)
    per_op, finals = [], []
    for _ in range(repeat):
        share.counter = 0
        spans = pool.star().map(work, [(share, n)] * 2)
        time.sleep(1.0)
        per_op.append((max(e for _, e in spans) - min(s for s, _ in spans)) / (2 * n))
        finals.append(int(share.counter))
    share.x + 0
    t0 = time.perf_counter()
    for _ in range(reads):
        share.x + 0  # the published share.x is a lazy proxy: + 0 makes it read the value
    read = (time.perf_counter() - t0) / reads
    share.d = {{f"k{{i}}": 0 for i in range(5)}}
    pool.star().map(bump, [(share, [f"k{{i % 5}}" for i in range(125)])] * 4)
    time.sleep(1.0)
    total = sum(int(share.d[f"k{{i}}"]) for i in range(5))
    share.stop()
    print(json.dumps({{"per_op": sorted(per_op)[len(per_op) // 2], "finals": finals, "read": read, "dict_total": total}}))
"""


def _p13_ours_work(share: Share, n: int) -> tuple[float, float]:
    _ = share.counter
    t0 = time.perf_counter()
    for _ in range(n):
        share.counter += 1
    _ = share.counter  # this process's writes are applied
    return (t0, time.perf_counter())


def _p13_ours_bump(share: Share, keys: list[str]) -> None:
    for k in keys:
        share.d[k] += 1


def _p13_peer(quick: bool) -> dict[str, Any] | None:
    import os

    if os.environ.get("SK_BENCH_NO_PEER_SUITKAISE"):
        return None
    try:
        from tools.bench.peer_suitkaise import run_in_peer

        n = 300 if quick else 1_000
        reads = 300 if quick else 2_000
        result: dict[str, Any] = run_in_peer(
            _P13_SCRIPT.format(n=n, reads=reads, repeat=3), timeout=1800
        )
        result["n"] = n
        return result
    except Exception as exc:  # no network for the install, or the peer failed
        print(f"P13 (Share) peer unavailable: {exc}")
        return None


def p13_share_rows(quick: bool) -> list[Result]:
    """``share.counter += 1`` from 2 pool workers and ``share.x`` reads, ours vs the published Share."""
    from suitkaise_processing import Pool

    peer = _p13_peer(quick)
    if peer is None:
        return []
    n = int(peer["n"])
    share = Share()
    try:
        per_op: list[float] = []
        finals: list[int] = []
        with Pool(workers=2) as pool:
            for _ in range(3):
                share.counter = 0
                spans = pool.star().map(_p13_ours_work, [(share, n)] * 2)
                per_op.append((max(e for _, e in spans) - min(s for s, _ in spans)) / (2 * n))
                finals.append(int(share.counter))
            share.d = {f"k{i}": 0 for i in range(5)}
            pool.star().map(_p13_ours_bump, [(share, [f"k{i % 5}" for i in range(125)])] * 4)
            dict_total = sum(share.d.values())
        share.x = 42
        reads = 20_000
        _ = share.x + 0
        t0 = time.perf_counter()
        for _ in range(reads):
            _ = share.x + 0
        read = (time.perf_counter() - t0) / reads
    finally:
        share.stop()
    ours = statistics.median(per_op)
    exact = all(f == 2 * n for f in finals)
    return [
        Result(
            id="P13",
            name=f"Share counter += 1, 2 workers x {n:,}, vs published",
            ours=ours,
            peers={P13_PEER: float(peer["per_op"])},
            bar="faster (< 1.0x)",
            bar_peer=P13_PEER,
            bar_ratio=1.0,
            passed=exact and ours < float(peer["per_op"]),
            notes=(
                f"exact: ours {exact} {finals}, published {peer['finals']}; dict += 1 under contention, "
                f"500 expected: ours {dict_total}, published {peer['dict_total']}"
            ),
        ),
        Result(
            id="P13",
            name="Share read share.x + 0, vs published",
            ours=read,
            peers={P13_PEER: float(peer["read"])},
            bar="faster (< 1.0x)",
            bar_peer=P13_PEER,
            bar_ratio=1.0,
            notes=f"{float(peer['read']) / read:,.0f}x faster",
        ),
    ]
