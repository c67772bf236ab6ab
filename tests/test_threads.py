"""One run's passes shared among threads (``model.kernels.in_parts``, ``on_each``): the same
results to the bit however many threads take part."""

from __future__ import annotations

import multiprocessing

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model import kernels
from model.demography import uniform_chunks
from model.programmes import _random_order_within
from model.scenario import Scenario
from tests.conftest import SEED, run_to_end


def test_a_run_gives_the_same_tables_on_one_thread_and_on_three(
    small_baseline: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kernels, "MIN_PART", 64)  # cut even this small run's passes
    with kernels.threads(1):
        alone = run_to_end(small_baseline, SEED)
    with kernels.threads(3):
        shared = run_to_end(small_baseline, SEED)
    for name, table in alone.tables.items():
        pd.testing.assert_frame_equal(shared.tables[name], table, obj=name)


def test_in_parts_sums_the_parts_counts_and_fills_every_rows_output(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kernels, "MIN_PART", 10)
    rng = np.random.default_rng(1)
    index, weight = rng.integers(0, 7, 1000).astype(np.int8), rng.integers(1, 100, 1000).astype(np.int32)
    marked = np.zeros(1000, bool)

    def count_and_mark(part: slice) -> tuple[np.ndarray, int]:
        marked[part] = True
        return kernels.count(index[part], weight[part], 7), int(weight[part].sum())

    with kernels.threads(3):
        counts, total = kernels.in_parts(count_and_mark, 1000)
    np.testing.assert_array_equal(counts, np.bincount(index, weights=weight, minlength=7))
    assert total == weight.sum() and marked.all()


def _passes_and_draws() -> tuple[list[int], int]:
    counts = kernels.in_parts(
        lambda p: kernels.count(np.zeros(100, np.int8)[p], np.ones(100, np.int32)[p], 1), 100
    )
    return counts.tolist(), sum(len(u) for u in uniform_chunks(np.random.default_rng(0), 10, chunk=3))


def test_a_forked_child_runs_passes_and_draws_on_threads_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kernels, "MIN_PART", 10)
    with kernels.threads(2):
        assert _passes_and_draws() == ([100], 10)  # the parent's pools have their threads now
        with multiprocessing.get_context("fork").Pool(1) as pool:  # as mesa.batch_run's processes
            assert pool.apply_async(_passes_and_draws).get(timeout=60) == ([100], 10)


def test_on_each_keeps_the_items_order() -> None:
    with kernels.threads(2):
        assert kernels.on_each(lambda x: x * x, range(7)) == [0, 1, 4, 9, 16, 25, 36]


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(0, 3000),
    n_cells=st.integers(1, 300),
    threads=st.integers(1, 4),
    with_priority=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_the_random_order_within_cells_is_lexsorts_cut_in_parts_or_not(
    n: int, n_cells: int, threads: int, with_priority: bool, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    cells = rng.integers(0, n_cells, n).astype(np.int8 if n_cells < 128 else np.int64)
    u = rng.random(n)
    tied = slice(n // 10, 2 * (n // 10))
    cells[: n // 10], u[: n // 10] = cells[tied], u[tied]  # ties: they keep row order
    priority = rng.random(n) < 0.3 if with_priority else None
    expected = np.lexsort([u, ~priority, cells] if priority is not None else [u, cells])
    previous = kernels.MIN_PART
    kernels.MIN_PART = 16
    try:
        with kernels.threads(threads):
            np.testing.assert_array_equal(_random_order_within(cells, u, priority), expected)
    finally:
        kernels.MIN_PART = previous
