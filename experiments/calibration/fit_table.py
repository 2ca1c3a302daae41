#!/usr/bin/env python3
"""Model against the calibration targets: one row per target, model value and relative error.

    .venv/bin/python experiments/calibration/fit_table.py [--scenario S] [--scale X] [--reps N]
        [--targets calibration/targets_norway.toml] [--set key=value ...]

Runs the scenario (default: Indre Østfold, traditional, 1:4) from its start year to the latest
target year, ``--reps`` seeds, and prints, for each target in the targets file, the observed
value, the model's yearly mean (averaged over the seeds), the relative error and whether it is
within the target's tolerance. Held-out targets (``holdout = true``, not used in fitting) are
listed apart. Per-inhabitant and per-age-band targets are scale-free, so a municipality's run
can be compared with the national figures.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def load_targets(path: Path) -> list[dict]:
    with open(path, "rb") as fh:
        return tomllib.load(fh)["target"]


def model_values(scenario: Path, targets: list[dict], scale: float, reps: int,
                 overrides: dict) -> dict[str, float]:
    from sim.metrics import INDEX
    from sim.model import WelfareModel
    from sim.scenario import load_scenario

    last = max(int(t["year"]) for t in targets)
    sc = load_scenario(scenario).with_overrides(
        {"run.population_scale": scale, "run.end_year": last, **overrides})
    values: dict[str, list[float]] = {}
    for rep in range(reps):
        m = WelfareModel(sc, seed=1 + rep).run()
        years = m.results[:, INDEX["year"]].astype(int)
        for t in targets:
            col = m.results[years == int(t["year"]), INDEX[t["metric"]]]
            values.setdefault(t["name"], []).append(float(col.mean()))
    return {k: float(np.mean(v)) for k, v in values.items()}


def table(targets: list[dict], model: dict[str, float]) -> str:
    lines = []
    for held in (False, True):
        lines.append("held-out targets (not fitted)" if held else "fitted targets")
        lines.append(f"  {'target':<52} {'observed':>10} {'model':>10} {'error':>8} {'tol':>5}")
        for t in targets:
            if bool(t.get("holdout", False)) != held:
                continue
            obs, mod = float(t["value"]), model[t["name"]]
            err = (mod - obs) / obs
            ok = "ok" if abs(err) <= float(t["tolerance_rel"]) else "OFF"
            lines.append(f"  {t['name']:<52} {obs:>10.4g} {mod:>10.4g} {err:>+8.1%} "
                         f"{float(t['tolerance_rel']):>5.0%} {ok}")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "indre_ostfold_traditional.toml"))
    ap.add_argument("--targets", default=str(ROOT / "calibration" / "targets_norway.toml"))
    ap.add_argument("--scale", type=float, default=0.25)
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    a = ap.parse_args()
    overrides = {}
    for kv in a.set:
        k, v = kv.split("=", 1)
        overrides[k] = tomllib.loads(f"v = {v}")["v"]
    targets = load_targets(Path(a.targets))
    model = model_values(Path(a.scenario), targets, a.scale, a.reps, overrides)
    print(f"{Path(a.scenario).name}, scale {a.scale}, {a.reps} replicate(s)")
    print(table(targets, model))


if __name__ == "__main__":
    main()
