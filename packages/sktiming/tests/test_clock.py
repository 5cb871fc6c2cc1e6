"""time(), sleep() (+ sleep.asynced()) and elapsed()."""

from __future__ import annotations

import asyncio
import pickle
import time as std_time

import pytest

import sktiming


def test_time_is_a_unix_timestamp() -> None:
    before = std_time.time()
    now = sktiming.time()
    after = std_time.time()
    assert before <= now <= after


def test_sleep_returns_the_time_after_sleeping() -> None:
    before = std_time.time()
    woke = sktiming.sleep(0.01)
    assert woke >= before + 0.01 - 1e-3  # lower bound only
    assert woke <= std_time.time()


def test_sleep_rejects_negative_durations() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        sktiming.sleep(-1)


def test_sleep_asynced_returns_a_coroutine_function() -> None:
    async def main() -> float:
        before = std_time.time()
        woke = await sktiming.sleep.asynced()(0.01)
        assert woke >= before + 0.01 - 1e-3
        return woke

    assert asyncio.run(main()) > 0


def test_sleep_pickles_to_itself() -> None:
    assert pickle.loads(pickle.dumps(sktiming.sleep)) is sktiming.sleep


def test_elapsed_is_the_absolute_difference() -> None:
    assert sktiming.elapsed(10.0, 12.5) == 2.5
    assert sktiming.elapsed(12.5, 10.0) == 2.5


def test_elapsed_defaults_to_now() -> None:
    start = std_time.time() - 5.0
    value = sktiming.elapsed(start)
    assert 5.0 <= value < 5.0 + 60.0  # generous upper bound: a loaded machine
