"""Loading pickle streams with bounded memory and time, whatever the bytes say.

CPython's C unpickler (3.10 to 3.13) has one opcode whose cost is not bounded by the input: a memo store
(``LONG_BINPUT`` ``r`` + 4-byte index, ``PUT`` ``p`` + decimal line) resizes the memo table to twice the
index and zero-fills it, so ``r`` + ``0x3fffffff`` costs 16 GB and 24 s. cucumber's pickler never writes
these opcodes (it memoizes with ``MEMOIZE``), so a payload that holds one is damaged or crafted.

A *hazard candidate* is a byte that would be such a store with an index of at least :data:`MEMO_LIMIT`
(64 MB of memo table) if the unpickler read it as an opcode: ``r`` followed by 4 bytes >= the limit, or
``p`` followed by a line that parses as an integer with 7 or more digits (and see the lengths below).
Finding candidates takes ``bytes.find`` and a check of the bytes after each hit; knowing whether a
candidate *is* an opcode takes a parse.

- :func:`guarded_file`, for cucumber installs built without the C opcode scanner (``_opscan.c``, which
  finds the same opcodes by a parse at C speed and is what :func:`cucumber.deserialize` uses where it
  exists): the C unpickler reads the stream through :class:`_GuardedFile`, which hands it out
  in segments that end right after each candidate (or after a ``FRAME`` byte, see below). When the
  unpickler comes back for more exactly there, its next request says what the candidate was: a 4-byte
  read after ``r`` (or a line after ``p``) means the unpickler executed the store, and
  :class:`DeserializationError` is raised before the index is handed over; anything else means the byte
  was data. Everything between candidates is parsed at C speed; large arguments are read straight from
  the stream (never scanned). ``FRAME`` makes the unpickler take a whole frame at once (out of reach of the
  segments), so a guarded stream may not hold frames: cucumber format 2 writes none, and an executed
  ``FRAME`` is refused. Each candidate costs a few Python calls, and small integers and text are full of
  look-alike bytes (a dict of 10k ints: 3x slower to load, 3,000 short strings: 100x).
- :func:`load_python` (format 1 payloads, which carry frames and no checksum): the pure-Python unpickler,
  whose memo is a dict and whose reads are bounded by the input; its allocations ahead of a read
  (``BYTEARRAY8``, ``FRAME``) are checked against the stream size, and memo stores are refused. About ten
  times slower than the C unpickler.

The C unpickler also allocates the argument of ``BINBYTES``, ``BINBYTES8`` and ``BYTEARRAY8`` before
reading it (address space only, but a ``MemoryError`` where it is capped): such an opcode whose length is
more than the bytes after it is a candidate too, refused when it runs.

:func:`opcode_error` words the refusal for both (the scanner gives an offset, the guarded reader a
request).

What the bytes *call* is outside this module: like pickle, a payload names functions that run while it
loads, so data must come from trusted peers (the checksum in the header catches accidental damage).
"""

from __future__ import annotations

import io
import pickle
import re
import struct
from collections.abc import Callable
from typing import Any, ClassVar

from cucumber._private.errors import DeserializationError

__all__ = ["MEMO_LIMIT", "guarded_file", "load_python", "opcode_error"]

#: The smallest memo index treated as a hazard: 2**22 slots are 64 MB of memo table.
MEMO_LIMIT = 1 << 22

# r + 4-byte little-endian index >= 2**22 (byte 3 >= 0x40, or byte 4 non-zero).
_LONG_BINPUT = rb"r[\x00-\xff]{2}(?:[\x40-\xff][\x00-\xff]|[\x00-\x3f][\x01-\xff])"
# p + a line that int() (PyLong_FromString, base 10) reads as 7+ digits; the C string ends at NUL.
_PUT = rb"p[ \t\v\f\r]*[+-]?[0-9](?:_?[0-9]){6,}[ \t\v\f\r]*[\n\x00]"
_LONG_BINPUT_MATCH = re.compile(_LONG_BINPUT).match
_PUT_MATCH = re.compile(_PUT).match

