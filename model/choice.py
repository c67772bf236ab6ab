"""Location choice: who considers moving, and where they go (docs/architecture.md, phase 5).

Each talent who considers moving chooses among all nodes, staying included, and leaving the
region ("OUT"), by multinomial logit. Utility depends on the talent only through a few
attributes: origin, group, high-end or not, hukou, retired or not, new graduate or not, and
service privilege (none, a talent card of one of the three provinces, Beijing's services kept).
So utility is computed once per *cell* of those attributes (36,000 cells x 18 alternatives) and
each row draws from its cell's probabilities. That keeps the rule exact and cheap at full scale.

Utility of alternative j for a talent of cell c (terms named as in ``TERMS``)::

    wage          beta_wage * log(wage[g, j])                         (not for the retired)
    jobs          beta_jobs * log(job_chance[g, j])                    (not for the retired)
    housing      -beta_housing * price[j] * floor_area * user_cost / income[g, j],
                  less the talent-housing relief for newcomers of eligible groups
    services      beta_services * max(services[j], the talent's service floor); services[j]
                  includes what the service programmes' full-time equivalents add there
    amenity       constant[k, j] for the talent's kind k (group, high-end or not; residents and
                  arrivals apart), solved at the start so that the base year is a balance of
                  moves and arrivals settle where earlier ones did
    agglomeration beta_agglomeration * log(share of g at j / share of g in the region)
    distance     -beta_distance * distance_km[o, j] / 100
    stay          beta_stay if j is the origin
    barriers     -beta_province_barrier * (1 - s * recognition[o, g, j]
                                           - (1 - s) * portability[o, j]) if j's province is not o's,
                  s = credential_barrier_share (titles and certificates; the rest is social
                  insurance); recognition and portability are mutual: they act on moves between
                  two of their target nodes, both ways;
                 -hukou_barrier[province of j] * (hukou_openness factor) if the talent's hukou
                  is not j's: the cost of lacking access to j's schools and health care. A card
                  waives it in the nodes of the province that issued it; a follower of a
                  relocated function keeps Beijing's services and social insurance: no hukou
                  barrier anywhere in the region, and portability counted as full
                 -hukou_barrier_outside for j = OUT if the talent's hukou is in the region: who
                  leaves lacks the hukou of where it goes; a talent registered elsewhere in China
                  goes home, where it holds it (ASSUMPTIONS D7)
    commuting     the option value of living in another node h within commuting range of j, for
                  talents in work (nested home choice, below)
    levers        beta_wage * log(1 + annuity(money) / wage[g, j]) for graduate and settlement
                  subsidies: a one-off payment is worth its annuity over the expected stay,
                  annuity(P) = P * r / (1 - (1 + r)^-T), r = money_discount_rate and
                  T = expected_stay_years, i.e. a permanent raise of that much a year (see
                  docs/evidence-levers.md 6.1); plus the international-community
                  amenity for foreign talents

Home and job (nested logit). The node a talent chooses above is where it works (for those out
of work, where it lives). A talent in work lives in a node h whose seat is within
``commute_max_km`` of the job node j's, j itself included, with utility

    V[g, j, h] = -beta_housing * price[h] * floor_area * user_cost / wage[g, j]
                 + beta_services * services[h]
                 + beta_wage * log(1 - commute_time_value_share * hours[j, h] / WORK_HOURS_PER_DAY)
                 + commute_home_constant * (h != j)
    hours[j, h] = 2 * distance_km[j, h] / commute_speed_kmh * (1 - commute_time_cut[j, h])

so the commute costs the value of the time it takes, as a share of the day's wage. Homes are
drawn with P(h | g, j) = exp(V[g, j, h] / lambda) / sum_h' exp(V[g, j, h'] / lambda), lambda =
``commute_nest_scale``, and the job node's utility gains the option value

    commuting[g, j] = lambda * log sum_h exp((V[g, j, h] - V[g, j, j]) / lambda)  (>= 0)

which is 0 where no other node is in range: its housing and services terms above are those of
living at j, and the option value adds what homes elsewhere are worth on top of them.

A population ceiling turns talents away (``refuse_arrivals``; ASSUMPTIONS P10): where the
residents of its nodes exceeded it at the last year's end, the talents' part of the excess,
D = ceiling_talent_weight * excess * talents / residents, is taken from those who would arrive
there from elsewhere, each with the same chance p = min(1, D / A), A the persons expected to
arrive; each of them chooses again among the other alternatives (the same logit without the
capped ones). Talents who live at those nodes already are not turned away.

Leaving the region has utility ``outside[k]``, solved at the start so that a given share of those
who consider moving leave, plus, for those in work, what the rest of China's wage W_out has
gained since the base year (ASSUMPTIONS.md D1), less a barrier for a hukou of the region (D7):

    wage (OUT)     beta_wage * log(W_out[t] / W_out[base]),
                   W_out[t] = W_out[t-1] * (1 + china_wage_trend * wage_trend_share)
    barriers (OUT) -hukou_barrier_outside if the talent's hukou is one of the region's

So leaving keeps its pull as the nodes' wages rise (they drift by their own trends times the
same share), rather than fading with every yuan the region's wages gain; and of those
considering a move, talents registered elsewhere in China leave more often than the region's own
(a graduate from elsewhere goes home). Xiong'an is a node from
the start: before 2017-04-01 it stands for the three counties it was formed from, and its own
levers start at their dates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from model import kernels
from model.talents import GROUPS, HUKOU_ABROAD, HUKOU_ELSEWHERE, Status

TERMS: tuple[str, ...] = (
    "wage",
    "jobs",
    "housing",
    "services",
    "amenity",
    "agglomeration",
    "distance",
    "stay",
    "barriers",
    "commuting",
    "levers",
)
RETIREE_INCOME_SHARE = 0.6  # pension as a share of the wage of one's group; ASSUMPTIONS.md D5
WORK_HOURS_PER_DAY = 8.0  # the statutory working day (Labour Law of the PRC, art. 36)
NO_PRIVILEGE, KEEPS_BEIJING_SERVICES = 0, 4
"""Service privileges: none; 1 + p for a talent card issued by province p (0-2); Beijing's
services kept by a follower of a relocated function."""
N_PRIVILEGES = 5
UNCHOSEN = -30.0
"""The node constant of a kind that is to arrive nowhere in the base year (``solve_constants``):
exp(-30) ~ 1e-13, nearly never chosen, while a lever may still make it chosen."""


def privilege(talent_card: np.ndarray, keeps_beijing_services: np.ndarray) -> np.ndarray:
    """Service privilege of each row. A card waives the hukou barrier in its issuing province's
    nodes; a follower keeps Beijing's services (level and access) and social insurance
    everywhere. A follower who also holds a card counts as a follower."""
    return np.where(
        keeps_beijing_services,
        KEEPS_BEIJING_SERVICES,
        np.where(talent_card >= 0, 1 + talent_card, NO_PRIVILEGE),
    )


def annuity(money: np.ndarray, params: Mapping[str, float]) -> np.ndarray:
    """CNY a year over ``expected_stay_years`` with the present value of a one-off ``money``."""
    r, years = params["money_discount_rate"], params["expected_stay_years"]
    return money * r / (1.0 - (1.0 + r) ** -years)


@dataclass(frozen=True)
class CellGrid:
    """The attribute cells of the choice; origin ``n_nodes`` stands for outside the region."""

    n_nodes: int
    n_kinds = 2 * len(GROUPS)  # kinds of talent with their own node constants: group x high-end

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.n_nodes + 1, len(GROUPS), 2, HUKOU_ABROAD + 1, 2, 2, N_PRIVILEGES)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    def index(
        self,
        origin: np.ndarray,
        group: np.ndarray,
        is_high_end: np.ndarray,
        hukou: np.ndarray,
        is_retired: np.ndarray,
        is_graduate: np.ndarray,
        privileged: np.ndarray,
    ) -> np.ndarray:
        """Cell index of each row."""
        return np.ravel_multi_index(
            (
                origin.astype(np.int64),
                group,
                is_high_end.astype(np.int64),
                hukou,
                is_retired.astype(np.int64),
                is_graduate.astype(np.int64),
                privileged,
            ),
            self.shape,
        )

    def attributes(self) -> tuple[np.ndarray, ...]:
        """(origin, group, is_high_end, hukou, is_retired, is_graduate, privilege) of every cell,
        in index order (read-only arrays, computed once per grid)."""
        return self._attributes

    @cached_property
    def _attributes(self) -> tuple[np.ndarray, ...]:
        attributes = np.unravel_index(np.arange(self.size), self.shape)
        for a in attributes:
            a.setflags(write=False)
        return attributes

    def kind(self) -> np.ndarray:
        """Kind of every cell: group x 2 + is_high_end."""
        return self._kind

    @cached_property
    def _kind(self) -> np.ndarray:
        _, group, is_high_end, *_ = self.attributes()
        kind = group * 2 + is_high_end
        kind.setflags(write=False)
        return kind

    @property
    def n_classes(self) -> int:
        return 2 * self.n_kinds

    def constant_class(self) -> np.ndarray:
        """Which set of node constants a cell uses: its kind, among residents or among arrivals
        from outside the region (who have no stay option and settle differently)."""
        return self._constant_class

    @cached_property
    def _constant_class(self) -> np.ndarray:
        cls = self.kind() + self.n_kinds * (self.attributes()[0] == self.n_nodes)
        cls.setflags(write=False)
        return cls


@dataclass(frozen=True)
class LeverTerms:
    """What this year's levers do to utility, per origin o (index n_nodes: outside the region),
    group g and node j; all zero (or one, for factors) when off."""

    graduate_money: np.ndarray  # (origins, groups, nodes) CNY a new graduate of o gets for a job at j
    settlement_money: np.ndarray  # (groups, nodes) CNY a newcomer gets for settling there
    housing_relief: np.ndarray  # (groups, nodes) share of housing cost a newcomer saves
    recognition: np.ndarray  # (origins, groups, nodes) share of titles and certificates recognised
    portability: np.ndarray  # (origins, nodes) share of social insurance portable
    hukou_barrier_factor: np.ndarray  # (groups, nodes) multiplies the hukou barrier of j
    foreign_amenity: np.ndarray  # (nodes,) utility for foreign talents
    service_floor: np.ndarray  # (N_PRIVILEGES,) services a privilege guarantees
    commute_cut: np.ndarray  # (nodes, nodes) share of commute time cut between two nodes

    @classmethod
    def none(cls, n_nodes: int) -> LeverTerms:
        zeros = np.zeros((len(GROUPS), n_nodes))
        return cls(
            np.zeros((n_nodes + 1, len(GROUPS), n_nodes)),
            zeros,
            zeros,
            np.zeros((n_nodes + 1, len(GROUPS), n_nodes)),
            np.zeros((n_nodes + 1, n_nodes)),
            np.ones((len(GROUPS), n_nodes)),
            np.zeros(n_nodes),
            np.zeros(N_PRIVILEGES),
            np.zeros((n_nodes, n_nodes)),
        )


@dataclass(frozen=True)
class Conditions:
    """What the nodes offer this year, per group g and node j (arrays (groups, nodes))."""

    wage: np.ndarray
    job_chance: np.ndarray
    price: np.ndarray  # (nodes,) CNY per m2
    services: np.ndarray  # (nodes,) index, Beijing = 1
    group_share_ratio: np.ndarray
    outside_wage: float  # the rest of China's wage, base year = 1
    levers: LeverTerms


def utility_terms(
    grid: CellGrid,
    cond: Conditions,
    distance_km: np.ndarray,
    province: np.ndarray,
    params: Mapping[str, float],
    cells: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Each term of the utility, shape (cells, nodes + 1); the last alternative is OUT, whose
    terms are zero here but for the wage, beta_wage * log(outside_wage) for those in work, and
    the barrier, -hukou_barrier_outside for a hukou of the region (its constant is added by
    ``utility``). With ``cells``, only those cells' rows, in that order.

    Each term depends on a few of a cell's attributes only, so it is computed once per
    combination of those (a small table, axes named below) and then gathered for every cell;
    the arithmetic of each entry is the same as it would be cell by cell.
    """
    origin, group, _, hukou, is_retired, is_graduate, privileged = (
        grid.attributes() if cells is None else (a[cells] for a in grid.attributes())
    )
    n, n_groups, lev = grid.n_nodes, len(GROUPS), cond.levers
    o = np.arange(n + 1)[:, None, None, None, None]  # origin (n + 1 is outside the region)
    g = np.arange(n_groups)[None, :, None, None, None]  # group
    a = np.arange(2)[None, None, :, None, None]  # a second binary attribute (see below)
    h = np.arange(HUKOU_ABROAD + 1)[None, None, None, :, None]  # hukou
    newcomer = o != np.arange(n)  # (origins, 1, 1, 1, nodes)
    working = np.array([True, False])[None, None, :, None, None]  # a = is_retired

    # (origin, group, is_retired, 1, nodes)
    income = cond.wage[g[..., 0]] * np.where(working, 1.0, RETIREE_INCOME_SHARE)
    housing_cost = cond.price[None, :] * params["floor_area_m2"] * params["user_cost_rate"]
    housing_cost = housing_cost * (1.0 - lev.housing_relief[g[..., 0]] * newcomer)
    housing = -params["beta_housing"] * housing_cost / income
    # (1, group, is_retired, 1, nodes) and (1, group, 1, 1, nodes)
    wage = params["beta_wage"] * np.log(cond.wage[g[..., 0]]) * working
    jobs = params["beta_jobs"] * np.log(cond.job_chance[g[..., 0]]) * working
    agglomeration = params["beta_agglomeration"] * np.log(cond.group_share_ratio[g[..., 0]])
    # (privilege, nodes)
    services = params["beta_services"] * np.maximum(cond.services[None, :], lev.service_floor[:, None])
    # (origin, nodes)
    dist = np.vstack([distance_km, np.zeros((1, n))])
    distance = -params["beta_distance"] * dist / 100.0 * (np.arange(n + 1) < n)[:, None]
    stay = params["beta_stay"] * ~newcomer[:, 0, 0, 0, :]
    # (origin, group, privilege, hukou, nodes)
    p = np.arange(N_PRIVILEGES)[None, None, :, None, None]
    follower = p == KEEPS_BEIJING_SERVICES
    crosses = np.append(province, -1)[o] != province
    share = params["credential_barrier_share"]
    portable = np.where(follower, 1.0, lev.portability[:, None, None, None, :])
    recognised = lev.recognition[:, :, None, None, :]
    waived = follower | (p - 1 == province)  # a card's issuing province is privilege - 1
    hukou_barrier = np.array(
        [params["hukou_barrier_beijing"], params["hukou_barrier_tianjin"], params["hukou_barrier_hebei"]]
    )[province]
    barriers = -(
        params["beta_province_barrier"] * crosses * (1.0 - share * recognised - (1.0 - share) * portable)
        + hukou_barrier * (h != province) * lev.hukou_barrier_factor[g[..., 0]] * ~waived
    )
    # (origin, group, is_graduate, hukou, nodes)
    money = lev.graduate_money[:, :, None, None, :] * (a == 1) + lev.settlement_money[g[..., 0]] * newcomer
    levers = params["beta_wage"] * np.log1p(annuity(money, params) / cond.wage[g[..., 0]]) + (
        lev.foreign_amenity * (h == HUKOU_ABROAD)
    )
    # (1, group, is_retired, 1, nodes)
    commuting = commuting_value(home_utility(cond, distance_km, params), params)[g[..., 0]] * working

    zero = np.zeros_like(origin)
    gathered = {
        "wage": wage[0, group, is_retired, 0],
        "jobs": jobs[0, group, is_retired, 0],
        "housing": housing[origin, group, is_retired, 0],
        "services": services[privileged],
        "amenity": None,  # constants are added by ``utility``
        "agglomeration": agglomeration[0, group, zero, 0],
        "distance": distance[origin],
        "stay": stay[origin],
        "barriers": barriers[origin, group, privileged, hukou],
        "commuting": commuting[0, group, is_retired, 0],
        "levers": levers[origin, group, is_graduate, hukou],
    }
    out = {}
    for term, value in gathered.items():
        full = np.zeros((len(origin), n + 1))
        if value is not None:
            full[:, :n] = value
        out[term] = full
    out["wage"][:, n] = params["beta_wage"] * np.log(cond.outside_wage) * (is_retired == 0)
    out["barriers"][:, n] = -params["hukou_barrier_outside"] * (hukou < HUKOU_ELSEWHERE)
    return out


