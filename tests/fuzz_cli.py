"""Adversarial fuzzing of the command line (issue 16): scenario files, experiment files and
CLI arguments, each case in a sandbox full of the "user's" own files.

Every case must end with exit 0 or 2 (130/143 only for signals, never sent here), with no
"internal error" and no Python traceback, within :data:`CASE_SECONDS` of CPU time (and 300 s
of wall time: on a loaded machine wall time measures the other processes), and every file the
user had before the case (outside earlier welfare-sim output folders) must still be there with
the same content.

Cases run in a forked child of a process that has imported welfare-sim once, so 2,000 cases
take minutes, not hours. Run all of them with::

    .venv/bin/python tests/fuzz_cli.py --cases 2000 --report fuzz_report.json

``tests/test_fuzz_cli.py`` runs a 40-case subset in the default suite and the rest under
``-m slow``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CASE_SECONDS = 20.0  # CPU seconds of the case's process tree (see run_case)
WALL_SECONDS = 300.0  # a hard cap on wall time, whatever the machine's load
USER_TEXT = "the user's own file: never to be touched"

# ------------------------------------------------------------------ inputs
SCENARIO_HEAD = """extends = "classroom.toml"
name = "fuzz"
paradigm = "npm"
"""
# kept at the end of every mutated scenario, so a valid case stays a one-year run at 1:100
# (a long simulation is not a hang, but it would look like one under the 20 s limit)
SCENARIO_TAIL = """[run]
end_year = 2016
population_scale = 0.01
"""
BASE_SCENARIO = SCENARIO_HEAD + SCENARIO_TAIL

BASE_EXPERIMENT = """name = "e16"
base = "base.toml"
replications = 1
metrics = ["quality", "coverage"]
years = [2016]
[parameters]
"cocreation.thick_share" = [0.2, 0.4]
"""

HOSTILE_VALUES = [
    "9" * 400, "-" + "9" * 400, "1e400", "-1e400", "inf", "nan", "-inf", "0", "-1",
    "1.7976931348623157e308", "true", '"false"', '""', '"' + "x" * 5000 + '"', "[]",
    "[1, 2]", "{}", "{2016 = 0.1, 2030 = 0.3}", "{2016 = 0.1, x = 2}", "1979-05-27",
    "[" * 60 + "]" * 60, "{a = " * 40 + "1" + "}" * 40, '"[/]"', '"[bold]x"', '"\\u0000"',
    '"$(rm -rf ~)"', '"__import__(\'os\').system(\'true\')"', "0.5", "2", "100001",
]
HOSTILE_NAMES = ['"[/]"', '"[bold]x[/bold]"', '"' + "n" * 100_000 + '"', '"a\\nb"', '"‮evil"',
                 '"' + "[" * 300 + '"', "42", "[1]", '"ok"', '"x" ', '"😀"' * 50]
PARAMS = ["cocreation.thick_share", "finance.budget_growth_per_year", "run.population_scale",
          "run.end_year", "run.start_year", "volunteers.initial_share_of_adults", "no.such.param",
          "run.municipality", "demography.alternative", "cocreation"]
METRICS = ['["quality"]', '["quality", "quality"]', "[]", '["nope"]', '"quality"',
           '["quality", "coverage", "satisfaction"]', "[1]", '["year"]']
YEARS = ["[2016]", "[2016, 2016]", "[]", "[1900]", "[2016.0]", '["2016"]', "2016",
         "[2016, 2017]", "[" + ", ".join(["2016"] * 300) + "]"]
DESIGNS = [
    "", '[design]\nmethod = "full_factorial"\n', '[design]\nmethod = "latin_hypercube"\n'
    "samples = 2\n", '[design]\nmethod = "latin_hypercube"\nsamples = 10000000\n',
    '[design]\nmethod = "sobol"\nsamples = 2\nsecond_order = "false"\n',
    '[design]\nmethod = "sobol"\nsamples = 4000000\n', '[design]\nmethod = "morris"\n'
    "samples = 1\nlevels = 1\n", '[design]\nmethod = "nope"\n', "[design]\nseed = -1\n",
    "design = 3\n", '[design]\nmethod = "sobol"\nsamples = 2\nsecond_order = 1\n',
]
FACTORS = [
    '"cocreation.thick_share" = [0.2, 0.4]',
    '"cocreation.thick_share" = [' + ", ".join(f"0.{i:03d}" for i in range(1, 700)) + ", 1.5]",
    '"cocreation.thick_share" = {low = 0.1, high = 0.5}',
    '"cocreation.thick_share" = {low = 0.5, high = 0.1}',
    '"finance.budget_growth_per_year" = [0.01, {2016 = 0.0, 2030 = 0.02}]',
    'paradigm = ["npm", {from = "npm", to = "network_governance", start = 2020, end = 2030}]',
    'paradigm = ["npm", 3]', '"cocreation.thick_share" = []', '"x" = [1]',
    ".".join(["a"] * 1000) + " = [1]", '"cocreation.thick_share" = [' + "9" * 400 + "]",
    '"run.end_year" = [2016, 2300]',
]

COMMANDS = ("run", "validate", "compare", "sweep", "analyze", "summarize", "demography",
            "animate", "live", "params", "metrics")


@dataclass
class Case:
    """One CLI invocation in a sandbox."""

    index: int
    family: str
    args: list[str]
    files: dict[str, str] = field(default_factory=dict)
    setup: list[str] = field(default_factory=list)  # named sandbox features to add

    def describe(self) -> str:
        return f"#{self.index} [{self.family}] welfare-sim {' '.join(self.args)[:300]}"


# ------------------------------------------------------------------ generation
def _mutate_text(rng: random.Random, text: str) -> str:
    lines = text.splitlines()
    for _ in range(rng.randint(1, 3)):
        op = rng.random()
        if op < 0.3 and lines:
            i = rng.randrange(len(lines))
            if "=" in lines[i]:
                key = lines[i].split("=", 1)[0]
                lines[i] = f"{key}= {rng.choice(HOSTILE_VALUES)}"
        elif op < 0.5:
            lines.insert(rng.randint(0, len(lines)),
                         f'"{rng.choice(PARAMS)}" = {rng.choice(HOSTILE_VALUES)}')
        elif op < 0.6 and lines:
            del lines[rng.randrange(len(lines))]
        elif op < 0.7:
            lines.insert(0, f"name = {rng.choice(HOSTILE_NAMES)}")
        elif op < 0.8 and lines:
            i = rng.randrange(len(lines))
            s = lines[i]
            if s:
                j = rng.randrange(len(s))
                lines[i] = s[:j] + rng.choice(["[", "]", "{", "}", '"', "=", "\\", "\x00",
                                               "é", "\t", "#"]) + s[j + 1:]
        elif op < 0.9:
            lines.insert(rng.randint(0, len(lines)), rng.choice(
                ["[run]", "[[run]]", "extends = \"../../../../etc/passwd\"",
                 "extends = \"/etc/hosts\"", "extends = \"loop.toml\"",
                 "extends = \"fuzz.toml\"", "seed = -1", "seed = " + "9" * 30,
                 "description = \"" + "d" * 30000 + "\"", "[parameters]",
                 ".".join(["cocreation"] * 1000) + " = 1"]))
        else:
            lines = lines[: rng.randint(0, len(lines))]
    return "\n".join(lines) + ("\n" if rng.random() < 0.9 else "")


OUTS = ["out", "results/new", "user", "link_user", ".", "..", "~", "afile.txt", "prev_run",
        "prev_sweep", "prev_compare", "empty_dir", "link_loop", "afile.txt/sub",
        "deep/" * 30 + "x", "x" * 300, "prev_summary", "user/sub", "link_prev_sweep"]


def _out(rng: random.Random) -> str:
    o = rng.choice(OUTS)
    return o


def _flags(rng: random.Random, kind: str) -> list[str]:
    flags: list[str] = []
    if rng.random() < 0.5:
        flags.append("--overwrite")
    if kind in ("sweep", "compare") and rng.random() < 0.35:
        flags.append("--resume")
    if kind in ("sweep", "compare"):
        w = rng.choice(["1", "1", "1", "1", "2", "0", "-1", "x", "1.5", "999999999999"])
        flags += ["--workers", w]
    return flags


def generate(n: int, seed: int = 16) -> list[Case]:
    rng = random.Random(seed)
    cases: list[Case] = []
    families = ["scenario", "experiment", "arguments", "paths", "outputs"]
    for i in range(n):
        fam = families[i % len(families)]
        cases.append(_case(rng, i, fam))
    return cases


def _case(rng: random.Random, i: int, fam: str) -> Case:
    if fam == "scenario":
        text = _mutate_text(rng, SCENARIO_HEAD) + SCENARIO_TAIL
        cmd = rng.choice(["validate", "run", "run", "demography", "compare", "validate"])
        args = [cmd, "fuzz.toml"]
        if cmd == "run":
            args += ["--out", _out(rng)] + _flags(rng, "run")
            if rng.random() < 0.2:
                args += ["--seed", rng.choice(["-1", "0", "7", "9" * 25])]
        elif cmd == "compare":
            args += ["-n", rng.choice(["1", "1", "0", "-3"]), "--out", _out(rng)]
            args += _flags(rng, "compare")
            if rng.random() < 0.3:
                args += ["--seed", rng.choice(["-1", "0", "5"])]
        elif cmd == "demography":
            args += ["--figure", rng.choice(["fig.png", "x.txt", "empty_dir", "user",
                                             "afile.txt", "fig.svg", "link_user/f.png"])]
            if rng.random() < 0.4:
                args += ["--years", rng.choice(["2016,2040", "x", "-1", "2016,,", ""])]
        return Case(i, fam, args, {"fuzz.toml": text})
    if fam == "experiment":
        text = BASE_EXPERIMENT
        if rng.random() < 0.5:
            text = text.replace('"cocreation.thick_share" = [0.2, 0.4]', rng.choice(FACTORS))
        if rng.random() < 0.3:
            text = text.replace('metrics = ["quality", "coverage"]',
                                f"metrics = {rng.choice(METRICS)}")
        if rng.random() < 0.3:
            text = text.replace("years = [2016]", f"years = {rng.choice(YEARS)}")
        if rng.random() < 0.3:
            text = text.replace("replications = 1", "replications = " + rng.choice(
                ["0", "2", "150000", "-1", "1.5", '"2"', "200001"]))
        if rng.random() < 0.4:
            text += "\n" + rng.choice(DESIGNS)
        if rng.random() < 0.2:
            text = text.replace('name = "e16"', f"name = {rng.choice(HOSTILE_NAMES)}")
        if rng.random() < 0.3:
            text = _mutate_text(rng, text)
        args = ["sweep", "e16.toml", "--out", _out(rng)] + _flags(rng, "sweep")
        return Case(i, fam, args, {"e16.toml": text, "base.toml": BASE_SCENARIO})
    if fam == "arguments":
        cmd = rng.choice(COMMANDS)
        junk = ["--", "-", "--out", "--overwrite", "--resume", "--workers", "-n", "--seed",
                "--year", "--to", "--figure", "--host", "--port", "--fps", "--years",
                "--months-per-frame", "--paradigm", "--scheduler", "tcp://", "nope",
                "9" * 40, "-1", "0", "::", "0.0.0.0", "[/]", "é", "%s", "{}", " ",
                "fuzz.toml", "e16.toml", "prev_sweep", "prev_compare", "user", "afile.txt",
                "--markdown", "--json", "--csv", "--help"]
        args = [cmd] + [rng.choice(junk) for _ in range(rng.randint(0, 5))]
        if cmd == "live":
            args += ["--host", rng.choice(["::", "0.0.0.0", "127.0.0.1", "nope.invalid",
                                           "1.2.3.4", "", "::1"])]
        if cmd == "animate":
            args = ["animate", "fuzz.toml", "--out", rng.choice(
                ["a.gif", "a.txt", "empty_dir", "dir.gif", "user/a.gif", "nofolder/a.gif"]),
                "--years", rng.choice(["1", "0", "-1", "x"])]
        if cmd == "scheduler":
            args += ["--scheduler", "tcp://127.0.0.1:9"]
        return Case(i, fam, args, {"fuzz.toml": BASE_SCENARIO, "e16.toml": BASE_EXPERIMENT,
                                   "base.toml": BASE_SCENARIO})
    if fam == "paths":
        target = rng.choice(["fifo.toml", "/dev/zero", "/dev/null", "loop.toml", "empty_dir",
                             "user", "afile.txt", "missing.toml", "link_user", "big.toml",
                             "x" * 300 + ".toml", "bin.toml", "/proc/self/mem",
                             "link_fifo.toml"])
        cmd = rng.choice(["validate", "run", "sweep", "compare", "demography", "analyze",
                          "summarize", "animate"])
        args = [cmd, target]
        if cmd in ("run", "sweep", "compare"):
            args += ["--out", _out(rng)] + _flags(rng, cmd)
        if cmd == "summarize":
            args += ["--to", rng.choice(["s", "user", ".", target])]
        if cmd == "animate":
            args += ["--out", "a.gif", "--years", "1"]
        return Case(i, fam, args, {"fuzz.toml": BASE_SCENARIO})
    # outputs: analyze/summarize/sweep/compare/run against earlier outputs, damaged or not
    cmd = rng.choice(["analyze", "summarize", "summarize", "sweep", "run", "compare"])
    setup = [rng.choice(["", "corrupt_results", "manifest_list", "manifest_garbage",
                         "zero_run", "no_results", "manifest_compare_kind", "marker_garbage"])]
    if cmd == "analyze":
        args = ["analyze", rng.choice(["prev_sweep", "prev_compare", "prev_run", "user",
                                        "empty_dir", "link_prev_sweep"])]
        if rng.random() < 0.3:
            args += ["--year", rng.choice(["2016", "1900", "x", "-1"])]
    elif cmd == "summarize":
        src = rng.choice(["prev_sweep", "prev_compare", "prev_run", "user", "link_prev_sweep"])
        args = ["summarize", src, "--to", rng.choice(["s", src, "prev_sweep/sub", "user",
                                                       "prev_summary", ".", "~", "afile.txt",
                                                       "prev_sweep/.."])]
    elif cmd == "sweep":
        args = ["sweep", "e16.toml", "--out", rng.choice(["prev_sweep", "prev_compare",
                                                           "prev_run", "link_prev_sweep"])]
        args += _flags(rng, "sweep")
    elif cmd == "compare":
        args = ["compare", "fuzz.toml", "-n", "1", "--out",
                rng.choice(["prev_compare", "prev_sweep", "prev_run", "user"])]
        args += _flags(rng, "compare")
    else:
        args = ["run", "fuzz.toml", "--out", rng.choice(["prev_run", "prev_sweep", "user"])]
        args += _flags(rng, "run")
    return Case(i, fam, args, {"fuzz.toml": BASE_SCENARIO, "e16.toml": BASE_EXPERIMENT,
                               "base.toml": BASE_SCENARIO}, setup)


# ------------------------------------------------------------------ sandbox
def _user_tree(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "thesis.docx").write_text(USER_TEXT)
    (folder / "data").mkdir(exist_ok=True)
    (folder / "data" / "survey.csv").write_text(USER_TEXT)
    (folder / "manifest.json").write_text('{"mine": true}')
    (folder / "summary.csv").write_text(USER_TEXT)


def make_templates(base: Path) -> Path:
    """Real earlier outputs (a run, a sweep, a compare and a summary), made once."""
    from sim.cli.main import main

    tpl = base / "templates"
    tpl.mkdir(parents=True)
    sys.stdout.flush()
    sys.stderr.flush()
    (tpl / "fuzz.toml").write_text(BASE_SCENARIO)
    (tpl / "base.toml").write_text(BASE_SCENARIO)
    (tpl / "e16.toml").write_text(BASE_EXPERIMENT)
    pid = os.fork()  # in a child: the parent stays free of the threads a run starts
    if pid:
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"making the template outputs failed (see {tpl})")
        return tpl
    code = 0
    os.chdir(tpl)
    fd = os.open(tpl / "templates.log", os.O_WRONLY | os.O_CREAT, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    try:
        for argv in (["run", "fuzz.toml", "--out", "prev_run"],
                     ["sweep", "e16.toml", "--out", "prev_sweep", "--workers", "1"],
                     ["compare", "fuzz.toml", "-n", "1", "--out", "prev_compare",
                      "--workers", "1"],
                     ["summarize", "prev_sweep", "--to", "prev_summary"]):
            sys.argv = ["welfare-sim", *argv]
            try:
                main()
            except SystemExit as exc:
                if exc.code not in (0, None):
                    code = 1
    except BaseException:  # noqa: BLE001 - reported by the exit code
        code = 1
    finally:
        os._exit(code)


def build_sandbox(case: Case, root: Path, tpl: Path) -> tuple[Path, dict[str, str]]:
    work = root / "work"
    work.mkdir(parents=True)
    _user_tree(root / "home")
    _user_tree(root / "user")
    _user_tree(work / "mine")
    (work / "notes.md").write_text(USER_TEXT)
    (work / "afile.txt").write_text(USER_TEXT)
    (work / "empty_dir").mkdir()
    (work / "user").symlink_to(root / "user")
    (work / "link_user").symlink_to(root / "user")
    (work / "loop.toml").symlink_to(work / "loop2.toml")
    (work / "loop2.toml").symlink_to(work / "loop.toml")
    (work / "link_loop").symlink_to(work / "link_loop")
    os.mkfifo(work / "fifo.toml")
    (work / "link_fifo.toml").symlink_to(work / "fifo.toml")
    if "big.toml" in case.args:
        (work / "big.toml").write_text("#" * 1_100_000)
    (work / "bin.toml").write_bytes(bytes(range(256)) * 10)
    if "prev" in " ".join(case.args) or case.setup:  # copies only when a case uses them
        for name in ("prev_run", "prev_sweep", "prev_compare", "prev_summary"):
            shutil.copytree(tpl / name, work / name, symlinks=True)
        (work / "link_prev_sweep").symlink_to(work / "prev_sweep")
    for rel, text in case.files.items():
        (work / rel).write_text(text, encoding="utf-8", errors="surrogateescape")
    for s in case.setup:
        sw = work / "prev_sweep"
        if s == "corrupt_results":
            (sw / "results.parquet").write_bytes(b"PAR1garbagePAR1")
        elif s == "manifest_list":
            (sw / "manifest.json").write_text("[]")
        elif s == "manifest_garbage":
            (sw / "manifest.json").write_text("{nope")
        elif s == "zero_run":
            for p in (sw / "runs").glob("*.parquet"):
                p.write_bytes(b"")
                break
        elif s == "no_results":
            (sw / "results.parquet").unlink()
        elif s == "manifest_compare_kind":
            m = json.loads((sw / "manifest.json").read_text())
            m["kind"] = "compare"
            (sw / "manifest.json").write_text(json.dumps(m))
        elif s == "marker_garbage":
            (sw / ".welfare-sim.json").write_text("garbage")
    return work, snapshot(root)


TOOL_DIRS = ("prev_run", "prev_sweep", "prev_compare", "prev_summary")


def snapshot(root: Path) -> dict[str, str]:
    """Hash of every regular file the user owns under ``root`` (not earlier tool outputs,
    whose replacement is the point of --overwrite)."""
    out: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel = Path(dirpath).relative_to(root)
        if rel.parts[:2] and rel.parts[0] == "work" and len(rel.parts) > 1 \
                and rel.parts[1] in TOOL_DIRS:
            dirnames[:] = []
            continue
        for f in filenames:
            p = Path(dirpath) / f
            if p.is_symlink() or not p.is_file():
                continue
            out[str(p.relative_to(root))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


# ------------------------------------------------------------------ running
@dataclass
class Outcome:
    case: str
    code: int | None
    seconds: float
    cpu: float = 0.0
    internal_error: bool = False
    traceback: bool = False
    hang: bool = False
    lost: list[str] = field(default_factory=list)
    bad_exit: bool = False
    tail: str = ""

    @property
    def ok(self) -> bool:
        return not (self.internal_error or self.traceback or self.hang or self.lost
                    or self.bad_exit)


def _child(case: Case, work: Path, root: Path, log: Path) -> None:
    """In the forked child: run the command with the sandbox as cwd and HOME."""
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.setsid()
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.environ["HOME"] = str(root / "home")
    os.environ.pop("WELFARE_SIM_DEBUG", None)
    os.environ["COLUMNS"] = "100"
    os.chdir(work)
    sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
    sys.stdin = open(os.devnull)  # noqa: SIM115
    os.execve = lambda *a: os._exit(0)  # live before issue 14: never start a server
    import sim.live.server

    # live since issue 14 serves in this process: stop where the server would start (every
    # check of the command has run by then), or each valid `live` case waits out the wall cap
    sim.live.server.serve = lambda *a, **k: os._exit(0)
    import sim.cli.common as common

    common.console.file = sys.stderr
    common.out.file = sys.stdout
    sys.argv = ["welfare-sim", *case.args]
    code = 1
    try:
        from sim.cli.main import main

        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    except BaseException:  # noqa: BLE001 - reported as a traceback
        import traceback

        traceback.print_exc()
        code = 99
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _tree_cpu(sid: int) -> float:
    """CPU seconds (user + system, with reaped children) of every process in session
    ``sid`` (the case and its pool workers): a hang is measured in CPU time, since on a
    loaded machine wall time measures the other processes."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            fields = Path(f"/proc/{d}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) != sid:  # field 6 (session) after the ")"-terminated name
            continue
        total += sum(int(x) for x in fields[11:15]) / tick  # utime stime cutime cstime
    return total


