"""Sweeps: every run of an experiment, stored once, resumable, on local processes or Dask.

    jjj-talent sweep FILE [--store DIR] [--workers N] [--scheduler tcp://HOST:PORT]
    jjj-talent sensitivity STORE          (experiments/sweeps/sensitivity.py)
    jjj-talent discover STORE --target "hebei_share >= 0.45 in 2030"   (experiments/sweeps/discovery.py)

A run is (resolved scenario, seed), stored in the store (``experiments/sweeps/store.py``) under
a key that also names the model's fingerprint, so a run made by other model code is never
reused: a sweep started again after the model changed says so and recomputes every run. A sweep
killed at any moment (even SIGKILL) and started again skips what was finished, runs the rest
once, and ends with the same results.

Runs go through the runner (experiments/runner.py: this process, local processes or Dask)
by one code path; workers only compute and return tables, this process alone writes the store,
so a Dask cluster needs no shared disk. A worker running other model code than this process
(a Dask worker with an older checkout) fails its runs with a message saying so.
A failed run is logged with its inputs and seed, listed at the end and in ``failures.csv``, and
tried again by the next sweep. The store then holds::

    experiment.json   the resolved experiment (base scenario, inputs, design, seeds, outputs)
    design.parquet    run, point, replicate, seed, key, each input's value and raw sample
    results.parquet   one tidy table: run, point, replicate, inputs..., seed, year, outputs...
    summary.csv       per point, input values, year and output: mean and 90 % interval over replicates
    summary.png/.svg  drawn by the command (reports/exploration_figures.py): outputs by year
    failures.csv      the runs that failed, with inputs, seed, error and traceback
    sensitivity.csv   Sobol or Morris indices, when the design is sobol or morris
    sweep.json        the last sweep: when, where, how many, how long

Mesa compatibility: ``MesaBatchModel`` runs the model under ``mesa.batch_run``.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import socket
import sys
import time
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import mesa
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from experiments import files
from experiments.files import model_fingerprint
from experiments.replicates import LOWER, P05, P95, UPPER
from experiments.runner import (
    RECYCLE_AFTER,
    Progress,
    cached_identity,
    imap_unordered,
    open_pool,
    released_models,
    rss_mib,
    tune_malloc,
)
from experiments.sweeps.design import Design, Experiment, import_function
from experiments.sweeps.sensitivity import write_sensitivity
from experiments.sweeps.store import Store, function_key, run_key
from model.errors import JJJError, ScenarioError
from model.indicators import indicators as compute_indicators
from model.scenario import Scenario, load_scenario, validate
from model.simulation import TalentModel, simulate

DEFAULT_STORES = Path("outputs") / "sweeps"
INDICATOR_COLUMNS = ["year", "indicator", "value"]


# --- one run, as a worker sees it ------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    """What a worker needs for one run: plain data, cheap to send to another process or host.

    Attributes:
        key: the run's store key (``run_key``).
        seed: the run's seed.
        scenario: the resolved scenario as data (its ``seed`` is ``seed``), or None.
        function: ``module:attribute`` of a test function, or None.
        inputs: the point's input values (what a function is called with).
        scenario_sha256: the scenario's content hash (``Scenario.sha256``), or None.
    """

    key: str
    seed: int
    scenario: dict[str, Any] | None
    function: str | None
    inputs: dict[str, float]
    scenario_sha256: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What a worker sends back: the indicator table (year, indicator, value) or the error."""

    key: str
    table: pd.DataFrame | None
    error: str = ""
    details: str = ""
    wall_seconds: float = 0.0
    worker: str = ""
    worker_rss_mib: float = 0.0
    code: dict[str, Any] = field(default_factory=dict)


def execute(task: Task) -> Outcome:
    """Run one task; never raises for a failing run (the error comes back in the outcome, as
    text, so that it crosses process and host boundaries whatever its type)."""
    tune_malloc()
    started = time.perf_counter()
    try:
        with released_models():
            if task.scenario is not None:
                table = model_indicators(
                    validate(task.scenario, {}, source=f"run {task.key[:12]}"), task.seed
                )
            else:
                function = import_function(task.function or "", where=f"run {task.key[:12]}: function")
                table = function(dict(task.inputs), task.seed)
        table = tidy_indicators(table)
        error = details = ""
    except Exception as err:  # the run failed; the sweep goes on
        table, error, details = None, f"{type(err).__name__}: {err}", traceback.format_exc()
    return Outcome(
        key=task.key,
        table=table,
        error=error,
        details=details,
        wall_seconds=time.perf_counter() - started,
        worker=f"{socket.gethostname()}:{os.getpid()}",
        worker_rss_mib=rss_mib(),
        code=cached_identity(),
    )


