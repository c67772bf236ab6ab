"""Stale results: a cached run made by other model code is never reused silently
(experiments/files.py ``model_fingerprint``, experiments/sweeps/store.py, experiments/sweeps/sweep.py)."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pandas as pd
import pytest

from experiments import files, runner
from experiments.sweeps import sweep
from experiments.sweeps.design import load_experiment
from experiments.sweeps.store import Store, run_key
from experiments.sweeps.sweep import run_sweep

ROOT = Path(__file__).resolve().parent.parent
EXPERIMENT = f"""\
name: fingerprinted
scenario: {ROOT / "scenarios" / "baseline.yaml"}
scale: 5000
end_year: 2016
inputs:
  parameters.beta_wage: {{values: [1.0, 2.0]}}
design: {{kind: grid}}
replicates: 1
seed: 3
outputs:
  indicators: [hebei_share]
"""  # 2 runs of one year


@pytest.fixture
def model_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of model/ for the fingerprint to hash (caches cleared before and after)."""
    copy = tmp_path / "model"
    shutil.copytree(files.MODEL_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(files, "MODEL_DIR", copy)
    files.model_fingerprint.cache_clear()
    yield copy
    files.model_fingerprint.cache_clear()


def test_the_fingerprint_names_the_version_and_changes_with_model_code_and_data(model_copy: Path) -> None:
    first = files.model_fingerprint()
    assert first.split("+")[0] == files.package_versions()["jjj-talent"]
    files.model_fingerprint.cache_clear()
    assert files.model_fingerprint() == first  # the same files, the same fingerprint
    for changed in (model_copy / "simulation.py", model_copy / "data" / "nodes.csv"):
        before = files.model_fingerprint()
        changed.write_text(changed.read_text(encoding="utf-8") + "\n", encoding="utf-8")
        files.model_fingerprint.cache_clear()
        assert files.model_fingerprint() != before, changed.name


def test_a_run_key_names_the_model() -> None:
    assert run_key("abc", 1, "0.1.0+aaaa") != run_key("abc", 1, "0.1.0+bbbb")
    assert run_key("abc", 1, "0.1.0+aaaa") == run_key("abc", 1, "0.1.0+aaaa")


def test_a_sweep_over_runs_of_another_model_recomputes_them_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "experiment.yaml"
    path.write_text(EXPERIMENT, encoding="utf-8")
    store = tmp_path / "store"
    first = run_sweep(load_experiment(path), store, workers=0, log=io.StringIO())
    assert (first.runs, first.done, first.executed) == (2, 2, 2)
    again = run_sweep(load_experiment(path), store, workers=0, log=io.StringIO())
    assert again.executed == 0  # same model: reused
    results = pd.read_parquet(store / "results.parquet")

    other = "0.1.0+0000000000000000"  # as if model/ had changed since the store was written
    monkeypatch.setattr(sweep, "model_fingerprint", lambda: other)
    monkeypatch.setattr(sweep, "cached_identity", lambda: {**runner.identity(), "model": other})
    log = io.StringIO()
    changed = run_sweep(load_experiment(path), store, workers=0, log=log)
    assert (changed.done, changed.executed, changed.failed) == (2, 2, 0)
    assert "were made by model" in log.getvalue() and "computed again" in log.getvalue()
    manifests = [Store(store).manifest(key) for key in Store(store).finished_keys()]
    assert sorted(m["model_fingerprint"] for m in manifests).count(other) == 2
    assert Store(store).model_fingerprint() == other
    # the same code under another fingerprint computes the same numbers
    pd.testing.assert_frame_equal(pd.read_parquet(store / "results.parquet"), results)


def test_a_worker_running_other_model_code_fails_its_runs_with_a_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "experiment.yaml"
    path.write_text(EXPERIMENT, encoding="utf-8")
    monkeypatch.setattr(sweep, "cached_identity", lambda: {**runner.identity(), "model": "0.0.9+old"})
    report = run_sweep(load_experiment(path), tmp_path / "store", workers=0, log=io.StringIO())
    assert (report.done, report.failed) == (0, 2)
    assert "runs model 0.0.9+old" in report.failures[0].error
    assert "pip install -e ." in report.failures[0].error
    assert Store(tmp_path / "store").finished_keys() == set()
