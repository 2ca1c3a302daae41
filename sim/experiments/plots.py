"""Figures for compare and analyze (matplotlib, Agg backend, PNG)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sim.mechanisms.base import RESP  # noqa: E402
from sim.scenario import Scenario  # noqa: E402

TIMESERIES = (("cost_per_inhabitant", "Cost per inhabitant (NOK/yr)"),
              ("need_hours", "Demand (need-hours/month)"),
              ("coverage", "Coverage (share of need met)"),
              ("quality", "Quality (0-1)"),
              ("satisfaction", "Satisfaction (0-1)"),
              ("fte_need", "FTE need"),
              ("hours_volunteer", "Volunteer hours/month"),
              ("coverage_gap_resource", "Inequality: coverage gap high-low resources"))
COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d")


def _save(fig, path: Path) -> Path:
    from sim.safety import atomic_write

    try:  # through a temporary file: a full disk never leaves a truncated PNG
        atomic_write(path, lambda p: fig.savefig(p, format="png", dpi=110, bbox_inches="tight",
                                                 metadata={"Software": None}))
    finally:
        plt.close(fig)
    return path


def timeseries(tidy: pd.DataFrame, names: list[str], path: Path,
               over: str = "replications") -> Path:
    fig, axes = plt.subplots(4, 2, figsize=(11, 13), sharex=True)
    for ax, (metric, title) in zip(axes.flat, TIMESERIES, strict=True):
        sub = tidy[tidy.metric == metric]
        for i, name in enumerate(names):
            g = sub[sub.scenario == name].groupby("year")["value"]
            med, lo, hi = g.median(), g.quantile(0.1), g.quantile(0.9)
            c = COLOURS[i % len(COLOURS)]
            ax.plot(med.index, med.values, color=c, label=name)
            ax.fill_between(med.index, lo.values, hi.values, color=c, alpha=0.2, linewidth=0)
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    axes.flat[0].legend(fontsize=8)
    fig.suptitle(f"Median and 10-90 % band over {over}")
    return _save(fig, path)


def tradeoff(tidy: pd.DataFrame, names: list[str], years: list[int], path: Path,
             over: str = "replications") -> Path:
    fig, ax = plt.subplots(figsize=(7, 5.5))
    markers = ("o", "s", "^", "D")
    wide = tidy[tidy.metric.isin(["cost_per_inhabitant", "quality"])].pivot_table(
        index=["scenario", "replication", "year"], columns="metric", values="value").reset_index()
    for i, name in enumerate(names):
        c = COLOURS[i % len(COLOURS)]
        for j, yr in enumerate(years):
            d = wide[(wide.scenario == name) & (wide.year == yr)]
            if d.empty:
                continue
            m = markers[j % len(markers)]
            ax.scatter(d.cost_per_inhabitant, d.quality, color=c, marker=m, alpha=0.3, s=15)
            x, y = d.cost_per_inhabitant, d.quality
            ax.errorbar(x.median(), y.median(),
                        xerr=[[x.median() - x.quantile(0.1)], [x.quantile(0.9) - x.median()]],
                        yerr=[[y.median() - y.quantile(0.1)], [y.quantile(0.9) - y.median()]],
                        color=c, marker=m, markersize=9, capsize=3, label=f"{name} {yr}")
    ax.set_xlabel("Cost per inhabitant (NOK/yr)")
    ax.set_ylabel("Quality (0-1)")
    ax.set_title(f"Cost vs quality (median, 10-90 % band; dots = {over})")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


def cocreation_matrix(tidy: pd.DataFrame, names: list[str], path: Path) -> Path:
    """The 3x3 matrix (production × design responsibility), mean share over run and
    replications, one panel per scenario."""
    fig, axes = plt.subplots(1, len(names), figsize=(3.8 * len(names) + 1, 4), squeeze=False,
                             layout="constrained")
    im = None
    for ax, name in zip(axes[0], names, strict=True):
        sub = tidy[(tidy.scenario == name) & tidy.metric.str.startswith("cell_prod_")]
        mean = sub.groupby("metric")["value"].mean()
        m = np.zeros((3, 3))
        for p, prod in enumerate(RESP):
            for d, des in enumerate(RESP):
                m[p, d] = mean.get(f"cell_prod_{prod}_design_{des}", np.nan)
        im = ax.imshow(m, cmap="viridis", vmin=0, vmax=1)
        for p in range(3):
            for d in range(3):
                ax.text(d, p, f"{m[p, d]:.2f}", ha="center", va="center",
                        color="white" if not m[p, d] > 0.6 else "black")
        ax.set_xticks(range(3), [r.replace("_", " ") for r in RESP], fontsize=8)
        ax.set_yticks(range(3), [r.replace("_", " ") for r in RESP], fontsize=8)
        ax.set_xlabel("design by")
        ax.set_ylabel("production by")
        ax.set_title(name, fontsize=10)
    fig.colorbar(im, ax=axes[0].tolist(), shrink=0.8, label="share of production")
    fig.suptitle("Co-creation matrix: share of production (mean over run)")
    return _save(fig, path)


def demography_index(scenario: Scenario, path: Path) -> Path | None:
    """The demography index figure of the (first) scenario, via the demography command."""
    from sim.cli.demography import KEYS, run_demography

    settings = {k: scenario.params[k] for k in KEYS}
    _, fig = run_demography(settings, None, False, path)
    return fig


def compare_figures(tidy: pd.DataFrame, names: list[str], scenarios: list[Scenario],
                    fig_dir: Path, over: str = "replications") -> dict[str, Path]:
    from sim.experiments.compare import headline_years

    figs = {"timeseries": timeseries(tidy, names, fig_dir / "timeseries.png", over),
            "tradeoff": tradeoff(tidy, names, headline_years(tidy), fig_dir / "tradeoff.png",
                                 over),
            "cocreation_matrix": cocreation_matrix(tidy, names,
                                                   fig_dir / "cocreation_matrix.png")}
    try:
        demo = demography_index(scenarios[0], fig_dir / "demography_index.png")
    except Exception:  # noqa: BLE001 - the report notes a missing figure, the rest stands
        demo = None
    if demo is not None:
        figs["demography_index"] = demo
    return figs


def bar_indices(table: pd.DataFrame, cols: tuple[str, str], errs: tuple[str | None, ...],
                title: str, path: Path, labels: tuple[str, str] | None = None) -> Path:
    """Horizontal bars of two index columns (e.g. S1 and ST) with their own 95 % confidence
    intervals; an ``errs`` entry of None draws that column without error bars (Morris σ has
    no interval)."""
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(table) + 1.5))
    y = np.arange(len(table))
    labels = labels or cols
    for k, (c, e) in enumerate(zip(cols, errs, strict=True)):
        ax.barh(y + (k - 0.5) * 0.38, table[c], 0.38,
                xerr=table[e] if e is not None else None, label=labels[k], capsize=2)
    ax.set_yticks(y, table.index)
    ax.invert_yaxis()
    ax.legend()
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3, axis="x")
    return _save(fig, path)


def win_shares(wins: pd.DataFrame, names: list[str], path: Path) -> Path:
    """Share of draws each scenario is best in, per headline metric and year, with the 90 %
    Wilson interval."""
    panels = list(wins.groupby(["metric", "year"], sort=False).groups)
    cols = min(2, len(panels)) or 1
    rows = int(np.ceil(len(panels) / cols)) or 1
    fig, axes = plt.subplots(rows, cols, figsize=(5.5 * cols, 0.5 * len(names) * rows + 2.2 * rows),
                             squeeze=False)
    for ax, (metric, year) in zip(axes.flat, panels, strict=False):
        t = wins[(wins.metric == metric) & (wins.year == year)].set_index("scenario")
        t = t.reindex(names)
        y = np.arange(len(names))
        share = t["win_share"].to_numpy()
        err = np.clip(np.vstack([share - t["win_low"].to_numpy(),
                                 t["win_high"].to_numpy() - share]), 0, None)
        ax.barh(y, share, color=[COLOURS[i % len(COLOURS)] for i in range(len(names))],
                xerr=err, capsize=3)
        ax.set_yticks(y, names, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.set_title(f"{metric} {year}: best in share of draws", fontsize=9)
        ax.grid(alpha=0.3, axis="x")
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    fig.suptitle("Share of plausible worlds (parameter draws) in which each scenario is best "
                 "(90 % Wilson interval)", fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def decisive_scatter(robust: dict, draws: pd.DataFrame, path: Path) -> Path | None:
    """For cost and quality in the last headline year: the paired difference runner-up −
    leader per draw against the most important parameter."""
    imp, dm = robust["importance"], robust["draw_means"]
    if imp.empty:
        return None
    year = int(imp["year"].max())
    panels = [m for m in ("cost_per_inhabitant", "quality")
              if not imp[(imp.metric == m) & (imp.year == year)].empty]
    if not panels:
        return None
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4.2), squeeze=False)
    for ax, metric in zip(axes[0], panels, strict=True):
        i = imp[(imp.metric == metric) & (imp.year == year)]
        top = i[i.parameter != "(random reference)"].iloc[0]
        lead, runner = i["leader"].iloc[0], i["runner_up"].iloc[0]
        sub = dm[(dm.metric == metric) & (dm.year == year)].pivot(
            index="draw", columns="scenario", values="value").dropna()
        x = draws.set_index("draw").loc[sub.index, top["parameter"]]
        d = sub[runner] - sub[lead]
        ax.scatter(x, d, s=18, color=COLOURS[0])
        ax.axhline(0, color="grey", lw=1)
        ax.set_xlabel(top["parameter"], fontsize=8)
        ax.set_ylabel(f"{runner} − {lead}", fontsize=8)
        ax.set_title(f"{metric} {year} (importance {top['importance']:.2f})", fontsize=9)
        ax.grid(alpha=0.3)
    fig.suptitle("Paired difference per draw against the most decisive parameter", fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def robustness_figures(robust: dict, draws: pd.DataFrame, names: list[str],
                       fig_dir: Path) -> dict[str, Path]:
    figs = {}
    if not robust["wins"].empty:
        figs["win_shares"] = win_shares(robust["wins"], names, fig_dir / "win_shares.png")
    d = decisive_scatter(robust, draws, fig_dir / "decisive.png")
    if d is not None:
        figs["decisive"] = d
    return figs
