"""The live page's server side that is not the page itself: who may connect (Host/Origin
guard), how many tabs at once (session cap), a pool of spare models so a new tab starts at
once, and the uvicorn process (``welfare-sim live``).

Only :func:`serve` imports Solara/uvicorn; the rest is plain Python and tested directly.
"""

from __future__ import annotations

import ipaddress
import logging
import logging.config
import os
import threading
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_MAX_SESSIONS = 40
IDLE_CULL = "2m"  # a tab whose browser went away keeps its model this long, then it is dropped
POOL_SIZE = 2
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}


def cap_message(limit: int) -> str:
    return (f"This page already serves {limit} open tabs, the most this server allows "
            f"(welfare-sim live --max-sessions {limit}). Close a tab you no longer use, or ask "
            "the teacher to restart with a higher --max-sessions, then reload this page.")


class SessionCap:
    """Counts open tabs; past ``limit`` a new tab gets :func:`cap_message` instead of a model."""

    def __init__(self, limit: int = DEFAULT_MAX_SESSIONS):
        self.limit = int(limit)
        self.open = 0
        self._lock = threading.Lock()

    def acquire(self) -> bool:
        with self._lock:
            if self.open >= self.limit:
                return False
            self.open += 1
            return True

    def release(self) -> None:
        with self._lock:
            self.open = max(0, self.open - 1)


