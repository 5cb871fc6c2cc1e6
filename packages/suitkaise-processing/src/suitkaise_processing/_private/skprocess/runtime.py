"""``Runtime``: what an ``Skprocess`` instance's runtime handle (``process._sk_rt``) provides.

Three implementations: ``ParentHandle`` (parent.py, in the process that called ``start()``),
``ChildRuntime`` (child.py, inside the running child) and ``LocalRuntime`` (engine.py, a lifecycle run
in-process, e.g. a Pool item). ``Skprocess`` talks to its handle only through this protocol.
"""

from __future__ import annotations

from typing import Any, Protocol


class Runtime(Protocol):
    """The runtime handle of an ``Skprocess`` instance."""

    @property
    def is_parent(self) -> bool:
        """``True`` in the process that started the child."""
        ...

    @property
    def is_alive(self) -> bool:
        """Whether the process runs (always ``True`` inside it)."""
        ...

    def tell(self, data: Any) -> None:
        """Send ``data`` to the other side; returns at once."""
        ...

    def listen_ex(self, timeout: float | None) -> tuple[bool, Any]:
        """``(True, obj)`` for the next told object, ``(False, None)`` after ``timeout`` seconds."""
        ...

    def stop(self) -> None:
        """Stop gracefully after the run in progress."""
        ...

    def kill(self) -> None:
        """End the process now."""
        ...
