"""One runner for a batch of (scenario, seed) runs: in this process, on local worker processes,
or on a Dask cluster.

Every command that runs the model more than once (compare, validate, calibrate, sweep) submits
its runs here. A run is described by plain data (``RunTask``: the resolved scenario and a seed),
so it crosses process and host boundaries; what comes back is chosen by the caller's ``reduce``
function, applied in the worker, so that only the tables the caller needs travel back. A run's
result depends only on its scenario and seed, never on where it ran or how many workers there
were: every executor runs the same function, ``run_task``.

Where the runs execute is a ``concurrent.futures.Executor`` (``InlineExecutor``,
``ProcessPoolExecutor``, or the Dask client's ``ClientExecutor``, whose futures are
``concurrent.futures.Future`` too), opened by ``open_pool`` and driven by ``imap_unordered``.

Workers live for many runs, so what they compile or cache is paid for once per worker. Mesa
3.3.1 never frees a finished model (upstream issue #3179); ``released_models`` releases what it
holds after every run, and local workers are still replaced after about ``RECYCLE_AFTER`` runs
each to bound whatever else a long-lived worker might accumulate. The runner does that itself:
once a pool has run ``RECYCLE_AFTER`` x its slots, it lets the tasks in flight finish and opens
a fresh pool. It does not use ``ProcessPoolExecutor(max_tasks_per_child=...)``, which deadlocks
in Python 3.11 once a worker exits at its limit with tasks queued (CPython gh-115634: a fit of
480 candidates hung there). Local workers are forked from a fork
server that has imported the model and its libraries once (``forkserver``: no threads are
forked, and a new worker starts in milliseconds instead of the second or two a ``spawn`` takes
to import everything). A Dask worker is long-lived; the same release keeps it flat (``dask
worker --lifetime`` recycles it if ever needed).

Progress (runs done, total, time left) is shown by one display, ``Progress``: a bar on a
terminal, a log line now and then otherwise.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import ctypes
import functools
import gc
import logging
import multiprocessing
import os
import select
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any, TypeVar

import mesa
from tqdm import tqdm

from experiments.files import git_commit, model_fingerprint, package_versions
from model import kernels
from model.errors import JJJError, RunError, ScenarioError
from model.scenario import validate
from model.simulation import simulate

log = logging.getLogger(__name__)

RECYCLE_AFTER = 100
"""Tasks per local worker process before the pool is replaced (``imap_unordered``)."""
PRELOAD = ("experiments.runner", "experiments.sweeps.sweep", "experiments.calibration.observed")
"""Modules the fork server imports once, so that a replaced worker starts in milliseconds."""
CONNECT_TIMEOUT = "20s"
"""How long to try to reach a Dask scheduler."""
M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter (malloc.h)
ATTEMPTS = 3
"""Tries of a task whose local worker process died (the pool breaks for every task in flight)."""

T = TypeVar("T")


class InlineExecutor(cf.Executor):
    """Runs each task in this process when it is submitted (``--workers 0``): for debugging,
    small batches and measuring a single process."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future:
        future: cf.Future = cf.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as err:  # the caller sees it through the future, as with a pool
            future.set_exception(err)
        return future


@dataclass
class Pool:
    """An open executor and how many tasks it runs at once.

    Attributes:
        executor: the ``concurrent.futures.Executor``.
        slots: tasks that run at once (processes, or Dask worker threads).
        description: for logs, e.g. ``2 local processes``.
        make: builds a fresh executor when a local pool breaks (None for Dask, whose scheduler
            reschedules tasks of a lost worker itself).
        recycle_after: tasks per slot after which a local pool is replaced (None: never).
        submitted: tasks submitted to the current executor.
    """

    executor: cf.Executor
    slots: int
    description: str
    make: Callable[[], cf.Executor] | None = None
    generation: int = 0
    recycle_after: int | None = None
    submitted: int = 0
    _closers: list[Callable[[], None]] = field(default_factory=list)

    @property
    def recycle_due(self) -> bool:
        """The current executor has been given its share of tasks: replace it once idle."""
        return (
            self.make is not None
            and self.recycle_after is not None
            and self.submitted >= self.recycle_after * self.slots
        )

    def restart(self) -> None:
        """Replace a broken local pool (tasks in flight on it fail and are resubmitted)."""
        if self.make is None:
            return
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.executor = self.make()
        self.generation += 1
        self.submitted = 0


