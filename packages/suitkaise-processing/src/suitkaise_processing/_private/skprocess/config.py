"""``process_config``: runs, join_in, lives and per-section timeouts, validated at assignment."""

from __future__ import annotations

import math
from typing import Any

from suitkaise_processing._private.timers import SECTIONS


def _check_seconds(field: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(
            f"process_config.{field} must be a number of seconds or None, not {type(value).__name__}"
        )
    seconds = float(value)
    if math.isnan(seconds) or seconds < 0:
        raise ValueError(f"process_config.{field} must be >= 0 seconds or None, got {value!r}")
    return seconds


class Timeouts:
    """Per-section timeouts in seconds (``None``: no limit): ``prerun``, ``run``, ``postrun``,
    ``onfinish``, ``result``, ``error``. A section that runs longer is stopped (the process is
    killed), costs a life and reports ``ProcessTimeoutError``."""

    __slots__ = ("_error", "_onfinish", "_postrun", "_prerun", "_result", "_run")

    def __init__(self) -> None:
        self._prerun: float | None = None
        self._run: float | None = None
        self._postrun: float | None = None
        self._onfinish: float | None = None
        self._result: float | None = None
        self._error: float | None = None

    @property
    def prerun(self) -> float | None:
        """Timeout of ``__prerun__()`` in seconds, or ``None``."""
        return self._prerun

    @prerun.setter
    def prerun(self, value: float | None) -> None:
        self._prerun = _check_seconds("timeouts.prerun", value)

    @property
    def run(self) -> float | None:
        """Timeout of ``__run__()`` in seconds, or ``None``."""
        return self._run

    @run.setter
    def run(self, value: float | None) -> None:
        self._run = _check_seconds("timeouts.run", value)

    @property
    def postrun(self) -> float | None:
        """Timeout of ``__postrun__()`` in seconds, or ``None``."""
        return self._postrun

    @postrun.setter
    def postrun(self, value: float | None) -> None:
        self._postrun = _check_seconds("timeouts.postrun", value)

    @property
    def onfinish(self) -> float | None:
        """Timeout of ``__onfinish__()`` in seconds, or ``None``."""
        return self._onfinish

    @onfinish.setter
    def onfinish(self, value: float | None) -> None:
        self._onfinish = _check_seconds("timeouts.onfinish", value)

    @property
    def result(self) -> float | None:
        """Timeout of ``__result__()`` in seconds, or ``None``."""
        return self._result

    @result.setter
    def result(self, value: float | None) -> None:
        self._result = _check_seconds("timeouts.result", value)

    @property
    def error(self) -> float | None:
        """Timeout of ``__error__()`` in seconds, or ``None``."""
        return self._error

    @error.setter
    def error(self, value: float | None) -> None:
        self._error = _check_seconds("timeouts.error", value)

    def get(self, section: str) -> float | None:
        """The timeout of ``section`` (``"run"``, ``"prerun"``, ...)."""
        value: float | None = getattr(self, f"_{section}")
        return value

    def any(self) -> bool:
        """Whether any section has a timeout."""
        return any(getattr(self, f"_{name}") is not None for name in SECTIONS)

    def __getstate__(self) -> dict[str, float | None]:
        return {name: getattr(self, f"_{name}") for name in SECTIONS}

    def __setstate__(self, state: dict[str, float | None]) -> None:
        for name in SECTIONS:
            object.__setattr__(self, f"_{name}", state.get(name))

    def __repr__(self) -> str:
        return "Timeouts(" + ", ".join(f"{n}={getattr(self, f'_{n}')!r}" for n in SECTIONS) + ")"


class ProcessConfig:
    """How an ``Skprocess`` runs; set fields in ``__init__`` (``self.process_config.runs = 10``).

    - ``runs``: number of iterations (``int >= 0``), ``None`` = until ``stop()`` (default ``None``).
    - ``join_in``: stop after this many seconds of total runtime, ``None`` = no limit.
    - ``lives``: attempts in total (``int >= 1``, default 1 = no retry).
    - ``timeouts``: per-section limits (:class:`Timeouts`).
    """

    __slots__ = ("_join_in", "_lives", "_runs", "_timeouts")

    def __init__(self) -> None:
        self._runs: int | None = None
        self._join_in: float | None = None
        self._lives: int = 1
        self._timeouts = Timeouts()

    @property
    def runs(self) -> int | None:
        """Number of run iterations before stopping; ``None`` runs until ``stop()``."""
        return self._runs

    @runs.setter
    def runs(self, value: int | None) -> None:
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(
                    f"process_config.runs must be an int or None, not {type(value).__name__}"
                )
            if value < 0:
                raise ValueError(f"process_config.runs must be >= 0 or None, got {value}")
        self._runs = value

    @property
    def join_in(self) -> float | None:
        """Maximum total runtime in seconds before stopping; ``None`` = no limit."""
        return self._join_in

    @join_in.setter
    def join_in(self, value: float | None) -> None:
        self._join_in = _check_seconds("join_in", value)

    @property
    def lives(self) -> int:
        """Total attempts: 1 = fail on the first error, n = retry n-1 times."""
        return self._lives

    @lives.setter
    def lives(self, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"process_config.lives must be an int >= 1, not {type(value).__name__}")
        if value < 1:
            raise ValueError(f"process_config.lives must be >= 1 (1 = no retries), got {value}")
        self._lives = value

    @property
    def timeouts(self) -> Timeouts:
        """Per-section timeouts (``process_config.timeouts.run = 30.0``)."""
        return self._timeouts

    def __getstate__(self) -> dict[str, Any]:
        return {
            "runs": self._runs,
            "join_in": self._join_in,
            "lives": self._lives,
            "timeouts": self._timeouts,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._runs = state["runs"]
        self._join_in = state["join_in"]
        self._lives = state["lives"]
        self._timeouts = state["timeouts"]

    def __repr__(self) -> str:
        return (
            f"ProcessConfig(runs={self._runs!r}, join_in={self._join_in!r}, lives={self._lives!r}, "
            f"timeouts={self._timeouts!r})"
        )
