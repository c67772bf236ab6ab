"""Sensitivity and scenario discovery (experiments/sweeps/sensitivity.py, discovery.py).

The Ishigami function goes through the same sweep, store and analysis as the model, and its
Sobol' indices must come out at their known values; a linear function has known Morris effects;
PRIM must find a box planted in the data; a tiny model sweep gets its indices and boxes too."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from app.cli import main
from experiments.sweeps.design import load_experiment
from experiments.sweeps.discovery import discover, discover_store, parse_target
from experiments.sweeps.sensitivity import ISHIGAMI_INDICES, ishigami, store_indices
from experiments.sweeps.sweep import run_sweep
from model.errors import ScenarioError
from reports.exploration_figures import sensitivity_files

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.yaml"
TOLERANCE = 0.08  # N = 512: the estimates' 95 % intervals are about +-0.1


def linear(inputs: dict[str, float], seed: int) -> pd.DataFrame:
    """Y = 3 a - b + 0 c, in two years (to check indices are per year)."""
    y = 3 * inputs["a"] - inputs["b"]
    return pd.DataFrame({"year": [1, 2], "indicator": ["y", "y"], "value": [y, 2 * y]})


def test_the_known_ishigami_indices() -> None:
    assert ISHIGAMI_INDICES["x1"] == pytest.approx((0.3139, 0.5576), abs=1e-4)
    assert ISHIGAMI_INDICES["x2"] == pytest.approx((0.4424, 0.4424), abs=1e-4)
    assert ISHIGAMI_INDICES["x3"] == pytest.approx((0.0, 0.2437), abs=1e-4)
    assert ishigami({"x1": 0.0, "x2": np.pi / 2, "x3": 1.0}, 0)["value"].item() == pytest.approx(7.0)


def test_sobol_indices_of_ishigami_through_the_sweep(tmp_path: Path) -> None:
    store = tmp_path / "store"
    report = run_sweep(
        load_experiment(ROOT / "experiments" / "ishigami.yaml"), store, workers=2, log=io.StringIO()
    )
    assert (report.runs, report.failed) == (512 * 5, 0)
    table = store_indices(store)
    found = table.pivot_table(index="input", columns="index", values="value")
    for name, (first, total) in ISHIGAMI_INDICES.items():
        assert found.loc[name, "S1"] == pytest.approx(first, abs=TOLERANCE)
        assert found.loc[name, "ST"] == pytest.approx(total, abs=TOLERANCE)
    conf = table.pivot_table(index="input", columns="index", values="conf")
    assert (conf > 0).all().all() and (conf < 0.15).all().all()
    written = pd.read_csv(store / "sensitivity.csv")  # the sweep wrote them already
    pd.testing.assert_frame_equal(written, table, check_dtype=False)
    assert not (store / "sensitivity.png").exists()  # the analysis draws nothing; the command does
    sensitivity_files(store, written)
    assert (store / "sensitivity.png").stat().st_size > 0


def test_morris_effects_of_a_linear_function(tmp_path: Path) -> None:
    path = tmp_path / "linear.yaml"
    path.write_text(
        """\
name: linear
function: tests.test_sensitivity:linear
inputs:
  a: {lower: 0, upper: 1}
  b: {lower: 0, upper: 2}
  c: {values: [1, 2, 3]}
design: {kind: morris, trajectories: 6, levels: 4}
outputs:
  indicators: [y]
""",
        encoding="utf-8",
    )
    run_sweep(load_experiment(path), tmp_path / "store", workers=0, log=io.StringIO())
    table = store_indices(tmp_path / "store")
    first = table[table["year"] == 1].pivot_table(index="input", columns="index", values="value")
    # SALib scales effects to each input's range: mu* = |slope| x range
    assert first.loc["a", "mu_star"] == pytest.approx(3.0)
    assert first.loc["b", "mu_star"] == pytest.approx(2.0)
    assert first.loc["b", "mu"] == pytest.approx(-2.0)
    assert first.loc["c", "mu_star"] == pytest.approx(0.0)
    assert (first["sigma"].abs() < 1e-9).all()  # linear: every effect alike
    second = table[table["year"] == 2].pivot_table(index="input", columns="index", values="value")
    assert second.loc["a", "mu_star"] == pytest.approx(6.0)


def test_indices_need_a_sobol_or_morris_design(tmp_path: Path) -> None:
    path = tmp_path / "grid.yaml"
    path.write_text(
        """\
name: grid
function: tests.test_sensitivity:linear
inputs:
  a: {lower: 0, upper: 1}
  b: {lower: 0, upper: 1}
design: {kind: grid, levels: 2}
outputs:
  indicators: [y]
""",
        encoding="utf-8",
    )
    run_sweep(load_experiment(path), tmp_path / "store", workers=0, log=io.StringIO())
    with pytest.raises(ScenarioError, match="no sensitivity indices; allowed: sobol or morris"):
        store_indices(tmp_path / "store")
    with pytest.raises(ScenarioError, match="not a finished sweep store"):
        store_indices(tmp_path / "nowhere")


def test_a_model_sweep_gets_sobol_indices_per_output_and_year(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "sobol.yaml"
    path.write_text(
        f"""\
