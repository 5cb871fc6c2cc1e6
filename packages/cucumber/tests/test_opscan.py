"""The C opcode scanner (``cucumber/_private/_opscan.c``) reads a stream as the C unpickler does.

Its argument table is checked against ``pickletools.opcodes`` (every opcode of every protocol), and on
real cucumber streams against ``pickletools.genops``: a memo store placed at an opcode boundary is found
at its offset, the same bytes inside a string are data.
"""

from __future__ import annotations

import pickle
import pickletools
import struct
from typing import Any

import pytest
from fuzz_cases import PLAIN
from hypothesis import given, settings
from hypothesis import strategies as st

import cucumber
from cucumber._private._opscan import first_hazard

_REFUSED = {"PUT", "BINPUT", "LONG_BINPUT", "FRAME"}
_MEMO_STORE = b"r\x00\x00\x00\x00"  # LONG_BINPUT 0: refused wherever it runs

_OPCODES = {op.code.encode("latin-1"): op for op in pickletools.opcodes}


def _argument(op: pickletools.OpcodeInfo) -> bytes:
    """A valid argument of ``op``, two bytes of data where it has a length."""
    arg = op.arg
    if arg is None:
        return b""
    if arg.name == "stringnl_noescape_pair":  # GLOBAL, INST: module and name lines
        return b"a\nb\n"
    n = arg.n
    if n >= 0:
        return bytes(n)
    if n == pickletools.UP_TO_NEWLINE:
        return b"1\n"
    if n == pickletools.TAKEN_FROM_ARGUMENT1:
        return b"\x02ab"
    if n in (pickletools.TAKEN_FROM_ARGUMENT4, pickletools.TAKEN_FROM_ARGUMENT4U):
        return struct.pack("<I", 2) + b"ab"
    assert n == pickletools.TAKEN_FROM_ARGUMENT8U, op.name
    return struct.pack("<Q", 2) + b"ab"


@pytest.mark.parametrize("code", sorted(_OPCODES), ids=lambda c: _OPCODES[c].name)
def test_every_opcode_is_skipped_exactly_as_pickle_reads_it(code: bytes) -> None:
    op = _OPCODES[code]
    stream = code + _argument(op) + _MEMO_STORE
    if op.name in _REFUSED:
        assert first_hazard(stream) == 0
    elif op.name == "STOP":
        assert first_hazard(stream) == -1  # the unpickler returns there: nothing after it runs
    else:
        # the walk lands on the opcode right after the argument, as the unpickler would
        assert first_hazard(stream) == len(stream) - len(_MEMO_STORE)


def test_bytes_that_are_no_opcode_end_the_walk_as_they_end_the_unpickler() -> None:
    for value in range(256):
        code = bytes([value])
        if code not in _OPCODES:
            assert first_hazard(code + _MEMO_STORE) == -1
            with pytest.raises(pickle.UnpicklingError):
                pickle.loads(b"\x80\x05" + code + b".")


@pytest.mark.parametrize(
    ("stream", "expected"),
    [
        # allocate-first opcodes longer than the rest: refused
        (b"\x80\x05B\xff\xff\xff\x00.", 2),
        (b"\x80\x05\x8e" + struct.pack("<Q", 1 << 40) + b".", 2),
        (b"\x80\x05\x96" + struct.pack("<Q", 10) + b"12345678.", 2),
        # ... one that fits exactly: data
        (b"\x80\x05\x96" + struct.pack("<Q", 3) + b"rrr", -1),
        # read-first opcodes longer than the rest: the unpickler raises "truncated" before allocating
        (b"\x80\x05X\xff\xff\xff\xff" + _MEMO_STORE, -1),
        (b"\x80\x05\x8d" + struct.pack("<Q", 1 << 40) + _MEMO_STORE, -1),
        (b"\x80\x05\x8b\xff\xff\xff\xff" + _MEMO_STORE, -1),  # negative LONG4 length
        # truncated arguments and lines without their newline end it too
        (b"\x80\x05\x8c", -1),
        (b"\x80\x05B\x01\x00", -1),
        (b"\x80\x05cmodule\nname", -1),
        (b"\x80\x05I12" + _MEMO_STORE, -1),
        # memo stores anywhere an opcode starts; data that looks like one is skipped
        (b"\x80\x05Nq\x01.", 3),
        (b"\x80\x05Np1\n.", 3),
        (b"\x80\x05\x8c\x05r\xff\xff\xff\xffr\x00\x00\x00\x00", 9),
        (b"\x80\x05Kr" + _MEMO_STORE, 4),
        (b"", -1),
    ],
)
def test_edges(stream: bytes, expected: int) -> None:
    assert first_hazard(stream) == expected


def test_any_buffer_is_read_and_other_objects_are_refused() -> None:
    stream = b"\x80\x05N" + _MEMO_STORE
    assert first_hazard(bytearray(stream)) == 3
    assert first_hazard(memoryview(b"xx" + stream)[2:]) == 3
    with pytest.raises(TypeError):
        first_hazard("text")  # type: ignore[arg-type]


def _stream(obj: Any) -> bytes:
    payload = cucumber.serialize(obj)
    assert payload[17:21] == bytes(4)  # no large buffers listed: the stream follows the header
    return payload[21:]


@settings(max_examples=300, deadline=None, database=None)
@given(PLAIN, st.data())
def test_a_memo_store_at_any_opcode_boundary_is_found(obj: Any, data: st.DataObject) -> None:
    stream = _stream(obj)
    assert first_hazard(stream) == -1
    boundaries = [pos for _, _, pos in pickletools.genops(stream) if pos is not None]
    at = data.draw(st.sampled_from(boundaries))
    assert first_hazard(stream[:at] + _MEMO_STORE + stream[at:]) == at


@settings(max_examples=300, deadline=None, database=None)
@given(st.lists(st.binary(min_size=5, max_size=300), min_size=1, max_size=20), st.data())
def test_memo_store_bytes_inside_data_are_data(blobs: list[bytes], data: st.DataObject) -> None:
    which = data.draw(st.integers(0, len(blobs) - 1))
    blob = bytearray(blobs[which])
    at = data.draw(st.integers(0, len(blob) - 5))
    blob[at : at + 5] = b"r\xff\xff\xff\x7f"
    blobs[which] = bytes(blob)
    stream = _stream(blobs)
    assert first_hazard(stream) == -1
    assert cucumber.deserialize(cucumber.serialize(blobs)) == blobs
