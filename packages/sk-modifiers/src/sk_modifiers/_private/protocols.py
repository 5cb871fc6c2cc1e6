"""The types a type checker sees of what ``sk`` returns and of its modifier chains.

``@sk`` returns the function itself with the modifiers as attributes (and, in a class body, a
``ModifiableMethod`` descriptor); the chains are :class:`~.chain.Modified` objects. Neither can
spell its signature at run time, so these protocols state it for type checkers, from the function's
own signature captured with a ``ParamSpec``:

- :class:`SkFunction` ``[P, R]``: the decorated function (``add(1, 2)`` is ``R``); on an instance, a
  bound one without its first parameter;
- :class:`ModifiedCall` ``[P, R]``: ``.timeout()``/``.retry()``/``.rate_limit()`` of it, same call;
- :class:`DeferredCall` ``[P, R]``: after ``.background()`` (``R`` is a ``Future`` of the result) or
  ``.asynced()`` (a coroutine of it); ``.background()``/``.asynced()`` are not offered again.

An ``async def`` function has ``R = Coroutine[Any, Any, T]``: ``.asynced()`` keeps that coroutine
and ``.background()`` gives a ``Future[T]`` (the modifiers await the coroutine).

Nothing here exists at run time beyond the class objects: the modifiers are never checked against
these protocols with ``isinstance``.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, Protocol, TypeVar, overload

if TYPE_CHECKING:
    from concurrent.futures import Future
    from types import CoroutineType

P = ParamSpec("P")
Q = ParamSpec("Q")
R = TypeVar("R")
T = TypeVar("T")
S = TypeVar("S")

Exceptions = type[BaseException] | tuple[type[BaseException], ...]


class DeferredCall(Protocol[P, R]):
    """A call after ``.background()`` (``R`` is a ``Future``) or ``.asynced()`` (a coroutine)."""

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R: ...
    def timeout(self, seconds: float) -> DeferredCall[P, R]: ...
    def retry(
        self,
        times: int = 3,
        delay: float = 1.0,
        backoff_factor: float = 1.0,
        exceptions: Exceptions = ...,
    ) -> DeferredCall[P, R]: ...
    def rate_limit(self, per_second: float) -> DeferredCall[P, R]: ...


class ModifiedCall(DeferredCall[P, R], Protocol[P, R]):
    """``fn.timeout(...)``, ``fn.retry(...)``, ``fn.rate_limit(...)``: the call of ``fn`` (same
    arguments, same result), with every modifier still available."""

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R: ...
    def timeout(self, seconds: float) -> ModifiedCall[P, R]: ...
    def retry(
        self,
        times: int = 3,
        delay: float = 1.0,
        backoff_factor: float = 1.0,
        exceptions: Exceptions = ...,
    ) -> ModifiedCall[P, R]: ...
    def rate_limit(self, per_second: float) -> ModifiedCall[P, R]: ...
    # An ``async def`` function's result is a ``Coroutine`` for mypy, a ``CoroutineType`` (its
    # subclass) for pyright: R is invariant, so each needs its overload.
    @overload
    def background(
        self: ModifiedCall[P, Coroutine[Any, Any, T]],
    ) -> DeferredCall[P, Future[T]]: ...
    @overload
    def background(
        self: ModifiedCall[P, CoroutineType[Any, Any, T]],
    ) -> DeferredCall[P, Future[T]]: ...
    @overload
    def background(self) -> DeferredCall[P, Future[R]]: ...
    @overload
    def asynced(
        self: ModifiedCall[P, Coroutine[Any, Any, T]],
    ) -> DeferredCall[P, Coroutine[Any, Any, T]]: ...
    @overload
    def asynced(
        self: ModifiedCall[P, CoroutineType[Any, Any, T]],
    ) -> DeferredCall[P, Coroutine[Any, Any, T]]: ...
    @overload
    def asynced(self) -> DeferredCall[P, Coroutine[Any, Any, R]]: ...


class SkFunction(ModifiedCall[P, R], Protocol[P, R]):
    """What ``@sk`` (or ``modifiable()``) gives a function: the function, plus the modifiers and
    what ``sk`` found out about it. In a class body, instances see it bound (first parameter gone)."""

    __name__: str
    __qualname__: str

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R: ...
    @property
    def has_blocking_calls(self) -> bool: ...
    @property
    def blocking_calls(self) -> list[str]: ...
    @overload
    def __get__(self, obj: None, owner: type | None = None) -> SkFunction[P, R]: ...
    @overload
    def __get__(
        self: SkFunction[Concatenate[S, Q], R], obj: S, owner: type | None = None
    ) -> SkFunction[Q, R]: ...
