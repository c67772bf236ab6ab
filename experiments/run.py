"""A single run: scenario + seed -> tables, indicators, charts, report and manifest in one folder.

The folder is built beside its destination under a temporary name and swapped into place when
complete, so a failed or interrupted run leaves the previous results as they were.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from experiments import io
from model.errors import JJJError, RunError
from model.indicators import indicators
from model.parameters import PARAMETERS
from model.scenario import Scenario
from model.simulation import TalentModel

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VERSIONED = ("jjj-talent", "mesa", "numpy", "scipy", "pandas", "pyarrow", "pydantic", "matplotlib", "PyYAML")

Progress = Callable[[int, int, TalentModel], None]


@dataclass(frozen=True)
class RunResult:
    """What a finished run produced."""

    out_dir: Path
    tables: dict[str, pd.DataFrame]
    manifest: dict


def simulate(scenario: Scenario, seed: int | None = None,
             progress: Progress | None = None) -> tuple[dict[str, pd.DataFrame], TalentModel, float]:
    """Run the model to the scenario's end year; returns its tables (indicators included), the
    model and the wall time in seconds."""
    started = time.perf_counter()
    model = TalentModel(scenario, seed=seed)
    try:
        while model.running:
            model.step()
            if progress:
                progress(model.year, scenario.end_year, model)
    except JJJError:
        raise
    except Exception as err:  # a bug or a numerical failure: say which run, keep the cause
        raise RunError(f"run failed in {model.year}: {err!r}", scenario.name, model.seed) from err
    tables = model.tables()
    tables["indicators"] = indicators(tables["stocks"], tables["nodes"], model.layout)
    return tables, model, time.perf_counter() - started


def run_scenario(scenario: Scenario, out_dir: Path, seed: int | None = None,
                 progress: Progress | None = None, report: bool = True) -> RunResult:
    """Simulate and write every output of one run into ``out_dir`` (replacing it whole)."""
    tables, model, wall = simulate(scenario, seed, progress)
    manifest = make_manifest(scenario, model, wall)
    with staging_dir(out_dir) as stage:
        write_tables(stage, tables, model, manifest)
        if report:
            from experiments.report import write_report  # charts pull in matplotlib: only when asked
            write_report(stage)
    return RunResult(out_dir, tables, manifest)


def write_tables(folder: Path, tables: dict[str, pd.DataFrame], model: TalentModel, manifest: dict) -> None:
    """The run folder's data files (see README, "Outputs")."""
    io.write_parquet(folder / "stocks.parquet", tables["stocks"])
    io.write_parquet(folder / "flows.parquet", tables["flows"])
    io.write_parquet(folder / "nodes.parquet", tables["nodes"])
    io.write_csv(folder / "indicators.csv", tables["indicators"])
    io.write_csv(folder / "drivers.csv", tables["drivers"])
    io.write_csv(folder / "lever_spending.csv", tables["spending"])
    io.write_csv(folder / "parameters.csv", parameter_table(model.params))
    io.write_csv(folder / "provenance.csv", model.base.provenance)
    io.write_json(folder / "notes.json", list(dict.fromkeys(model.notes)))
    io.write_json(folder / "scenario.json", model.scenario.as_data())
    io.write_json(folder / "manifest.json", manifest)


def parameter_table(values: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame([{"name": p.name, "value": values[p.name], "default": p.default, "unit": p.unit,
                          "lower": p.lower, "upper": p.upper, "meaning": p.meaning, "source": p.source}
                         for p in PARAMETERS.values()])


def make_manifest(scenario: Scenario, model: TalentModel, wall_seconds: float) -> dict:
    return {
        "scenario": scenario.name,
        "description": scenario.description,
        "scenario_sha256": scenario.sha256(),
        "seed": model.seed,
        "scale": scenario.scale,
        "start_year": scenario.start_year,
        "end_year": scenario.end_year,
        "agent_rows": len(model.talents),
        "persons": model.talents.persons,
        "firms": len(model.firms),
        "cities": len(model.cities),
        "versions": package_versions(),
        "git_commit": git_commit(),
        "wall_seconds": round(wall_seconds, 3),
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(sys.argv),
    }


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def git_commit() -> str:
    """The project's commit, with ``+dirty`` when the work tree has changes; 'unknown' outside git."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True,
                                text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=PROJECT_ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


class staging_dir:
    """Context manager: a fresh folder beside ``target``; on success it replaces ``target``
    (the old one is removed only after the new one is in place), on failure it is deleted."""

    def __init__(self, target: Path) -> None:
        self.target = Path(target)

    def __enter__(self) -> Path:
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self.stage = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.", suffix=".tmp", dir=self.target.parent))
        os.chmod(self.stage, 0o755)  # mkdtemp makes it private; outputs are for sharing
        return self.stage

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            shutil.rmtree(self.stage, ignore_errors=True)
            return
        old = None
        if self.target.exists():
            old = self.target.with_name(f".{self.target.name}.old-{time.time_ns()}")
            self.target.rename(old)
        self.stage.rename(self.target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
