"""@timethis() and TimeThis."""

from __future__ import annotations

import asyncio
import functools

import pytest
from sktiming_fake_clock import FakeClock

import sktiming
from sktiming import Sktimer, TimeThis, clear_global_timers, timethis
from sktiming._private import timethis as timethis_module


def test_timethis_creates_a_timer_per_function(clock: FakeClock) -> None:
    @timethis()
    def work(seconds: float) -> str:
        clock.advance(seconds)
        return "done"

    @timethis()
    def other() -> None:
        pass

    assert work(0.5) == "done"
    work(1.5)
    assert isinstance(work.timer, Sktimer)  # type: ignore[attr-defined]
    assert work.timer.num_times == 2  # type: ignore[attr-defined]
    assert work.timer.total_time == pytest.approx(2.0)  # type: ignore[attr-defined]
    assert other.timer is not work.timer  # type: ignore[attr-defined]


def test_timethis_keeps_function_metadata() -> None:
    def original(a: int, b: int = 2) -> int:
        """Adds."""
        return a + b

    decorated = timethis()(original)
    assert decorated.__name__ == "original"
    assert decorated.__doc__ == "Adds."
    assert decorated.__wrapped__ is original  # type: ignore[attr-defined]
    assert decorated(1) == 3


def test_timethis_on_a_method_has_one_timer_for_all_instances(clock: FakeClock) -> None:
    class Worker:
        def __init__(self, cost: float) -> None:
            self.cost = cost

        @timethis()
        def run(self) -> float:
            clock.advance(self.cost)
            return self.cost

    a, b = Worker(1.0), Worker(3.0)
    a.run()
    b.run()
    assert Worker.run.timer is a.run.timer is b.run.timer  # type: ignore[attr-defined]
    assert Worker.run.timer.num_times == 2  # type: ignore[attr-defined]
    assert Worker.run.timer.mean == pytest.approx(2.0)  # type: ignore[attr-defined]


def test_a_given_timer_is_shared_between_functions(clock: FakeClock) -> None:
    shared = Sktimer()

    @timethis(shared)
    def f() -> None:
        clock.advance(1.0)

    @timethis(shared)
    def g() -> None:
        clock.advance(2.0)

    f()
    g()
    assert f.timer is g.timer is shared  # type: ignore[attr-defined]
    assert shared.total_time == pytest.approx(3.0)


def test_timethis_stacks(clock: FakeClock) -> None:
    inner_timer = Sktimer()

    @timethis()
    @timethis(inner_timer)
    def work() -> None:
        clock.advance(1.0)

    work()
    work()
    assert inner_timer.num_times == 2
    assert work.timer is not inner_timer  # type: ignore[attr-defined]
    assert work.timer.num_times == 2  # type: ignore[attr-defined]


def test_a_shared_timer_outside_keeps_the_functions_own_timer(clock: FakeClock) -> None:
    shared = Sktimer()

    @timethis(shared)
    @timethis()
    def work() -> None:
        clock.advance(1.0)

    @timethis(shared)
    def other() -> None:
        clock.advance(1.0)

    work()
    other()
    assert shared.num_times == 2
    assert work.timer is not shared  # type: ignore[attr-defined]
    assert work.timer.num_times == 1  # type: ignore[attr-defined]
    assert other.timer is shared  # type: ignore[attr-defined]


def test_timethis_threshold_skips_short_calls(clock: FakeClock) -> None:
    @timethis(threshold=0.5)
    def work(seconds: float) -> None:
        clock.advance(seconds)

    work(0.1)
    work(0.7)
    work(0.5)
    assert work.timer.num_times == 2  # type: ignore[attr-defined]
    assert work.timer.min == pytest.approx(0.5)  # type: ignore[attr-defined]


def test_timethis_max_times_sets_a_rolling_window() -> None:
    @timethis(max_times=3)
    def work() -> None:
        pass

    for _ in range(10):
        work()
    assert work.timer.num_times == 3  # type: ignore[attr-defined]
    assert work.timer.max_times == 3  # type: ignore[attr-defined]

    given = Sktimer()
    timethis(given, max_times=4)(work)
    assert given.max_times == 4


def test_timethis_does_not_record_calls_that_raise(clock: FakeClock) -> None:
    @timethis()
    def fail(error: bool) -> None:
        clock.advance(0.25 if error else 0.5)
        if error:
            raise KeyError("x")

    with pytest.raises(KeyError):
        fail(True)
    assert fail.timer.num_times == 0  # type: ignore[attr-defined]
    fail(False)
    assert fail.timer.times == pytest.approx([0.5])  # type: ignore[attr-defined]


