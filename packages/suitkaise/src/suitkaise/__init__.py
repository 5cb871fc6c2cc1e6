"""The full suitkaise kit."""

from suitkaise.__about__ import __version__

__all__ = ["__version__"]
