"""The record format of a Share's data segments: well-formed records rebuild the value, anything
inconsistent (a concurrent rewrite seen half way) is a ``TornRead``, never a wrong value; and the
shared-memory segments that hold them."""

from __future__ import annotations

import os

import pytest

from suitkaise_processing._private.channel import encode
from suitkaise_processing._private.share import segment
from suitkaise_processing._private.share.layout import OP_APPEND, OP_BASE, OP_EXTEND
from suitkaise_processing._private.share.records import TornRead, parse_records, write_record


def _records(*records: tuple[int, bytes]) -> tuple[memoryview, int]:
    buf = memoryview(bytearray(4096))
    end = 0
    for op, payload in records:
        end = write_record(buf, end, op, payload)
    return buf, end


def _enc(value: object) -> bytes:
    return bytes(encode(value))


def test_base_and_deltas_rebuild_the_value() -> None:
    buf, end = _records((OP_BASE, _enc([1])), (OP_APPEND, _enc(2)), (OP_EXTEND, _enc([3, 4])))
    assert parse_records(buf, 0, end, None, False) == [1, 2, 3, 4]


def test_a_delta_without_a_base_is_torn() -> None:
    buf, end = _records((OP_APPEND, _enc(2)))
    with pytest.raises(TornRead):
        parse_records(buf, 0, end, None, False)
    assert parse_records(buf, 0, end, [1], True) == [1, 2]  # the caller had the base


def test_a_record_overrunning_the_range_is_torn() -> None:
    buf, end = _records((OP_BASE, _enc([1, 2, 3])))
    with pytest.raises(TornRead):
        parse_records(buf, 0, end - 1, None, False)


def test_an_unknown_op_or_a_garbage_body_is_torn() -> None:
    buf, end = _records((OP_BASE, _enc([1])), (250, _enc(2)))
    with pytest.raises(TornRead):
        parse_records(buf, 0, end, None, False)
    buf, end = _records((OP_BASE, b"\x80\x05garbage that is not a pickle"))
    with pytest.raises(TornRead) as info:
        parse_records(buf, 0, end, None, False)
    assert info.value.__cause__ is not None


def test_an_empty_range_without_a_base_is_torn() -> None:
    buf, _end = _records()
    with pytest.raises(TornRead):
        parse_records(buf, 0, 0, None, False)


def _name(tag: str) -> str:
    return f"sk_test_records_{tag}_{os.getpid()}"


def test_segment_names_must_carry_the_package_prefix() -> None:
    with pytest.raises(ValueError, match="must start with 'sk_'"):
        segment.Segment.create("not_ours", 64)


def test_a_segment_that_cannot_be_mapped_leaves_no_name_behind() -> None:
    name = _name("empty")
    with pytest.raises(ValueError):
        segment.Segment.create(name, 0, track=False)  # an empty mapping is refused
    assert name not in segment.list_names("sk_test_records_")
    assert segment.unlink(name, tracked=False) is False


def test_close_with_a_view_still_held_keeps_the_mapping_until_it_is_released() -> None:
    name = _name("view")
    seg = segment.Segment.create(name, 64, track=False)
    try:
        view = seg.buf[0:4]
        seg.close()  # a caller still holds a view: the mapping stays until it is released
        view[0:4] = b"abcd"
        other = segment.Segment.attach(name)
        assert bytes(other.buf[0:4]) == b"abcd"
        other.close()
        view.release()
        seg.close()  # idempotent
    finally:
        assert segment.unlink(name, tracked=False) is True
