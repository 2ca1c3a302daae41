"""Shared CLI helpers: progress display (a rich bar on a terminal, plain periodic log lines
elsewhere) and the consoles."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

console = Console(stderr=True)
out = Console()

PROGRESS_ENV = "WELFARE_SIM_PROGRESS_SECONDS"
DEFAULT_INTERVAL = 10.0

# progress(done, total=None, note=None): ``note`` says what is in progress (e.g. "2 running")
ProgressCallback = Callable[..., None]


def progress_interval() -> float:
    """Seconds between plain progress lines when not on a terminal
    (``WELFARE_SIM_PROGRESS_SECONDS``, default 10; 0 = every update)."""
    raw = os.environ.get(PROGRESS_ENV, "")
    try:
        v = float(raw)
    except ValueError:
        return DEFAULT_INTERVAL
    return v if v >= 0 else DEFAULT_INTERVAL


def _duration(s: float) -> str:
    s = max(0.0, s)
    if s < 90:
        return f"{s:.0f} s"
    if s < 5400:
        return f"{s / 60:.0f} min"
    return f"{s / 3600:.1f} h"


class PlainProgress:
    """Progress as plain lines on a stream, at most one per ``interval`` seconds (plus the
    first and the last): ``runs: 3/12 (25 %), 40 s elapsed, about 2 min left; 2 running``."""

    def __init__(self, label: str, total: int, unit: str, stream=None,
                 interval: float | None = None) -> None:
        self.label, self.total, self.unit = label, total, unit
        self.stream = sys.stderr if stream is None else stream
        self.interval = progress_interval() if interval is None else interval
        self.t0 = time.monotonic()
        self.last: float | None = None
        self.last_done = -1

    def __call__(self, done: float, total: float | None = None, note: str | None = None
                 ) -> None:
        total = self.total if total is None else total
        now = time.monotonic()
        final = done >= total
        if done == self.last_done and not final:
            return
        if not final and self.last is not None and now - self.last < self.interval:
            return
        if final and self.last_done >= total:
            return  # the final line once
        self.last, self.last_done = now, done
        elapsed = now - self.t0
        pct = 100.0 * done / total if total else 100.0
        line = f"{self.label}: {done:.0f}/{total:.0f} {self.unit} ({pct:.0f} %), " \
               f"{_duration(elapsed)} elapsed"
        if 0 < done < total and done >= 0.02 * total:  # no wild guess from the first step
            line += f", about {_duration(elapsed * (total - done) / done)} left"
        if note and not final:
            line += f"; {note}"
        print(line, file=self.stream, flush=True)


@contextmanager
def progress_bar(label: str, total: int, enabled: bool | None = None, unit: str = "runs"
                 ) -> Iterator[ProgressCallback]:
    """Yield ``progress(done, total=None, note=None)``.

    ``enabled`` None (default): a rich bar (counts, elapsed, ETA, what is running) on a
    terminal, plain periodic lines on stderr when not (a log file, a pipe, Jupyter);
    True: the rich bar; False: nothing."""
    if enabled is False:
        yield lambda done, total_=None, note=None: None
        return
    if enabled is None and not sys.stderr.isatty():
        yield PlainProgress(label, total, unit)
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn(unit), TimeElapsedColumn(), TextColumn("ETA"),
                  TimeRemainingColumn(), TextColumn("{task.fields[note]}"),
                  console=console, transient=True) as prog:
        task = prog.add_task(label, total=total, note="")

        def update(done, total_=None, note=None):
            prog.update(task, completed=done, total=total_ or total, note=note or "")

        yield update
