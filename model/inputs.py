"""Base-year inputs: what each node holds in 2010 or 2015, and where every number comes from.

Also the yearly rates of the education pipeline that are not node fields: degrees gained by
adults (adult higher education, online and self-study) per non-tertiary resident, from
``data/education-pipeline.csv`` (``degree_rates``; ASSUMPTIONS.md E1), and the path of China's
university graduates that sets how many talents arrive from the rest of China
(``BaseYear.china_graduates_in``; D1).

Numbers come from ``data/observations.csv`` (published statistics with status ``observed``,
``derived`` or ``unverified``) or from a rule of ``data/ASSUMPTIONS.md`` (status
``assumption``; the section, e.g. ``A4``, leads the ``source``). A number computed from others
takes the weakest status among its inputs (observed < derived < unverified < assumption) and
the union of their sources.

Boundaries: the ``XA`` row holds the three Xiong'an counties, part of Baoding until 2017-04-01;
the ``BD`` row excludes them and includes Dingzhou, so BD + XA is Baoding's range. ``SJZ``
includes Xinji in both years.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from model.errors import ScenarioError
from model.layout import PROVINCES
from model.talents import GROUPS

DATA_DIR = Path(__file__).parent / "data"
YEARS: tuple[int, ...] = (2010, 2015)
STATUSES: tuple[str, ...] = ("observed", "derived", "unverified", "assumption")

NODE_FIELDS: dict[str, tuple[str, str]] = {
    "population": ("persons", "all residents"),
    "tertiary": ("persons", "tertiary-educated residents (大专及以上), students included"),
    "wage_cny_year": ("CNY per year", "average wage, urban non-private units"),
    "price_cny_m2": ("CNY per m2", "average price of new commercial residential housing"),
    "services_index": ("index, Beijing = 1", "public-services level (physicians per 1,000)"),
    "university_entrants": (
        "persons per year",
        "new bachelor and short-cycle students at the node's institutions",
    ),
    "university_enrolled": ("persons", "bachelor and short-cycle students at the node's institutions"),
    "short_cycle_share": (
        "share",
        "share of the node's university entrants in three-year short-cycle courses",
    ),
    "foreign_residents": ("persons", "residents from abroad, Hong Kong, Macao and Taiwan"),
    "foreign_talents": ("persons", "foreign residents with tertiary education"),
    "local_hukou_share": ("share", "share of the node's talents with its province's hukou"),
    "students_local_share": (
        "share",
        "share of the node's students with its province's hukou (their origin, 生源)",
    ),
    "high_end": ("persons", "academicians and national talent-programme recruits"),
    "nontalent_growth": (
        "per year",
        "growth of residents without tertiary education 2010-2015 (trend input)",
    ),
    "wage_trend": (
        "per year",
        "nominal growth of the node's published average wage up to 2015 (trend input, to 2015)",
    ),
    "wage_trend_recent": (
        "per year",
        "nominal growth of the node's published average wage 2012-2015 (trend input, after 2015)",
    ),
    "population_growth": ("per year", "growth of the node's residents 2010-2015 (trend input)"),
    "growth_slowdown": (
        "per year",
        "yearly relative decline of the province's population growth rate 2010-2015 (trend input)",
    ),
}

# Published numbers given in the note of an observation row rather than as its value.
XINJI_POPULATION_2010 = 615_919  # SJZ-C7: note of SJZ's 2010 population row
HEBEI_GRADUATES_2015 = {"bachelor": 144_541, "short_cycle": 159_707}  # HE-GRAD: row note

# Assumptions; each is explained, with its basis, in data/ASSUMPTIONS.md (section in comment).
DISTRICT_TERTIARY_RATE_RATIO = {"TZ": 0.60, "BH": 0.90, "WQ": 0.50}  # A2: vs the city's rate
XA_BACKCAST_YEARS = 6  # A3: 2010 census to end-2016, whole years
CENSUS_TO_2015_YEARS = 5  # A4, A15: 2010 census to end-2015, whole years
TREND_YEARS = range(2011, 2016)  # A15, A16: the growth steps 2011-2015 (year ends 2010-2015)
TREND_MID_YEAR = 2013  # their middle
INTAKE_YEAR = 2015  # A9: the observed intake the entrants' path passes through, from either base year
SLOWDOWN_YEARS = (2010, 2013, 2015)  # A16: early growth 2010-2013, late growth 2013-2015
# A6: first and last year of each market's published wage series in the data (Tianjin has none:
# it follows China's)
WAGE_TREND_YEARS = {"beijing": (2010, 2015), "hebei": (2011, 2015), "china": (2012, 2015)}
# A6: after 2015 every node's trend is its growth over the years every wage series in the data
# covers (China's and the Hebei city tables start in 2012); the back-cast keeps the longer spans
RECENT_WAGE_YEARS = (2012, 2015)
WAGE_MARKETS = {"beijing": "beijing", "tianjin": "china", "hebei": "hebei"}  # A6: province -> series
HEBEI_CITY_WAGE_YEARS = (2012, 2015)  # A6: the Hebei city wage tables read (2015's has five cities)
PRICE_GROWTH_2010_2014 = 0.05  # A7: nominal, a year; Hebei's nodes other than SJZ only
WUQING_PRICE_RATIO = 0.8  # A7: Wuqing's price / Tianjin's
PHYSICIANS_PER_1000 = {"tianjin": 2.6, "hebei": 2.3}  # A8 (Beijing's is observed)
UNIVERSITY_DISTRICT_SHARES = {"TZ": 0.02, "BH": 0.06, "WQ": 0.02, "XA": 0.0}  # A9
YEARS_OF_STUDY = {"bachelor": 4, "short_cycle": 3}  # A9
FOREIGN_BOUND_FRACTION = {"tianjin": 0.8, "hebei": 0.3}  # A10: share of the upper bound
FOREIGN_TERTIARY_SHARE = 0.5  # A10
LOCAL_HUKOU_SHARE = {"hebei": 0.95}  # A11 (Beijing's and Tianjin's from their migrants)
HIGH_END_NATIONAL = {  # A12: national totals (2010, 2015), unverified; plan's regional share
    "academicians": ((1500, 1550), 1 / 2),
    "thousand_talents": ((1100, 5200), 1 / 4),
    "ten_thousand_talents": ((0, 1000), 1 / 3),
}
HIGH_END_POLE_SHARES = {"beijing": 0.88, "tianjin": 0.08, "hebei": 0.04}  # A12
GROUP_SHARES = {  # A13: shares of talents in GROUPS order, by pole
    "beijing": (0.15, 0.22, 0.20, 0.33, 0.10),
    "tianjin": (0.07, 0.28, 0.15, 0.30, 0.20),
    "hebei": (0.04, 0.18, 0.12, 0.41, 0.25),
}
AGE_BAND_SHARES = {  # A14: (first age, last age) -> share of talents, even within a band
    (18, 22): 0.14,
    (23, 29): 0.24,
    (30, 39): 0.26,
    (40, 49): 0.18,
    (50, 59): 0.10,
    (60, 69): 0.05,
    (70, 85): 0.03,
}

POPULATION, TERTIARY = "resident_population", "tertiary_educated"
WAGE, PRICE = "avg_wage_nonprivate", "new_residential_price"
HEBEI_PUBLISHED_RATE = ("SJZ", "HD", "LF")  # 2010 tertiary per 100k published (A1)
HEBEI_PUBLISHED_COUNT = ("QHD", "HS")  # 2010 tertiary count published (A1)

PIPELINE_FILE = "education-pipeline.csv"
PIPELINE_YEARS: tuple[int, ...] = tuple(range(2010, 2016))  # inputs only up to 2015 (issue 10)
ONLINE_PER_ADULT_YEAR = 2014  # E1: the only year with an online count; its ratio to adult graduates


class Fact(NamedTuple):
    """One number with its provenance."""

    value: float
    status: str
    source: str
    basis: str


@dataclass(frozen=True)
class BaseYear:
    """Inputs of a run starting in ``year``.

    Attributes:
        year: 2010 or 2015.
        nodes: one row per node (index ``node_id``, nodes.csv order), one float column per
            ``NODE_FIELDS`` key.
        group_shares: occupation-group shares of talents; index pole, columns ``GROUPS``.
        age_shares: share of talents (students included) at each age 18..85.
        provenance: one row per value of ``nodes``: node_id, field, value, status, source, basis.
        degree_rates: adults' degrees (any level) per non-tertiary resident a year, by calendar
            year 2010-2015 (``degree_rates``); later years hold 2015's.
        graduates: China's regular-university graduates in ``GRADUATE_YEARS``, the two points
            of the path ``china_graduates_in``.
        china_wage_trend: China's yearly nominal wage growth up to 2015 (A6), the drift of the
            wage that leaving the region offers (D1).
    """

    year: int
    nodes: pd.DataFrame
    group_shares: pd.DataFrame
    age_shares: pd.Series
    provenance: pd.DataFrame
    degree_rates: pd.Series
    graduates: pd.Series
    china_wage_trend: float

    def degree_rate(self, year: int) -> float:
        """Adults' degrees per non-tertiary resident in ``year`` (the nearest year 2010-2015)."""
        nearest = min(max(year, PIPELINE_YEARS[0]), PIPELINE_YEARS[-1])
        return float(self.degree_rates.loc[nearest])

    def china_graduates_in(self, year: int) -> float:
        """China's regular-university graduates in ``year`` (D1).

        On the path through the two published years a and b, by calendar year only:

            G_t = G_a * (G_b / G_a) ** ((t - a) / (b - a))
        """
        (a, b), (g_a, g_b) = self.graduates.index, self.graduates.to_numpy()
        return float(g_a * (g_b / g_a) ** ((year - a) / (b - a)))


