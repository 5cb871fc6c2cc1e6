"""How a method of a shared object runs: locally on the snapshot, or in the coordinator.

The answer comes from the class's ``_shared_meta`` (``{"methods": {name: {"reads": [...],
"writes": [...]}}, "properties": {...}}``, as ``sk_modifiers`` generates it for ``@sk`` classes
and ``Sktimer`` declares it). A method that writes nothing runs on this process's snapshot with no
round trip. Any other method runs in the coordinator, atomically; the caller waits for its result
unless the method is annotated ``-> None`` (then it is sent without waiting, like ``list.append``).
Without metadata every method is treated as a writer: always correct, only slower.
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


def method_mode(cls: type, name: str, func: Any) -> str:
    """``LOCAL``, ``POST`` (send, do not wait) or ``CALL`` (send, wait for the result)."""
    key = (cls, name)
    mode = _modes.get(key)
    if mode is not None:
        return mode
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
