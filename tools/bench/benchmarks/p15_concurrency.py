"""P15: the concurrency primitives (``suitkaise_processing.concurrency``) against the usual locks.

Rows (per acquire+release wall time, lower is better):
- ``LocalLock`` uncontended, 1 process: bar <= 2x a raw ``flock`` pair on an open descriptor (the
  physical floor of a lock a dead holder cannot keep) and <= 2 us; peers ``filelock.FileLock``,
  ``portalocker.Lock``, ``multiprocessing.Lock`` (which a dead holder keeps forever).
- ``ReadWriteLock`` read and write, ``LocalSemaphore``: bar <= 3x ``LocalLock`` measured in the same run;
  ``multiprocessing.Semaphore`` beside the semaphore.
- Handoff: the holder releases while a waiter in another process is blocked in ``acquire()``; the time
  until the waiter has it: bar <= 2x ``multiprocessing.Lock``. Info: 2 processes contending (both
  start together, each does N acquire+release; time to the last one done, divided by 2N).
- ``RedisLock`` acquire+release on one local redis-server: bar <= 1.2x ``python-redis-lock``
  (``redis_lock.Lock(expire=30)``, same server, same redis-py client settings).
- Info: how long the next acquirer waits after the holder is SIGKILLed (``LocalLock``: the kernel drops
  the flock; ``RedisLock``: its TTL, here 0.5 s); ``multiprocessing.Lock`` never comes back.
"""

from __future__ import annotations

import fcntl
import functools
import multiprocessing
import os
import signal
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

from suitkaise_processing.concurrency import LocalLock, LocalSemaphore, ReadWriteLock, RedisLock
from tools.bench._core import Result, median_time

_TIMEOUT = 120.0


def _loop(acquire: Callable[[], Any], release: Callable[[], Any], n: int) -> None:
    for _ in range(n):
        acquire()
        release()


def _per_op(fn: Callable[[int], None], n: int, repeat: int) -> float:
    return median_time(functools.partial(fn, n), repeat=repeat, warmup=1, per=n)


def _in_turns(fns: dict[str, Callable[[int], None]], n: int, repeat: int) -> dict[str, float]:
    """Median per-op time of each, measured in turns so that load from elsewhere hits all alike."""
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            samples[name].append(_per_op(fn, n, 1))
    return {name: statistics.median(values) for name, values in samples.items()}


# --- 2 processes contending ------------------------------------------------------------------------
def _contender(lock: Any, n: int, ready: Any, start: Any, out: Any) -> None:
    acquire, release = lock.acquire, lock.release
    ready.set()
    start.wait(_TIMEOUT)
    for _ in range(n):
        acquire()
        release()
    out.put(time.perf_counter())


def _contended_once(ctx: Any, lock: Any, n: int) -> float:
    out = ctx.Queue()
    start = ctx.Event()
    readies = [ctx.Event() for _ in range(2)]
    procs = [ctx.Process(target=_contender, args=(lock, n, r, start, out)) for r in readies]
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
        return (max(ends) - began) / (2 * n)
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.kill()
                proc.join()


def _handoff_child(lock: Any, rounds: int, go: Any, waiting: Any, out: Any) -> None:
    for i in range(rounds):
        go.get(timeout=_TIMEOUT)
        waiting.value = i + 1
        lock.acquire()  # blocks: the parent holds it
        got = time.perf_counter()
        lock.release()
        out.put(got)


def _state(pid: int) -> str:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def _handoff(ctx: Any, lock: Any, rounds: int) -> float:
    """Median time from the holder's release to a blocked waiter (another process) having the lock."""
    go, out = ctx.Queue(), ctx.Queue()
    waiting = ctx.Value("i", 0, lock=False)
    proc = ctx.Process(target=_handoff_child, args=(lock, rounds, go, waiting, out))
    proc.start()
    latencies = []
    try:
        for i in range(rounds):
            lock.acquire()
            go.put(True)
            deadline = time.monotonic() + _TIMEOUT
            # the child has announced itself and sleeps: it is blocked in acquire()
            while waiting.value != i + 1 or _state(proc.pid) != "S":
                if time.monotonic() > deadline:
                    raise RuntimeError("the waiter never blocked")
            released = time.perf_counter()
            lock.release()
            latencies.append(out.get(timeout=_TIMEOUT) - released)
        proc.join(_TIMEOUT)
    finally:
        if proc.is_alive():
            proc.kill()
            proc.join()
    return statistics.median(latencies)


