"""``pip install packages/shared-counter`` in a fresh venv brings nothing else, and the Quick Start runs."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "packages" / "shared-counter"
TOOLING = {"pip", "setuptools", "wheel"}

QUICK_START = """
from shared_counter import SharedMemoryCounter
from multiprocessing import Process
import time

def worker(counter_name: str, run_id: str, increments: int):
    counter = SharedMemoryCounter(name=counter_name, create=False, run_id=run_id)
    for i in range(increments):
        counter.value += 1
        print(f"Worker incremented counter to {counter.value}")
        time.sleep(0.1)
    counter.close()

def main():
    run_id = "RUN_ID"
    task_counter = SharedMemoryCounter(name="tasks", create=True, run_id=run_id, initial_value=0)
    processes = []
    for i in range(3):
        p = Process(target=worker, args=("tasks", run_id, 5))
        p.start()
        processes.append(p)
    for p in processes:
        p.join()
    print(f"Final counter value: {task_counter.value}")
    task_counter.unlink()

if __name__ == "__main__":
    main()
"""


@pytest.mark.isolated_install
@pytest.mark.timeout(900)
def test_shared_counter_installs_alone_and_runs_the_quick_start(tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    python = env_dir / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    before = _distributions(python)

    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            str(PACKAGE),
        ],
        check=True,
        timeout=800,
    )

    added = _distributions(python) - before
    assert added == {"shared-counter"}, f"pip installed more than shared-counter: {sorted(added)}"
    assert not (_distributions(python) - TOOLING - {"shared-counter"})

    script = tmp_path / "quick_start.py"
    script.write_text(QUICK_START.replace("RUN_ID", "i" + uuid.uuid4().hex[:6]))
    proc = subprocess.run(
        [str(python), "-W", "error", str(script)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,  # the workspace is not on the path: only the installed copy can be imported
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "Final counter value: 15"
    assert proc.stderr == ""  # no resource_tracker warning: nothing leaked


def _distributions(python: Path) -> set[str]:
    out = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=json", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    return {entry["name"].lower().replace("_", "-") for entry in json.loads(out)}
