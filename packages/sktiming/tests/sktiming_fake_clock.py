"""A fake ``perf_counter`` for the sktiming tests (durations exact, never timing-dependent)."""

from __future__ import annotations


class FakeClock:
    """Stands in for ``time.perf_counter``: time moves only when a test calls ``advance``."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
