"""Professionals: availability (sick leave), strain, turnover and hiring under a labour
ceiling and the budget; nursing-home places under the same limits.

Of a professional's paid hours, ``professionals.travel_share`` goes to travel between home
visits and ``professionals.indirect_share`` to indirect work (handovers, meetings, training);
the rest serves needs, with the route's documentation share on top. Strain moves towards a
pressure level set by how far demand for professional hours exceeds the hours there are, plus
the share of time spent on documentation and control. Strain raises sick leave and turnover.
Each month the municipality hires towards the staff the last month's demand called for (plus a
staffing margin for holidays and vacancies), limited by the yearly hiring rate, the labour
ceiling (all care FTE, home-based and institutional, per 1,000 aged 20-66) and, when the budget
constraint is on, what the budget leaves for wages. Once a year nursing-home places grow while
people wait for one, within the building rate, the labour ceiling and the budget.
"""

from __future__ import annotations

import numpy as np

from sim.mechanisms.base import TickState


def availability(model, ts: TickState) -> None:
    """Sick-leave transitions, then the professional hours available this month."""
    p, pars, rng = model.professionals, ts.pars, model.rng["workforce"]
    act = np.flatnonzero(p.active)
    if pars["mechanisms.workforce"] and len(act):
        sick = p.sick[act]
        start = ~sick & (rng.random(len(act)) < pars["professionals.sick_leave_base"] * (
            1.0 + pars["professionals.sick_leave_strain_effect"] * p.strain[act]))
        back = sick & (rng.random(len(act)) < pars["professionals.sick_leave_return_per_month"])
        p.sick[act] = (sick & ~back) | start
    working = int((p.active & ~p.sick).sum()) * model.fte_per_professional
    paid = working * pars["professionals.hours_per_fte_month"]
    ts.hours_indirect = paid * (1.0 - productive_share(pars))
    ts.prof_hours_available = paid - ts.hours_indirect


def productive_share(pars: dict) -> float:
    """Share of paid hours that can serve needs (after travel and indirect work)."""
    return max(0.05, 1.0 - pars["professionals.travel_share"]
               - pars["professionals.indirect_share"])


def home_fte(model) -> float:
    """FTE of the home-based services (agent scale): employed professionals x the agent-scale
    FTE of one (``model.fte_per_professional``)."""
    return float(model.professionals.active.sum()) * model.fte_per_professional


def institution_fte(model) -> float:
    """FTE of the nursing homes (agent scale): places x staffing per place."""
    return model.institution_places * model.pars["institutions.fte_per_place"]


def labour_ceiling(model) -> float:
    """Most care FTE (home-based and institutional, agent scale) the labour market yields."""
    return model.pars["professionals.max_fte_per_1000_working_age"] * model.working_age / 1000


def fte_needed(ts: TickState, sick_rate: float = 0.0) -> float:
    """Home-based FTE (agent scale) that the month's demand calls for: demanded hours over
    the productive hours of an FTE, allowing for sick leave, plus the staffing margin."""
    pars = ts.pars
    per_fte = pars["professionals.hours_per_fte_month"] * productive_share(pars)
    return ((ts.prof_demand_hours + ts.hours_facilitation) / (per_fte * max(0.5, 1.0 - sick_rate))
            * (1.0 + pars["professionals.staffing_margin"]))


def grow_places(model) -> None:
    """Once a year: add nursing-home places for last year's waiting list, at most the building
    rate, and only as far as the labour ceiling and (when on) last year's budget leave room."""
    pars = model.pars
    places = model.institution_places
    months = max(1, model.year_waiting_months)
    want = min(model.year_waiting_sum / months,
               places * pars["institutions.max_places_growth_per_year"])
    per_place = pars["institutions.fte_per_place"]
    # the new places' staff must fit under the ceiling beside what home care needs
    # the year's mean demand, not last month's: a month's need is noisy in a small sample (at
    # 1:20 a few heavy cases), and the max would turn that noise into less room (fewer places)
    home = max(home_fte(model), model.year_home_fte_need_sum / months)
    room = (labour_ceiling(model) - home - institution_fte(model)) / max(per_place, 1e-9)
    if pars["mechanisms.budget_constraint"] and model.year_budget_sum > 0:
        spare = ((model.year_budget_sum - model.year_cost_sum) / months * 12
                 - model.budget_repayment)
        room = min(room, spare / pars["institutions.cost_per_place_year"])
    # whole places; the fraction is carried to the next year (so small-scale runs grow alike)
    add = max(0.0, min(want, room)) + model.places_carry
    model.institution_places = places + int(np.floor(add))
    # the fraction is kept through a year without room: dropping it lost up to a place a year,
    # a larger share of the places the smaller the population scale
    model.places_carry = add - np.floor(add)


