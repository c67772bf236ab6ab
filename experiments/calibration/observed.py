"""Published numbers and how the model measures them: the bridge between an observations file
(columns as in ``model/data/observations.csv``) and a run's tables.

Calibration (``experiments/calibration/calibrate.py``) and validation (``validate.py`` beside it) both
compare a row ``unit, indicator, year, value`` with the same quantity measured on simulated runs;
this module owns that measurement, so that the two can never define a number differently.

Units: a node id (``BJ``), a sum of nodes (``BD+XA``), a province (``beijing``, ``tianjin``,
``hebei``) or the region (``jjj``). ``china`` and anything else are not produced.

Indicators the model measures (``MEASURES``); "unit" is the set of nodes the unit names:

| indicator | simulated value |
|---|---|
| ``resident_population`` | sum of the nodes' residents (talents + others) |
| ``tertiary_educated`` | sum of the nodes' talents (census definition, students included) |
| ``tertiary_per_100k`` | 100,000 x talents / residents of the unit |
| ``tertiary_share_6plus`` | talents / (residents x the province's 2010 census share aged 6+), for nodes of one province: A5's rule for the 2015 stock read backwards, the share aged 6+ held at 2010's |
| ``new_residential_price`` | residents-weighted mean of the nodes' prices (the published averages weight by floor space sold, which the model does not have); from 2015 SJZ's price x its coverage factor (below) |
| ``foreign_residents`` | foreign talents / ``FOREIGN_TERTIARY_SHARE`` (0.5, ASSUMPTIONS A10) |
| ``avg_wage_nonprivate`` | each node's base-year wage in the published definition (A6), grown as the model's mean talent wage there has grown since the start year; residents-weighted across nodes |
| ``bachelor_graduates`` | the model's graduates (bachelor and short-cycle, A9) / (1 + the province's short-cycle per bachelor entrant, A9); from the first simulated year |
| ``bachelor_entrants`` | the model's new students (bachelor and short-cycle; plus the trainees of ``high_skill_alliance`` when that lever is on) / (1 + the province's short-cycle per bachelor entrant, A9); from the first simulated year |
| ``bachelor_enrolled`` | the model's students (status ``student``) / (1 + the province's short-cycle per bachelor student in 2015, A9) |
| ``hei_students``, ``undergraduate_enrolled`` | the model's students at the unit's nodes (bachelor and short-cycle; the published counts are the same two levels) |
| ``migrant_residents`` | residents x the share of talents without the province's hukou (foreign talents included): talents are assumed to share the residents' migrant share (A11) |
| ``commuting_talents`` | talents living at the unit's nodes who work in another node (ASSUMPTIONS C1, C2) |
| ``graduates_employed_in_province_share`` | the year's graduates of the unit's universities (bachelor and short-cycle) employed at the year's end at a node of the province they studied in / (those employed anywhere in the region + those who left it), for nodes of one province (ASSUMPTIONS D7: those who left are taken to work elsewhere) |
| ``local_graduates_employed_in_province_share``, ``nonlocal_...`` | the same, for the graduates with the hukou of the province they studied in (of local origin: 生源) and for the others |
| ``talents`` | region only: the plan's administrative talent total (人才资源总量), tertiary-educated talents x the A5 bridge (SEED 2015 total / the 2015 base year's tertiary stock = 19.40 / 19.00); not valid below the region |

Indicators the model cannot measure are listed with the reason in ``NOT_MEASURED``; a row of
one of them is skipped with that reason.

Vintages (``model.loader.VINTAGES``): a back-cast is fitted only on rows of a vintage in
``BACKCAST_VINTAGES`` (first release, or never revised), never on the series revised after the
2020 census, which carries later information. Validation compares every vintage; rows of the same
(unit, indicator, year) but different vintages are kept apart.

Boundaries (ASSUMPTIONS A3, A4): the 2015 year-end city figures exclude Xinji from ``SJZ`` and
Dingzhou from ``BD+XA``, which the nodes include. For those two (unit, year) pairs the counts of
residents (population, talents, foreign, migrants) are scaled by the share of the node's 2015
residents inside the published boundary, taken from the model's own 2015 base year; rates and
prices are compared as they are. Other years are compared at the nodes' boundaries.

Coverage (ASSUMPTIONS A7): SJZ's published average price covers another mix from 2015 (+40 % on
2014 while the 70-city index fell 2 %). The model's SJZ price is like for like (2015: the 2014
average chained by the index), so from 2015 on it is compared x the published 2015 average over
that price (``Context.price_coverage``), for SJZ and for Hebei's average that contains it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from model.errors import ScenarioError
from model.inputs import FOREIGN_TERTIARY_SHARE, base_year, read_observations
from model.layout import PROVINCES, Layout, default_layout
from model.loader import read_observation_csv
from model.scenario import LAST_YEAR, START_YEARS

REQUIRED_COLUMNS = ("unit", "indicator", "year", "value")
CARRIED_COLUMNS = ("uom", "status", "source", "note", "vintage", "model_use")  # kept when present
KEY_COLUMNS = ("unit", "indicator", "year", "vintage")
"""What tells two rows apart: the same number in two releases is two rows."""
DATA_CUTOFF_YEAR = 2015
"""Only numbers dated this year or earlier may set or fit parameters (issue 4); later published
outcomes are for validation only."""
BACKCAST_VINTAGES = ("first-release", "final")
"""Vintages a fit of the 2010-2015 back-cast may use (issue 10, item 1): numbers as they were
known by 2016. The ``revised-2020`` series is revised with the 2020 census and so carries
information from after the cut-off; it may set the 2015 base of projections, never a target."""
OUTSIDE_REGION = ("china",)


class Unavailable(Exception):
    """The model cannot produce this number; the message says why (a skip reason)."""


def figure(value: float) -> str:
    """An observed or simulated value as printed (``validate``'s largest errors, the fitted
    layer's header): counts and prices whole, with thousands separated; shares and rates (below
    100) to four significant digits."""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.4g}"


def read_observed(path: str | Path) -> pd.DataFrame:
    """An observations file, read and checked by the one loader (``model.loader``): the four
    required columns, typed, plus ``CARRIED_COLUMNS`` ("" when absent); other columns are
    ignored. Row order is kept.

    Raises:
        ScenarioError: anything ``read_observation_csv`` refuses (unreadable, empty or binary
            files, missing columns, unclosed quotes, a year outside the model's years
            ``START_YEARS[0]``-``LAST_YEAR``, a value that is not a positive finite number,
            conflicting duplicates), naming the file, line, column, value and what is allowed.
    """
    path = Path(path)
    if path.is_dir():
        files = sorted(path.glob("*.csv"))
        if not files:
            raise ScenarioError(
                f"{path}: a folder without observation files; allowed: a folder of *.csv files"
            )
        return read_observed_files(files)
    table = read_observation_csv(path, first_year=START_YEARS[0], last_year=LAST_YEAR)
    return table[[*REQUIRED_COLUMNS, *CARRIED_COLUMNS]].reset_index(drop=True)


def read_observed_files(paths: list[Path]) -> pd.DataFrame:
    """Several observations files (or folders of them, see ``read_observed``) as one: rows in file
    order, and where two files have the same (unit, indicator, year, vintage) the earlier file's
    row wins. Rows of different vintages are all kept."""
    tables = [read_observed(path) for path in paths]
    combined = pd.concat(tables, ignore_index=True)
    return combined.drop_duplicates(list(KEY_COLUMNS), keep="first").reset_index(drop=True)


def unit_nodes(unit: str, layout: Layout | None = None) -> list[str]:
    """Node ids a unit stands for.

    Raises:
        Unavailable: ``china``, an unknown name, or a sum repeating a node.
    """
    layout = layout or default_layout()
    if unit in OUTSIDE_REGION:
        raise Unavailable(f"unit {unit!r} is outside the model's region")
    if unit == "jjj":
        return list(layout.ids)
    if unit in PROVINCES:
        return [n for n, p in layout.nodes["province"].items() if p == unit]
    parts = unit.split("+")
    unknown = [p for p in parts if p not in layout.ids]
    if unknown:
        raise Unavailable(
            f"unknown unit {unit!r} (allowed: node ids, sums like BD+XA, {', '.join(PROVINCES)}, jjj)"
        )
    if len(set(parts)) != len(parts):
        raise Unavailable(f"unit {unit!r} repeats a node")
    return parts


# --- simulated runs, reduced to what measures need -------------------------------------------

NODE_COLUMNS = (
    "population",
    "talents",
    "price_cny_m2",
    "wage_cny_year",
    "graduates",
    "entries",
    "university_entrants",
    "nonlocal_talents",
    "commuters",
    "graduates_left",
    "graduates_employed",
    "graduates_employed_in_province",
    "local_graduates",
    "local_graduates_left",
    "local_graduates_employed",
    "local_graduates_employed_in_province",
    "foreign_talents",
    "students",
)


@dataclass(frozen=True)
class RunNodes:
    """One run's node table as arrays: ``values[column]`` has shape (years, nodes).
    Columns a run does not report are absent (measures that need them are unavailable)."""

    years: tuple[int, ...]
    nodes: tuple[str, ...]
    values: Mapping[str, np.ndarray]

    @classmethod
    def from_tables(cls, tables: Mapping[str, pd.DataFrame]) -> RunNodes:
        """From ``model.simulation.simulate``'s tables ("nodes" and "stocks")."""
        nodes = tables["nodes"]
        years = tuple(int(y) for y in sorted(nodes["year"].unique()))
        ids = tuple(dict.fromkeys(nodes["node"]))
        values = {
            column: nodes.pivot(index="year", columns="node", values=column)
            .reindex(index=list(years), columns=list(ids))
            .to_numpy(float)
            for column in NODE_COLUMNS
            if column in nodes.columns
        }
        stocks = tables["stocks"]
        foreign = (
            stocks[stocks["is_foreign"]]
            .groupby(["year", "node"])["persons"]
            .sum()
            .unstack(fill_value=0)
            .reindex(index=list(years), columns=list(ids), fill_value=0)
        )
        values["foreign_talents"] = foreign.to_numpy(float)
        students = (
            stocks[stocks["status"] == "student"]
            .groupby(["year", "node"])["persons"]
            .sum()
            .unstack(fill_value=0)
            .reindex(index=list(years), columns=list(ids), fill_value=0)
        )
        values["students"] = students.to_numpy(float)
        return cls(years, ids, values)

    def sums(self, column: str, year: int, nodes: list[str]) -> float:
        return float(self.column(column, year, nodes).sum())

    def column(self, column: str, year: int, nodes: list[str]) -> np.ndarray:
        if column not in self.values:
            raise Unavailable(f"the run's node table has no {column!r} column")
        return self.values[column][self.years.index(year), [self.nodes.index(n) for n in nodes]]


