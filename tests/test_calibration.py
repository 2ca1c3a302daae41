"""``welfare-sim calibrate``: recovery of known parameters from targets the model made itself,
a perturbed target moving the fit, byte-identical results after SIGKILL + --resume and with
1 or 2 workers, and a clear error for each kind of bad config file.

The calibration is calibration/quick.toml (Indre Østfold at 1:2, 2016 only) with targets
written by the model at known values; runs take well under a second each.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("optuna")

from sim.calibration import calibrate, load_config  # noqa: E402
from sim.calibration.config import run_scenario_for  # noqa: E402
from sim.calibration.evaluate import target_values  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
QUICK = ROOT / "calibration" / "quick.toml"
TRUE = {"needs.practical_help.hours_per_month": 11.0, "professionals.hours_per_fte_month": 145.0}
# Recovery tolerance: each fitted value within this share of its search range of the truth.
RECOVERY_TOL = 0.15
OUTPUTS = ("calibrated.toml", "fit.csv", "fit.md", "fit.png", "trials.csv", "manifest.json")
TARGETS = [("practical_help_need_2016", "need_hours_practical_help", "hours/month", False),
           ("fte_per_1000_2016", "fte_per_1000", "FTE/1,000", False),
           ("cost_per_inhabitant_2016", "cost_per_inhabitant", "NOK/year", True)]


def _targets_text(values: list[float], scale: dict[str, float] | None = None) -> str:
    out = []
    for (name, metric, unit, holdout), v in zip(TARGETS, values, strict=True):
        v *= (scale or {}).get(name, 1.0)
        out.append(f'[[target]]\nname = "{name}"\nmetric = "{metric}"\nyear = 2016\n'
                   f'value = {v!r}\nunit = "{unit}"\nsource = "synthetic: the model at known '
                   f'values"\nholdout = {str(holdout).lower()}\ntolerance_rel = 0.05\n\n')
    return "".join(out)


def _config_text(targets: str = "targets.toml", **changes: str) -> str:
    text = QUICK.read_text(encoding="utf-8")
    text = text.replace('scenario = "../scenarios/', f'scenario = "{ROOT}/scenarios/')
    text = text.replace('targets = "targets_quick.toml"', f'targets = "{targets}"')
    for old, new in changes.items():
        assert old in text
        text = text.replace(old, new)
    return text


@pytest.fixture(scope="module")
def truth() -> list[float]:
    """Target values made by the model at TRUE, averaged over seeds the calibration never
    uses (so the fit cannot be exact by sharing random draws)."""
    cfg = load_config(QUICK)
    runs = [target_values(cfg, TRUE, seed) for seed in (901, 902, 903)]
    return [sum(r[i] for r in runs) / len(runs) for i in range(len(TARGETS))]


@pytest.fixture(scope="module")
def quick(tmp_path_factory, truth) -> Path:
    """A copy of calibration/quick.toml whose targets were made by the model at TRUE."""
    d = tmp_path_factory.mktemp("quick")
    (d / "targets.toml").write_text(_targets_text(truth), encoding="utf-8")
    (d / "quick.toml").write_text(_config_text(), encoding="utf-8")
    return d / "quick.toml"


@pytest.fixture(scope="module")
def reference(quick, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ref") / "cal"
    calibrate(load_config(quick), out, workers=1, log=lambda s: None)
    return out


def _fitted(out: Path) -> dict[str, float]:
    import json

    return json.loads((out / "manifest.json").read_text())["fitted"]


def _bytes(out: Path) -> dict[str, bytes]:
    return {name: (out / name).read_bytes() for name in OUTPUTS}


def test_recovers_known_parameters(reference, quick):
    cfg = load_config(quick)
    fitted = _fitted(reference)
    for p in cfg.parameters:
        err = abs(fitted[p.name] - TRUE[p.name]) / (p.high - p.low)
        assert err <= RECOVERY_TOL, (p.name, fitted[p.name], TRUE[p.name])
    import csv

    rows = list(csv.DictReader((reference / "fit.csv").open()))
    assert [r["role"] for r in rows] == ["fitted", "fitted", "holdout"]
    for r in rows:  # fitted and held-out targets come back close to what the model made
        assert abs(float(r["rel_error"])) < 0.08, r


def test_outputs_are_complete_and_the_overlay_loads(reference, quick):
    from sim.scenario import load_scenario

    for name in (*OUTPUTS, "calibration.db", "calibration.json"):
        assert (reference / name).is_file(), name
    assert not (reference.parent / (reference.name + ".partial")).exists()
    sc = load_scenario(reference / "calibrated.toml")
    fitted = _fitted(reference)
    assert {k: sc.value(k) for k in fitted} == fitted
    text = (reference / "calibrated.toml").read_text()
    assert 'extends = "indre_ostfold_traditional.toml"' in text
    assert "practical_help_need_2016" in text and "synthetic" in text  # targets named
    md = (reference / "fit.md").read_text()
    assert "| `fte_per_1000_2016`" in md and "holdout" in md
    trials = (reference / "trials.csv").read_text().splitlines()
    assert len(trials) == 1 + load_config(quick).trials
    assert (reference / "fit.png").read_bytes()[:4] == b"\x89PNG"


def test_perturbed_target_moves_the_fit(reference, quick, truth, tmp_path):
    """More care FTE per 1,000 for the same demand means fewer hours per FTE."""
    (tmp_path / "targets.toml").write_text(
        _targets_text(truth, {"fte_per_1000_2016": 1.15}), encoding="utf-8")
    (tmp_path / "quick.toml").write_text(_config_text(), encoding="utf-8")
    out = calibrate(load_config(tmp_path / "quick.toml"), tmp_path / "out", workers=1,
                    log=lambda s: None)
    base = _fitted(reference)["professionals.hours_per_fte_month"]
    moved = _fitted(out)["professionals.hours_per_fte_month"]
    assert moved < base - 8, (base, moved)  # 145 / 1.15 ≈ 126


def test_holdout_target_does_not_move_the_fit(reference, quick, truth, tmp_path):
    """Holdouts are out-of-sample checks: doubling one changes its reported error only."""
    (tmp_path / "targets.toml").write_text(
        _targets_text(truth, {"cost_per_inhabitant_2016": 2.0}), encoding="utf-8")
    (tmp_path / "quick.toml").write_text(_config_text(), encoding="utf-8")
    out = calibrate(load_config(tmp_path / "quick.toml"), tmp_path / "out", workers=1,
                    log=lambda s: None)
    assert _fitted(out) == _fitted(reference)
    import csv

    rows = {r["target"]: r for r in csv.DictReader((out / "fit.csv").open())}
    ref = {r["target"]: r for r in csv.DictReader((reference / "fit.csv").open())}
    assert rows["fte_per_1000_2016"] == ref["fte_per_1000_2016"]
    assert float(rows["cost_per_inhabitant_2016"]["rel_error"]) < -0.4
    assert rows["cost_per_inhabitant_2016"]["within_tolerance"] == "false"


@pytest.mark.slow  # about 17 s; resume after SIGKILL stays in the default suite
def test_same_result_with_two_workers(reference, quick, tmp_path):
    out = calibrate(load_config(quick), tmp_path / "w2", workers=2, log=lambda s: None)
    assert _bytes(out) == _bytes(reference)


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-c", "from sim.cli.main import main; main()", *args]


def _finished_trials(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as con:
            return con.execute("select count(*) from trials where state = 'COMPLETE'"
                               ).fetchone()[0]
    except sqlite3.Error:
        return 0


@pytest.mark.parametrize("workers", ["1", pytest.param("2", marks=pytest.mark.slow)])
def test_resume_after_sigkill_is_byte_identical(reference, quick, tmp_path, workers):
    out = tmp_path / "killed"
    db = tmp_path / "killed.partial" / "calibration.db"
    proc = subprocess.Popen(_cli("calibrate", str(quick), "--out", str(out), "--workers",
                                 workers),
                            cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and _finished_trials(db) < 4 and proc.poll() is None:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)  # the command and its worker processes
    proc.wait()
    done_before = _finished_trials(db)
    assert 4 <= done_before < load_config(quick).trials, "kill came too late to test resume"
    assert not out.exists()  # no half-written result
    again = subprocess.run(_cli("calibrate", str(quick), "--out", str(out), "--workers", "1"),
                           cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert again.returncode == 2 and "--resume" in again.stderr
    done = subprocess.run(_cli("calibrate", str(quick), "--out", str(out), "--workers",
                               workers, "--resume"), cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    assert "resuming" in done.stderr
    assert _bytes(out) == _bytes(reference)
    assert not (tmp_path / "killed.partial").exists()


def test_existing_output_is_kept_without_overwrite(reference, quick, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    r = subprocess.run(_cli("calibrate", str(quick), "--out", str(mine), "--overwrite"),
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "refusing to delete" in r.stderr
    assert (mine / "notes.txt").read_text() == "keep me"


# ------------------------------------------------------------------ bad config files
GOOD_PARAM = '[[parameter]]\nname = "needs.practical_help.hours_per_month"\n'


def _bad_cases() -> list[tuple[str, str, str, str]]:
    """(id, config text change as old→new, targets text or '', words the error must name)."""
    return [
        ("toml", "trials = 16", "trials = = 16", "invalid TOML"),
        ("unknown_key", "trials = 16", "trails = 16", "trails"),
        ("missing_scenario", 'scenario = "', 'scenarioo = "', "scenarioo"),
        ("scenario_not_found", "indre_ostfold_traditional.toml", "nope.toml", "'scenario'"),
        ("targets_not_found", 'targets = "targets.toml"', 'targets = "missing.toml"',
         "'targets'"),
        ("trials_zero", "trials = 16", "trials = 0", "'trials'"),
        ("trials_text", "trials = 16", 'trials = "many"', "'trials'"),
        ("replications", "replications = 2", "replications = -2", "'replications'"),
        ("scale", "population_scale = 0.5", "population_scale = 2.0", "'population_scale'"),
        ("paradigm", 'paradigm = "traditional"', 'paradigm = "tradional"', "'paradigm'"),
        ("seed", "seed = 7", "seed = -1", "'seed'"),
        ("rerun_top", "top = 2", "top = 50", "'rerun.top'"),
        ("param_unknown", 'name = "needs.practical_help.hours_per_month"',
         'name = "needs.practical_help.hours_per_mont"', "unknown parameter"),
        ("param_out_of_range", "low = 5\n", "low = 1\n", "outside the registry range"),
        ("param_low_high", "low = 5\nhigh = 15", "low = 15\nhigh = 5", "not below high"),
        ("param_not_numeric", 'name = "needs.practical_help.hours_per_month"',
         'name = "mechanisms.health"', "not a numeric"),
        ("param_twice", '[[parameter]]\nname = "professionals.hours_per_fte_month"\nlow = 120\n'
         'high = 160', GOOD_PARAM, "listed twice"),
        ("param_log_zero", "low = 120\nhigh = 160", "low = 120\nhigh = 160\nlog = \"yes\"",
         "parameter #2 (professionals.hours_per_fte_month).log"),
        ("target_unknown_metric", "TARGETS", 'metric = "fte_per_1000"|metric = "fte_per_100"',
         "unknown metric"),
        ("target_missing_source", "TARGETS", 'source = "synthetic: the model at known values"|',
         "source"),
        ("target_zero", "TARGETS", "value = |value = 0 #", "relative error"),
        ("target_duplicate", "TARGETS",
         'name = "fte_per_1000_2016"|name = "practical_help_need_2016"', "used twice"),
        ("target_all_holdout", "TARGETS", "holdout = false|holdout = true", "nothing to fit"),
        ("target_year", "TARGETS", "year = 2016|year = 2010", "year"),
        ("target_tolerance", "TARGETS", "tolerance_rel = 0.05|tolerance_rel = -1",
         "tolerance_rel"),
    ]


@pytest.mark.parametrize("case", _bad_cases(), ids=[c[0] for c in _bad_cases()])
def test_bad_config_is_one_clear_paragraph(case, tmp_path, truth, monkeypatch, capsys):
    from sim.cli.main import main

    cid, old, new, words = case
    targets = _targets_text(truth)
    config = _config_text()
    bad_file = tmp_path / "cal.toml"
    if old == "TARGETS":
        a, b = new.split("|")
        targets = targets.replace(a, b)
        bad_file = tmp_path / "targets.toml"
    else:
        assert old in config
        config = config.replace(old, new, 1)
    (tmp_path / "targets.toml").write_text(targets, encoding="utf-8")
    (tmp_path / "cal.toml").write_text(config, encoding="utf-8")
    out = tmp_path / "out"
    monkeypatch.setattr(sys, "argv", ["welfare-sim", "calibrate", str(tmp_path / "cal.toml"),
                                      "--out", str(out), "--workers", "1"])
    with pytest.raises(SystemExit) as exc:
        main()
    err = capsys.readouterr().err
    assert exc.value.code == 2, err
    assert "Traceback" not in err
    assert err.startswith(f"error: {bad_file}"), err
    assert words in err and "Expected" in err, err
    assert err.count("\n") == 1, err  # one paragraph
    assert not out.exists() and not (tmp_path / "out.partial").exists()


def test_config_file_not_found_and_bad_workers(tmp_path, monkeypatch, capsys):
    from sim.cli.main import main

    for argv, words in ((["calibrate", str(tmp_path / "none.toml")], "file not found"),
                        (["calibrate", str(QUICK), "--workers", "0"], "--workers")):
        monkeypatch.setattr(sys, "argv", ["welfare-sim", *argv])
        with pytest.raises(SystemExit) as exc:
            main()
        err = capsys.readouterr().err
        assert exc.value.code == 2 and words in err and "Traceback" not in err


def test_bundled_configs_load():
    """calibration/quick.toml and calibration/norway.toml: the bundled configs load, under the
    traditional paradigm, with bounds inside the registry ranges."""
    cfg = load_config(QUICK)
    assert cfg.paradigm == "traditional" and cfg.scenario.value("run.start_year") == 2016
    sc = run_scenario_for(cfg, TRUE)
    assert sc.value("run.end_year") == 2016 and sc.value("run.population_scale") == 0.5
    norway = ROOT / "calibration" / "norway.toml"
    if norway.exists():
        n = load_config(norway)
        assert n.paradigm == "traditional" and n.holdout and n.fitted
        for p in n.parameters:
            assert p.registry_low <= p.low < p.high <= p.registry_high
