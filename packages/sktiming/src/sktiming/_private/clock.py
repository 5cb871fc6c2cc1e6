"""Wall-clock helpers: ``time``, ``sleep`` (with ``.asynced()``) and ``elapsed``."""

from __future__ import annotations

import time as _time
from collections.abc import Callable, Coroutine
from typing import Any


def time() -> float:
    """Return the current Unix timestamp in seconds (same as :func:`time.time`)."""
    return _time.time()


def elapsed(t1: float, t2: float | None = None) -> float:
    """Return the absolute difference between two timestamps; ``t2`` defaults to now.

    >>> elapsed(10.0, 12.5)
    2.5
    """
    if t2 is None:
        t2 = _time.time()
    return abs(t2 - t1)


async def _async_sleep(seconds: float) -> float:
    import asyncio  # on first use: importing it costs ~25 ms and ~8 MB (ssl) at start-up

    await asyncio.sleep(seconds)
    return _time.time()


class Sleep:
    """Callable that sleeps: ``sleep(0.5)`` blocks, ``await sleep.asynced()(0.5)`` does not.

    Both return the Unix timestamp taken after sleeping.
    """

    __slots__ = ()

    def __call__(self, seconds: float) -> float:
        """Block the calling thread for ``seconds`` and return the time after sleeping."""
        if seconds < 0:
            raise ValueError(f"sleep() needs a non-negative number of seconds, got {seconds!r}")
        _time.sleep(seconds)
        return _time.time()

    def asynced(self) -> Callable[[float], Coroutine[Any, Any, float]]:
        """Return the asyncio version: ``await sleep.asynced()(seconds)``."""
        return _async_sleep

    def __repr__(self) -> str:
        return "sktiming.sleep"

    def __reduce__(self) -> str:
        return "sleep"


sleep = Sleep()
