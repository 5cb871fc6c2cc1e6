"""The child side of an ``Skprocess``: entry point, control-pipe reader, hooks that talk to the parent.

Messages child -> parent (tuples, encoded by ``wire.encode``):
``("tell", obj)``, ``("enter", section, run, timeout)``, ``("leave",)``, ``("snap", run, lives_left, state)``,
``("log", record_dict)``, ``("deadline", join_in_deadline)``, ``("done", ok, value, timers, state, current_run)``.
Messages parent -> child: ``("tell", obj)``, ``("stop",)``.
"""

from __future__ import annotations

import _thread
import contextlib
import os
import queue
import threading
import time
import traceback
from multiprocessing import reduction
from multiprocessing.connection import Connection
from typing import Any

from suitkaise_processing._private import lifetime
from suitkaise_processing._private.channel import Channel
from suitkaise_processing._private.errors import PipeEndpointError, ProcessError
from suitkaise_processing._private.logforward import forward_logs
from suitkaise_processing._private.pipe import collect_transfers, flush_all, incoming_fds
from suitkaise_processing._private.skprocess.engine import (
    LifecycleHooks,
    encode_state,
    run_error_handler,
    run_lifecycle,
)
from suitkaise_processing._private.wire import decode, encode

#: seconds an ending child waits for its pipe endpoints to write what they queued
_ENDPOINT_FLUSH = 10.0


class Payload:
    """What travels to the child: ``(process, error)``, cucumber-encoded.

    Under ``spawn``/``forkserver`` the encoding happens inside ``Process.start()`` (``__reduce__``), so
    the descriptors of pipe endpoints held by the object go with the start request. Under ``fork``
    nothing is pickled: :meth:`encode_now` encodes in the parent and the child inherits the descriptors.
    Either way the child gets its own decoded copy (locked endpoints refuse, live resources become
    ``Reconnector``s) and :attr:`moved` lists the endpoints that went to the child.
    """

    __slots__ = ("encoded", "moved", "value")

    def __init__(self, value: tuple[Any, ProcessError | None]) -> None:
        self.value = value
        self.moved: list[Any] = []  # endpoints whose descriptor went to the child
        self.encoded: tuple[bytes, list[int]] | None = None

    def _encode(self) -> tuple[bytes, list[int]]:
        with collect_transfers() as transfers:
            data = encode(self.value)
        self.moved = transfers.endpoints
        return bytes(data), transfers.fds

    def encode_now(self) -> None:
        """Encode in this process (``fork``: the child inherits the bytes and the descriptors)."""
        self.encoded = self._encode()

    def load(self) -> tuple[Any, ProcessError | None]:
        """In the child: the decoded ``(process, error)``."""
        if self.encoded is not None:
            data, fds = self.encoded
            with incoming_fds(fds):
                return decode(data)  # type: ignore[no-any-return]
        return self.value

    def __reduce__(self) -> tuple[Any, ...]:
        data, fds = self._encode()
        return (_decode_payload, (data, [reduction.DupFd(fd) for fd in fds]))


def _decode_payload(data: bytes, dups: list[Any]) -> Payload:
    fds = [dup.detach() for dup in dups]
    with incoming_fds(fds):
        return Payload(decode(data))


class ChildRuntime:
    """``tell``/``listen``/stop flag of the running child; exits the child when the parent is gone."""

    is_parent = False
    is_alive = True

    def __init__(self, conn: Connection, stop_requested: bool) -> None:
        self.channel = Channel(conn)
        self.inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.stop_flag = threading.Event()
        if stop_requested:
            self.stop_flag.set()
        self.finished = False
        # A bare thread: threading.Thread.start() waits for the new thread to get the GIL (up to the
        # 5 ms switch interval), which would add to every process start.
        _thread.start_new_thread(self._read, ())

    def _read(self) -> None:
        while True:
            try:
                message = self.channel.recv()
            except (EOFError, OSError, PipeEndpointError):
                if not self.finished:
                    lifetime.exit_now()  # the parent is gone: no orphans
                return
            except Exception as exc:  # a told object that cannot be rebuilt here
                self.inbox.put(
                    ProcessError(f"a message from the parent could not be decoded: {exc}")
                )
                continue
            kind = message[0]
            if kind == "tell":
                self.inbox.put(message[1])
            elif kind == "stop":
                self.stop_flag.set()

    def tell(self, data: Any) -> None:
        """Send ``data`` to the parent."""
        self.channel.send(("tell", data))

    def listen_ex(self, timeout: float | None) -> tuple[bool, Any]:
        """``(True, obj)`` for the next told object, ``(False, None)`` after ``timeout`` seconds."""
        try:
            return True, self.inbox.get(timeout=timeout)
        except queue.Empty:
            return False, None

    def stop(self) -> None:
        """Stop before the next run (called from inside the process)."""
        self.stop_flag.set()

    def kill(self) -> None:
        """Inside the process: end it now."""
        lifetime.exit_now(1)


