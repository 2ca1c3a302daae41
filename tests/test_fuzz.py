"""Fuzzing of scenario and experiment files (issue 7.3).

Hypothesis generates TOML text (real and near-miss keys, odd values: inf/nan, dates, huge
numbers, nested tables, arrays, junk lines) and byte-level mutations of the bundled files in
scenarios/ and experiments/. The outcome must always be a valid load (then, for a scenario, a
short run) or a clear :class:`InputError` — never another exception and never a hang (every
case runs under an alarm). A sample drives ``welfare-sim run FILE --out DIR``: the exit code is
0 or 2, no traceback, and DIR is either complete or absent.

Scenario files are data: ``extends`` cannot leave the allowed folders by ``../..``, an
absolute path or a symlink, although a path given on the command line may be anywhere.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from sim.errors import InputError
from sim.experiments.design import load_experiment
from sim.model import WelfareModel
from sim.params import registry
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))
EXPERIMENTS = sorted((ROOT / "experiments").glob("*.toml"))
CASE_SECONDS = 30
# cases per test: (default suite, slow suite); totals are in docs/reliability.md
TEXT_CASES = (150, 1000)
SCENARIO_MUTATIONS = (100, 600)
EXPERIMENT_MUTATIONS = (100, 600)
CLI_CASES = (3, 16)

_SETTINGS = dict(deadline=None, database=None, derandomize=True, print_blob=True,
                 phases=[Phase.explicit, Phase.generate],
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                        HealthCheck.filter_too_much])


@contextlib.contextmanager
def alarm(seconds: int = CASE_SECONDS):
    """Fail (TimeoutError) instead of hanging."""
    def boom(signum, frame):
        raise TimeoutError(f"case took more than {seconds} s")
    old = signal.signal(signal.SIGALRM, boom)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    """A copy of scenarios/ and experiments/ (mutated files are written next to the originals'
    copies, so relative ``extends``/``base`` resolve as in the repository)."""
    root = tmp_path_factory.mktemp("fuzz")
    shutil.copytree(ROOT / "scenarios", root / "scenarios")
    (root / "experiments").mkdir()
    return root


def short_run(sc) -> None:
    """A valid scenario runs: one year, a few hundred agents at most."""
    scale = 0.0001 if sc.value("run.municipality") == "norway" else 0.002
    small = sc.with_overrides({"run.population_scale": scale,
                               "run.end_year": sc.value("run.start_year")})
    m = WelfareModel(small, seed=sc.seed % 2**32).run()
    assert m.results.shape[0] == 12


def check_scenario(path: Path, run: bool = True) -> str:
    with alarm():
        try:
            sc = load_scenario(path)
        except InputError as e:
            assert str(e).strip() and "Traceback" not in str(e)
            return "error"
        if run:
            short_run(sc)
    return "ok"


def check_experiment(path: Path) -> str:
    with alarm():
        try:
            load_experiment(path)
        except InputError as e:
            assert str(e).strip()
            return "error"
    return "ok"


# ------------------------------------------------------------------ generated TOML text
NAMES = sorted(registry())
KEYS = st.one_of(
    st.sampled_from(NAMES),
    st.sampled_from(["name", "description", "extends", "seed", "paradigm", "parameters",
                     "base", "fixed", "design", "replications", "metrics", "years",
                     "design.method", "design.samples", "paradigm.from", "paradigm.to"]),
    st.sampled_from(NAMES).map(lambda n: n.replace(".", "_")),  # near misses
    st.from_regex(r"[a-z_]{1,12}(\.[a-z_]{1,12}){0,2}", fullmatch=True),
)
SCALARS = st.one_of(
    st.integers(-2**63, 2**63 - 1).map(str),
    st.sampled_from(["0", "1", "-1", "2016", "2020", "2060", "2216", "2300", "1e309", "-1e309",
                     "inf", "-inf", "nan", "0.0", "1.0", "0.5", "1e-320", "true", "false",
                     "1979-05-27", "07:32:00", "1979-05-27T07:32:00Z", '""', '"npm"',
                     '"network_governance"', '"traditional"', '"norway"', '"indre_ostfold"',
                     '"MMMM"', '"HHMH"', '"classroom.toml"', '"../../etc/passwd"',
                     '"/etc/passwd"', '"indre_ostfold.toml"', '"sobol"', '"morris"',
                     '"latin_hypercube"', '"full_factorial"', "[]", "{}", "0x10", "1_000"]),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.text(max_size=12).map(lambda s: '"' + s.encode("unicode_escape").decode("ascii")
                             .replace('"', '\\"') + '"'),
)


@st.composite
def values(draw, depth: int = 0) -> str:
    kind = draw(st.integers(0, 9 if depth < 2 else 5))
    if kind <= 5:
        return draw(SCALARS)
    if kind <= 7:  # array
        return "[" + ", ".join(draw(st.lists(values(depth + 1), max_size=4))) + "]"
    if kind == 8:  # dated series
        pairs = draw(st.lists(st.tuples(st.integers(1800, 2400), SCALARS), max_size=4))
        return "{" + ", ".join(f'"{y}" = {v}' for y, v in pairs) + "}"
    keys = draw(st.lists(st.sampled_from(["from", "to", "start", "end", "year", "mix",
                                          "low", "high", "levels", "traditional", "npm",
                                          "network_governance"]), max_size=4, unique=True))
    return "{" + ", ".join(f"{k} = {draw(values(depth + 1))}" for k in keys) + "}"


@st.composite
def toml_texts(draw) -> str:
    lines = []
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.integers(0, 11))
        key = draw(KEYS)
        if kind == 0:
            lines.append(f"[{key}]")
        elif kind == 1:
            lines.append(draw(st.text(max_size=30)))  # junk
        elif kind == 2:
            lines.append(f'"{key}" = {draw(values())}')
        else:
            lines.append(f"{key} = {draw(values())}")
    return "\n".join(lines) + "\n"


def _write(folder: Path, name: str, data: bytes) -> Path:
    p = folder / name
    p.write_bytes(data)
    return p


@settings(max_examples=TEXT_CASES[0], **_SETTINGS)
@given(toml_texts())
def test_generated_toml_scenarios_and_experiments(text):
    with tempfile.TemporaryDirectory() as d:
        p = _write(Path(d), "fuzz.toml", text.encode("utf-8", "surrogatepass"))
        check_scenario(p)
        check_experiment(p)


@pytest.mark.slow
@settings(max_examples=TEXT_CASES[1], **{**_SETTINGS, "derandomize": False})
@given(toml_texts())
def test_generated_toml_long(text):
    test_generated_toml_scenarios_and_experiments.hypothesis.inner_test(text)


# ------------------------------------------------------------------ byte mutations
@st.composite
def mutations(draw, files: list[Path]) -> tuple[Path, bytes]:
    src = draw(st.sampled_from(files))
    data = bytearray(src.read_bytes())
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.integers(0, 5))
        pos = draw(st.integers(0, max(0, len(data) - 1)))
        if op == 0 and data:  # flip a bit
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == 1:  # delete a span
            del data[pos:pos + draw(st.integers(1, 40))]
        elif op == 2:  # insert random bytes
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif op == 3:  # insert a meaningful token
            data[pos:pos] = draw(st.sampled_from(
                [b"=", b"[", b"]", b"{", b'"', b"\n", b"#", b"0", b"-", b"9e9", b"\x00",
                 b"\xff", b"..", b"/", b"inf", b"true", b",", b"."]))
        elif op == 4:  # duplicate a line
            lines = bytes(data).split(b"\n")
            i = draw(st.integers(0, len(lines) - 1))
            lines.insert(i, lines[i])
            data = bytearray(b"\n".join(lines))
        else:  # replace a digit
            digits = [i for i, b in enumerate(data) if 48 <= b <= 57]
            if digits:
                data[draw(st.sampled_from(digits))] = draw(st.integers(48, 57))
    return src, bytes(data)


@settings(max_examples=SCENARIO_MUTATIONS[0], **_SETTINGS)
@given(mutations(SCENARIOS))
def test_mutated_bundled_scenarios(tree, case):
    src, data = case
    check_scenario(_write(tree / "scenarios", f"mut_{src.name}", data))


@settings(max_examples=EXPERIMENT_MUTATIONS[0], **_SETTINGS)
@given(mutations(EXPERIMENTS))
def test_mutated_bundled_experiments(tree, case):
    src, data = case
    check_experiment(_write(tree / "experiments", f"mut_{src.name}", data))


@pytest.mark.slow
@settings(max_examples=SCENARIO_MUTATIONS[1], **{**_SETTINGS, "derandomize": False})
@given(mutations(SCENARIOS))
def test_mutated_bundled_scenarios_long(tree, case):
    src, data = case
    check_scenario(_write(tree / "scenarios", f"mut_{src.name}", data))


@pytest.mark.slow
@settings(max_examples=EXPERIMENT_MUTATIONS[1], **{**_SETTINGS, "derandomize": False})
@given(mutations(EXPERIMENTS))
def test_mutated_bundled_experiments_long(tree, case):
    src, data = case
    check_experiment(_write(tree / "experiments", f"mut_{src.name}", data))


def test_hypothesis_settings_are_not_cached_across_tests():
    assert TEXT_CASES[1] + SCENARIO_MUTATIONS[1] + EXPERIMENT_MUTATIONS[1] >= 2000
    assert TEXT_CASES[0] + SCENARIO_MUTATIONS[0] + EXPERIMENT_MUTATIONS[0] >= 300


# ------------------------------------------------------------------ the CLI on fuzzed files
SMALL = b'extends = "classroom.toml"\nname = "fuzz-small"\nseed = 3\nparadigm = "npm"\n' \
        b"[run]\nend_year = 2017\npopulation_scale = 0.005\n"


def mutate(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(0, 3)):
        pos = rng.randrange(len(b))
        if rng.random() < 0.5:
            b[pos] ^= 1 << rng.randrange(8)
        else:
            b[pos:pos] = rng.choice([b"=", b"\n", b"9", b"[", b'"', b"#"])
    return bytes(b)


def cli_case(tree: Path, i: int) -> None:
    data = mutate(SMALL, random.Random(i))
    f = _write(tree / "scenarios", f"cli_{i}.toml", data)
    out = tree / f"out_{i}"
    r = subprocess.run([sys.executable, "-c", "from sim.cli.main import main; main()", "run",
                        str(f), "--out", str(out)], cwd=tree, capture_output=True, text=True,
                       timeout=120, env={**os.environ, "COLUMNS": "120"})
    assert r.returncode in (0, 2), r.stderr
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr
    if r.returncode == 0:
        assert sorted(p.name for p in out.iterdir()) == [".welfare-sim.json", "manifest.json",
                                                         "summary.json", "ticks.parquet"]
    else:
        assert r.stderr.startswith("error: ") and not out.exists()
    assert not list(tree.glob(f".out_{i}.*")), "temporary output folder left behind"


@pytest.mark.parametrize("i", range(CLI_CASES[0]))
def test_cli_run_on_fuzzed_file(tree, i):
    cli_case(tree, i)


@pytest.mark.slow
@pytest.mark.parametrize("i", range(CLI_CASES[0], CLI_CASES[0] + CLI_CASES[1]))
def test_cli_run_on_fuzzed_file_long(tree, i):
    cli_case(tree, i)


# ------------------------------------------------------------------ extends cannot escape
@pytest.fixture
def outside(tmp_path: Path) -> tuple[Path, Path]:
    """``inner/`` holds the user's scenario; ``secret.toml`` sits outside it."""
    inner = tmp_path / "a" / "inner"
    inner.mkdir(parents=True)
    secret = tmp_path / "secret.toml"
    secret.write_text('name = "secret"\n[run]\npopulation_scale = 0.5\n')
    return inner, secret


