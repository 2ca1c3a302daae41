"""The live page in a real browser: Debian's Chromium driven by Playwright (the Python package
only, no browser download), every non-loopback request aborted. Functional checks, not timed
ones (the speed figures come from experiments/bench/live_bench.py).

Run with ``pytest -m browser tests/test_live_browser.py`` (and ``-m "browser and slow"`` for
the two-minute Play). Needs ``pip install playwright`` and ``apt-get install chromium``.
Screenshots at 1024x768 go to docs/img/.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
IMG = ROOT / "docs" / "img"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("WELFARE_SIM_CHROMIUM", "/usr/bin/chromium")
CHROME_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run", "--disable-sync",
               "--disable-quic"]
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
TIMEOUT_MS = 120_000
PROJECTOR = {"width": 1024, "height": 768}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(*extra: str):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    pytest.importorskip("playwright")
    port = _free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    log_path = ARTIFACTS / f"live-server-{port}.log"
    log = open(log_path, "w")  # noqa: SIM115 - closed in _stop
    exe = Path(sys.executable).with_name("welfare-sim")
    proc = subprocess.Popen([str(exe), "live", "--port", str(port), *extra], stdout=log,
                            stderr=subprocess.STDOUT, cwd=ROOT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 240
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            _stop(proc, log)
            raise RuntimeError(f"server did not start (see {log_path})")
        time.sleep(0.3)
    return {"url": url, "port": port, "proc": proc, "log": log, "log_path": log_path}


def _stop(proc, log) -> None:
    os.kill(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    log.close()


@pytest.fixture(scope="module")
def server():
    s = _start()
    yield s
    _stop(s["proc"], s["log"])


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROME_ARGS, headless=True)
        b.left_loopback = []  # requests that tried to leave this computer
        yield b
        b.close()


def _guard(browser):
    def guard(route):
        host = urlparse(route.request.url).hostname or ""
        if host in LOOPBACK or route.request.url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            browser.left_loopback.append(route.request.url)
            route.abort()

    return guard


def _open(browser, url: str, viewport=PROJECTOR):
    ctx = browser.new_context(viewport=viewport)
    ctx.route("**/*", _guard(browser))
    page = ctx.new_page()
    page.errors = []
    page.ws_closed = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("websocket", lambda ws: ws.on("close", lambda *_: page.ws_closed.append(ws.url)))
    page.goto(url, timeout=TIMEOUT_MS)
    page.wait_for_function("() => window.wsCharts && window.wsCharts.ws.lastSeq > 0 &&"
                           " document.querySelector('.ws-status[data-tick]')",
                           timeout=TIMEOUT_MS, polling=50)
    return ctx, page


def _status(page) -> dict[str, str]:
    return page.evaluate("() => Object.assign({}, document.querySelector('.ws-status').dataset)")


def _tick(page) -> int:
    return int(_status(page)["tick"])


def _wait_tick(page, cond: str) -> dict[str, str]:
    """Wait until ``cond`` (JS, on the number ``t``) holds for the tick shown."""
    page.wait_for_function("() => { const e = document.querySelector('.ws-status');"
                           " if (!e) return false; const t = Number(e.dataset.tick);"
                           f" return {cond}; }}", timeout=TIMEOUT_MS, polling=20)
    return _status(page)


def _step(page, k: int) -> dict[str, str]:
    page.locator(".ws-step").click()
    return _wait_tick(page, f"t === {k}")


def _choose(page, label: str, item: str) -> None:
    page.locator(".v-select").filter(has_text=re.compile(rf"^\s*(● )?{label}")).first.click()
    page.locator(".menuable__content__active .v-list-item").filter(
        has_text=re.compile(rf"^\s*{item}\s*$")).click()


def _pause(page) -> None:
    page.locator(".ws-play").click()
    page.locator(".ws-play").filter(has_text=re.compile(r"^\s*play", re.I)).wait_for(
        timeout=TIMEOUT_MS)


def _expected_cost(paradigm: str, ticks: int) -> float:
    """The same run in-process: the page's defaults, ``ticks`` months."""
    from sim.live import Session, base_scenario, defaults_from, status

    s = Session(defaults_from(base_scenario()).with_(paradigm=paradigm))
    s.step(ticks)
    return float(status(s.model)["cost_per_inhabitant"])


