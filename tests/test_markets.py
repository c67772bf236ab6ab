"""Prices and wages follow their rules on small cases (model/cities.py, model/firms.py,
ASSUMPTIONS H1), and their inputs are the published numbers up to 2015 (A6, A7)."""

from __future__ import annotations

from types import SimpleNamespace

import mesa
import numpy as np
import pytest

from model.cities import City
from model.firms import GROUP_WAGE, Firm, talent_wages
from model.inputs import base_year, lending_rate, read_observations
from model.parameters import resolve_parameters
from model.simulation import TalentModel


@pytest.fixture()
def params() -> dict[str, float]:
    return dict(resolve_parameters({}))


def city(supply_share: float = 1.0) -> City:
    return City(
        mesa.Model(),
        0,
        10_000.0,
        1_000.0,
        0.5,
        800.0,
        nontalent_trend=0.0,
        population_trend=0.0,
        slowdown=0.0,
        to_talents=0.0,
        supply_share=supply_share,
    )


def test_price_follows_wage_growth_when_housing_matches_residents(params: dict[str, float]) -> None:
    params |= {"price_income_passthrough": 0.8, "price_elasticity": 1.0}
    c = city()
    c.update_housing(residents=1_000.0, wage_growth=0.10, rate_fall=0.0, params=params)
    assert c.price_cny_m2 == pytest.approx(10_000.0 * (1 + 0.8 * 0.10))
    assert c.housing_supply == pytest.approx(1_000.0)


def test_price_rises_with_what_construction_leaves_of_the_shortage(params: dict[str, float]) -> None:
    params |= {
        "price_income_passthrough": 0.0,
        "price_elasticity": 2.0,
        "housing_supply_response": 0.5,
        "price_change_bound": 0.5,
    }
    tight, loose = city(supply_share=0.2), city()
    for c in (tight, loose):
        c.update_housing(residents=1_100.0, wage_growth=0.0, rate_fall=0.0, params=params)
    # H' = 1000 + s * 100; P' = P * (1 + 2 * (1100 / H' - 1))
    assert loose.housing_supply == pytest.approx(1_050.0)
    assert tight.housing_supply == pytest.approx(1_010.0)
    assert loose.price_cny_m2 == pytest.approx(10_000.0 * (1 + 2.0 * (1_100 / 1_050 - 1)))
    assert tight.price_cny_m2 == pytest.approx(10_000.0 * (1 + 2.0 * (1_100 / 1_010 - 1)))
    assert tight.price_cny_m2 > loose.price_cny_m2  # Beijing's tighter supply


def test_price_change_is_bounded(params: dict[str, float]) -> None:
    params |= {"price_income_passthrough": 1.0, "price_change_bound": 0.15}
    c = city()
    c.update_housing(residents=1_000.0, wage_growth=0.40, rate_fall=0.0, params=params)
    assert c.price_cny_m2 == pytest.approx(11_500.0)


def test_price_rises_when_credit_gets_cheaper_and_falls_when_it_gets_dearer(params: dict[str, float]) -> None:
    # H2: the 2015 cuts, year average 6.506 % (2014) -> 5.516 % (2015), with nothing else moving
    params |= {"price_income_passthrough": 0.0, "price_rate_elasticity": 0.75}
    cheaper, dearer = city(), city()
    fall = np.log(lending_rate(2014) / lending_rate(2015))
    cheaper.update_housing(residents=1_000.0, wage_growth=0.0, rate_fall=fall, params=params)
    dearer.update_housing(residents=1_000.0, wage_growth=0.0, rate_fall=-fall, params=params)
    assert cheaper.price_cny_m2 == pytest.approx(10_000.0 * (1 + 0.75 * np.log(6.506 / 5.516)), rel=1e-3)
    assert dearer.price_cny_m2 == pytest.approx(10_000.0 * (1 - 0.75 * np.log(6.506 / 5.516)), rel=1e-3)


