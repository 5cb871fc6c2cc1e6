"""The worker side of ``Pool.submit``: one submitted call, ``fn(*args, **kwargs)``.

Every submitted call is one item ``(fn_blob, args, kwargs)`` of the pool's submissions job (see
:mod:`._executor`), and the job's function is :func:`run_task`. ``fn_blob`` is the function's
cucumber bytes (by reference for importable functions, by value for lambdas, closures and functions
of the main script); a worker decodes each distinct blob once and keeps the last few, so a loop that
submits the same function pays for its decoding once per worker. Imported by the workers: keep its
imports to :mod:`..wire`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from suitkaise_processing._private import wire

#: decoded functions a worker keeps (a loop usually submits one or a few functions)
_CACHED_FUNCTIONS = 32

Task = tuple[bytes, tuple[Any, ...], dict[str, Any]]


@functools.lru_cache(maxsize=_CACHED_FUNCTIONS)
def _function(blob: bytes) -> Callable[..., Any]:
    fn: Callable[..., Any] = wire.deserialize(blob)
    return fn


def run_task(task: Task) -> Any:
    """Run one submitted call."""
    blob, args, kwargs = task
    return _function(blob)(*args, **kwargs)
