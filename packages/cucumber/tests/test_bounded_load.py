"""Bounded deserialization: the bombs of issue 11, the checksum, format 1 payloads, the guarded loader.

Every input that could allocate without bound runs in a child process under a memory cap (RLIMIT_AS):
a regression fails as a test (a MemoryError, a crash) instead of taking the machine down.
"""

from __future__ import annotations

import os
import pickle
import pickletools
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from cucumber_payloads import format1, format2, stream_of

import cucumber
from cucumber import DeserializationError
from cucumber._private import api

_BOMBS = textwrap.dedent(
    """
    import resource, struct, sys
    from cucumber_payloads import format1, format2
    import cucumber
    from cucumber._private import api

    if sys.argv[1] == "guarded":  # as built without the C opcode scanner
        api._first_hazard = None

    base = int(open("/proc/self/status").read().split("VmSize:")[1].split()[0]) * 1024
    cap = base + (160 << 20)  # the 64 MB of the promise, plus room for the test's own work
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    huge4, huge8 = struct.pack("<I", 0x3FFFFFFF), struct.pack("<Q", 1 << 34)
    streams = {
        "memo LONG_BINPUT": b"\\x80\\x05Nr" + huge4 + b".",
        "memo LONG_BINPUT max": b"\\x80\\x05Nr\\xff\\xff\\xff\\xff.",
        "memo PUT": b"\\x80\\x05Np1073741823\\n.",
        "memo PUT underscores": b"\\x80\\x05Np 1_073_741_823 \\n.",
        "BINBYTES": b"\\x80\\x05B\\xff\\xff\\xff\\xff.",
        "BINBYTES8": b"\\x80\\x05\\x8e" + huge8 + b".",
        "BINUNICODE8": b"\\x80\\x05\\x8d" + huge8 + b".",
        "BYTEARRAY8": b"\\x80\\x05\\x96" + huge8 + b".",
        "FRAME": b"\\x80\\x05\\x95" + huge8 + b"N.",
        "LONG4": b"\\x80\\x05\\x8b" + huge4 + b".",
        "200k MARKs": b"\\x80\\x05" + b"(" * 200_000 + b".",
        "memo bomb after data": b"\\x80\\x05]\\x94(" + b"K\\x01" * 50_000 + b"er" + huge4 + b".",
    }
    for name, stream in streams.items():
        # Format 2 with a matching checksum (also with debug=True); format 1 (no checksum, frames).
        payloads = {
            "format 2": (format2(stream), False),
            "format 2 debug": (format2(stream), True),
            "format 1": (format1(stream), False),
        }
        if name == "memo LONG_BINPUT":
            payloads["issue 11"] = (
                b"CUKE\\x01" + struct.pack("<Q", 9) + b"\\x80\\x05Nr" + huge4 + b".", False
            )
        for kind, (payload, debug) in payloads.items():
            try:
                cucumber.deserialize(payload, debug=debug)
            except cucumber.DeserializationError as exc:
                if isinstance(exc.__cause__, MemoryError):
                    sys.exit(f"{name} ({kind}): MemoryError under the cap: {exc}")
                print(f"{name} ({kind}) -> {exc}")
            else:
                sys.exit(f"{name} ({kind}): no error")
    # Peak RSS of this program's own memory (VmHWM): ru_maxrss would start at the RSS of the test
    # runner that forked us, since Linux carries it across fork and exec.
    with open("/proc/self/status") as status:
        hwm_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    print("maxrss_mb", hwm_kb // 1024)
    """
)


@pytest.fixture(params=["scanned", "guarded"])
def format2_loader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """How format 2 loads in the test: through the C opcode scanner, or through the guarded reader
    (as where cucumber was built without the scanner)."""
    if request.param == "guarded":
        monkeypatch.setattr(api, "_first_hazard", None)
    return str(request.param)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("loader", ["scanned", "guarded"])
