"""Pool as a ``concurrent.futures.Executor`` (issue 15): ``submit``, ``map(fn, *iterables, timeout=,
chunksize=)``, ``shutdown(wait, cancel_futures)``, ``run_in_executor``, cancelling queued calls, and
the progress options; in-process, and from a real script run as ``__main__`` (at the end)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import io
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import executor_workers as ew
import pool_workers as w
import pytest
from pool_test_helpers import run_main_script

from suitkaise_processing import (
    ItemTimeoutError,
    Pool,
    PoolError,
    PoolTimeoutError,
    WorkerDiedError,
)
from suitkaise_processing._private.pool._progress import Progress

pytestmark = pytest.mark.timeout(120)


# --- submit -------------------------------------------------------------------------------------
def test_a_pool_is_an_executor_and_submit_gives_a_future(pool: Pool) -> None:
    assert isinstance(pool, concurrent.futures.Executor)
    future = pool.submit(w.double, 21)
    assert isinstance(future, concurrent.futures.Future)
    assert future.result(timeout=60) == 42
    assert future.done()
    assert not future.cancelled()


def test_submit_passes_positional_and_keyword_arguments(pool: Pool) -> None:
    assert pool.submit(ew.scale, 5, factor=3, offset=1).result(timeout=60) == 16
    assert pool.submit(w.add, 2, 3).result(timeout=60) == 5


def test_submit_sends_lambdas_and_closures_by_value(pool: Pool) -> None:
    base = 100
    assert pool.submit(lambda x, y=1: x * y + base, 4, y=2).result(timeout=60) == 108


def test_an_exception_is_the_workers_own_with_its_traceback_as_cause(pool: Pool) -> None:
    future = pool.submit(ew.boom, 3)
    error = future.exception(timeout=60)
    assert isinstance(error, ValueError)
    assert type(error).__name__ == "ValueError"
    assert str(error) == "boom on 3"
    cause = error.__cause__
    assert cause is not None
    assert type(cause).__name__ == "RemoteTraceback"
    assert "executor_workers.py" in str(cause)
    assert "in boom" in str(cause)
    with pytest.raises(ValueError, match="boom on 3"):
        future.result()


def test_many_futures_complete_with_as_completed_and_wait(pool: Pool) -> None:
    futures = {pool.submit(w.double, i): i for i in range(300)}
    seen = {futures[f]: f.result() for f in concurrent.futures.as_completed(futures, timeout=90)}
    assert seen == {i: 2 * i for i in range(300)}
    more = [pool.submit(w.add, i, i) for i in range(50)]
    done, not_done = concurrent.futures.wait(more, timeout=90)
    assert not not_done
    assert sorted(f.result() for f in done) == [2 * i for i in range(50)]


def test_a_done_callback_may_submit_again(pool: Pool) -> None:
    chained: concurrent.futures.Future[concurrent.futures.Future[int]] = concurrent.futures.Future()

    def then(first: concurrent.futures.Future[int]) -> None:
        chained.set_result(pool.submit(w.double, first.result()))

    pool.submit(w.double, 5).add_done_callback(then)
    assert chained.result(timeout=60).result(timeout=60) == 20


def test_a_call_runs_without_anyone_waiting_on_its_future(pool: Pool, tmp_path: Path) -> None:
    fifo = tmp_path / "ran"
    os.mkfifo(fifo)
    pool.submit(ew.record, str(fifo), "fire and forget")  # the future is dropped
    with open(fifo) as ran:  # blocks until the call runs in a worker
        assert ran.readline() == "fire and forget\n"


def test_a_done_callback_alone_completes_the_future(pool: Pool) -> None:
    called = threading.Event()
    seen: list[int] = []

    def on_done(future: concurrent.futures.Future[int]) -> None:
        seen.append(future.result())
        called.set()

    pool.submit(w.double, 8).add_done_callback(on_done)
    assert called.wait(60)
    assert seen == [16]


def test_submit_and_map_share_the_pool_from_several_threads(pool: Pool) -> None:
    results: dict[str, object] = {}

    def mapper() -> None:
        results["map"] = pool.map(w.double, range(2000))

    thread = threading.Thread(target=mapper)
    thread.start()
    futures = [pool.submit(w.add, i, 1) for i in range(200)]
    assert [f.result(timeout=60) for f in futures] == [i + 1 for i in range(200)]
    thread.join(60)
    assert results["map"] == [2 * i for i in range(2000)]


def test_a_worker_that_dies_fails_its_future_only(pool: Pool) -> None:
    dead = pool.submit(ew.die, 0)
    with pytest.raises(WorkerDiedError, match="died"):
        dead.result(timeout=60)
    assert [pool.submit(w.double, i).result(timeout=60) for i in range(4)] == [0, 2, 4, 6]


def test_the_pools_item_timeout_holds_for_submitted_calls() -> None:
    with Pool(workers=1, item_timeout=0.5) as pool:
        slow = pool.submit(w.sleep_forever, 1)
        with pytest.raises(ItemTimeoutError):
            slow.result(timeout=60)
        assert pool.submit(w.double, 3).result(timeout=60) == 6  # on a new worker


def test_unsendable_arguments_or_functions_fail_submit_itself(pool: Pool) -> None:
    with pytest.raises(PoolError, match="arguments of 'identity' could not be serialized"):
        pool.submit(w.identity, w.Unpicklable())
    with pytest.raises(TypeError, match="must be a function, not int"):
        pool.submit(5)  # type: ignore[arg-type]
    assert pool.submit(w.double, 1).result(timeout=60) == 2


def test_submit_runs_an_skprocess_class(pool: Pool) -> None:
    assert pool.submit(w.ProcessItem, 7).result(timeout=60) == 49
    assert pool.submit(w.AddProcess, 2, 3).result(timeout=60) == 5
    with pytest.raises(TypeError, match="by position"):
        pool.submit(w.AddProcess, a=2, b=3)


def test_run_in_executor_awaits_a_pool_call(pool: Pool) -> None:
    async def main() -> list[int]:
        loop = asyncio.get_running_loop()
        calls = [loop.run_in_executor(pool, w.add, i, 10) for i in range(5)]
        return list(await asyncio.gather(*calls))

    assert asyncio.run(main()) == [10, 11, 12, 13, 14]


# --- cancelling and shutdown -------------------------------------------------------------------
def _blocked_pool(tmp_path: Path) -> tuple[Pool, concurrent.futures.Future[str], Path]:
    """A one-worker pool whose worker blocks until ``release`` (a FIFO) gets a line."""
    fifo = tmp_path / "release"
    os.mkfifo(fifo)
    pool = Pool(workers=1)
    blocker = pool.submit(ew.wait_for_release, str(fifo))
    return pool, blocker, fifo


def _release(fifo: Path) -> None:
    with open(fifo, "w") as release:
        release.write("go\n")


def test_cancel_of_a_queued_call_succeeds_and_it_never_runs(tmp_path: Path) -> None:
    pool, blocker, fifo = _blocked_pool(tmp_path)
    ran = tmp_path / "ran.txt"
    try:
        # one worker holds at most a few calls: the last ones wait in the queue
        queued = [pool.submit(ew.record, str(ran), i) for i in range(10)]
        assert queued[-1].cancel()
        assert queued[-1].cancelled()
        assert queued[-1].done()
        with pytest.raises(concurrent.futures.CancelledError):
            queued[-1].result()
        _release(fifo)
        assert blocker.result(timeout=60) == "go"
        assert [f.result(timeout=60) for f in queued[:-1]] == list(range(9))
        pool.shutdown(wait=True)
        assert ran.read_text().split() == [str(i) for i in range(9)]
    finally:
        pool.terminate()


def test_a_running_call_cannot_be_cancelled(tmp_path: Path) -> None:
    pool, blocker, fifo = _blocked_pool(tmp_path)
    try:
        # the blocker is running once another call is queued behind it and taken
        follower = pool.submit(w.double, 4)
        _release(fifo)
        assert blocker.result(timeout=60) == "go"
        assert not blocker.cancel()
        assert follower.result(timeout=60) == 8
    finally:
        pool.terminate()


def test_shutdown_cancel_futures_cancels_what_has_not_started(tmp_path: Path) -> None:
    pool, blocker, fifo = _blocked_pool(tmp_path)
    ran = tmp_path / "ran.txt"
    try:
        calls = [pool.submit(ew.record, str(ran), i) for i in range(20)]
        closer = threading.Thread(target=pool.shutdown, kwargs={"cancel_futures": True})
        closer.start()
        # shutdown cancels the queued calls at once, then waits for the running ones
        concurrent.futures.wait([calls[-1]], timeout=60)
        assert calls[-1].cancelled()
        _release(fifo)
        closer.join(60)
        assert not closer.is_alive()
        assert blocker.result() == "go"
        # the calls a worker had taken ran; the others were cancelled and never ran
        finished = [f.result() for f in calls if not f.cancelled()]
        assert len(finished) < 20
        assert finished == list(range(len(finished)))
        assert (ran.read_text().split() if ran.exists() else []) == [str(i) for i in finished]
    finally:
        pool.terminate()


def test_shutdown_waits_for_submitted_calls_then_refuses_more() -> None:
    pool = Pool(workers=2)
    try:
        futures = [pool.submit(w.square_slowly, i) for i in range(6)]
        pool.shutdown(wait=True)
        assert all(f.done() for f in futures)
        assert [f.result() for f in futures] == [i * i for i in range(6)]
        with pytest.raises(PoolError, match="shut down"):
            pool.submit(w.double, 1)
        with pytest.raises(PoolError, match="shut down"):
            pool.map(w.double, [1])
        pool.shutdown()  # idempotent
    finally:
        pool.terminate()


def test_shutdown_without_wait_returns_at_once_and_the_calls_still_finish(tmp_path: Path) -> None:
    pool, blocker, fifo = _blocked_pool(tmp_path)
    try:
        after = pool.submit(w.double, 21)
        pool.shutdown(wait=False)
        with pytest.raises(PoolError, match="shut down"):
            pool.submit(w.double, 1)
        assert not blocker.done()
        _release(fifo)
        assert blocker.result(timeout=60) == "go"
        assert after.result(timeout=60) == 42
    finally:
        pool.terminate()


def test_terminate_fails_outstanding_futures(tmp_path: Path) -> None:
    pool, blocker, _ = _blocked_pool(tmp_path)
    queued = pool.submit(w.double, 1)
    pool.terminate()
    for future in (blocker, queued):
        with pytest.raises(PoolError, match="terminated"):
            future.result(timeout=60)


def test_the_courier_thread_ends_with_its_pool() -> None:
    with Pool(workers=1) as pool:
        futures = [pool.submit(w.double, i) for i in range(3)]
        assert concurrent.futures.wait(futures, timeout=60).not_done == set()
    couriers = [t for t in threading.enumerate() if t.name == "sk-pool-futures"]
    for thread in couriers:  # every pool of this process is closed by now
        thread.join(30)
    assert not [t for t in couriers if t.is_alive()]


# --- map, Executor style -------------------------------------------------------------------------
def test_map_takes_several_iterables_like_executor_map(pool: Pool) -> None:
    with concurrent.futures.ThreadPoolExecutor(2) as threads:
        expected = list(threads.map(w.add, [1, 2, 3], [10, 20, 30, 40]))
    assert pool.map(w.add, [1, 2, 3], [10, 20, 30, 40]) == expected == [11, 22, 33]
    assert pool.unordered_map(w.add, range(3), range(3)).__len__() == 3
    assert sorted(pool.unordered_map(w.add, range(3), range(3))) == [0, 2, 4]
    assert list(pool.imap(w.add, iter([1, 2]), (5, 6))) == [6, 8]
    assert sorted(pool.unordered_imap(w.add, [1], [1])) == [2]
    assert pool.map.background()(w.add, [1, 2], [3, 4]).result(timeout=60) == [4, 6]


def test_map_with_timeout_and_chunksize_keywords(pool: Pool) -> None:
    assert pool.map(w.double, range(100), timeout=60, chunksize=7) == [2 * i for i in range(100)]
    assert list(pool.imap(w.double, range(10), chunksize=3)) == [2 * i for i in range(10)]
    with pytest.raises(TimeoutError):
        pool.map(w.sleep_forever, [0, 1], timeout=0.5)
    with pytest.raises(PoolTimeoutError):
        pool.map(w.sleep_forever, [0, 1], timeout=0.5)
    with pytest.raises(ValueError, match="chunksize must be an int >= 1"):
        pool.map(w.double, [1], chunksize=0)


def test_map_needs_an_iterable_and_star_takes_one(pool: Pool) -> None:
    with pytest.raises(TypeError, match="give the items"):
        pool.map(w.double)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="argument 3 must be an iterable of items, not int"):
        pool.map(w.add, [1], 5)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="one iterable of argument tuples"):
        pool.star().map(w.add, [1], [2])  # type: ignore[call-overload]


def test_an_executor_user_sees_the_same_results(pool: Pool) -> None:
    def run(executor: concurrent.futures.Executor) -> tuple[list[Any], int]:
        return list(executor.map(w.add, range(5), range(5))), executor.submit(w.double, 8).result()

    with concurrent.futures.ThreadPoolExecutor(2) as peer:
        assert run(pool) == run(peer) == ([0, 2, 4, 6, 8], 16)


# --- progress options ----------------------------------------------------------------------------
def test_pool_progress_options_reach_the_bar(capsys: pytest.CaptureFixture[str]) -> None:
    with Pool(workers=2, progress={"desc": "squares", "unit": "sq"}) as pool:
        assert pool.map(w.double, range(30)) == [2 * i for i in range(30)]
        pool.map(w.double, range(5), progress=False)
    err = capsys.readouterr().err
    assert "squares" in err
    assert "30/30" in err
    assert "sq/s" in err
    assert "5/5" not in err


def test_per_call_progress_options(capsys: pytest.CaptureFixture[str]) -> None:
    with Pool(workers=2) as pool:
        pool.map(w.double, range(12))
        assert "12/12" not in capsys.readouterr().err
        pool.map.progress(desc="doubling")(w.double, range(12))
        assert "doubling" in capsys.readouterr().err
        pool.map(w.double, range(9), progress={"desc": "by keyword"})
        assert "by keyword" in capsys.readouterr().err
        assert list(pool.imap.progress(desc="streaming")(w.double, range(7))) == [
            2 * i for i in range(7)
        ]
        assert "streaming" in capsys.readouterr().err
        assert pool.map.progress(desc="bg").background()(w.double, range(3)).result(60) == [0, 2, 4]
        assert "bg" in capsys.readouterr().err


def test_progress_counter_without_tqdm_uses_desc_and_unit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    stream = io.StringIO()
    progress = Progress("pool.map", 4, options={"desc": "files", "unit": "file", "file": stream})
    progress.update(4)
    progress.close()
    assert stream.getvalue().rstrip().endswith("files: 4/4 files")
    silent = io.StringIO()
    Progress("pool.map", 4, options={"disable": True, "file": silent}).update(4)
    assert silent.getvalue() == ""


def test_progress_must_be_a_bool_or_options() -> None:
    with pytest.raises(TypeError, match="must be True, False or a dict of tqdm options"):
        Pool(workers=1, progress="yes")  # type: ignore[arg-type]


# --- from a real script run as __main__ -------------------------------------------------------
_SCRIPT = """
import asyncio, concurrent.futures, json, os, sys
from suitkaise_processing import Pool, PoolArgumentError

