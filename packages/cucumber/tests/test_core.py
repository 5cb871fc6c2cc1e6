"""Core behaviour: round trips of plain data and code, the header, and the error types."""

from __future__ import annotations

import pathlib
import pickle
import subprocess
import sys

import pytest
from cucumber_payloads import edited

import cucumber
from cucumber import CucumberError, DeserializationError, SerializationError


def roundtrip(obj: object) -> object:
    return cucumber.deserialize(cucumber.serialize(obj))


def test_plain_data_round_trips() -> None:
    data = {
        "ints": list(range(100)),
        "nested": {"a": (1, 2.5, "x"), "b": {1, 2, 3}, "c": frozenset({"q"})},
        "bytes": b"\x00\x01" * 10,
        "ba": bytearray(b"abc"),
        "none": None,
        "big": 2**100,
        "complex": 1 + 2j,
    }
    assert roundtrip(data) == data


def test_output_starts_with_versioned_header() -> None:
    data = cucumber.serialize([1, 2, 3])
    assert isinstance(data, bytes)
    assert data[:4] == b"CUKE"
    assert data[4] == 2


def test_accepts_bytearray_and_memoryview() -> None:
    data = cucumber.serialize({"k": 1})
    assert cucumber.deserialize(bytearray(data)) == {"k": 1}
    assert cucumber.deserialize(memoryview(data)) == {"k": 1}


def test_lambda_and_closure_by_value() -> None:
    offset = 10

    def add(x: int) -> int:
        return x + offset

    square = roundtrip(lambda x: x * x)
    closure = roundtrip(add)
    assert square(7) == 49  # type: ignore[operator]
    assert closure(5) == 15  # type: ignore[operator]


def test_local_class_keeps_methods() -> None:
    class Point:
        def __init__(self, x: int, y: int) -> None:
            self.x, self.y = x, y

        def norm1(self) -> int:
            return abs(self.x) + abs(self.y)

    p = roundtrip(Point(3, -4))
    assert p.norm1() == 7  # type: ignore[attr-defined]


def test_shared_and_circular_references_survive() -> None:
    shared = [1, 2]
    outer: dict[str, object] = {"a": shared, "b": shared}
    outer["self"] = outer
    back = roundtrip(outer)
    assert isinstance(back, dict)
    assert back["a"] is back["b"]
    assert back["self"] is back


def test_error_hierarchy() -> None:
    assert issubclass(SerializationError, CucumberError)
    assert issubclass(DeserializationError, CucumberError)


@pytest.mark.parametrize(
    "bad",
    [b"", b"CU", b"CUKE", pickle.dumps({"a": 1}), b'{"a": 1}', b"\x00" * 64, "not bytes", None, 12],
)
def test_bad_input_raises_deserialization_error(bad: object) -> None:
    with pytest.raises(DeserializationError):
        cucumber.deserialize(bad)


