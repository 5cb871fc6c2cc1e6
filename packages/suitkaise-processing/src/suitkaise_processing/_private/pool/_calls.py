"""The typed shapes of the Pool's call methods (``pool.map``, ``pool.star().imap``, ...).

At run time ``map``/``unordered_map`` are ``sk_modifiers`` modifiable methods and
``imap``/``unordered_imap`` :class:`~.pool.PoolCall` descriptors; these protocols tell type checkers
what each call, and each modifier chain on it, returns: ``pool.map(sq, [1, 2])`` is ``list[int]``,
``pool.map.background()(sq, [1, 2])`` a ``Future[list[int]]``, ``pool.imap(sq, [1, 2])`` a
:class:`Results` of ``int``, ...

A method's signature is written once, as a plain function (:mod:`._signatures`), and captured with
its type variables by the protocols' ``ParamSpec``. An ``Skprocess`` class as the function
gives, per item, what its ``__result__()`` returns (``ProcessResult``): a second overload of
each ``__call__``, generic in that type, which is why every shape of result (a list, a ``Future``
of one, a coroutine of one, an iterator, ...) has its own protocol: the overload has to name it.
The same holds for the call with several iterables (its result type ``S`` is bound per call).
Python's typing has no higher-kinded types (a type variable cannot stand for ``list``/``Future``),
so the six protocols repeat one pattern of three overloads. Tried and refused by mypy (2.4): an
overloaded signature function captured by ``Callable[P, R]`` keeps only its first overload; a
union ``type[ProcessResult[R]] | Callable[[T], R]`` infers nothing for an ``Skprocess`` class
(``Never``); a wrapper protocol ``Background[F]`` whose ``__call__`` unpacks ``F`` as
``Callable[P, R]`` sees an overloaded ``__call__`` as ``Any``.

Only type checkers import this module (``pool.py`` under ``TYPE_CHECKING``): creating these
protocol classes would add ~1 ms to every import of ``Pool``, workers included.

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
from typing import TYPE_CHECKING, Any, Protocol, TypedDict, TypeVar, overload

from suitkaise_processing._private.pool._signatures import P, R, T

if TYPE_CHECKING:
    from concurrent.futures import Future

    from typing_extensions import Self, Unpack

    from suitkaise_processing._private.pool._progress import ProgressOption
    from suitkaise_processing._private.skprocess.result_types import ProcessResult

S = TypeVar("S")  # what the function returns when several iterables are given
R_co = TypeVar("R_co", covariant=True)
C_co = TypeVar("C_co", covariant=True)

Exceptions = type[BaseException] | tuple[type[BaseException], ...]


class ImapOptions(TypedDict, total=False):
    """The keyword arguments of ``pool.imap(...)`` and ``pool.unordered_imap(...)``."""

    chunksize: int | None
    progress: ProgressOption | None


class MapOptions(ImapOptions, total=False):
    """The keyword arguments of ``pool.map(...)`` and ``pool.unordered_map(...)``."""

    timeout: float | None
    item_timeout: float | None


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


# --- the modifiers, by what they keep: each returns the same shape of call ------------------------
class Timed(Protocol):
    """``.timeout(seconds)``, ``.item_timeout(seconds)`` and ``.progress(**tqdm_options)``: every
    call keeps them (``imap``'s only ones after its mode)."""

    def timeout(self, seconds: float) -> Self: ...
    def item_timeout(self, seconds: float) -> Self: ...
    def progress(self, **options: Any) -> Self: ...


class Repeated(Timed, Protocol):
    """``map``'s ``sk_modifiers`` chain: also ``.retry()`` and ``.rate_limit()``."""

    def retry(
        self,
        times: int = 3,
        delay: float = 1.0,
        backoff_factor: float = 1.0,
        exceptions: Exceptions = ...,
    ) -> Self: ...
    def rate_limit(self, per_second: float) -> Self: ...


# --- map / unordered_map: a list --------------------------------------------------------------
class ListCall(Repeated, Protocol[P, R]):
    """``pool.map`` and its modified calls: a ``list`` of ``R``."""

    @overload
    def __call__(
        self,
        fn_or_process: type[ProcessResult[T]],
        /,
        *iterables: Iterable[Any],
        **options: Unpack[MapOptions],
    ) -> list[T]: ...
    @overload
    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> list[R]: ...
    @overload
    def __call__(
        self,
        fn_or_process: Callable[..., S],
        iterable: Iterable[Any],
        iterable2: Iterable[Any],
        /,
        *iterables: Iterable[Any],
        **options: Unpack[MapOptions],
    ) -> list[S]: ...
    def background(self) -> FutureListCall[P, R]: ...
    def asynced(self) -> AsyncListCall[P, R]: ...


class FutureListCall(Repeated, Protocol[P, R]):
    """``pool.map.background()``: a ``Future`` of the list."""

    @overload
    def __call__(
        self,
        fn_or_process: type[ProcessResult[T]],
        /,
        *iterables: Iterable[Any],
        **options: Unpack[MapOptions],
    ) -> Future[list[T]]: ...
    @overload
    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> Future[list[R]]: ...
    @overload
    def __call__(
        self,
        fn_or_process: Callable[..., S],
        iterable: Iterable[Any],
        iterable2: Iterable[Any],
        /,
        *iterables: Iterable[Any],
        **options: Unpack[MapOptions],
    ) -> Future[list[S]]: ...


class AsyncListCall(Repeated, Protocol[P, R]):
    """``pool.map.asynced()``: a coroutine of the list."""

    @overload
    def __call__(
        self,
        fn_or_process: type[ProcessResult[T]],
        /,
        *iterables: Iterable[Any],
        **options: Unpack[MapOptions],
    ) -> Coroutine[Any, Any, list[T]]: ...
    @overload
    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> Coroutine[Any, Any, list[R]]: ...
    @overload
    def __call__(
        self,
        fn_or_process: Callable[..., S],
        iterable: Iterable[Any],
        iterable2: Iterable[Any],
        /,
        *iterables: Iterable[Any],
        **options: Unpack[MapOptions],
    ) -> Coroutine[Any, Any, list[S]]: ...


# --- imap / unordered_imap: results as they come ----------------------------------------------
class IterCall(Timed, Protocol[P, R]):
    """``pool.imap`` and ``.timeout()`` of it: :class:`Results` of ``R``."""

    @overload
    def __call__(
        self,
        fn_or_process: type[ProcessResult[T]],
        /,
        *iterables: Iterable[Any],
        **options: Unpack[ImapOptions],
    ) -> Results[T]: ...
    @overload
    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> Results[R]: ...
    @overload
    def __call__(
        self,
        fn_or_process: Callable[..., S],
        iterable: Iterable[Any],
        iterable2: Iterable[Any],
        /,
        *iterables: Iterable[Any],
        **options: Unpack[ImapOptions],
    ) -> Results[S]: ...
    def background(self) -> FutureIterCall[P, R]: ...
    def asynced(self) -> AsyncIterCall[P, R]: ...


class FutureIterCall(Timed, Protocol[P, R]):
    """``pool.imap.background()``: a ``Future`` of the list of results."""

    @overload
    def __call__(
        self,
        fn_or_process: type[ProcessResult[T]],
        /,
        *iterables: Iterable[Any],
        **options: Unpack[ImapOptions],
    ) -> Future[list[T]]: ...
    @overload
    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> Future[list[R]]: ...
    @overload
    def __call__(
        self,
        fn_or_process: Callable[..., S],
        iterable: Iterable[Any],
        iterable2: Iterable[Any],
        /,
        *iterables: Iterable[Any],
        **options: Unpack[ImapOptions],
    ) -> Future[list[S]]: ...


class AsyncIterCall(Timed, Protocol[P, R]):
    """``pool.imap.asynced()``: a :class:`ResultStream` (``await`` it or ``async for`` over it)."""

    @overload
    def __call__(
        self,
        fn_or_process: type[ProcessResult[T]],
        /,
        *iterables: Iterable[Any],
        **options: Unpack[ImapOptions],
    ) -> ResultStream[T]: ...
    @overload
    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> ResultStream[R]: ...
    @overload
    def __call__(
        self,
        fn_or_process: Callable[..., S],
        iterable: Iterable[Any],
        iterable2: Iterable[Any],
        /,
        *iterables: Iterable[Any],
        **options: Unpack[ImapOptions],
    ) -> ResultStream[S]: ...
