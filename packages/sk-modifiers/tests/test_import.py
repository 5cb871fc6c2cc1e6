"""The distribution imports, exposes its version, and loads `sk` and its analysis on first use."""

import subprocess
import sys

import pytest

import sk_modifiers


def test_version_is_exposed() -> None:
    assert isinstance(sk_modifiers.__version__, str)
    assert sk_modifiers.__version__.count(".") >= 2


def test_the_sk_decorator_also_carries_the_modules_public_names() -> None:
    for name in sk_modifiers.__all__:
        assert getattr(sk_modifiers.sk, name) is getattr(sk_modifiers, name)


@pytest.mark.timeout(60)
def test_modifiable_alone_loads_neither_the_class_analysis_nor_the_typing_protocols() -> None:
    # suitkaise_processing's Pool imports only `modifiable`: the rest loads when its name is used
    code = "from sk_modifiers import modifiable\nimport sys\nprint('\\n'.join(sys.modules))"
    loaded = set(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=50
        ).stdout.split()
    )
    assert "sk_modifiers._private.modifiable" in loaded
    lazy = {
        "sk_modifiers._private.analysis",
        "sk_modifiers._private.sk",
        "sk_modifiers._private.protocols",
    }
    assert sorted(lazy & loaded) == []


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = sk_modifiers.Nope  # type: ignore[attr-defined]


def test_dir_lists_the_names_not_yet_loaded() -> None:
    assert set(sk_modifiers.__all__) <= set(dir(sk_modifiers))
