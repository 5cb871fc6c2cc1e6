"""cucumber's handlers, one module per family of types; :func:`install` registers them all.

They are installed when a process first needs a handler decision (its first ``serialize``, the IR
view, a walk over an object), not when cucumber is imported: a process that only deserializes never
loads them (nor sqlite3, subprocess, concurrent.futures, ... that they import).
"""

from __future__ import annotations

import os
import threading

from cucumber._private.pickler import install_code_handlers

__all__ = ["install"]

_installed = False
_lock = threading.Lock()


def _reset_after_fork() -> None:
    # a fork taken while another thread was installing copies a held lock (install runs again)
    global _lock
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


def install() -> None:
    """Register every family's handlers (idempotent, thread-safe)."""
    global _installed
    with _lock:
        if _installed:
            return
        install_code_handlers()
        from cucumber._private.families import (
            concurrency,
            databases,
            exceptions,
            files,
            processes,
            runtime,
        )

        for module in (concurrency, files, runtime, databases, exceptions, processes):
            module.install()
        _installed = True
