#!/usr/bin/env python3
"""Performance suite: full model by size, naive Mesa vs arrays, demography vs Starsim, memory.

    .venv/bin/python experiments/bench/run_bench.py            # the standard suite (~15 min)
    .venv/bin/python experiments/bench/run_bench.py --quick    # smoke version (seconds, CI)
    .venv/bin/python experiments/bench/run_bench.py --national # also Norway 1:1 (many minutes)

Every model run is a fresh subprocess, so peak RSS (``getrusage``) is per run. Sections:

(a) the full model (all mechanisms on; network_governance and npm) at 10k, 43.5k (Indre
    Østfold 1:1) and 1 M agents (Norway at scale 0.19); national scale (Norway 1:1) with
    ``--national``: wall time, citizen-ticks per second, per-phase shares of
    ``model.timings``, peak RSS and memory per citizen. Medians over ``--reps`` runs.
(b) naive Mesa (one Python agent per citizen, ``shuffle_do``) vs the array model on the same
    population and the same core rules (``naive_mesa.py``): the speed-up.
(c) the demography engine alone vs Starsim (``ss.Pregnancy`` + ``ss.Deaths``) on the same N,
    monthly steps, in the same process: the ratio of speeds.
(d) the cost of materialising one Mesa agent per citizen (time, memory) vs the arrays.

Writes ``experiments/bench/results.json`` (``--out`` to change) and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
INDRE_OSTFOLD_2016 = 43_472
NORWAY_2016 = 5_213_985  # registered 1 January 2016 (the national base the model reads)
PHASES = ("demography", "needs", "routing", "cocreation", "allocation", "outcomes",
          "volunteers", "workforce", "innovation", "finance", "metrics")


# ---------------------------------------------------------------------- helpers
def peak_rss_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024.0 if sys.platform != "darwin" else kb / 1024.0**2


def current_rss_mb() -> float:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024**2
    except OSError:  # not Linux: fall back to the peak
        return peak_rss_mb()


def _subprocess(task: dict, timeout: float | None = None) -> dict:
    """Run ``task`` in a fresh interpreter (this file, --worker) and return its JSON."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(HERE), env.get("PYTHONPATH", "")])
    env.setdefault("STARSIM_INSTALL_FONTS", "0")
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker",
                          json.dumps(task)], capture_output=True, text=True, cwd=ROOT,
                         env=env, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(f"worker {task} failed:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _median_runs(runs: list[dict]) -> dict:
    """Median of each numeric field over repeated runs (phase shares included)."""
    keys = [k for k, v in runs[0].items() if isinstance(v, int | float) and not isinstance(
        v, bool)]
    med = {k: statistics.median(r[k] for r in runs) for k in keys}
    med["phase_share"] = {p: statistics.median(r["phase_share"][p] for r in runs)
                          for p in runs[0]["phase_share"]}
    med["reps"] = len(runs)
    med["wall_s_all"] = [r["wall_s"] for r in runs]
    return med


# ---------------------------------------------------------------------- workers
def worker_model(task: dict) -> dict:
    """One full-model run: setup, run, timings, memory."""
    import numpy as np

    from sim.metrics import INDEX
    from sim.model import WelfareModel
    from sim.scenario import load_scenario

    rss0 = current_rss_mb()
    sc = load_scenario(ROOT / "scenarios" / f"indre_ostfold_{task['paradigm']}.toml")
    sc = sc.with_overrides({"run.municipality": task["municipality"],
                            "run.population_scale": task["scale"],
                            "run.end_year": task["end_year"]})
    t0 = time.perf_counter()
    m = WelfareModel(sc, seed=task.get("seed", 1))
    t1 = time.perf_counter()
    n0 = int(m.citizens.alive.sum())
    rss_init = current_rss_mb()
    m.run()
    t2 = time.perf_counter()
    ticks = int(min(m.steps, m.n_ticks))
    agents_per_tick = m.results[:ticks, INDEX["population"]] * m.scale
    citizen_ticks = float(agents_per_tick.sum())
    total = sum(m.timings.values())
    net_bytes = sum(int(x.data.nbytes + x.indices.nbytes + x.indptr.nbytes)
                    for x in (m.net.all, m.net.family)) + int(
        m.net.src.nbytes + m.net.dst.nbytes + m.net.layer.nbytes + m.net.household.nbytes)
    arrays_bytes = int(m.citizens.nbytes + m.professionals.nbytes + m.volunteers.nbytes
                       + m.ideas.nbytes)
    peak = peak_rss_mb()
    slots = int(m.citizens.n)
    return {
        "label": task["label"], "paradigm": task["paradigm"],
        "municipality": task["municipality"], "scale": task["scale"],
        "end_year": task["end_year"], "ticks": ticks,
        "citizens_start": n0, "citizens_end": int(m.citizens.alive.sum()),
        "citizen_slots": slots, "mesa_agents": len(m.agents),
        "init_s": t1 - t0, "run_s": t2 - t1, "wall_s": t2 - t0,
        "s_per_tick": (t2 - t1) / max(ticks, 1),
        "citizen_ticks": citizen_ticks,
        "citizen_ticks_per_s": citizen_ticks / (t2 - t1),
        "phase_s": {p: float(m.timings.get(p, 0.0)) for p in PHASES},
        "phase_share": {p: float(m.timings.get(p, 0.0)) / total if total else 0.0
                        for p in PHASES},
        "rss_before_mb": rss0, "rss_after_init_mb": rss_init, "peak_rss_mb": peak,
        "peak_bytes_per_citizen": (peak - rss0) * 1024**2 / max(slots, 1),
        "arrays_mb": arrays_bytes / 1024**2, "network_mb": net_bytes / 1024**2,
        "array_bytes_per_citizen_slot": (arrays_bytes + net_bytes) / max(slots, 1),
        "numpy": np.__version__,
    }


def worker_materialise(task: dict) -> dict:
    """Cost of one Mesa Citizen view per citizen, vs the arrays, at ``task['citizens']``."""
    import gc

    import numpy as np

    from sim.model import WelfareModel
    from sim.scenario import load_scenario

    sc = load_scenario(ROOT / "scenarios" / "indre_ostfold_network_governance.toml")
    sc = sc.with_overrides({"run.municipality": task["municipality"],
                            "run.population_scale": task["scale"], "run.end_year": 2016})
    t0 = time.perf_counter()
    m = WelfareModel(sc, seed=1)
    init = time.perf_counter() - t0
    n = int(m.citizens.n)
    arrays_mb = m.citizens.nbytes / 1024**2
    net_mb = sum(int(x.data.nbytes + x.indices.nbytes + x.indptr.nbytes)
                 for x in (m.net.all, m.net.family)) / 1024**2
    # the model makes its Mesa views lazily: time/measure making them all on first access
    gc.collect()
    rss0 = current_rss_mb()
    t0 = time.perf_counter()
    m.materialise_agents()
    create = time.perf_counter() - t0
    rss1 = current_rss_mb()
    # cost of one whole-array pass for scale: a vectorised update of every citizen
    t0 = time.perf_counter()
    for _ in range(10):
        m.citizens.expectation[:] = np.clip(m.citizens.expectation * 0.99 + 0.005, 0, 1)
    vec_pass = (time.perf_counter() - t0) / 10
    return {"citizens": n, "model_init_s": init, "agent_create_s": create,
            "agent_create_us_per_agent": create / n * 1e6,
            "agents_mb": rss1 - rss0, "agent_bytes_each": (rss1 - rss0) * 1024**2 / n,
            "citizen_arrays_mb": arrays_mb, "network_csr_mb": net_mb,
            "array_bytes_per_citizen": m.citizens.nbytes / n,
            "vectorised_update_all_s": vec_pass}


def worker_lazy(task: dict) -> dict:
    """Setup and a year of ticks with Mesa citizen views kept up to date every tick (eager)
    or made only on access (the model's default, lazy)."""
    from sim.metrics import INDEX
    from sim.model import WelfareModel
    from sim.scenario import load_scenario

    sc = load_scenario(ROOT / "scenarios" / "indre_ostfold_network_governance.toml")
    sc = sc.with_overrides({"run.municipality": task["municipality"],
                            "run.population_scale": task["scale"], "run.end_year": 2016})
    rss0 = current_rss_mb()
    t0 = time.perf_counter()
    m = WelfareModel(sc, seed=1)
    if task["eager"]:  # keep one Mesa object per agent up to date every tick
        m.materialise_agents()
    init = time.perf_counter() - t0
    rss_init = current_rss_mb()
    t0 = time.perf_counter()
    while m.running:
        m.step()
        if task["eager"]:
            m.materialise_agents()
    run = time.perf_counter() - t0
    made = sum(len(v) for v in m._agent_maps.values())  # before anything asks for agents
    return {"eager": task["eager"], "citizens": int(m.citizens.n), "init_s": init,
            "run_12_ticks_s": run, "rss_model_mb": rss_init - rss0,
            "peak_rss_mb": peak_rss_mb(), "mesa_agents": made,
            "population_end": float(m.results[11, INDEX["population"]])}


def _starsim_rates(start: int, end: int):
    import numpy as np
    import pandas as pd

    from sim.demography import Projection

    proj = Projection.load(2016, "MMMM")
    drows, frows = [], []
    for y in range(start, end + 1):
        r = proj.rates(min(y, max(proj.rate_years)))
        for s, name in ((0, "Male"), (1, "Female")):
            mx = -np.log1p(-np.minimum(r.q[s], 0.999999)) * 1000  # probability -> rate
            drows += [(y, name, a, float(mx[a])) for a in range(len(mx))]
        frows += [(y, a, float(r.fert[a] * 1000)) for a in range(len(r.fert))]
    return (pd.DataFrame(drows, columns=["Time", "Sex", "AgeGrpStart", "mx"]),
            pd.DataFrame(frows, columns=["Time", "AgeGrp", "ASFR"]))


def worker_demography(task: dict) -> dict:
    """sim.demography engine and Starsim on the same N and horizon, one after the other."""
    import numpy as np

    from sim.demography import Projection, load_base_population, simulate_agents

    n, years, start = task["agents"], task["years"], 2016
    base = load_base_population("norway", start)
    proj = Projection.load(2016, "MMMM")
    t0 = time.perf_counter()
    run = simulate_agents(proj, base, start, start + years, scale=n / base.sum(),
                          rng=np.random.default_rng(1))
    ours = time.perf_counter() - t0
    res = {"agents": n, "years": years, "ticks": 12 * years, "ours_s": ours,
           "ours_end_agents": int(run.counts[start + years].sum()),
           "ours_events": {"births": int(sum(run.births.values())),
                           "deaths": int(sum(run.deaths.values())),
                           "immigrants": int(sum(run.immigrants.values())),
                           "emigrants": int(sum(run.emigrants.values()))}}
    try:
        import pandas as pd
        import starsim as ss
    except ImportError as e:  # the optional 'bench' extra is not installed
        res.update(starsim=None, starsim_error=str(e), ratio_ours_over_starsim_speed=None)
        return res
    death_rate, fert = _starsim_rates(start, start + years)
    age_data = pd.DataFrame({"age": np.arange(base.shape[1]), "value": base.sum(axis=0)})
    t0 = time.perf_counter()
    sim = ss.Sim(people=ss.People(n, age_data=age_data), start=start, stop=start + years,
                 dt=ss.month, rand_seed=1, verbose=0,
                 demographics=[ss.Pregnancy(fertility_rate=fert), ss.Deaths(death_rate=death_rate)])
    sim.init()
    t_init = time.perf_counter() - t0
    t0 = time.perf_counter()
    sim.run()
    ss_run = time.perf_counter() - t0
    r = sim.results
    res.update(
        starsim=ss.__version__, starsim_init_s=t_init, starsim_run_s=ss_run,
        starsim_s=t_init + ss_run,
        starsim_end_agents=int(r.n_alive[-1]),
        starsim_events={"births": int(np.sum(r.pregnancy.births)) if "pregnancy" in r
                        and "births" in r.pregnancy else None,
                        "deaths": int(np.sum(r.new_deaths)) if "new_deaths" in r else None},
        ratio_ours_over_starsim_speed=(t_init + ss_run) / ours,
        note="Starsim has no migration module: ours also simulates immigration/emigration "
             "(and calibrates to SSB every year); Starsim's ss.Pregnancy also tracks "
             "pregnancy/breastfeeding states. Same N, same monthly step, same SSB rates.",
    )
    return res


def worker(task: dict) -> dict:
    kind = task["kind"]
    if kind == "model":
        return worker_model(task)
    if kind == "materialise":
        return worker_materialise(task)
    if kind == "demography":
        return worker_demography(task)
    if kind == "lazy":
        return worker_lazy(task)
    raise ValueError(kind)


def cli_wall(paradigm: str, reps: int, quick: bool = False) -> dict:
    """Median wall time of ``welfare-sim run scenarios/indre_ostfold_PARADIGM.toml`` as a
    fresh process (quick: a 2-year run at 1:20, just to exercise the path)."""
    import tempfile

    walls = []
    with tempfile.TemporaryDirectory(prefix="welfare-sim-bench-") as tmp:
        scenario = ROOT / "scenarios" / f"indre_ostfold_{paradigm}.toml"
        if quick:  # a small scenario beside copies of the real ones, extending them
            import shutil

            for f in ("indre_ostfold.toml", scenario.name):
                shutil.copy(ROOT / "scenarios" / f, Path(tmp) / f)
            scenario = Path(tmp) / "small.toml"
            scenario.write_text(f'extends = "indre_ostfold_{paradigm}.toml"\n[run]\n'
                                "population_scale = 0.05\nend_year = 2017\n", encoding="utf-8")
        cmd = [sys.executable, "-m", "sim.cli.main", "run", str(scenario), "--out",
               str(Path(tmp) / "out"), "--overwrite", "--no-progress"]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
        for _ in range(reps):
            t0 = time.perf_counter()
            done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
            walls.append(time.perf_counter() - t0)
            if done.returncode != 0:
                raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stderr[-4000:]}")
    return {"paradigm": paradigm, "reps": reps, "wall_s": statistics.median(walls),
            "wall_s_all": walls, "command": " ".join(["welfare-sim", *cmd[3:5]])}


