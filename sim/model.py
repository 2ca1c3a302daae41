"""The municipality: one Mesa model, read top-down.

``WelfareModel(scenario, seed)`` builds a population from SSB data, a social network,
volunteers and a workforce, then ``step()`` runs one month in the order written in
:meth:`WelfareModel.step`. State lives in numpy arrays (``citizens``, ``professionals``,
``volunteers``, ``ideas``); the Mesa agents in ``model.agents_by_type`` are views on them.
"""

from __future__ import annotations

import functools
import os
import time
import zlib
from collections import defaultdict
from contextlib import contextmanager
from typing import Any

import mesa
import numpy as np

from sim.agents import Citizen, Professional, Volunteer
from sim.arrays import ArrayStore
from sim.demography import Demography, Projection, load_base_population
from sim.mechanisms import (
    allocation,
    cocreation,
    finance,
    innovation,
    needs,
    outcomes,
    volunteers,
    workforce,
)
from sim.mechanisms.base import DOMAINS, INFORMAL_DOMAINS, NG, TickState, stochastic_round
from sim.metrics import AGE_GROUPS, METRIC_NAMES, collect
from sim.metrics import INDEX as METRIC_INDEX
from sim.network import Network
from sim.scenario import Scenario

CITIZEN_FIELDS = {
    "age_months": (np.int16, 0), "sex": (np.int8, 0), "alive": (bool, False),
    "frailty": (np.float32, 1.0), "frailty_child": (np.float32, 1.0),
    "frailty_young": (np.float64, 1.0), "dementia_q": (np.float32, 1.0),
    "resources": (np.float32, 0.5), "cultural": (np.float32, 0.0),
    "niche0": (np.float32, 0.0), "burden": (np.float32, 0.0),
    "expectation": (np.float32, 0.6), "satisfaction": (np.float32, 0.5),
    "trust": (np.float32, 0.6), "route_q": (np.float32, 0.0), "wait": (np.int16, 0),
    "process": (np.int8, 0), "process_months": (np.int16, 0), "resident": (bool, False),
    "volunteer": (np.int64, -1), "case_pro": (np.int64, -1),
    "coverage": (np.float32, 0.0), "quality": (np.float32, 0.0),
}
PROFESSIONAL_FIELDS = {"active": (bool, False), "sick": (bool, False),
                       "strain": (np.float32, 0.0), "hired": (np.int32, 0)}
VOLUNTEER_FIELDS = {"person": (np.int64, 0), "active": (bool, False),
                    "motivation": (np.float32, 0.0), "intrinsic": (np.float32, 0.0),
                    "hours": (np.float32, 0.0)}
IDEA_FIELDS = {"stage": (np.int8, 0), "radical": (bool, False), "kind": (np.int8, 0),
               "timer": (np.int16, 0), "born": (np.int32, 0)}
STREAMS = ("demography", "population", "network", "cocreation", "volunteers", "workforce",
           "innovation", "rounding")


def stream(seed: int, name: str) -> np.random.Generator:
    """An independent random stream per mechanism: common random numbers across scenarios."""
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(name.encode())]))


# the metrics the Mesa DataCollector records each month (all are in model.table())
COLLECTED = ("year", "month", "population", "share_80plus", "need_hours", "hours_delivered",
             "coverage", "quality", "satisfaction", "cost_per_inhabitant", "fte_per_1000",
             "hours_volunteer", "fiscal_gap")


def _metric(model: WelfareModel, name: str) -> float | int:
    """The latest month's value of a metric (a DataCollector reporter; picklable)."""
    row = max(min(model.steps, model.n_ticks) - 1, 0)
    value = float(model.results[row, METRIC_INDEX[name]])
    return int(value) if name in ("year", "month") else value


def _as_scenario(scenario: Scenario | str | os.PathLike | None,
                 overrides: dict[str, Any]) -> Scenario:
    from sim.scenario import load_scenario

    if scenario is None:
        scenario = "classroom.toml"
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    if overrides:
        scenario = scenario.with_overrides({k.replace("__", "."): v
                                            for k, v in overrides.items()},
                                           source="WelfareModel keyword arguments")
    return scenario


