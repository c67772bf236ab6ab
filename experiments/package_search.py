"""The ``optimise`` command's work: a config, packages as scenarios, their runs, the files.

A config (``experiments/optimise-example.yaml``) names a base scenario, the lever values that may
change (``decisions``: dotted scenario paths ``levers.NAME.values.YYYY-MM-DD`` with a range
inside the lever's declared bounds), one budget or several (cumulative spending
``SPENDING_FROM_YEAR`` to the last year, CNY), an objective (``OBJECTIVES``), replicates, trials,
batch size and seed. For each budget ``experiments.optimise.optimise`` searches the package; this
module turns each package into the base scenario with those values set, runs it on the search's
replicate seeds (common random numbers: every package, every budget, the same seeds) through the
project's runner, and reads back the objective in its year and the package's spending.

Spending is an outcome of the runs: what the model counts for each lever (``model/levers.py``,
``Lever.spending``: recipients times amounts), summed over nodes and years. A lever whose spending
the model does not count ("none counted", e.g. hukou openness) may be a decision only if the config
gives it a cost (``costs_cny``: CNY per unit of the lever's value a year); its spending is then
that cost times its yearly value (as ``LeverSchedule.in_year`` gives it) summed over the years.
Levers that no decision names keep the base scenario's values, and their spending counts towards
the budget as the model counts it.

Confirmation uses fresh seeds (``replicate_seeds(seed, replicates + confirm)``, the ones after the
search's), the same for every budget; the base scenario is run on them too, as the point the
frontier is read against. A package evaluated twice on the same seeds is run once (the first
trials of every budget are the same random draws).

Files (``write``): ``frontier.csv``, ``trials.csv``, one ``best-<budget>.yaml`` per budget (a
scenario that ``extends`` the base by a relative path and sets the decided levers), and
``manifest.json``; the command adds the chart and report in the same atomic step.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from experiments import files
from experiments.files import staging_dir
from experiments.optimise import BudgetResult, Decision, Outcome, optimise
from experiments.replicates import P05, P95, interval, replicate_seeds
from experiments.runner import Pool, Progress, RunTask, indicator_tables, open_pool, run_batch
from model.errors import ScenarioError
from model.indicators import XIONGAN_FOUNDED
from model.layout import default_layout
from model.levers import LEVERS, Lever
from model.loader import Mark, load_yaml, problems_message
from model.scenario import FORMAT_VERSION, Scenario, load_scenario

SPENDING_FROM_YEAR = 2017
"""First year whose lever spending counts towards a budget: the plan's first year (issued
2017-06-26); the budget is cumulative spending from it to the scenario's last year, CNY."""
MAX_DECISIONS = 8
"""Most lever values one search changes: TPE needs of the order of ten trials a dimension, and a
trial is ``replicates`` model runs."""
MAX_BUDGETS = 10
"""Most budgets one config searches (one search each)."""
CONFIG_KEYS = "name, base, objective, budget_cny, decisions, replicates, trials, batch, seed, ..."


@dataclass(frozen=True)
class Objective:
    """A headline indicator a search may maximise, read in one year (default: the last)."""

    indicator: str
    en: str
    zh: str
    unit: str


OBJECTIVES: Mapping[str, Objective] = {
    "hebei_talents": Objective("talents.province.hebei", "talents in Hebei", "河北人才数量", "persons"),
    "xiongan_talents": Objective("xiongan_talents", "talents in Xiong'an", "雄安新区人才数量", "persons"),
    "hebei_share": Objective(
        "hebei_share", "Hebei's share of the region's talents", "河北人才占京津冀比重", "share"
    ),
    "jjj_talents": Objective("talents.jjj", "the region's talents", "京津冀人才总量", "persons"),
}
"""The objectives a config may name (all maximised), with the indicator each reads
(``model/indicators.py``)."""


def counts_spending(lever: Lever) -> bool:
    """Whether the model counts the lever's spending (``Lever.spending`` does not say "none counted")."""
    return not lever.spending.startswith("none counted")


# --- the config ---------------------------------------------------------------------------------


