"""Calibration: fit registry parameters to observed figures (``welfare-sim calibrate``).

A calibration config names a base scenario, a targets file (observed figures, each with its
source) and the parameters to fit within their registry ranges. Optuna's TPE sampler proposes
values; each trial is run ``replications`` times at a small population scale and scored by the
weighted mean relative error over the fitted targets; the best trials are re-run on fresh seeds
and the best re-run is chosen. Targets marked ``holdout`` are never fitted and are reported as
out-of-sample checks. See docs/calibration.md.

The work happens in ``DIR.partial/`` (trials in SQLite, so ``--resume`` continues after an
interruption); the folder is renamed to ``DIR`` only when every output is written.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from sim.calibration.config import CalibrationConfig, Target, load_config, load_targets
from sim.errors import InputError, WelfareSimError

__all__ = ["CalibrationConfig", "Target", "calibrate", "load_config", "load_targets"]

MARKER = "calibration.json"
DB = "calibration.db"


def work_dir(out: Path) -> Path:
    return out.with_name(out.name + ".partial")


def _is_ours(folder: Path) -> bool:
    """A folder welfare-sim calibrate wrote (its marker file, with the config hash). A
    manifest.json alone is not enough: a user's folder may hold one (sim/safety.py)."""
    return bool(_marker(folder).get("config_hash"))


def _marker(folder: Path) -> dict:
    try:
        return json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _prepare(cfg: CalibrationConfig, out: Path, resume: bool, overwrite: bool, log) -> bool:
    """Check the output and work folders; return True when ``out`` is already complete."""
    from sim.safety import check_output_path

    check_output_path(out)  # never ., a parent, home, / or a symbolic link (before work_dir:
    work = work_dir(out)    # Path(".") has no name to add ".partial" to)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: exists and is not a folder. Expected a folder name.")
    if out.is_dir() and any(out.iterdir()):
        done = _marker(out).get("config_hash") == cfg.hash and (out / "manifest.json").is_file()
        if resume and done and not work.exists():
            log(f"{out} already holds this calibration, complete; nothing to do")
            return True
        if not overwrite:
            raise InputError(f"output folder {out} already exists and is not empty. Expected a "
                             "new folder; pass --overwrite to replace it"
                             + (" (it holds a finished calibration of another config)"
                                if (out / MARKER).is_file() and not done else "") + ".")
        if not _is_ours(out):
            raise InputError(f"output folder {out} is not empty and was not written by "
                             "welfare-sim calibrate (no calibration.json); refusing to delete "
                             "it. Expected a new folder or an earlier calibration folder.")
    if work.exists():
        if not (work / MARKER).is_file():
            raise InputError(f"{work} exists but was not written by welfare-sim calibrate (no "
                             f"{MARKER}); refusing to use or delete it. Expected no such folder; "
                             "move it away.")
        if overwrite:
            shutil.rmtree(work)
        elif not resume:
            raise InputError(f"an interrupted calibration is in {work}. Expected --resume to "
                             "continue it, or --overwrite to start again.")
        elif _marker(work).get("config_hash") != cfg.hash:
            raise InputError(f"{work} holds a calibration of a different config (the config, "
                             "targets or scenario files changed since it started). Expected "
                             "the same files to resume, or --overwrite to start again.")
        else:
            log(f"resuming the calibration in {work}")
    return False


def calibrate(cfg: CalibrationConfig, out: str | os.PathLike, workers: int = 1,
              resume: bool = False, overwrite: bool = False, log=print,
              command: str | None = None) -> Path:
    """Run (or resume) a calibration into ``out``; return ``out``."""
    out = Path(out)
    try:
        return _calibrate(cfg, out, workers, resume, overwrite, log, command)
    except OSError as exc:
        raise WelfareSimError(
            f"{out}: cannot write the calibration ({exc.strerror or exc}"
            f"{': ' + str(exc.filename) if exc.filename else ''}). Trials done so far are kept "
            f"in {work_dir(out) / DB}. Expected a writable folder with free space; fix that and "
            "rerun with --resume.") from exc


def _calibrate(cfg: CalibrationConfig, out: Path, workers: int, resume: bool, overwrite: bool,
               log, command: str | None) -> Path:
    import time

    from sim.calibration import report, search

    if _prepare(cfg, out, resume, overwrite, log):
        return out
    work = work_dir(out)
    work.mkdir(parents=True, exist_ok=True)
    if not (work / MARKER).is_file():
        (work / MARKER).write_text(json.dumps({"kind": report.KIND, "config": str(cfg.path),
                                               "config_hash": cfg.hash}, indent=2) + "\n",
                                   encoding="utf-8")
    runs_total = cfg.trials * cfg.replications + cfg.rerun_top * cfg.rerun_replications
    log(f"calibrating {cfg.name}: {len(cfg.parameters)} parameter(s), {len(cfg.fitted)} fitted "
        f"and {len(cfg.holdout)} holdout target(s); {cfg.trials} trials × {cfg.replications} "
        f"runs + {cfg.rerun_top} × {cfg.rerun_replications} re-runs = {runs_total} runs at "
        f"scale {cfg.population_scale:g}, {workers} worker(s)")
    counter = search.Counter()
    t0 = time.perf_counter()
    study = search.open_study(work / DB)
    ev = search.Evaluator(cfg, workers)
    try:
        search.run_search(study, cfg, ev, counter, log)
        search.run_reruns(study, cfg, ev, counter, log)
        res = search.outcome(study, cfg)
    finally:
        ev.close()
    report.write_all(cfg, res, work, command or f"welfare-sim calibrate {cfg.path}")
    search.close_study(study)
    wall = time.perf_counter() - t0
    timing = {"workers": workers, "runs_this_process": counter.runs,
              "wall_seconds_this_process": round(wall, 3),
              "runs_per_core_hour": round(counter.runs / (wall * workers / 3600), 1)
              if wall > 0 and counter.runs else None,
              "resumed": resume}
    (work / "timing.json").write_text(json.dumps(timing, indent=2) + "\n", encoding="utf-8")
    if out.exists():
        if out.is_dir() and any(out.iterdir()):
            shutil.rmtree(out)  # checked in _prepare: --overwrite of a welfare-sim folder
        else:
            out.rmdir()
    os.replace(work, out)
    log(f"wrote {out}/ (calibrated.toml, fit.md, fit.csv, fit.png, trials.csv, manifest.json)")
    return out
