"""The Markdown report of a comparison: figures and a short generated text."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from sim.experiments.compare import headline_years, median_at, paired
from sim.scenario import Scenario
from sim.tables import YEARLY_NOTE, number

FMT = {"cost_per_inhabitant": "{:,.0f} NOK", "quality": "{:.3f}", "need_hours": "{:,.0f}",
       "coverage": "{:.1%}", "satisfaction": "{:.3f}"}
DIFF_FMT = {"cost_per_inhabitant": "{:+,.0f} NOK", "quality": "{:+.3f}"}
TABLE_METRICS = (("cost_per_inhabitant", "cost per inhabitant (NOK/yr)"),
                 ("need_hours", "demand (need-hours/month)"),
                 ("coverage", "coverage"), ("quality", "quality (0-1)"),
                 ("satisfaction", "satisfaction (0-1)"), ("fte_need", "FTE need"),
                 ("hours_volunteer", "volunteer hours/month"))


def fmt(metric: str, v: float) -> str:
    if v != v:
        return "–"
    return FMT[metric].format(v) if metric in FMT else number(v)


def _band_text(metric: str, med: float, lo: float, hi: float) -> str:
    return f"{fmt(metric, med)} (10–90 %: {fmt(metric, lo)} – {fmt(metric, hi)})"


def paired_band(tidy: pd.DataFrame, a: str, b: str, metric: str, year: int
                ) -> tuple[float, float, float, bool]:
    d = paired(tidy, a, b)
    v = d[(d.metric == metric) & (d.year == year)]["value"]
    if v.empty:
        return (float("nan"),) * 3 + (False,)  # type: ignore[return-value]
    lo, hi = float(v.quantile(0.1)), float(v.quantile(0.9))
    return float(v.median()), lo, hi, bool(lo > 0 or hi < 0)


def best_text(tidy, summ, names, metric: str, year: int, lowest: bool, what: str) -> str:
    meds = {n: median_at(summ, n, metric, year)[0] for n in names}
    meds = {n: m for n, m in meds.items() if m == m}
    if not meds:
        return f"- {year}: no {metric} data."
    best = (min if lowest else max)(meds, key=meds.get)
    lines = [f"- **{year}: {best}** is {what}: {_band_text(metric, *median_at(summ, best, metric, year))}."]
    for other in names:
        if other == best:
            continue
        med, lo, hi, clear = paired_band(tidy, other, best, metric, year)
        verdict = ("clear (the band of the paired difference excludes 0)" if clear
                   else "not clear (the band of the paired difference includes 0)")
        f = DIFF_FMT[metric].format if metric in DIFF_FMT else (
            lambda v: number(v, sign=True))
        lines.append(f"  - {best} − {other} (paired): {f(med)} (10–90 %: "
                     f"{f(lo)} to {f(hi)}) — {verdict}.")
    return "\n".join(lines)


def side_by_side(summ: pd.DataFrame, names: list[str], years: list[int]) -> str:
    head = "| metric | year | " + " | ".join(names) + " |"
    rows = [head, "|" + "---|" * (len(names) + 2)]
    for metric, label in TABLE_METRICS:
        for y in years:
            cells = []
            for n in names:
                med, lo, hi = median_at(summ, n, metric, y)
                cells.append(f"{fmt(metric, med)} [{fmt(metric, lo)}–{fmt(metric, hi)}]"
                             if med == med else "–")
            rows.append(f"| {label} | {y} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def compare_report(tidy: pd.DataFrame, summ: pd.DataFrame, names: list[str],
                   scenarios: list[Scenario], figures: dict[str, Path], out: Path,
                   stats: dict[str, Any], replications: int) -> str:
    years = headline_years(tidy)
    first_year = int(tidy["year"].min()) if len(tidy) else None
    table_years = sorted({*([first_year] if first_year is not None else []), *years})
    rel = {k: os.path.relpath(v, out) for k, v in figures.items()}
    parts = ["# Paradigm comparison", "",
             f"{len(names)} scenarios × {replications} replications. Replication *r* uses the "
             "same seed in every scenario (common random numbers), so differences are paired "
             "per replication. Bands are the 10–90 % range over replications; a difference is "
             "called *clear* when the 10–90 % band of the paired difference excludes 0.", "",
             "| scenario | paradigm | file |", "|---|---|---|"]
    for n, s in zip(names, scenarios, strict=True):
        parts.append(f"| {n} | {s.paradigm.describe()} | {s.path or '(in memory)'} |")
    if stats.get("failed"):
        parts += ["", f"**Warning:** {stats['failed']} of {stats['runs']} runs failed; see "
                  "manifest.json. Results below use the finished runs only."]
    captions = {"tradeoff": "Cost vs quality trade-off",
                "timeseries": "Time series (median and 10–90 % band)",
                "cocreation_matrix": "Co-creation matrix (production × design responsibility)",
                "demography_index": "Demography: age groups indexed to the start year"}
    # the report opens with the pictures an analyst reads first; the rest follow the text
    first = ("tradeoff", "timeseries")
    parts += ["", "## At a glance", ""]
    for key in first:
        cap = captions[key]
        parts += ([f"![{cap}]({rel[key]})", ""] if key in rel
                  else [f"({cap}: figure not available)", ""])
    parts += ["", "## Main differences", "", "### Cost per inhabitant (lowest is cheapest)", ""]
    parts += [best_text(tidy, summ, names, "cost_per_inhabitant", y, True, "cheapest")
              for y in years]
    parts += ["", "### Service quality (highest is best)", ""]
    parts += [best_text(tidy, summ, names, "quality", y, False, "best quality") for y in years]
    parts += ["", "## Cost, demand and quality side by side", "",
              f"Median [10–90 % band] of {YEARLY_NOTE}.", "", side_by_side(summ, names,
                                                                         table_years), ""]
    parts += ["## More figures", ""]
    for key, cap in captions.items():
        if key in first:
            continue
        if key in rel:
            parts += [f"### {cap}", "", f"![{cap}]({rel[key]})", ""]
        else:
            parts += [f"### {cap}", "", "(figure not available)", ""]
    parts += ["## Files", "",
              "- `results.parquet`: every run, tidy (scenario, paradigm, replication, seed, "
              f"run_id, year, metric, unit, value; {YEARLY_NOTE}); units and descriptions in "
              "the Parquet schema metadata",
              "- `summary.csv`: median, p10, p90 per scenario, metric and year",
              f"- `differences.csv`: paired differences vs {names[0]} per metric and year, "
              "with `clear`",
              "- `manifest.json`: scenario texts, seeds, package versions, git commit", ""]
    return "\n".join(parts)
