"""The errors of state kept on a Redis server (`RedisCounter`, a `RateLimit` on Redis), rooted at
:class:`ProcessError` like every other one."""

from __future__ import annotations

from suitkaise_processing._private.errors import ProcessError


class CounterBackendError(ProcessError, ConnectionError):
    """The Redis server behind a ``RedisCounter`` could not be reached or did not answer within the
    counter's ``timeout``. A write that raised it may or may not have been applied: read the value."""


class RateLimitBackendError(ProcessError, ConnectionError):
    """The Redis server behind a ``RateLimit(backend="redis://...")`` could not be reached or did not
    answer within the limit's ``timeout``: the call that waited for the limit did not run."""