def run_case(case: Case, base: Path, tpl: Path, seconds: float = CASE_SECONDS) -> Outcome:
    """Run one case; it "hangs" if its process tree uses more than ``seconds`` of CPU or
    runs for :data:`WALL_SECONDS`."""
    root = Path(tempfile.mkdtemp(prefix=f"case{case.index}-", dir=base))
    work, before = build_sandbox(case, root, tpl)
    log = root / "output.log"
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        _child(case, work, root, log)
    code = None
    hang = False
    cpu = 0.0
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            code = os.waitstatus_to_exitcode(status)
            cpu = max(cpu, usage.ru_utime + usage.ru_stime)
            break
        cpu = max(cpu, _tree_cpu(pid))
        if cpu > seconds or time.monotonic() - t0 > WALL_SECONDS:
            hang = True
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            break
        time.sleep(0.05)
    elapsed = time.monotonic() - t0
    try:  # spawn workers of the case, if any, are in its session: none may outlive it
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass
    text = log.read_text(errors="replace") if log.exists() else ""
    after = snapshot(root)
    lost = sorted(k for k, v in before.items() if after.get(k) != v)
    out = Outcome(case.describe(), code, round(elapsed, 2), round(cpu, 2),
                  internal_error="internal error" in text, traceback="Traceback" in text,
                  hang=hang, lost=lost, bad_exit=code not in (0, 2), tail=text[-600:])
    if out.ok:
        shutil.rmtree(root, ignore_errors=True)
    return out