def model_indicators(scenario: Scenario, seed: int) -> pd.DataFrame:
    """Simulate and return the indicator table (year, indicator, value)."""
    tables, model, _ = simulate(scenario, seed)
    return tables["indicators"]


def tidy_indicators(table: Any) -> pd.DataFrame:
    """(year, indicator, value) with int, text and float columns, whatever a function returned."""
    if isinstance(table, Mapping):
        table = pd.DataFrame({"year": 0, "indicator": list(table), "value": list(table.values())})
    if not isinstance(table, pd.DataFrame) or list(table.columns[:3]) != INDICATOR_COLUMNS:
        raise JJJError(
            f"a run must return a table with columns {INDICATOR_COLUMNS}, got "
            f"{list(getattr(table, 'columns', [])) or type(table).__name__}"
        )
    return pd.DataFrame(
        {
            "year": table["year"].astype("int64"),
            "indicator": table["indicator"].astype(str),
            "value": table["value"].astype("float64"),
        }
    )


# --- planning ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedRun:
    """A run of the design: ``run`` = point x replicates + replicate."""

    run: int
    point: int
    replicate: int
    seed: int
    inputs: dict[str, float]
    task: Task


def plan(experiment: Experiment, design: Design, fingerprint: str | None = None) -> list[PlannedRun]:
    """Every run of the experiment in design order: points x replicate seeds; model runs are
    keyed with ``fingerprint`` (default: this process's model)."""
    fingerprint = model_fingerprint() if fingerprint is None else fingerprint
    seeds = experiment.seeds()
    names = [i.path for i in design.inputs]
    runs: list[PlannedRun] = []
    for point, row in enumerate(design.points.itertuples(index=False, name=None)):
        values = {name: float(v) for name, v in zip(names, row)}
        scenario = experiment.scenario_at(values, seeds[0]) if experiment.base is not None else None
        for replicate, seed in enumerate(seeds):
            if scenario is not None:
                # the seed is in range by construction: no need to validate the copy again
                seeded = scenario.model_copy(update={"seed": seed})
                sha = seeded.sha256()
                task = Task(run_key(sha, seed, fingerprint), seed, seeded.as_data(), None, values, sha)
            else:
                task = Task(
                    function_key(experiment.function or "", values, seed),
                    seed,
                    None,
                    experiment.function,
                    values,
                )
            runs.append(PlannedRun(len(runs), point, replicate, seed, values, task))
    return runs


# --- the store ---------------------------------------------------------------------------------

# --- the sweep ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    run: PlannedRun
    error: str
    details: str


@dataclass
class SweepReport:
    """What a sweep did: ``done`` counts runs finished in the store (earlier sweeps' too)."""

    store: Path
    runs: int
    done: int
    failures: list[Failure]
    executed: int
    wall_seconds: float
    pool: str

    @property
    def failed(self) -> int:
        return len(self.failures)

    def last_line(self) -> str:
        return f"sweep: runs={self.runs} done={self.done} failed={self.failed}"


