"""The exception classes of shared_counter, all rooted at :class:`CounterError`."""

from __future__ import annotations


class CounterError(Exception):
    """Base class of every error raised by shared_counter."""


class CounterNotFoundError(CounterError, FileNotFoundError):
    """No counter with this name exists in this run_id (connecting with ``create=False``)."""

    def __init__(self, message: str, *, counter_name: str = "", run_id: str = "") -> None:
        super().__init__(message)
        self.counter_name = counter_name
        self.run_id = run_id

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class CounterExistsError(CounterError, FileExistsError):
    """A counter with this name already exists in this run_id (``create=True`` without ``exist_ok``)."""

    def __init__(self, message: str, *, counter_name: str = "", run_id: str = "") -> None:
        super().__init__(message)
        self.counter_name = counter_name
        self.run_id = run_id

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class CounterClosedError(CounterError, ValueError):
    """The counter handle was closed; connect again to use the counter."""


class CounterLockError(CounterError, RuntimeError):
    """The counter's lock was released by a thread that does not hold it."""
