"""Charts of one run, labelled in English or Chinese.

Every ``*_chart`` function is pure: tables in, a matplotlib ``Figure`` out; nothing is read or
written and no pyplot state is touched (figures carry their own Agg canvas, so the charts never
depend on, or switch, an interactive backend someone else has chosen). The only global is the
font: ``register_cjk_font`` (``reports/fonts.py``) registers Noto Sans CJK because matplotlib's
default font has no Chinese glyphs.

``read_run`` loads a run directory written by ``experiments/run.py``; ``write_charts`` draws
every chart of a run and saves it as PNG and SVG (glyphs as paths, so Chinese shows on any
machine), each file atomically. The node maps are ``reports/maps.py``'s choropleths.
"""

from __future__ import annotations

import io
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import (
    FuncFormatter,
    LogLocator,
    MaxNLocator,
    NullFormatter,
    PercentFormatter,
)

from experiments.files import write_bytes
from model.errors import ScenarioError
from model.plan import MILESTONE_NAMES, MILESTONE_YEARS
from reports.fonts import register_cjk_font, svg_bytes
from reports.maps import node_maps

LANGS = ("en", "zh")
DPI = 150

POLES = ("beijing", "tianjin", "hebei")
# Okabe-Ito colours: distinguishable with the common colour-vision deficiencies.
POLE_COLOURS = {"beijing": "#D55E00", "tianjin": "#0072B2", "hebei": "#009E73"}
OTHER_COLOUR = "#777777"


CHART_NAMES = (
    "talents_by_pole",
    "talents_by_node",
    "hebei_share",
    "talents_map",
    "change_map",
    "price_wage",
    "drivers",
)

LABELS: dict[str, dict[str, str]] = {
    "beijing": {"en": "Beijing", "zh": "北京"},
    "tianjin": {"en": "Tianjin", "zh": "天津"},
    "hebei": {"en": "Hebei", "zh": "河北"},
    "talents_by_pole": {"en": "Talents by pole", "zh": "三极人才总量"},
    "talents_by_node": {"en": "Talents by node", "zh": "各节点人才数量"},
    "hebei_share": {"en": "Hebei's share of the region's talents", "zh": "河北人才占京津冀比重"},
    "hebei_share_sub": {
        "en": "dashed lines: the plan's milestone years (no numeric share is set)",
        "zh": "虚线：规划阶段目标年份（规划未设定比重数值）",
    },
    "share": {"en": "share of talents", "zh": "人才占比"},
    "longitude": {"en": "longitude (°E)", "zh": "经度（东经）"},
    "latitude": {"en": "latitude (°N)", "zh": "纬度（北纬）"},
    "price_wage": {"en": "House price and mean talent wage by node", "zh": "各节点房价与人才平均工资"},
    "price_panel": {"en": "House price", "zh": "房价"},
    "wage_panel": {"en": "Mean talent wage", "zh": "人才平均工资"},
    "log_scale": {"en": "log scale", "zh": "对数刻度"},
    "drivers": {
        "en": "Net talents gained over the run, by utility term",
        "zh": "各效用项带来的人才净增（全期）",
    },
    "drivers_sub": {
        "en": "persons each province gained (+) or lost (−) because of the term",
        "zh": "因该项各省市净增（+）或净减（−）的人数",
    },
    "region_total": {
        "en": "region {first}: {start} → {last}: {end} {unit}",
        "zh": "京津冀 {first}年 {start} → {last}年 {end} {unit}",
    },
    "change": {"en": "{change:+.0%} since {first}", "zh": "较{first}年 {change:+.0%}"},
}

TERMS: dict[str, dict[str, str]] = {
    "wage": {"en": "wage", "zh": "工资"},
    "jobs": {"en": "jobs", "zh": "就业机会"},
    "housing": {"en": "housing cost", "zh": "住房成本"},
    "services": {"en": "public services", "zh": "公共服务"},
    "amenity": {"en": "amenity", "zh": "宜居环境"},
    "agglomeration": {"en": "agglomeration", "zh": "集聚效应"},
    "distance": {"en": "distance", "zh": "距离"},
    "stay": {"en": "staying put", "zh": "留居本地"},
    "barriers": {"en": "hukou and credential barriers", "zh": "户籍与资格壁垒"},
    "commuting": {"en": "homes within commuting range", "zh": "通勤范围内居住"},
    "levers": {"en": "policy levers", "zh": "政策措施"},
    "ceiling": {"en": "population ceiling", "zh": "常住人口上限"},  # not a utility term (P10)
}

