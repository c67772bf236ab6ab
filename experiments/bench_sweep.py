"""Benchmark of the sweep layer: memory over many runs, throughput and overhead per executor.

    python -m experiments.bench_sweep                    # everything (about 10 minutes on 2 cores)
    python -m experiments.bench_sweep --part memory      # or throughput, overhead

- memory: the resident memory of one process over ``--memory-runs`` consecutive tiny runs
  (scale 2000, 2015-2016), read after runs 1, 50, 100 and 200: (a) plain ``simulate`` calls, as
  Mesa 3.3.1 leaves them; (b) the sweep's ``execute``, which releases each model; (c) one local
  worker process running the sweep's tasks with recycling switched off.
- throughput: runs per minute of ``experiments/example-sweep.yaml``'s design at the default
  scale (100), with 1 and 2 local worker processes and on a 2-worker Dask ``LocalCluster``
  (with Dask's defaults, and with ``experiments/dask-sweeps.yaml``, as the README starts its
  workers; each with how far it is below 2 local processes),
  from start to results (local pools' start-up included; the cluster's start-up apart, its
  workers' import of the model in it, as local workers fork from a server that has imported
  it), the mean time a run simulates, and the share of the workers' wall time spent simulating.
- overhead: time per task of each executor for a task that does nothing (``imap_unordered``
  alone), and per run of the whole sweep path (executor, store writes, results) for the
  Ishigami function.

Prints a table and writes ``outputs/bench/sweep.json``. Timings depend on what else the
machine runs: the load average is recorded with them.
"""

from __future__ import annotations

import argparse
import importlib
import io
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from experiments import files as atomic
from experiments.runner import PRELOAD, imap_unordered, open_pool
from experiments.sweeps.design import load_experiment
from experiments.sweeps.store import Store
from experiments.sweeps.sweep import execute, plan, run_sweep

ROOT = Path(__file__).resolve().parent.parent
CHECKPOINTS = (1, 50, 100, 200)
TINY = {"scale": 2000, "end_year": 2016}
OUT = ROOT / "outputs" / "bench" / "sweep.json"


def rss_mib() -> float:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def noop(item: int) -> int:
    return item


def memory(runs: int, scratch: Path) -> dict[str, dict[int, float]]:
    """RSS (MiB) after the checkpoint runs, for each way of running them."""
    from model.scenario import load_scenario
    from model.simulation import simulate

    scenario = load_scenario(ROOT / "scenarios" / "baseline.yaml").with_overrides(TINY)
    marks = [c for c in CHECKPOINTS if c <= runs] or [runs]
    found: dict[str, dict[int, float]] = {
        "simulate, as Mesa leaves it": {},
        "sweep execute (released)": {},
        "one worker process, no recycling": {},
    }
    experiment = _tiny_experiment(runs, scratch)
    tasks = [run.task for run in plan(experiment, experiment.sample())]
    for i, task in enumerate(tasks, start=1):
        execute(task)
        if i in marks:
            found["sweep execute (released)"][i] = rss_mib()
    with open_pool(workers=1, max_tasks_per_child=None) as pool:
        for i, (_, future) in enumerate(imap_unordered(pool, execute, tasks, window=1), start=1):
            if i in marks:
                found["one worker process, no recycling"][i] = future.result().worker_rss_mib
    for i in range(1, runs + 1):  # last: it keeps every model
        tables, model, _ = simulate(scenario, i)
        del tables, model
        if i in marks:
            found["simulate, as Mesa leaves it"][i] = rss_mib()
    return found


def _tiny_experiment(runs: int, scratch: Path) -> Any:
    """An experiment of ``runs`` tiny runs: one point, ``runs`` replicate seeds."""
    path = scratch / "tiny.yaml"
    path.write_text(
        f"""\
name: bench-memory
scenario: {ROOT / "scenarios" / "baseline.yaml"}
scale: {TINY["scale"]}
end_year: {TINY["end_year"]}
inputs:
  parameters.beta_wage: {{values: [1.5]}}
design: {{kind: grid}}
replicates: {runs}
outputs:
  indicators: [hebei_share]
""",
        encoding="utf-8",
    )
    return load_experiment(path)


SWEEP_SETTINGS = ROOT / "experiments" / "dask-sweeps.yaml"
"""The Dask settings the README starts sweep workers with (``DASK_CONFIG``)."""


DASK_SETUPS: dict[str, dict[str, Any]] = {
    "Dask LocalCluster, 2 workers": {},
    "Dask LocalCluster, 2 workers, dask-sweeps.yaml": yaml.safe_load(SWEEP_SETTINGS.read_text()),
}
"""Dask's defaults, and the settings the README starts sweep workers with
(``experiments/dask-sweeps.yaml``: the workers' diagnostics woken less often, the statistical
profiler off); the cluster's workers receive the settings of the process that starts them."""


def dask_settings(name: str) -> Any:
    """Dask's settings with those of setup ``name`` merged in, for the duration of a block."""
    import dask

    return dask.config.set(dask.config.merge(dask.config.config, DASK_SETUPS[name]))


