"""Which inputs matter: Sobol' and Morris indices of a sweep's outputs, per output and year.

    jjj-talent sensitivity STORE [--year YEAR ...]

Reads a store written by ``jjj-talent sweep`` whose design is ``sobol`` or ``morris``
(experiments/sweeps/design.py) and writes ``sensitivity.csv`` beside the results (the command
draws the chart, reports/exploration_figures.py):

- Sobol' (``SALib.analyze.sobol``, Saltelli's scheme): first-order ``S1`` and total-order ``ST``
  indices with the half-width of their 95 % bootstrap confidence intervals (``S1_conf``,
  ``ST_conf``), and ``S2`` when the design has second order.
- Morris (``SALib.analyze.morris``): ``mu``, ``mu_star`` (with ``mu_star_conf``) and ``sigma`` of
  the elementary effects.

The model's output at a design point is the mean over its replicates (common random numbers
across points), so the indices describe the expected output; run-to-run noise that replicates do
not average out shows as extra, spurious variance. Outputs that do not vary over the design (the
base year, say) have no indices and are left out.

``ishigami`` is the classic test function with known indices (``ISHIGAMI_INDICES``); an
experiment that names it as its ``function`` (``experiments/ishigami.yaml``) goes through the
same sweep, store and analysis as the model.
"""

from __future__ import annotations

import json
import math
import sys
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from experiments import files
from model.errors import JJJError, ScenarioError

METHODS = ("sobol", "morris")
CONF_LEVEL = 0.95
RESAMPLES = 200
ANALYSIS_SEED = 1  # bootstrap resampling: the same store gives the same intervals

_A, _B = 7.0, 0.1
_VARIANCE = _A**2 / 8 + _B * math.pi**4 / 5 + _B**2 * math.pi**8 / 18 + 0.5
_V1 = 0.5 * (1 + _B * math.pi**4 / 5) ** 2
_V2 = _A**2 / 8
_VT3 = 8 * _B**2 * math.pi**8 / 225
ISHIGAMI_INDICES = {  # input: (S1, ST), Ishigami and Homma (1990), a = 7, b = 0.1
    "x1": (_V1 / _VARIANCE, (_V1 + _VT3) / _VARIANCE),
    "x2": (_V2 / _VARIANCE, _V2 / _VARIANCE),
    "x3": (0.0, _VT3 / _VARIANCE),
}


def ishigami(inputs: Mapping[str, float], seed: int) -> pd.DataFrame:
    """F = sin x1 + 7 sin^2 x2 + 0.1 x3^4 sin x1 on [-pi, pi]^3 (deterministic: ``seed`` is
    ignored); one indicator ``y`` in year 0."""
    x1, x2, x3 = (float(inputs[name]) for name in ("x1", "x2", "x3"))
    y = math.sin(x1) + _A * math.sin(x2) ** 2 + _B * x3**4 * math.sin(x1)
    return pd.DataFrame({"year": [0], "indicator": ["y"], "value": [y]})


# --- analysis ----------------------------------------------------------------------------------


