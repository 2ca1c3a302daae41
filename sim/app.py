"""The live classroom page (``welfare-sim live``): a Solara page in Mesa's SolaraViz layout.

Each browser tab renders its own ``Page`` and so owns its own :class:`sim.live.Session`
(model, parameters, play state): nothing is shared between tabs except the read-only scenario
file. Controls change the *pending* parameters; they apply on Reset. Built on Solara directly
(with Mesa's ``update_counter`` for redraws) rather than ``mesa.visualization.SolaraViz``,
whose Reset rebuilds models from keyword arguments and treats a model's ``.scenario`` as a
``mesa.experimental.Scenario`` -- ours is a ``sim.scenario.Scenario`` -- and which has no
side-by-side compare view.
"""

from __future__ import annotations

import os
import sys
import threading
import time

import solara

from sim.live import (
    DEMOGRAPHY,
    MAX_SCALE,
    MIN_SCALE,
    PARADIGM_LABELS,
    PARADIGMS,
    Session,
    status,
    status_text,
)


class Frames:
    """Paces Play: the play thread waits until the frame it asked for has been drawn."""

    def __init__(self) -> None:
        self.asked = 0
        self.drawn = -1
        self.cond = threading.Condition()

    def ask(self) -> int:
        with self.cond:
            self.asked += 1
            return self.asked

    def done(self, version: int) -> None:
        with self.cond:
            self.drawn = max(self.drawn, version)
            self.cond.notify_all()

    def wait(self, version: int, timeout: float = 10.0) -> None:
        with self.cond:
            self.cond.wait_for(lambda: self.drawn >= version, timeout=timeout)


@solara.component
def Plot(make, lock, version, dependencies, frames=None):
    """A matplotlib figure as PNG, built (under the session lock) only when ``version`` or
    ``dependencies`` change; tells ``frames`` which version is drawn (paces Play)."""
    import io

    from solara.alias import rw

    def png():
        t0 = time.perf_counter()
        buf = io.BytesIO()
        with lock:
            fig = make()
            t1 = time.perf_counter()
            fig.savefig(buf, format="png", pil_kwargs={"compress_level": 1})
        _debug(f"figure v{version}: {t1 - t0:.3f} + png {time.perf_counter() - t1:.3f} s, "
               f"{buf.tell() / 1e3:.0f} kB")
        return buf.getvalue()

    value = solara.use_memo(png, [version, *dependencies])

    def drawn():
        # an effect runs after the render pass is committed: only then may the play thread
        # change state again (changing it during the pass makes reacton re-render in a loop)
        if frames is not None:
            frames.done(version)

    solara.use_effect(drawn, [version])
    return rw.Image(value=value, format="png")