# ---------------------------------------------------------------------- tests
def test_pause_during_play_stops_the_ticks(server, browser):
    ctx, page = _open(browser, server["url"])
    try:
        page.locator(".ws-play").click()
        _wait_tick(page, "t >= 3")
        _pause(page)
        # the frame in flight at the click may still arrive; after that nothing moves
        page.wait_for_timeout(1000)
        paused_at = _tick(page)
        page.wait_for_timeout(2500)
        assert _tick(page) == paused_at >= 3
        assert page.locator(".ws-step").is_enabled()
        assert page.errors == []
    finally:
        ctx.close()


def test_reset_applies_pending_changes_and_the_page_marks_them_before(server, browser):
    ctx, page = _open(browser, server["url"])
    try:
        for k in (1, 2):
            got = _step(page, k)
        assert got["label"] == "Traditional"
        assert float(got["cost"]) == pytest.approx(_expected_cost("traditional", 2), rel=1e-9)
        assert page.locator(".ws-pending").count() == 0
        _choose(page, "Paradigm", "NPM")
        # marked until Reset: the status names the change, Reset counts it, the control shows ●
        pending = page.locator(".ws-pending")
        pending.wait_for(timeout=TIMEOUT_MS)
        assert "paradigm" in pending.inner_text() and "Traditional" in pending.inner_text()
        assert re.search(r"Reset \(1\)", page.locator(".ws-reset").inner_text(), re.I)
        assert page.locator(".v-select").filter(has_text="● Paradigm").count() == 1
        assert _status(page)["label"] == "Traditional" and _tick(page) == 2
        page.locator(".ws-reset").click()
        got = _wait_tick(page, "t === 0 && e.dataset.label === 'NPM'")
        page.locator(".ws-pending").wait_for(state="detached", timeout=TIMEOUT_MS)
        for k in (1, 2, 3):
            got = _step(page, k)
        assert got["label"] == "NPM"
        assert float(got["cost"]) == pytest.approx(_expected_cost("npm", 3), rel=1e-9)
        assert page.errors == []
    finally:
        ctx.close()


def test_two_tabs_are_independent(server, browser):
    ctx_a, a = _open(browser, server["url"])
    ctx_b, b = _open(browser, server["url"])
    try:
        for k in (1, 2, 3):
            _step(a, k)
        assert _tick(b) == 0
        _step(b, 1)
        b.locator(".ws-play").click()
        _wait_tick(b, "t >= 4")
        _pause(b)
        assert _tick(a) == 3
        _choose(a, "Paradigm", "Network governance")
        assert b.locator(".ws-pending").count() == 0  # a's pending change is a's alone
    finally:
        ctx_a.close()
        ctx_b.close()


JS_READABILITY = """() => {
  const px = (el) => parseFloat(getComputedStyle(el).fontSize);
  const small = [];
  document.querySelectorAll('.ws-title, .ws-legend, .ws-key, .ws-status, .ws-unit')
    .forEach((el) => { if (el.innerText.trim() && px(el) < 14) small.push(el.className); });
  document.querySelectorAll('.ws-side .v-label, .ws-side .v-select__selection')
    .forEach((el) => { if (el.innerText.trim() && px(el) < 12) small.push('side:' + el.innerText); });
  const chartFonts = [];
  window.wsCharts.ws.views.forEach((v) => {
    if (!v.chart) return;
    const o = v.chart.getOption();
    (o.xAxis || []).concat(o.yAxis || []).forEach((ax) => chartFonts.push(ax.axisLabel.fontSize));
    (o.series || []).forEach((s) => { if (s.label && s.label.show) chartFonts.push(s.label.fontSize); });
  });
  const overlaps = [];
  const hit = (a, b) => a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
  const check = (els, what) => {
    const r = Array.from(els).filter((e) => e.offsetParent).map((e) => [e.innerText, e.getBoundingClientRect()]);
    for (let i = 0; i < r.length; i++) for (let j = i + 1; j < r.length; j++)
      if (hit(r[i][1], r[j][1])) overlaps.push(what + ': ' + r[i][0] + ' / ' + r[j][0]);
  };
  document.querySelectorAll('.ws-legend').forEach((l) => check(l.querySelectorAll('.ws-key'), 'legend'));
  document.querySelectorAll('.ws-panel').forEach((p) => check(p.querySelectorAll('.ws-title, .ws-legend, .ws-chart'), 'panel'));
  check(document.querySelectorAll('.ws-side .v-label'), 'sidebar');
  return { small, chartFonts, overlaps, text: document.body.innerText };
}"""


