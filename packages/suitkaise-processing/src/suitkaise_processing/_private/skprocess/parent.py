"""The parent side of an ``Skprocess``: start, a monitor thread, deadlines, lives for dead children.

The monitor thread reads the child's control messages in order (tell, section enter/leave, restart
points, done), arms the deadline of a timed section and kills the child when it passes, and restarts a
child that died (timeout, SIGKILL, segfault) from the last state it holds while lives remain.
"""

from __future__ import annotations

import _thread
import logging
import os
import queue
import threading
import time
from multiprocessing.connection import wait as wait_for
from typing import TYPE_CHECKING, Any

from suitkaise_processing._private import lifetime
from suitkaise_processing._private.channel import Channel
from suitkaise_processing._private.context import get_context, get_start_method
from suitkaise_processing._private.context import start as start_process
from suitkaise_processing._private.errors import PipeEndpointError, ProcessError, ResultTimeoutError
from suitkaise_processing._private.pipe import _Endpoint
from suitkaise_processing._private.skprocess.child import Payload, child_main
from suitkaise_processing._private.skprocess.engine import restore_state, timeout_error
from suitkaise_processing._private.skprocess.sections import has_error_handler
from suitkaise_processing._private.wire import describe_exit

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess

    from suitkaise_processing._private.skprocess.base import Skprocess

_FINISHED = object()
_EXIT_GRACE = 10.0  # seconds a child may take to exit after sending its result


