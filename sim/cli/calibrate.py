"""``welfare-sim calibrate``: fit registry parameters to observed targets (docs/calibration.md)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from sim.cli.common import console
from sim.errors import InputError


def register(app: typer.Typer) -> None:
    @app.command("calibrate")
    def calibrate(
        config: Annotated[Path, typer.Argument(help="Calibration config TOML, e.g. "
                                               "calibration/norway.toml")],
        out_dir: Annotated[Path | None, typer.Option("--out", help="Output folder (default "
                                                     "results/calibration-CONFIG).")] = None,
        resume: Annotated[bool, typer.Option("--resume", help="Continue an interrupted "
                                             "calibration of the same config in --out.")] = False,
        overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace --out (only a "
                                                "folder welfare-sim wrote).")] = False,
        workers: Annotated[int | None, typer.Option("--workers", help="Local worker processes "
                                                    "(default: all cores; 1 = in this "
                                                    "process). The result does not depend "
                                                    "on it.")] = None,
    ) -> None:
        """Fit parameters to observed targets with Optuna; writes calibrated.toml, fit.md,
        fit.csv, fit.png, trials.csv and manifest.json."""
        from sim.calibration import calibrate as run_calibration
        from sim.calibration import load_config

        if workers is not None and workers < 1:
            raise InputError(f"--workers {workers}: expected a whole number ≥ 1.")
        cfg = load_config(config)
        try:
            import optuna  # noqa: F401
        except ModuleNotFoundError:
            raise InputError("welfare-sim calibrate needs Optuna, which is not installed. "
                             "Expected it in the environment: pip install -e \".[experiments]\" "
                             "(make venv does this).") from None
        dest = out_dir or Path("results") / f"calibration-{config.stem}"
        n = workers or os.cpu_count() or 1

        def log(line: str) -> None:
            console.print(line, markup=False, highlight=False, soft_wrap=True)

        run_calibration(cfg, dest, workers=n, resume=resume, overwrite=overwrite, log=log,
                        command=f"welfare-sim calibrate {config}")
