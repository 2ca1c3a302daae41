"""``welfare-sim run``, ``validate`` and ``params``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from sim.cli.common import console, progress_bar
from sim.cli.failures import output_error
from sim.errors import InputError
from sim.safety import check_output_dir, staging_dir

SUMMARY_ROWS = [("population", "inhabitants", "{:,.0f}"),
                ("share_80plus", "share 80+", "{:.1%}"),
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


def summary_table(summaries: list[dict], width: int | None = None) -> str:
    """Cost, demand and quality in the first and last year (one column per run and year), as
    text that fits the terminal (80 columns when piped)."""
    from sim.tables import table_text

    headers = ["metric"] + [f"{s['scenario']} {yr}" for s in summaries
                            for yr in (s["years"][0], s["years"][1])]
    rows = []
    for key, label, fmt in SUMMARY_ROWS:
        rows.append([label] + [fmt.format(s["by_year"][str(yr)][key]) for s in summaries
                               for yr in (s["years"][0], s["years"][1])])
    return table_text(headers, rows, width=width, keep=(), right=range(1, len(headers)),
                      title="welfare-sim: first and last year (yearly means)")


def _is_experiment(path: Path) -> bool:
    try:
        from sim.experiments.design import looks_like_experiment
    except ModuleNotFoundError:  # the experiments extra is not installed
        return False
    return looks_like_experiment(path)


def params_list(params) -> str:
    """The registry as a plain list: the full name alone on a line (never cut), then default,
    unit, range and description wrapped to the terminal (80 columns when piped)."""
    from sim.tables import plain_list

    def default(p) -> str:
        if isinstance(p.default, bool):
            return "on" if p.default else "off"
        return f"{p.default} {p.unit}"

    return plain_list([(p.name, [f"default {default(p)} · plausible range {p.range_text}",
                                 p.description]) for p in params])


TICK = ("tick", "month", "month of the run from 1 (the first month of the start year)")


def metrics_markdown() -> str:
    """docs/metrics.md, generated from sim.metrics.METRICS."""
    from sim.metrics import METRICS

    lines = ["# Metrics", "",
             "Generated from `sim/metrics.py` by `welfare-sim metrics --markdown` — do not edit "
             "by hand. One row per monthly tick in `ticks.parquet`; counts are persons (agents "
             "divided by `run.population_scale`).", "",
             "| name | unit | meaning |", "|---|---|---|"]
    lines += [f"| `{n}` | {u} | {t} |" for n, u, t in [TICK, *METRICS]]
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
        xlsx: Annotated[bool, typer.Option("--xlsx", help="Also write ticks.xlsx (Excel: "
                                           "results, columns with units, parameters, "
                                           "provenance)")] = False,
        overwrite: Annotated[bool, typer.Option(help="Replace an existing output folder")] = False,
        progress: Annotated[bool | None, typer.Option(help="Show a progress bar (default: a "
                                                      "bar on a terminal, a line every "
                                                      "WELFARE_SIM_PROGRESS_SECONDS (10) "
                                                      "otherwise)")] = None,
    ) -> None:
        """Run one scenario: writes ticks.parquet, summary.json and manifest.json."""
        from sim.scenario import load_scenario

        sc = load_scenario(scenario)  # before the heavy imports: a bad file fails fast
        from sim.runner import run_scenario, write_outputs

        if seed is not None and not 0 <= seed < 2**63:  # the tables store it as int64
            raise InputError(f"--seed {seed}: expected a whole number from 0 to "
                             f"{2**63 - 1} (the range of a scenario's seed).")
        used_seed = sc.seed if seed is None else seed
        dest = out_dir or Path("results") / f"{scenario.stem}-seed{used_seed}"
        check_output_dir(dest, "run", overwrite=overwrite)  # before the simulation
        n_months = (int(sc.value("run.end_year")) - int(sc.value("run.start_year")) + 1) * 12
        try:
            with staging_dir(dest, "run") as tmp:  # a writable folder, checked before too
                with progress_bar(f"{sc.name}", n_months, progress, unit="months") as cb:
                    res = run_scenario(sc, used_seed, progress=lambda d, t: cb(d, t))
                write_outputs(res, dest, csv=csv, overwrite=overwrite, staging=tmp,
                              xlsx=sc if xlsx else None)
        except OSError as exc:
            raise output_error(exc, dest, "run output") from None
        print(summary_table([res.summary]))
        files = ["ticks.parquet", *(["ticks.csv"] if csv else []),
                 *(["ticks.xlsx"] if xlsx else []), "summary.json", "manifest.json"]
        console.print(f"wrote {escape(str(dest))}/ ({', '.join(files)}) in "
                      f"{res.manifest['wall_seconds']:.1f} s", highlight=False)

    @app.command()
    def validate(
        files: Annotated[list[Path], typer.Argument(help="Scenario or experiment TOML files "
                                                    "(or bundled scenario names) to check")],
    ) -> None:
        """Check scenario and experiment files without running them (all problems listed)."""
        from sim.errors import ProblemsError, WelfareSimError
        from sim.scenario import find_scenario, load_scenario

        bad = 0
        for f in files:
            try:
                if _is_experiment(f):
                    from sim.experiments.design import design_table, load_experiment

                    exp = load_experiment(f)
                    n = design_table(exp)["run_id"].nunique()
                    print(f"ok  {f}  (experiment {exp.name}; {exp.method}; {n} runs on "
                          f"{exp.base.name})")
                    continue
                sc = load_scenario(f)
                shown = f if find_scenario(f) == f else f"{f} (bundled)"
                print(f"ok  {shown}  ({sc.name}; {sc.paradigm.describe()}; "
                      f"{sc.value('run.start_year')}–{sc.value('run.end_year')})")
            except WelfareSimError as e:
                bad += 1
                if isinstance(e, ProblemsError):
                    console.print(f"error: {f}: {len(e.errors)} problems:", markup=False,
                                  highlight=False, soft_wrap=True)
                    for k, err in enumerate(e.errors, 1):
                        console.print(f"  {k}. {err}", markup=False, highlight=False,
                                      soft_wrap=True)
                else:
                    console.print(f"error: {e}", markup=False, highlight=False, soft_wrap=True)
        if bad:
            # an InputError, not typer.Exit: main() runs click with standalone_mode=False,
            # where Exit(2) is returned (and was lost), so invalid files exited 0
            raise InputError(f"{bad} of {len(files)} file(s) invalid (see above). "
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
        from sim.tables import table_text

        print(table_text(["name", "unit", "meaning"], [list(m) for m in [TICK, *METRICS]],
                         title="per-tick metrics (columns of ticks.parquet)"))

    @app.command()
    def params(
        markdown: Annotated[bool, typer.Option("--markdown", help="Print docs/parameters.md")]
        = False,
        search: Annotated[str | None, typer.Argument(help="Show parameters whose name or "
                                                     "description contains this text")] = None,
    ) -> None:
        """List the parameter registry (name, default, unit, range, description)."""
        from sim.params import markdown as md
        from sim.params import registry

        if markdown:
            print(md())
            return
        matches = [p for p in registry().values()
                   if not search or search.lower() in p.name.lower()
                   or search.lower() in p.description.lower()]
        if not matches:
            groups = sorted({p.group for p in registry().values()})
            raise InputError(f"no parameter's name or description contains {search!r}. "
                               f"Expected part of a name, e.g. a group: {', '.join(groups)}; "
                               "run welfare-sim params with no argument for the whole list.")
        print(params_list(matches))
