"""Human-readable durations for ``repr`` and summaries."""

from __future__ import annotations


def format_seconds(value: float | None) -> str:
    """Format a duration with a unit that keeps three significant digits (``1.23 ms``)."""
    if value is None:
        return "-"
    magnitude = abs(value)
    if magnitude >= 1.0 or magnitude == 0.0:
        return f"{value:.3g} s"
    if magnitude >= 1e-3:
        return f"{value * 1e3:.3g} ms"
    if magnitude >= 1e-6:
        return f"{value * 1e6:.3g} us"
    return f"{value * 1e9:.3g} ns"