OBSERVATION_FILES = ("observations.csv", "annual-2010-2015.csv", "graduate-employment-2014-2015.csv")
"""Published numbers the inputs read, in ``model/data``; where both give a row, the first wins."""
REVISED_FILE = "nbs-2014-2015.csv"
"""The bureau's population series revised after the 2020 census: only the 2015 base of
projections reads it (ASSUMPTIONS, Vintages); trends and the back-cast use first releases."""


def read_observations() -> pd.DataFrame:
    """The published numbers the model uses (``OBSERVATION_FILES``), one row per (unit,
    indicator, year)."""
    tables = [pd.read_csv(DATA_DIR / name, dtype={"year": int, "value": float}) for name in OBSERVATION_FILES]
    table = pd.concat(tables, ignore_index=True).drop(columns=["use"], errors="ignore")
    return table.drop_duplicates(["unit", "indicator", "year"], keep="first").reset_index(drop=True)


def base_year(year: int) -> BaseYear:
    """The inputs of a run starting in ``year``: built from ``model/data`` once a process (a fit
    runs thousands of runs in a few processes), each caller getting its own copy of the tables.

    Raises:
        ScenarioError: ``year`` is not 2010 or 2015.
    """
    if year not in YEARS:
        allowed = ", ".join(map(str, YEARS))
        raise ScenarioError(f"start_year: {year!r} is not a base year; allowed: {allowed}")
    built = _built_base_year(year)
    tables = {f.name: getattr(built, f.name) for f in fields(built)}
    return replace(
        built, **{k: v.copy() for k, v in tables.items() if isinstance(v, pd.DataFrame | pd.Series)}
    )


@functools.cache
def _built_base_year(year: int) -> BaseYear:
    layout = pd.read_csv(DATA_DIR / "nodes.csv", index_col="node_id")
    obs = _Observations(read_observations())
    facts = _node_facts(obs, layout, year)
    provenance = pd.DataFrame(
        [(node, field, *facts[field][node]) for field in NODE_FIELDS for node in layout.index],
        columns=["node_id", "field", "value", "status", "source", "basis"],
    )
    nodes = provenance.pivot(index="node_id", columns="field", values="value")
    nodes = nodes.reindex(index=layout.index, columns=list(NODE_FIELDS)).astype(float)
    nodes.columns.name = None
    group_shares = pd.DataFrame.from_dict(GROUP_SHARES, orient="index", columns=list(GROUPS))
    group_shares.index.name = "pole"
    ages = {
        age: share / (last - first + 1)
        for (first, last), share in AGE_BAND_SHARES.items()
        for age in range(first, last + 1)
    }
    age_shares = pd.Series(ages, name="share", dtype=float).rename_axis("age")
    rates = pd.Series({y: f.value for y, f in degree_rates().items()}, name="degrees_per_nontertiary")
    graduates = pd.Series({y: f.value for y, f in _china_graduates(obs).items()}, name="china_graduates")
    china_wage_trend = _market_wage_trends(obs)["china"].value
    return BaseYear(
        year,
        nodes,
        group_shares,
        age_shares,
        provenance,
        rates.rename_axis("year"),
        graduates.rename_axis("year"),
        china_wage_trend,
    )


