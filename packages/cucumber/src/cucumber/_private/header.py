"""The frame around every cucumber payload: magic bytes, format version, length, checksum.

Format 2 (written since cucumber 0.3), all integers little-endian::

    offset  size  field
    0       4     b"CUKE"
    4       1     format version: 2
    5       8     L: length of the pickle stream after the header
    13      4     crc32 (zlib) of bytes 0-12, bytes 17 to the end of the header, and the pickle stream
                  except the large buffers listed below
    17      4     N: number of large buffers
    21      16*N  N x (offset in the pickle stream, length): the bytes of large bytes/bytearray/str
                  objects (64 KiB or more), which the pickler writes as they are, outside its frames
    21+16N  L     the pickle stream (protocol 5) without FRAME opcodes

The checksum lets ``deserialize`` reject damaged input (bit flips, truncation, insertions) before any
pickle opcode runs, at crc32 speed over the opcodes and small values only: the contents of large buffers
are data, never opcodes, and are not checksummed (a flipped bit there changes a value, nothing else).
Frames are left out because a frame makes the C unpickler take up to 64 KiB of opcodes at once, out of
reach of the guarded reader (:mod:`cucumber._private.safeload`); the opcode scanner (``_opscan.c``) refuses
a stream that holds one.

Format 1 (cucumber 0.1 and 0.2): ``b"CUKE"``, version 1, 8-byte length, then the pickle stream (with
frames), 13 bytes of header and no checksum. This cucumber still reads it, through the pure-Python
unpickler (bounded memory, about ten times slower). Older cucumbers refuse format 2 with their
"unsupported cucumber format version 2" error, which tells the user to use the same version on both ends.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from typing import Any

from cucumber._private.errors import DeserializationError

__all__ = [
    "FORMAT_VERSION",
    "MAGIC",
    "PREFIX",
    "Header",
    "check_header",
    "checksum",
    "pack",
]

MAGIC = b"CUKE"
FORMAT_VERSION = 2
#: The first 5 bytes of every format 2 payload.
PREFIX = MAGIC + bytes([FORMAT_VERSION])
_V1 = 1
_FIXED = struct.Struct("<QII")  # length, crc32, number of large buffers (at offset 5)
_EXTENT = struct.Struct("<QQ")
FIXED_SIZE = len(PREFIX) + _FIXED.size  # 21
_V1_SIZE = len(MAGIC) + 1 + 8
_CRC_AT = len(PREFIX) + 8  # 13


def checksum(header_start: Any, header_rest: Any, parts: Any) -> int:
    """The crc32 of a header without its crc field and the checksummed parts of the stream."""
    crc = zlib.crc32(header_rest, zlib.crc32(header_start))
    for part in parts:
        crc = zlib.crc32(part, crc)
    return crc


_LENGTH = struct.Struct("<Q")
_CRC_COUNT = struct.Struct("<II")
_COUNT = struct.Struct("<I")


def pack(length: int, extents: list[tuple[int, int]], parts: Sequence[Any]) -> bytes:
    """The format 2 header for a stream of ``length`` bytes whose checksummed pieces are ``parts``."""
    head = PREFIX + _LENGTH.pack(length)
    count = len(extents)
    table = b"".join([_EXTENT.pack(offset, size) for offset, size in extents]) if count else b""
    crc = zlib.crc32(table, zlib.crc32(_COUNT.pack(count), zlib.crc32(head)))
    for part in parts:
        crc = zlib.crc32(part, crc)
    return head + _CRC_COUNT.pack(crc, count) + table


class Header:
    """A checked header: the format version, where the stream starts and how it may be loaded."""

    __slots__ = ("start", "version")

    def __init__(self, version: int, start: int) -> None:
        self.version = version
        self.start = start


def _not_cucumber(data: bytes | bytearray | memoryview) -> DeserializationError:
    if not data:
        return DeserializationError(
            "cannot deserialize empty input: expected bytes made by cucumber.serialize"
        )
    return DeserializationError(
        "input is not cucumber data (wrong magic bytes); pass bytes made by cucumber.serialize"
    )


def _check_length(expected: int, actual: int) -> None:
    if actual != expected:
        what = "truncated" if actual < expected else "followed by extra bytes"
        raise DeserializationError(
            f"input is {what}: the header announces {expected} payload bytes, found {actual}"
        )


def check_header(data: bytes | bytearray | memoryview) -> Header:
    """Validate the header of ``data`` (and, for format 2, its checksum).

    Raises :class:`DeserializationError` with a one-line reason when the input is not a complete,
    undamaged cucumber payload of a format version this cucumber reads.
    """
    size = len(data)
    if size < len(MAGIC) or data[: len(MAGIC)] != MAGIC:
        raise _not_cucumber(data)
    if size == len(MAGIC):
        raise DeserializationError(f"input is truncated: {size} bytes, only the magic bytes")
    version = data[len(MAGIC)]
    if version == _V1:
        if size < _V1_SIZE:
            raise DeserializationError(
                f"input is truncated: {size} bytes, shorter than the {_V1_SIZE}-byte header"
            )
        _check_length(int.from_bytes(data[5:13], "little"), size - _V1_SIZE)
        return Header(_V1, _V1_SIZE)
    if version != FORMAT_VERSION:
        raise DeserializationError(
            f"unsupported cucumber format version {version} (this cucumber reads versions 1 and "
            f"{FORMAT_VERSION}); serialize and deserialize with the same cucumber version"
        )
    if size < FIXED_SIZE:
        raise DeserializationError(
            f"input is truncated: {size} bytes, shorter than the {FIXED_SIZE}-byte header"
        )
    length, crc, count = _FIXED.unpack_from(data, len(PREFIX))
    start = FIXED_SIZE + _EXTENT.size * count
    if start > size:
        raise DeserializationError(
            f"input is truncated or corrupt: the header lists {count} large buffers, "
            f"more than {size} bytes can hold"
        )
    _check_length(length, size - start)
    view = memoryview(data)
    parts = []
    at = start
    for i in range(count):
        offset, extent = _EXTENT.unpack_from(data, FIXED_SIZE + _EXTENT.size * i)
        begin = start + offset
        if begin < at or extent > size - begin:
            raise DeserializationError(
                "input is corrupt: a large buffer listed in the header lies outside the payload"
            )
        parts.append(view[at:begin])
        at = begin + extent
    parts.append(view[at:])
    if checksum(view[:_CRC_AT], view[_CRC_AT + 4 : start], parts) != crc:
        raise DeserializationError(
            "input is corrupt: the checksum does not match (bytes were changed, lost or inserted "
            "after cucumber.serialize made them)"
        )
    return Header(FORMAT_VERSION, start)
