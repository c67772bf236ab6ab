"""How the plan's levers act: one function per mechanism, of arrays, lever states and the
year's draws (keyed to the rows, ``model/draws.py``). ``model/levers.py`` declares each lever
(section, unit, bounds, mechanism, spending); ``TalentModel.step`` calls these in the year's
phases. Utility terms of levers are assembled here too (``lever_terms``) and applied in
``model/choice.py``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from model import kernels
from model.choice import KEEPS_BEIJING_SERVICES, N_PRIVILEGES, LeverTerms
from model.draws import Keyed, Making, Purpose, whole_between
from model.levers import LeverState
from model.talents import GROUPS, HUKOU_ABROAD, HUKOU_ELSEWHERE, NO_CARD, Status, Talents, rows_for

ZONE_PROJECTS = ("winter_olympics_project", "coastal_port_project", "airport_economy_project")
FTE_PROGRAMMES = ("team_service", "poverty_support")
OVERSEAS_FOREIGN_SHARE = 0.5  # assumption: half of overseas recruits are foreign nationals
OVERSEAS_GROUPS = np.array([0.6, 0.25, 0.1, 0.05, 0.0])  # assumption: mostly scientists
RESIDENTS_PER_UNIT = 3.0  # persons housed by a talent-housing unit (households of 3)
TRAINEE_AGES = (25, 40)


def fill(order_cells: np.ndarray, weights: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """Which rows, taken in the given order within each cell, fit in the cell's capacity.

    ``order_cells`` must be sorted. A row is taken while the persons before it in its cell plus
    half of its own fit, so rows of ``scale`` persons fill a capacity to within half a row.
    """
    if np.issubdtype(weights.dtype, np.integer):  # whole persons: running sums exact in any order
        return kernels.fill(order_cells, weights, capacity)
    return persons_before(order_cells, weights) + weights / 2 <= capacity[order_cells]


def persons_before(order_cells: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Persons in the rows before each row within its cell (``order_cells`` sorted)."""
    before = np.cumsum(weights) - weights
    first = np.searchsorted(order_cells, order_cells, side="left")
    return before - before[first]


def take_in_order(
    rows: np.ndarray,
    cells: np.ndarray,
    weights: np.ndarray,
    capacity: np.ndarray,
    u: np.ndarray,
    priority: np.ndarray | None = None,
) -> np.ndarray:
    """Rows chosen at random (those with ``priority`` first) within each cell up to its capacity:
    in the order of their draws ``u`` (one per row)."""
    order = _random_order_within(cells, u, priority)
    chosen = fill(cells[order], weights[order], capacity)
    return rows[order][chosen]


