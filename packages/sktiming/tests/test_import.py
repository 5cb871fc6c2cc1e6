"""The distribution imports and exposes its version."""

import sktiming


def test_version_is_exposed() -> None:
    assert isinstance(sktiming.__version__, str)
    assert sktiming.__version__.count(".") >= 2
