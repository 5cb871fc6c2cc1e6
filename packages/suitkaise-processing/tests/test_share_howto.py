"""Every Share example of the how-to, as written (plus Skprocess/Pool/thread use of a Share)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator

import pytest
import share_workers as w

from suitkaise_processing import Pool, Share, Skprocess

pytestmark = pytest.mark.timeout(240)


@pytest.fixture
def share() -> Iterator[Share]:
    s = Share()
    try:
        yield s
    finally:
        s.stop()


def test_intro_example() -> None:
    from sktiming import Sktimer

    share = Share()
    try:
        share.timer = Sktimer()
        share.counter = 0
        share.timer.add_time(0.25)
        assert share.timer.num_times == 1
        assert share.timer.mean == pytest.approx(0.25)
        assert share.counter == 0
    finally:
        share.stop()


class IncrementProcess(Skprocess):
    """The how-to's class exactly as written (no ``__run__``), defined here: travels by value."""

    def __init__(self, share: Share) -> None:
        self.share = share
        self.process_config.runs = 10

    def __postrun__(self) -> None:
        self.share.counter += 1


class IncrementProcessWithRun(Skprocess):
    """The same with an explicit empty ``__run__``."""

    def __init__(self, share: Share) -> None:
        self.share = share
        self.process_config.runs = 10

    def __run__(self) -> None:
        pass

    def __postrun__(self) -> None:
        self.share.counter += 1


@pytest.mark.parametrize(
    "cls",
    [IncrementProcess, IncrementProcessWithRun, w.IncrementProcess],
    ids=["as-written", "local-class", "importable-class"],
)
def test_basic_usage_prints_exactly_100_every_time(
    cls: type[Skprocess], capsys: pytest.CaptureFixture[str]
) -> None:
    for _ in range(3):
        share = Share()
        try:
            share.counter = 0
            pool = Pool(workers=4)
            try:
                pool.map(cls, [share] * 10)
            finally:
                pool.close()
            print(share.counter)  # 100 (10 processes x 10 runs each)
        finally:
            share.stop()
    assert capsys.readouterr().out == "100\n100\n100\n"


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


def test_start_and_stop_example() -> None:
    share = Share()  # auto-starts
    assert share.is_running
    share.counter = 1
    assert share.stop() is True  # stop sharing (frees resources)
    assert not share.is_running
    share.start()  # start again
    assert share.counter == 1
    assert share.exit() is True  # or exit()
    share.counter = 5  # while stopped, changes wait for start()
    share.start()
    assert share.counter == 5
    share.stop()


def test_reconnect_all_example() -> None:
    share = Share()
    try:
        conn = sqlite3.connect(":memory:")
        conn.execute("create table t (x integer)")
        conn.execute("insert into t values (42)")
        conn.commit()
        share.db = conn

        # share.db is a Reconnector in Share
        from cucumber import Reconnector

        assert isinstance(share.db, Reconnector)
        reconnected = share.reconnect_all()

        # now it's a live connection again
        live = reconnected["db"]
        assert isinstance(live, sqlite3.Connection)
        assert live.execute("select x from t").fetchall() == [(42,)]
        live.close()
        conn.close()
        assert set(reconnected) == {"db"}
    finally:
        share.stop()


def test_context_manager_example() -> None:
    with Share() as share:
        share.counter = 0
        share.counter += 1
        assert share.counter == 1
        assert share.is_running
    assert not share.is_running  # automatically stopped on exit


def test_properties_and_methods(share: Share) -> None:
    assert share.is_running is True
    assert share.has_error is False
    share.a = 1
    share.clear()  # clear all shared objects and counters
    assert not hasattr(share, "a")
    assert share.stop(timeout=5.0) is True


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


def test_iterators_are_supported(share: Share) -> None:
    share.z = zip("abc", range(3), strict=False)
    share.m = map(str.upper, ["x", "y"])
    assert next(share.z) == ("a", 0)
    assert list(share.m) == ["X", "Y"]
    assert list(share.z) == [("b", 1), ("c", 2)]


def test_a_share_can_be_created_inside_a_pool_item() -> None:
    with Pool(workers=2) as pool:
        assert pool.map(w.share_inside_a_worker, [5, 10]) == [5, 10]
