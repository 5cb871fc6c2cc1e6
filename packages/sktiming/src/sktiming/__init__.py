"""Timers with statistics: Sktimer, timethis, TimeThis."""

from sktiming.__about__ import __version__

__all__ = ["__version__"]
