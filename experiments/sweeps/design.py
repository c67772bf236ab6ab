"""Experiment files and their designs: which inputs vary, over what, and the points to run.

An experiment is a YAML file (see ``experiments/example-sweep.yaml``)::

    name: example-sweep
    scenario: ../scenarios/baseline.yaml     # the base scenario, relative to this file
    scale: 2000                              # optional: overrides the scenario's scale
    end_year: 2020                           # optional: the horizon (the scenario's end_year)
    inputs:                                  # dotted paths, each a range or a list of values
      parameters.beta_wage: {lower: 1.0, upper: 2.0}
      levers.graduate_subsidy.values.2017-07-01: {values: [0, 30000, 60000]}
    design: {kind: latin_hypercube, samples: 8}
    replicates: 2                            # seeds per design point
    seed: 20170626                           # root seed (default: the scenario's seed)
    outputs:
      indicators: [hebei_share, talents.jjj] # model/indicators.py names
      years: [2018, 2020]                    # default: every year

A dotted path names a declared parameter (``parameters.NAME``, model/parameters.py), a lever's
value from a date (``levers.NAME.values.YYYY-MM-DD``, model/levers.py) or a scenario field
(``scale``, ``start_year``, ``end_year``); a range must lie within the declared bounds. Instead of
``scenario`` an experiment may name a test ``function`` (``module:attribute``, called as
``f(inputs, seed) -> DataFrame(year, indicator, value)``), whose inputs are free names: the
sweep, store and sensitivity code then run it exactly as they run the model.

Designs (SALib's samplers where it has the design):

| kind | options | points |
|---|---|---|
| ``grid`` | ``levels`` (per range; a range may set its own) | product of the levels |
| ``latin_hypercube`` | ``samples`` | ``samples`` (``SALib.sample.latin``) |
| ``sobol`` | ``base_samples`` (a power of 2), ``second_order`` | N(D+2), or N(2D+2) with second order (``SALib.sample.sobol``) |
| ``morris`` | ``trajectories``, ``levels`` (even) | r(D+1) (``SALib.sample.morris``) |

A list of values enters SALib's designs as a uniform [0, 1] input cut into equal slices, one per
value; integer parameters and scenario fields are rounded. Replicate seeds come from
``experiments.replicates.replicate_seeds``, the same for every design point (common random
numbers); the sampler draws from ``np.random.default_rng(seed)``.

Bad files are refused with ``ScenarioError`` naming the file, line, key path, value and what is
allowed. Nothing in this module writes files.
"""

from __future__ import annotations

import datetime as dt
import importlib
import itertools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from experiments.replicates import replicate_seeds
from model.errors import ScenarioError
from model.levers import LEVERS
from model.loader import PROBLEM_LIMIT, Mark, load_yaml, problems_message
from model.parameters import PARAMETERS
from model.scenario import LAST_YEAR, START_YEARS, Scenario, load_scenario

DESIGN_KINDS = ("grid", "latin_hypercube", "sobol", "morris")
SCENARIO_FIELDS = ("scale", "start_year", "end_year")
MAX_RUNS = 1_000_000
ALLOWED_PATHS = (
    "parameters.NAME (see `jjj-talent parameters`), levers.NAME.values.YYYY-MM-DD "
    "(see `jjj-talent levers`), " + ", ".join(SCENARIO_FIELDS)
)


# --- the file's schema -----------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InputSpec(_Strict):
    """One varied input: a range (``lower``, ``upper``) or a list of ``values``."""

    lower: float | None = Field(None, description="Smallest value of a range.")
    upper: float | None = Field(None, description="Largest value of a range.")
    levels: int | None = Field(None, ge=2, le=1000, description="Grid levels of this range.")
    values: list[float] | None = Field(None, min_length=1, description="The values to try.")

    @model_validator(mode="after")
    def _range_or_values(self) -> InputSpec:
        is_range = self.lower is not None or self.upper is not None
        if is_range == (self.values is not None):
            raise ValueError("give either lower and upper, or values")
        if is_range:
            if self.lower is None or self.upper is None:
                raise ValueError("a range needs both lower and upper")
            if not self.lower < self.upper:
                raise ValueError(f"lower ({self.lower:g}) must be below upper ({self.upper:g})")
        elif self.levels is not None:
            raise ValueError("levels applies to a range, not to a list of values")
        return self


class GridDesign(_Strict):
    kind: Literal["grid"]
    levels: int = Field(3, ge=2, le=1000, description="Evenly spaced levels of each range, ends included.")


