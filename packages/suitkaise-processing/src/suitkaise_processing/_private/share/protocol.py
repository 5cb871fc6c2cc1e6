"""Commands a Share client sends its coordinator.

A command is ``(op, req, name, slot, path, args)``, encoded with the package's wire format:

- ``req`` is 0 for a write nobody waits for (the coordinator counts it as applied on ``slot``,
  matching the writer's ``queued`` announcement), else an id the answer ``(req, ok, result)`` carries.
- ``path`` leads from the attribute to the part the command works on: ``(("a", "x"), ("i", 3))``
  is ``share.<name>.x[3]``.
"""

from __future__ import annotations

from typing import Any

Path = tuple[tuple[str, Any], ...]

OP_SET = "set"
OP_DEL = "del"
OP_IOP = "iop"
OP_CALL = "call"
OP_NAMES = "names"
OP_CLEAR = "clear"
OP_PING = "ping"
OP_STOP = "stop"
