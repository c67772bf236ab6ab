"""Validation: run a scenario with replicates and compare it with every row of a file of published
numbers (``jjj-talent validate``); this module also registers ``jjj-talent calibrate``.

For each row of the file (columns as in ``model/data/observations.csv``; other columns ignored)
whose unit, indicator and year the run produces (``experiments/observed.py`` says how each is
measured), ``validation.csv`` gives the observed value, the simulated mean over the replicates
and its 90 % interval (5th-95th percentile), the error (simulated - observed) and the relative
error (error / observed). Where the row's ``uom`` says the number is an upper (lower) bound,
only a simulated value above (below) it counts as an error, for the naive forecast too. Rows
the model cannot produce are kept, with the reason, as ``result = skipped``.

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

Replicate seeds are ``np.random.SeedSequence(root).spawn(n)`` (root: ``--seed``, else the
scenario's seed); the same root gives the same replicates, so comparisons are reproducible and
two scenarios validated with the same root share their random numbers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from experiments import io
from experiments.observed import (CARRIED_COLUMNS, Context, RunNodes, Unavailable, context,
                                  measure, measure_note, read_observed)
from model.errors import ScenarioError
from model.scenario import START_YEARS, Scenario, load_scenario

if TYPE_CHECKING:  # matplotlib is imported when a chart is drawn, so the CLI starts quickly
    from matplotlib.figure import Figure

DEFAULT_REPLICATES = 5
DEFAULT_OUTPUTS = Path("outputs")
INTERVAL = (5.0, 95.0)  # percentiles of the replicates: a 90 % interval


def replicate_seeds(root: int, n: int) -> list[int]:
    """``n`` model seeds spawned from ``root`` (``np.random.SeedSequence(root).spawn(n)``)."""
    if n < 1:
        raise ScenarioError(f"replicates: value {n}: must be a whole number >= 1")
    return [int(child.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
            for child in np.random.SeedSequence(root).spawn(n)]


def run_replicates(scenario: Scenario, seeds: Sequence[int],
                   progress: Callable[[int, int], None] | None = None) -> list[RunNodes]:
    """Simulate ``scenario`` once per seed; each run reduced to its node table."""
    from experiments.run import simulate  # the model is only needed when something runs

    runs = []
    for i, seed in enumerate(seeds):
        tables, _, _ = simulate(scenario, seed)
        runs.append(RunNodes.from_tables(tables))
        if progress:
            progress(i + 1, len(seeds))
    return runs


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
        out |= {column: getattr(row, column) for column in CARRIED_COLUMNS}
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
        rows.append(out | {
            "result": "compared", "reason": "", "simulated_mean": mean,
            "simulated_p05": float(np.percentile(values, INTERVAL[0])),
            "simulated_p95": float(np.percentile(values, INTERVAL[1])),
            "error": error, "relative_error": error / row.value if row.value else math.nan,
            "comparison": note})
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    return add_naive(table, observed, start_year, _start_values(runs, start_year, ctx))


def _bound(uom: object) -> str:
    """"upper" or "lower" when the row's unit says the value is a bound (e.g. "persons (upper
    bound)"), else ""."""
    text = str(uom).lower()
    return "upper" if "upper bound" in text else "lower" if "lower bound" in text else ""


def _bounded(error: float, uom: object) -> float:
    """An error against a bound counts only beyond it."""
    bound = _bound(uom)
    return max(error, 0.0) if bound == "upper" else min(error, 0.0) if bound == "lower" else error


TABLE_COLUMNS = ["unit", "indicator", "year", "observed", *CARRIED_COLUMNS, "result", "reason",
                 "simulated_mean", "simulated_p05", "simulated_p95", "error", "relative_error",
                 "naive", "naive_source", "naive_error", "naive_relative_error", "comparison"]


def _start_values(runs: Sequence[RunNodes], start_year: int,
                  ctx: Context) -> Callable[[str, str], float | None]:
    """The model's own value of (unit, indicator) in the start year, mean over runs, or None."""
    def value(unit: str, indicator: str) -> float | None:
        try:
            return float(np.mean([measure(run, unit, indicator, start_year, ctx) for run in runs]))
        except Unavailable:
            return None
    return value


def add_naive(table: pd.DataFrame, observed: pd.DataFrame, start_year: int,
              model_start_value: Callable[[str, str], float | None]) -> pd.DataFrame:
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
        table["naive_relative_error"] = np.where(table["observed"] != 0,
                                                 table["naive_error"] / table["observed"], np.nan)
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
        rows=len(compared), skipped=int((table["result"] == "skipped").sum()),
        mape_percent=float(100 * relative[with_value].mean()) if with_value.any() else math.nan,
        mase=mase, rows_in_mase=int(both.sum()),
        rows_without_naive=int((with_value & naive.isna()).sum()),
        rows_observed_zero=int((~with_value).sum()))


