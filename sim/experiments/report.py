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
        med, lo, hi, beyond = paired_band(tidy, other, best, metric, year)
        verdict = ("beyond seed noise (the band of the paired difference excludes 0)" if beyond
                   else "within seed noise (the band of the paired difference includes 0)")
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
                   stats: dict[str, Any], replications: int, robust: dict | None = None,
                   uncertainty: dict | None = None) -> str:
    years = headline_years(tidy)
    first_year = int(tidy["year"].min()) if len(tidy) else None
    table_years = sorted({*([first_year] if first_year is not None else []), *years})
    rel = {k: os.path.relpath(v, out) for k, v in figures.items()}
    if robust is not None:
        from sim.experiments.uncertainty import describe

        parts = [*robust["verdict"], "", "# Paradigm comparison under parameter uncertainty", "",
                 f"{len(names)} scenarios × {describe(uncertainty or {})} × {replications} "
                 "replication(s). Every draw (one plausible world) runs under every scenario "
                 "with the same seeds (common random numbers). Two kinds of uncertainty are kept "
                 "apart: **seed noise** (the spread between replications of one draw) and "
                 "**parameter uncertainty** (the spread between draws). A difference is called "
                 "*clear* only when it holds across draws (its 10–90 % band over draws excludes "
                 "0); *beyond seed noise* says only that replications alone would not explain "
                 "it. How to read this: docs/experiments.md, \"Reading the uncertainty "
                 "report\".", "", "| scenario | paradigm | file |", "|---|---|---|"]
    else:
        parts = ["# Paradigm comparison", "",
                 f"{len(names)} scenarios × {replications} replications. Replication *r* uses "
                 "the same seed in every scenario (common random numbers), so differences are "
                 "paired per replication. Bands are the 10–90 % range over replications; a "
                 "difference is called *beyond seed noise* when the 10–90 % band of the paired "
                 "difference excludes 0. That band is seed noise only: parameters are fixed at "
                 "the scenarios' values, so it says nothing about parameter uncertainty (run "
                 "with --uncertainty N for that).", "",
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
    if robust is not None:  # win_shares and decisive are shown in this section
        parts += robustness_section(robust, names, rel)
    parts += ["", "## At a glance", ""]
    for key in first:
        cap = captions[key]
        parts += ([f"![{cap}]({rel[key]})", ""] if key in rel
                  else [f"({cap}: figure not available)", ""])
    if robust is None:
        parts += ["", "## Main differences", "",
                  "### Cost per inhabitant (lowest is cheapest)", ""]
        parts += [best_text(tidy, summ, names, "cost_per_inhabitant", y, True, "cheapest")
                  for y in years]
        parts += ["", "### Service quality (highest is best)", ""]
        parts += [best_text(tidy, summ, names, "quality", y, False, "best quality")
                  for y in years]
    over = "draws (each draw's mean over replications)" if robust is not None else \
        "replications"
    parts += ["", "## Cost, demand and quality side by side", "",
              f"Median [10–90 % band over {over}] of {YEARLY_NOTE}.", "",
              side_by_side(summ, names, table_years), ""]
    parts += ["## More figures", ""]
    for key, cap in captions.items():
        if key in first:
            continue
        if key in rel:
            parts += [f"### {cap}", "", f"![{cap}]({rel[key]})", ""]
        else:
            parts += [f"### {cap}", "", "(figure not available)", ""]
    parts += ["## Files", ""]
    if robust is not None:
        parts += ["- `results.parquet`: every run, tidy (scenario, paradigm, draw, replication, "
                  "seed, run_id, one column per drawn parameter, year, metric, value; "
                  f"{YEARLY_NOTE}); units and meanings in the Parquet schema metadata",
                  "- `draws.csv` / `draws.parquet`: the parameter values of each draw",
                  "- `robustness.csv`: per metric, year and scenario: share of draws it is "
                  "best in with its 90 % interval, regret (median, p90), value across draws",
                  "- `draw_differences.csv`: paired differences across draws for every pair, "
                  "seed noise, share of draws beyond seed noise, `clear`",
                  "- `importance.csv`: which parameters decide the ranking (feature importance "
                  "with a random reference)",
                  "- `prim.json`: PRIM boxes (where the runner-up beats the leader)",
                  "- `verdict.txt`: the verdict lines",
                  "- `summary.csv`: median, p10, p90 over draws per scenario, metric and year",
                  f"- `differences.csv`: per draw, paired differences vs {names[0]} over "
                  "replications, with `beyond_seed_noise`"]
    else:
        parts += ["- `results.parquet`: every run, tidy (scenario, paradigm, replication, seed, "
                  f"run_id, year, metric, value; {YEARLY_NOTE}); units and meanings in the "
                  "Parquet schema metadata",
                  "- `summary.csv`: median, p10, p90 per scenario, metric and year",
                  f"- `differences.csv`: paired differences vs {names[0]} per metric and year, "
                  "with `beyond_seed_noise`"]
    parts += ["- `manifest.json`: scenario texts, seeds, package versions, git commit", ""]
    return "\n".join(parts)


def _pct(v: float) -> str:
    return f"{100 * v:.0f} %" if v == v else "–"


def robustness_section(robust: dict, names: list[str], rel: dict[str, str]) -> list[str]:
    """Markdown: win shares, regret, paired differences across draws, what decides."""
    wins, pairs, imp = robust["wins"], robust["pairs"], robust["importance"]
    parts = ["", "## Robustness across parameter uncertainty", "",
             "*Best in*: share of draws (plausible worlds) in which the scenario is best, with "
             "its 90 % Wilson interval. *Regret*: how far the scenario is from the best "
             "scenario of the same draw (0 when it is best), median and 90th percentile over "
             "draws. *Value*: median [10–90 %] over draws.", ""]
    if "win_shares" in rel:
        parts += [f"![Share of draws in which each scenario is best]({rel['win_shares']})", ""]
    labels = {m: lab for m, lab in TABLE_METRICS}
    for (metric, year), t in wins.groupby(["metric", "year"], sort=False):
        better = t["better"].iloc[0]
        parts += [f"### {labels.get(metric, metric)}, {year} ({better} is better)", "",
                  "| scenario | best in | 90 % interval | regret median | regret p90 | "
                  "value across draws |", "|---|---|---|---|---|---|"]
        for r in t.itertuples():
            parts.append(f"| {r.scenario} | {_pct(r.win_share)} ({r.wins:g} of {r.draws}) | "
                         f"{_pct(r.win_low)}–{_pct(r.win_high)} | "
                         f"{fmt(metric, r.regret_median)} | {fmt(metric, r.regret_p90)} | "
                         f"{fmt(metric, r.median)} [{fmt(metric, r.p10)}–{fmt(metric, r.p90)}] |")
        parts.append("")
        p = pairs[(pairs.metric == metric) & (pairs.year == year)]
        if not p.empty:
            f = DIFF_FMT.get(metric, "{:+,.4g}")
            parts += ["Paired differences (same draw, same seeds), across draws:", "",
                      "| difference | median | 10–90 % over draws | above 0 in | seed noise "
                      "(s.e. of a draw) | beyond seed noise in | clear across draws |",
                      "|---|---|---|---|---|---|---|"]
            for r in p.itertuples():
                se = f.format(r.seed_se).lstrip("+") if r.seed_se == r.seed_se else \
                    "unknown (1 replication)"
                parts.append(f"| {r.scenario} − {r.versus} | {f.format(r.median)} | "
                             f"{f.format(r.p10)} to {f.format(r.p90)} | "
                             f"{_pct(r.share_above_0)} of draws | {se} | "
                             f"{_pct(r.share_beyond_seed_noise)} of draws | "
                             f"{'yes' if r.clear else 'no'} |")
            parts.append("")
        i = imp[(imp.metric == metric) & (imp.year == year)]
        if not i.empty:
            lead, runner = i["leader"].iloc[0], i["runner_up"].iloc[0]
            ref = float(i.loc[i.parameter == "(random reference)", "importance"].iloc[0])
            top = i[i.parameter != "(random reference)"].head(5)
            parts.append(f"What decides {runner} vs {lead} (feature importance for their "
                         f"paired difference; random reference {ref:.2f}): " + ", ".join(
                             f"{r.parameter} {r.importance:.2f}" + ("" if r.above_reference
                                                                    else " (not above reference)")
                             for r in top.itertuples()) + ".")
        box = next((b for b in robust["prim"] if b["metric"] == metric and b["year"] == year),
                   None)
        if box is not None:
            if box.get("box"):
                parts.append(f"PRIM: {box['question']} {box['cases']} of the draws; mostly "
                             f"where {box['text']} (coverage {box['coverage']:.2f}, density "
                             f"{box['density']:.2f}).")
            else:
                parts.append(f"PRIM: {box['question']} {box['cases']} draws — too few or too "
                             "many for a box.")
        parts.append("")
    if "decisive" in rel:
        parts += ["### Most decisive parameter", "",
                  f"![Paired difference per draw against the most decisive parameter]"
                  f"({rel['decisive']})", ""]
    return parts
