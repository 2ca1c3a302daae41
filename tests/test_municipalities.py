"""Any Norwegian municipality (issue 17): SSB table 07459 in every supported layout, numbers
across the 2018/2020/2024 reforms, the PxWeb fetch against a recorded answer, the local store
and the generated scenario. Fixtures: tests/data/ssb07459 (tools/make_ssb07459_fixtures.py;
SSB's layouts, synthetic figures)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import urllib.error
from pathlib import Path

import numpy as np
import pytest

from sim.demography import municipalities as m
from sim.demography.data import load_base_population
from sim.demography.ssb07459 import parse_07459, read_07459
from sim.errors import InputError, WelfareSimError

DATA = Path(__file__).parent / "data" / "ssb07459"
FORMATS = ["07459_3014_2016_long.csv", "07459_3014_2016_wide_cp1252.csv",
           "07459_3014_2016.xlsx", "07459_3014_2016.json"]
PARTS_ANSWER = DATA / "pxweb_v2_0122-0123-0124-0125-0138_2016.json"
INDRE_PARTS = ["0122", "0123", "0124", "0125", "0138"]


@pytest.fixture(autouse=True)
def user_dir(tmp_path, monkeypatch):
    """Every test gets its own empty user data folder."""
    d = tmp_path / "userdata"
    monkeypatch.setenv("WELFARE_SIM_DATA_DIR", str(d))
    from sim import scenario

    scenario._base_years.cache_clear()
    yield d
    scenario._base_years.cache_clear()


def reference() -> np.ndarray:
    return read_07459(DATA / FORMATS[0]).counts[("3014", 2016)]


# ------------------------------------------------------------------ formats and round trips
@pytest.mark.parametrize("name", FORMATS)
def test_every_layout_reads_to_the_same_population(name):
    pop = read_07459(DATA / name)
    assert pop.regions == ["3014"]
    assert pop.years("3014") == [2016]
    arr = pop.counts[("3014", 2016)]
    assert arr.shape == (2, 106)
    np.testing.assert_array_equal(arr, reference())
    assert pop.total("3014", 2016) == 43_472
    assert pop.names.get("3014", "Indre Østfold") == "Indre Østfold"


@pytest.mark.parametrize("name", FORMATS)
def test_import_round_trip_is_exact(name, user_dir):
    from sim.cli.municipality import do_import

    lines = do_import(DATA / name)
    path = user_dir / "municipalities" / "indre_ostfold_3014.csv"
    assert str(path) in lines[0]
    text = path.read_text(encoding="utf-8")
    assert "table 07459" in text and "sha256" in text and name in text
    # the model loads single-year rows as they are: exactly the file's figures
    for query in ("3014", "3118", "Indre Østfold", "K-3118", str(path)):
        np.testing.assert_array_equal(load_base_population(query, 2016), reference())
    # a bundled file's stem keeps meaning the bundled file (bundled scenarios do not change)
    bundled = load_base_population("indre_ostfold", 2016)
    assert bundled.sum() == pytest.approx(43_472)
    assert not np.array_equal(bundled, reference())


def test_reimport_is_idempotent_and_never_clobbers(user_dir, tmp_path):
    from sim.cli.municipality import do_import

    do_import(DATA / FORMATS[0])
    path = user_dir / "municipalities" / "indre_ostfold_3014.csv"
    before = path.read_bytes()
    assert "unchanged" in do_import(DATA / FORMATS[3])[0]
    assert path.read_bytes() == before
    changed = (DATA / FORMATS[0]).read_text(encoding="utf-8-sig").replace(
        '"Menn";"0 år";"Personer";"2016";256', '"Menn";"0 år";"Personer";"2016";999')
    other = tmp_path / "changed.csv"
    other.write_text(changed, encoding="utf-8")
    with pytest.raises(InputError, match="already holds 2016 with different figures"):
        do_import(other)
    assert path.read_bytes() == before
    do_import(other, replace=True)
    assert load_base_population("3118", 2016)[0, 0] == 999
    # the generated scenario is the user's: a re-import leaves it alone
    sc = user_dir / "scenarios" / "indre_ostfold_3014.toml"
    sc.write_text(sc.read_text() + "# my edit\n")
    do_import(DATA / FORMATS[0], replace=True)
    assert sc.read_text().endswith("# my edit\n")


def test_a_second_year_is_added_to_the_same_file(user_dir, tmp_path):
    from sim.cli.municipality import do_import

    do_import(DATA / FORMATS[0])
    y2020 = tmp_path / "y2020.csv"
    y2020.write_text((DATA / FORMATS[0]).read_text(encoding="utf-8-sig")
                     .replace('"2016"', '"2020"'), encoding="utf-8")
    do_import(y2020)
    assert m.base_years("3118") == (2016, 2020)
    sc = (user_dir / "scenarios" / "indre_ostfold_3014.toml").read_text()
    assert "start_year = 2016" in sc  # written by the first import, not overwritten


# ------------------------------------------------------------------ codes across reforms
def test_indre_ostfold_across_the_reforms():
    assert set(m.same_territory("3118")) == {"3118", "3014"}
    assert sorted(m.merged_parts("3118")) == INDRE_PARTS
    assert sorted(m.codes_in_year("3118", 2016)) == INDRE_PARTS
    assert m.codes_in_year("3118", 2020) == ["3014"]
    assert m.codes_in_year("3014", 2024) == ["3118"]
    assert m.resolve_code("Indre Østfold") == "3118"
    assert m.resolve_code("indre_ostfold") == "3118"
    assert m.resolve_code("K-3014") == "3014"
    askim = m.find_units("Askim")
    assert [(u.code, u.becomes, u.change) for u in askim] == [("0124", ("3014",), "merged")]


@pytest.mark.parametrize("c2016,c2020,c2024", [
    ("0101", "3001", "3101"), ("0105", "3003", "3105"), ("0106", "3004", "3107"),
    ("0111", "3011", "3110"), ("0118", "3012", "3124"), ("0119", "3013", "3122"),
    ("0127", "3015", "3116"), ("0128", "3016", "3120"), ("0135", "3017", "3112"),
    ("0137", "3018", "3114"), ("0219", "3024", "3201"), ("1601", "5001", "5001"),
])
def test_renumbered_chains(c2016, c2020, c2024):
    assert m.codes_in_year(c2024, 2016) == [c2016]
    assert m.codes_in_year(c2024, 2020) == [c2020]
    assert c2016 in m.same_territory(c2024)


def test_merges_and_splits():
    assert sorted(m.codes_in_year("3103", 2016)) == ["0104", "0136"]  # Moss + Rygge
    assert sorted(m.codes_in_year("3203", 2019)) == ["0220", "0627", "0628"]  # Asker
    assert sorted(m.codes_in_year("3226", 2016)) == ["0121", "0221"]  # Aurskog-Høland + Rømskog
    # a municipality with part of a divided one cannot be summed from former municipalities
    assert m.merged_parts("5055") is None  # Heim: Hemne, Halsa and part of Snillfjord
    assert m.codes_in_year("1580", 2019) is None  # Haram, split from Ålesund in 2024
    assert m.merged_parts("5001") is None  # Trondheim took in Klæbu keeping its number
    assert m.codes_in_year("5001", 2020) == ["5001"]


def test_outside_the_recorded_chains_a_2016_number_is_not_replaced_by_the_2024_one():
    """Where the table knows only a 2016 number and the 2024 number it became, 2016 means the
    2016 number(s) (Tromsø was 1902, not 5501; Kristiansand 4204 is the sum of its 2016 parts)
    and the years between are not recorded (no number is made up for them)."""
    assert m.codes_in_year("5501", 2016) == ["1902"]
    assert m.codes_in_year("1902", 2016) == ["1902"]
    assert m.codes_in_year("5501", 2024) == ["5501"]
    assert m.codes_in_year("5501", 2020) is None
    assert m.codes_in_year("1201", 2016) == ["1201"]  # Bergen, 4601 from 2020
    assert sorted(m.codes_in_year("4204", 2016)) == ["1001", "1017", "1018"]
    assert m.codes_in_year("0301", 2016) == ["0301"]  # Oslo: unchanged
    from sim.cli.municipality import do_codes

    text = "\n".join(do_codes("Tromsø"))
    assert "numbers in 2016: 1902" in text and "numbers in 2020: not recorded" in text
    assert "numbers in 2024: 5501" in text
    assert "numbers in 2024: merged into 5530" in "\n".join(do_codes("1931"))  # Lenvik: Senja

    asked = []

    def offline(req, timeout=None):
        asked.append(req.full_url)
        raise urllib.error.URLError("offline")

    with pytest.raises(WelfareSimError):
        m.fetch_07459("Kristiansand", 2016, opener=offline)
    assert "Region]=1001%2C1017%2C1018" in asked[0] or "Region]=1001,1017,1018" in asked[0]


def test_name_errors_are_explained():
    with pytest.raises(InputError, match="ambiguous"):
        m.resolve_code("Våler")
    with pytest.raises(InputError, match="Unknown municipality 'Atlantis'"):
        m.resolve_code("Atlantis")


def test_codes_table_is_consistent():
    rows = m.units()
    codes = {u.code for u in rows}
    assert len(rows) > 700
    for u in rows:
        assert all(b in codes for b in u.becomes), u
        assert (u.change == "") == (not u.becomes), u
        if u.valid_from and u.valid_to:
            assert u.valid_from <= u.valid_to, u
    # every 2016 municipality (428) is in the table, and every one has a 2024 number
    import csv

    current = {u.code for u in rows if not u.becomes}
    assert len(current) == 357  # municipalities on 1 January 2024
    with m.CODES_FILE.open(encoding="utf-8") as fh:
        body = [ln for ln in fh if not ln.startswith("#")]
    assert len({r["code"] for r in csv.DictReader(body)}) == len(codes)


# ------------------------------------------------------------------ sums of parts
def test_a_merged_municipality_is_summed_from_imported_parts(user_dir):
    from sim.cli.municipality import do_import

    lines = do_import(PARTS_ANSWER)  # the five former municipalities, 2016, one file each
    assert sum("written" in ln for ln in lines) == 5
    summed = load_base_population("3118", 2016)
    np.testing.assert_array_equal(summed, reference())
    assert m.base_years("Indre Østfold") == (2016,)


def test_import_with_code_sums_the_parts_into_one_file(user_dir):
    from sim.cli.municipality import do_import

    lines = do_import(PARTS_ANSWER, code="3118")
    assert "= 0122 + 0123 + 0124 + 0125 + 0138" in lines[0]
    files = sorted((user_dir / "municipalities").glob("*.csv"))
    assert [f.name for f in files] == ["indre_ostfold_3118.csv"]
    np.testing.assert_array_equal(load_base_population("3014", 2016), reference())


def test_import_with_code_names_missing_parts(user_dir, tmp_path):
    from sim.cli.municipality import do_import

    doc = json.loads(PARTS_ANSWER.read_text(encoding="utf-8"))
    keep = 4  # drop Hobøl (0138), the last region
    n = 2 * 106
    doc["value"] = doc["value"][: keep * n]
    doc["size"][0] = keep
    cat = doc["dimension"]["Region"]["category"]
    cat["index"] = {k: v for k, v in cat["index"].items() if v < keep}
    cat["label"] = {k: v for k, v in cat["label"].items() if k in cat["index"]}
    f = tmp_path / "four.json"
    f.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(InputError, match="0138 is not in the file"):
        do_import(f, code="3118")
    # Moss (3103) = Moss (0104) + Rygge (0136): with only Moss imported, the error names Rygge
    doc = json.loads(PARTS_ANSWER.read_text(encoding="utf-8"))
    doc["value"] = doc["value"][:n]
    doc["size"][0] = 1
    doc["dimension"]["Region"]["category"] = {"index": {"0104": 0}, "label": {"0104": "Moss"}}
    g = tmp_path / "moss.json"
    g.write_text(json.dumps(doc), encoding="utf-8")
    do_import(g)
    with pytest.raises(InputError, match=r"merger of 0104 Moss, 0136 Rygge, and 0136 Rygge is "
                                         r"not available locally"):
        load_base_population("Moss", 2016)


# ------------------------------------------------------------------ fetch (recorded answer)
class Recorded:
    """Stands in for urllib's urlopen: returns the recorded answer and remembers the URL."""

    def __init__(self, body: bytes):
        self.body, self.urls = body, []

    def __call__(self, req, timeout=None):
        self.urls.append(req.full_url)
        return io.BytesIO(self.body)


