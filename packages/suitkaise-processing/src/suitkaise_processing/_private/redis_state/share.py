"""A Share whose attributes live in a Redis server: ``Share(backend="redis://host:port/db", name=...)``.

Processes anywhere that open the same server and name see the same attributes, with the promises of
the local Share: ``+=`` exact, container mutations and method calls atomic with their real results,
reads that include the process's own writes (every write has returned before the next statement).

Keys, for a Share named N (the braces keep them in one Redis Cluster slot)::

    sk:share:{N}:names     set: the attribute names
    sk:share:{N}:a:<attr>  string: the value, one of
                           - an int in the signed 64-bit range: its decimal text (INCRBY works on it)
                           - a float: its text, which always holds ".", "e" or "n" (1.0, 1e+20, inf,
                             nan; INCRBYFLOAT works on it)
                           - any other value: serialized by cucumber (starts with b"CUKE")

How each access runs (one round trip each, except the retries of the last one):

- read: ``GET``; except the read of ``share.x += ...`` (recognised from the caller's bytecode,
  as the local Share does) when this process last saw a number in ``x``: its value only carries the
  operation to the assignment, so it is not fetched (if the operand turns out not to suit a number,
  the attribute is read after all and the operation applied to what it holds now);
- ``share.x = value``: ``MULTI``/``EXEC`` of ``SET`` and ``SADD``; ``del share.x``: a Lua script;
- ``share.x += n`` / ``-= n`` on a number: a Lua script doing ``INCRBY`` (int + int) or
  ``INCRBYFLOAT`` (anything with a float; a result without ".", "e" or "n" gets ".0"), atomic on
  the server; an int result outside 64 bits, inf or nan takes the next path;
- every other change (container mutations, method calls, other in-place operators, changes inside a
  value): ``WATCH`` the attribute, read and decode it, apply the command with the coordinator's own
  code (:meth:`coordinator.Core.apply`), write it back in ``MULTI``/``EXEC``; retried when another
  client changed the attribute in between, so no update is lost;
- ``clear()``: a Lua script deleting every key of the Share.

A command whose connection fails raises ``ShareError`` and is never retried silently (it may or may
not have been applied); the next access connects again.
"""

from __future__ import annotations

import operator
import sys
import threading
import urllib.parse
from typing import TYPE_CHECKING, Any

from suitkaise_processing._private.errors import ShareError
from suitkaise_processing._private.redis_state.connection import (
    DEFAULT_TIMEOUT,
    check_timeout,
    client_for,
    failure_types,
)
from suitkaise_processing._private.share.client import augmented_attribute
from suitkaise_processing._private.share.coordinator import Core
from suitkaise_processing._private.share.kinds import check_supported, kind_of
from suitkaise_processing._private.share.layout import KIND_FLOAT, KIND_INT
from suitkaise_processing._private.share.protocol import OP_CLEAR, OP_DEL, OP_IOP, OP_SET, Path
from suitkaise_processing._private.share.proxies import (
    FloatView,
    IntView,
    _plain,
    is_same_proxy,
    make_view,
    pending_op,
    wrap_kind,
)
from suitkaise_processing._private.share.share import _OWN_NAMES, Share

if TYPE_CHECKING:
    import redis

_LOW, _HIGH = -(2**63), 2**63 - 1
_NUMBER_TYPES = (int, float)

