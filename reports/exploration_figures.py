"""Charts of a sweep store: the outputs over the design, sensitivity indices, PRIM boxes.

The ``*_chart`` functions are pure (tables in, a ``Figure`` out); the ``*_files`` functions read
what the analysis wrote into a store (``summary``: results.parquet; ``sensitivity``:
sensitivity.csv; ``discovery``: the ``Discovery`` just found) and write the chart beside it as
PNG and SVG. The commands call them after the analysis (app/cli.py).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.colors import ListedColormap, Normalize
from matplotlib.figure import Figure

from experiments import files
from experiments.sweeps.design import Experiment
from experiments.sweeps.discovery import Discovery
from reports.charts import figure_bytes


def summary_files(store: Path, experiment: Experiment) -> None:
    """``summary.png``/``.svg`` in the store, from its results (nothing when there are none)."""
    path = Path(store) / "results.parquet"
    if not path.is_file():
        return
    with open(path, "rb") as handle:
        results = pd.read_parquet(handle)
    if results.empty:
        return
    for extension, data in figure_bytes(summary_chart(results, experiment)).items():
        files.write_bytes(Path(store) / f"summary.{extension}", data)


def sensitivity_files(store: Path, table: pd.DataFrame) -> None:
    """``sensitivity.png``/``.svg`` in the store, from its indices (nothing when there are none)."""
    if table.empty:
        return
    for extension, data in figure_bytes(sensitivity_chart(table)).items():
        files.write_bytes(Path(store) / f"sensitivity.{extension}", data)


def discovery_files(store: Path, found: Discovery) -> None:
    """``discovery.png``/``.svg`` in the store."""
    for extension, data in figure_bytes(discovery_chart(found)).items():
        files.write_bytes(Path(store) / f"discovery.{extension}", data)


def summary_chart(results: pd.DataFrame, experiment: Experiment) -> Figure:
    """One panel an output: every point's replicate mean by year (coloured by the first input)
    and the 5-95 % band over all runs; with a single year, outputs against the first input."""
    outputs = list(experiment.indicators)
    columns = min(3, len(outputs))
    rows = math.ceil(len(outputs) / columns)
    figure = Figure(figsize=(4.2 * columns, 3.2 * rows + 0.6), layout="constrained")
    FigureCanvasAgg(figure)
    first = experiment.inputs[0].path
    span = results[first].agg(["min", "max"])
    colour_of = colormaps["viridis"]
    years = sorted(results["year"].unique())
    for i, name in enumerate(outputs):
        ax = figure.add_subplot(rows, columns, i + 1)
        if len(years) > 1:
            band = results.groupby("year")[name].quantile([0.05, 0.5, 0.95]).unstack()
            ax.fill_between(
                band.index,
                band[0.05],
                band[0.95],
                color="#999999",
                alpha=0.25,
                linewidth=0,
                label="5-95 % of runs",
            )
            means = results.groupby(["point", "year"])[name].mean().unstack("year")
            point_first = results.groupby("point")[first].first()
            for point, series in means.iterrows():
                scaled = (point_first[point] - span["min"]) / ((span["max"] - span["min"]) or 1.0)
                ax.plot(
                    series.index, series.to_numpy(float), color=colour_of(scaled), linewidth=0.8, alpha=0.8
                )
            ax.plot(band.index, band[0.5], color="black", linewidth=1.5, label="median")
            ax.set_xlabel("year")
        else:
            ax.scatter(results[first], results[name], s=12, c=results[first], cmap="viridis")
            ax.set_xlabel(first)
        ax.set_title(name, fontsize=10)
        ax.grid(alpha=0.3)
        if i == 0 and len(years) > 1:
            ax.legend(frameon=False, fontsize=8)
    if len(years) > 1:
        scale = ScalarMappable(norm=Normalize(span["min"], span["max"]), cmap=colour_of)
        figure.colorbar(
            scale, ax=figure.axes, label=first.removeprefix("parameters.").removeprefix("levers."), shrink=0.9
        )
    figure.suptitle(
        f"{experiment.name}: {results['run'].nunique()} runs; a line a point (mean of its "
        "replicates), coloured by its first input",
        fontsize=10,
    )
    return figure


def sensitivity_chart(table: pd.DataFrame) -> Figure:
    """For each output in its last year: Sobol' S1 and ST bars with 95 % intervals, or Morris
    mu* (with interval) against sigma."""
    last = table[table["year"] == table.groupby("indicator")["year"].transform("max")]
    outputs = list(dict.fromkeys(last["indicator"]))
    columns = min(3, len(outputs))
    rows = math.ceil(len(outputs) / columns)
    method = str(table["method"].iloc[0])
    figure = Figure(figsize=(4.6 * columns, 0.5 + 3.4 * rows), layout="constrained")
    FigureCanvasAgg(figure)
    for i, name in enumerate(outputs):
        ax = figure.add_subplot(rows, columns, i + 1)
        frame = last[last["indicator"] == name]
        year = int(frame["year"].iloc[0])
        if method == "sobol":
            s1 = frame[frame["index"] == "S1"].set_index("input")
            st = frame[frame["index"] == "ST"].set_index("input").reindex(s1.index)
            positions = np.arange(len(s1))
            ax.barh(
                positions - 0.2, s1["value"], 0.4, xerr=s1["conf"], label="first order S1", color="#0072B2"
            )
            ax.barh(
                positions + 0.2, st["value"], 0.4, xerr=st["conf"], label="total order ST", color="#D55E00"
            )
            ax.set_yticks(positions, [_short(n) for n in s1.index], fontsize=8)
            ax.invert_yaxis()
            ax.set_xlabel("index (95 % interval)")
        else:
            wide = frame.pivot(index="input", columns="index", values="value")
            conf = frame[frame["index"] == "mu_star"].set_index("input")["conf"].reindex(wide.index)
            ax.errorbar(wide["mu_star"], wide["sigma"], xerr=conf, fmt="o", color="#0072B2")
            for item, point in wide.iterrows():
                ax.annotate(
                    _short(str(item)),
                    (point["mu_star"], point["sigma"]),
                    fontsize=7,
                    xytext=(3, 3),
                    textcoords="offset points",
                )
            ax.set_xlabel("mu* (mean |elementary effect|)")
            ax.set_ylabel("sigma")
        ax.set_title(f"{name}, {year}" if year else name, fontsize=10)
        ax.grid(alpha=0.3)
        if i == 0 and method == "sobol":
            ax.legend(frameon=False, fontsize=8)
    figure.suptitle("Sobol' indices" if method == "sobol" else "Morris screening", fontsize=11)
    return figure


def _short(path: str) -> str:
    return path.removeprefix("parameters.").removeprefix("levers.")


def discovery_chart(found: Discovery) -> Figure:
    """Coverage against density along each box's peeling trajectory (colour: inputs
    restricted), the reported box marked."""
    figure = Figure(figsize=(6.5, 4.6), layout="constrained")
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    most = max(int(found.trajectory["res_dim"].max()), 1)
    colours = ListedColormap(colormaps["viridis"](np.linspace(0, 1, most + 1)))
    points = ax.scatter(
        found.trajectory["coverage"],
        found.trajectory["density"],
        c=found.trajectory["res_dim"],
        cmap=colours,
        vmin=-0.5,
        vmax=most + 0.5,
        s=18,
    )
    figure.colorbar(points, ax=ax, label="inputs restricted", ticks=range(most + 1))
    ax.set_xlim(0, 1.05)
    ax.set_ylim(0, 1.05)
    for number, box in found.boxes.groupby("box"):
        first = box.iloc[0]
        ax.scatter([first["coverage"]], [first["density"]], s=120, facecolors="none", edgecolors="#D55E00")
        ax.annotate(
            f"box {number}",
            (first["coverage"], first["density"]),
            xytext=(6, -10),
            textcoords="offset points",
            fontsize=8,
        )
    ax.set_xlabel("coverage (share of runs of interest in the box)")
    ax.set_ylabel("density (share of the box's runs of interest)")
    ax.set_title(f"PRIM: {found.target} ({found.of_interest} of {found.cases} runs)", fontsize=10)
    ax.grid(alpha=0.3)
    return figure