def run_sweep(
    experiment: Experiment,
    store_dir: Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    max_tasks_per_child: int | None = RECYCLE_AFTER,
    log: IO[str] | None = None,
) -> SweepReport:
    """Run what the store does not hold yet, then write results, the summary and, for Sobol and
    Morris designs, the sensitivity indices; progress and failures go to ``log`` (default:
    stderr). Runs made by another model version are not reused (the log says so)."""
    log = log or sys.stderr
    started = time.perf_counter()
    fingerprint = model_fingerprint()
    design = experiment.sample()
    runs = plan(experiment, design, fingerprint)
    store = Store(store_dir)
    by_key: dict[str, list[PlannedRun]] = {}
    for run in runs:
        by_key.setdefault(run.task.key, []).append(run)
    failures: list[Failure] = []
    executed = 0
    pool_name = "none needed"
    with store.lock():
        removed = store.remove_temporary_files()
        if removed:
            log.write(
                f"sweep: removed {removed} temporary file{'s' if removed > 1 else ''} an interrupted sweep left\n"
            )
        earlier = store.model_fingerprint()
        if earlier is not None and earlier != fingerprint and experiment.base is not None:
            log.write(
                f"sweep: the runs in {store.root} were made by model {earlier}; this is model "
                f"{fingerprint}: none of them is reused, every run is computed again (use another "
                "--store to keep the two apart)\n"
            )
        store.set_model_fingerprint(fingerprint)
        files.write_json(store.root / "experiment.json", experiment.as_data())
        files.write_parquet(store.root / "design.parquet", design_table(design, runs))
        finished = store.finished_keys() & by_key.keys()
        if finished:
            check_outputs(experiment, store.load(next(iter(sorted(finished)))))
        todo = [runs_[0].task for key, runs_ in by_key.items() if key not in finished]
        done = sum(len(by_key[key]) for key in finished)
        log.write(
            f"sweep: {experiment.name}: {len(runs)} runs ({len(design.points)} points x "
            f"{experiment.replicates} replicates), {done} already in {store.root}\n"
        )
        if todo:
            with open_pool(workers, scheduler, max_tasks_per_child) as pool:
                pool_name = pool.description
                log.write(f"sweep: running {len(todo)} on {pool.description}\n")
                progress = Progress(len(runs), done, what="sweep", stream=log)
                checked = bool(finished)
                for task, future in imap_unordered(pool, execute, todo):
                    outcome = _outcome_of(task, future)
                    executed += 1
                    worker_model = outcome.code.get("model")
                    if (
                        outcome.table is not None
                        and task.scenario is not None
                        and worker_model != fingerprint
                    ):
                        outcome = Outcome(
                            key=task.key,
                            table=None,
                            error=(
                                f"worker {outcome.worker} runs model {worker_model}, this sweep model "
                                f"{fingerprint}: give the workers this checkout (pip install -e .) and sweep again"
                            ),
                        )
                    if outcome.table is not None:
                        if not checked:
                            check_outputs(experiment, outcome.table)
                            checked = True
                        save_run(store, by_key[task.key][0], outcome)
                        done += len(by_key[task.key])
                        progress.advance(len(by_key[task.key]))
                    else:
                        for run in by_key[task.key]:
                            failures.append(Failure(run, outcome.error, outcome.details))
                            log.write(
                                f"sweep: run {run.run} failed (seed {run.seed}, "
                                f"{_inputs_text(run.inputs)}): {outcome.error}\n"
                            )
                        progress.advance(0, len(by_key[task.key]))
                progress.close()
        report = SweepReport(
            store.root, len(runs), done, failures, executed, time.perf_counter() - started, pool_name
        )
        write_outputs(store, experiment, design, runs, failures, log)
        files.write_json(
            store.root / "sweep.json",
            {
                "experiment": experiment.name,
                "source": str(experiment.source),
                "runs": report.runs,
                "model_fingerprint": fingerprint,
                "done": report.done,
                "failed": report.failed,
                "executed": executed,
                "executor": pool_name,
                "wall_seconds": round(report.wall_seconds, 3),
                "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "command": " ".join(sys.argv),
            },
        )
    for failure in failures:
        log.write(
            f"  failed: run {failure.run.run}, point {failure.run.point}, seed {failure.run.seed}, "
            f"{_inputs_text(failure.run.inputs)}: {failure.error}\n"
        )
    log.flush()
    return report


def save_run(store: Store, run: PlannedRun, outcome: Outcome) -> None:
    """Store a finished run's table with its manifest (inputs, seed, where and by what it ran)."""
    if outcome.table is None:
        raise JJJError(f"run {run.run} has no table to store: {outcome.error}")
    store.save(
        outcome.key,
        outcome.table,
        {
            "seed": run.seed,
            "inputs": run.inputs,
            "scenario_sha256": run.task.scenario_sha256,
            "function": run.task.function,
            "scenario": run.task.scenario,
            "wall_seconds": round(outcome.wall_seconds, 3),
            "worker": outcome.worker,
            "worker_rss_mib": round(outcome.worker_rss_mib, 1),
            "git_commit": outcome.code.get("git_commit"),
            "versions": outcome.code.get("versions"),
            "model_fingerprint": outcome.code.get("model"),
        },
    )


