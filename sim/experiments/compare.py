"""``welfare-sim compare``: several scenarios × N replications with common random numbers.

Replication ``r`` uses the same seed in every scenario, so differences between scenarios are
paired: ``differences`` are per-replication differences against the first scenario. With
parameter draws (``--uncertainty N``, see :mod:`sim.experiments.uncertainty`) every draw runs
under every scenario with the same seeds, and :mod:`sim.experiments.robustness` reports how often
each scenario wins across draws.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.cli.failures import output_error
from sim.errors import InputError
from sim.experiments.design import derive_seed, run_id
from sim.experiments.store import RunSpec, assemble, write_parquet
from sim.experiments.sweep import execute, prepare_out
from sim.safety import atomic_write, atomic_write_text, write_marker
from sim.scenario import Scenario

LOW_Q, HIGH_Q = 0.1, 0.9


def labels(scenarios: list[Scenario]) -> list[str]:
    """Unique, readable labels (scenario names; numbered if they clash)."""
    out: list[str] = []
    for s in scenarios:
        name = s.name or (s.path.stem if s.path else "scenario")
        label, k = name, 2
        while label in out:
            label, k = f"{name}_{k}", k + 1
        out.append(label)
    return out


def band(g) -> pd.DataFrame:
    """Median, 10 % and 90 % quantiles and count of a grouped series."""
    return pd.DataFrame({"median": g.median(), "p10": g.quantile(LOW_Q),
                         "p90": g.quantile(HIGH_Q), "n": g.count()})


def summary_table(tidy: pd.DataFrame) -> pd.DataFrame:
    """Median and 10-90 % band per scenario, metric and year."""
    g = tidy.groupby(["scenario", "metric", "year"], sort=True)["value"]
    return band(g).reset_index()


def paired(tidy: pd.DataFrame, a: str, b: str) -> pd.DataFrame:
    """Per-replication difference b - a for every metric and year (same seeds; per draw too
    when the table has parameter draws)."""
    idx = (["draw"] if "draw" in tidy else []) + ["replication", "metric", "year"]
    x = tidy[tidy.scenario == a].set_index(idx)["value"]
    y = tidy[tidy.scenario == b].set_index(idx)["value"]
    d = (y - x).dropna().rename("value").reset_index()
    return d


def differences(tidy: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """Paired differences of every scenario against the first, with their band over
    replications (per draw when there are parameter draws); ``beyond_seed_noise`` when the
    10-90 % band of the difference excludes 0. That band is seed noise only: it says nothing
    about parameter uncertainty (see robustness.py)."""
    keys = (["draw"] if "draw" in tidy else []) + ["metric", "year"]
    frames = []
    for b in order[1:]:
        d = paired(tidy, order[0], b)
        s = band(d.groupby(keys, sort=True)["value"]).reset_index()
        s.insert(0, "scenario", b)
        s.insert(1, "versus", order[0])
        frames.append(s)
    if not frames:
        return pd.DataFrame(columns=["scenario", "versus", *keys, "median", "p10", "p90", "n",
                                     "beyond_seed_noise"])
    out = pd.concat(frames, ignore_index=True)
    out["beyond_seed_noise"] = (out["p10"] > 0) | (out["p90"] < 0)
    return out


def at_scale(scenarios: list[Scenario], scale: float | None) -> list[Scenario]:
    """The scenarios at another run.population_scale (agents per person); per-person results
    do not depend on it, only their seed noise does."""
    if scale is None:
        return scenarios
    return [s.with_overrides({"run.population_scale": float(scale)},
                             source="--population-scale") for s in scenarios]


def run_compare(scenarios: list[Scenario], out: Path, replications: int = 5,
                workers: int | None = None, scheduler: str | None = None,
                overwrite: bool = False, resume: bool = False, seed: int = 1,
                progress: Callable[[int, int], None] | None = None,
                draws: pd.DataFrame | None = None,
                uncertainty: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run, store and report a comparison. Returns the tidy table, summary and differences.

    ``draws`` (from :mod:`sim.experiments.uncertainty`): one row per parameter draw (column
    ``draw`` and one column per uncertain parameter); every draw runs under every scenario
    with the same seeds. ``uncertainty`` describes where the draws came from (manifest).
    Every file is written atomically; a full disk or unwritable folder is one clear error."""
    out = Path(out)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InputError(f"--seed {seed}: expected a whole number ≥ 0.")
    try:
        return _run_compare(scenarios, out, replications, workers, scheduler, overwrite,
                            resume, seed, progress, draws, uncertainty)
    except OSError as exc:  # full disk, read-only or unwritable folder: stop cleanly
        raise output_error(exc, out, "comparison output",
                           f"Finished runs in {out / 'runs'} are kept; rerun with --resume."
                           ) from exc


