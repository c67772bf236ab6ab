"""The attribution report: each lever group's own effect as a waterfall, its table and costs.

Drawn from the tables ``experiments/attribution.py`` wrote; nothing here runs the model. The
pieces (waterfall chart, groups, effects and cost tables, method) are shared by the attribution
report (``jjj-talent attribute``, bilingual) and the attribution section of the comparison
report (``jjj-talent compare --attribute``, in the page's language): every text they write is
in ``TEXTS`` in English and Chinese, with what the bilingual page shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from experiments.attribution import DENOMINATOR, HEADLINE, Attribution, AttributionResult
from experiments.files import write_bytes, write_text
from experiments.replicates import P05, P95
from reports.charts import LANGS, _head, _new_figure, _style_axes, chart_path, figure_bytes, persons_unit
from reports.fonts import register_cjk_font
from reports.run_report import _e, _en_only, _p, _pair, _table, figure_html, format_signed, html_page
from reports.run_report import tr as run_tr

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
# What the region's net gain and the other two provinces show beside Hebei's gain (the cost
# table's denominator), so that talents drawn from Beijing or Tianjin are not read as new ones.
BESIDE = ("talents.jjj", "talents.province.beijing", "talents.province.tianjin")

TEXTS: dict[str, dict[str, str]] = {
    # the attribution report's sections
    "summary": _pair("Summary", "概要"),
    "chart": _pair("Each group's own effect", "各类政策贡献"),
    "effects": _pair("Effects by group", "各类政策效应"),
    "costs": _pair("Cost per additional talent", "每新增人才成本"),
    "method": _pair("Method", "方法"),
    "page_title": _en_only("{scenario} — jjj-talent attribution", "{scenario} — jjj-talent政策贡献分解"),
    "heading": _en_only(
        "What each lever group buys: {scenario} against {reference}",
        "各类政策的贡献：{scenario}相对{reference}",
    ),
    "subtitle": {
        "en": "jjj-talent attribution · {replicates} paired replicates · {runs} runs · scale {scale}",
        "zh": "jjj-talent政策贡献分解 · {replicates}次配对重复 · {runs}次运行 · 每行{scale}人",
        "both": "jjj-talent attribution (政策贡献分解) · {replicates} paired replicates · {runs} runs · "
        "scale {scale}",
    },
    "footer": _en_only(
        "Every number is a model result on paired replicate seeds, not an observation.",
        "所有数字均为配对重复种子下的模型结果，而非观测值。",
    ),
    # pieces
    "groups_lead": _en_only(
        "{count} lever groups change between {scenario} and {reference}; each of the {coalitions} "
        "combinations of groups was run on the same {replicates} replicate seeds.",
        "{scenario}与{reference}之间有{count}类政策不同；这些政策类别的全部{coalitions}种组合均在相同的"
        "{replicates}个重复种子上运行。",
    ),
    "group": _en_only("group", "政策类别"),
    "levers_changed": _en_only("levers changed", "调整的政策措施"),
    "alone": _en_only("alone", "单独"),
    "left_out": _en_only("left out", "剔除"),
    "shapley": _en_only("Shapley", "Shapley值"),
    "joint": _en_only("joint", "总效应"),
    "chart_caption": _en_only(
        "Shapley values of each lever group on talents in Hebei; they add up to the joint effect.",
        "各类政策对河北人才的Shapley值；各值相加即总效应。",
    ),
    "no_cost_year": _en_only("No group has a year to cost.", "没有可计算成本的年份。"),
    "cost_note": _en_only(
        "Cumulative spending of the group's levers in the scenario, divided by the group's Shapley "
        "effect on talents in Hebei (one denominator for every group). Beside it, the group's Shapley "
        "effect on the region's talents (its net gain) and on Beijing's and Tianjin's, so that talents "
        "Hebei draws from them are not read as new ones. No cost is given (–) where Hebei loses talents; "
        "where the effect's interval includes zero, the cost per talent is not meaningful; where "
        "spending is zero the group's levers are not costed by the model.",
        "各类政策在情景中的累计投入，除以该类政策对河北人才的Shapley效应（所有类别使用同一分母）。"
        "旁列该类政策对京津冀人才（净增）以及对北京、天津人才的Shapley效应，以免把河北从京津吸引来的人才当作新增人才。"
        "河北人才减少时不给出成本（–）；效应区间包含0时，每新增人才成本没有意义；投入为0表示模型未计算该类政策的投入。",
    ),
    "year": _en_only("year", "年份"),
    "spending": _en_only("spending (CNY million)", "投入（百万元）"),
    "hebei_gain": _en_only("talents gained by Hebei (90% interval)", "河北新增人才（90%区间）"),
    "per_talent": _en_only("CNY per talent gained by Hebei", "河北每新增一名人才的投入（元）"),
    "region_gain": _en_only("region's net gain", "京津冀净增"),
    "beijing": _en_only("Beijing", "北京"),
    "tianjin": _en_only("Tianjin", "天津"),
    "method_text": _en_only(
        "Every combination (coalition) of the lever groups the scenario changes is run: the "
        "reference with those groups' levers set as the scenario sets them. 'Alone' is a group on "
        "the reference; 'left out' is what the scenario loses without it; the Shapley value "
        "averages a group's marginal effect over every order in which groups could be added, and "
        "the Shapley values add up to the joint effect. Intervals are the 5th to 95th percentiles "
        "over paired replicates (the same seeds for every coalition).",
        "对情景所调整的政策类别的每一种组合（联盟）各运行一次：在参照情景上按该情景的设定调整这些类别的政策措施。"
        "“单独”指该类政策单独加在参照情景上的效应；“剔除”指情景去掉该类政策后损失的效应；"
        "Shapley值是该类政策在各种加入顺序下边际效应的平均，各类政策的Shapley值相加即总效应。"
        "区间为配对重复运行（所有组合使用相同种子）的第5至第95百分位。",
    ),
    "to": _en_only(" to ", " 至 "),
}
"""Every text of the attribution pieces in English and Chinese, with what the bilingual page shows."""

HEADLINE_ZH = {
    "hebei_share": "河北人才占京津冀比重",
    "talents.province.hebei": "河北人才",
    "xiongan_talents": "雄安新区人才",
    "talents.jjj": "京津冀人才（净增）",
    "bj_hb_density_gap": "京冀每十万常住人口人才数之差",
    "talents.province.beijing": "北京人才",
    "talents.province.tianjin": "天津人才",
}
"""``HEADLINE``'s meanings in Chinese."""


