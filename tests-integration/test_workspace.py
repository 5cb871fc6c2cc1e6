"""The workspace installs every distribution, each under its own import name, at its own version."""

from __future__ import annotations

import importlib
import importlib.metadata

import pytest

DISTRIBUTIONS = {
    "shared-counter": "shared_counter",
    "cucumber": "cucumber",
    "sktiming": "sktiming",
    "sk-modifiers": "sk_modifiers",
    "suitkaise-processing": "suitkaise_processing",
    "suitkaise": "suitkaise",
}


@pytest.mark.parametrize(("dist", "module"), sorted(DISTRIBUTIONS.items()))
def test_each_distribution_is_installed_with_its_own_version(dist: str, module: str) -> None:
    imported = importlib.import_module(module)
    assert importlib.metadata.version(dist) == imported.__version__
