"""Installs from built wheels in fresh virtual environments (no workspace on the path).

- ``suitkaise-processing`` with only its four siblings (no ``suitkaise`` meta) imports and runs a Pool map;
- the full ``suitkaise`` kit installs all six and ``python -m suitkaise --help`` works;
- upgrading ONE package (cucumber 0.1.0 -> 0.1.1 built from a copy) changes only that distribution, and the
  kit still runs.

Our own distributions come from a session-wide wheel directory (built once, ``--no-index``); cloudpickle
comes from the package registry.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = [
    "shared-counter",
    "cucumber",
    "sktiming",
    "sk-modifiers",
    "suitkaise-processing",
    "suitkaise",
]
SIBLINGS = {"shared-counter", "cucumber", "sktiming", "sk-modifiers"}
TOOLING = {"pip", "setuptools", "wheel"}

POOL_SCRIPT = """
from {module} import Pool


def square(x):
    return x * x


if __name__ == "__main__":
    with Pool(workers=2) as pool:
        print(pool.map(square, range(6)))
        print(pool.star().map(pow, [(2, 3), (3, 2)]))
"""

pytestmark = [pytest.mark.isolated_install, pytest.mark.timeout(600)]


def _run(*args: str | Path, cwd: Path | None = None, timeout: float = 300) -> str:
    proc = subprocess.run(
        [str(a) for a in args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        check=False,
    )
    assert proc.returncode == 0, f"{args}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


@pytest.fixture(scope="session")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One wheel per distribution of the workspace, built once per session."""
    out = tmp_path_factory.mktemp("wheels")
    _run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--quiet",
        "--no-deps",
        "--wheel-dir",
        out,
        *(ROOT / "packages" / dist for dist in OURS),
        timeout=500,
    )
    built = sorted(p.name for p in out.glob("*.whl"))
    assert len(built) == len(OURS), built
    return out


def _venv(where: Path) -> Path:
    venv.EnvBuilder(with_pip=True, clear=True).create(where)
    return where / "bin" / "python"


def _pip(python: Path, *args: str | Path) -> None:
    _run(python, "-m", "pip", *args, "--quiet", "--disable-pip-version-check", timeout=500)


def _versions(python: Path) -> dict[str, str]:
    out = _run(python, "-m", "pip", "list", "--format=json", "--disable-pip-version-check")
    return {e["name"].lower().replace("_", "-"): e["version"] for e in json.loads(out)}


def _install_ours(python: Path, wheels: Path, *dists: str) -> None:
    _pip(python, "install", "cloudpickle>=3.0")  # from the registry
    _pip(python, "install", "--no-index", "--find-links", wheels, *dists)  # ours: wheels only


def _pool_map_runs(python: Path, module: str, where: Path) -> None:
    script = where / "pool_map.py"
    script.write_text(POOL_SCRIPT.format(module=module))
    out = _run(python, script, cwd=where, timeout=180)  # cwd: the workspace is not on the path
    assert out.splitlines() == ["[0, 1, 4, 9, 16, 25]", "[8, 9]"]


def test_processing_with_only_its_siblings(wheels: Path, tmp_path: Path) -> None:
    python = _venv(tmp_path / "venv")
    _install_ours(python, wheels, "suitkaise-processing")
    installed = set(_versions(python)) - TOOLING
    assert installed == {"suitkaise-processing", "cloudpickle", *SIBLINGS}
    where = _run(
        python, "-c", "import suitkaise_processing as m; print(m.__file__)", cwd=tmp_path
    ).strip()
    assert where.startswith(str(tmp_path / "venv")), where
    missing = subprocess.run(
        [str(python), "-c", "import suitkaise"], capture_output=True, text=True, cwd=tmp_path
    )
    assert missing.returncode != 0  # the meta package is not there
    _pool_map_runs(python, "suitkaise_processing", tmp_path)


def test_full_kit_installs_all_six(wheels: Path, tmp_path: Path) -> None:
    python = _venv(tmp_path / "venv")
    _install_ours(python, wheels, "suitkaise")
    versions = _versions(python)
    assert set(versions) - TOOLING == {*OURS, "cloudpickle"}
    out = _run(python, "-m", "suitkaise", "--help", cwd=tmp_path)
    assert "usage: suitkaise" in out
    assert "demo" in out
    _run(
        python,
        "-c",
        "from suitkaise import sk, cucumber, timing, processing; "
        "from suitkaise.processing import Pool, Skprocess, Share, Pipe; "
        "from suitkaise.timing import Sktimer; "
        "from suitkaise.shared_counter import SharedMemoryCounter",
        cwd=tmp_path,
    )
    _pool_map_runs(python, "suitkaise.processing", tmp_path)


def test_upgrading_one_package_leaves_the_others_alone(wheels: Path, tmp_path: Path) -> None:
    python = _venv(tmp_path / "venv")
    _install_ours(python, wheels, "suitkaise")
    before = _versions(python)

    # a patch release of cucumber alone, built from a copy of the workspace's folder
    source = tmp_path / "cucumber-src"
    shutil.copytree(
        ROOT / "packages" / "cucumber",
        source,
        ignore=shutil.ignore_patterns(
            "__pycache__", "*.pyc", ".pytest_cache", "build", "dist", "*.so", "*.egg-info"
        ),
    )
    about = source / "src" / "cucumber" / "__about__.py"
    text, n = re.subn(r'__version__ = "[^"]+"', '__version__ = "0.1.1"', about.read_text())
    assert n == 1
    about.write_text(text)
    new_wheels = tmp_path / "new-wheels"
    _run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--quiet",
        "--no-deps",
        "--wheel-dir",
        new_wheels,
        source,
        timeout=300,
    )
    (wheel,) = new_wheels.glob("cucumber-0.1.1-*.whl")

    _pip(python, "install", "--no-index", "--find-links", wheels, wheel)
    after = _versions(python)
    assert after["cucumber"] == "0.1.1"
    changed = {name for name in after if after[name] != before.get(name)}
    assert changed == {"cucumber"}, {n: (before.get(n), after[n]) for n in changed}
    out = _run(python, "-c", "import cucumber; print(cucumber.__version__)", cwd=tmp_path)
    assert out.strip() == "0.1.1"
    _pool_map_runs(python, "suitkaise.processing", tmp_path)
