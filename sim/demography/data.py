"""Loaders for the demography data files in ``sim/data/`` (never ``../shared`` at run time).

Two kinds of file:

* ``ssb_projection_<round>_<table>.csv`` -- SSB's national projection by functional age group
  (``0, 1-5, 6-12, 13-15, 16-19, 20-44, 45-66, 67-79, 80-89, 90+``) per alternative and year.
* ``municipalities/<name>[_<code>].csv`` -- a registered base population in the long format
  ``year,sex,age_from,age_to,persons`` (sex ``both``/``male``/``female``, ``age_to`` inclusive,
  105 = 105 and older). Any grouping is accepted as long as, for the chosen year, the rows cover
  every (sex, age 0..105) exactly once.

Grouped figures are spread to single years by sex (:func:`load_base_population`):

* the national file (``norway``) by a smooth, group-total-preserving curve (minimum squared second
  differences over ages 0-90, solved exactly with the group sums as constraints) joined to a
  survivorship-shaped tail for 90+, and split by sex with the standard sex ratios in
  :mod:`sim.demography.schedules`;
* any other file in proportion to the national single-year-by-sex structure of the nearest year
  the national file holds (2016 or 2020): inside a group, a municipality is assumed to have the
  national age and sex composition.
"""

from __future__ import annotations

import csv
import functools
from pathlib import Path

import numpy as np

from sim.demography import schedules
from sim.errors import InputError

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
MUNICIPALITY_DIR = DATA_DIR / "municipalities"

N_AGES = 106  # single years 0..105, 105 = 105 and older
MAX_AGE = N_AGES - 1

FUNCTIONAL_GROUPS: dict[str, tuple[int, int]] = {
    "0": (0, 0),
    "1-5": (1, 5),
    "6-12": (6, 12),
    "13-15": (13, 15),
    "16-19": (16, 19),
    "20-44": (20, 44),
    "45-66": (45, 66),
    "67-79": (67, 79),
    "80-89": (80, 89),
    "90+": (90, 105),
}
"""SSB's functional age groups (inclusive bounds) as used in tables 11168 and 12882."""

AGE_GROUPS: dict[str, tuple[int, int]] = {
    "0-19": (0, 19),
    "20-66": (20, 66),
    "67-79": (67, 79),
    "80-89": (80, 89),
    "90+": (90, 105),
    "80+": (80, 105),
    "total": (0, 105),
}
"""Reporting groups (inclusive single-year bounds); 80+ and total overlap the others."""

PROJECTION_FILES = {2016: "ssb_projection_2016_11168.csv", 2020: "ssb_projection_2020_12882.csv"}
SSB_TABLE = {2016: 11168, 2020: 12882}
ALTERNATIVES = ("MMMM", "LLML", "HHMH")


def _data_rows(path: Path) -> list[dict[str, str]]:
    """Rows of a ``#``-commented CSV file as dicts (header = first non-comment line)."""
    try:
        with path.open(encoding="utf-8") as fh:
            lines = [ln for ln in fh if ln.strip() and not ln.startswith("#")]
    except OSError as exc:
        raise InputError(f"Cannot read data file {path}: {exc}.") from exc
    return list(csv.DictReader(lines))


def group_sums(
    pop: np.ndarray, groups: dict[str, tuple[int, int]] = AGE_GROUPS
) -> dict[str, float]:
    """Sum a (2, 106) or (106,) population over both sexes into ``groups``."""
    by_age = pop.sum(axis=0) if pop.ndim == 2 else pop
    return {g: float(by_age[lo : hi + 1].sum()) for g, (lo, hi) in groups.items()}


