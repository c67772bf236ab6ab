"""The self-contained HTML report of one run.

``write_report(run_dir)`` draws the run's charts in English and Chinese into ``run_dir/charts/``
and writes ``run_dir/report.html``: one file with its CSS inline and its charts embedded as
base64 PNG data URIs, no scripts and no external references, so it can be mailed, archived or
printed as it is. All text from the run goes through ``html.escape``.

The page is bilingual by default (English, Chinese titles beside it, each chart in both
languages) or in one language (``lang="en"`` or ``"zh"``): every text the report writes is in
``TEXTS`` (and ``CHART_CAPTIONS``, ``FIXED_INDICATORS``, ``METHOD_HTML``) in both languages, with
what the bilingual page shows. Data shown as they are (run notes, parameters' meanings and
sources, provenance, ASSUMPTIONS.md) stay in English; the Chinese page says so.

Numbers follow one style: persons with thousands separators (``19.40 million`` in headlines),
shares as percentages with one decimal (``36.0%``), money in CNY million.
"""

from __future__ import annotations

import base64
import html
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.calibration.validate import worst_rows
from experiments.files import write_text
from model.errors import ScenarioError
from model.indicators import ACCOUNT_TERMS, talent_accounts
from model.plan import MILESTONE_YEARS
from reports import REPORT_LANGS
from reports.charts import (
    CHART_NAMES,
    LANGS,
    POLES,
    RunData,
    indicator_series,
    label,
    node_names,
    pole_name,
    read_run,
    term_name,
    write_charts,
)
from reports.fonts import font_face_css

TABLE_YEARS = (2015, *MILESTONE_YEARS)
"""Years the report's tables show (with the run's first and last): the base year and the milestones."""
STATUS_ORDER = ("observed", "derived", "unverified", "assumption")


def _pair(en: str, zh: str) -> dict[str, str]:
    """A text shown as ``English (中文)`` on the bilingual page."""
    return {"en": en, "zh": zh, "both": f"{en} ({zh})"}


def _en_only(en: str, zh: str) -> dict[str, str]:
    """A text the bilingual page shows in English only (sentences, notes, table headers)."""
    return {"en": en, "zh": zh, "both": en}


