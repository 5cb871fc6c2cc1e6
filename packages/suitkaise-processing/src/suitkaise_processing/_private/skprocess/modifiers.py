"""``.timeout()``, ``.background()``, ``.asynced()`` on ``wait``/``result``/``run``/``listen``, from sk_modifiers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sk_modifiers import modifiable as _sk_modifiable
from suitkaise_processing._private.errors import ResultTimeoutError


def modifiable(*, native_timeout: str) -> Callable[[Callable[..., Any]], Any]:
    """Give a method ``.timeout(t)``, ``.background()`` and ``.asynced()`` (sk_modifiers).

    ``.timeout(t)`` calls the method with the keyword ``native_timeout=t``: the method enforces the
    limit itself (no stray waiting thread that could swallow a later message) and raises
    ``ResultTimeoutError``.
    """
    return _sk_modifiable(timeout_error=ResultTimeoutError, native_timeout=native_timeout)
