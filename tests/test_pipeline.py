"""The education pipeline (issue 10, item 2): enrolment, graduation, adult degrees, deaths, and
university capacity set by a scenario."""

from __future__ import annotations

import math

import mesa
import numpy as np
import pandas as pd
import pytest
import yaml

from model import demography
from model.cities import City
from model.draws import Draws, Making, Purpose, Source, new_ids
from model.firms import SECTORS
from model.inputs import base_year, degree_rates
from model.scenario import Scenario, validate
from model.simulation import TalentModel
from model.talents import Status, Talents
from tests.conftest import LAYOUT, ONE_GROUP, ROOT, SEED, N, at_node

DATA = ROOT / "model" / "data"
LOCAL = np.ones(N)
NO_SHORT_CYCLE = np.zeros(N)
# Gompertz steep enough to be a step: at 35 or younger q < 1e-50; at 60 and over q >= 1.
STEP_MORTALITY = {"mortality_a": math.exp(-5 * 59.5), "mortality_b": 5.0}


def test_a_small_cohort_after_three_years_is_the_hand_computation() -> None:
    """Node 0: 50 talents aged 70 and 20 aged 30 at the start; 10 entrants a year, 2 study
    years; 1,000 non-talent residents and 1 % of them a year gain a first degree.

    By hand, year by year (deaths: the 70-year-olds in year 1; no one else dies):
    - non-talent residents: 1000 -> 990 -> 980 (9.9 rounds to 10) -> 970 (9.8 rounds to 10);
    - students: 10, 20, 20 (the first 10 graduate in year 3);
    - graduates: 0, 0, 10;
    - talents: 70 - 50 + 10 + 10 = 40, then 40 + 10 + 10 = 60, then 60 + 10 + 10 = 80.
    """
    draws = Draws(SEED)
    params = {**STEP_MORTALITY, "study_years": 2, "retirement_age": 60}
    talents = Talents.new(
        node=np.zeros(70),
        group=np.zeros(70),
        age=np.r_[np.full(50, 70), np.full(20, 30)],
        status=np.full(70, Status.EMPLOYED),
        hukou=np.zeros(70),
        weight=np.ones(70),
    )
    talents.id[:] = new_ids(2015, Source.INITIAL, talents.node, talents.group)
    nontalent = at_node({0: 1000.0})
    expected = [(990, 10, 0, 40), (980, 20, 0, 60), (970, 20, 10, 80)]
    for year, (residents, students, graduated, persons) in enumerate(expected, start=1):
        demography.age_one_year(talents)
        talents.keep(~demography.deaths(talents, params, draws.keyed(2015 + year, Purpose.DEATH)))
        graduates = demography.graduate(talents, params)
        entrants = demography.enrol(
            at_node({0: 10}),
            NO_SHORT_CYCLE,
            ONE_GROUP,
            LOCAL,
            LAYOUT,
            1,
            Making(draws, 2015 + year, Source.ENTRANT),
        )
        adults = demography.adult_degrees(
            nontalent, 0.01, ONE_GROUP, LOCAL, LAYOUT, 1, Making(draws, 2015 + year, Source.ADULT_DEGREE)
        )
        nontalent -= adults.persons_by(adults.node, N)
        talents.extend(entrants, adults)
        assert nontalent[0] == residents, year
        assert talents.persons_by(talents.node, N, talents.status == Status.STUDENT)[0] == students, year
        assert graduates.sum() == graduated, year
        assert talents.persons == persons, year
        assert nontalent[0] + talents.persons == 1070 - 50 + 10 * year  # converted, not created
    assert not (talents.age >= 70).any()


def test_short_cycle_entrants_graduate_a_year_before_bachelor_entrants() -> None:
    """Node 0 takes in 10 a year, 3 of them (30 %) into three-year courses: with four study
    years, the first 3 graduate at the start of year 4 and the first 7 a year later."""
    params = {"study_years": 4}
    talents = Talents.new(*(np.zeros(0) for _ in range(6)))
    short_share = at_node({0: 0.3})
    finished = []
    for year in range(2016, 2021):
        demography.age_one_year(talents)
        finished.append(int(demography.graduate(talents, params).sum()))
        making = Making(Draws(SEED), year, Source.ENTRANT)
        talents.extend(demography.enrol(at_node({0: 10}), short_share, ONE_GROUP, LOCAL, LAYOUT, 1, making))
    assert finished == [0, 0, 0, 3, 10]
    students = talents.status == Status.STUDENT
    # in their courses: three intakes of 3 short-cycle and four of 7 bachelor students
    assert talents.persons_by(talents.node, N, students)[0] == 3 * 3 + 7 * 4


