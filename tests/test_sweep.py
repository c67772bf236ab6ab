"""Sweeps (experiments/sweeps/design.py, sweep.py): experiment files, design sizes and bounds,
bad files refused, the store, a resume after a real SIGKILL, worker-count invariance, failed runs,
the command's last line, Mesa's batch_run and the release of finished models.

Model runs are tiny (scale 2000, 2015-2016, about half a second each)."""

from __future__ import annotations

import contextlib
import io
import math
import os
import signal
import subprocess
import sys
import time
import weakref
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.cli import main
from experiments.sweeps.design import (
    DESIGN_KINDS,
    Input,
    LatinHypercubeDesign,
    MorrisDesign,
    SobolDesign,
    load_experiment,
    sample,
)
from experiments.sweeps.sweep import (
    MesaBatchModel,
    Store,
    batch_parameters,
    execute,
    model_indicators,
    plan,
    released_models,
    run_sweep,
)
from model.errors import ScenarioError
from model.levers import LEVERS
from model.parameters import PARAMETERS
from model.scenario import load_scenario
from model.simulation import TalentModel

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.yaml"
BAD_EXPERIMENTS = Path(__file__).resolve().parent / "bad_experiments"

TINY = f"""\
name: tiny
scenario: {BASELINE}
scale: 2000
end_year: 2016
inputs:
  parameters.beta_wage: {{lower: 1.0, upper: 2.0}}
  levers.graduate_subsidy.values.2015-07-01: {{values: [0, 50000]}}
design: {{kind: grid, levels: 2}}
replicates: 2
seed: 7
outputs:
  indicators: [hebei_share, talents.jjj]
"""  # 2 x 2 points x 2 seeds = 8 runs
RUNS = 8


