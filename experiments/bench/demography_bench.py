#!/usr/bin/env python3
"""Benchmark: the demography engine alone, 1,000,000 agents, 45 years of monthly ticks.

Runs :func:`sim.demography.simulate_agents` (the engine driven the way the model drives it:
one ``step`` per month, deaths/emigrants marked not alive, births and immigrants appended as new
slots, arrays grown by 50 % when full) on the national 2016 base scaled to 1,000,000 agents,
SSB 2016 round MMMM, 2016-2061. Prints a table and writes JSON (wall time, time per simulated
year, peak RSS, agents and events).

    PYTHONPATH=. python experiments/bench/demography_bench.py [--agents 1000000] [--years 45]
        [--mode track|rates] [--out experiments/bench/demography_bench.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np

from sim.demography import Projection, load_base_population, simulate_agents


def peak_rss_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024.0 if sys.platform != "darwin" else kb / 1024.0**2


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--agents", type=int, default=1_000_000)
    ap.add_argument("--years", type=int, default=45)
    ap.add_argument("--mode", choices=["track", "rates"], default="track")
    ap.add_argument("--seed", type=int, default=20161)
    ap.add_argument("--out", type=Path, default=Path(__file__).with_suffix(".json"))
    args = ap.parse_args()

    rss_start = peak_rss_mb()
    t0 = time.perf_counter()
    proj = Projection.load(2016, "MMMM")
    base = load_base_population("norway", 2016)
    t_setup = time.perf_counter() - t0
    scale = args.agents / base.sum()
    start, end = 2016, 2016 + args.years
    t1 = time.perf_counter()
    run = simulate_agents(
        proj,
        base,
        start,
        end,
        scale=scale,
        rng=np.random.default_rng(args.seed),
        track_projection=args.mode == "track",
    )
    wall = time.perf_counter() - t1
    res = {
        "benchmark": "demography engine alone, monthly ticks",
        "projection": "SSB 2016 round (table 11168), MMMM, national base",
        "mode": args.mode,
        "agents_start": int(run.counts[start].sum()),
        "agents_end": int(run.counts[end].sum()),
        "slots_created": int(run.slots),
        "years": args.years,
        "ticks": args.years * 12,
        "scale_agents_per_person": scale,
        "births": int(sum(run.births.values())),
        "deaths": int(sum(run.deaths.values())),
        "immigrants": int(sum(run.immigrants.values())),
        "emigrants": int(sum(run.emigrants.values())),
        "setup_s": round(t_setup, 3),
        "wall_s": round(wall, 3),
        "s_per_simulated_year": round(wall / args.years, 4),
        "ms_per_tick": round(1000 * wall / (args.years * 12), 3),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "rss_before_mb": round(rss_start, 1),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "machine": platform.machine(),
        "processor_count": __import__("os").cpu_count(),
    }
    width = max(len(k) for k in res)
    print("demography benchmark")
    for k, v in res.items():
        print(f"  {k:<{width}}  {v}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
