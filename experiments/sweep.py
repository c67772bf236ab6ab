"""Sweeps: every run of an experiment, stored once, resumable, on local processes or Dask.

    jjj-talent sweep FILE [--store DIR] [--workers N] [--scheduler tcp://HOST:PORT]
    jjj-talent sensitivity STORE          (experiments/sensitivity.py)
    jjj-talent discover STORE --target "hebei_share >= 0.45 in 2030"   (experiments/discovery.py)

A run is (resolved scenario, seed). It is stored under ``runs/KK/KEY.parquet`` (every indicator
of every year, so other outputs can be read later without running again) and ``KEY.json`` (its
manifest), where KEY is the SHA-256 of the scenario's hash and the seed; both files are written
to a temporary name and moved into place, the manifest last, and a run counts as finished only
when its manifest exists. So a sweep killed at any moment (even SIGKILL) and started again skips
what was finished, runs the rest once, and ends with the same results; temporary files left by
the kill are removed at the next start (a lock file keeps two sweeps off one store).

Runs go to the executor (experiments/executors.py) through one code path; workers only compute
and return tables, this process alone writes the store, so a Dask cluster needs no shared disk.
A failed run is logged with its inputs and seed, listed at the end and in ``failures.csv``, and
tried again by the next sweep. The store then holds::

    experiment.json   the resolved experiment (base scenario, inputs, design, seeds, outputs)
    design.parquet    run, point, replicate, seed, key, each input's value and raw sample
    results.parquet   one tidy table: run, point, replicate, inputs..., seed, year, outputs...
    summary.csv       per point, input values, year and output: mean and 90 % interval over replicates
    summary.png/.svg  outputs by year: every point's mean, and the 90 % band over all runs
    failures.csv      the runs that failed, with inputs, seed, error and traceback
    sensitivity.csv   Sobol or Morris indices, when the design is sobol or morris
    sweep.json        the last sweep: when, where, how many, how long

Mesa compatibility: ``MesaBatchModel`` runs the model under ``mesa.batch_run``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import fcntl
import functools
import gc
import hashlib
import json
import math
import os
import socket
import sys
import time
import traceback
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import mesa
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from experiments import io
from experiments.design import Design, Experiment, import_function, load_experiment
from experiments.executors import RECYCLE_AFTER, identity, imap_unordered, open_pool, tune_malloc
from model.errors import JJJError, ScenarioError
from model.indicators import indicators as compute_indicators
from model.scenario import Scenario, load_scenario, validate
from model.simulation import TalentModel

DEFAULT_STORES = Path("outputs") / "sweeps"
INDICATOR_COLUMNS = ["year", "indicator", "value"]
PROGRESS_EVERY_S = 5.0


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
                table = model_indicators(validate(task.scenario, {}, source=f"run {task.key[:12]}"), task.seed)
            else:
                function = import_function(task.function or "", where=f"run {task.key[:12]}: function")
                table = function(dict(task.inputs), task.seed)
        table = tidy_indicators(table)
        error = details = ""
    except Exception as err:  # the run failed; the sweep goes on
        table, error, details = None, f"{type(err).__name__}: {err}", traceback.format_exc()
    return Outcome(key=task.key, table=table, error=error, details=details,
                   wall_seconds=time.perf_counter() - started, worker=f"{socket.gethostname()}:{os.getpid()}",
                   worker_rss_mib=_rss_mib(), code=_identity())


def model_indicators(scenario: Scenario, seed: int) -> pd.DataFrame:
    """Simulate and return the indicator table (year, indicator, value)."""
    from experiments.run import simulate

    tables, model, _ = simulate(scenario, seed)
    return tables["indicators"]


@contextlib.contextmanager
def released_models() -> Iterator[None]:
    """Free the Mesa models created inside the block when it ends, failed runs' included.

    Mesa 3.3.1 numbers agents per model in ``mesa.Agent._ids``, a class-level defaultdict keyed
    by the model itself, and never removes the key (upstream #3179, fixed after 3.3.1 by moving
    the counter into the model): every model, with all its arrays, stays reachable for the life
    of the process (about 16 MiB a run at scale 2000 to 2017, several hundred MiB at scale 100).
    Dropping the key, removing the agents (agent <-> model cycles) and collecting frees it.
    Models that existed before the block are left alone.
    """
    ids = getattr(mesa.Agent, "_ids", None)
    before = {id(model) for model in ids} if isinstance(ids, dict) else set()
    try:
        yield
    finally:
        if not isinstance(ids, dict):
            gc.collect()
        elif _release_new(ids, before):
            gc.collect()  # after _release_new has returned: no frame of ours holds a model now


def _release_new(ids: dict[Any, Any], before: set[int]) -> int:
    made = [m for m in ids if id(m) not in before]
    for model in made:
        with contextlib.suppress(Exception):
            model.remove_all_agents()
        ids.pop(model, None)
    return len(made)


def tidy_indicators(table: Any) -> pd.DataFrame:
    """(year, indicator, value) with int, text and float columns, whatever a function returned."""
    if isinstance(table, Mapping):
        table = pd.DataFrame({"year": 0, "indicator": list(table), "value": list(table.values())})
    if not isinstance(table, pd.DataFrame) or list(table.columns[:3]) != INDICATOR_COLUMNS:
        raise JJJError(f"a run must return a table with columns {INDICATOR_COLUMNS}, got "
                       f"{list(getattr(table, 'columns', [])) or type(table).__name__}")
    return pd.DataFrame({"year": table["year"].astype("int64"), "indicator": table["indicator"].astype(str),
                         "value": table["value"].astype("float64")})


@functools.cache
def _identity() -> dict[str, Any]:
    return identity()


def _rss_mib() -> float:
    try:
        with open(f"/proc/{os.getpid()}/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return float("nan")


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


def run_key(scenario_sha256: str, seed: int) -> str:
    """The store key of a model run: SHA-256 of the resolved scenario's hash and the seed."""
    return hashlib.sha256(json.dumps({"scenario": scenario_sha256, "seed": int(seed)}).encode()).hexdigest()


