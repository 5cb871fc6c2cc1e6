"""``@blocking`` and detection of known blocking calls in a function's source (AST)."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from sk_modifiers._private.source import dotted_name, function_node, unwrap

F = TypeVar("F")

_MARK = "__sk_blocking__"

# Modules whose every call blocks (network, processes, databases, HTTP clients).
BLOCKING_MODULES = frozenset(
    {
        "requests",
        "httpx",
        "urllib3",
        "urllib.request",
        "http.client",
        "subprocess",
        "socket",
        "ftplib",
        "smtplib",
        "poplib",
        "imaplib",
        "telnetlib",
        "sqlite3",
        "psycopg",
        "psycopg2",
        "pymysql",
        "MySQLdb",
        "mysql.connector",
        "pymongo",
        "redis",
        "cx_Oracle",
        "oracledb",
        "pyodbc",
        "boto3",
        "paramiko",
        "shutil",
    }
)

# Exact dotted calls that block.
BLOCKING_CALLS = frozenset(
    {
        "time.sleep",
        "sleep",
        "open",
        "input",
        "io.open",
        "os.system",
        "os.popen",
        "os.wait",
        "os.waitpid",
        "os.read",
        "os.write",
        "os.fsync",
        "os.sendfile",
        "urlopen",
        "select.select",
        "select.poll",
        "fcntl.flock",
        "fcntl.lockf",
        "json.load",
        "json.dump",
        "pickle.load",
        "pickle.dump",
        "create_connection",
    }
)

# Method names that block whatever object they are called on (file, socket, DB, process, future).
BLOCKING_METHODS = frozenset(
    {
        "recv",
        "recv_into",
        "recvfrom",
        "recvmsg",
        "accept",
        "sendall",
        "sendfile",
        "connect",
        "read",
        "readline",
        "readlines",
        "write",
        "writelines",
        "read_text",
        "read_bytes",
        "write_text",
        "write_bytes",
        "urlopen",
        "execute",
        "executemany",
        "executescript",
        "fetchone",
        "fetchall",
        "fetchmany",
        "commit",
        "rollback",
        "communicate",
        "getresponse",
        "request",
        "sleep",
    }
)


def blocking(fn: F) -> F:
    """Mark a function or method as blocking when its source shows no known blocking call.

    Enables ``.asynced()`` (and ``C.asynced()``) for it. Returns the function itself.
    """
    target = getattr(fn, "_sk_info", None)
    if target is not None:
        target.marked_blocking = True
        return fn
    inner = fn.__func__ if isinstance(fn, (staticmethod, classmethod)) else fn
    try:
        setattr(inner, _MARK, True)
    except (AttributeError, TypeError):
        raise TypeError(f"@blocking needs a function or method, got {type(fn).__name__}") from None
    return fn


def is_marked_blocking(fn: Any) -> bool:
    """Whether ``fn`` (or a function it wraps) carries ``@blocking``."""
    if getattr(fn, _MARK, False):
        return True
    return bool(getattr(unwrap(fn), _MARK, False))


# Async frameworks: their calls return awaitables, they do not block.
ASYNC_MODULES = ("asyncio", "trio", "anyio", "curio")


def blocking_call_name(call: ast.Call) -> str | None:
    """The dotted name of ``call`` when it is a known blocking call."""
    name = dotted_name(call.func)
    if name is not None and name.split(".", 1)[0] in ASYNC_MODULES:
        return None
    if name is not None:
        if name in BLOCKING_CALLS:
            return name
        head, _, _ = name.rpartition(".")
        while head:
            if head in BLOCKING_MODULES:
                return name
            head, _, _ = head.rpartition(".")
    if isinstance(call.func, ast.Attribute) and call.func.attr in BLOCKING_METHODS:
        return name if name is not None else f"<expr>.{call.func.attr}"
    return None


def blocking_calls_in(nodes: Iterable[ast.AST]) -> list[str]:
    """Known blocking calls under ``nodes``, in source order, without duplicates."""
    hits: list[tuple[int, int, str]] = []
    roots = list(nodes)
    # `await x.read()`: an awaited call is a coroutine (aiofiles, asyncpg, ...), not a blocking call.
    awaited = {
        id(node.value)
        for root in roots
        for node in ast.walk(root)
        if isinstance(node, ast.Await) and isinstance(node.value, ast.Call)
    }
    for root in roots:
        for node in ast.walk(root):
            if isinstance(node, ast.Call) and id(node) not in awaited:
                name = blocking_call_name(node)
                if name is not None:
                    hits.append((node.lineno, node.col_offset, name))
    found: list[str] = []
    for _, _, name in sorted(hits):
        if name not in found:
            found.append(name)
    return found


def find_blocking_calls(fn: Callable[..., Any]) -> list[str]:
    """Known blocking calls in the body of ``fn`` (``[]`` when its source is unavailable)."""
    node = function_node(fn)
    if node is None:
        return []
    return blocking_calls_in(node.body)
