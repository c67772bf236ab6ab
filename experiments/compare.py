"""Scenario comparison: several scenarios, the same replicate seeds, paired effects.

    jjj-talent compare A.yaml B.yaml [C.yaml ...] --replicates N [--seed ROOT] [--scale N]
                       [--end YEAR] [--ensemble FILE] [--workers W | --scheduler ADDR] [--out DIR]
                       [--no-report]

The first scenario is the reference. Every scenario runs on the same ``N`` replicate seeds,
drawn by ``experiments.replicates.replicate_seeds`` (``ROOT`` defaults to the first
scenario's seed): replicate ``r`` of every scenario uses the same seed (common random
numbers), so the effect of a scenario is measured replicate by replicate, as its value minus
the reference's value on the same seed, and the chance differences between seeds cancel.
An effect's interval is the 5th to 95th percentile of the paired differences over replicates.

With a parameter ensemble (``--ensemble FILE``, else the scenarios' ``ensemble`` key, which must
then name the same file in every scenario), replicate ``r`` of every scenario also runs with the
same draw of parameter values (``experiments/ensemble.py``): common parameters as well as common
random numbers, so an effect's interval includes parameter uncertainty as well as chance. The
manifest records the file, its hash and the draw of each replicate, and ``interval`` says which
kind of interval the tables hold.

Runs go through the runner (``experiments/runner.py``): ``W`` local processes (0: this process)
or a Dask cluster; each task gets the scenario as plain data and a seed and sends back only its
indicator and spending tables. Results do not depend on ``W`` or the executor.

Everything is written into a staging folder beside ``--out`` and swapped into place at the
end, so bad input or a failed run leaves an existing folder as it was. See ``write_comparison``
for the files.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments import files
from experiments.ensemble import Ensemble, choose_ensemble, interval_kind
from experiments.files import git_commit, model_fingerprint, package_versions, staging_dir
from experiments.replicates import P05, P95, grouped_interval, interval, replicate_seeds
from experiments.runner import RunTask, indicator_tables, run_all
from model.errors import ScenarioError
from model.layout import PROVINCES, default_layout
from model.levers import LEVERS
from model.plan import COST_YEARS, MILESTONE_YEARS, TARGETS
from model.scenario import Scenario, load_scenario

DEFAULT_OUTPUTS = Path("outputs")


# --- what is compared ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ComparedScenario:
    """A scenario taking part: ``label`` is its name, made unique within the comparison (a
    scenario given twice is labelled ``name`` and ``name-2``)."""

    label: str
    scenario: Scenario
    file: Path


@dataclass(frozen=True)
class Comparison:
    """A validated comparison, ready to run: the first scenario is the reference."""

    scenarios: tuple[ComparedScenario, ...]
    root_seed: int
    seeds: tuple[int, ...]
    workers: int | None
    scheduler: str | None = None
    ensemble: Ensemble | None = None
    draws: tuple[int, ...] = ()
    """With an ensemble: the draw (row index) of each replicate, the same for every scenario."""

    @property
    def ensemble_record(self) -> dict[str, Any] | None:
        """The manifest's ``ensemble``: file, hash and the draw of each replicate (None without)."""
        return None if self.ensemble is None else self.ensemble.record(self.draws)

    @property
    def interval_kind(self) -> str:
        """What the 90 % intervals span (``experiments.ensemble.interval_kind``)."""
        return interval_kind(self.replicates, self.ensemble_record)

    def scenario_data(self, entry: ComparedScenario, replicate: int) -> dict[str, Any]:
        """What replicate ``replicate`` of ``entry`` runs: its scenario, with the replicate's draw
        of parameter values when there is an ensemble."""
        if self.ensemble is None:
            return entry.scenario.as_data()
        return self.ensemble.scenario_for(entry.scenario, self.draws[replicate]).as_data()

    @property
    def labels(self) -> list[str]:
        return [entry.label for entry in self.scenarios]

    @property
    def replicates(self) -> int:
        return len(self.seeds)

    @property
    def runs(self) -> int:
        return len(self.scenarios) * len(self.seeds)

    @property
    def reference(self) -> ComparedScenario:
        return self.scenarios[0]


