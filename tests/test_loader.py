"""The one input loader (model/loader.py).

Every bad file is refused with a message naming the file, the line where there is one, the value
and what is allowed; no other exception escapes.

Bad YAML files the scenario tests also check live in ``tests/bad_scenarios/`` (their expected
messages are in ``tests/test_scenarios.py``); bad observation files in ``tests/bad_observations/``.
Files that are large, binary or made of repeated lines are written here into ``tmp_path``.
"""

from __future__ import annotations

import csv
import math
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from model.errors import ScenarioError
from model.inputs import INPUT_TABLES
from model.loader import (
    MAX_BYTES,
    MAX_DEPTH,
    MAX_NODES,
    VINTAGES,
    load_yaml,
    problems_message,
    read_observation_csv,
)
from model.scenario import Mark, load_scenario, read_yaml
from tests.conftest import BAD_SCENARIOS, ROOT, SCENARIOS

BAD_OBSERVATIONS = Path(__file__).resolve().parent / "bad_observations"
ENTRY_POINT = Path(sys.executable).parent / "jjj-talent"


def refusal(read: object, path: Path, **options: object) -> str:
    """The message ``read(path)`` refuses the file with (any other exception fails the test)."""
    with pytest.raises(ScenarioError) as caught:
        read(path, **options)  # type: ignore[operator]
    return str(caught.value)


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


# --- good files read as PyYAML's safe loader reads them ------------------------------------------

# the experiment files wherever the restructure of experiments/ puts them
GOOD_YAML = sorted(SCENARIOS.glob("*.yaml")) + sorted((ROOT / "experiments").rglob("*.yaml"))


@pytest.mark.parametrize("path", GOOD_YAML, ids=lambda path: path.name)
def test_the_shipped_yaml_files_read_as_the_safe_loader_reads_them(path: Path) -> None:
    data, marks = load_yaml(path)
    assert data == yaml.safe_load(path.read_text(encoding="utf-8"))
    assert marks[()] == (str(path), 1, 1) or marks[()][0] == str(path)
    for key in data:
        assert marks[(str(key),)][0] == str(path)


def test_marks_stand_at_keys_and_list_items(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", "name: x\nlevers:\n  graduate_subsidy:\n    nodes: [hebei, XA]\n")
    _, marks = load_yaml(path)
    assert marks[("levers",)] == (str(path), 2, 1)
    assert marks[("levers", "graduate_subsidy")] == (str(path), 3, 3)
    assert marks[("levers", "graduate_subsidy", "nodes", "1")] == (str(path), 4, 20)


def test_anchors_aliases_and_merge_keys_within_limits_are_read(tmp_path: Path) -> None:
    text = "base: &base {beta_wage: 1.0, beta_jobs: 2.0}\nparameters:\n  <<: *base\n  beta_jobs: 3.0\n"
    data, _ = load_yaml(write(tmp_path, "a.yaml", text))
    assert data == yaml.safe_load(text)
    assert data["parameters"] == {"beta_wage": 1.0, "beta_jobs": 3.0}


# libyaml and PyYAML's Python reader disagree on NEL and other line breaks inside text; not ours to test
_TEXT = st.text(st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp")), max_size=20)
_SCALARS = (
    st.none() | st.booleans() | st.integers(-(2**63), 2**63) | _TEXT | st.floats(allow_nan=False) | st.dates()
)
_DATA = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(_TEXT | st.integers() | st.dates(), inner, max_size=4)
    ),
    max_leaves=30,
)


@settings(max_examples=200, deadline=None)
@given(data=st.dictionaries(_TEXT, _DATA, max_size=5), flow=st.booleans())
def test_any_safely_dumped_mapping_reads_back_as_the_safe_loader_reads_it(
    tmp_path_factory: pytest.TempPathFactory, data: dict, flow: bool
) -> None:
    path = tmp_path_factory.mktemp("dump") / "d.yaml"
    text = yaml.safe_dump(data, default_flow_style=flow, allow_unicode=True)
    path.write_text(text, encoding="utf-8")
    loaded, marks = load_yaml(path)
    assert loaded == yaml.safe_load(text) == data
    assert all(mark[0] == str(path) and mark[1] >= 1 and mark[2] >= 1 for mark in marks.values())


