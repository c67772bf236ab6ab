"""Scenario comparison: several scenarios, the same replicate seeds, paired effects.

    jjj-talent compare A.yaml B.yaml [C.yaml ...] --replicates N [--seed ROOT] [--scale N]
                       [--end YEAR] [--workers W] [--out DIR] [--no-report]

The first scenario is the reference. Every scenario runs on the same ``N`` replicate seeds,
drawn from ``np.random.SeedSequence(ROOT).spawn(N)`` (``ROOT`` defaults to the first
scenario's seed): replicate ``r`` of every scenario uses the same seed (common random
numbers), so the effect of a scenario is measured replicate by replicate, as its value minus
the reference's value on the same seed, and the chance differences between seeds cancel.
An effect's interval is the 5th to 95th percentile of the paired differences over replicates.

Runs go to a process pool when ``W > 1``; each task gets the scenario as plain data and a seed
and sends back only its indicator and spending tables, and each worker does one run and is
replaced (Mesa 3.3.1 never frees a finished model). Workers are forked from a server process
that has already imported the model, so a new one starts in milliseconds rather than the
seconds a fresh interpreter takes. ``W = 1`` runs in this process. Results do not depend on
``W``.

Everything is written into a staging folder beside ``--out`` and swapped into place at the
end, so bad input or a failed run leaves an existing folder as it was. See ``write_comparison``
for the files.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments import io
from experiments.run import git_commit, package_versions, simulate, staging_dir
from model.errors import JJJError, RunError, ScenarioError
from model.layout import PROVINCES, default_layout
from model.levers import LEVERS
from model.scenario import Scenario, load_scenario, validate

DEFAULT_OUTPUTS = Path("outputs")
TASKS_PER_WORKER = 1
"""Runs a pool worker does before it is replaced (Mesa 3.3.1 leaks finished models). Keep it
at 1: on Python 3.11 a larger value can hang the pool once a worker retires with runs still
queued (CPython gh-115634, fixed only from 3.13)."""
WORKER_PRELOAD = ["experiments.compare"]
"""Modules the fork server imports once, so that workers start without importing them."""

MILESTONE_YEARS = (2020, 2025, 2030)
COST_YEARS = (2025, 2030)
INTERVAL = (0.05, 0.95)

MILESTONE_INDICATORS: dict[str, str] = {
    "hebei_share": "2025: talent structure fits the functional roles of the region and the three",
    "bj_hb_density_gap": "2025: talent structure fits the functional roles of the region and the three",
    "foreign_share": "2025: international competitiveness clearly higher",
    "high_end.pole.*": "2025: international competitiveness clearly higher",
    "xiongan_talents": "四(五): talents gather in Xiong'an",
    "services_gap": "2025: basic public services clearly more equal (2030: balanced)",
    "unemployment_rate": "2030: one unified talent market",
    "talents.jjj": "一体: the region's talents as one body",
}
"""The plan's measurable targets (二(三)) reported by ``milestones.csv``: indicator -> the
qualitative target it stands for (``*`` expands to every pole the runs report)."""

Progress = Callable[[int, int, "RunOutput"], None]


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
    workers: int

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


def replicate_seeds(root: int, replicates: int) -> list[int]:
    """``replicates`` integer seeds from ``np.random.SeedSequence(root).spawn(replicates)``,
    each below 2**63 (the range a scenario's seed may take)."""
    return [int(child.generate_state(1, np.uint64)[0] >> 1)
            for child in np.random.SeedSequence(root).spawn(replicates)]


def plan_comparison(files: Sequence[str | Path], replicates: int, *, root_seed: int | None = None,
                    scale: int | None = None, end_year: int | None = None,
                    workers: int | None = None) -> Comparison:
    """Load and check everything a comparison needs; raises ``ScenarioError`` (and writes
    nothing) on bad input. ``scale`` and ``end_year`` override every scenario; ``workers``
    defaults to the number of CPUs, at most one per run."""
    if len(files) < 2:
        raise ScenarioError(f"command line: compare needs at least two scenario files, got "
                            f"{len(files)}; the first is the reference the others are compared with")
    if isinstance(replicates, bool) or not isinstance(replicates, int) or replicates < 1:
        raise ScenarioError(f"command line: --replicates: value {replicates!r}: must be a whole "
                            "number >= 1")
    if root_seed is not None and (isinstance(root_seed, bool) or not isinstance(root_seed, int)
                                  or root_seed < 0):
        raise ScenarioError(f"command line: --seed: value {root_seed!r}: must be a whole number >= 0")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 1):
        raise ScenarioError(f"command line: --workers: value {workers!r}: must be a whole number >= 1")
    overrides = {key: value for key, value in (("scale", scale), ("end_year", end_year))
                 if value is not None}
    scenarios: list[ComparedScenario] = []
    for file in files:
        scenario = load_scenario(file)
        if overrides:
            scenario = scenario.with_overrides(overrides, source="command line")
        scenarios.append(ComparedScenario(_unique_label(scenario.name, scenarios), scenario,
                                          Path(file)))
    reference = scenarios[0].scenario
    for entry in scenarios[1:]:
        for key, option in (("start_year", "(set it in the files)"), ("end_year", "--end"),
                            ("scale", "--scale")):
            if getattr(entry.scenario, key) != getattr(reference, key):
                raise ScenarioError(
                    f"{entry.file}: {key}: value {getattr(entry.scenario, key)}: differs from "
                    f"{getattr(reference, key)} in {scenarios[0].file}; scenarios are compared "
                    f"year by year on the same seeds, so they must agree; use {option}")
    root = reference.seed if root_seed is None else root_seed
    seeds = tuple(replicate_seeds(root, replicates))
    runs = len(scenarios) * replicates
    chosen = workers if workers is not None else max(1, min(os.cpu_count() or 1, runs))
    return Comparison(tuple(scenarios), root, seeds, chosen)


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
class RunTask:
    """One run as a worker receives it: plain data and a seed, nothing that holds a model."""

    label: str
    replicate: int
    seed: int
    scenario_data: dict[str, Any]


