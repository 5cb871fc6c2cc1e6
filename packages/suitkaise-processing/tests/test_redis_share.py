"""Share(backend=<Redis>) against a real redis-server: keys, kinds, failures, processes, machines.

"Machines" are simulated by separate process trees that share nothing but the Redis URL.
"""

from __future__ import annotations

import multiprocessing as mp
import pickle
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from suitkaise_processing import RedisCounter, Share, ShareError

redis = pytest.importorskip(
    "redis", reason="redis-py is missing: pip install 'suitkaise-processing[redis]'"
)

pytestmark = pytest.mark.timeout(240)
CTX = mp.get_context("forkserver")


def _work(share: Share, times: int, start: mp.synchronize.Event) -> None:
    start.wait(60)
    for i in range(times):
        share.counter += 1
        share.total += 0.5
        share.items.append(i)
        share.d["k"] += 1


def test_is_a_share_with_keys_under_its_name_only(redis_url: str) -> None:
    share = Share(backend=redis_url, name="jobs")
    assert isinstance(share, Share)
    share.counter = 1
    share.items = [1]
    other = Share(backend=redis_url, name="other")
    other.counter = 2
    client = redis.Redis.from_url(redis_url)
    assert sorted(client.keys("*")) == [
        b"sk:share:{jobs}:a:counter",
        b"sk:share:{jobs}:a:items",
        b"sk:share:{jobs}:names",
        b"sk:share:{other}:a:counter",
        b"sk:share:{other}:names",
    ]
    assert (share.counter, other.counter) == (1, 2)
    share.clear()
    assert sorted(client.keys("*")) == [b"sk:share:{other}:a:counter", b"sk:share:{other}:names"]
    other.clear()
    assert client.keys("*") == []


def test_numbers_are_native_and_other_values_cucumber(redis_url: str) -> None:
    import cucumber

    share = Share(backend=redis_url, name="kinds")
    share.n = 5
    share.n += 2
    share.f = 1.25
    share.f += 1
    share.mixed = 1
    share.mixed += 0.5  # an int plus a float is a float
    share.obj = {"a": [1, 2]}
    client = redis.Redis.from_url(redis_url)
    assert client.get("sk:share:{kinds}:a:n") == b"7"
    assert client.get("sk:share:{kinds}:a:f") == b"2.25"
    assert share.f == 2.25
    assert share.mixed == 1.5
    assert type(share.mixed) is not int
    share.whole = 0.5
    share.whole += 0.5  # INCRBYFLOAT writes "1": still a float
    assert client.get("sk:share:{kinds}:a:whole") == b"1.0"
    assert share.whole == 1.0
    assert type(share.whole) is not int
    share.whole += 2
    assert share.whole == 3.0
    assert type(share.whole) is not int
    share.inf = float("inf")
    share.inf += 1
    assert share.inf == float("inf")
    raw = client.get("sk:share:{kinds}:a:obj")
    assert cucumber.deserialize(raw) == {"a": [1, 2]}
    share.big = 2**63 - 1
    share.big += 1  # beyond 64 bits: applied in a transaction, stored with cucumber
    assert share.big == 2**63
    share.big -= 2
    assert share.big == 2**63 - 2
    assert type(share.f + 1) is float


def test_method_calls_return_their_real_results_and_raise_their_errors(redis_url: str) -> None:
    from share_workers import Accumulator

    share = Share(backend=redis_url, name="calls")
    share.acc = Accumulator()
    assert share.acc.add(3) == 3
    assert share.acc.add(4) == 7
    assert share.acc.history == [3, 4]
    share.items = [3, 1, 2]
    assert share.items.pop(0) == 3
    with pytest.raises(ValueError):
        share.items.remove(99)
    with pytest.raises(TypeError):
        share.items.insert("not an index", 1)  # type: ignore[arg-type]
    assert share.items == [1, 2]


def test_plus_equal_on_a_value_replaced_elsewhere(redis_url: str) -> None:
    share = Share(backend=redis_url, name="replaced")
    other = Share(backend=redis_url, name="replaced")
    share.x = 1
    share.x += 1  # this process now knows x as a number
    other.x = ["a"]
    share.x += ["b"]  # applied to what x holds now
    assert other.x == ["a", "b"]
    other.x = "s"
    share.x += "t"
    assert share.x == "st"
    del other.x
    with pytest.raises(AttributeError):
        share.x += 1


