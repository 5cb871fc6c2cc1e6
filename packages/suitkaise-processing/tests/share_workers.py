"""Functions and classes the Share tests' child processes import by reference (plain multiprocessing)."""

from __future__ import annotations

import os
from typing import Any

from suitkaise_processing import Share, Skprocess


def increment(share: Share, n: int, done: Any = None) -> None:
    for _ in range(n):
        share.counter += 1
    if done is not None:
        done.put(os.getpid())


def bump_dict(share: Share, keys: list[str], done: Any = None) -> None:
    for key in keys:
        share.d[key] += 1
    if done is not None:
        done.put(os.getpid())


def set_dict_items(share: Share, prefix: str, n: int, done: Any = None) -> None:
    for i in range(n):
        share.d[f"{prefix}-{i}"] = i
    if done is not None:
        done.put(os.getpid())


def append_items(share: Share, prefix: str, n: int, done: Any = None) -> None:
    for i in range(n):
        share.items.append(f"{prefix}-{i}")
    if done is not None:
        done.put(os.getpid())


def pop_items(share: Share, n: int, out: Any) -> None:
    popped = [share.items.pop() for _ in range(n)]
    out.put(popped)


def take_from_iterator(share: Share, out: Any) -> None:
    taken = []
    for value in share.it:
        taken.append(value)
    out.put(taken)


def call_methods(share: Share, n: int, done: Any = None) -> None:
    for _ in range(n):
        share.acc.add(2)
    if done is not None:
        done.put(share.acc.total)


def add_times(share: Share, n: int, done: Any = None) -> None:
    for i in range(n):
        share.timer.add_time(0.001 * (i + 1))
    if done is not None:
        done.put(os.getpid())


def write_then_read(share: Share, out: Any) -> None:
    """Reads its own writes at once, every time."""
    seen = []
    for i in range(200):
        share.mine = i
        seen.append(share.mine)
        share.log.append(i)
        seen.append(len(share.log) >= i + 1)
    out.put(seen)


def write_and_signal(share: Share, value: int, ready: Any) -> None:
    share.flag = value
    share.items.append(value)
    ready.set()


def access_after_signal(share: Share, go: Any, out: Any) -> None:
    share.counter  # noqa: B018 - connects before the coordinator is killed
    out.put("connected")
    go.wait(60)
    try:
        share.counter += 1
        _ = share.counter
    except Exception as exc:
        out.put(type(exc).__name__)
    else:
        out.put("no error")


def owner_that_dies(out: Any) -> None:
    """Creates a Share, reports its coordinator pid and segment prefix, then dies without cleanup."""
    share = Share()
    share.x = 1
    owner = share._sk_owner
    assert owner is not None
    out.put((owner.proc.pid, share._sk_id()))
    os._exit(0)


class Accumulator:
    """A user class held in a Share."""

    def __init__(self) -> None:
        self.total = 0
        self.history: list[int] = []

    def add(self, n: int) -> int:
        self.total += n
        self.history.append(n)
        return self.total

    def peek(self) -> int:
        return self.total


class IncrementProcess(Skprocess):
    """The how-to's basic-usage process."""

    def __init__(self, share: Share) -> None:
        self.share = share
        self.process_config.runs = 10

    def __run__(self) -> None:
        pass

    def __postrun__(self) -> None:
        self.share.counter += 1


class AppendProcess(Skprocess):
    def __init__(self, share: Share, value: int) -> None:
        self.share = share
        self.value = value
        self.process_config.runs = 1

    def __run__(self) -> None:
        self.share.items.append(self.value)

    def __result__(self) -> int:
        return len(self.share.items)


def pool_increment(share: Share) -> int:
    share.counter += 1
    share.seen.append(os.getpid())
    return int(share.counter)


def _explode() -> None:
    raise RuntimeError("this value cannot be rebuilt in the coordinator")


class Unloadable:
    """Serializes fine, but rebuilding it raises (stands for a class the coordinator cannot import)."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (_explode, ())


def mixed_workload(share: Share, seed: int, n: int, out: Any) -> None:
    """Appends, pops, item increments and counter increments, interleaved; reports what it popped."""
    popped = []
    for i in range(n):
        share.counter += 1
        share.d[f"k{(seed + i) % 7}"] += 1
        share.items.append((seed, i))
        if i % 3 == 0:
            try:
                popped.append(share.items.pop(0))
            except IndexError:
                pass
        if i % 50 == 0:
            assert share.counter >= i + 1  # reads include this process's own increments
    out.put(popped)


def share_inside_a_worker(n: int) -> int:
    """A Share created inside a pool worker (a daemonic process) works and is cleaned up."""
    with Share() as share:
        share.counter = 0
        for _ in range(n):
            share.counter += 1
        return int(share.counter)


def increment_marking(share: Share, n: int, marks: dict[int, Any]) -> None:
    """``share.counter += 1`` n times; sets ``marks[i]`` (an Event) after increment i."""
    for i in range(1, n + 1):
        share.counter += 1
        mark = marks.get(i)
        if mark is not None:
            mark.set()


def append_marking(share: Share, wid: int, n: int, marks: dict[int, Any]) -> None:
    """``share.items.append((wid, i))`` n times; sets ``marks[i]`` after append i."""
    for i in range(1, n + 1):
        share.items.append((wid, i))
        mark = marks.get(i)
        if mark is not None:
            mark.set()


def increment_and_read(share: Share, go: Any, out: Any) -> None:
    """Connects, waits for ``go``, then writes and reads (across a coordinator restart)."""
    out.put(int(share.counter))
    go.wait(60)
    try:
        share.counter += 1
        out.put(int(share.counter))
    except Exception as exc:
        out.put(type(exc).__name__)


def own_a_share(out: Any, hold: Any) -> None:
    """Creates a Share, hands it out, and stays until killed (``hold`` is never set)."""
    share = Share()
    share.counter = 5
    owner = share._sk_owner
    assert owner is not None
    out.put((share, owner.proc.pid))
    hold.wait(300)


def write_then_exit(share: Share, go: Any, out: Any, exit_wait: float, stderr_path: str) -> None:
    """Writes once ``go`` is set, reports, then exits: the exit waits at most ``exit_wait`` seconds
    for the write to be committed (``EXIT_FLUSH_WAIT``); what it says goes to ``stderr_path``."""
    import sys

    import suitkaise_processing._private.share.client as client

    client.EXIT_FLUSH_WAIT = exit_wait
    sys.stderr = open(stderr_path, "w", encoding="utf-8")  # noqa: SIM115 - open until the exit
    share.counter  # noqa: B018 - connects first
    out.put("connected")
    go.wait(60)
    share.counter = 5  # sent without waiting; the stopped coordinator never commits it
    out.put("written")
