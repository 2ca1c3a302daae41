"""Robustness of a comparison across parameter uncertainty (``compare --uncertainty N``).

Two kinds of uncertainty are kept apart:

* **seed noise** — the spread between replications of one draw (the same parameters, other
  chance events). Under common random numbers the paired difference between two scenarios of
  the same draw and replication is mostly the scenarios' effect; what is left is seed noise.
* **parameter uncertainty** — the spread between draws (plausible worlds: other values of the
  uncertain parameters). This is what decides how often a scenario wins.

Per headline metric and year this module computes, from the tidy table of a comparison (one row
per scenario, draw, replication, metric, year): the share of draws in which each scenario is
best with a 90 % Wilson interval; regret (distance to the best scenario of the same draw: median
and 90th percentile); paired differences across draws set against seed noise; which parameters
decide the ranking (extra-trees feature importance, against a random reference column); and a
PRIM box ("where does the runner-up beat the leader?"). A difference is called **clear** only
when it holds across draws: its 10–90 % band over draws excludes 0.
"""

from __future__ import annotations

import logging
import math
import warnings
from typing import Any

import numpy as np
import pandas as pd

Z90 = 1.6448536269514722  # two-sided 90 %
# headline metrics: (metric, which way is better, the word for the best)
HEADLINE = (("cost_per_inhabitant", "lower", "cheapest"),
            ("quality", "higher", "best on quality"),
            ("coverage", "higher", "best on coverage"),
            ("satisfaction", "higher", "best on satisfaction"))
VERDICT_METRICS = ("cost_per_inhabitant", "quality")
RANDOM_COLUMN = "(random reference)"
# a parameter "decides" the ranking if its importance beats the random reference and is at
# least this share of the most important parameter's
DECISIVE_SHARE_OF_TOP = 0.25
# PRIM looks for a box in the most important parameters only: a few dozen draws cannot support
# a box in dozens of dimensions (it would over-fit)
PRIM_PARAMETERS = 3


def wilson(k: float, n: int, z: float = Z90) -> tuple[float, float]:
    """Wilson score interval of a binomial share k/n (90 % by default)."""
    if n <= 0:
        return (float("nan"), float("nan"))
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return (max(0.0, centre - half), min(1.0, centre + half))


def draw_means(tidy: pd.DataFrame) -> pd.DataFrame:
    """Mean over replications per scenario, draw, metric and year."""
    return (tidy.groupby(["scenario", "draw", "metric", "year"], sort=True)["value"].mean()
            .reset_index())


def _wide(dm: pd.DataFrame, names: list[str], metric: str, year: int) -> pd.DataFrame:
    """draw × scenario table of draw means (only draws every scenario finished)."""
    sub = dm[(dm.metric == metric) & (dm.year == year)]
    w = sub.pivot(index="draw", columns="scenario", values="value")
    return w.reindex(columns=names).dropna()


def wins(w: pd.DataFrame, better: str) -> pd.DataFrame:
    """Per draw and scenario: 1 for the best, ties shared (1/k each)."""
    best = w.min(axis=1) if better == "lower" else w.max(axis=1)
    tie = w.eq(best, axis=0).astype(float)
    return tie.div(tie.sum(axis=1), axis=0)


def win_table(dm: pd.DataFrame, names: list[str], years: list[int],
              metrics=HEADLINE) -> pd.DataFrame:
    """robustness.csv: per metric, year and scenario the share of draws it is best in (90 %
    Wilson interval), regret (median, p90) and the spread of its value across draws."""
    rows = []
    for metric, better, _ in metrics:
        for year in years:
            w = _wide(dm, names, metric, year)
            if w.empty:
                continue
            won = wins(w, better)
            best = w.min(axis=1) if better == "lower" else w.max(axis=1)
            regret = (w.sub(best, axis=0)).abs()
            n = len(w)
            for s in names:
                k = float(won[s].sum())
                lo, hi = wilson(k, n)
                rows.append({"metric": metric, "year": year, "better": better, "scenario": s,
                             "draws": n, "wins": k, "win_share": k / n, "win_low": lo,
                             "win_high": hi, "regret_median": float(regret[s].median()),
                             "regret_p90": float(regret[s].quantile(0.9)),
                             "median": float(w[s].median()), "p10": float(w[s].quantile(0.1)),
                             "p90": float(w[s].quantile(0.9))})
    return pd.DataFrame(rows)


