"""Charts of validation and calibration: how far the simulated numbers are from the observed.

``error_chart`` is pure (a table in, a ``Figure`` out); ``validation_files`` and
``calibration_files`` draw it for a finished validation or calibration into the folder its
command is writing (``add_files`` of ``experiments.calibration``), as PNG and SVG.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from experiments import files
from experiments.calibration.calibrate import Calibration
from experiments.calibration.validate import Validation
from experiments.ensemble import interval_kind
from experiments.replicates import P05, P95
from reports.charts import figure_bytes


def validation_files(folder: Path, result: Validation) -> None:
    """``validation.png`` and ``validation.svg``: each compared row's relative error."""
    scenario = result.scenario
    figure = error_chart(
        _chart_rows(result.table, "simulated"),
        title="Simulated against observed",
        subtitle=f"{scenario.name} from {scenario.start_year}, scale {scenario.scale}; {result.summary.line()}"
        f"\nbars: {_interval_kind(result)}",
    )
    for extension, data in figure_bytes(figure).items():
        files.write_bytes(folder / f"validation.{extension}", data)


def _interval_kind(result: Validation) -> str:
    """What the bars span, naming the ensemble by its file name (a path would not fit)."""
    record = result.ensemble_record
    short = None if record is None else {**record, "file": Path(str(record["file"])).name}
    return interval_kind(len(result.seeds), short)


def calibration_files(folder: Path, result: Calibration) -> None:
    """``fit.png`` and ``fit.svg``: each target's relative error at the start values and fitted."""
    report = result.report
    observed = report["observed"]
    rows = pd.DataFrame(
        {
            "label": report["unit"] + "  " + report["indicator"] + "  " + report["year"].astype(str),
            "start": report["start_relative_error"],
            "start_low": report[f"start_{P05}"] / observed - 1,
            "start_high": report[f"start_{P95}"] / observed - 1,
            "fitted": report["fit_relative_error"],
            "fitted_low": report[f"fit_{P05}"] / observed - 1,
            "fitted_high": report[f"fit_{P95}"] / observed - 1,
        }
    )
    figure = error_chart(
        rows,
        series=("start", "fitted"),
        title=f"Calibration {result.config.name}: targets",
        subtitle=f"loss {result.start_loss:.4f} at the start values, {result.fit_loss:.4f} fitted "
        f"({len(result.report_seeds)} replicates, scale {result.problem.scenario.scale})",
    )
    for extension, data in figure_bytes(figure).items():
        files.write_bytes(folder / f"fit.{extension}", data)


def _chart_rows(table: pd.DataFrame, series: str) -> pd.DataFrame:
    compared = table[table["result"] == "compared"].copy()
    obs = compared["observed"]
    return pd.DataFrame(
        {
            "label": compared["unit"] + "  " + compared["indicator"] + "  " + compared["year"].astype(str),
            series: compared["relative_error"],
            f"{series}_low": compared[f"simulated_{P05}"] / obs - 1,
            f"{series}_high": compared[f"simulated_{P95}"] / obs - 1,
            "naive": compared["naive_relative_error"],
        }
    ).reset_index(drop=True)


def error_chart(
    rows: pd.DataFrame, *, title: str, subtitle: str = "", series: Sequence[str] = ("simulated",)
) -> Figure:
    """Relative error (simulated / observed - 1) of each row, one line per row.

    ``rows`` has a ``label`` column and, per name in ``series``, the error and optionally
    ``<name>_low`` / ``<name>_high`` (drawn as an interval); a ``naive`` column, when present,
    is drawn as open circles. Pure: no file is read or written.
    """
    height = 1.6 + 0.24 * max(len(rows), 1)
    figure = Figure(figsize=(8.5, height), layout="constrained")
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    y = np.arange(len(rows))[::-1]
    colours = ("#0072B2", "#D55E00", "#009E73")
    offsets = np.linspace(-0.15, 0.15, len(series)) if len(series) > 1 else [0.0]
    for name, colour, offset in zip(series, colours, offsets):
        if f"{name}_low" in rows:
            ax.hlines(
                y + offset,
                100 * rows[f"{name}_low"],
                100 * rows[f"{name}_high"],
                color=colour,
                linewidth=2,
                alpha=0.35,
            )
        ax.plot(100 * rows[name], y + offset, "o", color=colour, markersize=4.5, label=name)
    if "naive" in rows and rows["naive"].notna().any():
        ax.plot(
            100 * rows["naive"],
            y,
            "o",
            markerfacecolor="none",
            markeredgecolor="0.4",
            markersize=6,
            label="naive (last value carried forward)",
        )
    ax.axvline(0, color="0.2", linewidth=0.8)
    ax.set_yticks(y, rows["label"], fontsize=7.5)
    ax.set_ylim(-0.8, len(rows) - 0.2)
    ax.set_xlabel("relative error, % (simulated / observed - 1)")
    ax.grid(True, axis="x", color="0.9", linewidth=0.6)
    ax.spines[["top", "right"]].set_visible(False)
    figure.legend(frameon=False, fontsize=8, loc="outside lower center", ncols=3)
    figure.suptitle(title, x=0.01, ha="left", fontsize=12)
    if subtitle:
        ax.set_title(subtitle, loc="left", fontsize=8, color="0.35")
    return figure
