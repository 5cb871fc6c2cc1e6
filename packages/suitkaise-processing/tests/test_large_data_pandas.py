"""pandas objects hand their column arrays over through shared memory, like numpy arrays: Pool
arguments and results, Pipe messages to another process. Columns of Python objects travel in the
stream (by copy); every value arrives equal."""

from __future__ import annotations

from collections.abc import Iterator

import large_data_workers as w
import numpy as np
import pandas as pd
import pytest

from suitkaise_processing import Pool
from suitkaise_processing._private import bigbuffers

pytestmark = [
    pytest.mark.timeout(180),
    pytest.mark.skipif(not bigbuffers.enabled(), reason="shared-memory buffers need Linux memfd"),
]

ROWS = 400_000  # 3.2 MB per float64 column: far above the shared-memory threshold


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    yield
    bigbuffers._cache.clear()


def _frame(seed: int = 0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "a": np.arange(ROWS, dtype=np.float64) + seed,
            "b": (np.arange(ROWS, dtype=np.int64) * 3) % 1_000 + seed,
            "label": [f"row{i % 7}" for i in range(ROWS)],
        }
    )


def test_frames_through_the_pool_arrive_in_shared_memory_both_ways() -> None:
    frames = [_frame(seed) for seed in range(3)]
    with Pool(workers=2) as pool:
        reports = pool.map(w.frame_report, frames)
        series = pool.map(w.echo, [frames[0]["a"]])[0]
    for frame, (in_worker, back) in zip(frames, reports, strict=True):
        assert in_worker == [True, True]  # the numeric columns viewed shared memory in the worker
        assert w.numeric_columns_in_shared_memory(back) == [True, True, True]
        assert back.drop(columns="doubled").equals(frame)
        assert np.array_equal(back["doubled"].to_numpy(), frame["a"].to_numpy() * 2)
    assert series.equals(frames[0]["a"])
    assert w.numeric_columns_in_shared_memory(series) == [True]


def test_frames_through_a_pipe_to_another_process_arrive_in_shared_memory() -> None:
    with w.echoing(w.numeric_columns_in_shared_memory) as anchor:
        for seed in range(2):
            frame = _frame(seed)
            anchor.send(frame)
            in_child, back = anchor.recv(timeout=60)
            assert in_child == [True, True]
            assert w.numeric_columns_in_shared_memory(back) == [True, True]
            assert back.equals(frame)
