"""Functions the rate-limit tests run in Pool workers (importable by name from the workers)."""

from __future__ import annotations

import os
import time

from sk_modifiers import sk
from suitkaise_processing import Skprocess


def when(item: object) -> tuple[float, int]:
    """When this call started (``time.monotonic()``, one clock for the whole machine) and where."""
    return time.monotonic(), os.getpid()


@sk
def sk_when(item: object) -> tuple[float, int]:
    """``when`` as an ``@sk`` function, for ``sk_when.rate_limit(n)``."""
    return time.monotonic(), os.getpid()


def when_pair(a: int, b: int) -> tuple[float, int]:
    """``when`` for ``pool.star()``."""
    return time.monotonic(), os.getpid()


def when_or_die(item: int) -> tuple[float, int]:
    """``when``, except that item 2 kills its worker."""
    if item == 2:
        os._exit(3)
    return time.monotonic(), os.getpid()


class WhenProcess(Skprocess):
    """An ``Skprocess`` item recording when it was created (the limiter lets it start)."""

    def __init__(self, item: int) -> None:
        self.started = time.monotonic()
        self.process_config.runs = 1

    def __run__(self) -> None:
        self.pid = os.getpid()

    def __result__(self) -> tuple[float, int]:
        return self.started, self.pid


def take_the_lock_and_die(run_id: str) -> None:
    """Connect to a shared-memory schedule's "next" counter, take its lock and die holding it."""
    from shared_counter import SharedMemoryCounter

    SharedMemoryCounter("n", run_id=run_id).get_lock().acquire()
    os._exit(0)