def test_entrants_follow_one_calendar_path_through_the_2015_intake() -> None:
    """A run from 2010 and one from 2015 take in the same students each year, and 2015's are
    the observed intake (A9)."""
    runs = {
        year: TalentModel(
            validate({"name": "intake", "scale": 2000, "start_year": year}, {}, "test"), seed=SEED
        )
        for year in (2010, 2015)
    }
    observed = base_year(2015).nodes["university_entrants"].to_numpy()
    for model in runs.values():
        model.year = 2015
        np.testing.assert_allclose(model.entrants(), observed)
        model.year = 2020
    np.testing.assert_allclose(runs[2010].entrants(), runs[2015].entrants())
    growth = runs[2015].params["entrants_growth"]
    np.testing.assert_allclose(runs[2015].entrants(), observed * (1 + growth) ** 5)


def test_adult_degrees_are_whole_persons_of_their_node_aged_25_to_40() -> None:
    nontalent = at_node({0: 123_456.0, 5: 7_000_000.0})
    making = Making(Draws(SEED), 2016, Source.ADULT_DEGREE)
    adults = demography.adult_degrees(nontalent, 0.002, ONE_GROUP, LOCAL, LAYOUT, 100, making)
    np.testing.assert_array_equal(adults.persons_by(adults.node, N), np.round(0.002 * nontalent))
    assert ((adults.age >= 25) & (adults.age <= 40)).all()
    assert (adults.status == Status.UNEMPLOYED).all()
    assert adults.has_degree.all()


@pytest.fixture(scope="module")
def model_2010() -> TalentModel:
    scenario = validate({"name": "pipeline", "scale": 2000, "start_year": 2010, "end_year": 2012}, {}, "test")
    return TalentModel(scenario, seed=SEED)