class WelfareModel(mesa.Model):
    """A municipality's welfare services under a paradigm schedule, month by month."""

    def __init__(self, scenario: Scenario | str | os.PathLike | None = None,
                 seed: int | None = None, **overrides: Any) -> None:
        """``scenario``: a :class:`Scenario`, a scenario file or bundled name (default: the
        bundled classroom scenario); ``seed``: the random seed (default: the scenario's);
        ``overrides``: registry parameters by name, e.g. ``**{"cocreation.thick_share": 0.4}``
        or as keywords with ``__`` for the dot (``cocreation__thick_share=0.4``), and
        ``paradigm="npm"``. So ``mesa.batch_run(WelfareModel, parameters={...})`` works."""
        scenario = _as_scenario(scenario, overrides)
        seed = scenario.seed if seed is None else int(seed)
        super().__init__(rng=seed)
        self.scenario, self.seed = scenario, seed
        self.start_year = int(scenario.value("run.start_year"))
        self.end_year = int(scenario.value("run.end_year"))
        self.n_ticks = (self.end_year - self.start_year + 1) * 12
        self.year, self.month = self.start_year, 1
        self.pars = scenario.at_year(self.start_year)
        self.scale = float(self.pars["run.population_scale"])
        # professionals are one agent per FTE whatever the population scale (they are few, and
        # a whole agent of 20 FTE at 1:20 made staffing lumpy: unmet need, and through the
        # health feedback more need, rose with the lumps); an agent's hours count at the
        # citizens' scale, so one professional is ``scale`` agent-scale FTE
        self.fte_per_professional = self.scale
        self.rng = {name: stream(seed, name) for name in STREAMS}
        self.timings: dict[str, float] = defaultdict(float)
        self.results = np.zeros((self.n_ticks, len(METRIC_NAMES)))
        self.last_tick: TickState | None = None

        # array state
        self.citizens = ArrayStore(CITIZEN_FIELDS)
        self.professionals = ArrayStore(PROFESSIONAL_FIELDS)
        self.volunteers = ArrayStore(VOLUNTEER_FIELDS)
        self.ideas = ArrayStore(IDEA_FIELDS)
        # Mesa agent objects are made on access (see materialise_agents): slot -> agent
        self._agent_maps: dict[type, dict[int, mesa.Agent]] = {
            Citizen: {}, Professional: {}, Volunteer: {}}
        self.productivity, self.fit_bonus, self.mean_strain = 1.0, 0.0, 0.0
        self.residents, self.affordable_fte = 0, np.inf
        # yearly accumulators: the budget's overruns and the nursing-home waiting list
        self.year_cost_sum = self.year_budget_sum = 0.0
        self.year_waiting_sum, self.year_waiting_months = 0.0, 0
        self.overruns: list[float] = []
        self.budget_repayment = 0.0  # NOK/year taken off this year's budget
        self.places_carry = 0.0  # fraction of a nursing-home place carried to next year
        self.home_fte_need = 0.0  # home-based FTE last month's demand called for
        self.year_home_fte_need_sum = 0.0  # ... summed over this year's months (for places)

        # population from SSB data (demography)
        projection = Projection.load(round=int(self.pars["demography.projection_round"]),
                                     alternative=str(self.pars["demography.alternative"]))
        self.demography = Demography(projection, rng=self.rng["demography"])
        base = load_base_population(self.pars["run.municipality"], year=self.start_year)
        age_m, sex = self.demography.initial_population(base, scale=self.scale)
        slots = self.citizens.add(len(age_m), age_months=age_m, sex=sex, alive=True)
        self._init_citizens(slots, immigrants=False)
        self._refresh_yearly()

        # the social network
        self.net = Network()
        c = self.citizens
        self.net.build(self.rng["network"], c.age_months / 12.0, c.resources, self.pars)
        # number the citizens in the neighbourhood ring's order (households together), so that
        # about half the ties join nearby slots and the monthly sparse products read memory
        # more in order (at national scale the expectation product takes a fifth less time,
        # for about 4 s of setup); a pure renaming of who is who
        order = self.net.ring_order
        new_of_old = np.empty(c.n, dtype=np.int64)
        new_of_old[order] = np.arange(c.n)
        c.permute(order)
        self.net.relabel(new_of_old)
        self.net.rebuild(c.n, c.alive)
        self._refresh_slot_tables()

        # volunteers and the initial workforce, sized to the start-year demand
        adults = np.flatnonzero(c.alive & (c.age_months >= 240) & (c.age_months < 85 * 12))
        volunteers.recruit(self, int(round(len(adults) * self.pars[
            "volunteers.initial_share_of_adults"])), self.rng["volunteers"], self.pars)
        self._initial_workforce()
        self.running = True
        # Mesa's DataCollector with the key metrics of each month (mesa.batch_run reads it)
        self.datacollector = mesa.DataCollector(model_reporters={
            name: functools.partial(_metric, name=name) for name in COLLECTED})

    # ------------------------------------------------------------------ the month
    def step(self) -> None:
        """One month. The order of the phases is the model's schedule."""
        if self.steps > self.n_ticks:  # Mesa counts steps from 1
            self.running = False
            return
        if self.month == 1 and self.steps > 1:
            self._refresh_yearly()
        t = self.year + (self.month - 1) / 12.0
        ts = TickState(self.year, self.month, self.scenario.paradigm.weights(t), self.pars)
        with self._phase("demography"):
            self._demography(ts)
        with self._phase("needs"):
            needs.step(self, ts)
        with self._phase("routing"):
            allocation.route(self, ts)
            allocation.institutions(self, ts)
            workforce.availability(self, ts)
            self.year_waiting_sum += ts.waiting_place
            self.year_waiting_months += 1
        with self._phase("cocreation"):
            cocreation.step(self, ts)
        with self._phase("allocation"):
            allocation.deliver(self, ts)
            workforce.assign_caseloads(self, ts)
            allocation.outcomes(self, ts)
        with self._phase("outcomes"):
            outcomes.step(self, ts)
        with self._phase("volunteers"):
            volunteers.step(self, ts)
            self.volunteer_hours_available = volunteers.available_hours(self)
        with self._phase("workforce"):
            workforce.step(self, ts)
        with self._phase("innovation"):
            innovation.step(self, ts)
        with self._phase("finance"):
            finance.step(self, ts)
        with self._phase("metrics"):
            self.results[self.steps - 1] = collect(self, ts)
            self.datacollector.collect(self)
        self.last_tick = ts
        self.month += 1
        if self.month > 12:
            self.month, self.year = 1, self.year + 1
        if self.steps >= self.n_ticks:
            self.running = False

    def run(self, progress=None) -> WelfareModel:
        """Run to the end year; ``progress(done, total)`` is called after each tick."""
        while self.running:
            self.step()
            if progress is not None:
                progress(self.steps, self.n_ticks)
        return self

    @contextmanager
    def _phase(self, name: str):
        t0 = time.perf_counter()
        yield
        self.timings[name] += time.perf_counter() - t0

    # ------------------------------------------------------------------ phases kept here
    def _demography(self, ts: TickState) -> None:
        c = self.citizens
        if not self.pars["mechanisms.demography"]:
            ts.demography = {}
            ts.alive_idx = np.flatnonzero(c.alive)
            return
        ev = self.demography.step(self.year, self.month, c.age_months, c.sex, c.alive)
        if len(ev.redated):  # netted migration re-dated some residents: their yearly tables
            self._refresh_slot_tables(ev.redated)
        gone = np.concatenate([ev.deaths, ev.emigrants])
        if len(gone):
            c.alive[gone] = False
            c.resident[gone] = False
        births = c.add(len(ev.births_sex), sex=ev.births_sex, age_months=0, alive=True)
        self._init_citizens(births, immigrants=False, mothers=ev.births_mother)
        arrivals = c.add(len(ev.immigrants_sex), sex=ev.immigrants_sex,
                         age_months=ev.immigrants_age_months, alive=True)
        self._init_citizens(arrivals, immigrants=True)
        alive_idx = ts.alive_idx = np.flatnonzero(c.alive)
        self.net.add_newcomers(self.rng["network"], births, ev.births_mother, alive_idx)
        self.net.add_newcomers(self.rng["network"], arrivals, None, alive_idx)
        ts.demography = {"births": len(births), "deaths": len(ev.deaths),
                         "immigrants": len(arrivals), "emigrants": len(ev.emigrants)}
        self._count_ages(alive_idx)

    def _refresh_yearly(self) -> None:
        """Parameters of the year (dated series), derived tables, network upkeep."""
        self.pars = self.scenario.at_year(self.year)
        self.prevalence = needs.prevalence_table(self.pars).astype(np.float32)
        self.prevalence_max = self.prevalence[:, :4].max(axis=1).astype(np.float32)
        self.prevalence_child = self.prevalence[:, 4].astype(np.float32)
        self.prevalence_young = needs.young_prevalence_table(self.pars).astype(np.float32)
        self.dementia_prev = needs.dementia_prevalence(self.pars).astype(np.float32)
        self.hours_scale = needs.hours_scale(self.pars)
        self._count_ages()
        # places in agents: the exact (fractional) number grows; the places in use are its
        # unbiased stochastic rounding (ordinary rounding would freeze 17.2 places at 17 at a
        # small population scale)
        if self.steps == 0:  # first year: places sized from the 80+ population
            self.institution_places_exact = (self.pars["institutions.places_per_1000_80plus"]
                                             * self.age_counts["80+"] * self.scale / 1000)
            self.institution_places = stochastic_round(self.institution_places_exact,
                                                       self.rng["rounding"])
        else:
            finance.close_year(self)
            workforce.grow_places(self)
        self.year_cost_sum = self.year_budget_sum = 0.0
        self.year_waiting_sum, self.year_waiting_months = 0.0, 0
        self.year_home_fte_need_sum = 0.0
        if hasattr(self, "net") and self.steps > 0:
            self.net.rebuild(self.citizens.n, self.citizens.alive)
        self._refresh_slot_tables()

    def _refresh_slot_tables(self, slots: np.ndarray | None = None) -> None:
        """Per-slot tables of the year: carers' hours and the needs screen (for all slots, or
        again for ``slots`` whose age changed)."""
        c = self.citizens
        if slots is not None:
            age = c.age_months[slots] // 12
            self.carer_base_hours[slots] = np.where(
                (age >= 18) & (age < 85) & c.alive[slots],
                self.pars["informal.hours_per_carer"] * c.resources[slots], 0.0)
            self.need_screen[slots] = needs.screen(self, age, slots)
            return
        age = c.age_months // 12
        # monthly hours each slot could give as a family carer (adults 18-84)
        self.carer_base_hours = np.where((age >= 18) & (age < 85) & c.alive, self.pars[
            "informal.hours_per_carer"] * c.resources, 0.0).astype(np.float32)
        self.need_screen = needs.screen(self, age)

    def _count_ages(self, alive_idx: np.ndarray | None = None) -> None:
        c = self.citizens
        years = c.age_months[c.alive if alive_idx is None else alive_idx] // 12
        counts = np.bincount(years, minlength=106) / self.scale
        self.age_counts = {g: float(counts[lo:hi + 1].sum()) for g, (lo, hi) in AGE_GROUPS.items()}
        self.population = float(counts.sum())
        self.working_age = float(counts[20:67].sum()) * self.scale
        self.adults_20_84 = float(counts[20:85].sum()) * self.scale

    def _init_citizens(self, slots: np.ndarray, immigrants: bool,
                       mothers: np.ndarray | None = None) -> None:
        """Draw personal traits of new citizens (the start population, newborns, immigrants)."""
        n = len(slots)
        if n == 0:
            return
        c, p, rng = self.citizens, self.pars, self.rng["population"]
        c.frailty[slots] = rng.random(n)
        c.frailty_child[slots] = rng.random(n)
        if immigrants:
            c.resources[slots] = rng.beta(1.6, 2.4, n)
            c.cultural[slots] = np.clip(rng.normal(
                p["needs.immigrant_cultural_distance"], 0.15, n), 0, 1)
        else:
            c.resources[slots] = rng.beta(2.0, 2.0, n)
            high = rng.random(n) < p["needs.base_cultural_distance_share"]
            c.cultural[slots] = np.where(high, rng.uniform(0.4, 0.9, n), rng.uniform(0, 0.2, n))
        if mothers is not None and len(mothers):
            # children resemble their mothers in resources and cultural background
            c.resources[slots] = np.clip(0.6 * c.resources[mothers] + 0.4 * c.resources[slots],
                                         0, 1)
            c.cultural[slots] = c.cultural[mothers] * 0.7
        m = p["needs.niche_mean"]
        c.niche0[slots] = rng.beta(2.0, 2.0 * (1 - m) / m, n)
        c.expectation[slots] = np.clip(rng.normal(p["expectations.initial_mean"], 0.1, n), 0, 1)
        c.trust[slots] = np.clip(rng.normal(p["expectations.initial_trust"], 0.1, n), 0, 1)
        c.route_q[slots] = rng.random(n)
        c.frailty_young[slots] = rng.random(n)
        c.dementia_q[slots] = rng.random(n)

    def _initial_workforce(self) -> None:
        """Staff sized to cover ``initial_coverage`` of the start-year professional demand."""
        ts = TickState(self.year, 1, self.scenario.paradigm.weights(self.year), self.pars)
        ts.alive_idx = np.flatnonzero(self.citizens.alive)
        needs.step(self, ts)
        allocation.route(self, ts)
        allocation.institutions(self, ts)
        home = ~ts.resident
        p = self.pars
        overhead = np.array([p[f"{r}.documentation_share"] for r in
                             ("traditional", "npm", "network_governance")])[ts.route[home]]
        assess = np.array([p[f"{r}.assessment_hours_per_case"] for r in
                           ("traditional", "npm", "network_governance")])[ts.route[home]] / 12
        # what is left for professionals after family carers' first line
        ts.process = np.zeros(len(ts.needy), dtype=np.int8)
        family = np.minimum(allocation.informal_available(self, ts), p[
            "informal.first_line_share"] * allocation.rowsum(ts.need, INFORMAL_DOMAINS))
        left = ts.need.sum(axis=1) - family
        demand = float((left[home] * (1 + overhead) + assess).sum()) + \
            allocation.coordination_hours(p, float((ts.route[home] == NG).sum()), 0)
        # facilitators are hired as processes use them (workforce.step), not in advance
        per_fte = p["professionals.hours_per_fte_month"] * workforce.productive_share(p)
        fte = (demand / per_fte * (1.0 + p["professionals.staffing_margin"])
               * p["professionals.initial_coverage"])
        # never above the labour ceiling (which the nursing homes' staff share)
        fte = min(fte, max(0.0, workforce.labour_ceiling(self) - workforce.institution_fte(self)))
        self.hire_professionals(stochastic_round(fte / self.fte_per_professional,
                                                 self.rng["rounding"]))
        self.volunteer_hours_available = volunteers.available_hours(self)
        self.citizens.resident[:] = False

    # ------------------------------------------------------------------ agents (views)
    # The Mesa agents are made lazily: ``agents_by_type`` (and ``agents``) first bring the
    # agent objects in line with the arrays — one object per living citizen, employed
    # professional and active volunteer. The monthly loop never touches Python objects, so a
    # run that never looks at agents never pays for them (45,000 objects take about 0.2 s
    # and 25 MB; 5.2 million about 25 s and 3 GB).
    def materialise_agents(self) -> None:
        """Create agents for new slots and remove those of the dead/departed."""
        for cls, store, live in ((Citizen, self.citizens, self.citizens.alive),
                                 (Professional, self.professionals, self.professionals.active),
                                 (Volunteer, self.volunteers, self.volunteers.active)):
            made = self._agent_maps[cls]
            has = np.zeros(store.n, dtype=bool)
            if made:
                has[np.fromiter(made.keys(), dtype=np.int64, count=len(made))] = True
            for s in np.flatnonzero(has & ~live).tolist():
                made.pop(s).remove()
            for s in np.flatnonzero(live & ~has).tolist():
                made[s] = cls(self, s)

    @property
    def agents_by_type(self):
        self.materialise_agents()
        return super().agents_by_type

    @property
    def agents(self):
        self.materialise_agents()
        return super().agents

    def agent_of(self, cls: type, slot: int) -> mesa.Agent:
        """The Mesa agent of one slot (made on demand)."""
        self.materialise_agents()
        return self._agent_maps[cls][int(slot)]

    def hire_professionals(self, count: int) -> None:
        self.professionals.add(count, active=True, hired=self.steps)

    def dismiss_professionals(self, slots: np.ndarray) -> None:
        self.professionals.active[slots] = False
        self.professionals.sick[slots] = False

    def retire_volunteers(self, slots: np.ndarray) -> None:
        v = self.volunteers
        v.active[slots] = False
        self.citizens.volunteer[v.person[slots]] = -1

    @property
    def n_volunteers(self) -> int:
        return int(self.volunteers.active.sum())

    # ------------------------------------------------------------------ readable helpers
    def niche_of(self, idx) -> np.ndarray:
        return needs.niche(self, np.asarray(idx), self.year + (self.month - 1) / 12)

    def needs_of(self, slot: int) -> dict[str, float]:
        ts = self.last_tick
        if ts is None:
            return dict.fromkeys(DOMAINS, 0.0)
        pos = np.searchsorted(ts.needy, slot)
        if pos < len(ts.needy) and ts.needy[pos] == slot:
            return {d: float(h) for d, h in zip(DOMAINS, ts.need[pos], strict=True)}
        return dict.fromkeys(DOMAINS, 0.0)

    @property
    def graph(self):
        """The social network as a networkx graph (built on demand: slow for big runs)."""
        return self.net.to_networkx()

    def table(self):
        """Per-tick results as a pandas DataFrame (ticks run so far)."""
        import pandas as pd

        done = min(self.steps, self.n_ticks)
        df = pd.DataFrame(self.results[:done], columns=METRIC_NAMES)
        df.insert(0, "tick", np.arange(1, done + 1))
        for col in ("year", "month"):
            df[col] = df[col].astype(int)
        return df
