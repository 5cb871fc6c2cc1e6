"""Skprocess: the how-to's lifecycle, config, control and timing examples, run for real."""

from __future__ import annotations

from typing import Any

import pytest

from suitkaise_processing import (
    ErrorHandlerError,
    OnFinishError,
    PostRunError,
    PreRunError,
    ProcessError,
    ProcessTimers,
    ResultError,
    RunError,
    Skprocess,
)

# --- the how-to's first example ------------------------------------------------------------------


class MyProcess(Skprocess):
    def __init__(self) -> None:
        self.counter = 0
        self.process_config.runs = 10

    def __run__(self) -> None:
        self.counter += 1

    def __result__(self) -> int:
        return self.counter


@pytest.mark.timeout(60)
def test_howto_first_example() -> None:
    process = MyProcess()
    process.start()
    process.wait()
    result = process.result()
    assert result == 10
    assert process.is_alive is False


@pytest.mark.timeout(60)
def test_run_is_start_wait_result() -> None:
    assert MyProcess().run() == 10


@pytest.mark.timeout(60)
def test_parent_object_sees_final_state_and_current_run() -> None:
    process = MyProcess()
    assert process.current_run == 0
    process.run()
    assert process.counter == 10
    assert process.current_run == 10


# --- lifecycle methods ---------------------------------------------------------------------------


def next_batch(run: int) -> list[int]:
    return [run * 10 + i for i in range(3)]


class Batches(Skprocess):
    """__prerun__/__run__/__postrun__/__onfinish__/__result__ examples of the how-to, with real helpers."""

    def __init__(self) -> None:
        self.process_config.runs = 4
        self.data: list[int] = []
        self.results: list[int] = []
        self.batch_result: int | None = None
        self.counter = 0
        self.calls: list[str] = []
        self.saved = False

    def __prerun__(self) -> None:
        self.calls.append(f"prerun{self.current_run}")
        self.data = next_batch(self.current_run)

    def __run__(self) -> None:
        self.calls.append(f"run{self.current_run}")
        total = 0
        for item in self.data:
            total += item
        self.batch_result = total
        self.counter += 1

    def __postrun__(self) -> None:
        self.calls.append(f"postrun{self.current_run}")
        assert self.batch_result is not None
        self.results.append(self.batch_result)
        self.batch_result = None

    def __onfinish__(self) -> None:
        self.calls.append("onfinish")
        self.saved = True

    def __result__(self) -> dict[str, Any]:
        self.calls.append("result")
        return {
            "count": self.counter,
            "results": self.results,
            "status": "completed",
            "calls": self.calls,
        }


@pytest.mark.timeout(60)
def test_lifecycle_order_and_result_dict() -> None:
    out = Batches().run()
    assert out["count"] == 4
    assert out["status"] == "completed"
    assert out["results"] == [sum(next_batch(r)) for r in range(4)]
    expected = [f"{s}{r}" for r in range(4) for s in ("prerun", "run", "postrun")] + [
        "onfinish",
        "result",
    ]
    assert out["calls"] == expected


class NoResult(Skprocess):
    def __init__(self) -> None:
        self.process_config.runs = 2

    def __run__(self) -> None:
        pass


@pytest.mark.timeout(60)
def test_without_result_method_result_is_none() -> None:
    assert NoResult().run() is None


class ZeroRuns(Skprocess):
    def __init__(self) -> None:
        self.process_config.runs = 0
        self.ran = False

    def __run__(self) -> None:
        self.ran = True

    def __result__(self) -> bool:
        return self.ran


@pytest.mark.timeout(60)
def test_zero_runs_still_finishes() -> None:
    assert ZeroRuns().run() is False


# --- errors --------------------------------------------------------------------------------------


