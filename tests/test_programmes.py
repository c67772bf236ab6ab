"""What each policy lever does in the model (model/programmes.py, model/choice.py and the phases
of ``TalentModel.step``), on small seeded runs against a baseline with the same seed (common
random numbers).

Checked:

- it moves what it should, in the declared direction;
- it leaves alone what it does not target (checked in its first year or on direct state, since
  later years carry the region's feedbacks everywhere);
- its spending is recipients x amount, as ``Lever.spending`` says;
- it acts from its dates, at the time-weighted share in a year it starts mid-way, and past its
  last date it keeps its last value, with one note;
- bad settings are refused naming the key path and what is allowed;
- the plan-2017 package has an effect or a spending for every lever it sets.

Runs are at scale 3000 from 2015, most of one year; lever values are large enough to dominate
the noise of rows of 3000 persons. ``Probe`` is the model with some phases' results kept for the
tests to read; the phases themselves are the model's.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from app.cli import main
from model import demography
from model.choice import (
    KEEPS_BEIJING_SERVICES,
    NO_PRIVILEGE,
    logit_probabilities,
    utility,
    utility_terms,
)
from model.draws import Draws, Purpose
from model.errors import ScenarioError
from model.firms import SECTORS
from model.layout import PROVINCES, default_layout, year_share_after
from model.levers import LEVERS
from model.programmes import RESIDENTS_PER_UNIT, ZONE_PROJECTS, where_jobs_go
from model.scenario import Scenario, load_scenario, validate
from model.simulation import TalentModel
from model.talents import GROUPS, HUKOU_ABROAD, HUKOU_ELSEWHERE, Status, Talents
from tests.conftest import SCENARIOS

SEED = 7
START = "2016-01-01"  # the first simulated year of a 2015 start
SCALE = 3000
LAYOUT = default_layout()
IDS = LAYOUT.ids
N = LAYOUT.size


def mask(*places: str) -> np.ndarray:
    return LAYOUT.mask(list(places))


def group_mask(*groups: str) -> np.ndarray:
    return np.isin(np.array(GROUPS), groups)


def sector_mask(*sectors: str) -> np.ndarray:
    return np.isin(np.array(SECTORS), sectors)


NO_COMMUTING = {"commute_max_km": 0.0}  # everyone lives in the node where they work


def scenario(
    levers: dict[str, Any],
    end_year: int = 2016,
    scale: int = SCALE,
    parameters: dict[str, float] | None = None,
) -> Scenario:
    return validate(
        {"name": "t", "scale": scale, "end_year": end_year, "levers": levers, "parameters": parameters or {}},
        {},
        "test",
    )


def firm_demand(model: TalentModel) -> np.ndarray:
    """Every firm's demand, (firms, groups)."""
    return np.array([firm.demand for firm in model.firms])


