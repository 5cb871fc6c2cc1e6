"""LocalSemaphore and ReadWriteLock across real processes: the cap, dead holders, readers and writers."""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import pickle
import signal
import threading

import concurrency_workers as workers
import pytest

from suitkaise_processing.concurrency import (
    BaseSemaphore,
    LocalSemaphore,
    LockNotHeldError,
    LockTimeoutError,
    ReadWriteLock,
)

CTX = mp.get_context("forkserver")


# --- LocalSemaphore -------------------------------------------------------------------------------
def test_semaphore_basics() -> None:
    sem = LocalSemaphore(max_concurrent=3)
    assert isinstance(sem, BaseSemaphore)
    assert [sem.acquire(blocking=False) for _ in range(4)] == [True, True, True, False]
    assert sem.locked()
    assert not sem.acquire(timeout=0.01)
    for _ in range(3):
        sem.release()
    with pytest.raises(LockNotHeldError):
        sem.release()
    assert not sem.locked()
    with sem:
        assert sem.holders_here == 1
    assert sem.stats.timeouts == 1
    with pytest.raises(ValueError):
        LocalSemaphore(0)


def test_semaphore_threads_never_exceed_the_cap() -> None:
    sem = LocalSemaphore(2, name="t-sem-threads")
    inside = worst = 0
    guard = threading.Lock()
    barrier = threading.Barrier(2)

    def work() -> None:
        nonlocal inside, worst
        for _ in range(300):
            with sem:
                with guard:
                    inside += 1
                    worst = max(worst, inside)
                with guard:
                    inside -= 1

    def two_at_once() -> None:
        with sem:
            barrier.wait(10)  # both inside together: the cap of 2 is really 2

    pair = [threading.Thread(target=two_at_once) for _ in range(2)]
    for t in pair:
        t.start()
    for t in pair:
        t.join()
    threads = [threading.Thread(target=work) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert worst <= 2


def test_semaphore_async_and_pickle() -> None:
    sem = LocalSemaphore(1, name="t-sem-async")
    clone = pickle.loads(pickle.dumps(sem))
    assert (clone.name, clone.max_concurrent) == ("t-sem-async", 1)

    async def main() -> bool:
        async with sem:
            return await clone.acquire_async(timeout=0.05)

    assert asyncio.run(main()) is False
    with pytest.raises(LockTimeoutError), sem, clone.hold(timeout=0.01):
        pass


@pytest.mark.timeout(120)
def test_semaphore_never_exceeds_its_cap_across_processes() -> None:
    sem = LocalSemaphore(2, name="t-sem-procs")
    counter, peak = CTX.Value("i", 0), CTX.Value("i", 0)
    start = CTX.Event()
    procs = [
        CTX.Process(target=workers.use_semaphore, args=(sem, counter, peak, 60, start))
        for _ in range(5)
    ]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(90)
        assert p.exitcode == 0
    assert peak.value <= 2
    assert peak.value >= 1


@pytest.mark.timeout(60)
def test_a_dead_holders_slot_comes_back() -> None:
    sem = LocalSemaphore(1, name="t-sem-kill")
    holding, never = CTX.Event(), CTX.Event()
    child = CTX.Process(target=workers.hold_until_killed, args=(sem, holding, never))
    child.start()
    try:
        assert holding.wait(30)
        assert not sem.acquire(blocking=False)
        os.kill(child.pid, signal.SIGKILL)  # type: ignore[arg-type]
        assert sem.acquire(timeout=10)
        sem.release()
    finally:
        child.join(10)


# --- ReadWriteLock --------------------------------------------------------------------------------
def test_rw_basics_in_one_process() -> None:
    rw = ReadWriteLock("t-rw-basic")
    with rw.read(), rw.read():
        assert not rw.acquire_write(blocking=False)
        assert not rw.locked()
    with rw.write():
        assert rw.locked()
        assert not rw.acquire_read(timeout=0.01)
    with pytest.raises(LockNotHeldError):
        rw.release_read()
    with pytest.raises(LockNotHeldError):
        rw.release_write()
    with rw.read(), pytest.raises(LockTimeoutError):
        with rw.write(timeout=0.01):
            pass
    assert pickle.loads(pickle.dumps(rw)).name == "t-rw-basic"
    assert rw.stats.acquisitions == 4


def test_waiting_writer_blocks_new_readers() -> None:
    rw = ReadWriteLock()
    rw.acquire_read()
    writer_in = threading.Event()

    def writer() -> None:
        with rw.write(timeout=10):
            writer_in.set()

    t = threading.Thread(target=writer)
    t.start()
    # wait until the writer is queued, then a new reader must not get past it
    while not rw._node.state.waiting_writers:  # the writer's own state, set under its lock
        threading.Event().wait(0.001)
    assert not rw.acquire_read(timeout=0.05)
    rw.release_read()
    t.join(10)
    assert writer_in.is_set()


def test_rw_async_forms() -> None:
    rw = ReadWriteLock("t-rw-async")

    async def main() -> bool:
        async with rw.read_async(), rw.read_async(timeout=1):
            return await rw.acquire_write_async(timeout=0.05)

    assert asyncio.run(main()) is False
    with rw.write():
        pass


@pytest.mark.timeout(90)
def test_readers_share_across_processes() -> None:
    rw = ReadWriteLock("t-rw-share")
    barrier = CTX.Barrier(3)
    procs = [CTX.Process(target=workers.read_together, args=(rw, barrier)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0  # each passed the barrier while holding the read lock


@pytest.mark.timeout(120)
def test_readers_and_writers_from_processes_keep_the_invariant() -> None:
    rw = ReadWriteLock("t-rw-mix")
    state = CTX.Array("i", [0, 0])
    violations = CTX.Value("i", 0)
    start = CTX.Event()
    procs = [
        CTX.Process(
            target=workers.mixed_readers_writers, args=(rw, state, violations, 80, i < 2, start)
        )
        for i in range(5)
    ]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(100)
        assert p.exitcode == 0
    assert violations.value == 0
    assert list(state) == [0, 0]


@pytest.mark.timeout(60)
def test_a_dead_reader_does_not_block_writers() -> None:
    rw = ReadWriteLock("t-rw-kill")
    holding, never = CTX.Event(), CTX.Event()
    child = CTX.Process(target=workers.hold_read_until_killed, args=(rw, holding, never))
    child.start()
    try:
        assert holding.wait(30)
        assert not rw.acquire_write(blocking=False)
        os.kill(child.pid, signal.SIGKILL)  # type: ignore[arg-type]
        assert rw.acquire_write(timeout=10)
        rw.release_write()
    finally:
        child.join(10)


def test_semaphore_opened_again_with_a_larger_cap_in_the_same_process() -> None:
    small = LocalSemaphore(1, name="t-sem-grow")
    small.acquire()
    large = LocalSemaphore(2, name="t-sem-grow")
    assert large.acquire(blocking=False)  # the second slot
    assert not large.acquire(blocking=False)
    large.release()
    small.release()


@pytest.mark.timeout(60)
def test_rw_locked_sees_a_writer_in_another_process() -> None:
    rw = ReadWriteLock("t-rw-locked")
    holding, never = CTX.Event(), CTX.Event()
    child = CTX.Process(target=workers.hold_until_killed, args=(_Writer(rw), holding, never))
    child.start()
    try:
        assert holding.wait(30)
        assert rw.locked()
        assert not rw.acquire_read(timeout=0.05)
        os.kill(child.pid, signal.SIGKILL)  # type: ignore[arg-type]
        assert rw.acquire_read(timeout=10)
        rw.release_read()
        assert not rw.locked()
    finally:
        child.join(10)


class _Writer:
    """A ReadWriteLock's write side as a lock (acquire/release), for the generic holder worker."""

    def __init__(self, rw: ReadWriteLock) -> None:
        self.rw = rw

    def acquire(self) -> bool:
        return self.rw.acquire_write()

    def release(self) -> None:
        self.rw.release_write()
