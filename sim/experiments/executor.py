"""One executor interface over in-process, local processes (spawn) and Dask distributed.

``make_executor(workers, scheduler)`` returns an object whose ``run(specs, runs_dir)`` yields
:class:`~sim.experiments.store.Outcome` as runs finish (in any order). Results never depend on
the executor: each run is determined by its spec, and assembly sorts by run id.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from typing import Protocol

from sim.errors import InputError
from sim.experiments.store import Outcome, RunSpec, execute_run

MAX_POOL_RESTARTS = 3


class Executor(Protocol):
    def run(self, specs: Iterable[RunSpec], runs_dir: str) -> Iterator[Outcome]: ...

    def close(self) -> None: ...


class SerialExecutor:
    """Runs in this process (one worker): simplest, and what tests monkeypatch."""

    def run(self, specs: Iterable[RunSpec], runs_dir: str) -> Iterator[Outcome]:
        for s in specs:
            yield execute_run(s, runs_dir)

    def close(self) -> None:
        pass


_in_run = False  # in a worker process: is a run executing right now?


def _worker_start(parent: int | None = None) -> None:
    """Pool worker set-up: a Ctrl-C (SIGINT to the whole process group, as a terminal sends
    it) stops a run that is executing, as in one process (its files are cleaned up and the
    sweep's --resume redoes it), and makes an idle worker exit quietly, not with a
    traceback from inside the pool's queue. The worker dies with its parent (killed by the
    OOM killer or SIGKILL), so no orphan keeps computing or holds the caller's pipes."""
    signal.signal(signal.SIGINT, _on_sigint)
    signal.signal(signal.SIGTERM, _on_sigint)  # the parent stopping the pool: same clean-up
    die_with_parent(parent)


def die_with_parent(parent: int | None) -> None:
    """On Linux, ask the kernel for SIGKILL when the parent process exits
    (PR_SET_PDEATHSIG); elsewhere, a daemon thread watches the parent's pid."""
    if parent is None:
        return
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(1, signal.SIGKILL, 0, 0, 0) == 0:  # PR_SET_PDEATHSIG = 1
                if os.getppid() != parent:  # the parent died before prctl: go now
                    os._exit(1)
                return
        except (OSError, AttributeError):
            pass
    import threading
    import time

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


_stopping = False  # in a worker process: has a SIGINT/SIGTERM asked it to stop?


def _on_sigint(signum, frame) -> None:
    global _stopping
    _stopping = True
    if _in_run:
        raise KeyboardInterrupt
    raise SystemExit(130)


def _execute_in_worker(spec: RunSpec, runs_dir: str) -> Outcome:
    global _in_run
    _in_run = True
    try:
        return execute_run(spec, runs_dir)
    finally:
        _in_run = False
        if _stopping:
            # the run's own clean-up has run; now really stop. The pool catches every
            # exception of a task (KeyboardInterrupt included) and would send it back and
            # wait for the next task, so a worker the pool terminates (a broken pool
            # terminates the others) never exited and the pool's join hung for ever
            os._exit(130)


class LocalExecutor:
    """A ProcessPoolExecutor with the spawn context. If a worker process dies, only its
    current run is lost: the pool is restarted and unfinished runs resubmitted."""

    def __init__(self, workers: int) -> None:
        self.workers = workers

    def run(self, specs: Iterable[RunSpec], runs_dir: str) -> Iterator[Outcome]:
        todo = {s.run_id: s for s in specs}
        restarts = 0
        ctx = multiprocessing.get_context("spawn")
        while todo:
            pool = ProcessPoolExecutor(max_workers=min(self.workers, len(todo)), mp_context=ctx,
                                       initializer=_worker_start, initargs=(os.getpid(),))
            futures = {pool.submit(_execute_in_worker, s, runs_dir): rid
                       for rid, s in todo.items()}
            broken = False
            clean = False
            try:
                pending = set(futures)
                while pending:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for f in done:
                        rid = futures[f]
                        try:
                            res = f.result()
                        except BrokenProcessPool:
                            broken = True
                            continue
                        todo.pop(rid, None)
                        yield res
                clean = True
            finally:
                if not clean and not broken:  # interrupted (Ctrl-C, SIGTERM) or an error:
                    _terminate(pool)  # stop the workers now, not after their current runs
                pool.shutdown(wait=not broken and clean, cancel_futures=True)
            if broken:
                restarts += 1
                if restarts > MAX_POOL_RESTARTS:
                    for rid in list(todo):
                        yield Outcome(rid, False, error="worker process died repeatedly")
                    return

    def close(self) -> None:
        pass


def _terminate(pool: ProcessPoolExecutor) -> None:
    procs = list((getattr(pool, "_processes", None) or {}).values())
    for p in procs:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            p.terminate()
    for p in procs:
        with contextlib.suppress(OSError, ValueError, AttributeError, AssertionError):
            p.join(5)


class DaskExecutor:
    """Dask distributed: ``tcp://HOST:PORT`` of a running scheduler. Workers must have
    welfare-sim installed and see the output folder (shared file system)."""

    def __init__(self, address: str) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise InputError("--scheduler needs dask[distributed]. Expected it installed: "
                             "pip install -e '.[experiments]'.") from None
        try:
            self.client = Client(address, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise InputError(f"--scheduler {address!r}: cannot connect ({exc}). Expected the "
                             "address of a running dask scheduler, e.g. tcp://10.0.0.5:8786."
                             ) from None

    def run(self, specs: Iterable[RunSpec], runs_dir: str) -> Iterator[Outcome]:
        from distributed import as_completed

        fn = partial(execute_run, runs_dir=runs_dir)
        specs = list(specs)
        futures = [self.client.submit(fn, s, key=f"welfare-run-{s.run_id}", pure=False,
                                      retries=2) for s in specs]
        ids = {f.key: s.run_id for f, s in zip(futures, specs, strict=True)}
        for f in as_completed(futures):
            try:
                yield f.result()
            except Exception as exc:  # e.g. KilledWorker after retries
                yield Outcome(ids[f.key], False, error=f"{type(exc).__name__}: {exc}")

    def close(self) -> None:
        self.client.close()


def make_executor(workers: int | None = None, scheduler: str | None = None) -> Executor:
    if scheduler:
        if not scheduler.startswith(("tcp://", "tls://", "inproc://", "ws://", "wss://")):
            raise InputError(f"--scheduler {scheduler!r}: not a scheduler address. Expected "
                             "tcp://HOST:PORT.")
        return DaskExecutor(scheduler)
    if workers is not None and (isinstance(workers, bool) or workers < 1):
        raise InputError(f"--workers {workers}: expected a whole number ≥ 1 (leave it out "
                         "for all cores).")
    workers = workers or os.cpu_count() or 1
    return SerialExecutor() if workers == 1 else LocalExecutor(workers)
