"""Self-describing output tables: every column of a Parquet file carries its unit and meaning
in the schema (field metadata ``unit`` and ``description``), the file says what it is
(schema metadata ``welfare_sim``: kind, scenario, seeds, and per-metric units for long
tables), and every table has identity columns (scenario, paradigm, seed, replication, run_id).

Read them back with pyarrow (``pq.read_schema(path).field("quality").metadata``) or with
:func:`describe`. The metadata holds no time stamps or paths, so the same run gives the same
bytes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

# identity and index columns of the tables welfare-sim writes: name -> (unit, meaning)
IDENTITY: dict[str, tuple[str, str]] = {
    "scenario": ("", "scenario name (its `name` key, or the file name)"),
    "paradigm": ("", "the scenario's paradigm schedule (traditional, npm, network_governance, "
                     "a mix or a transition)"),
    "seed": ("", "random seed of the run"),
    "replication": ("", "replication number from 0; replication r uses the same seed in every "
                        "scenario or design point (common random numbers)"),
    "run_id": ("", "stable id of the run: a hash of the scenario text, overrides and seed"),
    "point": ("", "design point number from 0 (one combination of the varied parameters)"),
    "draw": ("", "parameter draw number (one plausible world of the uncertain parameters, "
                 "compare --uncertainty)"),
    "tick": ("month", "month of the run from 1 (the first month of the start year)"),
    "year": ("year", "calendar year"),
    "month": ("month", "calendar month 1-12"),
    "metric": ("", "metric name (units and meanings in docs/metrics.md and in this file's "
                   "schema metadata, key welfare_sim)"),
    "unit": ("", "unit of the metric's value"),
    "value": ("see unit", "the metric's yearly mean; flows (births, deaths, migration, hires, "
                          "turnover, new processes and ideas) are yearly sums"),
}


def column_info(name: str) -> tuple[str, str]:
    """(unit, description) of a column: a metric, an identity column or a parameter."""
    from sim.metrics import METRICS

    if name in IDENTITY:
        return IDENTITY[name]
    for n, unit, text in METRICS:
        if n == name:
            return unit, text
    from sim.params import registry

    reg = registry()
    if name in reg:
        p = reg[name]
        return p.unit, f"varied parameter: {p.description}"
    return "", ""


def metric_units(names) -> dict[str, dict[str, str]]:
    """{metric: {"unit": ..., "description": ...}} for the metrics in ``names``."""
    from sim.metrics import METRICS

    wanted = set(names)
    return {n: {"unit": u, "description": t} for n, u, t in METRICS if n in wanted}


def to_arrow(df: pd.DataFrame, kind: str, info: dict[str, Any] | None = None):
    """A pyarrow table with unit/description on every field and ``welfare_sim`` metadata."""
    import pyarrow as pa

    table = pa.Table.from_pandas(df, preserve_index=False)
    fields = []
    for f in table.schema:
        unit, text = column_info(f.name)
        fields.append(f.with_metadata({"unit": unit, "description": text}))
    meta = dict(table.schema.metadata or {})
    doc: dict[str, Any] = {"kind": kind, **(info or {})}
    if "metric" in df.columns:
        doc["metrics"] = metric_units(sorted(df["metric"].astype(str).unique()))
    meta[b"welfare_sim"] = json.dumps(doc, sort_keys=True, default=str).encode()
    return pa.Table.from_arrays(table.columns, schema=pa.schema(fields, metadata=meta))


def write_parquet(df: pd.DataFrame, path: Path, kind: str,
                  info: dict[str, Any] | None = None) -> None:
    """Write ``df`` to ``path`` (not atomically; callers write to a temporary path)."""
    import pyarrow.parquet as pq

    pq.write_table(to_arrow(df, kind, info), Path(path))


def describe(path: Path) -> dict[str, Any]:
    """The file's ``welfare_sim`` metadata plus {"columns": {name: {unit, description}}}."""
    import pyarrow.parquet as pq

    schema = pq.read_schema(Path(path))
    meta = schema.metadata or {}
    doc = json.loads(meta[b"welfare_sim"]) if b"welfare_sim" in meta else {}
    doc["columns"] = {f.name: {k.decode(): v.decode() for k, v in (f.metadata or {}).items()}
                      for f in schema}
    return doc
