"""Ctrl-C while a process uses a Share, and its exit afterwards (issue 11).

A ``KeyboardInterrupt`` can surface right after any call returns. One that surfaced right after the
client's non-blocking ``lock.acquire()`` (on the read path, every 200 us) left the connection lock
held, and the process then hung for ever in its exit-time Share cleanup. These tests run real
processes: one interrupts the hot path thousands of times with a timer signal and checks that the
lock is never left held; one exits while another thread holds the connection and must still end,
within a bound, saying why.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.timeout(120)

_INTERRUPTED_LOOP = textwrap.dedent(
    """
    import signal, sys, time
    from suitkaise_processing import Share

    armed = False

    def interrupt(signum, frame):
        global armed
        if armed:  # only inside the loop body below, never in our own bookkeeping
            armed = False
            raise KeyboardInterrupt

    if __name__ == "__main__":
        signal.signal(signal.SIGALRM, interrupt)
        share = Share()
        share.counter = 0
        share.items = []
        client = share._sk_router._sk_client()
        hits = held = 0
        signal.setitimer(signal.ITIMER_REAL, 0.0003, 0.0003)
        end = time.monotonic() + 4.0
        while time.monotonic() < end:
            try:
                armed = True
                share.counter += 1
                share.items.append(1)
                if len(share.items) > 50:
                    share.items.clear()
                armed = False
            except KeyboardInterrupt:
                hits += 1
                if client.lock.locked():  # no other thread uses the connection here
                    held += 1
                    client.lock.release()
        signal.setitimer(signal.ITIMER_REAL, 0)
        armed = False
        print("hits", hits, "held", held, flush=True)
        share.counter = -1
        assert share.counter == -1
        share.stop()
    """
)


def _run(script: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=timeout
    )


def test_an_interrupt_anywhere_in_share_use_never_leaves_the_connection_locked() -> None:
    done = _run(_INTERRUPTED_LOOP, 90)
    assert done.returncode == 0, done.stderr[-3000:]
    words = done.stdout.split()
    hits, held = int(words[1]), int(words[3])
    assert hits > 100, done.stdout  # the timer did interrupt the loop, in many places
    assert held == 0, done.stdout


_EXIT_WITH_A_BUSY_CONNECTION = textwrap.dedent(
    """
    import os, sys, threading
    from suitkaise_processing import Share

    if __name__ == "__main__":
        share = Share()
        share.counter = 1
        print(share._sk_id(), flush=True)
        client = share._sk_router._sk_client()
        taken = threading.Event()

        def hold_for_ever():  # a daemon thread that never gives the connection back
            with client.lock:
                taken.set()
                threading.Event().wait()

        threading.Thread(target=hold_for_ever, daemon=True).start()
        taken.wait(30)
        print("interrupted", flush=True)
        sys.exit(3)
    """
)


def test_exit_is_bounded_when_another_thread_holds_the_connection() -> None:
    done = _run(_EXIT_WITH_A_BUSY_CONNECTION, 60)  # before the fix: no exit at all
    assert done.returncode == 3, done.stderr[-3000:]
    share_id, said = done.stdout.split()
    assert said == "interrupted"
    assert "another thread still held it" in done.stderr
    leftovers = [n for n in os.listdir("/dev/shm") if n.startswith(f"sk_{share_id}_")]
    assert leftovers == []
