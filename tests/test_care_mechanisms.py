"""Mechanisms of the Norway calibration (issue 12): nursing-home admission priority, family
care as the first line and its cost to carers' paid work and tax, needs under 67 drawn per
domain, and the labour and budget limits. Each test checks a mechanism, never a ranking of
the paradigms."""

from __future__ import annotations

from functools import cache
from types import SimpleNamespace

import numpy as np
import pytest

from sim.mechanisms import allocation, needs, workforce
from sim.mechanisms.base import TickState
from sim.metrics import INDEX
from sim.model import WelfareModel
from sim.params import defaults
from sim.scenario import PARADIGMS, default_scenario

SMALL = {"run.population_scale": 0.05, "run.end_year": 2017}


@cache
def run(paradigm: str = "traditional", **over) -> np.ndarray:
    sc = default_scenario(paradigm).with_overrides({**SMALL, **over})
    return WelfareModel(sc, seed=3).run().results


def col(res: np.ndarray, name: str) -> np.ndarray:
    return res[:, INDEX[name]]


def yearly(res: np.ndarray, name: str, year: int) -> float:
    return float(col(res, name)[col(res, "year") == year].mean())


# ------------------------------------------------------------------ nursing-home queue
def _queue(ages, severity, dementia, places, pars=None):
    pars = {**defaults(), **(pars or {})}
    n = len(ages)
    model = SimpleNamespace(citizens=SimpleNamespace(resident=np.zeros(n, bool)),
                            institution_places=places, residents=0)
    ts = TickState(2016, 1, np.array([1.0, 0, 0]), pars)
    ts.needy = np.arange(n)
    ts.severity = np.asarray(severity, np.float32)
    ts.age = np.asarray(ages, np.int16)
    ts.dementia = np.asarray(dementia, bool)
    ts.institution_need = np.ones(n, bool)
    allocation.institutions(model, ts)
    return ts, model


def test_a_90_year_old_with_dementia_is_admitted_before_a_67_year_old():
    # the 67-year-old's need is heavier, but age and dementia weigh more
    ts, model = _queue(ages=[67, 92], severity=[0.8, 0.7], dementia=[False, True], places=1)
    assert ts.resident.tolist() == [False, True]
    assert ts.waiting_place == 1 and model.residents == 1


def test_without_age_and_dementia_priority_severity_decides():
    ts, _ = _queue(ages=[67, 92], severity=[0.8, 0.7], dementia=[False, True], places=1,
                   pars={"institutions.priority_per_decade": 0.0,
                         "institutions.priority_dementia": 0.0})
    assert ts.resident.tolist() == [True, False]


def test_nobody_under_the_minimum_age_is_admitted_or_queued():
    ts, _ = _queue(ages=[40, 70], severity=[0.99, 0.7], dementia=[True, False], places=2,
                   pars={"institutions.min_age": 67})
    assert ts.resident.tolist() == [False, True]
    assert ts.waiting_place == 0


def test_residents_keep_their_place_while_they_need_it():
    ts, model = _queue(ages=[95, 70], severity=[0.9, 0.7], dementia=[True, False], places=1)
    model.citizens.resident[:] = [False, True]  # the 70-year-old moved in earlier
    allocation.institutions(model, ts)
    assert ts.resident.tolist() == [False, True] and ts.waiting_place == 1


# ------------------------------------------------------------------ needs under 67
def _institution_need_by_dementia(threshold: float) -> tuple[float, float]:
    """Share of the needy aged 85+ who need a place, with and without dementia, in 2016."""
    sc = default_scenario("traditional").with_overrides(
        {**SMALL, "run.population_scale": 0.5, "run.end_year": 2016,
         "needs.institution_severity_dementia": threshold})
    model = WelfareModel(sc, seed=3)
    ts = TickState(2016, 1, np.array([1.0, 0, 0]), model.pars)
    needs.step(model, ts)
    old = ts.age >= 85
    dem, other = old & ts.dementia, old & ~ts.dementia
    return float(ts.institution_need[dem].mean()), float(ts.institution_need[other].mean())


