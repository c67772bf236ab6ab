"""Location choice: who considers moving, and where they go (design.md, phase 5).

Each talent who considers moving chooses among all nodes, staying included, and leaving the
region ("OUT"), by multinomial logit. Utility depends on the talent only through a few
attributes: origin, group, high-end or not, hukou, retired or not, new graduate or not, and
service privilege (none, talent card, Beijing's services kept). So utility is computed once per
*cell* of those attributes (21,600 cells x 18 alternatives) and each row draws from its cell's
probabilities. That keeps the rule exact and cheap at full scale.

Utility of alternative j for a talent of cell c (terms named as in ``TERMS``)::

    wage          beta_wage * log(wage[g, j])                         (not for the retired)
    jobs          beta_jobs * log(job_chance[g, j])                    (not for the retired)
    housing      -beta_housing * price[j] * floor_area * user_cost / income[g, j],
                  less the talent-housing relief for newcomers of eligible groups
    services      beta_services * max(services[j], the talent's service floor)
    amenity       constant[k, j] for the talent's kind k (group, high-end or not; residents and
                  arrivals apart), solved at the start so that the base year is a balance of
                  moves and arrivals settle where earlier ones did
    agglomeration beta_agglomeration * log(share of g at j / share of g in the region)
    distance     -beta_distance * distance_km[o, j] / 100
    stay          beta_stay if j is the origin
    barriers     -beta_province_barrier * (lever factor of j) if j is in another province than o,
                 -hukou_barrier[province of j] * (lever factor) if the talent's hukou is not j's;
                  card holders pay no hukou barrier and half the provincial one
    levers        beta_wage * log(1 + money / money_utility_cny) for graduate and settlement
                  subsidies, plus the international-community amenity for foreign talents

Leaving the region has utility ``outside[k]``, solved at the start so that a given share of those
who consider moving leave. Xiong'an is a node from the start: before 2017-04-01 it stands for the
three counties it was formed from, and its own levers start at their dates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from model.talents import GROUPS, HUKOU_ABROAD, Status

TERMS: tuple[str, ...] = ("wage", "jobs", "housing", "services", "amenity", "agglomeration",
                          "distance", "stay", "barriers", "levers")
RETIREE_INCOME_SHARE = 0.6  # pension as a share of the wage of one's group; ASSUMPTIONS.md D5
NO_PRIVILEGE, CARD_HOLDER, KEEPS_BEIJING_SERVICES = 0, 1, 2


def privilege(has_talent_card: np.ndarray, keeps_beijing_services: np.ndarray) -> np.ndarray:
    """Service privilege of each row. Card holders and followers alike pay no hukou barrier and
    half the provincial one; a follower's service floor is Beijing's level, a holder's
    ``card_services_level``. A follower who also holds a card counts as a follower."""
    return np.where(keeps_beijing_services, KEEPS_BEIJING_SERVICES,
                    np.where(has_talent_card, CARD_HOLDER, NO_PRIVILEGE))


@dataclass(frozen=True)
class CellGrid:
    """The attribute cells of the choice; origin ``n_nodes`` stands for outside the region."""

    n_nodes: int
    n_kinds = 2 * len(GROUPS)  # kinds of talent with their own node constants: group x high-end

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.n_nodes + 1, len(GROUPS), 2, HUKOU_ABROAD + 1, 2, 2, 3)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    def index(self, origin: np.ndarray, group: np.ndarray, is_high_end: np.ndarray, hukou: np.ndarray,
              is_retired: np.ndarray, is_graduate: np.ndarray, privileged: np.ndarray) -> np.ndarray:
        """Cell index of each row."""
        return np.ravel_multi_index(
            (origin.astype(np.int64), group, is_high_end.astype(np.int64), hukou,
             is_retired.astype(np.int64), is_graduate.astype(np.int64), privileged), self.shape)

    def attributes(self) -> tuple[np.ndarray, ...]:
        """(origin, group, is_high_end, hukou, is_retired, is_graduate, privilege) of every cell,
        in index order."""
        return np.unravel_index(np.arange(self.size), self.shape)

    def kind(self) -> np.ndarray:
        """Kind of every cell: group x 2 + is_high_end."""
        _, group, is_high_end, *_ = self.attributes()
        return group * 2 + is_high_end

    @property
    def n_classes(self) -> int:
        return 2 * self.n_kinds

    def constant_class(self) -> np.ndarray:
        """Which set of node constants a cell uses: its kind, among residents or among arrivals
        from outside the region (who have no stay option and settle differently)."""
        return self.kind() + self.n_kinds * (self.attributes()[0] == self.n_nodes)


@dataclass(frozen=True)
class LeverTerms:
    """What this year's levers do to utility, per group g and node j; all zero or one when off."""

    graduate_money: np.ndarray          # (groups, nodes) CNY a new graduate gets for a job there
    settlement_money: np.ndarray        # (groups, nodes) CNY a newcomer gets for settling there
    housing_relief: np.ndarray          # (groups, nodes) share of housing cost a newcomer saves
    province_barrier_factor: np.ndarray  # (nodes,) multiplies the cross-province barrier into j
    hukou_barrier_factor: np.ndarray    # (groups, nodes) multiplies the hukou barrier of j
    foreign_amenity: np.ndarray         # (nodes,) utility for foreign talents
    service_floor: np.ndarray           # (3,) services a privilege guarantees, by privilege

    @classmethod
    def none(cls, n_nodes: int) -> LeverTerms:
        zeros = np.zeros((len(GROUPS), n_nodes))
        return cls(zeros, zeros, zeros, np.ones(n_nodes), np.ones((len(GROUPS), n_nodes)),
                   np.zeros(n_nodes), np.zeros(3))