@functools.cache
def ssb_projection_table(projection_round: int) -> dict[str, dict[int, dict[str, int]]]:
    """``{alternative: {year: {functional group: persons}}}`` for a projection round."""
    if projection_round not in PROJECTION_FILES:
        raise InputError(
            f"Unknown demography projection round {projection_round!r}: expected one of "
            f"{sorted(PROJECTION_FILES)} (2016 = SSB table 11168 to 2040, 2020 = SSB table 12882 "
            "to 2050)."
        )
    path = DATA_DIR / PROJECTION_FILES[projection_round]
    table: dict[str, dict[int, dict[str, int]]] = {}
    for row in _data_rows(path):
        alt, year = row["alternative"], int(row["year"])
        groups = {g: int(row[g]) for g in FUNCTIONAL_GROUPS}
        if year in table.setdefault(alt, {}):
            raise InputError(f"{path}: duplicate row for {alt} {year}.")
        table[alt][year] = groups
    return table


def _smooth_spread(totals: dict[str, float]) -> np.ndarray:
    """Single-year ages 0..105 (both sexes) from functional-group totals.

    Ages 90..105 follow the stationary-population shape of the standard (both-sex) survivorship
    and hold the 90+ total exactly. Ages 0..89 minimise the sum of squared second differences of
    the curve over ages 0..90 (age 90 fixed at the tail's value, so the curve joins the tail)
    subject to each group's sum; the KKT system is solved exactly.
    """
    x = np.zeros(N_AGES)
    tail = schedules.old_age_tail_shape()  # ages 90..105, sums to 1
    x[90:] = totals["90+"] * tail
    n = 91  # unknowns ages 0..90, last one pinned
    d2 = np.diff(np.eye(n), n=2, axis=0)
    h = 2.0 * d2.T @ d2
    cons = []
    rhs = []
    for g, (lo, hi) in FUNCTIONAL_GROUPS.items():
        if g == "90+":
            continue
        row = np.zeros(n)
        row[lo : hi + 1] = 1.0
        cons.append(row)
        rhs.append(totals[g])
    pin = np.zeros(n)
    pin[90] = 1.0
    cons.append(pin)
    rhs.append(x[90])
    a = np.array(cons)
    k = len(cons)
    kkt = np.block([[h, a.T], [a, np.zeros((k, k))]])
    sol = np.linalg.solve(kkt, np.concatenate([np.zeros(n), rhs]))
    x[:90] = sol[:90]
    if (x < 0).any():  # pragma: no cover - guards against odd inputs
        raise InputError("Base population spread produced negative single-year counts.")
    return x


def _split_sex(by_age: np.ndarray) -> np.ndarray:
    share_male = schedules.male_share_by_age()
    return np.stack([by_age * share_male, by_age * (1.0 - share_male)])


def _resolve_municipality(name: str | Path) -> Path:
    """The one file for ``name``: a path to a .csv file, a file stem (``indre_ostfold`` for
    ``indre_ostfold_3014.csv``) in the user's imports or the bundled folder, or a current or former
    municipality number or name (``3118``, ``Indre Østfold``; see
    :mod:`sim.demography.municipalities`)."""
    from sim.demography import municipalities

    p = Path(name)
    if p.suffix == ".csv" and p.is_file():
        return p
    key = str(name).strip().lower().replace(" ", "_").replace("-", "_")
    for folder in municipalities.search_dirs()[::-1]:  # bundled first, then the user's
        exact = folder / f"{key}.csv"
        if exact.is_file():
            return exact
        matches = sorted(folder.glob(f"{key}_*.csv")) if folder.is_dir() else []
        if len(matches) == 1:
            return matches[0]
    found = municipalities.find_file(str(name))
    if found is not None:
        return found
    known = sorted({f.stem for d in municipalities.search_dirs() if d.is_dir()
                    for f in d.glob("*.csv")})
    raise InputError(
        f"No base population file for municipality {name!r}: expected "
        f"{MUNICIPALITY_DIR}/{key}.csv (or {key}_<code>.csv, or a path to a .csv file) in the "
        f"format year,sex,age_from,age_to,persons, or a municipality imported with "
        f"`welfare-sim municipality import` (see `welfare-sim municipality list`). Known "
        f"municipalities: {', '.join(known)}."
    )


