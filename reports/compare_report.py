"""Charts and the self-contained HTML report of a scenario comparison (experiments/compare.py).

``write_compare_report(folder, comparison, tables, manifest)`` draws the comparison's charts in
English and Chinese into ``folder/charts/`` (PNG and SVG) and writes ``folder/report.html``:
one page, CSS inline, charts embedded as base64 PNG data URIs, no scripts and no external
references. The chart functions are pure (tables in, ``Figure`` out), like those of
``reports/charts.py``, whose helpers and number style they share.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from experiments.compare import (
    ComparedScenario,
    Comparison,
    ComparisonTables,
    cost_years,
    lever_targets,
    target_effect,
)
from experiments.files import write_bytes, write_text
from model.layout import PROVINCES
from model.levers import LEVERS
from model.plan import MILESTONE_NAMES, MILESTONE_YEARS
from reports import charts
from reports.charts import (
    LANGS,
    POLE_COLOURS,
    POLES,
    chart_path,
    figure_bytes,
    line_chart,
    node_names,
    persons_unit,
    pole_name,
)
from reports.fonts import register_cjk_font
from reports.maps import choropleth_figure
from reports.run_report import (
    INDICATOR_ORDER,
    POLE_TITLES,
    _e,
    _flatten,
    _p,
    _table,
    figure_html,
    format_indicator,
    format_signed,
    html_page,
    indicator_label,
)

CHART_NAMES = ("hebei_share", "effect_by_pole", "effect_by_node", "effect_map", "spending")
"""Chart kinds in page order; ``effect_map`` is drawn once per compared scenario (``effect_map_1``, ...)."""
# Okabe-Ito: the reference in grey, the others in colours told apart with colour-vision deficiencies.
REFERENCE_COLOUR = "#555555"
SCENARIO_COLOURS = ("#E69F00", "#56B4E9", "#009E73", "#CC79A7", "#0072B2", "#D55E00", "#F0E442")
POLE_INDICATORS = ["talents.jjj"] + [f"talents.pole.{pole}" for pole in POLES]

LABELS: dict[str, dict[str, str]] = {
    "hebei_share": {
        "en": "Hebei's share of the region's talents, by scenario",
        "zh": "河北人才占京津冀比重（分情景）",
    },
    "hebei_share_sub": {
        "en": "mean over {n} replicates; bands: 90% interval; dashed lines: the plan's milestone years",
        "zh": "{n}次重复的均值；阴影：90%区间；虚线：规划阶段目标年份",
    },
    "share": {"en": "share of talents", "zh": "人才占比"},
    "effect_by_pole": {
        "en": "Effect on talents, scenario minus {reference}",
        "zh": "对人才数量的影响（情景减{reference}）",
    },
    "effect_sub": {
        "en": "paired effect, mean over {n} replicates; bands and whiskers: 90% interval",
        "zh": "配对效应，{n}次重复的均值；阴影与误差线：90%区间",
    },
    "region": {"en": "Region (Beijing–Tianjin–Hebei)", "zh": "京津冀合计"},
    "effect_by_node": {
        "en": "Effect on talents by node in {year}, scenario minus {reference}",
        "zh": "{year}年各节点人才的影响（情景减{reference}）",
    },
    "spending": {
        "en": "Lever spending by year (mean over replicates)",
        "zh": "各政策措施年度投入（重复均值）",
    },
    "cny_million": {"en": "CNY million", "zh": "亿元"},
}

CHART_TITLES: dict[str, str] = {
    "hebei_share": "Hebei's share of the region's talents by scenario (河北人才占比)",
    "effect_by_pole": "Effect on talents by pole (对三极人才的影响)",
    "effect_by_node": "Effect on talents by node in the last year (对各节点人才的影响)",
    "effect_map": "Map of the effect on talents by node (人才效应地图)",
    "spending": "Lever spending (政策投入)",
}

CHART_CAPTIONS: dict[str, str] = {
    "hebei_share": "Hebei's share of the region's talents in each scenario: mean over replicates "
    "with the 5th–95th percentile band. Dashed lines mark the milestone years "
    "2020, 2025 and 2030; the plan sets no numeric share.",
    "effect_by_pole": "Effect of each scenario on talents in the region and in each pole, as the "
    "scenario minus the reference on the same replicate seed; the band is the "
    "90% interval of these paired differences.",
    "effect_by_node": "Effect on talents in each node in the last year, with whiskers from the "
    "5th to the 95th percentile of the paired differences.",
    "effect_map": "Mean effect on each node's talents in the last year, the scenario minus the "
    "reference on the same replicate seeds; colours diverge from zero.",
    "spending": "Spending of each lever by year, summed over nodes, mean over replicates.",
}

SECTIONS = (
    ("summary", "Scenarios compared (比较的情景)"),
    ("changes", "What the plan changes (规划带来的变化)"),
    ("charts", "Charts (图表)"),
    ("milestones", "Milestones (阶段目标)"),
    ("effects", "Effects at milestone years (阶段效应)"),
    ("spending", "Spending and cost per additional talent (投入与成本效益)"),
    ("method", "Method (方法)"),
    ("manifest", "Manifest (运行记录)"),
)

METHOD_HTML = """
<p>Every scenario was run on the same replicate seeds (<em>common random numbers</em>, 共同随机数):
the seeds come from NumPy's <code>SeedSequence(root).spawn(N)</code>, and replicate <em>r</em> of
every scenario uses the same seed. A scenario's <strong>effect</strong> on an indicator is, replicate
by replicate, its value minus the reference's value on that seed (a <em>paired</em> difference),
so chance differences that the two runs share cancel; the mean effect is the mean of these
differences over replicates. A scenario compared with itself has an effect of exactly 0.</p>
<p>Intervals (90%, 区间) are the 5th and 95th percentiles of the paired differences over
replicates (linear interpolation). They show how much the effect varies with the random draws
of the simulation only: they leave out the uncertainty of the behavioural parameters and of
the base-year data, and with few replicates they are rough (with 2 replicates they span 90% of
the distance between the two). Run more replicates to narrow them.</p>
<p>Spending is summed over nodes and averaged over replicates (a replicate that spent nothing in
a year counts as 0). The cost per additional talent divides the additional cumulative spending
on a lever (the scenario's minus the reference's) by the mean effect on the talents of the
lever's target nodes; it is left blank, with the reason, when the 90% interval of that effect
includes 0 or lies below it.</p>
"""


# --- small helpers ------------------------------------------------------------------------------


def text(key: str, lang: str, **values: Any) -> str:
    return LABELS[key][lang].format(**values)


def scenario_colours(labels: Sequence[str]) -> dict[str, str]:
    """The reference grey, the others in turn from ``SCENARIO_COLOURS``."""
    colours = {labels[0]: REFERENCE_COLOUR}
    for i, label in enumerate(labels[1:]):
        colours[label] = SCENARIO_COLOURS[i % len(SCENARIO_COLOURS)]
    return colours


def over_replicates(
    indicators: pd.DataFrame, name: str, labels: Sequence[str]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Mean, 5th and 95th percentile of one indicator over replicates: year x scenario."""
    rows = indicators[indicators["indicator"] == name]
    groups = rows.groupby(["year", "scenario"])["value"]
    frames = [groups.mean(), groups.quantile(0.05), groups.quantile(0.95)]
    return tuple(frame.unstack("scenario").reindex(columns=list(labels)).astype(float) for frame in frames)  # type: ignore[return-value]


