"""Smoke test of the performance suite (experiments/bench/run_bench.py --quick logic).

No timing assertions: the structure of the results and that ratios are computed and positive.
"""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "experiments" / "bench"


def _load(name: str):
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _positive(x) -> bool:
    return isinstance(x, int | float) and math.isfinite(x) and x > 0


@pytest.mark.slow  # about 15 s: the quick benchmark suite end to end
def test_quick_suite_structure(tmp_path):
    run_bench = _load("run_bench")
    res = run_bench.run_suite(quick=True, paradigms=("network_governance",),
                              naive_citizens=800, naive_ticks=2, demography_agents=3_000,
                              demography_years=1, materialise_citizens=1_000, log=lambda *a: None)
    out = tmp_path / "results.json"
    out.write_text(json.dumps(res))
    res = json.loads(out.read_text())
    assert {"model", "naive_mesa", "demography_vs_starsim", "materialisation"} <= set(res)

    (row,) = res["model"]
    for key in ("wall_s", "run_s", "citizen_ticks_per_s", "peak_rss_mb", "s_per_tick",
                "peak_bytes_per_citizen", "array_bytes_per_citizen_slot"):
        assert _positive(row[key]), key
    assert set(row["phase_share"]) == set(run_bench.PHASES)
    assert abs(sum(row["phase_share"].values()) - 1.0) < 1e-6

    (cli,) = res["cli"]
    assert cli["reps"] == 1 and _positive(cli["wall_s"])

    nv = res["naive_mesa"]
    assert _positive(nv["speedup"])
    assert nv["tick1_max_rel_diff"] < 1e-5  # the naive rules agree with the array model

    d = res["demography_vs_starsim"]
    assert _positive(d["ours_s"])
    if d.get("starsim"):
        assert _positive(d["ratio_ours_over_starsim_speed"])
    else:
        assert d["ratio_ours_over_starsim_speed"] is None

    mt = res["materialisation"]
    assert _positive(mt["agent_create_s"]) and _positive(mt["citizens"])
    assert _positive(mt["array_bytes_per_citizen"])


def test_naive_agrees_with_array_model():
    naive_mesa = _load("naive_mesa")
    res = naive_mesa.compare(citizens=600, ticks=1, warmup=3)
    assert res["tick1_max_rel_diff"] < 1e-5, res["tick1_check"]
    assert _positive(res["speedup"])
