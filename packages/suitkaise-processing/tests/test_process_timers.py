"""ProcessTimers on its own: section lookup, recording into a cleared timer, pickling and repr."""

from __future__ import annotations

import pickle

import pytest

from suitkaise_processing import ProcessTimers


def test_section_names_every_timer_and_rejects_unknown_names() -> None:
    timers = ProcessTimers()
    assert timers.section("run") is timers.run
    assert timers.section("full_run") is timers.full_run
    with pytest.raises(
        ValueError, match=r"unknown section 'warmup'; use one of prerun, run, .*full_run"
    ):
        timers.section("warmup")


def test_record_recreates_a_timer_that_was_cleared() -> None:
    timers = ProcessTimers()
    timers.result = None
    timers.record("result", 0.25)
    timers.record("result", 0.75)
    assert timers.result is not None
    assert timers.result.num_times == 2
    assert timers.result.mean == pytest.approx(0.5)


def test_pickle_keeps_every_timer_and_repr_counts_them() -> None:
    timers = ProcessTimers()
    timers.record("run", 0.1)
    timers.error = None
    copy = pickle.loads(pickle.dumps(timers))
    assert copy.run is not None
    assert copy.run.num_times == 1
    assert copy.error is None
    assert repr(copy) == (
        "ProcessTimers(prerun=0, run=1, postrun=0, onfinish=0, result=0, error=None, full_run=0)"
    )
