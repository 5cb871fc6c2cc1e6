"""Random sequences of operations behave exactly like a plain bounded integer (hypothesis)."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared_counter import SharedMemoryCounter

WIDTHS = {4: (-(2**31), 2**31 - 1), 8: (-(2**63), 2**63 - 1)}

big = st.integers(min_value=-(2**64), max_value=2**64)
small = st.integers(min_value=-5, max_value=5)
amount = st.one_of(small, big)
op = st.one_of(
    st.tuples(st.just("increment"), amount),
    st.tuples(st.just("decrement"), amount),
    st.tuples(st.just("add"), amount),
    st.tuples(st.just("fetch_add"), amount),
    st.tuples(st.just("exchange"), amount),
    st.tuples(st.just("cas_hit"), amount),
    st.tuples(st.just("cas_miss"), amount),
    st.tuples(st.just("plus_equal"), amount),
    st.tuples(st.just("minus_equal"), amount),
    st.tuples(st.just("store"), amount),
)


def _expected(name: str, current: int, n: int) -> tuple[int, object]:
    """(new value, returned result) of ``name`` on a plain integer."""
    if name in ("increment", "add", "plus_equal"):
        return current + n, current + n
    if name in ("decrement", "minus_equal"):
        return current - n, current - n
    if name == "fetch_add":
        return current + n, current
    if name == "exchange":
        return n, current
    if name == "cas_hit":
        return n, True
    if name == "cas_miss":
        return current, False
    return n, None  # store


def _apply(counter: SharedMemoryCounter, name: str, n: int) -> object:
    if name == "increment":
        return counter.increment(n)
    if name == "decrement":
        return counter.decrement(n)
    if name == "add":
        return counter.add(n)
    if name == "fetch_add":
        return counter.fetch_add(n)
    if name == "exchange":
        return counter.exchange(n)
    if name == "cas_hit":
        return counter.compare_and_swap(counter.value, n)
    if name == "cas_miss":
        return counter.compare_and_swap(counter.value + 1, n)
    if name == "plus_equal":
        counter.value += n
        return counter.value
    if name == "minus_equal":
        counter.value -= n
        return counter.value
    counter.value = n
    return None


@pytest.mark.parametrize("width", [4, 8])
@settings(max_examples=150, deadline=None)
@given(start=small, ops=st.lists(op, max_size=30))
def test_operations_match_a_bounded_integer(
    width: int, start: int, ops: list[tuple[str, int]]
) -> None:
    low, high = WIDTHS[width]
    counter = SharedMemoryCounter(
        "m", create=True, run_id="h" + uuid.uuid4().hex[:6], initial_value=start, width=width
    )
    try:
        current = start
        for name, n in ops:
            new, result = _expected(name, current, n)
            fits_arg = name not in ("exchange", "store", "cas_hit", "cas_miss") or low <= n <= high
            if not (low <= new <= high and fits_arg):
                with pytest.raises(OverflowError):
                    _apply(counter, name, n)
            else:
                assert _apply(counter, name, n) == result
                current = new
            assert counter.value == current
    finally:
        counter.unlink()
        counter.close()
