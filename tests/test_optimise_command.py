"""The optimise command: config checks, the search through the command's code path, its files."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pandas as pd
import pytest
import yaml

from experiments.package_search import Evaluator, load_config, search, write
from model.layout import year_share_after
from model.scenario import FORMAT_VERSION, Scenario, load_scenario, parent_file
from tests.conftest import invoke

ROOT = Path(__file__).resolve().parent.parent
PLAN = ROOT / "scenarios" / "plan-2017.yaml"
GRADUATE = "levers.graduate_subsidy.values.2017-07-01"
SETTLEMENT = "levers.settlement_subsidy.values.2017-04-01"


def config_data(**changes) -> dict:
    data = {
        "name": "synthetic",
        "base": str(PLAN),
        "objective": "hebei_talents",
        "budget_cny": [5.0e10],
        "decisions": [
            {"path": GRADUATE, "lower": 0, "upper": 50_000, "step": 1000},
            {"path": SETTLEMENT, "lower": 0, "upper": 500_000, "step": 10_000},
        ],
        "replicates": 2,
        "trials": 60,
        "batch": 6,
        "seed": 5,
        "end_year": 2020,
    }
    data.update(changes)
    return data


def write_config(folder: Path, data: dict, name: str = "config.yaml") -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


# --- a synthetic problem with a known optimum, through the command's own evaluator -----------------


def lever_value(scenario: Scenario, lever: str) -> float:
    setting = scenario.lever_settings().get(lever)
    return 0.0 if setting is None else float(setting.values[max(setting.values)])


def synthetic_runs(scenarios, seeds):
    """A stand-in for the model: spending a = x / 1000 bn CNY on the graduate subsidy x and
    b = y / 10,000 bn on the settlement subsidy y; Hebei's talents 1e6 (10 sqrt(a) + 20 sqrt(b))
    plus a seed's own shift (the same for every package: common random numbers). Under a budget
    B bn the optimum spends it all with a = B / 5, b = 4 B / 5."""
    results = []
    for scenario in scenarios:
        a = lever_value(scenario, "graduate_subsidy") / 1000
        b = lever_value(scenario, "settlement_subsidy") / 10_000
        per_seed = []
        for seed in seeds:
            talents = 1e6 * (10 * math.sqrt(a) + 20 * math.sqrt(b)) + (seed % 7 - 3) * 1e3
            per_seed.append(
                {
                    "indicators": pd.DataFrame(
                        {
                            "year": [scenario.end_year],
                            "indicator": ["talents.province.hebei"],
                            "value": [talents],
                        }
                    ),
                    "spending": pd.DataFrame(
                        {
                            "year": [2018, 2018],
                            "lever": ["graduate_subsidy", "settlement_subsidy"],
                            "node": ["SJZ", "XA"],
                            "cny": [a * 1e9, b * 1e9],
                        }
                    ),
                }
            )
        results.append(per_seed)
    return results


def optimum(budget_bn: float) -> float:
    return 1e6 * (10 * math.sqrt(budget_bn / 5) + 20 * math.sqrt(4 * budget_bn / 5))


def test_finds_the_known_optimum_within_the_budget_and_writes_a_package_that_extends_the_base(tmp_path):
    problem = load_config(write_config(tmp_path, config_data(budget_cny=[3.0e10, 6.0e10])))
    result = search(problem, synthetic_runs)
    for budget, found in zip((30.0, 60.0), result.results):
        assert found.confirmed is not None
        assert found.confirmed.spending_cny <= budget * 1e9
        assert found.confirmed.objective == pytest.approx(optimum(budget), rel=0.03)
    frontier = result.frontier
    assert (frontier["spending_cny"] <= frontier["budget_cny"]).all()
    assert frontier["objective_p05"].le(frontier["objective_mean"]).all()
    # the gain over the base is measured seed by seed: the stand-in's seed shifts cancel
    base = 1e6 * (10 * math.sqrt(30) + 20 * math.sqrt(10))  # plan-2017's 30,000 and 100,000 CNY
    assert result.base.objective == pytest.approx(base, abs=3e3)
    assert frontier["gain_over_base_mean"].to_numpy() == pytest.approx(
        (frontier["objective_mean"] - result.base.objective).to_numpy()
    )
    assert frontier["gain_over_base_p05"].to_numpy() == pytest.approx(
        frontier["gain_over_base_p95"].to_numpy()
    )

    out = tmp_path / "out"
    written = write(result, out)
    assert {"frontier.csv", "trials.csv", "manifest.json", "best-30bn.yaml", "best-60bn.yaml"} <= {
        p.name for p in out.iterdir()
    }
    best = out / "best-60bn.yaml"
    assert yaml.safe_load(best.read_text())["format"] == FORMAT_VERSION
    assert parent_file(best).resolve() == PLAN.resolve()
    loaded = load_scenario(best)
    package = written.results[1].best
    assert lever_value(loaded, "graduate_subsidy") == package[GRADUATE]
    assert lever_value(loaded, "settlement_subsidy") == package[SETTLEMENT]
    assert loaded.as_data()["levers"]["talent_card"] == load_scenario(PLAN).as_data()["levers"]["talent_card"]
    # the package as loaded from its file keeps within the budget
    assert synthetic_runs([loaded], [1])[0][0]["spending"]["cny"].sum() <= 6.0e10


def test_a_lever_the_model_does_not_cost_is_charged_the_configs_cost_for_each_year(tmp_path):
    path = "levers.hukou_openness.values.2017-04-01"
    data = config_data(
        decisions=[{"path": path, "lower": 0, "upper": 1}], costs_cny={"hukou_openness": 1e9}, trials=2
    )
    problem = load_config(write_config(tmp_path, data))
    outcome = Evaluator(problem, synthetic_runs)([{path: 0.5}], "search")[0]
    subsidies = (30_000 / 1000 + 100_000 / 10_000) * 1e9  # the stand-in's spending at plan-2017's values
    years = year_share_after(dt.date(2017, 4, 1), 2017) + 3  # 2017 from April, 2018-2020
    assert outcome.spending_cny == pytest.approx(subsidies + 1e9 * 0.5 * years)


# --- bad configs -------------------------------------------------------------------------------------


BAD = {
    "unknown key": ({"budgets": 1e10}, ["budgets", "unknown key", "allowed:"]),
    "unknown objective": ({"objective": "happiness"}, ["objective", "'happiness'", "hebei_talents"]),
    "negative budget": ({"budget_cny": -5}, ["budget_cny", "-5", "positive"]),
    "bad path": (
        {"decisions": [{"path": "graduate_subsidy", "lower": 0, "upper": 1}]},
        ["decisions.0.path", "'graduate_subsidy'", "levers.NAME.values.YYYY-MM-DD"],
    ),
    "unknown lever": (
        {"decisions": [{"path": "levers.free_beer.values.2018-01-01"}]},
        ["decisions.0.path", "free_beer", "allowed:"],
    ),
    "outside the declared bounds": (
        {"decisions": [{"path": GRADUATE, "lower": 0, "upper": 900_000}]},
        ["decisions.0", "900000", "declared bounds 0 to 500000"],
    ),
    "uncosted lever": (
        {"decisions": [{"path": "levers.hukou_openness.values.2018-01-01", "lower": 0, "upper": 1}]},
        ["decisions.0.path", "hukou_openness", "none counted", "costs_cny"],
    ),
    "cost for a counted lever": (
        {"costs_cny": {"graduate_subsidy": 5}},
        ["costs_cny.graduate_subsidy", "counts this lever's spending"],
    ),
    "step that does not divide": (
        {"decisions": [{"path": GRADUATE, "lower": 0, "upper": 1000, "step": 300}]},
        ["decisions.0.step", "300", "divides"],
    ),
    "date after the last year": (
        {"decisions": [{"path": "levers.graduate_subsidy.values.2025-01-01", "lower": 0, "upper": 1000}]},
        ["decisions.0.path", "2025-01-01", "2015 to 2020"],
    ),
    "objective before it exists": (
        {"objective": "xiongan_talents", "year": 2016},
        ["year", "2016", "founding", "2017 to 2020"],
    ),
    "missing base file": ({"base": "nowhere.yaml"}, ["base", "'nowhere.yaml'", "no file"]),
    "trials of the wrong type": ({"trials": "many"}, ["trials", "'many'", "integer"]),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_config_is_refused_with_a_clear_message_and_nothing_is_written(tmp_path, case):
    changes, fragments = BAD[case]
    config = write_config(tmp_path, config_data(**changes))
    out = tmp_path / "out"
    result = invoke("optimise", str(config), "--out", str(out), "--workers", "0")
    assert result.status == 2, result.err
    assert "Traceback" not in result.err
    assert f"{config}:" in result.err  # the file, with a line where the key is
    for fragment in fragments:
        assert fragment in result.err
    assert not out.exists()


def test_a_config_that_is_not_a_mapping_is_refused(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("- just\n- a list\n", encoding="utf-8")
    result = invoke("optimise", str(config), "--workers", "0")
    assert result.status == 2 and "optimise config must be a mapping" in result.err


# --- the command, end to end on the model (tiny) ---------------------------------------------------


def test_the_command_runs_the_model_and_writes_a_package_that_loads(tmp_path):
    data = config_data(
        base="../" * len(tmp_path.parts) + str(PLAN).lstrip("/"),  # relative, as a user writes it
        budget_cny=3.0e10,
        decisions=[{"path": GRADUATE, "lower": 0, "upper": 60_000, "step": 20_000}],
        replicates=1,
        trials=2,
        batch=2,
        scale=5000,
        end_year=2018,
    )
    config = write_config(tmp_path, data)
    out = tmp_path / "out"
    result = invoke("optimise", str(config), "--out", str(out), "--workers", "0", "--lang", "en")
    assert result.status == 0, result.err
    frontier = pd.read_csv(out / "frontier.csv")
    assert len(frontier) == 1 and frontier["spending_cny"].iloc[0] <= 3.0e10
    loaded = load_scenario(out / "best-30bn.yaml")
    assert loaded.scale == 5000 and loaded.end_year == 2018
    assert lever_value(loaded, "graduate_subsidy") == frontier[GRADUATE].iloc[0]
    assert (out / "report.html").stat().st_size > 0
    assert {p.name for p in (out / "charts").iterdir()} >= {"frontier.en.png", "frontier.zh.svg"}
