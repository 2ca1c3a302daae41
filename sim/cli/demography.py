"""``welfare-sim demography SCENARIO [--years 2016,2040,...] [--json]``.

The lead's ``sim/cli/main.py`` calls :func:`register`. The core is
:func:`sim.demography.demography_report`; this wrapper only reads the scenario, prints, and writes
the index figure.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from sim.errors import InputError, WelfareSimError

KEYS = (
    "demography.projection_round",
    "demography.alternative",
    "run.municipality",
    "run.start_year",
    "run.end_year",
    "run.population_scale",
)


def parse_years(text: str | None) -> list[int] | None:
    if text is None or not text.strip():
        return None
    try:
        return [int(t) for t in text.replace(" ", "").split(",") if t]
    except ValueError as exc:
        raise InputError(
            f"--years {text!r} is not a comma-separated list of years, e.g. --years 2016,2040,2060."
        ) from exc


FIGURE_SUFFIXES = (".png", ".pdf", ".svg", ".jpg", ".jpeg")


def check_figure_path(figure: Path) -> None:
    """Refuse a figure path that cannot be an image file before anything is computed."""
    if figure.suffix.lower() not in FIGURE_SUFFIXES:
        raise InputError(f"--figure {figure}: unknown image type {figure.suffix or '(none)'!r}. "
                         f"Expected a file name ending in {', '.join(FIGURE_SUFFIXES)}.")
    if figure.is_symlink() or (figure.exists() and not figure.is_file()):
        raise InputError(f"--figure {figure}: exists and is not a regular file (a folder or a "
                         "link); it is left alone. Expected an image file name.")


def scenario_settings(scenario: Path) -> dict[str, object]:
    from sim.scenario import load_scenario  # written by the lead

    params = load_scenario(scenario).params
    missing = [k for k in KEYS if k not in params]
    if missing:
        raise InputError(
            f"Scenario {scenario} lacks {', '.join(missing)}: the demography command needs "
            f"{', '.join(KEYS)}."
        )
    return {k: params[k] for k in KEYS}


def run_demography(
    settings: dict[str, object],
    years: list[int] | None,
    as_json: bool,
    figure: Path | None,
) -> tuple[str, Path | None]:
    """Text (table or JSON) and the written figure path. Separated from typer for tests."""
    from sim.demography import demography_report
    from sim.demography.figure import write_index_figure
    from sim.demography.report import demography_projection

    municipality = str(settings["run.municipality"])
    rnd = int(settings["demography.projection_round"])  # type: ignore[arg-type]
    alt = str(settings["demography.alternative"]).upper()
    start = int(settings["run.start_year"])  # type: ignore[arg-type]
    end = int(settings["run.end_year"])  # type: ignore[arg-type]
    scale = float(settings["run.population_scale"])  # type: ignore[arg-type]
    if figure is not None:
        check_figure_path(Path(figure))
    report = demography_report(municipality, rnd, alt, start, end, years, scale)
    fig_path = None
    if figure is not None:
        proj, projected = demography_projection(municipality, rnd, alt, start, max(end, 2060))
        projected = {y: p for y, p in projected.items() if y <= max(end, 2060)}
        fig_path = write_index_figure(
            projected,
            proj,
            figure,
            title=f"{municipality}: age groups indexed to {start} = 100, SSB {rnd} round "
            f"(table {proj.ssb_table}) {alt}",
        )
    if as_json:
        return json.dumps(report, indent=1), fig_path
    from sim.tables import paragraph

    groups = list(next(iter(report.values())))
    # 6 + 7 x 10 = 76 columns: fits 80 (Norway's total, 9 characters, included)
    width = max(10, 1 + max(len(f"{row[g]:,.0f}") for row in report.values() for g in groups))
    lines = [
        paragraph(f"Projected population 1 January, {municipality}, SSB {rnd} round {alt} "
                  f"(persons; agents at scale {scale:g}: total x {scale:g})"),
        "year  " + "".join(f"{g:>{width}}" for g in groups),
    ]
    for y, row in report.items():
        lines.append(f"{y:<6}" + "".join(f"{row[g]:>{width},.0f}" for g in groups))
    return "\n".join(lines), fig_path


def register(app: typer.Typer) -> None:
    """Add the ``demography`` command to ``app``."""

    @app.command("demography")
    def demography(
        scenario: Annotated[Path, typer.Argument(help="Scenario TOML file.")],
        years: Annotated[
            str | None,
            typer.Option("--years", help="Comma-separated years, e.g. 2016,2040,2060."),
        ] = None,
        as_json: Annotated[
            bool, typer.Option("--json", help='Print {"YEAR": {"GROUP": persons}} JSON.')
        ] = False,
        figure: Annotated[
            Path | None,
            typer.Option(
                "--figure",
                help="Also write the index figure (age groups, start year = 100, to 2060, "
                "model beside SSB) to this PNG file; without it nothing is written.",
            ),
        ] = None,
    ) -> None:
        """Projected age groups (0-19, 20-66, 67-79, 80-89, 90+, 80+, total) for a scenario."""
        try:
            text, fig_path = run_demography(
                scenario_settings(scenario), parse_years(years), as_json, figure
            )
        except WelfareSimError as exc:
            typer.echo(f"Error: {exc}", err=True)
            raise typer.Exit(code=2) from exc
        typer.echo(text)
        if fig_path is not None:
            typer.echo(f"figure written to {fig_path}", err=True)