def test_dementia_lowers_the_severity_at_which_a_place_is_needed():
    off = _institution_need_by_dementia(defaults()["needs.institution_severity"])
    on = _institution_need_by_dementia(0.2)
    # at the general threshold dementia makes no difference to the need for a place
    assert abs(off[0] - off[1]) < 0.08
    # a lower threshold for dementia: more of those with dementia need one, others unchanged
    assert on[0] > off[0] + 0.15
    assert on[1] == pytest.approx(off[1])


def test_needs_under_67_follow_each_domains_prevalence_and_are_not_nested():
    over = {"run.population_scale": 0.2, "run.end_year": 2016,
            "needs.practical_help.under67_prevalence": 0.06,
            "needs.nursing.under67_prevalence": 0.04,
            "needs.personal_care.under67_prevalence": 0.002,
            "needs.social_inclusion.under67_prevalence": 0.002,
            "mechanisms.health": False}
    m = WelfareModel(default_scenario("traditional").with_overrides(over), seed=2)
    m.step()
    ts, c = m.last_tick, m.citizens
    age = c.age_months[c.alive] // 12
    base = int(((age >= 20) & (age < 50)).sum())  # ages where the elderly curve is negligible
    rows = (ts.age >= 20) & (ts.age < 50)
    practical = ts.need[rows, 0] > 0
    nursing = ts.need[rows, 2] > 0
    assert practical.sum() / base == pytest.approx(0.06, rel=0.2)
    assert nursing.sum() / base == pytest.approx(0.04, rel=0.25)
    # independent draws: both in about 0.06 x 0.04 of people, far from nested (0.04)
    assert (practical & nursing).sum() / base < 0.012


def test_young_quantiles_are_uniform_and_independent():
    q = np.random.default_rng(0).random(200_000)
    a, b = needs.young_quantiles(q, 1), needs.young_quantiles(q, 3)
    assert a.mean() == pytest.approx(0.5, abs=0.01) and b.mean() == pytest.approx(0.5, abs=0.01)
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.01
    assert ((a < 0.1) & (b < 0.1)).mean() == pytest.approx(0.01, abs=0.002)


# ------------------------------------------------------------------ family care
@pytest.mark.parametrize("paradigm", PARADIGMS)
def test_family_care_is_the_first_line_in_every_paradigm(paradigm):
    none = run(paradigm, **{"informal.first_line_share": 0.0})
    first = run(paradigm, **{"informal.first_line_share": 0.6})
    assert yearly(first, "family_care_hours", 2016) > 1.5 * yearly(none, "family_care_hours", 2016)
    # professionals are asked for less where families give first
    assert col(first, "fte_need")[0] < col(none, "fte_need")[0]


def test_carers_lost_work_reduces_tax_revenue():
    keep = run(**{"informal.work_loss_per_care_hour": 0.0})
    lose = run(**{"informal.work_loss_per_care_hour": 1.0,
                  "informal.work_loss_threshold_hours": 0.0})
    assert (col(keep, "carer_lost_tax") == 0).all()
    lost = col(lose, "carer_lost_tax")[0]
    assert lost > 0 and col(lose, "carer_lost_work_hours")[0] > 0
    # same population in the first month: the tax differs by exactly the lost tax
    assert col(keep, "revenue_tax")[0] - col(lose, "revenue_tax")[0] == pytest.approx(lost)


def test_carers_strain_rises_with_their_hours():
    light = run(**{"informal.strain_half_hours": 120.0})
    heavy = run(**{"informal.strain_half_hours": 10.0})
    assert 0 < yearly(light, "carer_strain", 2016) < yearly(heavy, "carer_strain", 2016) < 1


