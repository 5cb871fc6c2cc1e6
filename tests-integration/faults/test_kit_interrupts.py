"""Ctrl-C in the parent (Pool.map, Skprocess.wait(), Share use) and a parent that dies without cleanup.

Each case runs a real parent interpreter (``kit_faults_workers``), sends it SIGINT (or SIGKILL), and checks
with psutil that no process of its family survives and, for a Share, that its segments are reclaimed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

HERE = Path(__file__).resolve().parents[1]


def _start(mode: str) -> tuple[subprocess.Popen[str], str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE), *sys.path]))
    parent = subprocess.Popen(
        [sys.executable, "-c", f"import kit_faults_workers as k; k.main({mode!r})"],
        cwd=HERE,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert parent.stdout is not None
    seen = []
    line = parent.stdout.readline()
    while line.startswith("started"):  # an item may announce itself before the parent says ready
        seen.append(line)
        line = parent.stdout.readline()
    if not line.startswith("ready"):
        parent.kill()
        _, err = parent.communicate(timeout=30)
        pytest.fail(f"the parent did not start: {line!r} {err[-3000:]}")
    return parent, "".join([line, *seen])


def _family(pid: int) -> list[psutil.Process]:
    return psutil.Process(pid).children(recursive=True)


def _wait_gone(procs: list[psutil.Process], timeout: float) -> list[int]:
    """Pids among ``procs`` still running (not zombies) after ``timeout`` seconds."""
    _gone, alive = psutil.wait_procs(procs, timeout=timeout)
    still = []
    for proc in alive:
        try:
            if proc.status() != psutil.STATUS_ZOMBIE:
                still.append(proc.pid)
        except psutil.NoSuchProcess:
            pass
    return still


def _kill_all(procs: list[psutil.Process]) -> None:
    for proc in procs:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass


def _segments(share_id: str) -> list[str]:
    if not os.path.isdir("/dev/shm"):
        return []
    return [n for n in os.listdir("/dev/shm") if n.startswith(f"sk_{share_id}_")]


def _interrupt_and_check(parent: subprocess.Popen[str], wait_for_line: str | None = None) -> None:
    family: list[psutil.Process] = []
    try:
        assert parent.stdout is not None
        if wait_for_line is not None:  # e.g. an item is running in a worker
            line = parent.stdout.readline()
            assert line.startswith(wait_for_line), line
        family = _family(parent.pid)
        assert family, "the parent has no child process"
        sent = time.monotonic()
        parent.send_signal(signal.SIGINT)
        out, err = parent.communicate(timeout=60)
        elapsed = time.monotonic() - sent
        assert "interrupted" in out, err[-3000:]
        assert parent.returncode == 3, err[-3000:]
        assert elapsed < 30, f"KeyboardInterrupt took {elapsed:.1f} s"
        assert _wait_gone(family, 30) == [], "orphans left running"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait(10)
        _kill_all(family)


@pytest.mark.timeout(150)
def test_ctrl_c_during_pool_map() -> None:
    parent, _ = _start("pool-map")
    _interrupt_and_check(parent, wait_for_line="started")


@pytest.mark.timeout(150)
def test_ctrl_c_during_skprocess_wait() -> None:
    parent, _ = _start("skprocess-wait")
    _interrupt_and_check(parent)


@pytest.mark.timeout(150)
def test_ctrl_c_during_share_use() -> None:
    parent, line = _start("share-use")
    share_id = line.split()[1]
    _interrupt_and_check(parent)
    deadline = time.monotonic() + 60
    while _segments(share_id) and time.monotonic() < deadline:
        time.sleep(
            0.2
        )  # reclaimed by the owner's cleanup or its resource tracker: no event to wait on
    assert _segments(share_id) == []


@pytest.mark.timeout(180)
def test_parent_killed_without_cleanup_takes_its_children_along() -> None:
    parent, line = _start("exit-without-cleanup")
    share_id = line.split()[1]
    family: list[psutil.Process] = []
    try:
        assert parent.stdout is not None
        if "started" not in line:
            started = parent.stdout.readline()  # the pool's item is running
            assert started.startswith("started"), started
        family = _family(parent.pid)
        assert len(family) >= 3  # pool worker, Skprocess child, Share coordinator (+ helpers)
        assert _segments(share_id)
        parent.kill()
        parent.wait(30)
        assert _wait_gone(family, 60) == [], "children outlived their parent"
        deadline = time.monotonic() + 60
        while _segments(share_id) and time.monotonic() < deadline:
            time.sleep(0.2)  # the dead owner's resource tracker reclaims them on its own schedule
        assert _segments(share_id) == []
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait(10)
        _kill_all(family)
