"""Locks, read-write locks, semaphores and a lock manager that work across threads and processes.

Every primitive with the same name is the same one in every process of the machine (``Redis*``: of
every machine using the server), survives the death of its holder, pickles by name, has an async
form and keeps ``LockStats``::

    from suitkaise_processing.concurrency import LocalLock, LockManager, ReadWriteLock, LocalSemaphore

    with LocalLock("resource-1"):
        ...
    with LockManager().acquire("a", "b", timeout=5.0):
        ...

``RedisLock`` / ``RedisSemaphore`` need the extra ``suitkaise-processing[redis]`` (redis-py), imported
only when one is created. Also importable as ``suitkaise.concurrency``.
"""

from suitkaise_processing._private.concurrency.base import BaseLock, BaseSemaphore
from suitkaise_processing._private.concurrency.errors import (
    LockBackendError,
    LockError,
    LockNotHeldError,
    LockTimeoutError,
)
from suitkaise_processing._private.concurrency.local import LocalLock
from suitkaise_processing._private.concurrency.manager import HeldLocks, LockManager
from suitkaise_processing._private.concurrency.redis_backend import RedisLock, RedisSemaphore
from suitkaise_processing._private.concurrency.rwlock import ReadWriteLock
from suitkaise_processing._private.concurrency.semaphore import LocalSemaphore
from suitkaise_processing._private.concurrency.stats import LockStats

__all__ = [
    "BaseLock",
    "LocalLock",
    "RedisLock",
    "ReadWriteLock",
    "BaseSemaphore",
    "LocalSemaphore",
    "RedisSemaphore",
    "LockManager",
    "HeldLocks",
    "LockStats",
    "LockError",
    "LockTimeoutError",
    "LockNotHeldError",
    "LockBackendError",
]
