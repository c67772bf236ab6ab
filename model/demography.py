"""Demography of talents (docs/architecture.md, phase 4) and the initial population.

Rules, each a function of arrays and the year's draws (model/draws.py), keyed per row both for
what happens to the rows there are and for the attributes of rows being made (named first); the
base year's rows alone are drawn from a generator read in sequence:
- the initial state draws rows from the base-year node table (``model.inputs``);
- ageing: everybody is a year older and a year longer at their node;
- mortality: Gompertz, q(age) = a * exp(b * age);
- retirement at ``retirement_age``;
- graduation after ``study_years`` of study: graduates look for work and choose where;
- enrolment: each node's universities take in ``university_entrants`` a year on a path through
  the observed 2015 intake, growing at ``entrants_growth`` (``intake``; plus the
  ``university_places`` lever); a new student is a new talent (census definition);
  ``resident_entrant_share`` of those of local origin (``students_local_share``) were the
  node's non-talent residents; the node's
  ``short_cycle_share`` of them take three-year courses, the rest four (ASSUMPTIONS.md A9);
- adult degrees: each year ``adult_first_degree_share`` of the degrees adults gain per
  non-tertiary resident (``BaseYear.degree_rate``, China's; ``adult_degree_factor_beijing`` times
  it in Beijing's nodes) turns that many of a node's non-talent residents into its talents, aged
  ``ADULT_DEGREE_AGES`` (ASSUMPTIONS.md E1, E2);
- arrivals from the rest of China, from abroad, and of high-end talents, who then choose a node.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np

from model import kernels
from model.draws import Keyed, Making, Purpose, Source, whole_between
from model.inputs import INTAKE_YEAR, YEARS_OF_STUDY, BaseYear
from model.layout import Layout
from model.talents import GROUPS, HUKOU_ABROAD, HUKOU_ELSEWHERE, Status, Talents, cell_rows, rows_for

STUDENT_ENTRY_AGE = 18
SHORT_CYCLE_HEAD_START = YEARS_OF_STUDY["bachelor"] - YEARS_OF_STUDY["short_cycle"]
"""Years of study a short-cycle entrant starts with, so that ``study_years`` (four) of study
take three years: short-cycle students graduate a year sooner (A9)."""
ARRIVAL_AGES = (23, 40)  # assumption D1: arrivals are young professionals, uniform ages
HIGH_END_AGES = (40, 70)  # assumption D2
HIGH_END_GROUPS = np.array([0.50, 0.20, 0.20, 0.10, 0.00])  # assumption D2, order of GROUPS
NONLOCAL_FROM_REGION = 0.25  # assumption D3: of talents without local hukou, share from another JJJ province
YEARS_AT_NODE_MAX = 15  # assumption D4: initial years at node uniform up to this (and age - 22)
ADULT_DEGREE_AGES = (25, 40)  # assumption E2: ages of adults gaining a first degree, uniform
ADULT_YEARS_AT_NODE = 5  # assumption E2: residents before their degree; past the newcomers' two years
DRAW_CHUNK = 1 << 20
"""Rows' uniform draws are made this many at a time: the same stream as one draw for all rows,
without an array of 8 bytes a row (240 MB at full scale)."""


def uniform_chunks(rng: np.random.Generator, n: int, chunk: int = DRAW_CHUNK) -> Iterator[np.ndarray]:
    """``rng.random(n)`` a chunk of ``chunk`` at a time (the last one shorter): the same numbers
    in the same order, each chunk drawn on another thread (``kernels.in_background``) while the
    caller uses the chunk before it (the generator and the compiled kernels release the GIL, so
    the draws and a kernel's pass run on two cores at once).

    The caller must not use ``rng`` until it has taken the last chunk: the next one is being
    drawn meanwhile. Only the chunks of ``n`` draws are drawn, so the generator ends where
    one draw of all ``n`` leaves it; it is free again when the generator is exhausted or
    closed.
    """
    sizes = [min(chunk, n - start) for start in range(0, n, chunk)]
    if len(sizes) < 2:  # nothing to draw beside: no thread
        yield from (rng.random(size) for size in sizes)
        return

    def draw(size: int) -> np.ndarray:
        return rng.random(size)

    pending = kernels.in_background(draw, sizes[0])
    try:
        for size in [*sizes[1:], 0]:
            u = pending.result()
            if size:
                pending = kernels.in_background(draw, size)
            yield u
    finally:
        pending.result()  # the generator is free only when no draw is under way


def initial_talents(
    base: BaseYear, layout: Layout, scale: int, params: Mapping[str, float], rng: np.random.Generator
) -> Talents:
    """Talents of the base year: students, high-end talents and everyone else, per node and
    group, with weights adding up to the base-year counts exactly."""
    nodes = base.nodes
    n = layout.size
    shares = base.group_shares.loc[layout.nodes["pole"]].to_numpy()  # (nodes, groups)
    # the 2015 students, on the entrants' path to the base year (A9): fewer in 2010
    on_path = intake(np.ones(1), base.year, params)[0]
    students = np.minimum(nodes["university_enrolled"] * on_path, nodes["tertiary"]).to_numpy()
    high_end = nodes["high_end"].to_numpy()
    others = nodes["tertiary"].to_numpy() - students - high_end
    # short-cycle students: three intakes of a share s of entrants against four of 1 - s
    s, years = nodes["short_cycle_share"].to_numpy(), YEARS_OF_STUDY
    short = np.round(
        students * years["short_cycle"] * s / (years["bachelor"] * (1 - s) + years["short_cycle"] * s)
    )

    # students hold their node's hukou at their own share s, the others at (L * T - s * S) / (T - S),
    # so that each node's talents T keep its local share L with S students among them (A11)
    students_local, local = nodes["students_local_share"].to_numpy(), nodes["local_hukou_share"].to_numpy()
    tertiary = nodes["tertiary"].to_numpy()
    others_local = np.clip((local * tertiary - students_local * students) / (tertiary - students), 0, 1)
    parts = [
        _cohort(_split(students - short, shares), scale, Status.STUDENT, base, layout, rng, students_local),
        _cohort(
            _split(short, shares),
            scale,
            Status.STUDENT,
            base,
            layout,
            rng,
            students_local,
            head_start=SHORT_CYCLE_HEAD_START,
        ),
        _cohort(
            _split(high_end, np.tile(HIGH_END_GROUPS, (n, 1))),
            1,
            Status.EMPLOYED,
            base,
            layout,
            rng,
            local_share=others_local,
            is_high_end=True,
        ),
        _cohort(_split(others, shares), scale, Status.EMPLOYED, base, layout, rng, local_share=others_local),
    ]
    talents = Talents.empty()
    talents.extend(*parts)

    # In work past retirement age: retired; younger, unemployed with chance
    # ``initial_unemployment`` (a draw for every row, in row order, then another for being
    # foreign); compiled passes a chunk of draws at a time.
    start = 0
    for u in uniform_chunks(rng, len(talents)):
        kernels.initial_status(
            talents.status,
            talents.age,
            u,
            start,
            float(params["retirement_age"]),
            float(params["initial_unemployment"]),
            int(Status.EMPLOYED),
            int(Status.UNEMPLOYED),
            int(Status.RETIRED),
        )
        start += len(u)
    foreign_share = (nodes["foreign_talents"] / nodes["tertiary"]).to_numpy()
    start = 0
    for u in uniform_chunks(rng, len(talents)):
        kernels.initial_foreign(
            talents.is_foreign,
            talents.hukou,
            talents.is_high_end,
            talents.node,
            foreign_share,
            u,
            start,
            HUKOU_ABROAD,
        )
        start += len(u)
    return talents


def _split(persons: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Whole persons per (node, group), rounding so each node's total is kept exactly."""
    exact = persons[:, None] * shares
    counts = np.floor(exact).astype(np.int64)
    short = np.round(persons).astype(np.int64) - counts.sum(axis=1)
    largest_rest = np.argsort(-(exact - counts), axis=1)
    for i, k in enumerate(short):
        counts[i, largest_rest[i, :k]] += 1
    return counts


def _cohort(
    counts: np.ndarray,
    scale: int,
    status: Status,
    base: BaseYear,
    layout: Layout,
    rng: np.random.Generator,
    local_share: np.ndarray,
    is_high_end: bool = False,
    head_start: int = 0,
) -> Talents:
    """Rows for persons by (node, group). Students are spread evenly over the years of their
    course, each cell's persons in equal whole parts (so that each year graduates one intake,
    not a draw), those of shorter courses starting ``head_start`` years into the model's four
    (as ``enrol``). Hukou are drawn with each node's ``local_share``."""
    if status == Status.STUDENT:
        course = YEARS_OF_STUDY["bachelor"] - head_start
        whole = np.asarray(counts, np.int64)
        node, group, weight, rows = _rows_in_parts(
            [whole // course + (whole % course > y) for y in range(course)], scale
        )
        studied = np.repeat(np.arange(course), rows)
        age = STUDENT_ENTRY_AGE + studied
        years = studied + head_start
        return _new_rows(node, group, age, years, weight, status, local_share, layout, rng, is_high_end)
    node, group, weight = _node_group_rows(counts, scale)
    if is_high_end:
        age = rng.integers(HIGH_END_AGES[0], HIGH_END_AGES[1] + 1, len(node))
        years = rng.integers(0, YEARS_AT_NODE_MAX + 1, len(node))
    else:
        adult = base.age_shares[base.age_shares.index >= 22]
        age = choice(adult.index.to_numpy(), (adult / adult.sum()).to_numpy(), rng.random(len(node)))
        years = rng.integers(0, np.minimum(age - 21, YEARS_AT_NODE_MAX + 1))
    return _new_rows(node, group, age, years, weight, status, local_share, layout, rng, is_high_end)


def _new_rows(
    node: np.ndarray,
    group: np.ndarray,
    age: np.ndarray,
    years: np.ndarray,
    weight: np.ndarray,
    status: Status,
    local_share: np.ndarray,
    layout: Layout,
    rng: np.random.Generator,
    is_high_end: bool,
) -> Talents:
    """The base year's rows of one cohort, with their hukou drawn: each node's own with
    ``local_share`` (A11), else as ``assign_hukou``."""
    hukou = assign_hukou(node, layout.province, local_share, rng.random(len(node)))
    talents = Talents.new(
        node=node,
        group=group,
        age=age,
        status=np.full(len(node), status, Talents.DTYPES["status"]),
        hukou=hukou,
        weight=weight,
        is_high_end=is_high_end,
    )
    talents.years_at_node[:] = years
    return talents


def choice(values: np.ndarray, p: np.ndarray, u: np.ndarray) -> np.ndarray:
    """One of ``values`` per uniform draw in ``u``, with chances ``p``: as NumPy's
    ``Generator.choice`` does, the value at index #{i : F_i <= u} for the cumulative shares
    F = cumsum(p) / F_last (the search compiled)."""
    cumulative = np.cumsum(np.asarray(p, float))
    cumulative /= cumulative[-1]
    return np.asarray(values)[kernels.search_right(cumulative, np.asarray(u, float))]


def assign_hukou(
    node: np.ndarray, province: np.ndarray, local_share: np.ndarray, u: np.ndarray
) -> np.ndarray:
    """Hukou province per row at ``node``, by its uniform ``u``: its node's own (``province`` by
    node) with the node's ``local_share``; otherwise one of the two other provinces of the region
    (together NONLOCAL_FROM_REGION of the rest) or outside."""
    return kernels.hukou_of_rows(
        node,
        np.asarray(province),
        np.ascontiguousarray(local_share, float),
        u,
        NONLOCAL_FROM_REGION,
        HUKOU_ELSEWHERE,
    )


def age_one_year(talents: Talents) -> None:
    talents.age += 1
    talents.years_at_node += 1


def deaths(talents: Talents, params: Mapping[str, float], draws: Keyed) -> np.ndarray:
    """Mask of rows that die this year (Gompertz): a row dies when its draw is below q(age)."""
    ages = np.arange(int(talents.age.max()) + 1 if len(talents) else 1)  # q once per age, not per row
    q = np.minimum(params["mortality_a"] * np.exp(params["mortality_b"] * ages), 1.0)
    dying, age, ids = np.empty(len(talents), bool), talents.age, talents.id
    kernels.in_parts(lambda p: kernels.below(age[p], q, ids[p], draws.key, dying[p]), len(talents))
    return dying


def retire(talents: Talents, params: Mapping[str, float]) -> None:
    """Talents in work reaching ``retirement_age`` retire; the retired choose where they live."""
    kernels.retire(
        talents.status,
        talents.age,
        talents.firm,
        talents.node,
        talents.home,
        float(params["retirement_age"]),
        int(Status.EMPLOYED),
        int(Status.UNEMPLOYED),
        int(Status.RETIRED),
    )


SETTLEMENT_YEARS = 5  # years at a node before a migrant can gain its hukou (assumption D6)


def settle_hukou(
    talents: Talents,
    province: np.ndarray,
    barrier: np.ndarray,
    params: Mapping[str, float],
    draws: Keyed,
    alive: np.ndarray | None = None,
) -> None:
    """Long-settled migrants from elsewhere in China gain the hukou of their node's province.

    Args:
        talents: all talents; their ``hukou`` column is updated.
        province: province index of each node.
        barrier: hukou barrier (utility) by (group, node), after levers.
        params: behavioural parameters (``hukou_settlement_rate``).
        draws: the year's settlement draws (one per row that qualifies).
        alive: the rows that take part; None for all. Rows of
            this year's dead are still there until phase 5 drops them.
    """
    t = talents
    if alive is None:
        alive = np.ones(len(t), bool)
    chance = params["hukou_settlement_rate"] * np.exp(-barrier)  # by (group, node), not per row
    _settle(t, province, chance, SETTLEMENT_YEARS, alive, draws)


def _settle(
    t: Talents,
    province: np.ndarray,
    chance: np.ndarray,
    min_years: int,
    rows: np.ndarray,
    draws: Keyed,
) -> None:
    """One draw per selected row: a row at its node ``min_years`` or more, registered elsewhere
    and not abroad, gains the hukou of its node's province with ``chance[group, node]``
    (``kernels.settling``)."""
    province, chance = np.asarray(province, t.hukou.dtype), np.ascontiguousarray(chance)
    kernels.in_parts(
        lambda p: kernels.settling(
            t.hukou[p], t.node[p], t.group[p], t.years_at_node[p], province, chance, t.id[p], draws.key,
            HUKOU_ABROAD, min_years, rows[p],
        ),
        len(t),
    )  # fmt: skip


POINTS_YEARS = 7
"""Years at a node before a talent may apply for points-based settlement: Beijing asks for seven
consecutive years of Beijing social insurance (rules of 2018-04-11; CGTN, April 2018)."""


def settle_by_points(
    talents: Talents,
    province: np.ndarray,
    quota: float,
    targets: np.ndarray,
    draws: Keyed,
    alive: np.ndarray | None = None,
) -> float:
    """Points-based settlement (lever ``hukou_points_quota``): a yearly quota of long-term
    residents gains the hukou.

    Eligible are the talents in work at a target node, registered elsewhere (another province
    of the region or of China; foreigners hold no hukou) and at their node ``POINTS_YEARS`` or
    more. With E the persons eligible at all target nodes, each eligible row gains the hukou of
    its node's province with chance

        c = min(1, quota / E)

    so that ``quota`` persons a year settle on average (all, if fewer are eligible).

    Args:
        talents: all talents; their ``hukou`` column is updated.
        province: province index of each node.
        quota: persons a year.
        targets: boolean mask of the nodes where the scheme applies.
        draws: the year's points draws (one per eligible row).
        alive: the rows that take part; None for all.

    Returns:
        E, the persons eligible.
    """
    t = talents
    eligible = np.empty(len(t), bool)
    taking_part = np.ones(len(t), bool) if alive is None else alive
    at_target, provinces = np.asarray(targets, bool), np.asarray(province, t.hukou.dtype)
    persons = float(
        kernels.in_parts(
            lambda p: kernels.points_eligible(
                t.node[p], t.status[p], t.hukou[p], t.years_at_node[p], t.weight[p], taking_part[p],
                at_target, provinces, int(Status.EMPLOYED), HUKOU_ABROAD, POINTS_YEARS, eligible[p],
            ),
            len(t),
        )
    )  # fmt: skip
    if persons <= 0 or quota <= 0:
        return persons
    chance = np.zeros((len(GROUPS), len(province)))  # by (group, node), as settle_hukou's
    chance[:, np.asarray(targets, bool)] = min(1.0, quota / persons)
    _settle(t, province, chance, POINTS_YEARS, eligible, draws)
    return persons


def settle_graduates_at_hiring(
    talents: Talents,
    province: np.ndarray,
    quota: float,
    targets: np.ndarray,
    studied_at: np.ndarray,
    draws: Keyed,
) -> tuple[float, np.ndarray]:
    """Settlement at hiring (lever ``graduate_hukou_quota``): employers of the target nodes hire
    a yearly quota of the graduates of the target nodes' universities who come from elsewhere
    with the hukou of the node's province (进京指标, ASSUMPTIONS D6).

    Eligible are this year's graduates who studied at a target node and are in work at a target
    node of the same province by the year's end, registered elsewhere (another province of the
    region or of China; foreigners hold no hukou). They settle as in ``settle_by_points``: with
    E the persons eligible at all target nodes (one quota for them all), each with chance
    c = min(1, quota / E).

    Args:
        talents: all talents; their ``hukou`` column is updated.
        province: province index of each node.
        quota: persons a year.
        targets: boolean mask of the nodes where the quota applies.
        studied_at: per row, the node where this year's graduate studied, -1 for others.
        draws: the year's draws for this quota (one per eligible row).

    Returns:
        E, the persons eligible, and the rows that gained the hukou.
    """
    t, at_target = talents, np.asarray(targets, bool)
    rows = np.flatnonzero(studied_at >= 0)  # the year's graduates: a small part of the rows
    province = np.asarray(province, t.hukou.dtype)
    hukou, node = t.hukou[rows], t.node[rows]
    eligible = rows[
        at_target[studied_at[rows]]
        & at_target[node]
        & (province[studied_at[rows]] == province[node])
        & (t.status[rows] == Status.EMPLOYED)
        & (hukou != province[node])
        & (hukou != HUKOU_ABROAD)
    ]
    persons = float(t.weight[eligible].sum())
    if persons <= 0 or quota <= 0:
        return persons, eligible[:0]
    settled = eligible[draws.of(t.id[eligible]) < min(1.0, quota / persons)]  # only their draws
    t.hukou[settled] = province[t.node[settled]]
    return persons, settled


def graduate(talents: Talents, params: Mapping[str, float]) -> np.ndarray:
    """Students who finish this year start looking for work; returns their mask."""
    return kernels.graduate(
        talents.status,
        talents.years_at_node,
        float(params["study_years"]),
        int(Status.STUDENT),
        int(Status.UNEMPLOYED),
    )


def _node_group_rows(counts: np.ndarray, scale: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows for persons by (node, group), ``counts`` of shape (nodes, groups): each row's node,
    group and weight (``rows_for``), in the columns' types (``Talents.DTYPES``): each cell's
    node and group repeated for its rows (no 64-bit cell index per row to divide out)."""
    n_nodes, n_groups = counts.shape
    rows_per_cell, weight = cell_rows(counts.ravel(), scale, Talents.DTYPES["weight"])
    node: np.ndarray = np.repeat(np.arange(n_nodes, dtype=Talents.DTYPES["node"]), n_groups)
    group: np.ndarray = np.tile(np.arange(n_groups, dtype=Talents.DTYPES["group"]), n_nodes)
    return np.repeat(node, rows_per_cell), np.repeat(group, rows_per_cell), weight


def _rows_in_parts(
    parts: list[np.ndarray], scale: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[int]]:
    """``_node_group_rows`` of each (nodes, groups) count array in turn, one after another:
    node, group and weight of all rows, and how many rows each part has."""
    made = [_node_group_rows(counts, scale) for counts in parts]
    node, group, weight = (np.concatenate(column) for column in zip(*made, strict=True))
    return node, group, weight, [len(part[0]) for part in made]


def intake(entrants_2015: np.ndarray, year: int, params: Mapping[str, float]) -> np.ndarray:
    """University entrants of calendar ``year`` on the path through the observed 2015 intake
    (A9), the same from either base year: E_t = E_2015 * (1 + entrants_growth) ** (t - 2015)."""
    return entrants_2015 * (1 + params["entrants_growth"]) ** (year - INTAKE_YEAR)


def enrol(
    entrants: np.ndarray,
    short_cycle_share: np.ndarray,
    group_shares: np.ndarray,
    local_hukou: np.ndarray,
    layout: Layout,
    scale: int,
    making: Making,
) -> Talents:
    """New students by node: ``entrants`` persons per node, groups by ``group_shares`` (nodes,
    groups) — the field they will work in; ``short_cycle_share`` of each node's start a year
    into the course (``SHORT_CYCLE_HEAD_START``) and so finish in three years. Named by
    ``making``, short-cycle entrants as ``Source.SHORT_CYCLE_ENTRANT`` (so more bachelor places
    at a node leave its short-cycle entrants' ids as they were); each row's hukou by its keyed
    number (``Purpose.ENTRANT_HUKOU``)."""
    entrants = np.round(entrants)
    short = np.round(entrants * short_cycle_share)
    node, group, weight, rows = _rows_in_parts(
        [_split(e, group_shares) for e in (entrants - short, short)], scale
    )
    students = making.name(
        Talents.new(
            node=node,
            group=group,
            age=np.full(len(node), STUDENT_ENTRY_AGE),
            status=np.full(len(node), Status.STUDENT),
            hukou=np.full(len(node), HUKOU_ELSEWHERE),  # drawn below, once named
            weight=weight,
        ),
        source=np.repeat([Source.ENTRANT, Source.SHORT_CYCLE_ENTRANT], rows),
    )
    students.hukou[:] = assign_hukou(
        node, layout.province, local_hukou, making.uniforms(students, Purpose.ENTRANT_HUKOU)
    )
    students.years_at_node[rows[0] :] = SHORT_CYCLE_HEAD_START
    return students


def adult_degrees(
    nontalent: np.ndarray,
    rate: np.ndarray | float,
    group_shares: np.ndarray,
    local_hukou: np.ndarray,
    layout: Layout,
    scale: int,
    making: Making,
) -> Talents:
    """Non-talent residents who gain a first tertiary degree this year (adult higher education,
    online, self-study), as new talent rows of their node.

    Args:
        nontalent: non-talent residents by node (persons).
        rate: first degrees a year per non-talent resident (one for all nodes, or by node).
        group_shares: (nodes, groups) occupation mix they take, the node's.
        local_hukou: share of each node's talents with its province's hukou.
        layout: the nodes.
        scale: persons per row.
        making: names the rows; their ages and hukou are read from their keyed numbers
            (``Purpose.ADULT_AGE``, ``Purpose.ADULT_HUKOU``).

    They stay where they live: ages uniform over ``ADULT_DEGREE_AGES``, settled
    ``ADULT_YEARS_AT_NODE`` years; ``UNEMPLOYED`` until the caller gives them the job they hold
    (the model keeps them in it, E2). Whole persons per node (``round(rate * nontalent)``), so
    the caller takes exactly ``persons_by`` node off the non-talent residents.
    """
    counts = _split(np.round(rate * np.maximum(nontalent, 0.0)), group_shares)
    node, group, weight = _node_group_rows(counts, scale)
    talents = making.name(
        Talents.new(
            node=node,
            group=group,
            age=np.zeros(len(node)),  # drawn below, once named
            status=np.full(len(node), Status.UNEMPLOYED),
            hukou=np.full(len(node), HUKOU_ELSEWHERE),  # the same
            weight=weight,
        )
    )
    talents.age[:] = whole_between(making.uniforms(talents, Purpose.ADULT_AGE), *ADULT_DEGREE_AGES)
    talents.hukou[:] = assign_hukou(
        node, layout.province, local_hukou, making.uniforms(talents, Purpose.ADULT_HUKOU)
    )
    talents.years_at_node[:] = ADULT_YEARS_AT_NODE
    return talents


def arrivals(
    persons: float,
    foreign: float,
    high_end: float,
    group_shares: np.ndarray,
    scale: int,
    making: Making,
) -> Talents:
    """Talents arriving from outside the region this year, not yet placed (``node`` is 0 until
    they choose). ``group_shares`` is the region's group mix. Named by ``making``; each row's
    age uniform over its kind's ages by its keyed number (``Purpose.ARRIVAL_AGE``)."""
    parts = []
    for count, is_foreign, is_high_end, shares, row_scale in (
        (persons, False, False, group_shares, scale),
        (foreign, True, False, group_shares, scale),
        (high_end, False, True, HIGH_END_GROUPS, 1),
    ):
        counts = _split(np.array([round(count)]), shares[None, :])[0]
        group, weight = rows_for(counts, row_scale)
        parts.append(
            Talents.new(
                node=np.zeros(len(group)),
                group=group,
                age=np.zeros(len(group)),  # drawn below, once named
                status=np.full(len(group), Status.UNEMPLOYED),
                hukou=np.full(len(group), HUKOU_ABROAD if is_foreign else HUKOU_ELSEWHERE),
                weight=weight,
                is_high_end=is_high_end,
                is_foreign=is_foreign,
            )
        )
    talents = Talents.empty()
    talents.extend(*parts)
    making.name(talents)
    u = making.uniforms(talents, Purpose.ARRIVAL_AGE)
    for is_high_end, (low, high) in ((False, ARRIVAL_AGES), (True, HIGH_END_AGES)):
        kind = talents.is_high_end == is_high_end
        talents.age[kind] = whole_between(u[kind], low, high)
    return talents
