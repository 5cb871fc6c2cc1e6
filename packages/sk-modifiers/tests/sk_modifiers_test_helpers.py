"""Module-level functions and classes for the sk-modifiers tests (pickle finds them by name)."""

from __future__ import annotations

import threading
import time
from typing import Any

from sk_modifiers import blocking, modifiable, sk


class OwnError(Exception):
    """The error family of a library object (like ProcessError)."""


class OwnTimeoutError(OwnError, TimeoutError):
    """Like ResultTimeoutError: raised by the object's own timeout."""


@sk
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


@sk
def nap(seconds: float) -> float:
    """Sleep (a known blocking call)."""
    time.sleep(seconds)
    return seconds


@sk
def pure(x: int) -> int:
    """No blocking call at all."""
    return x * 2


@sk
@blocking
def crunch(n: int) -> int:
    """CPU work the AST cannot see as blocking."""
    return sum(range(n))


@sk
async def async_double(x: int) -> int:
    """A native coroutine function."""
    return x * 2


class Job:
    """A library object with modifiable methods (like Skprocess / Pool)."""

    def __init__(self, value: int = 7) -> None:
        self.value = value
        self.done = threading.Event()
        self.calls: list[Any] = []

    def __getstate__(self) -> dict[str, Any]:
        return {"value": self.value}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["value"])  # type: ignore[misc]

    @modifiable(timeout_error=OwnTimeoutError, native_timeout="timeout")
    def result(self, timeout: float | None = None) -> int:
        """Wait for the result; the object enforces the timeout itself."""
        self.calls.append(("result", timeout))
        if not self.done.wait(timeout):
            raise OwnTimeoutError(f"no result within {timeout} s")
        return self.value

    @modifiable(timeout_error=OwnTimeoutError)
    def map(self, fn: Any, items: list[Any]) -> list[Any]:
        """Apply fn to items (timeouts wait in a thread)."""
        self.calls.append(("map", len(items)))
        return [fn(item) for item in items]

    @modifiable()
    def block_until_done(self) -> int:
        """Blocks until ``done`` is set (bounded, so a stuck test cannot hang forever)."""
        self.done.wait(60)
        return self.value


@sk
class Account:
    """A user class with state, properties and a blocking method."""

    def __init__(self, balance: int = 0) -> None:
        self.balance = balance
        self.history: list[int] = []

    def deposit(self, amount: int) -> int:
        self.balance += amount
        self._log(amount)
        return self.balance

    def _log(self, amount: int) -> None:
        self.history.append(amount)

    @property
    def last(self) -> int | None:
        return self.history[-1] if self.history else None

    def save(self, path: str) -> None:
        with open(path, "w") as fh:
            fh.write(str(self.balance))

    def slow_total(self) -> int:
        time.sleep(0.01)
        return self.balance


class PlainBase:
    """A base class that is not decorated (its functions must stay untouched)."""

    def __init__(self) -> None:
        self.pushed: list[int] = []

    def push(self, x: int) -> None:
        self.pushed.append(x)


@sk
class Derived(PlainBase):
    """An @sk class inheriting a method from a plain base."""

    def count(self) -> int:
        return len(self.pushed)


def triple(x: int) -> int:
    """Left undecorated here: tests apply ``sk`` to it at run time."""
    return x * 3