# ------------------------------------------------------------------ the squeeze
def test_labour_ceiling_at_todays_level_binds_and_coverage_falls():
    over = {"run.end_year": 2040, "mechanisms.budget_constraint": False}
    free = run(**over, **{"professionals.max_fte_per_1000_working_age": 90.0})
    today = run(**over, **{"professionals.max_fte_per_1000_working_age": 41.5})
    fte = col(today, "share_working_age_in_care") * 1000
    assert (fte <= 41.5 * 1.02).all()  # all care FTE (home and institutional) under the ceiling
    assert yearly(today, "fte_gap", 2040) > yearly(free, "fte_gap", 2040)
    assert yearly(today, "coverage", 2040) < yearly(free, "coverage", 2040)
    assert yearly(today, "unmet_need_hours", 2040) > yearly(free, "unmet_need_hours", 2040)


def test_budget_from_revenue_caps_staff_and_overruns_are_paid_back():
    rich = run(**{"finance.budget_share_of_revenue": 1.5})
    poor = run(**{"finance.budget_share_of_revenue": 0.6})
    assert yearly(poor, "budget", 2016) < yearly(rich, "budget", 2016)
    assert yearly(poor, "professionals", 2017) < yearly(rich, "professionals", 2017)
    # the poor budget is overrun in 2016 (nursing homes cost what they cost) and repaid in 2017
    assert (col(poor, "budget_repayment")[col(poor, "year") == 2016] == 0).all()
    assert yearly(poor, "budget_repayment", 2017) > 0
    never = run(**{"finance.budget_share_of_revenue": 0.6, "finance.gap_lag_years": 0})
    assert (col(never, "budget_repayment") == 0).all()


def _places_model(full: bool = False, **kw):
    pars = {**defaults(), "institutions.max_places_growth_per_year": 0.05,
            "institutions.fte_per_place": 1.0, "institutions.cost_per_place_year": 1e6,
            "professionals.max_fte_per_1000_working_age": 50.0,
            "mechanisms.budget_constraint": True}
    pars.update(kw.pop("pars", {}))
    m = SimpleNamespace(pars=pars, institution_places=100, places_carry=0.0,
                        year_waiting_sum=12 * 30.0, year_waiting_months=12,
                        professionals=SimpleNamespace(active=np.ones(200, bool)),
                        fte_per_professional=1.0, working_age=10_000.0,  # ceiling 500 FTE
                        year_budget_sum=12 * 100e6, year_cost_sum=12 * 90e6,
                        budget_repayment=0.0)
    # home care's need over the year (the mean of its months counts, not the last month)
    m.year_home_fte_need_sum = 12 * kw.pop("home_fte_need", 200.0)
    for k, v in kw.items():
        setattr(m, k, v)
    workforce.grow_places(m)
    return m if full else m.institution_places


def test_places_grow_for_the_waiting_list_at_most_the_building_rate():
    assert _places_model() == 105  # 30 wait, 5 % a year
    assert _places_model(year_waiting_sum=12 * 2.0) == 102  # only as many as wait
    assert _places_model(year_waiting_sum=0.0) == 100


def test_a_fraction_of_a_place_is_carried_through_a_year_without_room():
    # half a place of growth a year: carried, kept through a year without room (dropping it
    # lost growth, the more the smaller the population scale), then added
    pars = {"institutions.max_places_growth_per_year": 0.005}
    m = _places_model(pars=pars, full=True)
    assert (m.institution_places, m.places_carry) == (100, 0.5)
    m.year_home_fte_need_sum = 12 * 450.0  # no room under the labour ceiling this year
    workforce.grow_places(m)
    assert (m.institution_places, m.places_carry) == (100, 0.5)
    m.year_home_fte_need_sum = 12 * 200.0
    workforce.grow_places(m)
    assert m.institution_places == 101


def test_places_grow_only_as_far_as_labour_and_budget_leave_room():
    # ceiling 500 FTE: home care needs 397 and the homes have 100 -> room for 3 places
    assert _places_model(home_fte_need=397.0) == 103
    assert _places_model(home_fte_need=450.0) == 100  # no room: no new places
    # a budget with NOK 2 million to spare a year pays for two places, an overrun for none
    assert _places_model(year_cost_sum=12 * (100e6 - 2e6 / 12)) == 102
    assert _places_model(year_cost_sum=12 * 101e6) == 100
    assert _places_model(year_cost_sum=12 * 101e6,
                         pars={"mechanisms.budget_constraint": False}) == 105