name: model-sobol
scenario: {BASELINE}
scale: 2000
end_year: 2016
inputs:
  parameters.beta_wage: {{lower: 1.0, upper: 2.0}}
  parameters.inflow_rate: {{lower: 0.0, upper: 0.05}}
design: {{kind: sobol, base_samples: 2}}
outputs:
  indicators: [hebei_share, talents.jjj]
""",
        encoding="utf-8",
    )
    assert main(["sweep", str(path), "--store", str(tmp_path / "store"), "--workers", "2"]) == 0
    assert main(["sensitivity", str(tmp_path / "store")]) == 0
    out = capsys.readouterr().out
    assert "talents.jjj" in out and "parameters.inflow_rate" in out
    table = pd.read_csv(tmp_path / "store" / "sensitivity.csv")
    assert set(table["year"]) == {2016}  # 2015, the base year, does not vary: no indices
    assert set(table["indicator"]) == {"hebei_share", "talents.jjj"}
    assert set(table["index"]) == {"S1", "ST"}
    assert table["conf"].notna().all()


# --- scenario discovery ----------------------------------------------------------------------------


def test_targets_are_parsed_or_refused() -> None:
    target = parse_target("hebei_share >= 0.45 in 2030")
    assert (target.indicator, target.comparison, target.value, target.year) == (
        "hebei_share",
        ">=",
        0.45,
        2030,
    )
    assert str(parse_target("talents.jjj<2e7 in 2020")) == "talents.jjj < 2e+07 in 2020"
    for bad in ("hebei_share = 0.45 in 2030", "hebei_share >= 0.45", "hebei_share >= high in 2030"):
        with pytest.raises(ScenarioError, match="not a target; allowed: 'INDICATOR OP VALUE in YEAR'"):
            parse_target(bad)


def planted_results(n: int = 600, seed: int = 0) -> pd.DataFrame:
    """Runs whose outcome is high exactly where a > 0.6 and b < 0.3 (c does not matter)."""
    rng = np.random.default_rng(seed)
    inputs = pd.DataFrame(rng.random((n, 3)), columns=["a", "b", "c"])
    outcome = np.where((inputs["a"] > 0.6) & (inputs["b"] < 0.3), 0.5, 0.4)
    return inputs.assign(
        run=np.arange(n), point=np.arange(n), replicate=0, seed=1, year=2030, hebei_share=outcome
    )


def test_prim_finds_the_planted_box() -> None:
    found = discover(
        planted_results(), ["a", "b", "c"], parse_target("hebei_share >= 0.45 in 2030"), threshold=0.8
    )
    box = found.boxes[found.boxes["box"] == 1].set_index("input")
    assert set(box.index) == {"a", "b"}  # c is not restricted
    assert box.loc["a", "lower"] == pytest.approx(0.6, abs=0.05) and box.loc["a", "upper"] == pytest.approx(
        1, abs=0.01
    )
    assert box.loc["b", "upper"] == pytest.approx(0.3, abs=0.05) and box.loc["b", "lower"] == pytest.approx(
        0, abs=0.01
    )
    assert box["density"].iloc[0] >= 0.8 and box["coverage"].iloc[0] >= 0.8
    assert bool(box["meets_threshold"].iloc[0])
    assert found.of_interest == int((planted_results()["hebei_share"] >= 0.45).sum())


def test_discovery_refuses_a_target_nothing_or_everything_meets() -> None:
    with pytest.raises(ScenarioError, match="no run of 600 meets it"):
        discover(planted_results(), ["a", "b", "c"], parse_target("hebei_share >= 0.9 in 2030"))
    with pytest.raises(ScenarioError, match="every run"):
        discover(planted_results(), ["a", "b", "c"], parse_target("hebei_share > 0.1 in 2030"))
    with pytest.raises(ScenarioError, match="year 2025: not in the results"):
        discover(planted_results(), ["a", "b", "c"], parse_target("hebei_share > 0.1 in 2025"))
    with pytest.raises(ScenarioError, match="not an output of this sweep"):
        discover(planted_results(), ["a", "b", "c"], parse_target("foreign_share > 0.1 in 2030"))


def test_discover_command_on_a_sweep_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "linear.yaml"
    path.write_text(
        """\
name: linear-lhs
function: tests.test_sensitivity:linear
inputs:
  a: {lower: 0, upper: 1}
  b: {lower: 0, upper: 2}
design: {kind: latin_hypercube, samples: 200}
seed: 5
outputs:
  indicators: [y]
  years: [2]
""",
        encoding="utf-8",
    )
    run_sweep(load_experiment(path), tmp_path / "store", workers=0, log=io.StringIO())
    assert main(["discover", str(tmp_path / "store"), "--target", "y >= 4 in 2"]) == 0
    out = capsys.readouterr().out
    assert "box 1: coverage" in out and "a:" in out
    found = discover_store(tmp_path / "store", parse_target("y >= 4 in 2"))
    assert found.boxes["density"].iloc[0] >= 0.8
    assert (tmp_path / "store" / "discovery.csv").exists() and (tmp_path / "store" / "discovery.png").exists()
