"""``welfare-sim summarize``: a small, committable summary of a sweep.

:func:`summarize` reads a folder written by ``welfare-sim sweep`` (``results.parquet``,
``design.parquet``, ``manifest.json``, and ``analysis/`` if ``welfare-sim analyze`` ran) and
writes to ``dest`` (e.g. ``experiments/results/NAME/``):

- ``summary.csv``: per design point (its parameter values as columns), key metric and kept
  year: median, p10, p90 and n (replications). For large designs (Sobol, Morris, Latin
  hypercube with more than :data:`MAX_POINTS` points) a per-point table would be megabytes,
  so ``summary.csv`` then holds the spread over all design points per metric and year, and
  the per-point results stay in the sweep's ``results.parquet``;
- one or two PNG figures (dpi 90, well under 200 KB);
- ``SUMMARY.md``: what was run, a table of the key metrics in 2040 and 2060, the figures and
  a few generated sentences on the main differences;
- a copy of the sweep's ``manifest.json`` (and of ``analysis/sobol.csv`` / ``morris.csv``).

A sweep with parameter draws (``[uncertainty]``) pools draws and seeds in its medians and
bands; when its design varies ``paradigm``, SUMMARY.md opens with how often each paradigm is
best across draws (:mod:`sim.experiments.robustness`), and ``robustness.csv`` holds the table.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import InputError
from sim.tables import YEARLY_NOTE, number

KEY_METRICS = ("cost_per_inhabitant", "need_hours", "coverage", "effective_coverage", "quality",
               "fit_niche", "satisfaction", "fte_need", "hours_volunteer", "hours_coproduced",
               "share_admin", "coverage_gap_resource", "fiscal_gap")
PLOT_METRICS = (("cost_per_inhabitant", "Cost per inhabitant (NOK/yr)"),
                ("quality", "Quality (0-1)"),
                ("coverage", "Coverage (share of need met)"),
                ("satisfaction", "Satisfaction (0-1)"),
                ("need_hours", "Demand (need-hours/month)"),
                ("fte_need", "FTE need"),
                ("hours_volunteer", "Volunteer hours/month"),
                ("coverage_gap_resource", "Coverage gap high-low resources"))
MAX_POINTS = 60  # more design points: summary.csv holds the spread over points
MAX_LINES = 8  # more design points: no time-series figure (one line per point)
TABLE_POINTS = 6  # up to this many points: metrics as rows, points as columns
LOW_Q, HIGH_Q = 0.1, 0.9
DPI = 90
MAX_PNG = 120_000  # bytes; larger figures are saved with a 256-colour palette
FIGURES = ("timeseries.png", "tradeoff.png", "indices.png")
WRITTEN = ("summary.csv", "SUMMARY.md", "manifest.json", "sobol.csv", "morris.csv",
           "robustness.csv", *FIGURES)
_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d",
            "#666666")
_FMT = {"cost_per_inhabitant": "{:,.0f}", "need_hours": "{:,.0f}", "coverage": "{:.1%}",
        "effective_coverage": "{:.1%}", "quality": "{:.3f}", "fit_niche": "{:.3f}",
        "satisfaction": "{:.3f}", "fte_need": "{:,.1f}", "hours_volunteer": "{:,.0f}",
        "hours_coproduced": "{:,.0f}", "share_admin": "{:.1%}",
        "coverage_gap_resource": "{:+.3f}", "fiscal_gap": "{:,.0f}"}
_UNITS = {"cost_per_inhabitant": "NOK/yr", "need_hours": "h/month", "hours_volunteer":
          "h/month", "hours_coproduced": "h/month", "fiscal_gap": "NOK/month"}


def fmt(metric: str, v: float) -> str:
    if v is None or v != v:
        return "–"
    if metric in _FMT:
        return _FMT[metric].format(v)
    return f"{v:.3f}" if metric.startswith("cell_") else number(v)


# ------------------------------------------------------------------ loading
def load_sweep(sweep_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """The sweep's results, design and manifest, or an InputError saying what is missing."""
    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise InputError(f"{sweep_dir}: not a folder. Expected a folder written by welfare-sim "
                         "sweep (results/NAME); run welfare-sim sweep experiments/NAME.toml "
                         "first.")
    missing = [f for f in ("manifest.json", "results.parquet", "design.parquet")
               if not (sweep_dir / f).is_file()]
    if missing:
        running = (sweep_dir / "runs").is_dir()
        raise InputError(
            f"{sweep_dir}: no {' or '.join(missing)}. Expected a finished sweep folder with "
            "manifest.json, design.parquet and results.parquet; "
            + ("the runs/ folder is there, so the sweep is still running or was interrupted: "
               "wait for it or rerun welfare-sim sweep with --resume." if running else
               "run welfare-sim sweep experiments/NAME.toml first."))
    try:
        manifest = json.loads((sweep_dir / "manifest.json").read_text(encoding="utf-8"))
        results = pd.read_parquet(sweep_dir / "results.parquet")
        design = pd.read_parquet(sweep_dir / "design.parquet")
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several types on a bad file
        if isinstance(exc, MemoryError):
            raise
        raise InputError(f"{sweep_dir}: cannot read the sweep output ({type(exc).__name__}: "
                         f"{str(exc)[:200]}). Expected the files written by welfare-sim sweep; "
                         "rerun it with --overwrite.") from None
    if not isinstance(manifest, dict) or manifest.get("kind") != "sweep":
        kind = manifest.get("kind") if isinstance(manifest, dict) else None
        raise InputError(f"{sweep_dir}: manifest.json is not a sweep's (kind "
                         f"{kind!r}). Expected a folder written by "
                         "welfare-sim sweep.")
    if results.empty:
        raise InputError(f"{sweep_dir}: results.parquet has no finished runs "
                         f"({manifest.get('runs_failed', '?')} of {manifest.get('runs', '?')} "
                         "failed; see manifest.json). Expected at least one finished run.")
    return results, design, manifest


