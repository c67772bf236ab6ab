"""Shared fixtures: small seeded runs of the model, built once per session.

The runs are small (scale 2000, 2015-2019) so that the whole suite stays fast; tests only read
the tables these fixtures return and never change them.
"""

from __future__ import annotations

import contextlib
import io
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from model.layout import default_layout
from model.scenario import Scenario, load_scenario
from model.simulation import TalentModel, simulate

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
TEST_SCENARIOS = ROOT / "tests" / "scenarios"
"""Scenarios for tests only (e.g. a subsidy strong enough to show at a coarse scale)."""
BAD_SCENARIOS = Path(__file__).resolve().parent / "bad_scenarios"

SMALL = {"scale": 2000, "end_year": 2019}
SEED = 11
LAYOUT = default_layout()
N = LAYOUT.size
ONE_GROUP = np.tile([1.0, 0.0, 0.0, 0.0, 0.0], (N, 1))  # every new talent in the first group


NODE_COLUMNS = [  # the nodes table of a run, in order (test_model, test_cli)
    "year",
    "node",
    "population",
    "talents",
    "talent_jobs",
    "commuters",
    "price_cny_m2",
    "market_price_cny_m2",
    "wage_cny_year",
    "services_index",
    "vacancies",
    "entries",
    "university_entrants",
    "exits",
    "inflow",
    "refused",
    "outflow",
    "graduates",
    "graduates_left",
    "graduates_employed",
    "graduates_employed_in_province",
    "local_graduates",
    "local_graduates_left",
    "local_graduates_employed",
    "local_graduates_employed_in_province",
    "graduates_settled",
    "nonlocal_talents",
    "fte_served",
    "services_served",
    "skilled_trainees",
    "talent_housing_units",
    "card_holders",
]


def at_node(values: dict[int, float]) -> np.ndarray:
    """A value per node: ``values`` at their nodes, 0 elsewhere."""
    out = np.zeros(N)
    for node, value in values.items():
        out[node] = value
    return out


@dataclass(frozen=True)
class Run:
    """A finished model and its tables (indicators included)."""

    model: TalentModel
    tables: dict[str, pd.DataFrame]


BASELINE_CHAIN = ("baseline.yaml", "calibrated-2015.yaml")
"""The baseline and the fitted layer it extends: what a folder needs for ``extends: baseline``."""


def copy_baseline(folder: Path) -> Path:
    """Copy the baseline and the layer it extends into ``folder``; returns the baseline's copy."""
    for name in BASELINE_CHAIN:
        (folder / name).write_text((SCENARIOS / name).read_text(encoding="utf-8"), encoding="utf-8")
    return folder / "baseline.yaml"


def run_to_end(scenario: Scenario, seed: int) -> Run:
    """Build a model and step it to the scenario's end year (``model.simulation.simulate``)."""
    tables, model, _ = simulate(scenario, seed)
    return Run(model, tables)


@pytest.fixture(scope="session")
def reported_fake_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """One fake run (``tests/fake_run.py``) with its report written once a session, in both
    languages and with ``fake_run.ASSUMPTIONS``: the report tests read it, the browser test opens
    it (drawing a report's charts takes most of half a minute). Returns the run dir and the
    warnings writing the report raised. Tests copy it before changing anything in it."""
    from reports.run_report import write_report
    from tests.fake_run import ASSUMPTIONS, make_fake_run

    run_dir = make_fake_run(tmp_path_factory.mktemp("run") / "fake")
    assumptions = tmp_path_factory.mktemp("doc") / "ASSUMPTIONS.md"
    assumptions.write_text(ASSUMPTIONS, encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert write_report(run_dir, assumptions=assumptions) == run_dir / "report.html"
    return run_dir, [str(w.message) for w in caught]


@pytest.fixture(scope="session")
def small_baseline() -> Scenario:
    """The baseline at scale 2000, 2015-2019."""
    return load_scenario(SCENARIOS / "baseline.yaml").with_overrides(SMALL)


@pytest.fixture(scope="session")
def small_subsidy() -> Scenario:
    """tests/scenarios/strong-subsidy.yaml at scale 2000, 2015-2019: plan-2017's 30,000 CNY for
    Beijing's and Tianjin's graduates moves too few rows at this scale to show on one seed."""
    return load_scenario(TEST_SCENARIOS / "strong-subsidy.yaml").with_overrides(SMALL)


@pytest.fixture(scope="session")
def baseline_run(small_baseline: Scenario) -> Run:
    return run_to_end(small_baseline, SEED)


@pytest.fixture(scope="session")
def subsidy_run(small_subsidy: Scenario) -> Run:
    """The subsidy scenario on the same seed as ``baseline_run`` (common random numbers)."""
    return run_to_end(small_subsidy, SEED)


@dataclass(frozen=True)
class Invocation:
    """What a command run in this process returned and printed."""

    status: int
    out: str
    err: str


def invoke(*argv: str) -> Invocation:
    """Run ``jjj-talent ARGV`` in this process, capturing what it prints."""
    from app.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(argv))
    return Invocation(status, out.getvalue(), err.getvalue())


def assert_refused(tmp_path: Path, *argv: str, fragments: list[str]) -> str:
    """Run ``jjj-talent ARGV --out TMP/out`` and check it was refused cleanly: status 2, one
    error message naming each of ``fragments``, no traceback, nothing printed or written."""
    out = tmp_path / "out"
    result = invoke(*argv, "--out", str(out))
    assert result.status == 2, result.err
    assert result.err.startswith("jjj-talent: error: ") and "Traceback" not in result.err
    for fragment in fragments:
        assert fragment in result.err, f"{fragment!r} not in:\n{result.err}"
    assert result.out == "" and not out.exists()
    return result.err


# --- a real browser -----------------------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
"""Debian's Chromium (``make test`` installs it when missing; Playwright cannot download one here)."""
CHROMIUM_ARGS = [  # docs recipes: no sandbox as root, no GPU, no network chatter
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def require_browser() -> None:
    """Skip the test when Chromium or Playwright is missing; with ``CI=true``, fail it instead."""
    missing = []
    if not CHROMIUM.is_file():
        missing.append(f"{CHROMIUM} (apt-get install -y chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright package (pip install -e '.[test]')")
    if missing:
        message = "browser tests need " + " and ".join(missing)
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
