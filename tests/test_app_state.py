"""The workbench's logic without a browser (app/web/state.py): controls from the lever
declarations, drafts checked with the files' messages, saved files that `jjj-talent run`
reads back unchanged, and runs that stop when cancelled."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from app.web import state as st
from model.firms import SECTORS
from model.layout import default_layout
from model.levers import LEVERS
from model.scenario import load_scenario
from model.talents import GROUPS

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


@pytest.fixture()
def baseline() -> dict:
    return st.set_field(st.draft_from_file(SCENARIOS / "baseline.yaml"), "name", "my-edit")


def test_a_control_for_every_lever_with_its_declared_unit_bounds_and_targets() -> None:
    controls = {control.lever: control for control in st.lever_controls()}
    assert list(controls) == list(LEVERS)
    places = tuple(default_layout().place_names())
    for name, lever in LEVERS.items():
        control = controls[name]
        assert (control.unit, control.lower, control.upper) == (lever.unit, lever.lower, lever.upper)
        assert set(control.targets) == set(lever.targets)
        for kind, (choices, default) in control.targets.items():
            assert (
                choices
                == {
                    "nodes": places,
                    "origins": places,
                    "graduated_in": places,
                    "groups": GROUPS,
                    "sectors": SECTORS,
                }[kind]
            )
            assert default == tuple(getattr(lever, f"default_{kind}"))
            assert set(default) <= set(choices)
    assert controls["graduate_subsidy"].title["zh"] == "高校毕业生就业河北计划"


def test_the_embedded_font_has_a_glyph_for_every_chinese_character_of_the_page() -> None:
    import base64
    import io
    import re

    from fontTools.ttLib import TTFont

    from app.web.fonts import FAMILY, cjk_css, page_text

    css = cjk_css()
    assert f'font-family: "{FAMILY}"' in css and f'Roboto, "{FAMILY}"' in css
    data = re.search(r"base64,([A-Za-z0-9+/=]+)\"?\)", css)
    assert data is not None
    font = TTFont(io.BytesIO(base64.b64decode(data.group(1))))
    chinese = {ch for ch in page_text() if "\u4e00" <= ch <= "\u9fff"}
    assert "情" in chinese and len(chinese) > 100
    assert chinese <= {chr(code) for code in font.getBestCmap()}


def test_every_shipped_scenario_is_offered_and_loads_as_a_valid_draft() -> None:
    names = st.shipped_scenarios(SCENARIOS)
    assert "baseline" in names and "plan-2017" in names
    for name in names:
        checked = st.check(st.draft_from_file(SCENARIOS / f"{name}.yaml"))
        assert checked.ok, checked.message


def test_an_edited_lever_round_trips_into_a_valid_scenario(baseline: dict) -> None:
    draft = st.set_lever(
        baseline,
        "graduate_subsidy",
        [("2017-07-01", "30000"), ("2020-01-01", "45,000")],
        {"nodes": ["hebei"]},
    )
    checked = st.check(draft)
    assert checked.ok, checked.message
    assert checked.scenario is not None
    setting = checked.scenario.lever_settings()["graduate_subsidy"]
    assert [(str(d), v) for d, v in sorted(setting.values.items())] == [
        ("2017-07-01", 30000.0),
        ("2020-01-01", 45000.0),
    ]
    assert setting.targets(LEVERS["graduate_subsidy"])["nodes"] == ("hebei",)
    assert st.lever_rows(draft, "graduate_subsidy") == [("2017-07-01", "30000"), ("2020-01-01", "45000")]
    # an empty target list takes the lever's default; None removes the lever (off every year)
    reset = st.set_lever(draft, "graduate_subsidy", st.lever_rows(draft, "graduate_subsidy"), {"nodes": []})
    assert "nodes" not in reset["levers"]["graduate_subsidy"]
    assert "graduate_subsidy" not in st.set_lever(draft, "graduate_subsidy", None)["levers"]
    assert "graduate_subsidy" not in baseline["levers"]  # edits never change the draft they start from


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([("2017-07-01", "9999999")], "levers.graduate_subsidy.values.2017-07-01: value 9999999.0"),
        ([("2017-07-01", "lots")], "levers.graduate_subsidy.values.2017-07-01: value 'lots'"),
        ([("2017-13-01", "1000")], "levers.graduate_subsidy.values.2017-13-01"),
    ],
)
def test_a_bad_value_gets_the_files_message_naming_its_key_path(
    baseline: dict, rows: list[tuple[str, str]], expected: str
) -> None:
    checked = st.check(st.set_lever(baseline, "graduate_subsidy", rows))
    assert not checked.ok
    assert expected in checked.message
    assert checked.message.startswith(f"{st.SOURCE}: invalid scenario")
    if rows[0][1] == "9999999":
        assert "allowed: 0 to 500000 (CNY per graduate)" in checked.message


def test_a_bad_target_and_a_bad_name_are_refused_with_their_key_paths(baseline: dict) -> None:
    bad_place = st.set_lever(baseline, "talent_housing", [("2018-01-01", "100")], {"nodes": ["Atlantis"]})
    assert "levers.talent_housing.nodes" in st.check(bad_place).message
    assert "unknown place 'Atlantis'" in st.check(bad_place).message
    assert "name: value 'My Edit'" in st.check(st.set_field(baseline, "name", "My Edit")).message


@pytest.mark.parametrize("start", ["baseline", "plan-2017"])
def test_saved_yaml_loads_unchanged_with_the_cli_loader(baseline: dict, start: str, tmp_path: Path) -> None:
    draft = st.set_field(st.draft_from_file(SCENARIOS / f"{start}.yaml"), "name", "my-edit")
    draft = st.set_lever(
        draft, "talent_housing", [("2018-01-01", "2500"), ("2024-07-01", "4000")], {"nodes": ["XA", "BD"]}
    )
    draft = st.set_field(draft, "end_year", 2025)
    edited = st.check(draft).scenario
    assert edited is not None
    reference = load_scenario(SCENARIOS / "baseline.yaml")
    text = st.scenario_yaml(edited, reference)
    assert "extends: baseline" in text
    assert "2018-01-01: 2500\n" in text  # dates as YAML dates, whole numbers as written by hand
    from tests.conftest import copy_baseline

    copy_baseline(tmp_path)
    path = st.save_scenario(text, "my-edit", tmp_path)
    loaded = load_scenario(path)
    assert loaded.as_data() == edited.as_data()
    assert loaded.sha256() == edited.sha256()
    with pytest.raises(Exception, match="exists already"):
        st.save_scenario(text, "my-edit", tmp_path)
    assert load_scenario(path) == loaded  # the refused save left the file as it was
    if start == "baseline":  # and the command runs it as it is
        from tests.conftest import invoke

        out = tmp_path / "run"
        done = invoke("run", str(path), "--scale", "20000", "--end", "2016", "--out", str(out), "--no-report")
        assert done.status == 0, done.err
        assert json.loads((out / "manifest.json").read_text())["scenario"] == "my-edit"


def test_a_scenario_that_drops_a_parent_lever_is_saved_whole(tmp_path: Path) -> None:
    plan = st.set_field(st.draft_from_file(SCENARIOS / "plan-2017.yaml"), "name", "plan-without-cards-2")
    edited = st.check(st.set_lever(plan, "talent_card", None)).scenario
    assert edited is not None
    text = st.scenario_yaml(edited, load_scenario(SCENARIOS / "plan-2017.yaml"), "plan-2017")
    assert "extends" not in text  # `extends` cannot switch a parent's lever off
    path = st.save_scenario(text, "whole", tmp_path)
    assert load_scenario(path).as_data() == edited.as_data()


def test_run_settings_are_checked_before_anything_runs(baseline: dict) -> None:
    scenario = st.check(baseline).scenario
    assert scenario is not None
    with pytest.raises(Exception, match="replicates: value 9: allowed: 2 to 5"):
        st.plan_run(scenario, scenario, st.RunSettings(replicates=9))
    with pytest.raises(Exception, match="end_year"):
        st.plan_run(scenario, scenario, st.RunSettings(replicates=2, end_year=2040))
    comparison = st.plan_run(scenario, scenario, st.RunSettings(replicates=2, scale=5000, end_year=2017))
    assert comparison.labels == ["my-edit", "my-edit-2"]
    assert comparison.runs == 4 and comparison.reference.scenario.scale == 5000


def _quick(baseline: dict, replicates: int) -> st.Comparison:
    reference = st.check(st.set_field(baseline, "name", "baseline")).scenario
    draft = st.set_lever(
        baseline,
        "graduate_subsidy",
        [("2015-01-01", "200000")],
        {"nodes": ["hebei"], "graduated_in": ["jjj"]},
    )
    scenario = st.check(draft).scenario
    assert reference is not None and scenario is not None
    settings = st.RunSettings(replicates=replicates, scale=20000, end_year=2016, workers=0)
    return st.plan_run(reference, scenario, settings)


def test_a_finished_run_shows_the_paired_effect_and_its_tables(baseline: dict) -> None:
    seen: list[int] = []
    job = st.execute(st.RunJob("my-edit", 4), _quick(baseline, 2), lambda job: seen.append(job.done))
    assert job.status == "done", job.message
    assert seen[:2] == [2, 4]
    head = st.headline(job)
    assert head["year"] == 2016 and head["replicates"] == 2
    assert head["effect"] == pytest.approx(head["scenario_share"] - head["reference_share"])
    assert head["effect_low"] <= head["effect"] <= head["effect_high"]
    assert job.tables is not None
    places = st.effects_by_place(job.tables)
    assert {"jjj", "BJ", "XA"} <= set(places["place"])
    assert list(st.cost_table(job.tables)["lever"].unique()) == ["graduate_subsidy"]


def test_a_cancelled_run_stops_at_the_next_replicate_and_says_so(baseline: dict) -> None:
    comparison = _quick(baseline, 5)
    job = st.RunJob("my-edit", comparison.runs)
    job.cancel_event.clear()

    def cancel_after_first(job: st.RunJob) -> None:
        if job.done == 2:
            job.cancel()

    st.execute(job, comparison, cancel_after_first)
    assert job.status == "cancelled"
    assert job.done == 2 < job.total == 10
    assert job.tables is None
    assert "cancelled after 2 of 10 runs" in job.message


def test_a_run_started_in_the_background_can_be_cancelled_before_it_runs(baseline: dict) -> None:
    gate = threading.Event()
    comparison = _quick(baseline, 2)

    def wait_for_gate(job: st.RunJob) -> None:
        gate.wait(10)

    job, thread = st.start(comparison, wait_for_gate)
    job.cancel()
    gate.set()
    thread.join(60)
    assert not thread.is_alive()
    assert job.status == "cancelled" and job.done <= 2


def test_app_command_refuses_a_bad_port_or_a_missing_scenarios_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    from app.cli import main

    assert main(["app", "--port", "0"]) == 2
    assert "--port: value 0: allowed: 1 to 65535" in capsys.readouterr().err
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setenv(st.SCENARIOS_ENV, str(SCENARIOS))
        assert main(["app", "--port", str(port)]) == 2
        assert f"127.0.0.1:{port} is in use" in capsys.readouterr().err
    monkeypatch.setenv(st.SCENARIOS_ENV, str(tmp_path))
    assert main(["app", "--port", "8765"]) == 2
    assert "baseline.yaml; run it from the project folder" in capsys.readouterr().err
