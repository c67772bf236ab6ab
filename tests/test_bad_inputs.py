"""Bad input on the command line: each bad calibration config (``tests/bad_calibrations/``), bad
observations file (``tests/bad_observations/``, through ``validate --observed``) and bad runner
option is refused with its message, exit status 2, no traceback, and nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SCENARIOS, assert_refused, invoke

HERE = Path(__file__).resolve().parent
BAD_CALIBRATIONS = HERE / "bad_calibrations"
BAD_OBSERVATIONS = HERE / "bad_observations"
HISTORY = SCENARIOS / "history.yaml"

CALIBRATIONS = {
    "alias_bomb": ["alias_bomb.yaml:8:8", "more than 100,000 values once its aliases"],
    "binary": ["binary.yaml:1:", "binary content", "UTF-8 text calibration config file"],
    "deep_nesting": ["deep_nesting.yaml:52:99", "nesting 51 levels deep", "at most 50"],
    "duplicate_key": ["duplicate_key.yaml:2:1", "duplicate key 'name' (first on line 1)"],
    "late_target": ["late_target.yaml", "targets.0 (populations).years: value 2018", "2015 or earlier"],
    "not_mapping": ["not_mapping.yaml:2:", "must be a mapping of keys", "got list"],
    "not_utf8": ["not_utf8.yaml:1:", "not UTF-8 text (byte 0xe9"],
    "python_tag": [
        "python_tag.yaml:2:7",
        "!!python/object/apply:os.system",
        "may not create objects or run code",
    ],
    "unknown_key": ["unknown_key.yaml:8: max_evals: Extra inputs are not permitted (value 10)"],
    "unknown_parameter": ["parameters.beta_happiness: unknown parameter; allowed: beta_wage"],
}


def test_every_bad_calibration_has_its_expected_message() -> None:
    assert sorted(p.stem for p in BAD_CALIBRATIONS.glob("*.yaml")) == sorted(CALIBRATIONS)


@pytest.mark.parametrize("stem", sorted(CALIBRATIONS))
def test_bad_calibration_config_is_refused(stem: str, tmp_path: Path) -> None:
    assert_refused(
        tmp_path, "calibrate", str(BAD_CALIBRATIONS / f"{stem}.yaml"), fragments=CALIBRATIONS[stem]
    )


@pytest.mark.parametrize("stem", ["duplicate_key", "late_target", "unknown_parameter"])
def test_profile_refuses_a_bad_calibration_config_as_calibrate_does(stem: str, tmp_path: Path) -> None:
    config = str(BAD_CALIBRATIONS / f"{stem}.yaml")
    options = ["--parameter", "beta_wage", "--values", "1.5"]
    assert_refused(tmp_path, "profile", config, *options, fragments=CALIBRATIONS[stem])


def test_a_config_with_thousands_of_problems_shows_twenty_and_counts_the_rest(tmp_path: Path) -> None:
    config = tmp_path / "many.yaml"
    config.write_text("name: many\n" + "".join(f"unknown_{i}: {i}\n" for i in range(5000)), encoding="utf-8")
    err = assert_refused(tmp_path, "calibrate", str(config), fragments=["problems):", "... and"])
    assert len(err.splitlines()) <= 23  # the header, 20 problems, the count of the rest


@pytest.mark.parametrize("path", sorted(BAD_OBSERVATIONS.glob("*.csv")), ids=lambda p: p.stem)
def test_bad_observations_file_is_refused_before_anything_runs(path: Path, tmp_path: Path) -> None:
    err = assert_refused(tmp_path, "validate", str(HISTORY), "--observed", str(path), fragments=[path.name])
    assert "observ" in err or "file" in err


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (
            ["validate", str(HISTORY), "--observed", "x.csv", "--workers", "2", "--scheduler", "tcp://h:1"],
            "give one",
        ),
        (
            ["compare", str(HISTORY), str(HISTORY), "--replicates", "1", "--workers", "-3"],
            "--workers: value -3",
        ),
        (
            ["compare", str(HISTORY), str(HISTORY), "--replicates", "1", "--scheduler", "h:1"],
            "not a scheduler address",
        ),
    ],
)
def test_bad_runner_options_are_refused(argv: list[str], fragment: str, tmp_path: Path) -> None:
    assert_refused(tmp_path, *argv, fragments=[fragment])


def test_an_experiment_with_thousands_of_problems_shows_twenty_and_counts_the_rest(tmp_path: Path) -> None:
    experiment = tmp_path / "many.yaml"
    unknown = "".join(f"unknown_{i}: {i}\n" for i in range(5000))
    experiment.write_text(f"name: many\nscenario: {SCENARIOS / 'baseline.yaml'}\n{unknown}", encoding="utf-8")
    result = invoke("sweep", str(experiment), "--store", str(tmp_path / "store"))
    assert result.status == 2 and "Traceback" not in result.err
    assert (
        "(5,003 problems):" in result.err and "... and 4,983 more problems" in result.err
    )  # 3 missing keys too
    assert len(result.err.splitlines()) == 22 and not (tmp_path / "store").exists()