def test_extends_dotdot_cannot_escape(outside):
    inner, _ = outside
    f = inner / "s.toml"
    for target in ("../../secret.toml", "../inner/../../secret.toml",
                   "./../../secret.toml", "sub/../../../secret.toml"):
        f.write_text(f'extends = "{target}"\n')
        with pytest.raises(InputError, match="outside the scenario folders"):
            load_scenario(f)


def test_extends_absolute_path_is_refused(outside):
    inner, secret = outside
    f = inner / "s.toml"
    for target in (str(secret), "~/secret.toml", "//" + str(secret).lstrip("/")):
        f.write_text(f'extends = "{target}"\n')
        with pytest.raises(InputError, match="absolute path|outside"):
            load_scenario(f)


def test_extends_symlink_pointing_outside_is_refused(outside):
    inner, secret = outside
    (inner / "link.toml").symlink_to(secret)
    (inner / "dir").symlink_to(secret.parent, target_is_directory=True)
    f = inner / "s.toml"
    for target in ("link.toml", "dir/secret.toml"):
        f.write_text(f'extends = "{target}"\n')
        with pytest.raises(InputError, match="outside the scenario folders"):
            load_scenario(f)


def test_extends_from_a_bundled_file_cannot_escape_either(outside):
    """The bundled-folder fallback must not open ``scenarios/../x``."""
    inner, _ = outside
    f = inner / "s.toml"
    f.write_text('extends = "../pyproject.toml"\n')
    with pytest.raises(InputError, match="outside the scenario folders"):
        load_scenario(f)