# --- the command -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Validation:
    """A comparison table, its summaries (all rows; rows after the start year) and what ran."""

    table: pd.DataFrame
    summary: Summary
    after_start: Summary
    scenario: Scenario
    seeds: list[int]


def validate(scenario: Scenario, observed: pd.DataFrame, start_year: int | None = None,
             replicates: int = DEFAULT_REPLICATES, seed: int | None = None,
             progress: Callable[[int, int], None] | None = None) -> Validation:
    """Run ``scenario`` from ``start_year`` (default its own) with replicates and compare it with
    ``observed``. The run ends at the scenario's end year, or earlier when no observed row is
    dated later."""
    start = scenario.start_year if start_year is None else start_year
    if start not in START_YEARS:
        raise ScenarioError(f"--from: value {start}: allowed: {', '.join(map(str, START_YEARS))}")
    if start >= scenario.end_year:
        raise ScenarioError(f"--from: value {start}: the scenario ends in {scenario.end_year}")
    last_needed = int(observed["year"].max()) if len(observed) else start + 1
    end = min(scenario.end_year, max(start + 1, last_needed))
    scenario = scenario.with_overrides({"start_year": start, "end_year": end}, source="validate")
    seeds = replicate_seeds(scenario.seed if seed is None else seed, replicates)
    table = compare(observed, run_replicates(scenario, seeds, progress), start)
    later = table[(table["year"] > start) | (table["result"] == "skipped")]
    return Validation(table, summarise(table), summarise(later), scenario, seeds)


def write_validation(result: Validation, out_dir: Path, observed_path: Path | None) -> Path:
    """validation.csv, summary.json and the chart (PNG, SVG), all in ``out_dir`` at once."""
    from experiments.charts import figure_bytes
    from experiments.run import git_commit, package_versions, staging_dir

    scenario = result.scenario
    summary = {
        "scenario": scenario.name, "scenario_sha256": scenario.sha256(),
        "start_year": scenario.start_year, "end_year": scenario.end_year, "scale": scenario.scale,
        "replicates": len(result.seeds), "seeds": result.seeds,
        "observed_file": str(observed_path) if observed_path else None,
        "observed_sha256": (hashlib.sha256(observed_path.read_bytes()).hexdigest()
                            if observed_path else None),
        "summary": asdict(result.summary),
        "after_start_year": asdict(result.after_start),
        "definitions": {
            "relative_error": "(simulated mean - observed) / observed",
            "interval": "5th-95th percentile of the replicates",
            "mape": "100 x mean |relative error| over compared rows",
            "naive": "latest observed value of the unit and indicator at or before the start year, "
                     "else the model's start-year value, carried forward",
            "mase": "sum |relative error| / sum |naive relative error| over rows with both",
        },
        "versions": package_versions(), "git_commit": git_commit(),
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(sys.argv),
    }
    chart = figure_bytes(error_chart(
        _chart_rows(result.table, "simulated"), title="Simulated against observed",
        subtitle=f"{scenario.name} from {scenario.start_year}, {len(result.seeds)} replicates, "
                 f"scale {scenario.scale}; {result.summary.line()}"))
    with staging_dir(out_dir) as stage:
        io.write_csv(stage / "validation.csv", result.table)
        io.write_json(stage / "summary.json", summary)
        for extension, data in chart.items():
            io.write_bytes(stage / f"validation.{extension}", data)
    return out_dir


def _chart_rows(table: pd.DataFrame, series: str) -> pd.DataFrame:
    compared = table[table["result"] == "compared"].copy()
    obs = compared["observed"]
    return pd.DataFrame({
        "label": compared["unit"] + "  " + compared["indicator"] + "  " + compared["year"].astype(str),
        series: compared["relative_error"],
        f"{series}_low": compared["simulated_p05"] / obs - 1,
        f"{series}_high": compared["simulated_p95"] / obs - 1,
        "naive": compared["naive_relative_error"],
    }).reset_index(drop=True)


