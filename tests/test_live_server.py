"""The live page's server side without a browser: the Host/Origin guard, the session cap and
its message, the spare-model pool, the pause token of Play, and the per-frame feed."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import numpy as np
import pytest

from sim.live import Session, base_scenario, defaults_from, pool_key, ticks_done
from sim.live.feed import PANELS, Feed
from sim.live.player import Player
from sim.live.server import HostGuard, HostPolicy, ModelPool, SessionCap, cap_message, page_url

ROOT = Path(__file__).resolve().parents[1]
CLASSROOM = ROOT / "scenarios" / "classroom.toml"


# ---------------------------------------------------------------------- Host / Origin
def test_loopback_server_answers_loopback_names_only():
    p = HostPolicy(bind="127.0.0.1")
    for ok in ("127.0.0.1:8000", "localhost:8000", "[::1]:8000", "LOCALHOST"):
        assert p.host_ok(ok), ok
    for bad in ("evil.example:8000", "192.168.1.20:8000", "", None, "127.0.0.1.evil.example"):
        assert not p.host_ok(bad), bad


def test_network_server_answers_ip_addresses_and_allowed_names():
    p = HostPolicy(bind="0.0.0.0", extra={"teacher-laptop.local"})
    assert p.host_ok("192.168.1.20:8000") and p.host_ok("10.0.0.5")
    assert p.host_ok("teacher-laptop.local:8000")
    assert not p.host_ok("rebind.evil.example:8000")  # DNS rebinding needs a name


def test_origin_must_be_the_page_itself():
    p = HostPolicy(bind="127.0.0.1")
    assert p.origin_ok(None, "127.0.0.1:8000")
    assert p.origin_ok("http://127.0.0.1:8000", "127.0.0.1:8000")
    assert not p.origin_ok("http://evil.example", "127.0.0.1:8000")
    assert not p.origin_ok("http://localhost:8000", "127.0.0.1:8000")
    assert not p.origin_ok("null", "127.0.0.1:8000")


def _call(guard, scope):
    sent, inner = [], []

    async def receive():
        return {"type": "websocket.connect"}

    async def send(msg):
        sent.append(msg)

    async def run():
        await guard(scope, receive, send)

    asyncio.run(run())
    return sent, inner


def _guard():
    called = []

    async def app(scope, receive, send):
        called.append(scope["type"])
        await send({"type": "http.response.start", "status": 200, "headers": []})

    return HostGuard(app, HostPolicy(bind="127.0.0.1")), called


def test_guard_refuses_foreign_host_and_cross_site_websocket():
    guard, called = _guard()
    sent, _ = _call(guard, {"type": "http", "headers": [(b"host", b"evil.example:80")]})
    assert sent[0]["status"] == 403 and called == []
    assert b"--allow-host" in sent[1]["body"]
    sent, _ = _call(guard, {"type": "websocket", "headers": [
        (b"host", b"127.0.0.1:8000"), (b"origin", b"http://evil.example")]})
    assert sent == [{"type": "websocket.close", "code": 1008}] and called == []
    sent, _ = _call(guard, {"type": "http", "headers": [
        (b"host", b"127.0.0.1:8000"), (b"origin", b"http://127.0.0.1:8000")]})
    assert sent[0]["status"] == 200 and called == ["http"]


def test_printed_address_is_a_url_for_ipv6_too():
    """`live --host ::1` printed http://::1:PORT/, which no browser opens (CLI fuzz #1297)."""
    assert page_url("::1", 8000) == "http://[::1]:8000/"
    assert page_url("127.0.0.1", 8000) == "http://127.0.0.1:8000/"
    assert page_url("0.0.0.0", 8000) == page_url("::", 8000) == "http://127.0.0.1:8000/"


# ---------------------------------------------------------------------- session cap
def test_session_cap_refuses_past_the_limit_and_frees_on_release():
    cap = SessionCap(2)
    assert cap.acquire() and cap.acquire()
    assert not cap.acquire()
    cap.release()
    assert cap.acquire()
    msg = cap_message(2)
    assert "2 open tabs" in msg and "--max-sessions" in msg and "reload" in msg


def test_cli_rejects_bad_max_sessions_and_binds_loopback(monkeypatch):
    pytest.importorskip("solara")
    from typer.testing import CliRunner

    import sim.live.server as server
    from sim.cli.main import app

    seen = {}

    def fake_serve(path, host, port, allow, max_sessions, announce, env):
        seen.update(host=host, allow=allow, max_sessions=max_sessions)

    monkeypatch.setattr(server, "serve", fake_serve)
    r = CliRunner().invoke(app, ["live", str(CLASSROOM), "--max-sessions", "0"])
    from sim.errors import InputError

    assert isinstance(r.exception, InputError) and "--max-sessions 0" in str(r.exception)
    r = CliRunner().invoke(app, ["live", str(CLASSROOM), "--allow-host", "t.local"])
    assert r.exit_code == 0, r.output
    assert seen == {"host": "127.0.0.1", "allow": ["t.local"], "max_sessions": 40}