def analyse(
    method: str,
    problem: dict[str, Any],
    samples: np.ndarray,
    outputs: pd.DataFrame,
    options: Mapping[str, Any],
) -> pd.DataFrame:
    """Indices of every output column of ``outputs`` for every year.

    Args:
        method: ``sobol`` or ``morris``.
        problem: SALib's problem (``Design.problem``).
        samples: the design's raw sample matrix, one row a point, in design order.
        outputs: one row per (point, year): columns ``point``, ``year`` and one per output,
            already averaged over replicates.
        options: the design's options (``second_order`` for Sobol', ``levels`` for Morris).

    Returns:
        A long table: method, indicator, year, input, index, value, conf (the half-width of the
        95 % interval, where SALib gives one).
    """
    from SALib.analyze import morris, sobol

    if method not in METHODS:
        raise ScenarioError(f"sensitivity: design {method!r} has no indices; allowed: {', '.join(METHODS)}")
    names = problem["names"]
    rows: list[dict[str, Any]] = []
    n_points = samples.shape[0]
    for name in [c for c in outputs.columns if c not in ("point", "year")]:
        for year, frame in outputs.groupby("year", sort=True):
            y = frame.set_index("point")[name].reindex(range(n_points)).to_numpy(float)
            if np.isnan(y).any():
                missing = int(np.isnan(y).sum())
                raise JJJError(
                    f"{name} in {year}: {missing} of {n_points} design points have no finished "
                    "run; sweep again (failed runs are retried) before computing indices"
                )
            if np.ptp(y) == 0:
                continue  # no variance to apportion
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                if method == "sobol":
                    second = bool(options.get("second_order", False))
                    found = sobol.analyze(
                        problem,
                        y,
                        calc_second_order=second,
                        num_resamples=RESAMPLES,
                        conf_level=CONF_LEVEL,
                        seed=ANALYSIS_SEED,
                    )
                    for j, item in enumerate(names):
                        rows += [
                            _row(method, name, year, item, "S1", found["S1"][j], found["S1_conf"][j]),
                            _row(method, name, year, item, "ST", found["ST"][j], found["ST_conf"][j]),
                        ]
                        if second:
                            rows += [
                                _row(
                                    method,
                                    name,
                                    year,
                                    item,
                                    f"S2:{other}",
                                    found["S2"][j][k],
                                    found["S2_conf"][j][k],
                                )
                                for k, other in enumerate(names)
                                if k > j
                            ]
                else:
                    found = morris.analyze(
                        problem,
                        samples,
                        y,
                        num_resamples=RESAMPLES,
                        conf_level=CONF_LEVEL,
                        num_levels=int(options.get("levels", 4)),
                        seed=ANALYSIS_SEED,
                    )
                    for j, item in enumerate(names):
                        rows += [
                            _row(method, name, year, item, "mu", found["mu"][j], math.nan),
                            _row(
                                method,
                                name,
                                year,
                                item,
                                "mu_star",
                                found["mu_star"][j],
                                found["mu_star_conf"][j],
                            ),
                            _row(method, name, year, item, "sigma", found["sigma"][j], math.nan),
                        ]
    return pd.DataFrame(rows, columns=["method", "indicator", "year", "input", "index", "value", "conf"])


def _row(
    method: str, indicator: str, year: Any, item: str, index: str, value: float, conf: float
) -> dict[str, Any]:
    return {
        "method": method,
        "indicator": indicator,
        "year": int(year),
        "input": item,
        "index": index,
        "value": float(value),
        "conf": float(conf),
    }


def store_indices(store: Path, years: list[int] | None = None) -> pd.DataFrame:
    """The indices of a sweep store (its experiment, design and results files)."""
    store = Path(store)
    try:
        experiment = json.loads((store / "experiment.json").read_text(encoding="utf-8"))
        with open(store / "design.parquet", "rb") as handle:
            design = pd.read_parquet(handle)
        with open(store / "results.parquet", "rb") as handle:
            results = pd.read_parquet(handle)
    except FileNotFoundError as err:
        raise ScenarioError(
            f"{store}: not a finished sweep store (no {Path(err.filename).name}); "
            "allowed: a folder written by `jjj-talent sweep`"
        ) from None
    method = experiment["design"]["kind"]
    if method not in METHODS:
        raise ScenarioError(
            f"{store}: design {method!r} has no sensitivity indices; allowed: sobol or morris "
            "designs (experiments/sweeps/design.py)"
        )
    names = [item["path"] for item in experiment["inputs"]]
    problem = {
        "num_vars": len(names),
        "names": names,
        "bounds": [
            [item["lower"], item["upper"]] if item["values"] is None else [0.0, 1.0]
            for item in experiment["inputs"]
        ],
    }
    points = design.drop_duplicates("point").sort_values("point")
    samples = points[[f"sample.{name}" for name in names]].to_numpy(float)
    wanted = list(experiment["outputs"]["indicators"])
    if years:
        absent = sorted(set(years) - set(results["year"]))
        if absent:
            raise ScenarioError(
                f"command line: --year: value {absent[0]}: not in the results; allowed: "
                f"{', '.join(map(str, sorted(results['year'].unique())))}"
            )
        results = results[results["year"].isin(years)]
    means = results.groupby(["point", "year"], as_index=False)[wanted].mean()
    return analyse(method, problem, samples, means, experiment["design"])


def write_sensitivity(
    store: Path, years: list[int] | None = None, log: IO[str] | None = None
) -> pd.DataFrame:
    """``sensitivity.csv`` in the store."""
    log = log or sys.stderr
    table = store_indices(store, years)
    files.write_csv(Path(store) / "sensitivity.csv", table)
    log.write(f"sensitivity: {len(table)} indices in {Path(store) / 'sensitivity.csv'}\n")
    return table
