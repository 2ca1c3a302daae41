"""Run a set of runs with a progress callback, and a whole experiment file (``sweep``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from sim.errors import InputError, WelfareSimError
from sim.experiments.design import (
    Experiment,
    design_manifest,
    design_points,
    design_table,
    run_overrides,
    uncertainty_identity,
)
from sim.experiments.executor import make_executor
from sim.experiments.store import (
    RunSpec,
    assemble,
    atomic_write_bytes,
    read_errors,
    valid_result,
    write_parquet,
)
from sim.safety import (
    atomic_write,
    check_output_dir,
    read_marker,
    remove_output_dir,
    write_marker,
)

Progress = Callable[[int, int], None]


def prepare_out(out: Path, resume: bool, overwrite: bool, what: str,
                identity: dict[str, Any] | None = None) -> None:
    """Refuse to mix results or to delete what is not ours (:mod:`sim.safety`): an existing
    non-empty folder needs --resume or --overwrite and must be welfare-sim output of the same
    kind; --resume also needs the same experiment (``identity``, kept in the marker)."""
    kind = "sweep" if what == "sweep" else "compare"
    exists = check_output_dir(out, kind, overwrite=overwrite, resume=resume)
    if exists and overwrite:
        remove_output_dir(out, kind)
    elif exists and resume and identity:
        old = read_marker(out) or {}
        before = old.get("identity")
        if isinstance(before, dict):
            for key, value in identity.items():
                if key in before and before[key] != value:
                    raise InputError(
                        f"--out {out}: holds the {what} of a different experiment ({key} "
                        f"{before[key]!r}, now {value!r}); --resume continues only the same "
                        f"one. Expected the folder of this {what}; pass --overwrite to "
                        "replace it or choose another --out.")
    (out / "runs").mkdir(parents=True, exist_ok=True)
    if not exists or overwrite or read_marker(out) is None:
        write_marker(out, kind, "partial", identity=identity or {})
    else:
        old = read_marker(out) or {}
        write_marker(out, kind, "partial", identity=old.get("identity") or identity or {})


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
    todo = [s for rid, s in sorted(unique.items()) if not valid_result(runs_dir, rid)]
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
            if not scheduler:  # local workers are all stopped: a temporary file is an orphan
                _clear_stale(runs_dir)
        _clear_stale(runs_dir)  # every worker is done
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


def identity(exp: Experiment) -> dict[str, Any]:
    """What --resume must match: the experiment's name and its parameter draws (a changed
    [uncertainty] block would mix runs of other plausible worlds into the results)."""
    return {"experiment": exp.name, "uncertainty": uncertainty_identity(exp)}


def run_specs(exp: Experiment, design: pd.DataFrame, points: list[dict[str, Any]]
              ) -> list[RunSpec]:
    """One RunSpec per design row: its point's values and, with draws, its draw's."""
    draws = exp.draw_overrides()
    has_draw = "draw" in design.columns
    return [RunSpec(row.run_id, exp.base, int(row.seed),
                    run_overrides(points[int(row.point)], draws[int(row.draw)] if has_draw
                                  else {}), exp.metrics, exp.years)
            for row in design.itertuples()]


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

    prepare_out(out, resume, overwrite, "sweep", identity(exp))
    started = _now()
    design = design_table(exp)
    points, raw = design_points(exp)
    write_parquet(design, out / "design.parquet")
    if raw is not None:  # SALib's exact sample (Morris needs it; integers are rounded above)
        write_parquet(pd.DataFrame(raw, columns=[f.name for f in exp.factors]),
                      out / "sample.parquet")
    if exp.draws is not None:  # as compare writes them: every draw's values, exactly as run
        write_parquet(exp.draws, out / "draws.parquet")
        atomic_write(out / "draws.csv", lambda p: exp.draws.to_csv(p, index=False))
    specs = run_specs(exp, design, points)
    stats = execute(specs, out / "runs", workers, scheduler, progress)
    results = identify(assemble(out / "runs", design), exp)
    write_parquet(results, out / "results.parquet", "sweep",
                  {"experiment": exp.name, "scenario": exp.base.name, "method": exp.method,
                   "replications": exp.replications, "seed": exp.seed,
                   **({"draws": exp.n_draws} if exp.draws is not None else {})})
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
    write_marker(out, "sweep", "finished" if not stats["failed"] else "partial",
                 identity=identity(exp))
    return manifest


def load_results(sweep_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """results.parquet, design.parquet and manifest.json of a sweep folder, checked."""
    sweep_dir = Path(sweep_dir)
    manifest = read_manifest(sweep_dir, "sweep")
    return (read_table(sweep_dir / "results.parquet", "sweep"),
            read_table(sweep_dir / "design.parquet", "sweep"), manifest)


def read_manifest(folder: Path, kind: str) -> dict[str, Any]:
    """manifest.json of a ``kind`` folder, as a dict; an InputError for anything else."""
    mf = Path(folder) / "manifest.json"
    if not mf.is_file():
        raise InputError(f"{folder}: no manifest.json. Expected a folder written by "
                         f"welfare-sim {kind}.")
    try:
        manifest = json.loads(mf.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{mf}: cannot be read as JSON ({exc}). Expected the manifest "
                         f"written by welfare-sim {kind}; rerun the {kind}.") from None
    if not isinstance(manifest, dict):
        raise InputError(f"{mf}: not a JSON object. Expected the manifest written by "
                         f"welfare-sim {kind}; rerun the {kind}.")
    found = manifest.get("kind", "sweep" if "method" in manifest else None)
    if found != kind:
        what = f"welfare-sim {found}" if found else "something else"
        raise InputError(f"{folder}: holds the output of {what}, not {kind}. Expected a "
                         f"folder written by welfare-sim {kind}.")
    return manifest


def read_table(path: Path, kind: str) -> pd.DataFrame:
    """A Parquet file of an output folder; an InputError if it is missing or corrupt."""
    try:
        return pd.read_parquet(path)
    except FileNotFoundError:
        raise InputError(f"{path}: missing. Expected the file written by welfare-sim {kind}; "
                         f"rerun the {kind} (--resume reuses finished runs).") from None
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several types on a bad file
        if isinstance(exc, MemoryError):
            raise
        raise InputError(f"{path}: not a readable Parquet file ({type(exc).__name__}: "
                         f"{str(exc)[:200]}). Expected the file written by welfare-sim "
                         f"{kind}; rerun the {kind} (--resume reuses finished runs).") from None