def _paired_runs(tidy: pd.DataFrame, a: str, b: str, metric: str, year: int) -> pd.DataFrame:
    """Per draw and replication: the difference b − a (same draw, same seed)."""
    sub = tidy[(tidy.metric == metric) & (tidy.year == year)]
    idx = ["draw", "replication"]
    x = sub[sub.scenario == a].set_index(idx)["value"]
    y = sub[sub.scenario == b].set_index(idx)["value"]
    return (y - x).dropna().rename("diff").reset_index()


def seed_noise(d: pd.DataFrame) -> tuple[float, int]:
    """Pooled within-draw standard deviation of paired differences (seed noise) and the number
    of replications per draw (median). NaN with one replication per draw."""
    g = d.groupby("draw")["diff"]
    dev = d["diff"] - g.transform("mean")
    dof = int((g.count() - 1).clip(lower=0).sum())
    reps = int(g.count().median()) if len(d) else 0
    if dof == 0:
        return float("nan"), reps
    return float(math.sqrt((dev ** 2).sum() / dof)), reps


PAIR_COLUMNS = ["scenario", "versus", "metric", "year", "draws", "median", "p10", "p90",
                "share_above_0", "seed_sd", "seed_se", "share_beyond_seed_noise", "clear"]


def pair_differences(tidy: pd.DataFrame, names: list[str], years: list[int],
                     metrics=HEADLINE) -> pd.DataFrame:
    """draw_differences.csv: for every pair (scenario − versus) the paired difference across
    draws (median, p10, p90 of the per-draw mean; share of draws above 0), seed noise (pooled
    within-draw sd and the standard error of a draw's mean), the share of draws whose difference
    is beyond seed noise (|mean| > 1.645 standard errors), and ``clear``: the 10–90 % band across
    draws excludes 0."""
    rows = []
    for metric, _, _ in metrics:
        for year in years:
            for i, a in enumerate(names):
                for b in names[i + 1:]:
                    d = _paired_runs(tidy, a, b, metric, year)
                    if d.empty:
                        continue
                    per_draw = d.groupby("draw")["diff"].mean()
                    sd, reps = seed_noise(d)
                    se = sd / math.sqrt(reps) if reps else float("nan")
                    beyond = (float((per_draw.abs() > Z90 * se).mean()) if se == se
                              else float("nan"))
                    lo, hi = float(per_draw.quantile(0.1)), float(per_draw.quantile(0.9))
                    rows.append({"scenario": b, "versus": a, "metric": metric, "year": year,
                                 "draws": len(per_draw), "median": float(per_draw.median()),
                                 "p10": lo, "p90": hi,
                                 "share_above_0": float((per_draw > 0).mean()),
                                 "seed_sd": sd, "seed_se": se,
                                 "share_beyond_seed_noise": beyond,
                                 "clear": bool(lo > 0 or hi < 0)})
    return pd.DataFrame(rows, columns=PAIR_COLUMNS)  # the columns also with one scenario