class DecisionConfig(BaseModel):
    """One lever value the search may change, as the config writes it."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(description="levers.NAME.values.YYYY-MM-DD: the value from that date on")
    lower: float | None = Field(None, description="lowest value tried; default: the lever's lower bound")
    upper: float | None = Field(None, description="highest value tried; default: the lever's upper bound")
    step: float | None = Field(None, gt=0, description="grid of values tried, in the lever's unit")


class OptimiseConfig(BaseModel):
    """A validated optimise config (``load_config``); ``base`` is resolved against the config's folder."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", description="Short id; names the output folder.")
    description: str = ""
    base: Path = Field(description="Base scenario file, relative to the config.")
    objective: str = Field(description=f"One of {', '.join(OBJECTIVES)} (maximised).")
    year: int | None = Field(None, description="Year the objective is read in; default the last year.")
    budget_cny: list[float] = Field(
        min_length=1, max_length=MAX_BUDGETS, description="Budget(s): cumulative spending, CNY."
    )
    decisions: list[DecisionConfig] = Field(min_length=1, max_length=MAX_DECISIONS)
    costs_cny: dict[str, float] = Field(
        default_factory=dict,
        description="CNY per unit of value a year, for decided levers the model does not cost.",
    )
    replicates: int = Field(2, ge=1, le=100, description="Search seeds per package (common to all).")
    confirm_replicates: int | None = Field(
        None, ge=1, le=100, description="Fresh seeds the best package is confirmed on; default replicates."
    )
    trials: int = Field(ge=2, le=2000, description="Packages evaluated per budget.")
    batch: int = Field(4, ge=1, le=256, description="Packages proposed and run together.")
    seed: int = Field(0, ge=0, lt=2**63, description="Root of the sampler's and the replicates' seeds.")
    scale: int | None = Field(None, ge=1, le=1_000_000, description="Overrides the base's scale.")
    end_year: int | None = Field(None, description="Overrides the base's last year.")

    @field_validator("budget_cny", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, (int, float)) and not isinstance(value, bool) else value

    @field_validator("budget_cny")
    @classmethod
    def _positive(cls, budgets: list[float]) -> list[float]:
        bad = [b for b in budgets if not (math.isfinite(b) and b > 0)]
        if bad:
            raise ValueError(f"budget {bad[0]!r}; allowed: positive numbers of CNY")
        if len(set(budgets)) != len(budgets):
            raise ValueError("a budget appears twice; allowed: each budget once")
        return sorted(budgets)

    @field_validator("costs_cny")
    @classmethod
    def _costs_positive(cls, costs: dict[str, float]) -> dict[str, float]:
        bad = {k: v for k, v in costs.items() if not (math.isfinite(v) and v >= 0)}
        if bad:
            name, value = next(iter(bad.items()))
            raise ValueError(f"{name}: {value!r}; allowed: a cost >= 0 CNY per unit a year")
        return costs


@dataclass(frozen=True)
class Problem:
    """A config made ready to run: the base (with the config's scale and last year), the decisions
    as the search sees them, and the seeds.

    Attributes:
        config: the validated config.
        source: the config file.
        base: the base scenario, resolved.
        decisions: the search's decisions, in config order.
        year: the year the objective is read in.
        search_seeds, confirm_seeds: the replicate seeds of the search and of the confirmation.
    """

    config: OptimiseConfig
    source: Path
    base: Scenario
    decisions: tuple[Decision, ...]
    year: int
    search_seeds: tuple[int, ...]
    confirm_seeds: tuple[int, ...]

    @property
    def objective(self) -> Objective:
        return OBJECTIVES[self.config.objective]

    def base_package(self) -> dict[str, float]:
        """The base scenario's values of the decisions (a lever's default where the base does not
        set it): the package the search starts from."""
        return {d.path: _base_value(self.base, d.path) for d in self.decisions}

    def format_objective(self, value: float) -> str:
        if not math.isfinite(value):
            return "–"
        return f"{value:.2%}" if self.objective.unit == "share" else f"{value:,.0f}"

    def format_gain(self, value: float) -> str:
        if not math.isfinite(value):
            return "–"
        return f"{value * 100:+.2f} pp" if self.objective.unit == "share" else f"{value:+,.0f}"

    @property
    def levers(self) -> list[str]:
        """The decided levers, in config order, each once."""
        return list(dict.fromkeys(lever_of(d.path) for d in self.decisions))

    def package_scenario(self, package: Mapping[str, float]) -> Scenario:
        """The base with the package's values set (a lever the base does not set gets its
        declared default targets)."""
        return self.base.with_overrides(dict(package), source=f"{self.source}: package")


