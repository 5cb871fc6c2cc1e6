"""``Sktimer``: a thread-safe timer that keeps its samples and computes statistics."""

from __future__ import annotations

import math
import os
import threading
import time as _time
import warnings
from typing import Any, Final

from sktiming._private.stats import (
    TimerStats,
    check_percentile,
    compute_stats,
    index_of_max,
    index_of_min,
    mean_of,
    median_of_sorted,
    percentile_of_sorted,
    stats_dict,
    stdev_of,
    summary,
    variance_of,
)

_perf_counter = _time.perf_counter


class _Frame:
    """One running measurement of one thread: start, pause state and paused time so far."""

    __slots__ = ("paused_at", "paused_total", "start")

    def __init__(self, start: float) -> None:
        self.start = start
        self.paused_at: float | None = None
        self.paused_total = 0.0

    def measure(self, now: float) -> tuple[float, float]:
        """Return (elapsed excluding pauses, paused time) up to ``now``."""
        paused = self.paused_total
        end = now
        if self.paused_at is not None:
            paused += now - self.paused_at
            end = self.paused_at
        active = (end - self.start) - self.paused_total
        return max(active, 0.0), paused

    def __getstate__(self) -> tuple[float, float | None, float]:
        return (self.start, self.paused_at, self.paused_total)

    def __setstate__(self, state: tuple[float, float | None, float]) -> None:
        self.start, self.paused_at, self.paused_total = state


def _check_max_times(max_times: int | None) -> int | None:
    if max_times is None:
        return None
    if isinstance(max_times, bool) or not isinstance(max_times, int) or max_times < 1:
        raise ValueError(f"max_times must be None or a positive int, got {max_times!r}")
    return max_times


def _rw(reads: list[str], writes: list[str]) -> dict[str, list[str]]:
    return {"reads": sorted(reads), "writes": sorted(writes)}


_SAMPLES = ["_times", "_paused"]
_ALL = ["_frames", "_max_times", "_paused", "_times"]