def error_chart(rows: pd.DataFrame, *, title: str, subtitle: str = "",
                series: Sequence[str] = ("simulated",)) -> Figure:
    """Relative error (simulated / observed - 1) of each row, one line per row.

    ``rows`` has a ``label`` column and, per name in ``series``, the error and optionally
    ``<name>_low`` / ``<name>_high`` (drawn as an interval); a ``naive`` column, when present,
    is drawn as open circles. Pure: no file is read or written.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    height = 1.6 + 0.24 * max(len(rows), 1)
    figure = Figure(figsize=(8.5, height), layout="constrained")
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    y = np.arange(len(rows))[::-1]
    colours = ("#0072B2", "#D55E00", "#009E73")
    offsets = np.linspace(-0.15, 0.15, len(series)) if len(series) > 1 else [0.0]
    for name, colour, offset in zip(series, colours, offsets):
        if f"{name}_low" in rows:
            ax.hlines(y + offset, 100 * rows[f"{name}_low"], 100 * rows[f"{name}_high"], color=colour,
                      linewidth=2, alpha=0.35)
        ax.plot(100 * rows[name], y + offset, "o", color=colour, markersize=4.5, label=name)
    if "naive" in rows and rows["naive"].notna().any():
        ax.plot(100 * rows["naive"], y, "o", markerfacecolor="none", markeredgecolor="0.4",
                markersize=6, label="naive (last value carried forward)")
    ax.axvline(0, color="0.2", linewidth=0.8)
    ax.set_yticks(y, rows["label"], fontsize=7.5)
    ax.set_ylim(-0.8, len(rows) - 0.2)
    ax.set_xlabel("relative error, % (simulated / observed - 1)")
    ax.grid(True, axis="x", color="0.9", linewidth=0.6)
    ax.spines[["top", "right"]].set_visible(False)
    figure.legend(frameon=False, fontsize=8, loc="outside lower center", ncols=3)
    figure.suptitle(title, x=0.01, ha="left", fontsize=12)
    if subtitle:
        ax.set_title(subtitle, loc="left", fontsize=8, color="0.35")
    return figure


def worst_rows(table: pd.DataFrame, n: int = 5) -> pd.DataFrame:
    compared = table[table["result"] == "compared"]
    order = compared["relative_error"].abs().sort_values(ascending=False).index[:n]
    return compared.loc[order, ["unit", "indicator", "year", "observed", "simulated_mean",
                                "simulated_p05", "simulated_p95", "relative_error", "naive_relative_error"]]


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``validate`` and ``calibrate`` on the ``jjj-talent`` parser."""
    command = subparsers.add_parser(
        "validate", help="compare a scenario's replicates with published numbers")
    command.add_argument("scenario", type=Path, help="scenario file (YAML)")
    command.add_argument("--observed", type=Path, required=True,
                         help="CSV with unit, indicator, year, value (as model/data/observations.csv)")
    command.add_argument("--from", type=int, dest="start_year",
                         help="base year, 2010 or 2015 (default: the scenario's)")
    command.add_argument("--replicates", type=int, default=DEFAULT_REPLICATES,
                         help=f"runs with seeds spawned from the root seed (default {DEFAULT_REPLICATES})")
    command.add_argument("--seed", type=int, help="root seed of the replicates (default: the scenario's)")
    command.add_argument("--scale", type=int, help="persons per talent row (default: the scenario's)")
    command.add_argument("--out", type=Path,
                         help="output folder (default: outputs/validation/<scenario>-from<year>)")
    command.set_defaults(handler=_validate_command)

    command = subparsers.add_parser(
        "calibrate", help="fit behavioural parameters to numbers published up to 2015")
    command.add_argument("config", type=Path, help="calibration config (e.g. experiments/calibration-2015.yaml)")
    command.add_argument("--out", type=Path, help="output folder (default: outputs/calibration/<name>)")
    command.add_argument("--no-layer", action="store_true",
                         help="do not write the fitted scenario layer, only the output folder")
    command.set_defaults(handler=_calibrate_command)


def _validate_command(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario)
    if args.scale is not None:
        scenario = scenario.with_overrides({"scale": args.scale}, source="command line")
    if args.seed is not None and args.seed < 0:
        raise ScenarioError(f"command line: --seed: value {args.seed}: must be a whole number >= 0")
    observed = read_observed(args.observed)
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        print(f"  replicate {done}/{total}  {time.perf_counter() - started:6.1f} s", file=sys.stderr, flush=True)

    result = validate(scenario, observed, args.start_year, args.replicates, args.seed, progress)
    start = result.scenario.start_year
    out_dir = args.out or DEFAULT_OUTPUTS / "validation" / f"{scenario.name}-from{start}"
    write_validation(result, out_dir, args.observed)
    skipped = result.table[result.table["result"] == "skipped"]
    for reason, count in skipped["reason"].value_counts().items():
        print(f"skipped {count}: {reason}")
    worst = worst_rows(result.table)
    if len(worst):
        print("largest relative errors:")
        for row in worst.itertuples(index=False):
            print(f"  {row.unit:>8} {row.indicator:<24} {row.year}  observed {row.observed:>14,.0f}  "
                  f"simulated {row.simulated_mean:>14,.0f}  ({100 * row.relative_error:+.1f}%)")
    print(f"after the start year ({start}): {result.after_start.line()}")
    print(f"wrote {out_dir}/ (validation.csv, summary.json, validation.png, validation.svg)")
    print(f"validation: {result.summary.line()}")
    return 0


def _calibrate_command(args: argparse.Namespace) -> int:
    from experiments.calibrate import calibrate, load_config

    config = load_config(args.config)
    out_dir = args.out or DEFAULT_OUTPUTS / "calibration" / config.name
    result = calibrate(config, out_dir, write_layer=not args.no_layer, log=print)
    print(f"calibration: {result.line()}")
    return 0