class ParentHandle:
    """Controls the child of one ``Skprocess`` instance (``process._sk_rt`` in the parent)."""

    is_parent = True

    def __init__(self, process: Skprocess) -> None:
        self._proc = process
        self._lock = threading.Lock()
        self._finished = threading.Event()
        self._inbox: queue.Queue[Any] = queue.Queue()
        self._pending: list[Any] = []
        self.started = False
        self._stop_requested = False
        self._killed = False
        self._ok = False
        self._value: Any = None
        self._current_run = process._current_run
        self._progress: Any = None  # shared [current run, child started], written by the child
        self._lives_left = process.process_config.lives
        self._last_state: bytes | None = None
        self._transferred: list[_Endpoint] = []
        self._deadline: float | None = None
        self._channel: Channel | None = None
        self._child: BaseProcess | None = None
        self._mode = "run"

    # --- starting ----------------------------------------------------------------------------------
    def start(self) -> None:
        with self._lock:
            if self.started:
                raise ProcessError(
                    "this process was already started; create a new instance to run it again"
                )
            self.started = True
        try:
            self._launch(self._proc, None)
        except BaseException as exc:
            self.started = False
            cause: BaseException | None = exc
            seen: set[int] = set()
            while (
                cause is not None and id(cause) not in seen
            ):  # a locked endpoint inside: say so directly
                seen.add(id(cause))
                if isinstance(cause, PipeEndpointError) and cause is not exc:
                    raise cause from exc
                cause = cause.__cause__ or cause.__context__
            raise
        lifetime.register(self)
        # A bare thread (like a daemon thread): Thread.start() would wait for it to get the GIL.
        _thread.start_new_thread(self._run_monitor, ())

    def _launch(self, obj: Skprocess, error: ProcessError | None) -> None:
        ctx: Any = get_context()
        parent_conn, child_conn = ctx.Pipe(duplex=True)
        if self._progress is None:
            self._progress = ctx.RawArray("q", 2)
        self._progress[0] = self.current_run
        self._progress[1] = 0
        payload = Payload((obj, error))
        method = get_start_method()
        if method == "fork":
            payload.encode_now()
        child = ctx.Process(
            target=child_main,
            args=(
                child_conn,
                self._progress,
                payload,
                self._lives_left,
                self._deadline,
                self._mode,
                self._stop_requested,
                method,
                logging.getLogger().getEffectiveLevel(),
                (
                    parent_conn.fileno() if method == "fork" else None,
                    lifetime.death_signal_wanted(method),
                    os.getpid(),
                ),
            ),
            name=f"Skprocess-{type(obj).__name__}",
            daemon=False,
        )
        try:
            start_process(child)
        except BaseException:
            parent_conn.close()
            child_conn.close()
            raise
        child_conn.close()
        with self._lock:
            self._transferred.extend(payload.moved)
            self._channel = Channel(parent_conn)
            self._child = child
            pending, self._pending = self._pending, []
            for data in pending:
                self._send_tell(data)
        if self._killed:  # kill() raced with a restart: the new child goes too
            self._kill_child(child)

    # --- the monitor thread ------------------------------------------------------------------------
    def _run_monitor(self) -> None:
        try:
            self._monitor_loop()
        except BaseException as exc:  # never leave waiters hanging
            self._finish(
                False, ProcessError(f"the Skprocess monitor failed: {type(exc).__name__}: {exc}")
            )

    def _monitor_loop(self) -> None:
        while True:
            outcome = self._watch_child()
            if outcome[0] == "done":
                _, ok, value, timers, state, current_run = outcome[1]
                self._finish(ok, value, timers=timers, state=state, current_run=current_run)
                return
            if self._killed:
                self._finish(
                    False, ProcessError("the process was killed with kill(); it has no result")
                )
                return
            if outcome[0] == "timeout":
                _, section, timeout, run = outcome
                error: ProcessError = timeout_error(section, timeout, run)
            else:
                error = self._death_error(outcome[1])
            if self._mode == "error":
                self._finish(False, error)
                return
            self._lives_left -= 1
            obj = self._restart_object()
            if self._lives_left > 0:
                self._relaunch(obj, None)
                continue
            # Lives are out: __error__ decides (in a fresh child, with its own timeout), unless it is the default.
            if not has_error_handler(type(self._proc)):
                self._proc._sk_error = error
                self._finish(False, error)
                return
            self._mode = "error"
            self._relaunch(obj, error)

    def _death_error(self, code: int | None) -> ProcessError:
        if not self._progress[1] and code == 1:  # an exception before child_main took over
            return ProcessError(
                f"the process exited with code 1 before it started (run {self.current_run}): it "
                "could not load the object; its traceback is on stderr",
                current_run=self.current_run,
            )
        return ProcessError(
            f"the process {describe_exit(code)} on run {self.current_run}"
            + (f" during __{self._section}__" if self._section else ""),
            current_run=self.current_run,
        )

    def _restart_object(self) -> Skprocess:
        if self._last_state is None:
            return self._proc
        cls = type(self._proc)
        obj = cls.__new__(cls)
        restore_state(obj, self._last_state)
        return obj

    def _relaunch(self, obj: Skprocess, error: ProcessError | None) -> None:
        with self._lock:
            if self._channel is not None:
                self._channel.close()
            self._channel = None
        self._launch(obj, error)

    _section: str | None = None

    def _watch_child(self) -> tuple[Any, ...]:
        channel = self._channel
        child = self._child
        assert channel is not None
        assert child is not None
        conn = channel.connection
        sentinel = child.sentinel
        deadline: float | None = None
        timed: tuple[str, float, int] | None = None
        self._section = None
        while True:
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready = wait_for([conn, sentinel], timeout)
            if not ready:
                assert timed is not None
                self._kill_child(child)
                return ("timeout", *timed)
            if conn in ready:
                try:
                    message = channel.recv()
                except (EOFError, OSError, PipeEndpointError):
                    return ("died", self._reap(child))
                except Exception as exc:
                    self._inbox.put(
                        ProcessError(f"a message from the child could not be decoded: {exc}")
                    )
                    continue
                kind = message[0]
                if kind == "tell":
                    self._inbox.put(message[1])
                elif kind == "log":
                    record = logging.makeLogRecord(message[1])
                    logging.getLogger(record.name).handle(record)
                elif kind == "enter":
                    _, section, run, limit = message
                    self._section = section
                    self.current_run = run
                    timed = (section, limit, run)
                    deadline = time.monotonic() + limit
                elif kind == "deadline":
                    self._deadline = message[1]
                elif kind == "leave":
                    deadline = None
                    timed = None
                    self._section = None
                elif kind == "snap":
                    _, run, lives_left, state = message
                    self.current_run = run
                    self._lives_left = lives_left
                    self._last_state = state
                elif kind == "done":
                    self._reap(child)
                    return ("done", message)
            elif not conn.poll(0):
                return ("died", self._reap(child))

    def _reap(self, child: BaseProcess) -> int | None:
        child.join(_EXIT_GRACE)
        if child.exitcode is None:
            self._kill_child(child)
        return child.exitcode

    def _kill_child(self, child: BaseProcess) -> None:
        try:
            child.kill()
        except (OSError, ValueError, AttributeError):
            pass
        child.join(_EXIT_GRACE)

    def _finish(
        self,
        ok: bool,
        value: Any,
        *,
        timers: Any = None,
        state: bytes | None = None,
        current_run: int | None = None,
    ) -> None:
        proc = self._proc
        if state is not None:
            try:
                restore_state(proc, state)
            except Exception:
                state = None
        if state is None and timers is not None:
            proc.timers = timers
        if current_run is not None:
            proc._current_run = current_run
        if not ok and isinstance(value, ProcessError) and proc._sk_error is None:
            proc._sk_error = value
        self.current_run = proc._current_run
        with self._lock:
            self._ok = ok
            self._value = value
            if self._channel is not None:
                self._channel.close()
            for endpoint in self._transferred:
                endpoint.close()
            self._transferred.clear()
        lifetime.unregister(self)
        self._inbox.put(_FINISHED)
        self._finished.set()

    # --- control -----------------------------------------------------------------------------------
    @property
    def current_run(self) -> int:
        """The run the child is on (read from shared memory while it runs)."""
        if self._progress is not None and not self._finished.is_set():
            return int(self._progress[0])
        return self._current_run

    @current_run.setter
    def current_run(self, value: int) -> None:
        self._current_run = value
        if self._progress is not None:
            self._progress[0] = value

    @property
    def is_alive(self) -> bool:
        """Started and not finished (restarts for lives count as alive)."""
        return self.started and not self._finished.is_set()

    def _require_started(self) -> None:
        if not self.started:
            raise ProcessError("the process is not started; call start() (or run()) first")

    def wait(self, timeout: float | None) -> bool:
        self._require_started()
        end = None if timeout is None else time.monotonic() + timeout
        try:
            while True:
                step = 1.0 if end is None else min(1.0, max(0.0, end - time.monotonic()))
                if self._finished.wait(step):
                    return True
                if end is not None and time.monotonic() >= end:
                    return False
        except KeyboardInterrupt:
            self.kill_now()
            raise

    def result(self, timeout: float | None) -> Any:
        if not self.wait(timeout):
            raise ResultTimeoutError(f"the process did not finish within {timeout}s")
        if self._ok:
            return self._value
        raise self._value

    def stop(self) -> None:
        with self._lock:
            self._stop_requested = True
            channel = self._channel
            if channel is None or self._finished.is_set():
                return
            try:
                channel.send(("stop",))
            except PipeEndpointError:
                pass  # the child is gone; a restarted child starts with the stop flag set

    def kill(self) -> None:
        if not self.started:
            return
        self.kill_now()
        self._finished.wait(_EXIT_GRACE)

    def kill_now(self) -> None:
        """Kill the child without waiting for the monitor (also used at interpreter exit)."""
        locked = self._lock.acquire(timeout=1.0)  # never block an exit on a busy monitor
        try:
            self._killed = True
            child = self._child
        finally:
            if locked:
                self._lock.release()
        if child is not None and child.exitcode is None:
            try:
                child.kill()
            except (OSError, ValueError, AttributeError):
                pass

    def _send_tell(self, data: Any) -> None:
        channel = self._channel
        if channel is None:
            self._pending.append(data)
            return
        try:
            channel.send(("tell", data))
        except PipeEndpointError:
            self._pending.append(data)  # the child died: deliver to the restarted one

    def tell(self, data: Any) -> None:
        with self._lock:
            if self._finished.is_set():
                return
            self._send_tell(data)

    def listen_ex(self, timeout: float | None) -> tuple[bool, Any]:
        try:
            item = self._inbox.get(timeout=timeout)
        except queue.Empty:
            return False, None
        if item is _FINISHED:
            self._inbox.put(_FINISHED)
            # The finished marker is queued after every message, so nothing is left behind it.
            return False, None
        return True, item