TEXTS: dict[str, dict[str, str]] = {
    # section titles
    "summary": _pair("Summary", "概要"),
    "charts": _pair("Charts", "图表"),
    "indicators": _pair("Indicators at milestone years", "阶段指标"),
    "drivers": _pair("Drivers", "驱动因素"),
    "accounts": _pair("Where the talents came from", "人才增减来源"),
    "levers": _pair("Lever spending", "政策投入"),
    "notes": _pair("Notes", "说明"),
    "method": _pair("Method", "方法"),
    "assumptions": _pair("Assumptions", "假设"),
    "sources": _pair("Data sources", "数据来源"),
    "parameters": _pair("Parameters", "参数"),
    "manifest": _pair("Manifest", "运行记录"),
    # page
    "page_title": _en_only("{scenario} — jjj-talent run report", "{scenario} — jjj-talent运行报告"),
    "heading": _en_only("Talent flows in Beijing–Tianjin–Hebei: {scenario}", "京津冀人才流动：{scenario}"),
    "report_kind": _pair("jjj-talent run report", "京津冀人才一体化模拟报告"),
    "seed_is": _en_only("seed {seed}", "随机种子 {seed}"),
    "footer": _en_only(
        "Written by jjj-talent from the files in the run directory; every number is a model result for "
        "this scenario and seed, not an observation.",
        "由jjj-talent根据运行目录中的文件生成；所有数字均为该情景与随机种子下的模型结果，而非观测值。",
    ),
    "data_in_english": _en_only(
        "",
        "本节内容是数据原文，仅有英文。",
    ),
    # summary
    "description_in_english": _en_only("", "（情景说明是数据原文，仅有英文。）"),
    "fact_scenario": _pair("Scenario", "情景"),
    "fact_years": _pair("Years", "年份"),
    "fact_seed": _pair("Seed", "随机种子"),
    "fact_scale": _en_only("Scale (persons per agent row)", "规模（每个主体行代表的人数）"),
    "fact_rows": _en_only("Agent rows", "主体行数"),
    "fact_parameters": _en_only("Parameter values", "参数取值"),
    "parameters_own": _en_only(
        "the scenario's; a single run: no interval (chance only, see compare and validate)",
        "情景自身的取值；单次运行：无区间（仅随机性，见compare与validate）",
    ),
    "parameters_drawn": _en_only(
        "draw {draw} of ensemble {file} ({draws}; sets {names}); a single run: no interval "
        "(compare and validate with --ensemble give intervals of chance and parameter uncertainty)",
        "参数集合{file}中的抽样“{draw}”（共{draws}个抽样；设定{names}）；单次运行：无区间"
        "（compare与validate加--ensemble给出包含随机性与参数不确定性的区间）",
    ),
    "fact_created": _en_only("Created", "生成时间"),
    "region_sentence": _en_only(
        "Talents in the region go from {start} in {first} to {end} in {last}{change}.",
        "京津冀人才总量从{first}年的{start}人变为{last}年的{end}人{change}。",
    ),
    "region_change": _en_only(" ({change:+.1f}%)", "（{change:+.1f}%）"),
    "share_sentence": _en_only(
        "Hebei's share of the region's talents is {start} in {first} and {end} in {last}",
        "河北人才占京津冀比重{first}年为{start}，{last}年为{end}",
    ),
    "share_milestones": _en_only(
        " (at the plan's milestone years {milestones}).", "（规划阶段目标年份：{milestones}）。"
    ),
    "milestone_value": _en_only("{year}: {value}", "{year}年 {value}"),
    "list_sep": _en_only("; ", "；"),
    "comma": _en_only(", ", "，"),
    "sentence_sep": _en_only(" ", ""),
    "full_stop": _en_only(".", "。"),
    "xiongan_sentence": _en_only(
        "Xiong'an has {persons} talents in {last}.", "{last}年雄安新区有人才{persons}人。"
    ),
    "headline": _pair("Headline numbers", "主要指标"),
    "indicator": _en_only("indicator", "指标"),
    # charts
    "charts_note": {
        "en": "PNG and SVG files of every chart, in English and in Chinese, are in the run's charts/ folder.",
        "zh": "每幅图的中英文PNG与SVG文件均在运行目录的charts/文件夹中。",
        "both": "Charts in English; each has a Chinese version below it. PNG and SVG files of both are in "
        "the run's charts/ folder.",
    },
    "no_drivers_chart": _en_only(
        "No drivers chart: the run recorded no driver decomposition.",
        "无驱动因素图：本次运行未记录驱动因素分解。",
    ),
    # indicators
    "indicators_note": _en_only(
        "Values at the plan's milestone years and the run's first and last year. Shares are percentages; "
        "talents are persons.",
        "规划阶段目标年份及运行首末年份的数值。比重为百分比，人才为人数。",
    ),
    "by_node": _pair("Talents by node", "各节点人才"),
    "node": _en_only("node", "节点"),
    "other_indicators": _pair("Other indicators", "其他指标"),
    "unknown_note": _en_only(
        "Indicators this report has no label for, by their names in indicators.csv.",
        "本报告没有名称的指标，按其在indicators.csv中的名称列出。",
    ),
    "no_indicators": _en_only("indicators.csv has no rows.", "indicators.csv没有数据行。"),
    "talents_province": _en_only("Talents, province: {pole}", "{pole}人才（省市）"),
    "talents_pole": _en_only("Talents, pole: {pole}", "{pole}人才（极）"),
    "high_end_pole": {
        "en": "High-end talents, pole: {pole}",
        "zh": "{pole}高端人才（极）",
        "both": "High-end talents (高端人才), pole: {pole}",
    },
    "per_100k": {
        "en": "Talents per 100,000 residents, province: {pole}",
        "zh": "{pole}每十万人人才数",
        "both": "Talents per 100,000 residents (每十万人人才数), province: {pole}",
    },
    "residents": {
        "en": "Residents, province: {pole}",
        "zh": "{pole}常住人口",
        "both": "Residents (常住人口), province: {pole}",
    },
    "talents_in": _en_only("Talents in {node}", "{node}人才"),
    "structure": {
        "en": "Talent structure in {year}",
        "zh": "{year}年人才结构",
        "both": "Talent structure in {year} (人才结构)",
    },
    "structure_note": _en_only(
        "Persons in stocks.parquet by pole and occupation group, all statuses (students, employed, "
        "unemployed, retired).",
        "stocks.parquet中按极与职业类别统计的人数，含所有状态（学生、就业、失业、退休）。",
    ),
    "pole": _en_only("pole", "极"),
    "high_end": _pair("high-end", "高端"),
    "foreign": _pair("foreign", "外籍"),
    "total": _en_only("total", "合计"),
    # drivers
    "no_drivers": _en_only(
        "The run recorded no driver decomposition (drivers.csv is empty).",
        "本次运行未记录驱动因素分解（drivers.csv为空）。",
    ),
    "driver_top": _en_only("{term}: {persons} persons ({detail})", "{term}：{persons}人（{detail}）"),
    "drivers_sentence": _en_only(
        "The terms of the location choice that drive the largest changes (ranked by the provinces' net "
        "gains and losses added up without sign) are {top}.",
        "引起变化最大的位置选择效用项（按各省市净增减人数的绝对值之和排序）依次为：{top}。",
    ),
    "drivers_note": _en_only(
        "Each cell: the net talents a province gained (+) or lost (−) over the run because of the term.",
        "每格：该效用项使该省市在全期净增（+）或净减（−）的人才数。",
    ),
    # talent accounts
    "no_accounts": _en_only(
        "This run's nodes table has no entrants, degrees and deaths to account for its talents "
        "(written before they were recorded).",
        "本次运行的节点表没有入学、学位与死亡人数，无法分解人才增减（早于记录这些数据的版本）。",
    ),
    "accounts_note": _en_only(
        "Each province's change of talents over each period, term by term: end = start + "
        "university entrants + adults' degrees + arrivals from outside the region − leavers to "
        "outside it + moves in from the other provinces − moves out to them − deaths (whole persons; "
        "moves between nodes of one province cancel). Students count as talents from entry, as in "
        "the census; adults' degrees are adult, online and self-study graduates who lived there "
        "without a degree; overseas recruits are among the arrivals. model/indicators.py "
        "talent_accounts, from nodes.parquet and flows.parquet.",
        "各省市每一时段人才增减的分项：期末 = 期初 + 高校新生 + 成人学历 + 区域外迁入 − 迁出区域 + "
        "自其他省市迁入 − 迁往其他省市 − 死亡（整人计；同省节点之间的迁移相互抵消）。学生自入学起计为人才，"
        "与普查一致；成人学历指原无学历的常住居民取得的成人、网络与自学考试学历；海外引才计入区域外迁入。"
        "见 model/indicators.py talent_accounts，数据来自 nodes.parquet 与 flows.parquet。",
    ),
    "accounts_unexplained": _en_only(
        "The terms leave {persons} persons unexplained in all: a rule changed talents without counting it.",
        "分项合计与期末相差{persons}人：有规则改变了人才数而未计入分项。",
    ),
    "period": _en_only("period", "时段"),
    "province": _en_only("province", "省市"),
    "talents_start": _en_only("start", "期初"),
    "university_entrants": _en_only("university entrants", "高校新生"),
    "adult_degrees": _en_only("adults' degrees", "成人学历"),
    "arrivals": _en_only("arrivals", "区域外迁入"),
    "leavers": _en_only("leavers", "迁出区域"),
    "moves_in": _en_only("moves in", "省际迁入"),
    "moves_out": _en_only("moves out", "省际迁出"),
    "deaths": _en_only("deaths", "死亡"),
    "talents_end": _en_only("end", "期末"),
    "term": _en_only("term", "效用项"),
    "net": _en_only("net", "净值"),
    "absolute": _en_only("absolute", "绝对值合计"),
    # levers
    "no_spending": _en_only(
        "No lever spending was recorded (lever_spending.csv is empty).",
        "未记录政策投入（lever_spending.csv为空）。",
    ),
    "spent": _en_only(
        "Levers spent CNY {total} million in all (amounts below in CNY million).",
        "各项政策措施共投入{total}百万元（下表单位：百万元）。",
    ),
    "lever": _en_only("lever", "政策措施"),
    "years": _en_only("years", "年份"),
    "nodes": _en_only("nodes", "节点"),
    "by_year": _pair("By year", "按年份"),
    "year": _en_only("year", "年份"),
    # notes, assumptions, sources, parameters, manifest
    "no_notes": _en_only("The run left no notes.", "本次运行没有说明。"),
    "no_assumptions": _en_only(
        "{source} is not written yet; the assumptions will appear here once it is.",
        "{source}尚未撰写；写好后假设将显示于此。",
    ),
    "assumptions_from": _en_only("From {source}.", "摘自{source}。"),
    "no_provenance": _en_only(
        "The run has no provenance table (provenance.csv is empty).",
        "本次运行没有数据来源表（provenance.csv为空）。",
    ),
    "statuses": _en_only(
        "Base-year data by status: observed (published), derived (computed from published data), "
        "unverified (from a source not yet checked), assumption (set by the modellers).",
        "基年数据按状态分类：observed（已公布）、derived（由公布数据推算）、unverified（来源尚未核实）、"
        "assumption（建模者设定）。",
    ),
    "status": _en_only("status", "状态"),
    "values": _en_only("values", "数值个数"),
    "share": _en_only("share", "占比"),
    "all": _en_only("all", "全部"),
    "all_values": {
        "en": "All {total} values",
        "zh": "全部{total}项数据来源",
        "both": "All {total} values (全部数据来源)",
    },
    "no_parameters": _en_only(
        "The run has no parameter table (parameters.csv is empty).",
        "本次运行没有参数表（parameters.csv为空）。",
    ),
    "fit_caption": _en_only(
        "The behavioural parameters this scenario inherits were fitted to the numbers published up "
        "to 2015 (the history scenario from the 2010 census; `jjj-talent calibrate "
        "experiments/calibration-2015.yaml`). Each target, the published value and the fit's "
        "simulated mean ({rows} targets, fit.csv). Where this run's parameters differ from the "
        "fitted layer's (its own values, an ensemble draw), the table describes the layer. "
        "Validation on the published numbers after 2015: README, model/data/validation/README.md.",
        "本情景继承的行为参数依据2015年及以前公布的数据拟合（历史情景，自2010年普查起；"
        "`jjj-talent calibrate experiments/calibration-2015.yaml`）。下表列出每个拟合目标、公布值与拟合后的"
        "模拟均值（共{rows}个目标，fit.csv）。若本次运行的参数与拟合层不同（情景自设取值或集合抽样），"
        "此表描述的是拟合层。2015年以后公布数据的验证见README与model/data/validation/README.md。",
    ),
    "fit_title": _pair("Fit to the numbers published up to 2015", "对2015年及以前公布数据的拟合"),
    "validation_title": _pair("Validation on the numbers published after 2015", "对2015年以后公布数据的验证"),
    "validation_caption": _en_only(
        "The fitted layer's {scenario} run from {start} ({replicates} replicates at scale {scale}; "
        "{interval}) against every number published after 2015 that the repository holds "
        "(model/data/validation/): {rows} rows, MAPE {mape} (mean absolute percentage error), "
        "MASE {mase} (errors over those of carrying the last number up to {start} forward; below "
        "1 the model does better); the interval holds the observed value of {within} of the {rows}. "
        "By indicator below; the largest errors after them; every row "
        "in validation.csv. Written by `{command}`.",
        "拟合层的{scenario}情景自{start}年起运行（{replicates}次重复，比例{scale}；{interval}），"
        "与本库所存2015年以后公布的全部数据（model/data/validation/）比较：共{rows}行，"
        "平均绝对百分比误差（MAPE）{mape}，MASE {mase}（相对于把{start}年及以前最后公布值延续的误差之比，"
        "小于1即优于延续）；其中{within}行的公布值落在区间内。下表按指标汇总，其后为误差最大的几行；逐行结果见validation.csv。"
        "生成命令：`{command}`。",
    ),
    "validation_worst": _en_only("Largest relative errors", "相对误差最大的行"),
    "changed_parameters": _en_only(
        "{changed} of {total} parameters differ from their default (highlighted).",
        "{total}个参数中有{changed}个与默认值不同（高亮显示）。",
    ),
    "parameter_origins": _en_only(
        "Where the values come from (origin): {parts}.", "取值来源（origin列）：{parts}。"
    ),
    "origin_fitted": _en_only(
        "{n} fitted to the numbers up to 2015 (the layer the scenario extends, "
        "scenarios/calibrated-2015.yaml for the shipped scenarios)",
        "{n}个依据2015年及以前的数据校准（情景所继承的校准层，内置情景为scenarios/calibrated-2015.yaml）",
    ),
    "origin_ensemble": _en_only("{n} set by the ensemble's draw", "{n}个由参数集合的抽样设定"),
    "origin_scenario": _en_only("{n} set by the scenario", "{n}个由情景设定"),
    "origin_default": _en_only(
        "{n} at their declared default (judgement or published evidence, as the source column says)",
        "{n}个取声明的默认值（判断或已发表的证据，见source列）",
    ),
    "key": _en_only("key", "项目"),
    "value": _en_only("value", "值"),
}
"""Every text of the run report in English and Chinese, with what the bilingual page shows."""


