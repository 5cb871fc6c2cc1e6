"""Which multiprocessing start method our processes use, chosen once for the whole package.

Default: ``forkserver`` on Linux (safe with threads, fast once the server is up), ``spawn`` elsewhere
(macOS, Windows). Override with :func:`set_start_method` or the ``SUITKAISE_START_METHOD`` environment
variable (``fork``, ``forkserver`` or ``spawn``). Payloads always travel as cucumber bytes, so functions
and classes from ``__main__`` work under every method.

Our children never import the user's main module: :func:`start` starts a process with the main-module
entries (``init_main_from_path`` / ``init_main_from_name``) removed from multiprocessing's preparation
data, so a script without ``if __name__ == "__main__":`` is not run again in every child (suitkaise 0.4
forked, and its examples have no guard). Everything our children receive travels as cucumber bytes
(functions, classes and instances from ``__main__`` by value) or refers to modules they can import;
Pool items pickled by reference to ``__main__`` are sent again by value when a worker cannot load them.
Processes started by other code (plain ``multiprocessing``) keep multiprocessing's behaviour.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
import multiprocessing.process
import multiprocessing.spawn
import os
import sys
import threading

_VALID = ("fork", "forkserver", "spawn")
_lock = threading.Lock()
_chosen: str | None = None
_starting = threading.local()  # .without_main: a start() of ours is preparing its child
_MAIN_ENTRIES = ("init_main_from_path", "init_main_from_name")

#: Imported once by the fork server, so every child forked from it starts with them: cucumber
#: (functions of ``__main__`` travel by value), then the child side of each tool whose parent side the
#: program has imported when the server starts (its first process): a Pool program's server loads the
#: Pool worker, not the Skprocess child (~4 ms of every cold start), and the other way round. A tool
#: first used after that imports its child side in each child. Only these: each child holds in memory
#: whatever the fork server imported (the Share and Pipe machinery, asyncio, the parent side of Pool
#: load there only when the program uses them).
#: (``"__main__"``, multiprocessing's default, is left out: its fork server never receives the main
#: path, CPython 3.10-3.13, so it would preload nothing.) ``forkserver_exit`` makes the server end at
#: once when the program ends.
_FORKSERVER_ALWAYS = ("cucumber", "suitkaise_processing._private.forkserver_exit")
#: (module of a tool's parent side, module its children run)
_CHILD_SIDES = (
    ("suitkaise_processing._private.pool._engine", "suitkaise_processing._private.pool._worker"),
    (
        "suitkaise_processing._private.skprocess.parent",
        "suitkaise_processing._private.skprocess.child",
    ),
)


def forkserver_preload() -> list[str]:
    """What a fork server started now imports (see ``_CHILD_SIDES``)."""
    loaded = sys.modules
    return [*_FORKSERVER_ALWAYS, *(child for parent, child in _CHILD_SIDES if parent in loaded)]


def _default_method() -> str:
    env = os.environ.get("SUITKAISE_START_METHOD", "").strip()
    if env:
        if env not in _VALID:
            raise ValueError(f"SUITKAISE_START_METHOD={env!r}: use one of {', '.join(_VALID)}")
        return env
    platform = (
        sys.platform
    )  # a plain variable: the choice is made at run time, not by the type checker
    if platform.startswith("linux"):
        return "forkserver"
    return "spawn"


def set_start_method(method: str) -> None:
    """Choose the start method of every process suitkaise_processing starts from now on."""
    global _chosen
    if method not in _VALID:
        raise ValueError(f"start method {method!r}: use one of {', '.join(_VALID)}")
    with _lock:
        _chosen = method


def get_start_method() -> str:
    """The start method in use (the default until :func:`set_start_method` is called)."""
    global _chosen
    with _lock:
        if _chosen is None:
            _chosen = _default_method()
        return _chosen


def get_context() -> multiprocessing.context.BaseContext:
    """The multiprocessing context for the current start method."""
    method = get_start_method()
    ctx = multiprocessing.get_context(method)
    if method == "forkserver":
        ctx.set_forkserver_preload(forkserver_preload())
    return ctx


_stdlib_preparation_data = multiprocessing.spawn.get_preparation_data


def _preparation_data(name: str) -> dict[str, object]:
    """multiprocessing's preparation data, without the main module for the children of :func:`start`."""
    data: dict[str, object] = _stdlib_preparation_data(name)
    if getattr(_starting, "without_main", False):
        for key in _MAIN_ENTRIES:
            data.pop(key, None)
    return data


# popen_spawn_posix and popen_forkserver look the function up on the module at every start
multiprocessing.spawn.get_preparation_data = _preparation_data


def start(process: multiprocessing.process.BaseProcess) -> None:
    """``process.start()``, its child not importing the main module (under spawn and forkserver)."""
    _starting.without_main = True
    try:
        process.start()
    finally:
        _starting.without_main = False