LENDING_RATES_FILE = "lending-rates.csv"
"""The central bank's benchmark lending rate over five years (the mortgage reference), each
change with the date it took effect (H2)."""
INPUT_TABLES = ("nodes.csv", LENDING_RATES_FILE)
"""The files of ``model/data`` that are input tables of their own shape; every other CSV there is
a table of observations (``unit, indicator, year, value, ...``)."""


@functools.cache
def _lending_rate_changes() -> pd.DataFrame:
    return pd.read_csv(DATA_DIR / LENDING_RATES_FILE, parse_dates=["effective_date"])


@functools.cache
def lending_rate(year: int) -> float:
    """The benchmark lending rate over five years, per cent, averaged over the days of ``year``;
    after the last change in the file (October 2015) it is held (H2)."""
    changes = _lending_rate_changes()
    start, end = pd.Timestamp(year, 1, 1), pd.Timestamp(year + 1, 1, 1)
    if changes["effective_date"].iloc[0] > start:
        raise ScenarioError(f"{LENDING_RATES_FILE}: no rate in force on {start.date()}")
    in_force = changes[changes["effective_date"] < end]
    begins = in_force["effective_date"].clip(lower=start)
    ends = begins.shift(-1, fill_value=end)
    days = (ends - begins).dt.days
    return float((in_force["rate_pct"] * days).sum() / days.sum())


def read_pipeline() -> pd.DataFrame:
    """The national counts of the education pipeline (``model/data/education-pipeline.csv``)."""
    return pd.read_csv(DATA_DIR / PIPELINE_FILE, dtype={"year": int, "value": float})


def degree_rates() -> dict[int, Fact]:
    """Degrees gained by adults a year (adult higher education, online, self-study; any level)
    per non-tertiary resident of China, 2010-2015 (E1).

    Years without a published count are interpolated linearly between the nearest years with one
    (held at the nearest one at either end); online graduates, published for 2014 only, are
    adult graduates times 2014's online/adult ratio. The denominator is China's residents
    without tertiary education, linear between the 2010 census and the 2015 survey.
    """
    obs = _Observations(pd.concat([read_pipeline(), read_observations()], ignore_index=True))
    table = read_pipeline()

    def series(indicator: str) -> dict[int, Fact]:
        years = table.loc[table["indicator"] == indicator, "year"]
        known = {int(y): obs("china", indicator, int(y)) for y in years}
        return {y: _interpolated(known, y, f"china {indicator}") for y in PIPELINE_YEARS}

    adult, study = series("adult_he_graduates"), series("self_study_diplomas")
    online14, adult14 = (
        obs("china", "online_he_graduates", ONLINE_PER_ADULT_YEAR),
        adult[ONLINE_PER_ADULT_YEAR],
    )
    residents = {y: obs("china", "resident_population", y) for y in (2010, 2015)}
    rates = {y: obs("china", "tertiary_per_100k", y) for y in (2010, 2015)}
    facts: dict[int, Fact] = {}
    for y in PIPELINE_YEARS:
        w = (y - 2010) / (2015 - 2010)
        nontertiary = sum(
            weight * residents[end].value * (1 - rates[end].value / 1e5)
            for weight, end in ((1 - w, 2010), (w, 2015))
        )
        online = adult[y].value * online14.value / adult14.value
        facts[y] = _derive(
            (adult[y].value + online + study[y].value) / nontertiary,
            f"(adult {adult[y].value:.0f} + online {online:.0f} + self-study {study[y].value:.0f}) "
            f"/ China's non-tertiary residents {nontertiary:.0f}, {y}",
            [adult[y], online14, adult14, study[y], *residents.values(), *rates.values()],
            "E1",
        )
    return facts


GRADUATE_YEARS = (2012, 2014)
"""The years up to 2015 for which model/data holds China's graduates of regular universities
(bachelor and short-cycle): the 2012 bulletin's total and the ministry's 2014 tables by level."""


def _china_graduates(obs: _Observations) -> dict[int, Fact]:
    """China's graduates of regular universities, bachelor and short-cycle, in ``GRADUATE_YEARS``
    (D1): 2012 as the bulletin's total, 2014 as its two levels' sum."""
    first, second = GRADUATE_YEARS
    levels = [obs("china", f"{level}_graduates", second) for level in ("bachelor", "short_cycle")]
    return {
        first: obs("china", "regular_he_graduates", first),
        second: _derive(sum(f.value for f in levels), "bachelor + short-cycle graduates", levels),
    }


def _interpolated(known: Mapping[int, Fact], year: int, basis: str) -> Fact:
    """``known[year]``, or linear between the nearest known years (held at either end) (E1)."""
    if year in known:
        return known[year]
    before = [y for y in known if y < year]
    after = [y for y in known if y > year]
    if not before or not after:
        nearest = max(before) if before else min(after)
        return _derive(known[nearest].value, f"{basis} {nearest}, held for {year}", [known[nearest]], "E1")
    low, high = max(before), min(after)
    w = (year - low) / (high - low)
    value = (1 - w) * known[low].value + w * known[high].value
    return _derive(value, f"{basis}: linear between {low} and {high}", [known[low], known[high]], "E1")


class _Observations:
    """Observation rows as ``Fact``s, looked up by (unit, indicator, year)."""

    def __init__(self, table: pd.DataFrame) -> None:
        self._rows = {(r["unit"], r["indicator"], r["year"]): r for r in table.to_dict("records")}

    def __contains__(self, key: tuple[str, str, int]) -> bool:
        return key in self._rows

    def __call__(self, unit: str, indicator: str, year: int) -> Fact:
        row = self._rows[(unit, indicator, year)]
        basis = f"{unit} {indicator} {year}"
        return Fact(float(row["value"]), str(row["status"]), str(row["source"]), basis)


