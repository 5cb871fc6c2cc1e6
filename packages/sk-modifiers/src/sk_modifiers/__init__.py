"""The sk decorator: .timeout(), .background(), .asynced(), .retry(), .rate_limit()."""

from sk_modifiers.__about__ import __version__

__all__ = ["__version__"]
