"""``pip install packages/sktiming`` and ``pip install packages/sk-modifiers``, each alone in a fresh venv.

Each install must add exactly its own distribution (both are standard-library only), and that package's
own test suite must pass against the installed copy (not the workspace sources).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOOLING = {"pip", "setuptools", "wheel"}
TEST_REQUIREMENTS = ["pytest>=8.0", "pytest-timeout>=2.3", "hypothesis>=6.100"]

PYTEST_INI = """\
[pytest]
addopts = --import-mode=importlib -p no:cacheprovider
timeout = 300
markers =
    slow: takes more than a few seconds
"""

CASES = {
    "sktiming": "sktiming",
    "sk-modifiers": "sk_modifiers",
}


def _python(env_dir: Path) -> Path:
    return env_dir / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def _pip(python: Path, *args: str) -> None:
    subprocess.run(
        [str(python), "-m", "pip", *args, "--quiet", "--disable-pip-version-check"],
        check=True,
        timeout=800,
    )


def _distributions(python: Path) -> set[str]:
    out = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=json", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    return {entry["name"].lower().replace("_", "-") for entry in json.loads(out)}


@pytest.mark.isolated_install
@pytest.mark.timeout(1500)
@pytest.mark.parametrize(("dist", "module"), sorted(CASES.items()))
def test_installs_alone_and_its_tests_pass(dist: str, module: str, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    python = _python(env_dir)
    before = _distributions(python)

    _pip(python, "install", str(ROOT / "packages" / dist))

    added = _distributions(python) - before
    assert added == {dist}, f"pip installed more than {dist}: {sorted(added)}"
    assert not (_distributions(python) - TOOLING - {dist})

    # The installed copy is the one imported (not the workspace's src/).
    where = subprocess.run(
        [str(python), "-c", f"import {module}; print({module}.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        cwd=tmp_path,
    ).stdout.strip()
    assert str(env_dir) in where, where

    # Then the package's own tests, copied out of the workspace so that neither the workspace's
    # root conftest nor its sources are involved; pytest and friends are installed only now.
    _pip(python, "install", *TEST_REQUIREMENTS)
    tests = tmp_path / "tests"
    shutil.copytree(
        ROOT / "packages" / dist / "tests",
        tests,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    (tmp_path / "pytest.ini").write_text(PYTEST_INI)
    proc = subprocess.run(
        [
            str(python),
            "-m",
            "pytest",
            "-q",
            "-c",
            str(tmp_path / "pytest.ini"),
            "--rootdir",
            str(tmp_path),
            str(tests),
        ],
        capture_output=True,
        text=True,
        timeout=1200,
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    assert " passed" in proc.stdout
    assert " failed" not in proc.stdout
