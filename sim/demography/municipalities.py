"""Municipalities: numbers and names across the reforms, the local store of base populations,
imports from SSB table 07459 and the generated scenario.

* **Codes across reforms** -- ``sim/data/municipality_codes.csv`` (see its header and
  docs/municipalities.md for coverage): :func:`find_units` resolves a current or former number or
  a name; :func:`same_territory` follows renumberings; :func:`merged_parts` lists the former
  municipalities a merged one is the sum of; :func:`codes_in_year` gives the numbers that covered
  a territory in a given year (what to ask SSB for).
* **Local store** -- base-population files (long format ``year,sex,age_from,age_to,persons``) in
  the bundled ``sim/data/municipalities`` and in the user's data folder
  (:func:`user_data_dir`: ``$WELFARE_SIM_DATA_DIR``, else ``$XDG_DATA_HOME/welfare-sim``, else
  ``~/.local/share/welfare-sim``). :func:`locate` finds the file(s) for a name or number and a
  year; a merged municipality without its own file is summed from its parts' files.
* **Import** -- :func:`write_imported` writes a 07459 population (single years by sex) with
  provenance (table, region, years, source file and its SHA-256); :func:`write_scenario` writes a
  scenario that runs with ``welfare-sim run``.
* **Fetch** -- :func:`fetch_07459` asks SSB's PxWebApi v2 for table 07459 and caches the answer;
  without a network it says how to import a downloaded file instead.
"""

from __future__ import annotations

import csv
import functools
import os
import re
import tempfile
import unicodedata
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.demography.ssb07459 import N_AGES, Population07459, parse_07459
from sim.errors import InputError, WelfareSimError

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
BUNDLED_DIR = DATA_DIR / "municipalities"
CODES_FILE = DATA_DIR / "municipality_codes.csv"
SSB_API = "https://data.ssb.no/api/pxwebapi/v2/tables/07459/data"
RUN_YEARS = (2016, 2020)  # base years a run can start in (the projection rounds' first years)
HEADER = "year,sex,age_from,age_to,persons"
FORMAT_LINE = (
    "# Format: year,sex,age_from,age_to,persons; sex = both|male|female; age_to inclusive; "
    "105 = 105 and older."
)


# ------------------------------------------------------------------ codes across reforms
@dataclass(frozen=True)
class Unit:
    """One municipality number over one period (a row of municipality_codes.csv)."""

    code: str
    name: str
    valid_from: int | None
    valid_to: int | None
    becomes: tuple[str, ...]
    change: str
    note: str

    def valid_in(self, year: int) -> bool | None:
        """True/False, or None where the table does not record the period.

        Outside the fully recorded chains the table knows a 2016 number and the 2024 number it
        became, not the year of change: a 2016 number (note "changed between 2017 and 2024") was
        valid up to 2016 and no longer in 2024; a 2024 number whose first year is not recorded
        was valid in 2024, and the table cannot tell for earlier years (it must not claim, say,
        that Tromsø was 5501 in 2016: it was 1902)."""
        if self.valid_from is None and self.valid_to is None:
            if self.note.startswith("changed between"):
                return True if year <= 2016 else (False if year >= 2024 else None)
            if "first year not recorded" in self.note:
                return True if year >= 2024 else None
            return None if self.becomes else True
        lo = self.valid_from if self.valid_from is not None else -10**6
        hi = self.valid_to if self.valid_to is not None else 10**6
        return lo <= year <= hi

    def label(self) -> str:
        period = (f"{self.valid_from or ''}-{self.valid_to or ''}"
                  if (self.valid_from or self.valid_to) else "")
        return f"{self.code} {self.name}" + (f" ({period})" if period else "")


def _year(text: str) -> int | None:
    return int(text) if text.strip() else None


@functools.cache
def units() -> tuple[Unit, ...]:
    try:
        with CODES_FILE.open(encoding="utf-8") as fh:
            rows = list(csv.DictReader(ln for ln in fh if not ln.startswith("#")))
    except OSError as exc:  # pragma: no cover - shipped with the package
        raise InputError(f"Cannot read {CODES_FILE}: {exc}.") from exc
    return tuple(
        Unit(r["code"], r["name"], _year(r["valid_from"]), _year(r["valid_to"]),
             tuple(r["becomes"].split()), r["change"], r["note"])
        for r in rows
    )


@functools.cache
def _by_code() -> dict[str, list[Unit]]:
    out: dict[str, list[Unit]] = {}
    for u in units():
        out.setdefault(u.code, []).append(u)
    return out


