"""The benchmark command (experiments/bench.py): its figures and its profile."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from experiments import bench

ROOT = Path(__file__).resolve().parent.parent


def test_bench_reports_each_scales_figures_and_the_profiles_top_functions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # bench.json goes to ./outputs/bench/
    scenario = ROOT / "scenarios" / "baseline.yaml"
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # the child processes import the project
    assert bench.main(["--scales", "2000", "--scenario", str(scenario), "--profile", "3"]) == 0
    printed = capsys.readouterr().out
    assert "the 3 functions with the most own time" in printed and "tottime" in printed
    (result,) = json.loads((tmp_path / "outputs" / "bench" / "bench.json").read_text())
    assert result["scale"] == 2000 and result["agent_steps"] > 0 and result["model_seconds"] > 0


def test_the_sweep_workers_dask_settings_are_settings_dask_has() -> None:
    import dask
    import distributed  # noqa: F401  (declares the distributed.* settings)

    from experiments.bench_sweep import dask_settings

    target = dask.config.get("distributed.worker.memory.target")
    with dask_settings("Dask LocalCluster, 2 workers, dask-sweeps.yaml"):
        # each of the file's names, misspelt, would leave Dask's own value in place
        assert dask.config.get("distributed.worker.profile.enabled") is False
        for name in (
            "worker.memory.monitor-interval",
            "admin.tick.interval",
            "admin.system-monitor.interval",
        ):
            assert dask.config.get(f"distributed.{name}") == "1s"
        assert dask.config.get("distributed.worker.memory.target") == target  # the rest kept
    assert dask.config.get("distributed.worker.profile.enabled") is True