class LatinHypercubeDesign(_Strict):
    kind: Literal["latin_hypercube"]
    samples: int = Field(ge=2, le=MAX_RUNS, description="Number of points.")


class SobolDesign(_Strict):
    kind: Literal["sobol"]
    base_samples: int = Field(ge=2, le=2**20, description="N of Saltelli's scheme, a power of 2.")
    second_order: bool = Field(False, description="Also estimate second-order indices (N(2D+2) points).")

    @model_validator(mode="after")
    def _power_of_two(self) -> SobolDesign:
        if self.base_samples & (self.base_samples - 1):
            raise ValueError(
                f"base_samples must be a power of 2 (Sobol' sequences lose their balance "
                f"otherwise), e.g. {1 << self.base_samples.bit_length() - 1} or "
                f"{1 << self.base_samples.bit_length()}"
            )
        return self


class MorrisDesign(_Strict):
    kind: Literal["morris"]
    trajectories: int = Field(ge=2, le=100_000, description="Number of one-at-a-time trajectories (r).")
    levels: int = Field(4, ge=2, le=100, description="Grid levels of each input (p), even.")

    @model_validator(mode="after")
    def _even_levels(self) -> MorrisDesign:
        if self.levels % 2:
            raise ValueError("levels must be even (Morris' step is levels / (2 (levels - 1)))")
        return self


DesignSpec = Annotated[
    GridDesign | LatinHypercubeDesign | SobolDesign | MorrisDesign, Field(discriminator="kind")
]


class OutputSpec(_Strict):
    indicators: list[str] = Field(min_length=1, description="Indicator names (model/indicators.py).")
    years: list[int] | None = Field(None, min_length=1, description="Years to keep; default every year.")


class ExperimentFile(_Strict):
    """What an experiment file may say (before paths and bounds are checked)."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", description="Short id; names the default store.")
    description: str = ""
    scenario: str | None = Field(None, description="Base scenario file, relative to this file.")
    function: str | None = Field(
        None,
        pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$",
        description="A test function module:attribute, instead of the model.",
    )
    scale: int | None = Field(None, ge=1, le=1_000_000, description="Overrides the scenario's scale.")
    end_year: int | None = Field(None, ge=START_YEARS[0] + 1, le=LAST_YEAR, description="The horizon.")
    inputs: dict[str, InputSpec] = Field(min_length=1)
    design: DesignSpec
    replicates: int = Field(1, ge=1, le=100_000)
    seed: int | None = Field(None, ge=0, lt=2**63, description="Root seed; default the scenario's.")
    outputs: OutputSpec


# --- resolved experiment ---------------------------------------------------------------------


@dataclass(frozen=True)
class Input:
    """A varied input, checked: a range ``[lower, upper]`` or a tuple of ``values``.

    ``integer`` inputs are rounded after sampling; ``levels`` is a range's own grid levels.
    """

    path: str
    lower: float | None = None
    upper: float | None = None
    values: tuple[float, ...] | None = None
    integer: bool = False
    levels: int | None = None

    @property
    def is_range(self) -> bool:
        return self.values is None

    def unit_bounds(self) -> list[float]:
        """Bounds of the input as SALib samples it: the range, or [0, 1] for a list."""
        return [float(self.lower), float(self.upper)] if self.is_range else [0.0, 1.0]  # type: ignore[arg-type]

    def value(self, raw: float) -> float:
        """The input's value for a raw sampler value (a list's slice, an integer's rounding)."""
        if self.values is not None:
            index = min(int(math.floor(raw * len(self.values))), len(self.values) - 1)
            value = self.values[max(index, 0)]
        else:
            value = min(max(raw, float(self.lower)), float(self.upper))  # type: ignore[arg-type]
        return float(round(value)) if self.integer else float(value)

    def grid(self, levels: int) -> list[float]:
        """The input's grid levels: its values, or ``levels`` evenly spaced over the range
        (ends included; the input's own ``levels`` first), integers rounded and deduplicated."""
        points = (
            self.values
            if self.values is not None
            else np.linspace(float(self.lower), float(self.upper), self.levels or levels)  # type: ignore[arg-type]
        )
        return list(dict.fromkeys(float(round(v)) if self.integer else float(v) for v in points))


