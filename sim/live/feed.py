"""The live page's data feed: model state turned into one chart layout per Reset and small
per-frame deltas (only the months not yet sent), so the browser draws the charts itself and
each frame carries a few hundred bytes instead of an image.

Plain Python (no Solara): tested without a browser. ``Feed.spec()`` describes the panels once;
``Feed.delta()`` returns the new points since the last call (or ``None``); ``Feed.full()``
re-sends everything (a tab that lost track asks for it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.live import PARADIGM_LABELS, ticks_done
from sim.metrics import INDEX

LEVELS = ("professional", "joint", "civil_society")
LEVEL_LABELS = ["professional", "joint", "civil society"]
CELL_COLS = [INDEX[f"cell_prod_{p}_design_{d}"] for p in LEVELS for d in LEVELS]
PROCESS_COLOURS = ["#bbbbbb", "#1b9e77", "#377eb8", "#ff7f00", "#984ea3"]
PROCESS_LABELS = ["no co-creation", "thick", "thin", "thin (outside)", "civil-society-led"]

# (id, title, unit, [(metric, label), ...]); labels short enough for a 14 px legend at 1024 px
PANELS: list[tuple[str, str, str, list[tuple[str, str]]]] = [
    ("cost", "Cost per inhabitant", "NOK per year", [("cost_per_inhabitant", "cost")]),
    ("hours", "Need and help", "hours per month",
     [("need_hours", "need"), ("hours_professional", "professional"),
      ("hours_volunteer", "volunteer"), ("hours_informal", "family")]),
    ("outcomes", "Quality and coverage", "share (0-1)",
     [("coverage", "coverage"), ("quality", "quality"), ("satisfaction", "satisfaction")]),
    ("elderly", "The elderly wave", "inhabitants 80+", [("pop_80+", "aged 80+")]),
    ("fte", "Care staff needed", "full-time equivalents", [("fte_need", "FTE needed")]),
    ("volunteers", "Volunteers", "active volunteers", [("volunteers", "volunteers")]),
    ("equity", "Who takes part, who is served", "share (0-1)",
     [("participation_low_resource", "low-resource in co-creation"),
      ("participation_high_resource", "high-resource in co-creation"),
      ("coverage_gap_resource", "coverage gap high - low")]),
]
COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd"]
NETWORK_EVERY = 12  # months between network colour updates (yearly at most)


def _round(a: np.ndarray) -> list[float]:
    """Four significant digits: enough for a line on screen, short in JSON."""
    a = np.asarray(a, dtype=float)
    out = np.zeros_like(a)
    nz = np.isfinite(a) & (a != 0)
    mag = np.floor(np.log10(np.abs(a[nz])))
    scale = 10.0 ** (3 - mag)
    out[nz] = np.round(a[nz] * scale) / scale
    return [float(v) for v in out]


def paradigm_label(model) -> str:
    from sim.live import PARADIGMS

    w = model.scenario.paradigm.weights(float(model.start_year))
    name = PARADIGMS[int(np.argmax(w))]
    return PARADIGM_LABELS.get(name, name)


class Feed:
    """What the browser has been sent for one Reset: ``models`` run in lockstep (the second,
    if any, is the comparison); ``sample`` is the network sample of the first model."""

    def __init__(self, models: list, labels: list[str], sample=None, epoch: int = 0):
        self.models = models
        self.labels = labels
        self.sample = sample
        self.epoch = epoch
        self.sent = [0] * len(models)
        self.net_sent_at = -1
        self.seq = 0

    # ------------------------------------------------------------------ layout
    def spec(self) -> dict[str, Any]:
        m = self.models[0]
        panels = []
        for pid, title, unit, series in PANELS:
            panels.append({"id": pid, "title": title, "unit": unit,
                           "y_range": [0, 1] if pid == "outcomes" else None,
                           "series": [{"label": lab, "colour": COLOURS[k % len(COLOURS)]}
                                      for k, (_, lab) in enumerate(series)]})
        spec: dict[str, Any] = {
            "epoch": self.epoch, "x_min": int(m.start_year), "x_max": int(m.end_year) + 1,
            "runs": [{"label": lab, "dashed": k > 0} for k, lab in enumerate(self.labels)],
            "panels": panels, "levels": LEVEL_LABELS,
            "process_colours": PROCESS_COLOURS, "process_labels": PROCESS_LABELS,
        }
        if self.sample is not None:
            nodes, g, pos = self.sample
            index = {int(n): i for i, n in enumerate(nodes)}
            xy = np.array([pos[int(n)] for n in nodes]) if len(nodes) else np.zeros((0, 2))
            spec["network"] = {
                "xy": [[round(float(x), 3), round(float(y), 3)] for x, y in xy],
                "edges": [[index[int(a)], index[int(b)]] for a, b in g.edges()],
            }
        return spec

    # ------------------------------------------------------------------ data
    def _points(self, k: int, start: int, stop: int) -> dict[str, Any]:
        r = self.models[k].results[start:stop]
        x = r[:, INDEX["year"]] + (r[:, INDEX["month"]] - 1) / 12.0
        ys = [[_round(r[:, INDEX[metric]]) for metric, _ in series]
              for _, _, _, series in PANELS]
        return {"start": start, "x": [round(float(v), 3) for v in x], "y": ys}

    def matrix(self, k: int = 0) -> list[list[float]]:
        """Share of all need-hours delivered so far per co-creation cell, rows = production,
        columns = design (the cell metrics are shares of each month's delivered hours)."""
        m = self.models[k]
        t = ticks_done(m)
        r = m.results[:t]
        hours = (r[:, CELL_COLS] * r[:, [INDEX["hours_delivered"]]]).sum(axis=0)
        total = float(hours.sum())
        shares = hours / total if total > 0 else hours * 0.0
        return [[round(float(v), 4) for v in row] for row in shares.reshape(3, 3)]

    def network(self) -> dict[str, Any] | None:
        """Need-hours this month and co-creation process of each sampled citizen."""
        if self.sample is None:
            return None
        m = self.models[0]
        nodes = self.sample[0]
        c = m.citizens
        alive = c.alive[nodes]
        need = [round(float(sum(m.needs_of(int(n)).values())), 1) if a else -1.0
                for n, a in zip(nodes, alive, strict=True)]
        return {"need": need, "process": c.process[nodes].astype(int).tolist()}

    def status(self) -> list[dict[str, Any]]:
        from sim.live import status

        out = []
        for m, lab in zip(self.models, self.labels, strict=True):
            s = status(m)
            out.append({"label": lab, "running": bool(m.running),
                        **{k: (float(v) if isinstance(v, float | np.floating) else v)
                           for k, v in s.items()
                           if k in ("tick", "year", "month", "population",
                                    "cost_per_inhabitant", "coverage", "quality",
                                    "satisfaction", "fte_need", "volunteers")}})
        return out

    def _frame(self, full: bool) -> dict[str, Any] | None:
        done = [ticks_done(m) for m in self.models]
        starts = [0] * len(done) if full else self.sent
        if not full and done == self.sent:
            return None
        self.seq += 1
        frame: dict[str, Any] = {
            "epoch": self.epoch, "seq": self.seq, "full": full,
            "runs": [self._points(k, starts[k], done[k]) for k in range(len(done))],
            "matrix": self.matrix(0), "status": self.status(),
        }
        t = done[0]
        if full or self.net_sent_at < 0 or t - self.net_sent_at >= NETWORK_EVERY:
            frame["network"] = self.network()
            self.net_sent_at = t
        self.sent = done
        return frame

    def delta(self) -> dict[str, Any] | None:
        """The months run since the last frame (``None`` if there are none)."""
        return self._frame(full=False)

    def full(self) -> dict[str, Any]:
        """Everything so far (after a Reset, or for a tab that missed a frame)."""
        frame = self._frame(full=True)
        assert frame is not None
        return frame
