"""Excel workbooks (``--xlsx``) an analyst opens directly: real numeric cells (no text
numbers, so a Norwegian Excel with decimal commas reads them right), one row of column names,
and the context beside the numbers.

Sheets:

- ``results``: the run table, wide (one row per run and year, or per tick for ``run``; one
  column per metric);
- ``columns``: every column of ``results`` with its unit and meaning;
- ``parameters``: the scenario parameters (one value column per scenario), with unit and
  description; for a sweep also ``design``: the varied parameters of every design point;
- ``provenance``: what produced the file (scenario files and hashes, seeds, versions, git
  commit, command).

Written with openpyxl in write-only mode; read back with ``pandas.read_excel``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_CELL = 32_767
IDENTITY_ORDER = ("scenario", "paradigm", "point", "draw", "replication", "seed", "run_id", "tick",
                  "year", "month")


def cell(v: Any) -> Any:
    """A value Excel stores natively: numbers as numbers, missing as empty, the rest text."""
    if v is None:
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return None if math.isnan(f) or math.isinf(f) else f
    if isinstance(v, (dict, list, tuple)):
        v = json.dumps(v, default=str, ensure_ascii=False)
    text = str(v)
    if len(text) > EXCEL_MAX_CELL:
        text = text[:EXCEL_MAX_CELL - 40] + " … (cut: see manifest.json)"
    return text


def wide(tidy: pd.DataFrame) -> pd.DataFrame:
    """A long table (…, year, metric, value) as one row per run and year, one column per
    metric (in the order of docs/metrics.md)."""
    from sim.metrics import INDEX

    metrics = sorted(dict.fromkeys(tidy["metric"]), key=lambda m: (INDEX.get(m, 10**6), m))
    index = [c for c in tidy.columns if c not in ("metric", "value", "unit")]
    # pivot on the run and year only: with dropna=False pivot_table builds the product of its
    # index levels, which with one column per drawn parameter ([uncertainty]) is astronomical
    keys = ["run_id", "year"] if {"run_id", "year"} <= set(index) else index
    w = tidy.pivot_table(index=keys, columns="metric", values="value", aggfunc="first",
                         dropna=False, observed=True, sort=False)
    w = w.reindex(columns=[m for m in metrics if m in w.columns]).reset_index()
    w.columns.name = None
    if keys is not index:  # the identity columns back, in the order the runs appear
        w = tidy[index].drop_duplicates(keys).merge(w, on=keys, how="left")
    lead = [c for c in IDENTITY_ORDER if c in w.columns]
    rest = [c for c in w.columns if c not in lead]
    return w[lead + rest]


def _sheet(wb, title: str, header: list[str], rows) -> None:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    ws = wb.create_sheet(title)
    bold = Font(bold=True)
    head = []
    for h in header:
        c = WriteOnlyCell(ws, value=str(h))
        c.font = bold
        head.append(c)
    ws.append(head)
    for r in rows:
        ws.append([cell(v) for v in r])


def _frame_rows(df: pd.DataFrame):
    yield from df.itertuples(index=False, name=None)


def parameter_rows(scenarios: list, names: list[str] | None = None) -> tuple[list[str], list]:
    """(header, rows) of the parameters sheet: name, unit, one value column per scenario,
    description. Dated series are shown as ``{year: value}`` text."""
    from sim.params import registry
    from sim.scenario import DatedSeries

    reg = registry()
    names = names or [s.name for s in scenarios]
    header = ["parameter", "unit", *names, "description"]
    rows: list[list[Any]] = [["paradigm", "", *[s.paradigm.describe() for s in scenarios],
                              "paradigm schedule"],
                             ["seed", "", *[s.seed for s in scenarios],
                              "the scenario's default seed (the runs' seeds are in results)"]]
    for key in sorted(reg):
        vals = []
        for s in scenarios:
            v = s.params.get(key)
            vals.append(json.dumps(v.to_toml()) if isinstance(v, DatedSeries) else v)
        rows.append([key, reg[key].unit, *vals, reg[key].description])
    return header, rows


def write_workbook(path: Path, results: pd.DataFrame, provenance: dict[str, Any],
                   scenarios: list, scenario_names: list[str] | None = None,
                   design: pd.DataFrame | None = None) -> Path:
    """Write the workbook (atomically: a temporary file renamed into place)."""
    from openpyxl import Workbook

    from sim.errors import InputError
    from sim.experiments.store import atomic_write_bytes
    from sim.outputs import column_info

    table = wide(results) if "metric" in results.columns else results
    if len(table) + 1 > EXCEL_MAX_ROWS:
        raise InputError(f"{path}: {len(table):,} rows do not fit an Excel sheet (at most "
                         f"{EXCEL_MAX_ROWS - 1:,}). Expected a smaller result; keep fewer years "
                         "or metrics (experiment keys years, metrics) or read results.parquet "
                         "with pandas instead.")

    def write(tmp: Path) -> None:
        wb = Workbook(write_only=True)
        _sheet(wb, "results", list(table.columns), _frame_rows(table))
        _sheet(wb, "columns", ["column", "unit", "meaning"],
               ([c, *column_info(c)] for c in table.columns))
        header, rows = parameter_rows(scenarios, scenario_names)
        _sheet(wb, "parameters", header, rows)
        if design is not None:
            _sheet(wb, "design", list(design.columns), _frame_rows(design))
        _sheet(wb, "provenance", ["key", "value"],
               ([k, v] for k, v in provenance.items()))
        wb.save(tmp)

    atomic_write_bytes(Path(path), write)
    return Path(path)
