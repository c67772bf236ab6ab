"""The workbench's logic, without a page: lever controls, scenario drafts, validation, saving,
and paired runs that can be cancelled.

Nothing here draws or knows Solara; ``app/web/page.py`` shows it. A draft is plain scenario
data (``Scenario.as_data()`` without ``extends``), edited one lever at a time and checked by
``model.scenario.validate``, so the page shows the same messages a file would get. A run is
the reference and the draft on the same replicate seeds (``experiments.compare``), one
replicate at a time through the project's runner, so a cancel takes effect at the next
replicate and nothing half-finished is shown.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from experiments.compare import (
    ComparedScenario,
    Comparison,
    ComparisonTables,
    ReplicateRun,
    make_manifest,
    run_comparison,
    summarise,
)
from experiments.files import write_text
from experiments.replicates import P05, P95, replicate_seeds
from model.errors import JJJError, ScenarioError
from model.firms import SECTORS
from model.layout import default_layout
from model.levers import LEVERS, TARGET_KINDS
from model.scenario import Scenario, load_scenario, validate
from model.talents import GROUPS
from reports.compare_report import lever_name

SCENARIOS_ENV = "JJJ_TALENT_SCENARIOS"
"""Environment variable naming the scenarios folder (``jjj-talent app`` sets it); default
``scenarios`` in the working folder."""
DEFAULT_DATE = "2017-07-01"
"""Date of a lever's first value when the planner switches it on: the plan's first half-year
after its issue (2017-06-26)."""
REFERENCE = "baseline"
"""The reference a run is compared with unless the planner picks another."""
REPLICATES = (2, 5)
"""Fewest and most replicates the workbench runs (a planner's quick look, not a study)."""
SOURCE = "the workbench"
"""How validation messages name where the data came from (files name their path)."""

LANGS = ("en", "zh")
LABELS: dict[str, dict[str, str]] = {
    "title": {"en": "jjj-talent scenario workbench", "zh": "京津冀人才情景工作台"},
    "start_from": {"en": "Start from scenario", "zh": "起始情景"},
    "name": {"en": "Name of the edited scenario", "zh": "编辑后情景名称"},
    "lever": {"en": "Lever to edit", "zh": "要编辑的政策措施"},
    "lever_on": {"en": "Set in this scenario", "zh": "本情景启用"},
    "unit": {"en": "Unit", "zh": "单位"},
    "bounds": {"en": "Allowed", "zh": "允许范围"},
    "date": {"en": "From date", "zh": "起始日期"},
    "value": {"en": "Value", "zh": "数值"},
    "add_row": {"en": "Add a dated value", "zh": "添加日期数值"},
    "remove": {"en": "Remove", "zh": "删除"},
    "nodes": {"en": "Where (nodes)", "zh": "适用地区（节点）"},
    "groups": {"en": "Who (occupation groups)", "zh": "适用人群（职业类别）"},
    "sectors": {"en": "Which firms (sectors)", "zh": "适用企业（行业）"},
    "origins": {"en": "Jobs come from", "zh": "岗位来源地"},
    "graduated_in": {"en": "Graduates of universities in", "zh": "毕业院校所在地"},
    "valid": {"en": "The scenario is valid.", "zh": "情景有效。"},
    "invalid": {"en": "The scenario is not valid:", "zh": "情景无效："},
    "reference": {"en": "Compare with", "zh": "对照情景"},
    "replicates": {"en": "Replicates", "zh": "重复次数"},
    "scale": {"en": "Persons per talent row (scale)", "zh": "每行代表人数（比例）"},
    "end_year": {"en": "Last year", "zh": "结束年份"},
    "run": {"en": "Run", "zh": "运行"},
    "cancel": {"en": "Cancel", "zh": "取消"},
    "save": {"en": "Save to scenarios/", "zh": "保存到 scenarios/"},
    "download_yaml": {"en": "Download YAML", "zh": "下载 YAML"},
    "download_report": {"en": "Download HTML report", "zh": "下载 HTML 报告"},
    "runs": {"en": "Runs", "zh": "运行结果"},
    "no_runs": {"en": "No run yet.", "zh": "尚无运行结果。"},
    "show_run": {"en": "Show run", "zh": "显示运行"},
    "levers_set": {"en": "Levers set", "zh": "已设定的措施"},
    "effects_title": {"en": "Effect on talents by pole and node", "zh": "对三极与各节点人才的影响"},
    "spending_title": {"en": "Spending and cost per additional talent", "zh": "投入与每新增人才成本"},
    "running": {"en": "Running", "zh": "运行中"},
    "done": {"en": "finished", "zh": "已完成"},
    "cancelled": {"en": "cancelled", "zh": "已取消"},
    "failed": {"en": "failed", "zh": "失败"},
    "hebei_share": {"en": "Hebei's share in {year}", "zh": "{year}年河北人才占比"},
    "effect": {"en": "effect", "zh": "效应"},
    "language": {"en": "中文", "zh": "English"},
}


def label(key: str, lang: str, **values: Any) -> str:
    """The page's text ``key`` in ``lang`` (``en`` or ``zh``)."""
    return LABELS[key]["zh" if lang == "zh" else "en"].format(**values)


# --- controls generated from the lever declarations ---------------------------------------------


@dataclass(frozen=True)
class LeverControl:
    """What the page needs to edit one lever, all from its declaration (``model/levers.py``).

    Attributes:
        lever: its key in scenario files.
        title: display name by language (the Chinese programme name where the declaration has one).
        section: the plan's section.
        meaning: what the policy is.
        unit: unit of its values.
        lower, upper: inclusive bounds of a value.
        step: a step for number inputs (a thousandth of the range, or 1 for counts).
        targets: target kind -> (allowed choices, the lever's default choice).
    """

    lever: str
    title: Mapping[str, str]
    section: str
    meaning: str
    unit: str
    lower: float
    upper: float
    step: float
    targets: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]]

    def bounds_text(self) -> str:
        return f"{self.lower:,g} to {self.upper:,g} ({self.unit})"


