"""Every representative case of every type family round-trips through cucumber and behaves.

In-process (one test per case) and across a process boundary (all cases loaded and checked in a
freshly spawned interpreter, where modules created by ``exec`` do not exist).
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
from collections.abc import Iterator

import pytest
from cucumber_support_cases import CASES, Case, check_all, cleanup

import cucumber


@pytest.fixture
def _cleanup_cases() -> Iterator[None]:
    yield
    cleanup()


@pytest.mark.usefixtures("_cleanup_cases")
@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", CASES, ids=[f"{c.family}: {c.name}" for c in CASES])
def test_round_trip_in_process(case: Case) -> None:
    restored = cucumber.deserialize(cucumber.serialize(case.make()))
    assert case.check(restored), (
        f"{case.name}: the rebuilt object does not behave like the original"
    )


@pytest.mark.usefixtures("_cleanup_cases")
@pytest.mark.timeout(300)
def test_every_case_round_trips_into_a_spawned_interpreter() -> None:
    payloads = [(case.name, cucumber.serialize(case.make())) for case in CASES]
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=ctx) as pool:
        results = pool.submit(check_all, "cucumber", payloads).result(timeout=240)
    failures = [r for r in results if r[1] != "ok"]
    assert len(results) == len(CASES)
    assert not failures, failures


def test_case_names_are_unique() -> None:
    assert len({c.name for c in CASES}) == len(CASES)
