"""Reading and writing the records of a data segment (see :mod:`.layout`)."""

from __future__ import annotations

from typing import Any

from suitkaise_processing._private.share.layout import (
    OP_APPEND,
    OP_BASE,
    OP_EXTEND,
    OP_SETITEM,
    OP_UPDATE,
    RECORD_HEAD,
)
from suitkaise_processing._private.wire import decode

_HEAD = RECORD_HEAD.size


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
            value = decode(buf[offset:stop])
            offset = stop
            if op == OP_BASE:
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
