"""The typed shapes of the Pool's call methods (``pool.map``, ``pool.star().imap``, ...).

At run time ``map``/``unordered_map`` are ``sk_modifiers`` modifiable methods and
``imap``/``unordered_imap`` :class:`~.pool.PoolCall` descriptors; these protocols tell type checkers
what each call, and each modifier chain on it, returns: ``pool.map(sq, [1, 2])`` is ``list[int]``,
``pool.map.background()(sq, [1, 2])`` a ``Future[list[int]]``, ``pool.imap(sq, [1, 2])`` a
``Results[int]`` (an iterator with ``close()``), ...

Why two modifier mechanisms: ``map``/``unordered_map`` return a list, so ``.retry()`` (run the call
again) and ``.rate_limit()`` (space calls out) mean what they mean for any function, and they use the
``sk_modifiers`` chain. ``imap``/``unordered_imap`` return a live iterator whose items are handed out
as they arrive: a retry cannot take back what was handed out, and ``.timeout()`` bounds each wait for
the next result rather than the call; so they keep their own small chain (``.timeout()``,
``.background()``, ``.asynced()``), :class:`~.pool.PoolCall`.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Generator,
    Iterable,
    Iterator,
)
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, overload

if TYPE_CHECKING:
    from suitkaise_processing._private.skprocess.base import Skprocess

T = TypeVar("T")
R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)
C_co = TypeVar("C_co", covariant=True)

_Errors = type[BaseException] | tuple[type[BaseException], ...]


class Method(Protocol[C_co]):
    """A class attribute whose instances see a ``C_co`` (the descriptor protocol)."""

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Any: ...
    @overload
    def __get__(self, obj: object, owner: type | None = None) -> C_co: ...


# --- map / unordered_map ---------------------------------------------------------------------------
class MapCall(Protocol):
    """``pool.map`` / ``pool.unordered_map``: a list of results."""

    @overload
    def __call__(
        self,
        fn_or_process: type[Skprocess],
        iterable: Iterable[Any],
        *,
        timeout: float | None = None,
    ) -> list[Any]: ...
    @overload
    def __call__(
        self,
        fn_or_process: Callable[[T], R],
        iterable: Iterable[T],
        *,
        timeout: float | None = None,
    ) -> list[R]: ...
    def timeout(self, seconds: float) -> MapCall: ...
    def retry(
        self,
        times: int = 3,
        delay: float = 1.0,
        backoff_factor: float = 1.0,
        exceptions: _Errors = ...,
    ) -> MapCall: ...
    def rate_limit(self, per_second: float) -> MapCall: ...
    def background(self) -> BackgroundMapCall: ...
    def asynced(self) -> AsyncMapCall: ...


class BackgroundMapCall(Protocol):
    """``pool.map.background()``: a ``Future`` of the list."""

    @overload
    def __call__(
        self,
        fn_or_process: type[Skprocess],
        iterable: Iterable[Any],
        *,
        timeout: float | None = None,
    ) -> concurrent.futures.Future[list[Any]]: ...
    @overload
    def __call__(
        self,
        fn_or_process: Callable[[T], R],
        iterable: Iterable[T],
        *,
        timeout: float | None = None,
    ) -> concurrent.futures.Future[list[R]]: ...
    def timeout(self, seconds: float) -> BackgroundMapCall: ...
    def retry(
        self,
        times: int = 3,
        delay: float = 1.0,
        backoff_factor: float = 1.0,
        exceptions: _Errors = ...,
    ) -> BackgroundMapCall: ...
    def rate_limit(self, per_second: float) -> BackgroundMapCall: ...


class AsyncMapCall(Protocol):
    """``pool.map.asynced()``: await it for the list."""

    @overload
    def __call__(
        self,
        fn_or_process: type[Skprocess],
        iterable: Iterable[Any],
        *,
        timeout: float | None = None,
    ) -> Coroutine[Any, Any, list[Any]]: ...
    @overload
    def __call__(
        self,
        fn_or_process: Callable[[T], R],
        iterable: Iterable[T],
        *,
        timeout: float | None = None,
    ) -> Coroutine[Any, Any, list[R]]: ...
    def timeout(self, seconds: float) -> AsyncMapCall: ...
    def retry(
        self,
        times: int = 3,
        delay: float = 1.0,
        backoff_factor: float = 1.0,
        exceptions: _Errors = ...,
    ) -> AsyncMapCall: ...
    def rate_limit(self, per_second: float) -> AsyncMapCall: ...


class StarMapCall(Protocol):
    """``pool.star().map`` / ``.unordered_map``: ``fn(*item)`` for every item; a list."""

    @overload
    def __call__(
        self,
        fn_or_process: type[Skprocess],
        iterable: Iterable[Iterable[Any]],
        *,
        timeout: float | None = None,
    ) -> list[Any]: ...
    @overload
    def __call__(
        self,
        fn_or_process: Callable[..., R],
        iterable: Iterable[Iterable[Any]],
        *,
        timeout: float | None = None,
    ) -> list[R]: ...
    def timeout(self, seconds: float) -> StarMapCall: ...
    def retry(
        self,
        times: int = 3,
        delay: float = 1.0,
        backoff_factor: float = 1.0,
        exceptions: _Errors = ...,
    ) -> StarMapCall: ...
    def rate_limit(self, per_second: float) -> StarMapCall: ...
    def background(self) -> BackgroundStarMapCall: ...
    def asynced(self) -> AsyncStarMapCall: ...


class BackgroundStarMapCall(Protocol):
    """``pool.star().map.background()``: a ``Future`` of the list."""

    def __call__(
        self,
        fn_or_process: Callable[..., R],
        iterable: Iterable[Iterable[Any]],
        *,
        timeout: float | None = None,
    ) -> concurrent.futures.Future[list[R]]: ...
    def timeout(self, seconds: float) -> BackgroundStarMapCall: ...
    def retry(
        self,
        times: int = 3,
        delay: float = 1.0,
        backoff_factor: float = 1.0,
        exceptions: _Errors = ...,
    ) -> BackgroundStarMapCall: ...
    def rate_limit(self, per_second: float) -> BackgroundStarMapCall: ...


class AsyncStarMapCall(Protocol):
    """``pool.star().map.asynced()``: await it for the list."""

    def __call__(
        self,
        fn_or_process: Callable[..., R],
        iterable: Iterable[Iterable[Any]],
        *,
        timeout: float | None = None,
    ) -> Coroutine[Any, Any, list[R]]: ...
    def timeout(self, seconds: float) -> AsyncStarMapCall: ...
    def retry(
        self,
        times: int = 3,
        delay: float = 1.0,
        backoff_factor: float = 1.0,
        exceptions: _Errors = ...,
    ) -> AsyncStarMapCall: ...
    def rate_limit(self, per_second: float) -> AsyncStarMapCall: ...


# --- imap / unordered_imap -------------------------------------------------------------------------
class ResultStream(Protocol[R]):
    """``pool.imap.asynced()(...)``: ``await`` it for the list, or ``async for`` over the results."""

    def __await__(self) -> Generator[Any, Any, list[R]]: ...
    def __aiter__(self) -> AsyncIterator[R]: ...
    def __anext__(self) -> Awaitable[R]: ...


class Results(Iterator[R_co], Protocol[R_co]):
    """``pool.imap(...)``: the results as they come."""

    def close(self) -> None:
        """Stop early: items not yet run are dropped (idempotent)."""

    def cancel(self) -> None:
        """Stop now from any thread: the workers running its items are stopped and replaced."""


class IMapCall(Protocol):
    """``pool.imap`` / ``pool.unordered_imap``: an iterator of results."""

    @overload
    def __call__(self, fn_or_process: type[Skprocess], iterable: Iterable[Any]) -> Results[Any]: ...
    @overload
    def __call__(self, fn_or_process: Callable[[T], R], iterable: Iterable[T]) -> Results[R]: ...
    def timeout(self, seconds: float) -> IMapCall: ...
    def background(self) -> BackgroundIMapCall: ...
    def asynced(self) -> AsyncIMapCall: ...


class BackgroundIMapCall(Protocol):
    """``pool.imap.background()``: a ``Future`` of the list of results."""

    def __call__(
        self, fn_or_process: Callable[[T], R], iterable: Iterable[T]
    ) -> concurrent.futures.Future[list[R]]: ...
    def timeout(self, seconds: float) -> BackgroundIMapCall: ...


class AsyncIMapCall(Protocol):
    """``pool.imap.asynced()``: awaitable, and async-iterable."""

    def __call__(
        self, fn_or_process: Callable[[T], R], iterable: Iterable[T]
    ) -> ResultStream[R]: ...
    def timeout(self, seconds: float) -> AsyncIMapCall: ...


class StarIMapCall(Protocol):
    """``pool.star().imap`` / ``.unordered_imap``: ``fn(*item)``; an iterator of results."""

    def __call__(
        self, fn_or_process: Callable[..., R], iterable: Iterable[Iterable[Any]]
    ) -> Results[R]: ...
    def timeout(self, seconds: float) -> StarIMapCall: ...
    def background(self) -> BackgroundStarIMapCall: ...
    def asynced(self) -> AsyncStarIMapCall: ...


class BackgroundStarIMapCall(Protocol):
    """``pool.star().imap.background()``: a ``Future`` of the list of results."""

    def __call__(
        self, fn_or_process: Callable[..., R], iterable: Iterable[Iterable[Any]]
    ) -> concurrent.futures.Future[list[R]]: ...
    def timeout(self, seconds: float) -> BackgroundStarIMapCall: ...


class AsyncStarIMapCall(Protocol):
    """``pool.star().imap.asynced()``: awaitable, and async-iterable."""

    def __call__(
        self, fn_or_process: Callable[..., R], iterable: Iterable[Iterable[Any]]
    ) -> ResultStream[R]: ...
    def timeout(self, seconds: float) -> AsyncStarIMapCall: ...
