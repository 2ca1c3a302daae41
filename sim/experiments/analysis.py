"""``welfare-sim analyze``: Sobol / Morris indices with confidence intervals, and PRIM.

The index functions take the assembled results (``results.parquet``), the design and the
manifest, so the Ishigami test goes through exactly the code the model's sweeps use.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import InputError
from sim.tables import number

KEY_METRICS = ("cost_per_inhabitant", "quality", "coverage", "satisfaction", "need_hours")


def outcome(results: pd.DataFrame, design: pd.DataFrame, metric: str, year: int) -> np.ndarray:
    """Mean over replications per design point, in design-point order (NaN if missing)."""
    sub = results[(results.metric == metric) & (results.year == year)]
    y = sub.groupby("point")["value"].mean()
    return y.reindex(range(int(design["point"].max()) + 1)).to_numpy(dtype=float)


def sobol_indices(results: pd.DataFrame, design: pd.DataFrame, manifest: dict[str, Any],
                  metric: str, year: int) -> pd.DataFrame:
    """First-order (S1) and total (ST) Sobol indices with 95 % confidence half-widths."""
    from SALib.analyze import sobol

    y = outcome(results, design, metric, year)
    if np.isnan(y).any():
        raise InputError(f"{metric} {year}: {int(np.isnan(y).sum())} design points have no "
                         "result (failed runs). Expected a complete Sobol design; re-run the "
                         "sweep with --resume.")
    problem = manifest["problem"]
    if np.ptp(y) == 0:  # no variance to decompose: the indices are undefined (0/0), not 0
        nan = np.full(len(problem["names"]), np.nan)
        return pd.DataFrame({"S1": nan, "S1_conf": nan, "ST": nan, "ST_conf": nan},
                            index=pd.Index(problem["names"], name="parameter"))
    si = sobol.analyze(problem, y, calc_second_order=bool(manifest.get("second_order")),
                       seed=int(manifest.get("design_seed", 1)), print_to_console=False)
    return pd.DataFrame({"S1": si["S1"], "S1_conf": si["S1_conf"], "ST": si["ST"],
                         "ST_conf": si["ST_conf"]}, index=pd.Index(problem["names"],
                                                                   name="parameter"))


def morris_indices(results: pd.DataFrame, design: pd.DataFrame, sample: pd.DataFrame,
                   manifest: dict[str, Any], metric: str, year: int) -> pd.DataFrame:
    """Morris mu*, its 95 % confidence half-width, and sigma."""
    from SALib.analyze import morris

    y = outcome(results, design, metric, year)
    if np.isnan(y).any():
        raise InputError(f"{metric} {year}: design points without result. Expected a "
                         "complete Morris design; re-run the sweep with --resume.")
    problem = manifest["problem"]
    si = morris.analyze(problem, sample[problem["names"]].to_numpy(), y,
                        num_levels=int(manifest.get("levels", 4)),
                        seed=int(manifest.get("design_seed", 1)))
    return pd.DataFrame({"mu_star": si["mu_star"], "mu_star_conf": si["mu_star_conf"],
                         "sigma": si["sigma"]}, index=pd.Index(problem["names"],
                                                                name="parameter"))


def prim_target(results: pd.DataFrame, design: pd.DataFrame, params: list[str], year: int,
                drawn: list[str] | None = None) -> tuple[pd.DataFrame, np.ndarray, str]:
    """(x, y, question). With ``paradigm`` varied over npm and network_governance: where does
    network governance beat NPM on both cost and quality (paired by the other parameters, the
    draw and replication)? Otherwise: where are cost below and quality above their medians?
    ``drawn``: parameters of the sweep's draws ([uncertainty]), searched as well."""
    drawn = [p for p in (drawn or []) if p in design.columns and p not in params]
    wide = results[(results.year == year) & results.metric.isin(
        ["cost_per_inhabitant", "quality"])].pivot_table(
        index="run_id", columns="metric", values="value")
    d = design.set_index("run_id").join(wide, how="inner").reset_index()
    values = set(d["paradigm"]) if "paradigm" in d else set()
    if {"npm", "network_governance"} <= values:
        others = [p for p in params if p != "paradigm"]
        keys = [*others, *(["draw", *drawn] if "draw" in d else []), "replication"]
        a = d[d.paradigm == "npm"].set_index(keys)
        b = d[d.paradigm == "network_governance"].set_index(keys)
        j = a.merge(b, left_index=True, right_index=True, suffixes=("_npm", "_ng"),
                    how="inner").reset_index()
        y = ((j.cost_per_inhabitant_ng < j.cost_per_inhabitant_npm)
             & (j.quality_ng > j.quality_npm)).to_numpy()
        return (j[[*others, *drawn]], y, "Where does network governance beat NPM on both "
                f"cost and quality in {year}?")
    y = ((d.cost_per_inhabitant < d.cost_per_inhabitant.median())
         & (d.quality > d.quality.median())).to_numpy()
    return (d[[*params, *drawn]], y, f"Where are cost below and quality above their medians "
            f"in {year}?")


