"""LocalLock in one process: reentrant holds (sync and async), releases from the wrong thread,
waiting ``acquire_async`` / ``hold_async`` while another thread holds the lock, and the reprs."""

from __future__ import annotations

import asyncio
import os
import threading

import pytest

from suitkaise_processing.concurrency import (
    LocalLock,
    LocalSemaphore,
    LockNotHeldError,
    LockTimeoutError,
)

pytestmark = pytest.mark.timeout(60)


def _name(tag: str) -> str:
    return f"test-reentrant-{tag}-{os.getpid()}"


def _in_thread(fn: object) -> BaseException | None:
    """Run ``fn`` in another thread; return what it raised (None when nothing)."""
    raised: list[BaseException] = []

    def target() -> None:
        try:
            fn()  # type: ignore[operator]
        except BaseException as exc:  # handed to the test
            raised.append(exc)

    t = threading.Thread(target=target)
    t.start()
    t.join(30)
    return raised[0] if raised else None


def test_reentrant_lock_counts_its_depth_and_refuses_other_threads() -> None:
    lock = LocalLock(_name("depth"), reentrant=True)
    assert repr(lock) == f"LocalLock({lock.name!r}, reentrant=True) <not held here>"
    assert lock.locked() is False
    assert lock.acquire()
    assert asyncio.run(lock.acquire_async(timeout=1))  # the same thread again: depth 2
    assert repr(lock).endswith("<held here>")
    assert lock.locked() is True
    err = _in_thread(lock.release)
    assert isinstance(err, LockNotHeldError)
    assert "from a thread that does not hold it" in str(err)
    lock.release()
    assert lock.locked() is True  # still held once
    lock.release()
    assert lock.locked() is False
    with pytest.raises(LockNotHeldError, match="which this process does not hold"):
        lock.release()


def test_acquire_async_waits_for_a_holder_in_another_thread() -> None:
    lock = LocalLock(_name("wait"))
    holding, let_go = threading.Event(), threading.Event()

    def hold() -> None:
        with lock:
            holding.set()
            let_go.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(30)

    async def main() -> bool:
        waiter = asyncio.ensure_future(lock.acquire_async(timeout=30))
        await asyncio.sleep(0)  # its first attempt failed: it is polling now
        assert not waiter.done()
        let_go.set()
        return await waiter

    assert asyncio.run(main())
    holder.join(30)
    assert lock.stats.contended == 1
    lock.release()


def test_hold_async_times_out_while_another_thread_holds_the_lock() -> None:
    lock = LocalLock(_name("timeout"))
    holding, let_go = threading.Event(), threading.Event()

    def hold() -> None:
        with lock:
            holding.set()
            let_go.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(30)

    async def main() -> None:
        async with lock.hold_async(timeout=0.05):
            raise AssertionError("hold_async entered a lock another thread holds")

    try:
        with pytest.raises(LockTimeoutError, match=r"still held after 0\.05 s"):
            asyncio.run(main())
        assert lock.stats.timeouts == 1
    finally:
        let_go.set()
        holder.join(30)


def test_semaphore_repr_counts_the_slots_held_here() -> None:
    sem = LocalSemaphore(2, name=_name("sem"))
    assert repr(sem) == f"LocalSemaphore(2, name={sem.name!r}) <0 held here>"
    with sem:
        assert repr(sem).endswith("<1 held here>")
