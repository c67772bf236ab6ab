"""Profiles of the fit's loss (experiments/calibration/profile.py): on targets the model made
itself, the loss is lowest at the true value; a refit can only lower the loss at a value; bad
requests are refused before anything runs."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from app.cli import main
from experiments.calibration.calibrate import Problem, fresh_seed_sets, load_config
from experiments.calibration.validate import compare, run_replicates
from experiments.ensemble import load_ensemble
from experiments.replicates import replicate_seeds
from model.scenario import load_scenario
from tests.conftest import SCENARIOS, assert_refused
from tests.test_calibrate import observed_rows

TRUE_INFLOW = 0.05
ENTRIES = [("jjj", "tertiary_educated", 2011), ("jjj", "tertiary_educated", 2012)]


def write_profiled_fit(folder: Path, made_by_model: bool = True) -> Path:
    """A config fitting inflow_rate and wage_trend_share to the region's talents of 2011-2012
    made by the model at TRUE_INFLOW (history from 2010, scale 5000, one seed; placeholders
    unless ``made_by_model``), and a layer holding the truth as its fit."""
    (folder / "scenarios").mkdir(parents=True)
    for name in ("calibrated-2015.yaml", "baseline.yaml", "history.yaml"):
        shutil.copy(SCENARIOS / name, folder / "scenarios" / name)
    values = [1.0] * len(ENTRIES)
    if made_by_model:
        scenario = load_scenario(folder / "scenarios" / "history.yaml").with_overrides(
            {"scale": 5000, "end_year": 2012, "parameters.inflow_rate": TRUE_INFLOW}
        )
        runs = run_replicates(scenario, tuple(replicate_seeds(20170626, 1)))
        values = compare(observed_rows(ENTRIES, values), runs, 2010)["simulated_mean"].tolist()
    observed_rows(ENTRIES, values).assign(vintage="final").to_csv(folder / "made.csv", index=False)
    wage_trend = load_scenario(SCENARIOS / "history.yaml").parameter_overrides()["wage_trend_share"]
    (folder / "scenarios" / "tiny.yaml").write_text(
        f"name: tiny\nparameters:\n  inflow_rate: {TRUE_INFLOW}\n  wage_trend_share: {wage_trend}\n"
    )
    config = {
        "name": "tiny",
        "scenario": "scenarios/history.yaml",
        "observed": ["made.csv"],
        "layer": "scenarios/tiny.yaml",
        "scale": 5000,
        "replicates": 1,
        "seed": 20170626,
        "method": {"name": "cma-es", "population": 4},
        "parameters": {
            "inflow_rate": {"lower": 0.0, "upper": 0.12},
            "wage_trend_share": {"lower": 0.6, "upper": 1.3},
        },
        "targets": [
            {"name": "talents", "indicator": "tertiary_educated", "units": ["jjj"], "years": [2011, 2012]}
        ],
    }
    path = folder / "tiny-config.yaml"
    path.write_text(json.dumps(config))  # JSON is YAML
    return path


def run_profile(config: Path, out: Path, *options: str) -> pd.DataFrame:
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["profile", str(config), "--workers", "0", "--out", str(out), *options]) == 0
    return pd.read_csv(out / "profile.csv")


def test_the_loss_is_lowest_at_the_value_that_made_the_targets(tmp_path):
    """Held 60 % away from the truth (the layer's value) either side, the loss on fresh seeds
    rises over the truth's by more than twice the rise's spread across the seed sets."""
    config = write_profiled_fit(tmp_path)
    table = run_profile(config, tmp_path / "out", "--parameter", "inflow_rate", "--values", "0.02", "0.08")

    assert table["inflow_rate"].tolist() == [0.02, TRUE_INFLOW, 0.08]  # the fitted value added
    assert table["fitted"].tolist() == [False, True, False]
    assert table.loc[table["fitted"], ["rise", "rise_sd"]].to_numpy().tolist() == [[0.0, 0.0]]
    away = table[~table["fitted"]]
    assert (away["rise"] > 2 * away["rise_sd"]).all()
    assert table["loss:talents"].to_numpy() == pytest.approx(table["loss_fresh_mean"])  # one group

    # each row's whole parameter vector, as a one-draw ensemble `compare --ensemble` reads
    point = load_ensemble(tmp_path / "out" / "inflow_rate=0.02.csv")
    assert point.labels == ("inflow_rate=0.02",) and point.names == ("inflow_rate", "wage_trend_share")
    assert point.values[0].tolist() == pytest.approx(
        [
            0.02,
            load_scenario(config.parent / "scenarios" / "tiny.yaml").parameter_overrides()[
                "wage_trend_share"
            ],
        ]
    )


def test_a_refit_lowers_the_loss_at_a_held_value_and_records_what_it_refitted(tmp_path):
    config = write_profiled_fit(tmp_path)
    options = ["--parameter", "inflow_rate", "--values", "0.03"]
    alone = run_profile(config, tmp_path / "alone", *options)
    refit = run_profile(
        config, tmp_path / "refit", *options, "--refit", "wage_trend_share", "--evaluations", "8"
    )

    held = refit["inflow_rate"] == 0.03
    assert refit.loc[held, "loss_fit_seeds"].item() <= alone.loc[held, "loss_fit_seeds"].item()
    assert 0.6 <= refit.loc[held, "refit:wage_trend_share"].item() <= 1.3
    assert "refit:wage_trend_share" not in alone.columns


def test_an_assumed_parameter_is_held_at_its_values_and_at_the_one_it_runs_at(tmp_path):
    """beta_stay is not fitted by the config: its profile adds the value the scenario runs it at
    (its declared default, which no layer sets) as the reference row, the held values reach the
    runs (the loss moves with them), and each row's ensemble file sets it beside the fitted
    parameters."""
    config = write_profiled_fit(tmp_path)
    table = run_profile(config, tmp_path / "out", "--parameter", "beta_stay", "--values", "1", "4")

    assert table["beta_stay"].tolist() == [1.0, 2.0, 4.0]  # the default added
    assert table["fitted"].tolist() == [False, True, False]
    assert table.loc[table["fitted"], "rise"].item() == 0.0
    assert table["loss_fresh_mean"].nunique() == 3
    point = load_ensemble(tmp_path / "out" / "beta_stay=4.csv")
    assert point.names == ("inflow_rate", "wage_trend_share", "beta_stay")
    assert point.values[0].tolist() == pytest.approx([TRUE_INFLOW, point.values[0][1], 4.0])


@pytest.mark.parametrize(
    "options, message",
    [
        (
            ["--parameter", "beta_magic", "--values", "1"],
            "--parameter: value 'beta_magic': not a behavioural",
        ),
        (["--parameter", "beta_stay", "--values", "11"], "(assumed, not fitted by"),
        (["--parameter", "inflow_rate", "--values", "0.2"], "allowed: 0 to 0.12"),
        (
            ["--parameter", "inflow_rate", "--values", "0.03", "--refit", "inflow_rate"],
            "the profiled parameter is held",
        ),
        (
            ["--parameter", "inflow_rate", "--values", "0.03", "--refit", "beta_wage"],
            "--refit: value 'beta_wage'",
        ),
        (
            [
                "--parameter",
                "inflow_rate",
                "--values",
                "0.03",
                "--refit",
                "wage_trend_share",
                "--evaluations",
                "3",
            ],
            "at least one generation",
        ),
        (["--parameter", "inflow_rate", "--values", "0.03", "--fresh-sets", "0"], "must be 1 or more"),
    ],
)
def test_bad_requests_are_refused_before_anything_runs(tmp_path, options, message):
    config = write_profiled_fit(tmp_path, made_by_model=False)
    assert_refused(tmp_path, "profile", str(config), *options, fragments=[message])


def test_score_judges_layers_set_by_set_on_the_same_fresh_seeds(tmp_path, monkeypatch):
    """The truth, a worse value and the truth again, on the fit's two fresh seed sets: the first
    and last score the same on every set (common random numbers), the worse value higher; the
    table is written."""
    config = write_profiled_fit(tmp_path)
    data = json.loads(config.read_text())
    data["method"]["selection_sets"] = 2
    config.write_text(json.dumps(data))
    seen = []
    evaluate_batch = Problem.evaluate_batch

    def recording(self, points, seeds=None):  # type: ignore[no-untyped-def]
        seen.append(seeds)
        return evaluate_batch(self, points, seeds)

    monkeypatch.setattr(Problem, "evaluate_batch", recording)
    truth = tmp_path / "scenarios" / "tiny.yaml"
    worse = tmp_path / "worse.yaml"
    worse.write_text(truth.read_text().replace(f"inflow_rate: {TRUE_INFLOW}", "inflow_rate: 0.11"))
    out = tmp_path / "out"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        argv = ["score", str(config), str(truth), str(worse), str(truth), "--workers", "0", "--out", str(out)]
        assert main(argv) == 0

    assert seen == fresh_seed_sets(load_config(config), 20170626)
    table = pd.read_csv(out / "score.csv")
    assert table["layer"].tolist() == [str(truth), str(worse), str(truth)]
    sets = ["set 1", "set 2"]
    assert table.loc[0, sets].tolist() == table.loc[2, sets].tolist()
    assert table.loc[0, "set 1"] != table.loc[0, "set 2"]  # two sets of seeds
    assert (table.loc[1, sets] > table.loc[0, sets]).all()
    assert f"{worse}: loss {table.loc[1, 'loss_mean']:.5f}" in printed.getvalue()


def test_score_refuses_a_layer_without_every_fitted_parameter(tmp_path):
    config = write_profiled_fit(tmp_path, made_by_model=False)
    partial = tmp_path / "partial.yaml"
    partial.write_text("name: partial\nparameters:\n  inflow_rate: 0.05\n")
    assert_refused(tmp_path, "score", str(config), str(partial), fragments=[str(partial), "wage_trend_share"])
    extra = tmp_path / "extra.yaml"
    extra.write_text(
        "name: extra\nparameters:\n  inflow_rate: 0.05\n  wage_trend_share: 1.0\n  beta_wage: 2.0\n"
    )
    assert_refused(
        tmp_path, "score", str(config), str(extra), fragments=[str(extra), "sets beta_wage", "does not fit"]
    )
    assert_refused(
        tmp_path,
        "score",
        str(config),
        str(tmp_path / "nowhere.yaml"),
        fragments=["nowhere.yaml", "no such file"],
    )
