"""Sktimer statistics, checked against the ``statistics`` module; snapshots; repr; to_dict."""

from __future__ import annotations

import dataclasses
import math
import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sktiming import Sktimer, TimerStats

durations = st.lists(
    st.floats(min_value=0.0, max_value=1e4, allow_nan=False, allow_infinity=False),
    min_size=1,
    max_size=60,
)


def _timer(values: list[float]) -> Sktimer:
    timer = Sktimer()
    for value in values:
        timer.add_time(value)
    return timer


@settings(max_examples=150, deadline=None)
@given(durations)
def test_statistics_match_the_statistics_module(values: list[float]) -> None:
    timer = _timer(values)
    assert timer.num_times == len(values)
    assert timer.most_recent == values[-1]
    assert timer.total_time == pytest.approx(math.fsum(values))
    assert timer.mean == pytest.approx(statistics.fmean(values))
    assert timer.median == pytest.approx(statistics.median(values))
    assert timer.min == min(values)
    assert timer.max == max(values)
    assert timer.fastest_time == min(values)
    assert timer.slowest_time == max(values)
    assert timer.fastest_index == values.index(min(values))
    assert timer.slowest_index == values.index(max(values))
    if len(values) >= 2:
        assert timer.variance == pytest.approx(statistics.variance(values), rel=1e-9, abs=1e-9)
        assert timer.stdev == pytest.approx(statistics.stdev(values), rel=1e-9, abs=1e-9)
    else:
        assert timer.variance is None
        assert timer.stdev is None


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(min_value=0.0, max_value=1e4), min_size=2, max_size=60))
def test_percentiles_match_statistics_quantiles_inclusive(values: list[float]) -> None:
    timer = _timer(values)
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    for p in (1, 5, 25, 50, 75, 95, 99):
        assert timer.percentile(p) == pytest.approx(cuts[p - 1], rel=1e-9, abs=1e-9)
    assert timer.percentile(0) == min(values)
    assert timer.percentile(100) == max(values)
    assert timer.percentile(50) == pytest.approx(statistics.median(values))


@settings(max_examples=50, deadline=None)
@given(durations)
def test_snapshot_has_the_same_values_as_the_timer(values: list[float]) -> None:
    timer = _timer(values)
    snap = timer.get_statistics()
    for name in (
        "num_times",
        "most_recent",
        "result",
        "total_time",
        "total_time_paused",
        "mean",
        "median",
        "min",
        "max",
        "fastest_time",
        "slowest_time",
        "fastest_index",
        "slowest_index",
        "stdev",
        "variance",
        "max_times",
    ):
        assert getattr(snap, name) == getattr(timer, name), name
    assert snap.percentile(90) == timer.percentile(90)
    assert snap.get_time(0) == timer.get_time(0)


def test_empty_timer_statistics_are_none() -> None:
    timer = Sktimer()
    assert timer.num_times == 0
    for name in (
        "most_recent",
        "result",
        "total_time",
        "total_time_paused",
        "mean",
        "median",
        "min",
        "max",
        "fastest_time",
        "slowest_time",
        "fastest_index",
        "slowest_index",
        "stdev",
        "variance",
        "max_times",
    ):
        assert getattr(timer, name) is None, name
    assert timer.percentile(50) is None
    assert timer.get_time(0) is None
    assert timer.get_stats() is None  # no snapshot without samples (as in suitkaise 0.4)
    assert timer.times == []
    assert timer.most_recent_index is None
    assert timer.to_dict()["num_times"] == 0


def test_one_sample_has_no_spread() -> None:
    timer = _timer([2.0])
    assert timer.mean == timer.median == timer.min == timer.max == 2.0
    assert timer.stdev is None
    assert timer.variance is None
    assert timer.percentile(95) == 2.0


def test_get_time_indexes_oldest_first_and_negative_from_newest() -> None:
    timer = _timer([1.0, 2.0, 3.0])
    assert timer.get_time(0) == 1.0
    assert timer.get_time(-1) == 3.0
    assert timer.get_time(3) is None


@pytest.mark.parametrize("bad", [-0.1, 100.5, float("nan"), "x"])
def test_percentile_outside_0_100_raises_value_error(bad: object) -> None:
    timer = _timer([1.0, 2.0])
    with pytest.raises(ValueError, match="percentile"):
        timer.percentile(bad)  # type: ignore[arg-type]
    snap = timer.get_statistics()
    assert snap is not None
    with pytest.raises(ValueError, match="percentile"):
        snap.percentile(bad)  # type: ignore[arg-type]


def test_snapshot_is_immutable_and_detached() -> None:
    timer = _timer([1.0, 2.0])
    snap = timer.get_stats()
    assert isinstance(snap, TimerStats)
    with pytest.raises(dataclasses.FrozenInstanceError):
        snap.mean = 5.0  # type: ignore[misc]
    timer.add_time(100.0)
    assert snap.num_times == 2
    assert snap.max == 2.0
    assert snap.times == (1.0, 2.0)


def test_to_dict_has_every_statistic_and_the_samples() -> None:
    data = _timer([1.0, 2.0, 3.0]).to_dict()
    assert data["num_times"] == 3
    assert data["mean"] == pytest.approx(2.0)
    assert data["p95"] == pytest.approx(2.9)
    assert data["times"] == [1.0, 2.0, 3.0]
    assert set(data) >= {"median", "min", "max", "stdev", "variance", "total_time_paused"}


def test_repr_is_one_line_with_sensible_units() -> None:
    timer = _timer([0.0012, 0.0015, 0.0030])
    text = repr(timer)
    assert "\n" not in text
    assert text.startswith("Sktimer(n=3, mean=")
    assert "ms" in text
    for field in ("median=", "p95=", "min=", "max="):
        assert field in text
    assert str(timer) == text
    assert repr(Sktimer()) == "Sktimer(n=0)"
    assert "us" in repr(_timer([2e-6]))
    assert "ns" in repr(_timer([5e-9]))
    assert " s" in repr(_timer([2.5]))


@settings(max_examples=100, deadline=None)
@given(durations, st.integers(min_value=1, max_value=20))
def test_rolling_window_statistics_equal_those_of_the_newest_samples(
    values: list[float], window: int
) -> None:
    timer = Sktimer(max_times=window)
    for value in values:
        timer.add_time(value)
    kept = values[-window:]
    expected = _timer(kept).get_statistics()
    snap = timer.get_statistics()
    assert snap.times == tuple(kept)
    assert snap.num_times == len(kept)
    assert snap.mean == expected.mean
    assert snap.median == expected.median
    assert snap.stdev == expected.stdev
    assert snap.fastest_index == expected.fastest_index
    assert snap.max_times == window
