"""A serializer for (nearly) every Python object, including live resources through Reconnectors."""

from cucumber.__about__ import __version__

__all__ = ["__version__"]
