"""Make this tests folder importable by child processes (helper modules such as ``skprocess_workers``);
the ``pool`` fixture of the Pool tests."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from suitkaise_processing import Pool

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def pool() -> Iterator[Pool]:
    """A 2-worker Pool, terminated after the test (tests that need another pool define their own)."""
    p = Pool(workers=2)
    try:
        yield p
    finally:
        p.terminate()