def test_fetch_asks_for_the_numbers_valid_in_the_year_and_caches(user_dir):
    rec = Recorded(PARTS_ANSWER.read_bytes())
    pop, code, codes, cache = m.fetch_07459("Indre Østfold", 2016, opener=rec)
    assert code == "3118" and sorted(codes) == INDRE_PARTS
    url = rec.urls[0]
    assert url.startswith("https://data.ssb.no/api/pxwebapi/v2/tables/07459/data?")
    assert "valueCodes[Region]=0122%2C0123%2C0124%2C0125%2C0138" in url or \
        "valueCodes[Region]=0122,0123,0124,0125,0138" in url
    assert "valueCodes[Tid]=2016" in url and "outputformat=json-stat2" in url
    assert cache.read_bytes() == PARTS_ANSWER.read_bytes()
    res = m.write_imported(pop, code, parts=codes)
    np.testing.assert_array_equal(load_base_population("3118", 2016), reference())
    assert res.path.name == "indre_ostfold_3118.csv"

    def offline(req, timeout=None):
        raise urllib.error.URLError("Name or service not known")

    # the cached answer needs no network
    pop2, *_ = m.fetch_07459("3118", 2016, opener=offline)
    np.testing.assert_array_equal(pop2.counts[("0124", 2016)], pop.counts[("0124", 2016)])


