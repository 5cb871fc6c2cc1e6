"""Functions the recycling and item-timeout tests send to Pool workers (importable by name).

Every function appends one line per run to the file named by its ``log`` argument (when given: pass
it with ``functools.partial``), so a test can count how often each item ran: appends of a few bytes
with ``O_APPEND`` are atomic.
"""

from __future__ import annotations

import os
import threading

from suitkaise_processing import Skprocess

#: blocks forever: never set (an item that "runs too long" waits on it)
NEVER = threading.Event()
#: memory kept by :func:`keep_memory` (the worker "leaks" it on purpose)
_KEPT: list[bytes] = []
_RUNS = 0


def note_run(x: object, path: str | None) -> None:
    """Append ``"x pid\\n"`` to the run log ``path`` (``None``: no log)."""
    if path:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, f"{x} {os.getpid()}\n".encode())
        finally:
            os.close(fd)


def read_runs(path: str) -> list[tuple[int, int]]:
    """``(item, pid)`` of every run logged in ``path``."""
    with open(path) as log:
        return [(int(x), int(pid)) for x, pid in (line.split() for line in log)]


def double_in(x: int, log: str | None = None) -> tuple[int, int]:
    """``(2x, pid)``."""
    note_run(x, log)
    return x * 2, os.getpid()


def add_in(a: int, b: int, log: str | None = None) -> tuple[int, int]:
    """``(a + b, pid)`` (for ``star()``); runs are logged under ``a``."""
    note_run(a, log)
    return a + b, os.getpid()


def fail_on_multiples_of_7(x: int, log: str | None = None) -> int:
    note_run(x, log)
    if x % 7 == 0 and x:
        raise ValueError(f"item {x} is a multiple of 7")
    return x


def hang_on(x: int, hang: int = 5, log: str | None = None) -> int:
    """``2x``; item ``hang`` never returns."""
    note_run(x, log)
    if x == hang:
        NEVER.wait()
    return x * 2


def hang_add(a: int, b: int, log: str | None = None) -> int:
    """``a + b``; never returns when ``a`` is 3."""
    return hang_on(a, 3, log) // 2 + b


def rss() -> int:
    """Resident memory of this process in bytes (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def keep_memory(
    x: int, size: int = 30_000_000, log: str | None = None
) -> tuple[int, int, int, int]:
    """Keep ``size`` more bytes (touched: they count in RSS); ``(x, pid, run number, RSS after)``."""
    global _RUNS
    note_run(x, log)
    _KEPT.append(b"\x01" * size)
    _RUNS += 1
    return x, os.getpid(), _RUNS, rss()


class HangOnTwo(Skprocess):
    """One run; item 2 never returns from ``__run__``; two lives; ``__error__`` names the error."""

    def __init__(self, x: int, log: str | None = None) -> None:
        self.x = x
        self.log = log
        self.process_config.runs = 1
        self.process_config.lives = 2

    def __run__(self) -> None:
        note_run(self.x, self.log)
        if self.x == 2:
            NEVER.wait()

    def __result__(self) -> int:
        return self.x * 10

    def __error__(self) -> str:
        return f"error: {type(self.error).__name__}"
