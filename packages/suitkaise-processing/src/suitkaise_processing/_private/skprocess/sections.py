"""The lifecycle sections of an ``Skprocess`` class: their descriptors and their defaults.

A lifecycle method (``__run__``, ``__prerun__``, ...) defined on a subclass is wrapped in a
:class:`SectionMethod` by ``Skprocess.__init_subclass__``, so ``process.__run__.timer`` works per
instance. The host side (the Skprocess parent, the Pool engine) asks :func:`has_error_handler` whether a
class decides its own failures.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sktiming import Sktimer
    from suitkaise_processing._private.skprocess.base import Skprocess


class BoundSection:
    """A lifecycle method bound to its instance; ``.timer`` is that section's ``Sktimer``."""

    __slots__ = ("_func", "_instance", "_section")

    def __init__(self, func: Callable[[Any], Any], instance: Skprocess, section: str) -> None:
        self._func = func
        self._instance = instance
        self._section = section

    def __call__(self) -> Any:
        return self._func(self._instance)

    @property
    def timer(self) -> Sktimer | None:
        """The ``Sktimer`` of this section (filled by the child, visible after ``wait()``)."""
        return self._instance.timers.section(self._section)

    @property
    def __func__(self) -> Callable[[Any], Any]:
        return self._func

    @property
    def __self__(self) -> Skprocess:
        return self._instance

    def __repr__(self) -> str:
        return f"<lifecycle method __{self._section}__ of {self._instance!r}>"


class SectionMethod:
    """Descriptor wrapping a lifecycle method so that ``process.__run__.timer`` works per instance."""

    __slots__ = ("func", "section")

    def __init__(self, func: Callable[[Any], Any], section: str) -> None:
        self.func = func
        self.section = section

    def __get__(self, instance: Skprocess | None, owner: type | None = None) -> Any:
        if instance is None:
            return self.func
        return BoundSection(self.func, instance, self.section)


def default_noop(self: Skprocess) -> None:
    """Default of ``__prerun__``, ``__postrun__``, ``__onfinish__`` and ``__result__``."""
    return None


def default_run(self: Skprocess) -> None:
    """No ``__run__``: each run does only ``__prerun__``/``__postrun__`` (the Share how-to's example)."""
    return None


def default_error(self: Skprocess) -> Any:
    """Default ``__error__``: the error itself, which ``result()`` raises."""
    return self.error


def section_function(cls: type, section: str) -> Callable[[Any], Any]:
    """The plain function behind ``cls.__section__`` (unwrapped from its :class:`SectionMethod`)."""
    attr = getattr(cls, f"__{section}__")
    if isinstance(attr, SectionMethod):
        return attr.func
    func: Callable[[Any], Any] = attr
    return func


def has_error_handler(cls: type) -> bool:
    """Whether ``cls`` defines its own ``__error__`` (the default only returns the error)."""
    return section_function(cls, "error") is not default_error
