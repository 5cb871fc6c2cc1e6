"""``pip install packages/cucumber`` in a fresh venv brings exactly cucumber and cloudpickle, and a
lambda, a closure and a live resource make the round trip there."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "packages" / "cucumber"
TOOLING = {"pip", "setuptools", "wheel"}

SCRIPT = """
import threading
import cucumber

square = cucumber.deserialize(cucumber.serialize(lambda x: x * x))

def make_adder(n):
    def add(x):
        return x + n
    return add

add5 = cucumber.deserialize(cucumber.serialize(make_adder(5)))
event = threading.Event()
event.set()
back = cucumber.deserialize(cucumber.serialize({"event": event, "lock": threading.Lock()}))
assert back["event"].is_set() and back["lock"].acquire(timeout=5)
try:
    cucumber.deserialize(b"not cucumber data")
except cucumber.DeserializationError:
    pass
else:
    raise SystemExit("foreign bytes were accepted")
print(square(12), add5(1))
"""


@pytest.mark.isolated_install
@pytest.mark.timeout(900)
def test_cucumber_installs_with_cloudpickle_only_and_round_trips_a_lambda(tmp_path: Path) -> None:
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
    assert added == {"cucumber", "cloudpickle"}, f"pip installed: {sorted(added)}"
    assert not (_distributions(python) - TOOLING - {"cucumber", "cloudpickle"})

    script = tmp_path / "round_trip.py"
    script.write_text(SCRIPT)
    proc = subprocess.run(
        [str(python), "-W", "error", str(script)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,  # the workspace is not on the path: only the installed copy can be imported
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["144", "6"]


def _distributions(python: Path) -> set[str]:
    out = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=json", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    return {entry["name"].lower().replace("_", "-") for entry in json.loads(out)}
