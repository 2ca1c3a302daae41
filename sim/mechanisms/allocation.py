"""Allocation under the paradigm rules: who gets which hours from whom, tagged by matrix cell.

Each needy citizen is routed to a paradigm by a fixed personal quantile against the current
paradigm weights, so a phase-in moves cases over gradually. Then, per tick:

1. nursing-home places go to the heaviest institutional needs (residents are fully served by
   institution staff);
2. citizens in thick or civil-society-led co-creation use their own and their network's
   mobilised hours and volunteers first ("resource perspective");
3. professional hours — what is left after facilitation — are split across routes; each route
   first pays its assessment/ordering and documentation overhead, then rations direct hours by
   priority (severity, then waiting time): the queue;
4. volunteers then help others in the domains they can work in;
5. family carers fill part of what is left (they step back where public help is given).
Every delivered hour is tagged with its cell of the 3x3 design x production matrix.
"""

from __future__ import annotations

import numpy as np

from sim.mechanisms.base import (
    CS_LED,
    DOMAINS,
    INFORMAL_DOMAINS,
    IS_CS_FIRST,
    IS_PARTNER,
    IS_THIN,
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
    cell,
)
from sim.mechanisms.cocreation import effective_resources

P_, J_, C_ = 0, 1, 2  # professional, joint, civil society responsibility


def rowsum(x: np.ndarray, domains: np.ndarray | None = None) -> np.ndarray:
    """Sum over the domains (all, or those where ``domains`` is 1) of an (n, 5) array.

    Column by column: eight times faster than ``sum(axis=1)`` over five columns, and, unlike a
    BLAS product, summed in the same order whatever the machine's threads (determinism)."""
    cols = range(N_DOMAINS) if domains is None else np.flatnonzero(domains)
    out = np.zeros(len(x), dtype=x.dtype)
    for d in cols:
        out += x[:, d]
    return out


def ration(demand: np.ndarray, priority: np.ndarray, capacity: float) -> np.ndarray:
    """Serve ``demand`` in order of ``priority`` (highest first) until ``capacity`` is used."""
    served = np.zeros(len(demand), dtype=np.float64)
    if capacity <= 0 or len(demand) == 0:
        return served
    if demand.sum() <= capacity:  # enough for everyone: no queue to sort
        return demand.astype(np.float64)
    order = np.argsort(-priority, kind="stable")
    d = demand[order].astype(np.float64)
    before = np.cumsum(d) - d
    served[order] = np.clip(capacity - before, 0.0, d)
    return served


def spread(total: np.ndarray, remaining: np.ndarray, eligible: np.ndarray | None = None
           ) -> np.ndarray:
    """Split per-person hours ``total`` over domains in proportion to remaining eligible need
    (never more than that need)."""
    r = remaining if eligible is None else remaining * eligible
    s = rowsum(r, eligible)
    share = np.divide(total, s, out=np.zeros(len(s), dtype=np.float32), where=s > 0,
                      casting="unsafe")
    np.minimum(share, 1.0, out=share)
    return r * share[:, None]


def route(model, ts: TickState) -> None:
    """Paradigm route of each needy citizen, from the paradigm weights."""
    q = model.citizens.route_q[ts.needy]
    w = ts.weights
    ts.route = np.where(q < w[0], TRAD, np.where(q < w[0] + w[1], NPM, NG)).astype(np.int8)


def admission_priority(ts: TickState, pars: dict) -> np.ndarray:
    """Priority for a nursing-home place: severity, plus a bonus per decade of age above the
    minimum age, plus a bonus for dementia."""
    decades = np.maximum(0.0, (ts.age - pars["institutions.min_age"]) / 10.0)
    return (ts.severity + pars["institutions.priority_per_decade"] * decades
            + pars["institutions.priority_dementia"] * ts.dementia)