def normalize(name: str) -> str:
    """Lower case ASCII key: 'Indre Østfold' -> 'indre_ostfold', 'Våler (Østfold)' -> ..."""
    s = name.strip().lower()
    for a, b in (("ø", "o"), ("æ", "ae"), ("å", "a"), ("á", "a")):
        s = s.replace(a, b)
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", s).strip("_")


def _name_keys(name: str) -> set[str]:
    keys = {normalize(name), normalize(re.sub(r"\(.*?\)", "", name))}
    for part in name.split(" - "):  # Sami and Kven double names: 'Snåase - Snåsa'
        keys.add(normalize(part))
    return {k for k in keys if k}


@functools.cache
def _by_name() -> dict[str, list[Unit]]:
    out: dict[str, list[Unit]] = {}
    for u in units():
        for k in _name_keys(u.name):
            out.setdefault(k, []).append(u)
    return out


def parse_code(text: str) -> str | None:
    m = re.fullmatch(r"(?:K-|k-)?(\d{4})", text.strip())
    return m.group(1) if m else None


def find_units(query: str) -> list[Unit]:
    """Rows for a municipality number ('3118', 'K-3014') or a name ('Indre Østfold', 'askim')."""
    code = parse_code(query)
    if code is not None:
        return list(_by_code().get(code, []))
    return list(_by_name().get(normalize(query), []))


def _current(units_: list[Unit]) -> list[Unit]:
    now = [u for u in units_ if u.valid_to is None and not u.becomes]
    return now or units_


def resolve_code(query: str) -> str:
    """The municipality number meant by ``query``: a number as given, or for a name the number
    now in use (a name used by several municipalities must be disambiguated)."""
    code = parse_code(query)
    if code is not None:
        return code
    found = find_units(query)
    if not found:
        raise InputError(
            f"Unknown municipality {query!r}: not a 4-digit municipality number and not a name in "
            f"{CODES_FILE.name} (names of 2016 and 2024 and the reform steps listed in "
            "docs/municipalities.md). Use the number, e.g. 3118 for Indre Østfold."
        )
    territories = {frozenset(same_territory(u.code)) for u in _current(found)}
    if len(territories) > 1:
        options = "; ".join(u.label() for u in _current(found))
        raise InputError(
            f"The name {query!r} is ambiguous: {options}. Use the municipality number instead."
        )
    current = _current(found)
    current.sort(key=lambda u: (u.valid_to is not None, -(u.valid_from or 0)))
    return current[0].code


def name_of(code: str) -> str:
    found = _by_code().get(code, [])
    return found[-1].name if found else code


def _predecessors(code: str) -> list[Unit]:
    return [u for u in units() if code in u.becomes]


def same_territory(code: str) -> list[str]:
    """``code`` and every number that meant the same territory (renumberings both ways)."""
    seen = [code]
    i = 0
    while i < len(seen):
        c = seen[i]
        for u in _by_code().get(c, []):
            if u.change == "renumbered":
                seen.extend(b for b in u.becomes if b not in seen)
        for u in _predecessors(c):
            if u.change == "renumbered" and u.code not in seen:
                seen.append(u.code)
        i += 1
    return seen


def merged_parts(code: str) -> list[str] | None:
    """The former municipalities whose sum is the territory of ``code`` (one level down), or
    None if it was not formed by a merger (or includes part of a divided municipality)."""
    for c in same_territory(code):
        preds = _predecessors(c)
        if any(u.change == "split" for u in preds):
            return None
        merged = [u.code for u in preds if u.change == "merged"]
        if merged:
            # a code that kept its number while taking in a neighbour (Trondheim 2020) is not
            # recorded as its own predecessor; its data cannot be assembled from parts
            if any("took in" in u.note for u in _by_code().get(c, [])):
                return None
            return merged
    return None


def codes_in_year(code: str, year: int) -> list[str] | None:
    """Numbers that together covered the territory of ``code`` in ``year`` (for fetching from
    SSB), or None where the table cannot tell (split, or dates not recorded)."""
    for c in same_territory(code):
        if any(u.valid_in(year) for u in _by_code().get(c, [])):
            return [c]
    parts = merged_parts(code)
    if parts:
        out: list[str] = []
        for p in parts:
            sub = codes_in_year(p, year)
            if sub is None:
                return None
            out.extend(sub)
        return out
    return None


