"""One process's connection to a Share: reads from shared memory, writes through the coordinator.

Read path (no round trip when nothing is pending): look up the attribute's slot, wait while its
``applied`` counter is behind the ``queued`` counter seen at the start of the read (a write announced
before this read is not committed yet), then read the value from the attribute's data segment under
its seqlock, reusing the last decoded value when nothing changed and applying only new delta records
when only deltas were appended.

Write path: announce the write (``queued += 1`` under an ``flock``, so concurrent writers never lose
an announcement), then send the command without waiting. Commands whose result is needed wait for
the coordinator's answer, which it sends only after the change is committed.

Surviving the coordinator: every write carries this client's next sequence number and stays in
``unacked`` until the client's ``applied`` number in the control segment (raised by the coordinator
with each commit) covers it. When the connection breaks (noticed by a watcher thread, or by the
access that uses it), the client waits (bounded) for the owner to start a new coordinator, says hello
again and resends what is still unacked; the coordinator skips what it had committed. A process
that exits waits (bounded) for its unacked writes, so a write that returned is never lost with it.

Interrupts: a ``KeyboardInterrupt`` (or any exception a signal handler raises) can surface after
any call that returns. So while the process works, the connection lock is taken only with ``with``
(which releases it whatever surfaces inside), never as ``if lock.acquire(blocking=False): try:``:
an interrupt right after that acquire left the lock held, and the process then hung at exit in its
Share cleanup (issue 11). A write interrupted before it was sent is dropped from the resend queue
(it did not return, so it need not survive). The exit path (:meth:`flush`, :meth:`close`, ``stop``'s
``call`` with a timeout) takes the lock with a timeout instead, and when it cannot get it says so on
stderr and goes on: exit is bounded even if another thread holds the connection for ever.
"""

from __future__ import annotations

import dis
import fcntl
import itertools
import multiprocessing.util
import os
import secrets
import select
import sys
import threading
import time
import weakref
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import Client as _connect
from multiprocessing.connection import Connection
from typing import Any

import suitkaise_processing._private.share.segment as segment
from suitkaise_processing._private.errors import MessageError, ShareError
from suitkaise_processing._private.fdpass import send_fd_on
from suitkaise_processing._private.share.coordinator import remove_owner_files
from suitkaise_processing._private.share.layout import (
    C_APPLIED,
    CONTAINER_KINDS,
    D_BASE_ID,
    D_BASE_OFF,
    D_RETIRED,
    D_SEQ,
    D_USED,
    H_DIRVER,
    H_OWNER_PID,
    H_STATUS,
    HEADER_WORDS,
    MAX_SLOTS,
    S_APPLIED,
    S_IN_USE,
    S_KIND,
    S_NAME_LEN,
    S_QUEUED,
    S_SEG_GEN,
    SLOT_WORDS,
    STATUS_ERROR,
    STATUS_STOPPED,
    client_word,
    control_name,
    data_name,
    slot_name_offset,
    slot_word,
)
from suitkaise_processing._private.share.protocol import (
    OP_CLEAR,
    OP_DEL,
    OP_HELLO,
    OP_IOP,
    OP_NAMES,
    OP_PING,
    OP_SET,
    OP_STOP,
    Path,
    pack,
    pack_write,
    read_message,
)
from suitkaise_processing._private.share.records import TornRead, parse_records

_MISSING: Any = object()
_monotonic = time.monotonic

RESTART_WAIT = 60.0  # seconds an access waits for the owner to bring a dead coordinator back
EXIT_FLUSH_WAIT = 30.0  # seconds an exiting process waits for its writes to be committed
CLOSE_WAIT = 5.0  # seconds close() waits for another thread to finish with the connection
APPLIED_BEFORE = 2  # answer status: a resent write that a previous coordinator had committed
_NONE_RESULT_OPS = frozenset({OP_SET, OP_DEL, OP_IOP, OP_CLEAR})
_READ_OPS = frozenset({OP_NAMES, OP_PING, OP_STOP})  # commands that change nothing: not numbered
_HANGUP = select.POLLHUP | getattr(select, "POLLRDHUP", 0)


