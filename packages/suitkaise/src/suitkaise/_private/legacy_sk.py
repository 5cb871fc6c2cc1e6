"""The suitkaise 0.4 wrapper classes ``Skfunction``, ``Skclass`` and ``AsyncSkfunction`` (deprecated).

In 0.4 they were wrapper objects around a function or class. ``sk`` now gives the function or class
itself the modifiers, so each name is kept as a thin constructor that warns (``DeprecationWarning``,
saying what to write instead) and returns what ``sk`` returns. ``isinstance`` checks and ``Name[...]``
in annotations keep working.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar, overload

from sk_modifiers import DeferredCall, Modified, SkFunction, modifiable, sk

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")
C = TypeVar("C", bound=type)

__all__ = ["AsyncSkfunction", "Skclass", "Skfunction"]


def _deprecated(old: str, new: str) -> None:
    warnings.warn(
        f"{old} is deprecated since suitkaise 0.5 and will be removed in 0.6: write {new}",
        DeprecationWarning,
        stacklevel=3,
    )


class _LegacyName(type):
    """Metaclass: ``isinstance(obj, Skfunction)`` asks the class whether ``obj`` is one of its kind."""

    def __instancecheck__(cls, obj: object) -> bool:
        check: Callable[[object], bool] = cls.__dict__["_is_kind"]
        return check(obj)

    def __getitem__(cls, params: object) -> _LegacyName:
        return cls  # ``Skfunction[P, R]`` in annotations, as with the 0.4 generic classes


class Skfunction(metaclass=_LegacyName):
    """Deprecated: ``Skfunction(fn)`` is ``sk(fn)``, the function itself with the modifiers."""

    # Each constructor returns what ``sk`` returns, not an instance of its class (mypy: [misc]); type
    # checkers see that type, so ``Skfunction(add).timeout(1.0)(1, 2)`` is checked like ``sk(add)``.
    def __new__(cls, func: Callable[P, R]) -> SkFunction[P, R]:  # type: ignore[misc]
        _deprecated("Skfunction(fn)", "sk(fn) (or @sk); it returns fn itself with the modifiers")
        return sk(func)

    @staticmethod
    def _is_kind(obj: object) -> bool:
        return (
            callable(obj)
            and not isinstance(obj, type)
            and callable(getattr(obj, "retry", None))
            and isinstance(getattr(obj, "has_blocking_calls", None), bool)
        )


class Skclass(metaclass=_LegacyName):
    """Deprecated: ``Skclass(C)`` is ``sk(C)``, the class itself with modifiers and ``_shared_meta``."""

    def __new__(cls, klass: C) -> C:  # type: ignore[misc]
        _deprecated("Skclass(C)", "sk(C) (or @sk on the class); it returns C itself")
        return sk(klass)

    @staticmethod
    def _is_kind(obj: object) -> bool:
        return isinstance(obj, type) and "_blocking_methods" in vars(obj)


class AsyncSkfunction(metaclass=_LegacyName):
    """Deprecated: ``AsyncSkfunction(fn)`` is ``sk(fn).asynced()``, an awaitable call of ``fn``."""

    @overload
    def __new__(  # type: ignore[misc]
        cls, func: Callable[P, Coroutine[Any, Any, T]]
    ) -> DeferredCall[P, Coroutine[Any, Any, T]]: ...
    @overload
    def __new__(  # type: ignore[misc]
        cls, func: Callable[P, R]
    ) -> DeferredCall[P, Coroutine[Any, Any, R]]: ...
    def __new__(cls, func: Callable[P, R]) -> Any:
        _deprecated("AsyncSkfunction(fn)", "sk(fn).asynced() (or fn.asynced() on an @sk function)")
        target: SkFunction[P, R] = modifiable()(func)
        return target.asynced()

    @staticmethod
    def _is_kind(obj: object) -> bool:
        return isinstance(obj, Modified) and repr(obj).find(".asynced()") >= 0