def lever_name(lever: str, lang: str) -> str:
    """``graduate_subsidy`` in English; its Chinese programme name (from the declaration) in
    Chinese, when it has one."""
    if lang == "zh" and lever in LEVERS:
        head = LEVERS[lever].meaning.split(":")[0]
        if any("\u4e00" <= ch <= "\u9fff" for ch in head):
            return head
    return lever


def _milestone_lines(ax: Any) -> None:
    low, high = ax.get_xlim()
    for year in MILESTONE_YEARS:
        if low <= year <= high:
            ax.axvline(year, color="0.6", linestyle="--", linewidth=0.8, zorder=1)


# --- charts -------------------------------------------------------------------------------------


def hebei_share_chart(indicators: pd.DataFrame, labels: Sequence[str], lang: str) -> Figure:
    """Hebei's share of the region's talents by scenario, with 90% bands over replicates."""
    mean, low, high = over_replicates(indicators, "hebei_share", labels)
    replicates = indicators["replicate"].nunique()
    return line_chart(
        mean,
        title=text("hebei_share", lang),
        subtitle=text("hebei_share_sub", lang, n=replicates),
        ylabel=text("share", lang),
        band=(low, high),
        colours=scenario_colours(labels),
        percent=True,
        milestones=lang,
    )


def effect_by_pole_chart(effects: pd.DataFrame, labels: Sequence[str], replicates: int, lang: str) -> Figure:
    """Four panels (region and each pole): effect on talents by year, one line a scenario."""
    colours = scenario_colours(labels)
    shown = effects[effects["indicator"].isin(POLE_INDICATORS)]
    largest = (
        float(shown[["effect_p05", "effect_p95", "effect_mean"]].abs().max().max()) if len(shown) else 0.0
    )
    divisor, unit = persons_unit(largest, lang)
    figure = charts._new_figure(10.5, 6.8)
    axes = figure.subplots(2, 2, sharex=True).ravel()
    for ax, name in zip(axes, POLE_INDICATORS, strict=True):
        pole = name.rsplit(".", 1)[-1]
        for label in labels[1:]:
            rows = shown[(shown["scenario"] == label) & (shown["indicator"] == name)]
            rows = rows.sort_values("year")
            years = rows["year"].to_numpy(dtype=float)
            ax.fill_between(
                years,
                rows["effect_p05"] / divisor,
                rows["effect_p95"] / divisor,
                color=colours[label],
                alpha=0.2,
                linewidth=0,
            )
            ax.plot(years, rows["effect_mean"] / divisor, color=colours[label], linewidth=2, label=label)
        ax.axhline(0, color="0.3", linewidth=0.8)
        title = text("region", lang) if name == "talents.jjj" else pole_name(pole, lang)
        ax.set_title(title, loc="left", fontsize=10.5, color=POLE_COLOURS.get(pole, "0.1"))
        ax.yaxis.set_major_formatter(charts._number_formatter())
        charts._year_axis(ax)
        charts._style_axes(ax)
        _milestone_lines(ax)
    for ax in axes:
        ax.set_ylabel(unit, fontsize=9)
    handles = [Line2D([], [], color=colours[label], linewidth=2, label=label) for label in labels[1:]]
    figure.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 4), frameon=False)
    figure.suptitle(
        text("effect_by_pole", lang, reference=labels[0]) + "\n" + text("effect_sub", lang, n=replicates),
        x=0.01,
        ha="left",
        fontsize=12,
    )
    return figure


