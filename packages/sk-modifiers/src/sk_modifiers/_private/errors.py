"""Exception classes of sk_modifiers, all rooted at ``SkModifierError``."""

from __future__ import annotations


class SkModifierError(Exception):
    """Invalid use of ``sk``, ``modifiable`` or a modifier (the message says what to change).

    Also the base class of every exception this package raises.
    """


class FunctionTimeoutError(SkModifierError, TimeoutError):
    """A call made through ``.timeout(seconds)`` did not finish in time.

    For synchronous code the call cannot be killed: it keeps running in its worker thread.
    """