def _assumed(value: float, section: str, basis: str) -> Fact:
    return Fact(value, "assumption", section, basis)


def _derive(value: float, basis: str, inputs: Iterable[Fact], section: str = "") -> Fact:
    """A computed number: the weakest status of its inputs, ``assumption`` if ``section``."""
    inputs = list(inputs)
    statuses = ["derived", *(f.status for f in inputs)] + (["assumption"] if section else [])
    status = max(statuses, key=STATUSES.index)
    sources = {s for f in inputs for s in f.source.split(";")} | ({section} if section else set())
    sections = sorted((s for s in sources if re.fullmatch(r"[AE]\d+", s)), key=lambda s: (s[0], int(s[1:])))
    return Fact(float(value), status, ";".join(sections + sorted(sources - set(sections))), basis)


def _share_out(total: Fact, weights: Mapping[str, Fact], basis: str, section: str) -> dict[str, Fact]:
    """Split ``total`` among nodes in proportion to ``weights``."""
    weight_sum = sum(w.value for w in weights.values())
    inputs = [total, *weights.values()]
    return {
        n: _derive(total.value * w.value / weight_sum, basis, inputs, section) for n, w in weights.items()
    }


def _provinces(layout: pd.DataFrame) -> dict[str, str]:
    return {str(node): str(province) for node, province in layout["province"].items()}


def _nodes_of(layout: pd.DataFrame, province: str) -> list[str]:
    return [node for node, p in _provinces(layout).items() if p == province]


def _node_facts(obs: _Observations, layout: pd.DataFrame, year: int) -> dict[str, dict[str, Fact]]:
    """Every field of every node in ``year`` (2010 prices and wages start from 2015's)."""
    pop = {y: _population(obs, layout, y) for y in YEARS}
    tertiary_by_year = {2010: _tertiary_2010(obs, layout, pop[2010])}
    tertiary_by_year[2015] = _tertiary_2015(obs, layout, pop, tertiary_by_year[2010])
    tertiary = tertiary_by_year[year]
    population = pop[year]
    if year == 2015:  # the base of projections: revised levels, first-release trends (Vintages)
        population = _revised_2015(layout, pop[2015])
        tertiary = {
            n: _derive(
                f.value * population[n].value / pop[2015][n].value,
                "2015 rate (A5) x the revised 2015 population",
                [f, population[n], pop[2015][n]],
            )
            for n, f in tertiary.items()
        }
    trend = _wage_trends(obs, layout)
    wages = _wages_2015(obs, layout)
    prices = _prices_2015(obs, layout, wages, pop[2015])
    if year == 2010:
        prices = _prices_2010(obs, layout, prices)
        wages = {
            n: _derive(
                f.value / (1 + trend[n].value) ** (2015 - 2010),
                f"{f.basis}; deflated 5 years at its trend, {trend[n].value:.2%} a year",
                [f, trend[n]],
                "A6",
            )
            for n, f in wages.items()
        }
    entrants, enrolled, short_share = _universities(obs, layout, pop[2015])
    foreign = _foreign_residents(obs, layout, tertiary)
    nontalent = {y: {n: pop[y][n].value - tertiary_by_year[y][n].value for n in layout.index} for y in YEARS}
    growth = {
        n: _derive(
            (nontalent[2015][n] / nontalent[2010][n]) ** (1 / CENSUS_TO_2015_YEARS) - 1,
            "((population - tertiary) 2015 / (population - tertiary) 2010) ** (1/5) - 1 (A15)",
            [pop[2010][n], pop[2015][n], tertiary_by_year[2010][n], tertiary_by_year[2015][n]],
        )
        for n in layout.index
    }
    return {
        "population": population,
        "tertiary": tertiary,
        "wage_cny_year": wages,
        "price_cny_m2": prices,
        "services_index": _services(obs, layout),
        "university_entrants": entrants,
        "university_enrolled": enrolled,
        "short_cycle_share": short_share,
        "foreign_residents": foreign,
        "foreign_talents": {
            n: _derive(
                f.value * FOREIGN_TERTIARY_SHARE, f"foreign residents x {FOREIGN_TERTIARY_SHARE}", [f], "A10"
            )
            for n, f in foreign.items()
        },
        "local_hukou_share": (local := _local_hukou_share(obs, layout, year)),
        "students_local_share": _students_local_share(obs, layout, local),
        "high_end": _high_end(layout, tertiary, year),
        "nontalent_growth": growth,
        "wage_trend": trend,
        "wage_trend_recent": _wage_trends(obs, layout, RECENT_WAGE_YEARS),
        "population_growth": {
            n: _derive(
                (pop[2015][n].value / pop[2010][n].value) ** (1 / CENSUS_TO_2015_YEARS) - 1,
                "(population 2015 / population 2010) ** (1/5) - 1",
                [pop[2010][n], pop[2015][n]],
            )
            for n in layout.index
        },
        "growth_slowdown": _growth_slowdown(obs, layout),
    }


def _revised_2015(layout: pd.DataFrame, first: Mapping[str, Fact]) -> dict[str, Fact]:
    """The 2015 populations of the nodes on the revised series (ASSUMPTIONS, Vintages): each
    node's first-release figure (A4) x its province's revised / first-release total."""
    revised = _Observations(pd.read_csv(DATA_DIR / REVISED_FILE, dtype={"year": int, "value": float}))
    facts = {}
    for province in PROVINCES:
        nodes = _nodes_of(layout, province)
        total = revised(province, POPULATION, 2015)
        first_total = sum(first[n].value for n in nodes)
        for n in nodes:
            facts[n] = _derive(
                first[n].value * total.value / first_total,
                f"{n} 2015 (A4) x {province}'s revised {total.value:,.0f} / first release {first_total:,.0f}",
                [first[n], total],
                "A4",
            )
    return facts


