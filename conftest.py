"""Repository-wide test guards: nothing of ours may stay in /dev/shm, and no child process may outlive a test."""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

# The `redis_server` / `redis_url` fixtures (a real redis-server on a loopback port), for every test tree.
pytest_plugins = ["tools.pytest_redis"]


def pytest_configure(config: pytest.Config) -> None:
    """Give Ctrl-C its default meaning in this process and the programs the tests start.

    A shell starts a background job (``pytest ... &``, ``nohup pytest``) with SIGINT ignored, and a
    program inherits that: Python then installs no KeyboardInterrupt handler, so every test that
    sends SIGINT to a program it started waited for a program that ignored it (seen on all Pythons).
    A handled signal is reset to its default in an exec'd child, so handling it here restores the
    default for every program a test starts.
    """
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


# Prefixes of everything our packages create in /dev/shm (segments and POSIX named semaphores).
SHM_PREFIXES = ("sk_", "sem.sk_")


def _our_shm_entries() -> set[str]:
    shm = Path("/dev/shm")
    if not shm.is_dir():
        return set()
    return {p.name for p in shm.iterdir() if p.name.startswith(SHM_PREFIXES)}


def _in_use_or_gone(names: set[str]) -> set[str]:
    """The entries some live process still maps (e.g. another test run on this machine), and those
    removed meanwhile.

    Matched by device and inode, not by name: glibc creates a named semaphore under a temporary
    name and renames it, so its creator's ``/proc/<pid>/maps`` shows ``/dev/shm/sem.XXXXXX
    (deleted)``, never ``sem.sk_...``.
    """
    by_file: dict[tuple[int, int, int], str] = {}
    gone: set[str] = set()
    for name in names:
        try:
            st = os.stat(f"/dev/shm/{name}")
        except FileNotFoundError:
            gone.add(name)
            continue
        by_file[(os.major(st.st_dev), os.minor(st.st_dev), st.st_ino)] = name
    in_use: set[str] = set()
    for maps in Path("/proc").glob("[0-9]*/maps"):
        try:
            lines = maps.read_text().splitlines()
        except OSError:
            continue
        for line in lines:
            # address perms offset dev inode pathname
            fields = line.split(maxsplit=5)
            if len(fields) < 6 or not fields[5].startswith("/dev/shm/"):
                continue
            major, minor = (int(part, 16) for part in fields[3].split(":"))
            name = by_file.get((major, minor, int(fields[4])))
            if name is not None:
                in_use.add(name)
    return in_use | gone


@pytest.fixture(autouse=True, scope="session")
def _no_shared_memory_left_behind() -> Iterator[None]:
    before = _our_shm_entries()
    yield
    new = _our_shm_entries() - before
    # A leak is an entry nobody maps any more; entries mapped by live processes belong to runs still going.
    leaked = new - _in_use_or_gone(new)
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
