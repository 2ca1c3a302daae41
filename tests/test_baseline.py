"""Regression baseline (Covasim style): a fixed small run must reproduce tests/baseline.json.

The baseline holds yearly means of key metrics for classroom-scale runs (2016-2025, seed 1,
each paradigm). A failure means results changed. If the change is intended (calibration, a new
rule), regenerate the baseline in one line and commit it with the change:

    .venv/bin/python experiments/bench/make_baseline.py
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location(
    "make_baseline", ROOT / "experiments" / "bench" / "make_baseline.py")
make_baseline = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_baseline)

BASELINE = json.loads((ROOT / "tests" / "baseline.json").read_text(encoding="utf-8"))


def _message(paradigm: str, diffs: list[str]) -> str:
    return (f"{paradigm}: {len(diffs)} metric(s) drifted from tests/baseline.json "
            f"(rtol {BASELINE['rtol']}):\n  " + "\n  ".join(diffs)
            + "\nIf this change of results is intended (the model is being calibrated), "
              "regenerate the baseline and commit it with the change:\n    "
            + make_baseline.REGENERATE)


@pytest.mark.parametrize("paradigm", sorted(BASELINE["paradigms"]))
def test_matches_baseline(paradigm):
    assert BASELINE["run"]["seed"] == make_baseline.SEED
    assert BASELINE["metrics"] == list(make_baseline.METRICS), (
        "the metric list changed; regenerate: " + make_baseline.REGENERATE)
    fresh = make_baseline.summarise(paradigm)
    diffs = make_baseline.compare(fresh, BASELINE["paradigms"][paradigm],
                                  rtol=BASELINE["rtol"])
    assert not diffs, _message(paradigm, diffs)


@pytest.mark.parametrize("override", [
    {"volunteers.motivation_crowding": 0.0},
    {"cocreation.thick_tailoring": 0.2},
])
def test_parameter_change_is_detected(override):
    """Changing one mechanism parameter must make the comparison report differences."""
    name, value = next(iter(override.items()))
    base = make_baseline.summarise("network_governance")
    changed = make_baseline.summarise("network_governance", **override)
    assert base != changed
    diffs = make_baseline.compare(changed, base)
    assert diffs, f"changing {name} to {value} went unnoticed"
    assert all(":" in d for d in diffs)


def test_compare_reports_metric_and_year():
    a = {"year": [2016, 2017], "coverage": [0.9, 0.8]}
    b = {"year": [2016, 2017], "coverage": [0.9, 0.8 * (1 + 1e-6)]}
    assert make_baseline.compare(a, a) == []
    (line,) = make_baseline.compare(a, b)
    assert line.startswith("coverage: 1 year(s) differ, first 2017")
    assert make_baseline.compare({"year": [2016]}, {"year": [2016], "fit": [1.0]}) == [
        "fit: only in baseline"]
