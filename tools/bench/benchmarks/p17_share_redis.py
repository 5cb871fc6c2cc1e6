"""P17: a Share on Redis (``Share(backend=<url>, name=...)``) against redis-py by hand, same server.

Rows (per operation wall time, lower is better; bar <= 1.3x the hand-written redis-py code):
- ``share.counter += 1`` from 2 processes, N each (both start together on an Event; the time from the
  start signal to the last process finishing, divided by 2N) against ``client.incr(key)`` the same
  way. The final value must be exactly 2N (folded into ``passed``).
- ``share.x`` reads of an int, 1 process, against ``int(client.get(key))``.

Both sides use one local ``redis-server`` (tools/pytest_redis starts it) and are measured in turns,
so that load from elsewhere on the machine hits both alike.
"""

from __future__ import annotations

import functools
import multiprocessing
import statistics
import time
from typing import Any

from suitkaise_processing import Share
from tools.bench._core import Result, median_time

PEER = "redis-py by hand"
_TIMEOUT = 300.0


def _adder(kind: str, url: str, n: int, ready: Any, start: Any, out: Any) -> None:
    import redis

    if kind == "ours":
        share = Share(backend=url, name="p17")
        share.counter += 0  # connect (and learn the attribute) before the clock starts
        ready.set()
        start.wait(_TIMEOUT)
        for _ in range(n):
            share.counter += 1
    else:
        client = redis.Redis.from_url(url)
        client.incr("p17-counter", 0)
        ready.set()
        start.wait(_TIMEOUT)
        for _ in range(n):
            client.incr("p17-counter")
    out.put(time.perf_counter())


def _two_adders(kind: str, url: str, n: int) -> tuple[float, int]:
    import redis

    ctx = multiprocessing.get_context("forkserver")
    share = Share(backend=url, name="p17")
    client = redis.Redis.from_url(url)
    share.counter = 0
    client.set("p17-counter", 0)
    out = ctx.Queue()
    start = ctx.Event()
    readies = [ctx.Event() for _ in range(2)]
    procs = [
        ctx.Process(target=_adder, args=(kind, url, n, ready, start, out)) for ready in readies
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
    finally:
        for proc in procs:
            proc.join(_TIMEOUT)
            if proc.is_alive():
                proc.kill()
                proc.join()
    final = share.counter if kind == "ours" else int(client.get("p17-counter") or 0)
    return (max(ends) - began) / (2 * n), final


def _reads(read: Any, n: int) -> None:
    for _ in range(n):
        read()


def run(quick: bool) -> list[Result]:
    import redis

    from tools.pytest_redis import RedisServer, find_redis_server

    binary = find_redis_server()
    if binary is None:
        raise RuntimeError("P17 needs a redis-server binary (apt-get install redis-server)")
    n = 2_000 if quick else 10_000
    repeat = 3 if quick else 5
    server = RedisServer(binary)
    server.start()
    try:
        url = server.url
        adds: dict[str, list[float]] = {"ours": [], "peer": []}
        exact = True
        for _ in range(repeat):
            for kind in adds:
                per_op, final = _two_adders(kind, url, n)
                adds[kind].append(per_op)
                exact = exact and final == 2 * n
        share = Share(backend=url, name="p17")
        share.x = 12345
        client = redis.Redis.from_url(url)
        client.set("p17-x", 12345)

        def read_ours() -> None:
            _ = share.x

        def read_peer() -> None:
            _ = int(client.get("p17-x"))  # type: ignore[arg-type]

        reads: dict[str, list[float]] = {"ours": [], "peer": []}
        for _ in range(repeat):
            for kind, fn in (("ours", read_ours), ("peer", read_peer)):
                reads[kind].append(
                    median_time(functools.partial(_reads, fn, n), repeat=1, warmup=1, per=n)
                )
        share.clear()
    finally:
        server.close()
    add_ours, add_peer = statistics.median(adds["ours"]), statistics.median(adds["peer"])
    read_ours_t, read_peer_t = statistics.median(reads["ours"]), statistics.median(reads["peer"])
    return [
        Result(
            id="P17",
            name="Share on Redis: share.counter += 1 from 2 processes",
            ours=add_ours,
            peers={PEER: add_peer},
            bar="<= 1.3x",
            bar_peer=PEER,
            bar_ratio=1.3,
            passed=exact and add_ours <= 1.3 * add_peer,
            notes=f"{n:,} each; final value exactly 2N every time: {exact}; peer: client.incr(key)",
        ),
        Result(
            id="P17",
            name="Share on Redis: share.x read (int)",
            ours=read_ours_t,
            peers={PEER: read_peer_t},
            bar="<= 1.3x",
            bar_peer=PEER,
            bar_ratio=1.3,
            notes=f"{n:,} reads; peer: int(client.get(key))",
        ),
    ]