def plan_comparison(
    scenario_files: Sequence[str | Path],
    replicates: int,
    *,
    root_seed: int | None = None,
    scale: int | None = None,
    end_year: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    ensemble: Path | None = None,
    ensemble_key: bool = False,
) -> Comparison:
    """Load and check everything a comparison needs; raises ``ScenarioError`` (and writes
    nothing) on bad input. ``scale`` and ``end_year`` override every scenario; ``workers``
    (0: this process) defaults to the number of CPUs, at most one per run. ``ensemble``: the
    parameter ensemble file (``--ensemble``); without it, ``ensemble_key`` says whether the
    scenarios' ``ensemble`` key is read (``compare`` reads it; analyses that plan their own runs
    on the comparison's seeds, such as attribution, do not)."""
    if len(scenario_files) < 2:
        raise ScenarioError(
            f"command line: compare needs at least two scenario files, got "
            f"{len(scenario_files)}; the first is the reference the others are compared with"
        )
    if root_seed is not None and (
        isinstance(root_seed, bool) or not isinstance(root_seed, int) or root_seed < 0
    ):
        raise ScenarioError(f"command line: --seed: value {root_seed!r}: must be a whole number >= 0")
    seeds = tuple(replicate_seeds(0, replicates))  # checks --replicates before any file is read
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 0):
        raise ScenarioError(f"command line: --workers: value {workers!r}: must be 0 (this process) or more")
    if workers is not None and scheduler is not None:
        raise ScenarioError(
            "command line: --workers and --scheduler: give one; the cluster decides its workers"
        )
    overrides = {key: value for key, value in (("scale", scale), ("end_year", end_year)) if value is not None}
    scenarios: list[ComparedScenario] = []
    for file in scenario_files:
        scenario = load_scenario(file)
        if overrides:
            scenario = scenario.with_overrides(overrides, source="command line")
        scenarios.append(ComparedScenario(_unique_label(scenario.name, scenarios), scenario, Path(file)))
    reference = scenarios[0].scenario
    for entry in scenarios[1:]:
        for key, option in (
            ("start_year", "(set it in the files)"),
            ("end_year", "--end"),
            ("scale", "--scale"),
        ):
            if getattr(entry.scenario, key) != getattr(reference, key):
                raise ScenarioError(
                    f"{entry.file}: {key}: value {getattr(entry.scenario, key)}: differs from "
                    f"{getattr(reference, key)} in {scenarios[0].file}; scenarios are compared "
                    f"year by year on the same seeds, so they must agree; use {option}"
                )
    if ensemble is None and ensemble_key:
        for entry in scenarios[1:]:
            if entry.scenario.ensemble != reference.ensemble:
                raise ScenarioError(
                    f"{entry.file}: ensemble: value {entry.scenario.ensemble!r}: differs from "
                    f"{reference.ensemble!r} in {scenarios[0].file}; compared scenarios share each "
                    "replicate's draw of parameters, so they must name the same ensemble; use --ensemble"
                )
    chosen_ensemble = (
        choose_ensemble(ensemble, reference, scenarios[0].file)
        if ensemble is not None or ensemble_key
        else None
    )
    root = reference.seed if root_seed is None else root_seed
    seeds = tuple(replicate_seeds(root, replicates))
    draws = tuple(chosen_ensemble.replicate_draws(root, replicates)) if chosen_ensemble else ()
    runs = len(scenarios) * replicates
    chosen = (
        workers if workers is not None or scheduler is not None else max(1, min(os.cpu_count() or 1, runs))
    )
    return Comparison(tuple(scenarios), root, seeds, chosen, scheduler, chosen_ensemble, draws)


def _unique_label(name: str, taken: Sequence[ComparedScenario]) -> str:
    labels = {entry.label for entry in taken}
    label, n = name, 1
    while label in labels:
        n += 1
        label = f"{name}-{n}"
    return label


def default_out_dir(comparison: Comparison) -> Path:
    """``outputs/compare-<name1>-vs-<name2>[-vs-...]``."""
    return DEFAULT_OUTPUTS / ("compare-" + "-vs-".join(e.scenario.name for e in comparison.scenarios))


# --- running ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplicateRun:
    """One finished run of the comparison: its indicators (year, indicator, value) and lever
    spending (year, lever, node, cny)."""

    label: str
    replicate: int
    seed: int
    indicators: pd.DataFrame
    spending: pd.DataFrame
    wall_seconds: float


