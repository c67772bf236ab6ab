"""Scenarios: what-if files, validated at the boundary.

A scenario is a YAML file (see ``scenarios/baseline.yaml``)::

    format: 2                    # what values mean (FORMAT_VERSION); see below
    name: graduates-to-hebei
    extends: baseline            # a parent file in the same folder (".yaml" optional)
    parameters: {beta_wage: 1.8} # any declared parameter (model/parameters.py)
    ensemble: fitted-ensemble.csv  # optional: parameter draws (see below)
    levers:                      # any declared lever (model/levers.py)
      graduate_subsidy:
        nodes: [hebei]           # node ids, provinces, pole:, zone:, axis:, or jjj
        values: {2017-07-01: 30000}

``extends`` merge rule: the child starts from the resolved parent; top-level fields it sets
replace the parent's; ``parameters`` are merged name by name; ``levers`` are merged lever by
lever, and a lever the child sets replaces the parent's setting of that lever as a whole (its
targets and all its dated values), so that what a lever does can be read in one place.

``ensemble`` names a parameter ensemble file (``experiments/ensemble.py``), relative to the file
that sets it (stored as an absolute path once resolved, so a child inherits the parent's file
and a resolved scenario written elsewhere still names it). It is read by ``run``, ``compare`` and ``validate``, whose ``--ensemble`` wins
over it: each replicate then runs with one weighted draw of parameter values. Like ``extends``,
it is a file name and plays no part in ``Scenario.sha256``; what ran records the ensemble's own
hash.

``format`` says which meaning of the values a file was written for. A file without it was
written for format 1; it is refused, with what changed and how to update it, if it sets a lever
or parameter whose meaning changed since (``CHANGED_IN_FORMAT_2``).

Bad files are refused with ``ScenarioError`` naming the file, line, key path, value and what is
allowed: files that are not plain, safe YAML mappings by ``model/loader.py``, which reads them;
values the format does not allow by ``validate`` here (the first 20 problems, and a count).
Nothing in this module writes files.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator

from model.errors import ScenarioError
from model.firms import SECTORS
from model.layout import Layout, default_layout
from model.levers import LEVERS, TARGET_KINDS, Lever, LeverSchedule
from model.loader import PROBLEM_LIMIT, Mark, load_yaml, problems_message
from model.parameters import PARAMETERS
from model.talents import GROUPS

START_YEARS = (2010, 2015)
LAST_YEAR = 2030

FORMAT_VERSION = 2
"""What lever and parameter values mean. A file states it (``format: 2``); a file without it was
written for format 1 and is refused if it sets anything whose meaning changed since
(``CHANGED_IN_FORMAT_2``)."""

CHANGED_IN_FORMAT_2: dict[tuple[str, str], str] = {
    ("levers", "graduate_subsidy"): (
        "paid only to graduates of universities in `graduated_in` (default: outside Hebei) and valued "
        "as its present value over the expected stay, not as a permanent raise"
    ),
    (
        "levers",
        "settlement_subsidy",
    ): "valued as its present value over the expected stay, not as a permanent raise",
    ("levers", "talent_card"): (
        "a card waives the hukou barrier in the nodes of the province that issued it only, and no "
        "longer gives a services floor or half the cross-province barrier"
    ),
    ("levers", "credential_recognition"): (
        "removes its part of the cross-province barrier (credential_barrier_share) for moves between "
        "two target nodes, both ways"
    ),
    ("levers", "insurance_portability"): (
        "removes its part of the cross-province barrier (1 - credential_barrier_share) for moves "
        "between two target nodes, both ways"
    ),
    ("levers", "high_skill_alliance"): "trainees have no degree: counted as skilled workers, not as talents",
    ("levers", "team_service"): "full-time equivalents raise the services index where they serve",
    ("levers", "flexible_service"): "full-time equivalents raise the services index where they serve",
    ("levers", "poverty_support"): "full-time equivalents raise the services index where they serve",
    (
        "parameters",
        "money_utility_cny",
    ): "removed: one-off money is valued by money_discount_rate and expected_stay_years",
    ("parameters", "card_services_level"): "removed: a talent card gives no services floor",
}


class LeverSetting(BaseModel):
    """Where a lever applies and its dated values.

    Each lever's own model (``_lever_setting_model``) has only the target fields the lever uses
    (``Lever.targets``); unset targets take the lever's defaults.
    """

    model_config = ConfigDict(extra="forbid")

    values: dict[dt.date, float] = Field(min_length=1, description="Value from each date on.")
    source: str = Field(default="", description="Plan section or assumption behind the values.")

    @field_validator("nodes", "origins", "graduated_in", check_fields=False)
    @classmethod
    def _known_places(cls, places: list[str] | None) -> list[str] | None:
        allowed = default_layout().place_names()
        unknown = [p for p in places or [] if p not in allowed]
        if unknown:
            raise ValueError(f"unknown place {unknown[0]!r}; allowed: {', '.join(allowed)}")
        return places

    def targets(self, lever: Lever) -> dict[str, tuple[str, ...]]:
        """Every target kind, as set or the lever's default."""
        return {
            kind: tuple(getattr(self, kind, None) or getattr(lever, f"default_{kind}"))
            for kind in TARGET_KINDS
        }


