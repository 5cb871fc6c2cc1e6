"""Sktimer pickles (pickle, so cucumber too), and declares a consistent ``_shared_meta``."""

from __future__ import annotations

import copy
import inspect
import pickle

import pytest
from sktiming_fake_clock import FakeClock

from sktiming import Sktimer


def test_pickle_round_trip_keeps_samples_window_and_works_after() -> None:
    timer = Sktimer(max_times=10)
    for value in (1.0, 2.0, 3.0):
        timer.add_time(value)
    clone = pickle.loads(pickle.dumps(timer, protocol=pickle.HIGHEST_PROTOCOL))
    assert clone.get_statistics() == timer.get_statistics()
    assert clone.max_times == 10
    clone.add_time(4.0)  # its lock works
    clone.start()
    clone.stop()
    assert clone.num_times == 5
    assert timer.num_times == 3


def test_pickle_keeps_a_running_measurement(clock: FakeClock) -> None:
    timer = Sktimer()
    timer.start()
    clock.advance(1.0)
    timer.pause()
    clock.advance(2.0)
    clone = pickle.loads(pickle.dumps(timer))
    clone.resume()
    clock.advance(3.0)
    assert clone.stop() == pytest.approx(4.0)
    assert clone.total_time_paused == pytest.approx(2.0)


def test_copy_and_deepcopy() -> None:
    timer = Sktimer()
    timer.add_time(1.0)
    shallow, deep = copy.copy(timer), copy.deepcopy(timer)
    for clone in (shallow, deep):
        clone.add_time(2.0)
        assert clone.num_times == 2
    assert timer.num_times == 1


def test_truthiness_does_not_depend_on_samples() -> None:
    assert Sktimer()  # `timer or Sktimer()` patterns keep the given timer


def _public_methods() -> set[str]:
    return {
        name
        for name, value in vars(Sktimer).items()
        if not name.startswith("_") and inspect.isfunction(value)
    }


def _public_properties() -> set[str]:
    return {
        name
        for name, value in vars(Sktimer).items()
        if not name.startswith("_") and isinstance(value, property)
    }


def test_shared_meta_covers_every_public_method_and_property() -> None:
    meta = Sktimer._shared_meta
    assert set(meta) == {"methods", "properties"}
    assert set(meta["methods"]) == _public_methods()
    assert set(meta["properties"]) == _public_properties()


def test_shared_meta_entries_have_the_documented_shape() -> None:
    attributes = set(vars(Sktimer()))
    for section in ("methods", "properties"):
        for name, entry in Sktimer._shared_meta[section].items():
            assert set(entry) == {"reads", "writes"}, name
            assert entry["reads"] == sorted(entry["reads"])
            assert entry["writes"] == sorted(entry["writes"])
            assert set(entry["reads"]) | set(entry["writes"]) <= attributes, name
    for entry in Sktimer._shared_meta["properties"].values():
        assert entry["writes"] == []


def test_shared_meta_writes_match_what_the_methods_change(clock: FakeClock) -> None:
    """Run each mutating method and check that what changed is declared as written."""

    def state(t: Sktimer) -> dict[str, object]:
        return {k: repr(v) for k, v in vars(t).items() if k != "_lock"}

    calls = {
        "start": lambda t: t.start(),
        "stop": lambda t: t.stop(),
        "lap": lambda t: t.lap(),
        "discard": lambda t: t.discard(),
        "pause": lambda t: t.pause(),
        "add_time": lambda t: t.add_time(1.0),
        "set_max_times": lambda t: t.set_max_times(1),
        "reset": lambda t: t.reset(),
        "merge": lambda t: t.merge(t),
    }
    for name, call in calls.items():
        timer = Sktimer()
        timer.add_time(0.5)
        timer.add_time(0.25)
        if name in {"stop", "lap", "discard", "pause"}:
            timer.start()
            clock.advance(1.0)
        before = state(timer)
        call(timer)
        after = state(timer)
        changed = {k for k in after if after[k] != before[k]}
        assert changed <= set(Sktimer._shared_meta["methods"][name]["writes"]), name


def test_in_another_process_the_pickling_threads_measurement_continues(clock: FakeClock) -> None:
    import threading

    timer = Sktimer()
    timer.start()
    clock.advance(1.0)
    other_started = threading.Event()
    release = threading.Event()

    def other_thread() -> None:
        timer.start()
        other_started.set()
        release.wait(30)

    worker = threading.Thread(target=other_thread)
    worker.start()
    assert other_started.wait(30)
    state = timer.__getstate__()
    release.set()
    worker.join(30)
    state["pid"] = -1  # as if unpickled in another process
    clone = Sktimer.__new__(Sktimer)
    clone.__setstate__(state)
    assert clone.is_running  # the main thread's measurement, now this thread's
    assert len(clone._frames) == 1  # the other thread's was dropped
    clock.advance(2.0)
    assert clone.stop() == pytest.approx(3.0)


def test_a_copied_timer_of_a_timethis_function_keeps_recording() -> None:
    """timethis must find the timer's lists at each call (a pickled timer has new ones)."""
    from sktiming import timethis

    timer = Sktimer()

    @timethis(timer)
    def work() -> None:
        pass

    work()
    timer.__setstate__(pickle.loads(pickle.dumps(timer)).__getstate__())  # new lists in place
    work()
    assert timer.num_times == 2
