"""The optimise report: the budget-objective frontier as a chart, its table, the searches' trials.

Drawn from what ``experiments/package_search.py`` found and wrote; nothing here runs the model.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from experiments.files import write_bytes, write_text
from experiments.package_search import OptimiseResult, Problem
from experiments.replicates import P05, P95
from reports.charts import LANGS, _head, _new_figure, _style_axes, chart_path, figure_bytes, persons_unit
from reports.fonts import register_cjk_font
from reports.run_report import _e, _p, _table, figure_html, html_page

TEXT: Mapping[str, Mapping[str, str]] = {
    "title": {
        "en": "Best package for each budget: {objective}, {year}",
        "zh": "各预算下的最优政策组合：{objective}（{year}年）",
    },
    "subtitle": {
        "en": "best package confirmed on fresh seeds (90% interval); dots: packages tried; cross: base scenario",
        "zh": "最优组合在新随机种子上复核（90%区间）；圆点：搜索中的组合；叉：基准情景",
    },
    "spending": {
        "en": "cumulative spending {first}–{last}, bn CNY",
        "zh": "{first}—{last}年累计支出（十亿元）",
    },
    "share": {"en": "share (%)", "zh": "占比（%）"},
    "best": {"en": "best package", "zh": "最优组合"},
    "tried": {"en": "packages tried (search seeds)", "zh": "搜索中的组合（搜索种子）"},
    "over": {"en": "packages tried, over every budget", "zh": "搜索中的组合（超出所有预算）"},
    "base": {"en": "base scenario", "zh": "基准情景"},
    "budget": {"en": "budgets", "zh": "预算"},
}
SECTIONS: Mapping[str, Mapping[str, str]] = {
    "summary": {"en": "Summary", "zh": "概要"},
    "chart": {"en": "Frontier", "zh": "预算—效果前沿"},
    "frontier": {"en": "Best package per budget", "zh": "各预算最优组合"},
    "trials": {"en": "Packages tried", "zh": "搜索过程"},
    "method": {"en": "Method", "zh": "方法"},
}


def _t(table: Mapping[str, Mapping[str, str]], key: str, lang: str, **values: object) -> str:
    return table[key]["zh" if lang == "zh" else "en"].format(**values)


def _heading(key: str, lang: str) -> str:
    if lang == "both":
        return f"{SECTIONS[key]['en']} ({SECTIONS[key]['zh']})"
    return SECTIONS[key][lang]


def frontier_chart(result: OptimiseResult, lang: str) -> Figure:
    """Objective against spending: every package tried (by feasibility), the confirmed best of
    each budget with its 90 % interval, the budgets as vertical lines, and the base scenario."""
    problem = result.problem
    objective = problem.objective
    frontier, trials = result.frontier, result.trials
    is_share = objective.unit == "share"
    values = np.r_[trials["objective_mean"].to_numpy(float), frontier[f"objective_{P95}"].to_numpy(float)]
    values = values[np.isfinite(values)]
    largest = float(np.max(np.abs(values))) if len(values) else 1.0
    divisor, unit = (0.01, _t(TEXT, "share", lang)) if is_share else persons_unit(largest, lang)
    figure = _new_figure(8.5, 5.0)
    ax = figure.add_subplot()
    bn = 1e9
    # a package tried for several budgets (the searches share their first, random, draws and the
    # runs of a package) is one point: within budget if it kept within the largest
    paths = [d.path for d in problem.decisions]
    tried = trials.drop_duplicates(subset=paths).assign(
        within=lambda t: t["spending_cny"] <= frontier["budget_cny"].max()
    )
    for within, colour, key in ((True, "#56B4E9", "tried"), (False, "#CCCCCC", "over")):
        shown = tried[tried["within"] == within]
        if len(shown):
            ax.scatter(
                shown["spending_cny"] / bn,
                shown["objective_mean"] / divisor,
                s=14,
                color=colour,
                label=_t(TEXT, key, lang),
                zorder=2,
            )
    found = frontier.dropna(subset=["objective_mean"])
    if len(found):
        mean = found["objective_mean"].to_numpy(float) / divisor
        low = found[f"objective_{P05}"].to_numpy(float) / divisor
        high = found[f"objective_{P95}"].to_numpy(float) / divisor
        ax.errorbar(
            found["spending_cny"] / bn,
            mean,
            yerr=[np.maximum(mean - low, 0), np.maximum(high - mean, 0)],
            color="#009E73",
            marker="o",
            capsize=3,
            label=_t(TEXT, "best", lang),
            zorder=3,
        )
    for k, budget in enumerate(frontier["budget_cny"]):
        ax.axvline(
            budget / bn,
            color="#999999",
            linestyle=":",
            linewidth=0.9,
            label=_t(TEXT, "budget", lang) if k == 0 else None,
        )
    if np.isfinite(result.base.objective):
        ax.scatter(
            [result.base.spending_cny / bn],
            [result.base.objective / divisor],
            marker="x",
            s=50,
            color="#D55E00",
            label=_t(TEXT, "base", lang),
            zorder=4,
        )
    years = result.manifest["spending_years"]
    ax.set_xlabel(_t(TEXT, "spending", lang, first=years[0], last=years[1]))
    ax.set_ylabel(unit)
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    _style_axes(ax)
    name = objective.zh if lang == "zh" else objective.en
    _head(figure, ax, _t(TEXT, "title", lang, objective=name, year=problem.year), _t(TEXT, "subtitle", lang))
    return figure


def write_optimise_report(folder: Path, result: OptimiseResult, *, lang: str = "both") -> Path:
    """The frontier chart (PNG and SVG, both languages) and ``report.html`` in ``folder``."""
    register_cjk_font()
    pngs: dict[str, bytes] = {}
    for chart_lang in LANGS:
        rendered = figure_bytes(frontier_chart(result, chart_lang))
        for extension, data in rendered.items():
            write_bytes(chart_path(folder / "charts", "frontier", chart_lang, extension), data)
        pngs[chart_lang] = rendered["png"]
    return write_text(folder / "report.html", _page(result, pngs, lang))


def _page(result: OptimiseResult, pngs: Mapping[str, bytes], lang: str) -> str:
    problem = result.problem
    manifest = result.manifest
    sections = [
        ("summary", _heading("summary", lang), _summary(result)),
        ("chart", _heading("chart", lang), _chart(result, pngs, lang)),
        ("frontier", _heading("frontier", lang), _frontier(result)),
        ("trials", _heading("trials", lang), _trials(result)),
        ("method", _heading("method", lang), _method(problem)),
    ]
    return html_page(
        title=f"{problem.config.name} — jjj-talent optimise",
        generator="reports/optimise.py",
        heading=f"The best lever package for a budget: {problem.config.name}",
        subtitle=(
            f"jjj-talent optimise (预算约束下的政策组合优化) · base {_e(problem.base.name)} · "
            f"{len(problem.search_seeds)} search replicates, {len(problem.confirm_seeds)} confirmation "
            f"replicates · {manifest['runs']} runs · scale {manifest['scale']}"
        ),
        sections=sections,
        footer="Every number is a model result on paired replicate seeds, not an observation.",
        lang=lang,
    )


def _value(value: float, problem: Problem) -> str:
    if not np.isfinite(value):
        return "–"
    return f"{value * 100:.2f}%" if problem.objective.unit == "share" else f"{value:,.0f}"


def _summary(result: OptimiseResult) -> str:
    problem = result.problem
    config = problem.config
    rows = [
        [d.path, f"{d.lower:g}", f"{d.upper:g}", "–" if d.step is None else f"{d.step:g}"]
        for d in problem.decisions
    ]
    costed = (
        " Decided levers the model does not cost are charged "
        + ", ".join(f"{name} {cost:,.0f} CNY per unit a year" for name, cost in config.costs_cny.items())
        + "."
        if config.costs_cny
        else ""
    )
    base = result.base
    return _p(
        f"Objective: {problem.objective.en} in {problem.year}, maximised, for each of "
        f"{len(config.budget_cny)} budget(s) of cumulative lever spending "
        f"{result.manifest['spending_years'][0]}-{result.manifest['spending_years'][1]}. "
        f"The base scenario ({problem.base.name}) gives {_value(base.objective, problem)} at "
        f"{base.spending_cny / 1e9:,.2f} bn CNY on the confirmation seeds. Every other lever keeps "
        f"the base's values.{costed}"
    ) + _table(["decision (lever value from a date)", "lower", "upper", "step"], rows, numeric=(1, 2, 3))


def _chart(result: OptimiseResult, pngs: Mapping[str, bytes], lang: str) -> str:
    problem = result.problem
    title = _t(TEXT, "title", "en", objective=problem.objective.en, year=problem.year)
    return figure_html(
        "frontier",
        pngs.get("en"),
        pngs.get("zh"),
        title if lang != "zh" else _t(TEXT, "title", "zh", objective=problem.objective.zh, year=problem.year),
        "Each budget's best package, re-run on fresh seeds, against its spending; the search's "
        "packages are their means over the search seeds.",
        title,
        _t(TEXT, "title", "zh", objective=problem.objective.zh, year=problem.year),
        lang=lang,
    )


def _frontier(result: OptimiseResult) -> str:
    problem = result.problem
    rows = []
    for _, row in result.frontier.iterrows():
        rows.append(
            [
                f"{row['budget_cny'] / 1e9:,.2f}",
                f"{_value(row['objective_mean'], problem)} ({_value(row[f'objective_{P05}'], problem)} "
                f"to {_value(row[f'objective_{P95}'], problem)})",
                _gain(row, problem),
                "–" if not np.isfinite(row["spending_cny"]) else f"{row['spending_cny'] / 1e9:,.2f}",
                f"{int(row['feasible_trials'])} / {int(row['trials'])}",
                *(_decision_value(row[d.path]) for d in problem.decisions),
                row["scenario_file"] or "no package kept within the budget",
            ]
        )
    header = [
        "budget (bn CNY)",
        f"{problem.objective.en}, {problem.year} (90% interval)",
        f"gain over {problem.base.name} (paired, 90% interval)",
        "spending (bn CNY)",
        "within budget / tried",
        *(d.path for d in problem.decisions),
        "scenario file",
    ]
    return _p(
        "The best package of each budget's search (highest mean over the search seeds among those "
        "whose mean spending kept within the budget), re-run on fresh seeds: the objective and "
        "spending shown are from those confirmation runs. A package that broke the budget on the "
        "fresh seeds was replaced by the next best."
    ) + _table(header, rows, numeric=tuple(range(1, 5 + len(problem.decisions))))


def _gain(row: pd.Series, problem: Problem) -> str:
    if not np.isfinite(row["gain_over_base_mean"]):
        return "–"
    if problem.objective.unit == "share":
        return (
            f"{row['gain_over_base_mean'] * 100:+.2f} pp ({row[f'gain_over_base_{P05}'] * 100:+.2f} to "
            f"{row[f'gain_over_base_{P95}'] * 100:+.2f})"
        )
    return (
        f"{row['gain_over_base_mean']:+,.0f} ({row[f'gain_over_base_{P05}']:+,.0f} to "
        f"{row[f'gain_over_base_{P95}']:+,.0f})"
    )


def _decision_value(value: float) -> str:
    return "–" if not np.isfinite(value) else f"{value:,.6g}"


def _trials(result: OptimiseResult, shown: int = 5) -> str:
    problem = result.problem
    parts = []
    for budget, trials in result.trials.groupby("budget_cny", sort=True):
        best = trials.sort_values("objective_mean", ascending=False)
        best = pd.concat([best[best["feasible"]].head(shown), best[~best["feasible"]].head(2)])
        rows = [
            [
                int(t["trial"]),
                *(_decision_value(t[d.path]) for d in problem.decisions),
                _value(t["objective_mean"], problem),
                f"{t['spending_cny'] / 1e9:,.2f}",
                "yes" if t["feasible"] else "no",
            ]
            for _, t in best.iterrows()
        ]
        parts.append(f"<h3>Budget {float(budget) / 1e9:,.2f} bn CNY: {len(trials)} packages tried</h3>")
        parts.append(
            _table(
                [
                    "trial",
                    *(d.path for d in problem.decisions),
                    "objective (mean)",
                    "spending (bn CNY)",
                    "within",
                ],
                rows,
                numeric=tuple(range(0, 3 + len(problem.decisions))),
            )
        )
    return (
        _p(f"The {shown} best packages within each budget and the best two over it; all are in trials.csv.")
        + "\n"
        + "\n".join(parts)
    )


def _method(problem: Problem) -> str:
    return _p(
        "For each budget, Optuna's TPE sampler proposes packages in synchronous batches of "
        f"{problem.config.batch}, the first being the base scenario's own values (where the ranges "
        "and steps admit them); each package is the base scenario with the decided values set, run "
        f"on the same {len(problem.search_seeds)} replicate seeds as every other package (common "
        "random numbers). Spending is an outcome of the runs (what the model counts for each lever, "
        "plus the config's costs for levers it does not count); a package whose mean spending exceeds "
        "the budget is infeasible and its excess is reported to the sampler as a constraint. The "
        "search is reproducible for its seed whatever the number of workers. Intervals are the 5th to "
        "95th percentiles over the confirmation replicates; with few replicates they are rough."
    )
