"""Worker recycling: ``Pool(max_tasks_per_child=N, max_memory_per_child=size)``.

A worker *retires* between items: after the item that used up its task budget, or after an item
when its resident memory (RSS) is over the limit. It finishes that item, sends every result it holds
with the chunk still open (``done`` false, see :mod:`._protocol`), leaves its batch word at
``IDLE`` and exits with status 0. The parent files that exit like any other: the results it
received are kept, and the chunk's items from the first one without a result (and the chunks
waiting in the worker's socket) go to other workers; no item ran, so none fails and none runs twice.
A replacement worker starts at once.

The worker side (:class:`Retirement`) runs in the worker: the task count costs nothing per item (a
sub-batch never runs past the budget), the memory check is one read of ``/proc/self/statm`` (Linux,
about 2 us) after each sub-batch of items, that is after each item that takes more than about
``BATCH_TARGET`` and at least every ~2 ms of trivial items. Elsewhere (macOS) the figure is the
peak RSS of the worker (``getrusage``), which never goes down: a worker that once went over the
limit is replaced after the item.
"""

from __future__ import annotations

import os
import re
import sys
from typing import NamedTuple

from suitkaise_processing._private.pool._errors import InvalidSizeError

_UNITS = {
    "": 1,
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}
#: compiled by the first string size (re caches it): the fork server and workers import this module
_SIZE = r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)\s*"


class Recycling(NamedTuple):
    """When a worker is replaced: after ``max_tasks`` items, or when its RSS is over
    ``max_memory`` bytes after an item (``None``: no such limit)."""

    max_tasks: int | None
    max_memory: int | None


def parse_size(value: object, name: str = "max_memory_per_child") -> int:
    """Bytes of ``value``: an int of bytes, or a string such as ``"500MB"``, ``"1.5 GiB"``, ``"4096"``
    (units B, KB, MB, GB, TB in powers of 1000, KiB, MiB, GiB, TiB in powers of 1024, any case).
    ``InvalidSizeError`` (a ``ValueError``) for anything else, or a size below one byte."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InvalidSizeError(
            f"Pool({name}={value!r}): give a number of bytes (an int) or a string such as "
            "'500MB' or '2GiB'"
        )
    if isinstance(value, int):
        size = value
    else:
        match = re.fullmatch(_SIZE, value, re.IGNORECASE)
        unit = _UNITS.get(match.group(2).lower()) if match is not None else None
        if match is None or unit is None:
            raise InvalidSizeError(
                f"Pool({name}={value!r}): cannot read this size; write a number and a unit, such "
                "as '500MB', '1.5GB' or '512MiB' (units: B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)"
            )
        size = int(float(match.group(1)) * unit)
    if size < 1:
        raise InvalidSizeError(
            f"Pool({name}={value!r}): the limit must be at least one byte (None: no limit)"
        )
    return size


def parse_max_tasks(value: object) -> int | None:
    """``Pool(max_tasks_per_child=...)``: ``None`` or an int >= 1."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(
            f"Pool(max_tasks_per_child=...) must be an int or None, not {type(value).__name__}"
        )
    if value < 1:
        raise ValueError(
            f"Pool(max_tasks_per_child={value}): a worker must run at least 1 item before it is "
            "replaced (None: never replace it)"
        )
    return value


def recycling(max_tasks: object, max_memory: object) -> Recycling | None:
    """The checked limits of a Pool; ``None`` when neither is set (workers are never replaced)."""
    tasks = parse_max_tasks(max_tasks)
    memory = None if max_memory is None else parse_size(max_memory)
    if tasks is None and memory is None:
        return None
    return Recycling(tasks, memory)


class _Rss:
    """The worker's resident memory in bytes."""

    def __init__(self) -> None:
        self._fd = -1
        self._page = 1
        if sys.platform.startswith("linux"):
            self._fd = os.open("/proc/self/statm", os.O_RDONLY | os.O_CLOEXEC)
            self._page = os.sysconf("SC_PAGE_SIZE")

    def __call__(self) -> int:
        if self._fd >= 0:
            # "size resident shared ...", in pages; pread at 0 reads the current figures again
            return int(os.pread(self._fd, 128, 0).split()[1]) * self._page
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # bytes on macOS


class Retirement:
    """The worker's side: how many items it may still start, and whether it must retire now."""

    __slots__ = ("_left", "_max_memory", "_rss")

    def __init__(self, limits: Recycling) -> None:
        self._left = limits.max_tasks if limits.max_tasks is not None else sys.maxsize
        self._max_memory = limits.max_memory or 0
        self._rss = _Rss() if limits.max_memory is not None else None

    @property
    def left(self) -> int:
        """Items this worker may still start (a sub-batch never runs past it)."""
        return self._left

    def ran(self, count: int) -> bool:
        """``count`` more items ran (finished or failed); ``True``: retire before the next one."""
        self._left -= count
        if self._left <= 0:
            return True
        return self._rss is not None and self._rss() > self._max_memory
