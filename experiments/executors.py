"""Where a sweep's runs execute: this process, local worker processes, or a Dask cluster.

Each is a ``concurrent.futures.Executor`` (``InlineExecutor``, ``ProcessPoolExecutor``, or the
Dask client's ``ClientExecutor``, whose futures are ``concurrent.futures.Future`` too), so the
sweep submits, waits and collects through one function, ``imap_unordered``, whichever runs the
tasks. What a task computes depends only on its arguments, never on where it ran, so results
are the same for any executor and worker count.

Local workers are forked from a fork server that has imported the sweep, the model and their
libraries once (``forkserver``: no threads are forked, and a new worker starts in milliseconds
instead of the second or two a ``spawn`` takes to import everything), and are replaced after
``max_tasks_per_child`` tasks: Mesa 3.3.1 never frees a finished model (upstream
issue #3179), and although the sweep releases what Mesa holds after each run
(``experiments.sweep.released_models``), recycling bounds whatever else a long-lived worker
might accumulate. A Dask worker is long-lived; the same release keeps it flat (``dask worker
--lifetime`` recycles it if ever needed).
"""

from __future__ import annotations

import concurrent.futures as cf
import ctypes
import functools
import multiprocessing
import os
import select
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from model.errors import JJJError, ScenarioError

RECYCLE_AFTER = 100
"""Tasks a local worker process runs before it is replaced (``max_tasks_per_child``)."""
PRELOAD = ("experiments.sweep",)
"""Modules the fork server imports once, so that a replaced worker starts in milliseconds."""
CONNECT_TIMEOUT = "20s"
"""How long to try to reach a Dask scheduler."""
M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter (malloc.h)
ATTEMPTS = 3
"""Tries of a task whose local worker process died (the pool breaks for every task in flight)."""

T = TypeVar("T")


class InlineExecutor(cf.Executor):
    """Runs each task in this process when it is submitted: for debugging and for measuring a
    single process (``--workers 0``)."""

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
    """

    executor: cf.Executor
    slots: int
    description: str
    make: Callable[[], cf.Executor] | None = None
    generation: int = 0
    _closers: list[Callable[[], None]] = field(default_factory=list)

    def restart(self) -> None:
        """Replace a broken local pool (tasks in flight on it fail and are resubmitted)."""
        if self.make is None:
            return
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.executor = self.make()
        self.generation += 1


@contextmanager
def open_pool(workers: int | None = None, scheduler: str | None = None,
              max_tasks_per_child: int | None = RECYCLE_AFTER) -> Iterator[Pool]:
    """An executor for a sweep: ``workers`` local processes (default: one per core; 0 runs in
    this process), or the Dask cluster whose scheduler listens at ``scheduler``
    (``tcp://HOST:PORT``). Closed on exit; pending tasks are cancelled."""
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
        return cf.ProcessPoolExecutor(max_workers=count, mp_context=context,
                                      max_tasks_per_child=max_tasks_per_child,
                                      initializer=watch_sweep, initargs=(os.getpid(),))

    pool = Pool(make(), count, f"{count} local process{'es' if count > 1 else ''}", make=make)
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
        raise ScenarioError(f"command line: --scheduler: value {address!r}: not a scheduler address; "
                            "allowed: tcp://HOST:PORT")
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


def watch_sweep(sweep_pid: int, every_s: float = 0.5) -> None:
    """In a local worker: exit as soon as the sweep that started it is gone.

    A worker whose sweep was killed (SIGKILL gives it no chance to stop its pool) would
    otherwise wait for work forever: it holds a write end of its own task queue, so it never
    sees the queue close, and it keeps the fork server alive too. The worker is not the sweep's
    child (the fork server's), so it watches the sweep's pid: through a pidfd where Linux has
    them, else by polling.
    """
    try:
        handle = os.pidfd_open(sweep_pid)
    except (AttributeError, OSError):
        handle = None

    def watch() -> None:
        if handle is not None:
            select.select([handle], [], [])  # readable once the process has exited
        else:
            while _is_alive(sweep_pid):
                time.sleep(every_s)
        os._exit(1)

    threading.Thread(target=watch, name="watch-sweep", daemon=True).start()


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
    """The project's commit and package versions in this process."""
    from experiments.run import git_commit, package_versions

    return {"git_commit": git_commit(), "versions": package_versions()}


def imap_unordered(pool: Pool, fn: Callable[[T], Any], items: Iterable[T],
                   window: int | None = None) -> Iterator[tuple[T, cf.Future]]:
    """Submit ``fn(item)`` for every item, at most ``window`` in flight (default twice the
    pool's slots, plus two), and yield ``(item, finished future)`` as they finish.

    A local pool whose worker process died (``BrokenProcessPool``) is replaced and the tasks
    that were in flight on it are submitted again, each at most ``ATTEMPTS`` times in all; after
    that the future's exception is yielded like any other.
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

    def fill() -> None:
        while len(pending) < window:
            try:
                item = next(source)
            except StopIteration:
                return
            submit(item, 1)

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
