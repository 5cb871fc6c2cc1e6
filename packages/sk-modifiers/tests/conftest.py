"""sk-modifiers tests: make the helper module importable (pickle finds functions by reference)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def fake_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the waits of retry delays and rate limits instead of sleeping."""
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)

    async def async_sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr("sk_modifiers._private.policies.sleep", sleep)
    monkeypatch.setattr("sk_modifiers._private.policies.async_sleep", async_sleep)
    return waits
