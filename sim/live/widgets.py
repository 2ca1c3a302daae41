"""The live page's two browser components (Vue templates for ipyvue): the charts, drawn on
plain canvases in the browser from the feed's frames (no chart library to load), and the status
line. Nothing is loaded from the internet."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipyvue
import traitlets


class Charts(ipyvue.VueTemplate):
    """``spec`` (set once per Reset) lays the panels out; frames arrive as custom messages
    (``send_frame``) and carry only new points; the browser answers ``drawn`` after drawing
    and ``resync`` when it needs everything again (after a Reset or a lost frame)."""

    template_file = (__file__, "charts.vue")
    spec = traitlets.Dict(default_value={}).tag(sync=True)

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.on_drawn: Callable[[int], None] | None = None
        self.on_resync: Callable[[], None] | None = None

    def send_frame(self, frame: dict[str, Any]) -> None:
        self.send({"method": "frame", "args": [frame]})

    def vue_drawn(self, data: dict[str, Any] | None = None) -> None:
        if self.on_drawn is not None and data:
            self.on_drawn(int(data.get("seq", 0)))

    def vue_resync(self, data: dict[str, Any] | None = None) -> None:
        if self.on_resync is not None:
            self.on_resync()


class Status(ipyvue.VueTemplate):
    """The line above the charts: the month shown and key numbers (from the charts' frames) and
    the controls changed since the last Reset (``pending``)."""

    template_file = (__file__, "status.vue")
    pending = traitlets.List(default_value=[]).tag(sync=True)
