"""LockManager: all-or-nothing, one global order (no deadlock between processes), stats, pickling."""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import pickle

import concurrency_workers as workers
import pytest

from suitkaise_processing.concurrency import LocalLock, LockManager, LockTimeoutError

CTX = mp.get_context("forkserver")


def test_acquire_takes_everything_or_nothing() -> None:
    manager = LockManager()
    blocker = LocalLock("t-mgr-b")  # the same lock as the manager's "t-mgr-b"
    with blocker, pytest.raises(LockTimeoutError, match="nothing is held"):
        manager.acquire("t-mgr-a", "t-mgr-b", timeout=0.05)
    assert not manager.lock("t-mgr-a").locked()  # "a" was taken, then given back
    with manager.acquire("t-mgr-b", "t-mgr-a", "t-mgr-a", timeout=1) as held:
        assert held.names == ("t-mgr-a", "t-mgr-b")
        assert blocker.locked()
    assert not blocker.locked()
    stats = manager.stats()
    assert sorted(stats) == ["t-mgr-a", "t-mgr-b"]
    assert stats["t-mgr-a"].acquisitions == 2
    with pytest.raises(ValueError):
        manager.acquire()


def test_async_acquire_and_pickle() -> None:
    manager = pickle.loads(pickle.dumps(LockManager()))

    async def main() -> None:
        async with await manager.acquire_async("t-mgr-x", "t-mgr-y", timeout=1):
            assert manager.lock("t-mgr-x").locked()

    asyncio.run(main())
    assert not manager.lock("t-mgr-x").locked()


@pytest.mark.timeout(120)
def test_opposite_orders_from_two_processes_never_deadlock() -> None:
    manager = LockManager()
    done = CTX.Value("i", 0)
    start = CTX.Event()
    procs = [
        CTX.Process(target=workers.take_pairs, args=(manager, names, 300, done, start))
        for names in (("t-mgr-a", "t-mgr-b"), ("t-mgr-b", "t-mgr-a"))
    ]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(100)
        assert p.exitcode == 0
    assert done.value == 600
