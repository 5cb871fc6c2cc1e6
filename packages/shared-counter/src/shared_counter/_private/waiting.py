"""Waiting for an integer to reach a value or satisfy a condition, without busy-spinning.

One implementation for every counter that reads its value with a call: ``SharedMemoryCounter.wait_for``
here, and counters kept elsewhere (``suitkaise_processing.RedisCounter`` reads a Redis server).
"""

from __future__ import annotations

import operator
import time
from collections.abc import Callable

__all__ = ["wait_until"]

#: the first sleep between two reads (seconds); it doubles up to LONGEST_SLEEP
FIRST_SLEEP = 0.0005
LONGEST_SLEEP = 0.05


def wait_until(
    read: Callable[[], int],
    predicate_or_value: Callable[[int], object] | int,
    timeout: float | None = None,
) -> bool:
    """Call ``read()`` until its result equals ``predicate_or_value`` (an int) or satisfies it (a
    callable); ``True`` then, ``False`` when ``timeout`` seconds passed first (``None``: no limit).

    Sleeps between reads, 0.5 ms growing to 50 ms: it never busy-spins. A negative ``timeout`` raises
    ``ValueError``; whatever ``read`` raises goes to the caller.
    """
    if timeout is not None and timeout < 0:
        raise ValueError(f"timeout must be >= 0 or None, not {timeout!r}")
    if callable(predicate_or_value):
        predicate = predicate_or_value
    else:
        target = operator.index(predicate_or_value)

        def predicate(value: int) -> bool:
            return value == target

    deadline = None if timeout is None else time.monotonic() + timeout
    delay = FIRST_SLEEP
    while True:
        if predicate(read()):
            return True
        if deadline is None:
            time.sleep(delay)
        else:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            time.sleep(min(delay, remaining))
        delay = min(delay * 2, LONGEST_SLEEP)
