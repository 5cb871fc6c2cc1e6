"""The lifecycle engine: runs one ``Skprocess`` instance in the *current* process.

Used by the ``Skprocess`` child entry point and by ``Pool`` workers (an ``Skprocess`` class given to
``pool.map`` runs inside a persistent worker, no process per item). See :func:`run_lifecycle`.
"""

from __future__ import annotations

import time
import traceback
from typing import TYPE_CHECKING, Any

from suitkaise_processing._private.errors import (
    ErrorHandlerError,
    OnFinishError,
    PostRunError,
    PreRunError,
    ProcessError,
    ProcessTimeoutError,
    ResultError,
    RunError,
)
from suitkaise_processing._private.pipe import snapshot_mode
from suitkaise_processing._private.skprocess.sections import has_error_handler, section_function
from suitkaise_processing._private.wire import decode, encode

if TYPE_CHECKING:
    from suitkaise_processing._private.skprocess.base import Skprocess

SECTION_ERRORS: dict[str, type[ProcessError]] = {
    "prerun": PreRunError,
    "run": RunError,
    "postrun": PostRunError,
    "onfinish": OnFinishError,
    "result": ResultError,
    "error": ErrorHandlerError,
}


class LifecycleHooks:
    """Callbacks of :func:`run_lifecycle`; subclass and override what you need (all are no-ops).

    - ``enter(section, run, timeout)``: a section (``"prerun"``, ``"run"``, ``"postrun"``, ``"onfinish"``,
      ``"result"``, ``"error"``) starts on run ``run``; ``timeout`` is its limit in seconds or ``None``.
      A host that enforces timeouts (the ``Skprocess`` parent, a ``Pool``) arms a deadline here and kills
      the process running the section when it passes (the engine itself cannot stop blocked code).
    - ``leave(section, run)``: the section returned or raised.
    - ``should_stop()``: polled before each run; ``True`` ends the run loop gracefully (like ``stop()``):
      the run in progress completes (prerun, run, postrun), then ``__onfinish__`` and ``__result__``.
    - ``run_started(run)``: each iteration starts (cheap; the Skprocess child writes it to shared memory).
    - ``snapshot(state, run, lives_left)``: with ``lives > 1`` (or a section timeout and a user
      ``__error__``), the encoded object state at the start of each run and each retry (and before
      ``__onfinish__``): what a host restarts from if the process dies without a current state.
    """

    def enter(self, section: str, run: int, timeout: float | None) -> None:
        """A section starts."""

    def leave(self, section: str, run: int) -> None:
        """A section ended."""

    def should_stop(self) -> bool:
        """Whether to stop gracefully before the next run."""
        return False

    def run_started(self, run: int) -> None:
        """Run ``run`` (counted from 0) starts with its ``__prerun__``."""

    def snapshot(self, state: bytes | memoryview, run: int, lives_left: int) -> None:
        """A restart point was taken."""


_NO_HOOKS = LifecycleHooks()


class LocalRuntime:
    """``tell``/``listen`` of a process run in-process by :func:`run_lifecycle` without a host runtime
    (e.g. a ``Pool`` item): nothing can be told to it, so ``listen`` returns ``None`` at once, and what
    it tells is kept in ``told`` (in order)."""

    is_parent = False
    is_alive = True

    def __init__(self) -> None:
        self.told: list[Any] = []
        self.stopped = False

    def tell(self, data: Any) -> None:
        """Keep ``data`` in ``told``."""
        self.told.append(data)

    def listen_ex(self, timeout: float | None) -> tuple[bool, Any]:
        """Nothing will ever arrive."""
        return False, None

    def stop(self) -> None:
        """Stop before the next run."""
        self.stopped = True

    def kill(self) -> None:
        """Same as :meth:`stop` in-process (the host owns the process)."""
        self.stopped = True


class _SectionFailed(Exception):
    def __init__(self, error: ProcessError) -> None:
        super().__init__(str(error))
        self.error = error