def lever_of(path: str) -> str:
    return path.split(".")[1]


def load_config(path: str | Path) -> Problem:
    """Read and check an optimise config and its base scenario; nothing runs, nothing is written.

    Raises:
        ScenarioError: naming the file, line, key path, value and what is allowed, for bad YAML,
            unknown keys, values of the wrong type, an unknown objective, a decision path that
            does not name a lever's dated value, a range outside the lever's declared bounds, a
            decision on a lever whose spending the model does not count without a cost, and a
            base scenario that does not load.
    """
    path = Path(path)
    data, marks = load_yaml(path, kind="optimise config", keys=CONFIG_KEYS)
    try:
        config = OptimiseConfig.model_validate(data)
    except ValidationError as err:
        lines = [_problem(error, marks, path) for error in err.errors(include_url=False)]
        raise ScenarioError(problems_message(str(path), "optimise config", lines)) from None
    where = _Where(path, marks)
    problems: list[str] = []
    if config.objective not in OBJECTIVES:
        problems.append(
            f"  {where('objective')}: objective: value {config.objective!r}: unknown objective; "
            f"allowed: {', '.join(OBJECTIVES)}"
        )
    base_file = Path(os.path.normpath(path.parent / config.base))
    if not base_file.is_file():
        raise ScenarioError(
            f"{where('base')}: base: value {str(config.base)!r}: no file {base_file}; allowed: a "
            "scenario file, relative to the config's folder"
        )
    base = load_scenario(base_file)
    overrides = {k: getattr(config, k) for k in ("scale", "end_year") if getattr(config, k) is not None}
    if overrides:
        base = base.with_overrides(overrides, source=str(path))
    year = config.year if config.year is not None else base.end_year
    if not base.start_year < year <= base.end_year:
        problems.append(
            f"  {where('year')}: year: value {year}: allowed: {base.start_year + 1} to {base.end_year} "
            "(the years the base scenario simulates)"
        )
    elif config.objective == "xiongan_talents" and year < XIONGAN_FOUNDED:
        problems.append(
            f"  {where('year')}: year: value {year}: Xiong'an's talents are counted from its founding; "
            f"allowed: {XIONGAN_FOUNDED} to {base.end_year}"
        )
    decisions = _decisions(config, base, where, problems)
    problems += _cost_problems(config, where)
    if problems:
        raise ScenarioError(problems_message(str(path), "optimise config", problems))
    confirm = config.confirm_replicates or config.replicates
    seeds = replicate_seeds(config.seed, config.replicates + confirm)
    return Problem(
        config,
        path,
        base,
        tuple(decisions),
        year,
        tuple(seeds[: config.replicates]),
        tuple(seeds[config.replicates :]),
    )


@dataclass(frozen=True)
class _Where:
    path: Path
    marks: Mapping[tuple[str, ...], Mark]

    def __call__(self, *keys: str) -> str:
        for depth in range(len(keys), 0, -1):
            if keys[:depth] in self.marks:
                return f"{self.path}:{self.marks[keys[:depth]][1]}"
        return str(self.path)


def _problem(error: Any, marks: Mapping[tuple[str, ...], Mark], path: Path) -> str:
    loc = tuple(str(part) for part in error["loc"])
    key = ".".join(loc) or "(top level)"
    value = f"value {error['input']!r}: " if error.get("type") != "missing" else ""
    message = str(error["msg"]).removeprefix("Value error, ")
    if error.get("type") == "string_pattern_mismatch" and loc == ("name",):
        message = "allowed: lower-case letters, digits, - and _, starting with a letter or digit"
    elif error.get("type") == "extra_forbidden":
        model = DecisionConfig if len(loc) == 3 and loc[0] == "decisions" else OptimiseConfig
        message = f"unknown key; allowed: {', '.join(model.model_fields)}"
    elif error.get("type") == "missing":
        message = f"missing; {_FIELD_HELP.get(loc[-1], 'required')}"
    return f"  {_Where(path, marks)(*loc)}: {key}: {value}{message}"


