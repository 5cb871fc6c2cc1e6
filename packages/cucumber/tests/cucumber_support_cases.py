"""Representative objects of every type family, with a behaviour check after a round trip.

Used by ``test_support_cases.py`` (cucumber must handle every case) and by
``tools/support_table.py`` (pickle, cloudpickle, dill and cucumber side by side). ``make()`` builds
the object in the sender; ``check(restored)`` runs in the receiver (a fresh spawned interpreter)
and returns True when the object behaves like the original. Reconnector placeholders are turned
live with ``cucumber.reconnect_all`` before checking, so the same check serves every serializer.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextvars
import dataclasses
import datetime
import decimal
import enum
import fractions
import functools
import io
import itertools
import json
import logging
import math
import mmap
import os
import pickle
import queue
import re
import socket
import subprocess
import sys
import tempfile
import threading
import types
import typing
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple, TypedDict

import cucumber

# --------------------------------------------------------------------------- helpers


@dataclasses.dataclass
class Case:
    """One representative object: ``make`` builds it, ``check`` verifies the rebuilt one."""

    family: str
    name: str
    make: Callable[[], Any]
    check: Callable[[Any], bool]
    #: True when the contract requires cucumber to handle it even if pickle/cloudpickle/dill do not.
    extra: bool = False


def live(obj: Any) -> Any:
    """Reconnect Reconnector placeholders (a no-op for objects that are already live)."""
    return cucumber.reconnect_all(obj)


_WORKDIR = Path(tempfile.gettempdir()) / f"cucumber-support-{os.getpid()}"


def workdir() -> Path:
    """A folder for the files the cases create (removed by :func:`cleanup`)."""
    _WORKDIR.mkdir(exist_ok=True)
    return _WORKDIR


_RESOURCES: list[Any] = []


def keep(resource: Any) -> Any:
    """Keep a resource of the sender alive (and closed by :func:`cleanup`)."""
    _RESOURCES.append(resource)
    return resource


def cleanup() -> None:
    """Close what the cases opened in the sender and delete their files."""
    global _LISTENER
    _LISTENER = None
    while _RESOURCES:
        resource = _RESOURCES.pop()
        for method in ("close", "shutdown", "kill"):
            fn = getattr(resource, method, None)
            if fn is not None:
                try:
                    fn()
                except Exception:
                    pass
                break
        if isinstance(resource, subprocess.Popen):
            resource.wait(30)
    if _WORKDIR.exists():
        for p in _WORKDIR.iterdir():
            p.unlink()
        _WORKDIR.rmdir()


# --------------------------------------------------------------------------- module-level types


@dataclasses.dataclass
class Point:
    x: int
    y: int

    def norm1(self) -> int:
        return abs(self.x) + abs(self.y)


class Slotted:
    __slots__ = ("a", "b")

    def __init__(self, a: int, b: int) -> None:
        self.a, self.b = a, b

    def total(self) -> int:
        return self.a + self.b


class Color(enum.Enum):
    RED = 1
    GREEN = 2


class Pair(NamedTuple):
    left: int
    right: int


class Movie(TypedDict):
    title: str
    year: int


class Greeter:
    def __init__(self, name: str) -> None:
        self.name = name

    def greet(self, greeting: str = "hello") -> str:
        return f"{greeting} {self.name}"

    @staticmethod
    def shout(text: str) -> str:
        return text.upper()

    @classmethod
    def make(cls, name: str) -> Greeter:
        return cls(name)


# A module created by exec, like a Jupyter cell or `python -c`: registered in ``sys.modules`` of the
# sender only (on first use), so a fresh interpreter cannot import it.
_DYNAMIC_SOURCE = """
def triple(x):
    return 3 * x

class Counter:
    def __init__(self, start):
        self.value = start
    def bump(self):
        self.value += 1
        return self.value
