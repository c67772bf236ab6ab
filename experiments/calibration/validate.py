"""Validation: run a scenario with replicates and compare it with every row of a file of published
numbers (``jjj-talent validate``).

For each row of the file (columns as in ``model/data/observations.csv``; other columns ignored)
whose unit, indicator and year the run produces (``observed.py`` beside it says how each is
measured), ``validation.csv`` gives the observed value, the simulated mean over the replicates
and its 90 % interval (5th-95th percentile), the error (simulated - observed) and the relative
error (error / observed). The file may be a folder of files (``observed.read_observed``); two
releases of one number (``vintage``) are two rows, compared apart. Where the row's ``uom`` says
the number is an upper (lower) bound, only a simulated value above (below) it counts as an
error, for the naive forecast too. Rows the model cannot produce are kept, with the reason, as
``result = skipped``.

Summary figures (``summary.json`` and the last printed line):

- ``mape``: mean of |relative error| over the compared rows, in per cent (rows observed as 0 are
  left out and counted).
- ``mase``: the model's errors scaled by those of a naive forecast. The naive forecast of a row is
  the latest value of the same unit and indicator dated at or before the start year, from the
  observed file, or else the model's own value in the start year (its base-year data), carried
  forward unchanged. Because rows come in different units (persons, CNY per m2, ...), errors are
  taken relative to the observed value before they are averaged:
  ``mase = sum_i |sim_i - obs_i| / |obs_i|  /  sum_i |naive_i - obs_i| / |obs_i|`` over the rows
  that have both a simulation and a naive value (those without one are left out and counted).
  Below 1 the model beats carrying the last known number forward.
- ``within_interval``: how many compared rows have their observed value inside the simulated
  90 % interval (``simulated_p05 <= observed <= simulated_p95``). Over many rows a well-founded
  interval holds about 90 % of them; far fewer says the interval leaves out what matters (with
  chance alone, the parameters' uncertainty and the model's structure).
- ``after_start_year_by_indicator``, ``after_start_year_by_vintage``: the same figures for the
  compared rows after the start year, for each indicator and each vintage.

Replicate seeds come from ``experiments.replicates.replicate_seeds`` (root: ``--seed``, else the
scenario's seed); the same root gives the same replicates, so comparisons are reproducible and
two scenarios validated with the same root share their random numbers. The replicates run
through the runner (``experiments/runner.py``): in this process, on local processes or on Dask.

With a parameter ensemble (``--ensemble FILE``, else the scenario's ``ensemble`` key), replicate
``r`` runs with the draw of parameter values ``experiments/ensemble.py`` picks for it from the
same root, so the 90 % intervals span parameter uncertainty as well as chance; ``summary.json``
records the file, its hash and the draw of each replicate, and says which kind of interval the
table holds (``interval``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from experiments import files
from experiments.calibration.observed import (
    CARRIED_COLUMNS,
    Context,
    RunNodes,
    Unavailable,
    context,
    measure,
    measure_note,
    run_nodes,
)
from experiments.ensemble import Ensemble, interval_kind
from experiments.files import git_commit, model_fingerprint, package_versions, staging_dir
from experiments.replicates import P05, P95, interval, replicate_seeds
from experiments.runner import Pool, Progress, RunTask, open_pool, run_batch
from model.errors import ScenarioError
from model.scenario import START_YEARS, Scenario

DEFAULT_REPLICATES = 5
DEFAULT_OUTPUTS = Path("outputs")


def run_replicates(
    scenario: Scenario, seeds: Sequence[int], pool: Pool | None = None, progress: Progress | None = None
) -> list[RunNodes]:
    """Simulate ``scenario`` once per seed on ``pool`` (default: in this process); each run is
    reduced to its node table in the worker."""
    return run_replicate_sets([scenario], seeds, pool, progress)[0]


def run_replicate_sets(
    scenarios: Sequence[Scenario],
    seeds: Sequence[int],
    pool: Pool | None = None,
    progress: Progress | None = None,
) -> list[list[RunNodes]]:
    """Every scenario once per seed, as one batch on ``pool`` (default: in this process), so a
    batch of candidates keeps every worker busy; one list of node tables per scenario."""
    tasks = [
        RunTask(
            k * len(seeds) + i,
            f"{scenario.name} #{k + 1}, replicate {i} (seed {seed})",
            data,
            seed,
            run_nodes,
        )
        for k, (scenario, data) in enumerate((s, s.as_data()) for s in scenarios)
        for i, seed in enumerate(seeds)
    ]
    if pool is None:
        with open_pool(0) as inline:
            outputs = run_batch(inline, tasks, progress)
    else:
        outputs = run_batch(pool, tasks, progress)
    results = [output.result for output in outputs]
    return [results[k * len(seeds) : (k + 1) * len(seeds)] for k in range(len(scenarios))]


def run_replicate_scenarios(
    scenarios: Sequence[Scenario], seeds: Sequence[int], pool: Pool, progress: Progress | None = None
) -> list[RunNodes]:
    """Replicate ``i`` runs ``scenarios[i]`` on ``seeds[i]`` (an ensemble's draws, one a
    replicate), as one batch on ``pool``; one node table per replicate."""
    tasks = [
        RunTask(i, f"{scenario.name}, replicate {i} (seed {seed})", scenario.as_data(), seed, run_nodes)
        for i, (scenario, seed) in enumerate(zip(scenarios, seeds, strict=True))
    ]
    return [output.result for output in run_batch(pool, tasks, progress)]


def compare(observed: pd.DataFrame, runs: Sequence[RunNodes], start_year: int) -> pd.DataFrame:
    """One row per observed row, in file order: simulated statistics or the reason it was
    skipped, and the naive forecast (see the module docstring).

    Columns: unit, indicator, year, observed, the carried columns (uom, status, source, note,
    model_use), result ("compared" or "skipped"), reason, simulated_mean, simulated_p05,
    simulated_p95, error, relative_error, naive, naive_source, naive_error,
    naive_relative_error, comparison (what was done to make the simulated value comparable).
    """
    ctx = context(start_year)
    rows = []
    for row in observed.itertuples(index=False):
        out = {"unit": row.unit, "indicator": row.indicator, "year": int(row.year), "observed": row.value}
        out |= {column: getattr(row, column, "") for column in CARRIED_COLUMNS}
        try:
            if not np.isfinite(row.value):
                raise Unavailable("no observed value")
            values = np.array([measure(run, row.unit, row.indicator, int(row.year), ctx) for run in runs])
            note = measure_note(row.unit, row.indicator, int(row.year), ctx)
        except Unavailable as reason:
            rows.append(out | {"result": "skipped", "reason": str(reason)})
            continue
        mean = float(values.mean())
        error = _bounded(mean - row.value, row.uom)
        if _bound(row.uom):
            bound_note = f"observed is a bound ({_bound(row.uom)}): only a value beyond it is an error"
            note = f"{note}; {bound_note}" if note else bound_note
        low, high = interval(values)
        rows.append(
            out
            | {
                "result": "compared",
                "reason": "",
                "simulated_mean": mean,
                f"simulated_{P05}": low,
                f"simulated_{P95}": high,
                "error": error,
                "relative_error": error / row.value if row.value else math.nan,
                "comparison": note,
            }
        )
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    return add_naive(table, observed, start_year, _start_values(runs, start_year, ctx))


def _bound(uom: object) -> str:
    """The bound a row's unit names: ``upper`` or ``lower`` (e.g. "persons (upper bound)"), else ""."""
    text = str(uom).lower()
    return "upper" if "upper bound" in text else "lower" if "lower bound" in text else ""