def _holder(lock: Any, holding: Any, never: Any) -> None:
    lock.acquire()
    holding.set()
    never.wait(_TIMEOUT)


def _dead_holder_wait(ctx: Any, lock: Any, timeout: float) -> float | None:
    """Seconds from the holder's SIGKILL to the next acquisition (``None``: not within ``timeout``)."""
    holding, never = ctx.Event(), ctx.Event()
    proc = ctx.Process(target=_holder, args=(lock, holding, never))
    proc.start()
    try:
        if not holding.wait(_TIMEOUT):
            raise RuntimeError("the holder did not start")
        killed = time.perf_counter()
        os.kill(proc.pid, signal.SIGKILL)
        if not lock.acquire(timeout=timeout):
            return None
        waited = time.perf_counter() - killed
        lock.release()
        return waited
    finally:
        proc.join(_TIMEOUT)


def _local_rows(n: int, repeat: int, tmp: str) -> list[Result]:
    import filelock
    import portalocker

    fd = os.open(os.path.join(tmp, "raw"), os.O_RDWR | os.O_CREAT, 0o600)
    ex, un = fcntl.LOCK_EX, fcntl.LOCK_UN
    flock = fcntl.flock

    def raw(k: int) -> None:
        for _ in range(k):
            flock(fd, ex)
            flock(fd, un)

    ours = LocalLock("p15-local")
    file_lock = filelock.FileLock(os.path.join(tmp, "filelock"))
    portal = portalocker.Lock(os.path.join(tmp, "portalocker"), timeout=10)
    mp_lock = multiprocessing.Lock()
    times = _in_turns(
        {
            "ours": functools.partial(_loop, ours.acquire, ours.release),
            "raw flock pair": raw,
            "filelock": functools.partial(_loop, file_lock.acquire, file_lock.release),
            "portalocker": functools.partial(_loop, portal.acquire, portal.release),
            "multiprocessing.Lock": functools.partial(_loop, mp_lock.acquire, mp_lock.release),
        },
        n,
        repeat,
    )
    os.close(fd)
    lock_time = times.pop("ours")
    ratio = lock_time / times["raw flock pair"]
    rows = [
        Result(
            id="P15",
            name="LocalLock acquire+release, uncontended",
            ours=lock_time,
            peers=times,
            bar="<= 2x raw flock, <= 2 us",
            bar_peer="raw flock pair",
            bar_ratio=2.0,
            passed=ratio <= 2.0 and lock_time <= 2e-6,
            notes=f"{n:,} ops",
        )
    ]

    rw = ReadWriteLock("p15-rw")
    sem = LocalSemaphore(3, name="p15-sem")
    mp_sem = multiprocessing.Semaphore(3)
    times = _in_turns(
        {
            "LocalLock": functools.partial(_loop, ours.acquire, ours.release),
            "read": functools.partial(_loop, rw.acquire_read, rw.release_read),
            "write": functools.partial(_loop, rw.acquire_write, rw.release_write),
            "sem": functools.partial(_loop, sem.acquire, sem.release),
            "multiprocessing.Semaphore": functools.partial(_loop, mp_sem.acquire, mp_sem.release),
        },
        n,
        repeat,
    )
    for key, label, extra in (
        ("read", "ReadWriteLock read acquire+release", {}),
        ("write", "ReadWriteLock write acquire+release", {}),
        (
            "sem",
            "LocalSemaphore(3) acquire+release",
            {"multiprocessing.Semaphore": times["multiprocessing.Semaphore"]},
        ),
    ):
        rows.append(
            Result(
                id="P15",
                name=label,
                ours=times[key],
                peers={"LocalLock": times["LocalLock"], **extra},
                bar="<= 3x LocalLock",
                bar_peer="LocalLock",
                bar_ratio=3.0,
                notes=f"{n:,} ops",
            )
        )
    return rows