def write(folder: Path, text: str, name: str = "experiment.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.setdefault("MPLCONFIGDIR", str(Path(os.environ.get("TMPDIR", "/tmp")) / "sweep-mpl"))
    return env


def leftovers(store: Path) -> list[Path]:
    return [p for p in store.rglob("*") if p.name.endswith(".tmp")]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write(tmp_path_factory.mktemp("tiny"), TINY)


@pytest.fixture(scope="module")
def reference(tiny: Path, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """The tiny sweep, uninterrupted, in one worker process."""
    store = tmp_path_factory.mktemp("reference") / "store"
    report = run_sweep(load_experiment(tiny), store, workers=1, log=io.StringIO())
    assert (report.runs, report.done, report.failed) == (RUNS, RUNS, 0)
    return pd.read_parquet(store / "results.parquet")


@dataclass(frozen=True)
class Command:
    store: Path
    status: int
    out: str
    err: str


@pytest.fixture(scope="module")
def command(tiny: Path, tmp_path_factory: pytest.TempPathFactory) -> Command:
    """``sweep`` on the command line, run in this process (``--workers 0``)."""
    store = tmp_path_factory.mktemp("command") / "store"
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["sweep", str(tiny), "--store", str(store), "--workers", "0"])
    return Command(store, status, out.getvalue(), err.getvalue())


# --- experiment files and designs ----------------------------------------------------------------


def test_shipped_experiments_load_with_their_sizes() -> None:
    example = load_experiment(ROOT / "experiments" / "example-sweep.yaml")
    assert 8 <= example.size() <= 40
    assert example.base is not None and example.base.scale == 100  # the default scale
    sobol = load_experiment(ROOT / "experiments" / "sobol-example.yaml")
    assert sobol.design.kind == "sobol"
    assert sobol.size() == 16 * (4 + 2)
    assert (
        load_experiment(ROOT / "experiments" / "ishigami.yaml").function
        == "experiments.sweeps.sensitivity:ishigami"
    )


@pytest.mark.parametrize(
    "design, expected",
    [
        ("{kind: grid, levels: 3}", 3 * 3 * 2),
        ("{kind: latin_hypercube, samples: 7}", 7),
        ("{kind: sobol, base_samples: 8}", 8 * (3 + 2)),
        ("{kind: sobol, base_samples: 8, second_order: true}", 8 * (2 * 3 + 2)),
        ("{kind: morris, trajectories: 5, levels: 4}", 5 * (3 + 1)),
    ],
)
def test_design_sizes_and_bounds(tmp_path: Path, design: str, expected: int) -> None:
    text = f"""\
name: sizes
scenario: {BASELINE}
inputs:
  parameters.beta_wage: {{lower: 1.0, upper: 2.0}}
  parameters.retirement_age: {{lower: 55, upper: 65}}
  levers.graduate_subsidy.values.2017-07-01: {{values: [0, 30000]}}
design: {design}
replicates: 3
outputs:
  indicators: [hebei_share]
"""
    experiment = load_experiment(write(tmp_path, text))
    points = experiment.sample().points
    assert len(points) == expected
    assert experiment.size() == expected * 3
    assert points["parameters.beta_wage"].between(1.0, 2.0).all()
    ages = points["parameters.retirement_age"]
    assert ages.between(55, 65).all() and (ages == ages.round()).all()  # an integer parameter
    assert set(points["levers.graduate_subsidy.values.2017-07-01"]) <= {0.0, 30000.0}
    if "grid" in design:
        assert sorted(points["parameters.beta_wage"].unique()) == [1.0, 1.5, 2.0]
    pd.testing.assert_frame_equal(points, experiment.sample().points)  # same seed, same design


def test_every_design_kind_is_supported() -> None:
    assert DESIGN_KINDS == ("grid", "latin_hypercube", "sobol", "morris")


@settings(max_examples=25, deadline=None)
@given(
    lower=st.floats(-100, 100),
    width=st.floats(0.01, 100),
    seed=st.integers(0, 2**32),
    kind=st.sampled_from(["latin_hypercube", "sobol", "morris"]),
)
def test_sampled_points_stay_within_their_range(lower: float, width: float, seed: int, kind: str) -> None:
    inputs = (Input("a", lower, lower + width), Input("b", values=(1.0, 2.0, 5.0)))
    design = {
        "latin_hypercube": LatinHypercubeDesign(kind="latin_hypercube", samples=5),
        "sobol": SobolDesign(kind="sobol", base_samples=4),
        "morris": MorrisDesign(kind="morris", trajectories=3, levels=4),
    }[kind]
    points = sample(design, inputs, seed).points
    assert points["a"].between(lower, lower + width).all()
    assert set(points["b"]) <= {1.0, 2.0, 5.0}


def test_replicate_seeds_come_from_the_root_seed_sequence(tiny: Path) -> None:
    experiment = load_experiment(tiny)
    expected = [
        int(s.generate_state(1, np.uint64)[0] >> np.uint64(1)) for s in np.random.SeedSequence(7).spawn(2)
    ]
    assert experiment.seeds() == expected
    runs = plan(experiment, experiment.sample())
    assert [r.seed for r in runs[:4]] == expected * 2  # the same seeds at every point
    assert len({r.task.key for r in runs}) == len(runs)
    scenario = load_scenario(BASELINE)
    assert all(0 <= s < 2**63 for s in expected) and expected[0] != scenario.seed


def test_a_run_key_depends_on_the_scenario_and_the_seed_only(tiny: Path, tmp_path: Path) -> None:
    first = plan(load_experiment(tiny), load_experiment(tiny).sample())
    # the same runs described differently (another name, outputs, description) share keys
    other = write(
        tmp_path,
        TINY.replace("name: tiny", "name: other\ndescription: same runs").replace(
            "[hebei_share, talents.jjj]", "[talents.jjj]"
        ),
    )
    second = plan(load_experiment(other), load_experiment(other).sample())
    assert [r.task.key for r in first] == [r.task.key for r in second]


# Each bad file and the fragments its message must contain (file with line, key path, value, allowed).
BAD = {
    # refused by the one loader (model/loader.py) before anything is read as an experiment
    "alias_bomb": ["alias_bomb.yaml:8:8", "more than 100,000 values", "aliases"],
    "python_tag": ["python_tag.yaml:2:7", "!!python/object/apply:os.system", "not allowed"],
    "not_mapping": ["not_mapping.yaml:2:", "must be a mapping of keys", "got list"],
    "binary": ["binary.yaml:1:", "binary content", "UTF-8 text experiment file"],
    "not_utf8": ["not_utf8.yaml:1:", "not UTF-8 text", "0xe9"],
    "deep_nesting": ["deep_nesting.yaml:52:99", "nesting 51 levels deep", "at most 50"],
    "unknown_top_level_key": [
        "unknown_top_level_key.yaml:10:",
        "replicate",
        "value 2",
        "unknown key",
        "allowed:",
        "replicates",
    ],
    "unknown_parameter": [
        "unknown_parameter.yaml:6:",
        "inputs.parameters.beta_wages",
        "unknown parameter",
        "parameters.beta_wage,",
    ],
    "unknown_lever": ["unknown_lever.yaml:6:", "graduate_bonus", "unknown lever", "graduate_subsidy"],
    "not_a_path": [
        "not_a_path.yaml:6:",
        "parameters.beta_wage.lower",
        "not a path",
        "parameters.NAME",
        "levers.NAME.values.YYYY-MM-DD",
        "scale",
    ],
    "seed_as_input": ["seed_as_input.yaml:6:", "inputs.seed", "not a path"],
    "parameter_out_of_bounds": [
        "parameter_out_of_bounds.yaml:6:",
        "inputs.parameters.beta_wage.upper",
        "value 9.0",
        "outside the declared bounds",
        "0 to 5",
    ],
    "lever_out_of_bounds": [
        "lever_out_of_bounds.yaml:6:",
        "graduate_subsidy.values.2017-07-01.values.1",
        "600000",
        "0 to 500000",
        "CNY per graduate",
    ],
    "lever_bad_date": ["lever_bad_date.yaml:6:", "2017-13-01", "not a date", "YYYY-MM-DD"],
    "unknown_design": [
        "unknown_design.yaml:7:",
        "design.kind",
        "'factorial'",
        "unknown design",
        "grid, latin_hypercube, sobol, morris",
    ],
    "design_unknown_option": [
        "design_unknown_option.yaml:7:",
        "design.levels",
        "unknown key",
        "kind, samples",
    ],
    "sobol_not_power_of_two": [
        "sobol_not_power_of_two.yaml:7:",
        "design",
        "base_samples",
        "power of 2",
        "8 or 16",
    ],
    "morris_odd_levels": ["morris_odd_levels.yaml:7:", "design", "levels must be even"],
    "range_and_values": [
        "range_and_values.yaml:6:",
        "inputs.parameters.beta_wage",
        "either lower and upper, or values",
    ],
    "lower_above_upper": ["lower_above_upper.yaml:6:", "inputs.parameters.beta_wage", "must be below upper"],
    "integer_fraction": [
        "integer_fraction.yaml:6:",
        "retirement_age.values.1",
        "62.5",
        "whole number",
        "50 to 70",
    ],
    "scenario_missing": ["scenario_missing.yaml:2:", "scenario", "no-such-scenario.yaml", "no file"],
    "year_outside_run": [
        "year_outside_run.yaml:10:",
        "outputs.years.1",
        "2025",
        "outside the runs",
        "2015 to 2017",
    ],
    "end_year_input_before_start": [
        "end_year_input_before_start.yaml:6:",
        "inputs.end_year.values.1",
        "2015",
        "2016 to 2030",
    ],
    "duplicate_key": ["duplicate_key.yaml:7:", "duplicate key", "parameters.beta_wage"],
    "no_inputs": ["no_inputs.yaml:5:", "inputs", "at least 1 item"],
    "scenario_and_function": ["scenario_and_function.yaml", "exactly one of scenario and function"],
    "too_many_runs": ["too_many_runs.yaml:9:", "design", "1,000,000,000 runs", "at most 1,000,000"],
}


def test_every_bad_file_has_an_expected_message() -> None:
    assert sorted(p.stem for p in BAD_EXPERIMENTS.glob("*.yaml")) == sorted(BAD)


@pytest.mark.parametrize("stem", sorted(BAD))
def test_bad_experiment_is_refused_with_its_message(stem: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_experiment(BAD_EXPERIMENTS / f"{stem}.yaml")
    message = str(caught.value)
    for fragment in BAD[stem]:
        assert fragment in message, f"{fragment!r} not in:\n{message}"


def test_input_bounds_are_the_declared_ones(tmp_path: Path) -> None:
    """At the declared bounds exactly, a file is accepted."""
    p, lever = PARAMETERS["beta_housing"], LEVERS["talent_card"]
    text = TINY.replace(
        "parameters.beta_wage: {lower: 1.0, upper: 2.0}",
        f"parameters.beta_housing: {{lower: {p.lower}, upper: {p.upper}}}",
    ).replace(
        "levers.graduate_subsidy.values.2015-07-01: {values: [0, 50000]}",
        f"levers.talent_card.values.2016-01-01: {{values: [{lever.lower}, {lever.upper}]}}",
    )
    assert load_experiment(write(tmp_path, text)).size() == RUNS


def test_an_unknown_output_is_refused_on_the_first_run(tmp_path: Path) -> None:
    path = write(tmp_path, TINY.replace("[hebei_share, talents.jjj]", "[hebei_shares]"))
    with pytest.raises(ScenarioError) as caught:
        run_sweep(load_experiment(path), tmp_path / "store", workers=0, log=io.StringIO())
    message = str(caught.value)
    assert "outputs.indicators" in message and "'hebei_shares'" in message and "hebei_share," in message


# --- the sweep -----------------------------------------------------------------------------------


def test_the_command_prints_progress_and_the_counts_last(command: Command) -> None:
    assert command.status == 0
    assert command.out.strip().splitlines()[-1] == f"sweep: runs={RUNS} done={RUNS} failed=0"
    progress = [line for line in command.err.splitlines() if "runs done" in line]
    assert progress[-1].startswith(f"sweep: {RUNS}/{RUNS} runs done") and "elapsed" in progress[-1]
    assert any("left" in line for line in progress[:-1])


def test_results_are_one_tidy_table(command: Command, tiny: Path) -> None:
    results = pd.read_parquet(command.store / "results.parquet")
    inputs = [i.path for i in load_experiment(tiny).inputs]
    assert list(results.columns) == [
        "run",
        "point",
        "replicate",
        *inputs,
        "seed",
        "year",
        "hebei_share",
        "talents.jjj",
    ]
    assert len(results) == RUNS * 2  # runs x years 2015-2016
    assert sorted(results["run"].unique()) == list(range(RUNS))
    assert results["hebei_share"].between(0, 1).all()


def test_summary_gives_mean_and_interval_over_replicates(command: Command) -> None:
    results = pd.read_parquet(command.store / "results.parquet")
    summary = pd.read_csv(command.store / "summary.csv")
    row = summary[
        (summary["point"] == 3) & (summary["year"] == 2016) & (summary["indicator"] == "hebei_share")
    ]
    values = results[(results["point"] == 3) & (results["year"] == 2016)]["hebei_share"]
    assert row["mean"].item() == pytest.approx(values.mean())
    assert row["p05"].item() == pytest.approx(values.quantile(0.05))
    assert row["p95"].item() == pytest.approx(values.quantile(0.95))
    assert row["replicates"].item() == 2
    assert (command.store / "summary.png").stat().st_size > 0
    assert (command.store / "summary.svg").stat().st_size > 0


def test_rerunning_skips_finished_runs(command: Command, tiny: Path) -> None:
    log = io.StringIO()
    again = run_sweep(load_experiment(tiny), command.store, workers=0, log=log)
    assert (again.executed, again.done) == (0, RUNS)
    assert f"{RUNS} already in" in log.getvalue()


def test_worker_count_does_not_change_results(
    reference: pd.DataFrame, command: Command, tiny: Path, tmp_path: Path
) -> None:
    pd.testing.assert_frame_equal(pd.read_parquet(command.store / "results.parquet"), reference)  # 0 vs 1
    store = tmp_path / "store"
    run_sweep(load_experiment(tiny), store, workers=2, log=io.StringIO())
    pd.testing.assert_frame_equal(pd.read_parquet(store / "results.parquet"), reference)  # 2 vs 1


def test_a_sweep_killed_with_sigkill_resumes_to_the_same_results(
    reference: pd.DataFrame, tiny: Path, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    command = [sys.executable, "-m", "app.cli", "sweep", str(tiny), "--store", str(store), "--workers", "2"]
    sweep = subprocess.Popen(
        command,
        cwd=ROOT,
        env=environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(Store(store).finished_keys()) < 3:
            time.sleep(0.02)
        assert sweep.poll() is None, "the sweep finished before it could be killed"
        finished_at_kill = len(Store(store).finished_keys())
        os.kill(sweep.pid, signal.SIGKILL)
        sweep.wait(timeout=30)
        assert 3 <= finished_at_kill < RUNS and not (store / "results.parquet").exists()
        # the kill may land anywhere: leave what a kill between writes would leave, too
        keys = sorted(Store(store).finished_keys())
        table, manifest = Store(store).paths(keys[0])
        manifest.unlink()  # killed after the table, before the manifest
        (table.parent / f".{keys[1]}.parquet.abcd.tmp").write_bytes(b"half a parquet file")
        assert _children_gone(sweep.pid, timeout=15), "worker processes outlived the killed sweep"

        again = subprocess.run(
            command, cwd=ROOT, env=environment(), capture_output=True, text=True, timeout=300
        )
        assert again.returncode == 0, again.stderr
        assert again.stdout.strip().splitlines()[-1] == f"sweep: runs={RUNS} done={RUNS} failed=0"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(sweep.pid, signal.SIGKILL)
    pd.testing.assert_frame_equal(pd.read_parquet(store / "results.parquet"), reference)
    assert leftovers(store) == []
    tables = list((store / "runs").rglob("*.parquet"))
    assert len(tables) == len({p.stem for p in tables}) == RUNS  # each run stored once
    assert len(list((store / "runs").rglob("*.json"))) == RUNS


def _children_gone(session: int, timeout: float) -> bool:
    """No process of the killed sweep's session is left (its workers notice and exit)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError, ProcessLookupError):
                    if os.getsid(int(entry.name)) == session and _is_running(entry):
                        alive.append(entry.name)
        if not alive:
            return True
        time.sleep(0.2)
    return False


def _is_running(proc: Path) -> bool:
    state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
    return state != "Z"


def fails_above_one(inputs: dict[str, float], seed: int) -> pd.DataFrame:
    """A test function that fails for x > 1."""
    if inputs["x"] > 1:
        raise ValueError(f"x = {inputs['x']} is too large")
    return pd.DataFrame({"year": [0], "indicator": ["y"], "value": [2 * inputs["x"]]})


def test_a_failed_run_is_listed_and_does_not_stop_the_sweep(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
name: failing
function: tests.test_sweep:fails_above_one
inputs:
  x: {values: [0.5, 1.0, 1.5, 2.0]}
design: {kind: grid}
replicates: 2
outputs:
  indicators: [y]
""",
    )
    store = tmp_path / "store"
    log = io.StringIO()
    report = run_sweep(load_experiment(path), store, workers=1, log=log)
    assert (report.runs, report.done, report.failed) == (8, 4, 4)
    assert report.last_line() == "sweep: runs=8 done=4 failed=4"
    text = log.getvalue()
    assert "run 4 failed (seed" in text and "x=1.5" in text and "ValueError: x = 1.5 is too large" in text
    failures = pd.read_csv(store / "failures.csv")
    assert sorted(failures["run"]) == [4, 5, 6, 7] and set(failures["x"]) == {1.5, 2.0}
    assert pd.read_parquet(store / "results.parquet")["y"].tolist() == [1.0, 1.0, 2.0, 2.0]
    again = run_sweep(load_experiment(path), store, workers=0, log=io.StringIO())
    assert (again.executed, again.failed) == (4, 4)  # failures are tried again, successes not


def test_the_command_refuses_a_bad_file_with_status_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sweep", str(BAD_EXPERIMENTS / "unknown_design.yaml")]) == 2
    assert "unknown design" in capsys.readouterr().err


def test_a_store_in_use_is_refused(tiny: Path, tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    with store.lock():
        with pytest.raises(Exception, match="in use by another sweep"):
            run_sweep(load_experiment(tiny), store.root, workers=0, log=io.StringIO())


# --- memory and Mesa -------------------------------------------------------------------------------


def test_a_finished_model_is_freed(tiny: Path) -> None:
    """Mesa 3.3.1 keeps every model in Agent._ids; released_models drops it (memory flat)."""
    experiment = load_experiment(tiny)
    scenario = experiment.scenario_at({"parameters.beta_wage": 1.5}, 1)
    with released_models():
        model = TalentModel(scenario, seed=1)
        alive = weakref.ref(model)
        del model
    assert alive() is None
    with released_models():
        table = model_indicators(scenario, 1)
    assert not table.empty


def test_execute_returns_a_failure_instead_of_raising(tiny: Path) -> None:
    experiment = load_experiment(tiny)
    task = plan(experiment, experiment.sample())[0].task
    broken = type(task)(task.key, task.seed, {**task.scenario, "scale": 0}, None, task.inputs)  # type: ignore[dict-item]
    outcome = execute(broken)
    assert outcome.table is None and "scale" in outcome.error and outcome.details


def test_mesa_batch_run_with_explicit_seeds_matches_simulate(tiny: Path) -> None:
    from mesa.batchrunner import batch_run

    experiment = load_experiment(tiny)
    overrides = {"parameters.beta_wage": 1.5}
    rows = batch_run(
        MesaBatchModel,
        parameters={
            "scenario": [experiment.base],
            "seed": [11, 12],
            "overrides": [overrides],
            "reporters": [["hebei_share", "talents.jjj"]],
        },
        iterations=1,
        number_processes=1,
        data_collection_period=-1,
        display_progress=False,
    )
    assert [row["seed"] for row in rows] == [11, 12]
    assert all(row["year"] == 2016 for row in rows)
    for row in rows:
        table = model_indicators(experiment.scenario_at(overrides, row["seed"]), row["seed"])
        expected = table[(table["year"] == 2016) & (table["indicator"] == "hebei_share")]["value"].item()
        assert row["hebei_share"] == expected
    assert rows[0]["talents.jjj"] != rows[1]["talents.jjj"]  # two seeds: two different replications


def test_batch_parameters_cover_every_point_and_seed(tiny: Path) -> None:
    experiment = load_experiment(tiny)
    parameters = batch_parameters(experiment)
    assert parameters["seed"] == experiment.seeds()
    assert len(parameters["overrides"]) * len(parameters["seed"]) == experiment.size()
    assert math.prod(len(v) for v in parameters.values()) == experiment.size()
