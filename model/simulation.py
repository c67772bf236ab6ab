"""The model: one Mesa ``Model`` whose step is a year of docs/architecture.md.

Cities and firms are Mesa agents; talents are weighted array rows (``model.talents``). The
model takes a validated scenario and a seed, draws its random numbers keyed by the seed, the
year, the purpose and the row (``self.draws``, model/draws.py: common random numbers for runs
that differ only in a lever or a parameter), and keeps its results as tables in memory
(``tables()``); it writes no files.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import mesa
import numpy as np
import pandas as pd

from model import demography, kernels, programmes
from model.choice import (
    TERMS,
    CellGrid,
    Conditions,
    balance_targets,
    draw_choices,
    hazard_factors,
    home_probabilities,
    home_utility,
    jobs_given_homes,
    logit_probabilities,
    moving_hazard,
    net_gain_by_province,
    refuse_arrivals,
    solve_constants,
    term_effects,
    utility,
    utility_terms,
)
from model.cities import City
from model.draws import Draws, Keyed, Making, Purpose, Source
from model.errors import JJJError, RunError
from model.firms import SECTORS, Firm, sector_weights, talent_wages
from model.indicators import indicators
from model.inputs import RECENT_WAGE_YEARS, TREND_YEARS, base_year, lending_rate, trend_fade
from model.layout import PROVINCES, Layout, default_layout
from model.levers import LEVERS, LeverState, resolve_year
from model.parameters import resolve_parameters
from model.scenario import Scenario
from model.talents import GROUPS, HUKOU_ABROAD, HUKOU_ELSEWHERE, Status, Talents

CEILING_DRIVER = "ceiling"
"""The drivers' name for what a population ceiling's refusals change (not a utility term)."""
MIN_JOB_CHANCE = 0.02  # floor of job_chance so that log stays finite where nothing is posted


@dataclass
class YearAccounts:
    """Persons entering, leaving and moving during one year, per node; flows per (origin,
    destination, group) with index ``n_nodes`` for outside the region."""

    n_nodes: int
    entries: np.ndarray = field(init=False)
    exits: np.ndarray = field(init=False)
    inflow: np.ndarray = field(init=False)
    outflow: np.ndarray = field(init=False)
    graduates: np.ndarray = field(init=False)  # by the node where they studied
    # where those graduates are at the year's end (count_graduates_placed)
    graduates_left: np.ndarray = field(init=False)
    graduates_employed: np.ndarray = field(init=False)
    graduates_employed_in_province: np.ndarray = field(init=False)
    # the same four for those of them with the hukou of the province they studied in (local origin)
    local_graduates: np.ndarray = field(init=False)
    local_graduates_left: np.ndarray = field(init=False)
    local_graduates_employed: np.ndarray = field(init=False)
    local_graduates_employed_in_province: np.ndarray = field(init=False)
    graduates_settled: np.ndarray = field(init=False)  # given the hukou with the job (by job node)
    enrolled: np.ndarray = field(init=False)  # university entrants (a part of entries)
    refused: np.ndarray = field(init=False)  # talents turned away by a population ceiling (expected)
    flows: np.ndarray = field(init=False)
    spending: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = self.n_nodes
        self.entries, self.exits, self.inflow, self.outflow, self.graduates, self.enrolled = (
            np.zeros(n, np.int64) for _ in range(6)
        )
        (
            self.graduates_left,
            self.graduates_employed,
            self.graduates_employed_in_province,
            self.local_graduates,
            self.local_graduates_left,
            self.local_graduates_employed,
            self.local_graduates_employed_in_province,
            self.graduates_settled,
        ) = (np.zeros(n, np.int64) for _ in range(8))
        self.refused = np.zeros(n)
        self.flows = np.zeros((n + 1, n + 1, len(GROUPS)), np.int64)

    def spend(self, lever: str, cny_by_node: np.ndarray) -> None:
        """Add a lever's spending, by node."""
        self.spending[lever] = self.spending.get(lever, 0.0) + np.asarray(cny_by_node, float)

    def move(
        self, origin: np.ndarray, destination: np.ndarray, group: np.ndarray, weight: np.ndarray
    ) -> None:
        """Record moves; index ``n_nodes`` on either side is outside the region."""
        # whole persons: the sums are exact, in one compiled pass
        kernels.record_moves(origin, destination, group, weight, self.flows, self.outflow, self.inflow)


