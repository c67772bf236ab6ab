"""Benchmark: the baseline at its default scale and at full scale (every person a row).

    python -m experiments.bench [--scales 100 1] [--scenario scenarios/baseline.yaml]

Each scale runs in its own process so that its peak memory (maximum resident set size) is its
own. Prints, per scale: talent rows at the end, agent-steps per second (rows x years / seconds
of simulation), wall time and peak memory; writes them to ``outputs/bench/bench.json``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from experiments import files as io

DEFAULT_SCENARIO = Path("scenarios/baseline.yaml")


def measure(scenario_path: Path, scale: int) -> dict:
    """Run the scenario in this process (tables only) and return its figures."""
    from model.simulation import simulate
    from model.scenario import load_scenario

    scenario = load_scenario(scenario_path).with_overrides({"scale": scale}, source="bench")
    rows: list[int] = []
    started = time.perf_counter()
    _, model, simulated = simulate(scenario, progress=lambda year, end, m: rows.append(len(m.talents)))
    return {
        "scale": scale,
        "years": scenario.end_year - scenario.start_year,
        "agent_rows_end": len(model.talents),
        "agent_steps_per_second": round(sum(rows) / simulated),
        "simulate_seconds": round(simulated, 2),
        "wall_seconds": round(time.perf_counter() - started, 2),
        "peak_memory_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[100, 1])
    parser.add_argument("--scenario", type=Path, default=DEFAULT_SCENARIO)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # child process: one scale
    args = parser.parse_args(argv)
    if args.one is not None:
        print(json.dumps(measure(args.scenario, args.one)))
        return 0
    results = []
    for scale in args.scales:
        print(f"scale {scale}: running...", file=sys.stderr, flush=True)
        child = subprocess.run([sys.executable, "-m", "experiments.bench", "--scenario", str(args.scenario),
                                "--one", str(scale)], capture_output=True, text=True)
        if child.returncode != 0:
            print(child.stderr, file=sys.stderr)
            return child.returncode
        result = json.loads(child.stdout.strip().splitlines()[-1])
        results.append(result)
        print(f"scale {scale:>4}: {result['agent_rows_end']:>12,} rows  "
              f"{result['agent_steps_per_second']:>12,} agent-steps/s  "
              f"{result['simulate_seconds']:>8.1f} s simulated  {result['wall_seconds']:>8.1f} s wall  "
              f"{result['peak_memory_mib']:>7,} MiB peak")
    io.write_json(Path("outputs/bench/bench.json"), results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