@dataclass(frozen=True)
class Design:
    """The points of an experiment, in design order.

    Attributes:
        kind: one of ``DESIGN_KINDS``.
        inputs: the varied inputs, in file order (the columns of ``points``).
        points: one row a point, one column an input's value (floats).
        samples: the sampler's raw matrix (points x inputs) in ``Input.unit_bounds`` units, which
            SALib's analyses read; for a grid, the values themselves.
    """

    kind: str
    inputs: tuple[Input, ...]
    points: pd.DataFrame
    samples: np.ndarray

    def problem(self) -> dict[str, Any]:
        """SALib's problem definition."""
        return {
            "num_vars": len(self.inputs),
            "names": [i.path for i in self.inputs],
            "bounds": [i.unit_bounds() for i in self.inputs],
        }


@dataclass(frozen=True)
class Experiment:
    """A validated experiment file.

    Attributes:
        source: the file it was read from.
        base: the base scenario with the file's ``scale`` and ``end_year`` applied; None for a
            function experiment.
        function: ``module:attribute`` of a test function, or None.
        root_seed: the root of the replicate seeds and of the design's sampler.
    """

    name: str
    description: str
    source: Path
    base: Scenario | None
    function: str | None
    inputs: tuple[Input, ...]
    design: GridDesign | LatinHypercubeDesign | SobolDesign | MorrisDesign
    replicates: int
    root_seed: int
    indicators: tuple[str, ...]
    years: tuple[int, ...] | None

    def seeds(self) -> list[int]:
        """One seed per replicate (``experiments.replicates.replicate_seeds``)."""
        return replicate_seeds(self.root_seed, self.replicates)

    def sample(self) -> Design:
        return sample(self.design, self.inputs, self.root_seed)

    def size(self) -> int:
        """Runs in the experiment (points x replicates), without sampling."""
        return design_size(self.design, self.inputs) * self.replicates

    def scenario_at(self, values: Mapping[str, float], seed: int) -> Scenario:
        """The base scenario with one point's values and a run's seed."""
        if self.base is None:
            raise ScenarioError(f"{self.source}: a function experiment has no scenario")
        overrides: dict[str, Any] = {path: _typed(path, value) for path, value in values.items()}
        overrides["seed"] = int(seed)
        return self.base.with_overrides(overrides, source=f"{self.source} (point {dict(values)})")

    def resolve_function(self) -> Callable[..., pd.DataFrame]:
        if self.function is None:
            raise ScenarioError(f"{self.source}: this experiment runs the model, not a function")
        return import_function(self.function, where=f"{self.source}: function")

    def as_data(self) -> dict[str, Any]:
        """Plain data of the resolved experiment (what the store keeps beside the runs)."""
        return {
            "name": self.name,
            "description": self.description,
            "source": str(self.source),
            "scenario": self.base.as_data() if self.base is not None else None,
            "function": self.function,
            "inputs": [
                {
                    "path": i.path,
                    "lower": i.lower,
                    "upper": i.upper,
                    "values": list(i.values) if i.values is not None else None,
                    "integer": i.integer,
                    "levels": i.levels,
                }
                for i in self.inputs
            ],
            "design": self.design.model_dump(),
            "replicates": self.replicates,
            "seed": self.root_seed,
            "seeds": self.seeds(),
            "outputs": {
                "indicators": list(self.indicators),
                "years": list(self.years) if self.years is not None else None,
            },
        }


def _typed(path: str, value: float) -> float | int:
    """Scenario fields and integer parameters as ints, the rest as floats."""
    if path in SCENARIO_FIELDS:
        return int(round(value))
    if path.startswith("parameters.") and PARAMETERS[path.split(".", 1)[1]].integer:
        return int(round(value))
    return float(value)


def import_function(spec: str, where: str) -> Callable[..., pd.DataFrame]:
    module_name, _, attribute = spec.partition(":")
    try:
        function = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as err:
        raise ScenarioError(
            f"{where}: value {spec!r}: cannot import it ({err}); allowed: "
            "module:function importable where the sweep runs"
        ) from None
    if not callable(function):
        raise ScenarioError(f"{where}: value {spec!r}: not callable; allowed: a function f(inputs, seed)")
    return function  # type: ignore[no-any-return]


# --- sampling --------------------------------------------------------------------------------


def design_size(design: BaseModel, inputs: tuple[Input, ...]) -> int:
    """Points of a design, computed without sampling."""
    d = len(inputs)
    if isinstance(design, GridDesign):
        return math.prod(len(i.grid(design.levels)) for i in inputs)
    if isinstance(design, LatinHypercubeDesign):
        return design.samples
    if isinstance(design, SobolDesign):
        return design.base_samples * ((2 * d + 2) if design.second_order else (d + 2))
    if isinstance(design, MorrisDesign):
        return design.trajectories * (d + 1)
    raise ScenarioError(f"design: unknown design {design!r}; allowed: {', '.join(DESIGN_KINDS)}")