def run_comparison(comparison: Comparison) -> list[ReplicateRun]:
    """Every scenario on every replicate seed (and the replicate's draw of parameters, with an
    ensemble) through the runner, in scenario then replicate order whatever the order the runs
    finish in."""
    tasks: list[RunTask] = []
    keys: list[tuple[str, int]] = []
    for entry in comparison.scenarios:
        for replicate, seed in enumerate(comparison.seeds):
            data = comparison.scenario_data(entry, replicate)
            tasks.append(
                RunTask(len(tasks), f"{entry.label}, replicate {replicate}", data, seed, indicator_tables)
            )
            keys.append((entry.label, replicate))
    outputs = run_all(tasks, workers=comparison.workers, scheduler=comparison.scheduler, what="compare")
    return [
        ReplicateRun(
            label,
            replicate,
            output.seed,
            output.result["indicators"],
            output.result["spending"],
            output.wall_seconds,
        )
        for (label, replicate), output in zip(keys, outputs)
    ]


# --- tables -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ComparisonTables:
    """The comparison's results; see ``write_comparison`` for the columns."""

    indicators: pd.DataFrame
    effects: pd.DataFrame
    spending: pd.DataFrame
    cost_effectiveness: pd.DataFrame
    milestones: pd.DataFrame

    @property
    def years(self) -> list[int]:
        return sorted(int(year) for year in self.indicators["year"].unique())


def run_indicators(outputs: Sequence[ReplicateRun]) -> pd.DataFrame:
    """scenario, replicate, seed, year, indicator, value of every run."""
    frames = [
        output.indicators.assign(scenario=output.label, replicate=output.replicate, seed=output.seed)
        for output in outputs
        if output.indicators is not None
    ]
    table = pd.concat(frames, ignore_index=True)
    table["year"] = table["year"].astype(int)
    table["value"] = table["value"].astype(float)
    return table[["scenario", "replicate", "seed", "year", "indicator", "value"]]


def run_spending(outputs: Sequence[ReplicateRun]) -> pd.DataFrame:
    """scenario, replicate, seed, year, lever, node, cny of every run."""
    columns = ["scenario", "replicate", "seed", "year", "lever", "node", "cny"]
    frames = [
        output.spending.assign(scenario=output.label, replicate=output.replicate, seed=output.seed)
        for output in outputs
        if output.spending is not None and len(output.spending)
    ]
    if not frames:
        return pd.DataFrame(
            {column: pd.Series(dtype=float if column == "cny" else object) for column in columns}
        )
    table = pd.concat(frames, ignore_index=True)
    table["year"] = table["year"].astype(int)
    table["cny"] = table["cny"].astype(float)
    return table[columns]


def _paired(indicators: pd.DataFrame, reference: str, label: str) -> pd.DataFrame:
    """Reference and scenario values side by side, one row per replicate, year and indicator."""
    key = ["replicate", "year", "indicator"]
    base = indicators[indicators["scenario"] == reference].set_index(key)["value"]
    other = indicators[indicators["scenario"] == label].set_index(key)["value"]
    paired = pd.concat({"base": base, "scenario": other}, axis=1, join="inner").reset_index()
    paired["effect"] = paired["scenario"] - paired["base"]
    return paired


def effects_table(indicators: pd.DataFrame, labels: Sequence[str]) -> pd.DataFrame:
    """For each scenario but the first, indicator and year: reference and scenario means over
    replicates, and the mean and 5th/95th percentiles of the paired effect (scenario minus
    reference on the same replicate)."""
    order = list(dict.fromkeys(indicators["indicator"]))
    frames = []
    for label in labels[1:]:
        paired = _paired(indicators, labels[0], label)
        groups = paired.groupby(["indicator", "year"])
        low, high = grouped_interval(groups["effect"])
        frame = pd.DataFrame(
            {
                "base_mean": groups["base"].mean(),
                "scenario_mean": groups["scenario"].mean(),
                "effect_mean": groups["effect"].mean(),
                f"effect_{P05}": low,
                f"effect_{P95}": high,
            }
        ).reset_index()
        frames.append(frame.assign(scenario=label))
    columns = [
        "scenario",
        "indicator",
        "year",
        "base_mean",
        "scenario_mean",
        "effect_mean",
        f"effect_{P05}",
        f"effect_{P95}",
    ]
    if not frames:
        return pd.DataFrame(columns=columns)
    table = pd.concat(frames, ignore_index=True)
    return _ordered(table, labels, order)[columns]


