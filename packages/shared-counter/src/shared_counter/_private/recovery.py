"""Deciding that a lock holder is dead, and the timing of lock waits.

A waiter never blocks on the semaphore for longer than :data:`POLL` seconds at a time. Between two
waits it looks at the segment: when the recorded owner pid is a process that no longer runs (or
is a zombie), or when no owner is recorded while the lock stays taken and nobody acquires it for
:data:`ORPHAN_GRACE` seconds (a holder killed in the few instructions between taking the semaphore
and recording its pid), the waiter releases the dead holder's hold once, serialized by the
counter's recovery semaphore.
"""

from __future__ import annotations

import os

#: Longest single wait on the semaphore before checking the holder (seconds).
POLL = 0.2
#: How long the lock may stay taken with no owner recorded before it counts as orphaned (seconds).
ORPHAN_GRACE = 10.0

# Linux shows a zombie's state in /proc/<pid>/stat; elsewhere a zombie counts as alive until reaped.
_HAVE_PROC = os.path.isfile(f"/proc/{os.getpid()}/stat")


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie (a zombie holds no lock anymore)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, belongs to another user
    if not _HAVE_PROC:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return True
    return not fields or fields[0] not in (b"Z", b"X")