class Fails(Skprocess):
    def __init__(self, section: str, on_run: int = 1) -> None:
        self.section = section
        self.on_run = on_run
        self.process_config.runs = 3

    def _maybe_fail(self, section: str) -> None:
        if section == self.section and (
            section in ("onfinish", "result") or self.current_run == self.on_run
        ):
            raise ValueError(f"boom in {section}")

    def __prerun__(self) -> None:
        self._maybe_fail("prerun")

    def __run__(self) -> None:
        self._maybe_fail("run")

    def __postrun__(self) -> None:
        self._maybe_fail("postrun")

    def __onfinish__(self) -> None:
        self._maybe_fail("onfinish")

    def __result__(self) -> str:
        self._maybe_fail("result")
        return "ok"


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("section", "error_class", "run"),
    [
        ("prerun", PreRunError, 1),
        ("run", RunError, 1),
        ("postrun", PostRunError, 1),
        ("onfinish", OnFinishError, 3),
        ("result", ResultError, 3),
    ],
)
def test_each_section_raises_its_error_class(
    section: str, error_class: type[ProcessError], run: int
) -> None:
    process = Fails(section)
    process.start()
    assert process.wait() is True
    with pytest.raises(error_class) as info:
        process.result()
    err = info.value
    assert isinstance(err, ProcessError)
    assert err.current_run == run
    assert isinstance(err.original_error, ValueError)
    assert str(err.original_error) == f"boom in {section}"
    assert err.remote_traceback is not None
    assert f"boom in {section}" in err.remote_traceback
    assert "_maybe_fail" in err.remote_traceback
    assert "Traceback in the child process" in str(err)
    assert process.error is not None


class HandlesError(Skprocess):
    def __init__(self) -> None:
        self.process_config.runs = 5

    def __run__(self) -> None:
        if self.current_run == 2:
            raise KeyError("missing")

    def __error__(self) -> dict[str, Any]:
        return {"status": "failed", "error": str(self.error), "kind": type(self.error).__name__}


@pytest.mark.timeout(60)
def test_error_handler_return_value_is_the_result() -> None:
    out = HandlesError().run()
    assert out["status"] == "failed"
    assert out["kind"] == "RunError"
    assert "missing" in out["error"]


class ErrorHandlerRaises(Skprocess):
    def __run__(self) -> None:
        raise ValueError("first")

    def __error__(self) -> None:
        raise RuntimeError("handler broke")


@pytest.mark.timeout(60)
def test_error_handler_that_raises_gives_error_handler_error() -> None:
    with pytest.raises(ErrorHandlerError) as info:
        ErrorHandlerRaises().run()
    assert isinstance(info.value.original_error, RuntimeError)


class ReturnsException(Skprocess):
    def __run__(self) -> None:
        raise ValueError("bad input")

    def __error__(self) -> BaseException:
        return LookupError(f"wrapped: {self.error.original_error}")  # type: ignore[union-attr]


@pytest.mark.timeout(60)
def test_error_handler_returning_an_exception_raises_it() -> None:
    with pytest.raises(LookupError, match="wrapped: bad input"):
        ReturnsException().run()


# --- lives ---------------------------------------------------------------------------------------


class Flaky(Skprocess):
    """Fails on run 2 the first two times it gets there, counting its tries in its own state (the 0.4
    and seed 001 promise: the current state is kept and the process goes on from where it was)."""

    def __init__(self, lives: int) -> None:
        self.process_config.runs = 4
        self.process_config.lives = lives
        self.counter = 0
        self.tries = 0

    def __prerun__(self) -> None:
        self.counter += 1

    def __run__(self) -> None:
        if self._current_run == 2 and self.tries < 2:
            self.tries += 1
            self.counter += 100  # kept: a retry does not undo what the failed attempt did
            raise ConnectionError("flaky")

    def __result__(self) -> tuple[int, int, int]:
        return self.counter, self.tries, self._current_run


@pytest.mark.timeout(60)
def test_exception_costs_a_life_and_the_run_is_retried_with_the_current_state() -> None:
    # runs 0-3 each once (4 prereruns), run 2 twice more (2 prereruns, 2 x 100 kept)
    assert Flaky(lives=3).run() == (206, 2, 4)


@pytest.mark.timeout(60)
def test_exception_with_too_few_lives_fails() -> None:
    process = Flaky(lives=2)
    with pytest.raises(RunError) as info:
        process.run()
    assert info.value.current_run == 2
    assert process.current_run == 2


# --- config validation ---------------------------------------------------------------------------


class Configured(Skprocess):
    def __run__(self) -> None:
        pass


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("runs", -1),
        ("lives", 0),
        ("lives", -3),
        ("join_in", -1.0),
        ("timeouts.prerun", -1.0),
        ("timeouts.run", -0.5),
        ("timeouts.postrun", -2),
        ("timeouts.onfinish", -1),
        ("timeouts.result", -1),
        ("timeouts.error", -1),
    ],
)
def test_invalid_config_raises_value_error_naming_the_field(field: str, value: Any) -> None:
    config = Configured().process_config
    target: Any = config.timeouts if field.startswith("timeouts.") else config
    name = field.split(".")[-1]
    with pytest.raises(ValueError, match=field.replace(".", r"\.")):
        setattr(target, name, value)


