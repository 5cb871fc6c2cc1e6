"""cucumber's handlers, one module per family of types; :func:`install` registers them all."""

from __future__ import annotations

from cucumber._private.pickler import install_code_handlers

__all__ = ["install"]

_installed = False


def install() -> None:
    """Register every family's handlers (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    install_code_handlers()
