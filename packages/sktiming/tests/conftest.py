"""Fixtures of the sktiming tests: a fake clock so durations are exact, not timing-dependent."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from sktiming_fake_clock import FakeClock


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr("sktiming._private.timer._perf_counter", fake)
    monkeypatch.setattr("sktiming._private.timethis._perf_counter", fake)
    return fake