# --- what the measures need from the model's own data ----------------------------------------


def run_nodes(tables: Mapping[str, pd.DataFrame]) -> RunNodes:
    """``RunNodes.from_tables``, as a function the runner can send to a worker by name."""
    return RunNodes.from_tables(tables)


@dataclass(frozen=True)
class Context:
    """Numbers from the model's base-year data (``model/inputs.py``) that measures use.

    Attributes:
        start_year: the run's base year.
        province: node id -> province.
        base_wage: node id -> published-definition wage in the start year (A6).
        short_cycle_factor: province -> 1 + short-cycle per bachelor entrant (A9).
        enrolled_factor: province -> 1 + short-cycle per bachelor student, 2015 (A9).
        talents_bridge: the plan's 2015 administrative talent total per tertiary talent of the 2015
            base year (A5).
        inside_boundary: (unit, year) -> share of the unit's nodes' residents inside the
            published boundary (A4).
        price_coverage: node -> published 2015 average price over the node's like-for-like
            2015 price (A7), applied to the node's price from ``COVERAGE_FROM`` on.
        aged_6plus_share: province -> its residents aged 6 and over as a share of all, 2010
            census (A5; the model has no ages of residents without a degree).
    """

    start_year: int
    province: Mapping[str, str]
    base_wage: Mapping[str, float]
    short_cycle_factor: Mapping[str, float]
    enrolled_factor: Mapping[str, float]
    talents_bridge: float
    inside_boundary: Mapping[tuple[str, int], float]
    price_coverage: Mapping[str, float]
    aged_6plus_share: Mapping[str, float]