def _resolve_parts(name: str | Path) -> list[Path]:
    """Files to add up for ``name``: a path or file stem as :func:`_resolve_municipality`; a
    municipality number or name through :func:`sim.demography.municipalities.locate` (its own
    file, or those of the municipalities it merged from)."""
    from sim.demography import municipalities

    p = Path(name)
    if p.suffix == ".csv" and p.is_file():
        return [p]
    key = str(name).strip().lower().replace(" ", "_").replace("-", "_")
    bundled = sorted(MUNICIPALITY_DIR.glob(f"{key}_*.csv"))
    if (MUNICIPALITY_DIR / f"{key}.csv").is_file():  # a bundled file's stem means that file,
        return [MUNICIPALITY_DIR / f"{key}.csv"]     # whatever the user has imported
    if len(bundled) == 1:
        return bundled
    if municipalities.parse_code(str(name)) or municipalities.find_units(str(name)):
        try:
            return municipalities.locate(str(name))
        except InputError:
            for folder in municipalities.search_dirs():  # a hand-made NAME.csv without a code
                if (folder / f"{key}.csv").is_file():
                    return [folder / f"{key}.csv"]
            raise
    return [_resolve_municipality(name)]  # a file stem, or the explanation


def _read_grouped(path: Path, year: int) -> list[tuple[int, int, int, float]]:
    """Rows ``(sex_code, age_from, age_to, persons)`` for ``year``; sex_code -1 = both."""
    rows = _data_rows(path)
    need = {"year", "sex", "age_from", "age_to", "persons"}
    if not rows or not need <= set(rows[0]):
        raise InputError(
            f"{path}: expected the columns year,sex,age_from,age_to,persons (one header line, "
            "comment lines starting with '#')."
        )
    sexes = {"both": -1, "male": 0, "female": 1}
    out = []
    years = set()
    for i, r in enumerate(rows, start=1):
        try:
            y = int(float(r["year"]))
            years.add(y)
            if y != year:
                continue
            sex = sexes[r["sex"].strip().lower()]
            lo, hi = int(r["age_from"]), int(r["age_to"])
            persons = float(r["persons"])
        except (KeyError, ValueError) as exc:
            raise InputError(
                f"{path}, data row {i}: cannot read {dict(r)} ({exc}); sex must be both, male "
                "or female, ages integers 0..105, persons a number."
            ) from exc
        if not (0 <= lo <= hi <= MAX_AGE) or persons < 0:
            raise InputError(
                f"{path}, data row {i}: age range {lo}-{hi} or persons {persons} out of range "
                "(ages 0..105 with age_from <= age_to, persons >= 0)."
            )
        out.append((sex, lo, hi, persons))
    if not out:
        raise InputError(
            f"{path} has no rows for year {year}; years available: "
            f"{', '.join(str(y) for y in sorted(years)) or 'none'}."
        )
    return out


@functools.cache
def _national_reference(year: int) -> np.ndarray:
    table = _read_grouped(_resolve_municipality("norway"), year)
    totals = {}
    for sex, lo, hi, persons in table:
        label = next((g for g, b in FUNCTIONAL_GROUPS.items() if b == (lo, hi)), None)
        if sex != -1 or label is None:
            raise InputError(
                "sim/data/municipalities/norway.csv must hold both-sex functional groups."
            )
        totals[label] = persons
    return _split_sex(_smooth_spread(totals))


def national_reference_years() -> list[int]:
    rows = _data_rows(_resolve_municipality("norway"))
    return sorted({int(float(r["year"])) for r in rows})


