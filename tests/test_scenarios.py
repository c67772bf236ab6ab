"""Scenario files (model/scenario.py).

The shipped ones load, bad ones are refused with the message they must give, ``extends`` merges as
documented, and data round-trips.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import yaml

from app.cli import main
from model.errors import ScenarioError
from model.levers import LEVERS
from model.loader import load_yaml
from model.parameters import PARAMETERS
from model.scenario import FORMAT_VERSION, Scenario, load_scenario, validate
from model.talents import GROUPS
from tests.conftest import BAD_SCENARIOS, SCENARIOS

SCENARIO_FILES = sorted(SCENARIOS.glob("*.yaml"))


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# --- the shipped scenarios ----------------------------------------------------------------


def test_there_are_scenarios_to_check() -> None:
    assert {path.stem for path in SCENARIO_FILES} >= {"baseline", "graduates-to-hebei"}


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda path: path.name)
def test_every_scenario_file_loads(path: Path) -> None:
    scenario = load_scenario(path)
    assert isinstance(scenario, Scenario)
    assert scenario.start_year < scenario.end_year
    assert len(scenario.sha256()) == 64


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda path: path.name)
def test_load_dump_validate_round_trips(path: Path) -> None:
    scenario = load_scenario(path)
    data = scenario.as_data()
    json.dumps(data)  # plain data
    again = validate(data, {}, source="round trip")
    assert again == scenario
    assert again.sha256() == scenario.sha256()
    assert again.as_data() == data


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda path: path.name)
def test_yaml_dump_beside_the_original_round_trips(path: Path, tmp_path: Path) -> None:
    for parent in SCENARIO_FILES:  # the dump may name its parent: keep the folder's files
        write(tmp_path, parent.name, parent.read_text(encoding="utf-8"))
    scenario = load_scenario(path)
    dumped = write(tmp_path, "dumped.yaml", yaml.safe_dump(scenario.as_data(), allow_unicode=True))
    again = load_scenario(dumped)
    assert again == scenario
    assert again.sha256() == scenario.sha256()


def test_a_resolved_scenario_dump_loads_on_its_own(tmp_path: Path) -> None:
    scenario = load_scenario(SCENARIOS / "graduates-to-hebei.yaml")
    dumped = write(tmp_path, "scenario.yaml", yaml.safe_dump(scenario.as_data(), allow_unicode=True))
    assert load_scenario(dumped).sha256() == scenario.sha256()


def test_the_subsidy_scenario_is_the_baseline_plus_its_lever() -> None:
    baseline = load_scenario(SCENARIOS / "baseline.yaml")
    subsidy = load_scenario(SCENARIOS / "graduates-to-hebei.yaml")
    beijings_own = {"population_ceiling", "hukou_points_quota", "purchase_limits"}  # Beijing's own policies
    assert set(baseline.lever_settings()) == beijings_own
    assert set(subsidy.lever_settings()) == {"graduate_subsidy", *beijings_own}
    setting = subsidy.lever_settings()["graduate_subsidy"]
    assert setting.nodes == ["hebei"]
    assert setting.values == {dt.date(2017, 7, 1): 30000.0}
    for key in ("start_year", "end_year", "seed", "scale"):
        assert getattr(subsidy, key) == getattr(baseline, key), key
    assert subsidy.parameter_overrides() == baseline.parameter_overrides()
    assert subsidy.sha256() != baseline.sha256()


def test_the_graduate_quota_scenario_is_the_baseline_plus_beijings_quota() -> None:
    baseline = load_scenario(SCENARIOS / "baseline.yaml")
    quota = load_scenario(SCENARIOS / "baseline-with-graduate-quota.yaml")
    assert set(quota.lever_settings()) == {"graduate_hukou_quota", *baseline.lever_settings()}
    setting = quota.lever_settings()["graduate_hukou_quota"]
    assert setting.nodes == ["beijing"]
    assert setting.values[dt.date(2015, 1, 1)] == 9000.0  # the quota for 2015 (ASSUMPTIONS D6)
    assert quota.parameter_overrides() == baseline.parameter_overrides()


def test_sha256_ignores_extends_and_file_names(tmp_path: Path) -> None:
    scenario = load_scenario(SCENARIOS / "graduates-to-hebei.yaml")
    flat = scenario.as_data()
    copy = write(tmp_path, "elsewhere.yaml", yaml.safe_dump(flat, allow_unicode=True))
    assert load_scenario(copy).sha256() == scenario.sha256()
    assert scenario.with_overrides({"scale": 101}).sha256() != scenario.sha256()


def test_with_overrides_sets_dotted_paths() -> None:
    scenario = load_scenario(SCENARIOS / "graduates-to-hebei.yaml")
    fitted = scenario.parameter_overrides()  # the calibrated layer's, through baseline
    changed = scenario.with_overrides(
        {
            "parameters.beta_wage": 2.0,
            "end_year": 2020,
            "levers.graduate_subsidy.values": {"2018-01-01": 1000},
        }
    )
    assert changed.parameter_overrides()["beta_wage"] == 2.0
    assert changed.end_year == 2020
    assert changed.lever_settings()["graduate_subsidy"].values == {dt.date(2018, 1, 1): 1000.0}
    assert changed.lever_settings()["graduate_subsidy"].nodes == ["hebei"]
    assert scenario.end_year == 2030 and scenario.parameter_overrides() == fitted, "the original changed"


def test_with_overrides_refuses_bad_values_naming_the_source() -> None:
    scenario = load_scenario(SCENARIOS / "baseline.yaml")
    with pytest.raises(ScenarioError) as caught:
        scenario.with_overrides({"parameters.beta_wage": 99}, source="command line")
    message = str(caught.value)
    assert message.startswith("command line")
    assert "parameters.beta_wage" in message and "99" in message and "5" in message


@pytest.mark.parametrize("name", [p.name for p in PARAMETERS.values() if p.integer])
def test_integer_parameters_refuse_fractions(name: str) -> None:
    with pytest.raises(ScenarioError, match=name):
        validate({"name": "x", "parameters": {name: PARAMETERS[name].lower + 0.5}}, {}, source="test")


# --- extends ------------------------------------------------------------------------------

PARENT = """\
name: parent
format: 2
description: the parent
start_year: 2015
end_year: 2025
scale: 500
seed: 7
parameters:
  beta_wage: 2.0
  beta_jobs: 1.5
