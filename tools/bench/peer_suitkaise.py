"""The published ``suitkaise`` 0.4.x (benchmark row P13), kept in its own virtual environment.

It owns the ``suitkaise`` import name, like our meta-package, so it never enters the development
environment: it lives in ``.bench-venvs/suitkaise-0.4`` and benchmark code runs in it as a
subprocess that prints one JSON object on its last line of stdout.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import venv
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PEER_VENV = ROOT / ".bench-venvs" / "suitkaise-0.4"
PEER_REQUIREMENT = "suitkaise>=0.4,<0.5"


def peer_python() -> Path:
    """Create the peer environment on first use and return its interpreter."""
    python = PEER_VENV / "bin" / "python"
    marker = PEER_VENV / ".installed"
    if not marker.exists():
        venv.EnvBuilder(with_pip=True, clear=True).create(PEER_VENV)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", PEER_REQUIREMENT],
            check=True,
        )
        marker.write_text(PEER_REQUIREMENT)
    return python


def peer_version() -> str:
    out = run_in_peer(
        "import json, importlib.metadata as m; print(json.dumps(m.version('suitkaise')))"
    )
    return str(out)


def run_in_peer(code: str, *, timeout: float = 600) -> Any:
    """Run ``code`` with the published suitkaise importable; return the JSON its last stdout line holds.

    The code runs as a script (``__main__``), so it may use ``if __name__ == "__main__":`` and
    multiprocessing with the spawn start method.
    """
    script = PEER_VENV / "_bench_script.py"
    python = peer_python()
    script.write_text(textwrap.dedent(code))
    proc = subprocess.run(
        [str(python), str(script)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=PEER_VENV,
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"peer suitkaise script failed ({proc.returncode}):\n{proc.stderr[-4000:]}"
        )
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    return json.loads(lines[-1])


if __name__ == "__main__":
    print(peer_version(), file=sys.stderr)
