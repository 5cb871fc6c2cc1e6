"""The contract of SharedMemoryCounter within one process: names, errors, values, ops, lifetime."""

from __future__ import annotations

import os
import pickle
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import shared_counter
from shared_counter import (
    CounterClosedError,
    CounterError,
    CounterExistsError,
    CounterLock,
    CounterLockError,
    CounterNotFoundError,
    SharedMemoryCounter,
)
from shared_counter._private.names import MAX_OS_NAME

Make = Callable[..., SharedMemoryCounter]
INT32_MAX = 2**31 - 1
INT32_MIN = -(2**31)
INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)


def _shm_entries() -> set[str]:
    return {p for p in os.listdir("/dev/shm") if p.startswith(("sk_", "sem.sk_"))}


# --- construction and names ----------------------------------------------------------------------
def test_public_api_is_exported() -> None:
    for name in shared_counter.__all__:
        assert getattr(shared_counter, name).__doc__ or name == "__version__"


def test_seed_signature_and_defaults(make_counter: Make, run_id: str) -> None:
    created = make_counter("sig", initial_value=7)
    connected = SharedMemoryCounter("sig", False, run_id)  # positional, as the seed documents
    try:
        assert connected.value == 7
        assert created.created
        assert not connected.created
        assert (created.name, created.run_id, created.width) == ("sig", run_id, 4)
    finally:
        connected.close()


def test_default_run_id_is_empty_and_initial_value_zero() -> None:
    name = f"dflt{os.getpid()}"
    counter = SharedMemoryCounter(name, create=True)
    try:
        assert counter.run_id == ""
        assert counter.value == 0
        other = SharedMemoryCounter(name)
        assert other.value == 0
        other.close()
    finally:
        counter.unlink()
        counter.close()


def test_connecting_to_a_missing_counter_raises_not_found(run_id: str) -> None:
    with pytest.raises(CounterNotFoundError) as info:
        SharedMemoryCounter("missing", run_id=run_id)
    err = info.value
    assert isinstance(err, FileNotFoundError)
    assert isinstance(err, CounterError)
    assert "missing" in str(err)
    assert run_id in str(err)
    assert (err.counter_name, err.run_id) == ("missing", run_id)
    again = pickle.loads(pickle.dumps(err))
    assert str(again) == str(err)
    assert again.counter_name == "missing"


def test_creating_an_existing_counter_raises_exists_unless_exist_ok(
    make_counter: Make, run_id: str
) -> None:
    first = make_counter("dup", initial_value=3)
    with pytest.raises(CounterExistsError) as info:
        SharedMemoryCounter("dup", create=True, run_id=run_id)
    assert isinstance(info.value, FileExistsError)
    assert "dup" in str(info.value)
    assert "exist_ok" in str(info.value)
    second = SharedMemoryCounter("dup", create=True, run_id=run_id, initial_value=99, exist_ok=True)
    try:
        assert second.value == 3  # connected: initial_value ignored
        assert not second.created
        second.increment()
        assert first.value == 4
    finally:
        second.close()


@pytest.mark.parametrize(
    ("name", "run_id"),
    [("", "r"), ("a/b", "r"), ("nul\x00", "r"), ("ok", "r/x"), ("ok", "r\x00")],
)
def test_bad_names_and_run_ids_raise_value_error(name: str, run_id: str) -> None:
    with pytest.raises(ValueError):
        SharedMemoryCounter(name, create=True, run_id=run_id)
    with pytest.raises(ValueError):
        SharedMemoryCounter(name, run_id=run_id)


def test_too_long_names_raise_value_error_and_the_limit_is_usable(run_id: str) -> None:
    with pytest.raises(ValueError, match="too long"):
        SharedMemoryCounter("x" * (MAX_OS_NAME + 1), create=True, run_id=run_id)
    with pytest.raises(ValueError, match="too long"):
        SharedMemoryCounter("x", create=True, run_id="r" * MAX_OS_NAME)
    longest = "n" * (MAX_OS_NAME - len(f"sk_c_{len(run_id)}_{run_id}_"))
    counter = SharedMemoryCounter(longest, create=True, run_id=run_id)
    try:
        assert counter.increment() == 1
    finally:
        counter.unlink()
        counter.close()


def test_macos_limit_is_31_with_the_slash() -> None:
    if sys.platform == "darwin":
        assert MAX_OS_NAME == 30
    elif sys.platform.startswith("linux"):
        assert MAX_OS_NAME == 251


def test_names_are_type_checked(run_id: str) -> None:
    with pytest.raises(TypeError):
        SharedMemoryCounter(3, create=True, run_id=run_id)  # type: ignore[arg-type]


