"""The charts and the HTML report of one run, on a synthetic run directory (tests/fake_run.py)."""

from __future__ import annotations

import base64
import dataclasses
import html
import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from model.errors import ScenarioError
from model.parameters import PARAMETERS
from model.scenario import load_scenario
from reports import charts
from reports import run_report as report
from reports.charts import CHART_NAMES, LANGS
from tests.conftest import SCENARIOS, invoke
from tests.fake_run import ASSUMPTIONS, SCENARIO, make_fake_run


@pytest.fixture(scope="module")
def built(reported_fake_run: tuple[Path, list[str]]) -> tuple[Path, str, list[str]]:
    """The fake run with its report, built once a session (``conftest.reported_fake_run``);
    returns the run dir, the page and the warnings writing it raised."""
    run_dir, caught = reported_fake_run
    return run_dir, (run_dir / "report.html").read_text(encoding="utf-8"), caught


def temp_files(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.name.endswith(".tmp")]


def test_report_is_one_self_contained_file(built: tuple[Path, str, list[str]]) -> None:
    _, page, _ = built
    assert page.startswith("<!DOCTYPE html>")
    for tag in ("<script", "<link", "<iframe", "<object", "<embed", "@import"):
        assert tag not in page.lower()
    urls = re.findall(r"url\(([^)]{0,40})", page)
    assert urls, "the page embeds its Chinese font"
    assert all(url.startswith('"data:font/woff2;base64,') for url in urls), urls
    references = re.findall(r"""\b(?:src|href)\s*=\s*["']([^"']*)["']""", page)
    assert references, "the report embeds its charts"
    for reference in references:
        assert reference.startswith(("data:", "#")), reference
    images = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == 2 * len(CHART_NAMES)  # every chart, English and Chinese
    for data in images:
        assert base64.b64decode(data).startswith(b"\x89PNG\r\n\x1a\n")
    anchors = set(re.findall(r'id="([^"]+)"', page))
    for link in re.findall(r'href="#([^"]+)"', page):
        assert link in anchors


def test_report_states_scenario_and_hebei_share(built: tuple[Path, str, list[str]]) -> None:
    run_dir, page, _ = built
    assert html.escape(SCENARIO) in page
    assert SCENARIO not in page  # the name has markup characters: they must be escaped
    indicators = pd.read_csv(run_dir / "indicators.csv")
    share = indicators[indicators["indicator"] == "hebei_share"].set_index("year")["value"]
    for year in (2015, 2020, 2025, 2030):
        assert re.fullmatch(r"\d{1,3}\.\d%", report.format_share(share[year]))
    assert f"{report.format_share(share[2015])} in 2015" in page
    assert f"{report.format_share(share[2030])} in 2030" in page
    for year in (2020, 2025):
        assert f"{year}: {report.format_share(share[year])}" in page
    total = indicators[indicators["indicator"] == "talents.jjj"].set_index("year")["value"]
    assert f"{total[2030] / 1e6:,.2f} million" in page
    xiongan = indicators[indicators["indicator"] == "xiongan_talents"].set_index("year")["value"]
    assert f"Xiong&#x27;an has {xiongan[2030]:,.0f} talents in 2030" in page