def test_timethis_does_not_record_async_calls_that_raise() -> None:
    @timethis()
    async def fail() -> None:
        await asyncio.sleep(0)
        raise KeyError("x")

    with pytest.raises(KeyError):
        asyncio.run(fail())
    assert fail.timer.num_times == 0  # type: ignore[attr-defined]


def test_timethis_times_the_await_of_async_functions() -> None:
    @timethis()
    async def work(seconds: float) -> str:
        await asyncio.sleep(seconds)
        return "ok"

    assert asyncio.iscoroutinefunction(work)
    assert asyncio.run(work(0.02)) == "ok"
    assert work.timer.num_times == 1  # type: ignore[attr-defined]
    assert work.timer.most_recent >= 0.015  # type: ignore[attr-defined]  # lower bound only


def test_timethis_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="threshold"):
        timethis(threshold=-1.0)
    with pytest.raises(TypeError, match="function"):
        timethis()(42)  # type: ignore[type-var]


def test_clear_global_timers_resets_and_forgets_auto_timers() -> None:
    given = Sktimer()

    @timethis()
    def auto() -> None:
        pass

    @timethis(given)
    def manual() -> None:
        pass

    auto()
    manual()
    key = f"{auto.__module__}.{auto.__qualname__}"
    assert timethis_module._GLOBAL_TIMERS[key] is auto.timer  # type: ignore[attr-defined]
    assert given not in timethis_module._GLOBAL_TIMERS.values()
    clear_global_timers()
    assert key not in timethis_module._GLOBAL_TIMERS
    assert auto.timer.num_times == 0  # type: ignore[attr-defined]
    assert given.num_times == 1  # timers given by the user are theirs
    auto()
    assert auto.timer.num_times == 1  # type: ignore[attr-defined]


def test_timethis_composes_with_other_wrapping_decorators(clock: FakeClock) -> None:
    def logged(fn):  # type: ignore[no-untyped-def]
        @functools.wraps(fn)
        def inner(*args, **kwargs):  # type: ignore[no-untyped-def]
            return fn(*args, **kwargs)

        return inner

    @logged
    @timethis()
    def work() -> int:
        clock.advance(1.0)
        return 1

    assert work() == 1
    assert work.timer.num_times == 1  # type: ignore[attr-defined]


def test_timethis_block_yields_its_sktimer(clock: FakeClock) -> None:
    with TimeThis() as t:
        clock.advance(0.75)
    assert isinstance(t, Sktimer)
    assert t.num_times == 1
    assert t.most_recent == pytest.approx(0.75)

    given = Sktimer()
    with TimeThis(given) as same:
        clock.advance(0.5)
    assert same is given


def test_timethis_block_that_raises_is_not_recorded(clock: FakeClock) -> None:
    timer = Sktimer()

    def failing_block() -> None:
        with TimeThis(timer):
            clock.advance(1.0)
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        failing_block()
    assert not timer.is_running
    with TimeThis(timer):
        clock.advance(2.0)
    assert timer.times == pytest.approx([2.0])


def test_timethis_async_block(clock: FakeClock) -> None:
    async def main() -> Sktimer:
        async with TimeThis() as t:
            clock.advance(0.5)
        return t

    timer = asyncio.run(main())
    assert timer.times == pytest.approx([0.5])


def test_timethis_block_pause_resume_and_lap(clock: FakeClock) -> None:
    block = TimeThis()
    with block as t:
        clock.advance(1.0)
        t.pause()
        clock.advance(100.0)
        block.resume()
        clock.advance(1.0)
        assert block.lap() == pytest.approx(2.0)
        clock.advance(3.0)
    assert [t.get_time(0), t.get_time(1)] == pytest.approx([2.0, 3.0])
    assert t.total_time_paused == pytest.approx(100.0)


def test_timethis_block_threshold(clock: FakeClock) -> None:
    timer = Sktimer()
    with TimeThis(timer, threshold=1.0):
        clock.advance(0.5)
    block = TimeThis(timer, threshold=1.0)
    with block:
        clock.advance(0.2)
        block.lap()  # below threshold: not recorded
        clock.advance(1.5)
    assert timer.num_times == 1
    assert timer.most_recent == pytest.approx(1.5)


def test_timethis_block_real_clock() -> None:
    block = TimeThis()
    with block as t:
        sktiming.sleep(0.01)
    assert t.most_recent is not None
    assert t.most_recent >= 0.009  # lower bound only
    assert "TimeThis(timer=Sktimer(n=1" in repr(block)
