"""sk-modifiers tests: make the helper module importable (pickle finds functions by reference)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def fake_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the waits of retry delays and rate limits instead of sleeping; a wait moves the
    clock of the rate limits on by as much, as a real sleep would."""
    waits: list[float] = []
    slept = [0.0]

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        slept[0] += seconds

    async def async_sleep(seconds: float) -> None:
        sleep(seconds)

    monkeypatch.setattr("sk_modifiers._private.policies.sleep", sleep)
    monkeypatch.setattr("sk_modifiers._private.policies.async_sleep", async_sleep)
    monkeypatch.setattr(
        "sk_modifiers._private.policies.monotonic", lambda: time.monotonic() + slept[0]
    )
    return waits