GROUPS: dict[str, dict[str, str]] = {
    "research": {"en": "research", "zh": "科研"},
    "engineering": {"en": "engineering", "zh": "工程技术"},
    "management": {"en": "management", "zh": "经营管理"},
    "professional": {"en": "professional", "zh": "专业技术"},
    "skilled": {"en": "skilled", "zh": "高技能"},
}

# Map labels that would sit on a neighbour's circle if put to the right (Beijing's circle covers
# Tongzhou's; Baoding and Xiong'an are close): presentation only, others go right.


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ScenarioError(f"chart language {lang!r} is not one of {', '.join(LANGS)}")
    return lang


def label(key: str, lang: str) -> str:
    """The label ``key`` in ``lang`` (``en`` or ``zh``); unknown keys come back unchanged."""
    entry = LABELS.get(key) or TERMS.get(key) or GROUPS.get(key)
    return entry[lang] if entry else key


def pole_name(pole: str, lang: str) -> str:
    return LABELS[pole][lang] if pole in LABELS else pole


def term_name(term: str, lang: str) -> str:
    return TERMS[term][lang] if term in TERMS else term


def short_name(name: str) -> str:
    """A node name without its parenthesis: ``Baoding (incl. Dingzhou; ...)`` -> ``Baoding``."""
    return re.sub(r"\s*[(（].*?[)）]\s*", "", name).strip() or name


def node_names(layout: pd.DataFrame, lang: str, *, short: bool = True) -> dict[str, str]:
    """Node id -> name (``name_en`` or ``name_zh`` of ``nodes.csv``)."""
    column = "name_zh" if lang == "zh" else "name_en"
    names = dict(zip(layout["node_id"], layout[column], strict=True))
    return {node: short_name(str(name)) if short else str(name) for node, name in names.items()}


# --- reading a run ------------------------------------------------------------------------------

COLUMNS: dict[str, tuple[str, ...]] = {
    "stocks.parquet": ("year", "node", "group", "is_high_end", "is_foreign", "status", "persons"),
    "flows.parquet": ("year", "origin", "destination", "group", "persons"),
    "nodes.parquet": ("year", "node", "population", "talents", "price_cny_m2", "wage_cny_year"),
    "indicators.csv": ("year", "indicator", "value"),
    "drivers.csv": ("term", "province", "persons"),
    "lever_spending.csv": ("year", "lever", "node", "cny"),
    "parameters.csv": ("name", "value", "default", "unit", "lower", "upper", "meaning", "source"),
    "provenance.csv": ("node_id", "field", "value", "status", "source", "basis"),
    "fit.csv": (
        "target",
        "unit",
        "indicator",
        "year",
        "observed",
        "status",
        "source",
        "fit_mean",
        "fit_relative_error",
    ),
    "validation.csv": (
        "unit",
        "indicator",
        "year",
        "observed",
        "result",
        "simulated_mean",
        "simulated_p05",
        "simulated_p95",
        "relative_error",
        "naive_relative_error",
    ),
}
REQUIRED = ("manifest.json", "indicators.csv", "nodes.parquet")


@dataclass(frozen=True)
class RunData:
    """The tables of one run directory; optional files that are absent or empty are empty."""

    run_dir: Path
    manifest: dict[str, Any]
    layout: pd.DataFrame
    node_years: pd.DataFrame
    indicators: pd.DataFrame
    stocks: pd.DataFrame
    flows: pd.DataFrame
    drivers: pd.DataFrame
    lever_spending: pd.DataFrame
    notes: list[str]
    parameters: pd.DataFrame
    provenance: pd.DataFrame
    fit: pd.DataFrame  # the fit of the calibrated layer the scenario extends (fit.csv), if any
    validation: pd.DataFrame  # that layer's validation after 2015 (validation.csv), if any
    validation_summary: dict[str, Any]  # and its summary (validation.json), {} if none

    @property
    def years(self) -> list[int]:
        return sorted(int(year) for year in self.node_years["year"].unique())


