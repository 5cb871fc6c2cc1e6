"""Choosing the start method: set_start_method, SUITKAISE_START_METHOD, and what a Pool then uses.

Each case runs in a fresh interpreter: the choice is global to a process."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from suitkaise_processing import get_start_method, set_start_method


def _run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **env},
    )


def test_an_unknown_method_is_refused_and_changes_nothing() -> None:
    before = get_start_method()
    with pytest.raises(ValueError, match="use one of fork, forkserver, spawn"):
        set_start_method("thread")
    assert get_start_method() == before


def test_linux_default_is_forkserver() -> None:
    out = _run("from suitkaise_processing import get_start_method; print(get_start_method())")
    assert out.returncode == 0, out.stderr
    expected = "forkserver" if sys.platform.startswith("linux") else "spawn"
    assert out.stdout.split() == [expected]


@pytest.mark.timeout(150)
@pytest.mark.parametrize("how", ["call", "environment"])
def test_a_chosen_method_is_what_pool_workers_start_with(how: str) -> None:
    code = """
        import multiprocessing
        from suitkaise_processing import Pool, get_start_method, set_start_method

        def method(_):
            return multiprocessing.get_start_method(allow_none=True) or "unset"

        if __name__ == "__main__":
            if CALL:
                set_start_method("spawn")
            with Pool(workers=1) as pool:
                print(get_start_method(), pool.map(method, [0])[0])
        """.replace("CALL", str(how == "call"))
    env = {"SUITKAISE_START_METHOD": "spawn"} if how == "environment" else {}
    out = _run(code, **env)
    assert out.returncode == 0, out.stderr
    # the worker reports the start method it was started with (forkserver when the choice is lost)
    assert out.stdout.split() == ["spawn", "spawn"]


def test_an_unknown_method_in_the_environment_says_which_values_work() -> None:
    out = _run(
        "from suitkaise_processing import get_start_method; get_start_method()",
        SUITKAISE_START_METHOD="threads",
    )
    assert out.returncode != 0
    assert "SUITKAISE_START_METHOD='threads': use one of fork, forkserver, spawn" in out.stderr