def tr(key: str, lang: str, **values: Any) -> str:
    """The text ``key`` of ``TEXTS`` in ``lang`` (``en``, ``zh`` or ``both``), filled in."""
    return run_tr(key, lang, TEXTS, **values)


def group_label(group: str, lang: str) -> str:
    """A group's name (``joint`` for the joint effect), in Chinese on a Chinese page."""
    return {**GROUP_NAMES, "joint": JOINT["zh"]}.get(group, group) if lang == "zh" else group


def headline_label(indicator: str, lang: str) -> str:
    return HEADLINE_ZH.get(indicator, indicator) if lang == "zh" else HEADLINE.get(indicator, indicator)


def last_year(effects: pd.DataFrame) -> int:
    """The year the chart and the effects tables show: the last one attributed."""
    return int(effects["year"].max())


# --- the chart ----------------------------------------------------------------------------------


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


def write_waterfall(charts_dir: Path, name: str, effects: pd.DataFrame) -> dict[str, bytes]:
    """The waterfall of talents in Hebei in the last year, in both languages, as
    ``charts_dir/<name>.<lang>.png`` and ``.svg``; returns language -> PNG bytes."""
    register_cjk_font()
    pngs: dict[str, bytes] = {}
    for lang in LANGS:
        rendered = figure_bytes(waterfall_chart(effects, DENOMINATOR, last_year(effects), lang))
        for extension, data in rendered.items():
            write_bytes(chart_path(charts_dir, name, lang, extension), data)
        pngs[lang] = rendered["png"]
    return pngs


def waterfall_html(name: str, pngs: Mapping[str, bytes], year: int, lang: str = "both") -> str:
    """The waterfall as a figure of a page in ``lang``."""
    title = TITLE["zh" if lang == "zh" else "en"].format(year=year)
    return figure_html(
        name,
        pngs.get("en"),
        pngs.get("zh"),
        title,
        tr("chart_caption", lang),
        TITLE["en"].format(year=year),
        TITLE["zh"].format(year=year),
        lang=lang,
    )


# --- tables -------------------------------------------------------------------------------------


def groups_html(attribution: Attribution, replicates: int, lang: str = "both") -> str:
    """What was attributed: a sentence and the table of groups and the levers they change."""
    groups = attribution.groups
    rows = [[group_label(name, lang), ", ".join(levers)] for name, levers in groups.items()]
    return _p(
        tr(
            "groups_lead",
            lang,
            count=len(groups),
            scenario=attribution.scenario.name,
            reference=attribution.reference.name,
            coalitions=len(attribution.coalitions),
            replicates=replicates,
        )
    ) + _table([tr("group", lang), tr("levers_changed", lang)], rows)


