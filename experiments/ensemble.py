"""Parameter ensembles: weighted parameter vectors, and the draw each replicate runs with.

An ensemble file is a CSV table (``ensemble.csv`` of a ``cma-es`` calibration, see
``experiments/calibration/calibrate.py``): a ``draw`` column (a label, unique), one column per
behavioural parameter it sets (``model/parameters.py``; values within the declared bounds, whole
numbers for whole-number parameters) and ``weight`` (>= 0, summing to more than 0; normalised to
sum 1 here). A draw's values replace the scenario's values of those parameters
(``Scenario.with_overrides``, as the calibration builds its candidates); every other parameter
stays as the scenario sets it.

Replicate ``r`` of a command whose replicate seeds come from the root seed ``ROOT``
(``experiments.replicates.replicate_seeds``) runs with draw ``k_r``: the ``r``-th of
``numpy.random.default_rng(ROOT).choice(draws, p=weights)``. The draws are therefore
reproducible from the root seed; replicate ``r``'s draw does not depend on how many replicates
run; and every scenario of a comparison gets the same ``k_r`` for replicate ``r`` (common
parameters as well as common random numbers), so an effect's interval spans parameter
uncertainty as well as chance. The generator is seeded by ``SeedSequence(ROOT)`` itself, whose
stream is apart from those of the replicate seeds (its children). A single run (``run``) is
replicate 0 of its own seed.

Bad files are refused with ``ScenarioError`` naming the file, line, column, value and what is
allowed (file reading and CSV rows by ``model/loader.py``). Nothing here writes files.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from model.errors import ScenarioError
from model.loader import _csv_rows, problems_message, read_text
from model.parameters import PARAMETERS
from model.scenario import Scenario

DRAW, WEIGHT = "draw", "weight"
"""The ensemble file's columns besides the parameters."""
KIND = "ensemble"
"""What the file is, in messages."""


@dataclass(frozen=True)
class Ensemble:
    """A validated ensemble.

    Attributes:
        path: the file it was read from.
        sha256: SHA-256 of the file's bytes.
        names: the parameters it sets, in file order.
        labels: each draw's ``draw`` value, as written.
        lines: the file line of each draw.
        values: one row per draw, one column per name.
        weights: each draw's weight, normalised to sum 1.
    """

    path: Path
    sha256: str
    names: tuple[str, ...]
    labels: tuple[str, ...]
    lines: tuple[int, ...]
    values: np.ndarray
    weights: np.ndarray

    @property
    def size(self) -> int:
        return len(self.labels)

    def replicate_draws(self, root_seed: int, replicates: int) -> list[int]:
        """The draw (row index) of each of ``replicates`` replicates under ``root_seed``."""
        chosen = np.random.default_rng(root_seed).choice(self.size, size=replicates, p=self.weights)
        return [int(index) for index in chosen]

    def overrides(self, index: int) -> dict[str, float | int]:
        """The dotted-path overrides of draw ``index`` (``parameters.NAME: value``)."""
        return {
            f"parameters.{name}": int(value) if PARAMETERS[name].integer else float(value)
            for name, value in zip(self.names, self.values[index], strict=True)
        }

    def scenario_for(self, scenario: Scenario, index: int) -> Scenario:
        """``scenario`` with draw ``index``'s parameter values."""
        return scenario.with_overrides(self.overrides(index), source=f"{self.path}:{self.lines[index]}")

    def record(self, draws: Sequence[int]) -> dict[str, Any]:
        """What a manifest or summary says about the ensemble and the draws used, replicate by
        replicate (``draws``: row indices, as ``replicate_draws`` returns them)."""
        return {
            "file": str(self.path),
            "sha256": self.sha256,
            "draws": self.size,
            "parameters": list(self.names),
            "draw_per_replicate": [self.labels[index] for index in draws],
            "distinct_draws_used": len(set(draws)),
        }


def interval_kind(replicates: int, record: dict[str, Any] | None) -> str:
    """What a 90 % interval over ``replicates`` replicates spans, given a manifest's ``ensemble``
    record (None: no ensemble), e.g. ``90 % interval over 5 replicates (chance only)``."""
    over = f"90 % interval over {replicates} replicate{'' if replicates == 1 else 's'}"
    if not record:
        return f"{over} (chance only)"
    if record["draws"] == 1:
        return f"{over} (chance only, at the one draw of ensemble {record['file']})"
    return f"{over} (chance and parameter uncertainty: ensemble {record['file']}, {record['draws']} draws)"


def choose_ensemble(flag: Path | None, scenario: Scenario, source: str | Path) -> Ensemble | None:
    """The ensemble a command uses: the file given on the command line (``--ensemble``), else the
    one the scenario's ``ensemble`` key names, else None."""
    if flag is not None:
        return load_ensemble(flag)
    if scenario.ensemble is None:
        return None
    try:
        return load_ensemble(scenario.ensemble)
    except ScenarioError as err:
        raise ScenarioError(f"{err} (the file named by the `ensemble` key of {source})") from None


