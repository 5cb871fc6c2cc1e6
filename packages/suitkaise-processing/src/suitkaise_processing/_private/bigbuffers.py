"""Big buffers through shared memory: pickle protocol 5 out-of-band buffers in reusable memory files.

A message whose pickle stream has *out-of-band buffers* of :data:`THRESHOLD` bytes or more (numpy
arrays, pandas columns, anything whose ``__reduce_ex__(5)`` returns a ``pickle.PickleBuffer``)
carries those buffers in a shared memory file instead of inside its frame. Used by the ``Pool`` (items
and results), ``Channel`` (``Pipe`` messages, ``Skprocess`` results; its large raw messages too) and
the replies of a ``Share`` coordinator. Linux only (``memfd`` and open file description locks);
elsewhere, and with ``SK_SHM_BUFFERS=0``, the buffers stay in the stream. Only the sender decides:
receiving always accepts both forms.

Message body (one frame of :mod:`.wire`), integers little-endian::

    offset  size  field
    0       4     MARK, b"\\x00SKB" (a pickle stream starts with 0x80, cucumber bytes with b"CUKE")
    4       4     N: number of buffers
    8       8*N   N x length of each buffer in bytes
    8+8N    ...   the pickle stream (protocol 5) whose out-of-band buffers are these N, in order

The frame is followed on the same Unix socket by one descriptor (:mod:`.fdpass`): the memory file.

Memory file (an anonymous ``memfd``: it has no name, so nothing is ever left in ``/dev/shm``)::

    buffer k at offset  sum over j < k of round_up(length_j, ALIGN)   (ALIGN: 4096, one page)

Lifetime
    The *sender* keeps a cache of memory files (:class:`_Cache`, per process; dropped in a forked
    child). For each message it opens a fresh *open file description* of a free file
    (``/proc/self/fd/N``, read-only), takes an OFD read lock on it, copies the buffers in (one copy),
    sends that description and closes its own descriptor. From then on the lock lives exactly as long
    as that description, which the kernel keeps alive while anything refers to it: the socket
    (message in flight), the receiver's descriptor, then the receiver's mapping. So a file is free
    again (its pages reused, no page faults and no zeroing) when the receiver has dropped every view
    of it, or died (``SIGKILL`` included), or the message was never received (socket closed). The
    sender probes that with ``F_OFD_GETLK``. No finalizer, timer or message takes part.

    The *receiver* maps the description privately (``MAP_PRIVATE``, copy-on-write) and closes its
    descriptor: unpickled arrays view the mapping (zero copy); a write copies only the pages written,
    never changes the sender's file. The mapping (a ``mmap`` object at the end of the arrays'
    ``.base`` chain) is unmapped when its last view is gone, which releases the lock.

    Idle files above :data:`CACHE_IDLE_BYTES` (besides the most recently used one) are closed, least
    recently used first; a file closed by the sender stays valid for a receiver still holding it (the
    kernel frees its memory with the last reference).
"""

from __future__ import annotations

import mmap
import os
import pickle
import struct
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

from suitkaise_processing._private.errors import MessageError

__all__ = [
    "ALIGN",
    "MARK",
    "THRESHOLD",
    "Collector",
    "enabled",
    "is_marked",
    "load",
    "nbytes",
    "pack",
    "write_segment",
]

MARK = b"\x00SKB"
_COUNT = struct.Struct("<I")
_LENGTH = struct.Struct("<Q")
#: buffers start at multiples of this in the memory file
ALIGN = 4096


def _threshold() -> int:
    value = os.environ.get("SK_SHM_THRESHOLD", "262144")
    try:
        return max(1, int(value))
    except ValueError:
        raise ValueError(
            f"SK_SHM_THRESHOLD must be a number of bytes (default 262144), not {value!r}"
        ) from None


