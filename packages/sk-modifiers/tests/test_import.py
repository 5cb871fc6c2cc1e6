"""The distribution imports and exposes its version."""

import sk_modifiers


def test_version_is_exposed() -> None:
    assert isinstance(sk_modifiers.__version__, str)
    assert sk_modifiers.__version__.count(".") >= 2