_PLACES = "node ids, provinces, pole:NAME, zone:NAME, axis:NAME, or jjj"
_TARGET_FIELDS: dict[str, tuple[Any, str]] = {
    "nodes": (list[str] | None, f"Places where it applies ({_PLACES})"),
    "groups": (list[Literal[GROUPS]] | None, "Occupation groups it applies to"),  # type: ignore[valid-type]
    "sectors": (list[Literal[SECTORS]] | None, "Firms' sectors it applies to"),  # type: ignore[valid-type]
    "origins": (list[str] | None, f"Where relocated jobs come from ({_PLACES})"),
    "graduated_in": (list[str] | None, f"Where a graduate must have studied to qualify ({_PLACES})"),
}


def _lever_setting_model(name: str) -> type[LeverSetting]:
    lever = LEVERS[name]
    bounded = Annotated[float, Field(ge=lever.lower, le=lever.upper)]
    targets = {
        kind: (
            kind_type,
            Field(None, description=f"{text}; default {list(getattr(lever, f'default_{kind}'))}."),
        )
        for kind, (kind_type, text) in _TARGET_FIELDS.items()
        if kind in lever.targets
    }
    return create_model(  # type: ignore[call-overload, no-any-return]
        f"Lever_{name}",
        __base__=LeverSetting,
        values=(dict[dt.date, bounded], Field(min_length=1, description=f"{lever.unit}, from each date on.")),
        **targets,
    )


Parameters = create_model(  # type: ignore[call-overload]
    "Parameters",
    __config__=ConfigDict(extra="forbid"),
    **{
        name: (
            (int if p.integer else float) | None,
            Field(None, ge=p.lower, le=p.upper, description=f"{p.meaning} [{p.unit}]"),
        )
        for name, p in PARAMETERS.items()
    },
)

Levers = create_model(  # type: ignore[call-overload]
    "Levers",
    __config__=ConfigDict(extra="forbid"),
    **{
        name: (
            _lever_setting_model(name) | None,
            Field(None, description=f"{lever.meaning} (plan {lever.section}). {lever.mechanism}"),
        )
        for name, lever in LEVERS.items()
    },
)


class Scenario(BaseModel):
    """A validated, resolved scenario (``extends`` already applied)."""

    model_config = ConfigDict(extra="forbid")

    format: Literal[FORMAT_VERSION] = Field(  # type: ignore[valid-type]
        FORMAT_VERSION, description="What the lever and parameter values mean (FORMAT_VERSION)."
    )
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", description="Short id; names the output folder.")
    description: str = ""
    extends: str | None = Field(None, description="Parent scenario file, relative to this one.")
    start_year: Literal[START_YEARS] = Field(2015, description="Base year of the initial state.")  # type: ignore[valid-type]
    end_year: int = Field(LAST_YEAR, ge=START_YEARS[0] + 1, le=LAST_YEAR)
    seed: int = Field(20170626, ge=0, lt=2**63)
    ensemble: str | None = Field(
        None,
        description="Parameter ensemble CSV (draw, parameters..., weight), relative to this file; "
        "run, compare and validate draw each replicate's parameters from it.",
    )
    scale: int = Field(
        100, ge=1, le=1_000_000, description="Persons per row for talents who are not high-end."
    )
    parameters: Parameters = Field(default_factory=Parameters)  # type: ignore[valid-type]
    levers: Levers = Field(default_factory=Levers)  # type: ignore[valid-type]

    def parameter_overrides(self) -> dict[str, float]:
        return {
            name: getattr(self.parameters, name)
            for name in PARAMETERS
            if getattr(self.parameters, name) is not None
        }

    def lever_settings(self) -> dict[str, LeverSetting]:
        return {name: getattr(self.levers, name) for name in LEVERS if getattr(self.levers, name) is not None}

    def lever_schedules(self, layout: Layout) -> dict[str, LeverSchedule]:
        """The levers this scenario sets, ready for the model."""
        schedules = {}
        for name, setting in self.lever_settings().items():
            lever = LEVERS[name]
            targets = setting.targets(lever)
            schedules[name] = LeverSchedule(
                lever=lever,
                values=tuple(sorted(setting.values.items())),
                nodes=layout.mask(list(targets["nodes"]), where=f"levers.{name}.nodes"),
                groups=np.isin(np.array(GROUPS), targets["groups"]),
                sectors=np.isin(np.array(SECTORS), targets["sectors"]),
                origins=layout.mask(list(targets["origins"]), where=f"levers.{name}.origins"),
                graduated_in=layout.mask(list(targets["graduated_in"]), where=f"levers.{name}.graduated_in"),
            )
        return schedules

    def as_data(self) -> dict[str, Any]:
        """Plain data without unset parameters and levers (what a file would say)."""
        return self.model_dump(mode="json", exclude_none=True)

    def sha256(self) -> str:
        """Content hash of the resolved scenario (``extends``, ``ensemble`` and file names play
        no part)."""
        data = self.as_data()
        data.pop("extends", None)
        data.pop("ensemble", None)
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()

    def with_overrides(self, overrides: dict[str, Any], source: str = "overrides") -> Scenario:
        """A copy with dotted-path overrides, e.g. ``{"parameters.beta_wage": 2.0}``.

        ``source`` names where they came from in error messages.
        """
        data = self.as_data()
        for path, value in overrides.items():
            node = data
            *parents, last = path.split(".")
            for key in parents:
                node = node.setdefault(key, {})
            node[last] = value
        return validate(data, {}, source=source)


