"""The suitkaise 0.4 ``processing`` how-to-use page, run on this kit.

That page is the project's seed 001 word for word, and every one of its code blocks is already a test in
``tests-integration/test_seed_001_*.py`` (Skprocess, Pool, Share, Pipe, autoreconnect, ProcessTimers,
exceptions; 69 tests). This file adds the 0.4 spellings those tests do not use: the published import
line, ``self._current_run`` (the name the 0.4 examples use), ``share.exit()``, ``Share(auto_start=False)``,
and the ``lives`` rule the page states ("current run state is preserved").
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.timeout(120)


def test_the_published_import_line() -> None:
    from suitkaise import processing
    from suitkaise.processing import (
        ErrorHandlerError,
        OnFinishError,
        Pipe,
        Pool,
        PostRunError,
        PreRunError,
        ProcessError,
        ProcessTimeoutError,
        ProcessTimers,
        ResultError,
        ResultTimeoutError,
        RunError,
        Share,
        Skprocess,
        autoreconnect,
    )

    assert processing.Skprocess is Skprocess
    for error in (
        PreRunError,
        RunError,
        PostRunError,
        OnFinishError,
        ResultError,
        ErrorHandlerError,
    ):
        assert issubclass(error, ProcessError)
    assert issubclass(ProcessTimeoutError, ProcessError)
    assert issubclass(ResultTimeoutError, TimeoutError)
    assert callable(autoreconnect)
    assert all(x is not None for x in (Pipe, Pool, ProcessTimers, Share))


from suitkaise.processing import Share, Skprocess  # noqa: E402


class Attempts(Skprocess):
    """Counts its attempts; run 1 fails twice, then succeeds (3 lives)."""

    def __init__(self) -> None:
        self.process_config.runs = 3
        self.process_config.lives = 3
        self.attempts = 0
        self.seen_runs: list[tuple[int, int]] = []

    def __run__(self) -> None:
        self.attempts += 1
        self.seen_runs.append((self._current_run, self.current_run))
        if self._current_run == 1 and self.attempts < 4:
            raise RuntimeError("transient")

    def __result__(self) -> tuple[int, list[tuple[int, int]]]:
        return self.attempts, self.seen_runs


def test_lives_keep_the_current_state_and_current_run_names() -> None:
    attempts, seen = Attempts().run()
    # "Current run state is preserved. Process restarts from where it left off."
    assert attempts == 5  # run 0, run 1 three times, run 2
    assert seen == [(0, 0), (1, 1), (1, 1), (1, 1), (2, 2)]


def test_share_exit_and_auto_start() -> None:
    share = Share()
    share.counter = 1
    assert share.exit() is True  # alias of stop()
    assert not share.is_running

    later = Share(auto_start=False)
    try:
        assert not later.is_running
        later.start()
        later.counter = 5
        assert later.counter == 5
    finally:
        later.stop()
