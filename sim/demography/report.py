"""Acceptance checks against SSB and the ``demography`` command's core (``demography_report``)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.demography.cohort import project
from sim.demography.data import AGE_GROUPS, group_sums, load_base_population
from sim.demography.rates import Projection
from sim.errors import InputError

CHECK_GROUPS = ("0-19", "20-66", "67-79", "80-89", "90+")
LEVEL_TOL_PCT = 2.0
INDEX_TOL_POINTS = 2.0
CHANGE_TOL_PCT = 2.0
MAX_YEAR = 2200


@dataclass
class Acceptance:
    """Outcome of :func:`acceptance_check` (all percentages are model vs SSB)."""

    passed: bool
    max_abs_pct: float  # worst |model/SSB - 1| over groups and years, in %
    max_abs_pct_by_group: dict[str, float]
    index80_year: int
    index80_model: float
    index80_ssb: float
    change_pct: float  # (model total change)/(SSB total change) - 1, start -> last year, in %
    failures: list[str] = field(default_factory=list)


def acceptance_check(
    projected: dict[int, np.ndarray],
    proj: Projection,
    years: range | list[int] | None = None,
    *,
    level_tol_pct: float = LEVEL_TOL_PCT,
    index_tol_points: float = INDEX_TOL_POINTS,
    change_tol_pct: float = CHANGE_TOL_PCT,
) -> Acceptance:
    """Compare a national projection with SSB's figures for ``proj``.

    Three criteria, all must hold:

    1. level: every group 0-19, 20-66, 67-79, 80-89, 90+ in every year within ``level_tol_pct``;
    2. index: the 80+ index (first year = 100) in the last year within ``index_tol_points``;
    3. change: the change in the total population from the first to the last year within
       ``change_tol_pct`` of SSB's change. The level criterion alone cannot detect a 5 % error in
       net migration (it moves the levels by only about 1 % by 2040), the change criterion can.
    """
    if years is None:
        years = [y for y in sorted(projected) if y in proj.ssb]
    years = list(years)
    first, last = years[0], years[-1]
    by_group = {g: 0.0 for g in CHECK_GROUPS}
    failures: list[str] = []
    for y in years:
        model, ssb = group_sums(projected[y]), proj.ssb_groups(y)
        for g in CHECK_GROUPS:
            dev = abs(model[g] / ssb[g] - 1.0) * 100.0
            by_group[g] = max(by_group[g], dev)
            if dev > level_tol_pct:
                failures.append(f"{g} {y}: {dev:.2f} % from SSB")
    m0, m1 = group_sums(projected[first]), group_sums(projected[last])
    s0, s1 = proj.ssb_groups(first), proj.ssb_groups(last)
    idx_model = 100.0 * m1["80+"] / m0["80+"]
    idx_ssb = 100.0 * s1["80+"] / s0["80+"]
    if abs(idx_model - idx_ssb) > index_tol_points:
        failures.append(f"80+ index {last}: {idx_model:.1f} vs SSB {idx_ssb:.1f}")
    change = ((m1["total"] - m0["total"]) / (s1["total"] - s0["total"]) - 1.0) * 100.0
    if abs(change) > change_tol_pct:
        failures.append(f"total change {first}-{last}: {change:+.2f} % vs SSB")
    return Acceptance(
        passed=not failures,
        max_abs_pct=max(by_group.values()),
        max_abs_pct_by_group=by_group,
        index80_year=last,
        index80_model=idx_model,
        index80_ssb=idx_ssb,
        change_pct=change,
        failures=failures,
    )


def _check_scale(scale: float) -> float:
    try:
        s = float(scale)
    except (TypeError, ValueError) as exc:
        raise InputError(f"run.population_scale must be a number, got {scale!r}.") from exc
    if not (0.0 < s <= 1.0):
        raise InputError(
            f"run.population_scale {scale!r} is out of range: expected a number in (0, 1] "
            "(agents per person; 1.0 = one agent per inhabitant)."
        )
    return s


def demography_projection(
    municipality: str,
    projection_round: int,
    alternative: str,
    start_year: int,
    end_year: int,
) -> tuple[Projection, dict[int, np.ndarray]]:
    """Validated deterministic projection of a municipality: ``(Projection, {year: (2,106)})``."""
    proj = Projection.load(projection_round, alternative)
    try:
        start, end = int(start_year), int(end_year)
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"run.start_year and run.end_year must be whole years, got {start_year!r}, {end_year!r}."
        ) from exc
    if not (proj.first_year <= start <= end <= MAX_YEAR):
        raise InputError(
            f"Years {start}-{end} are out of range for the {proj.round} projection round: the "
            f"start year must be {proj.first_year} or later and the end year not before the start "
            f"year (nor after {MAX_YEAR}). Rates after {proj.last_year} are held at the "
            f"{proj.last_year - 1} level."
        )
    base = load_base_population(municipality, start)
    return proj, project(base, proj, start, end)


def demography_report(
    municipality: str,
    projection_round: int,
    alternative: str,
    start_year: int,
    end_year: int,
    years: list[int] | None = None,
    scale: float = 1.0,
) -> dict[str, dict[str, int]]:
    """Projected persons by reporting group: ``{"YEAR": {"GROUP": persons}}``.

    Groups: 0-19, 20-66, 67-79, 80-89, 90+, 80+, total (persons, rounded to whole persons).
    ``years`` defaults to the start year, every tenth year from the next round decade, and the end
    year. The figures are the deterministic cohort projection (expected counts) in persons;
    ``scale`` (agents per person) is validated and does not change them -- an agent run at that
    scale reproduces them times ``scale`` to within rounding.
    """
    _check_scale(scale)
    proj, projected = demography_projection(
        municipality, projection_round, alternative, start_year, end_year
    )
    start, end = int(start_year), int(end_year)
    if years is None:
        years = sorted({start, *range((start // 10 + 1) * 10, end, 10), end})
    bad = [y for y in years if not start <= int(y) <= end]
    if bad:
        raise InputError(
            f"Requested years {bad} are outside the run {start}-{end}: choose years between the "
            "scenario's run.start_year and run.end_year."
        )
    out: dict[str, dict[str, int]] = {}
    for y in sorted(int(y) for y in years):
        sums = group_sums(projected[y], AGE_GROUPS)
        out[str(y)] = {g: int(round(sums[g])) for g in AGE_GROUPS}
    _ = proj
    return out
