"""One calibration run: the base scenario with candidate values, run to the last target year,
reduced to the model's value of each target (that year's mean of the metric; flows summed)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from sim.calibration.config import CalibrationConfig, Target


def run_seed(seed: int, stage: int, replication: int) -> int:
    """Seed of a replication. Stage 1 = search trials, 2 = re-runs of the best candidates.
    Every trial of a stage uses the same seeds (common random numbers), so differences
    between trials come from the parameters, not the draws."""
    return int(np.random.SeedSequence([seed, stage, replication]).generate_state(1)[0]
               & 0x7FFFFFFF)


def target_values(cfg: CalibrationConfig, values: dict[str, float], seed: int) -> list[float]:
    """Run once and return the model's value for every target (in the config's order)."""
    from sim.model import WelfareModel
    from sim.runner import yearly

    sc = _scenario(cfg, values)
    model = WelfareModel(sc, seed=seed)
    model.run()
    y = yearly(model.table())
    return [float(y.loc[t.year, t.metric]) for t in cfg.targets]


def _scenario(cfg: CalibrationConfig, values: dict[str, float]):
    from sim.calibration.config import run_scenario_for

    return run_scenario_for(cfg, values)


def relative_errors(targets: Sequence[Target], model: Sequence[float]) -> list[float]:
    return [m / t.value - 1.0 for t, m in zip(targets, model, strict=True)]


def objective(targets: Sequence[Target], model: Sequence[float]) -> float:
    """Weighted mean absolute relative error over the fitted (non-holdout) targets."""
    num = den = 0.0
    for t, m in zip(targets, model, strict=True):
        if t.holdout:
            continue
        num += t.weight * abs(m / t.value - 1.0)
        den += t.weight
    value = num / den
    return value if math.isfinite(value) else float("inf")


def mean_over_replications(runs: Sequence[Sequence[float]]) -> list[float]:
    """Mean per target over replications, summed in replication order (deterministic)."""
    n = len(runs)
    return [math.fsum(r[i] for r in runs) / n for i in range(len(runs[0]))]