def sample(design: BaseModel, inputs: tuple[Input, ...], seed: int) -> Design:
    """Draw a design's points (deterministic in ``seed``)."""
    from SALib.sample import latin, morris, sobol  # SALib pulls in matplotlib: only when sampling

    names = [i.path for i in inputs]
    problem = {"num_vars": len(inputs), "names": names, "bounds": [i.unit_bounds() for i in inputs]}
    rng = np.random.default_rng(seed)
    if isinstance(design, GridDesign):
        raw = np.array(list(itertools.product(*(i.grid(design.levels) for i in inputs))), dtype=float)
        kind = "grid"
    elif isinstance(design, LatinHypercubeDesign):
        raw = latin.sample(problem, design.samples, seed=rng)
        kind = "latin_hypercube"
    elif isinstance(design, SobolDesign):
        raw = sobol.sample(
            problem, design.base_samples, calc_second_order=design.second_order, scramble=True, seed=rng
        )
        kind = "sobol"
    elif isinstance(design, MorrisDesign):
        raw = morris.sample(problem, design.trajectories, num_levels=design.levels, seed=rng)
        kind = "morris"
    else:
        raise ScenarioError(f"design: unknown design {design!r}; allowed: {', '.join(DESIGN_KINDS)}")
    raw = np.asarray(raw, dtype=float).reshape(-1, len(inputs))
    values = raw if kind == "grid" else np.array([[i.value(x) for i, x in zip(inputs, row)] for row in raw])
    points = pd.DataFrame(values.reshape(-1, len(inputs)), columns=names)
    return Design(kind=kind, inputs=inputs, points=points, samples=raw)


# --- reading and checking a file -------------------------------------------------------------


def load_experiment(path: str | Path) -> Experiment:
    """Read and check an experiment file; ``ScenarioError`` names what is wrong."""
    path = Path(path)
    data, marks = _read_yaml(path)
    try:
        spec = ExperimentFile.model_validate(data)
    except ValidationError as err:
        errors = err.errors()
        lines = [_describe(e, marks, str(path)) for e in errors[:PROBLEM_LIMIT]]
        raise ScenarioError(problems_message(str(path), "experiment", lines, total=len(errors))) from None
    return _resolve(spec, path, marks)


def _where(marks: dict[tuple[str, ...], Mark], loc: tuple[str, ...], source: str) -> str:
    for depth in range(len(loc), -1, -1):
        if loc[:depth] in marks:
            file, line, column = marks[loc[:depth]]
            return f"{file}:{line}:{column}"
    return source


def _refuse(
    marks: dict[tuple[str, ...], Mark],
    loc: tuple[str, ...],
    source: str,
    value: Any,
    problem: str,
    allowed: str,
) -> ScenarioError:
    return ScenarioError(
        f"{_where(marks, loc, source)}: {'.'.join(loc) or '(top level)'}: "
        f"value {_short(value)}: {problem}; allowed: {allowed}"
    )


