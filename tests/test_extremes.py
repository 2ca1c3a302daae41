"""Extreme but valid inputs (issue 7.2): each runs with sensible results (the invariants of
tests/test_properties.py on every tick) or stops with a clear InputError.

Covers all-low and all-high parameter sets, one-at-a-time extremes, a municipality of one
person, zero elderly, an empty municipality, a budget of zero, no volunteers, no professionals,
a 1-year and a 200-year horizon.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from test_properties import SPECIAL, check_invariants

from sim.errors import InputError
from sim.metrics import INDEX
from sim.model import WelfareModel
from sim.params import registry
from sim.scenario import PARADIGMS, default_scenario

SCALE = 0.01
SMALL = {"run.population_scale": SCALE, "run.end_year": 2017}


def run(over: dict, paradigm: str = "traditional", seed: int = 1) -> np.ndarray:
    sc = default_scenario(paradigm).with_overrides({**SMALL, **over})
    m = WelfareModel(sc, seed=seed).run()
    check_invariants(m.results, float(sc.value("run.population_scale")))
    return m.results


def col(results: np.ndarray, name: str) -> np.ndarray:
    return results[:, INDEX[name]]


def ends(which: str) -> dict:
    """Every free numeric parameter at its low or high end; switches all off / all on."""
    out = {}
    for name, p in registry().items():
        if name in SPECIAL:
            continue
        if p.kind is bool:
            out[name] = which == "high"
        elif p.choices:
            out[name] = p.choices[0 if which == "low" else -1]
        elif p.low is not None:
            out[name] = p.low if which == "low" else p.high
    return out


def one_at_a_time() -> list[tuple[str, object]]:
    cases = []
    for name, p in registry().items():
        if name in SPECIAL or p.kind is bool or p.choices:
            continue
        cases += [(name, p.low), (name, p.high)]
    return cases


ALL_EXTREMES = one_at_a_time()
SAMPLE = random.Random(7).sample(ALL_EXTREMES, 16)


@pytest.mark.parametrize("which", ["low", "high"])
@pytest.mark.parametrize("paradigm", PARADIGMS)
def test_all_parameters_at_one_end(which, paradigm):
    run(ends(which), paradigm)


@pytest.mark.parametrize(("name", "value"), SAMPLE, ids=[f"{n}={v:g}" for n, v in SAMPLE])
def test_one_parameter_at_an_extreme(name, value):
    run({name: value}, "network_governance")


@pytest.mark.slow
@pytest.mark.parametrize(("name", "value"), ALL_EXTREMES,
                         ids=[f"{n}={v:g}" for n, v in ALL_EXTREMES])
@pytest.mark.parametrize("paradigm", PARADIGMS)
def test_every_parameter_at_both_extremes(name, value, paradigm):
    run({name: value, "run.end_year": 2018}, paradigm)


# ------------------------------------------------------------------ tiny municipalities
HEADER = ("# test municipality\n# Format: year,sex,age_from,age_to,persons\n"
          "year,sex,age_from,age_to,persons\n")
GROUPS = ((0, 19), (20, 66), (67, 79), (80, 89), (90, 105))


def municipality(tmp_path: Path, monkeypatch, persons: dict[tuple[int, int], float]) -> str:
    """Write a base-population CSV (same format as indre_ostfold_3014.csv) and allow it as
    ``run.municipality`` (the loader takes a path; the scenario check lists bundled names)."""
    path = tmp_path / "tiny.csv"
    rows = [f"2016,both,{lo},{hi},{persons.get((lo, hi), 0)}" for lo, hi in GROUPS]
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    import sim.scenario as scenario

    names = scenario.available_municipalities()
    monkeypatch.setattr(scenario, "available_municipalities", lambda: [*names, str(path)])
    return str(path)


@pytest.mark.parametrize("paradigm", PARADIGMS)
@pytest.mark.parametrize("group", [(20, 66), (80, 89)])
def test_a_municipality_of_one_person(tmp_path, monkeypatch, paradigm, group):
    name = municipality(tmp_path, monkeypatch, {group: 1})
    r = run({"run.municipality": name, "run.population_scale": 1.0, "run.end_year": 2018},
            paradigm)
    assert col(r, "population")[0] in (0, 1, 2)  # a birth/death/move in month 1 is possible
    assert (col(r, "population") <= 10).all()


def test_an_empty_municipality_runs_or_says_why(tmp_path, monkeypatch):
    name = municipality(tmp_path, monkeypatch, {})
    try:
        r = run({"run.municipality": name, "run.population_scale": 1.0})
    except InputError as e:
        assert "popul" in str(e).lower()
    else:
        assert col(r, "population")[0] <= 1


def test_zero_elderly(tmp_path, monkeypatch):
    name = municipality(tmp_path, monkeypatch, {(0, 19): 2000, (20, 66): 5000})
    r = run({"run.municipality": name, "run.population_scale": 0.1})
    assert col(r, "pop_80+")[0] == 0 and col(r, "institution_residents")[0] == 0


# ------------------------------------------------------------------ no money, no helpers
@pytest.mark.parametrize("paradigm", PARADIGMS)
def test_budget_of_zero(paradigm):
    r = run({"finance.budget_share_of_revenue": 0.0}, paradigm)
    assert (col(r, "budget") == 0).all()


@pytest.mark.parametrize("paradigm", PARADIGMS)
def test_no_volunteers(paradigm):
    low = registry()["volunteers.initial_share_of_adults"].low
    r = run({"volunteers.initial_share_of_adults": low, "volunteers.recruitment_per_year": 0.0,
             "volunteers.base_recruitment_per_1000_adults": 0.0,
             "volunteers.hours_offered_per_month": registry()[
                 "volunteers.hours_offered_per_month"].low}, paradigm)
    assert (np.diff(col(r, "volunteers")) <= 0).all()  # nobody joins


@pytest.mark.parametrize("paradigm", PARADIGMS)
def test_no_professionals(paradigm):
    r = run({"professionals.initial_coverage": registry()["professionals.initial_coverage"].low,
             "finance.budget_share_of_revenue": 0.0, "mechanisms.volunteers": False,
             "volunteers.initial_share_of_adults": 0.01, "mechanisms.informal_care": False},
            paradigm)
    assert (col(r, "coverage") <= 1).all()


def test_no_professionals_and_no_mechanisms():
    r = run({**{k: False for k in registry() if k.startswith("mechanisms.")},
             "professionals.initial_coverage": 0.5, "finance.budget_share_of_revenue": 0.0})
    assert (col(r, "population") == col(r, "population")[0]).all()  # demography off: frozen


# ------------------------------------------------------------------ horizons
def test_one_year_horizon():
    r = run({"run.end_year": 2016})
    assert r.shape[0] == 12


def test_end_before_start_is_an_input_error():
    with pytest.raises(InputError, match="before start year"):
        default_scenario("npm", **{"run.end_year": 2018, "run.start_year": 2020,
                                   "demography.projection_round": 2020,
                                   "run.municipality": "norway"})


def test_beyond_the_range_is_an_input_error():
    with pytest.raises(InputError, match="plausible range"):
        default_scenario("npm", **{"run.end_year": 2217})


@pytest.mark.slow
@pytest.mark.parametrize("paradigm", ["npm", "network_governance"])
def test_two_hundred_year_horizon(paradigm):
    r = run({"run.end_year": 2215, "run.population_scale": 0.002}, paradigm)
    assert r.shape[0] == 200 * 12
    assert col(r, "population")[-1] > 0


def test_two_hundred_year_horizon_tiny():
    r = run({"run.end_year": 2215, "run.population_scale": 0.0005,
             "run.municipality": "indre_ostfold"}, "network_governance")
    assert r.shape[0] == 2400 and col(r, "year")[-1] == 2215
