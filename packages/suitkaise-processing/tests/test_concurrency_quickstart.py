"""The seed's Quick Start, with our import path (``suitkaise.concurrency``), runs as written."""

from __future__ import annotations

import importlib

import pytest

import suitkaise_processing.concurrency as concurrency

shared: list[str] = []


def update_shared_resource() -> None:
    shared.append("resource")


def run_database_operation() -> None:
    shared.append("database")


def read_shared_data() -> list[str]:
    return list(shared)


def write_shared_data(data: list[str]) -> None:
    shared.append(f"wrote {len(data)}")


def process_request() -> None:
    shared.append("request")


def test_the_kit_module_is_the_package_module() -> None:
    kit = importlib.import_module("suitkaise.concurrency")
    assert kit.__all__ == concurrency.__all__
    for name in concurrency.__all__:
        assert getattr(kit, name) is getattr(concurrency, name)


def test_quick_start(redis_url: str) -> None:
    from suitkaise.concurrency import (
        LocalLock,
        LocalSemaphore,
        LockManager,
        ReadWriteLock,
        RedisLock,
    )

    # Local lock (thread-safe, and across processes by name)
    lock = LocalLock("resource-1")
    with lock:
        update_shared_resource()

    # Lock manager for multiple resources
    manager = LockManager()
    with manager.acquire("database", timeout=5.0):
        run_database_operation()

    # Read-write lock (multiple readers, exclusive writers)
    rw_lock = ReadWriteLock()
    with rw_lock.read():
        data = read_shared_data()
    with rw_lock.write():
        write_shared_data(data)

    # Semaphore for limiting concurrent access
    sem = LocalSemaphore(max_concurrent=3)
    with sem:
        process_request()

    # Redis lock (distributed); the seed's "redis://localhost" is the test server here
    lock = RedisLock("resource", redis_url=redis_url)
    with lock:
        pass

    assert shared == ["resource", "database", "wrote 2", "request"]


def test_redis_is_not_imported_by_the_local_primitives() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from suitkaise.concurrency import LocalLock, LockManager\n"
        "with LockManager().acquire('a'): pass\n"
        "print('redis' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_missing_redis_py_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from suitkaise_processing._private.concurrency import redis_backend

    monkeypatch.setitem(sys.modules, "redis", None)  # import redis -> ImportError
    monkeypatch.setattr(redis_backend, "_clients", {})
    with pytest.raises(ImportError, match=r"suitkaise-processing\[redis\]"):
        concurrency.RedisLock("x", redis_url="redis://127.0.0.1:1/0")
