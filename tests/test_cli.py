"""The ``jjj-talent`` command end to end (app/cli.py, experiments/run.py), in process
on a small scenario written to a temporary folder."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from experiments import run as run_module
from model.levers import LEVERS
from model.parameters import PARAMETERS
from model.scenario import load_scenario, validate
from model.simulation import TalentModel
from tests.conftest import NODE_COLUMNS, Invocation, copy_baseline, invoke

CHILD = "name: small\nextends: baseline\nscale: 5000\nend_year: 2017\n"
DATA_FILES = [
    "stocks.parquet",
    "flows.parquet",
    "nodes.parquet",
    "indicators.csv",
    "drivers.csv",
    "lever_spending.csv",
    "parameters.csv",
    "provenance.csv",
    "notes.json",
    "scenario.json",
    "manifest.json",
]
COLUMNS = {
    "stocks.parquet": ["year", "node", "group", "is_high_end", "is_foreign", "status", "persons"],
    "flows.parquet": ["year", "origin", "destination", "group", "persons"],
    "nodes.parquet": NODE_COLUMNS,
    "indicators.csv": ["year", "indicator", "value"],
    "lever_spending.csv": ["year", "lever", "node", "cny"],
    "drivers.csv": ["term", "province", "persons"],
}
ENTRY_POINT = Path(sys.executable).parent / "jjj-talent"  # installed by `make test`


def scenario_folder(folder: Path) -> Path:
    """A copy of the baseline and a small child of it; returns the child's path."""
    folder.mkdir(parents=True, exist_ok=True)
    copy_baseline(folder)
    child = folder / "small.yaml"
    child.write_text(CHILD, encoding="utf-8")
    return child