def test_lending_rate_is_the_days_weighted_mean_of_the_year_and_held_after_2015() -> None:
    # 2011: 6.40 % to 9 Feb, 6.60 % to 6 Apr, 6.80 % to 7 Jul, 7.05 % after (H2, lending-rates.csv)
    by_hand = (6.40 * 39 + 6.60 * 56 + 6.80 * 92 + 7.05 * 178) / 365
    assert lending_rate(2011) == pytest.approx(by_hand)
    assert lending_rate(2013) == pytest.approx(6.55)
    assert lending_rate(2016) == lending_rate(2030) == pytest.approx(4.90)


def firm() -> Firm:
    staff = np.array([10.0, 10.0, 10.0, 10.0, 10.0])
    return Firm(mesa.Model(), 0, 0, 0, staff, np.full(5, 50_000.0), vacancy_rate=0.0)


def test_wage_grows_by_the_node_trend_times_the_share_in_balance(params: dict[str, float]) -> None:
    params |= {"wage_trend_share": 0.8, "productivity_growth": 0.0, "skill_upgrading": 0.0}
    f = firm()
    staff = f.demand.copy()
    f.plan(staff, seekers=np.zeros(5), growth=0.0, trend=0.10, params=params)
    np.testing.assert_allclose(f.wage, 50_000.0 * 1.08)
    np.testing.assert_allclose(f.demand, staff)  # no real wage rise, no growth: demand unchanged


def test_wage_grows_faster_where_jobs_go_unfilled(params: dict[str, float]) -> None:
    params |= {"wage_trend_share": 1.0, "wage_adjust_speed": 0.3, "wage_change_bound": 0.1}
    f = firm()
    f.demand = np.full(5, 20.0)
    f.plan(np.full(5, 10.0), seekers=np.zeros(5), growth=0.0, trend=0.05, params=params)
    # excess = (vacancies - seekers) / demand = 0.5; change = 0.05 + min(0.3 * 0.5, 0.1)
    np.testing.assert_allclose(f.wage, 50_000.0 * 1.15)


def test_talent_wage_takes_the_node_education_mix_out_of_its_average_wage() -> None:
    # average 100; a quarter of the workers tertiary, who earn twice the others (premium 1):
    # 0.25 w_T + 0.75 w_T / 2 = 100, so w_T = 160 and the others earn 80
    wages = talent_wages(np.array([100.0, 100.0]), np.array([0.25, 0.0]), premium=1.0)
    assert wages.shape == (2, len(GROUP_WAGE))
    assert wages[0] == pytest.approx(160.0 * GROUP_WAGE)
    assert 0.25 * 160.0 + 0.75 * 80.0 == pytest.approx(100.0)
    # with no tertiary workers the average is the others' wage: talents would earn twice it
    assert wages[1] == pytest.approx(200.0 * GROUP_WAGE)