_FIELD_HELP = {
    "name": "required: a short id (lower-case letters, digits, - and _)",
    "base": "required: the base scenario file, relative to the config",
    "objective": f"required: one of {', '.join(OBJECTIVES)}",
    "budget_cny": "required: a budget in CNY, or a list of them",
    "decisions": "required: a list of {path: levers.NAME.values.YYYY-MM-DD, lower, upper}",
    "trials": "required: packages evaluated per budget (>= 2)",
    "path": "required: levers.NAME.values.YYYY-MM-DD",
}

_PATH = re.compile(r"levers\.([a-z_]+)\.values\.(\d{4}-\d{2}-\d{2})")


def _decisions(config: OptimiseConfig, base: Scenario, where: _Where, problems: list[str]) -> list[Decision]:
    decisions: list[Decision] = []
    seen: set[str] = set()
    for k, item in enumerate(config.decisions):
        at = where("decisions", str(k))
        key = f"decisions.{k}"
        found = _PATH.fullmatch(item.path)
        if found is None:
            problems.append(
                f"  {where('decisions', str(k), 'path')}: {key}.path: value {item.path!r}: allowed: "
                "levers.NAME.values.YYYY-MM-DD (a lever's value from that date on)"
            )
            continue
        name, date_text = found.groups()
        lever = LEVERS.get(name)
        if lever is None:
            problems.append(
                f"  {at}: {key}.path: value {item.path!r}: unknown lever {name!r}; allowed: {', '.join(LEVERS)}"
            )
            continue
        try:
            date = dt.date.fromisoformat(date_text)
        except ValueError:
            problems.append(f"  {at}: {key}.path: value {item.path!r}: {date_text} is not a date")
            continue
        if not base.start_year <= date.year <= base.end_year:
            problems.append(
                f"  {at}: {key}.path: value {item.path!r}: date {date_text}: allowed: a date from "
                f"{base.start_year} to {base.end_year} (the years the base scenario simulates)"
            )
        if item.path in seen:
            problems.append(
                f"  {at}: {key}.path: value {item.path!r}: decided twice; allowed: each path once"
            )
        seen.add(item.path)
        lower = lever.lower if item.lower is None else item.lower
        upper = lever.upper if item.upper is None else item.upper
        if not lever.lower <= lower < upper <= lever.upper:
            problems.append(
                f"  {at}: {key}: lower {lower:g}, upper {upper:g}: allowed: lower < upper within the "
                f"lever's declared bounds {lever.lower:g} to {lever.upper:g} ({lever.unit})"
            )
        elif item.step is not None and not _is_whole((upper - lower) / item.step):
            problems.append(
                f"  {at}: {key}.step: value {item.step:g}: allowed: a step that divides upper - lower "
                f"({upper - lower:g} {lever.unit})"
            )
        if not counts_spending(lever) and name not in config.costs_cny:
            problems.append(
                f"  {at}: {key}.path: lever {name}: the model counts no spending for it "
                f"({lever.spending}); allowed: give it a cost under costs_cny ({name}: CNY per unit "
                "of value a year), or leave it out (it keeps the base scenario's values)"
            )
        decisions.append(Decision(item.path, lower, upper, item.step))
    return decisions


def _is_whole(value: float) -> bool:
    return abs(value - round(value)) < 1e-9 * max(1.0, abs(value))