def read_layout(path: Path | None = None) -> pd.DataFrame:
    """The node layout (``model/data/nodes.csv`` unless ``path`` says otherwise)."""
    source = path if path is not None else resources.files("model").joinpath("data", "nodes.csv")
    with source.open("rb") as handle:
        layout = pd.read_csv(handle, dtype={"node_id": str}, keep_default_na=False)
    for column in ("lat", "lon"):
        layout[column] = pd.to_numeric(layout[column], errors="coerce")
    return layout


def _check_columns(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    missing = [column for column in COLUMNS[path.name] if column not in frame.columns]
    if missing:
        raise ScenarioError(
            f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(COLUMNS[path.name])}"
        )
    return frame


def _read_table(run_dir: Path, name: str, *, text: bool = False) -> pd.DataFrame:
    path = run_dir / name
    if not path.is_file() or path.stat().st_size == 0:
        if name in REQUIRED:
            raise ScenarioError(f"{path}: missing; a run directory needs {', '.join(REQUIRED)}")
        return pd.DataFrame({column: pd.Series(dtype=object) for column in COLUMNS[name]})
    # Open once and read from the handle: the file may be replaced while we read.
    with path.open("rb") as handle:
        if name.endswith(".parquet"):
            frame = pd.read_parquet(handle)
        elif text:
            frame = pd.read_csv(handle, dtype=str, keep_default_na=False)
        else:
            frame = pd.read_csv(handle)
    return _check_columns(frame, path)


def _read_json(path: Path, empty: Any) -> Any:
    """An optional JSON file of a run folder; ``empty`` when it is absent or empty."""
    if not path.is_file() or not path.stat().st_size:
        return empty
    return json.loads(path.read_text(encoding="utf-8"))


def read_run(run_dir: Path, layout: pd.DataFrame | None = None) -> RunData:
    """Read a run directory written by ``experiments/run.py``."""
    run_dir = Path(run_dir)
    manifest_path = run_dir / "manifest.json"
    if not manifest_path.is_file():
        raise ScenarioError(f"{manifest_path}: missing; is {run_dir} a run directory?")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    notes = [str(note) for note in _read_json(run_dir / "notes.json", [])]
    indicators = _read_table(run_dir, "indicators.csv")
    indicators["value"] = pd.to_numeric(indicators["value"], errors="coerce")
    return RunData(
        run_dir=run_dir,
        manifest=manifest,
        layout=read_layout() if layout is None else layout,
        node_years=_read_table(run_dir, "nodes.parquet"),
        indicators=indicators,
        stocks=_read_table(run_dir, "stocks.parquet"),
        flows=_read_table(run_dir, "flows.parquet"),
        drivers=_read_table(run_dir, "drivers.csv"),
        lever_spending=_read_table(run_dir, "lever_spending.csv"),
        notes=notes,
        parameters=_read_table(run_dir, "parameters.csv", text=True),
        provenance=_read_table(run_dir, "provenance.csv", text=True),
        fit=_read_table(run_dir, "fit.csv"),
        validation=_read_table(run_dir, "validation.csv"),
        validation_summary=_read_json(run_dir / "validation.json", {}),
    )


# --- tables the charts draw ---------------------------------------------------------------------


def indicator_series(indicators: pd.DataFrame, name: str) -> pd.Series:
    """One indicator by year (empty if the run did not record it)."""
    rows = indicators[indicators["indicator"] == name]
    series = rows.groupby("year")["value"].sum(min_count=1).astype(float)
    series.index = series.index.astype(int)
    return series.rename(name)


def node_talents(node_years: pd.DataFrame) -> pd.DataFrame:
    """Talents by year (rows) and node (columns)."""
    table = node_years.pivot_table(index="year", columns="node", values="talents", aggfunc="sum")
    return table.astype(float)


