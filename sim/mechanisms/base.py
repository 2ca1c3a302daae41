"""Names and the per-tick scratch state shared by the mechanisms."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

DOMAINS = ("practical_help", "personal_care", "nursing", "social_inclusion", "children_youth")
N_DOMAINS = len(DOMAINS)
ELDERLY_DOMAINS = 4  # the first four rise with age; children_youth is for 0-19
# which sources may work in which domain (professionals: all)
VOLUNTEER_DOMAINS = np.array([1, 0, 0, 1, 1], dtype=np.float32)
INFORMAL_DOMAINS = np.array([1, 1, 0, 1, 1], dtype=np.float32)

ROUTES = ("traditional", "npm", "network_governance")
TRAD, NPM, NG = 0, 1, 2

# co-creation process types held per citizen
NO_PROCESS, THICK, THIN, THIN_OUTSIDE, CS_LED = 0, 1, 2, 3, 4
PROCESS_NAMES = ("none", "thick", "thin", "thin_outside", "civil_society_led")

# the 3x3 co-creation matrix: cell = production * 3 + design, each 0 professionals,
# 1 professionals and civil society together, 2 civil society (docs/design.md §3)
RESP = ("professional", "joint", "civil_society")
CELL_NAMES = tuple(f"cell_prod_{p}_design_{d}" for p in RESP for d in RESP)


# lookup tables over process type (faster than np.isin on every tick)
IS_PARTNER = np.array([False, True, False, False, True])  # thick or civil-society-led
IS_THIN = np.array([False, False, True, True, False])  # thin, or thin produced outside
IS_CS_FIRST = np.array([False, True, False, True, True])  # own/network hours before professionals


def cell(production: int, design: int) -> int:
    return production * 3 + design


SOURCES = ("professional", "volunteer", "informal")


def stochastic_round(x: float, rng: np.random.Generator) -> int:
    """``floor(x)`` or ``floor(x) + 1`` with the chance of the fraction: unbiased, so a count
    of a few agents (places, staff at a small population scale) has the right mean, where
    ordinary rounding would make 17.2 places stay 17 for ever (the scale rule,
    docs/researchers.md §6)."""
    x = max(0.0, float(x))
    lo = np.floor(x)
    return int(lo + (rng.random() < x - lo))


@dataclass
class TickState:
    """What one tick computes and later phases (and metrics) read."""

    year: int
    month: int
    weights: np.ndarray  # paradigm weights (traditional, npm, network_governance)
    pars: dict
    alive_idx: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    # needs: over the needy subset
    needy: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    is_needy: np.ndarray = field(default_factory=lambda: np.empty(0, bool))  # per slot
    need: np.ndarray = field(default_factory=lambda: np.zeros((0, N_DOMAINS), np.float32))
    severity: np.ndarray = field(default_factory=lambda: np.empty(0, np.float32))
    institution_need: np.ndarray = field(default_factory=lambda: np.empty(0, bool))
    age: np.ndarray = field(default_factory=lambda: np.empty(0, np.int16))  # years, the needy
    dementia: np.ndarray = field(default_factory=lambda: np.empty(0, bool))
    route: np.ndarray = field(default_factory=lambda: np.empty(0, np.int8))
    resident: np.ndarray = field(default_factory=lambda: np.empty(0, bool))
    waiting_place: int = 0  # people who need a nursing-home place and have none
    process: np.ndarray = field(default_factory=lambda: np.empty(0, np.int8))
    # delivered hours over the needy subset, per source, per domain
    prof: np.ndarray = field(default_factory=lambda: np.zeros((0, N_DOMAINS), np.float32))
    vol: np.ndarray = field(default_factory=lambda: np.zeros((0, N_DOMAINS), np.float32))
    informal: np.ndarray = field(default_factory=lambda: np.zeros((0, N_DOMAINS), np.float32))
    # per-person totals (float64), computed once after allocation
    need_pp: np.ndarray = field(default_factory=lambda: np.empty(0))
    prof_pp: np.ndarray = field(default_factory=lambda: np.empty(0))
    vol_pp: np.ndarray = field(default_factory=lambda: np.empty(0))
    inf_pp: np.ndarray = field(default_factory=lambda: np.empty(0))
    niche: np.ndarray = field(default_factory=lambda: np.empty(0, np.float32))
    fit: np.ndarray = field(default_factory=lambda: np.empty(0, np.float32))
    quality: np.ndarray = field(default_factory=lambda: np.empty(0, np.float32))
    competence: np.ndarray = field(default_factory=lambda: np.empty(0))
    coverage: np.ndarray = field(default_factory=lambda: np.empty(0, np.float32))
    # availability (for conservation checks and metrics)
    prof_hours_available: float = 0.0
    institution_hours: float = 0.0
    vol_hours_available: float = 0.0
    informal_hours_available: float = 0.0
    family_share: np.ndarray = field(default_factory=lambda: np.empty(0))  # of informal avail.
    family_available: np.ndarray = field(default_factory=lambda: np.empty(0))
    family_hours: float = 0.0  # hours given by family carers (informal less self-help)
    carer_ties: tuple = field(default_factory=lambda: (np.empty(0, np.int64),
                                                       np.empty(0, np.int64), np.empty(0)))
    carers: int = 0  # family carers who gave hours this month
    carer_hours_heavy: int = 0  # of whom giving more than the work-loss threshold
    carer_strain: float = 0.0  # mean strain of those carers
    carer_lost_work_hours: float = 0.0  # paid hours lost by carers aged 20-66
    # professional time use
    hours_direct: float = 0.0
    hours_admin: float = 0.0
    hours_facilitation: float = 0.0
    hours_idle: float = 0.0
    hours_indirect: float = 0.0  # paid hours in travel and indirect work
    prof_demand_hours: float = 0.0
    contract_hours: float = 0.0
    facilitation_capacity: float = 0.0
    process_months: np.ndarray = field(default_factory=lambda: np.zeros(5))
    new_processes: int = 0
    cells: np.ndarray = field(default_factory=lambda: np.zeros(9))
    demography: dict = field(default_factory=dict)
    finance: dict = field(default_factory=dict)
    innovation: dict = field(default_factory=dict)
