"""The EMA Workbench adapter: registry-derived parameters and a 20-experiment LHS."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("ema_workbench")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from ema_workbench import (
        CategoricalParameter,
        IntegerParameter,
        RealParameter,
        perform_experiments,
    )

from sim.ema import ema_name, welfare_model  # noqa: E402
from sim.errors import InputError  # noqa: E402
from sim.params import registry  # noqa: E402
from sim.scenario import load_scenario  # noqa: E402

CLASSROOM = Path(__file__).resolve().parent.parent / "scenarios" / "classroom.toml"


def scenario():
    return load_scenario(CLASSROOM).with_overrides({"run.end_year": 2017})


def test_parameters_come_from_the_registry():
    m = welfare_model(scenario())
    reg = registry()
    unc = {u.name: u for u in m.uncertainties}
    assert len(unc) > 20
    p = reg["health.unmet_need_damage"]
    u = unc[ema_name("health.unmet_need_damage")]
    assert isinstance(u, RealParameter)
    assert (u.lower_bound, u.upper_bound) == (p.low, p.high)
    assert not any(n.startswith(("run__", "demography__", "mechanisms__")) for n in unc)
    levers = {lv.name: lv for lv in m.levers}
    assert isinstance(levers["paradigm"], CategoricalParameter)
    ints = [n for n, q in reg.items() if q.kind is int and q.low is not None
            and ema_name(n) in unc]
    if ints:
        assert isinstance(unc[ema_name(ints[0])], IntegerParameter)
    assert {o.name for o in m.outcomes} >= {"cost_per_inhabitant", "quality"}


def test_unknown_parameter_is_an_input_error():
    with pytest.raises(InputError, match="cocreation.nope"):
        welfare_model(scenario(), uncertainties=["cocreation.nope"])


def test_perform_experiments_20_lhs():
    m = welfare_model(scenario(), uncertainties=["cocreation.participation_propensity",
                                                 "health.unmet_need_damage",
                                                 "finance.budget_growth_per_year"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        experiments, outcomes = perform_experiments(m, 20)
    assert len(experiments) == 20
    assert set(outcomes) >= {"cost_per_inhabitant", "quality", "coverage"}
    for v in outcomes.values():
        assert v.shape == (20,) and np.isfinite(v).all()
    assert outcomes["cost_per_inhabitant"].std() > 0