COVERAGE_FROM = 2015
"""The first year of SJZ's published average price on its new coverage (A7)."""


@cache
def context(start_year: int) -> Context:
    """The measuring context of runs that start in ``start_year`` (2010 or 2015)."""
    layout = default_layout()
    province = {str(n): str(p) for n, p in layout.nodes["province"].items()}
    obs = read_observations().set_index(["unit", "indicator", "year"])["value"]
    nodes15 = base_year(2015).nodes
    start = nodes15 if start_year == 2015 else base_year(start_year).nodes

    entrants = nodes15["university_entrants"].groupby(pd.Series(province)).sum()
    short_cycle = {p: float(entrants[p] / obs[(p, "bachelor_entrants", 2015)]) for p in PROVINCES}
    enrolled = nodes15["university_enrolled"].groupby(pd.Series(province)).sum()
    enrolled_factor = {p: float(enrolled[p] / obs[(p, "bachelor_enrolled", 2015)]) for p in PROVINCES}
    bridge = float(obs[("jjj", "talents", 2015)] / nodes15["tertiary"].sum())
    population15 = nodes15["population"]
    inside = {
        ("SJZ", 2015): float(obs[("SJZ", "resident_population", 2015)] / population15["SJZ"]),
        ("BD+XA", 2015): float(
            obs[("BD+XA", "resident_population", 2015)] / (population15["BD"] + population15["XA"])
        ),
    }
    coverage = {"SJZ": float(obs[("SJZ", "new_residential_price", 2015)] / nodes15.at["SJZ", "price_cny_m2"])}
    return Context(
        start_year,
        province,
        start["wage_cny_year"].astype(float).to_dict(),
        short_cycle,
        enrolled_factor,
        bridge,
        inside,
        coverage,
        {p: float(obs[(p, "aged_6plus_share", 2010)]) for p in PROVINCES},
    )