def _ordered(table: pd.DataFrame, labels: Sequence[str], indicators: Sequence[str]) -> pd.DataFrame:
    """Rows in scenario order, then the runs' indicator order, then year."""
    rank_scenario = {label: i for i, label in enumerate(labels)}
    rank_indicator = {name: i for i, name in enumerate(indicators)}
    keys = pd.DataFrame(
        {
            "s": table["scenario"].map(rank_scenario),
            "i": table["indicator"].map(rank_indicator),
            "y": table["year"],
        }
    )
    order = keys.sort_values(["s", "i", "y"], kind="stable").index
    return table.loc[order].reset_index(drop=True)


def spending_table(
    spending: pd.DataFrame, labels: Sequence[str], replicates: int, years: Sequence[int]
) -> pd.DataFrame:
    """scenario, lever, year, cny_mean: spending summed over nodes, mean over replicates (a
    replicate that spent nothing in a year counts as 0), every run year of each lever that
    spent anything."""
    rows = []
    lever_rank = {name: i for i, name in enumerate(LEVERS)}
    for label in labels:
        mine = spending[spending["scenario"] == label]
        for lever in sorted(set(mine["lever"]), key=lambda name: (lever_rank.get(name, 1e9), name)):
            by_year = mine[mine["lever"] == lever].groupby("year")["cny"].sum()
            for year in years:
                rows.append((label, lever, int(year), float(by_year.get(year, 0.0)) / replicates))
    return pd.DataFrame(rows, columns=["scenario", "lever", "year", "cny_mean"]).astype(
        {"year": int, "cny_mean": float}
    )


def cost_years(years: Sequence[int]) -> list[int]:
    """The years cost-effectiveness is given for: 2025 and 2030 if run, and the last year."""
    chosen = [year for year in COST_YEARS if year in years]
    if years and max(years) not in chosen:
        chosen.append(max(years))
    return chosen


def lever_targets(scenario: Scenario) -> dict[str, list[str]]:
    """Node ids each lever of ``scenario`` targets (its node mask over the layout)."""
    layout = default_layout()
    return {
        name: [node for node, hit in zip(layout.ids, schedule.nodes, strict=True) if hit]
        for name, schedule in scenario.lever_schedules(layout).items()
    }


def cost_effectiveness_table(
    comparison: Comparison, indicators: pd.DataFrame, spending: pd.DataFrame
) -> pd.DataFrame:
    """For each scenario but the first, each lever it spends on and each of ``cost_years``:
    cumulative spending to that year (mean over replicates; the reference's spending on the
    same lever beside it), the effect on the talents of the lever's target nodes in that year
    (sum of ``talents.<node>`` over its node mask, paired, mean and 90% interval), and CNY per
    additional talent = additional cumulative spending / mean effect, blank with a ``note``
    when the effect's interval includes 0 or lies below it.

    A scenario that moves several levers credits each lever with the scenario's joint effect
    on that lever's targets; a one-lever variant isolates a lever.
    """
    labels = comparison.labels
    years = sorted(int(year) for year in indicators["year"].unique())
    reference = labels[0]
    rows = []
    for entry in comparison.scenarios[1:]:
        targets = lever_targets(entry.scenario)
        mine = spending[spending["scenario"] == entry.label]
        for lever in dict.fromkeys(mine["lever"]):
            nodes = targets.get(lever, [])
            effect = target_effect(indicators, reference, entry.label, nodes)
            own = mine[mine["lever"] == lever].set_index("year")["cny_mean"]
            base_rows = spending[(spending["scenario"] == reference) & (spending["lever"] == lever)]
            base = base_rows.set_index("year")["cny_mean"]
            for year in cost_years(years):
                cumulative = float(own[own.index <= year].sum())
                base_cumulative = float(base[base.index <= year].sum())
                gained = effect[effect["year"] == year]["effect"]
                mean = float(gained.mean()) if len(gained) else float("nan")
                low, high = interval(gained) if len(gained) else (float("nan"), float("nan"))
                extra = cumulative - base_cumulative
                per_talent, note = float("nan"), ""
                if not nodes:
                    note = "the lever names no target nodes"
                elif not np.isfinite(low):
                    note = "no effect could be measured"
                elif high <= 0:
                    note = "no additional talents: the 90% interval of the effect is at or below 0"
                elif low <= 0:
                    note = "the 90% interval of the effect includes 0"
                elif extra <= 0:
                    note = f"no additional spending: {reference} spends as much on this lever"
                else:
                    per_talent = extra / mean
                rows.append(
                    {
                        "scenario": entry.label,
                        "lever": lever,
                        "year": year,
                        "target_nodes": ";".join(nodes),
                        "cumulative_cny_mean": cumulative,
                        "base_cumulative_cny_mean": base_cumulative,
                        "additional_talents_mean": mean,
                        f"additional_talents_{P05}": low,
                        f"additional_talents_{P95}": high,
                        "cny_per_additional_talent": per_talent,
                        "note": note,
                    }
                )
    columns = [
        "scenario",
        "lever",
        "year",
        "target_nodes",
        "cumulative_cny_mean",
        "base_cumulative_cny_mean",
        "additional_talents_mean",
        f"additional_talents_{P05}",
        f"additional_talents_{P95}",
        "cny_per_additional_talent",
        "note",
    ]
    return pd.DataFrame(rows, columns=columns)


