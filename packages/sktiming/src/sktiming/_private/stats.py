"""Statistics over a sequence of samples, and the immutable snapshot ``TimerStats``."""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sktiming._private.units import format_seconds


def mean_of(times: Sequence[float]) -> float | None:
    """Arithmetic mean (``None`` when empty)."""
    if not times:
        return None
    return math.fsum(times) / len(times)


def variance_of(times: Sequence[float]) -> float | None:
    """Sample variance, like :func:`statistics.variance` (``None`` below 2 samples)."""
    n = len(times)
    if n < 2:
        return None
    mu = math.fsum(times) / n
    deviations = [x - mu for x in times]
    return math.fsum(map(operator.mul, deviations, deviations)) / (n - 1)


def stdev_of(times: Sequence[float]) -> float | None:
    """Sample standard deviation, like :func:`statistics.stdev` (``None`` below 2 samples)."""
    var = variance_of(times)
    return None if var is None else math.sqrt(var)


def check_percentile(p: float) -> float:
    """Validate a percentile in 0..100 and return it as a float."""
    try:
        value = float(p)
    except (TypeError, ValueError):
        raise ValueError(f"percentile must be a number from 0 to 100, got {p!r}") from None
    if not 0.0 <= value <= 100.0 or math.isnan(value):
        raise ValueError(f"percentile must be from 0 to 100, got {p!r}")
    return value


def percentile_of_sorted(ordered: Sequence[float], p: float) -> float | None:
    """Percentile with linear interpolation between closest ranks (numpy's default).

    ``ordered`` must be sorted ascending; ``p`` must already be checked (0..100).
    """
    n = len(ordered)
    if n == 0:
        return None
    if n == 1:
        return ordered[0]
    rank = (n - 1) * p / 100.0
    low = math.floor(rank)
    high = min(low + 1, n - 1)
    fraction = rank - low
    return ordered[low] + (ordered[high] - ordered[low]) * fraction


def median_of_sorted(ordered: Sequence[float]) -> float | None:
    """Median of sorted samples (mean of the two middle ones for an even count)."""
    n = len(ordered)
    if n == 0:
        return None
    mid = n // 2
    if n % 2:
        return ordered[mid]
    return (ordered[mid - 1] + ordered[mid]) / 2.0


def index_of_min(times: Sequence[float]) -> int | None:
    """Index of the first smallest sample (``None`` when empty)."""
    if not times:
        return None
    return list(times).index(min(times))


def index_of_max(times: Sequence[float]) -> int | None:
    """Index of the first largest sample (``None`` when empty)."""
    if not times:
        return None
    return list(times).index(max(times))


@dataclass(frozen=True)
class TimerStats:
    """Immutable snapshot of an ``Sktimer``'s statistics, from ``Sktimer.get_statistics()``.

    Every statistic is ``None`` when the timer had no samples (``stdev``/``variance`` need two);
    ``num_times`` is a count (0 when empty) and ``max_times`` is the configured window.
    ``times`` holds the samples (oldest first) so ``percentile()`` and ``get_time()`` work on the
    snapshot too.
    """

    num_times: int
    most_recent: float | None
    total_time: float | None
    total_time_paused: float | None
    mean: float | None
    median: float | None
    min: float | None
    max: float | None
    fastest_index: int | None
    slowest_index: int | None
    stdev: float | None
    variance: float | None
    max_times: int | None
    times: tuple[float, ...] = field(default=(), repr=False)

    @property
    def result(self) -> float | None:
        """Alias of ``most_recent``."""
        return self.most_recent

    @property
    def most_recent_index(self) -> int | None:
        """Index of the newest sample (``num_times - 1``; ``None`` when empty)."""
        return self.num_times - 1 if self.num_times else None

    @property
    def fastest_time(self) -> float | None:
        """Alias of ``min``."""
        return self.min

    @property
    def slowest_time(self) -> float | None:
        """Alias of ``max``."""
        return self.max

    def get_time(self, index: int) -> float | None:
        """Sample at ``index`` (negative counts from the newest); ``None`` if out of range."""
        try:
            return self.times[index]
        except IndexError:
            return None

    def percentile(self, p: float) -> float | None:
        """The ``p``-th percentile (0..100, linear interpolation); ``None`` when empty."""
        return percentile_of_sorted(sorted(self.times), check_percentile(p))

    def to_dict(self) -> dict[str, Any]:
        """The statistics as a plain dict (with ``times`` as a list)."""
        return stats_dict(self)

    def __str__(self) -> str:
        return summary("TimerStats", self.times)


def compute_stats(
    times: Sequence[float], paused: Sequence[float], max_times: int | None
) -> TimerStats:
    """Compute every statistic of ``times`` at once."""
    snapshot = tuple(times)
    if not snapshot:
        return TimerStats(
            num_times=0,
            most_recent=None,
            total_time=None,
            total_time_paused=None,
            mean=None,
            median=None,
            min=None,
            max=None,
            fastest_index=None,
            slowest_index=None,
            stdev=None,
            variance=None,
            max_times=max_times,
            times=(),
        )
    ordered = sorted(snapshot)
    var = variance_of(snapshot)
    return TimerStats(
        num_times=len(snapshot),
        most_recent=snapshot[-1],
        total_time=math.fsum(snapshot),
        total_time_paused=math.fsum(paused),
        mean=mean_of(snapshot),
        median=median_of_sorted(ordered),
        min=ordered[0],
        max=ordered[-1],
        fastest_index=snapshot.index(ordered[0]),
        slowest_index=snapshot.index(ordered[-1]),
        stdev=None if var is None else math.sqrt(var),
        variance=var,
        max_times=max_times,
        times=snapshot,
    )


STAT_FIELDS = (
    "num_times",
    "most_recent",
    "total_time",
    "total_time_paused",
    "mean",
    "median",
    "min",
    "max",
    "fastest_index",
    "slowest_index",
    "stdev",
    "variance",
    "max_times",
)


def stats_dict(stats: TimerStats) -> dict[str, Any]:
    """Plain-dict form used by ``to_dict()``: every statistic, ``p95`` and the samples."""
    data: dict[str, Any] = {name: getattr(stats, name) for name in STAT_FIELDS}
    data["p95"] = stats.percentile(95) if stats.times else None
    data["times"] = list(stats.times)
    return data


def summary(label: str, times: Sequence[float]) -> str:
    """One-line summary: ``Sktimer(n=3, mean=1.2 ms, median=..., p95=..., min=..., max=...)``."""
    n = len(times)
    if n == 0:
        return f"{label}(n=0)"
    ordered = sorted(times)
    parts = [
        f"n={n}",
        f"mean={format_seconds(math.fsum(ordered) / n)}",
        f"median={format_seconds(median_of_sorted(ordered))}",
        f"p95={format_seconds(percentile_of_sorted(ordered, 95.0))}",
        f"min={format_seconds(ordered[0])}",
        f"max={format_seconds(ordered[-1])}",
    ]
    return f"{label}({', '.join(parts)})"
