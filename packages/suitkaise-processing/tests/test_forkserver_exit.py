"""The fork server ends at once when the program ends; processes forked from it keep their own exit.

``_private/forkserver_exit.py`` (preloaded by the server only) ends the server with ``os._exit`` from
its first exit hook. Each program runs in a fresh interpreter, as a user's does.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

# Stands in for the server: imports the module, forks a process that ends through the normal
# shutdown with its own code, then ends itself (its unflushed output must still arrive).
_AS_THE_SERVER = """
import os, sys
import suitkaise_processing._private.forkserver_exit
pid = os.fork()
if pid == 0:
    print("from the forked process", flush=False)
    sys.exit(3)
_, status = os.waitpid(pid, 0)
print("forked process ended with", os.waitstatus_to_exitcode(status), flush=False)
"""

_SERVER = """
import multiprocessing.forkserver
from suitkaise_processing import Pool

if __name__ == "__main__":
    with Pool(workers=1) as pool:
        assert pool.map(abs, [-1]) == [1]
    print("server", multiprocessing.forkserver._forkserver._forkserver_pid)
"""


def _run(tmp_path: Path, text: str) -> str:
    script = tmp_path / "main_script.py"
    script.write_text(text)
    return subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, check=True, timeout=100
    ).stdout


@pytest.mark.timeout(60)
def test_the_server_flushes_its_output_and_a_process_forked_from_it_keeps_its_exit() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _AS_THE_SERVER],
        capture_output=True,
        text=True,
        check=True,
        timeout=50,
    ).stdout
    assert out.splitlines() == ["from the forked process", "forked process ended with 3"]


@pytest.mark.timeout(120)
def test_the_fork_server_ends_with_the_program(tmp_path: Path) -> None:
    out = _run(tmp_path, _SERVER)
    pid = int(out.split()[-1])
    assert pid != os.getpid()
    # the program's stdout reached its end, so the server (which holds it) has closed it: it is gone
    # or a zombie about to be reaped by init
    try:
        server = psutil.Process(pid)
        gone, _ = psutil.wait_procs([server], timeout=10)
        assert gone or server.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        pass
