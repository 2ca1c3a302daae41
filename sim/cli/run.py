"""``welfare-sim run``, ``validate`` and ``params``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from sim.cli.common import console, out, progress_bar
from sim.cli.failures import output_error
from sim.errors import InputError
from sim.safety import check_output_dir, staging_dir


def summary_table(summaries: list[dict]) -> Table:
    """Cost, demand and quality side by side (one column per run)."""
    rows = [("population", "inhabitants", "{:,.0f}"), ("share_80plus", "share 80+", "{:.1%}"),
            ("need_hours", "demand (need-hours/month)", "{:,.0f}"),
            ("hours_delivered", "hours delivered/month", "{:,.0f}"),
            ("coverage", "coverage", "{:.1%}"), ("quality", "quality (0-1)", "{:.3f}"),
            ("fit_niche", "fit, niche needs", "{:.3f}"),
            ("satisfaction", "satisfaction (0-1)", "{:.3f}"),
            ("cost_per_inhabitant", "cost per inhabitant (NOK/yr)", "{:,.0f}"),
            ("fte_per_1000", "care FTE per 1,000", "{:.1f}"),
            ("share_admin", "admin share of prof. time", "{:.1%}"),
            ("hours_volunteer", "volunteer hours/month", "{:,.0f}"),
            ("coverage_gap_resource", "coverage gap (high-low res.)", "{:+.3f}")]
    t = Table(title="welfare-sim: first and last year (yearly means)")
    t.add_column("metric")
    for s in summaries:
        for yr in (s["years"][0], s["years"][1]):
            t.add_column(f"{escape(str(s['scenario']))}\n{yr}", justify="right")
    for key, label, fmt in rows:
        cells = []
        for s in summaries:
            for yr in (s["years"][0], s["years"][1]):
                cells.append(fmt.format(s["by_year"][str(yr)][key]))
        t.add_row(label, *cells)
    return t


def metrics_markdown() -> str:
    """docs/metrics.md, generated from sim.metrics.METRICS."""
    from sim.metrics import METRICS

    lines = ["# Metrics", "",
             "Generated from `sim/metrics.py` by `welfare-sim metrics --markdown` — do not edit "
             "by hand. One row per monthly tick in `ticks.parquet`; counts are persons (agents "
             "divided by `run.population_scale`).", "",
             "| name | unit | meaning |", "|---|---|---|"]
    lines += [f"| `{n}` | {u} | {t} |" for n, u, t in METRICS]
    return "\n".join(lines) + "\n"


def register(app: typer.Typer) -> None:
    @app.command()
    def run(
        scenario: Annotated[Path, typer.Argument(help="Scenario TOML file, e.g. "
                                                 "scenarios/indre_ostfold_npm.toml")],
        seed: Annotated[int | None, typer.Option(help="Random seed (default: the scenario's "
                                                 "seed)")] = None,
        out_dir: Annotated[Path | None, typer.Option("--out", help="Output folder (default "
                                                     "results/NAME-seedN)")] = None,
        csv: Annotated[bool, typer.Option("--csv", help="Also write ticks.csv")] = False,
        overwrite: Annotated[bool, typer.Option(help="Replace an existing output folder")] = False,
        progress: Annotated[bool | None, typer.Option(help="Show a progress bar (default: on a "
                                                      "terminal)")] = None,
    ) -> None:
        """Run one scenario: writes ticks.parquet, summary.json and manifest.json."""
        from sim.scenario import load_scenario

        sc = load_scenario(scenario)  # before the heavy imports: a bad file fails fast
        from sim.runner import run_scenario, write_outputs

        if seed is not None and seed < 0:
            raise InputError(f"--seed {seed}: expected a whole number ≥ 0.")
        used_seed = sc.seed if seed is None else seed
        dest = out_dir or Path("results") / f"{scenario.stem}-seed{used_seed}"
        check_output_dir(dest, "run", overwrite=overwrite)  # before the simulation
        try:
            with staging_dir(dest, "run") as tmp:  # a writable folder, checked before too
                with progress_bar(f"{escape(sc.name)}", 1, progress) as cb:
                    res = run_scenario(sc, used_seed, progress=lambda d, t: cb(d / t))
                write_outputs(res, dest, csv=csv, overwrite=overwrite, staging=tmp)
        except OSError as exc:
            raise output_error(exc, dest, "run output") from None
        out.print(summary_table([res.summary]))
        console.print(f"wrote {escape(str(dest))}/ (ticks.parquet, summary.json, manifest.json) "
                      f"in {res.manifest['wall_seconds']:.1f} s", highlight=False)

    @app.command()
    def validate(
        files: Annotated[list[Path], typer.Argument(help="Scenario TOML files to check")],
    ) -> None:
        """Check scenario files without running them; exit 2 if any is invalid."""
        from sim.errors import WelfareSimError
        from sim.scenario import load_scenario

        bad = 0
        for f in files:
            try:
                sc = load_scenario(f)
                out.print(f"ok  {f}  ({sc.name}; {sc.paradigm.describe()}; "
                          f"{sc.value('run.start_year')}–{sc.value('run.end_year')})",
                          markup=False, highlight=False)
            except WelfareSimError as e:
                bad += 1
                console.print(f"error: {e}", markup=False, highlight=False, soft_wrap=True)
        if bad:
            # an InputError, not typer.Exit: main() runs click with standalone_mode=False,
            # where Exit(2) is returned (and was lost), so invalid files exited 0
            raise InputError(f"{bad} of {len(files)} scenario file(s) invalid (see above). "
                             "Expected every file to load.")

    @app.command()
    def metrics(
        markdown: Annotated[bool, typer.Option("--markdown", help="Print docs/metrics.md")]
        = False,
    ) -> None:
        """List the per-tick metrics of a run (name, unit, meaning)."""
        from sim.metrics import METRICS

        if markdown:
            print(metrics_markdown(), end="")
            return
        t = Table(title="per-tick metrics (columns of ticks.parquet)")
        for col in ("name", "unit", "meaning"):
            t.add_column(col)
        for name, unit, text in METRICS:
            t.add_row(name, unit, text)
        out.print(t)

    @app.command()
    def params(
        markdown: Annotated[bool, typer.Option("--markdown", help="Print docs/parameters.md")]
        = False,
        search: Annotated[str | None, typer.Argument(help="Show parameters whose name "
                                                     "contains this text")] = None,
    ) -> None:
        """List the parameter registry (name, default, unit, range)."""
        from sim.params import markdown as md
        from sim.params import registry

        if markdown:
            print(md())
            return
        t = Table(title="parameter registry")
        for col in ("name", "default", "unit", "range"):
            t.add_column(col)
        for p in registry().values():
            if search and search not in p.name:
                continue
            t.add_row(p.name, str(p.default), p.unit, p.range_text)
        out.print(t)