def encode_state(process: Skprocess) -> bytes | memoryview:
    """The object's state (its ``__dict__`` minus runtime handles) as bytes; pipe endpoints by reference."""
    with snapshot_mode():
        return encode(process.__getstate__())


def restore_state(process: Skprocess, state: bytes | memoryview) -> None:
    """Put ``process`` back to an :func:`encode_state` result (runtime handles are kept)."""
    values = decode(state)
    process.__dict__.clear()
    process.__dict__.update(values)


def section_error(section: str, exc: BaseException, run: int) -> ProcessError:
    """The ``ProcessError`` subclass for an exception raised by ``__section__()`` on run ``run``."""
    cls = SECTION_ERRORS[section]
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return cls(
        f"__{section}__() raised {type(exc).__name__}: {exc} (run {run})",
        current_run=run,
        original_error=exc,
        remote_traceback=tb,
    )


def timeout_error(section: str, timeout: float, run: int) -> ProcessTimeoutError:
    """The error for ``__section__()`` running longer than ``timeout`` seconds on run ``run``."""
    return ProcessTimeoutError(section, timeout, run)


def _reconnect(process: Skprocess) -> None:
    spec = getattr(type(process), "_sk_autoreconnect", None)
    if spec is None:
        return
    import cucumber

    start_threads, auth = spec
    result = cucumber.reconnect_all(process, start_threads=start_threads, **auth)
    if result is not process and result is not None:
        process.__dict__.update(result.__dict__)


class _Engine:
    def __init__(
        self,
        process: Skprocess,
        hooks: LifecycleHooks,
        lives_left: int | None,
        deadline: float | None,
    ) -> None:
        self.p = process
        self.hooks = hooks
        self.local: LocalRuntime | None = None
        if process._sk_rt is None:
            self.local = LocalRuntime()
            process._sk_rt = self.local
        config = process.process_config
        self.lives_left = config.lives if lives_left is None else lives_left
        if self.lives_left >= 1:  # the process sees the lives it has left (0.4 counts them down)
            config.lives = self.lives_left
        # Restart points: what a host restarts from when the process dies without a current state
        # (SIGKILL, segfault, a timed-out section). With one life they serve only a user __error__,
        # which then sees the state at the start of the run that was cut short.
        self.snapshots = config.lives > 1 or (
            config.timeouts.any() and has_error_handler(type(process))
        )
        join_in = config.join_in
        self.deadline = deadline
        if self.deadline is None and join_in is not None:
            self.deadline = time.time() + join_in

    def _call(self, section: str) -> Any:
        p = self.p
        run = p._current_run
        timeout = p.process_config.timeouts.get(section)
        hooks = self.hooks
        hooks.enter(section, run, timeout)
        func = section_function(type(p), section)
        start = time.perf_counter()
        try:
            value = func(p)
        except Exception as exc:  # a failed call is not a sample of the section's time (as in 0.4)
            hooks.leave(section, run)
            raise _SectionFailed(section_error(section, exc, run)) from exc
        p.timers.record(section, time.perf_counter() - start)
        hooks.leave(section, run)
        return value

    def _stopping(self) -> bool:
        if self.hooks.should_stop():
            return True
        if self.local is not None and self.local.stopped:
            return True
        return self.deadline is not None and time.time() >= self.deadline

    def _snapshot(self) -> None:
        if not self.snapshots:
            return
        try:
            state = encode_state(self.p)
        except Exception as exc:
            raise ProcessError(
                "process_config.lives > 1 (or a section timeout with an __error__) keeps a copy of the "
                "object's state at the start of each run, but it cannot be serialized "
                f"({type(exc).__name__}: {exc}); make its attributes serializable or use lives = 1",
                current_run=self.p._current_run,
                original_error=exc,
                remote_traceback=traceback.format_exc(),
            ) from exc
        self.hooks.snapshot(state, self.p._current_run, self.lives_left)

    def _lose_life(self) -> bool:
        """Count a life; ``True`` if the failed attempt should be retried (with the object's current
        state: what the failed attempt changed stays, as the seed and 0.4 promise)."""
        self.lives_left -= 1
        if self.lives_left < 1:
            return False
        self.p.process_config.lives = self.lives_left
        return True

    def run(self) -> Any:
        p = self.p
        _reconnect(p)
        # --- the run loop -------------------------------------------------------------------------
        while True:
            runs = p.process_config.runs
            if (runs is not None and p._current_run >= runs) or self._stopping():
                break
            self._snapshot()
            self.hooks.run_started(p._current_run)
            try:
                started = time.perf_counter()
                self._call("prerun")
                self._call("run")
                self._call("postrun")
                p.timers.record("full_run", time.perf_counter() - started)
                p._current_run += 1
            except _SectionFailed as failure:
                if self._lose_life():
                    continue
                return self.fail(failure.error)
        # --- finish: __onfinish__ then __result__ ------------------------------------------------
        while True:
            self._snapshot()
            try:
                self._call("onfinish")
                return self._call("result")
            except _SectionFailed as failure:
                if self._lose_life():
                    continue
                return self.fail(failure.error)

    def fail(self, error: ProcessError) -> Any:
        """Lives are out: ``__error__`` decides; raise what it returns if it is an exception."""
        p = self.p
        p._sk_error = error
        try:
            value = self._call("error")
        except _SectionFailed as failure:
            raise failure.error from None
        if isinstance(value, BaseException):
            raise value
        return value


