"""Compiled passes over the talent rows (numba), each replacing a chain of NumPy passes.

At full scale a year is a few dozen passes over 30 million rows; in NumPy each pass also makes
temporaries (masks, ``astype`` widenings for ``bincount`` and ``ravel_multi_index``, masked
weights). These kernels read the narrow columns as they are and do one pass each. They do the
same arithmetic in the same order as the NumPy code they replace. They take their random
numbers as arguments, or, in the passes over all rows, the key of the year's draws for their
purpose and the rows' ids, making each row's number where it is used (``keyed_uniform``,
model/draws.py), so a seed gives the same tables.

Sums of weights are accumulated as int64 (exact); where the NumPy code summed float products,
the kernels sum the same float products in row order, as ``bincount`` does.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

import numpy as np
from numba import njit

R = TypeVar("R")
T = TypeVar("T")

MAX_THREADS = 4
THREADS = max(1, min(os.cpu_count() or 1, MAX_THREADS))
"""Threads sharing one run's passes over all rows (``in_parts``, ``on_each``): the kernels
release the GIL, so a pass cut in parts runs on that many cores at once. A sweep's runs use one
(``threads(1)`` in ``experiments.runner.run_task``): its worker processes fill the cores already."""
MIN_PART = 1 << 16
"""Rows below which a pass is not cut: a hand-off to a thread costs some 50 microseconds."""
_PASSES = ThreadPoolExecutor(max_workers=MAX_THREADS, thread_name_prefix="passes")


def _new_pool_after_fork() -> None:
    # A forked child (e.g. ``mesa.batch_run``'s processes) inherits the pool without its
    # threads, and would wait forever for them: it starts its own.
    global _PASSES
    _PASSES = ThreadPoolExecutor(max_workers=MAX_THREADS, thread_name_prefix="passes")


os.register_at_fork(after_in_child=_new_pool_after_fork)


@contextmanager
def threads(n: int) -> Iterator[None]:
    """``THREADS`` set to ``n`` within the block (process-wide: a setting, not a lock)."""
    global THREADS
    before, THREADS = THREADS, max(1, min(n, MAX_THREADS))
    try:
        yield
    finally:
        THREADS = before


def in_parts(pass_over: Callable[[slice], R], n: int) -> R:
    """``pass_over(slice(0, n))``, as the sum of ``pass_over`` on ``THREADS`` consecutive parts
    of the ``n`` rows, each part on its own thread.

    Only for passes whose results are counts of whole persons (int64 arrays or integers, or a
    tuple of them) and whose per-row outputs are written in place: those are the same to the
    bit however the rows are cut. Not to be called from within a part: the parts' threads
    would wait on themselves.
    """
    parts = min(THREADS, max(1, n // MIN_PART))
    if parts == 1:
        return pass_over(slice(0, n))
    cuts = [n * k // parts for k in range(parts + 1)]
    results: list[Any] = list(_PASSES.map(pass_over, [slice(a, b) for a, b in zip(cuts, cuts[1:])]))
    if isinstance(results[0], tuple):
        return tuple(sum(values[1:], values[0]) for values in zip(*results))  # type: ignore[return-value]
    return sum(results[1:], results[0])  # type: ignore[no-any-return]


def in_background(function: Callable[..., R], *args: Any) -> Future[R]:
    """``function(*args)`` started on one of the pool's threads (``demography.uniform_chunks``
    draws its next chunk there)."""
    return _PASSES.submit(function, *args)


def on_each(function: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """``[function(item) for item in items]``, on ``THREADS`` threads (e.g. one column each of a
    table's columns, in a function that calls kernels or copies arrays: both release the GIL)."""
    items = list(items)
    width = min(THREADS, len(items))
    if width <= 1:
        return [function(item) for item in items]
    shares = _PASSES.map(lambda k: [function(item) for item in items[k::width]], range(width))
    results: list[Any] = [None] * len(items)
    for k, share in enumerate(shares):
        results[k::width] = share
    return results


_GOLDEN_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)


@njit(cache=True, nogil=True, inline="always")
def keyed_uniform(key: np.uint64, row_id: np.int64) -> float:
    """The SplitMix64 output at ``row_id + 1`` of the stream seeded ``key``, in [0, 1).

    Its top 53 bits over 2^53 (model/draws.py)::

        z = key + (id + 1) * 0x9E3779B97F4A7C15              (mod 2^64)
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB
        u = (z ^ (z >> 31)) >> 11  /  2^53
    """
    if row_id < 0:
        raise ValueError("a talent row without an id drew a number (model/draws.py)")
    z = np.uint64(key) + np.uint64(row_id + 1) * _GOLDEN_GAMMA  # uint64 even if given an int
    z = (z ^ (z >> np.uint64(30))) * _MIX_1
    z = (z ^ (z >> np.uint64(27))) * _MIX_2
    z = z ^ (z >> np.uint64(31))
    return np.float64(z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True, nogil=True)
