"""Per-item time limits: ``Pool(item_timeout=s)``, ``pool.map.item_timeout(s)``, ``pool.imap.item_timeout(s)``.

An item that runs too long blocks on an Event that is never set; it fails with ``ItemTimeoutError``
(a ``TimeoutError`` and a ``PoolError``), its worker is killed and replaced, and every other item
completes exactly once (a run log counts the runs). Also from a real script run as ``__main__``.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from pathlib import Path

import pool_limit_workers as lw
import pytest
from pool_test_helpers import run_main_script

from suitkaise_processing import ItemTimeoutError, Pool, PoolError, PoolTimeoutError
from suitkaise_processing._private.pool._item_timeout import (
    check_item_timeout,
    is_innocent,
    running_timed_item,
)
from suitkaise_processing._private.pool._protocol import IDLE, SLOT_WIDTH, Slot, batch_word

pytestmark = pytest.mark.timeout(120)

#: fast items take microseconds: this limit only catches the item that never returns
LIMIT = 2.0


def _runs(log: Path) -> list[int]:
    return sorted(x for x, _ in lw.read_runs(str(log)))


def _check_error(error: ItemTimeoutError, index: int, limit: float = LIMIT) -> None:
    assert isinstance(error, TimeoutError)
    assert isinstance(error, PoolError)
    assert (error.index, error.timeout) == (index, limit)
    text = str(error)
    assert f"item {index} ran longer than its item_timeout of {limit:g}s" in text
    assert "replaced" in text
    assert "Pool(item_timeout=...)" in text
    assert ".item_timeout(seconds)" in text


def test_map_raises_item_timeout_error_and_the_pool_keeps_working(
    pool: Pool, tmp_path: Path
) -> None:
    log = tmp_path / "runs"
    fn = functools.partial(lw.hang_on, hang=5, log=str(log))
    pids = set(pool._engine.worker_pids())
    with pytest.raises(ItemTimeoutError) as info:
        pool.map.item_timeout(LIMIT)(fn, range(10))
    _check_error(info.value, 5)
    assert len(pool._engine.worker_pids()) == 2
    assert set(pool._engine.worker_pids()) != pids  # the worker running item 5 was replaced
    assert pool.map(lw.double_in, [1, 2])[0][0] == 2
    assert _runs(log).count(5) == 1  # the item that timed out never runs again


def test_every_other_item_of_the_call_completes_exactly_once(tmp_path: Path) -> None:
    """Look inside the call: items 6..9 were in the same chunk as item 5, on the killed worker; they
    run on another worker, and all 39 other results arrive."""
    log = tmp_path / "runs"
    fn = functools.partial(lw.hang_on, hang=5, log=str(log))
    values: list[int] = []
    errors: list[BaseException] = []
    with Pool(workers=2, chunksize=10) as pool:
        results = pool.unordered_imap.item_timeout(LIMIT)(fn, range(40))
        job = results._job  # not consumed through the iterator, which ends at the first error

        def all_arrived() -> bool:
            while True:
                got, error = job.take()
                values.extend(got)
                if error is None:
                    return len(values) + len(errors) == 40
                errors.append(error)

        assert pool._engine.run_until(all_arrived, time.monotonic() + 60)
        results.close()
    assert len(errors) == 1
    assert isinstance(errors[0], ItemTimeoutError)
    _check_error(errors[0], 5)
    assert sorted(values) == [x * 2 for x in range(40) if x != 5]
    assert _runs(log) == list(range(40))  # nothing lost, nothing run twice


def test_a_call_queued_behind_the_timed_out_item_loses_nothing(tmp_path: Path) -> None:
    """One worker: the second call's first chunks wait in the socket of the worker that is killed;
    they run on its replacement, each once."""
    log = tmp_path / "runs"
    hang = functools.partial(lw.hang_on, hang=5, log=str(log))
    fn = functools.partial(lw.double_in, log=str(log))
    with Pool(workers=1, chunksize=4) as pool:
        blocked = pool.map.item_timeout(LIMIT).background()(hang, [5])
        beside = pool.map.background()(fn, range(100, 140))
        with pytest.raises(ItemTimeoutError):
            blocked.result(timeout=60)
        assert [v for v, _ in beside.result(timeout=60)] == [x * 2 for x in range(100, 140)]
    assert _runs(log) == [5, *range(100, 140)]


def test_iterators_yield_the_items_before_the_timed_out_one(pool: Pool, tmp_path: Path) -> None:
    log = tmp_path / "runs"
    fn = functools.partial(lw.hang_on, hang=39, log=str(log))
    results = pool.imap.item_timeout(LIMIT)(fn, range(40))
    assert [next(results) for _ in range(39)] == [x * 2 for x in range(39)]
    with pytest.raises(ItemTimeoutError) as info:
        next(results)
    _check_error(info.value, 39)
    unordered = pool.unordered_imap.item_timeout(LIMIT)(fn, range(40))
    got = sorted(next(unordered) for _ in range(39))
    assert got == [x * 2 for x in range(39)]
    with pytest.raises(ItemTimeoutError):
        next(unordered)
    assert _runs(log) == sorted([*range(40), *range(40)])  # two calls, each item once per call


def test_star_calls_and_the_pool_wide_default(tmp_path: Path) -> None:
    log = tmp_path / "runs"
    fn = functools.partial(lw.hang_add, log=str(log))
    with Pool(workers=2, item_timeout=LIMIT) as pool:
        with pytest.raises(ItemTimeoutError) as info:
            pool.star().map(fn, [(x, 10) for x in range(6)])
        _check_error(info.value, 3)
        with pytest.raises(ItemTimeoutError) as info:
            list(pool.star().imap(fn, [(x, 10) for x in range(6)]))
        _check_error(info.value, 3)
        # a per-call limit overrides the pool's
        with pytest.raises(ItemTimeoutError) as info:
            pool.star().unordered_map.item_timeout(1.5)(fn, [(x, 10) for x in range(6)])
        _check_error(info.value, 3, 1.5)
        assert pool.star().map(lw.add_in, [(1, 2)])[0][0] == 3


def test_an_skprocess_item_spends_its_lives_then_its_error_handler_runs(
    pool: Pool, tmp_path: Path
) -> None:
    log = tmp_path / "runs"
    items = [(x, str(log)) for x in range(5)]
    results = pool.star().map.item_timeout(LIMIT)(lw.HangOnTwo, items)
    assert results == [0, 10, "error: ItemTimeoutError", 30, 40]
    assert _runs(log) == [0, 1, 2, 2, 3, 4]  # item 2 ran again once (its second life)


def test_the_whole_call_timeout_still_works_beside_it(pool: Pool) -> None:
    fn = functools.partial(lw.hang_on, hang=1)
    started = time.monotonic()
    with pytest.raises(PoolTimeoutError):
        pool.map.item_timeout(60.0).timeout(0.5)(fn, range(4))
    assert time.monotonic() - started < 30
    with pytest.raises(ItemTimeoutError):
        pool.map.timeout(60.0)(fn, range(4), item_timeout=LIMIT)


def test_background_and_asynced(pool: Pool) -> None:
    fn = functools.partial(lw.hang_on, hang=2)
    future = pool.map.item_timeout(LIMIT).background()(fn, range(4))
    with pytest.raises(ItemTimeoutError):
        future.result(timeout=60)

    async def main() -> None:
        with pytest.raises(ItemTimeoutError):
            await pool.map.item_timeout(LIMIT).asynced()(fn, range(4))
        with pytest.raises(ItemTimeoutError):
            await pool.imap.item_timeout(LIMIT).asynced()(fn, range(4))

    asyncio.run(main())


def test_a_background_call_is_accepted_before_close(tmp_path: Path) -> None:
    pool = Pool(workers=2)
    future = pool.map.item_timeout(LIMIT).background()(lw.double_in, range(20))
    pool.close()  # the call was submitted in this thread: close() lets it finish
    assert [v for v, _ in future.result(timeout=60)] == [x * 2 for x in range(20)]


def test_results_of_fast_items_are_unchanged(pool: Pool, tmp_path: Path) -> None:
    log = tmp_path / "runs"
    fn = functools.partial(lw.double_in, log=str(log))
    assert [v for v, _ in pool.map.item_timeout(LIMIT)(fn, range(500))] == [
        x * 2 for x in range(500)
    ]
    assert _runs(log) == list(range(500))


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), "1", True])
def test_bad_limits_are_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="item_timeout must be a number of seconds > 0"):
        check_item_timeout(bad, "here")
    with pytest.raises(ValueError, match=r"Pool\(item_timeout=...\)"):
        Pool(workers=1, item_timeout=bad)  # type: ignore[arg-type]


def test_bad_per_call_limits_are_refused(pool: Pool) -> None:
    with pytest.raises(ValueError, match=r"pool.imap.item_timeout\(\)"):
        pool.imap.item_timeout(0)
    with pytest.raises(ValueError, match="item_timeout must be"):
        pool.map.item_timeout(-1)(lw.double_in, [1])
    with pytest.raises(ValueError, match="item_timeout must be"):
        pool.map(lw.double_in, [1], item_timeout=0)
    assert repr(pool.imap.item_timeout(3)) == "<pool.imap.item_timeout(3.0)>"


def test_the_running_timed_item_is_read_from_the_slot() -> None:
    slots = memoryview(bytearray(8 * SLOT_WIDTH * 2)).cast("q")
    base = SLOT_WIDTH  # the second worker's slot
    assert running_timed_item(slots, base) is None
    slots[base + Slot.SEQ] = 42
    slots[base + Slot.BATCH] = batch_word(7, 1)
    slots[base + Slot.ITEM_DEADLINE] = 123_456
    assert running_timed_item(slots, base) == (123_456, 42, 7)
    slots[base + Slot.BATCH] = IDLE  # the worker moved on while the parent read
    assert running_timed_item(slots, base) is None
    assert running_timed_item(slots, 0) is None


def test_only_the_item_that_timed_out_fails_with_it() -> None:
    assert not is_innocent(None, 3, 5)  # killed for another reason
    assert not is_innocent((3, 5), 3, 5)  # the item that timed out
    assert is_innocent((3, 5), 3, 6)  # it ended just before the kill: the next one runs again
    assert is_innocent((3, 5), 4, 5)  # the same index in the next chunk (another call, maybe)


def test_the_error_pickles_with_its_fields() -> None:
    import pickle

    error = pickle.loads(pickle.dumps(ItemTimeoutError(7, 1.5)))
    assert isinstance(error, ItemTimeoutError)
    assert (error.index, error.timeout) == (7, 1.5)
    assert str(error) == str(ItemTimeoutError(7, 1.5))


# --- from a real script --------------------------------------------------------------------------
_SCRIPT = """
import json, os, sys, threading
from suitkaise_processing import ItemTimeoutError, Pool