@pytest.mark.parametrize("width", [0, 1, 2, 3, 5, 16, True, "4"])
def test_bad_width_raises_value_error(width: object, run_id: str) -> None:
    with pytest.raises(ValueError, match="width"):
        SharedMemoryCounter("w", create=True, run_id=run_id, width=width)  # type: ignore[arg-type]


def test_unusual_characters_are_allowed_and_kept_apart(make_counter: Make) -> None:
    a = make_counter("tâche:1 ü", initial_value=1)
    b = make_counter("t%C3%A2che", initial_value=2)
    assert (a.value, b.value) == (1, 2)
    assert all(entry.isascii() and ":" not in entry for entry in _shm_entries())


def test_run_ids_isolate_counters_even_with_underscores(run_id: str) -> None:
    a = SharedMemoryCounter("b_c", create=True, run_id=run_id + "a", initial_value=1)
    b = SharedMemoryCounter("c", create=True, run_id=run_id + "a_b", initial_value=2)
    c = SharedMemoryCounter("b_c", create=True, run_id=run_id + "z", initial_value=3)
    try:
        a.increment(10)
        assert (a.value, b.value, c.value) == (11, 2, 3)
        with pytest.raises(CounterNotFoundError):
            SharedMemoryCounter("b_c", run_id=run_id + "q")
    finally:
        for counter in (a, b, c):
            counter.unlink()
            counter.close()


def test_every_name_in_dev_shm_starts_with_sk_and_is_owner_only(make_counter: Make) -> None:
    if not Path("/dev/shm").is_dir():
        pytest.skip("no /dev/shm on this platform (macOS keeps POSIX IPC objects in the kernel)")
    before = _shm_entries()
    counter = make_counter("perm")
    ours = {e for e in os.listdir("/dev/shm") if counter.run_id in e} - before
    assert len(ours) == 3, ours  # value, lock, recovery lock
    for entry in ours:
        assert entry.startswith(("sk_", "sem.sk_"))
        assert os.stat(f"/dev/shm/{entry}").st_mode & 0o777 == 0o600
    counter.unlink()
    assert not {e for e in os.listdir("/dev/shm") if counter.run_id in e}


# --- value, width, overflow ----------------------------------------------------------------------
def test_value_get_set_and_plain_arithmetic(make_counter: Make) -> None:
    counter = make_counter(initial_value=5)
    assert counter.value == 5
    assert isinstance(counter.value, int)
    counter.value = 42
    assert counter.value == 42
    assert type(counter.value + 1) is int
    assert counter.value + 1 == 43
    assert f"{counter.value}" == "42"
    assert str(counter.value) == "42"
    assert repr(counter.value) == "42"
    assert pickle.loads(pickle.dumps(counter.value)) == 42
    assert type(pickle.loads(pickle.dumps(counter.value))) is int
    counter.value = counter.value * 2
    assert counter.value == 84
    with pytest.raises(TypeError):
        counter.value = 1.5  # type: ignore[assignment]
    assert counter.value == 84


def test_plus_equal_and_minus_equal_are_adds(make_counter: Make) -> None:
    counter = make_counter(initial_value=10)
    counter.value += 5
    assert counter.value == 15
    counter.value -= 7
    assert counter.value == 8
    counter.value += -3
    assert counter.value == 5


def test_plus_equal_applies_the_delta_not_the_stale_value(make_counter: Make) -> None:
    counter = make_counter(initial_value=0)
    other = SharedMemoryCounter(counter.name, run_id=counter.run_id)
    try:
        seen = counter.value  # a reader holds 0 ...
        other.increment(100)  # ... someone else adds 100 ...
        seen += 1
        assert seen == 1  # the local int is the naive result
        counter.value = seen  # ... assigning it back adds 1, it does not store 1
        assert counter.value == 101
    finally:
        other.close()


def test_plus_equal_value_of_another_counter_is_stored(make_counter: Make) -> None:
    a = make_counter("a", initial_value=5)
    b = make_counter("b", initial_value=100)
    x = a.value
    x += 1
    b.value = x  # not an add on b
    assert b.value == 6
    assert a.value == 5


def test_width_4_range_and_overflow_leaves_value_unchanged(make_counter: Make) -> None:
    counter = make_counter(initial_value=INT32_MAX - 1)
    assert counter.increment() == INT32_MAX
    for op in (
        lambda: counter.increment(),
        lambda: counter.add(1),
        lambda: counter.fetch_add(1),
        lambda: counter.exchange(INT32_MAX + 1),
        lambda: counter.compare_and_swap(INT32_MAX, INT32_MAX + 1),
    ):
        with pytest.raises(OverflowError, match="width=8"):
            op()
        assert counter.value == INT32_MAX
    with pytest.raises(OverflowError):
        counter.value += 1
    with pytest.raises(OverflowError):
        counter.value = INT32_MAX + 1
    assert counter.value == INT32_MAX
    counter.value = INT32_MIN
    with pytest.raises(OverflowError):
        counter.decrement()
    assert counter.value == INT32_MIN
    with pytest.raises(OverflowError):
        make_counter("big", initial_value=INT32_MAX + 1)


