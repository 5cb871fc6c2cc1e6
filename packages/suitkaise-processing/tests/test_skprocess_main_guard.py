"""A script that starts an Skprocess runs the same with and without ``if __name__ == "__main__":``.

Children started by the fork server (or ``spawn``) never import the user's main module again (the
main-module entries are removed from their preparation data), so a script without the guard does not
start processes again in every child: suitkaise 0.4 forked on Linux and its examples have no guard.
The script's top level must run once, in the parent.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

_SCRIPT = """
from suitkaise_processing import Skprocess

print("top level", flush=True)


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
print("result", Doubler(5).run(), flush=True)
"""

_GUARDED = """
if __name__ == "__main__":
    print("result", Doubler(5).run(), flush=True)
"""


def _run(tmp_path: Path, body: str, method: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "script.py"
    script.write_text(_SCRIPT.format(body=body))
    env = dict(os.environ, SUITKAISE_START_METHOD=method)
    return subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=100,
        env=env,
        cwd=tmp_path,
    )


@pytest.mark.timeout(120)
@pytest.mark.parametrize("method", ["forkserver", "spawn"])
@pytest.mark.parametrize("body", [_UNGUARDED, _GUARDED], ids=["unguarded", "guarded"])
def test_script_runs_once_with_or_without_the_guard(tmp_path: Path, body: str, method: str) -> None:
    done = _run(tmp_path, body, method)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["top level", "result 10"], done.stdout + done.stderr
