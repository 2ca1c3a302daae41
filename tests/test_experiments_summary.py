"""welfare-sim summarize: a tiny sweep (2 points × 2 replications, classroom, 2016-2018)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from sim.errors import InputError
from sim.experiments.design import load_experiment
from sim.experiments.summary import KEY_METRICS, summarize
from sim.experiments.sweep import run_sweep

ROOT = Path(__file__).resolve().parent.parent
CLASSROOM = ROOT / "scenarios" / "classroom.toml"
BODY = f"""name = "tiny"
description = "Two paradigms at classroom scale."
base = "{CLASSROOM}"
replications = 2
seed = 1
[fixed]
"run.end_year" = 2018
[parameters]
paradigm = ["npm", "network_governance"]
"""


@pytest.fixture(scope="module")
def summarized(tmp_path_factory) -> tuple[Path, Path, Path]:
    tmp = tmp_path_factory.mktemp("summary")
    exp = tmp / "tiny.toml"
    exp.write_text(BODY)
    sweep = tmp / "sweep"
    m = run_sweep(load_experiment(exp), sweep, workers=1)
    assert m["runs_done"] == 4
    dest = tmp / "results" / "tiny"
    return sweep, dest, summarize(sweep, dest)


def test_summary_csv_matches_results(summarized):
    sweep, dest, md = summarized
    assert md == dest / "SUMMARY.md"
    summ = pd.read_csv(dest / "summary.csv")
    assert list(summ.columns) == ["point", "label", "paradigm", "metric", "year", "median",
                                  "p10", "p90", "n"]
    res = pd.read_parquet(sweep / "results.parquet")
    # the key metrics, plus the co-creation matrix cells when the sweep kept them
    metrics = [m for m in set(res.metric) if m in KEY_METRICS or m.startswith("cell_")]
    assert {"cost_per_inhabitant", "quality", "coverage"} <= set(metrics)
    assert set(summ.metric) == set(metrics)
    # one row per point, key metric and kept year (2016-2018)
    assert len(summ) == 2 * len(metrics) * 3
    assert set(summ.year) == {2016, 2017, 2018}
    assert set(summ.paradigm) == {"npm", "network_governance"}
    assert (summ.n == 2).all()
    direct = (res[res.metric.isin(metrics)].groupby(["paradigm", "metric", "year"])["value"]
              .agg(["median", lambda v: v.quantile(0.1), lambda v: v.quantile(0.9)]))
    direct.columns = ["median", "p10", "p90"]
    got = summ.set_index(["paradigm", "metric", "year"])[["median", "p10", "p90"]]
    pd.testing.assert_frame_equal(got.sort_index(), direct.sort_index(), rtol=1e-5,
                                  check_names=False)
    assert (summ.p10 <= summ["median"]).all() and (summ["median"] <= summ.p90).all()


def test_figures_markdown_and_manifest(summarized):
    sweep, dest, md = summarized
    png = dest / "timeseries.png"
    assert png.is_file() and 0 < png.stat().st_size <= 200_000
    assert (dest / "tradeoff.png").is_file()
    text = md.read_text(encoding="utf-8")
    for point in ("npm", "network_governance"):
        assert point in text
    assert "Two paradigms at classroom scale." in text
    assert "4 of 4 done, 0 failed" in text
    assert "![" in text and "(timeseries.png)" in text
    assert "cheapest" in text and "overlap" in text
    assert json.loads((dest / "manifest.json").read_text()) == json.loads(
        (sweep / "manifest.json").read_text())
    assert sum(f.stat().st_size for f in dest.iterdir()) < 1_000_000


def test_cli_error_without_results(tmp_path):
    from typer.testing import CliRunner

    from sim.cli.main import app

    empty = tmp_path / "nosweep"
    (empty / "runs").mkdir(parents=True)
    r = CliRunner().invoke(app, ["summarize", str(empty), "--to", str(tmp_path / "o")])
    assert r.exit_code != 0
    assert isinstance(r.exception, InputError)
    msg = str(r.exception)
    assert str(empty) in msg and "manifest.json" in msg and "welfare-sim sweep" in msg
    assert not (tmp_path / "o").exists()
    with pytest.raises(InputError, match="welfare-sim sweep"):
        summarize(tmp_path / "missing", tmp_path / "o")