# ------------------------------------------------------------------ design points
def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def value_label(v: Any) -> str:
    """A design value as short text (paradigm transitions and dated series are JSON text)."""
    if isinstance(v, str) and v[:1] in "[{":
        try:
            v = json.loads(v)
        except ValueError:
            return v
    if isinstance(v, dict):
        if {"from", "to"} <= set(v):
            return f"{v['from']}→{v['to']} {v.get('start', '')}–{v.get('end', '')}"
        return ", ".join(f"{k}: {value_label(x)}" for k, x in v.items())
    if isinstance(v, list):
        return "[" + ", ".join(value_label(x) for x in v) + "]"
    if isinstance(v, float):
        return f"{v:.3g}"
    return str(v)


def points_table(design: pd.DataFrame, params: list[str]) -> pd.DataFrame:
    """One row per design point: point, label and the parameter values."""
    pts = design.drop_duplicates("point").sort_values("point")[["point", *params]]
    pts = pts.reset_index(drop=True)
    varied = [p for p in params if pts[p].astype(str).nunique() > 1] or params

    def label(row) -> str:
        if not params:
            return "base"
        if len(varied) == 1:
            return value_label(row[varied[0]])
        return ", ".join(f"{_short(p)}={value_label(row[p])}" for p in varied)

    pts.insert(1, "label", [label(r) for _, r in pts.iterrows()] if len(pts) else [])
    return pts


def key_metrics(results: pd.DataFrame) -> list[str]:
    present = set(results["metric"].unique())
    cells = sorted(m for m in present if m.startswith("cell_"))
    return [m for m in KEY_METRICS if m in present] + cells


