"""Share attributes holding big arrays (issue 16): a write carries its buffers in a memory file that
the coordinator keeps mapped (no copy), a commit puts them in a buffer segment that readers map
privately (zero-copy reads), in every process; arrays of every dtype, non-contiguous and object
arrays (by copy); a reader or writer SIGKILLed while its memory is in use; a coordinator restart;
nothing left in /dev/shm; ``SK_SHM_BUFFERS=0``."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import share_big_workers as w
from large_data_workers import DTYPES, filled

from suitkaise_processing import Share
from suitkaise_processing._private import bigbuffers
from suitkaise_processing._private.share.protocol import OP_PING

pytestmark = [
    pytest.mark.timeout(180),
    pytest.mark.skipif(not bigbuffers.enabled(), reason="shared-memory buffers need Linux memfd"),
]

BIG = max(bigbuffers.THRESHOLD, 64 * 1024) * 2  # bytes: above the threshold
CTX = multiprocessing.get_context("spawn")


def _arrays() -> dict[str, np.ndarray]:
    """Name -> array: every dtype contiguous, non-contiguous (a stride) and Fortran-ordered 2-D,
    and an object array."""
    arrays: dict[str, np.ndarray] = {}
    for k, dtype in enumerate(DTYPES):
        base = filled(dtype, 2 * BIG, seed=k)
        arrays[f"c{k}"] = base[: len(base) // 2]
        arrays[f"s{k}"] = base[::2]
        half = base[: len(base) // 8 * 4]
        arrays[f"f{k}"] = np.asfortranarray(half.reshape(-1, 4))
    arrays["objects"] = np.array([1, "two", (3,), None, 4.5] * 20000, dtype=object)
    return arrays


def _out_of_band(array: np.ndarray) -> bool:
    """Whether numpy hands the data of ``array`` (once made contiguous) to pickle out of band."""
    found: list[pickle.PickleBuffer] = []
    pickle.dumps(np.ascontiguousarray(array), 5, buffer_callback=found.append)
    return bool(found)


def _segments(share: Share) -> list[str]:
    """The share's names in /dev/shm once the coordinator has retired what its commits replaced
    (it does that after raising the counters a read waits for, before it answers a command)."""
    if share.is_running:
        share._sk_router._sk_call(OP_PING, "", (), ())
    return sorted(n for n in os.listdir("/dev/shm") if n.startswith(f"sk_{share._sk_id()}_"))


def _buffer_segments(share: Share) -> list[str]:
    return [n for n in _segments(share) if n.rsplit("_", 1)[-1].startswith("b")]


def _coordinator_maps_memory_file(share: Share) -> bool:
    owner = share._sk_owner
    assert owner is not None
    with open(f"/proc/{owner.proc.pid}/maps") as maps:
        return "memfd:sk_buffers" in maps.read()


def _run(target: Any, *args: Any) -> None:
    proc = CTX.Process(target=target, args=args)
    proc.start()
    proc.join(120)
    assert proc.exitcode == 0


def test_arrays_written_in_a_worker_are_read_in_the_parent_and_another_process() -> None:
    arrays = _arrays()
    with Share() as share:
        _run(w.set_arrays, share, arrays)
        assert _coordinator_maps_memory_file(share)  # it kept the writer's memory, not a copy
        for name, expected in arrays.items():
            seen = w.snapshot(share, name)
            assert np.array_equal(seen, expected), name
            if name.startswith("c") and expected.dtype.isnative:
                # (spawn pickles the writer's arguments with protocol 4, which drops a non-native
                # byte order before our code sees the array)
                assert seen.dtype == expected.dtype, name
            # stored contiguous (pickle copied the strided ones): read without a copy, unless
            # numpy pickles the dtype in band (object, datetime64, timedelta64): then by copy
            assert w.in_shared_memory(seen) == _out_of_band(expected), name
        out = CTX.Queue()
        proc = CTX.Process(target=w.read_arrays, args=(share, list(arrays), out))
        proc.start()
        found = out.get(timeout=120)
        proc.join(60)
        assert proc.exitcode == 0
        for name, value, mapped in found:
            assert np.array_equal(value, arrays[name]), name
            assert mapped == _out_of_band(arrays[name]), name
        buffer_segments = len(_buffer_segments(share))
    assert buffer_segments == sum(_out_of_band(a) for a in arrays.values())
    assert not _segments(share)


def test_a_reader_killed_while_it_holds_a_view_costs_nothing() -> None:
    first = filled(np.float64, 4 * BIG)
    with Share() as share:
        share.arr = first
        out = CTX.Queue()
        reader = CTX.Process(target=w.hold_view_until_killed, args=(share, "arr", out))
        reader.start()
        try:
            assert out.get(timeout=120) == (0.0, True)
            share.arr = (
                first + 1
            )  # replaced (its buffer segment unlinked) while the reader views it
            assert w.snapshot(share, "arr")[0] == 1.0
        finally:
            reader.kill()
            reader.join(30)
        assert len(_buffer_segments(share)) == 1
        share.arr = first + 2
        assert np.array_equal(share.arr.copy(), first + 2)
        assert len(_buffer_segments(share)) == 1
    assert not _segments(share)


def test_a_view_outlives_the_replaced_value_and_the_killed_writer() -> None:
    first = filled(np.int32, 4 * BIG)
    with Share() as share:
        out = CTX.Queue()
        writer = CTX.Process(target=w.write_then_wait, args=(share, first, out))
        writer.start()
        try:
            out.get(timeout=120)
        finally:
            writer.kill()
            writer.join(30)
        held = w.snapshot(share, "arr")  # the coordinator still views the dead writer's memory
        assert np.array_equal(held, first)
        share.arr = first * 3
        assert np.array_equal(w.snapshot(share, "arr"), first * 3)
        assert np.array_equal(held, first)  # our view of the replaced value is still intact
        held[0] = 99  # copy-on-write: private to this process
        assert share.arr[0] == 0
    assert not _segments(share)


def test_a_big_value_survives_a_coordinator_restart() -> None:
    value = filled(np.float64, 4 * BIG)
    with Share() as share:
        _run(w.set_arrays, share, {"arr": value})
        owner = share._sk_owner
        assert owner is not None
        os.kill(owner.proc.pid, signal.SIGKILL)
        owner.proc.wait(30)
        assert owner.wait_restarted(1, 120), "the owner did not restart the coordinator"
        restored = w.snapshot(share, "arr")
        assert np.array_equal(restored, value)
        assert w.in_shared_memory(restored)
        assert len(_buffer_segments(share)) == 1
        share.arr = value * 2
        assert np.array_equal(share.arr.copy(), value * 2)
        assert len(_buffer_segments(share)) == 1
    assert not _segments(share)


_OPT_OUT = textwrap.dedent(
    """
    import os, sys
    sys.path.insert(0, {tests!r})
    import multiprocessing
    import numpy as np
    import share_big_workers as w
    from suitkaise_processing import Share

    if __name__ == "__main__":
        value = np.arange(1 << 18, dtype=np.float64)
        with Share() as share:
            p = multiprocessing.get_context("spawn").Process(
                target=w.set_arrays, args=(share, {{"arr": value}})
            )
            p.start()
            p.join(120)
            seen = w.snapshot(share, "arr")
            with open(f"/proc/{{share._sk_owner.proc.pid}}/maps") as maps:
                mapped = "memfd:sk_buffers" in maps.read()
            names = [n for n in os.listdir("/dev/shm") if n.startswith(f"sk_{{share._sk_id()}}_")]
            print("exit", p.exitcode, "equal", np.array_equal(seen, value))
            print("views", w.in_shared_memory(seen), "coordinator", mapped, "segments", len(names))
    """
)


def test_sk_shm_buffers_0_keeps_share_values_inside_the_records() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _OPT_OUT.format(tests=str(Path(__file__).parent))],
        env={**os.environ, "SK_SHM_BUFFERS": "0"},
        capture_output=True,
        text=True,
        timeout=150,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "exit 0 equal True" in done.stdout
    # control segment and one data segment, no buffer segment; the coordinator got a copy
    assert "views False coordinator False segments 2" in done.stdout
