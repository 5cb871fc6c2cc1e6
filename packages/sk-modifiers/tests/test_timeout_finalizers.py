"""``.timeout()`` never raises inside a finalizer, a ``__del__`` or library code.

The limit is enforced by waiting: the call runs in a worker thread and the caller raises the timeout
error itself when the wait ends. Nothing is ever injected into a running thread, so a finalizer that
runs while the limit passes (in the worker or in the caller) finishes normally. These tests put a
finalizer-heavy workload under short timeouts many times and check both halves of that promise.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from sk_modifiers import FunctionTimeoutError, blocking, sk

ROUNDS = 40


class Finalized:
    """A self-referencing object (only the cycle collector frees it) whose ``__del__`` counts."""

    lock = threading.Lock()
    count = 0

    def __init__(self) -> None:
        self.me = self
        self.payload = bytearray(256)

    def __del__(self) -> None:
        with Finalized.lock:
            Finalized.count += 1


def _churn(objects: int) -> None:
    for _ in range(objects):
        Finalized()
    gc.collect()


@pytest.fixture
def unraisable() -> Iterator[list[Any]]:
    """Every unraisable exception (an exception in a finalizer, a ``__del__``, a GC callback)."""
    seen: list[Any] = []
    previous = sys.unraisablehook
    sys.unraisablehook = seen.append
    try:
        yield seen
    finally:
        sys.unraisablehook = previous


@pytest.mark.timeout(120)
def test_timeouts_during_finalizer_work_never_raise_inside_a_finalizer(
    unraisable: list[Any],
) -> None:
    gate = threading.Event()
    finished = threading.Semaphore(0)

    @sk
    def busy_with_finalizers() -> str:
        try:
            for _ in range(20):
                _churn(50)
            gate.wait(60)
            return "late"
        finally:
            finished.release()

    Finalized.count = 0
    for _ in range(ROUNDS):
        with pytest.raises(FunctionTimeoutError) as info:
            busy_with_finalizers.timeout(0.005)()  # type: ignore[attr-defined]
        assert isinstance(info.value, TimeoutError)
        _churn(50)  # the caller collects cycles too, right after its wait ended
    gate.set()
    for _ in range(ROUNDS):
        assert finished.acquire(timeout=60)
    gc.collect()
    assert unraisable == []
    # every finalizer ran to its end: none was cut short by a timeout
    assert Finalized.count == ROUNDS * (20 * 50 + 50)


@pytest.mark.timeout(120)
def test_asynced_timeouts_during_finalizer_work_never_raise_inside_a_finalizer(
    unraisable: list[Any],
) -> None:
    gate = threading.Event()
    finished = threading.Semaphore(0)

    @sk
    @blocking  # waits on a gate: .asynced() runs it in a thread
    def busy_with_finalizers() -> str:
        try:
            for _ in range(10):
                _churn(50)
            gate.wait(60)
            return "late"
        finally:
            finished.release()

    async def main() -> int:
        timeouts = 0
        for _ in range(ROUNDS // 2):
            try:
                await busy_with_finalizers.asynced().timeout(0.005)()  # type: ignore[attr-defined]
            except FunctionTimeoutError:
                timeouts += 1
            _churn(50)
        return timeouts

    Finalized.count = 0
    assert asyncio.run(main()) == ROUNDS // 2
    gate.set()
    for _ in range(ROUNDS // 2):
        assert finished.acquire(timeout=60)
    gc.collect()
    assert unraisable == []
    assert Finalized.count == (ROUNDS // 2) * (10 * 50 + 50)
