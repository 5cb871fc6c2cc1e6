"""What type checkers see of an ``Skprocess``'s result: ``process.result()`` and ``process.run()``
give what the class's ``__result__()`` returns, and so does each item of ``pool.map(ProcessClass,
items)``.

Only type checkers import this module (under ``TYPE_CHECKING``): nothing here exists at run time.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, overload

if TYPE_CHECKING:
    from concurrent.futures import Future

T = TypeVar("T")
R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)


class ProcessResult(Protocol[R_co]):
    """An ``Skprocess`` (class or instance) whose ``__result__()`` returns ``R_co``."""

    def __result__(self) -> R_co: ...


class ResultCall(Protocol[R]):
    """``process.result`` / ``process.run`` bound to a process: call it for the result (``timeout``
    in seconds), or derive ``.timeout(s)``, ``.background()`` (a ``Future``), ``.asynced()``."""

    def __call__(self, timeout: float | None = None) -> R: ...
    def timeout(self, seconds: float) -> ResultCall[R]: ...
    def background(self) -> ResultCall[Future[R]]: ...
    def asynced(self) -> ResultCall[Coroutine[Any, Any, R]]: ...


class ResultMethod(Protocol):
    """``Skprocess.result`` and ``Skprocess.run``: on a process whose class defines ``__result__``,
    a :class:`ResultCall` of what it returns (``Any`` without one)."""

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Any: ...
    @overload
    def __get__(self, obj: ProcessResult[T], owner: type | None = None) -> ResultCall[T]: ...
    @overload
    def __get__(self, obj: object, owner: type | None = None) -> ResultCall[Any]: ...
