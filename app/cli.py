"""The ``jjj-talent`` command: every subcommand in one parser.

    jjj-talent run SCENARIO.yaml [--seed N] [--scale N] [--start YEAR] [--end YEAR] [--ensemble FILE] [--out DIR]
                   [--lang en|zh|both]
    jjj-talent compare A.yaml B.yaml [...] --replicates N [--ensemble FILE] [--workers N | --scheduler ADDR]
                       [--out DIR] [--lang L] [--attribute [--groups FILE]]
    jjj-talent attribute SCENARIO.yaml [--reference B.yaml] [--replicates N] [--groups FILE | --each-lever]
    jjj-talent optimise CONFIG.yaml [--workers N | --scheduler ADDR] [--out DIR] [--lang en|zh|both]
    jjj-talent validate SCENARIO.yaml --observed FILE.csv [--from YEAR] [--replicates N] [--ensemble FILE]
                        [--workers N] [--out DIR]
    jjj-talent calibrate CONFIG.yaml [--out DIR] [--no-layer] [--workers N | --scheduler ADDR]
    jjj-talent score CONFIG.yaml LAYER.yaml [LAYER.yaml ...] [--out DIR] [--workers N | --scheduler ADDR]
    jjj-talent profile CONFIG.yaml --parameter NAME --values V [V ...] [--refit NAME ...] [--out DIR]
    jjj-talent sweep EXPERIMENT.yaml [--store DIR] [--workers N | --scheduler tcp://HOST:PORT]
    jjj-talent sensitivity STORE    jjj-talent discover STORE --target "hebei_share >= 0.45 in 2030"
    jjj-talent show SCENARIO.yaml   the resolved scenario and what it changes of its parent
    jjj-talent schema            JSON Schema of scenario files
    jjj-talent parameters        behavioural parameters with units, bounds and sources
    jjj-talent levers            policy levers with plan sections, units, bounds and mechanisms
    jjj-talent app [--port N]    the scenario workbench in the browser, on 127.0.0.1

Every command that runs the model more than once submits its runs through one runner
(``experiments/runner.py``): ``--workers N`` local processes (0: this process; default one per
core) or the Dask cluster at ``--scheduler``; results do not depend on either. Each command
composes a run or an analysis (``experiments/``) with what it draws (``reports/``): the report
or chart goes into the same folder, in the same atomic step, as the tables it describes.

``--ensemble FILE`` (run, compare, validate; else the scenario's ``ensemble`` key) runs each
replicate with a weighted draw of parameter values (``experiments/ensemble.py``).

Bad input ends with a one-paragraph message on stderr and exit status 2; nothing is written.
A failed run ends with exit status 1.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from experiments import files
from experiments.calibration.observed import figure, read_observed
from experiments.calibration.validate import DEFAULT_REPLICATES, validate, worst_rows, write_validation
from experiments.compare import ComparisonResult, compare, plan_comparison
from experiments.ensemble import choose_ensemble
from experiments.run import calibration_record, copy_record, fitted_values, run_scenario
from experiments.runner import RECYCLE_AFTER, Progress
from experiments.sweeps.design import load_experiment
from experiments.sweeps.discovery import discover_store, parse_target
from experiments.sweeps.sensitivity import write_sensitivity
from experiments.sweeps.sweep import DEFAULT_STORES, run_sweep
from model.errors import JJJError, ScenarioError
from model.levers import LEVERS
from model.parameters import PARAMETERS
from model.scenario import differences, json_schema, load_scenario, parent_file
from model.simulation import TalentModel
from reports import REPORT_LANGS

DEFAULT_OUTPUTS = Path("outputs")


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="jjj-talent: %(name)s: %(message)s")
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except ScenarioError as err:
        print(f"jjj-talent: error: {err}", file=sys.stderr)
        return 2
    except JJJError as err:
        print(f"jjj-talent: run failed: {err}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jjj-talent", description="Talent flows across Beijing, Tianjin and Hebei, 2010-2030."
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run one scenario and write its report")
    run.add_argument("scenario", type=Path, help="scenario file (YAML)")
    run.add_argument("--seed", type=int, help="random seed (default: the scenario's)")
    run.add_argument(
        "--scale", type=int, help="persons per talent row; 1 simulates everyone (default: the scenario's)"
    )
    run.add_argument(
        "--start", type=int, dest="start_year", help="base year, 2010 or 2015 (default: the scenario's)"
    )
    run.add_argument(
        "--end", type=int, dest="end_year", help="last year, at most 2030 (default: the scenario's)"
    )
    _add_ensemble_option(run)
    run.add_argument("--out", type=Path, help="output folder (default: outputs/<scenario name>)")
    run.add_argument("--no-report", action="store_true", help="write tables only, no charts or report")
    _add_lang_option(run)
    run.set_defaults(handler=_run)

    show = commands.add_parser("show", help="print a resolved scenario and its difference from its parent")
    show.add_argument("scenario", type=Path, help="scenario file (YAML)")
    show.set_defaults(handler=_show)

    schema = commands.add_parser("schema", help="print the JSON Schema of scenario files")
    schema.set_defaults(handler=lambda args: print(json.dumps(json_schema(), indent=2, ensure_ascii=False)))

    parameters = commands.add_parser(
        "parameters",
        help="list behavioural parameters",
        description="List the behavioural parameters with units, bounds and sources; or, with "
        "--start-of, write where a calibration config's searches start (the declared defaults) as a "
        "one-draw ensemble file, so that run, compare and validate with --ensemble FILE measure the "
        "model before its fit.",
    )
    parameters.add_argument(
        "--start-of",
        type=Path,
        metavar="CONFIG",
        help="calibration config (e.g. experiments/calibration-2015.yaml): write its start values",
    )
    parameters.add_argument(
        "--out", type=Path, help="with --start-of: the file (default: outputs/<config>-start.csv)"
    )
    parameters.set_defaults(handler=_parameters)

    levers = commands.add_parser("levers", help="list the plan's policy levers")
    levers.set_defaults(handler=_list_levers)

    command = commands.add_parser(
        "compare",
        help="compare scenarios on the same replicate seeds",
        description="Run every scenario on the same replicate seeds and report each one's "
        "effect against the first (common random numbers), with 90 % intervals.",
    )
    command.add_argument(
        "scenarios",
        type=Path,
        nargs="+",
        metavar="SCENARIO.yaml",
        help="scenario files; the first is the reference",
    )
    command.add_argument("--replicates", type=int, required=True, help="replicate seeds per scenario (>= 1)")
    command.add_argument(
        "--seed",
        type=int,
        dest="root_seed",
        help="root of the replicate seeds (default: the first scenario's seed)",
    )
    command.add_argument("--scale", type=int, help="persons per talent row, for every scenario")
    command.add_argument("--end", type=int, dest="end_year", help="last year, for every scenario")
    _add_ensemble_option(command)
    _add_runner_options(command, default="one per CPU, at most one per run")
    command.add_argument(
        "--out", type=Path, help="output folder (default: outputs/compare-<name1>-vs-<name2>...)"
    )
    command.add_argument("--no-report", action="store_true", help="tables only, no charts or report")
    _add_lang_option(command)
    command.add_argument(
        "--attribute",
        action="store_true",
        help="also split each scenario's effect among its lever groups (Shapley values) and give each "
        "group's cost per talent; each scenario must differ from the first in levers only; "
        "2^groups - 2 more runs a replicate",
    )
    command.add_argument(
        "--groups",
        type=Path,
        help="with --attribute: lever-groups file (default: experiments/lever-groups.yaml)",
    )
    command.set_defaults(handler=_compare)

    command = commands.add_parser(
        "attribute",
        help="each lever group's own effect in a scenario (Shapley values) and its cost per talent",
        description="Run every combination of the lever groups a scenario changes on the same "
        "replicate seeds and report each group's effect alone, left out and as its exact Shapley "
        "value, with 90 % intervals, and its cost per talent gained by Hebei.",
    )
    command.add_argument("scenario", type=Path, metavar="SCENARIO.yaml", help="the scenario to attribute")
    command.add_argument(
        "--reference",
        type=Path,
        default=Path("scenarios/baseline.yaml"),
        help="default: scenarios/baseline.yaml",
    )
    command.add_argument(
        "--replicates", type=int, default=5, help="replicate seeds per coalition (default 5)"
    )
    grouping = command.add_mutually_exclusive_group()
    grouping.add_argument(
        "--groups", type=Path, help="lever-groups file (default: experiments/lever-groups.yaml, 8 groups)"
    )
    grouping.add_argument(
        "--each-lever", action="store_true", help="one group per lever (for a scenario of a few levers)"
    )
    command.add_argument("--seed", type=int, dest="root_seed", help="root of the replicate seeds")
    command.add_argument("--scale", type=int, help="persons per talent row")
    command.add_argument("--end", type=int, dest="end_year", help="last year")
    _add_runner_options(command, default="one per CPU")
    command.add_argument("--out", type=Path, help="output folder (default: outputs/attribute-<name>)")
    command.set_defaults(handler=_attribute)

    command = commands.add_parser(
        "optimise",
        help="the best lever package for each budget (spending as a constraint), and the frontier",
        description="Search the lever values a config may change for the package that maximises its "
        "objective within each budget (Optuna TPE, synchronous batches, common random numbers), "
        "confirm it on fresh seeds, and write the best packages as scenarios, the frontier and a report.",
    )
    command.add_argument(
        "config", type=Path, metavar="CONFIG.yaml", help="e.g. experiments/optimise-example.yaml"
    )
    _add_runner_options(command, default="one per CPU")
    command.add_argument("--out", type=Path, help="output folder (default: outputs/optimise-<name>)")
    _add_lang_option(command)
    command.set_defaults(handler=_optimise)

    command = commands.add_parser("validate", help="compare a scenario's replicates with published numbers")
    command.add_argument("scenario", type=Path, help="scenario file (YAML)")
    command.add_argument(
        "--observed",
        type=Path,
        required=True,
        help="CSV with unit, indicator, year, value (as model/data/observations.csv)",
    )
    command.add_argument(
        "--from", type=int, dest="start_year", help="base year, 2010 or 2015 (default: the scenario's)"
    )
    command.add_argument(
        "--replicates",
        type=int,
        default=DEFAULT_REPLICATES,
        help=f"runs with seeds spawned from the root seed (default {DEFAULT_REPLICATES})",
    )
    command.add_argument("--seed", type=int, help="root seed of the replicates (default: the scenario's)")
    command.add_argument("--scale", type=int, help="persons per talent row (default: the scenario's)")
    _add_ensemble_option(command)
    _add_runner_options(command, default="one per CPU, at most one per replicate")
    command.add_argument(
        "--out", type=Path, help="output folder (default: outputs/validation/<scenario>-from<year>)"
    )
    command.set_defaults(handler=_validate)

    command = commands.add_parser(
        "calibrate", help="fit behavioural parameters to numbers published up to 2015"
    )
    command.add_argument(
        "config", type=Path, help="calibration config (e.g. experiments/calibration-2015.yaml)"
    )
    command.add_argument("--out", type=Path, help="output folder (default: outputs/calibration/<name>)")
    command.add_argument(
        "--no-layer",
        action="store_true",
        help="do not write the fitted scenario layer, only the output folder",
    )
    command.add_argument(
        "--quick",
        action="store_true",
        help="check the config end to end: scale 2000, one seed, two generations, no layer (not a fit)",
    )
    _add_runner_options(command, default="one per CPU, at most one per replicate")
    command.set_defaults(handler=_calibrate)

    command = commands.add_parser(
        "profile",
        help="the fit's loss with one parameter held at other values: do the data pin it down?",
        description="Hold one fitted parameter at each value, refit the ones named by --refit (the "
        "rest at the shipped fit), and report the loss on fresh seeds beside its spread across them "
        "(experiments/calibration/profile.py). Writes profile.csv; changes no scenario.",
    )
    command.add_argument(
        "config", type=Path, help="calibration config (e.g. experiments/calibration-2015.yaml)"
    )
    command.add_argument(
        "--parameter",
        required=True,
        help="the parameter to hold: one the config fits, or any other declared one (assumed)",
    )
    command.add_argument(
        "--values",
        type=float,
        nargs="+",
        required=True,
        help="values to hold it at (the fitted one is added)",
    )
    command.add_argument(
        "--refit", nargs="+", default=[], metavar="NAME", help="fitted parameters refitted at each value"
    )
    command.add_argument(
        "--evaluations", type=int, default=96, help="candidates the refit may try at each value (default 96)"
    )
    command.add_argument(
        "--fresh-sets", type=int, default=3, help="fresh seed sets each value is judged on (default 3)"
    )
    _add_runner_options(command, default="one per CPU, at most one per replicate")
    command.add_argument(
        "--out", type=Path, help="output folder (default: outputs/profile/<config>-<parameter>)"
    )
    command.set_defaults(handler=_profile)

    command = commands.add_parser(
        "score",
        help="judge fitted layers on the fit's fresh seed sets (compare fits set by set)",
        description="Run each layer's values of the config's parameters on the config's "
        "selection_sets fresh seed sets, the seeds the fit judges its searches on, and print the "
        "loss on each set and their mean (experiments/calibration/profile.py); writes "
        "<out>/score.csv. Changes no scenario.",
    )
    command.add_argument(
        "config", type=Path, help="calibration config (e.g. experiments/calibration-2015.yaml)"
    )
    command.add_argument(
        "layers",
        type=Path,
        nargs="+",
        metavar="LAYER",
        help="fitted layers (scenario files setting parameters)",
    )
    _add_runner_options(command, default="one per CPU, at most one per replicate")
    command.add_argument("--out", type=Path, help="output folder (default: outputs/score/<config name>)")
    command.set_defaults(handler=_score)

    command = commands.add_parser("sweep", help="run an experiment's runs (resumable), then its results")
    command.add_argument("experiment", type=Path, help="experiment file (YAML)")
    command.add_argument(
        "--store", type=Path, help=f"store folder (default: {DEFAULT_STORES}/<experiment name>)"
    )
    _add_runner_options(command, default="one per CPU")
    command.add_argument(
        "--recycle-after",
        type=int,
        default=RECYCLE_AFTER,
        metavar="N",
        help=f"replace the local workers after about N runs each (default {RECYCLE_AFTER})",
    )
    command.set_defaults(handler=_sweep)

    command = commands.add_parser("sensitivity", help="Sobol' or Morris indices of a sweep store")
    command.add_argument("store", type=Path, help="a store written by `jjj-talent sweep`")
    command.add_argument(
        "--year",
        type=int,
        action="append",
        dest="years",
        help="only this year (repeat for more; default: every year of the results)",
    )
    command.set_defaults(handler=_sensitivity)

    command = commands.add_parser("discover", help="PRIM boxes of the inputs that lead to a target")
    command.add_argument("store", type=Path, help="a store written by `jjj-talent sweep`")
    command.add_argument("--target", required=True, help="e.g. 'hebei_share >= 0.45 in 2030'")
    command.add_argument(
        "--threshold", type=float, default=0.8, help="density a box must reach (default 0.8)"
    )
    command.add_argument("--boxes", type=int, default=1, help="boxes to find one after the other (default 1)")
    command.set_defaults(handler=_discover)

    command = commands.add_parser("app", help="the scenario workbench in the browser (127.0.0.1)")
    command.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default 8765)")
    command.set_defaults(handler=_app)
    return parser


def _app(args: argparse.Namespace) -> int:
    from app.web.serve import serve  # Solara and its server load only for this command

    return serve(args.port)


def _add_ensemble_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--ensemble",
        type=Path,
        metavar="FILE.csv",
        help="parameter ensemble (draw, parameters..., weight; e.g. a calibration's ensemble.csv): each "
        "replicate runs with a weighted draw, chosen from the root seed (default: the scenario's "
        "`ensemble` key, else none)",
    )


def _add_runner_options(command: argparse.ArgumentParser, default: str) -> None:
    command.add_argument(
        "--workers",
        type=int,
        help=f"local worker processes, 0 for this process (default: {default}); results do not depend on it",
    )
    command.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run on this Dask cluster instead")


def _check_runner_options(args: argparse.Namespace) -> None:
    """Refuse bad --workers / --scheduler before any file is read."""
    if args.workers is not None and args.scheduler is not None:
        raise ScenarioError(
            "command line: --workers and --scheduler: give one; the cluster decides its workers"
        )
    if args.workers is not None and args.workers < 0:
        raise ScenarioError(
            f"command line: --workers: value {args.workers}: must be 0 (this process) or more"
        )
    if args.scheduler is not None and not args.scheduler.startswith(
        ("tcp://", "tls://", "inproc://", "ucx://")
    ):
        raise ScenarioError(
            f"command line: --scheduler: value {args.scheduler!r}: not a scheduler address; allowed: tcp://HOST:PORT"
        )


# --- run, show, lists ---------------------------------------------------------------------------


def _run(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario)
    overrides = {
        key: getattr(args, key)
        for key in ("scale", "start_year", "end_year")
        if getattr(args, key) is not None
    }
    if overrides:
        scenario = scenario.with_overrides(overrides, source="command line")
    if args.seed is not None and args.seed < 0:
        raise ScenarioError(f"command line: --seed: value {args.seed}: must be a whole number >= 0")
    ensemble = choose_ensemble(args.ensemble, scenario, args.scenario)
    out_dir = args.out or DEFAULT_OUTPUTS / scenario.name
    started = time.perf_counter()
    record = calibration_record(args.scenario)
    result = run_scenario(
        scenario,
        out_dir,
        seed=args.seed,
        progress=_year_progress(started),
        add_files=functools.partial(_add_run_files, record=record, lang=args.lang, report=not args.no_report),
        ensemble=ensemble,
        fitted=None if record is None else fitted_values(record),
    )
    manifest = result.manifest
    print(
        f"wrote {out_dir}/ ({manifest['agent_rows']:,} talent rows, {manifest['wall_seconds']:.1f} s simulated, "
        f"{time.perf_counter() - started:.1f} s in all)"
    )
    if not args.no_report:
        print(f"report: {out_dir / 'report.html'}")
    if manifest["ensemble"] is not None:
        record = manifest["ensemble"]
        print(
            f"parameters: draw {record['draw_per_replicate'][0]} of {record['file']} "
            f"({record['draws']} draw{'' if record['draws'] == 1 else 's'})"
        )
    return 0


# Reports (matplotlib) and calibration (scipy) are imported by the commands that use them, so
# that `jjj-talent levers` or a refused file answers without loading them (about 2 s a start).


def _add_lang_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--lang",
        choices=REPORT_LANGS,
        default="both",
        help="language of the report page (default: both); chart files are written in both always",
    )


def _add_run_files(folder: Path, *, record: Path | None, lang: str, report: bool) -> None:
    """A run folder's extras: the fit table and validation of the calibrated layer its scenario
    extends (if any), then the report, which shows them."""
    if record is not None:
        left_out = copy_record(record, folder)
        if left_out:
            print(f"note: {left_out}")
    if report:
        _write_report(folder, lang=lang)


def _write_report(folder: Path, *, lang: str = "both") -> None:
    from reports.run_report import write_report

    write_report(folder, lang=lang)


def _write_compare_report(
    folder: Path,
    result: ComparisonResult,
    attributions: Mapping[str, Any] | None = None,
    *,
    lang: str = "both",
) -> None:
    from reports.compare_report import write_compare_report

    write_compare_report(
        folder, result.comparison, result.tables, result.manifest, lang=lang, attributions=attributions
    )


def _show(args: argparse.Namespace) -> None:
    scenario = load_scenario(args.scenario)
    print(f"# {args.scenario}, resolved (sha256 {scenario.sha256()[:12]})")
    print(yaml.safe_dump(scenario.as_data(), allow_unicode=True, sort_keys=False, width=100), end="")
    parent = parent_file(args.scenario)
    if parent is None:
        print("# extends nothing")
        return
    lines = differences(load_scenario(parent), scenario)
    print(f"# differences from {parent} ({len(lines)}):")
    for line in lines or ["(none)"]:
        print(f"#   {line}")


def _year_progress(started: float) -> Any:
    def show(year: int, end_year: int, model: TalentModel) -> None:
        persons = model.talents.persons
        print(
            f"  {year}/{end_year}  {persons / 1e6:6.2f} M talents  {len(model.talents):>11,} rows  "
            f"{time.perf_counter() - started:6.1f} s",
            file=sys.stderr,
            flush=True,
        )

    return show


def _parameters(args: argparse.Namespace) -> None:
    if args.start_of is None:
        if args.out is not None:
            raise ScenarioError(f"command line: --out: value {str(args.out)!r}: only with --start-of CONFIG")
        _list_parameters()
        return
    from experiments.calibration.calibrate import load_config, start_ensemble

    config = load_config(args.start_of)
    out = args.out or DEFAULT_OUTPUTS / f"{config.name}-start.csv"
    if out.is_dir():
        raise ScenarioError(
            f"command line: --out: value {str(out)!r}: is a folder; give a file, e.g. {out / (config.name + '-start.csv')}"
        )
    try:
        files.write_csv(out, start_ensemble(config))
    except OSError as err:
        raise ScenarioError(
            f"command line: --out: value {str(out)!r}: cannot write it ({err.strerror})"
        ) from None
    print(
        f"wrote {out}: the start values of {len(config.parameters)} parameters, one draw (--ensemble {out})"
    )


def _list_parameters() -> None:
    for p in PARAMETERS.values():
        print(
            f"{p.name:32} {p.default:<10g} {p.unit:28} [{p.lower:g}, {p.upper:g}]\n    {p.meaning}\n"
            f"    source: {p.source}"
        )


def _list_levers(args: argparse.Namespace) -> None:
    for lever in LEVERS.values():
        defaults = {kind: list(getattr(lever, f"default_{kind}")) for kind in lever.targets}
        print(
            f"{lever.name}  (plan {lever.section})  {lever.unit}, {lever.lower:g} to {lever.upper:g}\n"
            f"    {lever.meaning}\n"
            f"    mechanism: {lever.mechanism}\n"
            f"    spending: {lever.spending}"
            + (f" ({lever.unit_cost_cny:,.0f} CNY a unit: {lever.cost_basis})" if lever.unit_cost_cny else "")
            + f"\n    targets: {defaults or 'none'}\n"
        )


# --- compare, validate, calibrate ---------------------------------------------------------------


def _compare(args: argparse.Namespace) -> int:
    _check_runner_options(args)
    if args.groups is not None and not args.attribute:
        raise ScenarioError("command line: --groups: only with --attribute, which uses the lever groups")
    options: dict[str, Any] = {
        "root_seed": args.root_seed,
        "scale": args.scale,
        "end_year": args.end_year,
        "workers": args.workers,
        "scheduler": args.scheduler,
        "ensemble": args.ensemble,
    }
    report = None if args.no_report else functools.partial(_write_compare_report, lang=args.lang)
    attributions: Mapping[str, Any] = {}
    if args.attribute:
        from experiments.attribution import compare_and_attribute

        planned = plan_comparison(args.scenarios, args.replicates, **options, ensemble_key=True)
        if planned.ensemble is not None:
            raise ScenarioError(
                f"command line: --attribute: not with a parameter ensemble ({planned.ensemble.path}, from "
                f"{'--ensemble' if args.ensemble else 'the ensemble key of the scenarios'}): the lever groups' runs "
                "would not share the replicates' draws; run compare without --attribute, or attribute "
                "without an ensemble"
            )
        done = compare_and_attribute(planned, groups=args.groups, out_dir=args.out, add_files=report)
        result, attributions = done.comparison, done.attributions
    else:
        result = compare(args.scenarios, args.replicates, out_dir=args.out, add_files=report, **options)
    comparison = result.comparison
    extra = sum(a.manifest["runs"] - a.manifest["runs_reused"] for a in attributions.values())
    print(
        f"wrote {result.out_dir}/ ({comparison.runs + extra} runs, {result.manifest['wall_seconds']:.1f} s)"
    )
    if not args.no_report:
        print(f"report: {result.out_dir / 'report.html'}")
    for label, attributed in attributions.items():
        manifest = attributed.manifest
        print(
            f"attribute: {label} groups={len(attributed.attribution.groups)} runs={manifest['runs']} "
            f"(reused from the comparison: {manifest['runs_reused']})"
        )
    print(f"intervals: {comparison.interval_kind}")
    print(
        f"compare: scenarios={len(comparison.scenarios)} replicates={comparison.replicates} runs={comparison.runs}"
    )
    return 0


def _attribute(args: argparse.Namespace) -> int:
    from experiments.attribution import attribute, each_lever
    from reports.attribution import write_attribution_report

    _check_runner_options(args)
    groups = args.groups
    if args.each_lever:
        groups = each_lever(load_scenario(args.scenario), load_scenario(args.reference))
    result = attribute(
        args.scenario,
        args.replicates,
        reference_file=args.reference,
        groups=groups,
        out_dir=args.out,
        root_seed=args.root_seed,
        scale=args.scale,
        end_year=args.end_year,
        workers=args.workers,
        scheduler=args.scheduler,
        add_files=write_attribution_report,
    )
    print(
        f"wrote {result.out_dir}/ ({result.manifest['runs']} runs, {result.manifest['wall_seconds']:.1f} s)"
    )
    print(f"report: {result.out_dir / 'report.html'}")
    last = (
        result.costs[result.costs["year"] == result.costs["year"].max()]
        if len(result.costs)
        else result.costs
    )
    for _, row in last.iterrows():
        per = (
            "–"
            if row["cny_per_talent"] != row["cny_per_talent"]
            else f"{row['cny_per_talent']:,.0f} CNY/talent"
        )
        print(f"  {row['group']:<14} Hebei {row['effect']:+,.0f} talents in {int(row['year'])}, {per}")
    print(f"attribute: groups={len(result.attribution.groups)} runs={result.manifest['runs']}")
    return 0


def _optimise(args: argparse.Namespace) -> int:
    from experiments.package_search import optimise_config
    from reports.optimise import write_optimise_report

    _check_runner_options(args)
    result = optimise_config(
        args.config,
        out_dir=args.out,
        workers=args.workers,
        scheduler=args.scheduler,
        add_files=functools.partial(write_optimise_report, lang=args.lang),
        log=lambda line: print(f"  {line}", file=sys.stderr, flush=True),
    )
    problem = result.problem
    print(
        f"wrote {result.out_dir}/ ({result.manifest['runs']} runs, {result.manifest['wall_seconds']:.1f} s)"
    )
    print(f"report: {result.out_dir / 'report.html'}" if result.out_dir else "")
    shown = problem.format_objective
    for _, row in result.frontier.iterrows():
        found = (
            f"{problem.objective.en} in {problem.year} {shown(row['objective_mean'])} "
            f"({shown(row['objective_p05'])} to {shown(row['objective_p95'])}), spending "
            f"{row['spending_cny'] / 1e9:,.2f} bn, gain over {problem.base.name} "
            f"{problem.format_gain(row['gain_over_base_mean'])}: {row['scenario_file']}"
            if row["scenario_file"]
            else "no package kept within the budget"
        )
        print(f"  budget {row['budget_cny'] / 1e9:,.2f} bn CNY: {found}")
    print(f"optimise: budgets={len(result.results)} runs={result.manifest['runs']}")
    return 0


def _validate(args: argparse.Namespace) -> int:
    _check_runner_options(args)
    scenario = load_scenario(args.scenario)
    if args.scale is not None:
        scenario = scenario.with_overrides({"scale": args.scale}, source="command line")
    if args.seed is not None and args.seed < 0:
        raise ScenarioError(f"command line: --seed: value {args.seed}: must be a whole number >= 0")
    observed = read_observed(args.observed)
    ensemble = choose_ensemble(args.ensemble, scenario, args.scenario)
    workers = args.workers
    if workers is None and args.scheduler is None:
        workers = min(_cpus(), max(args.replicates, 1))
    with Progress(max(args.replicates, 0), what="validate") as progress:
        result = validate(
            scenario,
            observed,
            args.start_year,
            args.replicates,
            args.seed,
            workers=workers,
            scheduler=args.scheduler,
            progress=progress,
            ensemble=ensemble,
        )
    start = result.scenario.start_year
    out_dir = args.out or DEFAULT_OUTPUTS / "validation" / f"{scenario.name}-from{start}"
    from reports.fit_figures import validation_files

    write_validation(result, out_dir, args.observed, add_files=validation_files)
    skipped = result.table[result.table["result"] == "skipped"]
    for reason, count in skipped["reason"].value_counts().items():
        print(f"skipped {count}: {reason}")
    worst = worst_rows(result.table)
    if len(worst):
        print("largest relative errors:")
        for row in worst.itertuples(index=False):
            print(
                f"  {row.unit:>8} {row.indicator:<24} {row.year}  observed {figure(row.observed):>14}  "
                f"simulated {figure(row.simulated_mean):>14}  ({100 * row.relative_error:+.1f}%)"
            )
    print(f"after the start year ({start}): {result.after_start.line()}")
    later = result.after_start
    print(
        f"intervals: {result.interval_kind}; it holds the observed value of {later.within_interval} of {later.rows} rows"
    )
    print(f"wrote {out_dir}/ (validation.csv, summary.json, validation.png, validation.svg)")
    print(f"validation: {result.summary.line()}")
    return 0


def _calibrate(args: argparse.Namespace) -> int:
    from experiments.calibration.calibrate import calibrate, load_config, quick
    from reports.fit_figures import calibration_files

    _check_runner_options(args)
    config = load_config(args.config)
    if args.quick:
        config = quick(config)
    out_dir = args.out or DEFAULT_OUTPUTS / "calibration" / config.name
    workers = args.workers
    if workers is None and args.scheduler is None:
        workers = min(_cpus(), config.replicates * getattr(config.method, "population", 1))
    result = calibrate(
        config,
        out_dir,
        write_layer=not (args.no_layer or args.quick),
        log=print,
        workers=workers,
        scheduler=args.scheduler,
        add_files=calibration_files,
    )
    print(f"calibration: {result.line()}")
    return 0


def _profile(args: argparse.Namespace) -> int:
    from experiments.calibration.calibrate import load_config
    from experiments.calibration.profile import ProfileRequest, profile

    _check_runner_options(args)
    config = load_config(args.config)
    request = ProfileRequest(
        args.parameter, tuple(args.values), tuple(args.refit), args.evaluations, args.fresh_sets
    )
    out_dir = args.out or DEFAULT_OUTPUTS / "profile" / f"{config.name}-{args.parameter}"
    workers = args.workers
    if workers is None and args.scheduler is None:
        workers = min(_cpus(), config.replicates * 4)
    profile(config, request, out_dir, log=print, workers=workers, scheduler=args.scheduler)
    print(f"wrote {out_dir}/profile.csv")
    return 0


def _score(args: argparse.Namespace) -> int:
    from experiments.calibration.calibrate import load_config
    from experiments.calibration.profile import score

    _check_runner_options(args)
    config = load_config(args.config)
    for layer in args.layers:
        if not layer.is_file():
            raise ScenarioError(f"command line: LAYER: value {str(layer)!r}: no such file")
    workers = args.workers
    if workers is None and args.scheduler is None:
        workers = min(_cpus(), config.replicates * len(args.layers))
    table = score(config, args.layers, workers=workers, scheduler=args.scheduler)
    out_dir = args.out or DEFAULT_OUTPUTS / "score" / config.name
    with files.staging_dir(out_dir) as stage:
        files.write_csv(stage / "score.csv", table)
    print(f"wrote {out_dir}/score.csv")
    sets = [c for c in table.columns if c.startswith("set ")]
    for _, row in table.iterrows():
        each = " ".join(f"{row[s]:.5f}" for s in sets)
        print(
            f"{row['layer']}: loss {row['loss_mean']:.5f} (sd {row['loss_sd']:.5f}) on {len(sets)} fresh seed sets: {each}"
        )
    return 0


def _cpus() -> int:
    return os.cpu_count() or 1


# --- sweeps -------------------------------------------------------------------------------------


def _sweep(args: argparse.Namespace) -> int:
    _check_runner_options(args)
    experiment = load_experiment(args.experiment)
    store = args.store or DEFAULT_STORES / experiment.name
    from reports.exploration_figures import sensitivity_files, summary_files

    report = run_sweep(
        experiment,
        store,
        workers=args.workers,
        scheduler=args.scheduler,
        max_tasks_per_child=args.recycle_after,
    )
    summary_files(report.store, experiment)
    indices = report.store / "sensitivity.csv"
    if experiment.design.kind in ("sobol", "morris") and indices.is_file():
        sensitivity_files(report.store, pd.read_csv(indices))
    sys.stderr.flush()
    print(f"results: {report.store / 'results.parquet'}")
    print(report.last_line(), flush=True)
    return 0 if not report.failures else 1


def _sensitivity(args: argparse.Namespace) -> int:
    from reports.exploration_figures import sensitivity_files

    table = write_sensitivity(args.store, args.years)
    sensitivity_files(args.store, table)
    if table.empty:
        print("sensitivity: no output varies over the design")
        return 0
    last = table[table["year"] == table.groupby("indicator")["year"].transform("max")]
    shown = last[last["index"].isin(["S1", "ST", "mu_star", "sigma"])]
    wide = shown.pivot_table(
        index=["indicator", "year", "input"], columns="index", values="value", sort=False
    )
    with pd.option_context("display.width", 160, "display.max_rows", 200):
        print(wide.round(3).to_string())
    return 0


def _discover(args: argparse.Namespace) -> int:
    from reports.exploration_figures import discovery_files

    found = discover_store(args.store, parse_target(args.target), args.threshold, args.boxes)
    discovery_files(args.store, found)
    print(f"discover: {found.target}: {found.of_interest} of {found.cases} runs")
    for number, box in found.boxes.groupby("box"):
        first = box.iloc[0]
        flag = "" if first["meets_threshold"] else f" (density below {args.threshold:g})"
        print(
            f"box {number}: coverage {first['coverage']:.2f}, density {first['density']:.2f}, "
            f"mass {first['mass']:.2f}{flag}"
        )
        for _, row in box.dropna(subset=["input"]).iterrows():
            print(
                f"  {row['input']}: {row['lower']:g} to {row['upper']:g}  "
                f"(of {row['range_lower']:g} to {row['range_upper']:g})"
            )
    print(f"wrote {args.store / 'discovery.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