# KEYS: attribute; ARGV: delta, "i" (an int delta) or "f" -> 1 applied, 0 not a plain number here
_ADD = """
local v = redis.call('get', KEYS[1])
if not v or string.sub(v, 1, 4) == 'CUKE' then return 0 end
if ARGV[2] == 'i' and not string.find(v, '[.eEn]') then
  local r = redis.pcall('incrby', KEYS[1], ARGV[1])
  if type(r) == 'table' and r.err then return 0 end
  return 1
end
local r = redis.pcall('incrbyfloat', KEYS[1], ARGV[1])
if type(r) == 'table' and r.err then return 0 end
if not string.find(r, '[.eEn]') then redis.call('set', KEYS[1], r .. '.0') end
return 1
"""
# KEYS: attribute, names; ARGV: name -> 1 deleted, 0 no such attribute
_DELETE = """
if redis.call('del', KEYS[1]) == 0 then return 0 end
redis.call('srem', KEYS[2], ARGV[1])
return 1
"""
# KEYS: names; ARGV: attribute key prefix. The attribute keys are derived from the names (all in
# the Share's hash slot).
_CLEAR = """
for _, name in ipairs(redis.call('smembers', KEYS[1])) do
  redis.call('del', ARGV[1] .. name)
end
redis.call('del', KEYS[1])
return 0
"""


def _encode(value: Any) -> bytes | str:
    """The string that stores ``value`` (see the module docstring)."""
    t = type(value)
    if t is int and _LOW <= value <= _HIGH:
        return str(value)
    if t is float:
        return repr(value)
    import cucumber

    return cucumber.serialize(value)


def _decode(raw: Any) -> Any:
    """The value stored as ``raw`` (bytes, as redis-py returns them)."""
    if raw[:4] == b"CUKE":
        import cucumber

        return cucumber.deserialize(raw)
    try:
        return int(raw)
    except ValueError:
        return float(raw)


def _url_of(client: redis.Redis) -> str:
    """A URL that reaches the server ``client`` talks to (for pickling a Share made from a client)."""
    kw = client.connection_pool.connection_kwargs
    user = urllib.parse.quote(kw.get("username") or "", safe="")
    password = urllib.parse.quote(kw.get("password") or "", safe="")
    auth = f"{user}:{password}@" if user or password else ""
    if kw.get("path"):
        return f"unix://{auth}{kw['path']}?db={kw.get('db', 0)}"
    return f"redis://{auth}{kw.get('host', 'localhost')}:{kw.get('port', 6379)}/{kw.get('db', 0)}"


def _unfetched(base: type) -> type:
    """A view class for the unfetched read of ``share.x += ...``: its in-place operators act as
    ``base``'s, and when the operand does not suit a number they read the attribute and apply the
    operator to the value it holds now."""

    def method(opname: str) -> Any:
        inplace = getattr(base, f"__{opname}__")
        apply = getattr(operator, opname)

        def run(self: Any, other: Any) -> Any:
            try:
                return inplace(self, other)
            except TypeError:
                router, name = self._sk_fetch
                return apply(router.get(name), other)

        run.__name__ = f"__{opname}__"
        return run

    names = [n[2:-2] for n in vars(base) if n.startswith("__i") and n.endswith("__")]
    return type(f"Unfetched{base.__name__}", (base,), {f"__{n}__": method(n) for n in names})


_UNFETCHED = {KIND_INT: _unfetched(IntView), KIND_FLOAT: _unfetched(FloatView)}


