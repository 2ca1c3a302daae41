"""compare end to end, experiment-file validation and failing runs (fast, classroom scale)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from sim.errors import InputError
from sim.experiments.compare import run_compare
from sim.experiments.design import design_table, load_experiment
from sim.experiments.sweep import run_sweep
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
CLASSROOM = ROOT / "scenarios" / "classroom.toml"


def short(tmp_path: Path, name: str, paradigm: str, end: int = 2018) -> Path:
    p = tmp_path / f"{name}.toml"
    p.write_text(f'extends = "{CLASSROOM}"\n'.replace(str(CLASSROOM), "classroom.toml")
                 + f'name = "{name}"\nparadigm = "{paradigm}"\n[run]\nend_year = {end}\n')
    return p


def experiment(tmp_path: Path, body: str, name: str = "exp.toml") -> Path:
    p = tmp_path / name
    p.write_text(f'base = "{CLASSROOM}"\n' + body)
    return p


SMALL = """
replications = 2
years = [2017, 2018]
metrics = ["cost_per_inhabitant", "quality", "coverage"]
[fixed]
"run.end_year" = 2018
[parameters]
paradigm = ["npm", "network_governance"]
"cocreation.thick_share" = [0.2, 0.6]
"""


def test_compare_writes_every_artefact(tmp_path):
    scens = [load_scenario(short(tmp_path, n, p)) for n, p in
             (("trad", "traditional"), ("npm", "npm"), ("ng", "network_governance"))]
    out = tmp_path / "cmp"
    res = run_compare(scens, out, replications=2, workers=1)
    for f in ("results.parquet", "summary.csv", "differences.csv", "report.md", "manifest.json",
              "figures/timeseries.png", "figures/tradeoff.png",
              "figures/cocreation_matrix.png", "figures/demography_index.png"):
        assert (out / f).is_file() and (out / f).stat().st_size > 0, f
    tidy = pd.read_parquet(out / "results.parquet")
    assert set(tidy.scenario) == {"trad", "npm", "ng"}
    assert tidy.groupby("scenario").run_id.nunique().eq(2).all()
    # common random numbers: replication r has the same seed in every scenario
    assert tidy.groupby("replication").seed.nunique().eq(1).all()
    report = (out / "report.md").read_text()
    for n in ("trad", "npm", "ng"):
        assert n in report
    assert "cheapest" in report and "best quality" in report and "![" in report
    diffs = pd.read_csv(out / "differences.csv")
    assert set(diffs.scenario) == {"npm", "ng"} and "beyond_seed_noise" in diffs
    assert "clear" not in diffs
    # each row names its paradigm beside the scenario (self-describing tables)
    assert dict(zip(diffs.scenario, diffs.paradigm, strict=True)) == {"npm": "npm", "ng": "network_governance"}
    assert set(diffs.versus_paradigm) == {"traditional"}
    summ = pd.read_csv(out / "summary.csv")
    assert dict(zip(summ.scenario, summ.paradigm, strict=True)) == {
        "trad": "traditional", "npm": "npm", "ng": "network_governance"}
    m = json.loads((out / "manifest.json").read_text())
    assert m["runs"] == 6 and m["runs_failed"] == 0
    assert res["names"] == ["trad", "npm", "ng"]
    with pytest.raises(InputError, match="--overwrite"):
        run_compare(scens, out, replications=2, workers=1)


def test_compare_cli(tmp_path):
    from typer.testing import CliRunner

    from sim.cli.main import app

    a, b = short(tmp_path, "a", "npm", 2017), short(tmp_path, "b", "network_governance", 2017)
    r = CliRunner().invoke(app, ["compare", str(a), str(b), "-n", "1", "--workers", "1",
                                 "--out", str(tmp_path / "o")])
    assert r.exit_code == 0, r.output
    assert "cost per inhabitant" in r.output and "quality" in r.output
    assert (tmp_path / "o" / "report.md").is_file()


@pytest.mark.parametrize("body,key", [
    ('[parameters]\n"cocreation.thick_shar" = [0.1]\n', "parameters.cocreation.thick_shar"),
    ('[parameters]\n"cocreation.thick_share" = [2.0]\n', "parameters.cocreation.thick_share"),
    ('[design]\nmethod = "sobl"\n', "design.method"),
    ('[design]\nmethod = "sobol"\nsamples = 4\n[parameters]\nparadigm = ["npm"]\n',
     "parameters.paradigm"),
    ('metrics = ["cost"]\n', "metrics[0]"),
    ('replications = 0\n', "replications"),
    ('colour = 1\n', "colour"),
    ('years = [1990]\n', "years[0]"),
])
def test_experiment_validation_names_file_and_key(tmp_path, body, key):
    p = experiment(tmp_path, body)
    with pytest.raises(InputError) as e:
        load_experiment(p)
    assert str(p) in str(e.value) and f"key '{key}" in str(e.value)


def test_bundled_experiment_files_are_valid():
    for p in sorted((ROOT / "experiments").glob("*.toml")):
        exp = load_experiment(p)
        d = design_table(exp)
        assert len(d) > 0 and d.run_id.is_unique, p
    sens = load_experiment(ROOT / "experiments" / "sensitivity.toml")
    assert sens.method == "sobol" and len(sens.factors) == 10


def test_failing_run_is_recorded_and_sweep_continues(tmp_path, monkeypatch):
    from sim.model import WelfareModel

    original = WelfareModel.run

    def run(self, progress=None):
        if self.scenario.params["cocreation.thick_share"] == 0.6:
            raise RuntimeError("boom in the model")
        return original(self, progress)

    monkeypatch.setattr(WelfareModel, "run", run)
    exp = load_experiment(experiment(tmp_path, SMALL))
    out = tmp_path / "sweep"
    m = run_sweep(exp, out, workers=1)
    assert m["runs"] == 8 and m["runs_failed"] == 4 and m["runs_done"] == 4
    assert all("boom in the model" in e for e in m["errors"].values())
    errs = list((out / "runs").glob("*.error.json"))
    assert len(errs) == 4 and "traceback" in json.loads(errs[0].read_text())
    res = pd.read_parquet(out / "results.parquet")
    assert res.run_id.nunique() == 4
    assert set(res["cocreation.thick_share"]) == {0.2}
    # a resume after fixing the problem runs only the failed runs
    monkeypatch.setattr(WelfareModel, "run", original)
    m2 = run_sweep(exp, out, workers=1, resume=True)
    assert m2["executed_now"] == 4 and m2["runs_failed"] == 0
    assert not list((out / "runs").glob("*.error.json"))


def test_sweep_output_is_tidy_and_readable(tmp_path):
    exp = load_experiment(experiment(tmp_path, SMALL))
    out = tmp_path / "sweep"
    m = run_sweep(exp, out, workers=1)
    res = pd.read_parquet(out / "results.parquet")
    for c in ("run_id", "paradigm", "cocreation.thick_share", "replication", "seed", "year",
              "metric", "value"):
        assert c in res.columns
    assert sorted(res.year.unique()) == [2017, 2018]
    assert len(res) == 8 * 2 * 3
    assert m["runs_done"] == 8 and "experiment_text" in m and m["started"] <= m["ended"]
    try:
        import polars as pl
    except ImportError:
        return
    assert pl.read_parquet(out / "results.parquet").height == len(res)


def test_sobol_sweep_and_analyze_cli(tmp_path):
    from typer.testing import CliRunner

    from sim.cli.main import app

    p = experiment(tmp_path, """
years = [2017]
metrics = ["cost_per_inhabitant", "quality"]
[fixed]
"run.end_year" = 2017
paradigm = "network_governance"
[design]
method = "sobol"
samples = 4
[parameters]
"cocreation.participation_propensity" = {low = 0.2, high = 0.8}
"health.unmet_need_damage" = {low = 0.0, high = 0.1}
""")
    out = tmp_path / "s"
    r = CliRunner().invoke(app, ["sweep", str(p), "--out", str(out), "--workers", "1"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(app, ["analyze", str(out)])
    assert r.exit_code == 0, r.output
    table = pd.read_csv(out / "analysis" / "sobol.csv")
    assert set(table.parameter) == {"cocreation.participation_propensity",
                                    "health.unmet_need_damage"}
    assert {"S1", "S1_conf", "ST", "ST_conf"} <= set(table.columns)
    assert (out / "analysis" / "sobol_quality.png").is_file()
    assert (out / "analysis" / "summary.json").is_file()