def warm_up() -> None:
    """Import what the commands import, once, before forking."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401
    import pandas  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    import sim.cli.main  # noqa: F401
    import sim.experiments.analysis  # noqa: F401
    import sim.experiments.compare  # noqa: F401
    import sim.experiments.summary  # noqa: F401
    import sim.experiments.sweep  # noqa: F401
    import sim.model  # noqa: F401
    import sim.runner  # noqa: F401


def run_all(cases: list[Case], base: Path, progress: bool = False) -> list[Outcome]:
    warm_up()
    tpl = make_templates(base)
    outs = []
    for k, c in enumerate(cases):
        o = run_case(c, base, tpl)
        outs.append(o)
        if progress and (k % 50 == 0 or not o.ok):
            flag = "" if o.ok else f"  FAILED {o.tail[-300:]!r}"
            print(f"{k + 1}/{len(cases)} {o.case[:120]} -> {o.code} {o.seconds}s{flag}",
                  flush=True)
    return outs


def summary(outs: list[Outcome]) -> dict[str, Any]:
    codes: dict[str, int] = {}
    for o in outs:
        codes[str(o.code)] = codes.get(str(o.code), 0) + 1
    times = sorted(o.seconds for o in outs)
    cpus = sorted(o.cpu for o in outs)
    return {
        "cases": len(outs), "internal_errors": sum(o.internal_error for o in outs),
        "tracebacks": sum(o.traceback for o in outs), "hangs": sum(o.hang for o in outs),
        "user_files_lost": sum(bool(o.lost) for o in outs),
        "bad_exit_codes": sum(o.bad_exit for o in outs), "exit_codes": codes,
        "max_seconds": times[-1] if times else 0, "max_cpu_seconds": cpus[-1] if cpus else 0,
        "cases_over_20_s_wall": sum(t > 20 for t in times),
        "p95_seconds": times[int(0.95 * (len(times) - 1))] if times else 0,
        "slowest": [(o.case, o.seconds, o.cpu)
                    for o in sorted(outs, key=lambda o: -o.seconds)[:10]],
        "failures": [o.__dict__ for o in outs if not o.ok],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", type=str, default="",
                    help="comma-separated case numbers to run (e.g. failures of a report)")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--cases", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--report", type=Path, default=None)
    a = ap.parse_args()
    cases = generate(a.start + a.cases, a.seed)[a.start:]
    if a.only:
        want = {int(x) for x in a.only.split(",")}
        cases = [c for c in generate(max(want) + 1, a.seed) if c.index in want] * a.repeat
    base = Path(tempfile.mkdtemp(prefix="fuzz-cli-"))
    t0 = time.monotonic()
    outs = run_all(cases, base, progress=True)
    s = summary(outs)
    s["wall_seconds"] = round(time.monotonic() - t0, 1)
    text = json.dumps(s, indent=1)
    if a.report:
        a.report.write_text(text + "\n")
    print(json.dumps({k: v for k, v in s.items() if k != "failures"}, indent=1))
    for f in s["failures"][:20]:
        print(f)
    if not [o for o in outs if not o.ok]:
        shutil.rmtree(base, ignore_errors=True)
    sys.exit(0 if not s["failures"] else 1)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
