"""multiprocessing objects bound to a process: refused with a message that suggests Share or Pipe.

They are recognised by module name (``multiprocessing.*``), without importing anything.
"""

from __future__ import annotations

from typing import Any

from cucumber._private import registry
from cucumber._private.errors import SerializationError

__all__ = ["install"]

_ADVICE = {
    "queues": "use suitkaise_processing's Pipe (a channel between two processes) or Share (shared state)",
    "connection": "use suitkaise_processing's Pipe, which cucumber can send to a child",
    "managers": "use suitkaise_processing's Share for state shared between processes",
    "shared_memory": "use suitkaise_processing's Share, or send the segment's name and attach in the child",
    "synchronize": "use suitkaise_processing's Share for coordination between processes",
    "sharedctypes": "use suitkaise_processing's Share or shared_counter.SharedMemoryCounter",
}


def _refusal(t: type) -> registry.Handler | None:
    for base in getattr(t, "__mro__", (t,)):
        module = getattr(base, "__module__", "") or ""
        if module == "multiprocessing" or module.startswith("multiprocessing."):
            part = module.split(".")[1] if "." in module else ""
            if part in ("context", "process", "pool", "util", "reduction", "dummy"):
                return None
            advice = _ADVICE.get(part, "use suitkaise_processing's Share or Pipe instead")
            name = registry.type_key(t)

            def refuse(_pickler: Any, obj: Any, name: str = name, advice: str = advice) -> Any:
                raise SerializationError(
                    f"cannot serialize {name} object: it is bound to the process that created it; {advice}"
                )

            return registry.Handler("multiprocessing refusal", refuse)
    return None


def install() -> None:
    """Register the multiprocessing recogniser."""
    registry.add_recogniser(_refusal)
