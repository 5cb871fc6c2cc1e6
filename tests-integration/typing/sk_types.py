"""What a type checker sees of ``@sk`` functions, methods, classes and their modifier chains.

Checked by mypy (``mypy --strict``, the repository's settings), never run: each ``assert_type`` fails
the check when the type it names changes, and each ``# type: ignore[code]`` marks a call that must
stay an error (strict mode reports an ignore that is no longer needed). See ``README.md`` here.
"""

from __future__ import annotations

from collections.abc import Coroutine, Sized
from concurrent.futures import Future
from typing import Any, TypeVar

from typing_extensions import assert_type

from sk_modifiers import DeferredCall, ModifiedCall, SkFunction, blocking, sk
from suitkaise.sk import AsyncSkfunction, Skclass, Skfunction

T = TypeVar("T")


@sk
def add(a: int, b: int) -> int:
    return a + b


@sk
async def fetch(url: str, *, retries: int = 0) -> bytes:
    return url.encode() * (retries + 1)


@sk
@blocking
def crunch(values: list[float]) -> float:
    return sum(values)


@sk
class Store:
    def save(self, key: str) -> bool:
        return bool(key)

    @sk
    def load(self, key: str, default: int = 0) -> int:
        return len(key) + default


def direct_calls_are_unchanged() -> None:
    reveal: SkFunction[[int, int], int] = add
    assert_type(reveal(1, 2), int)
    assert_type(add(1, 2), int)
    assert_type(add(a=1, b=2), int)
    assert_type(crunch([1.0]), float)
    assert_type(add.__name__, str)
    assert_type(add.has_blocking_calls, bool)
    assert_type(add.blocking_calls, list[str])


def modifiers_keep_the_signature() -> None:
    assert_type(add.timeout(1.0)(1, 2), int)
    assert_type(add.retry(3, delay=0.1)(1, b=2), int)
    assert_type(add.rate_limit(5.0)(1, 2), int)
    assert_type(add.rate_limit(5.0).retry().timeout(2.0)(1, 2), int)
    chain: ModifiedCall[[int, int], int] = add.retry(2)
    assert_type(chain(1, 2), int)
    add.timeout(1.0)("1", 2)  # type: ignore[arg-type]
    add.retry(2)(1)  # type: ignore[call-arg]
    add.rate_limit(5.0)(1, 2, 3)  # type: ignore[call-arg]


async def background_and_asynced() -> None:
    assert_type(add.background()(1, 2), Future[int])
    assert_type(add.timeout(1.0).background()(1, 2), Future[int])
    assert_type(add.background().retry(2).timeout(1.0)(1, 2), Future[int])
    background: DeferredCall[[int, int], Future[int]] = add.background()
    assert_type(background(1, 2).result(), int)
    coroutine = assert_type(crunch.asynced()([1.0]), Coroutine[Any, Any, float])
    assert_type(await coroutine, float)
    assert_type(await crunch.asynced().timeout(2.0).retry(2)([1.0]), float)
    add.background().asynced()  # type: ignore[attr-defined]
    add.asynced().background()  # type: ignore[attr-defined]
    add.background()("1", 2)  # type: ignore[arg-type]


async def async_functions() -> None:
    assert_type(await fetch("u"), bytes)
    assert_type(await fetch.timeout(1.0)("u", retries=2), bytes)
    assert_type(await fetch.asynced()("u"), bytes)  # the coroutine itself, not one around it
    assert_type(await fetch.asynced().retry(2)("u"), bytes)
    assert_type(fetch.background()("u"), Future[bytes])  # run to completion in a pool thread
    await fetch.timeout(1.0)("u", retries="2")  # type: ignore[arg-type]


def methods_bind_their_instance() -> None:
    store = Store()
    assert_type(store, Store)  # @sk on a class keeps the class
    assert_type(store.save("k"), bool)
    assert_type(store.load("k"), int)
    assert_type(store.load.timeout(1.0)("k", default=3), int)
    assert_type(store.load.background()("k"), Future[int])
    assert_type(Store.load(store, "k"), int)  # on the class: the function, self first
    assert_type(Store.load.retry(2)(store, "k"), int)
    store.load.timeout(1.0)(store, "k")  # type: ignore[arg-type]


@sk
def first(items: list[T]) -> T:
    return items[0]


def generic_functions_stay_generic() -> None:
    assert_type(first([1]), int)
    assert_type(first.timeout(1.0)(["a"]), str)
    assert_type(first.background()([1.5]), Future[float])


def functions_of_any_kind() -> None:
    assert_type(sk(len), SkFunction[[Sized], int])  # a builtin
    assert_type(sk(lambda x: x).__name__, str)


def plain(a: int, b: int) -> int:
    return a + b


async def names_of_suitkaise_0_4() -> None:
    assert_type(Skfunction(plain)(1, 2), int)  # deprecated: sk(plain)
    assert_type(Skfunction(plain).timeout(1.0)(1, 2), int)
    assert_type(await AsyncSkfunction(plain)(1, 2), int)  # deprecated: sk(plain).asynced()
    assert_type(Skclass(Store), type[Store])
    Skfunction(plain).retry(2)("1", 2)  # type: ignore[arg-type]