def test_read_yaml_and_mark_are_still_importable_from_the_scenario_module() -> None:
    assert read_yaml is load_yaml
    assert Mark == tuple[str, int, int]


# --- bad YAML, generated here (large, binary or repetitive) ------------------------------------


def test_a_file_over_the_size_limit_is_refused_with_its_size(tmp_path: Path) -> None:
    """The 7 MB file of unknown keys of issue 8: refused by its size before it is parsed."""
    path = write(
        tmp_path, "huge.yaml", "name: x\n" + "".join(f"unknown_key_{i}: {i}\n" for i in range(350_000))
    )
    message = refusal(load_scenario, path)
    assert message.startswith(f"{path}: scenario file is ")
    assert (
        f"{path.stat().st_size:,} bytes" in message and "allowed: at most 1,048,576 bytes (1 MiB)" in message
    )


def test_thousands_of_problems_print_the_first_twenty_and_a_count(tmp_path: Path) -> None:
    keys = 38_000
    path = write(tmp_path, "many.yaml", "name: x\n" + "".join(f"unknown_key_{i}: {i}\n" for i in range(keys)))
    assert path.stat().st_size < MAX_BYTES
    lines = refusal(load_scenario, path).splitlines()
    assert lines[0] == f"{path}: invalid scenario ({keys:,} problems):"
    assert len(lines) == 22
    assert lines[1].startswith(f"  {path}:2:1: unknown_key_0: value 0: unknown key; allowed: format, name,")
    assert lines[-1] == f"  ... and {keys - 20:,} more problems"


def test_a_binary_file_is_refused_naming_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "binary.yaml", b"name: x\nseed: 1\x00\x01\x02\xff\n")
    message = refusal(load_scenario, path)
    assert message.startswith(f"{path}:2: binary content (a NUL byte")
    assert "allowed: a UTF-8 text scenario file" in message


def test_a_utf16_file_is_refused_as_binary(tmp_path: Path) -> None:
    path = write(tmp_path, "utf16.yaml", "name: x\n".encode("utf-16"))
    assert "binary content" in refusal(load_scenario, path)


def test_a_control_character_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "bell.yaml", "name: x\ndescription: ring\x07\n")
    message = refusal(load_scenario, path)
    assert message.startswith(f"{path}:2: not valid YAML: character #x0007 is not allowed")
    assert "allowed: printable text" in message


def test_a_wide_alias_bomb_is_refused_without_being_expanded(tmp_path: Path) -> None:
    """Aliases of one large list, each cheap to write and costly to expand."""
    text = "name: x\nbig: &big [" + ", ".join(["1"] * 1000) + "]\n"
    text += "".join(f"k{i}: *big\n" for i in range(200))
    message = refusal(load_yaml, write(tmp_path, "wide.yaml", text))
    assert f"more than {MAX_NODES:,} values once its aliases" in message
    assert "wide.yaml:" in message


def test_nesting_deeper_than_libyaml_allows_is_refused_with_the_limit(tmp_path: Path) -> None:
    """100,000 levels: Python's recursion limit would come first in a recursive composer."""
    path = write(tmp_path, "deep.yaml", "name: x\ndescription: " + "[" * 100_000 + "]" * 100_000 + "\n")
    message = refusal(load_scenario, path)
    assert message.startswith(f"{path}:2:")
    assert f"allowed: at most {MAX_DEPTH} levels" in message


def test_deep_nesting_through_an_alias_is_refused(tmp_path: Path) -> None:
    inner = "&deep " + "[" * 40 + "]" * 40
    path = write(tmp_path, "alias-deep.yaml", f"a: {inner}\nb: [[[[[[[[[[[[[[[*deep]]]]]]]]]]]]]]]\n")
    assert "levels deep; allowed: at most 50" in refusal(load_yaml, path)


def test_a_directory_is_refused_as_unreadable(tmp_path: Path) -> None:
    message = refusal(load_scenario, tmp_path)
    assert message.startswith(f"{tmp_path}: cannot read scenario file")