def trend_fade(slowdown: float, year: int) -> float:
    """f_t, A16's fading path in ``year`` relative to its mean over ``TREND_YEARS``.

    A yearly rate g becomes g * f_t: it fades by ``slowdown`` s a year and keeps the mean g over
    the steps 2011-2015:

        f_t = (1 - s) ** (t - 2013) / mean over y in 2011..2015 of (1 - s) ** (y - 2013)
    """
    mean = sum((1.0 - slowdown) ** (y - TREND_MID_YEAR) for y in TREND_YEARS) / len(TREND_YEARS)
    return (1.0 - slowdown) ** (year - TREND_MID_YEAR) / mean


def _growth_slowdown(obs: _Observations, layout: pd.DataFrame) -> dict[str, Fact]:
    """How fast each province's population growth fell over 2010-2015, the same for its nodes
    (A16): s = 1 - (g_late / g_early) ** (1 / d), with g_early the yearly growth 2010-2013,
    g_late that of 2013-2015 and d = 2.5 years between their middles; 0 where growth rose or
    changed sign (neither is extrapolated)."""
    first, middle, last = SLOWDOWN_YEARS
    apart = (middle + last) / 2 - (first + middle) / 2
    facts = {}
    for province in PROVINCES:
        pops = [obs(province, POPULATION, y) for y in SLOWDOWN_YEARS]
        early = (pops[1].value / pops[0].value) ** (1 / (middle - first)) - 1
        late = (pops[2].value / pops[1].value) ** (1 / (last - middle)) - 1
        ratio = min(late / early, 1.0) if early > 0 and late > 0 else 1.0
        facts[province] = _derive(
            1 - ratio ** (1 / apart),
            f"{province} growth {early:.2%} a year {first}-{middle}, {late:.2%} {middle}-{last}",
            pops,
            "A16",
        )
    return {n: facts[p] for n, p in _provinces(layout).items()}


def _population(obs: _Observations, layout: pd.DataFrame, year: int) -> dict[str, Fact]:
    """Residents by node; Xiong'an is carved out of Baoding (A3) and boundaries aligned (A4)."""
    hebei10, hebei15 = obs("hebei", POPULATION, 2010), obs("hebei", POPULATION, 2015)
    hebei_growth = (hebei15.value / hebei10.value) ** (1 / CENSUS_TO_2015_YEARS) - 1
    xa16 = obs("XA", POPULATION, 2016)
    back = XA_BACKCAST_YEARS if year == 2010 else 2016 - year
    xa = _derive(
        xa16.value / (1 + hebei_growth) ** back,
        f"XA end-2016 back-cast {back} years at Hebei's 2010-2015 rate {hebei_growth:.4%}",
        [xa16, hebei10, hebei15],
        "A3",
    )
    if year == 2010:
        facts = {n: obs(n, POPULATION, 2010) for n in layout.index if n not in ("BD", "XA")}
        bdxa = obs("BD+XA", POPULATION, 2010)
        facts["BD"] = _derive(bdxa.value - xa.value, "BD+XA 2010 minus XA 2010", [bdxa, xa], "A3")
        return facts | {"XA": xa}

    facts = {}
    for province in ("beijing", "tianjin"):
        shares = {n: obs(n, POPULATION, 2010) for n in _nodes_of(layout, province)}
        facts |= _share_out(
            obs(province, POPULATION, 2015), shares, f"{province} 2015 split by 2010 district shares", "A4"
        )
    cities = [n for n in _nodes_of(layout, "hebei") if n not in ("BD", "XA")]
    facts |= {n: obs(n, POPULATION, 2015) for n in cities}
    sjz10, sjz15 = obs("SJZ", POPULATION, 2010), obs("SJZ", POPULATION, 2015)
    xinji10 = Fact(XINJI_POPULATION_2010, "observed", "SJZ-C7", "Xinji 2010 (note of SJZ 2010)")
    xinji = _derive(
        xinji10.value * sjz15.value / (sjz10.value - xinji10.value),
        "Xinji 2010 grown as SJZ without Xinji",
        [xinji10, sjz10, sjz15],
        "A4",
    )
    facts["SJZ"] = _derive(
        sjz15.value + xinji.value, "SJZ 2015 (without Xinji) + Xinji 2015", [sjz15, xinji], "A4"
    )
    bdxa = obs("BD+XA", POPULATION, 2015)
    published = [obs(n, POPULATION, 2015) for n in cities] + [bdxa]
    dingzhou = _derive(
        hebei15.value - sum(f.value for f in published) - xinji.value,
        "Hebei 2015 minus the 11 city figures minus Xinji 2015",
        [hebei15, *published, xinji],
        "A4",
    )
    facts["BD"] = _derive(
        bdxa.value - xa.value + dingzhou.value,
        "BD+XA 2015 (without Dingzhou) minus XA 2015 plus Dingzhou 2015",
        [bdxa, xa, dingzhou],
        "A4",
    )
    return facts | {"XA": xa}


def _tertiary_2010(obs: _Observations, layout: pd.DataFrame, pop: Mapping[str, Fact]) -> dict[str, Fact]:
    """Tertiary-educated residents at the 2010 census; unpublished nodes filled by A1 and A2."""
    facts: dict[str, Fact] = {}
    for province, core in (("beijing", "BJ"), ("tianjin", "TJ")):
        total = obs(province, TERTIARY, 2010)
        city_rate = total.value / obs(province, POPULATION, 2010).value
        districts = [n for n in _nodes_of(layout, province) if n != core]
        for n in districts:
            ratio = DISTRICT_TERTIARY_RATE_RATIO[n]
            facts[n] = _derive(
                pop[n].value * city_rate * ratio,
                f"population x {province}'s rate x {ratio}",
                [pop[n], total],
                "A2",
            )
        facts[core] = _derive(
            total.value - sum(facts[n].value for n in districts),
            f"{province} minus {', '.join(districts)}",
            [total, *(facts[n] for n in districts)],
        )
    rate, residents = obs("hebei", "tertiary_per_100k", 2010), obs("hebei", POPULATION, 2010)
    hebei = _derive(rate.value / 1e5 * residents.value, "hebei rate x population", [rate, residents])
    for n in HEBEI_PUBLISHED_RATE:
        rate = obs(n, "tertiary_per_100k", 2010)
        facts[n] = _derive(rate.value / 1e5 * pop[n].value, f"{n} rate x population", [rate, pop[n]])
    facts |= {n: obs(n, TERTIARY, 2010) for n in HEBEI_PUBLISHED_COUNT}
    published = [facts[n] for n in HEBEI_PUBLISHED_RATE + HEBEI_PUBLISHED_COUNT]
    remainder = _derive(
        hebei.value - sum(f.value for f in published),
        "Hebei minus cities with published values",
        [hebei, *published],
    )
    rest = {n: pop[n] for n in _nodes_of(layout, "hebei") if n not in facts}
    return facts | _share_out(remainder, rest, "Hebei remainder by population, one rate", "A1")


