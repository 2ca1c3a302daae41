"""``welfare-sim live`` (the classroom page) and ``welfare-sim animate`` (the same plots as a
GIF/MP4 for slides)."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path
from typing import Annotated

import typer

from sim.errors import InputError
from sim.live.server import DEFAULT_MAX_SESSIONS

# Solara settings for offline use: browser assets come from the solara-assets package
# (installed under <venv>/share/solara/cdn and served by the server at /_solara/cdn); the
# upstream CDN is replaced by an unroutable loopback address so a missing asset fails at
# once instead of reaching the internet; no telemetry, no version check.
OFFLINE_ENV = {
    "SOLARA_ASSETS_PROXY": "true",
    "SOLARA_ASSETS_CDN": "http://127.0.0.1:9/",
    "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false",
}


def free_port(host: str = "127.0.0.1") -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def check_host(host: str) -> str:
    """An address this machine can listen on (an InputError naming --host otherwise)."""
    if not host or len(host) > 255 or any(c.isspace() or ord(c) < 32 for c in host):
        raise InputError(f"--host {host!r}: not an address. Expected 127.0.0.1 (this "
                         "computer), 0.0.0.0 (the room's network) or another local address.")
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise InputError(f"--host {host!r}: cannot be resolved ({exc}). Expected 127.0.0.1 "
                         "(this computer) or 0.0.0.0 (the room's network).") from None
    for family, _, _, _, addr in infos:
        try:
            with socket.socket(family, socket.SOCK_STREAM) as s:
                s.bind((addr[0], 0))
            return host
        except OSError:
            continue
    raise InputError(f"--host {host!r}: not an address of this computer. Expected 127.0.0.1 "
                     "(this computer) or 0.0.0.0 (the room's network).")


def offline_assets_dir() -> Path:
    """Where solara-assets put the browser files (checked before starting the server)."""
    return Path(sys.prefix) / "share" / "solara" / "cdn"


def register(app: typer.Typer) -> None:
    @app.command()
    def live(
        scenario: Annotated[Path | None, typer.Argument(help="Scenario TOML (default: "
                                                        "scenarios/classroom.toml)")] = None,
        port: Annotated[int | None, typer.Option(help="Port (default: a free one)")] = None,
        host: Annotated[str, typer.Option(help="Address to listen on. The default, 127.0.0.1, "
                                          "serves this computer only; 0.0.0.0 opens the page "
                                          "to everyone on the room's network (no password: "
                                          "anyone who can reach the port can use it)")
                        ] = "127.0.0.1",
        allow_host: Annotated[list[str] | None, typer.Option(
            "--allow-host", help="Also answer requests for this host name (repeatable), e.g. "
            "the laptop's name on the school network; IP addresses need no flag")] = None,
        max_sessions: Annotated[int, typer.Option(
            help="Most tabs served at once; a tab past it gets a message instead of a "
            "model")] = DEFAULT_MAX_SESSIONS,
    ) -> None:
        """Start the live classroom page and print its URL (Ctrl+C stops it)."""
        from sim.live import DEFAULT_SCENARIO, SCENARIO_ENV, base_scenario, check_scenario
        from sim.live.server import IDLE_CULL, serve
        from sim.scenario import find_scenario

        try:
            path = find_scenario(scenario or DEFAULT_SCENARIO).resolve()
        except (OSError, RuntimeError) as exc:
            raise InputError(f"{scenario}: cannot be resolved ({exc}). Expected a scenario "
                             "TOML file.") from None
        # Solara reads its settings when first imported: set them before that
        os.environ.update({**OFFLINE_ENV, SCENARIO_ENV: str(path),
                           "SOLARA_KERNEL_CULL_TIMEOUT": IDLE_CULL,
                           "SOLARA_THEME_SHOW_BANNER": "false"})
        try:
            import solara  # noqa: F401
        except ModuleNotFoundError as exc:
            raise InputError("the live page needs the 'live' extra: pip install "
                             "'welfare-sim[live]'") from exc
        sc = base_scenario(path)  # validate now: a clear error instead of a broken page
        if port is not None and not (0 < port < 65536):
            raise InputError(f"--port {port}: expected 1-65535.")
        check_host(host)
        check_scenario(sc, path)  # a scenario the page cannot run is refused at start
        if not (1 <= max_sessions <= 500):
            raise InputError(f"--max-sessions {max_sessions}: expected 1-500.")
        if not offline_assets_dir().is_dir():
            typer.echo(f"warning: no offline browser assets in {offline_assets_dir()}; "
                       "install solara-assets (pip install 'welfare-sim[live]')", err=True)
        port = port or free_port({"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host))
        if host in ("0.0.0.0", "::"):
            typer.echo("warning: --host 0.0.0.0 serves everyone on this network, without a "
                       "password; use it on the classroom network only.", err=True)

        def announce(url: str) -> None:
            typer.echo(f"welfare-sim live: {path.name} at {url}  (Ctrl+C stops)")
            sys.stdout.flush()

        serve(path, host, port, allow_host or [], max_sessions, announce, {})

    @app.command()
    def animate(
        scenario: Annotated[Path, typer.Argument(help="Scenario TOML file")],
        out: Annotated[Path, typer.Option("--out", help="Output .gif or .mp4")],
        seed: Annotated[int | None, typer.Option(help="Random seed (default: the "
                                                 "scenario's)")] = None,
        months_per_frame: Annotated[int, typer.Option(help="Months run between "
                                                      "frames")] = 12,
        years: Annotated[int | None, typer.Option(help="Stop after this many years "
                                                  "(default: the whole run)")] = None,
        fps: Annotated[int, typer.Option(help="Frames per second")] = 4,
        paradigm: Annotated[str | None, typer.Option(help="traditional, npm or "
                                                     "network_governance")] = None,
    ) -> None:
        """Write the live page's plots as an animation (GIF via Pillow, MP4 via ffmpeg)."""
        from sim.cli.common import progress_bar
        from sim.live.animate import animate as run_animation

        with progress_bar(f"animate {scenario}", 1, unit="months") as cb:
            frames = run_animation(scenario, out, seed=seed, months_per_frame=months_per_frame,
                                   years=years, fps=fps, paradigm=paradigm,
                                   progress=lambda d, t: cb(d, t))
        typer.echo(f"wrote {out} ({frames} frames)")
