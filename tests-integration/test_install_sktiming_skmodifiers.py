"""sktiming and sk-modifiers from outside their own test suites.

- ``pip install packages/sktiming`` and ``pip install packages/sk-modifiers``, each alone in a fresh venv:
  each install adds exactly its own distribution (both are standard-library only), and the package's own
  test suite passes against the installed copy (not the workspace sources).
- cucumber carries timers, ``@sk`` classes and functions, and modifier chains into a fresh interpreter, by
  value (this module cannot be imported there), and they work on the other side.
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


# ------------------------------------------------------------------ cucumber, by value, fresh interpreter

CHILD = """
import json, sys, asyncio
import cucumber
counter, double, chain, timer, timed = cucumber.deserialize(sys.stdin.buffer.read())
out = {
    "inc": counter.inc(),
    "inc_timeout": counter.inc.timeout(10.0)(),
    "chain": chain(),
    "double": double(4),
    "double_retry": double.retry(2, delay=0.0)(5),
    "double_async": asyncio.run(double.asynced().timeout(10.0)(6)),
    "meta": type(counter)._shared_meta["methods"]["inc"],
    "blocking": type(counter)._blocking_methods,
    "timer_n": timer.num_times,
    "timer_running": timer.is_running,
    "timed": timed(7),
    "timed_n": timed.timer.num_times,
}
print(json.dumps(out))
"""


@pytest.mark.timeout(300)
def test_cucumber_carries_timers_and_modifiers_to_a_fresh_interpreter() -> None:
    cucumber = pytest.importorskip("cucumber")
    from sk_modifiers import blocking, sk
    from sktiming import Sktimer, timethis

    @sk
    class Counter:
        def __init__(self) -> None:
            self.n = 0
            self.log: list[int] = []

        def inc(self) -> int:
            self.n += 1
            self.log.append(self.n)
            return self.n

        @blocking
        def crunch(self) -> int:
            return sum(range(10))

    @sk
    @blocking
    def double(x: int) -> int:
        return 2 * x

    @timethis()
    def timed(x: int) -> int:
        return x

    counter = Counter()
    counter.inc()
    timer = Sktimer(max_times=5)
    timer.add_time(0.5)
    timer.start()
    timed(1)
    payload = cucumber.serialize(
        (counter, double, counter.inc.retry(2, delay=0.0).timeout(10.0), timer, timed)
    )
    proc = subprocess.run(
        [sys.executable, "-c", CHILD],
        input=payload,
        capture_output=True,
        timeout=240,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode()[-4000:]
    out = json.loads(proc.stdout.decode().splitlines()[-1])
    assert out["inc"] == 2
    assert out["inc_timeout"] == 3
    assert out["chain"] == 4  # the chain's object is the same counter (one payload, one memo)
    assert out["double"] == 8
    assert out["double_retry"] == 10
    assert out["double_async"] == 12
    assert out["meta"] == {"reads": ["log", "n"], "writes": ["log", "n"]}
    assert out["blocking"] == {"crunch": ["@blocking"]}
    assert out["timer_n"] == 1
    assert out["timer_running"] is True
    assert out["timed"] == 7
    assert out["timed_n"] == 2
