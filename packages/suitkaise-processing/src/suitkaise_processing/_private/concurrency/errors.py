"""The exceptions of the concurrency primitives, rooted at :class:`ProcessError` like every other one."""

from __future__ import annotations

from suitkaise_processing._private.errors import ProcessError


class LockError(ProcessError):
    """Base class of the errors raised by the locks, semaphores and the lock manager."""


class LockTimeoutError(LockError, TimeoutError):
    """A ``with lock.hold(timeout=...)`` (or ``LockManager.acquire``, ``rw.read(timeout=...)``) timed out.

    ``acquire(timeout=...)`` never raises it: it returns ``False``.
    """


class LockNotHeldError(LockError, RuntimeError):
    """``release()`` of a lock or semaphore this process (or, for Redis, this owner) does not hold.

    For a Redis primitive this also means the lock was lost: its TTL ran out (the holder was paused
    or cut off longer than ``ttl``) or the server restarted, and someone else may hold it now.
    """


class LockBackendError(LockError, ConnectionError):
    """The Redis server behind a ``RedisLock`` / ``RedisSemaphore`` could not be reached or answered an error."""