def test_fetch_offline_says_how_to_import_instead(user_dir):
    def offline(req, timeout=None):
        raise urllib.error.URLError("Temporary failure in name resolution")

    with pytest.raises(WelfareSimError) as err:
        m.fetch_07459("3118", 2020, opener=offline)
    msg = str(err.value)
    assert "Could not reach SSB" in msg and "No network" in msg
    assert "welfare-sim municipality import FILE" in msg and "region 3014" in msg
    assert not (user_dir / "cache").exists() or not any((user_dir / "cache").iterdir())


def test_fetch_http_error_is_explained(user_dir):
    def bad(req, timeout=None):
        raise urllib.error.HTTPError(req.full_url, 400, "Bad Request", {},
                                     io.BytesIO(b'{"title": "Unknown value 9999 in Region"}'))

    with pytest.raises(WelfareSimError, match="HTTP 400.*Unknown value 9999"):
        m.fetch_07459("3118", 2020, opener=bad)


def test_fetch_command_offline_is_one_clear_paragraph(user_dir):
    env = {"WELFARE_SIM_DATA_DIR": str(user_dir), "PATH": "/usr/bin:/bin",
           "http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9",
           "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}
    r = subprocess.run([sys.executable, "-m", "sim.cli.main", "municipality", "fetch", "3118",
                        "--year", "2020"], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    assert "Could not reach SSB" in r.stderr and "municipality import FILE" in r.stderr


# ------------------------------------------------------------------ bad files
def good_csv() -> str:
    return (DATA / FORMATS[0]).read_text(encoding="utf-8-sig")


def _replace_line(text: str, lineno: int, new: str | None) -> str:
    lines = text.splitlines()
    if new is None:
        del lines[lineno - 1]
    else:
        lines[lineno - 1] = new
    return "\n".join(lines) + "\n"


BAD = {
    "empty": (b"", r"empty"),
    "binary": (b"\x00\x01\x02garbage" * 10, r"binary file"),
    "no header": (b"a;b;c\n1;2;3\n", r"no header row with the columns 'region' and 'alder'"),
    "no sex column": ('"region";"alder";"år";"Personer"\n"3014 X";"0 år";"2016";5\n'.encode(),
                      r"no column 'kjønn \(sex\)'"),
    "both sexes only": (_replace_line(good_csv(), 4, '"3014 Indre Østfold";"Begge kjønn";"0 år";'
                                      '"Personer";"2016";256').encode(),
                        r"line 4, column 'kjønn': 'Begge kjønn' \(both sexes together\)"),
    "grouped ages": (_replace_line(good_csv(), 5, '"3014 Indre Østfold";"Menn";"1-4 år";'
                                   '"Personer";"2016";1000').encode(),
                     r"line 5, column 'alder': '1-4 år' is an age group"),
    "age above 105": (_replace_line(good_csv(), 5, '"3014 Indre Østfold";"Menn";"106 år";'
                                    '"Personer";"2016";1').encode(), r"line 5.*age 106 is above 105"),
    "missing cell": (_replace_line(good_csv(), 60, None).encode(),
                     r"3014, 2016 is incomplete: 1 of the 212 .* Menn 56 år"),
    "duplicate": (_replace_line(good_csv(), 61, good_csv().splitlines()[59]).encode(),
                  r"line 61: a second figure for 3014, Menn, 56 år, 2016 \(the first is at line 60\)"),
    "not a number": (_replace_line(good_csv(), 6, '"3014 Indre Østfold";"Menn";"2 år";'
                                   '"Personer";"2016";abc').encode(),
                     r"line 6, column '07459: Befolkning': 'abc' is not a number"),
    "confidential": (_replace_line(good_csv(), 6, '"3014 Indre Østfold";"Menn";"2 år";'
                                   '"Personer";"2016";..').encode(),
                     r"line 6, column '07459: Befolkning': no figure \('\.\.'"),
    "negative": (_replace_line(good_csv(), 6, '"3014 Indre Østfold";"Menn";"2 år";'
                               '"Personer";"2016";-3').encode(), r"line 6.*not a whole number"),
    "county not municipality": (good_csv().replace("3014 Indre Østfold", "30 Viken").encode(),
                                r"line 4, column 'region': '30 Viken' is not a municipality"),
    "bad year": (_replace_line(good_csv(), 4, '"3014 Indre Østfold";"Menn";"0 år";"Personer";'
                               '"2016K1";256').encode(),
                 r"line 4, column 'år': '2016K1' is not a year"),
    "bad json": (b'{"id": ["Region"', r"not valid JSON \(line 1"),
    "json not json-stat": (b'{"hello": 1}', r"not a JSON-stat dataset"),
}


@pytest.mark.parametrize("kind", sorted(BAD))
def test_bad_files_give_clear_errors(kind, tmp_path):
    data, pattern = BAD[kind]
    f = tmp_path / f"bad_{kind.replace(' ', '_')}.csv"
    f.write_bytes(data)
    with pytest.raises(InputError, match=pattern) as err:
        read_07459(f)
    msg = str(err.value)
    assert str(f) in msg  # names the file
    assert "\n" not in msg  # one paragraph


def test_bad_jsonstat_structure(tmp_path):
    doc = json.loads((DATA / FORMATS[3]).read_text(encoding="utf-8"))
    doc["value"] = doc["value"][:-1]
    with pytest.raises(InputError, match=r"'value' has 211 entries, but the dimension sizes"):
        parse_07459(json.dumps(doc).encode(), "x.json")
    doc = json.loads((DATA / FORMATS[3]).read_text(encoding="utf-8"))
    doc["value"][7] = None
    with pytest.raises(InputError, match=r"x.json, value 7 \(Region=3014, Kjonn=1, Alder=007"):
        parse_07459(json.dumps(doc).encode(), "x.json")


def test_bad_xlsx_and_missing_file(tmp_path):
    f = tmp_path / "table.xlsx"
    f.write_text("region;kjønn\n")
    with pytest.raises(InputError, match="is not an Excel workbook"):
        read_07459(f)
    with pytest.raises(InputError, match="no such file"):
        read_07459(tmp_path / "nowhere.csv")
    g = tmp_path / "old.xls"
    g.write_bytes(b"\xd0\xcf\x11\xe0 old excel")
    with pytest.raises(InputError, match=r"\.xls\) is not supported"):
        read_07459(g)


def test_import_command_bad_file_exit_2_no_traceback(tmp_path, user_dir):
    f = tmp_path / "bad.csv"
    f.write_bytes(BAD["grouped ages"][0])
    r = subprocess.run([sys.executable, "-m", "sim.cli.main", "municipality", "import", str(f)],
                       capture_output=True, text=True, timeout=120,
                       env={"WELFARE_SIM_DATA_DIR": str(user_dir), "PATH": "/usr/bin:/bin"})
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert r.stderr.startswith("error: ") and str(f) in r.stderr and "age group" in r.stderr
    assert not (user_dir / "municipalities").exists()  # nothing half-written


# ------------------------------------------------------------------ scenario and run
def test_generated_scenario_validates_runs_and_reports(user_dir):
    from sim.cli.municipality import do_import
    from sim.demography import demography_report
    from sim.model import WelfareModel
    from sim.scenario import load_scenario

    lines = do_import(DATA / FORMATS[2])
    sc_path = user_dir / "scenarios" / "indre_ostfold_3014.toml"
    assert any(str(sc_path) in ln for ln in lines)
    sc = load_scenario(sc_path)
    assert sc.params["run.municipality"] == "3014"
    report = demography_report("3014", 2016, "MMMM", 2016, 2060, [2016, 2040])
    assert report["2016"]["total"] == 43_472
    assert report["2040"]["80+"] > 2 * report["2016"]["80+"]  # the demographic shift
    small = sc.with_overrides({"run.end_year": 2017, "run.population_scale": 0.05})
    model = WelfareModel(small, seed=1).run()
    from sim.metrics import INDEX

    pop = model.results[:, INDEX["population"]]
    assert abs(pop[0] - 43_472) / 43_472 < 0.02


def test_a_run_records_and_is_identified_by_the_figures_it_started_from(user_dir):
    """The same scenario text means other figures once an import comes before the bundled
    file: the run manifest names the file (origin, SHA-256), and the run id changes with
    imported figures (so compare/sweep --resume never reuse runs made from other figures),
    while runs on bundled data keep their ids."""
    import hashlib

    from sim.cli.municipality import do_import
    from sim.experiments.design import run_id, scenario_digest
    from sim.runner import identified, run_scenario
    from sim.scenario import load_scenario

    sc = load_scenario("indre_ostfold.toml").with_overrides(
        {"run.municipality": "3118", "run.end_year": 2016, "run.population_scale": 0.02})
    old_style = hashlib.sha256(json.dumps(
        {"scenario": scenario_digest(sc), "overrides": {}, "seed": 1, "metrics": None,
         "years": None}, sort_keys=True).encode()).hexdigest()[:20]
    assert run_id(sc, {}, 1) == old_style  # bundled data: the id is what it always was
    bundled = run_scenario(sc, seed=1)
    (src,) = bundled.manifest["base_population"]
    assert src["origin"] == "bundled" and src["file"].endswith("indre_ostfold_3014.csv")

    do_import(DATA / FORMATS[0])
    path = user_dir / "municipalities" / "indre_ostfold_3014.csv"
    imported = run_scenario(sc, seed=1)
    (src,) = imported.manifest["base_population"]
    assert src == {"file": str(path), "origin": "imported",
                   "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    first = run_id(sc, {}, 1)
    assert first != old_style
    assert identified(imported).run_id.iloc[0] != identified(bundled).run_id.iloc[0]
    # other figures for the same year (re-import with --replace): another id again
    changed = (DATA / FORMATS[0]).read_text(encoding="utf-8-sig").replace(
        '"Menn";"0 år";"Personer";"2016";256', '"Menn";"0 år";"Personer";"2016";999')
    other = user_dir / "changed.csv"
    other.write_text(changed, encoding="utf-8")
    do_import(other, replace=True)
    assert run_id(sc, {}, 1) not in (first, old_style)


def test_scenario_check_names_unknown_municipality(tmp_path):
    from sim.scenario import load_scenario

    f = tmp_path / "s.toml"
    f.write_text('extends = "indre_ostfold.toml"\n[run]\nmunicipality = "3103"\n')
    with pytest.raises(InputError, match=r"run.municipality.*3103 Moss.*0104 Moss, 0136 Rygge"):
        load_scenario(f)


def test_list_shows_imports_with_provenance(user_dir):
    from sim.cli.municipality import do_import, do_list

    do_import(DATA / FORMATS[1])
    text = "\n".join(do_list())
    assert "indre_ostfold_3014.csv" in text and "imported" in text and "bundled" in text
    assert "07459_3014_2016_wide_cp1252.csv" in text and "sha256" in text
    assert "single years" in text


def test_codes_command_explains_a_former_municipality():
    from sim.cli.municipality import do_codes

    text = "\n".join(do_codes("Askim"))
    assert "0124 Askim" in text and "numbers in 2020: merged into 3014" in text
    heim = "\n".join(do_codes("Heim"))
    assert "did not exist (from 2020; formed from 1571 Halsa, 5011 Hemne, 5012 Snillfjord)" in heim


# ------------------------------------------------------------------ grouped ages: the split
def _split_inputs():
    from sim.demography.data import _national_reference
    from sim.demography.rates import Projection
    from sim.demography.split import growth_factors

    ref = _national_reference(2016)
    return ref, growth_factors(Projection.load(2016, "MMMM").rates(2016), ref)


GROUPS5 = [(0, 19), (20, 66), (67, 79), (80, 89), (90, 105)]


def test_cohort_split_keeps_every_group_total_and_tends_to_the_proportional_split():
    from sim.demography.split import cohort_split

    ref, g = _split_inputs()
    path = Path(m.BUNDLED_DIR / "indre_ostfold_3014.csv")
    from sim.demography.data import _read_grouped

    series = {y: [(lo, hi, p) for _, lo, hi, p in _read_grouped(path, y)] for y in (2014, 2015, 2016)}
    fit = cohort_split(series, g, ref, lam=1.0)
    for y, groups in series.items():
        for lo, hi, p in groups:
            assert fit[y][lo : hi + 1].sum() == pytest.approx(p, rel=1e-9)
    assert (fit[2016] >= 0).all()
    stiff = cohort_split(series, g, ref, lam=1e4)[2016]
    prop = load_base_population(path, 2016).sum(axis=0)
    np.testing.assert_allclose(stiff, prop, rtol=2e-3)


def test_demography_command_reports_the_generated_scenario(user_dir):
    from sim.cli.municipality import do_import

    do_import(DATA / FORMATS[3])
    sc = user_dir / "scenarios" / "indre_ostfold_3014.toml"
    r = subprocess.run([sys.executable, "-m", "sim.cli.main", "demography", str(sc), "--json",
                        "--years", "2016,2060", "--figure", str(user_dir / "fig.png")],
                       capture_output=True, text=True, timeout=300,
                       env={"WELFARE_SIM_DATA_DIR": str(user_dir), "PATH": "/usr/bin:/bin",
                            "MPLBACKEND": "Agg"})
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["2016"]["total"] == 43_472
    assert report["2060"]["total"] > report["2016"]["total"]


def test_a_year_without_a_projection_round_gives_no_scenario(user_dir, tmp_path):
    from sim.cli.municipality import do_import

    y2024 = tmp_path / "y2024.csv"
    y2024.write_text((DATA / FORMATS[0]).read_text(encoding="utf-8-sig")
                     .replace('"2016"', '"2024"').replace("3014 Indre", "3118 Indre"),
                     encoding="utf-8")
    lines = do_import(y2024)
    assert "indre_ostfold_3118.csv" in lines[0]
    assert "no scenario: runs start in 2016 or 2020" in lines[1]
    assert not (user_dir / "scenarios").exists()


def test_import_a_chosen_year(user_dir, tmp_path):
    from sim.cli.municipality import do_import

    text = (DATA / FORMATS[0]).read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    both = tmp_path / "two_years.csv"
    both.write_text("\n".join(lines + [ln.replace('"2016"', '"2020"') for ln in lines[3:]]) + "\n",
                    encoding="utf-8")
    do_import(both, year=2020)
    assert m.base_years("3118") == (2020,)
    with pytest.raises(InputError, match=r"no figures for 2019; the file holds 2016, 2020"):
        do_import(both, year=2019)


def test_jsonstat1_wrapper_of_pxwebapi_v1_reads_the_same(tmp_path):
    doc = json.loads((DATA / FORMATS[3]).read_text(encoding="utf-8"))
    dims = dict(doc["dimension"])
    dims["id"], dims["size"] = doc["id"], doc["size"]
    v1 = {"dataset": {"dimension": dims, "label": doc["label"], "value": doc["value"]}}
    f = tmp_path / "v1.json"
    f.write_text(json.dumps(v1), encoding="utf-8")
    np.testing.assert_array_equal(read_07459(f).counts[("3014", 2016)], reference())
