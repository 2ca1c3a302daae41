"""Calibrating year-by-year rates to SSB's national projection (:class:`Projection`).

SSB publishes (tables 11168, 12882) national totals by functional age group per year and
alternative, without sex or single years. For each year t -> t+1 of the chosen round and
alternative the calibration starts from the national single-year-by-sex population on 1 January
t (the registered base in the round's first year, then its own projection) and the standard
schedules (:mod:`sim.demography.schedules`), and solves, in closed form:

1. *Young groups* (1-5, 6-12, 13-15, 16-19, 20-44, 45-66 on 1 January t+1): mortality is the
   standard schedule times ``(1 - MORTALITY_IMPROVEMENT[alt]) ** (t - first year)``; the net
   migration *level* ``lambda_G`` of each group is whatever makes the group hit SSB, the rate
   being ``lambda_G * rogers_castro(age at t+1) * sex_factor``.
2. *Old groups* (67-79, 80-89, 90+ on 1 January t+1): net migration follows the Rogers-Castro
   shape at the 20-44 group's level ``lambda_20-44``; the mortality *factor* ``k_G`` (times the
   standard schedule) is whatever makes the group hit SSB.
3. *Age 0*: newborn mortality is standard times the improvement factor; newborns' net migration
   is ``lambda_20-44 * rogers_castro(0) * sex_factor / 2`` per birth (half a year's exposure);
   the fertility level ``f_t`` (times the standard fertility shape, i.e. the total fertility
   rate) is whatever makes age 0 hit SSB.

A national projection with these rates therefore reproduces every SSB functional group in every
data year (to floating-point precision). The rates are then applied unchanged to any base
population (municipal scaling: the municipality gets the national rates per person). After the
last data year (2040 for the 2016 round, 2050 for 2020) the rates of the last data year are
kept constant.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from sim.demography import schedules
from sim.demography.cohort import N_AGES, YearRates, project_one_year
from sim.demography.data import (
    AGE_GROUPS,
    ALTERNATIVES,
    FUNCTIONAL_GROUPS,
    PROJECTION_FILES,
    SSB_TABLE,
    group_sums,
    load_base_population,
    ssb_projection_table,
)
from sim.errors import InputError

YOUNG_GROUPS = ("1-5", "6-12", "13-15", "16-19", "20-44", "45-66")
OLD_GROUPS = ("67-79", "80-89", "90+")
MORTALITY_IMPROVEMENT = {"MMMM": 0.015, "LLML": 0.010, "HHMH": 0.020}
"""Annual decline of mortality below age 67 (assumption; SSB's L/M/H life expectancy)."""


@dataclass
class Projection:
    """Calibrated national rates for one SSB projection round and alternative."""

    round: int
    alternative: str
    first_year: int
    last_year: int  # last year with SSB data
    ssb: dict[int, dict[str, int]]  # SSB functional groups by year
    _rates: dict[int, YearRates] = field(repr=False)
    diagnostics: dict[int, dict[str, float]] = field(default_factory=dict, repr=False)
    perturbation: tuple[float, float, float] = (1.0, 1.0, 1.0)

    @classmethod
    def load(cls, round: int = 2016, alternative: str = "MMMM") -> Projection:  # noqa: A002
        """Calibrated projection; :class:`InputError` on an unknown round or alternative."""
        try:
            rnd = int(round)
        except (TypeError, ValueError):
            rnd = round  # type: ignore[assignment]
        if rnd not in PROJECTION_FILES:
            raise InputError(
                f"Unknown demography.projection_round {round!r}: expected 2016 (SSB table 11168, "
                "data 2016-2040) or 2020 (SSB table 12882, data 2020-2050)."
            )
        alt = str(alternative).strip().upper()
        if alt not in ALTERNATIVES:
            raise InputError(
                f"Unknown demography.alternative {alternative!r}: expected one of "
                f"{', '.join(ALTERNATIVES)} (SSB main alternative MMMM, low national growth "
                "LLML, high national growth HHMH)."
            )
        return _calibrate(rnd, alt)

    @property
    def ssb_table(self) -> int:
        return SSB_TABLE[self.round]

    @property
    def rate_years(self) -> range:
        """Years with calibrated rates (transitions year -> year+1)."""
        return range(self.first_year, self.last_year)

    def rates(self, year: int) -> YearRates:
        """Rates for calendar year ``year``; after the last data year, the last year's rates."""
        if year < self.first_year:
            raise InputError(
                f"Year {year} is before the first year of the {self.round} projection round "
                f"({self.first_year}); start the run in {self.first_year} or later."
            )
        return self._rates[min(year, self.last_year - 1)]

    def ssb_functional(self, year: int) -> dict[str, int]:
        return dict(self.ssb[year])

    def ssb_groups(self, year: int) -> dict[str, float]:
        """SSB's published national figures for ``year`` in the reporting groups.

        Raises KeyError outside the data years."""
        f = self.ssb[year]  # KeyError outside data years
        by_age = np.zeros(N_AGES)
        for g, (lo, _hi) in FUNCTIONAL_GROUPS.items():
            by_age[lo] += f[g]  # functional groups nest inside the reporting groups
        return group_sums(by_age, AGE_GROUPS)

    def perturbed(
        self, fertility: float = 1.0, mortality: float = 1.0, migration: float = 1.0
    ) -> Projection:
        """A copy whose rates are multiplied by the given factors (no recalibration)."""
        rates = {y: r.scaled(fertility, mortality, migration) for y, r in self._rates.items()}
        return Projection(
            self.round,
            self.alternative,
            self.first_year,
            self.last_year,
            self.ssb,
            rates,
            self.diagnostics,
            (fertility, mortality, migration),
        )

    def tfr(self, year: int) -> float:
        return float(self.rates(year).fert.sum())

    def life_expectancy(self, year: int) -> tuple[float, float]:
        r = self.rates(year)
        return (
            schedules.life_expectancy(r.q[0], float(r.q_birth[0])),
            schedules.life_expectancy(r.q[1], float(r.q_birth[1])),
        )


def _mask_end_age(lo: int, hi: int) -> np.ndarray:
    """Boolean (106,) over ages on 1 January t whose end age (a+1, capped at 105) is in lo..hi."""
    end = np.minimum(np.arange(N_AGES) + 1, N_AGES - 1)
    return (end >= lo) & (end <= hi)


@functools.cache
def _calibrate(rnd: int, alt: str) -> Projection:
    table = ssb_projection_table(rnd)
    if alt not in table:
        raise InputError(f"SSB projection round {rnd} has no alternative {alt} in sim/data.")
    ssb = table[alt]
    years = sorted(ssb)
    first, last = years[0], years[-1]
    pop = load_base_population("norway", first)
    q_std = schedules.mortality_q()
    qb_std = schedules.q_birth_year()
    rc = schedules.migration_shape()  # (2, 106) by end age
    rc_start = np.concatenate([rc[:, 1:], rc[:, -1:]], axis=1)  # by start age a: shape at a+1
    fshape = schedules.fertility_shape()
    p_male = schedules.P_MALE_BIRTH
    rates: dict[int, YearRates] = {}
    diag: dict[int, dict[str, float]] = {}
    for t in years[:-1]:
        target = ssb[t + 1]
        imp = (1.0 - MORTALITY_IMPROVEMENT[alt]) ** (t - first)
        q = q_std * imp
        mig = np.zeros((2, N_AGES))
        d: dict[str, float] = {}
        # 1. young groups: migration level per group
        for g in YOUNG_GROUPS:
            m = _mask_end_age(*FUNCTIONAL_GROUPS[g])
            surv = (pop[:, m] * (1.0 - q[:, m])).sum()
            w = (pop[:, m] * rc_start[:, m]).sum()
            lam = (target[g] - surv) / w
            mig[:, m] = lam * rc_start[:, m]
            d[f"lambda_{g}"] = lam
        level = d["lambda_20-44"]
        # 2. old groups: mortality factor per group
        for g in OLD_GROUPS:
            m = _mask_end_age(*FUNCTIONAL_GROUPS[g])
            mig[:, m] = level * rc_start[:, m]
            stock = (pop[:, m] * (1.0 + mig[:, m])).sum()
            dq = (pop[:, m] * q_std[:, m]).sum()
            k = (stock - target[g]) / dq
            q[:, m] = np.minimum(q_std[:, m] * k, 0.95)
            d[f"k_{g}"] = k
        # 3. age 0: fertility level
        qb = qb_std * imp
        mb = level * rc[:, 0] / 2.0
        per_birth = p_male * (1 - qb[0] + mb[0]) + (1 - p_male) * (1 - qb[1] + mb[1])
        births = target["0"] / per_birth
        tfr = births / float(fshape @ pop[1])
        d["tfr"] = tfr
        r = YearRates(t, fshape * tfr, q, qb, mig, mb, p_male)
        new, comp = project_one_year(pop, r)
        d["births"] = float(comp.births.sum())
        d["deaths"] = float(comp.deaths.sum())
        d["net_migration"] = float(comp.net_migration.sum())
        rates[t] = r
        diag[t] = d
        pop = new
    return Projection(rnd, alt, first, last, ssb, rates, diag)
