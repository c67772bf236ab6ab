"""Profiles of the fit's loss: do the data up to 2015 pin a parameter down?

    jjj-talent profile CONFIG.yaml --parameter NAME --values V [V ...] [--refit NAME ...]

A fitted value is only as good as the loss's curvature around it. The profile of parameter k
holds it at each value v in turn, refits the parameters it trades off against (``--refit``,
the rest stay at the shipped fit) and reports the loss that remains:

    L_k(v) = min over theta_R of L(theta),   theta_k = v,   theta_j = fitted value (j not in R)

with L the calibration's loss (``calibrate.py``: sum of weight x squared log error over the
config's targets). k may also be a parameter the config does not fit (an assumed one, at its
declared default or the value the config's scenario gives it): it is then held at each value
and at that assumed value, within its declared bounds, with every fitted parameter at the
shipped fit but those refitted; so a judgement can be put to the data up to 2015 the same way.
The refit is CMA-ES (the calibration's own search) on the fit's seeds, from the fitted values,
within the config's search intervals; its best is then evaluated on fresh sets of seeds that no
search saw (``calibrate.fresh_seed_sets``, the same sets the fit was judged on), so every
value is judged on the same seeds and the rows are comparable. The loss
is not a likelihood: read each value's rise over the fitted value's loss, set by set (every
value meets the same seeds), against that rise's spread across the sets: a rise of many
spreads means the targets up to 2015 reject the value; a rise within a spread or two means
they cannot tell it from the fit, and the value rests on its search interval (the published
evidence the config cites).

Output, in ``--out`` (default ``outputs/profile/<config>-<parameter>/``): ``profile.csv``, one row a
value: the value, whether it is the fitted one (``fitted``; for an assumed parameter, the
value the scenario runs it at), the best loss on the fit seeds, the mean loss on
the fresh sets, the mean rise over the fitted value's and its spread (``rise``, ``rise_sd``),
each target group's part of the mean loss (``loss:<group>``) and the refitted values; and each
row's whole parameter vector as a one-draw ensemble file, ``<parameter>=<value>.csv``, so that
``jjj-talent compare A.yaml B.yaml --ensemble <that file>`` measures an effect at that point of
the profile (how much an answer hangs on what the data leave open). Profiles are diagnostics:
they write no layer and change no scenario.

``score`` (``jjj-talent score CONFIG LAYER ...``) judges whole fitted layers the same way: each
layer's values of the config's parameters on the fit's fresh seed sets, the loss set by set, so
that fits of other rounds or configs compare on seeds none of their searches ran on.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from experiments import files
from experiments.calibration.calibrate import (
    CalibrationConfig,
    CmaEs,
    Problem,
    fit,
    fresh_seed_sets,
    loss_terms,
    problem_from,
    root_seed,
)
from experiments.files import staging_dir
from experiments.runner import open_pool
from model.errors import ScenarioError
from model.parameters import PARAMETERS
from model.scenario import load_scenario

REFIT_POPULATION = 8
"""Candidates a generation of the refit (one batch)."""
REFIT_SIGMA0 = 0.3
"""The refit's first step in transformed units: it starts at the fit, so smaller than the fit's 0.6."""


@dataclass(frozen=True)
class ProfileRequest:
    """What to profile: a parameter (fitted by the config, or any other declared one) at
    ``values``, refitting ``refit`` (none: only the one parameter moves) with at most
    ``evaluations`` candidates a value, judged on ``fresh_sets`` fresh seed sets."""

    parameter: str
    values: tuple[float, ...]
    refit: tuple[str, ...] = ()
    evaluations: int = 96
    fresh_sets: int = 3


def check_request(config: CalibrationConfig, request: ProfileRequest) -> None:
    """Refuse a request the config cannot answer, naming what is allowed.

    Raises:
        ScenarioError: the parameter is not declared, a refitted one is not fitted by the
            config, a value lies outside the config's search interval (a fitted parameter) or
            the declared bounds (an assumed one), the parameter is refitted too, too few
            evaluations or fresh sets.
    """
    where = f"{config.source}"
    fitted = list(config.parameters)
    if request.parameter not in PARAMETERS:
        raise ScenarioError(
            f"command line: --parameter: value {request.parameter!r}: not a behavioural parameter; "
            f"allowed: the parameters {where} fits ({', '.join(fitted)}) or any other that "
            "`jjj-talent parameters` lists"
        )
    if not request.values:
        raise ScenarioError("command line: --values: give at least one value")
    for value in request.values:
        if request.parameter in config.parameters:
            bounds = config.parameters[request.parameter]
            if not bounds.lower <= value <= bounds.upper:
                raise ScenarioError(
                    f"command line: --values: value {value:g}: outside the search interval of "
                    f"{request.parameter} in {where}; allowed: {bounds.lower:g} to {bounds.upper:g}"
                )
        elif problem := PARAMETERS[request.parameter].check(value):
            raise ScenarioError(
                f"command line: --values: value {value:g}: {request.parameter} (assumed, not fitted "
                f"by {where}) {problem}"
            )
    for name in request.refit:
        if name == request.parameter:
            raise ScenarioError(
                f"command line: --refit: value {name!r}: the profiled parameter is held, not refitted"
            )
        if name not in config.parameters:
            raise ScenarioError(
                f"command line: --refit: value {name!r}: not fitted by {where}; allowed: {', '.join(fitted)}"
            )
    if request.refit and request.evaluations < REFIT_POPULATION:
        raise ScenarioError(
            f"command line: --evaluations: value {request.evaluations}: at least one generation "
            f"({REFIT_POPULATION} candidates) when refitting"
        )
    if request.fresh_sets < 1:
        raise ScenarioError(f"command line: --fresh-sets: value {request.fresh_sets}: must be 1 or more")
    if config.layer is None or not config.layer.is_file():
        raise ScenarioError(
            f"{where}: layer: no fitted layer to profile around ({config.layer}); "
            f"run `jjj-talent calibrate {config.source}` first"
        )


def fitted_values(config: CalibrationConfig, names: Sequence[str], layer: Path | None = None) -> np.ndarray:
    """The values a fitted layer sets for ``names``: the config's own layer (the shipped fit)
    unless another is given. A fitted layer sets every one of them and nothing else (a value it
    set beyond them would be left at its default, unsaid)."""
    path = layer or config.layer
    values = load_scenario(path).parameter_overrides() if path else {}
    missing = [n for n in names if n not in values]
    if missing:
        raise ScenarioError(
            f"{path}: parameters: sets no value for {', '.join(missing)}; a fitted layer sets every "
            f"parameter {config.source} fits"
        )
    extra = sorted(set(values) - set(names))
    if extra:
        raise ScenarioError(
            f"{path}: parameters: sets {', '.join(extra)}, which {config.source} does not fit "
            f"(it would be scored at its default); allowed: {', '.join(names)}"
        )
    return np.array([float(values[n]) for n in names])


def refit_problem(problem: Problem, at: np.ndarray, names: Sequence[str]) -> Problem:
    """The fit of ``names`` alone, every other parameter of ``problem`` held at ``at``, starting
    from ``at``."""
    index = [problem.names.index(n) for n in names]
    return Problem(
        problem.scenario_with(at),
        tuple(names),
        problem.lower[index],
        problem.upper[index],
        at[index],
        problem.targets,
        problem.seeds,
        problem.pool,
    )


def held_value(problem: Problem, fitted: np.ndarray, parameter: str) -> float:
    """The reference value of a profile: the shipped fit's value of a fitted parameter, or the
    value the scenario runs an assumed one at (its own, or the declared default)."""
    if parameter in problem.names:
        return float(fitted[problem.names.index(parameter)])
    return float(problem.scenario.parameter_overrides().get(parameter, PARAMETERS[parameter].default))


def holding(problem: Problem, fitted: np.ndarray, parameter: str, value: float) -> tuple[np.ndarray, Problem]:
    """The fitted values with ``parameter`` held at ``value``, and the problem to evaluate them
    in: the same problem for a fitted parameter (its value is one of the vector's), one whose
    scenario sets the assumed parameter otherwise."""
    at = fitted.copy()
    if parameter in problem.names:
        at[problem.names.index(parameter)] = value
        return at, problem
    scenario = problem.scenario.with_overrides({f"parameters.{parameter}": value}, source="profile")
    return at, dataclasses.replace(problem, scenario=scenario)


def profile(
    config: CalibrationConfig,
    request: ProfileRequest,
    out_dir: Path,
    log: Callable[[str], None] | None = None,
    *,
    workers: int | None = 0,
    scheduler: str | None = None,
) -> pd.DataFrame:
    """The profile table (module docstring), also written to ``out_dir/profile.csv``."""
    check_request(config, request)
    if log:
        log(
            f"profile of {request.parameter} ({config.source}), "
            f"refitting {', '.join(request.refit) or 'nothing'}"
        )
    method = CmaEs(
        name="cma-es",
        population=REFIT_POPULATION,
        max_evaluations=request.evaluations,
        sigma0=REFIT_SIGMA0,
        ensemble_size=0,
    )
    rows, each_set, points = [], [], []
    with open_pool(workers, scheduler) as pool:
        problem = problem_from(config, pool)
        seed = root_seed(config, problem.scenario)  # as calibrate's
        fresh = _fresh_sets(config, seed, request.fresh_sets)
        fitted = fitted_values(config, problem.names)
        held = held_value(problem, fitted, request.parameter)
        groups = problem.targets["target"]
        for value in sorted(set(request.values) | {held}):
            started = time.perf_counter()
            at, problem_at = holding(problem, fitted, request.parameter, value)
            if request.refit:
                result = fit(refit_problem(problem_at, at, request.refit), method, seed=seed)
                at[[problem.names.index(n) for n in request.refit]] = result.values
                fit_seed_loss = result.loss  # the best candidate, the start (this value alone) included
            else:
                fit_seed_loss = problem_at.evaluate_batch([at])[0]
            losses, by_group = [], []
            for seeds in fresh:
                loss, table = problem_at.evaluate(at, seeds)
                losses.append(loss)
                by_group.append(loss_terms(table, problem.targets["weight"]).groupby(groups).sum())
            each_set.append(losses)
            points.append(at)
            row = {
                request.parameter: value,
                "fitted": bool(value == held),
                "loss_fit_seeds": fit_seed_loss,
                "loss_fresh_mean": float(np.mean(losses)),
            }
            row |= {f"loss:{g}": float(v) for g, v in pd.concat(by_group, axis=1).mean(axis=1).items()}
            row |= {f"refit:{n}": float(at[problem.names.index(n)]) for n in request.refit}
            rows.append(row)
            if log:
                refitted = "  ".join(f"{n}={at[problem.names.index(n)]:.4g}" for n in request.refit)
                log(
                    f"  {request.parameter}={value:.4g}{' (fit)' if row['fitted'] else ''}: "
                    f"loss {row['loss_fresh_mean']:.5f} on fresh seeds (fit seeds {fit_seed_loss:.5f})"
                    f"{'  ' + refitted if refitted else ''}  [{time.perf_counter() - started:.0f} s]"
                )
    table = pd.DataFrame(rows)
    # the rise over the fitted value's loss, set by set (common random numbers), and its spread
    rises = np.array(each_set) - np.array(each_set)[table["fitted"].to_numpy()]
    table.insert(4, "rise", rises.mean(axis=1))
    table.insert(5, "rise_sd", rises.std(axis=1, ddof=1) if len(fresh) > 1 else np.nan)
    with staging_dir(out_dir) as stage:
        files.write_csv(stage / "profile.csv", table)
        for value, at in zip(table[request.parameter], points):
            label = f"{request.parameter}={value:g}"
            values = dict(zip(problem.names, at)) | {request.parameter: value}
            point = pd.DataFrame([{"draw": label, **values, "weight": 1.0}])
            files.write_csv(stage / f"{label}.csv", point)
    if log:
        for row in table.itertuples(index=False):
            if not row.fitted:
                log(
                    f"  rise over the fit at {getattr(row, request.parameter):.4g}: {row.rise:+.5f} (sd {row.rise_sd:.5f})"
                )
    return table


def score(
    config: CalibrationConfig,
    layers: Sequence[Path],
    *,
    workers: int | None = 0,
    scheduler: str | None = None,
) -> pd.DataFrame:
    """Fitted layers judged as the fit judges its searches (``jjj-talent score``): each layer's
    values of the config's parameters, run on the config's ``selection_sets`` fresh seed sets
    (at least one), the loss on each set and their mean. Every layer meets the same seeds, so
    two fits (of other rounds, or of another config's targets) compare set by set, on seeds
    none of their searches ran on. Writes nothing (the command writes the table, ``score.csv``).

    Raises:
        ScenarioError: a layer does not load, or does not set exactly the config's parameters.
    """
    count = config.method.selection_sets if isinstance(config.method, CmaEs) else 0
    # every layer read and checked before anything runs; the problem's names, in its order
    points = [fitted_values(config, tuple(config.parameters), layer) for layer in layers]
    with open_pool(workers, scheduler) as pool:
        problem = problem_from(config, pool)
        seed = root_seed(config, problem.scenario)
        sets = _fresh_sets(config, seed, max(count, 1))
        losses = np.array([problem.evaluate_batch(points, seeds) for seeds in sets])  # (sets, layers)
    table = pd.DataFrame(losses.T, columns=[f"set {k}" for k in range(1, len(sets) + 1)])
    table.insert(0, "layer", [str(layer) for layer in layers])
    table.insert(1, "loss_mean", losses.mean(axis=0))
    table.insert(2, "loss_sd", losses.std(axis=0, ddof=1) if len(sets) > 1 else np.nan)
    return table


def _fresh_sets(config: CalibrationConfig, seed: int, count: int) -> list[tuple[int, ...]]:
    """``count`` fresh seed sets: those the fit judged its searches on, then more beyond them."""
    if isinstance(config.method, CmaEs):
        method = config.method.model_copy(update={"selection_sets": count})
    else:
        method = CmaEs(name="cma-es", selection_sets=count)
    return fresh_seed_sets(config.model_copy(update={"method": method}), seed)
