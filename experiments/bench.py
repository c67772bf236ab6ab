"""Benchmark: the baseline at its default scale and at full scale (every person a row).

    python -m experiments.bench [--scales 100 1] [--scenario scenarios/baseline.yaml] [--repeat 1]

Each scale runs in its own process so that its peak memory (maximum resident set size) is its
own. Prints, per scale: talent rows at the end, agent-steps per second (talent rows at each
simulated year's end, summed, over the seconds of the model run), model seconds (what the
manifest records as ``wall_seconds``: the model built, run and its tables and indicators made),
the seconds for imports (numba's set-up and the loading of the compiled kernels among them:
``model.kernels`` loads them when imported, about 0.6-1 s; before, the first run of a process
paid it in its model seconds) and for writing the run's files beside it, and peak memory; each with
its ratio to the figures measured before the speed-up of issue 9 (``PREVIOUS``). Writes them to
``outputs/bench/bench.json``. With ``--repeat N`` each scale runs N times (fresh processes) and
the fastest run is reported: the machine may be shared, and the best run is the least disturbed.
With ``--profile N`` each scale's model run (``simulate``, imports done before) runs once more
under cProfile, its time not counted with the others, and the N functions with the most own time
are printed.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STARTED = time.perf_counter()  # before the project's imports, to time them

from experiments import files as io  # noqa: E402  (after STARTED, on purpose)

DEFAULT_SCENARIO = Path("scenarios/baseline.yaml")

PREVIOUS: dict[int, dict[str, float | None]] = {
    # Issue 9, measured on main before the speed-up (2 cores, one run at a time), baseline
    # 2015 -> 2030: model seconds and peak memory (MiB) per scale.
    100: {"model_seconds": 2.7, "peak_memory_mib": None},
    1: {"model_seconds": 156.5, "peak_memory_mib": 3.1 * 1024},  # 151-162 s, 3.1 GiB
}
TARGETS: dict[int, dict[str, float]] = {
    100: {"model_seconds": 1.0},
    1: {"model_seconds": 30.0, "peak_memory_mib": 3 * 1024},
}  # issue 9


def measure(scenario_path: Path, scale: int) -> dict:
    """Run the scenario in this process, write its files to a scratch folder, return the figures."""
    from experiments.run import make_manifest, write_tables
    from model.scenario import load_scenario
    from model.simulation import simulate

    imported = time.perf_counter() - STARTED
    scenario = load_scenario(scenario_path).with_overrides({"scale": scale}, source="bench")
    tables, model, simulated = simulate(scenario)
    started = time.perf_counter()
    manifest = make_manifest(scenario, model, simulated)
    with tempfile.TemporaryDirectory() as folder:
        write_tables(Path(folder), tables, model, manifest)
    written = time.perf_counter() - started
    return {
        "scale": scale,
        "years": scenario.end_year - scenario.start_year,
        "agent_rows_end": len(model.talents),
        "agent_steps": model.agent_steps,
        "agent_steps_per_second": round(model.agent_steps / simulated),
        "model_seconds": round(simulated, 3),
        "import_seconds": round(imported, 2),
        "write_seconds": round(written, 2),
        "peak_memory_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def _ratio(now: float, before: float | None) -> str:
    return f"(speed-up x{before / now:.2f} on issue 9's figure)" if before else "(no previous figure)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[100, 1])
    parser.add_argument("--scenario", type=Path, default=DEFAULT_SCENARIO)
    parser.add_argument("--repeat", type=int, default=1, help="runs per scale; the fastest is reported")
    parser.add_argument(
        "--profile", type=int, metavar="N", help="also profile one run per scale; print its top N functions"
    )
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # child process: one scale
    args = parser.parse_args(argv)
    if args.one is not None and args.profile:  # the model's run alone: imports done before
        from model.scenario import load_scenario
        from model.simulation import simulate

        scenario = load_scenario(args.scenario).with_overrides({"scale": args.one}, source="bench")
        profile = cProfile.Profile()
        profile.runcall(simulate, scenario)
        pstats.Stats(profile, stream=sys.stdout).sort_stats("tottime").print_stats(args.profile)
        return 0
    if args.one is not None:
        print(json.dumps(measure(args.scenario, args.one)))
        return 0
    results = []
    for scale in args.scales:
        runs = []
        for attempt in range(max(args.repeat, 1)):
            print(f"scale {scale}: run {attempt + 1} of {args.repeat}...", file=sys.stderr, flush=True)
            child = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "experiments.bench",
                    "--scenario",
                    str(args.scenario),
                    "--one",
                    str(scale),
                ],
                capture_output=True,
                text=True,
            )
            if child.returncode != 0:
                print(child.stderr, file=sys.stderr)
                return child.returncode
            runs.append(json.loads(child.stdout.strip().splitlines()[-1]))
        result = min(runs, key=lambda r: r["model_seconds"])
        result["runs"] = len(runs)
        result["model_seconds_all"] = [r["model_seconds"] for r in runs]
        previous, target = PREVIOUS.get(scale, {}), TARGETS.get(scale, {})
        result["previous"], result["target"] = previous, target
        results.append(result)
        memory_before = previous.get("peak_memory_mib")
        print(
            f"scale {scale:>4}: {result['agent_rows_end']:>12,} rows  "
            f"{result['agent_steps_per_second']:>12,} agent-steps/s  "
            f"{result['model_seconds']:>8.2f} s model {_ratio(result['model_seconds'], previous.get('model_seconds'))}"
            f" (target {target.get('model_seconds', '-')} s)  "
            f"+ {result['import_seconds']:.1f} s imports (compiled kernels loaded), "
            f"{result['write_seconds']:.1f} s writing  "
            f"{result['peak_memory_mib']:>7,} MiB peak"
            + (
                f" (was {memory_before:,.0f}; target {target.get('peak_memory_mib', '-')})"
                if memory_before
                else ""
            )
        )
    io.write_json(Path("outputs/bench/bench.json"), results)
    for scale in args.scales if args.profile else []:
        print(f"scale {scale}: the {args.profile} functions with the most own time (cProfile, one more run):")
        child = subprocess.run(
            [sys.executable, "-m", "experiments.bench", "--scenario", str(args.scenario)]
            + ["--one", str(scale), "--profile", str(args.profile)],
            capture_output=True,
            text=True,
        )
        print(child.stdout if child.returncode == 0 else child.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
