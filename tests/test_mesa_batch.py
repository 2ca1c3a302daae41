"""Mesa users: ``mesa.batch_run(WelfareModel, parameters={...})`` works — a scenario path or
bundled name, a seed and registry overrides as keyword arguments, and a DataCollector with the
key metrics — and gives what a direct run with the same arguments gives."""

from __future__ import annotations

from pathlib import Path

import mesa
import numpy as np
import pandas as pd
import pytest

from sim.model import COLLECTED, WelfareModel


@pytest.fixture(scope="module")
def short(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("mesa") / "short.toml"
    p.write_text('extends = "classroom.toml"\nname = "short"\n[run]\nend_year = 2016\n'
                 "population_scale = 0.05\n", encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def batch(short) -> pd.DataFrame:
    # seeds go in rng= (batch_run passes them as the model's ``seed`` keyword)
    rows = mesa.batch_run(WelfareModel, parameters={
        "scenario": str(short), "paradigm": ["traditional", "npm"],
        "cocreation.thick_share": 0.4}, rng=[1, 2], number_processes=1,
        data_collection_period=-1, display_progress=False)
    return pd.DataFrame(rows)


def test_batch_run_returns_the_key_metrics(batch):
    assert len(batch) == 4  # 2 seeds x 2 paradigms, the last month of each
    assert sorted(batch["seed"]) == [1, 1, 2, 2]
    assert set(COLLECTED) <= set(batch.columns)
    assert (batch["Step"] == 12).all() and (batch["year"] == 2016).all()
    assert (batch["month"] == 12).all()
    assert batch["population"].gt(0).all() and batch["cost_per_inhabitant"].gt(0).all()


def test_batch_run_equals_a_direct_run_with_the_same_arguments(batch, short):
    for _, row in batch.iterrows():
        m = WelfareModel(str(short), seed=int(row["seed"]), paradigm=row["paradigm"],
                         cocreation__thick_share=0.4).run()
        last = m.table().iloc[-1]
        for name in ("cost_per_inhabitant", "quality", "need_hours", "share_80plus"):
            assert row[name] == pytest.approx(float(last[name]), rel=1e-12), name
        assert m.scenario.params["cocreation.thick_share"] == pytest.approx(0.4)
        assert m.scenario.paradigm.describe() == row["paradigm"]


def test_overrides_reach_the_model(short):
    a = WelfareModel(short, seed=1, paradigm="npm",
                     **{"npm.transaction_cost_share": 0.02}).run()
    b = WelfareModel(short, seed=1, paradigm="npm",
                     **{"npm.transaction_cost_share": 0.2}).run()
    assert a.scenario.params["npm.transaction_cost_share"] == pytest.approx(0.02)
    assert b.table()["cost_transaction"].sum() > a.table()["cost_transaction"].sum() > 0


def test_datacollector_keeps_every_month(short):
    m = WelfareModel(short, seed=5).run()
    df = m.datacollector.get_model_vars_dataframe()
    assert len(df) == 12
    np.testing.assert_allclose(df["quality"].to_numpy(), m.table()["quality"].to_numpy())


def test_bad_keyword_is_a_clear_error(short):
    from sim.errors import InputError

    with pytest.raises(InputError, match="cocreation.thick_shar"):
        WelfareModel(short, cocreation__thick_shar=0.4)


def test_default_scenario_is_the_bundled_classroom():
    from sim.model import _as_scenario
    from sim.scenario import load_scenario

    assert _as_scenario(None, {}).hash == load_scenario("classroom.toml").hash