# ------------------------------------------------------------------ what decides the ranking
def importance(x: pd.DataFrame, y: np.ndarray, seed: int = 1) -> pd.DataFrame:
    """Extra-trees feature importance of the parameters for ``y`` (a per-draw difference),
    with a column of uniform noise as reference: a parameter below the reference is not
    distinguishable from chance with this many draws. Columns: parameter, importance (sums to
    1), above_reference, decisive (above the reference and at least a quarter of the top
    parameter's importance)."""
    rng = np.random.default_rng(seed)
    xs = x.copy()
    xs[RANDOM_COLUMN] = rng.random(len(xs))
    y = np.asarray(y, dtype=float)
    if len(xs) < 4 or np.ptp(y) == 0:
        imp = np.zeros(xs.shape[1])
    else:
        try:
            from sklearn.ensemble import ExtraTreesRegressor
        except ImportError:  # rank correlation instead (scikit-learn comes with ema_workbench)
            from scipy.stats import spearmanr

            imp = np.array([abs(spearmanr(xs[c], y).statistic) if np.ptp(xs[c]) > 0 else 0.0
                            for c in xs.columns])
            imp = np.nan_to_num(imp)
        else:
            model = ExtraTreesRegressor(n_estimators=500, min_samples_leaf=2, random_state=seed,
                                        n_jobs=1)
            model.fit(xs.to_numpy(dtype=float), y)
            imp = model.feature_importances_
    total = imp.sum()
    imp = imp / total if total > 0 else imp
    t = pd.DataFrame({"parameter": xs.columns, "importance": imp})
    ref = float(t.loc[t.parameter == RANDOM_COLUMN, "importance"].iloc[0])
    t["above_reference"] = (t["importance"] > ref) & (t.parameter != RANDOM_COLUMN)
    top = float(t.loc[t.parameter != RANDOM_COLUMN, "importance"].max())
    t["decisive"] = t["above_reference"] & (t["importance"] >= DECISIVE_SHARE_OF_TOP * top) & (
        t["importance"] > 0)
    return t.sort_values(["importance", "parameter"], ascending=[False, True],
                         kind="stable").reset_index(drop=True)


def prim_box(x: pd.DataFrame, y: np.ndarray) -> dict[str, Any]:
    """PRIM (ema_workbench) box of the draws where ``y`` holds. The box kept from the peeling
    trajectory is the one with the largest coverage × density; only restricted parameters are
    listed. Returns {"cases", "share", "coverage", "density", "box": {param: [low, high]}}."""
    y = np.asarray(y, dtype=bool)
    res: dict[str, Any] = {"cases": int(y.sum()), "share": float(y.mean()) if len(y) else 0.0,
                           "box": None}
    if x.shape[1] == 0 or y.sum() == 0 or y.all() or len(y) < 5:
        return res
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim

        logging.getLogger("EMA").setLevel(logging.ERROR)
        p = prim.Prim(x.astype(float).reset_index(drop=True), y.astype(int), peel_alpha=0.1,
                      mass_min=0.05)
        box = p.find_box()
        traj = box.peeling_trajectory
        score = traj["coverage"] * traj["density"]
        i = int(score.to_numpy().argmax())
        box.select(i)
        lims = box.box_lim
    full = (x.min(), x.max())
    restricted = {}
    for c in lims.columns:
        lo, hi = float(lims[c].iloc[0]), float(lims[c].iloc[1])
        if lo > float(full[0][c]) or hi < float(full[1][c]):
            restricted[c] = [lo, hi]
    res.update({"coverage": float(traj["coverage"].iloc[i]),
                "density": float(traj["density"].iloc[i]),
                "mass": float(traj["mass"].iloc[i]), "box": restricted or None})
    return res


def _fmt_num(v: float) -> str:
    return f"{v:.3g}"


def box_text(box: dict[str, list[float]] | None, full: pd.DataFrame) -> str:
    """'npm.tendered_share ≥ 0.41 and cocreation.thick_share ≤ 0.3'."""
    if not box:
        return "no box"
    parts = []
    for c, (lo, hi) in box.items():
        lo_cut, hi_cut = lo > float(full[c].min()), hi < float(full[c].max())
        if lo_cut and hi_cut:
            parts.append(f"{_fmt_num(lo)} ≤ {c} ≤ {_fmt_num(hi)}")
        elif lo_cut:
            parts.append(f"{c} ≥ {_fmt_num(lo)}")
        else:
            parts.append(f"{c} ≤ {_fmt_num(hi)}")
    return " and ".join(parts)


