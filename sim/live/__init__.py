"""UI-free helpers of the live page (``sim/app.py``) and of ``welfare-sim animate``.

Nothing here imports Solara: the session logic and the figures are plain Python/matplotlib,
so they are tested without a browser. The model never imports this package.
"""

from __future__ import annotations

import functools
import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from sim.errors import InputError

PARADIGMS = ("traditional", "npm", "network_governance")
PARADIGM_LABELS = {"traditional": "Traditional", "npm": "NPM",
                   "network_governance": "Network governance"}
DEMOGRAPHY = ("MMMM", "LLML", "HHMH")
MAX_SCALE = 0.25  # classroom cap: a quarter of Indre Østfold (~11,000 agents)
MIN_SCALE = 0.005
MAX_AGENTS = 25_000  # agents per model on the page, whatever the municipality's size
NETWORK_SAMPLE = 150
TRANSITION_YEARS = 5

DEFAULT_SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "classroom.toml"
SCENARIO_ENV = "WELFARE_SIM_LIVE_SCENARIO"


def scenario_path() -> Path:
    """The scenario the page starts from (set by ``welfare-sim live``)."""
    return Path(os.environ.get(SCENARIO_ENV) or DEFAULT_SCENARIO)


@dataclass(frozen=True)
class LiveParams:
    """Everything a teacher can set on the page; applied on Reset."""

    paradigm: str = "traditional"
    transition_to: str = "none"  # or a paradigm: gradual switch over TRANSITION_YEARS
    transition_year: int = 2030
    thick_share: float | None = None
    facilitator_fte: float | None = None
    targeting: bool | None = None
    volunteer_share: float | None = None
    budget_growth: float | None = None
    demography: str | None = None
    seed: int | None = None
    scale: float | None = None

    def with_(self, **kw: Any) -> LiveParams:
        return replace(self, **kw)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_SLIDER_KEYS = {
    "thick_share": "cocreation.thick_share",
    "facilitator_fte": "cocreation.facilitator_fte_per_10000",
    "targeting": "cocreation.targeting",
    "volunteer_share": "volunteers.initial_share_of_adults",
    "budget_growth": "finance.budget_growth_per_year",
    "demography": "demography.alternative",
    "scale": "run.population_scale",
}

_SCENARIO_CACHE: dict[str, Any] = {}


def base_scenario(path: Path | str | None = None):
    """The scenario file, loaded once per process (read-only, shared is safe)."""
    from sim.scenario import load_scenario

    key = str(path or scenario_path())
    if key not in _SCENARIO_CACHE:
        _SCENARIO_CACHE[key] = load_scenario(key)
    return _SCENARIO_CACHE[key]


def population(scenario) -> float:
    """Inhabitants of the scenario's municipality in its start year."""
    return _population(str(scenario.value("run.municipality")),
                       int(scenario.value("run.start_year")))


@functools.cache
def _population(municipality: str, year: int) -> float:
    from sim.demography.data import load_base_population

    return float(load_base_population(municipality, year).sum())


def max_scale(scenario) -> float:
    """The largest population scale the page allows for this scenario: the fraction cap and
    the agent cap (:data:`MAX_AGENTS`), so a national scenario is not built at 1:4."""
    pop = population(scenario)
    return min(MAX_SCALE, MAX_AGENTS / pop) if pop > 0 else MAX_SCALE


def check_scenario(scenario, path: Path | str) -> None:
    """Refuse at start a scenario the page cannot run (every tab would fail)."""
    scale = float(scenario.value("run.population_scale"))
    top = max_scale(scenario)
    if top < MIN_SCALE:
        raise InputError(
            f"{path}: the live page runs at most {MAX_AGENTS:,} agents, and "
            f"{scenario.value('run.municipality')} ({population(scenario):,.0f} inhabitants) "
            f"has {population(scenario) * MIN_SCALE:,.0f} even at the page's smallest scale "
            f"{MIN_SCALE:g}. Expected a smaller municipality for the live page; use "
            "welfare-sim run for this one.")
    if scale < MIN_SCALE:
        raise InputError(
            f"{path}, key 'run.population_scale': {scale:g} is below the live page's minimum "
            f"{MIN_SCALE:g}. Expected a population scale between {MIN_SCALE:g} and {top:.3g} "
            "for the live page; use welfare-sim run for other scales.")