#: out-of-band buffers of at least this many bytes travel in shared memory (measured: see
#: docs/suitkaise-processing/large-data.md)
THRESHOLD = _threshold()
#: idle memory files kept for reuse, in bytes of file size, per process (besides the most recently
#: used idle file, kept whatever its size)
CACHE_IDLE_BYTES = 256 << 20
#: memory files kept at most, busy or idle, per process
_CACHE_FILES = 64
_MIN_FILE = 1 << 20
_FLOCK = struct.Struct("@hhqqi4x")  # struct flock: l_type, l_whence, l_start, l_len, l_pid
if sys.platform == "linux":  # memfd and open file description locks: Linux only
    import fcntl

    _PROBE = _FLOCK.pack(fcntl.F_WRLCK, os.SEEK_SET, 0, 1, 0)
    _HOLD = _FLOCK.pack(fcntl.F_RDLCK, os.SEEK_SET, 0, 1, 0)


def _supported() -> bool:
    if sys.platform != "linux" or not os.path.isdir("/proc/self/fd"):
        return False
    return os.environ.get("SK_SHM_BUFFERS", "1").strip().lower() not in ("0", "off", "false", "no")


_ENABLED = _supported()


def enabled() -> bool:
    """Whether this process sends big buffers through shared memory (receiving always works)."""
    return _ENABLED


