"""The rate limiter's schedule: the start rule, and how a pickled limiter shares its schedule."""

from __future__ import annotations

import pickle
from typing import Any

import pytest
import sk_modifiers_test_helpers as helpers

from sk_modifiers._private import policies
from sk_modifiers._private.policies import LocalSchedule, RateLimiter, sharing_rate_limits


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> _Clock:
    fake = _Clock()
    monkeypatch.setattr(policies, "monotonic", fake)
    return fake


def test_bookings_are_one_interval_apart(clock: _Clock) -> None:
    schedule = LocalSchedule()
    assert [schedule.reserve(0.5) for _ in range(3)] == [0.0, 0.5, 1.0]


def test_a_call_never_starts_within_an_interval_of_the_last_start(clock: _Clock) -> None:
    schedule = LocalSchedule()
    assert schedule.reserve(0.5) == 0.0
    assert schedule.reserve(0.5) == 0.5  # booked for 1000.5
    clock.now = 1000.25
    assert schedule.start(0.5) == 0.0  # the first call woke up late: it starts at 1000.25
    clock.now = 1000.5  # the second call wakes at its slot ...
    assert schedule.start(0.5) == pytest.approx(0.25)  # ... and waits for 1000.75
    clock.now = 1000.75
    assert schedule.start(0.5) == 0.0
    assert schedule.reserve(0.5) == pytest.approx(
        0.5
    )  # next booking: one interval after that start


def test_a_late_waker_delays_the_next_call(fake_sleep: list[float]) -> None:
    limiter = RateLimiter(2.0)
    limiter.acquire()
    limiter.acquire()
    assert fake_sleep == [pytest.approx(0.5, abs=0.01)]


def test_a_pickled_limiter_starts_afresh_outside_a_sharing_block() -> None:
    limiter = RateLimiter(4.0)
    copy = pickle.loads(pickle.dumps(limiter))
    assert type(copy.schedule) is LocalSchedule
    assert copy.schedule is not limiter.schedule
    assert copy.per_second == 4.0


class _Shared:
    """A schedule that pickles by value (a real one reconnects to shared state by name)."""

    def __init__(self, tag: str) -> None:
        self.tag = tag

    def reserve(self, interval: float) -> float:
        return 0.0

    def start(self, interval: float) -> float:
        return 0.0


def test_a_sharing_block_gives_pickled_limiters_the_shared_schedule() -> None:
    add: Any = helpers.add  # the test reads the chain's private limiter
    chain = add.rate_limit(3.0)
    asked: list[RateLimiter] = []

    def schedule_for(limiter: RateLimiter) -> _Shared:
        asked.append(limiter)
        return _Shared("pool")

    with sharing_rate_limits(schedule_for):
        blob = pickle.dumps(chain)
    copy = pickle.loads(blob)
    assert asked == [chain._limiter]
    assert isinstance(copy._limiter.schedule, _Shared)
    assert copy._limiter.schedule.tag == "pool"
    assert copy(1, 2) == 3
    # outside the block the same chain pickles as before
    assert type(pickle.loads(pickle.dumps(chain))._limiter.schedule) is LocalSchedule


def test_a_limiter_with_a_shared_schedule_keeps_it_when_pickled_again() -> None:
    limiter = RateLimiter(3.0, _Shared("redis"))
    with sharing_rate_limits(lambda _: _Shared("other")):
        copy = pickle.loads(pickle.dumps(limiter))
    assert copy.schedule.tag == "redis"