def check_report_lang(lang: str) -> str:
    if lang not in REPORT_LANGS:
        raise ScenarioError(f"report language {lang!r} is not one of {', '.join(REPORT_LANGS)}")
    return lang


def tr(key: str, lang: str, table: Mapping[str, Mapping[str, str]] = TEXTS, **values: Any) -> str:
    """The text ``key`` of ``table`` in ``lang`` (``en``, ``zh`` or ``both``), filled with ``values``."""
    return table[key][lang].format(**values)


def pole_title(pole: str, lang: str) -> str:
    """``Beijing (北京)`` on the bilingual page, ``Beijing`` or ``北京`` on a one-language page."""
    if lang == "both":
        return f"{pole_name(pole, 'en')} ({pole_name(pole, 'zh')})" if pole in POLES else pole
    return pole_name(pole, lang)


POLE_TITLES = {pole: pole_title(pole, "both") for pole in POLES}

CHART_CAPTIONS: dict[str, dict[str, str]] = {
    "talents_by_pole": _en_only(
        "Talents by pole, stacked; the region's total is the top edge.",
        "三极人才数量堆积图；顶边为京津冀合计。",
    ),
    "talents_by_node": _en_only(
        "Talents by node, each panel on its own scale, with the change since the first year the node has "
        "talents.",
        "各节点人才数量，每个小图各用其刻度，并标出自该节点有人才的首年以来的变化。",
    ),
    "hebei_share": {
        "en": "Hebei's share of the region's talents. Dashed lines mark the plan's milestone years 2020, "
        "2025 and 2030; the plan sets no numeric share, so the years are marked, not target values.",
        "zh": "河北人才占京津冀比重。虚线标出规划的阶段目标年份2020、2025与2030年（近期/中期/远期）；"
        "规划未设定比重数值，故只标年份，不标目标值。",
        "both": "Hebei's share of the region's talents. Dashed lines mark the plan's milestone years 2020, "
        "2025 and 2030 (近期/中期/远期); the plan sets no numeric share, so the years are marked, not "
        "target values.",
    },
    "talents_map": _en_only(
        "Talents by node in the last year (colour), province outlines, and arrows for the largest net "
        "flows between nodes in that year, their width in proportion to persons.",
        "末年各节点人才数量（颜色）、省界，以及当年节点间最大的人才净流动（箭头，宽度与人数成正比）。",
    ),
    "change_map": _en_only(
        "Change in talents by node since the first year (diverging colours centred on zero), with the "
        "largest net flows between nodes over the whole run.",
        "各节点人才自首年以来的变化（以零为中心的发散色），以及全期节点间最大的人才净流动。",
    ),
    "price_wage": _en_only(
        "House price and mean talent wage by node (log scales).",
        "各节点房价与人才平均工资（对数刻度）。",
    ),
    "drivers": _en_only(
        "Net talents each province gained or lost over the run because of each term of the location choice.",
        "位置选择的各效用项使各省市在全期净增或净减的人才数。",
    ),
}

MAP_TITLES: dict[str, dict[str, str]] = {
    "talents_map": _pair("Map of talents by node", "各节点人才地图"),
    "change_map": _pair("Map of the change in talents", "人才变化地图"),
}
"""Titles of the map charts, which reports/charts.py's labels do not name."""


def chart_title(name: str, lang: str) -> str:
    """A chart's title in the page: ``English (中文)`` on the bilingual page."""
    if name in MAP_TITLES:
        return tr(name, lang, MAP_TITLES)
    return f"{label(name, 'en')} ({label(name, 'zh')})" if lang == "both" else label(name, lang)


FIXED_INDICATORS: dict[str, dict[str, str]] = {
    "talents.jjj": _pair("Talents in the region", "京津冀人才总量"),
    "hebei_share": _pair("Hebei's share of the region's talents", "河北人才占比"),
    "bj_hb_density_gap": _pair(
        "Talent density gap, Beijing minus Hebei, per 100,000 residents", "京冀人才密度差"
    ),
    "foreign_share": _pair("Foreign share of talents", "外籍人才占比"),
    "xiongan_talents": _pair("Talents in Xiong'an", "雄安新区人才"),
    "unemployment_rate": _pair("Unemployment rate of talents", "人才失业率"),
    "services_gap": _pair("Public-service index gap, Beijing minus Hebei", "公共服务差距"),
}
INDICATOR_ORDER = (
    ["talents.jjj"]
    + [f"talents.pole.{pole}" for pole in POLES]
    + [f"talents.province.{pole}" for pole in POLES]
    + ["hebei_share", "bj_hb_density_gap"]
    + [f"high_end.pole.{pole}" for pole in POLES]
    + ["foreign_share", "xiongan_talents", "unemployment_rate", "services_gap"]
    + [f"tertiary_per_100k.{pole}" for pole in POLES]
    + [f"population.province.{pole}" for pole in POLES]
)

METHOD_BOTH = """
<p>jjj-talent is an agent-based model built on Mesa 3 (version in the <a href="#manifest">manifest</a>). Talents
(tertiary-educated residents, the census definition; see <a href="#assumptions">Assumptions</a>)
are held as rows of
NumPy arrays, each row carrying a weight: high-end talents are one person a row, others one row
per <em>scale</em> persons, and every behavioural rule is applied to all rows at once. Firms and
cities (the 17 nodes) are Mesa agents.</p>
<p>Each simulated year runs these phases in order:</p>
<ol>
<li><strong>Levers</strong>: the year's value of every policy lever is read from the scenario
(dated values; a lever past its last date keeps its last value, and the report's notes say so).</li>
<li><strong>Firms</strong>: labour demand by occupation group, relocations of non-capital
functions, vacancies; wages grow by their node's 2010-2015 trend and adjust to excess demand.</li>
<li><strong>Cities</strong>: house prices follow the node's wage growth and residents over housing,
whose supply responds least in Beijing; talent housing grows; public services converge as the
levers say.</li>
<li><strong>Demography</strong>: ageing, retirement and mortality; students enter and graduate;
inflows from the rest of China and abroad, outflows.</li>
<li><strong>Location choice</strong>: talents who consider moving choose among all nodes, staying
included, by a multinomial logit over wage, jobs, housing cost, public services, amenity,
agglomeration, distance, hukou and credential barriers and lever terms (位置选择, 多项Logit).</li>
<li><strong>Matching</strong>: movers and job seekers fill vacancies where they chose; the
unmatched are unemployed and search again.</li>
<li><strong>Flexible talent</strong>: part-time and multi-site service (柔性引才) counted as
full-time equivalents where it is served.</li>
<li><strong>Collect</strong>: stocks, flows, prices, wages, lever spending and indicators.</li>
</ol>
<p>Every behavioural coefficient is a parameter with a default, unit, bounds and source (see
<a href="#parameters">Parameters</a>). The behavioural core (arrivals, the adult-degree
pipeline and local entrants, the logit weights on wage, housing and services within the published
evidence, Beijing's hukou barrier, settlement, the barrier on and the share of leaving the region, the
moving hazard, the cost of commuting, wages, house prices and the lean of the base year's moves) is
fitted jointly to the numbers published up to 2015 by <code>jjj-talent calibrate
experiments/calibration-2015.yaml</code>; the table's column <em>origin</em> says which parameters are
fitted, which the scenario sets and which keep their declared default, and those that differ from
their default are highlighted. The defaults are judgement or published evidence, as their source says. Base-year data carry their provenance (see
<a href="#sources">Data sources</a>). The plan's targets are qualitative, so the model reports
measurable indicators (Hebei's share, the Beijing–Hebei density gap, the foreign share, high-end
talents per pole) at the milestone years 2020, 2025 and 2030.</p>
"""