@contextmanager
def open_pool(
    workers: int | None = None, scheduler: str | None = None, max_tasks_per_child: int | None = RECYCLE_AFTER
) -> Iterator[Pool]:
    """An executor: ``workers`` local processes (default: one per core; 0 runs in this process),
    or the Dask cluster whose scheduler listens at ``scheduler`` (``tcp://HOST:PORT``). Closed on
    exit; pending tasks are cancelled."""
    if workers is not None and scheduler is not None:
        raise ScenarioError(
            "command line: --workers and --scheduler: give one; the cluster decides its workers"
        )
    if isinstance(workers, bool) or (workers is not None and not isinstance(workers, int)):
        raise ScenarioError(f"command line: --workers: value {workers!r}: must be a whole number >= 0")
    if scheduler is not None:
        with _dask_pool(scheduler) as pool:
            yield pool
        return
    count = (os.cpu_count() or 1) if workers is None else workers
    if count < 0:
        raise ScenarioError(f"command line: --workers: value {count}: must be 0 (this process) or more")
    if count == 0:
        yield Pool(InlineExecutor(), 1, "this process")
        return
    if max_tasks_per_child is not None and max_tasks_per_child < 1:
        raise ScenarioError(f"--recycle-after: value {max_tasks_per_child}: must be 1 or more")

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(PRELOAD))

    def make() -> cf.Executor:
        return cf.ProcessPoolExecutor(
            max_workers=count, mp_context=context, initializer=watch_parent, initargs=(os.getpid(),)
        )

    description = f"{count} local process{'es' if count > 1 else ''}"
    pool = Pool(make(), count, description, make=make, recycle_after=max_tasks_per_child)
    try:
        yield pool
    finally:
        pool.executor.shutdown(wait=True, cancel_futures=True)


@contextmanager
def _dask_pool(address: str) -> Iterator[Pool]:
    try:
        from distributed import Client
    except ImportError as err:
        raise JJJError("--scheduler needs Dask's distributed package (pip install 'distributed')") from err
    if not address.startswith(("tcp://", "tls://", "inproc://", "ucx://")):
        raise ScenarioError(
            f"command line: --scheduler: value {address!r}: not a scheduler address; allowed: tcp://HOST:PORT"
        )
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except OSError as err:
        raise JJJError(f"cannot reach the Dask scheduler at {address}: {err}") from err
    try:
        client.wait_for_workers(1, timeout=60)
        slots = sum(client.nthreads().values())
        executor = client.get_executor(pure=False)
        pool = Pool(executor, slots, f"Dask at {address} ({len(client.nthreads())} workers, {slots} threads)")
        try:
            yield pool
        finally:
            executor.shutdown(wait=False)
    finally:
        client.close()


def watch_parent(parent_pid: int, every_s: float = 0.5) -> None:
    """In a local worker: exit as soon as the command that started it is gone.

    A worker whose command was killed (SIGKILL gives it no chance to stop its pool) would
    otherwise wait for work forever: it holds a write end of its own task queue, so it never
    sees the queue close, and it keeps the fork server alive too. The worker is not the
    command's child (the fork server's), so it watches the command's pid: through a pidfd where
    Linux has them, else by polling.
    """
    try:
        handle = os.pidfd_open(parent_pid)
    except (AttributeError, OSError):
        handle = None

    def watch() -> None:
        if handle is not None:
            select.select([handle], [], [])  # readable once the process has exited
        else:
            while _is_alive(parent_pid):
                time.sleep(every_s)
        os._exit(1)

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()


def _is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@functools.cache
def tune_malloc() -> bool:
    """Undo the slowdown Dask's nannies cause; once per process, returns whether it acted.

    A nanny starts its worker with ``MALLOC_TRIM_THRESHOLD_=65536`` (to hand freed memory back
    to the system). Setting any such variable switches off glibc's adaptive mmap threshold, so
    every large NumPy temporary is mapped, faulted in and unmapped again: a model run took 2.5
    times as long (default scale) until the threshold was raised to 32 MiB again here. Only
    acts where that variable is set and the mmap threshold is not, on glibc.
    """
    if "MALLOC_TRIM_THRESHOLD_" not in os.environ or "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(M_MMAP_THRESHOLD, 32 * 2**20))
    except (OSError, AttributeError):
        return False


def worker_identities(scheduler: str) -> dict[str, dict[str, Any]]:
    """What code each Dask worker runs (``identity()``), to warn when it is not ours."""
    from distributed import Client

    with Client(scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False) as client:
        return client.run(identity)  # type: ignore[no-any-return]


def identity() -> dict[str, Any]:
    """The project's commit, package versions and model fingerprint in this process."""
    return {"git_commit": git_commit(), "versions": package_versions(), "model": model_fingerprint()}


@functools.cache
def cached_identity() -> dict[str, Any]:
    """``identity()``, computed once per worker."""
    return identity()


