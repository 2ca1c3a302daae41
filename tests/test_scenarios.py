"""Scenario files: every kind of broken file gives one clear error (file, key, what was
expected) and no traceback or half-written output; the valid features work as documented."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from sim.errors import InputError
from sim.scenario import DatedSeries, ParadigmSchedule, default_scenario, load_scenario

ROOT = Path(__file__).resolve().parent.parent
CLI = ROOT / ".venv" / "bin" / "welfare-sim"


@dataclass(frozen=True)
class Broken:
    """A broken scenario: files to write (the first is the one loaded) and what the error
    must say besides the file name."""

    id: str
    files: dict[str, str | bytes | None]  # name -> text, bytes, or None for a folder
    key: str | None  # the key the message must name (None: file-level problem)
    expect: tuple[str, ...]  # further fragments the message must contain


B = Broken
BROKEN = [
    B("unknown_top_level_key", {"s.toml": 'colour = "blue"\n'}, "colour", ("unknown key",)),
    B("unknown_parameter", {"s.toml": "[cocreation]\nbanana = 1\n"}, "cocreation.banana",
      ("unknown parameter",)),
    B("typo_parameter", {"s.toml": "[cocreation]\nthick_shar = 0.5\n"},
      "cocreation.thick_shar", ("Did you mean 'cocreation.thick_share'",)),
    B("typo_dotted_parameter", {"s.toml": '"volunteers.quit_per_yaer" = 0.1\n'},
      "volunteers.quit_per_yaer", ("Did you mean 'volunteers.quit_per_year'",)),
    B("typo_group", {"s.toml": "[cocreaton]\nthick_share = 0.5\n"}, "cocreaton",
      ("Did you mean 'cocreation'",)),
    B("string_for_number", {"s.toml": '[cocreation]\nthick_share = "high"\n'},
      "cocreation.thick_share", ("'high'", "a number in 0 – 1")),
    B("string_for_int", {"s.toml": '[run]\nend_year = "2030"\n'}, "run.end_year",
      ("whole number",)),
    B("number_for_bool", {"s.toml": "[mechanisms]\nhealth = 1\n"}, "mechanisms.health",
      ("true or false",)),
    B("list_for_number", {"s.toml": "[cocreation]\nthick_share = [0.5]\n"},
      "cocreation.thick_share", ("dated series",)),
    B("out_of_range", {"s.toml": "[cocreation]\nthick_share = 1.5\n"},
      "cocreation.thick_share", ("outside the plausible range", "0 – 1")),
    B("bad_choice", {"s.toml": '[demography]\nalternative = "XYZ"\n'},
      "demography.alternative", ("MMMM",)),
    B("series_non_year_key", {"s.toml": "[cocreation]\nthick_share = {soon = 0.5}\n"},
      "cocreation.thick_share", ("not a year",)),
    B("series_empty", {"s.toml": "[cocreation]\nthick_share = {}\n"},
      "cocreation.thick_share", ("empty dated series",)),
    B("series_value_out_of_range",
      {"s.toml": "[cocreation]\nthick_share = {2016 = 0.5, 2030 = 2.0}\n"},
      "cocreation.thick_share.2030", ("outside the plausible range",)),
    B("series_year_out_of_range", {"s.toml": "[cocreation]\nthick_share = {1800 = 0.5}\n"},
      "cocreation.thick_share", ("between 1900 and 2300",)),
    B("series_not_allowed", {"s.toml": "[run]\nend_year = {2016 = 2030}\n"}, "run.end_year",
      ("cannot change over time",)),
    B("extends_missing", {"s.toml": 'extends = "nowhere.toml"\n'}, "extends",
      ("not found", "nowhere.toml")),
    B("extends_circular", {"a.toml": 'extends = "b.toml"\n', "b.toml": 'extends = "a.toml"\n'},
      "extends", ("circular", "a.toml → b.toml → a.toml")),
    B("extends_self", {"s.toml": 'extends = "s.toml"\n'}, "extends", ("circular",)),
    B("extends_absolute", {"s.toml": 'extends = "/etc/hostname"\n'}, "extends",
      ("absolute path",)),
    B("extends_escaping", {"s.toml": 'extends = "../../../../etc/hostname"\n'}, "extends",
      ("outside the scenario folders",)),
    B("extends_not_text", {"s.toml": "extends = 3\n"}, "extends", ("file name",)),
    B("invalid_toml", {"s.toml": "[run\nend_year = 2020\n"}, None, ("invalid TOML", "[run")),
    B("duplicate_key", {"s.toml": "[run]\nend_year = 2020\nend_year = 2030\n"}, None,
      ("invalid TOML", "end_year = 2030", "set twice")),
    B("unknown_paradigm", {"s.toml": 'paradigm = "feudal"\n'}, "paradigm",
      ("'feudal'", "traditional, npm, network_governance")),
    B("paradigm_alias", {"s.toml": 'paradigm = "nmp"\n'}, "paradigm", ("Did you mean 'npm'",)),
    B("paradigm_close_spelling", {"s.toml": 'paradigm = "network_governence"\n'}, "paradigm",
      ("Did you mean 'network_governance'",)),
    B("paradigm_not_text", {"s.toml": "paradigm = 3\n"}, "paradigm", ("paradigm name",)),
    B("paradigm_end_before_start",
      {"s.toml": '[paradigm]\nfrom = "npm"\nto = "network_governance"\nstart = 2035\n'
                 'end = 2025\n'}, "paradigm.end", ("before start",)),
    B("paradigm_missing_to", {"s.toml": '[paradigm]\nfrom = "npm"\nstart = 2025\n'},
      "paradigm", ("both 'from' and 'to'",)),
    B("paradigm_unknown_field",
      {"s.toml": '[paradigm]\nfrom = "npm"\nto = "npm"\nbegin = 2025\n'}, "paradigm.begin",
      ("unknown key",)),
    B("paradigm_bad_year",
      {"s.toml": '[paradigm]\nfrom = "npm"\nto = "traditional"\nstart = "soon"\n'},
      "paradigm.start", ("a year",)),
    B("paradigm_mix_not_summing", {"s.toml": "[paradigm.mix]\nnpm = 0.5\ntraditional = 0.2\n"},
      "paradigm.mix", ("sum to 1",)),
    B("start_year_not_round", {"s.toml": "[run]\nstart_year = 2020\n"}, "run.start_year",
      ("does not match projection round 2016",)),
    B("round_2020_with_llml",
      {"s.toml": '[run]\nstart_year = 2020\n[demography]\nprojection_round = 2020\n'
                 'alternative = "LLML"\n'}, "demography.alternative", ("MMMM only",)),
    B("unknown_municipality", {"s.toml": '[run]\nmunicipality = "atlantis"\n'},
      "run.municipality", ("'atlantis'", "indre_ostfold")),
    B("end_before_start",
      {"s.toml": "[run]\nstart_year = 2020\nend_year = 2018\n"
                 "[demography]\nprojection_round = 2020\n"}, "run.end_year",
      ("before start year",)),
    B("end_year_out_of_range", {"s.toml": "[run]\nend_year = 2010\n"}, "run.end_year",
      ("2016 – 2216",)),
    B("seed_negative", {"s.toml": "seed = -1\n"}, "seed", ("≥ 0",)),
    B("seed_float", {"s.toml": "seed = 1.5\n"}, "seed", ("whole number",)),
    B("name_not_text", {"s.toml": "name = 5\n"}, "name", ("a text",)),
    B("parameters_not_table", {"s.toml": "parameters = 3\n"}, "parameters", ("table",)),
    B("error_in_extended_file",
      {"s.toml": 'extends = "base.toml"\n', "base.toml": "[cocreation]\nthick_share = 7\n"},
      "cocreation.thick_share", ("base.toml",)),
    B("non_utf8", {"s.toml": b'name = "Indre \xd8stfold"\n'}, None, ("not UTF-8",)),
    B("directory", {"s.toml": None}, None, ("is a folder",)),
    B("file_not_found", {}, None, ("file not found",)),
]
BY_ID = {b.id: b for b in BROKEN}


def write(tmp_path: Path, case: Broken) -> Path:
    """Write the case's files; return the path of the scenario to load."""
    for name, content in case.files.items():
        p = tmp_path / name
        if content is None:
            p.mkdir()
        elif isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")
    return tmp_path / (next(iter(case.files)) if case.files else "s.toml")


