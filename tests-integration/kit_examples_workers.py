"""Real stand-ins for the placeholders of the user's documents, importable by child processes.

The seed documents call ``fetch_next_batch()``, ``process(item)``, ``heavy_computation(x)``,
``process_command(cmd)``, ``log_error(err)``, ... without defining them: these are small real
functions with known results, so the documented examples can be checked exactly.
"""

from __future__ import annotations

import os
import time
from typing import Any

from suitkaise.shared_counter import SharedMemoryCounter

START_TIMEOUT = 60.0

# --- seed 000: shared counter --------------------------------------------------------------------


def quick_start_worker(counter_name: str, run_id: str, increments: int) -> None:
    """The Quick Start's ``worker``, verbatim except for the sleep (0.01 s instead of 0.1 s)."""
    counter = SharedMemoryCounter(name=counter_name, create=False, run_id=run_id)
    for _i in range(increments):
        counter.value += 1
        print(f"Worker incremented counter to {counter.value}")
        time.sleep(0.01)
    counter.close()


def plus_one(name: str, run_id: str, times: int, start: Any) -> None:
    """Connect to a counter by name and do ``counter.value += 1`` ``times`` times once ``start`` is set."""
    counter = SharedMemoryCounter(name, create=False, run_id=run_id)
    if not start.wait(START_TIMEOUT):
        raise RuntimeError("start event never set")
    for _ in range(times):
        counter.value += 1
    counter.close()


def locked_plus_one(counter: SharedMemoryCounter, times: int, start: Any) -> None:
    """The API-compatibility example: ``with counter.get_lock(): counter.value += 1`` on a pickled counter."""
    if not start.wait(START_TIMEOUT):
        raise RuntimeError("start event never set")
    for _ in range(times):
        with counter.get_lock():
            counter.value += 1
    counter.close()


def mp_value_locked_plus_one(value: Any, times: int, start: Any) -> None:
    """The "old way" of the API-compatibility example, with a ``multiprocessing.Value``."""
    if not start.wait(START_TIMEOUT):
        raise RuntimeError("start event never set")
    for _ in range(times):
        with value.get_lock():
            value.value += 1


def take_slot(name: str, run_id: str, rounds: int, start: Any, out: Any) -> None:
    """Use case 3 as written: take a slot if one is free, work, release it; report the lowest value seen."""
    slots_counter = SharedMemoryCounter(name, create=False, run_id=run_id)
    if not start.wait(START_TIMEOUT):
        raise RuntimeError("start event never set")
    lowest = slots_counter.value
    for _ in range(rounds):
        if slots_counter.value > 0:
            slots_counter.value -= 1
            lowest = min(lowest, slots_counter.value)
            # Do work...
            slots_counter.value += 1  # Release slot when done
    slots_counter.close()
    out.put(lowest)


def complete_tasks(name: str, run_id: str, tasks: list[int]) -> int:
    """Use case 4: ``process task`` (square it), then ``task_counter.value += 1``; returns the checksum."""
    task_counter = SharedMemoryCounter(name, create=False, run_id=run_id)
    total = 0
    for task in tasks:
        total += task * task  # ... process task ...
        task_counter.value += 1
    task_counter.close()
    return total


def pickled_counter_plus(counter: SharedMemoryCounter, times: int) -> None:
    """Use case 2: a counter that arrived pickled (as a Process argument) is the same counter."""
    for _ in range(times):
        counter.value += 1
    counter.close()


# --- seed 001: processing placeholders -----------------------------------------------------------


def fetch_next_batch(run: int) -> list[int]:
    """``fetch_next_batch()``: the batch of run ``run`` is ``[10*run, 10*run+1, 10*run+2]``."""
    return [10 * run, 10 * run + 1, 10 * run + 2]


def process(item: int) -> int:
    """``process(item)``: squares the item."""
    return item * item


def heavy_computation(item: int) -> int:
    """``heavy_computation(item)``: a sum of squares (real CPU work, small)."""
    return sum(i * i for i in range(item))


def process_command(command: dict[str, Any]) -> dict[str, Any]:
    """``process_command(command)``: ``{"action": "compute", "value": v}`` -> ``{"result": v * 2, ...}``."""
    if command.get("action") != "compute":
        return {"error": f"unknown action {command.get('action')!r}"}
    return {"result": command["value"] * 2, "pid": os.getpid()}


def add(a: int, b: int) -> int:
    """``fn(a, b)`` for the star examples."""
    return a + b


def first_of(pair: tuple[int, int]) -> int:
    """``fn(item)`` receiving the whole tuple (``map`` without ``star``)."""
    return pair[0] * 100 + pair[1]


def square(x: int) -> int:
    """``fn(item)`` for the Pool examples."""
    return x * x


def square_slow_first(x: int) -> int:
    """Squares ``x``; item 0 takes longer so completion order differs from input order (not asserted)."""
    if x == 0:
        time.sleep(0.2)
    return x * x


def sleep_then_square(x: int) -> int:
    """Sleeps a long time for ``x < 0`` (a stuck item for timeout examples), else squares."""
    if x < 0:
        time.sleep(120)
    return x * x


def pid_of(_x: int) -> int:
    """The worker's pid (which process ran the item)."""
    return os.getpid()


def kill_self_on(x: int, marker: str) -> int:
    """SIGKILLs its own worker on item ``x == -1`` (after writing ``marker``); else returns ``x * 3``."""
    if x == -1:
        with open(marker, "w") as fh:
            fh.write(str(os.getpid()))
        os.kill(os.getpid(), 9)
    return x * 3


def write_marker(path: str) -> None:
    """A thread target: writes ``"written by the thread"`` to ``path``."""
    with open(path, "w") as fh:
        fh.write("written by the thread")
