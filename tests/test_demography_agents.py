"""Demography agent engine: interface, exactness against the cohort projection, speed."""

from __future__ import annotations

import time

import numpy as np
import pytest

from sim.demography import (
    Demography,
    Projection,
    acceptance_check,
    group_sums,
    load_base_population,
    project,
    simulate_agents,
)
from sim.demography.agents import MAX_AGE_MONTHS, NET_WINDOW_YEARS, systematic_round

CHECK = ("0-19", "20-66", "67-79", "80-89", "90+", "total")


def test_systematic_round_properties():
    rng = np.random.default_rng(3)
    x = rng.random(500) * 7 - 1
    r = systematic_round(x, rng)
    assert np.all((r == np.floor(x)) | (r == np.ceil(x)))
    assert abs(r.sum() - x.sum()) < 1.0
    assert systematic_round(np.array([0.5, 0.5, 0.5, 0.5])).sum() == 2


def test_initial_population_counts():
    base = load_base_population("indre_ostfold", 2016)
    demo = Demography(Projection.load(2016, "MMMM"), rng=np.random.default_rng(1))
    age, sex = demo.initial_population(base, scale=1.0)
    assert age.dtype == np.int16 and sex.dtype == np.int8
    assert age.size == 43_472
    counts = Demography.cell_counts(age, sex, np.ones(age.size, bool))
    assert np.abs(counts - base).max() <= 1.0
    age2, _ = demo.initial_population(base, scale=0.1)
    assert age2.size == round(43_472 * 0.1)
    assert age.max() <= MAX_AGE_MONTHS