def _bounded(error: float, uom: object) -> float:
    """An error against a bound counts only beyond it."""
    bound = _bound(uom)
    return max(error, 0.0) if bound == "upper" else min(error, 0.0) if bound == "lower" else error


TABLE_COLUMNS = [
    "unit",
    "indicator",
    "year",
    "observed",
    *CARRIED_COLUMNS,
    "result",
    "reason",
    "simulated_mean",
    f"simulated_{P05}",
    f"simulated_{P95}",
    "error",
    "relative_error",
    "naive",
    "naive_source",
    "naive_error",
    "naive_relative_error",
    "comparison",
]


def _start_values(
    runs: Sequence[RunNodes], start_year: int, ctx: Context
) -> Callable[[str, str], float | None]:
    """The model's own value of (unit, indicator) in the start year, mean over runs, or None."""

    def value(unit: str, indicator: str) -> float | None:
        try:
            return float(np.mean([measure(run, unit, indicator, start_year, ctx) for run in runs]))
        except Unavailable:
            return None

    return value


def add_naive(
    table: pd.DataFrame,
    observed: pd.DataFrame,
    start_year: int,
    model_start_value: Callable[[str, str], float | None],
) -> pd.DataFrame:
    """Fill the naive forecast of each compared row: the latest observed value of its unit and
    indicator dated at or before ``start_year`` (the later row of the file wins a tie), else
    ``model_start_value(unit, indicator)``, else nothing."""
    table = table.copy()
    known = observed[(observed["year"] <= start_year) & np.isfinite(observed["value"])]
    latest = known.sort_values("year", kind="stable").groupby(["unit", "indicator"]).tail(1)
    latest = latest.set_index(["unit", "indicator"])
    naive, source = [], []
    for row in table.itertuples(index=False):
        value: float | None = None
        label = ""
        if row.result == "compared":
            if (row.unit, row.indicator) in latest.index:
                hit = latest.loc[(row.unit, row.indicator)]
                value, label = float(hit["value"]), f"observed {int(hit['year'])}"
            else:
                value = model_start_value(row.unit, row.indicator)
                label = f"model {start_year}" if value is not None else ""
        naive.append(math.nan if value is None else value)
        source.append(label)
    table["naive"] = naive
    table["naive_source"] = source
    table["naive_error"] = [_bounded(e, u) for e, u in zip(table["naive"] - table["observed"], table["uom"])]
    with np.errstate(divide="ignore", invalid="ignore"):
        table["naive_relative_error"] = np.where(
            table["observed"] != 0, table["naive_error"] / table["observed"], np.nan
        )
    return table