# ---------------------------------------------------------------------- Host / Origin guard
def _host_only(value: str) -> str:
    """'example.org:8000' -> 'example.org'; '[::1]:80' -> '::1'."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:].split("]", 1)[0]
    if value.count(":") == 1:
        return value.split(":", 1)[0]
    return value


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@dataclass
class HostPolicy:
    """Which Host headers the server answers. Bound to loopback (the default), only loopback
    names; bound to the network (``--host 0.0.0.0``), also any IP address (students type the
    teacher's address). Other names only with ``--allow-host`` -- a page answering any name
    could be reached from a malicious web page through DNS rebinding."""

    bind: str = "127.0.0.1"
    extra: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.extra = {_host_only(h) for h in self.extra}

    @property
    def network(self) -> bool:
        return self.bind not in LOOPBACK_NAMES

    def host_ok(self, host_header: str | None) -> bool:
        if not host_header:
            return False
        host = _host_only(host_header)
        if host in LOOPBACK_NAMES or host in self.extra or host == _host_only(self.bind):
            return True
        return self.network and _is_ip(host)

    def origin_ok(self, origin: str | None, host_header: str | None) -> bool:
        """A browser's Origin must name the page's own host (no cross-site socket)."""
        if origin is None:
            return True  # not a browser request (curl, tests)
        from urllib.parse import urlparse

        o = urlparse(origin)
        if o.scheme not in ("http", "https") or not o.hostname:
            return False
        return _host_only(o.netloc) == _host_only(host_header or "") and self.host_ok(o.netloc)


class HostGuard:
    """ASGI middleware: answers 403 to a request whose Host or Origin the policy refuses."""

    def __init__(self, app: Callable, policy: HostPolicy):
        self.app, self.policy = app, policy

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] in ("http", "websocket"):
            headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                       for k, v in scope.get("headers", [])}
            host, origin = headers.get("host"), headers.get("origin")
            if not (self.policy.host_ok(host) and self.policy.origin_ok(origin, host)):
                await _refuse(scope, receive, send, host, origin)
                return
        await self.app(scope, receive, send)


async def _refuse(scope: dict, receive: Callable, send: Callable, host, origin) -> None:
    body = (f"welfare-sim live: refused a request for host {host!r} (origin {origin!r}). "
            "Open the address the server printed, or start it with --allow-host NAME.\n"
            ).encode()
    if scope["type"] == "websocket":
        await receive()  # websocket.connect
        await send({"type": "websocket.close", "code": 1008})
        return
    await send({"type": "http.response.start", "status": 403,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


# ---------------------------------------------------------------------- spare models
class ModelPool:
    """Ready-built models for the page's default settings: a new tab (or a Reset that changed
    nothing) takes one at once; a background thread builds the next. ``build`` makes one."""

    def __init__(self, build: Callable[[Any], Any], size: int = POOL_SIZE):
        self.build, self.size = build, size
        self._spare: dict[Any, list[Any]] = {}
        self._lock = threading.Lock()
        self._busy = threading.Lock()

    def take(self, key: Any) -> Any:
        with self._lock:
            spare = self._spare.get(key)
            item = spare.pop() if spare else None
        if item is None:
            item = self.build(key)
        self.refill(key, background=True)
        return item

    def ready(self, key: Any) -> int:
        with self._lock:
            return len(self._spare.get(key, []))

    def refill(self, key: Any, background: bool = False) -> None:
        if background:
            threading.Thread(target=self.refill, args=(key,), daemon=True,
                             name="welfare-sim-pool").start()
            return
        if not self._busy.acquire(blocking=False):
            return  # one builder at a time; it fills the pool up
        try:
            while self.ready(key) < self.size:
                item = self.build(key)
                with self._lock:
                    self._spare.setdefault(key, []).append(item)
        finally:
            self._busy.release()


# ---------------------------------------------------------------------- the process
@dataclass
class Config:
    """What ``welfare-sim live`` set for this process (read by sim/app.py)."""

    max_sessions: int = DEFAULT_MAX_SESSIONS
    cap: SessionCap = field(default_factory=SessionCap)
    pool: ModelPool | None = None


CONFIG = Config()


def quiet_logging() -> dict[str, Any]:
    """uvicorn/solara log config: errors only, no per-request lines, no cookie warnings."""
    warnings.filterwarnings("ignore", module=r"solara\..*")
    warnings.filterwarnings("ignore", message=r".*[Cc]ookie.*")
    fmt = {"format": "welfare-sim live: %(levelname)s %(name)s: %(message)s"}
    return {
        "version": 1, "disable_existing_loggers": False,
        "formatters": {"plain": fmt},
        "handlers": {"err": {"class": "logging.StreamHandler", "formatter": "plain",
                             "stream": "ext://sys.stderr"}},
        "loggers": {name: {"handlers": ["err"], "level": "ERROR", "propagate": False}
                    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "solara",
                                 "reacton", "solara.server", "solara.server.app")},
    }


def page_url(host: str, port: int) -> str:
    """The address to open: loopback for a server on every address, an IPv6 literal in
    brackets (``http://::1:8000/`` is not a URL a browser opens)."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


def serve(scenario: Path, host: str, port: int, allow_hosts: Iterable[str],
          max_sessions: int, announce: Callable[[str], None], env: dict[str, str]) -> None:
    """Pre-warm a model, then run Solara's app under uvicorn behind the Host guard."""
    os.environ.update(env)
    os.environ["SOLARA_APP"] = "sim.app"
    os.environ["SERVER_NAME"], os.environ["SERVER_PORT"] = host, str(port)
    log_config = quiet_logging()
    logging.config.dictConfig(log_config)

    from sim.live import pool_key, session_parts

    CONFIG.max_sessions = max_sessions
    CONFIG.cap = SessionCap(max_sessions)
    CONFIG.pool = ModelPool(session_parts, size=POOL_SIZE)
    CONFIG.pool.refill(pool_key(), background=False)  # the first tab need not wait

    import solara.server.settings as ss
    import uvicorn

    ss.main.mode = "production"
    ss.telemetry.mixpanel_enable = False
    ss.theme.show_banner = False  # no 'runs on Solara' badge over the charts
    ss.kernel.cull_timeout = IDLE_CULL  # a closed tab's model is dropped after this
    from solara.server.starlette import app as solara_app

    import sim.app  # noqa: F401  (imported now, not on the first tab's request)

    policy = HostPolicy(bind=host, extra=set(allow_hosts))
    config = uvicorn.Config(HostGuard(solara_app, policy), host=host, port=port,
                            log_config=log_config, log_level="error", access_log=False,
                            ws_ping_interval=20, ws_ping_timeout=60, timeout_graceful_shutdown=2,
                            # frames are a few hundred bytes on a local network: compressing
                            # them cost the server ~4 % of its CPU and the browser the same
                            ws_per_message_deflate=False)
    server = uvicorn.Server(config)
    announce(page_url(host, port))
    server.run()
