"""Seed 001, section ``Pool``: every code block, every modifier combination, through ``suitkaise.processing``."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import Future
from typing import Any

import kit_examples_workers as w
import pytest

from suitkaise.processing import Pool, PoolError, PoolTimeoutError, Skprocess

pytestmark = pytest.mark.timeout(180)

items = list(range(12))
squares = [x * x for x in items]
args_tuples = [(1, 2), (3, 4), (5, 6), (7, 8)]
sums = [3, 7, 11, 15]
fn = w.square


@pytest.fixture
def pool() -> Iterator[Pool]:
    pool = Pool(workers=2)
    try:
        yield pool
    finally:
        pool.terminate()


def test_basic_usage_and_constructor() -> None:
    pool = Pool(workers=4)
    try:
        # basic usage
        results = pool.map(w.process, items)
        assert results == squares
        assert pool.workers == 4
    finally:
        pool.close()
    default = Pool()  # None = number of CPUs
    try:
        assert default.workers >= 1
        assert default.map(fn, [3]) == [9]
    finally:
        default.terminate()


def test_map_and_every_modifier(pool: Pool) -> None:
    results = pool.map(fn, items)
    assert results == squares

    # star - unpacks tuples as function arguments
    results = pool.star().map(w.add, [(1, 2), (3, 4)])
    assert results == [3, 7]  # fn(1, 2), fn(3, 4)

    # with timeout
    results = pool.map.timeout(30.0)(fn, items)
    assert results == squares

    # background - returns Future
    future = pool.map.background()(fn, items)
    assert isinstance(future, Future)
    results = future.result(timeout=120)
    assert results == squares

    # async
    async def asynced() -> list[Any]:
        return list(await pool.map.asynced()(fn, items))

    assert asyncio.run(asynced()) == squares

    # combine modifiers
    future = pool.map.timeout(30.0).background()(fn, items)
    assert future.result(timeout=120) == squares

    async def combined() -> list[Any]:
        return list(await pool.map.asynced().timeout(30.0)(fn, items))

    assert asyncio.run(combined()) == squares

    # star composes with all modifiers
    results = pool.star().map.timeout(30.0)(w.add, args_tuples)
    assert results == sums
    future = pool.star().map.background()(w.add, args_tuples)
    assert future.result(timeout=120) == sums

    async def star_async() -> list[Any]:
        return list(await pool.star().map.asynced()(w.add, args_tuples))

    assert asyncio.run(star_async()) == sums


def test_map_accepts_any_iterable_and_keeps_input_order(pool: Pool) -> None:
    assert pool.map(w.square_slow_first, iter(range(6))) == [x * x for x in range(6)]
    assert pool.map(fn, (x for x in range(5))) == [0, 1, 4, 9, 16]
    assert pool.map(fn, []) == []


def test_unordered_map_and_every_modifier(pool: Pool) -> None:
    results = pool.unordered_map(fn, items)
    assert isinstance(results, list)
    assert sorted(results) == squares  # completion order: compare as multisets

    # star - unpacks tuples as function arguments
    results = pool.star().unordered_map(w.add, [(1, 2), (3, 4)])
    assert sorted(results) == [3, 7]

    # with timeout
    assert sorted(pool.unordered_map.timeout(30.0)(fn, items)) == squares

    # background - returns Future
    future = pool.unordered_map.background()(fn, items)
    assert sorted(future.result(timeout=120)) == squares

    # async
    async def asynced() -> list[Any]:
        return list(await pool.unordered_map.asynced()(fn, items))

    assert sorted(asyncio.run(asynced())) == squares

    # star composes with all modifiers
    assert sorted(pool.star().unordered_map.timeout(30.0)(w.add, args_tuples)) == sums
    future = pool.star().unordered_map.background()(w.add, args_tuples)
    assert sorted(future.result(timeout=120)) == sums

    async def star_async() -> list[Any]:
        return list(await pool.star().unordered_map.asynced()(w.add, args_tuples))

    assert sorted(asyncio.run(star_async())) == sums


def test_imap_and_every_modifier(pool: Pool) -> None:
    seen: list[int] = []
    for result in pool.imap(fn, items):
        seen.append(w.process(result))  # process(result)
    assert seen == [x**4 for x in items]  # in order

    # star - unpacks tuples as function arguments
    assert list(pool.star().imap(w.add, [(1, 2), (3, 4)])) == [3, 7]

    # with timeout (per-item)
    assert list(pool.imap.timeout(10.0)(fn, items)) == squares

    # background - collects to list
    future = pool.imap.background()(fn, items)
    results = future.result(timeout=120)  # list
    assert results == squares

    # async - collects to list
    async def asynced() -> Any:
        return await pool.imap.asynced()(fn, items)

    results = asyncio.run(asynced())
    assert isinstance(results, list)
    assert results == squares

    # star composes with all modifiers
    assert list(pool.star().imap.timeout(10.0)(w.add, args_tuples)) == sums
    future = pool.star().imap.background()(w.add, args_tuples)
    assert future.result(timeout=120) == sums

    async def star_async() -> Any:
        return await pool.star().imap.asynced()(w.add, args_tuples)

    assert asyncio.run(star_async()) == sums


def test_imap_is_lazy_and_in_order(pool: Pool) -> None:
    iterator = pool.imap(w.square_slow_first, range(6))
    assert next(iterator) == 0  # blocks on next() until item 0 (the slow one) is ready
    assert list(iterator) == [1, 4, 9, 16, 25]


def test_unordered_imap_and_every_modifier(pool: Pool) -> None:
    seen = [w.process(result) for result in pool.unordered_imap(fn, items)]
    assert sorted(seen) == sorted(x**4 for x in items)

    # star - unpacks tuples as function arguments
    assert sorted(pool.star().unordered_imap(w.add, [(1, 2), (3, 4)])) == [3, 7]

    # with timeout
    assert sorted(pool.unordered_imap.timeout(30.0)(fn, items)) == squares

    # background - collects to list
    future = pool.unordered_imap.background()(fn, items)
    results = future.result(timeout=120)  # list
    assert isinstance(results, list)
    assert sorted(results) == squares

    # async - collects to list
    async def asynced() -> Any:
        return await pool.unordered_imap.asynced()(fn, items)

    results = asyncio.run(asynced())
    assert isinstance(results, list)
    assert sorted(results) == squares

    # star composes with all modifiers
    assert sorted(pool.star().unordered_imap.timeout(30.0)(w.add, args_tuples)) == sums
    future = pool.star().unordered_imap.background()(w.add, args_tuples)
    assert sorted(future.result(timeout=120)) == sums

    async def star_async() -> Any:
        return await pool.star().unordered_imap.asynced()(w.add, args_tuples)

    assert sorted(asyncio.run(star_async())) == sums


def test_star_modifier_section(pool: Pool) -> None:
    # without star: fn receives a single tuple argument
    assert pool.map(w.first_of, [(1, 2), (3, 4)]) == [102, 304]  # fn((1, 2), ), fn((3, 4), )
    # with star: fn receives unpacked arguments
    assert pool.star().map(w.add, [(1, 2), (3, 4)]) == [3, 7]  # fn(1, 2), fn(3, 4)

    # Works with all methods
    assert pool.star().map(w.add, args_tuples) == sums
    assert list(pool.star().imap(w.add, args_tuples)) == sums
    assert sorted(pool.star().unordered_imap(w.add, args_tuples)) == sums
    assert sorted(pool.star().unordered_map(w.add, args_tuples)) == sums

    # Works with other modifiers
    assert pool.star().map.timeout(30.0)(w.add, args_tuples) == sums

    async def main() -> Any:
        return await pool.star().imap.asynced()(w.add, args_tuples)

    assert asyncio.run(main()) == sums


def test_timeout_modifier_expires_with_pool_timeout_error(pool: Pool) -> None:
    with pytest.raises(PoolTimeoutError):
        pool.map.timeout(1.0)(w.sleep_then_square, [1, -1, 2])
    # the pool replaced the stuck worker and still works
    assert pool.map(fn, [1, 2, 3]) == [1, 4, 9]
    results = pool.imap.timeout(2.0)(w.sleep_then_square, [3, -1])
    assert next(results) == 9
    with pytest.raises(PoolTimeoutError):  # per item
        next(results)
    assert pool.map(fn, [4]) == [16]


# --- Using Skprocess with Pool ---------------------------------------------------------------------


class ProcessItem(Skprocess):
    def __init__(self, item: int) -> None:
        self.item = item
        self.process_config.runs = 1

    def __run__(self) -> None:
        self.result_data = w.heavy_computation(self.item)

    def __result__(self) -> int:
        return self.result_data


def test_skprocess_class_with_pool(pool: Pool) -> None:
    sizes = [10, 200, 3000, 5, 0, 77]
    # Pool creates instances and runs them
    results = pool.map(ProcessItem, sizes)
    assert results == [w.heavy_computation(n) for n in sizes]


# --- context manager, close() and terminate() ------------------------------------------------------


def test_context_manager_closes_the_pool() -> None:
    with Pool(workers=4) as pool:
        results = pool.map(fn, items)
    # pool is closed on exit
    assert results == squares
    with pytest.raises(PoolError):
        pool.map(fn, items)


def test_close_and_terminate() -> None:
    pool = Pool(workers=2)
    future = pool.imap.background()(
        fn, items
    )  # submitted at the call (map.background submits later)
    pool.close()  # wait for all active processes to finish
    assert future.result(timeout=120) == squares
    with pytest.raises(PoolError):
        pool.map(fn, [1])

    pool = Pool(workers=2)
    stuck = pool.map.background()(w.sleep_then_square, [-1, -1])
    pool.terminate()  # forcefully terminate all processes
    with pytest.raises(PoolError):
        stuck.result(timeout=60)


def test_close_lets_a_background_map_started_before_it_finish() -> None:
    """``pool.close()  # wait for all active processes to finish``: a ``map.background()`` call made
    before ``close()`` is work already started, so its Future gets the results."""
    pool = Pool(workers=2)
    try:
        future = pool.map.background()(fn, items)
        pool.close()
        assert future.result(timeout=120) == squares
    finally:
        pool.terminate()
