"""The distribution imports and exposes its version."""

import sk_modifiers


def test_version_is_exposed() -> None:
    assert isinstance(sk_modifiers.__version__, str)
    assert sk_modifiers.__version__.count(".") >= 2


def test_the_sk_decorator_also_carries_the_modules_public_names() -> None:
    for name in sk_modifiers.__all__:
        assert getattr(sk_modifiers.sk, name) is getattr(sk_modifiers, name)
