"""Splitting grouped ages into single years with a cohort-shifted interpolation.

A grouped file that holds several consecutive years (like the bundled Indre Østfold file,
2005-2016, groups 0-19, 20-66, 67-79, 80-89, 90+) carries more than each year's group totals:
a cohort crosses a group boundary one age a year, so the year-to-year changes of the totals
show how many people stand at the boundary ages. :func:`cohort_split` uses that.

Unknowns: persons ``x[t, a]`` (both sexes) in every year t of the series and age a = 0..105.
Minimise, subject to every year's group totals (exactly):

* cohort continuity -- ``sum (x[t+1, a+1] - g[a] x[t, a])^2``, where ``g[a]`` = national
  survival plus net migration per person at age a (the first year of the chosen SSB round; for
  the open age 105 the two oldest ages feed 105+); the local deviations from national rates are
  what the penalty lets through;
* smoothness of the local/national ratio -- ``lam * sum (s * (r[t, a+1] - r[t, a]))^2`` with
  ``r = x / n`` and ``n`` the national single-year structure scaled to the local total (``s``
  the mean local count per age, so both terms are in persons). With ``lam`` large this is the
  proportional split (inside each group the national shape); the cohort term moves people to
  where the series says they were.

The system (KKT, dense, ~1,300 unknowns for 12 years) is solved exactly. Sex is then split with
the national male share by age.

Status: measured out of sample on Indre Østfold (``tools/measure_split.py``, table in
docs/municipalities.md §6) it is *not* better than the proportional split the model uses
(mean absolute group error 4.2-4.7 % vs 3.9 %), so the model does not use it; it is kept for the
measurement and for files with longer series. Single-year imports make any split unnecessary.
"""

from __future__ import annotations

import numpy as np

from sim.demography.cohort import YearRates

N_AGES = 106


def growth_factors(rates: YearRates, ref: np.ndarray) -> np.ndarray:
    """``g[a]``: persons aged a+1 next 1 January per person aged a (both sexes, national mix)."""
    both = ref.sum(axis=0)
    w = np.divide(ref, both, out=np.full_like(ref, 0.5), where=both > 0)
    return (w * (1.0 - rates.q + rates.mig)).sum(axis=0)


def cohort_split(
    series: dict[int, list[tuple[int, int, float]]],
    g: np.ndarray,
    ref: np.ndarray,
    lam: float = 1.0,
    within: bool = True,
) -> dict[int, np.ndarray]:
    """Single-year ages (both sexes, (106,)) for every year of ``series``.

    ``series[year]`` lists ``(age_from, age_to, persons)`` groups covering 0..105 exactly once;
    ``g`` as :func:`growth_factors`; ``ref`` the national (2, 106) or (106,) structure.
    """
    years = sorted(series)
    if years != list(range(years[0], years[-1] + 1)):
        raise ValueError(f"cohort_split needs consecutive years, got {years}")
    nat = ref.sum(axis=0) if ref.ndim == 2 else ref
    nt = len(years)
    nv = nt * N_AGES

    def idx(t: int, a: int) -> int:
        return t * N_AGES + a

    rows: list[np.ndarray] = []
    # cohort continuity
    for t in range(nt - 1):
        for a in range(N_AGES - 1):
            r = np.zeros(nv)
            r[idx(t + 1, a + 1)] = 1.0
            r[idx(t, a)] -= g[a]
            if a + 1 == N_AGES - 1:
                r[idx(t, N_AGES - 1)] -= g[N_AGES - 1]
            rows.append(r)
    # smoothness of the ratio to the national shape
    for t, y in enumerate(years):
        total = sum(p for _, _, p in series[y])
        n = nat * total / nat.sum()
        scale = total / N_AGES
        group_of = np.zeros(N_AGES, dtype=int)
        for k, (lo, hi, _) in enumerate(series[y]):
            group_of[lo : hi + 1] = k
        for a in range(N_AGES - 1):
            if n[a] <= 0 or n[a + 1] <= 0 or (within and group_of[a] != group_of[a + 1]):
                continue
            r = np.zeros(nv)
            r[idx(t, a + 1)] = np.sqrt(lam) * scale / n[a + 1]
            r[idx(t, a)] = -np.sqrt(lam) * scale / n[a]
            rows.append(r)
    a_mat = np.array(rows)
    cons, rhs = [], []
    for t, y in enumerate(years):
        for lo, hi, persons in series[y]:
            c = np.zeros(nv)
            c[idx(t, lo) : idx(t, hi) + 1] = 1.0
            cons.append(c)
            rhs.append(persons)
    c_mat = np.array(cons)
    k = len(cons)
    kkt = np.block([[2.0 * a_mat.T @ a_mat, c_mat.T], [c_mat, np.zeros((k, k))]])
    sol = np.linalg.lstsq(kkt, np.concatenate([np.zeros(nv), rhs]), rcond=None)[0]
    x = sol[:nv].reshape(nt, N_AGES)
    out = {}
    for t, y in enumerate(years):
        xi = x[t].copy()
        if (xi < 0).any():  # rare: clip and restore each group's total proportionally
            xi = np.clip(xi, 0.0, None)
            for lo, hi, persons in series[y]:
                s = xi[lo : hi + 1].sum()
                if s > 0:
                    xi[lo : hi + 1] *= persons / s
        out[y] = xi
    return out


def split_sex(by_age: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """(2, 106) from (106,) with the national male share by age."""
    both = ref.sum(axis=0)
    male = np.divide(ref[0], both, out=np.full(N_AGES, 0.5), where=both > 0)
    return np.stack([by_age * male, by_age * (1.0 - male)])