def effect_by_node_chart(
    effects: pd.DataFrame, labels: Sequence[str], layout: pd.DataFrame, year: int, replicates: int, lang: str
) -> Figure:
    """Horizontal bars: effect on each node's talents in ``year``, whiskers the 90% interval;
    node names coloured by pole."""
    colours = scenario_colours(labels)
    names = node_names(layout, lang)
    poles = dict(zip(layout["node_id"], layout["pole"], strict=True))
    nodes = [node for node in layout["node_id"] if f"talents.{node}" in set(effects["indicator"])]
    rows = effects[
        (effects["year"] == year) & effects["indicator"].isin([f"talents.{node}" for node in nodes])
    ]
    largest = float(rows[["effect_p05", "effect_p95", "effect_mean"]].abs().max().max()) if len(rows) else 0.0
    divisor, unit = persons_unit(largest, lang)
    others = list(labels[1:])
    figure = charts._new_figure(8.5, 1.8 + 0.32 * len(nodes) * max(1, len(others)) ** 0.5)
    ax = figure.add_subplot()
    height = 0.8 / max(len(others), 1)
    positions = np.arange(len(nodes), dtype=float)[::-1]  # first node on top
    for k, label in enumerate(others):
        mine = rows[rows["scenario"] == label].set_index("indicator")
        keys = [f"talents.{node}" for node in nodes]
        mean = mine["effect_mean"].reindex(keys).to_numpy(dtype=float) / divisor
        low = mine["effect_p05"].reindex(keys).to_numpy(dtype=float) / divisor
        high = mine["effect_p95"].reindex(keys).to_numpy(dtype=float) / divisor
        offset = ((len(others) - 1) / 2 - k) * height
        whiskers = np.vstack([np.clip(mean - low, 0, None), np.clip(high - mean, 0, None)])
        ax.barh(
            positions + offset,
            mean,
            height=height * 0.9,
            color=colours[label],
            label=label,
            xerr=whiskers,
            error_kw={"ecolor": "0.2", "elinewidth": 0.9, "capsize": 2.5},
        )
    ax.axvline(0, color="0.3", linewidth=0.8)
    ax.set_yticks(positions, [names.get(node, node) for node in nodes], fontsize=9)
    for tick, node in zip(ax.get_yticklabels(), nodes, strict=True):
        tick.set_color(POLE_COLOURS.get(poles.get(node, ""), "0.1"))
    ax.xaxis.set_major_formatter(charts._number_formatter())
    ax.set_xlabel(unit)
    charts._style_axes(ax)
    ax.grid(False, axis="y")
    if len(others) > 1:
        ax.legend(frameon=False, fontsize=9, loc="best")
    charts._head(
        figure,
        ax,
        text("effect_by_node", lang, year=year, reference=labels[0]),
        text("effect_sub", lang, n=replicates),
    )
    return figure


def spending_chart(spending: pd.DataFrame, labels: Sequence[str], lang: str) -> Figure | None:
    """Stacked bars of spending by year and lever, one panel a scenario that spends; None if no
    scenario spends anything."""
    spending = spending[spending["cny_mean"] > 0]
    spenders = [label for label in labels if label in set(spending["scenario"])]
    if not spenders:
        return None
    divisor = 1e8 if lang == "zh" else 1e6
    levers = list(dict.fromkeys(spending["lever"]))
    cycle = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    lever_colours = {lever: cycle[i % len(cycle)] for i, lever in enumerate(levers)}
    figure = charts._new_figure(8.5, 1.4 + 2.6 * len(spenders))
    axes = figure.subplots(len(spenders), 1, sharex=True, squeeze=False).ravel()
    for ax, label in zip(axes, spenders, strict=True):
        table = spending[spending["scenario"] == label].pivot_table(
            index="year", columns="lever", values="cny_mean", aggfunc="sum", fill_value=0.0
        )
        bottom = np.zeros(len(table))
        years = table.index.to_numpy(dtype=float)
        for lever in [lever for lever in levers if lever in table.columns]:
            values = table[lever].to_numpy(dtype=float) / divisor
            ax.bar(years, values, bottom=bottom, color=lever_colours[lever], width=0.75)
            bottom += values
        ax.set_title(label, loc="left", fontsize=10)
        ax.set_ylabel(text("cny_million", lang), fontsize=9)
        ax.yaxis.set_major_formatter(charts._number_formatter())
        charts._year_axis(ax)
        charts._style_axes(ax)
        ax.grid(False, axis="x")
    handles = [Patch(color=lever_colours[lever], label=lever_name(lever, lang)) for lever in levers]
    figure.legend(
        handles=handles, loc="outside lower center", ncols=min(len(handles), 3), frameon=False, fontsize=9
    )
    figure.suptitle(text("spending", lang), x=0.01, ha="left", fontsize=13)
    return figure


