"""The ints ``counter.value`` hands out, which make ``counter.value += n`` an atomic add.

``counter.value += 1`` runs as ``tmp = counter.value; tmp = tmp.__iadd__(1); counter.value = tmp``.
The getter returns a :class:`CounterInt` that knows which counter it came from; its
``__iadd__``/``__isub__`` return a :class:`PendingAdd` carrying the delta; the setter, given a
``PendingAdd`` of the same counter, performs ``fetch_add(delta)`` instead of storing. Everywhere else
both behave as plain ints (``counter.value + 1`` is a plain ``int``; they pickle as plain ints).

Speed: each counter gets its own ``CounterInt`` subclass, and small deltas their own ``PendingAdd``
subclass (counter and delta as class attributes), so ``+=`` allocates one int and no ``__dict__``.
"""

from __future__ import annotations

from typing import Any, ClassVar

_new_int = int.__new__
#: Deltas with a cached PendingAdd class, per counter.
_CACHED_DELTAS = range(-64, 65)


class PendingAdd(int):
    """The result of ``counter.value += n``: equal to the value read plus ``n``, carrying ``n``.

    Assigned back to the same counter it is applied as ``fetch_add(n)``; anywhere else it is the int
    it equals.
    """

    #: The CounterInt class of the counter this add belongs to.
    owner: type[CounterInt]
    delta: int

    def __iadd__(self, other: Any) -> Any:  # type: ignore[misc]
        if isinstance(other, int):
            return self.owner.pending(self + other, self.delta + other)
        return NotImplemented

    def __isub__(self, other: Any) -> Any:  # type: ignore[misc]
        if isinstance(other, int):
            return self.owner.pending(self - other, self.delta - other)
        return NotImplemented

    def __reduce__(self) -> tuple[type[int], tuple[int]]:
        return (int, (int(self),))


class CounterInt(int):
    """An ``int`` read from a counter; ``+=``/``-=`` on it become an atomic add on that counter."""

    __slots__ = ()
    #: PendingAdd subclasses of this counter by delta (set on the per-counter subclass).
    _pending_by_delta: ClassVar[dict[int, type[PendingAdd]]] = {}

    @classmethod
    def pending(cls, result: int, delta: int) -> PendingAdd:
        """A pending add of ``delta`` to this counter whose naive result is ``result``."""
        kind = cls._pending_by_delta.get(delta)
        if kind is not None:
            return _new_int(kind, result)
        if delta in _CACHED_DELTAS:
            kind = type("PendingAdd", (PendingAdd,), {"owner": cls, "delta": delta})
            cls._pending_by_delta[delta] = kind
            return _new_int(kind, result)
        pending: PendingAdd = _new_int(PendingAdd, result)
        pending.owner = cls
        pending.delta = int(delta)
        return pending

    def __iadd__(self, other: Any) -> Any:  # type: ignore[misc]
        if type(other) is int:
            kind = self._pending_by_delta.get(other)
            if kind is not None:
                return _new_int(kind, self + other)
        if isinstance(other, int):
            return self.pending(self + other, other)
        return NotImplemented

    def __isub__(self, other: Any) -> Any:  # type: ignore[misc]
        if isinstance(other, int):
            return self.pending(self - other, -other)
        return NotImplemented

    def __reduce__(self) -> tuple[type[int], tuple[int]]:
        return (int, (int(self),))


def value_class() -> type[CounterInt]:
    """A fresh ``CounterInt`` subclass for one counter (made once per counter per process)."""
    return type("CounterInt", (CounterInt,), {"__slots__": (), "_pending_by_delta": {}})
