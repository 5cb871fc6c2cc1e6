"""Skprocess, Pool, Share, Pipe: multiprocessing made easy and fast."""

from suitkaise_processing.__about__ import __version__

__all__ = ["__version__"]
