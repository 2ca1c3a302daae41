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
    from matplotlib.collections import LineCollection

    segs = [(pos[a], pos[b]) for a, b in g.edges()]
    if segs:
        ax.add_collection(LineCollection(segs, colors="#cccccc", linewidths=0.4, zorder=1))
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


class MainFigure:
    """All live plots for one model (3x3 grid), built once and updated in place: a redraw
    costs one Agg draw, not the creation of ten axes."""

    SERIES = [  # (panel, metrics, labels, title, unit)
        ((0, 0), ["cost_per_inhabitant"], [None], "Cost per inhabitant", "NOK/year"),
        ((0, 1), ["need_hours", "hours_professional", "hours_volunteer", "hours_informal"],
         ["demand (need-hours)", "professional", "volunteer", "informal"],
         "Demand vs delivered hours by source", "hours/month"),
        ((0, 2), ["quality", "satisfaction", "coverage"], ["quality", "satisfaction", "coverage"],
         "Quality, satisfaction, coverage", "0-1"),
        ((1, 0), ["fte_need"], [None], "Care FTE needed", "FTE"),
        ((1, 1), ["hours_volunteer"], [None], "Volunteer hours", "hours/month"),
        ((1, 2), ["coverage_gap_resource", "coverage_gini"],
         ["coverage gap high-low resources", "Gini of coverage"], "Inequality", ""),
    ]

    def __init__(self, model, sample, figsize=(15, 11), dpi=60):
        self.model, self.sample = model, sample
        self.fig = Figure(figsize=figsize, dpi=dpi)
        self.fig.subplots_adjust(left=0.06, right=0.98, bottom=0.04, top=0.97, wspace=0.25,
                                 hspace=0.3)
        gs = self.fig.add_gridspec(3, 3)
        self.lines = []
        for (r, c), names, labels, title, unit in self.SERIES:
            ax = self.fig.add_subplot(gs[r, c])
            arts = [ax.plot([], [], lw=1.4, label=lab)[0] for lab in labels]
            _time_axis(ax, model, title, unit)
            if labels[0]:
                ax.legend(fontsize=7, loc="upper left")
            self.lines.append((ax, names, arts))
        self.heat_ax = self.fig.add_subplot(gs[2, 0])
        self.net_ax = self.fig.add_subplot(gs[2, 1:])

    def update(self) -> Figure:
        model = self.model
        for ax, names, arts in self.lines:
            x, ys = _series(model, *names)
            for art, y in zip(arts, ys, strict=True):
                art.set_data(x, y)
            if len(x):
                lo = min(float(y.min()) for y in ys)
                hi = max(float(y.max()) for y in ys)
                pad = 0.05 * (hi - lo) or 0.05 * abs(hi) or 1.0
                ax.set_ylim(lo - pad, hi + pad)
        self.heat_ax.clear()
        heatmap(self.heat_ax, model)
        self.net_ax.clear()
        network(self.net_ax, model, self.sample)
        return self.fig


def main_figure(model, sample) -> Figure:
    """All live plots for one model (a new figure; see MainFigure to redraw in place)."""
    return MainFigure(model, sample).update()


def compare_figure(a, b) -> Figure:
    """Two runs on the same seed side by side: key metrics overlaid and both matrices."""
    fig = Figure(figsize=(15, 8), dpi=60)
    fig.subplots_adjust(left=0.05, right=0.98, bottom=0.06, top=0.95, wspace=0.3, hspace=0.3)
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
    return fig


def _name(model) -> str:
    from sim.live import PARADIGMS

    w = model.scenario.paradigm.weights(float(model.start_year))
    return PARADIGMS[int(np.argmax(w))]
