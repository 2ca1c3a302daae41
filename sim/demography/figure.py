"""The seed talk's figure: age groups indexed to the start year (= 100), model beside SSB."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sim.demography.data import group_sums
from sim.demography.rates import Projection

FIGURE_GROUPS = ("0-19", "20-66", "67-79", "80+", "90+")
COLOURS = {
    "0-19": "#1b9e77",
    "20-66": "#7570b3",
    "67-79": "#e6ab02",
    "80+": "#d95f02",
    "90+": "#e7298a",
}


def index_series(
    projected: dict[int, np.ndarray], groups=FIGURE_GROUPS
) -> dict[str, dict[int, float]]:
    years = sorted(projected)
    base = group_sums(projected[years[0]])
    out: dict[str, dict[int, float]] = {g: {} for g in groups}
    for y in years:
        s = group_sums(projected[y])
        for g in groups:
            out[g][y] = 100.0 * s[g] / base[g] if base[g] else float("nan")
    return out


def ssb_index_series(
    proj: Projection, start_year: int, groups=FIGURE_GROUPS
) -> dict[str, dict[int, float]]:
    """SSB's national series indexed to ``start_year`` (must be a data year)."""
    base = proj.ssb_groups(start_year)
    out: dict[str, dict[int, float]] = {g: {} for g in groups}
    for y in sorted(proj.ssb):
        if y < start_year:
            continue
        s = proj.ssb_groups(y)
        for g in groups:
            out[g][y] = 100.0 * s[g] / base[g]
    return out


def write_index_figure(
    projected: dict[int, np.ndarray],
    proj: Projection,
    path: str | Path,
    *,
    title: str,
) -> Path:
    """Write a PNG (or any matplotlib format by suffix) and return its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    start = min(projected)
    model = index_series(projected)
    ssb = ssb_index_series(proj, start) if start in proj.ssb else {}
    fig, ax = plt.subplots(figsize=(8, 5), dpi=120)
    for g in FIGURE_GROUPS:
        ys = sorted(model[g])
        ax.plot(ys, [model[g][y] for y in ys], color=COLOURS[g], lw=2, label=f"{g} model")
        if ssb:
            ys2 = sorted(ssb[g])
            ax.plot(
                ys2,
                [ssb[g][y] for y in ys2],
                color=COLOURS[g],
                lw=1.2,
                ls="--",
                marker="o",
                ms=2.5,
                label=f"{g} SSB (national)",
            )
    ax.axhline(100, color="grey", lw=0.8)
    ax.axvline(proj.last_year, color="grey", lw=0.8, ls=":")
    ax.text(
        proj.last_year + 0.3,
        ax.get_ylim()[1] * 0.97,
        f"after {proj.last_year}: rates held constant",
        fontsize=7,
        va="top",
        color="grey",
    )
    ax.set_xlabel("year (1 January)")
    ax.set_ylabel(f"index, {start} = 100")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, ncol=2, loc="upper left")
    ax.grid(alpha=0.3)
    fig.text(
        0.01,
        0.005,
        f"Source: Statistics Norway (SSB), table {proj.ssb_table}, CC BY 4.0; "
        "model: welfare-sim cohort projection",
        fontsize=6,
        color="grey",
    )
    fig.tight_layout()
    from sim.safety import atomic_write

    fmt = Path(path).suffix.lstrip(".").lower() or "png"
    try:  # through a temporary file: a full disk never leaves a truncated image
        atomic_write(Path(path), lambda p: fig.savefig(p, format=fmt))
    finally:
        plt.close(fig)
    return path