def imap_unordered(
    pool: Pool, fn: Callable[[T], Any], items: Iterable[T], window: int | None = None
) -> Iterator[tuple[T, cf.Future]]:
    """Submit ``fn(item)`` for every item, at most ``window`` in flight (default twice the
    pool's slots, plus two), and yield ``(item, finished future)`` as they finish.

    A local pool whose worker process died (``BrokenProcessPool``) is replaced and the tasks
    that were in flight on it are submitted again, each at most ``ATTEMPTS`` times in all; after
    that the future's exception is yielded like any other. A pool due for recycling
    (``Pool.recycle_due``) gets no more tasks; once its tasks in flight are done it is replaced.
    """
    window = window or 2 * pool.slots + 2
    source = iter(items)
    pending: dict[cf.Future, tuple[T, int, int]] = {}  # future -> (item, attempt, generation)

    def submit(item: T, attempt: int) -> None:
        try:
            future = pool.executor.submit(fn, item)
        except BrokenProcessPool:  # broke before we saw it through a future
            if pool.make is None:
                raise
            pool.restart()
            future = pool.executor.submit(fn, item)
        pending[future] = (item, attempt, pool.generation)
        pool.submitted += 1

    waiting: list[T] = []  # an item taken from ``source`` while the pool was due for recycling

    def fill() -> None:
        while len(pending) < window:
            if not waiting:
                try:
                    waiting.append(next(source))
                except StopIteration:
                    return
            if pool.recycle_due:
                if pending:
                    return  # let the old pool finish what it has
                pool.restart()  # idle: its workers go, a fresh pool takes the next tasks
            submit(waiting.pop(), 1)

    fill()
    while pending:
        done, _ = cf.wait(list(pending), return_when=cf.FIRST_COMPLETED)
        for future in done:
            item, attempt, generation = pending.pop(future)
            error = None if future.cancelled() else future.exception()
            if isinstance(error, BrokenProcessPool) and attempt < ATTEMPTS and pool.make is not None:
                if generation == pool.generation:
                    pool.restart()
                submit(item, attempt + 1)
                continue
            yield item, future
        fill()


# --- one run ------------------------------------------------------------------------------------


@contextlib.contextmanager
def released_models() -> Iterator[None]:
    """Free the Mesa models created inside the block when it ends, failed runs' included.

    Mesa 3.3.1 numbers agents per model in ``mesa.Agent._ids``, a class-level defaultdict keyed
    by the model itself, and never removes the key (upstream #3179, fixed after 3.3.1 by moving
    the counter into the model): every model, with all its arrays, stays reachable for the life
    of the process (about 16 MiB a run at scale 2000 to 2017, several hundred MiB at scale 100).
    Dropping the key, removing the agents (agent <-> model cycles) and collecting frees it.
    Models that existed before the block are left alone.
    """
    ids = getattr(mesa.Agent, "_ids", None)
    before = {id(model) for model in ids} if isinstance(ids, dict) else set()
    try:
        yield
    finally:
        if not isinstance(ids, dict):
            gc.collect()
        elif _release_new(ids, before):
            gc.collect()  # after _release_new has returned: no frame of ours holds a model now


def _release_new(ids: dict[Any, Any], before: set[int]) -> int:
    made = [m for m in ids if id(m) not in before]
    for model in made:
        with contextlib.suppress(Exception):
            model.remove_all_agents()
        ids.pop(model, None)
    return len(made)


