"""Skprocess wait/result/run/listen with .timeout(), .background(), .asynced() (the how-to's examples)."""

from __future__ import annotations

import asyncio
from concurrent.futures import Future

import pytest

from suitkaise_processing import ResultTimeoutError, Skprocess


class Quick(Skprocess):
    def __init__(self) -> None:
        self.process_config.runs = 3
        self.n = 0

    def __run__(self) -> None:
        self.n += 1

    def __postrun__(self) -> None:
        self.tell(self.n)

    def __result__(self) -> int:
        return self.n


class WaitsForGo(Skprocess):
    def __init__(self) -> None:
        self.process_config.runs = 1

    def __run__(self) -> None:
        assert self.listen(timeout=60) == "go"

    def __result__(self) -> str:
        return "went"


@pytest.mark.timeout(60)
def test_result_timeout_background_asynced() -> None:
    process = Quick()
    process.start()
    data = process.result.timeout(30.0)()
    assert data == 3
    future = process.result.background()()
    assert isinstance(future, Future)
    assert future.result(timeout=30) == 3
    assert asyncio.run(process.result.asynced()()) == 3


@pytest.mark.timeout(60)
def test_run_modifiers() -> None:
    assert Quick().run.timeout(30.0)() == 3
    future = Quick().run.background()()
    # ... do other work ...
    assert future.result(timeout=30) == 3
    assert asyncio.run(Quick().run.asynced()()) == 3


@pytest.mark.timeout(60)
def test_wait_asynced_and_listen_background_and_asynced() -> None:
    process = Quick()
    process.start()
    future = process.listen.background()(timeout=5.0)
    assert future.result(timeout=30) == 1

    async def main() -> tuple[int, bool]:
        data = await process.listen.asynced()()
        finished = await process.wait.asynced()()
        return data, finished

    assert asyncio.run(main()) == (2, True)
    assert process.listen() == 3


@pytest.mark.timeout(60)
def test_timeout_modifier_raises_result_timeout_error_and_loses_nothing() -> None:
    process = WaitsForGo()
    process.start()
    with pytest.raises(ResultTimeoutError):
        process.result.timeout(0.1)()
    with pytest.raises(ResultTimeoutError):
        process.wait.timeout(0.1)()
    with pytest.raises(ResultTimeoutError):
        process.listen.timeout(0.1)()
    assert isinstance(ResultTimeoutError("x"), TimeoutError)
    process.tell("go")
    assert process.wait(timeout=30) is True
    assert process.result.timeout(10.0)() == "went"
    with pytest.raises(ResultTimeoutError):
        process.listen.timeout(0.05)()  # finished and nothing told: still a timeout error, at once


@pytest.mark.timeout(60)
def test_result_native_timeout_argument() -> None:
    process = WaitsForGo()
    process.start()
    with pytest.raises(ResultTimeoutError):
        process.result(timeout=0.05)
    process.tell("go")
    assert process.result(timeout=30) == "went"