def pole_talents(run: RunData) -> pd.DataFrame:
    """Talents by year and pole: the ``talents.pole.*`` indicators, else summed node talents."""
    columns = {pole: indicator_series(run.indicators, f"talents.pole.{pole}") for pole in POLES}
    if all(not series.empty for series in columns.values()):
        return pd.DataFrame(columns).sort_index()
    poles = dict(zip(run.layout["node_id"], run.layout["pole"], strict=True))
    by_node = node_talents(run.node_years)
    return by_node.T.groupby(lambda node: poles.get(node, "other")).sum().T.sort_index()


def hebei_share(run: RunData) -> pd.Series:
    """Hebei's share of the region's talents by year (indicator, else from pole talents)."""
    share = indicator_series(run.indicators, "hebei_share")
    if not share.empty:
        return share
    poles = pole_talents(run)
    return (poles.get("hebei", 0.0) / poles.sum(axis=1)).rename("hebei_share")


# --- formatting ---------------------------------------------------------------------------------


def persons_unit(max_abs: float, lang: str) -> tuple[float, str]:
    """Divisor and unit label for a persons axis: millions in English, 万 (10,000) in Chinese."""
    if lang == "zh":
        return (1e4, "万人") if max_abs >= 1e4 else (1.0, "人")
    if max_abs >= 1e6:
        return 1e6, "million persons"
    if max_abs >= 1e4:
        return 1e3, "thousand persons"
    return 1.0, "persons"


def format_persons(value: float, lang: str) -> str:
    """Persons in words for titles and legends: ``1.2 million``, ``412 thousand``, ``41万人``."""
    divisor, unit = persons_unit(abs(value), lang)
    decimals = 1 if divisor == 1e6 else 0
    number = f"{value / divisor:,.{decimals}f}"
    if lang == "zh":
        return f"{number}{unit}"
    return f"{number} {unit.removesuffix('persons').strip()}".strip()


def _number_formatter(decimals: int | None = None) -> FuncFormatter:
    def fmt(value: float, _position: int | None = None) -> str:
        if decimals is not None:
            return f"{value:,.{decimals}f}"
        return f"{value:,.0f}" if abs(value) >= 100 or value == int(value) else f"{value:,.2g}"

    return FuncFormatter(fmt)


def _new_figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _style_axes(ax: Axes) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(True, color="0.9", linewidth=0.6)
    ax.set_axisbelow(True)


def _year_axis(ax: Axes) -> None:
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=8))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _pos: f"{value:.0f}"))


def _head(figure: Figure, ax: Axes | None, title: str, subtitle: str = "") -> None:
    """Title on the figure, subtitle as the first axes' left title (constrained layout keeps both)."""
    figure.suptitle(title, x=0.01, ha="left", fontsize=13)
    if subtitle and ax is not None:
        ax.set_title(subtitle, loc="left", fontsize=9, color="0.35")


def _spread(values: Sequence[float], gap: float) -> list[float]:
    """Move sorted label positions apart to at least ``gap``, keeping their mean order."""
    order = np.argsort(values)
    placed = np.asarray(values, dtype=float)[order].copy()
    for _ in range(50):
        moved = False
        for i in range(1, len(placed)):
            overlap = gap - (placed[i] - placed[i - 1])
            if overlap > 1e-12:
                placed[i - 1] -= overlap / 2
                placed[i] += overlap / 2
                moved = True
        if not moved:
            break
    result = np.empty_like(placed)
    result[order] = placed
    return result.tolist()


# --- charts -------------------------------------------------------------------------------------