def load_ensemble(path: str | Path) -> Ensemble:
    """Read and check an ensemble file (module docstring).

    Raises:
        ScenarioError: the file is missing, unreadable, not UTF-8 text or not a CSV table; a
            column is repeated, ``draw`` or ``weight`` is missing, or a column is not a declared
            parameter (the allowed ones are listed); there are no parameter columns or no rows; a
            row has more fields than the header; a draw is empty or repeated; a value is not a
            finite number or outside its parameter's bounds; a weight is not a finite number >= 0;
            the weights sum to 0. One problem gives one line, more are listed (the first 20).
    """
    path = Path(path)
    if path.is_dir():
        raise ScenarioError(f"{path}: a folder; allowed: an {KIND} CSV file (draw, parameters..., weight)")
    text = read_text(path, KIND)
    rows, header_line = _csv_rows(path, text)
    allowed = f"{DRAW}, {WEIGHT} and behavioural parameters (jjj-talent parameters: {', '.join(PARAMETERS)})"
    if not rows:
        raise ScenarioError(f"{path}: empty file; allowed: a header line ({allowed}) and one draw a row")
    (_, header), body = rows[0], rows[1:]
    header = [name.strip() for name in header]
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise ScenarioError(
            f"{path}:{header_line}: column {repeated[0]!r} appears more than once in the header; "
            "allowed: each column once"
        )
    missing = [name for name in (DRAW, WEIGHT) if name not in header]
    if missing:
        raise ScenarioError(
            f"{path}:{header_line}: not an {KIND} table: no column {' or '.join(map(repr, missing))} "
            f"(the header has: {', '.join(map(repr, header))}); required: {allowed}"
        )
    unknown = [name for name in header if name not in (DRAW, WEIGHT) and name not in PARAMETERS]
    if unknown:
        raise ScenarioError(
            f"{path}:{header_line}: column {unknown[0]!r}: unknown parameter; allowed: "
            f"{DRAW}, {WEIGHT}, {', '.join(PARAMETERS)}"
        )
    names = tuple(name for name in header if name in PARAMETERS)
    if not names:
        raise ScenarioError(
            f"{path}:{header_line}: no parameter columns; allowed: one or more of {', '.join(PARAMETERS)}"
        )
    if not body:
        raise ScenarioError(f"{path}: a header line and no draws; allowed: one draw a row after the header")
    problems: list[str] = []
    labels: list[str] = []
    lines: list[int] = []
    values: list[list[float]] = []
    weights: list[float] = []
    first_line: dict[str, int] = {}
    for line, fields in body:
        if len(fields) != len(header):
            problems.append(
                f"{path}:{line}: {len(fields)} fields, the header has {len(header)}; allowed: one "
                "field a column"
            )
            continue
        record = dict(zip(header, (field.strip() for field in fields), strict=True))
        label = record[DRAW]
        if not label:
            problems.append(f"{path}:{line}: column {DRAW}: empty; allowed: a label for the draw")
        elif label in first_line:
            problems.append(
                f"{path}:{line}: column {DRAW}: value {label!r} repeats line {first_line[label]}; "
                "allowed: each draw once"
            )
        first_line.setdefault(label, line)
        row: list[float] = []
        for name in names:
            parameter = PARAMETERS[name]
            number = _number(record[name])
            why = "not a finite number" if number is None else parameter.check(number)
            if why is not None:
                problems.append(
                    f"{path}:{line}: column {name}: value {record[name]!r}: {why}; allowed: "
                    f"{parameter.lower:g} to {parameter.upper:g} ({parameter.unit})"
                    + (", a whole number" if parameter.integer else "")
                )
            row.append(math.nan if number is None else number)
        weight = _number(record[WEIGHT])
        if weight is None or weight < 0:
            problems.append(
                f"{path}:{line}: column {WEIGHT}: value {record[WEIGHT]!r}: "
                f"{'not a finite number' if weight is None else 'negative'}; allowed: a finite number >= 0"
            )
        labels.append(label)
        lines.append(line)
        values.append(row)
        weights.append(math.nan if weight is None else weight)
    if problems:
        if len(problems) == 1:
            raise ScenarioError(problems[0])
        raise ScenarioError(problems_message(str(path), KIND, [f"  {p}" for p in problems]))
    total = math.fsum(weights)
    if not total > 0 or not math.isfinite(total):
        raise ScenarioError(
            f"{path}: column {WEIGHT}: the weights sum to {total:g}; allowed: weights >= 0 whose sum is "
            "a finite number above 0"
        )
    return Ensemble(
        path=path,
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        names=names,
        labels=tuple(labels),
        lines=tuple(lines),
        values=np.array(values, dtype=float).reshape(len(labels), len(names)),
        weights=np.array(weights, dtype=float) / total,
    )


def _number(text: str) -> float | None:
    """``text`` as a finite float, or None."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None