def _resolve(spec: ExperimentFile, path: Path, marks: dict[tuple[str, ...], Mark]) -> Experiment:
    source = str(path)
    if (spec.scenario is None) == (spec.function is None):
        raise _refuse(
            marks,
            ("scenario",) if spec.scenario else (),
            source,
            {"scenario": spec.scenario, "function": spec.function},
            "an experiment names exactly one of scenario and function",
            "scenario: a scenario file relative to the experiment, or function: module:attribute",
        )
    base: Scenario | None = None
    if spec.scenario is not None:
        scenario_path = path.parent / spec.scenario
        if not scenario_path.is_file():
            raise _refuse(
                marks,
                ("scenario",),
                source,
                spec.scenario,
                f"no file {scenario_path}",
                "a scenario file, relative to the experiment file's folder",
            )
        base = load_scenario(scenario_path)
        fixed = {key: getattr(spec, key) for key in ("scale", "end_year") if getattr(spec, key) is not None}
        if fixed:
            try:
                base = base.with_overrides(fixed, source=f"{source} (scale, end_year)")
            except ScenarioError as err:
                raise ScenarioError(f"{_where(marks, (next(iter(fixed)),), source)}: {err}") from None
    else:
        import_function(spec.function, where=f"{_where(marks, ('function',), source)}: function")  # type: ignore[arg-type]
        for key in ("scale", "end_year"):
            if getattr(spec, key) is not None:
                raise _refuse(
                    marks,
                    (key,),
                    source,
                    getattr(spec, key),
                    "a function experiment has no scenario",
                    "scale and end_year only with scenario",
                )

    inputs = tuple(_check_input(name, item, base, marks, source) for name, item in spec.inputs.items())
    if base is not None:
        _check_extremes(inputs, base, marks, source)
    experiment = Experiment(
        name=spec.name,
        description=spec.description,
        source=path,
        base=base,
        function=spec.function,
        inputs=inputs,
        design=spec.design,
        replicates=spec.replicates,
        root_seed=spec.seed if spec.seed is not None else (base.seed if base is not None else 0),
        indicators=tuple(dict.fromkeys(spec.outputs.indicators)),
        years=tuple(sorted(set(spec.outputs.years))) if spec.outputs.years else None,
    )
    if experiment.years is not None and base is not None:
        first, last = _common_years(base, inputs)
        for i, year in enumerate(spec.outputs.years or []):
            if not first <= year <= last:
                raise _refuse(
                    marks,
                    ("outputs", "years", str(i)),
                    source,
                    year,
                    "outside the runs",
                    f"{first} to {last} (the years every run simulates)",
                )
    size = experiment.size()
    if size > MAX_RUNS:
        raise _refuse(
            marks,
            ("design",),
            source,
            spec.design.model_dump(),
            f"{size:,} runs is too many",
            f"at most {MAX_RUNS:,} runs (points x replicates)",
        )
    return experiment


def _common_years(base: Scenario, inputs: tuple[Input, ...]) -> tuple[int, int]:
    """The years every run covers: latest start year to earliest end year."""
    first, last = base.start_year, base.end_year
    for item in inputs:
        lowest = min(item.values) if item.values is not None else item.lower
        highest = max(item.values) if item.values is not None else item.upper
        if item.path == "start_year":
            first = max(first, int(highest))  # type: ignore[arg-type]
        elif item.path == "end_year":
            last = min(last, int(lowest))  # type: ignore[arg-type]
    return first, last


def _check_input(
    path: str, item: InputSpec, base: Scenario | None, marks: dict[tuple[str, ...], Mark], source: str
) -> Input:
    loc = ("inputs", path)
    if base is None:  # a function's inputs are its own names
        return Input(
            path, item.lower, item.upper, tuple(item.values) if item.values else None, levels=item.levels
        )
    parts = path.split(".")
    lower_bound: float
    upper_bound: float
    integer = False
    unit = ""
    if len(parts) == 2 and parts[0] == "parameters":
        if parts[1] not in PARAMETERS:
            raise _refuse(
                marks,
                loc,
                source,
                path,
                f"unknown parameter {parts[1]!r}",
                "parameters." + ", parameters.".join(sorted(PARAMETERS)),
            )
        p = PARAMETERS[parts[1]]
        lower_bound, upper_bound, integer, unit = p.lower, p.upper, p.integer, p.unit
    elif len(parts) == 4 and parts[0] == "levers" and parts[2] == "values":
        if parts[1] not in LEVERS:
            raise _refuse(
                marks,
                loc,
                source,
                path,
                f"unknown lever {parts[1]!r}",
                "levers.NAME.values.YYYY-MM-DD with NAME one of " + ", ".join(sorted(LEVERS)),
            )
        try:
            date = dt.date.fromisoformat(parts[3])
        except ValueError:
            raise _refuse(
                marks, loc, source, path, f"{parts[3]!r} is not a date", "levers.NAME.values.YYYY-MM-DD"
            ) from None
        if not START_YEARS[0] <= date.year <= LAST_YEAR:
            raise _refuse(
                marks,
                loc,
                source,
                path,
                f"date {date} is outside the simulated years",
                f"dates from {START_YEARS[0]} to {LAST_YEAR}",
            )
        lever = LEVERS[parts[1]]
        lower_bound, upper_bound, unit = lever.lower, lever.upper, lever.unit
    elif len(parts) == 1 and parts[0] in SCENARIO_FIELDS:
        if parts[0] == "start_year" and (item.values is None or set(item.values) - set(START_YEARS)):
            raise _refuse(
                marks,
                loc,
                source,
                item.values if item.values is not None else item.model_dump(),
                "start_year is one of the base years",
                f"values: a list of {', '.join(map(str, START_YEARS))}",
            )
        bounds = {
            "scale": (1, 1_000_000),
            "start_year": (min(START_YEARS), max(START_YEARS)),
            "end_year": (base.start_year + 1, LAST_YEAR),
        }[parts[0]]
        lower_bound, upper_bound, integer = bounds[0], bounds[1], True
        unit = {"scale": "persons per row", "start_year": "base year", "end_year": "last year"}[parts[0]]
    else:
        raise _refuse(marks, loc, source, path, "not a path the sweep can vary", ALLOWED_PATHS)

    values = tuple(item.values) if item.values is not None else None
    checked = (
        {"lower": item.lower, "upper": item.upper}
        if values is None
        else {f"values.{i}": v for i, v in enumerate(values)}
    )
    for key, value in checked.items():
        if value is None:
            continue
        if not lower_bound <= value <= upper_bound:
            raise _refuse(
                marks,
                loc + tuple(key.split(".")),
                source,
                value,
                "outside the declared bounds",
                f"{lower_bound:g} to {upper_bound:g}" + (f" ({unit})" if unit else ""),
            )
        if integer and values is not None and float(value) != int(value):
            raise _refuse(
                marks,
                loc + tuple(key.split(".")),
                source,
                value,
                "not a whole number",
                f"whole numbers from {lower_bound:g} to {upper_bound:g}",
            )
    return Input(path, item.lower, item.upper, values, integer=integer, levels=item.levels)


