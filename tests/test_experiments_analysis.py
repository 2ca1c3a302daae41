"""Sobol on the Ishigami function through the sweep's design and analysis code; Morris; PRIM."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.experiments.analysis import morris_indices, prim_target, run_prim, sobol_indices
from sim.experiments.design import Experiment, Factor, design_manifest, design_table
from sim.scenario import default_scenario

pytest.importorskip("SALib")


def ishigami(x1, x2, x3, a=7.0, b=0.1):
    return np.sin(x1) + a * np.sin(x2) ** 2 + b * x3 ** 4 * np.sin(x1)


def experiment(method: str, samples: int) -> Experiment:
    factors = [Factor(f"x{i}", low=-np.pi, high=np.pi) for i in (1, 2, 3)]
    return Experiment(path=__import__("pathlib").Path("ishigami.toml"), text="", name="ishigami",
                      description="", base=default_scenario(), factors=factors, method=method,
                      samples=samples, design_seed=3, levels=4, metrics=("y",))


def fake_results(exp: Experiment) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What assemble() would give: design rows joined with the run's metric values."""
    design = design_table(exp)
    v = ishigami(design["x1"].to_numpy(), design["x2"].to_numpy(), design["x3"].to_numpy())
    res = design.assign(year=2060, metric="y", value=v)
    return res, design


def test_sobol_ishigami_matches_analytic_values():
    exp = experiment("sobol", 2048)
    res, design = fake_results(exp)
    t = sobol_indices(res, design, design_manifest(exp), "y", 2060)
    assert list(t.index) == ["x1", "x2", "x3"]
    np.testing.assert_allclose(t["S1"], [0.314, 0.442, 0.0], atol=0.05)
    np.testing.assert_allclose(t["ST"], [0.558, 0.442, 0.244], atol=0.05)
    assert (t["S1_conf"] > 0).all() and (t["ST_conf"] < 0.1).all()


def test_morris_ranks_ishigami_inputs():
    exp = experiment("morris", 100)
    res, design = fake_results(exp)
    from sim.experiments.design import design_points

    _, raw = design_points(exp)
    sample = pd.DataFrame(raw, columns=["x1", "x2", "x3"])
    t = morris_indices(res, design, sample, design_manifest(exp), "y", 2060)
    assert t["mu_star"].idxmax() in ("x1", "x2") and t["mu_star"]["x3"] < t["mu_star"].max()
    assert (t["mu_star_conf"] >= 0).all()


def test_prim_finds_the_box(tmp_path):
    rng = np.random.default_rng(1)
    n = 400
    design = pd.DataFrame({"point": range(n), "replication": 0, "run_id": [f"r{i}" for i in
                                                                         range(n)],
                           "a": rng.random(n), "b": rng.random(n)})
    good = (design.a > 0.6).to_numpy()
    cost = np.where(good, 1.0, 2.0) + rng.random(n) * 0.1
    qual = np.where(good, 1.0, 0.0) + rng.random(n) * 0.1
    res = pd.concat([design.assign(year=2060, metric="cost_per_inhabitant", value=cost),
                     design.assign(year=2060, metric="quality", value=qual)])
    x, y, question = prim_target(res, design, ["a", "b"], 2060)
    assert "median" in question and y.sum() > 0
    out = run_prim(x, y, tmp_path)
    assert out["box"] is not None and float(out["box"]["a"][0]) > 0.4
    assert out["density"] > 0.8
