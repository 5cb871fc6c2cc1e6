"""``Skprocess``: the base class users inherit from (no ``super().__init__()`` needed)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from sktiming import Sktimer
from suitkaise_processing._private.errors import ProcessError, ResultTimeoutError
from suitkaise_processing._private.skprocess.config import ProcessConfig
from suitkaise_processing._private.skprocess.modifiers import modifiable, returns_result
from suitkaise_processing._private.skprocess.parent import ParentHandle
from suitkaise_processing._private.skprocess.runtime import Runtime
from suitkaise_processing._private.skprocess.sections import (
    SectionMethod,
    default_error,
    default_noop,
    default_run,
)
from suitkaise_processing._private.timers import SECTIONS, ProcessTimers


class Skprocess:
    """Base class for class-based subprocesses: subclass it and define the lifecycle methods.

    ``__run__`` holds the work of each run; ``__prerun__``, ``__postrun__``, ``__onfinish__``,
    ``__result__`` and ``__error__`` are optional (a class without ``__run__`` runs only those). Configure with ``self.process_config`` in ``__init__`` (no
    ``super().__init__()`` call is needed). Control with ``start``/``stop``/``kill``/``wait``/``result``/
    ``run``; talk with ``tell``/``listen``.
    """

    _sk_sections: ClassVar[dict[str, Callable[[Any], Any]]] = {}
    _sk_autoreconnect: ClassVar[tuple[bool, dict[str, Any]] | None] = None

    process_config: ProcessConfig
    timers: ProcessTimers
    _current_run: int
    _sk_error: BaseException | None

    # The runtime handle (parent handle, child runtime, ...) lives in a slot, outside ``__dict__``: it
    # never travels with the object and serializer diagnostics never walk into it.
    __slots__ = ("__dict__", "__weakref__", "_sk_rt")
    _sk_rt: Runtime | None

    def __new__(cls, *args: Any, **kwargs: Any) -> Skprocess:
        self = super().__new__(cls)
        self._sk_rt = None
        self.__dict__.update(
            {
                "process_config": ProcessConfig(),
                "timers": ProcessTimers(),
                "_current_run": 0,
                "_sk_error": None,
            }
        )
        return self

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for section in SECTIONS:
            name = f"__{section}__"
            value = cls.__dict__.get(name)
            if value is not None and not isinstance(value, SectionMethod) and callable(value):
                setattr(cls, name, SectionMethod(value, section))

    # --- lifecycle defaults (overridden by subclasses) ---------------------------------------------
    __prerun__ = SectionMethod(default_noop, "prerun")
    __run__ = SectionMethod(default_run, "run")
    __postrun__ = SectionMethod(default_noop, "postrun")
    __onfinish__ = SectionMethod(default_noop, "onfinish")
    __result__ = SectionMethod(default_noop, "result")
    __error__ = SectionMethod(default_error, "error")

    # --- pickling: runtime handles never travel ----------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._sk_rt = None

    # --- runtime -----------------------------------------------------------------------------------
    def _sk_parent(self) -> ParentHandle:
        rt = self._sk_rt
        if rt is None:
            rt = ParentHandle(self)
            self._sk_rt = rt
        elif not isinstance(rt, ParentHandle):
            raise ProcessError(
                "start/stop/kill/wait/result/run control a process from its parent; "
                "inside the running process use tell()/listen() and the lifecycle methods"
            )
        return rt

    # --- control -----------------------------------------------------------------------------------
    def start(self) -> None:
        """Serialize this object and run it in a new subprocess; returns at once."""
        self._sk_parent().start()

    def stop(self) -> None:
        """Ask the process to stop gracefully: the run in progress finishes (its prerun, run and
        postrun), then ``__onfinish__`` and ``__result__`` run. Returns at once; ``wait()`` to block
        until it is done."""
        rt = self._sk_rt
        if rt is None:
            return
        rt.stop()

    def kill(self) -> None:
        """Terminate the subprocess now: no lives, no ``__onfinish__``, no result."""
        rt = self._sk_rt
        if rt is None:
            return
        rt.kill()

    @modifiable(native_timeout="_sk_deadline")
    def wait(self, timeout: float | None = None, *, _sk_deadline: float | None = None) -> bool:
        """Block until the process finished (restarts for lives included); ``False`` after ``timeout`` seconds.

        ``wait.timeout(s)()`` raises ``ResultTimeoutError`` instead of returning ``False``.
        """
        rt = self._sk_parent()
        if _sk_deadline is not None:
            if not rt.wait(_sk_deadline):
                raise ResultTimeoutError(f"the process did not finish within {_sk_deadline}s")
            return True
        return bool(rt.wait(timeout))

    @returns_result
    @modifiable(native_timeout="timeout")
    def result(self, timeout: float | None = None) -> Any:
        """What ``__result__()`` returned (blocks until done); raises the ``ProcessError`` if the process
        failed after its lives. ``timeout`` (or ``.timeout(s)``) raises ``ResultTimeoutError``."""
        return self._sk_parent().result(timeout)

    @returns_result
    @modifiable(native_timeout="timeout")
    def run(self, timeout: float | None = None) -> Any:
        """``start()``, ``wait()`` and ``result()`` in one call."""
        rt = self._sk_parent()
        if not rt.started:
            rt.start()
        return rt.result(timeout)

    def tell(self, data: Any) -> None:
        """Send ``data`` to the other side (parent -> child or child -> parent); returns at once."""
        rt: Runtime | None = self._sk_rt
        if rt is None:
            rt = self._sk_parent()
        rt.tell(data)

    @modifiable(native_timeout="_sk_deadline")
    def listen(self, timeout: float | None = None, *, _sk_deadline: float | None = None) -> Any:
        """The next object the other side sent with ``tell()`` (in order); ``None`` after ``timeout`` seconds.

        ``listen.timeout(s)()`` raises ``ResultTimeoutError`` instead of returning ``None``.
        """
        rt: Runtime | None = self._sk_rt
        if rt is None:
            rt = self._sk_parent()
        if _sk_deadline is not None:
            found, value = rt.listen_ex(_sk_deadline)
            if not found:
                raise ResultTimeoutError(f"nothing was told within {_sk_deadline}s")
            return value
        return rt.listen_ex(timeout)[1]

    # --- properties --------------------------------------------------------------------------------
    @property
    def current_run(self) -> int:
        """The current run iteration, from 0 (the number of completed runs)."""
        rt = self._sk_rt
        if isinstance(rt, ParentHandle):
            return rt.current_run
        return self._current_run

    @property
    def is_alive(self) -> bool:
        """Whether the subprocess is running (``True`` inside the running process)."""
        rt = self._sk_rt
        return bool(rt.is_alive) if rt is not None else False

    @property
    def error(self) -> BaseException | None:
        """The error that made the process fail (set when ``__error__`` runs)."""
        return self._sk_error

    @property
    def process_timer(self) -> Sktimer | None:
        """Timer of complete iterations (prerun + run + postrun); same as ``timers.full_run``."""
        return self.timers.full_run

    def __repr__(self) -> str:
        return f"<{type(self).__name__} run={self._current_run}>"