@dataclass(frozen=True)
class Conditions:
    """What the nodes offer this year, per group g and node j (arrays (groups, nodes))."""

    wage: np.ndarray
    job_chance: np.ndarray
    price: np.ndarray            # (nodes,) CNY per m2
    services: np.ndarray         # (nodes,) index, Beijing = 1
    group_share_ratio: np.ndarray
    levers: LeverTerms


def utility_terms(grid: CellGrid, cond: Conditions, distance_km: np.ndarray,
                  province: np.ndarray, params: Mapping[str, float]) -> dict[str, np.ndarray]:
    """Each term of the utility, shape (cells, nodes + 1); the last alternative is OUT, whose
    terms are all zero here (its constant is added by ``utility``)."""
    origin, group, _, hukou, is_retired, is_graduate, privileged = grid.attributes()
    n, lev = grid.n_nodes, cond.levers
    working = (is_retired == 0)[:, None]
    newcomer = origin[:, None] != np.arange(n)[None, :]
    income = cond.wage[group] * np.where(working, 1.0, RETIREE_INCOME_SHARE)
    housing_cost = cond.price[None, :] * params["floor_area_m2"] * params["user_cost_rate"]
    housing_cost = housing_cost * (1.0 - lev.housing_relief[group] * newcomer)
    services = np.maximum(cond.services[None, :], lev.service_floor[privileged][:, None])
    dist = np.vstack([distance_km, np.zeros((1, n))])[origin]
    crosses = np.append(province, -1)[origin][:, None] != province[None, :]
    card = (privileged != NO_PRIVILEGE)[:, None]
    hukou_barrier = np.array([params["hukou_barrier_beijing"], params["hukou_barrier_tianjin"],
                              params["hukou_barrier_hebei"]])[province]
    money = (lev.graduate_money[group] * (is_graduate == 1)[:, None]
             + lev.settlement_money[group] * newcomer)
    nodes_terms = {
        "wage": params["beta_wage"] * np.log(cond.wage[group]) * working,
        "jobs": params["beta_jobs"] * np.log(cond.job_chance[group]) * working,
        "housing": -params["beta_housing"] * housing_cost / income,
        "services": params["beta_services"] * services,
        "amenity": np.zeros((grid.size, n)),  # constants are added by ``utility``
        "agglomeration": params["beta_agglomeration"] * np.log(cond.group_share_ratio[group]),
        "distance": -params["beta_distance"] * dist / 100.0 * (origin < n)[:, None],
        "stay": params["beta_stay"] * ~newcomer,
        "barriers": -(params["beta_province_barrier"] * crosses * lev.province_barrier_factor[None, :]
                      * np.where(card, 0.5, 1.0)
                      + hukou_barrier[None, :] * (hukou[:, None] != province[None, :])
                      * lev.hukou_barrier_factor[group] * ~card),
        "levers": (params["beta_wage"] * np.log1p(money / params["money_utility_cny"])
                   + lev.foreign_amenity[None, :] * (hukou == HUKOU_ABROAD)[:, None]),
    }
    return {term: np.hstack([np.asarray(value, float), np.zeros((grid.size, 1))])
            for term, value in nodes_terms.items()}


