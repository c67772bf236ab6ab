"""A single run: scenario + seed -> tables, indicators and manifest in one folder.

The folder is built beside its destination under a temporary name and swapped into place when
complete, so a failed or interrupted run leaves the previous results as they were. The command
that asked for the run adds its report to the same staging folder (``add_files``), so the
report is swapped in with the tables it describes.

With an ensemble (``experiments/ensemble.py``) the run is replicate 0 of its seed: it runs with
the parameter values of the draw ``Ensemble.replicate_draws(seed, 1)`` picks, and the manifest
records the file, its hash and the draw (``ensemble``); ``scenario.json`` and
``parameters.csv`` hold the values that ran. ``parameters.csv`` says where each value came
from (``origin``): ``ensemble`` (the draw sets it), ``fitted`` (at the value of the fitted layer
the scenario extends, ``fitted_values``), ``scenario`` (set by the scenario or a parent) or
``default`` (the declared default).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sys
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from experiments import files
from experiments.ensemble import Ensemble
from experiments.files import (
    FIT_TABLE,
    RECORD_VALIDATION,
    VALIDATION_SUMMARY,
    VALIDATION_TABLE,
    AddFiles,
    git_commit,
    model_fingerprint,
    package_versions,
    record_dir,
    staging_dir,
)
from model.parameters import PARAMETERS
from model.scenario import Scenario, load_scenario, parent_file
from model.simulation import Progress, TalentModel, simulate


@dataclass(frozen=True)
class RunResult:
    """What a finished run produced."""

    out_dir: Path
    tables: dict[str, pd.DataFrame]
    manifest: dict


def run_scenario(
    scenario: Scenario,
    out_dir: Path,
    seed: int | None = None,
    progress: Progress | None = None,
    add_files: AddFiles | None = None,
    ensemble: Ensemble | None = None,
    fitted: Mapping[str, float] | None = None,
) -> RunResult:
    """Simulate and write every output of one run into ``out_dir`` (replacing it whole);
    ``add_files(stage)`` writes anything else (a report) into the same folder before the swap;
    ``ensemble``: run with one of its draws (module docstring); ``fitted``: the values of the
    fitted layer the scenario extends, if any (``fitted_values``), for ``parameters.csv``."""
    record = None
    if ensemble is not None:
        draws = ensemble.replicate_draws(scenario.seed if seed is None else seed, 1)
        scenario = ensemble.scenario_for(scenario, draws[0])
        record = ensemble.record(draws)
    tables, model, wall = simulate(scenario, seed, progress)
    manifest = make_manifest(scenario, model, wall)
    manifest["ensemble"] = record  # None: the scenario's own parameter values
    with staging_dir(out_dir) as stage:
        write_tables(stage, tables, model, manifest, fitted)
        if add_files is not None:
            add_files(stage)
    return RunResult(out_dir, tables, manifest)


def calibration_record(scenario_path: Path) -> Path | None:
    """The record folder of the nearest layer with a fit table in the scenario file's
    ``extends`` chain (for the shipped scenarios, ``scenarios/calibrated-2015/``), or None."""
    path: Path | None = Path(scenario_path)
    seen: set[Path] = set()
    while path is not None and path.is_file() and path.resolve() not in seen:
        seen.add(path.resolve())
        if (record_dir(path) / FIT_TABLE).is_file():
            return record_dir(path)
        path = parent_file(path)
    return None


def copy_record(record: Path, folder: Path) -> str | None:
    """Copy a calibration record's fit table into a run folder, and its validation when that
    validated the layer's fitted values; returns why the validation was left out, or None."""
    shutil.copyfile(record / FIT_TABLE, folder / FIT_TABLE)
    fitted = fitted_values(record)
    validation = record / RECORD_VALIDATION
    if not (validation / "summary.json").is_file():
        return None
    summary = json.loads((validation / "summary.json").read_text(encoding="utf-8"))
    validated = summary.get("parameters", {})
    if any(validated.get(name) != value for name, value in fitted.items()):
        return (
            f"{validation}/ validated other parameter values than {record.with_suffix('.yaml')}'s: "
            "left out of the report; re-run the validation its README names"
        )
    shutil.copyfile(validation / "validation.csv", folder / VALIDATION_TABLE)
    shutil.copyfile(validation / "summary.json", folder / VALIDATION_SUMMARY)
    return None


def fitted_values(record: Path) -> dict[str, float]:
    """The parameter values of the fitted layer whose record folder is ``record``."""
    return load_scenario(record.with_suffix(".yaml")).parameter_overrides()


def write_tables(
    folder: Path,
    tables: dict[str, pd.DataFrame],
    model: TalentModel,
    manifest: dict,
    fitted: Mapping[str, float] | None = None,
) -> None:
    """The run folder's data files (see README, "Outputs")."""
    files.write_parquet(folder / "stocks.parquet", tables["stocks"])
    files.write_parquet(folder / "flows.parquet", tables["flows"])
    files.write_parquet(folder / "nodes.parquet", tables["nodes"])
    files.write_csv(folder / "indicators.csv", tables["indicators"])
    files.write_csv(folder / "drivers.csv", tables["drivers"])
    files.write_csv(folder / "lever_spending.csv", tables["spending"])
    drawn = (manifest.get("ensemble") or {}).get("parameters", ())
    files.write_csv(folder / "parameters.csv", parameter_table(model.params, fitted, drawn))
    files.write_csv(folder / "provenance.csv", model.base.provenance)
    files.write_json(folder / "notes.json", list(dict.fromkeys(model.notes)))
    files.write_json(folder / "scenario.json", model.scenario.as_data())
    files.write_json(folder / "manifest.json", manifest)


def parameter_table(
    values: Mapping[str, float], fitted: Mapping[str, float] | None = None, drawn: Collection[str] = ()
) -> pd.DataFrame:
    """Every parameter's value, default, ``origin`` (module docstring), unit, bounds and source;
    ``fitted``: the fitted layer's values, ``drawn``: the names an ensemble draw set."""

    def origin(name: str, value: float) -> str:
        if name in drawn:
            return "ensemble"
        if fitted is not None and fitted.get(name) == value:
            return "fitted"
        return "default" if value == PARAMETERS[name].default else "scenario"

    return pd.DataFrame(
        [
            {
                "name": p.name,
                "value": values[p.name],
                "default": p.default,
                "origin": origin(p.name, values[p.name]),
                "unit": p.unit,
                "lower": p.lower,
                "upper": p.upper,
                "meaning": p.meaning,
                "source": p.source,
            }
            for p in PARAMETERS.values()
        ]
    )


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
        "model_fingerprint": model_fingerprint(),
        "wall_seconds": round(wall_seconds, 3),  # the model's run alone: no imports, no writing
        "agent_steps": model.agent_steps,  # rows alive at each simulated year's end, summed (issue 9)
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join(sys.argv),
    }