def render_charts(comparison: Comparison, tables: ComparisonTables, lang: str) -> dict[str, Figure]:
    """Every chart of the comparison in ``lang``, by name (spending only if a scenario spends)."""
    charts.check_lang(lang)
    register_cjk_font()
    labels = comparison.labels
    layout = charts.read_layout()
    figures = {
        "hebei_share": hebei_share_chart(tables.indicators, labels, lang),
        "effect_by_pole": effect_by_pole_chart(tables.effects, labels, comparison.replicates, lang),
        "effect_by_node": effect_by_node_chart(
            tables.effects, labels, layout, tables.years[-1], comparison.replicates, lang
        ),
    }
    for k, label in enumerate(labels[1:]):
        figures[f"effect_map_{k + 1}"] = effect_map(tables.effects, label, tables.years[-1], lang)
    spending = spending_chart(tables.spending, labels, lang)
    if spending is not None:
        figures["spending"] = spending
    return figures


def effect_map(effects: pd.DataFrame, label: str, year: int, lang: str) -> Figure:
    """Choropleth of a scenario's mean effect on each node's talents in ``year`` (paired replicates)."""
    rows = effects[(effects["scenario"] == label) & (effects["year"] == year)]
    by_node = {
        indicator.removeprefix("talents."): float(mean)
        for indicator, mean in zip(rows["indicator"], rows["effect_mean"])
        if indicator.startswith("talents.") and indicator.count(".") == 1 and indicator != "talents.jjj"
    }
    title = (
        f"{label}：{year}年对各节点人才的效应（配对重复运行的均值）"
        if lang == "zh"
        else f"{label}: effect on each node's talents in {year} (mean over paired replicates)"
    )
    return choropleth_figure(by_node, title=title, lang=lang, kind="effect")


def write_compare_charts(
    folder: Path, comparison: Comparison, tables: ComparisonTables
) -> dict[str, dict[str, bytes]]:
    """Draw every chart in both languages, then write them as PNG and SVG into
    ``folder/charts``; returns language -> chart name -> PNG bytes."""
    rendered = {
        lang: {name: figure_bytes(figure) for name, figure in render_charts(comparison, tables, lang).items()}
        for lang in LANGS
    }
    for lang, files in rendered.items():
        for name, data in files.items():
            for extension, content in data.items():
                write_bytes(chart_path(folder / "charts", name, lang, extension), content)
    return {lang: {name: data["png"] for name, data in files.items()} for lang, files in rendered.items()}


# --- number formats -----------------------------------------------------------------------------


def _is_share(name: str) -> bool:
    return name.endswith("_share") or name.endswith("_rate")


def format_effect(name: str, value: float) -> str:
    """An effect in the unit its indicator implies: percentage points for shares, signed
    persons for talents, a signed number otherwise."""
    if not _finite(value):
        return "–"
    if abs(value) < 1e-9:  # rounding noise of sums in a different order, not an effect
        value = 0.0
    if _is_share(name):
        text_ = f"{value * 100:+.2f} pp"
    elif name.startswith(("talents.", "high_end.", "population.")) or name.endswith("_talents"):
        return format_signed(value)
    elif abs(value) >= 100 or name == "bj_hb_density_gap" or name.startswith("tertiary_per_100k."):
        text_ = f"{value:+,.0f}"
    else:
        text_ = f"{value:+.3g}"
    text_ = text_.replace("-", "−")
    return "0" if text_ in ("+0", "−0") else text_.replace("+0.00 pp", "0 pp").replace("−0.00 pp", "0 pp")


def format_effect_interval(name: str, mean: float, low: float, high: float) -> str:
    return f"{format_effect(name, mean)} ({format_effect(name, low)} to {format_effect(name, high)})"


def format_persons_interval(mean: float, low: float, high: float) -> str:
    """Additional persons with their interval: ``+1,234 (+200 to +2,300)``."""
    return f"{format_signed(mean)} ({format_signed(low)} to {format_signed(high)})"


def format_level_interval(name: str, mean: float, low: float, high: float) -> str:
    return f"{format_indicator(name, mean)} ({format_indicator(name, low)}–{format_indicator(name, high)})"


def format_cny(value: float) -> str:
    """CNY in words: ``CNY 1,234.5 million``, ``CNY 56,300``."""
    if not _finite(value):
        return "–"
    if abs(value) >= 1e6:
        return f"CNY {value / 1e6:,.1f} million"
    return f"CNY {value:,.0f}"


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


# --- sections -----------------------------------------------------------------------------------


def node_labels() -> dict[str, str]:
    layout = charts.read_layout()
    english, chinese = node_names(layout, "en"), node_names(layout, "zh")
    return {node: f"{english[node]} ({chinese[node]})" for node in english}