def decisive(tidy: pd.DataFrame, draws: pd.DataFrame, params: list[str], names: list[str],
             wt: pd.DataFrame, years: list[int], seed: int = 1,
             metrics=HEADLINE) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Per metric and year: feature importance of the parameters for the paired difference
    between the leader (highest win share) and the runner-up, and a PRIM box of the draws where
    the runner-up wins. Returns (importance.csv table, PRIM results)."""
    dm = draw_means(tidy)
    frames, boxes = [], []
    x_all = draws.set_index("draw")[params]
    for metric, better, _ in metrics:
        for year in years:
            w = _wide(dm, names, metric, year)
            t = wt[(wt.metric == metric) & (wt.year == year)]
            if w.empty or len(names) < 2 or t.empty:
                continue
            order = t.sort_values(["win_share", "median"], ascending=[False, better == "lower"],
                                  kind="stable")["scenario"].tolist()
            lead, runner = order[0], order[1]
            x = x_all.loc[w.index]
            diff = (w[runner] - w[lead]).to_numpy()  # > 0: runner-up higher
            imp = importance(x, diff if better == "higher" else -diff, seed)
            imp.insert(0, "metric", metric)
            imp.insert(1, "year", year)
            imp.insert(2, "leader", lead)
            imp.insert(3, "runner_up", runner)
            frames.append(imp)
            runner_wins = (diff > 0) if better == "higher" else (diff < 0)
            top = imp[imp.parameter != RANDOM_COLUMN]["parameter"].head(PRIM_PARAMETERS)
            box = prim_box(x[top.tolist()], runner_wins)
            boxes.append({"metric": metric, "year": year, "leader": lead, "runner_up": runner,
                          "question": f"Where does {runner} beat {lead} on {metric} in {year}?",
                          "text": box_text(box.get("box"), x), "searched": top.tolist(),
                          **box})
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["metric", "year", "leader", "runner_up", "parameter", "importance",
                 "above_reference", "decisive"])
    return table, boxes


# ------------------------------------------------------------------ words
def _pct(v: float) -> str:
    return f"{100 * v:.0f} %"


def verdict_line(wt: pd.DataFrame, imp: pd.DataFrame, metric: str, year: int,
                 word: str) -> str | None:
    """'In 2060, npm is cheapest in 62 % of plausible worlds (90 % CI 48–74 %, 20 draws);
    decided mainly by X, Y.'"""
    t = wt[(wt.metric == metric) & (wt.year == year)]
    if t.empty:
        return None
    better = t["better"].iloc[0]
    t = t.sort_values(["win_share", "median"], ascending=[False, better == "lower"],
                      kind="stable")
    r = t.iloc[0]
    n = int(r["draws"])
    line = (f"In {year}, {r['scenario']} is {word} in {_pct(r['win_share'])} of plausible "
            f"worlds (90 % CI {100 * r['win_low']:.0f}–{100 * r['win_high']:.0f} %, {n} draws)")
    if r["win_share"] >= 1.0:
        return line + "; no draw reverses it."
    i = imp[(imp.metric == metric) & (imp.year == year) & imp.decisive]
    top = i["parameter"].head(2).tolist()
    if top:
        return line + f"; decided mainly by {', '.join(top)}."
    return line + "; no single parameter stands out (none above the random reference)."


def verdict_lines(wt: pd.DataFrame, imp: pd.DataFrame, years: list[int]) -> list[str]:
    words = {m: w for m, _, w in HEADLINE}
    lines = []
    for metric in VERDICT_METRICS:
        for year in sorted(years, reverse=True):
            v = verdict_line(wt, imp, metric, year, words[metric])
            if v:
                lines.append(v)
    return lines


def analyse(tidy: pd.DataFrame, draws: pd.DataFrame, params: list[str], names: list[str],
            years: list[int], seed: int = 1) -> dict[str, Any]:
    """Everything the report needs: win table, pair differences, importance, PRIM boxes and
    the verdict lines."""
    dm = draw_means(tidy)
    wt = win_table(dm, names, years)
    pdiff = pair_differences(tidy, names, years)
    imp, boxes = decisive(tidy, draws, params, names, wt, years, seed)
    return {"wins": wt, "pairs": pdiff, "importance": imp, "prim": boxes,
            "verdict": verdict_lines(wt, imp, years), "draw_means": dm}