def talents_by_pole_chart(poles: pd.DataFrame, lang: str) -> Figure:
    """Stacked area of talents by pole; ``poles`` has years as index and poles as columns."""
    check_lang(lang)
    columns = [pole for pole in POLES if pole in poles.columns] + [
        pole for pole in poles.columns if pole not in POLES
    ]
    years = poles.index.to_numpy(dtype=float)
    total = poles[columns].sum(axis=1)
    divisor, unit = persons_unit(float(total.max()), lang)
    decimals = 1 if divisor == 1e6 else 0
    figure = _new_figure(8.5, 4.8)
    ax = figure.add_subplot()
    values = [poles[pole].to_numpy(dtype=float) / divisor for pole in columns]
    ax.stackplot(
        years,
        values,
        labels=[pole_name(pole, lang) for pole in columns],
        colors=[POLE_COLOURS.get(pole, OTHER_COLOUR) for pole in columns],
        alpha=0.85,
        edgecolor="white",
        linewidth=0.5,
    )
    base = 0.0
    for pole, series in zip(columns, values, strict=True):
        ax.annotate(
            f"{pole_name(pole, lang)} {series[-1]:,.{decimals}f}",
            xy=(years[-1], base + series[-1] / 2),
            xytext=(5, 0),
            textcoords="offset points",
            va="center",
            fontsize=9,
            color=POLE_COLOURS.get(pole, OTHER_COLOUR),
        )
        base += series[-1]
    ax.set_xlim(years[0], years[-1])
    ax.set_ylim(0, base * 1.05 if base > 0 else 1)
    ax.set_ylabel(unit)
    ax.yaxis.set_major_formatter(_number_formatter())
    _year_axis(ax)
    _style_axes(ax)
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], labels[::-1], loc="upper left", frameon=False, fontsize=9)
    subtitle = label("region_total", lang).format(
        first=int(years[0]),
        last=int(years[-1]),
        start=f"{total.iloc[0] / divisor:,.{decimals}f}",
        end=f"{total.iloc[-1] / divisor:,.{decimals}f}",
        unit=unit,
    )
    _head(figure, ax, label("talents_by_pole", lang), subtitle)
    return figure


def talents_by_node_chart(talents: pd.DataFrame, layout: pd.DataFrame, lang: str) -> Figure:
    """Small multiples, one panel a node, each on its own scale with its change since the start.

    ``talents``: years as index, node ids as columns.
    """
    check_lang(lang)
    names = node_names(layout, lang)
    poles = dict(zip(layout["node_id"], layout["pole"], strict=True))
    order = [node for node in layout["node_id"] if node in talents.columns]
    order += [node for node in talents.columns if node not in order]
    divisor, unit = persons_unit(float(talents.max().max()), lang)
    ncols = 5
    nrows = max(1, math.ceil(len(order) / ncols))
    figure = _new_figure(12.5, 2.05 * nrows + 0.9)
    axes = figure.subplots(nrows, ncols, sharex=True, squeeze=False).ravel()
    years = talents.index.to_numpy(dtype=float)
    for ax, node in zip(axes, order, strict=False):
        values = talents[node].to_numpy(dtype=float)
        colour = POLE_COLOURS.get(poles.get(node, ""), OTHER_COLOUR)
        ax.plot(years, values / divisor, color=colour, linewidth=1.8)
        ax.fill_between(years, values / divisor, color=colour, alpha=0.08)
        # Since the first year with talents: Xiong'an exists only from 2017.
        present = np.flatnonzero(np.isfinite(values) & (values > 0))
        change_text = ""
        if present.size and np.isfinite(values[-1]):
            change = values[-1] / values[present[0]] - 1
            change_text = "  " + label("change", lang).format(change=change, first=int(years[present[0]]))
        ax.set_title(f"{names.get(node, node)}{change_text}", fontsize=9.5, loc="left")
        ax.yaxis.set_major_locator(MaxNLocator(nbins=4))
        ax.yaxis.set_major_formatter(_number_formatter(None if divisor == 1e6 else 0))
        ax.tick_params(labelsize=8)
        _year_axis(ax)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=4))
        _style_axes(ax)
    for ax in axes[len(order) :]:
        ax.set_axis_off()
    for ax in axes[max(len(order) - ncols, 0) : len(order)]:
        ax.xaxis.set_tick_params(labelbottom=True)  # last panel of its column
    handles = [
        Line2D([], [], color=POLE_COLOURS[pole], linewidth=2, label=pole_name(pole, lang)) for pole in POLES
    ]
    if len(order) < len(axes):
        axes[-1].legend(handles=handles, loc="center", frameon=False, fontsize=10)
    else:
        figure.legend(handles=handles, loc="outside lower center", ncols=3, frameon=False)
    figure.supylabel(unit, fontsize=10)
    figure.suptitle(label("talents_by_node", lang), x=0.01, ha="left", fontsize=13)
    return figure


