"""Base-year inputs: totals match the statistics, every value is traceable, shares are shares."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pytest

from model import inputs
from model.errors import ScenarioError
from model.inputs import GROUPS, NODE_FIELDS, STATUSES, base_year, read_observations
from model.layout import default_layout

DATA = Path(inputs.__file__).parent / "data"
ALLOWED_AFTER_2015 = {  # (indicator, source) pairs the data README allows after 2015
    ("resident_population", "BJ-BLUE"),  # XA at end-2016, the only basis of the 2010 split
}
POLICY_INPUTS = {  # dated policy actions, read by scenarios rather than as outcomes
    "beijing_firms_exited",
    "beijing_firms_exited_cumulative",
    "beijing_markets_relocated",
    "beijing_markets_relocated_cumulative",
    "projects_moved_from_beijing_cumulative",
    "haihe_talent_programme_settled",
    "established",
}


@pytest.fixture(scope="module", params=inputs.YEARS)
def base(request: pytest.FixtureRequest) -> inputs.BaseYear:
    return base_year(request.param)


@pytest.fixture(scope="module")
def obs() -> pd.DataFrame:
    return read_observations().set_index(["unit", "indicator", "year"])


def province_sums(base: inputs.BaseYear) -> pd.DataFrame:
    layout = pd.read_csv(DATA / "nodes.csv", index_col="node_id")
    return base.nodes.groupby(layout["province"]).sum()


def test_2010_provincial_totals_equal_the_census(obs: pd.DataFrame) -> None:
    sums = province_sums(base_year(2010))
    for p in ("beijing", "tianjin"):
        assert sums.at[p, "population"] == pytest.approx(obs.at[(p, "resident_population", 2010), "value"])
        assert sums.at[p, "tertiary"] == pytest.approx(obs.at[(p, "tertiary_educated", 2010), "value"])
    hebei = obs.at[("hebei", "resident_population", 2010), "value"]
    # The city figures add up to 4 fewer than the restated provincial total (ASSUMPTIONS.md A3).
    assert abs(sums.at["hebei", "population"] - hebei) <= 4
    rate = obs.at[("hebei", "tertiary_per_100k", 2010), "value"]
    assert sums.at["hebei", "tertiary"] == pytest.approx(rate / 1e5 * hebei)


def test_local_hukou_shares_come_from_the_base_years_migrants() -> None:
    """A11: a run from 2010 starts from the 2010 census counts of migrants, not later ones; the
    2015 base takes Beijing's 2015 and Tianjin's 2014 (its latest up to 2015) year-end counts."""
    expected = {
        (2010, "BJ"): 1 - 7_045_000 / 19_612_000,
        (2010, "TJ"): 1 - 2_991_700 / 12_938_224,
        (2015, "BJ"): 1 - 8_226_000 / 21_705_000,
        (2015, "TJ"): 1 - 4_761_800 / 15_168_100,
    }
    for (year, node), share in expected.items():
        local = base_year(year).nodes["local_hukou_share"]
        same_province = ["BJ", "TZ"] if node == "BJ" else ["TJ", "BH", "WQ"]
        assert local[same_province].to_numpy() == pytest.approx(share)


def test_beijing_s_students_are_local_as_its_2015_graduates_were_and_the_others_as_their_talents() -> None:
    """A11: 68,801 of the 231,005 graduates of Beijing's universities in 2015 came from Beijing
    (BJ-GRAD15); where no such count was found, new students are local as the node's talents."""
    for year in (2010, 2015):
        nodes = base_year(year).nodes
        assert nodes.loc[["BJ", "TZ"], "students_local_share"].to_numpy() == pytest.approx(68_801 / 231_005)
        others = nodes.index.difference(["BJ", "TZ"])
        pd.testing.assert_series_equal(
            nodes.loc[others, "students_local_share"],
            nodes.loc[others, "local_hukou_share"],
            check_names=False,
        )


def test_the_2015_base_is_the_revised_series_and_its_trends_the_first_release(obs: pd.DataFrame) -> None:
    """Projections start from the populations revised after the 2020 census; the nodes keep
    their first-release shares and tertiary rates, and the trends stay first-release (Vintages)."""
    revised = pd.read_csv(DATA / inputs.REVISED_FILE).set_index(["unit", "indicator", "year"])
    base, first = base_year(2015), base_year(2010)
    sums = province_sums(base)
    for p in ("beijing", "tianjin", "hebei"):
        assert sums.at[p, "population"] == pytest.approx(
            revised.at[(p, "resident_population", 2015), "value"]
        )
    assert sums.at["tianjin", "population"] == pytest.approx(14_390_000)  # first release 15,469,500
    nodes = base.nodes
    # the 2015 rates of A5 on the revised populations, e.g. BJ: 32,311 + Beijing's gain 9,098 per 100,000
    assert nodes.at["BJ", "tertiary"] / nodes.at["BJ", "population"] == pytest.approx(0.41409, abs=1e-4)
    growth = ["nontalent_growth", "population_growth", "growth_slowdown"]
    pd.testing.assert_frame_equal(nodes[growth], first.nodes[growth])
    tianjin = (15_469_500 / obs.at[("tianjin", "resident_population", 2010), "value"]) ** 0.2 - 1
    assert nodes.at["TJ", "population_growth"] == pytest.approx(tianjin)