# ---------------------------------------------------------------------- model pool
def test_pool_hands_out_spare_models_and_builds_others_on_demand():
    built = []
    lock = threading.Lock()

    def build(key):
        with lock:
            built.append(key)
        return object()

    pool = ModelPool(build, size=2)
    pool.refill("default")
    assert pool.ready("default") == 2 and built == ["default", "default"]
    a = pool.take("default")
    b = pool.take("default")
    assert a is not b
    pool.refill("default")  # what the background refill does
    assert pool.ready("default") == 2
    pool.take("other")  # not pooled yet: built for the caller
    assert "other" in built


def test_session_takes_its_model_from_the_pool_only_for_the_defaults():
    from sim.live import session_parts

    pool = ModelPool(session_parts, size=1)
    key = pool_key(CLASSROOM)
    pool.refill(key)
    spare = pool._spare[key][0][0]
    s = Session(path=CLASSROOM, pool=pool)
    assert s.model is spare
    assert s.reset(s.params.with_(seed=s.params.seed + 1))
    assert s.model is not spare and s.model.seed == s.params.seed


# ---------------------------------------------------------------------- Play / Pause
@pytest.fixture()
def small_session():
    p = defaults_from(base_scenario(CLASSROOM)).with_(scale=0.01)
    return Session(p, CLASSROOM)


def test_pause_during_play_stops_before_the_next_frame(small_session):
    s = small_session
    frames = []
    player: Player

    def send(frame):
        frames.append(frame)
        if len(frames) == 3:
            player.stop()  # a Pause click while the third frame is on its way
        player.drawn(frame["seq"])

    player = Player(s, threading.RLock(), send, max_fps=1000)
    player.play(1)
    player.join(30)
    assert not player.playing
    assert len(frames) == 3 and ticks_done(s.model) == 3
    assert [f["runs"][0]["start"] for f in frames] == [0, 1, 2]  # one new month a frame


def test_pause_while_waiting_for_the_browser_steps_no_more(small_session):
    s = small_session
    frames = []
    second = threading.Event()

    def send(frame):  # a browser that never says it has drawn
        frames.append(frame)
        if len(frames) == 1:
            second.set()

    player = Player(s, threading.RLock(), send, max_fps=1000)
    player.play(1)
    assert second.wait(30)
    player.stop()  # the thread is waiting for frame 1 to be drawn, month 2 already run
    player.join(30)
    assert not player.playing
    # the month computed before the Pause is shown; no month after it is run
    assert ticks_done(s.model) == len(frames) <= 2


def test_step_sends_only_the_new_month_and_full_resends_all(small_session):
    s = small_session
    frames = []
    player = Player(s, threading.RLock(), frames.append)
    player.step(1)
    player.step(2)
    assert [f["runs"][0]["start"] for f in frames] == [0, 1]
    assert [len(f["runs"][0]["x"]) for f in frames] == [1, 2]
    assert not player.push()  # nothing new
    player.push(full=True)
    assert frames[-1]["full"] and len(frames[-1]["runs"][0]["x"]) == 3


# ---------------------------------------------------------------------- the feed
def test_feed_deltas_add_up_to_the_model_results(small_session):
    s = small_session
    feed = s.feed
    xs, costs = [], []
    for n in (1, 5, 6):
        s.step(n)
        f = feed.delta()
        xs += f["runs"][0]["x"]
        costs += f["runs"][0]["y"][0][0]
    t = ticks_done(s.model)
    assert len(xs) == t == 12
    from sim.metrics import INDEX

    cost = s.model.results[:t, INDEX["cost_per_inhabitant"]]
    np.testing.assert_allclose(costs, cost, rtol=1e-3)
    assert feed.delta() is None


def test_feed_matrix_is_shares_and_network_is_yearly(small_session):
    s = small_session
    feed = Feed([s.model], ["Traditional"], s.net)
    s.step(1)
    first = feed.delta()
    assert "network" in first and len(first["network"]["need"]) == len(s.net[0])
    s.step(1)
    assert "network" not in feed.delta()
    s.step(11)
    assert "network" in feed.delta()
    m = np.array(feed.matrix())
    assert m.shape == (3, 3) and m.sum() == pytest.approx(1.0, abs=1e-3)
    spec = feed.spec()
    assert [p["id"] for p in spec["panels"]] == [p[0] for p in PANELS]
    assert len(spec["network"]["xy"]) == len(s.net[0])