METHOD_ZH = """
<p>jjj-talent是基于Mesa 3构建的主体模型（版本见<a href="#manifest">运行记录</a>）。人才（受过高等教育的常住人口，
采用人口普查口径；见<a href="#assumptions">假设</a>）以NumPy数组的行表示，每行带权重：高端人才一行一人，
其他人才一行代表<em>scale</em>人，每条行为规则同时作用于所有行。企业与城市（17个节点）是Mesa主体。</p>
<p>每个模拟年份依次运行以下阶段：</p>
<ol>
<li><strong>政策措施</strong>：从情景中读取每项政策措施当年的取值（按日期取值；某项措施超过其最后日期后保持最后取值，
报告的说明会指出）。</li>
<li><strong>企业</strong>：按职业类别的劳动需求、非首都功能疏解、岗位空缺；工资按所在节点2010—2015年的增长趋势上涨，并随超额需求调整。</li>
<li><strong>城市</strong>：房价随节点工资增长及常住人口与住房之比变化，北京的住房供给弹性最小；人才住房增长；公共服务按政策措施趋同。</li>
<li><strong>人口</strong>：老龄化、退休与死亡；学生入学与毕业；来自全国其他地区与境外的流入，以及流出。</li>
<li><strong>位置选择</strong>：考虑迁移的人才在所有节点（包括留在原地）中选择，采用多项Logit模型，考虑工资、就业机会、
住房成本、公共服务、宜居环境、集聚效应、距离、户籍与资格壁垒以及政策措施项。</li>
<li><strong>匹配</strong>：迁移者与求职者在所选之处填补空缺；未匹配者失业并继续求职。</li>
<li><strong>柔性引才</strong>：兼职与多地服务折算为全时当量，计入服务所在地。</li>
<li><strong>汇总</strong>：存量、流量、房价、工资、政策投入与各项指标。</li>
</ol>
<p>每个行为系数都是带默认值、单位、取值范围与来源的参数（见<a href="#parameters">参数</a>）。行为核心（外来流入、成人学历教育与本地生源、
在已发表证据范围内的工资、住房与公共服务权重、北京户籍壁垒、落户、离开本区域的壁垒与比例、迁移风险、通勤成本、工资、房价以及基年迁移的趋势倾斜）由
<code>jjj-talent calibrate experiments/calibration-2015.yaml</code>依据2015年及以前公布的数据联合校准；参数表的<em>origin</em>列注明哪些参数经校准、
哪些由情景设定、哪些取声明的默认值，与默认值不同者突出显示；默认值为判断或已发表的证据，见各参数来源。基年数据附有来源
（见<a href="#sources">数据来源</a>）。规划目标是定性的，因此模型在2020、2025与2030年这三个阶段目标年份报告可度量的指标
（河北人才占比、京冀人才密度差、外籍人才占比、各极高端人才）。</p>
"""

METHOD_HTML: dict[str, str] = {
    "both": METHOD_BOTH,
    # The English page: the bilingual text without its Chinese glosses in parentheses.
    "en": re.sub(r" \([^()]*[\u4e00-\u9fff][^()]*\)", "", METHOD_BOTH),
    "zh": METHOD_ZH,
}
"""The method section in each page language."""

EMBEDDED_FAMILY = "jjj-talent Noto Sans CJK SC"
"""The page's own copy of Noto Sans CJK SC: a WOFF2 subset of the characters it shows beyond ASCII
(``reports.fonts.font_face_css``), under a family name no system font has, named first in
``font-family`` (behind a system font Chromium draws bold Chinese as boxes rather than fall back), so
Chinese renders the same on a machine without CJK fonts; Latin text, not in the subset, keeps the
system font."""

CSS = """
body { font-family: "%(embedded)s", system-ui, -apple-system, "Segoe UI", "Noto Sans CJK SC",
  "PingFang SC", "Microsoft YaHei", sans-serif; max-width: 1120px; margin: 2rem auto; padding: 0 1rem;
  color: #222; line-height: 1.5; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { border-bottom: 2px solid #ddd; padding-bottom: 0.2rem; margin-top: 2.5rem; }
h3 { margin-top: 1.5rem; }
.muted { color: #666; }
.lead { font-size: 1.05rem; }
nav ol { columns: 2; font-size: 0.95rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1.2rem; font-size: 0.88rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: left;
  vertical-align: top; }
th { background: #f4f4f4; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.changed td { background: #fff6dd; font-weight: 600; }
figure { margin: 1.5rem 0 2rem; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.9rem; color: #444; margin-top: 0.3rem; }
details { margin: 0.4rem 0 1rem; }
details > summary { cursor: pointer; color: #0b5394; }
code { background: #f4f4f4; padding: 0 0.2rem; }
pre { background: #f7f7f7; padding: 0.6rem; overflow-x: auto; }
.url { color: #555; word-break: break-all; }
@page { margin: 15mm; }
@media print {
  body { max-width: none; margin: 0; color: #000; font-size: 10.5pt; }
  nav, details > summary { display: none; }
  details, details > * { display: block; }
  h2 { break-after: avoid; }
  figure, table, tr { break-inside: avoid; }
  figure img { border: none; max-height: 235mm; }
  a { color: inherit; text-decoration: none; }
}
""".replace("%(embedded)s", EMBEDDED_FAMILY)

SECTIONS = (
    "summary",
    "charts",
    "indicators",
    "drivers",
    "accounts",
    "levers",
    "notes",
    "method",
    "assumptions",
    "sources",
    "parameters",
    "manifest",
)
"""Section anchors in page order; their titles are in ``TEXTS``."""


# --- number formats -----------------------------------------------------------------------------


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def format_share(value: float) -> str:
    """A share in [0, 1] as a percentage with one decimal: 0.3604 -> ``36.0%``."""
    return f"{float(value) * 100:.1f}%" if _finite(value) else "–"


def format_persons(value: float, lang: str = "en") -> str:
    """Persons for headlines: ``19.40 million`` from a million up, else ``52,300``; in Chinese
    ``1,940.0万`` from ten thousand up."""
    if not _finite(value):
        return "–"
    value = float(value)
    if lang == "zh":
        return f"{value / 1e4:,.1f}万" if abs(value) >= 1e4 else f"{value:,.0f}"
    return f"{value / 1e6:,.2f} million" if abs(value) >= 1e6 else f"{value:,.0f}"


def format_count(value: float) -> str:
    return f"{float(value):,.0f}" if _finite(value) else "–"


def format_signed(value: float) -> str:
    """``+1,234`` / ``−1,234`` (minus sign) / ``0``."""
    if not _finite(value):
        return "–"
    text = f"{float(value):+,.0f}".replace("-", "−")
    return "0" if text in ("+0", "−0") else text


def format_number(value: Any) -> str:
    """A value of unknown meaning: from 100 up (and whole numbers) with separators and no
    decimals, below that three significant digits."""
    if not _finite(value):
        return "–" if value is None or str(value) in ("", "nan", "None") else str(value)
    number = float(value)
    if abs(number) >= 100 or number == int(number):
        return f"{number:,.0f}"
    return f"{number:.3g}"


def format_indicator(name: str, value: float) -> str:
    """An indicator value in the style its name implies (share, persons or plain number)."""
    if not _finite(value):
        return "–"
    if name.endswith("share") or name.endswith("_rate"):
        return format_share(value)
    if name.startswith(("talents.", "high_end.")) or name.endswith("_talents"):
        return format_count(value)
    if name.startswith(("population.", "tertiary_per_100k.")) or name == "bj_hb_density_gap":
        return f"{float(value):,.0f}"
    return format_number(value)


def format_cny_million(value: float) -> str:
    return f"{float(value) / 1e6:,.1f}" if _finite(value) else "–"


# --- HTML pieces --------------------------------------------------------------------------------


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _table(
    header: Sequence[str] | None,
    rows: Iterable[Sequence[Any]],
    *,
    numeric: Iterable[int] = (),
    row_classes: Sequence[str] | None = None,
) -> str:
    """An HTML table of escaped text (no header row if ``header`` is None); columns in
    ``numeric`` are right-aligned."""
    numeric = set(numeric)

    def cell(tag: str, index: int, value: Any) -> str:
        css = ' class="num"' if index in numeric else ""
        return f"<{tag}{css}>{_e(value)}</{tag}>"

    head = (
        ""
        if header is None
        else ("<thead><tr>" + "".join(cell("th", i, name) for i, name in enumerate(header)) + "</tr></thead>")
    )
    body = []
    for r, row in enumerate(rows):
        css = f' class="{_e(row_classes[r])}"' if row_classes and row_classes[r] else ""
        body.append(f"<tr{css}>" + "".join(cell("td", i, v) for i, v in enumerate(row)) + "</tr>")
    return f"<table>{head}<tbody>{''.join(body)}</tbody></table>"


def _section(anchor: str, title: str, content: str) -> str:
    return f'<section id="{anchor}">\n<h2>{_e(title)}</h2>\n{content}\n</section>'