class _RedisRouter:
    """Where the proxies of a Share on Redis send their reads and commands (see ``proxies.Router``)."""

    __slots__ = (
        "_add",
        "_clear",
        "_delete",
        "client",
        "key",
        "names_key",
        "numbers",
        "prefix",
        "scratch",
        "share_id",
        "timeout",
        "url",
    )

    def __init__(self, url: str, name: str, timeout: float, client: redis.Redis | None) -> None:
        self.url = url
        self.timeout = timeout
        self.client: redis.Redis = client if client is not None else client_for(url, timeout)
        self.key = f"sk:share:{{{name}}}"
        self.prefix = self.key + ":a:"
        self.names_key = self.key + ":names"
        self.share_id = f"redis|{url}|{name}"
        self._add = self.client.register_script(_ADD)
        self._delete = self.client.register_script(_DELETE)
        self._clear = self.client.register_script(_CLEAR)
        # per thread: a Core applies commands to a decoded value, as the coordinator does
        self.scratch = threading.local()
        # attribute -> (kind, value) of the numbers this process last read or wrote
        self.numbers: dict[str, tuple[int, Any]] = {}

    def _sk_id(self) -> str:
        return self.share_id

    def failed(self, exc: Exception) -> ShareError:
        return ShareError(
            f"the Redis server at {self.url} behind this Share could not be reached or did not "
            f"answer in time ({type(exc).__name__}: {exc}); a write that raised this may or may "
            "not have been applied. Check that the server runs and is reachable (or raise "
            "timeout=); the next access connects again"
        )

    def _sk_read(self, name: str, wait: bool = True) -> Any:
        try:
            raw = self.client.get(self.prefix + name)
        except failure_types() as exc:
            raise self.failed(exc) from exc
        if raw is None:
            self.numbers.pop(name, None)
            raise AttributeError(f"the Share has no attribute {name!r}")
        return _decode(raw)

    def _sk_names(self) -> list[str]:
        try:
            names = self.client.smembers(self.names_key)
        except failure_types() as exc:
            raise self.failed(exc) from exc
        return sorted(n.decode() for n in names)  # type: ignore[union-attr]

    def _sk_post(self, op: str, name: str, path: Path, args: tuple[Any, ...]) -> None:
        self._sk_call(op, name, path, args)

    def _sk_call(self, op: str, name: str, path: Path, args: tuple[Any, ...]) -> Any:
        try:
            return self._run(op, name, path, args)
        except failure_types() as exc:
            raise self.failed(exc) from exc

    def _run(self, op: str, name: str, path: Path, args: tuple[Any, ...]) -> Any:
        key = self.prefix + name
        if not path:
            if op == OP_SET:
                self._remember(name, args[0])
                stored = _encode(args[0])
                with self.client.pipeline() as pipe:
                    pipe.set(key, stored)
                    pipe.sadd(self.names_key, name)
                    pipe.execute()
                return None
            if op == OP_DEL:
                self.numbers.pop(name, None)
                if not self._delete(keys=[key, self.names_key], args=[name]):
                    raise AttributeError(f"the Share has no attribute {name!r}")
                return None
            if op == OP_CLEAR:
                self.numbers.clear()
                self._clear(keys=[self.names_key], args=[self.prefix])
                return None
            if op == OP_IOP and args[0] in ("iadd", "isub") and type(args[1]) in _NUMBER_TYPES:
                delta = args[1] if args[0] == "iadd" else -args[1]
                if type(delta) is float:
                    if self._add(keys=[key], args=[repr(delta), "f"]):
                        return None
                elif _LOW <= delta <= _HIGH and self._add(keys=[key], args=[delta, "i"]):
                    return None
        return self._transaction(key, op, name, path, args)

    def _transaction(self, key: str, op: str, name: str, path: Path, args: tuple[Any, ...]) -> Any:
        import redis

        scratch: Core | None = getattr(self.scratch, "core", None)
        if scratch is None:
            scratch = self.scratch.core = Core(self.share_id)
        with self.client.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)  # type: ignore[no-untyped-call]
                    raw = pipe.get(key)
                    if raw is None:
                        raise AttributeError(f"the Share has no attribute {name!r}")
                    scratch.values[name] = _decode(raw)
                    try:
                        result = scratch.apply(op, name, path, args)
                        stored = _encode(scratch.values[name])
                    finally:
                        scratch.values.clear()
                        scratch.dirty.clear()
                        scratch.slot_of.clear()
                    pipe.multi()
                    pipe.set(key, stored)
                    pipe.execute()
                    return result
                except redis.WatchError:
                    continue  # another client changed the attribute: apply to its new value

    def _remember(self, name: str, value: Any) -> None:
        kind = kind_of(value)
        if kind in _UNFETCHED:
            self.numbers[name] = (kind, value)
        else:
            self.numbers.pop(name, None)

    def get(self, name: str) -> Any:
        """``share.<name>``: a view, a proxy or the value."""
        value = self._sk_read(name)
        self._remember(name, value)
        return wrap_kind(self, name, (), kind_of(value), value)

    def get_for_update(self, name: str) -> Any:
        """``share.<name>`` read by ``share.<name> += ...``: unfetched when it held a number here."""
        known = self.numbers.get(name)
        if known is None:
            return self.get(name)
        kind, value = known
        view = make_view(value, (self.share_id, name, ()))
        view.__class__ = _UNFETCHED[kind]
        view._sk_fetch = (self, name)
        return view