def test_odd_extends_targets_are_input_errors(outside):
    inner, _ = outside
    f = inner / "s.toml"
    for target in ("a\\u0000b.toml", "x" * 300 + ".toml", ".", "", " ", "s.toml"):
        f.write_text(f'extends = "{target}"\n')
        with pytest.raises(InputError):
            load_scenario(f)


def test_a_path_on_the_command_line_may_be_anywhere(outside):
    """The user may name a file outside scenarios/ (and it may extend its neighbours)."""
    inner, secret = outside
    sc = load_scenario(secret)
    assert sc.name == "secret" and sc.value("run.population_scale") == 0.5
    (secret.parent / "child.toml").write_text('extends = "secret.toml"\nname = "child"\n')
    assert load_scenario(secret.parent / "child.toml").value("run.population_scale") == 0.5
    assert load_scenario(os.path.relpath(secret, Path.cwd())).name == "secret"


def test_scenario_files_are_never_executed(tmp_path):
    marker = tmp_path / "pwned"
    f = tmp_path / "s.toml"
    f.write_text(f'name = "__import__(\'os\').system(\'touch {marker}\')"\n'
                 f'description = "{{{{ {marker} }}}}"\n')
    sc = load_scenario(f)
    short_run(sc)
    assert not marker.exists()
