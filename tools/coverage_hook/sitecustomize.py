"""Coverage of low-level threads, for `python tools/dev.py test --cov` only.

tools/dev.py puts this folder on PYTHONPATH for the measured run, so every Python process of the
run (the tests, Pool workers, Skprocess children, the Share coordinator) imports this module at
start-up, after coverage's own start-up hook (its .pth file) started measuring.

On Python < 3.12 coverage traces a new thread only when ``threading`` starts it (it installs its
tracer through ``threading.settrace``). Some of our threads start with ``_thread.start_new_thread``
(cheaper): this gives them the same start-up step ``threading.Thread`` performs, so the code they run
(the Skprocess monitor, channel feeders, the child's control-pipe reader) is measured too. Without a
coverage trace hook (coverage not running, or its sys.monitoring core on 3.12+) nothing changes.
"""

from __future__ import annotations

import _thread
import sys
import threading
from collections.abc import Callable
from typing import Any

_start_new_thread = _thread.start_new_thread


def _start_traced(
    function: Callable[..., object], args: tuple[Any, ...], kwargs: dict[str, Any] | None = None
) -> int:
    hook = threading._trace_hook  # type: ignore[attr-defined]  # set by coverage's threading.settrace
    if hook is None:
        return _start_new_thread(function, args, kwargs or {})

    def run(*a: Any, **k: Any) -> object:
        sys.settrace(hook)
        return function(*a, **k)

    return _start_new_thread(run, args, kwargs or {})


_thread.start_new_thread = _start_traced
