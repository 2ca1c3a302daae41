"""Measure how well grouped ages are split into single years, out of sample, on Indre Østfold.

There are no single-year figures for Indre Østfold in the project's data (the bundled file has
the groups 0-19, 20-66, 67-79, 80-89, 90+ for 2005-2016), so the split is judged by what it is
for: a base year B is split into single years using only the years up to B, projected to 2016 with
the national rates (SSB 2016 round, MMMM, the rates of 2016 held for every year), and the
projected 2016 groups are compared with the registered 2016 groups. The same rates are used for
every split method, so differences between methods come from the split alone; the common error
also holds the rate error (national rates of 2016 for 2006-2015, national migration).

    python tools/measure_split.py            # prints a markdown table
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.demography.cohort import project_one_year  # noqa: E402
from sim.demography.data import (  # noqa: E402
    _national_reference,
    _read_grouped,
    group_sums,
    load_base_population,
)
from sim.demography.rates import Projection  # noqa: E402
from sim.demography.split import cohort_split, growth_factors, split_sex  # noqa: E402

FILE = ROOT / "sim" / "data" / "municipalities" / "indre_ostfold_3014.csv"
GROUPS = ("0-19", "20-66", "67-79", "80-89", "90+", "total")
BASES = (2006, 2008, 2011, 2013)
METHODS = (("proportional to the national shape (the model's)", None),
           ("cohort-shifted, lam = 0.1", 0.1), ("cohort-shifted, lam = 1", 1.0),
           ("cohort-shifted, lam = 10", 10.0))


def main() -> None:
    rates = Projection.load(2016, "MMMM").rates(2016)
    ref = _national_reference(2016)
    g = growth_factors(rates, ref)
    series = {y: [(lo, hi, p) for _, lo, hi, p in _read_grouped(FILE, y)]
              for y in range(2005, 2017)}
    truth = group_sums(load_base_population(FILE, 2016))
    print("| base year → 2016 | split | " + " | ".join(GROUPS) + " |")
    print("|---|---|" + "---|" * len(GROUPS))
    mean_abs: dict[str, list[float]] = {}
    for base in BASES:
        for label, lam in METHODS:
            if lam is None:
                pop = load_base_population(FILE, base)
            else:
                fit = cohort_split({y: series[y] for y in range(2005, base + 1)}, g, ref, lam=lam)
                pop = split_sex(fit[base], ref)
            for _ in range(base, 2016):
                pop, _c = project_one_year(pop, rates)
            got = group_sums(pop)
            errs = [100.0 * (got[k] - truth[k]) / truth[k] for k in GROUPS]
            mean_abs.setdefault(label, []).append(sum(abs(e) for e in errs[:5]) / 5)
            print(f"| {base} ({2016 - base} y) | {label} | "
                  + " | ".join(f"{e:+.1f} %" for e in errs) + " |")
    print()
    for label, v in mean_abs.items():
        print(f"- {label}: mean |error| over the five groups and four bases {sum(v) / len(v):.2f} %")


if __name__ == "__main__":
    main()
