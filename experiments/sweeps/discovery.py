"""Scenario discovery: which ranges of the varied inputs lead to an outcome of interest.

    jjj-talent discover STORE --target "hebei_share >= 0.45 in 2030" [--threshold 0.8] [--boxes N]

Each run of a sweep store is a case; the target marks the runs of interest (``INDICATOR OP VALUE
in YEAR``, OP one of ``>= > <= <``). PRIM (Friedman and Fisher 1999) peels the input space down to
boxes where such runs are dense, as EMA Workbench's ``ema_workbench.analysis.prim`` implements it
(version 2.5.3, which installs and runs on Python 3.11). Each box is reported at the point of its
peeling trajectory with the highest coverage among those whose density reaches ``threshold``
(the last, densest point if none does), with:

- coverage: the share of all runs of interest that fall in the box;
- density: the share of the runs in the box that are of interest;
- mass: the share of all runs in the box;
- for each input the box restricts, its lower and upper limit (and the input's full range).

Writes ``discovery.csv`` (boxes) and ``discovery_trajectory.csv`` into the store; the command
draws the trade-off between coverage and density (reports/exploration_figures.py).
"""

from __future__ import annotations

import json
import logging
import operator
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments import files
from model.errors import ScenarioError

OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
}
_TARGET = re.compile(
    r"^\s*([A-Za-z_][\w.]*)\s*(>=|<=|>|<)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
    r"\s+in\s+(\d+)\s*$"
)


@dataclass(frozen=True)
class Target:
    """Runs of interest: ``indicator`` compared with ``value`` in ``year``."""

    indicator: str
    comparison: str
    value: float
    year: int

    def __str__(self) -> str:
        return f"{self.indicator} {self.comparison} {self.value:g} in {self.year}"

    def of_interest(self, results: pd.DataFrame) -> pd.Series:
        """Per run (index ``run``), whether it meets the target."""
        rows = results[results["year"] == self.year].set_index("run")[self.indicator]
        return OPERATORS[self.comparison](rows, self.value)


def parse_target(text: str, where: str = "--target") -> Target:
    found = _TARGET.match(text)
    if not found:
        raise ScenarioError(
            f"{where}: value {text!r}: not a target; allowed: 'INDICATOR OP VALUE in YEAR' "
            f"with OP one of {', '.join(OPERATORS)}, e.g. 'hebei_share >= 0.45 in 2030'"
        )
    name, comparison, value, year = found.groups()
    return Target(name, comparison, float(value), int(year))


@dataclass(frozen=True)
class Discovery:
    """PRIM's boxes and peeling trajectories.

    Attributes:
        boxes: one row a (box, restricted input): box, coverage, density, mass, input, lower,
            upper, range_lower, range_upper, meets_threshold.
        trajectory: every step of every box's peeling and pasting: box, step, coverage,
            density, mass, res_dim.
        cases, of_interest: runs in all and runs meeting the target.
    """

    target: Target
    boxes: pd.DataFrame
    trajectory: pd.DataFrame
    cases: int
    of_interest: int


