"""Calibration: fit behavioural parameters by simulation to numbers published up to 2015
(``jjj-talent calibrate CONFIG.yaml``).

Data rule: only numbers dated 2015 or earlier (``DATA_CUTOFF_YEAR``) may set or fit parameters;
a config naming a later target is refused. Published outcomes after 2015 are for validation
only (``model/data/validation/``, ``jjj-talent validate``).

Method (simulated moments with common random numbers):

- A target is a row of the observations file (unit, indicator, year), measured on the runs as
  ``experiments/calibration/observed.py`` says, so that calibration and validation compare alike. Targets
  must be dated after the run's start year: at the start year the model reproduces its data.
- Each evaluation runs the scenario (e.g. ``history`` from 2010, to the last target year) once
  per replicate seed; the seeds (``experiments.replicates.replicate_seeds``) are the same at
  every evaluation, so differences between parameter values are not drowned in sampling noise.
  The replicates of an evaluation run in parallel through the runner (``--workers``,
  ``--scheduler``), on one pool kept for the whole fit.
- Loss: ``sum_i w_i * log(simulated_i / observed_i) ** 2`` with ``simulated_i`` the mean over
  the replicates. A target group's weight is shared among its rows in proportion to their status
  weight (e.g. ``unverified`` counts half). Log errors make rows of different size and unit
  comparable and treat over- and under-shooting alike.
- Search, on an unbounded transform of each parameter's search interval,
  ``value = lower + (upper - lower) / (1 + exp(-z))``, starting from the parameter's declared
  default (``model/parameters.py``; or the config's ``start``), never from a previous fit: the
  layer the config writes is in the scenario's chain (baseline extends it), so every parameter
  it sets is put back to its declared default for the fit:
  - ``nelder-mead`` (scipy): ``initial_step`` (in z units) for the first simplex and at most
    ``max_evaluations`` runs of the replicate set; one candidate at a time, for a few parameters;
  - ``cma-es`` (the ``cma`` package, Hansen's CMA-ES): ``population`` candidates a generation,
    asked together and evaluated as one synchronous batch on the pool (every worker busy, and
    the result the same for a given seed whatever the number of workers), ``sigma0`` the first
    step in z units, at most ``max_evaluations`` candidates. The default for a dozen parameters
    or more. Its last search distribution (mean, step and covariance in z units) is kept, and
    ``ensemble.csv`` holds ``ensemble_size`` draws from it mapped to parameter values: the spread
    of the search where it stopped, an approximation of the parameters' uncertainty, not a
    posterior. With ``restarts`` R > 1 the search runs R times from the same start with the
    search seeds seed, seed + 1, ... (with ``generation_seeds: fixed`` the same replicate seeds:
    common random numbers across searches too). The fitted values are the best candidate of all
    searches (with ``fresh``, below, the best of their averaged means). Every search whose
    best loss is within ``ensemble_tolerance`` of the best (loss <= (1 + tolerance) x best) is
    kept: the data cannot tell those apart, so each gives ``ensemble_size`` draws and the kept
    searches weigh equally in ``ensemble.csv`` (draws labelled ``search-k``). With
    ``selection_sets`` S >= 1, "best" is judged again where no search could fit the seeds' noise:
    each search's best candidate is run on S fresh sets of ``replicates`` seeds (spawned after
    the report's, ``fresh_seed_sets``), and the fitted values are those of the search with the
    lowest mean loss there, the tolerance measured from that mean. On the fit seeds the winner
    is flattered by the noise it was selected on (in issue 10's seventh-round fit, the best
    search's loss was 0.0051 on its two fit seeds and 0.0061 on 8 fresh pairs, where a search
    that had ended 16 % behind scored 0.0060). Where the loss has
    several basins of nearly equal depth, one search's covariance sees only its own; the kept
    searches together show how far apart the basins lie.
    ``generation_seeds`` says which seeds the candidates run on. ``fixed``: every candidate on
    the fit seeds, so a long search fits their chance as well as the targets (issue 10's
    eleventh-round fit: 0.0059 on its two fit seeds, 0.0086 on 8 fresh pairs). ``fresh``: each
    generation on a set of its own (``GENERATION_STREAM``), common to its candidates, so CMA-ES,
    which uses only their ranks within a generation, still compares them on paired runs, and no
    one set's chance is fitted for long. A loss then varies with its generation's seeds, so a
    search's result is not its best candidate (the luckiest) but its mean (the distribution's
    centre) averaged over its last ``averaged_generations``: the mean itself follows the last
    generations' chance, the average much less. The results are judged on the selection sets
    (at least one is required), and a kept search's ensemble draws are centred on its averaged
    mean, with its last step and covariance.

Outputs, in one folder (``--out``, default ``outputs/calibration/<name>``): ``calibration.json``
(the record: targets, loss, method, seeds, dates, data rule, versions), ``fit.csv`` (observed
against simulated for every target, at the start values and at the fit, with 90 % intervals over
``report_replicates``), the chart the command draws (``fit.png``/``fit.svg``), ``trace.csv`` (every
evaluation), ``ensemble.csv`` (cma-es only) and the layer.
The layer (``layer`` in the config) is a scenario file that sets only the fitted ``parameters``;
with ``layer_extends: null`` it is the root that ``baseline`` extends, so every shipped scenario
runs on the fitted values, both ``history`` from 2010 and projections from 2015. Beside it, in a
folder of the same name (``record_dir``), the record, the fit table and the ensemble are kept in
the repository with the layer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import sys
import textwrap
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple

import cma
import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError
from scipy.optimize import minimize

from experiments import files
from experiments.calibration.observed import (
    BACKCAST_VINTAGES,
    DATA_CUTOFF_YEAR,
    MEASURES,
    RunNodes,
    Unavailable,
    figure,
    read_observed_files,
    unit_nodes,
)
from experiments.calibration.validate import compare, run_replicate_sets, run_replicates
from experiments.files import (
    FIT_TABLE,
    git_commit,
    model_fingerprint,
    package_versions,
    record_dir,
    staging_dir,
)
from experiments.replicates import P05, P95, keyed_seeds, replicate_seeds
from experiments.runner import Pool, open_pool
from model.errors import ScenarioError
from model.loader import Mark, load_yaml, problems_message
from model.parameters import PARAMETERS
from model.scenario import FORMAT_VERSION, Scenario, load_scenario
from model.scenario import validate as validate_scenario

DATA_RULE = (
    f"Only numbers dated {DATA_CUTOFF_YEAR} or earlier set or fit these parameters; "
    f"published outcomes after {DATA_CUTOFF_YEAR} are kept for validation only "
    "(model/data/validation/). Targets are first-release or unrevised numbers (vintage "
    f"{' or '.join(BACKCAST_VINTAGES)}), never the series revised after the 2020 census. "
    "The base-year inputs themselves use one later number, Xiong'an's end-2016 population "
    "(ASSUMPTIONS A3), which is not a calibration target."
)
CONFIG_KEYS = "name, scenario, observed, parameters, targets, ..."
"""The keys a calibration config starts with, for the message when a file is not a mapping."""
LOG_ERROR_IF_NOT_POSITIVE = 10.0  # log error charged when a run gives zero or less


# --- the config ------------------------------------------------------------------------------


class SearchBounds(BaseModel):
    """Search interval of one parameter (inside its declared bounds); ``start`` defaults to the
    parameter's declared default."""

    model_config = ConfigDict(extra="forbid")
    lower: float
    upper: float
    start: float | None = None


