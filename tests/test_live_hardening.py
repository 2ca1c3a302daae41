"""Live page hardening (issue 7.5): local-only by default, page inputs validated, and a soak
test stepping the classroom model through many months and resets with flat memory (RSS from
/proc/self/statm). Skips if the live modules are missing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

live = pytest.importorskip("sim.live")
cli_live = pytest.importorskip("sim.cli.live")

from sim.errors import InputError  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CLASSROOM = ROOT / "scenarios" / "classroom.toml"


def rss_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def test_live_binds_localhost_by_default(monkeypatch):
    """The server gets host 127.0.0.1 unless the user asks otherwise."""
    pytest.importorskip("solara")
    from typer.testing import CliRunner

    import sim.live.server as server
    from sim.cli.main import app

    seen = {}

    def fake_serve(path, host, port, *args):
        seen["host"] = host

    monkeypatch.setattr(server, "serve", fake_serve)
    CliRunner().invoke(app, ["live", str(CLASSROOM)])
    assert seen["host"] == "127.0.0.1"


@pytest.mark.parametrize("scale", [1e9, 1.0, live.MAX_SCALE * 1.01, 0.0, -1.0, float("nan"),
                                   float("inf")])
def test_population_slider_cannot_ask_for_too_many_agents(scale):
    p = live.defaults_from(live.base_scenario(CLASSROOM)).with_(scale=scale)
    with pytest.raises(InputError, match="population scale"):
        live.overrides(p, 2016, 2060)


@pytest.mark.parametrize("kw", [dict(paradigm="anarchy"), dict(seed=-1),
                                dict(transition_to="npm", transition_year=1900),
                                dict(transition_to="bogus")])
def test_other_page_inputs_are_validated(kw):
    p = live.defaults_from(live.base_scenario(CLASSROOM)).with_(**kw)
    with pytest.raises(InputError):
        live.overrides(p, 2016, 2060)


def test_bad_reset_keeps_the_running_model():
    p = live.defaults_from(live.base_scenario(CLASSROOM)).with_(scale=live.MIN_SCALE)
    s = live.Session(p, CLASSROOM)
    model = s.model
    assert not s.reset(p.with_(scale=1e9))
    assert s.model is model and "population scale" in s.error


def soak(steps: int, per_reset: int) -> tuple[float, float]:
    p = live.defaults_from(live.base_scenario(CLASSROOM)).with_(scale=live.MIN_SCALE)
    s = live.Session(p, CLASSROOM)
    done, resets, warm = 0, 0, None
    paradigms = ("traditional", "npm", "network_governance")
    while done < steps:
        ran = s.step(per_reset)
        done += max(ran, 1)
        resets += 1
        assert s.reset(p.with_(paradigm=paradigms[resets % 3], seed=resets))
        if resets == 3:
            warm = rss_mb()
    return warm, rss_mb()


def test_soak_short():
    warm, end = soak(steps=300, per_reset=50)
    assert end - warm < 40, f"RSS grew {end - warm:.0f} MB over 300 steps"


@pytest.mark.slow
def test_soak_2000_steps_across_resets():
    warm, end = soak(steps=2000, per_reset=100)
    assert end - warm < 40, f"RSS grew {end - warm:.0f} MB over 2,000 steps"
