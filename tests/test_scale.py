"""Scale invariance (issue 11): per-person results do not depend on ``run.population_scale``.

Indre Østfold runs under each paradigm at 1:1 and at 1:5 and 1:20 (ten replications each).
Every metric is compared per person (the yearly counts of new ideas excepted, see
``FLOWS_OF_IDEAS``): totals (persons, hours, FTE, processes, ideas, NOK a
month, places) are divided by the population; shares, ratios, rates and per-1,000 figures are
taken as they are. The 1:1 value must lie inside the 5-95 % band of the smaller scale's
replications, widened by ``REL_TOL`` of the value (about the standard error of the 1:1
reference, itself a mean of two runs) plus ``ABS_TOL`` for shares and one agent's worth of
persons for counts (demography at 1:20 moves in steps of 20 persons). An age
band's ratio is not compared where it rests on fewer than ``MIN_AGENTS`` agents.

The full check (1:1 against both smaller scales, 2030, 2040 and 2060) is marked slow. The
default suite keeps a quick check of the rule that broke before: network governance's
co-creation processes per inhabitant at 1:20 and 1:5 agree, and the same check fails when the
scale factor is taken out of the facilitation capacity again.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.mechanisms import cocreation
from sim.metrics import METRICS
from sim.model import WelfareModel
from sim.runner import yearly
from sim.scenario import load_scenario

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "indre_ostfold.toml"
PARADIGMS = ("traditional", "npm", "network_governance")
YEARS = (2030, 2040, 2060)
REPS = 10
# relative tolerance by scale: about one standard error of the 1:1 reference itself (the mean
# of two runs: 0.8-1.2 % for the metrics that bind, measured over ten 1:1 runs). Needed on
# 2 December 2026: 0 / 0 / 0.7 % at 1:5 and 1.3 / 0.6 / 0.8 % at 1:20 (traditional / NPM /
# network governance); before professionals were one agent per FTE it was 2 % and 4 %
REL_TOL = {0.2: 0.01, 0.05: 0.015}
ABS_TOL = 0.005  # shares, ratios and indices
TINY = 1e-6  # per person and month: numerically zero (idle hours are 1e-16)
# yearly counts of a few ideas are Poisson and as noisy at 1:1 as at 1:20 (they are counted
# in persons); their stock (innovations_utilised_total) and effects (productivity, fit_bonus)
# are compared instead
FLOWS_OF_IDEAS = {"innovations_new", "innovations_useful", "innovations_utilised",
                  "cost_innovation"}
UNIT = {name: unit for name, unit, _ in METRICS}
TOTAL_UNITS = {"persons", "hours/month", "FTE", "processes", "ideas", "NOK/month", "places"}
POPULATION = 43_472  # Indre Østfold in 2016 (persons): the size of one agent's step per person
BANDS = ("67-79", "80-89", "90+")
MIN_AGENTS = 50
SKIP = {"year", "month", "population", *FLOWS_OF_IDEAS} | {m for m in UNIT if m.startswith("weight_")}


def _bug_back(model, pars: dict, ng_weight: float) -> float:
    """The facilitation capacity as it was before the fix: persons, without ``model.scale``."""
    return (pars["cocreation.facilitator_fte_per_10000"] * model.population / 10_000
            * pars["professionals.hours_per_fte_month"] * ng_weight)


@cache
def run(paradigm: str, scale: float, seed: int, end: int = max(YEARS),
        bug: bool = False) -> pd.DataFrame:
    sc = load_scenario(SCENARIO).with_overrides({
        "paradigm": paradigm, "run.population_scale": scale, "run.end_year": end})
    original = cocreation.facilitation_capacity
    if bug:
        cocreation.facilitation_capacity = _bug_back
    try:
        table = WelfareModel(sc, seed=seed).run().table()
    finally:
        cocreation.facilitation_capacity = original
    years = [y for y in YEARS if y <= end]
    return per_person(yearly(table).loc[years])


def per_person(y: pd.DataFrame) -> pd.DataFrame:
    """Totals over the population; everything else as it is. Also the persons behind each
    age band's ratios (``_n_users_*``, ``_n_res_*``), which are not compared themselves."""
    cols = [c for c in y.columns if c in UNIT and c not in SKIP]
    out = y[cols].astype(float).copy()
    totals = [c for c in cols if UNIT[c] in TOTAL_UNITS]
    out[totals] = out[totals].div(y["population"], axis=0)
    for g in BANDS:
        out[f"_n_users_{g}"] = y[f"home_care_share_{g}"] * y[f"pop_{g}"]
        out[f"_n_res_{g}"] = y[f"residents_per_1000_{g}"] / 1000 * y[f"pop_{g}"]
    return out


