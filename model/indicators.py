"""Indicators: the plan's qualitative targets (二(三)) made measurable, from a run's tables.

| indicator | definition | stands for |
|---|---|---|
| ``talents.<node>``, ``.province.<p>``, ``.pole.<p>``, ``talents.jjj`` | tertiary-educated residents | talent totals |
| ``talent_jobs.province.<p>`` | persons employed in the province's nodes (trainees included), wherever they live | jobs, apart from residents |
| ``commuters.province.<p>`` | talents living in the province who work in another node | living in one node, working in another |
| ``hebei_share`` | Hebei's talents / the region's | "talent structure fits the functional roles" (2025), less concentration in Beijing |
| ``bj_hb_density_gap`` | talents per 100,000 residents, Beijing minus Hebei | the gap the plan says keeps widening (一(二)) |
| ``tertiary_per_100k.<p>`` | talents per 100,000 residents by province | census-comparable density |
| ``high_end.pole.<p>`` | high-end talents by pole | "world high-end talent cluster" (2030) |
| ``foreign_share`` | foreign talents / all talents | "international competitiveness clearly higher" (2025) |
| ``xiongan_talents`` | talents in Xiong'an, from its founding year | 四(五) Xiong'an talent gathering |
| ``unemployment_rate`` | talents looking for work / talents in the labour force | one unified talent market (2030) |
| ``services_gap`` | Beijing's public-service index minus Hebei's resident-weighted mean | "basic public services clearly more equal" (2025) |
| ``graduates.province.<p>`` | students finishing tertiary education in the year | graduates (三(一)) |
| ``nonlocal_talents.province.<p>`` | talents without the province's hukou | migrant talents |
| ``fte_served.province.<p>`` | full-time equivalents served there by teams and part-timers | 三(一) help for Hebei |
| ``<term>_since_base.province.<p>`` | each term of ``talent_accounts`` (below), summed from the base year to the year | where a province's change of talents came from; an effect on them splits a lever's effect on talents |

``talent_accounts`` says where each province's change of talents came from, year by year:

    T_end - T_start = university entrants + adults' degrees + arrivals - leavers
                      + moves in - moves out - deaths

with university entrants and adults' degrees the year's new talents (``university_entrants`` and
``entries`` less them in the nodes table; students count as talents from entry, as in the
census), arrivals and leavers the moves of home from and to outside the region (overseas recruits
among the arrivals), moves in and out those between this province's nodes and another's (moves
within a province cancel), and deaths the talents who died (``exits``). Every term is whole
persons, so the identity holds exactly; ``unexplained`` is what it leaves, 0 unless a rule
changes the talents without counting it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from model.layout import PROVINCES, Layout
from model.plan import MILESTONE_YEARS

XIONGAN_FOUNDED = 2017


ACCOUNT_TERMS: tuple[str, ...] = (
    "university_entrants",
    "adult_degrees",
    "arrivals",
    "leavers",
    "moves_in",
    "moves_out",
    "deaths",
)
"""The terms of ``talent_accounts``, in order."""
SUBTRACTED: tuple[str, ...] = ("leavers", "moves_out", "deaths")
"""The terms that lower the talents; the others raise them."""


@dataclass(frozen=True)
class Accounts:
    """A run's account terms as arrays (years, provinces): ``terms[term]`` each year's persons,
    ``talents`` the talents at each year's end."""

    years: np.ndarray
    provinces: list[str]
    talents: np.ndarray
    terms: dict[str, np.ndarray]


def account_arrays(nodes: pd.DataFrame, flows: pd.DataFrame, province: pd.Series) -> Accounts:
    """The terms of ``talent_accounts`` by year and province (module docstring), summed with
    ``np.add.at`` over the nodes and flows tables' rows (an indicator of every run: kept cheap)."""
    years = np.sort(nodes["year"].unique())
    provinces = sorted(set(province.loc[nodes["node"].unique()]))
    code = {node: provinces.index(p) for node, p in province.items() if p in provinces}
    outside = len(provinces)
    shape = (len(years), len(provinces))

    def summed(year: pd.Series, place: np.ndarray, values: np.ndarray) -> np.ndarray:
        table = np.zeros(shape)
        np.add.at(table, (np.searchsorted(years, year.to_numpy()), place), values)
        return table

    at = nodes["node"].map(code).to_numpy(int)

    def column(name: str) -> np.ndarray:
        return summed(nodes["year"], at, nodes[name].to_numpy(float))

    origin = flows["origin"].map(code).fillna(outside).to_numpy(int)
    destination = flows["destination"].map(code).fillna(outside).to_numpy(int)
    persons = flows["persons"].to_numpy(float)
    inside = (origin < outside) & (destination < outside) & (origin != destination)
    arriving, leaving = (
        (origin == outside) & (destination < outside),
        (destination == outside) & (origin < outside),
    )

    def moved(chosen: np.ndarray, place: np.ndarray) -> np.ndarray:
        return summed(flows["year"][chosen], place[chosen], persons[chosen])

    entrants = column("university_entrants")
    terms = {
        "university_entrants": entrants,
        "adult_degrees": column("entries") - entrants,
        "arrivals": moved(arriving, destination),
        "leavers": moved(leaving, origin),
        "moves_in": moved(inside, destination),
        "moves_out": moved(inside, origin),
        "deaths": column("exits"),
    }
    return Accounts(years, provinces, column("talents"), terms)