def _p(text: str, css: str = "") -> str:
    klass = f' class="{css}"' if css else ""
    return f"<p{klass}>{_e(text)}</p>"


def _inline_markdown(text: str) -> str:
    """Escape ``text`` and render `code`, **strong**, *em* and [text](url) (url shown as text:
    the report links to nothing outside itself)."""
    parts = re.split(r"(`[^`]+`)", text)
    out = []
    for part in parts:
        if len(part) >= 2 and part.startswith("`") and part.endswith("`"):
            out.append(f"<code>{_e(part[1:-1])}</code>")
            continue
        escaped = _e(part)
        escaped = re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)", r'\1 (<span class="url">\2</span>)', escaped)
        escaped = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", escaped)
        escaped = re.sub(r"(?<![*\w])\*(?!\s)(.+?)(?<!\s)\*(?![*\w])", r"<em>\1</em>", escaped)
        out.append(escaped)
    return "".join(out)


def _markdown_row(tag: str, row: list[str], right: list[bool]) -> str:
    """Cells of a Markdown table row; ``right``: columns aligned right (``---:``)."""
    out = []
    for i, cell in enumerate(row):
        css = ' class="num"' if i < len(right) and right[i] else ""
        out.append(f"<{tag}{css}>{_inline_markdown(cell)}</{tag}>")
    return "".join(out)


