"""``.timeout()``, ``.background()``, ``.asynced()`` on ``wait``/``result``/``run``/``listen``, from sk_modifiers."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, cast

from sk_modifiers import modifiable as _sk_modifiable
from suitkaise_processing._private.errors import ResultTimeoutError

if TYPE_CHECKING:
    from sk_modifiers import SkFunction
    from suitkaise_processing._private.skprocess.result_types import ResultMethod

P = ParamSpec("P")
R = TypeVar("R")


def modifiable(*, native_timeout: str) -> Callable[[Callable[P, R]], SkFunction[P, R]]:
    """Give a method ``.timeout(t)``, ``.background()`` and ``.asynced()`` (sk_modifiers).

    ``.timeout(t)`` calls the method with the keyword ``native_timeout=t``: the method enforces the
    limit itself (no stray waiting thread that could swallow a later message) and raises
    ``ResultTimeoutError``.
    """
    return _sk_modifiable(timeout_error=ResultTimeoutError, native_timeout=native_timeout)


def returns_result(method: SkFunction[..., Any]) -> ResultMethod:
    """Type ``result``/``run`` for type checkers: on a process whose class defines ``__result__``,
    they return what it returns (:mod:`.result_types`). The method itself, unchanged."""
    return cast("ResultMethod", method)
