"""The ``jjj-talent`` command.

    jjj-talent run SCENARIO.yaml [--seed N] [--scale N] [--start YEAR] [--end YEAR] [--out DIR]
    jjj-talent compare A.yaml B.yaml [...] --replicates N [--workers N] [--out DIR]
    jjj-talent validate SCENARIO.yaml --observed FILE.csv [--from YEAR] [--replicates N] [--out DIR]
    jjj-talent calibrate CONFIG.yaml [--out DIR] [--no-layer]
    jjj-talent sweep EXPERIMENT.yaml [--store DIR] [--workers N] [--scheduler tcp://HOST:PORT]
    jjj-talent sensitivity STORE    jjj-talent discover STORE TARGET
    jjj-talent show SCENARIO.yaml   the resolved scenario and what it changes of its parent
    jjj-talent schema            JSON Schema of scenario files
    jjj-talent parameters        behavioural parameters with units, bounds and sources
    jjj-talent levers            policy levers with plan sections, units, bounds and mechanisms

Bad input ends with a one-paragraph message on stderr and exit status 2; nothing is written.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import yaml

from experiments.compare import add_compare_command
from experiments.sweep import add_commands as add_sweep_commands
from experiments.validate import add_commands as add_validation_commands
from model.errors import JJJError, ScenarioError
from model.levers import LEVERS
from model.parameters import PARAMETERS
from model.scenario import differences, json_schema, load_scenario, parent_file
from model.simulation import TalentModel

DEFAULT_OUTPUTS = Path("outputs")


def main(argv: list[str] | None = None) -> int:
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
    parser = argparse.ArgumentParser(prog="jjj-talent", description="Talent flows across Beijing, Tianjin and Hebei, 2010-2030.")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run one scenario and write its report")
    run.add_argument("scenario", type=Path, help="scenario file (YAML)")
    run.add_argument("--seed", type=int, help="random seed (default: the scenario's)")
    run.add_argument("--scale", type=int, help="persons per talent row; 1 simulates everyone (default: the scenario's)")
    run.add_argument("--start", type=int, dest="start_year", help="base year, 2010 or 2015 (default: the scenario's)")
    run.add_argument("--end", type=int, dest="end_year", help="last year, at most 2030 (default: the scenario's)")
    run.add_argument("--out", type=Path, help="output folder (default: outputs/<scenario name>)")
    run.add_argument("--no-report", action="store_true", help="write tables only, no charts or report")
    run.set_defaults(handler=_run)

    show = commands.add_parser("show", help="print a resolved scenario and its difference from its parent")
    show.add_argument("scenario", type=Path, help="scenario file (YAML)")
    show.set_defaults(handler=_show)

    schema = commands.add_parser("schema", help="print the JSON Schema of scenario files")
    schema.set_defaults(handler=lambda args: print(json.dumps(json_schema(), indent=2, ensure_ascii=False)))

    parameters = commands.add_parser("parameters", help="list behavioural parameters")
    parameters.set_defaults(handler=_list_parameters)

    levers = commands.add_parser("levers", help="list the plan's policy levers")
    levers.set_defaults(handler=_list_levers)

    add_compare_command(commands)
    add_validation_commands(commands)  # validate, calibrate
    add_sweep_commands(commands)  # sweep, sensitivity, discover
    return parser


def _run(args: argparse.Namespace) -> int:
    from experiments.run import run_scenario  # keeps `schema` and `levers` quick

    scenario = load_scenario(args.scenario)
    overrides = {key: getattr(args, key) for key in ("scale", "start_year", "end_year")
                 if getattr(args, key) is not None}
    if overrides:
        scenario = scenario.with_overrides(overrides, source="command line")
    if args.seed is not None and args.seed < 0:
        raise ScenarioError(f"command line: --seed: value {args.seed}: must be a whole number >= 0")
    out_dir = args.out or DEFAULT_OUTPUTS / scenario.name
    started = time.perf_counter()
    result = run_scenario(scenario, out_dir, seed=args.seed, progress=_progress(started),
                          report=not args.no_report)
    manifest = result.manifest
    print(f"wrote {out_dir}/ ({manifest['agent_rows']:,} talent rows, {manifest['wall_seconds']:.1f} s simulated, "
          f"{time.perf_counter() - started:.1f} s in all)")
    if not args.no_report:
        print(f"report: {out_dir / 'report.html'}")
    return 0


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


def _progress(started: float):  # type: ignore[no-untyped-def]
    def show(year: int, end_year: int, model: TalentModel) -> None:
        persons = model.talents.persons
        print(f"  {year}/{end_year}  {persons / 1e6:6.2f} M talents  {len(model.talents):>11,} rows  "
              f"{time.perf_counter() - started:6.1f} s", file=sys.stderr, flush=True)
    return show


def _list_parameters(args: argparse.Namespace) -> None:
    for p in PARAMETERS.values():
        print(f"{p.name:32} {p.default:<10g} {p.unit:28} [{p.lower:g}, {p.upper:g}]\n    {p.meaning}\n    source: {p.source}")


def _list_levers(args: argparse.Namespace) -> None:
    for lever in LEVERS.values():
        defaults = {kind: list(getattr(lever, f"default_{kind}")) for kind in lever.targets}
        print(f"{lever.name}  (plan {lever.section})  {lever.unit}, {lever.lower:g} to {lever.upper:g}\n"
              f"    {lever.meaning}\n"
              f"    mechanism: {lever.mechanism}\n"
              f"    spending: {lever.spending}"
              + (f" ({lever.unit_cost_cny:,.0f} CNY a unit: {lever.cost_basis})" if lever.unit_cost_cny else "")
              + f"\n    targets: {defaults or 'none'}\n")


if __name__ == "__main__":
    sys.exit(main())