def keyed_uniforms(ids: np.ndarray, key: np.uint64, out: np.ndarray) -> int:
    """``out[i] = keyed_uniform(key, ids[i])``; returns 0 (for ``in_parts``)."""
    for i in range(len(ids)):
        out[i] = keyed_uniform(key, ids[i])
    return 0


@njit(cache=True, nogil=True)
def row_ids(
    year: int,
    sources: np.ndarray,
    source: int,
    status: np.ndarray,
    is_foreign: np.ndarray,
    is_high_end: np.ndarray,
    group: np.ndarray,
    node: np.ndarray,
    bits: np.ndarray,
    rank_bits: int,
    out: np.ndarray,
) -> int:
    """The ids of rows made together (``model.draws.new_ids``, whose checks come first), into
    ``out``; returns the most rows made alike (for the check of the rank's bits).

    ``bits`` holds the widths of the five fields, in the order of the arguments (status,
    is_foreign, is_high_end, group, node), then the source's. They are packed high to low as
    year | source | node | ... | status, with each row's source ``sources[i]`` (or ``source``
    when ``sources`` is empty), and the rank among the rows before it with the same source and
    fields last (0, 1, ... in the order given)::

        id = ((year << (source + cell bits) | source << cell bits | cell) << rank_bits) | rank
    """
    cell_bits = bits[0] + bits[1] + bits[2] + bits[3] + bits[4]
    seen = np.zeros(1 << (bits[5] + cell_bits), np.int64)
    year_part = np.int64(year) << (bits[5] + cell_bits)
    most = 0
    for i in range(len(out)):
        cell = np.int64(node[i])
        cell = (cell << bits[3]) | np.int64(group[i])
        cell = (cell << bits[2]) | np.int64(is_high_end[i])
        cell = (cell << bits[1]) | np.int64(is_foreign[i])
        cell = (cell << bits[0]) | np.int64(status[i])
        alike = ((np.int64(sources[i]) if len(sources) else np.int64(source)) << cell_bits) | cell
        rank = seen[alike]
        seen[alike] = rank + 1
        most = max(most, rank + 1)
        out[i] = ((year_part | alike) << rank_bits) | rank
    return most


@njit(cache=True, nogil=True)
def compact_into(column: np.ndarray, mask: np.ndarray, out: np.ndarray) -> None:
    """The values of ``column`` where ``mask`` holds, in order, into the head of ``out`` (a
    row filter without the boolean index's extra pass and the separate copy to grow after it).

    ``out`` may be ``column`` itself, or hold it from its start: row i is written at k <= i,
    after it was read. Without a branch while k < len(out): every row is written at k, and k
    moves on past the rows kept (the next write covers a row dropped).
    """
    k = 0
    room = min(len(column), len(out))
    for i in range(room):
        out[k] = column[i]
        k += mask[i]
    for i in range(room, len(column)):
        if mask[i]:
            out[k] = column[i]
            k += 1


@njit(cache=True, nogil=True, inline="always")
def _firm_of(node, group, cumulative, u):
    # the firm (node x sectors + sector) of the sector where u falls in the running sums
    # cumulative[node, group] of the sector chances (the number of sums below u, at most the last)
    n_sectors = cumulative.shape[2]
    sector = 0
    for s in range(n_sectors):
        if u > cumulative[node, group, s]:
            sector += 1
    return np.int64(node) * n_sectors + min(sector, n_sectors - 1)


@njit(cache=True, nogil=True)
def draw_firms(node: np.ndarray, group: np.ndarray, cumulative: np.ndarray, u: np.ndarray) -> np.ndarray:
    """An employer per row: the firm (node x sectors + sector) of the sector where ``u`` falls
    in the running sums ``cumulative[node, group]`` of the sector chances (the number of sums
    below ``u``, at most the last sector)."""
    out = np.empty(len(node), np.int64)
    for i in range(len(node)):
        out[i] = _firm_of(node[i], group[i], cumulative, u[i])
    return out