class ChildHooks(LifecycleHooks):
    """Announce timed sections and restart points to the parent; poll the stop flag."""

    def __init__(self, runtime: ChildRuntime, progress: Any) -> None:
        self.rt = runtime
        self.progress = progress  # shared RawArray: [current run, started]
        self.announced = False

    def run_started(self, run: int) -> None:
        self.progress[0] = run

    def enter(self, section: str, run: int, timeout: float | None) -> None:
        if timeout is not None:
            self.rt.channel.send(("enter", section, run, timeout))
            self.announced = True

    def leave(self, section: str, run: int) -> None:
        if self.announced:
            self.announced = False
            self.rt.channel.send(("leave",))

    def should_stop(self) -> bool:
        return self.rt.stop_flag.is_set()

    def snapshot(self, state: bytes | memoryview, run: int, lives_left: int) -> None:
        self.rt.channel.send(("snap", run, lives_left, bytes(state)))


def child_main(
    conn: Connection,
    progress: Any,
    payload: Payload,
    lives_left: int,
    deadline: float | None,
    mode: str,
    stop_requested: bool,
    start_method: str,
    log_level: int | None,
    guard: tuple[int | None, bool, int],
) -> None:
    """Entry point of an ``Skprocess`` child (target of ``multiprocessing.Process``).

    ``guard`` is ``(parent_end_fd, death_signal, parent_pid)``: under ``fork`` the child closes its
    inherited copy of the parent's end of the control pipe (so the parent's death is seen as EOF);
    ``death_signal`` asks for ``PR_SET_PDEATHSIG`` (Linux), checked against ``parent_pid``.
    """
    lifetime.ignore_sigint()
    parent_end_fd, death_signal, parent_pid = guard
    if parent_end_fd is not None:
        with contextlib.suppress(OSError):
            os.close(parent_end_fd)
    if death_signal:
        lifetime.set_parent_death_signal(parent_pid if start_method != "forkserver" else None)
    process, error = payload.load()
    progress[1] = 1  # started: from here on every failure is reported through the pipe
    runtime = ChildRuntime(conn, stop_requested)
    if log_level is not None:
        channel = runtime.channel
        forward_logs(lambda record: channel.send(("log", record)), log_level)
    process._sk_rt = runtime
    hooks = ChildHooks(runtime, progress)
    join_in = process.process_config.join_in
    if deadline is None and join_in is not None:
        # join_in counts from the first run of the first child; restarts keep that deadline
        deadline = time.time() + join_in
        runtime.channel.send(("deadline", deadline))
    ok = False
    value: Any
    try:
        if mode == "error" and error is not None:
            value = run_error_handler(process, error, hooks=hooks)
        else:
            value = run_lifecycle(process, hooks=hooks, lives_left=lives_left, deadline=deadline)
        ok = True
    except Exception as exc:  # a section error, or the exception __error__ returned
        value = exc
    except BaseException as exc:  # SystemExit, KeyboardInterrupt, ... from user code
        value = ProcessError(
            f"the process ended with {type(exc).__name__}: {exc}",
            current_run=process._current_run,
            original_error=exc,
            remote_traceback=traceback.format_exc(),
        )
    runtime.finished = True
    try:
        state: bytes | None = bytes(encode_state(process))
    except Exception:
        state = None
    flush_all(_ENDPOINT_FLUSH)  # messages the process sent on its pipes and not yet written
    _send_done(runtime.channel, ok, value, process, state)
    runtime.channel.flush()


def _send_done(channel: Channel, ok: bool, value: Any, process: Any, state: bytes | None) -> None:
    message = ("done", ok, value, process.timers, state, process._current_run)
    try:
        channel.send(message)
        return
    except PipeEndpointError:
        return
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}"
    # The value could not be serialized: report that instead (keeping the remote traceback text).
    if isinstance(value, ProcessError):
        fallback = type(value).__new__(type(value))
        ProcessError.__init__(
            fallback,
            f"{value.args[0] if value.args else value} (its original error could not be sent: {reason})",
            current_run=value.current_run,
            remote_traceback=value.remote_traceback,
        )
        fallback.__dict__.update(
            {k: v for k, v in value.__dict__.items() if k in ("section", "timeout")}
        )
        fallback.original_error = None
        value = fallback
    else:
        ok = False
        value = ProcessError(
            f"__result__()/__error__() returned a value that cannot be sent to the parent: {reason}"
        )
    try:
        channel.send(("done", ok, value, process.timers, None, process._current_run))
    except Exception:
        channel.send(
            (
                "done",
                False,
                ProcessError(f"the process result could not be sent: {reason}"),
                None,
                None,
                0,
            )
        )
