"""Ctrl-C during Pool.map: KeyboardInterrupt reaches the user promptly and no process is left behind."""

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


def _proc(pid: int) -> psutil.Process | None:
    try:
        return psutil.Process(pid)
    except psutil.NoSuchProcess:
        return None
