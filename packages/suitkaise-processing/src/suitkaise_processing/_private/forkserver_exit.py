"""Preloaded by the fork server only: when the program ends, the server ends at once.

The fork server is a separate interpreter that imports the child side of our tools and then only
forks. When the program exits, the server sees its end of the "alive" pipe close and exits through
the normal interpreter shutdown, which tears down every module it preloaded (~8 ms here, measured
with ``strace``: after the parent's exit, a shell pipe or ``subprocess.run`` on the program waits
for it, since the server holds the program's stdout and stderr). It holds nothing worth finalizing
(no files, no children of its own to join: its forked children end with ``os._exit``), so the first
exit hook flushes the standard streams and ends the process.

Only the server itself ends this way: a process forked from it that later exits through the normal
shutdown (a process a user's item forks and ends with ``sys.exit(3)``) keeps its own exit.
"""

from __future__ import annotations

import atexit
import os
import sys

_SERVER_PID = os.getpid()


def _end_the_server_now() -> None:
    if os.getpid() != _SERVER_PID:
        return
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # closed or broken: nothing left to keep
            pass
    os._exit(0)


atexit.register(_end_the_server_now)
