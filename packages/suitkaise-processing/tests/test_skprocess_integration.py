"""Skprocess with the rest of the kit: a Pool inside the child (non-daemonic), logs reach the parent."""

from __future__ import annotations

import logging

import pytest

from suitkaise_processing import Pool, Skprocess


def square(x: int) -> int:
    return x * x


class UsesPool(Skprocess):
    """USER-PAIN #12: a process may start its own Pool."""

    def __init__(self) -> None:
        self.process_config.runs = 1
        self.total = 0

    def __run__(self) -> None:
        with Pool(workers=2) as pool:
            self.total = sum(pool.map(square, range(20)))

    def __result__(self) -> int:
        return self.total


@pytest.mark.timeout(120)
def test_an_skprocess_child_can_use_a_pool() -> None:
    assert UsesPool().run() == sum(x * x for x in range(20))


class Logs(Skprocess):
    def __init__(self) -> None:
        self.process_config.runs = 2

    def __run__(self) -> None:
        logging.getLogger("sk.test.child").warning("run %d done", self.current_run)
        logging.getLogger("sk.test.child").debug("not forwarded below the parent's level")


@pytest.mark.timeout(60)
def test_log_records_of_the_child_reach_the_parent_handlers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        Logs().run()
    messages = [
        (r.name, r.levelname, r.getMessage()) for r in caplog.records if r.name == "sk.test.child"
    ]
    assert messages == [
        ("sk.test.child", "WARNING", "run 0 done"),
        ("sk.test.child", "WARNING", "run 1 done"),
    ]
    assert all(r.process != 0 for r in caplog.records if r.name == "sk.test.child")
