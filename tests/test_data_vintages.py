"""The repository's observation files (issue 10, items 1 and 8): every row names its vintage,
calibration targets are first-release numbers dated up to 2015, validation rows are all dated
after 2015, and every indicator held after 2015 is either measured on a run or skipped with a
stated reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from experiments.calibration.calibrate import TargetGroup, load_config, select_targets
from experiments.calibration.observed import (
    BACKCAST_VINTAGES,
    DATA_CUTOFF_YEAR,
    MEASURES,
    NOT_MEASURED,
    read_observed,
    read_observed_files,
)
from model.errors import ScenarioError
from model.inputs import INPUT_TABLES
from model.loader import VINTAGES, read_observation_csv

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "model" / "data"
VALIDATION = DATA / "validation"
OBSERVATION_FILES = sorted(path for path in DATA.rglob("*.csv") if path.name not in INPUT_TABLES)
CONFIG = ROOT / "experiments" / "calibration-2015.yaml"
POLICY_INPUTS = {  # dated after 2015 but actions, not outcomes (model/data/README.md)
    "beijing_firms_exited",
    "beijing_firms_exited_cumulative",
    "beijing_markets_relocated",
    "beijing_markets_relocated_cumulative",
    "haihe_talent_programme_settled",
    "established",
}
BASE_YEAR_EXCEPTIONS = {  # the one later number the base year reads (ASSUMPTIONS A3; A6: no wage)
    ("XA", "resident_population", 2016),
}


def test_the_data_folder_holds_the_new_shared_files() -> None:
    names = {path.name for path in OBSERVATION_FILES}
    assert {"nbs-2014-2015.csv", "education-sample-surveys-2011-2015.csv", "nbs-2016-2019.csv"} <= names


@pytest.mark.parametrize("path", OBSERVATION_FILES, ids=lambda path: path.name)
def test_every_row_names_an_allowed_vintage_status_and_source(path: Path) -> None:
    assert "vintage" in path.read_text(encoding="utf-8").splitlines()[0].split(",")
    table = read_observation_csv(path)  # refuses an empty or unknown vintage
    assert set(table["vintage"]) <= set(VINTAGES)
    assert (table["status"] != "").all() and (table["source"] != "").all()


def test_validation_rows_are_all_dated_after_the_cutoff() -> None:
    table = read_observed(VALIDATION)
    assert len(table) > 150
    assert (table["year"] > DATA_CUTOFF_YEAR).all()


def test_no_outcome_after_the_cutoff_sits_outside_validation() -> None:
    for path in OBSERVATION_FILES:
        if VALIDATION in path.parents:
            continue
        table = read_observation_csv(path)
        late = table[table["year"] > DATA_CUTOFF_YEAR]
        late_outcomes = {
            (row.unit, row.indicator, row.year)
            for row in late.itertuples()
            if row.indicator not in POLICY_INPUTS
        }
        assert late_outcomes <= BASE_YEAR_EXCEPTIONS, (
            f"{path.name}: {sorted(late_outcomes - BASE_YEAR_EXCEPTIONS)}"
        )
        assert not table["use"].str.startswith("validation").any(), path.name


def test_the_shared_data_error_is_left_out() -> None:
    table = read_observed(VALIDATION)
    sjz = table[(table["unit"] == "SJZ") & (table["indicator"] == "hei_students")]
    assert sorted(sjz["year"]) == [2016, 2017, 2019]  # 2018 was published as 0.0


def test_two_releases_of_one_number_are_kept_apart() -> None:
    table = read_observed_files([DATA / "observations.csv", DATA / "nbs-2014-2015.csv"])
    tianjin = table[
        (table["unit"] == "tianjin") & (table["indicator"] == "resident_population") & (table["year"] == 2015)
    ]
    assert dict(zip(tianjin["vintage"], tianjin["value"])) == {
        "first-release": 15_469_500.0,
        "revised-2020": 14_390_000.0,
    }


def test_calibration_targets_are_first_release_numbers_up_to_2015() -> None:
    config = load_config(CONFIG)
    # with the revised series in the files too, the targets still take the first release
    observed = read_observed_files([*config.observed, DATA / "nbs-2014-2015.csv"])
    targets = select_targets(config, observed, 2010)
    assert (targets["year"] <= DATA_CUTOFF_YEAR).all()
    assert set(targets["vintage"]) <= set(BACKCAST_VINTAGES)
    populations = targets[targets["indicator"] == "resident_population"].set_index(["unit", "year"])["value"]
    assert populations[("tianjin", 2015)] == 15_469_500.0


def test_a_target_given_only_in_the_revised_series_is_refused() -> None:
    config = load_config(CONFIG)
    config = config.model_copy(
        update={
            "observed": [DATA / "nbs-2014-2015.csv"],
            "targets": [
                TargetGroup(name="revised", indicator="resident_population", units=["tianjin"], years=[2015])
            ],
        }
    )
    with pytest.raises(ScenarioError) as refused:
        select_targets(config, read_observed_files(config.observed), 2010)
    message = str(refused.value)
    assert "tianjin resident_population 2015" in message
    assert "only in vintage 'revised-2020'" in message
    assert "allowed for a back-cast target: first-release, final" in message


def test_the_back_cast_vintages_are_declared_ones_without_the_revised_series() -> None:
    assert set(BACKCAST_VINTAGES) < set(VINTAGES) and "revised-2020" not in BACKCAST_VINTAGES


def test_every_indicator_held_after_2015_is_measured_or_has_a_reason() -> None:
    assert not set(NOT_MEASURED) & set(MEASURES)
    indicators = set(read_observed(VALIDATION)["indicator"])
    assert indicators <= set(MEASURES) | set(NOT_MEASURED), sorted(
        indicators - set(MEASURES) - set(NOT_MEASURED)
    )
    assert {"resident_population", "new_residential_price", "bachelor_entrants", "hei_students"} <= indicators


def test_a_folder_of_files_is_read_as_one_with_vintages_apart(tmp_path: Path) -> None:
    header = "unit,indicator,year,value,status,source,vintage\n"
    (tmp_path / "a.csv").write_text(
        header + "tianjin,resident_population,2017,15570000,observed,A,first-release\n"
    )
    (tmp_path / "b.csv").write_text(
        header
        + "tianjin,resident_population,2017,15000000,observed,B,first-release\n"  # a.csv's wins
        + "tianjin,resident_population,2017,14100000,observed,B,revised-2020\n"
    )
    table = read_observed(tmp_path)
    assert table[["source", "vintage", "value"]].values.tolist() == [
        ["A", "first-release", 15_570_000.0],
        ["B", "revised-2020", 14_100_000.0],
    ]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(
        ScenarioError, match="empty: a folder without observation files; allowed: a folder of"
    ):
        read_observed(empty)