def rss_mib() -> float:
    """This process's resident memory in MiB (Linux), NaN elsewhere."""
    try:
        with open(f"/proc/{os.getpid()}/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return float("nan")


def indicator_tables(tables: dict[str, Any]) -> dict[str, Any]:
    """``reduce`` for runs whose indicators and lever spending are all the caller needs."""
    return {"indicators": tables["indicators"], "spending": tables["spending"]}


@dataclass(frozen=True)
class RunTask:
    """One run as a worker receives it: plain data and a seed, nothing that holds a model.

    Attributes:
        index: the task's place in its batch (results come back in this order).
        label: what the caller calls the run, for messages (e.g. ``plan-2017, replicate 2``).
        scenario: the resolved scenario as data (``Scenario.as_data()``).
        seed: the run's seed.
        reduce: applied in the worker to the run's tables; its result is what comes back
            (a module-level function, so that it pickles by name).
    """

    index: int
    label: str
    scenario: dict[str, Any]
    seed: int
    reduce: Callable[[dict[str, Any]], Any] = indicator_tables


@dataclass(frozen=True)
class RunOutput:
    """What a run sends back: ``reduce``'s result, or the error that stopped it (type name,
    message and traceback, as text, so that it crosses process and host boundaries whatever its
    type), and where and how long it ran."""

    index: int
    label: str
    seed: int
    result: Any
    wall_seconds: float
    error: tuple[str, str] | None = None
    details: str = ""
    worker: str = ""
    worker_rss_mib: float = 0.0
    code: dict[str, Any] = field(default_factory=dict)


def run_task(task: RunTask) -> RunOutput:
    """Simulate one run (in this process or a worker); never raises for a failing run."""
    tune_malloc()
    started = time.perf_counter()
    result, error, details = None, None, ""
    try:
        with released_models(), kernels.threads(1):  # the pool's processes fill the cores
            scenario = validate(task.scenario, {}, source=f"scenario {task.label}")
            tables, model, _ = simulate(scenario, task.seed)
            del model  # what the caller needs is in the tables
            result = task.reduce(tables)
            del tables
    except Exception as err:  # the run failed: it comes back as data
        error, details = (type(err).__name__, str(err)), traceback.format_exc()
    return RunOutput(
        task.index,
        task.label,
        task.seed,
        result,
        time.perf_counter() - started,
        error,
        details,
        f"{socket.gethostname()}:{os.getpid()}",
        rss_mib(),
        cached_identity(),
    )


def run_batch(pool: Pool, tasks: Sequence[RunTask], progress: Progress | None = None) -> list[RunOutput]:
    """Run every task on ``pool``; the outputs come back in task order, whatever the order they
    finish in.

    Raises:
        ScenarioError: a task's scenario was refused.
        RunError: a run failed (the first to fail, naming its label and seed); the rest are cancelled.
    """
    outputs: dict[int, RunOutput] = {}
    for task, future in imap_unordered(pool, run_task, tasks):
        try:
            output: RunOutput = future.result()
        except Exception as err:  # the executor failed (a worker died, ...): say which run
            raise RunError(f"{task.label}: {err!r}", str(task.scenario.get("name", "")), task.seed) from err
        if output.error is not None:
            kind, message = output.error
            if kind == "ScenarioError":
                raise ScenarioError(message)
            name = str(task.scenario.get("name", ""))
            message = message.removesuffix(f" (scenario {name!r}, seed {task.seed})")
            log.debug("%s failed:\n%s", task.label, output.details)
            raise RunError(f"{task.label}: {message}", name, task.seed)
        outputs[task.index] = output
        if progress is not None:
            progress.advance()
    return [outputs[task.index] for task in tasks]


def run_all(
    tasks: Sequence[RunTask], *, workers: int | None = None, scheduler: str | None = None, what: str = "runs"
) -> list[RunOutput]:
    """``run_batch`` on a pool opened for these tasks (at most one local process per task), with
    the progress display."""
    count = workers if workers is not None or scheduler is not None else min(os.cpu_count() or 1, len(tasks))
    with open_pool(count, scheduler) as pool:
        log.info("%s: %d on %s", what, len(tasks), pool.description)
        with Progress(len(tasks), what=what) as progress:
            return run_batch(pool, tasks, progress)


# --- progress -----------------------------------------------------------------------------------

PROGRESS_EVERY_S = 5.0
"""Seconds between progress lines when the output is not a terminal (CI logs, files)."""


class Progress:
    """Runs done, total and time left: a bar (tqdm) on a terminal; elsewhere a line on ``stream``
    every ``PROGRESS_EVERY_S`` seconds and at the end, so logs show progress without flooding.

    Args:
        total: runs in all.
        already: runs already done before this display started (a resumed sweep).
        what: the name of the runs, e.g. ``sweep``.
        stream: where to show it (default: stderr).
    """

    def __init__(
        self, total: int, already: int = 0, what: str = "runs", stream: IO[str] | None = None
    ) -> None:
        self.total, self.already, self.what = total, already, what
        self.stream = stream if stream is not None else sys.stderr
        self.done, self.failed = already, 0
        self.started = self.last = time.monotonic()
        self.bar: Any = None
        if bool(getattr(self.stream, "isatty", lambda: False)()):
            self.bar = tqdm(
                total=total,
                initial=already,
                desc=what,
                unit="run",
                file=self.stream,
                dynamic_ncols=True,
                leave=True,
            )

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def advance(self, done: int = 1, failed: int = 0) -> None:
        """Count runs finished (``done``) and failed (``failed``)."""
        self.done += done
        self.failed += failed
        if self.bar is not None:
            self.bar.update(done + failed)
            if failed:
                self.bar.set_postfix(failed=self.failed)
            return
        now = time.monotonic()
        if now - self.last >= PROGRESS_EVERY_S or self.done + self.failed - self.already == 1:
            self.last = now
            self._line()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        elif self.done + self.failed > self.already or self.total == self.already:
            self._line()

    def _line(self) -> None:
        elapsed = time.monotonic() - self.started
        ran = self.done + self.failed - self.already
        left = self.total - self.done - self.failed
        eta = (
            f"about {_clock(elapsed / ran * left)} left" if ran and left else ("finished" if not left else "")
        )
        text = (
            f"{self.what}: {self.done}/{self.total} runs done"
            + (f", {self.failed} failed" if self.failed else "")
            + f", {_clock(elapsed)} elapsed"
            + (f", {eta}" if eta else "")
        )
        self.stream.write(text + "\n")
        self.stream.flush()


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