def _cost_problems(config: OptimiseConfig, where: _Where) -> list[str]:
    decided = {lever_of(d.path) for d in config.decisions if _PATH.fullmatch(d.path)}
    problems = []
    for name in config.costs_cny:
        at = where("costs_cny", name)
        lever = LEVERS.get(name)
        if lever is None:
            problems.append(f"  {at}: costs_cny.{name}: unknown lever; allowed: {', '.join(LEVERS)}")
        elif counts_spending(lever):
            problems.append(
                f"  {at}: costs_cny.{name}: the model counts this lever's spending itself "
                f"({lever.spending}); allowed: costs only for levers whose spending is not counted"
            )
        elif name not in decided:
            problems.append(
                f"  {at}: costs_cny.{name}: no decision changes this lever; allowed: costs for "
                "decided levers only (others keep the base's values and spend nothing)"
            )
    return problems


# --- evaluating packages ------------------------------------------------------------------------


def costed_spending_cny(problem: Problem, scenario: Scenario) -> float:
    """Spending of the decided levers the model does not cost: the config's cost per unit a year
    times the lever's value in each year, summed over the counted years."""
    schedules = scenario.lever_schedules(default_layout())
    total = 0.0
    for name, cost in problem.config.costs_cny.items():
        schedule = schedules.get(name)
        if schedule is None:
            continue
        total += cost * sum(schedule.in_year(y) for y in counted_years(scenario))
    return total


def counted_years(scenario: Scenario) -> range:
    return range(max(SPENDING_FROM_YEAR, scenario.start_year + 1), scenario.end_year + 1)


def read_outcome(problem: Problem, scenario: Scenario, results: Sequence[Mapping[str, Any]]) -> Outcome:
    """A package's outcome from its runs' tables (one per seed)."""
    indicator = problem.objective.indicator
    years = counted_years(scenario)
    extra = costed_spending_cny(problem, scenario)
    objectives, spendings = [], []
    for result in results:
        table = result["indicators"]
        value = table[(table["indicator"] == indicator) & (table["year"] == problem.year)]["value"]
        if len(value) != 1:
            raise ScenarioError(
                f"{problem.source}: objective {problem.config.objective}: no value of {indicator} "
                f"in {problem.year} in the runs' indicators"
            )
        objectives.append(float(value.iloc[0]))
        spending = result["spending"]
        spent = spending[(spending["year"] >= years.start) & (spending["year"] < years.stop)]["cny"].sum()
        spendings.append(float(spent) + extra)
    return Outcome(
        float(sum(objectives) / len(objectives)),
        float(sum(spendings) / len(spendings)),
        tuple(objectives),
        tuple(spendings),
    )


RunPackages = Callable[[Sequence[Scenario], Sequence[int]], list[list[Mapping[str, Any]]]]
"""Runs each scenario on each seed; returns, per scenario, each seed's tables (indicators,
spending). The command's is ``runner_runs``; tests may give a cheaper one."""


def runner_runs(pool: Pool, progress: Progress | None = None) -> RunPackages:
    """Runs through the project's runner on an open pool, one batch at a time."""

    def run(scenarios: Sequence[Scenario], seeds: Sequence[int]) -> list[list[Mapping[str, Any]]]:
        tasks: list[RunTask] = []
        for s, scenario in enumerate(scenarios):
            data = scenario.as_data()
            for r, seed in enumerate(seeds):
                tasks.append(
                    RunTask(len(tasks), f"package {s + 1}, replicate {r}", data, seed, indicator_tables)
                )
        outputs = run_batch(pool, tasks, progress)
        width = len(seeds)
        return [[o.result for o in outputs[s * width : (s + 1) * width]] for s in range(len(scenarios))]

    return run


@dataclass
class Evaluator:
    """``experiments.optimise.Evaluate`` for a problem: packages become scenarios, run on the
    search's or the confirmation's seeds, each package and seed set once (a cache by value).

    Attributes:
        problem: what is searched.
        run: how scenarios are run (``runner_runs`` in the command).
        runs: model runs made so far.
    """

    problem: Problem
    run: RunPackages
    runs: int = 0
    _cache: dict[tuple[str, tuple[tuple[str, float], ...]], Outcome] = field(default_factory=dict)

    def __call__(self, packages: Sequence[Mapping[str, float]], seeds: str) -> list[Outcome]:
        chosen = self.problem.search_seeds if seeds == "search" else self.problem.confirm_seeds
        keys = [(seeds, tuple(sorted(package.items()))) for package in packages]
        todo = list(dict.fromkeys(key for key in keys if key not in self._cache))
        if todo:
            scenarios = [self.problem.package_scenario(dict(key[1])) for key in todo]
            results = self.run(scenarios, chosen)
            self.runs += len(scenarios) * len(chosen)
            for key, scenario, result in zip(todo, scenarios, results):
                self._cache[key] = read_outcome(self.problem, scenario, result)
        return [self._cache[key] for key in keys]

    def base_outcome(self) -> Outcome:
        """The base scenario's package on the confirmation seeds."""
        return self([self.problem.base_package()], "confirm")[0]