def discover(
    results: pd.DataFrame,
    inputs: list[str],
    target: Target,
    threshold: float = 0.8,
    boxes: int = 1,
    peel_alpha: float = 0.05,
    mass_min: float = 0.05,
) -> Discovery:
    """PRIM boxes over ``inputs`` for the runs of ``results`` that meet ``target``."""
    if target.indicator not in results.columns:
        raise ScenarioError(
            f"--target: value {target.indicator!r}: not an output of this sweep; allowed: "
            + ", ".join(
                c for c in results.columns if c not in ("run", "point", "replicate", "seed", "year", *inputs)
            )
        )
    if target.year not in set(results["year"]):
        raise ScenarioError(
            f"--target: year {target.year}: not in the results; allowed: "
            + ", ".join(map(str, sorted(results["year"].unique())))
        )
    if not 0 < threshold <= 1:
        raise ScenarioError(f"--threshold: value {threshold}: must be a density between 0 and 1")
    interest = target.of_interest(results)
    cases = results[results["year"] == target.year].set_index("run")[inputs].loc[interest.index]
    varied = [name for name in inputs if cases[name].nunique() > 1]
    y = interest.to_numpy(bool)
    if not y.any() or y.all():
        raise ScenarioError(
            f"--target: {target}: {'no' if not y.any() else 'every'} run of {len(y)} meets it, "
            "so there is nothing to tell apart; allowed: a target some runs meet and others not"
        )
    if not varied:
        raise ScenarioError("the sweep varies no input: PRIM has nothing to restrict")
    prim = _prim_module()
    x = cases[varied].reset_index(drop=True).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        algorithm = prim.Prim(x, y, threshold=threshold, peel_alpha=peel_alpha, mass_min=mass_min)
        box_rows: list[dict[str, Any]] = []
        trajectories = []
        for number in range(1, boxes + 1):
            box = algorithm.find_box()
            if box is None:
                break
            trajectory = box.peeling_trajectory.reset_index(drop=True)
            if len(trajectory) <= 1 and number > 1:
                break  # only the dump box is left
            good = trajectory[trajectory["density"] >= threshold]
            chosen = int(good["coverage"].idxmax()) if len(good) else int(trajectory["density"].idxmax())
            box.select(chosen)
            trajectories.append(
                trajectory.assign(box=number, step=np.arange(len(trajectory)))[
                    ["box", "step", "coverage", "density", "mass", "res_dim"]
                ]
            )
            stats = trajectory.loc[chosen]
            limits = box.box_lims[chosen]
            restricted = [
                name
                for name in varied
                if limits[name].iloc[0] > x[name].min() or limits[name].iloc[1] < x[name].max()
            ]
            rows: list[str | None] = list(restricted) or [None]  # a box restricting nothing: one row
            for name in rows:
                box_rows.append(
                    {
                        "box": number,
                        "coverage": float(stats["coverage"]),
                        "density": float(stats["density"]),
                        "mass": float(stats["mass"]),
                        "input": name,
                        "lower": float(limits[name].iloc[0]) if name else np.nan,
                        "upper": float(limits[name].iloc[1]) if name else np.nan,
                        "range_lower": float(x[name].min()) if name else np.nan,
                        "range_upper": float(x[name].max()) if name else np.nan,
                        "meets_threshold": bool(len(good)),
                    }
                )
            if not len(good):
                break
    return Discovery(
        target,
        pd.DataFrame(
            box_rows,
            columns=[
                "box",
                "coverage",
                "density",
                "mass",
                "input",
                "lower",
                "upper",
                "range_lower",
                "range_upper",
                "meets_threshold",
            ],
        ),
        pd.concat(trajectories, ignore_index=True) if trajectories else pd.DataFrame(),
        len(y),
        int(y.sum()),
    )


def _prim_module() -> Any:
    with warnings.catch_warnings():  # it warns about optional parts (ipyparallel) it does not need here
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim
    logging.getLogger("EMA").setLevel(logging.WARNING)
    return prim


def discover_store(store: Path, target: Target, threshold: float = 0.8, boxes: int = 1) -> Discovery:
    """PRIM over a sweep store's results; writes discovery.csv and its trajectory."""
    store = Path(store)
    try:
        experiment = json.loads((store / "experiment.json").read_text(encoding="utf-8"))
        with open(store / "results.parquet", "rb") as handle:
            results = pd.read_parquet(handle)
    except FileNotFoundError as err:
        raise ScenarioError(
            f"{store}: not a finished sweep store (no {Path(err.filename).name}); "
            "allowed: a folder written by `jjj-talent sweep`"
        ) from None
    found = discover(results, [item["path"] for item in experiment["inputs"]], target, threshold, boxes)
    files.write_csv(store / "discovery.csv", found.boxes.assign(target=str(target)))
    files.write_csv(store / "discovery_trajectory.csv", found.trajectory)
    return found
