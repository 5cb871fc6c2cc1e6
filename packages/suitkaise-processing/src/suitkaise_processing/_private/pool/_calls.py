"""The typed shapes of the Pool's call methods (``pool.map``, ``pool.star().imap``, ...).

At run time ``map``/``unordered_map`` are ``sk_modifiers`` modifiable methods and
``imap``/``unordered_imap`` :class:`~.pool.PoolCall` descriptors; these protocols tell type checkers
what each call, and each modifier chain on it, returns: ``pool.map(sq, [1, 2])`` is ``list[int]``,
``pool.map.background()(sq, [1, 2])`` a ``Future[list[int]]``, ``pool.imap(sq, [1, 2])`` a
:class:`Results` of ``int``, ...

A method's signature is written once, as a plain function (:func:`map_signature`, ...), and captured
with its type variables by :class:`Call` (a ``ParamSpec``); the modifiers derive the other shapes
from it. An ``Skprocess`` class as the function gives what its ``__result__()`` returns, which no
signature can see: an ``Any`` per item (the first overload of ``__call__``).

Why two modifier mechanisms: ``map``/``unordered_map`` return a list, so ``.retry()`` (run the call
again) and ``.rate_limit()`` (space calls out) mean what they mean for any function, and they use the
``sk_modifiers`` chain. ``imap``/``unordered_imap`` return a live iterator whose items are handed out
as they arrive: a retry cannot take back what was handed out, and ``.timeout()`` bounds each wait for
the next result rather than the call; so they keep their own small chain (``.timeout()``,
``.background()``, ``.asynced()``), :class:`~.pool.PoolCall`.
"""

from __future__ import annotations

from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Generator,
    Iterable,
    Iterator,
)
from typing import TYPE_CHECKING, Any, ParamSpec, Protocol, TypeVar, overload

if TYPE_CHECKING:
    from concurrent.futures import Future

    from suitkaise_processing._private.skprocess.base import Skprocess

P = ParamSpec("P")
T = TypeVar("T")
R = TypeVar("R")
S = TypeVar("S")
R_co = TypeVar("R_co", covariant=True)
C_co = TypeVar("C_co", covariant=True)


class Method(Protocol[C_co]):
    """A class attribute whose instances see a ``C_co`` (the descriptor protocol)."""

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Any: ...
    @overload
    def __get__(self, obj: object, owner: type | None = None) -> C_co: ...


class Results(Iterator[R_co], Protocol[R_co]):
    """``pool.imap(...)``: the results as they come."""

    def close(self) -> None:
        """Stop early: items not yet run are dropped (idempotent)."""

    def cancel(self) -> None:
        """Stop now from any thread: the workers running its items are stopped and replaced."""


class ResultStream(Protocol[R]):
    """``pool.imap.asynced()(...)``: ``await`` it for the list, or ``async for`` over the results."""

    def __await__(self) -> Generator[Any, Any, list[R]]: ...
    def __aiter__(self) -> AsyncIterator[R]: ...
    def __anext__(self) -> Awaitable[R]: ...


class Call(Protocol[P, R, S]):
    """``pool.map`` and its modified calls: called with a function it returns ``R``, with an
    ``Skprocess`` class ``S``."""

    @overload
    def __call__(
        self,
        fn_or_process: type[Skprocess],
        iterable: Iterable[Any],
        *,
        timeout: float | None = None,
    ) -> S: ...
    @overload
    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R: ...
    def timeout(self, seconds: float) -> Call[P, R, S]: ...
    def retry(
        self,
        times: int = 3,
        delay: float = 1.0,
        backoff_factor: float = 1.0,
        exceptions: type[BaseException] | tuple[type[BaseException], ...] = ...,
    ) -> Call[P, R, S]: ...
    def rate_limit(self, per_second: float) -> Call[P, R, S]: ...
    def background(self) -> Call[P, Future[R], Future[S]]: ...
    def asynced(self) -> Call[P, Coroutine[Any, Any, R], Coroutine[Any, Any, S]]: ...


class StreamCall(Protocol[P, R, S]):
    """``pool.imap`` and its modified calls, the same way (``.timeout()`` is their only modifier
    after ``.background()`` or ``.asynced()``)."""

    @overload
    def __call__(self, fn_or_process: type[Skprocess], iterable: Iterable[Any]) -> S: ...
    @overload
    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R: ...
    def timeout(self, seconds: float) -> StreamCall[P, R, S]: ...


class IterCall(StreamCall[P, Results[R], Results[Any]], Protocol[P, R]):
    """``pool.imap``: ``Results[R]``, where ``R`` is the result of one item."""

    def timeout(self, seconds: float) -> IterCall[P, R]: ...
    def background(self) -> StreamCall[P, Future[list[R]], Future[list[Any]]]: ...
    def asynced(self) -> StreamCall[P, ResultStream[R], ResultStream[Any]]: ...


# --- the signatures, each written once: they return the result of one item ------------------------
def map_signature(
    fn_or_process: Callable[[T], R], iterable: Iterable[T], *, timeout: float | None = None
) -> R:
    """``pool.map(fn, items)`` (a list of these), also ``unordered_map``."""
    raise NotImplementedError


def star_map_signature(
    fn_or_process: Callable[..., R],
    iterable: Iterable[Iterable[Any]],
    *,
    timeout: float | None = None,
) -> R:
    """``pool.star().map(fn, items)``: ``fn(*item)`` for every item."""
    raise NotImplementedError


def imap_signature(fn_or_process: Callable[[T], R], iterable: Iterable[T]) -> R:
    """``pool.imap(fn, items)``, also ``unordered_imap``."""
    raise NotImplementedError


def star_imap_signature(fn_or_process: Callable[..., R], iterable: Iterable[Iterable[Any]]) -> R:
    """``pool.star().imap(fn, items)``."""
    raise NotImplementedError