def throughput(runs: int, scratch: Path) -> list[dict[str, Any]]:
    """Runs per minute of the example sweep's design (default scale) on each executor."""
    experiment = load_experiment(ROOT / "experiments" / "example-sweep.yaml")
    rows = []
    setups: list[tuple[str, dict[str, Any]]] = [
        ("1 local process", {"workers": 1}),
        ("2 local processes", {"workers": 2}),
    ]
    for name, options in setups + [(name, {}) for name in DASK_SETUPS]:
        store = scratch / name.replace(" ", "-").replace(",", "")
        started = time.perf_counter()
        start_up = 0.0
        if options:
            report = run_sweep(_limited(experiment, runs), store, log=io.StringIO(), **options)
        else:
            with dask_settings(name), _local_cluster(scratch) as cluster:
                _import_the_model(cluster.scheduler_address)
                start_up = time.perf_counter() - started
                started = time.perf_counter()
                report = run_sweep(
                    _limited(experiment, runs), store, scheduler=cluster.scheduler_address, log=io.StringIO()
                )
        wall = time.perf_counter() - started
        simulated = sum(Store(store).manifest(key)["wall_seconds"] for key in Store(store).finished_keys())
        workers = options.get("workers", 2)
        rows.append(
            {
                "executor": name,
                "runs": report.done,
                "cluster_start_s": round(start_up, 1),
                "wall_s": round(wall, 1),
                "runs_per_minute": round(60 * report.done / wall, 1),
                "mean_run_s": round(simulated / max(report.done, 1), 2),
                "busy_share": round(simulated / (wall * workers), 2),
            }
        )
    local = next(row["runs_per_minute"] for row in rows if row["executor"] == "2 local processes")
    for row in rows[len(setups) :]:
        below = f"{1 - row['runs_per_minute'] / local:.0%}" if local else "-"
        row["below_local"] = f"{below} (target 15 %)"
    return rows


def _local_cluster(scratch: Path) -> Any:
    from distributed import LocalCluster

    return LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
        local_directory=str(scratch / "dask"),
    )


def _import_the_model(scheduler: str) -> None:
    """Every worker of a fresh cluster imports what a run needs (as local workers are forked
    from a server that has): a long-lived cluster pays that once, at its start-up, not per sweep."""
    from distributed import Client

    with Client(scheduler, set_as_default=False) as client:
        for name in PRELOAD:
            client.run(importlib.import_module, name)


def _limited(experiment: Any, runs: int) -> Any:
    """The experiment with ``runs`` runs at most (fewer replicates or points)."""
    from dataclasses import replace

    from experiments.sweeps.design import LatinHypercubeDesign

    points = max(1, runs // experiment.replicates)
    return replace(experiment, design=LatinHypercubeDesign(kind="latin_hypercube", samples=max(points, 2)))


def overhead(tasks: int, scratch: Path) -> list[dict[str, Any]]:
    """Milliseconds per task: a no-op through ``imap_unordered`` alone, and per run of the whole
    sweep path (Ishigami function: executor, store, results)."""
    rows = []
    ishigami = load_experiment(ROOT / "experiments" / "ishigami.yaml")
    with _local_cluster(scratch) as cluster:
        for name, options in [
            ("this process", {"workers": 0}),
            ("1 local process", {"workers": 1}),
            ("2 local processes", {"workers": 2}),
            ("Dask LocalCluster, 2 workers", {"scheduler": cluster.scheduler_address}),
        ]:
            with open_pool(**options) as pool:
                list(imap_unordered(pool, noop, range(20)))  # warm up: workers started and importing
                started = time.perf_counter()
                for _, future in imap_unordered(pool, noop, range(tasks)):
                    future.result()
                bare = (time.perf_counter() - started) / tasks
            store = scratch / ("ishigami-" + name.replace(" ", "-").replace(",", ""))
            started = time.perf_counter()
            report = run_sweep(ishigami, store, log=io.StringIO(), **options)
            whole = (time.perf_counter() - started) / report.runs
            rows.append(
                {
                    "executor": name,
                    "noop_task_ms": round(1000 * bare, 2),
                    "sweep_path_ms_per_run": round(1000 * whole, 2),
                    "runs": report.runs,
                }
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m experiments.bench_sweep", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--part",
        choices=["memory", "throughput", "overhead"],
        action="append",
        help="measure only this (repeatable; default: all)",
    )
    parser.add_argument("--memory-runs", type=int, default=200)
    parser.add_argument(
        "--throughput-runs", type=int, default=48, help="runs per executor (16 left Dask's gap to chance)"
    )
    parser.add_argument("--overhead-tasks", type=int, default=2000)
    args = parser.parse_args(argv)
    parts = args.part or ["memory", "throughput", "overhead"]
    result: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_at_start": os.getloadavg(),
        }
    }
    import dask

    with (
        tempfile.TemporaryDirectory(prefix="sweep-bench-") as scratch,
        dask.config.set({"temporary-directory": str(Path(scratch) / "dask")}),
    ):
        if "memory" in parts:
            found = memory(args.memory_runs, Path(scratch))
            result["memory_rss_mib"] = found
            print(pd.DataFrame(found).T.round(0).to_string(), "\n")
        if "throughput" in parts:
            result["throughput"] = throughput(args.throughput_runs, Path(scratch))
            print(pd.DataFrame(result["throughput"]).to_string(index=False), "\n")
        if "overhead" in parts:
            result["overhead"] = overhead(args.overhead_tasks, Path(scratch))
            print(pd.DataFrame(result["overhead"]).to_string(index=False), "\n")
    result["machine"]["load_average_at_end"] = os.getloadavg()
    atomic.write_json(OUT, result)
    print(
        f"load average: start {result['machine']['load_average_at_start']}, end {result['machine']['load_average_at_end']}"
    )
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
