"""Build cucumber payloads by hand (format 1 and 2 headers around any pickle stream), for tests.

Written from the layout documented in ``cucumber/_private/header.py``, independently of its code.
"""

from __future__ import annotations

import zlib

import cucumber


def format2(stream: bytes) -> bytes:
    """A format 2 payload with a valid checksum around ``stream`` (no large buffers listed)."""
    head = b"CUKE\x02" + len(stream).to_bytes(8, "little")
    rest = (0).to_bytes(4, "little")
    crc = zlib.crc32(stream, zlib.crc32(rest, zlib.crc32(head)))
    return head + crc.to_bytes(4, "little") + rest + stream


def format1(stream: bytes) -> bytes:
    """A format 1 payload (cucumber 0.1/0.2: no checksum) around ``stream``."""
    return b"CUKE\x01" + len(stream).to_bytes(8, "little") + stream


def stream_of(payload: bytes) -> bytes:
    """The pickle stream of a format 2 payload made by :func:`cucumber.serialize` (no large buffers)."""
    assert payload[:5] == b"CUKE\x02"
    assert payload[17:21] == bytes(4)
    return payload[21:]


def edited(obj: object, old: bytes, new: bytes) -> bytes:
    """``serialize(obj)`` with ``old`` replaced by ``new`` in its stream, checksum made valid again."""
    return format2(stream_of(cucumber.serialize(obj)).replace(old, new))
