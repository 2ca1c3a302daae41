"""Run a set of runs with a progress callback, and a whole experiment file (``sweep``)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from sim.errors import InputError, WelfareSimError
from sim.experiments.design import Experiment, design_manifest, design_points, design_table
from sim.experiments.executor import make_executor
from sim.experiments.store import (
    RunSpec,
    assemble,
    atomic_write_bytes,
    read_errors,
    result_path,
    write_parquet,
)

Progress = Callable[[int, int], None]


def prepare_out(out: Path, resume: bool, overwrite: bool, what: str) -> None:
    """Refuse to mix results: an existing non-empty folder needs --resume or --overwrite."""
    if out.exists() and any(out.iterdir()):
        ours = (out / "manifest.json").is_file() or (out / "runs").is_dir()
        if overwrite and not ours:
            raise InputError(f"output folder {out} is not empty and does not look like a "
                             f"welfare-sim {what} folder (no manifest.json or runs/); refusing "
                             "to delete it. Expected a new folder or an earlier results folder.")
        if overwrite:
            shutil.rmtree(out)
        elif not resume:
            raise InputError(f"output folder {out} already exists and is not empty. Expected a "
                             f"new folder; pass --resume to continue the {what} or --overwrite "
                             "to replace it.")
    (out / "runs").mkdir(parents=True, exist_ok=True)


def _clear_stale(runs_dir: Path) -> None:
    """Remove temporary files of workers that were killed while writing: never a result."""
    for stale in Path(runs_dir).glob(".*.tmp"):
        stale.unlink(missing_ok=True)


def execute(specs: list[RunSpec], runs_dir: Path, workers: int | None, scheduler: str | None,
            progress: Progress | None = None) -> dict[str, Any]:
    """Run every spec whose result file is missing; return counts and errors."""
    runs_dir = Path(runs_dir).resolve()  # workers (Dask: other machines) need an absolute path
    unique = {s.run_id: s for s in specs}
    _clear_stale(runs_dir)
    todo = [s for rid, s in sorted(unique.items()) if not result_path(runs_dir, rid).exists()]
    done = len(unique) - len(todo)
    if progress:
        progress(done, len(unique))
    failed: dict[str, str] = {}
    if todo:
        ex = make_executor(workers, scheduler)
        try:
            for outcome in ex.run(todo, str(runs_dir)):
                done += 1
                if not outcome.ok:
                    failed[outcome.run_id] = outcome.error or "unknown error"
                if progress:
                    progress(done, len(unique))
        finally:
            ex.close()
        _clear_stale(runs_dir)  # every worker is done: a temporary file left now is an orphan
    failed.update({k: v for k, v in read_errors(runs_dir, unique).items() if k not in failed})
    return {"runs": len(unique), "executed": len(todo), "failed": len(failed),
            "done": len(unique) - len(failed), "errors": failed}


def identify(results: pd.DataFrame, exp: Experiment) -> pd.DataFrame:
    """Identity columns in front of a sweep's results: the base scenario and, unless it is a
    varied parameter, its paradigm (the design already has point, replication, seed, run_id)."""
    results = results.copy()
    if "scenario" not in results.columns:
        results.insert(0, "scenario", exp.base.name)
    if "paradigm" not in results.columns:
        results.insert(1, "paradigm", exp.base.paradigm.describe())
    return results


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def run_sweep(exp: Experiment, out: Path, workers: int | None = None,
              scheduler: str | None = None, resume: bool = False, overwrite: bool = False,
              progress: Progress | None = None) -> dict[str, Any]:
    """Run an experiment into ``out``: design.parquet, runs/, results.parquet, manifest.json."""
    out = Path(out)
    try:
        return _run_sweep(exp, out, workers, scheduler, resume, overwrite, progress)
    except OSError as exc:  # full disk, read-only or unwritable folder: stop cleanly
        raise WelfareSimError(
            f"{out}: cannot write the sweep output ({exc.strerror or exc}"
            f"{': ' + str(exc.filename) if exc.filename else ''}). Finished runs in "
            f"{out / 'runs'} are kept. Expected a writable folder with free space; fix that "
            "and rerun with --resume to complete the sweep.") from exc


def _run_sweep(exp: Experiment, out: Path, workers: int | None, scheduler: str | None,
               resume: bool, overwrite: bool, progress: Progress | None) -> dict[str, Any]:
    from sim.runner import git_commit, package_versions

    prepare_out(out, resume, overwrite, "sweep")
    started = _now()
    design = design_table(exp)
    points, raw = design_points(exp)
    write_parquet(design, out / "design.parquet")
    if raw is not None:  # SALib's exact sample (Morris needs it; integers are rounded above)
        write_parquet(pd.DataFrame(raw, columns=[f.name for f in exp.factors]),
                      out / "sample.parquet")
    specs = [RunSpec(row.run_id, exp.base, int(row.seed), points[int(row.point)],
                     exp.metrics, exp.years) for row in design.itertuples()]
    stats = execute(specs, out / "runs", workers, scheduler, progress)
    results = identify(assemble(out / "runs", design), exp)
    write_parquet(results, out / "results.parquet", "sweep",
                  {"experiment": exp.name, "scenario": exp.base.name, "method": exp.method,
                   "replications": exp.replications, "seed": exp.seed})
    versions = package_versions()
    for name in ("SALib", "dask", "distributed", "ema_workbench"):
        try:
            from importlib import metadata
            versions[name] = metadata.version(name)
        except Exception:  # noqa: BLE001 - optional packages
            pass
    manifest = {
        "kind": "sweep", "experiment": exp.name, "experiment_file": str(exp.path),
        "experiment_text": exp.text, "base_scenario_hash": exp.base.hash,
        **design_manifest(exp),
        "versions": versions, "git_commit": git_commit(), "started": started, "ended": _now(),
        "runs": stats["runs"], "runs_done": stats["done"], "runs_failed": stats["failed"],
        "executed_now": stats["executed"], "errors": stats["errors"],
        "executor": scheduler or f"local:{workers or 'all cores'}",
    }
    text = json.dumps(manifest, indent=1, default=str) + "\n"
    atomic_write_bytes(out / "manifest.json", lambda p: p.write_text(text))
    return manifest


def load_results(sweep_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    sweep_dir = Path(sweep_dir)
    mf = sweep_dir / "manifest.json"
    if not mf.is_file():
        raise InputError(f"{sweep_dir}: no manifest.json. Expected a folder written by "
                         "welfare-sim sweep.")
    manifest = json.loads(mf.read_text())
    if manifest.get("kind") == "compare":
        raise InputError(f"{sweep_dir}: a comparison (welfare-sim compare), which varies no "
                         "parameters, so there are no sensitivity indices or PRIM boxes to "
                         "compute; its results are in report.md, summary.csv, differences.csv "
                         "and results.parquet (welfare-sim summarize accepts it). Expected a "
                         "folder written by welfare-sim sweep from an experiment file.")
    missing = [f for f in ("results.parquet", "design.parquet")
               if not (sweep_dir / f).is_file()]
    if missing:
        raise InputError(f"{sweep_dir}: no {' or '.join(missing)} (the sweep is still running "
                         "or was interrupted). Expected a finished sweep folder; rerun "
                         "welfare-sim sweep with --resume.")
    return (pd.read_parquet(sweep_dir / "results.parquet"),
            pd.read_parquet(sweep_dir / "design.parquet"), manifest)
