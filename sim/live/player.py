"""Play, Pause and Step for one tab, off the event loop.

Play runs in a worker thread. A pause token (a ``threading.Event``) is checked before each
frame and wakes every wait, so Pause takes effect before the next frame. The browser tells
when it has drawn a frame (``drawn``); the thread keeps at most one frame in flight, so a slow
or busy browser slows its own tab only and no frames queue up behind a Pause. Plain Python:
``send`` is whatever delivers a frame to the tab (tested without a browser).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

MAX_FPS = 25.0  # frames per second at most (a projector shows no more)
DRAW_TIMEOUT_S = 5.0  # a frame not acknowledged by then is taken as lost (the tab catches up)


class Player:
    """Drives ``session`` (a :class:`sim.live.Session`); ``lock`` guards the session's models."""

    def __init__(self, session, lock: threading.RLock, send: Callable[[dict[str, Any]], None],
                 on_stop: Callable[[], None] | None = None, max_fps: float = MAX_FPS):
        self.session, self.lock, self.send, self.on_stop = session, lock, send, on_stop
        self.interval = 1.0 / max_fps
        self.months_per_frame = 1
        self.pause = threading.Event()  # the pause token: set = paused
        self.pause.set()
        self._cond = threading.Condition()
        self._drawn = 0
        self._sent = 0
        self._thread: threading.Thread | None = None
        self.frames = 0  # frames sent while playing (for tests and the bench)

    # ------------------------------------------------------------------ browser side
    def drawn(self, seq: int) -> None:
        """The tab has drawn frame ``seq``."""
        with self._cond:
            self._drawn = max(self._drawn, int(seq))
            self._cond.notify_all()

    def push(self, full: bool = False) -> bool:
        """Send the months not yet shown (all of them if ``full``); False if none."""
        with self.lock:
            frame = self.session.feed.full() if full else self.session.feed.delta()
        if frame is None:
            return False
        with self._cond:
            self._sent = frame["seq"]
        self.send(frame)
        return True

    # ------------------------------------------------------------------ controls
    @property
    def playing(self) -> bool:
        return not self.pause.is_set()

    def play(self, months_per_frame: int | None = None) -> None:
        if months_per_frame:
            self.months_per_frame = int(months_per_frame)
        if self.playing:
            return
        self.pause.clear()
        self._thread = threading.Thread(target=self._loop, daemon=True,
                                        name="welfare-sim-play")
        self._thread.start()

    def stop(self) -> None:
        """Pause: no new frame starts after this returns."""
        self.pause.set()
        with self._cond:
            self._cond.notify_all()

    def join(self, timeout: float | None = None) -> None:
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join(timeout)

    def step(self, months: int = 1) -> int:
        """One Step (when paused): run ``months`` and send them."""
        with self.lock:
            n = self.session.step(months)
        self.push()
        return n

    # ------------------------------------------------------------------ the loop
    def _wait_drawn(self) -> None:
        deadline = time.monotonic() + DRAW_TIMEOUT_S
        with self._cond:
            while (self._drawn < self._sent and not self.pause.is_set()
                   and time.monotonic() < deadline):
                self._cond.wait(deadline - time.monotonic())

    def _loop(self) -> None:
        try:
            while not self.pause.is_set():  # the pause token, checked before each frame
                t0 = time.monotonic()
                with self.lock:
                    if self.pause.is_set():
                        break
                    n = self.session.step(self.months_per_frame)
                # the model ran while the browser drew the previous frame; send this one
                # when that is drawn (at most one frame in flight; Pause cuts the wait short)
                self._wait_drawn()
                if n:
                    self.frames += 1
                    self.push()
                if n == 0 or not self.session.running:
                    break
                rest = self.interval - (time.monotonic() - t0)
                if rest > 0:
                    self.pause.wait(rest)
        finally:
            self.pause.set()
            if self.on_stop is not None:
                self.on_stop()
