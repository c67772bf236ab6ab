"""The runner's executors (experiments/runner.py): one code path for this process, local worker processes
and Dask. A sweep on a real ``LocalCluster`` and on real ``dask scheduler`` and ``dask worker``
processes, all on 127.0.0.1 with their dashboards on loopback too, gives the results of one local
worker; the test starts the cluster and always stops it. A local pool whose worker dies is
replaced and the task tried again."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from experiments.runner import imap_unordered, open_pool, tune_malloc, worker_identities
from experiments.sweeps.design import load_experiment
from experiments.sweeps.sweep import run_sweep

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.yaml"
EXPERIMENT = f"""\
name: on-dask
scenario: {BASELINE}
scale: 2000
end_year: 2016
inputs:
  parameters.beta_jobs: {{lower: 0.5, upper: 1.5}}
design: {{kind: latin_hypercube, samples: 3}}
replicates: 2
seed: 3
outputs:
  indicators: [hebei_share, unemployment_rate]
"""
LOOPBACK = "127.0.0.1"


def environment(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["MPLCONFIGDIR"] = str(tmp / "matplotlib")
    env["DASK_TEMPORARY_DIRECTORY"] = str(tmp / "dask")
    return env


@pytest.fixture(scope="module")
def experiment_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("experiment") / "on-dask.yaml"
    path.write_text(EXPERIMENT, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def local_results(experiment_file: Path, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    store = tmp_path_factory.mktemp("local") / "store"
    report = run_sweep(load_experiment(experiment_file), store, workers=1, log=io.StringIO())
    assert report.failed == 0 and report.done == 6
    return pd.read_parquet(store / "results.parquet")


def square(x: int) -> int:
    return x * x


def dies_once(marker: str) -> str:
    """Kills its worker process the first time it runs (a crash, not an exception)."""
    path = Path(marker)
    if not path.exists():
        path.write_text("died once")
        os._exit(3)
    return "second try"


def test_every_executor_gives_the_same_answers_through_one_function() -> None:
    for workers in (0, 2):
        with open_pool(workers=workers) as pool:
            answers = {item: future.result() for item, future in imap_unordered(pool, square, range(20))}
        assert answers == {i: i * i for i in range(20)}


def test_a_dead_local_worker_is_replaced_and_its_task_tried_again(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    with open_pool(workers=1) as pool:
        results = [(item, future.result()) for item, future in imap_unordered(pool, dies_once, [str(marker)])]
        assert pool.generation == 1  # the broken pool was replaced once
    assert results == [(str(marker), "second try")]


def pid(_: int) -> int:
    return os.getpid()


def test_local_workers_are_recycled_without_hanging() -> None:
    """Twelve tasks on one worker replaced every three: ProcessPoolExecutor's own
    max_tasks_per_child deadlocks here in Python 3.11 (CPython gh-115634); the runner's
    recycling finishes, on four pools in turn."""
    with open_pool(workers=1, max_tasks_per_child=3) as pool:
        pids = [future.result(timeout=60) for _, future in imap_unordered(pool, pid, range(12))]
        assert pool.generation == 3
    assert len(pids) == 12 and len(set(pids)) == 4


def test_dask_malloc_setting_is_undone_only_where_dask_sets_it() -> None:
    assert tune_malloc() == (
        "MALLOC_TRIM_THRESHOLD_" in os.environ and "MALLOC_MMAP_THRESHOLD_" not in os.environ
    )


def test_a_sweep_on_a_local_cluster_gives_the_local_results(
    experiment_file: Path, local_results: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dask
    from distributed import LocalCluster

    for key, value in environment(tmp_path).items():
        monkeypatch.setenv(key, value)
    with (
        dask.config.set({"temporary-directory": str(tmp_path / "dask")}),
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host=LOOPBACK,
            dashboard_address=f"{LOOPBACK}:0",
            local_directory=str(tmp_path / "dask"),
        ) as cluster,
    ):
        assert cluster.scheduler_address.startswith(f"tcp://{LOOPBACK}:")
        report = run_sweep(
            load_experiment(experiment_file),
            tmp_path / "store",
            scheduler=cluster.scheduler_address,
            log=io.StringIO(),
        )
    assert (report.done, report.failed) == (6, 0) and "Dask" in report.pool
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "store" / "results.parquet"), local_results)


@contextlib.contextmanager
def dask_cluster(tmp: Path) -> Iterator[str]:
    """``dask scheduler`` and ``dask worker`` processes on 127.0.0.1; stopped on exit, always."""
    env = environment(tmp)
    scheduler_file = tmp / "scheduler.json"
    common = ["--host", LOOPBACK, "--dashboard-address", f"{LOOPBACK}:0"]
    processes: list[subprocess.Popen[bytes]] = []
    logs = [open(tmp / name, "wb") for name in ("scheduler.log", "worker.log")]
    try:
        processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "dask",
                    "scheduler",
                    "--port",
                    "0",
                    "--scheduler-file",
                    str(scheduler_file),
                    *common,
                ],
                cwd=ROOT,
                env=env,
                stdout=logs[0],
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() and time.monotonic() < deadline:
            assert processes[0].poll() is None, (tmp / "scheduler.log").read_text()
            time.sleep(0.1)
        address = json.loads(scheduler_file.read_text())["address"]
        processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "dask",
                    "worker",
                    address,
                    "--nworkers",
                    "2",
                    "--nthreads",
                    "1",
                    "--local-directory",
                    str(tmp / "dask"),
                    *common,
                ],
                cwd=ROOT,
                env=env,
                stdout=logs[1],
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        from distributed import Client

        with Client(address, timeout="30s", set_as_default=False) as client:
            client.wait_for_workers(2, timeout=120)
        yield address
    finally:
        for process in reversed(processes):  # workers first, then the scheduler
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in reversed(processes):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
            with contextlib.suppress(ProcessLookupError):  # nannies' children, if any are left
                os.killpg(process.pid, signal.SIGKILL)
        for log in logs:
            log.close()


def listening_addresses(session_leaders: list[int]) -> set[str]:
    """The addresses the processes of these sessions listen on (from /proc/net/tcp)."""
    inodes = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if os.getsid(int(entry.name)) not in session_leaders:
                continue
            for fd in (entry / "fd").iterdir():
                with contextlib.suppress(OSError):
                    target = os.readlink(fd)
                    if target.startswith("socket:["):
                        inodes.add(target[8:-1])
    addresses = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                    addresses.add(_address(fields[1]))
    return addresses


def _address(hex_address: str) -> str:
    host = hex_address.split(":")[0]
    if len(host) == 8:
        return ".".join(str(int(host[i : i + 2], 16)) for i in (6, 4, 2, 0))
    return "ipv6:" + host


def test_a_sweep_on_dask_scheduler_and_worker_processes_gives_the_local_results(
    experiment_file: Path, local_results: pd.DataFrame, tmp_path: Path
) -> None:
    with dask_cluster(tmp_path) as address:
        assert address.startswith(f"tcp://{LOOPBACK}:")
        report = run_sweep(
            load_experiment(experiment_file), tmp_path / "store", scheduler=address, log=io.StringIO()
        )
        leaders = [
            int(line.split()[0])
            for line in subprocess.run(
                ["ps", "-eo", "pid,sid"], capture_output=True, text=True
            ).stdout.splitlines()[1:]
            if line.split()[0] == line.split()[1]
        ]
        listening = listening_addresses([pid for pid in leaders if _started_here(pid, tmp_path)])
        identities = worker_identities(address)
    assert (report.done, report.failed) == (6, 0) and "2 workers" in report.pool
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "store" / "results.parquet"), local_results)
    assert listening and listening <= {LOOPBACK}, f"listening beyond loopback: {listening}"
    assert len(identities) == 2 and all("git_commit" in v for v in identities.values())


def _started_here(pid: int, tmp: Path) -> bool:
    with contextlib.suppress(OSError):
        return str(tmp) in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    return False


def test_an_unreachable_scheduler_is_a_clear_error(
    experiment_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from experiments import runner as executors
    from model.errors import JJJError, ScenarioError

    monkeypatch.setattr(executors, "CONNECT_TIMEOUT", "1s")
    with pytest.raises(ScenarioError, match="not a scheduler address"):
        run_sweep(
            load_experiment(experiment_file), tmp_path / "a", scheduler="127.0.0.1:1", log=io.StringIO()
        )
    with pytest.raises(JJJError, match="cannot reach the Dask scheduler"):
        with open_pool(scheduler="tcp://127.0.0.1:9"):
            pass
