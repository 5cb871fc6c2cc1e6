"""Ctrl-C during Pool.map, a parent that dies, a pool that is dropped: no process is left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

HERE = Path(__file__).parent


@pytest.mark.timeout(120)
def test_sigint_during_map_stops_everything() -> None:
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])
    )
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "pool_workers.py"), "interrupted-map"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("pids "), first + (proc.stderr.read() if proc.stderr else "")
        workers = [int(p) for p in first.split()[1:]]
        started = proc.stdout.readline()  # an item is running in a worker
        assert started.startswith("started"), started
        family = [c.pid for c in psutil.Process(proc.pid).children(recursive=True)]
        assert set(workers) <= set(family)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        assert time.monotonic() - sent < 30
        assert "interrupted" in out
        assert "KeyboardInterrupt" in err
        assert proc.returncode != 0
        _gone, alive = psutil.wait_procs([_proc(pid) for pid in family if _proc(pid)], timeout=30)
        assert not alive, f"left running: {[p.pid for p in alive]}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


@pytest.mark.timeout(120)
def test_workers_exit_when_the_parent_dies_without_cleanup() -> None:
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])
    )
    proc = subprocess.run(
        [sys.executable, str(HERE / "pool_workers.py"), "exit-without-cleanup"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    first = proc.stdout.splitlines()[0] if proc.stdout else ""
    assert first.startswith("pids "), proc.stdout + proc.stderr
    workers = [p for p in (_proc(int(pid)) for pid in first.split()[1:]) if p is not None]
    _gone, alive = psutil.wait_procs(workers, timeout=30)
    assert not alive, f"orphans: {[p.pid for p in alive]}"


@pytest.mark.timeout(120)
def test_a_dropped_pool_stops_its_workers() -> None:
    import gc

    from pool_workers import double

    from suitkaise_processing import Pool

    pool = Pool(workers=2)
    assert pool.map(double, [1, 2]) == [2, 4]
    procs = list(pool._engine._res.procs.values())
    del pool
    gc.collect()
    for proc in procs:
        proc.join(30)
    assert all(not proc.is_alive() for proc in procs)


def _proc(pid: int) -> psutil.Process | None:
    try:
        return psutil.Process(pid)
    except psutil.NoSuchProcess:
        return None
