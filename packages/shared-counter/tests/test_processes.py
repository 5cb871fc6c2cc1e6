"""Exactness across processes: every atomic operation, the lock, and pickling into children."""

from __future__ import annotations

import multiprocessing.context
from collections.abc import Callable
from typing import Any

import pytest
import shared_counter_workers as workers

from shared_counter import SharedMemoryCounter

Make = Callable[..., SharedMemoryCounter]
JOIN = 120.0


def _run_all(
    ctx: multiprocessing.context.BaseContext, target: Any, args_list: list[tuple[Any, ...]]
) -> None:
    """Start every child, let them go together, join them all and check they succeeded."""
    start = ctx.Event()
    procs = [ctx.Process(target=target, args=(*args, start)) for args in args_list]  # type: ignore[attr-defined]
    for proc in procs:
        proc.start()
    start.set()
    for proc in procs:
        proc.join(JOIN)
    for proc in procs:
        if proc.is_alive():
            proc.kill()
            proc.join()
    assert [proc.exitcode for proc in procs] == [0] * len(procs)


@pytest.mark.timeout(300)
@pytest.mark.parametrize("mode", ["increment", "plus_equal", "locked", "locked_read_write"])
def test_three_processes_times_20000_end_at_exactly_60000(
    make_counter: Make, ctx: multiprocessing.context.BaseContext, mode: str
) -> None:
    counter = make_counter(f"x{mode[:6]}")
    _run_all(ctx, workers.count, [(counter.name, counter.run_id, 20_000, mode)] * 3)
    assert counter.value == 60_000


@pytest.mark.timeout(300)
def test_minus_equal_from_three_processes_is_exact(
    make_counter: Make, ctx: multiprocessing.context.BaseContext
) -> None:
    counter = make_counter(initial_value=30_000)
    _run_all(ctx, workers.count, [(counter.name, counter.run_id, 10_000, "minus_equal")] * 3)
    assert counter.value == 0


@pytest.mark.timeout(300)
def test_compare_and_swap_loops_under_contention_are_exact(
    make_counter: Make, ctx: multiprocessing.context.BaseContext
) -> None:
    counter = make_counter()
    _run_all(ctx, workers.count, [(counter.name, counter.run_id, 5_000, "cas")] * 2)
    assert counter.value == 10_000


@pytest.mark.timeout(300)
def test_exchange_under_contention_loses_and_duplicates_nothing(
    make_counter: Make, ctx: multiprocessing.context.BaseContext
) -> None:
    counter = make_counter(width=8)
    out = ctx.Queue()
    tokens = [list(range(1 + i * 100_000, 1 + i * 100_000 + 3_000)) for i in range(2)]
    start = ctx.Event()
    procs = [
        ctx.Process(
            target=workers.exchange_tokens, args=(counter.name, counter.run_id, t, start, out)
        )  # type: ignore[attr-defined]
        for t in tokens
    ]
    for proc in procs:
        proc.start()
    start.set()
    returned = [out.get(timeout=JOIN) for _ in procs]
    for proc in procs:
        proc.join(JOIN)
    assert [proc.exitcode for proc in procs] == [0, 0]
    seen = sorted([*returned[0], *returned[1], counter.value])
    assert seen == sorted([0, *tokens[0], *tokens[1]])


@pytest.mark.timeout(120)
def test_a_pickled_counter_reconnects_in_a_child(
    make_counter: Make, ctx: multiprocessing.context.BaseContext
) -> None:
    counter = make_counter("pickled", width=8, initial_value=5)
    out = ctx.Queue()
    proc = ctx.Process(target=workers.increment_pickled, args=(counter, 10, out))  # type: ignore[attr-defined]
    proc.start()
    name, run_id, width, created, pid = out.get(timeout=JOIN)
    proc.join(JOIN)
    assert proc.exitcode == 0
    assert (name, run_id, width, created) == ("pickled", counter.run_id, 8, False)
    assert pid == proc.pid  # the child really ran it
    assert counter.value == 15


@pytest.mark.timeout(120)
def test_lock_held_in_the_parent_blocks_children(
    make_counter: Make, ctx: multiprocessing.context.BaseContext
) -> None:
    counter = make_counter()
    start = ctx.Event()
    lock = counter.get_lock()
    proc = ctx.Process(
        target=workers.count, args=(counter.name, counter.run_id, 100, "increment", start)
    )  # type: ignore[attr-defined]
    with lock:
        proc.start()
        start.set()
        # the child is blocked on our lock: nothing it does can change the value while we hold it
        assert counter.value == 0
        proc.join(0.5)
        assert counter.value == 0
        counter.value = 1000
    proc.join(JOIN)
    assert proc.exitcode == 0
    assert counter.value == 1100


# a fork from the test process (which has threads): Python 3.12+ warns about any such fork
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
@pytest.mark.timeout(120)
def test_forked_children_inherit_a_working_handle(make_counter: Make) -> None:
    import sys

    if sys.platform == "darwin":
        pytest.skip("fork is unsafe on macOS")
    fork = multiprocessing.get_context("fork")
    counter = make_counter()
    lock = counter.get_lock()
    start = fork.Event()
    with lock:  # held across the fork: the child must not believe it holds it
        procs = [
            fork.Process(
                target=workers.count, args=(counter.name, counter.run_id, 2_000, "locked", start)
            )
            for _ in range(2)
        ]
        for proc in procs:
            proc.start()
    start.set()
    for _ in range(2_000):
        counter.increment()
    for proc in procs:
        proc.join(JOIN)
    assert [proc.exitcode for proc in procs] == [0, 0]
    assert counter.value == 6_000