def check_message(msg: str, path: Path, case: Broken) -> None:
    assert str(path) in msg or (case.id == "error_in_extended_file"), msg
    if case.key is not None:
        assert f"key '{case.key}'" in msg, msg
    assert "Expected" in msg, msg
    for fragment in case.expect:
        assert fragment in msg, f"{fragment!r} not in {msg!r}"
    assert "Traceback" not in msg


def test_at_least_fifteen_kinds():
    assert len(BROKEN) >= 15
    assert len({b.id for b in BROKEN}) == len(BROKEN)


@pytest.mark.parametrize("case", BROKEN, ids=lambda b: b.id)
def test_broken_in_process(tmp_path, case):
    path = write(tmp_path, case)
    with pytest.raises(InputError) as err:
        load_scenario(path)
    check_message(str(err.value), path, case)


SUBPROCESS_CASES = ["typo_parameter", "number_for_bool", "series_value_out_of_range",
                    "extends_circular", "duplicate_key", "non_utf8"]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(CLI), *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("case_id", SUBPROCESS_CASES)
def test_broken_run_via_cli(tmp_path, case_id):
    case = BY_ID[case_id]
    path = write(tmp_path, case)
    out = tmp_path / "out"
    proc = cli("run", str(path), "--out", str(out))
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert proc.stderr.startswith("error: "), proc.stderr
    check_message(proc.stderr, path, case)
    assert "Traceback" not in proc.stdout
    assert not out.exists(), "a failed run must not leave an output folder"
    assert not list(tmp_path.glob(".out.*")), "no temporary output left behind"