def test_pickled_and_from_a_client(redis_url: str) -> None:
    share = Share(backend=redis_url, name="pickled", timeout=2.0)
    share.n = 1
    copy = pickle.loads(pickle.dumps(share))
    copy.n += 1
    assert share.n == 2
    client = redis.Redis.from_url(redis_url)
    via_client = Share(backend=client, name="pickled")
    assert via_client.n == 2
    assert pickle.loads(pickle.dumps(via_client)).n == 2
    with pytest.raises(ValueError, match="decode_responses"):
        Share(backend=redis.Redis.from_url(redis_url, decode_responses=True), name="pickled")
    assert share.is_running
    assert not share.has_error
    with share as same:
        same.n += 1
    share.stop()
    assert share.n == 3  # nothing to stop: the state stays until clear()


def test_needs_a_name(redis_url: str) -> None:
    with pytest.raises(ValueError, match="name="):
        Share(backend=redis_url)
    with pytest.raises(ValueError, match="timeout"):
        Share(backend=redis_url, name="x", timeout=-1)
    with pytest.raises(TypeError, match="need backend="):
        Share(name="x")


@pytest.mark.timeout(60)
def test_unreachable_server_is_a_share_error_within_the_timeout() -> None:
    with socket.socket() as sock:  # accepts connections (backlog) and never answers
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        share = Share(backend=f"redis://127.0.0.1:{sock.getsockname()[1]}/0", name="x", timeout=0.3)
        with pytest.raises(ShareError, match="did not answer in time"):
            share.n = 1
        with pytest.raises(ShareError):
            share.n  # noqa: B018
        assert not share.is_running
        assert share.has_error


@pytest.mark.timeout(120)
def test_server_restart_under_connected_clients(redis_server: object, redis_url: str) -> None:
    share = Share(backend=redis_url, name="restart")
    share.n = 1
    share.items = [1]
    redis_server.stop()  # type: ignore[attr-defined]
    try:
        with pytest.raises(ShareError, match="could not be reached"):
            share.n += 1
        with pytest.raises(ShareError):
            share.items.append(2)
        with pytest.raises(ShareError):
            share.items  # noqa: B018
    finally:
        redis_server.start()  # type: ignore[attr-defined]
    # back (empty: the test server keeps no data): a write either returned or raised, never lost
    share.n = 10
    share.n += 1
    assert share.n == 11
    redis_server.restart()  # type: ignore[attr-defined]
    outcomes = []
    for _ in range(3):
        try:
            share.n = 5
            outcomes.append("written")
        except ShareError:
            outcomes.append("raised")
    assert outcomes[-1] == "written"
    assert share.n == 5


@pytest.mark.timeout(180)
def test_processes_never_lose_an_update(redis_url: str) -> None:
    share = Share(backend=redis_url, name="procs")
    share.counter = 0
    share.total = 0.0
    share.items = []
    share.d = {"k": 0}
    start = CTX.Event()
    procs = [CTX.Process(target=_work, args=(share, 250, start)) for _ in range(4)]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(150)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    assert share.counter == 1000
    assert share.total == 500.0
    assert len(share.items) == 1000
    assert sorted(share.items) == sorted(list(range(250)) * 4)
    assert share.d == {"k": 1000}


_MACHINE = """
import multiprocessing as mp
import sys

from suitkaise_processing import RedisCounter, Share


def work(url):
    share = Share(backend=url, name="machines")
    ready = RedisCounter("machines-ready", redis_url=url)
    ready.increment()
    if not ready.wait_for(lambda n: n >= 4, timeout=60):
        sys.exit("the other workers never came")
    for i in range(500):
        share.counter += 1
        share.items.append(i)


if __name__ == "__main__":
    url = sys.argv[1]
    ctx = mp.get_context("forkserver")
    procs = [ctx.Process(target=work, args=(url,)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(150)
    sys.exit(max(p.exitcode or 0 for p in procs) if all(p.exitcode is not None for p in procs) else 9)
"""


@pytest.mark.timeout(200)
def test_two_process_trees_sharing_only_the_url_are_exact(redis_url: str, tmp_path: Path) -> None:
    share = Share(backend=redis_url, name="machines")
    share.counter = 0
    share.items = []
    script = tmp_path / "machine.py"
    script.write_text(textwrap.dedent(_MACHINE))
    trees = [
        subprocess.Popen([sys.executable, str(script), redis_url], start_new_session=True)
        for _ in range(2)
    ]
    try:
        codes = [tree.wait(180) for tree in trees]
    finally:
        for tree in trees:
            if tree.poll() is None:
                tree.kill()
                tree.wait(10)
    assert codes == [0, 0]
    assert share.counter == 2 * 2 * 500
    assert len(share.items) == 2 * 2 * 500
    assert sorted(share.items) == sorted(list(range(500)) * 4)
    assert RedisCounter("machines-ready", redis_url=redis_url).value == 4
