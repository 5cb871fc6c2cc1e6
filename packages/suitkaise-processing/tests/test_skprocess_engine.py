"""The in-process lifecycle engine that Pool workers use: run_lifecycle(process, hooks=...)."""

from __future__ import annotations

from typing import Any

import pytest

from suitkaise_processing import ProcessError, RunError, Skprocess
from suitkaise_processing._private.skprocess.engine import (
    LifecycleHooks,
    run_lifecycle,
    timeout_error,
)


class Recorder(LifecycleHooks):
    def __init__(self, stop_after: int | None = None) -> None:
        self.events: list[tuple[Any, ...]] = []
        self.snapshots: list[tuple[int, int]] = []
        self.stop_after = stop_after
        self.runs_started: list[int] = []

    def enter(self, section: str, run: int, timeout: float | None) -> None:
        self.events.append(("enter", section, run, timeout))

    def leave(self, section: str, run: int) -> None:
        self.events.append(("leave", section, run))

    def should_stop(self) -> bool:
        return self.stop_after is not None and len(self.runs_started) >= self.stop_after

    def run_started(self, run: int) -> None:
        self.runs_started.append(run)

    def snapshot(self, state: bytes | memoryview, run: int, lives_left: int) -> None:
        assert len(state) > 0
        self.snapshots.append((run, lives_left))


class Item(Skprocess):
    def __init__(self, item: int) -> None:
        self.item = item
        self.process_config.runs = 1
        self.process_config.timeouts.run = 5.0

    def __run__(self) -> None:
        self.result_data = self.item * 2

    def __result__(self) -> int:
        return self.result_data


def test_runs_one_item_and_announces_sections_with_their_timeouts() -> None:
    hooks = Recorder()
    process = Item(21)
    assert run_lifecycle(process, hooks=hooks) == 42
    assert hooks.events == [
        ("enter", "prerun", 0, None),
        ("leave", "prerun", 0),
        ("enter", "run", 0, 5.0),
        ("leave", "run", 0),
        ("enter", "postrun", 0, None),
        ("leave", "postrun", 0),
        ("enter", "onfinish", 1, None),
        ("leave", "onfinish", 1),
        ("enter", "result", 1, None),
        ("leave", "result", 1),
    ]
    assert hooks.runs_started == [0]
    assert hooks.snapshots == []  # lives = 1: no restart points needed
    assert process.timers.run.num_times == 1
    assert process.current_run == 1


class FailsTwice(Skprocess):
    def __init__(self) -> None:
        self.process_config.runs = 2
        self.process_config.lives = 3
        self.attempts: list[int] = []  # kept across retries: it counts the failed attempts too
        self.lives_seen: list[int] = []

    def __run__(self) -> None:
        self.attempts.append(self._current_run)
        self.lives_seen.append(self.process_config.lives)
        if self._current_run == 1 and len(self.attempts) < 4:
            raise ValueError("not yet")

    def __result__(self) -> list[int]:
        return self.attempts


def test_lives_retry_the_failed_run_with_the_current_state() -> None:
    hooks = Recorder()
    process = FailsTwice()
    # run 1 fails twice and is tried again each time, keeping what the failed attempts changed
    assert run_lifecycle(process, hooks=hooks) == [0, 1, 1, 1]
    assert process.current_run == 2
    assert process.lives_seen == [3, 3, 2, 1]  # process_config.lives counts down (as in 0.4)
    # a restart point at the start of each run and of each retry (for a host whose process dies)
    assert hooks.snapshots == [(0, 3), (1, 3), (1, 2), (1, 1), (2, 1)]
    # the failed attempts recorded no time; the successful ones did
    assert process.timers.run.num_times == 2
    assert process.timers.full_run.num_times == 2


def test_lives_out_runs_error_with_the_current_state() -> None:
    class AlwaysFails(FailsTwice):
        def __run__(self) -> None:
            self.attempts.append(self._current_run)
            raise ValueError("never")

        def __error__(self) -> tuple[list[int], type[BaseException] | None]:
            return self.attempts, None if self.error is None else type(self.error)

    assert run_lifecycle(AlwaysFails()) == ([0, 0, 0], RunError)


class Endless(Skprocess):
    def __init__(self) -> None:
        self.n = 0

    def __run__(self) -> None:
        self.n += 1

    def __result__(self) -> int:
        return self.n


def test_should_stop_hook_ends_the_loop_gracefully() -> None:
    assert run_lifecycle(Endless(), hooks=Recorder(stop_after=5)) == 5


def test_deadline_ends_the_loop() -> None:
    import time

    assert run_lifecycle(Endless(), deadline=time.time() - 1) == 0


class Talks(Skprocess):
    def __init__(self) -> None:
        self.process_config.runs = 2

    def __run__(self) -> None:
        self.tell(self.current_run)
        assert self.listen(timeout=None) is None


def test_tell_and_listen_without_a_host() -> None:
    process = Talks()
    run_lifecycle(process)
    assert process._sk_rt.told == [0, 1]


def test_timeout_error_helper() -> None:
    err = timeout_error("run", 2.5, 3)
    assert isinstance(err, ProcessError)
    assert (err.section, err.timeout, err.current_run) == ("__run__", 2.5, 3)


class Unserializable(Skprocess):
    def __init__(self) -> None:
        self.process_config.lives = 2
        self.process_config.runs = 1
        self.gen = (i for i in range(3))
        self.frame = __import__("sys")._getframe()

    def __run__(self) -> None:
        pass


def test_lives_need_a_serializable_state_and_say_so() -> None:
    with pytest.raises(ProcessError, match="lives = 1"):
        run_lifecycle(Unserializable())
