"""Drives the live page in Debian's Chromium (Playwright, no browser download) with every
non-loopback request aborted. Run with ``pytest -m browser tests/test_live_browser.py``.

Needs: ``pip install playwright`` (python package only) and ``apt-get install chromium``.
Writes test-artifacts/live.png and test-artifacts/live-timings.json.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("WELFARE_SIM_CHROMIUM", "/usr/bin/chromium")
CHROME_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run", "--disable-sync",
               "--disable-quic"]
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
TIMEOUT_MS = 60_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _data(page) -> dict[str, str]:
    text = page.locator(".ws-data").inner_text(timeout=TIMEOUT_MS)
    return dict(kv.split("=", 1) for kv in text.split())


def _wait_tick(page, tick: int, paradigm: str | None = None) -> dict[str, str]:
    pat = rf"tick={tick} " + (rf".*paradigm={paradigm}\b" if paradigm else "")
    page.locator(".ws-data").filter(has_text=re.compile(pat)).wait_for(timeout=TIMEOUT_MS)
    return _data(page)


def _expected(paradigm: str, ticks: int) -> dict[str, str]:
    """The same run in-process: the page's defaults, ``ticks`` months."""
    from sim.live import Session, base_scenario, defaults_from, status

    s = Session(defaults_from(base_scenario()).with_(paradigm=paradigm))
    s.step(ticks)
    st = status(s.model)
    return {"tick": str(st["tick"]), "year": str(st["year"]), "month": str(st["month"]),
            "cost_per_inhabitant": f"{st['cost_per_inhabitant']:.6g}"}