def target_effect(indicators: pd.DataFrame, reference: str, label: str, nodes: Sequence[str]) -> pd.DataFrame:
    """replicate, year, effect: the paired effect on the summed talents of ``nodes``."""
    names = [f"talents.{node}" for node in nodes]
    paired = _paired(indicators[indicators["indicator"].isin(names)], reference, label)
    return paired.groupby(["replicate", "year"], as_index=False)["effect"].sum()


def milestone_indicators(names: Sequence[str]) -> list[str]:
    """``TARGETS`` with ``*`` expanded to what ``names`` has, in that order."""
    chosen = []
    for pattern in TARGETS:
        if pattern.endswith(".*"):
            prefix = pattern[:-1]
            found = [name for name in names if name.startswith(prefix)]
            rank = {pole: i for i, pole in enumerate(PROVINCES)}
            chosen += sorted(found, key=lambda name: (rank.get(name[len(prefix) :], 99), name))
        elif pattern in names:
            chosen.append(pattern)
    return chosen


def stands_for(indicator: str) -> str:
    """The qualitative target an indicator of ``milestones.csv`` stands for."""
    if indicator == "high_end.pole.beijing":
        return (
            "2025: international competitiveness clearly higher; "
            "2030: a world high-end talent cluster basically built"
        )
    if indicator in TARGETS:
        return TARGETS[indicator]
    for pattern, meaning in TARGETS.items():
        if pattern.endswith(".*") and indicator.startswith(pattern[:-1]):
            return meaning
    return ""


def milestone_table(indicators: pd.DataFrame, labels: Sequence[str]) -> pd.DataFrame:
    """Per scenario, the measurable targets at 2020, 2025 and 2030 (those run): mean and 90%
    interval over replicates, and the qualitative target each stands for."""
    names = milestone_indicators(list(dict.fromkeys(indicators["indicator"])))
    chosen = indicators[indicators["indicator"].isin(names) & indicators["year"].isin(MILESTONE_YEARS)]
    groups = chosen.groupby(["scenario", "indicator", "year"])["value"]
    low, high = grouped_interval(groups)
    table = pd.DataFrame({"mean": groups.mean(), P05: low, P95: high}).reset_index()
    table = _ordered(table, labels, names)
    table["stands_for"] = table["indicator"].map(stands_for)
    return table[["scenario", "indicator", "year", "mean", P05, P95, "stands_for"]]


def summarise(comparison: Comparison, outputs: Sequence[ReplicateRun]) -> ComparisonTables:
    """Every table of the comparison from its runs."""
    labels = comparison.labels
    indicators = run_indicators(outputs)
    years = sorted(int(year) for year in indicators["year"].unique())
    spending = spending_table(run_spending(outputs), labels, comparison.replicates, years)
    return ComparisonTables(
        indicators=indicators,
        effects=effects_table(indicators, labels),
        spending=spending,
        cost_effectiveness=cost_effectiveness_table(comparison, indicators, spending),
        milestones=milestone_table(indicators, labels),
    )


# --- writing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ComparisonResult:
    """A finished comparison: where it was written, its tables and its manifest."""

    out_dir: Path
    comparison: Comparison
    tables: ComparisonTables
    manifest: dict[str, Any]