@dataclass(frozen=True)
class RunOutput:
    """What a run sends back: its indicators (year, indicator, value) and lever spending
    (year, lever, node, cny), or the error that stopped it (type name, message)."""

    label: str
    replicate: int
    seed: int
    indicators: pd.DataFrame | None
    spending: pd.DataFrame | None
    wall_seconds: float
    error: tuple[str, str] | None = None


def run_task(task: RunTask) -> RunOutput:
    """Simulate one replicate (in this process or a pool worker). Errors come back as data:
    ``RunError`` cannot be pickled back from a worker with its scenario and seed."""
    scenario = validate(task.scenario_data, {}, source=f"scenario {task.label}")
    try:
        tables, model, wall = simulate(scenario, task.seed)
    except JJJError as err:
        return RunOutput(task.label, task.replicate, task.seed, None, None, 0.0,
                         (type(err).__name__, str(err)))
    del model  # Mesa keeps finished models alive; at least drop ours
    return RunOutput(task.label, task.replicate, task.seed, tables["indicators"], tables["spending"],
                     wall)


def run_comparison(comparison: Comparison, progress: Progress | None = None,
                   tasks_per_worker: int = TASKS_PER_WORKER) -> list[RunOutput]:
    """Every scenario on every replicate seed, in scenario then replicate order whatever the
    order the runs finish in; ``progress(done, total, output)`` after each run."""
    tasks = [RunTask(entry.label, replicate, seed, entry.scenario.as_data())
             for entry in comparison.scenarios
             for replicate, seed in enumerate(comparison.seeds)]
    outputs: dict[tuple[str, int], RunOutput] = {}

    def finished(task: RunTask, result: Callable[[], RunOutput]) -> None:
        try:
            output = result()
        except JJJError:
            raise
        except Exception as err:  # a bug or a crashed worker: say which run, keep the cause
            name = comparison.scenarios[comparison.labels.index(task.label)].scenario.name
            raise RunError(f"{task.label}, replicate {task.replicate}: {err!r}", name,
                           task.seed) from err
        if output.error is not None:
            raise _run_error(output, comparison)
        outputs[(output.label, output.replicate)] = output
        if progress:
            progress(len(outputs), len(tasks), output)

    if comparison.workers == 1:
        for task in tasks:
            finished(task, lambda: run_task(task))
    else:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(WORKER_PRELOAD)  # takes effect if the server is new
        pool = ProcessPoolExecutor(max_workers=min(comparison.workers, len(tasks)),
                                   mp_context=context, max_tasks_per_child=tasks_per_worker)
        try:
            futures = {pool.submit(run_task, task): task for task in tasks}
            for future in as_completed(futures):
                finished(futures[future], future.result)
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
    return [outputs[(task.label, task.replicate)] for task in tasks]