def step(model, ts: TickState) -> None:
    """Strain, turnover and hiring after this month's allocation."""
    p, pars, rng = model.professionals, ts.pars, model.rng["workforce"]
    hours = pars["professionals.hours_per_fte_month"]
    avail = max(ts.prof_hours_available, 1e-9)
    pressure = ts.prof_demand_hours / avail if ts.prof_hours_available > 0 else 2.0
    doc_share = ts.hours_admin / max(ts.hours_admin + ts.hours_direct, 1e-9)
    act = np.flatnonzero(p.active)
    if pars["mechanisms.workforce"] and len(act):
        target = np.clip(2.0 * (pressure - 0.8) + pars["professionals.documentation_strain"]
                         * doc_share, 0.0, 1.0)
        noise = rng.normal(0.0, 0.05, len(act))
        p.strain[act] = np.clip(p.strain[act] + pars["professionals.strain_response"] * (
            target - p.strain[act]) + noise * pars["professionals.strain_response"], 0.0, 1.0)
        p_quit = 1.0 - (1.0 - np.clip(pars["professionals.turnover_per_year"] * (
            1.0 + pars["professionals.turnover_strain_effect"] * p.strain[act]), 0, 1)) ** (1 / 12)
        leave = act[rng.random(len(act)) < p_quit]
        model.dismiss_professionals(leave)
        ts.finance["turnover"] = len(leave)
        # hiring towards what last month's demand needed, plus the facilitation in use with
        # a fifth more for processes to grow (never beyond the facilitation capacity):
        # facilitators are hired as used, so without processes none are hired
        unit = model.fte_per_professional
        headcount = home_fte(model)  # agent-scale FTE
        sick_rate = float(p.sick[p.active].mean()) if headcount else 0.0
        facilitation = min(ts.facilitation_capacity, 1.2 * ts.hours_facilitation)
        per_fte = hours * productive_share(pars)
        needed = ((ts.prof_demand_hours + facilitation) / (per_fte * max(0.5, 1.0 - sick_rate))
                  * (1.0 + pars["professionals.staffing_margin"]))
        model.home_fte_need = needed
        model.year_home_fte_need_sum += needed
        # the labour ceiling holds for all care staff: the nursing homes' staff come first
        ceiling = max(0.0, labour_ceiling(model) - institution_fte(model))
        limit = min(needed, ceiling)
        if pars["mechanisms.budget_constraint"]:
            limit = min(limit, model.affordable_fte)
        # the hiring rate applies to the staff the municipality is trying to reach, so a
        # depleted workforce can still be rebuilt
        room = pars["professionals.max_hiring_per_year"] / 12.0 * max(headcount, limit,
                                                                     10 * model.scale)
        hires = int(np.floor(min(max(0.0, limit - headcount), room) / unit + rng.random()))
        if hires > 0:
            model.hire_professionals(hires)
        ts.finance["hires"] = hires
    else:
        ts.finance["turnover"] = 0
        ts.finance["hires"] = 0
    model.mean_strain = float(p.strain[p.active].mean()) if p.active.any() else 0.0


def assign_caseloads(model, ts: TickState) -> None:
    """Give each home-care citizen served by professionals a contact professional; citizens
    whose professional left are handed over to the least loaded colleague."""
    c, p = model.citizens, model.professionals
    served = ts.needy[(ts.prof_pp > 0) & ~ts.resident]
    if len(served) == 0 or p.n == 0:
        return
    cp = c.case_pro[served]
    valid = cp >= 0
    valid[valid] = p.active[cp[valid]]
    new = served[~valid]
    act = np.flatnonzero(p.active)
    if len(new) == 0 or len(act) == 0:
        return
    loads = np.bincount(cp[valid], minlength=p.n)[act]
    order = act[np.argsort(loads, kind="stable")]
    c.case_pro[new] = order[np.arange(len(new)) % len(order)]
    ts.finance["handovers"] = int((cp[~valid] >= 0).sum())
