"""Entry point of ``welfare-sim``: assembles the commands and turns user errors into one
clear paragraph on stderr (exit 2) instead of a traceback.

Usage errors (a bad option value, a missing argument, an unknown command) are click's: they
print the usage line, a hint (``Try 'welfare-sim run --help'``) and exit 2. typer ≥ 0.29
bundles its own copy of click (``typer._click``), so both that copy's exceptions and the
installed click's are recognised; "internal error" is kept for real bugs.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from sim.cli import calibrate, demography, failures, municipality, run
from sim.errors import WelfareSimError

app = typer.Typer(
    name="welfare-sim",
    help="Compare traditional, NPM and network-governance (co-creation) welfare paradigms "
         "against the demographic shift to 2060: cost, demand and service quality.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        from importlib import metadata

        try:
            v = metadata.version("welfare-sim")
        except metadata.PackageNotFoundError:  # running from a source tree, not installed
            v = "unknown (not installed)"
        typer.echo(f"welfare-sim {v}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Compare traditional, NPM and network-governance (co-creation) welfare paradigms
    against the demographic shift to 2060: cost, demand and service quality."""


def _exit_types() -> tuple[type[BaseException], ...]:
    types: list[type[BaseException]] = [typer.Exit]
    for mod in ("typer._click.exceptions", "click.exceptions"):
        try:
            types.append(__import__(mod, fromlist=["Exit"]).Exit)
        except (ImportError, AttributeError):
            pass
    return tuple(types)


for module in (run, demography, calibrate, municipality):
    module.register(app)

for optional in ("sim.cli.experiments", "sim.cli.live"):
    try:  # commands of optional parts (experiments, live page) register themselves
        __import__(optional)
        sys.modules[optional].register(app)
    except ModuleNotFoundError as exc:
        if exc.name != optional:
            raise


def _click_error(exc: BaseException) -> bool:
    """A usage error of click, or of the copy of click that typer ≥ 0.2x vendors
    (``typer._click``): shown as usage text with exit 2, never as an internal error."""
    import importlib

    for name in ("click.exceptions", "typer._click.exceptions"):
        try:
            mod = importlib.import_module(name)
        except ImportError:
            continue
        if isinstance(exc, mod.ClickException):
            return True
    return False


def main() -> None:
    failures.install_sigterm()
    try:
        rc = app(standalone_mode=False, prog_name="welfare-sim")
        if failures.terminated():
            typer.echo("terminated (finished results are kept; a sweep continues with "
                       "--resume)", err=True)
            sys.exit(failures.EXIT_TERMINATED)
        if isinstance(rc, int) and rc:
            if rc == 130:  # Ctrl-C: click returns 130 with standalone_mode=False, silently
                typer.echo("interrupted (finished results are kept; a sweep continues with "
                           "--resume)", err=True)
            sys.exit(rc)
    except WelfareSimError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        if failures.terminated():
            typer.echo("terminated", err=True)
            sys.exit(failures.EXIT_TERMINATED)
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except _exit_types() as exc:
        if failures.terminated():
            typer.echo("terminated", err=True)
            sys.exit(failures.EXIT_TERMINATED)
        sys.exit(getattr(exc, "exit_code", 0))
    except typer.Abort:
        if failures.terminated():
            typer.echo("terminated", err=True)
            sys.exit(failures.EXIT_TERMINATED)
        typer.echo("aborted", err=True)
        sys.exit(1)
    except Exception as exc:  # click usage errors and internal bugs
        if _click_error(exc):
            exc.show()  # type: ignore[attr-defined]
            sys.exit(getattr(exc, "exit_code", 2) or 2)
        if failures.terminated():
            typer.echo("terminated", err=True)
            sys.exit(failures.EXIT_TERMINATED)
        known = failures.classify(exc)
        if known is not None and not os.environ.get("WELFARE_SIM_DEBUG"):
            typer.echo(f"error: {known}", err=True)
            sys.exit(2)
        if os.environ.get("WELFARE_SIM_DEBUG"):
            raise
        typer.echo(f"internal error: {type(exc).__name__}: {exc}\nThis is a bug in welfare-sim; "
                   "rerun with WELFARE_SIM_DEBUG=1 for the traceback and report it.", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
