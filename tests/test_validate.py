"""Validation (experiments/calibration/validate.py, observed.py): a file made by the model
itself is matched, rows the model cannot produce are listed with their reason, and the naive
forecast and MASE follow their documented definitions."""

from __future__ import annotations

import contextlib
import io
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from app.cli import main
from experiments.calibration import observed
from experiments.calibration.observed import (
    RunNodes,
    Unavailable,
    context,
    measure,
    read_observed,
    unit_nodes,
)
from experiments.calibration.validate import add_naive, compare, run_replicates, summaries_by, summarise
from experiments.replicates import replicate_seeds
from model.errors import ScenarioError
from model.parameters import PARAMETERS
from model.scenario import load_scenario
from tests.conftest import SCENARIOS

SMALL = {"scale": 2000, "end_year": 2012}
ROOT_SEED = 7
REPLICATES = 2
MEASURED = [  # (unit, indicator, year): every measure, every kind of unit
    ("BJ", "resident_population", 2012),
    ("BD+XA", "resident_population", 2011),
    ("jjj", "resident_population", 2012),
    ("hebei", "tertiary_educated", 2012),
    ("tianjin", "tertiary_per_100k", 2011),
    ("beijing", "tertiary_share_6plus", 2012),
    ("hebei", "new_residential_price", 2012),
    ("jjj", "foreign_residents", 2012),
    ("SJZ", "avg_wage_nonprivate", 2012),
    ("hebei", "bachelor_graduates", 2012),
    ("beijing", "migrant_residents", 2012),
    ("jjj", "talents", 2011),
    ("TZ", "tertiary_educated", 2010),
    ("hebei", "bachelor_entrants", 2012),
    ("beijing", "bachelor_enrolled", 2011),
    ("SJZ", "hei_students", 2012),
    ("tianjin", "undergraduate_enrolled", 2012),
    ("beijing", "graduates_employed_in_province_share", 2012),
]


def rows(entries: list[tuple[str, str, int]], values: list[float] | None = None) -> pd.DataFrame:
    """An observations table in the shared file's columns."""
    values = values if values is not None else [1.0] * len(entries)
    return pd.DataFrame(
        [
            {
                "unit": u,
                "indicator": i,
                "year": y,
                "value": v,
                "uom": "",
                "status": "observed",
                "source": "test",
                "note": "",
                "model_use": "",
            }
            for (u, i, y), v in zip(entries, values)
        ]
    )


@pytest.fixture(scope="module")
def history_runs():
    """History from 2010 to 2012 at scale 2000, two replicates spawned from ROOT_SEED."""
    scenario = load_scenario(SCENARIOS / "history.yaml").with_overrides(SMALL)
    return run_replicates(scenario, replicate_seeds(ROOT_SEED, REPLICATES))


