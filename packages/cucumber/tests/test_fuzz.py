"""Bad input: random, truncated, bit-flipped and foreign bytes raise only DeserializationError."""

from __future__ import annotations

import json
import os
import pickle
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cucumber
from cucumber import DeserializationError

_plain = st.recursive(
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

# CI runs 1000 examples per test (about 15 s on a busy 2-core machine); a soak run sets more, e.g.
# CUCUMBER_FUZZ_EXAMPLES=100000.
_EXAMPLES = int(os.environ.get("CUCUMBER_FUZZ_EXAMPLES", "1000"))
_FUZZ = settings(
    max_examples=_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def _load_only_our_error(data: bytes) -> None:
    try:
        cucumber.deserialize(data)
    except DeserializationError as exc:
        message = str(exc)
        assert message
        assert "\n" not in message
    # Succeeding is fine too (a mutation can still be a valid payload).


@pytest.mark.timeout(max(120, _EXAMPLES // 10))
@_FUZZ
@given(st.binary(max_size=200))
def test_random_bytes(data: bytes) -> None:
    _load_only_our_error(data)


@pytest.mark.timeout(max(120, _EXAMPLES // 10))
@_FUZZ
@given(st.binary(max_size=200))
def test_random_bytes_behind_a_valid_header(body: bytes) -> None:
    header = b"CUKE\x01" + len(body).to_bytes(8, "little")
    _load_only_our_error(header + body)


@pytest.mark.timeout(max(120, _EXAMPLES // 10))
@_FUZZ
@given(_plain, st.data())
def test_mutated_payloads(obj: Any, data: st.DataObject) -> None:
    payload = bytearray(cucumber.serialize(obj))
    action = data.draw(st.sampled_from(["flip", "truncate", "insert", "overwrite"]))
    if action == "flip":
        i = data.draw(st.integers(0, len(payload) - 1))
        payload[i] ^= 1 << data.draw(st.integers(0, 7))
    elif action == "truncate":
        payload = payload[: data.draw(st.integers(0, len(payload) - 1))]
    elif action == "insert":
        i = data.draw(st.integers(0, len(payload)))
        payload[i:i] = data.draw(st.binary(min_size=1, max_size=8))
    else:
        i = data.draw(st.integers(13, max(13, len(payload) - 1)))
        chunk = data.draw(st.binary(min_size=1, max_size=8))
        payload[i : i + len(chunk)] = chunk
    _load_only_our_error(bytes(payload))


@pytest.mark.parametrize(
    "foreign",
    [
        pickle.dumps({"a": [1, 2, 3]}),
        pickle.dumps("x", protocol=0),
        json.dumps({"a": 1}).encode(),
        b"\x80\x05\x95",
        b"CUKE",
        b"CUKE\x01",
        b"CUKE\x01" + (5).to_bytes(8, "little") + b"\x80\x05N.",  # wrong length
        b"CUKE\x01" + (3).to_bytes(8, "little") + b"\x80\x05.",  # STOP on an empty stack
    ],
)
def test_foreign_and_broken_inputs(foreign: bytes) -> None:
    with pytest.raises(DeserializationError):
        cucumber.deserialize(foreign)
