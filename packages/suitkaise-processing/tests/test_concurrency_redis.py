"""RedisLock / RedisSemaphore against a real redis-server (the ``redis_server`` fixture of tools/pytest_redis)."""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import pickle
import signal
import threading
import time

import concurrency_workers as workers
import pytest

from suitkaise_processing.concurrency import (
    LockBackendError,
    LockManager,
    LockNotHeldError,
    LockTimeoutError,
    RedisLock,
    RedisSemaphore,
)

redis = pytest.importorskip(
    "redis", reason="redis-py is missing: pip install 'suitkaise-processing[redis]'"
)

CTX = mp.get_context("forkserver")


def _keys(url: str) -> list[bytes]:
    return sorted(redis.Redis.from_url(url).keys("*"))


def test_lock_basics_and_fencing_tokens_increase(redis_url: str) -> None:
    lock = RedisLock("t-basic", redis_url=redis_url, ttl=5)
    other = RedisLock("t-basic", redis_url=redis_url, ttl=5)
    tokens = []
    for _ in range(3):
        assert lock.acquire()
        assert lock.locked()
        assert not other.acquire(blocking=False)
        tokens.append(lock.token)
        lock.release()
    assert lock.token is None
    assert all(isinstance(t, int) for t in tokens)
    assert tokens == sorted(tokens)
    assert len(set(tokens)) == 3
    with pytest.raises(LockNotHeldError):
        lock.release()
    with other.hold(timeout=1):
        assert other.token is not None
        assert other.token > tokens[-1]
        with pytest.raises(LockTimeoutError):
            with lock.hold(timeout=0.05):
                pass
    assert lock.stats.acquisitions == 3
    assert lock.stats.timeouts == 1


def test_waiter_wakes_on_release(redis_url: str) -> None:
    lock = RedisLock("t-wake", redis_url=redis_url, ttl=30)
    lock.acquire()
    got: list[float] = []

    def waiter() -> None:
        other = RedisLock("t-wake", redis_url=redis_url, ttl=30)
        assert other.acquire(timeout=20)
        got.append(time.perf_counter())
        other.release()

    t = threading.Thread(target=waiter)
    t.start()
    client = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + 20
    while not any(c.get("cmd") == "blpop" for c in client.client_list()):  # the waiter is blocked
        assert time.monotonic() < deadline, "the waiter never blocked in BLPOP"
    released = time.perf_counter()
    lock.release()
    t.join(30)
    assert got
    assert got[0] - released < 5  # woken by the release, not by the 30 s TTL


def test_ttl_expiry_without_renewal(redis_url: str) -> None:
    lock = RedisLock("t-ttl", redis_url=redis_url, ttl=0.3, renew=False)
    other = RedisLock("t-ttl", redis_url=redis_url, ttl=5)
    assert lock.acquire()
    first = lock.token
    assert other.acquire(timeout=10)  # after the holder's TTL of 0.3 s
    assert other.token is not None
    assert first is not None
    assert other.token > first
    with pytest.raises(LockNotHeldError, match="was lost"):
        lock.release()  # a stale owner cannot release the new owner's lock
    assert other.locked()
    other.release()


def test_watchdog_keeps_a_held_lock(redis_url: str) -> None:
    lock = RedisLock("t-watchdog", redis_url=redis_url, ttl=0.3)
    other = RedisLock("t-watchdog", redis_url=redis_url, ttl=0.3)
    with lock:
        assert not other.acquire(timeout=1.0)  # > 3 TTLs: renewed all along
    with pytest.raises(LockNotHeldError):
        lock.extend()


def test_extend_by_hand(redis_url: str) -> None:
    lock = RedisLock("t-extend", redis_url=redis_url, ttl=0.5, renew=False)
    with lock:
        lock.extend(30)
        assert redis.Redis.from_url(redis_url).pttl("sk:lock:{t-extend}") > 10_000


@pytest.mark.timeout(60)
def test_paused_holder_loses_the_lock_and_cannot_release_it(redis_url: str) -> None:
    lock = RedisLock("t-paused", redis_url=redis_url, ttl=0.5)
    holding, go = CTX.Event(), CTX.Event()
    child = CTX.Process(target=workers.hold_then_release, args=(lock, holding, go))
    child.start()
    try:
        assert holding.wait(30)
        assert not lock.acquire(timeout=1.0)  # the child's watchdog keeps renewing it
        os.kill(child.pid, signal.SIGSTOP)  # type: ignore[arg-type]
        assert lock.acquire(timeout=10)  # once the paused holder's TTL runs out
        token = lock.token
        os.kill(child.pid, signal.SIGCONT)  # type: ignore[arg-type]
        go.set()
        child.join(30)
        assert child.exitcode == 0  # its release() raised LockNotHeldError
        assert lock.token == token
        assert lock.locked()  # still ours: the stale holder changed nothing
        lock.release()
    finally:
        child.kill()
        child.join(10)


