"""``Share``: attributes shared by every process that holds the object."""

from __future__ import annotations

import os
import secrets
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import warnings
import weakref
from multiprocessing import resource_tracker
from typing import Any

import suitkaise_processing._private.share.coordinator as coordinator
import suitkaise_processing._private.share.segment as segment
from suitkaise_processing._private.errors import ShareError
from suitkaise_processing._private.share.client import Client, ShareInfo
from suitkaise_processing._private.share.kinds import check_supported, is_reconnector, kind_of
from suitkaise_processing._private.share.layout import (
    CONTROL_SIZE,
    D_SEQ,
    H_MAGIC,
    H_OWNER_PID,
    H_STATUS,
    MAGIC,
    MAX_SLOTS,
    S_APPLIED,
    S_IN_USE,
    S_QUEUED,
    S_SEG_GEN,
    STATUS_ERROR,
    STATUS_RESTARTING,
    STATUS_RUNNING,
    STATUS_STARTING,
    STATUS_STOPPED,
    control_name,
    data_name,
    data_prefix,
    slot_word,
)
from suitkaise_processing._private.share.protocol import (
    OP_CLEAR,
    OP_DEL,
    OP_IOP,
    OP_SET,
    OP_STOP,
    Path,
)
from suitkaise_processing._private.share.proxies import (
    _plain,
    is_same_proxy,
    pending_op,
    wrap_kind,
)
from suitkaise_processing._private.wire import decode, encode

_START_TIMEOUT = 60.0
_D_SEQ = D_SEQ
_S_APPLIED = S_APPLIED
_S_QUEUED = S_QUEUED
_S_SEG_GEN = S_SEG_GEN
_monotonic = time.monotonic
# The coordinator imports only what it needs: the package's __init__ (Pool, Skprocess, ...) runs only if
# something asks the package for a name (a stored value's module doing ``from suitkaise_processing import
# Share``), which halves its start time and keeps it independent of the other parts of the package.
_ENTRY = """
import importlib.util, sys, types
spec = importlib.util.find_spec("suitkaise_processing")
if spec is not None and spec.loader is not None and spec.submodule_search_locations:
    package = types.ModuleType("suitkaise_processing")
    package.__path__ = list(spec.submodule_search_locations)
    package.__spec__ = spec
    package.__file__ = spec.origin
    package.__loader__ = spec.loader

    def _load_package(name):
        del package.__getattr__
        spec.loader.exec_module(package)
        return getattr(package, name)

    package.__getattr__ = _load_package
    sys.modules["suitkaise_processing"] = package
from suitkaise_processing._private.share.coordinator import entry
entry()
"""
_clients_lock = threading.Lock()
_pid = [os.getpid()]  # this process's pid, refreshed in forked children (cheaper than os.getpid())


def _after_fork() -> None:
    _pid[0] = os.getpid()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)
_clients: dict[str, Client] = {}  # this process's live link to each Share it uses, by share id


def _usable(client: Client | None, info: ShareInfo) -> bool:
    """Whether ``client`` is this process's live client of ``info`` (not dead, its Share not stopped)."""
    return (
        client is not None
        and client.pid == _pid[0]
        and client.info == info
        and client.dead is None
        and client.w[H_STATUS] != STATUS_STOPPED
    )


def _client_for(info: ShareInfo) -> Client:
    """This process's client of the Share ``info`` describes (created on first use).

    A client whose coordinator is gone (its error was raised already) is replaced on the next use, so
    handles follow a ``stop()``/``start()`` of the Share (``ShareError`` while it is stopped).
    """
    client = _clients.get(info.share_id)
    if _usable(client, info):
        assert client is not None
        return client
    with _clients_lock:
        client = _clients.get(info.share_id)
        if _usable(client, info):
            assert client is not None
            return client
        if client is not None and client.pid == _pid[0] and not client.owned:
            client.close()  # (the owner's own client is closed by the owner, after rescuing values)
        client = Client(info)
        _clients[info.share_id] = client
        return client