def defaults_from(scenario) -> LiveParams:
    """The page's starting values: the scenario's own values."""
    vals = {k: scenario.value(v) for k, v in _SLIDER_KEYS.items()}
    vals["scale"] = max(MIN_SCALE, min(float(vals["scale"]), max_scale(scenario)))
    w = scenario.paradigm.weights(float(scenario.value("run.start_year")))
    paradigm = PARADIGMS[int(np.argmax(w))]
    return LiveParams(paradigm=paradigm, seed=int(scenario.seed), **vals)


def overrides(p: LiveParams, start_year: int, end_year: int) -> dict[str, Any]:
    """Scenario overrides for the page's values; raises InputError on bad input."""
    if p.paradigm not in PARADIGMS:
        raise InputError(f"paradigm {p.paradigm!r}: expected one of {', '.join(PARADIGMS)}.")
    if p.scale is not None and not (MIN_SCALE <= float(p.scale) <= MAX_SCALE):
        raise InputError(f"population scale {p.scale}: the live page allows {MIN_SCALE} to "
                         f"{MAX_SCALE} of the municipality (use `welfare-sim run` for more).")
    if p.seed is not None and int(p.seed) < 0:
        raise InputError(f"seed {p.seed}: expected a whole number ≥ 0.")
    out: dict[str, Any] = {}
    if p.transition_to not in ("none", "", None, p.paradigm):
        if p.transition_to not in PARADIGMS:
            raise InputError(f"transition to {p.transition_to!r}: expected one of "
                             f"{', '.join(PARADIGMS)}.")
        y0 = int(p.transition_year)
        if not (start_year <= y0 < end_year):
            raise InputError(f"transition year {y0}: expected {start_year}-{end_year - 1}.")
        out["paradigm"] = {"from": p.paradigm, "to": p.transition_to, "start": y0,
                           "end": min(y0 + TRANSITION_YEARS, end_year)}
    else:
        out["paradigm"] = p.paradigm
    for attr, key in _SLIDER_KEYS.items():
        v = getattr(p, attr)
        if v is None:
            continue
        if attr == "targeting":
            v = bool(v)
        elif attr == "demography":
            v = str(v)
        else:
            v = float(v)
        out[key] = v
    return out


def build_model(p: LiveParams, path: Path | str | None = None):
    """A fresh WelfareModel for the page's values (validated; InputError on bad values)."""
    from sim.model import WelfareModel

    sc = base_scenario(path)
    start, end = int(sc.value("run.start_year")), int(sc.value("run.end_year"))
    sc = sc.with_overrides(overrides(p, start, end), source="live page")
    agents = population(sc) * float(sc.value("run.population_scale"))
    if p.scale is not None and agents > MAX_AGENTS * 1.01:
        raise InputError(f"population scale {p.scale}: {agents:,.0f} agents; the live page "
                         f"runs at most {MAX_AGENTS:,} (scale {max_scale(sc):.3g} here). Use "
                         "`welfare-sim run` for more.")
    return WelfareModel(sc, None if p.seed is None else int(p.seed))


