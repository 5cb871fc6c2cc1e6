"""What a Dask worker process keeps for the pools it serves, and what a task sets up around its items.

A Dask worker is a long-lived process shared by many pools and programs, and runs several tasks at
once (one per thread). :func:`._dask_task.run_batch` enters :func:`task_scope` around everything it
deserializes and runs; that scope gives its thread:

- **The program's state** (:class:`Program`): per *client program* (the process that created the
  pools; a random id, :data:`._dask_backend.PROGRAM`), its deserialized functions, the pools whose
  initializer ran here, and one namespace per by-value module (``__main__`` and other modules the
  worker cannot import; the rule of :mod:`._main_namespace`: initializer globals and module-level
  caches persist across items and calls in this worker process). Two programs on one cluster never
  see each other's globals; two pools of one program share them, as the worker's copy of that
  program. The last :data:`PROGRAMS_KEPT` programs are kept (least recently used goes first).
- **Log capture** (``Pool(forward_logs=True)``): the records that reach the root logger from this
  thread while the task runs are packed (:func:`..wire.pack_log_record`, plus ``worker``: the Dask
  worker's address) and travel back in the task's result, at most :data:`RECORDS_KEPT` per task
  (then one warning says how many were dropped). Records of other threads (other tasks, Dask's
  own) are left alone: they reach the handlers they reached before, Python's last-resort stderr
  handler included. The worker's root logger level is lowered to the pool's (the parent's level),
  as a local pool sets its workers', unless the root logger has handlers of the worker's own
  configuration (then their output would change: the worker's level stays and decides).

Why not ``distributed.Client.forward_logging()``: it installs a worker plugin on the whole cluster
that forwards every record of every task on the root logger (other clients' tasks included) to
every client that asked, through the scheduler's event stream, so records arrive after the results
of their items, and the worker's levels (WARNING by default) decide what is forwarded; a pool that
removed it when closing would also stop it for the user's own call. Records carried in the task's
result are exactly its items', handled before their results are given to the caller.

The provider (:class:`ProgramNamespaces`) and the log handler are installed once per worker process,
on the first task that runs on a Dask worker (a ``run_batch`` called elsewhere, as in tests,
installs nothing).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

import cucumber
from suitkaise_processing._private.pool._main_namespace import WorkerNamespaces
from suitkaise_processing._private.wire import pack_log_record

__all__ = ["PROGRAMS_KEPT", "RECORDS_KEPT", "Program", "program", "task_scope"]

#: client programs whose state a worker process keeps
PROGRAMS_KEPT = 16
#: deserialized functions kept per program
FUNCTIONS_KEPT = 64
#: log records one task carries back at most
RECORDS_KEPT = 10_000

_lock = threading.Lock()  # the tables below; a Dask worker runs several tasks at once
_installed = False


class Program:
    """The state of one client program in this worker process."""

    __slots__ = ("functions", "initialized", "lock", "namespaces")

    def __init__(self) -> None:
        self.lock = threading.Lock()  # the fields below
        self.functions: OrderedDict[bytes, Callable[..., Any]] = OrderedDict()
        #: tokens of the pools whose initializer ran in this process
        self.initialized: set[str] = set()
        #: by-value modules get a dict of their own here, never the worker's own modules
        self.namespaces = WorkerNamespaces(share_loaded_modules=False)


_programs: OrderedDict[str, Program] = OrderedDict()


class _TaskState(threading.local):
    program: Program | None = None
    records: list[dict[str, Any]] | None = None
    level = logging.NOTSET
    dropped = 0
    worker: str | None = None


_task = _TaskState()


def program(program_id: str) -> Program:
    """The state of ``program_id`` (made on first use; the least recently used beyond
    :data:`PROGRAMS_KEPT` is forgotten)."""
    with _lock:
        found = _programs.get(program_id)
        if found is None:
            found = _programs[program_id] = Program()
            while len(_programs) > PROGRAMS_KEPT:
                _programs.popitem(last=False)
        else:
            _programs.move_to_end(program_id)
        return found


class ProgramNamespaces:
    """The :class:`cucumber.NamespaceProvider` of a Dask worker process: the namespaces of the
    program whose task runs in the calling thread; outside a task (``None``), cucumber's default
    (the globals a payload brought, a fresh dict per payload): a worker of an in-process cluster
    leaves the client's own payloads alone."""

    def namespace(self, module: dict[str, Any]) -> dict[str, Any] | None:
        current = _task.program
        if current is None:
            return None
        with current.lock:
            return current.namespaces.namespace(module)

    def merge(self, namespace: dict[str, Any], arrived: dict[str, Any]) -> None:
        current = _task.program  # set: namespace() gave this function its namespace in a task
        assert current is not None
        with current.lock:
            current.namespaces.merge(namespace, arrived)