def run_lifecycle(
    process: Skprocess,
    *,
    hooks: LifecycleHooks | None = None,
    lives_left: int | None = None,
    deadline: float | None = None,
) -> Any:
    """Run ``process``'s whole lifecycle in the current process and return what ``result()`` gives.

    ``run_lifecycle(process, *, hooks=None, lives_left=None, deadline=None) -> Any``

    - Runs ``__prerun__`` -> ``__run__`` -> ``__postrun__`` until ``process_config.runs`` runs are done,
      ``join_in`` elapsed (or the wall-clock ``deadline``, ``time.time()`` based, passed), or
      ``hooks.should_stop()``; then ``__onfinish__`` and ``__result__`` (whose value is returned).
    - An exception in a section costs a life (``lives_left``, default ``process_config.lives``): with
      lives left the failed run (or the finish phase) is tried again with the object's current state
      (what the failed attempt changed stays; ``current_run`` stays). With none left, ``__error__`` runs with ``process.error`` set: the section error is
      a ``PreRunError``/``RunError``/... carrying ``current_run``, ``original_error`` and the formatted
      traceback. If ``__error__`` returns an exception it is raised, otherwise returned; if
      ``__error__`` itself raises, ``ErrorHandlerError`` is raised.
    - ``@autoreconnect`` classes get ``cucumber.reconnect_all`` before the first ``__prerun__``.
    - Without a host runtime (``process._sk_rt`` is ``None``) a :class:`LocalRuntime` is attached:
      ``listen()`` returns ``None`` at once and ``tell()`` keeps the data in ``process._sk_rt.told``.
    - Section timings go to ``process.timers`` (a section that raised records no time). Timeouts are *announced* through ``hooks.enter``;
      enforcing them (killing the process) is the host's job (build the error with
      :func:`timeout_error`).
    """
    engine = _Engine(process, hooks or _NO_HOOKS, lives_left, deadline)
    return engine.run()


def run_error_handler(
    process: Skprocess, error: ProcessError, *, hooks: LifecycleHooks | None = None
) -> Any:
    """Only the failure path: set ``process.error`` and run ``__error__`` (used after the host killed a
    process whose lives are out). Returns its value, or raises it if it is an exception."""
    engine = _Engine(process, hooks or _NO_HOOKS, 1, None)
    return engine.fail(error)