def institutions(model, ts: TickState) -> None:
    """Keep residents who still need a place; fill free places by admission priority (see
    ``admission_priority``); those who need a place and get none wait for one."""
    c, pars = model.citizens, ts.pars
    places = model.institution_places
    eligible = ts.institution_need & (ts.age >= pars["institutions.min_age"])
    res_flag = c.resident[ts.needy]
    stay = res_flag & eligible
    # residents who no longer need a place (or died/left) free it
    c.resident[:] = False
    c.resident[ts.needy[stay]] = True
    free = max(0, int(places) - int(stay.sum()))
    waiting = np.flatnonzero(eligible & ~stay)
    taken = 0
    if free and len(waiting):
        prio = admission_priority(ts, pars)[waiting]
        take = waiting[np.argsort(-prio, kind="stable")[:free]]
        c.resident[ts.needy[take]] = True
        taken = len(take)
    ts.resident = c.resident[ts.needy].copy()
    ts.waiting_place = len(waiting) - taken
    model.residents = int(ts.resident.sum())


def informal_available(model, ts: TickState) -> np.ndarray:
    """Hours a month each needy citizen can get from family/household carers and self-help.

    Also keeps, for the carers' accounting after allocation, each family tie of the needy:
    ``ts.carer_ties = (row of the needy, carer slot, hours the carer offers this tie)``, and
    ``ts.family_available`` (the family part of the hours, without self-help)."""
    c, pars = model.citizens, ts.pars
    n_slots = model.net.family.shape[0]
    empty = np.empty(0, np.int64)
    ts.carer_ties = (empty, empty, np.empty(0))
    if not pars["mechanisms.informal_care"] or n_slots == 0:
        ts.family_share = np.zeros(len(ts.needy))
        ts.family_available = np.zeros(len(ts.needy))
        return np.zeros(len(ts.needy))
    # each carer's hours are shared equally among their needy family members; only the ties
    # of the needy are read (newcomers since the yearly rebuild have no family ties yet)
    inside = np.flatnonzero(ts.needy < n_slots)
    owner, carer = model.net.family_ties(ts.needy[inside])
    # adults 18-84 can care, with hours by their resources (ages refreshed yearly with the
    # network); the dead and those in need themselves cannot
    hours = model.carer_base_hours[carer] * (c.alive[carer] & ~ts.is_needy[carer])
    per_tie = hours / np.bincount(carer)[carer]
    avail = np.zeros(len(ts.needy))
    avail[inside] = np.bincount(owner, weights=per_tie, minlength=len(inside))
    ts.carer_ties = (inside[owner], carer, per_tie)
    # targeted partners get the municipality's support added to their own resources
    res = c.resources[ts.needy]
    if pars["cocreation.targeting"] and len(ts.process):
        res = np.where(ts.process > 0, effective_resources(model, ts.needy, pars), res)
    own = pars["informal.own_hours"] * res * (1.0 - ts.severity)
    ts.family_available = avail
    ts.family_share = np.divide(avail, avail + own, out=np.zeros(len(avail)),
                                where=avail + own > 0)
    return avail + own


def coordination_hours(pars: dict, ng_cases: float, processes: int) -> float:
    """Professional hours a month network governance spends coordinating partners (family,
    volunteers, other services): per case and per active co-creation process."""
    return (pars["network_governance.coordination_hours_per_case"] * ng_cases / 12.0
            + pars["network_governance.coordination_hours_per_process_month"] * processes)


