"""Seed 001, section ``Exceptions``: the hierarchy, one error per section, and their properties."""

from __future__ import annotations

import time

import pytest

from suitkaise.processing import (
    ErrorHandlerError,
    OnFinishError,
    PostRunError,
    PreRunError,
    ProcessError,
    ProcessTimeoutError,
    ResultError,
    ResultTimeoutError,
    RunError,
    Skprocess,
)

pytestmark = pytest.mark.timeout(120)


def test_importing_everything_the_how_to_lists() -> None:
    from suitkaise import processing
    from suitkaise.processing import (  # noqa: F401
        ErrorHandlerError,
        OnFinishError,
        Pipe,
        Pool,
        PostRunError,
        PreRunError,
        ProcessError,
        ProcessTimeoutError,
        ProcessTimers,
        ResultError,
        ResultTimeoutError,
        RunError,
        Share,
        Skprocess,
        autoreconnect,
    )

    assert processing.Pool is Pool


@pytest.mark.parametrize(
    "cls",
    [
        PreRunError,
        RunError,
        PostRunError,
        OnFinishError,
        ResultError,
        ErrorHandlerError,
        ProcessTimeoutError,
        ResultTimeoutError,
    ],
)
def test_all_exceptions_inherit_from_process_error(cls: type[Exception]) -> None:
    assert issubclass(cls, ProcessError)


class FailIn(Skprocess):
    """Raises ``KeyError(section)`` in the given section on run 1 (or at the end for the last ones)."""

    def __init__(self, section: str) -> None:
        self.section = section
        self.process_config.runs = 3

    def _maybe_fail(self, section: str) -> None:
        if section == self.section and (
            section in ("onfinish", "result", "error") or self.current_run == 1
        ):
            raise KeyError(section)

    def __prerun__(self) -> None:
        self._maybe_fail("prerun")

    def __run__(self) -> None:
        if self.section == "error" and self.current_run == 1:
            raise LookupError("go to __error__")
        self._maybe_fail("run")

    def __postrun__(self) -> None:
        self._maybe_fail("postrun")

    def __onfinish__(self) -> None:
        self._maybe_fail("onfinish")

    def __result__(self) -> str:
        self._maybe_fail("result")
        return "ok"

    def __error__(self) -> object:
        self._maybe_fail("error")
        return self.error


@pytest.mark.parametrize(
    ("section", "error_type", "run"),
    [
        ("prerun", PreRunError, 1),
        ("run", RunError, 1),
        ("postrun", PostRunError, 1),
        ("onfinish", OnFinishError, 3),
        ("result", ResultError, 3),
        ("error", ErrorHandlerError, 1),
    ],
)
def test_each_section_raises_its_error_with_properties(
    section: str, error_type: type[ProcessError], run: int
) -> None:
    process = FailIn(section)
    process.start()
    try:
        result = process.result()
    except ProcessError as e:
        print(f"Process failed: {e}")
        err = e
    else:
        pytest.fail(f"no error, result {result!r}")
    assert type(err) is error_type
    assert err.current_run == run
    assert isinstance(err.original_error, KeyError)
    assert err.original_error.args == (section,)


class Stuck(Skprocess):
    def __init__(self) -> None:
        self.process_config.runs = 3
        self.process_config.timeouts.run = 1.0

    def __run__(self) -> None:
        if self.current_run == 2:
            time.sleep(600)


def test_process_timeout_error_properties(capsys: pytest.CaptureFixture[str]) -> None:
    process = Stuck()
    process.start()
    try:
        process.result()
    except ProcessTimeoutError as e:
        print(f"Timeout in {e.section} after {e.timeout}s on run {e.current_run}")
    assert capsys.readouterr().out == "Timeout in __run__ after 1.0s on run 2\n"


class Slow(Skprocess):
    def __init__(self) -> None:
        self.process_config.runs = None

    def __run__(self) -> None:
        time.sleep(0.01)


def test_result_timeout_error(capsys: pytest.CaptureFixture[str]) -> None:
    process = Slow()
    process.start()
    try:
        try:
            process.result.timeout(1.0)()
        except ResultTimeoutError:
            print("Timed out waiting for result")
        assert capsys.readouterr().out == "Timed out waiting for result\n"
        with pytest.raises(ResultTimeoutError):
            process.wait.timeout(0.5)()
        with pytest.raises(ResultTimeoutError):
            process.listen.timeout(0.5)()
    finally:
        process.stop()
        assert process.wait(timeout=60)