def target_choices(kind: str) -> tuple[str, ...]:
    """Every name a lever's ``kind`` target may take (as the scenario's validation allows)."""
    if kind in ("nodes", "origins", "graduated_in"):
        return tuple(default_layout().place_names())
    if kind == "groups":
        return GROUPS
    if kind == "sectors":
        return SECTORS
    raise ValueError(f"unknown target kind {kind!r}; allowed: {', '.join(TARGET_KINDS)}")


def lever_controls() -> list[LeverControl]:
    """One control for every declared lever, in declaration order."""
    controls = []
    for name, lever in LEVERS.items():
        span = lever.upper - lever.lower
        step = 1.0 if span >= 1000 else span / 1000
        controls.append(
            LeverControl(
                lever=name,
                title={lang: lever_name(name, lang) for lang in LANGS},
                section=lever.section,
                meaning=lever.meaning,
                unit=lever.unit,
                lower=lever.lower,
                upper=lever.upper,
                step=step,
                targets={
                    kind: (target_choices(kind), tuple(getattr(lever, f"default_{kind}")))
                    for kind in lever.targets
                },
            )
        )
    return controls


# --- drafts: editing, validation ----------------------------------------------------------------


def scenarios_folder() -> Path:
    """Where the shipped scenarios are, and where the workbench saves (``extends: baseline``
    needs the parent beside the file)."""
    return Path(os.environ.get(SCENARIOS_ENV, "scenarios"))


def shipped_scenarios(folder: Path | None = None) -> list[str]:
    """Names of the scenario files in ``folder`` (without ``.yaml``), sorted."""
    return sorted(path.stem for path in (folder or scenarios_folder()).glob("*.yaml"))


def draft_from_file(path: Path) -> dict[str, Any]:
    """A shipped scenario, resolved, as plain data to edit (``extends`` already applied)."""
    data = load_scenario(path).as_data()
    data.pop("extends", None)
    return data


def lever_rows(data: Mapping[str, Any], lever: str) -> list[tuple[str, str]]:
    """A lever's dated values as (date, value) text rows, in date order; none when unset."""
    setting = data.get("levers", {}).get(lever)
    if not setting:
        return []
    return [(str(date), number_text(value)) for date, value in sorted(setting["values"].items(), key=str)]


