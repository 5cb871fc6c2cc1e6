"""RedisCounter against a real redis-server (the ``redis_server`` fixture of tools/pytest_redis)."""

from __future__ import annotations

import multiprocessing as mp
import pickle
import socket

import pytest

from shared_counter import CounterClosedError
from suitkaise_processing import CounterBackendError, ProcessError, RedisCounter

redis = pytest.importorskip(
    "redis", reason="redis-py is missing: pip install 'suitkaise-processing[redis]'"
)

CTX = mp.get_context("forkserver")


def _add_many(counter: RedisCounter, times: int, start: mp.synchronize.Event) -> None:
    start.wait(60)
    for i in range(times):
        if i % 2:
            counter.value += 1
        else:
            counter.increment()


def test_operations_match_the_shared_memory_counter_api(redis_url: str) -> None:
    counter = RedisCounter("ops", redis_url=redis_url, initial_value=5)
    assert counter.created
    assert counter.value == 5
    assert counter.width == 8
    assert not RedisCounter("ops", redis_url=redis_url, initial_value=99).created
    assert counter.increment() == 6
    assert counter.increment(4) == 10
    assert counter.decrement(3) == 7
    assert counter.add(-2) == 5
    assert counter.fetch_add(10) == 5
    assert counter.value == 15
    assert counter.compare_and_swap(15, 1)
    assert not counter.compare_and_swap(15, 2)
    assert counter.exchange(40) == 1
    counter.value += 2
    counter.value -= 1
    assert counter.value == 41
    counter.value = -3
    assert counter.value == -3
    assert type(counter.value + 1) is int
    assert counter.wait_for(-3, timeout=1)
    assert counter.wait_for(lambda v: v < 0, timeout=1)
    assert not counter.wait_for(100, timeout=0.05)
    counter.unlink()
    assert counter.value == 0  # a counter that does not exist reads 0
    assert counter.increment() == 1


def test_names_and_run_ids_never_collide(redis_url: str) -> None:
    a = RedisCounter("same", redis_url=redis_url)
    b = RedisCounter("same", redis_url=redis_url, run_id="other")
    c = RedisCounter("same2", redis_url=redis_url)
    a.increment(1)
    b.increment(2)
    c.increment(3)
    assert (a.value, b.value, c.value) == (1, 2, 3)
    keys = sorted(redis.Redis.from_url(redis_url).keys("*"))
    assert keys == [b"sk:counter:{/same2}", b"sk:counter:{/same}", b"sk:counter:{other/same}"]
    with pytest.raises(ValueError):
        RedisCounter("a/b", redis_url=redis_url)
    with pytest.raises(ValueError):
        RedisCounter("x", redis_url=redis_url, timeout=0)


def test_64_bit_range_and_other_inplace_ops(redis_url: str) -> None:
    counter = RedisCounter("range", redis_url=redis_url, initial_value=2**63 - 2)
    assert counter.increment() == 2**63 - 1
    with pytest.raises(OverflowError, match="64 bits"):
        counter.increment()
    assert counter.value == 2**63 - 1  # unchanged
    with pytest.raises(OverflowError):
        counter.value = 2**63
    with pytest.raises(TypeError, match="not atomic"):
        counter.value *= 2


def test_lock_is_the_same_everywhere(redis_url: str) -> None:
    counter = RedisCounter("locked", redis_url=redis_url)
    other = RedisCounter("locked", redis_url=redis_url)
    with counter.get_lock():
        assert not other.lock.acquire(blocking=False)
        counter.value = counter.value + 1
    assert other.lock.acquire(blocking=False)
    other.lock.release()
    assert other.value == 1


def test_pickles_by_name_and_url(redis_url: str) -> None:
    counter = RedisCounter("pickled", redis_url=redis_url, run_id="r", timeout=2.5)
    counter.increment(7)
    copy = pickle.loads(pickle.dumps(counter))
    assert (copy.name, copy.run_id, copy.redis_url, copy.timeout) == (
        "pickled",
        "r",
        redis_url,
        2.5,
    )
    assert copy.value == 7
    assert not copy.created


def test_close(redis_url: str) -> None:
    with RedisCounter("closed", redis_url=redis_url) as counter:
        counter.increment()
    assert counter.closed
    with pytest.raises(CounterClosedError):
        counter.increment()
    assert RedisCounter("closed", redis_url=redis_url).value == 1


@pytest.mark.timeout(120)
def test_four_processes_times_500_increments_are_exact(redis_url: str) -> None:
    counter = RedisCounter("exact", redis_url=redis_url)
    start = CTX.Event()
    procs = [CTX.Process(target=_add_many, args=(counter, 500, start)) for _ in range(4)]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(100)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    assert counter.value == 2000


@pytest.mark.timeout(60)
def test_unreachable_server_is_a_clear_error_within_the_timeout() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connections are refused
        with pytest.raises(CounterBackendError, match="could not be reached") as info:
            RedisCounter("down", redis_url=f"redis://127.0.0.1:{port}/0", timeout=0.5)
    assert isinstance(info.value, ProcessError)
    assert isinstance(info.value, ConnectionError)


@pytest.mark.timeout(60)
def test_silent_server_times_out_within_the_bound() -> None:
    with socket.socket() as sock:  # accepts connections (backlog) and never answers
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        url = f"redis://127.0.0.1:{sock.getsockname()[1]}/0"
        with pytest.raises(CounterBackendError, match=r"within 0\.3 s"):
            RedisCounter("silent", redis_url=url, timeout=0.3)


@pytest.mark.timeout(60)
def test_server_restart_raises_then_works_again(redis_server: object, redis_url: str) -> None:
    counter = RedisCounter("restart", redis_url=redis_url)
    counter.increment(3)
    redis_server.stop()  # type: ignore[attr-defined]
    try:
        with pytest.raises(CounterBackendError):
            counter.increment()
    finally:
        redis_server.start()  # type: ignore[attr-defined]
    assert counter.increment() == 1  # no persistence: the restarted server starts empty
