"""The distribution imports, exposes its version, and loads each tool only when it is used."""

from __future__ import annotations

import subprocess
import sys

import pytest

import suitkaise_processing


def test_version_is_exposed() -> None:
    assert isinstance(suitkaise_processing.__version__, str)
    assert suitkaise_processing.__version__.count(".") >= 2


def test_every_public_name_resolves() -> None:
    for name in suitkaise_processing.__all__:
        assert getattr(suitkaise_processing, name) is not None, name
    assert set(suitkaise_processing.__all__) <= set(dir(suitkaise_processing))


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = suitkaise_processing.Nope  # type: ignore[attr-defined]


def _modules_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``code``."""
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint('\\n'.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    return set(out.split())


@pytest.mark.timeout(60)
def test_importing_the_package_loads_no_tool() -> None:
    loaded = _modules_after("import suitkaise_processing")
    heavy = {
        "asyncio",
        "cucumber",
        "suitkaise_processing._private.pool.pool",
        "suitkaise_processing._private.share.share",
        "suitkaise_processing._private.pipe",
        "suitkaise_processing._private.skprocess.base",
    }
    assert not heavy & loaded


@pytest.mark.timeout(60)
def test_importing_pool_loads_no_other_tool_and_no_asyncio() -> None:
    # whatever `Pool` pulls in costs import time and memory in every program that uses it
    loaded = _modules_after("from suitkaise_processing import Pool")
    unwanted = {
        "asyncio",
        "suitkaise_processing._private.share.share",
        "suitkaise_processing._private.pipe",
        "suitkaise_processing._private.skprocess.base",
        # needed only on rare paths: a misnamed argument's suggestion, `sk`'s class analysis
        "difflib",
        "sk_modifiers._private.analysis",
        "sk_modifiers._private.sk",
    }
    assert sorted(unwanted & loaded) == []


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("code", "children"),
    [
        ("from suitkaise_processing import Pool", ["pool._worker"]),
        ("from suitkaise_processing import Skprocess", ["skprocess.child"]),
        ("from suitkaise_processing import Pool, Skprocess", ["pool._worker", "skprocess.child"]),
        ("from suitkaise_processing import Pipe", []),
    ],
)
def test_the_fork_server_preloads_the_child_side_of_the_tools_imported(
    code: str, children: list[str]
) -> None:
    # a Pool program's fork server does not load the Skprocess child (and the other way round)
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            f"{code}\nfrom suitkaise_processing._private.context import forkserver_preload\n"
            "print(' '.join(forkserver_preload()))",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=50,
    ).stdout
    assert out.split() == [
        "cucumber",
        "suitkaise_processing._private.forkserver_exit",
        *(f"suitkaise_processing._private.{c}" for c in children),
    ]
