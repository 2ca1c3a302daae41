#!/usr/bin/env python3
"""The core monthly rules written the naive Mesa way, timed against the array model.

One ``mesa.Agent`` subclass per citizen (and per volunteer) with ``step`` methods run by
``model.agents_by_type[...].shuffle_do(...)``; neighbour effects (family care, expectation
diffusion) are per-agent loops over Python lists of neighbour agents; queues are Python
``sorted`` lists. The rules, parameter values and formulas are those of ``sim/mechanisms``
(needs.step, allocation.route/institutions/informal_available/deliver/outcomes,
outcomes.step, volunteers.step), read from the same scenario.

Both versions start from the *same* state: a :class:`sim.model.WelfareModel` is built (and
warmed up for a few months so waits, processes and burdens exist), the naive model copies its
arrays into agent attributes, and then each side runs the same core tick. The first tick is
compared (need-hours, hours by source, expectation, satisfaction, burden, volunteer pool) to
show the rules agree; later ticks diverge only through random draws (volunteer quitting and
recruitment use different generators).

Simplified on BOTH sides (so the comparison stays like for like): no demography/ageing during
the timed ticks (same population), co-creation processes held at their warm-up state (the
co-creation phase is not in the list), professional hours fixed at the warm-up headcount (no
sick-leave draws), no workforce/innovation/finance/metrics phases. The array side still runs
``tag_cells`` inside ``allocation.deliver`` and the Mesa-agent bookkeeping of volunteer
recruitment, which the naive side skips, so the ratio is if anything conservative.

    .venv/bin/python experiments/bench/naive_mesa.py [--citizens 10000] [--ticks 3]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time

import mesa
import numpy as np

from sim.mechanisms import allocation, cocreation, needs, outcomes, volunteers
from sim.mechanisms.base import (
    CS_LED,
    DOMAINS,
    ELDERLY_DOMAINS,
    INFORMAL_DOMAINS,
    N_DOMAINS,
    NG,
    NO_PROCESS,
    NPM,
    ROUTES,
    THICK,
    THIN,
    THIN_OUTSIDE,
    TRAD,
    VOLUNTEER_DOMAINS,
    TickState,
)
from sim.mechanisms.cocreation import LOW_RESOURCE
from sim.model import WelfareModel
from sim.scenario import load_scenario

SCENARIO = "scenarios/indre_ostfold_{paradigm}.toml"
INDRE_OSTFOLD_2016 = 43_472
VDOM = [float(x) for x in VOLUNTEER_DOMAINS]
IDOM = [float(x) for x in INFORMAL_DOMAINS]


# ---------------------------------------------------------------------- naive agents
class _Ghost:
    """A tie to someone who died since the network's yearly rebuild: a frozen expectation."""

    __slots__ = ("expectation",)

    def __init__(self, expectation: float) -> None:
        self.expectation = expectation