def test_adult_degrees_move_persons_without_changing_residents(model_2010: TalentModel) -> None:
    model = model_2010
    nontalent = np.array([city.nontalent for city in model.cities])
    talents = model.talents.persons_by(model.talents.node, N).astype(float)
    model.year += 1
    adults = model.grant_adult_degrees()
    model.year -= 1
    converted = adults.persons_by(adults.node, N)
    after = np.array([city.nontalent for city in model.cities])
    assert converted.sum() > 0
    np.testing.assert_allclose(nontalent - after, converted)
    np.testing.assert_allclose(after + talents + converted, nontalent + talents)
    # they keep working at their node: employed by one of its firms
    assert (adults.status == Status.EMPLOYED).all()
    assert (adults.firm // len(SECTORS) == adults.node).all()
    for city in model.cities:  # leave the shared model as it was
        city.nontalent = nontalent[city.node]


def test_beijings_adults_gain_degrees_at_its_factor_times_chinas_rate(model_2010: TalentModel) -> None:
    """E1: Beijing's nodes convert ``adult_degree_factor_beijing`` x China's rate of their
    non-talent residents a year, every other node China's rate."""
    model = model_2010
    nontalent = np.array([city.nontalent for city in model.cities])
    model.year += 1
    national = model.params["adult_first_degree_share"] * model.base.degree_rate(model.year)
    adults = model.grant_adult_degrees()
    model.year -= 1
    converted = adults.persons_by(adults.node, N)
    factor = model.params["adult_degree_factor_beijing"]
    assert factor > 1
    in_beijing = LAYOUT.province == LAYOUT.province[LAYOUT.index("BJ")]
    expected = national * nontalent * np.where(in_beijing, factor, 1.0)
    np.testing.assert_allclose(converted, expected, rtol=1e-3, atol=5)  # whole persons by group
    for city in model.cities:  # leave the shared model as it was
        city.nontalent = nontalent[city.node]


def test_the_fits_bound_on_beijings_adult_degrees_is_its_share_of_adult_students() -> None:
    """E1: 4.5, the upper search bound, is Beijing's share of China's adult higher-education
    students in 2010 over its share of China's residents without a degree (all of Beijing's
    adult students living there)."""
    pipeline = pd.read_csv(DATA / "education-pipeline.csv").set_index(["unit", "indicator", "year"])["value"]
    students = (
        pipeline[("beijing", "adult_he_enrolled", 2010)] / pipeline[("china", "adult_he_enrolled", 2010)]
    )
    china = pipeline[("china", "resident_population", 2010)] * (1 - 8_930 / 1e5)  # 2010 census rate
    residents = (19_612_000 - 6_178_000) / china  # Beijing's census residents and tertiary count
    config = yaml.safe_load((ROOT / "experiments" / "calibration-2015.yaml").read_text(encoding="utf-8"))
    bounds = config["parameters"]["adult_degree_factor_beijing"]
    assert bounds["upper"] == pytest.approx(students / residents, abs=0.05)
    assert bounds["lower"] == 1.0  # no fewer than China's rate


def test_the_observed_trend_is_kept_gross_of_those_who_become_talents(model_2010: TalentModel) -> None:
    """Non-talent residents grow at the observed net rate plus the share the model takes off;
    over 2011-2015 the faded net rate averages the observed 2010-2015 rate (A15, A16)."""
    nodes = model_2010.base.nodes
    pop, tertiary = nodes["population"], nodes["tertiary"]
    assert all(0 < city.to_talents < 0.02 for city in model_2010.cities)  # up to about one per cent
    # the 2010-2015 rate of Beijing's core, from the first-release 2015 population in its 2010
    # share (A4) and the 2015 tertiary rate (A5, the same in the revised 2015 base)
    base_2015 = base_year(2015).nodes
    first_2015 = 21_705_000 * pop["BJ"] / (pop["BJ"] + pop["TZ"])
    rate_2015 = base_2015.at["BJ", "tertiary"] / base_2015.at["BJ", "population"]
    observed = (first_2015 * (1 - rate_2015) / (pop["BJ"] - tertiary["BJ"])) ** 0.2 - 1
    beijing = model_2010.cities[LAYOUT.index("BJ")]
    mean_net = np.mean([beijing.nontalent_growth(y) - beijing.to_talents for y in range(2011, 2016)])
    assert mean_net == pytest.approx(observed, rel=1e-9)


def test_non_talent_residents_take_the_slowdown_of_all_residents_by_calendar_year() -> None:
    """N_t = N_(t-1) x (1 + g_N + g_P x (f_t - 1) + c), f_t = (1 - s) ** (t - 2013) / m, whatever
    the start year. With s = 0.5, m = (4 + 2 + 1 + 0.5 + 0.25) / 5 = 1.55."""
    city = City(
        mesa.Model(), 0, 1.0, 1.0, 1.0, 1_000.0,
        nontalent_trend=0.02, population_trend=0.03, slowdown=0.5, to_talents=0.01,
    )  # fmt: skip
    assert city.nontalent_growth(2013) == pytest.approx(0.02 + 0.03 * (1 / 1.55 - 1) + 0.01)
    assert city.nontalent_growth(2011) == pytest.approx(0.02 + 0.03 * (4 / 1.55 - 1) + 0.01)
    # 2011-2015 keep the observed mean; later years fall towards g_N - g_P + c
    mean = np.mean([city.nontalent_growth(y) for y in range(2011, 2016)])
    assert mean == pytest.approx(0.02 + 0.01)
    assert city.nontalent_growth(2040) == pytest.approx(0.02 - 0.03 + 0.01, abs=1e-6)
    city.grow_nontalent(2015)
    assert city.nontalent == pytest.approx(1_000.0 * (1 + 0.02 + 0.03 * (0.25 / 1.55 - 1) + 0.01))


def test_population_growth_fades_as_it_did_by_province_2010_2015() -> None:
    """A16 by hand: Beijing grew 2.545 % a year 2010-2013 (census 19,612,000 to 21,148,000)
    and 1.309 % 2013-2015 (to 21,705,000): s = 1 - (0.01309 / 0.02545) ** (1 / 2.5)."""
    slowdown = base_year(2010).nodes["growth_slowdown"]
    early = (21_148_000 / 19_612_000) ** (1 / 3) - 1
    late = (21_705_000 / 21_148_000) ** (1 / 2) - 1
    assert slowdown["BJ"] == pytest.approx(1 - (late / early) ** (1 / 2.5))
    assert slowdown["BJ"] == slowdown["TZ"] and slowdown["TJ"] == slowdown["WQ"]
    assert 0.2 < slowdown["BJ"] < 0.25 and 0.0 < slowdown["SJZ"] < 0.05
    assert (base_year(2015).nodes["growth_slowdown"] == slowdown).all()


def test_degree_rates_come_from_the_counts_up_to_2015_only() -> None:
    rates = degree_rates()
    assert sorted(rates) == list(range(2010, 2016))
    # 2012: (1,954,400 adult + online at 2014's ratio + 731,200 self-study) / non-tertiary residents
    online = 1_954_400 * 1_661_306 / 2_212_329
    residents = 0.6 * 1_339_720_000 * (1 - 0.08930) + 0.4 * 1_373_490_000 * (1 - 0.12445)
    assert rates[2012].value == pytest.approx((1_954_400 + online + 731_200) / residents)
    assert all("E1" in fact.source for fact in rates.values())
    base = base_year(2010)
    assert base.degree_rate(2030) == base.degree_rate(2015)  # held after 2015
    assert base.degree_rate(2013) == pytest.approx(
        (base.degree_rate(2012) + base.degree_rate(2014)) / 2, rel=0.05
    )


def test_capacity_set_in_a_scenario_changes_entrants_there_and_nowhere_else() -> None:
    plain = {"name": "capacity", "scale": 2000, "end_year": 2020}
    reform = {
        **plain,
        "levers": {"university_places": {"nodes": ["XA", "LF"], "values": {"2018-01-01": 5000}}},
    }
    base_model = TalentModel(validate(plain, {}, "test"), seed=SEED)
    reform_model = TalentModel(validate(reform, {}, "test"), seed=SEED)
    xa, lf = LAYOUT.index("XA"), LAYOUT.index("LF")
    for year, added in ((2017, 0.0), (2018, 5000.0), (2020, 5000.0)):
        for model in (base_model, reform_model):
            model.year = year
            model.resolve_levers()
        difference = reform_model.entrants() - base_model.entrants()
        np.testing.assert_allclose(difference, at_node({xa: added, lf: added}))


def test_entrants_from_the_node_come_off_its_non_talent_residents(small_baseline: Scenario) -> None:
    """In a year: non-talent residents = last year's x (1 + trend) - the residents among the
    students (resident share x local share, E3) - adult degrees; talent entries = students +
    adult degrees."""
    model = TalentModel(small_baseline, seed=SEED)
    before = np.array([city.nontalent for city in model.cities])
    growth = np.array([city.nontalent_growth(model.year + 1) for city in model.cities])
    model.step()
    nodes = model.tables()["nodes"]
    entries = nodes.loc[nodes["year"] == model.year, "entries"].to_numpy()
    students = np.round(model.entrants())
    after = np.array([city.nontalent for city in model.cities])
    share = model.params["resident_entrant_share"] * model.base.nodes["students_local_share"].to_numpy()
    np.testing.assert_allclose(before * (1 + growth) - after, entries - (1 - share) * students)


@pytest.mark.parametrize("n", [0, 3, 4, 5, 17])
def test_uniform_chunks_are_one_draw_of_all_rows_and_leave_the_generator_there(n: int) -> None:
    """Drawn a chunk at a time on a second thread, the uniforms are the numbers of one draw, in
    order, and the generator goes on from where that draw leaves it."""
    chunked, whole = np.random.default_rng(SEED), np.random.default_rng(SEED)
    chunks = list(demography.uniform_chunks(chunked, n, chunk=4))
    assert [len(u) for u in chunks] == [min(4, n - start) for start in range(0, n, 4)]
    assert np.array_equal(np.concatenate([np.zeros(0), *chunks]), whole.random(n))
    assert chunked.random() == whole.random()


@pytest.mark.parametrize("size", [0, 1, 1000])
def test_choice_draws_what_the_generators_choice_draws(size: int) -> None:
    """The compiled ``choice``, given the generator's uniforms, gives the values
    ``Generator.choice`` gives for the same seed, zero shares and ties among them, and both leave
    the generator at the same place (one uniform a value)."""
    values, p = np.arange(20, 30), np.array([0.1, 0.0, 0.0, 0.2, 0.05, 0.05, 0.3, 0.0, 0.3, 0.0])
    compiled, generators = np.random.default_rng(SEED), np.random.default_rng(SEED)
    got = demography.choice(values, p, compiled.random(size))
    want = generators.choice(values, size=size, p=p)
    assert got.dtype == want.dtype and np.array_equal(got, want)
    assert compiled.random() == generators.random()


def test_the_base_years_students_graduate_one_cohort_a_year() -> None:
    """The base year's students are spread over the years of their courses, short-cycle ones
    over three (A9): each year from the base graduates about one intake, with no double cohort
    when the first short-cycle entrants finish alongside the last base-year bachelors."""
    scenario = validate({"name": "cohorts", "scale": 2000, "start_year": 2015, "end_year": 2019}, {}, "test")
    model = TalentModel(scenario, seed=SEED)
    while model.running:
        model.step()
    nodes = model.tables()["nodes"]
    by_year = nodes[nodes["year"] > 2015].groupby("year")["graduates"].sum()
    intake = base_year(2015).nodes["university_entrants"].sum()
    assert list(by_year.index) == [2016, 2017, 2018, 2019]
    np.testing.assert_allclose(by_year.to_numpy(), intake, rtol=0.03)  # about one intake a year


def test_students_hold_their_node_s_hukou_at_the_students_local_share() -> None:
    """Students, those of the base year and the new ones alike, have their province's hukou at
    the node's ``students_local_share`` (A11): about 30 % at Beijing's universities, where its
    talents are 64 % local."""
    scenario = validate({"name": "origins", "scale": 100, "start_year": 2010, "end_year": 2011}, {}, "test")
    model = TalentModel(scenario, seed=SEED)
    t, beijing = model.talents, np.isin(model.talents.node, [LAYOUT.index("BJ"), LAYOUT.index("TZ")])
    base = base_year(2010).nodes

    def local_share(rows: np.ndarray) -> float:
        return float(t.weight[rows & (t.hukou == 0)].sum() / t.weight[rows].sum())

    students = beijing & (t.status == Status.STUDENT)
    assert local_share(students) == pytest.approx(base.at["BJ", "students_local_share"], abs=0.03)
    assert local_share(beijing & (t.status == Status.EMPLOYED) & ~t.is_foreign) > 0.6
    model.step()
    t = model.talents
    new = (
        np.isin(t.node, [LAYOUT.index("BJ"), LAYOUT.index("TZ")])
        & (t.status == Status.STUDENT)
        & (t.age == 18)
    )
    assert local_share(new) == pytest.approx(base.at["BJ", "students_local_share"], abs=0.03)


# --- arrivals from the rest of China (D1) -------------------------------------------------------


def test_china_graduates_follow_the_path_through_the_published_years() -> None:
    """G_2012 = 6,247,300 (the 2012 bulletin); G_2014 = 3,413,787 bachelor + 3,179,884
    short-cycle (the ministry's 2014 tables); between and beyond them the same yearly growth."""
    base = base_year(2010)
    g12, g14 = 6_247_300, 3_413_787 + 3_179_884
    assert base.china_graduates_in(2012) == pytest.approx(g12)
    assert base.china_graduates_in(2014) == pytest.approx(g14)
    assert base.china_graduates_in(2013) == pytest.approx(math.sqrt(g12 * g14))
    assert base.china_graduates_in(2020) == pytest.approx(g14 * (g14 / g12) ** 3)
    assert base_year(2015).china_graduates_in(2020) == base.china_graduates_in(2020)  # calendar years


def test_arrivals_from_china_are_the_rate_times_china_graduates_not_the_regions_stock(
    small_baseline: Scenario,
) -> None:
    """A_t = inflow_rate x G_t: the year's moves from outside the region add up to it, and do
    not grow with the talents the region already has."""
    plain = small_baseline.with_overrides(
        {"parameters.foreign_inflow": 0.0, "parameters.high_end_inflow": 0.0, "parameters.inflow_rate": 0.05}
    )
    model = TalentModel(plain, seed=SEED)
    model.step()
    flows = model.tables()["flows"]
    arrived = flows.loc[(flows["year"] == model.year) & (flows["origin"] == "OUT"), "persons"].sum()
    assert arrived == pytest.approx(0.05 * model.base.china_graduates_in(model.year), rel=1e-3)