_LONG_BINPUT_OP = 0x72
_PUT_OP = 0x70
_FRAME_OP = 0x95
# Opcodes that allocate their argument before reading it, by the width of their length field.
_LENGTH_WIDTH = {pickle.BINBYTES[0]: 4, pickle.BINBYTES8[0]: 8, pickle.BYTEARRAY8[0]: 8}
# What the unpickler asks the file for right after each hazard opcode ran (-1: a line).
_ARGUMENT_REQUEST = {_LONG_BINPUT_OP: 4, _PUT_OP: -1, _FRAME_OP: 8, **_LENGTH_WIDTH}
_MEMO_STORES = {_PUT_OP: "PUT", pickle.BINPUT[0]: "BINPUT", _LONG_BINPUT_OP: "LONG_BINPUT"}
_NOT_OURS = "the data is damaged or was not made by cucumber.serialize"
#: How far one segment reaches when no candidate comes first.
_WINDOW = 1 << 16


def _too_long(width: int) -> Callable[[bytes | bytearray, int], bool]:
    # An allocating opcode at i whose ``width``-byte length is more than the bytes after it.
    def check(data: bytes | bytearray, i: int) -> bool:
        body = i + 1 + width
        return int.from_bytes(data[i + 1 : body], "little") > len(data) - body

    return check


# (byte, test) for every opcode that could blow up: the test says whether its argument would.
_CHECKS: tuple[tuple[bytes, Callable[[bytes | bytearray, int], Any]], ...] = (
    (b"r", _LONG_BINPUT_MATCH),
    (b"p", _PUT_MATCH),
    (pickle.BINBYTES, _too_long(4)),
    (pickle.BINBYTES8, _too_long(8)),
    (pickle.BYTEARRAY8, _too_long(8)),
)


def _next_candidate(data: bytes | bytearray, pos: int, end: int) -> int:
    """The offset of the first hazard candidate in ``data[pos:end]``, or ``end``.

    ``bytes.find`` (memchr) finds each opcode byte; its test checks the bytes after it.
    """
    for byte, test in _CHECKS:
        i = data.find(byte, pos, end)
        while i >= 0:
            if test(data, i):
                end = i
                break
            i = data.find(byte, i + 1, end)
    return end


def opcode_error(data: bytes | bytearray | memoryview, at: int) -> DeserializationError:
    """The error for the refused opcode at ``data[at]``: a memo store (cucumber memoizes with
    ``MEMOIZE``), a ``FRAME`` (format 2 has none) or an allocating opcode longer than what follows."""
    op = data[at]
    name = _MEMO_STORES.get(op)
    if name is not None:
        detail = ""
        if op == _LONG_BINPUT_OP and len(data) - at > 4:
            (index,) = struct.unpack_from("<I", data, at + 1)
            detail = (
                f": memo index {index} would make the unpickler allocate {16 * index // 2**20} MB"
            )
        return DeserializationError(
            f"corrupt input: a {name} opcode at byte {at} (a memo store, which cucumber never "
            f"writes{detail}); {_NOT_OURS}"
        )
    if op == _FRAME_OP:
        return DeserializationError(
            f"corrupt input: a FRAME opcode at byte {at} (cucumber format 2 writes none); {_NOT_OURS}"
        )
    width = _LENGTH_WIDTH[op]
    size = int.from_bytes(data[at + 1 : at + 1 + width], "little")
    return DeserializationError(
        f"input is truncated or corrupt: an opcode at byte {at} announces {size} bytes, "
        f"{len(data) - at - 1 - width} are left"
    )


