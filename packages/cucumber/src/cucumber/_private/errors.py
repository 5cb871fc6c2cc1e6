"""The exception hierarchy of cucumber: one base, one class per direction."""

from __future__ import annotations

__all__ = ["CucumberError", "DeserializationError", "SerializationError"]


class CucumberError(Exception):
    """Base class of every error cucumber raises on purpose."""


class SerializationError(CucumberError):
    """An object (or a part of it) cannot be turned into bytes.

    The message names the part that failed; call ``serialize(obj, debug=True)`` to see the full
    path through the object (``Payload -> workers[3] -> lock``) and the handler that was used.
    """


class DeserializationError(CucumberError):
    """Bytes cannot be turned back into an object: empty, truncated, corrupt or foreign input,
    or a failure while rebuilding an object (for example a module missing in this interpreter)."""
