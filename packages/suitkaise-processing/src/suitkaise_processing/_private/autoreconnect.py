"""``@autoreconnect``: reconnect live resources of an ``Skprocess`` when it arrives in its process."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T", bound=type)


def autoreconnect(*, start_threads: bool = False, **auth: Any) -> Callable[[T], T]:
    """Class decorator for ``Skprocess`` subclasses: in the child (and in ``Pool`` workers),
    ``cucumber.reconnect_all(process, start_threads=start_threads, **auth)`` runs before the first
    ``__prerun__`` (and again after a retry restores the state), so ``Reconnector`` placeholders become
    live connections.

    ``auth`` maps a type key (``"psycopg2.Connection"``) to ``{"*": default_secret, "<attr>": secret}``.
    """
    for key, value in auth.items():
        if not isinstance(value, dict):
            raise TypeError(
                f"autoreconnect auth for {key!r} must be a dict like {{'*': 'secret', 'attr_name': 'secret'}}, "
                f"not {type(value).__name__}"
            )

    def decorate(cls: T) -> T:
        from suitkaise_processing._private.skprocess.base import Skprocess

        if not (isinstance(cls, type) and issubclass(cls, Skprocess)):
            raise TypeError("@autoreconnect decorates Skprocess subclasses")
        cls._sk_autoreconnect = (bool(start_threads), dict(auth))
        return cls

    return decorate
