"""Typed access to the stdlib's POSIX shared memory, named semaphores and resource tracker.

``_posixshmem`` and ``_multiprocessing`` are the C modules behind ``multiprocessing.shared_memory``
and ``multiprocessing.synchronize``; using them directly lets a counter create its objects 0600,
reopen them by name, and decide itself which process is tracked (only the creator).
"""

from __future__ import annotations

import importlib
import mmap
import os
from multiprocessing import resource_tracker
from typing import Any, Protocol, cast

_shm: Any = importlib.import_module("_posixshmem")
_mp: Any = importlib.import_module("_multiprocessing")

#: ``SemLock`` kinds (``multiprocessing.synchronize.RECURSIVE_MUTEX`` / ``SEMAPHORE``).
RECURSIVE_MUTEX = 0
SEMAPHORE = 1


class SemLock(Protocol):
    """The part of ``_multiprocessing.SemLock`` a counter uses."""

    def acquire(self, block: bool = True, timeout: float | None = None) -> bool: ...
    def release(self) -> None: ...
    def _count(self) -> int: ...
    def _is_mine(self) -> bool: ...
    def _after_fork(self) -> None: ...


def create_semaphore(name: str, kind: int) -> SemLock:
    """Create the named semaphore ``name`` (value 1, owner-only 0600); ``FileExistsError`` if it exists."""
    return cast(SemLock, _mp.SemLock(kind, 1, 1, name, False))


def open_semaphore(name: str, kind: int) -> SemLock:
    """Open the existing named semaphore ``name``; ``FileNotFoundError`` if it does not exist."""
    return cast(SemLock, _mp.SemLock._rebuild(0, kind, 1, name))


def unlink_semaphore(name: str) -> bool:
    """Remove the named semaphore; return False when it did not exist."""
    try:
        _mp.sem_unlink(name)
    except FileNotFoundError:
        return False
    return True


def create_segment(name: str, size: int) -> mmap.mmap:
    """Create the shared-memory segment ``name`` (0600, ``size`` bytes) and map it.

    Raises ``FileExistsError`` when the name is taken.
    """
    fd: int = _shm.shm_open(name, os.O_CREAT | os.O_EXCL | os.O_RDWR, mode=0o600)
    try:
        try:
            os.fchmod(fd, 0o600)  # whatever the umask
            os.ftruncate(fd, size)
            return mmap.mmap(fd, size)
        except BaseException:
            unlink_segment(name)
            raise
    finally:
        os.close(fd)


def open_segment_fd(name: str) -> int:
    """Open the existing segment ``name`` read-write; ``FileNotFoundError`` if it does not exist."""
    fd: int = _shm.shm_open(name, os.O_RDWR, mode=0o600)
    return fd


def unlink_segment(name: str) -> bool:
    """Remove the shared-memory segment; return False when it did not exist."""
    try:
        _shm.shm_unlink(name)
    except FileNotFoundError:
        return False
    return True


def track(name: str, rtype: str) -> None:
    """Register ``name`` with this process's resource tracker (it is removed if we die without unlinking)."""
    resource_tracker.register(name, rtype)


def untrack(name: str, rtype: str) -> None:
    """Undo :func:`track` (after a deliberate unlink)."""
    resource_tracker.unregister(name, rtype)
