"""Charts and the self-contained HTML report of a scenario comparison (experiments/compare.py).

``write_compare_report(folder, comparison, tables, manifest)`` draws the comparison's charts in
English and Chinese into ``folder/charts/`` (PNG and SVG) and writes ``folder/report.html``:
one page, CSS inline, charts embedded as base64 PNG data URIs, no scripts and no external
references. The chart functions are pure (tables in, ``Figure`` out), like those of
``reports/charts.py``, whose helpers and number style they share.

The page is bilingual by default, or in one language (``lang="en"`` or ``"zh"``), as the run
report (``reports/run_report.py``): every text it writes is in ``TEXTS`` (and ``CHART_TITLES``,
``CHART_CAPTIONS``, ``DEFINITIONS``, ``METHOD_HTML``) in both languages, with what the bilingual
page shows; the chart files are written in both languages whatever the page's language.

With the attributions of ``jjj-talent compare --attribute`` the page gains a section, "What each
lever group buys", drawn by ``reports/attribution.py``'s pieces: each group's Shapley effects, its
waterfall chart and its cost per talent gained by Hebei, which replace the per-lever costs.
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

from experiments.attribution import Attribution, AttributionResult
from experiments.compare import (
    ComparedScenario,
    Comparison,
    ComparisonTables,
    cost_years,
    lever_targets,
    target_effect,
)
from experiments.files import write_bytes, write_text
from model.indicators import ACCOUNT_TERMS
from model.layout import PROVINCES
from model.levers import LEVERS
from model.plan import MILESTONE_NAMES, MILESTONE_YEARS
from reports import attribution as attributed
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
    _e,
    _en_only,
    _flatten,
    _p,
    _pair,
    _table,
    check_report_lang,
    figure_html,
    format_indicator,
    format_signed,
    html_page,
    indicator_label,
    pole_title,
)
from reports.run_report import TEXTS as RUN_TEXTS
from reports.run_report import tr as run_tr

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
        "en": "mean over {n} replicates; bands: 90% interval {kind}; dashed lines: the plan's milestone years",
        "zh": "{n}次重复的均值；阴影：90%区间{kind}；虚线：规划阶段目标年份",
    },
    "share": {"en": "share of talents", "zh": "人才占比"},
    "effect_by_pole": {
        "en": "Effect on talents, scenario minus {reference}",
        "zh": "对人才数量的影响（情景减{reference}）",
    },
    "effect_sub": {
        "en": "paired effect, mean over {n} replicates; bands and whiskers: 90% interval {kind}",
        "zh": "配对效应，{n}次重复的均值；阴影与误差线：90%区间{kind}",
    },
    "kind_chance": {"en": "(chance only)", "zh": "（仅随机性）"},
    "kind_one_draw": {"en": "(chance only, at one draw of parameters)", "zh": "（仅随机性，参数为单一抽样）"},
    "kind_ensemble": {
        "en": "(chance and parameter uncertainty: {draws} draws)",
        "zh": "（随机性与参数不确定性：{draws}个参数抽样）",
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

CHART_TITLES: dict[str, dict[str, str]] = {
    "hebei_share": _pair("Hebei's share of the region's talents by scenario", "河北人才占比"),
    "effect_by_pole": _pair("Effect on talents by pole", "对三极人才的影响"),
    "effect_by_node": _pair("Effect on talents by node in the last year", "对各节点人才的影响"),
    "effect_map": _pair("Map of the effect on talents by node", "人才效应地图"),
    "spending": _pair("Lever spending", "政策投入"),
}

CHART_CAPTIONS: dict[str, dict[str, str]] = {
    "hebei_share": _en_only(
        "Hebei's share of the region's talents in each scenario: mean over replicates with the "
        "5th–95th percentile band. Dashed lines mark the milestone years 2020, 2025 and 2030; the plan "
        "sets no numeric share.",
        "各情景下河北人才占京津冀比重：重复运行的均值及第5至第95百分位区间。虚线标出2020、2025与2030年"
        "三个阶段目标年份；规划未设定比重数值。",
    ),
    "effect_by_pole": _en_only(
        "Effect of each scenario on talents in the region and in each pole, as the scenario minus the "
        "reference on the same replicate seed; the band is the 90% interval of these paired differences.",
        "各情景对京津冀及各极人才的影响，即同一重复种子下该情景减参照情景；阴影为这些配对差值的90%区间。",
    ),
    "effect_by_node": _en_only(
        "Effect on talents in each node in the last year, with whiskers from the 5th to the 95th "
        "percentile of the paired differences.",
        "末年对各节点人才的影响，误差线为配对差值的第5至第95百分位。",
    ),
    "effect_map": _en_only(
        "Mean effect on each node's talents in the last year, the scenario minus the reference on the "
        "same replicate seeds; colours diverge from zero.",
        "末年对各节点人才的平均影响，即同一重复种子下该情景减参照情景；颜色以零为中心发散。",
    ),
    "spending": _en_only(
        "Spending of each lever by year, summed over nodes, mean over replicates.",
        "各政策措施的年度投入，按节点加总，取重复运行的均值。",
    ),
}

SECTIONS = (
    "summary",
    "changes",
    "charts",
    "milestones",
    "effects",
    "sources",
    "attribution",
    "spending",
    "method",
    "manifest",
)
"""Section anchors in page order (``sources`` only when the runs have accounts, ``attribution``
only with ``compare --attribute``); their titles are in ``TEXTS``."""

METHOD_BOTH = """
<p>Every scenario was run on the same replicate seeds (<em>common random numbers</em>, 共同随机数):
the seeds come from NumPy's <code>SeedSequence(root).spawn(N)</code>, and replicate <em>r</em> of
every scenario uses the same seed. A scenario's <strong>effect</strong> on an indicator is, replicate
by replicate, its value minus the reference's value on that seed (a <em>paired</em> difference),
so chance differences that the two runs share cancel; the mean effect is the mean of these
differences over replicates. A scenario compared with itself has an effect of exactly 0.</p>
<p>Intervals (90%, 区间) are the 5th and 95th percentiles of the paired differences over
replicates (linear interpolation). Without a parameter ensemble (<code>--ensemble</code>) they
show how much the effect varies with the random draws of the simulation only: they leave out the
uncertainty of the behavioural parameters and of the base-year data; and with few replicates they are rough (with 2 replicates they span 90% of
the distance between the two). Run more replicates to narrow them.</p>
<p>Spending is summed over nodes and averaged over replicates (a replicate that spent nothing in
a year counts as 0). The cost per additional talent divides the additional cumulative spending
on a lever (the scenario's minus the reference's) by the mean effect on the talents of the
lever's target nodes; it is left blank, with the reason, when the 90% interval of that effect
includes 0 or lies below it.</p>
"""

METHOD_ZH = """
<p>所有情景都在相同的重复种子上运行（<em>共同随机数</em>）：种子来自NumPy的<code>SeedSequence(root).spawn(N)</code>，
每个情景的第<em>r</em>次重复使用同一个种子。情景对某项指标的<strong>效应</strong>，是逐次重复计算的该情景取值减参照情景在同一种子下的取值
（<em>配对</em>差值），因此两次运行共有的随机差异相互抵消；平均效应是这些差值在各次重复上的均值。情景与自身比较的效应恰为0。</p>
<p>区间（90%）是配对差值在各次重复上的第5与第95百分位（线性插值）。不使用参数集合（<code>--ensemble</code>）时，它们只反映效应随模拟随机抽样的变化：不包括行为参数与基年数据的不确定性；
重复次数少时区间很粗略（2次重复时区间覆盖两者之差的90%）。增加重复次数可使区间变窄。</p>
<p>投入按节点加总，再取重复运行的均值（某次重复某年未投入则计为0）。每新增一名人才的投入，等于某项政策措施的新增累计投入
（情景减参照情景）除以该措施目标节点人才的平均效应；若该效应的90%区间包含0或低于0，则留空并注明原因。</p>
"""

METHOD_HTML: dict[str, str] = {
    "both": METHOD_BOTH,
    # The English page: the bilingual text without its Chinese glosses.
    "en": METHOD_BOTH.replace(
        " (<em>common random numbers</em>, 共同随机数)", " (<em>common random numbers</em>)"
    ).replace(" (90%, 区间)", " (90%)"),
    "zh": METHOD_ZH,
}
"""The method section in each page language."""

DEFINITIONS: dict[str, str] = {
    "both": """
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
{levers} (set by {setting}); a world high-end talent
cluster basically built: <code>high_end.pole.beijing</code>; balanced public services:
<code>services_gap</code>.</li>
<li>Also shown: <code>xiongan_talents</code> (四(五), talents gathering in Xiong'an) and
<code>talents.jjj</code> (the region's talents).</li>
</ul>""",
    "zh": """
<p>规划目标（二(三)）是定性的。下面是代表每项目标的可度量定义：</p>
<ul>
<li><strong>2020年（近期）</strong>：人才一体化管理体制机制基本建立，重大任务与项目启动：这是模型无法度量的制度性目标，本报告不予评分。</li>
<li><strong>2025年（中期）</strong>：人才结构与京津冀及三地功能定位相适应：<code>hebei_share</code>（河北人才占京津冀比重）与
<code>bj_hb_density_gap</code>（每十万常住人口人才数，北京减河北）；国际竞争力明显提升：<code>foreign_share</code>（外籍人才占比）与
各极高端人才（<code>high_end.pole.*</code>）；基本公共服务均等化明显推进：<code>services_gap</code>（北京公共服务指数减河北按常住人口加权的均值）。</li>
<li><strong>2030年（远期）</strong>：形成统一的人才市场：<code>unemployment_rate</code>（劳动力中求职人才的比例），以及三地之间流动的壁垒
（户籍与跨省壁垒），它们是输入而非结果：参数<code>hukou_barrier_*</code>与<code>beta_province_barrier</code>，由政策措施
{levers}降低（设定情况：{setting}）；世界级高端人才集聚区基本建成：<code>high_end.pole.beijing</code>；公共服务均衡：
<code>services_gap</code>。</li>
<li>另列：<code>xiongan_talents</code>（四(五)，人才向雄安新区集聚）与<code>talents.jjj</code>（京津冀人才总量）。</li>
</ul>""",
}
DEFINITIONS["en"] = (
    DEFINITIONS["both"]
    .replace("(二(三))", "(section 2(3))")
    .replace(" (近期)", "")
    .replace(" (中期)", "")
    .replace(" (远期)", "")
    .replace("(四(五), ", "(section 4(5): ")
)
"""The milestones' measurable definitions in each page language (levers and settings filled in)."""

TEXTS: dict[str, dict[str, str]] = {
    # section titles
    "summary": _pair("Scenarios compared", "比较的情景"),
    "changes": {
        "en": "What the plan changes by {year}",
        "zh": "规划到{year}年带来的变化",
        "both": "What the plan changes by {year} (规划到{year}年带来的变化)",
    },
    "charts": _pair("Charts", "图表"),
    "milestones": _pair("Milestones", "阶段目标"),
    "effects": _pair("Effects at milestone years", "阶段效应"),
    "attribution": _pair("What each lever group buys", "各类政策的贡献"),
    "spending": _pair("Spending and cost per additional talent", "投入与成本效益"),
    "method": _pair("Method", "方法"),
    "manifest": _pair("Manifest", "运行记录"),
    # page
    "page_title": _en_only("{names} — jjj-talent comparison", "{names} — jjj-talent情景比较"),
    "heading": _en_only("Talent flows in Beijing–Tianjin–Hebei: {names}", "京津冀人才流动：{names}"),
    "vs": _en_only(" vs ", " 对比 "),
    "report_kind": _pair("jjj-talent scenario comparison", "京津冀人才一体化情景比较"),
    "replicates_n": _en_only("{n} replicates", "{n}次重复"),
    "root_seed": _en_only("root seed {seed}", "根种子 {seed}"),
    "footer": _en_only(
        "Written by jjj-talent from the comparison's runs; every number is a model result for these "
        "scenarios and seeds, not an observation.",
        "由jjj-talent根据本次比较的运行结果生成；所有数字均为这些情景与随机种子下的模型结果，而非观测值。",
    ),
    # summary
    "lead": _en_only(
        "{count} scenarios on the same {replicates} replicate seed{plural} ({runs} runs), {first}–{last}, "
        "{scale} persons per agent row. Effects are each scenario minus the reference, "
        "<strong>{reference}</strong>, on the same seed.",
        "{count}个情景在相同的{replicates}个重复种子上运行（共{runs}次运行），{first}–{last}年，每个主体行代表{scale}人。"
        "效应为各情景减参照情景<strong>{reference}</strong>在同一种子下的结果。",
    ),
    "reference_mark": _en_only(" (reference)", "（参照）"),
    "scenario": _en_only("scenario", "情景"),
    "name": _en_only("name", "名称"),
    "description": _en_only("description", "说明"),
    "file": _en_only("file", "文件"),
    "replicate": _en_only("replicate", "重复"),
    "seed": _en_only("seed", "种子"),
    "seeds_from": _en_only(
        "Replicate seeds from SeedSequence({root}).spawn({n}); every scenario uses the same seed for a "
        "replicate.",
        "重复种子来自SeedSequence({root}).spawn({n})；每次重复中所有情景使用同一个种子。",
    ),
    "seeds": _pair("Seeds", "随机种子"),
    "intervals_chance": _en_only(
        "Intervals: 90 % interval over {n} replicates (chance only): every replicate ran with the "
        "scenarios' own parameter values.",
        "区间：{n}次重复的90%区间（仅随机性）：每次重复都使用情景自身的参数取值。",
    ),
    "intervals_ensemble": _en_only(
        "Intervals: 90 % interval over {n} replicates (chance and parameter uncertainty: ensemble "
        "{file}, {draws} draws). Replicate r of every scenario ran with the same "
        "draw of {names}, chosen with the draws' weights from the root seed; {used} distinct draws were "
        "used.",
        "区间：{n}次重复的90%区间（随机性与参数不确定性：参数集合{file}，共{draws}个抽样）。"
        "每个情景的第r次重复使用同一个参数抽样（{names}），按抽样权重由根种子选出；共用到{used}个不同抽样。",
    ),
    "intervals_one_draw": _en_only(
        "Intervals: 90 % interval over {n} replicates (chance only): every replicate ran with the one "
        "draw of ensemble {file}, which sets {names}.",
        "区间：{n}次重复的90%区间（仅随机性）：每次重复都使用参数集合{file}的唯一抽样（设定{names}）。",
    ),
    "method_ensemble": _en_only(
        "<p>With a parameter ensemble, each replicate also draws the values of the parameters the "
        "ensemble sets (the same draw for every scenario of a replicate): the intervals then include "
        "the uncertainty of those parameters as well as chance; they still leave out that of the other "
        "parameters and of the base-year data.</p>",
        "<p>使用参数集合时，每次重复还会抽取集合所设定参数的取值（同一次重复的所有情景使用同一抽样）："
        "区间因此同时包含这些参数的不确定性与随机性；但仍不包括其他参数与基年数据的不确定性。</p>",
    ),
    "data_in_english": _en_only("", "情景的名称与说明、投入表中留空的原因和运行记录是数据原文，仅有英文。"),
    # what changes
    "changes_note": _en_only(
        "By {year}{last_run}, against {reference}, on the same seeds. Each number is the mean paired effect "
        "with its 90% interval in brackets.",
        "到{year}年{last_run}，相对{reference}，在相同种子上。每个数字是平均配对效应，括号内为90%区间。",
    ),
    "last_run": _en_only(" (the last year run)", "（运行的最后一年）"),
    "changes_sentence": _en_only(
        "Talents in the region: {region}; by pole: {poles}. Hebei's share of the region's talents: {share}; "
        "the Beijing–Hebei gap in talents per 100,000 residents: {gap}.",
        "京津冀人才：{region}；各极：{poles}。河北人才占京津冀比重：{share}；京冀每十万常住人口人才数之差：{gap}。",
    ),
    "lever_by_lever": _pair("Lever by lever", "政策措施"),
    "colon": _en_only(":", "："),
    "moved": _en_only(
        "{label} moves {count} levers at once ({levers}): each is credited with the scenario's joint effect "
        "on its own target nodes, so where targets overlap the same additional talents appear under several "
        "levers, and the costs per talent can be neither added up nor read as any one lever's. A one-lever "
        "variant (a scenario that extends {reference} and sets only that lever) isolates a lever.",
        "{label}同时调整{count}项政策措施（{levers}）：每项措施都计入该情景对其目标节点的联合效应，因此目标重叠之处，"
        "同一批新增人才会出现在多项措施下，每名人才的投入既不能相加，也不能看作某一项措施单独的投入。"
        "单一措施的变体（继承{reference}并只设定该措施的情景）才能分离出一项措施的效应。",
    ),
    "same_scenario": _en_only(
        "{label} is the same scenario as {reference} (same content hash): its effects are 0 by "
        "construction, a check that both ran on the same seeds.",
        "{label}与{reference}是同一个情景（内容哈希相同）：其效应按构造为0，可用来检查两者在相同种子上运行。",
    ),
    "no_lever": _en_only(
        "{label} sets no lever; it differs from {reference} in its parameters only.",
        "{label}未设定政策措施；它与{reference}仅在参数上不同。",
    ),
    "parameters_differ": _en_only(
        "Parameters that differ from {reference}: {changed}.", "与{reference}不同的参数：{changed}。"
    ),
    "default": _en_only("default", "默认值"),
    "read_costs": _en_only(
        "How to read the costs: a lever is credited with its scenario's joint effect on the lever's target "
        "nodes. In a scenario with one lever that is the lever's own effect; in a scenario with several "
        "levers each lever gets the same joint effect on its targets, so only one-lever variants (each "
        "extending the reference with one lever) isolate a lever and give costs that can be compared "
        "between levers. The gain in a lever's target nodes also counts talents drawn from other nodes of "
        "the region; the effects on the region and on each pole above show how much of it is a net gain.",
        "如何解读投入：每项政策措施计入其所在情景对该措施目标节点的联合效应。只含一项措施的情景中，这就是该措施自身的效应；"
        "含多项措施的情景中，每项措施得到对其目标的同一联合效应，因此只有单一措施的变体（每个只在参照情景上增加一项措施）"
        "才能分离出一项措施，并给出可在措施之间比较的投入。措施目标节点的增量也包括从京津冀其他节点吸引来的人才；"
        "上文对京津冀与各极的效应显示其中有多少是净增。",
    ),
    "read_costs_attributed": _en_only(
        "How to read the costs: each lever above is credited with its scenario's joint effect on the "
        "lever's target nodes, which is no lever's own effect; each lever group's own effect (its Shapley "
        "value) and its cost per talent gained by Hebei, with one denominator for every group, are in the "
        "section \u201cWhat each lever group buys\u201d.",
        "如何解读投入：上文每项政策措施计入的是其所在情景对该措施目标节点的联合效应，并非任何一项措施自身的效应；"
        "各类政策自身的效应（Shapley值）及河北每新增一名人才的投入（所有类别使用同一分母）见“各类政策的贡献”一节。",
    ),
    # lever sentences
    "plan_section": _en_only("plan {section}", "规划{section}"),
    "targets": _en_only("targets {places}", "目标：{places}"),
    "lever_same": _en_only(
        "{title}: set as in {reference}, so it is not part of the difference this comparison measures.",
        "{title}：设定与{reference}相同，因此不属于本次比较所度量的差异。",
    ),
    "lever_spends": _en_only(
        "{title}, {where}: spends {spent} in {first}–{year} (cumulative, mean over replicates)",
        "{title}，{where}：{first}–{year}年投入{spent}（累计，重复均值）",
    ),
    "lever_against": _en_only(", against {spent} in {reference}", "，{reference}中为{spent}"),
    "lever_gained": _en_only(
        "; talents in its target nodes in {year}: {gained} (mean, 90% interval)",
        "；{year}年其目标节点人才：{gained}（均值，90%区间）",
    ),
    "lever_cost": _en_only(
        ": about <strong>{cost} per additional talent</strong>.",
        "：每新增一名人才约<strong>{cost}</strong>。",
    ),
    "lever_no_cost": _en_only(
        "; no cost per additional talent is given: {note}.", "；未给出每新增一名人才的投入：{note}。"
    ),
    "lever_unspent": _en_only(
        "{title}, {where}: no spending counted ({spending}); talents in its target nodes in {year}: "
        "{change} (mean, 90% interval).",
        "{title}，{where}：未计投入（{spending}）；{year}年其目标节点人才：{change}（均值，90%区间）。",
    ),
    "lever_group": _en_only(
        "; its group <em>{group}</em>'s own effect and cost per talent are in the attribution.",
        "；其所属政策类别<em>{group}</em>自身的效应与每新增人才成本见政策贡献分解。",
    ),
    "not_declared": _en_only("not declared", "未声明"),
    "all_of": _en_only("all of {province} ({n} nodes)", "{province}全部（{n}个节点）"),
    "no_node": _en_only("no node", "无节点"),
    "comma": _en_only(", ", "，"),
    "list_sep": _en_only("; ", "；"),
    # charts
    "charts_note": {
        "en": "PNG and SVG files of every chart, in English and in Chinese, are in the charts/ folder.",
        "zh": "每幅图的中英文PNG与SVG文件均在charts/文件夹中。",
        "both": "Charts in English, each with its Chinese version below it; PNG and SVG files of both are "
        "in the charts/ folder.",
    },
    "no_spending_chart": _en_only(
        "No spending chart: no scenario spends on a lever.", "无投入图：没有情景在政策措施上投入。"
    ),
    # milestones
    "none": _en_only("none", "无"),
    "before_milestones": _en_only(
        "The runs end in {last}, before the first milestone year (2020); run to 2020 or later (--end) for "
        "this table.",
        "运行止于{last}年，早于第一个阶段目标年份（2020年）；运行到2020年或以后（--end）才有此表。",
    ),
    "level_note": _en_only(
        "Mean over replicates, 90% interval in brackets.", "重复运行的均值，括号内为90%区间。"
    ),
    "indicator": _en_only("indicator", "指标"),
    "milestone_year": {"en": "{year}", "zh": "{year}年（{name}）", "both": "{year} ({name})"},
    # effects
    "effects_note": _en_only(
        "Effect (scenario minus {reference}, same seeds): mean over replicates, 90% interval in brackets; "
        "shares in percentage points (pp). All indicators and years are in effects.csv.",
        "效应（情景减{reference}，相同种子）：重复运行的均值，括号内为90%区间；比重以百分点（pp）计。"
        "全部指标与年份见effects.csv。",
    ),
    "by_node": _pair("Talents by node", "各节点人才"),
    # where the effect comes from
    "talents": _en_only("talents", "人才"),
    "sources": _pair("Where the effect on talents comes from", "人才效应的来源"),
    "sources_note": _en_only(
        "Effect on each term of the provinces' accounts, summed from the base year to {year} (mean, 90% "
        "interval): talents = university entrants + adults' degrees + arrivals from outside the region "
        "− leavers to outside it + moves in from the other provinces − moves out to them − deaths, so "
        "with their signs the terms add up to the effect on talents (model/indicators.py talent_accounts).",
        "各省市人才账户各分项自基年累计至{year}年的效应（均值，90%区间）：人才 = 高校新生 + 成人学历 + "
        "区域外迁入 − 迁出区域 + 自其他省市迁入 − 迁往其他省市 − 死亡，各分项按符号相加即为人才效应"
        "（见 model/indicators.py talent_accounts）。",
    ),
    "other_indicators": _pair("Other indicators", "其他指标"),
    # spending
    "no_spending": _en_only(
        "No scenario spends on a lever, so there is no cost to report.",
        "没有情景在政策措施上投入，因此没有可报告的投入。",
    ),
    "spending_note": _en_only(
        "Spending summed over nodes and years, mean over replicates, in CNY million.",
        "投入按节点与年份加总，取重复运行的均值，单位为百万元。",
    ),
    "lever": _en_only("lever", "政策措施"),
    "years": _en_only("years", "年份"),
    "year": _en_only("year", "年份"),
    "cny_million": _en_only("CNY million", "百万元"),
    "cost_heading": _pair("Cost per additional talent", "每新增一名人才的投入"),
    "cost_note": _en_only(
        "For {years}: cumulative spending on the lever to that year, the paired effect on the talents of "
        "its target nodes in that year, and their ratio (additional spending over the reference / mean "
        "effect). Blank where the effect's 90% interval includes 0 or lies below it. In a scenario with "
        "several levers each lever is credited with the scenario's joint effect on its targets; one-lever "
        "variants isolate a lever.",
        "{years}年：截至该年该措施的累计投入、该年其目标节点人才的配对效应，以及两者之比（相对参照情景的新增投入 / 平均效应）。"
        "效应的90%区间包含0或低于0时留空。含多项措施的情景中，每项措施计入该情景对其目标的联合效应；单一措施的变体才能分离出一项措施。",
    ),
    "attribute_hint": _en_only(
        "This table credits every lever with its scenario's joint effect; jjj-talent compare --attribute "
        "gives each lever group's own effect and cost per talent.",
        "此表将情景的联合效应计入每项措施；jjj-talent compare --attribute可给出各类政策自身的效应与每新增人才成本。",
    ),
    "costs_in_attribution": _en_only(
        "Each lever group's own cost per talent gained by Hebei is in the section \u201cWhat each lever "
        "group buys\u201d; the per-lever ratios of cost_effectiveness.csv credit every lever with its "
        "scenario's joint effect and are not shown.",
        "各类政策河北每新增一名人才的投入见“各类政策的贡献”一节；cost_effectiveness.csv中逐项措施的比值把情景的联合效应计入每项措施，此处不列。",
    ),
    "attribution_note": _en_only(
        "Each scenario's effect against {reference} split among the lever groups it changes "
        "(groups from {source}). The runs of {reference} and of each scenario above are the empty "
        "and the full combination of groups: {reused} of the {runs} attribution runs are the "
        "comparison's own.",
        "各情景相对{reference}的效应在其调整的政策类别之间分解（分类见{source}）。上文{reference}与各情景的运行"
        "即为不含与包含全部类别的组合：{runs}次分解运行中有{reused}次直接采用本次比较的运行。",
    ),
    "attribution_costs": _pair("Cost per talent gained by Hebei, by group", "各类政策河北每新增人才成本"),
    "attribution_effects": _pair("Every headline indicator, by group", "各项主要指标的分解"),
    "target_nodes": _en_only("target nodes", "目标节点"),
    "cumulative": _en_only("cumulative CNY million", "累计投入（百万元）"),
    "additional": _en_only("additional talents (90% interval)", "新增人才（90%区间）"),
    "per_talent": _en_only("CNY per additional talent", "每新增一名人才的投入"),
    "key": _en_only("key", "项目"),
    "value": _en_only("value", "值"),
    # number words
    "to": _en_only(" to ", " 至 "),
    "cny_millions": _en_only("CNY {value:,.1f} million", "{value:,.1f}百万元"),
    "cny": _en_only("CNY {value:,.0f}", "{value:,.0f}元"),
}
"""Every text of the comparison report in English and Chinese, with what the bilingual page shows."""


def tr(key: str, lang: str, table: Mapping[str, Mapping[str, str]] = TEXTS, **values: Any) -> str:
    """The text ``key`` of ``table`` (this module's ``TEXTS`` by default) in ``lang``, filled in."""
    return run_tr(key, lang, table, **values)


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


def plan_section(section: str, lang: str) -> str:
    """A plan section as declared (``三(一)``), in figures on the English page (``3(1)``)."""
    if lang != "en":
        return section
    return "".join(
        str("一二三四五六七八九十".index(ch) + 1) if ch in "一二三四五六七八九十" else ch for ch in section
    )


def _milestone_lines(ax: Any) -> None:
    low, high = ax.get_xlim()
    for year in MILESTONE_YEARS:
        if low <= year <= high:
            ax.axvline(year, color="0.6", linestyle="--", linewidth=0.8, zorder=1)


# --- charts -------------------------------------------------------------------------------------


def interval_kind(draws: int | None, lang: str) -> str:
    """What a chart's 90% interval spans: chance only (``draws`` None), or chance and the
    parameter uncertainty of an ensemble of ``draws`` draws."""
    if draws is None:
        return text("kind_chance", lang)
    return text("kind_one_draw", lang) if draws == 1 else text("kind_ensemble", lang, draws=draws)


def hebei_share_chart(
    indicators: pd.DataFrame, labels: Sequence[str], lang: str, draws: int | None = None
) -> Figure:
    """Hebei's share of the region's talents by scenario, with 90% bands over replicates
    (``draws``: the size of the parameter ensemble the replicates drew from, None without)."""
    mean, low, high = over_replicates(indicators, "hebei_share", labels)
    replicates = indicators["replicate"].nunique()
    return line_chart(
        mean,
        title=text("hebei_share", lang),
        subtitle=text("hebei_share_sub", lang, n=replicates, kind=interval_kind(draws, lang)),
        ylabel=text("share", lang),
        band=(low, high),
        colours=scenario_colours(labels),
        percent=True,
        milestones=lang,
    )


def effect_by_pole_chart(
    effects: pd.DataFrame, labels: Sequence[str], replicates: int, lang: str, draws: int | None = None
) -> Figure:
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
        text("effect_by_pole", lang, reference=labels[0])
        + "\n"
        + text("effect_sub", lang, n=replicates, kind=interval_kind(draws, lang)),
        x=0.01,
        ha="left",
        fontsize=12,
    )
    return figure


def effect_by_node_chart(
    effects: pd.DataFrame,
    labels: Sequence[str],
    layout: pd.DataFrame,
    year: int,
    replicates: int,
    lang: str,
    draws: int | None = None,
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
        text("effect_sub", lang, n=replicates, kind=interval_kind(draws, lang)),
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
    draws = comparison.ensemble.size if comparison.ensemble is not None else None
    figures = {
        "hebei_share": hebei_share_chart(tables.indicators, labels, lang, draws),
        "effect_by_pole": effect_by_pole_chart(tables.effects, labels, comparison.replicates, lang, draws),
        "effect_by_node": effect_by_node_chart(
            tables.effects, labels, layout, tables.years[-1], comparison.replicates, lang, draws
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


def format_effect_interval(name: str, mean: float, low: float, high: float, lang: str = "both") -> str:
    to = tr("to", lang)
    return f"{format_effect(name, mean)} ({format_effect(name, low)}{to}{format_effect(name, high)})"


def format_persons_interval(mean: float, low: float, high: float, lang: str = "both") -> str:
    """Additional persons with their interval: ``+1,234 (+200 to +2,300)``."""
    return f"{format_signed(mean)} ({format_signed(low)}{tr('to', lang)}{format_signed(high)})"


def format_level_interval(name: str, mean: float, low: float, high: float) -> str:
    return f"{format_indicator(name, mean)} ({format_indicator(name, low)}–{format_indicator(name, high)})"


def format_cny(value: float, lang: str = "both") -> str:
    """CNY in words: ``CNY 1,234.5 million``, ``CNY 56,300`` (``1,234.5百万元``, ``56,300元``)."""
    if not _finite(value):
        return "–"
    if abs(value) >= 1e6:
        return tr("cny_millions", lang, value=value / 1e6)
    return tr("cny", lang, value=value)


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


# --- sections -----------------------------------------------------------------------------------


def node_labels(lang: str = "both") -> dict[str, str]:
    """Node id -> short name: ``English (中文)`` on the bilingual page, else in ``lang``."""
    layout = charts.read_layout()
    if lang != "both":
        return node_names(layout, lang)
    english, chinese = node_names(layout, "en"), node_names(layout, "zh")
    return {node: f"{english[node]} ({chinese[node]})" for node in english}


def describe_places(nodes: Sequence[str], lang: str = "both") -> str:
    """Node ids in words: whole provinces by name, other nodes by their names."""
    layout = charts.read_layout()
    province = dict(zip(layout["node_id"], layout["province"], strict=True))
    labels = node_labels(lang)
    chosen, parts = set(nodes), []
    for name in PROVINCES:
        members = {node for node, p in province.items() if p == name}
        if members and members <= chosen:
            parts.append(tr("all_of", lang, province=pole_title(name, lang), n=len(members)))
            chosen -= members
    parts += [labels.get(node, node) for node in nodes if node in chosen]
    return tr("comma", lang).join(parts) if parts else tr("no_node", lang)


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


def _effect_text(tables: ComparisonTables, label: str, name: str, year: int, lang: str = "both") -> str:
    row = _effect_row(tables, label, name, year)
    if row is None:
        return "–"
    return format_effect_interval(name, row["effect_mean"], row["effect_p05"], row["effect_p95"], lang)


def _summary(
    comparison: Comparison, tables: ComparisonTables, manifest: Mapping[str, Any], lang: str = "both"
) -> str:
    reference = comparison.reference
    years = tables.years
    lead = tr(
        "lead",
        lang,
        count=len(comparison.scenarios),
        replicates=comparison.replicates,
        plural="s" if comparison.replicates > 1 else "",
        runs=comparison.runs,
        first=years[0],
        last=years[-1],
        scale=_e(reference.scenario.scale),
        reference=_e(reference.label),
    )
    rows = [
        [
            entry.label + (tr("reference_mark", lang) if i == 0 else ""),
            entry.scenario.name,
            entry.scenario.description,
            str(entry.file),
            entry.scenario.sha256()[:12],
        ]
        for i, entry in enumerate(comparison.scenarios)
    ]
    header = [tr(key, lang) for key in ("scenario", "name", "description", "file")] + ["sha256"]
    scenarios = _table(header, rows)
    seeds = _table(
        [tr("replicate", lang), tr("seed", lang)],
        [[r, seed] for r, seed in enumerate(comparison.seeds)],
        numeric=(0, 1),
    )
    return (
        f'<p class="lead">{lead}</p>'
        + scenarios
        + (_p(tr("data_in_english", lang), "muted") if lang == "zh" else "")
        + _p(tr("seeds_from", lang, root=comparison.root_seed, n=comparison.replicates))
        + f"<details><summary>{_e(tr('seeds', lang))}</summary>{seeds}</details>"
        + _p(intervals_sentence(comparison, lang))
    )


def intervals_sentence(comparison: Comparison, lang: str = "both") -> str:
    """Which kind of 90% interval the report shows: chance only, or chance and parameter
    uncertainty (the ensemble, its size and the parameters it sets)."""
    record = comparison.ensemble_record
    if record is None:
        return tr("intervals_chance", lang, n=comparison.replicates)
    if record["draws"] == 1:
        names = ", ".join(record["parameters"])
        return tr("intervals_one_draw", lang, n=comparison.replicates, file=record["file"], names=names)
    return tr(
        "intervals_ensemble",
        lang,
        n=comparison.replicates,
        file=record["file"],
        draws=record["draws"],
        names=", ".join(record["parameters"]),
        used=record["distinct_draws_used"],
    )


def _lever_sentence(
    comparison: Comparison,
    tables: ComparisonTables,
    entry: ComparedScenario,
    lever: str,
    year: int,
    lang: str = "both",
    group: str | None = None,
) -> str:
    """What ``lever`` does in ``entry``; with ``group`` (the lever's group in the scenario's
    attribution) the cost clause points to the group's own cost instead of crediting the lever
    with the scenario's joint effect."""
    declared = LEVERS.get(lever)
    title = f"<strong>{_e(lever)}</strong>"
    if declared is not None:
        head = lever_name(lever, "zh")
        section = tr("plan_section", lang, section=plan_section(declared.section, lang))
        if lang == "en" or head == lever:
            title += f" — {_e(section)}"
        else:
            title += f" — {_e(head)}{_e(tr('comma', lang))}{_e(section)}"
    targets = lever_targets(entry.scenario).get(lever, [])
    where = _e(tr("targets", lang, places=describe_places(targets, lang)))
    reference = comparison.reference
    same = reference.scenario.lever_settings().get(lever) == entry.scenario.lever_settings().get(lever)
    if same:
        return tr("lever_same", lang, title=title, reference=_e(reference.label))
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
            cost["additional_talents_mean"],
            cost["additional_talents_p05"],
            cost["additional_talents_p95"],
            lang,
        )
        sentence = tr(
            "lever_spends",
            lang,
            title=title,
            where=where,
            spent=_e(format_cny(cost["cumulative_cny_mean"], lang)),
            first=first,
            year=year,
        )
        if cost["base_cumulative_cny_mean"] > 0:
            sentence += tr(
                "lever_against",
                lang,
                spent=_e(format_cny(cost["base_cumulative_cny_mean"], lang)),
                reference=_e(reference.label),
            )
        sentence += tr("lever_gained", lang, year=year, gained=_e(gained))
        if group is not None:
            sentence += tr("lever_group", lang, group=_e(attributed.group_label(group, lang)))
        elif _finite(cost["cny_per_additional_talent"]):
            sentence += tr("lever_cost", lang, cost=_e(format_cny(cost["cny_per_additional_talent"], lang)))
        else:
            sentence += tr("lever_no_cost", lang, note=_e(cost["note"]))
        return sentence
    effect = target_effect(tables.indicators, reference.label, entry.label, targets)
    gained = effect[effect["year"] == year]["effect"]
    change = "–"
    if len(gained):
        change = format_persons_interval(gained.mean(), gained.quantile(0.05), gained.quantile(0.95), lang)
    spending = declared.spending if declared is not None else tr("not_declared", lang)
    return tr(
        "lever_unspent",
        lang,
        title=title,
        where=where,
        spending=_e(spending),
        year=year,
        change=_e(change),
    )


def _changes(
    comparison: Comparison,
    tables: ComparisonTables,
    lang: str = "both",
    attributions: Mapping[str, AttributionResult] | None = None,
) -> str:
    attributions = attributions or {}
    year = horizon(tables)
    reference = comparison.reference
    parts = [
        _p(
            tr(
                "changes_note",
                lang,
                year=year,
                last_run=tr("last_run", lang) if year != 2030 else "",
                reference=reference.label,
            ),
            "muted",
        )
    ]
    for entry in comparison.scenarios[1:]:
        label = entry.label
        parts.append(f"<h3>{_e(label)}</h3>")
        if entry.scenario.description:
            parts.append(_p(entry.scenario.description, "muted"))
        poles = tr("list_sep", lang).join(
            f"{pole_title(pole, lang)} {_effect_text(tables, label, f'talents.pole.{pole}', year, lang)}"
            for pole in POLES
        )
        parts.append(
            _p(
                tr(
                    "changes_sentence",
                    lang,
                    region=_effect_text(tables, label, "talents.jjj", year, lang),
                    poles=poles,
                    share=_effect_text(tables, label, "hebei_share", year, lang),
                    gap=_effect_text(tables, label, "bj_hb_density_gap", year, lang),
                )
            )
        )
        levers = list(entry.scenario.lever_settings())
        levers += [lever for lever in reference.scenario.lever_settings() if lever not in levers]
        if levers:
            attribution = attributions[label].attribution if label in attributions else None
            items = "".join(
                f"<li>{_lever_sentence(comparison, tables, entry, lever, year, lang, _group_of(attribution, lever))}"
                "</li>"
                for lever in levers
            )
            parts.append(f"<p>{_e(tr('lever_by_lever', lang))}{_e(tr('colon', lang))}</p><ul>{items}</ul>")
            moved = [
                lever
                for lever in entry.scenario.lever_settings()
                if reference.scenario.lever_settings().get(lever) != entry.scenario.lever_settings()[lever]
            ]
            if len(moved) > 1:
                parts.append(
                    _p(
                        tr(
                            "moved",
                            lang,
                            label=label,
                            count=len(moved),
                            levers=tr("comma", lang).join(moved),
                            reference=reference.scenario.name,
                        )
                    )
                )
        elif entry.scenario.sha256() == reference.scenario.sha256():
            parts.append(_p(tr("same_scenario", lang, label=label, reference=reference.label)))
        else:
            parts.append(_p(tr("no_lever", lang, label=label, reference=reference.label)))
        changed = _parameter_changes(
            reference.scenario.parameter_overrides(), entry.scenario.parameter_overrides(), lang
        )
        if changed:
            parts.append(_p(tr("parameters_differ", lang, reference=reference.label, changed=changed)))
    parts.append(_p(tr("read_costs_attributed" if attributions else "read_costs", lang), "muted"))
    return "\n".join(parts)


def _group_of(attribution: Attribution | None, lever: str) -> str | None:
    """The group of ``attribution`` that changes ``lever``, if any."""
    if attribution is None:
        return None
    return next((group for group, levers in attribution.groups.items() if lever in levers), None)


def _parameter_changes(
    reference: Mapping[str, float], scenario: Mapping[str, float], lang: str = "both"
) -> str:
    names = sorted(set(reference) | set(scenario))
    default = tr("default", lang)
    changed = [
        f"{name} {reference.get(name, default)} → {scenario.get(name, default)}"
        for name in names
        if reference.get(name) != scenario.get(name)
    ]
    return tr("list_sep", lang).join(changed)


def _charts(pngs: Mapping[str, Mapping[str, bytes]], lang: str = "both") -> str:
    english, chinese = pngs.get("en", {}), pngs.get("zh", {})
    parts = [_p(tr("charts_note", lang), "muted")]
    drawn = sorted(set(english) | set(chinese), key=lambda name: (CHART_NAMES.index(_kind(name)), name))
    for name in drawn:
        kind = _kind(name)
        title = tr(kind, lang, CHART_TITLES)
        if lang == "both":
            alt_en, alt_zh = title, LABELS[kind]["zh"] if kind in LABELS else title
        else:
            alt_en, alt_zh = tr(kind, "en", CHART_TITLES), tr(kind, "zh", CHART_TITLES)
        parts.append(
            figure_html(
                name,
                english.get(name),
                chinese.get(name),
                title,
                tr(kind, lang, CHART_CAPTIONS),
                alt_en,
                alt_zh,
                lang=lang,
            )
        )
    if "spending" not in english and "spending" not in chinese:
        parts.append(_p(tr("no_spending_chart", lang), "muted"))
    return "\n".join(parts)


def _kind(chart: str) -> str:
    """The kind of a chart name (``effect_map_2`` -> ``effect_map``)."""
    return chart.rstrip("0123456789").removesuffix("_") if chart.startswith("effect_map") else chart


def _milestones(comparison: Comparison, tables: ComparisonTables, lang: str = "both") -> str:
    barrier_levers = [name for name, lever in LEVERS.items() if "barrier" in lever.mechanism]
    setting = []
    for entry in comparison.scenarios:
        used = [name for name in barrier_levers if name in entry.scenario.lever_settings()]
        setting.append(f"{entry.label}: {', '.join(used) if used else tr('none', lang)}")
    definitions = DEFINITIONS[lang].format(
        levers=_e(", ".join(barrier_levers)), setting=_e(tr("list_sep", lang).join(setting))
    )
    table = tables.milestones
    years = [year for year in MILESTONE_YEARS if year in set(table["year"])]
    if not years:
        return definitions + _p(tr("before_milestones", lang, last=tables.years[-1]))
    labels = node_labels(lang)
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
            rows.append([indicator_label(name, labels, lang) or name, label] + cells)
    return (
        definitions
        + _p(tr("level_note", lang), "muted")
        + _table(
            [tr("indicator", lang), tr("scenario", lang)]
            + [tr("milestone_year", lang, year=y, name=MILESTONE_NAMES[y]["zh"]) for y in years],
            rows,
            numeric=range(2, 2 + len(years)),
        )
    )


def effect_years(tables: ComparisonTables) -> list[int]:
    """Milestone years in the run, else its last year."""
    years = [year for year in MILESTONE_YEARS if year in tables.years]
    return years or [tables.years[-1]]


def _effects(comparison: Comparison, tables: ComparisonTables, lang: str = "both") -> str:
    years = effect_years(tables)
    labels = node_labels(lang)
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
    header = [tr("indicator", lang)] + [str(year) for year in years]
    numeric = range(1, len(years) + 1)
    parts = [_p(tr("effects_note", lang, reference=comparison.reference.label), "muted")]
    for label in comparison.labels[1:]:

        def rows(chosen: Sequence[str], label: str = label) -> list[list[str]]:
            return [
                [indicator_label(name, labels, lang) or name]
                + [_effect_text(tables, label, name, year, lang) for year in years]
                for name in chosen
            ]

        parts.append(f"<h3>{_e(label)}</h3>")
        parts.append(_table(header, rows(key), numeric=numeric))
        if nodes:
            parts.append(
                f"<details><summary>{_e(tr('by_node', lang))}</summary>"
                f"{_table(header, rows(nodes), numeric=numeric)}</details>"
            )
        if rest:
            parts.append(
                f"<details><summary>{_e(tr('other_indicators', lang))}</summary>"
                f"{_table(header, rows(rest), numeric=numeric)}</details>"
            )
    return "\n".join(parts)


def _sources(comparison: Comparison, tables: ComparisonTables, lang: str = "both") -> str:
    """Each compared scenario's effect on the provinces' account terms at the horizon, beside
    its effect on their talents; empty where the runs have no accounts (written before them)."""
    names = set(tables.effects["indicator"])
    provinces = [p for p in PROVINCES if f"arrivals_since_base.province.{p}" in names]
    if not provinces:
        return ""
    year = horizon(tables)
    header = [tr("province", lang, RUN_TEXTS), tr("talents", lang)] + [
        tr(term, lang, RUN_TEXTS) for term in ACCOUNT_TERMS
    ]
    parts = [_p(tr("sources_note", lang, year=year), "muted")]
    for label in comparison.labels[1:]:
        rows = [
            [
                pole_title(province, lang),
                _effect_text(tables, label, f"talents.province.{province}", year, lang),
            ]
            + [
                _effect_text(tables, label, f"{term}_since_base.province.{province}", year, lang)
                for term in ACCOUNT_TERMS
            ]
            for province in provinces
        ]
        parts.append(f"<h3>{_e(label)}</h3>" + _table(header, rows, numeric=range(1, len(header))))
    return "\n".join(parts)


def _spending(
    comparison: Comparison, tables: ComparisonTables, lang: str = "both", is_attributed: bool = False
) -> str:
    """Spending by lever, then the costs: with an attribution, a pointer to each lever group's own
    cost per talent; without, the per-lever table (each lever credited with its scenario's joint
    effect) and the hint that ``--attribute`` gives each group's own."""
    spending = tables.spending
    if spending.empty or not (spending["cny_mean"] > 0).any():
        return _p(tr("no_spending", lang))
    rows = []
    for (label, lever), part in spending.groupby(["scenario", "lever"], sort=False):
        spent = part[part["cny_mean"] > 0]
        span = f"{int(spent['year'].min())}–{int(spent['year'].max())}" if len(spent) else "–"
        rows.append([label, lever, span, f"{part['cny_mean'].sum() / 1e6:,.1f}"])
    parts = [
        _p(tr("spending_note", lang), "muted"),
        _table([tr(key, lang) for key in ("scenario", "lever", "years", "cny_million")], rows, numeric=(3,)),
    ]
    costs = tables.cost_effectiveness
    if is_attributed:
        parts.append(_p(tr("costs_in_attribution", lang)))
    elif len(costs):
        cost_rows = []
        for row in costs.itertuples(index=False):
            per = (
                format_cny(row.cny_per_additional_talent, lang)
                if _finite(row.cny_per_additional_talent)
                else f"– ({row.note})"
            )
            cost_rows.append(
                [
                    row.scenario,
                    row.lever,
                    row.year,
                    describe_places(str(row.target_nodes).split(";") if row.target_nodes else [], lang),
                    f"{row.cumulative_cny_mean / 1e6:,.1f}",
                    format_persons_interval(
                        row.additional_talents_mean,
                        row.additional_talents_p05,
                        row.additional_talents_p95,
                        lang,
                    ),
                    per,
                ]
            )
        parts.append(f"<h3>{_e(tr('cost_heading', lang))}</h3>")
        parts.append(
            _p(tr("cost_note", lang, years=", ".join(str(y) for y in cost_years(tables.years))), "muted")
        )
        parts.append(_p(tr("attribute_hint", lang)))
        parts.append(
            _table(
                [
                    tr(key, lang)
                    for key in (
                        "scenario",
                        "lever",
                        "year",
                        "target_nodes",
                        "cumulative",
                        "additional",
                        "per_talent",
                    )
                ],
                cost_rows,
                numeric=(2, 4),
            )
        )
    return "\n".join(parts)


def _attribution(
    comparison: Comparison,
    attributions: Mapping[str, AttributionResult],
    manifest: Mapping[str, Any],
    pngs: Mapping[str, Mapping[str, bytes]],
    lang: str = "both",
) -> str:
    """Each scenario's attribution: its groups, the waterfall, each group's cost per talent
    gained by Hebei, and the Shapley table of every headline indicator."""
    runs = sum(result.manifest["runs"] for result in attributions.values())
    reused = sum(result.manifest["runs_reused"] for result in attributions.values())
    source = manifest.get("attribution", {}).get("groups_source", "")
    reference = comparison.reference.label
    parts = [_p(tr("attribution_note", lang, reference=reference, source=source, reused=reused, runs=runs))]
    for label, result in attributions.items():
        name = attribution_chart(comparison, label)
        effects = result.effects
        parts.append(f"<h3>{_e(label)}</h3>")
        parts.append(attributed.groups_html(result.attribution, comparison.replicates, lang))
        chart = {chart_lang: files[name] for chart_lang, files in pngs.items() if name in files}
        parts.append(attributed.waterfall_html(name, chart, attributed.last_year(effects), lang))
        parts.append(f"<h4>{_e(tr('attribution_costs', lang))}</h4>")
        parts.append(attributed.costs_html(result.costs, effects, lang))
        parts.append(
            f"<details><summary>{_e(tr('attribution_effects', lang))}</summary>"
            f"{attributed.effects_html(effects, lang, heading='h4')}</details>"
        )
    parts.append(attributed.method_html(lang))
    return "\n".join(parts)


def attribution_chart(comparison: Comparison, label: str) -> str:
    """The waterfall chart's name for a compared scenario: ``attribution_<k>``, k its place
    after the reference (as ``effect_map_<k>``)."""
    return f"attribution_{comparison.labels.index(label)}"


def _manifest(manifest: Mapping[str, Any], lang: str = "both") -> str:
    shown = {key: value for key, value in manifest.items() if key not in ("scenarios", "seeds")}
    shown["seeds"] = ", ".join(str(seed) for seed in manifest.get("seeds", []))
    return _table([tr("key", lang), tr("value", lang)], _flatten(shown))


# --- the page -----------------------------------------------------------------------------------


def render_compare_report(
    comparison: Comparison,
    tables: ComparisonTables,
    manifest: Mapping[str, Any],
    pngs: Mapping[str, Mapping[str, bytes]],
    *,
    lang: str = "both",
    attributions: Mapping[str, AttributionResult] | None = None,
) -> str:
    """The report page in ``lang`` (``en``, ``zh`` or ``both``); ``pngs`` maps chart language ->
    chart name -> PNG bytes; ``attributions`` (compared scenario label -> its attribution) adds
    the attribution section, whose per-group costs replace the per-lever ones."""
    check_report_lang(lang)
    attributions = attributions or {}
    charts_only = {
        chart_lang: {name: png for name, png in files.items() if not name.startswith("attribution")}
        for chart_lang, files in pngs.items()
    }
    sections = {
        "summary": _summary(comparison, tables, manifest, lang),
        "changes": _changes(comparison, tables, lang, attributions),
        "charts": _charts(charts_only, lang),
        "milestones": _milestones(comparison, tables, lang),
        "effects": _effects(comparison, tables, lang),
        "spending": _spending(comparison, tables, lang, is_attributed=bool(attributions)),
        "method": METHOD_HTML[lang]
        + (
            ""
            if comparison.ensemble is None or comparison.ensemble.size == 1
            else tr("method_ensemble", lang)
        )
        + _p(intervals_sentence(comparison, lang)),
        "manifest": _manifest(manifest, lang),
    }
    if sources := _sources(comparison, tables, lang):
        sections["sources"] = sources
    if attributions:
        sections["attribution"] = _attribution(comparison, attributions, manifest, pngs, lang)
    year = horizon(tables)
    titles = {anchor: tr(anchor, lang, year=year) for anchor in SECTIONS}
    names = tr("vs", lang).join(comparison.labels)
    years = tables.years
    subtitle = " · ".join(
        [
            tr("report_kind", lang),
            f"{years[0]}–{years[-1]}",
            tr("replicates_n", lang, n=comparison.replicates),
            tr("root_seed", lang, seed=comparison.root_seed),
            str(manifest.get("created", "")),
        ]
    )
    return html_page(
        title=tr("page_title", lang, names=names),
        generator="reports/compare_report.py",
        heading=tr("heading", lang, names=names),
        subtitle=_e(subtitle),
        sections=[(anchor, titles[anchor], sections[anchor]) for anchor in SECTIONS if anchor in sections],
        footer=tr("footer", lang),  # HTML; the texts have no markup characters but apostrophes
        lang=lang,
    )


def write_compare_report(
    folder: Path,
    comparison: Comparison,
    tables: ComparisonTables,
    manifest: Mapping[str, Any],
    *,
    lang: str = "both",
    attributions: Mapping[str, AttributionResult] | None = None,
) -> Path:
    """Charts (both languages whatever ``lang``, ``folder/charts/``) and ``folder/report.html`` in
    ``lang`` (``en``, ``zh`` or ``both``), with each scenario's attribution and its waterfall
    chart (``attribution_<k>``) when given; returns its path."""
    check_report_lang(lang)
    pngs = write_compare_charts(Path(folder), comparison, tables)
    for label, result in (attributions or {}).items():
        name = attribution_chart(comparison, label)
        for chart_lang, png in attributed.write_waterfall(
            Path(folder) / "charts", name, result.effects
        ).items():
            pngs[chart_lang][name] = png
    page = render_compare_report(comparison, tables, manifest, pngs, lang=lang, attributions=attributions)
    return write_text(Path(folder) / "report.html", page)
