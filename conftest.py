"""Repository-wide test guards: nothing of ours may stay in /dev/shm, and no child process may outlive a test."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Prefixes of everything our packages create in /dev/shm (segments and POSIX named semaphores).
SHM_PREFIXES = ("sk_", "sem.sk_")


def _our_shm_entries() -> set[str]:
    shm = Path("/dev/shm")
    if not shm.is_dir():
        return set()
    return {p.name for p in shm.iterdir() if p.name.startswith(SHM_PREFIXES)}


@pytest.fixture(autouse=True, scope="session")
def _no_shared_memory_left_behind() -> Iterator[None]:
    before = _our_shm_entries()
    yield
    leaked = _our_shm_entries() - before
    assert not leaked, f"the test session left these in /dev/shm: {sorted(leaked)}"


@pytest.fixture(autouse=True)
def _no_orphan_children() -> Iterator[None]:
    """Every multiprocessing child a test starts must be gone (joined or reaped) when it ends."""
    yield
    alive = [p for p in multiprocessing.active_children() if p.is_alive()]
    for proc in alive:
        proc.kill()
        proc.join(5)
    assert not alive, (
        f"test left child processes running: {[p.pid for p in alive]} (parent {os.getpid()})"
    )
