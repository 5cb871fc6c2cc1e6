"""Skprocess children that crash: a segfault costs a life (the run is redone) or reports the signal,
and a child killed without lives still gets its ``__error__`` handler (in a fresh process)."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest

from suitkaise_processing import ProcessError, Skprocess


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