def home_utility(cond: Conditions, distance_km: np.ndarray, params: Mapping[str, float]) -> np.ndarray:
    """V[g, j, h]: utility of living at node h for a talent of group g in work at node j, shape
    (groups, jobs, homes); -inf where h is beyond commuting range of j (module docstring)."""
    n = len(cond.price)
    hours = 2.0 * distance_km / params["commute_speed_kmh"] * (1.0 - cond.levers.commute_cut)
    lost = params["commute_time_value_share"] * hours / WORK_HOURS_PER_DAY
    in_range = (distance_km <= params["commute_max_km"]) & (lost < 1.0)
    commute = params["beta_wage"] * np.log1p(-np.where(in_range, lost, 0.0))  # (jobs, homes)
    housing_cost = cond.price * params["floor_area_m2"] * params["user_cost_rate"]  # (homes,)
    housing = -params["beta_housing"] * housing_cost[None, None, :] / cond.wage[:, :, None]
    away = params["commute_home_constant"] * ~np.eye(n, dtype=bool)
    value = housing + params["beta_services"] * cond.services + commute + away
    return np.where(in_range, value, -np.inf)


def commuting_value(home: np.ndarray, params: Mapping[str, float]) -> np.ndarray:
    """Option value of homes in other nodes, (groups, jobs): lambda * log sum_h exp((V[g, j, h]
    - V[g, j, j]) / lambda); 0 where only j itself is in range."""
    scale = params["commute_nest_scale"]
    own = np.diagonal(home, axis1=1, axis2=2)[:, :, None]
    return scale * np.log(np.exp((home - own) / scale).sum(axis=2))