def _few_agents(runs: list[pd.DataFrame], scale: float) -> set[tuple[str, int]]:
    """(metric, year) of the age bands' ratios whose numerator or denominator holds fewer
    than ``MIN_AGENTS`` agents at this scale: a ratio of a handful of agents (e.g. the 67-79
    still served under rationing in the 2040s at 1:20) is skewed, not just noisy."""
    few = set()
    med = pd.concat(runs).groupby(level=0).median()
    for g in BANDS:
        for year in med.index:
            if med.loc[year, f"_n_users_{g}"] * scale < MIN_AGENTS:
                few |= {(f"home_care_share_{g}", year), (f"home_hours_per_user_week_{g}", year)}
            if med.loc[year, f"_n_res_{g}"] * scale < MIN_AGENTS:
                few.add((f"residents_per_1000_{g}", year))
    return few


def outside(ref: pd.DataFrame, runs: list[pd.DataFrame], scale: float) -> list[tuple]:
    """(metric, year, reference, band low, band high) where ``ref`` falls outside the widened
    5-95 % band of ``runs``."""
    cols = [c for c in ref.columns if c in UNIT]
    arr = np.stack([r[cols].to_numpy() for r in runs])
    lo, hi = np.quantile(arr, 0.05, axis=0), np.quantile(arr, 0.95, axis=0)
    r = ref[cols].to_numpy()
    units = np.array([UNIT[c] for c in cols])
    # one agent stands for 1/scale persons: per person that is 1/(scale x population); a
    # process is one citizen agent's, so its count moves in the same steps
    step = np.where(np.isin(units, ["persons", "processes"]), 1.0 / (scale * POPULATION), 0.0)
    step = np.where(np.isin(units, list(TOTAL_UNITS)), step + TINY, ABS_TOL)
    tol = REL_TOL[scale] * np.abs(r) + step
    bad = (r < lo - tol) | (r > hi + tol)
    few = _few_agents(runs, scale) if "_n_users_90+" in ref.columns else set()
    return [(cols[j], int(ref.index[i]), r[i, j], lo[i, j], hi[i, j])
            for i, j in zip(*np.nonzero(bad), strict=True)
            if (cols[j], int(ref.index[i])) not in few]


def runs_at(paradigm: str, scale: float, n: int, end: int = max(YEARS),
            bug: bool = False) -> list[pd.DataFrame]:
    return [run(paradigm, scale, seed, end, bug) for seed in range(1, n + 1)]


# ------------------------------------------------------------------ default suite
QUICK = ("processes_thick", "processes_thin", "processes_civil_society_led",
         "hours_facilitation", "participation_low_resource", "participation_high_resource")


def quick_outside(bug: bool) -> list[tuple]:
    """Network governance to 2030: the median of 1:5 against the band of 1:20."""
    small = runs_at("network_governance", 0.05, 6, end=2030, bug=bug)
    large = runs_at("network_governance", 0.2, 2, end=2030, bug=bug)
    ref = (sum(large) / len(large))[list(QUICK)]
    return outside(ref, [s[list(QUICK)] for s in small], 0.05)


def test_cocreation_per_person_agrees_at_1_to_20_and_1_to_5():
    assert quick_outside(bug=False) == []


def test_the_check_fails_with_the_facilitation_scale_bug_put_back():
    bad = quick_outside(bug=True)
    assert {m for m, *_ in bad} & {"processes_thick", "hours_facilitation"}, bad


def test_professionals_are_one_agent_per_fte_at_any_scale():
    # at 1:20 a professional agent is one FTE, not twenty: staffing is not lumpy (the
    # initial demand of a 1:20 sample is noisy, so the mean of a few seeds is compared)
    heads = {}
    for scale, seeds in ((1.0, (1,)), (0.05, range(1, 7))):
        sc = load_scenario(SCENARIO).with_overrides({"run.population_scale": scale,
                                                     "run.end_year": 2016})
        models = [WelfareModel(sc, seed=s) for s in seeds]
        assert all(m.fte_per_professional == scale for m in models)
        heads[scale] = np.mean([m.professionals.active.sum() for m in models])
    assert heads[1.0] > 500 and 0.8 < heads[0.05] / heads[1.0] < 1.25, heads


# ------------------------------------------------------------------ slow: against 1:1
@pytest.mark.slow
@pytest.mark.parametrize("scale", [0.2, 0.05])
@pytest.mark.parametrize("paradigm", PARADIGMS)
def test_every_per_person_metric_at_1_to_1_lies_in_the_band_of_a_smaller_scale(paradigm,
                                                                                 scale):
    # the mean of two 1:1 runs: ideas are as noisy at 1:1 as at 1:20 (counted in persons)
    ref = sum(runs_at(paradigm, 1.0, 2)) / 2
    bad = outside(ref, runs_at(paradigm, scale, REPS), scale)
    assert bad == [], pd.DataFrame(bad, columns=["metric", "year", "1:1", "p5", "p95"])