class TalentModel(mesa.Model):
    """Talent flows across Jing-Jin-Ji, one step a year from the scenario's start year.

    Args:
        scenario: a validated scenario (``model.scenario.load_scenario``).
        seed: overrides the scenario's seed.
        layout: the nodes; the plan's 17 by default.
    """

    def __init__(self, scenario: Scenario, seed: int | None = None, layout: Layout | None = None) -> None:
        self.seed = scenario.seed if seed is None else seed
        super().__init__(rng=self.seed)  # Mesa's own generator; the model's draws are ``self.draws``
        self.draws = Draws(self.seed)
        self.scenario = scenario
        self.layout = layout or default_layout()
        self.params = resolve_parameters(scenario.parameter_overrides())
        self.schedules = scenario.lever_schedules(self.layout)
        self.scale = scenario.scale
        self.base_year = self.year = scenario.start_year
        self.end_year = scenario.end_year
        self.base = base_year(self.base_year)
        self.grid = CellGrid(self.layout.size)
        self._pole_shares: np.ndarray | None = None  # see _pole_group_shares
        self.notes: list[str] = []
        # The base year is balanced without levers, so that a lever in force from the base year
        # acts in the first simulated year instead of being absorbed into the node constants.
        self.levers, _ = resolve_year({}, self.layout, self.year)
        # ... except the purchase limits already in force, which set how far the base year's
        # published prices lie below the market's (model/cities.py)
        self.price_wedge = resolve_year(self.schedules, self.layout, self.year)[0][
            "purchase_limits"
        ].by_node()

        # the base year's rows, statuses and firms' staff are made from one generator read in
        # sequence: a fixed count of numbers for a seed while entrants_growth, which sets the
        # students of a 2010 base year, stays as declared (none of the fitted parameters changes
        # the base year's counts); its talents' jobs are keyed to them (``_place_base_year_jobs``)
        initial = self.draws.stream(self.base_year, Purpose.INITIAL)
        self.talents = demography.initial_talents(self.base, self.layout, self.scale, self.params, initial)
        self._making(Source.INITIAL).name(self.talents)
        self.cities = self._create_cities()
        self.firms = self._create_firms(initial)
        self._wage_growth = np.zeros(self.layout.size)  # each node's wage growth this year (phase 2)
        self.accounts = YearAccounts(self.layout.size)
        self.drivers = {term: np.zeros(len(PROVINCES)) for term in (*TERMS, CEILING_DRIVER)}
        self.housing_availability = np.zeros(self.layout.size)  # chance a newcomer finds a talent flat
        self.youth_posts = np.zeros(self.layout.size)  # research posts the youth programme funds
        self.fte_served = np.zeros(self.layout.size)  # phase 7
        self.services_served = np.zeros(self.layout.size)  # services index points they add
        self._place_base_year_jobs()
        # each year's columns, made into tables once (``tables``), not a DataFrame a year
        self._records: dict[str, list[dict[str, Any]]] = {
            k: [] for k in ("stocks", "nodes", "flows", "spending")
        }

        self.base_terms = utility_terms(
            self.grid, self.conditions(), self.layout.distance_km, self.layout.province, self.params
        )
        self._still, self._lean, self.outside = self._balance_base_year()
        self.constants = self._leaning_constants()
        self.agent_steps = 0  # talent rows summed over the simulated years (rows at each year's end)
        self._staff_after_hiring: np.ndarray | None = None  # set by match_jobs for collect
        self._staff_in_conditions: np.ndarray | None = None  # set by conditions
        self._staff_after_moves: np.ndarray | None = None  # set by choose_locations for match_jobs
        self._staff_at_year_end = np.zeros(0)  # set by collect for next year's plan_firms
        self._seekers_at_year_end = np.zeros(0)  # the same
        # set by collect for next year's update_cities; None once relocation has moved homes
        self._residents_at_year_end: np.ndarray | None = None
        # talents a population ceiling turns away next year (hold_population_ceiling)
        self._ceiling_refusals = 0.0
        self.collect()

    # --- the year ---------------------------------------------------------------------------

    def _keyed(self, purpose: Purpose) -> Keyed:
        """This year's per-row draws for ``purpose`` (model/draws.py)."""
        return self.draws.keyed(self.year, purpose)

    def _making(self, source: Source) -> Making:
        """Rows made this year by ``source``: their ids and keyed numbers (model/draws.py)."""
        return Making(self.draws, self.year, source)

    def step(self) -> None:
        """One year, phase by phase (docs/architecture.md)."""
        self.year += 1
        self.constants = self._leaning_constants()
        self.accounts = YearAccounts(self.layout.size)
        self.resolve_levers()
        self.issue_talent_cards()
        self.plan_firms()
        self.relocate_functions()
        self.update_cities()
        graduates, newcomers, alive = self.age_and_renew()
        studied_at = self.choose_locations(graduates, newcomers, alive)
        self.match_jobs(studied_at)
        self.count_graduates_placed(studied_at)
        self.settle_graduates_at_hiring(studied_at)
        self.house_talents()
        residents = self._residents_by_node()  # nobody moves in phase 7: counted once for both
        self.serve_flexibly(residents)
        self.hold_population_ceiling(residents)
        self.collect()
        self.agent_steps += len(self.talents)
        self.running = self.year < self.end_year

    def resolve_levers(self) -> None:
        """Phase 1: this year's lever values from the scenario's dated values."""
        self.levers, notes = resolve_year(self.schedules, self.layout, self.year)
        self.notes.extend(note for note in notes if note not in self.notes)
        self.price_wedge = self.levers["purchase_limits"].by_node()

    def issue_talent_cards(self) -> None:
        """Phase 1 (cont.): this year's talent cards (plan 四(十二))."""
        programmes.issue_talent_cards(
            self.talents, self.levers["talent_card"], self.layout.province, self._keyed(Purpose.TALENT_CARD)
        )

    def plan_firms(self) -> None:
        """Phase 2: labour demand and wages of every firm; jobs added by the entrepreneurship
        fund and the youth programme."""
        staff = self._staff_at_year_end  # nobody has changed employer since last year's collect
        seekers = self._seekers_at_year_end  # nobody has changed status since last year's collect
        demand_share = self._demand_share_in_node()
        firm_node, firm_sector = self._firm_nodes(), np.array([f.sector for f in self.firms])
        boost = programmes.growth_boost(self.levers, firm_node, firm_sector)
        weights = [firm.demand.copy() for firm in self.firms]  # the node's wage index: last year's demand
        before = np.array([firm.wage @ w for firm, w in zip(self.firms, weights, strict=True)])
        trend = self._wage_trends_now()
        for firm in self.firms:
            growth = self.params[f"growth_{SECTORS[firm.sector]}"] + boost[firm.index]
            seen = seekers[:, firm.node] * demand_share[firm.index]
            firm.plan(staff[firm.index], seen, growth, trend[firm.node], self.params)
        after = np.array([firm.wage @ w for firm, w in zip(self.firms, weights, strict=True)])
        n = self.layout.size
        self._wage_growth = (
            np.bincount(firm_node, after, n) / np.maximum(np.bincount(firm_node, before, n), 1.0) - 1.0
        )

        fund = self.levers["entrepreneurship_fund"]
        if fund.is_on:
            jobs = fund.by_node() / self.params["fund_cost_per_job"]
            funded = [f for f in self.firms if fund.nodes[f.node] and fund.sectors[f.sector]]
            node_demand = np.bincount(
                [f.node for f in funded], [f.demand.sum() for f in funded], self.layout.size
            )
            node_firms = np.bincount([f.node for f in funded], minlength=self.layout.size)
            for firm in funded:  # by demand; equally where the funded firms have none yet
                share = (
                    firm.demand.sum() / node_demand[firm.node]
                    if node_demand[firm.node] > 0
                    else 1.0 / node_firms[firm.node]
                )
                firm.add_demand(jobs[firm.node] * share)
            self.accounts.spend("entrepreneurship_fund", fund.by_node())

        youth = self.levers["youth_programme"]
        posts = youth.by_node()
        if posts.any() or self.youth_posts.any():
            research = GROUPS.index("research")
            for firm in self.firms:
                if SECTORS[firm.sector] == "frontier_tech":
                    firm.add_demand(posts[firm.node] - self.youth_posts[firm.node], group=research)
            self.youth_posts = posts
            self.accounts.spend("youth_programme", posts * LEVERS["youth_programme"].unit_cost_cny)

    def relocate_functions(self) -> None:
        """Phase 2 (cont.): non-capital functions leave their origins (plan 二(二), 三(一)).

        Jobs of the target sectors move from the origin nodes' firms (in proportion to their
        demand) to the same sector's firms in the target nodes (equal shares). Each employee
        whose job moves is sent where its firm's jobs go (``programmes.where_jobs_go``), and
        follows or stays and looks for work (binary logit on utility; with service following,
        followers count Beijing's services wherever they go)."""
        move = self.levers["function_relocation"]
        if not move.is_on:
            return
        targets = np.flatnonzero(move.nodes)
        leaving = [f for f in self.firms if move.origins[f.node] and move.sectors[f.sector]]
        total = sum(f.demand.sum() for f in leaving)
        share = np.zeros(len(self.firms))
        for firm in leaving:
            share[firm.index] = min(1.0, move.value / max(total, 1e-9))
            moved = firm.demand * share[firm.index]
            firm.demand = firm.demand - moved
            for node in targets:
                self.firms[self._firm_index(node, firm.sector)].demand += moved / len(targets)

        t = self.talents
        rows = programmes.relocated_staff(t, share, self._keyed(Purpose.RELOCATED_STAFF))
        destination = programmes.where_jobs_go(
            t.firm[rows].astype(np.int64),
            t.weight[rows],
            targets,
            self._keyed(Purpose.RELOCATION_ORDER).of(t.id[rows]),
        )
        _, terms, total_utility = self._utility_now()
        cells = self._cells(t, rows, np.zeros(len(rows), bool))
        origin = t.node[rows].astype(np.int64)
        covered = self.levers["service_following"].value
        services = self._by_city("services_index")
        leader = services.max()
        kept_services = (
            self.params["beta_services"] * covered * np.maximum(leader - services[destination], 0.0)
        )
        follow_utility = (
            total_utility[cells, destination]
            - terms["jobs"][cells, destination]
            + kept_services
            + self.params["job_keeping_bonus"]
        )
        follows = self._keyed(Purpose.FOLLOWS_JOB).of(t.id[rows]) < programmes.follow_probability(
            follow_utility, total_utility[cells, origin]
        )
        followers, stayers = rows[follows], rows[~follows]
        self.accounts.move(
            t.home[followers], destination[follows], t.group[followers], self._talent_weight(followers)
        )
        t.firm[followers] = [
            self._firm_index(d, self.firms[f].sector) for d, f in zip(destination[follows], t.firm[followers])
        ]
        t.node[followers] = destination[follows]
        t.home[followers] = destination[follows]  # they move with their job
        self._residents_at_year_end = None  # homes have changed: update_cities counts them
        t.years_at_node[followers] = 0
        t.in_talent_housing[followers] = False
        t.keeps_beijing_services[followers] |= (
            self._keyed(Purpose.KEEPS_SERVICES).of(t.id[followers]) < covered
        )
        t.status[stayers] = Status.UNEMPLOYED
        t.firm[stayers] = -1

    def hold_population_ceiling(self, residents: np.ndarray) -> None:
        """Phase 7 (cont.): population_ceiling. Where the target nodes' residents R = T + N exceed
        the ceiling K at the year's end, the excess E = R - K is shared: talents' part is
        D = w * E * T / R (w = ``ceiling_talent_weight``), and so many of the talents who would
        arrive next year are turned away (``_refuse_at_ceiling``); the residents without a
        degree give way at once by the rest, shrinking by one factor
        f = max(0, 1 - (E - D) / N) (ASSUMPTIONS P10). With w = 1 both kinds shrink alike
        (f = K / R); with w = 0 the residents without a degree meet the ceiling alone.

        Args:
            residents: persons of the talent rows by the node where they live (as
                ``_residents_by_node`` counts them).
        """
        self._ceiling_refusals = 0.0
        ceiling = self._ceiling_in_force()
        if ceiling is None:
            return
        capped = [city for city in self.cities if ceiling.nodes[city.node]]
        talents = residents[ceiling.nodes].sum()
        nontalent = sum(city.nontalent for city in capped)
        excess = talents + nontalent - ceiling.value
        if excess > 0:
            self._ceiling_refusals = (
                self.params["ceiling_talent_weight"] * excess * talents / (talents + nontalent)
            )
            factor = max(1.0 - (excess - self._ceiling_refusals) / max(nontalent, 1.0), 0.0)
            for city in capped:
                city.nontalent *= factor

    def _refuse_at_ceiling(
        self, probabilities: np.ndarray, used: np.ndarray, persons: np.ndarray
    ) -> np.ndarray:
        """Phase 5 (cont.): the talents a population ceiling turns away this year, those above
        their part of it at the last year's end (``hold_population_ceiling``), are taken from
        those who would arrive at its nodes, who choose again among the rest
        (``choice.refuse_arrivals``); talents living there already are not turned away.

        What they change in each province's net gain is counted as the driver ``ceiling``.

        Args:
            probabilities: choice probabilities of the ``used`` cells.
            used: the choice cells anyone chooses from this year.
            persons: expected persons choosing in each choice cell (the whole grid).
        """
        ceiling = self._ceiling_in_force()
        if self._ceiling_refusals <= 0 or ceiling is None:
            return probabilities
        capped = np.append(ceiling.nodes, False)  # leaving the region is never refused
        origin = self.grid.attributes()[0][used]  # outside the region is not capped either
        after, turned_away = refuse_arrivals(
            probabilities, ~capped[origin], capped, persons[used], self._ceiling_refusals
        )
        self.accounts.refused += turned_away[: self.layout.size]
        self.drivers[CEILING_DRIVER] += net_gain_by_province(
            after, persons, self.grid, self.layout.province, used
        ) - net_gain_by_province(probabilities, persons, self.grid, self.layout.province, used)
        return after

    def _ceiling_in_force(self) -> LeverState | None:
        """This year's population_ceiling, or None where it is off or targets no node."""
        ceiling = self.levers["population_ceiling"]
        return ceiling if ceiling.value > 0 and ceiling.nodes.any() else None

    def settle_by_points(self, alive: np.ndarray) -> None:
        """Phase 4 (cont.): hukou_points_quota, after the yearly settlement (model/demography.py
        ``settle_by_points``); no draws while the lever is off."""
        points = self.levers["hukou_points_quota"]
        if points.value > 0 and points.nodes.any():
            demography.settle_by_points(
                self.talents,
                self.layout.province,
                points.value,
                points.nodes,
                self._keyed(Purpose.POINTS),
                alive,
            )

    def update_cities(self) -> None:
        """Phase 3: non-talent residents, talent housing, housing prices and public services."""
        talents = self._residents_at_year_end  # homes as collect counted them
        if talents is None:  # relocation has moved followers' homes since
            talents = self._residents_by_node()
        leader = self._by_city("services_index").max()
        new_units = self.levers["talent_housing"].by_node()
        equalising = self.levers["services_equalisation"].by_node()
        closed = np.zeros(self.layout.size)
        rate_fall = np.log(lending_rate(self.year - 1) / lending_rate(self.year))  # H2
        for city in self.cities:
            city.grow_nontalent(self.year)
            city.add_talent_units(new_units[city.node], programmes.RESIDENTS_PER_UNIT)
            city.update_housing(
                talents[city.node] + city.nontalent, self._wage_growth[city.node], rate_fall, self.params
            )
            gap = max(leader - city.services_index, 0.0)
            city.converge_services(leader, self.params["services_convergence"] + equalising[city.node])
            closed[city.node] = equalising[city.node] * gap
        if equalising.any():
            residents = talents + self._by_city("nontalent")
            self.accounts.spend(
                "services_equalisation", residents * closed * LEVERS["services_equalisation"].unit_cost_cny
            )
        communities = self.levers["international_community"].by_node()
        if communities.any():
            self.accounts.spend(
                "international_community", communities * LEVERS["international_community"].unit_cost_cny
            )

    def age_and_renew(self) -> tuple[np.ndarray, Talents, np.ndarray]:
        """Phase 4: ageing, deaths, retirement, graduation, enrolment (resident entrants leave the
        non-talent residents), adults' degrees and arrivals.

        The year's dead keep their rows until phase 5 drops them with those who leave the
        region, in the year's one pass over the columns (``Talents.keep``); until then they
        weigh nothing (weight 0), so every count of persons leaves them out, and no rule draws
        for them. The year's entrants are appended after all rows.

        Returns the mask of this year's graduates (over talent rows), the arrivals from outside
        the region, who choose their node in phase 5, and the mask of the rows alive.
        """
        talents, acc = self.talents, self.accounts
        demography.age_one_year(talents)
        dying = demography.deaths(talents, self.params, self._keyed(Purpose.DEATH))
        acc.exits += talents.persons_by(talents.home, self.layout.size, dying & talents.has_degree)
        # The dead rows go in phase 5 (see above); until then no rule counts or draws for them
        # (retiring or graduating them changes nothing: they are dropped).
        alive = ~dying
        talents.weight[dying] = 0
        demography.retire(talents, self.params)
        demography.settle_hukou(
            talents,
            self.layout.province,
            self._hukou_barrier(),
            self.params,
            self._keyed(Purpose.SETTLEMENT),
            alive,
        )
        self.settle_by_points(alive)
        graduates = demography.graduate(talents, self.params) & alive
        acc.graduates += talents.persons_by(talents.node, self.layout.size, graduates)  # by node of study
        rows = np.flatnonzero(graduates)
        of_local_origin = rows[talents.hukou[rows] == self.layout.province[talents.node[rows]]]
        acc.local_graduates += np.bincount(
            talents.node[of_local_origin], weights=talents.weight[of_local_origin], minlength=self.layout.size
        ).astype(np.int64)

        students_local = self.base.nodes["students_local_share"].to_numpy()
        students = demography.enrol(
            self.entrants(),
            self.base.nodes["short_cycle_share"].to_numpy(),
            self._pole_group_shares(),
            students_local,
            self.layout,
            self.scale,
            self._making(Source.ENTRANT),
        )
        enrolled = students.persons_by(students.node, self.layout.size)
        acc.enrolled += enrolled
        # entrants of local origin who lived at the node already (ASSUMPTIONS E3)
        self._take_from_residents(enrolled * students_local * self.params["resident_entrant_share"])
        adults = self.grant_adult_degrees()
        added = [students, adults]  # appended to the rows at once, after the lever entrants
        for new in added:
            acc.entries += new.persons_by(new.node, self.layout.size)

        trained = self.levers["high_skill_alliance"]
        if trained.is_on:
            trainees = programmes.trainees(
                trained.by_node(), self.layout.province, self.scale, self._making(Source.TRAINEE)
            )
            acc.spend("high_skill_alliance", trained.by_node() * LEVERS["high_skill_alliance"].unit_cost_cny)
            added.append(trainees)

        recruited = self.levers["overseas_recruitment"]
        if recruited.is_on:
            # they go where the talents are, the year's entrants counted (whole persons: exact)
            persons = talents.persons_by(talents.node, self.layout.size, alive) + sum(
                new.persons_by(new.node, self.layout.size) for new in added
            )
            added.append(self._recruit_overseas(recruited.value, recruited.nodes, persons))

        talents.extend(*added)
        entering = sum(len(new) for new in added)
        graduates = np.concatenate([graduates, np.zeros(entering, bool)])
        alive = np.concatenate([alive, np.ones(entering, bool)])
        region_shares = self._persons_by_group() / max(talents.persons, 1)
        newcomers = demography.arrivals(
            self._arrivals_from_china(),
            self.params["foreign_inflow"],
            self.params["high_end_inflow"],
            region_shares,
            self.scale,
            self._making(Source.ARRIVAL),
        )
        return graduates, newcomers, alive

    def _arrivals_from_china(self) -> float:
        """Talents arriving from the rest of China this year (persons), in proportion to China's
        university graduates (D1): A_t = inflow_rate * G_t, with G_t on the path through the
        graduates published up to 2015 (``BaseYear.china_graduates_in``). Not in proportion to
        the region's own stock, which would compound: more talents, more arrivals."""
        return self.params["inflow_rate"] * self.base.china_graduates_in(self.year)

    def entrants(self) -> np.ndarray:
        """This year's university entrants by node (persons), plus the ``university_places`` lever's.

        Entrants follow a path through the observed 2015 intake that depends on the calendar
        year only (``demography.intake``, ASSUMPTIONS A9):
        E_t = E_2015 * (1 + entrants_growth) ** (t - 2015).
        """
        return (
            demography.intake(self.base.nodes["university_entrants"].to_numpy(), self.year, self.params)
            + self.levers["university_places"].by_node()
        )

    def grant_adult_degrees(self) -> Talents:
        """Phase 4 (cont.): non-talent residents who gain a first degree this year become talents
        of their node (adult higher education, online, self-study; ASSUMPTIONS.md E1, E2)."""
        rate = self.params["adult_first_degree_share"] * self.base.degree_rate(self.year)
        adults = demography.adult_degrees(
            self._by_city("nontalent"),
            rate * self._adult_degree_factor(),
            self._pole_group_shares(),
            self.base.nodes["local_hukou_share"].to_numpy(),
            self.layout,
            self.scale,
            self._making(Source.ADULT_DEGREE),
        )
        self._take_from_residents(adults.persons_by(adults.node, self.layout.size))
        self._keep_their_jobs(adults)
        return adults

    def _adult_degree_factor(self) -> np.ndarray:
        """Each node's adult-degree rate as a multiple of China's: ``adult_degree_factor_beijing``
        in Beijing's nodes, 1 elsewhere (E1)."""
        in_beijing = self.layout.province == PROVINCES.index("beijing")
        return np.where(in_beijing, self.params["adult_degree_factor_beijing"], 1.0)

    def _keep_their_jobs(self, adults: Talents) -> None:
        """Adults who gain a degree keep working (E2): each row is employed by a firm of its node,
        drawn by the node's sector mix for its group, whose demand grows by the job it held."""
        firm = self._draw_firms(adults.node, adults.group, self._keyed(Purpose.ADULT_EMPLOYER).of(adults.id))
        adults.status[:] = Status.EMPLOYED
        adults.firm[:] = firm
        jobs = np.zeros((len(self.firms), len(GROUPS)))
        np.add.at(jobs, (firm, adults.group), adults.weight)
        for f, g in zip(*np.nonzero(jobs)):
            self.firms[f].add_demand(float(jobs[f, g]), group=int(g))

    def _take_from_residents(self, persons: np.ndarray) -> None:
        """Non-talent residents by node who become talents where they live."""
        for city in self.cities:
            city.become_talents(float(persons[city.node]))

    def _recruit_overseas(self, persons: float, nodes: np.ndarray, talents_by_node: np.ndarray) -> Talents:
        """High-end recruits from abroad (plan 三(二), 四(一)) arrive with a post at their node's
        frontier-technology firm; ``talents_by_node`` (persons) spreads them."""
        n = self.layout.size
        recruits = programmes.overseas_recruits(persons, nodes, talents_by_node, self._making(Source.RECRUIT))
        firm = np.array([self._firm_index(node, SECTORS.index("frontier_tech")) for node in recruits.node])
        for f, group in zip(firm, recruits.group):
            self.firms[f].add_demand(1.0, group=int(group))
        recruits.status[:] = Status.EMPLOYED
        recruits.firm[:] = firm
        self.accounts.move(
            np.full(len(recruits), n), recruits.node.astype(np.int64), recruits.group, recruits.weight
        )
        self.accounts.spend(
            "overseas_recruitment",
            recruits.persons_by(recruits.node, n) * LEVERS["overseas_recruitment"].unit_cost_cny,
        )
        return recruits

    def choose_locations(self, graduates: np.ndarray, newcomers: Talents, alive: np.ndarray) -> np.ndarray:
        """Phase 5: who considers moving, where they go, and where newcomers settle; then the
        year's dead (rows where ``alive`` is False) and those who left the region are dropped
        and the newcomers appended, in one pass over the columns.

        Returns, aligned with the talent rows after the moves, the node where each of this
        year's graduates studied (-1 for everyone else), which the graduate subsidy reads.
        """
        talents, n = self.talents, self.layout.size
        studied_at = np.where(graduates, talents.node, np.int8(-1))  # int8 like node: no wider copy
        considering, choosers = self._consider_moving(graduates, alive)
        rows = np.flatnonzero(considering)
        del considering
        cells = self._cells(talents, rows, graduates[rows])
        newcomers.node[:] = n  # outside, until they choose
        arriving_cells = self._cells(newcomers, None, np.zeros(len(newcomers), bool))
        persons = choosers + np.bincount(arriving_cells, weights=newcomers.weight, minlength=self.grid.size)

        # Utility only of the cells anyone chooses from (a few thousand of the grid's cells);
        # every row of a cell is computed as it would be in the whole grid.
        used = np.flatnonzero(persons)
        position = np.full(self.grid.size, -1, np.int64)
        position[used] = np.arange(len(used))
        self._staff_in_conditions = None
        cond, terms, total_utility = self._utility_now(used)
        staff = self._staff_in_conditions  # of the rows as they are now, before anyone moves
        probabilities = self._refuse_at_ceiling(logit_probabilities(total_utility), used, persons)
        chooses = self._keyed(Purpose.DESTINATION)
        destination = draw_choices(probabilities, position[cells], chooses.of(talents.id[rows]))
        considered, left = rows[destination < n], rows[destination == n]  # homes chosen below
        home_before = np.concatenate([talents.home[considered], talents.home[left]])
        moving = destination != talents.node[rows]
        rows, destination = rows[moving], destination[moving]

        staying_in_region = destination < n
        movers = rows[staying_in_region]
        talents.node[movers] = destination[staying_in_region]
        talents.home[movers] = destination[staying_in_region]
        talents.years_at_node[movers] = 0
        talents.in_talent_housing[movers] = False
        quitting = movers[talents.status[movers] == Status.EMPLOYED]
        # staff after the moves, for match_jobs: less those who quit or leave the region (sums of
        # whole persons, so the same numbers as a recount over all rows after the moves)
        if staff is not None:  # else match_jobs counts them
            lost = np.concatenate([quitting, rows[~staying_in_region]])
            self._staff_after_moves = staff - kernels.staff(
                talents.firm[lost], talents.group[lost], talents.weight[lost], len(self.firms), len(GROUPS)
            )
        talents.status[quitting] = Status.UNEMPLOYED
        talents.firm[quitting] = -1

        newcomers.node[:] = draw_choices(probabilities, position[arriving_cells], chooses.of(newcomers.id))
        homes = home_probabilities(home_utility(cond, self.layout.distance_km, self.params), self.params)
        self._choose_homes(talents, considered, homes)
        self._choose_homes(newcomers, np.arange(len(newcomers)), homes)
        # moves are changes of home (flows, inflow and outflow count migration, as a census does)
        home_after = np.concatenate([talents.home[considered], np.full(len(left), n)])
        chose = np.concatenate([considered, left])
        moved = home_after != home_before
        self.accounts.move(
            home_before[moved],
            home_after[moved],
            talents.group[chose[moved]],
            self._talent_weight(chose[moved]),
        )
        self.accounts.move(
            np.full(len(newcomers), n), newcomers.home.astype(np.int64), newcomers.group, newcomers.weight
        )

        settling = self.levers["settlement_subsidy"]
        if settling.is_on:
            paid = movers[settling.nodes[talents.node[movers]] & settling.groups[talents.group[movers]]]
            arrived = settling.nodes[newcomers.node] & settling.groups[newcomers.group]
            persons_paid = np.bincount(talents.node[paid], talents.weight[paid], n) + newcomers.persons_by(
                newcomers.node.astype(np.int64), n, arrived
            )
            self.accounts.spend("settlement_subsidy", settling.value * persons_paid)

        for term, effect in term_effects(
            terms,
            self.base_terms,
            self.constants,
            self.outside,
            self.grid,
            persons,
            self.layout.province,
            terms_of_cells_with_persons=True,
        ).items():
            self.drivers[term] += effect

        staying = alive
        staying[rows[~staying_in_region]] = False
        kept = int(np.count_nonzero(staying))
        studied_at_after = np.empty(kept + len(newcomers), np.int8)
        kernels.compact_into(studied_at, staying, studied_at_after)
        studied_at_after[kept:] = -1  # newcomers studied nowhere here
        talents.keep(staying, newcomers)
        return studied_at_after

    def _choose_homes(self, talents: Talents, rows: np.ndarray, homes: np.ndarray) -> None:
        """Those of ``rows`` in work draw where they live given their node, P(h | g, j) =
        ``homes[g, j, h]`` (nested home choice, model/choice.py); the others live there."""
        n, status = self.layout.size, talents.status[rows]
        working = rows[(status == Status.EMPLOYED) | (status == Status.UNEMPLOYED)]  # in work
        talents.home[rows] = talents.node[rows]
        cell = talents.group[working].astype(np.int64) * n + talents.node[working]
        u = self._keyed(Purpose.HOME).of(talents.id[working])
        talents.home[working] = draw_choices(homes.reshape(-1, n), cell, u)
        talents.in_talent_housing[working] &= talents.home[working] == talents.node[working]

    def count_graduates_placed(self, studied_at: np.ndarray) -> None:
        """Phase 6 (cont.): where this year's graduates are at the year's end, by the node where
        they studied: those who left the region (graduated there, no longer a row), those employed
        anywhere in it and those employed at a node of the province they studied in; all of them,
        and those with that province's hukou (of local origin) apart. The share who stay, employed
        in the province / (employed + left), is what the universities' employment reports publish,
        by origin (ASSUMPTIONS D7)."""
        talents, n, acc = self.talents, self.layout.size, self.accounts
        rows = np.flatnonzero(studied_at >= 0)  # the year's graduates: a small part of the rows
        node = studied_at[rows].astype(np.int64)
        persons = talents.weight[rows].astype(np.int64)
        employed = talents.status[rows] == Status.EMPLOYED
        at_home = self.layout.province[talents.node[rows]] == self.layout.province[node]

        def by_node(chosen: np.ndarray) -> np.ndarray:
            return np.bincount(node[chosen], weights=persons[chosen], minlength=n).round().astype(np.int64)

        acc.graduates_left = acc.graduates - by_node(np.ones(len(rows), bool))
        acc.graduates_employed = by_node(employed)
        acc.graduates_employed_in_province = by_node(employed & at_home)
        local = talents.hukou[rows] == self.layout.province[node]
        acc.local_graduates_left = acc.local_graduates - by_node(local)
        acc.local_graduates_employed = by_node(employed & local)
        acc.local_graduates_employed_in_province = by_node(employed & at_home & local)

    def settle_graduates_at_hiring(self, studied_at: np.ndarray) -> None:
        """Phase 6 (cont.): graduate_hukou_quota, after the graduates are counted by origin
        (model/demography.py ``settle_graduates_at_hiring``); no draws while the lever is off."""
        quota = self.levers["graduate_hukou_quota"]
        if quota.value > 0 and quota.nodes.any():
            t = self.talents
            _, settled = demography.settle_graduates_at_hiring(
                t,
                self.layout.province,
                quota.value,
                quota.nodes,
                studied_at,
                self._keyed(Purpose.GRADUATE_HUKOU),
            )
            self.accounts.graduates_settled = np.bincount(
                t.node[settled], weights=t.weight[settled], minlength=self.layout.size
            ).astype(np.int64)

    def match_jobs(self, studied_at: np.ndarray) -> None:
        """Phase 6: job seekers meet vacancies in their node; graduates who qualify for a
        subsidy where they are hired (they studied in its ``graduated_in`` nodes) receive it.

        Args:
            studied_at: per row, the node where this year's graduate studied, -1 for others.
        """
        talents, n = self.talents, self.layout.size
        staff = self.staff_by_firm() if self._staff_after_moves is None else self._staff_after_moves
        self._staff_after_moves = None
        vacancies = np.array([firm.vacancies(staff[firm.index]) for firm in self.firms])  # (firms, groups)
        firm_node = np.array([firm.node for firm in self.firms])
        seeking = np.flatnonzero(talents.status == Status.UNEMPLOYED)
        cell = talents.node[seeking].astype(np.int64) * len(GROUPS) + talents.group[seeking]
        open_posts = np.zeros((n, len(GROUPS)))
        np.add.at(open_posts, firm_node, vacancies)
        seekers = np.bincount(cell, weights=talents.weight[seeking], minlength=open_posts.size)
        efficiency = np.minimum(
            self.params["matching_efficiency"] + self.levers["matching_efficiency"].by_node(), 1.0
        )
        matches = np.repeat(efficiency, len(GROUPS)) * np.minimum(seekers, open_posts.ravel())
        hires = programmes.take_in_order(
            seeking,
            cell,
            talents.weight[seeking],
            matches,
            self._keyed(Purpose.HIRING_ORDER).of(talents.id[seeking]),
        )
        hire_cells = talents.node[hires].astype(np.int64) * len(GROUPS) + talents.group[hires]

        firm_of_hire = np.empty(len(hires), np.int64)
        u = self._keyed(Purpose.EMPLOYER).of(talents.id[hires])
        # the hires of each cell, one cell after another in cell order; each takes the firm of
        # its node at its draw in the running shares of the firms' vacancies for its group
        by_cell = np.argsort(hire_cells, kind="stable")
        sorted_cells = hire_cells[by_cell]
        starts = np.flatnonzero(np.diff(sorted_cells, prepend=-1))
        for start, end in zip(starts, np.append(starts[1:], len(hires))):
            node, group = divmod(int(sorted_cells[start]), len(GROUPS))
            candidates = np.flatnonzero(firm_node == node)
            weights = vacancies[candidates, group]
            rows = by_cell[start:end]
            firm_of_hire[rows] = demography.choice(candidates, weights, u[rows])
        talents.status[hires] = Status.EMPLOYED
        talents.firm[hires] = firm_of_hire
        # staff at the year's end (collect): now plus the hires; sums of whole persons, so the
        # same numbers as a recount over all rows
        self._staff_after_hiring = staff + kernels.staff(
            firm_of_hire, talents.group[hires], talents.weight[hires], len(self.firms), len(GROUPS)
        )

        subsidy = self.levers["graduate_subsidy"]
        if subsidy.is_on:
            paid = hires[studied_at[hires] >= 0]
            paid = paid[
                subsidy.nodes[talents.node[paid]]
                & subsidy.groups[talents.group[paid]]
                & subsidy.graduated_in[studied_at[paid]]
            ]
            self.accounts.spend(
                "graduate_subsidy",
                subsidy.value * np.bincount(talents.node[paid], weights=talents.weight[paid], minlength=n),
            )

    def house_talents(self) -> None:
        """Phase 6 (cont.): free talent-housing units go to eligible newcomers (plan 四(十三))."""
        units = self._by_city("talent_units")
        if units.any():
            self.housing_availability = programmes.allot_talent_housing(
                self.talents, units, self.levers["talent_housing"].groups, self._keyed(Purpose.TALENT_HOUSING)
            )

    def serve_flexibly(self, residents: np.ndarray) -> None:
        """Phase 7: teams, part-time and multi-site talents counted as full-time equivalents
        where they serve (plan 三(一)); they keep living where they live.

        What they serve raises the node's services index, as next year's choices see it::

            services_served[j] = fte_services_gain * fte_served[j] / (residents[j] / 1,000)

        Args:
            residents: persons of the talent rows by the node where they live.
        """
        t, n = self.talents, self.layout.size
        population = residents + self._by_city("nontalent")
        served = np.zeros(n)
        for name in programmes.FTE_PROGRAMMES:
            state = self.levers[name]
            if state.is_on:
                fte = programmes.spread_by_population(state.value, state.nodes, population)
                served += fte
                self.accounts.spend(name, fte * LEVERS[name].unit_cost_cny)
        flexible = self.levers["flexible_service"]
        if flexible.is_on:
            from_capitals = t.persons_by(
                t.group.astype(np.int64),
                len(GROUPS),
                (t.status == Status.EMPLOYED) & (self.layout.province[t.node] < 2),
            )
            part_timers = flexible.value * (from_capitals * flexible.groups).sum()
            share = programmes.spread_by_population(1.0, flexible.nodes, population)
            served += part_timers * self.params["part_time_fte"] * share
            self.accounts.spend(
                "flexible_service", part_timers * share * LEVERS["flexible_service"].unit_cost_cny
            )
        self.fte_served = served
        self.services_served = (
            self.params["fte_services_gain"] * served / np.maximum(population / 1000.0, 1.0)
        )

    # --- what nodes offer -------------------------------------------------------------------

    def conditions(self) -> Conditions:
        """Wages, job chances, prices, services and group mix per node, and lever money."""
        n, n_groups, t = self.layout.size, len(GROUPS), self.talents
        counts = kernels.in_parts(
            lambda p: kernels.staff_and_persons(
                t.firm[p], t.group[p], t.node[p], t.status[p], t.weight[p],
                len(self.firms), n_groups, n, int(Status.UNEMPLOYED),
            ),
            len(t),
        )  # staff by firm, persons and job seekers by (group, node): one pass, in parts  # fmt: skip
        staff, by_node_group, seekers = (count.astype(float) for count in counts)
        self._staff_in_conditions = staff  # choose_locations carries it on to match_jobs
        paid = np.zeros((n, n_groups))
        weight = np.zeros((n, n_groups))
        for firm in self.firms:
            # weighted by staff; by demand where nobody is employed; equally where neither
            basis = staff[firm.index] + 1e-9 * firm.demand + 1e-18
            paid[firm.node] += firm.wage * basis
            weight[firm.node] += basis
        wage = (paid / weight).T
        vacancies = np.zeros((n, n_groups))
        for firm in self.firms:
            vacancies[firm.node] += firm.vacancies(staff[firm.index])
        job_chance = np.clip(vacancies.T / np.maximum(seekers, 1.0), MIN_JOB_CHANCE, 1.0)
        group_share = by_node_group / np.maximum(by_node_group.sum(axis=0, keepdims=True), 1.0)
        region_share = by_node_group.sum(axis=1, keepdims=True) / max(by_node_group.sum(), 1.0)
        ratio = np.maximum(group_share / region_share, 1e-3)
        return Conditions(
            wage=wage,
            job_chance=job_chance,
            price=self._by_city("price_cny_m2"),
            services=self._by_city("services_index") + self.services_served,
            group_share_ratio=ratio,
            outside_wage=self._outside_wage(),
            levers=programmes.lever_terms(
                self.levers, self.params, self.housing_availability, self._by_city("services_index").max()
            ),
        )

    def _outside_wage(self) -> float:
        """The rest of China's wage this year, base year = 1 (D1): it drifts as the nodes' do, by
        its own trend times ``wage_trend_share``, (1 + china_wage_trend * share) ** (t - base)."""
        drift = self.base.china_wage_trend * self.params["wage_trend_share"]
        return (1.0 + drift) ** (self.year - self.base_year)

    # --- records ----------------------------------------------------------------------------

    def collect(self) -> None:
        """Phase 8: this year's stocks, node state, flows and spending."""
        t, n, year = self.talents, self.layout.size, self.year
        shape = (n, len(GROUPS), 2, 2, len(Status))
        persons, by_node, seekers = kernels.in_parts(
            lambda p: kernels.year_end(
                t.node[p], t.home[p], t.group[p], t.is_high_end[p], t.is_foreign[p], t.status[p],
                t.hukou[p], t.talent_card[p], t.in_talent_housing[p], t.keeps_beijing_services[p],
                t.has_degree[p], t.weight[p], self.layout.province, n, len(GROUPS), len(Status),
                int(Status.UNEMPLOYED),
            ),
            len(t),
        )  # fmt: skip
        self._seekers_at_year_end = seekers.astype(float)
        nonlocal_talents, holders, tenants, followers, trainees, commuters = by_node
        if year > self.base_year:
            self._count_ongoing_spending(holders, tenants, followers)
        ids = np.array(self.layout.ids + ["OUT"])
        present = np.flatnonzero(persons)
        node, group, high_end, foreign, status = np.unravel_index(present, shape)
        self._records["stocks"].append(
            {
                "year": year,
                "node": ids[node],
                "group": np.array(GROUPS)[group],
                "is_high_end": high_end.astype(bool),
                "is_foreign": foreign.astype(bool),
                "status": np.array([s.name.lower() for s in Status])[status],
                "persons": persons[present],
            }
        )

        staff = self.staff_by_firm() if self._staff_after_hiring is None else self._staff_after_hiring
        self._staff_after_hiring, self._staff_at_year_end = None, staff
        talents = persons.reshape(n, -1).sum(axis=1)
        self._residents_at_year_end = talents + trainees  # every row by home: _residents_by_node
        employed = staff.sum(axis=1)
        wage_bill = np.array([(firm.wage * staff[firm.index]).sum() for firm in self.firms])
        firm_node = np.array([firm.node for firm in self.firms])
        vacancies = np.array([firm.vacancies(staff[firm.index]).sum() for firm in self.firms])
        acc = self.accounts
        market_price = self._by_city("price_cny_m2")
        self._records["nodes"].append(
            {
                "year": year,
                "node": ids[:n],
                "population": np.round(talents + trainees + self._by_city("nontalent")).astype(np.int64),
                "talents": talents,
                "talent_jobs": np.bincount(firm_node, employed, n),
                "commuters": commuters,
                "price_cny_m2": market_price * (1.0 - self.price_wedge),
                "market_price_cny_m2": market_price,
                "wage_cny_year": self._node_wages(firm_node, wage_bill, employed),
                "services_index": self._by_city("services_index"),
                "vacancies": np.round(np.bincount(firm_node, vacancies, n)).astype(np.int64),
                "entries": acc.entries,
                "university_entrants": acc.enrolled,
                "exits": acc.exits,
                "inflow": acc.inflow,
                "refused": acc.refused,
                "outflow": acc.outflow,
                "graduates": acc.graduates,
                "graduates_left": acc.graduates_left,
                "graduates_employed": acc.graduates_employed,
                "graduates_employed_in_province": acc.graduates_employed_in_province,
                "local_graduates": acc.local_graduates,
                "local_graduates_left": acc.local_graduates_left,
                "local_graduates_employed": acc.local_graduates_employed,
                "local_graduates_employed_in_province": acc.local_graduates_employed_in_province,
                "graduates_settled": acc.graduates_settled,
                "nonlocal_talents": nonlocal_talents,
                "fte_served": self.fte_served,
                "services_served": self.services_served,
                "skilled_trainees": trainees,
                "talent_housing_units": self._by_city("talent_units"),
                "card_holders": holders,
            }
        )

        origin, destination, group = np.nonzero(acc.flows)
        self._records["flows"].append(
            {
                "year": year,
                "origin": ids[origin],
                "destination": ids[destination],
                "group": np.array(GROUPS)[group],
                "persons": acc.flows[origin, destination, group],
            }
        )
        for lever, by_node in acc.spending.items():
            spent = np.flatnonzero(by_node)
            self._records["spending"].append(
                {"year": year, "lever": lever, "node": ids[spent], "cny": by_node[spent]}
            )

    def _count_ongoing_spending(
        self, holders: np.ndarray, tenants: np.ndarray, followers: np.ndarray
    ) -> None:
        """Yearly costs of what earlier years granted: cards, talent flats, kept services.

        Args are persons by node holding a card, in talent housing, keeping Beijing's services.
        """
        if holders.any():
            self.accounts.spend("talent_card", holders * LEVERS["talent_card"].unit_cost_cny)
        if tenants.any():
            yearly_cost = (
                self._by_city("price_cny_m2") * self.params["floor_area_m2"] * self.params["user_cost_rate"]
            )
            self.accounts.spend(
                "talent_housing", tenants * self.params["talent_housing_discount"] * yearly_cost
            )
        if followers.any():
            services = self._by_city("services_index")
            gap = np.maximum(services.max() - services, 0.0)
            self.accounts.spend(
                "service_following", followers * gap * LEVERS["service_following"].unit_cost_cny
            )

    def tables(self) -> dict[str, pd.DataFrame]:
        """Everything recorded so far, one tidy table per kind."""
        empty = {
            "stocks": [],
            "nodes": [],
            "flows": ["year", "origin", "destination", "group", "persons"],
            "spending": ["year", "lever", "node", "cny"],
        }
        out = {
            name: (_table(records) if records else pd.DataFrame(columns=empty[name]))
            for name, records in self._records.items()
        }
        out["drivers"] = pd.DataFrame(
            [
                {"term": term, "province": PROVINCES[p], "persons": float(effect[p])}
                for term, effect in self.drivers.items()
                for p in range(len(PROVINCES))
            ]
        )
        return out

    # --- helpers ----------------------------------------------------------------------------

    def _node_wages(self, firm_node: np.ndarray, wage_bill: np.ndarray, employed: np.ndarray) -> np.ndarray:
        """Each node's mean talent wage, CNY a year: its firms' wage bill over their staff; where
        no talent is employed there, the wages its firms offer, weighted by their demand (by
        group alike where they demand nobody), so that a node's wage is never 0."""
        n = self.layout.size
        staff = np.bincount(firm_node, employed, n)
        basis = [firm.demand if firm.demand.sum() > 0 else np.ones(len(GROUPS)) for firm in self.firms]
        offered = np.bincount(firm_node, [firm.wage @ b for firm, b in zip(self.firms, basis)], n)
        offer = offered / np.bincount(firm_node, [b.sum() for b in basis], n)
        return np.where(staff > 0, np.bincount(firm_node, wage_bill, n) / np.maximum(staff, 1), offer)

    def staff_by_firm(self) -> np.ndarray:
        """Persons employed by each firm, by group, shape (firms, groups)."""
        t = self.talents
        return kernels.staff(t.firm, t.group, t.weight, len(self.firms), len(GROUPS)).astype(float)

    def _talent_weight(self, rows: np.ndarray) -> np.ndarray:
        """Persons of ``rows`` who are talents (trainees without a degree count zero), for flows."""
        return self.talents.weight[rows] * self.talents.has_degree[rows]

    def _residents_by_node(self) -> np.ndarray:
        """Persons of the talent rows by the node where they live."""
        return self.talents.persons_by(self.talents.home, self.layout.size)

    def _persons_by_group(self) -> np.ndarray:
        return self.talents.persons_by(self.talents.group, len(GROUPS))

    def _demand_share_in_node(self) -> np.ndarray:
        """Each firm's share of its node's labour demand, by group (firms, groups)."""
        demand = np.array([firm.demand for firm in self.firms])
        firm_node = np.array([firm.node for firm in self.firms])
        node_total = np.zeros((self.layout.size, len(GROUPS)))
        np.add.at(node_total, firm_node, demand)
        return demand / np.maximum(node_total[firm_node], 1e-9)

    def _pole_group_shares(self) -> np.ndarray:
        if self._pole_shares is None:  # of the base year: looked up once, not twice a year
            self._pole_shares = self.base.group_shares.loc[self.layout.nodes["pole"]].to_numpy()
        return self._pole_shares

    def _utility_now(
        self, cells: np.ndarray | None = None
    ) -> tuple[Conditions, dict[str, np.ndarray], np.ndarray]:
        """This year's conditions, and the utility terms and total utility they give, per choice
        cell and alternative. With ``cells``, of those cells only, in that order.
        """
        cond = self.conditions()
        terms = utility_terms(
            self.grid, cond, self.layout.distance_km, self.layout.province, self.params, cells
        )
        return cond, terms, utility(terms, self.constants, self.outside, self.grid, cells)

    def _by_city(self, attribute: str) -> np.ndarray:
        """One attribute of every city, in node order."""
        return np.array([getattr(city, attribute) for city in self.cities], dtype=float)

    def _hukou_barrier(self) -> np.ndarray:
        """Hukou barrier (utility) by (group, node), after this year's hukou_openness lever."""
        by_province = np.array([self.params[f"hukou_barrier_{p}"] for p in PROVINCES])
        return by_province[self.layout.province][None, :] * (
            1.0 - self.levers["hukou_openness"].by_group_node()
        )

    def _firm_index(self, node: int | np.integer, sector: int | np.integer) -> int:
        return int(node) * len(SECTORS) + int(sector)

    def _firm_nodes(self) -> np.ndarray:
        return np.array([firm.node for firm in self.firms])

    @staticmethod
    def _cell_columns(
        t: Talents,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The columns a row's choice cell is made of, in the kernels' order."""
        return (t.node, t.group, t.is_high_end, t.hukou, t.status, t.talent_card, t.keeps_beijing_services)

    def _cells(self, talents: Talents, rows: np.ndarray | None, is_graduate: np.ndarray) -> np.ndarray:
        """Choice cell (``CellGrid.index``) of ``rows`` (None: all rows), in one compiled pass."""
        columns, fixed = self._cell_columns(talents), (int(Status.RETIRED), len(GROUPS), HUKOU_ABROAD + 1)
        if rows is None:
            return kernels.cells_all(*columns, is_graduate, *fixed)
        return kernels.cells(*columns, is_graduate, np.asarray(rows, np.int64), *fixed)

    def _consider_moving(self, graduates: np.ndarray, alive: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Who considers moving this year, and the expected persons considering, per choice cell.

        Graduates all consider; others with chance ``moving_hazard``, by their keyed draw
        (``Purpose.CONSIDERS_MOVING``). Fused in one compiled pass; the dead are not chosen.
        """
        t = self.talents
        chosen = np.empty(len(t), bool)
        persons = np.zeros(self.grid.size)
        factors = hazard_factors(int(np.max(t.age, where=alive, initial=0)), self.params)
        kernels.consider(
            t.id,
            self._keyed(Purpose.CONSIDERS_MOVING).key,
            *self._cell_columns(t),
            t.age,
            t.years_at_node,
            t.weight,
            graduates,
            *factors,
            int(Status.RETIRED),
            len(GROUPS),
            HUKOU_ABROAD + 1,
            alive,
            chosen,
            persons,
        )
        return chosen, persons

    def _considering_persons(self, hazard: np.ndarray, graduates: np.ndarray | None = None) -> np.ndarray:
        """Expected persons considering a move, per choice cell."""
        t = self.talents
        is_graduate = np.zeros(len(t), bool) if graduates is None else graduates
        cells = self._cells(t, None, is_graduate)
        return kernels.considering(cells, t.weight, hazard, is_graduate, np.ones(len(t)), self.grid.size)[1]

    def _wage_trends_now(self) -> np.ndarray:
        """Each node's wage trend this year (A6): its published growth over its whole series up
        to 2015 in the back-cast's years, which carries the 2010 wages to the 2015 ones; over
        2012-2015, the years every series covers, after them."""
        column = "wage_trend" if self.year <= RECENT_WAGE_YEARS[1] else "wage_trend_recent"
        return self.base.nodes[column].to_numpy()

    def _leaning_constants(self) -> np.ndarray:
        """This year's node constants, the still ones plus a fading lean (A16).

        The lean towards the nodes that grew in 2010-2015 fades as their growth did:

            c_t = c_still + f_t (c_lean - c_still),   f_t = inputs.trend_fade(s, t)

        f_t averages 1 over 2011-2015, the years whose growth the lean carries."""
        fade = np.array([trend_fade(s, self.year) for s in self.base.nodes["growth_slowdown"]])
        return self._still + fade[None, :] * self._lean

    def _balance_base_year(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Node constants under which the base year's expected moves balance (still), the lean
        that tilts them towards the nodes that grew faster in 2010-2015 (see choice.py,
        ``balance_targets``), and the outside utilities of the tilted balance."""
        t = self.talents
        hazard = moving_hazard(t.age, t.status, t.years_at_node, self.params)
        persons = self._considering_persons(hazard)
        expected = demography.arrivals(
            self._arrivals_from_china(),
            self.params["foreign_inflow"],
            self.params["high_end_inflow"],
            self._persons_by_group() / t.persons,
            1,
            self._making(Source.ARRIVAL),  # the base year's: not rows of the run, none arrive in it
        )
        expected.node[:] = self.layout.size  # outside the region
        cells = self._cells(expected, np.arange(len(expected)), np.zeros(len(expected), bool))
        persons += np.bincount(cells, weights=expected.weight, minlength=self.grid.size)
        # the trend before the base year: tilt = exp(constant_trend_weight x population growth)
        tilt = np.exp(self.params["constant_trend_weight"] * self.base.nodes["population_growth"].to_numpy())
        shares, outside_share = self._arrival_shares(), self.params["outside_choice_share"]
        still, _ = solve_constants(
            self.base_terms, persons, self.grid, *balance_targets(persons, self.grid, outside_share, shares)
        )
        leaning, outside = solve_constants(
            self.base_terms,
            persons,
            self.grid,
            *balance_targets(persons, self.grid, outside_share, shares, tilt),
        )
        return still, leaning - still, outside

    def _place_base_year_jobs(self) -> None:
        """Base year: the census counts talents where they live; some already work elsewhere.

        Each talent in work keeps its home h and draws its job node j by the home choice turned
        round (Bayes; ASSUMPTIONS C1):

            P(j | g, h) = P(h | g, j) E[g, j] / sum_j' P(h | g, j') E[g, j'],

        P(h | g, j) the nested home choice (model/choice.py, ``jobs_given_homes``) and E[g, j] the
        talents of group g in work who live at j. Residents by node stay the census's.
        Those whose job moved are hired by a firm of their job node, and each firm's demand is
        its staff plus frictional vacancies, as when it was created."""
        t, n, n_groups = self.talents, self.layout.size, len(GROUPS)
        homes = home_probabilities(
            home_utility(self.conditions(), self.layout.distance_km, self.params), self.params
        )
        working = np.flatnonzero((t.status == Status.EMPLOYED) | (t.status == Status.UNEMPLOYED))
        key = t.group[working].astype(np.int64) * n + t.home[working]
        in_work = np.bincount(key, weights=t.weight[working], minlength=n_groups * n).reshape(n_groups, n)
        # E[g, j]: before anyone commutes, the talents in work who live at j stand for its jobs
        jobs = jobs_given_homes(homes, in_work).reshape(-1, n)
        t.node[working] = draw_choices(jobs, key, self._keyed(Purpose.BASE_YEAR_JOB).of(t.id[working]))
        hired = working[(t.node[working] != t.home[working]) & (t.status[working] == Status.EMPLOYED)]
        u = self._keyed(Purpose.BASE_YEAR_EMPLOYER).of(t.id[hired])
        t.firm[hired] = self._draw_firms(t.node[hired], t.group[hired], u)
        staff = self.staff_by_firm()
        for firm in self.firms:
            firm.demand = staff[firm.index] * (1.0 + self.params["vacancy_rate"])

    def _arrival_shares(self) -> np.ndarray:
        """Where talents registered outside the region live, per kind (kinds, nodes), rows
        summing to 1: newcomers in the base year settle like those before them. A kind with no
        such talents follows all talents of its kind. Students are left out: they came to study,
        where arrivals come to work."""
        t = self.talents
        not_studying = np.where(t.status == Status.STUDENT, 0, t.weight)
        migrants, everyone = (
            persons.astype(float)
            for persons in kernels.kind_node_persons(
                t.group,
                t.is_high_end,
                t.node,
                t.hukou,
                not_studying,
                self.grid.n_kinds,
                self.layout.size,
                HUKOU_ELSEWHERE,
            )
        )
        chosen = np.where(migrants.sum(axis=1, keepdims=True) > 0, migrants, everyone)
        return chosen / np.maximum(chosen.sum(axis=1, keepdims=True), 1.0)

    def _create_cities(self) -> list[City]:
        nodes = self.base.nodes
        nontalent = nodes["population"].to_numpy() - self._residents_by_node()
        beijing = PROVINCES.index("beijing")
        return [
            City(
                self,
                node=i,
                price_cny_m2=nodes["price_cny_m2"].iloc[i] / (1.0 - self.price_wedge[i]),
                residents=nodes["population"].iloc[i],
                services_index=nodes["services_index"].iloc[i],
                nontalent=nontalent[i],
                nontalent_trend=nodes["nontalent_growth"].iloc[i],
                population_trend=nodes["population_growth"].iloc[i],
                slowdown=nodes["growth_slowdown"].iloc[i],
                to_talents=share,
                supply_share=self.params["beijing_supply_share"]
                if self.layout.province[i] == beijing
                else 1.0,
            )
            for i, share in enumerate(self._to_talents_share(nontalent))
        ]

    def _to_talents_share(self, nontalent: np.ndarray) -> np.ndarray:
        """The yearly share of non-talent residents who become talents where they live (E3):
        the observed 2010-2015 trend is net of them and the model takes them off explicitly each
        year, so the cities add it back to the trend (else they would count them twice)."""
        degrees = np.mean([self.base.degree_rate(year) for year in TREND_YEARS])
        p = self.params
        intake_2015 = self.base.nodes["university_entrants"].to_numpy()
        entrants = np.mean([demography.intake(intake_2015, year, p) for year in TREND_YEARS], axis=0)
        residents = np.maximum(nontalent, 1.0)
        first_degrees = p["adult_first_degree_share"] * degrees * self._adult_degree_factor()
        local = self.base.nodes["students_local_share"].to_numpy()
        return first_degrees + p["resident_entrant_share"] * local * entrants / residents

    def _draw_firms(self, node: np.ndarray, group: np.ndarray, u: np.ndarray) -> np.ndarray:
        """An employer for each row: the firm of its node in a sector drawn by the node's sector
        mix for its group, by the row's uniform draw ``u``."""
        return kernels.draw_firms(node, group, self._sector_cumulative(), u)

    def _sector_cumulative(self) -> np.ndarray:
        """The running sums of the sector chances by (node, group): those of a row's weights in
        ``_draw_firms``, taken once per pair ((nodes, groups, sectors), C order: the layout
        ``kernels.warm_up`` loads)."""
        return np.ascontiguousarray(np.cumsum(sector_weights(self.layout), axis=2))

    def _create_firms(self, rng: np.random.Generator) -> list[Firm]:
        """One firm per node and sector; employed talents are spread over them by the sector mix."""
        t = self.talents
        n_firms = self.layout.size * len(SECTORS)
        # ``_draw_firms`` for the employed rows (one draw each of the base year's generator
        # ``rng``, in row order) and their persons by (firm, group) in one compiled pass
        persons = np.zeros((n_firms, len(GROUPS)), np.int64)
        kernels.draw_staff(
            t.status,
            t.node,
            t.group,
            t.weight,
            self._sector_cumulative(),
            rng.random(int(np.count_nonzero(t.status == Status.EMPLOYED))),
            int(Status.EMPLOYED),
            t.firm,
            persons,
        )
        staff = persons.astype(float)  # whole persons: the floats a sum of the weights gives
        nodes = self.base.nodes
        wage = talent_wages(
            nodes["wage_cny_year"].to_numpy(),
            nodes["tertiary"].to_numpy() / nodes["population"].to_numpy(),
            self.params["tertiary_wage_premium"],
        )
        return [
            Firm(
                self,
                index=f,
                node=f // len(SECTORS),
                sector=f % len(SECTORS),
                staff=staff[f],
                wage=wage[f // len(SECTORS)],
                vacancy_rate=self.params["vacancy_rate"],
            )
            for f in range(n_firms)
        ]


def _table(records: list[dict[str, Any]]) -> pd.DataFrame:
    """One table from each year's columns, a year's scalars (year, lever) repeated over its rows:
    the same table as the years' DataFrames concatenated."""
    lengths = [len(next(v for v in record.values() if isinstance(v, np.ndarray))) for record in records]
    return pd.DataFrame(
        {
            column: np.concatenate(
                [
                    value if isinstance(value, np.ndarray) else np.full(length, value)
                    for value, length in zip((record[column] for record in records), lengths)
                ]
            )
            for column in records[0]
        }
    )


# --- one whole run ------------------------------------------------------------------------------

Progress = Callable[[int, int, TalentModel], None]
"""Called after each simulated year with (year, end year, model)."""


class Simulated(NamedTuple):
    """A finished run: its tables (indicators included), the model and the wall time in seconds."""

    tables: dict[str, pd.DataFrame]
    model: TalentModel
    wall_seconds: float


def simulate(scenario: Scenario, seed: int | None = None, progress: Progress | None = None) -> Simulated:
    """Run the model to the scenario's end year.

    Raises:
        RunError: a bug or a numerical failure, naming the scenario, seed and year (the cause kept).
    """
    started = time.perf_counter()
    model = TalentModel(scenario, seed=seed)
    try:
        while model.running:
            model.step()
            if progress:
                progress(model.year, scenario.end_year, model)
    except JJJError:
        raise
    except Exception as err:  # a bug or a numerical failure: say which run, keep the cause
        raise RunError(f"run failed in {model.year}: {err!r}", scenario.name, model.seed) from err
    tables = model.tables()
    tables["indicators"] = indicators(tables["stocks"], tables["nodes"], model.layout, tables["flows"])
    return Simulated(tables, model, time.perf_counter() - started)