OFFSET = 1000


def work(x, *, scale=1):
    return x * scale + OFFSET


def boom(x):
    raise KeyError(f"missing {x}")


def add(a, b):
    return a + b


def wait_for_release(fifo):
    with open(fifo) as release:
        return release.readline().strip()


if __name__ == "__main__":
    out = {}
    try:
        Pool(processes=2)
    except PoolArgumentError as exc:
        out["names"] = [isinstance(exc, TypeError), str(exc)]
    with Pool(workers=2, progress={"desc": "script-map"}) as pool:
        out["executor"] = isinstance(pool, concurrent.futures.Executor)
        out["submit"] = pool.submit(work, 2, scale=3).result(timeout=60)
        out["lambda"] = pool.submit(lambda x: x + OFFSET, 1).result(timeout=60)
        error = pool.submit(boom, 7).exception(timeout=60)
        out["error"] = [type(error).__name__, isinstance(error, KeyError), str(error.__cause__)]
        out["map"] = pool.map(add, [1, 2, 3], [10, 20, 30, 40], timeout=60, chunksize=1)
        out["per_call"] = pool.map.progress(desc="script-call")(add, [1], [1])

        async def main():
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(pool, work, 5)

        out["asyncio"] = asyncio.run(main())
        futures = [pool.submit(work, i) for i in range(100)]
        out["many"] = sum(f.result() for f in concurrent.futures.as_completed(futures, timeout=60))
        pool.shutdown(wait=True)
        try:
            pool.submit(work, 1)
        except Exception as exc:
            out["after_shutdown"] = type(exc).__name__

    fifo = sys.argv[1]
    os.mkfifo(fifo)
    with Pool(workers=1) as pool:
        blocker = pool.submit(wait_for_release, fifo)
        queued = [pool.submit(work, i) for i in range(10)]
        out["cancel"] = [queued[-1].cancel(), queued[-1].cancelled()]
        with open(fifo, "w") as release:
            release.write("go\\n")
        out["after_cancel"] = [blocker.result(timeout=60)] + [f.result(timeout=60) for f in queued[:-1]]
    print(json.dumps(out))
