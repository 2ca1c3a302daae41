"""compare --uncertainty: parameter draws, win shares, what decides the ranking, determinism
across executors, and clear errors for bad flags.

The known case uses a toy in place of the model (the executor's run function is replaced): a
parameter flips which scenario is cheaper at a known value, so the share of draws each one wins
and the decisive parameter and threshold are known in advance. Nothing here asserts how the
real paradigms rank."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.errors import InputError
from sim.experiments import robustness, uncertainty
from sim.experiments.compare import run_compare
from sim.experiments.store import Outcome, atomic_write_bytes, result_path
from sim.params import parse_registry, registry
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
CLASSROOM = ROOT / "scenarios" / "classroom.toml"

FLIP = "npm.tendered_share"  # range 0 – 0.9
THRESHOLD = 0.6  # b is cheaper below it: expected share of b's wins = 0.6 / 0.9
QUALITY_FLIP = "cocreation.thick_share"
QUALITY_THRESHOLD = 0.5
OTHERS = ("npm.contractor_cost_discount", "npm.transaction_cost_share")


def scenario_file(tmp_path: Path, name: str, paradigm: str, end: int = 2017) -> Path:
    p = tmp_path / f"{name}.toml"
    p.write_text(f'extends = "classroom.toml"\nname = "{name}"\nparadigm = "{paradigm}"\n'
                 f'[run]\nend_year = {end}\n')
    return p


def scenarios(tmp_path: Path, end: int = 2017):
    return [load_scenario(scenario_file(tmp_path, "a", "npm", end)),
            load_scenario(scenario_file(tmp_path, "b", "network_governance", end))]


def toy_run(spec, runs_dir: str) -> Outcome:
    """Cost of b is below a's when FLIP < THRESHOLD; quality of b above a's when QUALITY_FLIP >
    QUALITY_THRESHOLD. Seed noise is small and common to both scenarios."""
    x, q = spec.overrides[FLIP], spec.overrides[QUALITY_FLIP]
    noise = np.random.default_rng(spec.seed).normal(0, 0.5)
    b = spec.scenario.name == "b"
    rows = []
    for year in (2040, 2060):
        cost = 1000 + noise + (100 * (x - THRESHOLD) if b else 0.0)
        quality = 0.6 + noise / 1000 + (0.2 * (q - QUALITY_THRESHOLD) if b else 0.0)
        for metric, v in (("cost_per_inhabitant", cost), ("quality", quality),
                          ("coverage", 0.9 + (0.01 if b else 0.0)),
                          ("satisfaction", 0.5)):
            rows.append({"run_id": spec.run_id, "year": year, "metric": metric,
                         "value": float(v)})
    df = pd.DataFrame(rows)
    atomic_write_bytes(result_path(Path(runs_dir), spec.run_id),
                       lambda p: df.to_parquet(p, index=False))
    return Outcome(spec.run_id, True)


@pytest.fixture
def toy(monkeypatch):
    import sim.experiments.executor as ex

    monkeypatch.setattr(ex, "execute_run", toy_run)
    monkeypatch.setattr("sim.experiments.plots.demography_index", lambda s, p: None)


def test_known_flip_gives_expected_win_share_and_decisive_parameter(tmp_path, toy):
    scens = scenarios(tmp_path)
    n = 60
    draws, info = uncertainty.prepare(scens, n, [FLIP, QUALITY_FLIP, *OTHERS], None, 3, None)
    res = run_compare(scens, tmp_path / "out", replications=2, workers=1, draws=draws,
                      uncertainty=info)
    wins = pd.read_csv(tmp_path / "out" / "robustness.csv")
    row = wins[(wins.metric == "cost_per_inhabitant") & (wins.year == 2060)
               & (wins.scenario == "b")].iloc[0]
    lo, hi = registry()[FLIP].low, registry()[FLIP].high
    expected = (THRESHOLD - lo) / (hi - lo)
    assert row.draws == n
    # within its binomial (Wilson 90 %) interval, and close: a Latin hypercube stratifies
    assert row.win_low <= expected <= row.win_high
    assert abs(row.win_share - expected) <= 2 / n
    # regret of the loser is the cost gap: 0 when it wins, positive otherwise
    a = wins[(wins.metric == "cost_per_inhabitant") & (wins.year == 2060)
             & (wins.scenario == "a")].iloc[0]
    assert a.win_share + row.win_share == pytest.approx(1.0)
    assert a.regret_p90 > 0
    imp = pd.read_csv(tmp_path / "out" / "importance.csv")
    top_cost = imp[(imp.metric == "cost_per_inhabitant") & (imp.year == 2060)].iloc[0]
    assert top_cost.parameter == FLIP and top_cost.above_reference
    top_q = imp[(imp.metric == "quality") & (imp.year == 2060)].iloc[0]
    assert top_q.parameter == QUALITY_FLIP
    # PRIM: where the runner-up (a) is cheaper, i.e. FLIP above the threshold
    box = next(b for b in res["robustness"]["prim"]
               if b["metric"] == "cost_per_inhabitant" and b["year"] == 2060)
    assert box["runner_up"] == "a" and set(box["box"]) == {FLIP}
    assert abs(box["box"][FLIP][0] - THRESHOLD) <= 2 * (hi - lo) / n
    assert box["density"] >= 0.9 and box["coverage"] >= 0.9
    # the verdict is the first line of the report and of verdict.txt, and names the parameter
    first = (tmp_path / "out" / "report.md").read_text().splitlines()[0]
    assert first == (tmp_path / "out" / "verdict.txt").read_text().splitlines()[0]
    assert first.startswith("In 2060, b is cheapest in 67 % of plausible worlds (90 % CI")
    assert first.endswith(f"decided mainly by {FLIP}.")  # and by nothing else
    # seed noise is common to both scenarios here, so every difference is beyond it; the cost
    # difference changes sign across draws, so it is not clear
    pairs = pd.read_csv(tmp_path / "out" / "draw_differences.csv")
    c = pairs[(pairs.metric == "cost_per_inhabitant") & (pairs.year == 2060)].iloc[0]
    assert not c.clear and c.p10 < 0 < c.p90
    cov = pairs[(pairs.metric == "coverage") & (pairs.year == 2060)].iloc[0]
    assert cov.clear


def test_tidy_outputs_carry_draw_and_parameter_values(tmp_path, toy):
    scens = scenarios(tmp_path)
    draws, info = uncertainty.prepare(scens, 5, [FLIP, QUALITY_FLIP], None, 1, "sobol")
    run_compare(scens, tmp_path / "o", replications=2, workers=1, draws=draws,
                uncertainty=info)
    tidy = pd.read_parquet(tmp_path / "o" / "results.parquet")
    on_disk = pd.read_csv(tmp_path / "o" / "draws.csv")
    assert list(on_disk.columns) == ["draw", FLIP, QUALITY_FLIP]
    assert tidy.groupby(["scenario", "draw"]).replication.nunique().eq(2).all()
    # each run's parameter columns are its draw's values, exactly as in draws.csv
    merged = tidy.merge(on_disk, on="draw", suffixes=("", "_d"))
    assert (merged[FLIP] == merged[f"{FLIP}_d"]).all()
    # common random numbers: one seed per replication, whatever the draw and scenario
    assert tidy.groupby("replication").seed.nunique().eq(1).all()
    diffs = pd.read_csv(tmp_path / "o" / "differences.csv")
    assert "beyond_seed_noise" in diffs and "clear" not in diffs and "draw" in diffs


def test_draws_follow_registry_distributions():
    raw = tomllib.loads("""