def _tertiary_2015(
    obs: _Observations,
    layout: pd.DataFrame,
    pop: Mapping[int, Mapping[str, Fact]],
    tertiary10: Mapping[str, Fact],
) -> dict[str, Fact]:
    """Node's 2010 rate plus its province's 2010-2015 gain per 100k, times 2015 residents (A5).

    The province's stock S (its 2015 1 % sample survey's share of residents aged 6+ with a degree,
    times its 2010 share of residents aged 6+, times its 2015 residents) fixes the gain g that
    every node of the province adds to its 2010 rate r: sum over nodes (r + g) x P = S.
    """
    facts = {}
    for province in PROVINCES:
        nodes = _nodes_of(layout, province)
        stock = obs(province, TERTIARY, 2015)
        rate10 = {n: tertiary10[n].value / pop[2010][n].value for n in nodes}
        residents = [pop[2015][n] for n in nodes]  # the gain depends on every node's
        at_2010_rates = sum(rate10[n] * pop[2015][n].value for n in nodes)
        gain = (stock.value - at_2010_rates) / sum(p.value for p in residents)
        for n in nodes:
            facts[n] = _derive(
                (rate10[n] + gain) * pop[2015][n].value,
                f"(2010 rate + {province}'s gain {gain * 1e5:.0f} per 100k) x 2015 population",
                [tertiary10[n], pop[2010][n], stock, *residents],
                "A5",
            )
    return facts


def _market_wage_trends(obs: _Observations, years: tuple[int, int] | None = None) -> dict[str, Fact]:
    """Each wage market's yearly nominal growth over its published series up to 2015, or over
    ``years`` (first, last) for every market (A6)."""
    return {
        market: _published_growth(obs, market, *(years or span), "A6" if market == "china" else "")
        for market, span in WAGE_TREND_YEARS.items()
    }


def _published_growth(obs: _Observations, unit: str, first: int, last: int, section: str = "") -> Fact:
    """The yearly growth of ``unit``'s published wage from ``first`` to ``last`` (A6)."""
    low, high = obs(unit, WAGE, first), obs(unit, WAGE, last)
    return _derive(
        (high.value / low.value) ** (1 / (last - first)) - 1,
        f"({unit} {last} / {first}) ** (1/{last - first}) - 1",
        [low, high],
        section,
    )


def _wage_trends(
    obs: _Observations, layout: pd.DataFrame, years: tuple[int, int] | None = None
) -> dict[str, Fact]:
    """Each node's yearly nominal wage growth (A6): a Hebei city's own over 2012-2015 where both
    of its tables give it, otherwise its market's, over its whole series up to 2015 or over
    ``years``."""
    growth = _market_wage_trends(obs, years)
    trends = {n: growth[WAGE_MARKETS[p]] for n, p in _provinces(layout).items()}
    first, last = HEBEI_CITY_WAGE_YEARS
    for n in _nodes_of(layout, "hebei"):
        city = _hebei_wage_unit(n)
        if (city, WAGE, last) in obs:
            trends[n] = _published_growth(obs, city, first, last)
    return trends


def _hebei_wage_unit(node: str) -> str:
    """The unit of a Hebei node's published wage: Baoding's tables predate Xiong'an (A6)."""
    return "BD+XA" if node in ("BD", "XA") else node


def _wages_2015(obs: _Observations, layout: pd.DataFrame) -> dict[str, Fact]:
    """Districts as their city; Tianjin by disposable income; Hebei cities as published for 2015,
    or, where the 2015 table read lacks them, from their 2012 table grown as Hebei's wage (A6)."""
    beijing = obs("beijing", WAGE, 2015)
    income_bj = obs("beijing", "disposable_income_per_capita", 2015)
    income_tj = obs("tianjin", "disposable_income_per_capita", 2015)
    tianjin = _derive(
        beijing.value * income_tj.value / income_bj.value,
        "Beijing's wage x Tianjin/Beijing disposable income",
        [beijing, income_bj, income_tj],
        "A6",
    )
    facts = {
        n: _derive(beijing.value, "Beijing's wage", [beijing], "A6") for n in _nodes_of(layout, "beijing")
    }
    facts |= {n: tianjin for n in _nodes_of(layout, "tianjin")}
    first, last = HEBEI_CITY_WAGE_YEARS
    hebei15, hebei_then = obs("hebei", WAGE, last), obs("hebei", WAGE, first)
    ratio = hebei15.value / hebei_then.value
    for n in _nodes_of(layout, "hebei"):
        city = _hebei_wage_unit(n)
        if (city, WAGE, last) in obs:
            facts[n] = obs(city, WAGE, last)
            continue
        then = obs(city, WAGE, first)
        facts[n] = _derive(
            then.value * ratio,
            f"{then.basis} x Hebei {last}/{first} ({ratio:.4f})",
            [then, hebei15, hebei_then],
            "A6",
        )
    return facts