def run_prim(x: pd.DataFrame, y: np.ndarray, out: Path) -> dict[str, Any]:
    """ema_workbench PRIM; returns the box limits and coverage/density of the chosen box."""
    import logging
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim

    logging.getLogger("EMA").setLevel(logging.ERROR)
    x = x.copy()
    for c in x.columns:
        if x[c].dtype == object or isinstance(x[c].dtype, pd.StringDtype):
            x[c] = x[c].astype("category")
        elif x[c].dtype == bool:
            x[c] = x[c].astype(int)
    if x.shape[1] == 0 or y.sum() == 0 or y.all():
        return {"share": float(np.mean(y)) if len(y) else float("nan"), "box": None}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = prim.Prim(x, y.astype(int), peel_alpha=0.1, mass_min=0.05)
        box = p.find_box()
        lims = box.box_lim
        fig = box.show_tradeoff()
    fig.savefig(out / "prim_tradeoff.png", dpi=100, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close("all")
    return {"share": float(np.mean(y)), "coverage": float(box.coverage),
            "density": float(box.density), "mass": float(box.mass),
            "box": {c: _limits(lims[c].tolist()) for c in lims.columns}}


def _restricted(box: dict[str, list], x: pd.DataFrame) -> dict[str, list]:
    """The box's dimensions that cut the sampled range (with dozens of drawn parameters the
    console line names only those; summary.json keeps every limit)."""
    out = {}
    for k, v in box.items():
        numeric = len(v) == 2 and all(isinstance(b, (int, float)) for b in v)
        if not numeric or k not in x or v[0] > x[k].min() or v[1] < x[k].max():
            out[k] = v
    return out


def _short(v) -> str:
    """A PRIM limit for the console (the JSON keeps every digit)."""
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _limits(values: list) -> list:
    """PRIM box limits as numbers (JSON numbers); category sets as lists of their values."""
    out: list = []
    for v in values:
        if isinstance(v, (set, frozenset)):
            out.append(sorted(_limits(list(v)), key=str))
        elif isinstance(v, (bool, np.bool_)):
            out.append(bool(v))
        elif isinstance(v, (int, np.integer)):
            out.append(int(v))
        elif isinstance(v, (float, np.floating)):
            out.append(float(v))
        else:
            out.append(str(v))
    return out


INDEX_LEGEND = {
    "sobol": "Sobol indices, ranked by ST: ST = total-order index (share of the output "
             "variance due to the parameter with all its interactions), S1 = first-order "
             "index (its effect alone); ± = 95 % confidence half-width (bootstrap)",
    "morris": "Morris elementary effects, ranked by μ*: μ* = mean absolute elementary effect "
              "(overall influence, in the metric's unit), σ = standard deviation of the "
              "effects (interactions or non-linearity); ± = 95 % confidence half-width of μ*",
}
# below these sample sizes the indices are too noisy to rank parameters (Sobol: base samples
# of several hundred or more, Saltelli et al. 2010, Comput. Phys. Commun. 181; Morris: 10-20
# trajectories, Campolongo, Cariboni & Saltelli 2007, Environ. Model. Softw. 22)
MIN_SAMPLES = {"sobol": 256, "morris": 10}


def runs_for(method: str, n: int, k: int, second_order: bool = False) -> int:
    """Design points a Sobol (Saltelli) or Morris design of ``n`` samples and ``k``
    parameters takes."""
    if method == "sobol":
        return n * (2 * k + 2 if second_order else k + 2)
    return n * (k + 1)


def sample_size_warning(manifest: dict[str, Any]) -> str | None:
    """A warning when the design's sample is too small for the method, saying what a
    sufficient sample would take; None when it is large enough."""
    method, n = manifest.get("method"), int(manifest.get("samples") or 0)
    if method not in MIN_SAMPLES or n >= MIN_SAMPLES[method]:
        return None
    k = len(manifest.get("parameters") or [])
    reps = int(manifest.get("replications") or 1)
    need = MIN_SAMPLES[method]
    so = bool(manifest.get("second_order"))
    what = "base samples N" if method == "sobol" else "trajectories r"
    factor = (need / max(n, 1)) ** 0.5
    noise = " (Sobol indices can fall outside 0-1)" if method == "sobol" else ""
    return (f"{method} with {what} = {n} is far too small to rank the parameters: the "
            f"indices and their intervals below are mostly noise{noise}. With {what.split()[-1]} = {need} ({runs_for(method, need, k, so)} "
            f"design points x {reps} replication(s) = {runs_for(method, need, k, so) * reps} "
            f"runs) the confidence intervals would be about {factor:.0f} times narrower; set "
            "design.samples in the experiment file.")


def index_line(t: pd.DataFrame, metric: str, method: str, top: int = 3) -> str:
    """The console line of one metric: every index named, with its interval."""
    if method == "sobol":
        best = t.sort_values("ST", ascending=False).head(top)
        return f"{metric}: most influential " + "; ".join(
            f"{i} (ST {r.ST:.2f} ± {r.ST_conf:.2f}, S1 {r.S1:.2f} ± {r.S1_conf:.2f})"
            for i, r in best.iterrows())
    best = t.sort_values("mu_star", ascending=False).head(top)
    return f"{metric}: most influential " + "; ".join(
        f"{i} (μ* {number(r.mu_star)} ± {number(r.mu_star_conf)}, σ {number(r.sigma)})"
        for i, r in best.iterrows())


def analyze_sweep(sweep_dir: Path, year: int | None = None) -> dict[str, Any]:
    """Write analysis/ (CSV, PNG, summary.json) and return printable lines."""
    from sim.experiments.plots import bar_indices
    from sim.experiments.sweep import load_results

    results, design, manifest = load_results(sweep_dir)
    if results.empty:
        raise InputError(f"{sweep_dir}: results.parquet has no finished runs. Expected a "
                         "sweep with at least one finished run.")
    out = Path(sweep_dir) / "analysis"
    out.mkdir(exist_ok=True)
    years = sorted(int(y) for y in results.year.unique())
    year = years[-1] if year is None else year
    if year not in years:
        raise InputError(f"--year {year}: not in the sweep's kept years. Expected one of "
                         f"{', '.join(map(str, years))}.")
    metrics = [m for m in manifest["metrics"] if m in set(results.metric)]
    lines: list[str] = [f"{manifest['experiment']}: {manifest['method']}, "
                        f"{manifest['runs_done']} of {manifest['runs']} runs, year {year}"]
    if manifest.get("draws"):
        lines.append(f"{manifest['draws']} parameter draws ([uncertainty]): indices use each "
                     "design point's mean over draws and replications; PRIM also searches the "
                     "drawn parameters")
    summary: dict[str, Any] = {"year": year}
    method = manifest["method"]
    if method in ("sobol", "morris"):
        frames = []
        sample = (pd.read_parquet(Path(sweep_dir) / "sample.parquet")
                  if method == "morris" else None)
        warning = sample_size_warning(manifest)
        if warning:
            lines.append(f"warning: {warning}")
            summary["warning"] = warning
        lines.append(INDEX_LEGEND[method])
        for m in metrics:
            t = (sobol_indices(results, design, manifest, m, year) if method == "sobol"
                 else morris_indices(results, design, sample, manifest, m, year))
            frames.append(t.assign(metric=m).reset_index())
            y = outcome(results, design, m, year)
            if np.ptp(y) == 0:  # "most influential" of a constant would mislead
                lines.append(f"{m}: the same ({number(y[0])}) at every design point in {year}: "
                             "no parameter varied here changes it; no indices to rank")
                continue
            if m in KEY_METRICS:
                if method == "sobol":
                    bar_indices(t, ("S1", "ST"), ("S1_conf", "ST_conf"),
                                f"Sobol indices (95 % CI): {m} in {year}",
                                out / f"{method}_{m}.png",
                                labels=("S1 (first order)", "ST (total order)"))
                else:
                    bar_indices(t, ("mu_star", "sigma"), ("mu_star_conf", None),
                                f"Morris elementary effects: {m} in {year}",
                                out / f"{method}_{m}.png",
                                labels=("μ* (95 % CI)", "σ"))
                lines.append(index_line(t, m, method))
        table = pd.concat(frames, ignore_index=True)
        table.to_csv(out / f"{method}.csv", index=False, float_format="%.6g")
        summary[method] = f"{method}.csv"
    params = [p for p in manifest["parameters"]]
    if params and {"cost_per_inhabitant", "quality"} <= set(results.metric):
        drawn = (manifest.get("uncertainty") or {}).get("parameters") or []
        x, y, question = prim_target(results, design, params, year, drawn)
        res = run_prim(x, y, out)
        summary["prim"] = {"question": question, **res}
        lines.append(f"PRIM: {question} share of cases {res['share']:.0%}")
        if res.get("box"):
            shown = _restricted(res["box"], x) if drawn else res["box"]
            lines.append(f"  box: coverage {res['coverage']:.2f}, density {res['density']:.2f}, "
                         + ("; ".join(f"{k} in [{', '.join(_short(x) for x in v)}]"
                                      for k, v in shown.items()) or "no restriction"))
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=str) + "\n")
    return {"lines": lines, "summary": summary}
