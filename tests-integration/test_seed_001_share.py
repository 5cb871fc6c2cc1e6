"""Seed 001, section ``Share``: every code block through ``suitkaise.processing``, results exact."""

from __future__ import annotations

import multiprocessing
import sqlite3
from collections.abc import Iterator

import kit_share_workers as sw
import pytest

from suitkaise.cucumber import Reconnector
from suitkaise.processing import Pool, Share, ShareError, Skprocess
from suitkaise.timing import Sktimer

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def share() -> Iterator[Share]:
    s = Share()
    try:
        yield s
    finally:
        s.stop()


def test_intro_example_updated_from_other_processes() -> None:
    share = Share()
    try:
        share.timer = Sktimer()
        share.counter = 0
        with Pool(workers=2) as pool:
            pool.map(sw.record_time, [(share, 0.5)] * 6)
        assert share.timer.num_times == 6  # every process's add_time reached the one timer
        assert share.timer.mean == pytest.approx(0.5)
        assert share.counter == 6
    finally:
        share.stop()


# --- Basic Usage: exactly as written, three times --------------------------------------------------


class IncrementProcess(Skprocess):
    def __init__(self, share: Share) -> None:
        self.share = share
        self.process_config.runs = 10

    def __postrun__(self) -> None:
        self.share.counter += 1


class IncrementProcessWithRun(Skprocess):
    """The same with an explicit empty ``__run__`` (the section list says ``__run__`` is required)."""

    def __init__(self, share: Share) -> None:
        self.share = share
        self.process_config.runs = 10

    def __run__(self) -> None:
        pass

    def __postrun__(self) -> None:
        self.share.counter += 1


def _basic_usage_three_times(cls: type[Skprocess]) -> None:
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


def test_basic_usage_as_written_prints_exactly_100(capsys: pytest.CaptureFixture[str]) -> None:
    """The class exactly as the how-to writes it: only ``__postrun__``, no ``__run__``."""
    _basic_usage_three_times(IncrementProcess)
    assert capsys.readouterr().out == "100\n100\n100\n"


def test_basic_usage_with_run_prints_exactly_100(capsys: pytest.CaptureFixture[str]) -> None:
    _basic_usage_three_times(IncrementProcessWithRun)
    assert capsys.readouterr().out == "100\n100\n100\n"


# --- How it works: reads see every write queued before them ------------------------------------------


def test_reads_after_writes_from_many_processes(share: Share) -> None:
    share.counter = 0
    share.items = []
    share.totals = {}
    with Pool(workers=2) as pool:
        pool.map(sw.mixed_updates, [(share, k) for k in range(8)])
    assert share.counter == 8 * 25
    assert sorted(share.items) == sorted(f"{k}:{i}" for k in range(8) for i in range(5))
    assert share.totals == {f"w{k}": 25 for k in range(8)}


# --- Supported objects ---------------------------------------------------------------------------


class Account:
    """A user class: auto-wrapped, its methods run in the coordinator."""

    def __init__(self) -> None:
        self.balance = 0
        self.history: list[int] = []

    def deposit(self, amount: int) -> int:
        self.balance += amount
        self.history.append(amount)
        return self.balance


def test_user_class_is_wrapped_and_methods_are_atomic(share: Share) -> None:
    share.account = Account()
    assert share.account.deposit(5) == 5
    with Pool(workers=2) as pool:
        pool.map(sw.deposit_many, [(share, 10)] * 4)
    assert share.account.balance == 5 + 4 * 10
    assert len(share.account.history) == 1 + 4 * 10


def test_primitives_are_stored_directly(share: Share) -> None:
    share.i = 1
    share.s = "text"
    share.f = 2.5
    share.b = True
    share.items = [1, 2]
    share.mapping = {"a": 1}
    share.i += 41
    share.s += "!"
    share.items.append(3)
    share.mapping["b"] = 2
    assert (share.i, share.s, share.f, share.b) == (42, "text!", 2.5, True)
    assert share.items == [1, 2, 3]
    assert share.mapping == {"a": 1, "b": 2}


def test_iterators_become_plain_iterators_over_remaining_values(share: Share) -> None:
    share.e = enumerate("abc")
    share.z = zip("xy", [1, 2], strict=True)
    share.m = map(str.upper, ["p", "q"])
    assert next(share.e) == (0, "a")
    assert list(share.e) == [(1, "b"), (2, "c")]
    assert list(share.z) == [("x", 1), ("y", 2)]
    assert list(share.m) == ["P", "Q"]


def test_multiprocessing_objects_are_refused_with_a_clear_error(share: Share) -> None:
    queue = multiprocessing.get_context("spawn").Queue()
    try:
        with pytest.raises((ShareError, TypeError, ValueError)) as info:
            share.q = queue
        assert "multiprocessing" in str(info.value) or "Queue" in str(info.value)
    finally:
        queue.close()
        queue.join_thread()
    assert "q" not in dir(share)


# --- Start and Stop --------------------------------------------------------------------------------


def test_start_and_stop() -> None:
    share = Share()  # auto-starts
    assert share.is_running is True
    share.counter = 1

    # stop sharing (frees resources)
    assert share.stop() is True
    assert share.is_running is False
    # start again
    share.start()
    assert share.counter == 1
    # or
    assert share.exit() is True

    # While stopped, changes are queued but won't take effect until start() is called.
    with pytest.warns(RuntimeWarning, match="reaches the other processes at share.start"):
        share.counter = 7
    share.start()
    try:
        with Pool(workers=1) as pool:
            assert pool.map(sw.read_counter, [share]) == [7]  # another process sees it now
    finally:
        share.stop()


# --- Reconnect All ---------------------------------------------------------------------------------


def test_reconnect_all_sqlite(tmp_path: object) -> None:
    share = Share()
    try:
        conn = sqlite3.connect(":memory:")
        conn.execute("create table t (x integer)")
        conn.executemany("insert into t values (?)", [(1,), (2,)])
        conn.commit()
        share.db = conn

        # share.db is a Reconnector in Share
        assert isinstance(share.db, Reconnector)
        reconnected = share.reconnect_all()

        # now it's a live connection again
        live = reconnected["db"]
        assert isinstance(live, sqlite3.Connection)
        assert live.execute("select sum(x) from t").fetchone() == (3,)
        live.close()
        conn.close()
    finally:
        share.stop()


# --- Context Manager, Properties, Methods ----------------------------------------------------------


def test_context_manager() -> None:
    with Share() as share:
        share.counter = 0
        share.counter += 1
        assert share.counter == 1
        assert share.is_running is True
    # automatically stopped on exit
    assert share.is_running is False


def test_properties_and_methods(share: Share) -> None:
    assert share.is_running is True
    assert share.has_error is False
    share.a = 1
    share.b = [1]
    share.clear()  # clear all shared objects and counters
    assert not hasattr(share, "a")
    assert not hasattr(share, "b")
    share.c = 3
    assert share.c == 3
    assert share.stop(timeout=5.0) is True  # stopped cleanly
    assert share.is_running is False
    assert share.has_error is False
