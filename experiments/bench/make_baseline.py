#!/usr/bin/env python3
"""Regression baseline (Covasim style): yearly means of key metrics for a fixed small run.

Classroom scale (Indre Østfold at 1:20), 2016-2025, seed 1, each paradigm. The summary is
written to ``tests/baseline.json``; ``tests/test_baseline.py`` re-runs the same and compares
with ``rtol=1e-9``. When a change of results is intended (calibration, a new rule), regenerate:

    .venv/bin/python experiments/bench/make_baseline.py

and commit the new ``tests/baseline.json`` with the change that caused it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "tests" / "baseline.json"
REGENERATE = ".venv/bin/python experiments/bench/make_baseline.py"
PARADIGMS = ("traditional", "npm", "network_governance")
SCALE = 0.05  # scenarios/classroom.toml
START, END, SEED = 2016, 2025, 1
METRICS = (
    "population", "persons_with_need", "need_hours", "hours_professional",
    "hours_volunteer", "hours_informal", "coverage", "persons_waiting", "quality", "fit",
    "satisfaction", "trust", "expectation", "professionals", "hours_admin",
    "volunteers", "volunteer_motivation", "processes_thick", "coverage_gap_resource",
    "cost_total",
)
RTOL = 1e-9


def summarise(paradigm: str, **overrides) -> dict[str, list[float]]:
    """Yearly means of METRICS for the baseline run of ``paradigm`` (plus overrides)."""
    from sim.metrics import INDEX
    from sim.model import WelfareModel
    from sim.scenario import load_scenario

    sc = load_scenario(ROOT / "scenarios" / f"indre_ostfold_{paradigm}.toml")
    sc = sc.with_overrides({"run.population_scale": SCALE, "run.start_year": START,
                            "run.end_year": END, **overrides})
    m = WelfareModel(sc, seed=SEED).run()
    res = m.results[: m.n_ticks]
    years = res[:, INDEX["year"]].astype(int)
    out = {"year": sorted({int(y) for y in years})}
    for name in METRICS:
        col = res[:, INDEX[name]]
        out[name] = [float(col[years == y].mean()) for y in out["year"]]
    return out


def build() -> dict:
    return {
        "about": "yearly means of key metrics; regenerate on purpose with: " + REGENERATE,
        "run": {"scenario": "scenarios/indre_ostfold_<paradigm>.toml",
                "population_scale": SCALE, "start_year": START, "end_year": END,
                "seed": SEED},
        "rtol": RTOL,
        "metrics": list(METRICS),
        "paradigms": {p: summarise(p) for p in PARADIGMS},
    }


def compare(fresh: dict[str, list[float]], base: dict[str, list[float]],
            rtol: float = RTOL, atol: float = 1e-12) -> list[str]:
    """Differences between two summaries, one line per drifted metric (empty: identical)."""
    diffs = []
    for name in sorted(set(base) | set(fresh)):
        if name not in fresh or name not in base:
            diffs.append(f"{name}: only in {'baseline' if name in base else 'fresh run'}")
            continue
        a, b = np.asarray(fresh[name], float), np.asarray(base[name], float)
        if a.shape != b.shape:
            diffs.append(f"{name}: {len(a)} years now, {len(b)} in baseline")
            continue
        bad = ~np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=True)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            year = base.get("year", list(range(len(b))))[i]
            rel = abs(a[i] - b[i]) / max(abs(b[i]), 1e-300)
            diffs.append(f"{name}: {int(bad.sum())} year(s) differ, first {year}: "
                         f"{a[i]:.10g} now vs {b[i]:.10g} baseline (rel {rel:.2e})"
                         )
    return diffs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=BASELINE)
    args = ap.parse_args()
    data = build()
    args.out.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    for p, s in data["paradigms"].items():
        print(f"{p:<20} coverage {s['coverage'][0]:.3f} -> {s['coverage'][-1]:.3f}, "
              f"satisfaction {s['satisfaction'][-1]:.3f}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