LOG = sys.argv[1]
NEVER = threading.Event()


def note(x):
    fd = os.open(LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.write(fd, f"{x}\\n".encode())
    os.close(fd)


def work(x):
    note(x)
    if x in (19, 105, 203, 299):
        NEVER.wait()  # runs too long
    return x * 2


def add(a, b):
    return work(a) // 2 + b


out = {}
with Pool(workers=2, item_timeout=2.0) as pool:
    got = []
    try:
        for value in pool.imap(work, range(20)):
            got.append(value)
    except ItemTimeoutError as exc:
        out["imap"] = [got, exc.index, exc.timeout, str(exc)]
    try:
        pool.map.item_timeout(1.5)(work, range(100, 110))
    except ItemTimeoutError as exc:
        out["map"] = [exc.index, exc.timeout, isinstance(exc, TimeoutError)]
    try:
        pool.star().unordered_map(add, [(x, 1) for x in range(200, 210)])
    except ItemTimeoutError as exc:
        out["star"] = exc.index
    # a call running beside the timed-out item loses nothing
    blocked = pool.unordered_map.background()(work, range(290, 300))
    beside = pool.map(work, range(300, 340))
    try:
        blocked.result()
    except ItemTimeoutError as exc:
        out["blocked"] = exc.index
    out["beside"] = beside
    out["after"] = pool.map(work, range(400, 405))
print(json.dumps(out))
"""


def test_item_timeouts_from_a_script_run_as_main(tmp_path: Path) -> None:
    log = tmp_path / "runs"
    done = run_main_script(tmp_path, _SCRIPT, str(log))
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    got, index, limit, text = out["imap"]
    assert got == [x * 2 for x in range(19)]
    assert (index, limit) == (19, 2.0)
    assert "item 19 ran longer than its item_timeout of 2s" in text
    # the index is the item's position in the call's input
    assert out["map"] == [5, 1.5, True]
    assert out["star"] == 3
    assert out["blocked"] == 9
    assert out["beside"] == [x * 2 for x in range(300, 340)]
    assert out["after"] == [x * 2 for x in range(400, 405)]
    runs = [int(line) for line in log.read_text().split()]
    beside_runs = sorted(x for x in runs if 300 <= x < 340)
    assert beside_runs == list(range(300, 340))  # each once, although a worker was killed
    assert runs.count(19) == runs.count(105) == runs.count(203) == runs.count(299) == 1