# --- the measures ----------------------------------------------------------------------------

Measure = Callable[[RunNodes, str, list[str], int, Context], float]


def _inside(unit: str, year: int, ctx: Context) -> float:
    return ctx.inside_boundary.get((unit, year), 1.0)


def _population(run: RunNodes, unit: str, nodes: list[str], year: int, ctx: Context) -> float:
    return run.sums("population", year, nodes) * _inside(unit, year, ctx)


def _tertiary(run: RunNodes, unit: str, nodes: list[str], year: int, ctx: Context) -> float:
    return run.sums("talents", year, nodes) * _inside(unit, year, ctx)


def _per_100k(run: RunNodes, unit: str, nodes: list[str], year: int, ctx: Context) -> float:
    return 1e5 * run.sums("talents", year, nodes) / run.sums("population", year, nodes)


def _share_6plus(run: RunNodes, unit: str, nodes: list[str], year: int, ctx: Context) -> float:
    provinces = {ctx.province[n] for n in nodes}
    if len(provinces) != 1:
        raise Unavailable("share aged 6+ with a degree: a province or nodes of one province only (A5)")
    (province,) = provinces
    return run.sums("talents", year, nodes) / (
        run.sums("population", year, nodes) * ctx.aged_6plus_share[province]
    )


def _residents_weighted(values: np.ndarray, residents: np.ndarray) -> float:
    return float((values * residents).sum() / residents.sum())


def _price(run: RunNodes, unit: str, nodes: list[str], year: int, ctx: Context) -> float:
    coverage = [ctx.price_coverage.get(n, 1.0) if year >= COVERAGE_FROM else 1.0 for n in nodes]
    prices = run.column("price_cny_m2", year, nodes) * np.array(coverage)
    return _residents_weighted(prices, run.column("population", year, nodes))


def _foreign(run: RunNodes, unit: str, nodes: list[str], year: int, ctx: Context) -> float:
    return run.sums("foreign_talents", year, nodes) / FOREIGN_TERTIARY_SHARE * _inside(unit, year, ctx)


def _wage(run: RunNodes, unit: str, nodes: list[str], year: int, ctx: Context) -> float:
    growth = run.column("wage_cny_year", year, nodes) / run.column("wage_cny_year", ctx.start_year, nodes)
    base = np.array([ctx.base_wage[n] for n in nodes])
    return _residents_weighted(base * growth, run.column("population", year, nodes))


def _bachelor_graduates(run: RunNodes, unit: str, nodes: list[str], year: int, ctx: Context) -> float:
    if year <= ctx.start_year:
        raise Unavailable("graduates are counted from the first simulated year")
    factors = np.array([ctx.short_cycle_factor[ctx.province[n]] for n in nodes])
    return float((run.column("graduates", year, nodes) / factors).sum())