def test_report_sections_and_escaping(built: tuple[Path, str, list[str]]) -> None:
    _, page, _ = built
    for anchor in report.SECTIONS:
        assert f'<section id="{anchor}">' in page
    # Run text is escaped, never markup.
    assert "&lt;b&gt;not markup&lt;/b&gt; &amp; friends" in page
    assert "&lt;script&gt;alert" in page
    # Unknown indicators appear in the generic table rather than failing.
    assert "mystery.index" in page
    # Drivers: the sentence names the largest term first.
    assert "drive the largest changes" in page
    # Talent accounts: a row for each province and period between the table years; the fake
    # run's random flows do not add up to its talents, and the page says by how much.
    accounts = page[page.index('<section id="accounts">') : page.index('<section id="levers">')]
    assert "university entrants" in accounts and "adults&#x27; degrees" in accounts
    assert len(re.findall(r"<td>2015–2020</td>", accounts)) == 3
    assert re.search(r"The terms leave [\d,]+ persons unexplained", accounts)
    # Lever spending summary and notes.
    assert "graduate_subsidy" in page and "talent_housing" in page
    assert "held at 30000 CNY from 2026" in page
    # The changed parameter is marked.
    assert re.search(r'<tr class="changed"><td>beta_wage</td>', page)
    # Provenance: counts by status, then the whole table folded away.
    assert re.search(r"<td>observed</td><td class=\"num\">\d+</td>", page)
    assert "<details><summary>All 17 values" in page


def test_assumptions_markdown_rendered_and_escaped(built: tuple[Path, str, list[str]]) -> None:
    _, page, _ = built
    assert "<h3>Assumptions</h3>" in page
    assert "<h4>A1 A table</h4>" in page
    assert "<li><strong>Talents</strong> are tertiary-educated residents, students included.</li>" in page
    assert "<code>100,000</code>" in page
    assert "&lt;b&gt;not bold&lt;/b&gt;" in page
    assert '<td class="num">32,311</td>' in page
    assert "<ol><li>first</li><li>second</li></ol>" in page


def test_missing_assumptions_file_is_said_not_fatal(tmp_path: Path) -> None:
    assert report.read_assumptions(tmp_path / "absent.md") is None
    html_text = report._assumptions(None, "model/data/ASSUMPTIONS.md")
    assert "not written yet" in html_text


def test_every_chart_in_both_languages_as_png_and_svg(built: tuple[Path, str, list[str]]) -> None:
    run_dir, _, _ = built
    for name in CHART_NAMES:
        for lang in LANGS:
            png = run_dir / "charts" / f"{name}.{lang}.png"
            svg = run_dir / "charts" / f"{name}.{lang}.svg"
            assert png.read_bytes().startswith(b"\x89PNG")
            assert b"<svg" in svg.read_bytes()[:2000]
    assert not temp_files(run_dir)


def test_svg_charts_carry_their_glyphs_and_no_glyph_is_missing(
    built: tuple[Path, str, list[str]],
) -> None:
    run_dir, _, caught = built
    for name in ("talents_by_pole", "hebei_share", "talents_map"):
        for lang in ("en", "zh"):
            svg = (run_dir / "charts" / f"{name}.{lang}.svg").read_text(encoding="utf-8")
            assert "<text" not in svg and "<path" in svg  # text drawn as glyph paths: no font needed
    assert not [message for message in caught if "missing from" in message.lower()]


def test_failing_chart_leaves_previous_report_and_no_temp_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir = make_fake_run(tmp_path / "run")
    previous = "<!DOCTYPE html><p>previous report</p>"
    (run_dir / "report.html").write_text(previous, encoding="utf-8")

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("chart failed")

    monkeypatch.setattr(charts, "price_wage_chart", broken)
    with pytest.raises(RuntimeError, match="chart failed"):
        report.write_report(run_dir)
    assert (run_dir / "report.html").read_text(encoding="utf-8") == previous
    assert not (run_dir / "charts").exists()  # charts are drawn before any is written
    assert not temp_files(run_dir)


