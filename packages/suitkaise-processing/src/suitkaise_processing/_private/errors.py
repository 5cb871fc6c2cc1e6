"""Every exception of suitkaise_processing, rooted at :class:`ProcessError`."""

from __future__ import annotations


class ProcessError(Exception):
    """Base class of every error raised by suitkaise_processing.

    ``current_run`` is the run (counted from 0) during which the error happened, ``original_error``
    the exception raised by user code (``None`` when there is none) and ``remote_traceback`` the
    formatted traceback from the child process, when the error happened in one.
    """

    def __init__(
        self,
        message: str = "",
        *,
        current_run: int | None = None,
        original_error: BaseException | None = None,
        remote_traceback: str | None = None,
    ) -> None:
        super().__init__(message)
        self.current_run = current_run
        self.original_error = original_error
        self.remote_traceback = remote_traceback

    def __str__(self) -> str:
        text = super().__str__()
        if self.remote_traceback:
            text = f"{text}\n\nTraceback in the child process:\n{self.remote_traceback.rstrip()}"
        return text

    def __reduce__(self) -> tuple[object, ...]:
        return (
            _rebuild_process_error,
            (
                type(self),
                self.args,
                self.current_run,
                self.original_error,
                self.remote_traceback,
                self.__dict__,
            ),
        )


def _rebuild_process_error(
    cls: type[ProcessError],
    args: tuple[object, ...],
    current_run: int | None,
    original_error: BaseException | None,
    remote_traceback: str | None,
    state: dict[str, object],
) -> ProcessError:
    err = cls.__new__(cls)
    Exception.__init__(err, *args)
    err.__dict__.update(state)
    err.current_run = current_run
    err.original_error = original_error
    err.remote_traceback = remote_traceback
    return err


class PreRunError(ProcessError):
    """``__prerun__()`` raised."""


class RunError(ProcessError):
    """``__run__()`` raised."""


class PostRunError(ProcessError):
    """``__postrun__()`` raised."""


class OnFinishError(ProcessError):
    """``__onfinish__()`` raised."""


class ResultError(ProcessError):
    """``__result__()`` raised."""


class ErrorHandlerError(ProcessError):
    """``__error__()`` raised."""


class ProcessTimeoutError(ProcessError):
    """A lifecycle section ran longer than its timeout; the child was stopped.

    ``section`` names the lifecycle method as suitkaise 0.4 did (``"__run__"``, ``"__prerun__"``, ...;
    the constructor takes either spelling), ``timeout`` is the limit in seconds.
    """

    def __init__(
        self,
        section: str = "",
        timeout: float = 0.0,
        current_run: int | None = None,
        *,
        message: str | None = None,
        original_error: BaseException | None = None,
        remote_traceback: str | None = None,
    ) -> None:
        name = section.strip("_")
        super().__init__(
            message
            or f"__{name}__ timed out after {timeout}s on run {current_run}; "
            f"raise process_config.timeouts.{name} or make the section faster",
            current_run=current_run,
            original_error=original_error,
            remote_traceback=remote_traceback,
        )
        self.section = f"__{name}__" if name else ""
        self.timeout = timeout


class ResultTimeoutError(ProcessError, TimeoutError):
    """``result()``, ``wait()``, ``run()`` or ``listen()`` waited longer than its ``.timeout()``."""


class PipeEndpointError(ProcessError):
    """A ``Pipe`` endpoint was misused: unlocking an anchor, moving a locked endpoint, or using a closed one."""


class ShareError(ProcessError):
    """The ``Share`` cannot serve the access: its coordinator is stopped, dead, or reported an error."""


class PoolError(ProcessError):
    """A ``Pool`` could not run an item: its worker died, the pool is closed, or the item could not be sent."""


class WorkerDiedError(PoolError):
    """The worker running an item exited (killed, crashed, out of memory); the pool replaced it."""


class MessageError(ProcessError, ValueError):
    """A message read from another process was malformed: its frame announced more bytes than the
    limit or than arrived, or its header was garbage. The connection it came on is out of step and
    is closed; a process that sends such frames is not one of ours (or it is corrupted)."""