def home_probabilities(home: np.ndarray, params: Mapping[str, float]) -> np.ndarray:
    """P(h | g, j) of the nested home choice, (groups, jobs, homes)."""
    return logit_probabilities(home / params["commute_nest_scale"])


def jobs_given_homes(homes: np.ndarray, in_work: np.ndarray) -> np.ndarray:
    """P(j | g, h), shape (groups, homes, jobs): the home choice turned round (Bayes),
    P(j | g, h) = P(h | g, j) E[g, j] / sum_j' P(h | g, j') E[g, j'], with ``homes`` P(h | g, j)
    (groups, jobs, homes) and ``in_work`` E[g, j] (groups, nodes) the persons in work at each job
    node. A home nobody of the group could reach keeps its own node."""
    joint = homes * in_work[:, :, None]  # (groups, jobs, homes)
    total = joint.sum(axis=1, keepdims=True)
    n = homes.shape[1]
    return np.where(total > 0, joint / np.maximum(total, 1e-300), np.eye(n)[None]).transpose(0, 2, 1)


def utility(
    terms: Mapping[str, np.ndarray],
    constants: np.ndarray,
    outside: np.ndarray,
    grid: CellGrid,
    cells: np.ndarray | None = None,
) -> np.ndarray:
    """Total utility (cells, nodes + 1): the terms plus the node constants of each cell's kind
    and the outside option, which arrivals from outside do not have. With ``cells``, the terms
    are given for those cells only (rows in that order), and so is the result."""
    origin, cls = grid.attributes()[0], grid.constant_class()
    if cells is not None:
        origin, cls = origin[cells], cls[cells]
    total = sum(terms.values()) + np.hstack([constants[cls], outside[cls][:, None]])
    total[origin == grid.n_nodes, grid.n_nodes] = -np.inf
    return total


