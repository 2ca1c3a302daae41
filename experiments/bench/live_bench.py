"""Benchmark of the live page as a class uses it: ``welfare-sim live`` on the classroom
scenario, driven by headless Chromium (Debian's ``chromium`` through Playwright's Python
driver; no browser download). Prints one JSON object:

- ``first_render_s``: from opening the page until the charts have drawn the first frame;
- ``step_s``: from a Step click until the page shows the new month (median of 5; ``step_max_s``);
- ``play_fps``: months shown per second during Play at one month a frame;
- ``pause_s``: from the Pause click until the month shown stops advancing;
- ``tabs30_min_fps`` / ``tabs30_mean_fps``: 30 tabs (each its own browser context and model)
  all playing at once, the slowest tab's and the mean frames per second;
- ``tabs30_errors``: tabs that failed to load, disconnected, or logged a page error;
- ``load_before`` / ``load_after``: the machine's 1-minute load average.

Run:  .venv/bin/python experiments/bench/live_bench.py [--tabs 30] [--seconds 20]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("WELFARE_SIM_CHROMIUM", "/usr/bin/chromium")
CHROME_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run", "--disable-sync",
               "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
               "--disable-backgrounding-occluded-windows"]
TIMEOUT_MS = 120_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int, max_sessions: int, log: Path) -> tuple[subprocess.Popen, float]:
    exe = Path(sys.executable).with_name("welfare-sim")
    t0 = time.perf_counter()
    out = open(log, "w")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen([str(exe), "live", "--port", str(port), "--max-sessions",
                             str(max_sessions)], stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    deadline = time.time() + 180
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()}")
        if "welfare-sim live:" in log.read_text():
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return proc, time.perf_counter() - t0
            except OSError:
                pass
        time.sleep(0.1)
    raise RuntimeError("server did not start")


def tick(page) -> int:
    v = page.evaluate("() => { const e = document.querySelector('.ws-status');"
                      " return e ? e.getAttribute('data-tick') : null; }")
    return int(v) if v not in (None, "") else -1


def wait_tick(page, want: int, timeout_s: float = 60.0) -> float:
    page.wait_for_function(f"() => {{ const e = document.querySelector('.ws-status');"
                           f" return e && e.getAttribute('data-tick') === '{want}'; }}",
                           timeout=timeout_s * 1000, polling=5)
    return time.perf_counter()


def open_tab(browser, url: str, errors: list[str]):
    ctx = browser.new_context(viewport={"width": 1024, "height": 768})
    page = ctx.new_page()
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    t0 = time.perf_counter()
    page.goto(url, timeout=TIMEOUT_MS)
    page.wait_for_function("() => window.wsCharts && window.wsCharts.ws.lastSeq > 0 &&"
                           " document.querySelector('.ws-status[data-tick=\"0\"]')",
                           timeout=TIMEOUT_MS, polling=20)
    return ctx, page, time.perf_counter() - t0


def click(page, selector: str, errors: list[str]) -> None:
    """A click that waits up to 2 minutes for a busy tab, and is counted if it fails."""
    try:
        page.locator(selector).click(timeout=TIMEOUT_MS)
    except Exception as exc:  # noqa: BLE001 - counted, reported
        errors.append(f"click {selector}: {type(exc).__name__}")


def progress(out: dict[str, object]) -> None:
    """The figures so far, on stderr (a long run under load can be followed and cut short)."""
    print(json.dumps(out), file=sys.stderr, flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tabs", type=int, default=30)
    ap.add_argument("--seconds", type=float, default=20.0, help="measured Play per tab")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    out: dict[str, object] = {"load_before": round(os.getloadavg()[0], 2),
                              "cpus": os.cpu_count()}
    port = free_port()
    log = ROOT / "test-artifacts" / "live-bench-server.log"
    log.parent.mkdir(exist_ok=True)
    proc, ready_s = start_server(port, max(40, args.tabs + 2), log)
    out["server_ready_s"] = round(ready_s, 2)
    url = f"http://127.0.0.1:{port}/"
    errors: list[str] = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROME_ARGS,
                                         headless=True)
            ctx, page, first = open_tab(browser, url, errors)
            out["first_render_s"] = round(first, 2)
            steps = []
            for k in range(1, 6):
                t = time.perf_counter()
                page.locator(".ws-step").click()
                steps.append(wait_tick(page, k) - t)
            out["step_s"] = round(statistics.median(steps), 3)
            out["step_max_s"] = round(max(steps), 3)

            page.locator(".ws-play").click()
            page.wait_for_timeout(1500)
            a, ta = tick(page), time.perf_counter()
            page.wait_for_timeout(6000)
            b, tb = tick(page), time.perf_counter()
            out["play_fps"] = round((b - a) / (tb - ta), 1)
            t_click = time.perf_counter()
            page.locator(".ws-play").click()
            last, last_change = tick(page), t_click
            quiet_since = time.perf_counter()
            while time.perf_counter() - quiet_since < 1.5:
                now = tick(page)
                if now != last:
                    last, last_change = now, time.perf_counter()
                    quiet_since = last_change
                time.sleep(0.01)
            out["pause_s"] = round(max(0.0, last_change - t_click), 3)
            progress(out)
            ctx.close()

            # a class: N tabs, each its own context (a student's browser) and model
            tabs = []
            t_open = time.perf_counter()
            for _ in range(args.tabs):
                try:
                    tabs.append(open_tab(browser, url, errors)[:2])
                except Exception as exc:  # noqa: BLE001 - counted, reported
                    errors.append(f"open: {type(exc).__name__}: {str(exc)[:200]}")
            out["tabs_open_s"] = round(time.perf_counter() - t_open, 1)
            progress(out)
            for _, p in tabs:
                click(p, ".ws-play", errors)
            time.sleep(5.0)  # all playing
            start = [(tick(p), time.perf_counter()) for _, p in tabs]
            time.sleep(args.seconds)
            fps = []
            for (_, p), (t0, s0) in zip(tabs, start, strict=True):
                fps.append((tick(p) - t0) / (time.perf_counter() - s0))
            disconnected = 0
            for _, p in tabs:
                text = p.evaluate("() => document.body.innerText")
                if re.search(r"disconnected|refresh|Could not", text, re.I):
                    disconnected += 1
                click(p, ".ws-play", errors)
            out["tabs"] = len(tabs)
            out["tabs30_min_fps"] = round(min(fps), 2) if fps else 0.0
            out["tabs30_mean_fps"] = round(sum(fps) / len(fps), 2) if fps else 0.0
            out["tabs30_errors"] = (args.tabs - len(tabs)) + disconnected + len(
                [e for e in errors if e.startswith(("pageerror", "click"))])
            for c, _ in tabs:
                c.close()
            browser.close()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
    out["load_after"] = round(os.getloadavg()[0], 2)
    if errors:
        out["error_samples"] = errors[:5]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
