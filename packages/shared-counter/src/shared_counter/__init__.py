"""A picklable, named, shared-memory counter whose operations are truly atomic across processes.

>>> from shared_counter import SharedMemoryCounter
>>> with SharedMemoryCounter("doc_tasks", create=True, run_id="doctest") as c:
...     c.value += 1
...     c.increment(2)
...     c.unlink()
3
"""

from shared_counter.__about__ import __version__
from shared_counter._private.counter import SharedMemoryCounter
from shared_counter._private.errors import (
    CounterClosedError,
    CounterError,
    CounterExistsError,
    CounterLockError,
    CounterNotFoundError,
)
from shared_counter._private.lock import CounterLock
from shared_counter._private.waiting import wait_until

__all__ = [
    "SharedMemoryCounter",
    "CounterLock",
    "wait_until",
    "CounterError",
    "CounterNotFoundError",
    "CounterExistsError",
    "CounterClosedError",
    "CounterLockError",
    "__version__",
]
