"""Pool arguments and the modifiers of ``imap`` calls that users get wrong: each gives a clear error before any item
runs; and the reprs that show what a call will do."""

from __future__ import annotations

import os

import pool_workers as w
import pytest

from suitkaise_processing import Pool, PoolError

pytestmark = pytest.mark.timeout(120)


def test_default_worker_count_is_the_cpus_this_process_may_use() -> None:
    counter = getattr(os, "process_cpu_count", None)
    expected = counter() if counter is not None else len(os.sched_getaffinity(0))
    with Pool() as pool:
        assert pool.workers == expected


def test_initializer_must_be_callable() -> None:
    with pytest.raises(TypeError, match=r"Pool\(initializer=\.\.\.\) must be callable"):
        Pool(workers=1, initializer=5)  # type: ignore[arg-type]


@pytest.mark.parametrize("seconds", [-1, True, "5"])
def test_timeout_must_be_a_non_negative_number(seconds: object) -> None:
    with Pool(workers=1) as pool:
        with pytest.raises(ValueError, match="timeout must be a number of seconds >= 0"):
            pool.imap.timeout(seconds)  # type: ignore[arg-type]


def test_background_and_asynced_exclude_each_other() -> None:
    with Pool(workers=1) as pool:
        with pytest.raises(PoolError, match=r"either \.background\(\) or \.asynced\(\)"):
            pool.imap.background().asynced()
        with pytest.raises(PoolError, match=r"either \.background\(\) or \.asynced\(\)"):
            pool.imap.asynced().background()


def test_the_second_argument_must_be_iterable() -> None:
    with Pool(workers=1) as pool:
        with pytest.raises(
            TypeError, match="the second argument must be an iterable of items, not int"
        ):
            pool.map(w.double, 5)  # type: ignore[arg-type]


def test_reprs_show_the_pool_and_the_modifiers_of_a_call() -> None:
    with Pool(workers=1) as pool:
        assert repr(pool).startswith("<Pool workers=1 ")
        assert repr(pool.star()) == f"<{pool!r}.star()>"
        assert repr(pool.imap) == "<pool.imap>"
        assert repr(pool.imap.timeout(2).background()) == "<pool.imap.timeout(2.0).background()>"
        assert (
            repr(pool.star().unordered_imap.asynced()) == "<pool.star().unordered_imap.asynced()>"
        )
    # looked up on the class, imap is its descriptor (for help() and introspection)
    assert Pool.imap is Pool.__dict__["imap"]