@pytest.fixture(scope="module")
def server():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    pytest.importorskip("playwright")
    port = _free_port()
    exe = Path(sys.executable).with_name("welfare-sim")
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / "live-server.log", "w")  # noqa: SIM115
    t0 = time.perf_counter()
    proc = subprocess.Popen([str(exe), "live", "--port", str(port)], stdout=log, stderr=log,
                            cwd=ROOT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.time() + 60
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"server did not start (see {log.name})")
            time.sleep(0.2)
        yield {"url": url, "t0": t0, "http_ready_s": time.perf_counter() - t0}
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def test_live_page_offline(server):
    from playwright.sync_api import sync_playwright

    timings: dict[str, float] = {"server_http_ready_s": server["http_ready_s"]}
    left_loopback: list[str] = []
    requests: list[str] = []

    def guard(route):
        host = urlparse(route.request.url).hostname or ""
        if host in LOOPBACK or route.request.url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            left_loopback.append(route.request.url)
            route.abort()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROME_ARGS, headless=True)
        browser_pid = None
        try:
            ctx = browser.new_context(viewport={"width": 1600, "height": 1300})
            ctx.route("**/*", guard)
            ctx.on("request", lambda r: requests.append(r.url))
            page = ctx.new_page()
            page.goto(server["url"], timeout=TIMEOUT_MS)
            _wait_tick(page, 0)
            page.locator(".ws-step").wait_for(timeout=TIMEOUT_MS)
            page.locator("img").first.wait_for(timeout=TIMEOUT_MS)
            timings["server_start_to_first_render_s"] = time.perf_counter() - server["t0"]

            # a second tab (a second browser window, as on a student's laptop): its own model
            ctx2 = browser.new_context(viewport={"width": 1200, "height": 900})
            ctx2.route("**/*", guard)
            ctx2.on("request", lambda r: requests.append(r.url))
            other = ctx2.new_page()
            other.goto(server["url"], timeout=TIMEOUT_MS)
            _wait_tick(other, 0)

            # Step x3 matches the same run in-process
            step_times = []
            for k in range(1, 4):
                t = time.perf_counter()
                page.locator(".ws-step").click()
                got = _wait_tick(page, k)
                step_times.append(time.perf_counter() - t)
            timings["step_click_to_update_s"] = max(step_times)
            timings["step_click_to_update_mean_s"] = sum(step_times) / len(step_times)
            exp = _expected("traditional", 3)
            for key in ("tick", "year", "month", "cost_per_inhabitant"):
                assert got[key] == exp[key], (key, got, exp)
            assert got["paradigm"] == "traditional"

            # the other tab did not move; stepping it does not move this one
            time.sleep(1.0)
            assert _data(other)["tick"] == "0"
            other.locator(".ws-step").click()
            _wait_tick(other, 1)
            time.sleep(1.0)
            assert _data(page)["tick"] == "3"

            # change the paradigm, Reset, step again: numbers follow the new paradigm
            page.locator(".v-select").filter(has_text=re.compile(r"^\s*Paradigm")).first.click()
            page.locator(".menuable__content__active .v-list-item").filter(
                has_text=re.compile(r"^\s*NPM\s*$")).click()
            page.locator(".ws-reset").click()
            _wait_tick(page, 0, "npm")
            for k in range(1, 4):
                page.locator(".ws-step").click()
                got_npm = _wait_tick(page, k, "npm")
            exp_npm = _expected("npm", 3)
            for key in ("tick", "year", "month", "cost_per_inhabitant"):
                assert got_npm[key] == exp_npm[key], (key, got_npm, exp_npm)
            assert exp_npm["cost_per_inhabitant"] != exp["cost_per_inhabitant"]
            assert _data(other)["tick"] == "1" and _data(other)["paradigm"] == "traditional"

            # Play for a few seconds: months per second with the page redrawing each month
            page.locator(".ws-play").click()
            t = time.perf_counter()
            time.sleep(6.0)
            shown = int(_data(page)["tick"])  # months drawn on the page during 6 s of Play
            dt = time.perf_counter() - t
            page.locator(".ws-play").click()  # pause
            page.locator(".ws-play").filter(has_text=re.compile(r"^\s*play", re.I)).wait_for(
                timeout=TIMEOUT_MS)
            timings["pause_click_to_paused_s"] = time.perf_counter() - t - dt
            assert int(_data(page)["tick"]) >= shown > 3
            timings["play_steps_per_s"] = (shown - 3) / dt

            page.screenshot(path=str(ARTIFACTS / "live.png"), full_page=True)
            assert page.locator("img").first.is_visible()
            assert not page.locator(".ws-error").count()

            # compare view: NPM against network governance on the same seed
            page.locator(".v-select").filter(has_text=re.compile(r"^\s*Compare with")).click()
            page.locator(".menuable__content__active .v-list-item").filter(
                has_text=re.compile(r"^\s*Network governance\s*$")).click()
            page.locator(".ws-reset").click()
            _wait_tick(page, 0, "npm")
            for k in (1, 2):
                page.locator(".ws-step").click()
                _wait_tick(page, k, "npm")
            page.get_by_role("tab", name=re.compile("compare", re.I)).click()
            other_status = page.locator(".ws-status-other")
            other_status.filter(has_text="(month 2)").wait_for(timeout=TIMEOUT_MS)
            other_status.wait_for(state="visible", timeout=TIMEOUT_MS)
            time.sleep(1.0)  # tab transition
            assert other_status.inner_text().startswith("Network governance")
            page.screenshot(path=str(ARTIFACTS / "live-compare.png"), full_page=True)
        finally:
            proc = getattr(getattr(browser, "_impl_obj", None), "_browser_process", None)
            browser_pid = getattr(proc, "pid", None)
            browser.close()
            if browser_pid:
                try:
                    os.kill(browser_pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    assert left_loopback == [], f"requests tried to leave loopback: {left_loopback}"
    assert len(requests) > 5  # the guard saw the page's own requests (scripts, css, ...)
    assert all((urlparse(u).hostname or "") in LOOPBACK or u.startswith(("data:", "blob:"))
               for u in requests)
    (ARTIFACTS / "live-timings.json").write_text(json.dumps(timings, indent=2))
    print(json.dumps(timings, indent=2))
