"""Functions the shared-counter tests run in child processes (importable by spawn children)."""

from __future__ import annotations

import os
from typing import Any

from shared_counter import SharedMemoryCounter

START_TIMEOUT = 60.0


def count(name: str, run_id: str, n: int, mode: str, start: Any) -> None:
    """Add 1 to the counter ``n`` times, in the given style, after ``start`` is set."""
    counter = SharedMemoryCounter(name, run_id=run_id)
    if not start.wait(START_TIMEOUT):
        raise RuntimeError("start event never set")
    if mode == "increment":
        for _ in range(n):
            counter.increment()
    elif mode == "plus_equal":
        for _ in range(n):
            counter.value += 1
    elif mode == "minus_equal":
        for _ in range(n):
            counter.value -= 1
    elif mode == "locked":
        for _ in range(n):
            with counter.get_lock():
                counter.value += 1
    elif mode == "locked_read_write":
        lock = counter.get_lock()
        for _ in range(n):
            with lock:
                counter.value = counter.value + 1
    elif mode == "cas":
        for _ in range(n):
            while True:
                seen = int(counter.value)
                if counter.compare_and_swap(seen, seen + 1):
                    break
    else:
        raise ValueError(mode)
    counter.close()


def exchange_tokens(name: str, run_id: str, tokens: list[int], start: Any, out: Any) -> None:
    """Exchange each token into the counter; send back every value the exchanges returned."""
    counter = SharedMemoryCounter(name, run_id=run_id)
    if not start.wait(START_TIMEOUT):
        raise RuntimeError("start event never set")
    got = [counter.exchange(token) for token in tokens]
    counter.close()
    out.put(got)


def increment_pickled(counter: SharedMemoryCounter, n: int, out: Any) -> None:
    """Use a counter that arrived pickled; report what the child saw."""
    for _ in range(n):
        counter.increment()
    out.put((counter.name, counter.run_id, counter.width, counter.created, os.getpid()))
    counter.close()


def hold_lock(name: str, run_id: str, held: Any, release: Any) -> None:
    """Take the counter's lock, say so, and keep it until ``release`` is set (or we are killed)."""
    counter = SharedMemoryCounter(name, run_id=run_id)
    counter.get_lock().acquire()
    held.set()
    release.wait(START_TIMEOUT)


def hold_semaphore_without_owner(name: str, run_id: str, held: Any, release: Any) -> None:
    """Take the lock's semaphore WITHOUT recording an owner (a holder killed in that window)."""
    from shared_counter._private import native
    from shared_counter._private.core import Names

    sem = native.open_semaphore(Names.of(name, run_id).lock, native.SEMAPHORE)
    sem.acquire()
    held.set()
    release.wait(START_TIMEOUT)


def increment_forever(name: str, run_id: str, started: Any) -> None:
    """Increment in a tight loop until killed."""
    counter = SharedMemoryCounter(name, run_id=run_id)
    counter.increment()
    started.set()
    while True:
        counter.increment()