# ------------------------------------------------------------------ local store
def user_data_dir() -> Path:
    env = os.environ.get("WELFARE_SIM_DATA_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "welfare-sim"


def user_municipality_dir() -> Path:
    return user_data_dir() / "municipalities"


def search_dirs() -> list[Path]:
    """Where base-population files are looked up: the user's imports first, then the bundled."""
    return [user_municipality_dir(), BUNDLED_DIR]


@dataclass
class LocalFile:
    path: Path
    code: str | None
    name: str
    years: tuple[int, ...]
    origin: str  # "bundled" or "imported"
    provenance: list[str]
    single_year: bool


def _read_local(path: Path, origin: str) -> LocalFile:
    comments, years, single = [], set(), True
    try:
        with path.open(encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"Cannot read base-population file {path}: {exc}.") from exc
    body = []
    for ln in lines:
        if ln.startswith("#"):
            comments.append(ln.lstrip("# ").strip())
        elif ln.strip():
            body.append(ln)
    for r in csv.DictReader(body):
        try:
            years.add(int(float(r["year"])))
            if r["age_from"] != r["age_to"] and r["age_from"] != "105":
                single = False
        except (KeyError, TypeError, ValueError):
            continue
    m = re.search(r"_(\d{4})$", path.stem)
    code = m.group(1) if m else None
    name = name_of(code) if code else path.stem
    if code and name == code:
        name = re.sub(r"_\d{4}$", "", path.stem).replace("_", " ").title()
    provenance = [c for c in comments if not c.startswith("Format:")]
    return LocalFile(path, code, name, tuple(sorted(years)), origin, provenance, single)


def local_files() -> list[LocalFile]:
    out = []
    for d, origin in zip(search_dirs(), ("imported", "bundled"), strict=True):
        if d.is_dir():
            out.extend(_read_local(p, origin) for p in sorted(d.glob("*.csv")))
    return out


def _file_for_codes(codes: list[str], dirs: list[Path] | None = None) -> Path | None:
    for d in dirs or search_dirs():
        for c in codes:
            hits = sorted(d.glob(f"*_{c}.csv")) if d.is_dir() else []
            if hits:
                return hits[0]
    return None


def find_file(query: str) -> Path | None:
    """A single local file for a municipality number or name (any number of its territory)."""
    try:
        code = resolve_code(query)
    except InputError:
        return None
    return _file_for_codes(same_territory(code))


def _parts_files(code: str, dirs: list[Path]) -> tuple[list[Path], list[str]]:
    """Files for the merged parts of ``code`` found in ``dirs`` and the parts not found."""
    files: list[Path] = []
    missing: list[str] = []
    for p in merged_parts(code) or []:
        own = _file_for_codes(same_territory(p), dirs)
        if own is not None:
            files.append(own)
            continue
        sub, sub_missing = _parts_files(p, dirs) if merged_parts(p) else ([], [p])
        files.extend(sub)
        missing.extend(sub_missing)
    return files, missing


def locate(query: str) -> list[Path]:
    """File(s) whose populations add up to the municipality ``query``, in this order: its own
    imported file; the imported files of all the municipalities it merged from (summed); its own
    bundled file; a sum drawing on both folders."""
    code = resolve_code(query)
    user, bundled = user_municipality_dir(), BUNDLED_DIR
    own = _file_for_codes(same_territory(code), [user])
    if own is not None:
        return [own]
    parts = merged_parts(code)
    if parts:
        files, missing = _parts_files(code, [user])
        if files and not missing:
            return files
    own = _file_for_codes(same_territory(code), [bundled])
    if own is not None:
        return [own]
    if parts:
        files, missing = _parts_files(code, [user, bundled])
        if not missing:
            return files
        raise InputError(
            f"No base population for {code} {name_of(code)}: it is the merger of "
            f"{', '.join(f'{p} {name_of(p)}' for p in parts)}, and "
            f"{', '.join(f'{p} {name_of(p)}' for p in missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not available locally. Import SSB table "
            f"07459 for {code} (`welfare-sim municipality import FILE`) or fetch it "
            f"(`welfare-sim municipality fetch {code} --year YEAR`); `welfare-sim municipality "
            "list` shows what is available."
        )
    raise InputError(
        f"No base population for {code} {name_of(code)} (searched "
        f"{', '.join(map(str, search_dirs()))}). Import SSB table 07459 for it (`welfare-sim "
        f"municipality import FILE`) or fetch it (`welfare-sim municipality fetch {code} --year "
        "YEAR`); `welfare-sim municipality list` shows what is available."
    )


def base_years(query: str) -> tuple[int, ...]:
    """Years every file of :func:`locate` holds (for a sum of parts: the common years)."""
    common: set[int] | None = None
    for p in locate(query):
        ys = set(_read_local(p, "").years)
        common = ys if common is None else common & ys
    return tuple(sorted(common or ()))


# ------------------------------------------------------------------ writing
def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_single_years(path: Path) -> dict[int, np.ndarray]:
    out: dict[int, np.ndarray] = {}
    with path.open(encoding="utf-8") as fh:
        body = [ln for ln in fh if ln.strip() and not ln.startswith("#")]
    for r in csv.DictReader(body):
        y = int(float(r["year"]))
        arr = out.setdefault(y, np.zeros((2, N_AGES)))
        sex = {"male": 0, "female": 1}[r["sex"]]
        arr[sex, int(r["age_from"])] += float(r["persons"])
    return out


def slug(name: str) -> str:
    return normalize(re.sub(r"\(.*?\)", "", name)) or "municipality"


@dataclass
class ImportResult:
    path: Path
    code: str
    name: str
    years: tuple[int, ...]
    total: dict[int, int]
    added_years: tuple[int, ...]
    unchanged: bool


def write_imported(
    pop: Population07459,
    code: str,
    *,
    parts: list[str] | None = None,
    out_dir: Path | None = None,
    replace: bool = False,
    source_label: str | None = None,
) -> ImportResult:
    """Write municipality ``code`` from ``pop`` (summing ``parts`` if given) to
    ``<out_dir>/<name>_<code>.csv``. Years already in an existing file are kept; a year present
    in both with different figures is an error unless ``replace``."""
    parts = parts or [code]
    years = sorted(set.intersection(*(set(pop.years(p)) for p in parts)))
    if not years:
        raise InputError(
            f"{pop.source}: no year with figures for all of {', '.join(parts)}; the file holds "
            f"{', '.join(pop.regions)}."
        )
    name = name_of(code) if name_of(code) != code else pop.names.get(code, code)
    out_dir = out_dir or user_municipality_dir()
    path = out_dir / f"{slug(name)}_{code}.csv"
    new = {y: sum(pop.counts[(p, y)] for p in parts) for y in years}
    existing: dict[int, np.ndarray] = {}
    old_provenance: list[str] = []
    if path.exists():
        try:
            existing = _read_single_years(path)
            old_provenance = [c for c in _read_local(path, "imported").provenance[2:]]
        except (KeyError, ValueError, OSError) as exc:
            raise InputError(
                f"{path} exists and is not a file this command wrote ({exc}); it is left as it "
                "is. Move it away or choose another folder with --out."
            ) from None
    clash = [y for y in years if y in existing and not np.array_equal(existing[y], new[y])]
    if clash and not replace:
        raise InputError(
            f"{path} already holds {', '.join(map(str, clash))} with different figures; nothing "
            "was written. Use --replace to overwrite those years (other years are kept)."
        )
    unchanged = all(y in existing and np.array_equal(existing[y], new[y]) for y in years)
    merged = {**existing, **new}
    src = source_label or Path(pop.source).name
    region = "+".join(parts) if parts != [code] else code
    line = (f"Imported from {src} ({pop.fmt}, sha256 {pop.sha256[:16]}), region {region}, "
            f"years {', '.join(map(str, years))}.")
    provenance = [p for p in old_provenance if p != line]
    if not unchanged or not old_provenance:
        provenance.append(line)
    text = [
        f"# {name} (municipality {code}), registered population 1 January, single-year ages by sex.",
        "# Source: Statistics Norway (SSB), table 07459, CC BY 4.0.",
        *[f"# {p}" for p in provenance],
        FORMAT_LINE,
        HEADER,
    ]
    for y in sorted(merged):
        for s, sex in enumerate(("male", "female")):
            for a in range(N_AGES):
                text.append(f"{y},{sex},{a},{a},{int(round(merged[y][s, a]))}")
    if not unchanged or not path.exists():
        _atomic_write(path, "\n".join(text) + "\n")
    return ImportResult(path, code, name, tuple(sorted(merged)),
                        {y: int(round(new[y].sum())) for y in years},
                        tuple(y for y in years if y not in existing), unchanged)


def write_scenario(result: ImportResult, out_dir: Path | None = None,
                   overwrite: bool = False) -> Path | None:
    """A scenario for the imported municipality (None if it holds no run base year)."""
    run_years = [y for y in result.years if y in RUN_YEARS]
    if not run_years:
        return None
    start = max(run_years)
    total = result.total.get(start) or int(round(_read_single_years(result.path)[start].sum()))
    scale = 1.0
    if total > 60_000:  # keep a first run light; results per person do not depend on the scale
        scale = float(f"{50_000 / total:.1g}")
    out_dir = out_dir or user_data_dir() / "scenarios"
    path = out_dir / f"{slug(result.name)}_{result.code}.toml"
    # by number where the lookup finds this very file, else by its path
    found = find_file(result.code)
    ref = result.code if found is not None and found.resolve() == result.path.resolve() \
        else str(result.path.resolve())
    text = f"""# {result.name} (municipality {result.code}), written by `welfare-sim municipality import`.
# Base population: {result.path} (SSB table 07459, {start}).
# Edit freely: this file is yours; re-importing never overwrites it.
name = "{result.name}"
description = "{result.name} ({result.code}), {total:,} inhabitants on 1 January {start}, SSB {start} projection round (MMMM) to 2060."
seed = 1
paradigm = "traditional"

[run]
municipality = "{ref}"
start_year = {start}
end_year = 2060
population_scale = {scale}

[demography]
projection_round = {start}
alternative = "MMMM"
"""
    if path.exists() and not overwrite:
        return path
    _atomic_write(path, text)
    return path


# ------------------------------------------------------------------ fetching
Opener = Callable[..., object]


def fetch_url(codes: list[str], year: int) -> str:
    params = {
        "lang": "no",
        "outputformat": "json-stat2",
        "valueCodes[Region]": ",".join(codes),
        "valueCodes[Kjonn]": "1,2",
        "valueCodes[Alder]": "*",
        "valueCodes[ContentsCode]": "Personer1",
        "valueCodes[Tid]": str(year),
    }
    return f"{SSB_API}?{urllib.parse.urlencode(params, safe='[],*')}"


def fetch_07459(
    query: str,
    year: int,
    *,
    refresh: bool = False,
    opener: Opener | None = None,
    timeout: float = 30.0,
) -> tuple[Population07459, str, list[str], Path]:
    """Ask SSB (PxWebApi v2) for table 07459, municipality ``query`` in ``year``.

    Returns ``(population, code, region codes asked for, cache file)``. The answer is cached in
    ``<user data>/cache``; a cached answer is used without a network unless ``refresh``. Where
    the municipality did not exist in ``year``, the numbers that covered it then are asked for
    (e.g. 3118 in 2016: Askim, Eidsberg, Hobøl, Spydeberg, Trøgstad) and summed by the caller.
    """
    code = resolve_code(query)
    codes = codes_in_year(code, year) or [code]
    url = fetch_url(codes, year)
    cache = user_data_dir() / "cache" / f"ssb07459_{'-'.join(codes)}_{year}.json"
    if cache.exists() and not refresh:
        return parse_07459(cache.read_bytes(), str(cache)), code, codes, cache
    open_ = opener or urllib.request.urlopen
    how_to = (
        f"To work offline, download table 07459 from Statistikkbanken "
        f"(https://www.ssb.no/statbank/table/07459: region {', '.join(codes)}, both sexes "
        f"separately, every single-year age, year {year}), save it as CSV or JSON-stat 2, and "
        "run `welfare-sim municipality import FILE`."
    )
    try:
        req = urllib.request.Request(url, headers={"Accept": "application/json",
                                                   "User-Agent": "welfare-sim"})
        with open_(req, timeout=timeout) as resp:  # type: ignore[operator]
            body = resp.read()
    except urllib.error.HTTPError as exc:
        detail = ""
        try:
            detail = exc.read().decode("utf-8", "replace")[:300]
        except Exception:  # noqa: BLE001 - best effort
            pass
        raise WelfareSimError(
            f"SSB answered HTTP {exc.code} ({exc.reason}) for table 07459, region "
            f"{', '.join(codes)}, year {year}: {detail.strip() or 'no detail'}. Check the "
            f"municipality number and that SSB has published {year}. {how_to}"
        ) from None
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise WelfareSimError(
            f"Could not reach SSB's API ({SSB_API}): {reason}. No network connection? Nothing "
            f"was written. {how_to}"
        ) from None
    pop = parse_07459(body, url, fmt="json-stat2")
    _atomic_write_bytes(cache, body)
    return pop, code, codes, cache


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
