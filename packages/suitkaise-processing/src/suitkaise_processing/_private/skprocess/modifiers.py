"""``.timeout()``, ``.background()``, ``.asynced()`` on ``wait``/``result``/``run``/``listen``, from sk_modifiers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from suitkaise_processing._private.errors import ResultTimeoutError

F = TypeVar("F", bound=Callable[..., Any])


def modifiable(*, native_timeout: str | None) -> Callable[[F], F]:
    """Give a method ``.timeout(t)``, ``.background()`` and ``.asynced()``.

    ``.timeout(t)`` calls the method with ``native_timeout=t`` (the method enforces it and raises
    ``ResultTimeoutError``).
    """
    import sk_modifiers

    if not hasattr(sk_modifiers, "modifiable"):  # sk_modifiers not landed yet: plain methods
        return lambda method: method
    decorator: Callable[[F], F] = sk_modifiers.modifiable(
        timeout_error=ResultTimeoutError, native_timeout=native_timeout
    )
    return decorator
