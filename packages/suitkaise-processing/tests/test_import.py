"""The distribution imports and exposes its version."""

import suitkaise_processing


def test_version_is_exposed() -> None:
    assert isinstance(suitkaise_processing.__version__, str)
    assert suitkaise_processing.__version__.count(".") >= 2
