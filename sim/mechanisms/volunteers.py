"""Volunteers: motivation crowded out by control and crowded in by real influence, retention
and recruitment (Frey & Jegen 2001; Gneezy & Rustichini 2000).

The regime a volunteer meets is the paradigm mix: control and influence are weighted by the
paradigm weights. Motivation moves each month by ``crowding x (influence x (1 - m) - control x
m)`` and recovers only slowly towards its intrinsic level, so crowding-out outlasts the
control that caused it. Less motivated volunteers quit more; recruitment by word of mouth
scales with the pool's motivation. With crowding at zero the regime has no effect at all.
"""

from __future__ import annotations

import numpy as np

from sim.mechanisms.base import ROUTES, TickState


def regime(pars: dict, weights: np.ndarray) -> tuple[float, float]:
    control = sum(w * pars[f"{r}.volunteer_control"] for r, w in zip(ROUTES, weights, strict=True))
    influence = sum(w * pars[f"{r}.volunteer_influence"]
                    for r, w in zip(ROUTES, weights, strict=True))
    return float(control), float(influence)


def recruit(model, count: int, rng: np.random.Generator, pars: dict,
            alive_idx: np.ndarray | None = None) -> None:
    """Add ``count`` volunteers among adults 20-84 who do not volunteer; the resourceful
    are likelier to say yes. (Asked: people drawn at random among the living, ``alive_idx``
    if given, of whom those eligible count; no scan of the whole population.)"""
    if count <= 0:
        return
    c, v = model.citizens, model.volunteers
    alive = np.flatnonzero(c.alive) if alive_idx is None else alive_idx
    if len(alive) == 0:
        return
    asked = alive[rng.integers(0, len(alive), 6 * count)]
    age = c.age_months[asked] // 12
    draw = asked[(age >= 20) & (age < 85) & (c.volunteer[asked] < 0)][: 3 * count]
    draw = draw[rng.random(len(draw)) < 0.5 + 0.5 * c.resources[draw]]
    _, first = np.unique(draw, return_index=True)  # each person once, in the order asked
    draw = draw[np.sort(first)][:count]
    if len(draw) == 0:
        return
    m0 = np.clip(rng.normal(pars["volunteers.initial_motivation"], 0.1, len(draw)), 0.05, 1.0)
    hours = pars["volunteers.hours_offered_per_month"] * rng.gamma(4.0, 0.25, len(draw))
    slots = v.add(len(draw), person=draw, active=True, motivation=m0, intrinsic=m0,
                  hours=hours)
    c.volunteer[draw] = slots


def available_hours(model) -> float:
    v = model.volunteers
    return float((v.hours * v.motivation * v.active).sum())


def step(model, ts: TickState) -> None:
    v, c, pars, rng = model.volunteers, model.citizens, ts.pars, model.rng["volunteers"]
    # volunteers whose person died or left stop (this is accounting, not behaviour)
    gone = v.active & ~c.alive[v.person]
    if gone.any():
        model.retire_volunteers(np.flatnonzero(gone))
    if not pars["mechanisms.volunteers"]:
        return
    control, influence = regime(pars, ts.weights)
    act = np.flatnonzero(v.active)
    m = v.motivation[act]
    k = pars["volunteers.motivation_crowding"]
    m = m + k * (influence * (1.0 - m) - control * m) \
        + pars["volunteers.motivation_recovery"] * (v.intrinsic[act] - m)
    v.motivation[act] = np.clip(m, 0.0, 1.0)
    p_quit = 1.0 - (1.0 - np.clip(pars["volunteers.quit_per_year"] * (
        1.0 + pars["volunteers.quit_motivation_sensitivity"] * (1.0 - v.motivation[act])),
        0.0, 1.0)) ** (1.0 / 12.0)
    quit_ = act[rng.random(len(act)) < p_quit]
    if len(quit_):
        model.retire_volunteers(quit_)
    n_active = len(act) - len(quit_)
    mean_m = float(v.motivation[act].mean()) if len(act) else pars[
        "volunteers.initial_motivation"]
    adults = model.adults_20_84
    room = max(0.0, 1.0 - n_active / max(1.0, pars["volunteers.max_share_of_adults"] * adults))
    expected = (pars["volunteers.recruitment_per_year"] * n_active * mean_m + pars[
        "volunteers.base_recruitment_per_1000_adults"] * adults / 1000) / 12.0 * room
    recruit(model, int(rng.poisson(expected)), rng, pars, ts.alive_idx)
    ts.finance["volunteers_quit"] = len(quit_)
