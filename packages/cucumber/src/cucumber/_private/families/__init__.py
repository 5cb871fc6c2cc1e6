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
    from cucumber._private.families import (
        concurrency,
        databases,
        exceptions,
        files,
        processes,
        runtime,
    )

    for module in (concurrency, files, runtime, databases, exceptions, processes):
        module.install()
