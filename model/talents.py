"""Talents: residents with tertiary education (大专及以上, the census definition), held as columns.

There are about 14 million of them in 2010 and about 19 million by 2015, too many for one Python
object each. So a talent is a row of NumPy arrays (one array per attribute) and every rule is
applied to all rows at once. Each row carries a ``weight``: high-end talents are always one
person a row; others are ``scale`` persons a row (``scale=1`` simulates everyone). All counts
the model reports are sums of weights, so they are in persons whatever the scale.

A row's wage is not stored: it is its employer's wage for its group (``firms.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import IntEnum

import numpy as np

from model import kernels

GROUPS: tuple[str, ...] = ("research", "engineering", "management", "professional", "skilled")
"""Occupation groups (docs/architecture.md): scientists; engineers and technicians; managers; teachers,
doctors, lawyers and other professionals; high-skill workers."""


class Status(IntEnum):
    STUDENT = 0
    EMPLOYED = 1
    UNEMPLOYED = 2
    RETIRED = 3


HUKOU_ELSEWHERE = 3
"""Hukou index of talents registered elsewhere in China (0-2 index ``PROVINCES``)."""
HUKOU_ABROAD = 4
"""Hukou index of foreign talents, who hold none."""
NO_CARD = -1
"""``talent_card`` of a talent who holds none."""


@dataclass
class Talents:
    """All talents, one row per weighted agent; every column has the same length.

    Attributes:
        node: index of the node the talent chose (layout order): where it works, or, out of
            work (students, the retired), where it lives.
        home: index of the node where the talent lives: ``node``, or for a talent in work
            another node within commuting range of it (nested home choice, model/choice.py).
        group: occupation group, index into ``GROUPS``.
        is_high_end: leading talents, academicians, national programme recruits.
        is_foreign: foreign nationals and residents from Hong Kong, Macao and Taiwan.
        age: years.
        status: a ``Status``.
        hukou: household registration: 0-2 a province of the region, 3 elsewhere in China,
            4 none (foreign).
        firm: index of the employer (``model.firms``), -1 for none.
        years_at_node: whole years since arriving at the current node.
        talent_card: province (0-2, index ``PROVINCES``) that issued the talent's Jing-Jin-Ji
            talent card (plan 四(十二)), -1 for none; its privileges hold in that province.
        in_talent_housing: lives in talent housing (plan 四(十三)).
        keeps_beijing_services: moved with a relocated function and keeps Beijing's public
            services (plan 三(三)).
        has_degree: holds a tertiary degree. False only for skilled workers trained to high-skill
            level by the alliance (plan 四(四)): they work and move like talents of the skilled
            group but are counted apart, as skilled workers, not in the census talent stock.
        weight: persons the row stands for.
        id: who the row is, for its random draws: when and how it was made and its place among
            the rows made with it (``model.draws.new_ids``); -1 until the model names it.
    """

    node: np.ndarray
    home: np.ndarray
    group: np.ndarray
    is_high_end: np.ndarray
    is_foreign: np.ndarray
    age: np.ndarray
    status: np.ndarray
    hukou: np.ndarray
    firm: np.ndarray
    years_at_node: np.ndarray
    talent_card: np.ndarray
    in_talent_housing: np.ndarray
    keeps_beijing_services: np.ndarray
    has_degree: np.ndarray
    weight: np.ndarray
    id: np.ndarray

    DTYPES = {
        "node": np.int8,
        "home": np.int8,
        "group": np.int8,
        "is_high_end": np.bool_,
        "is_foreign": np.bool_,
        "age": np.int16,
        "status": np.int8,
        "hukou": np.int8,
        "firm": np.int16,
        "years_at_node": np.int16,
        "talent_card": np.int8,
        "in_talent_housing": np.bool_,
        "keeps_beijing_services": np.bool_,
        "has_degree": np.bool_,
        "weight": np.int32,  # persons a row: at most the scale; every sum of weights is taken in int64
        "id": np.int64,
    }

    SPARE = 8
    """A column grown by ``keep`` or ``extend`` gets room for an eighth more rows after it, so
    that the next years' rows are appended and the dead dropped in place, without a new array
    (untouched room takes no memory)."""

    def __post_init__(self) -> None:
        lengths = {len(getattr(self, name)) for name in self.column_names()}
        if len(lengths) > 1:
            raise ValueError(f"talent columns differ in length: {sorted(lengths)}")
        for name, dtype in self.DTYPES.items():
            setattr(self, name, np.asarray(getattr(self, name), dtype=dtype))
        # the arrays this object made (``_room``), each column their head; the columns it was
        # given are the caller's and never written in place by ``keep`` or ``extend``
        self._buffers: dict[str, np.ndarray] = {}

    @classmethod
    def column_names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    @classmethod
    def empty(cls) -> Talents:
        return cls(**{name: np.zeros(0, dtype) for name, dtype in cls.DTYPES.items()})

    @classmethod
    def new(
        cls,
        node: np.ndarray,
        group: np.ndarray,
        age: np.ndarray,
        status: np.ndarray,
        hukou: np.ndarray,
        weight: np.ndarray,
        is_high_end: np.ndarray | bool = False,
        is_foreign: np.ndarray | bool = False,
        has_degree: bool = True,
    ) -> Talents:
        """Rows for people entering the model: living where they are, no employer, no card,
        just arrived."""
        n, dtype = len(node), cls.DTYPES  # each column made in its own type: no widened copy first
        node = np.asarray(node, dtype["node"])
        return cls(
            node=node,
            home=node.copy(),
            group=group,
            age=age,
            status=status,
            hukou=hukou,
            weight=weight,
            is_high_end=np.full(n, is_high_end, dtype["is_high_end"]),
            is_foreign=np.full(n, is_foreign, dtype["is_foreign"]),
            firm=np.full(n, -1, dtype["firm"]),
            years_at_node=np.zeros(n, dtype["years_at_node"]),
            talent_card=np.full(n, NO_CARD, dtype["talent_card"]),
            in_talent_housing=np.zeros(n, dtype["in_talent_housing"]),
            keeps_beijing_services=np.zeros(n, dtype["keeps_beijing_services"]),
            has_degree=np.full(n, has_degree, dtype["has_degree"]),
            id=np.full(n, -1, dtype["id"]),
        )

    def __len__(self) -> int:
        return len(self.weight)

    @property
    def persons(self) -> int:
        return int(self.weight.sum())

    def keep(self, mask: np.ndarray, *added: Talents) -> None:
        """Drop the rows where ``mask`` is False (deaths, departures), then append ``added``'s
        rows (arrivals) after them: one compiled pass per column, in place where the column
        has the room (row k of the result is row i >= k of the column: nothing is overwritten
        before it is read); the columns shared among ``kernels.THREADS`` threads."""
        kept = int(np.count_nonzero(mask))
        size = kept + sum(len(other) for other in added)

        def compact(name: str) -> None:
            buffer = self._room(name, size)  # rows past ``kept`` undefined until filled
            kernels.compact_into(getattr(self, name), mask, buffer)
            _fill_after(buffer, kept, [getattr(other, name) for other in added])
            setattr(self, name, buffer[:size])  # the column's old array may go now

        kernels.on_each(compact, self.column_names())

    def extend(self, *others: Talents) -> None:
        """Append the rows of ``others``, in order (entrants, arrivals): into the columns' room
        where they have it, else in one copy per column; the columns shared among
        ``kernels.THREADS`` threads."""
        others = tuple(other for other in others if len(other))
        if not others:
            return
        n = len(self)
        size = n + sum(len(other) for other in others)

        def append(name: str) -> None:
            column, buffer = getattr(self, name), self._buffers.get(name)
            if buffer is None or not _is_head(column, buffer) or len(buffer) < size:
                buffer = self._room(name, size)
                buffer[:n] = column
            _fill_after(buffer, n, [getattr(other, name) for other in others])
            setattr(self, name, buffer[:size])

        kernels.on_each(append, self.column_names())

    def _room(self, name: str, size: int) -> np.ndarray:
        """This object's own array for column ``name`` with room for ``size`` rows: the one it
        has if large enough, else a new one with ``SPARE`` room (its contents undefined)."""
        buffer = self._buffers.get(name)
        if buffer is None or len(buffer) < size:
            buffer = np.empty(size + size // self.SPARE, self.DTYPES[name])
            self._buffers[name] = buffer
        return buffer

    def persons_by(self, index: np.ndarray, size: int, mask: np.ndarray | None = None) -> np.ndarray:
        """Persons summed by an integer ``index`` per row (e.g. node), optionally over ``mask``.

        One compiled pass over the columns as they are (no widened or masked copies), its rows
        shared among ``kernels.THREADS`` threads (``kernels.in_parts``).
        """
        w = self.weight
        if mask is None:
            return kernels.in_parts(lambda p: kernels.count(index[p], w[p], size), len(w))
        return kernels.in_parts(lambda p: kernels.count_masked(index[p], w[p], mask[p], size), len(w))

    def in_work(self) -> np.ndarray:
        """Rows in the labour force: employed or looking for work."""
        return (self.status == Status.EMPLOYED) | (self.status == Status.UNEMPLOYED)


def _is_head(column: np.ndarray, buffer: np.ndarray) -> bool:
    """Whether ``column`` is the first rows of ``buffer`` (a view from its start)."""
    return column.base is buffer and column.ctypes.data == buffer.ctypes.data


def _fill_after(column: np.ndarray, start: int, parts: list[np.ndarray]) -> None:
    """Copy ``parts`` one after another into ``column`` from ``start`` on."""
    for part in parts:
        column[start : start + len(part)] = part
        start += len(part)


def rows_for(counts: np.ndarray, scale: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows standing for ``counts[i]`` persons of each cell i at ``scale`` persons a row.

    Each cell gets whole rows of ``scale`` persons and one row for the remainder, so weights add
    up to the counts exactly: ``rows_for([250], 100) -> ([0, 0, 0], [100, 100, 50])``.

    Returns (cell index per row, weight per row).
    """
    rows_per_cell, weight = cell_rows(counts, scale)
    return np.repeat(np.arange(len(rows_per_cell)), rows_per_cell), weight


def cell_rows(counts: np.ndarray, scale: int, dtype: type = np.int64) -> tuple[np.ndarray, np.ndarray]:
    """``rows_for`` without the cell index per row: rows per cell, and the weight per row (in
    ``dtype``), so a caller can repeat what it needs of each cell in its own type."""
    counts = np.asarray(counts, dtype=np.int64)
    full, rest = np.divmod(counts, scale)
    rows_per_cell = full + (rest > 0)
    last_row = np.cumsum(rows_per_cell) - 1
    weight: np.ndarray = np.full(int(rows_per_cell.sum()), scale, dtype=dtype)
    has_rest = rest > 0
    weight[last_row[has_rest]] = rest[has_rest]
    return rows_per_cell, weight