def talent_accounts(nodes: pd.DataFrame, flows: pd.DataFrame, province: pd.Series) -> pd.DataFrame:
    """Each year's change of each province's talents by its terms (module docstring), from a
    run's nodes table (year, node, talents, entries, university_entrants, exits) and flows table
    (year, origin, destination, persons; ``OUT`` for outside the region); ``province`` maps node
    ids to provinces. One row per (year, province) from the second year: ``talents_start``, the
    terms of ``ACCOUNT_TERMS`` (all >= 0), ``talents_end`` and ``unexplained``."""
    accounts = account_arrays(nodes, flows, province)
    years, provinces = accounts.years[1:], accounts.provinces
    table = {
        "year": np.repeat(years, len(provinces)),
        "province": np.tile(provinces, len(years)),
        "talents_start": accounts.talents[:-1].ravel(),
    }
    table |= {term: accounts.terms[term][1:].ravel() for term in ACCOUNT_TERMS}
    table["talents_end"] = accounts.talents[1:].ravel()
    change = sum(-table[t] if t in SUBTRACTED else table[t] for t in ACCOUNT_TERMS)
    table["unexplained"] = table["talents_end"] - table["talents_start"] - change
    frame = pd.DataFrame(table)
    columns = ["talents_start", *ACCOUNT_TERMS, "talents_end", "unexplained"]
    frame[columns] = frame[columns].round().astype("int64")
    return frame


def indicators(
    stocks: pd.DataFrame, nodes: pd.DataFrame, layout: Layout, flows: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Long table (year, indicator, value) of every indicator for every year of a run; the
    accounts' terms only with the run's ``flows``."""
    place = layout.nodes[["province", "pole"]]
    years: list[np.ndarray] = []
    names: list[np.ndarray] = []
    values: list[np.ndarray] = []

    def add(series: pd.Series, name: str) -> None:
        # columns gathered and made into one table at the end (not a DataFrame an indicator)
        years.append(series.index.to_numpy())
        names.append(np.full(len(series), name))
        values.append(series.to_numpy(float))

    by_node = nodes.pivot(index="year", columns="node", values="talents")
    population = nodes.pivot(index="year", columns="node", values="population")
    for node in by_node.columns:
        add(by_node[node], f"talents.{node}")
    by_province = by_node.T.groupby(place["province"]).sum().T
    pop_province = population.T.groupby(place["province"]).sum().T
    for province in PROVINCES:
        add(by_province[province], f"talents.province.{province}")
        add(1e5 * by_province[province] / pop_province[province], f"tertiary_per_100k.{province}")
        add(pop_province[province], f"population.province.{province}")
    for column in ("graduates", "nonlocal_talents", "fte_served", "talent_jobs", "commuters"):
        if column in nodes.columns:
            wide = (
                nodes.pivot(index="year", columns="node", values=column).T.groupby(place["province"]).sum().T
            )
            for province in PROVINCES:
                add(wide[province], f"{column}.province.{province}")
    for pole, series in by_node.T.groupby(place["pole"]).sum().T.items():
        add(series, f"talents.pole.{pole}")
    total = by_node.sum(axis=1)
    add(total, "talents.jjj")
    add(by_province["hebei"] / total, "hebei_share")
    density = 1e5 * by_province / pop_province
    add(density["beijing"] - density["hebei"], "bj_hb_density_gap")

    with_pole = stocks.join(place["pole"], on="node")
    # sums of whole persons (exact in any order); a grouped sum is what pivot_table does, less its overhead
    high_end = (
        with_pole[with_pole["is_high_end"]]
        .groupby(["year", "pole"])["persons"]
        .sum()
        .unstack("pole")
        .reindex(columns=list(PROVINCES), fill_value=0)
    )
    for pole in high_end.columns:
        add(high_end[pole].reindex(total.index, fill_value=0), f"high_end.pole.{pole}")
    foreign = stocks[stocks["is_foreign"]].groupby("year")["persons"].sum().reindex(total.index, fill_value=0)
    add(foreign / total, "foreign_share")
    if "XA" in by_node.columns:
        xiongan = by_node["XA"]
        add(xiongan[xiongan.index >= XIONGAN_FOUNDED], "xiongan_talents")
    status = stocks.groupby(["year", "status"])["persons"].sum().unstack("status").fillna(0)
    looking = status.get("unemployed", 0)
    add(looking / (status.get("employed", 0) + looking), "unemployment_rate")

    if flows is not None:
        accounts = account_arrays(nodes, flows, place["province"])
        for term in ACCOUNT_TERMS:
            since_base = accounts.terms[term].cumsum(axis=0)  # the base year's row is 0
            for i, province in enumerate(accounts.provinces):
                add(
                    pd.Series(since_base[:, i], index=accounts.years),
                    f"{term}_since_base.province.{province}",
                )

    services = nodes.pivot(index="year", columns="node", values="services_index")
    hebei_nodes = place.index[place["province"] == "hebei"]
    hebei_services = (services[hebei_nodes] * population[hebei_nodes]).sum(axis=1) / population[
        hebei_nodes
    ].sum(axis=1)
    beijing_nodes = place.index[place["province"] == "beijing"]
    add(services[beijing_nodes].max(axis=1) - hebei_services, "services_gap")
    return pd.DataFrame(
        {"year": np.concatenate(years), "indicator": np.concatenate(names), "value": np.concatenate(values)}
    )


def at_milestones(table: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Selected indicators at the plan's milestone years (and the first year), wide."""
    first = int(table["year"].min())
    years = [first] + [y for y in MILESTONE_YEARS if y in set(table["year"])]
    chosen = table[table["indicator"].isin(names) & table["year"].isin(years)]
    return chosen.pivot(index="indicator", columns="year", values="value").reindex(names)