def _prices_2015(
    obs: _Observations, layout: pd.DataFrame, wages: Mapping[str, Fact], pop: Mapping[str, Fact]
) -> dict[str, Fact]:
    """Hebei cities but SJZ priced in proportion to wage, matching the rest of Hebei (A7)."""
    beijing, tianjin = obs("beijing", PRICE, 2015), obs("tianjin", PRICE, 2015)
    facts = {
        n: _derive(beijing.value, "Beijing's price", [beijing], "A7") for n in _nodes_of(layout, "beijing")
    }
    facts |= {n: _derive(tianjin.value, "Tianjin's price", [tianjin], "A7") for n in ("TJ", "BH")}
    facts["WQ"] = _derive(
        tianjin.value * WUQING_PRICE_RATIO, f"Tianjin's price x {WUQING_PRICE_RATIO}", [tianjin], "A7"
    )
    facts["SJZ"] = _sjz_price_2015(obs)
    sjz = obs("SJZ", PRICE, 2015)  # the published average, whose floor space the Hebei total counts
    hebei, space = obs("hebei", PRICE, 2015), obs("hebei", "residential_floor_space_sold", 2015)
    sjz_space = obs("SJZ", "residential_floor_space_sold", 2015)
    rest_price = (hebei.value * space.value - sjz.value * sjz_space.value) / (space.value - sjz_space.value)
    rest = [n for n in _nodes_of(layout, "hebei") if n != "SJZ"]
    scale = rest_price * sum(pop[n].value for n in rest) / sum(wages[n].value * pop[n].value for n in rest)
    inputs = [hebei, space, sjz, sjz_space, *(wages[n] for n in rest), *(pop[n] for n in rest)]
    basis = f"wage x {scale:.4f} (population-weighted mean = Hebei without SJZ, {rest_price:.0f})"
    return facts | {n: _derive(wages[n].value * scale, basis, inputs, "A7") for n in rest}


def _sjz_price_2015(obs: _Observations) -> Fact:
    """SJZ's 2015 price like for like (A7): its 2014 average chained by the 70-city index, whose
    yearly mean fell 2.1 %; the published 2015 average (+40 %) covers another mix."""
    p14, index14, index15 = (
        obs("SJZ", PRICE, 2014),
        obs("SJZ", "new_housing_price_index", 2014),
        obs("SJZ", "new_housing_price_index", 2015),
    )
    return _derive(
        p14.value * index15.value / index14.value,
        "2014 average x the 70-city index 2015/2014",
        [p14, index14, index15],
    )


def _prices_2010(obs: _Observations, layout: pd.DataFrame, prices15: Mapping[str, Fact]) -> dict[str, Fact]:
    """Beijing's, Tianjin's and SJZ's nodes: their market's 2010 price in the same ratio to its
    2015 price; Hebei's other nodes: 2015 price x Hebei 2014/2015, deflated 4 years (A7)."""
    facts = {}
    for n in layout.index:
        market = "SJZ" if n == "SJZ" else str(layout.at[n, "province"])
        p15 = prices15["SJZ"] if market == "SJZ" else obs(market, PRICE, 2015)  # SJZ's like for like
        if market != "hebei":
            p10 = obs(market, PRICE, 2010)
            facts[n] = _derive(
                prices15[n].value * p10.value / p15.value,
                f"2015 price x {market} 2010/2015",
                [prices15[n], p10, p15],
                "A7" if prices15[n].status == "assumption" else "",
            )
            continue
        p14 = obs(market, PRICE, 2014)
        facts[n] = _derive(
            prices15[n].value * p14.value / p15.value / (1 + PRICE_GROWTH_2010_2014) ** 4,
            f"2015 price x {market} 2014/2015, deflated 4 years at {PRICE_GROWTH_2010_2014:.0%}",
            [prices15[n], p14, p15],
            "A7",
        )
    return facts


def _services(obs: _Observations, layout: pd.DataFrame) -> dict[str, Fact]:
    """Provincial physicians per 1,000 over Beijing's, the same for every node (A8)."""
    beijing = obs("beijing", "physicians_per_1000", 2015)
    levels = {"beijing": beijing} | {
        p: _assumed(v, "A8", f"{p} physicians per 1,000") for p, v in PHYSICIANS_PER_1000.items()
    }
    return {
        n: _derive(
            levels[p].value / beijing.value,
            f"{p} physicians per 1,000 / Beijing's",
            [levels[p], beijing],
            "A8",
        )
        for n, p in _provinces(layout).items()
    }


def _universities(
    obs: _Observations, layout: pd.DataFrame, pop15: Mapping[str, Fact]
) -> tuple[dict[str, Fact], dict[str, Fact], dict[str, Fact]]:
    """Entrants, students (bachelor + short-cycle) and the short-cycle share of entrants by
    node; the 2015 intake anchors both base years (A9)."""
    years = YEARS_OF_STUDY
    entrants: dict[str, Fact] = {}
    enrolled: dict[str, Fact] = {}
    short_per_bachelor: dict[str, Fact] = {}  # short-cycle entrants per bachelor entrant
    for p in ("beijing", "tianjin"):
        b_in = obs(p, "bachelor_entrants", 2015)
        b_enr = obs(p, "bachelor_enrolled", 2015)
        enrolled[p] = obs(p, "undergraduate_enrolled", 2015)
        short_per_bachelor[p] = _derive(
            (enrolled[p].value / b_enr.value - 1) * years["bachelor"] / years["short_cycle"],
            "short-cycle/bachelor students x 4/3",
            [b_enr, enrolled[p]],
            "A9",
        )
    short_per_bachelor["hebei"] = Fact(
        HEBEI_GRADUATES_2015["short_cycle"] / HEBEI_GRADUATES_2015["bachelor"],
        "observed",
        "HE-GRAD",
        "Hebei short-cycle/bachelor graduates 2015 (row note)",
    )
    for p in PROVINCES:
        b_in = obs(p, "bachelor_entrants", 2015)
        entrants[p] = _derive(
            b_in.value * (1 + short_per_bachelor[p].value),
            f"bachelor entrants x (1 + {short_per_bachelor[p].basis})",
            [b_in, short_per_bachelor[p]],
            "A9",
        )
    b_enr = obs("hebei", "bachelor_enrolled", 2015)
    enrolled["hebei"] = _derive(
        b_enr.value * (1 + short_per_bachelor["hebei"].value * years["short_cycle"] / years["bachelor"]),
        "bachelor students x (1 + short-cycle/bachelor graduates x 3/4)",
        [b_enr, short_per_bachelor["hebei"]],
        "A9",
    )
    shares = _university_shares(obs, layout, pop15, enrolled["hebei"])

    def by_node(totals: Mapping[str, Fact]) -> dict[str, Fact]:
        return {
            n: _derive(
                totals[p].value * shares[n].value, f"{p} x {shares[n].basis}", [totals[p], shares[n]], "A9"
            )
            for n, p in _provinces(layout).items()
        }

    short_share = {
        n: _derive(
            short_per_bachelor[p].value / (1 + short_per_bachelor[p].value),
            f"short-cycle per bachelor entrant / (1 + itself), {p}",
            [short_per_bachelor[p]],
            "A9",
        )
        for n, p in _provinces(layout).items()
    }
    return by_node(entrants), by_node(enrolled), short_share


