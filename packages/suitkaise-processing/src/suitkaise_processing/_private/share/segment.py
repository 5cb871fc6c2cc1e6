"""POSIX shared-memory segments owned by one process, attached by others without resource tracking.

``multiprocessing.shared_memory`` (before 3.13) registers every *attached* segment with the resource
tracker, which then unlinks or warns about segments it does not own (USER-PAIN #5). Here only the
creator registers a segment (so it is reclaimed if every process of the family dies), attaching never
registers, and segments are created owner-only (0600).
"""

from __future__ import annotations

import _posixshmem
import mmap
import os
import sys
from collections.abc import Sequence
from multiprocessing import resource_tracker

_RTYPE = "shared_memory"
_DEV_SHM = "/dev/shm"


def _posix_name(name: str) -> str:
    return name if name.startswith("/") else "/" + name


class Segment:
    """A mapped shared-memory segment: ``buf`` is a writable memoryview over the whole segment."""

    __slots__ = ("_mmap", "buf", "name", "owner", "size")

    def __init__(self, name: str, mm: mmap.mmap, *, owner: bool) -> None:
        self.name = name
        self._mmap = mm
        self.buf: memoryview = memoryview(mm)
        self.size = len(mm)
        self.owner = owner

    @classmethod
    def create(cls, name: str, size: int, *, track: bool = True) -> Segment:
        """Create a new segment of ``size`` bytes (``FileExistsError`` if the name is taken)."""
        if not name.startswith("sk_"):
            raise ValueError(f"segment name {name!r} must start with 'sk_'")
        fd = _posixshmem.shm_open(_posix_name(name), os.O_CREAT | os.O_EXCL | os.O_RDWR, mode=0o600)
        try:
            try:
                os.fchmod(fd, 0o600)  # the umask may have narrowed it further; never widen it
            except OSError:
                pass
            os.ftruncate(fd, size)
            mm = mmap.mmap(fd, size)
        except BaseException:
            os.close(fd)
            _posixshmem.shm_unlink(_posix_name(name))
            raise
        os.close(fd)
        if track:
            resource_tracker.register(_posix_name(name), _RTYPE)
        return cls(name, mm, owner=track)

    @classmethod
    def attach(cls, name: str) -> Segment:
        """Map an existing segment (``FileNotFoundError`` if it is gone); never tracked."""
        fd = _posixshmem.shm_open(_posix_name(name), os.O_RDWR, mode=0o600)
        try:
            size = os.fstat(fd).st_size
            mm = mmap.mmap(fd, size)
        finally:
            os.close(fd)
        return cls(name, mm, owner=False)

    def close(self) -> None:
        """Unmap (idempotent). Views still exported by callers keep the mapping alive until released."""
        try:
            self.buf.release()
        except ValueError:
            pass
        try:
            self._mmap.close()
        except (BufferError, ValueError):
            # Someone still holds a view (a cast of buf): the mapping is freed when it is released.
            pass


def write_buffers(name: str, buffers: Sequence[memoryview], align: int) -> mmap.mmap:
    """Create segment ``name`` holding ``buffers``, each at a multiple of ``align`` (one copy, by
    ``pwrite``: no page faults or zeroing of a mapping); tracked like :meth:`Segment.create`.
    Returns a read-only shared mapping of it (never read: it only shows the segment is in use)."""
    if not name.startswith("sk_"):
        raise ValueError(f"segment name {name!r} must start with 'sk_'")
    fd = _posixshmem.shm_open(_posix_name(name), os.O_CREAT | os.O_EXCL | os.O_RDWR, mode=0o600)
    try:
        offset = 0
        for buf in buffers:
            done = 0
            size = buf.nbytes
            while done < size:
                done += os.pwrite(fd, buf[done:], offset + done)
            offset += -(-size // align) * align
        os.ftruncate(fd, max(offset, align))
        held = mmap.mmap(fd, max(offset, align), prot=mmap.PROT_READ)
    except BaseException:
        os.close(fd)
        _posixshmem.shm_unlink(_posix_name(name))
        raise
    os.close(fd)
    resource_tracker.register(_posix_name(name), _RTYPE)
    return held


def map_shared_readonly(name: str) -> mmap.mmap:
    """A read-only shared mapping of segment ``name`` (``FileNotFoundError`` if it is gone)."""
    return _map_whole(name, prot=mmap.PROT_READ)


def map_private(name: str) -> mmap.mmap:
    """A private copy-on-write mapping of segment ``name`` (``FileNotFoundError`` if it is gone)."""
    return _map_whole(name, access=mmap.ACCESS_COPY)


def _map_whole(name: str, **how: int) -> mmap.mmap:
    """All of segment ``name``, opened read-only and mapped as ``how`` says."""
    fd = _posixshmem.shm_open(_posix_name(name), os.O_RDONLY, mode=0o600)
    try:
        return mmap.mmap(fd, os.fstat(fd).st_size, **how)
    finally:
        os.close(fd)


def unlink(name: str, *, tracked: bool = True) -> bool:
    """Remove a segment name (``True`` if it existed); unregister it from the resource tracker."""
    try:
        _posixshmem.shm_unlink(_posix_name(name))
    except FileNotFoundError:
        return False
    if tracked:
        try:
            resource_tracker.unregister(_posix_name(name), _RTYPE)
        except Exception:  # pragma: no cover - tracker gone at interpreter exit
            pass
    return True


def list_names(prefix: str) -> list[str]:
    """Names of existing segments starting with ``prefix`` (Linux only; empty elsewhere)."""
    if not sys.platform.startswith("linux") or not os.path.isdir(_DEV_SHM):
        return []
    try:
        return [n for n in os.listdir(_DEV_SHM) if n.startswith(prefix)]
    except OSError:
        return []
