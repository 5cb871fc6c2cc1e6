"""What only a Pool on a Dask cluster has: lost workers, the cluster argument, the optional extra,
scripts whose items live in ``__main__``, and the task function itself."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import dask_items as d
import pool_workers as w
import pytest

import cucumber
from suitkaise_processing import Pool, PoolError, ShareError, WorkerDiedError
from suitkaise_processing._private import wire
from suitkaise_processing._private.pool import _dask_worker
from suitkaise_processing._private.pool._dask_task import (
    DECODE_FAILED,
    DONE,
    INIT_FAILED,
    run_batch,
)
from suitkaise_processing._private.pool._protocol import mode_word

pytestmark = pytest.mark.timeout(180)

SRC = Path(__file__).resolve().parents[2] / "src"


def _read_line(conn: socket.socket) -> str:
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(64)
        if not chunk:
            break
        data += chunk
    return data.decode().strip()


def test_a_worker_killed_during_a_map_runs_its_items_again(dask_client: Any) -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(120)
        port = server.getsockname()[1]
        pool = Pool(cluster=dask_client)
        try:
            future = pool.star().map.background()(
                d.block_first_until_released, [(x, port) for x in range(20)]
            )
            first, _ = server.accept()  # item 0 runs, and waits for us
            with first:
                pid = int(_read_line(first))
                assert pid in dask_client.run(os.getpid).values()  # a Dask worker process
                os.kill(pid, signal.SIGKILL)
            again, _ = server.accept()  # Dask runs the lost task on another worker
            with again:
                assert int(_read_line(again)) != pid
                again.sendall(b"go")
            assert future.result(timeout=120) == [x * 2 for x in range(20)]
        finally:
            pool.terminate()
            dask_client.wait_for_workers(2, timeout=120)  # the nanny restarts the killed one


def test_an_item_that_kills_its_worker_fails_alone(dask_client: Any) -> None:
    pool = Pool(cluster=dask_client, chunksize=4)
    try:
        results = pool.imap(d.kill_own_worker_at_3, range(8))
        # its chunk (items 0-3) died twice, then ran item by item: the others give their results
        assert [next(results) for _ in range(3)] == [0, 2, 4]
        with pytest.raises(WorkerDiedError, match="item 3"):
            next(results)
        assert pool.map(w.double, range(4)) == [0, 2, 4, 6]  # the pool goes on
    finally:
        pool.terminate()
        dask_client.wait_for_workers(2, timeout=120)


def test_a_scheduler_address(dask_cluster: Any, dask_client: Any) -> None:
    dask_client.wait_for_workers(2, timeout=120)
    with Pool(cluster=dask_cluster.address) as pool:
        assert pool.workers == 2
        assert pool.map(lambda x: x + 1, range(5)) == [1, 2, 3, 4, 5]
        client = pool._engine._client  # type: ignore[attr-defined]
    assert client.status == "closed"  # the pool made this client, and closed it


def test_a_cluster_object() -> None:
    from distributed import LocalCluster

    # workers as threads of this process: the pool's own client, closed with the pool
    with (
        LocalCluster(
            processes=False,  # workers as threads of this process
            protocol="tcp://",
            host="127.0.0.1",  # every server of the cluster on loopback
            n_workers=1,
            threads_per_worker=2,
            # no dashboard; its HTTP server still starts (health routes): on a free loopback port,
            # not 8787, which another cluster on the machine may hold
            dashboard_address="127.0.0.1:0",
            scheduler_kwargs={"dashboard": False},
        ) as cluster,
        Pool(cluster=cluster) as pool,
    ):
        assert pool.workers == 2
        assert pool.map(lambda x: x * 3, range(5)) == [0, 3, 6, 9, 12]
    # the cluster's worker ran in this process: outside its tasks, this process's own payloads
    # are rebuilt the default way (a new function with its own globals per payload)
    payload = cucumber.serialize(lambda: None)
    assert cucumber.deserialize(payload) is not cucumber.deserialize(payload)


def test_a_given_client_stays_open(dask_client: Any) -> None:
    with Pool(cluster=dask_client) as pool:
        assert pool.map(w.double, [1]) == [2]
    assert dask_client.status == "running"


def test_cluster_arguments_are_checked(dask_client: Any) -> None:
    with pytest.raises(PoolError, match="leave workers out"):
        Pool(workers=2, cluster=dask_client)
    with pytest.raises(TypeError, match="scheduler address"):
        Pool(cluster=42)
    with pytest.raises(PoolError, match="item_timeout"):
        Pool(cluster=dask_client, item_timeout=5.0)
    with pytest.raises(PoolError, match="max_tasks_per_child"):
        Pool(cluster=dask_client, max_tasks_per_child=10)
    with Pool(cluster=dask_client) as pool, pytest.raises(PoolError, match="item_timeout"):
        pool.map.item_timeout(5.0)(w.double, [1])


def test_an_unreachable_scheduler(unused_tcp_port: int) -> None:
    import dask

    with (
        dask.config.set({"distributed.comm.timeouts.connect": "2s"}),
        pytest.raises(PoolError, match="could not connect"),
    ):
        Pool(cluster=f"tcp://127.0.0.1:{unused_tcp_port}")


@pytest.fixture
def unused_tcp_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_nothing_imports_distributed_without_a_cluster() -> None:
    done = _run(
        """
        import sys
        from suitkaise_processing import Pool
        with Pool(workers=1) as pool:
            assert pool.map(abs, [-1]) == [1]
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("distributed", "dask")))
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_without_the_extra_the_error_names_it() -> None:
    done = _run(
        """
        import sys
        sys.modules["distributed"] = None  # as if not installed
        from suitkaise_processing import Pool, PoolError
        try:
            Pool(cluster="tcp://127.0.0.1:8786")
        except PoolError as exc:
            print(exc)
        """
    )
    assert done.returncode == 0, done.stderr
    assert "pip install 'suitkaise-processing[dask]'" in done.stdout


