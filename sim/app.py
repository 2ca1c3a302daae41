"""The live classroom page (``welfare-sim live``), built on Solara.

Each browser tab renders its own ``Page`` and so owns its own :class:`sim.live.Session`
(model, parameters) and :class:`sim.live.player.Player` (Play/Pause/Step). Nothing is shared
between tabs except the read-only scenario and the pool of spare models.

The charts are drawn in the browser (plain canvases) by ``sim/live/charts.vue``; the
page sends them only the months not yet shown (``sim/live/feed.py``), never an image. Play runs
in a worker thread that never blocks the event loop; Pause sets a token checked before each
frame. Controls change the *pending* values, which the page marks until Reset applies them.
"""

from __future__ import annotations

import threading

import solara

from sim.live import (
    DEMOGRAPHY,
    MAX_SCALE,
    MIN_SCALE,
    PARADIGM_LABELS,
    PARADIGMS,
    LiveParams,
    Session,
    pending_changes,
)
from sim.live.player import Player
from sim.live.server import CONFIG, cap_message
from sim.live.widgets import Charts, Status

PLAY_SPEEDS = {"1 month per frame": 1, "3 months per frame": 3, "1 year per frame": 12}

CSS = """
.v-application .v-label, .v-application .v-select__selection, .v-application input {
    font-size: 14px !important; }
.v-application .v-btn { font-size: 14px !important; letter-spacing: 0 !important; }
.ws-changed .v-label, .ws-changed .v-select__selection { color: #b36b00 !important; }
.ws-note { font-size: 14px; color: #444; margin: 4px 0; }
.ws-note-pending { color: #8a5300; font-weight: 600; }
.ws-side { width: 290px; flex: none; }
.ws-main { flex: 1 1 auto; min-width: 0; }
.ws-head { font-size: 20px; font-weight: 600; color: #1565c0; padding: 2px 4px; }
.ws-side .v-card { padding: 8px 10px !important; }
.ws-cap { font-size: 18px; }
"""


def _mark(label: str, changed: bool) -> str:
    return f"● {label}" if changed else label


def _paradigm_select(label, value, on_value, changed, none_label=None):
    values = ([none_label] if none_label else []) + [PARADIGM_LABELS[p] for p in PARADIGMS]
    rev = {PARADIGM_LABELS[p]: p for p in PARADIGMS}
    shown = PARADIGM_LABELS.get(value, none_label)
    solara.Select(label=_mark(label, changed), value=shown, values=values,
                  on_value=lambda v: on_value(rev.get(v, "none")),
                  classes=["ws-changed"] if changed else [])


@solara.component
def Controls(pending: solara.Reactive, compare: solara.Reactive, applied: LiveParams,
             applied_compare: str):
    p = pending.value
    a = applied

    def put(**kw):
        pending.value = p.with_(**kw)

    def cls(*names):
        return ["ws-changed"] if any(getattr(p, n) != getattr(a, n) for n in names) else []

    def ch(*names):
        return bool(cls(*names))

    _paradigm_select("Paradigm", p.paradigm, lambda v: put(paradigm=v), ch("paradigm"))
    _paradigm_select("Switch to (over 5 years)", p.transition_to,
                     lambda v: put(transition_to=v), ch("transition_to"),
                     none_label="no switch")
    solara.SliderInt(_mark(f"Switch starts in {int(p.transition_year)}", ch("transition_year")),
                     value=int(p.transition_year), min=2016, max=2059,
                     on_value=lambda v: put(transition_year=v))
    solara.SliderFloat(_mark(f"Thick co-creation share {p.thick_share:.2f}", ch("thick_share")),
                       value=float(p.thick_share), min=0.0, max=1.0, step=0.05,
                       on_value=lambda v: put(thick_share=v))
    solara.SliderFloat(_mark(f"Facilitators {p.facilitator_fte:.1f} FTE/10,000",
                             ch("facilitator_fte")),
                       value=float(p.facilitator_fte), min=0.0, max=15.0, step=0.5,
                       on_value=lambda v: put(facilitator_fte=v))
    solara.Checkbox(label=_mark("Target low-resource citizens", ch("targeting")),
                    value=bool(p.targeting), on_value=lambda v: put(targeting=v))
    solara.SliderFloat(_mark(f"Volunteers {p.volunteer_share:.1%} of adults",
                             ch("volunteer_share")),
                       value=float(p.volunteer_share), min=0.01, max=0.15, step=0.0005,
                       on_value=lambda v: put(volunteer_share=v))
    solara.SliderFloat(_mark(f"Budget growth {p.budget_growth:+.1%} per year",
                             ch("budget_growth")),
                       value=float(p.budget_growth), min=-0.03, max=0.05, step=0.005,
                       on_value=lambda v: put(budget_growth=v))
    solara.Select(label=_mark("Demography (SSB alternative)", ch("demography")),
                  value=p.demography, values=list(DEMOGRAPHY),
                  on_value=lambda v: put(demography=v), classes=cls("demography"))
    solara.InputInt(_mark("Seed", ch("seed")), value=int(p.seed),
                    on_value=lambda v: put(seed=v), classes=cls("seed"))
    solara.SliderFloat(_mark(f"Population scale 1:{1 / p.scale:.0f}", ch("scale")),
                       value=float(p.scale), min=MIN_SCALE, max=MAX_SCALE, step=0.005,
                       on_value=lambda v: put(scale=v))
    _paradigm_select("Compare with (same seed)", compare.value, compare.set,
                     compare.value != applied_compare, none_label="no comparison")


