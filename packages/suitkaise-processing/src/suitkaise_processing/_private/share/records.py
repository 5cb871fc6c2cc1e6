"""Reading and writing the records of a data segment (see :mod:`.layout`)."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

import suitkaise_processing._private.share.segment as segment
from suitkaise_processing._private.bigbuffers import ALIGN
from suitkaise_processing._private.share.layout import (
    OP_APPEND,
    OP_BASE,
    OP_BASE_BIG,
    OP_EXTEND,
    OP_SETITEM,
    OP_UPDATE,
    RECORD_HEAD,
)
from suitkaise_processing._private.wire import decode

_HEAD = RECORD_HEAD.size
_COUNT = struct.Struct("<I")
_LENGTH = struct.Struct("<Q")


class TornRead(Exception):
    """The records changed while they were read; read again."""


def write_record(buf: memoryview, offset: int, op: int, payload: bytes | memoryview) -> int:
    """Write one record at ``offset``; return the offset after it."""
    size = len(payload)
    RECORD_HEAD.pack_into(buf, offset, size, op)
    start = offset + _HEAD
    buf[start : start + size] = payload
    return start + size


def record_size(payload: bytes | memoryview) -> int:
    """Bytes one record with ``payload`` takes."""
    return _HEAD + len(payload)


def big_payload(name: str, buffers: Sequence[memoryview], stream: bytes | memoryview) -> bytes:
    """The payload of an OP_BASE_BIG record: buffer segment ``name`` holds ``buffers``."""
    raw = name.encode("ascii")
    return b"".join(
        [
            bytes([len(raw)]),
            raw,
            _COUNT.pack(len(buffers)),
            *[_LENGTH.pack(b.nbytes) for b in buffers],
            stream,
        ]
    )


def big_name(payload: bytes | memoryview) -> str:
    """The buffer segment an OP_BASE_BIG payload names."""
    return bytes(payload[1 : 1 + payload[0]]).decode("ascii")


def _load_big(payload: memoryview) -> Any:
    """The value of an OP_BASE_BIG payload, its buffers viewing a private mapping of its segment."""
    start = 1 + payload[0]
    (count,) = _COUNT.unpack_from(payload, start)
    start += _COUNT.size
    lengths = [_LENGTH.unpack_from(payload, start + 8 * k)[0] for k in range(count)]
    whole = memoryview(segment.map_private(big_name(payload)))
    if sum(-(-size // ALIGN) * ALIGN for size in lengths) > len(whole):
        whole.release()
        raise ValueError("a buffer segment is shorter than its record says")
    buffers = []
    offset = 0
    for size in lengths:
        buffers.append(whole[offset : offset + size])
        offset += -(-size // ALIGN) * ALIGN
    whole.release()
    return decode(payload[start + 8 * count :], buffers)


def parse_records(buf: memoryview, start: int, end: int, obj: Any, have_base: bool) -> Any:
    """Decode the records in ``buf[start:end]`` and apply them to ``obj``; return the resulting value.

    ``have_base`` says whether ``obj`` already holds the value the first delta applies to.
    Raises :class:`TornRead` when the bytes are not a consistent sequence of records.
    """
    offset = start
    try:
        while offset < end:
            size, op = RECORD_HEAD.unpack_from(buf, offset)
            offset += _HEAD
            stop = offset + size
            if stop > end:
                raise TornRead
            value = _load_big(buf[offset:stop]) if op == OP_BASE_BIG else decode(buf[offset:stop])
            offset = stop
            if op in (OP_BASE, OP_BASE_BIG):
                obj = value
                have_base = True
            elif not have_base:
                raise TornRead
            elif op == OP_APPEND:
                obj.append(value)
            elif op == OP_EXTEND:
                obj.extend(value)
            elif op == OP_SETITEM:
                obj[value[0]] = value[1]
            elif op == OP_UPDATE:
                obj.update(value)
            else:
                raise TornRead
    except TornRead:
        raise
    except Exception as exc:  # garbage from a concurrent rewrite
        raise TornRead from exc
    if not have_base:
        raise TornRead
    return obj
