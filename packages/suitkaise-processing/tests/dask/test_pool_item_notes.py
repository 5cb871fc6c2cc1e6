"""A failed item's exception names the item (index and short repr) on both backends (issue 15).

The script-level tests (file names, source lines, 3.10) are in ``tests/test_pool_tracebacks.py``.
"""

from __future__ import annotations

from collections.abc import Callable

import pool_workers as w
import pytest

from suitkaise_processing import Pool
from suitkaise_processing._private.wire import RemoteTraceback

pytestmark = pytest.mark.timeout(180)

PoolFactory = Callable[..., Pool]


def test_the_failed_item_is_named(pool_factory: PoolFactory) -> None:
    pool = pool_factory()
    with pytest.raises(w.ItemError) as info:
        pool.map(w.fail_on_7, range(20))
    assert getattr(info.value, "__notes__", None) == ["while processing item 7: 7"]
    cause = info.value.__cause__
    assert isinstance(cause, RemoteTraceback)
    assert cause.tb.rstrip().endswith("while processing item 7: 7")


def test_star_items_are_named_by_their_arguments(pool_factory: PoolFactory) -> None:
    pool = pool_factory()
    with pytest.raises(TypeError) as info:
        pool.star().map(w.add, [(1, 2), (3, "x"), (5, 6)])  # type: ignore[arg-type]
    assert getattr(info.value, "__notes__", None) == ["while processing item 1: (3, 'x')"]
