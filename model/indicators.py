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
OUTSIDE = "OUT"
"""The flows table's name for outside the region."""


def talent_accounts(nodes: pd.DataFrame, flows: pd.DataFrame, province: pd.Series) -> pd.DataFrame:
    """Each year's change of each province's talents by its terms (module docstring), from a
    run's nodes table (year, node, talents, entries, university_entrants, exits) and flows table
    (year, origin, destination, persons; ``OUT`` for outside the region); ``province`` maps node
    ids to provinces. One row per (year, province) from the second year: ``talents_start``, the
    terms of ``ACCOUNT_TERMS`` (all >= 0), ``talents_end`` and ``unexplained``."""
    place = nodes["node"].map(province)
    by_province = nodes.assign(province=place).groupby(["year", "province"])
    table = pd.DataFrame(
        {
            "talents_end": by_province["talents"].sum(),
            "university_entrants": by_province["university_entrants"].sum(),
            "adult_degrees": by_province["entries"].sum() - by_province["university_entrants"].sum(),
            "deaths": by_province["exits"].sum(),
        }
    )
    origin = flows["origin"].map(province).fillna(OUTSIDE)
    destination = flows["destination"].map(province).fillna(OUTSIDE)
    crossing = flows.assign(origin=origin, destination=destination)[origin != destination]

    def moved(side: str, kind: pd.Series) -> pd.Series:
        chosen = crossing[kind & (crossing[side] != OUTSIDE)]
        return chosen.groupby(["year", side])["persons"].sum().rename_axis(["year", "province"])

    from_outside, to_outside = crossing["origin"] == OUTSIDE, crossing["destination"] == OUTSIDE
    table["arrivals"] = moved("destination", from_outside)
    table["leavers"] = moved("origin", to_outside)
    table["moves_in"] = moved("destination", ~from_outside)
    table["moves_out"] = moved("origin", ~to_outside)
    table = table.fillna(0)
    table["talents_start"] = table.groupby(level="province")["talents_end"].shift()
    table = table.dropna(subset=["talents_start"])
    added = [term for term in ACCOUNT_TERMS if term not in SUBTRACTED]
    change = table[added].sum(axis=1) - table[list(SUBTRACTED)].sum(axis=1)
    table["unexplained"] = table["talents_end"] - table["talents_start"] - change
    columns = ["talents_start", *ACCOUNT_TERMS, "talents_end", "unexplained"]
    return table[columns].astype("int64").reset_index()


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
        accounts = talent_accounts(nodes, flows, place["province"])
        for province in PROVINCES:
            own = accounts[accounts["province"] == province].set_index("year")[list(ACCOUNT_TERMS)]
            since_base = own.reindex(total.index, fill_value=0).cumsum()  # the base year adds nothing
            for term in ACCOUNT_TERMS:
                add(since_base[term], f"{term}_since_base.province.{province}")

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
