"""``.timeout()`` never raises inside a finalizer, a ``__del__`` or library code.

The limit is enforced by waiting: the call runs in a worker thread and the caller raises the timeout
error itself when the wait ends. Nothing is ever injected into a running thread, so a finalizer that
runs while the limit passes (in the worker or in the caller) finishes normally. These tests put a
finalizer-heavy workload under short timeouts many times and check both halves of that promise.

Each workload runs in a fresh interpreter: its full collections then meet only its own garbage (in
the test session they would also run the leftover finalizers of every earlier test).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROUNDS = 40

_SCRIPT = """
import asyncio
import gc
import json
import sys
import threading

from sk_modifiers import FunctionTimeoutError, blocking, sk

ROUNDS = {rounds}
MODE = {mode!r}
UNRAISABLE = []
sys.unraisablehook = lambda info: UNRAISABLE.append(repr(info.exc_value))


class Finalized:
    lock = threading.Lock()
    count = 0

    def __init__(self):
        self.me = self  # only the cycle collector frees it
        self.payload = bytearray(256)

    def __del__(self):
        with Finalized.lock:
            Finalized.count += 1


def churn(objects):
    for _ in range(objects):
        Finalized()
    gc.collect()


gate = threading.Event()
finished = threading.Semaphore(0)


@sk
@blocking  # waits on a gate: .asynced() runs it in a thread
def busy_with_finalizers():
    try:
        for _ in range(20):
            churn(50)
        gate.wait(60)
        return "late"
    finally:
        finished.release()


errors = []
if MODE == "sync":
    for _ in range(ROUNDS):
        try:
            busy_with_finalizers.timeout(0.005)()
        except FunctionTimeoutError as exc:
            errors.append([type(exc).__name__, isinstance(exc, TimeoutError)])
        churn(50)  # the caller collects cycles too, right after its wait ended
else:
    async def main():
        for _ in range(ROUNDS):
            try:
                await busy_with_finalizers.asynced().timeout(0.005)()
            except FunctionTimeoutError as exc:
                errors.append([type(exc).__name__, isinstance(exc, TimeoutError)])
            churn(50)

    asyncio.run(main())
gate.set()
released = all(finished.acquire(timeout=60) for _ in range(ROUNDS))
gc.collect()
print(json.dumps(
    {{"errors": errors, "released": released, "finalized": Finalized.count, "unraisable": UNRAISABLE}}
))
"""


def _run(tmp_path: Path, mode: str) -> dict[str, Any]:
    script = tmp_path / f"finalizers_{mode}.py"
    script.write_text(_SCRIPT.format(rounds=ROUNDS, mode=mode))
    done = subprocess.run(
        [sys.executable, "-X", "faulthandler", str(script)],
        capture_output=True,
        text=True,
        timeout=100,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "Exception ignored" not in done.stderr, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report


@pytest.mark.timeout(120)
@pytest.mark.parametrize("mode", ["sync", "asynced"])
def test_timeouts_during_finalizer_work_never_raise_inside_a_finalizer(
    tmp_path: Path, mode: str
) -> None:
    report = _run(tmp_path, mode)
    # every call timed out with the modifier's error, which is a TimeoutError
    assert report["errors"] == [["FunctionTimeoutError", True]] * ROUNDS
    assert report["released"] is True
    assert report["unraisable"] == []
    # every finalizer ran to its end: none was cut short by a timeout
    assert report["finalized"] == ROUNDS * (20 * 50 + 50)