def leftovers(folder: Path) -> list[str]:
    """Temporary or old folders and files the atomic writes may leave behind."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") or p.name.endswith(".tmp"))


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Invocation]:
    """One run without the report: (scenario file, output folder, what the command said)."""
    child = scenario_folder(tmp_path_factory.mktemp("scenarios"))
    out = tmp_path_factory.mktemp("outputs") / "small"
    return child, out, invoke("run", str(child), "--out", str(out), "--no-report", "--seed", "7")


# --- a good run ---------------------------------------------------------------------------


def test_run_succeeds_and_says_where(finished: tuple[Path, Path, Invocation]) -> None:
    _, out, result = finished
    assert result.status == 0, result.err
    assert f"wrote {out}/" in result.out
    assert "report:" not in result.out
    assert "2017/2017" in result.err  # progress goes to stderr


def test_every_documented_file_is_written(finished: tuple[Path, Path, Invocation]) -> None:
    _, out, _ = finished
    missing = [name for name in DATA_FILES if not (out / name).is_file()]
    assert missing == []
    assert not (out / "report.html").exists()
    assert leftovers(out) == [] and leftovers(out.parent) == []


def test_manifest_records_the_run(finished: tuple[Path, Path, Invocation]) -> None:
    child, out, _ = finished
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["scenario"] == "small"
    assert manifest["scenario_sha256"] == load_scenario(child).sha256()
    assert manifest["seed"] == 7
    assert manifest["scale"] == 5000
    assert (manifest["start_year"], manifest["end_year"]) == (2015, 2017)
    assert manifest["agent_rows"] > 0
    assert manifest["persons"] > manifest["agent_rows"]
    assert manifest["versions"]["mesa"] == "3.3.1"
    for package in ("python", "numpy", "pandas", "pydantic"):
        assert manifest["versions"][package], package


@pytest.mark.parametrize("name", sorted(COLUMNS))
def test_tables_have_the_documented_columns(finished: tuple[Path, Path, Invocation], name: str) -> None:
    _, out, _ = finished
    path = out / name
    table = pd.read_parquet(path) if name.endswith(".parquet") else pd.read_csv(path)
    assert list(table.columns) == COLUMNS[name]


def test_written_tables_are_the_models(finished: tuple[Path, Path, Invocation]) -> None:
    child, out, _ = finished
    model = TalentModel(load_scenario(child), seed=7)
    while model.running:
        model.step()
    tables = model.tables()
    for name in ("stocks", "flows", "nodes"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(out / f"{name}.parquet"), tables[name], check_dtype=False, obj=name
        )
    nodes = pd.read_parquet(out / "nodes.parquet")
    assert sorted(nodes["year"].unique()) == [2015, 2016, 2017]


def test_what_the_run_used_is_recorded(finished: tuple[Path, Path, Invocation]) -> None:
    child, out, _ = finished
    scenario = json.loads((out / "scenario.json").read_text(encoding="utf-8"))
    assert validate(scenario, {}, source="scenario.json").sha256() == load_scenario(child).sha256()
    parameters = pd.read_csv(out / "parameters.csv")
    assert set(parameters["name"]) == set(PARAMETERS)
    fitted = load_scenario(child.parent / "calibrated-2015.yaml").parameter_overrides()
    values = parameters.set_index("name")["value"]
    defaults = parameters.set_index("name")["default"]
    for name in PARAMETERS:  # the fitted layer's values (baseline extends it), the rest defaults
        assert values[name] == pytest.approx(fitted.get(name, defaults[name])), name
    origin = parameters.set_index("name")["origin"]  # this copy of the layer has no record folder
    assert set(origin[origin != "default"].index) == {n for n in fitted if fitted[n] != defaults[n]}
    assert set(origin) == {"default", "scenario"}
    assert len(pd.read_csv(out / "provenance.csv")) > 0
    assert json.loads((out / "notes.json").read_text(encoding="utf-8")) == []
    assert pd.read_csv(out / "lever_spending.csv").empty


# --- refusals -----------------------------------------------------------------------------


@pytest.fixture
def existing_output(tmp_path: Path) -> Path:
    out = tmp_path / "outputs" / "small"
    out.mkdir(parents=True)
    (out / "marker.txt").write_text("previous results", encoding="utf-8")
    return out


def assert_untouched(out: Path) -> None:
    assert sorted(p.name for p in out.iterdir()) == ["marker.txt"]
    assert (out / "marker.txt").read_text(encoding="utf-8") == "previous results"
    assert leftovers(out.parent) == []


def test_a_bad_scenario_exits_2_and_leaves_outputs_alone(tmp_path: Path, existing_output: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nscale: 5000\ncolour: red\n", encoding="utf-8")
    result = invoke("run", str(bad), "--out", str(existing_output), "--no-report")
    assert result.status == 2
    assert result.out == ""
    assert result.err.startswith("jjj-talent: error:")
    assert "bad.yaml:3:" in result.err and "colour" in result.err and "allowed:" in result.err
    assert_untouched(existing_output)


@pytest.mark.parametrize(
    ("option", "value", "key"),
    [
        ("--scale", "0", "scale"),
        ("--end", "2035", "end_year"),
        ("--start", "2012", "start_year"),
        ("--seed", "-1", "--seed"),
    ],
)
def test_bad_command_line_values_are_refused_by_name(
    tmp_path: Path, existing_output: Path, option: str, value: str, key: str
) -> None:
    child = scenario_folder(tmp_path / "scenarios")
    result = invoke("run", str(child), option, value, "--out", str(existing_output), "--no-report")
    assert result.status == 2
    assert key in result.err and value in result.err
    assert "command line" in result.err
    assert_untouched(existing_output)


def test_a_missing_scenario_file_is_refused(tmp_path: Path) -> None:
    result = invoke("run", str(tmp_path / "nowhere.yaml"), "--out", str(tmp_path / "out"))
    assert result.status == 2
    assert "nowhere.yaml" in result.err
    assert not (tmp_path / "out").exists()


def test_a_failure_while_writing_keeps_the_previous_results(
    tmp_path: Path, existing_output: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    child = scenario_folder(tmp_path / "scenarios")

    def write_some_then_fail(folder: Path, *args: object) -> None:
        (folder / "stocks.parquet").write_bytes(b"half")
        raise RuntimeError("disk full")

    monkeypatch.setattr(run_module, "write_tables", write_some_then_fail)
    with pytest.raises(RuntimeError, match="disk full"):
        invoke("run", str(child), "--out", str(existing_output), "--no-report", "--end", "2016")
    assert_untouched(existing_output)


def test_a_new_run_replaces_the_folder_whole(tmp_path: Path, existing_output: Path) -> None:
    child = scenario_folder(tmp_path / "scenarios")
    result = invoke("run", str(child), "--out", str(existing_output), "--no-report", "--end", "2016")
    assert result.status == 0, result.err
    assert not (existing_output / "marker.txt").exists()
    assert all((existing_output / name).is_file() for name in DATA_FILES)
    assert json.loads((existing_output / "manifest.json").read_text())["end_year"] == 2016
    assert leftovers(existing_output.parent) == []


# --- other commands -----------------------------------------------------------------------


def test_parameters_command_lists_every_parameter() -> None:
    result = invoke("parameters")
    assert result.status == 0
    listed = {line.split()[0] for line in result.out.splitlines() if line and not line.startswith(" ")}
    assert listed == set(PARAMETERS)


def test_levers_command_lists_every_lever() -> None:
    result = invoke("levers")
    assert result.status == 0
    listed = {line.split()[0] for line in result.out.splitlines() if line and not line.startswith(" ")}
    assert listed == set(LEVERS)


def report_module_ready() -> bool:
    try:
        return hasattr(importlib.import_module("reports.run_report"), "write_report")
    except Exception:  # noqa: BLE001 - any import failure means "not ready"
        return False


@pytest.mark.skipif(not report_module_ready(), reason="reports/run_report.py is missing or does not import")
def test_run_with_the_report(tmp_path: Path) -> None:
    child = scenario_folder(tmp_path / "scenarios")
    out = tmp_path / "outputs" / "small"
    result = invoke("run", str(child), "--out", str(out), "--end", "2016")
    assert result.status == 0, result.err
    assert f"report: {out / 'report.html'}" in result.out
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.lstrip().lower().startswith("<!doctype html")
    assert "small" in page
    assert all((out / name).is_file() for name in DATA_FILES)
    assert leftovers(out.parent) == []


@pytest.mark.skipif(not ENTRY_POINT.exists(), reason=f"{ENTRY_POINT} is not installed")
def test_installed_console_entry_point(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nscale: 0\n", encoding="utf-8")
    refused = subprocess.run(
        [str(ENTRY_POINT), "run", str(bad), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 2
    assert "scale" in refused.stderr and "bad.yaml" in refused.stderr
    assert not (tmp_path / "out").exists()
    levers = subprocess.run([str(ENTRY_POINT), "levers"], capture_output=True, text=True, timeout=120)
    assert levers.returncode == 0 and "graduate_subsidy" in levers.stdout
