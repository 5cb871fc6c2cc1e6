"""JSON forms of the IR: ``ir_to_jsonable``/``ir_to_json`` and ``to_jsonable``/``to_json`` (object -> IR -> JSON).

The IR (see :mod:`cucumber._private.ir`) is already made of dicts with string keys, lists and scalars;
only two kinds of value are not JSON, and they become nodes tagged ``"__cucumber_json__"`` (the marker
of suitkaise 0.4):

- ``bytes`` -> ``{"__cucumber_json__": "bytes", "base64": "<base64>"}``
- ``nan``, ``inf``, ``-inf`` -> ``{"__cucumber_json__": "float", "value": "nan" | "inf" | "-inf"}``

So every container keeps its ``"__cucumber_type__"`` marker (a dict is
``{"__cucumber_type__": "dict", "__object_id__": n, "items": [[key, value], ...]}``, whatever its keys).
"""

from __future__ import annotations

import base64
import json
import math
from typing import Any

from cucumber._private.ir import serialize_ir

__all__ = ["JSON_TAG", "ir_to_json", "ir_to_jsonable", "to_json", "to_jsonable"]

JSON_TAG = "__cucumber_json__"


def ir_to_jsonable(ir: Any) -> Any:
    """The IR with ``bytes`` and non-finite floats as tagged nodes, so ``json.dumps`` accepts it."""
    if isinstance(ir, bytes):
        return {JSON_TAG: "bytes", "base64": base64.b64encode(ir).decode("ascii")}
    if isinstance(ir, float) and not math.isfinite(ir):
        return {JSON_TAG: "float", "value": repr(ir)}
    if isinstance(ir, list):
        return [ir_to_jsonable(item) for item in ir]
    if isinstance(ir, dict):
        return {key: ir_to_jsonable(value) for key, value in ir.items()}
    return ir


def ir_to_json(ir: Any, indent: int | None = 2, *, sort_keys: bool = True) -> str:
    """The IR as JSON text (see :func:`ir_to_jsonable`); indented by 2 with sorted keys by default."""
    return json.dumps(ir_to_jsonable(ir), indent=indent, sort_keys=sort_keys)


def to_jsonable(obj: Any, *, debug: bool = False, verbose: bool = False) -> Any:
    """``ir_to_jsonable(serialize_ir(obj, debug=debug, verbose=verbose))``."""
    return ir_to_jsonable(serialize_ir(obj, debug=debug, verbose=verbose))


def to_json(
    obj: Any,
    indent: int | None = 2,
    *,
    sort_keys: bool = True,
    debug: bool = False,
    verbose: bool = False,
) -> str:
    """``ir_to_json(serialize_ir(obj, debug=debug, verbose=verbose), indent, sort_keys=sort_keys)``."""
    return ir_to_json(serialize_ir(obj, debug=debug, verbose=verbose), indent, sort_keys=sort_keys)
