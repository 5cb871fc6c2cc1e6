"""The distribution imports and exposes its version."""

import cucumber


def test_version_is_exposed() -> None:
    assert isinstance(cucumber.__version__, str)
    assert cucumber.__version__.count(".") >= 2
