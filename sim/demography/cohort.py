"""Deterministic cohort-component projection (the "expected counts").

State: persons on 1 January by sex (0 = male, 1 = female) and single-year age 0..105 (105 = 105
and older), an array of shape (2, 106). One projection year maps 1 January of year t to
1 January of t+1 with the rates of year t (:class:`YearRates`):

* persons aged a survive with ``1 - q[s, a]``, and net migration adds ``mig[s, a]`` persons per
  person aged a (net migrants are counted at their age on 1 January t+1 and are not exposed to
  mortality in the year they move); everybody is one year older, ages 104 and 105+ both end in
  105+;
* births ``B = sum_a fert[a] * women[a]`` (women by age on 1 January t); a share
  ``p_male`` are boys; newborns survive to 1 January t+1 with ``1 - q_birth[s]`` and net
  migration adds ``mig_birth[s]`` per newborn; they are aged 0 on 1 January t+1.

So the accounting identity ``P(t+1) - P(t) = births - deaths + net migration`` holds exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.demography.rates import Projection

N_AGES = 106


@dataclass(frozen=True)
class YearRates:
    """Rates for one calendar year (all per person, per year)."""

    year: int
    fert: np.ndarray  # (106,) births per woman aged a on 1 January
    q: np.ndarray  # (2, 106) probability of dying in the year, by age on 1 January
    q_birth: np.ndarray  # (2,) newborns dying in their year of birth
    mig: np.ndarray  # (2, 106) net migrants per person aged a on 1 January (end age a+1)
    mig_birth: np.ndarray  # (2,) net migrants aged 0 on 1 January t+1 per newborn of sex s
    p_male: float  # share of newborns who are boys

    def scaled(
        self, fertility: float = 1.0, mortality: float = 1.0, migration: float = 1.0
    ) -> YearRates:
        return replace(
            self,
            fert=self.fert * fertility,
            q=np.minimum(self.q * mortality, 1.0),
            q_birth=np.minimum(self.q_birth * mortality, 1.0),
            mig=self.mig * migration,
            mig_birth=self.mig_birth * migration,
        )


@dataclass(frozen=True)
class Components:
    births: np.ndarray  # (2,) by sex of the child
    deaths: np.ndarray  # (2, 107) by sex and age on 1 January t (col 106: newborns of the year)
    net_migration: np.ndarray  # (2, 107) by sex and age on 1 January t (col 106: newborns)


def project_one_year(pop: np.ndarray, r: YearRates) -> tuple[np.ndarray, Components]:
    """Project 1 January t to 1 January t+1; returns the new population and its components."""
    births_total = float(r.fert @ pop[1])
    births = births_total * np.array([r.p_male, 1.0 - r.p_male])
    deaths = np.zeros((2, N_AGES + 1))
    mig = np.zeros((2, N_AGES + 1))
    deaths[:, :N_AGES] = pop * r.q
    mig[:, :N_AGES] = pop * r.mig
    deaths[:, N_AGES] = births * r.q_birth
    mig[:, N_AGES] = births * r.mig_birth
    moved = pop - deaths[:, :N_AGES] + mig[:, :N_AGES]
    new = np.empty_like(pop)
    new[:, 1:N_AGES] = moved[:, : N_AGES - 1]
    new[:, N_AGES - 1] += moved[:, N_AGES - 1]
    new[:, 0] = births - deaths[:, N_AGES] + mig[:, N_AGES]
    return new, Components(births=births, deaths=deaths, net_migration=mig)


def project(
    base: np.ndarray,
    proj: Projection,
    start_year: int,
    end_year: int,
    *,
    components: bool = False,
) -> dict[int, np.ndarray] | tuple[dict[int, np.ndarray], dict[int, Components]]:
    """Project ``base`` (1 January ``start_year``) to ``end_year``: ``{year: (2, 106) array}``.

    Rates come from ``proj.rates(year)``; beyond the projection's last data year the last year's
    rates are used unchanged. With ``components=True`` also returns ``{year t: Components of the
    transition t -> t+1}``.
    """
    base = np.asarray(base, dtype=float)
    if base.shape != (2, N_AGES):
        raise ValueError(f"base population must have shape (2, {N_AGES}), got {base.shape}")
    if end_year < start_year:
        raise ValueError("end_year must not be before start_year")
    out = {start_year: base.copy()}
    comps: dict[int, Components] = {}
    pop = base.copy()
    for year in range(start_year, end_year):
        pop, c = project_one_year(pop, proj.rates(year))
        out[year + 1] = pop
        comps[year] = c
    return (out, comps) if components else out
