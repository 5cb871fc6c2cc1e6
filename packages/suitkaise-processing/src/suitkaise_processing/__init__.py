"""Skprocess, Pool, Share, Pipe: multiprocessing made easy and fast.

Import from here (``from suitkaise_processing import Pool``) or, with the full kit installed,
from ``suitkaise.processing``.

The four tools are imported on first use (PEP 562 ``__getattr__``): a program that uses only
``Pool`` never loads the Share or Pipe machinery, and neither do the processes it starts (they
never import the main module).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from suitkaise_processing.__about__ import __version__
from suitkaise_processing._private.context import get_start_method, set_start_method
from suitkaise_processing._private.errors import (
    ErrorHandlerError,
    MessageError,
    OnFinishError,
    PipeEndpointError,
    PoolError,
    PostRunError,
    PreRunError,
    ProcessError,
    ProcessTimeoutError,
    ResultError,
    ResultTimeoutError,
    RunError,
    ShareError,
    WorkerDiedError,
)

if TYPE_CHECKING:
    from suitkaise_processing._private.autoreconnect import autoreconnect
    from suitkaise_processing._private.pipe import Pipe
    from suitkaise_processing._private.pool._arguments import PoolArgumentError
    from suitkaise_processing._private.pool._errors import (
        InvalidSizeError,
        ItemTimeoutError,
        PoolTimeoutError,
    )
    from suitkaise_processing._private.pool._rate_limit import RateLimit
    from suitkaise_processing._private.pool.pool import Pool
    from suitkaise_processing._private.redis_state.counter import RedisCounter
    from suitkaise_processing._private.redis_state.errors import (
        CounterBackendError,
        RateLimitBackendError,
    )
    from suitkaise_processing._private.share import Share
    from suitkaise_processing._private.skprocess.base import Skprocess
    from suitkaise_processing._private.skprocess.config import ProcessConfig, Timeouts
    from suitkaise_processing._private.timers import ProcessTimers
    from suitkaise_processing.concurrency import (
        BaseLock,
        BaseSemaphore,
        HeldLocks,
        LocalLock,
        LocalSemaphore,
        LockBackendError,
        LockError,
        LockManager,
        LockNotHeldError,
        LockStats,
        LockTimeoutError,
        ReadWriteLock,
        RedisLock,
        RedisSemaphore,
    )

# public name -> the module that defines it, imported when the name is first looked up
_LAZY = {
    "Skprocess": "suitkaise_processing._private.skprocess.base",
    "ProcessConfig": "suitkaise_processing._private.skprocess.config",
    "Timeouts": "suitkaise_processing._private.skprocess.config",
    "ProcessTimers": "suitkaise_processing._private.timers",
    "Pipe": "suitkaise_processing._private.pipe",
    "Share": "suitkaise_processing._private.share",
    "autoreconnect": "suitkaise_processing._private.autoreconnect",
    "Pool": "suitkaise_processing._private.pool.pool",
    "PoolTimeoutError": "suitkaise_processing._private.pool._errors",
    "PoolArgumentError": "suitkaise_processing._private.pool._arguments",
    "ItemTimeoutError": "suitkaise_processing._private.pool._errors",
    "InvalidSizeError": "suitkaise_processing._private.pool._errors",
    # state in a Redis server, for processes on any machine
    "RedisCounter": "suitkaise_processing._private.redis_state.counter",
    "CounterBackendError": "suitkaise_processing._private.redis_state.errors",
    # a rate limit across a Pool's workers, or on Redis across machines
    "RateLimit": "suitkaise_processing._private.pool._rate_limit",
    "RateLimitBackendError": "suitkaise_processing._private.redis_state.errors",
    # locks and semaphores across processes (suitkaise_processing.concurrency)
    "BaseLock": "suitkaise_processing.concurrency",
    "LocalLock": "suitkaise_processing.concurrency",
    "RedisLock": "suitkaise_processing.concurrency",
    "ReadWriteLock": "suitkaise_processing.concurrency",
    "BaseSemaphore": "suitkaise_processing.concurrency",
    "LocalSemaphore": "suitkaise_processing.concurrency",
    "RedisSemaphore": "suitkaise_processing.concurrency",
    "LockManager": "suitkaise_processing.concurrency",
    "HeldLocks": "suitkaise_processing.concurrency",
    "LockStats": "suitkaise_processing.concurrency",
    "LockError": "suitkaise_processing.concurrency",
    "LockTimeoutError": "suitkaise_processing.concurrency",
    "LockNotHeldError": "suitkaise_processing.concurrency",
    "LockBackendError": "suitkaise_processing.concurrency",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "__version__",
    # Skprocess, Pipe
    "Skprocess",
    "ProcessConfig",
    "Timeouts",
    "ProcessTimers",
    "Pipe",
    "Share",
    "autoreconnect",
    # start method of every process the package starts
    "set_start_method",
    "get_start_method",
    # errors
    "ProcessError",
    "PreRunError",
    "RunError",
    "PostRunError",
    "OnFinishError",
    "ResultError",
    "ErrorHandlerError",
    "ProcessTimeoutError",
    "ResultTimeoutError",
    "PipeEndpointError",
    "ShareError",
    "PoolError",
    "WorkerDiedError",
    "MessageError",
    # Pool
    "Pool",
    "PoolTimeoutError",
    "PoolArgumentError",
    "ItemTimeoutError",
    "InvalidSizeError",
    # a counter in a Redis server
    "RedisCounter",
    "CounterBackendError",
    # a rate limit across a Pool's workers, or on Redis across machines
    "RateLimit",
    "RateLimitBackendError",
    # locks and semaphores (suitkaise_processing.concurrency)
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
