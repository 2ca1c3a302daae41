"""Needs by service domain, rising with age, with a severity and a niche-ness.

Each citizen carries a fixed frailty quantile ``u`` (0-1). In domain d they have a need when
``u < p_d(age) * (1 + burden effect)``, where ``p_d`` is a logistic curve in age (elderly
domains) or a flat prevalence (children). Because ``u`` is fixed, the same people stay in need
and get worse as they age: prevalence by age follows the curve, persons persist.
Needs under 67 (disability, mental illness, addiction) are drawn per domain: a second personal
quantile gives four independent per-domain quantiles (its successive binary digits), each set
against that domain's under-67 prevalence, so a working-age person may need nursing without
practical help and the domains are not one shared frailty draw.
Severity is how far below the threshold the quantile lies; hours follow a convex severity
curve. Niche-ness (how badly a standard package fits) is personal, rises with cultural distance
and with a yearly trend. Dementia (which lowers the personal-care severity at which a person needs a nursing-home place
and raises their priority for one) follows its own logistic curve in age and a third personal
quantile.
"""

from __future__ import annotations

import numpy as np

from sim.mechanisms.base import DOMAINS, ELDERLY_DOMAINS, N_DOMAINS, TickState

MAX_AGE = 106


YOUNG_MIN_AGE, YOUNG_MAX_AGE = 20, 66  # ages with the separate under-67 per-domain needs
_DIGITS = np.float64(4096.0)  # 12 binary digits of the young quantile per domain


def prevalence_table(pars: dict) -> np.ndarray:
    """p[age, domain]: chance of a need by single-year age, before the health burden (the
    age curve of the elderly domains; the children's flat prevalence)."""
    age = np.arange(MAX_AGE, dtype=np.float64) + 0.5
    table = np.zeros((MAX_AGE, N_DOMAINS))
    spread = pars["needs.onset_spread_years"]
    for d in range(ELDERLY_DOMAINS):
        onset = pars[f"needs.{DOMAINS[d]}.onset_age"]
        table[:, d] = pars["needs.max_prevalence"] / (1.0 + np.exp(-(age - onset) / spread))
    table[:20, ELDERLY_DOMAINS] = pars["needs.children_youth.prevalence"]
    return table


def young_prevalence_table(pars: dict) -> np.ndarray:
    """q[age, domain]: chance of an under-67 need (disability, mental health) by age, drawn
    per domain independently of the elderly age curve; zero outside ages 20-66."""
    table = np.zeros((MAX_AGE, N_DOMAINS))
    for d in range(ELDERLY_DOMAINS):
        table[YOUNG_MIN_AGE:YOUNG_MAX_AGE + 1, d] = pars[
            f"needs.{DOMAINS[d]}.under67_prevalence"]
    return table


def young_quantiles(q: np.ndarray, domain: int) -> np.ndarray:
    """Per-domain quantile from a person's under-67 quantile ``q`` (float64 in [0, 1)): the
    ``domain``-th group of 12 binary digits, itself uniform and independent of the others."""
    return np.mod(q * _DIGITS ** domain, 1.0)


def dementia_prevalence(pars: dict) -> np.ndarray:
    """Share with dementia by single-year age (logistic)."""
    age = np.arange(MAX_AGE, dtype=np.float64) + 0.5
    return 1.0 / (1.0 + np.exp(-(age - pars["needs.dementia.midpoint_age"])
                               / pars["needs.dementia.spread_years"]))


def hours_scale(pars: dict) -> np.ndarray:
    """Mean monthly hours per domain for a person with that need."""
    return np.array([pars[f"needs.{d}.hours_per_month"] for d in DOMAINS], dtype=np.float32)


def severity_hours(severity: np.ndarray, pars: dict) -> np.ndarray:
    """Relative hours (mean 1 over uniform severity) for severities in [0, 1]."""
    k, ratio = pars["needs.severity_shape"], pars["needs.severity_hours_ratio"]
    norm = 1.0 + (ratio - 1.0) / (k + 1.0)
    if k == int(k) and 1 <= k <= 4:  # whole exponents (the default 3) by multiplication
        powered = severity.copy()
        for _ in range(int(k) - 1):
            powered *= severity
    else:
        powered = severity ** np.float32(k)
    return np.float32(1.0 / norm) + np.float32((ratio - 1.0) / norm) * powered


def niche(model, idx: np.ndarray, year: float) -> np.ndarray:
    """Niche-ness of the needs of citizens ``idx`` in ``year`` (0-1)."""
    c, pars = model.citizens, model.pars
    trend = pars["needs.niche_trend_per_year"] * (year - model.start_year)
    return np.clip(c.niche0[idx] + pars["needs.niche_cultural_weight"] * c.cultural[idx]
                   + trend, 0.0, 1.0).astype(np.float32)


