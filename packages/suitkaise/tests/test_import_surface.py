"""The kit re-exports every package under the names the user's documents use."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import cucumber as cucumber_dist
import shared_counter as shared_counter_dist
import sk_modifiers
import sktiming
import suitkaise
import suitkaise_processing

REEXPORTS = {
    "suitkaise.processing": suitkaise_processing,
    "suitkaise.cucumber": cucumber_dist,
    "suitkaise.timing": sktiming,
    "suitkaise.sk": sk_modifiers,
    "suitkaise.shared_counter": shared_counter_dist,
}
# Names a kit module adds to its package's: the suitkaise 0.4 wrapper names (deprecated).
KIT_ONLY = {"suitkaise.sk": ["Skfunction", "Skclass", "AsyncSkfunction"]}


@pytest.mark.parametrize(("kit_name", "source"), sorted(REEXPORTS.items(), key=lambda kv: kv[0]))
def test_each_kit_module_exports_the_whole_public_api_of_its_package(
    kit_name: str, source: object
) -> None:
    module = importlib.import_module(kit_name)
    source_all = source.__all__  # type: ignore[attr-defined]
    assert list(module.__all__) == [*source_all, *KIT_ONLY.get(kit_name, [])]
    for name in source_all:
        assert getattr(module, name) is getattr(source, name), f"{kit_name}.{name}"


def test_the_documented_processing_import_line_works() -> None:
    from suitkaise.processing import (  # noqa: F401
        ErrorHandlerError,
        OnFinishError,
        Pipe,
        Pool,
        PostRunError,
        PreRunError,
        ProcessError,
        ProcessTimeoutError,
        ProcessTimers,
        ResultError,
        ResultTimeoutError,
        RunError,
        Share,
        Skprocess,
        autoreconnect,
    )

    assert Pool is suitkaise_processing.Pool
    assert issubclass(ResultTimeoutError, ProcessError)


def test_top_level_names_are_the_decorators_and_the_modules() -> None:
    from suitkaise import blocking, cucumber, processing, sk, timing

    assert sk is sk_modifiers.sk
    assert blocking is sk_modifiers.blocking
    assert cucumber.serialize is cucumber_dist.serialize
    assert timing.Sktimer is sktiming.Sktimer
    assert processing.Pool is suitkaise_processing.Pool
    assert suitkaise.__all__ == [
        "__version__",
        "processing",
        "cucumber",
        "timing",
        "shared_counter",
        "sk",
        "blocking",
    ]


def test_sk_submodule_stays_importable_beside_the_sk_decorator() -> None:
    from suitkaise.sk import modifiable

    assert modifiable is sk_modifiers.modifiable
    assert suitkaise.sk is sk_modifiers.sk


def test_import_order_does_not_matter_in_a_fresh_interpreter() -> None:
    code = (
        "import suitkaise.sk\n"
        "from suitkaise.sk import modifiable\n"
        "import suitkaise\n"
        "from suitkaise import sk\n"
        "import sk_modifiers\n"
        "assert sk is sk_modifiers.sk and modifiable is sk_modifiers.modifiable\n"
        "import suitkaise.processing\n"
        "assert suitkaise.processing.Pool.__name__ == 'Pool'\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_cli_shows_help() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "suitkaise", "--help"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0
    assert "demo" in out.stdout


def test_the_0_4_sk_api_module_and_names_import_in_a_fresh_interpreter() -> None:
    code = (
        "import warnings\n"
        "warnings.simplefilter('error')\n"
        "import suitkaise.sk.api as api\n"
        "from suitkaise.sk.api import Skfunction, Skclass, AsyncSkfunction, sk, blocking\n"
        "from suitkaise.sk import Skfunction as S, SkModifierError, FunctionTimeoutError\n"
        "import suitkaise\n"
        "assert S is Skfunction and suitkaise.sk.Skclass is Skclass and api.sk is suitkaise.sk\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
