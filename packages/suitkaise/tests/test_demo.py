"""The demo (the README's main job) runs every package end to end and checks its own results."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.timeout(180)
def test_demo_runs_and_every_check_holds() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "suitkaise", "demo"],
        capture_output=True,
        text=True,
        timeout=170,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "All checks passed." in out.stdout
    assert "FAILED" not in out.stdout
    # every step reported, and the summary table of Sktimer statistics is printed
    for marker in (
        "1. Pool.map",
        "2. Skprocess",
        "3. A Pipe",
        "4. cucumber",
        "5. A LocalLock and a LocalSemaphore",
        "6. Timers",
        "median",
    ):
        assert marker in out.stdout
