"""A small, schema-true synthetic run directory for tests of charts and reports.

The numbers are random but seeded and roughly the region's size (about 19 million talents in
2015); they are consistent where a reader could check them: node talents are the sums of the
stocks, and the indicators are computed from the stocks and the node table. Nothing here is a
result of the model.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.files import write_csv, write_json, write_parquet
from reports.charts import read_layout

GROUPS = ("research", "engineering", "management", "professional", "skilled")
GROUP_SHARES = (0.10, 0.30, 0.20, 0.30, 0.10)
STATUSES = ("student", "employed", "unemployed", "retired")
STATUS_SHARES = (0.10, 0.78, 0.04, 0.08)
TERMS = ("wage", "jobs", "housing", "services", "amenity", "agglomeration", "distance", "barriers", "levers")

# Talents in the base year (persons), rough magnitudes only.
BASE_TALENTS = {
    "BJ": 6_800_000,
    "TZ": 450_000,
    "TJ": 2_900_000,
    "BH": 1_300_000,
    "WQ": 280_000,
    "SJZ": 1_300_000,
    "TS": 850_000,
    "QHD": 360_000,
    "HD": 700_000,
    "XT": 420_000,
    "BD": 800_000,
    "ZJK": 300_000,
    "CD": 260_000,
    "CZ": 520_000,
    "LF": 480_000,
    "HS": 300_000,
    "XA": 60_000,
}
BASE_PRICE = {"beijing": 45_000.0, "tianjin": 22_000.0, "hebei": 8_500.0}
BASE_WAGE = {"beijing": 150_000.0, "tianjin": 105_000.0, "hebei": 72_000.0}

SCENARIO = "fake-plan <2017> & test"


def make_fake_run(
    directory: Path,
    years: Iterable[int] = range(2015, 2031),
    *,
    seed: int = 20170626,
    with_drivers: bool = True,
    with_levers: bool = True,
) -> Path:
    """Write a synthetic run directory at ``directory`` and return it.

    ``with_drivers`` / ``with_levers`` False write the header-only ``drivers.csv`` /
    ``lever_spending.csv`` a run without those records would have.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    years = [int(year) for year in years]
    rng = np.random.default_rng(seed)
    layout = read_layout()
    nodes = list(layout["node_id"])
    provinces = dict(zip(layout["node_id"], layout["province"], strict=True))
    poles = dict(zip(layout["node_id"], layout["pole"], strict=True))

    # Talents by node and year, and their split into stock rows.
    growth = {node: rng.normal(0.012, 0.008) for node in nodes}
    growth["XA"] = 0.16
    stock_rows = []
    for node in nodes:
        level = float(BASE_TALENTS.get(node, 300_000))
        for year in years:
            for group, group_share in zip(GROUPS, GROUP_SHARES, strict=True):
                for is_high_end, high_share in ((True, 0.04), (False, 0.96)):
                    for is_foreign, foreign_share in ((True, 0.008), (False, 0.992)):
                        for status, status_share in zip(STATUSES, STATUS_SHARES, strict=True):
                            noise = rng.uniform(0.9, 1.1)
                            persons = round(
                                level * group_share * high_share * foreign_share * status_share * noise
                            )
                            stock_rows.append((year, node, group, is_high_end, is_foreign, status, persons))
            level *= 1 + growth[node] + rng.normal(0, 0.004)
    stocks = pd.DataFrame(
        stock_rows, columns=["year", "node", "group", "is_high_end", "is_foreign", "status", "persons"]
    )
    stocks["year"] = stocks["year"].astype("int64")
    stocks["persons"] = stocks["persons"].astype("int64")

    talents = stocks.groupby(["year", "node"])["persons"].sum()

    # Flows: a drift out of Beijing towards Xiong'an, Tongzhou and Langfang, plus noise.
    flow_rows = []
    for year in years:
        for origin, destination, mean in (
            ("BJ", "XA", 30_000),
            ("BJ", "TZ", 20_000),
            ("BJ", "LF", 9_000),
            ("TJ", "BH", 6_000),
            ("XA", "BJ", 4_000),
            ("SJZ", "BJ", 7_000),
        ):
            for group in GROUPS:
                flow_rows.append((year, origin, destination, group, int(rng.poisson(mean / len(GROUPS)))))
        for _ in range(25):
            origin, destination = rng.choice(nodes + ["OUT"], size=2, replace=False)
            flow_rows.append(
                (year, str(origin), str(destination), str(rng.choice(GROUPS)), int(rng.integers(100, 3_000)))
            )
    flows = pd.DataFrame(flow_rows, columns=["year", "origin", "destination", "group", "persons"])
    flows["year"] = flows["year"].astype("int64")
    flows["persons"] = flows["persons"].astype("int64")

    # Node table.
    node_rows = []
    for node in nodes:
        pole = poles[node]
        price = BASE_PRICE[pole] * rng.uniform(0.6, 1.4)
        wage = BASE_WAGE[pole] * rng.uniform(0.85, 1.15)
        residents_per_talent = rng.uniform(3.0, 9.0) if pole == "hebei" else rng.uniform(2.5, 4)
        for year in years:
            persons = int(talents.loc[(year, node)])
            inflow = int(flows[(flows["year"] == year) & (flows["destination"] == node)]["persons"].sum())
            outflow = int(flows[(flows["year"] == year) & (flows["origin"] == node)]["persons"].sum())
            node_rows.append(
                {
                    "year": year,
                    "node": node,
                    "population": int(persons * residents_per_talent),
                    "talents": persons,
                    "price_cny_m2": price,
                    "wage_cny_year": wage,
                    "services_index": float(rng.uniform(0.4, 1.0)),
                    "vacancies": int(persons * rng.uniform(0.01, 0.05)),
                    "entries": (entries := int(persons * rng.uniform(0.03, 0.05))),
                    "university_entrants": int(entries * rng.uniform(0.5, 0.8)),
                    "exits": int(persons * rng.uniform(0.02, 0.04)),
                    "inflow": inflow,
                    "outflow": outflow,
                }
            )
            price *= 1 + rng.normal(0.04, 0.03)
            wage *= 1 + rng.normal(0.06, 0.01)
    node_years = pd.DataFrame(node_rows)
    for column in (
        "year",
        "population",
        "talents",
        "vacancies",
        "entries",
        "university_entrants",
        "exits",
        "inflow",
        "outflow",
    ):
        node_years[column] = node_years[column].astype("int64")

    indicators = _indicators(stocks, node_years, provinces, poles, years)

    drivers = pd.DataFrame(columns=["term", "province", "persons"])
    if with_drivers:
        drivers = pd.DataFrame(
            [
                (term, province, int(rng.normal(0, 150_000)))
                for term in TERMS
                for province in ("beijing", "tianjin", "hebei")
            ],
            columns=["term", "province", "persons"],
        )
    spending = pd.DataFrame(columns=["year", "lever", "node", "cny"])
    if with_levers:
        spending = pd.DataFrame(
            [
                (year, "graduate_subsidy", node, float(rng.uniform(5e7, 2e8)))
                for year in years
                if year >= 2018
                for node in ("SJZ", "BD", "XA")
            ]
            + [
                (year, "talent_housing", "XA", float(rng.uniform(1e8, 5e8)))
                for year in years
                if 2019 <= year <= 2025
            ],
            columns=["year", "lever", "node", "cny"],
        )

    parameters = pd.DataFrame(
        [
            ("beta_wage", 1.2, 1.0, "per log CNY", 0.0, 3.0, "weight of log wage in utility", "assumption"),
            (
                "beta_housing",
                -0.8,
                -0.8,
                "per share of income",
                -3.0,
                0.0,
                "weight of housing cost over income",
                "assumption",
            ),
            (
                "move_hazard",
                0.06,
                0.06,
                "per year",
                0.0,
                0.3,
                "yearly chance to consider moving",
                "census 2010 migration table",
            ),
        ],
        columns=["name", "value", "default", "unit", "lower", "upper", "meaning", "source"],
    )
    statuses = ("observed", "derived", "unverified", "assumption")
    provenance = pd.DataFrame(
        [
            (
                node,
                "population",
                int(node_years[(node_years["node"] == node)]["population"].iloc[0]),
                statuses[i % len(statuses)],
                "https://www.stats.gov.cn/sj/ndsj/",
                "<script>alert('x')</script> yearbook table 2-1" if node == "XA" else "yearbook",
            )
            for i, node in enumerate(nodes)
        ],
        columns=["node_id", "field", "value", "status", "source", "basis"],
    )
    manifest = {
        "scenario": SCENARIO,
        "description": "Synthetic run for tests; <not> real results.",
        "scenario_sha256": "0" * 64,
        "seed": seed,
        "scale": 100,
        "start_year": years[0],
        "end_year": years[-1],
        "agent_rows": 190_000,
        "versions": {"python": "3.11", "mesa": "3.3.1", "numpy": np.__version__},
        "git_commit": "deadbeef",
        "wall_seconds": 12.5,
        "created": "2026-11-26T08:30:00+00:00",
    }
    notes = [
        "lever graduate_subsidy past its last date, held at 30000 CNY from 2026",
        "<b>not markup</b> & friends",
    ]

    write_parquet(directory / "stocks.parquet", stocks)
    write_parquet(directory / "flows.parquet", flows)
    write_parquet(directory / "nodes.parquet", node_years)
    write_csv(directory / "indicators.csv", indicators)
    write_csv(directory / "drivers.csv", drivers)
    write_csv(directory / "lever_spending.csv", spending)
    write_csv(directory / "parameters.csv", parameters)
    write_csv(directory / "provenance.csv", provenance)
    write_json(directory / "notes.json", notes)
    write_json(directory / "manifest.json", manifest)
    return directory


