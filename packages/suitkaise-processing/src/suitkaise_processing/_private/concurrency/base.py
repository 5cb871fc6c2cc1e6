"""``BaseLock`` and ``BaseSemaphore``: the interface every lock and semaphore shares.

A subclass implements ``acquire`` / ``release`` / ``locked`` and ``_try_acquire`` (one attempt that never
waits, counted as an uncontended acquisition); this module adds the context managers, ``hold(timeout=...)``, the asyncio
forms (which poll ``_try_acquire`` with ``asyncio.sleep`` in between, so the event loop never blocks),
and ``stats``.
"""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from types import TracebackType
from typing import TypeVar

from suitkaise_processing._private.concurrency.errors import LockTimeoutError
from suitkaise_processing._private.concurrency.stats import LockStats, StatsRecorder

P = TypeVar("P", bound="_Primitive")
ASYNC_MAX_POLL = 0.002  # longest asyncio.sleep between two tries of an async wait (seconds)


def deadline_of(blocking: bool, timeout: float | None) -> float | None:
    """The ``perf_counter`` deadline of an acquire call (``None``: wait forever), checking the arguments."""
    if timeout is None:
        return None
    if not blocking:
        raise ValueError("a timeout makes no sense with blocking=False; pass one or the other")
    if timeout < 0:
        raise ValueError(f"timeout must be >= 0 or None (wait forever), got {timeout}")
    return time.perf_counter() + timeout


class _Primitive(ABC):
    """What locks and semaphores share (see the module docstring)."""

    name: str
    _stats: StatsRecorder
    _async_max_poll = ASYNC_MAX_POLL  # longest asyncio.sleep between two tries of acquire_async

    @abstractmethod
    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        """Take it; ``False`` when ``blocking=False`` finds it busy or ``timeout`` seconds pass."""

    @abstractmethod
    def release(self) -> None:
        """Give it back; raises ``LockNotHeldError`` (a ``RuntimeError``) when not held."""

    @abstractmethod
    def locked(self) -> bool:
        """Whether an ``acquire(blocking=False)`` would fail right now."""

    @abstractmethod
    def _try_acquire(self) -> bool:
        """One attempt that never waits; counts a success as an uncontended acquisition."""

    async def _try_acquire_async(self) -> bool:
        """``_try_acquire`` for ``acquire_async`` (a network-bound subclass runs it off the loop)."""
        return self._try_acquire()

    @property
    def stats(self) -> LockStats:
        """What this object saw in this process so far (a snapshot)."""
        return self._stats.snapshot()

    def __enter__(self: P) -> P:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    @contextmanager
    def hold(self, timeout: float | None = None) -> Iterator[None]:
        """``with lock.hold(timeout=5):`` holds it for the block or raises ``LockTimeoutError``."""
        if not self.acquire(timeout=timeout):
            raise LockTimeoutError(
                f"{type(self).__name__} {self.name!r} is still held after {timeout} s; "
                "raise the timeout or find the holder (see .stats)"
            )
        try:
            yield
        finally:
            self.release()

    async def acquire_async(self, timeout: float | None = None) -> bool:
        """``await lock.acquire_async(timeout=...)``: like ``acquire`` without blocking the event loop."""
        if await self._try_acquire_async():
            return True
        start = time.perf_counter()
        deadline = deadline_of(True, timeout)
        delay = 20e-6
        while not await self._try_acquire_async():
            now = time.perf_counter()
            if deadline is not None and now >= deadline:
                self._stats.timeouts += 1
                return False
            await asyncio.sleep(delay if deadline is None else min(delay, deadline - now))
            delay = min(delay * 2, self._async_max_poll)
        self._stats.acquisitions -= 1  # _try_acquire counted it as uncontended: it waited
        self._stats.waited(time.perf_counter() - start)
        return True

    @asynccontextmanager
    async def hold_async(self, timeout: float | None = None) -> AsyncIterator[None]:
        """``async with lock.hold_async(timeout=5):`` the async form of :meth:`hold`."""
        if not await self.acquire_async(timeout=timeout):
            raise LockTimeoutError(
                f"{type(self).__name__} {self.name!r} is still held after {timeout} s; "
                "raise the timeout or find the holder (see .stats)"
            )
        try:
            yield
        finally:
            self.release()

    async def __aenter__(self: P) -> P:
        await self.acquire_async()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


class BaseLock(_Primitive):
    """Base class of every lock: ``LocalLock``, ``RedisLock``.

    ``acquire(blocking=True, timeout=None) -> bool``, ``release()``, ``locked()``, ``with lock:``,
    ``with lock.hold(timeout=...)``, ``async with lock:``, ``await lock.acquire_async(timeout=...)``,
    ``lock.stats``. Objects with the same name are the same lock in every process; they pickle by name.
    """


class BaseSemaphore(_Primitive):
    """Base class of every semaphore: ``LocalSemaphore``, ``RedisSemaphore``.

    At most ``max_concurrent`` holders at once across every process using the name; the same
    methods as :class:`BaseLock`.
    """

    max_concurrent: int
