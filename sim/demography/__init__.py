"""Demography calibrated to SSB's national population projection (issue 3).

Public interface::

    from sim.demography import Projection, Demography, load_base_population, AGE_GROUPS, project

* :class:`Projection` -- year-by-year national rates calibrated to an SSB projection round
  (2016: table 11168, 2020: table 12882) and alternative (MMMM, LLML, HHMH).
* :func:`load_base_population` -- a registered base population as (2, 106) persons by sex/age.
* :func:`project` -- the deterministic cohort-component projection (expected counts).
* :class:`Demography` -- the vectorised agent event engine (ageing, births, deaths, migration).

See docs/demography.md for the method, assumptions and measured fit.
"""

from sim.demography.agents import Demography, Events, simulate_agents
from sim.demography.cohort import YearRates, project
from sim.demography.data import AGE_GROUPS, FUNCTIONAL_GROUPS, group_sums, load_base_population
from sim.demography.rates import Projection
from sim.demography.report import acceptance_check, demography_report

__all__ = [
    "AGE_GROUPS",
    "FUNCTIONAL_GROUPS",
    "Demography",
    "Events",
    "Projection",
    "YearRates",
    "acceptance_check",
    "demography_report",
    "group_sums",
    "load_base_population",
    "project",
    "simulate_agents",
]