class Probe(TalentModel):
    """The model, keeping what some phases did in ``seen[year][phase]``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seen: dict[int, dict[str, Any]] = {}

    def _keep(self, phase: str, value: Any) -> None:
        self.seen.setdefault(self.year, {})[phase] = value

    def issue_talent_cards(self) -> None:
        super().issue_talent_cards()
        t = self.talents
        self._keep(
            "cards",
            {
                "card": t.talent_card.copy(),
                "node": t.node.copy(),
                "group": t.group.copy(),
                "high_end": t.is_high_end.copy(),
                "in_work": t.in_work(),
                "weight": t.weight.copy(),
            },
        )

    def plan_firms(self) -> None:
        added: list[tuple[int, int | None, float]] = []  # (firm, group, persons) of add_demand calls
        for firm in self.firms:

            def logged(
                persons: float,
                group: int | None = None,
                _firm: Any = firm,
                _add: Callable[..., None] = firm.add_demand,
            ) -> None:
                added.append((_firm.index, group, persons))
                _add(persons, group)

            firm.add_demand = logged  # type: ignore[method-assign]
        try:
            super().plan_firms()
        finally:
            for firm in self.firms:
                del firm.add_demand
        self._keep("demand_planned", firm_demand(self))
        self._keep("demand_added", added)

    def relocate_functions(self) -> None:
        t = self.talents
        node, firm = t.node.copy(), t.firm.copy()
        super().relocate_functions()
        self._keep(
            "relocation",
            {
                "origin": node,
                "node": t.node.copy(),
                "firm_before": firm,
                "firm": t.firm.copy(),
                "status": t.status.copy(),
                "keeps": t.keeps_beijing_services.copy(),
                "weight": t.weight.copy(),
            },
        )
        self._keep("demand_relocated", firm_demand(self))

    def update_cities(self) -> None:
        super().update_cities()
        self._keep("housing_supply", np.array([city.housing_supply for city in self.cities]))
        self._keep("nontalent", np.array([city.nontalent for city in self.cities]))

    def match_jobs(self, studied_at: np.ndarray) -> None:
        t = self.talents
        seeking = t.status == Status.UNEMPLOYED
        super().match_jobs(studied_at)
        self._keep(
            "hires",
            {
                "studied_at": studied_at.copy(),
                "hired": seeking & (t.status == Status.EMPLOYED),
                "node": t.node.copy(),
                "group": t.group.copy(),
                "weight": t.weight.copy(),
            },
        )

    def house_talents(self) -> None:
        super().house_talents()
        t = self.talents
        self._keep(
            "tenants",
            {
                "by_node": t.persons_by(t.node.astype(np.int64), N, t.in_talent_housing),
                "by_group": t.persons_by(t.group.astype(np.int64), len(GROUPS), t.in_talent_housing),
            },
        )


Runner = Callable[..., Probe]


@pytest.fixture(scope="module")
def runs() -> Runner:
    """Finished runs, built once per module: ``runs(levers, end_year=..., seed=..., ...)``."""
    cache: dict[str, Probe] = {}

    def get(
        levers: dict[str, Any] | None = None, end_year: int = 2016, seed: int = SEED, **options: Any
    ) -> Probe:
        key = json.dumps([levers or {}, end_year, seed, options], sort_keys=True)
        if key not in cache:
            model = Probe(scenario(levers or {}, end_year, **options), seed=seed)
            while model.running:
                model.step()
            model.tables_ = model.tables()  # type: ignore[attr-defined]
            cache[key] = model
        return cache[key]

    return get


def tables(model: Probe) -> dict[str, pd.DataFrame]:
    return model.tables_  # type: ignore[attr-defined, no-any-return]


def node_column(model: Probe, column: str, year: int) -> np.ndarray:
    """A column of the nodes table in one year, in layout order."""
    nodes = tables(model)["nodes"]
    return nodes[nodes["year"] == year].set_index("node").loc[IDS, column].to_numpy()


def spent(model: Probe, lever: str, year: int | None = None) -> np.ndarray:
    """CNY spent on a lever by node (layout order), in one year or all years."""
    spending = tables(model)["spending"]
    rows = spending[(spending["lever"] == lever) & ((spending["year"] == year) if year else True)]
    return rows.groupby("node")["cny"].sum().reindex(IDS, fill_value=0.0).to_numpy()


def stock(model: Probe, year: int, **where: Any) -> np.ndarray:
    """Persons by node (layout order) in the stocks table, filtered on its columns."""
    stocks = tables(model)["stocks"]
    keep = stocks["year"] == year
    for column, allowed in where.items():
        keep &= stocks[column].isin(allowed if isinstance(allowed, (list, tuple, set)) else [allowed])
    return stocks[keep].groupby("node")["persons"].sum().reindex(IDS, fill_value=0).to_numpy()


def terms_now(model: TalentModel, **lever_terms: np.ndarray) -> dict[str, np.ndarray]:
    """This year's utility terms of ``model`` (cells, alternatives), optionally with some lever
    terms replaced (to compare with and without one)."""
    conditions = model.conditions()
    if lever_terms:
        conditions = dataclasses.replace(
            conditions, levers=dataclasses.replace(conditions.levers, **lever_terms)
        )
    return utility_terms(
        model.grid, conditions, model.layout.distance_km, model.layout.province, model.params
    )


def assert_whole(values: np.ndarray) -> None:
    np.testing.assert_allclose(values, np.round(values), rtol=0, atol=1e-6)


# === 三(一) money for graduates and settlers ===================================================

GRADUATE = {"graduate_subsidy": {"nodes": ["hebei"], "graduated_in": ["jjj"], "values": {START: 500_000}}}
STUDIED = (
    "beijing",
    "tianjin",
    "SJZ",
)  # Shijiazhuang's own graduates, hired there, make sure someone is paid
GRADUATE_SOME = {
    "graduate_subsidy": {
        "nodes": ["SJZ", "BD", "TS", "XA"],
        "groups": ["research", "engineering"],
        "graduated_in": list(STUDIED),
        "values": {START: 40_000},
    }
}
SETTLEMENT = {
    "settlement_subsidy": {
        "nodes": ["XA", "SJZ"],
        "groups": ["research", "engineering", "management"],
        "values": {START: 2_000_000},
    }
}
HEBEI = mask("hebei")


def test_graduate_subsidy_raises_hebei_talents_and_keeps_those_who_would_leave(runs: Runner) -> None:
    base, reform = runs(end_year=2019), runs(GRADUATE, end_year=2019)
    assert node_column(reform, "talents", 2019)[HEBEI].sum() > node_column(base, "talents", 2019)[HEBEI].sum()
    # graduates hired in Hebei are paid, so fewer of Hebei's talents move away; the moves into
    # Hebei's nodes go either way with the seed (-3 % to +12 % over seeds 7-10), so are not asserted
    outflow = {
        name: sum(node_column(model, "outflow", year)[HEBEI].sum() for year in range(2016, 2020))
        for name, model in (("base", base), ("reform", reform))
    }
    assert outflow["reform"] < outflow["base"]


BEIJING_TIANJIN = mask("beijing", "tianjin")  # graduate_subsidy's default graduated_in


def graduates_paid(
    model: Probe, year: int, nodes: np.ndarray, groups: np.ndarray, studied_in: np.ndarray = BEIJING_TIANJIN
) -> np.ndarray:
    """Persons by node among this year's graduates of ``studied_in`` hired at a target node, of
    a target group."""
    hires = model.seen[year]["hires"]
    studied = hires["studied_at"]
    graduate = (studied >= 0) & studied_in[np.maximum(studied, 0)]
    paid = graduate & hires["hired"] & nodes[hires["node"]] & groups[hires["group"]]
    return np.bincount(hires["node"], weights=np.where(paid, hires["weight"], 0), minlength=N)


def test_graduate_subsidy_spending_is_value_times_graduates_paid(runs: Runner) -> None:
    model = runs(GRADUATE_SOME, end_year=2017)
    nodes, groups = mask("SJZ", "BD", "TS", "XA"), group_mask("research", "engineering")
    paid = 0.0
    for year in (2016, 2017):
        persons = spent(model, "graduate_subsidy", year) / 40_000
        assert_whole(persons)
        np.testing.assert_allclose(persons, graduates_paid(model, year, nodes, groups, mask(*STUDIED)))
        assert (persons[~nodes] == 0).all(), year
        paid += persons.sum()
    assert paid > 0
    # graduates of other groups were hired there too, and were not paid
    others = graduates_paid(model, 2016, nodes, ~groups, studied_in=np.ones(N, bool))
    assert others.sum() > 0
    # and so were graduates of the other Hebei universities, who do not qualify
    assert graduates_paid(model, 2016, nodes, groups, studied_in=HEBEI & ~mask("SJZ")).sum() > 0


def test_a_one_off_payment_is_worth_its_annuity_as_a_raise(runs: Runner) -> None:
    model = runs({"graduate_subsidy": {"nodes": ["hebei"], "values": {START: 30_000}}})
    levers = terms_now(model)["levers"][:, :N]
    origin, group, _, hukou, retired, graduate, _ = model.grid.attributes()
    qualified = (graduate == 1) & BEIJING_TIANJIN[np.minimum(origin, N - 1)] & (origin < N)
    r, years = model.params["money_discount_rate"], model.params["expected_stay_years"]
    a_year = 30_000 * r / (1 - (1 + r) ** -years)
    assert a_year == pytest.approx(4_642, abs=1)  # 8 years at 5 %: docs/evidence-levers.md 6.1
    wage = model.conditions().wage  # (groups, nodes)
    expected = model.params["beta_wage"] * np.log1p(a_year / wage[group]) * HEBEI[None, :]
    cells = qualified & (hukou != HUKOU_ABROAD)
    np.testing.assert_allclose(levers[cells], expected[cells])
    assert (levers[~qualified & (hukou != HUKOU_ABROAD)] == 0).all()


def test_a_one_off_30000_moves_a_graduates_choice_of_hebei_by_at_most_a_few_points(runs: Runner) -> None:
    """docs/evidence-levers.md 6.1: a one-off 30,000 CNY should shift the probability
    of choosing a place by at most about 1.5-5 percentage points (the old money_utility_cny form
    gave 0.705 of utility, 5-8 times the annuity's worth)."""
    model = runs({"graduate_subsidy": {"nodes": ["hebei"], "values": {START: 30_000}}})
    zero = np.zeros_like(model.conditions().levers.graduate_money)
    p_with, p_without = (
        logit_probabilities(utility(terms, model.constants, model.outside, model.grid))
        for terms in (terms_now(model), terms_now(model, graduate_money=zero))
    )
    origin, _, _, _, _, graduate, _ = model.grid.attributes()
    qualified = (graduate == 1) & (origin < N) & BEIJING_TIANJIN[np.minimum(origin, N - 1)]
    hebei = np.append(HEBEI, False)
    shift = (p_with[:, hebei].sum(axis=1) - p_without[:, hebei].sum(axis=1))[qualified]
    assert 0.0 < shift.max() <= 0.05
    assert (shift >= 0).all()


def test_graduated_in_names_whose_graduates_qualify(runs: Runner) -> None:
    own = {"graduate_subsidy": {**GRADUATE_SOME["graduate_subsidy"], "graduated_in": ["hebei"]}}
    model = runs(own, end_year=2016)
    nodes, groups = mask("SJZ", "BD", "TS", "XA"), group_mask("research", "engineering")
    persons = spent(model, "graduate_subsidy", 2016) / 40_000
    np.testing.assert_allclose(persons, graduates_paid(model, 2016, nodes, groups, studied_in=HEBEI))
    assert persons.sum() > 0


def test_only_graduates_who_would_qualify_see_the_money_in_their_choice(runs: Runner) -> None:
    default = {k: v for k, v in GRADUATE_SOME["graduate_subsidy"].items() if k != "graduated_in"}
    model = runs({"graduate_subsidy": default}, end_year=2016)  # graduated_in by default
    money = model.conditions().levers.graduate_money  # (origins, groups, nodes)
    from_beijing_tianjin = np.append(BEIJING_TIANJIN, False)
    targets, groups = mask("SJZ", "BD", "TS", "XA"), group_mask("research", "engineering")
    expected = 40_000 * from_beijing_tianjin[:, None, None] * groups[None, :, None] * targets[None, None, :]
    np.testing.assert_array_equal(money, expected)


def test_a_value_dated_mid_year_pays_its_time_weighted_share(runs: Runner) -> None:
    model = runs(
        {"graduate_subsidy": {"nodes": ["hebei"], "graduated_in": ["jjj"], "values": {"2016-07-01": 36_600}}},
        end_year=2017,
    )
    share = year_share_after(dt.date(2016, 7, 1), 2016)
    assert share == pytest.approx(184 / 366)
    for year, per_person in ((2016, 36_600 * share), (2017, 36_600.0)):
        paid = graduates_paid(model, year, HEBEI, group_mask(*GROUPS), studied_in=np.ones(N, bool))
        assert paid.sum() > 0
        np.testing.assert_allclose(spent(model, "graduate_subsidy", year), per_person * paid)


def test_settlement_subsidy_raises_the_target_nodes_inflow_and_talents(runs: Runner) -> None:
    base, reform = runs(end_year=2019), runs(SETTLEMENT, end_year=2019)
    # the targets' talents together: Xiong'an alone is some 50 rows at this scale, within noise
    targets = mask("XA", "SJZ")
    assert (
        node_column(reform, "talents", 2019)[targets].sum()
        > node_column(base, "talents", 2019)[targets].sum()
    )
    for node in ("XA", "SJZ"):
        i = IDS.index(node)
        assert sum(node_column(reform, "inflow", y)[i] for y in range(2016, 2020)) > sum(
            node_column(base, "inflow", y)[i] for y in range(2016, 2020)
        ), node


def test_settlement_subsidy_pays_each_settler_of_the_target_groups_once(runs: Runner) -> None:
    """Its spending at a target is the value times the persons of the target groups who moved in
    from another node or arrived from outside that year: the flows into it (nothing else moves
    people in this run). Flows count homes and the subsidy jobs: without commuting they agree."""
    model = runs(SETTLEMENT, end_year=2019, parameters=NO_COMMUTING)
    flows = tables(model)["flows"]
    flows = flows[flows["group"].isin(["research", "engineering", "management"])]
    for year in range(2016, 2020):
        persons = spent(model, "settlement_subsidy", year) / 2_000_000
        into = flows[flows["year"] == year].groupby("destination")["persons"].sum().reindex(IDS, fill_value=0)
        np.testing.assert_allclose(persons, into.to_numpy() * mask("XA", "SJZ"))
    into_sjz = flows[flows["destination"] == "SJZ"]
    arrived, moved = into_sjz[into_sjz["origin"] == "OUT"], into_sjz[into_sjz["origin"] != "OUT"]
    assert arrived["persons"].sum() > 0 and moved["persons"].sum() > 0  # both kinds are paid


# === 三(一) teams, part-time service, poverty support =========================================

FTE_NODES = ("ZJK", "CD", "HS")


@pytest.mark.parametrize("name", ["team_service", "poverty_support"])
def test_fte_programmes_serve_only_their_targets_their_value_in_total(runs: Runner, name: str) -> None:
    model = runs({name: {"nodes": list(FTE_NODES), "values": {START: 3000}}}, end_year=2017)
    targets = mask(*FTE_NODES)
    for year in (2016, 2017):
        fte = node_column(model, "fte_served", year)
        assert (fte[~targets] == 0).all(), year
        assert (fte[targets] > 0).all(), year
        assert fte.sum() == pytest.approx(3000), year
        population = node_column(model, "population", year)
        np.testing.assert_allclose(
            fte[targets] / fte.sum(), population[targets] / population[targets].sum(), rtol=1e-5
        )
        np.testing.assert_allclose(spent(model, name, year), fte * LEVERS[name].unit_cost_cny)
        assert spent(model, name, year).sum() == pytest.approx(3000 * LEVERS[name].unit_cost_cny)
    assert (node_column(runs(), "fte_served", 2016) == 0).all()


def test_fte_served_raises_the_services_index_where_they_serve(runs: Runner) -> None:
    model = runs({"team_service": {"nodes": list(FTE_NODES), "values": {START: 3000}}}, end_year=2017)
    targets = mask(*FTE_NODES)
    for year in (2016, 2017):
        fte, population = node_column(model, "fte_served", year), node_column(model, "population", year)
        served = node_column(model, "services_served", year)
        expected = model.params["fte_services_gain"] * fte / (population / 1000)
        np.testing.assert_allclose(served, expected, rtol=1e-5)
        assert (served[targets] > 0).all() and (served[~targets] == 0).all()
    # next year's choices see it: the services a node offers include what is served there
    city = np.array([city.services_index for city in model.cities])
    np.testing.assert_allclose(model.conditions().services, city + model.services_served)
    assert (node_column(runs(), "services_served", 2016) == 0).all()


def test_flexible_service_counts_part_timers_of_the_capitals_at_part_time(runs: Runner) -> None:
    # part-timers are counted where they work; stocks count homes: without commuting they agree
    groups = ["research", "professional"]
    model = runs(
        {"flexible_service": {"nodes": ["SJZ", "HD"], "groups": groups, "values": {START: 0.2}}},
        end_year=2017,
        parameters=NO_COMMUTING,
    )
    capitals = np.isin(LAYOUT.province, [PROVINCES.index("beijing"), PROVINCES.index("tianjin")])
    targets = mask("SJZ", "HD")
    for year in (2016, 2017):
        eligible = stock(model, year, group=groups, status="employed")[capitals].sum()
        part_timers = 0.2 * eligible
        fte = node_column(model, "fte_served", year)
        assert (fte[~targets] == 0).all() and (fte[targets] > 0).all(), year
        assert fte.sum() == pytest.approx(part_timers * model.params["part_time_fte"]), year
        assert spent(model, "flexible_service", year).sum() == pytest.approx(
            part_timers * LEVERS["flexible_service"].unit_cost_cny
        ), year
        assert (spent(model, "flexible_service", year)[~targets] == 0).all(), year


# === 二(二) relocation of non-capital functions, 三(三) service following ====================

RELOCATION = {"function_relocation": {"nodes": ["LF"], "values": {START: 500_000}}}
FOLLOWING = {**RELOCATION, "service_following": {"values": {START: 1.0}}}
RELOCATED_SECTORS = sector_mask(*LEVERS["function_relocation"].default_sectors)


def test_relocation_moves_demand_from_beijing_to_the_targets_and_keeps_its_total(runs: Runner) -> None:
    base, reform = runs(), runs(RELOCATION)
    seen = reform.seen[2016]
    np.testing.assert_array_equal(seen["demand_planned"], base.seen[2016]["demand_planned"])
    change = (seen["demand_relocated"] - seen["demand_planned"]).sum(axis=1)
    node = np.array([firm.node for firm in reform.firms])
    sector = np.array([firm.sector for firm in reform.firms])
    leaving = (node == IDS.index("BJ")) & RELOCATED_SECTORS[sector]
    arriving = (node == IDS.index("LF")) & RELOCATED_SECTORS[sector]
    assert (change[leaving] < 0).all()
    assert (change[arriving] > 0).all()
    assert (change[~(leaving | arriving)] == 0).all()
    assert -change[leaving].sum() == pytest.approx(change[arriving].sum())
    assert change[arriving].sum() == pytest.approx(500_000)  # less than the sectors' demand in Beijing
    # each sector's jobs go to the same sector's firm
    for s in np.flatnonzero(RELOCATED_SECTORS):
        assert -change[leaving & (sector == s)].sum() == pytest.approx(change[arriving & (sector == s)].sum())


def test_relocated_staff_go_where_their_firms_jobs_go_in_equal_shares() -> None:
    rng = np.random.default_rng(3)
    firm = np.repeat([4, 9, 9, 11], [40, 30, 30, 7])
    weight = rng.integers(1, 100, len(firm))
    targets = np.array([2, 5, 6])
    destination = where_jobs_go(firm, weight, targets, rng.random(len(firm)))
    assert set(destination) <= set(targets)
    for f in np.unique(firm):
        staff = weight[firm == f]
        for target in targets:
            sent = weight[(firm == f) & (destination == target)].sum()
            assert abs(sent - staff.sum() / len(targets)) <= staff.max(), (f, target)


def followers(model: Probe, year: int = 2016) -> np.ndarray:
    seen = model.seen[year]["relocation"]
    return seen["origin"] != seen["node"]


def test_relocated_staff_follow_to_the_targets_or_stay_unemployed(runs: Runner) -> None:
    model = runs(RELOCATION)
    seen = model.seen[2016]["relocation"]
    moved = followers(model)
    assert seen["weight"][moved].sum() > 0
    assert (seen["origin"][moved] == IDS.index("BJ")).all()
    assert (seen["node"][moved] == IDS.index("LF")).all()
    # the job moved with them: the same sector's firm at the destination
    assert (seen["firm"][moved] // len(SECTORS) == IDS.index("LF")).all()
    assert (seen["firm"][moved] % len(SECTORS) == seen["firm_before"][moved] % len(SECTORS)).all()
    assert RELOCATED_SECTORS[seen["firm"][moved] % len(SECTORS)].all()
    lost = (seen["firm_before"] >= 0) & (seen["firm"] < 0)
    assert lost.any()
    assert (seen["status"][lost] == Status.UNEMPLOYED).all()
    assert RELOCATED_SECTORS[seen["firm_before"][lost] % len(SECTORS)].all()
    flows = tables(model)["flows"]
    into = flows[(flows["year"] == 2016) & (flows["origin"] == "BJ") & (flows["destination"] == "LF")]
    assert into["persons"].sum() >= seen["weight"][moved].sum()
    assert not seen["keeps"].any()  # no service following set


@pytest.mark.parametrize("seed", [SEED, 8])
def test_service_following_makes_more_staff_follow_and_keep_beijing_services(runs: Runner, seed: int) -> None:
    without, with_services = runs(RELOCATION, seed=seed), runs(FOLLOWING, seed=seed)
    follow_without, follow_with = followers(without), followers(with_services)
    # same draws, higher utility of following: everyone who followed without still follows
    assert (follow_with >= follow_without).all()
    weight = with_services.seen[2016]["relocation"]["weight"]
    assert weight[follow_with].sum() > weight[follow_without].sum()
    keeps = with_services.seen[2016]["relocation"]["keeps"]
    np.testing.assert_array_equal(keeps, follow_with)  # all of them are covered at 1, nobody else


def test_service_following_spends_per_follower_and_service_gap(runs: Runner) -> None:
    model = runs(FOLLOWING)
    t = model.talents  # the state the last year's tables were collected from
    keepers = t.persons_by(t.node.astype(np.int64), N, t.keeps_beijing_services)
    assert keepers.sum() > 0
    services = node_column(model, "services_index", 2016)
    expected = keepers * (services.max() - services) * LEVERS["service_following"].unit_cost_cny
    np.testing.assert_allclose(spent(model, "service_following", 2016), expected)
    assert spent(model, "service_following", 2016).sum() > 0


# === 三(二), 四(一), 四(十) international ======================================================

OVERSEAS = {"overseas_recruitment": {"nodes": ["TJ", "SJZ"], "values": {START: 2000}}}


def test_overseas_recruitment_adds_high_end_talents_at_the_targets_only(runs: Runner) -> None:
    base, reform = runs(), runs(OVERSEAS)
    targets = mask("TJ", "SJZ")
    recruits = spent(reform, "overseas_recruitment", 2016) / LEVERS["overseas_recruitment"].unit_cost_cny
    assert_whole(recruits)
    assert recruits.sum() == 2000
    assert (recruits[~targets] == 0).all() and (recruits[targets] > 0).all()
    high_end = {
        name: stock(model, 2016, is_high_end=True)[targets].sum()
        for name, model in (("base", base), ("reform", reform))
    }
    assert high_end["reform"] > high_end["base"] + 1000
    flows = tables(reform)["flows"]
    arrivals = (
        flows[(flows["year"] == 2016) & (flows["origin"] == "OUT")]
        .groupby("destination")["persons"]
        .sum()
        .reindex(IDS, fill_value=0)
        .to_numpy()
    )
    assert (arrivals >= recruits).all()


INTERNATIONAL = {"international_community": {"nodes": ["TJ", "XA"], "values": {START: 2}}}


def test_international_community_is_utility_for_foreign_talents_at_the_targets_only(runs: Runner) -> None:
    model = runs(INTERNATIONAL)
    levers = terms_now(model)["levers"]
    hukou = model.grid.attributes()[3]
    foreign = hukou == HUKOU_ABROAD
    targets = np.append(mask("TJ", "XA"), False)  # OUT is no target
    amenity = model.params["international_community_amenity"] * 2
    assert amenity > 0
    np.testing.assert_allclose(levers[np.ix_(foreign, targets)], amenity)
    assert (levers[np.ix_(foreign, ~targets)] == 0).all()
    assert (levers[~foreign] == 0).all()
    assert (terms_now(runs())["levers"] == 0).all()  # baseline: no lever term at all
    # so foreign talents choose the targets more often than they would without it
    without = terms_now(model, foreign_amenity=np.zeros(N))
    p_with = logit_probabilities(utility(terms_now(model), model.constants, model.outside, model.grid))
    p_without = logit_probabilities(utility(without, model.constants, model.outside, model.grid))
    tj = IDS.index("TJ")
    open_cells = foreign & (p_without[:, tj] > 1e-9) & (p_without[:, tj] < 1 - 1e-9)
    assert open_cells.any()
    assert (p_with[open_cells, tj] > p_without[open_cells, tj]).all()


def test_international_community_spends_value_times_nodes_times_unit_cost(runs: Runner) -> None:
    expected = 2 * LEVERS["international_community"].unit_cost_cny * mask("TJ", "XA")
    np.testing.assert_allclose(spent(runs(INTERNATIONAL), "international_community", 2016), expected)


# === 三(三) institutions ======================================================================


def barrier_setup(model: TalentModel) -> tuple[np.ndarray, ...]:
    origin, group, _, hukou, _, _, privileged = model.grid.attributes()
    province = LAYOUT.province
    crosses = np.append(province, -1)[origin][:, None] != province[None, :]  # (cells, nodes)
    return origin, group, hukou, privileged, crosses


@pytest.mark.parametrize("name", ["credential_recognition", "insurance_portability"])
def test_recognition_and_portability_lower_the_barrier_between_targets_both_ways(
    runs: Runner, name: str
) -> None:
    base, reform = runs(), runs({name: {"nodes": ["SJZ", "TJ"], "values": {START: 0.8}}})
    change = terms_now(reform)["barriers"][:, :N] - terms_now(base)["barriers"][:, :N]
    origin, group, _, privileged, crosses = barrier_setup(reform)
    targets = mask("SJZ", "TJ")
    from_target = np.append(targets, False)[origin]
    share = reform.params["credential_barrier_share"]
    if name == "credential_recognition":  # its part of the barrier, for groups with titles or certificates
        part = share * np.isin(group, [GROUPS.index(g) for g in LEVERS[name].default_groups])
    else:  # the other part; followers keep their insurance already
        part = (1 - share) * (privileged != KEEPS_BEIJING_SERVICES)
    expected = reform.params["beta_province_barrier"] * 0.8 * crosses * np.outer(from_target * part, targets)
    np.testing.assert_allclose(change, expected)
    sjz, tj = IDS.index("SJZ"), IDS.index("TJ")
    between = crosses[:, tj] & (origin == sjz) & (part > 0)
    assert between.any() and (change[between, tj] > 0).all()  # SJZ -> TJ eases
    assert (change[(origin == tj) & (part > 0), sjz] > 0).all()  # and TJ -> SJZ: mutual
    assert (change[~from_target] == 0).all()  # moves from elsewhere (BJ, outside) untouched
    assert (change[~crosses] == 0).all()  # moves within a province untouched
    assert (change[:, ~targets] == 0).all()
    assert (terms_now(reform)["barriers"][:, N] == terms_now(base)["barriers"][:, N]).all()


def test_recognition_and_portability_together_remove_the_whole_province_barrier(runs: Runner) -> None:
    model = runs(
        {
            "credential_recognition": {"nodes": ["jjj"], "values": {START: 1.0}},
            "insurance_portability": {"nodes": ["jjj"], "values": {START: 1.0}},
        }
    )
    barriers = terms_now(model)["barriers"][:, :N]
    origin, group, hukou, _, crosses = barrier_setup(model)
    local = hukou[:, None] == LAYOUT.province[None, :]
    titled = np.isin(group, [GROUPS.index(g) for g in LEVERS["credential_recognition"].default_groups])
    inside = (origin < N) & titled
    assert (barriers[inside][local[inside]] == 0).all()  # no hukou barrier, and no province one left
    # managers keep the credentials part; arrivals from outside the region keep all of it
    assert (barriers[(origin < N) & ~titled][(local & crosses)[(origin < N) & ~titled]] < 0).all()
    assert (barriers[origin == N][local[origin == N]] < 0).all()
    assert (terms_now(runs())["barriers"][:, :N][local & crosses] < 0).all()  # the baseline has one


def test_hukou_openness_lowers_the_hukou_barrier_of_target_nodes_for_target_groups(runs: Runner) -> None:
    base = runs()
    reform = runs({"hukou_openness": {"nodes": ["TJ"], "groups": ["research"], "values": {START: 0.75}}})
    change = terms_now(reform)["barriers"][:, :N] - terms_now(base)["barriers"][:, :N]
    _, group, hukou, privileged, _ = barrier_setup(reform)
    tj = IDS.index("TJ")
    eligible = (
        (group == GROUPS.index("research"))
        & (hukou != PROVINCES.index("tianjin"))
        & (privileged != KEEPS_BEIJING_SERVICES)  # followers and Tianjin's card holders pay none
        & (privileged != 1 + PROVINCES.index("tianjin"))
    )
    expected = np.zeros_like(change)
    expected[eligible, tj] = reform.params["hukou_barrier_tianjin"] * 0.75
    np.testing.assert_allclose(change, expected)
    assert eligible.any() and (change[eligible, tj] > 0).all()
    # other Tianjin nodes, other groups and local hukou holders are untouched
    assert (change[:, [IDS.index("BH"), IDS.index("WQ")]] == 0).all()


def points_applicants() -> Talents:
    """Rows by hand, one person each (weight 1): 20,000 eligible at Beijing's core node (in
    work, registered in Hebei or elsewhere in China, 7 to 9 years there) and, as many each,
    rows that miss one condition: at the node 6 years, out of work, Beijing's hukou already,
    foreign, or in Tianjin."""
    bj, tj = IDS.index("BJ"), IDS.index("TJ")
    hebei, elsewhere = PROVINCES.index("hebei"), HUKOU_ELSEWHERE
    kinds = [  # node, status, hukou, years at the node
        (bj, Status.EMPLOYED, hebei, 7),
        (bj, Status.EMPLOYED, elsewhere, 9),
        (bj, Status.EMPLOYED, elsewhere, 6),
        (bj, Status.UNEMPLOYED, elsewhere, 8),
        (bj, Status.EMPLOYED, PROVINCES.index("beijing"), 8),
        (bj, Status.EMPLOYED, HUKOU_ABROAD, 8),
        (tj, Status.EMPLOYED, elsewhere, 8),
    ]
    n = 10_000
    node, status, hukou, years = (np.repeat(np.array(column), n) for column in zip(*kinds))
    rows = Talents.new(
        node, np.zeros(len(node), int), np.full(len(node), 40), status, hukou, np.ones(len(node), int)
    )
    rows.years_at_node[:] = years
    rows.id[:] = np.arange(len(rows))
    return rows


@pytest.mark.parametrize("quota", [5_000, 50_000])
def test_points_settlement_admits_its_quota_from_the_eligible_only(quota: int) -> None:
    """E = 20,000 eligible: a quota of 5,000 admits each with chance 1/4 (on average 5,000, here
    within 4 standard deviations of the binomial), one of 50,000 admits them all; the rows that
    miss a condition keep their hukou."""
    rows = points_applicants()
    before = rows.hukou.copy()
    eligible = np.zeros(len(rows), bool)
    eligible[:20_000] = True

    found = demography.settle_by_points(
        rows, LAYOUT.province, quota, mask("beijing"), Draws(SEED).keyed(2018, Purpose.POINTS)
    )

    settled = rows.hukou != before
    assert found == 20_000
    assert not settled[~eligible].any()
    assert (rows.hukou[settled] == PROVINCES.index("beijing")).all()
    chance = min(1.0, quota / 20_000)
    spread = 4 * np.sqrt(20_000 * chance * (1 - chance))
    assert abs(settled.sum() - 20_000 * chance) <= spread


def hired_graduates() -> tuple[Talents, np.ndarray]:
    """Rows by hand: 30,000 eligible persons (this year's graduates of Beijing's core node, in
    work there or at another Beijing node, registered in Hebei, Tianjin or elsewhere in China;
    the Tianjin rows weigh 2 persons each) and rows that miss one condition: out of work,
    Beijing's hukou already, foreign, in work in Tianjin, studied in Tianjin, not a graduate
    this year. Returns the rows and the node each studied at (-1 for no graduate)."""
    bj, tz, tj = IDS.index("BJ"), IDS.index("TZ"), IDS.index("TJ")
    hebei, tianjin, elsewhere = PROVINCES.index("hebei"), PROVINCES.index("tianjin"), HUKOU_ELSEWHERE
    kinds = [  # node, status, hukou, studied at, persons a row
        (bj, Status.EMPLOYED, hebei, bj, 1),
        (tz, Status.EMPLOYED, elsewhere, bj, 1),
        (bj, Status.EMPLOYED, tianjin, bj, 2),
        (bj, Status.UNEMPLOYED, elsewhere, bj, 1),
        (bj, Status.EMPLOYED, PROVINCES.index("beijing"), bj, 1),
        (bj, Status.EMPLOYED, HUKOU_ABROAD, bj, 1),
        (tj, Status.EMPLOYED, elsewhere, bj, 1),
        (bj, Status.EMPLOYED, elsewhere, tj, 1),
        (bj, Status.EMPLOYED, elsewhere, -1, 1),
    ]
    n = 5_000
    node, status, hukou, studied, weight = (np.repeat(np.array(column), n) for column in zip(*kinds))
    rows = Talents.new(node, np.zeros(len(node), int), np.full(len(node), 23), status, hukou, weight)
    rows.id[:] = np.arange(len(rows))
    return rows, studied.astype(np.int8)


def settle_at_hiring(rows: Talents, studied_at: np.ndarray, quota: float, *targets: str) -> float:
    """E, the persons eligible (the rows' hukou updated in place)."""
    found, _ = demography.settle_graduates_at_hiring(
        rows,
        LAYOUT.province,
        quota,
        mask(*targets),
        studied_at,
        Draws(SEED).keyed(2015, Purpose.GRADUATE_HUKOU),
    )
    return found


@pytest.mark.parametrize("quota", [7_500, 60_000])
def test_settlement_at_hiring_admits_its_quota_from_the_years_graduates_only(quota: int) -> None:
    """E = 20,000 persons eligible in 15,000 rows: a quota of 7,500 admits each with chance
    1/4 (on average 7,500 persons, within 4 standard deviations of the binomial), one of
    60,000 admits them all; the rows that miss a condition keep their hukou."""
    rows, studied_at = hired_graduates()
    before = rows.hukou.copy()
    eligible = np.zeros(len(rows), bool)
    eligible[:15_000] = True

    found = settle_at_hiring(rows, studied_at, quota, "beijing")

    settled = rows.hukou != before
    assert found == 20_000
    assert not settled[~eligible].any()
    assert (rows.hukou[settled] == PROVINCES.index("beijing")).all()
    chance = min(1.0, quota / 20_000)
    persons = rows.weight[settled].sum()
    spread = 4 * np.sqrt(np.sum(rows.weight[eligible] ** 2) * chance * (1 - chance))
    assert abs(persons - 20_000 * chance) <= spread


def test_settlement_at_hiring_draws_by_id_and_stays_in_the_province_of_study() -> None:
    """The same ids settle whatever the rows' order; with Tianjin among the targets, its
    graduate hired in Beijing (a province it did not study in) is still not eligible."""
    rows, studied_at = hired_graduates()
    shuffled, order = hired_graduates()[0], np.random.default_rng(1).permutation(len(rows))
    shuffled_at = studied_at[order]
    for column in ("node", "status", "hukou", "weight", "id"):
        getattr(shuffled, column)[:] = getattr(rows, column)[order]
    before = rows.hukou.copy()

    found = settle_at_hiring(rows, studied_at, 7_500, "beijing", "tianjin")
    settle_at_hiring(shuffled, shuffled_at, 7_500, "beijing", "tianjin")

    assert found == 20_000  # the Tianjin graduates hired in Beijing are not among them
    settled_ids = np.sort(rows.id[rows.hukou != before])
    np.testing.assert_array_equal(np.sort(shuffled.id[shuffled.hukou != before[order]]), settled_ids)


def test_settlement_at_hiring_comes_after_the_graduates_are_counted_by_origin(runs: Runner) -> None:
    """A quota larger than Beijing's graduates from elsewhere settles every one in work in
    Beijing: the year's counts by origin stay as without it (a graduate keeps its origin in
    them), and Beijing's hukou holders at its nodes gain those graduates, no one else."""
    quota = {"graduate_hukou_quota": {"nodes": ["beijing"], "values": {START: 300_000}}}
    base, reform = runs(), runs(quota)
    for column in (
        "local_graduates_left",
        "local_graduates_employed",
        "local_graduates_employed_in_province",
    ):
        np.testing.assert_array_equal(node_column(reform, column, 2016), node_column(base, column, 2016))
    bj = mask("beijing")
    employed = node_column(base, "graduates_employed_in_province", 2016)
    from_elsewhere = employed - node_column(base, "local_graduates_employed_in_province", 2016)

    def beijings_hukou(model: Probe) -> float:
        t = model.talents
        holds = (t.hukou == PROVINCES.index("beijing")) & bj[t.node]
        return float(t.weight[holds].sum())

    gained = beijings_hukou(reform) - beijings_hukou(base)
    assert from_elsewhere[bj].sum() > 0
    # those employed in Beijing's province, from elsewhere: at Beijing's nodes, all settled
    assert gained == from_elsewhere[bj].sum()
    settled = node_column(reform, "graduates_settled", 2016)
    assert settled.sum() == gained
    assert (settled[~bj] == 0).all() and (node_column(base, "graduates_settled", 2016) == 0).all()


SERVICES = {"services_equalisation": {"nodes": ["HD", "XT"], "values": {START: 0.3}}}


def test_services_equalisation_raises_target_services_faster_and_leaves_others_equal(runs: Runner) -> None:
    base, reform = runs(end_year=2019), runs(SERVICES, end_year=2019)
    targets = mask("HD", "XT")
    lead = []
    for year in range(2016, 2020):
        with_lever, without = (
            node_column(reform, "services_index", year),
            node_column(base, "services_index", year),
        )
        np.testing.assert_array_equal(with_lever[~targets], without[~targets])
        assert (with_lever[targets] > without[targets]).all(), year
        assert (with_lever <= 1.0 + 1e-12).all()
        lead.append(with_lever[targets] - without[targets])
    assert (np.diff(lead, axis=0) > 0).all()  # the lead grows: convergence is faster each year


def test_services_equalisation_spends_per_resident_and_index_point_closed(runs: Runner) -> None:
    model = runs(SERVICES, end_year=2019)
    before = node_column(model, "services_index", 2015)
    # residents in phase 3: last year's talents and this year's other residents (before phase 4
    # turns some of them into talents)
    residents = node_column(model, "talents", 2015) + model.seen[2016]["nontalent"]
    closed = 0.3 * (before.max() - before) * mask("HD", "XT")
    np.testing.assert_allclose(
        spent(model, "services_equalisation", 2016),
        residents * closed * LEVERS["services_equalisation"].unit_cost_cny,
        rtol=1e-6,
    )


# === 四 projects: demand of firms =============================================================


def demand_change(runs: Runner, levers: dict[str, Any]) -> np.ndarray:
    """Each firm's planned demand with the lever minus without, first year, (firms, groups)."""
    return runs(levers).seen[2016]["demand_planned"] - runs().seen[2016]["demand_planned"]


FIRM_NODE = np.arange(N * len(SECTORS)) // len(SECTORS)
FIRM_SECTOR = np.arange(N * len(SECTORS)) % len(SECTORS)


@pytest.mark.parametrize(
    ("sectors", "funded"),
    [
        (None, LEVERS["entrepreneurship_fund"].default_sectors),
        (["green_energy", "port_marine"], ("green_energy", "port_marine")),
    ],
)
def test_entrepreneurship_fund_adds_value_over_cost_per_job_to_target_firms(
    runs: Runner, sectors: list[str] | None, funded: tuple[str, ...]
) -> None:
    setting: dict[str, Any] = {"nodes": ["SJZ", "TS"], "values": {START: 1e10}}
    if sectors:
        setting["sectors"] = sectors
    change = demand_change(runs, {"entrepreneurship_fund": setting}).sum(axis=1)
    model = runs({"entrepreneurship_fund": setting})
    targets = mask("SJZ", "TS")[FIRM_NODE] & sector_mask(*funded)[FIRM_SECTOR]
    assert (change[targets] >= 0).all() and (change[~targets] == 0).all()
    jobs = 1e10 / model.params["fund_cost_per_job"]
    for node in ("SJZ", "TS"):
        assert change[targets & (FIRM_NODE == IDS.index(node))].sum() == pytest.approx(jobs)
    np.testing.assert_allclose(spent(model, "entrepreneurship_fund", 2016), 1e10 * mask("SJZ", "TS"))


def test_entrepreneurship_fund_creates_its_jobs_even_where_target_firms_have_no_demand_yet(
    runs: Runner,
) -> None:
    levers = {"entrepreneurship_fund": {"nodes": ["BJ"], "sectors": ["port_marine"], "values": {START: 1e10}}}
    firm = IDS.index("BJ") * len(SECTORS) + SECTORS.index("port_marine")
    assert runs().seen[2016]["demand_planned"][firm].sum() == 0
    assert spent(runs(levers), "entrepreneurship_fund", 2016).sum() == 1e10
    jobs = 1e10 / runs().params["fund_cost_per_job"]
    assert demand_change(runs, levers)[firm].sum() == pytest.approx(jobs)


def test_youth_programme_adds_research_posts_at_target_frontier_firms(runs: Runner) -> None:
    levers = {"youth_programme": {"nodes": ["TJ", "XA"], "values": {START: 1000}}}
    change = demand_change(runs, levers)
    frontier = SECTORS.index("frontier_tech")
    expected = np.zeros_like(change)
    for node in ("TJ", "XA"):
        expected[IDS.index(node) * len(SECTORS) + frontier, GROUPS.index("research")] = 1000
    np.testing.assert_allclose(change, expected, atol=1e-6)
    np.testing.assert_allclose(
        spent(runs(levers), "youth_programme", 2016),
        1000 * LEVERS["youth_programme"].unit_cost_cny * mask("TJ", "XA"),
    )


def test_youth_posts_are_kept_while_the_value_holds_and_end_when_it_falls(runs: Runner) -> None:
    """Runs alike up to their 2017 value: the 2017 demand differs by the change in posts only."""

    def run(value_2017: float) -> Probe:
        return runs(
            {"youth_programme": {"nodes": ["TJ"], "values": {START: 1000, "2017-01-01": value_2017}}},
            end_year=2017,
        )

    held, ended, raised = run(1000), run(0), run(2500)
    firm = IDS.index("TJ") * len(SECTORS) + SECTORS.index("frontier_tech")
    for other, posts in ((ended, -1000), (raised, 1500)):
        np.testing.assert_array_equal(other.seen[2016]["demand_planned"], held.seen[2016]["demand_planned"])
        expected = np.zeros_like(held.seen[2017]["demand_planned"])
        expected[firm, GROUPS.index("research")] = posts
        np.testing.assert_allclose(
            other.seen[2017]["demand_planned"] - held.seen[2017]["demand_planned"], expected, atol=1e-6
        )

    def added(model: Probe, year: int) -> float:
        return sum(
            persons
            for f, group, persons in model.seen[year]["demand_added"]
            if f == firm and group == GROUPS.index("research")
        )

    for model in (held, ended, raised):
        assert added(model, 2016) == 1000
    assert added(held, 2017) == 0  # posts kept, not added again
    assert added(ended, 2017) == -1000  # posts end with the value
    assert added(raised, 2017) == 1500
    assert spent(ended, "youth_programme", 2017).sum() == 0
    assert spent(held, "youth_programme", 2017).sum() == 1000 * LEVERS["youth_programme"].unit_cost_cny
    assert (ended.youth_posts == 0).all()


@pytest.mark.parametrize("name", ZONE_PROJECTS)
def test_zone_project_raises_demand_growth_of_its_default_firms_only(runs: Runner, name: str) -> None:
    lever = LEVERS[name]
    base, reform = runs(), runs({name: {"values": {START: 0.3}}})
    before, after = (
        base.seen[2016]["demand_planned"].sum(axis=1),
        reform.seen[2016]["demand_planned"].sum(axis=1),
    )
    targets = mask(*lever.default_nodes)[FIRM_NODE] & sector_mask(*lever.default_sectors)[FIRM_SECTOR]
    assert targets.any()
    np.testing.assert_array_equal(after[~targets], before[~targets])
    grown = targets & (before > 0)
    assert grown.any()
    p = base.params
    for firm in np.flatnonzero(grown):
        growth = p[f"growth_{SECTORS[FIRM_SECTOR[firm]]}"] - p["productivity_growth"] + p["skill_upgrading"]
        assert after[firm] / before[firm] == pytest.approx((1 + growth + 0.3) / (1 + growth)), firm


def test_zone_project_targets_can_be_narrowed(runs: Runner) -> None:
    base = runs()
    reform = runs(
        {"winter_olympics_project": {"nodes": ["ZJK"], "sectors": ["green_energy"], "values": {START: 0.3}}}
    )
    change = reform.seen[2016]["demand_planned"].sum(axis=1) - base.seen[2016]["demand_planned"].sum(axis=1)
    firm = IDS.index("ZJK") * len(SECTORS) + SECTORS.index("green_energy")
    assert change[firm] > 0
    assert (np.delete(change, firm) == 0).all()


ALLIANCE = {"high_skill_alliance": {"nodes": ["TS", "HD"], "values": {START: 30_000}}}


def test_high_skill_alliance_adds_skilled_entries_at_its_targets(runs: Runner) -> None:
    base, reform = runs(), runs(ALLIANCE)
    targets = mask("TS", "HD")
    # trainees have no degree: counted as skilled workers, apart from the talents
    trained = node_column(reform, "skilled_trainees", 2016)
    assert 40_000 <= trained.sum() <= 60_000  # most stay their first year; some leave, like other newcomers
    assert trained[targets].sum() > 0.5 * trained.sum()  # newcomers looking for work move often
    assert (node_column(base, "skilled_trainees", 2016) == 0).all()
    np.testing.assert_array_equal(node_column(reform, "entries", 2016), node_column(base, "entries", 2016))
    assert (
        stock(reform, 2016, group="skilled")[targets] < stock(base, 2016, group="skilled")[targets] + 30_000
    ).all()
    residents = node_column(reform, "population", 2016) - node_column(base, "population", 2016)
    assert residents.sum() > 0  # they count among residents (some displace skilled talents)
    np.testing.assert_allclose(
        spent(reform, "high_skill_alliance", 2016),
        30_000 * LEVERS["high_skill_alliance"].unit_cost_cny * targets,
    )


def test_matching_efficiency_raises_hires_in_its_targets_only(runs: Runner) -> None:
    base = runs()
    reform = runs({"matching_efficiency": {"nodes": ["SJZ", "BD", "TJ"], "values": {START: 0.2}}})
    targets = mask("SJZ", "BD", "TJ")
    hired = {}
    for name, model in (("base", base), ("reform", reform)):
        seen = model.seen[2016]["hires"]
        hired[name] = np.bincount(
            seen["node"], weights=np.where(seen["hired"], seen["weight"], 0), minlength=N
        )
    assert (hired["reform"][targets] >= hired["base"][targets]).all()
    assert hired["reform"][targets].sum() > hired["base"][targets].sum()
    np.testing.assert_array_equal(hired["reform"][~targets], hired["base"][~targets])
    employed = {
        name: stock(model, 2016, status="employed") for name, model in (("base", base), ("reform", reform))
    }
    assert employed["reform"][targets].sum() > employed["base"][targets].sum()
    # elsewhere only the year's later draws differ (the extra hires took more of the stream
    # choosing their firms): a row at most, either way
    assert (np.abs(employed["reform"][~targets] - employed["base"][~targets]) <= SCALE).all()


# === 四(十二) talent cards ====================================================================


def cards_issued(model: Probe, year: int = 2016) -> dict[str, np.ndarray]:
    return model.seen[year]["cards"]  # type: ignore[no-any-return]


def test_talent_cards_go_to_high_end_talents_first_then_to_the_target_groups(runs: Runner) -> None:
    groups = LEVERS["talent_card"].default_groups
    model = runs({"talent_card": {"nodes": ["TJ", "BH"], "values": {START: 200_000}}})
    seen = cards_issued(model)
    targets = mask("TJ", "BH")
    holder, weight = seen["card"] >= 0, seen["weight"]
    eligible_high_end = seen["high_end"] & seen["in_work"] & targets[seen["node"]]
    assert eligible_high_end.sum() > 0
    assert weight[eligible_high_end].sum() < 200_000
    assert holder[eligible_high_end].all()  # every eligible high-end talent first
    assert abs(weight[holder].sum() - 200_000) <= SCALE  # within one row of the value
    assert targets[seen["node"][holder]].all()  # holders only in the targets
    assert seen["in_work"][holder].all()
    assert (group_mask(*groups)[seen["group"][holder]] | seen["high_end"][holder]).all()
    assert (holder & ~seen["high_end"]).any()
    # each card is issued by the province where its holder lives
    np.testing.assert_array_equal(seen["card"][holder], LAYOUT.province[seen["node"][holder]])


def test_talent_cards_fewer_than_high_end_talents_go_to_high_end_talents_only(runs: Runner) -> None:
    model = runs({"talent_card": {"nodes": ["BJ"], "values": {START: 50}}})
    seen = cards_issued(model)
    holder = seen["card"] >= 0
    assert (seen["high_end"] & seen["in_work"] & (seen["node"] == IDS.index("BJ"))).sum() > 50
    assert seen["weight"][holder].sum() == 50
    assert seen["high_end"][holder].all()


def test_a_card_waives_the_hukou_barrier_in_its_issuing_province_only(runs: Runner) -> None:
    model = runs({"talent_card": {"nodes": ["TJ"], "values": {START: 20_000}}})
    terms = terms_now(model)
    origin, group, high_end, hukou, retired, graduate, privileged = model.grid.attributes()
    tianjin = PROVINCES.index("tianjin")
    holder, plain = privileged == 1 + tianjin, privileged == NO_PRIVILEGE
    # pair every holder cell with the same cell without the card
    same = np.ravel_multi_index(
        (
            origin[holder],
            group[holder],
            high_end[holder],
            hukou[holder],
            retired[holder],
            graduate[holder],
            np.full(holder.sum(), NO_PRIVILEGE),
        ),
        model.grid.shape,
    )
    assert plain[same].all()
    in_tianjin = LAYOUT.province == tianjin
    gain = terms["barriers"][holder, :N] - terms["barriers"][same, :N]
    barrier = model.params["hukou_barrier_tianjin"]
    expected = barrier * (hukou[holder] != tianjin)[:, None] * in_tianjin[None, :]
    np.testing.assert_allclose(gain, expected)  # the hukou barrier in Tianjin's nodes, nothing else
    assert (gain[:, in_tianjin] > 0).any()
    # no services floor: a card is access to the issuing province's services, counted once
    np.testing.assert_array_equal(terms["services"][holder], terms["services"][same])


def test_talent_card_spending_is_holders_times_unit_cost(runs: Runner) -> None:
    model = runs({"talent_card": {"nodes": ["TJ", "BH"], "values": {START: 20_000}}}, end_year=2017)
    for year in (2016, 2017):
        holders = node_column(model, "card_holders", year)
        assert holders.sum() > 0
        np.testing.assert_allclose(
            spent(model, "talent_card", year), holders * LEVERS["talent_card"].unit_cost_cny
        )
    assert node_column(model, "card_holders", 2017).sum() > node_column(model, "card_holders", 2016).sum()
    assert node_column(runs(), "card_holders", 2016).sum() == 0


# === 四(十三) talent housing ==================================================================

HOUSING = {"talent_housing": {"nodes": ["XA", "LF"], "values": {START: 6000}}}


def test_talent_housing_houses_newcomers_of_the_target_groups_in_the_targets_only(runs: Runner) -> None:
    model = runs(HOUSING, end_year=2019)
    targets = mask("XA", "LF")
    groups = group_mask(*LEVERS["talent_housing"].default_groups)
    for year in range(2016, 2020):
        tenants, units = (
            model.seen[year]["tenants"]["by_node"],
            node_column(model, "talent_housing_units", year),
        )
        np.testing.assert_array_equal(units, 6000 * (year - 2015) * targets)
        assert (tenants[~targets] == 0).all(), year
        # rows are whole: a node's units are filled to within half a row (programmes.fill)
        assert (tenants <= units + SCALE / 2).all(), year
        assert (model.seen[year]["tenants"]["by_group"][~groups] == 0).all(), year
    # whole rows of 3,000 persons: a year may see no eligible newcomer, the programme as a whole does
    assert sum(model.seen[year]["tenants"]["by_node"].sum() for year in range(2016, 2020)) > 0
    t = model.talents
    assert (t.status[t.in_talent_housing] != Status.STUDENT).all()


def test_talent_housing_adds_to_housing_and_lowers_only_the_targets_first_year_prices(runs: Runner) -> None:
    # prices that respond to crowding, whatever the fit says (it left price_elasticity near 0)
    crowding = {"price_elasticity": 1.0}
    base, reform = runs(parameters=crowding), runs(HOUSING, parameters=crowding)
    targets = mask("XA", "LF")
    supply, supply_base = reform.seen[2016]["housing_supply"], base.seen[2016]["housing_supply"]
    assert (supply[targets] > supply_base[targets]).all()
    assert (supply[targets] - supply_base[targets] <= 6000 * RESIDENTS_PER_UNIT + 1e-6).all()
    np.testing.assert_array_equal(supply[~targets], supply_base[~targets])
    price, price_base = node_column(reform, "price_cny_m2", 2016), node_column(base, "price_cny_m2", 2016)
    assert (price[targets] < price_base[targets]).all()
    np.testing.assert_array_equal(price[~targets], price_base[~targets])
    hd = IDS.index("HD")
    assert price[hd] == price_base[hd]


def test_talent_housing_relieves_housing_cost_of_eligible_newcomers_only(runs: Runner) -> None:
    model = runs(HOUSING, end_year=2019)  # after a year of allotment newcomers expect a flat
    relief = model.conditions().levers.housing_relief
    assert (relief[:, ~mask("XA", "LF")] == 0).all() and relief.max() > 0
    housing = terms_now(model)["housing"][:, :N]
    without = terms_now(model, housing_relief=np.zeros_like(relief))["housing"][:, :N]
    origin, group = model.grid.attributes()[:2]
    newcomer = origin[:, None] != np.arange(N)[None, :]
    relieved = newcomer & (relief[group] > 0)
    assert relieved.any()
    assert (housing[relieved] > without[relieved]).all()  # a cost, so less negative
    np.testing.assert_array_equal(housing[~relieved], without[~relieved])


def test_talent_housing_spends_the_discount_on_its_tenants_housing_cost(runs: Runner) -> None:
    model = runs(HOUSING, end_year=2019)
    p = model.params
    for year in range(2016, 2020):
        tenants = model.seen[year]["tenants"]["by_node"]
        cost = node_column(model, "price_cny_m2", year) * p["floor_area_m2"] * p["user_cost_rate"]
        np.testing.assert_allclose(
            spent(model, "talent_housing", year), tenants * p["talent_housing_discount"] * cost
        )


# === dates ====================================================================================

# A strong setting of every lever; ``values`` are filled in by the tests.
STRONG: dict[str, dict[str, Any]] = {
    "graduate_subsidy": {"nodes": ["hebei"], "value": 500_000},
    "settlement_subsidy": {"nodes": ["XA"], "value": 2_000_000},
    "team_service": {"nodes": ["ZJK"], "value": 3000},
    "flexible_service": {"nodes": ["SJZ"], "value": 0.1},
    "poverty_support": {"nodes": ["CD"], "value": 3000},
    "function_relocation": {"nodes": ["LF"], "value": 500_000},
    "service_following": {"value": 1.0},
    "overseas_recruitment": {"nodes": ["TJ"], "value": 2000},
    "international_community": {"nodes": ["TJ", "XA"], "value": 5},
    "credential_recognition": {"nodes": ["jjj"], "value": 1.0},
    "insurance_portability": {"nodes": ["jjj"], "value": 1.0},
    "hukou_openness": {"nodes": ["BJ"], "value": 1.0},
    "services_equalisation": {"nodes": ["HD"], "value": 0.3},
    "entrepreneurship_fund": {"nodes": ["SJZ"], "value": 1e10},
    "youth_programme": {"nodes": ["TJ"], "value": 1000},
    "high_skill_alliance": {"nodes": ["TS"], "value": 30_000},
    "winter_olympics_project": {"value": 0.3},
    "coastal_port_project": {"value": 0.3},
    "airport_economy_project": {"value": 0.3},
    "matching_efficiency": {"nodes": ["SJZ", "BD", "TJ"], "value": 0.2},
    "talent_card": {"nodes": ["TJ"], "value": 20_000},
    "talent_housing": {"nodes": ["XA", "LF"], "value": 6000},
    "university_places": {"nodes": ["XA"], "value": 20_000},
    "population_ceiling": {"nodes": ["beijing"], "value": 15_000_000},
    "hukou_points_quota": {"nodes": ["beijing"], "value": 300_000},
    "graduate_hukou_quota": {"nodes": ["beijing"], "value": 300_000},
    "commute_time_cut": {"nodes": ["BJ", "TZ", "LF"], "value": 0.8},
    "purchase_limits": {"nodes": ["beijing"], "value": 0.3},
}
# service following acts on relocated staff only: it is tested on top of a relocation
CONTEXT = {"service_following": {"function_relocation": {"nodes": ["LF"], "values": {START: 500_000}}}}


def strong(name: str, date: str) -> dict[str, Any]:
    setting = {key: value for key, value in STRONG[name].items() if key != "value"}
    return {name: {**setting, "values": {date: STRONG[name]["value"]}}}


def test_every_lever_has_a_strong_setting() -> None:
    assert set(STRONG) == set(LEVERS)


def year_rows(table: pd.DataFrame, keep: pd.Series) -> pd.DataFrame:
    return table[keep].reset_index(drop=True)


@pytest.mark.parametrize("name", sorted(LEVERS))
def test_a_lever_dated_2018_does_nothing_before_and_acts_in_2018(runs: Runner, name: str) -> None:
    context = CONTEXT.get(name, {})
    base, reform = (
        runs(context, end_year=2018),
        runs({**context, **strong(name, "2018-01-01")}, end_year=2018),
    )
    changed_2018 = []
    for table in ("stocks", "nodes", "flows", "spending"):
        before, after = tables(base)[table], tables(reform)[table]
        early, early_base = year_rows(after, after["year"] <= 2017), year_rows(before, before["year"] <= 2017)
        if len(early) or len(early_base):  # an empty table has no column types to compare
            pd.testing.assert_frame_equal(early, early_base, obj=f"{table} up to 2017")
        changed_2018.append(
            not year_rows(after, after["year"] == 2018).equals(year_rows(before, before["year"] == 2018))
        )
    assert any(changed_2018), f"{name} changed nothing in 2018"


def test_a_lever_in_force_from_the_base_year_acts_in_the_first_simulated_year(runs: Runner) -> None:
    base = runs()
    from_base_year = runs({"settlement_subsidy": {"nodes": ["SJZ"], "values": {"2015-01-01": 2_000_000}}})
    from_first_year = runs({"settlement_subsidy": {"nodes": ["SJZ"], "values": {START: 2_000_000}}})
    sjz = IDS.index("SJZ")
    assert node_column(from_first_year, "talents", 2016)[sjz] > node_column(base, "talents", 2016)[sjz]
    assert node_column(from_base_year, "talents", 2016)[sjz] > node_column(base, "talents", 2016)[sjz]


def test_a_mid_year_start_counts_for_its_share_of_the_year(runs: Runner) -> None:
    model = runs({"team_service": {"nodes": ["ZJK"], "values": {"2016-10-01": 3660}}}, end_year=2017)
    share = 92 / 366
    cost = LEVERS["team_service"].unit_cost_cny
    assert spent(model, "team_service", 2016).sum() == pytest.approx(3660 * share * cost)
    assert node_column(model, "fte_served", 2016).sum() == pytest.approx(3660 * share)
    assert spent(model, "team_service", 2017).sum() == pytest.approx(3660 * cost)


def test_a_lever_past_its_last_date_keeps_its_last_value_and_says_so_once(runs: Runner) -> None:
    model = runs(
        {"team_service": {"nodes": ["ZJK"], "values": {START: 1000, "2017-01-01": 3000}}}, end_year=2019
    )
    assert node_column(model, "fte_served", 2016).sum() == pytest.approx(1000)
    for year in (2017, 2018, 2019):
        assert node_column(model, "fte_served", year).sum() == pytest.approx(3000), year
        assert spent(model, "team_service", year).sum() == pytest.approx(
            3000 * LEVERS["team_service"].unit_cost_cny
        )
    notes = [note for note in model.notes if "team_service" in note]
    assert len(notes) == 1
    assert "2017-01-01" in notes[0] and "held at 3000" in notes[0] and "from 2018 on" in notes[0]


def test_no_note_while_a_lever_is_within_its_dates(runs: Runner) -> None:
    assert runs({"team_service": {"nodes": ["ZJK"], "values": {START: 1000}}}).notes == []


# === bad settings =============================================================================


def refusal(levers: dict[str, Any]) -> str:
    with pytest.raises(ScenarioError) as caught:
        validate({"name": "t", "levers": levers}, {}, "test")
    return str(caught.value)


@pytest.mark.parametrize(
    ("levers", "expected"),
    [
        (
            {"graduate_subsidy": {"nodes": ["hebei", "XAA"], "values": {START: 1}}},
            ["levers.graduate_subsidy.nodes", "unknown place 'XAA'", "allowed:", "jjj", "XA", "zone:coastal"],
        ),
        (
            {"function_relocation": {"origins": ["Peking"], "values": {START: 1}}},
            ["levers.function_relocation.origins", "unknown place 'Peking'", "allowed:", "BJ"],
        ),
        (
            {"graduate_subsidy": {"values": {START: 600_000}}},
            [
                "levers.graduate_subsidy.values.2016-01-01",
                "600000",
                "allowed: 0 to 500000 (CNY per graduate)",
            ],
        ),
        (
            {"flexible_service": {"values": {START: -0.1}}},
            [
                "levers.flexible_service.values.2016-01-01",
                "-0.1",
                "allowed: 0 to 0.2 (share of eligible talents)",
            ],
        ),
        (
            {"hukou_openness": {"values": {START: 1.5}}},
            ["levers.hukou_openness.values.2016-01-01", "allowed: 0 to 1 (share of barrier removed)"],
        ),
        ({"graduate_subsidy": {"values": {}}}, ["levers.graduate_subsidy.values", "at least 1 item"]),
        (
            {"talent_bonus": {"values": {START: 1}}},
            ["levers.talent_bonus", "unknown key", "allowed:", "graduate_subsidy", "talent_housing"],
        ),
        (
            {"graduate_subsidy": {"sectors": ["frontier_tech"], "values": {START: 1}}},
            ["levers.graduate_subsidy.sectors", "unknown key", "allowed: values, source, nodes, groups"],
        ),
        (
            {"talent_card": {"origins": ["BJ"], "values": {START: 1}}},
            ["levers.talent_card.origins", "unknown key", "allowed: values, source, nodes, groups"],
        ),
        (
            {"team_service": {"groups": ["research"], "values": {START: 1}}},
            ["levers.team_service.groups", "unknown key", "allowed: values, source, nodes"],
        ),
        (
            {"service_following": {"nodes": ["XA"], "values": {START: 1}}},
            ["levers.service_following.nodes", "unknown key", "allowed: values, source"],
        ),
        (
            {"entrepreneurship_fund": {"sectors": ["biotech"], "values": {START: 1}}},
            [
                "levers.entrepreneurship_fund.sectors.0",
                "'biotech'",
                "'frontier_tech'",
                "'traditional_industry'",
            ],
        ),
        (
            {"talent_card": {"groups": ["artists"], "values": {START: 1}}},
            ["levers.talent_card.groups.0", "'artists'", "'research'", "'skilled'"],
        ),
    ],
    ids=[
        "unknown-node",
        "unknown-origin",
        "above-bound",
        "below-bound",
        "share-above-1",
        "no-values",
        "unknown-lever",
        "sectors-not-used",
        "origins-not-used",
        "groups-not-used",
        "no-targets",
        "unknown-sector",
        "unknown-group",
    ],
)
def test_bad_lever_settings_are_refused_with_key_path_and_what_is_allowed(
    levers: dict[str, Any], expected: list[str]
) -> None:
    message = refusal(levers)
    assert message.startswith("test: invalid scenario")
    for fragment in expected:
        assert fragment in message, (fragment, message)


def test_every_lever_refuses_values_outside_its_bounds() -> None:
    for name, lever in LEVERS.items():
        for value in (lever.lower - 1, lever.upper * 1.01 + 1):
            message = refusal({name: {"values": {START: value}}})
            assert f"levers.{name}.values.{START}" in message, name
            assert f"allowed: {lever.lower:g} to {lever.upper:g} ({lever.unit})" in message, name
        assert validate({"name": "t", "levers": {name: {"values": {START: lever.upper}}}}, {}, "test")


def test_target_fields_follow_each_levers_declared_targets() -> None:
    for name, lever in LEVERS.items():
        for kind in ("nodes", "groups", "sectors", "origins"):
            value = {
                "nodes": ["XA"],
                "groups": ["research"],
                "sectors": ["frontier_tech"],
                "origins": ["BJ"],
            }[kind]
            data = {"name": "t", "levers": {name: {kind: value, "values": {START: lever.lower}}}}
            if kind in lever.targets:
                assert validate(data, {}, "test"), (name, kind)
            else:
                with pytest.raises(ScenarioError, match=rf"levers\.{name}\.{kind}: .*unknown key"):
                    validate(data, {}, "test")


# === the plan's package =======================================================================

PLAN = load_scenario(SCENARIOS / "plan-2017.yaml")
PLAN_LEVERS = sorted(
    set(PLAN.lever_settings()) - set(load_scenario(SCENARIOS / "baseline.yaml").lever_settings())
)
SPENDS_NONE = sorted(name for name in PLAN_LEVERS if LEVERS[name].spending.startswith("none counted"))
SPENDS = sorted(set(PLAN_LEVERS) - set(SPENDS_NONE))
PLAN_RUN = {"scale": 2000, "end_year": 2020}
# spending tied to where the programme acts (cards, kept services follow their holders)
SPENDS_AT_TARGETS = [
    "graduate_subsidy",
    "settlement_subsidy",
    "team_service",
    "flexible_service",
    "poverty_support",
    "overseas_recruitment",
    "international_community",
    "services_equalisation",
    "entrepreneurship_fund",
    "youth_programme",
    "high_skill_alliance",
    "talent_housing",
]


def run_plan(without: str | None = None) -> TalentModel:
    data = PLAN.with_overrides(PLAN_RUN).as_data()
    if without:
        del data["levers"][without]
    model = TalentModel(validate(data, {}, "test"), seed=SEED)
    while model.running:
        model.step()
    return model


@pytest.fixture(scope="module")
def plan_run() -> TalentModel:
    return run_plan()


def test_the_plan_sets_every_lever_of_the_plan() -> None:
    # the baseline's ceiling, graduates' and points-based settlement and purchase limits and the
    # transport plan's commute are not
    # measures of the talent plan
    not_the_plans = {
        "population_ceiling",
        "hukou_points_quota",
        "graduate_hukou_quota",
        "purchase_limits",
        "commute_time_cut",
    }
    assert set(PLAN_LEVERS) == set(LEVERS) - not_the_plans
    assert SPENDS_NONE  # some are documented as spending none


@pytest.mark.parametrize("name", SPENDS)
def test_plan_levers_with_declared_spending_spend(plan_run: TalentModel, name: str) -> None:
    spending = plan_run.tables()["spending"]
    assert spending[spending["lever"] == name]["cny"].sum() > 0


@pytest.mark.parametrize("name", SPENDS_AT_TARGETS)
def test_plan_spending_of_place_bound_programmes_is_in_their_targets(
    plan_run: TalentModel, name: str
) -> None:
    spending = plan_run.tables()["spending"]
    nodes = set(spending[spending["lever"] == name]["node"])
    targets = {node for node, hit in zip(IDS, plan_run.schedules[name].nodes) if hit}
    assert nodes <= targets


# The plan's +0.05 matching efficiency in 通武廊 adds less than half a row of hires at this
# scale, so it cannot show in the tables; test_matching_efficiency_raises_hires_in_its_targets_only
# shows it acting.
BELOW_A_ROW = ("matching_efficiency",)
# plan-2017's university places start in 2022, after this run; tests/test_pipeline.py shows them acting
AFTER_THE_RUN = ("university_places",)


@pytest.mark.parametrize("name", [name for name in SPENDS_NONE if name not in BELOW_A_ROW + AFTER_THE_RUN])
def test_plan_levers_documented_as_spending_none_spend_none_but_act(plan_run: TalentModel, name: str) -> None:
    spending = plan_run.tables()["spending"]
    assert not (spending["lever"] == name).any()
    with_lever, without = plan_run.tables(), run_plan(without=name).tables()
    assert any(not with_lever[table].equals(without[table]) for table in ("stocks", "nodes", "flows")), name


def test_plan_run_conserves_people_and_notes_each_held_lever_once(plan_run: TalentModel) -> None:
    nodes = plan_run.tables()["nodes"].set_index(["node", "year"]).sort_index()
    previous = nodes.groupby(level="node")["talents"].shift(1)
    later = previous.notna()
    expected = (previous + nodes["entries"] - nodes["exits"] + nodes["inflow"] - nodes["outflow"])[later]
    np.testing.assert_array_equal(nodes["talents"][later].to_numpy(), expected.to_numpy())
    held = [name for name in PLAN_LEVERS if max(PLAN.lever_settings()[name].values).year < 2020]
    for name in held:
        assert sum(f"lever {name}:" in note for note in plan_run.notes) == 1, name
    for name in set(PLAN_LEVERS) - set(held):
        assert not any(f"lever {name}:" in note for note in plan_run.notes), name


def test_cli_lists_every_lever_with_its_section_and_unit(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["levers"]) == 0
    out = capsys.readouterr().out
    for name, lever in LEVERS.items():
        line = next((line for line in out.splitlines() if line.startswith(name + " ")), None)
        assert line is not None, name
        assert f"plan {lever.section}" in line, name
        assert lever.unit in line, name
    assert len([line for line in out.splitlines() if line.split(" ", 1)[0] in LEVERS]) == len(LEVERS)


def test_purchase_limits_lower_the_published_price_and_nothing_else(runs: Runner) -> None:
    """P_published = P (1 - w) at the target nodes; the market price P, and so every choice,
    is that of the run without limits (model/cities.py)."""
    base = runs(end_year=2017)
    limited = runs({"purchase_limits": {"nodes": ["beijing"], "values": {START: 0.2}}}, end_year=2017)
    beijing = np.isin(IDS, ["BJ", "TZ"])
    for year in (2016, 2017):
        market = node_column(base, "price_cny_m2", year)
        np.testing.assert_allclose(node_column(limited, "market_price_cny_m2", year), market)
        published = node_column(limited, "price_cny_m2", year)
        np.testing.assert_allclose(published, np.where(beijing, 0.8 * market, market))
    for table in ("stocks", "flows"):
        pd.testing.assert_frame_equal(tables(limited)[table], tables(base)[table])
    np.testing.assert_array_equal(node_column(limited, "talents", 2017), node_column(base, "talents", 2017))


def test_purchase_limits_in_force_in_the_base_year_start_the_market_above_the_published_price(
    runs: Runner,
) -> None:
    """The base year's published price is the observed one; the market's is that / (1 - w)."""
    base = runs()
    limited = runs({"purchase_limits": {"nodes": ["BJ"], "values": {"2011-01-01": 0.25}}})
    bj = IDS.index("BJ")
    observed = node_column(base, "price_cny_m2", 2015)[bj]
    assert node_column(limited, "price_cny_m2", 2015)[bj] == pytest.approx(observed)
    assert node_column(limited, "market_price_cny_m2", 2015)[bj] == pytest.approx(observed / 0.75)
    # a higher cost of living in BJ than the run without limits, from the start
    assert node_column(limited, "market_price_cny_m2", 2016)[bj] > node_column(base, "price_cny_m2", 2016)[bj]


def test_a_ceiling_on_residents_without_a_degree_alone_holds_the_residents_at_the_year_end() -> None:
    """With ``ceiling_talent_weight`` 0, residents of the target nodes end the year at the
    ceiling: their non-talent residents shrink by one factor, talents and the other nodes are
    untouched, and nobody is turned away the next year."""
    ceiling = 21_000_000  # below Beijing's 2015 base (21.88 million)
    capped = TalentModel(
        scenario(
            {"population_ceiling": {"nodes": ["beijing"], "values": {START: ceiling}}},
            parameters={"ceiling_talent_weight": 0.0},
        ),
        SEED,
    )
    free = TalentModel(scenario({}), SEED)
    for model in (capped, free):
        model.step()
    beijing = mask("beijing")
    residents = capped._residents_by_node() + capped._by_city("nontalent")
    assert residents[beijing].sum() == pytest.approx(ceiling)
    np.testing.assert_array_equal(capped._residents_by_node(), free._residents_by_node())
    factor = capped._by_city("nontalent") / free._by_city("nontalent")
    assert factor[beijing] == pytest.approx(np.full(beijing.sum(), factor[beijing][0]))
    assert factor[beijing][0] < 1
    np.testing.assert_array_equal(factor[~beijing], 1.0)
    nodes = capped.tables()["nodes"]
    assert nodes.loc[nodes["node"].isin(["BJ", "TZ"]) & (nodes["year"] == 2016), "population"].sum() == (
        pytest.approx(ceiling, abs=2)
    )
    assert capped._ceiling_refusals == 0


def test_population_ceiling_bears_on_talents_and_others_alike() -> None:
    """By default the excess over the ceiling is shared in proportion: the residents without a
    degree shrink at once by the factor ceiling / residents, and as many talents as make up the
    talents' part are turned away from the target nodes the next year, and go elsewhere."""
    ceiling = 21_800_000  # a little below Beijing's residents at the end of 2016 (21.88 million)
    levers = {"population_ceiling": {"nodes": ["beijing"], "values": {START: ceiling}}}
    capped = TalentModel(scenario(levers, end_year=2017), SEED)
    alone = TalentModel(scenario(levers, end_year=2017, parameters={"ceiling_talent_weight": 0.0}), SEED)
    free = TalentModel(scenario({}, end_year=2017), SEED)
    for model in (capped, alone, free):
        model.step()
    beijing = mask("beijing")
    talents = free._residents_by_node()[beijing].sum()
    residents = talents + free._by_city("nontalent")[beijing].sum()
    assert residents > ceiling
    factor = capped._by_city("nontalent") / free._by_city("nontalent")
    np.testing.assert_allclose(factor[beijing], ceiling / residents)
    np.testing.assert_array_equal(factor[~beijing], 1.0)
    turn_away = (residents - ceiling) * talents / residents
    assert capped._ceiling_refusals == pytest.approx(turn_away)

    for model in (capped, alone):
        model.step()
    in_2017 = {
        name: model.tables()["nodes"].query("year == 2017").set_index("node").loc[IDS]
        for name, model in (("capped", capped), ("alone", alone))
    }
    refused = in_2017["capped"]["refused"].to_numpy()
    assert refused[beijing].sum() == pytest.approx(turn_away)  # fewer than would arrive
    # the drivers count it: Beijing loses those turned away (expected), the others gain those of
    # them who do not leave the region
    ceiling_driver = capped.tables()["drivers"].query("term == 'ceiling'").set_index("province")["persons"]
    assert ceiling_driver["beijing"] == pytest.approx(-turn_away)
    assert 0 < ceiling_driver[["tianjin", "hebei"]].sum() <= turn_away
    np.testing.assert_array_equal(refused[~beijing], 0.0)
    assert in_2017["alone"]["refused"].sum() == 0
    # the talents turned away settle elsewhere: Beijing's nodes gain fewer, the others more
    inflow = {name: nodes["inflow"].to_numpy() for name, nodes in in_2017.items()}
    assert inflow["capped"][beijing].sum() < inflow["alone"][beijing].sum() - 0.5 * turn_away
    assert inflow["capped"][~beijing].sum() > inflow["alone"][~beijing].sum()
