"""What every benchmark module shares: the result row, the timing helper and the ratio rule."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Result:
    """One row of the benchmark table.

    ``ours`` and every value of ``peers`` are in ``unit`` (lower is better, e.g. seconds per call).
    ``bar_peer`` names the peer the bar compares against, and ``bar_ratio`` is the largest allowed
    ratio ours / that peer (``None``: no ratio bar, ``passed`` decided by the module itself).
    """

    id: str
    name: str
    ours: float
    unit: str = "s"
    peers: dict[str, float] = field(default_factory=dict)
    bar: str = ""
    bar_peer: str | None = None
    bar_ratio: float | None = None
    passed: bool | None = None
    notes: str = ""

    def ratio(self, peer: str) -> float | None:
        value = self.peers.get(peer)
        if value is None or value <= 0:
            return None
        return self.ours / value

    def decide(self) -> Result:
        """Fill ``passed`` from the ratio bar when the module did not decide it."""
        if self.passed is None and self.bar_peer is not None and self.bar_ratio is not None:
            r = self.ratio(self.bar_peer)
            self.passed = r is not None and r <= self.bar_ratio
        return self

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ratios"] = {peer: self.ratio(peer) for peer in self.peers}
        return data


def median_time(
    fn: Callable[[], object],
    *,
    repeat: int = 5,
    warmup: int = 1,
    per: int = 1,
    setup: Callable[[], object] | None = None,
) -> float:
    """Median wall time of ``fn()`` over ``repeat`` runs after ``warmup`` runs, divided by ``per``.

    ``setup`` (untimed) runs before every call. The garbage collector is paused while timing.
    """
    times: list[float] = []
    for i in range(warmup + repeat):
        if setup is not None:
            setup()
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            start = time.perf_counter()
            fn()
            elapsed = time.perf_counter() - start
        finally:
            if gc_was_enabled:
                gc.enable()
        if i >= warmup:
            times.append(elapsed)
    return statistics.median(times) / per


def fmt_value(value: float | None, unit: str) -> str:
    """Human-readable time (or other unit) for the table."""
    if value is None:
        return "-"
    if unit != "s":
        return f"{value:,.4g} {unit}"
    if value >= 1:
        return f"{value:.3g} s"
    if value >= 1e-3:
        return f"{value * 1e3:.3g} ms"
    if value >= 1e-6:
        return f"{value * 1e6:.3g} us"
    return f"{value * 1e9:.3g} ns"