def load_base_population(municipality: str | Path, year: int) -> np.ndarray:
    """Registered population on 1 January of ``year``: array (2, 106), persons by sex and age.

    Row 0 is male, row 1 female; column a is single-year age a (105 = 105 and older). The array
    sums to the file's total for that year. ``municipality`` is a file stem in
    ``sim/data/municipalities`` or the user's imports (``"norway"``, ``"indre_ostfold"`` for
    ``indre_ostfold_3014.csv``), a current or former municipality number or name (``"3118"``,
    ``"Indre Østfold"``; a merged municipality without a file of its own is summed from its
    parts), or a path to a CSV file in the same format. Single-year rows by sex are used as they
    are.
    """
    paths = _resolve_parts(municipality)
    if len(paths) > 1:  # a merged municipality without its own file: the sum of its parts
        return sum((load_base_population(p, year) for p in paths), np.zeros((2, N_AGES)))
    path = paths[0]
    rows = _read_grouped(path, int(year))
    ref_years = national_reference_years()
    ref_year = min(ref_years, key=lambda y: (abs(y - int(year)), y))
    ref = _national_reference(ref_year)
    if path == _resolve_municipality("norway"):
        return ref.copy()
    pop = np.zeros((2, N_AGES))
    cover = np.zeros((2, N_AGES), dtype=int)
    for sex, lo, hi, persons in rows:
        sexes = [0, 1] if sex == -1 else [sex]
        if lo == hi and len(sexes) == 1:  # a single-year cell by sex: used as it is
            pop[sexes[0], lo] += persons
        else:
            weights = ref[sexes, lo : hi + 1]
            pop[sexes, lo : hi + 1] += persons * weights / weights.sum()
        cover[sexes, lo : hi + 1] += 1
    if (cover != 1).any():
        bad = np.argwhere(cover != 1)[0]
        raise InputError(
            f"{path}: the rows for {year} must cover every sex and age 0..105 exactly once; "
            f"{'male' if bad[0] == 0 else 'female'} age {bad[1]} is covered {cover[tuple(bad)]} "
            "times (use disjoint groups, e.g. 0-19, 20-66, 67-79, 80-89, 90-105)."
        )
    return pop


def base_population_sources(municipality: str | Path) -> list[dict[str, str]]:
    """The file(s) a run's base population is read from, for its manifest: path, origin
    (``bundled``, ``imported`` into the user's data folder, or a ``file`` named by path) and
    SHA-256. The same scenario text can mean different figures on different machines (an
    import in ``$WELFARE_SIM_DATA_DIR`` comes before the bundled file), so this is recorded."""
    import hashlib

    from sim.demography import municipalities

    out = []
    for p in _resolve_parts(municipality):
        rp = Path(p).resolve()
        origin = ("bundled" if rp.is_relative_to(MUNICIPALITY_DIR.resolve()) else
                  "imported" if rp.is_relative_to(municipalities.user_municipality_dir().resolve())
                  else "file")
        out.append({"file": str(p), "origin": origin,
                    "sha256": hashlib.sha256(rp.read_bytes()).hexdigest()})
    return out


def base_population_key(municipality: str | Path) -> str | None:
    """A hash of the base-population file(s) for run ids when they are not the bundled files
    (None for bundled data, so bundled runs keep their ids): re-importing different figures,
    or running with another data folder, must not reuse runs made with other figures."""
    import os

    from sim.demography import municipalities

    user = municipalities.user_municipality_dir()
    try:  # the folder's state is part of the cache key: an import in this process counts
        state = tuple(sorted((e.name, e.inode(), e.stat().st_mtime_ns, e.stat().st_size)
                             for e in os.scandir(user) if e.name.endswith(".csv")))
    except OSError:
        state = ()
    return _population_key(str(municipality), str(user), state)


@functools.lru_cache(maxsize=256)
def _population_key(municipality: str, user_dir: str, state: tuple) -> str | None:
    import hashlib

    try:
        sources = base_population_sources(municipality)
    except InputError:
        return None  # the run itself will say what is missing
    if all(s["origin"] == "bundled" for s in sources):
        return None
    return hashlib.sha256("".join(s["sha256"] for s in sources).encode()).hexdigest()[:20]