def _spec(session: Session, lock) -> dict:
    """The charts' layout for the current Reset, with everything run so far (so the first
    drawing needs no round trip)."""
    with lock:
        return {**session.feed.spec(), "frame0": session.feed.full()}


@solara.component
def Page():
    # one slot of the session cap per tab, given back when the tab's kernel closes
    slot = solara.use_memo(CONFIG.cap.acquire, [])

    def hold():
        return CONFIG.cap.release if slot else None

    solara.use_effect(hold, [])
    solara.Style(CSS)
    if not slot:
        solara.Error(cap_message(CONFIG.cap.limit), classes=["ws-cap"])
        return
    Live()


@solara.component
def Live():
    import solara.server.kernel_context as kc

    ctx = solara.use_memo(kc.get_current_context, [])
    session = solara.use_memo(lambda: Session(pool=CONFIG.pool), [])
    lock = solara.use_memo(threading.RLock, [])
    box = solara.use_memo(dict, [])  # the tab's Charts widget, once mounted
    playing = solara.use_reactive(False)

    def send(frame):
        widget = box.get("charts")
        if widget is not None:
            with ctx:
                widget.send_frame(frame)

    def stopped():
        with ctx:
            playing.value = False
            running.value = session.running

    player = solara.use_memo(lambda: Player(session, lock, send, on_stop=stopped), [])
    pending = solara.use_reactive(session.params)
    compare = solara.use_reactive(session.compare_to)
    applied, set_applied = solara.use_state((session.params, session.compare_to))
    first_spec = solara.use_memo(lambda: _spec(session, lock), [])
    spec, set_spec = solara.use_state(first_spec)
    speed = solara.use_reactive("1 month per frame")
    error, set_error = solara.use_state(None)
    running = solara.use_reactive(True)

    changes = pending_changes(applied[0], pending.value, applied[1], compare.value)
    charts_el = None  # created in the layout below; the effect runs after this render

    def connect():
        widget = solara.get_widget(charts_el)
        widget.on_drawn = player.drawn
        widget.on_resync = lambda: player.push(full=True)
        box["charts"] = widget

        def closed():
            box.pop("charts", None)
            player.stop()

        return closed

    solara.use_effect(connect, [])
    # the parameter controls (many widgets) come in a second pass: the charts show sooner
    controls_shown, show_controls = solara.use_state(False)
    solara.use_effect(lambda: show_controls(True), [])

    def toggle_play():
        if player.playing:
            player.stop()
            playing.value = False
        else:
            playing.value = True
            player.play(PLAY_SPEEDS[speed.value])

    def do_step():
        player.step(1)
        running.value = session.running

    def do_reset():
        player.stop()
        playing.value = False
        player.join(2.0)
        with lock:
            ok = session.reset(pending.value, compare.value)
        if ok:
            set_applied((session.params, session.compare_to))
            set_spec(_spec(session, lock))
            running.value = True
        set_error(session.error)

    def set_speed(v):
        speed.value = v
        player.months_per_frame = PLAY_SPEEDS[v]

    with solara.Row(gap="12px", style={"align-items": "flex-start", "flex-wrap": "nowrap"}):
        with solara.Column(gap="6px", classes=["ws-side"]):
            solara.HTML(tag="div", unsafe_innerHTML="welfare-sim live", classes=["ws-head"])
            with solara.Card(margin=0):
                with solara.Row(gap="6px"):
                    n = len(changes)
                    solara.Button(f"Reset ({n})" if n else "Reset",
                                  color="warning" if n else "primary", on_click=do_reset,
                                  classes=["ws-reset"])
                    solara.Button("Pause" if playing.value else "Play", color="primary",
                                  on_click=toggle_play,
                                  disabled=not running.value and not playing.value,
                                  classes=["ws-play"])
                    solara.Button("Step", color="primary", on_click=do_step,
                                  disabled=playing.value or not running.value,
                                  classes=["ws-step"])
                solara.Select(label="Play speed", value=speed.value, values=list(PLAY_SPEEDS),
                              on_value=set_speed)
            if error:
                solara.Error(error, classes=["ws-error"])
            with solara.Card(margin=0):
                if changes:
                    solara.HTML(tag="div", unsafe_innerHTML="● changed: applies on Reset",
                                classes=["ws-note", "ws-note-pending"])
                else:
                    solara.HTML(tag="div", unsafe_innerHTML="Changes apply on Reset.",
                                classes=["ws-note"])
                if controls_shown:
                    Controls(pending, compare, applied[0], applied[1])
        with solara.Column(gap="4px", classes=["ws-main"]):
            Status.element(pending=changes)
            charts_el = Charts.element(spec=spec)