def test_a_missing_file_is_refused_by_name(tmp_path: Path) -> None:
    assert refusal(load_yaml, tmp_path / "nowhere.yaml").startswith(
        f"{tmp_path / 'nowhere.yaml'}: cannot read"
    )


def test_the_kind_of_file_words_the_messages(tmp_path: Path) -> None:
    path = write(tmp_path, "list.yaml", "- a\n- b\n")
    message = refusal(load_yaml, path, kind="experiment", keys="name, scenario, ...")
    assert message == f"{path}:1: an experiment must be a mapping of keys (name, scenario, ...), got list"


def test_a_python_tag_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    path = write(
        tmp_path, "evil.yaml", f"name: x\nseed: !!python/object/apply:os.system ['touch {marker}']\n"
    )
    assert "tag '!!python/object/apply:os.system' is not allowed" in refusal(load_yaml, path)
    assert not marker.exists()


# --- the command line -----------------------------------------------------------------------


@pytest.mark.skipif(not ENTRY_POINT.exists(), reason=f"{ENTRY_POINT} is not installed")
@pytest.mark.parametrize("name", ["alias_bomb.yaml", "deep_nesting.yaml", "not_utf8.yaml", "python_tag.yaml"])
def test_the_command_refuses_a_bad_file_with_status_2_and_no_traceback(name: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    refused = subprocess.run(
        [str(ENTRY_POINT), "run", str(BAD_SCENARIOS / name), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 2, refused.stderr
    assert "Traceback" not in refused.stderr
    assert f"{name}:" in refused.stderr and "allowed:" in refused.stderr
    assert not out.exists()


# --- problems_message -----------------------------------------------------------------------


def test_problems_message_counts_and_cuts() -> None:
    assert problems_message("f.yaml", "scenario", ["  a"]) == "f.yaml: invalid scenario (1 problem):\n  a"
    many = problems_message("f.csv", "observations", [f"  line {i}" for i in range(25)])
    assert many.splitlines()[0] == "f.csv: invalid observations (25 problems):"
    assert many.splitlines()[1:21] == [f"  line {i}" for i in range(20)]
    assert many.splitlines()[-1] == "  ... and 5 more problems"
    first_only = problems_message("f", "scenario", ["  a", "  b"], limit=1, total=400_000)
    assert first_only.splitlines() == [
        "f: invalid scenario (400,000 problems):",
        "  a",
        "  ... and 399,999 more problems",
    ]


# --- observation CSVs -------------------------------------------------------------------------

OBSERVATION_FILES = sorted(
    path for path in (ROOT / "model" / "data").rglob("*.csv") if path.name not in INPUT_TABLES
)


@pytest.mark.parametrize("path", OBSERVATION_FILES, ids=lambda path: path.name)
def test_the_shipped_observation_files_load(path: Path) -> None:
    table = read_observation_csv(path)
    assert list(table.columns[:4]) == ["unit", "indicator", "year", "value"]
    assert "line" in table.columns and table["line"].iloc[0] == 2
    assert (table["value"] > 0).all() and table["value"].map(math.isfinite).all()
    assert table["year"].between(2000, 2030).all()
    lines = path.read_text(encoding="utf-8").splitlines()
    keys = [
        (r["unit"], r["indicator"], r["year"], r.get("vintage"), float(r["value"]))
        for r in csv.DictReader(lines)
    ]
    repeats = len(keys) - len(set(keys))  # a row given twice by two sources is kept once
    assert len(table) == len(lines) - 1 - repeats  # no multi-line fields


# Each bad file and the fragments its message must contain (file:line, column, value, allowed).
BAD = {
    "empty": ["empty.csv: empty file", "allowed: a header line (unit, indicator, year, value"],
    "header_only": ["header_only.csv: a header line and no observations", "allowed:"],
    "missing_columns": [
        "missing_columns.csv:1: missing column value",
        "the header has: unit, indicator, year, uom",
        "required: unit, indicator, year, value",
    ],
    "unclosed_quote": ['unclosed_quote.csv:2: a quote (") opened here is never closed', "allowed:"],
    "non_numeric_year": [
        "non_numeric_year.csv:3: column year: value '2015a': not a whole number",
        "allowed: a year from 2000 to 2030",
    ],
    "non_numeric_value": [
        "non_numeric_value.csv:3: column value: value 'n/a': not a number",
        "allowed: a positive finite number",
    ],
    "empty_value": [
        "empty_value.csv:2: column value: value '': not a number",
        "allowed: a positive finite number",
    ],
    "zero_value": ["zero_value.csv:3: column value: value '0.0': zero", "allowed: a positive finite number"],
    "negative_value": [
        "negative_value.csv:2: column value: value '-21705000': negative",
        "allowed: a positive finite number",
    ],
    "nan_value": [
        "nan_value.csv:2: column value: value 'NaN': not a finite number",
        "allowed: a positive finite number",
    ],
    "inf_value": [
        "inf_value.csv:2: column value: value 'inf': not a finite number",
        "allowed: a positive finite number",
    ],
    "overflowing_value": [
        "overflowing_value.csv:2: column value: value '1e400': overflows a 64-bit float",
        "allowed: a positive finite number",
    ],
    "year_outside_range": [
        "(2 problems)",
        "year_outside_range.csv:2: column year: value '1990'",
        "year_outside_range.csv:3: column year: value '2035'",
        "allowed: 2000 to 2030",
    ],
    "conflicting_duplicate": [
        "conflicting_duplicate.csv:4: tianjin, resident_population, 2015",
        "value 14390000 here, 15470000 on line 2",
        "no vintage column",
        "allowed: one value per (unit, indicator, year), or a vintage column (first-release, revised-2020, final)",
    ],
    "wrong_field_count": [
        "wrong_field_count.csv:2: 3 fields, the header has 8",
        "wrong_field_count.csv:3: 9 fields, the header has 8",
        "allowed:",
    ],
    "not_utf8": ["not_utf8.csv:2: not UTF-8 text (byte 0xe9", "allowed: a UTF-8 text observations file"],
    "repeated_column": [
        "repeated_column.csv:1: column value appears more than once",
        "allowed: each column once",
    ],
    "empty_unit": ["empty_unit.csv:2: column unit: empty", "allowed: a unit name"],
    "unknown_vintage": [
        "(2 problems)",
        "unknown_vintage.csv:2: column vintage: value 'revised': unknown vintage",
        "unknown_vintage.csv:3: column vintage: empty",
        "allowed: first-release, revised-2020, final",
    ],
}


def test_every_bad_observation_file_has_an_expected_message() -> None:
    assert {path.stem for path in BAD_OBSERVATIONS.glob("*.csv")} == set(BAD)


@pytest.mark.parametrize("stem", list(BAD))
def test_bad_observation_file_is_refused_with_its_message(stem: str) -> None:
    message = refusal(read_observation_csv, BAD_OBSERVATIONS / f"{stem}.csv")
    for fragment in BAD[stem]:
        assert fragment in message, f"{fragment!r} not in:\n{message}"


HEADER = "unit,indicator,year,value,uom,status,source,note\n"


def test_identical_repeated_rows_are_dropped(tmp_path: Path) -> None:
    row = "beijing,resident_population,2015,21705000,persons,observed,BJ-2015,\n"
    table = read_observation_csv(write(tmp_path, "twice.csv", HEADER + row + row))
    assert len(table) == 1 and table["line"].tolist() == [2]


def test_a_vintage_column_tells_releases_apart(tmp_path: Path) -> None:
    text = (
        "unit,indicator,year,value,vintage\ntianjin,resident_population,2015,15470000,first-release\n"
        "tianjin,resident_population,2015,14390000,revised-2020\n"
    )
    table = read_observation_csv(write(tmp_path, "vintages.csv", text))
    assert table["vintage"].tolist() == ["first-release", "revised-2020"]
    assert table["value"].tolist() == [15470000.0, 14390000.0]
    same = text.replace("revised-2020", "first-release")
    assert "vintage 'first-release'" in refusal(read_observation_csv, write(tmp_path, "same.csv", same))


def test_a_file_without_a_vintage_column_has_empty_vintages(tmp_path: Path) -> None:
    table = read_observation_csv(
        write(tmp_path, "old.csv", HEADER + "beijing,resident_population,2015,1,,,,\n")
    )
    assert table["vintage"].tolist() == [""]


def test_the_allowed_vintages_are_declared_with_their_meaning() -> None:
    assert list(VINTAGES) == ["first-release", "revised-2020", "final"]
    assert all(len(meaning) > 40 for meaning in VINTAGES.values())


def test_the_year_range_is_the_callers(tmp_path: Path) -> None:
    path = write(tmp_path, "y.csv", HEADER + "beijing,resident_population,2015,21705000,,,,\n")
    assert read_observation_csv(path, first_year=2015, last_year=2015)["year"].tolist() == [2015]
    assert "allowed: 2016 to 2030" in refusal(read_observation_csv, path, first_year=2016)


def test_quoted_fields_may_span_lines_and_lines_stay_right(tmp_path: Path) -> None:
    text = (
        HEADER + 'beijing,resident_population,2015,21705000,persons,observed,BJ,"two\nlines"\n\n'
        "tianjin,resident_population,2015,-1,persons,observed,TJ,\n"
    )
    assert "q.csv:5: column value: value '-1'" in refusal(
        read_observation_csv, write(tmp_path, "q.csv", text)
    )


def test_carried_columns_are_text_and_absent_ones_empty(tmp_path: Path) -> None:
    text = "\ufeffunit,indicator,year,value,use,extra\nbeijing,resident_population,2015,2.1e7,fit,x\n"
    table = read_observation_csv(write(tmp_path, "bom.csv", text))
    assert list(table.columns) == [
        "unit",
        "indicator",
        "year",
        "value",
        "uom",
        "status",
        "source",
        "note",
        "use",
        "vintage",
        "model_use",
        "line",
    ]
    assert table.loc[0, "use"] == "fit" and table.loc[0, "note"] == "" and table.loc[0, "value"] == 2.1e7


_NAME = st.text(st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp", "Zs")), min_size=1, max_size=12)


@settings(max_examples=100, deadline=None)
@given(
    rows=st.lists(
        st.tuples(_NAME, _NAME, st.integers(2000, 2030), st.floats(min_value=1e-300, max_value=1e300), _TEXT),
        min_size=1,
        max_size=20,
        unique_by=lambda row: row[:3],
    )
)
def test_any_good_table_reads_back_with_its_lines(
    tmp_path_factory: pytest.TempPathFactory, rows: list
) -> None:
    path = tmp_path_factory.mktemp("obs") / "o.csv"
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["unit", "indicator", "year", "value", "note"])
        writer.writerows(
            [(unit, indicator, year, repr(value), note) for unit, indicator, year, value, note in rows]
        )
    table = read_observation_csv(path)
    assert table[["unit", "indicator", "year", "value"]].values.tolist() == [list(row[:4]) for row in rows]
    assert table["note"].tolist() == [row[4].strip() for row in rows]
    assert table["line"].tolist() == list(range(2, len(rows) + 2))  # one line a row here


def test_many_row_problems_print_the_first_twenty_and_a_count(tmp_path: Path) -> None:
    rows = "".join(f"beijing,indicator_{i},2015,-{i + 1},,,,\n" for i in range(300))
    lines = refusal(read_observation_csv, write(tmp_path, "neg.csv", HEADER + rows)).splitlines()
    assert lines[0].endswith("invalid observations (300 problems):")
    assert len(lines) == 22 and lines[-1] == "  ... and 280 more problems"


def test_a_big_observation_file_is_refused_with_its_size(tmp_path: Path) -> None:
    rows = "beijing,resident_population,2015,21705000,persons,observed,BJ-2015,\n" * 20_000
    message = refusal(read_observation_csv, write(tmp_path, "big.csv", HEADER + rows))
    assert "observations file is" in message and "allowed: at most 1,048,576 bytes" in message


def test_a_missing_observation_file_is_refused_by_name(tmp_path: Path) -> None:
    assert refusal(read_observation_csv, tmp_path / "none.csv").startswith(
        f"{tmp_path / 'none.csv'}: cannot read"
    )