def test_broken_validate_via_cli(tmp_path):
    """One ``validate`` call over every subprocess case (and the directory case): exit 2,
    one error paragraph per file."""
    paths = {}
    for case_id in [*SUBPROCESS_CASES, "directory", "paradigm_alias"]:
        folder = tmp_path / case_id
        folder.mkdir()
        paths[case_id] = write(folder, BY_ID[case_id])
    proc = cli("validate", *map(str, paths.values()))
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr + proc.stdout
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == len(paths) + 1  # one per file and the closing count
    for case_id, path in paths.items():
        msg = next(e for e in errors if f"{path}:" in e or f"{path}," in e)
        check_message(msg, path, BY_ID[case_id])


def test_validate_reports_every_file_and_fails(tmp_path):
    bad = write(tmp_path, BY_ID["typo_parameter"])
    good = ROOT / "scenarios" / "classroom.toml"
    proc = cli("validate", str(good), str(bad))
    assert proc.returncode == 2
    assert "ok  " in proc.stdout and "classroom" in proc.stdout
    assert str(bad) in proc.stderr and "Traceback" not in proc.stderr


def test_bundled_scenarios_are_valid():
    files = sorted((ROOT / "scenarios").glob("*.toml"))
    assert files
    for f in files:
        load_scenario(f)


# ------------------------------------------------------------------ valid features
def test_dated_series_linear_between_flat_outside(tmp_path):
    p = tmp_path / "s.toml"
    p.write_text("[cocreation]\nthick_share = {2030 = 0.2, 2020 = 0.6}\n"
                 "[professionals]\nmax_fte_per_1000_working_age = {2016 = 50, 2026 = 70}\n")
    sc = load_scenario(p)
    s = sc.params["cocreation.thick_share"]
    assert isinstance(s, DatedSeries) and s.years == (2020, 2030)  # sorted
    assert sc.value("cocreation.thick_share", 2010) == pytest.approx(0.6)
    assert sc.value("cocreation.thick_share", 2020) == pytest.approx(0.6)
    assert sc.value("cocreation.thick_share", 2025) == pytest.approx(0.4)
    assert sc.value("cocreation.thick_share", 2027.5) == pytest.approx(0.3)
    assert sc.value("cocreation.thick_share", 2030) == pytest.approx(0.2)
    assert sc.value("cocreation.thick_share", 2060) == pytest.approx(0.2)
    assert sc.at_year(2021)["professionals.max_fte_per_1000_working_age"] == pytest.approx(60)
    assert sc.value("cocreation.thick_share") == pytest.approx(0.6)  # start year 2016


def test_dated_bool_switch_is_a_step(tmp_path):
    p = tmp_path / "s.toml"
    p.write_text("[cocreation]\ntargeting = {2016 = false, 2030 = true}\n")
    sc = load_scenario(p)
    assert sc.value("cocreation.targeting", 2029.9) is False
    assert sc.value("cocreation.targeting", 2030) is True