def describe_places(nodes: Sequence[str]) -> str:
    """Node ids in words: whole provinces by name, other nodes by their names."""
    layout = charts.read_layout()
    province = dict(zip(layout["node_id"], layout["province"], strict=True))
    labels = node_labels()
    chosen, parts = set(nodes), []
    for name in PROVINCES:
        members = {node for node, p in province.items() if p == name}
        if members and members <= chosen:
            parts.append(f"all of {POLE_TITLES.get(name, name)} ({len(members)} nodes)")
            chosen -= members
    parts += [labels.get(node, node) for node in nodes if node in chosen]
    return ", ".join(parts) if parts else "no node"


def horizon(tables: ComparisonTables) -> int:
    """2030 if the runs reach it, else their last year."""
    years = tables.years
    return 2030 if 2030 in years else years[-1]


def _effect_row(tables: ComparisonTables, label: str, name: str, year: int) -> pd.Series | None:
    rows = tables.effects[
        (tables.effects["scenario"] == label)
        & (tables.effects["indicator"] == name)
        & (tables.effects["year"] == year)
    ]
    return rows.iloc[0] if len(rows) else None


def _effect_text(tables: ComparisonTables, label: str, name: str, year: int) -> str:
    row = _effect_row(tables, label, name, year)
    if row is None:
        return "–"
    return format_effect_interval(name, row["effect_mean"], row["effect_p05"], row["effect_p95"])


def _summary(comparison: Comparison, tables: ComparisonTables, manifest: Mapping[str, Any]) -> str:
    reference = comparison.reference
    years = tables.years
    lead = (
        f'<p class="lead">{len(comparison.scenarios)} scenarios on the same '
        f"{comparison.replicates} replicate seed{'s' if comparison.replicates > 1 else ''} "
        f"({comparison.runs} runs), {years[0]}–{years[-1]}, "
        f"{_e(reference.scenario.scale)} persons per agent row. Effects are each scenario "
        f"minus the reference, <strong>{_e(reference.label)}</strong>, on the same seed.</p>"
    )
    rows = [
        [
            entry.label + (" (reference)" if i == 0 else ""),
            entry.scenario.name,
            entry.scenario.description,
            str(entry.file),
            entry.scenario.sha256()[:12],
        ]
        for i, entry in enumerate(comparison.scenarios)
    ]
    scenarios = _table(["scenario", "name", "description", "file", "sha256"], rows)
    seeds = _table(
        ["replicate", "seed"], [[r, seed] for r, seed in enumerate(comparison.seeds)], numeric=(0, 1)
    )
    return (
        lead
        + scenarios
        + _p(
            f"Replicate seeds from SeedSequence({comparison.root_seed}).spawn("
            f"{comparison.replicates}); every scenario uses the same seed for a replicate."
        )
        + f"<details><summary>Seeds (随机种子)</summary>{seeds}</details>"
    )


def _lever_sentence(
    comparison: Comparison, tables: ComparisonTables, entry: ComparedScenario, lever: str, year: int
) -> str:
    declared = LEVERS.get(lever)
    title = f"<strong>{_e(lever)}</strong>"
    if declared is not None:
        head = lever_name(lever, "zh")
        title += f" — {_e(head) + ', ' if head != lever else ''}plan {_e(declared.section)}"
    targets = lever_targets(entry.scenario).get(lever, [])
    where = f"targets {_e(describe_places(targets))}"
    reference = comparison.reference
    same = reference.scenario.lever_settings().get(lever) == entry.scenario.lever_settings().get(lever)
    if same:
        return (
            f"{title}: set as in {_e(reference.label)}, so it is not part of the difference "
            f"this comparison measures."
        )
    costs = tables.cost_effectiveness
    row = costs[(costs["scenario"] == entry.label) & (costs["lever"] == lever) & (costs["year"] == year)]
    if len(row):
        cost = row.iloc[0]
        spent = tables.spending[
            (tables.spending["scenario"] == entry.label)
            & (tables.spending["lever"] == lever)
            & (tables.spending["cny_mean"] > 0)
        ]
        first = int(spent["year"].min()) if len(spent) else year
        gained = format_persons_interval(
            cost["additional_talents_mean"], cost["additional_talents_p05"], cost["additional_talents_p95"]
        )
        sentence = (
            f"{title}, {where}: spends {_e(format_cny(cost['cumulative_cny_mean']))} in "
            f"{first}–{year} (cumulative, mean over replicates)"
        )
        if cost["base_cumulative_cny_mean"] > 0:
            sentence += (
                f", against {_e(format_cny(cost['base_cumulative_cny_mean']))} in {_e(reference.label)}"
            )
        sentence += f"; talents in its target nodes in {year}: {_e(gained)} (mean, 90% interval)"
        if _finite(cost["cny_per_additional_talent"]):
            sentence += (
                f": about <strong>{_e(format_cny(cost['cny_per_additional_talent']))} "
                f"per additional talent</strong>."
            )
        else:
            sentence += f"; no cost per additional talent is given: {_e(cost['note'])}."
        return sentence
    effect = target_effect(tables.indicators, reference.label, entry.label, targets)
    gained = effect[effect["year"] == year]["effect"]
    change = "–"
    if len(gained):
        change = format_persons_interval(gained.mean(), gained.quantile(0.05), gained.quantile(0.95))
    spending = declared.spending if declared is not None else "not declared"
    return (
        f"{title}, {where}: no spending counted ({_e(spending)}); talents in its target "
        f"nodes in {year}: {_e(change)} (mean, 90% interval)."
    )


