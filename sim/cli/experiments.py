"""``welfare-sim compare``, ``sweep``, ``analyze`` and ``summarize`` (see docs/experiments.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from sim.cli.common import console, progress_bar
from sim.errors import InputError
from sim.safety import check_output_dir

Workers = Annotated[int | None, typer.Option("--workers", help="Local worker processes "
                                             "(default: all cores; 1 = in this process).")]
Scheduler = Annotated[str | None, typer.Option("--scheduler", help="Dask scheduler address "
                                               "tcp://HOST:PORT (instead of local processes).")]


XlsxOption = Annotated[bool, typer.Option("--xlsx", help="Also write results.xlsx (Excel: "
                                          "results with numeric cells, units, parameters, "
                                          "provenance).")]


def provenance(manifest: dict) -> dict:
    """The manifest's keys for the workbook's provenance sheet (long texts kept whole up to
    Excel's cell limit)."""
    return {k: v for k, v in manifest.items() if k not in ("figures",)}


def running_note(cb, workers: int | None, scheduler: str | None):
    """Wrap a progress callback so it says how many runs are in progress."""
    import os

    parallel = 10**9 if scheduler else (workers or os.cpu_count() or 1)

    def progress(done: int, total: int) -> None:
        busy = min(parallel, total - done)
        cb(done, total, f"{busy} run{'s' if busy != 1 else ''} in progress" if busy else None)

    return progress


def _shown(v):
    """A design value as the dry run shows it: floats to 6 significant digits (0.15, not
    0.15000000000000002; the runs use the exact value)."""
    return f"{v:.6g}" if isinstance(v, float) else v


def dry_run_text(exp, table, dest: Path, show: int = 12) -> str:
    """What ``sweep --dry-run`` prints: the design, its size and where it would go."""
    from sim.tables import table_text

    points = int(table["point"].nunique())
    n = int(table["run_id"].nunique())
    factor_cols = [f.name for f in exp.factors]
    import textwrap

    from sim.tables import output_width

    draws = (f" x {exp.n_draws} parameter draw(s) of {len(exp.uncertainty['parameters'])} "
             "parameter(s)" if exp.uncertainty else "")
    cells = len(table)  # points x draws x replications
    # a design can repeat a point (Morris trajectories share grid points): the same
    # parameters and seed are one run, done once and shared
    repeats = (f" ({cells - n} of the {cells} repeat an earlier point's parameters and seed "
               "and share its run)" if n < cells else "")
    head = (f"{exp.name}: {exp.method} design, {len(exp.factors)} varied parameter(s), "
            f"{points} design point(s){draws} x {exp.replications} replication(s) = {n} "
            f"runs{repeats} on {exp.base.name} ({exp.base.value('run.start_year')}–"
            f"{exp.base.value('run.end_year')})")
    lines = [textwrap.fill(head, output_width(), break_on_hyphens=False),
             f"would write to {dest}/ (nothing run or written: --dry-run)", ""]
    for f in exp.factors:
        what = (f"{f.low:g} – {f.high:g}" + (f", {f.levels} levels" if f.levels else "")
                if f.is_range else ", ".join(map(str, f.values)))
        lines.append(f"  {f.name}: {what}")
    pts = table.drop_duplicates("point").head(show)
    lines += ["", table_text(["point", *factor_cols],
                             [[int(r["point"]), *[_shown(r[c]) for c in factor_cols]]
                              for _, r in pts.iterrows()], keep=())]
    if points > show:
        lines.append(f"... and {points - show} more point(s)")
    return "\n".join(lines)


def robustness_table(robust: dict, names: list[str], width: int | None = None) -> str:
    """Share of draws each scenario is best in (90 % interval) and median regret, as text
    that fits the terminal."""
    from sim.experiments.report import fmt
    from sim.tables import table_text

    rows = []
    wins = robust["wins"]
    for (metric, year), g in wins.groupby(["metric", "year"], sort=False):
        g = g.set_index("scenario")
        cells = []
        for n in names:
            r = g.loc[n]
            cells.append(f"{100 * r.win_share:.0f} % [{100 * r.win_low:.0f}–"
                         f"{100 * r.win_high:.0f}]\nregret {fmt(metric, r.regret_median)}")
        rows.append([metric, str(year), *cells])
    return table_text(["metric", "year", *names], rows, width=width, keep=(1,),
                      right=range(2, len(names) + 2),
                      title="parameter uncertainty: best in share of draws [90 % interval]; "
                            "median regret")


def side_by_side_table(res: dict, width: int | None = None) -> str:
    """Median and 10–90 % band per scenario at the headline years, as text that fits the
    terminal: scenario names and bands wrap instead of being cut."""
    from sim.experiments.compare import headline_years, median_at
    from sim.experiments.report import TABLE_METRICS, fmt
    from sim.tables import table_text

    summ, names = res["summary"], res["names"]
    years = headline_years(res["tidy"])
    over = " over draws" if res.get("robustness") is not None else ""
    rows = []
    for metric, label in TABLE_METRICS[:4]:
        for y in years:
            cells = []
            for n in names:
                med, lo, hi = median_at(summ, n, metric, y)
                lo_t, hi_t = (fmt(metric, v).removesuffix(" NOK") for v in (lo, hi))  # unit once
                cells.append(f"{fmt(metric, med)}\n[{lo_t} – {hi_t}]")
            rows.append([label, str(y), *cells])
    return table_text(["metric", "year", *names], rows, width=width, keep=(1,),
                      right=range(2, len(names) + 2),
                      title=f"welfare-sim compare: median [10–90 % band{over}] of yearly means")


def register(app: typer.Typer) -> None:
    """Add compare, sweep, analyze and summarize to ``app``."""

    @app.command("compare")
    def compare(
        scenarios: Annotated[list[Path], typer.Argument(help="Scenario TOML files.")],
        replications: Annotated[int, typer.Option("--replications", "-n", min=1,
                                                  help="Runs per scenario.")] = 5,
        out_dir: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path(
            "results/comparison"),
        overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace --out.")] = False,
        resume: Annotated[bool, typer.Option("--resume", help="Reuse finished runs in "
                                             "--out.")] = False,
        seed: Annotated[int, typer.Option("--seed", help="Root seed of the replications.")] = 1,
        workers: Workers = None,
        scheduler: Scheduler = None,
        xlsx: XlsxOption = False,
        uncertainty: Annotated[int | None, typer.Option(
            "--uncertainty", help="Parameter draws (plausible worlds): N draws of the uncertain "
            "parameters over their registry ranges/distributions; every draw runs under every "
            "scenario with the same seeds.")] = None,
        uncertain_params: Annotated[list[str] | None, typer.Option(
            "--uncertain-params", help="Parameters to draw: registry names or globs, comma-"
            "separated or repeated (default: traditional.*, npm.*, network_governance.*, "
            "cocreation.* except those a scenario sets).")] = None,
        posterior: Annotated[Path | None, typer.Option(
            "--posterior", help="Draws from a calibration posterior: CSV/Parquet, one column "
            "per parameter (all rows, or --uncertainty N resampled).")] = None,
        uncertainty_seed: Annotated[int | None, typer.Option(
            "--uncertainty-seed", help="Seed of the parameter draws (default 1).")] = None,
        sampler: Annotated[str | None, typer.Option(
            "--sampler", help="latin_hypercube (default) or sobol.")] = None,
        population_scale: Annotated[float | None, typer.Option(
            "--population-scale", help="Agents per person in every scenario (e.g. 0.1 = 1:10); "
            "per-person results do not depend on it, seed noise does.")] = None,
    ) -> None:
        """Run scenarios N times each (same seeds across scenarios) and write a report; with
        --uncertainty, across parameter draws too, and report how often each one wins."""
        from sim.experiments import uncertainty as unc
        from sim.experiments.compare import at_scale, run_compare
        from sim.scenario import load_scenario

        scens = at_scale([load_scenario(p) for p in scenarios], population_scale)
        if seed < 0:
            raise InputError(f"--seed {seed}: expected a whole number ≥ 0.")
        check_output_dir(out_dir, "compare", overwrite=overwrite, resume=resume)
        draws, info = unc.prepare(scens, uncertainty, uncertain_params, posterior,
                                  uncertainty_seed, sampler)
        n_runs = replications * len(scens) * (len(draws) if draws is not None else 1)
        if draws is not None:
            console.print(f"{unc.describe(info)} × {len(scens)} scenarios × {replications} "
                          f"replication(s) = {n_runs} runs -> {out_dir}", markup=False,
                          highlight=False)
        with progress_bar("runs", n_runs) as cb:
            res = run_compare(scens, out_dir, replications, workers, scheduler, overwrite,
                              resume, seed, progress=running_note(cb, workers, scheduler),
                              draws=draws, uncertainty=info)
        m = res["manifest"]
        if xlsx:
            from sim.xlsx import write_workbook

            path = write_workbook(out_dir / "results.xlsx", res["tidy"], provenance(m), scens,
                                  res["names"])
            console.print(f"workbook: {path}", markup=False, highlight=False)
        if res.get("robustness") is not None:
            for line in res["robustness"]["verdict"]:
                print(line)
            print(robustness_table(res["robustness"], res["names"]))
        if m["runs_failed"]:
            console.print(f"[yellow]{m['runs_failed']} of {m['runs']} runs failed; see "
                          f"{escape(str(out_dir / 'manifest.json'))}[/yellow]")
        print(side_by_side_table(res))
        console.print(f"report: {escape(str(out_dir / 'report.md'))}", highlight=False)

    @app.command("sweep")
    def sweep(
        experiment: Annotated[Path, typer.Argument(help="Experiment TOML file.")],
        out_dir: Annotated[Path | None, typer.Option("--out", help="Output folder (default "
                                                     "results/EXPERIMENT).")] = None,
        resume: Annotated[bool, typer.Option("--resume", help="Skip runs already "
                                             "finished in --out.")] = False,
        overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace --out.")] = False,
        workers: Workers = None,
        scheduler: Scheduler = None,
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the design (points, "
                                              "replications, run count) and stop without "
                                              "running or writing anything.")] = False,
        xlsx: XlsxOption = False,
    ) -> None:
        """Run an experiment file (design × replications) into a Parquet dataset."""
        from sim.experiments.design import design_table, load_experiment
        from sim.experiments.sweep import run_sweep

        exp = load_experiment(experiment)
        dest = out_dir or Path("results") / experiment.stem
        table = design_table(exp)
        n = table["run_id"].nunique()
        if dry_run:
            print(dry_run_text(exp, table, dest))
            return
        check_output_dir(dest, "sweep", overwrite=overwrite, resume=resume)  # before the runs
        draws = f", {exp.n_draws} parameter draws" if exp.draws is not None else ""
        console.print(f"{escape(exp.name)}: {n} runs ({exp.method}{draws}, "
                      f"{exp.replications} replication(s)) -> {escape(str(dest))}",
                      highlight=False)
        with progress_bar("runs", n) as cb:
            m = run_sweep(exp, dest, workers, scheduler, resume, overwrite,
                          progress=running_note(cb, workers, scheduler))
        console.print(f"done: {m['runs_done']} of {m['runs']} runs, {m['runs_failed']} failed "
                      f"({escape(str(dest / 'results.parquet'))})", highlight=False)
        if xlsx:
            import pandas as pd

            from sim.xlsx import write_workbook

            path = write_workbook(dest / "results.xlsx", pd.read_parquet(dest / "results.parquet"),
                                  provenance(m), [exp.base], [exp.base.name],
                                  design=pd.read_parquet(dest / "design.parquet"))
            console.print(f"workbook: {escape(str(path))}", highlight=False)
        if m["runs_failed"]:
            first = next(iter(m["errors"].items()))
            console.print(f"[yellow]first error ({first[0]}): {escape(str(first[1]))}"
                          "[/yellow]")

    @app.command("analyze")
    def analyze(
        sweep_dir: Annotated[Path, typer.Argument(help="Folder written by welfare-sim sweep.")],
        year: Annotated[int | None, typer.Option("--year", help="Year to analyse (default: "
                                                 "last kept year).")] = None,
    ) -> None:
        """Sobol/Morris indices with confidence intervals and PRIM scenario discovery."""
        from sim.experiments.analysis import analyze_sweep

        if not sweep_dir.is_dir():
            raise InputError(f"{sweep_dir}: not a folder. Expected a folder written by "
                             "welfare-sim sweep.")
        from sim.tables import paragraph

        res = analyze_sweep(sweep_dir, year)
        for line in res["lines"]:
            print(paragraph(line))
        console.print(f"analysis written to {escape(str(sweep_dir / 'analysis'))}",
                      highlight=False)

    @app.command("summarize")
    def summarize(
        sweep_dir: Annotated[Path, typer.Argument(help="Folder written by welfare-sim sweep "
                                                  "or compare.")],
        dest: Annotated[Path | None, typer.Option("--to", help="Output folder (default "
                                                  "SWEEP_DIR-summary next to it).")] = None,
    ) -> None:
        """Committable summary of a sweep or comparison: SUMMARY.md, summary.csv, figures."""
        from sim.experiments.summary import summarize as write_summary

        if not sweep_dir.is_dir():
            raise InputError(f"{sweep_dir}: not a folder. Expected a folder written by "
                             "welfare-sim sweep or compare (results/NAME); run welfare-sim "
                             "sweep experiments/NAME.toml first.")
        # next to the folder summarized (inside it would overwrite its own files)
        target = dest or sweep_dir.parent / f"{sweep_dir.name}-summary"
        path = write_summary(sweep_dir, target)
        console.print(f"summary written to {escape(str(path))}", highlight=False)
