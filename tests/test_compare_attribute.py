"""`jjj-talent compare --attribute`: each compared scenario's effect split among its lever
groups in the comparison report, on the comparison's own runs of the reference and the scenario.
Runs are tiny (scale 5000, 2015-2020, 2 lever groups, 2 replicates)."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from experiments import attribution
from experiments.attribution import AttributedComparison, compare_and_attribute
from reports import compare_report
from tests.conftest import Invocation, copy_baseline, invoke

REPLICATES = 2
TWO_LEVERS = (
    "format: 2\nname: two-levers\nextends: baseline\nlevers:\n"
    "  graduate_subsidy: {nodes: [hebei], values: {2016-01-01: 60000}}\n"
    "  talent_housing: {nodes: [XA, SJZ], values: {2016-01-01: 20000}}\n"
)
GROUPS = "pay: [graduate_subsidy, settlement_subsidy]\nhomes: [talent_housing]\n"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the baseline, a two-lever scenario extending it, and a two-group file."""
    folder = tmp_path_factory.mktemp("attribute")
    copy_baseline(folder)
    (folder / "two.yaml").write_text(TWO_LEVERS, encoding="utf-8")
    (folder / "groups.yaml").write_text(GROUPS, encoding="utf-8")
    return folder


def compare_two(files: Path, *options: str) -> Invocation:
    """``jjj-talent compare baseline two-levers`` at the tests' size, with ``options``."""
    small = ("--replicates", str(REPLICATES), "--scale", "5000", "--end", "2020", "--workers", "0")
    return invoke("compare", str(files / "baseline.yaml"), str(files / "two.yaml"), *small, *options)


@pytest.fixture(scope="module")
def attributed(files: Path) -> tuple[AttributedComparison, Invocation]:
    """``jjj-talent compare baseline two-levers --attribute --groups``, the bilingual report; with
    what ``compare_and_attribute`` returned to the command, for the pages in one language."""
    returned: list[AttributedComparison] = []

    def keep(*args: Any, **kwargs: Any) -> AttributedComparison:
        returned.append(compare_and_attribute(*args, **kwargs))
        return returned[-1]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(attribution, "compare_and_attribute", keep)
        # The comparison's own charts are test_compare.py's; drawing them here would double this
        # file's time. The attribution's waterfalls are still drawn.
        patch.setattr(compare_report, "write_compare_charts", lambda *args: {"en": {}, "zh": {}})
        done = compare_two(
            files, "--attribute", "--groups", str(files / "groups.yaml"), "--out", str(files / "out")
        )
    assert done.status == 0, done.err
    return returned[0], done


def _text(page: str) -> str:
    page = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", page)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def test_the_report_has_an_attribution_section_that_replaces_per_lever_costs(
    attributed: tuple[AttributedComparison, Invocation],
) -> None:
    out = attributed[0].comparison.out_dir
    page = (out / "report.html").read_text(encoding="utf-8")
    assert '<section id="attribution">' in page
    section = page.split('<section id="attribution">')[1].split("</section>")[0]
    text = _text(section)
    assert "What each lever group buys (各类政策的贡献)" in _text(page)
    assert "two-levers" in text and "pay" in text and "homes" in text
    assert "Shapley" in text and "left out" in text
    assert "CNY per talent gained by Hebei" in text and "region's net gain" in text
    assert '<figure id="chart-attribution_1">' in section
    for lang in ("en", "zh"):
        for extension in ("png", "svg"):
            assert (out / "charts" / f"attribution_1.{lang}.{extension}").is_file()
    # The per-lever cost table is gone; the spending section points to the groups' own costs.
    spending = _text(page.split('<section id="spending">')[1].split("</section>")[0])
    assert "target nodes" not in spending and "What each lever group buys" in spending
    assert "--attribute gives" not in _text(page)


