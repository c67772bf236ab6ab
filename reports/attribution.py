"""The attribution report: each lever group's own effect as a waterfall, its table and costs.

Drawn from the tables ``experiments/attribution.py`` wrote; nothing here runs the model.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from experiments.attribution import DENOMINATOR, HEADLINE, AttributionResult
from experiments.files import write_bytes, write_text
from experiments.replicates import P05, P95
from reports.charts import LANGS, _head, _new_figure, _style_axes, chart_path, figure_bytes, persons_unit
from reports.fonts import register_cjk_font
from reports.run_report import _e, _p, _table, figure_html, format_signed, html_page

GROUP_NAMES = {
    "money": "资金补贴",
    "services": "公共服务",
    "relocation": "功能疏解",
    "international": "国际人才",
    "barriers": "制度壁垒",
    "demand": "需求与重点工程",
    "housing": "人才安居",
    "cards": "人才卡",
}
TITLE = {
    "en": "Each lever group's own effect on talents in Hebei, {year} (Shapley values)",
    "zh": "各类政策对河北人才的独立贡献（{year}年，Shapley值）",
}
SUBTITLE = {
    "en": "bars add up to the joint effect; whiskers: 90% interval over paired replicates",
    "zh": "各柱相加即总效应；须线为配对重复运行的90%区间",
}
JOINT = {"en": "joint effect", "zh": "总效应"}


def group_label(group: str, lang: str) -> str:
    return GROUP_NAMES.get(group, group) if lang == "zh" else group


def waterfall_chart(effects: pd.DataFrame, indicator: str, year: int, lang: str) -> Figure:
    """Shapley effects of the groups on ``indicator`` in ``year``, stacked from zero to the joint
    effect, largest first, with each group's 90 % interval as a whisker."""
    rows = effects[(effects["indicator"] == indicator) & (effects["year"] == year)]
    shapley = rows[rows["measure"] == "shapley"].sort_values("mean", key=np.abs, ascending=False)
    joint = rows[rows["group"] == "joint"]
    largest = float(np.nanmax(np.abs(np.r_[shapley[["mean", P05, P95]].to_numpy().ravel(), joint["mean"]])))
    divisor, unit = persons_unit(largest, lang)
    figure = _new_figure(8.5, 1.6 + 0.45 * (len(shapley) + 1))
    ax = figure.add_subplot()
    start = 0.0
    labels = []
    for k, (_, row) in enumerate(shapley.iterrows()):
        value = row["mean"] / divisor
        colour = "#009E73" if value >= 0 else "#D55E00"
        ax.barh(k, value, left=start, color=colour, height=0.6)
        low, high = row[P05] / divisor, row[P95] / divisor
        ax.errorbar(
            start + value, k, xerr=[[max(value - low, 0)], [max(high - value, 0)]], color="#333333", capsize=3
        )
        start += value
        labels.append(group_label(str(row["group"]), lang))
    total = float(joint["mean"].iloc[0]) / divisor if len(joint) else start
    ax.barh(len(labels), total, color="#555555", height=0.6)
    labels.append(JOINT[lang])
    ax.set_yticks(range(len(labels)), labels)
    ax.invert_yaxis()
    ax.axvline(0, color="#999999", linewidth=0.8)
    ax.set_xlabel(unit)
    _style_axes(ax)
    _head(figure, ax, TITLE[lang].format(year=year), SUBTITLE[lang])
    return figure


def write_attribution_report(folder: Path, result: AttributionResult) -> Path:
    """Charts (PNG and SVG, both languages) and ``report.html`` in ``folder``."""
    register_cjk_font()
    effects = result.effects
    year = int(effects["year"].max())
    pngs: dict[str, bytes] = {}
    for lang in LANGS:
        rendered = figure_bytes(waterfall_chart(effects, DENOMINATOR, year, lang))
        for extension, data in rendered.items():
            write_bytes(chart_path(folder / "charts", "attribution", lang, extension), data)
        pngs[lang] = rendered["png"]
    return write_text(folder / "report.html", _page(result, pngs, year))


