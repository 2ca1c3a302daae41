#!/usr/bin/env python3
"""Regenerate the demography data files in ``sim/data/`` from the figures in ``../shared/data/``.

The simulator never reads ``../shared`` at run time; it reads only the compact files this script
writes. Run from the repository root::

    python tools/build_demography_data.py [--shared ../shared/data] [--out sim/data]

Output (all comma-separated, "." decimal mark, ``#`` header comment lines citing the source):

* ``ssb_projection_2016_11168.csv`` / ``ssb_projection_2020_12882.csv`` -- SSB's national projected
  population on 1 January by functional age group, one row per alternative and year.
* ``municipalities/norway.csv`` -- the national registered population by functional age group in
  each projection round's first year (SSB: the first projection year equals the registered
  population).
* ``municipalities/indre_ostfold_3014.csv`` -- Indre Østfold (3014) registered population by age
  group, 2005-2016 (SSB table 07459).

Municipality files use the long format ``year,sex,age_from,age_to,persons`` (sex = both, male or
female; ``age_to`` inclusive; 105 means 105 and older).
"""

from __future__ import annotations

import argparse
import csv
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FUNCTIONAL = ["0", "1-5", "6-12", "13-15", "16-19", "20-44", "45-66", "67-79", "80-89", "90+"]
SSB_AGE_LABEL = {
    "0 år": "0",
    "1-5 år": "1-5",
    "6-12 år": "6-12",
    "13-15 år": "13-15",
    "16-19 år": "16-19",
    "20-44 år": "20-44",
    "45-66 år": "45-66",
    "67-79 år": "67-79",
    "80-89 år": "80-89",
    "90 år eller eldre": "90+",
}
ALTERNATIVE = {
    "Hovedalternativet (MMMM)": "MMMM",
    "Lav nasjonal vekst (LLML)": "LLML",
    "Høy nasjonal vekst (HHMH)": "HHMH",
}
ROUNDS = {
    2016: ("ssb_projection_national_functional_ages_2016-2040.csv", 11168),
    2020: ("ssb_projection_national_functional_ages_2020-2050.csv", 12882),
}
LICENCE = "CC BY 4.0"


def _age_bounds(label: str) -> tuple[int, int]:
    if label.endswith("+"):
        return int(label[:-1]), 105
    if "-" in label:
        lo, hi = label.split("-")
        return int(lo), int(hi)
    return int(label), int(label)


def read_projection(path: Path) -> dict[tuple[str, int], dict[str, int]]:
    """(alternative, year) -> functional group -> persons, checking completeness."""
    table: dict[tuple[str, int], dict[str, int]] = defaultdict(dict)
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["region"] != "Hele landet":
                continue
            alt = ALTERNATIVE[row["statistikkvariabel"]]
            group = SSB_AGE_LABEL[row["alder"]]
            key = (alt, int(row["år"]))
            if group in table[key]:
                raise ValueError(f"{path.name}: duplicate row for {key} {group}")
            table[key][group] = int(row["value"])
    for key, groups in table.items():
        if set(groups) != set(FUNCTIONAL):
            raise ValueError(f"{path.name}: incomplete age groups for {key}")
    return dict(table)


def check_against_tidy(tidy: Path, rnd: int, table: dict) -> None:
    """The tidy file's sums must equal our sums (guards against mis-parsing)."""
    with tidy.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if int(row["projection_round"]) != rnd:
                continue
            g = table[(row["alternative"], int(row["year"]))]
            total = sum(g.values())
            if total != int(row["total"]):
                raise ValueError(f"tidy total mismatch {rnd} {row['alternative']} {row['year']}")
            if g["67-79"] != int(row["67-79"]) or g["90+"] != int(row["90+"]):
                raise ValueError(f"tidy group mismatch {rnd} {row['alternative']} {row['year']}")


def write_projection(out: Path, rnd: int, table_no: int, table: dict) -> Path:
    path = out / f"ssb_projection_{rnd}_{table_no}.csv"
    years = sorted({y for _, y in table})
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(
            f"# National projected population 1 January by functional age group, {rnd} projection "
            f"round, alternatives MMMM (main), LLML (low national growth), HHMH (high national growth), "
            f"{years[0]}-{years[-1]}.\n"
            f"# Source: Statistics Norway (SSB), table {table_no}, {LICENCE}. Values unchanged "
            f"(persons); built by tools/build_demography_data.py.\n"
            "# The first year equals the registered population. 90+ is 90 and older.\n"
        )
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["alternative", "year", *FUNCTIONAL])
        for alt in ("MMMM", "LLML", "HHMH"):
            for y in years:
                w.writerow([alt, y, *(table[(alt, y)][g] for g in FUNCTIONAL)])
    return path


def write_norway(out: Path, bases: dict[int, tuple[int, dict[str, int]]]) -> Path:
    path = out / "municipalities" / "norway.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(
            "# Norway, registered population 1 January by functional age group, both sexes, in the "
            "first year of each projection round.\n"
            "# Source: Statistics Norway (SSB), table 11168 (2016) and table 12882 (2020), "
            f"{LICENCE}: the first projection year equals the registered population.\n"
            "# Format: year,sex,age_from,age_to,persons; sex = both|male|female; age_to inclusive; "
            "105 = 105 and older.\n"
        )
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["year", "sex", "age_from", "age_to", "persons"])
        for year in sorted(bases):
            _, groups = bases[year]
            for g in FUNCTIONAL:
                lo, hi = _age_bounds(g)
                w.writerow([year, "both", lo, hi, groups[g]])
    return path


def write_indre_ostfold(shared: Path, out: Path) -> Path:
    src = shared / "indre_ostfold_3014_population_by_agegroup_2005_2016.csv"
    path = out / "municipalities" / "indre_ostfold_3014.csv"
    groups = ["0-19", "20-66", "67-79", "80-89", "90+"]
    with src.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(
            "# Indre Østfold (municipality 3014 at 2020 borders: former Askim, Eidsberg, Hobøl, "
            "Spydeberg, Trøgstad), registered population 1 January by age group, both sexes, "
            "2005-2016.\n"
            f"# Source: Statistics Norway (SSB), table 07459, {LICENCE} (as packaged by the "
            "Norwegian Institute of Public Health); summed by age group.\n"
            "# Format: year,sex,age_from,age_to,persons; sex = both|male|female; age_to inclusive; "
            "105 = 105 and older.\n"
        )
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["year", "sex", "age_from", "age_to", "persons"])
        for row in rows:
            year = int(float(row["year"]))
            values = [int(row[g]) for g in groups]
            if sum(values) != int(row["total"]):
                raise ValueError(f"{src.name}: groups do not sum to total in {year}")
            for g, v in zip(groups, values, strict=True):
                lo, hi = _age_bounds(g)
                w.writerow([year, "both", lo, hi, v])
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=ROOT / "sim" / "data")
    args = ap.parse_args()
    (args.out / "municipalities").mkdir(parents=True, exist_ok=True)
    tidy = args.shared / "ssb_projection_national_agegroups_index_tidy.csv"
    bases: dict[int, tuple[int, dict[str, int]]] = {}
    written = []
    for rnd, (fname, table_no) in ROUNDS.items():
        table = read_projection(args.shared / fname)
        check_against_tidy(tidy, rnd, table)
        written.append(write_projection(args.out, rnd, table_no, table))
        first = min(y for _, y in table)
        bases[first] = (table_no, table[("MMMM", first)])
    written.append(write_norway(args.out, bases))
    written.append(write_indre_ostfold(args.shared, args.out))
    for p in written:
        print(f"wrote {p}")


if __name__ == "__main__":
    main()