def _bachelor_entrants(run: RunNodes, unit: str, nodes: list[str], year: int, ctx: Context) -> float:
    if year <= ctx.start_year:
        raise Unavailable("entrants are counted from the first simulated year")
    factors = np.array([ctx.short_cycle_factor[ctx.province[n]] for n in nodes])
    return float((run.column("university_entrants", year, nodes) / factors).sum())


def _bachelor_enrolled(run: RunNodes, unit: str, nodes: list[str], year: int, ctx: Context) -> float:
    factors = np.array([ctx.enrolled_factor[ctx.province[n]] for n in nodes])
    return float((run.column("students", year, nodes) / factors).sum())


def _students(run: RunNodes, unit: str, nodes: list[str], year: int, ctx: Context) -> float:
    return run.sums("students", year, nodes)


def _migrants(run: RunNodes, unit: str, nodes: list[str], year: int, ctx: Context) -> float:
    share = run.sums("nonlocal_talents", year, nodes) / run.sums("talents", year, nodes)
    return share * _population(run, unit, nodes, year, ctx)


def _commuting_talents(run: RunNodes, unit: str, nodes: list[str], year: int, ctx: Context) -> float:
    return run.sums("commuters", year, nodes)


def _staying(origin: str) -> Measure:
    """Graduates employed in the province they studied in / (employed + left the region), of
    ``origin`` all, local (the province's hukou) or nonlocal (all less local)."""

    def counts(run: RunNodes, nodes: list[str], year: int) -> tuple[float, float]:
        def total(column: str) -> float:
            if origin == "local":
                return run.sums(f"local_{column}", year, nodes)
            every = run.sums(column, year, nodes)
            return every - run.sums(f"local_{column}", year, nodes) if origin == "nonlocal" else every

        placed = total("graduates_employed") + total("graduates_left")
        return total("graduates_employed_in_province"), placed

    def measure(run: RunNodes, unit: str, nodes: list[str], year: int, ctx: Context) -> float:
        if len({ctx.province[n] for n in nodes}) != 1:
            raise Unavailable(
                "graduates employed in their province: a province or nodes of one province only"
            )
        staying, placed = counts(run, nodes, year)
        if placed <= 0:
            raise Unavailable(f"no {origin} graduates of {unit}'s universities employed or gone in {year}")
        return staying / placed

    return measure


def _administrative_talents(run: RunNodes, unit: str, nodes: list[str], year: int, ctx: Context) -> float:
    if unit != "jjj":
        raise Unavailable("administrative talent count: the A5 bridge holds for the region (jjj) only")
    return run.sums("talents", year, nodes) * ctx.talents_bridge


MEASURES: Mapping[str, Measure] = {
    "resident_population": _population,
    "tertiary_educated": _tertiary,
    "tertiary_per_100k": _per_100k,
    "tertiary_share_6plus": _share_6plus,
    "new_residential_price": _price,
    "foreign_residents": _foreign,
    "avg_wage_nonprivate": _wage,
    "bachelor_graduates": _bachelor_graduates,
    "bachelor_entrants": _bachelor_entrants,
    "bachelor_enrolled": _bachelor_enrolled,
    "hei_students": _students,
    "undergraduate_enrolled": _students,
    "migrant_residents": _migrants,
    "commuting_talents": _commuting_talents,
    "graduates_employed_in_province_share": _staying("all"),
    "local_graduates_employed_in_province_share": _staying("local"),
    "nonlocal_graduates_employed_in_province_share": _staying("nonlocal"),
    "talents": _administrative_talents,
}
NOT_MEASURED: Mapping[str, str] = {
    "gdp": "the model has no output or GDP",
    "disposable_income_per_capita": "the model has no household income (only the wages firms pay talents)",
    "urban_disposable_income": "the model has no household income (only the wages firms pay talents)",
    "avg_wage_private": "the model has one wage per node, in the non-private definition (A6)",
    "avg_wage_nonprivate_onpost": "on-post workers: narrower than the model's employed persons (A6)",
    "avg_wage_all_workers_bj_definition": "Beijing's own wage definition, not the model's (A6)",
    "hospital_beds_per_10k": "the model's services are an index of physicians per 1,000, not beds",
    "residential_floor_space_sold": "the model counts housing in residents it holds and has no sales",
    "registered_population": "the model records a hukou for talents only, not for all residents",
    "hukou_residents": "the model records a hukou for talents only, not for all residents",
    "postgraduate_graduates": "the model's education pipeline has no postgraduate level (A9)",
    "postgraduate_entrants": "the model's education pipeline has no postgraduate level (A9)",
    "postgraduate_enrolled": "the model's education pipeline has no postgraduate level (A9)",
    "higher_education_institutions": "institutions are not modelled (capacity is entrants by node)",
    "sample_6plus": "a count of sampled persons, not a population quantity",
    "sample_tertiary": "a count of sampled persons, not a population quantity",
    "new_housing_price_index": "an index, which the inputs use to chain SJZ's 2015 price (A7)",
    "commuters_all": "the model's commuters are talents only (commuting_talents, C2)",
    "graduates_all_levels": "an input: with local_graduates_all_levels, Beijing's students' local share (A11)",
    "local_graduates_all_levels": "an input: Beijing's students' local share (A11)",
}
"""Indicators the repository holds that the model cannot measure, and why (a skip reason)."""

