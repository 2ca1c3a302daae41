"""The live page's model handling (no browser) and ``welfare-sim animate``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.errors import InputError
from sim.live import (
    MAX_SCALE,
    Session,
    base_scenario,
    build_model,
    defaults_from,
    overrides,
    status,
    status_text,
)

ROOT = Path(__file__).resolve().parents[1]
CLASSROOM = ROOT / "scenarios" / "classroom.toml"


@pytest.fixture(scope="module")
def defaults():
    return defaults_from(base_scenario(CLASSROOM))


def small(p):
    return p.with_(scale=0.01)  # ~450 agents: fast


def test_defaults_come_from_the_scenario(defaults):
    sc = base_scenario(CLASSROOM)
    assert defaults.scale == pytest.approx(sc.value("run.population_scale"))
    assert defaults.seed == sc.seed
    assert defaults.paradigm == "traditional"


def test_overrides_validate(defaults):
    ov = overrides(defaults.with_(transition_to="network_governance", transition_year=2025),
                   2016, 2060)
    assert ov["paradigm"] == {"from": "traditional", "to": "network_governance",
                              "start": 2025, "end": 2030}
    assert ov["cocreation.targeting"] is False
    with pytest.raises(InputError, match="population scale"):
        overrides(defaults.with_(scale=MAX_SCALE * 2), 2016, 2060)
    with pytest.raises(InputError, match="paradigm"):
        overrides(defaults.with_(paradigm="anarchy"), 2016, 2060)
    with pytest.raises(InputError, match="transition year"):
        overrides(defaults.with_(transition_to="npm", transition_year=1990), 2016, 2060)
    with pytest.raises(InputError, match="seed"):
        overrides(defaults.with_(seed=-1), 2016, 2060)


def test_session_matches_direct_model_and_sessions_are_independent(defaults):
    p = small(defaults)
    a, b = Session(p, CLASSROOM), Session(p, CLASSROOM)
    assert a.model is not b.model
    a.step(3)
    assert status(a.model)["tick"] == 3 and status(b.model)["tick"] == 0
    direct = build_model(p, CLASSROOM)
    for _ in range(3):
        direct.step()
    np.testing.assert_array_equal(a.model.results[:3], direct.results[:3])
    assert "cost per inhabitant" in status_text(a.model)


def test_reset_applies_parameters_and_keeps_model_on_error(defaults):
    s = Session(small(defaults), CLASSROOM)
    s.step(2)
    old = s.model
    assert not s.reset(s.params.with_(scale=0.9))  # over the classroom cap
    assert s.error and "population scale" in s.error and s.model is old
    assert s.reset(s.params.with_(paradigm="npm"), compare_to="network_governance")
    assert s.error is None and s.model is not old and status(s.model)["tick"] == 0
    assert s.other is not None and s.other.seed == s.model.seed
    s.step(2)
    assert status(s.other)["tick"] == 2  # compare view steps both
    assert not np.array_equal(s.model.results[:2], s.other.results[:2])
    fig = s.compare_figure()
    assert len(fig.axes) == 8


def test_main_figure_has_all_panels(defaults):
    s = Session(small(defaults), CLASSROOM)
    s.step(2)
    fig = s.figure()
    titles = " | ".join(ax.get_title() for ax in fig.axes)
    for word in ("Cost per inhabitant", "Demand vs delivered", "Quality", "FTE",
                 "Volunteer hours", "Inequality", "Co-creation matrix", "Network sample"):
        assert word in titles
    assert len(s.net[0]) <= 150
    assert s.figure() is fig  # redrawn in place


def test_animate_writes_gif(tmp_path):
    from typer.testing import CliRunner

    from sim.cli.main import app

    out = tmp_path / "run.gif"
    r = CliRunner().invoke(app, ["animate", str(CLASSROOM), "--out", str(out), "--years", "1",
                                 "--months-per-frame", "6"])
    assert r.exit_code == 0, r.output
    from PIL import Image

    with Image.open(out) as im:
        assert im.format == "GIF" and im.n_frames == 2


def test_animate_rejects_bad_output(tmp_path):
    from sim.live.animate import animate

    with pytest.raises(InputError, match=".gif or .mp4"):
        animate(CLASSROOM, tmp_path / "x.avi")


def test_cli_has_live_and_animate():
    from typer.testing import CliRunner

    from sim.cli.main import app

    r = CliRunner().invoke(app, ["--help"])
    assert "live" in r.output and "animate" in r.output