class NaiveCitizen(mesa.Agent):
    """A citizen as a Python object: state in attributes, rules in methods."""

    def __init__(self, model: NaiveModel, slot: int, **state) -> None:
        super().__init__(model)
        self.slot = slot
        self.__dict__.update(state)
        self.neighbours: list[NaiveCitizen] = []
        self.family: list[NaiveCitizen] = []
        self.needy = False
        self.need = [0.0] * N_DOMAINS

    # needs.step + allocation.route, one person at a time
    def step(self) -> None:
        m = self.model
        p = m.pars
        age_y = min(self.age_months // 12, needs.MAX_AGE - 1)
        mult = 1.0 + p["health.burden_need_effect"] * self.burden
        row = m.prevalence[age_y]
        has = [False] * N_DOMAINS
        sev = [0.0] * N_DOMAINS
        for d in range(N_DOMAINS):
            u = self.frailty_child if d == ELDERLY_DOMAINS else self.frailty
            pd = min(row[d] * mult, 1.0)
            if u < pd:
                has[d] = True
                sev[d] = 1.0 - u / max(pd, 1e-9)
        # needs under 67: one quantile per domain from the person's young quantile
        if needs.YOUNG_MIN_AGE <= age_y <= needs.YOUNG_MAX_AGE:
            yrow = m.prevalence_young[age_y]
            for d in range(ELDERLY_DOMAINS):
                py = yrow[d] * mult
                ud = (self.frailty_young * 4096.0 ** d) % 1.0
                if ud < py:
                    has[d] = True
                    sev[d] = max(sev[d], 1.0 - ud / max(py, 1e-9))
        need = [m.sev_hours(sev[d]) * m.hours_scale[d] if has[d] else 0.0
                for d in range(N_DOMAINS)]
        self.needy = any(has)
        self.need = need
        self.severity = max(sev)
        self.age = age_y
        self.dementia = self.dementia_q < m.dementia_prev[age_y]
        # a heavy personal-care need, or with dementia a lighter one, calls for a place
        self.institution_need = sev[1] > p["needs.institution_severity"] or (
            self.dementia and sev[1] > p["needs.institution_severity_dementia"])
        w = m.weights
        q = self.route_q
        self.route = TRAD if q < w[0] else (NPM if q < w[0] + w[1] else NG)

    def informal_capacity(self) -> None:
        """What this person can give each needy family member (allocation.informal_available)."""
        m = self.model
        age = self.age_months // 12
        self.per_tie = 0.0
        if self.needy or not (18 <= age < 85):
            return
        ties = 0
        for f in self.family:
            if f.needy:
                ties += 1
        if ties:
            self.per_tie = m.pars["informal.hours_per_carer"] * self.resources / ties

    def informal_available(self) -> float:
        p = self.model.pars
        res = self.resources
        if p["cocreation.targeting"] and self.process != NO_PROCESS and res < LOW_RESOURCE:
            res = min(res + p["cocreation.targeting_resource_boost"], 1.0)
        own = p["informal.own_hours"] * res * (1.0 - self.severity)
        return sum(f.per_tie for f in self.family) + own

    # allocation.outcomes + outcomes.step (satisfaction, trust), one person at a time
    def experience(self) -> None:
        m, p = self.model, self.model.pars
        if not self.needy:
            return
        rt, proc = self.route, self.process
        niche = min(max(self.niche0 + p["needs.niche_cultural_weight"] * self.cultural
                        + m.niche_trend, 0.0), 1.0)
        std = p[f"{ROUTES[rt]}.standardisation"]
        if proc in (THICK, CS_LED):
            tailor = p["cocreation.thick_tailoring"]
        elif proc in (THIN, THIN_OUTSIDE):
            tailor = p["cocreation.thin_tailoring"]
        else:
            tailor = 0.0
        fit = 1.0 - niche * std * (1.0 - tailor)
        fit += (p["npm.choice_fit_bonus"] if rt == NPM else 0.0) + m.fit_bonus
        if self.resident:
            fit = p["quality.institution_fit"] * (1.0 - 0.5 * niche * std)
        self.fit = min(max(fit, 0.0), 1.0)
        cont = p[f"{ROUTES[rt]}.continuity"]
        cont *= 1.0 - p["quality.strain_continuity_effect"] * m.mean_strain
        if rt == NPM:
            cont *= 1.0 - p["npm.contractor_quality_shading"] * p["npm.tendered_share"]
        timely = 1.0 / (1.0 + p["quality.wait_penalty_per_month"] * self.wait)
        total = sum(self.need)
        got = sum(self.prof) + sum(self.vol) + sum(self.inf)
        # competence: lay (volunteer, family, own) hours weighted by domain
        lay = sum((v + f) * p[f"quality.lay_hours_weight.{d}"]
                  for v, f, d in zip(self.vol, self.inf, DOMAINS, strict=True))
        competence = min(max((sum(self.prof) + lay) / got, 0.0), 1.0) if got > 0 else 1.0
        self.quality = self.fit * min(max(cont, 0.0), 1.0) * timely * competence
        self.coverage = min(max(got / total if total > 0 else 0.0, 0.0), 1.0)
        self.experienced = self.coverage * self.quality
        self.satisfaction = min(max(0.5 + self.experienced - self.expectation, 0.0), 1.0)
        trust = self.trust + p["expectations.trust_response"] * (self.satisfaction - 0.5)
        if proc in (THICK, CS_LED):
            trust += p["cocreation.trust_gain_per_month"]
        self.trust = min(max(trust, 0.0), 1.0)

    # expectation diffusion: look at the neighbours (old values), then commit
    def look_at_neighbours(self) -> None:
        s, k = 0.0, 0
        for nb in self.neighbours:
            s += nb.expectation
            k += 1
        self.nb_mean = s / k if k else self.expectation

    def update_expectation_and_health(self) -> None:
        p = self.model.pars
        e = self.expectation
        e += p["expectations.network_diffusion_per_month"] * (self.nb_mean - e)
        e += p["expectations.information_drift_per_year"] / 12.0 * (1.0 - e)
        if self.needy:
            if self.route == NPM:
                e += p["expectations.customer_push_per_year"] / 12 * (1.0 - e)
            if self.process in (THICK, CS_LED):
                e += p["expectations.partner_realism_per_month"] * (self.experienced - e)
        self.expectation = min(max(e, 0.0), 1.0)
        b = self.burden * (1.0 - p["health.recovery_rate"])
        if self.needy:
            effective = min(max(self.coverage * self.fit, 0.0), 1.0)
            b += p["health.unmet_need_damage"] * (1.0 - effective)
        self.burden = min(max(b, 0.0), 3.0)


class NaiveVolunteer(mesa.Agent):
    def __init__(self, model: NaiveModel, person: NaiveCitizen, motivation: float,
                 intrinsic: float, hours: float) -> None:
        super().__init__(model)
        self.person, self.motivation, self.intrinsic, self.hours = (person, motivation,
                                                                    intrinsic, hours)
        person.is_volunteer = True

    def step(self) -> None:
        m, p = self.model, self.model.pars
        k = p["volunteers.motivation_crowding"]
        mot = self.motivation
        mot = mot + k * (m.influence * (1.0 - mot) - m.control * mot) \
            + p["volunteers.motivation_recovery"] * (self.intrinsic - mot)
        self.motivation = min(max(mot, 0.0), 1.0)
        p_quit = 1.0 - (1.0 - min(max(p["volunteers.quit_per_year"] * (
            1.0 + p["volunteers.quit_motivation_sensitivity"] * (1.0 - self.motivation)),
            0.0), 1.0)) ** (1.0 / 12.0)
        m.motivations.append(self.motivation)
        if m.random.random() < p_quit:
            m.quitters.append(self)


# ---------------------------------------------------------------------- naive model
class NaiveModel(mesa.Model):
    """The core month of WelfareModel, the object-per-agent way."""

    def __init__(self, src: WelfareModel, seed: int = 1) -> None:
        super().__init__(rng=seed)
        self.src_scale = src.scale
        self.pars = dict(src.pars)
        self.weights = [float(w) for w in src.scenario.paradigm.weights(
            src.year + (src.month - 1) / 12.0)]
        self.prevalence = src.prevalence.tolist()
        self.prevalence_young = src.prevalence_young.tolist()
        self.dementia_prev = src.dementia_prev.tolist()
        self.hours_scale = [float(h) for h in src.hours_scale]
        self.institution_places = int(src.institution_places)
        self.productivity, self.fit_bonus = src.productivity, src.fit_bonus
        self.mean_strain = src.mean_strain
        self.adults_20_84 = src.adults_20_84
        self.niche_trend = self.pars["needs.niche_trend_per_year"] * (
            src.year + (src.month - 1) / 12 - src.start_year)
        pr = src.professionals
        self.prof_hours_available = int((pr.active & ~pr.sick).sum()) * self.pars[
            "professionals.hours_per_fte_month"] * src.fte_per_professional
        k, ratio = self.pars["needs.severity_shape"], self.pars["needs.severity_hours_ratio"]
        norm = 1.0 + (ratio - 1.0) / (k + 1.0)
        self.sev_hours = lambda s: (1.0 + (ratio - 1.0) * s ** k) / norm
        self.control, self.influence = volunteers.regime(self.pars, np.array(self.weights))
        c = src.citizens
        alive = np.flatnonzero(c.alive)
        fields = ("age_months", "frailty", "frailty_child", "frailty_young", "dementia_q",
                  "resources", "cultural", "niche0",
                  "burden", "expectation", "satisfaction", "trust", "route_q", "wait",
                  "process", "resident")
        cols = {f: getattr(c, f)[alive].tolist() for f in fields}
        by_slot: dict[int, NaiveCitizen] = {}
        for i, s in enumerate(alive.tolist()):
            by_slot[s] = NaiveCitizen(self, s, **{f: cols[f][i] for f in fields},
                                      is_volunteer=False)
        self.citizens = [by_slot[s] for s in alive.tolist()]  # slot order (queue tie-break)
        net = src.net
        allm, fam = net.all, net.family
        for a in self.citizens:
            if a.slot < allm.shape[0]:
                lo, hi = allm.indptr[a.slot], allm.indptr[a.slot + 1]
                # as in the array model, ties to people who died since the yearly rebuild
                # still count (their expectation frozen) until the next rebuild
                a.neighbours = [by_slot[j] if j in by_slot else _Ghost(float(c.expectation[j]))
                                for j in allm.indices[lo:hi].tolist()]
                lo, hi = fam.indptr[a.slot], fam.indptr[a.slot + 1]
                a.family = [by_slot[j] for j in fam.indices[lo:hi].tolist() if j in by_slot]
        v = src.volunteers
        for s in np.flatnonzero(v.active).tolist():
            NaiveVolunteer(self, by_slot[int(v.person[s])], float(v.motivation[s]),
                           float(v.intrinsic[s]), float(v.hours[s]))
        self.volunteer_hours_available = sum(
            x.hours * x.motivation for x in self.agents_by_type[NaiveVolunteer])
        for a in self.citizens:
            a.process0 = a.process
        self.np_rng = np.random.default_rng(seed)

    # ---------------------------------------------------------------- the month
    def step(self) -> None:
        p = self.pars
        self.agents_by_type[NaiveCitizen].shuffle_do("step")  # needs + routing
        self.institutions()
        self.deliver()  # co-production, professional rationing, volunteers, informal care
        self.agents_by_type[NaiveCitizen].shuffle_do("experience")  # outcomes
        if p["mechanisms.expectations"]:
            self.agents_by_type[NaiveCitizen].shuffle_do("look_at_neighbours")
        else:
            for a in self.citizens:
                a.nb_mean = a.expectation
        self.agents_by_type[NaiveCitizen].shuffle_do("update_expectation_and_health")
        self.volunteer_phase()

    def institutions(self) -> None:
        needy = [a for a in self.citizens if a.needy]
        self.needy = needy
        p = self.pars
        min_age = p["institutions.min_age"]

        def eligible(a: NaiveCitizen) -> bool:
            return a.institution_need and a.age >= min_age

        def priority(a: NaiveCitizen) -> float:
            return (a.severity + p["institutions.priority_per_decade"]
                    * max(0.0, (a.age - min_age) / 10.0)
                    + p["institutions.priority_dementia"] * a.dementia)

        stay = [a for a in needy if a.resident and eligible(a)]
        for a in self.citizens:
            a.resident = False
        for a in stay:
            a.resident = True
        free = max(0, self.institution_places - len(stay))
        waiting = [a for a in needy if eligible(a) and not a.resident]
        waiting.sort(key=lambda a: -priority(a))
        for a in waiting[:free]:
            a.resident = True
        # co-creation held at its warm-up state; it runs only for NG-route home cases
        for a in needy:
            a.process = a.process0 if (a.route == NG and not a.resident) else NO_PROCESS

    @staticmethod
    def ration(queue: list, demand: dict, prio, capacity: float) -> dict:
        served = {}
        if capacity <= 0:
            return served
        used = 0.0
        for a in sorted(queue, key=prio):
            d = demand[a]
            served[a] = min(max(capacity - used, 0.0), d)
            used += d
        return served

    @staticmethod
    def spread(total: float, remaining: list, elig: list | None = None) -> list:
        r = remaining if elig is None else [x * e for x, e in zip(remaining, elig, strict=True)]
        s = sum(r)
        share = min(total / s, 1.0) if s > 0 else 0.0
        return [x * share for x in r]

    def deliver(self) -> None:
        p = self.pars
        needy = self.needy
        for a in self.citizens:
            a.informal_capacity()
        for a in needy:
            a.remaining = list(a.need)
            a.prof = [0.0] * N_DOMAINS
            a.vol = [0.0] * N_DOMAINS
            a.inf = [0.0] * N_DOMAINS
            if a.resident:
                a.prof = list(a.need)
                a.remaining = [0.0] * N_DOMAINS
        # co-production first
        cs_first = [a for a in needy if not a.resident
                    and a.process in (THICK, CS_LED, THIN_OUTSIDE)]
        for a in needy:
            mob = p["cocreation.informal_mobilisation"] if a.process in (THICK, CS_LED) else 1.0
            a.cap_inf = (a.informal_available() if p["mechanisms.informal_care"] else 0.0) * mob
        for a in cs_first:
            take = min(a.cap_inf, p.get("cocreation.coproduction_share", 1.0) * sum(
                x * e for x, e in zip(a.remaining, IDOM, strict=True)))
            a.inf = self.spread(take, a.remaining, IDOM)
            a.remaining = [r - x for r, x in zip(a.remaining, a.inf, strict=True)]
            a.cap_inf -= take
        vol_pool = self.volunteer_hours_available
        if cs_first and vol_pool > 0:
            dem = {a: sum(x * e for x, e in zip(a.remaining, VDOM, strict=True))
                   for a in cs_first}
            got = self.ration(cs_first, dem, lambda a: -a.severity, vol_pool)
            for a in cs_first:
                a.vol = self.spread(got.get(a, 0.0), a.remaining, VDOM)
                a.remaining = [r - x for r, x in zip(a.remaining, a.vol, strict=True)]
                vol_pool -= got.get(a, 0.0)
        # family carers and self-help give first, in every paradigm
        cs = set(cs_first)
        if p["informal.first_line_share"] > 0:
            for a in needy:
                if a.resident or a in cs:
                    continue
                elig = sum(x * e for x, e in zip(a.remaining, IDOM, strict=True))
                take = min(a.cap_inf, p["informal.first_line_share"] * elig)
                given = self.spread(take, a.remaining, IDOM)
                a.inf = [x + y for x, y in zip(a.inf, given, strict=True)]
                a.remaining = [r - x for r, x in zip(a.remaining, given, strict=True)]
                a.cap_inf -= sum(x * e for x, e in zip(given, IDOM, strict=True))
        # professionals: facilitation, then overhead and rationed direct hours per route
        fac = sum(p["cocreation.thick_facilitation_hours"] if a.process in (THICK, CS_LED)
                  else p["cocreation.thin_facilitation_hours"] if a.process in (THIN, THIN_OUTSIDE)
                  else 0.0 for a in needy)
        pool = max(0.0, self.prof_hours_available - fac)
        assess_h = [p[f"{r}.assessment_hours_per_case"] for r in ROUTES]
        doc = [p[f"{r}.documentation_share"] for r in ROUTES]
        cases, dem_r = [0, 0, 0], [0.0, 0.0, 0.0]
        queues: list[list] = [[], [], []]
        dem_h, factor = {}, {}
        for a in needy:
            saving = p["cocreation.professional_hours_saving"] if a.process == THICK else 0.0
            factor[a] = (1.0 - saving) / self.productivity
            dem_h[a] = 0.0 if a.resident else sum(a.remaining) * factor[a]
            dem_r[a.route] += dem_h[a]
            if not a.resident:
                cases[a.route] += 1
                queues[a.route].append(a)
        overhead = [assess_h[r] * cases[r] / 12.0 for r in range(3)]
        # network governance coordinates partners: per case and per active process
        overhead[NG] += (p["network_governance.coordination_hours_per_case"] * cases[NG] / 12.0
                         + p["network_governance.coordination_hours_per_process_month"] * sum(
                             1 for a in needy if not a.resident and a.process != NO_PROCESS))
        want = [overhead[r] + dem_r[r] * (1.0 + doc[r]) for r in range(3)]
        tw = sum(want)
        for r in range(3):
            share = min(want[r] / tw * pool if tw > 0 else 0.0, want[r])
            assess_done = min(overhead[r], share)
            cap = (share - assess_done) / (1.0 + doc[r])
            got = self.ration(queues[r], dem_h, lambda a: -(a.severity + 0.05 * a.wait), cap)
            for a in queues[r]:
                g = got.get(a, 0.0)
                served = g / factor[a] if factor[a] > 0 else 0.0
                ph = self.spread(served, a.remaining)
                a.prof = [x + y for x, y in zip(a.prof, ph, strict=True)]
                a.remaining = [r_ - x for r_, x in zip(a.remaining, ph, strict=True)]
        # volunteers help the rest, then family carers take up part of what is left
        others = [a for a in needy if not a.resident and a not in cs]
        if others and vol_pool > 0:
            dem = {a: sum(x * e for x, e in zip(a.remaining, VDOM, strict=True)) for a in others}
            got = self.ration(others, dem, lambda a: -a.severity, vol_pool)
            for a in others:
                a.vol = self.spread(got.get(a, 0.0), a.remaining, VDOM)
                a.remaining = [r - x for r, x in zip(a.remaining, a.vol, strict=True)]
        for a in others:
            elig = sum(x * e for x, e in zip(a.remaining, IDOM, strict=True))
            take = min(a.cap_inf, p["informal.substitution"] * elig)
            given = self.spread(take, a.remaining, IDOM)
            a.inf = [x + y for x, y in zip(a.inf, given, strict=True)]
            a.remaining = [r - x for r, x in zip(a.remaining, given, strict=True)]
        for a in needy:
            got = sum(a.prof) + sum(a.vol) + sum(a.inf)
            a.wait = a.wait + 1 if (not a.resident and got < 0.5 * sum(a.need)) else 0

    def volunteer_phase(self) -> None:
        p = self.pars
        self.motivations, self.quitters = [], []
        if not p["mechanisms.volunteers"]:
            return
        self.agents_by_type[NaiveVolunteer].shuffle_do("step")
        for v in self.quitters:
            v.person.is_volunteer = False
            v.remove()
        n_active = len(self.motivations) - len(self.quitters)
        mean_m = (sum(self.motivations) / len(self.motivations) if self.motivations
                  else p["volunteers.initial_motivation"])
        room = max(0.0, 1.0 - n_active / max(1.0, p["volunteers.max_share_of_adults"]
                                            * self.adults_20_84))
        expected = (p["volunteers.recruitment_per_year"] * n_active * mean_m + p.get(
            "volunteers.base_recruitment_per_1000_adults", 0.0) * self.adults_20_84 / 1000
                    ) / 12.0 * room
        count = int(self.np_rng.poisson(expected))
        if count > 0:
            pool = [a for a in self.citizens
                    if 20 <= a.age_months // 12 < 85 and not a.is_volunteer]
            chosen: dict[int, NaiveCitizen] = {}
            for _ in range(3 * count):
                a = self.random.choice(pool)
                if self.random.random() < 0.5 + 0.5 * a.resources:
                    chosen[a.slot] = a
            for s in sorted(chosen)[:count]:
                m0 = min(max(self.random.gauss(p["volunteers.initial_motivation"], 0.1),
                             0.05), 1.0)
                hours = p["volunteers.hours_offered_per_month"] * self.random.gammavariate(
                    4.0, 0.25)
                NaiveVolunteer(self, chosen[s], m0, m0, hours)
        self.volunteer_hours_available = sum(
            v.hours * v.motivation for v in self.agents_by_type[NaiveVolunteer])

    def summary(self) -> dict[str, float]:
        needy = self.needy
        return {
            "needy": float(len(needy)),
            "need_hours": sum(sum(a.need) for a in needy),
            "hours_professional": sum(sum(a.prof) for a in needy),
            "hours_volunteer": sum(sum(a.vol) for a in needy),
            "hours_informal": sum(sum(a.inf) for a in needy),
            "residents": float(sum(a.resident for a in needy)),
            "mean_expectation": statistics.fmean(a.expectation for a in self.citizens),
            "mean_burden": statistics.fmean(a.burden for a in self.citizens),
            "mean_satisfaction_needy": statistics.fmean(a.satisfaction for a in needy),
            "mean_trust": statistics.fmean(a.trust for a in self.citizens),
        }


# ---------------------------------------------------------------------- array side
class ArrayCore:
    """The same core month on the array model, calling sim.mechanisms directly."""

    def __init__(self, model: WelfareModel) -> None:
        self.m = model
        pr = model.professionals
        self.prof_hours = int((pr.active & ~pr.sick).sum()) * model.pars[
            "professionals.hours_per_fte_month"] * model.fte_per_professional
        self.ts: TickState | None = None

    def step(self) -> None:
        m = self.m
        t = m.year + (m.month - 1) / 12.0
        ts = TickState(m.year, m.month, m.scenario.paradigm.weights(t), m.pars)
        ts.alive_idx = np.flatnonzero(m.citizens.alive)
        needs.step(m, ts)
        allocation.route(m, ts)
        allocation.institutions(m, ts)
        ts.prof_hours_available = self.prof_hours
        # co-creation held fixed: the processes of the needy as they stand
        c = m.citizens
        proc = c.process[ts.needy].copy()
        proc[ts.resident | (ts.route != NG)] = NO_PROCESS
        ts.process = proc
        ts.hours_facilitation = float(cocreation.facilitation_hours(proc, ts.pars).sum())
        allocation.deliver(m, ts)
        allocation.outcomes(m, ts)
        outcomes.step(m, ts)
        volunteers.step(m, ts)
        m.volunteer_hours_available = volunteers.available_hours(m)
        self.ts = ts

    def summary(self) -> dict[str, float]:
        m, ts = self.m, self.ts
        c = m.citizens
        alive = ts.alive_idx
        return {
            "needy": float(len(ts.needy)),
            "need_hours": float(ts.need.sum(dtype=np.float64)),
            "hours_professional": float(ts.prof.sum(dtype=np.float64)),
            "hours_volunteer": float(ts.vol.sum(dtype=np.float64)),
            "hours_informal": float(ts.informal.sum(dtype=np.float64)),
            "residents": float(ts.resident.sum()),
            "mean_expectation": float(c.expectation[alive].mean(dtype=np.float64)),
            "mean_burden": float(c.burden[alive].mean(dtype=np.float64)),
            "mean_satisfaction_needy": float(c.satisfaction[ts.needy].mean(dtype=np.float64)),
            "mean_trust": float(c.trust[alive].mean(dtype=np.float64)),
        }


def prepare(citizens: int = 10_000, paradigm: str = "network_governance", seed: int = 1,
            warmup: int = 6) -> WelfareModel:
    """An array model of about ``citizens`` agents, warmed up ``warmup`` months."""
    sc = load_scenario(SCENARIO.format(paradigm=paradigm)).with_overrides(
        {"run.population_scale": citizens / INDRE_OSTFOLD_2016})
    m = WelfareModel(sc, seed=seed)
    for _ in range(warmup):
        m.step()
    return m


def compare(citizens: int = 10_000, ticks: int = 3, paradigm: str = "network_governance",
            seed: int = 1, warmup: int = 6) -> dict:
    """Build both from the same state, check tick 1 agrees, time ``ticks`` ticks of each."""
    m = prepare(citizens, paradigm, seed, warmup)
    t0 = time.perf_counter()
    naive = NaiveModel(m, seed=seed)
    build_naive = time.perf_counter() - t0
    core = ArrayCore(m)
    t_naive, t_array = [], []
    check: dict[str, dict[str, float]] = {}
    for k in range(ticks):
        t0 = time.perf_counter()
        naive.step()
        t_naive.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        core.step()
        t_array.append(time.perf_counter() - t0)
        if k == 0:
            a_sum, n_sum = core.summary(), naive.summary()
            check = {key: {"array": a_sum[key], "naive": n_sum[key],
                           "rel_diff": abs(a_sum[key] - n_sum[key]) / max(abs(a_sum[key]),
                                                                          1e-12)}
                     for key in a_sum}
    med_n, med_a = statistics.median(t_naive), statistics.median(t_array)
    return {
        "citizens": len(naive.citizens),
        "paradigm": paradigm,
        "ticks": ticks,
        "naive_build_s": build_naive,
        "naive_s_per_tick": t_naive,
        "array_s_per_tick": t_array,
        "naive_median_s_per_tick": med_n,
        "array_median_s_per_tick": med_a,
        "speedup": med_n / med_a if med_a > 0 else float("nan"),
        "tick1_check": check,
        "tick1_max_rel_diff": max(v["rel_diff"] for v in check.values()) if check else None,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--citizens", type=int, default=10_000)
    ap.add_argument("--ticks", type=int, default=5)
    ap.add_argument("--paradigm", default="network_governance")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    random.seed(args.seed)
    res = compare(args.citizens, args.ticks, args.paradigm, args.seed)
    print(f"naive Mesa vs array, {res['citizens']} citizens, {res['ticks']} ticks "
          f"({res['paradigm']})")
    print(f"  naive  median {res['naive_median_s_per_tick'] * 1000:9.1f} ms/tick")
    print(f"  array  median {res['array_median_s_per_tick'] * 1000:9.1f} ms/tick")
    print(f"  speed-up      {res['speedup']:9.1f} x")
    print("  tick-1 agreement (array vs naive):")
    for k, v in res["tick1_check"].items():
        print(f"    {k:<26} {v['array']:14.4f} {v['naive']:14.4f}  rel {v['rel_diff']:.1e}")
    print(json.dumps({k: res[k] for k in ("speedup", "tick1_max_rel_diff")}))


if __name__ == "__main__":
    main()
