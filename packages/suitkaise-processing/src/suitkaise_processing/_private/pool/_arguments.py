"""Friendly errors for the argument names of other pools (``Pool(processes=4)``, ...).

``Pool.__init__`` collects positional arguments after ``workers`` and unknown keywords (typed
``NoReturn``, so type checkers already reject them) and hands them to :func:`misnamed_arguments`,
which says what to write instead: users arrive with the habits of ``multiprocessing.Pool``,
``concurrent.futures.ProcessPoolExecutor``, loky, joblib and mpire.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping

from suitkaise_processing._private.errors import PoolError


class PoolArgumentError(PoolError, TypeError):
    """``Pool(...)`` got an argument it does not have, often the name another pool uses
    (``processes=``, ``max_workers=``, ``maxtasksperchild=``); the message says what to write.
    Also a builtin ``TypeError``."""


#: name used elsewhere -> (who uses it, what to write here; ``{value}`` is the value given)
_OTHER_NAMES: dict[str, tuple[str, str]] = {
    "processes": ("multiprocessing.Pool", "Pool(workers={value})"),
    "max_workers": ("concurrent.futures and loky", "Pool(workers={value})"),
    "n_jobs": ("joblib and mpire", "Pool(workers={value})"),
    "maxtasksperchild": ("multiprocessing.Pool", "Pool(max_tasks_per_child={value})"),
    "max_tasks": ("pebble", "Pool(max_tasks_per_child={value})"),
    "worker_lifespan": ("mpire", "Pool(max_tasks_per_child={value})"),
    "mp_context": (
        "concurrent.futures",
        "suitkaise_processing.set_start_method('spawn') before creating the Pool "
        "(it applies to every process the package starts)",
    ),
    "context": (
        "loky",
        "suitkaise_processing.set_start_method('spawn') before creating the Pool "
        "(it applies to every process the package starts)",
    ),
    "start_method": (
        "mpire",
        "suitkaise_processing.set_start_method({value}) before creating the Pool "
        "(it applies to every process the package starts)",
    ),
}


def misnamed_arguments(
    init: Callable[..., object], misplaced: tuple[object, ...], misnamed: Mapping[str, object]
) -> PoolArgumentError:
    """The error for ``Pool(...)`` called with ``misplaced`` positional arguments after ``workers``
    or ``misnamed`` keywords; ``init`` is ``Pool.__init__`` (its keywords are listed)."""
    known = [
        name
        for name, param in inspect.signature(init).parameters.items()
        if name != "self" and param.kind in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY)
    ]
    if misplaced:
        return PoolArgumentError(
            f"Pool() takes only `workers` as a positional argument, and got {1 + len(misplaced)}; "
            "pass the others by keyword, e.g. Pool(4, initializer=init, initargs=(1,)) "
            "(multiprocessing.Pool's positional order is processes, initializer, initargs, "
            "maxtasksperchild)"
        )
    lines = []
    for name, value in misnamed.items():
        other = _OTHER_NAMES.get(name)
        if other is not None:
            who, instead = other
            lines.append(
                f"Pool() has no argument `{name}` (that is {who}'s name): write "
                + instead.format(value=repr(value))
            )
            continue
        import difflib  # on the first misnamed argument: every Pool program imports this module

        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean `{close[0]}=`?" if close else ""
        lines.append(f"Pool() got an unexpected keyword argument `{name}`{hint}")
    lines.append("Its arguments are: " + ", ".join(f"{name}=" for name in known))
    return PoolArgumentError("\n".join(lines))