def test_config_defaults_and_valid_values() -> None:
    config = Configured().process_config
    assert (config.runs, config.join_in, config.lives) == (None, None, 1)
    assert config.timeouts.run is None
    config.runs = 100
    config.join_in = 60.0
    config.lives = 3
    config.timeouts.prerun = 5.0
    config.timeouts.run = 30
    assert (config.runs, config.join_in, config.lives, config.timeouts.run) == (100, 60.0, 3, 30.0)
    with pytest.raises(TypeError):
        config.runs = 1.5  # type: ignore[assignment]


# --- join_in, stop, kill -------------------------------------------------------------------------


class Forever(Skprocess):
    def __init__(self, join_in: float | None = None) -> None:
        self.process_config.join_in = join_in
        self.count = 0
        self.finished = False

    def __run__(self) -> None:
        self.count += 1

    def __postrun__(self) -> None:
        if self.count == 1:
            self.tell("running")  # one run is complete

    def __onfinish__(self) -> None:
        self.finished = True

    def __result__(self) -> tuple[int, bool]:
        return self.count, self.finished


@pytest.mark.timeout(60)
def test_join_in_stops_an_endless_process() -> None:
    count, finished = Forever(join_in=1.0).run()
    assert count > 0
    assert finished is True


@pytest.mark.timeout(60)
def test_stop_finishes_gracefully_with_onfinish_and_result() -> None:
    process = Forever()
    process.start()
    assert process.listen(timeout=30) == "running"
    assert process.is_alive is True
    process.stop()
    assert process.wait(timeout=30) is True
    count, finished = process.result()
    assert count > 0
    assert finished is True
    assert process.is_alive is False


@pytest.mark.timeout(60)
def test_kill_terminates_without_result() -> None:
    process = Forever()
    process.start()
    assert process.listen(timeout=30) == "running"
    process.kill()
    assert process.is_alive is False
    assert process.wait(timeout=10) is True
    with pytest.raises(ProcessError, match="killed"):
        process.result()


@pytest.mark.timeout(60)
def test_wait_timeout_returns_false_then_true() -> None:
    process = Forever()
    process.start()
    assert process.wait(timeout=0.05) is False
    process.stop()
    assert process.wait(timeout=30) is True


def test_control_before_start() -> None:
    process = Forever()
    assert process.is_alive is False
    with pytest.raises(ProcessError, match="start"):
        process.wait()
    process.stop()  # no-op
    process.kill()  # no-op


@pytest.mark.timeout(60)
def test_start_twice_is_an_error() -> None:
    process = MyProcess()
    process.start()
    try:
        with pytest.raises(ProcessError, match="already started"):
            process.start()
    finally:
        process.wait()


# --- timing --------------------------------------------------------------------------------------


class Timed(Skprocess):
    def __init__(self) -> None:
        self.process_config.runs = 5

    def __prerun__(self) -> None:
        sum(range(1000))

    def __run__(self) -> None:
        sum(range(10000))

    def __postrun__(self) -> None:
        pass

    def __result__(self) -> str:
        return "done"


@pytest.mark.timeout(60)
def test_timers_are_visible_in_the_parent_after_wait() -> None:
    process = Timed()
    process.start()
    process.wait()
    assert process.__run__.timer is not None
    assert process.__run__.timer.num_times == 5
    assert process.__run__.timer.mean is not None
    assert process.__run__.timer.mean > 0
    assert process.__prerun__.timer.total_time is not None
    assert process.__postrun__.timer.percentile(95) is not None
    assert process.process_timer.num_times == 5
    timers = process.timers
    assert isinstance(timers, ProcessTimers)
    assert timers.run.mean == process.__run__.timer.mean
    assert timers.prerun.total_time is not None
    assert timers.full_run.percentile(95) is not None
    assert timers.full_run.num_times == 5
    assert timers.onfinish.num_times == 1
    assert timers.result.num_times == 1
    assert timers.error.num_times == 0
    # the full run includes its three sections
    assert timers.full_run.total_time >= timers.run.total_time


def test_section_methods_are_still_plain_methods() -> None:
    process = Timed()
    assert process.__result__() == "done"
    assert Timed.__result__(process) == "done"
