"""Share in one process: values, proxies, in-place operators, lifecycle, unsupported values."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import stat
import threading
import warnings
from collections.abc import Iterator
from multiprocessing import shared_memory
from pathlib import Path

import pytest

from suitkaise_processing import Share, ShareError

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def share() -> Iterator[Share]:
    s = Share()
    try:
        yield s
    finally:
        s.stop()


def test_plain_values_round_trip(share: Share) -> None:
    share.counter = 0
    share.ratio = 0.5
    share.name = "suit"
    share.flag = True
    share.nothing = None
    share.pair = (1, "a")
    share.blob = b"\x00\x01"
    assert share.counter == 0
    assert isinstance(share.counter, int)
    assert share.ratio == 0.5
    assert isinstance(share.ratio, float)
    assert share.name == "suit"
    assert share.name.upper() == "SUIT"
    assert share.flag is True
    assert share.nothing is None
    assert share.pair == (1, "a")
    assert share.blob == b"\x00\x01"
    assert f"{share.counter:03d}" == "000"


def test_in_place_operators_on_numbers_and_strings(share: Share) -> None:
    share.counter = 10
    share.counter += 5
    share.counter -= 3
    share.counter *= 2
    share.counter //= 4
    assert share.counter == 6
    share.x = 1.5
    share.x += 1
    assert share.x == 2.5
    share.s = "ab"
    share.s += "cd"
    assert share.s == "abcd"


def test_a_view_used_elsewhere_is_a_plain_value(share: Share) -> None:
    share.counter = 3
    local = share.counter
    local += 1  # does not touch the share
    assert local == 4
    assert share.counter == 3
    share.other = local  # a value computed from another attribute is assigned as a value
    assert share.other == 4
    assert share.counter == 3
    assert pickle.loads(pickle.dumps(share.counter)) == 3
    assert type(pickle.loads(pickle.dumps(share.counter))) is int


def test_list_proxy_behaves_like_a_list(share: Share) -> None:
    share.items = []
    share.items.append(3)
    assert share.items == [3]
    assert len(share.items) == 1
    assert 3 in share.items
    assert 4 not in share.items
    assert repr(share.items) == "[3]"
    share.items.extend([4, 5, 6])
    assert list(share.items) == [3, 4, 5, 6]
    assert [x * 2 for x in share.items] == [6, 8, 10, 12]
    assert share.items[0] == 3
    assert share.items[-1] == 6
    assert share.items[1:3] == [4, 5]
    assert share.items.pop() == 6
    assert share.items.pop(0) == 3
    share.items.insert(0, 1)
    share.items[1] += 10
    assert share.items == [1, 14, 5]
    share.items.remove(5)
    with pytest.raises(ValueError):
        share.items.remove(99)
    share.items += [7, 8]
    assert share.items == [1, 14, 7, 8]
    assert share.items.index(7) == 2
    assert share.items.count(8) == 1
    share.items.sort(reverse=True)
    assert share.items == [14, 8, 7, 1]
    del share.items[0]
    assert share.items == [8, 7, 1]
    with pytest.raises(IndexError):
        share.items[10] = 1
    copy = share.items.copy()
    copy.append(0)
    assert share.items == [8, 7, 1]
    share.items.clear()
    assert share.items == []
    assert not share.items


def test_dict_proxy_behaves_like_a_dict(share: Share) -> None:
    share.d = {"a": 1}
    share.d["b"] = 2
    share.d["a"] += 10
    assert share.d == {"a": 11, "b": 2}
    assert share.d["a"] == 11
    assert share.d.get("zz") is None
    assert share.d.get("b") == 2
    assert sorted(share.d) == ["a", "b"]
    assert "a" in share.d
    assert len(share.d) == 2
    assert sorted(share.d.items()) == [("a", 11), ("b", 2)]
    assert sorted(share.d.keys()) == ["a", "b"]
    assert sorted(share.d.values()) == [2, 11]
    share.d.update({"c": 3}, e=5)
    assert share.d.pop("c") == 3
    assert share.d.setdefault("f", []) == []
    share.d["f"].append(1)
    share.d["nested"] = {"x": {"y": 1}}
    share.d["nested"]["x"]["y"] += 1
    assert share.d["f"] == [1]
    assert share.d["nested"] == {"x": {"y": 2}}
    del share.d["e"]
    with pytest.raises(KeyError):
        del share.d["missing"]
    with pytest.raises(KeyError):
        share.d["missing"]
    share.d |= {"z": 0}
    assert set(share.d.keys()) == {"a", "b", "f", "nested", "z"}


def test_set_proxy(share: Share) -> None:
    share.tags = set()
    share.tags.add("a")
    share.tags.update(["b", "c"])
    share.tags.discard("zz")
    share.tags.remove("c")
    with pytest.raises(KeyError):
        share.tags.remove("c")
    share.tags |= {"d"}
    share.tags -= {"a"}
    assert share.tags == {"b", "d"}
    assert share.tags.union({"e"}) == {"b", "d", "e"}
    assert share.tags.pop() in {"b", "d"}
    assert len(share.tags) == 1


def test_iterator_hands_out_each_value_once(share: Share) -> None:
    share.it = iter(range(5))
    assert next(share.it) == 0
    assert list(share.it) == [1, 2, 3, 4]
    with pytest.raises(StopIteration):
        next(share.it)
    share.pairs = enumerate("ab")
    assert list(share.pairs) == [(0, "a"), (1, "b")]


def test_missing_and_deleted_attributes(share: Share) -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        share.nope  # noqa: B018
    share.tmp = 1
    del share.tmp
    with pytest.raises(AttributeError):
        share.tmp  # noqa: B018
    with pytest.raises(AttributeError):
        del share.tmp
    assert not hasattr(share, "tmp")
    share.tmp = [1]
    assert share.tmp == [1]


def test_reads_its_own_writes_every_time(share: Share) -> None:
    share.items = []
    for i in range(300):
        share.value = i
        assert share.value == i
        share.items.append(i)
        assert len(share.items) == i + 1
        assert share.items[-1] == i


def test_repr_and_dir(share: Share) -> None:
    share.counter = 1
    share.items = [1, 2]
    assert repr(share) == "Share(counter=1, items=[1, 2])"
    assert {"counter", "items", "start", "stop"} <= set(dir(share))


def test_threads_never_lose_an_update(share: Share) -> None:
    share.counter = 0
    share.items = []

    def work() -> None:
        for i in range(300):
            share.counter += 1
            share.items.append(i)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert share.counter == 1200
    assert len(share.items) == 1200


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: multiprocessing.Queue(), id="Queue"),
        pytest.param(lambda: multiprocessing.Event(), id="Event"),
        pytest.param(lambda: multiprocessing.Lock(), id="Lock"),
        pytest.param(lambda: multiprocessing.Pipe()[0], id="Connection"),
    ],
)
def test_multiprocessing_objects_are_rejected_with_the_attribute_name(
    share: Share, make: object
) -> None:
    from cucumber import SerializationError

    value = make()  # type: ignore[operator]
    with pytest.raises(TypeError, match=r"share\.bad.*multiprocessing") as info:
        share.bad = value
    assert isinstance(info.value, SerializationError)  # RELIABILITY: also cucumber's error type
    with pytest.raises(TypeError, match=r"share\.bad\[1\]"):
        share.bad = [1, value]
    assert not hasattr(share, "bad")
    if hasattr(value, "close"):
        value.close()


def test_shared_memory_and_os_pipe_files_are_rejected(share: Share) -> None:
    shm = shared_memory.SharedMemory(create=True, size=16)
    try:
        with pytest.raises(TypeError, match=r"share\.seg"):
            share.seg = shm
    finally:
        shm.close()
        shm.unlink()
    r, w = os.pipe()
    reader = os.fdopen(r, "rb")
    raw = open(w, "wb", buffering=0)  # noqa: SIM115 - a pipe-backed io.FileIO
    try:
        with pytest.raises(TypeError, match=r"share\.pipe_file.*pipe"):
            share.pipe_file = reader
        with pytest.raises(TypeError, match=r"share\.raw.*pipe"):
            share.raw = raw
    finally:
        reader.close()
        raw.close()


def test_reserved_names(share: Share) -> None:
    with pytest.raises(AttributeError):
        share._sk_x = 1
    with pytest.raises(AttributeError):
        share.__x = 1
    with pytest.raises(AttributeError, match="method or property of Share"):
        share.start = 1  # type: ignore[assignment,method-assign]
    share._private = 2  # a single underscore is an ordinary name
    assert share._private == 2


def test_stop_keeps_values_and_start_applies_changes_made_while_stopped(share: Share) -> None:
    share.counter = 1
    share.items = [1]
    assert share.is_running
    assert not share.has_error
    assert share.stop() is True
    assert not share.is_running
    assert not share.has_error
    assert share.stop() is True  # idempotent
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        share.counter += 1  # queued
        share.items.append(2)  # queued
        share.extra = "x"  # queued
    assert [w.category for w in warned] == [RuntimeWarning] * 3
    assert all("stopped" in str(w.message) for w in warned)
    assert {Path(w.filename).name for w in warned} == {"test_share_basic.py"}  # the user's lines
    assert share.counter == 2  # the owner sees its changes at once; the others at start()
    share.start()
    assert share.is_running
    assert share.counter == 2
    assert share.items == [1, 2]
    assert share.extra == "x"
    assert share.exit() is True
    share.start()
    assert share.items == [1, 2]


def test_calls_with_results_work_while_stopped_and_others_see_them_after_start(
    share: Share,
) -> None:
    share.items = [1, 2, 3]
    other = pickle.loads(pickle.dumps(share))  # stands for another process's handle
    share.stop()
    with pytest.warns(RuntimeWarning, match="stopped"):
        assert share.items.pop() == 3
    with pytest.raises(ShareError, match="stopped"):
        other.items  # noqa: B018
    share.start()
    assert share.items == [1, 2]


def test_clear_removes_everything(share: Share) -> None:
    share.a = 1
    share.b = [1]
    share.clear()
    assert not hasattr(share, "a")
    assert not hasattr(share, "b")
    share.a = 2
    assert share.a == 2


def test_auto_start_false_starts_at_start_or_at_the_with_block() -> None:
    share = Share(auto_start=False)
    try:
        assert not share.is_running
        assert not share.has_error
        with pytest.warns(RuntimeWarning, match=r"stopped.*share\.start\(\)"):
            share.counter = 0  # kept in the owner until start()
        assert share.counter == 0
        ghost = pickle.loads(pickle.dumps(share))  # another process's handle: nothing runs yet
        with pytest.raises(ShareError, match="not running"):
            ghost.counter  # noqa: B018
        share.start()
        assert share.is_running
        share.counter = 100
        assert ghost.counter == 100
        share.stop()
        assert not share.is_running
        share.start()
        assert share.counter == 100
    finally:
        share.stop()
    with Share(auto_start=False) as other:
        assert other.is_running  # the with block starts it
        other.items = [1]
        other.items.append(2)
        assert other.items == [1, 2]
    assert not other.is_running
    assert other.items == [1, 2]  # kept by the owner after the block


def test_auto_start_is_keyword_only() -> None:
    with pytest.raises(TypeError):
        Share(False)  # type: ignore[call-arg]


def test_context_manager_stops() -> None:
    with Share() as share:
        share.counter = 0
        share.counter += 1
        assert share.counter == 1
        prefix = f"sk_{share._sk_id()}_"
    assert not share.is_running
    if os.path.isdir("/dev/shm"):
        assert not [n for n in os.listdir("/dev/shm") if n.startswith(prefix)]


def test_pickled_share_reaches_the_same_values(share: Share) -> None:
    share.counter = 5
    copy = pickle.loads(pickle.dumps(share))
    copy.counter += 1
    assert share.counter == 6
    with pytest.raises(ShareError, match="created"):
        copy.stop()


def test_pickled_share_carries_connection_info_only(share: Share) -> None:
    share.big = list(range(10_000))
    assert len(pickle.dumps(share)) < 500


def test_segments_socket_and_folder_are_owner_only(share: Share) -> None:
    share.counter = 1
    info = share._sk_info
    assert stat.S_IMODE(os.stat(os.path.dirname(info.address)).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(info.address).st_mode) == 0o600
    if os.path.isdir("/dev/shm"):
        names = [n for n in os.listdir("/dev/shm") if n.startswith(f"sk_{share._sk_id()}_")]
        assert len(names) >= 2  # control + the counter's data
        for name in names:
            assert stat.S_IMODE(os.stat(f"/dev/shm/{name}").st_mode) == 0o600


def test_a_process_without_the_key_cannot_send_commands(share: Share) -> None:
    from multiprocessing.connection import Client

    share.counter = 1
    with pytest.raises(multiprocessing.AuthenticationError):
        Client(share._sk_info.address, family="AF_UNIX", authkey=b"wrong key")
    assert share.counter == 1
    share.counter += 1
    assert share.counter == 2


def test_large_values_and_growth(share: Share) -> None:
    share.items = []
    for chunk in range(20):
        share.items.extend(range(chunk * 1000, (chunk + 1) * 1000))
    assert len(share.items) == 20_000
    assert share.items[-1] == 19_999
    share.blob = b"x" * 3_000_000
    assert len(share.blob) == 3_000_000
    share.blob = b"small"
    assert share.blob == b"small"
    assert sum(share.items) == sum(range(20_000))


def test_errors_of_writes_that_do_not_wait_reach_the_writer(share: Share) -> None:
    share.items = [1]
    share.items.insert("not an index", 2)  # type: ignore[arg-type]  # sent without waiting

    def keep_using() -> None:
        for _ in range(100_000):
            share.items.append(0)  # every access first checks for errors sent back

    with pytest.raises(TypeError, match="integer"):
        keep_using()
    assert share.items[0] == 1  # the share works on
    assert share.items.pop(0) == 1


def test_share_travels_through_cucumber(share: Share) -> None:
    import cucumber

    share.counter = 1
    copy = cucumber.deserialize(cucumber.serialize(share))
    copy.counter += 1
    assert share.counter == 2
    assert len(cucumber.serialize(share)) < 1000


def test_plus_equal_then_read_sees_every_increment(share: Share) -> None:
    share.counter = 0
    share.d = {"k": 0}
    for i in range(1, 301):
        share.counter += 1
        share.d["k"] += 1
        assert share.counter == i
        assert share.d["k"] == i
    x = share.counter
    x += 5  # a plain int now: nothing is sent
    assert x == 305
    assert share.counter == 300


def test_plus_equal_right_after_recreating_a_deleted_attribute(share: Share) -> None:
    share.n = 1
    del share.n
    share.n = 10  # sent without waiting
    share.n += 1  # must see the recreated attribute
    assert share.n == 11


def test_item_and_object_plus_equal_see_queued_creations(share: Share) -> None:
    from share_workers import Accumulator

    share.d = {}
    share.d["new"] = 0  # sent without waiting
    share.d["new"] += 1  # the key exists only once the queued write is applied
    share.items = []
    share.items.append(5)
    share.items[0] += 1
    share.acc = Accumulator()
    share.acc.total += 4
    share.acc.total += 1
    assert share.d == {"new": 1}
    assert share.items == [6]
    assert share.acc.total == 5