class NelderMead(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Literal["nelder-mead"] = "nelder-mead"
    max_evaluations: int = Field(default=45, ge=1, description="Evaluations of the replicate set, at most.")
    initial_step: float = Field(default=0.6, gt=0, description="First simplex step, in transformed units.")
    xatol: float = Field(
        default=0.02, gt=0, description="Stop when the simplex is this small (transformed units)."
    )
    fatol: float = Field(default=1e-4, gt=0, description="... and the losses differ by less than this.")


class CmaEs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Literal["cma-es"]
    max_evaluations: int = Field(default=400, ge=2, description="Candidates evaluated, at most.")
    population: int = Field(
        default=8, ge=2, description="Candidates a generation (one batch); cma's default is 4 + 3 ln(n)."
    )
    sigma0: float = Field(default=0.5, gt=0, description="First step, in transformed units.")
    tolfun: float = Field(default=1e-5, gt=0, description="Stop when a generation's losses differ by less.")
    ensemble_size: int = Field(
        default=50, ge=0, description="Draws from each kept search's last distribution."
    )
    restarts: int = Field(
        default=1,
        ge=1,
        description="Independent searches from the same start, search seeds seed, seed + 1, ...",
    )
    ensemble_tolerance: float = Field(
        default=0.1,
        ge=0,
        description="Searches ending within this share of the best loss are kept in the ensemble.",
    )
    selection_sets: int = Field(
        default=0,
        ge=0,
        description="Fresh sets of replicate seeds (none of the fit's or the report's) on which each "
        "search's best is evaluated again; with 1 or more, the fitted values are the search best on "
        "them and the ensemble keeps the searches within ensemble_tolerance of it there.",
    )
    generation_seeds: Literal["fixed", "fresh"] = Field(
        default="fixed",
        description="fixed: every candidate runs on the fit seeds, and a search's result is its best "
        "candidate; fresh: each generation's candidates on seeds of their own (GENERATION_STREAM), "
        "and a search's result is its mean averaged over its last averaged_generations, judged on "
        "the selection sets (1 or more needed).",
    )
    averaged_generations: int = Field(
        default=20,
        ge=1,
        description="With fresh generation seeds: how many of a search's last means its result "
        "averages (in transformed units; all of them if the search stops sooner). A mean follows "
        "the chance of the last generations' seeds; their average does not. Unused with fixed seeds.",
    )


GENERATION_STREAM = 1
"""The seeds of generation g of search k, with ``generation_seeds: fresh``: ``replicates`` seeds
of ``keyed_seeds(root, (GENERATION_STREAM, k, g), ...)``, none of the fit's, the report's or
the selection sets' (``replicate_seeds(root, n)``)."""


def _method_name(value: Any) -> str:
    """Which method a config's ``method`` is: its ``name``, Nelder-Mead when it names none."""
    if isinstance(value, dict):
        return str(value.get("name", "nelder-mead"))
    return str(getattr(value, "name", "nelder-mead"))


Method = Annotated[
    Annotated[NelderMead, Tag("nelder-mead")] | Annotated[CmaEs, Tag("cma-es")],
    Discriminator(_method_name),
]


class TargetGroup(BaseModel):
    """Rows of the observations file: one per unit and year, all of one indicator."""

    model_config = ConfigDict(extra="forbid")
    name: str
    indicator: str
    units: list[str] = Field(min_length=1)
    years: list[int] = Field(min_length=1)
    weight: float = Field(default=1.0, ge=0)


class CalibrationConfig(BaseModel):
    """A calibration config (see ``experiments/calibration-2015.yaml``); paths are relative to
    the config file and resolved on loading."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    description: str = ""
    scenario: Path
    observed: list[Path] = Field(min_length=1)
    layer: Path | None = None
    layer_extends: str | None = None
    """The layer's parent; None makes it the root that baseline extends (the shipped scenarios)."""
    scale: int | None = Field(default=None, ge=1)
    seed: int | None = Field(default=None, ge=0, lt=2**63)
    replicates: int = Field(default=2, ge=1)
    report_replicates: int = Field(default=4, ge=1)
    method: Method = Field(default_factory=NelderMead)
    parameters: dict[str, SearchBounds] = Field(min_length=1)
    status_weights: dict[str, float] = Field(
        default_factory=lambda: {"observed": 1.0, "derived": 1.0, "unverified": 0.5}
    )
    targets: list[TargetGroup] = Field(min_length=1)
    source: Path = Path("")

    def sha256(self) -> str:
        return hashlib.sha256(self.source.read_bytes()).hexdigest() if self.source.is_file() else ""


def load_config(path: str | Path) -> CalibrationConfig:
    """Read and check a calibration config.

    Raises:
        ScenarioError: bad YAML, unknown keys, unknown or integer parameters, bounds outside the
            declared ones, unknown indicators, targets dated after ``DATA_CUTOFF_YEAR``.
    """
    path = Path(path)
    data, marks = load_yaml(path, kind="calibration config", keys=CONFIG_KEYS)
    try:
        config = CalibrationConfig.model_validate(data)
    except ValidationError as err:
        problems = [_problem(error, marks, path) for error in err.errors()]
        raise ScenarioError(problems_message(str(path), "calibration config", problems)) from None

    def near(relative: Path) -> Path:
        return Path(os.path.normpath(path.parent / relative))

    config = config.model_copy(
        update={
            "scenario": near(config.scenario),
            "observed": [near(p) for p in config.observed],
            "layer": near(config.layer) if config.layer else None,
            "source": path,
        }
    )
    _check(config, path)
    return config


def _problem(error: Any, marks: dict[tuple[str, ...], Mark], path: Path) -> str:
    """One pydantic error as ``file:line: key.path: message (value ...)``; the line is that of
    the key path, or of its nearest parent the file has."""
    loc = tuple(str(part) for part in error["loc"])
    line = ""
    for depth in range(len(loc), 0, -1):
        if loc[:depth] in marks:
            line = f":{marks[loc[:depth]][1]}"
            break
    value = f" (value {error['input']!r})" if error.get("type") != "missing" else ""
    return f"  {path}{line}: {'.'.join(loc)}: {error['msg']}{value}"


def _check(config: CalibrationConfig, path: Path) -> None:
    for name, bounds in config.parameters.items():
        where = f"{path}: parameters.{name}"
        declared = PARAMETERS.get(name)
        if declared is None:
            raise ScenarioError(f"{where}: unknown parameter; allowed: {', '.join(PARAMETERS)}")
        if declared.integer:
            raise ScenarioError(f"{where}: a whole-number parameter cannot be fitted by this method")
        if not declared.lower <= bounds.lower < bounds.upper <= declared.upper:
            raise ScenarioError(
                f"{where}: bounds [{bounds.lower:g}, {bounds.upper:g}]; allowed: "
                f"lower < upper within the declared [{declared.lower:g}, {declared.upper:g}]"
            )
        if bounds.start is not None and not bounds.lower <= bounds.start <= bounds.upper:
            raise ScenarioError(f"{where}.start: value {bounds.start:g}; allowed: within the search bounds")
    for i, group in enumerate(config.targets):
        where = f"{path}: targets.{i} ({group.name})"
        if group.indicator not in MEASURES:
            raise ScenarioError(
                f"{where}.indicator: value {group.indicator!r}; allowed: {', '.join(MEASURES)}"
            )
        late = [y for y in group.years if y > DATA_CUTOFF_YEAR]
        if late:
            raise ScenarioError(
                f"{where}.years: value {late[0]}: only numbers dated {DATA_CUTOFF_YEAR} "
                "or earlier may fit parameters; later outcomes are for validation"
            )
        for unit in group.units:
            try:
                unit_nodes(unit)
            except Unavailable as reason:
                raise ScenarioError(f"{where}.units: {reason}") from None
    method = config.method
    if isinstance(method, CmaEs) and _reseeded(method) and method.selection_sets < 1:
        raise ScenarioError(
            f"{path}: method.generation_seeds: value 'fresh' with selection_sets {method.selection_sets}; allowed: fresh "
            "with selection_sets 1 or more (a search's result, its averaged mean, is judged on them), or fixed"
        )
    unknown = sorted({s for s in config.status_weights} - {"observed", "derived", "unverified", "assumption"})
    if unknown:
        raise ScenarioError(
            f"{path}: status_weights: unknown status {unknown[0]!r}; allowed: "
            "observed, derived, unverified, assumption"
        )


# --- targets and loss ------------------------------------------------------------------------


def select_targets(config: CalibrationConfig, observed: pd.DataFrame, start_year: int) -> pd.DataFrame:
    """The observation rows the config names, with a ``target`` (group name) and a ``weight``
    column. Each named (unit, indicator, year) must be in the files, with a value and a vintage
    in ``BACKCAST_VINTAGES`` (where files repeat a row, the first file's wins)."""
    chosen = []
    for group in config.targets:
        rows = []
        for unit in group.units:
            for year in group.years:
                if year <= start_year:
                    raise ScenarioError(
                        f"{config.source}: target {group.name}: year {year} is not after "
                        f"the run's start year {start_year}; the model reproduces its "
                        "base-year data there, so it cannot inform a fit"
                    )
                found = observed[
                    (observed["unit"] == unit)
                    & (observed["indicator"] == group.indicator)
                    & (observed["year"] == year)
                    & np.isfinite(observed["value"])
                ]
                hit = found[found["vintage"].isin(BACKCAST_VINTAGES)]
                if len(hit) == 0 and len(found) > 0:
                    shown = ", ".join(repr(v) if v else "none (no vintage column)" for v in found["vintage"])
                    raise ScenarioError(
                        f"{config.source}: target {group.name}: {unit} {group.indicator} {year}: "
                        f"the files give it only in vintage {shown}; allowed for a back-cast target: "
                        f"{', '.join(BACKCAST_VINTAGES)} (numbers as known by 2016)"
                    )
                if len(hit) == 0:
                    raise ScenarioError(
                        f"{config.source}: target {group.name}: {unit} {group.indicator} "
                        f"{year}: no row with a value in {', '.join(map(str, config.observed))}"
                    )
                rows.append(hit.iloc[0])
        frame = pd.DataFrame(rows)
        status = frame["status"].map(lambda s: config.status_weights.get(s, 1.0)).astype(float)
        frame["target"] = group.name
        frame["weight"] = group.weight * status / status.sum() if status.sum() > 0 else 0.0
        chosen.append(frame)
    return pd.concat(chosen, ignore_index=True)


def loss_terms(table: pd.DataFrame, weights: pd.Series) -> pd.Series:
    """Each target's weighted squared log error (``table`` from ``validate.compare``)."""
    ratio = table["simulated_mean"].to_numpy(float) / table["observed"].to_numpy(float)
    log_error = np.where(ratio > 0, np.log(np.where(ratio > 0, ratio, 1.0)), LOG_ERROR_IF_NOT_POSITIVE)
    return pd.Series(weights.to_numpy(float) * log_error**2, index=table.index)


# --- the fit ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """What to fit: the scenario (scale and years set), the parameters with their search
    bounds and start values, the targets (observed rows with weights) and the seeds."""

    scenario: Scenario
    names: tuple[str, ...]
    lower: np.ndarray
    upper: np.ndarray
    start: np.ndarray
    targets: pd.DataFrame
    seeds: tuple[int, ...]
    pool: Pool | None = None
    """Where the replicates run (None: in this process)."""

    def values(self, z: np.ndarray) -> np.ndarray:
        return self.lower + (self.upper - self.lower) / (1.0 + np.exp(-np.asarray(z, float)))

    def transformed(self, values: np.ndarray) -> np.ndarray:
        share = np.clip((values - self.lower) / (self.upper - self.lower), 0.01, 0.99)
        return np.log(share / (1.0 - share))

    def scenario_with(self, values: np.ndarray) -> Scenario:
        overrides = {f"parameters.{n}": float(v) for n, v in zip(self.names, values)}
        return self.scenario.with_overrides(overrides, source="calibration")

    def evaluate(
        self, values: np.ndarray, seeds: tuple[int, ...] | None = None
    ) -> tuple[float, pd.DataFrame]:
        """Loss and comparison table at ``values`` (the problem's seeds unless given)."""
        runs = run_replicates(self.scenario_with(values), seeds or self.seeds, self.pool)
        table = self._compared(runs)
        return float(loss_terms(table, self.targets["weight"]).sum()), table

    def evaluate_batch(
        self, points: Sequence[np.ndarray], seeds: tuple[int, ...] | None = None
    ) -> list[float]:
        """Losses at several points, their replicates run as one batch (the problem's seeds
        unless given)."""
        sets = run_replicate_sets([self.scenario_with(v) for v in points], seeds or self.seeds, self.pool)
        return [float(loss_terms(self._compared(runs), self.targets["weight"]).sum()) for runs in sets]

    def _compared(self, runs: Sequence[RunNodes]) -> pd.DataFrame:
        """The targets against ``runs``; a target the runs cannot produce stops the fit at once
        (rather than its loss counting as a miss at every candidate)."""
        table = compare(self.targets, runs, self.scenario.start_year)
        skipped = table[table["result"] == "skipped"]
        if len(skipped):
            row = skipped.iloc[0]
            raise ScenarioError(
                f"target {row['unit']} {row['indicator']} {row['year']} cannot be produced: {row['reason']}"
            )
        return table


@dataclass(frozen=True)
class Fit:
    values: np.ndarray
    loss: float
    start_loss: float
    evaluations: int
    message: str
    converged: bool
    trace: pd.DataFrame
    wall_seconds: float
    ensemble: pd.DataFrame | None = None
    """Parameter vectors with weights (cma-es: draws from its kept searches' last distributions)."""
    searches: tuple[SearchSummary, ...] = ()
    """Each CMA-ES search: its seed, its result's loss and values, and whether the ensemble keeps it."""


class _Search(NamedTuple):
    """One finished search inside ``_fit_cma``: its number, its CMA-ES state, its result (a trace
    row: its best candidate, or its averaged mean) and the centre of its ensemble draws."""

    number: int
    search: cma.CMAEvolutionStrategy
    result: dict[str, Any]
    centre: np.ndarray


@dataclass(frozen=True)
class SearchSummary:
    """One CMA-ES search of a fit with restarts: its number (1, 2, ...), search seed, its result's
    loss, candidates evaluated, its result's parameter values, whether the ensemble keeps it, and
    its result's losses on the fresh seed sets (``selection_sets``; empty without them). The
    result is its best candidate (``generation_seeds: fixed``; loss on the fit seeds) or its
    averaged mean (``fresh``; loss the mean over the fresh sets)."""

    number: int
    seed: int
    loss: float
    evaluations: int
    values: np.ndarray
    kept: bool
    fresh_losses: tuple[float, ...] = ()


def fit(
    problem: Problem,
    method: NelderMead | CmaEs,
    log: Callable[[str], None] | None = None,
    seed: int = 0,
    fresh_seeds: Sequence[tuple[int, ...]] = (),
) -> Fit:
    """Fit by the config's method (module docstring); every evaluation is kept in ``trace``.

    Args:
        problem: what to fit.
        method: the search and its settings.
        log: where to say how far it is.
        seed: the search's own random seed (cma-es), so a fit is reproducible.
        fresh_seeds: seed sets none of the searches saw, on which cma-es judges its searches'
            bests (``CmaEs.selection_sets`` of them; none: judged on the fit seeds).
    """
    if isinstance(method, CmaEs):
        return _fit_cma(problem, method, log, seed, fresh_seeds)
    return _fit_nelder_mead(problem, method, log)


def _trace_row(
    problem: Problem, number: int, values: np.ndarray, loss: float, started: float
) -> dict[str, Any]:
    return {
        "evaluation": number,
        **dict(zip(problem.names, values)),
        "loss": loss,
        "seconds": round(time.perf_counter() - started, 2),
    }


def _fit_cma(
    problem: Problem,
    method: CmaEs,
    log: Callable[[str], None] | None,
    seed: int,
    fresh_seeds: Sequence[tuple[int, ...]] = (),
) -> Fit:
    """CMA-ES in synchronous generations (ask ``population`` candidates, run them as one batch,
    tell their losses), ``method.restarts`` times; the fit and the ensemble from the searches'
    results (their bests, or with ``generation_seeds: fresh`` their averaged means), judged on
    ``fresh_seeds`` when given (module docstring)."""
    reseeded = _reseeded(method)
    if reseeded and not fresh_seeds:
        raise ValueError("generation_seeds 'fresh' needs fresh seed sets to judge the searches' means on")
    started = time.perf_counter()
    start_loss = problem.evaluate_batch([problem.start])[0]
    trace = [_trace_row(problem, 1, problem.start, start_loss, started) | {"search": 0, "generation": 0}]
    searches: list[_Search] = []
    for k in range(1, method.restarts + 1):
        if log and method.restarts > 1:
            log(f"  search {k} of {method.restarts} (search seed {seed + k - 1})")
        search, means = _cma_search(problem, method, seed + k - 1, k, trace, started, log, root=seed)
        centre = search.mean  # of the ensemble's draws: where the search stopped
        if reseeded:  # other generations met other seeds: its recent means, not its luckiest candidate
            centre = np.mean(means[-method.averaged_generations :], axis=0)
            own_best = dict(zip(problem.names, problem.values(centre))) | {"loss": np.nan, "search": k}
        else:
            own_best = min((row for row in trace if row["search"] == k), key=lambda row: row["loss"])
        searches.append(_Search(k, search, own_best, centre))
    bests = [np.array([s.result[n] for n in problem.names]) for s in searches]
    fresh = np.array([problem.evaluate_batch(bests, seeds) for seeds in fresh_seeds]).reshape(
        -1, len(searches)
    )
    if len(fresh):  # judged where no search fitted the seeds' noise
        judged = dict(zip((s.number for s in searches), fresh.mean(axis=0)))
        best = min((s.result for s in searches), key=lambda row: judged[row["search"]])
        floor = min(judged.values())
        if log:
            log("  on fresh seeds: " + ", ".join(f"search {k} {loss:.6f}" for k, loss in judged.items()))
    else:
        judged = {s.number: s.result["loss"] for s in searches}
        best = min(trace, key=lambda row: row["loss"])  # the start itself may be best
        floor = best["loss"]
    values = np.array([best[n] for n in problem.names])
    best_loss = float(judged[best["search"]] if reseeded else best["loss"])
    kept = {k for k, loss in judged.items() if loss <= (1.0 + method.ensemble_tolerance) * floor}
    rng = np.random.default_rng(seed)
    parts = []
    for k, search, _, centre in searches:
        if k not in kept:
            continue
        draws = rng.multivariate_normal(centre, search.sigma**2 * search.C, size=method.ensemble_size)
        part = pd.DataFrame(
            [dict(zip(problem.names, problem.values(z))) for z in draws], columns=list(problem.names)
        )
        labels = range(1, len(part) + 1)
        part.insert(0, "draw", [f"{k}-{i}" for i in labels] if method.restarts > 1 else list(labels))
        parts.append(part)
    ensemble = (
        pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["draw", *problem.names])
    )
    ensemble["weight"] = 1.0 / max(len(ensemble), 1)  # each kept search gives as many draws
    stops = [s.search.stop() for s in searches]
    return Fit(
        values,
        best_loss,
        start_loss,
        len(trace),
        "; ".join(
            ", ".join(f"{k}={v}" for k, v in stop.items()) or "max_evaluations reached" for stop in stops
        ),
        all(bool(stop) and "maxfevals" not in stop for stop in stops),
        pd.DataFrame(trace),
        time.perf_counter() - started,
        ensemble,
        tuple(
            SearchSummary(
                k,
                seed + k - 1,
                float(judged[k] if reseeded else row["loss"]),
                sum(r["search"] == k for r in trace),
                np.array([row[n] for n in problem.names]),
                k in kept,
                tuple(float(x) for x in fresh[:, i]),
            )
            for i, (k, _, row, _) in enumerate(searches)
        ),
    )


def _cma_search(
    problem: Problem,
    method: CmaEs,
    seed: int,
    number: int,
    trace: list[dict[str, Any]],
    started: float,
    log: Callable[[str], None] | None,
    root: int = 0,
) -> tuple[cma.CMAEvolutionStrategy, list[np.ndarray]]:
    """One CMA-ES search from the problem's start, its candidates appended to ``trace`` (columns
    ``search`` = ``number`` and ``generation``); returns the search where it stopped and its
    mean (transformed units) after each generation. Every
    generation runs on the problem's seeds, or with ``generation_seeds: fresh`` on its own
    (``GENERATION_STREAM`` under ``root``): common to its candidates, so CMA-ES, which uses only
    their ranks within a generation, still ranks them on paired runs."""
    options = {
        "popsize": method.population,
        "seed": seed % (2**32 - 1) + 1,  # cma reads 0 as "draw a seed"
        "maxfevals": method.max_evaluations,
        "tolfun": method.tolfun,
        "verbose": -9,
    }
    search = cma.CMAEvolutionStrategy(problem.transformed(problem.start), method.sigma0, options)
    evaluated, means = 0, []
    while not search.stop() and evaluated < method.max_evaluations:
        candidates = search.ask()
        points = [problem.values(z) for z in candidates]
        generation = search.countiter + 1
        seeds = (
            tuple(keyed_seeds(root, (GENERATION_STREAM, number, generation), len(problem.seeds)))
            if _reseeded(method)
            else None
        )
        losses = problem.evaluate_batch(points, seeds)
        search.tell(candidates, losses)
        means.append(np.array(search.mean))
        evaluated += len(points)
        for values, loss in zip(points, losses):
            trace.append(
                _trace_row(problem, len(trace) + 1, values, loss, started)
                | {"search": number, "generation": generation}
            )
        if log:
            log(f"  generation {search.countiter:3d}  {evaluated} candidates  best loss {min(losses):.6f}")
    return search, means


def _fit_nelder_mead(problem: Problem, method: NelderMead, log: Callable[[str], None] | None = None) -> Fit:
    """Nelder-Mead on the transformed parameters (module docstring). Evaluations of a point
    already tried are answered from memory."""
    started = time.perf_counter()
    trace: list[dict[str, Any]] = []
    memory: dict[tuple[float, ...], float] = {}

    def objective(z: np.ndarray) -> float:
        values = problem.values(z)
        key = tuple(np.round(values, 12))
        if key not in memory:
            memory[key] = problem.evaluate(values)[0]
            trace.append(_trace_row(problem, len(trace) + 1, values, memory[key], started))
            if log:
                shown = "  ".join(f"{n}={v:.4g}" for n, v in zip(problem.names, values))
                log(f"  evaluation {len(trace):3d}  loss {memory[key]:.6f}  {shown}")
        return memory[key]

    z0 = problem.transformed(problem.start)
    simplex = np.vstack([z0] + [z0 + method.initial_step * np.eye(len(z0))[k] for k in range(len(z0))])
    start_loss = objective(z0)
    result = minimize(
        objective,
        z0,
        method="Nelder-Mead",
        options={
            "maxfev": method.max_evaluations,
            "initial_simplex": simplex,
            "xatol": method.xatol,
            "fatol": method.fatol,
        },
    )
    best = min(trace, key=lambda row: row["loss"])
    values = np.array([best[n] for n in problem.names])
    return Fit(
        values,
        float(best["loss"]),
        start_loss,
        len(trace),
        str(result.message),
        bool(result.success),
        pd.DataFrame(trace),
        time.perf_counter() - started,
    )


# --- the command -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Calibration:
    config: CalibrationConfig
    problem: Problem
    fit: Fit
    report: pd.DataFrame
    out_dir: Path
    layer: Path | None
    start_loss: float
    """Loss at the start values, on the report replicates."""
    fit_loss: float
    """Loss at the fitted values, on the report replicates."""
    report_seeds: tuple[int, ...]

    def line(self) -> str:
        fitted = " ".join(f"{n}={v:.4g}" for n, v in zip(self.problem.names, self.fit.values))
        return (  # both on the report's seeds: with fresh generation seeds the fit's own are others
            f"loss {self.start_loss:.5f} -> {self.fit_loss:.5f} on {len(self.report_seeds)} report seeds, "
            f"{self.fit.evaluations} evaluations; {fitted}"
        )


def problem_from(config: CalibrationConfig, pool: Pool | None = None) -> Problem:
    """The fit a config describes: its scenario (start year as set there, end year the last
    target year, the config's scale) and targets."""
    scenario = load_scenario(config.scenario)
    present = [path for path in config.observed if path.is_file()]
    if not present:
        raise ScenarioError(
            f"{config.source}: observed: none of the files exists: {', '.join(map(str, config.observed))}"
        )
    observed = read_observed_files(present)
    last_year = max(y for group in config.targets for y in group.years)
    overrides: dict[str, Any] = {"end_year": last_year}
    if config.scale is not None:
        overrides["scale"] = config.scale
    if last_year <= scenario.start_year:
        raise ScenarioError(
            f"{config.source}: targets end in {last_year}, not after the scenario's "
            f"start year {scenario.start_year}"
        )
    overrides |= {f"parameters.{n}": PARAMETERS[n].default for n in _layer_parameters(config)}
    scenario = scenario.with_overrides(overrides, source=str(config.source))
    names = tuple(config.parameters)
    bounds = [config.parameters[n] for n in names]
    seed = root_seed(config, scenario)
    return Problem(
        scenario,
        names,
        np.array([b.lower for b in bounds]),
        np.array([b.upper for b in bounds]),
        np.array(list(start_values(config).values())),
        select_targets(config, observed, scenario.start_year),
        tuple(replicate_seeds(seed, config.replicates)),
        pool,
    )


def start_values(config: CalibrationConfig) -> dict[str, float]:
    """Where every search of the config starts, in its parameters' order: the config's ``start``
    of a parameter, else its declared default (``model/parameters.py``) clipped into the search
    bounds. Never a previous fit's value: the model before the fit."""
    return {
        name: b.start if b.start is not None else float(np.clip(PARAMETERS[name].default, b.lower, b.upper))
        for name, b in config.parameters.items()
    }


def start_ensemble(config: CalibrationConfig) -> pd.DataFrame:
    """``start_values`` as a one-draw ensemble table (``experiments/ensemble.py``), with any
    other parameter the config's layer sets now at its declared default, as the fit resets them:
    ``run``, ``compare`` or ``validate`` with ``--ensemble`` on it run the model as the fit starts,
    every other parameter as the scenario sets it."""
    reset = {name: PARAMETERS[name].default for name in _layer_parameters(config)}
    return pd.DataFrame([{"draw": f"{config.name}-start", **reset, **start_values(config), "weight": 1.0}])


def _layer_parameters(config: CalibrationConfig) -> list[str]:
    """The parameters the config's layer file sets now (a previous fit), if it exists."""
    if config.layer is None or not config.layer.is_file():
        return []
    data, _ = load_yaml(config.layer, kind="scenario", keys="name, parameters, ...")
    parameters = data.get("parameters") if isinstance(data, dict) else None
    return [n for n in (parameters or {}) if n in PARAMETERS]


QUICK = {"scale": 2000, "replicates": 1, "report_replicates": 1, "generations": 2}
"""``--quick``: a check that a config runs end to end (tests), not a fit: coarse runs, one seed,
two CMA-ES generations of one search (or as many Nelder-Mead evaluations)."""


def quick(config: CalibrationConfig) -> CalibrationConfig:
    """The config cut down to ``QUICK`` (the caller writes no layer from it)."""
    method: NelderMead | CmaEs = config.method
    if isinstance(method, CmaEs):
        method = method.model_copy(
            update={
                "max_evaluations": QUICK["generations"] * method.population,
                "ensemble_size": 5,
                "restarts": 1,
                "selection_sets": min(method.selection_sets, 1),
            }
        )
    else:
        method = method.model_copy(
            update={"max_evaluations": QUICK["generations"] * (len(config.parameters) + 1)}
        )
    return config.model_copy(
        update={
            "scale": max(config.scale or 0, QUICK["scale"]),
            "replicates": QUICK["replicates"],
            "report_replicates": QUICK["report_replicates"],
            "method": method,
        }
    )


def fresh_seed_sets(config: CalibrationConfig, seed: int) -> list[tuple[int, ...]]:
    """``selection_sets`` sets of ``replicates`` seeds each, spawned from the root after the
    report's (which begin with the fit's), so no search has seen them."""
    sets = config.method.selection_sets if isinstance(config.method, CmaEs) else 0
    first = max(config.report_replicates, config.replicates)
    seeds = replicate_seeds(seed, first + sets * config.replicates)[first:]
    return [tuple(seeds[i : i + config.replicates]) for i in range(0, len(seeds), config.replicates)]


def calibrate(
    config: CalibrationConfig,
    out_dir: Path,
    write_layer: bool = True,
    log: Callable[[str], None] | None = None,
    *,
    workers: int | None = 0,
    scheduler: str | None = None,
    add_files: Callable[[Path, Calibration], None] | None = None,
) -> Calibration:
    """Fit, then write the record, the fit report and the layer (see the module docstring).
    The replicates run on ``workers`` local processes (0: this process; None: one per core) or
    on the Dask cluster at ``scheduler``, one pool for the whole fit; ``add_files(stage,
    result)`` writes anything else (the chart) into the output folder before it is swapped into
    place."""
    with open_pool(workers, scheduler) as pool:
        problem = problem_from(config, pool)
        if log:
            log(
                f"calibrating {', '.join(problem.names)} on {len(problem.targets)} targets: "
                f"{problem.scenario.name} {problem.scenario.start_year}-{problem.scenario.end_year}, "
                f"scale {problem.scenario.scale}, {len(problem.seeds)} replicates on {pool.description}"
            )
        seed = root_seed(config, problem.scenario)
        report_seeds = tuple(replicate_seeds(seed, config.report_replicates))
        result = fit(problem, config.method, log, seed, fresh_seed_sets(config, seed))
        start_loss, at_start = problem.evaluate(problem.start, report_seeds)
        fit_loss, at_fit = problem.evaluate(result.values, report_seeds)
    report = _fit_table(problem, at_start, at_fit)

    layer_text = _layer_text(config, problem, result, report, fit_loss)
    record = _record(config, problem, result, report_seeds, start_loss, fit_loss)
    record |= {
        "versions": package_versions(),
        "git_commit": git_commit(),
        "model_fingerprint": model_fingerprint(),
    }
    layer = config.layer if write_layer and config.layer is not None else None
    calibration = Calibration(
        config, problem, result, report, out_dir, layer, start_loss, fit_loss, report_seeds
    )
    with staging_dir(out_dir) as stage:
        files.write_json(stage / "calibration.json", record)
        files.write_csv(stage / FIT_TABLE, report)
        files.write_csv(stage / "trace.csv", result.trace)
        if result.ensemble is not None:
            files.write_csv(stage / "ensemble.csv", result.ensemble)
        files.write_text(stage / f"{config.name}.yaml", layer_text)
        if add_files is not None:
            add_files(stage, calibration)
    if layer is not None:
        with staging_dir(record_dir(layer)) as stage:  # the record kept in the repository with the layer
            files.write_json(stage / "calibration.json", record)
            files.write_csv(stage / FIT_TABLE, report)
            if result.ensemble is not None:
                files.write_csv(stage / "ensemble.csv", result.ensemble)
        files.write_text(layer, layer_text)
        load_scenario(layer)  # refuses (ScenarioError) if the written layer does not resolve
    if log:
        log(f"wrote {out_dir}/ (calibration.json, fit.csv, trace.csv and the layer)")
        if layer:
            log(f"wrote {layer} and its record {record_dir(layer)}/")
    return calibration


def _fit_table(problem: Problem, at_start: pd.DataFrame, at_fit: pd.DataFrame) -> pd.DataFrame:
    targets = problem.targets.reset_index(drop=True)
    table = pd.DataFrame(
        {
            "target": targets["target"],
            "unit": targets["unit"],
            "indicator": targets["indicator"],
            "year": targets["year"],
            "observed": targets["value"],
            "uom": targets["uom"],
            "status": targets["status"],
            "source": targets["source"],
            "weight": targets["weight"],
            "comparison": at_fit["comparison"],
        }
    )
    for prefix, frame in (("start", at_start), ("fit", at_fit)):
        table[f"{prefix}_mean"] = frame["simulated_mean"]
        table[f"{prefix}_{P05}"] = frame[f"simulated_{P05}"]
        table[f"{prefix}_{P95}"] = frame[f"simulated_{P95}"]
        table[f"{prefix}_relative_error"] = frame["relative_error"]
        table[f"{prefix}_loss"] = loss_terms(frame, targets["weight"])
    return table


def _record(
    config: CalibrationConfig,
    problem: Problem,
    result: Fit,
    report_seeds: tuple[int, ...],
    start_loss: float,
    fit_loss: float,
) -> dict[str, Any]:
    declared = {n: PARAMETERS[n] for n in problem.names}
    reseeded = _reseeded(config.method)
    return {
        "name": config.name,
        "description": config.description,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join(sys.argv),
        "config": {"file": str(config.source), "sha256": config.sha256()},
        "observed_files": {
            str(p): (hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "missing")
            for p in config.observed
        },
        "data_rule": DATA_RULE,
        "scenario": {
            "file": str(config.scenario),
            "name": problem.scenario.name,
            "sha256": problem.scenario.sha256(),
            "start_year": problem.scenario.start_year,
            "end_year": problem.scenario.end_year,
            "scale": problem.scenario.scale,
        },
        "targets": problem.targets[
            ["target", "unit", "indicator", "year", "value", "uom", "status", "source", "weight"]
        ].to_dict("records"),
        "loss": "sum_i weight_i * log(simulated_i / observed_i)^2, simulated_i the mean over the "
        "fit replicates; a group's weight is shared by its rows in proportion to "
        f"status_weights {config.status_weights}",
        "method": {
            **config.method.model_dump(),
            "transform": "value = lower + (upper - lower) / (1 + exp(-z))",
            "common_random_numbers": (
                "each generation's candidates on seeds of their own: keyed_seeds(root, "
                f"({GENERATION_STREAM}, search, generation), replicates) (experiments.replicates)"
                if reseeded
                else "the same replicate seeds at every evaluation"
            ),
            "search_result": (  # what result.searches[*].best_values holds
                "its mean averaged over its last averaged_generations generations (transformed units)"
                if reseeded
                else "its best candidate on the fit seeds"
            ),
        },
        "seeds": {
            "root": root_seed(config, problem.scenario),
            "fit": list(problem.seeds),
            "report": list(report_seeds),
            "spawn": "np.random.SeedSequence(root).spawn(n) (experiments.replicates)",
        },
        "parameters": {
            n: {
                "start": float(s),
                "fitted": float(v),
                "search_lower": float(lo),
                "search_upper": float(hi),
                "declared_lower": declared[n].lower,
                "declared_upper": declared[n].upper,
                "unit": declared[n].unit,
                "at_search_bound": bool(min(v - lo, hi - v) < 0.01 * (hi - lo)),
            }
            for n, s, v, lo, hi in zip(
                problem.names, problem.start, result.values, problem.lower, problem.upper
            )
        },
        "result": {
            "loss_start_fit_seeds": result.start_loss,
            ("loss_selection_seeds" if reseeded else "loss_fit_seeds"): result.loss,
            "loss_start_report_seeds": start_loss,
            "loss_fit_report_seeds": fit_loss,
            "evaluations": result.evaluations,
            "optimizer_message": result.message,
            "optimizer_converged": result.converged,
            "wall_seconds": round(result.wall_seconds, 1),
            "searches": [
                {
                    "search": r.number,
                    "search_seed": r.seed,
                    **({} if reseeded else {"best_loss_fit_seeds": r.loss}),
                    **(
                        {
                            "best_loss_fresh_seeds": float(np.mean(r.fresh_losses)),
                            "best_losses_each_fresh_set": list(r.fresh_losses),
                        }
                        if r.fresh_losses
                        else {}
                    ),
                    "evaluations": r.evaluations,
                    "in_ensemble": r.kept,
                    "best_values": dict(zip(problem.names, map(float, r.values))),
                }
                for r in result.searches
            ],
        },
    }


def _reseeded(method: NelderMead | CmaEs) -> bool:
    """Whether the searches run each generation on fresh seeds (``generation_seeds: fresh``)."""
    return isinstance(method, CmaEs) and method.generation_seeds == "fresh"


def root_seed(config: CalibrationConfig, scenario: Scenario) -> int:
    """The root of every seed a fit spawns: the config's ``seed``, else the scenario's."""
    return scenario.seed if config.seed is None else config.seed


def _significant(value: float, digits: int = 4) -> float:
    return float(f"{value:.{digits}g}")


def _layer_text(
    config: CalibrationConfig, problem: Problem, result: Fit, report: pd.DataFrame, fit_loss: float
) -> str:
    """The fitted layer: YAML with the record's essentials as comments. Checked to validate as
    a scenario before it is returned."""
    values = {n: _significant(v) for n, v in zip(problem.names, result.values)}
    reseeded = _reseeded(config.method)
    rest = f"everything else as {config.layer_extends}" if config.layer_extends else "the rest as declared"
    data: dict[str, Any] = {
        "format": FORMAT_VERSION,
        "name": config.name,
        "description": (
            f"Behavioural parameters fitted to numbers published up to {DATA_CUTOFF_YEAR} "
            f"(calibration config {config.source.name}); {rest}."
        ),
        "parameters": values,
    }
    if config.layer_extends:
        data["extends"] = config.layer_extends
    check = {k: v for k, v in data.items() if k != "extends"}
    validate_scenario(check, {}, source=f"{config.name} layer")
    today = dt.date.today().isoformat()
    lines = [
        f"# Written by `jjj-talent calibrate {config.source}` on {today}.",
        "# Regenerate it rather than editing it. The full record (targets, loss, method, seeds,",
        "# versions) is calibration.json in its record folder (below); its essentials follow.",
        "#",
        *(
            [
                "# Use: extend this file instead of baseline (`extends: " + config.name + "`). It sets only",
                "# `parameters`, so the start and end years, seed, scale and levers stay those of baseline",
                "# or of the child: valid for `history` runs from 2010 and for projections from 2015. A child",
                "# that sets one of these parameters itself overrides the fitted value.",
            ]
            if config.layer_extends
            else [
                "# Use: baseline extends this file, so every scenario that extends baseline runs on these",
                "# values. It sets only `parameters`: valid for `history` runs from 2010 and for",
                "# projections from 2015. A scenario that sets one of them itself overrides the fitted value.",
            ]
        ),
        "#",
        f"# Record: {record_dir(Path(config.layer.name if config.layer else config.name))}/ beside this file "
        "(calibration.json, fit.csv and, for cma-es,",
        "# ensemble.csv: run, compare and validate take `--ensemble` with it for intervals that include",
        "# parameter uncertainty as well as chance).",
        "#",
        *textwrap.wrap("Data rule: " + DATA_RULE, width=98, initial_indent="# ", subsequent_indent="# "),
        "#",
        f"# Scenario run: {problem.scenario.name} {problem.scenario.start_year}-{problem.scenario.end_year}, "
        f"scale {problem.scenario.scale}, {len(problem.seeds)} replicates (common random numbers"
        + (", fresh ones each generation)." if reseeded else ")."),
        *textwrap.wrap(
            f"Method: {config.method.name}, {result.evaluations} evaluations; loss "
            f"{result.start_loss:.5f} at the start values"
            + (" (fit seeds)" if reseeded else "")
            + f", {result.loss:.5f} fitted "
            + ("on the fresh seed sets " if reseeded else "")
            + f"({fit_loss:.5f} on the {config.report_replicates} report replicates).",
            width=98,
            initial_indent="# ",
            subsequent_indent="# ",
        ),
        "# Loss: sum of weight x log(simulated / observed)^2 over the targets.",
        *(
            [
                "#",
                *textwrap.wrap(
                    f"{len(result.searches)} searches from the same start; the fitted values are the "
                    + ("best of the searches' averaged means" if reseeded else "best of all")
                    + (
                        f" on {config.method.selection_sets} fresh"
                        f" set{'s' if config.method.selection_sets != 1 else ''} of seeds (none of the fit's),"
                        if config.method.selection_sets
                        else ","
                    )
                    + f" the ensemble draws from those within {config.method.ensemble_tolerance:.0%} of its loss:",
                    width=98,
                    initial_indent="# ",
                    subsequent_indent="# ",
                ),
                *(
                    f"#   search {r.number} (seed {r.seed}): "
                    + (
                        f"averaged mean, loss {r.loss:.5f} on the fresh seeds"
                        if reseeded
                        else f"best loss {r.loss:.5f}"
                        + (f" ({np.mean(r.fresh_losses):.5f} on the fresh seeds)" if r.fresh_losses else "")
                    )
                    + f", {r.evaluations} evaluations, {'in' if r.kept else 'not in'} the ensemble"
                    for r in result.searches
                ),
            ]
            if len(result.searches) > 1 and isinstance(config.method, CmaEs)
            else []
        ),
        "#",
        "# parameter: start -> fitted [search bounds]",
    ]
    for n, s, v, lo, hi in zip(problem.names, problem.start, result.values, problem.lower, problem.upper):
        lines.append(f"#   {n}: {s:.4g} -> {v:.4g} [{lo:g}, {hi:g}]")
    lines += ["#", "# target (unit indicator year): observed, simulated at start -> fitted"]
    for row in report.itertuples(index=False):
        lines.append(
            f"#   {row.unit} {row.indicator} {row.year} ({row.status}, {row.source}): "
            f"{figure(row.observed)}; {figure(row.start_mean)} ({100 * row.start_relative_error:+.1f}%) "
            f"-> {figure(row.fit_mean)} ({100 * row.fit_relative_error:+.1f}%)"
        )
    body = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
    return "\n".join(lines) + "\n\n" + body