def logit_probabilities(utility: np.ndarray) -> np.ndarray:
    """Multinomial-logit choice probabilities over the last axis; -inf means unavailable."""
    top = utility.max(axis=-1, keepdims=True)
    expu = np.exp(utility - top)
    return expu / expu.sum(axis=-1, keepdims=True)


def draw_choices(probabilities: np.ndarray, cell_of_row: np.ndarray, u: np.ndarray) -> np.ndarray:
    """One alternative per row, drawn from its cell's probabilities by its uniform draw ``u``
    (inverse CDF: the first alternative whose running sum exceeds u times the row's total)."""
    cumulative = np.cumsum(probabilities, axis=1)
    # scale the draw to the row's total, so rounding never lands on an unavailable last option
    # u * total can round up to the total itself: never step past the last possible alternative
    last_possible = probabilities.shape[1] - 1 - np.argmax(probabilities[:, ::-1] > 0, axis=1)
    return kernels.draw(cumulative, last_possible, np.asarray(cell_of_row, np.int64), u)


def refuse_arrivals(
    probabilities: np.ndarray, arriving: np.ndarray, capped: np.ndarray, persons: np.ndarray, refused: float
) -> tuple[np.ndarray, np.ndarray]:
    """Choice probabilities when the capped alternatives turn away ``refused`` arrivals.

    Each talent who would arrive there is turned away with the same chance p and chooses again
    among the rest (a fresh draw from the same logit without the capped alternatives); cells
    whose talents already live at a capped node choose as before (ASSUMPTIONS P10)::

        Q[c]    = sum over capped j of P[c, j]
        A       = sum over arriving cells c of persons[c] * Q[c]
        p       = min(1, refused / A)
        P'[c, j] = P[c, j] * (1 - p)                          j capped
        P'[c, j] = P[c, j] * (1 + p * Q[c] / (1 - Q[c]))      j not capped

    Args:
        probabilities: (cells, alternatives), each row summing to 1.
        arriving: (cells,) True where the cell's talents do not live at a capped node.
        capped: (alternatives,) True at the capped alternatives.
        persons: (cells,) expected persons choosing in each cell.
        refused: persons to turn away (>= 0).

    Returns:
        The new probabilities, and the persons turned away from each alternative
        (p * sum over arriving c of persons[c] * P[c, j]; 0 where not capped).
    """
    q = probabilities[:, capped].sum(axis=1)
    expected = float(persons[arriving] @ q[arriving])
    p = min(1.0, refused / expected) if expected > 0 else 0.0
    rest = 1.0 - q
    # a cell with nowhere else to go (q = 1, only possible by rounding) keeps its choice
    p_cell = np.where(arriving & (rest > 0), p, 0.0)
    scale = np.where(
        capped, 1.0 - p_cell[:, None], 1.0 + (p_cell * q / np.where(rest > 0, rest, 1.0))[:, None]
    )
    turned_away = np.where(capped, (persons * p_cell) @ probabilities, 0.0)
    return probabilities * scale, turned_away