@njit(cache=True, nogil=True)
def draw_staff(
    status: np.ndarray,
    node: np.ndarray,
    group: np.ndarray,
    weight: np.ndarray,
    cumulative: np.ndarray,
    u: np.ndarray,
    employed: int,
    firm: np.ndarray,
    staff: np.ndarray,
) -> None:
    """``draw_firms`` for the rows of status ``employed``, the k-th of them with the draw
    ``u[k]``, into ``firm`` in place, and their persons added to ``staff[firm, group]``."""
    k = 0
    for i in range(len(status)):
        if status[i] == employed:
            f = _firm_of(node[i], group[i], cumulative, u[k])
            firm[i] = f
            staff[f, group[i]] += weight[i]
            k += 1


@njit(cache=True, nogil=True)
def search_right(cumulative: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``cumulative.searchsorted(u, side="right")`` for ascending ``cumulative``: per row the
    number of entries <= ``u``, counted over all of them without a branch (for tables of some
    dozens, faster than a binary search, whose branches the random ``u`` mispredicts)."""
    out = np.empty(len(u), np.int64)
    for i in range(len(u)):
        k = 0
        for j in range(len(cumulative)):
            k += cumulative[j] <= u[i]
        out[i] = k
    return out


@njit(cache=True, nogil=True)
def fill(order_cells: np.ndarray, weights: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """``programmes.fill`` for whole-person weights, in one pass: a row is taken while the
    persons before it in its cell (``order_cells`` sorted) plus half its own fit the capacity."""
    out = np.empty(len(order_cells), np.bool_)
    before = 0
    for i in range(len(order_cells)):
        if i == 0 or order_cells[i] != order_cells[i - 1]:
            before = 0
        out[i] = before + weights[i] / 2 <= capacity[order_cells[i]]
        before += weights[i]
    return out


@njit(cache=True, nogil=True)
def hukou_of_rows(
    node: np.ndarray,
    province: np.ndarray,
    local_share: np.ndarray,
    u: np.ndarray,
    from_region_share: float,
    elsewhere: int,
) -> np.ndarray:
    """``demography.assign_hukou`` per row from its draw ``u``: the province of the row's node
    below the node's ``local_share``, then each of the two other provinces of the region (half
    of ``from_region_share`` of the rest each), else ``elsewhere`` (``province`` and
    ``local_share`` by node, looked up here: no per-row copies)."""
    out = np.empty(len(node), np.int8)
    for i in range(len(node)):
        local = local_share[node[i]]
        from_region = (1.0 - local) * from_region_share
        p = province[node[i]]
        if u[i] < local:
            out[i] = p
        elif u[i] < local + from_region / 2:
            out[i] = (p + 1) % 3
        elif u[i] < local + from_region:
            out[i] = (p + 2) % 3
        else:
            out[i] = elsewhere
    return out


@njit(cache=True, nogil=True)
def record_moves(
    origin: np.ndarray,
    destination: np.ndarray,
    group: np.ndarray,
    weight: np.ndarray,
    flows: np.ndarray,
    outflow: np.ndarray,
    inflow: np.ndarray,
) -> None:
    """``YearAccounts.move``: persons added to ``flows[origin, destination, group]`` and to the
    nodes' outflow and inflow (index ``len(outflow)`` on either side is outside the region)."""
    n = len(outflow)
    for i in range(len(origin)):
        w = weight[i]
        flows[origin[i], destination[i], group[i]] += w
        if origin[i] < n:
            outflow[origin[i]] += w
        if destination[i] < n:
            inflow[destination[i]] += w


@njit(cache=True, nogil=True)
def count(index: np.ndarray, weight: np.ndarray, size: int) -> np.ndarray:
    """Weights summed by ``index`` (int64 result)."""
    out = np.zeros(size, np.int64)
    for i in range(len(index)):
        out[index[i]] += weight[i]
    return out


@njit(cache=True, nogil=True)
def count_masked(index: np.ndarray, weight: np.ndarray, mask: np.ndarray, size: int) -> np.ndarray:
    """Weights of the rows where ``mask`` holds, summed by ``index`` (int64 result)."""
    out = np.zeros(size, np.int64)
    for i in range(len(index)):
        if mask[i]:
            out[index[i]] += weight[i]
    return out