def _run_error(output: RunOutput, comparison: Comparison) -> JJJError:
    kind, message = output.error or ("", "")
    if kind == "ScenarioError":
        return ScenarioError(message)
    name = next(e.scenario.name for e in comparison.scenarios if e.label == output.label)
    message = message.removesuffix(f" (scenario {name!r}, seed {output.seed})")
    return RunError(f"{output.label}, replicate {output.replicate}: {message}", name, output.seed)


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


def run_indicators(outputs: Sequence[RunOutput]) -> pd.DataFrame:
    """scenario, replicate, seed, year, indicator, value of every run."""
    frames = [output.indicators.assign(scenario=output.label, replicate=output.replicate,
                                       seed=output.seed)
              for output in outputs if output.indicators is not None]
    table = pd.concat(frames, ignore_index=True)
    table["year"] = table["year"].astype(int)
    table["value"] = table["value"].astype(float)
    return table[["scenario", "replicate", "seed", "year", "indicator", "value"]]


def run_spending(outputs: Sequence[RunOutput]) -> pd.DataFrame:
    """scenario, replicate, seed, year, lever, node, cny of every run."""
    columns = ["scenario", "replicate", "seed", "year", "lever", "node", "cny"]
    frames = [output.spending.assign(scenario=output.label, replicate=output.replicate,
                                     seed=output.seed)
              for output in outputs if output.spending is not None and len(output.spending)]
    if not frames:
        return pd.DataFrame({column: pd.Series(dtype=float if column == "cny" else object)
                             for column in columns})
    table = pd.concat(frames, ignore_index=True)
    table["year"] = table["year"].astype(int)
    table["cny"] = table["cny"].astype(float)
    return table[columns]


def _interval(values: pd.core.groupby.SeriesGroupBy) -> tuple[pd.Series, pd.Series]:
    return values.quantile(INTERVAL[0]), values.quantile(INTERVAL[1])


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
        low, high = _interval(groups["effect"])
        frame = pd.DataFrame({"base_mean": groups["base"].mean(),
                              "scenario_mean": groups["scenario"].mean(),
                              "effect_mean": groups["effect"].mean(),
                              "effect_p05": low, "effect_p95": high}).reset_index()
        frames.append(frame.assign(scenario=label))
    columns = ["scenario", "indicator", "year", "base_mean", "scenario_mean", "effect_mean",
               "effect_p05", "effect_p95"]
    if not frames:
        return pd.DataFrame(columns=columns)
    table = pd.concat(frames, ignore_index=True)
    return _ordered(table, labels, order)[columns]


def _ordered(table: pd.DataFrame, labels: Sequence[str], indicators: Sequence[str]) -> pd.DataFrame:
    """Rows in scenario order, then the runs' indicator order, then year."""
    rank_scenario = {label: i for i, label in enumerate(labels)}
    rank_indicator = {name: i for i, name in enumerate(indicators)}
    keys = pd.DataFrame({"s": table["scenario"].map(rank_scenario),
                         "i": table["indicator"].map(rank_indicator), "y": table["year"]})
    order = keys.sort_values(["s", "i", "y"], kind="stable").index
    return table.loc[order].reset_index(drop=True)


def spending_table(spending: pd.DataFrame, labels: Sequence[str], replicates: int,
                   years: Sequence[int]) -> pd.DataFrame:
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
        {"year": int, "cny_mean": float})


def cost_years(years: Sequence[int]) -> list[int]:
    """The years cost-effectiveness is given for: 2025 and 2030 if run, and the last year."""
    chosen = [year for year in COST_YEARS if year in years]
    if years and max(years) not in chosen:
        chosen.append(max(years))
    return chosen


def lever_targets(scenario: Scenario) -> dict[str, list[str]]:
    """Node ids each lever of ``scenario`` targets (its node mask over the layout)."""
    layout = default_layout()
    return {name: [node for node, hit in zip(layout.ids, schedule.nodes, strict=True) if hit]
            for name, schedule in scenario.lever_schedules(layout).items()}


def cost_effectiveness_table(comparison: Comparison, indicators: pd.DataFrame,
                             spending: pd.DataFrame) -> pd.DataFrame:
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
                low = float(gained.quantile(INTERVAL[0])) if len(gained) else float("nan")
                high = float(gained.quantile(INTERVAL[1])) if len(gained) else float("nan")
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
                rows.append({"scenario": entry.label, "lever": lever, "year": year,
                             "target_nodes": ";".join(nodes),
                             "cumulative_cny_mean": cumulative,
                             "base_cumulative_cny_mean": base_cumulative,
                             "additional_talents_mean": mean, "additional_talents_p05": low,
                             "additional_talents_p95": high,
                             "cny_per_additional_talent": per_talent, "note": note})
    columns = ["scenario", "lever", "year", "target_nodes", "cumulative_cny_mean",
               "base_cumulative_cny_mean", "additional_talents_mean", "additional_talents_p05",
               "additional_talents_p95", "cny_per_additional_talent", "note"]
    return pd.DataFrame(rows, columns=columns)


