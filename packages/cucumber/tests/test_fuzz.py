"""Bad input: random, truncated, bit-flipped and foreign bytes raise only DeserializationError.

The hypothesis cases live in fuzz_cases.py; each runs here in a child process whose address space is
capped (RLIMIT_AS), so an input that makes deserialize allocate without bound fails the test (as a
MemoryError) instead of getting the test run killed. CI runs 1000 examples per case; a soak run sets
more, e.g. ``CUCUMBER_FUZZ_EXAMPLES=50000``.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import fuzz_cases
import pytest

import cucumber
from cucumber import DeserializationError

#: The child's address space: the interpreter with hypothesis (~40 MB) plus 64 MB plus plenty of room.
MEMORY_CAP = 512 << 20
_RUN_CASE = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({cap}, {cap}))
import fuzz_cases
from cucumber._private import api
if {guarded}:  # as built without the C opcode scanner: the guarded reader loads format 2
    api._first_hazard = None
fuzz_cases.{name}()
"""


@pytest.mark.timeout(max(300, fuzz_cases.EXAMPLES // 5))
@pytest.mark.parametrize("loader", ["scanned", "guarded"])
@pytest.mark.parametrize("name", [case.__name__ for case in fuzz_cases.CASES])
def test_fuzz_case_under_a_memory_cap(name: str, loader: str) -> None:
    code = _RUN_CASE.format(cap=MEMORY_CAP, name=name, guarded=loader == "guarded")
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).parent,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        capture_output=True,
        text=True,
        timeout=max(280, fuzz_cases.EXAMPLES // 5 - 20),
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]


@pytest.mark.parametrize(
    "foreign",
    [
        pickle.dumps({"a": [1, 2, 3]}),
        pickle.dumps("x", protocol=0),
        json.dumps({"a": 1}).encode(),
        b"\x80\x05\x95",
        b"CUKE",
        b"CUKE\x01",
        b"CUKE\x02",
        b"CUKE\x03" + bytes(20),
        b"CUKE\x01" + (5).to_bytes(8, "little") + b"\x80\x05N.",  # wrong length
        b"CUKE\x01" + (3).to_bytes(8, "little") + b"\x80\x05.",  # STOP on an empty stack
        b"CUKE\x02" + (4).to_bytes(8, "little") + bytes(8) + b"\x80\x05N.",  # wrong checksum
    ],
)
def test_foreign_and_broken_inputs(foreign: bytes) -> None:
    with pytest.raises(DeserializationError):
        cucumber.deserialize(foreign)