class Sktimer:
    """Timer with statistics over its recorded samples (seconds).

    ``start()``/``stop()`` measure with :func:`time.perf_counter`; ``lap()`` records and keeps going;
    ``pause()``/``resume()`` exclude time; ``add_time()`` records a duration measured elsewhere.
    With ``max_times`` only the newest ``max_times`` samples are kept (rolling window).

    Thread-safe: every thread has its own running measurement (``start`` in one thread and
    ``stop`` in another are independent), and samples from all threads go into one set.
    Picklable by ``pickle`` and cucumber; running measurements travel too.
    """

    # Which attributes each method and property reads and writes: lets a Share hold an Sktimer and
    # keep it consistent across processes. Same shape as ``sk_modifiers`` generates for @sk classes.
    _shared_meta: Final[dict[str, dict[str, dict[str, list[str]]]]] = {
        "methods": {
            "start": _rw(["_frames"], ["_frames"]),
            "stop": _rw(["_frames", "_max_times", *_SAMPLES], ["_frames", *_SAMPLES]),
            "discard": _rw(["_frames"], ["_frames"]),
            "lap": _rw(["_frames", "_max_times", *_SAMPLES], ["_frames", *_SAMPLES]),
            "pause": _rw(["_frames"], ["_frames"]),
            "resume": _rw(["_frames"], ["_frames"]),
            "add_time": _rw(["_max_times", *_SAMPLES], _SAMPLES),
            "set_max_times": _rw(["_max_times", *_SAMPLES], ["_max_times", *_SAMPLES]),
            "reset": _rw([], ["_frames", *_SAMPLES]),
            "merge": _rw(["_max_times", *_SAMPLES], _SAMPLES),
            "get_time": _rw(["_times"], []),
            "percentile": _rw(["_times"], []),
            "get_statistics": _rw(["_max_times", *_SAMPLES], []),
            "get_stats": _rw(["_max_times", *_SAMPLES], []),
            "to_dict": _rw(["_max_times", *_SAMPLES], []),
        },
        "properties": {
            **{
                name: _rw(["_times"], [])
                for name in (
                    "num_times",
                    "times",
                    "most_recent",
                    "most_recent_index",
                    "result",
                    "total_time",
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
                )
            },
            "total_time_paused": _rw(["_paused"], []),
            "max_times": _rw(["_max_times"], []),
            "is_running": _rw(["_frames"], []),
            "is_paused": _rw(["_frames"], []),
        },
    }

    def __init__(self, max_times: int | None = None) -> None:
        self._lock = threading.RLock()
        self._times: list[float] = []
        self._paused: list[float] = []
        self._frames: dict[int, list[_Frame]] = {}
        self._max_times = _check_max_times(max_times)

    # ---------------------------------------------------------------- recording (internal)

    # timethis records without the lock: list.append is atomic, readers copy under the lock and
    # use _times and _paused independently, and only trimming to max_times (_trim) takes the lock.

    def _record(self, seconds: float, paused: float = 0.0) -> None:
        """Append one sample (caller checked it); trims to ``max_times``."""
        with self._lock:
            self._times.append(seconds)
            self._paused.append(paused)
            limit = self._max_times
            if limit is not None and len(self._times) > limit:
                del self._times[:-limit]
                del self._paused[:-limit]

    def _trim(self) -> None:
        """Cut the samples to the rolling window (after lock-free appends by timethis)."""
        with self._lock:
            limit = self._max_times
            if limit is not None:
                if len(self._times) > limit:
                    del self._times[:-limit]
                if len(self._paused) > limit:
                    del self._paused[:-limit]

    def _top_frame(self, action: str) -> _Frame:
        frames = self._frames.get(threading.get_ident())
        if not frames:
            raise RuntimeError(
                f"Sktimer.{action}() called while the timer is not running in this thread: "
                "call start() first (each thread has its own running measurement)"
            )
        return frames[-1]

    def _pop_frame(self, action: str) -> _Frame:
        ident = threading.get_ident()
        frames = self._frames.get(ident)
        if not frames:
            raise RuntimeError(
                f"Sktimer.{action}() called without start(): call start() first "
                "(each thread has its own running measurement)"
            )
        frame = frames.pop()
        if not frames:
            del self._frames[ident]
        return frame

    def _stop(self, threshold: float) -> float:
        """Stop the current thread's measurement; record it when it is ``>= threshold``."""
        now = _perf_counter()
        ident = threading.get_ident()
        with self._lock:
            frames = self._frames.get(ident)
            if not frames:
                raise RuntimeError(
                    "Sktimer.stop() called without start(): call start() first "
                    "(each thread has its own running measurement)"
                )
            frame = frames.pop()
            if not frames:
                del self._frames[ident]
            if frame.paused_at is None and not frame.paused_total:
                active, paused = now - frame.start, 0.0
                if active < 0.0:
                    active = 0.0
            else:
                active, paused = frame.measure(now)
            if active >= threshold:
                self._times.append(active)
                self._paused.append(paused)
                limit = self._max_times
                if limit is not None and len(self._times) > limit:
                    del self._times[:-limit]
                    del self._paused[:-limit]
        return active

    def _lap(self, threshold: float) -> float:
        now = _perf_counter()
        with self._lock:
            frame = self._top_frame("lap")
            active, paused = frame.measure(now)
            if active >= threshold:
                self._record(active, paused)
            frame.start = now
            frame.paused_total = 0.0
            if frame.paused_at is not None:
                frame.paused_at = now
        return active

    # ---------------------------------------------------------------- control

    def start(self) -> float:
        """Start a measurement in this thread and return its start (``perf_counter``) time.

        Starting while already running in this thread warns and nests: each ``stop()`` ends the
        innermost measurement.
        """
        ident = threading.get_ident()
        with self._lock:
            frames = self._frames.setdefault(ident, [])
            if frames:
                warnings.warn(
                    "Sktimer.start() called while already running in this thread: starting a "
                    "nested measurement; call stop() once per start()",
                    UserWarning,
                    stacklevel=2,
                )
            now = _perf_counter()
            frames.append(_Frame(now))
        return now

    def stop(self) -> float:
        """Stop this thread's measurement, record it and return it (seconds, pauses excluded).

        Raises ``RuntimeError`` when the timer is not running in this thread.
        """
        return self._stop(0.0)

    def discard(self) -> float:
        """Stop this thread's measurement without recording it; return what it measured.

        Raises ``RuntimeError`` when the timer is not running in this thread.
        """
        now = _perf_counter()
        with self._lock:
            frame = self._pop_frame("discard")
        return frame.measure(now)[0]

    def lap(self) -> float:
        """Record the time since ``start()`` (or the last lap) and keep running; return it.

        Raises ``RuntimeError`` when the timer is not running in this thread.
        """
        return self._lap(0.0)

    def pause(self) -> None:
        """Pause this thread's measurement: time until ``resume()`` is not counted.

        Raises ``RuntimeError`` when not running; pausing twice warns and does nothing.
        """
        now = _perf_counter()
        with self._lock:
            frame = self._top_frame("pause")
            if frame.paused_at is not None:
                warnings.warn("Sktimer.pause(): already paused", UserWarning, stacklevel=2)
                return
            frame.paused_at = now

    def resume(self) -> None:
        """Resume a paused measurement of this thread.

        Raises ``RuntimeError`` when not running; resuming when not paused warns and does nothing.
        """
        now = _perf_counter()
        with self._lock:
            frame = self._top_frame("resume")
            if frame.paused_at is None:
                warnings.warn("Sktimer.resume(): not paused", UserWarning, stacklevel=2)
                return
            frame.paused_total += now - frame.paused_at
            frame.paused_at = None

    def add_time(self, seconds: float) -> None:
        """Record a duration measured elsewhere (a non-negative finite number of seconds)."""
        value = float(seconds)
        if not math.isfinite(value) or value < 0.0:
            raise ValueError(f"add_time() needs a non-negative finite duration, got {seconds!r}")
        self._record(value)

    def set_max_times(self, max_times: int | None) -> None:
        """Keep only the newest ``max_times`` samples from now on (``None``: keep all)."""
        limit = _check_max_times(max_times)
        with self._lock:
            self._max_times = limit
            if limit is not None and len(self._times) > limit:
                del self._times[:-limit]
                del self._paused[:-limit]

    def reset(self) -> None:
        """Forget every sample and every running measurement (``max_times`` is kept)."""
        with self._lock:
            self._times.clear()
            self._paused.clear()
            self._frames.clear()

    def merge(self, other: Sktimer) -> Sktimer:
        """Add ``other``'s samples to this timer (e.g. per-process timers after a Pool run).

        Returns ``self`` so merges chain; ``other`` is not changed. This timer's ``max_times``
        applies to the result.
        """
        if not isinstance(other, Sktimer):
            raise TypeError(f"Sktimer.merge() needs an Sktimer, got {type(other).__name__}")
        if other is self:
            with self._lock:
                times, paused = list(self._times), list(self._paused)
        else:
            with other._lock:
                times, paused = list(other._times), list(other._paused)
        with self._lock:
            self._times.extend(times)
            self._paused.extend(paused)
            limit = self._max_times
            if limit is not None and len(self._times) > limit:
                del self._times[:-limit]
                del self._paused[:-limit]
        return self

    # ---------------------------------------------------------------- state

    @property
    def is_running(self) -> bool:
        """Whether a measurement is running in the calling thread."""
        return bool(self._frames.get(threading.get_ident()))

    @property
    def is_paused(self) -> bool:
        """Whether the calling thread's innermost measurement is paused."""
        frames = self._frames.get(threading.get_ident())
        return frames is not None and bool(frames) and frames[-1].paused_at is not None

    def _samples(self) -> list[float]:
        with self._lock:
            return list(self._times)

    # ---------------------------------------------------------------- statistics

    @property
    def num_times(self) -> int:
        """Number of recorded samples (0 when empty)."""
        return len(self._times)

    @property
    def times(self) -> list[float]:
        """A copy of the recorded samples, oldest first."""
        return self._samples()

    @property
    def most_recent_index(self) -> int | None:
        """Index of the newest sample (``num_times - 1``; ``None`` when empty)."""
        n = len(self._times)
        return n - 1 if n else None

    @property
    def most_recent(self) -> float | None:
        """The newest sample."""
        with self._lock:
            return self._times[-1] if self._times else None

    @property
    def result(self) -> float | None:
        """Alias of ``most_recent``."""
        return self.most_recent

    @property
    def total_time(self) -> float | None:
        """Sum of the samples."""
        times = self._samples()
        return math.fsum(times) if times else None

    @property
    def total_time_paused(self) -> float | None:
        """Total paused time of the recorded samples."""
        with self._lock:
            return math.fsum(self._paused) if self._paused else None

    @property
    def mean(self) -> float | None:
        """Arithmetic mean of the samples."""
        return mean_of(self._samples())

    @property
    def median(self) -> float | None:
        """Median of the samples."""
        return median_of_sorted(sorted(self._samples()))

    @property
    def min(self) -> float | None:
        """Smallest sample."""
        times = self._samples()
        return min(times) if times else None

    @property
    def max(self) -> float | None:
        """Largest sample."""
        times = self._samples()
        return max(times) if times else None

    @property
    def fastest_time(self) -> float | None:
        """Alias of ``min``."""
        return self.min

    @property
    def slowest_time(self) -> float | None:
        """Alias of ``max``."""
        return self.max

    @property
    def fastest_index(self) -> int | None:
        """Index (into the kept samples) of the smallest sample."""
        return index_of_min(self._samples())

    @property
    def slowest_index(self) -> int | None:
        """Index (into the kept samples) of the largest sample."""
        return index_of_max(self._samples())

    @property
    def stdev(self) -> float | None:
        """Sample standard deviation (needs 2 samples)."""
        return stdev_of(self._samples())

    @property
    def variance(self) -> float | None:
        """Sample variance (needs 2 samples)."""
        return variance_of(self._samples())

    @property
    def max_times(self) -> int | None:
        """Size of the rolling window (``None``: keep every sample)."""
        return self._max_times

    def get_time(self, index: int) -> float | None:
        """Sample at ``index`` (oldest is 0, negative counts from the newest); ``None`` if absent."""
        with self._lock:
            try:
                return self._times[index]
            except IndexError:
                return None

    def percentile(self, p: float) -> float | None:
        """The ``p``-th percentile, ``p`` in 0..100 (else ``ValueError``); linear interpolation."""
        value = check_percentile(p)
        return percentile_of_sorted(sorted(self._samples()), value)

    def _snapshot(self) -> TimerStats:
        with self._lock:
            times, paused, limit = list(self._times), list(self._paused), self._max_times
        return compute_stats(times, paused, limit)

    def get_statistics(self) -> TimerStats | None:
        """An immutable snapshot of every statistic (and the samples), taken atomically.

        ``None`` while the timer has no samples (as in suitkaise 0.4).
        """
        stats = self._snapshot()
        return stats if stats.num_times else None

    def get_stats(self) -> TimerStats | None:
        """Alias of ``get_statistics()``."""
        return self.get_statistics()

    def to_dict(self) -> dict[str, Any]:
        """Every statistic, ``p95`` and the samples as a plain dict (JSON-friendly)."""
        return stats_dict(self._snapshot())

    # ---------------------------------------------------------------- protocol

    def __repr__(self) -> str:
        return summary("Sktimer", self._samples())

    __str__ = __repr__

    def __getstate__(self) -> dict[str, Any]:
        with self._lock:
            return {
                "times": list(self._times),
                "paused": list(self._paused),
                "frames": {k: list(v) for k, v in self._frames.items()},
                "max_times": self._max_times,
                "pid": os.getpid(),
                "thread": threading.get_ident(),
            }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._lock = threading.RLock()
        self._times = list(state["times"])
        self._paused = list(state["paused"])
        self._max_times = state["max_times"]
        frames = {int(k): list(v) for k, v in state["frames"].items()}
        if state.get("pid", os.getpid()) != os.getpid():
            # Another process: thread ids mean nothing here. The measurement that was running in
            # the pickling thread goes on in the unpickling thread; the others are dropped.
            carried = frames.get(int(state.get("thread", -1)))
            frames = {threading.get_ident(): carried} if carried else {}
        self._frames = frames
