"""No orphans: children die with their parent, however the parent ends.

Three layers, because children are non-daemonic (they may start their own ``Pool``):

1. Parent side: every live child is registered; an ``atexit`` hook (which runs before
   ``multiprocessing``'s own exit hook, which would *join* non-daemonic children) kills them, and
   ``wait()`` interrupted by Ctrl-C kills its child before re-raising.
2. Child side: a thread watches the private control pipe; EOF means the parent is gone, and the child
   exits at once (:func:`exit_now`).
3. Linux: ``PR_SET_PDEATHSIG`` (SIGKILL). Under forkserver it ties the child to the fork server, which
   itself exits when our parent dies; under spawn/fork it is used when the child is started from the
   main thread. This covers a child stuck in C code holding the GIL.
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing.util  # noqa: F401  (imported first so our atexit hook runs before its exit hook)
import os
import signal
import sys
import threading
import weakref
from typing import Any, Protocol


class _Killable(Protocol):
    def kill_now(self) -> None: ...


# Loaded at import so that children started from the fork server do not pay for it.
_libc: Any = None
if sys.platform.startswith("linux"):
    try:
        import ctypes

        _libc = ctypes.CDLL(None, use_errno=True)
    except (ImportError, OSError):
        _libc = None

_children: weakref.WeakSet[_Killable] = weakref.WeakSet()
_lock = threading.Lock()


def register(handle: _Killable) -> None:
    """Track a parent-side handle whose child must not outlive this process."""
    with _lock:
        _children.add(handle)


def unregister(handle: _Killable) -> None:
    """Stop tracking ``handle`` (its child finished)."""
    with _lock:
        _children.discard(handle)


def kill_all() -> None:
    """Kill every tracked child (called at interpreter exit)."""
    with _lock:
        handles = list(_children)
    for handle in handles:
        with contextlib.suppress(Exception):
            handle.kill_now()


atexit.register(kill_all)


def exit_now(code: int = 70) -> None:
    """End this (child) process immediately, without cleanup that could block."""
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


def set_parent_death_signal(parent_pid: int | None) -> None:
    """Linux: ask the kernel to SIGKILL this child when its parent dies.

    Under forkserver the parent is the fork server, which exits when our user's process dies
    (``parent_pid=None``: nothing to check). Under spawn/fork the signal follows the *thread* that
    started the child, so the parent asks for it only when starting from the main thread, and
    ``parent_pid`` catches a parent that died before the call.
    """
    if _libc is None:
        return
    try:
        pr_set_pdeathsig = 1
        _libc.prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        return
    if parent_pid is not None and os.getppid() != parent_pid:
        exit_now()


def death_signal_wanted(start_method: str) -> bool:
    """Whether a child started now from this thread may use ``PR_SET_PDEATHSIG`` safely."""
    if start_method == "forkserver":
        return True
    return threading.current_thread() is threading.main_thread()


def ignore_sigint() -> None:
    """In a child: Ctrl-C in a terminal reaches the whole process group; the parent decides what the
    child does (it kills it when ``wait()`` is interrupted, or at exit)."""
    with contextlib.suppress(ValueError, OSError):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