def band(results: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    g = results.groupby(by, sort=True)["value"]
    return pd.DataFrame({"median": g.median(), "p10": g.quantile(LOW_Q),
                         "p90": g.quantile(HIGH_Q), "n": g.count()}).reset_index()


def point_summary(results: pd.DataFrame, pts: pd.DataFrame, metrics: list[str]
                  ) -> pd.DataFrame:
    """Median, p10, p90 and n over replications per design point, metric and year."""
    sub = results[results.metric.isin(metrics)]
    s = band(sub, ["point", "metric", "year"])
    order = {m: i for i, m in enumerate(metrics)}
    s = s.sort_values(["point", "metric", "year"], key=lambda c: c.map(order)
                      if c.name == "metric" else c, kind="stable")
    return pts.merge(s, on="point", how="inner").reset_index(drop=True)


def pooled_summary(results: pd.DataFrame, metrics: list[str]) -> pd.DataFrame:
    """Spread over all design points (mean over replications per point first)."""
    sub = results[results.metric.isin(metrics)]
    per = sub.groupby(["point", "metric", "year"])["value"].mean().rename("value").reset_index()
    g = per.groupby(["metric", "year"])["value"]
    s = pd.DataFrame({"median": g.median(), "p10": g.quantile(LOW_Q),
                      "p90": g.quantile(HIGH_Q), "min": g.min(), "max": g.max(),
                      "n_points": g.count()}).reset_index()
    order = {m: i for i, m in enumerate(metrics)}
    return s.sort_values(["metric", "year"], key=lambda c: c.map(order)
                         if c.name == "metric" else c, kind="stable").reset_index(drop=True)


def headline_years(years: list[int]) -> list[int]:
    picked = [y for y in (2040, 2060) if y in years]
    return picked or years[-1:]


# ------------------------------------------------------------------ figures
def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    plt = _plt()
    fig.savefig(path, dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    if path.stat().st_size > MAX_PNG:  # many bands: a 256-colour palette keeps it small
        from PIL import Image

        with Image.open(path) as im:
            small = im.convert("RGB").quantize(256)
        small.save(path, optimize=True)
    return path


def fig_timeseries(summ: pd.DataFrame, pts: pd.DataFrame, path: Path,
                   over: str = "replications") -> Path | None:
    plt = _plt()
    from matplotlib.ticker import MaxNLocator

    panels = [(m, t) for m, t in PLOT_METRICS if m in set(summ.metric)]
    if not panels:
        return None
    ncol = 2
    nrow = (len(panels) + 1) // 2
    fig, axes = plt.subplots(nrow, ncol, figsize=(9, 2.4 * nrow + 0.8), sharex=True,
                             squeeze=False)
    for ax, (metric, title) in zip(axes.flat, panels, strict=False):
        for i, (pt, lab) in enumerate(zip(pts.point, pts.label, strict=True)):
            d = summ[(summ.metric == metric) & (summ.point == pt)].sort_values("year")
            if d.empty:
                continue
            c = _COLOURS[i % len(_COLOURS)]
            ax.plot(d.year, d["median"], color=c, marker="o", markersize=3, label=lab)
            ax.fill_between(d.year, d.p10, d.p90, color=c, alpha=0.2, linewidth=0)
        ax.set_title(title, fontsize=9)
        ax.tick_params(labelsize=8)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(3, len(labels)), fontsize=8,
               bbox_to_anchor=(0.5, -0.02 - 0.025 * ((len(labels) - 1) // 3)))
    fig.suptitle(f"Median and 10-90 % band over {over}, per design point", fontsize=10)
    fig.tight_layout(rect=(0, 0.03 + 0.025 * ((len(labels) - 1) // 3), 1, 0.97))
    return _save(fig, path)


def fig_tradeoff(results: pd.DataFrame, pts: pd.DataFrame, year: int, path: Path
                 ) -> Path | None:
    """Cost vs quality in ``year``: median and 10-90 % band per design point."""
    plt = _plt()
    d = results[(results.year == year) & results.metric.isin(["cost_per_inhabitant",
                                                              "quality"])]
    if d.metric.nunique() < 2:
        return None
    s = band(d, ["point", "metric"]).pivot(index="point", columns="metric")
    fig, ax = plt.subplots(figsize=(7, 5))
    many = len(s) > MAX_LINES
    labels = dict(zip(pts.point, pts.label, strict=True))
    for i, pt in enumerate(s.index):
        x = s.loc[pt, ("median", "cost_per_inhabitant")]
        y = s.loc[pt, ("median", "quality")]
        xe = [[x - s.loc[pt, ("p10", "cost_per_inhabitant")]],
              [s.loc[pt, ("p90", "cost_per_inhabitant")] - x]]
        ye = [[y - s.loc[pt, ("p10", "quality")]], [s.loc[pt, ("p90", "quality")] - y]]
        if many:
            ax.errorbar(x, y, xerr=xe, yerr=ye, color="#1b9e77", marker="o", markersize=3,
                        alpha=0.5, elinewidth=0.6, linestyle="none")
            if len(s) <= MAX_POINTS:
                ax.annotate(str(pt), (x, y), fontsize=6, xytext=(2, 2),
                            textcoords="offset points")
        else:
            ax.errorbar(x, y, xerr=xe, yerr=ye, color=_COLOURS[i % len(_COLOURS)], marker="o",
                        capsize=3, label=labels.get(pt, str(pt)), linestyle="none")
    ax.set_xlabel("Cost per inhabitant (NOK/yr)")
    ax.set_ylabel("Quality (0-1)")
    what = "design point number" if many and len(s) <= MAX_POINTS else "design point"
    ax.set_title(f"Cost vs quality in {year}: median and 10-90 % band per {what}",
                 fontsize=10)
    ax.grid(alpha=0.3)
    if not many:
        ax.legend(fontsize=8)
    return _save(fig, path)


def fig_indices(table: pd.DataFrame, method: str, path: Path) -> Path | None:
    """Sobol S1/ST (or Morris mu*) of the key metrics, one panel per metric."""
    plt = _plt()
    metrics = [m for m, _ in PLOT_METRICS if m in set(table.metric)][:4]
    if not metrics:
        return None
    cols = (("S1", "S1_conf"), ("ST", "ST_conf")) if method == "sobol" else (
        ("mu_star", "mu_star_conf"),)
    nparam = table.parameter.nunique()
    fig, axes = plt.subplots(1, len(metrics), figsize=(3.3 * len(metrics) + 1.5,
                                                        0.35 * nparam + 1.5),
                             sharey=True, squeeze=False)
    for ax, m in zip(axes[0], metrics, strict=True):
        t = table[table.metric == m].set_index("parameter")
        y = np.arange(len(t))
        w = 0.8 / len(cols)
        for k, (c, e) in enumerate(cols):
            ax.barh(y + (k - (len(cols) - 1) / 2) * w, t[c], w, xerr=t[e].abs(), label=c,
                    capsize=1.5, error_kw={"elinewidth": 0.6})
        ax.set_yticks(y, [_short(p) for p in t.index], fontsize=8)
        ax.set_title(m, fontsize=9)
        ax.tick_params(axis="x", labelsize=8)
        ax.grid(alpha=0.3, axis="x")
    axes[0][0].invert_yaxis()
    axes[0][0].legend(fontsize=7)
    fig.suptitle(f"{method.capitalize()} indices with 95 % confidence intervals", fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


# ------------------------------------------------------------------ text
def _wall(manifest: dict[str, Any]) -> str:
    try:
        s = (datetime.fromisoformat(manifest["ended"])
             - datetime.fromisoformat(manifest["started"])).total_seconds()
    except (KeyError, TypeError, ValueError):
        return "unknown"
    h, rem = divmod(int(s), 3600)
    return f"{h} h {rem // 60} min" if h else f"{rem // 60} min {rem % 60} s"


def _draws_text(unc: dict[str, Any]) -> str:
    from sim.experiments.uncertainty import describe

    params = unc.get("parameters") or []
    return (describe(unc) + ": " + ", ".join(f"`{p}`" for p in params[:12])
            + (f" and {len(params) - 12} more" if len(params) > 12 else "")
            + " (each run's values are columns of `results.parquet`)")


def _pooling_note(unc: dict[str, Any] | None, n_draws: int) -> str:
    """How the bands of the tables and sentences are made (seed noise only, or pooled)."""
    if not unc:
        return ("Replication *r* uses the same seed at every design point (common random "
                "numbers), so differences between points can be paired per replication. Values "
                f"are {YEARLY_NOTE}; bands are the 10–90 % range over replications.")
    return ("Draw *d* uses the same parameter values and replication *r* the same seed at "
            "every design point (common random numbers), so differences between points are "
            f"paired per draw and replication. Values are {YEARLY_NOTE}; medians and bands "
            f"pool the {n_draws} parameter draws and the replications (parameter uncertainty "
            "and seed noise together), so a band here is wider than seed noise alone.")


def _description(manifest: dict[str, Any]) -> str:
    import tomllib

    try:
        return str(tomllib.loads(manifest.get("experiment_text") or "").get("description", ""))
    except tomllib.TOMLDecodeError:
        return ""


def _cell(summ: pd.DataFrame, pt: int, metric: str, year: int) -> str:
    r = summ[(summ.point == pt) & (summ.metric == metric) & (summ.year == year)]
    if r.empty:
        return "–"
    r = r.iloc[0]
    if r["n"] > 1:
        return f"{fmt(metric, r['median'])} [{fmt(metric, r['p10'])}–{fmt(metric, r['p90'])}]"
    return fmt(metric, r["median"])


def _label(metric: str) -> str:
    return f"{metric} ({_UNITS[metric]})" if metric in _UNITS else metric


def table_md(summ: pd.DataFrame, pts: pd.DataFrame, metrics: list[str], years: list[int]
             ) -> list[str]:
    if len(pts) <= TABLE_POINTS:
        rows = ["| metric | year | " + " | ".join(pts.label) + " |",
                "|" + "---|" * (len(pts) + 2)]
        for m in metrics:
            for y in years:
                rows.append(f"| {_label(m)} | {y} | "
                            + " | ".join(_cell(summ, p, m, y) for p in pts.point) + " |")
        return rows
    shown = [m for m in metrics if not m.startswith("cell_")][:8]
    out: list[str] = []
    for y in years:
        out += [f"**{y}**", "", "| point | " + " | ".join(
            [_short(p) for p in pts.columns[2:]] + [_label(m) for m in shown]) + " |",
            "|" + "---|" * (len(pts.columns) - 1 + len(shown))]
        for _, r in pts.iterrows():
            vals = [value_label(r[c]) for c in pts.columns[2:]]
            out.append(f"| {r['point']} | " + " | ".join(
                vals + [_cell(summ, r["point"], m, y) for m in shown]) + " |")
        out.append("")
    return out


def pooled_md(pooled: pd.DataFrame, years: list[int]) -> list[str]:
    rows = ["| metric | year | median over points | 10–90 % of points | min – max |",
            "|---|---|---|---|---|"]
    for _, r in pooled[pooled.year.isin(years)].iterrows():
        m = r["metric"]
        rows.append(f"| {_label(m)} | {r['year']} | {fmt(m, r['median'])} | "
                    f"{fmt(m, r['p10'])} – {fmt(m, r['p90'])} | {fmt(m, r['min'])} – "
                    f"{fmt(m, r['max'])} |")
    return rows


def compare_text(results: pd.DataFrame, summ: pd.DataFrame, labels: dict[int, str],
                 metric: str, year: int, lowest: bool, what: str) -> str | None:
    """'A is cheapest ...; versus the runner-up B the paired difference ... (beyond seed noise
    or not); the unpaired bands overlap or not.' Replications differ only by seed, so their
    bands are seed noise, not parameter uncertainty (that is compare --uncertainty)."""
    s = summ[(summ.metric == metric) & (summ.year == year)].dropna(subset=["median"])
    if s.empty:
        return None
    s = s.sort_values("median", ascending=lowest, kind="stable")
    best = s.iloc[0]
    text = (f"In {year}, **{labels[best.point]}** is {what}: {_label(metric)} "
            f"{fmt(metric, best['median'])}")
    if best["n"] > 1:
        text += f" (10–90 %: {fmt(metric, best['p10'])} – {fmt(metric, best['p90'])})"
    if len(s) == 1:
        return text + "."
    worst = s.iloc[-1]
    second = s.iloc[1]
    text += (f"; {labels[worst.point]} is at the other end ({fmt(metric, worst['median'])})."
             f" Next is {labels[second.point]} ({fmt(metric, second['median'])})")
    if min(best["n"], second["n"]) < 2:
        return text + "; one replication per point, so no bands to compare."
    sub = results[(results.metric == metric) & (results.year == year)]
    pair = ["draw", "replication"] if "draw" in sub.columns else ["replication"]
    a = sub[sub.point == best.point].set_index(pair)["value"]
    b = sub[sub.point == second.point].set_index(pair)["value"]
    d = (b - a).dropna()
    overlap = best["p10"] <= second["p90"] and second["p10"] <= best["p90"]
    text += (": the unpaired 10–90 % bands " + ("overlap" if overlap else "do not overlap"))
    if len(d) >= 2 and (d == 0).all():
        text += ", and the two points give identical values in every replication (same seeds)"
    elif len(d) >= 2:
        lo, hi = d.quantile(LOW_Q), d.quantile(HIGH_Q)
        beyond = lo > 0 or hi < 0

        def f(v: float) -> str:
            return number(v, sign=True)

        same = "same draw and seed" if len(pair) == 2 else "same seeds per replication"
        text += (f", and the paired difference (next − {what.split()[0]}, {same}) is "
                 f"{f(d.median())} (10–90 %: {f(lo)} to {f(hi)}), "
                 + (("clear across draws and seeds: its band excludes 0" if beyond
                     else "not clear: its band over draws and seeds includes 0")
                    if len(pair) == 2 else
                    ("beyond seed noise: its band excludes 0" if beyond
                     else "within seed noise: its band includes 0")))
    return text + "."


def indices_text(table: pd.DataFrame, method: str) -> list[str]:
    col = "ST" if method == "sobol" else "mu_star"
    out = []
    for m in ("cost_per_inhabitant", "quality"):
        t = table[table.metric == m].sort_values(col, ascending=False).head(3)
        if t.empty:
            continue
        out.append(f"{m}: most influential (by {col}) " + ", ".join(
            f"`{r.parameter}` ({getattr(r, col):.2f})" for r in t.itertuples()) + ".")
    return out


# ------------------------------------------------------------------ parameter draws
def _worlds(results: pd.DataFrame, others: list[str]) -> pd.Series:
    """Plausible world of each row: its draw, or with other varied parameters the combination
    of their values and the draw (a paradigm is ranked against the others in the same world)."""
    if not others:
        return results["draw"].astype(int)
    return results.groupby([*others, "draw"], sort=True).ngroup()


def sweep_robustness(results: pd.DataFrame, manifest: dict[str, Any], years: list[int]
                     ) -> dict[str, Any] | None:
    """How often each paradigm is best across the sweep's parameter draws (robustness.analyse,
    as compare --uncertainty), when the design varies ``paradigm``; else None."""
    from sim.experiments import robustness

    unc = manifest.get("uncertainty")
    params = list(manifest.get("parameters") or [])
    if not unc or "paradigm" not in params or "draw" not in results.columns:
        return None
    others = [p for p in params if p != "paradigm" and p in results.columns]
    tidy = results.copy()
    tidy["scenario"] = tidy["paradigm"].map(value_label)
    names = list(dict.fromkeys(tidy.sort_values("point", kind="stable")["scenario"]))
    if len(names) < 2:
        return None
    tidy["draw"] = _worlds(tidy, others).to_numpy()
    drawn = [p for p in unc.get("parameters", []) if p in tidy.columns]
    numeric = [p for p in others if pd.api.types.is_numeric_dtype(tidy[p])]
    x = tidy.drop_duplicates("draw").sort_values("draw")[["draw", *numeric, *drawn]]
    robust = robustness.analyse(tidy, x.reset_index(drop=True), [*numeric, *drawn], names,
                                years, seed=int(unc.get("uncertainty_seed", 1)))
    robust.update({"names": names, "worlds": int(x["draw"].nunique()),
                   "draws": int(results["draw"].nunique()), "others": others})
    return robust


def robustness_md(robust: dict[str, Any]) -> list[str]:
    """SUMMARY.md's opening: the verdict lines and the tables of compare's report."""
    from sim.experiments.report import robustness_section

    worlds = (f"{robust['worlds']} plausible worlds ({robust['draws']} parameter draws × the "
              f"values of {', '.join(f'`{o}`' for o in robust['others'])})"
              if robust["others"] else f"{robust['draws']} parameter draws (plausible worlds)")
    lines = ["## Robustness across parameter draws", "",
             *[f"**{v}**" if i == 0 else v for i, v in enumerate(robust["verdict"])], "",
             f"Each paradigm is ranked against the others in each of {worlds}, every one run "
             "with the same parameter values and seeds under every paradigm; a draw's value is "
             "its mean over replications. The share of worlds a paradigm is best in is as good "
             "as the registry's ranges, not a probability that it is better in reality "
             "(docs/experiments.md, \"Reading the uncertainty report\"). Full table: "
             "`robustness.csv`."]
    section = robustness_section(robust, robust["names"], {})
    return lines + section[section.index("") + 2:]  # its own heading replaced by the above


# ------------------------------------------------------------------ main
def _kind(folder: Path) -> str | None:
    try:
        return json.loads((folder / "manifest.json").read_text(encoding="utf-8")).get("kind")
    except (OSError, ValueError, AttributeError):
        return None


COMPARE_FILES = ("summary.csv", "differences.csv", "manifest.json")


def summarize_compare(folder: Path, dest: Path) -> Path:
    """The committable part of a comparison (welfare-sim compare): its report as SUMMARY.md
    with the figures it shows, summary.csv, differences.csv and manifest.json (the run table,
    results.parquet, stays in ``folder``)."""
    dest.mkdir(parents=True, exist_ok=True)
    for f in COMPARE_FILES:
        shutil.copyfile(folder / f, dest / f)
    if (folder / "figures").is_dir():
        shutil.copytree(folder / "figures", dest / "figures", dirs_exist_ok=True)
    (dest / "SUMMARY.md").write_text((folder / "report.md").read_text(encoding="utf-8"),
                                     encoding="utf-8")
    return dest / "SUMMARY.md"


def summarize(sweep_dir: Path, dest: Path) -> Path:
    """Write summary.csv, figures, SUMMARY.md and manifest.json for the sweep in
    ``sweep_dir`` into ``dest``; return the path of SUMMARY.md.

    The files are written into a staging folder and moved into place at the end; ``dest``
    is replaced only if it is new, empty or an earlier summary (:mod:`sim.safety`), and it
    may not be the sweep folder itself or overlap it."""
    from sim.safety import check_output_dir, replace_dir, staging_dir, write_marker

    sweep_dir, dest = Path(sweep_dir), Path(dest)
    try:
        a, b = sweep_dir.resolve(), dest.resolve()
    except (OSError, RuntimeError) as exc:
        raise InputError(f"{dest}: cannot be resolved ({exc}). Expected a folder path."
                         ) from None
    if a == b or b.is_relative_to(a) or a.is_relative_to(b):
        raise InputError(f"--to {dest}: is the sweep folder {sweep_dir} or overlaps it; the "
                         "summary would overwrite the sweep's own files. Expected a separate "
                         "folder, e.g. --to experiments/results/NAME.")
    compare = _kind(sweep_dir) == "compare"
    if compare:
        missing = [f for f in ("report.md", *COMPARE_FILES) if not (sweep_dir / f).is_file()]
        if missing:
            raise InputError(f"{sweep_dir}: no {' or '.join(missing)}. Expected a finished "
                             "comparison folder; rerun welfare-sim compare with --resume.")
    else:
        loaded = load_sweep(sweep_dir)  # a bad sweep folder fails before anything is written
    # the same rules for both kinds: dest is replaced only if new, empty or a summary
    check_output_dir(dest, "summary", overwrite=True, flag="--to")
    try:
        with staging_dir(dest, "summary") as tmp:
            if compare:
                summarize_compare(sweep_dir, tmp)
            else:
                _summarize(sweep_dir, tmp, dest, loaded)
            write_marker(tmp, "summary", "finished")
            replace_dir(tmp, dest, "summary")
    except OSError as exc:
        from sim.cli.failures import output_error

        raise output_error(exc, dest, "summary") from exc
    return dest / "SUMMARY.md"


def _summarize(sweep_dir: Path, dest: Path, shown: Path,
               loaded: tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]) -> Path:
    """Write the summary files into ``dest`` (a staging folder); ``shown`` is the folder
    they will end up in (named in SUMMARY.md)."""
    results, design, manifest = loaded
    params = [p for p in manifest.get("parameters", []) if p in design.columns]
    pts = points_table(design, params)
    pts = pts[pts.point.isin(set(results.point))].reset_index(drop=True)
    labels = dict(zip(pts.point, pts.label, strict=True))
    metrics = key_metrics(results)
    if not metrics:
        raise InputError(f"{sweep_dir}: results.parquet has none of the key metrics "
                         f"({', '.join(KEY_METRICS)}). Expected a sweep that keeps some of "
                         "them (experiment file key 'metrics').")
    years = sorted(int(y) for y in results.year.unique())
    head_years = headline_years(years)
    dest.mkdir(parents=True, exist_ok=True)
    unc = manifest.get("uncertainty") if "draw" in results.columns else None
    n_draws = int(results["draw"].nunique()) if unc else 0
    over = f"{n_draws} draws × replications, pooled" if unc else "replications"
    robust = sweep_robustness(results, manifest, head_years) if unc else None
    if robust is not None:
        robust["wins"].to_csv(dest / "robustness.csv", index=False, float_format="%.6g")

    large = len(pts) > MAX_POINTS
    summ = point_summary(results, pts, metrics)
    pooled = pooled_summary(results, metrics) if large else None
    (pooled if large else summ).to_csv(dest / "summary.csv", index=False, float_format="%.6g")

    method = manifest.get("method", "")
    analysis = sweep_dir / "analysis"
    idx = None
    if method in ("sobol", "morris") and (analysis / f"{method}.csv").is_file():
        idx = pd.read_csv(analysis / f"{method}.csv")
        shutil.copyfile(analysis / f"{method}.csv", dest / f"{method}.csv")
    figs: list[tuple[str, Path]] = []
    if len(pts) <= MAX_LINES and len(years) > 1:
        p = fig_timeseries(summ, pts, dest / "timeseries.png", over)
        if p:
            figs.append(("Key metrics over the kept years (median and 10–90 % band over "
                         f"{over})", p))
    if idx is not None:
        p = fig_indices(idx, method, dest / "indices.png")
        if p:
            figs.append((f"{method.capitalize()} indices ({method}.csv)", p))
    if len(figs) < 2:
        p = fig_tradeoff(results, pts, years[-1], dest / "tradeoff.png")
        if p:
            figs.append((f"Cost vs quality in {years[-1]}", p))
    shutil.copyfile(sweep_dir / "manifest.json", dest / "manifest.json")

    name = manifest.get("experiment", sweep_dir.name)
    v = manifest.get("versions", {})
    desc = _description(manifest)
    reps = manifest.get("replications", "?")
    lines = [f"# {name}", ""]
    if desc:
        lines += [desc, ""]
    if manifest.get("runs_failed"):
        lines += [f"**Warning:** {manifest['runs_failed']} runs failed (errors in "
                  "`manifest.json`); the summary uses the finished runs only.", ""]
    if robust is not None:  # what holds across plausible worlds comes first
        lines += [*robustness_md(robust), ""]
    # the pictures first, then the text, the table, and what was run (provenance)
    lines += ["## At a glance", ""]
    for cap, p in figs:
        lines += [f"![{cap}]({p.name})", "", f"*{cap}*", ""]
    run_lines = [
        "## What was run", "",
        f"- experiment file: `{manifest.get('experiment_file', '?')}` (full text in "
        "`manifest.json`)",
        f"- design: {method}, {len(pts)} design points × "
        + (f"{n_draws} parameter draws × " if unc else "") + f"{reps} replication(s); varied: "
        + (", ".join(f"`{p}`" for p in params) or "nothing"),
        *([f"- parameter draws: {_draws_text(unc)}"] if unc else []),
        f"- runs: {manifest.get('runs_done', '?')} of {manifest.get('runs', '?')} done, "
        f"{manifest.get('runs_failed', '?')} failed",
        f"- kept years: {', '.join(map(str, years))}",
        f"- wall time: {_wall(manifest)} ({manifest.get('started', '?')} to "
        f"{manifest.get('ended', '?')}; the last invocation only if resumed), executor "
        f"{manifest.get('executor', '?')}",
        f"- versions: welfare-sim {v.get('welfare-sim', '?')}, Python {v.get('python', '?')}, "
        f"mesa {v.get('mesa', '?')}, numpy {v.get('numpy', '?')}, pandas "
        f"{v.get('pandas', '?')}" + (f", SALib {v['SALib']}" if "SALib" in v else ""),
        f"- git commit: `{manifest.get('git_commit') or 'unknown'}`", ""]
    lines += ["## Main differences", "", _pooling_note(unc, n_draws), ""]
    sentences: list[str] = []
    if idx is not None:
        sentences += indices_text(idx, method)
    if not large:
        for metric, lowest, what in (("cost_per_inhabitant", True, "cheapest"),
                                     ("quality", False, "best on quality")):
            t = compare_text(results, summ, labels, metric, head_years[-1], lowest, what)
            if t:
                sentences.append(t)
    else:
        for metric in ("cost_per_inhabitant", "quality"):
            r = pooled[(pooled.metric == metric) & (pooled.year == head_years[-1])]
            if not r.empty:
                r = r.iloc[0]
                sentences.append(
                    f"In {head_years[-1]}, {metric} ranges over the design from "
                    f"{fmt(metric, r['min'])} to {fmt(metric, r['max'])} (10–90 % of points: "
                    f"{fmt(metric, r['p10'])} – {fmt(metric, r['p90'])}).")
    lines += [f"- {s}" for s in sentences] or ["- (no cost or quality data)"]
    lines += ["", f"## Key metrics in {' and '.join(map(str, head_years))}", ""]
    if large:
        lines += [f"{len(pts)} design points: the spread over points (mean over replications "
                  "per point) is shown; per-point values are in the sweep's "
                  "`results.parquet`.", ""] + pooled_md(pooled, head_years)
    else:
        lines += [f"Median [10–90 %] over {over}."
                  + ("" if len(pts) <= TABLE_POINTS else " Design points:"), ""]
        lines += table_md(summ, pts, metrics, head_years)
    lines += ["", *run_lines]
    lines += ["## Files", "",
              ("- `summary.csv`: spread over design points (median, p10, p90, min, max, "
               "n_points) per metric and year" if large else
               "- `summary.csv`: median, p10, p90 and n (" + ("draws × replications"
                                                               if unc else "replications")
               + ") per design point (parameter values as columns), metric and kept year"),
              "- `manifest.json`: the sweep's manifest (experiment text, seeds, versions, "
              "git commit, errors)"]
    if robust is not None:
        lines.append("- `robustness.csv`: per metric, year and paradigm: share of plausible "
                     "worlds it is best in (`win_share`, 90 % interval `win_low`–`win_high`), "
                     "regret (median, p90) and its value across worlds")
    if idx is not None:
        lines.append(f"- `{method}.csv`: {method} indices of every metric (from "
                     "`welfare-sim analyze`)")
    lines += ["", f"Regenerate: `welfare-sim sweep {manifest.get('experiment_file', '?')}"
              + (f" && welfare-sim analyze {sweep_dir}" if method in ("sobol", "morris")
                 else "")
              + f" && welfare-sim summarize {sweep_dir} --to {shown}`.", ""]
    out = dest / "SUMMARY.md"
    out.write_text("\n".join(lines), encoding="utf-8")
    return out
