"""Outputs that describe themselves and land only where asked: Parquet schema metadata
(units, descriptions), identity columns, the Excel workbook read back by pandas, analyze's
labels, warnings and numeric PRIM limits, plain progress lines off a terminal, demography's
figure only with --figure, summarize's default folder, normal file modes, scenario names
found everywhere, validate listing every problem, sweep --dry-run."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from sim.metrics import METRICS

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str, cwd: Path | None = None, env: dict | None = None
        ) -> subprocess.CompletedProcess:
    e = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    e.update(env or {})
    return subprocess.run([sys.executable, "-m", "sim.cli.main", *args], capture_output=True,
                          text=True, cwd=cwd or ROOT, env=e, timeout=600)


@pytest.fixture(scope="module")
def short_scenario(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("scen")
    path = folder / "short.toml"
    path.write_text('extends = "classroom.toml"\nname = "short"\nparadigm = "npm"\n'
                    "[run]\nend_year = 2017\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def run_dir(short_scenario, tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """One short run through the CLI, piped, with --xlsx and progress every update."""
    out = tmp_path_factory.mktemp("run") / "r"
    r = cli("run", str(short_scenario), "--seed", "3", "--out", str(out), "--xlsx",
            env={"WELFARE_SIM_PROGRESS_SECONDS": "0"})
    assert r.returncode == 0, r.stderr
    return out, r


def test_ticks_parquet_has_units_descriptions_and_identity(run_dir):
    from sim.outputs import describe

    out, _ = run_dir
    schema = pq.read_schema(out / "ticks.parquet")
    for name, unit, text in METRICS:
        md = schema.field(name).metadata
        assert md[b"unit"].decode() == unit and md[b"description"].decode() == text
    assert schema.field("tick").metadata[b"unit"] == b"month"
    doc = describe(out / "ticks.parquet")
    assert doc["kind"] == "ticks" and doc["scenario"] == "short" and doc["seed"] == 3
    t = pd.read_parquet(out / "ticks.parquet")
    assert list(t.columns[:4]) == ["scenario", "paradigm", "seed", "run_id"]
    assert set(t.scenario) == {"short"} and set(t.paradigm) == {"npm"} and set(t.seed) == {3}
    assert t.run_id.nunique() == 1


def test_metric_descriptions_do_not_repeat_the_name():
    for name, _unit, text in METRICS:
        assert text.strip().lower() != name.replace("_", " ").lower(), name


def test_xlsx_round_trip_with_pandas(run_dir):
    out, _ = run_dir
    ticks = pd.read_parquet(out / "ticks.parquet")
    book = pd.read_excel(out / "ticks.xlsx", sheet_name=None)
    assert {"results", "columns", "parameters", "provenance"} <= set(book)
    res = book["results"]
    assert list(res.columns) == list(ticks.columns)
    for col in ("cost_per_inhabitant", "quality", "population"):
        assert pd.api.types.is_float_dtype(res[col]) or pd.api.types.is_integer_dtype(res[col])
        np.testing.assert_allclose(res[col].to_numpy(float), ticks[col].to_numpy(float),
                                   rtol=1e-12)
    cols = book["columns"].set_index("column")
    assert cols.loc["cost_per_inhabitant", "unit"] == "NOK/year"
    params = book["parameters"].set_index("parameter")
    assert params.loc["run.end_year", "short"] == 2017
    prov = book["provenance"].set_index("key")["value"]
    assert prov["scenario"] == "short" and str(prov["seed"]) == "3"


def test_xlsx_cells_are_numbers(run_dir):
    from openpyxl import load_workbook

    out, _ = run_dir
    ws = load_workbook(out / "ticks.xlsx", read_only=True)["results"]
    header = [c.value for c in next(ws.iter_rows(min_row=1, max_row=1))]
    row = [c.value for c in next(ws.iter_rows(min_row=2, max_row=2))]
    assert isinstance(row[header.index("quality")], float)
    assert isinstance(row[header.index("year")], int)


def test_progress_lines_when_not_a_terminal(run_dir):
    _, r = run_dir
    lines = [x for x in r.stderr.splitlines() if x.startswith("short: ")]
    assert len(lines) >= 2
    assert lines[-1].startswith("short: 24/24 months (100 %)")
    assert "elapsed" in lines[0]


@pytest.mark.parametrize("command", ["sweep", "compare"])
def test_sweep_and_compare_report_progress_when_not_a_terminal(command, short_scenario,
                                                               tmp_path):
    """Piped (a log, Jupyter), sweep and compare print plain progress lines, the first and the
    last at least (they were silent until the end)."""
    if command == "sweep":
        exp = tmp_path / "e.toml"
        exp.write_text(f'base = "{short_scenario}"\nreplications = 2\n[parameters]\n'
                       '"cocreation.thick_share" = [0.3]\n', encoding="utf-8")
        args = ["sweep", str(exp)]
    else:
        args = ["compare", str(short_scenario), "--replications", "2"]
    r = cli(*args, "--workers", "1", "--out", str(tmp_path / "out"),
            env={"WELFARE_SIM_PROGRESS_SECONDS": "0"})
    assert r.returncode == 0, r.stderr
    lines = [x for x in (r.stdout + r.stderr).splitlines() if x.startswith("runs: ")]
    assert lines and lines[0].startswith("runs: 0/2 runs (0 %)"), r.stderr
    assert lines[-1].startswith("runs: 2/2 runs (100 %)") and "elapsed" in lines[-1]


def test_summarize_a_compare_folder_next_to_it_by_default(short_scenario, tmp_path):
    """summarize takes a comparison folder too (it said the 'sweep' was interrupted) and by
    default writes DIR-summary next to the folder, not ./experiments/results/NAME."""
    work = tmp_path / "work"
    work.mkdir()
    r = cli("compare", str(short_scenario), "-n", "1", "--workers", "1", "--out", "cmp",
            cwd=work)
    assert r.returncode == 0, r.stderr
    assert (work / "cmp" / "results.parquet").is_file()  # one name for run tables
    before = sorted(p.name for p in (work / "cmp").iterdir())
    r = cli("summarize", "cmp", cwd=work)
    assert r.returncode == 0, r.stderr
    assert (work / "cmp-summary" / "SUMMARY.md").is_file()
    assert sorted(p.name for p in (work / "cmp").iterdir()) == before  # nothing inside
    assert sorted(p.name for p in work.iterdir()) == ["cmp", "cmp-summary"]


def test_plain_progress_rate_limited():
    import io

    from sim.cli.common import PlainProgress

    buf = io.StringIO()
    p = PlainProgress("runs", 10, "runs", stream=buf, interval=3600)
    for i in range(11):
        p(i, 10, "1 run in progress")
    lines = buf.getvalue().splitlines()
    assert lines[0].startswith("runs: 0/10 runs (0 %)")  # the first
    assert lines[-1].startswith("runs: 10/10 runs (100 %)")  # and the last, nothing between
    assert len(lines) == 2


def test_run_folder_and_file_modes(run_dir):
    out, _ = run_dir
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o777 & ~umask
    for f in out.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o666 & ~umask, f


def test_run_finds_a_bundled_scenario_by_name(tmp_path):
    r = cli("validate", "classroom.toml", "classroom", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("(bundled)") == 2


def test_validate_lists_every_problem_of_a_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('colour = "blue"\n[cocreation]\nthick_share = 1.5\nbanana = 2\n'
                   '[run]\nend_year = "soon"\n', encoding="utf-8")
    r = cli("validate", str(bad))
    assert r.returncode == 2
    for key in ("colour", "cocreation.thick_share", "cocreation.banana", "run.end_year"):
        assert f"key '{key}'" in r.stderr, (key, r.stderr)
    assert "4 problems" in r.stderr and "Traceback" not in r.stderr


def test_validate_knows_experiment_files(tmp_path):
    r = cli("validate", "experiments/sensitivity.toml")
    assert r.returncode == 0, r.stderr
    assert "experiment sensitivity" in r.stdout
    bad = tmp_path / "exp.toml"
    bad.write_text('base = "classroom.toml"\nreplications = 0\n[parameters]\n'
                   '"cocreation.thick_share" = [0.2, 7]\n"no.such" = [1]\n'
                   '[design]\nmethod = "magic"\n', encoding="utf-8")
    r = cli("validate", str(bad))
    assert r.returncode == 2
    for key in ("replications", "parameters.cocreation.thick_share[1]", "parameters.no.such",
                "design.method"):
        assert f"key '{key}'" in r.stderr, (key, r.stderr)


def test_sweep_on_a_scenario_file_says_so(tmp_path):
    r = cli("sweep", "scenarios/classroom.toml", "--out", str(tmp_path / "x"))
    assert r.returncode == 2
    assert "scenario file, not an experiment file" in r.stderr
    assert not (tmp_path / "x").exists()


def test_sweep_dry_run_prints_design_and_writes_nothing(tmp_path):
    exp = tmp_path / "e.toml"
    exp.write_text('base = "classroom.toml"\nreplications = 3\n[parameters]\n'
                   'paradigm = ["npm", "network_governance"]\n'
                   '"cocreation.thick_share" = [0.2, 0.4, 0.6]\n', encoding="utf-8")
    r = cli("sweep", str(exp), "--dry-run", "--out", str(tmp_path / "out"))
    assert r.returncode == 0, r.stderr
    assert "6 design point(s) x 3 replication(s) = 18 runs" in " ".join(r.stdout.split())
    assert all(len(line) <= 80 for line in r.stdout.splitlines()
               if str(tmp_path) not in line)  # a long path is printed whole
    assert "network_governance" in r.stdout and "0.6" in r.stdout
    assert not (tmp_path / "out").exists()


def test_sweep_dry_run_count_adds_up_when_morris_repeats_a_point(tmp_path):
    """Morris trajectories can share grid points; a repeated point (same parameters and seed)
    is one run. The dry run's arithmetic must still add up (it printed '9 design point(s) x 1
    replication(s) = 7 runs')."""
    pytest.importorskip("SALib")
    from sim.experiments.design import design_table, load_experiment

    exp = tmp_path / "m.toml"
    exp.write_text('base = "classroom.toml"\nreplications = 1\n[design]\nmethod = "morris"\n'
                   'samples = 3\nlevels = 4\nseed = 7\n[parameters]\n'
                   '"cocreation.thick_tailoring" = {low = 0.4, high = 0.95}\n'
                   '"npm.documentation_share" = {low = 0.05, high = 0.35}\n', encoding="utf-8")
    table = design_table(load_experiment(exp))
    points, runs = table["point"].nunique(), table["run_id"].nunique()
    assert runs < points  # this design repeats a point
    r = cli("sweep", str(exp), "--dry-run", "--out", str(tmp_path / "out"))
    assert r.returncode == 0, r.stderr
    text = " ".join(r.stdout.split())
    assert f"{points} design point(s) x 1 replication(s) = {runs} runs" in text, text
    assert f"{points - runs} of the {points} repeat an earlier point" in text, text


