"""Talents as weighted rows (model/talents.py)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from model.talents import NO_CARD, Status, Talents, cell_rows, rows_for

# --- rows_for -----------------------------------------------------------------------------


def test_rows_for_the_documented_example() -> None:
    cell, weight = rows_for(np.array([250]), 100)
    np.testing.assert_array_equal(cell, [0, 0, 0])
    np.testing.assert_array_equal(weight, [100, 100, 50])


def test_rows_for_skips_empty_cells_and_keeps_cell_order() -> None:
    cell, weight = rows_for(np.array([0, 3, 0, 7]), 3)
    np.testing.assert_array_equal(cell, [1, 3, 3, 3])
    np.testing.assert_array_equal(weight, [3, 3, 3, 1])


@st.composite
def counts_and_scale(draw: st.DrawFn) -> tuple[np.ndarray, int]:
    """Persons per cell and a scale, at most 50 rows a cell so that examples stay small."""
    scale = draw(st.one_of(st.integers(1, 10), st.integers(1, 10**6)))
    counts = draw(hnp.arrays(np.int64, st.integers(0, 30), elements=st.integers(0, 50 * scale)))
    return counts, scale


@settings(deadline=None, max_examples=200)
@given(counts_and_scale())
def test_rows_for_weights_add_up_to_counts_exactly(counts_scale: tuple[np.ndarray, int]) -> None:
    counts, scale = counts_scale
    cell, weight = rows_for(counts, scale)
    assert len(cell) == len(weight)
    np.testing.assert_array_equal(np.bincount(cell, weights=weight, minlength=len(counts)), counts)
    assert (weight >= 1).all()
    assert (weight <= scale).all()
    # as few rows as possible: whole rows of ``scale`` and at most one remainder a cell
    np.testing.assert_array_equal(np.bincount(cell, minlength=len(counts)), -(-counts // scale))
    assert (np.diff(cell) >= 0).all()


@settings(deadline=None, max_examples=100)
@given(counts_and_scale())
def test_cell_rows_are_rows_for_without_the_cell_index(counts_scale: tuple[np.ndarray, int]) -> None:
    counts, scale = counts_scale
    cell, weight = rows_for(counts, scale)
    rows_per_cell, narrow = cell_rows(counts, scale, np.int32)
    np.testing.assert_array_equal(np.repeat(np.arange(len(counts)), rows_per_cell), cell)
    assert narrow.dtype == np.int32
    np.testing.assert_array_equal(narrow, weight)


def test_scale_one_is_one_person_a_row() -> None:
    cell, weight = rows_for(np.array([2, 0, 3]), 1)
    np.testing.assert_array_equal(cell, [0, 0, 2, 2, 2])
    assert (weight == 1).all()


# --- Talents ------------------------------------------------------------------------------


def make(n: int, first_node: int = 0) -> Talents:
    """``n`` rows whose every column encodes the row number, so misalignment shows."""
    rows = np.arange(n)
    talents = Talents.new(
        node=(first_node + rows) % 17,
        group=rows % 5,
        age=20 + rows,
        status=np.full(n, Status.EMPLOYED),
        hukou=rows % 4,
        weight=100 + rows,
        is_high_end=rows % 2 == 0,
        is_foreign=rows % 3 == 0,
    )
    talents.firm[:] = rows
    talents.years_at_node[:] = rows
    return talents


def assert_aligned(talents: Talents, row_numbers: np.ndarray, first_node: int = 0) -> None:
    """Every column of every row still describes the same row."""
    lengths = {len(getattr(talents, name)) for name in Talents.column_names()}
    assert lengths == {len(row_numbers)}
    np.testing.assert_array_equal(talents.age, 20 + row_numbers)
    np.testing.assert_array_equal(talents.node, (first_node + row_numbers) % 17)
    np.testing.assert_array_equal(talents.group, row_numbers % 5)
    np.testing.assert_array_equal(talents.hukou, row_numbers % 4)
    np.testing.assert_array_equal(talents.weight, 100 + row_numbers)
    np.testing.assert_array_equal(talents.firm, row_numbers)
    np.testing.assert_array_equal(talents.years_at_node, row_numbers)
    np.testing.assert_array_equal(talents.is_high_end, row_numbers % 2 == 0)
    np.testing.assert_array_equal(talents.is_foreign, row_numbers % 3 == 0)


def test_new_rows_have_no_employer_card_or_tenure() -> None:
    talents = Talents.new(
        node=np.array([1, 2]),
        group=np.array([0, 4]),
        age=np.array([25, 30]),
        status=np.array([Status.UNEMPLOYED] * 2),
        hukou=np.array([3, 3]),
        weight=np.array([100, 1]),
    )
    assert (talents.firm == -1).all()
    assert (talents.years_at_node == 0).all()
    assert (talents.talent_card == NO_CARD).all()
    assert talents.has_degree.all()
    assert not talents.in_talent_housing.any()
    assert not talents.is_high_end.any() and not talents.is_foreign.any()
    for name, dtype in Talents.DTYPES.items():
        assert getattr(talents, name).dtype == dtype, name


def test_columns_of_different_lengths_are_refused() -> None:
    columns = {name: np.zeros(3, dtype) for name, dtype in Talents.DTYPES.items()}
    columns["age"] = np.zeros(2, np.int16)
    with pytest.raises(ValueError, match="differ in length"):
        Talents(**columns)


def test_keep_drops_rows_and_keeps_columns_aligned() -> None:
    talents = make(10)
    mask = np.array([True, False, True, True, False, False, True, False, False, True])
    talents.keep(mask)
    assert len(talents) == 5
    assert_aligned(talents, np.flatnonzero(mask))


def test_extend_appends_rows_and_keeps_columns_aligned() -> None:
    talents = make(4)
    talents.extend(make(3))
    assert len(talents) == 7
    assert_aligned(
        talents.__class__(**{name: getattr(talents, name)[:4] for name in Talents.column_names()}),
        np.arange(4),
    )
    assert_aligned(
        talents.__class__(**{name: getattr(talents, name)[4:] for name in Talents.column_names()}),
        np.arange(3),
    )
    assert talents.persons == (100 + 101 + 102 + 103) + (100 + 101 + 102)


def test_extend_then_keep_round_trip() -> None:
    talents = Talents.empty()
    talents.extend(make(6))
    talents.keep(np.arange(6) % 2 == 1)
    assert_aligned(talents, np.array([1, 3, 5]))


def test_new_rows_have_writable_flags() -> None:
    talents = Talents.new(
        node=np.array([1, 2]),
        group=np.array([0, 1]),
        age=np.array([25, 30]),
        status=np.array([Status.UNEMPLOYED] * 2),
        hukou=np.array([3, 3]),
        weight=np.array([100, 1]),
    )
    talents.is_foreign[0] = True
    talents.is_high_end[1] = True
    np.testing.assert_array_equal(talents.is_foreign, [True, False])
    np.testing.assert_array_equal(talents.is_high_end, [False, True])


# --- persons_by ---------------------------------------------------------------------------


def test_persons_by_sums_weights_per_index() -> None:
    talents = Talents.new(
        node=np.array([0, 2, 2, 0, 1]),
        group=np.zeros(5),
        age=np.full(5, 30),
        status=np.array([1, 1, 2, 2, 1]),
        hukou=np.zeros(5),
        weight=np.array([100, 100, 50, 1, 7]),
    )
    by_node = talents.persons_by(talents.node, 4)
    np.testing.assert_array_equal(by_node, [101, 7, 150, 0])
    assert by_node.dtype == np.int64
    unemployed = talents.persons_by(talents.node, 4, talents.status == Status.UNEMPLOYED)
    np.testing.assert_array_equal(unemployed, [1, 0, 50, 0])
    assert by_node.sum() == talents.persons == 258


def test_in_work_is_employed_or_looking() -> None:
    status = np.array([Status.STUDENT, Status.EMPLOYED, Status.UNEMPLOYED, Status.RETIRED])
    talents = Talents.new(
        node=np.zeros(4),
        group=np.zeros(4),
        age=np.full(4, 30),
        status=status,
        hukou=np.zeros(4),
        weight=np.ones(4),
    )
    np.testing.assert_array_equal(talents.in_work(), [False, True, True, False])
