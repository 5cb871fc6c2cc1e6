"""A running Skprocess seen from both sides: stop() from inside, current_run while it runs, a pipe
point moved to the child through another pipe, a class with no ``__run__``, and control methods
called inside the child."""

from __future__ import annotations

import os
from typing import Any

import pytest

from suitkaise_processing import Pipe, ProcessError, Skprocess


class StopsItself(Skprocess):
    def __init__(self) -> None:
        self.n = 0
        self.alive_inside: bool | None = None

    def __run__(self) -> None:
        self.n += 1
        self.alive_inside = self.is_alive
        if self.n == 5:
            self.stop()

    def __result__(self) -> tuple[int, bool | None]:
        return self.n, self.alive_inside


@pytest.mark.timeout(60)
def test_stop_from_inside_the_process() -> None:
    assert StopsItself().run() == (5, True)


class Paced(Skprocess):
    """Waits for a "next" before each run so the parent can watch current_run move."""

    def __init__(self) -> None:
        self.process_config.runs = 3

    def __prerun__(self) -> None:
        self.tell(("at", self.current_run))
        assert self.listen(timeout=60) == "next"

    def __run__(self) -> None:
        pass


@pytest.mark.timeout(60)
def test_current_run_is_visible_while_running() -> None:
    process = Paced()
    process.start()
    for expected in range(3):
        assert process.listen(timeout=30) == ("at", expected)
        assert process.current_run == expected
        assert process.is_alive
        process.tell("next")
    process.wait()
    assert process.current_run == 3


class Relay(Skprocess):
    """Receives a point through its own pipe, then answers on it."""

    def __init__(self, control: Any) -> None:
        self.control = control
        self.process_config.runs = 1

    def __run__(self) -> None:
        moved = self.control.recv(timeout=30)
        moved.send(("hello through a moved point", os.getpid()))
        moved.close()


@pytest.mark.timeout(60)
def test_a_point_sent_through_another_pipe_reaches_the_child() -> None:
    control_anchor, control_point = Pipe.pair()
    anchor, point = Pipe.pair()
    process = Relay(control_point)
    process.start()
    control_anchor.send(point)  # moved with multiprocessing's authenticated resource sharer
    point.close()
    message, pid = anchor.recv(timeout=30)
    assert message == "hello through a moved point"
    assert pid != os.getpid()
    process.wait()
    with pytest.raises(EOFError):
        anchor.recv(timeout=30)
    anchor.close()
    control_anchor.close()


class IncrementProcess(Skprocess):
    """The Share how-to's basic usage defines only __postrun__: runs still happen."""

    def __init__(self) -> None:
        self.counter = 0
        self.process_config.runs = 10

    def __postrun__(self) -> None:
        self.counter += 1

    def __result__(self) -> int:
        return self.counter


@pytest.mark.timeout(60)
def test_a_class_without_run_method_runs_its_other_sections() -> None:
    assert IncrementProcess().run() == 10


class Holder(Skprocess):
    def __init__(self) -> None:
        self.process_config.runs = 1

    def __run__(self) -> None:
        self.start()


@pytest.mark.timeout(60)
def test_control_methods_inside_the_child_explain_themselves() -> None:
    with pytest.raises(ProcessError) as info:
        Holder().run()
    assert "parent" in str(info.value.original_error)
