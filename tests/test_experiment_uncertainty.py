"""[uncertainty] in experiment files: parameter draws crossed with every design point under
common random numbers, draw columns in the results, summarize/analyze on such sweeps, resume,
determinism across workers, and one-paragraph errors for bad tables.

Most tests use a toy in place of the model (the executor's run function is replaced, as in
test_uncertainty.py): it reports the parameter values it was given, so what each run saw is
checked directly. The determinism test runs the real model at classroom scale for one year."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.errors import InputError
from sim.experiments.design import design_table, load_experiment
from sim.experiments.store import Outcome, atomic_write_bytes, result_path
from sim.experiments.sweep import run_sweep

ROOT = Path(__file__).resolve().parent.parent
CLASSROOM = ROOT / "scenarios" / "classroom.toml"
FLIP = "npm.tendered_share"  # a lever: drawn only when named
VARIED = "cocreation.thick_tailoring"  # varied by the design; the glob cocreation.* covers it
FIXED = "npm.transaction_cost_share"  # set by [fixed] to its default value

BODY = f"""
replications = 2
years = [2017]
metrics = ["cost_per_inhabitant", "quality", "coverage", "satisfaction"]
[fixed]
"run.end_year" = 2017
"{FIXED}" = 0.05
[parameters]
paradigm = ["npm", "network_governance"]
"{VARIED}" = [0.3, 0.7]
"""
UNCERTAINTY = f"""
[uncertainty]
draws = 5
parameters = ["{FLIP}", "cocreation.*", "npm.transaction_*"]
seed = 3
"""


def experiment(tmp_path: Path, uncertainty: str = UNCERTAINTY, body: str = BODY,
               name: str = "exp.toml") -> Path:
    p = tmp_path / name
    p.write_text(f'base = "{CLASSROOM}"\n' + body + uncertainty)
    return p


def toy_run(spec, runs_dir: str) -> Outcome:
    """NG is cheaper when FLIP < 0.45; coverage reports the VARIED value the run was given and
    satisfaction the FIXED one, so a draw overriding either would show."""
    o = spec.overrides
    ng = o["paradigm"] == "network_governance"
    noise = np.random.default_rng(spec.seed).normal(0, 0.5)
    cost = 1000 + noise + (100 * (o[FLIP] - 0.45) if ng else 0.0)
    scen = spec.scenario.with_overrides(o)
    values = {"cost_per_inhabitant": cost, "quality": 0.6 + (0.05 if ng else 0.0),
              "coverage": o[VARIED], "satisfaction": scen.params[FIXED]}
    df = pd.DataFrame([{"run_id": spec.run_id, "year": 2017, "metric": m, "value": float(v)}
                       for m, v in values.items()])
    atomic_write_bytes(result_path(Path(runs_dir), spec.run_id),
                       lambda p: df.to_parquet(p, index=False))
    return Outcome(spec.run_id, True)


@pytest.fixture
def toy(monkeypatch):
    import sim.experiments.executor as ex

    monkeypatch.setattr(ex, "execute_run", toy_run)


def test_draws_cross_every_point_with_common_random_numbers(tmp_path):
    exp = load_experiment(experiment(tmp_path))
    d = design_table(exp)
    assert len(d) == 4 * 5 * 2 and d.run_id.is_unique  # points × draws × replications
    drawn = exp.uncertainty["parameters"]
    assert FLIP in drawn and "cocreation.thin_tailoring" in drawn
    # what the design varies or [fixed] sets is never drawn, even when a glob covers it
    assert VARIED not in drawn and FIXED not in drawn
    assert {VARIED, FIXED} <= set(exp.uncertainty["held_by_scenarios"])
    assert {"point", "draw", "replication", "seed", "run_id", "paradigm", VARIED,
            *drawn} <= set(d.columns)
    # draw d has the same values at every point, replication r the same seed
    assert d.groupby(["draw", "replication"]).seed.nunique().eq(1).all()
    assert d.groupby("replication").seed.nunique().eq(1).all()
    for p in drawn:
        assert d.groupby("draw")[p].nunique().eq(1).all(), p
    assert d.groupby("draw")[FLIP].first().nunique() == 5
    assert (d.groupby("point")[VARIED].nunique() == 1).all()
    # the same file gives the same draws (and run ids); another draw seed other draws
    assert design_table(load_experiment(experiment(tmp_path))).equals(d)
    other = load_experiment(experiment(tmp_path, UNCERTAINTY.replace("seed = 3", "seed = 4")))
    assert not np.allclose(other.draws[FLIP], exp.draws[FLIP])


def test_sweep_results_carry_draws_and_manifest(tmp_path, toy):
    path = experiment(tmp_path)
    exp = load_experiment(path)
    m = run_sweep(exp, tmp_path / "out", workers=1)
    assert m["runs_done"] == 40 and m["draws"] == 5
    assert m["uncertainty"]["parameters"] == exp.uncertainty["parameters"]
    assert m["uncertainty"]["uncertainty_seed"] == 3
    res = pd.read_parquet(tmp_path / "out" / "results.parquet")
    draws = pd.read_csv(tmp_path / "out" / "draws.csv")
    assert {"draw", *exp.uncertainty["parameters"]} <= set(res.columns)
    merged = res.merge(draws, on="draw", suffixes=("", "_d"))
    assert (merged[FLIP] == merged[f"{FLIP}_d"]).all()
    # every run saw its design point's value and the [fixed] one, never a drawn one
    cov = res[res.metric == "coverage"]
    assert (cov["value"] == cov[VARIED]).all()
    assert (res[res.metric == "satisfaction"]["value"] == 0.05).all()
    # the workbook's wide table: one row per run and year, whatever the number of draw columns
    from sim.xlsx import wide

    w = wide(res)
    assert len(w) == 40 and {FLIP, "draw", "quality"} <= set(w.columns)
    marker = json.loads((tmp_path / "out" / ".welfare-sim.json").read_text())
    assert marker["identity"]["uncertainty"].startswith("5 draws of ")


def test_summarize_and_analyze_pool_draws_and_show_robustness(tmp_path, toy):
    from sim.experiments.analysis import analyze_sweep
    from sim.experiments.summary import summarize

    run_sweep(load_experiment(experiment(tmp_path)), tmp_path / "out", workers=1)
    md = summarize(tmp_path / "out", tmp_path / "summary").read_text()
    assert md.index("## Robustness across parameter draws") < md.index("## At a glance")
    assert "In 2017, network_governance is best on quality in 100 % of plausible worlds" in md
    assert "cheapest in" in md and "(90 % CI" in md
    assert "pool the 5 parameter draws and the replications" in md
    assert "× 5 parameter draws × 2 replication(s)" in md
    wins = pd.read_csv(tmp_path / "summary" / "robustness.csv")
    cost = wins[(wins.metric == "cost_per_inhabitant")].set_index("scenario")
    # worlds are draw × the VARIED values: 10, and the win shares add up
    assert (cost.draws == 10).all() and cost.win_share.sum() == pytest.approx(1.0)
    summ = pd.read_csv(tmp_path / "summary" / "summary.csv")
    assert (summ.n == 10).all()  # draws × replications per point
    # a committed summary (no marker in git) with robustness.csv is replaced on regeneration
    (tmp_path / "summary" / ".welfare-sim.json").unlink()
    assert summarize(tmp_path / "out", tmp_path / "summary").read_text() == md
    res = analyze_sweep(tmp_path / "out")
    assert any("5 parameter draws" in line for line in res["lines"])
    assert "prim" in res["summary"]


def test_resume_reuses_runs_and_refuses_a_changed_block(tmp_path, toy):
    path = experiment(tmp_path)
    out = tmp_path / "out"
    run_sweep(load_experiment(path), out, workers=1)
    before = (out / "results.parquet").read_bytes()
    again = run_sweep(load_experiment(path), out, workers=1, resume=True)
    assert again["executed_now"] == 0 and (out / "results.parquet").read_bytes() == before
    for change in ("draws = 5", "draws = 6"), ("seed = 3", "seed = 4"):
        path.write_text(path.read_text().replace(*change))
        with pytest.raises(InputError, match="different experiment.*uncertainty"):
            run_sweep(load_experiment(path), out, workers=1, resume=True)
        path.write_text(path.read_text().replace(change[1], change[0]))
    # dropping the block is a change too
    plain = experiment(tmp_path, "", name="plain.toml")
    plain.write_text('name = "exp"\n' + plain.read_text())
    with pytest.raises(InputError, match="different experiment"):
        run_sweep(load_experiment(plain), out, workers=1, resume=True)
    assert run_sweep(load_experiment(path), out, workers=1, resume=True)["executed_now"] == 0


def test_posterior_rows_are_the_draws(tmp_path, toy):
    (tmp_path / "post").mkdir()
    (tmp_path / "post" / "p.csv").write_text(f"{FLIP},chain\n0.1,1\n0.8,1\n0.4,2\n")
    path = experiment(tmp_path, '[uncertainty]\nposterior = "post/p.csv"\n')
    exp = load_experiment(path)
    assert exp.draws[FLIP].tolist() == [0.1, 0.8, 0.4]
    m = run_sweep(exp, tmp_path / "out", workers=1)
    assert m["runs_done"] == 4 * 3 * 2 and m["uncertainty"]["posterior"].endswith("p.csv")


def test_identical_with_1_and_2_workers(tmp_path):
    body = BODY.replace("replications = 2", "replications = 1").replace(
        '"cocreation.thick_tailoring" = [0.3, 0.7]', "")
    exp = load_experiment(experiment(tmp_path, UNCERTAINTY.replace("draws = 5", "draws = 2"),
                                     body))
    run_sweep(exp, tmp_path / "w1", workers=1)
    run_sweep(exp, tmp_path / "w2", workers=2)
    for f in ("results.parquet", "design.parquet", "draws.csv"):
        assert (tmp_path / "w1" / f).read_bytes() == (tmp_path / "w2" / f).read_bytes(), f
    res = pd.read_parquet(tmp_path / "w1" / "results.parquet")
    assert res.run_id.nunique() == 2 * 2 and set(res.draw) == {0, 1}


@pytest.mark.parametrize("table,key,expected", [
    ("draws = 0", "uncertainty.draws", "whole number between 1"),
    ('draws = "x"', "uncertainty.draws", "whole number between 1"),
    ("draws = 2.5", "uncertainty.draws", "whole number"),
    ("seed = 1", "uncertainty.draws", "draws = N"),
    ('draws = 3\nparameters = ["nothing.*"]', "uncertainty.parameters",
     "matches no numeric parameter"),
    ('draws = 3\nparameters = ["npm.tendered_shar"]', "uncertainty.parameters",
     "unknown parameter"),
    ('draws = 3\nparameters = "npm.*"', "uncertainty.parameters", "a list of registry names"),
    ('draws = 3\nparameters = []', "uncertainty.parameters", "a list of registry names"),
    (f'draws = 3\nparameters = ["{VARIED}"]', "uncertainty.parameters",
     "[parameters] vary it"),
    (f'draws = 3\nparameters = ["{FIXED}"]', "uncertainty.parameters", "[fixed] sets it"),
    ('draws = 3\nposterior = "missing.csv"', "uncertainty.posterior", "not found"),
    ('draws = 3\nsampler = "sobel"', "uncertainty.sampler", "latin_hypercube, sobol"),
    ("draws = 3\nseed = -1", "uncertainty.seed", "whole number"),
    ("draws = 3\nsamples = 4", "uncertainty.samples", "unknown key"),
])
def test_bad_uncertainty_tables_name_file_and_key(tmp_path, table, key, expected):
    path = experiment(tmp_path, f"[uncertainty]\n{table}\n")
    with pytest.raises(InputError) as e:
        load_experiment(path)
    msg = str(e.value)
    assert str(path) in msg and f"key '{key}'" in msg and expected in msg, msg
    assert "\n" not in msg.strip()


def test_bad_posterior_and_sampler_combination(tmp_path):
    (tmp_path / "p.csv").write_text(f"{VARIED}\n0.5\n")
    path = experiment(tmp_path, '[uncertainty]\nposterior = "p.csv"\n')
    with pytest.raises(InputError, match=r"uncertainty.posterior.*column.*\[parameters\] vary"):
        load_experiment(path)
    path = experiment(tmp_path, '[uncertainty]\nposterior = "p.csv"\nsampler = "sobol"\n')
    with pytest.raises(InputError, match="uncertainty.sampler"):
        load_experiment(path)
    path = experiment(tmp_path, "")  # a top-level key, not a table
    path.write_text(path.read_text().replace("replications = 2", "uncertainty = 3\n"
                                             "replications = 2"))
    with pytest.raises(InputError, match="key 'uncertainty': not a table"):
        load_experiment(path)


def test_cli_error_is_one_paragraph_without_traceback(tmp_path):
    import subprocess

    path = experiment(tmp_path, "[uncertainty]\ndraws = 0\n")
    r = subprocess.run([sys.executable, "-m", "sim.cli.main", "sweep", str(path), "--out",
                        str(tmp_path / "o")], capture_output=True, text=True, cwd=ROOT,
                       timeout=120)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr and "uncertainty.draws" in r.stderr
    assert not (tmp_path / "o").exists()


def test_dry_run_counts_draws(tmp_path):
    from sim.cli.experiments import dry_run_text

    exp = load_experiment(experiment(tmp_path))
    text = dry_run_text(exp, design_table(exp), tmp_path / "o")
    assert "5 parameter draw(s)" in " ".join(text.split()) and "= 40 runs" in text