def screen(model, age_years: np.ndarray, slots: np.ndarray | None = None) -> np.ndarray:
    """Per slot, for the year ahead: the lowest health-burden multiplier at which the person
    could have any need (``u / p`` at the highest prevalence of this age and the next, as
    everyone ages at most one year before the next refresh). The monthly step only looks at
    those whose multiplier reaches it. A slightly low value (the margin) only costs time."""
    c = model.citizens
    nxt = np.minimum(age_years + 1, MAX_AGE - 1)
    p_adult = np.maximum(model.prevalence_max[age_years], model.prevalence_max[nxt])
    p_child = np.maximum(model.prevalence_child[age_years], model.prevalence_child[nxt])
    frailty = c.frailty if slots is None else c.frailty[slots]
    frailty_child = c.frailty_child if slots is None else c.frailty_child[slots]
    frailty_young = c.frailty_young if slots is None else c.frailty_young[slots]
    with np.errstate(divide="ignore", invalid="ignore"):
        lowest = np.fmin(frailty / p_adult, frailty_child / p_child)
        young = np.maximum(model.prevalence_young[age_years], model.prevalence_young[nxt])
        for d in range(ELDERLY_DOMAINS):
            if model.prevalence_young[:, d].any():
                lowest = np.fmin(lowest, young_quantiles(frailty_young, d) / young[:, d])
    return np.nan_to_num(lowest * np.float32(1.0 - 1e-4), nan=np.inf).astype(np.float32)


def step(model, ts: TickState) -> None:
    """Fill ts.needy, ts.need (hours/month per domain), ts.severity and ts.institution_need."""
    c, pars = model.citizens, ts.pars
    table = model.prevalence  # refreshed yearly (parameters may be dated)
    # cheap screen over whole (contiguous) arrays (see ``screen``): the rest of the work is on
    # the candidates only; slots born or arrived since the yearly refresh are all candidates
    mult_all = 1.0 + np.float32(pars["health.burden_need_effect"]) * c.burden
    cand = c.alive.copy()
    n0 = len(model.need_screen)
    cand[:n0] &= model.need_screen < mult_all[:n0]
    idx = np.flatnonzero(cand)
    age_y = c.age_months[idx] // 12
    mult = mult_all[idx]
    u, u_child = c.frailty[idx], c.frailty_child[idx]
    p = np.minimum(table[age_y] * mult[:, None], np.float32(1.0))
    uu = np.repeat(u[:, None], N_DOMAINS, axis=1)
    uu[:, ELDERLY_DOMAINS] = u_child
    has = uu < p
    sev = np.where(has, 1.0 - uu / np.maximum(p, np.float32(1e-9)), np.float32(0.0))
    # under-67 needs, per domain from the person's own young quantile
    young = np.flatnonzero((age_y >= YOUNG_MIN_AGE) & (age_y <= YOUNG_MAX_AGE))
    if len(young):
        py = model.prevalence_young[age_y[young]] * mult[young, None]
        qy = c.frailty_young[idx[young]]
        for d in range(ELDERLY_DOMAINS):
            ud = young_quantiles(qy, d)
            hy = ud < py[:, d]
            sy = np.where(hy, 1.0 - ud / np.maximum(py[:, d], 1e-9), 0.0).astype(np.float32)
            has[young, d] |= hy
            sev[young, d] = np.maximum(sev[young, d], sy)
    need = has * severity_hours(sev, pars) * model.hours_scale
    # the five domains column by column (much faster than reductions along rows)
    keep = need[:, 0] > 0
    severity = sev[:, 0].copy()
    for d in range(1, N_DOMAINS):
        keep |= need[:, d] > 0
        np.maximum(severity, sev[:, d], out=severity)
    ts.needy = idx[keep]
    ts.is_needy = np.zeros(c.n, dtype=bool)
    ts.is_needy[ts.needy] = True
    ts.need = np.ascontiguousarray(need[keep], dtype=np.float32)
    ts.severity = severity[keep]
    ts.age = (age_y[keep]).astype(np.int16)
    ts.dementia = c.dementia_q[ts.needy] < model.dementia_prev[ts.age]
    # heavy personal-care needs call for an institution place (docs/design.md §5.4); with
    # dementia a lighter personal-care need does (a person who cannot live alone safely)
    care = sev[keep, 1]
    ts.institution_need = (care > pars["needs.institution_severity"]) | (
        ts.dementia & (care > pars["needs.institution_severity_dementia"]))