def target_effect(indicators: pd.DataFrame, reference: str, label: str,
                   nodes: Sequence[str]) -> pd.DataFrame:
    """replicate, year, effect: the paired effect on the summed talents of ``nodes``."""
    names = [f"talents.{node}" for node in nodes]
    paired = _paired(indicators[indicators["indicator"].isin(names)], reference, label)
    return paired.groupby(["replicate", "year"], as_index=False)["effect"].sum()


def milestone_indicators(names: Sequence[str]) -> list[str]:
    """``MILESTONE_INDICATORS`` with ``*`` expanded to what ``names`` has, in that order."""
    chosen = []
    for pattern in MILESTONE_INDICATORS:
        if pattern.endswith(".*"):
            prefix = pattern[:-1]
            found = [name for name in names if name.startswith(prefix)]
            rank = {pole: i for i, pole in enumerate(PROVINCES)}
            chosen += sorted(found, key=lambda name: (rank.get(name[len(prefix):], 99), name))
        elif pattern in names:
            chosen.append(pattern)
    return chosen


def stands_for(indicator: str) -> str:
    """The qualitative target an indicator of ``milestones.csv`` stands for."""
    if indicator == "high_end.pole.beijing":
        return ("2025: international competitiveness clearly higher; "
                "2030: a world high-end talent cluster basically built")
    if indicator in MILESTONE_INDICATORS:
        return MILESTONE_INDICATORS[indicator]
    for pattern, meaning in MILESTONE_INDICATORS.items():
        if pattern.endswith(".*") and indicator.startswith(pattern[:-1]):
            return meaning
    return ""


def milestone_table(indicators: pd.DataFrame, labels: Sequence[str]) -> pd.DataFrame:
    """Per scenario, the measurable targets at 2020, 2025 and 2030 (those run): mean and 90%
    interval over replicates, and the qualitative target each stands for."""
    names = milestone_indicators(list(dict.fromkeys(indicators["indicator"])))
    chosen = indicators[indicators["indicator"].isin(names)
                        & indicators["year"].isin(MILESTONE_YEARS)]
    groups = chosen.groupby(["scenario", "indicator", "year"])["value"]
    low, high = _interval(groups)
    table = pd.DataFrame({"mean": groups.mean(), "p05": low, "p95": high}).reset_index()
    table = _ordered(table, labels, names)
    table["stands_for"] = table["indicator"].map(stands_for)
    return table[["scenario", "indicator", "year", "mean", "p05", "p95", "stands_for"]]


def summarise(comparison: Comparison, outputs: Sequence[RunOutput]) -> ComparisonTables:
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


def make_manifest(comparison: Comparison, outputs: Sequence[RunOutput],
                  wall_seconds: float) -> dict[str, Any]:
    reference = comparison.reference.scenario
    return {
        "scenarios": [{"label": e.label, "name": e.scenario.name, "file": str(e.file),
                       "sha256": e.scenario.sha256(), "description": e.scenario.description}
                      for e in comparison.scenarios],
        "reference": comparison.reference.label,
        "root_seed": comparison.root_seed,
        "seeds": list(comparison.seeds),
        "replicates": comparison.replicates,
        "runs": comparison.runs,
        "scale": reference.scale,
        "start_year": reference.start_year,
        "end_year": reference.end_year,
        "workers": comparison.workers,
        "versions": package_versions(),
        "git_commit": git_commit(),
        "run_seconds": round(sum(output.wall_seconds for output in outputs), 3),
        "wall_seconds": round(wall_seconds, 3),
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(sys.argv),
    }


