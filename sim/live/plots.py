"""The live page's plots as matplotlib figures (object API, no pyplot: safe per browser tab
and with the Agg backend for ``welfare-sim animate``)."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from sim.live import PARADIGM_LABELS, ticks_done
from sim.metrics import METRIC_NAMES

COL = {name: i for i, name in enumerate(METRIC_NAMES)}
LEVELS = ("professional", "joint", "civil_society")
LEVEL_LABELS = ("professional", "joint", "civil society")
CELL_COLS = [COL[f"cell_prod_{p}_design_{d}"] for p in LEVELS for d in LEVELS]
PROCESS_COLOURS = ["#bbbbbb", "#1b9e77", "#377eb8", "#ff7f00", "#984ea3"]
PROCESS_LABELS = ["no co-creation", "thick", "thin", "thin (outside)", "civil-society-led"]


def _series(model, *names):
    t = ticks_done(model)
    r = model.results[:t]
    x = r[:, COL["year"]] + (r[:, COL["month"]] - 1) / 12.0
    return x, [r[:, COL[n]] for n in names]


def _time_axis(ax, model, title, ylabel=""):
    ax.set_xlim(model.start_year, model.end_year + 1)
    ax.set_title(title, fontsize=9)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)


def _lines(ax, model, names, labels, title, ylabel="", style="-", colours=None, legend=True):
    x, ys = _series(model, *names)
    for i, (y, lab) in enumerate(zip(ys, labels, strict=True)):
        ax.plot(x, y, style, lw=1.4, label=lab, color=None if colours is None else colours[i])
    _time_axis(ax, model, title, ylabel)
    if legend and len(ys) > 1 or (legend and labels[0]):
        ax.legend(fontsize=7, loc="best")


def matrix_hours(model) -> np.ndarray:
    """Cumulative need-hours per co-creation matrix cell (rows production, cols design)."""
    t = ticks_done(model)
    return model.results[:t, CELL_COLS].sum(axis=0).reshape(3, 3)


def heatmap(ax, model, title="Co-creation matrix: hours delivered (cumulative)"):
    m = matrix_hours(model)
    ax.imshow(m, cmap="YlGnBu", vmin=0, vmax=max(float(m.max()), 1.0))
    ax.set_xticks(range(3), LEVEL_LABELS, fontsize=7)
    ax.set_yticks(range(3), LEVEL_LABELS, fontsize=7)
    ax.set_xlabel("design", fontsize=8)
    ax.set_ylabel("production", fontsize=8)
    ax.set_title(title, fontsize=9)
    total = max(float(m.sum()), 1.0)
    for i in range(3):
        for j in range(3):
            ax.text(j, i, f"{m[i, j] / total:.0%}", ha="center", va="center", fontsize=8,
                    color="black" if m[i, j] < 0.6 * m.max() else "white")


def network(ax, model, sample):
    """The sampled citizens: fill = need-hours this month, ring = co-creation process."""
    nodes, g, pos = sample
    c = model.citizens
    alive = c.alive[nodes]
    need = np.array([sum(model.needs_of(int(n)).values()) if a else 0.0
                     for n, a in zip(nodes, alive, strict=True)])
    proc = c.process[nodes].astype(int)
    xy = np.array([pos[int(n)] for n in nodes])
    for a, b in g.edges():
        pa, pb = pos[a], pos[b]
        ax.plot([pa[0], pb[0]], [pa[1], pb[1]], color="#cccccc", lw=0.4, zorder=1)
    ax.scatter(xy[~alive, 0], xy[~alive, 1], marker="x", c="#999999", s=12, zorder=2)
    sc = ax.scatter(xy[alive, 0], xy[alive, 1], c=need[alive], cmap="Reds", vmin=0,
                    vmax=max(float(need.max()), 10.0), s=28, zorder=3,
                    edgecolors=[PROCESS_COLOURS[p] for p in proc[alive]], linewidths=1.6)
    ax.set_xticks([])
    ax.set_yticks([])
    n_part = int(((proc > 0) & alive).sum())
    ax.set_title(f"Network sample ({len(nodes)} citizens): fill = need, ring = "
                 f"co-creation ({n_part} taking part)", fontsize=9)
    for p, lab in enumerate(PROCESS_LABELS):
        ax.scatter([], [], facecolors="white", edgecolors=PROCESS_COLOURS[p], linewidths=1.6,
                   s=28, label=lab)
    ax.legend(fontsize=6, loc="lower left", framealpha=0.7)
    return sc


def main_figure(model, sample, fig: Figure | None = None) -> Figure:
    """All live plots for one model (3x3 grid)."""
    fig = fig or Figure(figsize=(15, 11), dpi=72)
    fig.clear()
    ax = fig.subplots(3, 3)
    _lines(ax[0, 0], model, ["cost_per_inhabitant"], [""], "Cost per inhabitant",
           "NOK/year", legend=False)
    _lines(ax[0, 1], model, ["need_hours", "hours_professional", "hours_volunteer",
                             "hours_informal"],
           ["demand (need-hours)", "professional", "volunteer", "informal"],
           "Demand vs delivered hours by source", "hours/month")
    _lines(ax[0, 2], model, ["quality", "satisfaction", "coverage"],
           ["quality", "satisfaction", "coverage"], "Quality, satisfaction, coverage", "0-1")
    _lines(ax[1, 0], model, ["fte_need"], [""], "Care FTE needed", "FTE", legend=False)
    _lines(ax[1, 1], model, ["hours_volunteer"], [""], "Volunteer hours", "hours/month",
           legend=False)
    _lines(ax[1, 2], model, ["coverage_gap_resource", "coverage_gini"],
           ["coverage gap high-low resources", "Gini of coverage"], "Inequality")
    heatmap(ax[2, 0], model)
    fig.delaxes(ax[2, 1])
    fig.delaxes(ax[2, 2])
    net_ax = fig.add_subplot(3, 3, (8, 9))
    network(net_ax, model, sample)
    fig.tight_layout()
    return fig


def compare_figure(a, b, fig: Figure | None = None) -> Figure:
    """Two runs on the same seed side by side: key metrics overlaid and both matrices."""
    fig = fig or Figure(figsize=(15, 8), dpi=72)
    fig.clear()
    ax = fig.subplots(2, 4)
    la = PARADIGM_LABELS.get(_name(a), _name(a))
    lb = PARADIGM_LABELS.get(_name(b), _name(b))
    panels = [("cost_per_inhabitant", "Cost per inhabitant (NOK/yr)"),
              ("coverage", "Coverage"), ("quality", "Quality"),
              ("satisfaction", "Satisfaction"), ("hours_volunteer", "Volunteer hours/month"),
              ("coverage_gap_resource", "Coverage gap high-low resources")]
    for k, (name, title) in enumerate(panels):
        axk = ax.flat[k]
        for model, lab, col in ((a, la, "#d95f02"), (b, lb, "#1b9e77")):
            x, (y,) = _series(model, name)
            axk.plot(x, y, lw=1.4, label=lab, color=col)
        _time_axis(axk, a, title)
        axk.legend(fontsize=7)
    heatmap(ax[1, 2], a, f"Matrix: {la}")
    heatmap(ax[1, 3], b, f"Matrix: {lb}")
    fig.tight_layout()
    return fig


def _name(model) -> str:
    from sim.live import PARADIGMS

    w = model.scenario.paradigm.weights(float(model.start_year))
    return PARADIGMS[int(np.argmax(w))]