def network_sample(model, n: int = NETWORK_SAMPLE, seed: int = 0):
    """A fixed snowball sample of living citizens (so ties show), its sub-network and layout."""
    import networkx as nx

    alive = np.flatnonzero(model.citizens.alive)
    rng = np.random.default_rng(seed)
    full = model.net.to_networkx(alive)
    chosen: list[int] = []
    seen: set[int] = set()
    for start in rng.permutation(alive):
        if len(chosen) >= n:
            break
        if int(start) in seen:
            continue
        for node in nx.bfs_tree(full, int(start), depth_limit=2):
            if node not in seen and len(chosen) < n and len(chosen) < (len(chosen) // 25 + 1) * 25:
                seen.add(node)
                chosen.append(node)
    nodes = np.array(sorted(chosen), dtype=np.int64)
    g = full.subgraph(nodes.tolist()).copy()
    pos = nx.spring_layout(g, seed=seed, iterations=40)
    return nodes, g, pos


def pool_key(path: Path | str | None = None) -> tuple[str, LiveParams]:
    """The settings a fresh tab starts with (what the spare-model pool builds)."""
    key = str(path or scenario_path())
    return key, defaults_from(base_scenario(key))


def session_parts(key: tuple[str, LiveParams]):
    """A model and its network sample for ``key`` = (scenario path, page values)."""
    path, params = key
    model = build_model(params, path)
    return model, network_sample(model)


class Session:
    """One browser tab's state: its own model (and, with "Compare with", a second one run in
    lockstep on the same seed) and the feed of what its charts have been sent."""

    def __init__(self, params: LiveParams | None = None, path: Path | str | None = None,
                 pool=None):
        self.path = path
        self.pool = pool
        self.params = params or defaults_from(base_scenario(path))
        self.compare_to = "none"
        self.model = None
        self.other = None
        self.error: str | None = None
        self.epoch = 0
        self.reset(self.params)

    def _parts(self, params: LiveParams):
        key = (str(self.path or scenario_path()), params)
        if self.pool is not None and key == pool_key(self.path):
            return self.pool.take(key)
        return session_parts(key)

    def reset(self, params: LiveParams | None = None, compare_to: str | None = None) -> bool:
        """Build new model(s) from ``params``; keeps the old ones and sets .error if invalid."""
        from sim.live.feed import Feed

        params = params or self.params
        compare_to = self.compare_to if compare_to is None else compare_to
        try:
            model, net = self._parts(params)
            other = None
            if compare_to in PARADIGMS:
                other = build_model(params.with_(paradigm=compare_to, transition_to="none"),
                                    self.path)
        except InputError as exc:
            self.error = str(exc)
            return False
        self.params, self.compare_to, self.model, self.other = params, compare_to, model, other
        self.net = net
        self._figure = None
        self.error = None
        self.epoch += 1
        labels = [run_label(params)] + ([PARADIGM_LABELS[compare_to]] if other else [])
        self.feed = Feed([m for m in (model, other) if m is not None], labels, net, self.epoch)
        return True

    def figure(self):
        """The main matplotlib figure (``welfare-sim animate``), updated to the current month."""
        from sim.live.plots import MainFigure

        if self._figure is None or self._figure.model is not self.model:
            self._figure = MainFigure(self.model, self.net)
        return self._figure.update()

    def compare_figure(self):
        from sim.live.plots import compare_figure

        return compare_figure(self.model, self.other)

    @property
    def running(self) -> bool:
        return bool(self.model.running)

    def step(self, n: int = 1) -> int:
        """Advance n months (both models in compare view); returns the months run."""
        done = 0
        for _ in range(n):
            if not self.model.running:
                break
            self.model.step()
            if self.other is not None and self.other.running:
                self.other.step()
            done += 1
        return done


def run_label(p: LiveParams) -> str:
    """'Traditional', or 'NPM → Network governance (2030)' for a transition."""
    head = PARADIGM_LABELS.get(p.paradigm, p.paradigm)
    if p.transition_to in PARADIGMS and p.transition_to != p.paradigm:
        return f"{head} → {PARADIGM_LABELS[p.transition_to]} ({int(p.transition_year)})"
    return head


def pending_changes(applied: LiveParams, pending: LiveParams, applied_compare: str,
                    pending_compare: str) -> list[str]:
    """Human-readable list of the controls changed since the last Reset."""
    names = {"paradigm": "paradigm", "transition_to": "transition", "transition_year":
             "transition year", "thick_share": "thick share", "facilitator_fte":
             "facilitators", "targeting": "targeting", "volunteer_share": "volunteers",
             "budget_growth": "budget growth", "demography": "demography", "seed": "seed",
             "scale": "population scale"}
    a, b = applied.as_dict(), pending.as_dict()
    out = [names[k] for k in names if a[k] != b[k]]
    if applied_compare != pending_compare:
        out.append("compare with")
    return out


# ------------------------------------------------------------------ figures / text
def ticks_done(model) -> int:
    return int(min(model.steps, model.n_ticks))


def status(model) -> dict[str, Any]:
    """Key numbers of the last month run (the page's text panel and the browser test)."""
    from sim.metrics import METRIC_NAMES

    t = ticks_done(model)
    if t == 0:
        return {"tick": 0, "year": model.start_year, "month": 0}
    row = dict(zip(METRIC_NAMES, model.results[t - 1].tolist(), strict=True))
    return {**row, "tick": t, "year": int(row["year"]), "month": int(row["month"])}


def status_text(model, label: str = "") -> str:
    s = status(model)
    head = f"{label}: " if label else ""
    if s["tick"] == 0:
        return f"{head}{s['year']}, not started (press Step or Play)"
    return (f"{head}{s['year']}-{s['month']:02d} (month {s['tick']}) · "
            f"population {s['population']:,.0f} · cost per inhabitant "
            f"{s['cost_per_inhabitant']:,.0f} NOK/yr · coverage {s['coverage']:.1%} · "
            f"quality {s['quality']:.3f} · satisfaction {s['satisfaction']:.3f} · "
            f"FTE need {s['fte_need']:,.0f} · volunteer hours {s['hours_volunteer']:,.0f}/month")
