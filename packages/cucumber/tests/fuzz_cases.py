"""The hypothesis cases of test_fuzz.py; test_fuzz.py runs each in a child process under a memory cap.

Run one directly (no cap) with ``python -c "import fuzz_cases; fuzz_cases.random_bytes()"`` from this
folder. ``CUCUMBER_FUZZ_EXAMPLES`` sets the number of examples per case (default 1000).
"""

from __future__ import annotations

import os
from typing import Any

from cucumber_payloads import format1, format2
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import cucumber
from cucumber import DeserializationError

#: Plain data of every kind pickle handles, nested (also used by test_opscan.py).
PLAIN = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.binary(max_size=40),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.text(max_size=8), children, max_size=5)
        | st.tuples(children, children)
    ),
    max_leaves=25,
)

EXAMPLES = int(os.environ.get("CUCUMBER_FUZZ_EXAMPLES", "1000"))
_FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)


def _load_only_our_error(data: bytes, *, debug: bool = False) -> None:
    error: DeserializationError | None = None
    try:
        cucumber.deserialize(data, debug=debug)
    except DeserializationError as exc:
        error = exc
    if error is None:
        return  # succeeding is fine too (a mutation can still be a valid payload)
    message = str(error)
    assert message
    assert "\n" not in message
    # Under the memory cap a runaway allocation shows up as MemoryError: that is a bug, not an answer.
    assert not isinstance(error.__cause__, MemoryError), message


@_FUZZ
@given(st.binary(max_size=200))
def random_bytes(data: bytes) -> None:
    _load_only_our_error(data)


@_FUZZ
@given(st.binary(max_size=200), st.booleans(), st.booleans())
def random_bytes_behind_a_valid_header(body: bytes, old_format: bool, debug: bool) -> None:
    # A valid format 2 header (checksum included) or a format 1 one: the bytes reach the unpickler.
    _load_only_our_error(format1(body) if old_format else format2(body), debug=debug)


_BLOWUP_OPCODES = (b"r", b"p", b"B", b"\x8e", b"\x96", b"\x8d", b"\x95", b"\x8b", b"(")


@_FUZZ
@given(
    st.binary(max_size=60),
    st.sampled_from(_BLOWUP_OPCODES),
    st.binary(min_size=5, max_size=9),
    st.booleans(),
    st.booleans(),
)
# Found by this fuzzer on 3.10: a look-alike LONG_BINPUT that was data (BINPUT's argument) hid the
# over-long BYTEARRAY8 right behind it from the guarded reader.
@example(b"q", b"r", b"\x96\x00\x00\x01\x00\x00\x00\x00", False, False)
def memo_and_length_opcodes_behind_a_valid_header(
    before: bytes, opcode: bytes, argument: bytes, old_format: bool, debug: bool
) -> None:
    # Random bytes around an opcode that can blow up the C unpickler, with any argument.
    body = b"\x80\x05N" + before + opcode + argument + b"."
    _load_only_our_error(format1(body) if old_format else format2(body), debug=debug)


def _mutate(payload: bytearray, data: st.DataObject, start: int) -> None:
    action = data.draw(st.sampled_from(["flip", "truncate", "insert", "overwrite"]))
    if action == "flip":
        i = data.draw(st.integers(0, len(payload) - 1))
        payload[i] ^= 1 << data.draw(st.integers(0, 7))
    elif action == "truncate":
        del payload[data.draw(st.integers(0, len(payload) - 1)) :]
    elif action == "insert":
        i = data.draw(st.integers(0, len(payload)))
        payload[i:i] = data.draw(st.binary(min_size=1, max_size=8))
    else:
        i = data.draw(st.integers(start, max(start, len(payload) - 1)))
        chunk = data.draw(st.binary(min_size=1, max_size=8))
        payload[i : i + len(chunk)] = chunk


@_FUZZ
@given(PLAIN, st.data())
def mutated_payloads(obj: Any, data: st.DataObject) -> None:
    payload = bytearray(cucumber.serialize(obj))
    _mutate(payload, data, 21)
    _load_only_our_error(bytes(payload))


@_FUZZ
@given(PLAIN, st.data(), st.booleans(), st.booleans())
def mutated_streams_behind_a_valid_header(
    obj: Any, data: st.DataObject, old_format: bool, debug: bool
) -> None:
    # Damage the stream and make the checksum match again: what a buggy producer would send.
    stream = bytearray(cucumber.serialize(obj)[21:])
    _mutate(stream, data, 2)
    body = bytes(stream)
    _load_only_our_error(format1(body) if old_format else format2(body), debug=debug)


CASES = (
    random_bytes,
    random_bytes_behind_a_valid_header,
    memo_and_length_opcodes_behind_a_valid_header,
    mutated_payloads,
    mutated_streams_behind_a_valid_header,
)
