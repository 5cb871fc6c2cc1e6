"""Skprocess faults: children killed mid-run, real section timeouts, Ctrl-C and parent death leave no child."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from suitkaise_processing import ProcessError, ProcessTimeoutError, Skprocess

TESTS = Path(__file__).parent

# --- a child killed mid-run ------------------------------------------------------------------------


class Steps(Skprocess):
    """Tells (pid, run) at each prerun and waits for "go" on run 1."""

    def __init__(self, lives: int) -> None:
        self.process_config.runs = 3
        self.process_config.lives = lives
        self.total = 0

    def __prerun__(self) -> None:
        self.tell((os.getpid(), self.current_run))

    def __run__(self) -> None:
        if self.current_run == 1:
            assert self.listen(timeout=60) == "go"
        self.total += 10

    def __result__(self) -> int:
        return self.total


@pytest.mark.timeout(90)
def test_child_killed_with_lives_left_resumes_from_last_state() -> None:
    process = Steps(lives=2)
    process.start()
    first_pid, run = process.listen(timeout=30)
    assert run == 0
    pid, run = process.listen(timeout=30)
    assert (pid, run) == (first_pid, 1)
    os.kill(pid, signal.SIGKILL)
    new_pid, run = process.listen(timeout=30)
    assert run == 1  # the new process continues at the run that was interrupted
    assert new_pid != pid
    process.tell("go")
    assert process.result() == 30  # state of run 0 kept, run 1 redone once
    assert process.current_run == 3


@pytest.mark.timeout(90)
def test_child_killed_without_lives_left_fails_cleanly() -> None:
    process = Steps(lives=1)
    process.start()
    process.listen(timeout=30)
    pid, run = process.listen(timeout=30)
    assert run == 1
    os.kill(pid, signal.SIGKILL)
    assert process.wait(timeout=30) is True
    with pytest.raises(ProcessError, match="SIGKILL") as info:
        process.result()
    assert info.value.current_run == 1
    assert process.error is info.value
    assert process.is_alive is False


# --- section timeouts, enforced even when the code blocks in C -------------------------------------


class SlowSection(Skprocess):
    def __init__(self, section: str, marker: str | None = None, lives: int = 1) -> None:
        self.section = section
        self.marker = marker
        self.process_config.runs = 2
        self.process_config.lives = lives
        setattr(self.process_config.timeouts, section, 0.5)
        if section == "error":
            self.process_config.timeouts.error = 0.5

    def _block(self, section: str) -> None:
        if section != self.section:
            return
        if section in ("prerun", "run", "postrun") and self.current_run != 1:
            return
        if self.marker is not None:
            if os.path.exists(self.marker):
                return  # the retry after the timeout goes through
            Path(self.marker).write_text("blocked once")
        time.sleep(3600)

    def __prerun__(self) -> None:
        self._block("prerun")

    def __run__(self) -> None:
        if self.section == "error":
            raise ValueError("go to __error__")
        self._block("run")

    def __postrun__(self) -> None:
        self._block("postrun")

    def __onfinish__(self) -> None:
        self._block("onfinish")

    def __result__(self) -> str:
        self._block("result")
        return "finished"

    def __error__(self) -> object:
        self._block("error")
        return self.error


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("section", "run"),
    [("prerun", 1), ("run", 1), ("postrun", 1), ("onfinish", 2), ("result", 2), ("error", 0)],
)
def test_timeout_in_each_section(section: str, run: int) -> None:
    process = SlowSection(section)
    started = time.monotonic()
    process.start()
    with pytest.raises(ProcessTimeoutError) as info:
        process.result()
    err = info.value
    assert err.section == f"__{section}__"  # the method name, as in 0.4
    assert err.timeout == 0.5
    assert err.current_run == run
    assert f"__{section}__" in str(err)
    assert time.monotonic() - started < 60  # the hour-long sleep was cut short
    assert process.is_alive is False


@pytest.mark.timeout(120)
def test_timeout_costs_a_life_and_the_run_is_retried(tmp_path: Path) -> None:
    process = SlowSection("run", marker=str(tmp_path / "blocked"), lives=2)
    assert process.run() == "finished"
    assert (tmp_path / "blocked").exists()
    assert process.current_run == 2


class TimesOutOnRun3(Skprocess):
    """The 0.4 examples page's timeout example: run 3 blocks past its limit, one life."""

    def __init__(self) -> None:
        self.process_config.runs = 5
        self.process_config.timeouts.run = 0.5
        self.completed_runs = 0

    def __run__(self) -> None:
        if self._current_run == 3:
            time.sleep(3600)
        self.completed_runs += 1

    def __error__(self) -> dict[str, Any]:
        error = self.error
        assert isinstance(error, ProcessTimeoutError)
        return {"section": error.section, "run": error.current_run, "done": self.completed_runs}

    def __result__(self) -> str:
        return "finished"


@pytest.mark.timeout(60)
def test_error_handler_after_a_timeout_sees_the_state_at_the_start_of_that_run() -> None:
    assert TimesOutOnRun3().run() == {"section": "__run__", "run": 3, "done": 3}


# --- no orphans --------------------------------------------------------------------------------------


def _start_parent(mode: str) -> tuple[subprocess.Popen[str], int]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS), *sys.path]))
    parent = subprocess.Popen(
        [sys.executable, "-c", f"import skprocess_workers as w; w.main({mode!r})"],
        cwd=TESTS,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert parent.stdout is not None
    line = parent.stdout.readline()
    assert line.startswith("child "), (
        line,
        parent.stderr.read() if parent.poll() is not None else "",
    )
    return parent, int(line.split()[1])


def _gone(pid: int, timeout: float) -> bool:
    try:
        proc = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return True
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if proc.status() == psutil.STATUS_ZOMBIE:
                return True
            proc.wait(timeout=0.5)
            return True
        except psutil.TimeoutExpired:
            continue
        except psutil.NoSuchProcess:
            return True
    return False


@pytest.mark.timeout(120)
def test_ctrl_c_in_wait_reaches_the_user_and_leaves_no_child() -> None:
    parent, child_pid = _start_parent("wait")
    try:
        assert psutil.pid_exists(child_pid)
        parent.send_signal(signal.SIGINT)
        out, err = parent.communicate(timeout=60)
        assert parent.returncode == 3, err
        assert "interrupted" in out
        assert _gone(child_pid, 30)
    finally:
        parent.kill()
        parent.wait(10)
        if not _gone(child_pid, 0):
            os.kill(child_pid, signal.SIGKILL)


@pytest.mark.timeout(120)
def test_parent_killed_without_cleanup_leaves_no_child() -> None:
    parent, child_pid = _start_parent("stdin")
    try:
        assert psutil.pid_exists(child_pid)
        parent.kill()
        parent.wait(30)
        assert _gone(child_pid, 30)
    finally:
        if not _gone(child_pid, 0):
            os.kill(child_pid, signal.SIGKILL)
