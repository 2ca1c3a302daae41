"""Executors give identical results; a killed sweep resumes without losing or duplicating runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sim.experiments.design import load_experiment
from sim.experiments.sweep import run_sweep

ROOT = Path(__file__).resolve().parent.parent
CLASSROOM = ROOT / "scenarios" / "classroom.toml"
EXP = f"""
base = "{CLASSROOM}"
replications = 2
years = [2017, 2018]
metrics = ["cost_per_inhabitant", "quality", "coverage", "need_hours"]
[fixed]
"run.end_year" = 2018
[parameters]
paradigm = ["npm", "network_governance"]
"cocreation.thick_share" = [0.2, 0.6]
"""


@pytest.fixture
def exp_file(tmp_path: Path) -> Path:
    p = tmp_path / "small.toml"
    p.write_text(EXP)
    return p


def results_bytes(out: Path) -> bytes:
    return (out / "results.parquet").read_bytes()


def run_files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((out / "runs").glob("*.parquet"))}


def test_identical_with_1_and_2_workers(exp_file, tmp_path):
    exp = load_experiment(exp_file)
    one = run_sweep(exp, tmp_path / "w1", workers=1)
    two = run_sweep(exp, tmp_path / "w2", workers=2)
    assert one["runs_done"] == two["runs_done"] == 8
    assert results_bytes(tmp_path / "w1") == results_bytes(tmp_path / "w2")
    assert run_files(tmp_path / "w1") == run_files(tmp_path / "w2")


@pytest.mark.slow  # about 14 s: the Dask cluster start-up
def test_identical_with_dask_local_cluster(exp_file, tmp_path):
    exp = load_experiment(exp_file)
    run_sweep(exp, tmp_path / "w1", workers=1)
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, processes=True, host="127.0.0.1",
                                  threads_per_worker=1, dashboard_address=None) as cluster:
        dk = run_sweep(exp, tmp_path / "dask", scheduler=cluster.scheduler_address)
    assert dk["runs_done"] == 8
    assert results_bytes(tmp_path / "w1") == results_bytes(tmp_path / "dask")


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-c", "from sim.cli.main import main; main()", *args]


@pytest.mark.parametrize("workers", ["1", pytest.param("2", marks=pytest.mark.slow)])
def test_resume_after_sigkill(exp_file, tmp_path, workers):
    full = tmp_path / "full"
    run_sweep(load_experiment(exp_file), full, workers=1)
    out = tmp_path / "killed"
    proc = subprocess.Popen(_cli("sweep", str(exp_file), "--out", str(out), "--workers",
                                 workers), cwd=ROOT, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if len(list((out / "runs").glob("*.parquet"))) >= 2 if (out / "runs").exists() \
                else False:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its worker processes
    proc.wait()
    partial = list((out / "runs").glob("*.parquet"))
    assert 2 <= len(partial) < 8, "kill came too late to test resume"
    assert not (out / "results.parquet").exists()
    done = subprocess.run(_cli("sweep", str(exp_file), "--out", str(out), "--workers", workers,
                               "--resume"), cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert results_bytes(out) == results_bytes(full)
    assert run_files(out) == run_files(full)
    assert not list((out / "runs").glob(".*.tmp"))
    res = pd.read_parquet(out / "results.parquet")
    assert res.run_id.nunique() == 8 and not res.duplicated(["run_id", "year", "metric"]).any()


def test_existing_output_needs_resume_or_overwrite(exp_file, tmp_path):
    # a folder of the user's files (here: the experiment file) is never written into
    r = subprocess.run(_cli("sweep", str(exp_file), "--out", str(tmp_path), "--workers", "1"),
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "left alone" in r.stderr
    # an earlier sweep folder needs --resume or --overwrite
    out = tmp_path / "sweep"
    (out / "runs").mkdir(parents=True)
    (out / ".welfare-sim.json").write_text('{"tool": "welfare-sim", "kind": "sweep"}')
    r = subprocess.run(_cli("sweep", str(exp_file), "--out", str(out), "--workers", "1"),
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "--resume" in r.stderr


@pytest.mark.slow
def test_dask_worker_killed_mid_sweep(exp_file, tmp_path):
    """SIGKILL a Dask worker while runs are in progress: the sweep still completes, with
    results identical to an uninterrupted run."""
    import threading

    distributed = pytest.importorskip("distributed")
    longer = tmp_path / "longer.toml"  # longer runs, so that the kill lands mid-sweep
    longer.write_text(EXP.replace('"run.end_year" = 2018', '"run.end_year" = 2022')
                      .replace("years = [2017, 2018]", "years = [2020, 2022]"))
    exp = load_experiment(longer)
    run_sweep(exp, tmp_path / "full", workers=1)
    out = tmp_path / "dask"
    with distributed.LocalCluster(n_workers=2, processes=True, host="127.0.0.1",
                                  threads_per_worker=1, dashboard_address=None) as cluster:
        result: dict = {}
        t = threading.Thread(target=lambda: result.update(
            run_sweep(exp, out, scheduler=cluster.scheduler_address)))
        t.start()
        with distributed.Client(cluster.scheduler_address) as client:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and not (
                    (out / "runs").exists() and list((out / "runs").glob("*.parquet"))):
                time.sleep(0.05)
            pids = client.run(os.getpid)
            os.kill(next(iter(pids.values())), signal.SIGKILL)
            at_kill = len(list((out / "runs").glob("*.parquet")))
        t.join(300)
    assert at_kill < 8, "kill came too late"
    assert result["runs_done"] == 8 and result["runs_failed"] == 0
    assert results_bytes(out) == results_bytes(tmp_path / "full")
