"""Co-creation processes for citizens routed to network governance (docs/design.md §2-3).

Facilitators (professional hours set aside, scaled by the weight of network governance) run
processes, one per participating citizen. Thick processes are continuous (until the need ends
or the citizen drops out) and cost more facilitation; thin ones are ad hoc and end after a few
months. Whether an invited citizen joins depends on their resources, ties and trust, times a
propensity. Without targeting the resourceful come forward first; with targeting, facilitators
invite low-resource citizens first and lend them extra resources (Jakobsen & Andersen 2013).
"""

from __future__ import annotations

import numpy as np

from sim.mechanisms.base import (
    CS_LED,
    IS_PARTNER,
    IS_THIN,
    NG,
    NO_PROCESS,
    THICK,
    THIN,
    THIN_OUTSIDE,
    TickState,
)

LOW_RESOURCE = 0.4  # below this a citizen counts as low-resource (also used by the metrics)
HIGH_RESOURCE = 0.6


def facilitation_hours(proc: np.ndarray, pars: dict) -> np.ndarray:
    per = np.zeros(5)
    per[THICK] = per[CS_LED] = pars["cocreation.thick_facilitation_hours"]
    per[THIN] = per[THIN_OUTSIDE] = pars["cocreation.thin_facilitation_hours"]
    return per[proc]


def facilitation_capacity(model, pars: dict, ng_weight: float) -> float:
    """Facilitator hours a month at agent scale: FTE per 10,000 persons x persons x scale.

    ``model.population`` counts persons; every hour the processes use is counted at agent
    scale, so the capacity carries ``model.scale`` (the scale rule, docs/researchers.md §6)."""
    return (pars["cocreation.facilitator_fte_per_10000"] * model.population / 10_000
            * model.scale * pars["professionals.hours_per_fte_month"] * ng_weight)


def effective_resources(model, idx: np.ndarray, pars: dict) -> np.ndarray:
    r = model.citizens.resources[idx]
    if pars["cocreation.targeting"]:
        r = np.where(r < LOW_RESOURCE, r + pars["cocreation.targeting_resource_boost"], r)
    return np.clip(r, 0.0, 1.0)


def step(model, ts: TickState) -> None:
    """End processes, start new ones within facilitation capacity; fill ts.process."""
    c, pars, rng = model.citizens, ts.pars, model.rng["cocreation"]
    needy = ts.needy
    proc_all = c.process
    # processes of citizens no longer needy (or dead) end: clear everyone not in this tick's set
    in_proc = np.flatnonzero(proc_all[: c.n] != NO_PROCESS)
    if len(in_proc):
        gone = in_proc[~ts.is_needy[in_proc]]
        proc_all[gone] = NO_PROCESS
        c.process_months[gone] = 0
    proc = proc_all[needy]
    months = c.process_months[needy]
    eligible = (ts.route == NG) & ~ts.resident
    # leaving network governance (a paradigm shift back) or dropping out ends a process
    drop = (proc != NO_PROCESS) & ~eligible
    drop |= IS_PARTNER[proc] & (rng.random(len(proc)) < pars["cocreation.dropout_per_month"])
    drop |= IS_THIN[proc] & (months >= pars["cocreation.thin_duration_months"])
    proc = np.where(drop, NO_PROCESS, proc).astype(np.int8)
    months = np.where(proc != NO_PROCESS, months + 1, 0)

    on = pars["mechanisms.cocreation"]
    cap = 0.0
    if on:
        cap = facilitation_capacity(model, pars, ts.weights[NG])
    # facilitation comes out of the professional pool: never more than is there
    pool = ts.prof_hours_available
    cap = min(cap, pool)
    # processes are whole: the one admitted at the margin may run over the capacity by less
    # than one process (see below), so running processes close only beyond that margin
    limit = min(cap + pars["cocreation.thick_facilitation_hours"], pool) if cap > 0 else 0.0
    used = float(facilitation_hours(proc, pars).sum())
    if used > limit:  # capacity fell (budget, staff): the newest processes close first
        active = np.flatnonzero(proc != NO_PROCESS)
        order = active[np.argsort(-months[active], kind="stable")]  # oldest kept first
        over = np.cumsum(facilitation_hours(proc[order], pars)) > limit
        proc[order[over]] = NO_PROCESS
        months[order[over]] = 0
        used = float(facilitation_hours(proc, pars).sum())
    new = 0
    cand = np.flatnonzero(eligible & (proc == NO_PROCESS))
    free = cap - used
    if on and len(cand) and free > 0:
        thick_share = min(1.0, pars["cocreation.thick_share"])
        cs_share = min(1.0 - thick_share, pars["cocreation.civil_society_led_share"])
        # enough candidates to fill the free hours even if all were of the cheaper kind
        cheapest = min(pars["cocreation.thick_facilitation_hours"],
                       pars["cocreation.thin_facilitation_hours"])
        slots = int(free // max(cheapest, 1e-9)) + 1
        if slots > 0:
            idx = needy[cand]
            res = effective_resources(model, idx, pars)
            ties = np.minimum(model.net.degree[np.minimum(idx, len(model.net.degree) - 1)]
                              if len(model.net.degree) else np.zeros(len(idx)), 20) / 20.0
            score = (0.5 + pars["cocreation.resource_weight"] * (res - 0.5)
                     + pars["cocreation.ties_weight"] * (ties - 0.5) + (c.trust[idx] - 0.5))
            p_join = pars["cocreation.participation_propensity"] * np.clip(score, 0.0, 1.0)
            # who would join; when there are more than the free slots, the order decides
            joins = np.flatnonzero(rng.random(len(cand)) < p_join)
            if pars["cocreation.targeting"]:
                rank = c.resources[idx[joins]]  # low resources first
            else:
                rank = -p_join[joins]  # the resourceful come forward
            chosen = joins[np.argsort(rank, kind="stable")[:slots]]
            kind_draw = rng.random(len(chosen))
            outside = rng.random(len(chosen)) < pars["cocreation.thin_outside_share"]
            kind = np.where(kind_draw < thick_share, THICK,
                            np.where(kind_draw < thick_share + cs_share, CS_LED,
                                     np.where(outside, THIN_OUTSIDE, THIN)))
            # slots were counted at the mean cost: keep only what the free hours really cover;
            # the next process is admitted with the chance of the share of its hours still
            # free, so the capacity used is right on average whatever the population scale
            # (with only whole processes admitted, a 1:20 run would leave about half a
            # process of each month's capacity unused: 1-2 % fewer processes per person)
            hours = facilitation_hours(kind, pars)
            cum = np.cumsum(hours)
            fits = cum <= free
            k = int(fits.sum())
            if k < len(kind):
                left = free - (cum[k - 1] if k else 0.0)
                if used + cum[k] <= pool and rng.random() < left / hours[k]:
                    fits[k] = True
            chosen, kind = chosen[fits], kind[fits]
            proc[cand[chosen]] = kind
            months[cand[chosen]] = 1
            new = len(chosen)
    proc_all[needy] = proc
    c.process_months[needy] = months
    ts.process = proc
    ts.new_processes = new
    ts.facilitation_capacity = cap
    ts.hours_facilitation = float(facilitation_hours(proc, pars).sum())
    ts.process_months = np.bincount(proc, minlength=5).astype(float)