def test_step_interface_and_event_invariants():
    base = load_base_population("norway", 2016)
    proj = Projection.load(2016, "MMMM")
    demo = Demography(proj, rng=np.random.default_rng(7))
    age, sex = demo.initial_population(base, scale=0.01)
    alive = np.ones(age.size, bool)
    for month in range(1, 13):
        before = age.copy()
        ev = demo.step(2016, month, age, sex, alive)
        # everyone ages a month; residents re-dated by netted migration (planned in the first
        # month) move by whole years, at most NET_WINDOW_YEARS, and stay alive
        moved = np.zeros(age.size, bool)
        moved[ev.redated] = True
        assert month == 1 or not moved.any()
        assert alive[ev.redated].all()
        keep = alive & ~moved
        assert np.array_equal(age[keep], np.minimum(before[keep] + 1, MAX_AGE_MONTHS))
        shift = age[moved].astype(int) - before[moved] - 1
        assert (shift % 12 == 0).all() and (shift != 0).all()
        assert (np.abs(shift) <= 12 * NET_WINDOW_YEARS).all()
        for arr, dt in [
            (ev.deaths, np.int64),
            (ev.emigrants, np.int64),
            (ev.births_mother, np.int64),
            (ev.births_sex, np.int8),
            (ev.immigrants_sex, np.int8),
            (ev.immigrants_age_months, np.int16),
        ]:
            assert arr.dtype == dt
        assert alive[ev.deaths].all() and alive[ev.emigrants].all()
        assert not np.intersect1d(ev.deaths, ev.emigrants).size
        assert ev.births_sex.size == ev.births_mother.size
        m = ev.births_mother
        assert alive[m].all() and (sex[m] == 1).all()
        assert ((age[m] // 12 >= 15) & (age[m] // 12 <= 50)).all()
        assert not np.intersect1d(m, np.concatenate([ev.deaths, ev.emigrants])).size
        assert ev.immigrants_age_months.size == ev.immigrants_sex.size
        assert (ev.immigrants_age_months >= 0).all()
        alive[ev.deaths] = False
        alive[ev.emigrants] = False
        k = ev.births_sex.size + ev.immigrants_sex.size
        age = np.concatenate(
            [age, np.zeros(ev.births_sex.size, np.int16), ev.immigrants_age_months]
        )
        sex = np.concatenate([sex, ev.births_sex, ev.immigrants_sex])
        alive = np.concatenate([alive, np.ones(k, bool)])


def test_one_to_one_indre_ostfold_equals_projection_to_2060():
    proj = Projection.load(2016, "MMMM")
    base = load_base_population("indre_ostfold", 2016)
    run = simulate_agents(proj, base, 2016, 2060, scale=1.0, rng=np.random.default_rng(11))
    expected = project(base, proj, 2016, 2060)
    for y in range(2016, 2061):
        assert abs(run.counts[y].sum() - expected[y].sum()) <= 0.5 + 1e-9
        assert np.abs(run.counts[y] - expected[y]).max() < 1.0 + 1e-9  # every cell within rounding
    for y in range(2016, 2060):  # exact accounting
        change = run.counts[y + 1].sum() - run.counts[y].sum()
        assert change == run.births[y] - run.deaths[y] + run.immigrants[y] - run.emigrants[y]
    assert run.births[2016] > 400 and run.deaths[2016] > 300


def test_stochastic_rate_mode_matches_expected_within_sampling_error():
    """Scale 0.01 national (~52,000 agents), net migration by rates (no tracking), 2016-2040."""
    proj = Projection.load(2016, "MMMM")
    base = load_base_population("norway", 2016)
    scale = 0.01
    run = simulate_agents(
        proj, base, 2016, 2040, scale=scale, rng=np.random.default_rng(5), track_projection=False
    )
    expected = project(base, proj, 2016, 2040)
    for y in range(2016, 2041):
        a, e = group_sums(run.counts[y]), group_sums(expected[y] * scale)
        for g in CHECK:
            assert abs(a[g] - e[g]) <= 3 * np.sqrt(e[g]) + 3, (y, g, a[g], e[g])
    scaled = {y: c / scale for y, c in run.counts.items()}
    acc = acceptance_check(scaled, proj, range(2016, 2041))
    assert acc.max_abs_pct < 2.0 and abs(acc.index80_model - acc.index80_ssb) < 2.0


def test_tracking_national_scale_acceptance_and_perturbation_detected():
    proj = Projection.load(2016, "LLML")
    base = load_base_population("norway", 2016)
    run = simulate_agents(proj, base, 2016, 2040, scale=0.01, rng=np.random.default_rng(2))
    scaled = {y: c / 0.01 for y, c in run.counts.items()}
    assert acceptance_check(scaled, proj, range(2016, 2041)).passed
    bad = simulate_agents(
        proj.perturbed(mortality=1.05), base, 2016, 2040, scale=0.01, rng=np.random.default_rng(2)
    )
    scaled_bad = {y: c / 0.01 for y, c in bad.counts.items()}
    assert not acceptance_check(scaled_bad, proj, range(2016, 2041)).passed


def test_population_not_from_initial_population_is_followed():
    proj = Projection.load(2016, "MMMM")
    base = load_base_population("indre_ostfold", 2016)
    demo = Demography(proj, rng=np.random.default_rng(0))
    age, sex = demo.initial_population(base, 1.0)
    alive = np.ones(age.size, bool)
    alive[:100] = False  # the model removed some agents before the first tick
    ev = demo.step(2016, 1, age, sex, alive)
    assert alive[ev.deaths].all()


@pytest.mark.slow
def test_national_one_to_one_agents_2016_2040():
    proj = Projection.load(2016, "MMMM")
    base = load_base_population("norway", 2016)
    run = simulate_agents(proj, base, 2016, 2040, scale=1.0, rng=np.random.default_rng(1))
    expected = project(base, proj, 2016, 2040)
    for y in range(2016, 2041):
        assert abs(run.counts[y].sum() - expected[y].sum()) <= 0.5 + 1e-9
    assert acceptance_check({y: c.astype(float) for y, c in run.counts.items()}, proj).passed


@pytest.mark.slow
def test_million_agents_one_year_under_a_second():
    proj = Projection.load(2016, "MMMM")
    base = load_base_population("norway", 2016)
    scale = 1_000_000 / base.sum()
    demo = Demography(proj, rng=np.random.default_rng(0))
    age, sex = demo.initial_population(base, scale)
    assert age.size == 1_000_000
    alive = np.ones(age.size, bool)
    t0 = time.perf_counter()
    for month in range(1, 13):
        ev = demo.step(2016, month, age, sex, alive)
        alive[ev.deaths] = False
        alive[ev.emigrants] = False
    assert time.perf_counter() - t0 < 1.0