def test_the_2015_tertiary_stocks_come_from_the_2015_sample_survey(obs: pd.DataFrame) -> None:
    """A5: a province's 2015 stock is its 1 % survey share of residents aged 6+ x its 2010 census
    share aged 6+ x its first-release 2015 residents; every node of the province adds one gain
    per 100,000 to its 2010 rate, so the nodes' stocks at the first-release populations add up
    to the province's."""
    surveys = pd.read_csv(DATA / "education-sample-surveys-2011-2015.csv").set_index(
        ["unit", "indicator", "year"]
    )
    first, base = base_year(2010).nodes, base_year(2015).nodes
    province = default_layout().nodes["province"]
    for p in ("beijing", "tianjin", "hebei"):
        share = obs.at[(p, "tertiary_share_6plus", 2015), "value"]
        assert share == surveys.at[(p, "tertiary_share_6plus", 2015), "value"]
        stock = share * obs.at[(p, "aged_6plus_share", 2010), "value"]
        stock *= obs.at[(p, "resident_population", 2015), "value"]
        assert obs.at[(p, "tertiary_educated", 2015), "value"] == pytest.approx(stock, abs=1)
        nodes = province.index[province == p]
        rate = base.loc[nodes, "tertiary"].sum() / base.loc[nodes, "population"].sum()
        assert rate == pytest.approx(stock / obs.at[(p, "resident_population", 2015), "value"])
        gains = base.loc[nodes, "tertiary"] / base.loc[nodes, "population"]
        gains -= first.loc[nodes, "tertiary"] / first.loc[nodes, "population"]
        assert gains.max() - gains.min() == pytest.approx(0, abs=1e-9)
    # by hand, Beijing: 0.42335 x 0.959 x 21,705,000 = 8,812,070 talents in 2015
    assert obs.at[("beijing", "tertiary_educated", 2015), "value"] == 8_812_070


def test_baoding_and_xiongan_add_up_to_baodings_2010_range(obs: pd.DataFrame) -> None:
    nodes = base_year(2010).nodes
    assert nodes.at["BD", "population"] + nodes.at["XA", "population"] == pytest.approx(
        obs.at[("BD+XA", "resident_population", 2010), "value"]
    )
    assert nodes.at["XA", "population"] < obs.at[("XA", "resident_population", 2016), "value"]


def test_hebei_cities_without_published_values_share_one_tertiary_rate() -> None:
    nodes = base_year(2010).nodes
    rates = nodes.loc[["TS", "XT", "BD", "ZJK", "CD", "CZ", "XA"], "tertiary"] / nodes["population"]
    assert rates.max() == pytest.approx(rates.min())
    assert rates.iloc[0] < 0.07296  # below Hebei's average: the big cities carry more


def test_2015_tertiary_stock_is_of_the_order_of_the_plans_talent_count(obs: pd.DataFrame) -> None:
    nodes = base_year(2015).nodes
    plan_talents = obs.at[("jjj", "talents", 2015), "value"]
    assert 0.8 < nodes["tertiary"].sum() / plan_talents < 1.2
    assert (nodes["tertiary"] > base_year(2010).nodes["tertiary"]).all()


def test_hebei_prices_match_the_provincial_average_without_shijiazhuang(obs: pd.DataFrame) -> None:
    nodes = base_year(2015).nodes
    rest = [n for n in nodes.index[5:] if n != "SJZ"]
    space = obs.at[("hebei", "residential_floor_space_sold", 2015), "value"]
    sjz_space = obs.at[("SJZ", "residential_floor_space_sold", 2015), "value"]
    rest_price = (
        obs.at[("hebei", "new_residential_price", 2015), "value"] * space
        - obs.at[("SJZ", "new_residential_price", 2015), "value"] * sjz_space
    ) / (space - sjz_space)
    weights = nodes.loc[rest, "population"]
    mean = (nodes.loc[rest, "price_cny_m2"] * weights).sum() / weights.sum()
    assert mean == pytest.approx(rest_price)
    assert nodes.at["LF", "price_cny_m2"] > nodes.at["XT", "price_cny_m2"]  # higher wage