def _base_value(base: Scenario, path: str) -> float:
    """The base's value at a decision's date (the lever's default where the base does not set it)."""
    _, name, _, date_text = path.split(".")
    lever = LEVERS[name]
    setting = base.lever_settings().get(name)
    if setting is None:
        return lever.default
    date = dt.date.fromisoformat(date_text)
    dated = sorted((d, v) for d, v in setting.values.items() if d <= date)
    return dated[-1][1] if dated else lever.default


# --- the search and its files -------------------------------------------------------------------


@dataclass(frozen=True)
class OptimiseResult:
    """What ``search`` found and ``write`` wrote.

    Attributes:
        problem: the config made ready.
        results: one search per budget, in budget order.
        base: the base scenario's outcome on the confirmation seeds.
        frontier, trials: the two tables (``frontier_table``, ``trials_table``).
        best_files: budget -> the best package's scenario file name (in ``out_dir``).
        manifest: what was run, with provenance.
        out_dir: where the files are (set by ``write``).
    """

    problem: Problem
    results: list[BudgetResult]
    base: Outcome
    frontier: pd.DataFrame
    trials: pd.DataFrame
    best_files: Mapping[float, str]
    manifest: dict[str, Any]
    out_dir: Path | None = None


def search(
    problem: Problem, run: RunPackages, *, log: Callable[[str], object] | None = None
) -> OptimiseResult:
    """Search every budget's package, confirm it, and run the base on the confirmation seeds."""
    started = time.perf_counter()
    evaluate = Evaluator(problem, run)
    config = problem.config
    results = []
    for budget in config.budget_cny:
        result = optimise(
            problem.decisions,
            evaluate,
            budget,
            trials=config.trials,
            batch=config.batch,
            seed=config.seed,
            start=problem.base_package(),
        )
        results.append(result)
        if log is not None:
            found = (
                f"{problem.objective.en} {problem.format_objective(result.confirmed.objective)}, spending "
                f"{result.confirmed.spending_cny / 1e9:,.2f} bn CNY"
                if result.confirmed
                else "no package kept within it"
            )
            log(f"budget {budget / 1e9:,.2f} bn CNY: {found} ({evaluate.runs} runs so far)")
    base = evaluate.base_outcome()
    best_files = {r.budget_cny: best_file_name(r.budget_cny) for r in results if r.best is not None}
    manifest = {
        "config": str(problem.source),
        "name": config.name,
        "base": problem.base.name,
        "objective": config.objective,
        "indicator": problem.objective.indicator,
        "year": problem.year,
        "budgets_cny": config.budget_cny,
        "decisions": [d.__dict__ for d in problem.decisions],
        "costs_cny": config.costs_cny,
        "spending_years": [counted_years(problem.base).start, counted_years(problem.base).stop - 1],
        "trials": config.trials,
        "batch": config.batch,
        "sampler": "optuna TPESampler, constraint: mean spending <= budget",
        "seed": config.seed,
        "search_seeds": list(problem.search_seeds),
        "confirm_seeds": list(problem.confirm_seeds),
        "runs": evaluate.runs,
        "scale": problem.base.scale,
        "start_year": problem.base.start_year,
        "end_year": problem.base.end_year,
        "versions": files.package_versions(),
        "git_commit": files.git_commit(),
        "model_fingerprint": files.model_fingerprint(),
        "wall_seconds": round(time.perf_counter() - started, 3),
    }
    return OptimiseResult(
        problem,
        results,
        base,
        frontier_table(problem, results, best_files, base),
        trials_table(problem, results),
        best_files,
        manifest,
    )