def mark_milestones(ax: Axes, lang: str, values: pd.Series | None = None, *, percent: bool = False) -> None:
    """Dashed vertical lines at the plan's milestone years inside the x range, labelled on a top
    axis; with ``values``, also a dot and the value at each milestone year."""
    low, high = ax.get_xlim()
    years = [year for year in MILESTONE_YEARS if low <= year <= high]
    for year in years:
        ax.axvline(year, color="0.45", linestyle="--", linewidth=0.9, zorder=1)
        if values is not None and year in values.index and np.isfinite(values.loc[year]):
            value = float(values.loc[year])
            ax.plot([year], [value], "o", color="0.15", markersize=4, zorder=4)
            text = f"{value:.1%}" if percent else f"{value:,.3g}"
            ax.annotate(
                text,
                (year, value),
                xytext=(-4, 6),
                textcoords="offset points",
                ha="right",
                fontsize=8.5,
                color="0.15",
            )
    top = ax.secondary_xaxis("top")
    top.set_xticks(years, [f"{year} {MILESTONE_NAMES[year][lang]}" for year in years])
    top.tick_params(length=0, labelsize=8.5, colors="0.3")
    top.spines["top"].set_visible(False)


def line_chart(
    lines: pd.DataFrame,
    *,
    title: str,
    ylabel: str,
    subtitle: str = "",
    band: tuple[pd.DataFrame, pd.DataFrame] | None = None,
    colours: Mapping[str, str] | None = None,
    percent: bool = False,
    milestones: str | None = None,
) -> Figure:
    """Lines by year, one per column of ``lines``, with optional uncertainty bands.

    ``band`` is a (lower, upper) pair of frames shaped like ``lines`` (e.g. the 5th and 95th
    percentiles over replicates); columns missing from the band get none. ``percent`` formats
    the y axis as shares (values in [0, 1]). ``milestones`` is a language code: mark the plan's
    milestone years in that language.
    """
    figure = _new_figure(8.5, 4.6)
    ax = figure.add_subplot()
    years = lines.index.to_numpy(dtype=float)
    default_colours = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, column in enumerate(lines.columns):
        colour = (colours or {}).get(column, default_colours[i % len(default_colours)])
        if band is not None and column in band[0].columns and column in band[1].columns:
            lower = band[0][column].reindex(lines.index).to_numpy(dtype=float)
            upper = band[1][column].reindex(lines.index).to_numpy(dtype=float)
            ax.fill_between(years, lower, upper, color=colour, alpha=0.2, linewidth=0)
        ax.plot(years, lines[column].to_numpy(dtype=float), color=colour, linewidth=2, label=str(column))
    ax.set_xlim(years[0], years[-1])
    if percent:  # decimals=None: as many as the tick step needs
        ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=None))
    _year_axis(ax)
    _style_axes(ax)
    ax.set_ylabel(ylabel)
    if len(lines.columns) > 1:
        ax.legend(frameon=False, fontsize=9)
    if milestones is not None:
        single = lines.iloc[:, 0] if len(lines.columns) == 1 else None
        mark_milestones(ax, milestones, single, percent=percent)
    _head(figure, ax, title, subtitle)
    return figure


def hebei_share_chart(share: pd.Series, lang: str, band: tuple[pd.Series, pd.Series] | None = None) -> Figure:
    """Hebei's share of the region's talents (0-1 by year) with the plan's milestone years."""
    check_lang(lang)
    name = pole_name("hebei", lang)
    frame = share.astype(float).to_frame(name)
    frames = None
    if band is not None:
        frames = (band[0].astype(float).to_frame(name), band[1].astype(float).to_frame(name))
    return line_chart(
        frame,
        title=label("hebei_share", lang),
        subtitle=label("hebei_share_sub", lang),
        ylabel=label("share", lang),
        band=frames,
        colours={name: POLE_COLOURS["hebei"]},
        percent=True,
        milestones=lang,
    )