class _ItemLogHandler(logging.Handler):
    """On the worker's root logger: keeps the records of threads inside a forwarding task; hands
    the others to Python's last-resort handler when no other handler would have taken them (as if
    this handler were not there)."""

    def emit(self, record: logging.LogRecord) -> None:
        records = _task.records
        if records is None:
            last = logging.lastResort
            if (
                last is not None
                and record.levelno >= last.level
                and _no_other_handler(record, self)
            ):
                last.handle(record)
            return
        if record.levelno < _local_level(record.name, _task.level):
            return
        if len(records) >= RECORDS_KEPT:
            _task.dropped += 1
            return
        try:
            data = pack_log_record(record)
            if _task.worker is not None:
                data["worker"] = _task.worker
            records.append(data)
        except Exception:  # logging must never break the code that logs
            self.handleError(record)


def _no_other_handler(record: logging.LogRecord, mine: logging.Handler) -> bool:
    logger: logging.Logger | None = logging.getLogger(record.name)
    while logger is not None:
        if any(handler is not mine for handler in logger.handlers):
            return False
        if not logger.propagate:
            break
        logger = logger.parent
    return True


def _local_level(name: str, pool_level: int) -> int:
    """The level ``name`` would have in a local pool worker, whose root logger is at the pool's
    level: its own or an ancestor's explicit level, else ``pool_level``."""
    logger: logging.Logger | None = logging.getLogger(name)
    root = logging.getLogger()
    while logger is not None and logger is not root:
        if logger.level:
            return logger.level
        logger = logger.parent
    return pool_level


def _on_dask_worker() -> str | None:
    """The address of the Dask worker running the calling thread's task, if it is one."""
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return None


def _install(log_level: int | None) -> bool:
    """Install the namespace provider and the log handler in this process (once), if it is a Dask
    worker; lower the root logger's level to ``log_level`` when nothing else handles its records.
    Whether this process is one."""
    global _installed
    if not _installed:
        if _on_dask_worker() is None:
            return False
        with _lock:
            if not _installed:
                cucumber.set_namespace_provider(ProgramNamespaces())
                logging.getLogger().addHandler(_ItemLogHandler(logging.NOTSET))
                _installed = True
    if log_level is not None:
        root = logging.getLogger()
        if root.level > log_level and all(type(h) is _ItemLogHandler for h in root.handlers):
            root.setLevel(log_level)
    return True


@contextlib.contextmanager
def task_scope(state: Program, log_level: int | None) -> Iterator[list[dict[str, Any]]]:
    """Run a task's body for the program of ``state``: its namespaces, and (``log_level`` not
    ``None``) its thread's log records, collected into the list it gives."""
    records: list[dict[str, Any]] = []
    if not _install(log_level):
        yield records
        return
    _task.program = state
    if log_level is not None:
        _task.records = records
        _task.level = log_level
        _task.dropped = 0
        if _task.worker is None:  # a thread serves one Dask worker
            _task.worker = _on_dask_worker()
    try:
        yield records
    finally:
        dropped = _task.dropped
        _task.program = _task.records = None
        _task.dropped = 0
        if dropped:
            records.append(
                pack_log_record(
                    logging.makeLogRecord(
                        {
                            "name": "suitkaise_processing",
                            "levelno": logging.WARNING,
                            "levelname": "WARNING",
                            "msg": f"{dropped} more log records of this Dask task were dropped "
                            f"(at most {RECORDS_KEPT} travel back per task)",
                            "worker": _task.worker,
                        }
                    )
                )
            )
