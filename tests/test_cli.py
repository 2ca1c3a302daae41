"""The command line as a user meets it: usage errors exit 2 with click's usage line and a
hint (never "internal error"), ``--version``, ``params`` as a plain 80-column list that exits 2
when nothing matches, and tables that wrap instead of cutting names."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCEN = ROOT / "scenarios" / "classroom.toml"


def cli(*args: str, cwd: Path | None = None, env: dict | None = None,
        timeout: float = 300) -> subprocess.CompletedProcess:
    """``welfare-sim ARGS`` in a fresh process, output piped (not a terminal)."""
    e = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    e.update(env or {})
    return subprocess.run([sys.executable, "-m", "sim.cli.main", *args], capture_output=True,
                          text=True, cwd=cwd or ROOT, env=e, timeout=timeout)


# every command's bad-argument path: (arguments, a fragment click's message must contain)
USAGE_ERRORS = [
    (["foo"], "No such command"),
    (["--bogus"], "No such option"),
    (["run"], "Missing argument"),
    (["run", "--seed", "abc", str(SCEN)], "'--seed'"),
    (["run", str(SCEN), "--bogus"], "No such option"),
    (["validate"], "Missing argument"),
    (["metrics", "extra"], "unexpected extra argument"),
    (["params", "a", "b"], "unexpected extra argument"),
    (["demography"], "Missing argument"),
    (["compare"], "Missing argument"),
    (["compare", str(SCEN), "--replications", "0"], "--replications"),
    (["compare", str(SCEN), "--workers", "x"], "'--workers'"),
    (["sweep"], "Missing argument"),
    (["analyze"], "Missing argument"),
    (["analyze", "x", "--year", "soon"], "'--year'"),
    (["summarize"], "Missing argument"),
    (["animate", str(SCEN)], "Missing option '--out'"),
    (["live", "--port", "eighty"], "'--port'"),
    (["calibrate"], "Missing argument"),
    (["calibrate", "calibration/quick.toml", "--workers", "x"], "'--workers'"),
    (["municipality", "bogus"], "No such command"),
    (["municipality", "import"], "Missing argument"),
    (["municipality", "import", "x.csv", "--year", "soon"], "'--year'"),
    (["municipality", "fetch"], "Missing argument"),
    (["municipality", "fetch", "3118", "--year", "soon"], "'--year'"),
    (["municipality", "list", "extra"], "unexpected extra argument"),
    (["municipality", "codes"], "Missing argument"),
]


@pytest.mark.parametrize("args,fragment", USAGE_ERRORS, ids=[" ".join(a[:3]).replace(
    str(ROOT) + "/", "") for a, _ in USAGE_ERRORS])
def test_usage_errors_exit_2_with_usage_and_hint(args, fragment):
    r = cli(*args)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "internal error" not in r.stderr and "Traceback" not in r.stderr
    assert "Usage: " in r.stderr
    assert "Try 'welfare-sim" in r.stderr and "--help' for help" in r.stderr  # the hint
    assert fragment.lower() in r.stderr.lower(), r.stderr


def test_version():
    from importlib import metadata

    r = cli("--version")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"welfare-sim {metadata.version('welfare-sim')}"


def test_internal_error_still_reported_as_bug(monkeypatch, capsys):
    """A real bug (not a usage error) keeps the 'internal error' message and exit 1."""
    from sim.cli import main as m

    def boom(*a, **k):
        raise ZeroDivisionError("x")

    monkeypatch.setattr(m, "app", boom)
    monkeypatch.delenv("WELFARE_SIM_DEBUG", raising=False)
    with pytest.raises(SystemExit) as exc:
        m.main()
    assert exc.value.code == 1
    assert "internal error: ZeroDivisionError" in capsys.readouterr().err


def test_params_piped_is_a_plain_list_within_80_columns():
    from sim.params import registry

    r = cli("params", "cocreation")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    names = [p.name for p in registry().values() if "cocreation" in p.name]
    long_name = max(names, key=len)
    assert long_name in lines  # the full name alone on its line: nothing cut
    assert "…" not in r.stdout
    assert all(len(line) <= 80 for line in lines if line not in names)
    # descriptions are shown
    assert registry()[long_name].description.split()[0] in r.stdout


def test_params_no_match_exits_2():
    r = cli("params", "no_such_parameter_xyz")
    assert r.returncode == 2
    assert "no_such_parameter_xyz" in r.stderr and "Traceback" not in r.stderr
    assert r.stdout == ""


def test_metrics_table_fits_80_columns():
    from sim.metrics import METRIC_NAMES

    r = cli("metrics")
    assert r.returncode == 0, r.stderr
    assert all(len(line) <= 80 for line in r.stdout.splitlines())
    assert "…" not in r.stdout
    firsts = {line.split()[0] for line in r.stdout.splitlines() if line.strip()}
    assert set(METRIC_NAMES) <= firsts  # every name whole, at the start of a line


def test_table_text_wraps_and_keeps_names():
    from sim.tables import table_text

    name = "cocreation.facilitation_nonwage_cost_per_hour_and_more_text"
    t = table_text(["name", "meaning"], [[name, "word " * 40]], width=80)
    lines = t.splitlines()
    assert any(line.startswith(name) for line in lines)
    body = [line for line in lines if not line.startswith(name)]
    assert all(len(line) <= 80 for line in body)
    assert t.count("word") == 40  # wrapped, not cut


def test_compare_table_fits_80_columns_without_cutting_names_or_bands():
    import pandas as pd

    from sim.cli.experiments import side_by_side_table
    from sim.experiments.compare import summary_table

    names = ["indre_ostfold_traditional", "indre_ostfold_npm",
             "indre_ostfold_network_governance"]
    rows = []
    for k, n in enumerate(names):
        for r in range(5):
            for metric, base in (("cost_per_inhabitant", 121_681.0), ("quality", 0.5),
                                 ("need_hours", 158_893.0), ("coverage", 0.9)):
                for y in (2040, 2060):
                    rows.append({"scenario": n, "replication": r, "metric": metric, "year": y,
                                 "value": base * (1 + 0.01 * k + 0.003 * r)})
    tidy = pd.DataFrame(rows)
    text = side_by_side_table({"summary": summary_table(tidy), "names": names, "tidy": tidy},
                              width=80)
    lines = text.splitlines()
    assert all(len(line) <= 80 for line in lines), max(lines, key=len)
    assert "…" not in text
    flat = " ".join(text.split())
    for n in names:  # each name whole (possibly wrapped at _ or -), never cut with …
        assert n.split("_")[-1] in flat
    import re

    # medians and bands whole, thousands separated, never scientific notation
    assert re.search(r"^cost per .* 1\d\d,\d\d\d NOK$", text, flags=re.M)
    assert re.search(r"\[1\d\d,\d\d\d –", text) and re.search(r" 1\d\d,\d\d\d\]", text)
    assert "e+" not in text


@pytest.mark.parametrize("args", [
    ["demography", "norway", "--years", "2016,2060"],  # 9-digit totals
    ["municipality", "list"],
    ["municipality", "codes", "Heim"],
    ["municipality", "codes", "Indre Østfold"],
])
def test_demography_and_municipality_output_fit_80_columns(args, tmp_path):
    """Piped output within 80 columns: the demography table was 83 wide and its title 112,
    municipality list ran to 180 columns and cut names at 21 characters."""
    r = cli(*args, env={"WELFARE_SIM_DATA_DIR": str(tmp_path)})
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    # only a single word longer than the line (a long file path) may run past 80
    assert all(len(x) <= 80 or " " not in x.strip() for x in lines), r.stdout
    if args[1] == "list":
        assert "3014 Indre Østfold:" in r.stdout and "norway" in r.stdout
