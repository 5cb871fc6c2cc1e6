"""Large data through shared memory: numpy arrays as Pool arguments and results, Pipe messages and
Skprocess results, of every dtype and shape; received arrays view shared memory (copy-on-write);
memory is reused only once nothing views it, also when a worker is killed; nothing is left behind."""

from __future__ import annotations

import gc
import os
import pickle
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import large_data_workers as w
import numpy as np
import pytest
from pool_test_helpers import take_all

from suitkaise_processing import Pipe, Pool, Share, WorkerDiedError
from suitkaise_processing._private import bigbuffers

pytestmark = [
    pytest.mark.timeout(180),
    pytest.mark.skipif(not bigbuffers.enabled(), reason="shared-memory buffers need Linux memfd"),
]

BIG = max(bigbuffers.THRESHOLD, 64 * 1024) * 2  # bytes: above the threshold


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    """Give this test process's memory files back after each test: the cache keeps idle ones
    mapped (they count in its RSS, which later tests that fork a subprocess would inherit)."""
    yield
    gc.collect()
    bigbuffers._cache.clear()


SMALL = 1024


def _variants(a: np.ndarray) -> list[np.ndarray]:
    """Shapes and layouts of ``a``'s data: 1-d, 2-d C and Fortran order, non-contiguous, transposed."""
    n = len(a) - len(a) % 4
    square = a[:n].reshape(4, n // 4)
    return [a, square, np.asfortranarray(square), a[::3], square.T, a[:0], a[0:1].reshape(())]


def _same(got: Any, want: np.ndarray) -> bool:
    """``got`` is what pickle itself gives for ``want``: equal values, and the dtype and memory
    layout of a pickle round trip (a strided array arrives as a contiguous copy, and numpy drops a
    strided array's non-native byte order)."""
    ref = pickle.loads(pickle.dumps(want, pickle.HIGHEST_PROTOCOL))
    return (
        isinstance(got, np.ndarray)
        and got.dtype == ref.dtype
        and got.shape == want.shape
        and np.array_equal(got, want)
        and got.flags.c_contiguous == ref.flags.c_contiguous
        and got.flags.f_contiguous == ref.flags.f_contiguous
    )


def _all_arrays() -> list[np.ndarray]:
    arrays: list[np.ndarray] = []
    for dtype in w.DTYPES:
        for size in (BIG, SMALL):
            arrays.extend(_variants(w.filled(dtype, size)))
    objects = np.array([1, "two", (3,), None, 4.5] * 1000, dtype=object)
    arrays += [objects, objects[::2], objects.reshape(50, 100)]
    return arrays


def test_every_dtype_and_shape_round_trips_through_the_pool() -> None:
    arrays = _all_arrays()
    with Pool(workers=2) as pool:
        back = pool.map(w.echo, arrays)
    bad = [
        i for i, (got, want) in enumerate(zip(back, arrays, strict=True)) if not _same(got, want)
    ]
    assert bad == []


def test_big_contiguous_arrays_are_views_of_shared_memory_in_both_directions() -> None:
    big = w.filled(np.float64, 4 * BIG)
    cases = [big, big.reshape(8, -1), np.asfortranarray(big.reshape(8, -1)), big[:100], big[::2]]
    with Pool(workers=2) as pool:
        seen = pool.map(w.describe, cases)
        doubled = pool.map(w.double, [big, big[::2]])
    assert [s[0] for s in seen] == [True, True, True, False, False]  # small and strided: copied
    assert all(s[1] for s in seen)  # writeable in the worker (copy-on-write)
    assert w.in_shared_memory(doubled[0])
    assert doubled[0].flags.writeable
    assert np.array_equal(doubled[0], big * 2)
    assert np.array_equal(doubled[1], big[::2] * 2)


def test_writes_to_received_arrays_stay_private_and_read_only_arrays_stay_read_only() -> None:
    big = w.filled(np.int64, 4 * BIG)
    frozen = big.copy()
    frozen.setflags(write=False)
    with Pool(workers=2) as pool:
        sums = pool.map(w.add_one_in_place, [big, big])
        again = pool.map(w.echo, [big])[0]
        seen = pool.map(w.describe, [frozen])[0]
    assert sums == [float((big + 1).sum())] * 2  # each worker changed its own view only
    assert np.array_equal(big, w.filled(np.int64, 4 * BIG))
    again += 5  # the parent writes to a received result: copy-on-write, the memory file unchanged
    assert np.array_equal(again, big + 5)
    assert seen[:2] == (True, False)


def test_results_still_held_are_never_overwritten_when_memory_is_reused() -> None:
    rounds = [[w.filled(np.float64, 2 * BIG) + k + 10 * r for k in range(8)] for r in range(4)]
    held: list[list[np.ndarray]] = []
    with Pool(workers=2) as pool:
        for arrays in rounds:
            held.append(pool.map(w.double, arrays))
            pool.map(w.double, [a + 1 for a in arrays])  # dropped at once: their files are reused
    for arrays, results in zip(rounds, held, strict=True):
        assert all(np.array_equal(got, a * 2) for got, a in zip(results, arrays, strict=True))


def test_result_views_outlive_the_pool_and_its_workers() -> None:
    arrays = [w.filled(np.float32, 4 * BIG) + k for k in range(6)]
    with Pool(workers=2) as pool:
        results = pool.map(w.double, arrays)
        pids = pool._engine.worker_pids()
    for pid in pids:
        assert not os.path.exists(f"/proc/{pid}") or _is_zombie(pid)
    assert all(w.in_shared_memory(r) for r in results)
    assert all(np.array_equal(r, a * 2) for r, a in zip(results, arrays, strict=True))


def test_results_survive_terminate_killing_the_workers() -> None:
    arrays = [w.filled(np.float64, 4 * BIG) + k for k in range(4)]
    pool = Pool(workers=2)
    results = pool.map(w.double, arrays)
    pool.terminate()
    assert all(np.array_equal(r, a * 2) for r, a in zip(results, arrays, strict=True))


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True


def test_a_worker_killed_while_holding_a_view_fails_its_item_and_frees_the_memory() -> None:
    arrays = [w.filled(np.float64, 4 * BIG) + k + 1 for k in range(6)]
    arrays[2] = -arrays[2]
    expected = [float(a[: len(a) // 2].sum()) for a in arrays]
    with Pool(workers=2) as pool:
        results = list(take_all(pool.imap(w.die_holding, arrays)))
        assert results[:2] == expected[:2]
        assert isinstance(results[2], WorkerDiedError)
        assert pool.map(w.die_holding, arrays[3:]) == expected[3:]
    # every memory file the parent sent is free again: the dead worker's mappings went with it
    assert all(file.free() for file in bigbuffers._cache.files)


def test_concurrent_callers_and_pipes_read_their_own_data() -> None:
    errors: list[BaseException] = []

    def pool_caller(pool: Pool, seed: int) -> None:
        try:
            arrays = [w.filled(np.float64, 2 * BIG) * seed + k for k in range(6)]
            for _ in range(3):
                got = pool.map(w.double, arrays)
                assert all(np.array_equal(g, a * 2) for g, a in zip(got, arrays, strict=True))
        except BaseException as exc:
            errors.append(exc)

    def pipe_pair(seed: int) -> None:
        try:
            anchor, point = Pipe.pair()
            with anchor, point:
                for k in range(20):
                    value = w.filled(np.int32, 2 * BIG) * seed + k
                    anchor.send({"k": k, "a": value})
                    got = point.recv(timeout=60)
                    assert got["k"] == k
                    assert np.array_equal(got["a"], value)
                    assert w.in_shared_memory(got["a"])
        except BaseException as exc:
            errors.append(exc)

    with Pool(workers=2) as pool:
        threads = [threading.Thread(target=pool_caller, args=(pool, s)) for s in (1, 2, 3)]
        threads += [threading.Thread(target=pipe_pair, args=(s,)) for s in (4, 5, 6, 7)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(150)
    assert errors == []


def test_pipe_messages_to_another_process_carry_arrays_in_shared_memory() -> None:
    arrays = [w.filled(np.float64, 16 << 20), *_variants(w.filled(np.dtype("U7"), BIG))]
    arrays.append(np.array([{"a": 1}, [2]], dtype=object))
    with w.echoing() as anchor:
        for value in arrays:
            anchor.send(value)
            child_saw_shared, back = anchor.recv(timeout=60)
            assert _same(back, value)
            big_contiguous = value.nbytes >= bigbuffers.THRESHOLD and (
                value.flags.c_contiguous or value.flags.f_contiguous
            )
            assert child_saw_shared == big_contiguous
            assert w.in_shared_memory(back) == big_contiguous


def test_skprocess_result_array_arrives_in_shared_memory() -> None:
    result = w.ArrayResult(1 << 20).run()
    assert np.array_equal(result, np.arange(1 << 20, dtype=np.float64))
    assert w.in_shared_memory(result)


_SCRIPT = textwrap.dedent(
    """
    import os, sys, gc
    sys.path.insert(0, {tests!r})
    import numpy as np
    import large_data_workers as w
    from suitkaise_processing import Pool
    from suitkaise_processing._private import bigbuffers

    def memory_files():
        found = 0
        for fd in os.listdir("/proc/self/fd"):
            try:
                found += os.readlink(f"/proc/self/fd/{{fd}}").startswith("/memfd:sk_buffers")
            except OSError:
                pass
        return found

    if __name__ == "__main__":
        a = np.arange(1 << 20, dtype=np.float64)
        with Pool(workers=2) as pool:
            seen = pool.map(w.describe, [a, a])
            results = pool.map(w.double, [a, a, a])
        print("shared", seen[0][0], w.in_shared_memory(results[0]))
        assert all(np.array_equal(r, a * 2) for r in results)
        del results
        gc.collect()
        print("cached", memory_files() > 0 or not bigbuffers.enabled())
        # the cached files are anonymous memory files: none of them has a name in /dev/shm
        print("named", sum("sk_buffers" in name for name in os.listdir("/dev/shm")))
        bigbuffers._cache.clear()
        print("left", memory_files())
    """
)


def _run_script(env: dict[str, str]) -> str:
    tests = str(Path(__file__).parent)
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT.format(tests=tests)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no resource_tracker warning, nothing leaked
    return done.stdout


def test_a_fresh_program_leaves_no_descriptor_and_nothing_in_dev_shm() -> None:
    out = _run_script({})
    assert "shared True True" in out
    assert "cached True" in out
    assert "named 0" in out
    assert "left 0" in out


def test_the_environment_switch_turns_shared_memory_off() -> None:
    out = _run_script({"SK_SHM_BUFFERS": "0"})
    assert "shared False False" in out
    assert "left 0" in out


def test_a_share_method_result_with_a_big_array_comes_back_in_shared_memory() -> None:
    value = w.filled(np.float64, 4 * BIG)
    with Share() as share:
        share.big = value
        reshaped = share.big.reshape(-1)  # runs in the coordinator; its result is the reply
        copied = share.big.copy()  # a method that only reads runs here, on the snapshot
    assert np.array_equal(reshaped, value)
    assert w.in_shared_memory(reshaped)
    assert np.array_equal(copied, value)
    assert copied.flags.owndata


def test_pool_shared_memory_false_sends_arrays_inside_the_messages() -> None:
    big = w.filled(np.float64, 4 * BIG)
    with Pool(workers=1, shared_memory=False) as pool:
        seen = pool.map(w.describe, [big])[0]
        doubled = pool.map(w.double, [big])[0]
    assert seen[:2] == (False, True)
    assert not w.in_shared_memory(doubled)
    assert np.array_equal(doubled, big * 2)


def test_pipe_pair_shared_memory_false_sends_arrays_inside_the_messages_in_both_processes() -> None:
    value = w.filled(np.float64, 4 * BIG)
    with w.echoing(shared_memory=False) as anchor:
        anchor.send(value)
        child_saw_shared, back = anchor.recv(timeout=60)
    assert not child_saw_shared
    assert not w.in_shared_memory(back)  # the moved point kept the setting
    assert np.array_equal(back, value)
