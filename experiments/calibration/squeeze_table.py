#!/usr/bin/env python3
"""The squeeze at defaults: Indre Østfold under each paradigm, several replications, in chosen
years (issue 12's acceptance table).

    .venv/bin/python experiments/calibration/squeeze_table.py [--scale 0.25] [--reps 10]
        [--years 2016 2040 2060] [--out experiments/calibration/squeeze_table.md]

Prints (and writes as Markdown) the mean over replications, with the standard deviation
across them, of care FTE per 1,000 inhabitants, cost per inhabitant, family-care hours, unmet
need, people waiting for home care and for a nursing-home place, and the FTE gap. Counts are
persons (agents / population_scale), so a 1:4 run estimates the 1:1 municipality.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

METRICS = (("fte_per_1000", "care FTE / 1,000", "{:.1f}"),
           ("cost_per_inhabitant", "cost / inhabitant (NOK)", "{:,.0f}"),
           ("family_care_hours", "family-care hours / month", "{:,.0f}"),
           ("carer_strain", "carers' strain", "{:.3f}"),
           ("unmet_need_hours", "unmet need (hours / month)", "{:,.0f}"),
           ("coverage", "coverage", "{:.3f}"),
           ("persons_waiting", "waiting for home care", "{:,.0f}"),
           ("persons_waiting_place", "waiting for a place", "{:,.0f}"),
           ("fte_gap", "FTE gap", "{:,.0f}"))
PARADIGMS = ("traditional", "npm", "network_governance")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=0.25)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--years", type=int, nargs="+", default=[2016, 2040, 2060])
    ap.add_argument("--out", default=str(ROOT / "experiments" / "calibration" / "squeeze_table.md"))
    a = ap.parse_args()
    from sim.metrics import INDEX
    from sim.model import WelfareModel
    from sim.scenario import load_scenario

    lines = [f"# The squeeze at defaults: Indre Østfold, scale {a.scale}, {a.reps} replications",
             "", "Mean over replications (sd across them in brackets); yearly means of the "
             "monthly values. Made by `experiments/calibration/squeeze_table.py`.", ""]
    for paradigm in PARADIGMS:
        sc = load_scenario(ROOT / "scenarios" / f"indre_ostfold_{paradigm}.toml").with_overrides(
            {"run.population_scale": a.scale, "run.end_year": max(a.years)})
        vals = {m: {y: [] for y in a.years} for m, _, _ in METRICS}
        for rep in range(a.reps):
            res = WelfareModel(sc, seed=1 + rep).run().results
            yr = res[:, INDEX["year"]].astype(int)
            for m, _, _ in METRICS:
                for y in a.years:
                    vals[m][y].append(float(res[yr == y, INDEX[m]].mean()))
        lines += [f"## {paradigm}", "", "| metric | " + " | ".join(map(str, a.years)) + " |",
                  "|---|" + "---:|" * len(a.years)]
        for m, label, fmt in METRICS:
            cells = [f"{fmt.format(np.mean(vals[m][y]))} ({fmt.format(np.std(vals[m][y]))})"
                     for y in a.years]
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        lines.append("")
        print("\n".join(lines[-len(METRICS) - 4:]), flush=True)
    Path(a.out).write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    main()