@njit(cache=True, nogil=True)
def kind_node_persons(
    group: np.ndarray,
    is_high_end: np.ndarray,
    node: np.ndarray,
    hukou: np.ndarray,
    weight: np.ndarray,
    n_kinds: int,
    n_nodes: int,
    migrant: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Persons by (kind, node), kind = group x 2 + high-end: of the rows with ``hukou`` of
    ``migrant`` or more (registered outside the region), and of all rows (int64 results)."""
    migrants = np.zeros((n_kinds, n_nodes), np.int64)
    everyone = np.zeros((n_kinds, n_nodes), np.int64)
    for i in range(len(node)):
        kind = np.int64(group[i]) * 2 + (1 if is_high_end[i] else 0)
        everyone[kind, node[i]] += weight[i]
        if hukou[i] >= migrant:
            migrants[kind, node[i]] += weight[i]
    return migrants, everyone


@njit(cache=True, nogil=True)
def staff(firm: np.ndarray, group: np.ndarray, weight: np.ndarray, n_firms: int, n_groups: int) -> np.ndarray:
    """Persons employed by (firm, group): rows with ``firm >= 0``."""
    out = np.zeros((n_firms, n_groups), np.int64)
    for i in range(len(firm)):
        if firm[i] >= 0:
            out[firm[i], group[i]] += weight[i]
    return out


@njit(cache=True, nogil=True)
def staff_and_persons(
    firm: np.ndarray,
    group: np.ndarray,
    node: np.ndarray,
    status: np.ndarray,
    weight: np.ndarray,
    n_firms: int,
    n_groups: int,
    n_nodes: int,
    seeking: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``staff``, and persons by (group, node) of all rows and of status ``seeking``, in one
    pass (what ``TalentModel.conditions`` counts)."""
    staff = np.zeros((n_firms, n_groups), np.int64)
    persons = np.zeros((n_groups, n_nodes), np.int64)
    seekers = np.zeros((n_groups, n_nodes), np.int64)
    for i in range(len(firm)):
        w = weight[i]
        if firm[i] >= 0:
            staff[firm[i], group[i]] += w
        persons[group[i], node[i]] += w
        if status[i] == seeking:
            seekers[group[i], node[i]] += w
    return staff, persons, seekers


@njit(cache=True, nogil=True, inline="always")
def _row_cell(
    i, node, group, is_high_end, hukou, status, card, keeps_services, graduate, retired, n_groups, n_hukou
):
    # ravel_multi_index over CellGrid.shape: (nodes + 1, groups, 2, hukou, 2, 2, 5); privilege
    # (``choice.privilege``): 4 keeps Beijing's services, else 1 + the card's province, else 0
    c = np.int64(node[i]) * n_groups + np.int64(group[i])
    c = c * 2 + (1 if is_high_end[i] else 0)
    c = c * n_hukou + np.int64(hukou[i])
    c = c * 2 + (1 if status[i] == retired else 0)
    c = c * 2 + (1 if graduate else 0)
    return c * 5 + (4 if keeps_services[i] else (1 + card[i] if card[i] >= 0 else 0))


@njit(cache=True, nogil=True)
def cells(
    node: np.ndarray,
    group: np.ndarray,
    is_high_end: np.ndarray,
    hukou: np.ndarray,
    status: np.ndarray,
    card: np.ndarray,
    keeps_services: np.ndarray,
    is_graduate: np.ndarray,
    rows: np.ndarray,
    retired: int,
    n_groups: int,
    n_hukou: int,
) -> np.ndarray:
    """Choice cell (``CellGrid.index``) of each of ``rows``; ``is_graduate`` is per row of ``rows``."""
    out = np.empty(len(rows), np.int64)
    for k in range(len(rows)):
        out[k] = _row_cell(
            rows[k],
            node,
            group,
            is_high_end,
            hukou,
            status,
            card,
            keeps_services,
            is_graduate[k],
            retired,
            n_groups,
            n_hukou,
        )
    return out


@njit(cache=True, nogil=True)
def cells_all(
    node: np.ndarray,
    group: np.ndarray,
    is_high_end: np.ndarray,
    hukou: np.ndarray,
    status: np.ndarray,
    card: np.ndarray,
    keeps_services: np.ndarray,
    is_graduate: np.ndarray,
    retired: int,
    n_groups: int,
    n_hukou: int,
) -> np.ndarray:
    """Choice cell of every row."""
    out = np.empty(len(node), np.int64)
    for i in range(len(node)):
        out[i] = _row_cell(
            i,
            node,
            group,
            is_high_end,
            hukou,
            status,
            card,
            keeps_services,
            is_graduate[i],
            retired,
            n_groups,
            n_hukou,
        )
    return out


@njit(cache=True, nogil=True)
def hazard_by_row(
    age: np.ndarray,
    status: np.ndarray,
    years_at_node: np.ndarray,
    age_factor: np.ndarray,
    status_factor: np.ndarray,
    newcomer_factor: float,
) -> np.ndarray:
    """``choice.moving_hazard`` from its per-age and per-status factors (computed by NumPy once).

    base * exp(-decay * max(age - 30, 0)) * status ratio * newcomer ratio, capped at 1.
    """
    out = np.empty(len(age))
    for i in range(len(age)):
        h = age_factor[age[i]] * status_factor[status[i]]
        if years_at_node[i] < 2:
            h = h * newcomer_factor
        out[i] = min(h, 1.0)
    return out


@njit(cache=True, nogil=True)
def considering(
    cell: np.ndarray,
    weight: np.ndarray,
    hazard: np.ndarray,
    is_graduate: np.ndarray,
    u: np.ndarray,
    size: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Who considers moving, and the expected persons considering per cell.

    Graduates all consider; others where ``u < hazard``. Expected persons: weight x hazard,
    graduates whole.
    """
    persons = np.zeros(size)
    chosen = np.empty(len(cell), np.bool_)
    for i in range(len(cell)):
        if is_graduate[i]:
            persons[cell[i]] += weight[i] * 1.0
            chosen[i] = True
        else:
            persons[cell[i]] += weight[i] * hazard[i]
            chosen[i] = u[i] < hazard[i]
    return chosen, persons


@njit(cache=True, nogil=True)
def consider(
    ids: np.ndarray,
    key: np.uint64,
    node: np.ndarray,
    group: np.ndarray,
    is_high_end: np.ndarray,
    hukou: np.ndarray,
    status: np.ndarray,
    card: np.ndarray,
    keeps_services: np.ndarray,
    age: np.ndarray,
    years_at_node: np.ndarray,
    weight: np.ndarray,
    is_graduate: np.ndarray,
    age_factor: np.ndarray,
    status_factor: np.ndarray,
    newcomer_factor: float,
    retired: int,
    n_groups: int,
    n_hukou: int,
    alive: np.ndarray,
    chosen: np.ndarray,
    persons: np.ndarray,
) -> None:
    """``hazard_by_row``, ``cells_all`` and ``considering`` fused, in place, with each row's
    draw ``keyed_uniform(key, ids[i])`` made where it is used.

    Only rows where ``alive`` holds take part (this year's dead are still there, until the
    year's one compaction); the dead are not chosen. Fills ``chosen``, adds to ``persons`` (in
    row order: one thread).

    No per-row hazard, cell or draw is stored: at full scale each would be a pass of up to 300 MB.
    """
    for i in range(len(node)):
        if not alive[i]:
            chosen[i] = False
            continue
        cell = _row_cell(
            i,
            node,
            group,
            is_high_end,
            hukou,
            status,
            card,
            keeps_services,
            is_graduate[i],
            retired,
            n_groups,
            n_hukou,
        )
        if is_graduate[i]:
            persons[cell] += weight[i] * 1.0
            chosen[i] = True
        else:
            h = age_factor[age[i]] * status_factor[status[i]]
            if years_at_node[i] < 2:
                h = h * newcomer_factor
            h = min(h, 1.0)
            persons[cell] += weight[i] * h
            chosen[i] = keyed_uniform(key, ids[i]) < h


@njit(cache=True, nogil=True)
def expected_persons(cell: np.ndarray, weight: np.ndarray, hazard: np.ndarray, size: int) -> np.ndarray:
    """Expected persons considering a move, per cell (no graduates)."""
    persons = np.zeros(size)
    for i in range(len(cell)):
        persons[cell[i]] += weight[i] * hazard[i]
    return persons


@njit(cache=True, nogil=True)
def draw(cumulative: np.ndarray, last_possible: np.ndarray, cell: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF draw per row from its cell's cumulative probabilities.

    The first alternative whose cumulative exceeds ``u * total`` (``searchsorted(side="right")``),
    never past the cell's last possible alternative.
    """
    n_alt = cumulative.shape[1]
    out = np.empty(len(cell), np.int64)
    for i in range(len(cell)):
        c = cell[i]
        v = u[i] * cumulative[c, n_alt - 1]
        lo, hi = 0, n_alt
        while lo < hi:
            mid = (lo + hi) >> 1
            if cumulative[c, mid] <= v:
                lo = mid + 1
            else:
                hi = mid
        out[i] = min(lo, last_possible[c])
    return out


@njit(cache=True, nogil=True)
def settling(
    hukou: np.ndarray,
    node: np.ndarray,
    group: np.ndarray,
    years_at_node: np.ndarray,
    province: np.ndarray,
    chance: np.ndarray,
    ids: np.ndarray,
    key: np.uint64,
    abroad: int,
    min_years: int,
    alive: np.ndarray,
) -> int:
    """``demography.settle_hukou``: sets hukou in place. Only rows where ``alive`` holds take
    part, each with its draw ``keyed_uniform(key, ids[i])``. Returns 0 (for ``in_parts``)."""
    for i in range(len(node)):
        if alive[i]:
            p = province[node[i]]
            if hukou[i] != p and hukou[i] != abroad and years_at_node[i] >= min_years:
                if keyed_uniform(key, ids[i]) < chance[group[i], node[i]]:
                    hukou[i] = p
    return 0


@njit(cache=True, nogil=True)
def points_eligible(
    node: np.ndarray,
    status: np.ndarray,
    hukou: np.ndarray,
    years_at_node: np.ndarray,
    weight: np.ndarray,
    alive: np.ndarray,
    at_target: np.ndarray,
    province: np.ndarray,
    employed: int,
    abroad: int,
    min_years: int,
    out: np.ndarray,
) -> int:
    """``demography.settle_by_points``'s eligible rows in one pass: alive, ``employed`` at a
    node where ``at_target`` holds, registered in another province (not abroad) and at the node
    ``min_years`` or more. Marks them in ``out`` and returns their persons."""
    persons = 0
    for i in range(len(node)):
        j = node[i]
        h = hukou[i]
        ok = (
            alive[i]
            and at_target[j]
            and status[i] == employed
            and h != province[j]
            and h != abroad
            and years_at_node[i] >= min_years
        )
        out[i] = ok
        if ok:
            persons += weight[i]
    return persons


@njit(cache=True, nogil=True)
def retire(
    status: np.ndarray,
    age: np.ndarray,
    firm: np.ndarray,
    node: np.ndarray,
    home: np.ndarray,
    retirement_age: float,
    employed: int,
    unemployed: int,
    retired: int,
) -> None:
    """``demography.retire`` in one pass, in place: rows in work (``employed`` or
    ``unemployed``) aged ``retirement_age`` or more retire, leave their employer and choose
    where they live (``node`` becomes ``home``)."""
    for i in range(len(status)):
        if (status[i] == employed or status[i] == unemployed) and age[i] >= retirement_age:
            status[i] = retired
            firm[i] = -1
            node[i] = home[i]


@njit(cache=True, nogil=True)
def graduate(
    status: np.ndarray, years_at_node: np.ndarray, study_years: float, student: int, unemployed: int
) -> np.ndarray:
    """``demography.graduate`` in one pass: students of ``study_years`` or more become
    ``unemployed`` (in place); returns their mask."""
    out = np.empty(len(status), np.bool_)
    for i in range(len(status)):
        finishing = status[i] == student and years_at_node[i] >= study_years
        if finishing:
            status[i] = unemployed
        out[i] = finishing
    return out


@njit(cache=True, nogil=True)
def initial_status(
    status: np.ndarray,
    age: np.ndarray,
    u: np.ndarray,
    start: int,
    retirement_age: float,
    unemployment: float,
    employed: int,
    unemployed: int,
    retired: int,
) -> None:
    """The base year's status, in place, of rows ``start`` on, one per draw ``u``: rows
    ``employed`` aged ``retirement_age`` or more are ``retired``, the younger ``unemployed``
    where ``u < unemployment``."""
    for k in range(len(u)):
        i = start + k
        if status[i] == employed:
            if age[i] >= retirement_age:
                status[i] = retired
            elif u[k] < unemployment:
                status[i] = unemployed


@njit(cache=True, nogil=True)
def initial_foreign(
    is_foreign: np.ndarray,
    hukou: np.ndarray,
    is_high_end: np.ndarray,
    node: np.ndarray,
    foreign_share: np.ndarray,
    u: np.ndarray,
    start: int,
    abroad: int,
) -> None:
    """Foreigners of the base year, in place, of rows ``start`` on, one per draw ``u``: a row
    not high-end is foreign where ``u < foreign_share[node]``, and then holds the hukou
    ``abroad``."""
    for k in range(len(u)):
        i = start + k
        foreign = not is_high_end[i] and u[k] < foreign_share[node[i]]
        is_foreign[i] = foreign
        if foreign:
            hukou[i] = abroad


@njit(cache=True, nogil=True)
def below(age: np.ndarray, table: np.ndarray, ids: np.ndarray, key: np.uint64, out: np.ndarray) -> int:
    """``out[i] = keyed_uniform(key, ids[i]) < table[age[i]]`` (deaths: q by age); returns 0
    (for ``in_parts``)."""
    for i in range(len(age)):
        out[i] = keyed_uniform(key, ids[i]) < table[age[i]]
    return 0


@njit(cache=True, nogil=True)
def year_end(
    node: np.ndarray,
    home: np.ndarray,
    group: np.ndarray,
    is_high_end: np.ndarray,
    is_foreign: np.ndarray,
    status: np.ndarray,
    hukou: np.ndarray,
    card: np.ndarray,
    in_housing: np.ndarray,
    keeps_services: np.ndarray,
    has_degree: np.ndarray,
    weight: np.ndarray,
    province: np.ndarray,
    n_nodes: int,
    n_groups: int,
    n_status: int,
    seeking: int,
):
    """Everything ``collect`` counts over rows, in one pass.

    Returns persons with a degree by (home node, group, high-end, foreign, status); by home node
    (6, nodes): nonlocal talents, card holders, talent-housing tenants and followers (with a
    degree or not: these count spending), skilled workers without a degree (apart from the
    talents), and talents who work in another node; and persons of status ``seeking`` by
    (group, node chosen), with a degree or not (next year's job seekers: ``plan_firms``).
    """
    stocks = np.zeros(n_nodes * n_groups * 2 * 2 * n_status, np.int64)
    by_node = np.zeros((6, n_nodes), np.int64)
    seekers = np.zeros((n_groups, n_nodes), np.int64)
    # A talent's counts are added as weight x (0 or 1), without a branch: whether its hukou is
    # of its home's province is as likely one way as the other (a branch would be mispredicted
    # often); the rare flags branch. Sums of whole persons, so exact in any form.
    for i in range(len(node)):
        w = np.int64(weight[i])
        j = home[i]
        if status[i] == seeking:
            seekers[group[i], node[i]] += w
        key = (
            ((np.int64(j) * n_groups + group[i]) * 2 + np.int64(is_high_end[i])) * 2 + np.int64(is_foreign[i])
        ) * n_status + status[i]
        talent = w * np.int64(has_degree[i])  # persons with a degree
        stocks[key] += talent
        by_node[0, j] += talent * np.int64(hukou[i] != province[j])
        by_node[5, j] += talent * np.int64(node[i] != j)
        by_node[4, j] += w - talent
        if card[i] >= 0:
            by_node[1, j] += w
        if in_housing[i]:
            by_node[2, j] += w
        if keeps_services[i]:
            by_node[3, j] += w
    return stocks, by_node, seekers


@njit(cache=True, nogil=True)
def shifted_utility(
    fixed: np.ndarray, constants: np.ndarray, outside: np.ndarray, cls: np.ndarray, out: np.ndarray
) -> None:
    """``choice.solve_constants``' utility before ``exp``, into ``out``: each row's fixed terms
    plus its class's node constants and outside utility, less the row's maximum (as
    ``logit_probabilities`` subtracts it)."""
    n_alt = fixed.shape[1]
    n = n_alt - 1
    for r in range(fixed.shape[0]):
        c = cls[r]
        for j in range(n):
            out[r, j] = fixed[r, j] + constants[c, j]
        out[r, n] = fixed[r, n] + outside[c]
        top = out[r, 0]
        for j in range(1, n_alt):
            if out[r, j] > top or np.isnan(out[r, j]):  # np.max propagates NaN
                top = out[r, j]
        for j in range(n_alt):
            out[r, j] = out[r, j] - top


@njit(cache=True, nogil=True, error_model="numpy")  # x / 0 gives inf or nan, as in NumPy
def normalise_rows(values: np.ndarray) -> None:
    """Each row divided by its sum, in place, the sum taken as NumPy's ``sum(axis=-1)`` takes it
    over a contiguous row (pairwise: eight running sums, combined as a tree, then the rest in
    order; rows of at most 128), so the result is the same to the last bit."""
    n_alt = values.shape[1]
    if n_alt > 128:
        raise ValueError("normalise_rows: rows of more than 128 values")
    partial = np.empty(8)
    for r in range(values.shape[0]):
        if n_alt < 8:
            total = 0.0
            for j in range(n_alt):
                total += values[r, j]
        else:
            for k in range(8):
                partial[k] = values[r, k]
            j = 8
            while j < n_alt - n_alt % 8:
                for k in range(8):
                    partial[k] += values[r, j + k]
                j += 8
            total = ((partial[0] + partial[1]) + (partial[2] + partial[3])) + (
                (partial[4] + partial[5]) + (partial[6] + partial[7])
            )
            while j < n_alt:
                total += values[r, j]
                j += 1
            total = 0.0 + total  # the reduction starts from add's identity
        for j in range(n_alt):
            values[r, j] = values[r, j] / total


def warm_up() -> None:
    """Load every kernel for the column types the model passes it (``Talents.DTYPES``: node,
    home, group, status, hukou and card int8; age, years and firm int16; weight int32; flags
    bool; row indices int64), by calling it once on rows of one (every index in range: the
    kernels check no bounds).

    numba loads a compiled kernel from its disk cache (or compiles it, the first time) at its
    first call with those types, and sets itself up at the first of all: about 1 s in a fresh
    process. Called when this module is imported (below), so that the cost counts as the
    model's import, once a process, not as the first run's time: a worker's later runs never
    paid it. A type missed here is loaded at its first call, as before: only slower.
    """
    i8, i16, i32, i64, f8, b1 = np.int8, np.int16, np.int32, np.int64, np.float64, np.bool_

    def z(dtype: type, *shape: int) -> np.ndarray:
        return np.zeros(shape or (1,), dtype)

    cell_columns = (z(i8), z(i8), z(b1), z(i8), z(i8), z(i8), z(b1))
    compact_into(z(i8), z(b1), z(i8))
    compact_into(z(i16), z(b1), z(i16))
    compact_into(z(i32), z(b1), z(i32))
    compact_into(z(i64), z(b1), z(i64))
    compact_into(z(b1), z(b1), z(b1))
    draw_firms(z(i8), z(i8), z(f8, 1, 1, 1), z(f8))
    draw_staff(z(i8), z(i8), z(i8), z(i32), z(f8, 1, 1, 1), z(f8), 0, z(i16), z(i64, 1, 1))
    fill(z(i64), z(i32), z(f8))
    search_right(z(f8), z(f8))
    hukou_of_rows(z(i8), z(i8), z(f8), z(f8), 0.0, 0)
    for index in (z(i8), z(i64)):
        record_moves(index, z(i64), z(i8), z(i32), z(i64, 1, 1, 1), z(i64), z(i64))
        count(index, z(i32), 1)
        count_masked(index, z(i32), z(b1), 1)
    for firm in (z(i16), z(i64)):
        staff(firm, z(i8), z(i32), 1, 1)
    kind_node_persons(z(i8), z(b1), z(i8), z(i8), z(i32), 1, 1, 0)
    staff_and_persons(z(i16), z(i8), z(i8), z(i8), z(i32), 1, 1, 1, 0)
    cells(*cell_columns, z(b1), z(i64), 0, 1, 1)
    cells_all(*cell_columns, z(b1), 0, 1, 1)
    hazard_by_row(z(i16), z(i8), z(i16), z(f8), z(f8), 1.0)
    considering(z(i64), z(i32), z(f8), z(b1), z(f8), 1)
    key = np.uint64(0)
    keyed_uniforms(z(i64), key, z(f8))
    fields = (z(i8), z(b1), z(b1), z(i8), z(i8))  # Talents' columns (``Making.name``)
    row_ids(0, z(i64), 0, *fields, np.zeros(6, i64), 0, z(i64))
    consider(
        z(i64), key, *cell_columns, z(i16), z(i16), z(i32), z(b1), z(f8), z(f8), 1.0, 0, 1, 1,
        z(b1), z(b1), z(f8, 64),
    )  # fmt: skip
    draw(z(f8, 1, 1), z(i64), z(i64), z(f8))
    settling(z(i8), z(i8), z(i8), z(i16), z(i8), z(f8, 1, 1), z(i64), key, 0, 0, z(b1))
    points_eligible(z(i8), z(i8), z(i8), z(i16), z(i32), z(b1), z(b1), z(i8), 0, 0, 0, z(b1))
    retire(z(i8), z(i16), z(i16), z(i8), z(i8), 1.0, 0, 0, 0)
    graduate(z(i8), z(i16), 1.0, 0, 0)
    below(z(i16), z(f8), z(i64), key, z(b1))
    initial_status(z(i8), z(i16), z(f8), 0, 1.0, 0.0, 0, 0, 0)
    initial_foreign(z(b1), z(i8), z(b1), z(i8), z(f8), z(f8), 0, 0)
    year_end(
        z(i8), z(i8), z(i8), z(b1), z(b1), z(i8), z(i8), z(i8), z(b1), z(b1), z(b1), z(i32), z(i8),
        1, 1, 1, 0,
    )  # fmt: skip
    shifted_utility(z(f8, 1, 1), z(f8, 1, 1), z(f8), z(i64), z(f8, 1, 1))
    normalise_rows(np.ones((1, 1)))


warm_up()
