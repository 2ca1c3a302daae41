"""Entry point of ``welfare-sim``: assembles the commands and turns user errors into one
clear paragraph on stderr (exit 2) instead of a traceback."""

from __future__ import annotations

import os
import sys

import typer

from sim.cli import calibrate, demography, municipality, run
from sim.errors import WelfareSimError

app = typer.Typer(
    name="welfare-sim",
    help="Compare traditional, NPM and network-governance (co-creation) welfare paradigms "
         "against the demographic shift to 2060: cost, demand and service quality.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
for module in (run, demography, calibrate, municipality):
    module.register(app)

for optional in ("sim.cli.experiments", "sim.cli.live"):
    try:  # commands of optional parts (experiments, live page) register themselves
        __import__(optional)
        sys.modules[optional].register(app)
    except ModuleNotFoundError as exc:
        if exc.name != optional:
            raise


def main() -> None:
    try:
        rc = app(standalone_mode=False)
        if isinstance(rc, int) and rc:
            if rc == 130:  # Ctrl-C: click returns 130 with standalone_mode=False, silently
                typer.echo("interrupted (finished results are kept; a sweep continues with "
                           "--resume)", err=True)
            sys.exit(rc)
    except WelfareSimError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(1)
    except Exception as exc:  # click usage errors and internal bugs
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if os.environ.get("WELFARE_SIM_DEBUG"):
            raise
        typer.echo(f"internal error: {type(exc).__name__}: {exc}\nThis is a bug in welfare-sim; "
                   "rerun with WELFARE_SIM_DEBUG=1 for the traceback and report it.", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
