"""Standard (shape) schedules the calibration starts from.

These are *assumptions*, not SSB figures: smooth textbook shapes with round parameters chosen to
be close to Norway around 2016. The calibration in :mod:`sim.demography.rates` rescales them
year by year so that a national run reproduces SSB's projection, so only their *shapes* (within
an age group, and between the sexes) matter. Every constant is listed in docs/demography.md.

* Sex ratio of the population by age (males per female), linear between the points below:
  1.055 at birth; a male surplus of 6-7 % at 20-40 (labour immigration); parity near 62;
  0.75 at 80, 0.5 at 90, 0.2 at 103+. (Round values close to Norway's registered population
  around 2016; assumption.)
* Sex ratio at birth 1.055 males per female (share male 0.5134).
* Mortality: Gompertz-Makeham hazard ``mu(x) = A + B exp(C x)`` by sex, with male
  ``A=0.0004, B=1.7e-5, C=0.100`` and female ``A=0.0002, B=5.3e-6, C=0.110`` (gives life expectancy
  at birth of about 80 and 84, and one-year death probabilities near 5 % / 3.5 % at 80);
  ``q = 1 - exp(-mu)``. Infants: probability of dying in the calendar year of birth 0.0018 (boys) /
  0.0015 (girls); at age 0 on 1 January 0.0004 / 0.0003.
* Fertility: a gamma-shaped age schedule over ages 15..49 at 1 January, mean 30.5, standard
  deviation 5.6 years, normalised to a total fertility rate of 1.
* Net migration: a Rogers-Castro shape ``a1 exp(-alpha1 x) + a2 exp(-alpha2 (x-mu2) -
  exp(-lambda2 (x-mu2))) + c`` with ``a1=0.02, alpha1=0.10, a2=0.06, alpha2=0.11, mu2=22, lambda2=0.4,
  c=0.001`` as a *rate* shape (per person), and a male factor 1.1 / female 0.9 (more male labour
  immigrants; assumption).
"""

from __future__ import annotations

import functools

import numpy as np

N_AGES = 106
AGES = np.arange(N_AGES, dtype=float)

SEX_RATIO_POINTS = (
    (0, 1.055),
    (15, 1.06),
    (25, 1.07),
    (40, 1.06),
    (55, 1.03),
    (62, 1.00),
    (67, 0.97),
    (75, 0.88),
    (80, 0.75),
    (85, 0.64),
    (90, 0.50),
    (95, 0.33),
    (103, 0.20),
    (105, 0.20),
)
SEX_RATIO_AT_BIRTH = 1.055
P_MALE_BIRTH = SEX_RATIO_AT_BIRTH / (1.0 + SEX_RATIO_AT_BIRTH)

GOMPERTZ = {0: (0.0004, 1.7e-5, 0.100), 1: (0.0002, 5.3e-6, 0.110)}
Q_BIRTH_YEAR = (0.0018, 0.0015)  # newborns dying in their calendar year of birth (boy, girl)
Q_AGE0 = (0.0004, 0.0003)  # aged 0 on 1 January, dying during the year

FERT_MEAN, FERT_SD, FERT_AGES = 30.5, 5.6, (15, 49)

ROGERS_CASTRO = dict(a1=0.02, alpha1=0.10, a2=0.06, alpha2=0.11, mu2=22.0, lambda2=0.4, c=0.001)
MIGRATION_SEX_FACTOR = (1.1, 0.9)
TAIL_HAZARD_FACTOR = 1.4  # base-population shape within 90+ only (about 2.5 % of 90+ aged 100+)


@functools.cache
def male_share_by_age() -> np.ndarray:
    xs, rs = zip(*SEX_RATIO_POINTS, strict=True)
    r = np.interp(AGES, xs, rs)
    return r / (1.0 + r)


@functools.cache
def mortality_q() -> np.ndarray:
    """Standard one-year death probability, shape (2, 106), for persons aged a on 1 January."""
    q = np.empty((2, N_AGES))
    for s, (a, b, c) in GOMPERTZ.items():
        mu = a + b * np.exp(c * (AGES + 0.5))
        q[s] = 1.0 - np.exp(-mu)
        q[s, 0] = Q_AGE0[s]
    return q


def q_birth_year() -> np.ndarray:
    return np.array(Q_BIRTH_YEAR)


@functools.cache
def fertility_shape() -> np.ndarray:
    """Age-specific fertility shape by age on 1 January (106,), summing to 1 (TFR = 1)."""
    lo, hi = FERT_AGES
    x = AGES[lo : hi + 1] + 0.5
    k = (FERT_MEAN / FERT_SD) ** 2
    theta = FERT_SD**2 / FERT_MEAN
    dens = np.exp((k - 1) * np.log(x) - x / theta)
    out = np.zeros(N_AGES)
    out[lo : hi + 1] = dens / dens.sum()
    return out


@functools.cache
def migration_shape() -> np.ndarray:
    """Rogers-Castro net-migration rate shape by age at the end of the year, shape (2, 106)."""
    p = ROGERS_CASTRO
    x = AGES
    rc = (
        p["a1"] * np.exp(-p["alpha1"] * x)
        + p["a2"] * np.exp(-p["alpha2"] * (x - p["mu2"]) - np.exp(-p["lambda2"] * (x - p["mu2"])))
        + p["c"]
    )
    return np.stack([rc * MIGRATION_SEX_FACTOR[0], rc * MIGRATION_SEX_FACTOR[1]])


@functools.cache
def old_age_tail_shape() -> np.ndarray:
    """Share of the 90+ group at each age 90..105: stationary population under the standard
    mortality (sexes averaged by the standard sex ratio) times ``TAIL_HAZARD_FACTOR`` (the
    cohorts now aged 95+ were born smaller and the Gompertz curve is too flat at the oldest ages;
    with 1.4 about 2.5 % of the 90+ group is 100 or older, close to Norway around 2016),
    normalised to 1."""
    q = mortality_q()
    share_m = male_share_by_age()
    qa = np.minimum(TAIL_HAZARD_FACTOR * (share_m * q[0] + (1 - share_m) * q[1]), 0.9)
    surv = np.cumprod(np.concatenate([[1.0], 1.0 - qa[90:104]]))  # ages 90..104
    tail = np.append(surv, surv[-1] * (1 - qa[104]) / qa[105])  # 105+: open-ended stock
    return tail / tail.sum()


def life_expectancy(q: np.ndarray, q_birth: float) -> float:
    """Period life expectancy at birth from 1-January death probabilities (approximate)."""
    lx = np.empty(N_AGES + 1)
    lx[0] = 1.0
    first = 1.0 - q_birth
    lx[1] = first * (1 - q[0])
    for a in range(1, N_AGES):
        lx[a + 1] = lx[a] * (1 - q[a])
    # person-years: newborn half year, then midpoint rule; open interval closed by 1/q
    py = 0.5 * (1 + first) + 0.5 * (lx[1:-1] + lx[2:]).sum() + lx[-1] / max(q[-1], 1e-9)
    return float(py)
