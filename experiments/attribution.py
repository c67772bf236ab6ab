"""Attribution: each lever group's own effect in a scenario, and its cost per additional talent.

A scenario sets many levers at once; its effect against a reference (scenario minus reference,
on the same seeds) is the joint effect of all of them. To say what each *group* of levers buys,
every coalition S of the groups is run: the reference with the levers of S set as the scenario
sets them. With v(S) an indicator of that run (per replicate, year and indicator):

    alone(i)     = v({i}) - v({})            the group on the reference, nothing else
    left_out(i)  = v(N) - v(N - {i})          what the scenario loses without it
    shapley(i)   = sum over S in N - {i} of  |S|! (n - |S| - 1)! / n!  x  (v(S + {i}) - v(S))

N is the set of n groups the scenario changes. Shapley values add up to the joint effect
v(N) - v({}) exactly, replicate by replicate; for groups that act independently and additively
all three measures agree. Exact values need 2^n runs per replicate, hence at most
``MAX_GROUPS`` groups (``lever-groups.yaml`` ships the default grouping by mechanism).

Cost per additional talent divides a group's cumulative spending in the scenario by its
Shapley effect on one denominator for every group: the talents Hebei gains.

``attribute`` plans the coalitions, submits every coalition on every replicate seed through the
project's runner (common random numbers) and writes the tables; the command
(``jjj-talent attribute``) adds the report. ``compare_and_attribute`` (``jjj-talent compare
--attribute``) attributes every scenario of a comparison, reusing the comparison's runs of the
reference and of the scenario as the empty and the full coalition.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments import files
from experiments.compare import (
    Comparison,
    ComparisonResult,
    ReplicateRun,
    checked_out_dir,
    plan_comparison,
    run_comparison,
    write_result,
)
from experiments.files import staging_dir
from experiments.replicates import P05, P95, grouped_interval, interval
from experiments.runner import RunTask, indicator_tables, run_all
from model.errors import ScenarioError
from model.levers import LEVERS
from model.loader import load_yaml, problems_message
from model.plan import MILESTONE_YEARS
from model.scenario import Scenario, validate

DEFAULT_GROUPS = Path(__file__).parent / "lever-groups.yaml"
MAX_GROUPS = 8
MEASURES = ("alone", "left_out", "shapley")
HEADLINE = {
    "hebei_share": "Hebei's share of the region's talents",
    "talents.province.hebei": "talents in Hebei",
    "xiongan_talents": "talents in Xiong'an",
    "talents.jjj": "the region's talents (net gain)",
    "bj_hb_density_gap": "Beijing-Hebei gap, talents per 100,000 residents",
    "talents.province.beijing": "talents in Beijing",
    "talents.province.tianjin": "talents in Tianjin",
}
DENOMINATOR = "talents.province.hebei"  # cost per additional talent: talents Hebei gains
SAME_FIELDS = ("start_year", "end_year", "scale", "parameters")


@dataclass(frozen=True)
class LeverGroups:
    """Named groups of levers, each lever in one group at most.

    Attributes:
        groups: group name -> its levers, in file order.
        source: where the grouping comes from (a file, or "each lever").
    """

    groups: Mapping[str, tuple[str, ...]]
    source: str

    def group_of(self, lever: str) -> str | None:
        return next((name for name, levers in self.groups.items() if lever in levers), None)


def load_groups(path: str | Path = DEFAULT_GROUPS) -> LeverGroups:
    """Read a lever-groups file (a mapping: group name -> list of lever names).

    Raises:
        ScenarioError: naming the file, line, group and lever, and what is allowed.
    """
    path = Path(path)
    data, marks = load_yaml(path, kind="lever-groups file", keys="group name: [lever, ...]")
    problems: list[str] = []
    seen: dict[str, str] = {}
    groups: dict[str, tuple[str, ...]] = {}
    for name, levers in data.items():
        where = "{}:{}".format(*marks.get((str(name),), (str(path), 0))[:2])
        if not isinstance(levers, list) or not levers:
            problems.append(
                f"  {where}: {name}: value {levers!r}: a group is a non-empty list of lever names"
            )
            continue
        for k, lever in enumerate(levers):
            at = "{}:{}".format(*marks.get((str(name), str(k)), (str(path), 0))[:2])
            if lever not in LEVERS:
                problems.append(
                    f"  {at}: {name}.{k}: value {lever!r}: unknown lever; allowed: {', '.join(LEVERS)}"
                )
            elif lever in seen:
                problems.append(
                    f"  {at}: {name}.{k}: value {lever!r}: already in group {seen[lever]!r}; "
                    "a lever belongs to one group at most"
                )
            else:
                seen[lever] = str(name)
        groups[str(name)] = tuple(str(lever) for lever in levers)
    if problems:
        raise ScenarioError(problems_message(str(path), "lever groups", problems))
    return LeverGroups(groups, str(path))


def each_lever(scenario: Scenario, reference: Scenario) -> LeverGroups:
    """One group per lever the scenario changes (for a small scenario)."""
    return LeverGroups({lever: (lever,) for lever in changed_levers(scenario, reference)}, "each lever")


def changed_levers(scenario: Scenario, reference: Scenario) -> list[str]:
    """Levers whose setting differs between the two scenarios, in declaration order."""
    ours, theirs = scenario.as_data().get("levers", {}), reference.as_data().get("levers", {})
    return [lever for lever in LEVERS if ours.get(lever) != theirs.get(lever)]


@dataclass(frozen=True)
class Attribution:
    """The runs an attribution needs.

    Attributes:
        scenario, reference: what is compared.
        groups: the groups the scenario changes (name -> levers changed), at most ``MAX_GROUPS``.
        coalitions: coalition mask (bit k = ``names[k]`` on) -> its scenario; mask 0 is the
            reference's levers, the full mask the scenario's.
    """

    scenario: Scenario
    reference: Scenario
    groups: Mapping[str, tuple[str, ...]]
    coalitions: Mapping[int, Scenario]

    @property
    def names(self) -> list[str]:
        return list(self.groups)

    @property
    def full(self) -> int:
        return (1 << len(self.groups)) - 1

    def members(self, mask: int) -> list[str]:
        return [name for k, name in enumerate(self.groups) if mask >> k & 1]


def plan_attribution(scenario: Scenario, reference: Scenario, groups: LeverGroups) -> Attribution:
    """Every coalition's scenario: the reference with the levers of its groups as the scenario
    sets them.

    Raises:
        ScenarioError: the two differ in more than levers, the scenario changes a lever that is
            in no group, or it changes more than ``MAX_GROUPS`` groups.
    """
    ours, theirs = scenario.as_data(), reference.as_data()
    for field in SAME_FIELDS:
        if ours.get(field) != theirs.get(field):
            raise ScenarioError(
                f"attribute: scenario {scenario.name!r} and reference {reference.name!r} differ in "
                f"{field} ({ours.get(field)!r} vs {theirs.get(field)!r}); attribution credits levers "
                f"only, so both must share {', '.join(SAME_FIELDS)}"
            )
    changed = changed_levers(scenario, reference)
    ungrouped = [lever for lever in changed if groups.group_of(lever) is None]
    if ungrouped:
        raise ScenarioError(
            f"attribute: scenario {scenario.name!r} changes {', '.join(ungrouped)}, in no group of "
            f"{groups.source}; allowed: add them to a group of a --groups file"
        )
    active: dict[str, tuple[str, ...]] = {}
    for name, levers in groups.groups.items():
        in_group = tuple(lever for lever in levers if lever in changed)
        if in_group:
            active[name] = in_group
    if len(active) > MAX_GROUPS:
        raise ScenarioError(
            f"attribute: {len(active)} groups change ({', '.join(active)}); allowed: at most "
            f"{MAX_GROUPS} (2^{MAX_GROUPS} runs a replicate); merge groups in a --groups file"
        )
    theirs_levers, ours_levers = dict(theirs.get("levers", {})), ours.get("levers", {})
    coalitions: dict[int, Scenario] = {}
    for mask in range(1 << len(active)):
        settings: dict[str, Any] = dict(theirs_levers)
        for k, members in enumerate(active.values()):
            if not mask >> k & 1:
                continue
            for lever in members:
                if lever in ours_levers:
                    settings[lever] = ours_levers[lever]
                else:
                    settings.pop(lever, None)
        data = {**theirs, "levers": settings, "name": f"{scenario.name}-coalition-{mask}"}
        data.pop("extends", None)
        coalitions[mask] = validate(data, {}, source=f"{scenario.name} coalition {mask}")
    return Attribution(scenario, reference, active, coalitions)


def shapley_weight(size: int, n: int) -> float:
    """Weight of a coalition of ``size`` groups, without the group credited, among ``n``."""
    return math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)


def measures(values: Mapping[int, np.ndarray], n: int) -> dict[str, np.ndarray]:
    """Alone, left-out and Shapley effects of each of ``n`` groups from the value of every
    coalition (mask -> array of any shape, the same for all).

    Returns:
        measure name -> array of shape (n, *value shape).
    """
    full = (1 << n) - 1
    empty = values[0]
    alone = np.stack([values[1 << k] - empty for k in range(n)])
    left_out = np.stack([values[full] - values[full & ~(1 << k)] for k in range(n)])
    shapley = np.zeros_like(alone, dtype=float)
    for k in range(n):
        bit = 1 << k
        for mask in range(1 << n):
            if not mask & bit:
                shapley[k] += shapley_weight(bin(mask).count("1"), n) * (values[mask | bit] - values[mask])
    return {"alone": alone, "left_out": left_out, "shapley": shapley}


def effects_table(
    attribution: Attribution, indicators: pd.DataFrame, names: Sequence[str] | None = None
) -> pd.DataFrame:
    """Each group's effects on the indicators, with intervals over replicates.

    Args:
        attribution: the planned coalitions.
        indicators: long table with columns coalition (mask), replicate, year, indicator, value:
            every coalition run on every replicate's seed (common random numbers).
        names: indicators to attribute; the headline ones by default.

    Returns:
        group, indicator, year, measure, mean, p05, p95 (over replicates), replicates; plus the
        joint effect as group ``joint``.
    """
    names = list(names or HEADLINE)
    chosen = indicators[indicators["indicator"].isin(names)]
    wide = chosen.pivot_table(
        index=["indicator", "year", "replicate"], columns="coalition", values="value", aggfunc="first"
    )
    missing = [mask for mask in attribution.coalitions if mask not in wide.columns]
    if missing:
        raise ValueError(f"coalitions without results: {missing}")
    wide = wide.dropna()
    n = len(attribution.groups)
    found = measures({mask: wide[mask].to_numpy(float) for mask in attribution.coalitions}, n)
    rows = []
    index = wide.index.to_frame(index=False)
    joint = wide[attribution.full].to_numpy(float) - wide[0].to_numpy(float)
    for measure, by_group in found.items():
        for k, group in enumerate(attribution.names):
            rows.append(index.assign(group=group, measure=measure, effect=by_group[k]))
    rows.append(index.assign(group="joint", measure="joint", effect=joint))
    long = pd.concat(rows, ignore_index=True)
    return summarise_over_replicates(long, ["group", "indicator", "year", "measure"], "effect")


def summarise_over_replicates(table: pd.DataFrame, keys: list[str], column: str) -> pd.DataFrame:
    """Mean and 90 % interval of ``column`` over replicates, per ``keys``."""
    grouped = table.groupby(keys, sort=False)[column]
    out = grouped.mean().rename("mean").to_frame()
    out[P05], out[P95] = grouped_interval(grouped)
    out["replicates"] = grouped.size()
    return out.reset_index()


def cost_table(
    attribution: Attribution, indicators: pd.DataFrame, spending: pd.DataFrame, years: Sequence[int]
) -> pd.DataFrame:
    """Cost per additional talent of each group, by year.

    Spending is the scenario's (the full coalition's) cumulative spending on the group's levers
    from the first year to ``year``; the effect is the group's Shapley effect on talents in
    Hebei (``DENOMINATOR``), the same denominator for every group. Intervals are over
    replicates, the ratio taken replicate by replicate; a group whose effect interval includes
    zero has no meaningful cost per talent, which the ``effect_p05``/``effect_p95`` columns show.

    Args:
        attribution: the planned coalitions.
        indicators: as for ``effects_table``.
        spending: columns coalition, replicate, year, lever, cny.
        years: the years to report, each with spending summed up to it.
    """
    chosen = indicators[indicators["indicator"] == DENOMINATOR]
    wide = chosen.pivot_table(
        index=["year", "replicate"], columns="coalition", values="value", aggfunc="first"
    ).dropna()
    n = len(attribution.groups)
    shapley = measures({mask: wide[mask].to_numpy(float) for mask in attribution.coalitions}, n)["shapley"]
    index = wide.index.to_frame(index=False)
    full = spending[spending["coalition"] == attribution.full]
    rows = []
    for k, group in enumerate(attribution.names):
        levers = attribution.groups[group]
        spent = full[full["lever"].isin(levers)].groupby(["replicate", "year"])["cny"].sum()
        for year in years:
            at_year = index["year"] == year
            if not at_year.any():
                continue
            cumulative = spent[spent.index.get_level_values("year") <= year].groupby(level="replicate").sum()
            reps = index.loc[at_year, "replicate"].to_numpy()
            effect = shapley[k][at_year.to_numpy()]
            cny = cumulative.reindex(reps, fill_value=0.0).to_numpy(float)
            with np.errstate(divide="ignore", invalid="ignore"):
                per_talent = np.where(effect > 0, cny / effect, np.nan)
            rows.append(
                {
                    "group": group,
                    "levers": " ".join(levers),
                    "year": year,
                    "spending_cny": cny.mean(),
                    "effect": effect.mean(),
                    **dict(zip((f"effect_{P05}", f"effect_{P95}"), interval(effect))),
                    "cny_per_talent": float(np.nanmean(per_talent))
                    if np.isfinite(per_talent).any()
                    else np.nan,
                    **dict(
                        zip((f"cny_per_talent_{P05}", f"cny_per_talent_{P95}"), _finite_interval(per_talent))
                    ),
                    "replicates": len(reps),
                }
            )
    return pd.DataFrame(rows)


def _finite_interval(values: np.ndarray) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    return interval(finite) if len(finite) else (math.nan, math.nan)


def describe(attribution: Attribution) -> dict[str, Any]:
    """What was attributed, for a manifest."""
    return {
        "scenario": attribution.scenario.name,
        "reference": attribution.reference.name,
        "groups": {name: list(levers) for name, levers in attribution.groups.items()},
        "coalitions": len(attribution.coalitions),
    }


# --- running it -------------------------------------------------------------------------------

# Scenario fields that do not change a run on a given seed (a run gets its seed with it): a
# coalition that equals a compared scenario in every other field is that scenario's run.
NOT_IN_RUN = ("name", "description", "extends", "seed")

CoalitionRuns = Mapping[int, Sequence[tuple[pd.DataFrame, pd.DataFrame]]]
"""Coalition mask -> each replicate's (indicators, spending) tables, in replicate order."""