def _end_labelled_lines(
    ax: Axes, table: pd.DataFrame, names: Mapping[str, str], poles: Mapping[str, str]
) -> None:
    """One line a node coloured by pole, names at the right end spread apart (log y axis)."""
    years = table.index.to_numpy(dtype=float)
    ends: dict[str, float] = {}
    for node in table.columns:
        values = table[node].to_numpy(dtype=float)
        ax.plot(
            years,
            values,
            color=POLE_COLOURS.get(poles.get(node, ""), OTHER_COLOUR),
            linewidth=1.9 if poles.get(node) != "hebei" else 1.2,
            alpha=0.85,
        )
        finite = values[np.isfinite(values) & (values > 0)]
        if finite.size:
            ends[node] = float(finite[-1])
    ax.set_yscale("log")
    if not ends:
        return
    logs = np.log10(list(ends.values()))
    low, high = np.log10(ax.get_ylim())
    span = max(high - low, 1e-9)
    positions = _spread(list(logs), gap=span * 0.042)
    for (node, value), position in zip(ends.items(), positions, strict=True):
        ax.annotate(
            names.get(node, node),
            xy=(years[-1], value),
            xytext=(years[-1] + (years[-1] - years[0]) * 0.06, 10**position),
            textcoords="data",
            va="center",
            fontsize=7.5,
            color=POLE_COLOURS.get(poles.get(node, ""), OTHER_COLOUR),
            arrowprops={"arrowstyle": "-", "color": "0.7", "linewidth": 0.5, "shrinkA": 0, "shrinkB": 0},
            annotation_clip=False,
        )
    ax.set_xlim(years[0], years[-1])


def price_wage_chart(node_years: pd.DataFrame, layout: pd.DataFrame, lang: str) -> Figure:
    """Two panels: house price (CNY/m²) and mean talent wage (CNY/year) by node and year."""
    check_lang(lang)
    names = node_names(layout, lang)
    poles = dict(zip(layout["node_id"], layout["pole"], strict=True))
    if lang == "zh":
        price_unit, price_divisor = "万元/平方米", 1e4
        wage_unit, wage_divisor = "万元/年", 1e4
    else:
        price_unit, price_divisor = "thousand CNY per m²", 1e3
        wage_unit, wage_divisor = "thousand CNY per year", 1e3
    figure = _new_figure(13, 6.2)
    axes = figure.subplots(1, 2)
    panels = (
        ("price_cny_m2", price_divisor, label("price_panel", lang), price_unit),
        ("wage_cny_year", wage_divisor, label("wage_panel", lang), wage_unit),
    )
    for ax, (column, divisor, title, unit) in zip(axes, panels, strict=True):
        table = (
            node_years.pivot_table(index="year", columns="node", values=column, aggfunc="mean").astype(float)
            / divisor
        )
        order = [node for node in layout["node_id"] if node in table.columns]
        table = table[order + [node for node in table.columns if node not in order]]
        _end_labelled_lines(ax, table, names, poles)
        ax.set_title(title, loc="left", fontsize=11)
        ax.set_ylabel(f"{unit} ({label('log_scale', lang)})", fontsize=9)
        # Round values (1, 2, 3, 5 x 10^k) labelled: a log axis spanning less than a decade
        # would otherwise show one or two numbers.
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 3.0, 5.0)))
        ax.yaxis.set_major_formatter(_number_formatter())
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.tick_params(labelsize=8, which="both")
        _year_axis(ax)
        _style_axes(ax)
    handles = [
        Line2D([], [], color=POLE_COLOURS[pole], linewidth=2, label=pole_name(pole, lang)) for pole in POLES
    ]
    figure.legend(handles=handles, loc="outside lower center", ncols=3, frameon=False)
    figure.suptitle(label("price_wage", lang), x=0.01, ha="left", fontsize=13)
    return figure