# --- loading -------------------------------------------------------------------------------

read_yaml = load_yaml  # the name experiments/ imports; the reading is model/loader.py's


def _merge(parent: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    """The ``extends`` rule of the module docstring."""
    merged = {**parent, **child}
    for key in ("parameters", "levers"):
        if isinstance(parent.get(key), dict) and isinstance(child.get(key), dict):
            merged[key] = {**parent[key], **child[key]}
    return merged


def _resolve(path: Path, chain: tuple[Path, ...]) -> tuple[dict[str, Any], dict[tuple[str, ...], Mark]]:
    if path.resolve() in (p.resolve() for p in chain):
        cycle = " -> ".join(str(p) for p in chain + (path,))
        raise ScenarioError(f"{chain[-1]}: extends: circular chain {cycle}; a scenario may not extend itself")
    data, marks = load_yaml(path)
    _check_format(path, data, marks)
    if isinstance(data.get("ensemble"), str):  # relative to the file that names it; absolute once
        # resolved, so it still names the same file wherever the resolved scenario is written
        data["ensemble"] = os.path.abspath(path.parent / data["ensemble"])
    parent_name = data.get("extends")
    if parent_name is None:
        return data, marks
    if not isinstance(parent_name, str):
        raise ScenarioError(
            f"{path}: extends: value {parent_name!r}; allowed: the file name of a parent scenario"
        )
    parent_path = path.parent / parent_name
    if parent_path.suffix not in (".yaml", ".yml"):
        parent_path = parent_path.with_suffix(".yaml")
    if not parent_path.exists():
        line = marks.get(("extends",), (str(path), 0, 0))[1]
        raise ScenarioError(
            f"{path}:{line}: extends: value {parent_name!r}: no file {parent_path}; "
            "allowed: a scenario file in the same folder"
        )
    parent, parent_marks = _resolve(parent_path, chain + (path,))
    return _merge(parent, data), {**parent_marks, **marks}


def _check_format(path: Path, data: dict[str, Any], marks: dict[tuple[str, ...], Mark]) -> None:
    """Refuse a file written for an older format that sets something whose meaning changed."""
    stated = data.get("format", 1)
    if stated == FORMAT_VERSION:
        return
    if stated != 1:
        line = marks.get(("format",), (str(path), 0, 0))[1]
        raise ScenarioError(
            f"{path}:{line}: format: value {stated!r}: unknown format; allowed: {FORMAT_VERSION} "
            "(or no key, for a file that sets nothing whose meaning changed)"
        )
    changed = [
        (section, name)
        for section in ("levers", "parameters")
        if isinstance(data.get(section), dict)
        for name in data[section]
        if (section, name) in CHANGED_IN_FORMAT_2
    ]
    if not changed:
        return
    lines = []
    for key in changed:
        file, line, _ = marks.get(key, (str(path), 0, 0))
        lines.append(f"  {file}:{line}: {'.'.join(key)}: {CHANGED_IN_FORMAT_2[key]}")
    raise ScenarioError(
        f"{path}: written for scenario format 1 (no `format:` key), and it sets values whose meaning "
        f"changed in format {FORMAT_VERSION}:\n"
        + "\n".join(lines)
        + f"\nTo update: check each value above against `jjj-talent levers` / `jjj-talent parameters` "
        f"(drop removed parameters), then add `format: {FORMAT_VERSION}` at the top of the file."
    )


def parent_file(path: str | Path) -> Path | None:
    """The file a scenario ``extends``, or None."""
    path = Path(path)
    data, _ = load_yaml(path)
    parent = data.get("extends")
    if not isinstance(parent, str):
        return None
    parent_path = path.parent / parent
    return parent_path if parent_path.suffix in (".yaml", ".yml") else parent_path.with_suffix(".yaml")


def differences(parent: Scenario, child: Scenario) -> list[str]:
    """What ``child`` changes of ``parent``, one line a key path.

    ``+`` added, ``-`` removed, ``~`` changed (old -> new).
    """
    old, new = _flatten(parent.as_data()), _flatten(child.as_data())
    lines = []
    for key in sorted(old.keys() | new.keys()):
        if key not in old:
            lines.append(f"+ {key}: {new[key]!r}")
        elif key not in new:
            lines.append(f"- {key}: {old[key]!r}")
        elif old[key] != new[key]:
            lines.append(f"~ {key}: {old[key]!r} -> {new[key]!r}")
    return lines


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict) and data:
        flat: dict[str, Any] = {}
        for key, value in data.items():
            flat.update(_flatten(value, f"{prefix}{key}."))
        return flat
    return {prefix.rstrip("."): data}


