"""Scale invariance (issue 11): per-person results do not depend on run.population_scale.

Indre Østfold runs under each paradigm at a larger scale are compared with the 5-95 % band of
REPS replications at 1:20. Every metric is per person, per inhabitant, a share, a rate, or a
total already divided by the scale (metrics.py), so each should agree within sampling error in
2030, 2040 and 2060. The rule behind it is in docs/researchers.md §6.

Some noise does not shrink with the scale: ideas are one municipality's ideas whatever the scale,
so productivity and the fit bonus (and through them cost) vary as much at 1:1 as at 1:20. The
value at the larger scale is therefore the median of REF_SEEDS runs (one run would fall outside
a band of ten replications of the same distribution about one time in six). The check allows a
small share of (metric, year) pairs outside the band (``MAX_SHARE_OUTSIDE``; by chance a few
per cent are), but none for the headline metrics. With the scale factor taken out of the
facilitation capacity again (the bug of issue 11) the check fails (last test).
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pytest

from sim.mechanisms import cocreation
from sim.metrics import METRIC_NAMES
from sim.model import WelfareModel
from sim.runner import yearly
from sim.scenario import default_scenario

PARADIGMS = ("traditional", "npm", "network_governance")
SMALL = 0.05
REPS = 10
YEARS = (2030, 2040, 2060)
# metrics that must never leave the band (what a reader of a comparison looks at first)
HEADLINE = ("cost_per_inhabitant", "quality", "coverage", "fit", "hours_volunteer",
            "hours_informal", "hours_professional", "need_hours", "processes_thick",
            "hours_facilitation", "fte_per_1000", "fit_bonus", "productivity")
MAX_SHARE_OUTSIDE = 0.05
# Coverage saturates at 1. At 1:20 the workforce is about 30 agents of 20 FTE each, so staffing
# moves in steps of 3 % and, capped at 1, mean coverage comes out a few tenths of a per cent
# lower than at 1:1 (measured: 0.9985 at 1:5 against a 1:20 band of 0.9835-0.9983). That is the
# granularity of a small sample, not a unit error; coverage shares get this absolute tolerance
# on top of the band.
ABS_TOL = {"coverage": 0.003, "effective_coverage": 0.003}
REF_SEEDS = (1, 2, 3)
COMPARED = [m for m in METRIC_NAMES if m not in ("year", "month")]


def _run(paradigm: str, scale: float, seed: int) -> pd.DataFrame:
    sc = default_scenario(paradigm, **{"run.population_scale": scale})
    return yearly(WelfareModel(sc, seed=seed).run().table()).loc[list(YEARS), COMPARED]


@cache
def small_runs(paradigm: str) -> tuple[pd.DataFrame, ...]:
    return tuple(_run(paradigm, SMALL, 100 + r) for r in range(REPS))


def reference(paradigm: str, scale: float) -> pd.DataFrame:
    """Median of REF_SEEDS runs at ``scale``."""
    runs = [_run(paradigm, scale, seed) for seed in REF_SEEDS]
    return pd.concat(runs).groupby(level=0).median()


def outside(reference: pd.DataFrame, runs: tuple[pd.DataFrame, ...]) -> list[tuple]:
    """(metric, year, reference, 5 %, 95 %) for every pair outside the band of ``runs``."""
    stack = np.stack([r.to_numpy() for r in runs])
    lo, hi = np.quantile(stack, 0.05, axis=0), np.quantile(stack, 0.95, axis=0)
    ref = reference.to_numpy()
    tol = 1e-9 * (1.0 + np.abs(ref)) + np.array([ABS_TOL.get(c, 0.0)
                                                  for c in reference.columns])
    bad = (ref < lo - tol) | (ref > hi + tol)
    return [(reference.columns[j], reference.index[i], ref[i, j], lo[i, j], hi[i, j])
            for i, j in zip(*np.nonzero(bad), strict=True)]


def check(reference: pd.DataFrame, runs: tuple[pd.DataFrame, ...]) -> None:
    out = outside(reference, runs)
    headline = [o for o in out if o[0] in HEADLINE]
    share = len(out) / reference.size
    assert not headline, f"headline metrics outside the 5-95 % band: {headline}"
    assert share <= MAX_SHARE_OUTSIDE, (f"{share:.1%} of metric-years outside the 5-95 % "
                                        f"band: {out}")


@pytest.mark.parametrize("paradigm", PARADIGMS)
def test_per_person_results_agree_at_1_to_5_and_1_to_20(paradigm):
    check(reference(paradigm, 0.2), small_runs(paradigm))


@pytest.mark.slow
@pytest.mark.parametrize("paradigm", PARADIGMS)
def test_per_person_results_agree_at_1_to_1_and_1_to_20(paradigm):
    check(reference(paradigm, 1.0), small_runs(paradigm))


def test_the_check_fails_without_the_scale_factor_in_facilitation_capacity(monkeypatch):
    """Put the bug back: capacity from persons compared with agent-scale hours."""
    def unscaled(model, pars, ng_weight):
        return (pars["cocreation.facilitator_fte_per_10000"] * model.population / 10_000
                * pars["professionals.hours_per_fte_month"] * ng_weight)

    monkeypatch.setattr(cocreation, "facilitation_capacity", unscaled)
    runs = tuple(_run("network_governance", SMALL, 100 + r) for r in range(REPS))
    with pytest.raises(AssertionError, match="outside the 5-95 % band"):
        check(reference("network_governance", 0.2), runs)
