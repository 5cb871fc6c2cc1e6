"""``CounterLock``: the real cross-process lock of a counter, as ``get_lock()`` returns it."""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shared_counter._private.counter import SharedMemoryCounter


class CounterLock:
    """The named, cross-process, recursive lock of one counter.

    Every process connected to the counter reaches the same lock. It is recursive for the thread
    holding it (like ``multiprocessing.RLock``), so ``with counter.get_lock(): counter.value += 1``
    works. A process that dies while holding it does not block the others forever: waiters detect
    the dead holder and release its hold (see the how-it-works page).
    """

    __slots__ = ("_counter",)

    def __init__(self, counter: SharedMemoryCounter) -> None:
        self._counter = counter

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        """Take the lock; return True when taken.

        ``blocking=False`` tries once; ``timeout`` (seconds) bounds the wait; ``None`` waits as long
        as it takes (a dead holder is recovered meanwhile).
        """
        if timeout is not None:
            if not blocking:
                raise ValueError("a timeout cannot be given together with blocking=False")
            if timeout < 0:
                raise ValueError(f"timeout must be >= 0 or None, not {timeout!r}")
        return self._counter._core.lock_acquire(blocking, timeout)

    def release(self) -> None:
        """Release one level of the lock (``CounterLockError`` if this thread does not hold it)."""
        self._counter._core.lock_release()

    def held(self) -> bool:
        """Whether the calling thread holds the lock."""
        return self._counter._core.lock_held()

    def __enter__(self) -> bool:
        return self._counter._core.lock_enter()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._counter._core.lock_release()

    def __repr__(self) -> str:
        c = self._counter
        return f"<CounterLock of counter {c.name!r} (run_id {c.run_id!r})>"
