#!/usr/bin/env python3
"""One entry point for working on the suitkaise monorepo with nothing but Python 3.10+ and pip.

    python tools/dev.py demo        # set up .venv (first time) and run the demo
    python tools/dev.py test        # set up .venv (first time) and run every test
    python tools/dev.py test --cov  # the same, measured in every process; each package >= 90%
    python tools/dev.py lint        # ruff check + ruff format --check + typos + zizmor (workflows)
    python tools/dev.py types       # mypy --strict over every package's src/
    python tools/dev.py docs        # mkdocs build --strict (fails on broken references)
    python tools/dev.py bench ...   # tools/bench with the bench peers installed
    python tools/dev.py soak --minutes N  # the chaos workload under SIGKILLs for N minutes
    python tools/dev.py ci          # what .ci/run does: fresh env, tests, lint, types, docs

The environment is `.venv` at the repository root. Every distribution under `packages/` is installed
into it in editable mode (the same set a hatch workspace installs), plus the dependency groups of
the root `pyproject.toml`. It is re-synced whenever a `pyproject.toml` changes.
`--here` skips all of that and uses the running interpreter (for `hatch run`, or an env you manage).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
# Install order does not matter to pip (one resolver run), but keep it readable: leaves first.
PACKAGES = [
    "shared-counter",
    "cucumber",
    "sktiming",
    "sk-modifiers",
    "suitkaise-processing",
    "suitkaise",
]
IMPORT_NAMES = {
    "shared-counter": "shared_counter",
    "cucumber": "cucumber",
    "sktiming": "sktiming",
    "sk-modifiers": "sk_modifiers",
    "suitkaise-processing": "suitkaise_processing",
    "suitkaise": "suitkaise",
}


def _venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _stamp(groups: list[str]) -> str:
    digest = hashlib.sha256(",".join(groups).encode())
    for path in sorted([ROOT / "pyproject.toml", *(ROOT / "packages").glob("*/pyproject.toml")]):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _run(cmd: list[str | Path], **kwargs: object) -> int:
    printable = " ".join(str(c) for c in cmd)
    print(f"+ {printable}", flush=True)
    return subprocess.call([str(c) for c in cmd], cwd=ROOT, **kwargs)  # type: ignore[call-overload, no-any-return]


def _check(cmd: list[str | Path], **kwargs: object) -> None:
    code = _run(cmd, **kwargs)
    if code != 0:
        sys.exit(code)


def ensure_env(groups: list[str], *, fresh: bool = False) -> Path:
    """Create or re-sync `.venv` with every package (editable) and the given dependency groups."""
    stamp_file = VENV / ".suitkaise-stamp"
    if fresh and VENV.exists():
        shutil.rmtree(VENV)
    stamp = _stamp(groups)
    if stamp_file.exists() and stamp_file.read_text() == stamp and _venv_python().exists():
        return _venv_python()
    if not _venv_python().exists():
        print(f"creating virtual environment {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    python = _venv_python()
    # pip >= 25.1 reads PEP 735 dependency groups (--group).
    _check([python, "-m", "pip", "install", "--quiet", "--upgrade", "pip>=25.1"])
    cmd: list[str | Path] = [python, "-m", "pip", "install", "--quiet"]
    for pkg in PACKAGES:
        cmd += ["-e", f"packages/{pkg}"]
    for group in groups:
        cmd += ["--group", group]
    _check(cmd)
    stamp_file.write_text(stamp)
    return python


def _python(args: argparse.Namespace, groups: list[str]) -> Path:
    if args.here:
        return Path(sys.executable)
    return ensure_env(groups, fresh=getattr(args, "fresh", False))


PYTEST_NO_TESTS = 5  # pytest's exit code when nothing was collected


def _pytest(cmd: list[str | Path], **kwargs: object) -> int:
    code = _run(cmd, **kwargs)
    if code == PYTEST_NO_TESTS:
        print("pytest collected no tests: check the paths and -k/-m filters", file=sys.stderr)
    return code


def cmd_test(args: argparse.Namespace) -> int:
    python = _python(args, ["dev"])
    # The root conftest.py fails the session if it leaves anything of ours in /dev/shm.
    if not args.cov:
        return _pytest([python, "-m", "pytest", *args.rest])
    return _test_with_coverage(python, args.rest)


def _test_with_coverage(python: Path, pytest_args: list[str]) -> int:
    """Every test under coverage, child processes included, then one report per package's src/.

    The settings are `[tool.coverage.*]` in the root pyproject.toml: each process (the test run,
    Pool workers, Skprocess children, the Share coordinator, scripts the tests start) writes its
    own data file; they are combined here and each package must reach `fail_under` on its own.
    """
    env = dict(os.environ, COVERAGE_FILE=str(ROOT / ".coverage"))
    # tools/coverage_hook/sitecustomize.py: threads started with _thread are measured too
    hook = str(ROOT / "tools" / "coverage_hook")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (hook, env.get("PYTHONPATH", "")) if p)
    for stale in ROOT.glob(".coverage*"):
        stale.unlink()
    code = _pytest([python, "-m", "coverage", "run", "-m", "pytest", *pytest_args], env=env)
    _check([python, "-m", "coverage", "combine", "--quiet"], env=env)
    below = []
    for pkg in PACKAGES:
        print(f"\n----- coverage of packages/{pkg}/src -----", flush=True)
        include = f"--include=packages/{pkg}/src/*"
        if _run([python, "-m", "coverage", "report", include], env=env) != 0:
            below.append(pkg)
    if below:
        print(f"coverage below fail_under: {', '.join(below)}", file=sys.stderr)
    return code or (1 if below else 0)


def cmd_demo(args: argparse.Namespace) -> int:
    python = _python(args, ["dev"])
    return _run([python, "-m", "suitkaise", "demo", *args.rest])


def cmd_lint(args: argparse.Namespace) -> int:
    python = _python(args, ["dev"])
    code = _run([python, "-m", "ruff", "check", "."])
    code = _run([python, "-m", "ruff", "format", "--check", "."]) or code
    # typos ships a binary (no module) beside the interpreter; settings in [tool.typos].
    typos = python.parent / ("typos.exe" if os.name == "nt" else "typos")
    code = _run([typos]) or code
    # zizmor (a binary too) audits the GitHub workflows: pinned actions, least permissions, no injection.
    zizmor = python.parent / ("zizmor.exe" if os.name == "nt" else "zizmor")
    return _run([zizmor, "--offline", ".github/workflows/"]) or code


def cmd_types(args: argparse.Namespace) -> int:
    python = _python(args, ["dev"])
    return _run([python, "-m", "mypy"])


def cmd_docs(args: argparse.Namespace) -> int:
    python = _python(args, ["dev"])
    return _run(
        [python, "-m", "mkdocs", "build", "--strict", "--site-dir", str(ROOT / "site"), *args.rest]
    )


def cmd_bench(args: argparse.Namespace) -> int:
    python = _python(args, ["dev", "bench"])
    return _run([python, "tools/bench", *args.rest])


def cmd_soak(args: argparse.Namespace) -> int:
    """The chaos workload of tests-integration/chaos for `--minutes N` (default 30), under SIGKILLs,
    after a 2-minute warm-up under chaos (`--warm-up SECONDS`)."""
    python = _python(args, ["dev"])
    length = [] if {"--minutes", "--seconds"} & set(args.rest) else ["--minutes", "30"]
    # the RSS baseline is taken after 2 minutes under chaos (see chaos_workload.run)
    warm_up = [] if "--warm-up" in args.rest else ["--warm-up", "120"]
    return _run(
        [python, "tests-integration/chaos/chaos_workload.py", *length, *warm_up, *args.rest]
    )


def cmd_ci(args: argparse.Namespace) -> int:
    if not args.here:
        ensure_env(["dev"], fresh=True)
    failures = []
    steps = (("tests", cmd_test), ("lint", cmd_lint), ("types", cmd_types), ("docs", cmd_docs))
    for name, step in steps:
        print(f"\n===== {name} =====", flush=True)
        step_args = argparse.Namespace(
            here=args.here, fresh=False, cov=True, rest=args.rest if name == "tests" else []
        )
        if step(step_args) != 0:
            failures.append(name)
    if failures:
        print(f"\nCI FAILED: {', '.join(failures)}", file=sys.stderr)
        return 1
    print("\nCI passed: tests with coverage, lint, types, docs")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "command", choices=["test", "demo", "lint", "types", "docs", "bench", "soak", "ci"]
    )
    parser.add_argument("--here", action="store_true", help="use the running interpreter as is")
    parser.add_argument("--fresh", action="store_true", help="recreate .venv from scratch first")
    parser.add_argument(
        "--cov",
        action="store_true",
        help="test: measure coverage in every process, fail a package under fail_under",
    )
    args, rest = parser.parse_known_args(argv)
    args.rest = rest
    commands = {
        "test": cmd_test,
        "demo": cmd_demo,
        "lint": cmd_lint,
        "types": cmd_types,
        "docs": cmd_docs,
        "bench": cmd_bench,
        "soak": cmd_soak,
        "ci": cmd_ci,
    }
    return commands[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
