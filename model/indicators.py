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
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from model.layout import PROVINCES, Layout
from model.plan import MILESTONE_YEARS

XIONGAN_FOUNDED = 2017


def indicators(stocks: pd.DataFrame, nodes: pd.DataFrame, layout: Layout) -> pd.DataFrame:
    """Long table (year, indicator, value) of every indicator for every year of a run."""
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
