"""A script that starts an Skprocess without ``if __name__ == "__main__":`` gets an error that says so.

Children started by the fork server (or ``spawn``) import the main module again; a script without the
guard then starts a process while the child is still starting, and the child dies before it runs
anything. suitkaise 0.4 forked on Linux, so its unguarded examples worked there: the error must tell
what to write.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

_SCRIPT = """
from suitkaise_processing import ProcessError, Skprocess


class Doubler(Skprocess):
    def __init__(self, value):
        self.value = value
        self.process_config.runs = 1

    def __run__(self):
        self.value *= 2

    def __result__(self):
        return self.value


{body}
"""

_UNGUARDED = """
try:
    print("result", Doubler(5).run(), flush=True)
except ProcessError as exc:
    print("error", exc, flush=True)
"""

_GUARDED = """
if __name__ == "__main__":
    print("result", Doubler(5).run(), flush=True)
"""


def _run(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "script.py"
    script.write_text(_SCRIPT.format(body=body))
    env = dict(os.environ, SUITKAISE_START_METHOD="forkserver")
    return subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=100,
        env=env,
        cwd=tmp_path,
    )


@pytest.mark.timeout(120)
def test_unguarded_script_gets_an_error_naming_the_guard(tmp_path: Path) -> None:
    done = _run(tmp_path, _UNGUARDED)
    lines = [line for line in done.stdout.splitlines() if line.startswith(("result", "error"))]
    # the parent's line (the children that re-ran the script died before printing anything)
    assert len(lines) == 1, done.stdout + done.stderr
    assert lines[0].startswith("error the process exited with code 1 before it started")
    assert 'if __name__ == "__main__":' in lines[0]


@pytest.mark.timeout(120)
def test_guarded_script_runs(tmp_path: Path) -> None:
    done = _run(tmp_path, _GUARDED)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "result 10"