BOUNDARY_ADJUSTED = ("resident_population", "tertiary_educated", "foreign_residents", "migrant_residents")


def measure(run: RunNodes, unit: str, indicator: str, year: int, ctx: Context) -> float:
    """The simulated value of one observations row on one run.

    Raises:
        Unavailable: the unit, indicator or year cannot be produced (the message says why).
    """
    if indicator in NOT_MEASURED:
        raise Unavailable(f"{indicator}: {NOT_MEASURED[indicator]}")
    if indicator not in MEASURES:
        raise Unavailable(f"unknown indicator {indicator!r} (the model measures: {', '.join(MEASURES)})")
    nodes = unit_nodes(unit)
    if year not in run.years:
        raise Unavailable(f"year {year} outside the run ({run.years[0]}-{run.years[-1]})")
    return MEASURES[indicator](run, unit, nodes, year, ctx)


def measure_note(unit: str, indicator: str, year: int, ctx: Context) -> str:
    """What was done to make the simulated value comparable (empty when nothing)."""
    notes = []
    if indicator in BOUNDARY_ADJUSTED and (unit, year) in ctx.inside_boundary:
        left_out = {"SJZ": "Xinji", "BD+XA": "Dingzhou"}[unit]
        notes.append(f"x {ctx.inside_boundary[(unit, year)]:.4f}: {left_out} left out as published (A4)")
    if indicator == "bachelor_graduates":
        notes.append("graduates / (1 + short-cycle per bachelor, A9)")
    if indicator == "bachelor_entrants":
        notes.append("new students / (1 + short-cycle per bachelor entrant, A9)")
    if indicator == "bachelor_enrolled":
        notes.append("students / (1 + short-cycle per bachelor student in 2015, A9)")
    if indicator == "migrant_residents":
        notes.append("residents x talents' non-local share (A11)")
    if indicator == "tertiary_share_6plus":
        notes.append("talents / (residents x the 2010 census share aged 6+, A5)")
    if indicator == "talents":
        notes.append(f"tertiary x {ctx.talents_bridge:.4f} (A5 bridge)")
    if indicator.endswith("graduates_employed_in_province_share"):
        notes.append("employed in the province / (employed + left the region), bachelor and short-cycle (D7)")
    if indicator == "foreign_residents":
        notes.append(f"foreign talents / {FOREIGN_TERTIARY_SHARE} (A10)")
    if indicator == "avg_wage_nonprivate":
        notes.append("base-year wage (A6) x the model's talent-wage growth")
    if indicator == "new_residential_price" and len(unit_nodes(unit)) > 1:
        notes.append("residents-weighted mean of node prices")
    covered = [n for n in unit_nodes(unit) if n in ctx.price_coverage]
    if indicator == "new_residential_price" and year >= COVERAGE_FROM and covered:
        notes.append(
            f"{covered[0]}'s price x {ctx.price_coverage[covered[0]]:.4f}: the published coverage (A7)"
        )
    return "; ".join(notes)
