"""``LockStats``: always-on telemetry of a lock or semaphore, and the recorder that feeds it.

Cost: an uncontended acquisition adds one integer increment and one ``perf_counter()`` call, a release
one ``perf_counter()`` call and two comparisons. Waits are kept in a histogram of 64 power-of-two
buckets of nanoseconds (bounded memory), so ``p50_wait`` / ``p99_wait`` are upper bounds within 2x;
an acquisition that did not wait counts as a wait of 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class LockStats:
    """A snapshot of what one lock (or semaphore) object saw in this process. Times are in seconds."""

    acquisitions: int = 0
    contended: int = 0  # acquisitions that had to wait
    timeouts: int = 0  # blocking acquisitions that gave up at their timeout
    total_wait: float = 0.0
    max_wait: float = 0.0
    p50_wait: float = 0.0
    p99_wait: float = 0.0
    total_hold: float = 0.0
    max_hold: float = 0.0

    @property
    def mean_wait(self) -> float:
        return self.total_wait / self.acquisitions if self.acquisitions else 0.0

    @property
    def mean_hold(self) -> float:
        return self.total_hold / self.acquisitions if self.acquisitions else 0.0


class StatsRecorder:
    """The mutable counters behind :class:`LockStats` (updated by the lock while it is held)."""

    __slots__ = (
        "acquisitions",
        "buckets",
        "contended",
        "max_hold",
        "max_wait",
        "timeouts",
        "total_hold",
        "total_wait",
    )

    def __init__(self) -> None:
        self.acquisitions = 0
        self.contended = 0
        self.timeouts = 0
        self.total_wait = 0.0
        self.max_wait = 0.0
        self.total_hold = 0.0
        self.max_hold = 0.0
        self.buckets = [0] * 65  # bucket b: waits below 2**b ns

    def waited(self, wait: float) -> None:
        """One acquisition that had to wait ``wait`` seconds."""
        self.acquisitions += 1
        self.contended += 1
        self.total_wait += wait
        if wait > self.max_wait:
            self.max_wait = wait
        self.buckets[min(int(wait * 1e9).bit_length(), 64)] += 1

    def held(self, hold: float) -> None:
        self.total_hold += hold
        if hold > self.max_hold:
            self.max_hold = hold

    def _quantile(self, q: float) -> float:
        rank = math.ceil(q * self.acquisitions)
        seen = self.acquisitions - self.contended  # the waits of 0
        if rank <= seen:
            return 0.0
        for bucket, count in enumerate(self.buckets):
            seen += count
            if seen >= rank:
                return min(2.0**bucket * 1e-9, self.max_wait)
        return self.max_wait

    def snapshot(self) -> LockStats:
        return LockStats(
            acquisitions=self.acquisitions,
            contended=self.contended,
            timeouts=self.timeouts,
            total_wait=self.total_wait,
            max_wait=self.max_wait,
            p50_wait=self._quantile(0.5),
            p99_wait=self._quantile(0.99),
            total_hold=self.total_hold,
            max_hold=self.max_hold,
        )