_COPY = dis.opmap.get("COPY")
_DUP_TOP = dis.opmap.get("DUP_TOP")
_DUP_TOP_TWO = dis.opmap.get("DUP_TOP_TWO")


def augmented_subscript(frame: Any) -> bool:
    """Whether ``frame`` is reading an item for ``obj[key] += ...``: ``COPY 2; COPY 2`` (3.11+) or
    ``DUP_TOP_TWO`` (3.10) right before the ``BINARY_SUBSCR``."""
    try:
        code = frame.f_code.co_code
        i = frame.f_lasti
    except AttributeError:  # pragma: no cover - not CPython
        return False
    if i < 4 or i > len(code):
        return False
    if _DUP_TOP_TWO is not None and code[i - 2] == _DUP_TOP_TWO:
        return True
    return bool(
        code[i - 2] == _COPY and code[i - 1] == 2 and code[i - 4] == _COPY and code[i - 3] == 2
    )


def augmented_attribute(frame: Any) -> bool:
    """Public name of :func:`_augmented_assignment` for the proxies."""
    return _augmented_assignment(frame)


def _augmented_assignment(frame: Any) -> bool:
    """Whether ``frame`` is reading an attribute for ``obj.attr += ...`` (``obj.attr -= ...``, ...).

    Such a read needs no wait for pending writes: the value only carries the operation to the
    assignment, which sends it as one atomic command. Recognised by the instruction before the
    ``LOAD_ATTR``: ``COPY 1`` (3.11+) or ``DUP_TOP`` (3.10), emitted for augmented attribute assignment.
    """
    try:
        code = frame.f_code.co_code
        i = frame.f_lasti
    except AttributeError:  # pragma: no cover - not CPython
        return False
    if i < 2 or i > len(code):
        return False
    op = code[i - 2]
    return (op == _COPY and code[i - 1] == 1) or (_DUP_TOP is not None and op == _DUP_TOP)


@dataclass(frozen=True)
class ShareInfo:
    """What a process needs to reach a Share: travels when the Share is pickled."""

    share_id: str
    address: str
    authkey: bytes
    lock_path: str


class _Cached:
    __slots__ = ("base_id", "gen", "obj", "offset", "seq")

    def __init__(self, gen: int, base_id: int, offset: int, seq: int, obj: Any) -> None:
        self.gen = gen
        self.base_id = base_id
        self.offset = offset
        self.seq = seq
        self.obj = obj


class _DataMap:
    __slots__ = ("gen", "seg", "words")

    def __init__(self, gen: int, seg: segment.Segment) -> None:
        self.gen = gen
        self.seg = seg
        self.words = seg.buf.cast("Q")

    def close(self) -> None:
        self.words.release()
        self.seg.close()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        pass  # exists, owned by someone else
    return True


def _say(text: str) -> None:
    print(f"suitkaise Share: {text}", file=sys.stderr, flush=True)


def _flush_at_exit(ref: weakref.ReferenceType[Client]) -> None:
    client = ref()
    if client is not None and client.pid == os.getpid():
        client.flush(EXIT_FLUSH_WAIT)