def _debug(msg: str) -> None:
    if os.environ.get("WELFARE_SIM_LIVE_DEBUG"):
        print(f"[live {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


PLAY_PAUSE_S = 0.25
PLAY_SPEEDS = {"1 month per frame": 1, "3 months per frame": 3, "1 year per frame": 12}


def _paradigm_select(label, value, on_value, none_label=None):
    values = ([none_label] if none_label else []) + [PARADIGM_LABELS[p] for p in PARADIGMS]
    rev = {PARADIGM_LABELS[p]: p for p in PARADIGMS}
    shown = PARADIGM_LABELS.get(value, none_label)
    solara.Select(label=label, value=shown, values=values,
                  on_value=lambda v: on_value(rev.get(v, "none")))


@solara.component
def Controls(pending: solara.Reactive, compare: solara.Reactive):
    p = pending.value

    def put(**kw):
        pending.value = p.with_(**kw)

    _paradigm_select("Paradigm", p.paradigm, lambda v: put(paradigm=v))
    _paradigm_select("Transition to (over 5 years)", p.transition_to,
                     lambda v: put(transition_to=v), none_label="no transition")
    solara.SliderInt(f"Transition starts in {int(p.transition_year)}", value=int(p.transition_year), min=2016, max=2059,
                     on_value=lambda v: put(transition_year=v))
    solara.SliderFloat(f"Co-creation mix: thick share {p.thick_share:.2f}", value=float(p.thick_share), min=0.0,
                       max=1.0, step=0.05, on_value=lambda v: put(thick_share=v))
    solara.SliderFloat(f"Facilitators: {p.facilitator_fte:.1f} FTE per 10,000", value=float(p.facilitator_fte),
                       min=0.0, max=15.0, step=0.5, on_value=lambda v: put(facilitator_fte=v))
    solara.Checkbox(label="Target low-resource citizens", value=bool(p.targeting),
                    on_value=lambda v: put(targeting=v))
    solara.SliderFloat(f"Volunteers: {p.volunteer_share:.1%} of adults", value=float(p.volunteer_share),
                       min=0.01, max=0.15, step=0.005, on_value=lambda v: put(volunteer_share=v))
    solara.SliderFloat(f"Budget growth: {p.budget_growth:+.1%} per year", value=float(p.budget_growth), min=-0.03,
                       max=0.05, step=0.005, on_value=lambda v: put(budget_growth=v))
    solara.Select(label="Demographic alternative (SSB)", value=p.demography,
                  values=list(DEMOGRAPHY), on_value=lambda v: put(demography=v))
    solara.InputInt("Seed", value=int(p.seed), on_value=lambda v: put(seed=v))
    solara.SliderFloat(f"Population scale: 1:{1 / p.scale:.0f}", value=float(p.scale),
                       min=MIN_SCALE, max=MAX_SCALE, step=0.005,
                       on_value=lambda v: put(scale=v))
    _paradigm_select("Compare with (same seed)", compare.value, compare.set,
                     none_label="no comparison")
    solara.Text("Changes apply on Reset.", style={"font-size": "0.8em"})


@solara.component
def Page():
    # one Session per browser tab: use_memo runs once per tab's render tree (kernel)
    session = solara.use_memo(Session, [])
    lock = solara.use_memo(threading.RLock, [])
    frames = solara.use_memo(Frames, [])
    pending = solara.use_reactive(session.params)
    compare = solara.use_reactive(session.compare_to)
    version, set_version = solara.use_state(0)
    playing = solara.use_reactive(False)
    speed = solara.use_reactive("1 month per frame")
    last_step_s = solara.use_reactive(0.0)
    tab = solara.use_reactive(0)

    def redraw() -> int:
        v = frames.ask()
        set_version(v)
        return v

    def do_step():
        t0 = time.perf_counter()
        with lock:
            session.step(1)
        last_step_s.value = time.perf_counter() - t0
        redraw()

    def do_reset():
        playing.value = False
        with lock:
            session.reset(pending.value, compare.value)
        redraw()

    def play_loop(cancel: threading.Event):
        # one frame at a time: step, ask for a redraw, wait until the figure is drawn
        while playing.value and not cancel.is_set():
            with lock:
                n = session.step(PLAY_SPEEDS[speed.value])
            if n == 0:
                playing.value = False
            frames.wait(redraw())
            if n == 0:
                break
            # let the tab's own events (Pause, Reset) in between frames
            cancel.wait(PLAY_PAUSE_S)

    solara.use_thread(play_loop, dependencies=[playing.value])

    def _toggle():
        _debug(f"toggle play (was {playing.value})")
        playing.value = not playing.value

    toggle_play = solara.use_memo(lambda: _toggle, [])  # one handler for the tab's lifetime

    with lock:  # a consistent snapshot: never read a model mid-step
        model, other = session.model, session.other
        s = status(model)
        text = status_text(model, PARADIGM_LABELS.get(session.params.paradigm, ""))
        other_text = (status_text(other, PARADIGM_LABELS[session.compare_to])
                      if other is not None else "")
        running, error = session.running, session.error
    _debug(f"render Page version={version} tick={s['tick']}")

    with solara.AppBar():
        solara.AppBarTitle("welfare-sim live: traditional, NPM and network governance")

    with solara.Sidebar(), solara.Column():
        with solara.Card("Run"):
            with solara.Row():
                solara.Button("Reset", color="primary", on_click=do_reset,
                              classes=["ws-reset"])
                solara.Button("Pause" if playing.value else "Play", color="primary",
                              on_click=toggle_play,
                              disabled=not running, classes=["ws-play"])
                solara.Button("Step", color="primary", on_click=do_step,
                              disabled=playing.value or not running, classes=["ws-step"])
            solara.Select(label="Play speed", value=speed.value, values=list(PLAY_SPEEDS),
                          on_value=speed.set)
        if error:
            solara.Error(error, classes=["ws-error"])
        with solara.Card("Parameters"):
            Controls(pending, compare)

    with solara.Column():
        solara.HTML(tag="div", unsafe_innerHTML=text, classes=["ws-status"],
                    style={"font-size": "1.1em", "font-weight": "bold"})
        # machine-readable copy of the key numbers (used by the browser test)
        solara.HTML(tag="div", unsafe_innerHTML=(
            f"tick={s['tick']} year={s['year']} month={s['month']} "
            f"cost_per_inhabitant={s.get('cost_per_inhabitant', 0.0):.6g} "
            f"paradigm={session.params.paradigm} version={version}"),
            classes=["ws-data"], style={"font-size": "0.7em", "color": "#888"})
        if last_step_s.value:
            solara.Text(f"last model step {last_step_s.value * 1000:.0f} ms",
                        style={"font-size": "0.7em", "color": "#888"})
        with solara.lab.Tabs(value=tab, lazy=True):  # lazy: only the shown tab is drawn
            with solara.lab.Tab("Live"):
                Plot(session.figure, lock, version, [id(model)], frames)
            with solara.lab.Tab("Compare"):
                if other is None:
                    frames.done(version)
                    solara.Info("Choose 'Compare with' a second paradigm and press Reset: "
                                "both run on the same seed and step together.")
                else:
                    solara.HTML(tag="div", unsafe_innerHTML=other_text,
                                classes=["ws-status-other"])
                    Plot(session.compare_figure, lock, version, [id(model), id(other)], frames)
