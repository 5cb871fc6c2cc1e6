"""The signatures of the Pool's call methods, each written once as a plain function.

``pool.py`` passes them to the functions that build ``map``, ``imap``, ... so that type checkers
capture their parameters, with their type variables, in the protocols of :mod:`._calls`; they are
never called. Each returns the result of one item. They type the call with one iterable; the
protocols add the calls with several (``pool.map(fn, xs, ys)``, like ``Executor.map``), whose
arguments are not checked against ``fn`` (no type can pair each iterable with a parameter), and
those with an ``Skprocess`` class.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, ParamSpec, TypeVar

if TYPE_CHECKING:
    from typing_extensions import TypeVarTuple, Unpack

    from suitkaise_processing._private.pool._calls import ImapOptions, MapOptions

    Ts = TypeVarTuple("Ts")  # star items: tuples of the function's parameters

# the type variables of the Pool's typing, shared with ``pool.py`` and :mod:`._calls`
P = ParamSpec("P")  # the parameters of a call's signature (``pool.submit``: of its function)
T = TypeVar("T")  # an item
R = TypeVar("R")  # what the function returns for one item


def map_signature(
    fn_or_process: Callable[[T], R], iterable: Iterable[T], /, **options: Unpack[MapOptions]
) -> R:
    """``pool.map(fn, items)`` (a list of these), also ``unordered_map``."""
    raise NotImplementedError


def star_map_signature(
    fn_or_process: Callable[[Unpack[Ts]], R],
    iterable: Iterable[tuple[Unpack[Ts]]],
    /,
    **options: Unpack[MapOptions],
) -> R:
    """``pool.star().map(fn, items)``: ``fn(*item)`` for every item; the items are tuples of the
    function's parameters (other iterables work at run time, unchecked)."""
    raise NotImplementedError


def imap_signature(
    fn_or_process: Callable[[T], R], iterable: Iterable[T], /, **options: Unpack[ImapOptions]
) -> R:
    """``pool.imap(fn, items)``, also ``unordered_imap``."""
    raise NotImplementedError


def star_imap_signature(
    fn_or_process: Callable[[Unpack[Ts]], R],
    iterable: Iterable[tuple[Unpack[Ts]]],
    /,
    **options: Unpack[ImapOptions],
) -> R:
    """``pool.star().imap(fn, items)``."""
    raise NotImplementedError