def _indicators(
    stocks: pd.DataFrame,
    node_years: pd.DataFrame,
    provinces: dict[str, str],
    poles: dict[str, str],
    years: list[int],
) -> pd.DataFrame:
    rows: list[tuple[int, str, float]] = []
    stocks = stocks.assign(province=stocks["node"].map(provinces), pole=stocks["node"].map(poles))
    node_years = node_years.assign(province=node_years["node"].map(provinces))
    for year in years:
        now = stocks[stocks["year"] == year]
        residents = node_years[node_years["year"] == year].groupby("province")["population"].sum()
        by_node = now.groupby("node")["persons"].sum()
        by_province = now.groupby("province")["persons"].sum()
        by_pole = now.groupby("pole")["persons"].sum()
        high_end = now[now["is_high_end"]].groupby("pole")["persons"].sum()
        total = float(by_node.sum())
        rows += [(year, f"talents.{node}", float(value)) for node, value in by_node.items()]
        rows += [(year, f"talents.province.{p}", float(v)) for p, v in by_province.items()]
        rows += [(year, f"talents.pole.{p}", float(v)) for p, v in by_pole.items()]
        rows.append((year, "talents.jjj", total))
        rows.append((year, "hebei_share", float(by_province["hebei"]) / total))
        density = by_province / residents * 1e5
        rows.append((year, "bj_hb_density_gap", float(density["beijing"] - density["hebei"])))
        rows += [(year, f"high_end.pole.{p}", float(v)) for p, v in high_end.items()]
        rows.append((year, "foreign_share", float(now[now["is_foreign"]]["persons"].sum()) / total))
        rows.append((year, "xiongan_talents", float(by_node["XA"])))
        employed = float(now[now["status"] == "employed"]["persons"].sum())
        unemployed = float(now[now["status"] == "unemployed"]["persons"].sum())
        rows.append((year, "unemployment_rate", unemployed / (employed + unemployed)))
        rows.append((year, "mystery.index", 1.5 + 0.01 * (year - years[0])))
    frame = pd.DataFrame(rows, columns=["year", "indicator", "value"])
    frame["year"] = frame["year"].astype("int64")
    return frame


# The assumptions page the report tests render (its own, small: tables, lists, inline markup).
ASSUMPTIONS = """# Assumptions

Conventions for all sections:
- **Talents** are tertiary-educated residents,
  students included.
- Rates are per `100,000` residents <b>not bold</b>.

## A1 A table

| node | rate |
|---|---:|
| BJ | 32,311 |
| HS | 4,182 |

1. first
2. second
"""
