"""EMA Workbench adapter: the welfare model as an ``ema_workbench.Model``.

Uncertainties and levers come from the parameter registry with its plausible ranges
(RealParameter / IntegerParameter / CategoricalParameter / BooleanParameter); outcomes are
yearly means of metrics in a chosen year. EMA names must be Python identifiers, so a registry
name ``cocreation.thick_share`` becomes ``cocreation__thick_share``.

    from ema_workbench import perform_experiments
    from sim.ema import welfare_model
    from sim.scenario import load_scenario
    model = welfare_model(load_scenario("scenarios/classroom.toml"))
    experiments, outcomes = perform_experiments(model, 20)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sim.params import Parameter, registry
from sim.scenario import PARADIGMS, Scenario

DEFAULT_LEVERS = ("paradigm", "cocreation.thick_share", "cocreation.civil_society_led_share",
                  "cocreation.thin_outside_share", "cocreation.facilitator_fte_per_10000",
                  "npm.tendered_share")
DEFAULT_OUTCOMES = ("cost_per_inhabitant", "quality", "coverage", "satisfaction",
                    "need_hours", "fte_need", "hours_volunteer", "coverage_gap_resource")
# structural settings, not uncertainties: the run, the projection, mechanism switches
EXCLUDED_GROUPS = ("run", "demography", "mechanisms")


def ema_name(name: str) -> str:
    return name.replace(".", "__").replace("-", "_")


def default_uncertainties(levers: Sequence[str] = DEFAULT_LEVERS) -> list[str]:
    """Every registry parameter with a range or choices, except structural ones and levers."""
    out = []
    for name, p in registry().items():
        if p.group in EXCLUDED_GROUPS or name in levers:
            continue
        if p.kind is bool or p.choices or p.low is not None:
            out.append(name)
    return out


def ema_parameter(name: str, p: Parameter | None = None):
    """The ema_workbench parameter of a registry entry (or of ``paradigm``)."""
    from ema_workbench import (
        BooleanParameter,
        CategoricalParameter,
        IntegerParameter,
        RealParameter,
    )

    if name == "paradigm":
        return CategoricalParameter("paradigm", list(PARADIGMS))
    p = p or registry()[name]
    ident = ema_name(name)
    if p.kind is bool:
        return BooleanParameter(ident)
    if p.choices:
        return CategoricalParameter(ident, list(p.choices))
    if p.kind is int:
        return IntegerParameter(ident, int(p.low), int(p.high))
    return RealParameter(ident, float(p.low), float(p.high))


class WelfareFunction:
    """The callable EMA runs: keyword arguments (EMA names) -> {outcome: value}. A class, not a
    closure, so that it pickles to EMA's multiprocessing evaluator."""

    def __init__(self, scenario: Scenario, names: dict[str, str], outcomes: Sequence[str],
                 year: int, seed: int) -> None:
        self.scenario, self.names, self.outcomes = scenario, names, tuple(outcomes)
        self.year, self.seed = year, seed

    def __call__(self, **kwargs: Any) -> dict[str, float]:
        from sim.model import WelfareModel
        from sim.runner import yearly

        overrides = {}
        for ident, value in kwargs.items():
            name = self.names.get(ident)
            if name is None:
                continue
            overrides[name] = value.item() if hasattr(value, "item") else value
        seed = int(kwargs.get("seed", self.seed))
        scen = self.scenario.with_overrides(overrides, source="ema experiment")
        model = WelfareModel(scen, seed=seed)
        model.run()
        y = yearly(model.table())
        row = y.loc[self.year] if self.year in y.index else y.iloc[-1]
        return {ema_name(m): float(row[m]) for m in self.outcomes}


def welfare_model(scenario: Scenario, uncertainties: Sequence[str] | None = None,
                  levers: Sequence[str] | None = DEFAULT_LEVERS,
                  outcomes: Sequence[str] = DEFAULT_OUTCOMES, year: int | None = None,
                  name: str = "welfare", seed: int | None = None):
    """An ``ema_workbench.Model`` of ``scenario``; ``year`` defaults to the run's end year."""
    from ema_workbench import Model, ScalarOutcome

    reg = registry()
    levers = list(levers or [])
    uncertainties = list(uncertainties) if uncertainties is not None else \
        default_uncertainties(levers)
    for n in [*uncertainties, *levers]:
        if n != "paradigm" and n not in reg:
            from sim.errors import InputError
            raise InputError(f"ema: unknown parameter {n!r}. Expected a registry name "
                             "(welfare-sim params) or 'paradigm'.")
    names = {ema_name(n): n for n in [*uncertainties, *levers]}
    end = int(scenario.params["run.end_year"])
    fn = WelfareFunction(scenario, names, outcomes, year or end,
                         scenario.seed if seed is None else seed)
    model = Model(name, function=fn)
    model.uncertainties = [ema_parameter(n) for n in uncertainties]
    model.levers = [ema_parameter(n) for n in levers]
    model.outcomes = [ScalarOutcome(ema_name(m)) for m in outcomes]
    return model