_MAX_RESTARTS = 20  # coordinator restarts within _RESTART_WINDOW seconds before the owner gives up
_RESTART_WINDOW = 10.0


class _Owner:
    """What only the creating process holds: the coordinator process and the saved state.

    Kept apart from the ``Share`` so a finalizer can clean up without keeping the Share alive. A
    watchdog thread waits on the coordinator process; if it dies while the Share runs, it starts a new
    one that continues from the state in shared memory (the clients reconnect and resend).
    """

    def __init__(self, info: ShareInfo, tmpdir: str) -> None:
        self.info = info
        self.tmpdir = tmpdir
        self.pid = os.getpid()
        self.lock = threading.RLock()
        self.proc: Any = None
        self.client: Client | None = None
        self.control: segment.Segment | None = None
        self.lifeline: Any = None
        self.running = False
        self.stopping = False
        self.error = False
        self.restarts: list[float] = []  # when recent restarts happened
        self.restarted = threading.Condition(self.lock)  # notified after each restart
        self.restart_count = 0
        # the state while stopped: changes made then apply here and reach the others at start()
        self.local = coordinator.Core(info.share_id)

    def start(self) -> None:
        with self.lock:
            if self.running:
                return
            info = self.info
            os.makedirs(self.tmpdir, mode=0o700, exist_ok=True)
            os.close(os.open(info.lock_path, os.O_CREAT | os.O_RDWR, 0o600))
            name = control_name(info.share_id)
            segment.unlink(name)
            self.control = segment.Segment.create(name, CONTROL_SIZE)
            words = self.control.buf.cast("Q")
            words[H_MAGIC] = MAGIC
            words[H_STATUS] = STATUS_STARTING
            words[H_OWNER_PID] = os.getpid()
            words.release()
            try:
                status, detail = self._spawn(bytes(encode((self.local.values, []))), recover=False)
            except BaseException:
                self._cleanup()
                raise
            if status != "ready":
                self._end_process(join_timeout=1.0)
                self._cleanup()
                raise ShareError(f"the Share's coordinator could not start: {detail}")
            try:
                self.client = Client(info)
                self.client.owned = True
            except BaseException:
                self._end_process()
                self._cleanup()
                raise
            with _clients_lock:
                _clients[info.share_id] = self.client
            self.local = coordinator.Core(info.share_id)
            self.running = True
            self.stopping = False
            self.error = False
            self.restarts = []
            threading.Thread(
                target=self._watch, args=(self.proc,), name="sk-share-owner", daemon=True
            ).start()

    def _spawn(self, seed: bytes, *, recover: bool) -> tuple[str, str]:
        """Start a coordinator process; return its answer (``("ready", "")`` or an error)."""
        info = self.info
        life_r, life_w = os.pipe()
        # the coordinator registers its segments with our resource tracker
        tracker_fd: int = resource_tracker.getfd()  # type: ignore[assignment]
        config = {
            "tracker_fd": tracker_fd,
            "share_id": info.share_id,
            "address": info.address,
            "authkey": info.authkey,
            "lifeline_fd": life_r,
            "sys_path": [p for p in sys.path if isinstance(p, str)],
            "seed": seed,
            "recover": recover,
        }
        try:
            env = dict(os.environ)
            # the coordinator finds our packages (and the modules of stored values) where we do
            env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if isinstance(p, str) and p)
            proc = subprocess.Popen(
                [sys.executable, "-c", _ENTRY],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                pass_fds=(life_r, tracker_fd),
                close_fds=True,
                env=env,
            )
        except BaseException:
            os.close(life_r)
            os.close(life_w)
            raise
        os.close(life_r)
        if self.lifeline is not None:
            os.close(self.lifeline)  # (the previous, dead coordinator's)
        self.proc = proc
        self.lifeline = life_w
        return self._handshake(bytes(encode(config)))

    def _watch(self, proc: Any) -> None:
        """Thread: restart the coordinator whenever it dies while the Share runs."""
        while True:
            proc.wait()
            while not self.lock.acquire(timeout=0.05):
                if self.stopping:
                    return
            try:
                if self.stopping or self.proc is not proc or not self.running:
                    return
                if not self._restart():
                    return
                proc = self.proc
            finally:
                self.lock.release()

    def _mark(self, status: int) -> None:
        control = self.control
        if control is None:
            return
        try:
            words = control.buf.cast("Q")
        except ValueError:
            return
        words[H_STATUS] = status
        words.release()

    def _restart(self) -> bool:
        """Start a coordinator that continues from shared memory (lock held); ``False``: gave up.

        One killed by a signal while it starts is started again, within the same budget."""
        self._mark(STATUS_RESTARTING)
        while True:
            now = time.monotonic()
            self.restarts = [t for t in self.restarts if now - t < _RESTART_WINDOW]
            self.restarts.append(now)
            if len(self.restarts) > _MAX_RESTARTS:
                detail = f"it died {_MAX_RESTARTS} times within {_RESTART_WINDOW:.0f} s"
                break
            try:
                status, detail = self._spawn(b"", recover=True)
            except Exception as exc:
                self._end_process(join_timeout=1.0)
                detail = str(exc)
                break
            if status == "ready":
                self.restart_count += 1
                self.restarted.notify_all()
                return True
            self._end_process(join_timeout=1.0)
            if self.proc is None or self.proc.returncode is None or self.proc.returncode >= 0:
                break  # it failed by itself (not killed): starting it again would fail the same way
        self.error = True
        self._mark(STATUS_ERROR)
        print(
            f"suitkaise Share: the coordinator died and could not be restarted: {detail}",
            file=sys.stderr,
            flush=True,
        )
        return False

    def wait_restarted(self, count: int, timeout: float) -> bool:
        """Wait until the coordinator was restarted ``count`` times in all (for tests and tools)."""
        with self.restarted:
            return self.restarted.wait_for(lambda: self.restart_count >= count, timeout)

    def _handshake(self, config: bytes) -> tuple[str, str]:
        proc = self.proc
        assert proc.stdin is not None
        assert proc.stdout is not None
        try:
            proc.stdin.write(config)
            proc.stdin.close()
        except OSError:
            pass
        deadline = time.monotonic() + _START_TIMEOUT
        chunks: list[bytes] = []
        fd = proc.stdout.fileno()
        while time.monotonic() < deadline:
            readable, _, _ = select.select([fd], [], [], 0.1)
            if readable:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                chunks.append(chunk)
        proc.stdout.close()
        if not chunks:
            try:
                code = proc.wait(5.0)  # EOF without an answer: it exited (or is exiting)
            except subprocess.TimeoutExpired:
                code = None
            if code is None:
                return ("error", f"no answer within {_START_TIMEOUT} s")
            return ("error", f"the coordinator exited with code {code} (see its stderr above)")
        try:
            status, detail = decode(b"".join(chunks))
        except Exception as exc:
            return ("error", f"unreadable answer from the coordinator: {exc}")
        return (str(status), str(detail))

    def proc_alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float) -> bool:
        self.stopping = True  # before the lock: the watchdog must not restart what we stop
        with self.lock:
            if not self.running:
                return True
            clean = True
            values: dict[str, Any] | None = None
            client = self.client
            # from here on no process reconnects; if the coordinator is dead, the call below fails
            self._mark(STATUS_STOPPED)
            try:
                if client is None:
                    raise ShareError("no client")
                values = client.call(OP_STOP, "", (), (), timeout=timeout)
            except (ShareError, TimeoutError, OSError):
                clean = False
            self._end_process(join_timeout=timeout)
            if values is None:
                values = self._rescue()
            self.local = coordinator.Core(self.info.share_id)
            self.local.values.update(values)
            if self.proc is not None and self.proc.returncode not in (0, None):
                clean = False
            self._cleanup()
            self.proc = None
            return clean

    def _rescue(self) -> dict[str, Any]:
        """The last committed values, read straight from shared memory (the coordinator is gone)."""
        values: dict[str, Any] = {}
        client = self.client
        if client is None or client.dead == "closed":
            return values
        try:
            coordinator.repair_journal(self.info.share_id, client.w)  # a commit it left half done
        except Exception:
            return values
        for name in _all_names(client):
            slot = client.slot(name)
            if slot is None or not client.w[slot_word(slot, S_IN_USE)]:
                continue
            try:
                values[name] = client._read_slot(slot, name)
            except Exception:
                continue
        return values

    def _end_process(self, join_timeout: float = 5.0) -> None:
        proc = self.proc
        if proc is not None:
            try:
                proc.wait(join_timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5.0)

    def _cleanup(self) -> None:
        """Free everything: connection, segments, socket, lock file. Safe to call twice."""
        self.running = False
        client = self.client
        self.client = None
        slots_gens: list[tuple[int, int]] = []
        if client is not None:
            try:
                for slot in range(MAX_SLOTS):
                    gen = client.w[slot_word(slot, S_SEG_GEN)]
                    if gen:
                        slots_gens.append((slot, gen))
            except ValueError:
                pass
            client.close()
            with _clients_lock:
                if _clients.get(self.info.share_id) is client:
                    del _clients[self.info.share_id]
        for slot, gen in slots_gens:
            segment.unlink(data_name(self.info.share_id, slot, gen))
        for leftover in segment.list_names(data_prefix(self.info.share_id)):
            segment.unlink(leftover)
        if self.control is not None:
            self.control.close()
            self.control = None
        segment.unlink(control_name(self.info.share_id))
        if self.lifeline is not None:
            os.close(self.lifeline)
            self.lifeline = None
        shutil.rmtree(self.tmpdir, ignore_errors=True)

    def finalize(self) -> None:
        """Last-resort cleanup when the Share is garbage collected or the interpreter exits."""
        if os.getpid() != self.pid:
            return
        if self.running:
            self.stop(timeout=2.0)


