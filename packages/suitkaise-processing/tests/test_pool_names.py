"""The argument names of other pools (``multiprocessing.Pool``, ``concurrent.futures``, loky, joblib,
mpire, pebble) raise a ``PoolArgumentError`` (a ``TypeError`` and a ``PoolError``) that says what to
write instead (issue 15). No worker starts: the error comes before the pool exists."""

from __future__ import annotations

import pool_workers as w
import pytest

from suitkaise_processing import Pool, PoolArgumentError, PoolError


@pytest.mark.parametrize(
    ("kwargs", "instead"),
    [
        ({"processes": 2}, "Pool(workers=2)"),
        ({"max_workers": 2}, "Pool(workers=2)"),
        ({"n_jobs": 4}, "Pool(workers=4)"),
        ({"maxtasksperchild": 5}, "Pool(max_tasks_per_child=5)"),
        ({"max_tasks": 5}, "Pool(max_tasks_per_child=5)"),
        ({"mp_context": None}, "set_start_method('spawn')"),
    ],
)
def test_other_pools_names_say_what_to_write(kwargs: dict[str, object], instead: str) -> None:
    with pytest.raises(PoolArgumentError) as info:
        Pool(**kwargs)  # type: ignore[arg-type]
    error = info.value
    assert isinstance(error, TypeError)
    assert isinstance(error, PoolError)
    name = next(iter(kwargs))
    assert f"Pool() has no argument `{name}`" in str(error)
    assert instead in str(error)


def test_a_typo_gets_the_closest_argument_and_the_list() -> None:
    with pytest.raises(PoolArgumentError) as info:
        Pool(worker=2)  # type: ignore[call-arg]
    message = str(info.value)
    assert "unexpected keyword argument `worker`; did you mean `workers=`?" in message
    assert "Its arguments are: workers=, " in message
    assert "initializer=" in message


def test_every_misnamed_argument_is_reported() -> None:
    with pytest.raises(PoolArgumentError) as info:
        Pool(processes=2, maxtasksperchild=3)  # type: ignore[call-arg]
    message = str(info.value)
    assert "Pool(workers=2)" in message
    assert "Pool(max_tasks_per_child=3)" in message


def test_multiprocessing_positional_order_asks_for_keywords() -> None:
    with pytest.raises(PoolArgumentError, match="pass the others by keyword") as info:
        Pool(2, w.set_init_value, ("ready",))  # type: ignore[misc]
    assert "got 3" in str(info.value)


def test_the_right_names_still_work() -> None:
    with Pool(workers=1, initializer=w.set_init_value, initargs=("ready",)) as pool:
        assert pool.map(w.read_init_value, [0]) == ["ready"]