def function_key(function: str, inputs: Mapping[str, float], seed: int) -> str:
    data = {"function": function, "inputs": {k: float(v) for k, v in sorted(inputs.items())}, "seed": int(seed)}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def plan(experiment: Experiment, design: Design) -> list[PlannedRun]:
    """Every run of the experiment in design order: points x replicate seeds."""
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
                task = Task(run_key(sha, seed), seed, seeded.as_data(), None, values, sha)
            else:
                task = Task(function_key(experiment.function or "", values, seed), seed, None,
                            experiment.function, values)
            runs.append(PlannedRun(len(runs), point, replicate, seed, values, task))
    return runs


# --- the store ---------------------------------------------------------------------------------

class Store:
    """A folder of finished runs (content-addressed by run key) and a sweep's outputs."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.runs = self.root / "runs"

    def paths(self, key: str) -> tuple[Path, Path]:
        folder = self.runs / key[:2]
        return folder / f"{key}.parquet", folder / f"{key}.json"

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the store for one sweep; the kernel releases the lock if the process dies."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise JJJError(f"{self.root} is in use by another sweep; wait for it or use another --store") from None
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()}\n")
            handle.flush()
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def remove_temporary_files(self) -> int:
        """Delete what an interrupted sweep left half-written (call only under ``lock``)."""
        removed = 0
        for folder in [self.root, *sorted(p for p in self.runs.glob("*") if p.is_dir())]:
            for entry in os.scandir(folder):
                if entry.name.startswith(".") and entry.name.endswith(".tmp") and entry.is_file():
                    os.unlink(entry.path)
                    removed += 1
        return removed

    def finished_keys(self) -> set[str]:
        """Keys whose manifest (written last) and table are both in place."""
        keys: set[str] = set()
        if not self.runs.is_dir():
            return keys
        for folder in os.scandir(self.runs):
            if not folder.is_dir():
                continue
            names = {entry.name for entry in os.scandir(folder.path)}
            keys.update(name[:-5] for name in names
                        if name.endswith(".json") and not name.startswith(".") and f"{name[:-5]}.parquet" in names)
        return keys

    def save(self, run: PlannedRun, outcome: Outcome) -> None:
        """Write a finished run: the table first, then the manifest that marks it finished."""
        assert outcome.table is not None
        table_path, manifest_path = self.paths(outcome.key)
        io.write_parquet(table_path, outcome.table)
        io.write_json(manifest_path, {
            "key": outcome.key, "seed": run.seed, "inputs": run.inputs,
            "scenario_sha256": run.task.scenario_sha256,
            "function": run.task.function, "scenario": run.task.scenario,
            "rows": len(outcome.table), "wall_seconds": round(outcome.wall_seconds, 3),
            "worker": outcome.worker, "worker_rss_mib": round(outcome.worker_rss_mib, 1),
            "git_commit": outcome.code.get("git_commit"), "versions": outcome.code.get("versions"),
            "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        })

    def load(self, key: str) -> pd.DataFrame:
        return self.load_arrow(key).to_pandas()

    def load_arrow(self, key: str) -> pa.Table:
        with open(self.paths(key)[0], "rb") as handle:  # open once: the name may be replaced meanwhile
            return pq.read_table(handle)

    def manifest(self, key: str) -> dict[str, Any]:
        return json.loads(self.paths(key)[1].read_text(encoding="utf-8"))  # type: ignore[no-any-return]


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


class Progress:
    """Runs done, total and time left, on a stream: rewritten in place on a terminal, a line
    every ``PROGRESS_EVERY_S`` seconds elsewhere (CI logs)."""

    def __init__(self, total: int, already: int, stream: IO[str]) -> None:
        self.total, self.already, self.stream = total, already, stream
        self.started = self.last = time.monotonic()
        self.is_terminal = bool(getattr(stream, "isatty", lambda: False)())

    def show(self, done: int, failed: int, final: bool = False) -> None:
        now = time.monotonic()
        if not final and not self.is_terminal and now - self.last < PROGRESS_EVERY_S and done - self.already > 1:
            return
        self.last = now
        elapsed = now - self.started
        ran = done + failed - self.already
        left = self.total - done - failed
        eta = f"about {_clock(elapsed / ran * left)} left" if ran and left else ("finished" if not left else "")
        text = (f"sweep: {done}/{self.total} runs done" + (f", {failed} failed" if failed else "")
                + f", {_clock(elapsed)} elapsed" + (f", {eta}" if eta else ""))
        if self.is_terminal:
            self.stream.write("\r\033[K" + text + ("\n" if final else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def run_sweep(experiment: Experiment, store_dir: Path, *, workers: int | None = None,
              scheduler: str | None = None, max_tasks_per_child: int | None = RECYCLE_AFTER,
              log: IO[str] | None = None) -> SweepReport:
    """Run what the store does not hold yet, then write results, summary and charts; progress
    and failures go to ``log`` (default: stderr)."""
    log = log or sys.stderr
    started = time.perf_counter()
    design = experiment.sample()
    runs = plan(experiment, design)
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
            log.write(f"sweep: removed {removed} temporary file{'s' if removed > 1 else ''} an interrupted sweep left\n")
        io.write_json(store.root / "experiment.json", experiment.as_data())
        io.write_parquet(store.root / "design.parquet", design_table(design, runs))
        finished = store.finished_keys() & by_key.keys()
        if finished:
            check_outputs(experiment, store.load(next(iter(sorted(finished)))))
        todo = [runs_[0].task for key, runs_ in by_key.items() if key not in finished]
        done = sum(len(by_key[key]) for key in finished)
        log.write(f"sweep: {experiment.name}: {len(runs)} runs ({len(design.points)} points x "
                  f"{experiment.replicates} replicates), {done} already in {store.root}\n")
        if todo:
            with open_pool(workers, scheduler, max_tasks_per_child) as pool:
                pool_name = pool.description
                log.write(f"sweep: running {len(todo)} on {pool.description}\n")
                progress = Progress(len(runs), done, log)
                checked = bool(finished)
                for task, future in imap_unordered(pool, execute, todo):
                    outcome = _outcome_of(task, future)
                    executed += 1
                    if outcome.table is not None:
                        if not checked:
                            check_outputs(experiment, outcome.table)
                            checked = True
                        store.save(by_key[task.key][0], outcome)
                        done += len(by_key[task.key])
                    else:
                        for run in by_key[task.key]:
                            failures.append(Failure(run, outcome.error, outcome.details))
                            log.write(f"sweep: run {run.run} failed (seed {run.seed}, "
                                      f"{_inputs_text(run.inputs)}): {outcome.error}\n")
                    progress.show(done, len(failures))
                progress.show(done, len(failures), final=True)
        report = SweepReport(store.root, len(runs), done, failures, executed,
                             time.perf_counter() - started, pool_name)
        write_outputs(store, experiment, design, runs, failures, log)
        io.write_json(store.root / "sweep.json", {
            "experiment": experiment.name, "source": str(experiment.source), "runs": report.runs,
            "done": report.done, "failed": report.failed, "executed": executed, "executor": pool_name,
            "wall_seconds": round(report.wall_seconds, 3),
            "finished": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "command": " ".join(sys.argv)})
    for failure in failures:
        log.write(f"  failed: run {failure.run.run}, point {failure.run.point}, seed {failure.run.seed}, "
                  f"{_inputs_text(failure.run.inputs)}: {failure.error}\n")
    log.flush()
    return report


def _outcome_of(task: Task, future: Any) -> Outcome:
    """The outcome, or a failed one when the executor itself failed (a worker died, ...)."""
    try:
        return future.result()  # type: ignore[no-any-return]
    except BaseException as err:  # noqa: BLE001 - any executor failure is this run's failure
        if isinstance(err, KeyboardInterrupt):
            raise
        return Outcome(key=task.key, table=None, error=f"{type(err).__name__}: {err}",
                       details="".join(traceback.format_exception(err)))


def _inputs_text(inputs: Mapping[str, float]) -> str:
    return ", ".join(f"{name}={value:g}" for name, value in inputs.items())


def check_outputs(experiment: Experiment, table: pd.DataFrame) -> None:
    """The experiment's outputs must be among what a run reports (checked on the first run)."""
    names = set(table["indicator"])
    missing = [name for name in experiment.indicators if name not in names]
    if missing:
        raise ScenarioError(f"{experiment.source}: outputs.indicators: value {missing[0]!r}: not an indicator "
                            f"of the runs; allowed: {', '.join(sorted(names))}")
    if experiment.years is not None:
        years = set(table["year"])
        absent = [y for y in experiment.years if y not in years]
        if absent:
            raise ScenarioError(f"{experiment.source}: outputs.years: value {absent[0]}: no such year in the "
                                f"runs; allowed: {', '.join(map(str, sorted(years)))}")