def test_width_8(make_counter: Make, run_id: str) -> None:
    counter = make_counter(width=8, initial_value=INT32_MAX)
    assert counter.width == 8
    assert counter.increment() == INT32_MAX + 1
    counter.value = INT64_MAX - 1
    assert counter.increment() == INT64_MAX
    with pytest.raises(OverflowError):
        counter.increment()
    assert counter.value == INT64_MAX
    counter.value = INT64_MIN
    with pytest.raises(OverflowError):
        counter.decrement()
    assert counter.value == INT64_MIN
    connected = SharedMemoryCounter(
        counter.name, run_id=run_id
    )  # width=4 given: the counter's own wins
    try:
        assert connected.width == 8
        assert connected.value == INT64_MIN
    finally:
        connected.close()


# --- atomic operations ---------------------------------------------------------------------------
def test_operation_results(make_counter: Make) -> None:
    counter = make_counter(initial_value=10)
    assert counter.increment() == 11
    assert counter.increment(4) == 15
    assert counter.decrement() == 14
    assert counter.decrement(4) == 10
    assert counter.add(-15) == -5
    assert counter.fetch_add(5) == -5
    assert counter.value == 0
    assert counter.compare_and_swap(1, 9) is False
    assert counter.value == 0
    assert counter.compare_and_swap(0, 9) is True
    assert counter.value == 9
    assert counter.exchange(3) == 9
    assert counter.value == 3