def invoke(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        status = main(list(argv))
    return status, out.getvalue()


def test_a_file_made_by_the_model_itself_is_matched(history_runs, tmp_path):
    made = compare(rows(MEASURED), history_runs, 2010)
    assert (made["result"] == "compared").all(), made["reason"].tolist()
    observed = rows(MEASURED, made["simulated_mean"].tolist())
    observed.to_csv(tmp_path / "own.csv", index=False)

    status, printed = invoke(
        "validate",
        str(SCENARIOS / "history.yaml"),
        "--observed",
        str(tmp_path / "own.csv"),
        "--from",
        "2010",
        "--replicates",
        str(REPLICATES),
        "--seed",
        str(ROOT_SEED),
        "--scale",
        "2000",
        "--out",
        str(tmp_path / "out"),
    )

    assert status == 0
    table = pd.read_csv(tmp_path / "out" / "validation.csv")
    assert (table["result"] == "compared").all()
    assert table["relative_error"].abs().max() < 1e-9
    assert (
        printed.strip().splitlines()[-1]
        == f"validation: rows={len(MEASURED)} skipped=0 mape=0.00% mase=0.000"
    )
    assert {"summary.json", "validation.png", "validation.svg"} <= {
        p.name for p in (tmp_path / "out").iterdir()
    }


def test_students_and_entrants_are_measured_in_the_published_definitions(history_runs):
    """At the start year the model's students are its base data (A9: the 2015 counts on the
    intake's path back to 2010), so measured in each published definition they give the published
    numbers back, as far back on that path; entrants in the first simulated year (2011) are the
    2015 intake four years back on it."""
    ctx = context(2010)
    students = {
        ("tianjin", "undergraduate_enrolled"): 512_900,  # NBS-CITY, bachelor and short-cycle
        ("SJZ", "hei_students"): 419_800,
        ("hebei", "bachelor_enrolled"): 682_600,  # NBS-DB, bachelor only
        ("beijing", "bachelor_enrolled"): 505_700,
    }
    intake = {"beijing": 126_300, "tianjin": 82_100, "hebei": 167_200}  # bachelor entrants 2015
    growth = 1 + PARAMETERS["entrants_growth"].default  # not fitted
    for run in history_runs:
        for (unit, indicator), published in students.items():
            expected = published * growth ** (2010 - 2015)
            assert measure(run, unit, indicator, 2010, ctx) == pytest.approx(expected, rel=1e-3)
        for province, entrants in intake.items():
            expected = entrants * growth ** (2011 - 2015)
            assert measure(run, province, "bachelor_entrants", 2011, ctx) == pytest.approx(expected, rel=0.01)


def test_a_2015_start_gives_back_the_surveys_shares_aged_6_and_over_with_a_degree():
    """A5 sets a province's 2015 talents to the 1 % survey's share of residents aged 6+ with a
    degree x the 2010 census share aged 6+ x its residents; the measure reads that backwards,
    so a run from 2015 gives the published shares back (NBS-SAMPLE: 42.3 %, 23.3 %, 10.2 %),
    and a province's nodes together are the province."""
    scenario = load_scenario(SCENARIOS / "baseline.yaml").with_overrides({"scale": 2000, "end_year": 2016})
    (run,) = run_replicates(scenario, replicate_seeds(ROOT_SEED, 1))
    ctx = context(2015)
    published = {"beijing": 0.42335, "tianjin": 0.23331, "hebei": 0.10208}
    for province, share in published.items():
        assert measure(run, province, "tertiary_share_6plus", 2015, ctx) == pytest.approx(share, rel=1e-4)
    assert measure(run, "BJ+TZ", "tertiary_share_6plus", 2016, ctx) == measure(
        run, "beijing", "tertiary_share_6plus", 2016, ctx
    )
    with pytest.raises(Unavailable, match="one province"):
        measure(run, "jjj", "tertiary_share_6plus", 2015, ctx)


def _history_run(parameter: str, value: float) -> RunNodes:
    """One small run of ``history`` from 2010 with ``parameter`` at ``value``."""
    scenario = load_scenario(SCENARIOS / "history.yaml").with_overrides(SMALL)
    (run,) = run_replicates(
        scenario.with_overrides({f"parameters.{parameter}": value}), replicate_seeds(ROOT_SEED, 1)
    )
    return run


def test_graduates_staying_are_those_employed_in_their_province_over_employed_and_gone():
    """The share of a year's graduates of Beijing's universities employed in Beijing, of those
    employed anywhere or gone from the region (ASSUMPTIONS D7), read from the nodes table; it
    falls when more of those who consider moving leave the region, and a unit across provinces
    is refused."""
    ctx = context(2010)
    shares = []
    for leaving in (0.02, 0.4):
        run = _history_run("outside_choice_share", leaving)
        stayed, employed, left = (
            run.sums(column, 2012, ["BJ", "TZ"])
            for column in ("graduates_employed_in_province", "graduates_employed", "graduates_left")
        )
        assert 0 < stayed <= employed and left >= 0
        shares.append(measure(run, "beijing", "graduates_employed_in_province_share", 2012, ctx))
        assert shares[-1] == pytest.approx(stayed / (employed + left))
    assert shares[0] > shares[1]
    with pytest.raises(Unavailable, match="one province"):
        measure(run, "jjj", "graduates_employed_in_province_share", 2012, ctx)


def test_graduates_staying_by_origin_split_the_pooled_share():
    """Graduates of local origin (the province's hukou) and the others, as the employment reports
    count them (ASSUMPTIONS D7): each share is read from its own columns, the others' as all
    less the local ones; the pooled share lies between them; and a higher barrier on leaving for
    a talent of the region's hukou keeps more of the local graduates and fewer of the others."""
    ctx = context(2010)
    by_barrier = []
    for barrier in (0.0, 3.0):
        run = _history_run("hukou_barrier_outside", barrier)
        local = {
            c: run.sums(f"local_{c}", 2012, ["BJ", "TZ"])
            for c in ("graduates_employed_in_province", "graduates_employed", "graduates_left")
        }
        every = {c: run.sums(c, 2012, ["BJ", "TZ"]) for c in local}
        assert all(0 <= local[c] <= every[c] for c in local)
        shares = {
            origin: measure(run, "beijing", f"{origin}graduates_employed_in_province_share", 2012, ctx)
            for origin in ("local_", "nonlocal_", "")
        }
        assert shares["local_"] == pytest.approx(
            local["graduates_employed_in_province"] / (local["graduates_employed"] + local["graduates_left"])
        )
        others = {c: every[c] - local[c] for c in local}
        assert shares["nonlocal_"] == pytest.approx(
            others["graduates_employed_in_province"]
            / (others["graduates_employed"] + others["graduates_left"])
        )
        assert (
            min(shares["local_"], shares["nonlocal_"])
            <= shares[""]
            <= max(shares["local_"], shares["nonlocal_"])
        )
        by_barrier.append(shares)
    assert by_barrier[1]["local_"] > by_barrier[0]["local_"]
    assert by_barrier[1]["nonlocal_"] < by_barrier[0]["nonlocal_"]


def test_commuting_talents_are_those_living_in_the_unit_who_work_in_another_node():
    """Langfang's commuting talents (ASSUMPTIONS C2's target) follow the cost of living away from
    one's job: none worth speaking of at the bottom of its interval, many at no cost."""
    ctx = context(2010)
    seeds = replicate_seeds(ROOT_SEED, 1)
    measured = {}
    for cost in (-6.0, 0.0):
        scenario = load_scenario(SCENARIOS / "history.yaml").with_overrides(
            {**SMALL, "end_year": 2011, "parameters.commute_home_constant": cost}
        )
        (run,) = run_replicates(scenario, seeds)
        measured[cost] = measure(run, "LF", "commuting_talents", 2011, ctx)
        assert measured[cost] == run.sums("commuters", 2011, ["LF"])
    assert measured[0.0] > 100_000 > 10 * measured[-6.0]


def test_rows_the_model_cannot_produce_are_listed_with_their_reason(history_runs):
    entries = [
        ("china", "tertiary_per_100k", 2011),
        ("Atlantis", "resident_population", 2011),
        ("BJ+BJ", "resident_population", 2011),
        ("BJ", "happiness", 2011),
        ("BJ", "resident_population", 2025),
        ("beijing", "bachelor_graduates", 2010),
        ("beijing", "talents", 2011),
        ("BJ", "resident_population", 2011),
        ("beijing", "gdp", 2011),
        ("hebei", "bachelor_entrants", 2010),
    ]
    observed = rows(entries)
    observed.loc[7, "value"] = np.nan

    table = compare(observed, history_runs, 2010)

    assert table[["unit", "indicator", "year"]].apply(tuple, axis=1).tolist() == entries  # none dropped
    assert (table["result"] == "skipped").all()
    reasons = table["reason"].tolist()
    for reason, expected in zip(
        reasons,
        [
            "outside the model's region",
            "unknown unit",
            "repeats a node",
            "unknown indicator 'happiness'",
            "outside the run (2010-2012)",
            "first simulated year",
            "region (jjj) only",
            "no observed value",
            "gdp: the model has no output or GDP",
            "entrants are counted from the first simulated year",
        ],
    ):
        assert expected in reason
    summary = summarise(table)
    assert (summary.rows, summary.skipped) == (0, len(entries))


def test_an_upper_bound_counts_only_when_exceeded(history_runs):
    observed = rows([("hebei", "foreign_residents", 2011), ("hebei", "foreign_residents", 2012)], [1e9, 1.0])
    observed["uom"] = "persons (upper bound)"

    table = compare(observed, history_runs, 2010)

    assert table["error"].iloc[0] == 0.0  # far below the bound: consistent with it
    assert table["error"].iloc[1] == pytest.approx(table["simulated_mean"].iloc[1] - 1.0)
    assert "bound" in table["comparison"].iloc[0]


def test_naive_forecast_is_the_latest_value_at_or_before_the_start_year():
    observed = rows(
        [
            ("BJ", "resident_population", 2005),
            ("BJ", "resident_population", 2010),
            ("BJ", "resident_population", 2008),
            ("BJ", "resident_population", 2013),
            ("TJ", "resident_population", 2013),
            ("HS", "resident_population", 2013),
        ],
        [90.0, 100.0, 95.0, 130.0, 60.0, 40.0],
    )
    table = observed.rename(columns={"value": "observed"}).assign(result="compared")
    table = table.iloc[3:].assign(
        simulated_mean=[120.0, 57.0, 44.0],
        simulated_p05=[110.0, 56.0, 40.0],
        simulated_p95=[135.0, 59.0, 45.0],
    )
    table["relative_error"] = (table["simulated_mean"] - table["observed"]) / table["observed"]
    model_start = {("TJ", "resident_population"): 50.0}

    naive = add_naive(table, observed, 2010, lambda unit, indicator: model_start.get((unit, indicator)))

    # BJ: 2013 is after the start year, so the 2010 row (not 2008, not 2005) is carried forward;
    # TJ: no observed row by 2010, so the model's own start-year value; HS: neither.
    assert naive["naive"].tolist()[:2] == [100.0, 50.0] and math.isnan(naive["naive"].iloc[2])
    assert naive["naive_source"].tolist() == ["observed 2010", "model 2010", ""]
    summary = summarise(naive)
    # MASE = (|120-130|/130 + |57-60|/60) / (|100-130|/130 + |50-60|/60), HS left out and counted
    expected = (10 / 130 + 3 / 60) / (30 / 130 + 10 / 60)
    assert summary.mase == pytest.approx(expected)
    # observed 130 in [110, 135], 60 above [56, 59], 40 on the edge of [40, 45]: edges count
    assert summary.within_interval == 2
    assert (summary.rows_in_mase, summary.rows_without_naive) == (2, 1)
    assert summary.mape_percent == pytest.approx(100 * (10 / 130 + 3 / 60 + 4 / 40) / 3)


def test_units_name_nodes():
    assert unit_nodes("BD+XA") == ["BD", "XA"]
    assert unit_nodes("tianjin") == ["TJ", "BH", "WQ"]
    assert len(unit_nodes("jjj")) == 17
    with pytest.raises(Unavailable, match="outside the model's region"):
        unit_nodes("china")


def test_replicate_seeds_are_spawned_and_reproducible():
    assert replicate_seeds(5, 3) == replicate_seeds(5, 3)
    assert replicate_seeds(5, 4)[:3] == replicate_seeds(5, 3)
    assert len(set(replicate_seeds(5, 4))) == 4
    with pytest.raises(ScenarioError):
        replicate_seeds(5, 0)


def test_bad_observed_files_are_refused_with_file_and_line(tmp_path):
    missing = tmp_path / "missing.csv"
    missing.write_text("unit,year,value\nBJ,2011,1\n")
    with pytest.raises(ScenarioError, match=r"missing.csv:1: missing column indicator"):
        read_observed(missing)
    bad_year = tmp_path / "bad.csv"
    bad_year.write_text(
        "unit,indicator,year,value,extra\nBJ,resident_population,2011,1,x\n"
        "BJ,resident_population,twenty,1,y\n"
    )
    with pytest.raises(ScenarioError, match=r"bad.csv:3: column year: value 'twenty'"):
        read_observed(bad_year)


def test_shipped_outcomes_file_holds_only_post_2015_rows():
    outcomes = read_observed(
        Path(__file__).resolve().parent.parent / "model/data/validation/observed-outcomes.csv"
    )
    assert (outcomes["year"] > 2015).all()
    assert (outcomes["status"] != "").all() and (outcomes["source"] != "").all()


def test_errors_after_the_start_year_are_summarised_by_indicator_and_vintage():
    table = pd.DataFrame(
        {
            "indicator": ["resident_population"] * 3 + ["new_residential_price"],
            "vintage": ["first-release", "revised-2020", "first-release", "final"],
            "year": [2016, 2016, 2010, 2017],
            "result": "compared",
            "relative_error": [0.02, -0.10, 0.50, -0.30],
            "naive_relative_error": [0.04, -0.05, 0.0, -0.60],
            "observed": [100.0, 100.0, 100.0, 100.0],
            "simulated_p05": [95.0, 101.0, 90.0, 60.0],
            "simulated_p95": [110.0, 120.0, 160.0, 80.0],
        }
    )
    by_vintage = summaries_by(table, "vintage", 2010)  # the 2010 row is at the start: left out
    assert by_vintage["first-release"]["mape_percent"] == pytest.approx(2.0)
    assert by_vintage["revised-2020"]["mase"] == pytest.approx(2.0)
    assert by_vintage["first-release"]["within_interval"] == 1  # 2016 inside; 2010 at the start
    by_indicator = summaries_by(table, "indicator", 2010)
    assert by_indicator["resident_population"]["rows"] == 2
    assert by_indicator["new_residential_price"]["mase"] == pytest.approx(0.5)


def test_sjz_prices_from_2015_are_measured_on_the_published_coverage(history_runs, monkeypatch):
    """SJZ's published average covers another mix from 2015 (A7).

    From then on the model's like-for-like price is compared x the published 2015 average over
    it, in SJZ and in Hebei's average; before 2015 as it is. The runs end in 2012, so the change
    is moved to 2012 here."""
    ctx = context(2010)
    coverage = ctx.price_coverage["SJZ"]
    assert coverage == pytest.approx(7_798 / 5_447, rel=1e-3)
    monkeypatch.setattr(observed, "COVERAGE_FROM", 2012)
    run = history_runs[0]
    for year, factor in ((2011, 1.0), (2012, coverage)):
        node_price = run.column("price_cny_m2", year, ["SJZ"])[0]
        assert measure(run, "SJZ", "new_residential_price", year, ctx) == pytest.approx(node_price * factor)
    hebei = unit_nodes("hebei")
    prices, residents = run.column("price_cny_m2", 2012, hebei), run.column("population", 2012, hebei)
    prices[hebei.index("SJZ")] *= coverage
    expected = (prices * residents).sum() / residents.sum()
    assert measure(run, "hebei", "new_residential_price", 2012, ctx) == pytest.approx(expected)