def _contended_rows(n: int, repeat: int) -> list[Result]:
    ctx = multiprocessing.get_context("forkserver")
    ours = LocalLock("p15-contended")
    peer = ctx.Lock()
    samples: dict[str, list[float]] = {"ours": [], "peer": []}
    for rep in range(repeat + 1):
        for kind, lock in (("ours", ours), ("peer", peer)):
            per_op = _contended_once(ctx, lock, n)
            if rep:  # the first turn warms up
                samples[kind].append(per_op)
    handoffs: dict[str, list[float]] = {"ours": [], "peer": []}
    for _ in range(repeat):
        handoffs["ours"].append(_handoff(ctx, ours, 200))
        handoffs["peer"].append(_handoff(ctx, peer, 200))
    rows = [
        Result(
            id="P15",
            name="LocalLock handoff to a blocked waiter in another process",
            ours=statistics.median(handoffs["ours"]),
            peers={"multiprocessing.Lock": statistics.median(handoffs["peer"])},
            bar="<= 2x",
            bar_peer="multiprocessing.Lock",
            bar_ratio=2.0,
            notes="release -> the waiter's acquire() returns; median of 200 rounds",
        ),
        Result(
            id="P15",
            name="LocalLock, 2 processes contending (throughput)",
            ours=statistics.median(samples["ours"]),
            peers={"multiprocessing.Lock": statistics.median(samples["peer"])},
            bar="info",
            notes=f"2 x {n:,} acquire+release; multiprocessing.Lock mostly re-takes its own "
            "lock in user space (a futex), ours makes 2 system calls per acquire+release",
        ),
    ]
    waits = [_dead_holder_wait(ctx, LocalLock("p15-dead"), 10.0) for _ in range(3)]
    got = [w for w in waits if w is not None]
    rows.append(
        Result(
            id="P15",
            name="LocalLock: next acquirer's wait after the holder's SIGKILL",
            ours=statistics.median(got) if got else float("inf"),
            bar="info",
            passed=len(got) == len(waits),
            notes="multiprocessing.Lock: never (a killed holder keeps it)",
        )
    )
    return rows


def _redis_rows(n: int, repeat: int) -> list[Result]:
    import redis
    import redis_lock

    from tools.pytest_redis import RedisServer, find_redis_server

    binary = find_redis_server()
    if binary is None:
        raise RuntimeError(
            "P15 Redis rows need a redis-server binary (apt-get install redis-server)"
        )
    server = RedisServer(binary)
    server.start()
    try:
        ours = RedisLock("p15-redis", redis_url=server.url, ttl=30)
        client = redis.Redis.from_url(server.url)
        theirs = redis_lock.Lock(client, "p15-redis-peer", expire=30)
        times = _in_turns(
            {
                "ours": functools.partial(_loop, ours.acquire, ours.release),
                "python-redis-lock": functools.partial(_loop, theirs.acquire, theirs.release),
            },
            n,
            repeat,
        )
        ctx = multiprocessing.get_context("forkserver")
        dead = _dead_holder_wait(
            ctx, RedisLock("p15-redis-dead", redis_url=server.url, ttl=0.5), 10.0
        )
    finally:
        server.close()
    return [
        Result(
            id="P15",
            name="RedisLock acquire+release (local redis-server)",
            ours=times["ours"],
            peers={"python-redis-lock": times["python-redis-lock"]},
            bar="<= 1.2x",
            bar_peer="python-redis-lock",
            bar_ratio=1.2,
            notes=f"{n:,} ops; ours renews its TTL (watchdog) and returns a fencing token",
        ),
        Result(
            id="P15",
            name="RedisLock(ttl=0.5): next acquirer's wait after the holder's SIGKILL",
            ours=dead if dead is not None else float("inf"),
            bar="info",
            passed=dead is not None,
            notes="the TTL bounds it",
        ),
    ]


def run(quick: bool) -> list[Result]:
    n = 20_000 if quick else 100_000
    repeat = 3 if quick else 5
    with tempfile.TemporaryDirectory(prefix="sk-p15-") as tmp:
        rows = _local_rows(n, repeat, tmp)
    rows += _contended_rows(5_000 if quick else 20_000, 2 if quick else 3)
    rows += _redis_rows(2_000 if quick else 10_000, repeat)
    return rows