def drivers_chart(drivers: pd.DataFrame, lang: str) -> Figure:
    """Horizontal bars: net persons each province gained per utility term, largest terms on top."""
    check_lang(lang)
    table = drivers.pivot_table(
        index="term", columns="province", values="persons", aggfunc="sum", fill_value=0
    ).astype(float)
    provinces = [p for p in POLES if p in table.columns] + [p for p in table.columns if p not in POLES]
    table = table[provinces]
    order = table.abs().sum(axis=1).sort_values(kind="stable").index  # smallest at the bottom
    table = table.loc[order]
    divisor, unit = persons_unit(float(table.abs().max().max()) or 1.0, lang)
    figure = _new_figure(8.5, 1.6 + 0.55 * len(table))
    ax = figure.add_subplot()
    height = 0.8 / max(len(provinces), 1)
    positions = np.arange(len(table), dtype=float)
    for i, province in enumerate(provinces):
        offset = (len(provinces) - 1 - i - (len(provinces) - 1) / 2) * height
        ax.barh(
            positions + offset,
            table[province].to_numpy() / divisor,
            height=height * 0.95,
            color=POLE_COLOURS.get(province, OTHER_COLOUR),
            label=pole_name(province, lang),
        )
    ax.axvline(0, color="0.3", linewidth=0.8)
    ax.set_yticks(positions, [term_name(str(term), lang) for term in table.index], fontsize=9.5)
    ax.xaxis.set_major_formatter(_number_formatter())
    ax.set_xlabel(unit)
    _style_axes(ax)
    ax.grid(False, axis="y")
    ax.legend(loc="best", frameon=False, fontsize=9)
    _head(figure, ax, label("drivers", lang), label("drivers_sub", lang))
    return figure


# --- writing ------------------------------------------------------------------------------------


def render_charts(run: RunData, lang: str) -> dict[str, Figure]:
    """Every chart of ``run`` in ``lang``, by name (see ``CHART_NAMES``); drivers only if any."""
    check_lang(lang)
    register_cjk_font()
    years = run.years
    if not years:
        raise ScenarioError(f"{run.run_dir / 'nodes.parquet'}: no rows, nothing to draw")
    talents = node_talents(run.node_years)
    figures = {
        "talents_by_pole": talents_by_pole_chart(pole_talents(run), lang),
        "talents_by_node": talents_by_node_chart(talents, run.layout, lang),
        "hebei_share": hebei_share_chart(hebei_share(run), lang),
        **{f"{kind}_map": figure for kind, figure in node_maps(run.node_years, run.flows, lang).items()},
        "price_wage": price_wage_chart(run.node_years, run.layout, lang),
    }
    if not run.drivers.empty:
        figures["drivers"] = drivers_chart(run.drivers, lang)
    return figures


def figure_bytes(figure: Figure) -> dict[str, bytes]:
    """The figure as PNG (``DPI``) and SVG with its glyphs as paths (``reports.fonts.svg_bytes``).

    The layout is solved once, when the PNG is drawn, and kept for the SVG (solving it again is
    a third of a report's drawing time and gives the same positions)."""
    png = io.BytesIO()
    figure.savefig(png, format="png", dpi=DPI, metadata={"Software": None})
    figure.set_layout_engine("none")
    return {"png": png.getvalue(), "svg": svg_bytes(figure)}


def chart_path(out_dir: Path, name: str, lang: str, extension: str) -> Path:
    return Path(out_dir) / f"{name}.{lang}.{extension}"


def write_charts(run_dir: Path, out_dir: Path, lang: str, *, run: RunData | None = None) -> list[Path]:
    """Draw every chart of the run in ``run_dir`` and save each as PNG and SVG in ``out_dir``.

    All charts are drawn before any file is written, so a failing chart leaves ``out_dir`` as it
    was; each file is then replaced atomically. Chart files of this language that the run no
    longer has (e.g. drivers) are removed. Returns the paths written, PNG before SVG per chart.
    """
    check_lang(lang)
    run = read_run(run_dir) if run is None else run
    rendered = {name: figure_bytes(figure) for name, figure in render_charts(run, lang).items()}
    paths: list[Path] = []
    for name, files in rendered.items():
        for extension, data in files.items():
            paths.append(write_bytes(chart_path(out_dir, name, lang, extension), data))
    for name in CHART_NAMES:
        if name not in rendered:
            for extension in ("png", "svg"):
                chart_path(out_dir, name, lang, extension).unlink(missing_ok=True)
    return paths
