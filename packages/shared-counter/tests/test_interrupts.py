"""An interrupt inside an atomic operation never leaves the counter's lock taken (issue 11).

A ``KeyboardInterrupt`` (raised by a signal handler) or an exception injected into a thread with
``PyThreadState_SetAsyncExc`` surfaces right after a call returns. One that surfaced right after an
operation's semaphore acquire, before the ``try`` that releases it, left the lock held for ever: by
this process (the other processes then waited on a live owner for ever) or, when it came before the
owner word was written, until another process took it as orphaned 10 s later while this process still
believed it held it. The test interrupts a real loop of operations thousands of times with a timer
signal and checks after each interrupt that the lock is not held, then from another process that the
lock is free.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable

import pytest

from shared_counter import SharedMemoryCounter

pytestmark = pytest.mark.timeout(120)

_CHECK_FREE = textwrap.dedent(
    """
    import sys
    from shared_counter import SharedMemoryCounter

    counter = SharedMemoryCounter(sys.argv[1], run_id=sys.argv[2], create=False)
    lock = counter.get_lock()
    got = lock.acquire(timeout=3.0)  # a live holder keeps it; an unrecorded one for 10 s
    if got:
        lock.release()
    counter.close()
    print("free" if got else "held", flush=True)
    """
)

_INTERRUPTED_LOOP = textwrap.dedent(
    """
    import signal, subprocess, sys, time
    from shared_counter import SharedMemoryCounter

    armed = False

    def interrupt(signum, frame):
        global armed
        if armed:  # only inside the loop body below, never in our own bookkeeping
            armed = False
            raise KeyboardInterrupt

    if __name__ == "__main__":
        name, run_id, check = sys.argv[1], sys.argv[2], sys.argv[3]
        counter = SharedMemoryCounter(name, run_id=run_id, create=False)
        core = counter._core
        signal.signal(signal.SIGALRM, interrupt)
        hits = held = 0
        signal.setitimer(signal.ITIMER_REAL, 0.0003, 0.0003)
        end = time.monotonic() + 3.0
        while time.monotonic() < end:
            try:
                armed = True
                for _ in range(10):
                    counter.increment()
                    counter.fetch_add(2)
                    counter.value += 1
                    counter.compare_and_swap(counter.value, 0)
                    counter.exchange(5)
                    counter.value = 7
                armed = False
            except KeyboardInterrupt:
                hits += 1
                if core.lock_held():
                    held += 1
                    while core.lock_held():
                        core.lock_release()
        signal.setitimer(signal.ITIMER_REAL, 0)
        armed = False
        # While this process is alive: can another process take the lock?
        other = subprocess.run(
            [sys.executable, "-c", check, name, run_id], capture_output=True, text=True, timeout=60
        )
        counter.value = -1
        assert counter.value == -1
        counter.close()
        print("hits", hits, "held", held, "other", other.stdout.strip() or other.stderr, flush=True)
    """
)


def test_an_interrupt_anywhere_in_an_operation_never_leaves_the_lock_held(
    make_counter: Callable[..., SharedMemoryCounter],
) -> None:
    counter = make_counter(width=8)
    done = subprocess.run(
        [sys.executable, "-c", _INTERRUPTED_LOOP, counter.name, counter.run_id, _CHECK_FREE],
        capture_output=True,
        text=True,
        timeout=100,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    words = done.stdout.split()
    hits, held, other = int(words[1]), int(words[3]), words[5]
    assert hits > 500, done.stdout  # the timer did interrupt the loop, in many places
    assert held == 0, done.stdout
    assert other == "free", done.stdout
    assert counter.value == -1