def make_manifest(
    comparison: Comparison, outputs: Sequence[ReplicateRun], wall_seconds: float
) -> dict[str, Any]:
    reference = comparison.reference.scenario
    return {
        "scenarios": [
            {
                "label": e.label,
                "name": e.scenario.name,
                "file": str(e.file),
                "sha256": e.scenario.sha256(),
                "description": e.scenario.description,
            }
            for e in comparison.scenarios
        ],
        "reference": comparison.reference.label,
        "root_seed": comparison.root_seed,
        "seeds": list(comparison.seeds),
        "replicates": comparison.replicates,
        "ensemble": comparison.ensemble_record,
        "interval": comparison.interval_kind,
        "runs": comparison.runs,
        "scale": reference.scale,
        "start_year": reference.start_year,
        "end_year": reference.end_year,
        "workers": comparison.workers,
        "scheduler": comparison.scheduler,
        "versions": package_versions(),
        "git_commit": git_commit(),
        "model_fingerprint": model_fingerprint(),
        "run_seconds": round(sum(output.wall_seconds for output in outputs), 3),
        "wall_seconds": round(wall_seconds, 3),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join(sys.argv),
    }


def write_comparison(folder: Path, tables: ComparisonTables, manifest: dict[str, Any]) -> None:
    """Write the comparison's files into ``folder``.

    - ``indicators.parquet``: scenario, replicate, seed, year, indicator, value (every run);
    - ``effects.csv``: scenario, indicator, year, base_mean, scenario_mean, effect_mean,
      effect_p05, effect_p95 (paired effects against the first scenario);
    - ``spending.csv``: scenario, lever, year, cny_mean;
    - ``cost_effectiveness.csv``: see ``cost_effectiveness_table``;
    - ``milestones.csv``: scenario, indicator, year, mean, p05, p95, stands_for;
    - ``manifest.json``.
    """
    files.write_parquet(folder / "indicators.parquet", tables.indicators)
    files.write_csv(folder / "effects.csv", tables.effects)
    files.write_csv(folder / "spending.csv", tables.spending)
    files.write_csv(folder / "cost_effectiveness.csv", tables.cost_effectiveness)
    files.write_csv(folder / "milestones.csv", tables.milestones)
    files.write_json(folder / "manifest.json", manifest)


def compare(
    scenario_files: Sequence[str | Path],
    replicates: int,
    *,
    out_dir: Path | None = None,
    root_seed: int | None = None,
    scale: int | None = None,
    end_year: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    ensemble: Path | None = None,
    add_files: Callable[[Path, ComparisonResult], None] | None = None,
) -> ComparisonResult:
    """Plan, run, summarise and write a comparison (see the module docstring); ``out_dir``
    defaults to ``default_out_dir``; ``add_files(stage, result)`` writes anything else (the
    report) into the same folder before it is swapped into place. Bad input raises
    ``ScenarioError`` before anything runs or is written; a failed run raises ``RunError`` and
    leaves ``out_dir`` as it was."""
    started = time.perf_counter()
    comparison = plan_comparison(
        scenario_files,
        replicates,
        root_seed=root_seed,
        scale=scale,
        end_year=end_year,
        workers=workers,
        scheduler=scheduler,
        ensemble=ensemble,
        ensemble_key=True,
    )
    out_dir = checked_out_dir(comparison, out_dir)
    outputs = run_comparison(comparison)
    return write_result(out_dir, comparison, outputs, started, add_files)


def checked_out_dir(comparison: Comparison, out_dir: Path | None) -> Path:
    """``out_dir``, or ``default_out_dir`` when None; refused (``ScenarioError``) if it is a file."""
    out_dir = Path(out_dir) if out_dir is not None else default_out_dir(comparison)
    if out_dir.exists() and not out_dir.is_dir():
        raise ScenarioError(f"command line: --out: {out_dir} is a file; give a folder")
    return out_dir


def write_result(
    out_dir: Path,
    comparison: Comparison,
    outputs: Sequence[ReplicateRun],
    started: float,
    add_files: Callable[[Path, ComparisonResult], None] | None = None,
    *,
    more_manifest: Mapping[str, Any] | None = None,
) -> ComparisonResult:
    """Summarise finished runs and write the comparison into ``out_dir`` in one atomic step;
    ``more_manifest`` adds keys to the manifest (what an analysis built on the comparison did),
    ``add_files(stage, result)`` adds files before the folder is swapped into place."""
    tables = summarise(comparison, outputs)
    with staging_dir(out_dir) as stage:
        manifest = make_manifest(comparison, outputs, time.perf_counter() - started)
        manifest.update(more_manifest or {})
        write_comparison(stage, tables, manifest)
        result = ComparisonResult(out_dir, comparison, tables, manifest)
        if add_files is not None:
            add_files(stage, result)
    return result