_HERE = os.path.dirname(os.path.abspath(__file__))


def _warn_stopped() -> None:
    """A change while stopped works on the owner's copy; say so, as suitkaise 0.4 did."""
    level = 2
    frame = sys._getframe(1)
    while frame.f_back is not None and os.path.dirname(frame.f_code.co_filename) == _HERE:
        frame = frame.f_back
        level += 1  # the warning points at the user's line, not at ours
    warnings.warn(
        "the Share is stopped: this change is kept in this process (the Share's creator) and "
        "reaches the other processes at share.start()",
        RuntimeWarning,
        stacklevel=level,
    )


def _local_result(result: Any) -> Any:
    """A result computed on the owner's own copy: hand out a copy, as the coordinator would."""
    return decode(encode(result)) if result is not None else None


def _all_names(client: Client) -> list[str]:
    client.slot("")  # refreshes the directory
    return list(client._slots)


def _rebuild_share(info: ShareInfo) -> Share:
    share = object.__new__(Share)
    object.__setattr__(share, "_sk_info", info)
    object.__setattr__(share, "_sk_owner", None)
    object.__setattr__(share, "_sk_router", _Router(info, None))
    return share


class _Router:
    """Where a Share's reads and writes go: the owner's coordinator, this process's client, or the
    owner's local copy while stopped. Proxies hold this (a plain object: cheap attribute access)."""

    __slots__ = ("_sk_info", "_sk_owner", "fast")

    def __init__(self, info: ShareInfo, owner: _Owner | None) -> None:
        self._sk_info = info
        self._sk_owner = owner
        # name -> (presented object, client, slot base word, data words, data seq, generation): lets
        # Share.__getattribute__ return the same view again while nothing about the attribute changed
        self.fast: dict[str, tuple[Any, Client, int, memoryview, int, int]] = {}

    def _sk_id(self) -> str:
        return self._sk_info.share_id

    def _sk_own(self) -> _Owner | None:
        owner = self._sk_owner
        if owner is not None and owner.pid == _pid[0]:
            return owner
        return None

    def _sk_client(self) -> Client:
        owner = self._sk_own()
        if owner is not None:
            client = owner.client
            if client is None:
                raise ShareError("the Share is stopped; call share.start() first")
            return client
        return _client_for(self._sk_info)

    def _sk_stopped(self) -> _Owner | None:
        owner = self._sk_own()
        if owner is not None and not owner.running:
            return owner
        return None

    def _sk_read(self, name: str, wait: bool = True) -> Any:
        stopped = self._sk_stopped()
        if stopped is not None:
            try:
                return stopped.local.values[name]
            except KeyError:
                raise AttributeError(f"the Share has no attribute {name!r}") from None
        try:
            return self._sk_client().read(name, wait)
        except AttributeError:
            raise AttributeError(f"the Share has no attribute {name!r}") from None

    def _sk_post(self, op: str, name: str, path: Path, args: tuple[Any, ...]) -> None:
        stopped = self._sk_stopped()
        if stopped is not None:
            _warn_stopped()
            stopped.local.apply(op, name, path, args)
            return
        client = self._sk_client()
        client.quick_check()
        if not client.post(op, name, path, args):
            client.call(op, name, path, args)

    def _sk_call(self, op: str, name: str, path: Path, args: tuple[Any, ...]) -> Any:
        stopped = self._sk_stopped()
        if stopped is not None:
            _warn_stopped()
            return _local_result(stopped.local.apply(op, name, path, args))
        client = self._sk_client()
        client.check_alive()
        return client.call(op, name, path, args)

    def _sk_names(self) -> list[str]:
        stopped = self._sk_stopped()
        if stopped is not None:
            return sorted(stopped.local.values)
        return self._sk_client().names()

    def get(self, name: str) -> Any:
        """``share.<name>``: a view, a proxy or the value."""
        owner = self._sk_owner
        if owner is not None and owner.pid == _pid[0]:
            client = owner.client
            if not owner.running or client is None:
                value = self._sk_read(name)
                return wrap_kind(self, name, (), kind_of(value), value)
        else:
            client = _client_for(self._sk_info)
        try:
            kind, value = client.get(name)
        except AttributeError:
            self.fast.pop(name, None)
            raise AttributeError(f"the Share has no attribute {name!r}") from None
        presented = wrap_kind(self, name, (), kind, value)
        entry = client.fast_entry(name)
        if entry is not None:
            self.fast[name] = (presented, client, *entry)
        else:
            self.fast.pop(name, None)
        return presented