def test_extends_chain_overrides_in_order(tmp_path):
    (tmp_path / "base.toml").write_text(
        'name = "base"\nseed = 5\nparadigm = "npm"\n'
        "[cocreation]\nthick_share = 0.1\nthin_tailoring = 0.1\n"
        "[volunteers]\nquit_per_year = 0.05\n")
    (tmp_path / "mid.toml").write_text(
        'extends = "base.toml"\nname = "mid"\n[cocreation]\nthick_share = 0.2\n'
        "thin_tailoring = 0.2\n")
    (tmp_path / "top.toml").write_text(
        'extends = "mid.toml"\n"cocreation.thick_share" = 0.3\n')
    sc = load_scenario(tmp_path / "top.toml")
    assert sc.params["cocreation.thick_share"] == pytest.approx(0.3)  # top wins
    assert sc.params["cocreation.thin_tailoring"] == pytest.approx(0.2)  # mid over base
    assert sc.params["volunteers.quit_per_year"] == pytest.approx(0.05)  # base only
    assert sc.name == "mid" and sc.seed == 5
    assert sc.paradigm == ParadigmSchedule.single("npm")
    assert [Path(p).name for p in sc.chain] == ["base.toml", "mid.toml", "top.toml"]
    assert sc.text.index("base.toml") < sc.text.index("top.toml")


def test_extends_bundled_file_from_any_folder(tmp_path):
    p = tmp_path / "mine.toml"
    p.write_text('extends = "classroom.toml"\n[run]\nend_year = 2020\n')
    sc = load_scenario(p)
    assert sc.params["run.population_scale"] == pytest.approx(0.05)
    assert sc.params["run.end_year"] == 2020


def test_paradigm_phase_in_weights(tmp_path):
    p = tmp_path / "s.toml"
    p.write_text('[paradigm]\nfrom = "traditional"\nto = "network_governance"\n'
                 "start = 2025\nend = 2035\n")
    sched = load_scenario(p).paradigm
    np.testing.assert_allclose(sched.weights(2016), [1, 0, 0])
    np.testing.assert_allclose(sched.weights(2025), [1, 0, 0])
    np.testing.assert_allclose(sched.weights(2027.5), [0.75, 0, 0.25])
    np.testing.assert_allclose(sched.weights(2030), [0.5, 0, 0.5])
    np.testing.assert_allclose(sched.weights(2035), [0, 0, 1])
    np.testing.assert_allclose(sched.weights(2060), [0, 0, 1])
    for y in np.linspace(2016, 2060, 89):
        assert sched.weights(y).sum() == pytest.approx(1.0)


def test_paradigm_switch_and_mix(tmp_path):
    p = tmp_path / "s.toml"
    p.write_text('[paradigm]\nfrom = "npm"\nto = "traditional"\nyear = 2030\n')
    sched = load_scenario(p).paradigm
    np.testing.assert_allclose(sched.weights(2029.99), [0, 1, 0])
    np.testing.assert_allclose(sched.weights(2030), [1, 0, 0])
    p.write_text("[paradigm.mix]\nnpm = 0.25\nnetwork_governance = 0.75\n")
    np.testing.assert_allclose(load_scenario(p).paradigm.weights(2040), [0, 0.25, 0.75])


def test_with_overrides_validates():
    sc = default_scenario("npm")
    sc2 = sc.with_overrides({"cocreation.thick_share": 0.8, "paradigm": "traditional"})
    assert sc2.params["cocreation.thick_share"] == pytest.approx(0.8)
    assert sc.params["cocreation.thick_share"] != pytest.approx(0.8)  # original untouched
    assert sc2.paradigm == ParadigmSchedule.single("traditional")
    assert sc2.hash != sc.hash
    series = sc.with_overrides({"cocreation.thick_share": {2016: 0.1, 2026: 0.3}})
    assert series.value("cocreation.thick_share", 2021) == pytest.approx(0.2)
    for bad, fragment in [({"cocreation.thick_shar": 0.5}, "Did you mean"),
                          ({"cocreation.thick_share": 3.0}, "outside the plausible range"),
                          ({"mechanisms.health": "yes"}, "true or false"),
                          ({"paradigm": "feudal"}, "unknown paradigm"),
                          ({"run.start_year": 2020}, "projection round")]:
        with pytest.raises(InputError, match=fragment) as err:
            sc.with_overrides(bad, source="sweep.toml")
        assert "sweep.toml" in str(err.value)


def test_int_parameter_accepts_whole_float(tmp_path):
    p = tmp_path / "s.toml"
    p.write_text("[network]\nneighbourhood_degree = 8.0\n")
    v = load_scenario(p).params["network.neighbourhood_degree"]
    assert v == 8 and isinstance(v, int)