def carers(model, ts: TickState) -> None:
    """The family carers' side of the month: hours each carer gave (their offered hours in
    the share their needy relative used), strain, and the paid work and tax it cost.

    A carer's strain is hours / (hours + ``informal.strain_half_hours``). Carers aged 20-66
    lose ``informal.work_loss_per_care_hour`` paid hours per care hour above
    ``informal.work_loss_threshold_hours`` a month."""
    c, pars = model.citizens, ts.pars
    rows, carer, per_tie = ts.carer_ties
    fam_given = ts.inf_pp * ts.family_share
    ts.family_hours = float(fam_given.sum()) if len(fam_given) else 0.0
    ts.carers = 0
    ts.carer_strain = ts.carer_lost_work_hours = ts.carer_hours_heavy = 0.0
    if len(carer) == 0:
        return
    used = np.divide(fam_given, ts.family_available, out=np.zeros(len(fam_given)),
                     where=ts.family_available > 0)
    given = per_tie * np.minimum(used, 1.0)[rows]
    h_all = np.bincount(carer, weights=given)
    who = np.flatnonzero(h_all > 0)
    h = h_all[who]
    ts.carers = len(who)
    if len(who) == 0:
        return
    strain = h / (h + pars["informal.strain_half_hours"])
    ts.carer_strain = float(strain.mean())
    ts.carer_hours_heavy = int((h > pars["informal.work_loss_threshold_hours"]).sum())
    age = c.age_months[who] // 12
    working = (age >= 20) & (age <= 66)
    over = np.maximum(0.0, h - pars["informal.work_loss_threshold_hours"]) * working
    ts.carer_lost_work_hours = float(over.sum() * pars["informal.work_loss_per_care_hour"])


