"""The ints ``counter.value`` hands out, which make ``counter.value += n`` an atomic add.

``counter.value += 1`` runs as ``tmp = counter.value; tmp = tmp.__iadd__(1); counter.value = tmp``.
The getter returns a :class:`CounterInt` that remembers which counter it came from; its
``__iadd__``/``__isub__`` return a :class:`PendingAdd` carrying the delta; the setter, given a
``PendingAdd`` of the same counter, performs ``fetch_add(delta)`` instead of storing. Everywhere else
both behave as plain ints (``counter.value + 1`` is a plain ``int``; they pickle as plain ints).
"""

from __future__ import annotations

from typing import Any


class CounterInt(int):
    """An ``int`` read from a counter; ``+=``/``-=`` on it become an atomic add on that counter."""

    __slots__ = ()
    #: Identity of the counter this value came from (set on the per-counter subclass).
    _sk_key: str = ""

    def __iadd__(self, other: Any) -> Any:  # type: ignore[misc]
        if isinstance(other, int):
            return PendingAdd.make(int(self) + other, other, self._sk_key)
        return NotImplemented

    def __isub__(self, other: Any) -> Any:  # type: ignore[misc]
        if isinstance(other, int):
            return PendingAdd.make(int(self) - other, -other, self._sk_key)
        return NotImplemented

    def __reduce__(self) -> tuple[type[int], tuple[int]]:
        return (int, (int(self),))


def value_class(key: str) -> type[CounterInt]:
    """A ``CounterInt`` subclass bound to the counter identified by ``key`` (made once per counter)."""
    return type("CounterInt", (CounterInt,), {"__slots__": (), "_sk_key": key})


class PendingAdd(int):
    """The result of ``counter.value += n``: equal to the value read plus ``n``, carrying ``n``.

    Assigned back to the same counter it is applied as ``fetch_add(n)``; anywhere else it is the int
    it equals.
    """

    delta: int
    key: str

    @classmethod
    def make(cls, result: int, delta: int, key: str) -> PendingAdd:
        """A pending add of ``delta`` to the counter ``key`` whose naive result is ``result``."""
        pending = cls(result)
        pending.delta = int(delta)
        pending.key = key
        return pending

    def __iadd__(self, other: Any) -> Any:  # type: ignore[misc]
        if isinstance(other, int):
            return PendingAdd.make(int(self) + other, self.delta + other, self.key)
        return NotImplemented

    def __isub__(self, other: Any) -> Any:  # type: ignore[misc]
        if isinstance(other, int):
            return PendingAdd.make(int(self) - other, self.delta - other, self.key)
        return NotImplemented

    def __reduce__(self) -> tuple[type[int], tuple[int]]:
        return (int, (int(self),))
