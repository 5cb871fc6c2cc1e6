"""The frame around every cucumber payload: magic bytes, format version and payload length.

Layout (13 bytes): ``b"CUKE"`` + one byte format version + 8 bytes little-endian payload length,
followed by a pickle stream (protocol 5). The header lets ``deserialize`` reject empty, truncated
and foreign input before any pickle opcode runs.
"""

from __future__ import annotations

import struct

from cucumber._private.errors import DeserializationError

__all__ = ["FORMAT_VERSION", "HEADER_SIZE", "MAGIC", "check_header", "pack_length"]

MAGIC = b"CUKE"
FORMAT_VERSION = 1
_LENGTH = struct.Struct("<Q")
#: The struct of the 8-byte payload length.
LENGTH_STRUCT = _LENGTH
HEADER_SIZE = len(MAGIC) + 1 + _LENGTH.size
PLACEHOLDER = MAGIC + bytes([FORMAT_VERSION]) + bytes(_LENGTH.size)


def pack_length(length: int) -> bytes:
    """The 8 length bytes of the header for a payload of ``length`` bytes."""
    return _LENGTH.pack(length)


def unpack_length_from(data: bytes, offset: int) -> tuple[int]:
    """The payload length stored in a header at ``offset``."""
    return _LENGTH.unpack_from(data, offset)


def check_header(view: memoryview) -> memoryview:
    """Validate the header of ``view`` and return the pickle payload (a zero-copy slice).

    Raises :class:`DeserializationError` with a one-line reason when the input is not a complete
    cucumber payload of a format version this cucumber reads.
    """
    size = len(view)
    if size == 0:
        raise DeserializationError(
            "cannot deserialize empty input: expected bytes made by cucumber.serialize"
        )
    if size < len(MAGIC) or view[: len(MAGIC)] != MAGIC:
        raise DeserializationError(
            "input is not cucumber data (wrong magic bytes); pass bytes made by cucumber.serialize"
        )
    if size < HEADER_SIZE:
        raise DeserializationError(
            f"input is truncated: {size} bytes, shorter than the {HEADER_SIZE}-byte header"
        )
    version = view[len(MAGIC)]
    if version != FORMAT_VERSION:
        raise DeserializationError(
            f"unsupported cucumber format version {version} (this cucumber reads version {FORMAT_VERSION}); "
            "serialize and deserialize with the same cucumber version"
        )
    (expected,) = _LENGTH.unpack_from(view, len(MAGIC) + 1)
    actual = size - HEADER_SIZE
    if actual != expected:
        what = "truncated" if actual < expected else "followed by extra bytes"
        raise DeserializationError(
            f"input is {what}: the header announces {expected} payload bytes, found {actual}"
        )
    return view[HEADER_SIZE:]