class _GuardedFile:
    """The file the C unpickler reads a guarded stream from (``peek``/``read``/``readinto``/``readline``).

    ``peek`` returns the next segment; the unpickler consumes it and reports what it used with
    ``read(consumed)`` before the next ``peek``. At the end of a segment that ends in a candidate, ``peek``
    returns nothing, so the unpickler states its next request (``read(n)``, ``readline()`` or ``readinto``)
    and the request tells whether the candidate byte ran as an opcode.
    """

    __slots__ = ("_data", "_pos", "_size", "_stop", "_view")

    def __init__(self, data: bytes | bytearray, start: int) -> None:
        self._data = data
        self._view = memoryview(data)
        self._size = len(data)
        self._pos = start
        self._stop = -1  # the offset just after a candidate byte, where the next request is judged

    def peek(self, _n: int = 0) -> memoryview:
        pos = self._pos
        if pos == self._stop:
            return self._view[pos:pos]
        end = min(pos + _WINDOW, self._size)
        frame = self._data.find(b"\x95", pos, end)
        if frame >= 0:
            end = frame + 1
        candidate = _next_candidate(self._data, pos, end)
        if candidate < end:
            end = self._stop = candidate + 1
        elif frame >= 0:
            self._stop = end
        return self._view[pos:end]

    def _judge(self, request: int) -> None:
        # The unpickler consumed the stream up to and including the candidate byte and now asks for
        # ``request`` bytes (-1: a line). A candidate byte that ended an argument is followed by an
        # opcode (a 1-byte request); one that ran as an opcode asks for its own argument.
        self._stop = -1
        at = self._pos - 1
        if _ARGUMENT_REQUEST.get(self._data[at]) == request:
            raise opcode_error(self._data, at)

    def read(self, n: int = -1) -> memoryview:
        pos = self._pos
        if pos == self._stop:
            self._judge(n)
            if n == 1 and _next_candidate(self._data, pos, pos + 1) == pos:
                # The candidate was data and the unpickler now fetches its next opcode here, outside
                # any peeked segment (whose scan stopped at that candidate): when this byte is a
                # candidate too, its own request is judged next.
                self._pos = pos + 1
                self._stop = pos + 1
                return self._view[pos : pos + 1]
        end = self._size if n < 0 else min(pos + n, self._size)
        self._pos = end
        return self._view[pos:end]

    def readinto(self, buffer: Any) -> int:
        target = memoryview(buffer).cast("B")
        pos = self._pos
        if pos == self._stop:
            # readinto only continues the body of a bytes/bytearray whose start was in the segment:
            # the candidate byte was data (an opcode's own arguments are read with read/readline).
            self._stop = -1
        count = min(len(target), self._size - pos)
        target[:count] = self._view[pos : pos + count]
        self._pos = pos + count
        return count

    def readline(self, _size: int = -1) -> memoryview:
        pos = self._pos
        if pos == self._stop:
            self._judge(-1)
        newline = self._data.find(b"\n", pos)
        end = self._size if newline < 0 else newline + 1
        self._pos = end
        return self._view[pos:end]


def guarded_file(data: bytes | bytearray, start: int) -> Any:
    """A file for :class:`pickle.Unpickler` (or a subclass) that loads ``data[start:]`` guarded."""
    return _GuardedFile(data, start)


class _BoundedPythonUnpickler(pickle._Unpickler):
    """The pure-Python unpickler with ``BYTEARRAY8`` and ``FRAME`` lengths checked against the stream size."""

    dispatch: ClassVar[dict[int, Any]] = dict(pickle._Unpickler.dispatch)
    last_global: str = ""

    def __init__(self, stream: memoryview) -> None:
        super().__init__(io.BytesIO(stream))
        self._length = len(stream)

    def find_class(self, module: str, name: str) -> Any:
        self.last_global = f"{module}.{name}"
        return super().find_class(module, name)

    def _load_bytearray8(self) -> None:
        (size,) = struct.unpack("<Q", self.read(8))  # type: ignore[attr-defined]
        if size > self._length:
            raise DeserializationError(
                f"input is truncated or corrupt: a BYTEARRAY8 opcode announces {size} bytes in a "
                f"{self._length}-byte stream"
            )
        data = bytearray(size)
        self.readinto(data)  # type: ignore[attr-defined]
        self.append(data)  # type: ignore[attr-defined]

    dispatch[pickle.BYTEARRAY8[0]] = _load_bytearray8

    def _load_frame(self) -> None:
        (size,) = struct.unpack("<Q", self.read(8))  # type: ignore[attr-defined]
        if size > self._length:
            raise DeserializationError(
                f"input is truncated or corrupt: a FRAME opcode announces {size} bytes in a "
                f"{self._length}-byte stream"
            )
        self._unframer.load_frame(size)  # type: ignore[attr-defined]

    dispatch[pickle.FRAME[0]] = _load_frame

    def _refuse_memo_store(self) -> None:
        raise DeserializationError(
            "corrupt input: a PUT/BINPUT/LONG_BINPUT opcode (cucumber never writes one); "
            "the data is damaged or was not made by cucumber.serialize"
        )

    for _op in (pickle.PUT, pickle.BINPUT, pickle.LONG_BINPUT):
        dispatch[_op[0]] = _refuse_memo_store
    del _op


def load_python(stream: memoryview) -> Any:
    """Unpickle ``stream`` with the pure-Python unpickler (bounded memory, for format 1 payloads).

    An exception raised while loading carries the last global looked up as ``last_global``.
    """
    unpickler = _BoundedPythonUnpickler(stream)
    try:
        return unpickler.load()
    except Exception as exc:
        exc.last_global = unpickler.last_global  # type: ignore[attr-defined]
        raise
