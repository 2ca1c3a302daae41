#!/usr/bin/env python3
"""What decides the ranking of the paradigms: one assumption at a time (issue 11).

Runs Indre Østfold under each paradigm at the defaults and with one parameter moved to an end
of its range (or a mechanism switched off), over SEEDS replications paired by seed, at 1:20
(per-person results do not depend on the scale: docs/researchers.md §6). For each variant it
reports cost per inhabitant and quality in 2040 and 2060 per paradigm (medians over the
seeds), the ranking, and whether the ranking differs from the defaults'. A parameter that
belongs to one paradigm only changes that paradigm's runs, so only those are re-run.

    .venv/bin/python experiments/ranking_sensitivity.py [--seeds 5] [--scale 0.05]

Writes experiments/results/ranking_sensitivity/SUMMARY.md and results.csv. docs/ODD.md
("What decides the ranking") is written from it.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sim.model import WelfareModel
from sim.runner import yearly
from sim.scenario import default_scenario

PARADIGMS = ("traditional", "npm", "network_governance")
SHORT = {"traditional": "TRAD", "npm": "NPM", "network_governance": "NG"}
YEARS = (2040, 2060)
OUT = Path(__file__).resolve().parent / "results" / "ranking_sensitivity"

# (label, overrides): each moves one assumption to an end of its registry range, or switches
# a mechanism off
VARIANTS: list[tuple[str, dict]] = [
    ("defaults", {}),
    ("no co-creation facilitation (facilitator_fte_per_10000 = 0)",
     {"cocreation.facilitator_fte_per_10000": 0.0}),
    ("co-creation adds professional work (professional_hours_saving = -0.2)",
     {"cocreation.professional_hours_saving": -0.2}),
    ("processes take family time (informal_mobilisation = 0.5)",
     {"cocreation.informal_mobilisation": 0.5}),
    ("NG continuity low (network_governance.continuity = 0.6)",
     {"network_governance.continuity": 0.6}),
    ("NG coordination high (12 h/case/yr, 5 h/process-month)",
     {"network_governance.coordination_hours_per_case": 12.0,
      "network_governance.coordination_hours_per_process_month": 5.0}),
    ("no co-creation ideas (ideas_per_100_thick_process_months = 0)",
     {"network_governance.ideas_per_100_thick_process_months": 0.0}),
    ("no innovation effect (innovation.max_total_effect = 0)",
     {"innovation.max_total_effect": 0.0}),
    ("ideas of every paradigm half fit, half efficiency (idea_fit_share = 0.5)",
     {"traditional.idea_fit_share": 0.5, "npm.idea_fit_share": 0.5,
      "network_governance.idea_fit_share": 0.5}),
    ("no health feedback (mechanisms.health = false)", {"mechanisms.health": False}),
    ("lay hours count least (lay_hours_weight.* at range low)",
     {"quality.lay_hours_weight.practical_help": 0.7,
      "quality.lay_hours_weight.personal_care": 0.5,
      "quality.lay_hours_weight.social_inclusion": 0.7,
      "quality.lay_hours_weight.children_youth": 0.6}),
    ("NPM documentation low (npm.documentation_share = 0.05)",
     {"npm.documentation_share": 0.05}),
    ("NPM assessment low (npm.assessment_hours_per_case = 3)",
     {"npm.assessment_hours_per_case": 3.0}),
]
OWN_PREFIX = {"traditional": ("traditional.",), "npm": ("npm.",),
              "network_governance": ("network_governance.", "cocreation.")}


def affected(overrides: dict) -> tuple[str, ...]:
    """Paradigms whose runs an override can change (all, unless every key is one paradigm's)."""
    if not overrides:
        return PARADIGMS
    hit = [p for p in PARADIGMS
           if any(k.startswith(OWN_PREFIX[p]) for k in overrides)]
    owned = all(any(k.startswith(pre) for p in PARADIGMS for pre in OWN_PREFIX[p])
                for k in overrides)
    return tuple(hit) if owned else PARADIGMS


def one(paradigm: str, overrides: dict, seed: int, scale: float) -> dict:
    sc = default_scenario(paradigm, **{"run.population_scale": scale, **overrides})
    y = yearly(WelfareModel(sc, seed=seed).run().table())
    return {f"{m}_{yr}": float(y.loc[yr, m]) for m in ("cost_per_inhabitant", "quality")
            for yr in YEARS}


def ranking(row: dict, metric: str, year: int) -> str:
    vals = {p: row[(p, f"{metric}_{year}")] for p in PARADIGMS}
    order = sorted(vals, key=vals.get, reverse=(metric == "quality"))
    return " < ".join(SHORT[p] for p in order) if metric == "cost_per_inhabitant" else \
        " > ".join(SHORT[p] for p in order)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--scale", type=float, default=0.05)
    args = ap.parse_args()
    seeds = list(range(1, args.seeds + 1))
    t0 = time.time()
    base: dict[str, list[dict]] = {}
    rows = []
    for label, over in VARIANTS:
        res: dict = {}
        for p in PARADIGMS:
            if p in affected(over) or p not in base:
                runs = [one(p, over, s, args.scale) for s in seeds]
                if not over:
                    base[p] = runs
            else:
                runs = base[p]
            for k in runs[0]:
                res[(p, k)] = float(np.median([r[k] for r in runs]))
        rows.append((label, over, res))
        print(f"{time.time() - t0:6.0f} s  {label}", flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    flat = []
    for label, over, res in rows:
        for (p, k), v in res.items():
            flat.append({"variant": label, "overrides": repr(over), "paradigm": p,
                         "metric": k, "median": v})
    pd.DataFrame(flat).to_csv(OUT / "results.csv", index=False, float_format="%.6g")
    default_rank = {(m, yr): ranking(rows[0][2], m, yr)
                    for m in ("cost_per_inhabitant", "quality") for yr in YEARS}
    lines = [
        "# What decides the ranking: one assumption at a time",
        "",
        f"Indre Østfold at 1:{1 / args.scale:.0f}, medians of {len(seeds)} replications "
        f"(seeds {seeds[0]}-{seeds[-1]}, paired across paradigms), each row one change from "
        "the defaults. Cost in NOK per inhabitant a year (2016 prices); quality 0-1. "
        "**Bold**: ranking differs from the defaults'. Made by "
        "`experiments/ranking_sensitivity.py`.",
        "",
        "| change | cost 2040 TRAD / NPM / NG | cost 2060 TRAD / NPM / NG | cheapest first, 2060 "
        "| quality 2040 TRAD / NPM / NG | quality 2060 TRAD / NPM / NG | best first, 2060 |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, _over, res in rows:
        def trio(metric, yr, fmt, res=res):
            return " / ".join(fmt.format(res[(p, f"{metric}_{yr}")]) for p in PARADIGMS)

        cells = [label]
        for metric, fmt in (("cost_per_inhabitant", "{:,.0f}"), ("quality", "{:.3f}")):
            cells += [trio(metric, 2040, fmt), trio(metric, 2060, fmt)]
            r = ranking(res, metric, 2060)
            cells.append(f"**{r}**" if r != default_rank[(metric, 2060)] else r)
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", f"Wall time {time.time() - t0:.0f} s."]
    (OUT / "SUMMARY.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {OUT / 'SUMMARY.md'}")


if __name__ == "__main__":
    main()