@dataclass(frozen=True)
class Summary:
    """Summary figures of a comparison table (definitions in the module docstring)."""

    rows: int
    skipped: int
    mape_percent: float
    mase: float
    rows_in_mase: int
    rows_without_naive: int
    rows_observed_zero: int
    within_interval: int

    def line(self) -> str:
        mase = "n/a" if math.isnan(self.mase) else f"{self.mase:.3f}"
        mape = "n/a" if math.isnan(self.mape_percent) else f"{self.mape_percent:.2f}%"
        return f"rows={self.rows} skipped={self.skipped} mape={mape} mase={mase}"


def summarise(table: pd.DataFrame) -> Summary:
    compared = table[table["result"] == "compared"]
    relative = compared["relative_error"].abs()
    with_value = relative.notna()
    naive = compared["naive_relative_error"].abs()
    both = with_value & naive.notna()
    denominator = naive[both].sum()
    mase = float(relative[both].sum() / denominator) if both.any() and denominator > 0 else math.nan
    return Summary(
        rows=len(compared),
        skipped=int((table["result"] == "skipped").sum()),
        mape_percent=float(100 * relative[with_value].mean()) if with_value.any() else math.nan,
        mase=mase,
        rows_in_mase=int(both.sum()),
        rows_without_naive=int((with_value & naive.isna()).sum()),
        rows_observed_zero=int((~with_value).sum()),
        within_interval=int(
            (
                (compared["simulated_p05"] <= compared["observed"])
                & (compared["observed"] <= compared["simulated_p95"])
            ).sum()
        ),
    )


# --- the command -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Validation:
    """A comparison table, its summaries (all rows; rows after the start year) and what ran."""

    table: pd.DataFrame
    summary: Summary
    after_start: Summary
    scenario: Scenario
    seeds: list[int]
    ensemble: Ensemble | None = None
    draws: tuple[int, ...] = ()
    """With an ensemble: the draw (row index) each replicate ran with."""

    @property
    def ensemble_record(self) -> dict[str, object] | None:
        """File, hash and the draw of each replicate (None without an ensemble)."""
        return None if self.ensemble is None else self.ensemble.record(self.draws)

    @property
    def interval_kind(self) -> str:
        """What the 90 % intervals span (``experiments.ensemble.interval_kind``)."""
        return interval_kind(len(self.seeds), self.ensemble_record)