levers:
  graduate_subsidy:
    nodes: [hebei]
    groups: [research]
    values:
      2017-07-01: 30000
      2020-01-01: 40000
    source: the parent's
"""


def test_extends_merge_rule(tmp_path: Path) -> None:
    write(tmp_path, "parent.yaml", PARENT)
    child = write(
        tmp_path,
        "child.yaml",
        """\
name: child
format: 2
extends: parent
end_year: 2020
parameters:
  beta_jobs: 0.5
  beta_stay: 3.0
levers:
  graduate_subsidy:
    nodes: [XA]
    values:
      2018-01-01: 10000
""",
    )
    scenario = load_scenario(child)
    # top-level keys: the child's replace the parent's, the others are inherited
    assert scenario.name == "child"
    assert scenario.end_year == 2020
    assert scenario.description == "the parent"
    assert (scenario.start_year, scenario.scale, scenario.seed) == (2015, 500, 7)
    # parameters merge name by name
    assert scenario.parameter_overrides() == {"beta_wage": 2.0, "beta_jobs": 0.5, "beta_stay": 3.0}
    # a lever the child sets replaces the parent's setting whole: no groups, dates or source
    # of the parent's survive
    setting = scenario.lever_settings()["graduate_subsidy"]
    assert setting.nodes == ["XA"]
    assert setting.values == {dt.date(2018, 1, 1): 10000.0}
    assert setting.groups is None  # unset: the lever's default groups
    assert setting.targets(LEVERS["graduate_subsidy"])["groups"] == GROUPS
    assert setting.source == ""


def test_a_child_that_sets_no_lever_keeps_the_parents(tmp_path: Path) -> None:
    write(tmp_path, "parent.yaml", PARENT)
    child = write(tmp_path, "child.yaml", "name: child\nextends: parent.yaml\nparameters: {}\n")
    scenario = load_scenario(child)
    parent = load_scenario(tmp_path / "parent.yaml")
    assert scenario.lever_settings() == parent.lever_settings()
    assert scenario.parameter_overrides() == parent.parameter_overrides()


def test_extends_chains_over_three_generations(tmp_path: Path) -> None:
    write(tmp_path, "parent.yaml", PARENT)
    write(tmp_path, "child.yaml", "name: child\nextends: parent\nparameters: {beta_jobs: 0.5}\n")
    grandchild = write(
        tmp_path,
        "grandchild.yaml",
        "name: grandchild\nextends: child\nscale: 50\nparameters: {beta_wage: 1.0}\n",
    )
    scenario = load_scenario(grandchild)
    assert (scenario.name, scenario.scale, scenario.end_year) == ("grandchild", 50, 2025)
    assert scenario.parameter_overrides() == {"beta_wage": 1.0, "beta_jobs": 0.5}
    assert scenario.lever_settings()["graduate_subsidy"].groups == ["research"]


def test_an_error_in_the_parent_names_the_parent_file_and_line(tmp_path: Path) -> None:
    write(tmp_path, "parent.yaml", PARENT.replace("scale: 500", "scale: 0"))
    child = write(tmp_path, "child.yaml", "name: child\nextends: parent\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(child)
    message = str(caught.value)
    assert f"{tmp_path / 'parent.yaml'}:6:" in message
    assert "scale" in message and "value 0" in message


def test_circular_extends_is_refused(tmp_path: Path) -> None:
    first = write(tmp_path, "first.yaml", "name: first\nextends: second\n")
    write(tmp_path, "second.yaml", "name: second\nextends: first\n")
    with pytest.raises(ScenarioError, match="circular") as caught:
        load_scenario(first)
    assert "first.yaml" in str(caught.value) and "second.yaml" in str(caught.value)


def test_a_scenario_extending_itself_is_refused(tmp_path: Path) -> None:
    self_ref = write(tmp_path, "loop.yaml", "name: loop\nextends: loop\n")
    with pytest.raises(ScenarioError, match="circular"):
        load_scenario(self_ref)


# --- bad files ----------------------------------------------------------------------------

# Each bad file and the fragments its message must contain: file name with line, key path, bad
# value, and what is allowed. A tuple means any one of its fragments.
BAD = {
    "unknown_top_level_key": [
        "unknown_top_level_key.yaml:3:",
        "colour",
        "value 'red'",
        "unknown key",
        "allowed:",
        "start_year",
        "levers",
    ],
    "unknown_parameter": [
        "unknown_parameter.yaml:5:",
        "parameters.beta_wages",
        "value 1.8",
        "allowed:",
        "beta_wage,",
        "study_years",
    ],
    "parameter_out_of_bounds": [
        "parameter_out_of_bounds.yaml:4:",
        "parameters.beta_distance",
        "value 7.5",
        ("less than or equal to 5", "between 0 and 5"),
    ],
    "unknown_lever": [
        ("unknown_lever.yaml:4:", "unknown_lever.yaml:5:"),
        "levers.free_lunch",
        "unknown key",
        "allowed:",
        "graduate_subsidy",
    ],
    "lever_value_out_of_bounds": [
        "lever_value_out_of_bounds.yaml:8:",
        "levers.graduate_subsidy.values.2019-01-01",
        "value 600000",
        ("less than or equal to 500000", "between 0 and 500000"),
    ],
    "unknown_node": [
        "unknown_node.yaml:5:",
        "levers.graduate_subsidy.nodes",
        "'XAA'",
        "allowed:",
        "hebei",
        "zone:coastal",
        "axis:jing_jin",
    ],
    "start_year_2012": ["start_year_2012.yaml:3:", "start_year", "value 2012", "2010", "2015"],
    "end_year_2035": ["end_year_2035.yaml:3:", "end_year", "value 2035", "2030"],
    "scale_zero": ["scale_zero.yaml:3:", "scale", "value 0", ("greater than or equal to 1", "at least 1")],
    "duplicate_key": ["duplicate_key.yaml:5:", "duplicate key 'scale'", "once"],
    "not_a_mapping": ["not_a_mapping.yaml", "must be a mapping", "list"],
    "extends_missing": ["extends_missing.yaml:3:", "extends", "value 'no-such-parent'", "allowed:"],
    "wrong_type_seed": ["wrong_type_seed.yaml:3:", "seed", "value 'abc'", "integer"],
    "lever_unknown_key": [
        "lever_unknown_key.yaml:6:",
        "levers.graduate_subsidy.amount",
        "value 30000",
        "allowed:",
        "nodes",
        "values",
    ],
    "unknown_group": [
        "unknown_group.yaml:6:",
        "levers.graduate_subsidy.groups",
        "value 'farmers'",
        "'research'",
        "'skilled'",
    ],
    "bad_name": ["bad_name.yaml:2:", "name", "value 'Graduates to Hebei!'", "a-z0-9"],
    "invalid_yaml": ["invalid_yaml.yaml", "not valid YAML", "line 5"],
    # refused by model/loader.py before validation (issue 8); more cases in tests/test_loader.py
    "alias_bomb": [
        "alias_bomb.yaml:8:",
        "more than 100,000 values once its aliases",
        "allowed: at most 100,000",
    ],
    "recursive_alias": [
        "recursive_alias.yaml:4:",
        "alias *self stands inside its own anchor &self",
        "allowed:",
    ],
    "undefined_alias": ["undefined_alias.yaml:3:", "alias *seed has no anchor", "allowed:"],
    "deep_nesting": ["deep_nesting.yaml:52:", "nesting 51 levels deep", "allowed: at most 50 levels"],
    "python_tag": [
        "python_tag.yaml:3:",
        "tag '!!python/object/apply:os.system' is not allowed",
        "allowed: no tag",
    ],
    "unknown_tag": [
        "unknown_tag.yaml:3:",
        "tag '!persons' is not allowed",
        "allowed: no tag, or one of !!str",
    ],
    "two_documents": ["two_documents.yaml:3:", "a second YAML document", "allowed: one scenario a file"],
    "empty": ["empty.yaml:", "must be a mapping", "got an empty file"],
    "not_utf8": ["not_utf8.yaml:3:", "not UTF-8 text (byte 0xe9", "allowed: a UTF-8 text scenario file"],
    "impossible_date": ["impossible_date.yaml:6:", "value '2017-13-01' is not a valid date", "allowed:"],
    "bad_tagged_value": [
        "bad_tagged_value.yaml:3:",
        "value 'twelve' is not a valid whole number",
        "allowed:",
    ],
    "list_key": [
        "list_key.yaml:4:",
        "parameters: a key is a list or a mapping",
        "allowed: keys that are text",
    ],
    "merge_not_mapping": ["merge_not_mapping.yaml:4:", "merge key (<<)", "allowed: <<: *anchor of a mapping"],
}


def test_every_bad_file_has_an_expected_message() -> None:
    assert {path.stem for path in BAD_SCENARIOS.glob("*.yaml")} == set(BAD)


@pytest.mark.parametrize("stem", list(BAD))
def test_bad_file_is_refused_with_its_message(stem: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(BAD_SCENARIOS / f"{stem}.yaml")
    message = str(caught.value)
    for fragment in BAD[stem]:
        options = fragment if isinstance(fragment, tuple) else (fragment,)
        assert any(option in message for option in options), f"{options} not in:\n{message}"


def test_a_duplicate_key_is_refused_with_its_line_and_key() -> None:
    """The file, the line of the second key and the line of the first."""
    with pytest.raises(
        ScenarioError, match=r"duplicate_key.yaml:5:\d+: duplicate key 'scale' \(first on line 3\)"
    ):
        load_scenario(BAD_SCENARIOS / "duplicate_key.yaml")


def test_a_lever_value_out_of_bounds_is_refused_with_value_and_bound() -> None:
    """What the lever-value message already gets right (its key path is a known bug)."""
    with pytest.raises(ScenarioError) as caught:
        load_scenario(BAD_SCENARIOS / "lever_value_out_of_bounds.yaml")
    message = str(caught.value)
    assert "lever_value_out_of_bounds.yaml:" in message
    assert "levers.graduate_subsidy.values" in message
    assert "600000" in message and "500000" in message


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, "two.yaml", "name: two\nscale: 0\nend_year: 2035\n")
    with pytest.raises(ScenarioError, match=r"2 problems") as caught:
        load_scenario(path)
    assert "two.yaml:2:" in str(caught.value) and "two.yaml:3:" in str(caught.value)


def test_a_missing_file_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="nowhere.yaml"):
        load_scenario(tmp_path / "nowhere.yaml")


# --- the schema ---------------------------------------------------------------------------


def test_schema_command_prints_json_with_parameters_and_levers(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)

    def resolve(node: dict) -> dict:
        for option in node.get("anyOf", []):
            if option.get("type") != "null":
                node = option
        ref = node.get("$ref")
        return schema["$defs"][ref.rsplit("/", 1)[1]] if ref else node

    properties = schema["properties"]
    assert {"name", "extends", "start_year", "end_year", "seed", "scale", "parameters", "levers"} <= set(
        properties
    )
    assert set(resolve(properties["parameters"])["properties"]) == set(PARAMETERS)
    assert set(resolve(properties["levers"])["properties"]) == set(LEVERS)
    bounds = json.dumps(resolve(properties["parameters"])["properties"]["beta_wage"])
    assert '"minimum": 0' in bounds.replace(".0", "") and '"maximum": 5' in bounds.replace(".0", "")


# --- format versions --------------------------------------------------------------------------


def test_a_format_1_file_that_sets_a_changed_lever_is_refused_with_what_changed(tmp_path: Path) -> None:
    old = write(
        tmp_path,
        "old.yaml",
        "name: old\nparameters:\n  money_utility_cny: 50000\nlevers:\n  talent_card:\n    values: {2018-01-01: 1000}\n",
    )
    with pytest.raises(ScenarioError) as caught:
        load_scenario(old)
    message = str(caught.value)
    assert message.startswith(f"{old}: written for scenario format 1 (no `format:` key)")
    assert f"{old}:5: levers.talent_card: a card waives the hukou barrier" in message
    assert f"{old}:3: parameters.money_utility_cny: removed" in message
    assert f"add `format: {FORMAT_VERSION}`" in message


def test_a_format_1_file_that_sets_nothing_changed_still_loads(tmp_path: Path) -> None:
    old = write(tmp_path, "old.yaml", "name: old\nparameters: {beta_jobs: 0.5}\n")
    assert load_scenario(old).format == FORMAT_VERSION


def test_an_old_parent_is_refused_even_under_a_current_child(tmp_path: Path) -> None:
    write(tmp_path, "parent.yaml", "name: parent\nlevers:\n  graduate_subsidy: {values: {2018-01-01: 1}}\n")
    child = write(tmp_path, "child.yaml", f"format: {FORMAT_VERSION}\nname: child\nextends: parent\n")
    with pytest.raises(ScenarioError, match=r"parent\.yaml: written for scenario format 1"):
        load_scenario(child)


def test_an_unknown_format_is_refused(tmp_path: Path) -> None:
    future = write(tmp_path, "future.yaml", "format: 3\nname: future\n")
    with pytest.raises(
        ScenarioError, match=rf"future\.yaml:1: format: value 3: unknown format; allowed: {FORMAT_VERSION}"
    ):
        load_scenario(future)


def test_every_shipped_scenario_states_the_current_format() -> None:
    for path in SCENARIO_FILES:
        assert load_yaml(path)[0].get("format") == FORMAT_VERSION, path