def _changes(comparison: Comparison, tables: ComparisonTables) -> str:
    year = horizon(tables)
    reference = comparison.reference
    parts = [
        _p(
            f"By {year}{' (the last year run)' if year != 2030 else ''}, against "
            f"{reference.label}, on the same seeds. Each number is the mean paired effect "
            f"with its 90% interval in brackets.",
            "muted",
        )
    ]
    for entry in comparison.scenarios[1:]:
        label = entry.label
        parts.append(f"<h3>{_e(label)}</h3>")
        if entry.scenario.description:
            parts.append(_p(entry.scenario.description, "muted"))
        poles = "; ".join(
            f"{POLE_TITLES.get(pole, pole)} {_effect_text(tables, label, f'talents.pole.{pole}', year)}"
            for pole in POLES
        )
        parts.append(
            _p(
                f"Talents in the region: {_effect_text(tables, label, 'talents.jjj', year)}; by pole: "
                f"{poles}. Hebei's share of the region's talents: "
                f"{_effect_text(tables, label, 'hebei_share', year)}; the Beijing–Hebei gap in talents "
                f"per 100,000 residents: {_effect_text(tables, label, 'bj_hb_density_gap', year)}."
            )
        )
        levers = list(entry.scenario.lever_settings())
        levers += [lever for lever in reference.scenario.lever_settings() if lever not in levers]
        if levers:
            items = "".join(
                f"<li>{_lever_sentence(comparison, tables, entry, lever, year)}</li>" for lever in levers
            )
            parts.append(f"<p>Lever by lever (政策措施):</p><ul>{items}</ul>")
            moved = [
                lever
                for lever in entry.scenario.lever_settings()
                if reference.scenario.lever_settings().get(lever) != entry.scenario.lever_settings()[lever]
            ]
            if len(moved) > 1:
                parts.append(
                    _p(
                        f"{label} moves {len(moved)} levers at once ({', '.join(moved)}): each is "
                        f"credited with the scenario's joint effect on its own target nodes, so where "
                        f"targets overlap the same additional talents appear under several levers, and "
                        f"the costs per talent can be neither added up nor read as any one lever's. A "
                        f"one-lever variant (a scenario that extends {reference.scenario.name} and sets "
                        f"only that lever) isolates a lever."
                    )
                )
        elif entry.scenario.sha256() == reference.scenario.sha256():
            parts.append(
                _p(
                    f"{label} is the same scenario as {reference.label} (same content "
                    f"hash): its effects are 0 by construction, a check that both ran on "
                    f"the same seeds."
                )
            )
        else:
            parts.append(
                _p(f"{label} sets no lever; it differs from {reference.label} in its parameters only.")
            )
        changed = _parameter_changes(
            reference.scenario.parameter_overrides(), entry.scenario.parameter_overrides()
        )
        if changed:
            parts.append(_p(f"Parameters that differ from {reference.label}: {changed}."))
    parts.append(
        _p(
            "How to read the costs: a lever is credited with its scenario's joint effect on the "
            "lever's target nodes. In a scenario with one lever that is the lever's own effect; in a "
            "scenario with several levers each lever gets the same joint effect on its targets, so "
            "only one-lever variants (each extending the reference with one lever) isolate a lever "
            "and give costs that can be compared between levers. The gain in a lever's target nodes "
            "also counts talents drawn from other nodes of the region; the effects on the region "
            "and on each pole above show how much of it is a net gain.",
            "muted",
        )
    )
    return "\n".join(parts)


def _parameter_changes(reference: Mapping[str, float], scenario: Mapping[str, float]) -> str:
    names = sorted(set(reference) | set(scenario))
    changed = [
        f"{name} {reference.get(name, 'default')} → {scenario.get(name, 'default')}"
        for name in names
        if reference.get(name) != scenario.get(name)
    ]
    return "; ".join(changed)


def _charts(pngs: Mapping[str, Mapping[str, bytes]]) -> str:
    english, chinese = pngs.get("en", {}), pngs.get("zh", {})
    parts = [
        _p(
            "Charts in English, each with its Chinese version below it; PNG and SVG files of "
            "both are in the charts/ folder.",
            "muted",
        )
    ]
    drawn = sorted(set(english) | set(chinese), key=lambda name: (CHART_NAMES.index(_kind(name)), name))
    for name in drawn:
        kind = _kind(name)
        title = CHART_TITLES[kind]
        parts.append(
            figure_html(
                name,
                english.get(name),
                chinese.get(name),
                title,
                CHART_CAPTIONS[kind],
                title,
                LABELS[kind]["zh"] if kind in LABELS else title,
            )
        )
    if "spending" not in english:
        parts.append(_p("No spending chart: no scenario spends on a lever.", "muted"))
    return "\n".join(parts)