def effects_html(effects: pd.DataFrame, lang: str = "both", heading: str = "h3") -> str:
    """One table per headline indicator in the last year: each group alone, left out, its Shapley
    value, and the joint effect, with 90 % intervals."""
    parts = []
    header = [tr(key, lang) for key in ("group", "alone", "left_out", "shapley", "joint")]
    for indicator in HEADLINE:
        rows = effects[(effects["indicator"] == indicator)]
        if rows.empty:
            continue
        year = int(rows["year"].max())
        at = rows[rows["year"] == year]
        table = []
        for group in dict.fromkeys(at["group"]):
            mine = at[at["group"] == group].set_index("measure")
            table.append(
                [group_label(str(group), lang)]
                + [
                    _interval(indicator, mine.loc[m], lang) if m in mine.index else "–"
                    for m in ("alone", "left_out", "shapley", "joint")
                ]
            )
        parts.append(f"<{heading}>{_e(headline_label(indicator, lang))}, {year}</{heading}>")
        parts.append(_table(header, table, numeric=(1, 2, 3, 4)))
    return "\n".join(parts)


def _interval(indicator: str, row: pd.Series, lang: str = "both") -> str:
    to = tr("to", lang)
    if indicator.endswith("share"):
        share = f"{row['mean'] * 100:+.2f} pp ({row[P05] * 100:+.2f}{to}{row[P95] * 100:+.2f})"
        return share.replace("-", "−")  # the minus sign, as format_signed writes it
    return f"{format_signed(row['mean'])} ({format_signed(row[P05])}{to}{format_signed(row[P95])})"


def costs_html(costs: pd.DataFrame, effects: pd.DataFrame, lang: str = "both") -> str:
    """Each group's cost per talent gained by Hebei, with its Shapley effect on the region's
    talents and on Beijing's and Tianjin's beside it."""
    if costs.empty:
        return _p(tr("no_cost_year", lang))
    shapley = effects[effects["measure"] == "shapley"].set_index(["group", "indicator", "year"])["mean"]
    to = tr("to", lang)
    rows = []
    for _, row in costs.iterrows():
        beside = [
            format_signed(shapley.get((row["group"], indicator, row["year"]), np.nan)) for indicator in BESIDE
        ]
        rows.append(
            [
                group_label(str(row["group"]), lang),
                int(row["year"]),
                f"{row['spending_cny'] / 1e6:,.1f}",
                f"{format_signed(row['effect'])} ({format_signed(row[f'effect_{P05}'])}{to}"
                f"{format_signed(row[f'effect_{P95}'])})",
                "–" if not np.isfinite(row["cny_per_talent"]) else f"{row['cny_per_talent']:,.0f}",
                *beside,
            ]
        )
    header = ["group", "year", "spending", "hebei_gain", "per_talent", "region_gain", "beijing", "tianjin"]
    return _p(tr("cost_note", lang)) + _table(
        [tr(key, lang) for key in header], rows, numeric=(1, 2, 3, 4, 5, 6, 7)
    )


def method_html(lang: str = "both") -> str:
    return _p(tr("method_text", lang))


# --- the attribution report ---------------------------------------------------------------------


def write_attribution_report(folder: Path, result: AttributionResult) -> Path:
    """Charts (PNG and SVG, both languages) and ``report.html`` in ``folder``."""
    pngs = write_waterfall(folder / "charts", "attribution", result.effects)
    return write_text(folder / "report.html", _page(result, pngs, last_year(result.effects)))


def _page(result: AttributionResult, pngs: Mapping[str, bytes], year: int, lang: str = "both") -> str:
    manifest: Mapping[str, Any] = result.manifest
    attribution = result.attribution
    sections = [
        ("summary", tr("summary", lang), groups_html(attribution, manifest["replicates"], lang)),
        ("chart", tr("chart", lang), waterfall_html("attribution", pngs, year, lang)),
        ("effects", tr("effects", lang), effects_html(result.effects, lang)),
        ("costs", tr("costs", lang), costs_html(result.costs, result.effects, lang)),
        ("method", tr("method", lang), method_html(lang)),
    ]
    names = {"scenario": attribution.scenario.name, "reference": attribution.reference.name}
    return html_page(
        title=tr("page_title", lang, **names),
        generator="reports/attribution.py",
        heading=tr("heading", lang, **names),
        subtitle=_e(
            tr(
                "subtitle",
                lang,
                replicates=manifest["replicates"],
                runs=manifest["runs"],
                scale=manifest["scale"],
            )
        ),
        sections=sections,
        footer=tr("footer", lang),
        lang=lang,
    )
