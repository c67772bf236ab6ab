"""Scenario comparison (experiments/compare.py, reports/compare_report.py): common random
numbers, paired effects, spending and cost per additional talent, parallel runs, refusal of bad
input. Runs are small (scale 2000, 2015-2018, 2-3 replicates)."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments import runner
from experiments.compare import (
    ComparedScenario,
    Comparison,
    compare,
    cost_effectiveness_table,
    default_out_dir,
    milestone_table,
    plan_comparison,
)
from experiments.replicates import replicate_seeds
from model.errors import RunError, ScenarioError
from model.indicators import ACCOUNT_TERMS, SUBTRACTED
from model.layout import default_layout
from model.scenario import load_scenario
from reports import compare_report
from tests.conftest import SCENARIOS, TEST_SCENARIOS, Invocation, copy_baseline
from tests.conftest import invoke as run_command

BASELINE = SCENARIOS / "baseline.yaml"
SUBSIDY = TEST_SCENARIOS / "strong-subsidy.yaml"  # an effect clear of noise at scale SCALE
SCALE = 2000  # persons a row: the strong subsidy moves enough rows to clear replicate noise
SMALL = ("--scale", str(SCALE), "--end", "2018")
REPLICATES = 3
FILES = [
    "indicators.parquet",
    "effects.csv",
    "spending.csv",
    "cost_effectiveness.csv",
    "milestones.csv",
    "manifest.json",
    "report.html",
]
CHARTS = [
    "hebei_share",
    "effect_by_pole",
    "effect_by_node",
    "effect_map_1",
    "spending",
]  # one effect map a scenario


def invoke(*argv: str) -> Invocation:
    """``jjj-talent compare ARGV`` in this process, capturing its output."""
    return run_command("compare", *argv)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") or p.name.endswith(".tmp"))


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Invocation]:
    """Baseline vs strong-subsidy, 3 replicates, in this process, with the report."""
    out = tmp_path_factory.mktemp("compare") / "pair"
    result = invoke(
        str(BASELINE),
        str(SUBSIDY),
        "--replicates",
        str(REPLICATES),
        *SMALL,
        "--workers",
        "0",
        "--out",
        str(out),
    )
    assert result.status == 0, result.err
    return out, result


@pytest.fixture(scope="module")
def effects(pair: tuple[Path, Invocation]) -> pd.DataFrame:
    return pd.read_csv(pair[0] / "effects.csv")


@pytest.fixture(scope="module")
def runs(pair: tuple[Path, Invocation]) -> pd.DataFrame:
    return pd.read_parquet(pair[0] / "indicators.parquet")


# --- the command --------------------------------------------------------------------------------


def test_command_shows_progress_and_ends_with_the_count(pair: tuple[Path, Invocation]) -> None:
    _, result = pair
    assert result.out.strip().splitlines()[-1] == "compare: scenarios=2 replicates=3 runs=6"
    lines = [line for line in result.err.splitlines() if re.match(r"compare: \d/6 runs done", line)]
    assert lines and lines[0].startswith("compare: 1/6 runs done")  # the first run, then now and then
    assert lines[-1].startswith("compare: 6/6 runs done") and lines[-1].endswith("finished")


def test_every_file_and_chart_is_written(pair: tuple[Path, Invocation]) -> None:
    out, _ = pair
    assert [name for name in FILES if not (out / name).is_file()] == []
    missing = [
        f"{name}.{lang}.{ext}"
        for name in CHARTS
        for lang in ("en", "zh")
        for ext in ("png", "svg")
        if not (out / "charts" / f"{name}.{lang}.{ext}").is_file()
    ]
    assert missing == []
    assert leftovers(out) == [] and leftovers(out.parent) == []


def test_manifest_records_scenarios_seeds_and_versions(pair: tuple[Path, Invocation]) -> None:
    out, _ = pair
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    small = {"scale": SCALE, "end_year": 2018}
    hashes = [load_scenario(f).with_overrides(small).sha256() for f in (BASELINE, SUBSIDY)]
    assert [s["sha256"] for s in manifest["scenarios"]] == hashes
    assert [s["name"] for s in manifest["scenarios"]] == ["baseline", "strong-subsidy"]
    assert manifest["root_seed"] == load_scenario(BASELINE).seed
    assert manifest["seeds"] == replicate_seeds(manifest["root_seed"], REPLICATES)
    assert (manifest["replicates"], manifest["scale"], manifest["end_year"]) == (3, SCALE, 2018)
    assert manifest["versions"]["mesa"] == "3.3.1"
    assert manifest["wall_seconds"] > 0


# --- common random numbers ----------------------------------------------------------------------


def test_a_replicate_has_one_seed_across_scenarios_and_replicates_differ(runs: pd.DataFrame) -> None:
    seeds = runs.groupby("replicate")["seed"].unique()
    assert all(len(per_replicate) == 1 for per_replicate in seeds)
    assert runs.groupby("scenario")["seed"].unique().map(sorted).map(tuple).nunique() == 1
    assert len({int(per_replicate[0]) for per_replicate in seeds}) == REPLICATES


def test_replicate_seeds_are_reproducible_and_extend() -> None:
    seeds = replicate_seeds(7, 4)
    assert seeds == replicate_seeds(7, 4)
    assert seeds[:2] == replicate_seeds(7, 2)  # more replicates keep the earlier ones
    assert len(set(seeds)) == 4 and all(0 <= seed < 2**63 for seed in seeds)
    assert seeds != replicate_seeds(8, 4)


def test_baseline_against_itself_has_exactly_zero_effects(tmp_path: Path) -> None:
    result = compare(
        [BASELINE, BASELINE], 2, out_dir=tmp_path / "self", scale=SCALE, end_year=2018, workers=0
    )
    table = pd.read_csv(tmp_path / "self" / "effects.csv")
    assert result.comparison.labels == ["baseline", "baseline-2"]
    assert set(table["indicator"]) == set(result.tables.indicators["indicator"])
    assert len(table) > 0
    for column in ("effect_mean", "effect_p05", "effect_p95"):
        assert (table[column] == 0).all(), column
    assert (table["base_mean"] == table["scenario_mean"]).all()


# --- effects, spending, cost --------------------------------------------------------------------


def test_effects_cover_nodes_provinces_poles_and_every_indicator(
    effects: pd.DataFrame, runs: pd.DataFrame
) -> None:
    assert set(effects["indicator"]) == set(runs["indicator"])
    nodes = {f"talents.{node}" for node in default_layout().ids}
    provinces = {
        f"talents.{kind}.{p}" for kind in ("province", "pole") for p in ("beijing", "tianjin", "hebei")
    }
    assert nodes | provinces | {"hebei_share", "talents.jjj"} <= set(effects["indicator"])
    assert set(effects["scenario"]) == {"strong-subsidy"}
    assert set(effects["year"]) == {2015, 2016, 2017, 2018}


def test_effects_are_paired_differences_with_percentile_intervals(
    effects: pd.DataFrame, runs: pd.DataFrame
) -> None:
    name, year = "talents.province.hebei", 2018
    chosen = runs[(runs["indicator"] == name) & (runs["year"] == year)]
    values = chosen.pivot(index="replicate", columns="scenario", values="value")
    paired = (values["strong-subsidy"] - values["baseline"]).to_numpy()
    row = effects[(effects["indicator"] == name) & (effects["year"] == year)].iloc[0]
    assert row["effect_mean"] == pytest.approx(paired.mean(), rel=1e-9)
    assert row["effect_p05"] == pytest.approx(np.percentile(paired, 5), rel=1e-9)
    assert row["effect_p95"] == pytest.approx(np.percentile(paired, 95), rel=1e-9)
    assert row["base_mean"] == pytest.approx(values["baseline"].mean(), rel=1e-12)


def test_the_subsidy_raises_hebeis_talents(effects: pd.DataFrame) -> None:
    row = effects[(effects["indicator"] == "talents.province.hebei") & (effects["year"] == 2018)]
    assert row["effect_mean"].iloc[0] > 0
    before = effects[(effects["indicator"] == "talents.province.hebei") & (effects["year"] < 2017)]
    assert (before["effect_mean"] == 0).all()  # the lever starts in mid-2017


def test_only_the_graduate_subsidy_spends(pair: tuple[Path, Invocation]) -> None:
    spending = pd.read_csv(pair[0] / "spending.csv")
    spent = spending[spending["cny_mean"] > 0]
    assert set(spent["lever"]) == {"graduate_subsidy"}
    assert set(spent["scenario"]) == {"strong-subsidy"}
    assert spent["year"].min() == 2017


def test_cost_per_additional_talent_is_spending_over_effect(
    pair: tuple[Path, Invocation], effects: pd.DataFrame
) -> None:
    out, _ = pair
    costs = pd.read_csv(out / "cost_effectiveness.csv", keep_default_na=False)
    assert list(zip(costs["lever"], costs["year"])) == [("graduate_subsidy", 2018)]
    row = costs.iloc[0]
    layout = default_layout()
    hebei = [node for node, p in zip(layout.ids, layout.nodes["province"]) if p == "hebei"]
    assert row["target_nodes"].split(";") == hebei
    spending = pd.read_csv(out / "spending.csv")
    assert row["cumulative_cny_mean"] == pytest.approx(spending["cny_mean"].sum(), rel=1e-12)
    at_end = effects[
        (effects["year"] == 2018) & effects["indicator"].isin([f"talents.{node}" for node in hebei])
    ]
    assert row["additional_talents_mean"] == pytest.approx(at_end["effect_mean"].sum(), rel=1e-9)
    assert row["additional_talents_p05"] > 0, "the subsidy's effect should be clear of 0"
    assert float(row["cny_per_additional_talent"]) == pytest.approx(
        row["cumulative_cny_mean"] / row["additional_talents_mean"], rel=1e-12
    )
    assert row["note"] == ""


def _comparison(labels: list[str]) -> Comparison:
    subsidy = load_scenario(SUBSIDY)
    entries = [
        ComparedScenario(label, load_scenario(BASELINE) if i == 0 else subsidy, Path(label))
        for i, label in enumerate(labels)
    ]
    return Comparison(tuple(entries), 1, (11, 12, 13), workers=0)


@pytest.mark.parametrize(
    ("gains", "expected", "note"),
    [
        ([100.0, 200.0, 300.0], 6_000_000 / 200.0, ""),
        ([-100.0, 100.0, 300.0], None, "includes 0"),
        ([-300.0, -200.0, -100.0], None, "at or below 0"),
    ],
)
def test_cost_is_blank_with_a_reason_unless_the_effect_is_clear(
    gains: list[float], expected: float | None, note: str
) -> None:
    """Hand-made runs: 3 replicates, talents in Shijiazhuang (a target of the subsidy) raised by
    ``gains``; spending 1 and 5 million CNY in two years."""
    rows = []
    for replicate, gain in enumerate(gains):
        for label, extra in (("base", 0.0), ("reform", gain)):
            rows.append(
                {
                    "scenario": label,
                    "replicate": replicate,
                    "seed": 11 + replicate,
                    "year": 2018,
                    "indicator": "talents.SJZ",
                    "value": 1000.0 + extra,
                }
            )
            rows.append(
                {
                    "scenario": label,
                    "replicate": replicate,
                    "seed": 11 + replicate,
                    "year": 2018,
                    "indicator": "talents.BJ",
                    "value": 5000.0 + 3 * extra,
                }
            )
    spending = pd.DataFrame(
        {"scenario": "reform", "lever": "graduate_subsidy", "year": [2017, 2018], "cny_mean": [1e6, 5e6]}
    )
    table = cost_effectiveness_table(_comparison(["base", "reform"]), pd.DataFrame(rows), spending)
    row = table.iloc[0]
    assert row["cumulative_cny_mean"] == 6e6
    assert row["additional_talents_mean"] == pytest.approx(np.mean(gains))  # Beijing left out
    if expected is None:
        assert np.isnan(row["cny_per_additional_talent"])
        assert note in row["note"]
    else:
        assert row["cny_per_additional_talent"] == pytest.approx(expected)
        assert row["note"] == ""


def test_milestones_give_mean_and_interval_at_milestone_years() -> None:
    rows = [
        {"scenario": "base", "replicate": r, "seed": r, "year": year, "indicator": name, "value": value + r}
        for r in range(3)
        for year in (2019, 2020, 2025)
        for name, value in (("hebei_share", 0.4), ("talents.BJ", 10.0), ("high_end.pole.beijing", 5.0))
    ]
    table = milestone_table(pd.DataFrame(rows), ["base"])
    assert set(table["year"]) == {2020, 2025}
    assert list(dict.fromkeys(table["indicator"])) == ["hebei_share", "high_end.pole.beijing"]
    share = table[(table["indicator"] == "hebei_share") & (table["year"] == 2025)].iloc[0]
    assert share["mean"] == pytest.approx(1.4)
    assert (share["p05"], share["p95"]) == pytest.approx((0.4 + 0.1, 0.4 + 1.9))
    assert "structure" in share["stands_for"]
    beijing = table[table["indicator"] == "high_end.pole.beijing"].iloc[0]
    assert "high-end talent cluster" in beijing["stands_for"]


# --- parallel runs ------------------------------------------------------------------------------


def test_one_and_two_workers_give_identical_results(pair: tuple[Path, Invocation], tmp_path: Path) -> None:
    out, _ = pair
    result = compare(
        [BASELINE, SUBSIDY], REPLICATES, out_dir=tmp_path / "two", scale=SCALE, end_year=2018, workers=2
    )
    assert result.comparison.workers == 2
    for name in ("effects.csv", "spending.csv", "cost_effectiveness.csv", "milestones.csv"):
        assert (tmp_path / "two" / name).read_bytes() == (out / name).read_bytes(), name
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "two" / "indicators.parquet"), pd.read_parquet(out / "indicators.parquet")
    )


# --- bad input ----------------------------------------------------------------------------------


@pytest.fixture
def existing_out(tmp_path: Path) -> Path:
    out = tmp_path / "outputs" / "cmp"
    out.mkdir(parents=True)
    (out / "effects.csv").write_text("keep me\n", encoding="utf-8")
    return out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([str(BASELINE), str(SUBSIDY), "--replicates", "0"], "--replicates"),
        ([str(BASELINE), "missing.yaml", "--replicates", "2"], "missing.yaml"),
        ([str(BASELINE), "--replicates", "2"], "at least two"),
        ([str(BASELINE), str(SUBSIDY), "--replicates", "2", "--workers", "-1"], "--workers"),
        ([str(BASELINE), str(SUBSIDY), "--replicates", "2", "--end", "2040"], "end_year"),
    ],
)
def test_bad_input_exits_2_and_leaves_the_out_folder_alone(
    existing_out: Path, argv: list[str], message: str
) -> None:
    result = invoke(*argv, "--out", str(existing_out))
    assert result.status == 2
    assert message in result.err and result.err.startswith("jjj-talent: error:")
    assert result.out == ""
    assert [p.name for p in existing_out.iterdir()] == ["effects.csv"]
    assert (existing_out / "effects.csv").read_text(encoding="utf-8") == "keep me\n"
    assert leftovers(existing_out.parent) == []


def test_bad_input_raises_scenario_error_before_running(existing_out: Path) -> None:
    with pytest.raises(ScenarioError, match="--replicates"):
        compare([BASELINE, SUBSIDY], 0, out_dir=existing_out)
    with pytest.raises(ScenarioError, match="cannot read"):
        compare([BASELINE, existing_out.parent / "nope.yaml"], 2, out_dir=existing_out)
    assert (existing_out / "effects.csv").read_text(encoding="utf-8") == "keep me\n"


def test_scenarios_that_disagree_on_years_are_refused(tmp_path: Path) -> None:
    copy_baseline(tmp_path)
    short = tmp_path / "short.yaml"
    short.write_text("name: short\nextends: baseline\nend_year: 2017\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="--end"):
        plan_comparison([tmp_path / "baseline.yaml", short], 2)
    plan = plan_comparison([tmp_path / "baseline.yaml", short], 2, end_year=2017)
    assert [entry.scenario.end_year for entry in plan.scenarios] == [2017, 2017]


def test_a_failed_run_leaves_the_out_folder_alone(
    existing_out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(scenario: object, seed: object) -> None:
        raise FloatingPointError("boom")

    monkeypatch.setattr(runner, "simulate", broken)
    with pytest.raises(RunError, match="boom") as caught:
        compare([BASELINE, SUBSIDY], 2, out_dir=existing_out, workers=0)
    # every run fails; the error names the first to finish, which completion order decides
    assert caught.value.scenario in ("baseline", "strong-subsidy")
    assert (existing_out / "effects.csv").read_text(encoding="utf-8") == "keep me\n"
    assert leftovers(existing_out.parent) == []


def test_default_folder_names_the_scenarios() -> None:
    plan = plan_comparison([BASELINE, SUBSIDY], 1, workers=0)
    assert default_out_dir(plan) == Path("outputs/compare-baseline-vs-strong-subsidy")


def test_jjj_talent_refuses_zero_replicates(existing_out: Path) -> None:
    result = invoke(str(BASELINE), str(SUBSIDY), "--replicates", "0", "--out", str(existing_out))
    assert result.status == 2 and "--replicates" in result.err


# --- the report ---------------------------------------------------------------------------------


def test_the_report_is_self_contained(pair: tuple[Path, Invocation]) -> None:
    page = (pair[0] / "report.html").read_text(encoding="utf-8")
    references = re.findall(r'(?:src|href)\s*=\s*["\']([^"\']*)["\']', page)
    assert references, "the report should embed its charts"
    outside = [ref for ref in references if not (ref.startswith("#") or ref.startswith("data:"))]
    assert outside == []
    images = re.findall(r'<img[^>]*src="([^"]*)"', page)
    assert len(images) == 2 * len(CHARTS)  # English and Chinese
    assert all(src.startswith("data:image/png;base64,") for src in images)
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", page)
    assert not re.search(r"https?://", text)
    assert "<script" not in text and "<link" not in text
    urls = re.findall(r"url\(([^)]{0,40})", text)
    assert urls and all(url.startswith('"data:font/woff2;base64,') for url in urls)  # its own Chinese font


def test_the_report_tells_a_planner_what_changes_and_how_it_is_measured(
    pair: tuple[Path, Invocation],
) -> None:
    page = (pair[0] / "report.html").read_text(encoding="utf-8")
    text = re.sub(
        r"\s+", " ", re.sub(r"<[^>]+>", " ", re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", page))
    )
    assert "What the plan changes by 2018" in text
    assert "graduate_subsidy" in text and "per additional talent" in text
    assert "joint effect" in text and "one-lever variant" in text
    assert "not measurable" in text or "cannot measure" in text
    for name in (
        "hebei_share",
        "bj_hb_density_gap",
        "foreign_share",
        "services_gap",
        "unemployment_rate",
        "high_end.pole.beijing",
    ):
        assert name in text, name
    assert "common random numbers" in text
    for seed in replicate_seeds(load_scenario(BASELINE).seed, REPLICATES):
        assert str(seed) in text


def test_the_report_splits_each_provinces_effect_into_its_accounts(
    pair: tuple[Path, Invocation], effects: pd.DataFrame
) -> None:
    """The sources section has a row a province, whose terms, with their signs, add up to its
    effect on talents at the horizon (effects.csv, replicate by replicate and so in the mean)."""
    page = (pair[0] / "report.html").read_text(encoding="utf-8")
    section = page[page.index('<section id="sources">') :]
    section = section[: section.index("</section>")]
    assert "Where the effect on talents comes from" in section and "leavers" in section
    assert section.count("<tr>") == 1 + 3  # header and three provinces
    last = effects[(effects["year"] == effects["year"].max()) & (effects["scenario"] != "baseline")]
    mean = last.set_index("indicator")["effect_mean"]
    for province in ("beijing", "tianjin", "hebei"):
        terms = sum(
            (-1 if term in SUBTRACTED else 1) * mean[f"{term}_since_base.province.{province}"]
            for term in ACCOUNT_TERMS
        )
        assert terms == pytest.approx(mean[f"talents.province.{province}"], abs=1e-6)


# --- one language a page (--lang) ---------------------------------------------------------------

CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")


@pytest.fixture(scope="module")
def chinese_pair(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Baseline vs strong-subsidy, 2 replicates, the report in Chinese."""
    out = tmp_path_factory.mktemp("compare") / "zh"
    args = [str(BASELINE), str(SUBSIDY), "--replicates", "2", *SMALL, "--workers", "0", "--out", str(out)]
    result = invoke(*args, "--lang", "zh")
    assert result.status == 0, result.err
    return out


