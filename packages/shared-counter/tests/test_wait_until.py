"""``wait_until``: the polling that ``SharedMemoryCounter.wait_for`` (and suitkaise's RedisCounter) use."""

from __future__ import annotations

import threading

import pytest

from shared_counter import wait_until


def test_a_value_already_there_returns_at_once() -> None:
    assert wait_until(lambda: 3, 3, timeout=0) is True
    assert wait_until(lambda: 3, lambda v: v > 2, timeout=0) is True


def test_a_value_that_never_comes_returns_false_after_the_timeout() -> None:
    reads = []

    def read() -> int:
        reads.append(1)
        return 0

    assert wait_until(read, 1, timeout=0.05) is False
    # it slept between reads (0.5 ms doubling): a handful of reads, not a busy spin
    assert 2 <= len(reads) < 20


def test_waits_for_a_value_set_by_another_thread() -> None:
    box = [0]
    done = threading.Event()

    def later() -> None:
        done.wait(30)
        box[0] = 7

    thread = threading.Thread(target=later)
    thread.start()
    try:
        done.set()
        assert wait_until(lambda: box[0], 7) is True  # no timeout
    finally:
        thread.join()


def test_the_target_is_an_index_and_the_timeout_not_negative() -> None:
    with pytest.raises(TypeError):
        wait_until(lambda: 0, 1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timeout must be >= 0"):
        wait_until(lambda: 0, 0, timeout=-1)


def test_what_read_raises_reaches_the_caller() -> None:
    def read() -> int:
        raise OSError("gone")

    with pytest.raises(OSError, match="gone"):
        wait_until(read, 0, timeout=1)
