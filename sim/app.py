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
from sim.live.plots import compare_figure, main_figure


@solara.component
def Plot(make, dependencies):
    """A matplotlib figure as PNG, built only when ``dependencies`` change."""
    import io

    from solara.alias import rw

    def png():
        t0 = time.perf_counter()
        buf = io.BytesIO()
        make().savefig(buf, format="png")
        _debug(f"figure {time.perf_counter() - t0:.3f} s, {buf.tell() / 1e3:.0f} kB")
        return buf.getvalue()

    value = solara.use_memo(png, dependencies)
    return rw.Image(value=value, format="png")


def _debug(msg: str) -> None:
    if os.environ.get("WELFARE_SIM_LIVE_DEBUG"):
        print(f"[live {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


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
    solara.SliderInt("Transition starts in", value=int(p.transition_year), min=2016, max=2059,
                     on_value=lambda v: put(transition_year=v))
    solara.SliderFloat("Co-creation mix: thick share", value=float(p.thick_share), min=0.0,
                       max=1.0, step=0.05, on_value=lambda v: put(thick_share=v))
    solara.SliderFloat("Facilitators (FTE per 10,000)", value=float(p.facilitator_fte),
                       min=0.0, max=15.0, step=0.5, on_value=lambda v: put(facilitator_fte=v))
    solara.Checkbox(label="Target low-resource citizens", value=bool(p.targeting),
                    on_value=lambda v: put(targeting=v))
    solara.SliderFloat("Volunteer base (share of adults)", value=float(p.volunteer_share),
                       min=0.01, max=0.15, step=0.005, on_value=lambda v: put(volunteer_share=v))
    solara.SliderFloat("Budget growth per year", value=float(p.budget_growth), min=-0.03,
                       max=0.05, step=0.005, on_value=lambda v: put(budget_growth=v))
    solara.Select(label="Demographic alternative (SSB)", value=p.demography,
                  values=list(DEMOGRAPHY), on_value=lambda v: put(demography=v))
    solara.InputInt("Seed", value=int(p.seed), on_value=lambda v: put(seed=v))
    solara.SliderFloat("Population scale (share of the municipality)", value=float(p.scale),
                       min=MIN_SCALE, max=MAX_SCALE, step=0.005,
                       on_value=lambda v: put(scale=v))
    _paradigm_select("Compare with (same seed)", compare.value, compare.set,
                     none_label="no comparison")
    solara.Text("Changes apply on Reset.", style={"font-size": "0.8em"})


@solara.component
def Page():
    # per tab: use_memo runs once for this tab's render tree
    session = solara.use_memo(Session, [])
    pending = solara.use_reactive(session.params)
    compare = solara.use_reactive(session.compare_to)
    version, set_version = solara.use_state(0)
    playing = solara.use_reactive(False)
    speed = solara.use_reactive("1 month per frame")
    last_step_s = solara.use_reactive(0.0)
    lock = solara.use_memo(threading.Lock, [])

    def redraw():
        set_version(lambda v: v + 1)

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
        while playing.value and not cancel.is_set():
            with lock:
                n = session.step(PLAY_SPEEDS[speed.value])
            if n == 0:
                playing.value = False
                break
            redraw()
            time.sleep(0.05)

    solara.use_thread(play_loop, dependencies=[playing.value])

    model = session.model
    _debug(f"render Page version={version} tick={model.steps}")
    with solara.AppBar():
        solara.AppBarTitle("welfare-sim live: traditional, NPM and network governance")

    with solara.Sidebar(), solara.Column():
        with solara.Card("Run"):
            with solara.Row():
                solara.Button("Reset", color="primary", on_click=do_reset,
                              classes=["ws-reset"])
                solara.Button("Pause" if playing.value else "Play", color="primary",
                              on_click=lambda: playing.set(not playing.value),
                              disabled=not session.running, classes=["ws-play"])
                solara.Button("Step", color="primary", on_click=do_step,
                              disabled=playing.value or not session.running,
                              classes=["ws-step"])
            solara.Select(label="Play speed", value=speed.value, values=list(PLAY_SPEEDS),
                          on_value=speed.set)
        if session.error:
            solara.Error(session.error, classes=["ws-error"])
        with solara.Card("Parameters"):
            Controls(pending, compare)

    s = status(model)
    with solara.Column():
        solara.HTML(tag="div", unsafe_innerHTML=status_text(model, PARADIGM_LABELS.get(
            session.params.paradigm, "")), classes=["ws-status"],
            style={"font-size": "1.1em", "font-weight": "bold"})
        # machine-readable copy of the key numbers (used by the browser test)
        solara.HTML(tag="div", unsafe_innerHTML=(
            f"tick={s['tick']} year={s['year']} month={s['month']} "
            f"cost_per_inhabitant={s.get('cost_per_inhabitant', 0.0):.6g} "
            f"paradigm={session.params.paradigm} version={version}"),
            classes=["ws-data"], style={"font-size": "0.7em", "color": "#888"})
        if last_step_s.value:
            solara.Text(f"last step {last_step_s.value * 1000:.0f} ms",
                        style={"font-size": "0.7em", "color": "#888"})
        with solara.lab.Tabs():
            with solara.lab.Tab("Live"):
                Plot(lambda: main_figure(model, session.net), [version, id(model)])
            with solara.lab.Tab("Compare"):
                if session.other is None:
                    solara.Info("Choose 'Compare with' a second paradigm and press Reset: "
                                "both run on the same seed and step together.")
                else:
                    solara.HTML(tag="div", unsafe_innerHTML=status_text(
                        session.other, PARADIGM_LABELS[session.compare_to]),
                        classes=["ws-status-other"])
                    Plot(lambda: compare_figure(model, session.other),
                         [version, id(model), id(session.other)])
