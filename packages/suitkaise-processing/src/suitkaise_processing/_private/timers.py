"""``ProcessTimers``: one ``Sktimer`` per lifecycle section plus ``full_run``."""

from __future__ import annotations

from sktiming import Sktimer

SECTIONS = ("prerun", "run", "postrun", "onfinish", "result", "error")


class ProcessTimers:
    """Timers of an ``Skprocess``'s lifecycle sections (each an ``Sktimer``).

    ``prerun``, ``run``, ``postrun``, ``onfinish``, ``result``, ``error`` time each call of the matching
    ``__section__()``; ``full_run`` times each complete iteration (prerun + run + postrun).
    The child fills them; the parent sees them after ``wait()``.
    """

    __slots__ = ("error", "full_run", "onfinish", "postrun", "prerun", "result", "run")

    def __init__(self) -> None:
        self.prerun: Sktimer | None = Sktimer()
        self.run: Sktimer | None = Sktimer()
        self.postrun: Sktimer | None = Sktimer()
        self.onfinish: Sktimer | None = Sktimer()
        self.result: Sktimer | None = Sktimer()
        self.error: Sktimer | None = Sktimer()
        self.full_run: Sktimer | None = Sktimer()

    def section(self, name: str) -> Sktimer | None:
        """The timer of section ``name`` (``"run"``, ``"prerun"``, ..., ``"full_run"``)."""
        if name not in (*SECTIONS, "full_run"):
            raise ValueError(
                f"unknown section {name!r}; use one of {', '.join((*SECTIONS, 'full_run'))}"
            )
        timer: Sktimer | None = getattr(self, name)
        return timer

    def record(self, name: str, seconds: float) -> None:
        """Add one measured duration to the timer of ``name``."""
        timer = getattr(self, name)
        if timer is None:
            timer = Sktimer()
            setattr(self, name, timer)
        timer.add_time(seconds)

    def __getstate__(self) -> dict[str, Sktimer | None]:
        return {name: getattr(self, name) for name in self.__slots__}

    def __setstate__(self, state: dict[str, Sktimer | None]) -> None:
        for name in self.__slots__:
            setattr(self, name, state.get(name))

    def __repr__(self) -> str:
        counts = ", ".join(
            f"{name}={getattr(self, name).num_times if getattr(self, name) is not None else None}"
            for name in (*SECTIONS, "full_run")
        )
        return f"ProcessTimers({counts})"
