"""Run a scenario and write its outputs: the per-tick table, a summary and a manifest.

Outputs are written to a temporary folder next to the destination and renamed into place at
the end, so an interrupted or failed run never leaves a half-written result folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.model import WelfareModel
from sim.scenario import Scenario

SUMMARY_METRICS = ("population", "share_80plus", "need_hours", "hours_delivered",
                   "hours_professional", "hours_volunteer", "hours_informal", "coverage",
                   "quality", "fit_niche", "satisfaction", "cost_per_inhabitant",
                   "fte_per_1000", "share_admin", "volunteers", "coverage_gap_resource",
                   "fiscal_gap")


@dataclass
class RunResult:
    table: pd.DataFrame
    summary: dict[str, Any]
    manifest: dict[str, Any]
    model: WelfareModel | None = None


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in ("welfare-sim", "mesa", "numpy", "scipy", "networkx", "pandas", "pyarrow"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def git_commit() -> str | None:
    root = Path(__file__).resolve().parent.parent
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def yearly(table: pd.DataFrame) -> pd.DataFrame:
    """Yearly means of every metric (flows such as births are summed)."""
    flows = ["births", "deaths", "immigrants", "emigrants", "turnover", "hires",
             "innovations_new", "innovations_useful", "innovations_utilised", "new_processes",
             "volunteers_quit", "handovers"]
    g = table.drop(columns=["tick", "month"]).groupby("year")
    out = g.mean()
    out[flows] = g[flows].sum()
    return out


def summarise(table: pd.DataFrame, scenario: Scenario, seed: int) -> dict[str, Any]:
    y = yearly(table)
    first, last = int(y.index.min()), int(y.index.max())
    marks = sorted({first, *[v for v in (2030, 2040) if first < v < last], last})
    return {
        "scenario": scenario.name, "seed": seed, "paradigm": scenario.paradigm.describe(),
        "years": [first, last],
        "by_year": {str(yr): {m: float(y.loc[yr, m]) for m in SUMMARY_METRICS} for yr in marks},
        "total_cost_nok": float(table["cost_total"].sum()),
        "mean_quality": float(table["quality"].mean()),
        "mean_coverage": float(table["coverage"].mean()),
    }


def run_scenario(scenario: Scenario, seed: int | None = None, progress=None,
                 keep_model: bool = False) -> RunResult:
    """Run a scenario in-process and return its table, summary and manifest."""
    seed = scenario.seed if seed is None else int(seed)
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    model = WelfareModel(scenario, seed=seed)
    model.run(progress=progress)
    wall = time.perf_counter() - t0
    table = model.table()
    from sim.demography.data import base_population_sources

    manifest = {
        "scenario": scenario.name,
        "scenario_files": scenario.chain,
        "scenario_hash": scenario.hash,
        "scenario_text": scenario.text,
        "seed": seed,
        # which figures the run started from (an import comes before the bundled file)
        "base_population": base_population_sources(scenario.params["run.municipality"]),
        "resolved": scenario.resolved_toml(),
        "versions": package_versions(),
        "git_commit": git_commit(),
        "started": started.isoformat(timespec="seconds"),
        "wall_seconds": round(wall, 3),
        "ticks": int(len(table)),
        "phase_seconds": {k: round(v, 3) for k, v in model.timings.items()},
        "command": " ".join([os.path.basename(sys.argv[0]), *sys.argv[1:]]),
    }
    return RunResult(table, summarise(table, scenario, seed), manifest,
                     model if keep_model else None)


def write_table(table: pd.DataFrame, path: Path, info: dict[str, Any] | None = None) -> None:
    """Parquet with deterministic content (no pandas index, fixed column order) and units and
    descriptions in the schema (:mod:`sim.outputs`)."""
    from sim.outputs import write_parquet

    write_parquet(table, path, "ticks", info)


def identified(result: RunResult) -> pd.DataFrame:
    """The per-tick table with its identity columns in front: scenario, paradigm, seed, run_id
    (a single run has no replication)."""
    s, m = result.summary, result.manifest
    table = result.table.copy()
    # the id sim.experiments.design.run_id gives this run in a sweep or comparison
    key = {"scenario": m["scenario_hash"], "overrides": {}, "seed": int(s["seed"])}
    imported = [b["sha256"] for b in m.get("base_population", []) if b["origin"] != "bundled"]
    if imported:  # figures not bundled: part of the id (bundled runs keep their ids)
        key["base_population"] = hashlib.sha256(
            "".join(b["sha256"] for b in m["base_population"]).encode()).hexdigest()[:20]
    rid = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:20]
    for i, (col, val) in enumerate((("scenario", s["scenario"]), ("paradigm", s["paradigm"]),
                                    ("seed", int(s["seed"])), ("run_id", rid))):
        table.insert(i, col, val)
    return table


def write_outputs(result: RunResult, out: Path, csv: bool = False,
                  overwrite: bool = False, staging: Path | None = None,
                  xlsx: Scenario | None = None) -> Path:
    """Write ticks.parquet (+ ticks.csv), summary.json, manifest.json into a staging folder
    (fsynced) and move it to ``out`` at the end: an interrupted or failed write never leaves
    a half-written result, and ``out`` is replaced only if it is welfare-sim run output
    (:mod:`sim.safety`). With ``xlsx`` (the run's scenario) also ticks.xlsx
    (:mod:`sim.xlsx`)."""
    from sim.safety import (
        atomic_write,
        atomic_write_text,
        check_output_dir,
        replace_dir,
        staging_dir,
        write_marker,
    )

    out = Path(out)
    check_output_dir(out, "run", overwrite=overwrite)
    if staging is None:
        with staging_dir(out, "run") as tmp:
            return write_outputs(result, out, csv, overwrite, staging=tmp, xlsx=xlsx)
    tmp = staging
    try:
        os.chmod(tmp, 0o777 & ~_umask())  # a temporary folder is 0700; a result is shared
        table = identified(result)
        info = {"scenario": result.summary["scenario"], "seed": result.summary["seed"],
                "scenario_hash": result.manifest["scenario_hash"]}
        atomic_write(tmp / "ticks.parquet", lambda p: write_table(table, p, info))
        if csv:
            atomic_write(tmp / "ticks.csv", lambda p: table.to_csv(
                p, index=False, float_format="%.10g"))
        if xlsx is not None:
            from sim.xlsx import write_workbook

            prov = {k: v for k, v in result.manifest.items() if k != "resolved"}
            write_workbook(tmp / "ticks.xlsx", table, prov, [xlsx])
        atomic_write_text(tmp / "summary.json", json.dumps(result.summary, indent=2) + "\n")
        atomic_write_text(tmp / "manifest.json", json.dumps(result.manifest, indent=2,
                                                            default=_json_default) + "\n")
        write_marker(tmp, "run", "finished")
        replace_dir(tmp, out, "run")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    return str(o)