def test_readable_at_1024x768_screenshots_and_offline(server, browser):
    IMG.mkdir(parents=True, exist_ok=True)
    ctx, page = _open(browser, server["url"])
    try:
        _choose(page, "Play speed", "1 year per frame")
        page.locator(".ws-play").click()
        _wait_tick(page, "t >= 12 * 15")
        _pause(page)
        page.evaluate("() => window.wsCharts.drawAll()")
        page.wait_for_timeout(500)
        page.screenshot(path=str(IMG / "live-1024x768.png"))
        page.locator(".ws-panel").last.scroll_into_view_if_needed()
        page.wait_for_timeout(500)
        page.screenshot(path=str(IMG / "live-lower-panels.png"))
        r = page.evaluate(JS_READABILITY)
        assert r["small"] == [], r["small"]
        assert r["chartFonts"] and min(r["chartFonts"]) >= 14, r["chartFonts"]
        assert r["overlaps"] == [], r["overlaps"]
        for debug in ("tick=", "version=", "last model step", "runs on Solara"):
            assert debug not in r["text"]
        # pending changes and a comparison, as a teacher would set them up
        _choose(page, "Compare with", "Network governance")
        _choose(page, "Paradigm", "NPM")
        page.locator(".ws-pending").filter(has_text="paradigm").wait_for(timeout=TIMEOUT_MS)
        page.screenshot(path=str(IMG / "live-pending.png"))
        page.locator(".ws-reset").click()
        _wait_tick(page, "t === 0 && e.dataset.label === 'NPM'")
        page.locator(".ws-play").click()
        _wait_tick(page, "t >= 12 * 20")
        _pause(page)
        page.evaluate("() => window.wsCharts.drawAll()")
        page.wait_for_timeout(500)
        assert page.locator(".ws-status-other").inner_text().startswith("Network governance")
        page.screenshot(path=str(IMG / "live-compare.png"))
        r = page.evaluate(JS_READABILITY)
        assert r["overlaps"] == [] and r["small"] == [], r
        assert page.errors == []
    finally:
        ctx.close()
    assert browser.left_loopback == [], browser.left_loopback


def test_foreign_host_is_refused(server):
    req = urllib.request.Request(server["url"], headers={"Host": "rebind.evil.example"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=30)
    assert e.value.code == 403


def test_tab_past_the_session_cap_gets_a_clear_message(browser):
    s = _start("--max-sessions", "1")
    try:
        ctx_a, a = _open(browser, s["url"])
        ctx_b = browser.new_context(viewport=PROJECTOR)
        b = ctx_b.new_page()
        b.goto(s["url"], timeout=TIMEOUT_MS)
        msg = b.locator(".ws-cap")
        msg.wait_for(timeout=TIMEOUT_MS)
        assert "--max-sessions 1" in msg.inner_text() and b.locator(".ws-step").count() == 0
        _step(a, 1)  # the first tab is unaffected
        ctx_a.close()
        ctx_b.close()
    finally:
        _stop(s["proc"], s["log"])
    log = s["log_path"].read_text()
    assert "Traceback" not in log and "cookie" not in log.lower(), log[-2000:]


@pytest.mark.slow
def test_two_minutes_of_play_without_disconnection(server, browser):
    ctx, page = _open(browser, server["url"])
    finished = re.compile(r"^\s*play", re.I)  # the button says Play again: run reached 2060
    try:
        page.locator(".ws-play").click()
        end, runs, seen = time.time() + 120, 0, 0
        while time.time() < end:
            page.wait_for_timeout(2000)
            seen = max(seen, _tick(page))
            if page.locator(".ws-play").filter(has_text=finished).count():
                runs += 1
                page.locator(".ws-reset").click()
                _wait_tick(page, "t === 0")
                page.locator(".ws-play").click()
        _pause(page)
        text = page.evaluate("() => document.body.innerText")
        assert not re.search(r"disconnected|Could not restore|refresh", text, re.I)
        assert page.ws_closed == [] and page.errors == []
        assert seen > 12 or runs > 0
    finally:
        ctx.close()