def best_file_name(budget_cny: float) -> str:
    return f"best-{budget_cny / 1e9:g}bn.yaml"


def frontier_table(
    problem: Problem,
    results: Sequence[BudgetResult],
    best_files: Mapping[float, str],
    base: Outcome | None = None,
) -> pd.DataFrame:
    """One row per budget: the confirmed package's objective (mean and 90 % interval over the
    confirmation replicates), spending, and values; with ``base`` (the base's package on the same
    confirmation seeds), the package's gain over it, seed by seed (common random numbers)."""
    rows = []
    for result in results:
        confirmed = result.confirmed
        row: dict[str, Any] = {
            "budget_cny": result.budget_cny,
            "objective": problem.config.objective,
            "year": problem.year,
            "objective_mean": confirmed.objective if confirmed else math.nan,
            f"objective_{P05}": math.nan,
            f"objective_{P95}": math.nan,
            "spending_cny": confirmed.spending_cny if confirmed else math.nan,
            f"spending_{P05}": math.nan,
            f"spending_{P95}": math.nan,
            "confirm_replicates": len(confirmed.objective_values) if confirmed else 0,
            "feasible_trials": sum(t.feasible for t in result.trials),
            "trials": len(result.trials),
        }
        if confirmed:
            row[f"objective_{P05}"], row[f"objective_{P95}"] = interval(confirmed.objective_values)
            row[f"spending_{P05}"], row[f"spending_{P95}"] = interval(confirmed.spending_values)
        gains = _paired_gains(confirmed, base)
        row["gain_over_base_mean"] = sum(gains) / len(gains) if gains else math.nan
        row[f"gain_over_base_{P05}"], row[f"gain_over_base_{P95}"] = (
            interval(gains) if gains else (math.nan, math.nan)
        )
        for decision in problem.decisions:
            row[decision.path] = result.best[decision.path] if result.best else math.nan
        row["scenario_file"] = best_files.get(result.budget_cny, "")
        rows.append(row)
    return pd.DataFrame(rows)


def _paired_gains(confirmed: Outcome | None, base: Outcome | None) -> list[float]:
    """The package's objective minus the base's, seed by seed (both on the confirmation seeds)."""
    if confirmed is None or base is None or len(confirmed.objective_values) != len(base.objective_values):
        return []
    return [ours - theirs for ours, theirs in zip(confirmed.objective_values, base.objective_values)]


def trials_table(problem: Problem, results: Sequence[BudgetResult]) -> pd.DataFrame:
    """Every package evaluated, per budget, in order: its values, objective and spending (means
    over the search's replicates), and whether it kept within the budget."""
    rows = []
    for result in results:
        for number, trial in enumerate(result.trials):
            rows.append(
                {
                    "budget_cny": result.budget_cny,
                    "trial": number,
                    **{d.path: trial.package[d.path] for d in problem.decisions},
                    "objective_mean": trial.outcome.objective,
                    "spending_cny": trial.outcome.spending_cny,
                    "feasible": trial.feasible,
                    "is_best": result.best is not None and dict(trial.package) == dict(result.best),
                }
            )
    return pd.DataFrame(rows)