def _random_order_within(cells: np.ndarray, u: np.ndarray, priority: np.ndarray | None) -> np.ndarray:
    """``np.lexsort([u, ~priority, cells])`` (without the middle key if ``priority`` is None),
    for ``u`` of 53-bit draws (``Generator.random``'s or ``model.draws.Keyed``'s).

    The same order, made faster: one sort of 64-bit keys, the (cell, priority) key above the
    draw's 53 bits (a draw is m / 2^53 for an integer m < 2^53, so u x 2^53 is m exactly); a
    stable sort only if two keys tie, so that ties keep row order as in lexsort. Keys of 2^10 or
    more, or below 0, take lexsort itself. The rows are cut by cell into ``kernels.THREADS``
    parts of about equal size (whole cells, in cell order), each sorted on its own thread.
    """
    cell_key = cells.astype(np.int64)
    if priority is not None:
        cell_key = cell_key * 2 + ~priority
    if len(cell_key) and (cell_key.min() < 0 or cell_key.max() >= 1 << 10):
        return np.lexsort([u, cell_key])  # key orders as (cells, ~priority) does
    key = (cell_key << 53) | (u * 2.0**53).astype(np.int64)
    parts = min(kernels.THREADS, max(1, len(key) // kernels.MIN_PART))
    if parts == 1:
        return _argsort(key)
    rows_by_cell = np.bincount(cell_key)
    part_of_cell = np.minimum((np.cumsum(rows_by_cell) - rows_by_cell) * parts // len(key), parts - 1)
    part = part_of_cell.astype(np.int8)[cell_key]
    by_part = np.argsort(part, kind="stable")  # rows of part 0, then 1...; in row order within
    pieces = np.split(by_part, np.cumsum(np.bincount(part, minlength=parts))[:-1])
    return np.concatenate(kernels.on_each(lambda rows: rows[_argsort(key[rows])], pieces))


def _argsort(key: np.ndarray) -> np.ndarray:
    """``np.argsort(key, kind="stable")``: one unstable sort unless two keys tie."""
    order = np.argsort(key)
    drawn = key[order]
    if (drawn[1:] == drawn[:-1]).any():
        order = np.argsort(key, kind="stable")
    return order


def lever_terms(
    levers: Mapping[str, LeverState],
    params: Mapping[str, float],
    housing_availability: np.ndarray,
    leader_services: float,
) -> LeverTerms:
    """What this year's levers add to the utility of location choice."""
    housing = levers["talent_housing"]
    relief = params["talent_housing_discount"] * np.outer(housing.groups, housing_availability)
    subsidy = levers["graduate_subsidy"]
    studied_in = np.append(subsidy.graduated_in, False)  # by origin; nobody graduates outside here
    recognition = levers["credential_recognition"]
    service_floor = np.zeros(N_PRIVILEGES)
    service_floor[KEEPS_BEIJING_SERVICES] = leader_services
    return LeverTerms(
        graduate_money=studied_in[:, None, None] * subsidy.by_group_node()[None],
        settlement_money=levers["settlement_subsidy"].by_group_node(),
        housing_relief=relief,
        recognition=between_targets(recognition)[:, None, :] * recognition.groups[None, :, None],
        portability=between_targets(levers["insurance_portability"]),
        hukou_barrier_factor=1.0 - levers["hukou_openness"].by_group_node(),
        foreign_amenity=params["international_community_amenity"]
        * levers["international_community"].by_node(),
        service_floor=service_floor,
        commute_cut=between_targets(levers["commute_time_cut"])[:-1],
    )


def between_targets(state: LeverState) -> np.ndarray:
    """A mutual arrangement's value by (origin, destination), origins including outside the
    region (last): the value where both nodes are among its targets, else zero."""
    inside = np.append(state.nodes, False)
    return state.value * np.outer(inside, state.nodes)


def growth_boost(
    levers: Mapping[str, LeverState], firm_node: np.ndarray, firm_sector: np.ndarray
) -> np.ndarray:
    """Extra output growth of each firm from the zone projects (四(六)(七)(八))."""
    boost = np.zeros(len(firm_node))
    for name in ZONE_PROJECTS:
        state = levers[name]
        boost += state.value * state.nodes[firm_node] * state.sectors[firm_sector]
    return boost


def issue_talent_cards(talents: Talents, card: LeverState, province: np.ndarray, draws: Keyed) -> None:
    """Give ``card.value`` persons a talent card, issued by the province of the node where they
    live: talents (with a degree) in work, in the target nodes, of the target groups or
    high-end, high-end talents first (plan 四(十二): 共同认定的优秀人才)."""
    if card.value <= 0:
        return
    t = talents
    eligible = (
        (t.talent_card == NO_CARD)
        & t.has_degree
        & t.in_work()
        & card.nodes[t.node]
        & (card.groups[t.group] | t.is_high_end)
    )
    rows = np.flatnonzero(eligible)
    chosen = take_in_order(
        rows,
        np.zeros(len(rows), np.int64),
        t.weight[rows],
        np.array([card.value]),
        draws.of(t.id[rows]),
        priority=t.is_high_end[rows],
    )
    t.talent_card[chosen] = province[t.node[chosen]]


def allot_talent_housing(talents: Talents, units: np.ndarray, groups: np.ndarray, draws: Keyed) -> np.ndarray:
    """Free talent-housing units go to this year's newcomers of the eligible groups who live where
    they work, at random.

    Returns, per node, the chance a newcomer found a free unit this year (1 where there were
    more units than takers), which next year's choices expect.
    """
    t, n = talents, len(units)
    occupied = t.persons_by(t.node.astype(np.int64), n, t.in_talent_housing)
    free = np.maximum(units - occupied, 0.0)
    eligible = (
        ~t.in_talent_housing
        & (t.years_at_node == 0)
        & groups[t.group]
        & (t.status != Status.STUDENT)
        & (t.home == t.node)
        & (free[t.node] > 0)
    )
    rows = np.flatnonzero(eligible)
    wanting = t.persons_by(t.node.astype(np.int64), n, eligible)
    chosen = take_in_order(rows, t.node[rows].astype(np.int64), t.weight[rows], free, draws.of(t.id[rows]))
    t.in_talent_housing[chosen] = True
    return np.where(units > 0, np.minimum(1.0, free / np.maximum(wanting, 1.0)), 0.0)


def relocated_staff(talents: Talents, firm_share: np.ndarray, draws: Keyed) -> np.ndarray:
    """Rows whose job moves: each employee of a relocating firm with chance ``firm_share``."""
    t = talents
    share = np.where(t.firm >= 0, firm_share[np.maximum(t.firm, 0)], 0.0)
    rows = np.flatnonzero(share > 0)
    return rows[draws.of(t.id[rows]) < share[rows]]


def where_jobs_go(firm: np.ndarray, weight: np.ndarray, targets: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Destination of each relocated employee: each firm's moved jobs go to the ``targets`` in
    equal shares, and so do its staff, in the order of their draws ``u`` (a firm's k-th person
    in that order goes to target floor(k * len(targets) / staff)), so the persons sent to each
    target match its share of the jobs to within a row."""
    order = np.lexsort((u, firm))
    staff = np.bincount(firm[order], weight[order])[firm[order]]
    position = (
        persons_before(firm[order], weight[order]) + weight[order] / 2
    ) / staff  # middle of the row, 0..1
    destination = np.empty(len(firm), np.int64)
    destination[order] = targets[np.minimum((position * len(targets)).astype(np.int64), len(targets) - 1)]
    return destination


def follow_probability(utility_follow: np.ndarray, utility_stay: np.ndarray) -> np.ndarray:
    """Binary logit: follow the job to its new node, or stay and look for work."""
    return 1.0 / (1.0 + np.exp(np.clip(utility_stay - utility_follow, -50, 50)))


def overseas_recruits(
    persons: float, nodes: np.ndarray, talents_by_node: np.ndarray, making: Making
) -> Talents:
    """High-end recruits from abroad, placed in the target nodes in proportion to their talents.
    Their nodes, groups, foreign flags and ages come from the year's generator of recruits, read
    in sequence (their nodes and groups are drawn before they can be named, and their number is
    the lever's alone); then ``making`` names them."""
    rng = making.stream(Purpose.RECRUITS)
    count = int(round(persons))
    share = np.where(nodes, talents_by_node, 0.0)
    node = rng.choice(len(nodes), size=count, p=share / share.sum())
    is_foreign = rng.random(count) < OVERSEAS_FOREIGN_SHARE
    recruits = Talents.new(
        node=node,
        group=rng.choice(len(GROUPS), size=count, p=OVERSEAS_GROUPS),
        age=rng.integers(35, 56, count),
        status=np.full(count, Status.UNEMPLOYED),
        hukou=np.where(is_foreign, HUKOU_ABROAD, HUKOU_ELSEWHERE),
        weight=np.ones(count, np.int64),
        is_high_end=True,
    )
    recruits.is_foreign[:] = is_foreign
    return making.name(recruits)


def trainees(persons_by_node: np.ndarray, province: np.ndarray, scale: int, making: Making) -> Talents:
    """Skilled workers trained to high-skill level (四(四)): new rows of the skilled group,
    local, looking for work, without a tertiary degree (counted apart from the talents). Named
    by ``making``; ages uniform over ``TRAINEE_AGES`` by their keyed numbers (``Purpose.TRAINEE_AGE``)."""
    node, weight = rows_for(np.round(persons_by_node).astype(np.int64), scale)
    rows = making.name(
        Talents.new(
            node=node,
            group=np.full(len(node), GROUPS.index("skilled")),
            age=np.zeros(len(node)),  # drawn below, once named
            status=np.full(len(node), Status.UNEMPLOYED),
            hukou=province[node],
            weight=weight,
            has_degree=False,
        )
    )
    rows.age[:] = whole_between(making.uniforms(rows, Purpose.TRAINEE_AGE), *TRAINEE_AGES)
    return rows


def spread_by_population(total: float, nodes: np.ndarray, population: np.ndarray) -> np.ndarray:
    """``total`` shared by the target nodes in proportion to their residents."""
    share = np.where(nodes, population, 0.0)
    return total * share / share.sum() if share.sum() > 0 else np.zeros(len(nodes))
