"""What a type checker sees of ``Pool`` calls: each method, each modifier chain, ``star()``, an
``Skprocess`` class as the function, and an ``Skprocess``'s own ``result()``. Checked by mypy, never
run (see ``sk_types.py``)."""

from __future__ import annotations

from collections.abc import Coroutine
from concurrent.futures import Executor, Future
from typing import Any

from typing_extensions import assert_type

from suitkaise_processing import Pool, Skprocess
from suitkaise_processing._private.pool._calls import Results, ResultStream


def sq(x: int) -> int:
    return x * x


def describe(a: int, b: float) -> str:
    return f"{a}/{b}"


class Square(Skprocess):
    def __init__(self, x: int) -> None:
        self.x = x

    def __run__(self) -> None:
        self.x *= self.x

    def __result__(self) -> int:
        return self.x


class Silent(Skprocess):
    """No ``__result__``: nothing to know about the result."""

    def __run__(self) -> None:
        pass


def lists(pool: Pool) -> None:
    assert_type(pool.map(sq, [1, 2]), list[int])
    assert_type(pool.map(sq, range(3), timeout=5.0), list[int])
    assert_type(pool.unordered_map(sq, (1, 2)), list[int])
    assert_type(pool.map.timeout(5)(sq, [1, 2]), list[int])
    assert_type(pool.map.retry(2).rate_limit(3.0)(sq, [1]), list[int])
    assert_type(pool.unordered_map.rate_limit(3.0).timeout(1.0)(sq, [1]), list[int])
    assert_type(pool.map(sq, [1, 2], item_timeout=2.0), list[int])
    assert_type(pool.map.item_timeout(2.0).timeout(9)(sq, [1, 2]), list[int])
    assert_type(pool.map(str, [1, 2]), list[str])
    pool.map(sq, ["not an int"])  # type: ignore[arg-type]
    pool.map(describe, [1])  # type: ignore[arg-type]
    pool.map.timeout(1.0)(sq, [b"x"])  # type: ignore[arg-type]
    assert_type(pool.map(sq, [1, 2], chunksize=10, progress={"desc": "squares"}), list[int])
    assert_type(pool.map.progress(desc="squares").timeout(5)(sq, [1]), list[int])
    pool.map(sq, [1], chunksize="10")  # type: ignore[call-overload]
    pool.map(sq, [1], chunk_size=10)  # type: ignore[call-overload]


def several_iterables(pool: Pool) -> None:
    """``pool.map(fn, xs, ys)`` is ``fn(x, y)`` per pair, as with ``Executor.map``: the result is
    typed, the items are not checked against ``fn``."""
    assert_type(pool.map(describe, [1, 2], [0.5, 1.5]), list[str])
    assert_type(pool.unordered_map(describe, [1], [0.5], timeout=5.0), list[str])
    assert_type(pool.map.background()(describe, [1], [0.5]), Future[list[str]])
    assert_type(pool.imap(describe, [1], [0.5], chunksize=1), Results[str])
    assert_type(pool.imap.background()(describe, [1], [0.5]), Future[list[str]])
    assert_type(pool.map(Square, [1], [2]), list[int])


def as_an_executor(pool: Pool) -> None:
    assert_type(pool.submit(sq, 1), Future[int])
    assert_type(pool.submit(describe, 1, b=2.0).result(), str)
    pool.submit(sq, "1")  # type: ignore[arg-type]
    executor: Executor = pool
    assert_type(executor.submit(sq, 1), Future[int])


async def background_and_asynced(pool: Pool) -> None:
    assert_type(pool.map.background()(sq, [1, 2]), Future[list[int]])
    assert_type(pool.map.background().timeout(2).retry(2)(sq, [1, 2]), Future[list[int]])
    assert_type(pool.unordered_map.timeout(2).background()(sq, [1]), Future[list[int]])
    coroutine = assert_type(pool.map.asynced()(sq, [1, 2]), Coroutine[Any, Any, list[int]])
    assert_type(await coroutine, list[int])
    assert_type(await pool.map.asynced().timeout(1.0)(sq, [1, 2]), list[int])
    pool.map.background().asynced()  # type: ignore[attr-defined]
    pool.map.asynced().background()  # type: ignore[attr-defined]