def design_table(design: Design, runs: Sequence[PlannedRun]) -> pd.DataFrame:
    """One row a run: run, point, replicate, seed, key, input values and the raw samples."""
    frame = pd.DataFrame({"run": [r.run for r in runs], "point": [r.point for r in runs],
                          "replicate": [r.replicate for r in runs], "seed": [r.seed for r in runs],
                          "key": [r.task.key for r in runs]})
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
    wide = long.pivot_table(index=["key", "year"], columns="indicator", values="value",
                            aggfunc="first", sort=False).reset_index()
    meta = pd.DataFrame([{"run": r.run, "point": r.point, "replicate": r.replicate, **r.inputs,
                          "seed": r.seed, "key": r.task.key} for r in runs if r.task.key in finished])
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
    lower_5, upper_95, replicates."""
    names = [i.path for i in experiment.inputs]
    keys = ["point", *names, "year"]
    long = results.melt(id_vars=keys, value_vars=list(experiment.indicators), var_name="indicator")
    grouped = long.groupby([*keys, "indicator"], sort=False, dropna=False)["value"]
    summary = pd.DataFrame({
        "mean": grouped.mean(), "lower_5": grouped.quantile(0.05), "upper_95": grouped.quantile(0.95),
        "replicates": grouped.count()}).reset_index()
    summary["indicator"] = pd.Categorical(summary["indicator"], categories=list(experiment.indicators))
    summary = summary.sort_values(["indicator", "point", "year"], ignore_index=True)
    summary["indicator"] = summary["indicator"].astype(str)
    return summary


def write_outputs(store: Store, experiment: Experiment, design: Design, runs: Sequence[PlannedRun],
                  failures: Sequence[Failure], log: IO[str]) -> pd.DataFrame:
    """results.parquet, summary.csv, the summary chart, failures.csv and, for Sobol and Morris
    designs, the sensitivity indices."""
    results = collect_results(store, experiment, runs)
    io.write_parquet(store.root / "results.parquet", results)
    io.write_csv(store.root / "failures.csv", pd.DataFrame(
        [{"run": f.run.run, "point": f.run.point, "replicate": f.run.replicate, **f.run.inputs,
          "seed": f.run.seed, "key": f.run.task.key, "error": f.error, "traceback": f.details} for f in failures],
        columns=["run", "point", "replicate", *[i.path for i in experiment.inputs], "seed", "key", "error",
                 "traceback"]))
    if results.empty:
        return results
    io.write_csv(store.root / "summary.csv", summarise(results, experiment))
    from experiments.charts import figure_bytes  # matplotlib: only once there is something to draw

    for extension, data in figure_bytes(summary_chart(results, experiment)).items():
        io.write_bytes(store.root / f"summary.{extension}", data)
    if experiment.design.kind in ("sobol", "morris"):
        from experiments.sensitivity import write_sensitivity

        try:
            write_sensitivity(store.root, log=log)
        except JJJError as err:
            log.write(f"sweep: no sensitivity indices: {err}\n")
    return results


def summary_chart(results: pd.DataFrame, experiment: Experiment) -> Any:
    """One panel an output: every point's replicate mean by year (coloured by the first input)
    and the 5-95 % band over all runs; with a single year, outputs against the first input."""
    from matplotlib import colormaps
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure

    outputs = list(experiment.indicators)
    columns = min(3, len(outputs))
    rows = math.ceil(len(outputs) / columns)
    figure = Figure(figsize=(4.2 * columns, 3.2 * rows + 0.6), layout="constrained")
    FigureCanvasAgg(figure)
    first = experiment.inputs[0].path
    span = results[first].agg(["min", "max"])
    colour_of = colormaps["viridis"]
    years = sorted(results["year"].unique())
    for i, name in enumerate(outputs):
        ax = figure.add_subplot(rows, columns, i + 1)
        if len(years) > 1:
            band = results.groupby("year")[name].quantile([0.05, 0.5, 0.95]).unstack()
            ax.fill_between(band.index, band[0.05], band[0.95], color="#999999", alpha=0.25, linewidth=0,
                            label="5-95 % of runs")
            means = results.groupby(["point", "year"])[name].mean().unstack("year")
            point_first = results.groupby("point")[first].first()
            for point, series in means.iterrows():
                scaled = (point_first[point] - span["min"]) / ((span["max"] - span["min"]) or 1.0)
                ax.plot(series.index, series.to_numpy(float), color=colour_of(scaled), linewidth=0.8, alpha=0.8)
            ax.plot(band.index, band[0.5], color="black", linewidth=1.5, label="median")
            ax.set_xlabel("year")
        else:
            ax.scatter(results[first], results[name], s=12, c=results[first], cmap="viridis")
            ax.set_xlabel(first)
        ax.set_title(name, fontsize=10)
        ax.grid(alpha=0.3)
        if i == 0 and len(years) > 1:
            ax.legend(frameon=False, fontsize=8)
    if len(years) > 1:
        scale = ScalarMappable(norm=Normalize(span["min"], span["max"]), cmap=colour_of)
        figure.colorbar(scale, ax=figure.axes, label=first.removeprefix("parameters.").removeprefix("levers."),
                        shrink=0.9)
    figure.suptitle(f"{experiment.name}: {results['run'].nunique()} runs; a line a point (mean of its "
                    "replicates), coloured by its first input", fontsize=10)
    return figure


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

    def __init__(self, scenario: str | Path | Scenario, seed: int,
                 overrides: Mapping[str, Any] | None = None,
                 reporters: Sequence[str] = ("hebei_share", "talents.jjj")) -> None:
        resolved = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        if overrides:
            resolved = resolved.with_overrides(dict(overrides), source="batch_run parameters")
        super().__init__(resolved, seed=seed)
        self._now: tuple[int, pd.Series] | None = None
        self.datacollector = mesa.DataCollector(model_reporters={
            "year": lambda model: model.year,
            **{name: functools.partial(MesaBatchModel.indicator, name=name) for name in reporters}})

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
    return {"scenario": [experiment.base], "seed": experiment.seeds(),
            "overrides": [dict(row) for row in design.points.to_dict(orient="records")],
            "reporters": [list(experiment.indicators)]}


# --- command line ------------------------------------------------------------------------------

def add_commands(subparsers: Any) -> None:
    """Register ``sweep``, ``sensitivity`` and ``discover`` with the ``jjj-talent`` parser."""
    sweep = subparsers.add_parser("sweep", help="run an experiment's runs (resumable), then its results")
    sweep.add_argument("experiment", type=Path, help="experiment file (YAML)")
    sweep.add_argument("--store", type=Path, help=f"store folder (default: {DEFAULT_STORES}/<experiment name>)")
    sweep.add_argument("--workers", type=int, help="local worker processes (default: one per core; 0: this process)")
    sweep.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run on this Dask cluster instead")
    sweep.add_argument("--recycle-after", type=int, default=RECYCLE_AFTER, metavar="N",
                       help=f"replace a local worker after N runs (default {RECYCLE_AFTER})")
    sweep.set_defaults(handler=_sweep_command)

    from experiments.discovery import add_command as add_discover
    from experiments.sensitivity import add_command as add_sensitivity

    add_sensitivity(subparsers)
    add_discover(subparsers)


def _sweep_command(args: argparse.Namespace) -> int:
    if args.workers is not None and args.scheduler is not None:
        raise ScenarioError("command line: --workers and --scheduler: give one; the cluster decides its workers")
    experiment = load_experiment(args.experiment)
    store = args.store or DEFAULT_STORES / experiment.name
    report = run_sweep(experiment, store, workers=args.workers, scheduler=args.scheduler,
                       max_tasks_per_child=args.recycle_after)
    sys.stderr.flush()
    print(f"results: {report.store / 'results.parquet'}")
    print(report.last_line(), flush=True)
    return 0 if not report.failures else 1