def test_demography_writes_a_figure_only_when_asked(tmp_path):
    r = cli("demography", "classroom", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert list(tmp_path.iterdir()) == []
    r = cli("demography", "classroom", "--figure", str(tmp_path / "f.png"), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "f.png").stat().st_size > 10_000


# ------------------------------------------------------------------ analyze on a fake sweep
def fake_sweep(folder: Path, method: str, samples: int, quality: float | None = None) -> Path:
    """A sweep folder as welfare-sim sweep writes it, with Ishigami-like outcomes."""
    from sim.experiments.design import (
        Experiment,
        Factor,
        design_manifest,
        design_points,
        design_table,
    )
    from sim.experiments.sweep import identify
    from sim.scenario import default_scenario

    factors = [Factor(f"x{i}", low=-np.pi, high=np.pi) for i in (1, 2, 3)]
    exp = Experiment(path=Path("fake.toml"), text="", name="fake", description="",
                     base=default_scenario(), factors=factors, method=method,
                     samples=samples, design_seed=3, levels=4,
                     metrics=("cost_per_inhabitant", "quality"))
    design = design_table(exp)
    x1, x2, x3 = (design[f"x{i}"].to_numpy() for i in (1, 2, 3))
    y = np.sin(x1) + 7 * np.sin(x2) ** 2 + 0.1 * x3 ** 4 * np.sin(x1)
    res = pd.concat([design.assign(year=2060, metric="cost_per_inhabitant", value=y),
                     design.assign(year=2060, metric="quality",
                                   value=-x1 + 0.2 * x3 if quality is None else quality)])
    folder.mkdir(parents=True)
    identify(res, exp).to_parquet(folder / "results.parquet", index=False)
    design.to_parquet(folder / "design.parquet", index=False)
    _, raw = design_points(exp)
    if raw is not None:
        pd.DataFrame(raw, columns=["x1", "x2", "x3"]).to_parquet(folder / "sample.parquet")
    manifest = {"kind": "sweep", "experiment": "fake", **design_manifest(exp),
                "runs": len(design), "runs_done": len(design)}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def unwrap(text: str) -> str:
    """Console text with wrapped lines joined again (continuations are indented)."""
    lines: list[str] = []
    for x in text.splitlines():
        if x.startswith(" ") and lines:
            lines[-1] += " " + x.strip()
        else:
            lines.append(x)
    return "\n".join(lines)


@pytest.mark.parametrize("method,samples,labels", [
    ("sobol", 4, ("ST ", "S1 ")), ("morris", 4, ("μ* ", "σ "))])
def test_analyze_labels_every_index_and_warns_on_small_samples(tmp_path, method, samples,
                                                               labels):
    pytest.importorskip("SALib")
    folder = fake_sweep(tmp_path / "s", method, samples)
    r = cli("analyze", str(folder))
    assert r.returncode == 0, r.stderr
    assert all(len(x) <= 80 for x in r.stdout.splitlines()), r.stdout  # wrapped, piped
    out = unwrap(r.stdout)
    line = next(x for x in out.splitlines() if x.startswith("cost_per_inhabitant:"))
    for label in labels:
        assert line.count(label) == 3, line  # each of the top three names both indices
    assert "warning:" in out and "too small" in out
    assert ("N = 256" if method == "sobol" else "r = 10") in out
    prim = json.loads((folder / "analysis" / "summary.json").read_text())["prim"]
    if prim.get("box"):
        for lims in prim["box"].values():
            assert all(isinstance(v, (int, float)) for v in lims), lims


@pytest.mark.parametrize("method", ["sobol", "morris"])
def test_analyze_a_metric_the_design_does_not_change(tmp_path, method):
    """A metric with the same value at every design point has no variance to decompose: no
    'most influential' parameter, no numpy warning from SALib, Sobol indices stored as NaN."""
    pytest.importorskip("SALib")
    folder = fake_sweep(tmp_path / "s", method, 4, quality=0.5)
    r = cli("analyze", str(folder))
    assert r.returncode == 0, r.stderr
    assert "Warning" not in r.stderr, r.stderr  # SALib's RuntimeWarning: invalid value ...
    out = unwrap(r.stdout)
    line = next(x for x in out.splitlines() if x.startswith("quality:"))
    assert "most influential" not in line and "the same (0.500) at every design point" in line
    t = pd.read_csv(folder / "analysis" / f"{method}.csv")
    q = t[t.metric == "quality"]
    if method == "sobol":
        assert q[["S1", "ST"]].isna().all().all()
    else:
        assert (q["mu_star"] == 0).all()
    assert not (folder / "analysis" / f"{method}_quality.png").exists()


def test_analyze_no_warning_with_enough_samples(tmp_path):
    pytest.importorskip("SALib")
    folder = fake_sweep(tmp_path / "s", "morris", 20)
    r = cli("analyze", str(folder))
    assert r.returncode == 0, r.stderr
    assert "warning:" not in r.stdout
    # morris: the ± after μ* is μ*'s own interval (from morris.csv), not σ
    t = pd.read_csv(folder / "analysis" / "morris.csv")
    top = t[t.metric == "cost_per_inhabitant"].sort_values("mu_star").iloc[-1]
    from sim.tables import number

    assert (f"μ* {number(top.mu_star)} ± {number(top.mu_star_conf)}, σ {number(top.sigma)}"
            in unwrap(r.stdout))


def test_prim_limits_are_numbers(tmp_path):
    pytest.importorskip("ema_workbench")
    from sim.experiments.analysis import run_prim

    rng = np.random.default_rng(1)
    x = pd.DataFrame({"a": rng.uniform(0, 1, 300), "b": rng.uniform(0, 1, 300)})
    y = ((x.a > 0.6) & (x.b < 0.5)).to_numpy()
    res = run_prim(x, y, tmp_path)
    assert res["box"] is not None
    for lims in res["box"].values():
        assert all(isinstance(v, float) for v in lims)
    assert res["box"]["a"][0] == pytest.approx(0.6, abs=0.1)


def test_analyze_on_a_compare_folder_explains(tmp_path):
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "manifest.json").write_text('{"kind": "compare"}')
    r = cli("analyze", str(tmp_path / "c"))
    assert r.returncode == 2 and "compare" in r.stderr and "Traceback" not in r.stderr


def test_workbook_of_a_long_table_is_wide_in_metric_order(tmp_path):
    from sim.metrics import METRIC_NAMES
    from sim.scenario import default_scenario
    from sim.xlsx import write_workbook

    tidy = pd.DataFrame({"scenario": "s", "replication": [0, 0, 0, 0], "seed": 7,
                         "run_id": "r", "year": [2016, 2016, 2017, 2017],
                         "metric": ["population", "births", "population", "births"],
                         "value": [0.5, 120.0, 0.25, 130.0]})
    path = write_workbook(tmp_path / "w.xlsx", tidy, {"kind": "test"}, [default_scenario()],
                          ["s"])
    res = pd.read_excel(path, sheet_name="results")
    metrics = [c for c in res.columns if c in METRIC_NAMES and c != "year"]
    assert metrics == ["population", "births"]  # docs/metrics.md order, not alphabetical
    assert res["population"].tolist() == [0.5, 0.25] and res["births"].tolist() == [120, 130]
    assert pd.read_excel(path, sheet_name="provenance").set_index("key").loc["kind", "value"] \
        == "test"