def test_operations_reject_non_integers(make_counter: Make) -> None:
    counter = make_counter(initial_value=1)
    with pytest.raises(TypeError):
        counter.increment(1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        counter.exchange("2")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        counter.compare_and_swap(1, 2.0)  # type: ignore[arg-type]
    assert counter.value == 1
    assert counter.increment() == 2  # the lock was left clean


# --- lock --------------------------------------------------------------------------------------------
def test_lock_is_real_recursive_and_the_same_for_every_handle(make_counter: Make) -> None:
    counter = make_counter()
    lock = counter.get_lock()
    assert isinstance(lock, CounterLock)
    assert counter.lock is lock
    other = pickle.loads(pickle.dumps(counter))  # another handle in this process
    try:
        with lock:
            assert lock.held()
            counter.value += 1
            with counter.lock:
                other.increment()
                other.value += 1
            assert lock.acquire(timeout=0.1)
            lock.release()
        assert not lock.held()
        assert counter.value == 3
        assert lock.acquire(blocking=False)
        lock.release()
    finally:
        other.close()


def test_lock_excludes_other_threads(make_counter: Make) -> None:
    import threading

    counter = make_counter()
    lock = counter.get_lock()
    results: list[bool] = []
    lock.acquire()
    thread = threading.Thread(target=lambda: results.append(lock.acquire(timeout=0.2)))
    thread.start()
    thread.join(30)
    assert results == [False]
    errors: list[BaseException] = []

    def release_from_elsewhere() -> None:
        try:
            lock.release()
        except BaseException as exc:
            errors.append(exc)

    other = threading.Thread(target=release_from_elsewhere)
    other.start()
    other.join(30)
    assert len(errors) == 1
    assert isinstance(errors[0], CounterLockError)
    lock.release()
    with pytest.raises(CounterLockError):
        lock.release()


def test_lock_argument_checks(make_counter: Make) -> None:
    lock = make_counter().get_lock()
    with pytest.raises(ValueError):
        lock.acquire(False, 1.0)
    with pytest.raises(ValueError):
        lock.acquire(timeout=-1)
    assert "CounterLock" in repr(lock)


# --- repr, pickling, wait_for ---------------------------------------------------------------------------
def test_repr_shows_name_run_id_and_value(make_counter: Make, run_id: str) -> None:
    counter = make_counter("rep", initial_value=12)
    assert repr(counter) == f"SharedMemoryCounter(name='rep', run_id='{run_id}', value=12)"
    counter.close()
    assert "value=<closed>" in repr(counter)


def test_pickle_carries_only_name_run_id_width_and_reconnects(make_counter: Make) -> None:
    counter = make_counter("pk", width=8, initial_value=2**40)
    data = pickle.dumps(counter)
    assert len(data) < 200
    assert b"sk_" not in data  # no OS names, no value
    copy = pickle.loads(data)
    try:
        assert (copy.name, copy.run_id, copy.width, copy.value) == ("pk", counter.run_id, 8, 2**40)
        assert not copy.created
        copy.increment()
        assert counter.value == 2**40 + 1
    finally:
        copy.close()
    counter.unlink()
    with pytest.raises(CounterNotFoundError):
        pickle.loads(data)


def test_wait_for_value_predicate_and_timeout(make_counter: Make) -> None:
    import threading

    counter = make_counter()
    assert counter.wait_for(0, timeout=0)
    assert counter.wait_for(lambda v: v >= 0)
    assert counter.wait_for(5, timeout=0.05) is False
    assert counter.wait_for(lambda v: v > 3, timeout=0.05) is False
    timer = threading.Timer(0.05, lambda: counter.increment(5))
    timer.start()
    try:
        assert counter.wait_for(5)  # no timeout
        assert counter.wait_for(lambda v: v == 5, timeout=30)
    finally:
        timer.join()
    with pytest.raises(ValueError):
        counter.wait_for(1, timeout=-1)


# --- lifetime ---------------------------------------------------------------------------------------------
def test_context_manager_closes_and_creator_may_unlink(run_id: str) -> None:
    with SharedMemoryCounter("cm", create=True, run_id=run_id) as counter:
        counter.increment()
        with SharedMemoryCounter("cm", run_id=run_id) as other:
            assert other.value == 1
        assert other.closed
        assert not counter.closed
        counter.unlink()
        assert counter.increment() == 2  # unlinked, still usable until closed
    assert counter.closed
    with pytest.raises(CounterClosedError):
        counter.increment()
    with pytest.raises(CounterClosedError):
        _ = counter.value
    with pytest.raises(CounterNotFoundError):
        SharedMemoryCounter("cm", run_id=run_id)


def test_close_is_idempotent_and_other_handles_keep_working(make_counter: Make) -> None:
    counter = make_counter()
    other = SharedMemoryCounter(counter.name, run_id=counter.run_id)
    other.close()
    other.close()
    assert other.closed
    assert counter.increment() == 1
    with pytest.raises(CounterClosedError):
        other.get_lock().acquire()
    with pytest.raises(CounterClosedError):
        other.value = 3


def test_unlink_twice_is_harmless_and_removes_value_and_lock(run_id: str) -> None:
    counter = SharedMemoryCounter("ul", create=True, run_id=run_id)
    counter.unlink()
    counter.unlink()
    if Path("/dev/shm").is_dir():
        assert not {e for e in os.listdir("/dev/shm") if run_id in e}
    counter.close()
    counter.unlink()  # after close too
    again = SharedMemoryCounter("ul", create=True, run_id=run_id, initial_value=4)
    try:
        assert again.value == 4  # a fresh counter, nothing stale
    finally:
        again.unlink()
        again.close()


def test_recreated_name_is_a_new_counter_for_old_and_new_handles(run_id: str) -> None:
    old = SharedMemoryCounter("re", create=True, run_id=run_id, initial_value=1)
    old.unlink()
    new = SharedMemoryCounter("re", create=True, run_id=run_id, initial_value=50)
    connected = SharedMemoryCounter("re", run_id=run_id)
    try:
        assert connected.value == 50
        old.increment()
        assert (old.value, new.value, connected.value) == (2, 50, 50)
    finally:
        for counter in (old, new, connected):
            counter.close()
        new.unlink()


def test_handles_in_one_process_share_one_mapping_and_lock(make_counter: Make) -> None:
    import gc

    from shared_counter._private import core

    counter = make_counter()
    handles = [SharedMemoryCounter(counter.name, run_id=counter.run_id) for _ in range(50)]
    assert all(h._core is counter._core for h in handles)
    for handle in handles:
        handle.increment()
        handle.close()
    del handles
    gc.collect()
    assert counter.value == 50
    assert core._CORES[counter._names.segment] is counter._core
    mine = [c for c in core._ALL if c.names.segment == counter._names.segment]
    assert mine == [counter._core]


def test_threads_share_the_lock_and_stay_exact(make_counter: Make) -> None:
    import threading

    counter = make_counter()
    other = SharedMemoryCounter(counter.name, run_id=counter.run_id)

    def work(handle: SharedMemoryCounter) -> None:
        for _ in range(2_000):
            handle.increment()
            handle.value += 1
            with handle.get_lock():
                handle.value = handle.value + 1

    threads = [threading.Thread(target=work, args=(h,)) for h in (counter, other, counter, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    other.close()
    assert counter.value == 4 * 2_000 * 3


@pytest.mark.parametrize(
    ("name", "run_id"),
    [
        ("tasks", "my_app"),
        ("workers_ready", "batch_job"),
        ("shared_count", "app"),
        ("slots", "server"),
        ("completed", "pipeline"),
        ("my_counter", ""),
    ],
)
def test_every_name_of_the_seed_fits_the_macos_limit(name: str, run_id: str) -> None:
    from shared_counter._private.names import os_name

    assert len(os_name("c", name, run_id)) <= 31  # macOS PSHMNAMLEN, with the leading slash