# ---------------------------------------------------------------------- the suite
def model_sizes(quick: bool, national: bool, full_horizon: bool) -> list[dict]:
    end = 2060
    if quick:
        return [{"label": "2k", "municipality": "indre_ostfold",
                 "scale": 2_000 / INDRE_OSTFOLD_2016, "end_year": 2016, "reps": 1}]
    sizes = [
        {"label": "10k", "municipality": "indre_ostfold", "scale": 10_000 / INDRE_OSTFOLD_2016,
         "end_year": end, "reps": 3},
        {"label": "43.5k (Indre Østfold 1:1)", "municipality": "indre_ostfold", "scale": 1.0,
         "end_year": end, "reps": 3},
        # 1 M: a shorter horizon unless asked (a 45-year run is ~7 min per paradigm on 2 cores)
        {"label": "1M (Norway 0.19)", "municipality": "norway",
         "scale": 1_000_000 / NORWAY_2016, "end_year": end if full_horizon else 2020,
         "reps": 1},
    ]
    if national:
        sizes.append({"label": "5.2M (Norway 1:1)", "municipality": "norway", "scale": 1.0,
                      "end_year": end if full_horizon else 2017, "reps": 1})
    return sizes


def run_suite(quick: bool = False, national: bool = False, full_horizon: bool = False,
              reps: int | None = None, paradigms: tuple[str, ...] = ("network_governance", "npm"),
              naive_citizens: int | None = None, naive_ticks: int | None = None,
              demography_agents: int | None = None, demography_years: int | None = None,
              materialise_citizens: int | None = None, cli_reps: int | None = None,
              log=print) -> dict:
    """Run every section; return the results dict (what results.json holds)."""
    import naive_mesa

    res: dict = {
        "suite": "welfare-sim performance", "quick": quick,
        "python": platform.python_version(), "machine": platform.machine(),
        "cpu_count": os.cpu_count(), "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "model": [], "naive_mesa": None, "demography_vs_starsim": None,
        "materialisation": None,
    }
    # (a) + (d) full model
    for size in model_sizes(quick, national, full_horizon):
        for paradigm in paradigms:
            n = reps or size["reps"]
            runs = []
            for _ in range(n):
                task = {"kind": "model", "paradigm": paradigm, **{k: v for k, v in size.items()
                                                                 if k != "reps"}}
                runs.append(_subprocess(task))
            row = _median_runs(runs)
            row.update(label=size["label"], paradigm=paradigm, end_year=size["end_year"],
                       municipality=size["municipality"], scale=size["scale"])
            res["model"].append(row)
            log(f"  model {size['label']:<28} {paradigm:<19} {row['wall_s']:8.2f} s "
                f"{row['citizen_ticks_per_s']:12.0f} citizen-ticks/s "
                f"peak {row['peak_rss_mb']:7.0f} MB")
    # (a') the command an analyst types, timed as a whole process: interpreter start, imports,
    # scenario checks, setup, 540 ticks, writing the outputs
    res["cli"] = []
    for paradigm in paradigms:
        row = cli_wall(paradigm, reps=cli_reps or (1 if quick else 5), quick=quick)
        res["cli"].append(row)
        log(f"  cli   welfare-sim run indre_ostfold_{paradigm}: median {row['wall_s']:.2f} s "
            f"whole process ({row['reps']} runs)")
    # (b) naive Mesa
    nc = naive_citizens or (1_500 if quick else 10_000)
    nt = naive_ticks or (2 if quick else 5)
    nv = naive_mesa.compare(citizens=nc, ticks=nt)
    res["naive_mesa"] = nv
    log(f"  naive Mesa {nv['citizens']} citizens: naive {nv['naive_median_s_per_tick']:.3f} "
        f"s/tick, array {nv['array_median_s_per_tick'] * 1000:.2f} ms/tick, "
        f"speed-up {nv['speedup']:.0f}x (tick-1 max rel diff {nv['tick1_max_rel_diff']:.1e})")
    # (c) demography vs Starsim
    da = demography_agents or (5_000 if quick else 1_000_000)
    dy = demography_years or (1 if quick else 45)
    res["demography_vs_starsim"] = _subprocess({"kind": "demography", "agents": da,
                                                "years": dy})
    d = res["demography_vs_starsim"]
    if d.get("starsim"):
        log(f"  demography {da} agents {dy} y: ours {d['ours_s']:.2f} s, Starsim "
            f"{d['starsim_s']:.2f} s -> ours is {d['ratio_ours_over_starsim_speed']:.1f}x faster")
    else:
        log(f"  demography: Starsim not available ({d.get('starsim_error')})")
    # (d) materialisation of one Mesa agent per citizen
    mc = materialise_citizens or (2_000 if quick else 1_000_000)
    muni, scale = (("indre_ostfold", mc / INDRE_OSTFOLD_2016) if mc <= INDRE_OSTFOLD_2016
                   else ("norway", mc / NORWAY_2016))
    res["materialisation"] = _subprocess({"kind": "materialise", "municipality": muni,
                                          "scale": scale})
    mt = res["materialisation"]
    mt["eager_vs_none"] = [_subprocess({"kind": "lazy", "eager": e, "municipality": muni,
                                        "scale": scale}) for e in (True, False)]
    log(f"  materialise {mt['citizens']} Mesa agents: {mt['agent_create_s']:.2f} s, "
        f"{mt['agents_mb']:.0f} MB ({mt['agent_bytes_each']:.0f} B each) vs citizen arrays "
        f"{mt['citizen_arrays_mb']:.0f} MB + network {mt['network_csr_mb']:.0f} MB")
    res["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    return res


def print_table(res: dict) -> None:
    print("\nfull model (medians; shares of model.timings)")
    hdr = (f"{'size':<28}{'paradigm':<20}{'ticks':>6}{'reps':>5}{'wall s':>9}{'s/tick':>8}"
           f"{'cit-ticks/s':>13}{'peak MB':>9}{'B/cit':>7}  top phases")
    print(hdr)
    print("-" * len(hdr))
    for r in res["model"]:
        top = sorted(r["phase_share"].items(), key=lambda kv: -kv[1])[:3]
        tops = ", ".join(f"{k} {v:.0%}" for k, v in top)
        print(f"{r['label']:<28}{r['paradigm']:<20}{int(r['ticks']):>6}{r['reps']:>5}"
              f"{r['wall_s']:>9.2f}{r['s_per_tick']:>8.3f}{r['citizen_ticks_per_s']:>13.0f}"
              f"{r['peak_rss_mb']:>9.0f}{r['peak_bytes_per_citizen']:>7.0f}  {tops}")
    for r in res.get("cli", []):
        print(f"whole process, welfare-sim run indre_ostfold_{r['paradigm']}.toml (1:1, 540 "
              f"ticks, outputs written): median {r['wall_s']:.2f} s of {r['reps']} runs "
              f"(min {min(r['wall_s_all']):.2f}, max {max(r['wall_s_all']):.2f})")
    nv = res["naive_mesa"]
    print(f"\nnaive Mesa vs arrays ({nv['citizens']} citizens, {nv['ticks']} ticks, "
          f"core phases): {nv['speedup']:.1f}x  (tick-1 max rel diff "
          f"{nv['tick1_max_rel_diff']:.1e})")
    d = res["demography_vs_starsim"]
    if d.get("starsim"):
        print(f"demography alone vs Starsim {d['starsim']} ({d['agents']} agents, {d['years']} "
              f"y monthly): ours {d['ours_s']:.2f} s, Starsim {d['starsim_s']:.2f} s -> "
              f"{d['ratio_ours_over_starsim_speed']:.1f}x")
    else:
        print(f"demography vs Starsim: not run ({d.get('starsim_error')})")
    mt = res["materialisation"]
    print(f"Mesa agent per citizen at {mt['citizens']}: {mt['agent_create_s']:.2f} s, "
          f"{mt['agents_mb']:.0f} MB ({mt['agent_bytes_each']:.0f} B/agent) vs citizen arrays "
          f"{mt['citizen_arrays_mb']:.1f} MB ({mt['array_bytes_per_citizen']:.0f} B/citizen) "
          f"+ network CSR {mt['network_csr_mb']:.0f} MB")
    for r in mt.get("eager_vs_none", []):
        print(f"  {'eager views' if r['eager'] else 'no views   '}: setup {r['init_s']:.2f} s, "
              f"12 ticks {r['run_12_ticks_s']:.2f} s, model RSS {r['rss_model_mb']:.0f} MB, "
              f"peak {r['peak_rss_mb']:.0f} MB, {r['mesa_agents']} Mesa agents")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="tiny smoke version (seconds)")
    ap.add_argument("--national", action="store_true", help="add Norway 1:1 (many minutes)")
    ap.add_argument("--full-horizon", action="store_true",
                    help="run 1M (and national) to 2060 instead of a few years")
    ap.add_argument("--reps", type=int, default=None, help="runs per size (default 3, 1 for 1M+)")
    ap.add_argument("--cli-reps", type=int, default=None,
                    help="whole-process runs of the Indre Østfold command (default 5)")
    ap.add_argument("--out", type=Path, default=HERE / "results.json")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return
    res = run_suite(quick=args.quick, national=args.national, full_horizon=args.full_horizon,
                    reps=args.reps, cli_reps=args.cli_reps)
    print_table(res)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
