"""How a method of a shared object runs: locally on the snapshot, or in the coordinator.

The answer comes from the class's ``_shared_meta`` (``{"methods": {name: {"reads": [...],
"writes": [...]}}, "properties": {...}}``, as ``sk_modifiers`` generates it for ``@sk`` classes
and ``Sktimer`` declares it). A method that writes nothing runs on this process's snapshot with no
round trip. Any other method runs in the coordinator, atomically; the caller waits for its result
unless the method is annotated ``-> None`` (then it is sent without waiting, like ``list.append``).
Without metadata every method is treated as a writer: always correct, only slower. numpy arrays
have no metadata; their methods that only read (:data:`_NUMPY_READERS`: ``copy``, ``sum``, ...) run
on the snapshot, which views shared memory (see ``docs/suitkaise-processing/large-data.md``).
"""

from __future__ import annotations

import inspect
import threading
from typing import Any

LOCAL = "local"
POST = "post"
CALL = "call"

_lock = threading.Lock()
_modes: dict[tuple[type, str], str] = {}
_metas: dict[type, dict[str, Any] | None] = {}


def shared_meta(cls: type) -> dict[str, Any] | None:
    """The ``_shared_meta`` of ``cls``, generated from its source for plain user classes."""
    with _lock:
        if cls in _metas:
            return _metas[cls]
    meta = getattr(cls, "_shared_meta", None)
    if not isinstance(meta, dict):
        meta = _generate(cls)
    with _lock:
        _metas[cls] = meta
    return meta


def _generate(cls: type) -> dict[str, Any] | None:
    """Metadata from the class's source (``sk_modifiers.shared_meta``, which leaves ``cls`` unchanged)."""
    if cls.__module__ == "builtins":
        return None
    try:
        from sk_modifiers import shared_meta as generate
    except ImportError:  # pragma: no cover - a declared dependency
        return None
    try:
        meta = generate(cls)
    except Exception:
        return None
    return meta if isinstance(meta, dict) else None


def _returns_none(func: Any) -> bool:
    func = inspect.unwrap(getattr(func, "__func__", func))
    annotations = getattr(func, "__annotations__", None)
    if not isinstance(annotations, dict) or "return" not in annotations:
        return False
    ret = annotations["return"]
    return ret is None or ret is type(None) or ret == "None"


#: methods of ``numpy.ndarray`` that never change the array (their results are new objects)
_NUMPY_READERS = frozenset(
    {
        "all",
        "any",
        "argmax",
        "argmin",
        "argsort",
        "astype",
        "copy",
        "cumprod",
        "cumsum",
        "dot",
        "max",
        "mean",
        "min",
        "nonzero",
        "prod",
        "std",
        "sum",
        "tobytes",
        "tolist",
        "trace",
        "var",
    }
)


def _numpy_array(cls: type) -> bool:
    return any(c.__module__ == "numpy" and c.__qualname__ == "ndarray" for c in cls.__mro__)


def method_mode(cls: type, name: str, func: Any) -> str:
    """``LOCAL``, ``POST`` (send, do not wait) or ``CALL`` (send, wait for the result)."""
    key = (cls, name)
    mode = _modes.get(key)
    if mode is not None:
        return mode
    if name in _NUMPY_READERS and _numpy_array(cls):
        _modes[key] = LOCAL
        return LOCAL
    meta = shared_meta(cls)
    info = None
    if meta is not None:
        methods = meta.get("methods")
        if isinstance(methods, dict):
            info = methods.get(name)
    if isinstance(info, dict) and not info.get("writes"):
        mode = LOCAL
    elif _returns_none(func):
        mode = POST
    else:
        mode = CALL
    _modes[key] = mode
    return mode