def hazard_factors(max_age: int, params: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray, float]:
    """The factors of ``moving_hazard``: by age (0..max_age), by status, and for newcomers."""
    ages = np.arange(max_age + 1)
    age_factor = params["move_hazard_base"] * np.exp(
        -params["move_hazard_age_decay"] * np.maximum(ages - 30, 0)
    )
    status_factor = np.ones(len(Status))
    status_factor[Status.UNEMPLOYED] = params["move_hazard_unemployed_ratio"]
    status_factor[Status.RETIRED] = params["move_hazard_retired_ratio"]
    status_factor[Status.STUDENT] = 0.0
    return age_factor, status_factor, float(params["move_hazard_newcomer_ratio"])


def moving_hazard(
    age: np.ndarray, status: np.ndarray, years_at_node: np.ndarray, params: Mapping[str, float]
) -> np.ndarray:
    """Yearly probability that a talent considers moving; students never do (they choose at
    graduation)."""
    age = np.asarray(age)
    if len(age) == 0:
        return np.zeros(0)
    # The age and status factors are computed once per age and status, not once per row.
    return kernels.hazard_by_row(
        np.ascontiguousarray(age),
        np.ascontiguousarray(status),
        np.ascontiguousarray(years_at_node),
        *hazard_factors(int(age.max()), params),
    )


