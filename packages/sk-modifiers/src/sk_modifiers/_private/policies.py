"""The state of the ``.retry()`` and ``.rate_limit()`` modifiers."""

from __future__ import annotations

import contextlib
import contextvars
import math
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from sk_modifiers._private.errors import SkModifierError


def sleep(seconds: float) -> None:
    """Blocking sleep used by retry delays and rate limits (tests may replace it)."""
    time.sleep(seconds)


def monotonic() -> float:
    """The clock of rate limits kept in this process (tests may replace it with :func:`sleep`)."""
    return time.monotonic()


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


class RateSchedule(Protocol):
    """Where a rate limit keeps its two times, and how a call books its slot in them.

    ``next``: the earliest free slot (every booking moves it one interval on); ``last``: when the
    last call really started. Both operations are atomic against every other user of the schedule:
    the threads of one process (:class:`LocalSchedule`), or the processes and machines of a shared
    schedule (suitkaise-processing keeps one in shared memory or in Redis).
    """

    def reserve(self, interval: float) -> float:
        """Book the slot ``max(now, next)`` and move ``next`` one interval past it; return the
        seconds until the slot."""
        ...

    def start(self, interval: float) -> float:
        """Start a call now unless the last start was less than ``interval`` ago: return 0.0 when it
        started (``last`` is now, ``next`` at least one interval later), else the seconds to wait
        before asking again."""
        ...


class LocalSchedule:
    """The :class:`RateSchedule` of one process, shared by its threads."""

    __slots__ = ("_last", "_lock", "_next")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next = 0.0
        self._last = -math.inf

    def reserve(self, interval: float) -> float:
        with self._lock:
            now = monotonic()
            slot = max(now, self._next)
            self._next = slot + interval
        return slot - now

    def start(self, interval: float) -> float:
        with self._lock:
            now = monotonic()
            earliest = self._last + interval
            if now < earliest:
                return earliest - now
            self._last = now
            self._next = max(self._next, now + interval)
        return 0.0


#: while set (in this thread or task), pickling a rate limiter with a LocalSchedule asks this
#: function for the schedule its copies share; see :func:`sharing_rate_limits`
_sharing: contextvars.ContextVar[Callable[[RateLimiter], RateSchedule] | None] = (
    contextvars.ContextVar("sk_modifiers_sharing_rate_limits", default=None)
)


@contextlib.contextmanager
def sharing_rate_limits(
    schedule_for: Callable[[RateLimiter], RateSchedule],
) -> Iterator[None]:
    """Inside the ``with`` block (this thread or task), a ``.rate_limit()`` that gets pickled
    travels with ``schedule_for(limiter)``, a schedule its copies in other processes share, instead
    of starting afresh in each copy. A library that sends functions to worker processes (a process
    pool) uses it to make the limit hold across its workers: ``schedule_for`` returns the same
    shared schedule for the same limiter."""
    token = _sharing.set(schedule_for)
    try:
        yield
    finally:
        _sharing.reset(token)


class RateLimiter:
    """``rate_limit(per_second)``: calls through one chain start at least ``1/per_second`` apart.

    Shared by every call (and thread) that goes through the same modifier chain object, through
    its :class:`RateSchedule` (a :class:`LocalSchedule` unless given one). A call books a slot
    (``reserve``), sleeps until it, then starts only if the last call started at least one
    interval ago (``start``), else waits the rest: so two calls never start less than one
    interval apart, even when a waiter wakes up late on a loaded machine.
    """

    __slots__ = ("interval", "per_second", "schedule")

    def __init__(self, per_second: float, schedule: RateSchedule | None = None) -> None:
        if isinstance(per_second, bool) or not _finite_non_negative(per_second) or per_second == 0:
            raise SkModifierError(f"rate_limit(per_second) needs a number > 0, got {per_second!r}")
        self.per_second = float(per_second)
        self.interval = 1.0 / self.per_second
        self.schedule: RateSchedule = LocalSchedule() if schedule is None else schedule

    def acquire(self) -> None:
        """Wait (blocking) until this call may start."""
        schedule, interval = self.schedule, self.interval
        wait = schedule.reserve(interval)
        while True:
            if wait > 0:
                sleep(wait)
            wait = schedule.start(interval)
            if wait <= 0:
                return

    async def acquire_async(self) -> None:
        """Wait (asyncio) until this call may start."""
        schedule, interval = self.schedule, self.interval
        wait = schedule.reserve(interval)
        while True:
            if wait > 0:
                await async_sleep(wait)
            wait = schedule.start(interval)
            if wait <= 0:
                return

    def __reduce__(self) -> tuple[Any, ...]:
        # A LocalSchedule lives in this process: a copy starts afresh, unless a sharing_rate_limits
        # block gives the schedule the copies share.
        schedule: RateSchedule | None = self.schedule
        if type(schedule) is LocalSchedule:
            share = _sharing.get()
            schedule = None if share is None else share(self)
        return (RateLimiter, (self.per_second, schedule))

    def __repr__(self) -> str:
        return f"rate_limit({self.per_second:g})"


def _finite_non_negative(value: object) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) and value >= 0
