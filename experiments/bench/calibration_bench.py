#!/usr/bin/env python3
"""Benchmark: throughput of ``welfare-sim calibrate`` (runs per core-hour) and the projected
wall time of a calibration config.

Times a sample of calibration runs (the config's scenario, scale and run length, candidate
values drawn uniformly within the search bounds) in one process, and, unless --no-calibrate,
a whole small calibration (calibration/quick.toml by default) end to end: search, re-runs,
SQLite and outputs. Writes JSON next to this file.

    PYTHONPATH=. python experiments/bench/calibration_bench.py [--config calibration/norway.toml]
        [--sample 6] [--calibrate calibration/quick.toml | --no-calibrate]
        [--out experiments/bench/calibration_bench.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]


def time_runs(config: Path, sample: int, seed: int = 1) -> dict:
    """Wall time of ``sample`` single calibration runs of ``config`` on one core."""
    from sim.calibration import load_config
    from sim.calibration.evaluate import run_seed, target_values

    cfg = load_config(config)
    rng = np.random.default_rng(seed)
    secs = []
    for i in range(sample):
        values = {p.name: (int(round(rng.uniform(p.low, p.high))) if p.integer
                           else float(rng.uniform(p.low, p.high))) for p in cfg.parameters}
        t0 = time.perf_counter()
        target_values(cfg, values, run_seed(cfg.seed, 1, i))
        secs.append(time.perf_counter() - t0)
    per_run = float(np.median(secs))
    runs = cfg.trials * cfg.replications + cfg.rerun_top * cfg.rerun_replications
    return {"config": str(config), "population_scale": cfg.population_scale,
            "years": cfg.end_year - int(cfg.scenario.value("run.start_year")) + 1,
            "sample_runs": sample, "seconds_per_run_median": round(per_run, 3),
            "seconds_per_run_all": [round(s, 3) for s in secs],
            "runs_per_core_hour": round(3600 / per_run, 1),
            "calibration_runs": runs,
            "projected_core_hours": round(runs * per_run / 3600, 3)}


def time_calibration(config: Path) -> dict:
    """A whole calibration in one process (workers = 1), end to end."""
    from sim.calibration import calibrate, load_config

    cfg = load_config(config)
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        out = calibrate(cfg, Path(d) / "cal", workers=1, log=lambda s: None)
        wall = time.perf_counter() - t0
        timing = json.loads((out / "timing.json").read_text())
    runs = timing["runs_this_process"]
    return {"config": str(config), "runs": runs, "wall_seconds": round(wall, 2),
            "runs_per_core_hour": round(runs / wall * 3600, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", type=Path, default=ROOT / "calibration" / "norway.toml")
    ap.add_argument("--sample", type=int, default=6)
    ap.add_argument("--calibrate", type=Path, default=ROOT / "calibration" / "quick.toml")
    ap.add_argument("--no-calibrate", action="store_true")
    ap.add_argument("--out", type=Path, default=Path(__file__).with_suffix(".json"))
    args = ap.parse_args()
    res = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                       "load_average_1min": round(os.getloadavg()[0], 2)},
           "runs": time_runs(args.config, args.sample)}
    if not args.no_calibrate:
        res["calibration"] = time_calibration(args.calibrate)
    r = res["runs"]
    print(f"{r['config']}: {r['seconds_per_run_median']:.2f} s per run (median of "
          f"{r['sample_runs']}), {r['runs_per_core_hour']:,.0f} runs per core-hour; "
          f"{r['calibration_runs']} runs = {r['projected_core_hours']:.2f} core-hours")
    if "calibration" in res:
        c = res["calibration"]
        print(f"{c['config']}: {c['runs']} runs in {c['wall_seconds']:.1f} s end to end "
              f"({c['runs_per_core_hour']:,.0f} runs per core-hour)")
    args.out.write_text(json.dumps(res, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