def balance_targets(
    persons: np.ndarray,
    grid: CellGrid,
    outside_share: float,
    arrival_shares: np.ndarray,
    tilt: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Where the base year's choosers should end up: a balance, tilted by the trend before it.

    Residents who consider moving arrive at each node, per kind, in the numbers that leave it,
    but for the share ``outside_share`` that leaves the region. Arrivals from outside settle
    like those before them: ``arrival_shares`` (kinds, nodes), each row summing to 1. With
    ``tilt`` (nodes,), each kind's arrivals at node j are weighted by ``tilt[j]`` and scaled back
    to the kind's total, so that nodes that grew before the base year keep drawing more than
    they lose (issue 10, item 4):

        target[k, j] = balanced[k, j] * tilt[j] * sum_i balanced[k, i] / sum_i balanced[k, i] * tilt[i]

    Returns (target persons (classes, nodes), target leaving the region (classes,)).
    """
    origin, kind = grid.attributes()[0], grid.kind()
    n, n_kinds = grid.n_nodes, grid.n_kinds
    inside = origin < n
    target = np.zeros((grid.n_classes, n))
    np.add.at(target, (kind[inside], origin[inside]), persons[inside] * (1 - outside_share))
    arriving = np.bincount(kind[~inside], weights=persons[~inside], minlength=n_kinds)
    target[n_kinds:] = arriving[:, None] * arrival_shares
    if tilt is not None:
        tilted = target * tilt[None, :]
        totals, tilted_totals = target.sum(axis=1, keepdims=True), tilted.sum(axis=1, keepdims=True)
        target = tilted * totals / np.where(tilted_totals > 0, tilted_totals, 1.0)  # a kind with none: 0
    considering = np.bincount(kind[inside], weights=persons[inside], minlength=n_kinds)
    target_out = np.concatenate([considering * outside_share, np.zeros(n_kinds)])
    return target, target_out


def solve_constants(
    terms: Mapping[str, np.ndarray],
    persons: np.ndarray,
    grid: CellGrid,
    target: np.ndarray,
    target_out: np.ndarray,
    iterations: int = 1000,
    tolerance: float = 1e-9,
) -> tuple[np.ndarray, np.ndarray]:
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
    # Where a kind is to arrive nowhere (target 0), its share is 0 only at a constant of minus
    # infinity. Left at 0, the correction would raise all the kind's other constants (and its
    # outside utility) without end instead, by about log k after k steps: such constants start
    # at, and keep, UNCHOSEN, so the others converge.
    constants = np.where(target > 0, 0.0, UNCHOSEN)
    outside = np.where(target_out > 0, 0.0, -np.inf)  # nobody is to leave: no outside option
    # one buffer reused by every iteration: the same arithmetic as ``logit_probabilities``, in
    # place, its row passes compiled (it converges in about a hundred steps)
    probabilities = np.empty_like(fixed)
    for _ in range(iterations):
        kernels.shifted_utility(fixed, constants, outside, cls, probabilities)
        np.exp(probabilities, out=probabilities)
        kernels.normalise_rows(probabilities)
        chosen = membership @ probabilities
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(target > 0, np.log(target / chosen[:, :n]), 0.0)
            step_out = np.where(target_out > 0, np.log(target_out / chosen[:, n]), 0.0)
        constants += step
        outside += step_out
        if max(np.abs(step).max(), np.abs(step_out).max()) < tolerance:
            break
    return constants, outside


def net_gain_by_province(
    probabilities: np.ndarray,
    persons: np.ndarray,
    grid: CellGrid,
    province: np.ndarray,
    cells: np.ndarray | None = None,
) -> np.ndarray:
    """Expected net talents each province gains from the choices of ``persons`` per cell:
    arrivals from other provinces or outside, minus departures to them (shape (3,)).

    With ``cells``, ``probabilities`` are given for those cells only (rows in that order) and
    every other cell has no persons: the sum runs over all cells, those contributing zero, so
    that it is the same number to the last bit."""
    origin = grid.attributes()[0]
    origin_province = np.append(province, -1)[origin if cells is None else origin[cells]]
    alt_province = np.append(province, -1)
    gains = np.zeros(3)
    for p in range(3):
        into_p = probabilities[:, alt_province == p].sum(axis=1)
        from_p = origin_province == p
        if cells is None:
            gains[p] = (persons * np.where(from_p, -(1.0 - into_p), into_p)).sum()
        else:
            by_cell = np.zeros(grid.size)
            by_cell[cells] = persons[cells] * np.where(from_p, -(1.0 - into_p), into_p)
            gains[p] = by_cell.sum()
    return gains


def term_effects(
    terms: Mapping[str, np.ndarray],
    base_terms: Mapping[str, np.ndarray],
    constants: np.ndarray,
    outside: np.ndarray,
    grid: CellGrid,
    persons: np.ndarray,
    province: np.ndarray,
    terms_of_cells_with_persons: bool = False,
) -> dict[str, np.ndarray]:
    """How much of this year's net gain of each province each term's change since the base
    year explains: gain with every term as it is, minus gain with that one term held at its
    base-year value. Terms that have not changed explain nothing.

    Only cells with persons are computed: a cell without any adds nothing to a gain. ``terms``
    are of every cell, or (``terms_of_cells_with_persons``) of those cells only, in index order.
    """
    cells = np.flatnonzero(persons)
    if not terms_of_cells_with_persons:
        terms = {term: value[cells] for term, value in terms.items()}
    actual = net_gain_by_province(
        logit_probabilities(utility(terms, constants, outside, grid, cells)), persons, grid, province, cells
    )
    effects = {}
    for term in TERMS:
        held = dict(terms)
        held[term] = base_terms[term][cells]
        without = net_gain_by_province(
            logit_probabilities(utility(held, constants, outside, grid, cells)),
            persons,
            grid,
            province,
            cells,
        )
        effects[term] = actual - without
    return effects