def _split_row(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def markdown_to_html(text: str, *, heading_offset: int = 2) -> str:
    """A small Markdown subset as HTML: ATX headings (shifted down by ``heading_offset`` so they
    nest under the report's sections), paragraphs, ``-``/``*``/``1.`` lists, pipe tables,
    fenced code, block quotes and rules. Everything else is text; all text is escaped."""
    lines = text.replace("\r\n", "\n").split("\n")
    out: list[str] = []
    paragraph: list[str] = []
    index = 0

    def flush() -> None:
        if paragraph:
            out.append(f"<p>{_inline_markdown(' '.join(paragraph))}</p>")
            paragraph.clear()

    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        if not stripped:
            flush()
            index += 1
        elif stripped.startswith("```"):
            flush()
            code = []
            index += 1
            while index < len(lines) and not lines[index].strip().startswith("```"):
                code.append(lines[index])
                index += 1
            index += 1
            out.append(f"<pre><code>{_e(chr(10).join(code))}</code></pre>")
        elif match := re.match(r"(#{1,6})\s+(.*?)\s*#*\s*$", stripped):
            flush()
            level = min(len(match.group(1)) + heading_offset, 6)
            out.append(f"<h{level}>{_inline_markdown(match.group(2))}</h{level}>")
            index += 1
        elif re.fullmatch(r"(-{3,}|\*{3,}|_{3,})", stripped):
            flush()
            out.append("<hr>")
            index += 1
        elif (
            stripped.startswith("|")
            and index + 1 < len(lines)
            and re.fullmatch(r"\|?\s*:?-{1,}:?\s*(\|\s*:?-{1,}:?\s*)*\|?", lines[index + 1].strip())
        ):
            flush()
            header = _split_row(stripped)
            right = [cell.endswith(":") and not cell.startswith(":") for cell in _split_row(lines[index + 1])]
            index += 2
            rows = []
            while index < len(lines) and lines[index].strip().startswith("|"):
                rows.append(_split_row(lines[index]))
                index += 1
            head = _markdown_row("th", header, right)
            body = "".join(f"<tr>{_markdown_row('td', row, right)}</tr>" for row in rows)
            out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        elif re.match(r"\s*([-*+]|\d+[.)])\s+", line):
            flush()
            ordered = bool(re.match(r"\s*\d+[.)]\s+", line))
            items: list[str] = []
            while index < len(lines):
                current = lines[index]
                item = re.match(r"\s*(?:[-*+]|\d+[.)])\s+(.*)", current)
                if item:
                    items.append(item.group(1))
                elif current.strip() and current.startswith((" ", "\t")) and items:
                    items[-1] += " " + current.strip()  # continuation line
                else:
                    break
                index += 1
            tag = "ol" if ordered else "ul"
            body = "".join(f"<li>{_inline_markdown(item)}</li>" for item in items)
            out.append(f"<{tag}>{body}</{tag}>")
        elif stripped.startswith(">"):
            flush()
            quote = []
            while index < len(lines) and lines[index].strip().startswith(">"):
                quote.append(lines[index].strip().lstrip(">").strip())
                index += 1
            out.append(f"<blockquote><p>{_inline_markdown(' '.join(quote))}</p></blockquote>")
        else:
            paragraph.append(stripped)
            index += 1
    flush()
    return "\n".join(out)


# --- sections -----------------------------------------------------------------------------------


def _names(run: RunData, lang: str = "both") -> dict[str, str]:
    """Node id -> short name: ``English (中文)`` on the bilingual page, else in ``lang``."""
    if lang != "both":
        return node_names(run.layout, lang)
    english = node_names(run.layout, "en")
    chinese = node_names(run.layout, "zh")
    return {node: f"{english[node]} ({chinese[node]})" for node in english}


def indicator_label(name: str, node_labels: Mapping[str, str], lang: str = "both") -> str | None:
    """A readable label for a known indicator, None for one the report does not know."""
    if name in FIXED_INDICATORS:
        return tr(name, lang, FIXED_INDICATORS)
    if match := re.fullmatch(r"talents\.(province|pole)\.(\w+)", name):
        kind, pole = match.groups()
        return tr(f"talents_{kind}", lang, pole=pole_title(pole, lang))
    if match := re.fullmatch(r"high_end\.pole\.(\w+)", name):
        return tr("high_end_pole", lang, pole=pole_title(match.group(1), lang))
    if match := re.fullmatch(r"tertiary_per_100k\.(\w+)", name):
        return tr("per_100k", lang, pole=pole_title(match.group(1), lang))
    if match := re.fullmatch(r"population\.province\.(\w+)", name):
        return tr("residents", lang, pole=pole_title(match.group(1), lang))
    if match := re.fullmatch(r"talents\.([^.]+)", name):
        return tr("talents_in", lang, node=node_labels.get(match.group(1), match.group(1)))
    return None


def table_years(run: RunData) -> list[int]:
    """The milestone years present in the run, with its first and last year."""
    present = set(int(year) for year in run.indicators["year"].dropna().unique())
    present |= set(run.years)
    if not present:
        return []
    wanted = {year for year in TABLE_YEARS if year in present} | {min(present), max(present)}
    return sorted(wanted)


def _value_at(series: pd.Series, year: int) -> float:
    return float(series.loc[year]) if year in series.index else float("nan")


def _summary(run: RunData, lang: str = "both") -> str:
    manifest = run.manifest
    years = run.years
    first, last = (years[0], years[-1]) if years else (None, None)
    region = indicator_series(run.indicators, "talents.jjj")
    share = indicator_series(run.indicators, "hebei_share")
    xiongan = indicator_series(run.indicators, "xiongan_talents")
    number_lang = "zh" if lang == "zh" else "en"
    parts = [f'<p class="lead"><strong>{_e(manifest.get("scenario", "?"))}</strong>']
    if manifest.get("description"):
        parts[0] += f" — {_e(manifest['description'])}"
        if lang == "zh":
            parts[0] += _e(tr("description_in_english", lang))
    parts[0] += "</p>"
    facts = [
        (tr("fact_scenario", lang), manifest.get("scenario", "?")),
        (tr("fact_years", lang), f"{first}–{last}" if years else "–"),
        (tr("fact_seed", lang), manifest.get("seed", "–")),
        (tr("fact_scale", lang), manifest.get("scale", "–")),
        (tr("fact_rows", lang), format_number(manifest.get("agent_rows", "–"))),
        (tr("fact_parameters", lang), _parameter_origin(manifest, lang)),
        (tr("fact_created", lang), manifest.get("created", "–")),
    ]
    parts.append(_table(None, facts))

    sentences = []
    if first is not None and last is not None and not region.empty:
        start, end = _value_at(region, first), _value_at(region, last)
        change = tr("region_change", lang, change=(end / start - 1) * 100) if _finite(start) and start else ""
        sentences.append(
            tr(
                "region_sentence",
                lang,
                start=format_persons(start, number_lang),
                first=first,
                end=format_persons(end, number_lang),
                last=last,
                change=change,
            )
        )
    if first is not None and last is not None and not share.empty:
        milestones = tr("list_sep", lang).join(
            tr("milestone_value", lang, year=year, value=format_share(_value_at(share, year)))
            for year in MILESTONE_YEARS
            if year in share.index
        )
        text = tr(
            "share_sentence",
            lang,
            start=format_share(_value_at(share, first)),
            first=first,
            end=format_share(_value_at(share, last)),
            last=last,
        )
        ending = tr("share_milestones", lang, milestones=milestones) if milestones else tr("full_stop", lang)
        sentences.append(text + ending)
    if last is not None and not xiongan.empty:
        persons = format_persons(_value_at(xiongan, last), number_lang)
        sentences.append(tr("xiongan_sentence", lang, persons=persons, last=last))
    if sentences:
        parts.append(_p(tr("sentence_sep", lang).join(sentences)))

    columns = table_years(run)
    rows = []
    for name in ("talents.jjj", "hebei_share", "xiongan_talents", "bj_hb_density_gap", "foreign_share"):
        series = indicator_series(run.indicators, name)
        if series.empty:
            continue
        rows.append(
            [tr(name, lang, FIXED_INDICATORS)]
            + [format_indicator(name, _value_at(series, year)) for year in columns]
        )
    if rows:
        parts.append(f"<h3>{_e(tr('headline', lang))}</h3>")
        parts.append(
            _table(
                [tr("indicator", lang)] + [str(year) for year in columns],
                rows,
                numeric=range(1, len(columns) + 1),
            )
        )
    return "\n".join(parts)


def _charts(run: RunData, pngs: Mapping[str, Mapping[str, bytes]], lang: str = "both") -> str:
    english = pngs.get("en", {})
    chinese = pngs.get("zh", {})
    parts = [_p(tr("charts_note", lang), "muted")]
    for name in CHART_NAMES:
        if name not in english and name not in chinese:
            continue
        title = chart_title(name, lang)
        parts.append(
            figure_html(
                name,
                english.get(name),
                chinese.get(name),
                title,
                tr(name, lang, CHART_CAPTIONS) if name in CHART_CAPTIONS else "",
                chart_title(name, "en"),
                chart_title(name, "zh"),
                lang=lang,
            )
        )
    if "drivers" not in english and "drivers" not in chinese:
        parts.append(_p(tr("no_drivers_chart", lang), "muted"))
    return "\n".join(parts)


def figure_html(
    name: str,
    english: bytes | None,
    chinese: bytes | None,
    title: str,
    caption: str,
    alt_en: str,
    alt_zh: str,
    *,
    lang: str = "both",
) -> str:
    """One chart as a figure: on the bilingual page the English PNG, its caption, the Chinese PNG
    folded away; on a one-language page that language's PNG and its caption only."""
    figure = [f'<figure id="chart-{_e(name)}">']
    if lang == "zh":
        if chinese is not None:
            figure.append(_img(chinese, alt_zh))
    elif english is not None:
        figure.append(_img(english, alt_en))
    stop = "。" if lang == "zh" else "."
    figure.append(f"<figcaption><strong>{_e(title)}{stop}</strong> {_e(caption)}</figcaption>")
    if lang == "both" and chinese is not None:
        figure.append(
            f"<details><summary>中文图 (Chinese version)</summary>{_img(chinese, alt_zh)}</details>"
        )
    figure.append("</figure>")
    return "\n".join(figure)


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{_e(alt)}">'


def _indicators(run: RunData, lang: str = "both") -> str:
    columns = table_years(run)
    header = [tr("indicator", lang)] + [str(year) for year in columns]
    numeric = range(1, len(columns) + 1)
    node_labels = _names(run, lang)
    names = list(dict.fromkeys(str(name) for name in run.indicators["indicator"].dropna()))

    def row(name: str, title: str) -> list[str]:
        series = indicator_series(run.indicators, name)
        return [title] + [format_indicator(name, _value_at(series, year)) for year in columns]

    known = [name for name in INDICATOR_ORDER if name in names]
    known += sorted(
        name
        for name in names
        if name not in known
        and not name.startswith("talents.")
        and indicator_label(name, node_labels) is not None
    )
    known += sorted(
        name for name in names if re.fullmatch(r"talents\.(province|pole)\.\w+", name) and name not in known
    )
    node_rows = [f"talents.{node}" for node in run.layout["node_id"] if f"talents.{node}" in names]
    node_rows += sorted(
        name
        for name in names
        if re.fullmatch(r"talents\.[^.]+", name) and name not in node_rows and name not in known
    )
    unknown = [name for name in names if name not in known and name not in node_rows]

    parts = [_p(tr("indicators_note", lang), "muted")]
    if known:
        parts.append(
            _table(
                header,
                [row(name, indicator_label(name, node_labels, lang) or name) for name in known],
                numeric=numeric,
            )
        )
    if node_rows:
        parts.append(f"<h3>{_e(tr('by_node', lang))}</h3>")
        parts.append(
            _table(
                [tr("node", lang)] + header[1:],
                [row(name, indicator_label(name, node_labels, lang) or name) for name in node_rows],
                numeric=numeric,
            )
        )
    if unknown:
        parts.append(f"<h3>{_e(tr('other_indicators', lang))}</h3>")
        parts.append(_p(tr("unknown_note", lang), "muted"))
        parts.append(_table(header, [row(name, name) for name in unknown], numeric=numeric))
    structure = _structure(run, lang)
    if structure:
        parts.append(structure)
    if not (known or node_rows or unknown):
        parts.append(_p(tr("no_indicators", lang)))
    return "\n".join(parts)


def _structure(run: RunData, lang: str = "both") -> str:
    """Persons by pole and occupation group in the last year, from the stocks table."""
    stocks = run.stocks
    if stocks.empty:
        return ""
    last = int(stocks["year"].max())
    now = stocks[stocks["year"] == last]
    poles = dict(zip(run.layout["node_id"], run.layout["pole"], strict=True))
    now = now.assign(pole=now["node"].map(lambda node: poles.get(node, "other")))
    groups = list(
        dict.fromkeys(
            ["research", "engineering", "management", "professional", "skilled"]
            + sorted(now["group"].unique())
        )
    )
    groups = [group for group in groups if group in set(now["group"])]
    rows = []
    for pole in list(POLES) + sorted(set(now["pole"]) - set(POLES)):
        part = now[now["pole"] == pole]
        if part.empty:
            continue
        by_group = part.groupby("group")["persons"].sum()
        rows.append(
            [pole_title(pole, lang)]
            + [format_count(by_group.get(group, 0)) for group in groups]
            + [
                format_count(part.loc[part["is_high_end"].astype(bool), "persons"].sum()),
                format_count(part.loc[part["is_foreign"].astype(bool), "persons"].sum()),
                format_count(part["persons"].sum()),
            ]
        )
    header = (
        [tr("pole", lang)]
        + [f"{group} ({label(group, 'zh')})" if lang == "both" else label(group, lang) for group in groups]
        + [tr("high_end", lang), tr("foreign", lang), tr("total", lang)]
    )
    return (
        f"<h3>{_e(tr('structure', lang, year=last))}</h3>"
        + _p(tr("structure_note", lang), "muted")
        + _table(header, rows, numeric=range(1, len(header)))
    )


def _drivers(run: RunData, lang: str = "both") -> str:
    drivers = run.drivers
    if drivers.empty:
        return _p(tr("no_drivers", lang))
    drivers = drivers.assign(persons=pd.to_numeric(drivers["persons"], errors="coerce").fillna(0))
    table = drivers.pivot_table(
        index="term", columns="province", values="persons", aggfunc="sum", fill_value=0
    )
    provinces = [p for p in POLES if p in table.columns] + [p for p in table.columns if p not in POLES]
    table = table[provinces]
    magnitude = table.abs().sum(axis=1).sort_values(ascending=False, kind="stable")
    table = table.loc[magnitude.index]

    def term_title(term: str) -> str:
        if lang != "both":
            return term_name(term, lang)
        english, chinese = term_name(term, "en"), term_name(term, "zh")
        return english if english == chinese else f"{english} ({chinese})"

    name_lang = "zh" if lang == "zh" else "en"
    top = []
    for term in magnitude.index[:3]:
        detail = tr("comma", lang).join(
            f"{pole_name(p, name_lang)} {format_signed(table.loc[term, p])}"
            for p in provinces
            if table.loc[term, p] != 0
        )
        top.append(
            tr(
                "driver_top",
                lang,
                term=term_title(str(term)),
                persons=format_count(magnitude[term]),
                detail=detail,
            )
        )
    sentence = tr("drivers_sentence", lang, top=tr("list_sep", lang).join(top))
    rows = [
        [term_title(str(term))]
        + [format_signed(table.loc[term, p]) for p in provinces]
        + [format_signed(table.loc[term].sum()), format_count(magnitude[term])]
        for term in table.index
    ]
    header = (
        [tr("term", lang)]
        + [pole_title(str(p), lang) for p in provinces]
        + [tr("net", lang), tr("absolute", lang)]
    )
    return (
        _p(sentence)
        + _p(tr("drivers_note", lang), "muted")
        + _table(header, rows, numeric=range(1, len(header)))
    )


ACCOUNT_COLUMNS = ("entries", "university_entrants", "exits")
"""The nodes table's columns ``talent_accounts`` needs besides the talents."""


def _accounts(run: RunData, lang: str = "both") -> str:
    """Each province's change of talents over the periods between the table years, term by term
    (``model.indicators.talent_accounts``)."""
    nodes = run.node_years
    if nodes.empty or any(column not in nodes.columns for column in ACCOUNT_COLUMNS):
        return _p(tr("no_accounts", lang))
    province = run.layout.set_index("node_id")["province"]
    yearly = talent_accounts(nodes, run.flows, province)
    years = table_years(run)
    rows = []
    for start, end in zip(years, years[1:]):
        period = yearly[(yearly["year"] > start) & (yearly["year"] <= end)]
        for name in [p for p in POLES if p in set(period["province"])]:
            part = period[period["province"] == name]
            rows.append(
                [f"{start}–{end}", pole_title(name, lang), format_count(part["talents_start"].iloc[0])]
                + [format_count(part[term].sum()) for term in ACCOUNT_TERMS]
                + [format_count(part["talents_end"].iloc[-1])]
            )
    header = [
        tr(column, lang) for column in ("period", "province", "talents_start", *ACCOUNT_TERMS, "talents_end")
    ]
    unexplained = int(yearly["unexplained"].abs().sum())
    warning = _p(tr("accounts_unexplained", lang, persons=format_count(unexplained))) if unexplained else ""
    return (
        _p(tr("accounts_note", lang), "muted") + _table(header, rows, numeric=range(2, len(header))) + warning
    )


def _levers(run: RunData, lang: str = "both") -> str:
    spending = run.lever_spending
    if spending.empty:
        return _p(tr("no_spending", lang))
    spending = spending.assign(cny=pd.to_numeric(spending["cny"], errors="coerce").fillna(0.0))
    provinces = dict(zip(run.layout["node_id"], run.layout["province"], strict=True))
    names = _names(run, lang)
    spending = spending.assign(province=spending["node"].map(lambda node: provinces.get(node, "other")))
    columns = [p for p in POLES if p in set(spending["province"])] + sorted(
        set(spending["province"]) - set(POLES)
    )
    rows = []
    for lever, part in spending.groupby("lever", sort=True):
        years = part["year"].astype(int)
        nodes = tr("comma", lang).join(names.get(node, str(node)) for node in dict.fromkeys(part["node"]))
        by_province = part.groupby("province")["cny"].sum()
        rows.append(
            [lever, f"{years.min()}–{years.max()}", nodes]
            + [format_cny_million(by_province.get(p, 0.0)) for p in columns]
            + [format_cny_million(part["cny"].sum())]
        )
    total = float(spending["cny"].sum())
    header = (
        [tr("lever", lang), tr("years", lang), tr("nodes", lang)]
        + [pole_title(p, lang) for p in columns]
        + [tr("total", lang)]
    )
    by_year = spending.pivot_table(index="year", columns="lever", values="cny", aggfunc="sum", fill_value=0.0)
    year_rows = [[int(year)] + [format_cny_million(v) for v in values] for year, values in by_year.iterrows()]
    return (
        _p(tr("spent", lang, total=format_cny_million(total)))
        + _table(header, rows, numeric=range(3, len(header)))
        + f"<details><summary>{_e(tr('by_year', lang))}</summary>"
        + _table(
            [tr("year", lang)] + [str(c) for c in by_year.columns],
            year_rows,
            numeric=range(1, len(by_year.columns) + 1),
        )
        + "</details>"
    )


def _data_note(lang: str) -> str:
    """On the Chinese page, the line saying that a section's data texts are in English."""
    return _p(tr("data_in_english", lang), "muted") if lang == "zh" else ""


def _notes(run: RunData, lang: str = "both") -> str:
    if not run.notes:
        return _p(tr("no_notes", lang))
    return _data_note(lang) + "<ul>" + "".join(f"<li>{_e(note)}</li>" for note in run.notes) + "</ul>"


def _assumptions(text: str | None, source: str, lang: str = "both") -> str:
    if text is None:
        return _p(tr("no_assumptions", lang, source=source), "muted")
    return (
        _data_note(lang) + _p(tr("assumptions_from", lang, source=source), "muted") + markdown_to_html(text)
    )


def _sources(run: RunData, lang: str = "both") -> str:
    provenance = run.provenance
    if provenance.empty:
        return _p(tr("no_provenance", lang))
    counts = provenance["status"].value_counts()
    order = [s for s in STATUS_ORDER if s in counts.index] + sorted(
        s for s in counts.index if s not in STATUS_ORDER
    )
    total = int(counts.sum())
    rows = [[status, format_count(counts[status]), format_share(counts[status] / total)] for status in order]
    rows.append([tr("all", lang), format_count(total), format_share(1.0)])
    columns = list(provenance.columns)
    values = [
        [_exact(value) if column == "value" else value for column, value in zip(columns, row)]
        for row in provenance[columns].astype(str).itertuples(index=False, name=None)
    ]
    full = _table(columns, values, numeric=[columns.index("value")] if "value" in columns else [])
    return (
        _p(tr("statuses", lang))
        + _data_note(lang)
        + _table([tr("status", lang), tr("values", lang), tr("share", lang)], rows, numeric=(1, 2))
        + f"<details><summary>{_e(tr('all_values', lang, total=total))}</summary>{full}</details>"
    )


def _exact(value: str) -> str:
    """A data value for display: separators and no decimals from 100 up, else six significant
    digits; text stays as it is."""
    if not _finite(value):
        return value
    number = float(value)
    return f"{number:,.0f}" if abs(number) >= 100 else f"{number:.6g}"


def _parameter_origin(manifest: Mapping[str, Any], lang: str = "both") -> str:
    """Where the run's parameter values came from: the scenario, or a draw of an ensemble."""
    record = manifest.get("ensemble")
    if not isinstance(record, Mapping):
        return tr("parameters_own", lang)
    return tr(
        "parameters_drawn",
        lang,
        draw=(record.get("draw_per_replicate") or ["?"])[0],
        file=record.get("file", "?"),
        draws=_draws(record.get("draws", "?"), lang),
        names=", ".join(record.get("parameters", [])),
    )


def _draws(count: Any, lang: str) -> str:
    """``1 draw``, ``3 draws`` (the Chinese text says the count alone)."""
    return str(count) if lang == "zh" else f"{count} draw{'' if count == 1 else 's'}"


def _parameters(run: RunData, lang: str = "both") -> str:
    parameters = run.parameters
    if parameters.empty:
        return _p(tr("no_parameters", lang))
    columns = [
        column
        for column in ("name", "value", "default", "origin", "unit", "lower", "upper", "meaning", "source")
        if column in parameters.columns
    ]
    rows = parameters[columns].astype(str).values.tolist()
    changed = [
        "changed" if _differs(row["value"], row["default"]) else "" for _, row in parameters.iterrows()
    ]
    numeric = [columns.index(c) for c in ("value", "default", "lower", "upper") if c in columns]
    note = tr("changed_parameters", lang, changed=sum(1 for c in changed if c), total=len(rows))
    if "origin" in parameters.columns:
        origins = parameters["origin"].value_counts()
        parts = [
            tr(f"origin_{origin}", lang, n=int(origins[origin]))
            for origin in ("fitted", "ensemble", "scenario", "default")
            if origins.get(origin, 0)
        ]
        note += " " + tr("parameter_origins", lang, parts=("；" if lang == "zh" else "; ").join(parts))
    return _p(note) + _data_note(lang) + _table(columns, rows, numeric=numeric, row_classes=changed)


def _fit(run: RunData, lang: str = "both") -> str:
    """The fit on each target of the calibrated layer the run's scenario extends; nothing when
    the run folder has no fit table."""
    fit = run.fit
    if fit.empty:
        return ""
    error = fit["fit_relative_error"]  # against the published value as compared (``comparison``)
    rows = [
        [
            row.target,
            row.unit,
            row.indicator,
            str(row.year),
            _exact(row.observed),
            _exact(row.fit_mean),
            f"{e:+.1%}",
            row.status,
            row.source,
        ]
        for row, e in zip(fit.itertuples(), error, strict=True)
    ]
    columns = ["target", "unit", "indicator", "year", "observed", "fit_mean", "error", "status", "source"]
    table = _table(columns, rows, numeric=[3, 4, 5, 6])
    caption = f"<p>{_inline_markdown(tr('fit_caption', lang, rows=len(rows)))}</p>"
    return f"<h3>{_e(tr('fit_title', lang))}</h3>" + caption + table


def _validation(run: RunData, lang: str = "both") -> str:
    """The calibrated layer's validation after 2015 (copied from its record when it validated
    the layer's values); nothing when the run folder has none."""
    summary, table = run.validation_summary, run.validation
    if not summary or table.empty:
        return ""
    overall = summary["after_start_year"]
    caption = tr(
        "validation_caption",
        lang,
        scenario=summary["scenario"],
        start=summary["start_year"],
        replicates=summary["replicates"],
        scale=summary["scale"],
        interval=summary.get("interval", ""),
        rows=overall["rows"],
        within=overall.get("within_interval", "n/a"),  # records before the count was kept lack it
        mape=_percent(overall["mape_percent"]),
        mase=_ratio(overall["mase"]),
        command=summary.get("command", "jjj-talent validate"),
    )
    by_indicator = [
        [name, str(figures["rows"]), _percent(figures["mape_percent"]), _ratio(figures["mase"])]
        for name, figures in summary["after_start_year_by_indicator"].items()
    ]
    worst = worst_rows(table[table["year"] > summary["start_year"]], 8)
    largest = [
        [
            row.unit,
            row.indicator,
            str(row.year),
            _exact(row.observed),
            _exact(row.simulated_mean),
            f"{row.relative_error:+.1%}",
        ]
        for row in worst.itertuples()
    ]
    return (
        f"<h3>{_e(tr('validation_title', lang))}</h3><p>{_inline_markdown(caption)}</p>"
        + _table(["indicator", "rows", "MAPE", "MASE"], by_indicator, numeric=[1, 2, 3])
        + _p(tr("validation_worst", lang))
        + _table(
            ["unit", "indicator", "year", "observed", "simulated", "error"], largest, numeric=[2, 3, 4, 5]
        )
    )


def _percent(value: float) -> str:
    return "n/a" if not _finite(value) else f"{float(value):.1f} %"


def _ratio(value: float) -> str:
    return "n/a" if not _finite(value) else f"{float(value):.2f}"


def _differs(value: Any, default: Any) -> bool:
    if _finite(value) and _finite(default):
        return not math.isclose(float(value), float(default), rel_tol=1e-12, abs_tol=0.0)
    return str(value).strip() != str(default).strip()


def _flatten(mapping: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            rows += _flatten(value, prefix=f"{name}.")
        elif key == "wall_seconds" and _finite(value):
            rows.append((name, f"{float(value):,.1f} s"))
        else:
            rows.append((name, str(value)))
    return rows


def _manifest(run: RunData, lang: str = "both") -> str:
    return _table([tr("key", lang), tr("value", lang)], _flatten(run.manifest))


# --- the page -----------------------------------------------------------------------------------


def default_assumptions_path() -> Path:
    return Path(str(resources.files("model").joinpath("data", "ASSUMPTIONS.md")))


def read_assumptions(path: Path | None = None) -> str | None:
    """The text of the assumptions file, None if it does not exist (yet)."""
    path = default_assumptions_path() if path is None else Path(path)
    return path.read_text(encoding="utf-8") if path.is_file() else None


def _text_sections(run: RunData, assumptions: str | None, lang: str = "both") -> dict[str, str]:
    """Every section but the charts, by anchor."""
    return {
        "summary": _summary(run, lang),
        "indicators": _indicators(run, lang),
        "drivers": _drivers(run, lang),
        "accounts": _accounts(run, lang),
        "levers": _levers(run, lang),
        "notes": _notes(run, lang),
        "method": METHOD_HTML[lang] + _fit(run, lang) + _validation(run, lang),
        "assumptions": _assumptions(assumptions, "model/data/ASSUMPTIONS.md", lang),
        "sources": _sources(run, lang),
        "parameters": _parameters(run, lang),
        "manifest": _manifest(run, lang),
    }


def _is_cjk(char: str) -> bool:
    """CJK punctuation, kana, ideographs and full-width forms: what the system font may lack."""
    return "\u2e80" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff" or "\uff00" <= char <= "\uffef"


def html_page(
    *,
    title: str,
    generator: str,
    heading: str,
    subtitle: str,
    sections: Sequence[tuple[str, str, str]],
    footer: str,
    lang: str = "both",
) -> str:
    """A self-contained report page: ``sections`` are (anchor, title, html) in page order, each
    listed in the contents. ``subtitle`` and ``footer`` are HTML; the rest is escaped here.

    The page embeds a font subset only when it shows Chinese: an English page (dashes and arrows
    aside, which every system font has) carries no ``@font-face``."""
    toc = "".join(f'<li><a href="#{anchor}">{_e(name)}</a></li>' for anchor, name, _ in sections)
    body = "\n".join(_section(anchor, name, html) for anchor, name, html in sections)
    shown = html.unescape(re.sub(r"<[^>]*>", " ", " ".join((title, heading, subtitle, toc, body, footer))))
    wide = sorted({c for c in shown if ord(c) > 0x7F})
    fonts = font_face_css("".join(wide), family=EMBEDDED_FAMILY) if any(map(_is_cjk, wide)) else ""
    html_lang = "zh-CN" if lang == "zh" else "en"
    return f"""<!DOCTYPE html>
<html lang="{html_lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="jjj-talent {_e(generator)}">
<title>{_e(title)}</title>
<style>{fonts}{CSS}</style>
</head>
<body>
<header>
<h1>{_e(heading)}</h1>
<p class="muted">{subtitle}</p>
</header>
<nav><ol>{toc}</ol></nav>
{body}
<footer><p class="muted">{footer}</p></footer>
</body>
</html>
"""


def _page(run: RunData, sections: Mapping[str, str], lang: str = "both") -> str:
    scenario = str(run.manifest.get("scenario", "?"))
    years = run.years
    span = f"{years[0]}–{years[-1]}" if years else ""
    created = run.manifest.get("created", "")
    seed = tr("seed_is", lang, seed=run.manifest.get("seed", "–"))
    return html_page(
        title=tr("page_title", lang, scenario=scenario),
        generator="reports/run_report.py",
        heading=tr("heading", lang, scenario=scenario),
        subtitle=f"{_e(tr('report_kind', lang))} · {_e(span)} · {_e(seed)} · {_e(created)}",
        sections=[(anchor, tr(anchor, lang), sections[anchor]) for anchor in SECTIONS if anchor in sections],
        footer=_e(tr("footer", lang)),
        lang=lang,
    )


def render_report(
    run: RunData,
    pngs: Mapping[str, Mapping[str, bytes]],
    assumptions: str | None,
    *,
    lang: str = "both",
) -> str:
    """The report page in ``lang`` (``en``, ``zh`` or ``both``): ``pngs`` maps chart language ->
    chart name -> PNG bytes."""
    check_report_lang(lang)
    sections = dict(_text_sections(run, assumptions, lang))
    sections["charts"] = _charts(run, pngs, lang)
    return _page(run, sections, lang)


def write_report(run_dir: Path, *, assumptions: Path | None = None, lang: str = "both") -> Path:
    """Draw the charts of the run in ``run_dir`` (both languages, into ``run_dir/charts/``) and
    write ``run_dir/report.html`` in ``lang`` (``en``, ``zh`` or ``both``); returns its path.

    The chart files are written in both languages whatever ``lang`` is: they are what report
    writers take away; ``lang`` chooses the page's text and the charts shown in it. The text
    sections are built before any file is written and every file is replaced atomically, so a
    failure leaves the previous report as it was. ``assumptions`` defaults to
    ``model/data/ASSUMPTIONS.md``; a missing file is reported in the page, not an error.
    """
    check_report_lang(lang)
    run_dir = Path(run_dir)
    run = read_run(run_dir)
    sections = dict(_text_sections(run, read_assumptions(assumptions), lang))
    pngs: dict[str, dict[str, bytes]] = {}
    for chart_lang in LANGS:
        paths = write_charts(run_dir, run_dir / "charts", chart_lang, run=run)
        pngs[chart_lang] = {
            path.name.split(".")[0]: path.read_bytes() for path in paths if path.suffix == ".png"
        }
    sections["charts"] = _charts(run, pngs, lang)
    return write_text(run_dir / "report.html", _page(run, sections, lang))