def load_scenario(path: str | Path) -> Scenario:
    """Read, merge (``extends``) and validate a scenario file."""
    data, marks = _resolve(Path(path), ())
    data.pop("extends", None)  # resolved: the parent's settings are in ``data`` now
    return validate(data, marks, source=str(path))


def validate(data: dict[str, Any], marks: dict[tuple[str, ...], Mark], source: str) -> Scenario:
    """Validate plain data; errors name file, line, key path, value and what is allowed."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        # a file of thousands of unknown keys has thousands of errors: describe only those shown
        errors = err.errors(include_url=False, include_context=False)
        lines = [_describe(e, data, marks, source) for e in errors[:PROBLEM_LIMIT]]
        raise ScenarioError(problems_message(source, "scenario", lines, total=len(errors))) from None


def _describe(error: Any, data: dict[str, Any], marks: dict[tuple[str, ...], Mark], source: str) -> str:
    loc = tuple(_key_text(part) for part in error["loc"] if not str(part).startswith("function-"))
    loc = tuple(part for part in loc if part not in ("Lever_" + n for n in LEVERS))
    key_path = ".".join(loc) or "(top level)"
    where = source
    for depth in range(len(loc), -1, -1):
        if loc[:depth] in marks:
            file, line, column = marks[loc[:depth]]
            where = f"{file}:{line}:{column}"
            break
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        return (
            f"  {where}: {key_path}: value {_short(error.get('input'))}: unknown key; "
            f"allowed: {', '.join(_allowed_keys(loc[:-1]))}"
        )
    if len(loc) == 2 and loc[0] == "parameters" and loc[1] in PARAMETERS:
        p = PARAMETERS[loc[1]]
        message += f"; allowed: {p.lower:g} to {p.upper:g} ({p.unit})"
    elif len(loc) >= 3 and loc[0] == "levers" and loc[1] in LEVERS and loc[2] == "values":
        lever = LEVERS[loc[1]]
        message += f"; allowed: {lever.lower:g} to {lever.upper:g} ({lever.unit})"
    return f"  {where}: {key_path}: value {_short(error.get('input'))}: {message}"


def _key_text(part: Any) -> str:
    """A key of an error location as the file writes it (pydantic reports date keys by repr)."""
    if isinstance(part, dt.date):
        return part.isoformat()
    found = re.fullmatch(r"datetime\.date\((\d+), (\d+), (\d+)\)", str(part))
    if found:
        return dt.date(*map(int, found.groups())).isoformat()
    return str(part)


def _allowed_keys(parent: tuple[str, ...]) -> list[str]:
    if parent == ("parameters",):
        return sorted(PARAMETERS)
    if parent == ("levers",):
        return sorted(LEVERS)
    if len(parent) == 2 and parent[0] == "levers" and parent[1] in LEVERS:
        return ["values", "source"] + list(LEVERS[parent[1]].targets)
    return list(Scenario.model_fields)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a scenario file, for editors."""
    schema = Scenario.model_json_schema()
    schema["title"] = "jjj-talent scenario"
    return schema