[x.tri]
description = "d"
unit = "share"
default = 0.2
range = [0.0, 1.0]
distribution = "triangular"
source = "s"
[x.norm]
description = "d"
unit = "share"
default = 0.5
range = [0.0, 1.0]
distribution = "normal"
sd = 0.1
source = "s"
[x.logn]
description = "d"
unit = "NOK"
default = 100.0
range = [10.0, 1000.0]
distribution = "lognormal"
mean = 100.0
sd = 30.0
source = "s"
[x.logu]
description = "d"
unit = "NOK"
default = 10.0
range = [1.0, 100.0]
distribution = "loguniform"
source = "s"
""")
    reg = parse_registry(raw, "toy.toml")
    u = uncertainty.unit_sample(4000, 4, "latin_hypercube", 5)
    tri = uncertainty.to_values(reg["x.tri"], u[:, 0])
    # triangular(0, 0.2, 1): P(X <= 0.2) = 0.2, mean 0.4
    assert np.mean(tri <= 0.2) == pytest.approx(0.2, abs=0.01)
    assert tri.mean() == pytest.approx(0.4, abs=0.01)
    nor = uncertainty.to_values(reg["x.norm"], u[:, 1])
    assert nor.mean() == pytest.approx(0.5, abs=0.01) and nor.std() == pytest.approx(0.1,
                                                                                     abs=0.01)
    logn = uncertainty.to_values(reg["x.logn"], u[:, 2])
    assert logn.mean() == pytest.approx(100, rel=0.03) and logn.min() >= 10
    logu = uncertainty.to_values(reg["x.logu"], u[:, 3])
    assert np.median(logu) == pytest.approx(10, rel=0.05)  # geometric middle of 1 – 100
    # uniform by default over the registry range, and every draw inside it
    d = uncertainty.sample_draws(["npm.tendered_share"], 50, "latin_hypercube", 2)
    assert d["npm.tendered_share"].between(0, 0.9).all()
    counts = np.histogram(d["npm.tendered_share"], bins=5, range=(0, 0.9))[0]
    assert (counts == 10).all()  # a Latin hypercube puts n/5 draws in each fifth


@pytest.mark.parametrize("entry,key", [
    ('distribution = "gamma"', "distribution"),
    ('distribution = "triangular"\nmode = 2.0', "mode"),
    ('distribution = "normal"', "sd"),
    ('distribution = "normal"\nsd = -1.0', "sd"),
    ('distribution = "uniform"\nsd = 1.0', "sd"),
    ('mode = 0.3', "mode"),
    ('distribution = "loguniform"', "loguniform"),
    ('distrbution = "normal"', "distrbution"),
])
def test_bad_registry_distribution_names_parameter_and_key(entry, key):
    raw = tomllib.loads('[x.p]\ndescription = "d"\nunit = "u"\ndefault = 0.5\n'
                        f'range = [0.0, 1.0]\nsource = "s"\n{entry}\n')
    with pytest.raises(RuntimeError) as e:
        parse_registry(raw, "toy.toml")
    assert "toy.toml" in str(e.value) and "'x.p'" in str(e.value) and key in str(e.value)


def test_registry_distributions_are_valid():
    reg = registry()
    declared = [p for p in reg.values() if p.distribution]
    assert declared, "the registry declares at least one distribution"
    for p in declared:
        x = uncertainty.to_values(p, np.linspace(0.001, 0.999, 50))
        assert (x >= p.low).all() and (x <= p.high).all(), p.name


def test_default_uncertain_parameters_skip_what_scenarios_set(tmp_path):
    scens = scenarios(tmp_path)
    p = tmp_path / "c.toml"
    p.write_text('extends = "classroom.toml"\nname = "c"\n[npm]\ntransaction_cost_share = 0.1\n')
    names, skipped = uncertainty.uncertain_parameters(None, [*scens, load_scenario(p)])
    assert "npm.transaction_cost_share" in skipped
    assert "npm.transaction_cost_share" not in names
    assert "cocreation.thick_tailoring" in names
    # policy levers are choices: skipped by globs, drawn only when named
    assert "cocreation.thick_share" not in names and "npm.tendered_share" not in names
    named, _ = uncertainty.uncertain_parameters(["cocreation.thick_share"], scens)
    assert named == ["cocreation.thick_share"]
    reg = registry()
    assert all(reg[n].group in ("traditional", "npm", "network_governance", "cocreation")
               for n in names)
    assert all(reg[n].kind is not bool for n in names)


def _posterior(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "post.csv"
    p.write_text(text)
    return p


@pytest.mark.parametrize("kwargs,match", [
    (dict(n=0), "--uncertainty 0"),
    (dict(n=-3), "--uncertainty -3"),
    (dict(patterns=["npm.tendered_shar"]), "unknown parameter"),
    (dict(patterns=["nothing.*"]), "matches no numeric parameter"),
    (dict(patterns=["cocreation.targeting"]), "on/off switch"),
    (dict(patterns=["run.population_scale"]), "structural setting"),
    (dict(patterns=[","]), "no parameter given"),
    (dict(sampler="sobel"), "--sampler 'sobel'"),
    (dict(n=None, patterns=["npm.*"]), "--uncertain-params needs --uncertainty"),
    (dict(n=None, seed=3), "--uncertainty-seed needs --uncertainty"),
    (dict(seed=-1), "--uncertainty-seed -1"),
])
def test_bad_flags_give_clear_errors(tmp_path, kwargs, match):
    scens = scenarios(tmp_path)
    args = {"n": 4, "patterns": None, "posterior": None, "seed": None, "sampler": None,
            **kwargs}
    with pytest.raises(InputError, match=match.replace("*", r"\*")):
        uncertainty.prepare(scens, args["n"], args["patterns"], args["posterior"],
                            args["seed"], args["sampler"])


def test_parameter_set_by_a_scenario_cannot_be_drawn(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text('extends = "classroom.toml"\nname = "c"\n[npm]\ntendered_share = 0.5\n')
    with pytest.raises(InputError, match="scenario 'c' sets this parameter"):
        uncertainty.prepare([load_scenario(p)], 4, ["npm.tendered_share"], None, None, None)


@pytest.mark.parametrize("text,match", [
    ("npm.tendered_shar\n0.1\n", "column 'npm.tendered_shar': unknown parameter"),
    ("npm.tendered_share\n0.95\n", "row 1: got 0.95"),
    ("npm.tendered_share\nabc\n", "row 1"),
    ("cocreation.targeting\n1\n", "on/off switch"),
    ("npm.tendered_share,weight\n0.1,-1\n", "'weight'"),
    ("npm.tendered_share\n", "no rows"),
])
def test_bad_posterior_files_name_file_column_and_row(tmp_path, text, match):
    post = _posterior(tmp_path, text)
    with pytest.raises(InputError) as e:
        uncertainty.prepare(scenarios(tmp_path), None, None, post, None, None)
    assert str(post) in str(e.value) and match in str(e.value)


def test_posterior_draws(tmp_path):
    post = _posterior(tmp_path, "npm.tendered_share,cocreation.thick_share,_x,chain,model:q\n"
                      "0.1,0.2,0,1,a\n0.3,0.4,0,1,b\n0.5,0.6,1,2,c\n")
    scens = scenarios(tmp_path)
    every, info = uncertainty.prepare(scens, None, None, post, None, None)
    assert every["npm.tendered_share"].tolist() == [0.1, 0.3, 0.5]
    assert info["parameters"] == ["npm.tendered_share", "cocreation.thick_share"]
    some, _ = uncertainty.prepare(scens, 8, ["cocreation.thick_share"], post, 4, None)
    assert len(some) == 8 and list(some.columns) == ["draw", "posterior_row",
                                                     "cocreation.thick_share"]
    again, _ = uncertainty.prepare(scens, 8, ["cocreation.thick_share"], post, 4, None)
    pd.testing.assert_frame_equal(some, again)
    with pytest.raises(InputError, match="--sampler"):
        uncertainty.prepare(scens, 8, None, post, 4, "sobol")
    with pytest.raises(InputError, match="not globs"):
        uncertainty.prepare(scens, 8, ["npm.*"], post, 4, None)


def test_wilson_interval():
    lo, hi = robustness.wilson(0, 20)
    assert lo == 0 and 0.1 < hi < 0.15  # zero wins in 20 is still compatible with ~12 %
    lo, hi = robustness.wilson(10, 20)
    assert lo == pytest.approx(1 - hi) and hi - lo == pytest.approx(0.35, abs=0.02)
    assert all(math.isnan(v) for v in robustness.wilson(0, 0))


OUTPUTS = ("results.parquet", "draws.csv", "robustness.csv", "draw_differences.csv",
           "importance.csv", "differences.csv", "verdict.txt", "summary.csv")


def _outputs(out: Path) -> dict[str, bytes]:
    return {f: (out / f).read_bytes() for f in OUTPUTS}


@pytest.mark.slow  # about 30 s: the Dask cluster start-up
def test_identical_with_1_and_2_workers_and_dask(tmp_path):
    """Draws × scenarios × replications of the real model, byte-identical whatever runs them."""
    scens = scenarios(tmp_path, end=2017)
    draws, info = uncertainty.prepare(scens, 3, ["cocreation.thick_share", "npm.*"], None, 2,
                                      None)
    run_compare(scens, tmp_path / "w1", replications=2, workers=1, draws=draws,
                uncertainty=info)
    run_compare(scens, tmp_path / "w2", replications=2, workers=2, draws=draws,
                uncertainty=info)
    one = _outputs(tmp_path / "w1")
    assert one == _outputs(tmp_path / "w2")
    tidy = pd.read_parquet(tmp_path / "w1" / "results.parquet")
    assert tidy.run_id.nunique() == 3 * 2 * 2
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, processes=True, host="127.0.0.1",
                                  threads_per_worker=1, dashboard_address=None) as cluster:
        run_compare(scens, tmp_path / "dask", replications=2,
                    scheduler=cluster.scheduler_address, draws=draws, uncertainty=info)
    assert one == _outputs(tmp_path / "dask")


def test_compare_cli_prints_verdict_first(tmp_path, toy):
    from typer.testing import CliRunner

    from sim.cli.main import app

    a, b = scenario_file(tmp_path, "a", "npm"), scenario_file(tmp_path, "b",
                                                              "network_governance")
    r = CliRunner().invoke(app, ["compare", str(a), str(b), "-n", "2", "--workers", "1",
                                 "--uncertainty", "12", "--uncertain-params",
                                 f"{FLIP},{QUALITY_FLIP}", "--population-scale", "0.02",
                                 "--out", str(tmp_path / "o")])
    assert r.exit_code == 0, r.output
    lines = [x for x in r.stdout.splitlines() if x.strip()]
    assert lines[0].startswith("In 2060, ") and "plausible worlds" in lines[0]
    assert "best in share of draws" in r.stdout
    import json
    m = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert m["uncertainty"]["draws"] == 12
    assert "population_scale" in m["scenario_texts"][0]
    # bad flags stop before anything is written (main() prints InputError as one paragraph)
    bad = CliRunner().invoke(app, ["compare", str(a), str(b), "--uncertainty", "0",
                                   "--out", str(tmp_path / "p")])
    assert isinstance(bad.exception, InputError) and "--uncertainty 0" in str(bad.exception)
    assert not (tmp_path / "p").exists()
    bad = CliRunner().invoke(app, ["compare", str(a), "--population-scale", "2",
                                   "--out", str(tmp_path / "p")])
    assert isinstance(bad.exception, InputError)
    assert "run.population_scale" in str(bad.exception) and not (tmp_path / "p").exists()