def test_values_are_finite_and_within_their_range(base: inputs.BaseYear) -> None:
    nodes = base.nodes
    assert list(nodes.columns) == list(NODE_FIELDS)
    assert list(nodes.index) == list(pd.read_csv(DATA / "nodes.csv")["node_id"])
    assert nodes.map(math.isfinite).all().all()
    assert (nodes.drop(columns="nontalent_growth") >= 0).all().all()
    assert ((nodes["local_hukou_share"] <= 1) & (nodes["services_index"] <= 1)).all()
    assert (nodes["tertiary"] < nodes["population"]).all()
    assert (
        (nodes["university_entrants"] < nodes["university_enrolled"])
        .where(nodes["university_enrolled"] > 0, True)
        .all()
    )
    assert 1_000 < nodes["high_end"].sum() < 5_000
    assert nodes["high_end"].idxmax() == "BJ"


def test_every_value_has_one_provenance_row_with_an_allowed_status(base: inputs.BaseYear) -> None:
    prov = base.provenance
    assert list(prov.columns) == ["node_id", "field", "value", "status", "source", "basis"]
    assert not prov.duplicated(["node_id", "field"]).any()
    assert len(prov) == base.nodes.size
    assert set(prov["status"]) <= set(STATUSES)
    values = prov.set_index(["node_id", "field"])["value"]
    assert (base.nodes.stack() == values.reindex(base.nodes.stack().index)).all()
    assert prov["basis"].str.len().gt(0).all()


def test_sources_are_listed_and_assumptions_documented(base: inputs.BaseYear) -> None:
    # sources of observations.csv are listed in README.md, those of annual-2010-2015.csv beside it
    readme = "".join((DATA / name).read_text(encoding="utf-8") for name in ("README.md", "annual-sources.md"))
    sections = set(
        re.findall(r"^## (A\d+)\b", (DATA / "ASSUMPTIONS.md").read_text(encoding="utf-8"), re.MULTILINE)
    )
    for status, source in base.provenance[["status", "source"]].itertuples(index=False):
        ids = source.split(";")
        assert (status == "assumption") == any(re.fullmatch(r"A\d+", s) for s in ids)
        for s in ids:
            assert s in sections if re.fullmatch(r"A\d+", s) else f"| {s} |" in readme, s


def test_every_assumption_constant_points_to_a_documented_section() -> None:
    sections = set(
        re.findall(r"^## (A\d+)\b", (DATA / "ASSUMPTIONS.md").read_text(encoding="utf-8"), re.MULTILINE)
    )
    cited = set(re.findall(r"# (A\d+)", Path(inputs.__file__).read_text(encoding="utf-8")))
    assert cited and cited <= sections


def test_group_and_age_shares_are_distributions(base: inputs.BaseYear) -> None:
    assert list(base.group_shares.columns) == list(GROUPS)
    assert list(base.group_shares.index) == ["beijing", "tianjin", "hebei"]
    assert base.group_shares.sum(axis=1).to_numpy() == pytest.approx(1.0)
    assert list(base.age_shares.index) == list(range(18, 86))
    assert base.age_shares.sum() == pytest.approx(1.0)
    assert (base.age_shares > 0).all()


@pytest.mark.parametrize("year", [2009, 2011, 2020, "2015"])
def test_an_unsupported_year_is_refused_with_the_allowed_values(year: object) -> None:
    with pytest.raises(ScenarioError) as raised:
        base_year(year)  # type: ignore[arg-type]
    message = str(raised.value)
    assert "start_year" in message and repr(year) in message
    assert "2010" in message and "2015" in message


def test_no_outcome_after_2015_is_used() -> None:
    table = read_observations()
    late = table[table["year"] > 2015]
    for row in late.itertuples(index=False):
        allowed = (row.indicator, row.source) in ALLOWED_AFTER_2015
        assert allowed or row.indicator in POLICY_INPUTS, row
    assert set(table["status"]) <= {"observed", "derived", "unverified"}


def test_numbers_taken_from_row_notes_are_the_published_ones(obs: pd.DataFrame) -> None:
    assert f"{inputs.XINJI_POPULATION_2010:,}" in obs.at[("SJZ", "resident_population", 2010), "note"]
    grads = obs.loc[("hebei", "hei_graduates_non_teacher_training", 2015)]
    for count in inputs.HEBEI_GRADUATES_2015.values():
        assert f"{count:,}" in grads["note"]