def utility(terms: Mapping[str, np.ndarray], constants: np.ndarray, outside: np.ndarray,
            grid: CellGrid) -> np.ndarray:
    """Total utility (cells, nodes + 1): the terms plus the node constants of each cell's kind
    and the outside option, which arrivals from outside do not have."""
    origin, cls = grid.attributes()[0], grid.constant_class()
    total = sum(terms.values()) + np.hstack([constants[cls], outside[cls][:, None]])
    total[origin == grid.n_nodes, grid.n_nodes] = -np.inf
    return total


def logit_probabilities(utility: np.ndarray) -> np.ndarray:
    """Multinomial-logit choice probabilities over the last axis; -inf means unavailable."""
    top = utility.max(axis=-1, keepdims=True)
    expu = np.exp(utility - top)
    return expu / expu.sum(axis=-1, keepdims=True)


def draw_choices(probabilities: np.ndarray, cell_of_row: np.ndarray,
                 rng: np.random.Generator) -> np.ndarray:
    """One alternative per row, drawn from its cell's probabilities (inverse CDF)."""
    cumulative = np.cumsum(probabilities, axis=1)
    # scale the draw to the row's total, so rounding never lands on an unavailable last option
    u = rng.random(len(cell_of_row))
    order = np.argsort(cell_of_row, kind="stable")
    choice = np.empty(len(cell_of_row), dtype=np.int64)
    cells, starts = np.unique(cell_of_row[order], return_index=True)
    ends = np.append(starts[1:], len(order))
    for cell, start, end in zip(cells, starts, ends):
        rows = order[start:end]
        choice[rows] = np.searchsorted(cumulative[cell], u[rows] * cumulative[cell, -1], side="right")
    # u * total can round up to the total itself: never step past the last possible alternative
    last_possible = probabilities.shape[1] - 1 - np.argmax(probabilities[:, ::-1] > 0, axis=1)
    return np.minimum(choice, last_possible[cell_of_row])


def moving_hazard(age: np.ndarray, status: np.ndarray, years_at_node: np.ndarray,
                  params: Mapping[str, float]) -> np.ndarray:
    """Yearly probability that a talent considers moving; students never do (they choose at
    graduation)."""
    hazard = params["move_hazard_base"] * np.exp(
        -params["move_hazard_age_decay"] * np.maximum(age - 30, 0))
    hazard = hazard * np.select(
        [status == Status.UNEMPLOYED, status == Status.RETIRED, status == Status.STUDENT],
        [params["move_hazard_unemployed_ratio"], params["move_hazard_retired_ratio"], 0.0], 1.0)
    hazard = hazard * np.where(years_at_node < 2, params["move_hazard_newcomer_ratio"], 1.0)
    return np.minimum(hazard, 1.0)