def test_truncated_and_extended_payloads_are_rejected() -> None:
    data = cucumber.serialize({"a": list(range(50))})
    for cut in (1, 5, len(data) // 2, len(data) - 1):
        with pytest.raises(DeserializationError, match=r"truncated|magic"):
            cucumber.deserialize(data[:cut])
    with pytest.raises(DeserializationError, match="extra bytes"):
        cucumber.deserialize(data + b"x")


def test_future_format_version_is_rejected() -> None:
    data = bytearray(cucumber.serialize(1))
    data[4] = 99
    with pytest.raises(DeserializationError, match="version 99"):
        cucumber.deserialize(bytes(data))


def test_corrupt_payload_raises_only_deserialization_error() -> None:
    data = bytearray(cucumber.serialize({"key": "value", "n": [1, 2, 3]}))
    data[20] ^= 0xFF
    data[-1] = 0  # no STOP opcode
    with pytest.raises(DeserializationError):
        cucumber.deserialize(bytes(data))


def test_deeply_nested_input_raises_serialization_error() -> None:
    nested: list[object] = []
    for _ in range(100_000):
        nested = [nested]
    with pytest.raises(SerializationError, match="nested too deeply"):
        cucumber.serialize(nested)


def test_debug_deserialize_names_the_missing_global() -> None:
    broken = edited(DeserializationError, b"cucumber._private.errors", b"cucumber._private.xrrors")
    with pytest.raises(
        DeserializationError, match=r"last global looked up: cucumber\._private\.xrrors"
    ):
        cucumber.deserialize(broken, debug=True)
    with pytest.raises(DeserializationError, match="No module named"):
        cucumber.deserialize(broken)


@pytest.mark.timeout(60)
def test_concurrent_serialize_from_threads_is_correct() -> None:
    import threading

    errors: list[str] = []

    def work(n: int) -> None:
        for i in range(300):
            obj = {"thread": n, "i": i, "payload": list(range(n + i % 7))}
            if cucumber.deserialize(cucumber.serialize(obj)) != obj:
                errors.append(f"{n}/{i}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(50)
    assert not errors


def test_nested_serialize_inside_a_reducer_works() -> None:
    class Outer:
        def __init__(self, inner: object) -> None:
            self.inner = inner

        def __cucumber_reduce__(self) -> object:
            return _rebuild_outer, (cucumber.serialize(self.inner),)

    back = roundtrip(Outer({"x": [1, 2]}))
    assert back.inner == {"x": [1, 2]}  # type: ignore[attr-defined]


def _rebuild_outer(data: bytes) -> object:
    class Rebuilt:
        inner = cucumber.deserialize(data)

    return Rebuilt()


def test_large_bytes_round_trip_exactly() -> None:
    big = bytes(range(256)) * 40_000
    blob = bytearray(big)
    back = roundtrip({"b": big, "a": blob})
    assert back == {"b": big, "a": blob}


_FORK_WHILE_LOADING = """
import multiprocessing, threading
import cucumber

def child(conn):
    conn.send(cucumber.deserialize(cucumber.serialize({"x": [1, 2, 3]})) == {"x": [1, 2, 3]})
    conn.close()

if __name__ == "__main__":
    stop = threading.Event()

    def busy():
        while not stop.is_set():
            cucumber.serialize({"k": list(range(2000))})

    ctx = multiprocessing.get_context("fork")
    thread = threading.Thread(target=busy)
    thread.start()  # its first serialize loads the pickler while the forks below happen
    answers = []
    try:
        for _ in range(5):
            parent, end = ctx.Pipe()
            proc = ctx.Process(target=child, args=(end,))
            proc.start()
            end.close()
            answers.append(parent.recv() if parent.poll(10) else "no answer")
            proc.join(10)
            if proc.is_alive():
                proc.kill()
                proc.join()
            answers.append(proc.exitcode)
    finally:
        stop.set()
        thread.join()
    print(answers)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="fork is the default only on Linux")
@pytest.mark.timeout(120)
def test_serialize_works_in_a_child_forked_while_another_thread_serializes(
    tmp_path: pathlib.Path,
) -> None:
    """In a fresh interpreter, so that the other thread's first serialize (which imports the
    pickler) is what the forks interrupt: a child forked in the middle of those imports used to
    wait for ever on their import locks."""
    script = tmp_path / "fork_while_loading.py"
    script.write_text(_FORK_WHILE_LOADING)
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=100
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str([True, 0] * 5)


class BufferBacked:
    """Hands its data to pickle as a protocol-5 PickleBuffer (as numpy arrays do)."""

    def __init__(self, data: bytes | bytearray) -> None:
        self.data = bytearray(data)

    def __reduce_ex__(self, protocol: object) -> object:
        return _rebuild_buffer_backed, (pickle.PickleBuffer(self.data),)


def _rebuild_buffer_backed(buffer: object) -> BufferBacked:
    return BufferBacked(bytes(memoryview(buffer)))  # type: ignore[arg-type]


@pytest.mark.parametrize("size", [10, 5_000_000])
def test_pickle_buffers_round_trip(size: int) -> None:
    data = bytes(range(256)) * (size // 256 + 1)
    back = roundtrip([BufferBacked(data), "after"])
    assert back[0].data == bytearray(data)  # type: ignore[index]
    assert back[1] == "after"  # type: ignore[index]