def next_row(rows: Sequence[tuple[str, str]], control: LeverControl) -> tuple[str, str]:
    """A new dated value: a year after the last row's date (or ``DEFAULT_DATE``), same value."""
    if not rows:
        return DEFAULT_DATE, number_text(control.lower)
    date, value = rows[-1]
    try:
        return dt.date.fromisoformat(date.strip()).replace(year=int(date[:4]) + 1).isoformat(), value
    except ValueError:
        return DEFAULT_DATE, value


def number_text(value: Any) -> str:
    """A value as the planner reads it: whole numbers without ``.0``."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def _number(text: str) -> float | str:
    """``text`` as a number where it is one; otherwise as typed, for validation to name."""
    try:
        return float(text.replace(",", "").strip())
    except ValueError:
        return text


def set_lever(
    data: Mapping[str, Any],
    lever: str,
    rows: Sequence[tuple[str, str]] | None,
    targets: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, Any]:
    """A copy of ``data`` with ``lever`` set to the dated ``rows`` (text as typed: numbers are
    read as numbers, anything else is left for validation to refuse) and ``targets`` (kind ->
    names; a kind left out keeps the draft's setting, an empty list takes the lever's default).
    ``rows`` None removes the lever from the draft (off every year)."""
    if lever not in LEVERS:
        raise ScenarioError(f"{SOURCE}: levers.{lever}: unknown lever; allowed: {', '.join(LEVERS)}")
    copy = _copy(data)
    levers = copy.setdefault("levers", {})
    if rows is None:
        levers.pop(lever, None)
        return copy
    setting = dict(levers.get(lever) or {})
    setting["values"] = {date.strip(): _number(value) for date, value in rows}
    for kind, names in (targets or {}).items():
        if names:
            setting[kind] = list(names)
        else:
            setting.pop(kind, None)
    levers[lever] = setting
    return copy


def set_field(data: Mapping[str, Any], key: str, value: Any) -> dict[str, Any]:
    """A copy of ``data`` with a top-level field (``name``, ``description``, ...) set."""
    copy = _copy(data)
    copy[key] = value
    return copy


def _copy(data: Mapping[str, Any]) -> dict[str, Any]:
    copy = dict(data)
    copy["levers"] = {name: dict(setting) for name, setting in dict(data.get("levers") or {}).items()}
    copy["parameters"] = dict(data.get("parameters") or {})
    return copy


@dataclass(frozen=True)
class Checked:
    """A draft checked by ``model.scenario.validate``: the scenario, or the message a file with
    the same content would get (file name replaced by ``SOURCE``)."""

    scenario: Scenario | None
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.scenario is not None


def check(data: Mapping[str, Any]) -> Checked:
    """Validate a draft; never raises for bad content."""
    try:
        return Checked(validate(dict(data), {}, source=SOURCE))
    except ScenarioError as err:
        return Checked(None, str(err))


# --- saving -------------------------------------------------------------------------------------


def scenario_yaml(scenario: Scenario, parent: Scenario | None, parent_name: str = REFERENCE) -> str:
    """The scenario as a file ``jjj-talent run`` accepts unchanged: only what differs from
    ``parent`` under ``extends: parent_name`` when the ``extends`` merge rule can say it (a
    lever or parameter the parent sets and the scenario drops cannot be), otherwise the whole
    resolved scenario. Dates are written as YAML dates, as in the shipped files."""
    data = scenario.as_data()
    data.pop("extends", None)
    if parent is not None and _diff_possible(parent.as_data(), data):
        base = parent.as_data()
        diff: dict[str, Any] = {"format": data["format"], "name": data["name"], "extends": parent_name}
        for key, value in data.items():
            if key in ("format", "name", "parameters", "levers"):
                continue
            if base.get(key) != value:
                diff[key] = value
        parameters = {k: v for k, v in data.get("parameters", {}).items() if base["parameters"].get(k) != v}
        levers = {k: v for k, v in data.get("levers", {}).items() if base["levers"].get(k) != v}
        if parameters:
            diff["parameters"] = parameters
        if levers:
            diff["levers"] = levers
        data = diff
    header = "# Written by `jjj-talent app` (the scenario workbench).\n" + (
        f"# Extends {parent_name}: keep this file beside {parent_name}.yaml (in scenarios/).\n"
        if "extends" in data
        else ""
    )
    return header + yaml.safe_dump(_dated(data), allow_unicode=True, sort_keys=False, width=100)


def _diff_possible(parent: Mapping[str, Any], child: Mapping[str, Any]) -> bool:
    return all(set(parent.get(key) or {}) <= set(child.get(key) or {}) for key in ("parameters", "levers"))


def _dated(data: dict[str, Any]) -> dict[str, Any]:
    """``values`` keys as dates, so YAML writes ``2017-07-01`` rather than a quoted string;
    whole numbers without ``.0``; an empty ``source`` left out (it is the default)."""
    levers = data.get("levers")
    if not levers:
        return data
    out = dict(data)
    out["levers"] = {}
    for name, setting in levers.items():
        written = {key: value for key, value in setting.items() if not (key == "source" and value == "")}
        written["values"] = {
            dt.date.fromisoformat(str(date)): _whole(value) for date, value in setting["values"].items()
        }
        out["levers"][name] = written
    return out


def _whole(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() and abs(value) < 2**53 else value


def save_scenario(text: str, name: str, folder: Path | None = None) -> Path:
    """Write ``text`` to ``folder/name.yaml`` (default ``scenarios_folder()``) atomically;
    refuses to overwrite a file."""
    path = (folder or scenarios_folder()) / f"{name}.yaml"
    if path.exists():
        raise ScenarioError(
            f"{SOURCE}: name: value {name!r}: {path} exists already; choose another name "
            "(the workbench never overwrites a scenario file)"
        )
    return write_text(path, text)


# --- runs ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunSettings:
    """How a workbench run is made: the reference, replicates (``REPLICATES``), and the scale and
    last year for both scenarios (None: the scenarios' own)."""

    replicates: int = 3
    scale: int | None = None
    end_year: int | None = None
    workers: int | None = None

    def check(self) -> None:
        low, high = REPLICATES
        if not low <= self.replicates <= high:
            raise ScenarioError(
                f"{SOURCE}: replicates: value {self.replicates}: allowed: {low} to {high} "
                "(use `jjj-talent compare` for more)"
            )


@dataclass
class RunJob:
    """A paired run of the reference and a draft: its progress, and its result once finished.

    ``status`` is ``running``, ``done``, ``cancelled`` or ``failed`` (``message`` says why).
    """

    name: str
    total: int
    done: int = 0
    status: str = "running"
    message: str = ""
    comparison: Comparison | None = None
    tables: ComparisonTables | None = None
    manifest: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    cancel_event: threading.Event = field(default_factory=threading.Event)

    def cancel(self) -> None:
        self.cancel_event.set()

    @property
    def finished(self) -> bool:
        return self.status != "running"


def plan_run(
    reference: Scenario, scenario: Scenario, settings: RunSettings, file: Path | None = None
) -> Comparison:
    """The comparison a workbench run makes (reference first); ``ScenarioError`` if the two
    cannot be compared year by year."""
    settings.check()
    overrides = {
        k: v for k, v in (("scale", settings.scale), ("end_year", settings.end_year)) if v is not None
    }
    if overrides:
        reference = reference.with_overrides(overrides, source=f"{SOURCE} run settings")
        scenario = scenario.with_overrides(overrides, source=f"{SOURCE} run settings")
    if scenario.start_year != reference.start_year:
        raise ScenarioError(
            f"{SOURCE}: start_year: value {scenario.start_year}: differs from {reference.start_year} "
            f"in {reference.name}; scenarios are compared year by year, so they must agree"
        )
    own_label = scenario.name if scenario.name != reference.name else f"{scenario.name}-2"
    entries = (
        ComparedScenario(reference.name, reference, scenarios_folder() / f"{reference.name}.yaml"),
        ComparedScenario(own_label, scenario, file or Path(f"({SOURCE}) {scenario.name}")),
    )
    seeds = tuple(replicate_seeds(reference.seed, settings.replicates))
    workers = settings.workers if settings.workers is not None else 2
    return Comparison(entries, reference.seed, seeds, min(workers, len(entries)))


def execute(job: RunJob, comparison: Comparison, on_change: Callable[[RunJob], None] | None = None) -> RunJob:
    """Run ``comparison`` one replicate at a time (both scenarios on its seed, through the
    runner) until done or ``job`` is cancelled; then summarise. Never raises: a failure ends in
    ``status`` ``failed`` with the message."""
    started = time.perf_counter()
    outputs: list[ReplicateRun] = []
    notify = on_change or (lambda job: None)
    job.comparison = comparison
    try:
        for replicate, seed in enumerate(comparison.seeds):
            if job.cancel_event.is_set():
                break
            single = dataclasses.replace(comparison, seeds=(seed,))
            outputs += [dataclasses.replace(run, replicate=replicate) for run in run_comparison(single)]
            job.done = len(outputs)
            notify(job)
        if job.cancel_event.is_set():
            job.status = "cancelled"
            job.message = f"cancelled after {len(outputs)} of {job.total} runs; nothing is shown for it"
        else:
            job.tables = summarise(comparison, outputs)
            job.manifest = make_manifest(comparison, outputs, time.perf_counter() - started)
            job.manifest["command"] = "jjj-talent app"
            job.status = "done"
    except JJJError as err:
        job.status, job.message = "failed", str(err)
    except Exception as err:  # a bug must reach the page, not kill the server's thread silently
        job.status, job.message = "failed", f"{type(err).__name__}: {err}"
    job.seconds = time.perf_counter() - started
    notify(job)
    return job


def start(
    comparison: Comparison, on_change: Callable[[RunJob], None] | None = None
) -> tuple[RunJob, threading.Thread]:
    """``execute`` in a background thread; returns the job (cancel it with ``job.cancel()``)."""
    job = RunJob(name=comparison.labels[-1], total=comparison.runs)
    thread = threading.Thread(target=execute, args=(job, comparison, on_change), daemon=True, name=job.name)
    thread.start()
    return job, thread


# --- what a finished run shows ------------------------------------------------------------------


def headline(job: RunJob) -> dict[str, Any]:
    """Hebei's share in the last year for the reference and the scenario, and the paired
    effect with its 90% interval."""
    assert job.tables is not None and job.comparison is not None
    effects = job.tables.effects
    rows = effects[(effects["indicator"] == "hebei_share")]
    last = rows[rows["year"] == rows["year"].max()].iloc[0]
    return {
        "year": int(last["year"]),
        "reference": job.comparison.labels[0],
        "scenario": job.comparison.labels[-1],
        "reference_share": float(last["base_mean"]),
        "scenario_share": float(last["scenario_mean"]),
        "effect": float(last["effect_mean"]),
        "effect_low": float(last[f"effect_{P05}"]),
        "effect_high": float(last[f"effect_{P95}"]),
        "replicates": job.comparison.replicates,
    }


def effects_by_place(tables: ComparisonTables, year: int | None = None) -> pd.DataFrame:
    """Paired effect on talents in the region, each pole and each node in ``year`` (default the
    last): place, reference, scenario, effect, p05, p95."""
    effects = tables.effects
    year = year if year is not None else int(effects["year"].max())
    rows = effects[(effects["year"] == year) & effects["indicator"].str.startswith("talents.")].copy()
    rows = rows[~rows["indicator"].str.startswith("talents.province.")]
    rows["place"] = rows["indicator"].str.removeprefix("talents.")
    table = rows[["place", "base_mean", "scenario_mean", "effect_mean", f"effect_{P05}", f"effect_{P95}"]]
    return table.reset_index(drop=True)


def cost_table(tables: ComparisonTables) -> pd.DataFrame:
    """Cumulative spending and CNY per additional talent by lever and year (with the reason
    where it is left blank)."""
    columns = [
        "lever",
        "year",
        "cumulative_cny_mean",
        "additional_talents_mean",
        "cny_per_additional_talent",
        "note",
    ]
    return tables.cost_effectiveness[columns].reset_index(drop=True)
