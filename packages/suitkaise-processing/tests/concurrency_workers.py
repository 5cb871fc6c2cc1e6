"""Functions the concurrency tests run in child processes (importable by name under spawn/forkserver)."""

from __future__ import annotations

import time
from multiprocessing.synchronize import Barrier, Event
from typing import Any

from suitkaise_processing.concurrency import (
    LocalLock,
    LocalSemaphore,
    LockManager,
    ReadWriteLock,
)


def increment_file(lock: LocalLock, path: str, times: int, start: Event) -> None:
    """Read-modify-write of an integer in ``path`` under ``lock``, ``times`` times."""
    start.wait(30)
    for _ in range(times):
        with lock:
            with open(path) as f:
                value = int(f.read())
            with open(path, "w") as f:
                f.write(str(value + 1))


def hold_until_killed(lock: Any, holding: Event, never: Event) -> None:
    """Take ``lock`` (a lock, or a semaphore: one slot), say so, and wait to be killed."""
    lock.acquire()
    holding.set()
    never.wait(60)


def hold_then_release(lock: Any, holding: Event, go: Event) -> None:
    """Take ``lock``, say so, wait for ``go``; exit 0 if ``release()`` then says the lock was lost."""
    from suitkaise_processing.concurrency import LockNotHeldError

    lock.acquire()
    holding.set()
    go.wait(60)
    try:
        lock.release()
    except LockNotHeldError:
        raise SystemExit(0) from None
    raise SystemExit(1)


def hold_read_until_killed(rw: ReadWriteLock, holding: Event, never: Event) -> None:
    rw.acquire_read()
    holding.set()
    never.wait(60)


def use_semaphore(sem: LocalSemaphore, counter: Any, peak: Any, rounds: int, start: Event) -> None:
    """Hold the semaphore ``rounds`` times, counting the holders; ``peak`` keeps the largest count."""
    start.wait(30)
    for _ in range(rounds):
        with sem:
            with counter.get_lock():
                counter.value += 1
                peak.value = max(peak.value, counter.value)
            time.sleep(0.0005)  # stay inside a little so that holders overlap
            with counter.get_lock():
                counter.value -= 1


def read_together(rw: ReadWriteLock, barrier: Barrier) -> None:
    """Every reader holds the read lock at the same time (the barrier needs all of them inside)."""
    with rw.read(timeout=30):
        barrier.wait(30)


def mixed_readers_writers(
    rw: ReadWriteLock, state: Any, violations: Any, rounds: int, writer: bool, start: Event
) -> None:
    """Readers and writers update ``state`` = [readers inside, writers inside] and count violations."""
    start.wait(30)
    for _ in range(rounds):
        if writer:
            with rw.write(timeout=30):
                with state.get_lock():
                    state[1] += 1
                    if state[1] != 1 or state[0] != 0:
                        violations.value += 1
                time.sleep(0.0002)
                with state.get_lock():
                    state[1] -= 1
        else:
            with rw.read(timeout=30):
                with state.get_lock():
                    state[0] += 1
                    if state[1] != 0:
                        violations.value += 1
                time.sleep(0.0002)
                with state.get_lock():
                    state[0] -= 1


def take_pairs(
    manager: LockManager, names: tuple[str, str], rounds: int, done: Any, start: Event
) -> None:
    """Take both names through the manager ``rounds`` times, in the given (deliberately opposite) order."""
    start.wait(30)
    for _ in range(rounds):
        with manager.acquire(*names, timeout=30):
            with done.get_lock():
                done.value += 1
