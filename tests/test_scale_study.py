"""The scale study: its table's shape and rules on a tiny case, and refused arguments."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.scale_study import compare_scales, main
from model.scenario import FORMAT_VERSION
from tests.conftest import copy_baseline


@pytest.fixture
def tiny_scenario(tmp_path: Path) -> Path:
    """The baseline to 2020: one milestone year run, 2025 and 2030 skipped."""
    copy_baseline(tmp_path)
    path = tmp_path / "tiny.yaml"
    path.write_text(f"format: {FORMAT_VERSION}\nname: tiny\nextends: baseline\nend_year: 2020\n")
    return path


def test_study_writes_one_row_per_indicator_year_and_scale(
    tiny_scenario: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "study"
    argv = ["--scenario", str(tiny_scenario), "--scales", "4000", "2000", "--seeds", "2", "--workers", "0"]
    assert main([*argv, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "skipped: [2025, 2030]" in printed
    assert "indicator-years differ beyond replicate noise" in printed

    table = pd.read_csv(out / "scale_study.csv")
    assert set(table["year"]) == {2020}
    assert set(table["scale"]) == {2000, 4000}
    per_pair = table.groupby(["indicator", "year"])["scale"].agg(list)
    assert all(sorted(scales) == [2000, 4000] for scales in per_pair)
    assert len(table) == 2 * table["indicator"].nunique()
    assert {"hebei_share", "bj_hb_density_gap", "foreign_share", "talents.province.hebei"} <= set(
        table["indicator"]
    )
    assert (table["seeds"] == 2).all()

    finest = table[table["scale"] == 2000]
    assert (finest["diff"] == 0).all() and (finest["rel_diff"].fillna(0) == 0).all()
    assert finest["p_value"].isna().all() and not finest["differs"].any()
    p = table["p_value"].dropna()
    assert len(p) > 0 and p.between(0, 1).all()
    summary = (out / "summary.md").read_text()
    assert "indicator-years differ beyond replicate noise" in summary and "2025, 2030" in summary


def test_rules_known_answers() -> None:
    """A clear shift is flagged, equal samples are not, and fixed values get no p-value."""
    rows = []
    for scale, shift in ((1, 0.0), (100, 10.0)):
        for replicate, noise in enumerate((-1.0, 0.0, 1.0)):
            rows.append(("moved", scale, replicate, 50 + shift + noise))
            rows.append(("same", scale, replicate, 50 + noise))
            rows.append(("fixed", scale, replicate, 7.0 + (scale == 100)))
    values = pd.DataFrame(rows, columns=["indicator", "scale", "replicate", "value"]).assign(year=2020)
    table = compare_scales(values).set_index(["indicator", "scale"])
    moved, same, fixed = table.loc[("moved", 100)], table.loc[("same", 100)], table.loc[("fixed", 100)]
    assert moved["diff"] == pytest.approx(10) and moved["rel_diff"] == pytest.approx(0.2)
    assert moved["p_value"] < 0.05 and moved["differs"]
    assert moved["q_value"] == pytest.approx(2 * moved["p_value"])  # Benjamini-Hochberg, 2 tests
    assert same["diff"] == 0 and same["p_value"] == pytest.approx(1) and not same["differs"]
    assert np.isnan(fixed["p_value"]) and fixed["diff"] == 1 and fixed["differs"]


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--scales", "0", "1"], "--scales: value 0"),
        (["--scales", "100"], "--scales: value 100"),
        (["--seeds", "1"], "--seeds: value 1"),
        (["--workers", "-1"], "--workers: value -1"),
        (["--scenario", "no/such.yaml"], "--scenario: value 'no/such.yaml'"),
    ],
)
def test_bad_arguments_are_refused_by_name(
    argv: list[str], named: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "study"
    assert main([*argv, "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert named in error and "Traceback" not in error
    assert not out.exists()


def test_end_year_before_every_milestone_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy_baseline(tmp_path)
    path = tmp_path / "short.yaml"
    path.write_text(f"format: {FORMAT_VERSION}\nname: short\nextends: baseline\nend_year: 2019\n")
    assert main(["--scenario", str(path), "--out", str(tmp_path / "study")]) == 2
    assert "end_year: value 2019" in capsys.readouterr().err
