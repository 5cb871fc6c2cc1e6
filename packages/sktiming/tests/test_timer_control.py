"""Sktimer control: start/stop/lap/discard/pause/resume/add_time/set_max_times/reset."""

from __future__ import annotations

import math
import warnings

import pytest
from sktiming_fake_clock import FakeClock

from sktiming import Sktimer


def test_start_stop_records_the_elapsed_time(clock: FakeClock) -> None:
    timer = Sktimer()
    timer.start()
    clock.advance(0.25)
    assert timer.stop() == pytest.approx(0.25)
    assert timer.num_times == 1
    assert timer.most_recent == pytest.approx(0.25)
    assert timer.result == timer.most_recent


def test_real_clock_start_stop_is_non_negative() -> None:
    timer = Sktimer()
    timer.start()
    value = timer.stop()
    assert value >= 0.0
    assert timer.num_times == 1


@pytest.mark.parametrize("action", ["stop", "lap", "discard", "pause", "resume"])
def test_control_without_start_raises_runtime_error(action: str) -> None:
    timer = Sktimer()
    with pytest.raises(RuntimeError, match="start"):
        getattr(timer, action)()


def test_start_while_running_warns_and_nests(clock: FakeClock) -> None:
    timer = Sktimer()
    timer.start()
    clock.advance(1.0)
    with pytest.warns(UserWarning, match="nested"):
        timer.start()
    clock.advance(2.0)
    assert timer.stop() == pytest.approx(2.0)  # inner
    clock.advance(3.0)
    assert timer.stop() == pytest.approx(6.0)  # outer
    assert timer.num_times == 2
    with pytest.raises(RuntimeError):
        timer.stop()


def test_discard_stops_without_recording(clock: FakeClock) -> None:
    timer = Sktimer()
    timer.start()
    clock.advance(0.5)
    assert timer.discard() == pytest.approx(0.5)
    assert timer.num_times == 0
    assert not timer.is_running


def test_lap_records_and_keeps_running(clock: FakeClock) -> None:
    timer = Sktimer()
    timer.start()
    clock.advance(1.0)
    assert timer.lap() == pytest.approx(1.0)
    clock.advance(2.0)
    assert timer.lap() == pytest.approx(2.0)
    assert timer.is_running
    clock.advance(3.0)
    assert timer.stop() == pytest.approx(3.0)
    assert [timer.get_time(i) for i in range(3)] == pytest.approx([1.0, 2.0, 3.0])


def test_pause_and_resume_exclude_the_paused_time(clock: FakeClock) -> None:
    timer = Sktimer()
    timer.start()
    clock.advance(1.0)
    timer.pause()
    assert timer.is_paused
    clock.advance(10.0)
    timer.resume()
    assert not timer.is_paused
    clock.advance(2.0)
    assert timer.stop() == pytest.approx(3.0)
    assert timer.total_time_paused == pytest.approx(10.0)


def test_stop_while_paused_counts_until_the_pause(clock: FakeClock) -> None:
    timer = Sktimer()
    timer.start()
    clock.advance(1.0)
    timer.pause()
    clock.advance(5.0)
    assert timer.stop() == pytest.approx(1.0)
    assert timer.total_time_paused == pytest.approx(5.0)


def test_lap_while_paused_keeps_the_next_lap_paused(clock: FakeClock) -> None:
    timer = Sktimer()
    timer.start()
    clock.advance(1.0)
    timer.pause()
    clock.advance(4.0)
    assert timer.lap() == pytest.approx(1.0)
    clock.advance(3.0)  # still paused
    timer.resume()
    clock.advance(2.0)
    assert timer.stop() == pytest.approx(2.0)


def test_pause_twice_and_resume_unpaused_warn(clock: FakeClock) -> None:
    timer = Sktimer()
    timer.start()
    timer.pause()
    with pytest.warns(UserWarning, match="already paused"):
        timer.pause()
    timer.resume()
    with pytest.warns(UserWarning, match="not paused"):
        timer.resume()
    timer.stop()


def test_add_time_records_external_durations() -> None:
    timer = Sktimer()
    timer.add_time(1.5)
    timer.add_time(0)
    assert timer.num_times == 2
    assert timer.total_time == pytest.approx(1.5)


@pytest.mark.parametrize("bad", [-1.0, math.inf, math.nan])
def test_add_time_rejects_invalid_durations(bad: float) -> None:
    with pytest.raises(ValueError, match="non-negative finite"):
        Sktimer().add_time(bad)


def test_max_times_keeps_a_rolling_window() -> None:
    timer = Sktimer(max_times=3)
    for value in [1.0, 2.0, 3.0, 4.0, 5.0]:
        timer.add_time(value)
    assert timer.num_times == 3
    assert [timer.get_time(i) for i in range(3)] == [3.0, 4.0, 5.0]
    assert timer.max_times == 3
    assert timer.mean == pytest.approx(4.0)
    assert timer.fastest_index == 0


def test_set_max_times_trims_and_can_be_lifted() -> None:
    timer = Sktimer()
    for value in range(10):
        timer.add_time(float(value))
    timer.set_max_times(4)
    assert timer.num_times == 4
    assert timer.get_time(0) == 6.0
    timer.set_max_times(None)
    for value in range(10):
        timer.add_time(float(value))
    assert timer.num_times == 14


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "3"])
def test_invalid_max_times_raise_value_error(bad: object) -> None:
    with pytest.raises(ValueError, match="max_times"):
        Sktimer(max_times=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_times"):
        Sktimer().set_max_times(bad)  # type: ignore[arg-type]


def test_reset_forgets_samples_and_running_measurements(clock: FakeClock) -> None:
    timer = Sktimer(max_times=5)
    timer.add_time(1.0)
    timer.start()
    timer.reset()
    assert timer.num_times == 0
    assert timer.mean is None
    assert not timer.is_running
    assert timer.max_times == 5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        timer.start()  # not nested: reset cleared the running frame
    timer.stop()


def test_merge_adds_the_other_timers_samples() -> None:
    a, b = Sktimer(), Sktimer()
    a.add_time(1.0)
    b.add_time(2.0)
    b.add_time(3.0)
    assert a.merge(b) is a
    assert a.num_times == 3
    assert a.total_time == pytest.approx(6.0)
    assert b.num_times == 2  # unchanged
    a.merge(a)
    assert a.num_times == 6


def test_merge_respects_the_rolling_window() -> None:
    a, b = Sktimer(max_times=2), Sktimer()
    for value in (1.0, 2.0, 3.0):
        b.add_time(value)
    a.merge(b)
    assert [a.get_time(0), a.get_time(1)] == [2.0, 3.0]


def test_merge_rejects_other_types() -> None:
    with pytest.raises(TypeError, match="Sktimer"):
        Sktimer().merge([1.0])  # type: ignore[arg-type]