def balance_targets(persons: np.ndarray, grid: CellGrid, outside_share: float,
                    arrival_shares: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where the base year's choosers should end up for the base year to be a balance.

    Residents who consider moving arrive at each node, per kind, in the numbers that leave it,
    but for the share ``outside_share`` that leaves the region. Arrivals from outside settle
    like those before them: ``arrival_shares`` (kinds, nodes), each row summing to 1.

    Returns (target persons (classes, nodes), target leaving the region (classes,)).
    """
    origin, kind = grid.attributes()[0], grid.kind()
    n, n_kinds = grid.n_nodes, grid.n_kinds
    inside = origin < n
    target = np.zeros((grid.n_classes, n))
    np.add.at(target, (kind[inside], origin[inside]), persons[inside] * (1 - outside_share))
    arriving = np.bincount(kind[~inside], weights=persons[~inside], minlength=n_kinds)
    target[n_kinds:] = arriving[:, None] * arrival_shares
    considering = np.bincount(kind[inside], weights=persons[inside], minlength=n_kinds)
    target_out = np.concatenate([considering * outside_share, np.zeros(n_kinds)])
    return target, target_out


def solve_constants(terms: Mapping[str, np.ndarray], persons: np.ndarray, grid: CellGrid,
                    target: np.ndarray, target_out: np.ndarray, iterations: int = 1000,
                    tolerance: float = 1e-9) -> tuple[np.ndarray, np.ndarray]:
    """Node constants (classes, nodes) and outside utilities (classes,) under which the
    expected choices of ``persons`` (per cell) meet ``target`` and ``target_out`` (see
    ``balance_targets``). Iterates the usual logit share correction
    (constant += log(target / predicted)) to a fixed point.
    """
    n = grid.n_nodes
    active = persons > 0  # empty cells do not move the totals
    cls = grid.constant_class()[active]
    fixed = utility(terms, np.zeros((grid.n_classes, n)), np.zeros(grid.n_classes), grid)[active]
    membership = (cls[None, :] == np.arange(grid.n_classes)[:, None]) * persons[active][None, :]
    constants = np.zeros((grid.n_classes, n))
    outside = np.where(target_out > 0, 0.0, -np.inf)  # nobody is to leave: no outside option
    for _ in range(iterations):
        probabilities = logit_probabilities(fixed + np.hstack([constants[cls], outside[cls][:, None]]))
        chosen = membership @ probabilities
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(target > 0, np.log(target / chosen[:, :n]), 0.0)
            step_out = np.where(target_out > 0, np.log(target_out / chosen[:, n]), 0.0)
        constants += step
        outside += step_out
        if max(np.abs(step).max(), np.abs(step_out).max()) < tolerance:
            break
    constants[target == 0] = -30.0  # nobody of the kind goes there: keep it (nearly) unchosen
    return constants, outside


def net_gain_by_province(probabilities: np.ndarray, persons: np.ndarray, grid: CellGrid,
                         province: np.ndarray) -> np.ndarray:
    """Expected net talents each province gains from the choices of ``persons`` per cell:
    arrivals from other provinces or outside, minus departures to them (shape (3,))."""
    origin = grid.attributes()[0]
    origin_province = np.append(province, -1)[origin]
    alt_province = np.append(province, -1)
    gains = np.zeros(3)
    for p in range(3):
        into_p = probabilities[:, alt_province == p].sum(axis=1)
        from_p = origin_province == p
        gains[p] = (persons * np.where(from_p, -(1.0 - into_p), into_p)).sum()
    return gains


def term_effects(terms: Mapping[str, np.ndarray], base_terms: Mapping[str, np.ndarray],
                 constants: np.ndarray, outside: np.ndarray, grid: CellGrid, persons: np.ndarray,
                 province: np.ndarray) -> dict[str, np.ndarray]:
    """How much of this year's net gain of each province each term's change since the base
    year explains: gain with every term as it is, minus gain with that one term held at its
    base-year value. Terms that have not changed explain nothing."""
    actual = net_gain_by_province(
        logit_probabilities(utility(terms, constants, outside, grid)),
        persons, grid, province)
    effects = {}
    for term in TERMS:
        held = dict(terms)
        held[term] = base_terms[term]
        without = net_gain_by_province(
            logit_probabilities(utility(held, constants, outside, grid)),
            persons, grid, province)
        effects[term] = actual - without
    return effects