def write_comparison(folder: Path, comparison: Comparison, tables: ComparisonTables,
                     manifest: dict[str, Any], report: bool = True) -> None:
    """The comparison's files in ``folder``:

    - ``indicators.parquet``: scenario, replicate, seed, year, indicator, value (every run);
    - ``effects.csv``: scenario, indicator, year, base_mean, scenario_mean, effect_mean,
      effect_p05, effect_p95 (paired effects against the first scenario);
    - ``spending.csv``: scenario, lever, year, cny_mean;
    - ``cost_effectiveness.csv``: see ``cost_effectiveness_table``;
    - ``milestones.csv``: scenario, indicator, year, mean, p05, p95, stands_for;
    - ``manifest.json``; with ``report``, ``charts/`` and ``report.html``.
    """
    io.write_parquet(folder / "indicators.parquet", tables.indicators)
    io.write_csv(folder / "effects.csv", tables.effects)
    io.write_csv(folder / "spending.csv", tables.spending)
    io.write_csv(folder / "cost_effectiveness.csv", tables.cost_effectiveness)
    io.write_csv(folder / "milestones.csv", tables.milestones)
    io.write_json(folder / "manifest.json", manifest)
    if report:
        from experiments.compare_report import write_compare_report  # matplotlib: only when asked

        write_compare_report(folder, comparison, tables, manifest)


def compare(files: Sequence[str | Path], replicates: int, *, out_dir: Path | None = None,
            root_seed: int | None = None, scale: int | None = None, end_year: int | None = None,
            workers: int | None = None, report: bool = True,
            progress: Progress | None = None) -> ComparisonResult:
    """Plan, run, summarise and write a comparison (see the module docstring); ``out_dir``
    defaults to ``default_out_dir``. Bad input raises ``ScenarioError`` before anything runs
    or is written; a failed run raises ``RunError`` and leaves ``out_dir`` as it was."""
    started = time.perf_counter()
    comparison = plan_comparison(files, replicates, root_seed=root_seed, scale=scale,
                                 end_year=end_year, workers=workers)
    out_dir = Path(out_dir) if out_dir is not None else default_out_dir(comparison)
    if out_dir.exists() and not out_dir.is_dir():
        raise ScenarioError(f"command line: --out: {out_dir} is a file; give a folder")
    outputs = run_comparison(comparison, progress)
    tables = summarise(comparison, outputs)
    with staging_dir(out_dir) as stage:
        manifest = make_manifest(comparison, outputs, time.perf_counter() - started)
        write_comparison(stage, comparison, tables, manifest, report=report)
    return ComparisonResult(out_dir, comparison, tables, manifest)


# --- command line -------------------------------------------------------------------------------

def add_compare_command(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``compare`` on the ``jjj-talent`` subcommands (``add_subparsers()``)."""
    parser = subparsers.add_parser(
        "compare", help="compare scenarios on the same replicate seeds",
        description="Run every scenario on the same replicate seeds and report each one's "
                    "effect against the first (common random numbers), with 90%% intervals.")
    parser.add_argument("scenarios", type=Path, nargs="+", metavar="SCENARIO.yaml",
                        help="scenario files; the first is the reference")
    parser.add_argument("--replicates", type=int, required=True,
                        help="replicate seeds per scenario (>= 1)")
    parser.add_argument("--seed", type=int, dest="root_seed",
                        help="root of the replicate seeds (default: the first scenario's seed)")
    parser.add_argument("--scale", type=int, help="persons per talent row, for every scenario")
    parser.add_argument("--end", type=int, dest="end_year", help="last year, for every scenario")
    parser.add_argument("--workers", type=int,
                        help="parallel processes (default: the CPUs, at most one per run); "
                             "results do not depend on it")
    parser.add_argument("--out", type=Path,
                        help="output folder (default: outputs/compare-<name1>-vs-<name2>...)")
    parser.add_argument("--no-report", action="store_true", help="tables only, no charts or report")
    parser.set_defaults(handler=_compare_command)
    return parser


def _compare_command(args: argparse.Namespace) -> int:
    result = compare(args.scenarios, args.replicates, out_dir=args.out, root_seed=args.root_seed,
                     scale=args.scale, end_year=args.end_year, workers=args.workers,
                     report=not args.no_report, progress=_show_progress)
    comparison = result.comparison
    print(f"wrote {result.out_dir}/ ({comparison.runs} runs, "
          f"{result.manifest['wall_seconds']:.1f} s)")
    if not args.no_report:
        print(f"report: {result.out_dir / 'report.html'}")
    print(f"compare: scenarios={len(comparison.scenarios)} replicates={comparison.replicates} "
          f"runs={comparison.runs}")
    return 0


def _show_progress(done: int, total: int, output: RunOutput) -> None:
    print(f"run {done}/{total} {output.label} seed {output.seed} done "
          f"({output.wall_seconds:.1f} s)", file=sys.stderr, flush=True)