@dataclass(frozen=True)
class AttributionResult:
    """What ``attribute`` wrote: the folder, the plan, and the two tables."""

    out_dir: Path
    attribution: Attribution
    effects: pd.DataFrame
    costs: pd.DataFrame
    manifest: dict[str, Any]


def plan_for(scenario: Scenario, reference: Scenario, grouping: LeverGroups) -> Attribution:
    """``plan_attribution``, refusing a scenario that sets its levers as the reference does.

    Raises:
        ScenarioError: as ``plan_attribution``, or nothing to attribute.
    """
    attribution = plan_attribution(scenario, reference, grouping)
    if not attribution.groups:
        raise ScenarioError(
            f"attribute: scenario {scenario.name!r} sets its levers as {reference.name!r} does; "
            "nothing to attribute"
        )
    return attribution


def run_coalitions(
    attribution: Attribution,
    seeds: Sequence[int],
    *,
    workers: int | None,
    scheduler: str | None,
    done: CoalitionRuns | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every coalition on every seed through the runner, except those ``done`` already on these
    seeds: (indicators, spending), long tables with columns coalition and replicate added."""
    done = done or {}
    tasks: list[RunTask] = []
    keys: list[tuple[int, int]] = []
    for mask, scenario in attribution.coalitions.items():
        if mask in done:
            continue
        data = scenario.as_data()
        members = "+".join(attribution.members(mask)) or "reference"
        for replicate, seed in enumerate(seeds):
            tasks.append(
                RunTask(len(tasks), f"{members}, replicate {replicate}", data, seed, indicator_tables)
            )
            keys.append((mask, replicate))
    outputs = run_all(tasks, workers=workers, scheduler=scheduler, what="attribute") if tasks else []
    runs = {key: (o.result["indicators"], o.result["spending"]) for key, o in zip(keys, outputs)}
    for mask, replicates in done.items():
        runs.update({(mask, replicate): tables for replicate, tables in enumerate(replicates)})
    order = sorted(runs)
    indicators = pd.concat(
        [runs[key][0].assign(coalition=key[0], replicate=key[1]) for key in order], ignore_index=True
    )
    spending = pd.concat(
        [runs[key][1].assign(coalition=key[0], replicate=key[1]) for key in order], ignore_index=True
    )
    return indicators, spending


def compared_runs(
    attribution: Attribution, comparison: Comparison, outputs: Sequence[ReplicateRun]
) -> dict[int, list[tuple[pd.DataFrame, pd.DataFrame]]]:
    """The coalitions a comparison has already run: those equal, but for ``NOT_IN_RUN``, to one
    of its scenarios (the reference is the empty coalition, the attributed scenario the full
    one), with that scenario's runs on the comparison's seeds."""
    label_of = {_run_key(entry.scenario): entry.label for entry in comparison.scenarios}
    found: dict[int, list[tuple[pd.DataFrame, pd.DataFrame]]] = {}
    for mask, scenario in attribution.coalitions.items():
        label = label_of.get(_run_key(scenario))
        if label is not None:
            mine = sorted((o for o in outputs if o.label == label), key=lambda o: o.replicate)
            found[mask] = [(o.indicators, o.spending) for o in mine]
    return found


def _run_key(scenario: Scenario) -> str:
    data = {key: value for key, value in scenario.as_data().items() if key not in NOT_IN_RUN}
    return json.dumps(data, sort_keys=True)


def attribution_tables(
    attribution: Attribution, indicators: pd.DataFrame, spending: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``effects_table`` and ``cost_table`` at the milestone years and the last year."""
    scenario = attribution.scenario
    years = sorted(
        {y for y in (*MILESTONE_YEARS, scenario.end_year) if scenario.start_year < y <= scenario.end_year}
    )
    return effects_table(attribution, indicators), cost_table(attribution, indicators, spending, years)


def attribute(
    scenario_file: str | Path,
    replicates: int,
    *,
    reference_file: str | Path,
    groups: LeverGroups | Path | None = None,
    out_dir: Path | None = None,
    root_seed: int | None = None,
    scale: int | None = None,
    end_year: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    add_files: Callable[[Path, AttributionResult], object] | None = None,
) -> AttributionResult:
    """Each lever group's own effect in a scenario against a reference, written to ``out_dir``.

    ``groups`` is a grouping, a lever-groups file, or None for ``DEFAULT_GROUPS``; bad input
    raises ``ScenarioError`` before anything runs or is written. Files: ``attribution.csv``
    (``effects_table``), ``cost_per_talent.csv`` (``cost_table`` at the milestone years and the
    last year), ``manifest.json``; ``add_files(stage, result)`` adds the report to the same folder
    before it is swapped into place.
    """
    started = time.perf_counter()
    comparison = plan_comparison(
        [reference_file, scenario_file],
        replicates,
        root_seed=root_seed,
        scale=scale,
        end_year=end_year,
        workers=workers,
        scheduler=scheduler,
    )
    reference, scenario = (entry.scenario for entry in comparison.scenarios)
    attribution = plan_for(scenario, reference, _grouping(groups))
    out_dir = Path(out_dir) if out_dir is not None else Path("outputs") / f"attribute-{scenario.name}"
    if out_dir.exists() and not out_dir.is_dir():
        raise ScenarioError(f"command line: --out: {out_dir} is a file; give a folder")
    indicators, spending = run_coalitions(
        attribution, comparison.seeds, workers=comparison.workers, scheduler=comparison.scheduler
    )
    effects, costs = attribution_tables(attribution, indicators, spending)
    manifest = {
        **describe(attribution),
        "groups_source": _grouping(groups).source,
        "root_seed": comparison.root_seed,
        "seeds": list(comparison.seeds),
        "replicates": len(comparison.seeds),
        "runs": len(attribution.coalitions) * len(comparison.seeds),
        "scale": scenario.scale,
        "start_year": scenario.start_year,
        "end_year": scenario.end_year,
        "versions": files.package_versions(),
        "git_commit": files.git_commit(),
        "model_fingerprint": files.model_fingerprint(),
        "wall_seconds": round(time.perf_counter() - started, 3),
    }
    with staging_dir(out_dir) as stage:
        files.write_csv(stage / "attribution.csv", effects)
        files.write_csv(stage / "cost_per_talent.csv", costs)
        files.write_json(stage / "manifest.json", manifest)
        result = AttributionResult(out_dir, attribution, effects, costs, manifest)
        if add_files is not None:
            add_files(stage, result)
    return result


def _grouping(groups: LeverGroups | Path | None) -> LeverGroups:
    return groups if isinstance(groups, LeverGroups) else load_groups(groups or DEFAULT_GROUPS)


# --- attributing a comparison (jjj-talent compare --attribute) ---------------------------------


@dataclass(frozen=True)
class AttributedComparison:
    """A comparison, and each compared scenario's attribution against its reference (by label)."""

    comparison: ComparisonResult
    attributions: Mapping[str, AttributionResult]


def compare_and_attribute(
    comparison: Comparison,
    *,
    groups: LeverGroups | Path | None = None,
    out_dir: Path | None = None,
    add_files: Callable[[Path, ComparisonResult, Mapping[str, AttributionResult]], object] | None = None,
) -> AttributedComparison:
    """``experiments.compare.compare`` of a planned comparison (``plan_comparison``), with every
    scenario but the reference attributed to its lever groups on the comparison's seeds.

    The comparison has already run the reference and each scenario on those seeds: they are
    the empty and the full coalition of its attribution (``compared_runs``), so they are not
    run again; an attribution of n groups adds 2^n - 2 runs a replicate. Files: the
    comparison's, ``attribution.csv`` and ``cost_per_talent.csv`` (``attribute``'s, with a
    ``scenario`` column first), and an ``attribution`` entry in ``manifest.json``;
    ``add_files(stage, result, attributions)`` adds the report. Bad input (the groups file, a
    scenario that cannot be attributed) raises ``ScenarioError`` before anything runs or is
    written.
    """
    started = time.perf_counter()
    grouping = _grouping(groups)
    reference = comparison.reference.scenario
    plans = {entry.label: plan_for(entry.scenario, reference, grouping) for entry in comparison.scenarios[1:]}
    out_dir = checked_out_dir(comparison, out_dir)
    outputs = run_comparison(comparison)
    attributions: dict[str, AttributionResult] = {}
    for label, attribution in plans.items():
        done = compared_runs(attribution, comparison, outputs)
        indicators, spending = run_coalitions(
            attribution,
            comparison.seeds,
            workers=comparison.workers,
            scheduler=comparison.scheduler,
            done=done,
        )
        effects, costs = attribution_tables(attribution, indicators, spending)
        manifest = {
            **describe(attribution),
            "runs": len(attribution.coalitions) * comparison.replicates,
            "runs_reused": len(done) * comparison.replicates,
        }
        attributions[label] = AttributionResult(out_dir, attribution, effects, costs, manifest)

    def write(stage: Path, result: ComparisonResult) -> None:
        for name, table in (("attribution.csv", "effects"), ("cost_per_talent.csv", "costs")):
            frames = [getattr(a, table).assign(scenario=label) for label, a in attributions.items()]
            joined = pd.concat(frames, ignore_index=True)
            files.write_csv(stage / name, joined[["scenario", *joined.columns.drop("scenario")]])
        if add_files is not None:
            add_files(stage, result, attributions)

    more = {
        "attribution": {
            "groups_source": grouping.source,
            **{label: a.manifest for label, a in attributions.items()},
        }
    }
    result = write_result(out_dir, comparison, outputs, started, write, more_manifest=more)
    return AttributedComparison(result, attributions)
