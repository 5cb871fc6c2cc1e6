"""The distribution imports and exposes its version."""

import shared_counter


def test_version_is_exposed() -> None:
    assert isinstance(shared_counter.__version__, str)
    assert shared_counter.__version__.count(".") >= 2