async def iterators(pool: Pool) -> None:
    assert_type(pool.imap(sq, [1, 2]), Results[int])
    assert_type(pool.unordered_imap(sq, [1, 2]), Results[int])
    assert_type(next(pool.imap(sq, [1, 2])), int)
    assert_type(pool.unordered_imap.timeout(1)(sq, [1]), Results[int])
    assert_type(pool.imap.item_timeout(2.0)(sq, [1]), Results[int])
    assert_type(pool.imap.background().item_timeout(2.0)(sq, [1]), Future[list[int]])
    assert_type(pool.imap.background()(sq, [1]), Future[list[int]])
    assert_type(pool.imap.timeout(1.0).background().timeout(2.0)(sq, [1]), Future[list[int]])
    assert_type(pool.imap.asynced()(sq, [1]), ResultStream[int])
    assert_type(await pool.imap.asynced()(sq, [1]), list[int])
    async for value in pool.unordered_imap.asynced()(sq, [1]):
        assert_type(value, int)
    pool.imap(sq, [1]).close()
    pool.imap.retry(2)  # type: ignore[attr-defined]  # a retry cannot take back handed-out items
    pool.imap(sq, ["x"])  # type: ignore[arg-type]
    assert_type(pool.imap(sq, [1], chunksize=4, progress=True), Results[int])
    assert_type(pool.imap.progress(desc="d").asynced()(sq, [1]), ResultStream[int])
    pool.imap(sq, [1], timeout=1.0)  # type: ignore[call-overload]  # .timeout() bounds each wait


async def star(pool: Pool) -> None:
    assert_type(pool.star().map(describe, [(1, 2.0)]), list[str])
    assert_type(pool.star().unordered_map.timeout(1.0)(describe, [(1, 2.0)]), list[str])
    assert_type(pool.star().map.background()(describe, [(1, 2.0)]), Future[list[str]])
    assert_type(await pool.star().map.asynced()(describe, [(1, 2.0)]), list[str])
    assert_type(pool.star().imap(describe, [(1, 2.0)]), Results[str])
    assert_type(pool.star().unordered_imap(describe, [(1, 2.0)]), Results[str])
    assert_type(pool.star().map(describe, zip([1, 2], [0.5, 1.5], strict=True)), list[str])
    assert_type(pool.star().map(max, [(1, 2), (3, 4)]), list[int])
    pool.star().map(describe, [(1, "2")])  # type: ignore[arg-type]  # checked against describe
    pool.star().imap(describe, [(1,)])  # type: ignore[arg-type]  # a missing argument
    pool.star().map(describe, [1, 2])  # type: ignore[list-item]  # items must be tuples


async def process_classes(pool: Pool) -> None:
    assert_type(pool.map(Square, [1, 2]), list[int])
    assert_type(pool.unordered_map.timeout(5.0)(Square, [1, 2]), list[int])
    assert_type(pool.map.background()(Square, [1, 2]), Future[list[int]])
    assert_type(await pool.map.asynced()(Square, [1, 2]), list[int])
    assert_type(pool.imap(Square, [1, 2]), Results[int])
    assert_type(pool.imap.background()(Square, [1]), Future[list[int]])
    assert_type(await pool.unordered_imap.asynced()(Square, [1]), list[int])
    assert_type(pool.star().map(Square, [(1,)]), list[int])
    assert_type(pool.map(Silent, [1, 2]), list[Any])


async def process_results(square: Square, silent: Silent) -> None:
    """An ``Skprocess``'s own ``result()`` and ``run()`` give what its ``__result__()`` returns."""
    assert_type(square.result(), int)
    assert_type(square.run(timeout=5.0), int)
    assert_type(square.result.timeout(1.0)(), int)
    assert_type(square.result.background()(), Future[int])
    assert_type(await square.run.asynced()(), int)
    assert_type(silent.result(), Any)
    assert_type(square.wait(1.0), bool)
    assert_type(square.wait.timeout(1.0)(), bool)
    square.result("1")  # type: ignore[arg-type]


def with_statement() -> None:
    with Pool(2) as pool:
        assert_type(pool, Pool)
        assert_type(pool.map(sq, [1]), list[int])
