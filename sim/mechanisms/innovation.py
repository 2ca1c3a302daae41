"""Innovation pipeline: new -> useful -> utilised (seed), incremental or radical.

Ideas arise from each paradigm at its own rate (traditional: rare reforms, mostly radical;
NPM: rationalisation; network governance: from thick co-creation process-months). After a
delay an idea proves useful or not; a useful one is taken into use or not. Utilised ideas
either cut professional hours per need-hour met (efficiency: NPM ideas, half of traditional
ones) or raise fit (co-creation ideas, the other half of traditional ones), up to a ceiling.
"""

from __future__ import annotations

import numpy as np

from sim.mechanisms.base import CS_LED, NG, NPM, THICK, TRAD, TickState

NEW, USEFUL, UTILISED, DROPPED = 0, 1, 2, 3
EFFICIENCY, FIT = 0, 1


def step(model, ts: TickState) -> None:
    pars, rng, inn = ts.pars, model.rng["innovation"], model.ideas
    ts.innovation = {"new": 0, "useful": 0, "utilised": 0}
    if not pars["mechanisms.innovation"]:
        return
    w, pop = ts.weights, model.population
    thick_months = ts.process_months[THICK] + ts.process_months[CS_LED]
    rates = {
        TRAD: w[TRAD] * pars["traditional.ideas_per_10000_per_year"] * pop / 10_000 / 12,
        NPM: w[NPM] * pars["npm.ideas_per_10000_per_year"] * pop / 10_000 / 12,
        NG: pars["cocreation.ideas_per_100_thick_process_months"] * thick_months / 100,
    }
    radical_share = {TRAD: pars["traditional.radical_share"], NPM: pars["npm.radical_share"],
                     NG: pars["cocreation.radical_share"]}
    for src, rate in rates.items():
        k = int(rng.poisson(rate))
        if k == 0:
            continue
        radical = rng.random(k) < radical_share[src]
        if src == NPM:
            kind = np.full(k, EFFICIENCY)
        elif src == NG:
            kind = np.full(k, FIT)
        else:
            kind = (rng.random(k) < 0.5).astype(int)
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
    eff = min(cap, float(effect[util & (inn.kind == EFFICIENCY)].sum()))
    model.productivity = 1.0 / (1.0 - eff) if eff < 1 else 1e9
    model.fit_bonus = min(cap, float(effect[util & (inn.kind == FIT)].sum()))
