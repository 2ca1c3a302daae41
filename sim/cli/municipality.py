"""``welfare-sim municipality import FILE | fetch CODE --year Y | list | codes QUERY``.

The core is :mod:`sim.demography.ssb07459` (reading SSB table 07459) and
:mod:`sim.demography.municipalities` (numbers across reforms, the local store, the generated
scenario, the PxWeb fetch). Errors are :class:`sim.errors.WelfareSimError`: ``main`` prints them
as one paragraph.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim.errors import InputError
from sim.tables import paragraph

app = typer.Typer(
    name="municipality",
    help="Your own municipality: import or fetch its population from SSB (table 07459), list "
         "what is available, resolve municipality numbers across the 2018/2020/2024 reforms.",
    no_args_is_help=True,
)


def _targets(pop, code: str | None, source: str) -> list[tuple[str, list[str] | None]]:
    """(municipality number to write, region codes to add up) pairs for an import."""
    from sim.demography import municipalities as m

    if code is None:
        return [(r, None) for r in pop.regions]
    target = m.resolve_code(code)
    territory = m.same_territory(target)
    present = [r for r in pop.regions if r in territory]
    if present:
        return [(target, [present[0]])]
    wanted: set[str] = set()
    for y in {y for _, y in pop.counts}:
        wanted.update(m.codes_in_year(target, y) or [])
    parts = [r for r in pop.regions if r in wanted]
    if not parts:
        raise InputError(
            f"{source}: holds {', '.join(pop.regions)}, none of which is {target} "
            f"{m.name_of(target)} or a municipality merged into it. Expected table 07459 for "
            f"{target} (or for all the municipalities it was formed from)."
        )
    missing = sorted(wanted - set(pop.regions))
    if missing:
        raise InputError(
            f"{source}: {target} {m.name_of(target)} is the sum of {', '.join(sorted(wanted))}, "
            f"but {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not in the file. "
            "Download table 07459 for all of them."
        )
    return [(target, parts)]


def do_import(file: Path, code: str | None = None, out: Path | None = None,
              replace: bool = False, scenario_dir: Path | None = None,
              fmt: str | None = None, year: int | None = None) -> list[str]:
    """Import ``file``; returns the lines to print (separated from typer for tests)."""
    from sim.demography import municipalities as m
    from sim.demography.ssb07459 import read_07459

    pop = read_07459(file, fmt=fmt)
    if year is not None:
        years = sorted({y for _, y in pop.counts})
        if year not in years:
            raise InputError(
                f"{file}: no figures for {year}; the file holds {', '.join(map(str, years))}. "
                "Download table 07459 for that year, or choose one of those with --year."
            )
        pop.counts = {k: v for k, v in pop.counts.items() if k[1] == year}
    lines = []
    for target, parts in _targets(pop, code, str(file)):
        res = m.write_imported(pop, target, parts=parts, out_dir=out, replace=replace)
        lines.extend(_report(res, parts, scenario_dir))
    return lines


def _report(res, parts, scenario_dir) -> list[str]:
    from sim.demography import municipalities as m

    years = ", ".join(f"{y} ({res.total[y]:,} inhabitants)" for y in sorted(res.total))
    summed = f" = {' + '.join(parts)}" if parts and parts != [res.code] else ""
    state = "unchanged (already imported)" if res.unchanged else "written"
    lines = [f"{res.code} {res.name}{summed}: {years} -> {res.path} ({state})"]
    sc = m.write_scenario(res, scenario_dir)
    if sc is None:
        lines.append(
            f"  no scenario: runs start in {' or '.join(map(str, m.RUN_YEARS))} (the projection "
            f"rounds' base years); import or fetch one of those years to run {res.name}."
        )
    else:
        lines.append(f"  scenario: {sc}")
        lines.append(f"  run it:   welfare-sim run {sc}")
        lines.append(f"            welfare-sim demography {sc}")
    return lines


def do_list() -> list[str]:
    from sim.demography import municipalities as m

    rows = m.local_files()
    lines = []
    for f in rows:  # one entry each, names whole (a table cut them at 21 characters)
        years = ", ".join(map(str, f.years)) if len(f.years) <= 3 else \
            f"{f.years[0]}-{f.years[-1]} ({len(f.years)} years)"
        lines.append(f"{f.code or '-'} {f.name}: base years {years}; "
                     f"{'single years' if f.single_year else 'grouped ages'}; {f.origin}")
        lines.append(f"    file {f.path}")
        for p in f.provenance[:3]:
            lines.append(f"    {p}")
    lines.append(f"(imports go to {m.user_municipality_dir()}; set WELFARE_SIM_DATA_DIR to "
                 "use another folder)")
    return lines


def do_codes(query: str) -> list[str]:
    from sim.demography import municipalities as m

    found = m.find_units(query)
    if not found:
        m.resolve_code(query)  # raises the explanation
        found = [u for u in m.units() if u.code == m.resolve_code(query)]
    lines = []
    for u in found:
        lines.append(u.label() + (f" -> {' '.join(u.becomes)} ({u.change})" if u.becomes else "")
                     + (f"; {u.note}" if u.note else ""))
    code = m.resolve_code(query)
    terr = m.same_territory(code)
    lines.append(f"same territory: {', '.join(terr)}")
    parts = m.merged_parts(code)
    if parts:
        lines.append(f"merged from: {', '.join(f'{p} {m.name_of(p)}' for p in parts)}")
    for y in (2016, 2020, 2024):
        cs = m.codes_in_year(code, y)
        text = ", ".join(cs) if cs else "not recorded"
        for u in found:
            gone = ((u.valid_to is not None and y > u.valid_to)
                    or (u.note.startswith("changed between") and y >= 2024))
            if not cs and gone and u.becomes:
                text = f"{u.change} into {' '.join(u.becomes)} (see those numbers)"
            elif not cs and u.valid_from is not None and y < u.valid_from:
                preds = [f"{p.code} {p.name}" for p in m.units() if u.code in p.becomes]
                text = (f"did not exist (from {u.valid_from}; formed from "
                        f"{', '.join(preds) or 'not recorded'})")
        lines.append(f"numbers in {y}: {text}")
    return lines


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="SSB table 07459 saved from Statistikkbanken: CSV "
                                         "(semicolon-separated), XLSX or JSON-stat 2.")],
    code: Annotated[str | None, typer.Option(
        "--code", help="Write this municipality (number or name); the file may hold it, or "
        "all the municipalities it merged from (they are summed). Default: every region in "
        "the file.")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Folder for the municipality file (default: your data folder; see "
        "`welfare-sim municipality list`).")] = None,
    replace: Annotated[bool, typer.Option(
        "--replace", help="Overwrite years already imported with different figures.")] = False,
    fmt: Annotated[str | None, typer.Option(
        "--format", help="csv, xlsx or json-stat2 (default: guessed).")] = None,
    year: Annotated[int | None, typer.Option(
        "--year", help="Import only this year (default: every year in the file).")] = None,
) -> None:
    """Import a population file from SSB table 07459 (single-year ages, both sexes)."""
    for line in do_import(file, code, out, replace, fmt=fmt, year=year):
        typer.echo(line)


@app.command("fetch")
def fetch(
    code: Annotated[str, typer.Argument(help="Municipality number or name, e.g. 3118.")],
    year: Annotated[int, typer.Option("--year", help="Population on 1 January of this year "
                                      "(2016 or 2020 to run the model).")] = 2020,
    refresh: Annotated[bool, typer.Option(
        "--refresh", help="Ask SSB again even if the answer is cached.")] = False,
    replace: Annotated[bool, typer.Option(
        "--replace", help="Overwrite years already imported with different figures.")] = False,
) -> None:
    """Ask SSB's API (PxWebApi v2) for table 07459 and import the answer (cached)."""
    from sim.demography import municipalities as m

    pop, target, codes, cache = m.fetch_07459(code, year, refresh=refresh)
    res = m.write_imported(pop, target, parts=codes, replace=replace,
                           source_label=f"SSB PxWebApi v2 (cached in {cache})")
    for line in _report(res, codes, None):
        typer.echo(line)


@app.command("list")
def list_() -> None:
    """Municipalities available locally, with base years and provenance."""
    for line in do_list():
        typer.echo(paragraph(line))


@app.command("codes")
def codes(query: Annotated[str, typer.Argument(help="Number or name, current or former.")]) -> None:
    """How a municipality number or name resolves across the 2018, 2020 and 2024 reforms."""
    for line in do_codes(query):
        typer.echo(paragraph(line))


def register(main_app: typer.Typer) -> None:
    main_app.add_typer(app, name="municipality")
