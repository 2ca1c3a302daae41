"""Shared CLI helpers: progress display and summary tables."""

from __future__ import annotations

import sys
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

console = Console(stderr=True)
out = Console()


@contextmanager
def progress_bar(label: str, total: int, enabled: bool | None = None):
    """A rich progress bar on a terminal; a no-op callback when not interactive."""
    enabled = sys.stderr.isatty() if enabled is None else enabled
    if not enabled:
        yield lambda done, total_=None: None
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/"
                  "{task.total}"), TimeElapsedColumn(), TimeRemainingColumn(),
                  console=console, transient=True) as prog:
        task = prog.add_task(label, total=total)
        yield lambda done, total_=None: prog.update(task, completed=done)