"""

_EXIT_SCRIPT = """
from suitkaise_processing import Pool


def slow(x):
    return sum(range(x))


if __name__ == "__main__":
    pool = Pool(workers=2)
    futures = [pool.submit(slow, 300_000) for _ in range(20)]
    futures[-1].add_done_callback(lambda f: print("last", f.result(), flush=True))
    print("submitted", flush=True)
    # no shutdown: the interpreter's exit lets the submitted calls finish, then stops the workers
"""


def _run_script(tmp_path: Path, source: str, method: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, SUITKAISE_START_METHOD=method)
    return run_main_script(tmp_path, source, str(tmp_path / "release"), timeout=150, env=env)


@pytest.mark.timeout(180)
@pytest.mark.parametrize("method", ["forkserver", "spawn"])
def test_executor_from_a_script_run_as_main(tmp_path: Path, method: str) -> None:
    done = _run_script(tmp_path, _SCRIPT, method)
    assert done.returncode == 0, done.stdout + done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    is_type_error, message = out["names"]
    assert is_type_error
    assert "Pool(workers=2)" in message
    assert out["executor"] is True
    assert out["submit"] == 1006
    assert out["lambda"] == 1001
    name, is_key_error, cause = out["error"]
    assert name == "KeyError"
    assert is_key_error
    assert "in boom" in cause
    assert "missing 7" in cause
    assert out["map"] == [11, 22, 33]
    assert out["per_call"] == [2]
    assert out["asyncio"] == 1005
    assert out["many"] == sum(range(100)) + 100 * 1000
    assert out["after_shutdown"] == "PoolError"
    assert out["cancel"] == [True, True]
    assert out["after_cancel"] == ["go"] + [1000 + i for i in range(9)]
    assert "script-map" in done.stderr
    assert "script-call" in done.stderr
    assert "Traceback" not in done.stderr
    assert "resource_tracker" not in done.stderr


@pytest.mark.timeout(180)
@pytest.mark.parametrize("method", ["forkserver", "spawn"])
def test_submitted_calls_finish_at_interpreter_exit(tmp_path: Path, method: str) -> None:
    done = _run_script(tmp_path, _EXIT_SCRIPT, method)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.split() == ["submitted", "last", str(sum(range(300_000)))]
    assert done.stderr == ""