class Share:
    """Attributes shared by every process that holds this object; updates are never lost.

    ``Share()`` starts a coordinator process (``Share(auto_start=False)``: at ``start()`` or at the
    start of a ``with`` block; until then the owner works on its own copy). Assign attributes as on any object
    (``share.counter = 0``), pass the Share to ``Skprocess``es, ``Pool`` functions or threads, and use the
    attributes normally: ``share.counter += 1``, ``share.items.append(x)``, ``share.d[k] += 1``,
    ``share.timer.add_time(t)`` and method calls are applied atomically, in order, by the coordinator;
    reads come from shared memory without a round trip and include every write queued before them.
    """

    _sk_info: ShareInfo
    _sk_owner: _Owner | None
    _sk_router: _Router

    def __new__(cls, *, backend: Any = None, **options: Any) -> Share:
        # Share(backend="redis://host:port/db" or a redis.Redis, name=...): the state lives in Redis
        if backend is None:
            if set(options) - {"auto_start"}:
                raise TypeError(f"{sorted(set(options) - {'auto_start'})} need backend=")
            return super().__new__(cls)
        from suitkaise_processing._private.redis_state.share import RedisShare

        return super().__new__(RedisShare)

    def __init__(
        self, *, auto_start: bool = True, backend: Any = None, name: str = "", timeout: float = 5.0
    ) -> None:
        # backend, name, timeout: a Share on Redis, which __new__ made (redis_state.share.RedisShare)
        share_id = secrets.token_hex(4)
        tmpdir = os.path.join(tempfile.gettempdir(), f"sk_share_{share_id}")
        info = ShareInfo(
            share_id=share_id,
            address=os.path.join(tmpdir, "c"),
            authkey=secrets.token_bytes(32),
            lock_path=os.path.join(tmpdir, "lock"),
        )
        owner = _Owner(info, tmpdir)
        object.__setattr__(self, "_sk_info", info)
        object.__setattr__(self, "_sk_owner", owner)
        object.__setattr__(self, "_sk_router", _Router(info, owner))
        weakref.finalize(self, owner.finalize)
        if auto_start:
            owner.start()

    def _sk_id(self) -> str:
        return self._sk_info.share_id

    # ------------------------------------------------------------------ attribute access
    def __getattribute__(self, name: str) -> Any:
        # Share's own methods and internals first; every other name is a shared attribute. Doing
        # this here (not in __getattr__) spares a failed lookup on every shared read.
        if name in _OWN_NAMES or name[0] == "_":
            return object.__getattribute__(self, name)
        router = object.__getattribute__(self, "_sk_router")
        hit = router.fast.get(name)
        if hit is not None:
            presented, client, base, words, seq, gen = hit
            w = client.w
            try:
                # applied before the data's seq: a write counted as applied is then in the data
                if (
                    client.dead is None
                    and not client.deferred
                    and w[base + _S_APPLIED] >= w[base + _S_QUEUED]
                    and words[_D_SEQ] == seq
                    and w[base + _S_SEG_GEN] == gen
                    and _monotonic() < client._next_check
                    and client.pid == _pid[0]
                ):
                    return presented  # unchanged, nothing pending, coordinator checked recently
            except ValueError:  # the segment moved on and its mapping was released
                pass
        return router.get(name)

    def __getattr__(self, name: str) -> Any:
        # reached for names starting with "_" that are not Share internals
        if name.startswith(("__", "_sk_")):
            raise AttributeError(name)
        value = self._sk_router._sk_read(name)
        return wrap_kind(self._sk_router, name, (), kind_of(value), value)

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith(("__", "_sk_")):
            raise AttributeError(
                f"{name!r} is reserved; Share attributes cannot start with '__' or '_sk_'"
            )
        if name in _OWN_NAMES:
            raise AttributeError(
                f"{name!r} is a method or property of Share; store the value under another name"
            )
        origin = (self._sk_id(), name, ())
        op = pending_op(value, origin)
        if op is not None:
            self._sk_router._sk_post(OP_IOP, name, (), op)
            return
        if is_same_proxy(value, origin):
            return  # share.items += [...] already sent the extend
        value = _plain(value)
        check_supported(name, value)
        stopped = self._sk_router._sk_stopped()
        if stopped is not None:
            _warn_stopped()
            stopped.local.apply(OP_SET, name, (), (value,))
            return
        client = self._sk_router._sk_client()
        client.quick_check()
        client.local_kinds[name] = kind_of(value)
        if not client.post(OP_SET, name, (), (value,)):
            client.call(OP_SET, name, (), (value,))

    def __delattr__(self, name: str) -> None:
        if name.startswith(("__", "_sk_")):
            raise AttributeError(name)
        try:
            self._sk_router._sk_call(OP_DEL, name, (), ())
        except AttributeError:
            raise AttributeError(f"the Share has no attribute {name!r}") from None

    def __dir__(self) -> list[str]:
        names = set(super().__dir__())
        try:
            names.update(self._sk_router._sk_names())
        except ShareError:
            pass
        return sorted(names)

    def __repr__(self) -> str:
        try:
            names = self._sk_router._sk_names()
            parts = []
            for name in names:
                text = repr(self._sk_router._sk_read(name))
                parts.append(f"{name}={text if len(text) <= 60 else text[:57] + '...'}")
            state = "" if self.is_running else "stopped; "
            return f"Share({state}{', '.join(parts)})"
        except (ShareError, AttributeError):
            return "Share(<not running>)"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_share, (self._sk_info,))

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Start the coordinator (``Share()`` already did); changes made while stopped apply now."""
        owner = self._sk_router._sk_own()
        if owner is None:
            raise ShareError("only the process that created the Share can start() it")
        owner.start()

    def stop(self, timeout: float = 5.0) -> bool:
        """Stop the coordinator and free its shared memory; the values are kept for ``start()``.

        Returns ``True`` if it stopped cleanly, ``False`` if it had to be killed or had died.
        """
        owner = self._sk_router._sk_own()
        if owner is None:
            raise ShareError("only the process that created the Share can stop() it")
        return owner.stop(timeout)

    def exit(self, timeout: float = 5.0) -> bool:
        """Alias of :meth:`stop`."""
        return self.stop(timeout)

    def clear(self) -> None:
        """Remove every attribute."""
        self._sk_router._sk_call(OP_CLEAR, "", (), ())

    def reconnect_all(self, *, start_threads: bool = False, **auth: Any) -> dict[str, Any]:
        """Live resources for every attribute holding cucumber ``Reconnector``s, by attribute name.

        The stored values stay placeholders (a live connection cannot be shared); each call returns
        fresh connections made in this process. ``auth`` is passed to ``cucumber.reconnect_all``.
        """
        import cucumber

        out: dict[str, Any] = {}
        for name in self._sk_router._sk_names():
            value = self._sk_router._sk_read(name)
            if not _holds_reconnector(value):
                continue
            fresh = decode(encode(value))  # never reconnect the cached snapshot in place
            out[name] = cucumber.reconnect_all(fresh, start_threads=start_threads, **auth)
        return out

    @property
    def is_running(self) -> bool:
        """Whether the coordinator is running (``False`` for a moment while a dead one is replaced)."""
        owner = self._sk_router._sk_own()
        if owner is not None:
            return (
                owner.running
                and owner.proc_alive()
                and owner.client is not None
                and owner.client.dead is None
            )
        try:
            client = _client_for(self._sk_info)
            client.check_alive()
        except Exception:
            return False
        return bool(client.w[H_STATUS] == STATUS_RUNNING)

    @property
    def has_error(self) -> bool:
        """Whether the coordinator died and could not be restarted (accesses raise ``ShareError``).

        A coordinator that dies while its owner lives is replaced, and that is no error.
        """
        owner = self._sk_router._sk_own()
        if owner is not None:
            client = owner.client
            if client is not None and client.dead not in (None, "closed"):
                owner.error = True
            return owner.error
        try:
            client = _client_for(self._sk_info)
        except ShareError:
            return True
        try:
            client.check_alive()
        except ShareError:
            return client.dead not in (None, "closed") or client.w[H_STATUS] == STATUS_ERROR
        except Exception:
            return True
        return bool(client.w[H_STATUS] == STATUS_ERROR)

    def __enter__(self) -> Share:
        owner = self._sk_router._sk_own()
        if owner is not None and not owner.running:
            owner.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._sk_router._sk_own() is not None:
            self.stop()


def _holds_reconnector(value: Any, depth: int = 0) -> bool:
    if is_reconnector(value):
        return True
    if depth >= 2:
        return False
    if isinstance(value, dict):
        return any(_holds_reconnector(v, depth + 1) for v in value.values())
    if isinstance(value, (list, tuple, set)):
        return any(_holds_reconnector(v, depth + 1) for v in value)
    attrs = getattr(value, "__dict__", None)
    if isinstance(attrs, dict):
        return any(_holds_reconnector(v, depth + 1) for v in attrs.values())
    return False


__all__ = ["Share"]


_OWN_NAMES = frozenset(name for name in dir(Share) if not name.startswith("_"))