def _kind(chart: str) -> str:
    """The kind of a chart name (``effect_map_2`` -> ``effect_map``)."""
    return chart.rstrip("0123456789").removesuffix("_") if chart.startswith("effect_map") else chart


def _milestones(comparison: Comparison, tables: ComparisonTables) -> str:
    barrier_levers = [name for name, lever in LEVERS.items() if "barrier" in lever.mechanism]
    setting = []
    for entry in comparison.scenarios:
        used = [name for name in barrier_levers if name in entry.scenario.lever_settings()]
        setting.append(f"{entry.label}: {', '.join(used) if used else 'none'}")
    definitions = f"""
<p>The plan's targets (二(三)) are qualitative. This is the measurable definition that stands for each:</p>
<ul>
<li><strong>2020 (近期)</strong> — joint management system and mechanisms in place, major tasks and
projects started: institutional milestones that the model cannot measure; the report does not
score them.</li>
<li><strong>2025 (中期)</strong> — talent structure fits the functional roles of the region and of
each of the three: <code>hebei_share</code> (Hebei's share of the region's talents) and
<code>bj_hb_density_gap</code> (talents per 100,000 residents, Beijing minus Hebei); international
competitiveness clearly higher: <code>foreign_share</code> (foreign share of talents) and
high-end talents by pole (<code>high_end.pole.*</code>); basic public services clearly more equal:
<code>services_gap</code> (Beijing's public-service index minus Hebei's resident-weighted mean).</li>
<li><strong>2030 (远期)</strong> — one unified talent market: <code>unemployment_rate</code> (talents
looking for work among those in the labour force) and the barriers to moving between the three
(hukou and cross-province barriers), which are inputs, not outcomes: the parameters
<code>hukou_barrier_*</code> and <code>beta_province_barrier</code>, lowered by the levers
{_e(", ".join(barrier_levers))} (set by {_e("; ".join(setting))}); a world high-end talent
cluster basically built: <code>high_end.pole.beijing</code>; balanced public services:
<code>services_gap</code>.</li>
<li>Also shown: <code>xiongan_talents</code> (四(五), talents gathering in Xiong'an) and
<code>talents.jjj</code> (the region's talents).</li>
</ul>"""
    table = tables.milestones
    years = [year for year in MILESTONE_YEARS if year in set(table["year"])]
    if not years:
        last = tables.years[-1]
        return definitions + _p(
            f"The runs end in {last}, before the first milestone year "
            f"(2020); run to 2020 or later (--end) for this table."
        )
    labels = node_labels()
    rows = []
    for name in dict.fromkeys(table["indicator"]):
        for label in comparison.labels:
            mine = table[(table["indicator"] == name) & (table["scenario"] == label)]
            cells = []
            for year in years:
                row = mine[mine["year"] == year]
                cells.append(
                    format_level_interval(name, *row.iloc[0][["mean", "p05", "p95"]]) if len(row) else "–"
                )
            rows.append([indicator_label(name, labels) or name, label] + cells)
    return (
        definitions
        + _p("Mean over replicates, 90% interval in brackets.", "muted")
        + _table(
            ["indicator", "scenario"] + [f"{y} ({MILESTONE_NAMES[y]['zh']})" for y in years],
            rows,
            numeric=range(2, 2 + len(years)),
        )
    )


def effect_years(tables: ComparisonTables) -> list[int]:
    """Milestone years in the run, else its last year."""
    years = [year for year in MILESTONE_YEARS if year in tables.years]
    return years or [tables.years[-1]]


def _effects(comparison: Comparison, tables: ComparisonTables) -> str:
    years = effect_years(tables)
    labels = node_labels()
    names = list(dict.fromkeys(tables.effects["indicator"]))
    key = [name for name in INDICATOR_ORDER if name in names]
    layout = charts.read_layout()
    nodes = [f"talents.{node}" for node in layout["node_id"] if f"talents.{node}" in names]
    nodes += [
        name
        for name in names
        if name.startswith("talents.")
        and name.count(".") == 1
        and name != "talents.jjj"
        and name not in nodes
    ]
    rest = [name for name in names if name not in key and name not in nodes]
    header = ["indicator"] + [str(year) for year in years]
    numeric = range(1, len(years) + 1)
    parts = [
        _p(
            f"Effect (scenario minus {comparison.reference.label}, same seeds): mean over "
            f"replicates, 90% interval in brackets; shares in percentage points (pp). All "
            f"indicators and years are in effects.csv.",
            "muted",
        )
    ]
    for label in comparison.labels[1:]:

        def rows(chosen: Sequence[str], label: str = label) -> list[list[str]]:
            return [
                [indicator_label(name, labels) or name]
                + [_effect_text(tables, label, name, year) for year in years]
                for name in chosen
            ]

        parts.append(f"<h3>{_e(label)}</h3>")
        parts.append(_table(header, rows(key), numeric=numeric))
        if nodes:
            parts.append(
                f"<details><summary>Talents by node (各节点人才)</summary>"
                f"{_table(header, rows(nodes), numeric=numeric)}</details>"
            )
        if rest:
            parts.append(
                f"<details><summary>Other indicators (其他指标)</summary>"
                f"{_table(header, rows(rest), numeric=numeric)}</details>"
            )
    return "\n".join(parts)