@pytest.mark.timeout(60)
def test_dead_holder_frees_the_lock_after_its_ttl(redis_url: str) -> None:
    lock = RedisLock("t-dead", redis_url=redis_url, ttl=0.5)
    holding, never = CTX.Event(), CTX.Event()
    child = CTX.Process(target=workers.hold_until_killed, args=(lock, holding, never))
    child.start()
    try:
        assert holding.wait(30)
        killed = time.perf_counter()
        os.kill(child.pid, signal.SIGKILL)  # type: ignore[arg-type]
        assert lock.acquire(timeout=10)
        waited = time.perf_counter() - killed
        print(f"RedisLock of a SIGKILLed holder came back after {waited * 1e3:.0f} ms (ttl 500 ms)")
        assert waited <= 0.5 + 2.0
        lock.release()
    finally:
        child.join(10)


@pytest.mark.timeout(60)
def test_semaphore_cap_across_processes(redis_url: str) -> None:
    sem = RedisSemaphore("t-sem", 2, redis_url=redis_url, ttl=5)
    counter, peak = CTX.Value("i", 0), CTX.Value("i", 0)
    start = CTX.Event()
    procs = [
        CTX.Process(target=workers.use_semaphore, args=(sem, counter, peak, 20, start))
        for _ in range(4)
    ]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(50)
        assert p.exitcode == 0
    assert 1 <= peak.value <= 2


def test_semaphore_basics_expiry_and_fencing(redis_url: str) -> None:
    sem = RedisSemaphore("t-sem2", 2, redis_url=redis_url, ttl=0.3, renew=False)
    assert sem.acquire()
    assert sem.acquire()
    assert sem.locked()
    assert not sem.acquire(blocking=False)
    first = sem.token
    assert sem.acquire(timeout=10)  # both holders' TTLs ran out
    assert sem.token == first  # the oldest hold's token (now stale)
    with pytest.raises(LockNotHeldError):
        sem.release()  # the oldest hold had expired
    with pytest.raises(LockNotHeldError):
        sem.release()
    sem.release()  # the fresh one
    with pytest.raises(LockNotHeldError):
        sem.release()
    clone = pickle.loads(pickle.dumps(sem))
    assert (clone.name, clone.max_concurrent, clone.ttl) == ("t-sem2", 2, 0.3)


def test_async_forms(redis_url: str) -> None:
    lock = RedisLock("t-async", redis_url=redis_url, ttl=5)
    other = RedisLock("t-async", redis_url=redis_url, ttl=5)

    async def main() -> bool:
        async with lock:
            return await other.acquire_async(timeout=0.1)

    assert asyncio.run(main()) is False
    assert not lock.locked()


def test_lock_manager_on_redis(redis_url: str) -> None:
    manager = LockManager(redis_url=redis_url, ttl=5)
    with manager.acquire("t-m-b", "t-m-a", timeout=1) as held:
        assert held.names == ("t-m-a", "t-m-b")
        assert RedisLock("t-m-a", redis_url=redis_url).locked()
    assert not RedisLock("t-m-a", redis_url=redis_url).locked()


def test_keys_expire_nothing_stays(redis_url: str) -> None:
    lock = RedisLock("t-keys", redis_url=redis_url, ttl=0.05)
    with lock:
        pass
    client = redis.Redis.from_url(redis_url)
    for key in client.keys("*"):
        assert client.pttl(key) > 0, key  # every key has a TTL


@pytest.mark.timeout(60)
def test_server_restart_under_a_held_lock(redis_server: object, redis_url: str) -> None:
    lock = RedisLock("t-restart", redis_url=redis_url, ttl=5)
    assert lock.acquire()
    before = lock.token
    redis_server.restart()  # type: ignore[attr-defined]  # the data is gone (no persistence)
    with pytest.raises(LockNotHeldError, match="was lost"):
        lock.release()
    assert lock.acquire(timeout=5)  # the client reconnects by itself
    assert lock.token is not None
    assert before is not None
    assert lock.token > before  # fencing tokens keep increasing across the restart
    lock.release()


@pytest.mark.timeout(60)
def test_server_down_is_a_clear_error(redis_server: object, redis_url: str) -> None:
    lock = RedisLock("t-down", redis_url=redis_url, ttl=5)
    redis_server.stop()  # type: ignore[attr-defined]
    try:
        with pytest.raises(LockBackendError, match="could not serve"):
            lock.acquire()
        assert issubclass(LockBackendError, ConnectionError)
    finally:
        redis_server.start()  # type: ignore[attr-defined]