def _outcome_of(task: Task, future: Any) -> Outcome:
    """The outcome, or a failed one when the executor itself failed (a worker died, ...)."""
    try:
        return future.result()  # type: ignore[no-any-return]
    except BaseException as err:  # noqa: BLE001 - any executor failure is this run's failure
        if isinstance(err, KeyboardInterrupt):
            raise
        return Outcome(
            key=task.key,
            table=None,
            error=f"{type(err).__name__}: {err}",
            details="".join(traceback.format_exception(err)),
        )


def _inputs_text(inputs: Mapping[str, float]) -> str:
    return ", ".join(f"{name}={value:g}" for name, value in inputs.items())


def check_outputs(experiment: Experiment, table: pd.DataFrame) -> None:
    """The experiment's outputs must be among what a run reports (checked on the first run)."""
    names = set(table["indicator"])
    missing = [name for name in experiment.indicators if name not in names]
    if missing:
        raise ScenarioError(
            f"{experiment.source}: outputs.indicators: value {missing[0]!r}: not an indicator "
            f"of the runs; allowed: {', '.join(sorted(names))}"
        )
    if experiment.years is not None:
        years = set(table["year"])
        absent = [y for y in experiment.years if y not in years]
        if absent:
            raise ScenarioError(
                f"{experiment.source}: outputs.years: value {absent[0]}: no such year in the "
                f"runs; allowed: {', '.join(map(str, sorted(years)))}"
            )


def design_table(design: Design, runs: Sequence[PlannedRun]) -> pd.DataFrame:
    """One row a run: run, point, replicate, seed, key, input values and the raw samples."""
    frame = pd.DataFrame(
        {
            "run": [r.run for r in runs],
            "point": [r.point for r in runs],
            "replicate": [r.replicate for r in runs],
            "seed": [r.seed for r in runs],
            "key": [r.task.key for r in runs],
        }
    )
    points = np.array([r.point for r in runs], dtype=int)
    for j, item in enumerate(design.inputs):
        frame[item.path] = design.points[item.path].to_numpy()[points]
        frame[f"sample.{item.path}"] = design.samples[points, j]
    return frame


# --- results -----------------------------------------------------------------------------------


def collect_results(store: Store, experiment: Experiment, runs: Sequence[PlannedRun]) -> pd.DataFrame:
    """The tidy table: run, point, replicate, inputs..., seed, year, one column per output;
    finished runs only, in design order."""
    finished = store.finished_keys()
    names = [i.path for i in experiment.inputs]
    wanted = list(experiment.indicators)
    frames = []
    for key in dict.fromkeys(r.task.key for r in runs if r.task.key in finished):
        table = store.load_arrow(key)
        keep = pc.is_in(table["indicator"], pa.array(wanted))
        if experiment.years is not None:
            keep = pc.and_(keep, pc.is_in(table["year"], pa.array(experiment.years, pa.int64())))
        table = table.filter(keep)
        frames.append(table.append_column("key", pa.array([key] * len(table), pa.string())))
    columns = ["run", "point", "replicate", *names, "seed", "year", *wanted]
    if not frames:
        return pd.DataFrame(columns=columns)
    long = pa.concat_tables(frames).to_pandas()
    wide = long.pivot_table(
        index=["key", "year"], columns="indicator", values="value", aggfunc="first", sort=False
    ).reset_index()
    meta = pd.DataFrame(
        [
            {
                "run": r.run,
                "point": r.point,
                "replicate": r.replicate,
                **r.inputs,
                "seed": r.seed,
                "key": r.task.key,
            }
            for r in runs
            if r.task.key in finished
        ]
    )
    results = meta.merge(wide, on="key", how="inner").drop(columns="key")
    for name in wanted:
        if name not in results:
            results[name] = np.nan
    results = results[columns].sort_values(["run", "year"], ignore_index=True)
    results.columns.name = None
    return results