def _spending(comparison: Comparison, tables: ComparisonTables) -> str:
    spending = tables.spending
    if spending.empty or not (spending["cny_mean"] > 0).any():
        return _p("No scenario spends on a lever, so there is no cost to report.")
    rows = []
    for (label, lever), part in spending.groupby(["scenario", "lever"], sort=False):
        spent = part[part["cny_mean"] > 0]
        span = f"{int(spent['year'].min())}–{int(spent['year'].max())}" if len(spent) else "–"
        rows.append([label, lever, span, f"{part['cny_mean'].sum() / 1e6:,.1f}"])
    parts = [
        _p("Spending summed over nodes and years, mean over replicates, in CNY million.", "muted"),
        _table(["scenario", "lever", "years", "CNY million"], rows, numeric=(3,)),
    ]
    costs = tables.cost_effectiveness
    if len(costs):
        cost_rows = []
        for row in costs.itertuples(index=False):
            per = (
                format_cny(row.cny_per_additional_talent)
                if _finite(row.cny_per_additional_talent)
                else f"– ({row.note})"
            )
            cost_rows.append(
                [
                    row.scenario,
                    row.lever,
                    row.year,
                    describe_places(str(row.target_nodes).split(";") if row.target_nodes else []),
                    f"{row.cumulative_cny_mean / 1e6:,.1f}",
                    format_persons_interval(
                        row.additional_talents_mean, row.additional_talents_p05, row.additional_talents_p95
                    ),
                    per,
                ]
            )
        parts.append("<h3>Cost per additional talent (每新增一名人才的投入)</h3>")
        parts.append(
            _p(
                f"For {', '.join(str(y) for y in cost_years(tables.years))}: cumulative "
                f"spending on the lever to that year, the paired effect on the talents "
                f"of its target nodes in that year, and their ratio (additional spending "
                f"over the reference / mean effect). Blank where the effect's 90% interval "
                f"includes 0 or lies below it. In a scenario with several levers each "
                f"lever is credited with the scenario's joint effect on its targets; "
                f"one-lever variants isolate a lever.",
                "muted",
            )
        )
        parts.append(
            _table(
                [
                    "scenario",
                    "lever",
                    "year",
                    "target nodes",
                    "cumulative CNY million",
                    "additional talents (90% interval)",
                    "CNY per additional talent",
                ],
                cost_rows,
                numeric=(2, 4),
            )
        )
    return "\n".join(parts)


def _manifest(manifest: Mapping[str, Any]) -> str:
    shown = {key: value for key, value in manifest.items() if key not in ("scenarios", "seeds")}
    shown["seeds"] = ", ".join(str(seed) for seed in manifest.get("seeds", []))
    return _table(["key", "value"], _flatten(shown))


# --- the page -----------------------------------------------------------------------------------


def render_compare_report(
    comparison: Comparison,
    tables: ComparisonTables,
    manifest: Mapping[str, Any],
    pngs: Mapping[str, Mapping[str, bytes]],
) -> str:
    """The report page; ``pngs`` maps language -> chart name -> PNG bytes."""
    sections = {
        "summary": _summary(comparison, tables, manifest),
        "changes": _changes(comparison, tables),
        "charts": _charts(pngs),
        "milestones": _milestones(comparison, tables),
        "effects": _effects(comparison, tables),
        "spending": _spending(comparison, tables),
        "method": METHOD_HTML,
        "manifest": _manifest(manifest),
    }
    year = horizon(tables)
    titles = {anchor: title for anchor, title in SECTIONS}
    titles["changes"] = f"What the plan changes by {year} (规划到{year}年带来的变化)"
    names = " vs ".join(comparison.labels)
    years = tables.years
    return html_page(
        title=f"{names} — jjj-talent comparison",
        generator="reports/compare_report.py",
        heading=f"Talent flows in Beijing–Tianjin–Hebei: {names}",
        subtitle=(
            f"jjj-talent scenario comparison (京津冀人才一体化情景比较) · {years[0]}–{years[-1]} · "
            f"{comparison.replicates} replicates · root seed {comparison.root_seed} · "
            f"{_e(manifest.get('created', ''))}"
        ),
        sections=[(anchor, titles[anchor], sections[anchor]) for anchor, _ in SECTIONS],
        footer=(
            "Written by jjj-talent from the comparison's runs; every number is a model result "
            "for these scenarios and seeds, not an observation."
        ),
    )


def write_compare_report(
    folder: Path, comparison: Comparison, tables: ComparisonTables, manifest: Mapping[str, Any]
) -> Path:
    """Charts (both languages, ``folder/charts/``) and ``folder/report.html``; returns its path."""
    pngs = write_compare_charts(Path(folder), comparison, tables)
    page = render_compare_report(comparison, tables, manifest, pngs)
    return write_text(Path(folder) / "report.html", page)
