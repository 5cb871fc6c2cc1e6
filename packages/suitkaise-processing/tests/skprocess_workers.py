"""Helpers for Skprocess fault tests that run in plain child interpreters (importable by name)."""

from __future__ import annotations

import os
import sys
import time

from suitkaise_processing import Skprocess


class Sleeper(Skprocess):
    """Tells its pid, then sleeps in C forever (until killed)."""

    def __init__(self) -> None:
        self.process_config.runs = None

    def __prerun__(self) -> None:
        if self.current_run == 0:
            self.tell(os.getpid())

    def __run__(self) -> None:
        time.sleep(3600)


def parent_waits_forever() -> None:
    """Run as a parent process: start a Sleeper, print the child's pid, then block in wait()."""
    process = Sleeper()
    process.start()
    pid = process.listen(timeout=60)
    try:
        print(f"child {pid}", flush=True)
        process.wait()
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        sys.exit(3)


def parent_exits_without_cleanup() -> None:
    """Run as a parent process: start a Sleeper, print the child's pid, then block reading stdin."""
    process = Sleeper()
    process.start()
    pid = process.listen(timeout=60)
    print(f"child {pid}", flush=True)
    sys.stdin.read()


def main(mode: str) -> None:
    """Entry point for the fault tests: ``wait`` or ``stdin``."""
    {"wait": parent_waits_forever, "stdin": parent_exits_without_cleanup}[mode]()
