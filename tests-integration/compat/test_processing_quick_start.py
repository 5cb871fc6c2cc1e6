"""The examples of the suitkaise 0.4 ``processing`` quick start page, run on this kit.

Each test is one example of ``/work/shared/reference/suitkaise-0.4/processing-quick-start.md`` with the
published import lines; ``do_work()`` (left undefined by the page) is a small hash loop.

Two examples of the page never finish, on 0.4 as here: ``Doubler(5).run()`` and the ``Share`` example's
``Worker`` set no ``process_config.runs``, and ``runs`` defaults to ``None`` (run until ``stop()``), in 0.4
(checked against the published 0.4.14) as in this kit. Their tests check that default and then run the
example with ``runs = 1``, which gives the results the page prints (docs/migrating-from-0.4.md lists them).
"""

from __future__ import annotations

import hashlib

import pytest

from suitkaise.processing import Pool, Share, Skprocess

pytestmark = pytest.mark.timeout(120)


def do_work() -> bytes:
    data = b"work"
    for _ in range(1000):
        data = hashlib.sha256(data).digest()
    return data


class Doubler(Skprocess):
    def __init__(self, value: int) -> None:
        self.value = value

    def __run__(self) -> None:
        self.value *= 2

    def __result__(self) -> int:
        return self.value


def test_run_a_process() -> None:
    process = Doubler(5)
    assert process.process_config.runs is None  # as in 0.4: the page's run() would never return
    process.process_config.runs = 1
    assert process.run() == 10


class Doubler3(Skprocess):
    """The page's second ``Doubler`` (same name on the page), with ``runs = 3``."""

    def __init__(self, value: int) -> None:
        self.value = value
        self.process_config.runs = 3

    def __run__(self) -> None:
        self.value *= 2

    def __result__(self) -> int:
        return self.value


def test_run_it_multiple_times() -> None:
    assert Doubler3(5).run() == 40  # 5 -> 10 -> 20 -> 40


def double(x: int) -> int:
    return x * 2


def test_batch_processing_with_pool() -> None:
    pool = Pool(workers=4)
    try:
        assert pool.map(double, [1, 2, 3, 4, 5]) == [2, 4, 6, 8, 10]
    finally:
        pool.close()


class Worker(Skprocess):
    def __init__(self, share: Share, item: int) -> None:
        self.share = share
        self.item = item
        self.process_config.runs = 1  # not on the page (see the module docstring)

    def __run__(self) -> None:
        self.share.results.append(self.item * 2)
        self.share.counter += 1


def test_share_state_across_processes() -> None:
    share = Share()
    try:
        share.counter = 0
        share.results = []
        pool = Pool(workers=4)
        try:
            pool.star().map(Worker, [(share, x) for x in range(10)])
        finally:
            pool.close()
        assert share.counter == 10
        assert sorted(share.results) == [0, 2, 4, 6, 8, 10, 12, 14, 16, 18]
    finally:
        share.stop()


class Echo(Skprocess):
    def __prerun__(self) -> None:
        self.msg = self.listen(timeout=1.0)

    def __run__(self) -> None:
        if self.msg:
            self.tell(f"echo: {self.msg}")


def test_communicate_between_parent_and_process() -> None:
    process = Echo()
    process.start()
    process.tell("hello")
    response = process.listen(timeout=2.0)
    process.stop()
    process.wait()
    # The page's 2 s are enough on an idle machine; the child's start can take longer on a busy one.
    if response is None:
        response = process.listen(timeout=60.0)
    assert response == "echo: hello"


class ReliableWorker(Skprocess):
    def __init__(self) -> None:
        self.process_config.lives = 3
        self.process_config.timeouts.run = 10.0
        self.process_config.runs = 2
        self.done = 0

    def __run__(self) -> None:
        do_work()
        self.done += 1

    def __result__(self) -> int:
        return self.done


def test_add_retries_and_timeouts() -> None:
    process = ReliableWorker()
    assert process.process_config.lives == 3
    assert process.process_config.timeouts.run == 10.0
    assert process.run() == 2
