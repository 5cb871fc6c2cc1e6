"""Seed 001, section ``Skprocess``: every code block, through ``suitkaise.processing``, output checked."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import kit_examples_workers as w
import pytest

from suitkaise.processing import (
    ProcessError,
    ProcessTimeoutError,
    ResultTimeoutError,
    RunError,
    Skprocess,
)

# --- the first example ---------------------------------------------------------------------------


class MyProcess(Skprocess):
    def __init__(self) -> None:
        self.counter = 0
        self.process_config.runs = 10

    def __run__(self) -> None:
        self.counter += 1

    def __result__(self) -> int:
        return self.counter


@pytest.mark.timeout(120)
def test_first_example_result_is_10() -> None:
    process = MyProcess()
    process.start()
    process.wait()
    result = process.result()  # 10
    assert result == 10
    assert process.current_run == 10
    assert process.is_alive is False


# --- lifecycle methods: every snippet assembled into one process ---------------------------------


class Lifecycle(Skprocess):
    """``__prerun__`` fetches a batch, ``__run__`` processes it, ``__postrun__`` records, ``__onfinish__``
    cleans up and saves, ``__result__`` returns the documented dict."""

    def __init__(self, state_file: str) -> None:
        self.state_file = state_file
        self.counter = 0
        self.results: list[int] = []
        self.batch_result: int | None = None
        self.data: list[int] = []
        self.resources_open = True
        self.process_config.runs = 4

    def __prerun__(self) -> None:
        self.data = w.fetch_next_batch(self.current_run)

    def __run__(self) -> None:
        self.batch_result = 0
        for item in self.data:
            self.batch_result += w.process(item)
        self.counter += 1

    def __postrun__(self) -> None:
        assert self.batch_result is not None
        self.results.append(self.batch_result)
        self.batch_result = None

    def cleanup_resources(self) -> None:
        self.resources_open = False

    def save_final_state(self) -> None:
        Path(self.state_file).write_text(f"{self.counter} {self.resources_open}")

    def __onfinish__(self) -> None:
        self.cleanup_resources()
        self.save_final_state()

    def __result__(self) -> dict[str, Any]:
        return {"count": self.counter, "results": self.results, "status": "completed"}


@pytest.mark.timeout(120)
def test_lifecycle_methods_run_in_order_each_iteration(tmp_path: Path) -> None:
    state = tmp_path / "state.txt"
    process = Lifecycle(str(state))
    result = process.run()
    expected = [sum(w.process(i) for i in w.fetch_next_batch(run)) for run in range(4)]
    assert result == {"count": 4, "results": expected, "status": "completed"}
    assert state.read_text() == "4 False"  # __onfinish__ ran once, after the last run


class NoResult(Skprocess):
    def __init__(self) -> None:
        self.process_config.runs = 2

    def __run__(self) -> None:
        pass


@pytest.mark.timeout(120)
def test_no_result_unless_result_is_defined() -> None:
    assert NoResult().run() is None


class Failing(Skprocess):
    def __init__(self, handle: bool, log_file: str = "") -> None:
        self.handle = handle
        self.log_file = log_file
        self.process_config.runs = 3

    def __run__(self) -> None:
        if self.current_run == 1:
            raise ValueError("bad item on run 1")

    def __error__(self) -> Any:
        if not self.handle:
            return self.error  # the default behaviour, written out
        Path(self.log_file).write_text(repr(self.error))  # log_error(self.error)
        return {"status": "failed", "error": str(self.error)}


@pytest.mark.timeout(120)
def test_error_handler_return_value_is_the_result(tmp_path: Path) -> None:
    log = tmp_path / "errors.log"
    process = Failing(handle=True, log_file=str(log))
    result = process.run()
    assert result["status"] == "failed"
    assert "bad item on run 1" in result["error"]
    assert "bad item on run 1" in log.read_text()


class DefaultError(Skprocess):
    def __init__(self) -> None:
        self.process_config.runs = 3

    def __run__(self) -> None:
        if self.current_run == 1:
            raise ValueError("bad item on run 1")


@pytest.mark.timeout(120)
@pytest.mark.parametrize("cls", [DefaultError, Failing], ids=["no __error__", "returns self.error"])
def test_default_error_is_raised_by_result(cls: type[Skprocess]) -> None:
    process = DefaultError() if cls is DefaultError else Failing(handle=False)
    process.start()
    assert process.wait(timeout=60) is True
    with pytest.raises(ProcessError) as info:
        process.result()
    assert isinstance(info.value, RunError)
    assert isinstance(info.value.original_error, ValueError)
    assert info.value.current_run == 1


# --- process_config --------------------------------------------------------------------------------


class Hundred(Skprocess):
    def __init__(self) -> None:
        # run 100 iterations, then stop
        self.process_config.runs = 100
        self.n = 0

    def __run__(self) -> None:
        self.n += 1

    def __result__(self) -> int:
        return self.n


@pytest.mark.timeout(120)
def test_runs_100() -> None:
    assert Hundred().run() == 100


class JoinIn(Skprocess):
    def __init__(self, join_in: float) -> None:
        self.process_config.runs = None  # indefinitely...
        self.process_config.join_in = join_in  # ... but stop after join_in seconds
        self.n = 0

    def __run__(self) -> None:
        self.n += 1

    def __result__(self) -> int:
        return self.n


@pytest.mark.timeout(120)
def test_join_in_stops_an_endless_process() -> None:
    cfg = JoinIn(60.0).process_config
    assert cfg.join_in == 60.0
    process = JoinIn(0.5)
    process.start()
    assert process.wait(timeout=90) is True  # stopped on its own
    assert process.result() >= 1


class Flaky(Skprocess):
    """Crashes on run 1 for the first ``crashes`` attempts (counted in a file: the state is restored)."""

    def __init__(self, lives: int, crashes: int, attempts_file: str) -> None:
        # retry up to 2 times (3 total attempts)
        self.process_config.lives = lives
        self.process_config.runs = 3
        self.crashes = crashes
        self.attempts_file = attempts_file
        self.done: list[int] = []

    def __run__(self) -> None:
        if self.current_run == 1:
            path = Path(self.attempts_file)
            attempts = int(path.read_text()) if path.exists() else 0
            path.write_text(str(attempts + 1))
            if attempts < self.crashes:
                raise RuntimeError(f"crash {attempts + 1}")
        self.done.append(self.current_run)

    def __result__(self) -> list[int]:
        return self.done


@pytest.mark.timeout(180)
def test_lives_3_survives_two_crashes_and_keeps_state(tmp_path: Path) -> None:
    attempts = tmp_path / "attempts"
    process = Flaky(lives=3, crashes=2, attempts_file=str(attempts))
    assert process.run() == [0, 1, 2]  # run 0's state preserved, run 1 retried
    assert attempts.read_text() == "3"


@pytest.mark.timeout(180)
def test_lives_exhausted_fails(tmp_path: Path) -> None:
    attempts = tmp_path / "attempts"
    process = Flaky(lives=3, crashes=3, attempts_file=str(attempts))
    with pytest.raises(RunError, match="crash 3"):
        process.run()
    assert attempts.read_text() == "3"


@pytest.mark.timeout(120)
def test_lives_1_means_no_retry(tmp_path: Path) -> None:
    attempts = tmp_path / "attempts"
    with pytest.raises(RunError, match="crash 1"):
        Flaky(lives=1, crashes=1, attempts_file=str(attempts)).run()
    assert attempts.read_text() == "1"


class AllTimeouts(Skprocess):
    def __init__(self, block_run: bool = False) -> None:
        self.process_config.timeouts.prerun = 5.0
        self.process_config.timeouts.run = 30.0
        self.process_config.timeouts.postrun = 5.0
        self.process_config.timeouts.onfinish = 10.0
        self.process_config.timeouts.result = 5.0
        self.process_config.timeouts.error = 5.0
        self.process_config.runs = 2
        self.block_run = block_run

    def __run__(self) -> None:
        if self.block_run:
            import time

            time.sleep(600)

    def __result__(self) -> str:
        return "ok"


@pytest.mark.timeout(120)
def test_timeouts_settings_and_defaults() -> None:
    assert [
        getattr(NoResult().process_config.timeouts, s)
        for s in ("prerun", "run", "postrun", "onfinish", "result", "error")
    ] == [None] * 6
    process = AllTimeouts()
    t = process.process_config.timeouts
    assert (t.prerun, t.run, t.postrun, t.onfinish, t.result, t.error) == (
        5.0,
        30.0,
        5.0,
        10.0,
        5.0,
        5.0,
    )
    assert process.run() == "ok"


@pytest.mark.timeout(120)
def test_a_section_timeout_raises_process_timeout_error() -> None:
    process = AllTimeouts(block_run=True)
    process.process_config.timeouts.run = 1.0
    with pytest.raises(ProcessTimeoutError) as info:
        process.run()
    assert info.value.section == "__run__"
    assert info.value.timeout == 1.0
    assert info.value.current_run == 0


# --- control methods -------------------------------------------------------------------------------


class Endless(Skprocess):
    """Runs until stopped; says "started" on its first run."""

    def __init__(self) -> None:
        self.process_config.runs = None
        self.n = 0
        self.finished = False

    def __prerun__(self) -> None:
        if self.current_run == 0:
            self.tell("started")

    def __run__(self) -> None:
        self.n += 1

    def __onfinish__(self) -> None:
        self.finished = True

    def __result__(self) -> tuple[int, bool]:
        return self.n, self.finished


@pytest.mark.timeout(120)
def test_stop_finishes_with_onfinish_and_result() -> None:
    process = Endless()
    process.start()
    assert process.listen(timeout=60) == "started"
    assert process.is_alive is True
    process.stop()  # non-blocking
    assert process.wait(timeout=60) is True
    n, finished = process.result()
    assert n >= 1
    assert finished is True
    assert process.is_alive is False


@pytest.mark.timeout(120)
def test_kill_terminates_without_result() -> None:
    process = Endless()
    process.start()
    assert process.listen(timeout=60) == "started"
    process.kill()
    assert process.wait(timeout=60) is True
    assert process.is_alive is False
    with pytest.raises(ProcessError):  # no result after a kill
        process.result(timeout=30)


@pytest.mark.timeout(120)
def test_wait_with_timeout_returns_false_then_true() -> None:
    process = Endless()
    process.start()
    try:
        assert process.listen(timeout=60) == "started"
        finished = process.wait(timeout=0.2)  # returns False if timeout
        assert finished is False
    finally:
        process.stop()
    finished = process.wait()  # blocks until done
    assert finished is True


@pytest.mark.timeout(120)
def test_wait_asynced() -> None:
    process = MyProcess()
    process.start()

    async def main() -> bool:
        return bool(await process.wait.asynced()())

    assert asyncio.run(main()) is True
    assert process.result() == 10


@pytest.mark.timeout(120)
def test_result_modifiers() -> None:
    process = MyProcess()
    process.start()
    data = process.result()  # blocks until result ready
    assert data == 10
    # with timeout
    assert process.result.timeout(10.0)() == 10

    process = MyProcess()
    process.start()
    # background - returns Future
    future = process.result.background()()
    assert isinstance(future, Future)
    assert future.result(timeout=60) == 10

    process = MyProcess()
    process.start()

    async def main() -> int:
        return int(await process.result.asynced()())

    assert asyncio.run(main()) == 10


@pytest.mark.timeout(120)
def test_result_timeout_modifier_raises_result_timeout_error() -> None:
    process = Endless()
    process.start()
    try:
        with pytest.raises(ResultTimeoutError):
            process.result.timeout(0.5)()
    finally:
        process.stop()
        process.wait(60)


@pytest.mark.timeout(120)
def test_run_and_its_modifiers() -> None:
    assert MyProcess().run() == 10
    # with timeout
    assert MyProcess().run.timeout(30.0)() == 10
    # background - returns Future
    future = MyProcess().run.background()()
    # ... do other work ...
    assert future.result(timeout=60) == 10

    # async
    async def main() -> int:
        return int(await MyProcess().run.asynced()())

    assert asyncio.run(main()) == 10


# --- tell() and listen() ----------------------------------------------------------------------------


class Talker(Skprocess):
    """The tell/listen snippets: the parent sends commands, the child reports after each batch."""

    def __init__(self) -> None:
        self.process_config.runs = 3
        self.batch: list[int] = []
        self.config_value = 0

    def handle_command(self, command: dict[str, Any]) -> None:
        if command["command"] == "update_config":
            self.config_value = command["value"]

    def __prerun__(self) -> None:
        command = self.listen(timeout=1.0)
        if command:
            self.handle_command(command)

    def __run__(self) -> None:
        self.batch = [self.config_value] * (self.current_run + 1)

    def __postrun__(self) -> None:
        self.tell(
            {"status": "batch_complete", "count": len(self.batch), "value": self.config_value}
        )


@pytest.mark.timeout(120)
def test_tell_and_listen_both_ways() -> None:
    process = Talker()
    # from parent (queued before the start: the first prerun finds it)
    process.tell({"command": "update_config", "value": 100})
    process.start()
    messages = [process.listen(timeout=60) for _ in range(3)]
    assert messages == [
        {"status": "batch_complete", "count": 1, "value": 100},
        {"status": "batch_complete", "count": 2, "value": 100},
        {"status": "batch_complete", "count": 3, "value": 100},
    ]
    assert process.listen(timeout=0.2) is None  # returns None if timeout
    assert process.wait(timeout=60)


@pytest.mark.timeout(120)
def test_listen_modifiers() -> None:
    process = Talker()
    process.start()
    # background
    future = process.listen.background()(timeout=60.0)
    assert future.result(timeout=90)["count"] == 1

    # async
    async def main() -> Any:
        return await process.listen.asynced()()

    assert asyncio.run(main())["count"] == 2
    assert process.listen(timeout=60)["count"] == 3
    assert process.wait(timeout=60)


# --- timing -----------------------------------------------------------------------------------------


class Timed(Skprocess):
    def __init__(self) -> None:
        self.process_config.runs = 5

    def __prerun__(self) -> None:
        sum(range(1000))

    def __run__(self) -> None:
        sum(range(10000))

    def __postrun__(self) -> None:
        sum(range(1000))


@pytest.mark.timeout(120)
def test_every_lifecycle_method_is_timed() -> None:
    process = Timed()
    process.start()
    process.wait()
    # access timing data
    assert process.__run__.timer is not None
    assert process.__run__.timer.mean > 0
    assert process.__prerun__.timer is not None
    assert process.__prerun__.timer.total_time > 0
    assert process.__postrun__.timer is not None
    assert process.__postrun__.timer.percentile(95) > 0
    # aggregate timer for full iterations (prerun + run + postrun)
    assert process.process_timer is not None
    assert process.process_timer.mean > 0
    assert process.process_timer.num_times == 5
    assert process.__run__.timer.num_times == 5
    assert process.process_timer.mean >= process.__run__.timer.mean


# --- properties -------------------------------------------------------------------------------------


class RunReporter(Skprocess):
    def __init__(self) -> None:
        self.process_config.runs = 3

    def __run__(self) -> None:
        self.tell((self.current_run, self.is_alive, os.getpid()))


@pytest.mark.timeout(120)
def test_properties() -> None:
    process = RunReporter()
    assert process.is_alive is False
    assert process.current_run == 0
    assert process.error is None
    process.start()
    seen = [process.listen(timeout=60) for _ in range(3)]
    assert [s[0] for s in seen] == [0, 1, 2]  # first run is run 0
    assert all(s[1] is True for s in seen)  # is_alive inside the running process
    assert seen[0][2] != os.getpid()  # a real subprocess
    assert process.wait(timeout=60)
    assert process.is_alive is False
    assert process.current_run == 3
    assert process.timers is not None
    assert process.timers.run is not None
    assert process.timers.run.num_times == 3
    assert process.error is None


class BigReceiver(Skprocess):
    def __init__(self) -> None:
        self.process_config.runs = 1

    def __run__(self) -> None:
        data = self.listen(timeout=60)
        self.tell(len(data) if data is not None else -1)


@pytest.mark.timeout(120)
def test_tell_is_non_blocking_for_a_large_message() -> None:
    """The how-to: ``tell()`` is non-blocking, returns immediately after queuing the data."""
    import threading

    process = BigReceiver()
    process.start()
    big = b"x" * (4 * 1024 * 1024)
    sender = threading.Thread(target=process.tell, args=(big,), daemon=True)
    sender.start()
    sender.join(10)  # far longer than queuing takes
    returned = not sender.is_alive()
    assert process.listen(timeout=60) == len(big)
    assert returned, "tell() of 4 MiB blocked until the child read it"
    assert process.wait(timeout=60)
