"""The distribution imports and exposes its version."""

import suitkaise


def test_version_is_exposed() -> None:
    assert isinstance(suitkaise.__version__, str)
    assert suitkaise.__version__.count(".") >= 2