def best_scenario_data(problem: Problem, result: BudgetResult, out_dir: Path) -> dict[str, Any]:
    """The best package as a scenario file's data: ``extends`` the base by a path relative to
    ``out_dir`` and sets the decided levers whole (a child's lever replaces the parent's)."""
    assert result.best is not None and result.confirmed is not None  # only called for found packages
    scenario = problem.package_scenario(result.best)
    levers = scenario.as_data()["levers"]
    base_file = Path(os.path.normpath(problem.source.parent / problem.config.base))
    relative = os.path.relpath(base_file.resolve(), out_dir.resolve())
    objective = problem.objective
    data: dict[str, Any] = {
        "format": FORMAT_VERSION,
        "name": f"{problem.config.name}-{result.budget_cny / 1e9:g}bn".replace(".", "_"),
        "description": (
            f"Best package found by `jjj-talent optimise {problem.source}` for a budget of "
            f"{result.budget_cny / 1e9:g} bn CNY (cumulative spending {counted_years(scenario).start}-"
            f"{scenario.end_year}): {objective.en} in {problem.year} "
            f"{problem.format_objective(result.confirmed.objective)} (mean of {len(problem.confirm_seeds)} "
            f"confirmation replicates), spending {result.confirmed.spending_cny / 1e9:,.2f} bn CNY. "
            "A model result, not an observation."
        ),
        "extends": relative,
    }
    for key in ("scale", "end_year"):
        if getattr(problem.config, key) is not None:
            data[key] = getattr(problem.config, key)
    data["levers"] = {name: levers[name] for name in problem.levers}
    for name in problem.levers:
        data["levers"][name]["source"] = f"jjj-talent optimise {problem.config.name}: searched " + ", ".join(
            f"{d.path.split('.')[-1]} in [{d.lower:g}, {d.upper:g}]"
            for d in problem.decisions
            if lever_of(d.path) == name
        )
    return data


def write(
    result: OptimiseResult, out_dir: Path, add_files: Callable[[Path, OptimiseResult], object] | None = None
) -> OptimiseResult:
    """Write the tables, the best packages' scenario files and the manifest into ``out_dir``,
    staged and swapped into place whole; ``add_files(stage, result)`` adds the report."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ScenarioError(f"command line: --out: {out_dir} is a file; give a folder")
    result = OptimiseResult(**{**result.__dict__, "out_dir": out_dir})
    with staging_dir(out_dir) as stage:
        files.write_csv(stage / "frontier.csv", result.frontier)
        files.write_csv(stage / "trials.csv", result.trials)
        for budget_result in result.results:
            if budget_result.best is None:
                continue
            data = best_scenario_data(result.problem, budget_result, out_dir)
            target = stage / result.best_files[budget_result.budget_cny]
            files.write_text(target, _scenario_yaml(data))
            _check_loads(target, result.problem, budget_result)
        files.write_json(stage / "manifest.json", result.manifest)
        if add_files is not None:
            add_files(stage, result)
    return result


def _scenario_yaml(data: dict[str, Any]) -> str:
    head = (
        "# Written by `jjj-talent optimise`; run it with `jjj-talent run <this file>`.\n"
        "# `extends` is relative to this file's folder: keep the folder where it was written.\n"
    )
    return head + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def _check_loads(path: Path, problem: Problem, result: BudgetResult) -> None:
    """The written file loads (the stage sits beside ``out_dir``, so ``extends`` resolves the
    same) and sets the package's values: a file that would not run is never left behind."""
    loaded = load_scenario(path)
    expected = problem.package_scenario(result.best or {})

    def settings(scenario: Scenario) -> dict[str, Any]:
        levers = scenario.as_data()["levers"]
        return {name: {k: v for k, v in s.items() if k != "source"} for name, s in levers.items()}

    same = ("scale", "start_year", "end_year", "parameters")
    if settings(loaded) != settings(expected) or any(
        getattr(loaded, key) != getattr(expected, key) for key in same
    ):
        raise ScenarioError(f"{path}: the written package does not load as the package searched")


def default_out_dir(problem: Problem) -> Path:
    return Path("outputs") / f"optimise-{problem.config.name}"


def optimise_config(
    config_file: str | Path,
    *,
    out_dir: Path | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    add_files: Callable[[Path, OptimiseResult], object] | None = None,
    log: Callable[[str], object] | None = None,
) -> OptimiseResult:
    """The command: load the config (bad input raises ``ScenarioError`` before anything runs),
    search every budget through the runner, write the files."""
    problem = load_config(config_file)
    out = Path(out_dir) if out_dir is not None else default_out_dir(problem)
    if out.exists() and not out.is_dir():
        raise ScenarioError(f"command line: --out: {out} is a file; give a folder")
    count = workers if workers is not None or scheduler is not None else min(os.cpu_count() or 1, 64)
    with open_pool(count, scheduler) as pool:
        result = search(problem, runner_runs(pool), log=log)
    return write(result, out, add_files)
