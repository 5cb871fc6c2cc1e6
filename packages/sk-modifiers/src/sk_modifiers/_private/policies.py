"""The state of the ``.retry()`` and ``.rate_limit()`` modifiers."""

from __future__ import annotations

import math
import threading
import time
from typing import Any

from sk_modifiers._private.errors import SkModifierError


def sleep(seconds: float) -> None:
    """Blocking sleep used by retry delays and rate limits (tests may replace it)."""
    time.sleep(seconds)


async def async_sleep(seconds: float) -> None:
    """Async sleep used by retry delays and rate limits after ``.asynced()``."""
    import asyncio  # on first async use: see chain.py

    await asyncio.sleep(seconds)


class RetryPolicy:
    """``retry(times, delay, backoff_factor, exceptions)``: up to ``times`` attempts in all."""

    __slots__ = ("backoff_factor", "delay", "exceptions", "times")

    def __init__(
        self,
        times: int = 3,
        delay: float = 1.0,
        backoff_factor: float = 1.0,
        exceptions: type[BaseException] | tuple[type[BaseException], ...] = (Exception,),
    ) -> None:
        if isinstance(times, bool) or not isinstance(times, int) or times < 1:
            raise SkModifierError(
                f"retry(times=...) needs an int >= 1 (attempts in all), got {times!r}"
            )
        if not _finite_non_negative(delay):
            raise SkModifierError(f"retry(delay=...) needs seconds >= 0, got {delay!r}")
        if not _finite_non_negative(backoff_factor) or backoff_factor == 0:
            raise SkModifierError(
                f"retry(backoff_factor=...) needs a number > 0 (1.0 = constant delay), got {backoff_factor!r}"
            )
        if isinstance(exceptions, type):
            exceptions = (exceptions,)
        if not exceptions or not all(
            isinstance(e, type) and issubclass(e, BaseException) for e in exceptions
        ):
            raise SkModifierError(
                f"retry(exceptions=...) needs an exception class or a tuple of them, got {exceptions!r}"
            )
        self.times = times
        self.delay = float(delay)
        self.backoff_factor = float(backoff_factor)
        self.exceptions: tuple[type[BaseException], ...] = tuple(exceptions)

    def delays(self) -> list[float]:
        """The waits between attempts: ``times - 1`` of them."""
        out, wait = [], self.delay
        for _ in range(self.times - 1):
            out.append(wait)
            wait *= self.backoff_factor
        return out

    def __getstate__(self) -> tuple[Any, ...]:
        return (self.times, self.delay, self.backoff_factor, self.exceptions)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self.times, self.delay, self.backoff_factor, self.exceptions = state

    def __repr__(self) -> str:
        names = ", ".join(e.__name__ for e in self.exceptions)
        return (
            f"retry(times={self.times}, delay={self.delay}, "
            f"backoff_factor={self.backoff_factor}, exceptions=({names},))"
        )


class RateLimiter:
    """``rate_limit(per_second)``: calls through one chain start at least ``1/per_second`` apart.

    Shared by every call (and thread) that goes through the same modifier chain object.
    """

    __slots__ = ("_lock", "_next", "interval", "per_second")

    def __init__(self, per_second: float) -> None:
        if isinstance(per_second, bool) or not _finite_non_negative(per_second) or per_second == 0:
            raise SkModifierError(f"rate_limit(per_second) needs a number > 0, got {per_second!r}")
        self.per_second = float(per_second)
        self.interval = 1.0 / self.per_second
        self._lock = threading.Lock()
        self._next = 0.0

    def _reserve(self) -> float:
        """Book the next slot; return how long the caller must wait for it."""
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self.interval
        return slot - now

    def _started(self) -> None:
        """A call starts now: the next slot is at least one interval after it.

        Keeps the spacing when a waiter wakes up late (a loaded machine): the next caller's slot
        is measured from when this call really started, not from when it was booked.
        """
        with self._lock:
            earliest = time.monotonic() + self.interval
            if earliest > self._next:
                self._next = earliest

    def acquire(self) -> None:
        """Wait (blocking) for this call's slot."""
        wait = self._reserve()
        if wait > 0:
            sleep(wait)
        self._started()

    async def acquire_async(self) -> None:
        """Wait (asyncio) for this call's slot."""
        wait = self._reserve()
        if wait > 0:
            await async_sleep(wait)
        self._started()

    def __getstate__(self) -> float:
        return self.per_second

    def __setstate__(self, state: float) -> None:
        self.per_second = state
        self.interval = 1.0 / state
        self._lock = threading.Lock()
        self._next = 0.0

    def __repr__(self) -> str:
        return f"rate_limit({self.per_second:g})"


def _finite_non_negative(value: object) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) and value >= 0