def _run_compare(scenarios: list[Scenario], out: Path, replications: int,
                 workers: int | None, scheduler: str | None, overwrite: bool, resume: bool,
                 seed: int, progress: Callable[[int, int], None] | None,
                 draws: pd.DataFrame | None,
                 uncertainty: dict[str, Any] | None) -> dict[str, Any]:
    from sim.experiments import plots, report
    from sim.experiments.uncertainty import draw_overrides, parameter_columns
    from sim.runner import git_commit, package_versions

    prepare_out(out, resume, overwrite, "comparison")
    started = datetime.now(UTC).isoformat(timespec="seconds")
    names = labels(scenarios)
    params = parameter_columns(draws) if draws is not None else []
    if draws is not None and uncertainty is None:
        uncertainty = {"draws": len(draws), "parameters": params}
    points = draw_overrides(draws, params) if draws is not None else [{}]
    rows, specs = [], []
    for k, over in enumerate(points):
        for r in range(replications):
            sd = derive_seed(seed, r)
            for name, sc in zip(names, scenarios, strict=True):
                rid = run_id(sc, over, sd)
                row = {"scenario": name, "paradigm": sc.paradigm.describe(),
                       "replication": r, "seed": sd, "run_id": rid}
                if draws is not None:
                    row = {"scenario": name, "paradigm": sc.paradigm.describe(),
                           "draw": int(draws["draw"].iloc[k]), "replication": r, "seed": sd,
                           "run_id": rid, **over}
                rows.append(row)
                specs.append(RunSpec(rid, sc, sd, over))
    design = pd.DataFrame(rows)
    stats = execute(specs, out / "runs", workers, scheduler, progress)
    tidy = assemble(out / "runs", design)
    order = ["scenario", *(["draw"] if draws is not None else []), "replication", "metric",
             "year"]
    tidy = tidy.sort_values(order,
                            key=lambda c: c.map(names.index) if c.name == "scenario" else c,
                            kind="stable").reset_index(drop=True)
    # results.parquet, as a sweep's: one file name for the run table of both
    write_parquet(tidy, out / "results.parquet", "compare",
                  {"scenarios": names, "replications": replications, "seed": seed})
    write_parquet(design, out / "design.parquet", "compare design")
    robust = None
    if draws is not None:
        from sim.experiments import robustness

        write_parquet(draws, out / "draws.parquet")
        atomic_write(out / "draws.csv", lambda p: draws.to_csv(p, index=False))
        robust = robustness.analyse(tidy, draws, params, names, headline_years(tidy),
                                    seed=int((uncertainty or {}).get("uncertainty_seed", 1)))
        over_draws = robust["draw_means"].rename(columns={"draw": "replication"})
        summ = summary_table(over_draws)
        for name, key in (("robustness.csv", "wins"), ("draw_differences.csv", "pairs"),
                          ("importance.csv", "importance")):
            frame = robust[key]
            atomic_write(out / name, lambda p, f=frame: f.to_csv(p, index=False,
                                                                 float_format="%.6g"))
        atomic_write_text(out / "prim.json", json.dumps(robust["prim"], indent=1, default=str)
                          + "\n")
        atomic_write_text(out / "verdict.txt", "\n".join(robust["verdict"]) + "\n")
        figure_tidy = over_draws
    else:
        summ = summary_table(tidy)
        figure_tidy = tidy
    diffs = differences(tidy, names)
    # each scenario's paradigm beside its name (issue 15: identity columns in every table)
    if "paradigm" in tidy.columns:
        paradigm_of = tidy.drop_duplicates("scenario").set_index("scenario")["paradigm"]
        summ.insert(1, "paradigm", summ["scenario"].map(paradigm_of))
        diffs.insert(1, "paradigm", diffs["scenario"].map(paradigm_of))
        diffs.insert(3, "versus_paradigm", diffs["versus"].map(paradigm_of))
    atomic_write(out / "summary.csv", lambda p: summ.to_csv(p, index=False,
                                                            float_format="%.6g"))
    atomic_write(out / "differences.csv", lambda p: diffs.to_csv(p, index=False,
                                                                 float_format="%.6g"))
    figures = plots.compare_figures(figure_tidy, names, scenarios, out / "figures",
                                    over="draws" if draws is not None else "replications")
    if robust is not None:
        figures.update(plots.robustness_figures(robust, draws, names, out / "figures"))
    text = report.compare_report(tidy, summ, names, scenarios, figures, out, stats,
                                 replications, robust=robust, uncertainty=uncertainty)
    atomic_write_text(out / "report.md", text)
    manifest = {
        "kind": "compare", "scenarios": names,
        "scenario_files": [str(s.path) if s.path else None for s in scenarios],
        "scenario_hashes": [s.hash for s in scenarios],
        "scenario_texts": [s.text for s in scenarios],
        "replications": replications, "seed": seed,
        "seeds": sorted({int(x) for x in design["seed"]}),
        "uncertainty": uncertainty,
        "versions": package_versions(), "git_commit": git_commit(), "started": started,
        "ended": datetime.now(UTC).isoformat(timespec="seconds"),
        "runs": stats["runs"], "runs_done": stats["done"], "runs_failed": stats["failed"],
        "errors": stats["errors"], "figures": {k: str(v) for k, v in figures.items()},
    }
    atomic_write_text(out / "manifest.json", json.dumps(manifest, indent=1, default=str) + "\n")
    write_marker(out, "compare", "finished" if not stats["failed"] else "partial")
    return {"tidy": tidy, "summary": summ, "differences": diffs, "names": names,
            "manifest": manifest, "figures": figures, "robustness": robust}


def headline_years(tidy: pd.DataFrame) -> list[int]:
    years = sorted(int(y) for y in tidy["year"].unique())
    if not years:
        return []
    picked = [y for y in (2040, 2060) if y in years]
    return picked or [years[-1]]


def median_at(summ: pd.DataFrame, scen: str, metric: str, year: int) -> tuple[float, ...]:
    row = summ[(summ.scenario == scen) & (summ.metric == metric) & (summ.year == year)]
    if row.empty:
        return (np.nan, np.nan, np.nan)
    r = row.iloc[0]
    return float(r["median"]), float(r["p10"]), float(r["p90"])