def deliver(model, ts: TickState) -> None:
    """Allocate professional, volunteer and informal hours (see module docstring).

    Rows are the needy; ``remaining`` is the need still unmet, per domain. Steps on large
    groups work on whole arrays with zero hours outside the group (cheaper than gathering
    and scattering rows); steps on the few in co-creation work on their rows."""
    c, pars = model.citizens, ts.pars
    n = len(ts.needy)
    need = ts.need
    resident = ts.resident
    proc = ts.process
    home = ~resident
    ts.need_pp = rowsum(need).astype(np.float64)

    # 1. institutions: residents fully served by institution staff
    prof = need * resident[:, None]
    remaining = need * home[:, None]
    vol = np.zeros_like(need)
    inf = np.zeros_like(need)
    ts.institution_hours = float(ts.need_pp[resident].sum())

    # 2. co-production first for thick / civil-society-led / outside-produced processes
    inf_avail = informal_available(model, ts)
    cs_first = home & IS_CS_FIRST[proc]
    mob = np.where(IS_PARTNER[proc], pars["cocreation.informal_mobilisation"], 1.0)
    cap_inf = inf_avail * mob
    ts.informal_hours_available = float(cap_inf.sum())
    vol_pool = model.volunteer_hours_available
    ts.vol_hours_available = vol_pool
    if cs_first.any():
        rows = np.flatnonzero(cs_first)
        rem = remaining[rows]
        take = np.minimum(cap_inf[rows], pars["cocreation.coproduction_share"]
                          * rowsum(rem, INFORMAL_DOMAINS))
        inf[rows] = spread(take, rem, INFORMAL_DOMAINS)
        rem -= inf[rows]
        cap_inf[rows] -= take
        if vol_pool > 0:
            got = ration(rowsum(rem, VOLUNTEER_DOMAINS), ts.severity[rows], vol_pool)
            vol[rows] = spread(got, rem, VOLUNTEER_DOMAINS)
            rem -= vol[rows]
            vol_pool -= float(got.sum())
        remaining[rows] = rem

    # 2b. family carers and self-help are the first line in every paradigm: they give up to
    # ``informal.first_line_share`` of the need in their domains before public help is asked
    first = home & ~cs_first
    if first.any() and pars["informal.first_line_share"] > 0:
        take = np.minimum(cap_inf, pars["informal.first_line_share"]
                          * rowsum(remaining, INFORMAL_DOMAINS)) * first
        given = spread(take, remaining, INFORMAL_DOMAINS)
        inf += given
        remaining -= given
        cap_inf = cap_inf - rowsum(given, INFORMAL_DOMAINS)

    # 3. professionals: facilitation first, then overhead and rationed direct hours per route
    pool = max(0.0, ts.prof_hours_available - ts.hours_facilitation)
    saving = np.where(proc == THICK, pars["cocreation.professional_hours_saving"], 0.0)
    factor = (1.0 - saving) / model.productivity  # professional hours per need-hour met
    dem_hours = rowsum(remaining) * factor  # (zero for residents)
    cases = np.bincount(ts.route[home], minlength=3).astype(np.float64)
    assess = np.array([pars[f"{r}.assessment_hours_per_case"] for r in ROUTES]) * cases / 12.0
    # network governance coordinates its partners: per case, and per month of each process
    assess[NG] += coordination_hours(pars, cases[NG], int((proc[home] != NO_PROCESS).sum()))
    doc = np.array([pars[f"{r}.documentation_share"] for r in ROUTES])
    dem_r = np.bincount(ts.route, weights=dem_hours, minlength=3)
    want = assess + dem_r * (1.0 + doc)
    ts.prof_demand_hours = float(want.sum())
    share = want / want.sum() * pool if want.sum() > 0 else np.zeros(3)
    share = np.minimum(share, want)
    assess_done = np.minimum(assess, share)
    direct_cap = (share - assess_done) / (1.0 + doc)
    prio = ts.severity + 0.05 * c.wait[ts.needy]
    served_need = np.zeros(n)
    direct_used = np.zeros(3)
    for r in np.flatnonzero(cases):
        rows = np.flatnonzero((ts.route == r) & home) if cases[r] < n else np.arange(n)
        got = ration(dem_hours[rows], prio[rows], direct_cap[r])
        direct_used[r] = got.sum()
        served_need[rows] = np.divide(got, factor[rows], out=np.zeros_like(got),
                                      where=factor[rows] > 0)
    prof_home = spread(served_need, remaining)
    prof += prof_home
    remaining -= prof_home
    ts.hours_direct = float(direct_used.sum())
    ts.hours_admin = float(assess_done.sum() + (direct_used * doc).sum())
    used = ts.hours_direct + ts.hours_admin
    ts.hours_idle = max(0.0, pool - used)
    ts.contract_hours = float(direct_used[NPM] * pars["npm.tendered_share"])

    # 4. volunteers help the rest in their domains, heaviest needs first
    others = home & ~cs_first
    rows = np.flatnonzero(others)
    if len(rows) and vol_pool > 0:
        got = np.zeros(n)
        got[rows] = ration(rowsum(remaining, VOLUNTEER_DOMAINS)[rows], ts.severity[rows],
                           vol_pool)
        given = spread(got, remaining, VOLUNTEER_DOMAINS)
        vol += given
        remaining -= given

    # 5. family carers take up part of what is left, within what they have left: when public
    # help falls short they give more (substitution, Andersen, Nielsen & Thomsen 2015)
    if len(rows):
        take = np.minimum(cap_inf, pars["informal.substitution"]
                          * rowsum(remaining, INFORMAL_DOMAINS)) * others
        given = spread(take, remaining, INFORMAL_DOMAINS)
        inf += given
        remaining -= given

    ts.prof, ts.vol, ts.informal = prof, vol, inf
    ts.prof_pp = rowsum(prof).astype(np.float64)
    ts.vol_pp = rowsum(vol).astype(np.float64)
    ts.inf_pp = rowsum(inf).astype(np.float64)
    carers(model, ts)
    ts.cells = tag_cells(ts, pars)
    # waiting: a home-care case left with less than half of its need met waits on
    got = ts.prof_pp + ts.vol_pp + ts.inf_pp
    wait = c.wait[ts.needy]
    c.wait[ts.needy] = np.where(home & (got < 0.5 * ts.need_pp), wait + 1, 0)