def _rebuild(url: str, name: str, timeout: float) -> Share:
    return Share(backend=url, name=name, timeout=timeout)


class RedisShare(Share):
    """The Share that ``Share(backend=..., name=...)`` returns: the same API, state in Redis.

    ``start()``, ``stop()`` and ``with`` blocks change nothing (there is no coordinator: the server
    holds the state, and it stays there until ``clear()``).
    """

    def __init__(
        self,
        *,
        backend: str | redis.Redis,
        name: str = "",
        timeout: float = DEFAULT_TIMEOUT,
        auto_start: bool = True,
    ) -> None:
        if not isinstance(name, str) or not name or "\0" in name:
            raise ValueError(
                f"a Share on Redis needs name=: a non-empty str (its keys are sk:share:{{name}}:...), "
                f"got {name!r}"
            )
        timeout = check_timeout(timeout)
        if isinstance(backend, str):
            router = _RedisRouter(backend, name, timeout, None)
        else:
            if backend.connection_pool.connection_kwargs.get("decode_responses"):
                raise ValueError(
                    "a Share stores bytes: pass a redis.Redis made without decode_responses=True "
                    "(or the URL)"
                )
            router = _RedisRouter(_url_of(backend), name, timeout, backend)
        object.__setattr__(self, "_sk_router", router)
        object.__setattr__(self, "_sk_name", name)

    def _sk_id(self) -> str:
        router: _RedisRouter = object.__getattribute__(self, "_sk_router")
        return router.share_id

    def __getattribute__(self, name: str) -> Any:
        if name in _OWN_NAMES or name[0] == "_":
            return object.__getattribute__(self, name)
        router: _RedisRouter = object.__getattribute__(self, "_sk_router")
        if augmented_attribute(sys._getframe(1)):
            return router.get_for_update(name)
        return router.get(name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith(("__", "_sk_")):
            raise AttributeError(
                f"{name!r} is reserved; Share attributes cannot start with '__' or '_sk_'"
            )
        if name in _OWN_NAMES:
            raise AttributeError(
                f"{name!r} is a method or property of Share; store the value under another name"
            )
        router: _RedisRouter = self._sk_router  # type: ignore[assignment]
        origin = (router.share_id, name, ())
        op = pending_op(value, origin)
        if op is not None:
            router._sk_call(OP_IOP, name, (), op)
            return
        if is_same_proxy(value, origin):
            return  # share.items += [...] already sent the extend
        value = _plain(value)
        check_supported(name, value)
        router._sk_call(OP_SET, name, (), (value,))

    def __reduce__(self) -> tuple[Any, ...]:
        router: _RedisRouter = self._sk_router  # type: ignore[assignment]
        return (_rebuild, (router.url, self._sk_name, router.timeout))

    def start(self) -> None:
        """Nothing to start: the Redis server holds the state."""

    def stop(self, timeout: float = 5.0) -> bool:
        """Nothing to stop (returns ``True``): the state stays on the server until ``clear()``."""
        return True

    @property
    def is_running(self) -> bool:
        """Whether the Redis server answers."""
        router: _RedisRouter = self._sk_router  # type: ignore[assignment]
        try:
            return bool(router.client.ping())
        except failure_types():
            return False

    @property
    def has_error(self) -> bool:
        """Whether the Redis server cannot be reached now."""
        return not self.is_running

    def __enter__(self) -> Share:
        return self

    def __exit__(self, *exc: object) -> None:
        return None