def summarise(results: pd.DataFrame, experiment: Experiment) -> pd.DataFrame:
    """Per point and year: each output's mean and 90 % interval (5th and 95th percentiles,
    linear interpolation) over replicates, long: point, inputs..., year, indicator, mean,
    p05, p95, replicates."""
    names = [i.path for i in experiment.inputs]
    keys = ["point", *names, "year"]
    long = results.melt(id_vars=keys, value_vars=list(experiment.indicators), var_name="indicator")
    grouped = long.groupby([*keys, "indicator"], sort=False, dropna=False)["value"]
    summary = pd.DataFrame(
        {
            "mean": grouped.mean(),
            P05: grouped.quantile(LOWER),
            P95: grouped.quantile(UPPER),
            "replicates": grouped.count(),
        }
    ).reset_index()
    summary["indicator"] = pd.Categorical(summary["indicator"], categories=list(experiment.indicators))
    summary = summary.sort_values(["indicator", "point", "year"], ignore_index=True)
    summary["indicator"] = summary["indicator"].astype(str)
    return summary


def write_outputs(
    store: Store,
    experiment: Experiment,
    design: Design,
    runs: Sequence[PlannedRun],
    failures: Sequence[Failure],
    log: IO[str],
) -> pd.DataFrame:
    """results.parquet, summary.csv, failures.csv and, for Sobol and Morris designs, the
    sensitivity indices (sensitivity.csv)."""
    results = collect_results(store, experiment, runs)
    files.write_parquet(store.root / "results.parquet", results)
    files.write_csv(
        store.root / "failures.csv",
        pd.DataFrame(
            [
                {
                    "run": f.run.run,
                    "point": f.run.point,
                    "replicate": f.run.replicate,
                    **f.run.inputs,
                    "seed": f.run.seed,
                    "key": f.run.task.key,
                    "error": f.error,
                    "traceback": f.details,
                }
                for f in failures
            ],
            columns=[
                "run",
                "point",
                "replicate",
                *[i.path for i in experiment.inputs],
                "seed",
                "key",
                "error",
                "traceback",
            ],
        ),
    )
    if results.empty:
        return results
    files.write_csv(store.root / "summary.csv", summarise(results, experiment))
    if experiment.design.kind in ("sobol", "morris"):
        try:
            write_sensitivity(store.root, log=log)
        except JJJError as err:
            log.write(f"sweep: no sensitivity indices: {err}\n")
    return results


# --- Mesa's batch_run --------------------------------------------------------------------------


class MesaBatchModel(TalentModel):
    """The model as ``mesa.batch_run`` expects it: keyword arguments, a ``datacollector``
    recording indicators after every step (``year`` included).

    Give ``batch_run`` a list of seeds and ``iterations=1``: Mesa 3.3.1 runs every iteration of a
    parameter set with the seed it is given, so iterations with one seed repeat the same run.
    ``batch_parameters`` builds such arguments from an experiment.

    Args:
        scenario: a scenario file or a validated scenario.
        seed: this run's seed.
        overrides: dotted-path overrides, e.g. ``{"parameters.beta_wage": 2.0}``.
        reporters: indicator names to record (model/indicators.py).
    """

    def __init__(
        self,
        scenario: str | Path | Scenario,
        seed: int,
        overrides: Mapping[str, Any] | None = None,
        reporters: Sequence[str] = ("hebei_share", "talents.jjj"),
    ) -> None:
        resolved = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        if overrides:
            resolved = resolved.with_overrides(dict(overrides), source="batch_run parameters")
        super().__init__(resolved, seed=seed)
        self._now: tuple[int, pd.Series] | None = None
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "year": lambda model: model.year,
                **{name: functools.partial(MesaBatchModel.indicator, name=name) for name in reporters},
            }
        )

    def step(self) -> None:
        super().step()
        self.datacollector.collect(self)  # after each step: batch_run reads step n - 1 as the last

    def indicator(self, name: str) -> float:
        """An indicator's value in the current year."""
        if self._now is None or self._now[0] != self.year:
            tables = self.tables()
            table = compute_indicators(tables["stocks"], tables["nodes"], self.layout)
            self._now = (self.year, table[table["year"] == self.year].set_index("indicator")["value"])
        return float(self._now[1].get(name, np.nan))


def batch_parameters(experiment: Experiment) -> dict[str, list[Any]]:
    """``mesa.batch_run`` parameters for an experiment's runs: every point with every replicate
    seed (use ``iterations=1``)."""
    if experiment.base is None:
        raise ScenarioError(f"{experiment.source}: mesa.batch_run runs the model, not a function")
    design = experiment.sample()
    return {
        "scenario": [experiment.base],
        "seed": experiment.seeds(),
        "overrides": [dict(row) for row in design.points.to_dict(orient="records")],
        "reporters": [list(experiment.indicators)],
    }