def tag_cells(ts: TickState, pars: dict) -> np.ndarray:
    """Hours per cell of the 3x3 matrix (index production*3 + design)."""
    proc, rt = ts.process, ts.route
    none = proc == NO_PROCESS
    # sums by process type (0-4); for those outside processes, professional hours of NPM
    # home orders and volunteer hours under network governance are summed apart (key 5)
    npm_home = none & (rt == NPM) & ~ts.resident
    p = np.bincount(np.where(npm_home, 5, proc), weights=ts.prof_pp, minlength=6)
    v = np.bincount(np.where(none & (rt == NG), 5, proc), weights=ts.vol_pp, minlength=6)
    f = np.bincount(proc, weights=ts.inf_pp, minlength=5)
    cells = np.zeros(9)
    # professional hours outside processes: professional design and production, except the
    # tendered share of NPM orders (designed by the purchaser, produced outside the municipality)
    tendered = pars["npm.tendered_share"]
    cells[cell(P_, P_)] += p[NO_PROCESS] + (1.0 - tendered) * p[5]
    cells[cell(C_, P_)] += tendered * p[5]
    # volunteers outside processes: joint production of professionally planned services,
    # or self-organised civil society under network governance
    cells[cell(J_, P_)] += v[NO_PROCESS]
    cells[cell(C_, C_)] += v[5]
    cells[cell(C_, C_)] += f[NO_PROCESS]  # family care: civil society designs and produces
    for kind, prof_cell, other_cell in (
            (THICK, cell(J_, J_), cell(J_, J_)),
            (THIN, cell(P_, J_), cell(C_, J_)),
            (THIN_OUTSIDE, cell(C_, J_), cell(C_, J_)),
            (CS_LED, cell(J_, C_), cell(J_, C_))):
        cells[prof_cell] += p[kind]
        cells[other_cell] += v[kind] + f[kind]
    return cells


def lay_weights(pars: dict) -> np.ndarray:
    """Quality weight of an unpaid (volunteer, family or own) hour per domain, against 1 for a
    professional hour."""
    return np.array([pars[f"quality.lay_hours_weight.{d}"] for d in DOMAINS], dtype=np.float32)


def competence(ts: TickState, pars: dict, got: np.ndarray) -> np.ndarray:
    """Per needy citizen: the hour-weighted competence of the help received (1 = all hours
    professional or lay hours in domains where they count fully; 1 where nothing was got).
    The same rule in every paradigm: lay hours count for less wherever they are given."""
    w = lay_weights(pars)
    lay = (ts.vol + ts.informal) * w
    weighted = ts.prof_pp + rowsum(lay).astype(np.float64)
    return np.divide(weighted, got, out=np.ones(len(got)), where=got > 0).clip(0.0, 1.0)


def outcomes(model, ts: TickState) -> None:
    """Fit, continuity, timeliness -> quality; coverage; for each needy citizen."""
    c, pars = model.citizens, ts.pars
    rt, proc = ts.route, ts.process
    niche = ts.niche = model.niche_of(ts.needy)
    std = np.array([pars[f"{r}.standardisation"] for r in ROUTES])[rt]
    tailor = np.where(IS_PARTNER[proc], pars["cocreation.thick_tailoring"],
                      np.where(IS_THIN[proc], pars["cocreation.thin_tailoring"], 0.0))
    fit = 1.0 - niche * std * (1.0 - tailor)
    fit = fit + np.where(rt == NPM, pars["npm.choice_fit_bonus"], 0.0) + model.fit_bonus
    fit = np.where(ts.resident, pars["quality.institution_fit"] * (1.0 - 0.5 * niche * std), fit)
    ts.fit = np.clip(fit, 0.0, 1.0).astype(np.float32)
    cont = np.array([pars[f"{r}.continuity"] for r in ROUTES])[rt]
    cont = cont * (1.0 - pars["quality.strain_continuity_effect"] * model.mean_strain)
    cont = cont * np.where(rt == NPM, 1.0 - pars["npm.contractor_quality_shading"]
                           * pars["npm.tendered_share"], 1.0)
    timely = 1.0 / (1.0 + pars["quality.wait_penalty_per_month"] * c.wait[ts.needy])
    total = ts.need_pp
    got = ts.prof_pp + ts.vol_pp + ts.inf_pp
    ts.competence = competence(ts, pars, got)
    ts.quality = (ts.fit * np.clip(cont, 0, 1) * timely * ts.competence).astype(np.float32)
    ts.coverage = np.clip(np.divide(got, total, out=np.zeros_like(got), where=total > 0),
                          0.0, 1.0).astype(np.float32)
    c.coverage[ts.needy] = ts.coverage
    c.quality[ts.needy] = ts.quality
