"""``welfare-sim animate``: the live page's plots, frame by frame, with the Agg backend."""

from __future__ import annotations

from pathlib import Path

from sim.errors import InputError


def animate(scenario: Path | str, out: Path | str, *, seed: int | None = None,
            months_per_frame: int = 12, years: int | None = None, fps: int = 4,
            paradigm: str | None = None, dpi: int = 60, progress=None) -> int:
    """Run ``scenario`` and write one frame every ``months_per_frame``; returns frames.
    ``progress(done_months, total_months)`` is called after each frame."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib import animation

    from sim.live import PARADIGMS, Session, base_scenario, defaults_from
    from sim.live.plots import MainFigure

    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".gif", ".mp4"):
        raise InputError(f"--out {out}: expected a .gif or .mp4 file name.")
    if months_per_frame < 1 or fps < 1 or (years is not None and years < 1):
        raise InputError("--months-per-frame, --fps and --years must be ≥ 1.")
    if paradigm is not None and paradigm not in PARADIGMS:
        raise InputError(f"--paradigm {paradigm}: expected one of {', '.join(PARADIGMS)}.")
    if suffix == ".mp4" and not animation.FFMpegWriter.isAvailable():
        raise InputError("writing .mp4 needs ffmpeg on the PATH; write a .gif instead.")
    if not out.parent.is_dir():
        raise InputError(f"--out {out}: folder {out.parent} does not exist. Expected a file "
                         "name in an existing folder.")
    if out.is_symlink() or (out.exists() and not out.is_file()):
        raise InputError(f"--out {out}: exists and is not a regular file (a folder or a "
                         "link); it is left alone. Expected a new .gif or .mp4 file name.")

    from sim.scenario import find_scenario

    scenario = find_scenario(scenario)
    sc = base_scenario(scenario)
    params = defaults_from(sc)
    params = params.with_(scale=float(sc.value("run.population_scale")))
    if seed is not None:
        params = params.with_(seed=seed)
    if paradigm is not None:
        params = params.with_(paradigm=paradigm)
    session = _session(Session, params, scenario)
    model = session.model
    months = model.n_ticks if years is None else min(model.n_ticks, 12 * years)
    writer = (animation.PillowWriter(fps=fps) if suffix == ".gif"
              else animation.FFMpegWriter(fps=fps))
    figure = MainFigure(model, session.net, dpi=dpi)
    frames = 0
    with writer.saving(figure.fig, str(out), dpi=dpi):
        done = 0
        while done < months and model.running:
            done += session.step(min(months_per_frame, months - done))
            figure.update()
            writer.grab_frame()
            frames += 1
            if progress is not None:
                progress(done, months)
    return frames


def _session(cls, params, scenario):
    """A session for a scenario file; the live page's scale cap does not apply here."""
    from sim.live import MIN_SCALE, base_scenario, max_scale

    top = max_scale(base_scenario(scenario))
    if params.scale is not None and not (MIN_SCALE <= params.scale <= top):
        params = params.with_(scale=None)  # keep the file's own scale
    s = cls(params, scenario)
    if s.error:
        raise InputError(s.error)
    return s