def _page(result: AttributionResult, pngs: Mapping[str, bytes], year: int) -> str:
    manifest: Mapping[str, Any] = result.manifest
    attribution = result.attribution
    sections = [
        ("summary", "Summary (概要)", _summary(result, year)),
        ("chart", "Each group's own effect (各类政策贡献)", _chart(pngs, year)),
        ("effects", "Effects by group (各类政策效应)", _effects(result.effects)),
        ("costs", "Cost per additional talent (每新增人才成本)", _costs(result.costs)),
        ("method", "Method (方法)", _method()),
    ]
    return html_page(
        title=f"{attribution.scenario.name} — jjj-talent attribution",
        generator="reports/attribution.py",
        heading=f"What each lever group buys: {attribution.scenario.name} against {attribution.reference.name}",
        subtitle=(
            f"jjj-talent attribution (政策贡献分解) · {manifest['replicates']} paired replicates · "
            f"{manifest['runs']} runs · scale {manifest['scale']}"
        ),
        sections=sections,
        footer="Every number is a model result on paired replicate seeds, not an observation.",
    )


def _summary(result: AttributionResult, year: int) -> str:
    groups = result.attribution.groups
    rows = [[name, ", ".join(levers)] for name, levers in groups.items()]
    return _p(
        f"{len(groups)} lever groups change between the scenario and its reference; each of the "
        f"{len(result.attribution.coalitions)} combinations of groups was run on the same "
        f"{result.manifest['replicates']} replicate seeds."
    ) + _table(["group", "levers changed"], rows)


def _chart(pngs: Mapping[str, bytes], year: int) -> str:
    return figure_html(
        "attribution",
        pngs.get("en"),
        pngs.get("zh"),
        TITLE["en"].format(year=year),
        "Shapley values of each lever group on talents in Hebei; they add up to the joint effect.",
        TITLE["en"].format(year=year),
        TITLE["zh"].format(year=year),
    )


def _effects(effects: pd.DataFrame) -> str:
    parts = []
    for indicator, meaning in HEADLINE.items():
        rows = effects[(effects["indicator"] == indicator)]
        if rows.empty:
            continue
        year = int(rows["year"].max())
        at = rows[rows["year"] == year]
        table = []
        for group in dict.fromkeys(at["group"]):
            mine = at[at["group"] == group].set_index("measure")
            table.append(
                [group]
                + [
                    _interval(indicator, mine.loc[m]) if m in mine.index else "–"
                    for m in ("alone", "left_out", "shapley", "joint")
                ]
            )
        parts.append(f"<h3>{_e(meaning)}, {year}</h3>")
        parts.append(_table(["group", "alone", "left out", "Shapley", "joint"], table, numeric=(1, 2, 3, 4)))
    return "\n".join(parts)


def _interval(indicator: str, row: pd.Series) -> str:
    if indicator.endswith("share"):
        return f"{row['mean'] * 100:+.2f} pp ({row[P05] * 100:+.2f} to {row[P95] * 100:+.2f})"
    return f"{format_signed(row['mean'])} ({format_signed(row[P05])} to {format_signed(row[P95])})"


def _costs(costs: pd.DataFrame) -> str:
    if costs.empty:
        return _p("No group has a year to cost.")
    rows = []
    for _, row in costs.iterrows():
        rows.append(
            [
                row["group"],
                int(row["year"]),
                f"{row['spending_cny'] / 1e9:,.2f}",
                f"{format_signed(row['effect'])} ({format_signed(row[f'effect_{P05}'])} to "
                f"{format_signed(row[f'effect_{P95}'])})",
                "–" if not np.isfinite(row["cny_per_talent"]) else f"{row['cny_per_talent']:,.0f}",
            ]
        )
    return _p(
        "Cumulative spending of the group's levers in the scenario, divided by the group's Shapley "
        "effect on talents in Hebei (one denominator for every group). Where the effect's interval "
        "includes zero, the cost per talent is not meaningful; where spending is zero the group's "
        "levers are not costed by the model."
    ) + _table(
        ["group", "year", "spending (CNY bn)", "talents gained by Hebei (90% interval)", "CNY per talent"],
        rows,
        numeric=(1, 2, 3, 4),
    )


def _method() -> str:
    return _p(
        "Every combination (coalition) of the lever groups the scenario changes is run: the "
        "reference with those groups' levers set as the scenario sets them. 'Alone' is a group on "
        "the reference; 'left out' is what the scenario loses without it; the Shapley value "
        "averages a group's marginal effect over every order in which groups could be added, and "
        "the Shapley values add up to the joint effect. Intervals are the 5th to 95th percentiles "
        "over paired replicates (the same seeds for every coalition)."
    )
