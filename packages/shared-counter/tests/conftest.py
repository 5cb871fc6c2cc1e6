"""Fixtures of the shared-counter tests; makes ``shared_counter_workers`` importable by children."""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from shared_counter import SharedMemoryCounter


@pytest.fixture
def run_id() -> str:
    """A run_id no other test (or engineer running tests at the same time) uses."""
    return "t" + uuid.uuid4().hex[:5]


@pytest.fixture
def make_counter(run_id: str) -> Iterator[Callable[..., SharedMemoryCounter]]:
    """Create counters in this test's run_id; every one is closed and unlinked afterwards."""
    made: list[SharedMemoryCounter] = []

    def make(name: str = "c", **kwargs: Any) -> SharedMemoryCounter:
        kwargs.setdefault("create", True)
        kwargs.setdefault("run_id", run_id)
        counter = SharedMemoryCounter(name, **kwargs)
        made.append(counter)
        return counter

    yield make
    for counter in made:
        counter.unlink()
        counter.close()


@pytest.fixture
def ctx() -> multiprocessing.context.BaseContext:
    """The start method of macOS (and the strictest): children import everything afresh."""
    return multiprocessing.get_context("spawn")