def test_bombs_give_deserialization_error_under_a_memory_cap(loader: str) -> None:
    # "scanned": the C opcode scanner refuses the stream before it runs; "guarded": cucumber built
    # without it, loading through the guarded reader.
    done = subprocess.run(
        [sys.executable, "-c", _BOMBS, loader],
        cwd=Path(__file__).parent,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        capture_output=True,
        text=True,
        timeout=100,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 12 * 3 + 1 + 1, done.stdout
    assert lines[0].startswith("memo LONG_BINPUT (format 2) -> "), lines[0]
    assert "memo index 1073741823" in lines[0]
    assert "a PUT opcode" in lines[8]
    assert int(lines[-1].split()[1]) < 200, done.stdout  # peak RSS of the whole child, in MB


def test_every_bit_flip_is_caught_by_the_checksum() -> None:
    payload = cucumber.serialize({"name": "x", "values": [1, 2.5, None], "blob": b"\x00\xff"})
    for i in range(len(payload)):
        for bit in range(8):
            broken = bytearray(payload)
            broken[i] ^= 1 << bit
            with pytest.raises(DeserializationError):
                cucumber.deserialize(bytes(broken))


def test_a_changed_stream_is_refused_before_it_runs() -> None:
    payload = bytearray(cucumber.serialize([1, 2, 3]))
    payload[-3] ^= 0x10
    with pytest.raises(DeserializationError, match="checksum does not match"):
        cucumber.deserialize(bytes(payload))


def test_large_buffers_are_listed_and_not_checksummed() -> None:
    big = bytes(range(256)) * 1024  # 256 KiB: written outside the pickler's frames
    payload = bytearray(cucumber.serialize({"big": big, "text": "r" * 100_000}))
    assert int.from_bytes(payload[17:21], "little") == 2
    assert cucumber.deserialize(bytes(payload)) == {"big": big, "text": "r" * 100_000}
    # A flipped bit inside a large buffer changes that value only (documented: data is not checksummed).
    at = bytes(payload).find(big[:64]) + 1000
    payload[at] ^= 1
    changed = cucumber.deserialize(bytes(payload))["big"]
    assert changed != big
    assert len(changed) == len(big)


def test_format_2_has_no_frames_and_loads_with_the_same_result() -> None:
    obj = {i: str(i) for i in range(30_000)}  # pickle.dumps writes several frames for this
    assert any(op.name == "FRAME" for op, _, _ in pickletools.genops(pickle.dumps(obj, protocol=5)))
    payload = cucumber.serialize(obj)
    stream = stream_of(payload)
    assert not any(op.name == "FRAME" for op, _, _ in pickletools.genops(stream))
    assert pickle.loads(stream) == obj
    assert cucumber.deserialize(payload) == obj


@pytest.mark.parametrize(
    "obj",
    [
        {i: i * 7 for i in range(10_000)},
        [f"error {i}: for every record" for i in range(3_000)],
        [os.urandom(n) for n in (3, 70, 300, 70_000)],
        [bytearray(os.urandom(n)) for n in (3, 300, 70_000)],
        {
            "r": b"r\xff\xff\xff\xff",
            "p": "p1234567890\n",
            "B": b"B\xff\xff\xff\xff",
            "frame": b"\x95" * 9,
        },
    ],
    ids=["ints", "text", "random-bytes", "random-bytearrays", "opcode-lookalikes"],
)
@pytest.mark.usefixtures("format2_loader")
def test_data_that_looks_like_dangerous_opcodes_round_trips(obj: object) -> None:
    payload = cucumber.serialize(obj)
    assert cucumber.deserialize(payload) == obj
    assert cucumber.deserialize(payload, debug=True) == obj
    assert cucumber.deserialize(bytearray(payload)) == obj
    assert cucumber.deserialize(memoryview(payload)) == obj


def test_format_1_payloads_still_load() -> None:
    obj = {"a": [1, 2, 3], "b": "x" * 70_000, "c": bytearray(b"\x00" * 10)}
    old = format1(pickle.dumps(obj, protocol=5))  # what cucumber 0.1/0.2 wrote for plain data
    assert cucumber.deserialize(old) == obj
    assert cucumber.deserialize(old, debug=True) == obj


def test_format_1_refuses_memo_opcodes_cucumber_never_wrote() -> None:
    with pytest.raises(DeserializationError, match="cucumber never writes"):
        cucumber.deserialize(format1(b"\x80\x05Nq\x01."))


@pytest.mark.usefixtures("format2_loader")
def test_a_frame_in_a_format_2_stream_is_refused() -> None:
    body = b"C\x05r\xff\xff\xff\xff."  # SHORT_BINBYTES whose data looks like a memo store
    stream = b"\x80\x05\x95" + struct.pack("<Q", len(body)) + body
    with pytest.raises(DeserializationError, match="FRAME opcode at byte 23"):
        cucumber.deserialize(format2(stream))


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_a_memo_store_is_refused_whatever_holds_the_payload(kind: type) -> None:
    payload = format2(b"\x80\x05]r\x00\x00\x00\x40.")  # an empty list stored at memo index 2**30
    with pytest.raises(DeserializationError, match="LONG_BINPUT opcode at byte 24"):
        cucumber.deserialize(kind(payload))


def test_an_unknown_future_version_names_the_fix() -> None:
    with pytest.raises(DeserializationError, match="unsupported cucumber format version 3"):
        cucumber.deserialize(b"CUKE\x03" + bytes(30))
