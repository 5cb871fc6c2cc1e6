"""Share across plain multiprocessing children: exactness under contention, results, visibility."""

from __future__ import annotations

import queue
from collections.abc import Iterator
from typing import Any

import pytest
import share_workers as w

from suitkaise_processing import Share
from suitkaise_processing._private.context import get_context

pytestmark = pytest.mark.timeout(240)


@pytest.fixture
def share() -> Iterator[Share]:
    s = Share()
    try:
        yield s
    finally:
        s.stop()


def _run(target: Any, arg_lists: list[tuple[Any, ...]]) -> None:
    ctx = get_context()
    procs = [ctx.Process(target=target, args=args) for args in arg_lists]  # type: ignore[attr-defined]
    for p in procs:
        p.start()
    for p in procs:
        p.join(180)
    for p in procs:
        if p.is_alive():
            p.kill()
            p.join(10)
    assert [p.exitcode for p in procs] == [0] * len(procs)


def _collect(q: Any, n: int) -> list[Any]:
    out = []
    for _ in range(n):
        try:
            out.append(q.get(timeout=180))
        except queue.Empty:
            pytest.fail(f"only {len(out)} of {n} children reported")
    return out


def test_counter_contention_four_processes_is_exact(share: Share) -> None:
    share.counter = 0
    _run(w.increment, [(share, 5000) for _ in range(4)])
    assert share.counter == 20_000


def test_dict_updates_under_contention_are_exact(share: Share) -> None:
    # the published suitkaise 0.4 loses about half of these (267 of 500 measured)
    keys = [f"k{i % 5}" for i in range(125)]
    share.d = {f"k{i}": 0 for i in range(5)}
    _run(w.bump_dict, [(share, keys) for _ in range(4)])
    assert share.d == {f"k{i}": 100 for i in range(5)}
    assert sum(share.d.values()) == 500


def test_distinct_dict_keys_from_many_processes_all_land(share: Share) -> None:
    share.d = {}
    _run(w.set_dict_items, [(share, f"p{n}", 125) for n in range(4)])
    assert len(share.d) == 500
    assert share.d["p3-124"] == 124


def test_appends_from_many_processes_all_land(share: Share) -> None:
    share.items = []
    _run(w.append_items, [(share, f"p{n}", 500) for n in range(4)])
    items = list(share.items)
    assert len(items) == 2000
    assert len(set(items)) == 2000
    for n in range(4):  # each writer's items keep their order
        mine = [x for x in items if x.startswith(f"p{n}-")]
        assert mine == [f"p{n}-{i}" for i in range(500)]


def test_pop_returns_real_values_and_never_the_same_one_twice(share: Share) -> None:
    share.items = list(range(1000))
    ctx = get_context()
    out = ctx.Queue()
    _run(w.pop_items, [(share, 250, out) for _ in range(4)])
    popped = [x for chunk in _collect(out, 4) for x in chunk]
    assert None not in popped
    assert sorted(popped) == list(range(1000))
    assert share.items == []


def test_iterator_values_go_to_exactly_one_process(share: Share) -> None:
    share.it = iter(range(400))
    ctx = get_context()
    out = ctx.Queue()
    _run(w.take_from_iterator, [(share, out) for _ in range(3)])
    taken = [x for chunk in _collect(out, 3) for x in chunk]
    assert sorted(taken) == list(range(400))


def test_method_calls_on_a_shared_object_are_atomic(share: Share) -> None:
    share.acc = w.Accumulator()
    ctx = get_context()
    done = ctx.Queue()
    _run(w.call_methods, [(share, 200, done) for _ in range(3)])
    _collect(done, 3)
    assert share.acc.total == 1200
    assert share.acc.peek() == 1200
    assert len(share.acc.history) == 600
    assert share.acc.add(1) == 1201  # the real return value


def test_sktimer_add_time_from_many_processes(share: Share) -> None:
    from sktiming import Sktimer

    share.timer = Sktimer()
    _run(w.add_times, [(share, 100) for _ in range(3)])
    assert share.timer.num_times == 300
    assert share.timer.max == pytest.approx(0.1)
    assert share.timer.total_time == pytest.approx(3 * sum(0.001 * (i + 1) for i in range(100)))


def test_a_child_reads_its_own_writes(share: Share) -> None:
    share.log = []
    ctx = get_context()
    out = ctx.Queue()
    _run(w.write_then_read, [(share, out)])
    seen = _collect(out, 1)[0]
    assert seen[0::2] == list(range(200))
    assert all(seen[1::2])


def test_writes_announced_before_a_signal_are_seen_after_it(share: Share) -> None:
    share.items = []
    share.flag = 0
    ctx = get_context()
    for value in range(1, 6):
        ready = ctx.Event()
        p = ctx.Process(target=w.write_and_signal, args=(share, value, ready))  # type: ignore[attr-defined]
        p.start()
        assert ready.wait(120)
        # the child's writes were sent without waiting; reading here waits until they are applied
        assert share.flag == value
        assert share.items[-1] == value
        p.join(60)
        assert p.exitcode == 0


def test_mixed_workload_from_many_processes_keeps_every_invariant(share: Share) -> None:
    share.counter = 0
    share.d = {f"k{i}": 0 for i in range(7)}
    share.items = []
    ctx = get_context()
    out = ctx.Queue()
    n = 600
    _run(w.mixed_workload, [(share, seed, n, out) for seed in range(3)])
    popped = [tuple(x) for chunk in _collect(out, 3) for x in chunk]
    remaining = [tuple(x) for x in share.items]
    assert share.counter == 3 * n
    assert sum(share.d.values()) == 3 * n
    assert sorted(popped + remaining) == sorted((seed, i) for seed in range(3) for i in range(n))
    assert len(set(popped)) == len(popped)  # no item was popped twice
