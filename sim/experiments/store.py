"""Per-run result files, written atomically, and their assembly into one tidy Parquet table.

Each run writes ``runs/<run_id>.parquet`` (long: run_id, year, metric, value — yearly means)
through a temporary file and :func:`os.replace`, so a killed worker never leaves a truncated
file and a re-run skips finished runs. A failing run writes ``runs/<run_id>.error.json``.
"""

from __future__ import annotations

import errno
import json
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.safety import atomic_write
from sim.scenario import Scenario


@dataclass(frozen=True)
class RunSpec:
    """Everything a worker needs for one run (picklable)."""

    run_id: str
    scenario: Scenario
    seed: int
    overrides: dict[str, Any] = field(default_factory=dict)
    metrics: tuple[str, ...] | None = None  # None: every metric
    years: tuple[int, ...] | None = None  # None: every year


@dataclass(frozen=True)
class Outcome:
    run_id: str
    ok: bool
    cached: bool = False
    error: str | None = None
    seconds: float = 0.0


_DISK_ERRORS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO)


def result_path(runs_dir: Path, rid: str) -> Path:
    return Path(runs_dir) / f"{rid}.parquet"


def error_path(runs_dir: Path, rid: str) -> Path:
    return Path(runs_dir) / f"{rid}.error.json"


def atomic_write_bytes(path: Path, write) -> None:
    """Call ``write(tmp_path)``, fsync, then rename the file into place (same folder)."""
    atomic_write(Path(path), write)


def valid_result(runs_dir: Path, rid: str) -> bool:
    """True if the run's result file exists and is a readable Parquet file. A zero-byte or
    truncated file (a crash of the disk, not of welfare-sim, which writes atomically) is
    removed so the run is done again instead of blocking every --resume."""
    p = result_path(runs_dir, rid)
    try:
        if not p.is_file():
            return False
        if p.stat().st_size > 0:
            import pyarrow.parquet as pq

            pq.read_metadata(p)
            return True
    except Exception:  # noqa: BLE001 - any unreadable file is redone
        pass
    p.unlink(missing_ok=True)
    return False


def long_table(table: pd.DataFrame, rid: str, metrics, years) -> pd.DataFrame:
    from sim.runner import yearly

    y = yearly(table)
    if metrics is not None:
        y = y[list(metrics)]
    if years is not None:
        y = y.loc[[yr for yr in years if yr in y.index]]
    y = y.sort_index()
    long = y.reset_index().melt(id_vars="year", var_name="metric", value_name="value")
    long.insert(0, "run_id", rid)
    long["year"] = long["year"].astype("int64")
    long["value"] = long["value"].astype("float64")
    return long.sort_values(["year", "metric"], kind="stable").reset_index(drop=True)


def execute_run(spec: RunSpec, runs_dir: str) -> Outcome:
    """Run one simulation (or skip it if its result exists) and store the result atomically.
    Never raises for model errors: they are recorded in ``<run_id>.error.json``."""
    runs = Path(runs_dir)
    out = result_path(runs, spec.run_id)
    if valid_result(runs, spec.run_id):
        return Outcome(spec.run_id, True, cached=True)
    t0 = time.perf_counter()
    try:
        from sim.model import WelfareModel

        scen = spec.scenario.with_overrides(spec.overrides) if spec.overrides else spec.scenario
        model = WelfareModel(scen, seed=spec.seed)
        model.run()
        long = long_table(model.table(), spec.run_id, spec.metrics, spec.years)
        atomic_write_bytes(out, lambda p: long.to_parquet(p, index=False, engine="pyarrow"))
        error_path(runs, spec.run_id).unlink(missing_ok=True)
        return Outcome(spec.run_id, True, seconds=time.perf_counter() - t0)
    except Exception as exc:  # a failing run is recorded, the sweep goes on
        if isinstance(exc, OSError) and exc.errno in _DISK_ERRORS:
            raise  # not the run's fault: the sweep stops (sweep.run_sweep says how to resume)
        msg = f"{type(exc).__name__}: {exc}"
        info = {"run_id": spec.run_id, "seed": spec.seed, "error": msg,
                "overrides": spec.overrides, "traceback": traceback.format_exc()}
        text = json.dumps(info, indent=1, default=str)
        atomic_write_bytes(error_path(runs, spec.run_id), lambda p: p.write_text(text))
        return Outcome(spec.run_id, False, error=msg, seconds=time.perf_counter() - t0)


def read_errors(runs_dir: Path, run_ids) -> dict[str, str]:
    out = {}
    for rid in run_ids:
        p = error_path(runs_dir, rid)
        if p.exists() and not result_path(runs_dir, rid).exists():
            try:
                out[rid] = str(json.loads(p.read_text())["error"])
            except (OSError, ValueError, KeyError, TypeError):
                out[rid] = "unreadable error record"
    return out


def assemble(runs_dir: Path, design: pd.DataFrame) -> pd.DataFrame:
    """Join every finished run with its design row; sorted by run id so the result does not
    depend on the order runs finished in."""
    ids = sorted(set(design["run_id"]))
    parts = [pd.read_parquet(result_path(runs_dir, rid)) for rid in ids
             if result_path(runs_dir, rid).exists()]
    if not parts:
        return pd.DataFrame(columns=[*design.columns, "year", "metric", "value"])
    long = pd.concat(parts, ignore_index=True)
    merged = design.merge(long, on="run_id", how="inner")
    return merged.sort_values(["run_id", "point", "year", "metric"] if "point" in merged
                              else ["run_id", "year", "metric"],
                              kind="stable").reset_index(drop=True)


def write_parquet(df: pd.DataFrame, path: Path, kind: str | None = None,
                  info: dict[str, Any] | None = None) -> None:
    """Atomically write a self-describing Parquet file (units and descriptions per column in
    the schema; see :mod:`sim.outputs`)."""
    from sim.outputs import write_parquet as described

    kind = kind or Path(path).stem
    atomic_write_bytes(Path(path), lambda p: described(df, p, kind, info))
