"""A Pool worker loads only what running items needs (start-up time and memory per worker, bench P19).

The script runs as ``__main__`` in a fresh interpreter, as a user's program does, so its function
travels by value and every module a worker holds was imported by the fork server or the worker itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

_SCRIPT = """
import json, sys
from suitkaise_processing import Pool

def probe():
    tag = "closure"
    def loaded(_):
        return [tag, sorted(sys.modules)]  # a module global (sys) and a closure cell
    return loaded

if __name__ == "__main__":
    with Pool(workers=1) as pool:
        print(json.dumps(pool.map(probe(), [0])[0]))
"""

# The parent side of the Pool, cucumber's serialize side (its pickler's families of handlers and
# what they import) and the Share, Pipe and Skprocess machinery.
_NOT_IN_A_WORKER = (
    "suitkaise_processing._private.pool.pool",
    "suitkaise_processing._private.pool._engine",
    "sk_modifiers",
    "cucumber._private.families",
    "cucumber._private.pickler",
    # functions of __main__ are rebuilt by cucumber._private.rebuild, without cloudpickle
    "cloudpickle",
    "sqlite3",
    "suitkaise_processing._private.share",
    "suitkaise_processing._private.skprocess.parent",
    # a Pool program's fork server does not preload the Skprocess child side
    "suitkaise_processing._private.skprocess.child",
    # the slots are a heap.Arena, not a RawArray
    "ctypes",
    "asyncio",
)


@pytest.mark.timeout(120)
def test_a_worker_holds_neither_the_parent_side_nor_cucumbers_serializer(tmp_path: Path) -> None:
    script = tmp_path / "main_script.py"
    script.write_text(_SCRIPT)
    # Without coverage in these processes: coverage (on in CI) imports sqlite3 for its data file.
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_PROCESS")}
    out = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        check=True,
        timeout=100,
        env=env,
    ).stdout
    tag, loaded = json.loads(out.strip().splitlines()[-1])
    assert tag == "closure"
    modules = set(loaded)
    assert "suitkaise_processing._private.pool._worker" in modules  # the probe ran in a worker
    assert sorted(m for m in _NOT_IN_A_WORKER if m in modules) == []
