"""Parameter ensembles (experiments/ensemble.py) in run, compare and validate: each replicate's
draw is reproducible from the root seed, the scenarios of a comparison share it, a drawn
parameter really changes the run, the record says what ran and which kind of interval is shown,
and every bad ensemble file is refused with its message, exit status 2 and nothing written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.compare import plan_comparison
from experiments.ensemble import choose_ensemble, interval_kind, load_ensemble
from model.errors import ScenarioError
from model.scenario import load_scenario
from model.simulation import simulate
from reports.run_report import _parameter_origin
from tests.conftest import SCENARIOS, SMALL, TEST_SCENARIOS, assert_refused, copy_baseline, invoke

HERE = Path(__file__).resolve().parent
ENSEMBLE = HERE / "ensembles" / "small.csv"
"""Three draws of inflow_rate and wage_trend_share, weights 0.5, 0.3, 0.2."""
BAD_ENSEMBLES = HERE / "bad_ensembles"
BASELINE = SCENARIOS / "baseline.yaml"
SUBSIDY = TEST_SCENARIOS / "strong-subsidy.yaml"
SHORT = ("--scale", "2000", "--end", "2017")

BAD = {
    "binary": ["binary.csv:2:", "binary content", "UTF-8 text ensemble file"],
    "empty": ["empty.csv: empty file", "allowed: a header line (draw, weight and behavioural parameters"],
    "nan_value": ["nan_value.csv:2: column inflow_rate: value 'nan': not a finite number", "0 to 0.2"],
    "negative_weight": ["negative_weight.csv:3: column weight: value '-0.1': negative", "finite number >= 0"],
    "no_parameters": ["no_parameters.csv:1: no parameter columns; allowed: one or more of beta_wage"],
    "no_rows": ["no_rows.csv: a header line and no draws", "one draw a row"],
    "no_weight_column": ["no_weight_column.csv:1: not an ensemble table: no column 'weight'", "draw, weight"],
    "not_a_csv": ["not_a_csv.csv:1: not an ensemble table: no column 'draw' or 'weight'"],
    "not_a_number": [
        "not_a_number.csv:2: column wage_trend_share: value 'high': not a finite number",
        "0 to 1.5",
    ],
    "not_utf8": ["not_utf8.csv:2: not UTF-8 text (byte 0xe9"],
    "not_whole": ["not_whole.csv:2: column retirement_age: value '60.5': must be a whole number"],
    "out_of_bounds": [
        "out_of_bounds.csv:3: column inflow_rate: value '0.25': must be between 0 and 0.2 (arrivals per graduate of China's universities)",
    ],
    "repeated_draw": ["repeated_draw.csv:3: column draw: value '1' repeats line 2", "each draw once"],
    "unknown_parameter": [
        "unknown_parameter.csv:1: column 'beta_happiness': unknown parameter; allowed: draw, weight, beta_wage",
    ],
    "wrong_field_count": ["wrong_field_count.csv:2: 4 fields, the header has 3"],
    "zero_weights": ["zero_weights.csv: column weight: the weights sum to 0", "above 0"],
}


# --- the file -----------------------------------------------------------------------------------


def test_an_ensemble_is_read_with_normalised_weights() -> None:
    ensemble = load_ensemble(ENSEMBLE)
    assert ensemble.names == ("inflow_rate", "wage_trend_share")
    assert ensemble.labels == ("1", "2", "3") and ensemble.lines == (2, 3, 4)
    assert ensemble.weights.tolist() == pytest.approx([0.5, 0.3, 0.2])
    assert ensemble.overrides(2) == {"parameters.inflow_rate": 0.06, "parameters.wage_trend_share": 1.2}


def test_every_bad_ensemble_has_its_expected_message() -> None:
    assert sorted(p.stem for p in BAD_ENSEMBLES.glob("*.csv")) == sorted(BAD)


@pytest.mark.parametrize("stem", sorted(BAD))
def test_a_bad_ensemble_is_refused_by_run(stem: str, tmp_path: Path) -> None:
    err = assert_refused(
        tmp_path,
        "run",
        str(BASELINE),
        *SHORT,
        "--ensemble",
        str(BAD_ENSEMBLES / f"{stem}.csv"),
        fragments=BAD[stem],
    )
    assert len(err.strip().splitlines()) == 1, err  # one problem, one line


def test_a_missing_or_folder_ensemble_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.csv"
    assert_refused(
        tmp_path,
        "run",
        str(BASELINE),
        "--ensemble",
        str(missing),
        fragments=[f"{missing}: cannot read ensemble file"],
    )
    assert_refused(
        tmp_path, "run", str(BASELINE), "--ensemble", str(tmp_path), fragments=[f"{tmp_path}: a folder"]
    )


def test_a_bad_ensemble_is_refused_by_compare_and_validate(tmp_path: Path) -> None:
    bad = str(BAD_ENSEMBLES / "out_of_bounds.csv")
    fragments = BAD["out_of_bounds"]
    assert_refused(
        tmp_path,
        "compare",
        str(BASELINE),
        str(SUBSIDY),
        "--replicates",
        "2",
        "--ensemble",
        bad,
        fragments=fragments,
    )
    observed = tmp_path / "observed.csv"
    observed.write_text("unit,indicator,year,value\njjj,talents,2017,1000000\n", encoding="utf-8")
    assert_refused(
        tmp_path,
        "validate",
        str(BASELINE),
        "--observed",
        str(observed),
        "--ensemble",
        bad,
        fragments=fragments,
    )


def test_several_problems_are_listed(tmp_path: Path) -> None:
    bad = tmp_path / "many.csv"
    bad.write_text("draw,inflow_rate,weight\n1,7,1\n2,0.01,-1\n", encoding="utf-8")
    err = assert_refused(
        tmp_path, "run", str(BASELINE), "--ensemble", str(bad), fragments=["invalid ensemble (2 problems)"]
    )
    assert "many.csv:2: column inflow_rate" in err and "many.csv:3: column weight" in err


# --- draws --------------------------------------------------------------------------------------


def test_the_draw_of_each_replicate_is_reproducible_from_the_root_seed() -> None:
    ensemble = load_ensemble(ENSEMBLE)
    draws = ensemble.replicate_draws(7, 40)
    assert draws == load_ensemble(ENSEMBLE).replicate_draws(7, 40)
    assert ensemble.replicate_draws(7, 5) == draws[:5]  # replicate r's draw does not depend on the count
    assert set(draws) == {0, 1, 2}
    assert ensemble.replicate_draws(8, 40) != draws


def test_draws_follow_the_weights(tmp_path: Path) -> None:
    weighted = tmp_path / "weighted.csv"
    weighted.write_text("draw,inflow_rate,weight\na,0.01,0\nb,0.02,3\nc,0.03,1\n", encoding="utf-8")
    draws = np.array(load_ensemble(weighted).replicate_draws(1, 4000))
    assert 0 not in draws  # weight 0: never drawn
    assert (draws == 1).mean() == pytest.approx(0.75, abs=0.03)


def test_a_drawn_parameter_really_changes_the_run() -> None:
    ensemble = load_ensemble(ENSEMBLE)
    scenario = load_scenario(BASELINE).with_overrides(SMALL)
    low, high = (ensemble.scenario_for(scenario, k) for k in (0, 2))
    assert low.parameters.inflow_rate == 0.005 and high.parameters.wage_trend_share == 1.2
    talents = {}
    for name, drawn in (("low", low), ("high", high)):
        tables, _, _ = simulate(drawn, 3)
        rows = tables["indicators"]
        talents[name] = float(
            rows[(rows["indicator"] == "talents.jjj") & (rows["year"] == 2019)]["value"].iloc[0]
        )
    assert talents["high"] > talents["low"]  # 6 % of the stock a year arriving instead of 0.5 %


def test_the_scenarios_of_a_comparison_share_each_replicates_draw() -> None:
    comparison = plan_comparison(
        [BASELINE, SUBSIDY], 6, root_seed=5, scale=2000, end_year=2017, ensemble=ENSEMBLE
    )
    assert comparison.draws == tuple(load_ensemble(ENSEMBLE).replicate_draws(5, 6))
    for replicate, draw in enumerate(comparison.draws):
        expected = {"inflow_rate": [0.005, 0.012, 0.06][draw], "wage_trend_share": [0.7, 1.0, 1.2][draw]}
        for entry in comparison.scenarios:
            parameters = comparison.scenario_data(entry, replicate)["parameters"]
            assert {name: parameters[name] for name in expected} == expected
    assert comparison.interval_kind == (
        f"90 % interval over 6 replicates (chance and parameter uncertainty: ensemble {ENSEMBLE}, 3 draws)"
    )
    plain = plan_comparison([BASELINE, SUBSIDY], 6, root_seed=5, scale=2000, end_year=2017)
    assert plain.ensemble is None and plain.interval_kind == "90 % interval over 6 replicates (chance only)"


# --- the scenario key ---------------------------------------------------------------------------


def keyed_scenario(folder: Path, ensemble: str = "fitted.csv") -> Path:
    """A scenario in ``folder`` naming ``ensemble`` (relative to it), with the small ensemble there."""
    shutil.copy(ENSEMBLE, folder / "fitted.csv")
    copy_baseline(folder)
    path = folder / "keyed.yaml"
    path.write_text(f"format: 2\nname: keyed\nextends: baseline\nensemble: {ensemble}\n", encoding="utf-8")
    return path


def test_the_scenario_key_is_relative_to_its_file_and_the_flag_wins(tmp_path: Path) -> None:
    scenario = load_scenario(keyed_scenario(tmp_path))
    assert Path(scenario.ensemble or "") == tmp_path / "fitted.csv"
    assert choose_ensemble(None, scenario, "keyed.yaml").path == tmp_path / "fitted.csv"
    other = tmp_path / "other.csv"
    other.write_text("draw,beta_wage,weight\n1,1.2,1\n", encoding="utf-8")
    assert choose_ensemble(other, scenario, "keyed.yaml").names == ("beta_wage",)
    assert scenario.sha256() == load_scenario(BASELINE).with_overrides({"name": "keyed"}).sha256()


def test_compare_reads_the_key_that_every_scenario_inherits(tmp_path: Path) -> None:
    keyed = keyed_scenario(tmp_path)
    child = tmp_path / "child.yaml"
    child.write_text(
        "format: 2\nname: child\nextends: keyed\nparameters: {beta_wage: 1.2}\n", encoding="utf-8"
    )
    comparison = plan_comparison([keyed, child], 3, root_seed=2, ensemble_key=True)
    assert comparison.ensemble is not None and comparison.ensemble.path == tmp_path / "fitted.csv"
    assert comparison.scenario_data(comparison.scenarios[1], 0)["parameters"]["beta_wage"] == 1.2
    assert plan_comparison([keyed, child], 3, root_seed=2).ensemble is None  # attribution's planning


def test_a_calibrations_ensemble_file_is_read(tmp_path: Path) -> None:
    """The table ``calibrate`` writes (cma-es): draw 1..N, the fitted parameters, equal weights."""
    from experiments import files

    table = pd.DataFrame({"draw": [1, 2, 3, 4], "inflow_rate": [0.011, 0.0123456789012345, 0.013, 0.01]})
    table["beta_wage"] = 1.5
    table["weight"] = 1.0 / len(table)
    files.write_csv(tmp_path / "ensemble.csv", table)
    ensemble = load_ensemble(tmp_path / "ensemble.csv")
    assert ensemble.names == ("inflow_rate", "beta_wage")
    assert ensemble.values[1, 0] == 0.0123456789012345 and ensemble.weights.sum() == pytest.approx(1.0)


def test_a_missing_file_named_by_the_key_names_the_scenario(tmp_path: Path) -> None:
    path = keyed_scenario(tmp_path, ensemble="gone.csv")
    assert_refused(
        tmp_path,
        "run",
        str(path),
        *SHORT,
        fragments=["gone.csv: cannot read ensemble file", f"`ensemble` key of {path}"],
    )


def test_compared_scenarios_must_name_the_same_ensemble(tmp_path: Path) -> None:
    path = keyed_scenario(tmp_path)
    assert_refused(
        tmp_path, "compare", str(path), str(BASELINE), "--replicates", "2",
        fragments=[f"{BASELINE}: ensemble: value None: differs from", "use --ensemble"],
    )  # fmt: skip


def test_attribution_is_refused_with_an_ensemble(tmp_path: Path) -> None:
    assert_refused(
        tmp_path, "compare", str(BASELINE), str(SUBSIDY), "--replicates", "2", "--attribute", "--ensemble", str(ENSEMBLE),
        fragments=["--attribute: not with a parameter ensemble"],
    )  # fmt: skip


# --- the commands -------------------------------------------------------------------------------


def test_run_records_its_draw_and_runs_its_values(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = invoke(
        "run",
        str(BASELINE),
        *SHORT,
        "--seed",
        "4",
        "--ensemble",
        str(ENSEMBLE),
        "--out",
        str(out),
        "--no-report",
    )
    assert result.status == 0, result.err
    record = json.loads((out / "manifest.json").read_text())["ensemble"]
    draw = load_ensemble(ENSEMBLE).replicate_draws(4, 1)[0]
    assert record["file"] == str(ENSEMBLE) and record["draws"] == 3
    assert record["draw_per_replicate"] == [str(draw + 1)]
    assert len(record["sha256"]) == 64
    parameters = pd.read_csv(out / "parameters.csv").set_index("name")
    assert parameters.loc["inflow_rate", "value"] == [0.005, 0.012, 0.06][draw]
    assert set(parameters.index[parameters["origin"] == "ensemble"]) == {"inflow_rate", "wage_trend_share"}
    assert f"parameters: draw {draw + 1} of {ENSEMBLE}" in result.out
    manifest = json.loads((out / "manifest.json").read_text())
    assert f"draw {draw + 1} of ensemble {ENSEMBLE} (3 draws; sets inflow_rate, wage_trend_share)" in (
        _parameter_origin(manifest, "en")
    )  # what the report's parameters section says (the whole report is tested in test_report.py)


def test_compare_and_validate_say_which_interval_they_show(tmp_path: Path) -> None:
    out = tmp_path / "compare"
    result = invoke(
        "compare", str(BASELINE), str(SUBSIDY), "--replicates", "2", "--seed", "5", *SHORT,
        "--ensemble", str(ENSEMBLE), "--workers", "0", "--no-report", "--out", str(out),
    )  # fmt: skip
    assert result.status == 0, result.err
    manifest = json.loads((out / "manifest.json").read_text())
    labels = [str(k + 1) for k in load_ensemble(ENSEMBLE).replicate_draws(5, 2)]
    assert manifest["ensemble"]["draw_per_replicate"] == labels
    kind = f"90 % interval over 2 replicates (chance and parameter uncertainty: ensemble {ENSEMBLE}, 3 draws)"
    assert manifest["interval"] == kind and f"intervals: {kind}" in result.out  # the report shows it

    observed = tmp_path / "observed.csv"
    observed.write_text("unit,indicator,year,value\njjj,talents,2017,1000000\n", encoding="utf-8")
    out = tmp_path / "validate"
    result = invoke(
        "validate", str(BASELINE), "--observed", str(observed), "--replicates", "2", "--seed", "5",
        "--scale", "2000", "--ensemble", str(ENSEMBLE), "--workers", "0", "--out", str(out),
    )  # fmt: skip
    assert result.status == 0, result.err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["ensemble"]["draw_per_replicate"] == labels
    assert summary["interval"] == kind
    plain = interval_kind(2, None)
    assert plain == "90 % interval over 2 replicates (chance only)"


def test_without_an_ensemble_nothing_changes(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="no column 'draw'"):
        load_ensemble(BAD_ENSEMBLES / "not_a_csv.csv")
    assert choose_ensemble(None, load_scenario(BASELINE), BASELINE) is None


def test_a_one_draw_ensemble_gives_intervals_of_chance_only_at_its_draw() -> None:
    """One draw (e.g. ``jjj-talent parameters --start-of CONFIG``) fixes the parameters: the
    intervals span chance alone, and say at which values."""
    from reports.compare_report import interval_kind as chart_kind

    one = interval_kind(3, {"file": "start.csv", "draws": 1})
    assert one == "90 % interval over 3 replicates (chance only, at the one draw of ensemble start.csv)"
    assert chart_kind(1, "en") == "(chance only, at one draw of parameters)"
    assert chart_kind(3, "en") == "(chance and parameter uncertainty: 3 draws)"
    assert chart_kind(None, "en") == "(chance only)"


def test_a_compare_report_on_one_draw_says_chance_only_and_not_the_ensembles_method(tmp_path: Path) -> None:
    from reports.compare_report import intervals_sentence

    one = tmp_path / "one.csv"
    one.write_text("draw,inflow_rate,weight\nstart,0.03,1\n", encoding="utf-8")
    comparison = plan_comparison([BASELINE, SUBSIDY], 2, root_seed=5, scale=2000, end_year=2017, ensemble=one)
    sentence = intervals_sentence(comparison, "en")
    assert sentence.startswith("Intervals: 90 % interval over 2 replicates (chance only)")
    assert f"the one draw of ensemble {one}, which sets inflow_rate" in sentence
    many = plan_comparison([BASELINE, SUBSIDY], 2, root_seed=5, scale=2000, end_year=2017, ensemble=ENSEMBLE)
    assert "chance and parameter uncertainty" in intervals_sentence(many, "en")
