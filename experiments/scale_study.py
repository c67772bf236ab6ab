"""Scale study: how far a coarse scale (persons per talent row) reproduces a finer one (issue 9).

    python -m experiments.scale_study [--scenario scenarios/baseline.yaml] [--scales 100 1]
                                      [--seeds 10] [--workers W] [--out outputs/scale-study]

The scenario runs at every scale on the same replicate seeds (``replicate_seeds`` from the
scenario's seed), through the runner (``experiments/runner.py``). Seeds are shared, but runs at
two scales have different rows and so different random draws: the samples are independent, and
the test is a two-sample one, not a paired one. For every indicator of a run's ``indicators``
table (``model/indicators.py``) at each milestone year (``model.plan.MILESTONE_YEARS``; those
after the scenario's end year are skipped), each scale ``s`` with values ``x_s,r`` over ``n``
seeds is set against the finest scale ``f`` (the smallest number):

    mean_s = sum_r x_s,r / n             sd_s = sqrt(sum_r (x_s,r - mean_s)^2 / (n - 1))
    diff_s = mean_s - mean_f             rel_diff_s = diff_s / |mean_f|
    se_s = sqrt(sd_s^2 / n + sd_f^2 / n)           (standard error of diff_s)
    p_s = Welch's t-test of x_s against x_f, two-sided (scipy.stats.ttest_ind, equal_var=False)
    q_s = p_s adjusted over all indicator-years of scale s (Benjamini-Hochberg,
          scipy.stats.false_discovery_control)
    differs_s = q_s < ALPHA

so among the indicator-years flagged, the expected share of false alarms is at most ALPHA (with
some 150 comparisons, p < 0.05 alone would flag about 7 by chance). ``diff_over_sd`` (``diff_s / sqrt((sd_s^2 + sd_f^2) / 2)``) says how large
the difference is against the spread of a single run. Where both scales have zero variance (an
indicator fixed by inputs; a spread within float rounding, ``ROUNDING``, counts as none), p is
left empty and ``differs`` is whether the means differ beyond that rounding.

Writes ``scale_study.csv`` (one row per indicator, year and scale) and ``summary.md`` into
``--out``, swapped into place together (``experiments.files.staging_dir``). Bad arguments end
with a message on stderr and exit status 2, a failed run with status 1.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import false_discovery_control, ttest_ind

from experiments import files
from experiments.replicates import replicate_seeds
from experiments.runner import RunTask, run_all
from model.errors import JJJError, ScenarioError
from model.plan import MILESTONE_YEARS
from model.scenario import Scenario, load_scenario

DEFAULT_SCENARIO = Path("scenarios/baseline.yaml")
DEFAULT_OUT = Path("outputs/scale-study")
ALPHA = 0.05
"""False discovery rate of the flagged differences (Benjamini-Hochberg)."""
ROUNDING = 1e-9
"""Relative spread below which a sample counts as fixed: sums taken in another order differ in
the last bits (``services_gap`` varies by 1e-16 between seeds that share its inputs)."""
MAX_SCALE = 1_000_000  # the scenario schema's bound on ``scale`` (model/scenario.py)


def milestone_rows(tables: dict[str, Any]) -> pd.DataFrame:
    """``reduce`` for the runner: the indicators table at the milestone years only."""
    indicators = tables["indicators"]
    return indicators[indicators["year"].isin(MILESTONE_YEARS)].reset_index(drop=True)


def run_scales(scenario: Scenario, scales: list[int], seeds: list[int], workers: int | None) -> pd.DataFrame:
    """scale, replicate, year, indicator, value of every run (finest scale first: the longest
    runs start first)."""
    tasks: list[RunTask] = []
    keys: list[tuple[int, int]] = []
    for scale in sorted(scales):
        data = scenario.with_overrides({"scale": scale}, source="command line: --scales").as_data()
        for replicate, seed in enumerate(seeds):
            label = f"scale {scale}, replicate {replicate}"
            tasks.append(RunTask(len(tasks), label, data, seed, milestone_rows))
            keys.append((scale, replicate))
    outputs = run_all(tasks, workers=workers, what="scale-study")
    return pd.concat(
        [out.result.assign(scale=scale, replicate=rep) for (scale, rep), out in zip(keys, outputs)],
        ignore_index=True,
    )


def compare_scales(values: pd.DataFrame) -> pd.DataFrame:
    """The statistics of the module docstring from ``run_scales``'s table: indicator, year,
    scale, seeds, mean, sd, diff, rel_diff, se, diff_over_sd, p_value, q_value, differs."""
    finest = int(values["scale"].min())
    rows = []
    for (indicator, year), group in values.groupby(["indicator", "year"], sort=False):
        samples = {int(scale): g["value"].dropna().to_numpy(float) for scale, g in group.groupby("scale")}
        base = samples[finest]
        for scale in sorted(samples):
            x = samples[scale]
            mean, sd, sd_f = float(np.mean(x)), _sd(x), _sd(base)
            diff = mean - float(np.mean(base))
            row = {"indicator": indicator, "year": int(year), "scale": scale, "seeds": len(x)}
            row |= {"mean": mean, "sd": sd, "diff": diff}
            row["rel_diff"] = diff / abs(float(np.mean(base))) if np.mean(base) != 0 else np.nan
            se = float(np.sqrt(sd**2 / len(x) + sd_f**2 / len(base))) if scale != finest else np.nan
            spread = float(np.sqrt((sd**2 + sd_f**2) / 2))
            row["se"], row["diff_over_sd"] = se, diff / spread if spread > 0 else np.nan
            p, differs = np.nan, False
            if scale != finest and se > 0:
                with warnings.catch_warnings():  # one sample fixed: its variance is 0, rightly
                    warnings.filterwarnings("ignore", "Precision loss", RuntimeWarning)
                    p = float(ttest_ind(x, base, equal_var=False).pvalue)
            elif scale != finest and se == 0:  # both fixed: any difference is beyond noise
                differs = abs(diff) > ROUNDING * abs(mean)
            rows.append(row | {"p_value": p, "differs": differs})
    table = pd.DataFrame(rows)
    table["q_value"] = np.nan
    for _, group in table[table["p_value"].notna()].groupby("scale"):
        table.loc[group.index, "q_value"] = false_discovery_control(group["p_value"].to_numpy())
    table.loc[table["q_value"].notna(), "differs"] = table["q_value"] < ALPHA
    return table


def _sd(x: np.ndarray) -> float:
    """Standard deviation over seeds (n - 1); 0 for a fixed sample (``ROUNDING``), NaN for one value."""
    if len(x) < 2:
        return np.nan
    sd = float(np.std(x, ddof=1))
    return 0.0 if sd <= ROUNDING * float(np.max(np.abs(x))) else sd


def summary_markdown(table: pd.DataFrame, scenario: Path, seeds: list[int], skipped: list[int]) -> str:
    """The indicators that differ beyond noise as a markdown table, and the count that do not."""
    finest = int(table["scale"].min())
    coarse = table[table["scale"] != finest]
    flagged = coarse[coarse["differs"]]
    means = table[table["scale"] == finest].set_index(["indicator", "year"])["mean"]
    lines = [
        f"# Scale study: {scenario}",
        "",
        f"Scale {', '.join(str(s) for s in sorted(coarse['scale'].unique(), reverse=True))} "
        f"against scale {finest}, {len(seeds)} seeds each (`replicate_seeds`: {seeds}); "
        f"commit {files.git_commit()}, model {files.model_fingerprint()}.",
        f"Differs beyond noise: Welch's test, Benjamini-Hochberg q < {ALPHA} over each scale's "
        "indicator-years (see `experiments/scale_study.py`).",
    ]
    if skipped:
        lines.append(f"Milestone years after the scenario's end year, skipped: {skipped}.")
    lines += [
        "",
        f"{len(flagged)} of {len(coarse)} indicator-years differ beyond replicate noise; "
        f"{len(coarse) - len(flagged)} do not.",
        "",
    ]
    if len(flagged):
        lines += [
            f"| indicator | year | scale | mean | mean at scale {finest} | relative diff | diff / sd | p | q |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for row in flagged.itertuples():
            p = " | " if np.isnan(row.p_value) else f"{row.p_value:.2g} | {row.q_value:.2g}"
            lines.append(
                f"| {row.indicator} | {row.year} | {row.scale} | {row.mean:.6g} | "
                f"{means[(row.indicator, row.year)]:.6g} | {row.rel_diff:+.2%} | "
                f"{row.diff_over_sd:+.2f} | {p} |"
            )
    return "\n".join(lines) + "\n"


def checked_arguments(args: argparse.Namespace) -> tuple[Scenario, list[int], list[int], list[int]]:
    """The scenario, scales, replicate seeds and skipped milestone years; ``ScenarioError`` on
    bad arguments, before anything runs."""
    for scale in args.scales:
        if not 1 <= scale <= MAX_SCALE:
            raise ScenarioError(
                f"command line: --scales: value {scale}: persons per row must be from 1 to {MAX_SCALE:,}"
            )
    if len(set(args.scales)) < 2 or len(set(args.scales)) != len(args.scales):
        raise ScenarioError(
            f"command line: --scales: value {' '.join(map(str, args.scales))}: give two or more "
            "different scales; the finest (smallest) is the reference"
        )
    if args.seeds < 2:
        raise ScenarioError(
            f"command line: --seeds: value {args.seeds}: must be 2 or more (a t-test needs a variance)"
        )
    if args.workers is not None and args.workers < 0:
        raise ScenarioError(
            f"command line: --workers: value {args.workers}: must be 0 (this process) or more"
        )
    if not args.scenario.is_file():
        raise ScenarioError(f"command line: --scenario: value {str(args.scenario)!r}: no such file")
    scenario = load_scenario(args.scenario)
    years = [y for y in MILESTONE_YEARS if scenario.start_year <= y <= scenario.end_year]
    if not years:
        raise ScenarioError(
            f"{args.scenario}: end_year: value {scenario.end_year}: before the first milestone year "
            f"{MILESTONE_YEARS[0]}; the study compares scales at {list(MILESTONE_YEARS)}"
        )
    skipped = [y for y in MILESTONE_YEARS if y not in years]
    return scenario, sorted(args.scales), replicate_seeds(scenario.seed, args.seeds), skipped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m experiments.scale_study", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--scenario", type=Path, default=DEFAULT_SCENARIO)
    parser.add_argument("--scales", type=int, nargs="+", default=[100, 1], help="persons per row")
    parser.add_argument("--seeds", type=int, default=10, help="replicate seeds per scale (>= 2)")
    parser.add_argument("--workers", type=int, help="local processes (0: this one; default one per core)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    try:
        scenario, scales, seeds, skipped = checked_arguments(args)
        if skipped:
            print(f"scale-study: milestone years after end_year {scenario.end_year} skipped: {skipped}")
        table = compare_scales(run_scales(scenario, scales, seeds, args.workers))
    except ScenarioError as err:
        print(f"scale-study: error: {err}", file=sys.stderr)
        return 2
    except JJJError as err:
        print(f"scale-study: run failed: {err}", file=sys.stderr)
        return 1
    with files.staging_dir(args.out) as stage:
        files.write_csv(stage / "scale_study.csv", table)
        files.write_text(stage / "summary.md", summary_markdown(table, args.scenario, seeds, skipped))
    print(f"scale-study: wrote {args.out / 'scale_study.csv'} and {args.out / 'summary.md'}")
    for scale, coarse in table[table["scale"] != scales[0]].groupby("scale"):
        print(
            f"scale-study: {int(coarse['differs'].sum())} of {len(coarse)} indicator-years differ "
            f"beyond replicate noise (scale {scale} against scale {scales[0]})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