def test_shapley_values_add_up_to_the_joint_effect_in_the_table(
    attributed: tuple[AttributedComparison, Invocation],
) -> None:
    out = attributed[0].comparison.out_dir
    table = pd.read_csv(out / "attribution.csv")
    assert set(table["scenario"]) == {"two-levers"}
    shapley = table[table["measure"] == "shapley"]
    assert set(shapley["group"]) == {"pay", "homes"}
    summed = shapley.groupby(["indicator", "year"])["mean"].sum()
    joint = table[table["group"] == "joint"].set_index(["indicator", "year"])["mean"]
    assert summed.sort_index().to_numpy() == pytest.approx(joint.loc[summed.sort_index().index].to_numpy())
    # The joint effect is the comparison's own paired effect: the same runs, the same seeds.
    effects = pd.read_csv(out / "effects.csv").set_index(["indicator", "year"])["effect_mean"]
    key = ("talents.province.hebei", 2020)
    assert joint.loc[key] == pytest.approx(effects.loc[key])
    costs = pd.read_csv(out / "cost_per_talent.csv")
    assert set(costs["group"]) == {"pay", "homes"} and 2020 in set(costs["year"])


def test_the_comparison_runs_are_not_run_again(attributed: tuple[AttributedComparison, Invocation]) -> None:
    result, done = attributed
    assert (
        f"attribute: two-levers groups=2 runs={4 * REPLICATES} (reused from the comparison: {2 * REPLICATES})"
        in done.out
    )
    assert f"({4 * REPLICATES} runs," in done.out  # 2 compared + 2 more coalitions a replicate
    manifest = json.loads((result.comparison.out_dir / "manifest.json").read_text(encoding="utf-8"))
    entry = manifest["attribution"]["two-levers"]
    assert entry["runs"] == 4 * REPLICATES  # 2 groups: 4 coalitions a replicate
    assert entry["runs_reused"] == 2 * REPLICATES  # the reference and the scenario
    assert manifest["attribution"]["groups_source"].endswith("groups.yaml")


def test_pages_in_one_language_and_without_attribute(
    attributed: tuple[AttributedComparison, Invocation],
) -> None:
    found = attributed[0]
    result = found.comparison
    charts = result.out_dir / "charts"
    pngs = {
        lang: {path.name.split(".")[0]: path.read_bytes() for path in charts.glob(f"*.{lang}.png")}
        for lang in ("en", "zh")
    }

    def page(lang: str, is_attributed: bool = True) -> str:
        attributions = found.attributions if is_attributed else None
        return compare_report.render_compare_report(
            result.comparison, result.tables, result.manifest, pngs, lang=lang, attributions=attributions
        )

    chinese = page("zh")
    assert "各类政策的贡献" in re.findall(r"<h2>(.*?)</h2>", chinese)
    assert "What each lever group buys" not in chinese and "河北每新增一名人才的投入（元）" in chinese
    english = _text(page("en"))
    assert "What each lever group buys" in english
    assert not re.findall(r"[\u2e80-\u9fff\uff00-\uffef]", english)
    plain = _text(page("en", is_attributed=False))
    assert "What each lever group buys" not in plain
    assert "jjj-talent compare --attribute gives each lever group's own effect and cost per talent" in plain


@pytest.mark.parametrize(
    "groups, message",
    [
        ("pay: [graduate_subsidy, nonsense]\n", r"groups.yaml:1: pay.1: value 'nonsense': unknown lever"),
        ("pay: [graduate_subsidy]\n", r"changes talent_housing, in no group of"),
    ],
)
def test_a_bad_groups_file_is_refused_and_nothing_written(files: Path, groups: str, message: str) -> None:
    bad = files / "bad" / "groups.yaml"
    bad.parent.mkdir(exist_ok=True)
    bad.write_text(groups, encoding="utf-8")
    out = files / "bad" / "out"
    done = compare_two(files, "--attribute", "--groups", str(bad), "--out", str(out))
    assert done.status == 2
    assert re.search(message, done.err), done.err
    assert "Traceback" not in done.err
    assert sorted(path.name for path in bad.parent.iterdir()) == ["groups.yaml"]


def test_groups_without_attribute_and_nothing_to_attribute_are_refused(files: Path) -> None:
    base = str(files / "baseline.yaml")
    common = ("--replicates", "1", "--workers", "0", "--out", str(files / "refused"))
    done = invoke("compare", base, str(files / "two.yaml"), *common, "--groups", str(files / "groups.yaml"))
    assert done.status == 2 and "--groups: only with --attribute" in done.err
    done = invoke("compare", base, base, *common, "--attribute")
    assert done.status == 2 and "nothing to attribute" in done.err
    assert not (files / "refused").exists()