def _check_extremes(
    inputs: tuple[Input, ...], base: Scenario, marks: dict[tuple[str, ...], Mark], source: str
) -> None:
    """Every input's extreme values must make a valid scenario (e.g. end_year after start_year)."""
    for item in inputs:
        candidates = item.values if item.values is not None else (item.lower, item.upper)
        for value in candidates:
            try:
                base.with_overrides({item.path: _typed(item.path, float(value))}, source="scenario")  # type: ignore[arg-type]
            except ScenarioError as err:
                detail = str(err).split("\n", 1)[-1].strip()
                raise _refuse(
                    marks,
                    ("inputs", item.path),
                    source,
                    value,
                    f"makes an invalid scenario ({detail})",
                    "values the scenario accepts",
                ) from None


def _read_yaml(path: Path) -> tuple[dict[str, Any], dict[tuple[str, ...], Mark]]:
    data, marks = load_yaml(path, kind="experiment", keys="name, scenario, inputs, design, outputs, ...")
    return _stringify_keys(data), marks


def _stringify_keys(data: Any) -> Any:
    """YAML reads ``2017-07-01`` as a date and ``2020`` as an int; paths are text."""
    if isinstance(data, dict):
        return {
            (
                k.isoformat() if isinstance(k, dt.date) else str(k) if not isinstance(k, str) else k
            ): _stringify_keys(v)
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [_stringify_keys(v) for v in data]
    return data


def _describe(error: Any, marks: dict[tuple[str, ...], Mark], source: str) -> str:
    loc = tuple(str(part) for part in error["loc"])
    kind = None
    if len(loc) >= 2 and loc[0] == "design" and loc[1] in DESIGN_KINDS:
        kind, loc = loc[1], loc[:1] + loc[2:]  # pydantic names the union member; the file does not
    key_path = ".".join(loc) or "(top level)"
    where = _where(marks, loc, source)
    value = _short(error.get("input"))
    if error["type"] == "extra_forbidden":
        return (
            f"  {where}: {key_path}: value {value}: unknown key; "
            f"allowed: {', '.join(_allowed_keys(loc[:-1], kind))}"
        )
    if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
        tag = error.get("input", {}).get("kind") if isinstance(error.get("input"), dict) else None
        return (
            f"  {where}: {key_path}.kind: value {_short(tag)}: unknown design; "
            f"allowed: {', '.join(DESIGN_KINDS)}"
        )
    message = error["msg"].removeprefix("Value error, ")
    return f"  {where}: {key_path}: value {value}: {message}"


_DESIGN_MODELS: dict[str, type[BaseModel]] = {
    "grid": GridDesign,
    "latin_hypercube": LatinHypercubeDesign,
    "sobol": SobolDesign,
    "morris": MorrisDesign,
}


def _allowed_keys(parent: tuple[str, ...], kind: str | None = None) -> list[str]:
    if parent == ():
        return list(ExperimentFile.model_fields)
    if parent == ("outputs",):
        return list(OutputSpec.model_fields)
    if parent == ("design",) and kind in _DESIGN_MODELS:
        return list(_DESIGN_MODELS[kind].model_fields)
    if len(parent) == 2 and parent[0] == "inputs":
        return list(InputSpec.model_fields)
    return []


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
