"""The model: one Mesa ``Model`` whose step is a year of design.md.

Cities and firms are Mesa agents; talents are weighted array rows (``model.talents``). The
model takes a validated scenario and a seed, uses one generator (``self.rng``), and keeps its
results as tables in memory (``tables()``); it writes no files.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import mesa
import numpy as np
import pandas as pd

from model import demography
from model.choice import (TERMS, CellGrid, Conditions, balance_targets, draw_choices,
                          logit_probabilities, moving_hazard, solve_constants, term_effects,
                          utility, utility_terms)
from model.cities import City
from model.firms import SECTORS, WAGE_PREMIUM, Firm, sector_weights
from model.inputs import base_year
from model.layout import PROVINCES, Layout, default_layout
from model.levers import LeverState, resolve_year
from model.parameters import resolve_parameters
from model.scenario import Scenario
from model.talents import GROUPS, HUKOU_ELSEWHERE, Status, Talents

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
    flows: np.ndarray = field(init=False)
    spending: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = self.n_nodes
        self.entries, self.exits, self.inflow, self.outflow = (np.zeros(n, np.int64) for _ in range(4))
        self.flows = np.zeros((n + 1, n + 1, len(GROUPS)), np.int64)

    def move(self, origin: np.ndarray, destination: np.ndarray, group: np.ndarray,
             weight: np.ndarray) -> None:
        """Record moves; index ``n_nodes`` on either side is outside the region."""
        n = self.n_nodes
        np.add.at(self.flows, (origin, destination, group), weight)
        self.outflow += np.bincount(origin, weights=weight, minlength=n + 1)[:n].astype(np.int64)
        self.inflow += np.bincount(destination, weights=weight, minlength=n + 1)[:n].astype(np.int64)


class TalentModel(mesa.Model):
    """Talent flows across Jing-Jin-Ji, one step a year from the scenario's start year.

    Args:
        scenario: a validated scenario (``model.scenario.load_scenario``).
        seed: overrides the scenario's seed.
        layout: the nodes; the plan's 17 by default.
    """

    def __init__(self, scenario: Scenario, seed: int | None = None,
                 layout: Layout | None = None) -> None:
        self.seed = scenario.seed if seed is None else seed
        super().__init__(rng=self.seed)
        self.scenario = scenario
        self.layout = layout or default_layout()
        self.params = resolve_parameters(scenario.parameter_overrides())
        self.schedules = scenario.lever_schedules(self.layout)
        self.scale = scenario.scale
        self.base_year = self.year = scenario.start_year
        self.end_year = scenario.end_year
        self.base = base_year(self.base_year)
        self.grid = CellGrid(self.layout.size)
        self.notes: list[str] = []
        self.levers, _ = resolve_year(self.schedules, self.layout, self.year)

        self.talents = demography.initial_talents(self.base, self.layout, self.scale, self.params, self.rng)
        self.cities = self._create_cities()
        self.firms = self._create_firms()
        self.accounts = YearAccounts(self.layout.size)
        self.drivers = {term: np.zeros(len(PROVINCES)) for term in TERMS}
        self._records: dict[str, list[pd.DataFrame]] = {k: [] for k in ("stocks", "nodes", "flows", "spending")}

        self.base_terms = utility_terms(self.grid, self.conditions(), self.layout.distance_km,
                                        self.layout.province, self.params)
        self.constants, self.outside = self._balance_base_year()
        self.collect()

    # --- the year ---------------------------------------------------------------------------

    def step(self) -> None:
        """One year, phase by phase (design.md)."""
        self.year += 1
        self.accounts = YearAccounts(self.layout.size)
        self.resolve_levers()
        self.plan_firms()
        self.update_cities()
        graduates, newcomers = self.age_and_renew()
        graduates = self.choose_locations(graduates, newcomers)
        self.match_jobs(graduates)
        self.collect()
        self.running = self.year < self.end_year

    def resolve_levers(self) -> None:
        """Phase 1: this year's lever values from the scenario's dated values."""
        self.levers, notes = resolve_year(self.schedules, self.layout, self.year)
        self.notes.extend(notes)

    def plan_firms(self) -> None:
        """Phase 2: labour demand and wages of every firm."""
        staff = self.staff_by_firm()
        seekers = self._persons_by_node_group(self.talents.status == Status.UNEMPLOYED)
        demand_share = self._demand_share_in_node()
        for firm in self.firms:
            growth = self.params[f"growth_{SECTORS[firm.sector]}"]
            firm.plan(staff[firm.index], seekers[:, firm.node] * demand_share[firm.index], growth, self.params)

    def update_cities(self) -> None:
        """Phase 3: non-talent residents, housing prices and public services."""
        talents = self._persons_by_node()
        leader = max(city.services_index for city in self.cities)
        for city in self.cities:
            city.grow_nontalent(self.year - self.base_year - 1, self.params)
            city.update_housing(talents[city.node] + city.nontalent, self.params)
            city.converge_services(leader, self.params["services_convergence"])

    def age_and_renew(self) -> tuple[np.ndarray, Talents]:
        """Phase 4: ageing, deaths, retirement, graduation, enrolment and arrivals.

        Returns the mask of this year's graduates (over talent rows) and the arrivals from
        outside the region, who choose their node in phase 5.
        """
        talents, acc = self.talents, self.accounts
        demography.age_one_year(talents)
        dying = demography.deaths(talents, self.params, self.rng)
        acc.exits += talents.persons_by(talents.node, self.layout.size, dying)
        talents.keep(~dying)
        demography.retire(talents, self.params)
        graduates = demography.graduate(talents, self.params)

        years = self.year - self.base_year
        entrants = self.base.nodes["university_entrants"].to_numpy() * (1 + self.params["entrants_growth"]) ** years
        students = demography.enrol(entrants, self._pole_group_shares(),
                                    self.base.nodes["local_hukou_share"].to_numpy(), self.layout,
                                    self.scale, self.rng)
        acc.entries += students.persons_by(students.node, self.layout.size)
        talents.extend(students)
        graduates = np.concatenate([graduates, np.zeros(len(students), bool)])

        region_shares = self._persons_by_group() / max(talents.persons, 1)
        newcomers = demography.arrivals(
            self.params["inflow_rate"] * talents.persons, self.params["foreign_inflow"],
            self.params["high_end_inflow"], region_shares, self.scale, self.rng)
        return graduates, newcomers

    def choose_locations(self, graduates: np.ndarray, newcomers: Talents) -> np.ndarray:
        """Phase 5: who considers moving, where they go, and where newcomers settle.

        Returns the graduates mask aligned with the talent rows after the moves.
        """
        talents, n = self.talents, self.layout.size
        cond = self.conditions()
        terms = utility_terms(self.grid, cond, self.layout.distance_km, self.layout.province, self.params)
        probabilities = logit_probabilities(utility(terms, self.constants, self.outside, self.grid))

        hazard = moving_hazard(talents.age, talents.status, talents.years_at_node, self.params)
        hazard[graduates] = 1.0
        considering = graduates | (self.rng.random(len(talents)) < hazard)
        rows = np.flatnonzero(considering)
        cells = self._cells(talents, rows, graduates[rows])
        choosers = self._considering_persons(hazard, graduates)  # by origin cell, before anyone moves
        destination = draw_choices(probabilities, cells, self.rng)
        origin = talents.node[rows].astype(np.int64)
        moving = destination != origin
        rows, origin, destination = rows[moving], origin[moving], destination[moving]
        self.accounts.move(origin, destination, talents.group[rows], talents.weight[rows])

        staying_in_region = destination < n
        movers = rows[staying_in_region]
        talents.node[movers] = destination[staying_in_region]
        talents.years_at_node[movers] = 0
        quitting = movers[talents.status[movers] == Status.EMPLOYED]
        talents.status[quitting] = Status.UNEMPLOYED
        talents.firm[quitting] = -1

        arriving_cells = self.grid.index(np.full(len(newcomers), n), newcomers.group, newcomers.is_high_end,
                                         newcomers.hukou, np.zeros(len(newcomers), bool),
                                         np.zeros(len(newcomers), bool))
        newcomers.node[:] = draw_choices(probabilities, arriving_cells, self.rng)
        self.accounts.move(np.full(len(newcomers), n), newcomers.node.astype(np.int64),
                           newcomers.group, newcomers.weight)

        persons = choosers + np.bincount(arriving_cells, weights=newcomers.weight, minlength=self.grid.size)
        for term, effect in term_effects(terms, self.base_terms, self.constants, self.outside,
                                         self.grid, persons, self.layout.province).items():
            self.drivers[term] += effect

        leaving = np.zeros(len(talents), bool)
        leaving[rows[~staying_in_region]] = True
        talents.keep(~leaving)
        talents.extend(newcomers)
        return np.concatenate([graduates[~leaving], np.zeros(len(newcomers), bool)])

    def match_jobs(self, graduates: np.ndarray) -> None:
        """Phase 6: job seekers meet vacancies in their node; graduates placed where a subsidy
        applies receive it."""
        talents, n = self.talents, self.layout.size
        staff = self.staff_by_firm()
        vacancies = np.array([firm.vacancies(staff[firm.index]) for firm in self.firms])  # (firms, groups)
        firm_node = np.array([firm.node for firm in self.firms])
        seeking = np.flatnonzero(talents.status == Status.UNEMPLOYED)
        cell = talents.node[seeking].astype(np.int64) * len(GROUPS) + talents.group[seeking]
        open_posts = np.zeros((n, len(GROUPS)))
        np.add.at(open_posts, firm_node, vacancies)
        seekers = np.bincount(cell, weights=talents.weight[seeking], minlength=open_posts.size)
        matches = self.params["matching_efficiency"] * np.minimum(seekers, open_posts.ravel())

        order = np.lexsort((self.rng.random(len(seeking)), cell))
        seeking, cell = seeking[order], cell[order]
        weight = talents.weight[seeking]
        before = np.cumsum(weight) - weight
        first_of_cell = np.searchsorted(cell, cell, side="left")
        taken_before = before - before[first_of_cell]
        hired = taken_before + weight / 2 <= matches[cell]
        hires, hire_cells = seeking[hired], cell[hired]

        firm_of_hire = np.empty(len(hires), np.int64)
        for c in np.unique(hire_cells):
            node, group = divmod(int(c), len(GROUPS))
            candidates = np.flatnonzero(firm_node == node)
            weights = vacancies[candidates, group]
            in_cell = hire_cells == c
            firm_of_hire[in_cell] = self.rng.choice(candidates, size=in_cell.sum(), p=weights / weights.sum())
        talents.status[hires] = Status.EMPLOYED
        talents.firm[hires] = firm_of_hire

        subsidy = self.levers["graduate_subsidy"]
        paid = hires[graduates[hires]]
        paid = paid[subsidy.nodes[talents.node[paid]] & subsidy.groups[talents.group[paid]]]
        self.accounts.spending["graduate_subsidy"] = subsidy.value * np.bincount(
            talents.node[paid], weights=talents.weight[paid], minlength=n)

    # --- what nodes offer -------------------------------------------------------------------

    def conditions(self) -> Conditions:
        """Wages, job chances, prices, services and group mix per node, and lever money."""
        n, n_groups = self.layout.size, len(GROUPS)
        staff = self.staff_by_firm()
        paid = np.zeros((n, n_groups))
        weight = np.zeros((n, n_groups))
        for firm in self.firms:
            basis = staff[firm.index] + 1e-9 * firm.demand  # falls back on demand where no staff
            paid[firm.node] += firm.wage * basis
            weight[firm.node] += basis
        wage = (paid / weight).T
        vacancies = np.zeros((n, n_groups))
        for firm in self.firms:
            vacancies[firm.node] += firm.vacancies(staff[firm.index])
        seekers = self._persons_by_node_group(self.talents.status == Status.UNEMPLOYED)
        job_chance = np.clip(vacancies.T / np.maximum(seekers, 1.0), MIN_JOB_CHANCE, 1.0)
        by_node_group = self._persons_by_node_group()
        group_share = by_node_group / np.maximum(by_node_group.sum(axis=0, keepdims=True), 1.0)
        region_share = by_node_group.sum(axis=1, keepdims=True) / max(by_node_group.sum(), 1.0)
        ratio = np.maximum(group_share / region_share, 1e-3)
        return Conditions(
            wage=wage, job_chance=job_chance,
            price=np.array([city.price_cny_m2 for city in self.cities]),
            services=np.array([city.services_index for city in self.cities]),
            group_share_ratio=ratio,
            graduate_money=_lever_by_group_node(self.levers["graduate_subsidy"]))

    # --- records ----------------------------------------------------------------------------

    def collect(self) -> None:
        """Phase 8: this year's stocks, node state, flows and spending."""
        t, n, year = self.talents, self.layout.size, self.year
        ids = np.array(self.layout.ids + ["OUT"])
        shape = (n, len(GROUPS), 2, 2, len(Status))
        key = np.ravel_multi_index((t.node.astype(np.int64), t.group, t.is_high_end.astype(np.int64),
                                    t.is_foreign.astype(np.int64), t.status), shape)
        persons = np.bincount(key, weights=t.weight, minlength=int(np.prod(shape))).astype(np.int64)
        present = np.flatnonzero(persons)
        node, group, high_end, foreign, status = np.unravel_index(present, shape)
        self._records["stocks"].append(pd.DataFrame({
            "year": year, "node": ids[node], "group": np.array(GROUPS)[group],
            "is_high_end": high_end.astype(bool), "is_foreign": foreign.astype(bool),
            "status": np.array([s.name.lower() for s in Status])[status], "persons": persons[present]}))

        staff = self.staff_by_firm()
        talents = self._persons_by_node()
        employed = staff.sum(axis=1)
        wage_bill = np.array([(firm.wage * staff[firm.index]).sum() for firm in self.firms])
        firm_node = np.array([firm.node for firm in self.firms])
        vacancies = np.array([firm.vacancies(staff[firm.index]).sum() for firm in self.firms])
        acc = self.accounts
        self._records["nodes"].append(pd.DataFrame({
            "year": year, "node": ids[:n],
            "population": np.round(talents + np.array([c.nontalent for c in self.cities])).astype(np.int64),
            "talents": talents,
            "price_cny_m2": [c.price_cny_m2 for c in self.cities],
            "wage_cny_year": np.bincount(firm_node, wage_bill, n) / np.maximum(np.bincount(firm_node, employed, n), 1),
            "services_index": [c.services_index for c in self.cities],
            "vacancies": np.round(np.bincount(firm_node, vacancies, n)).astype(np.int64),
            "entries": acc.entries, "exits": acc.exits, "inflow": acc.inflow, "outflow": acc.outflow}))

        origin, destination, group = np.nonzero(acc.flows)
        self._records["flows"].append(pd.DataFrame({
            "year": year, "origin": ids[origin], "destination": ids[destination],
            "group": np.array(GROUPS)[group], "persons": acc.flows[origin, destination, group]}))
        for lever, by_node in acc.spending.items():
            spent = np.flatnonzero(by_node)
            self._records["spending"].append(pd.DataFrame({
                "year": year, "lever": lever, "node": ids[spent], "cny": by_node[spent]}))

    def tables(self) -> dict[str, pd.DataFrame]:
        """Everything recorded so far, one tidy table per kind."""
        empty = {"stocks": [], "nodes": [], "flows": ["year", "origin", "destination", "group", "persons"],
                 "spending": ["year", "lever", "node", "cny"]}
        out = {name: (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=empty[name]))
               for name, frames in self._records.items()}
        out["drivers"] = pd.DataFrame(
            [{"term": term, "province": PROVINCES[p], "persons": float(effect[p])}
             for term, effect in self.drivers.items() for p in range(len(PROVINCES))])
        return out

    # --- helpers ----------------------------------------------------------------------------

    def staff_by_firm(self) -> np.ndarray:
        """Persons employed by each firm, by group, shape (firms, groups)."""
        t = self.talents
        employed = t.firm >= 0
        key = t.firm[employed].astype(np.int64) * len(GROUPS) + t.group[employed]
        return np.bincount(key, weights=t.weight[employed],
                           minlength=len(self.firms) * len(GROUPS)).reshape(len(self.firms), len(GROUPS))

    def _persons_by_node(self) -> np.ndarray:
        return self.talents.persons_by(self.talents.node.astype(np.int64), self.layout.size)

    def _persons_by_group(self) -> np.ndarray:
        return self.talents.persons_by(self.talents.group.astype(np.int64), len(GROUPS))

    def _persons_by_node_group(self, mask: np.ndarray | None = None) -> np.ndarray:
        """Persons by (group, node)."""
        t = self.talents
        key = t.group.astype(np.int64) * self.layout.size + t.node
        return t.persons_by(key, len(GROUPS) * self.layout.size, mask).reshape(len(GROUPS), self.layout.size).astype(float)

    def _demand_share_in_node(self) -> np.ndarray:
        """Each firm's share of its node's labour demand, by group (firms, groups)."""
        demand = np.array([firm.demand for firm in self.firms])
        firm_node = np.array([firm.node for firm in self.firms])
        node_total = np.zeros((self.layout.size, len(GROUPS)))
        np.add.at(node_total, firm_node, demand)
        return demand / np.maximum(node_total[firm_node], 1e-9)

    def _pole_group_shares(self) -> np.ndarray:
        return self.base.group_shares.loc[self.layout.nodes["pole"]].to_numpy()

    def _cells(self, talents: Talents, rows: np.ndarray, is_graduate: np.ndarray) -> np.ndarray:
        return self.grid.index(talents.node[rows], talents.group[rows], talents.is_high_end[rows],
                               talents.hukou[rows],
                               talents.status[rows] == Status.RETIRED, is_graduate)

    def _considering_persons(self, hazard: np.ndarray, graduates: np.ndarray | None = None) -> np.ndarray:
        """Expected persons considering a move, per choice cell."""
        t = self.talents
        is_graduate = np.zeros(len(t), bool) if graduates is None else graduates
        cells = self._cells(t, np.arange(len(t)), is_graduate)
        return np.bincount(cells, weights=t.weight * np.where(is_graduate, 1.0, hazard), minlength=self.grid.size)

    def _balance_base_year(self) -> tuple[np.ndarray, np.ndarray]:
        """Node constants under which the base year's expected moves balance (see choice.py)."""
        t = self.talents
        hazard = moving_hazard(t.age, t.status, t.years_at_node, self.params)
        persons = self._considering_persons(hazard)
        expected = demography.arrivals(
            self.params["inflow_rate"] * t.persons, self.params["foreign_inflow"],
            self.params["high_end_inflow"], self._persons_by_group() / t.persons, 1, self.rng)
        cells = self.grid.index(np.full(len(expected), self.layout.size), expected.group, expected.is_high_end,
                                expected.hukou, np.zeros(len(expected), bool), np.zeros(len(expected), bool))
        persons += np.bincount(cells, weights=expected.weight, minlength=self.grid.size)
        target, target_out = balance_targets(persons, self.grid, self.params["outside_choice_share"],
                                             self._arrival_shares())
        return solve_constants(self.base_terms, persons, self.grid, target, target_out)

    def _arrival_shares(self) -> np.ndarray:
        """Where talents registered outside the region live, per kind (kinds, nodes), rows
        summing to 1: newcomers in the base year settle like those before them. A kind with no
        such talents follows all talents of its kind."""
        t, n = self.talents, self.layout.size
        kind = t.group.astype(np.int64) * 2 + t.is_high_end
        key = kind * n + t.node
        size = self.grid.n_kinds * n
        migrants = t.persons_by(key, size, t.hukou == HUKOU_ELSEWHERE).reshape(-1, n).astype(float)
        everyone = t.persons_by(key, size).reshape(-1, n).astype(float)
        chosen = np.where(migrants.sum(axis=1, keepdims=True) > 0, migrants, everyone)
        return chosen / np.maximum(chosen.sum(axis=1, keepdims=True), 1.0)

    def _create_cities(self) -> list[City]:
        nodes = self.base.nodes
        talents = self._persons_by_node()
        return [City(self, node=i, price_cny_m2=nodes["price_cny_m2"].iloc[i],
                     residents=nodes["population"].iloc[i], services_index=nodes["services_index"].iloc[i],
                     nontalent=nodes["population"].iloc[i] - talents[i],
                     nontalent_growth=nodes["nontalent_growth"].iloc[i])
                for i in range(self.layout.size)]

    def _create_firms(self) -> list[Firm]:
        """One firm per node and sector; employed talents are spread over them by the sector mix."""
        t = self.talents
        employed = np.flatnonzero(t.status == Status.EMPLOYED)
        weights = sector_weights(self.layout)[t.node[employed], t.group[employed]]  # (rows, sectors)
        u = self.rng.random(len(employed))[:, None]
        sector = np.minimum((u > np.cumsum(weights, axis=1)).sum(axis=1), len(SECTORS) - 1)
        t.firm[employed] = t.node[employed].astype(np.int64) * len(SECTORS) + sector
        n_firms = self.layout.size * len(SECTORS)
        key = t.firm[employed].astype(np.int64) * len(GROUPS) + t.group[employed]
        staff = np.bincount(key, weights=t.weight[employed], minlength=n_firms * len(GROUPS)).reshape(n_firms, len(GROUPS))
        node_wage = self.base.nodes["wage_cny_year"].to_numpy()
        return [Firm(self, index=f, node=f // len(SECTORS), sector=f % len(SECTORS), staff=staff[f],
                     wage=node_wage[f // len(SECTORS)] * WAGE_PREMIUM,
                     vacancy_rate=self.params["vacancy_rate"])
                for f in range(n_firms)]


def _lever_by_group_node(state: LeverState) -> np.ndarray:
    """A lever's value as (groups, nodes), zero where it does not apply."""
    return np.outer(state.groups, state.by_node())