"""
_DYNAMIC_NAME = "cucumber_dynamic_cell"


def dynamic_module() -> types.ModuleType:
    """The exec-created module (created and registered in this process on first use)."""
    module = sys.modules.get(_DYNAMIC_NAME)
    if module is None:
        module = types.ModuleType(_DYNAMIC_NAME)
        exec(compile(_DYNAMIC_SOURCE, "<cell>", "exec"), module.__dict__)
        module.__spec__ = None
        sys.modules[_DYNAMIC_NAME] = module
    return module


def main_function() -> Callable[[int], int]:
    """A function compiled as part of ``__main__`` (a script or a notebook cell)."""
    namespace: dict[str, Any] = {"__name__": "__main__"}
    exec("def halve(x):\n    return x // 2\n", namespace)
    return namespace["halve"]  # type: ignore[no-any-return]


# Fake database clients, recognised by module and class name (the drivers are not installed).
class FakePsycopg2Connection:
    def __init__(self) -> None:
        self._dsn = {"host": "db.example", "port": "5432", "dbname": "shop", "user": "alice"}
        self._password = "s3cr3t-pg-password"

    def get_dsn_parameters(self) -> dict[str, str]:
        return dict(self._dsn)


FakePsycopg2Connection.__module__ = "psycopg2.extensions"
FakePsycopg2Connection.__name__ = FakePsycopg2Connection.__qualname__ = "connection"


class FakeRedis:
    def __init__(self) -> None:
        pool = types.SimpleNamespace()
        pool.connection_kwargs = {
            "host": "cache.example",
            "port": 6379,
            "db": 2,
            "password": "s3cr3t-redis",
        }
        self.connection_pool = pool


FakeRedis.__module__ = "redis.client"
FakeRedis.__name__ = FakeRedis.__qualname__ = "Redis"


# --------------------------------------------------------------------------- makers and checks


def _closure_counter() -> Callable[[], int]:
    count = 0

    def bump() -> int:
        nonlocal count
        count += 1
        return count

    bump()
    return bump


def _local_class_instance() -> Any:
    class Local:
        def __init__(self, v: int) -> None:
            self.v = v

        def doubled(self) -> int:
            return 2 * self.v

    return Local(21)


def _local_enum() -> Any:
    class Mood(enum.Enum):
        HAPPY = "h"
        SAD = "s"

    return Mood


def _local_dataclass() -> Any:
    @dataclasses.dataclass(frozen=True)
    class Item:
        name: str
        qty: int = 1

        def label(self) -> str:
            return f"{self.qty}x {self.name}"

    return Item("pear", 3)


def _local_namedtuple() -> Any:
    Row = collections.namedtuple("Row", "a b")
    return Row(1, 2)


def _local_typeddict() -> Any:
    class Config(TypedDict):
        host: str

    return Config


def _recursive_local() -> Callable[[int], int]:
    def fib(n: int) -> int:
        return n if n < 2 else fib(n - 1) + fib(n - 2)

    return fib


def _text_file(mode: str) -> Any:
    path = workdir() / f"text-{mode.replace('+', 'plus')}.txt"
    path.write_text("line one\nline two\nline three\n")
    f = keep(open(path, mode, encoding="utf-8"))  # noqa: SIM115
    if "r" in mode:
        f.readline()
    else:
        f.write("written before\n")
    return f


def _check_text_read(f: Any) -> bool:
    with f:
        return bool(f.readline() == "line two\n")


def _check_text_write(f: Any) -> bool:
    f.write("written after\n")
    name = f.name
    f.close()
    return Path(name).read_text(encoding="utf-8").startswith("written before\nwritten after\n")


def _binary_file() -> Any:
    path = workdir() / "data.bin"
    path.write_bytes(bytes(range(100)))
    f = keep(open(path, "rb"))  # noqa: SIM115
    f.read(10)
    return f


def _check_binary(f: Any) -> bool:
    with f:
        return bool(f.read(3) == bytes([10, 11, 12]))


def _named_tempfile() -> Any:
    f = keep(tempfile.NamedTemporaryFile("w+b", dir=workdir(), delete=False))  # noqa: SIM115
    f.write(b"abcdef")
    f.seek(2)
    return f


def _check_named_tempfile(f: Any) -> bool:
    try:
        return bool(f.read() == b"cdef")
    finally:
        f.close()


def _anonymous_tempfile() -> Any:
    f = keep(tempfile.TemporaryFile("w+b"))  # noqa: SIM115
    f.write(b"0123456789")
    f.seek(4)
    return f


def _check_anonymous_tempfile(f: Any) -> bool:
    with f:
        return bool(f.read() == b"456789")


def _spooled() -> Any:
    f = tempfile.SpooledTemporaryFile(max_size=100)  # noqa: SIM115
    f.write(b"spooled data")
    f.seek(8)
    return f


def _check_spooled(f: Any) -> bool:
    with f:
        return bool(f.read() == b"data")


def _mmap() -> Any:
    m = keep(mmap.mmap(-1, 16))
    m.write(b"hello mmap")
    m.seek(6)
    return m


def _check_mmap(m: Any) -> bool:
    with m:
        return bool(m.read(4) == b"mmap" and m[:5] == b"hello")


def _logger() -> Any:
    logger = logging.getLogger("cucumber.support.case")
    logger.setLevel(logging.WARNING)
    return logger


def _check_logger(logger: Any) -> bool:
    return bool(logger.name == "cucumber.support.case" and logger.level == logging.WARNING)


def _handler_with_formatter() -> Any:
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.ERROR)
    handler.setFormatter(logging.Formatter("%(levelname)s|%(message)s"))
    return handler


def _check_handler(handler: Any) -> bool:
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", None, None)
    return bool(
        handler.level == logging.ERROR
        and handler.stream is sys.stderr
        and handler.format(record) == "ERROR|boom"
    )


def _file_handler() -> Any:
    handler = keep(logging.FileHandler(workdir() / "log.txt", delay=True))
    handler.setFormatter(logging.Formatter("%(message)s"))
    return handler


def _check_file_handler(handler: Any) -> bool:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "to file", None, None)
    handler.emit(record)
    handler.close()
    return Path(handler.baseFilename).read_text().endswith("to file\n")


_LISTENER: socket.socket | None = None


def _connected_socket() -> Any:
    global _LISTENER
    if _LISTENER is None:
        _LISTENER = keep(socket.create_server(("127.0.0.1", 0)))
    client = keep(socket.create_connection(_LISTENER.getsockname(), timeout=30))
    return client


def _check_socket(sock: Any) -> bool:
    sock = live(sock)
    try:
        return bool(isinstance(sock, socket.socket) and sock.getpeername()[0] == "127.0.0.1")
    finally:
        sock.close()


def _pipe_end() -> Any:
    r, w = os.pipe()
    keep(os.fdopen(w, "wb"))
    return keep(os.fdopen(r, "rb"))


def _check_pipe(end: Any) -> bool:
    rc = end
    end = live(end)
    other = getattr(rc, "other_end", None)
    try:
        if other is None:
            return False
        other.write(b"ping")
        other.close()
        return bool(end.read() == b"ping")
    finally:
        end.close()


def _popen() -> Any:
    proc = keep(subprocess.Popen([sys.executable, "-c", "pass"]))
    proc.wait(60)
    return proc


def _check_popen(proc: Any) -> bool:
    args = proc.args
    new = live(proc)
    try:
        return bool(new.wait(60) == 0 and args[-1] == "pass")
    finally:
        if new.poll() is None:
            new.kill()


def _thread() -> Any:
    results: list[int] = []
    return threading.Thread(target=results.append, args=(42,), name="worker-7", daemon=True)


def _check_thread(t: Any) -> bool:
    t = live(t)
    if not isinstance(t, threading.Thread) or t.name != "worker-7":
        return False
    results = t._target.__self__  # type: ignore[attr-defined]
    t.start()
    t.join(30)
    return bool(results == [42] and not t.is_alive())


def _generator() -> Any:
    def gen() -> Any:
        yield from range(5)

    g = gen()
    next(g)
    return g


def _coroutine() -> Any:
    return keep(_double_later(21))


async def _double_later(x: int) -> int:
    await asyncio.sleep(0)
    return 2 * x


def _check_coroutine(coro: Any) -> bool:
    return bool(asyncio.run(coro) == 42)


async def _agen(n: int) -> Any:
    for i in range(n):
        yield i


def _check_agen(agen: Any) -> bool:
    async def collect() -> list[int]:
        return [x async for x in agen]

    return bool(asyncio.run(collect()) == [0, 1, 2])


_VAR: contextvars.ContextVar[int] = contextvars.ContextVar("cucumber_case_var", default=0)


def _contextvar() -> Any:
    var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id")
    var.set("abc-123")
    return var


def _context() -> Any:
    var: contextvars.ContextVar[str] = contextvars.ContextVar("user")
    ctx = contextvars.copy_context()
    ctx.run(var.set, "bob")
    return {"ctx": ctx, "var": var}


def _check_context(d: Any) -> bool:
    return bool(d["ctx"][d["var"]] == "bob")


def _weakref_alive() -> Any:
    target = Point(1, 2)
    return {"target": target, "ref": weakref.ref(target)}


def _weakref_dead() -> Any:
    target = Point(1, 2)
    ref = weakref.ref(target)
    del target
    return ref


def _weak_value_dict() -> Any:
    a, b = Point(1, 1), Point(2, 2)
    wd = weakref.WeakValueDictionary({"a": a, "b": b})
    return {"strong": [a, b], "weak": wd}


def _weak_key_dict() -> Any:
    a = Greeter("key")
    return {"strong": a, "weak": weakref.WeakKeyDictionary({a: 1})}


def _shared_lock() -> Any:
    lock = threading.Lock()
    holder = Greeter("h")
    holder.lock = lock  # type: ignore[attr-defined]
    holder.me = holder  # type: ignore[attr-defined]
    return {"a": lock, "b": [lock], "holder": holder}


def _check_shared_lock(d: Any) -> bool:
    return bool(
        d["a"] is d["b"][0] is d["holder"].lock
        and d["holder"].me is d["holder"]
        and d["a"].acquire(timeout=5)
    )


class TaggedEvent(threading.Event):
    def __init__(self, tag: str) -> None:
        super().__init__()
        self.tag = tag


def _weakset() -> Any:
    a = Greeter("weak")
    return {"strong": a, "weak": weakref.WeakSet([a])}


def _sqlite_file() -> Any:
    import sqlite3

    path = workdir() / "db.sqlite"
    conn = keep(sqlite3.connect(path))
    conn.execute("CREATE TABLE IF NOT EXISTS t (x INTEGER)")
    conn.execute("DELETE FROM t")
    conn.executemany("INSERT INTO t VALUES (?)", [(1,), (2,), (3,)])
    conn.commit()
    return conn


def _sqlite_memory() -> Any:
    import sqlite3

    conn = keep(sqlite3.connect(":memory:"))
    conn.execute("CREATE TABLE fruit (name TEXT, qty INTEGER)")
    conn.executemany("INSERT INTO fruit VALUES (?, ?)", [("apple", 3), ("pear", 5)])
    conn.commit()
    return conn


def _check_sqlite_rows(conn: Any, sql: str, expected: list[Any]) -> bool:
    conn = live(conn)
    try:
        return bool(conn.execute(sql).fetchall() == expected)
    finally:
        conn.close()


def _sqlite_cursor() -> Any:
    conn = _sqlite_memory()
    return {"conn": conn, "cursor": conn.cursor()}


def _check_sqlite_cursor(d: Any) -> bool:
    d = live(d)
    try:
        rows = d["cursor"].execute("SELECT qty FROM fruit ORDER BY qty").fetchall()
        return bool(rows == [(3,), (5,)] and d["cursor"].connection is d["conn"])
    finally:
        d["conn"].close()


def _check_db_reconnector(rc: Any, key: str, host: str) -> bool:
    return bool(
        isinstance(rc, cucumber.DbReconnector)
        and key in rc.auth_keys()
        and rc.params.get("host") == host
        and "password" not in rc.params
    )


def _executor() -> Any:
    return keep(concurrent.futures.ThreadPoolExecutor(max_workers=3, thread_name_prefix="case"))


def _check_executor(ex: Any) -> bool:
    with ex:
        return bool(ex.submit(pow, 2, 10).result(timeout=30) == 1024 and ex._max_workers == 3)


def _process_executor() -> Any:
    return keep(concurrent.futures.ProcessPoolExecutor(max_workers=2))


def _check_process_executor(ex: Any) -> bool:
    ok = bool(isinstance(ex, concurrent.futures.ProcessPoolExecutor) and ex._max_workers == 2)
    ex.shutdown()
    return ok


def _queue(cls: type) -> Any:
    q = cls()
    for item in (3, 1, 2):
        q.put(item)
    return q


def _drain(q: Any) -> list[Any]:
    return [q.get(timeout=5) for _ in range(3)]


def _local() -> Any:
    loc = threading.local()
    loc.user = "alice"
    loc.count = 3
    return loc


def _condition() -> Any:
    lock = threading.Lock()
    return {"lock": lock, "cond": threading.Condition(lock)}


def _check_condition(d: Any) -> bool:
    cond = d["cond"]
    with cond:
        cond.notify_all()
        return bool(d["lock"].locked())


def _semaphore() -> Any:
    sem = threading.Semaphore(3)
    sem.acquire()
    return sem


def _check_semaphore(sem: Any) -> bool:
    got = [sem.acquire(blocking=False) for _ in range(3)]
    return got == [True, True, False]


def _bounded() -> Any:
    sem = threading.BoundedSemaphore(2)
    sem.acquire()
    return sem


def _check_bounded(sem: Any) -> bool:
    sem.release()
    try:
        sem.release()
    except ValueError:
        return True
    return False


def _memoryview_slice() -> Any:
    return memoryview(bytearray(b"abcdef"))[2:5]


def _match() -> Any:
    return re.search(r"(?P<num>\d+)-(\w+)", "id: 42-abc")


def _check_match(m: Any) -> bool:
    m = live(m)
    return bool(
        isinstance(m, re.Match)
        and m.group("num") == "42"
        and m.groups() == ("42", "abc")
        and m.span() == (4, 10)
    )


def _code_object() -> Any:
    return compile("a * 2 + b", "<expr>", "eval")


def _partial() -> Any:
    return functools.partial(lambda a, b: a - b, 10)


def _circular_object() -> Any:
    a = Greeter("a")
    b = Greeter("b")
    a.other = b  # type: ignore[attr-defined]
    b.other = a  # type: ignore[attr-defined]
    return [a, b]


def _shared_refs() -> Any:
    shared = Point(1, 2)
    return {"x": shared, "y": [shared, shared]}


def _exception() -> Any:
    return ValueError("bad value", 42)


def _check_exception(e: Any) -> bool:
    return bool(type(e) is ValueError and e.args == ("bad value", 42))


def _chained_exception() -> Any:
    try:
        try:
            {}["missing"]
        except KeyError as exc:
            raise ValueError("lookup failed") from exc
    except ValueError as exc:
        return exc
    raise AssertionError("unreachable")


def _check_chained(e: Any) -> bool:
    return bool(
        type(e) is ValueError
        and isinstance(e.__cause__, KeyError)
        and e.__cause__.args == ("missing",)
        and e.__suppress_context__
    )


def _completed() -> Any:
    return subprocess.CompletedProcess(["echo", "hi"], 0, stdout=b"hi\n", stderr=b"")


# --------------------------------------------------------------------------- the cases


def _eq(expected: Any) -> Callable[[Any], bool]:
    return lambda restored: bool(restored == expected)


CASES: list[Case] = [
    # plain data
    Case(
        "plain data",
        "dict of ints",
        lambda: {i: i * i for i in range(1000)},
        _eq({i: i * i for i in range(1000)}),
    ),
    Case(
        "plain data",
        "nested containers",
        lambda: {"a": [1, (2, 3), {4, 5}], "b": frozenset({6}), "c": None},
        _eq({"a": [1, (2, 3), {4, 5}], "b": frozenset({6}), "c": None}),
    ),
    Case("plain data", "bytes (1 MB)", lambda: b"\xab" * 1_000_000, _eq(b"\xab" * 1_000_000)),
    Case("plain data", "bytearray", lambda: bytearray(b"mutable"), _eq(bytearray(b"mutable"))),
    Case(
        "plain data",
        "big int, float, complex",
        lambda: (2**200, 1.5, 2 - 3j),
        _eq((2**200, 1.5, 2 - 3j)),
    ),
    Case(
        "plain data", "nan", lambda: float("nan"), lambda r: isinstance(r, float) and math.isnan(r)
    ),
    Case(
        "plain data",
        "Ellipsis and NotImplemented",
        lambda: (..., NotImplemented),
        _eq((..., NotImplemented)),
    ),
    Case(
        "plain data",
        "datetime, Decimal, Fraction",
        lambda: (
            datetime.datetime(2024, 5, 1, 12, 30),
            decimal.Decimal("1.10"),
            fractions.Fraction(1, 3),
        ),
        _eq(
            (
                datetime.datetime(2024, 5, 1, 12, 30),
                decimal.Decimal("1.10"),
                fractions.Fraction(1, 3),
            )
        ),
    ),
    Case(
        "plain data",
        "OrderedDict, defaultdict, deque, Counter",
        lambda: (
            collections.OrderedDict(a=1),
            collections.defaultdict(list, {"k": [1]}),
            collections.deque([1, 2], maxlen=5),
            collections.Counter("aab"),
        ),
        lambda r: (
            r[0] == {"a": 1}
            and r[1]["new"] == []
            and r[2].maxlen == 5
            and list(r[2]) == [1, 2]
            and r[3]["a"] == 2
        ),
    ),
    Case(
        "plain data",
        "range and slice",
        lambda: (range(2, 20, 3), slice(1, 9, 2)),
        _eq((range(2, 20, 3), slice(1, 9, 2))),
    ),
    Case("plain data", "exception", _exception, _check_exception),
    Case(
        "plain data", "exception with its __cause__", _chained_exception, _check_chained, extra=True
    ),
    Case(
        "plain data",
        "circular list",
        lambda: (lambda x: (x.append(x), x)[1])([1]),
        lambda r: r[1] is r,
    ),
    Case(
        "plain data", "shared references", _shared_refs, lambda r: r["x"] is r["y"][0] is r["y"][1]
    ),
    Case(
        "plain data",
        "circular objects",
        _circular_object,
        lambda r: r[0].other is r[1] and r[1].other is r[0],
    ),
    # code
    Case("code", "lambda", lambda: lambda x: x * x, lambda f: f(7) == 49),
    Case("code", "closure with state", _closure_counter, lambda f: f() == 2),
    Case("code", "recursive nested function", _recursive_local, lambda f: f(10) == 55),
    Case(
        "code",
        "function of an exec-created module (Jupyter/__main__-like)",
        lambda: dynamic_module().triple,
        lambda f: f(5) == 15,
    ),
    Case(
        "code",
        "function defined in __main__ (script, notebook)",
        main_function,
        lambda f: f(9) == 4,
    ),
    Case(
        "code",
        "class of an exec-created module, instance keeps methods",
        lambda: dynamic_module().Counter(41),
        lambda c: c.bump() == 42,
    ),
    Case(
        "code",
        "class defined in a function, instance keeps methods",
        _local_class_instance,
        lambda o: o.doubled() == 42,
    ),
    Case(
        "code",
        "module-level dataclass",
        lambda: Point(3, -4),
        lambda p: p == Point(3, -4) and p.norm1() == 7,
    ),
    Case(
        "code",
        "dataclass defined in a function",
        _local_dataclass,
        lambda i: i.label() == "3x pear",
    ),
    Case("code", "__slots__ class", lambda: Slotted(2, 3), lambda s: s.total() == 5),
    Case("code", "bound method", lambda: Greeter("ann").greet, lambda m: m("hi") == "hi ann"),
    Case(
        "code",
        "bound method of a local class",
        lambda: _local_class_instance().doubled,
        lambda m: m() == 42,
    ),
    Case("code", "functools.partial of a lambda", _partial, lambda p: p(3) == 7),
    Case(
        "code",
        "staticmethod object",
        lambda: Greeter.__dict__["shout"],
        lambda s: s.__func__("x") == "X",
    ),
    Case(
        "code",
        "classmethod object",
        lambda: Greeter.__dict__["make"],
        lambda c: c.__func__(Greeter, "z").name == "z",
    ),
    Case(
        "code",
        "property object",
        lambda: property(lambda self: self.name.upper()),
        lambda p: p.fget(Greeter("amy")) == "AMY",
    ),
    Case("code", "code object", _code_object, lambda c: eval(c, {"a": 4, "b": 1}) == 9),
    Case("code", "module (by reference)", lambda: json, lambda m: m.dumps([1]) == "[1]"),
    Case(
        "code",
        "enum member and class",
        lambda: (Color.GREEN, Color),
        lambda r: r[0] is r[1].GREEN and r[0].value == 2,
    ),
    Case("code", "enum class defined in a function", _local_enum, lambda e: e("s").name == "SAD"),
    Case(
        "code",
        "NamedTuple class and instance",
        lambda: (Pair, Pair(1, 2)),
        lambda r: r[1].right == 2 and r[0](3, 4).left == 3,
    ),
    Case(
        "code",
        "namedtuple defined in a function",
        _local_namedtuple,
        lambda r: r.b == 2 and r._fields == ("a", "b"),
    ),
    Case(
        "code",
        "TypedDict class",
        lambda: Movie,
        lambda m: m.__annotations__.keys() == {"title", "year"},
    ),
    Case(
        "code",
        "TypedDict class defined in a function",
        _local_typeddict,
        lambda c: "host" in typing.get_type_hints(c),
    ),
    Case(
        "code",
        "builtin function and method descriptor",
        lambda: (len, str.upper),
        lambda r: r[0]("abc") == 3 and r[1]("a") == "A",
    ),
    # concurrency
    Case(
        "concurrency",
        "threading.Lock (locked)",
        lambda: (lambda lk: (lk.acquire(), lk)[1])(threading.Lock()),
        lambda lk: lk.locked() and not lk.acquire(blocking=False),
        extra=True,
    ),
    Case(
        "concurrency",
        "threading.Lock (free) can be acquired",
        threading.Lock,
        lambda lk: lk.acquire(timeout=5),
        extra=True,
    ),
    Case(
        "concurrency",
        "threading.RLock",
        threading.RLock,
        lambda lk: lk.acquire(timeout=5) and lk.acquire(timeout=5),
        extra=True,
    ),
    Case(
        "concurrency",
        "threading.Semaphore keeps its counter",
        _semaphore,
        _check_semaphore,
        extra=True,
    ),
    Case(
        "concurrency",
        "threading.BoundedSemaphore keeps its bound",
        _bounded,
        _check_bounded,
        extra=True,
    ),
    Case(
        "concurrency",
        "threading.Condition shares its lock",
        _condition,
        _check_condition,
        extra=True,
    ),
    Case(
        "concurrency",
        "threading.Event stays set",
        lambda: (lambda e: (e.set(), e)[1])(threading.Event()),
        lambda e: e.is_set() and e.wait(1),
        extra=True,
    ),
    Case(
        "concurrency",
        "threading.Barrier",
        lambda: threading.Barrier(1, timeout=5),
        lambda b: b.parties == 1 and b.wait() == 0,
        extra=True,
    ),
    Case(
        "concurrency",
        "queue.Queue keeps items in order",
        lambda: _queue(queue.Queue),
        lambda q: _drain(q) == [3, 1, 2],
        extra=True,
    ),
    Case(
        "concurrency",
        "queue.LifoQueue",
        lambda: _queue(queue.LifoQueue),
        lambda q: _drain(q) == [2, 1, 3],
        extra=True,
    ),
    Case(
        "concurrency",
        "queue.PriorityQueue",
        lambda: _queue(queue.PriorityQueue),
        lambda q: _drain(q) == [1, 2, 3],
        extra=True,
    ),
    Case(
        "concurrency",
        "queue.SimpleQueue",
        lambda: _queue(queue.SimpleQueue),
        lambda q: _drain(q) == [3, 1, 2],
        extra=True,
    ),
    Case(
        "concurrency",
        "threading.local",
        _local,
        lambda loc: loc.user == "alice" and loc.count == 3,
        extra=True,
    ),
    Case(
        "concurrency", "threading.Thread -> ThreadReconnector", _thread, _check_thread, extra=True
    ),
    Case("concurrency", "ThreadPoolExecutor (same config)", _executor, _check_executor, extra=True),
    Case(
        "concurrency",
        "ProcessPoolExecutor (same config)",
        _process_executor,
        _check_process_executor,
        extra=True,
    ),
    # I/O
    Case(
        "I/O",
        "text file for reading (position)",
        lambda: _text_file("r"),
        _check_text_read,
        extra=True,
    ),
    Case(
        "I/O",
        "text file for writing (position, no truncation)",
        lambda: _text_file("w"),
        _check_text_write,
        extra=True,
    ),
    Case("I/O", "binary file (position)", _binary_file, _check_binary, extra=True),
    Case(
        "I/O",
        "io.StringIO (content and position)",
        lambda: (lambda s: (s.seek(3), s)[1])(io.StringIO("abcdef")),
        lambda s: s.read() == "def",
    ),
    Case(
        "I/O",
        "io.BytesIO (content and position)",
        lambda: (lambda s: (s.seek(2), s)[1])(io.BytesIO(b"abcd")),
        lambda s: s.read() == b"cd",
    ),
    Case("I/O", "NamedTemporaryFile", _named_tempfile, _check_named_tempfile, extra=True),
    Case(
        "I/O",
        "TemporaryFile (no path: contents carried)",
        _anonymous_tempfile,
        _check_anonymous_tempfile,
        extra=True,
    ),
    Case("I/O", "SpooledTemporaryFile", _spooled, _check_spooled, extra=True),
    Case("I/O", "mmap (anonymous)", _mmap, _check_mmap, extra=True),
    Case(
        "I/O",
        "memoryview",
        lambda: memoryview(b"abcdef"),
        lambda m: isinstance(m, memoryview) and m.tobytes() == b"abcdef",
        extra=True,
    ),
    Case(
        "I/O",
        "memoryview slice of a bytearray",
        _memoryview_slice,
        lambda m: isinstance(m, memoryview) and m.tobytes() == b"cde",
        extra=True,
    ),
    Case("I/O", "logging.Logger (name and level)", _logger, _check_logger),
    Case(
        "I/O",
        "logging.StreamHandler with Formatter",
        _handler_with_formatter,
        _check_handler,
        extra=True,
    ),
    Case("I/O", "logging.FileHandler", _file_handler, _check_file_handler, extra=True),
    Case("I/O", "socket.socket -> SocketReconnector", _connected_socket, _check_socket, extra=True),
    Case("I/O", "os.pipe end -> PipeReconnector", _pipe_end, _check_pipe, extra=True),
    Case("I/O", "subprocess.Popen -> SubprocessReconnector", _popen, _check_popen, extra=True),
    Case(
        "I/O",
        "subprocess.CompletedProcess",
        _completed,
        lambda c: c.returncode == 0 and c.stdout == b"hi\n",
    ),
    # data and runtime
    Case(
        "runtime",
        "generator (remaining values)",
        _generator,
        lambda g: list(g) == [1, 2, 3, 4],
        extra=True,
    ),
    Case(
        "runtime",
        "enumerate",
        lambda: (lambda e: (next(e), e)[1])(enumerate("abc")),
        lambda e: list(e) == [(1, "b"), (2, "c")],
    ),
    Case("runtime", "zip", lambda: zip([1, 2], "ab"), lambda z: list(z) == [(1, "a"), (2, "b")]),  # noqa: B905
    Case(
        "runtime",
        "map with a lambda",
        lambda: map(lambda x: x + 1, [1, 2]),  # noqa: C417
        lambda m: list(m) == [2, 3],
    ),
    Case(
        "runtime",
        "filter over a generator",
        lambda: filter(None, (x % 3 for x in range(6))),
        lambda f: list(f) == [1, 2, 1, 2],
        extra=True,
    ),
    Case("runtime", "reversed", lambda: reversed([1, 2, 3]), lambda r: list(r) == [3, 2, 1]),
    Case(
        "runtime",
        "itertools.chain",
        lambda: itertools.chain([1], [2, 3]),
        lambda c: list(c) == [1, 2, 3],
    ),
    Case(
        "runtime",
        "itertools.count",
        lambda: (lambda c: (next(c), c)[1])(itertools.count(10, 5)),
        lambda c: next(c) == 15,
    ),
    Case(
        "runtime",
        "list iterator",
        lambda: (lambda i: (next(i), i)[1])(iter([1, 2, 3])),
        lambda i: list(i) == [2, 3],
    ),
    Case(
        "runtime",
        "re.Pattern",
        lambda: re.compile(r"a+b", re.I),
        lambda p: p.match("AAB") is not None,
    ),
    Case("runtime", "re.Match -> MatchReconnector", _match, _check_match, extra=True),
    Case(
        "runtime",
        "contextvars.ContextVar (name and value)",
        _contextvar,
        lambda v: v.name == "request_id" and v.get() == "abc-123",
        extra=True,
    ),
    Case("runtime", "contextvars.Context", _context, _check_context, extra=True),
    Case(
        "runtime",
        "weakref.ref (referent in the payload)",
        _weakref_alive,
        lambda d: d["ref"]() is d["target"],
        extra=True,
    ),
    Case(
        "runtime",
        "dead weakref -> DeadReference",
        _weakref_dead,
        lambda r: callable(r) and r() is None,
        extra=True,
    ),
    Case(
        "runtime",
        "WeakValueDictionary",
        _weak_value_dict,
        lambda d: d["weak"]["b"] is d["strong"][1],
        extra=True,
    ),
    Case(
        "runtime",
        "WeakKeyDictionary",
        _weak_key_dict,
        lambda d: d["weak"][d["strong"]] == 1,
        extra=True,
    ),
    Case(
        "concurrency",
        "a lock shared by several parts and a self-referencing holder",
        _shared_lock,
        _check_shared_lock,
        extra=True,
    ),
    Case(
        "concurrency",
        "threading.Event subclass keeps its attributes",
        lambda: (lambda e: (e.set(), e)[1])(TaggedEvent("t1")),
        lambda e: type(e).__name__ == "TaggedEvent" and e.is_set() and e.tag == "t1",
        extra=True,
    ),
    Case("runtime", "WeakSet", _weakset, lambda d: d["strong"] in d["weak"]),
    Case("runtime", "coroutine (not started)", _coroutine, _check_coroutine, extra=True),
    Case("runtime", "async generator (not started)", lambda: _agen(3), _check_agen, extra=True),
    # databases
    Case(
        "databases",
        "sqlite3 file database",
        _sqlite_file,
        lambda c: _check_sqlite_rows(c, "SELECT x FROM t ORDER BY x", [(1,), (2,), (3,)]),
        extra=True,
    ),
    Case(
        "databases",
        "sqlite3 :memory: keeps its rows",
        _sqlite_memory,
        lambda c: _check_sqlite_rows(
            c, "SELECT name, qty FROM fruit ORDER BY name", [("apple", 3), ("pear", 5)]
        ),
        extra=True,
    ),
    Case("databases", "sqlite3 cursor", _sqlite_cursor, _check_sqlite_cursor, extra=True),
    Case(
        "databases",
        "psycopg2 connection (fake) -> DbReconnector",
        FakePsycopg2Connection,
        lambda r: _check_db_reconnector(r, "psycopg2.Connection", "db.example"),
        extra=True,
    ),
    Case(
        "databases",
        "redis client (fake) -> DbReconnector",
        FakeRedis,
        lambda r: _check_db_reconnector(r, "redis.Redis", "cache.example"),
        extra=True,
    ),
]


# --------------------------------------------------------------------------- running cases


def by_name() -> dict[str, Case]:
    """The cases keyed by name."""
    return {case.name: case for case in CASES}


def loads_with(serializer: str, data: bytes) -> Any:
    """Load ``data`` with the named serializer (in the receiving process)."""
    if serializer == "cucumber":
        return cucumber.deserialize(data)
    if serializer == "dill":
        import dill

        return dill.loads(data)
    return pickle.loads(data)


def check_all(serializer: str, payloads: list[tuple[str, bytes]]) -> list[tuple[str, str, str]]:
    """Run in the receiver: load each payload and run its check.

    Returns ``(case name, status, detail)`` with status ``ok``, ``load`` (loading failed) or
    ``behaviour`` (the check failed or raised).
    """
    cases = by_name()
    out: list[tuple[str, str, str]] = []
    for name, data in payloads:
        try:
            restored = loads_with(serializer, data)
        except Exception as exc:
            out.append((name, "load", f"{type(exc).__name__}: {str(exc)[:200]}"))
            continue
        try:
            ok = bool(cases[name].check(restored))
            out.append((name, "ok" if ok else "behaviour", "" if ok else "check returned False"))
        except Exception as exc:
            out.append((name, "behaviour", f"{type(exc).__name__}: {str(exc)[:200]}"))
    return out


def check_each_to_pipe(conn: Any, serializer: str, payloads: list[tuple[str, bytes]]) -> None:
    """Process target: check the payloads one by one, sending ``(name, status, detail)`` after
    each (so a case that hangs costs only itself), then ``None``."""
    try:
        for item in payloads:
            conn.send(check_all(serializer, [item])[0])
        conn.send(None)
    finally:
        conn.close()