def validate(
    scenario: Scenario,
    observed: pd.DataFrame,
    start_year: int | None = None,
    replicates: int = DEFAULT_REPLICATES,
    seed: int | None = None,
    *,
    workers: int | None = 0,
    scheduler: str | None = None,
    progress: Progress | None = None,
    ensemble: Ensemble | None = None,
) -> Validation:
    """Run ``scenario`` from ``start_year`` (default its own) with replicates and compare it with
    ``observed``. The run ends at the scenario's end year, or earlier when no observed row is
    dated later. The replicates run on ``workers`` local processes (0: this process; None: one
    per core) or on the Dask cluster at ``scheduler``; with ``ensemble``, each with its draw of
    parameter values (module docstring)."""
    start = scenario.start_year if start_year is None else start_year
    if start not in START_YEARS:
        raise ScenarioError(f"--from: value {start}: allowed: {', '.join(map(str, START_YEARS))}")
    if start >= scenario.end_year:
        raise ScenarioError(f"--from: value {start}: the scenario ends in {scenario.end_year}")
    last_needed = int(observed["year"].max()) if len(observed) else start + 1
    end = min(scenario.end_year, max(start + 1, last_needed))
    scenario = scenario.with_overrides({"start_year": start, "end_year": end}, source="validate")
    root = scenario.seed if seed is None else seed
    seeds = replicate_seeds(root, replicates)
    draws = tuple(ensemble.replicate_draws(root, replicates)) if ensemble is not None else ()
    drawn = [ensemble.scenario_for(scenario, k) for k in draws] if ensemble is not None else []
    with open_pool(workers, scheduler) as pool:
        if ensemble is None:
            runs = run_replicates(scenario, seeds, pool, progress)
        else:
            runs = run_replicate_scenarios(drawn, seeds, pool, progress)
    table = compare(observed, runs, start)
    later = table[(table["year"] > start) | (table["result"] == "skipped")]
    return Validation(table, summarise(table), summarise(later), scenario, seeds, ensemble, draws)


def write_validation(
    result: Validation,
    out_dir: Path,
    observed_path: Path | None,
    add_files: Callable[[Path, Validation], None] | None = None,
) -> Path:
    """validation.csv and summary.json in ``out_dir`` at once; ``add_files(stage, result)``
    writes anything else (the chart) into the same folder before it is swapped into place."""
    scenario = result.scenario
    summary = {
        "scenario": scenario.name,
        "scenario_sha256": scenario.sha256(),
        "start_year": scenario.start_year,
        "end_year": scenario.end_year,
        "scale": scenario.scale,
        "parameters": scenario.parameter_overrides(),  # the values that ran (a record's check)
        "replicates": len(result.seeds),
        "seeds": result.seeds,
        "ensemble": result.ensemble_record,
        "interval": result.interval_kind,
        "observed_file": str(observed_path) if observed_path else None,
        "observed_sha256": observed_sha256(observed_path) if observed_path else None,
        "summary": asdict(result.summary),
        "after_start_year": asdict(result.after_start),
        "after_start_year_by_indicator": summaries_by(result.table, "indicator", result.scenario.start_year),
        "after_start_year_by_vintage": summaries_by(result.table, "vintage", result.scenario.start_year),
        "definitions": {
            "relative_error": "(simulated mean - observed) / observed",
            "interval": "5th-95th percentile of the replicates (see `interval` for what they span)",
            "mape": "100 x mean |relative error| over compared rows",
            "naive": "latest observed value of the unit and indicator at or before the start year, "
            "else the model's start-year value, carried forward",
            "mase": "sum |relative error| / sum |naive relative error| over rows with both",
        },
        "versions": package_versions(),
        "git_commit": git_commit(),
        "model_fingerprint": model_fingerprint(),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join(sys.argv),
    }
    with staging_dir(out_dir) as stage:
        files.write_csv(stage / "validation.csv", result.table)
        files.write_json(stage / "summary.json", summary)
        if add_files is not None:
            add_files(stage, result)
    return out_dir


def observed_sha256(path: Path) -> str:
    """SHA-256 of an observations file, or of a folder's ``*.csv`` files (names and contents, in
    name order), so a record says exactly which numbers it was compared with."""
    if not path.is_dir():
        return hashlib.sha256(path.read_bytes()).hexdigest()
    digest = hashlib.sha256()
    for file in sorted(path.glob("*.csv")):
        digest.update(file.name.encode() + b"\0" + hashlib.sha256(file.read_bytes()).digest())
    return digest.hexdigest()


def summaries_by(table: pd.DataFrame, column: str, start_year: int) -> dict[str, dict[str, float | int]]:
    """``summarise`` of the rows after ``start_year`` for each value of ``column`` (e.g. indicator,
    vintage), skipped rows left out."""
    later = table[(table["year"] > start_year) & (table["result"] == "compared")]
    return {str(key): asdict(summarise(group)) for key, group in later.groupby(column, sort=True)}


def worst_rows(table: pd.DataFrame, n: int = 5) -> pd.DataFrame:
    compared = table[table["result"] == "compared"]
    order = compared["relative_error"].abs().sort_values(ascending=False).index[:n]
    return compared.loc[
        order,
        [
            "unit",
            "indicator",
            "year",
            "observed",
            "simulated_mean",
            f"simulated_{P05}",
            f"simulated_{P95}",
            "relative_error",
            "naive_relative_error",
        ],
    ]
