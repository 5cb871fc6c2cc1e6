"""Skprocess under the cycle collector: no crash and no unraisable exception, timeouts only in user code.

Two CPython bugs sit behind the cycle collector and a ``BytesIO.getbuffer()`` export: on 3.12.0-3.12.1
collecting such an export in a reference cycle crashes the interpreter (gh-111049), and on 3.12+ it
reports an unraisable ``BufferError`` from the ``BytesIO``'s finalizer (gh-111331). Our encoder never
hands out such an export, so a parent that decodes a child's messages while the collector runs (the
Python 3.12.1 crash of the monitor thread) and a section timeout that fires while finalizers run
(the 3.13 ``Exception ignored in: <_io.BytesIO>``) both stay clean.

A section timeout is enforced by the parent, which kills the child: nothing is ever raised inside a
running thread, so it cannot land in a finalizer or in library code.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

_CYCLE_SCRIPT = """
import gc
from suitkaise_processing._private.wire import encode

def hold_in_a_cycle(message):
    data = encode(message)
    try:
        raise ValueError("a traceback keeps this frame, and the frame keeps the error: a cycle")
    except ValueError as exc:
        kept = exc

for message in ({"plain": [1, 2, 3]}, ("tell", b"x" * 100_000), list(range(1000))):
    hold_in_a_cycle(message)
    gc.collect()
print("collected")
"""


@pytest.mark.timeout(60)
def test_encoded_messages_in_a_reference_cycle_are_collected_cleanly() -> None:
    done = subprocess.run(
        [sys.executable, "-X", "faulthandler", "-c", _CYCLE_SCRIPT],
        capture_output=True,
        text=True,
        timeout=50,
    )
    assert done.returncode == 0, done.stderr  # -11 (SIGSEGV) on 3.12.1 with a buffer export
    assert done.stdout.strip() == "collected"
    assert "Exception ignored" not in done.stderr, done.stderr


# The parent runs in a fresh interpreter: its full collections then meet only this workload's garbage
# (in the test session they would also run the leftovers of every earlier test).
_TIMEOUT_SCRIPT = """
import gc
import json
import sys
import time

from suitkaise_processing import ProcessTimeoutError, Skprocess

PARENT_UNRAISABLE = []


class Finalized:
    \"\"\"A self-referencing object (only the cycle collector frees it) with a ``__del__``.\"\"\"

    count = 0

    def __init__(self):
        self.me = self
        self.payload = bytearray(256)

    def __del__(self):
        Finalized.count += 1


class FinalizerChurn(Skprocess):
    \"\"\"Runs full of finalizers and messages; run 3 blocks past its timeout while they still run.\"\"\"

    def __init__(self):
        self.process_config.timeouts.run = 1.5  # runs 0-2 take a few ms
        self.rounds = 0
        self.unraisable = []

    def _record(self, info):
        self.unraisable.append(f"{type(info.exc_value).__name__} in {info.object!r}")

    def __prerun__(self):
        sys.unraisablehook = self._record

    def __run__(self):
        for _ in range(20):
            for _ in range(50):
                Finalized()
            self.tell(("progress", self._current_run, bytes(4096)))
        gc.collect()
        self.rounds += 1
        if self._current_run == 3:
            while True:  # cut short by the timeout in the middle of finalizer work
                for _ in range(50):
                    Finalized()
                gc.collect()
                time.sleep(0.001)

    def __error__(self):
        error = self.error
        assert isinstance(error, ProcessTimeoutError)
        return [type(error).__name__, error.section, self.rounds, error.current_run, self.unraisable]


if __name__ == "__main__":
    sys.unraisablehook = lambda info: PARENT_UNRAISABLE.append(repr(info.exc_value))
    outcomes = []
    for _ in range(3):
        process = FinalizerChurn()
        process.start()
        told = 0
        while process.listen(timeout=60) is not None:  # None: finished (after __error__)
            told += 1
            gc.collect()  # the parent collects while it decodes the child's messages
        process.wait(60)
        outcomes.append([told, process.result()])
    gc.collect()
    print(json.dumps({"outcomes": outcomes, "parent_unraisable": PARENT_UNRAISABLE}))
"""


@pytest.mark.timeout(170)
def test_section_timeouts_during_finalizer_work_stay_clean(tmp_path: Path) -> None:
    script = tmp_path / "timeouts_and_finalizers.py"
    script.write_text(_TIMEOUT_SCRIPT)
    done = subprocess.run(
        [sys.executable, "-X", "faulthandler", str(script)],
        capture_output=True,
        text=True,
        timeout=160,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "Exception ignored" not in done.stderr, done.stderr
    report = json.loads(done.stdout)
    assert report["parent_unraisable"] == []
    assert len(report["outcomes"]) == 3
    for told, (kind, section, rounds, run, seen) in report["outcomes"]:
        assert (kind, section, seen) == ("ProcessTimeoutError", "__run__", [])
        # __error__ saw the state at the start of the run that timed out: run 3 (or an earlier
        # run, when the machine is so loaded that one of them took longer than its limit)
        assert rounds == run
        assert run <= 3
        assert told >= 20 * rounds
