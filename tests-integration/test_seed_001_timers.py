"""Seed 001, section ``ProcessTimers``: every lifecycle timer, through ``suitkaise.processing``."""

from __future__ import annotations

import pytest

from suitkaise.processing import ProcessTimers, Skprocess
from suitkaise.timing import Sktimer

pytestmark = pytest.mark.timeout(120)


class EverySection(Skprocess):
    def __init__(self, fail: bool = False) -> None:
        self.process_config.runs = 4
        self.fail = fail

    def __prerun__(self) -> None:
        sum(range(2000))

    def __run__(self) -> None:
        sum(range(20000))
        if self.fail and self.current_run == 2:
            raise ValueError("run 2 fails")

    def __postrun__(self) -> None:
        sum(range(2000))

    def __onfinish__(self) -> None:
        sum(range(2000))

    def __result__(self) -> str:
        return "done"

    def __error__(self) -> str:
        return "handled"


def test_process_timers_example() -> None:
    process = EverySection()
    # usually accessed via process.timers
    process.start()
    process.wait()

    timers = process.timers
    assert isinstance(timers, ProcessTimers)
    assert timers.run is not None
    assert timers.prerun is not None
    assert timers.full_run is not None
    assert timers.run.mean > 0
    assert timers.prerun.total_time > 0
    assert timers.full_run.percentile(95) > 0
    assert process.result() == "done"


def test_every_property_is_an_sktimer_with_the_right_count() -> None:
    process = EverySection()
    assert process.run() == "done"
    t = process.timers
    for name, count in [
        ("prerun", 4),
        ("run", 4),
        ("postrun", 4),
        ("full_run", 4),
        ("onfinish", 1),
        ("result", 1),
    ]:
        timer = getattr(t, name)
        assert isinstance(timer, Sktimer), name
        assert timer.num_times == count, name
    assert t.error is None or t.error.num_times == 0  # __error__ never ran
    # full iterations contain the three sections
    assert t.full_run is not None
    assert t.run is not None
    assert t.full_run.total_time >= t.run.total_time


def test_error_timer_when_the_error_handler_runs() -> None:
    process = EverySection(fail=True)
    assert process.run() == "handled"
    t = process.timers
    assert t.error is not None
    assert t.error.num_times == 1
    assert t.run is not None
    assert t.run.num_times >= 2  # runs 0 and 1 completed (the failed run may count or not)
    assert t.full_run is not None
    assert t.full_run.num_times == 2
