"""The agent event engine: ageing, births, deaths and net migration on agent arrays.

Vectorised over agents (no per-agent Python loops). Timing: on the first tick of each calendar
year (month 1) the engine counts the alive agents by sex and age on 1 January, computes the
year's event counts per (sex, age) cell from the year's rates, picks *which* agents experience
them at random, and spreads the events uniformly at random over the year's months; ``step``
then returns each month's share. Ageing is one month per tick.

Event counts per cell are the expected counts rounded by systematic rounding with a random start
(each cell gets the floor or ceiling of its expectation, unbiased, and the total over cells is
within one of the expected total):

* deaths ``q[s, a] * n[s, a]``; mothers ``fert[a] * n[1, a]`` (one birth per mother per year,
  mothers neither die nor emigrate that year); newborn sexes split with ``p_male``; deaths of
  newborns in their year of birth ``q_birth[s] * births[s]`` (at the December tick, among the
  agents under one year);
* net migration: with ``track_projection=True`` (default) the net migration of each cell is the
  residual that puts the cell on the deterministic projection (scaled, rounded) on 1 January of
  the next year -- its expectation is the migration rate times the cell, the residual only adds
  the rounding of deaths and births -- so the agent population equals the projected population
  at every 1 January to within rounding (cell by cell), and accounting is exact. With
  ``track_projection=False`` net migration is the rounded rate times the cell, like the other
  events, and the run drifts from the projection only by its sampling error. A negative net
  count in a cell means emigrants (chosen at random from the cell), a positive one immigrants of
  that sex and age (arriving at a random month with an age that makes them the cell's age on
  1 January next year).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.demography.cohort import N_AGES, project_one_year
from sim.demography.rates import Projection

MAX_AGE_MONTHS = N_AGES * 12 - 1  # 105 years 11 months
N_CELLS = 2 * N_AGES
_EMPTY_I = np.zeros(0, dtype=np.int64)
_EMPTY_S = np.zeros(0, dtype=np.int8)
_EMPTY_A = np.zeros(0, dtype=np.int16)


def systematic_round(x: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    """Round each element to its floor or ceiling so that partial sums stay within one of the
    exact partial sums (cumulative rounding). ``rng`` draws the start (unbiased); without it the
    start is 0.5 (ordinary rounding of the running total, deterministic)."""
    flat = np.asarray(x, dtype=float).ravel()
    u = 0.5 if rng is None else float(rng.random())
    c = np.floor(np.cumsum(flat) + u)
    out = np.diff(c, prepend=0.0).astype(np.int64)
    return out.reshape(np.shape(x))


@dataclass
class Events:
    """Events of one tick (see the module docstring)."""

    deaths: np.ndarray
    emigrants: np.ndarray
    births_sex: np.ndarray
    births_mother: np.ndarray
    immigrants_age_months: np.ndarray
    immigrants_sex: np.ndarray
    redated: np.ndarray = field(default_factory=lambda: _EMPTY_I)  # re-dated residents (month 1)

    @classmethod
    def empty(cls) -> Events:
        return cls(_EMPTY_I, _EMPTY_I, _EMPTY_S, _EMPTY_I, _EMPTY_A, _EMPTY_S)


@dataclass
class _YearPlan:
    year: int
    death_idx: np.ndarray
    death_month: np.ndarray
    emig_idx: np.ndarray
    emig_month: np.ndarray
    mother_idx: np.ndarray
    birth_sex: np.ndarray
    birth_month: np.ndarray
    imm_age: np.ndarray  # age in months at arrival
    imm_sex: np.ndarray
    imm_month: np.ndarray
    infant_deaths: np.ndarray  # (2,) at the December tick
    infant_emigrants: np.ndarray  # (2,)
    redated: np.ndarray = field(default_factory=lambda: _EMPTY_I)  # netted migration


class Demography:
    """Vectorised demographic event engine following a calibrated :class:`Projection`."""

    def __init__(
        self,
        proj: Projection,
        rng: np.random.Generator | None = None,
        *,
        track_projection: bool = True,
    ) -> None:
        self.proj = proj
        self.rng = rng if rng is not None else np.random.default_rng()
        self.track_projection = track_projection
        self._expected: np.ndarray | None = None  # scaled expected population, 1 January
        self._state_year: int | None = None
        self._plan: _YearPlan | None = None

    # ------------------------------------------------------------------ population
    def initial_population(
        self, base: np.ndarray, scale: float = 1.0
    ) -> tuple[np.ndarray, np.ndarray]:
        """Agents for a base population (2, 106) at ``scale`` agents per person.

        Cell counts are ``round(persons * scale)`` by cumulative rounding (each cell floor or
        ceiling, total exactly ``round(total * scale)``); ages in months are ``12 * a`` plus a
        uniform random month 0..11 (105+ capped at 105 years 11 months). Returns ``(age_months
        int16, sex int8)`` in random order.
        """
        base = np.asarray(base, dtype=float)
        if base.shape != (2, N_AGES) or (base < 0).any() or not np.isfinite(base).all():
            raise ValueError(f"base must be a non-negative (2, {N_AGES}) array")
        if not scale > 0:
            raise ValueError("scale must be positive")
        expected = base * scale
        counts = systematic_round(expected)
        cells = np.repeat(np.arange(N_CELLS), counts.ravel())
        sex = (cells // N_AGES).astype(np.int8)
        age = (cells % N_AGES) * 12 + self.rng.integers(0, 12, size=cells.size)
        age = np.minimum(age, MAX_AGE_MONTHS).astype(np.int16)
        order = self.rng.permutation(cells.size)
        self._expected = expected
        self._state_year = None
        self._plan = None
        return age[order], sex[order]

    @staticmethod
    def cell_counts(age_months: np.ndarray, sex: np.ndarray, alive: np.ndarray) -> np.ndarray:
        """Alive agents by sex and completed years of age, (2, 106) int64."""
        idx = np.flatnonzero(alive)
        cell = sex[idx].astype(np.int64) * N_AGES + np.minimum(age_months[idx] // 12, N_AGES - 1)
        return np.bincount(cell, minlength=N_CELLS).reshape(2, N_AGES)

    # ------------------------------------------------------------------ tick
    def step(
        self,
        year: int,
        month: int,
        age_months: np.ndarray,
        sex: np.ndarray,
        alive: np.ndarray,
    ) -> Events:
        """One monthly tick: plan the year on its first tick, age alive agents by one month in
        place, and return this month's events."""
        if not 1 <= month <= 12:
            raise ValueError("month must be 1..12")
        redated = _EMPTY_I
        if self._plan is None or self._plan.year != year:
            self._plan = self._plan_year(year, month, age_months, sex, alive)
            redated = self._plan.redated
        plan = self._plan
        np.add(age_months, alive, out=age_months, casting="unsafe")  # +1 month for the living
        np.minimum(age_months, MAX_AGE_MONTHS, out=age_months)
        m = np.int8(month)
        deaths = plan.death_idx[plan.death_month == m]
        emigrants = plan.emig_idx[plan.emig_month == m]
        deaths = deaths[alive[deaths]]
        emigrants = emigrants[alive[emigrants]]
        if month == 12 and (plan.infant_deaths.any() or plan.infant_emigrants.any()):
            d0, e0 = self._infants(plan, age_months, sex, alive)
            deaths = np.concatenate([deaths, d0])
            emigrants = np.concatenate([emigrants, e0])
        bsel = plan.birth_month == m
        isel = plan.imm_month == m
        return Events(
            deaths=deaths,
            emigrants=emigrants,
            births_sex=plan.birth_sex[bsel],
            births_mother=plan.mother_idx[bsel],
            immigrants_age_months=plan.imm_age[isel],
            immigrants_sex=plan.imm_sex[isel],
            redated=redated,
        )

    # ------------------------------------------------------------------ internals
    def _infants(self, plan, age_months, sex, alive) -> tuple[np.ndarray, np.ndarray]:
        pool = np.flatnonzero(alive & (age_months < 12))
        d_out, e_out = [], []
        for s in (0, 1):  # two sexes, not agents
            cand = pool[sex[pool] == s]
            nd = min(int(plan.infant_deaths[s]), cand.size)
            ne = min(int(plan.infant_emigrants[s]), cand.size - nd)
            pick = self.rng.choice(cand, size=nd + ne, replace=False) if nd + ne else _EMPTY_I
            d_out.append(pick[:nd])
            e_out.append(pick[nd:])
        return np.concatenate(d_out).astype(np.int64), np.concatenate(e_out).astype(np.int64)

    def _targets(self, year: int, n: np.ndarray) -> np.ndarray:
        """Tracked cell counts for 1 January ``year + 1``."""
        if self._state_year != year:
            exp = self._expected
            if exp is None or not np.array_equal(systematic_round(exp), n):
                exp = n.astype(float)  # population not from initial_population: follow it
            self._expected = exp
        nxt, _ = project_one_year(self._expected, self.proj.rates(year))
        self._expected = nxt
        self._state_year = year + 1
        return systematic_round(nxt)

    def _plan_year(self, year, month, age_months, sex, alive) -> _YearPlan:
        rng = self.rng
        r = self.proj.rates(year)
        idx = np.flatnonzero(alive)
        age_y = np.minimum(age_months[idx] // 12, N_AGES - 1).astype(np.int64)
        cell = sex[idx].astype(np.int64) * N_AGES + age_y
        n = np.bincount(cell, minlength=N_CELLS).reshape(2, N_AGES)

        deaths = systematic_round(r.q * n, rng)
        fert_exp = np.zeros((2, N_AGES))
        fert_exp[1] = r.fert * n[1]
        mothers = systematic_round(fert_exp, rng)
        avail = n - deaths
        if self.track_projection:
            target = self._targets(year, n)
            net_end = np.zeros((2, N_AGES), dtype=np.int64)  # by age on 1 January next year
            net_end[:, 1:] = target[:, 1:] - avail[:, :-1]
            net_end[:, -1] -= avail[:, -1]
        else:
            net_start = systematic_round(r.mig * n, rng)
            net_end = np.zeros((2, N_AGES), dtype=np.int64)
            net_end[:, 1:] = net_start[:, :-1]
            net_end[:, -1] += net_start[:, -1]
        # emigrants by age on 1 January (105+ end cell draws from 105+ first, then 104)
        emig = np.zeros((2, N_AGES), dtype=np.int64)
        out = np.maximum(-net_end, 0)
        emig[:, :-1] = out[:, 1:]
        top = np.minimum(emig[:, -2], avail[:, -1])
        emig[:, -1] = top
        emig[:, -2] -= top
        emig = np.minimum(emig, avail)
        mothers = np.minimum(mothers, avail - emig)
        imm_end = np.maximum(net_end, 0)
        imm_end[:, 0] = 0
        # an emigrant of one age and an immigrant of a nearby age (same sex) are netted: one
        # resident is re-dated instead (see _net_migration)
        redate, shifts = _net_migration(emig, imm_end) if self.track_projection else (
            np.zeros_like(emig), np.zeros(0, dtype=np.int64))

        # which agents: rank agents within their cell in random order
        # (a random permutation, then a stable sort by cell: cells < 256 fit uint8, which numpy
        # sorts by radix in linear time)
        perm = rng.permutation(idx.size)
        order = perm[np.argsort(cell[perm].astype(np.uint8), kind="stable")]
        sc = cell[order]
        starts = np.concatenate([[0], np.cumsum(n.ravel())[:-1]])
        rank = np.arange(idx.size) - starts[sc]
        d_cell, e_cell, b_cell = deaths.ravel()[sc], emig.ravel()[sc], mothers.ravel()[sc]
        death_idx = idx[order[rank < d_cell]]
        r_cell = redate.ravel()[sc]
        redate_idx = idx[order[(rank >= d_cell) & (rank < d_cell + r_cell)]]
        emig_idx = idx[order[(rank >= d_cell + r_cell) & (rank < d_cell + e_cell)]]
        if redate_idx.size:  # (in cell order, as ``shifts``)
            age_months[redate_idx] = np.clip(age_months[redate_idx].astype(np.int64)
                                             + 12 * shifts, 0, MAX_AGE_MONTHS)
        mother_idx = idx[order[(rank >= d_cell + e_cell) & (rank < d_cell + e_cell + b_cell)]]

        # births: sexes, infant deaths and infant net migration
        nb = mother_idx.size
        boys = int(systematic_round(np.array([nb * r.p_male]), rng)[0])
        birth_sex = np.zeros(nb, dtype=np.int8)
        birth_sex[rng.permutation(nb)[: nb - boys]] = 1
        births = np.array([boys, nb - boys])
        infant_deaths = systematic_round(r.q_birth * births, rng)
        if self.track_projection:
            net0 = target[:, 0] - (births - infant_deaths)
        else:
            net0 = systematic_round(r.mig_birth * births, rng)
        infant_emig = np.maximum(-net0, 0)
        imm_end[:, 0] = np.maximum(net0, 0)

        months = np.arange(month, 13, dtype=np.int8)

        def draw_months(k: int) -> np.ndarray:
            return rng.choice(months, size=k).astype(np.int8)

        # immigrants: age at arrival so that they are the cell's age on 1 January next year
        counts = imm_end.ravel()
        icell = np.repeat(np.arange(N_CELLS), counts)
        imm_sex = (icell // N_AGES).astype(np.int8)
        end_age = icell % N_AGES
        imm_month = draw_months(icell.size)
        remaining = 12 - imm_month.astype(np.int64)  # ticks of ageing still to come this year
        lo = np.where(end_age == 0, remaining, 0)
        r_months = lo + np.floor(rng.random(icell.size) * (12 - lo)).astype(np.int64)
        imm_age = np.clip(end_age * 12 + r_months - remaining, 0, MAX_AGE_MONTHS).astype(np.int16)

        return _YearPlan(
            year=year,
            death_idx=death_idx.astype(np.int64),
            death_month=draw_months(death_idx.size),
            emig_idx=emig_idx.astype(np.int64),
            emig_month=draw_months(emig_idx.size),
            mother_idx=mother_idx.astype(np.int64),
            birth_sex=birth_sex,
            birth_month=draw_months(nb),
            imm_age=imm_age,
            imm_sex=imm_sex,
            imm_month=imm_month,
            infant_deaths=infant_deaths,
            infant_emigrants=infant_emig,
            redated=redate_idx.astype(np.int64),
        )


NET_WINDOW_YEARS = 3


def _net_migration(emig: np.ndarray, imm_end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Net emigrants against immigrants of the same sex whose age (on 1 January next year)
    is within ``NET_WINDOW_YEARS``: instead of one resident leaving and a stranger arriving,
    one resident is re-dated to the immigrant's age. Changes ``imm_end`` in place.

    Cell-by-cell tracking of the projection leaves each cell a rounding residual of about
    +-1 agent a year, whatever the scale, so without netting a 1:20 run had about 30 times the
    gross migration per person of a 1:1 run (immigrants and emigrants of 700-1,000 persons a
    year against about 300 and 20 at 1:1), replacing residents (with their family ties) by
    newcomers (without) much faster. Netting keeps the cell counts exactly; it changes only
    which agents carry them. Returns re-dates per start cell (2, 106) and the shifts in years,
    ordered by cell as the agents are picked."""
    redate = np.zeros_like(emig)
    records = []  # (sex, start age, shift in years, count)
    top = N_AGES - 2  # the open end (104-105+) is left alone
    for s in (0, 1):
        e_end = np.zeros(N_AGES, dtype=np.int64)  # emigrants by age on 1 January next year
        e_end[1:top] = emig[s, : top - 1]
        for d in range(1, NET_WINDOW_YEARS + 1):
            for sign in (1, -1):
                if sign > 0:  # emigrant at a, immigrant at a + d
                    m = np.minimum(e_end[1:top - d], imm_end[s, 1 + d:top])
                    a_e = np.arange(1, top - d)
                else:  # emigrant at a + d, immigrant at a
                    m = np.minimum(e_end[1 + d:top], imm_end[s, 1:top - d])
                    a_e = np.arange(1 + d, top)
                hit = np.flatnonzero(m)
                if not hit.size:
                    continue
                k, ae = m[hit], a_e[hit]
                e_end[ae] -= k
                imm_end[s, ae + sign * d] -= k
                redate[s, ae - 1] += k
                records.append((np.full(hit.size, s), ae - 1, np.full(hit.size, sign * d), k))
    if not records:
        return redate, np.zeros(0, dtype=np.int64)
    sex, start, shift, count = (np.concatenate(x) for x in zip(*records, strict=True))
    cell = sex * N_AGES + start
    o = np.lexsort((shift, cell))
    return redate, np.repeat(shift[o], count[o]).astype(np.int64)


@dataclass
class AgentRun:
    """Result of :func:`simulate_agents`: 1 January cell counts and yearly event totals."""

    counts: dict[int, np.ndarray]  # year -> (2, 106) alive agents on 1 January
    births: dict[int, int]
    deaths: dict[int, int]
    immigrants: dict[int, int]
    emigrants: dict[int, int]
    slots: int  # slots ever created


def simulate_agents(
    proj: Projection,
    base: np.ndarray,
    start_year: int,
    end_year: int,
    *,
    scale: float = 1.0,
    rng: np.random.Generator | None = None,
    track_projection: bool = True,
) -> AgentRun:
    """Run the engine alone, monthly, the way the model does (slots are never reused; arrays
    grow by 50 % when full). Used by tests, the report and the benchmark."""
    demo = Demography(
        proj,
        rng=rng if rng is not None else np.random.default_rng(0),
        track_projection=track_projection,
    )
    age0, sex0 = demo.initial_population(base, scale)
    n = age0.size
    cap = max(16, int(n * 1.5))
    age = np.zeros(cap, dtype=np.int16)
    sex = np.zeros(cap, dtype=np.int8)
    alive = np.zeros(cap, dtype=bool)
    age[:n], sex[:n], alive[:n] = age0, sex0, True
    run = AgentRun({}, {}, {}, {}, {}, 0)
    for year in range(start_year, end_year + 1):
        run.counts[year] = Demography.cell_counts(age[:n], sex[:n], alive[:n])
        if year == end_year:
            break
        tb = td = ti = te = 0
        for month in range(1, 13):
            ev = demo.step(year, month, age[:n], sex[:n], alive[:n])
            alive[ev.deaths] = False
            alive[ev.emigrants] = False
            new_age = np.concatenate(
                [np.zeros(ev.births_sex.size, np.int16), ev.immigrants_age_months]
            )
            new_sex = np.concatenate([ev.births_sex, ev.immigrants_sex])
            k = new_age.size
            if n + k > cap:
                cap = max(int(cap * 1.5), n + k)
                age = np.resize(age, cap)
                sex = np.resize(sex, cap)
                alive = np.concatenate([alive, np.zeros(cap - alive.size, dtype=bool)])
            age[n : n + k], sex[n : n + k], alive[n : n + k] = new_age, new_sex, True
            n += k
            tb += ev.births_sex.size
            td += ev.deaths.size
            ti += ev.immigrants_sex.size
            te += ev.emigrants.size
        run.births[year], run.deaths[year] = tb, td
        run.immigrants[year], run.emigrants[year] = ti, te
    run.slots = n
    return run
