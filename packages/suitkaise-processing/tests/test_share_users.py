"""A Share used from each kind of user: Skprocess items in a Pool, one Skprocess, plain Pool functions,
threads, a class defined in a test module, and a Share created inside a pool item.

(The how-to's own examples are tested once, as written, in tests-integration/test_seed_001_share.py.)
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import share_workers as w

from suitkaise_processing import Pool, Share

pytestmark = pytest.mark.timeout(240)


@pytest.fixture
def share() -> Iterator[Share]:
    s = Share()
    try:
        yield s
    finally:
        s.stop()


def test_importable_skprocess_items_in_a_pool_count_exactly_every_time() -> None:
    for _ in range(3):
        with Share() as share:
            share.counter = 0
            with Pool(workers=4) as pool:
                pool.map(w.IncrementProcess, [share] * 10)
            assert share.counter == 100  # 10 items x 10 runs each


def test_share_in_a_single_skprocess(share: Share) -> None:
    share.items = []
    process = w.AppendProcess(share, 7)
    process.start()
    assert process.wait(120)
    assert process.result() == 1
    assert share.items == [7]


def test_share_with_plain_pool_functions(share: Share) -> None:
    share.counter = 0
    share.seen = []
    with Pool(workers=2) as pool:
        results = pool.map(w.pool_increment, [share] * 40)
    assert share.counter == 40
    assert len(share.seen) == 40
    assert sorted(results)[-1] == 40  # every worker read its own increment at least


def test_share_with_threads(share: Share) -> None:
    share.counter = 0

    def work() -> None:
        for _ in range(250):
            share.counter += 1

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert share.counter == 1000


def test_user_class_defined_in_a_test_module(share: Share) -> None:
    class Bank:
        def __init__(self) -> None:
            self.balance = 0

        def deposit(self, amount: int) -> int:
            self.balance += amount
            return self.balance

        def report(self) -> str:
            return f"balance={self.balance}"

    share.bank = Bank()
    assert share.bank.deposit(5) == 5
    assert share.bank.deposit(7) == 12
    assert share.bank.balance == 12
    assert share.bank.report() == "balance=12"
    share.bank.balance += 3
    assert share.bank.balance == 15


def test_a_share_can_be_created_inside_a_pool_item() -> None:
    with Pool(workers=2) as pool:
        assert pool.map(w.share_inside_a_worker, [5, 10]) == [5, 10]