def test_a_script_whose_items_and_function_live_in_main(dask_cluster: Any, tmp_path: Path) -> None:
    script = tmp_path / "script.py"
    script.write_text(
        textwrap.dedent(
            """
            import json, sys
            from dataclasses import dataclass
            from suitkaise_processing import Pool

            @dataclass
            class Point:
                x: int
                y: int

            def norm1(p):
                return abs(p.x) + abs(p.y)

            with Pool(cluster=sys.argv[1]) as pool:
                points = [Point(i, -2 * i) for i in range(6)]
                print(json.dumps([pool.map(norm1, points), pool.map(lambda p: Point(p.y, p.x), points)[1].x]))
            """
        )
    )
    done = subprocess.run(
        [sys.executable, str(script), dask_cluster.address],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [[0, 3, 6, 9, 12, 15], -2]


# --- the task function, run in this process --------------------------------------------------
def _task(fn: Any, items: Any, *, init: Any = None, origin: str = "", payload: Any = None) -> Any:
    blob = wire.serialize(fn)
    return run_batch(
        b"k" * 16 + os.urandom(4),
        blob,
        mode_word(skprocess=False, star=False),
        10,
        wire.encode_by_reference(items) if payload is None else payload,
        (
            "pool-x",
            None if init is None else wire.serialize(init),
            origin or socket.gethostname(),
            "program-x",
            None,
        ),
    )


def test_run_batch_results_and_the_error_of_the_item_after_them() -> None:
    tag, values, packed, elapsed, records = _task(w.fail_on_7, [5, 6, 7, 8])
    assert tag == DONE
    assert wire.decode(values) == [10, 12]
    error = wire.unpack_error(packed, "item", PoolError)
    assert isinstance(error, w.ItemError)
    assert elapsed >= 0
    assert records == []  # log records travel only when forwarded, from a Dask worker


def test_run_batch_asks_for_items_by_value_when_it_cannot_import_them() -> None:
    # a pickle naming a module nobody can import
    payload = (
        b"\x80\x05\x95\x1a\x00\x00\x00\x00\x00\x00\x00\x8c\x0bno_such_mod\x94\x8c\x01X\x94\x93\x94."
    )
    assert _task(w.identity, None, payload=payload) == (DECODE_FAILED, [])


def test_run_batch_reports_a_failing_initializer() -> None:
    tag, packed, _ = _task(w.double, [1], init=(w.failing_initializer, ()))
    assert tag == INIT_FAILED
    assert "initializer broke" in str(wire.unpack_error(packed, "init", PoolError))


def _share_refuses(_: object) -> None:
    raise ShareError("this Share is not running (its shared memory is gone)")


def test_a_local_share_used_on_another_machine_points_to_redis() -> None:
    tag, _, packed, _, _ = _task(_share_refuses, [0], origin="the-laptop")
    assert tag == DONE
    error = wire.unpack_error(packed, "item", PoolError)
    assert isinstance(error, ShareError)
    assert "Share(backend='redis://" in str(error)
    assert "the-laptop" in str(error)


def test_chunks_grow_with_the_cluster_so_the_scheduler_keeps_up(dask_client: Any) -> None:
    with Pool(cluster=dask_client) as pool:
        engine: Any = pool._engine
        assert engine.batching.target == pytest.approx(0.2)  # 2 threads: the fixed ~0.2 s
        engine._size, engine._size_at = 1_600, float("inf")  # as if 100 machines x 16 threads
        # 1,600 threads finishing <= 250 tasks/s between them: 6.4 s of work per task
        assert engine.batching.target == pytest.approx(6.4)


def test_the_item_log_handler_keeps_only_its_tasks_records(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stream = io.StringIO()
    last_resort = logging.StreamHandler(stream)
    last_resort.setLevel(logging.WARNING)
    monkeypatch.setattr(logging, "lastResort", last_resort)
    logger = logging.getLogger("sk_test.dask_item_logs")
    monkeypatch.setattr(logger, "propagate", False)
    logger.setLevel(logging.DEBUG)  # its own level decides, as in a local worker
    handler = _dask_worker._ItemLogHandler()
    logger.addHandler(handler)
    captured: list[dict[str, Any]] = []
    try:
        logger.warning("before the task")
        _dask_worker._task.records = captured
        try:
            logger.debug("from the task")
            other = threading.Thread(target=logger.warning, args=("from another task",))
            other.start()
            other.join()
        finally:
            _dask_worker._task.records = None
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
    assert [(r["levelname"], r["msg"]) for r in captured] == [("DEBUG", "from the task")]
    # the others went where they would have gone without the handler: Python's last resort
    assert stream.getvalue().splitlines() == ["before the task", "from another task"]


def test_a_dask_worker_keeps_the_state_of_its_most_recent_programs() -> None:
    first = _dask_worker.program("sk-test-program-0")
    for i in range(1, _dask_worker.PROGRAMS_KEPT):
        _dask_worker.program(f"sk-test-program-{i}")
    assert _dask_worker.program("sk-test-program-0") is first  # used again: now the most recent
    for i in range(_dask_worker.PROGRAMS_KEPT):
        _dask_worker.program(f"sk-test-other-{i}")
    assert _dask_worker.program("sk-test-program-0") is not first  # forgotten, made anew
