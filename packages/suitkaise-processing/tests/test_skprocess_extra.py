"""More Skprocess behaviour: segfaults with lives, stop() from inside, live current_run, endpoints
moved through another pipe, and process-level details."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest

from suitkaise_processing import Pipe, ProcessError, Skprocess


class Crashes(Skprocess):
    """Dies with SIGSEGV on run 1 the first time (a marker file remembers it across the crash)."""

    def __init__(self, marker: str, lives: int) -> None:
        self.marker = marker
        self.process_config.runs = 3
        self.process_config.lives = lives
        self.done: list[int] = []

    def __run__(self) -> None:
        if self.current_run == 1 and not os.path.exists(self.marker):
            Path(self.marker).write_text("crashed")
            os.kill(os.getpid(), signal.SIGSEGV)
        self.done.append(self.current_run)

    def __result__(self) -> list[int]:
        return self.done


@pytest.mark.timeout(90)
def test_segfault_costs_a_life_and_the_run_is_redone(tmp_path: Path) -> None:
    assert Crashes(str(tmp_path / "m"), lives=2).run() == [0, 1, 2]


@pytest.mark.timeout(90)
def test_segfault_without_lives_reports_the_signal(tmp_path: Path) -> None:
    process = Crashes(str(tmp_path / "m"), lives=1)
    with pytest.raises(ProcessError, match="SIGSEGV") as info:
        process.run()
    assert info.value.current_run == 1


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


class DiesThenHandles(Skprocess):
    """Killed on run 1 with no lives left: __error__ still runs (in a fresh process) and decides."""

    def __init__(self) -> None:
        self.process_config.runs = 3
        self.handled_in: int | None = None

    def __prerun__(self) -> None:
        self.tell((os.getpid(), self.current_run))

    def __run__(self) -> None:
        if self.current_run == 1:
            assert self.listen(timeout=60) == "never sent"

    def __error__(self) -> dict[str, Any]:
        return {
            "kind": type(self.error).__name__,
            "run": self.error.current_run if isinstance(self.error, ProcessError) else None,
            "pid": os.getpid(),
        }


@pytest.mark.timeout(90)
def test_error_handler_runs_after_the_child_was_killed_without_lives() -> None:
    process = DiesThenHandles()
    process.start()
    process.listen(timeout=30)
    pid, run = process.listen(timeout=30)
    assert run == 1
    os.kill(pid, signal.SIGKILL)
    out = process.result()
    assert out["kind"] == "ProcessError"
    assert out["run"] == 1
    assert out["pid"] not in (pid, os.getpid())