def _images(page: str) -> list[str]:
    return re.findall(r'<img[^>]*src="data:image/png;base64,([^"]*)"', page)


def test_chinese_comparison_report_is_in_chinese(chinese_pair: Path) -> None:
    page = (chinese_pair / "report.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in page
    headings = re.findall(r"<h2>(.*?)</h2>", page)
    assert headings[0] == "比较的情景" and "规划到2018年带来的变化" in headings and "方法" in headings
    for anchor in compare_report.SECTIONS:
        entry = compare_report.TEXTS[anchor]
        assert entry["en"].format(year=2018) not in page, anchor
    assert "common random numbers" not in page and "共同随机数" in page
    assert "How to read the costs" not in page and "如何解读投入" in page
    # Only the Chinese charts in the page, every chart file in both languages on disk.
    images = _images(page)
    assert len(images) == len(CHARTS)
    chinese = {
        base64.b64encode((chinese_pair / "charts" / f"{name}.zh.png").read_bytes()).decode()
        for name in CHARTS
    }
    assert set(images) == chinese
    for name in CHARTS:
        for lang in ("en", "zh"):
            assert (chinese_pair / "charts" / f"{name}.{lang}.png").is_file()
            assert (chinese_pair / "charts" / f"{name}.{lang}.svg").is_file()
    assert "仅有英文" in page  # scenario descriptions are data, in English, and the page says so


def test_english_comparison_report_has_no_chinese(chinese_pair: Path) -> None:
    result = compare(
        [BASELINE, SUBSIDY], 2, out_dir=chinese_pair.parent / "en", scale=SCALE, end_year=2018, workers=0
    )
    pngs = {
        lang: {name: (chinese_pair / "charts" / f"{name}.{lang}.png").read_bytes() for name in CHARTS}
        for lang in ("en", "zh")
    }
    page = compare_report.render_compare_report(
        result.comparison, result.tables, result.manifest, pngs, lang="en"
    )
    assert '<html lang="en">' in page
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", page)
    assert not CJK.findall(text), sorted(set(CJK.findall(text)))
    assert "@font-face" not in page  # nothing the system font lacks: no embedded font
    headings = re.findall(r"<h2>(.*?)</h2>", page)
    assert headings[0] == "Scenarios compared" and "What the plan changes by 2018" in headings
    english = {base64.b64encode(data).decode() for data in pngs["en"].values()}
    assert set(_images(page)) == english
    # The default page is the bilingual one, as before.
    both = compare_report.render_compare_report(result.comparison, result.tables, result.manifest, pngs)
    assert "<h2>Scenarios compared (比较的情景)</h2>" in both and len(_images(both)) == 2 * len(CHARTS)


def test_jjj_talent_compare_refuses_a_bad_language() -> None:
    with pytest.raises(SystemExit) as refused:
        invoke(str(BASELINE), str(SUBSIDY), "--replicates", "2", "--lang", "fr")
    assert refused.value.code == 2
