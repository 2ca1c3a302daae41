"""Needs by service domain, rising with age, with a severity and a niche-ness.

Each citizen carries a fixed frailty quantile ``u`` (0-1). In domain d they have a need when
``u < p_d(age) * (1 + burden effect)``, where ``p_d`` is a logistic curve in age (elderly
domains) or a flat prevalence (children, working age). Because ``u`` is fixed, the same people
stay in need and get worse as they age: prevalence by age follows the curve, persons persist.
Severity is how far below the threshold ``u`` lies; hours follow a convex severity curve.
Niche-ness (how badly a standard package fits) is personal, rises with cultural distance and
with a yearly trend.
"""

from __future__ import annotations

import numpy as np

from sim.mechanisms.base import DOMAINS, ELDERLY_DOMAINS, N_DOMAINS, TickState

MAX_AGE = 106


def prevalence_table(pars: dict) -> np.ndarray:
    """p[age, domain]: chance of a need by single-year age, before the health burden."""
    age = np.arange(MAX_AGE, dtype=np.float64) + 0.5
    table = np.zeros((MAX_AGE, N_DOMAINS))
    spread = pars["needs.onset_spread_years"]
    for d in range(ELDERLY_DOMAINS):
        onset = pars[f"needs.{DOMAINS[d]}.onset_age"]
        curve = pars["needs.max_prevalence"] / (1.0 + np.exp(-(age - onset) / spread))
        floor = np.where((age >= 20), pars["needs.working_age_prevalence"], 0.0)
        table[:, d] = np.maximum(curve, floor)
    table[:20, ELDERLY_DOMAINS] = pars["needs.children_youth.prevalence"]
    return table


def hours_scale(pars: dict) -> np.ndarray:
    """Mean monthly hours per domain for a person with that need."""
    return np.array([pars[f"needs.{d}.hours_per_month"] for d in DOMAINS], dtype=np.float32)


def severity_hours(severity: np.ndarray, pars: dict) -> np.ndarray:
    """Relative hours (mean 1 over uniform severity) for severities in [0, 1]."""
    k, ratio = pars["needs.severity_shape"], pars["needs.severity_hours_ratio"]
    return (1.0 + (ratio - 1.0) * severity ** k) / (1.0 + (ratio - 1.0) / (k + 1.0))


def niche(model, idx: np.ndarray, year: float) -> np.ndarray:
    """Niche-ness of the needs of citizens ``idx`` in ``year`` (0-1)."""
    c, pars = model.citizens, model.pars
    trend = pars["needs.niche_trend_per_year"] * (year - model.start_year)
    return np.clip(c.niche0[idx] + pars["needs.niche_cultural_weight"] * c.cultural[idx]
                   + trend, 0.0, 1.0).astype(np.float32)


def step(model, ts: TickState) -> None:
    """Fill ts.needy, ts.need (hours/month per domain), ts.severity and ts.institution_need."""
    c, pars = model.citizens, ts.pars
    table = model.prevalence  # refreshed yearly (parameters may be dated)
    # cheap screen over whole (contiguous) arrays: only the living under the highest curve for
    # their age can have a need; the rest of the work is on those candidates only
    age_all = c.age_months // 12
    mult_all = 1.0 + np.float32(pars["health.burden_need_effect"]) * c.burden
    cand = c.alive & ((c.frailty < model.prevalence_max[age_all] * mult_all)
                      | (c.frailty_child < model.prevalence_child[age_all] * mult_all))
    idx = np.flatnonzero(cand)
    age_y = age_all[idx]
    mult = mult_all[idx]
    u, u_child = c.frailty[idx], c.frailty_child[idx]
    p = table[age_y] * mult[:, None]
    uu = np.repeat(u[:, None], N_DOMAINS, axis=1)
    uu[:, ELDERLY_DOMAINS] = u_child
    p = np.minimum(p, 1.0)
    has = uu < p
    sev = np.where(has, 1.0 - uu / np.maximum(p, 1e-9), 0.0).astype(np.float32)
    need = (has * severity_hours(sev, pars) * model.hours_scale).astype(np.float32)
    keep = need.sum(axis=1) > 0
    ts.needy = idx[keep]
    ts.need = need[keep]
    ts.severity = sev[keep].max(axis=1)
    # heavy personal-care needs call for an institution place (DESIGN.md §5.4)
    ts.institution_need = sev[keep, 1] > pars["needs.institution_severity"]
