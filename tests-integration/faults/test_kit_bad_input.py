"""Bad input (RELIABILITY.md): corrupt bytes, invalid configuration, objects that cannot cross a process
boundary, bad counter names. Each must fail with the package's own error, naming what to fix."""

from __future__ import annotations

import json
import multiprocessing
import pickle
import uuid
from typing import Any

import kit_examples_workers as w
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from suitkaise import cucumber
from suitkaise.cucumber import DeserializationError, SerializationError
from suitkaise.processing import Pool, PoolError, Share, Skprocess
from suitkaise.shared_counter import CounterNotFoundError, SharedMemoryCounter

SAMPLE: Any = {"numbers": list(range(50)), "text": "héllo", "nested": ({1, 2}, b"\x00\xff", 3.5)}
GOOD = cucumber.serialize(SAMPLE)

# --- cucumber.deserialize of bad bytes ---------------------------------------------------------------


def _only_deserialization_error(data: bytes) -> None:
    try:
        cucumber.deserialize(data)
    except DeserializationError:
        pass
    # any other exception type fails the test by propagating


def test_round_trip_sanity() -> None:
    assert cucumber.deserialize(GOOD) == SAMPLE


@pytest.mark.parametrize(
    "data",
    [
        b"",
        pickle.dumps(SAMPLE),
        pickle.dumps(SAMPLE, protocol=0),
        json.dumps({"a": [1, 2]}).encode(),
        b"\x80\x05",
        b"not cucumber at all",
        bytes(range(256)),
    ],
    ids=["empty", "pickle", "pickle-p0", "json", "pickle-header", "text", "all-bytes"],
)
def test_foreign_or_empty_bytes_raise_deserialization_error(data: bytes) -> None:
    with pytest.raises(DeserializationError):
        cucumber.deserialize(data)


def test_every_truncation_raises_deserialization_error() -> None:
    for cut in range(len(GOOD)):
        with pytest.raises(DeserializationError):
            cucumber.deserialize(GOOD[:cut])


def test_bit_flips_raise_only_deserialization_error() -> None:
    for i in range(len(GOOD)):
        for bit in (0, 3, 7):
            flipped = bytearray(GOOD)
            flipped[i] ^= 1 << bit
            _only_deserialization_error(bytes(flipped))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=512))
def test_random_bytes_raise_only_deserialization_error(data: bytes) -> None:
    _only_deserialization_error(data)


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=1, max_size=64))
def test_good_header_followed_by_garbage(tail: bytes) -> None:
    _only_deserialization_error(GOOD[:8] + tail)


# --- invalid configuration: ValueError at assignment, naming the field ---------------------------


class Plain(Skprocess):
    def __run__(self) -> None:
        pass


@pytest.mark.parametrize(
    ("field", "value"),
    [("runs", -1), ("lives", 0), ("lives", -3), ("join_in", -1.0)],
)
def test_invalid_process_config_names_the_field(field: str, value: Any) -> None:
    process = Plain()
    with pytest.raises(ValueError, match=field):
        setattr(process.process_config, field, value)


@pytest.mark.parametrize("section", ["prerun", "run", "postrun", "onfinish", "result", "error"])
def test_negative_timeouts_name_the_section(section: str) -> None:
    process = Plain()
    with pytest.raises(ValueError, match=section):
        setattr(process.process_config.timeouts, section, -0.5)


@pytest.mark.parametrize("workers", [0, -2])
def test_pool_with_no_workers_names_the_field(workers: int) -> None:
    with pytest.raises(ValueError, match="workers"):
        Pool(workers=workers)


# --- objects that cannot cross a process boundary -----------------------------------------------


class Payload:
    """A process-bound object (a multiprocessing.Queue) hidden at ``workers[3]['q']``."""

    def __init__(self, queue: Any) -> None:
        self.workers: list[Any] = [1, 2, 3, {"q": queue}]


class CarriesPayload(Skprocess):
    def __init__(self, payload: Payload) -> None:
        self.payload = payload

    def __run__(self) -> None:
        pass


@pytest.fixture
def payload() -> Any:
    queue = multiprocessing.get_context("spawn").Queue()
    yield Payload(queue)
    queue.close()
    queue.join_thread()


def test_cucumber_debug_names_the_path(payload: Payload) -> None:
    with pytest.raises(SerializationError) as info:
        cucumber.serialize(payload, debug=True)
    assert "workers[3]" in str(info.value)


def test_cucumber_serialize_names_the_path(payload: Payload) -> None:
    """RELIABILITY.md: "SerializationError with the path to the offending part" (without debug=True)."""
    with pytest.raises(SerializationError) as info:
        cucumber.serialize(payload)
    assert "workers[3]" in str(info.value)


@pytest.mark.timeout(60)
def test_skprocess_start_names_the_path(payload: Payload) -> None:
    process = CarriesPayload(payload)
    with pytest.raises(SerializationError) as info:
        process.start()
    assert "payload" in str(info.value)
    assert "workers[3]" in str(info.value)
    assert process.is_alive is False


@pytest.mark.timeout(60)
def test_pool_argument_names_the_path(payload: Payload) -> None:
    with Pool(workers=1) as pool:
        with pytest.raises(PoolError) as info:
            pool.map(w.square, [payload])
        assert isinstance(info.value.__cause__, SerializationError)
        assert "item 0" in str(info.value)
        assert "workers[3]" in str(info.value)
        assert pool.map(w.square, [3]) == [9]  # the pool is still usable


@pytest.mark.timeout(60)
def test_share_refuses_with_serialization_error_naming_the_path(payload: Payload) -> None:
    share = Share()
    try:
        with pytest.raises(SerializationError) as info:
            share.p = payload
        assert "workers[3]" in str(info.value)
    finally:
        share.stop()


# --- counter names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "run_id"),
    [("", "r"), ("a/b", "r"), ("a\x00b", "r"), ("x" * 300, "r"), ("ok", "r/x"), ("ok", "r\x00")],
    ids=["empty", "slash", "nul", "too-long", "run_id-slash", "run_id-nul"],
)
def test_bad_counter_names_raise_value_error(name: str, run_id: str) -> None:
    with pytest.raises(ValueError):
        SharedMemoryCounter(name, create=True, run_id=run_id)


def test_connecting_to_a_missing_counter() -> None:
    with pytest.raises(CounterNotFoundError):
        SharedMemoryCounter("missing", create=False, run_id="kit" + uuid.uuid4().hex[:8])
