"""Innovation pipeline: new -> useful -> utilised (seed), incremental or radical.

Ideas arise from each paradigm at its own rate (traditional: rare reforms, mostly radical;
NPM: rationalisation; network governance: from thick co-creation process-months, counted in
persons). After a delay an idea proves useful or not; a useful one is taken into use or not.
Each idea is of one kind, drawn with its paradigm's ``*.idea_fit_share``: it either cuts
professional hours per need-hour met (efficiency) or raises fit. Effects are per person (one
idea's effect is stated per 10,000 inhabitants) and capped by ``innovation.max_total_effect``.
"""

from __future__ import annotations

import numpy as np

from sim.mechanisms.base import CS_LED, NG, NPM, ROUTES, THICK, TRAD, TickState

NEW, USEFUL, UTILISED, DROPPED = 0, 1, 2, 3
EFFICIENCY, FIT = 0, 1


def step(model, ts: TickState) -> None:
    pars, rng, inn = ts.pars, model.rng["innovation"], model.ideas
    ts.innovation = {"new": 0, "useful": 0, "utilised": 0}
    if not pars["mechanisms.innovation"]:
        return
    w, pop = ts.weights, model.population
    # process-months are counted in agents: in persons they are that over the scale
    thick_months = (ts.process_months[THICK] + ts.process_months[CS_LED]) / model.scale
    rates = {
        TRAD: w[TRAD] * pars["traditional.ideas_per_10000_per_year"] * pop / 10_000 / 12,
        NPM: w[NPM] * pars["npm.ideas_per_10000_per_year"] * pop / 10_000 / 12,
        NG: (w[NG] * pars["network_governance.ideas_per_10000_per_year"] * pop / 10_000 / 12
             + pars["network_governance.ideas_per_100_thick_process_months"] * thick_months
             / 100),
    }
    radical_share = {TRAD: pars["traditional.radical_share"], NPM: pars["npm.radical_share"],
                     NG: pars["network_governance.radical_share"]}
    # every paradigm's ideas may cut hours or raise fit: the paradigm sets the shares
    fit_share = {src: pars[f"{ROUTES[src]}.idea_fit_share"] for src in (TRAD, NPM, NG)}
    for src, rate in rates.items():
        k = int(rng.poisson(rate))
        if k == 0:
            continue
        radical = rng.random(k) < radical_share[src]
        kind = np.where(rng.random(k) < fit_share[src], FIT, EFFICIENCY)
        inn.add(k, stage=NEW, radical=radical, kind=kind,
                timer=pars["innovation.months_to_useful"], born=model.steps)
        ts.innovation["new"] += k
    # advance the pipeline
    live = np.flatnonzero((inn.stage == NEW) | (inn.stage == USEFUL))
    inn.timer[live] -= 1
    due = live[inn.timer[live] <= 0]
    new_due = due[inn.stage[due] == NEW]
    p_useful = np.where(inn.radical[new_due], pars["innovation.radical_useful_probability"],
                        pars["innovation.useful_probability"])
    ok = rng.random(len(new_due)) < p_useful
    inn.stage[new_due[ok]] = USEFUL
    inn.timer[new_due[ok]] = pars["innovation.months_to_utilised"]
    inn.stage[new_due[~ok]] = DROPPED
    useful_due = due[inn.stage[due] == USEFUL]
    useful_due = useful_due[~np.isin(useful_due, new_due)]
    used = rng.random(len(useful_due)) < pars["innovation.utilised_probability"]
    inn.stage[useful_due[used]] = UTILISED
    inn.stage[useful_due[~used]] = DROPPED
    ts.innovation["useful"] = int(ok.sum())
    ts.innovation["utilised"] = int(used.sum())
    # effects of all utilised ideas
    util = inn.stage == UTILISED
    effect = np.where(inn.radical, pars["innovation.radical_effect"],
                      pars["innovation.incremental_effect"])
    cap = pars["innovation.max_total_effect"]
    # effects are per person: an idea's effect is stated per 10,000 inhabitants, so the same
    # ideas per inhabitant give the same effect in a small or a large municipality
    per = 10_000 / max(pop, 1.0)
    eff = min(cap, float(effect[util & (inn.kind == EFFICIENCY)].sum()) * per)
    model.productivity = 1.0 / (1.0 - eff) if eff < 1 else 1e9
    model.fit_bonus = min(cap, float(effect[util & (inn.kind == FIT)].sum()) * per)