def test_base_year_wages_and_prices_are_the_published_ones() -> None:
    obs = read_observations().set_index(["unit", "indicator", "year"])["value"]
    n10, n15 = base_year(2010).nodes, base_year(2015).nodes
    assert n10.at["BJ", "wage_cny_year"] == pytest.approx(obs[("beijing", "avg_wage_nonprivate", 2010)])
    assert n15.at["BJ", "wage_cny_year"] == pytest.approx(obs[("beijing", "avg_wage_nonprivate", 2015)])
    for node, market in (("BJ", "beijing"), ("TJ", "tianjin"), ("SJZ", "SJZ")):
        for year, nodes in ((2010, n10), (2015, n15)):
            if (node, year) == ("SJZ", 2015):
                continue  # like for like, below
            assert nodes.at[node, "price_cny_m2"] == pytest.approx(
                obs[(market, "new_residential_price", year)]
            )
    # SJZ's 2015 average covers another mix (A7): its 2014 average chained by the 70-city index
    index = obs[("SJZ", "new_housing_price_index", 2015)] / obs[("SJZ", "new_housing_price_index", 2014)]
    assert n15.at["SJZ", "price_cny_m2"] == pytest.approx(obs[("SJZ", "new_residential_price", 2014)] * index)
    assert n15.at["SJZ", "price_cny_m2"] == pytest.approx(5_447, abs=1)
    # the trend is the published growth: Beijing 2010-2015, Hebei 2011-2015
    bj = (
        obs[("beijing", "avg_wage_nonprivate", 2015)] / obs[("beijing", "avg_wage_nonprivate", 2010)]
    ) ** 0.2
    he = (obs[("hebei", "avg_wage_nonprivate", 2015)] / obs[("hebei", "avg_wage_nonprivate", 2011)]) ** 0.25
    assert n15.at["BJ", "wage_trend"] == pytest.approx(bj - 1)
    assert n15.at["HS", "wage_trend"] == pytest.approx(he - 1)
    # a Hebei city in the 2015 table read: its own 2015 wage and its own 2012-2015 growth (A6)
    ts12, ts15 = obs[("TS", "avg_wage_nonprivate", 2012)], obs[("TS", "avg_wage_nonprivate", 2015)]
    assert n15.at["TS", "wage_cny_year"] == pytest.approx(ts15)
    assert n15.at["TS", "wage_trend"] == pytest.approx((ts15 / ts12) ** (1 / 3) - 1)
    assert n10.at["TS", "wage_cny_year"] == pytest.approx(ts15 / (ts15 / ts12) ** (5 / 3))
    # after 2015 every node carries its growth over 2012-2015, the years every series covers
    bj12 = obs[("beijing", "avg_wage_nonprivate", 2012)]
    bj15 = obs[("beijing", "avg_wage_nonprivate", 2015)]
    assert n15.at["BJ", "wage_trend_recent"] == pytest.approx((bj15 / bj12) ** (1 / 3) - 1)
    assert n15.at["BJ", "wage_trend_recent"] < n15.at["BJ", "wage_trend"]  # Beijing's slowed
    assert n15.at["TS", "wage_trend_recent"] == n15.at["TS", "wage_trend"]  # its own 2012-2015 already
    # one without: its 2012 wage grown as Hebei's (HS, ZJK), so the two keep the 2012 order
    assert ("HS", "avg_wage_nonprivate", 2015) not in obs.index
    assert n15.at["ZJK", "wage_cny_year"] / n15.at["HS", "wage_cny_year"] == pytest.approx(
        obs[("ZJK", "avg_wage_nonprivate", 2012)] / obs[("HS", "avg_wage_nonprivate", 2012)]
    )
    assert n15.at["HS", "wage_cny_year"] == pytest.approx(
        obs[("HS", "avg_wage_nonprivate", 2012)]
        * obs[("hebei", "avg_wage_nonprivate", 2015)]
        / obs[("hebei", "avg_wage_nonprivate", 2012)]
    )


def test_no_wage_or_price_input_is_dated_after_2015() -> None:
    table = read_observations()
    late = table[
        table["indicator"].isin(["avg_wage_nonprivate", "new_residential_price"]) & (table["year"] > 2015)
    ]
    assert late.empty, late[["unit", "indicator", "year"]]


def test_a_node_without_talent_jobs_reports_the_wages_its_firms_offer() -> None:
    # node 0: one firm with staff; node 1: one firm with demand but no staff, one with neither
    w = np.array([100.0, 200.0, 300.0, 400.0, 500.0])  # a wage by group (five groups)
    firms = [
        SimpleNamespace(wage=w, demand=np.ones(5)),
        SimpleNamespace(wage=2 * w, demand=np.array([3.0, 1.0, 0.0, 0.0, 0.0])),
        SimpleNamespace(wage=4 * w, demand=np.zeros(5)),
    ]
    model = SimpleNamespace(layout=SimpleNamespace(size=2), firms=firms)
    wages = TalentModel._node_wages(  # type: ignore[arg-type]
        model,
        np.array([0, 1, 1]),
        wage_bill=np.array([1_500.0, 0.0, 0.0]),
        employed=np.array([10.0, 0.0, 0.0]),
    )
    assert wages[0] == pytest.approx(150.0)  # the wage bill over the staff
    # offers weighted by demand (3 x 200 + 400), the firm demanding nobody by group alike (5 x 1,200)
    assert wages[1] == pytest.approx((3 * 200 + 400 + 4 * w.sum()) / (4 + 5))