def _round(size: int) -> int:
    return -(-size // ALIGN) * ALIGN


# --- sending -------------------------------------------------------------------------------------
class Collector:
    """``buffer_callback`` for a protocol 5 pickler: keeps the buffers of :data:`THRESHOLD` bytes or
    more out of band (their raw memory, not a copy), leaves smaller ones in the stream."""

    __slots__ = ("buffers", "nbytes")

    def __init__(self) -> None:
        self.buffers: list[memoryview] = []
        self.nbytes = 0

    def __call__(self, buffer: pickle.PickleBuffer) -> bool:
        raw = buffer.raw()
        size = raw.nbytes
        if size < THRESHOLD:
            raw.release()
            return True  # in band
        self.buffers.append(raw)
        self.nbytes += size
        return False

    def clear(self) -> None:
        """Forget the buffers (an encoder fell back to a stream without them)."""
        self.buffers = []
        self.nbytes = 0


def pack(stream: bytes | memoryview, buffers: Sequence[memoryview]) -> bytes:
    """The message body for ``stream`` whose out-of-band buffers are ``buffers`` (see the layout)."""
    return b"".join(
        [MARK, _COUNT.pack(len(buffers)), *[_LENGTH.pack(b.nbytes) for b in buffers], stream]
    )


def is_marked(body: bytes | bytearray | memoryview) -> bool:
    """Whether ``body`` is a message with buffers in a memory file (its descriptor follows)."""
    return len(body) >= 8 and body[:4] == MARK


def nbytes(body: bytes | bytearray | memoryview) -> int:
    """Bytes of buffers a marked ``body`` announces (0 for any other body)."""
    if not is_marked(body):
        return 0
    (count,) = _COUNT.unpack(body[4:8])
    return sum(_LENGTH.unpack(body[8 + 8 * k : 16 + 8 * k])[0] for k in range(count))


class _File:
    __slots__ = ("fd", "map", "size", "touched")

    def __init__(self, size: int) -> None:
        self.size = size
        #: bytes from the start whose pages exist (written once): below it, copy through the mapping
        self.touched = 0
        self.fd = os.memfd_create("sk_buffers", os.MFD_CLOEXEC)
        try:
            os.ftruncate(self.fd, size)
            self.map = mmap.mmap(self.fd, size)
        except BaseException:
            os.close(self.fd)
            raise

    def free(self) -> bool:
        """No description handed out for this file is alive any more."""
        kind: int = _FLOCK.unpack(fcntl.fcntl(self.fd, fcntl.F_OFD_GETLK, _PROBE))[0]
        return kind == fcntl.F_UNLCK

    def close(self) -> None:
        self.map.close()
        os.close(self.fd)


class _Cache:
    """This process's memory files, least recently used first."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.files: list[_File] = []

    def take(self, size: int) -> tuple[_File, int]:
        """A free file of at least ``size`` bytes and a fresh locked read-only description of it."""
        with self.lock:
            best: _File | None = None
            for file in self.files:
                fits = size <= file.size <= 4 * size + _MIN_FILE
                if fits and (best is None or file.size < best.size) and file.free():
                    best = file
            if best is None:
                best = _File(max(_MIN_FILE, 1 << (size - 1).bit_length()))
            else:
                self.files.remove(best)
            self.files.append(best)
            fd = os.open(f"/proc/self/fd/{best.fd}", os.O_RDONLY | os.O_CLOEXEC)
            try:
                fcntl.fcntl(fd, fcntl.F_OFD_SETLK, _HOLD)
            except BaseException:
                os.close(fd)
                raise
            self._trim(best)
            return best, fd

    def _trim(self, keep: _File) -> None:
        idle = 0
        spare = True  # the most recently used idle file stays (a stream of big messages reuses it)
        for file in list(reversed(self.files)):
            if file is keep:
                continue
            if len(self.files) > _CACHE_FILES:
                self.files.remove(file)
                file.close()
            elif file.free():
                if spare:
                    spare = False
                    continue
                idle += file.size
                if idle > CACHE_IDLE_BYTES:
                    self.files.remove(file)
                    file.close()
                    idle -= file.size

    def clear(self) -> None:
        with self.lock:
            files, self.files = self.files, []
        for file in files:
            file.close()

    def drop_after_fork(self) -> None:
        """In a forked child: the parent's files are not ours to reuse."""
        self.lock = threading.Lock()
        files, self.files = self.files, []
        for file in files:
            file.close()


_cache = _Cache()
if sys.platform == "linux":
    os.register_at_fork(after_in_child=_cache.drop_after_fork)


def write_segment(buffers: Sequence[memoryview]) -> int:
    """Copy ``buffers`` into a memory file; the descriptor to send (then close) with the message."""
    total = sum(_round(b.nbytes) for b in buffers)
    file, fd = _cache.take(total)
    try:
        offset = 0
        target = file.map
        for buf in buffers:
            size = buf.nbytes
            if offset + size <= file.touched:
                target[offset : offset + size] = buf  # pages exist: a plain memcpy
            else:
                # new pages: write() fills them without the page faults and zeroing of a mapping
                done = 0
                while done < size:
                    done += os.pwrite(file.fd, buf[done:], offset + done)
            offset += _round(size)
        file.touched = max(file.touched, offset)
    except BaseException:
        os.close(fd)
        raise
    return fd


# --- receiving -----------------------------------------------------------------------------------
def load(
    body: bytes | bytearray | memoryview,
    fd: int,
    loads: Callable[..., Any],
) -> Any:
    """Decode a marked ``body`` whose memory file is ``fd`` (closed here) with
    ``loads(stream, buffers=...)``; the buffers view a private copy-on-write mapping of the file."""
    try:
        view = memoryview(body)
        if len(view) < 8:
            raise MessageError("a shared-memory message is too short to hold its buffer table")
        (count,) = _COUNT.unpack(view[4:8])
        start = 8 + 8 * count
        if start > len(view):
            raise MessageError(
                f"a shared-memory message announced {count} buffers but holds only {len(view)} bytes"
            )
        lengths = [_LENGTH.unpack(view[8 + 8 * k : 16 + 8 * k])[0] for k in range(count)]
        total = sum(_round(n) for n in lengths)
        real = os.fstat(fd).st_size
        if total > real or total == 0:
            raise MessageError(
                f"a shared-memory message announced {total} bytes of buffers; its memory file "
                f"holds {real}: the connection is out of step and cannot be used any more"
            )
        mapped = mmap.mmap(fd, total, access=mmap.ACCESS_COPY)
    finally:
        os.close(fd)
    whole = memoryview(mapped)
    buffers: list[memoryview] = []
    offset = 0
    for size in lengths:
        buffers.append(whole[offset : offset + size])
        offset += _round(size)
    whole.release()
    return loads(view[start:], buffers=buffers)
