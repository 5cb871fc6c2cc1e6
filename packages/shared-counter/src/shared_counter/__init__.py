"""A picklable, named, shared-memory counter whose operations are truly atomic across processes."""

from shared_counter.__about__ import __version__

__all__ = ["__version__"]
