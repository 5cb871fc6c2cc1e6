"""``LockManager``: several named locks taken all-or-nothing, in one global order.

Every caller takes the locks it asks for sorted by name, so two callers asking for ("a", "b") and
("b", "a") take "a" first and can never deadlock. If one lock is not had before the timeout, the ones
already taken are released (in reverse order) and nothing is held.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from types import TracebackType
from typing import Any

from suitkaise_processing._private.concurrency.base import BaseLock, deadline_of
from suitkaise_processing._private.concurrency.errors import LockTimeoutError
from suitkaise_processing._private.concurrency.files import check_name
from suitkaise_processing._private.concurrency.local import LocalLock
from suitkaise_processing._private.concurrency.redis_backend import RedisLock
from suitkaise_processing._private.concurrency.stats import LockStats


class HeldLocks:
    """The locks one ``LockManager.acquire`` call holds; ``with`` (or ``release()``) gives them back."""

    def __init__(self, locks: list[BaseLock]) -> None:
        self.locks = locks
        self._released = False

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(lock.name for lock in self.locks)

    def release(self) -> None:
        """Release every lock (in reverse order of taking); a second call does nothing."""
        if self._released:
            return
        self._released = True
        _release_all(self.locks[::-1])

    def __enter__(self) -> HeldLocks:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    async def __aenter__(self) -> HeldLocks:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


class LockManager:
    """Named locks on demand, and several of them at once without deadlock.

    ``LockManager()`` uses ``LocalLock`` (the same locks as ``LocalLock(name)`` anywhere on this
    machine); ``LockManager(redis_url="redis://...")`` uses ``RedisLock`` (with ``ttl``).
    ``with manager.acquire("a", "b", timeout=5.0):`` holds both or raises ``LockTimeoutError``.
    """

    def __init__(self, *, redis_url: str | None = None, ttl: float = 30.0) -> None:
        self.redis_url = redis_url
        self.ttl = ttl
        self._locks: dict[str, BaseLock] = {}
        self._guard = threading.Lock()

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.redis_url, self.ttl))

    def lock(self, name: str) -> BaseLock:
        """The lock of ``name`` (created on first use, then the same object)."""
        with self._guard:
            lock = self._locks.get(name)
            if lock is None:
                check_name(name)
                if self.redis_url is None:
                    lock = LocalLock(name)
                else:
                    lock = RedisLock(name, redis_url=self.redis_url, ttl=self.ttl)
                self._locks[name] = lock
            return lock

    def _ordered(self, names: Iterable[str]) -> list[BaseLock]:
        wanted = sorted(set(names))
        if not wanted:
            raise ValueError("LockManager.acquire() needs at least one lock name")
        return [self.lock(name) for name in wanted]

    def acquire(self, *names: str, timeout: float | None = None) -> HeldLocks:
        """Take every named lock (sorted by name), or none: ``LockTimeoutError`` after ``timeout`` s."""
        locks = self._ordered(names)
        deadline = deadline_of(True, timeout)
        taken: list[BaseLock] = []
        try:
            for lock in locks:
                left = None if deadline is None else max(0.0, deadline - time.perf_counter())
                if not lock.acquire(timeout=left):
                    raise LockTimeoutError(
                        f"LockManager: lock {lock.name!r} still held after {timeout} s "
                        f"(asked for {[x.name for x in locks]}); nothing is held. "
                        "Raise the timeout or find the holder (see manager.stats())"
                    )
                taken.append(lock)
        except BaseException:
            _release_all(taken[::-1])
            raise
        return HeldLocks(taken)

    async def acquire_async(self, *names: str, timeout: float | None = None) -> HeldLocks:
        """``async with await manager.acquire_async("a", "b"):`` without blocking the event loop."""
        locks = self._ordered(names)
        deadline = deadline_of(True, timeout)
        taken: list[BaseLock] = []
        try:
            for lock in locks:
                left = None if deadline is None else max(0.0, deadline - time.perf_counter())
                if not await lock.acquire_async(timeout=left):
                    raise LockTimeoutError(
                        f"LockManager: lock {lock.name!r} still held after {timeout} s; nothing is held"
                    )
                taken.append(lock)
        except BaseException:
            _release_all(taken[::-1])
            raise
        return HeldLocks(taken)

    def stats(self) -> dict[str, LockStats]:
        """``LockStats`` of each lock this manager has used in this process, by name."""
        with self._guard:
            return {name: lock.stats for name, lock in sorted(self._locks.items())}


def _release_all(locks: list[BaseLock]) -> None:
    """Release each lock in order, even when one release raises or is cut short by an interrupt
    (issue 11): the others are still released, and the error propagates afterwards."""
    if locks:
        try:
            locks[0].release()
        finally:
            _release_all(locks[1:])


def _rebuild(redis_url: str | None, ttl: float) -> LockManager:
    return LockManager(redis_url=redis_url, ttl=ttl)