class Client:
    """A process's (or a stopped-then-restarted owner's) live link to a Share's coordinator."""

    def __init__(self, info: ShareInfo, *, connect_timeout: float = RESTART_WAIT) -> None:
        self.info = info
        self.pid = os.getpid()
        self.owned = False  # True for the owner's own client
        self.dead: str | None = None
        self.lock = threading.Lock()
        self._ids = itertools.count(1)
        self._slots: dict[str, int] = {}
        self._dirver = -1
        self._maps: dict[int, _DataMap] = {}
        self._cache: dict[int, _Cached] = {}
        self.local_kinds: dict[str, int] = {}
        self.deferred: list[BaseException] = []  # errors of writes nobody waited for
        self.client_id = secrets.randbits(63) | 1
        self.entry = -1
        self._applied_word = 0  # the control segment word holding our committed seq
        self._seq = 0
        self.unacked: deque[tuple[int, bytes]] = deque()  # (seq, command) not known committed
        # seq -> memory file of an unacked write's big buffers (resent with it; see protocol.py)
        self.files: dict[int, int] = {}
        try:
            self.ctl = segment.Segment.attach(control_name(info.share_id))
        except FileNotFoundError:
            raise ShareError(
                "this Share is not running (its shared memory is gone): the process that created it "
                "stopped it or exited; create the Share before starting the processes that use it"
            ) from None
        self.w = self.ctl.buf.cast("Q")
        try:
            self.lock_fd = os.open(info.lock_path, os.O_RDWR)
        except OSError:
            self._close_ctl()
            raise ShareError("this Share is not running (its lock file is gone)") from None
        try:
            self.conn: Connection = self._connect(time.monotonic() + connect_timeout)
        except BaseException:
            self._close_ctl()
            os.close(self.lock_fd)
            raise
        self._fd = self.conn.fileno()
        self._next_check = 0.0
        self._poller = select.poll()
        self._poller.register(self._fd, select.POLLIN)
        self._wake_r, self._wake_w = os.pipe()
        threading.Thread(target=self._watch, name="sk-share-watch", daemon=True).start()
        multiprocessing.util.Finalize(
            self, _flush_at_exit, args=(weakref.ref(self),), exitpriority=20
        )

    # ------------------------------------------------------------------ connection
    def _connect(self, deadline: float) -> Connection:
        """Connect and say hello, waiting for a coordinator that is (re)starting; ``ShareError`` if
        none can come (stopped, failed, owner gone) or none came by ``deadline``."""
        while True:
            why = self._why_not_running()
            if why is not None:
                raise ShareError(why)
            try:
                conn = _connect(self.info.address, family="AF_UNIX", authkey=self.info.authkey)
            except (ConnectionError, EOFError, FileNotFoundError) as exc:
                # refused or missing while it restarts; reset, broken pipe or EOF when it dies
                # during the authentication: wait for the next one (until the deadline)
                if time.monotonic() > deadline:
                    raise ShareError(
                        f"could not connect to the Share's coordinator: {exc}"
                    ) from exc
                time.sleep(0.005)
                continue
            except Exception as exc:
                raise ShareError(f"could not connect to the Share's coordinator: {exc}") from exc
            try:
                self._hello(conn, deadline)
            except (EOFError, OSError):
                conn.close()  # it died during the hello: wait for the next one
                continue
            return conn

    def _hello(self, conn: Connection, deadline: float) -> None:
        req = next(self._ids)
        conn.send_bytes(pack(OP_HELLO, req, "", -1, 0, (), (self.client_id,)))
        while True:
            if not conn.poll(max(0.0, deadline - time.monotonic())):
                raise ShareError("the Share's coordinator did not answer")
            rid, ok, result = read_message(conn)
            if rid == req:
                break
        if not ok:
            raise result
        self.entry = int(result[0])
        self._applied_word = client_word(self.entry, C_APPLIED)
        self._prune(int(result[1]))

    def _why_not_running(self) -> str | None:
        """Why no coordinator can come back (``None``: one runs or the owner is starting one)."""
        owner = int(self.w[H_OWNER_PID])
        if owner and not _pid_alive(owner):
            remove_owner_files(self.info.share_id, self.info.address)
            return (
                "the process that created the Share exited, so its coordinator cannot be restarted; "
                "create the Share in a process that outlives the ones using it"
            )
        status = self.w[H_STATUS]
        if status == STATUS_STOPPED:
            return "the Share was stopped; the process that created it can start() it again"
        if status == STATUS_ERROR:
            return (
                "the Share's coordinator process died and could not be restarted; its state is lost "
                "from here on. Create a new Share"
            )
        return None

    def _recover(self, deadline: float | None = None) -> None:
        """The connection broke (lock held): reconnect to the restarted coordinator and resend,
        waiting for the restart until ``deadline`` (default: :data:`RESTART_WAIT` from now)."""
        if self.dead is not None:
            raise ShareError(self._dead_message())
        if deadline is None:
            deadline = time.monotonic() + RESTART_WAIT
        try:
            while self.conn.poll(0):  # errors of earlier writes the dead coordinator had sent
                rid, _ok, result = read_message(self.conn)
                if rid == 0 and isinstance(result, BaseException):
                    self.deferred.append(result)
        except (EOFError, OSError, MessageError):
            pass  # the connection is replaced below
        while True:
            try:
                self.conn.close()
            except OSError:
                pass
            try:
                conn = self._connect(deadline)
            except ShareError as exc:
                self.dead = str(exc)
                raise
            self.conn = conn
            self._fd = conn.fileno()
            self._poller = select.poll()
            self._poller.register(self._fd, select.POLLIN)
            try:
                for seq, data in list(self.unacked):
                    self._send(conn, data, self.files.get(seq))
            except OSError:
                continue
            break
        try:
            os.write(self._wake_w, b"r")  # the watcher follows the new connection
        except OSError:
            pass

    def _watch(self) -> None:
        """Thread: notice a broken connection at once, so writes of an idle process are resent."""
        try:
            self._watch_loop()
        finally:
            os.close(self._wake_r)

    def _gone(self) -> bool:
        """Whether this client is closed or no coordinator can come back."""
        return self.dead is not None

    def _watch_loop(self) -> None:
        while not self._gone():
            conn = self.conn
            poller = select.poll()
            try:
                poller.register(conn.fileno(), _HANGUP)
            except (OSError, ValueError):
                pass  # replaced or closed meanwhile: wait for the wake-up
            poller.register(self._wake_r, select.POLLIN)
            events = poller.poll()
            if any(fd == self._wake_r for fd, _ in events):
                if not os.read(self._wake_r, 64):
                    return  # closed
                continue
            with self.lock:
                if self._gone():
                    return
                if self.conn is conn:
                    try:
                        self._recover()
                    except ShareError:
                        return

    def _prune(self, applied: int) -> None:
        unacked = self.unacked
        while unacked and unacked[0][0] <= applied:
            unacked.popleft()
        if self.files:
            self._close_files(applied)

    def _close_files(self, applied: int) -> None:
        """Close the memory files of committed writes (the coordinator holds its own view)."""
        for seq in [seq for seq in self.files if seq <= applied]:
            os.close(self.files.pop(seq))

    @staticmethod
    def _send(conn: Connection, data: bytes, fd: int | None) -> None:
        conn.send_bytes(data)
        if fd is not None:
            send_fd_on(conn.fileno(), fd)

    def committed(self) -> int:
        """The highest sequence number of this client's writes that is committed."""
        return int(self.w[self._applied_word])

    def flush(self, timeout: float) -> None:
        """Wait until every write of this client is committed (restarting included), at most
        ``timeout`` seconds; used when the process exits."""
        deadline = time.monotonic() + timeout
        late = f"were not committed within {timeout:g} s of its exit"
        while self.dead is None:
            if not self.lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
                self._say_lost(
                    late,
                    " (the Share's connection stayed busy: another thread used it, or waited for "
                    "a coordinator restart)",
                )
                return
            try:
                if self.unacked:
                    self._prune(self.committed())
                if not self.unacked:
                    return
                if time.monotonic() > deadline:
                    self._say_lost(late)
                    return
                if self._poll_now():
                    # reconnects and resends if the coordinator died, waiting no longer than the exit
                    self._take_unasked(deadline)
            except ShareError as exc:
                self._say_lost("could not be committed before it exited", f": {exc}")
                return
            except (ValueError, OSError):
                return
            finally:
                self.lock.release()
            time.sleep(0.0005)

    def _say_lost(self, what: str, more: str = "") -> None:
        """Say on stderr that this process's uncommitted writes ``what`` and may be lost."""
        if self.unacked:
            _say(f"{len(self.unacked)} write(s) of this process {what}; they may be lost{more}")

    # ------------------------------------------------------------------ lifecycle
    def _close_ctl(self) -> None:
        self.w.release()
        self.ctl.close()

    def close(self) -> None:
        """Drop the connection and every mapping (idempotent). Waits at most :data:`CLOSE_WAIT`
        seconds for another thread using the connection, then closes it under that thread."""
        locked = self.lock.acquire(timeout=CLOSE_WAIT)
        if not locked:
            _say(
                f"closed this process's connection to the Share while another thread still held it "
                f"after {CLOSE_WAIT:.0f} s"
            )
        try:
            if self.dead is None:
                self.dead = "closed"
            try:
                self.conn.close()
            except OSError:
                pass
            for m in self._maps.values():
                m.close()
            self._maps.clear()
            self._close_files(self._seq)
            self._cache.clear()
            try:
                self._close_ctl()
            except ValueError:
                pass
            for fd in (self.lock_fd, self._wake_w):
                try:
                    os.close(fd)  # closing the wake-up pipe's write end ends the watcher
                except OSError:
                    pass
        finally:
            if locked:
                self.lock.release()

    def _fail(self, why: str) -> ShareError:
        if self.dead is None:
            self.dead = why
        return ShareError(why)

    def check_alive(self) -> None:
        """Raise ``ShareError`` if the coordinator is gone for good; reconnect if it was restarted."""
        if self.dead is not None:
            raise ShareError(self._dead_message())
        # another thread using the connection reads what arrived itself; taking the lock only with
        # ``with`` keeps an interrupt from leaving it held (see the module docstring)
        if self._readable() and not self.lock.locked():
            with self.lock:
                # unasked messages are errors of writes nobody waited for; EOF: the coordinator died
                if self._poll_now():
                    self._take_unasked()
        if self.deferred:
            raise self.deferred.pop(0)

    def quick_check(self) -> None:
        """:meth:`check_alive` for hot paths: polls the connection at most once per 200 us."""
        if self.dead is not None or self.deferred:
            self.check_alive()
        now = _monotonic()
        if now >= self._next_check:
            self._next_check = now + 0.0002
            if self._readable():
                self.check_alive()

    def _readable(self) -> bool:
        """Whether the connection has something to read (EOF included), without the lock: a poll
        object of its own (one ``select.poll`` object may not be polled by two threads at once)."""
        poller = select.poll()
        try:
            poller.register(self._fd, select.POLLIN)
        except (OSError, ValueError):
            return True  # replaced or closed meanwhile: the caller looks under the lock
        return bool(poller.poll(0))

    def _poll_now(self) -> bool:
        return bool(self._poller.poll(0))

    def _take_unasked(self, deadline: float | None = None) -> None:
        """Read what the coordinator sent unasked (lock held); reconnect if it died (see
        :meth:`_recover` for ``deadline``)."""
        try:
            while self.conn.poll(0):
                rid, _ok, result = read_message(self.conn)
                if rid == 0 and isinstance(result, BaseException):
                    self.deferred.append(result)
        except (EOFError, OSError):
            self._recover(deadline)

    def _dead_message(self) -> str:
        if self.dead not in (None, "closed"):
            return self.dead or ""
        try:
            why = self._why_not_running()
        except ValueError:  # the mapping was already released
            why = None
        return why or "this handle of the Share was closed"

    # ------------------------------------------------------------------ directory
    def slot(self, name: str) -> int | None:
        """The slot of ``name``, or ``None`` if no value was ever assigned to it."""
        slot = self._slots.get(name)
        if slot is not None:
            return slot
        dirver = self.w[H_DIRVER]
        if dirver != self._dirver:
            self._scan()
            self._dirver = dirver
        return self._slots.get(name)

    def _scan(self) -> None:
        buf = self.ctl.buf
        w = self.w
        for slot in range(MAX_SLOTS):
            length = w[slot_word(slot, S_NAME_LEN)]
            if not length:
                break
            off = slot_name_offset(slot)
            self._slots[bytes(buf[off : off + length]).decode()] = slot

    def names(self) -> list[str]:
        """Names of the attributes that exist now (after pending writes to them are applied)."""
        self.slot("")
        out = []
        for name, slot in self._slots.items():
            self._barrier(slot)
            if self.w[slot_word(slot, S_IN_USE)]:
                out.append(name)
        return sorted(out)

    # ------------------------------------------------------------------ reading
    def _barrier(self, slot: int) -> None:
        w = self.w
        target = w[slot_word(slot, S_QUEUED)]
        applied_word = slot_word(slot, S_APPLIED)
        if w[applied_word] >= target:
            return
        spins = 0
        delay = 0.0
        start = time.monotonic()
        while w[applied_word] < target:
            spins += 1
            if spins < 20:
                time.sleep(0)
                continue
            if spins % 16 == 0:
                self.check_alive()  # reconnects and resends if the coordinator was restarted
                if time.monotonic() - start > 300:
                    raise ShareError(
                        "waited 300 s for the coordinator to apply pending writes; it is overloaded or stuck"
                    )
            delay = min(0.002, delay * 2 if delay else 0.00002)
            time.sleep(delay)

    def get(self, name: str) -> tuple[int, Any]:
        """``(kind, value)`` of attribute ``name`` for ``share.<name>``: the hot read path.

        Container kinds (list, dict, set, object, iterator) return ``value=None`` without reading or
        waiting: their proxy reads (and waits) when it is used.
        """
        self.quick_check()
        slot = self._slots.get(name)
        if slot is None:
            slot = self.slot(name)
            if slot is None:
                raise AttributeError(name)
        w = self.w
        base = HEADER_WORDS + slot * SLOT_WORDS
        if w[base + S_APPLIED] < w[base + S_QUEUED]:
            kind = self.local_kinds.get(name)
            if kind is not None and kind in CONTAINER_KINDS:
                return kind, None  # our own pending assignment made it a container: no need to wait
            # frames: this, _Router.get, Share.__getattribute__, the user's code
            if not _augmented_assignment(sys._getframe(3)) or not w[base + S_IN_USE]:
                self._barrier(slot)
        if not w[base + S_IN_USE]:
            raise AttributeError(name)
        kind = w[base + S_KIND]
        if kind in CONTAINER_KINDS:
            return kind, None
        cached = self._cache.get(slot)
        if cached is not None:
            m = self._maps.get(slot)
            gen = w[base + S_SEG_GEN]
            if m is not None and m.gen == gen == cached.gen and m.words[D_SEQ] == cached.seq:
                return kind, cached.obj
        return kind, self._read_slot(slot, name)

    def fast_entry(self, name: str) -> tuple[int, memoryview, int, int] | None:
        """What a caller needs to tell, without calling in here, that ``name`` is unchanged since the
        last :meth:`get`: ``(slot base word, data words, data seq, segment generation)``."""
        slot = self._slots.get(name)
        if slot is None:
            return None
        cached = self._cache.get(slot)
        m = self._maps.get(slot)
        if cached is None or m is None or m.gen != cached.gen:
            return None
        return (HEADER_WORDS + slot * SLOT_WORDS, m.words, cached.seq, cached.gen)

    def read(self, name: str, wait: bool = True) -> Any:
        """The current value of attribute ``name`` (this process's cached copy: do not mutate it).

        ``wait=False``: the last committed value even if writes to it are queued (for ``x[k] += 1``,
        whose read only carries the operation).
        """
        self.quick_check()
        slot = self._slots.get(name)
        if slot is None:
            slot = self.slot(name)
            if slot is None:
                raise AttributeError(name)
        w = self.w
        base = HEADER_WORDS + slot * SLOT_WORDS
        if w[base + S_APPLIED] < w[base + S_QUEUED] and (wait or not w[base + S_IN_USE]):
            self._barrier(slot)
        cached = self._cache.get(slot)
        if cached is not None and w[base + S_IN_USE]:
            m = self._maps.get(slot)
            gen = w[base + S_SEG_GEN]
            if m is not None and m.gen == gen == cached.gen and m.words[D_SEQ] == cached.seq:
                return cached.obj
        return self._read_slot(slot, name)

    def _read_slot(self, slot: int, name: str) -> Any:
        w = self.w
        gen_word = slot_word(slot, S_SEG_GEN)
        in_use_word = slot_word(slot, S_IN_USE)
        for attempt in range(100000):
            if not w[in_use_word]:
                raise AttributeError(name)
            gen = w[gen_word]
            m = self._maps.get(slot)
            if m is None or m.gen != gen:
                m = self._map(slot, gen)
                if m is None:
                    continue
            dw = m.words
            seq = dw[D_SEQ]
            cached = self._cache.get(slot)
            if cached is not None and cached.seq == seq and cached.gen == gen and not seq & 1:
                return cached.obj
            if seq & 1 or dw[D_RETIRED]:
                time.sleep(0) if attempt < 100 else time.sleep(0.0001)
                continue
            base_id = dw[D_BASE_ID]
            base_off = dw[D_BASE_OFF]  # before used: the coordinator stores used first
            used = dw[D_USED]
            incremental = cached is not None and cached.gen == gen and cached.base_id == base_id
            try:
                if incremental:
                    assert cached is not None
                    obj = parse_records(m.seg.buf, cached.offset, used, cached.obj, True)
                else:
                    obj = parse_records(m.seg.buf, base_off, used, None, False)
            except TornRead:
                self._cache.pop(slot, None)
                continue
            seq2 = dw[D_SEQ]
            if seq2 & 1 or dw[D_BASE_ID] != base_id or dw[D_RETIRED] or w[gen_word] != gen:
                self._cache.pop(slot, None)  # a rewrite raced with us: the copy may be damaged
                continue
            self._cache[slot] = _Cached(gen, base_id, used, seq if seq2 != seq else seq2, obj)
            return obj
        raise ShareError(f"could not read share.{name}: it changes faster than it can be read")

    def _map(self, slot: int, gen: int) -> _DataMap | None:
        old = self._maps.pop(slot, None)
        if old is not None:
            old.close()
        self._cache.pop(slot, None)
        if gen == 0:
            time.sleep(0)
            return None
        try:
            seg = segment.Segment.attach(data_name(self.info.share_id, slot, gen))
        except FileNotFoundError:
            self.check_alive()
            time.sleep(0)
            return None
        m = _DataMap(gen, seg)
        self._maps[slot] = m
        return m

    # ------------------------------------------------------------------ writing
    def post(self, op: str, name: str, path: Path, args: tuple[Any, ...]) -> bool:
        """Send a write nobody waits for; ``False`` if ``name`` has no slot yet (use :meth:`call`)."""
        slot = self.slot(name)
        if slot is None:
            return False
        queued = slot_word(slot, S_QUEUED)
        with self.lock:
            if self.dead is not None:
                raise ShareError(self._dead_message())
            seq = self._seq = self._seq + 1
            data, fd = pack_write(op, 0, name, slot, seq, path, args)
            unacked = self.unacked
            if unacked:  # drop what is committed
                # (a loop of its own: on 3.13 a loop written directly in a ``with`` block can end it
                # without releasing the lock when an interrupt lands on its backward jump,
                # CPython gh-130279)
                self._prune(int(self.w[self._applied_word]))
            try:
                unacked.append((seq, data))
                if fd is not None:
                    self.files[seq] = fd
                fcntl.flock(self.lock_fd, fcntl.LOCK_EX)
                try:
                    self.w[queued] += 1
                finally:
                    fcntl.flock(self.lock_fd, fcntl.LOCK_UN)
                self._send(self.conn, data, fd)
            except OSError:
                self._recover()  # resends it (or raises ShareError: no coordinator can come back)
            except BaseException:
                self._drop_interrupted(seq, fd)
                raise
        return True

    def call(
        self, op: str, name: str, path: Path, args: tuple[Any, ...], timeout: float | None = None
    ) -> Any:
        """Send a command and wait for its result (raised if the command raised).

        A write (every op but the read-only ones) is numbered and kept for resending like a
        posted one; a restart while waiting resends it and waits for the new coordinator's answer.
        """
        if timeout is None:
            with self.lock:
                ok, result = self._exchange(op, name, path, args, None)
        else:  # bounded (stop() at exit): another thread may hold the connection indefinitely
            if not self.lock.acquire(timeout=timeout):
                raise TimeoutError(
                    f"another thread held the Share's connection for {timeout} s; "
                    f"share.{name or op} was not sent"
                )
            try:
                ok, result = self._exchange(op, name, path, args, timeout)
            finally:
                self.lock.release()
        if ok == APPLIED_BEFORE:
            if op in _NONE_RESULT_OPS:
                return None
            raise ShareError(
                f"the Share's coordinator was restarted after it applied this operation on share.{name} "
                "and before it answered: the change took effect, but its result was lost"
            )
        if not ok:
            raise result
        return result  # an error of an earlier write (self.deferred) is raised at the next access

    def _exchange(
        self, op: str, name: str, path: Path, args: tuple[Any, ...], timeout: float | None
    ) -> tuple[int, Any]:
        """Send a command and wait for its answer ``(ok, result)`` (lock held)."""
        if self.dead is not None:
            raise ShareError(self._dead_message())
        req = next(self._ids)
        seq = 0
        fd = None
        if op in _READ_OPS:
            data = pack(op, req, name, -1, 0, path, args)
        else:
            self._seq += 1
            seq = self._seq
            data, fd = pack_write(op, req, name, -1, seq, path, args)
            if self.unacked:
                self._prune(self.committed())
        try:
            if seq:
                self.unacked.append((seq, data))
                if fd is not None:
                    self.files[seq] = fd
            self._send(self.conn, data, fd)
        except OSError:
            self._recover_and_resend(seq, data)
        except BaseException:
            self._drop_interrupted(seq, fd)
            raise
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                ready = self.conn.poll(0.25)
                reply = read_message(self.conn) if ready else None
            except (EOFError, OSError):
                self._recover_and_resend(seq, data)
                continue
            if reply is not None:
                rid, ok, result = reply
                if rid == 0 and isinstance(result, BaseException):
                    self.deferred.append(result)
                if rid != req:
                    continue  # an error of an earlier write, or the answer to an interrupted call
                break
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"the Share's coordinator did not answer within {timeout} s")
        return ok, result

    def _drop_interrupted(self, seq: int, fd: int | None) -> None:
        """A write interrupted (Ctrl-C) before its send returned (lock held): it did not happen for
        the caller, so nothing waits for it or resends it. If its bytes went out, the coordinator
        applies it once anyway; if they did not, readers of its attribute wait until the
        coordinator counts the announced write as lost (a few idle seconds)."""
        if seq and self.unacked and self.unacked[-1][0] == seq:
            self.unacked.pop()
        self.files.pop(seq, None)
        if fd is not None:
            os.close(fd)

    def _recover_and_resend(self, seq: int, data: bytes) -> None:
        """Reconnect (lock held); resend a read-only command too (writes are resent with unacked)."""
        self._recover()
        if not seq:
            try:
                self.conn.send_bytes(data)
            except OSError:
                self._recover_and_resend(seq, data)