def test_failing_final_write_leaves_previous_report(
    built: tuple[Path, str, list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir = tmp_path / "run"
    shutil.copytree(built[0], run_dir)
    before = (run_dir / "report.html").read_bytes()
    real_replace = os.replace

    def replace(source: str | Path, target: str | Path) -> None:
        if Path(target).name == "report.html":
            raise OSError("disk full")
        real_replace(source, target)

    monkeypatch.setattr("experiments.files.os.replace", replace)
    # the charts drawn already serve (drawing them again is tested above): only the page's write fails
    monkeypatch.setattr(
        report, "write_charts", lambda run_dir, charts, lang, run: sorted(charts.glob(f"*.{lang}.*"))
    )
    with pytest.raises(OSError, match="disk full"):
        report.write_report(run_dir)
    assert (run_dir / "report.html").read_bytes() == before
    assert not temp_files(run_dir)


def test_run_without_drivers_or_levers(tmp_path: Path) -> None:
    run_dir = make_fake_run(tmp_path / "run", years=range(2015, 2023), with_drivers=False, with_levers=False)
    (run_dir / "notes.json").write_text("[]", encoding="utf-8")
    stale = run_dir / "charts" / "drivers.en.png"
    stale.parent.mkdir()
    stale.write_bytes(b"old")
    page = report.write_report(run_dir, assumptions=tmp_path / "absent.md").read_text("utf-8")
    assert not stale.exists()  # a chart the run no longer has is removed
    assert not (run_dir / "charts" / "drivers.zh.svg").exists()
    assert "drivers.csv is empty" in page
    assert "lever_spending.csv is empty" in page
    assert "The run left no notes." in page
    assert "not written yet" in page
    # A run ending in 2022 reports 2015 and 2020, and its last year, but not 2025 or 2030.
    assert '<th class="num">2022</th>' in page and '<th class="num">2025</th>' not in page


def test_missing_required_file_names_it(tmp_path: Path) -> None:
    run_dir = make_fake_run(tmp_path / "run", years=range(2015, 2018))
    (run_dir / "indicators.csv").unlink()
    with pytest.raises(ScenarioError, match="indicators.csv"):
        report.write_report(run_dir)


def test_formats() -> None:
    assert report.format_share(0.36041) == "36.0%"
    assert report.format_persons(19_400_000) == "19.40 million"
    assert report.format_persons(52_300) == "52,300"
    assert report.format_indicator("unemployment_rate", 0.049) == "4.9%"
    assert report.format_indicator("talents.BJ", 6_559_162.0) == "6,559,162"
    assert report.format_number(35826.4) == "35,826"
    assert report.format_number(1.55) == "1.55"
    assert report.format_number(float("nan")) == "–"
    assert charts.format_persons(412_000, "en") == "412 thousand"
    assert charts.format_persons(412_000, "zh") == "41万人"
    assert charts.short_name("Baoding (incl. Dingzhou; excl. Xiong'an)") == "Baoding"
    assert charts.short_name("保定(含定州，不含雄安)") == "保定"


def test_band_chart_draws_bands() -> None:
    years = range(2015, 2021)
    lines = pd.DataFrame({"baseline": [0.30, 0.31, 0.32, 0.33, 0.34, 0.35]}, index=years)
    band = (lines - 0.01, lines + 0.01)
    figure = charts.line_chart(lines, title="t", ylabel="share", band=band, percent=True, milestones="en")
    ax = figure.axes[0]
    assert len(ax.collections) == 1  # one band
    assert np.asarray(ax.lines[0].get_ydata(), dtype=float)[0] == pytest.approx(0.30)


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ScenarioError, match="fr"):
        charts.check_lang("fr")


# --- one language a page (--lang) ---------------------------------------------------------------

CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")


def _pngs(run_dir: Path) -> dict[str, dict[str, bytes]]:
    """The built run's chart PNGs by language and name, to render pages without drawing again."""
    return {
        lang: {name: (run_dir / "charts" / f"{name}.{lang}.png").read_bytes() for name in CHART_NAMES}
        for lang in LANGS
    }


def _images(page: str) -> list[bytes]:
    return [base64.b64decode(data) for data in re.findall(r'<img src="data:image/png;base64,([^"]+)"', page)]


def _outside_data(page: str) -> str:
    """The page's text without its style, images and data tables (run notes, provenance,
    parameters, assumptions, manifest): what the report itself says."""
    page = re.sub(r"<style>.*?</style>", "", page, flags=re.S)
    page = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", page)
    for anchor in ("notes", "assumptions", "sources", "parameters", "manifest"):
        page = re.sub(rf'<section id="{anchor}">.*?</section>', "", page, flags=re.S)
    return page


@pytest.fixture(scope="module")
def chinese(built: tuple[Path, str, list[str]], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A copy of the built run with its report written again in Chinese."""
    run_dir = tmp_path_factory.mktemp("zh") / "run"
    shutil.copytree(built[0], run_dir)
    shutil.rmtree(run_dir / "charts")
    path = report.write_report(run_dir, assumptions=tmp_path_factory.mktemp("none") / "absent.md", lang="zh")
    return run_dir, path.read_text(encoding="utf-8")


def test_chinese_report_is_in_chinese_with_only_chinese_charts(
    built: tuple[Path, str, list[str]], chinese: tuple[Path, str]
) -> None:
    run_dir, page = chinese
    assert '<html lang="zh-CN">' in page
    headings = re.findall(r"<h2>(.*?)</h2>", page)
    assert headings == [report.TEXTS[anchor]["zh"] for anchor in report.SECTIONS]
    for anchor in report.SECTIONS:  # no English section title, alone or beside the Chinese
        assert f">{report.TEXTS[anchor]['en']}<" not in page
        assert report.TEXTS[anchor]["both"] not in page
    assert "京津冀人才总量从2015年的" in page and "Talents in the region go from" not in page
    assert "阶段指标" in page and "Headline numbers" not in page and "Method" not in headings
    images = _images(page)
    assert len(images) == len(CHART_NAMES)  # one chart each, the Chinese one
    assert sorted(images) == sorted(_pngs(run_dir)["zh"].values())
    assert "中文图 (Chinese version)" not in page
    assert "本节内容是数据原文，仅有英文。" in page  # the data tables stay in English, and it says so
    # The chart files stay in both languages whatever the page's language.
    for name in CHART_NAMES:
        for lang in LANGS:
            assert (run_dir / "charts" / f"{name}.{lang}.png").is_file()
            assert (run_dir / "charts" / f"{name}.{lang}.svg").is_file()
    assert "@font-face" in page


def test_a_run_without_the_accounts_columns_says_so(built: tuple[Path, str, list[str]]) -> None:
    """A run folder written before entrants and degrees were recorded still reports, and says
    why it has no accounts, in the page's language."""
    run = charts.read_run(built[0])
    older = dataclasses.replace(run, node_years=run.node_years.drop(columns=["university_entrants"]))
    assert "has no entrants, degrees and deaths" in report._accounts(older, "en")
    assert "无法分解人才增减" in report._accounts(older, "zh")
    assert "<table" not in report._accounts(older, "en")


def test_english_report_has_no_chinese_outside_its_data(built: tuple[Path, str, list[str]]) -> None:
    run_dir = built[0]
    run = charts.read_run(run_dir)
    page = report.render_report(run, _pngs(run_dir), ASSUMPTIONS, lang="en")
    assert '<html lang="en">' in page
    said = _outside_data(page)
    assert not CJK.findall(said), sorted(set(CJK.findall(said)))
    headings = re.findall(r"<h[1-3]>(.*?)</h[1-3]>", said)
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", said)
    assert "Summary" in headings and len(captions) == len(CHART_NAMES)
    assert not CJK.search("".join(headings + captions))
    images = _images(page)
    assert sorted(images) == sorted(_pngs(run_dir)["en"].values())
    # The fake run's data tables (parameters' meanings, provenance) are ASCII here too, so the page
    # shows no Chinese at all and embeds no font.
    assert not CJK.search(re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", page))
    assert "@font-face" not in page


def test_default_report_stays_bilingual(built: tuple[Path, str, list[str]]) -> None:
    _, page, _ = built
    assert '<html lang="en">' in page
    headings = re.findall(r"<h2>(.*?)</h2>", page)
    assert headings == [report.TEXTS[anchor]["both"] for anchor in report.SECTIONS]
    assert "<h2>Summary (概要)</h2>" in page and "<h2>Method (方法)</h2>" in page
    assert page.count("中文图 (Chinese version)") == len(CHART_NAMES)


def test_unknown_report_language_is_refused(built: tuple[Path, str, list[str]]) -> None:
    with pytest.raises(ScenarioError, match="fr"):
        report.write_report(built[0], lang="fr")


def test_jjj_talent_run_refuses_a_bad_language() -> None:
    with pytest.raises(SystemExit) as refused:
        invoke("run", str(SCENARIOS / "baseline.yaml"), "--lang", "fr")
    assert refused.value.code == 2


def test_method_shows_the_fit_of_the_layer_the_scenario_extends(
    built: tuple[Path, str, list[str]], tmp_path: Path
) -> None:
    """A run folder with the calibrated layer's fit table (``jjj-talent run`` copies it) shows
    each target in the method section; one without it shows none."""
    assert "Fit to the numbers published up to 2015" not in built[1]
    run_dir = tmp_path / "run"
    shutil.copytree(built[0], run_dir)
    record = SCENARIOS / "calibrated-2015" / "fit.csv"
    shutil.copyfile(record, run_dir / "fit.csv")
    page = report.render_report(charts.read_run(run_dir), _pngs(run_dir), ASSUMPTIONS, lang="en")
    fit = pd.read_csv(record)
    method = page[page.index("Fit to the numbers published up to 2015") :]
    assert f"{len(fit)} targets" in method
    first = fit.iloc[0]
    assert f'<td class="num">{first.fit_relative_error:+.1%}</td>' in method
    assert f'<td class="num">{first.observed:,.0f}</td>' in method


def test_a_run_finds_the_fit_record_up_its_extends_chain(tmp_path: Path) -> None:
    from experiments.run import calibration_record

    assert calibration_record(SCENARIOS / "plan-2017.yaml") == SCENARIOS / "calibrated-2015"
    lone = tmp_path / "lone.yaml"
    lone.write_text("format: 2\nname: lone\n", encoding="utf-8")
    assert calibration_record(lone) is None


VALIDATION_SUMMARY = {
    "scenario": "history",
    "start_year": 2010,
    "replicates": 3,
    "scale": 100,
    "interval": "replicates (chance only)",
    "after_start_year": {"rows": 2, "mape_percent": 7.5, "mase": 0.42, "within_interval": 0},
    "after_start_year_by_indicator": {
        "new_residential_price": {"rows": 1, "mape_percent": 12.5, "mase": 0.61},
        "resident_population": {"rows": 1, "mape_percent": 2.5, "mase": 0.2},
    },
    "command": "jjj-talent validate scenarios/history.yaml --from 2010",
}


def test_method_shows_the_validation_of_the_layer_the_scenario_extends(
    built: tuple[Path, str, list[str]], tmp_path: Path
) -> None:
    """A run folder with the layer's validation (``jjj-talent run`` copies it from the record)
    shows the summary by indicator and the largest errors; one without it shows none."""
    assert "Validation on the numbers published after 2015" not in built[1]
    run_dir = tmp_path / "run"
    shutil.copytree(built[0], run_dir)
    pd.DataFrame(
        {
            "unit": ["beijing", "SJZ", "beijing"],
            "indicator": ["resident_population", "new_residential_price", "resident_population"],
            "year": [2018, 2019, 2010],
            "observed": [21_000_000, 9_000, 19_000_000],
            "result": ["compared"] * 3,
            "simulated_mean": [21_525_000, 7_875, 19_000_000],
            "simulated_p05": [21_400_000, 7_700, 19_000_000],
            "simulated_p95": [21_650_000, 8_050, 19_000_000],
            "relative_error": [0.025, -0.125, 0.0],
            "naive_relative_error": [0.1, -0.2, 0.0],
        }
    ).to_csv(run_dir / "validation.csv", index=False)
    (run_dir / "validation.json").write_text(json.dumps(VALIDATION_SUMMARY), encoding="utf-8")
    page = report.render_report(charts.read_run(run_dir), _pngs(run_dir), ASSUMPTIONS, lang="en")
    section = page[page.index("Validation on the numbers published after 2015") :]
    assert "2 rows, MAPE 7.5 %" in section and "MASE 0.42" in section
    assert "the interval holds the observed value of 0 of the 2" in section  # both rows outside
    assert "<td>new_residential_price</td>" in section and '<td class="num">12.5 %</td>' in section
    # the largest error first; the row of the start year is not a validation row
    assert section.index('<td class="num">-12.5%</td>') < section.index('<td class="num">+2.5%</td>')
    assert "2010</td>" not in section.split("Largest relative errors")[1]


def test_a_run_copies_the_records_validation_only_when_it_validated_the_layers_values(tmp_path: Path) -> None:
    from experiments.run import copy_record

    layer = tmp_path / "calibrated-2015.yaml"
    shutil.copyfile(SCENARIOS / "calibrated-2015.yaml", layer)
    record = tmp_path / "calibrated-2015"
    (record / "validation").mkdir(parents=True)
    shutil.copyfile(SCENARIOS / "calibrated-2015" / "fit.csv", record / "fit.csv")
    (record / "validation" / "validation.csv").write_text("unit\n", encoding="utf-8")
    fitted = load_scenario(layer).parameter_overrides()
    summary = record / "validation" / "summary.json"
    summary.write_text(json.dumps({"parameters": fitted}), encoding="utf-8")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    assert copy_record(record, run_dir) is None
    assert (run_dir / "fit.csv").is_file() and (run_dir / "validation.json").is_file()

    stale = {**fitted, next(iter(fitted)): -1.0}
    summary.write_text(json.dumps({"parameters": stale}), encoding="utf-8")
    other = tmp_path / "other"
    other.mkdir()
    assert "validated other parameter values" in (copy_record(record, other) or "")
    assert (other / "fit.csv").is_file() and not (other / "validation.json").exists()


def test_each_parameter_says_where_its_value_came_from() -> None:
    from experiments.run import parameter_table

    fitted = load_scenario(SCENARIOS / "calibrated-2015.yaml").parameter_overrides()
    drawn, moved, *at_fit = fitted
    own = next(name for name in PARAMETERS if name not in fitted)  # a scenario's own setting
    ran = {name: p.default for name, p in PARAMETERS.items()} | fitted
    ran |= {drawn: fitted[drawn] * 1.01, moved: fitted[moved] * 1.01, own: PARAMETERS[own].default + 1}
    origin = parameter_table(ran, fitted, drawn=[drawn]).set_index("name")["origin"]
    assert origin[drawn] == "ensemble" and origin[moved] == "scenario" and origin[own] == "scenario"
    assert (origin[at_fit] == "fitted").all()
    assert (origin.drop([*fitted, own]) == "default").all()
    without_layer = parameter_table(ran).set_index("name")["origin"]
    assert set(without_layer[without_layer != "default"].index) == {*fitted, own}


def test_the_shipped_records_validation_validated_the_shipped_layer() -> None:
    """After a refit, the README's validate command must be re-run: a stale record would be left
    out of every report."""
    summary = json.loads((SCENARIOS / "calibrated-2015" / "validation" / "summary.json").read_text("utf-8"))
    fitted = load_scenario(SCENARIOS / "calibrated-2015.yaml").parameter_overrides()
    assert {name: summary["parameters"][name] for name in fitted} == fitted
    assert summary["start_year"] == 2010 and summary["scenario"] == "history"
