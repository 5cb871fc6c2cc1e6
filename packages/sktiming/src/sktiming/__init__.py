"""Timers with statistics: ``Sktimer``, ``timethis``, ``TimeThis``, and clock helpers.

>>> from sktiming import Sktimer, timethis
>>> @timethis()
... def work() -> int:
...     return 1
>>> work()
1
>>> work.timer.num_times
1
"""

from sktiming.__about__ import __version__
from sktiming._private.clock import Sleep, elapsed, sleep, time
from sktiming._private.stats import TimerStats
from sktiming._private.timer import Sktimer
from sktiming._private.timethis import TimeThis, clear_global_timers, timethis

__all__ = [
    "Sktimer",
    "TimerStats",
    "timethis",
    "TimeThis",
    "clear_global_timers",
    "time",
    "sleep",
    "elapsed",
    "Sleep",
    "__version__",
]