def _university_shares(
    obs: _Observations, layout: pd.DataFrame, pop15: Mapping[str, Fact], hebei_enrolled: Fact
) -> dict[str, Fact]:
    """Each node's share of its province's students (A9)."""
    sjz = obs("SJZ", "undergraduate_enrolled", 2015)
    shares: dict[str, Fact] = {}
    for p in PROVINCES:
        nodes = _nodes_of(layout, p)
        fixed = {
            n: _assumed(UNIVERSITY_DISTRICT_SHARES[n], "A9", f"{n}'s share (assumed)")
            for n in nodes
            if n in UNIVERSITY_DISTRICT_SHARES
        }
        if p == "hebei":
            fixed["SJZ"] = _derive(
                sjz.value / hebei_enrolled.value, "SJZ's share of Hebei's students", [sjz, hebei_enrolled]
            )
        left = 1 - sum(f.value for f in fixed.values())
        rest = {n: pop15[n] for n in nodes if n not in fixed}
        weight_sum = sum(w.value for w in rest.values())
        inputs = [*fixed.values(), *(rest.values() if len(rest) > 1 else [])]
        basis = "share by 2015 population of the rest" if len(rest) > 1 else "share of the rest"
        shares |= {n: _derive(left * w.value / weight_sum, basis, inputs, "A9") for n, w in rest.items()}
        shares |= fixed
    return shares


def _foreign_residents(
    obs: _Observations, layout: pd.DataFrame, tertiary: Mapping[str, Fact]
) -> dict[str, Fact]:
    """2010 provincial counts (upper bounds scaled), split by tertiary stock (A10)."""
    facts: dict[str, Fact] = {}
    for p in PROVINCES:
        total = obs(p, "foreign_residents", 2010)
        if p in FOREIGN_BOUND_FRACTION:
            total = _derive(
                total.value * FOREIGN_BOUND_FRACTION[p],
                f"{FOREIGN_BOUND_FRACTION[p]} x upper bound",
                [total],
                "A10",
            )
        facts |= _share_out(
            total,
            {n: tertiary[n] for n in _nodes_of(layout, p)},
            f"{p} 2010 foreign residents by tertiary stock",
            "A10",
        )
    return facts


MIGRANT_ROWS = {  # A11: (indicator, year) of each province's migrant residents for each base year
    2010: {"beijing": ("migrant_residents_census", 2010), "tianjin": ("migrant_residents_census", 2010)},
    2015: {"beijing": ("migrant_residents", 2015), "tianjin": ("migrant_residents", 2014)},
}
"""The migrant residents (常住外来人口) that set each base year's local-hukou share: the 2010
census for a run from 2010, so that it starts from no later number; for 2015, Beijing's 2015
year-end figure and Tianjin's 2014 one (its latest up to 2015)."""


def _local_hukou_share(obs: _Observations, layout: pd.DataFrame, year: int) -> dict[str, Fact]:
    """Beijing's and Tianjin's from their migrant residents (``MIGRANT_ROWS``), Hebei's assumed
    (A11): local share = 1 - migrants / residents."""
    shares = {}
    for province, (indicator, when) in MIGRANT_ROWS[year].items():
        migrants, residents = obs(province, indicator, when), obs(province, POPULATION, when)
        shares[province] = _derive(
            1 - migrants.value / residents.value,
            f"1 - {province} migrants/residents {when}",
            [migrants, residents],
            "A11",
        )
    shares |= {p: _assumed(v, "A11", f"{p} share") for p, v in LOCAL_HUKOU_SHARE.items()}
    return {n: shares[p] for n, p in _provinces(layout).items()}


STUDENT_ORIGIN_YEAR = 2015
"""The class whose origins Beijing's employment report counts (BJ-GRAD15): the entrants of
about 2011 (bachelor) to 2012 (short-cycle), postgraduates included."""


def _students_local_share(
    obs: _Observations, layout: pd.DataFrame, local_hukou: Mapping[str, Fact]
) -> dict[str, Fact]:
    """Beijing's from its universities' graduates by origin: those from Beijing / all (ASSUMPTIONS
    A11). Tianjin's and Hebei's, where no count up to 2015 was found, are their talents'
    local-hukou share (A11)."""
    local = obs("beijing", "local_graduates_all_levels", STUDENT_ORIGIN_YEAR)
    every = obs("beijing", "graduates_all_levels", STUDENT_ORIGIN_YEAR)
    beijing = _derive(
        local.value / every.value,
        f"Beijing's graduates from Beijing / all, {STUDENT_ORIGIN_YEAR}",
        [local, every],
        "A11",  # one class, postgraduates included, for every year's students
    )
    return {
        n: beijing
        if p == "beijing"
        else _derive(local_hukou[n].value, f"{p} talents' local-hukou share", [local_hukou[n]], "A11")
        for n, p in _provinces(layout).items()
    }


def _high_end(layout: pd.DataFrame, tertiary: Mapping[str, Fact], year: int) -> dict[str, Fact]:
    """Plan's regional shares of assumed national totals, by pole, then by tertiary stock (A12)."""
    regional = sum(totals[YEARS.index(year)] * share for totals, share in HIGH_END_NATIONAL.values())
    facts: dict[str, Fact] = {}
    for pole, pole_share in HIGH_END_POLE_SHARES.items():
        total = _assumed(
            regional * pole_share,
            "A12;SEED",
            f"region {regional:.0f} x {pole_share} for {pole}, by tertiary stock",
        )
        nodes = layout.index[layout["pole"] == pole]
        facts |= _share_out(total, {n: tertiary[n] for n in nodes}, total.basis, "A12")
    return facts
